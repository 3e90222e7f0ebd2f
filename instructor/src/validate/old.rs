//! `raftlab validate`: the project's own test suite, and what CI runs.
//!
//! It runs a list of named checks, prints PASS or FAIL for each as it goes,
//! never stops at a failure, and ends with `validate: N passed, M failed`.
//! The heart of it is the **validation matrix**, which proves the grader
//! right on variants whose verdicts are known in advance:
//!
//! | variant | expected |
//! |---|---|
//! | skeleton | every step FAIL or BLOCKED; no scenario passes |
//! | reference | every step and every scenario PASS |
//! | reference minus step k | step k FAIL; every other step PASS or BLOCKED BY step k |
//! | each mutant of `solutions/mutants/` | its step FAIL or TIMEOUT; another step or the scenarios fail only if its `also-fails:` says so |
//!
//! Building sixty variants one by one would take most of the time, so the
//! minus-step variants and the mutants are built together, into one **zoo**
//! build (see [`make_zoo`]): each region of the reference becomes a `match`
//! on an environment variable, with one arm per variant that changes that
//! region. One build then plays any of them; it behaves exactly like the
//! variant it plays, apart from reading one environment variable once. The
//! skeleton and the reference are built as themselves. `--separate` builds
//! every variant on its own instead.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::case::Part;
use crate::grade::{self, GraderRun, MachineReport, RunOutput};
use crate::package;
use crate::report::Verdict;
use crate::runner;
use crate::skeleton::{self, AlsoFails, MutantInfo, Step};
use crate::variant::{self, MUTANTS_DIR, Variant};

/// The environment variable that tells a zoo build which variant to play.
pub const ZOO_ENV: &str = "RAFTLAB_ZOO_VARIANT";

/// The time limits of a mutant's cases, relative to the usual ones (10 s
/// per step case, 60 s per scenario): 1 s and 6 s.
pub const MUTANT_TIMEOUT_SCALE: f64 = 0.1;

/// Clippy as the project requires it: every target, no warning.
const CLIPPY: &[&str] = &[
    "cargo",
    "clippy",
    "-q",
    "--all-targets",
    "--",
    "-D",
    "warnings",
];

/// The checks, in the order they run.
pub const CHECKS: [&str; 12] = [
    "fmt",
    "docs",
    "clippy-skeleton",
    "clippy-reference",
    "skeleton-check",
    "unit-tests-skeleton",
    "raft-tests-reference",
    "kv-tests-reference",
    "grader-tests-reference",
    "timeline-browser",
    "matrix",
    "package",
];

pub const USAGE: &str = "\
raftlab validate: check the grader itself (the project's test suite, and CI's)

Usage: raftlab validate [OPTIONS]

