//! `instructor validate`: the project's own test suite, and what CI runs.
//!
//! It runs a list of named checks, prints PASS, FAIL or SKIP (with why) for
//! each as it goes, never stops at a failure, and ends with `validate: N
//! passed, M failed, K skipped`. The heart of it is the validation
//! [`matrix`].

pub mod docs;
pub mod hostile;
pub mod matrix;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use grader::exec::process::{self, Limits, OutputLimits, OutputReader};
use grader::model::Track;

use crate::sources::Reference;
use crate::variant::{self, Variant};

/// Clippy as the project requires it: every target, no warning.
/// Clippy on every target of the workspace, warnings as errors.
const CLIPPY: &[&str] = &[
    "cargo",
    "clippy",
    "-q",
    "--workspace",
    "--all-targets",
    "--all-features",
    "--",
    "-D",
    "warnings",
];

/// What a run in the reference's variant leaves out: the instructor crate
/// never links the library, so its lints and tests are those of the
/// skeleton's run, and it reads `solutions/`, which no variant copies.
const NOT_IN_VARIANTS: [&str; 2] = ["--exclude", "instructor"];

/// `command` (a cargo command with `--workspace`) as it runs in the
/// reference's variant.
fn in_variant(command: &[&'static str]) -> Vec<&'static str> {
    let mut v = command.to_vec();
    let at = v
        .iter()
        .position(|a| *a == "--workspace")
        .map_or(v.len(), |i| i + 1);
    v.splice(at..at, NOT_IN_VARIANTS);
    v
}

/// The checks, in the order they run.
pub const CHECKS: &[&str] = &[
    "fmt",
    "skeleton-check",
    "clippy-skeleton",
    "clippy-reference",
    "tests-skeleton",
    "tests-reference",
    "docs",
    "matrix",
    "package",
    "sandbox",
    "hostile",
    "debugger",
    "timeline-browser",
];

pub const USAGE: &str = "\
instructor validate: check the grader itself (the project's test suite, and CI's)

Usage: ./raftlab_test.sh --validate [OPTIONS]
       cargo run -q -p instructor -- validate [OPTIONS]

Runs, in order, and prints PASS, FAIL or SKIP for each:
  fmt               cargo fmt --check
  skeleton-check    raft/src/raft.rs is the skeleton of solutions/raft.rs
  clippy-skeleton   clippy --all-targets -D warnings on the workspace (the skeleton)
  clippy-reference  the same on the reference
  tests-skeleton    every test of the workspace on the skeleton (those that
                    need a finished raft.rs are ignored there)
  tests-reference   every test on the reference, the ignored ones included
                    (the instructor crate, which never links the library,
                    is linted and tested with the skeleton)
  docs              every command in the README and the handout is real
  matrix            the validation matrix: skeleton, reference, minus each step,
                    each prefix of steps, every mutant and every alternative
  package           the student package: no answers, builds, grades TODO/BLOCKED
  sandbox           the sandbox's own tests (bubblewrap)
  hostile           the hostile submissions graded in one `grade` run
  debugger          the --debug command's breakpoints are hit in gdb
  timeline-browser  a timeline page opened in headless Chromium
Ends with `validate: N passed, M failed, K skipped`.

Options:
  --only NAME        run only this check (repeatable, or NAME,NAME)
  --quick            the matrix without mutants and alternatives
  --mutant NAME      the matrix takes only these mutants/alternatives (repeatable)
  --seeds N          scenario seeds for the reference and skeleton (default 100)
  --zoo-seeds N      scenario seeds for the other rows (default 20)
  --jobs N           cases graded at once (default: the number of CPUs)
  -h, --help         print this help
";

/// Options of `instructor validate`.
#[derive(Clone, Debug)]
pub struct ValidateArgs {
    pub only: Vec<String>,
    pub matrix: matrix::MatrixArgs,
    pub help: bool,
}

pub fn parse_args(args: Vec<OsString>) -> Result<ValidateArgs, String> {
    use lexopt::prelude::*;
    let mut parsed = ValidateArgs {
        only: Vec::new(),
        matrix: matrix::MatrixArgs {
            only: Vec::new(),
            quick: false,
            seeds: 100,
            zoo_seeds: 20,
            jobs: std::thread::available_parallelism().map_or(1, usize::from),
        },
        help: false,
    };
    let mut p = lexopt::Parser::from_args(args);
    let value = |p: &mut lexopt::Parser, name: &str| -> Result<String, String> {
        p.value()
            .map_err(|e| e.to_string())?
            .into_string()
            .map_err(|v| format!("{name}: {v:?} is not text"))
    };
    let count = |text: String, name: &str| -> Result<u64, String> {
        text.parse::<u64>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or(format!("{name} {text:?}: expected a count of at least 1"))
    };
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("only") => {
                for name in value(&mut p, "--only")?.split(',').map(str::trim) {
                    if name.is_empty() {
                        continue;
                    }
                    if !CHECKS.contains(&name) {
                        return Err(format!(
                            "--only: unknown check {name:?} (checks: {})",
                            CHECKS.join(", ")
                        ));
                    }
                    parsed.only.push(name.to_string());
                }
            }
            Long("quick") => parsed.matrix.quick = true,
            Long("mutant") => parsed.matrix.only.push(value(&mut p, "--mutant")?),
            Long("seeds") => parsed.matrix.seeds = count(value(&mut p, "--seeds")?, "--seeds")?,
            Long("zoo-seeds") => {
                parsed.matrix.zoo_seeds = count(value(&mut p, "--zoo-seeds")?, "--zoo-seeds")?
            }
            Long("jobs") => {
                parsed.matrix.jobs = count(value(&mut p, "--jobs")?, "--jobs")? as usize
            }
            Short('h') | Long("help") => parsed.help = true,
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(parsed)
}

/// How a check ended.
pub enum CheckResult {
    Passed(String),
    Failed(String),
    /// Nothing could be checked here, and why (what to install).
    Skipped(String),
}

fn log_dir(root: &Path) -> PathBuf {
    root.join("target/raftlab/validate")
}

fn save_log(root: &Path, name: &str, log: &str) -> PathBuf {
    let dir = log_dir(root);
    let _ = fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}.log"));
    let _ = fs::write(&path, log);
    path
}

/// The most a check's command may run.
const COMMAND_TIME_LIMIT: Duration = Duration::from_secs(40 * 60);

/// Runs `program args` in `dir` (with `CARGO_TARGET_DIR` when given),
/// saving its output to the check's log; passes when each exits 0.
fn command_check(
    root: &Path,
    name: &str,
    dir: &Path,
    target_dir: Option<&Path>,
    commands: &[Vec<&str>],
) -> CheckResult {
    let mut log = String::new();
    for command_line in commands {
        let Some((program, args)) = command_line.split_first() else {
            continue;
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(target) = target_dir {
            command.env("CARGO_TARGET_DIR", target);
        }
        log.push_str(&format!("$ {}\n", command_line.join(" ")));
        let mut child = match process::spawn(&mut command, &Limits::default()) {
            Ok(c) => c,
            Err(e) => return CheckResult::Failed(format!("cannot run {program}: {e}")),
        };
        let reader = OutputReader::start(
            &mut child,
            OutputLimits {
                stdout_bytes: 8 << 20,
                stderr_lines: 2000,
                line_bytes: 4000,
            },
        );
        let status = process::wait_until(&mut child, Instant::now() + COMMAND_TIME_LIMIT)
            .ok()
            .flatten();
        let _ = process::kill_group(&mut child);
        let out = reader.finish(Duration::from_secs(5));
        log.push_str(&String::from_utf8_lossy(&out.stdout));
        for line in &out.stderr_tail {
            log.push_str(line);
            log.push('\n');
        }
        let ok = status.is_some_and(|s| s.success());
        if !ok {
            let path = save_log(root, name, &log);
            let how = status.map_or("timed out".to_string(), process::describe_exit);
            let tail: Vec<&str> = log.lines().rev().take(25).collect();
            let tail: Vec<String> = tail.into_iter().rev().map(|l| format!("    {l}")).collect();
            return CheckResult::Failed(format!(
                "`{}` {how} (log: {})\n{}",
                command_line.join(" "),
                path.display(),
                tail.join("\n")
            ));
        }
    }
    let path = save_log(root, name, &log);
    CheckResult::Passed(format!("log: {}", path.display()))
}

fn nextest_available() -> bool {
    Command::new("cargo")
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Every test of the workspace, with the ignored ones when `ignored`:
/// nextest when the machine has it, else `cargo test`.
fn test_command(nextest: bool, ignored: bool) -> Vec<&'static str> {
    match (nextest, ignored) {
        (true, false) => vec![
            "cargo",
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ],
        (true, true) => vec![
            "cargo",
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
            "--run-ignored",
            "all",
        ],
        (false, false) => vec![
            "cargo",
            "test",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ],
        (false, true) => vec![
            "cargo",
            "test",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
            "--",
            "--include-ignored",
        ],
    }
}

fn skeleton_check(root: &Path) -> CheckResult {
    let result = Reference::read(root)
        .and_then(|reference| reference.stale_files(root))
        .and_then(|stale| {
            if stale.is_empty() {
                Ok("every generated file is the core skeleton of the reference".to_string())
            } else {
                Err(format!(
                    "{}; run `cargo run -q -p instructor -- skeleton`",
                    stale.join("; ")
                ))
            }
        });
    match result {
        Ok(s) => CheckResult::Passed(s),
        Err(e) => CheckResult::Failed(e),
    }
}

fn run_check(root: &Path, name: &str, args: &ValidateArgs) -> CheckResult {
    let nextest = nextest_available();
    let reference = || -> Result<(PathBuf, PathBuf), String> {
        let dir = variant::prepare(root, &Variant::Reference)?;
        Ok((dir, variant::target_dir(root, &Variant::Reference)))
    };
    match name {
        "fmt" => command_check(
            root,
            name,
            root,
            None,
            &[vec!["cargo", "fmt", "--all", "--check"]],
        ),
        "skeleton-check" => skeleton_check(root),
        "clippy-skeleton" => command_check(root, name, root, None, &[CLIPPY.to_vec()]),
        "clippy-reference" => match reference() {
            Err(e) => CheckResult::Failed(e),
            Ok((dir, target)) => {
                command_check(root, name, &dir, Some(&target), &[in_variant(CLIPPY)])
            }
        },
        "tests-skeleton" => command_check(root, name, root, None, &[test_command(nextest, false)]),
        "tests-reference" => match reference() {
            Err(e) => CheckResult::Failed(e),
            Ok((dir, target)) => command_check(
                root,
                name,
                &dir,
                Some(&target),
                &[in_variant(&test_command(nextest, true))],
            ),
        },
        "matrix" => match matrix::run_matrix(root, &args.matrix) {
            Ok(true) => CheckResult::Passed("every cell as expected".to_string()),
            Ok(false) => CheckResult::Failed("some cells are off (OFF lines above)".to_string()),
            Err(e) => CheckResult::Failed(e),
        },
        "package" => package_check(root),
        "hostile" => hostile::hostile_check(root),
        "timeline-browser" => {
            let found = ["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .any(|n| Path::new("/usr/bin").join(n).is_file());
            if !found {
                CheckResult::Skipped(
                    "no Chromium here; `.ci/run` installs Debian's chromium".to_string(),
                )
            } else {
                command_check(
                    root,
                    name,
                    root,
                    None,
                    &[vec![
                        "cargo",
                        "test",
                        "-q",
                        "-p",
                        "grader",
                        "--test",
                        "timeline_browser",
                        "--",
                        "--ignored",
                    ]],
                )
            }
        }
        "debugger" => debugger_check(root),
        "sandbox" => match crate::sandbox::Bwrap::detect() {
            Err(e) => CheckResult::Skipped(format!(
                "no sandbox here ({e}); `.ci/run` installs bubblewrap"
            )),
            Ok(_) => command_check(
                root,
                name,
                root,
                None,
                &[vec![
                    "cargo",
                    "test",
                    "-q",
                    "-p",
                    "instructor",
                    "--test",
                    "sandbox",
                    "--",
                    "--include-ignored",
                    "--test-threads",
                    "1",
                ]],
            ),
        },
        "docs" => match docs::check_documents(root) {
            Err(e) => CheckResult::Failed(e),
            Ok((problems, checked)) if problems.is_empty() => CheckResult::Passed(format!(
                "{checked} documented commands and output excerpts match the tools; every case named exists"
            )),
            Ok((problems, _)) => CheckResult::Failed(problems.join("\n    ")),
        },
        other => CheckResult::Failed(format!("the check {other} is not available in this build")),
    }
}

/// The case the debugger check debugs, and the line it expects to stop at
/// first: the first line of its step's code.
const DEBUGGED_CASE: &str = "e3::becomes_candidate_of_next_term";

/// Runs what `./raftlab_test.sh --debug --case ...` prints, in gdb's batch
/// mode, on the skeleton (the student's starting point): the breakpoint in
/// the step's code must be hit, then the one on the case's failure path.
fn debugger_check(root: &Path) -> CheckResult {
    let has = |p: &str| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has("gdb") {
        return CheckResult::Skipped("no gdb here; `.ci/run` installs Debian's gdb".to_string());
    }
    let printed = Command::new("sh")
        .arg("./raftlab_test.sh")
        .args(["--debug", "--case", DEBUGGED_CASE])
        .current_dir(root)
        .stdin(Stdio::null())
        .output();
    let printed = match printed {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            return CheckResult::Failed(format!(
                "./raftlab_test.sh --debug failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Err(e) => return CheckResult::Failed(format!("cannot run ./raftlab_test.sh: {e}")),
    };
    let Some(command) = printed
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("rust-gdb"))
    else {
        return CheckResult::Failed(format!("--debug printed no rust-gdb command:\n{printed}"));
    };
    // The same command, in batch mode: after `run`, show where it stopped,
    // go on to the next stop, and show that too.
    let batch = command
        .replacen("rust-gdb -q", "gdb -q -batch", 1)
        .replacen(" --args ", " -ex bt -ex continue -ex bt --args ", 1);
    let output = Command::new("sh")
        .arg("-c")
        .arg(&batch)
        .current_dir(root)
        .stdin(Stdio::null())
        .output();
    let text = match output {
        Ok(o) => format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => return CheckResult::Failed(format!("cannot run gdb: {e}")),
    };
    let log = save_log(root, "debugger", &format!("$ {batch}\n{text}"));
    let step_hit = text.contains("Breakpoint 1,") && text.contains("become_candidate");
    let failure_hit = text.contains("Breakpoint 2,") && text.contains("case_failed");
    if step_hit && failure_hit {
        CheckResult::Passed(format!(
            "gdb stopped in Election Step3's code, then on the case's failure (log: {})",
            log.display()
        ))
    } else {
        CheckResult::Failed(format!(
            "gdb did not stop where --debug says (step line: {step_hit}, failure path: {failure_hit}); log: {}",
            log.display()
        ))
    }
}

/// Builds the student package of each track in a scratch directory,
/// checks its content, and runs its own `./raftlab_test.sh`, which must
/// build without the instructor crate and grade every step of its track
/// TODO or BLOCKED.
fn package_check(root: &Path) -> CheckResult {
    let tracks: Vec<Track> = match crate::sources::Reference::read(root) {
        Ok(r) if r.has_deep() => Track::ALL.to_vec(),
        Ok(_) => vec![Track::Core],
        Err(e) => return CheckResult::Failed(e),
    };
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for track in tracks {
        let base = root.join("target/raftlab/package-check").join(track.slug());
        let out = base.join("raftlab");
        let options = crate::package::PackageOptions {
            track,
            ..Default::default()
        };
        let files = match crate::package::build_package(root, &out, options) {
            Ok(files) => files,
            Err(e) => {
                return CheckResult::Failed(format!(
                    "cannot build the {} package: {e}",
                    track.slug()
                ));
            }
        };
        match crate::package::check_package(root, &out, track) {
            Ok(p) => problems.extend(
                p.into_iter()
                    .map(|p| format!("{} package: {p}", track.slug())),
            ),
            Err(e) => return CheckResult::Failed(format!("cannot check the package: {e}")),
        }
        let mut command = Command::new("sh");
        command
            .arg("./raftlab_test.sh")
            .args(["--machine", "--seeds", "3"])
            .current_dir(&out)
            .env("CARGO_TARGET_DIR", base.join("target"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let log = format!("package-{}", track.slug());
        match command.output() {
            Err(e) => problems.push(format!("cannot run the package's raftlab_test.sh: {e}")),
            Ok(output) => {
                let text = String::from_utf8_lossy(&output.stdout).into_owned();
                save_log(
                    root,
                    &log,
                    &format!("{text}{}", String::from_utf8_lossy(&output.stderr)),
                );
                let verdicts = matrix::Verdicts::parse_machine(&text);
                if verdicts.steps.is_empty() {
                    problems.push(format!(
                        "the {} package's raftlab_test.sh gave no verdicts (log: {})",
                        track.slug(),
                        log_dir(root).join(format!("{log}.log")).display()
                    ));
                } else {
                    problems.extend(matrix::check_row_in(
                        track,
                        &format!("{} package", track.slug()),
                        &matrix::Expect::Skeleton,
                        &verdicts,
                    ));
                }
            }
        }
        // The core skeleton is the committed tree, whose tests the
        // tests-skeleton check runs; another track's skeleton has holes of
        // its own, and its tests must hold on them too (those that reach a
        // hole are ignored, never failed or passed).
        if track != Track::Core {
            let tests = Command::new("cargo")
                .args(["test", "-q", "--workspace", "--no-fail-fast"])
                .current_dir(&out)
                .env("CARGO_TARGET_DIR", base.join("target"))
                .stdin(Stdio::null())
                .output();
            match tests {
                Err(e) => problems.push(format!("cannot run cargo test in the package: {e}")),
                Ok(o) if !o.status.success() => {
                    let log = format!("package-{}-tests", track.slug());
                    save_log(
                        root,
                        &log,
                        &format!(
                            "{}{}",
                            String::from_utf8_lossy(&o.stdout),
                            String::from_utf8_lossy(&o.stderr)
                        ),
                    );
                    problems.push(format!(
                        "the {} package's own tests fail on its skeleton (log: {})",
                        track.slug(),
                        log_dir(root).join(format!("{log}.log")).display()
                    ));
                }
                Ok(_) => notes.push(format!("its tests hold on the {} skeleton", track.slug())),
            }
        }
        notes.push(format!("{} package: {files} files", track.slug()));
    }
    if problems.is_empty() {
        CheckResult::Passed(format!(
            "{}; no answer line or call, no marker, no solutions path; builds without the instructor crate; every step of its track TODO or BLOCKED",
            notes.join(", ")
        ))
    } else {
        CheckResult::Failed(problems.join("\n    "))
    }
}

/// `instructor validate`.
pub fn validate_main(root: &Path, args: Vec<OsString>) -> ExitCode {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("instructor validate: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let wanted: BTreeSet<&str> = args.only.iter().map(String::as_str).collect();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for &name in CHECKS {
        if !wanted.is_empty() && !wanted.contains(name) {
            continue;
        }
        println!("==> {name}");
        let t = Instant::now();
        let result = run_check(root, name, &args);
        let time = format!("{:.0} s", t.elapsed().as_secs_f64());
        match result {
            CheckResult::Passed(s) => {
                passed += 1;
                println!("PASS {name} ({time}): {s}");
            }
            CheckResult::Failed(s) => {
                failed += 1;
                println!("FAIL {name} ({time}): {s}");
            }
            CheckResult::Skipped(s) => {
                skipped += 1;
                println!("SKIP {name}: {s}");
            }
        }
    }
    println!("total time {:.0} s", started.elapsed().as_secs_f64());
    println!("validate: {passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_leaves_the_instructor_crate_out() {
        let clippy = in_variant(CLIPPY);
        assert_eq!(
            clippy[..6],
            [
                "cargo",
                "clippy",
                "-q",
                "--workspace",
                "--exclude",
                "instructor"
            ]
        );
        let tests = in_variant(&test_command(false, true));
        let at = tests.iter().position(|a| *a == "--workspace").unwrap();
        assert_eq!(tests[at + 1..at + 3], NOT_IN_VARIANTS);
        assert_eq!(tests.last(), Some(&"--include-ignored"));
    }

    fn args(list: &[&str]) -> Result<ValidateArgs, String> {
        parse_args(list.iter().map(OsString::from).collect())
    }

    #[test]
    fn arguments() {
        let parsed = args(&[
            "--quick",
            "--only",
            "fmt,matrix",
            "--only=package",
            "--zoo-seeds",
            "5",
        ])
        .expect("valid");
        assert!(parsed.matrix.quick);
        assert_eq!(parsed.only, vec!["fmt", "matrix", "package"]);
        assert_eq!(parsed.matrix.zoo_seeds, 5);
        assert!(
            args(&["--only", "lint"])
                .unwrap_err()
                .contains("unknown check \"lint\"")
        );
        assert!(args(&["--seeds", "0"]).unwrap_err().contains("at least 1"));
        assert!(args(&["--frobnicate"]).is_err());
    }

    #[test]
    fn the_usage_names_every_check() {
        for check in CHECKS {
            assert!(USAGE.contains(&format!("  {check} ")), "{check}");
        }
    }
}
