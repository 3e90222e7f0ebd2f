//! The validation matrix: the grader graded on variants whose verdicts are
//! known in advance.
//!
//! | variant | expected |
//! |---|---|
//! | skeleton | every step TODO or BLOCKED; no scenario passes |
//! | reference | everything PASS |
//! | reference minus step k | step k TODO; every other step PASS or BLOCKED BY step k |
//! | prefix k: the first k steps' answers | steps 1..k PASS; no FAIL or TIMEOUT anywhere; a part's scenarios PASS once all its steps are in |
//! | each mutant of `solutions/mutants/` | its step FAIL or TIMEOUT; anything else fails only if its `also-fails:` says so |
//! | each alternative of `solutions/alternatives/` | everything PASS |
//!
//! Building a hundred variants one by one would take most of the time, so
//! every variant but the skeleton and the reference is built into one
//! **zoo** host (see [`make_zoo`]): each region of the reference becomes a
//! `match` on an environment variable, with one arm per variant that
//! changes that region. The one build then plays any of them; it behaves
//! exactly like the variant it plays, apart from reading one environment
//! variable once. The judge grades each row in this process.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use grader::cli::test::{Run, plan, run_all};
use grader::exec::judge::{Direct, RunOptions};
use grader::model::{Part, Step, Track};
use grader::report::{Graded, Report, ReportSettings, Verdict};

use crate::build::{self, Profile};
use crate::skeleton::{self, AlsoFails, MutantInfo};
use crate::sources::{Generated, Reference};
use crate::variant::{ALTERNATIVES_DIR, MUTANTS_DIR, Variant};

/// The environment variable that tells a zoo host which variant to play.
pub const ZOO_ENV: &str = "RAFTLAB_ZOO_VARIANT";

/// The wall-clock guards of a mutant's runs, relative to the usual ones:
/// some mutants hang on purpose.
pub const MUTANT_TIMEOUT_SCALE: f64 = 0.1;

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
/// and the reference's answer as the default arm.
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
         /// variants into one file (see the instructor crate's `make_zoo`).\n\
         fn raftlab_zoo_variant() -> &'static str {{\n    \
         static CHOSEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();\n    \
         CHOSEN.get_or_init(|| std::env::var({ZOO_ENV:?}).unwrap_or_default())\n\
         }}\n"
    );
    Ok(out)
}

/// The zoo of every reference file: each file's regions turned into
/// matches (a file with no region is copied as is).
pub fn make_zoo_files(reference: &Reference, members: &[ZooMember]) -> Result<Generated, String> {
    reference
        .files
        .iter()
        .map(|(source, text, regions)| {
            if regions.is_empty() {
                Ok((source.generated, text.clone()))
            } else {
                make_zoo(text, members)
                    .map(|t| (source.generated, t))
                    .map_err(|e| format!("{}: {e}", source.reference))
            }
        })
        .collect()
}

/// The body that stands for a step's answer when it is not done.
fn todo_body(region_indent: &str, step: Step) -> String {
    format!("{region_indent}{};\n", step.todo_text())
}

/// What a matrix row must show.
#[derive(Clone, Debug)]
pub enum Expect {
    Skeleton,
    Reference,
    Minus(Step),
    /// The track's first `k` steps done.
    Prefix(usize),
    /// A mutant (its own step must catch it) or an alternative (all pass).
    Zoo(MutantInfo),
}

/// One row of the matrix.
#[derive(Clone, Debug)]
pub struct Row {
    pub label: String,
    /// The track the row grades: its steps and parts.
    pub track: Track,
    pub expect: Expect,
    /// `None`: its own build (skeleton, reference); `Some(key)`: the zoo,
    /// playing `key`.
    pub zoo_key: Option<String>,
    pub seeds: u64,
}

/// The verdicts of a row, by item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdicts {
    pub steps: BTreeMap<Step, Verdict>,
    pub scenarios: BTreeMap<Part, Verdict>,
    pub search: BTreeMap<Part, Verdict>,
}