Runs, in order, and prints PASS or FAIL for each: cargo fmt --check; cargo
clippy --all-targets -D warnings on the skeleton workspace and on the
reference; raftlab skeleton --check; the unit tests on the skeleton (raft's
lib tests and the grader's); raft's full tests (and kv's, if the workspace
has a kv member) on the reference; the validation matrix; the student
package check. Ends with `validate: N passed, M failed`.

The matrix grades, and checks every verdict of: the skeleton, the
reference, the reference minus each step, and every mutant in
solutions/mutants/ (see each mutant's header).

Options:
  --quick            skip the mutants in the matrix
  --only NAME        run only this check (repeatable, or NAME,NAME); checks:
                     fmt, clippy-skeleton, clippy-reference, skeleton-check,
                     unit-tests-skeleton, raft-tests-reference,
                     kv-tests-reference, matrix, package
  --mutant NAME      the matrix takes only these mutants (repeatable)
  --separate         build every matrix variant on its own, not in one zoo build
  --seeds N          scenario seeds for the reference and skeleton (default 100)
  --mutant-seeds N   scenario seeds for minus-step variants and mutants (default 20)
  --jobs N           gradings at once (default: the number of CPUs)
  -h, --help         print this help
";

/// Options of `raftlab validate`.
#[derive(Clone, Debug)]
pub struct ValidateArgs {
    pub quick: bool,
    pub only: Vec<String>,
    pub mutants: Vec<String>,
    pub separate: bool,
    pub seeds: u64,
    pub mutant_seeds: u64,
    pub jobs: usize,
    pub help: bool,
}

impl Default for ValidateArgs {
    fn default() -> ValidateArgs {
        ValidateArgs {
            quick: false,
            only: Vec::new(),
            mutants: Vec::new(),
            separate: false,
            seeds: runner::DEFAULT_SEEDS,
            mutant_seeds: 20,
            jobs: thread::available_parallelism().map_or(1, usize::from),
            help: false,
        }
    }
}

pub fn parse_args(args: &[OsString]) -> Result<ValidateArgs, String> {
    let mut parsed = ValidateArgs::default();
    let mut args = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        let count = |text: String, flag: &str| {
            text.parse::<u64>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(format!("{flag} {text:?}: expected a count of at least 1"))
        };
        match flag.as_str() {
            "--quick" => parsed.quick = true,
            "--separate" => parsed.separate = true,
            "--only" => {
                for name in value()?.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if !CHECKS.contains(&name) {
                        return Err(format!(
                            "--only: unknown check {name:?} (checks: {})",
                            CHECKS.join(", ")
                        ));
                    }
                    parsed.only.push(name.to_string());
                }
            }
            "--mutant" => parsed.mutants.push(value()?),
            "--seeds" => parsed.seeds = count(value()?, "--seeds")?,
            "--mutant-seeds" => parsed.mutant_seeds = count(value()?, "--mutant-seeds")?,
            "--jobs" | "-j" => parsed.jobs = count(value()?, "--jobs")? as usize,
            "-h" | "--help" => parsed.help = true,
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(parsed)
}

// ---------------------------------------------------------------------------
// The zoo build.

/// One variant played by a zoo build: its key (the value of [`ZOO_ENV`])
/// and, per step, what replaces that step's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZooMember {
    pub key: String,
    /// Region bodies (with their line endings) that differ from the
    /// reference's.
    pub bodies: Vec<(Step, String)>,
}

/// The reference with every region turned into a `match` on
/// `raftlab_zoo_variant()`: one arm per member that changes the region,
/// and the reference's answer as the default arm. A member that changes
/// no region plays the reference. The function reads [`ZOO_ENV`] once.
pub fn make_zoo(reference: &str, members: &[ZooMember]) -> Result<String, String> {
    let regions = skeleton::parse_regions(reference)?;
    let lines: Vec<&str> = reference.split_inclusive('\n').collect();
    let mut out = String::with_capacity(reference.len() * 2);
    let mut next_line = 1;
    for region in &regions {
        out.push_str(&lines[next_line - 1..region.begin_line - 1].concat());
        let indent = &region.indent;
        let _ = writeln!(out, "{indent}match raftlab_zoo_variant() {{");
        for member in members {
            for (step, body) in &member.bodies {
                if *step == region.step {
                    let _ = writeln!(out, "{indent}    {:?} => {{", member.key);
                    out.push_str(body);
                    if !body.is_empty() && !body.ends_with('\n') {
                        out.push('\n');
                    }
                    let _ = writeln!(out, "{indent}    }}");
                }
            }
        }
        let _ = writeln!(out, "{indent}    _ => {{");
        out.push_str(&region.body);
        let _ = writeln!(out, "{indent}    }}");
        let _ = writeln!(out, "{indent}}}");
        next_line = region.end_line + 1;
    }
    out.push_str(&lines[next_line - 1..].concat());
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let _ = write!(
        out,
        "\n/// Which variant this build plays: RaftLab's validation builds many\n\
         /// variants into one file (see `grader::validate::make_zoo`).\n\
         fn raftlab_zoo_variant() -> &'static str {{\n    \
         static CHOSEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();\n    \
         CHOSEN.get_or_init(|| std::env::var({ZOO_ENV:?}).unwrap_or_default())\n\
         }}\n"
    );
    Ok(out)
}

/// The body that stands for a step's answer in a minus-step variant.
fn todo_body(region_indent: &str, step: Step) -> String {
    format!("{region_indent}{};\n", step.todo_text())
}

// ---------------------------------------------------------------------------
// The matrix.

/// What a matrix row must show.
#[derive(Clone, Debug)]
pub enum Expect {
    Skeleton,
    Reference,
    Minus(Step),
    Mutant(MutantInfo),
}

/// How a row's grader is obtained.
#[derive(Clone, Debug)]
pub enum Build {
    /// Its own build.
    Variant(Variant),
    /// The zoo build, playing this key.
    Zoo(String),
}

/// One variant of the matrix.
#[derive(Clone, Debug)]
pub struct Row {
    pub label: String,
    pub expect: Expect,
    pub build: Build,
    pub seeds: u64,
}

/// What grading one row came to.
#[derive(Clone, Debug)]
pub struct RowOutcome {
    pub build_time: Duration,
    pub grade_time: Duration,
    /// The verdicts, or why there are none.
    pub report: Result<MachineReport, String>,
    /// Each cell that is not as expected.
    pub problems: Vec<String>,
}

fn seen_text(verdict: Option<&Verdict>) -> String {
    verdict.map_or("nothing".to_string(), |v| v.text())
}

/// Every cell of `report` that `expect` does not allow, as
/// `<label>: <item>: expected ..., seen ...`.
pub fn check_row(label: &str, expect: &Expect, report: &MachineReport) -> Vec<String> {
    let mut problems = Vec::new();
    let mut off = |item: &str, expected: &str, seen: String| {
        problems.push(format!("{label}: {item}: expected {expected}, seen {seen}"));
    };
    for step in Step::ALL {
        let verdict = report.steps.get(&step);
        let item = step.name();
        match expect {
            Expect::Skeleton => {
                if !matches!(verdict, Some(Verdict::Fail | Verdict::Blocked(_))) {
                    off(item, "FAIL or BLOCKED", seen_text(verdict));
                }
            }
            Expect::Reference => {
                if verdict != Some(&Verdict::Pass) {
                    off(item, "PASS", seen_text(verdict));
                }
            }
            Expect::Minus(missing) if step == *missing => {
                if verdict != Some(&Verdict::Fail) {
                    off(item, "FAIL (its todo!() is back)", seen_text(verdict));
                }
            }
            Expect::Minus(missing) => {
                let allowed =
                    verdict == Some(&Verdict::Pass) || verdict == Some(&Verdict::Blocked(*missing));
                if !allowed {
                    off(
                        item,
                        &format!("PASS or BLOCKED BY {missing}"),
                        seen_text(verdict),
                    );
                }
            }
            Expect::Mutant(info) if step == info.step => {
                if !matches!(verdict, Some(Verdict::Fail | Verdict::Timeout)) {
                    off(
                        item,
                        "FAIL or TIMEOUT (the mutant's own step must catch it)",
                        seen_text(verdict),
                    );
                }
            }
            Expect::Mutant(info) => {
                let listed = info.also_fails.contains(&AlsoFails::Step(step));
                let ok = match verdict {
                    Some(Verdict::Pass) => true,
                    Some(Verdict::Fail | Verdict::Timeout) => listed,
                    _ => false,
                };
                if !ok {
                    let expected = if listed {
                        "PASS, FAIL or TIMEOUT (listed in also-fails)"
                    } else {
                        "PASS (not listed in also-fails)"
                    };
                    off(item, expected, seen_text(verdict));
                }
            }
        }
    }
    for part in Part::ALL {
        let verdict = report.scenarios.get(&part);
        let item = format!("{} scenarios", part.slug());
        match expect {
            Expect::Skeleton => {
                if verdict.is_none() || verdict == Some(&Verdict::Pass) {
                    off(&item, "anything but PASS", seen_text(verdict));
                }
            }
            Expect::Reference => {
                if verdict != Some(&Verdict::Pass) {
                    off(&item, "PASS", seen_text(verdict));
                }
            }
            Expect::Minus(_) => {
                if verdict.is_none() {
                    off(&item, "a verdict", seen_text(verdict));
                }
            }
            Expect::Mutant(info) => {
                let listed = info.also_fails.contains(&AlsoFails::Scenarios);
                let ok = verdict == Some(&Verdict::Pass)
                    || (listed && verdict.is_some_and(|v| *v != Verdict::NoCases));
                if !ok {
                    let expected = if listed {
                        "a verdict (listed in also-fails)"
                    } else {
                        "PASS (scenarios are not listed in also-fails)"
                    };
                    off(&item, expected, seen_text(verdict));
                }
            }
        }
    }
    problems
}

/// The mutants in `solutions/mutants/`, by name, with their headers.
pub fn read_mutants(root: &Path) -> Result<Vec<(String, MutantInfo, String)>, String> {
    let dir = root.join(MUTANTS_DIR);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rs"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|file| {
            let path = dir.join(&file);
            let text = fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let (info, body) =
                skeleton::parse_mutant(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = file.trim_end_matches(".rs").to_string();
            Ok((name, info, body))
        })
        .collect()
}

