//! The small commands: `test`, `exec` and `skeleton`.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use grader::cli::test::{COMMAND_ENV, test_main};
use grader::model::{Step, Track};

use crate::build::{self, Profile};
use crate::sources::Reference;
use crate::variant::{self, Variant};

const TEST_USAGE: &str = "\
instructor test: grade a variant of raft/src/raft.rs

Usage: cargo run -q -p instructor -- test [VARIANT] [TEST OPTIONS]
       ./raftlab_test.sh [VARIANT] [TEST OPTIONS]

Builds the variant's host in a scratch copy and runs the student's grader
on it: every option of `./raftlab_test.sh --help` works here too.

Variant (default: the committed raft/src/raft.rs):
  --solution        the reference: solutions/raft.rs without its markers
  --file PATH       any raft.rs, e.g. a student's submission
  --minus STEP      the reference with STEP's answer replaced by its todo!()
  --mutant NAME     the reference with a mutant or an alternative in its step:
                    a path, or a name in solutions/mutants/ or solutions/alternatives/
  --prefix K        the reference's answers for the first K steps, todo!() after
  --deep-prefix K   the deep track's: its first K steps answered, todo!() after
                    (with --track deep to grade the deep steps)
";

const EXEC_USAGE: &str = "\
instructor exec: run a command in a variant of the workspace

Usage: cargo run -q -p instructor -- exec [VARIANT] -- CMD [ARGS...]

Prepares a scratch copy of the workspace holding the variant's
raft/src/raft.rs, runs CMD in it with CARGO_TARGET_DIR set to the copy's own
target/, and exits with CMD's status. Variants as for `test`.

Example:
  cargo run -q -p instructor -- exec --solution -- cargo test -p raft -- --include-ignored
";

const SKELETON_USAGE: &str = "\
instructor skeleton: generate the students' raft/src/raft.rs from solutions/raft.rs

Usage: cargo run -q -p instructor -- skeleton [--check]

Generates raft/src/raft.rs from solutions/raft.rs (and raft/src/raft_log.rs
from solutions/raft_log.rs, when it exists): each core step's answer between
`//>>> RaftLab <step>` and `//<<< RaftLab <step>` becomes one
`todo!(\"RaftLab <step>\");` line, each deep step's answer stays (without its
markers); every other line is copied as is. Never edit the generated files
by hand.

  --check     write nothing; exit 1 naming the first differing line when the
              committed raft/src/raft.rs is stale
";

/// Takes the variant options out of `args`: the variant, and the rest.
pub fn split_variant(args: Vec<OsString>) -> Result<(Variant, Vec<OsString>), String> {
    let mut variant: Option<Variant> = None;
    let mut rest = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let flag = arg.to_str().unwrap_or_default();
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let chosen = match flag {
            "--solution" => Variant::Reference,
            "--file" => Variant::File(PathBuf::from(value("--file")?)),
            "--mutant" => Variant::Mutant(PathBuf::from(value("--mutant")?)),
            "--minus" => {
                let v = value("--minus")?;
                Variant::MinusStep(Step::parse(&v.to_string_lossy())?)
            }
            "--prefix" | "--deep-prefix" => {
                let deep = flag == "--deep-prefix";
                let v = value(flag)?;
                let k: usize = v
                    .to_string_lossy()
                    .parse()
                    .map_err(|_| format!("{flag}: {v:?} is not a number of steps"))?;
                let most = if deep {
                    Step::DEEP.len()
                } else {
                    Step::ALL.len()
                };
                if k > most {
                    return Err(format!("{flag}: at most {most} steps"));
                }
                if deep {
                    Variant::DeepPrefix(k)
                } else {
                    Variant::Prefix(k)
                }
            }
            "--" => {
                rest.extend(it);
                break;
            }
            _ => {
                rest.push(arg);
                continue;
            }
        };
        if variant.replace(chosen).is_some() {
            return Err("choose one variant".to_string());
        }
    }
    Ok((variant.unwrap_or(Variant::Skeleton), rest))
}

fn usage_error(message: &str, help: &str) -> ExitCode {
    eprintln!("instructor: {message}\n\n{help}");
    ExitCode::from(2)
}

/// What a student types for this variant, for replay lines.
fn command_for(variant: &Variant) -> String {
    match variant {
        Variant::Skeleton => "./raftlab_test.sh".to_string(),
        Variant::Reference => "./raftlab_test.sh --solution".to_string(),
        Variant::File(p) | Variant::Submission(p) => {
            format!("./raftlab_test.sh --file {}", p.display())
        }
        Variant::MinusStep(step) => format!("./raftlab_test.sh --minus {}", step.short_name()),
        Variant::Mutant(p) => format!("./raftlab_test.sh --mutant {}", p.display()),
        Variant::Prefix(k) => format!("./raftlab_test.sh --prefix {k}"),
        Variant::DeepPrefix(k) => format!("./raftlab_test.sh --deep-prefix {k}"),
        Variant::Zoo(_) => "./raftlab_test.sh --validate".to_string(),
    }
}

