//! `instructor`: RaftLab's instructor tool. It never links any `raft.rs`:
//! each variant (the reference, a mutant, a submission) is built into its
//! own host in a scratch copy of the workspace, and graded by the judge
//! this program carries.

use std::ffi::OsString;
use std::process::ExitCode;

use instructor::{cli, variant};

const USAGE: &str = "\
instructor: RaftLab's instructor tool

Usage: cargo run -q -p instructor -- <COMMAND> [OPTIONS]

Commands:
  test        Grade a variant of raft/src/raft.rs (the reference, a mutant, ...)
  exec        Run a command in a variant of the workspace
  skeleton    Generate raft/src/raft.rs from solutions/raft.rs, or --check it
  validate    Check the grader itself: the validation matrix and CI's checks
  package     Write the student package (no solutions/, checked)
  grade       Grade a class's submissions, each in a sandbox
  gradescope  Write a Gradescope autograder bundle

Variants (for test and exec): --solution, --file PATH, --minus STEP,
--mutant NAME (a mutant or an alternative), --prefix K. Each is built in a
scratch copy under target/raftlab/variants/; your tree is never modified.

`instructor <COMMAND> --help` tells more. Exit status: 0 success, 1 failure,
2 usage error.
";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let root = match variant::find_root() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("instructor: {e}");
            return ExitCode::from(2);
        }
    };
    let rest = rest.to_vec();
    match command.to_str() {
        Some("test") => cli::test(&root, rest),
        Some("exec") => cli::exec(&root, rest),
        Some("skeleton") => cli::skeleton(&root, rest),
        Some("validate") => instructor::validate::validate_main(&root, rest),
        Some("package") => instructor::package::package_main(&root, rest),
        Some("grade") => instructor::grade::grade_main(&root, rest),
        Some("gradescope") => instructor::gradescope::gradescope_main(&root, rest),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("instructor: unknown command {command:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
