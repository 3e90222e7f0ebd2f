//! Grading many submissions at once (`raftlab grade`), and the pieces the
//! other instructor commands share with it: running a variant's grader with
//! a wall-clock limit, reading its `RAFTLAB ...` lines, and building one
//! variant while already-built ones are graded.
//!
//! A submission is a `raft.rs`, a directory holding `raft/src/raft.rs` (or a
//! `raft.rs` at its top), or a `.tar.gz` / `.tgz` / `.zip` of such a
//! directory. Only its `raft/src/raft.rs` is taken: students cannot change
//! the tests that grade them. Each one is graded as a `--file` variant and
//! gets `OUT/<name>/results.json` (Gradescope's format, hidden cases
//! included); `OUT/grades.csv` has one row per submission. A submission that
//! is missing, malformed, does not compile or hangs gets its row with the
//! reason, and the batch goes on.
//!
//! ```text
//! OUT/
//!   grades.csv                 name, E1..R4, scenarios, hidden, total, max, status, reason
//!   alice/raft.rs              the file that was graded
//!   alice/results.json         what Gradescope would show alice
//!   alice/grader.log           the grader's own output (or the compiler's)
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::case::Part;
use crate::report::{self, Verdict};
use crate::runner;
use crate::skeleton::Step;
use crate::variant::{self, RAFT_RS, Variant};
use crate::weights;

/// The largest `raft.rs` accepted: the reference is about 80 KiB; ten
/// times that is not a Raft implementation but a mistake (or an attack).
pub const MAX_SUBMISSION_BYTES: u64 = 1024 * 1024;

/// How deep inside a submission's directory `raft/src/raft.rs` is looked
/// for (archives often add a folder or two on top).
const MAX_SEARCH_DEPTH: usize = 6;

/// How long one whole grading run of one submission may take before it is
/// killed and recorded as hung. The runner bounds every case; this bounds
/// the grader itself.
pub const DEFAULT_GRADE_TIME_LIMIT: Duration = Duration::from_secs(20 * 60);

/// The `RAFTLAB ...` lines of one grading run (`raftlab test --machine`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MachineReport {
    pub steps: BTreeMap<Step, Verdict>,
    pub scenarios: BTreeMap<Part, Verdict>,
    /// Hidden tests by name (`election`, `election::re_election`).
    pub hidden: BTreeMap<String, Verdict>,
    /// `RAFTLAB SCORE got max`, if printed.
    pub score: Option<(u32, u32)>,
}

/// Reads a verdict as `--machine` prints it: `PASS`, `FAIL`, `TIMEOUT`,
/// `BLOCKED E3`, `NOCASES`.
pub fn parse_verdict(words: &[&str]) -> Option<Verdict> {
    match words {
        ["PASS"] => Some(Verdict::Pass),
        ["FAIL"] => Some(Verdict::Fail),
        ["TIMEOUT"] => Some(Verdict::Timeout),
        ["NOCASES"] => Some(Verdict::NoCases),
        ["BLOCKED", step] => Step::parse(step).ok().map(Verdict::Blocked),
        _ => None,
    }
}

/// A short cell for tables: `PASS`, `FAIL`, `TIME`, `B:E3`, `none`.
pub fn short_verdict(verdict: Verdict) -> String {
    match verdict {
        Verdict::Pass => "PASS".to_string(),
        Verdict::Fail => "FAIL".to_string(),
        Verdict::Timeout => "TIME".to_string(),
        Verdict::Blocked(step) => format!("B:{}", step.short_name()),
        Verdict::NoCases => "none".to_string(),
    }
}

impl MachineReport {
    /// Picks the `RAFTLAB ...` lines out of a run's output; other lines
    /// (the table, anything else) are ignored.
    pub fn parse(output: &str) -> MachineReport {
        let mut report = MachineReport::default();
        for line in output.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["RAFTLAB", "STEP", step, verdict @ ..] => {
                    if let (Ok(step), Some(verdict)) = (Step::parse(step), parse_verdict(verdict)) {
                        report.steps.insert(step, verdict);
                    }
                }
                ["RAFTLAB", "SCENARIO", part, verdict @ ..] => {
                    if let (Ok(part), Some(verdict)) = (Part::parse(part), parse_verdict(verdict)) {
                        report.scenarios.insert(part, verdict);
                    }
                }
                ["RAFTLAB", "HIDDEN", name, verdict @ ..] => {
                    if let Some(verdict) = parse_verdict(verdict) {
                        report.hidden.insert((*name).to_string(), verdict);
                    }
                }
                ["RAFTLAB", "SCORE", got, max] => {
                    if let (Ok(got), Ok(max)) = (got.parse(), max.parse()) {
                        report.score = Some((got, max));
                    }
                }
                _ => {}
            }
        }
        report
    }

    /// Whether the run printed a verdict for every step and part: a run
    /// that printed fewer died before its report.
    pub fn is_complete(&self) -> bool {
        self.steps.len() == Step::ALL.len() && self.scenarios.len() == Part::ALL.len()
    }
}

/// How a child program ended.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` when killed by a signal or by the time limit.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub elapsed: Duration,
}

