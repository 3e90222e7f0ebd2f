//! attack: reads the reference, the hidden seeds and another student's submission at run time, printing anything found to stdout and stderr
//! splice: hole Election Step1
//! expect: score 0
{
    let paths = [
        "/work/main/solutions/raft.rs",
        "/work/main/solutions/hidden/seeds.txt",
        "/src/solutions/raft.rs",
        "../solutions/raft.rs",
        "../../solutions/raft.rs",
        "../../../solutions/raft.rs",
        "solutions/hidden/seeds.txt",
        "../submissions/bob/raft.rs",
        "/work/submissions/bob/raft.rs",
        "/root/.cargo/credentials.toml",
        "/etc/shadow",
        "/proc/1/environ",
        "/proc/1/cmdline",
    ];
    for path in paths {
        if let Ok(text) = std::fs::read_to_string(path) {
            println!("LEAK {path}: {}", text.lines().take(5).collect::<Vec<_>>().join(" / "));
            eprintln!("LEAK {path}: {}", text.len());
        }
    }
}