/// `instructor test`.
pub fn test(root: &Path, args: Vec<OsString>) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{TEST_USAGE}");
        return ExitCode::SUCCESS;
    }
    let (variant, mut rest) = match split_variant(args) {
        Ok(v) => v,
        Err(e) => return usage_error(&e, TEST_USAGE),
    };
    let debug = rest.iter().any(|a| a == "--debug");
    let profile = if debug {
        Profile::Debug
    } else {
        Profile::Release
    };
    // Asking for help, the list or a hint needs no build.
    let needs_host = !rest.iter().any(|a| a == "--list" || a == "--hint");
    if needs_host {
        let host = match build::build_host(root, &variant, profile) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("instructor: {e}");
                return ExitCode::from(1);
            }
        };
        rest.push("--host".into());
        rest.push(host.into());
    }
    rest.push("--root".into());
    rest.push(root.into());
    if std::env::var_os(COMMAND_ENV).is_none() {
        rest.push("--command".into());
        rest.push(command_for(&variant).into());
    }
    test_main(rest)
}

/// `instructor exec`.
pub fn exec(root: &Path, args: Vec<OsString>) -> ExitCode {
    if args.first().is_some_and(|a| a == "-h" || a == "--help") {
        print!("{EXEC_USAGE}");
        return ExitCode::SUCCESS;
    }
    let (variant, rest) = match split_variant(args) {
        Ok(v) => v,
        Err(e) => return usage_error(&e, EXEC_USAGE),
    };
    let Some((program, program_args)) = rest.split_first() else {
        return usage_error("exec needs a command to run", EXEC_USAGE);
    };
    let dir = match variant::prepare(root, &variant) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("instructor: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "instructor: running {program:?} on {variant}, in {}",
        dir.display()
    );
    let status = Command::new(program)
        .args(program_args)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", variant::target_dir(root, &variant))
        .status();
    match status {
        Ok(s) => match s.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::from(1),
        },
        Err(e) => {
            eprintln!("instructor: could not run {program:?}: {e}");
            ExitCode::from(1)
        }
    }
}

/// `instructor skeleton [--check]`.
pub fn skeleton(root: &Path, args: Vec<OsString>) -> ExitCode {
    let mut check = false;
    for a in &args {
        match a.to_str() {
            Some("--check") => check = true,
            Some("-h" | "--help") => {
                print!("{SKELETON_USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => return usage_error(&format!("unknown option {a:?}"), SKELETON_USAGE),
        }
    }
    let reference = match Reference::read(root) {
        Ok(reference) => reference,
        Err(e) => {
            eprintln!("instructor: {e}");
            return ExitCode::from(1);
        }
    };
    if check {
        match reference.stale_files(root) {
            Ok(stale) if stale.is_empty() => {}
            Ok(stale) => {
                for line in stale {
                    eprintln!("{line}; run `cargo run -q -p instructor -- skeleton`");
                }
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("instructor: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        let wanted = match reference.skeleton(Track::Core) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("instructor: {e}");
                return ExitCode::from(1);
            }
        };
        for (generated, text) in &wanted {
            let path = root.join(generated);
            if fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
                continue;
            }
            if let Err(e) = fs::write(&path, text) {
                eprintln!("instructor: cannot write {}: {e}", path.display());
                return ExitCode::from(1);
            }
            println!("wrote {generated}");
        }
    }
    if check {
        println!("skeleton is up to date");
    } else {
        println!("every generated file is up to date");
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(words: &[&str]) -> Result<(Variant, Vec<OsString>), String> {
        split_variant(words.iter().map(OsString::from).collect())
    }

    #[test]
    fn variant_options_are_taken_and_the_rest_passed_on() {
        let (v, rest) = split(&["--solution", "--step", "E3"]).unwrap();
        assert_eq!(v, Variant::Reference);
        assert_eq!(rest, vec![OsString::from("--step"), OsString::from("E3")]);
        assert_eq!(
            split(&["--minus", "r2"]).unwrap().0,
            Variant::MinusStep(Step::Replication2)
        );
        assert_eq!(split(&["--prefix", "4"]).unwrap().0, Variant::Prefix(4));
        assert_eq!(split(&[]).unwrap().0, Variant::Skeleton);
        let (_, rest) = split(&["--solution", "--", "cargo", "--solution"]).unwrap();
        assert_eq!(rest.len(), 2);
    }

    #[test]
    fn bad_variants_are_usage_errors() {
        assert!(split(&["--solution", "--minus", "E1"]).is_err());
        assert!(split(&["--minus", "E9"]).is_err());
        assert!(split(&["--prefix", "11"]).is_err());
        assert!(split(&["--file"]).is_err());
    }
}