/// Runs `command` to its end, or kills it (and its process group) after
/// `limit`. Output is collected in full, but at most `MAX_OUTPUT` bytes of
/// each stream are kept.
pub fn run_with_limit(mut command: Command, limit: Duration) -> io::Result<RunOutput> {
    const MAX_OUTPUT: usize = 4 * 1024 * 1024;
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let readers: Vec<thread::JoinHandle<String>> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .map(|stream| {
        thread::spawn(move || {
            let Some(mut stream) = stream else {
                return String::new();
            };
            let mut kept = Vec::new();
            let mut buffer = [0u8; 8192];
            loop {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = MAX_OUTPUT.saturating_sub(kept.len());
                        kept.extend_from_slice(&buffer[..n.min(room)]);
                    }
                }
            }
            String::from_utf8_lossy(&kept).into_owned()
        })
    })
    .collect();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() >= limit {
            timed_out = true;
            kill_group(&mut child);
            break child.wait().ok();
        }
        thread::sleep(Duration::from_millis(50));
    };
    let mut texts = readers
        .into_iter()
        .map(|reader| reader.join().unwrap_or_default());
    let stdout = texts.next().unwrap_or_default();
    let stderr = texts.next().unwrap_or_default();
    Ok(RunOutput {
        stdout,
        stderr,
        code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        timed_out,
        elapsed: started.elapsed(),
    })
}

/// Kills `child` and every process it started in its group.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        // The child leads its own process group (see `run_with_limit`):
        // `kill -KILL -<pid>` reaches the cases it started too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// How one variant's grader is run.
#[derive(Clone, Debug)]
pub struct GraderRun {
    /// `--seeds`: scenarios run seeds `0..seeds`.
    pub seeds: u64,
    /// `--jobs`: cases at once inside this run.
    pub jobs: usize,
    /// `--timeout-scale`.
    pub timeout_scale: f64,
    /// `--json FILE`.
    pub json: Option<PathBuf>,
    /// `--hidden FILE`.
    pub hidden: Option<PathBuf>,
    /// What replay lines tell the reader to type (`RAFTLAB_REPLAY`).
    pub replay: Option<String>,
    /// The limit of the whole run.
    pub time_limit: Duration,
}

impl Default for GraderRun {
    fn default() -> GraderRun {
        GraderRun {
            seeds: runner::DEFAULT_SEEDS,
            jobs: 1,
            timeout_scale: 1.0,
            json: None,
            hidden: None,
            replay: None,
            time_limit: DEFAULT_GRADE_TIME_LIMIT,
        }
    }
}

/// Runs `binary test --machine ...` (a variant's grader, from
/// [`runner::build_variant`]) in `dir`.
pub fn run_grader(binary: &Path, dir: &Path, run: &GraderRun) -> io::Result<RunOutput> {
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .arg("test")
        .arg("--machine")
        .args(["--seeds", &run.seeds.to_string()])
        .args(["--jobs", &run.jobs.max(1).to_string()])
        .args(["--timeout-scale", &run.timeout_scale.to_string()])
        .env("NO_COLOR", "1");
    if let Some(json) = &run.json {
        command.arg("--json").arg(json);
    }
    if let Some(hidden) = &run.hidden {
        command.arg("--hidden").arg(hidden);
    }
    if let Some(replay) = &run.replay {
        command.env(runner::REPLAY_ENV, replay);
    }
    run_with_limit(command, run.time_limit)
}

/// Builds `items` one after the other with `build` (builds share one cargo
/// target directory, so they cannot overlap anyway) while up to `workers`
/// threads `run` the ones already built. `progress` is called as each item
/// finishes, in finishing order. Returns the results in the order of `items`.
pub fn pipeline<I, B, R>(
    items: &[I],
    workers: usize,
    build: impl Fn(&I) -> B,
    run: impl Fn(&I, B) -> R + Sync,
    progress: impl Fn(usize, &R) + Sync,
) -> Vec<R>
where
    I: Sync,
    B: Send,
    R: Send,
{
    let (to_workers, from_builder) = mpsc::channel::<(usize, B)>();
    let from_builder = Arc::new(Mutex::new(from_builder));
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            let from_builder = Arc::clone(&from_builder);
            let (run, progress, results) = (&run, &progress, &results);
            scope.spawn(move || {
                loop {
                    // Hold the lock only to take the next item.
                    let next = from_builder
                        .lock()
                        .map(|receiver| receiver.recv())
                        .unwrap_or_else(|poisoned| poisoned.into_inner().recv());
                    let Ok((index, built)) = next else {
                        break;
                    };
                    let result = run(&items[index], built);
                    progress(index, &result);
                    let mut results = results.lock().unwrap_or_else(|p| p.into_inner());
                    results[index] = Some(result);
                }
            });
        }
        for (index, item) in items.iter().enumerate() {
            let built = build(item);
            if to_workers.send((index, built)).is_err() {
                break;
            }
        }
        drop(to_workers);
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|result| result.expect("every item is run once the builder has sent it"))
        .collect()
}

// ---------------------------------------------------------------------------
// Submissions.

