//! `raftlab`: grades raft/src/raft.rs (`test`, what `raftlab_test.sh` runs),
//! regenerates and checks the skeleton, and runs commands in variants of the
//! workspace (see `grader::variant`).
//!
//! Exit status: 0 on success, 1 when the work failed (a failing step, a
//! stale skeleton, an unreadable file), 2 on a usage error; `exec` exits
//! with its command's status. The hidden `__case` command is the child side
//! of `test` (see `grader::runner`).

use std::ffi::OsString;
use std::fs;
use std::io;
use std::process::{Command, ExitCode, ExitStatus};

use grader::case;
use grader::runner;
use grader::skeleton::{self, Step};
use grader::variant::{self, RAFT_RS, REFERENCE_RS, Variant};

const USAGE: &str = "\
raftlab: RaftLab's instructor tool

Usage: raftlab <COMMAND> [OPTIONS]

Commands:
  test       Grade raft/src/raft.rs step by step (or a variant of it)
  skeleton   Generate raft/src/raft.rs from solutions/raft.rs, or --check it
  exec       Run a command in a variant of the workspace
  validate   Check the grader itself: the validation matrix and CI's checks
  package    Write the student package (no solutions/, checked)
  grade      Grade many submissions: results.json each, and grades.csv
  gradescope Write a Gradescope autograder bundle
  help       Print this help, or a command's: raftlab help test

A variant is a scratch copy of the workspace under target/raftlab/variants/
with raft/src/raft.rs replaced; all variants share the cargo target directory
target/raftlab/target. Your own tree is never modified.

Exit status: 0 success, 1 failure, 2 usage error.
";

const SKELETON_USAGE: &str = "\
raftlab skeleton: generate the students' raft/src/raft.rs from solutions/raft.rs

Usage: raftlab skeleton [--check]

Each answer between `//>>> RaftLab <step>` and `//<<< RaftLab <step>` in
solutions/raft.rs becomes one `todo!(\"RaftLab <step>\");` line; every other
line is copied as is. Never edit raft/src/raft.rs by hand.

Options:
  --check     Write nothing; exit 1 naming the first differing line when the
              committed raft/src/raft.rs is stale, 0 when it is up to date
  -h, --help  Print this help
";

const EXEC_USAGE: &str = "\
raftlab exec: run a command in a variant of the workspace

Usage: raftlab exec [VARIANT] [--] CMD [ARGS...]

Prepares a scratch copy of the workspace holding the variant's
raft/src/raft.rs, runs CMD in it with CARGO_TARGET_DIR=target/raftlab/target,
and exits with CMD's status. Your own tree is never modified.

