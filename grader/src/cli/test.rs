//! `raftlab test`: grade the student's Raft, or explain one case.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use super::args::{self, TestArgs, USAGE};
use crate::cases::Case;
use crate::exec::judge::{self, CaseResult, Direct, Launcher, RunOptions, Status};
use crate::exec::minimize::{MAX_SHRINK_RUNS, minimize};
use crate::model::{Kind, Part, Seed, Step, Track};
use crate::registry;
use crate::report::gradescope::GradescopeResults;
use crate::report::timeline::Timeline;
use crate::report::{Graded, Item, Report, ReportSettings, graded_of, hints, junit};

/// The seeds a scenario runs by default: `0..DEFAULT_SEEDS`.
pub const DEFAULT_SEEDS: u64 = 100;

/// What the replay and hint lines tell a student to type.
pub const COMMAND_ENV: &str = "RAFTLAB_COMMAND";
/// The workspace, as `raftlab_test.sh` passes it.
pub const ROOT_ENV: &str = "RAFTLAB_ROOT";

/// One case to run, the seeds to run it on, and the item it counts for.
#[derive(Clone, Debug)]
pub struct Run {
    pub graded: Graded,
    pub case: Case,
    pub seeds: Vec<Seed>,
}

/// What a run of the grader covers: the items, and the runs behind them.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub items: Vec<Item>,
    pub runs: Vec<Run>,
}

/// `100 seeds`, `seed 0x2a`.
fn seeds_label(seeds: &[Seed]) -> String {
    match seeds {
        [one] => format!("seed {one}"),
        many => format!("{} seeds", many.len()),
    }
}

/// Whether `case` is graded in `track`.
pub fn in_track(case: &Case, track: Track) -> bool {
    match case.kind {
        Kind::Step(step) => step.track() == track,
        Kind::Scenario(part) => Part::of_track(track).contains(&part),
        Kind::Search(part) => Part::searched(track).contains(&part),
    }
}

/// The plan for what `args` choose, with the committed weights.
pub fn plan(args: &TestArgs) -> Result<Plan, String> {
    let scenario_seeds: Vec<Seed> = match (args.seed, args.seeds) {
        (Some(s), _) => vec![s],
        (None, n) => (0..n.unwrap_or(DEFAULT_SEEDS)).map(Seed).collect(),
    };
    let step_seeds = vec![args.seed.unwrap_or(Seed(0))];
    let seeds_of = |case: &Case| match case.kind {
        Kind::Step(_) | Kind::Search(_) => step_seeds.clone(),
        Kind::Scenario(_) => scenario_seeds.clone(),
    };
    let track = args.track.unwrap_or_else(Track::packaged);
    let chosen: Vec<Case> = if let Some(name) = &args.case {
        let case = registry::find(name)
            .ok_or_else(|| format!("no case is called {name:?}; `--list` lists them"))?;
        vec![case]
    } else {
        registry::all()
            .iter()
            .filter(|c| match (args.step, args.part) {
                (Some(step), _) => c.kind == Kind::Step(step),
                (None, Some(part)) => c.kind.part() == part,
                (None, None) => in_track(c, track),
            })
            .copied()
            .collect()
    };
    let mut graded: Vec<Graded> = chosen.iter().map(|c| graded_of(c.kind, false)).collect();
    graded.sort();
    graded.dedup();
    let items = graded
        .into_iter()
        .map(|g| Item::weighted(g, &seeds_label(&scenario_seeds)))
        .collect();
    let runs = chosen
        .iter()
        .map(|c| Run {
            graded: graded_of(c.kind, false),
            case: *c,
            seeds: seeds_of(c),
        })
        .collect();
    Ok(Plan { items, runs })
}

/// The most seeds one host runs at a time: a run of more is cut into
/// chunks that go to several hosts at once.
const CHUNK_SEEDS: usize = 5_000;