/// Picks a name for the submission at `path`: the file's stem, or for a
/// plain `raft.rs` the directory holding it; archives lose `.tar.gz`.
/// Only letters, digits, `-`, `_` and `.` are kept.
pub fn submission_name(path: &Path) -> String {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = file_name.clone();
    for suffix in [".tar.gz", ".tgz", ".zip", ".rs"] {
        if let Some(stem) = file_name.strip_suffix(suffix) {
            name = stem.to_string();
            break;
        }
    }
    if name == "raft" {
        // alice/raft.rs, or alice/raft/src/raft.rs: name it after alice.
        let parents: Vec<String> = path
            .ancestors()
            .skip(1)
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        let owner = match parents.as_slice() {
            [src, raft, owner, ..] if src == "src" && raft == "raft" => Some(owner),
            [owner, ..] => Some(owner),
            [] => None,
        };
        if let Some(owner) = owner {
            name = owner.clone();
        }
    }
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('.').to_string();
    if cleaned.is_empty() {
        "submission".to_string()
    } else {
        cleaned
    }
}

/// Names for `paths`, made unique by `-2`, `-3`, ... in order.
pub fn unique_names(paths: &[PathBuf]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    paths
        .iter()
        .map(|path| {
            let base = submission_name(path);
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                base
            } else {
                format!("{base}-{count}")
            }
        })
        .collect()
}

/// The kind of archive `path` names, by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Archive {
    TarGz,
    Zip,
}

pub fn archive_kind(path: &Path) -> Option<Archive> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Some(Archive::TarGz)
    } else if name.ends_with(".zip") {
        Some(Archive::Zip)
    } else {
        None
    }
}

fn program_exists(program: &str, probe: &[&str]) -> bool {
    Command::new(program)
        .args(probe)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Extracts `archive` into the empty directory `into`, with the system's
/// `tar`, and for zip files `unzip` or else `python3 -m zipfile`.
pub fn extract(archive: &Path, kind: Archive, into: &Path) -> Result<(), String> {
    fs::create_dir_all(into).map_err(|e| format!("cannot create {}: {e}", into.display()))?;
    let command = match kind {
        Archive::TarGz => {
            if !program_exists("tar", &["--version"]) {
                return Err("cannot extract a .tar.gz: no `tar` on this machine".to_string());
            }
            let mut command = Command::new("tar");
            command.arg("-xzf").arg(archive).arg("-C").arg(into);
            command
        }
        Archive::Zip => {
            if program_exists("unzip", &["-v"]) {
                let mut command = Command::new("unzip");
                command.args(["-q", "-o"]).arg(archive).arg("-d").arg(into);
                command
            } else if program_exists("python3", &["--version"]) {
                let mut command = Command::new("python3");
                command.args(["-m", "zipfile", "-e"]).arg(archive).arg(into);
                command
            } else {
                return Err(
                    "cannot extract a .zip: neither `unzip` nor `python3` is on this machine \
                     (install one of them, or extract the archives yourself)"
                        .to_string(),
                );
            }
        }
    };
    let output = run_with_limit(command, Duration::from_secs(120))
        .map_err(|e| format!("cannot run the extractor: {e}"))?;
    if output.timed_out {
        return Err("extracting took more than 120 s".to_string());
    }
    if output.code != Some(0) {
        return Err(format!(
            "the archive could not be extracted: {}",
            first_lines(&format!("{}{}", output.stderr, output.stdout), 5)
        ));
    }
    Ok(())
}

/// Finds the `raft.rs` to grade inside directory `dir`: the shallowest
/// `raft/src/raft.rs`, else a `raft.rs` at the top (the top being inside
/// the folder, when `dir` holds nothing but one folder). Symbolic links are not
/// followed (a submission must not make the grader read outside it).
pub fn find_raft_rs(dir: &Path) -> Result<PathBuf, String> {
    // An archive usually holds one folder with everything in it: look
    // from inside it.
    let mut dir = dir.to_path_buf();
    for _ in 0..MAX_SEARCH_DEPTH {
        let entries: Vec<fs::DirEntry> = match fs::read_dir(&dir) {
            Ok(entries) => entries.filter_map(Result::ok).collect(),
            Err(_) => break,
        };
        match entries.as_slice() {
            [only] if only.file_type().is_ok_and(|t| t.is_dir()) => dir = only.path(),
            _ => break,
        }
    }
    let dir = dir.as_path();
    let mut best: Option<(usize, PathBuf)> = None;
    let mut stack: Vec<(PathBuf, usize)> = vec![(dir.to_path_buf(), 0)];
    while let Some((current, depth)) = stack.pop() {
        let candidate = current.join(RAFT_RS);
        if fs::symlink_metadata(&candidate).is_ok_and(|m| m.is_file())
            && best.as_ref().is_none_or(|(d, _)| depth < *d)
        {
            best = Some((depth, candidate));
        }
        if depth >= MAX_SEARCH_DEPTH {
            continue;
        }
        let Ok(entries) = fs::read_dir(&current) else {
            continue;
        };
        let mut children: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| e.file_name() != "target" && e.file_name() != ".git")
            .map(|e| e.path())
            .collect();
        children.sort();
        stack.extend(children.into_iter().map(|c| (c, depth + 1)));
    }
    if let Some((_, path)) = best {
        return Ok(path);
    }
    let top = dir.join("raft.rs");
    if fs::symlink_metadata(&top).is_ok_and(|m| m.is_file()) {
        return Ok(top);
    }
    Err(format!(
        "no {RAFT_RS} (nor a raft.rs at the top) in the submission"
    ))
}