impl Verdicts {
    pub fn of(report: &Report) -> Verdicts {
        let mut v = Verdicts::default();
        for item in &report.items {
            match item.item.graded {
                Graded::Step(step) => {
                    v.steps.insert(step, item.verdict);
                }
                Graded::Scenarios(part) => {
                    v.scenarios.insert(part, item.verdict);
                }
                Graded::Search(part) => {
                    v.search.insert(part, item.verdict);
                }
                Graded::Hidden(_) => {}
            }
        }
        v
    }
}

impl Verdicts {
    /// Reads the `RAFTLAB STEP E3 FAIL` lines of `raftlab test --machine`,
    /// as a grader in another process (the student package's) prints them.
    pub fn parse_machine(text: &str) -> Verdicts {
        let mut v = Verdicts::default();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let verdict = match words.get(3..) {
                Some(["PASS"]) => Verdict::Pass,
                Some(["FAIL"]) => Verdict::Fail,
                Some(["TIMEOUT"]) => Verdict::Timeout,
                Some(["TODO"]) => Verdict::Todo,
                Some(["NOCASES"]) => Verdict::NoCases,
                Some(["BLOCKED", step]) => match Step::parse(step) {
                    Ok(s) => Verdict::Blocked(s),
                    Err(_) => continue,
                },
                _ => continue,
            };
            match words[..3] {
                ["RAFTLAB", "STEP", step] => {
                    if let Ok(s) = Step::parse(step) {
                        v.steps.insert(s, verdict);
                    }
                }
                ["RAFTLAB", "SCENARIO", part] => {
                    if let Ok(p) = Part::parse(part) {
                        v.scenarios.insert(p, verdict);
                    }
                }
                ["RAFTLAB", "SEARCH", part] => {
                    if let Ok(p) = Part::parse(part) {
                        v.search.insert(p, verdict);
                    }
                }
                _ => {}
            }
        }
        v
    }
}

fn seen_text(verdict: Option<&Verdict>) -> String {
    verdict.map_or("nothing".to_string(), |v| v.text())
}

/// Every cell of `verdicts` that `expect` does not allow, as `<label>:
/// <item>: expected ..., seen ...` (the core track's items).
pub fn check_row(label: &str, expect: &Expect, verdicts: &Verdicts) -> Vec<String> {
    check_row_in(Track::Core, label, expect, verdicts)
}