/// Runs every run of `runs`, with `jobs` hosts at once; results in the
/// order of `runs`. Runs of an item, and chunks of a long run, go to
/// hosts side by side, but the result is as if they went in order and
/// stopped at the first that did not pass: the item's verdict is
/// decided, and the case shown is always the first failing one in
/// registry order, at its first failing seed. `progress` is told of each
/// finished host.
pub fn run_all(
    launcher: &dyn Launcher,
    runs: &[Run],
    options: &RunOptions,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<(Graded, CaseResult)> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // The tasks, item by item, each run cut into chunks of seeds, in order:
    // (item, run, chunk).
    let mut item_of: Vec<Graded> = Vec::new();
    for run in runs {
        if !item_of.contains(&run.graded) {
            item_of.push(run.graded);
        }
    }
    let item_index = |run: &Run| {
        item_of
            .iter()
            .position(|g| *g == run.graded)
            .expect("every run's item was listed")
    };
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by_key(|&i| item_index(&runs[i]));
    let mut tasks: Vec<(usize, usize, std::ops::Range<usize>)> = Vec::new();
    for &i in &order {
        let item = item_index(&runs[i]);
        let n = runs[i].seeds.len();
        for start in (0..n.max(1)).step_by(CHUNK_SEEDS) {
            tasks.push((item, i, start..(start + CHUNK_SEEDS).min(n)));
        }
    }
    // Per item, the first task that did not pass: later tasks of the item
    // are not started.
    let first_failed: Vec<AtomicUsize> = item_of
        .iter()
        .map(|_| AtomicUsize::new(usize::MAX))
        .collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; tasks.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, tasks.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some((item, i, chunk)) = tasks.get(k) else {
                        return;
                    };
                    if first_failed[*item].load(Ordering::SeqCst) < k {
                        continue;
                    }
                    let run = &runs[*i];
                    let result =
                        judge::run_case(launcher, &run.case, &run.seeds[chunk.clone()], options);
                    if !result.passed() {
                        first_failed[*item].fetch_min(k, Ordering::SeqCst);
                    }
                    results.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(result);
                    let d = done.fetch_add(1, Ordering::SeqCst) + 1;
                    progress(d, tasks.len());
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    // Each run's chunks, joined; nothing after an item's first failure.
    let mut joined: Vec<Option<CaseResult>> = vec![None; runs.len()];
    for (k, (item, i, _)) in tasks.iter().enumerate() {
        if k > first_failed[*item].load(Ordering::SeqCst) {
            continue;
        }
        let Some(chunk) = results[k].take() else {
            continue;
        };
        joined[*i] = Some(match joined[*i].take() {
            None => chunk,
            Some(before) => join_chunks(before, chunk),
        });
    }
    runs.iter()
        .zip(joined)
        .filter_map(|(run, r)| r.map(|r| (run.graded, r)))
        .collect()
}

/// One result for a run from the results of two consecutive chunks of its
/// seeds, the first of which passed.
fn join_chunks(before: CaseResult, after: CaseResult) -> CaseResult {
    let mut logs = before.logs;
    logs.extend(after.logs);
    CaseResult {
        passed_seeds: before.passed_seeds + after.passed_seeds,
        elapsed: before.elapsed + after.elapsed,
        logs,
        ..after
    }
}

/// The workspace: `--root`, else `RAFTLAB_ROOT`, else the current
/// directory.
fn root_of(args: &TestArgs) -> PathBuf {
    args.root
        .clone()
        .or_else(|| std::env::var_os(ROOT_ENV).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The host binary: `--host`, else `raftlab-host` beside this program.
fn host_of(args: &TestArgs) -> Result<PathBuf, String> {
    if let Some(h) = &args.host {
        return Ok(h.clone());
    }
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    Ok(me.with_file_name("raftlab-host"))
}

fn command_name(args: &TestArgs) -> String {
    args.command
        .clone()
        .or_else(|| std::env::var(COMMAND_ENV).ok())
        .unwrap_or_else(|| "./raftlab_test.sh".to_string())
}

/// Every case, grouped by step and part, with its purpose.
pub fn list() -> String {
    let mut out = String::new();
    let mut last: Option<Graded> = None;
    for c in registry::all() {
        let g = graded_of(c.kind, false);
        if last != Some(g) {
            let heading = match g {
                Graded::Step(step) => format!("{step} ({})", step.short_name()),
                Graded::Scenarios(part) => format!("{part} scenarios (--part {})", part.slug()),
                Graded::Hidden(part) => format!("{part} hidden seeds"),
                Graded::Search(part) => format!("{part} search (--part {})", part.slug()),
            };
            let _ = writeln!(out, "{}{heading}", if last.is_some() { "\n" } else { "" });
            last = Some(g);
        }
        let _ = writeln!(out, "  {}\n      {}", c.name, c.purpose);
    }
    out
}

/// The line of `raft.rs` where `step`'s own code starts: the first line
/// after its `// ── RaftLab <step>` comment block.
pub fn step_line(raft_rs: &str, step: Step) -> Option<usize> {
    let header = format!("RaftLab {} ", step.name());
    let lines: Vec<&str> = raft_rs.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("// ──") && l.contains(&header))?;
    lines
        .iter()
        .enumerate()
        .skip(at + 1)
        .find(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with("//")
        })
        .map(|(i, _)| i + 1)
}

