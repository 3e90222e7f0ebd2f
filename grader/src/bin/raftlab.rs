//! `raftlab`: the student's grader. `./raftlab_test.sh` builds it with
//! the host and runs `raftlab test`.

use std::ffi::OsString;
use std::process::ExitCode;

use grader::cli::args::USAGE;
use grader::cli::test::test_main;

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        Some("test") => {
            args.remove(0);
            test_main(args)
        }
        Some("-h" | "--help") | None => {
            println!("raftlab test [OPTIONS]: grade raft/src/raft.rs, step by step\n\n{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!(
                "raftlab: unknown command {other:?}; the command is `raftlab test` (see --help)"
            );
            ExitCode::from(2)
        }
    }
}