Variant (at most one; default: the committed raft/src/raft.rs as is):
  --solution        The reference: solutions/raft.rs without its markers
  --file PATH       Any raft.rs, e.g. a student's submission
  --minus STEP      The reference with STEP's answer replaced by its todo!()
                    (STEP: E1..E6, R1..R4, or a long name like \"Election Step1\")
  --mutant MUTANT   The reference with a mutant in its step; MUTANT is a path
                    or the name of a file in solutions/mutants/

Options:
  -h, --help        Print this help

Example:
  raftlab exec --solution -- cargo test -p grader
";

/// Why a command did not succeed.
enum Failure {
    /// The command line is wrong: exit 2 and point to the help.
    Usage { message: String, help: &'static str },
    /// The work failed: exit 1.
    Failed(String),
}

fn usage(message: impl Into<String>, help: &'static str) -> Failure {
    Failure::Usage {
        message: message.into(),
        help,
    }
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(Failure::Usage { message, help }) => {
            let command = if help.is_empty() {
                String::new()
            } else {
                format!("{help} ")
            };
            eprintln!("raftlab: {message}\n\nRun `raftlab {command}--help` for usage.");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("raftlab: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[OsString]) -> Result<ExitCode, Failure> {
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    let command = command.to_str().unwrap_or_default();
    match command {
        "-h" | "--help" => help(None),
        "help" => help(rest.first().and_then(|arg| arg.to_str())),
        "skeleton" => skeleton_command(rest),
        "exec" => exec_command(rest),
        "test" => test_command(rest),
        runner::CHILD_COMMAND => Ok(runner::child_main(&case::all_cases(), rest)),
        "validate" => Ok(grader::validate::validate_main(rest)),
        "package" => Ok(grader::package::package_main(rest)),
        "grade" => Ok(grader::grade::grade_main(rest)),
        "gradescope" => Ok(grader::gradescope::gradescope_main(rest)),
        _ => Err(usage(
            format!(
                "unknown command {:?} (commands: test, skeleton, exec, validate, package, grade, gradescope, help)",
                args[0].to_string_lossy()
            ),
            "",
        )),
    }
}

fn help(command: Option<&str>) -> Result<ExitCode, Failure> {
    let text = match command {
        None => USAGE,
        Some("test") => runner::TEST_USAGE,
        Some("skeleton") => SKELETON_USAGE,
        Some("exec") => EXEC_USAGE,
        Some("validate") => grader::validate::USAGE,
        Some("package") => grader::package::USAGE,
        Some("grade") => grader::grade::USAGE,
        Some("gradescope") => grader::gradescope::USAGE,
        Some(other) => {
            return Err(usage(format!("no help for unknown command {other:?}"), ""));
        }
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// `raftlab skeleton [--check]`.
fn skeleton_command(args: &[OsString]) -> Result<ExitCode, Failure> {
    let mut check = false;
    for arg in args {
        match arg.to_str() {
            Some("--check") => check = true,
            Some("-h" | "--help") => {
                print!("{SKELETON_USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            _ => {
                return Err(usage(
                    format!("unexpected argument {:?}", arg.to_string_lossy()),
                    "skeleton",
                ));
            }
        }
    }
    let root = variant::find_root().map_err(Failure::Failed)?;
    let reference = variant::read_reference(&root).map_err(Failure::Failed)?;
    let generated = skeleton::make_skeleton(&reference)
        .map_err(|e| Failure::Failed(format!("{REFERENCE_RS}: {e}")))?;
    let path = root.join(RAFT_RS);
    let committed = match fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Failure::Failed(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };

    if check {
        let Some(committed) = committed else {
            return Err(Failure::Failed(format!(
                "{RAFT_RS} does not exist; generate it with `raftlab skeleton`"
            )));
        };
        return match skeleton::first_difference(&generated, &committed) {
            None => {
                println!("skeleton is up to date");
                Ok(ExitCode::SUCCESS)
            }
            Some((line, expected, found)) => {
                let show = |text: Option<&str>| {
                    text.map_or("<end of file>".to_string(), |t| format!("{t:?}"))
                };
                let mut message = format!(
                    "{RAFT_RS} is stale: line {line} is not what {REFERENCE_RS} generates\n  \
                     expected: {}\n  found:    {}",
                    show(expected),
                    show(found)
                );
                if expected.is_some() && expected == found {
                    message.push_str("\n  (the lines differ only in their line ending)");
                }
                message.push_str("\nRegenerate it with `raftlab skeleton`.");
                Err(Failure::Failed(message))
            }
        };
    }

    if committed.as_deref() == Some(generated.as_str()) {
        println!("{RAFT_RS} is already up to date with {REFERENCE_RS}");
        return Ok(ExitCode::SUCCESS);
    }
    fs::write(&path, &generated)
        .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", path.display())))?;
    println!(
        "wrote {RAFT_RS} from {REFERENCE_RS}: {} holes, {} lines",
        Step::ALL.len(),
        generated.lines().count()
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads a variant flag (`--solution`, `--file PATH`, `--minus STEP`,
/// `--mutant PATH`, each value also as `--flag=VALUE`) at the front of
/// `args`. Returns the variant and how many arguments it took, or `None` when
/// the first argument is not a variant flag.
fn variant_flag(
    args: &[OsString],
    help: &'static str,
) -> Option<Result<(Variant, usize), Failure>> {
    let flag = args.first()?.to_str()?;
    let (name, inline_value) = match flag.split_once('=') {
        Some((name, value)) => (name, Some(OsString::from(value))),
        None => (flag, None),
    };
    if matches!(name, "--solution" | "--reference") {
        return Some(match inline_value {
            None => Ok((Variant::Reference, 1)),
            Some(_) => Err(usage(format!("{name} takes no value"), help)),
        });
    }
    if !matches!(name, "--file" | "--minus" | "--mutant") {
        return None;
    }
    let (value, taken) = match inline_value {
        Some(value) => (value, 1),
        None => match args.get(1) {
            Some(value) => (value.clone(), 2),
            None => return Some(Err(usage(format!("{name} needs a value"), help))),
        },
    };
    let variant = match name {
        "--file" => Ok(Variant::File(value.into())),
        "--mutant" => Ok(Variant::Mutant(value.into())),
        _ => Step::parse(&value.to_string_lossy())
            .map(Variant::MinusStep)
            .map_err(|e| usage(format!("--minus: {e}"), help)),
    };
    Some(variant.map(|variant| (variant, taken)))
}

/// `raftlab test [VARIANT] [OPTIONS]`: grades the committed raft.rs in this
/// process; for a variant, builds that variant's `raftlab` and hands it the
/// other options.
fn test_command(args: &[OsString]) -> Result<ExitCode, Failure> {
    let mut chosen: Option<(Variant, Vec<OsString>)> = None;
    let mut rest: Vec<OsString> = Vec::new();
    let mut index = 0;
    while index < args.len() {
        match variant_flag(&args[index..], "test") {
            Some(parsed) => {
                let (variant, taken) = parsed?;
                if let Some((_, first)) = &chosen {
                    return Err(usage(
                        format!(
                            "choose one variant, not both {} and {}",
                            first[0].to_string_lossy(),
                            args[index].to_string_lossy()
                        ),
                        "test",
                    ));
                }
                chosen = Some((variant, args[index..index + taken].to_vec()));
                index += taken;
            }
            None => {
                rest.push(args[index].clone());
                index += 1;
            }
        }
    }
    let Some((variant, flags)) = chosen else {
        return Ok(runner::test_main(&case::all_cases(), &rest));
    };
    if rest.iter().any(|arg| arg == "-h" || arg == "--help") {
        print!("{}", runner::TEST_USAGE);
        return Ok(ExitCode::SUCCESS);
    }
    let root = variant::find_root().map_err(Failure::Failed)?;
    eprintln!("raftlab: building the grader for {variant}...");
    let program = runner::build_variant(&root, &variant).map_err(Failure::Failed)?;
    // Replay lines printed by the variant's grader must select the same
    // variant again.
    let mut replay = std::env::var(runner::REPLAY_ENV)
        .ok()
        .filter(|prefix| !prefix.trim().is_empty())
        .unwrap_or_else(|| "raftlab test".to_string());
    for flag in &flags {
        replay.push(' ');
        replay.push_str(&shell_word(&flag.to_string_lossy()));
    }
    let status = Command::new(&program)
        .arg("test")
        .args(&rest)
        .env(runner::REPLAY_ENV, replay)
        .status()
        .map_err(|e| Failure::Failed(format!("cannot run {}: {e}", program.display())))?;
    Ok(exit_code(status))
}

/// `text` as one word for a POSIX shell: quoted when it needs to be.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `raftlab exec [VARIANT] [--] CMD [ARGS...]`.
fn exec_command(args: &[OsString]) -> Result<ExitCode, Failure> {
    let mut chosen: Option<(Variant, String)> = None;
    let mut index = 0;
    while index < args.len() {
        let arg = args[index].to_string_lossy();
        if let Some(parsed) = variant_flag(&args[index..], "exec") {
            let (variant, taken) = parsed?;
            if let Some((_, first_flag)) = &chosen {
                return Err(usage(
                    format!("choose one variant, not both {first_flag} and {arg}"),
                    "exec",
                ));
            }
            chosen = Some((variant, arg.into_owned()));
            index += taken;
        } else if arg == "--" {
            index += 1;
            break;
        } else if arg == "-h" || arg == "--help" {
            print!("{EXEC_USAGE}");
            return Ok(ExitCode::SUCCESS);
        } else if arg.starts_with('-') {
            return Err(usage(format!("unknown option {arg:?}"), "exec"));
        } else {
            break;
        }
    }
    let Some((program, program_args)) = args[index..].split_first() else {
        return Err(usage("missing the command to run after `--`", "exec"));
    };
    let variant = chosen.map_or(Variant::Skeleton, |(variant, _)| variant);

    let root = variant::find_root().map_err(Failure::Failed)?;
    let dir = variant::prepare(&root, &variant).map_err(Failure::Failed)?;
    let shown_dir = dir.strip_prefix(&root).unwrap_or(&dir);
    eprintln!(
        "raftlab: running {:?} on {variant}, in {}",
        program.to_string_lossy(),
        shown_dir.display()
    );
    let status = Command::new(program)
        .args(program_args)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", variant::target_dir(&root))
        .status()
        .map_err(|e| Failure::Failed(format!("cannot run {:?}: {e}", program.to_string_lossy())))?;
    Ok(exit_code(status))
}

/// The command's own exit status; for a command killed by a signal, 128 plus
/// the signal's number, as a shell reports it.
fn exit_code(status: ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ExitCode::from(u8::try_from(128 + signal).unwrap_or(1));
        }
    }
    ExitCode::FAILURE
}