/// The debugger command for `case`, for the unoptimised host at `host`.
pub fn debug_command(case: &Case, seed: Seed, host: &Path, raft_rs: &str) -> String {
    let mut breaks = Vec::new();
    if let Kind::Step(step) = case.kind
        && let Some(line) = step_line(raft_rs, step)
    {
        breaks.push(format!("-ex 'break raft/src/raft.rs:{line}'"));
    }
    breaks.push("-ex 'break grader::model::outcome::case_failed'".to_string());
    format!(
        "rust-gdb -q {} -ex run --args {} run {} {seed}",
        breaks.join(" "),
        host.display(),
        case.name
    )
}

fn print_debug(args: &TestArgs, root: &Path) -> ExitCode {
    let Some(case) = args.case.as_deref().and_then(registry::find) else {
        eprintln!("raftlab test: --debug: no such case; `--list` lists them");
        return ExitCode::from(2);
    };
    let raft_rs = fs::read_to_string(root.join("raft/src/raft.rs")).unwrap_or_default();
    let host = args
        .host
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/raftlab-debug/raftlab-host"));
    // Shown from the workspace, where the student runs it.
    let absolute_root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let host = host
        .strip_prefix(&absolute_root)
        .map(Path::to_path_buf)
        .unwrap_or(host);
    let seed = args.seed.unwrap_or(Seed(0));
    println!(
        "The host is built without optimisation in {}. Debug the case with:\n\n  {}\n",
        host.parent()
            .map_or_else(String::new, |p| p.display().to_string()),
        debug_command(&case, seed, &host, &raft_rs)
    );
    match case.kind {
        Kind::Step(step) => println!(
            "The first breakpoint is the first line of your {step} code; the second stops\n\
             where a check of the case fails (a failed check returns an error, it does\n\
             not panic). `bt` shows how the case got there; `finish` returns to the case."
        ),
        Kind::Scenario(_) | Kind::Search(_) => println!(
            "The breakpoint stops where a check of the run fails (a failed check\n\
             returns an error, it does not panic); `bt` shows how the run got there."
        ),
    }
    ExitCode::SUCCESS
}

fn run_in_process(args: &TestArgs) -> ExitCode {
    let Ok(host) = host_of(args) else {
        eprintln!("raftlab test: cannot find the host program");
        return ExitCode::from(2);
    };
    let mut c = Command::new(&host);
    c.arg("run").arg(args.case.as_deref().unwrap_or_default());
    c.arg(args.seed.unwrap_or(Seed(0)).to_string());
    c.arg("--trace");
    match c.status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("raftlab test: could not run {}: {e}", host.display());
            ExitCode::from(2)
        }
    }
}

/// Draws the run of `result` (re-run with tracing if it was not) as a
/// timeline page at `path`; `None` when the run recorded no event (the
/// host did not start, say).
fn write_timeline(
    launcher: &dyn Launcher,
    result: &CaseResult,
    path: &Path,
    options: &RunOptions,
) -> Result<Option<PathBuf>, String> {
    let seed = result.seed.unwrap_or(Seed(0));
    if let Some(shrunk) = &result.shrunk {
        let title = if shrunk.to < shrunk.from {
            format!(
                "{} seed {seed}, shrunk from {} to {} events",
                result.case.name, shrunk.from, shrunk.to
            )
        } else {
            format!("{} seed {seed}, {} events", result.case.name, shrunk.to)
        };
        let page = Timeline::from_events(&title, &shrunk.events, Some(&shrunk.message));
        return write_page(&page, path).map(Some);
    }
    let events = if result.events.is_empty() {
        let traced = RunOptions {
            tracing: true,
            ..options.clone()
        };
        judge::run_case(launcher, &result.case, &[seed], &traced).events
    } else {
        result.events.clone()
    };
    if events.is_empty() {
        return Ok(None);
    }
    let title = format!("{} seed {seed}", result.case.name);
    let failure = (!result.passed()).then_some(result.message.as_str());
    let page = Timeline::from_events(&title, &events, failure);
    write_page(&page, path).map(Some)
}

fn write_page(page: &Timeline, path: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::write(path, page.to_html()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.to_path_buf())
}