/// Reads a submission's `raft.rs`, refusing what cannot be one: too
/// large, not UTF-8, or without a single line of Rust.
pub fn read_submission(path: &Path) -> Result<String, String> {
    let metadata =
        fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if metadata.len() > MAX_SUBMISSION_BYTES {
        return Err(format!(
            "raft.rs is {} bytes, more than the {MAX_SUBMISSION_BYTES} accepted",
            metadata.len()
        ));
    }
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "raft.rs is not UTF-8 text (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    if !text.contains("impl") {
        return Err("raft.rs holds no Rust implementation (no `impl` anywhere)".to_string());
    }
    Ok(text)
}

/// The first `n` lines of `text`, for one-line reasons.
fn first_lines(text: &str, n: usize) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(n)
        .collect::<Vec<_>>()
        .join(" | ")
}

// ---------------------------------------------------------------------------
// One submission's grade.

/// Why a submission got no grade from the grader, or how it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Graded: the verdicts are in the row.
    Graded,
    Missing,
    Malformed,
    CompileError,
    /// The grader was killed at the time limit.
    Hung,
    /// The grader ended without a complete report.
    GraderError,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Graded => "graded",
            Status::Missing => "missing",
            Status::Malformed => "malformed",
            Status::CompileError => "compile error",
            Status::Hung => "hung",
            Status::GraderError => "grader error",
        }
    }
}

/// One row of `grades.csv`.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub source: PathBuf,
    pub status: Status,
    /// A sentence for a person; empty when all went well.
    pub reason: String,
    pub report: MachineReport,
    pub elapsed: Duration,
    /// The points of the hidden tests, earned or not (0 without them).
    pub hidden_max: u32,
}

impl Row {
    /// Points of each step, each part's scenarios and the hidden tests, from
    /// the verdicts and the weights (all or nothing per item).
    pub fn points(&self) -> (Vec<u32>, Vec<u32>) {
        let all = weights::weights();
        let steps = Step::ALL
            .iter()
            .map(|step| match self.report.steps.get(step) {
                Some(Verdict::Pass) => all.step(*step).points,
                _ => 0,
            })
            .collect();
        let scenarios = Part::ALL
            .iter()
            .map(|part| match self.report.scenarios.get(part) {
                Some(Verdict::Pass) => all.scenarios(*part).points,
                _ => 0,
            })
            .collect();
        (steps, scenarios)
    }
}

/// The header of `grades.csv`.
pub fn csv_header() -> String {
    let mut columns: Vec<String> = vec!["name".to_string()];
    columns.extend(Step::ALL.iter().map(|s| s.short_name().to_string()));
    columns.extend(Part::ALL.iter().map(|p| format!("scenarios.{}", p.slug())));
    columns.extend(
        ["hidden", "total", "max", "status", "reason"]
            .iter()
            .map(|c| c.to_string()),
    );
    columns.join(",")
}

/// One CSV field, quoted when it needs to be (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A row of `grades.csv`. The total is the run's own `RAFTLAB SCORE` when
/// it printed one (it counts the hidden tests too), else the sum of the
/// visible points; `max` is what the run could have earned.
pub fn csv_row(row: &Row) -> String {
    let (steps, scenarios) = row.points();
    let visible: u32 = steps.iter().sum::<u32>() + scenarios.iter().sum::<u32>();
    let visible_max: u32 = Step::ALL
        .iter()
        .map(|s| weights::weights().step(*s).points)
        .chain(
            Part::ALL
                .iter()
                .map(|p| weights::weights().scenarios(*p).points),
        )
        .sum();
    let (total, max) = row
        .report
        .score
        .unwrap_or((visible, visible_max + row.hidden_max));
    let hidden = total.saturating_sub(visible);
    let mut fields: Vec<String> = vec![csv_field(&row.name)];
    fields.extend(steps.iter().map(u32::to_string));
    fields.extend(scenarios.iter().map(u32::to_string));
    fields.push(hidden.to_string());
    fields.push(total.to_string());
    fields.push(max.to_string());
    fields.push(row.status.as_str().to_string());
    fields.push(csv_field(&row.reason));
    fields.join(",")
}

/// A `results.json` for a submission the grader could not run: score 0
/// out of every point there was (`hidden_points` included), and `output`
/// says why (the compiler's messages, for a build failure).
pub fn failure_json(headline: &str, details: &str, hidden_points: u32) -> String {
    let max: u32 = hidden_points
        + Step::ALL
            .iter()
            .map(|s| weights::weights().step(*s).points)
            .chain(
                Part::ALL
                    .iter()
                    .map(|p| weights::weights().scenarios(*p).points),
            )
            .sum::<u32>();
    let mut output = format!("{headline}\n");
    if !details.is_empty() {
        output.push('\n');
        output.push_str(details);
        output.push('\n');
    }
    format!(
        "{{\n  \"score\": 0,\n  \"max_score\": {max},\n  \"output\": {},\n  \"visibility\": \"visible\",\n  \"tests\": []\n}}\n",
        report::json_string(&output)
    )
}