/// The rows of the matrix and, unless `separate`, the zoo file they use.
pub fn matrix_rows(root: &Path, args: &ValidateArgs) -> Result<(Vec<Row>, Option<String>), String> {
    let reference = variant::read_reference(root)?;
    let regions =
        skeleton::parse_regions(&reference).map_err(|e| format!("solutions/raft.rs: {e}"))?;
    let indent_of = |step: Step| {
        regions
            .iter()
            .find(|r| r.step == step)
            .map(|r| r.indent.clone())
            .unwrap_or_default()
    };
    let mut rows = vec![
        Row {
            label: "reference".to_string(),
            expect: Expect::Reference,
            build: Build::Variant(Variant::Reference),
            seeds: args.seeds,
        },
        Row {
            label: "skeleton".to_string(),
            expect: Expect::Skeleton,
            build: Build::Variant(Variant::Skeleton),
            seeds: args.seeds,
        },
    ];
    let mut members = Vec::new();
    for step in Step::ALL {
        let key = format!("minus-{}", step.short_name().to_lowercase());
        members.push(ZooMember {
            key: key.clone(),
            bodies: vec![(step, todo_body(&indent_of(step), step))],
        });
        rows.push(Row {
            label: key.clone(),
            expect: Expect::Minus(step),
            build: if args.separate {
                Build::Variant(Variant::MinusStep(step))
            } else {
                Build::Zoo(key)
            },
            seeds: args.mutant_seeds,
        });
    }
    if !args.quick {
        let mutants = read_mutants(root)?;
        for wanted in &args.mutants {
            if !mutants.iter().any(|(name, _, _)| name == wanted) {
                return Err(format!("--mutant {wanted}: no {MUTANTS_DIR}/{wanted}.rs"));
            }
        }
        for (name, info, body) in mutants {
            if !args.mutants.is_empty() && !args.mutants.contains(&name) {
                continue;
            }
            let key = format!("mutant-{name}");
            members.push(ZooMember {
                key: key.clone(),
                bodies: vec![(info.step, body)],
            });
            rows.push(Row {
                label: key.clone(),
                expect: Expect::Mutant(info),
                build: if args.separate {
                    Build::Variant(Variant::Mutant(PathBuf::from(&name)))
                } else {
                    Build::Zoo(key)
                },
                seeds: args.mutant_seeds,
            });
        }
    }
    let zoo = if args.separate {
        None
    } else {
        Some(make_zoo(&reference, &members)?)
    };
    Ok((rows, zoo))
}