/// Shrinks every failing scenario run to the decisions that matter (see
/// [`crate::exec::minimize`]); a failure that cannot be shrunk is shown as
/// it ran. A search's failure needs no shrinking: found breadth-first, its
/// schedule is one of the shortest that fail at all.
fn shrink_failures(
    launcher: &dyn Launcher,
    results: &mut [(Graded, CaseResult)],
    options: &RunOptions,
    terminal: bool,
) {
    for (_, result) in results.iter_mut() {
        let shrinkable = matches!(result.case.kind, Kind::Scenario(_));
        let Some(seed) = result
            .seed
            .filter(|_| shrinkable && result.status == Status::Fail)
        else {
            continue;
        };
        if terminal {
            eprint!("\r  shrinking the failure of {}...", result.case.name);
        }
        match minimize(launcher, &result.case, seed, options, MAX_SHRINK_RUNS) {
            Ok(shrunk) => result.shrunk = Some(shrunk),
            Err(why) => result.not_shrunk = Some(why.0),
        }
        if terminal {
            eprint!("\r\x1b[2K");
        }
    }
}

/// A one-case report: its verdict, why, and how to go on.
fn case_report(report: &Report, result: &CaseResult, colour: bool) -> String {
    let mut out = String::new();
    let word = match &result.status {
        Status::Pass => "PASS".to_string(),
        Status::Fail => "FAIL".to_string(),
        Status::Todo => "TODO".to_string(),
        Status::Timeout => "TIMEOUT".to_string(),
        Status::Blocked(step) => format!("BLOCKED BY {step}"),
    };
    let word = if colour {
        let c = match result.status {
            Status::Pass => "\x1b[32m",
            Status::Fail => "\x1b[31m",
            _ => "\x1b[33m",
        };
        format!("{c}{word}\x1b[0m")
    } else {
        word
    };
    let seeds = if result.passed() {
        format!(" ({})", crate::model::count(result.passed_seeds, "seed"))
    } else {
        result
            .seed
            .map(|s| format!(" (seed {s})"))
            .unwrap_or_default()
    };
    let _ = writeln!(out, "{}{seeds}  {word}", result.case.name);
    let _ = writeln!(out, "  {}", result.case.purpose);
    if !result.passed() {
        for line in result.message.lines() {
            let _ = writeln!(out, "  {line}");
        }
        if let Some(s) = &result.shrunk {
            let _ = writeln!(
                out,
                "  shrunk from {} to {} events ({} runs tried): {}",
                s.from,
                s.to,
                s.runs,
                s.message.lines().next().unwrap_or_default()
            );
        }
        if let Some(why) = &result.not_shrunk {
            let _ = writeln!(out, "  not shrunk: {why}");
        }
        let _ = writeln!(out, "  replay: {}", report.replay_command(result));
        if let (true, Kind::Step(step)) = (report.settings.hints, result.case.kind) {
            let _ = writeln!(
                out,
                "  hint:   {} --hint {}",
                report.settings.command,
                step.short_name()
            );
        }
        for line in &result.output {
            let _ = writeln!(out, "  | {line}");
        }
    }
    out
}

fn write_file(path: &Path, text: &str, what: &str) -> bool {
    match fs::write(path, text) {
        Ok(()) => true,
        Err(e) => {
            eprintln!(
                "raftlab test: could not write {what} to {}: {e}",
                path.display()
            );
            false
        }
    }
}

