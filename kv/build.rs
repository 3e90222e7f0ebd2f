//! Tells the tests whether the student's files are finished: the cluster
//! tests need a Raft that works, so while a `todo!("RaftLab …")` is left in
//! `raft/src/raft.rs` or `raft/src/raft_log.rs` (the deep track's holes)
//! they are ignored (listed as such, never passed), and once none is left
//! `cargo test -p kv` runs them.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(raft_finished)");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../raft/src");
    let mut finished = true;
    for file in ["raft.rs", "raft_log.rs"] {
        let path = src.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        finished &= std::fs::read_to_string(&path)
            .map(|text| !text.contains("todo!(\"RaftLab"))
            .unwrap_or(false);
    }
    if finished {
        println!("cargo::rustc-cfg=raft_finished");
    }
}
