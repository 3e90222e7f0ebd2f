//! attack: writes and deletes files under /work, /tmp, the output folder and the build's own sources and target
//! splice: hole Election Step1
//! expect: score 0
{
    for path in [
        "/work/pwned", "/work/main/solutions/raft.rs", "/tmp/pwned", "/out/results.json",
        "/src/raft/src/raft.rs", "/target/release/raftlab", "/sandbox/pwned", "/usr/pwned",
        "results.json", "../results.json", "../../grades.csv",
    ] {
        let _ = std::fs::write(path, "pwned\n");
    }
    for path in ["/work/main/solutions/raft.rs", "/work/main/Cargo.toml", "/tmp", "/src/Cargo.lock"] {
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_dir_all(path);
    }
}