/// [`check_row`] over the items of `track`.
pub fn check_row_in(
    track: Track,
    label: &str,
    expect: &Expect,
    verdicts: &Verdicts,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut off = |item: &str, expected: &str, seen: String| {
        problems.push(format!("{label}: {item}: expected {expected}, seen {seen}"));
    };
    let not_done = |v: Option<&Verdict>| matches!(v, Some(Verdict::Todo | Verdict::Blocked(_)));
    let steps = track.steps();
    for &step in steps {
        let verdict = verdicts.steps.get(&step);
        let item = step.name();
        match expect {
            Expect::Skeleton => {
                if !not_done(verdict) {
                    off(item, "TODO or BLOCKED", seen_text(verdict));
                }
            }
            Expect::Reference => {
                if verdict != Some(&Verdict::Pass) {
                    off(item, "PASS", seen_text(verdict));
                }
            }
            Expect::Minus(missing) if step == *missing => {
                if verdict != Some(&Verdict::Todo) {
                    off(item, "TODO (its todo!() is back)", seen_text(verdict));
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
            Expect::Prefix(k) => {
                let done = steps
                    .iter()
                    .position(|s| *s == step)
                    .is_some_and(|i| i < *k);
                if done && verdict != Some(&Verdict::Pass) {
                    off(
                        item,
                        "PASS (a step done in the guide's order passes)",
                        seen_text(verdict),
                    );
                } else if !done && !not_done(verdict) {
                    off(
                        item,
                        "TODO or BLOCKED (a step not done yet)",
                        seen_text(verdict),
                    );
                }
            }
            Expect::Zoo(info) if info.verdict == skeleton::Verdict::Alternative => {
                if verdict != Some(&Verdict::Pass) {
                    off(
                        item,
                        "PASS (a correct answer the paper allows)",
                        seen_text(verdict),
                    );
                }
            }
            Expect::Zoo(info) if step == info.step => {
                if !matches!(verdict, Some(Verdict::Fail | Verdict::Timeout)) {
                    off(
                        item,
                        "FAIL or TIMEOUT (the mutant's own step must catch it)",
                        seen_text(verdict),
                    );
                }
            }
            Expect::Zoo(info) => {
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
    let scenarios = Part::of_track(track)
        .iter()
        .map(|&p| (p, "scenarios", &verdicts.scenarios, &AlsoFails::Scenarios));
    let searches = Part::searched(track)
        .iter()
        .map(|&p| (p, "search", &verdicts.search, &AlsoFails::Search));
    for (part, what, map, also) in scenarios.chain(searches) {
        let verdict = map.get(&part);
        let item = format!("{} {what}", part.slug());
        match expect {
            Expect::Skeleton => {
                if !not_done(verdict) {
                    off(&item, "BLOCKED", seen_text(verdict));
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
            Expect::Prefix(k) => {
                // A part's scenarios run every step of the part and of the
                // parts before it.
                let needs = steps
                    .iter()
                    .rposition(|s| s.part() == part)
                    .map_or(0, |i| i + 1);
                if *k >= needs && verdict != Some(&Verdict::Pass) {
                    off(
                        &item,
                        "PASS (all the steps it needs are done)",
                        seen_text(verdict),
                    );
                } else if *k < needs && !not_done(verdict) {
                    off(
                        &item,
                        "BLOCKED (a step it needs is not done)",
                        seen_text(verdict),
                    );
                }
            }
            Expect::Zoo(info) if info.verdict == skeleton::Verdict::Alternative => {
                if verdict != Some(&Verdict::Pass) {
                    off(
                        &item,
                        "PASS (a correct answer the paper allows)",
                        seen_text(verdict),
                    );
                }
            }
            Expect::Zoo(info) => {
                let listed = info.also_fails.contains(also);
                let ok = verdict == Some(&Verdict::Pass)
                    || (listed && verdict.is_some_and(|v| *v != Verdict::NoCases));
                if !ok {
                    let expected = if listed {
                        "a verdict (listed in also-fails)".to_string()
                    } else {
                        format!("PASS ({what} is not listed in also-fails)")
                    };
                    off(&item, &expected, seen_text(verdict));
                }
            }
        }
    }
    problems
}

/// The files of `dir` (`solutions/mutants/`, `solutions/alternatives/`),
/// by name, with their headers and bodies.
pub fn read_zoo_dir(root: &Path, dir: &str) -> Result<Vec<(String, MutantInfo, String)>, String> {
    let path = root.join(dir);
    let Ok(entries) = fs::read_dir(&path) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rs"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|file| {
            let p = path.join(&file);
            let text =
                fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let (info, body) =
                skeleton::parse_mutant(&text).map_err(|e| format!("{}: {e}", p.display()))?;
            let want = if dir == MUTANTS_DIR {
                skeleton::Verdict::Mutant
            } else {
                skeleton::Verdict::Alternative
            };
            if info.verdict != want {
                return Err(format!(
                    "{}: a file in {dir}/ must be {}",
                    p.display(),
                    if want == skeleton::Verdict::Mutant {
                        "a `//! mutant:`"
                    } else {
                        "an `//! alternative:`"
                    }
                ));
            }
            Ok((file.trim_end_matches(".rs").to_string(), info, body))
        })
        .collect()
}

/// What rows to run.
#[derive(Clone, Debug)]
pub struct MatrixArgs {
    /// Only these mutants and alternatives (all when empty).
    pub only: Vec<String>,
    /// Skip mutants and alternatives.
    pub quick: bool,
    pub seeds: u64,
    pub zoo_seeds: u64,
    pub jobs: usize,
}

/// The rows of the matrix and the zoo files they use.
pub fn matrix_rows(root: &Path, args: &MatrixArgs) -> Result<(Vec<Row>, Generated), String> {
    let reference = Reference::read(root)?;
    let indent_of = |step: Step| {
        reference
            .region(step)
            .map(|(_, r)| r.indent.clone())
            .unwrap_or_default()
    };
    let tracks: Vec<Track> = if reference.has_deep() {
        Track::ALL.to_vec()
    } else {
        vec![Track::Core]
    };
    let mut rows = Vec::new();
    let mut members = Vec::new();
    for &track in &tracks {
        let tag = |label: &str| match track {
            Track::Core => label.to_string(),
            Track::Deep => format!("deep-{label}"),
        };
        rows.push(Row {
            label: tag("reference"),
            track,
            expect: Expect::Reference,
            zoo_key: None,
            seeds: args.seeds,
        });
        let steps = track.steps();
        // The skeleton of the core track is built as itself; the deep
        // track's is the zoo's prefix 0.
        let mut zoo_row = |key: String, expect: Expect, bodies: Vec<(Step, String)>| {
            members.push(ZooMember {
                key: key.clone(),
                bodies,
            });
            rows.push(Row {
                label: key.clone(),
                track,
                expect,
                zoo_key: Some(key),
                seeds: args.zoo_seeds,
            });
        };
        match track {
            Track::Core => {}
            Track::Deep => zoo_row(
                "deep-skeleton".to_string(),
                Expect::Skeleton,
                steps
                    .iter()
                    .map(|&s| (s, todo_body(&indent_of(s), s)))
                    .collect(),
            ),
        }
        for &step in steps {
            zoo_row(
                format!("minus-{}", step.short_name().to_lowercase()),
                Expect::Minus(step),
                vec![(step, todo_body(&indent_of(step), step))],
            );
        }
        for k in 1..steps.len() {
            let bodies = steps[k..]
                .iter()
                .map(|&s| (s, todo_body(&indent_of(s), s)))
                .collect();
            zoo_row(tag(&format!("prefix-{k}")), Expect::Prefix(k), bodies);
        }
    }
    // The core skeleton row goes second, as it always has.
    rows.insert(
        1,
        Row {
            label: "skeleton".to_string(),
            track: Track::Core,
            expect: Expect::Skeleton,
            zoo_key: None,
            seeds: args.seeds,
        },
    );
    if !args.quick {
        let mut zoo = read_zoo_dir(root, MUTANTS_DIR)?;
        zoo.extend(read_zoo_dir(root, ALTERNATIVES_DIR)?);
        for wanted in &args.only {
            if !zoo.iter().any(|(name, _, _)| name == wanted) {
                return Err(format!(
                    "--mutant {wanted}: no {MUTANTS_DIR}/{wanted}.rs or {ALTERNATIVES_DIR}/{wanted}.rs"
                ));
            }
        }
        for (name, info, body) in zoo {
            if !args.only.is_empty() && !args.only.contains(&name) {
                continue;
            }
            if reference.region(info.step).is_none() {
                return Err(format!(
                    "{name}: the reference has no region for {}, its step",
                    info.step
                ));
            }
            let kind = match info.verdict {
                skeleton::Verdict::Mutant => "mutant",
                skeleton::Verdict::Alternative => "alternative",
            };
            let step = info.step;
            let key = format!("{kind}-{name}");
            members.push(ZooMember {
                key: key.clone(),
                bodies: vec![(step, body)],
            });
            rows.push(Row {
                label: key.clone(),
                track: step.track(),
                expect: Expect::Zoo(info),
                zoo_key: Some(key),
                seeds: args.zoo_seeds,
            });
        }
    }
    let zoo = make_zoo_files(&reference, &members)?;
    Ok((rows, zoo))
}

/// Where the zoo's files are written, under `target/raftlab/`.
fn zoo_dir(root: &Path) -> PathBuf {
    root.join("target/raftlab/zoo")
}

/// What grading one row came to.
#[derive(Clone, Debug)]
pub struct RowOutcome {
    pub time: Duration,
    pub verdicts: Option<Verdicts>,
    pub problems: Vec<String>,
}

/// Grades one row with `host`.
fn grade_row(host: &Path, row: &Row, jobs: usize) -> RowOutcome {
    let started = Instant::now();
    let mut launcher = Direct::new(host.to_path_buf());
    if let Some(key) = &row.zoo_key {
        launcher.env.push((ZOO_ENV.into(), key.into()));
    }
    let is_mutant = matches!(&row.expect, Expect::Zoo(i) if i.verdict == skeleton::Verdict::Mutant);
    let options = RunOptions {
        tracing: false,
        timeout_scale: if is_mutant { MUTANT_TIMEOUT_SCALE } else { 1.0 },
    };
    let args = grader::cli::args::TestArgs {
        seeds: Some(row.seeds),
        track: Some(row.track),
        ..Default::default()
    };
    let plan = match plan(&args) {
        Ok(p) => p,
        Err(e) => {
            return RowOutcome {
                time: started.elapsed(),
                verdicts: None,
                problems: vec![format!("{}: {e}", row.label)],
            };
        }
    };
    let runs: Vec<Run> = plan.runs;
    let results = run_all(&launcher, &runs, &options, jobs, &|_, _| {});
    let report = Report::new(
        plan.items,
        results,
        started.elapsed(),
        ReportSettings {
            command: "validate".into(),
            hints: false,
            notice: None,
        },
    );
    let verdicts = Verdicts::of(&report);
    let mut problems = check_row_in(row.track, &row.label, &row.expect, &verdicts);
    if !problems.is_empty() {
        // Say why, with the first line of each item that did not pass.
        for item in &report.items {
            if let Some(i) = item.decisive {
                let r = &report.results[i];
                problems.push(format!(
                    "  {}: {} {}: {}",
                    row.label,
                    report.item_name(item),
                    r.case.name,
                    r.message.lines().next().unwrap_or_default()
                ));
            }
        }
    }
    RowOutcome {
        time: started.elapsed(),
        verdicts: Some(verdicts),
        problems,
    }
}

fn short(v: &Verdict) -> String {
    match v {
        Verdict::Pass => "pass".into(),
        Verdict::Fail => "FAIL".into(),
        Verdict::Timeout => "TIME".into(),
        Verdict::Todo => "todo".into(),
        Verdict::Blocked(s) => format!("b{}", s.short_name()),
        Verdict::NoCases => "none".into(),
    }
}

/// The matrix as a table: one row per variant, a column per step and part;
/// a cell that is off ends with `*`.
pub fn matrix_table(rows: &[Row], outcomes: &[RowOutcome]) -> String {
    let label_width = rows.iter().map(|r| r.label.len()).max().unwrap_or(7).max(7) + 1;
    let mut out = String::new();
    let tracks: Vec<Track> = Track::ALL
        .into_iter()
        .filter(|t| rows.iter().any(|r| r.track == *t))
        .collect();
    let steps: Vec<Step> = tracks
        .iter()
        .flat_map(|t| t.steps().iter().copied())
        .collect();
    let parts: Vec<Part> = tracks
        .iter()
        .flat_map(|t| Part::of_track(*t).iter().copied())
        .collect();
    let searched: Vec<Part> = tracks
        .iter()
        .flat_map(|t| Part::searched(*t).iter().copied())
        .collect();
    let _ = write!(out, "{:<label_width$}", "variant");
    for step in &steps {
        let _ = write!(out, " {:<5}", step.short_name());
    }
    for part in &parts {
        let _ = write!(out, " {:<5}", &part.slug()[..4]);
    }
    for part in &searched {
        let _ = write!(out, " {:<5}", format!("S{}", &part.slug()[..3]));
    }
    let _ = writeln!(out, "  time");
    for (row, outcome) in rows.iter().zip(outcomes) {
        let _ = write!(out, "{:<label_width$}", row.label);
        let off = |item: &str| {
            outcome
                .problems
                .iter()
                .any(|p| p.starts_with(&format!("{}: {item}:", row.label)))
        };
        match &outcome.verdicts {
            None => {
                let width = (steps.len() + parts.len() + searched.len()) * 6 - 1;
                let _ = write!(out, " {:<width$}", "(no verdicts; see below)");
            }
            Some(v) => {
                for step in &steps {
                    let cell = v.steps.get(step).map_or("-".to_string(), short);
                    let mark = if off(step.name()) { "*" } else { "" };
                    let _ = write!(out, " {:<5}", format!("{cell}{mark}"));
                }
                let columns = parts
                    .iter()
                    .map(|p| (p, "scenarios", &v.scenarios))
                    .chain(searched.iter().map(|p| (p, "search", &v.search)));
                for (part, what, map) in columns {
                    let cell = map.get(part).map_or("-".to_string(), short);
                    let mark = if off(&format!("{} {what}", part.slug())) {
                        "*"
                    } else {
                        ""
                    };
                    let _ = write!(out, " {:<5}", format!("{cell}{mark}"));
                }
            }
        }
        let _ = writeln!(out, "  {:>5.1}s", outcome.time.as_secs_f64());
    }
    out
}

/// Builds the hosts and grades every row, then prints the matrix. Returns
/// whether every cell was as expected.
pub fn run_matrix(root: &Path, args: &MatrixArgs) -> Result<bool, String> {
    let started = Instant::now();
    let (rows, zoo) = matrix_rows(root, args)?;
    let dir = zoo_dir(root);
    for (generated, text) in &zoo {
        let path = dir.join(generated);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    println!(
        "matrix: {} variants; the skeleton and the reference built as themselves, the rest in one zoo build; {} seeds for the reference and skeleton, {} for the others",
        rows.len(),
        args.seeds,
        args.zoo_seeds
    );
    let mut hosts: BTreeMap<&str, PathBuf> = BTreeMap::new();
    for (name, variant) in [
        ("reference", Variant::Reference),
        ("skeleton", Variant::Skeleton),
        ("zoo", Variant::Zoo(dir.clone())),
    ] {
        let t = Instant::now();
        let host = build::build_host(root, &variant, Profile::Release)?;
        println!(
            "  built the {name} host in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        hosts.insert(name, host);
    }
    let mut outcomes = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let host = match (&row.zoo_key, row.label.as_str()) {
            (Some(_), _) => &hosts["zoo"],
            (None, "skeleton") => &hosts["skeleton"],
            (None, _) => &hosts["reference"],
        };
        let outcome = grade_row(host, row, args.jobs);
        println!(
            "  [{}/{}] {:<44} {:>5.1}s  {}",
            i + 1,
            rows.len(),
            row.label,
            outcome.time.as_secs_f64(),
            if outcome.problems.is_empty() {
                "ok".to_string()
            } else {
                format!(
                    "{} cell(s) off",
                    outcome
                        .problems
                        .iter()
                        .filter(|p| !p.starts_with("  "))
                        .count()
                )
            }
        );
        outcomes.push(outcome);
    }
    print!("{}", matrix_table(&rows, &outcomes));
    let problems: Vec<&String> = outcomes.iter().flat_map(|o| &o.problems).collect();
    for problem in &problems {
        println!("OFF {problem}");
    }
    let off = problems.iter().filter(|p| !p.starts_with("  ")).count();
    println!(
        "matrix: {} variants, {off} cells off, {:.0} s in all",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(off == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/raft.rs");

    fn verdicts(steps: [Verdict; 10], scenarios: [Verdict; 2]) -> Verdicts {
        Verdicts {
            steps: Step::ALL.into_iter().zip(steps).collect(),
            scenarios: Part::ALL.into_iter().zip(scenarios).collect(),
            search: Part::ALL.into_iter().zip(scenarios).collect(),
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
    }

    #[test]
    fn machine_lines_give_verdicts() {
        let v = Verdicts::parse_machine(
            "noise\nRAFTLAB STEP E3 TODO\nRAFTLAB STEP E4 BLOCKED E3\nRAFTLAB SCENARIO election PASS\nRAFTLAB SCORE 8 100\n",
        );
        assert_eq!(v.steps[&Step::Election3], Verdict::Todo);
        assert_eq!(v.steps[&Step::Election4], Verdict::Blocked(Step::Election3));
        assert_eq!(v.scenarios[&Part::Election], Verdict::Pass);
        assert_eq!(v.steps.len(), 2);
    }

    #[test]
    fn reference_and_skeleton_expectations() {
        let all_pass = verdicts([Verdict::Pass; 10], [Verdict::Pass; 2]);
        assert!(check_row("reference", &Expect::Reference, &all_pass).is_empty());
        let problems = check_row("skeleton", &Expect::Skeleton, &all_pass);
        assert_eq!(problems.len(), 14, "{problems:?}");
        assert_eq!(
            problems[0],
            "skeleton: Election Step1: expected TODO or BLOCKED, seen PASS"
        );
        let mut skeleton = verdicts(
            [Verdict::Blocked(Step::Election1); 10],
            [Verdict::Blocked(Step::Election1); 2],
        );
        skeleton.steps.insert(Step::Election1, Verdict::Todo);
        assert!(check_row("skeleton", &Expect::Skeleton, &skeleton).is_empty());
        skeleton.steps.insert(Step::Election2, Verdict::Fail);
        assert_eq!(check_row("skeleton", &Expect::Skeleton, &skeleton).len(), 1);
    }

    #[test]
    fn a_prefix_passes_what_is_done_and_fails_nothing() {
        let mut v = verdicts([Verdict::Todo; 10], [Verdict::Blocked(Step::Election4); 2]);
        for s in &Step::ALL[..3] {
            v.steps.insert(*s, Verdict::Pass);
        }
        v.steps
            .insert(Step::Election5, Verdict::Blocked(Step::Election4));
        assert!(check_row("prefix-3", &Expect::Prefix(3), &v).is_empty());
        v.steps.insert(Step::Election6, Verdict::Fail);
        v.steps
            .insert(Step::Election2, Verdict::Blocked(Step::Election3));
        let problems = check_row("prefix-3", &Expect::Prefix(3), &v);
        assert_eq!(problems.len(), 2, "{problems:?}");
        // Six steps in: the election scenarios must pass.
        let mut v = verdicts(
            [Verdict::Pass; 10],
            [Verdict::Blocked(Step::Replication1); 2],
        );
        for s in &Step::ALL[6..] {
            v.steps.insert(*s, Verdict::Todo);
        }
        let problems = check_row("prefix-6", &Expect::Prefix(6), &v);
        assert_eq!(
            problems,
            vec![
                "prefix-6: election scenarios: expected PASS (all the steps it needs are done), seen BLOCKED BY Replication Step1".to_string(),
                "prefix-6: election search: expected PASS (all the steps it needs are done), seen BLOCKED BY Replication Step1".to_string(),
            ]
        );
    }

    #[test]
    fn a_deep_prefix_counts_the_deep_steps() {
        let deep = Track::Deep.steps();
        let mut v = Verdicts::default();
        v.steps.insert(deep[0], Verdict::Pass);
        for s in &deep[1..] {
            v.steps.insert(*s, Verdict::Todo);
        }
        v.scenarios.insert(Part::Deep, Verdict::Blocked(deep[1]));
        let problems = check_row_in(Track::Deep, "deep-prefix-1", &Expect::Prefix(1), &v);
        assert!(problems.is_empty(), "{problems:?}");
        v.steps.insert(deep[1], Verdict::Pass);
        let problems = check_row_in(Track::Deep, "deep-prefix-1", &Expect::Prefix(1), &v);
        assert_eq!(
            problems.len(),
            1,
            "a step past the prefix passed: {problems:?}"
        );
    }

    #[test]
    fn mutants_fail_their_step_and_alternatives_pass_everything() {
        let mutant = MutantInfo {
            verdict: skeleton::Verdict::Mutant,
            description: "m".to_string(),
            step: Step::Election5,
            also_fails: vec![AlsoFails::Step(Step::Replication3)],
        };
        let mut v = verdicts([Verdict::Pass; 10], [Verdict::Pass; 2]);
        v.steps.insert(Step::Election5, Verdict::Timeout);
        v.steps.insert(Step::Replication3, Verdict::Fail);
        assert!(check_row("mutant-m", &Expect::Zoo(mutant.clone()), &v).is_empty());
        v.steps.insert(Step::Election5, Verdict::Pass);
        v.scenarios.insert(Part::Election, Verdict::Fail);
        assert_eq!(check_row("mutant-m", &Expect::Zoo(mutant), &v).len(), 2);
        let alternative = MutantInfo {
            verdict: skeleton::Verdict::Alternative,
            description: "a".to_string(),
            step: Step::Election5,
            also_fails: Vec::new(),
        };
        let all_pass = verdicts([Verdict::Pass; 10], [Verdict::Pass; 2]);
        assert!(
            check_row(
                "alternative-a",
                &Expect::Zoo(alternative.clone()),
                &all_pass
            )
            .is_empty()
        );
        assert_eq!(
            check_row("alternative-a", &Expect::Zoo(alternative), &v).len(),
            2
        );
    }
}