/// The file the zoo build compiles, under `target/raftlab/`.
fn zoo_path(root: &Path) -> PathBuf {
    root.join("target")
        .join("raftlab")
        .join("zoo")
        .join("raft.rs")
}

/// Builds and grades every row, then prints the matrix. Returns whether
/// every cell was as expected.
pub fn run_matrix(root: &Path, args: &ValidateArgs) -> Result<bool, String> {
    let started = Instant::now();
    let (rows, zoo) = matrix_rows(root, args)?;
    let zoo_variant = match &zoo {
        Some(text) => {
            let path = zoo_path(root);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                fs::write(&path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            Some(Variant::File(path))
        }
        None => None,
    };
    // What each row runs: its own build, or the zoo's (built once, by the
    // first row that needs it).
    let zoo_built: Mutex<Option<(Result<PathBuf, String>, Duration)>> = Mutex::new(None);
    let total = rows.len();
    let finished = Mutex::new(0usize);
    println!(
        "matrix: {} variants ({}), seeds: {} for the reference and skeleton, {} for the others",
        total,
        if args.separate {
            "each built on its own".to_string()
        } else {
            "minus-step variants and mutants in one zoo build".to_string()
        },
        args.seeds,
        args.mutant_seeds
    );
    let outcomes = grade::pipeline(
        &rows,
        args.jobs,
        |row| -> (Result<(PathBuf, PathBuf), String>, Duration) {
            let started = Instant::now();
            let (variant, key) = match &row.build {
                Build::Variant(variant) => (variant.clone(), None),
                Build::Zoo(key) => (
                    zoo_variant
                        .clone()
                        .expect("zoo rows exist only with a zoo file"),
                    Some(key),
                ),
            };
            let binary = if key.is_some() {
                let mut built = zoo_built.lock().unwrap_or_else(|p| p.into_inner());
                if built.is_none() {
                    let zoo_started = Instant::now();
                    let result = runner::build_variant(root, &variant);
                    if let Err(e) = &result {
                        println!("  the zoo does not build:\n{e}");
                    }
                    let time = zoo_started.elapsed();
                    println!(
                        "  built the zoo ({} variants) in {}",
                        total - 2,
                        runner::format_duration(time)
                    );
                    *built = Some((result, time));
                }
                built.as_ref().map(|(r, _)| r.clone()).expect("just built")
            } else {
                let result = runner::build_variant(root, &variant);
                if let Err(e) = &result {
                    println!("  {} does not build:\n{e}", row.label);
                }
                result
            };
            let dir = variant::variant_dir(root, &variant);
            (binary.map(|b| (b, dir)), started.elapsed())
        },
        |row, (built, build_time)| {
            let grade_started = Instant::now();
            let report = built.and_then(|(binary, dir)| {
                let mutant = matches!(row.expect, Expect::Mutant(_));
                let run = GraderRun {
                    seeds: row.seeds,
                    // Mutants may hang on purpose: give up on them sooner
                    // (a step case of the reference takes milliseconds, a
                    // scenario over 20 seeds well under a second), and let
                    // two hanging cases wait at once.
                    jobs: if mutant { 2 } else { 1 },
                    timeout_scale: if mutant { MUTANT_TIMEOUT_SCALE } else { 1.0 },
                    time_limit: Duration::from_secs(15 * 60),
                    ..GraderRun::default()
                };
                let output = match &row.build {
                    Build::Zoo(key) => run_zoo(&binary, &dir, &run, key),
                    Build::Variant(_) => grade::run_grader(&binary, &dir, &run),
                }
                .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
                interpret(&output)
            });
            let problems = match &report {
                Ok(report) => check_row(&row.label, &row.expect, report),
                // The whole message (a compiler's) was printed once above.
                Err(e) => vec![format!(
                    "{}: no verdicts: {}",
                    row.label,
                    e.lines().next().unwrap_or_default()
                )],
            };
            RowOutcome {
                build_time,
                grade_time: grade_started.elapsed(),
                report,
                problems,
            }
        },
        |index, outcome| {
            let mut finished = finished.lock().unwrap_or_else(|p| p.into_inner());
            *finished += 1;
            println!(
                "  [{}/{total}] {:<40} build {:>6}  grade {:>6}  {}",
                *finished,
                rows[index].label,
                runner::format_duration(outcome.build_time),
                runner::format_duration(outcome.grade_time),
                if outcome.problems.is_empty() {
                    "ok".to_string()
                } else {
                    format!("{} cell(s) off", outcome.problems.len())
                }
            );
        },
    );
    print!("{}", matrix_table(&rows, &outcomes));
    let problems: Vec<&String> = outcomes.iter().flat_map(|o| &o.problems).collect();
    for problem in &problems {
        println!("OFF {problem}");
    }
    let build_total: Duration = outcomes.iter().map(|o| o.build_time).sum();
    let grade_total: Duration = outcomes.iter().map(|o| o.grade_time).sum();
    println!(
        "matrix: {} variants, {} cells off; building {}, grading {} (summed over workers), {} in all",
        rows.len(),
        problems.len(),
        runner::format_duration(build_total),
        runner::format_duration(grade_total),
        runner::format_duration(started.elapsed())
    );
    Ok(problems.is_empty())
}

/// Runs the zoo build as the variant `key`.
fn run_zoo(binary: &Path, dir: &Path, run: &GraderRun, key: &str) -> std::io::Result<RunOutput> {
    // The variable goes to this grader only (and, inherited, to the case
    // processes it starts), never to this process.
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .arg("test")
        .arg("--machine")
        .args(["--seeds", &run.seeds.to_string()])
        .args(["--jobs", &run.jobs.max(1).to_string()])
        .args(["--timeout-scale", &run.timeout_scale.to_string()])
        .env("NO_COLOR", "1")
        .env(ZOO_ENV, key);
    grade::run_with_limit(command, run.time_limit)
}

/// The verdicts of a grading run, or why it has none.
fn interpret(output: &RunOutput) -> Result<MachineReport, String> {
    let report = MachineReport::parse(&output.stdout);
    if output.timed_out {
        return Err(format!(
            "the grader did not finish in {}",
            runner::format_duration(output.elapsed)
        ));
    }
    if !report.is_complete() {
        let tail: Vec<&str> = output.stderr.lines().rev().take(5).collect();
        return Err(format!(
            "the grader ended (status {}) without a verdict for every step: {}",
            output.code.map_or("none".to_string(), |c| c.to_string()),
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    Ok(report)
}

/// The matrix as a table: one row per variant, a column per step and part;
/// a cell that is off ends with `*`.
pub fn matrix_table(rows: &[Row], outcomes: &[RowOutcome]) -> String {
    let label_width = rows.iter().map(|r| r.label.len()).max().unwrap_or(7).max(7) + 1;
    let mut out = String::new();
    let _ = write!(out, "{:<label_width$}", "variant");
    for step in Step::ALL {
        let _ = write!(out, " {:<5}", step.short_name());
    }
    for part in Part::ALL {
        let _ = write!(out, " {:<5}", &part.slug()[..4]);
    }
    let _ = writeln!(out, "  build  grade");
    for (row, outcome) in rows.iter().zip(outcomes) {
        let _ = write!(out, "{:<label_width$}", row.label);
        match &outcome.report {
            Err(_) => {
                let _ = write!(out, " {:<71}", "(no verdicts; see below)");
            }
            Ok(report) => {
                let off = |item: &str| {
                    outcome
                        .problems
                        .iter()
                        .any(|p| p.starts_with(&format!("{}: {item}:", row.label)))
                };
                for step in Step::ALL {
                    let cell = report
                        .steps
                        .get(&step)
                        .map_or("-".to_string(), |v| grade::short_verdict(*v));
                    let mark = if off(step.name()) { "*" } else { "" };
                    let _ = write!(out, " {:<5}", format!("{cell}{mark}"));
                }
                for part in Part::ALL {
                    let cell = report
                        .scenarios
                        .get(&part)
                        .map_or("-".to_string(), |v| grade::short_verdict(*v));
                    let mark = if off(&format!("{} scenarios", part.slug())) {
                        "*"
                    } else {
                        ""
                    };
                    let _ = write!(out, " {:<5}", format!("{cell}{mark}"));
                }
            }
        }
        let _ = writeln!(
            out,
            "  {:>5}  {:>5}",
            runner::format_duration(outcome.build_time),
            runner::format_duration(outcome.grade_time)
        );
    }
    out
}

// ---------------------------------------------------------------------------
// The other checks.

/// How a check ended.
struct CheckResult {
    passed: bool,
    /// A few lines for the reader; the full log is in a file.
    summary: String,
}

fn log_dir(root: &Path) -> PathBuf {
    root.join("target").join("raftlab").join("validate")
}

/// Runs `program args` in `dir`, saving its output to the check's log, and
/// passes when it exits 0.
fn command_check(
    root: &Path,
    name: &str,
    dir: &Path,
    target_dir: Option<&Path>,
    commands: &[&[&str]],
) -> CheckResult {
    let mut log = String::new();
    for command_line in commands {
        let Some((program, args)) = command_line.split_first() else {
            continue;
        };
        let mut command = Command::new(program);
        command.args(args).current_dir(dir);
        if let Some(target) = target_dir {
            command.env("CARGO_TARGET_DIR", target);
        }
        let _ = writeln!(log, "$ {}", command_line.join(" "));
        let output = grade::run_with_limit(command, Duration::from_secs(40 * 60));
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                return CheckResult {
                    passed: false,
                    summary: format!("cannot run {program}: {e}"),
                };
            }
        };
        log.push_str(&output.stdout);
        log.push_str(&output.stderr);
        if output.timed_out || output.code != Some(0) {
            let path = save_log(root, name, &log);
            let tail: Vec<&str> = log.lines().rev().take(25).collect();
            return CheckResult {
                passed: false,
                summary: format!(
                    "`{}` {} (log: {})\n{}",
                    command_line.join(" "),
                    if output.timed_out {
                        "timed out".to_string()
                    } else {
                        format!(
                            "exited with {}",
                            output
                                .code
                                .map_or("a signal".to_string(), |c| c.to_string())
                        )
                    },
                    path.display(),
                    tail.into_iter()
                        .rev()
                        .map(|l| format!("    {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            };
        }
    }
    let path = save_log(root, name, &log);
    CheckResult {
        passed: true,
        summary: format!("log: {}", path.display()),
    }
}

fn save_log(root: &Path, name: &str, log: &str) -> PathBuf {
    let dir = log_dir(root);
    let _ = fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}.log"));
    let _ = fs::write(&path, log);
    path
}

fn nextest_available() -> bool {
    Command::new("cargo")
        .args(["nextest", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `cargo nextest run ARGS` when nextest is installed, else `cargo test ARGS`.
fn test_command<'a>(nextest: bool, args: &[&'a str]) -> Vec<&'a str> {
    let mut command = if nextest {
        vec!["cargo", "nextest", "run", "--no-fail-fast"]
    } else {
        vec!["cargo", "test", "--no-fail-fast"]
    };
    command.extend_from_slice(args);
    command
}

fn run_check(root: &Path, name: &str, args: &ValidateArgs) -> Option<CheckResult> {
    let nextest = nextest_available();
    let target = variant::target_dir(root);
    let reference_dir = || variant::prepare(root, &Variant::Reference);
    let result = match name {
        "fmt" => command_check(
            root,
            name,
            root,
            None,
            &[&["cargo", "fmt", "--all", "--check"]],
        ),
        "clippy-skeleton" => command_check(root, name, root, None, &[CLIPPY]),
        "clippy-reference" => match reference_dir() {
            Err(e) => failed(e),
            Ok(dir) => command_check(root, name, &dir, Some(&target), &[CLIPPY]),
        },
        "skeleton-check" => skeleton_check(root),
        "unit-tests-skeleton" => command_check(
            root,
            name,
            root,
            None,
            &[
                &test_command(nextest, &["-p", "raft", "--lib"]),
                &test_command(nextest, &["-p", "grader"]),
            ],
        ),
        "raft-tests-reference" => match reference_dir() {
            Err(e) => failed(e),
            Ok(dir) => command_check(
                root,
                name,
                &dir,
                Some(&target),
                &[&test_command(nextest, &["-p", "raft"])],
            ),
        },
        "kv-tests-reference" => {
            let has_kv = fs::read_to_string(root.join("Cargo.toml"))
                .ok()
                .and_then(|m| variant::workspace_members(&m).ok())
                .is_some_and(|members| members.iter().any(|m| m == "kv" || m.ends_with("/kv")));
            if !has_kv {
                return None;
            }
            match reference_dir() {
                Err(e) => failed(e),
                Ok(dir) => command_check(
                    root,
                    name,
                    &dir,
                    Some(&target),
                    &[&test_command(nextest, &["-p", "kv"])],
                ),
            }
        }
        "matrix" => match run_matrix(root, args) {
            Ok(true) => CheckResult {
                passed: true,
                summary: "every cell as expected".to_string(),
            },
            Ok(false) => failed("some cells are off (OFF lines above)".to_string()),
            Err(e) => failed(e),
        },
        "package" => package_check(root),
        "docs" => docs_check(root),
        "grader-tests-reference" => match reference_dir() {
            Err(e) => failed(e),
            // The simulator's own tests (every scenario over 100 seeds,
            // determinism, the checker on fabricated histories) and the
            // suites' reference tests need a working Raft. The instructor
            // tests need solutions/, which a variant has not: they run on
            // the skeleton tree, in unit-tests-skeleton.
            Ok(dir) => command_check(
                root,
                name,
                &dir,
                Some(&target),
                &[&test_command(
                    nextest,
                    &[
                        "--release",
                        "-p",
                        "grader",
                        "--lib",
                        "--test",
                        "sim_scenarios",
                        "--test",
                        "sim_checker",
                        "--test",
                        "replication_steps",
                        "--test",
                        "reference_snapshots",
                    ],
                )],
            ),
        },
        "timeline-browser" => command_check(
            root,
            name,
            root,
            None,
            &[&[
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
        ),
        other => failed(format!("unknown check {other}")),
    };
    Some(result)
}

/// Every `raftlab` command in the README and the handouts names a real
/// subcommand with real flags (see [`crate::docs`]).
fn docs_check(root: &Path) -> CheckResult {
    let commands = match crate::docs::raftlab_commands(root) {
        Ok(commands) => commands,
        Err(e) => return failed(e),
    };
    let program = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return failed(format!("cannot find this program: {e}")),
    };
    let mut usages: std::collections::BTreeMap<String, Option<String>> = Default::default();
    let mut usage = |sub: &str| {
        usages
            .entry(sub.to_string())
            .or_insert_with(|| {
                std::process::Command::new(&program)
                    .args(["help", sub])
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            })
            .clone()
    };
    let mut problems = Vec::new();
    for (doc, args) in &commands {
        if let Err(e) = crate::docs::check_invocation(args, &mut usage) {
            problems.push(format!(
                "{}:{}: `{}`: {e}",
                doc.file.display(),
                doc.line,
                doc.text
            ));
        }
    }
    if problems.is_empty() {
        CheckResult {
            passed: true,
            summary: format!(
                "{} documented raftlab commands match the tool",
                commands.len()
            ),
        }
    } else {
        failed(problems.join("\n"))
    }
}

fn failed(summary: String) -> CheckResult {
    CheckResult {
        passed: false,
        summary,
    }
}

fn skeleton_check(root: &Path) -> CheckResult {
    let result = variant::read_reference(root).and_then(|reference| {
        let generated = skeleton::make_skeleton(&reference)?;
        let committed = fs::read_to_string(root.join(variant::RAFT_RS))
            .map_err(|e| format!("cannot read {}: {e}", variant::RAFT_RS))?;
        match skeleton::first_difference(&generated, &committed) {
            None => Ok("raft/src/raft.rs is the skeleton of solutions/raft.rs".to_string()),
            Some((line, expected, found)) => Err(format!(
                "raft/src/raft.rs is stale at line {line}: expected {expected:?}, found {found:?}; \
                 run `raftlab skeleton`"
            )),
        }
    });
    match result {
        Ok(summary) => CheckResult {
            passed: true,
            summary,
        },
        Err(e) => failed(e),
    }
}

/// Builds the package in a scratch directory, checks its content, and runs
/// its `./raftlab_test.sh`, which must grade every step FAIL or BLOCKED.
fn package_check(root: &Path) -> CheckResult {
    let out = root
        .join("target")
        .join("raftlab")
        .join("package-check")
        .join("raftlab");
    let mut notes = Vec::new();
    let files = match package::build_package(root, &out) {
        Ok(files) => files,
        Err(e) => return failed(format!("cannot build the package: {e}")),
    };
    notes.push(format!("{files} files in {}", out.display()));
    let problems = match package::check_package(root, &out) {
        Ok(problems) => problems,
        Err(e) => return failed(format!("cannot check the package: {e}")),
    };
    // The package's own build shares the variants' target directory (its
    // dependencies are built already); take the variants' build lock so no
    // other build replaces its binary meanwhile.
    let bin_dir = root.join("target").join("raftlab").join("bin");
    let _ = fs::create_dir_all(&bin_dir);
    let lock = fs::File::create(bin_dir.join(".build.lock"));
    if let Ok(lock) = &lock {
        let _ = lock.lock();
    }
    let mut command = Command::new("sh");
    command
        .arg("./raftlab_test.sh")
        .args(["--machine", "--seeds", "3", "--jobs", "2"])
        .current_dir(&out)
        .env("CARGO_TARGET_DIR", variant::target_dir(root))
        .env("NO_COLOR", "1");
    let output = grade::run_with_limit(command, Duration::from_secs(30 * 60));
    drop(lock);
    let mut problems = problems;
    match output {
        Err(e) => problems.push(format!("cannot run the package's raftlab_test.sh: {e}")),
        Ok(output) => {
            save_log(
                root,
                "package",
                &format!("{}{}", output.stdout, output.stderr),
            );
            match interpret(&output) {
                Err(e) => problems.push(format!("the package's raftlab_test.sh: {e}")),
                Ok(report) => problems.extend(check_row("package", &Expect::Skeleton, &report)),
            }
        }
    }
    if problems.is_empty() {
        notes.push(
            "no answer line, no marker, no solutions path; every step FAIL or BLOCKED".to_string(),
        );
        CheckResult {
            passed: true,
            summary: notes.join("; "),
        }
    } else {
        failed(problems.join("\n    "))
    }
}

/// `raftlab validate`: runs the checks and prints the summary line.
pub fn validate_main(args: &[OsString]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("raftlab validate: {e}\n\nRun `raftlab validate --help` for usage.");
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let root = match variant::find_root() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("raftlab validate: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let wanted: BTreeSet<&str> = args.only.iter().map(String::as_str).collect();
    let (mut passed, mut failed_count) = (0, 0);
    for name in CHECKS {
        if !wanted.is_empty() && !wanted.contains(name) {
            continue;
        }
        println!("==> {name}");
        let check_started = Instant::now();
        let Some(result) = run_check(&root, name, &args) else {
            println!("SKIP {name} (nothing to check here)");
            continue;
        };
        let time = runner::format_duration(check_started.elapsed());
        if result.passed {
            passed += 1;
            println!("PASS {name} ({time}): {}", result.summary);
        } else {
            failed_count += 1;
            println!("FAIL {name} ({time}): {}", result.summary);
        }
    }
    println!("total time {}", runner::format_duration(started.elapsed()));
    println!("validate: {passed} passed, {failed_count} failed");
    if failed_count == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/raft.rs");

    fn verdicts(steps: [Verdict; 10], scenarios: [Verdict; 2]) -> MachineReport {
        MachineReport {
            steps: Step::ALL.into_iter().zip(steps).collect(),
            scenarios: Part::ALL.into_iter().zip(scenarios).collect(),
            ..MachineReport::default()
        }
    }

    #[test]
    fn zoo_keeps_everything_outside_regions_and_adds_one_arm_per_change() {
        let members = vec![
            ZooMember {
                key: "minus-e1".to_string(),
                bodies: vec![(Step::Election1, todo_body("        ", Step::Election1))],
            },
            ZooMember {
                key: "mutant-x".to_string(),
                bodies: vec![(
                    Step::Election1,
                    "        self.election_elapsed += 2;\n".to_string(),
                )],
            },
        ];
        let zoo = make_zoo(FIXTURE, &members).expect("well formed");
        assert!(!zoo.contains("//>>>") && !zoo.contains("//<<<"));
        assert_eq!(zoo.matches("match raftlab_zoo_variant() {").count(), 10);
        assert!(zoo.contains(
            "        match raftlab_zoo_variant() {\n            \"minus-e1\" => {\n        todo!(\"RaftLab Election Step1\");\n            }\n            \"mutant-x\" => {\n        self.election_elapsed += 2;\n            }\n            _ => {\n        self.election_elapsed += 1;\n            }\n        }\n"
        ), "{zoo}");
        assert!(zoo.contains("std::env::var(\"RAFTLAB_ZOO_VARIANT\")"));
        // Every line outside the regions is still there, in order.
        let stripped = skeleton::strip_markers(FIXTURE);
        let outside: Vec<&str> = stripped.lines().map(str::trim).collect();
        let mut zoo_lines = zoo.lines().map(str::trim);
        for line in outside {
            assert!(zoo_lines.any(|l| l == line), "lost {line:?}");
        }
    }

    #[test]
    fn reference_and_skeleton_expectations() {
        let all_pass = verdicts([Verdict::Pass; 10], [Verdict::Pass; 2]);
        assert_eq!(
            check_row("reference", &Expect::Reference, &all_pass),
            Vec::<String>::new()
        );
        let problems = check_row("skeleton", &Expect::Skeleton, &all_pass);
        assert_eq!(problems.len(), 12, "{problems:?}");
        assert_eq!(
            problems[0],
            "skeleton: Election Step1: expected FAIL or BLOCKED, seen PASS"
        );
        let mut skeleton = verdicts([Verdict::Blocked(Step::Election1); 10], [Verdict::Fail; 2]);
        skeleton.steps.insert(Step::Election1, Verdict::Fail);
        assert!(check_row("skeleton", &Expect::Skeleton, &skeleton).is_empty());
        let mut missing = all_pass.clone();
        missing.steps.remove(&Step::Replication4);
        assert_eq!(
            check_row("reference", &Expect::Reference, &missing),
            vec!["reference: Replication Step4: expected PASS, seen nothing".to_string()]
        );
    }

    #[test]
    fn minus_step_allows_only_its_own_blocks() {
        let mut report = verdicts(
            [Verdict::Pass; 10],
            [Verdict::Fail, Verdict::Blocked(Step::Election3)],
        );
        report.steps.insert(Step::Election3, Verdict::Fail);
        report
            .steps
            .insert(Step::Election4, Verdict::Blocked(Step::Election3));
        assert!(check_row("minus-e3", &Expect::Minus(Step::Election3), &report).is_empty());
        report
            .steps
            .insert(Step::Election5, Verdict::Blocked(Step::Election2));
        report.steps.insert(Step::Election3, Verdict::Pass);
        assert_eq!(
            check_row("minus-e3", &Expect::Minus(Step::Election3), &report),
            vec![
                "minus-e3: Election Step3: expected FAIL (its todo!() is back), seen PASS".to_string(),
                "minus-e3: Election Step5: expected PASS or BLOCKED BY Election Step3, seen BLOCKED BY Election Step2".to_string(),
            ]
        );
    }

    #[test]
    fn mutants_fail_their_step_and_only_what_they_list() {
        let info = MutantInfo {
            description: "m".to_string(),
            step: Step::Election5,
            also_fails: vec![AlsoFails::Step(Step::Replication3)],
        };
        let mut report = verdicts([Verdict::Pass; 10], [Verdict::Pass; 2]);
        report.steps.insert(Step::Election5, Verdict::Timeout);
        report.steps.insert(Step::Replication3, Verdict::Fail);
        assert!(check_row("mutant-m", &Expect::Mutant(info.clone()), &report).is_empty());
        report.steps.insert(Step::Election5, Verdict::Pass);
        report.steps.insert(Step::Election6, Verdict::Fail);
        report.scenarios.insert(Part::Election, Verdict::Fail);
        assert_eq!(
            check_row("mutant-m", &Expect::Mutant(info), &report),
            vec![
                "mutant-m: Election Step5: expected FAIL or TIMEOUT (the mutant's own step must catch it), seen PASS".to_string(),
                "mutant-m: Election Step6: expected PASS (not listed in also-fails), seen FAIL".to_string(),
                "mutant-m: election scenarios: expected PASS (scenarios are not listed in also-fails), seen FAIL".to_string(),
            ]
        );
    }

    #[test]
    fn arguments() {
        let args = |list: &[&str]| parse_args(&list.iter().map(OsString::from).collect::<Vec<_>>());
        let parsed = args(&[
            "--quick",
            "--only",
            "fmt,matrix",
            "--only=package",
            "--mutant-seeds",
            "5",
        ])
        .expect("valid");
        assert!(parsed.quick);
        assert_eq!(parsed.only, vec!["fmt", "matrix", "package"]);
        assert_eq!(parsed.mutant_seeds, 5);
        assert!(
            args(&["--only", "lint"])
                .unwrap_err()
                .contains("unknown check \"lint\"")
        );
        assert!(args(&["--seeds", "0"]).unwrap_err().contains("at least 1"));
        assert!(args(&["--frobnicate"]).is_err());
    }
}