/// `raftlab test`.
pub fn test_main(raw: Vec<OsString>) -> ExitCode {
    let args = match args::parse(raw) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("raftlab test: {e}\n(run with --help for the options)");
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let root = root_of(&args);
    if args.list {
        print!("{}", list());
        return ExitCode::SUCCESS;
    }
    if let Some(step) = args.hint {
        print!(
            "{}",
            hints::next_hint(step, &root.join("target/raftlab/hints.txt"))
        );
        return ExitCode::SUCCESS;
    }
    if args.debug {
        return print_debug(&args, &root);
    }
    if args.in_process {
        return run_in_process(&args);
    }
    let plan = match plan(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("raftlab test: {e}");
            return ExitCode::from(2);
        }
    };
    let host = match host_of(&args) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("raftlab test: {e}");
            return ExitCode::from(2);
        }
    };
    let mut launcher = Direct::new(host);
    if let Some(log) = std::env::var_os("RUST_LOG") {
        launcher.env.push(("RUST_LOG".into(), log));
    }
    let tracing = args.trace || args.html.is_some();
    let options = RunOptions {
        tracing,
        timeout_scale: args.timeout_scale.unwrap_or(1.0),
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let started = Instant::now();
    let terminal = io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if terminal {
            let mut e = io::stderr();
            let _ = write!(e, "\r  {done}/{total} cases run");
            let _ = e.flush();
        }
    };
    let mut results = run_all(&launcher, &plan.runs, &options, jobs, &progress);
    if terminal {
        eprint!("\r\x1b[2K");
    }
    if !args.no_shrink {
        shrink_failures(&launcher, &mut results, &options, terminal);
    }
    let report = Report::new(
        plan.items,
        results,
        started.elapsed(),
        ReportSettings {
            command: command_name(&args),
            hints: !hints::levels(Step::Election1).is_empty(),
            notice: None,
        },
    );
    let colour = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut ok = report.passed();
    let mut out = String::new();
    if let Some(result) = report.results.first().filter(|_| args.case.is_some()) {
        out.push_str(&case_report(&report, result, colour));
    } else {
        out.push_str(&report.table(colour, true));
    }
    if tracing {
        out.push('\n');
        out.push_str(&report.traces());
    }
    // The library's own lines, when RUST_LOG asked for them.
    for result in report.results.iter().filter(|r| !r.logs.is_empty()) {
        let _ = writeln!(
            out,
            "\nlibrary log of {} ({} lines):",
            result.case.name,
            result.logs.len()
        );
        for line in &result.logs {
            let _ = writeln!(out, "  {line}");
        }
    }
    // The first failing scenario or search, drawn.
    let scenario_failure = report.results.iter().find(|r| {
        matches!(r.case.kind, Kind::Scenario(_) | Kind::Search(_)) && r.status == Status::Fail
    });
    let drawn = match (&args.html, scenario_failure) {
        (Some(path), _) => report.results.first().map(|r| (r, path.clone())),
        (None, Some(r)) => {
            let name = format!(
                "{}-{}.html",
                r.case.name.replace("::", "-"),
                r.seed.unwrap_or(Seed(0))
            );
            Some((r, root.join("target/raftlab/timeline").join(name)))
        }
        (None, None) => None,
    };
    if let Some((result, path)) = drawn {
        match write_timeline(&launcher, result, &path, &options) {
            Ok(None) => {}
            Ok(Some(p)) => {
                let _ = writeln!(
                    out,
                    "timeline of {} (open it in a browser): {}",
                    result.case.name,
                    p.display()
                );
            }
            Err(e) => {
                let _ = writeln!(out, "could not draw the timeline: {e}");
            }
        }
    }
    if args.machine {
        out.push_str(&report.machine_lines());
    }
    print!("{out}");
    if let Some(path) = &args.json {
        ok &= write_file(
            path,
            &GradescopeResults::of(&report).to_json(),
            "results.json",
        );
    }
    if let Some(path) = &args.junit {
        ok &= write_file(path, &junit::junit_xml(&report), "JUnit XML");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_line_is_the_first_code_line_under_its_comment() {
        let raft_rs = "fn a() {\n    // ── RaftLab Election Step3 ────\n    // Become a candidate.\n\n    todo!(\"RaftLab Election Step3\");\n}\n";
        assert_eq!(step_line(raft_rs, Step::Election3), Some(5));
        assert_eq!(step_line(raft_rs, Step::Election4), None);
    }

    #[test]
    fn the_debug_command_breaks_in_the_step_and_on_failures() {
        let case = registry::find("e3::becomes_candidate_of_next_term").unwrap();
        let raft_rs = "// ── RaftLab Election Step3 ──\nlet x = 1;\n";
        let c = debug_command(
            &case,
            Seed(0),
            Path::new("target/raftlab-debug/raftlab-host"),
            raft_rs,
        );
        assert!(c.contains("break raft/src/raft.rs:2"), "{c}");
        assert!(c.contains("case_failed"), "{c}");
        assert!(
            c.ends_with("run e3::becomes_candidate_of_next_term 0x0"),
            "{c}"
        );
    }

    #[test]
    fn the_list_names_every_case() {
        let l = list();
        for c in registry::all() {
            assert!(l.contains(c.name), "{}", c.name);
        }
    }

    #[test]
    fn a_plan_for_one_case_has_one_item_and_one_run() {
        let a = args::parse(["--case", "e1::learner_counts_ticks"].map(OsString::from)).unwrap();
        let p = plan(&a).unwrap();
        assert_eq!(p.runs.len(), 1);
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.runs[0].seeds, vec![Seed(0)]);
        let a = args::parse(["--part", "election", "--seeds", "3"].map(OsString::from)).unwrap();
        let p = plan(&a).unwrap();
        assert!(p.runs.iter().all(|r| r.case.kind.part() == Part::Election));
        assert!(p.runs.iter().any(|r| r.seeds.len() == 3));
    }
}