/// Options of `raftlab grade`.
#[derive(Clone, Debug)]
pub struct GradeOptions {
    pub out: PathBuf,
    pub seeds: u64,
    pub hidden: Option<PathBuf>,
    /// Gradings at once (each runs its cases one at a time).
    pub workers: usize,
    pub timeout_scale: f64,
    pub time_limit: Duration,
}

/// A submission after its checks, ready to build, or its row already.
enum Prepared {
    Ready { name: String, copy: PathBuf },
    Done(Row),
}

/// Finds, checks and copies submission `source` into `out/<name>/raft.rs`.
fn prepare_submission(source: &Path, name: &str, out: &Path, hidden_points: u32) -> Prepared {
    let dir = out.join(name);
    let row = |status: Status, reason: String| {
        Prepared::Done(Row {
            name: name.to_string(),
            source: source.to_path_buf(),
            status,
            reason,
            report: MachineReport::default(),
            elapsed: Duration::ZERO,
            hidden_max: hidden_points,
        })
    };
    if let Err(e) = fs::create_dir_all(&dir) {
        return row(
            Status::GraderError,
            format!("cannot create {}: {e}", dir.display()),
        );
    }
    let write_failure = |headline: &str, details: &str| {
        let _ = fs::write(
            dir.join("results.json"),
            failure_json(headline, details, hidden_points),
        );
    };
    let metadata = match fs::metadata(source) {
        Ok(metadata) => metadata,
        Err(e) => {
            let reason = format!("{} does not exist ({e})", source.display());
            write_failure(&format!("No submission: {reason}"), "");
            return row(Status::Missing, reason);
        }
    };
    let raft_rs = if metadata.is_dir() {
        find_raft_rs(source)
    } else if let Some(kind) = archive_kind(source) {
        let extracted = dir.join("extracted");
        let _ = fs::remove_dir_all(&extracted);
        extract(source, kind, &extracted).and_then(|()| find_raft_rs(&extracted))
    } else {
        Ok(source.to_path_buf())
    };
    let text = match raft_rs.and_then(|path| read_submission(&path)) {
        Ok(text) => text,
        Err(reason) => {
            write_failure(&format!("The submission cannot be graded: {reason}"), "");
            return row(Status::Malformed, reason);
        }
    };
    let copy = dir.join("raft.rs");
    if let Err(e) = fs::write(&copy, text) {
        return row(
            Status::GraderError,
            format!("cannot write {}: {e}", copy.display()),
        );
    }
    Prepared::Ready {
        name: name.to_string(),
        copy,
    }
}

/// Grades every submission (see the module doc) and writes `grades.csv`.
/// Never stops at a bad submission. Prints `[3/40] alice ... 7 s` as each
/// one finishes.
pub fn grade_all(
    root: &Path,
    sources: &[PathBuf],
    options: &GradeOptions,
) -> Result<Vec<Row>, String> {
    fs::create_dir_all(&options.out)
        .map_err(|e| format!("cannot create {}: {e}", options.out.display()))?;
    let out = std::path::absolute(&options.out)
        .map_err(|e| format!("cannot resolve {}: {e}", options.out.display()))?;
    let hidden = match &options.hidden {
        Some(path) => Some(
            std::path::absolute(path)
                .map_err(|e| format!("cannot resolve {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let hidden_points: u32 = match &hidden {
        Some(path) => crate::hidden::load(path, &crate::case::all_cases())?
            .iter()
            .map(|test| test.points)
            .sum(),
        None => 0,
    };
    let names = unique_names(sources);
    let total = sources.len();
    let done = Mutex::new(0usize);
    let items: Vec<(PathBuf, String)> = sources.iter().cloned().zip(names).collect();
    let rows = pipeline(
        &items,
        options.workers,
        |(source, name)| {
            let started = Instant::now();
            match prepare_submission(source, name, &out, hidden_points) {
                Prepared::Done(row) => Err(Box::new(row)),
                Prepared::Ready { name, copy } => {
                    let variant = Variant::Submission(copy.clone());
                    // The build is shared by all submissions: keep this
                    // one's grader before the next build replaces it.
                    let built = runner::build_variant(root, &variant).and_then(|binary| {
                        let own = binary.with_file_name(format!("submission-{name}"));
                        fs::copy(&binary, &own)
                            .map(|_| own)
                            .map_err(|e| format!("cannot keep the grader of {name}: {e}"))
                    });
                    match built {
                        Ok(binary) => Ok((name, copy, binary, started)),
                        Err(message) => {
                            let dir = out.join(&name);
                            let _ = fs::write(
                                dir.join("results.json"),
                                failure_json(
                                    "Your raft/src/raft.rs does not compile, so no step could be graded. The compiler said:",
                                    &student_message(&message),
                                    hidden_points,
                                ),
                            );
                            let _ = fs::write(dir.join("grader.log"), &message);
                            Err(Box::new(Row {
                                name,
                                source: source.clone(),
                                status: Status::CompileError,
                                reason: format!("does not compile: {}", compiler_summary(&message)),
                                report: MachineReport::default(),
                                elapsed: started.elapsed(),
                                hidden_max: hidden_points,
                            }))
                        }
                    }
                }
            }
        },
        |(source, _), built| match built {
            Err(row) => *row,
            Ok((name, copy, binary, started)) => {
                let dir = out.join(&name);
                let run = GraderRun {
                    seeds: options.seeds,
                    jobs: 1,
                    timeout_scale: options.timeout_scale,
                    json: Some(dir.join("results.json")),
                    hidden: hidden.clone(),
                    replay: Some("./raftlab_test.sh".to_string()),
                    time_limit: options.time_limit,
                };
                let variant_dir = variant::variant_dir(root, &Variant::Submission(copy));
                let mut row = Row {
                    name: name.clone(),
                    source: source.clone(),
                    status: Status::Graded,
                    reason: String::new(),
                    report: MachineReport::default(),
                    elapsed: Duration::ZERO,
                    hidden_max: hidden_points,
                };
                match run_grader(&binary, &variant_dir, &run) {
                    Err(e) => {
                        row.status = Status::GraderError;
                        row.reason = format!("cannot run the grader: {e}");
                    }
                    Ok(output) => {
                        let _ = fs::write(
                            dir.join("grader.log"),
                            format!("{}{}", output.stdout, output.stderr),
                        );
                        row.report = MachineReport::parse(&output.stdout);
                        if output.timed_out {
                            row.status = Status::Hung;
                            row.reason = format!(
                                "the grader did not finish within {} s and was stopped",
                                run.time_limit.as_secs()
                            );
                            let _ = fs::write(
                                dir.join("results.json"),
                                failure_json(
                                    "Grading did not finish in time and was stopped; no step could be graded.",
                                    "",
                                    hidden_points,
                                ),
                            );
                        } else if !row.report.is_complete() {
                            row.status = Status::GraderError;
                            row.reason = format!(
                                "the grader ended ({}) without a full report: {}",
                                output
                                    .code
                                    .map_or("killed".to_string(), |c| format!("status {c}")),
                                first_lines(&output.stderr, 3)
                            );
                        } else {
                            row.reason = summary_reason(&row.report);
                        }
                    }
                }
                // This submission's grader is done with; only its results stay.
                let _ = fs::remove_file(&binary);
                row.elapsed = started.elapsed();
                row
            }
        },
        |_, row: &Row| {
            let mut done = done.lock().unwrap_or_else(|p| p.into_inner());
            *done += 1;
            let (total_points, max) = row.report.score.unwrap_or((0, 0));
            let verdict = match row.status {
                Status::Graded => format!("{total_points}/{max}"),
                _ => format!("{}: {}", row.status.as_str(), row.reason),
            };
            eprintln!(
                "[{done}/{total}] {} ... {} s  {verdict}",
                row.name,
                row.elapsed.as_secs()
            );
        },
    );
    let mut csv = csv_header();
    csv.push('\n');
    for row in &rows {
        csv.push_str(&csv_row(row));
        csv.push('\n');
    }
    let path = out.join("grades.csv");
    fs::write(&path, csv).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(rows)
}

/// The first error line of cargo's output, for the CSV.
pub fn compiler_summary(message: &str) -> String {
    message
        .lines()
        .find(|l| l.trim_start().starts_with("error"))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| first_lines(message, 1))
}

/// What a graded row's reason says: the steps that did not pass.
pub fn summary_reason(report: &MachineReport) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (step, verdict) in &report.steps {
        if *verdict != Verdict::Pass {
            parts.push(format!("{} {}", step.short_name(), short_verdict(*verdict)));
        }
    }
    for (part, verdict) in &report.scenarios {
        if *verdict != Verdict::Pass {
            parts.push(format!("{} {}", part.slug(), short_verdict(*verdict)));
        }
    }
    for (name, verdict) in &report.hidden {
        if *verdict != Verdict::Pass {
            parts.push(format!("hidden {name} {}", short_verdict(*verdict)));
        }
    }
    let mut text = String::new();
    if !parts.is_empty() {
        let _ = write!(text, "not passed: {}", parts.join("; "));
    }
    text
}

pub const USAGE: &str = "\
raftlab grade: grade many submissions

Usage: raftlab grade SUBMISSION... --out DIR [OPTIONS]

A SUBMISSION is a raft.rs, a directory holding raft/src/raft.rs (or a
raft.rs at its top), or a .tar.gz / .tgz / .zip of such a directory. Only
raft/src/raft.rs is taken from it. Each gets DIR/<name>/results.json
(Gradescope's format) and a row of DIR/grades.csv; a submission that is
missing, malformed, does not compile or hangs gets its row with the reason,
and the others are still graded.

Options:
  --out DIR            where to write (required)
  --hidden FILE        also run these hidden seeds (default: solutions/hidden/seeds.txt
                       when it exists; --no-hidden for none)
  --no-hidden          run no hidden seeds
  --seeds N            scenario seeds 0..N-1 (default 100)
  --jobs N             submissions graded at once (default: the number of CPUs)
  --timeout-scale F    multiply the per-case time limits by F
  --time-limit SECS    stop one submission's grading after SECS (default 1200)
  -h, --help           print this help
";

/// `raftlab grade SUBMISSION... --out DIR [OPTIONS]`.
pub fn grade_main(args: &[std::ffi::OsString]) -> std::process::ExitCode {
    use std::process::ExitCode;
    let usage_error = |message: String| {
        eprintln!("raftlab grade: {message}\n\nRun `raftlab grade --help` for usage.");
        ExitCode::from(2)
    };
    let mut sources: Vec<PathBuf> = Vec::new();
    let mut out: Option<PathBuf> = None;
    let mut hidden: Option<PathBuf> = None;
    let mut no_hidden = false;
    let mut seeds = runner::DEFAULT_SEEDS;
    let mut workers = thread::available_parallelism().map_or(1, usize::from);
    let mut timeout_scale = 1.0;
    let mut time_limit = DEFAULT_GRADE_TIME_LIMIT;
    let mut words = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (word.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| words.next());
        let number = |text: Option<String>, flag: &str| -> Result<f64, String> {
            let text = text.ok_or(format!("{flag} needs a value"))?;
            text.parse::<f64>()
                .ok()
                .filter(|n| *n > 0.0)
                .ok_or(format!("{flag} {text:?}: expected a positive number"))
        };
        let parsed: Result<(), String> = match flag.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--out" => value()
                .map(|v| out = Some(PathBuf::from(v)))
                .ok_or("--out needs a value".to_string()),
            "--hidden" => value()
                .map(|v| hidden = Some(PathBuf::from(v)))
                .ok_or("--hidden needs a value".to_string()),
            "--no-hidden" => {
                no_hidden = true;
                Ok(())
            }
            "--seeds" => number(value(), "--seeds").map(|n| seeds = n as u64),
            "--jobs" | "-j" => number(value(), "--jobs").map(|n| workers = n as usize),
            "--timeout-scale" => number(value(), "--timeout-scale").map(|n| timeout_scale = n),
            "--time-limit" => {
                number(value(), "--time-limit").map(|n| time_limit = Duration::from_secs_f64(n))
            }
            other if other.starts_with("--") => Err(format!("unknown option {other:?}")),
            _ => {
                sources.push(PathBuf::from(word.clone()));
                Ok(())
            }
        };
        if let Err(e) = parsed {
            return usage_error(e);
        }
    }
    let Some(out) = out else {
        return usage_error("--out DIR is required".to_string());
    };
    if sources.is_empty() {
        return usage_error("no submission given".to_string());
    }
    let root = match variant::find_root() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("raftlab grade: {e}");
            return ExitCode::FAILURE;
        }
    };
    if hidden.is_none() && !no_hidden {
        let default = root.join(crate::hidden::HIDDEN_SEEDS);
        if default.is_file() {
            hidden = Some(default);
        }
    }
    if no_hidden {
        hidden = None;
    }
    if let Some(path) = &hidden {
        // A broken hidden file would fail every submission the same way:
        // say so once, up front.
        if let Err(e) = crate::hidden::load(path, &crate::case::all_cases()) {
            eprintln!("raftlab grade: {e}");
            return ExitCode::FAILURE;
        }
    }
    let options = GradeOptions {
        out: out.clone(),
        seeds,
        hidden,
        workers,
        timeout_scale,
        time_limit,
    };
    match grade_all(&root, &sources, &options) {
        Ok(rows) => {
            let graded = rows.iter().filter(|r| r.status == Status::Graded).count();
            println!(
                "graded {graded} of {} submissions; wrote {}",
                rows.len(),
                out.join("grades.csv").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("raftlab grade: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The compiler's messages for the student: without the first line, which
/// names the grader's scratch directory.
fn student_message(message: &str) -> String {
    match message.split_once('\n') {
        Some((first, rest)) if first.contains("does not compile (in ") => rest.to_string(),
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "raftlab-grade-{name}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn machine_lines_are_read_and_the_rest_ignored() {
        let text = "Election  Step1 ... PASS\nRAFTLAB STEP E1 PASS\nRAFTLAB STEP E4 BLOCKED E3\n\
                    RAFTLAB STEP R2 TIMEOUT\nRAFTLAB SCENARIO election FAIL\n\
                    RAFTLAB HIDDEN replication NOCASES\nRAFTLAB SCORE 5 108\nRAFTLAB STEP E9 PASS\n";
        let report = MachineReport::parse(text);
        assert_eq!(report.steps.get(&Step::Election1), Some(&Verdict::Pass));
        assert_eq!(
            report.steps.get(&Step::Election4),
            Some(&Verdict::Blocked(Step::Election3))
        );
        assert_eq!(
            report.steps.get(&Step::Replication2),
            Some(&Verdict::Timeout)
        );
        assert_eq!(report.steps.len(), 3);
        assert_eq!(report.scenarios.get(&Part::Election), Some(&Verdict::Fail));
        assert_eq!(report.hidden.get("replication"), Some(&Verdict::NoCases));
        assert_eq!(report.score, Some((5, 108)));
        assert!(!report.is_complete());
    }

    #[test]
    fn submissions_are_named_after_their_owner() {
        assert_eq!(submission_name(Path::new("subs/alice/raft.rs")), "alice");
        assert_eq!(
            submission_name(Path::new("subs/bob/raft/src/raft.rs")),
            "bob"
        );
        assert_eq!(submission_name(Path::new("carol.tar.gz")), "carol");
        assert_eq!(
            submission_name(Path::new("/x/dave smith.zip")),
            "dave_smith"
        );
        assert_eq!(submission_name(Path::new("erin")), "erin");
        assert_eq!(submission_name(Path::new("raft.rs")), "raft");
        let names = unique_names(&[
            PathBuf::from("a/raft.rs"),
            PathBuf::from("b/a/raft.rs"),
            PathBuf::from("a.zip"),
        ]);
        assert_eq!(names, vec!["a", "a-2", "a-3"]);
    }

    #[test]
    fn raft_rs_is_found_in_directories_and_archives() {
        let dir = scratch("find");
        let nested = dir.join("alice/handin/raft/src");
        fs::create_dir_all(&nested).expect("dirs");
        fs::write(nested.join("raft.rs"), "impl Raft {}\n").expect("write");
        fs::write(dir.join("alice/raft.rs"), "impl Top {}\n").expect("write");
        // raft/src/raft.rs wins over a raft.rs at the top, however deep.
        assert_eq!(
            find_raft_rs(&dir.join("alice")).expect("found"),
            nested.join("raft.rs")
        );
        let top_only = dir.join("bob");
        fs::create_dir_all(&top_only).expect("dir");
        fs::write(top_only.join("raft.rs"), "impl Raft {}\n").expect("write");
        assert_eq!(
            find_raft_rs(&top_only).expect("found"),
            top_only.join("raft.rs")
        );
        let wrapped = dir.join("dave/handin");
        fs::create_dir_all(&wrapped).expect("dirs");
        fs::write(wrapped.join("raft.rs"), "impl Raft {}\n").expect("write");
        assert_eq!(
            find_raft_rs(&dir.join("dave")).expect("found inside the only folder"),
            wrapped.join("raft.rs")
        );
        let empty = dir.join("carol");
        fs::create_dir_all(&empty).expect("dir");
        assert!(
            find_raft_rs(&empty)
                .unwrap_err()
                .contains("no raft/src/raft.rs")
        );

        if program_exists("tar", &["--version"]) {
            let archive = dir.join("alice.tar.gz");
            let status = Command::new("tar")
                .arg("-czf")
                .arg(&archive)
                .arg("-C")
                .arg(&dir)
                .arg("alice")
                .status()
                .expect("tar");
            assert!(status.success());
            let into = dir.join("extracted");
            extract(&archive, Archive::TarGz, &into).expect("extract");
            let found = find_raft_rs(&into).expect("found in the archive");
            assert!(
                found.ends_with("alice/handin/raft/src/raft.rs"),
                "{found:?}"
            );
        }
        let not_an_archive = dir.join("broken.zip");
        fs::write(&not_an_archive, "not a zip").expect("write");
        assert!(extract(&not_an_archive, Archive::Zip, &dir.join("z")).is_err());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn malformed_submissions_are_refused_with_a_reason() {
        let dir = scratch("malformed");
        let binary = dir.join("binary.rs");
        fs::write(&binary, [0x66, 0x6e, 0xff, 0xfe]).expect("write");
        assert!(read_submission(&binary).unwrap_err().contains("not UTF-8"));
        let big = dir.join("big.rs");
        fs::write(&big, vec![b'a'; MAX_SUBMISSION_BYTES as usize + 1]).expect("write");
        assert!(read_submission(&big).unwrap_err().contains("more than"));
        let prose = dir.join("prose.rs");
        fs::write(&prose, "I did not do the lab\n").expect("write");
        assert!(read_submission(&prose).unwrap_err().contains("no Rust"));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn csv_rows_quote_what_needs_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        let header = csv_header();
        assert!(header.starts_with("name,E1,E2,E3,E4,E5,E6,R1,R2,R3,R4,scenarios.election,scenarios.replication,hidden,total,max,status,reason"));
        let mut report = MachineReport::default();
        for step in Step::ALL {
            report.steps.insert(step, Verdict::Pass);
        }
        report.steps.insert(Step::Replication4, Verdict::Fail);
        for part in Part::ALL {
            report.scenarios.insert(part, Verdict::Pass);
        }
        let row = Row {
            name: "alice".to_string(),
            source: PathBuf::from("alice"),
            status: Status::Graded,
            reason: summary_reason(&report),
            report,
            elapsed: Duration::ZERO,
            hidden_max: 8,
        };
        let line = csv_row(&row);
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), header.split(',').count(), "{line}");
        assert_eq!(fields[0], "alice");
        assert_eq!(fields[10], "0", "R4 failed: no points");
        assert_eq!(fields[16], "graded");
        assert_eq!(fields[17], "not passed: R4 FAIL");
        let missing = Row {
            name: "bob".to_string(),
            source: PathBuf::from("bob"),
            status: Status::Missing,
            reason: "bob does not exist".to_string(),
            report: MachineReport::default(),
            elapsed: Duration::ZERO,
            hidden_max: 0,
        };
        assert!(
            csv_row(&missing).ends_with(",0,0,100,missing,bob does not exist"),
            "{}",
            csv_row(&missing)
        );
    }

    #[test]
    fn a_failure_json_parses_as_json_with_the_reason() {
        let text = failure_json(
            "does not compile",
            "error[E0425]: \"x\"\n  --> raft.rs:1",
            8,
        );
        assert!(text.contains("\"max_score\": 108"), "{text}");
        assert!(text.contains("\"score\": 0"));
        assert!(
            text.contains("error[E0425]: \\\"x\\\"\\n  --> raft.rs:1"),
            "{text}"
        );
    }
}
