//! The judge: runs a case in a host process and decides its verdict.
//!
//! ```text
//! judge (this process, no student code)         host (raftlab-host)
//!   spawn, own process group, rlimits    ─────▶
//!   Hello, checked                       ◀─────  Hello { version, digest }
//!   Run { case, seeds }                  ─────▶
//!   for each seed:                               for each seed:
//!     the case's code, against replies   ◀─────    the case's code, against
//!     (a deadline per seed)                        live nodes: every reply
//!   classify: PASS, FAIL, TODO,
//!   BLOCKED BY, TIMEOUT
//!   Quit, then kill the group            ─────▶
//! ```
//!
//! The pieces are separate: [`spawn`] starts the host, [`collect`] runs
//! the case's code against its replies, and [`classify`] (a pure function)
//! turns what happened into a verdict.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::process::{self, Captured, Limits, OutputLimits, OutputReader};
use crate::cases::{Case, Ctx};
use crate::drive::protocol::{Frame, PROTOCOL_VERSION, Request, write_frame};
use crate::drive::replay::{Broken, Replay};
use crate::model::{Failure, Kind, Outcome, Seed, Step};
use crate::registry;
use crate::sim::{Event, Schedule};

/// How a host process is started: the program, and what wraps it (a
/// sandbox, when grading submissions).
pub trait Launcher: Sync {
    /// Starts a host serving on its stdin and stdout (both piped, and its
    /// stderr), bounded by the launcher's limits.
    fn launch(&self) -> Result<Box<dyn Launched>, String>;
    /// What runs, for messages: `target/release/raftlab-host`.
    fn describe(&self) -> String;
}

/// A started host process.
pub trait Launched: Send {
    /// The process: its stdin, stdout and stderr are taken once.
    fn child(&mut self) -> &mut Child;
    /// How it ended, if it has (without waiting).
    fn exited(&mut self) -> Option<ExitStatus>;
    /// Ends it and everything it started, waiting up to `grace` for it to
    /// exit by itself first; returns how it ended.
    fn end(&mut self, grace: Duration) -> Option<ExitStatus>;
}

/// A child in a process group of its own, as [`process::spawn`] starts it.
pub struct Grouped(pub Child);

impl Launched for Grouped {
    fn child(&mut self) -> &mut Child {
        &mut self.0
    }
    fn exited(&mut self) -> Option<ExitStatus> {
        process::wait_until(&mut self.0, Instant::now())
            .ok()
            .flatten()
    }
    fn end(&mut self, grace: Duration) -> Option<ExitStatus> {
        let exited = process::wait_until(&mut self.0, Instant::now() + grace)
            .ok()
            .flatten();
        let killed = process::kill_group(&mut self.0).ok();
        exited.or(killed)
    }
}

/// A host binary run as is: the student's own runs.
#[derive(Clone, Debug)]
pub struct Direct {
    pub program: PathBuf,
    /// Environment variables passed on (`RUST_LOG`, ...); the rest of the
    /// environment is kept as well.
    pub env: Vec<(OsString, OsString)>,
    pub limits: Limits,
}

/// The address space one host may map: a runaway allocation fails there.
pub const MEMORY_LIMIT_BYTES: u64 = 4 << 30;

impl Direct {
    pub fn new(program: PathBuf) -> Direct {
        Direct {
            program,
            env: Vec::new(),
            limits: Limits {
                address_space: Some(MEMORY_LIMIT_BYTES),
                ..Limits::default()
            },
        }
    }
}

impl Launcher for Direct {
    fn launch(&self) -> Result<Box<dyn Launched>, String> {
        let mut command = Command::new(&self.program);
        command
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = process::spawn(&mut command, &self.limits)
            .map_err(|e| format!("could not start {}: {e}", self.program.display()))?;
        Ok(Box::new(Grouped(child)))
    }
    fn describe(&self) -> String {
        self.program.display().to_string()
    }
}

/// The wall-clock guard of one step case, before scaling: far more than a
/// correct node needs; only an endless loop reaches it.
pub const STEP_TIME_LIMIT: Duration = Duration::from_secs(10);
/// The wall-clock guard of one seed of a scenario, before scaling.
pub const SEED_TIME_LIMIT: Duration = Duration::from_secs(20);
/// The wall-clock guard of a search, before scaling: its bounds are in
/// states, so only an endless loop reaches this (each of the reference's
/// searches takes a few seconds at most).
pub const SEARCH_TIME_LIMIT: Duration = Duration::from_secs(60);
/// How long a host may take to start and say hello.
pub const START_TIME_LIMIT: Duration = Duration::from_secs(30);

/// How a case is run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Keep a readable trace and the events of a failing run.
    pub tracing: bool,
    /// Multiplies every wall-clock guard (slow machines: 2.0).
    pub timeout_scale: f64,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            tracing: false,
            timeout_scale: 1.0,
        }
    }
}

/// A case's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    /// The behaviour is wrong (or the code under test crashed).
    Fail,
    /// The case reached its own step's `todo!()`: not written yet.
    Todo,
    /// The case reached another step's `todo!()`.
    Blocked(Step),
    /// A run went past its wall-clock guard: an endless loop, most likely.
    Timeout,
}

/// What running one case gave.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub case: Case,
    pub status: Status,
    /// What went wrong, in a line or a few; empty on a pass.
    pub message: String,
    /// The seed of the run that did not pass.
    pub seed: Option<Seed>,
    /// Runs that passed.
    pub passed_seeds: u64,
    /// The failing run's trace and events, when tracing.
    pub trace: Vec<String>,
    pub events: Vec<Event>,
    /// The library's log lines, when `RUST_LOG` asked for them.
    pub logs: Vec<String>,
    /// The last lines the host wrote to stderr (what the code under test
    /// printed).
    pub output: Vec<String>,
    pub elapsed: Duration,
    /// The case's own line about its last run (a search: its bounds and
    /// states).
    pub summary: Option<String>,
    /// The failing run, shrunk, when it could be.
    pub shrunk: Option<Shrunk>,
    /// Why a failing run was not shrunk, when shrinking was tried.
    pub not_shrunk: Option<String>,
}

/// A failing run shrunk to the decisions that matter.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// Decisions in the original run and in the shrunk one.
    pub from: usize,
    pub to: usize,
    /// The shrunk run's failure, its trace, events and schedule.
    pub message: String,
    pub trace: Vec<String>,
    pub events: Vec<Event>,
    pub schedule: Schedule,
    /// Candidate runs it took.
    pub runs: u64,
}

/// What a run of a case leaves besides its outcome.
#[derive(Clone, Debug, Default)]
pub struct Kept {
    pub trace: Vec<String>,
    pub events: Vec<Event>,
    /// The run's schedule, recorded when tracing.
    pub schedule: Schedule,
    pub summary: Option<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
}

/// How a run of the case's code ended, as [`collect`] saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every seed ran; the first one whose outcome was an error, if any.
    Ran {
        failed: Option<(Seed, Failure)>,
        passed: u64,
    },
    /// The replay broke during `seed`'s run (or before any, `None`).
    Broke { seed: Option<Seed>, cause: Broken },
}

/// Turns how a run ended into a verdict and a message. `exit` is how the
/// host process ended, when it did before it was asked to.
pub fn classify(case: &Case, ending: &Ending, exit: Option<&str>) -> (Status, String) {
    match ending {
        Ending::Ran { failed: None, .. } => (Status::Pass, String::new()),
        Ending::Ran {
            failed: Some((_, f)),
            ..
        } => classify_failure(case, f),
        Ending::Broke { cause, .. } => match cause {
            Broken::TimedOut => (
                Status::Timeout,
                "no answer within the time limit: an endless loop, or a step that blocks"
                    .to_string(),
            ),
            Broken::Ended => {
                let how = exit.unwrap_or("stopped");
                (
                    Status::Fail,
                    format!(
                        "the process running your code {how} in the middle of the case{}",
                        crash_hint(how)
                    ),
                )
            }
            Broken::Protocol(what) => (
                Status::Fail,
                format!(
                    "the process running your code did not answer as the grader's host does ({what}); is something in raft.rs writing to its output or ending the process?"
                ),
            ),
        },
    }
}

/// A hint for how a host died.
fn crash_hint(how: &str) -> &'static str {
    if how.contains("SIGSEGV") || how.contains("SIGBUS") {
        " (a stack overflow: endless recursion?)"
    } else if how.contains("SIGABRT") {
        " (an abort: a panic while panicking, or an allocation beyond the memory limit?)"
    } else if how.contains("SIGKILL") || how.contains("SIGXCPU") {
        " (killed at a resource limit)"
    } else if how.contains("exited") {
        " (does raft.rs call std::process::exit?)"
    } else {
        ""
    }
}

/// The verdict of a case whose code returned `f`: TODO at its own step's
/// hole, BLOCKED at another's it may not run, else FAIL.
pub fn classify_failure(case: &Case, f: &Failure) -> (Status, String) {
    match (f.hole, case.kind) {
        (Some(hole), Kind::Step(own)) if hole == own => (
            Status::Todo,
            format!("not implemented yet: the case reached the todo!() of {own}"),
        ),
        (Some(hole), Kind::Scenario(part) | Kind::Search(part)) if hole.part() == part => (
            Status::Blocked(hole),
            format!(
                "reached the todo!() of {hole}: the {} {} need every {} step",
                part.slug(),
                match case.kind {
                    Kind::Search(_) => "searches",
                    _ => "scenarios",
                },
                part.slug()
            ),
        ),
        (Some(hole), _) => {
            let why = case
                .why_it_uses(hole)
                .map(|w| format!(": {w}"))
                .unwrap_or_else(|| format!(": this case also runs {hole}'s code"));
            (
                Status::Blocked(hole),
                format!("reached the todo!() of {hole}{why}"),
            )
        }
        (None, _) => {
            let mut message = f.message.clone();
            let done_uses: Vec<String> = case.uses.iter().map(|(s, _)| s.to_string()).collect();
            if !done_uses.is_empty() && matches!(case.kind, Kind::Step(_)) {
                message.push_str(&format!(
                    " (this case also runs the code of {})",
                    done_uses.join(", ")
                ));
            }
            (Status::Fail, message)
        }
    }
}

/// A running host.
pub struct Host {
    process: Box<dyn Launched>,
    stdin: Option<ChildStdin>,
    pub replay: Replay,
    output: Option<OutputReader>,
}

/// Starts a host with `launcher`, and checks its hello.
pub fn spawn(launcher: &dyn Launcher, options: &RunOptions) -> Result<Host, String> {
    let mut process = launcher.launch()?;
    let stdin = process.child().stdin.take();
    let Some(stdout) = process.child().stdout.take() else {
        process.end(Duration::ZERO);
        return Err("the host's output was not piped".to_string());
    };
    let output = OutputReader::start(
        process.child(),
        OutputLimits {
            stdout_bytes: 0,
            stderr_lines: 40,
            line_bytes: 1000,
        },
    );
    let mut host = Host {
        process,
        stdin,
        replay: Replay::new(stdout),
        output: Some(output),
    };
    host.replay.set_limit(scaled(START_TIME_LIMIT, options));
    match host.replay.next_frame() {
        Ok(Frame::Hello { version, digest })
            if version == PROTOCOL_VERSION && digest == registry::digest() =>
        {
            Ok(host)
        }
        Ok(Frame::Hello { .. }) => {
            let (_, tail) = host.finish();
            Err(format!(
                "{} was built from other grader sources than this grader: rebuild both (./raftlab_test.sh does){}",
                launcher.describe(),
                tail_text(&tail)
            ))
        }
        Ok(other) => {
            let (_, tail) = host.finish();
            Err(format!(
                "{} did not start as a host (its first frame was {other:?}){}",
                launcher.describe(),
                tail_text(&tail)
            ))
        }
        Err(cause) => {
            let (exit, tail) = host.finish();
            let how = exit.map(process::describe_exit).unwrap_or_default();
            Err(format!(
                "{} did not start ({cause:?}{}){}",
                launcher.describe(),
                if how.is_empty() {
                    String::new()
                } else {
                    format!(", {how}")
                },
                tail_text(&tail)
            ))
        }
    }
}

fn tail_text(tail: &[String]) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!(":\n{}", tail.join("\n"))
    }
}

fn scaled(limit: Duration, options: &RunOptions) -> Duration {
    limit.mul_f64(options.timeout_scale.max(0.01))
}

impl Host {
    fn send(&mut self, request: &Request) -> bool {
        match self.stdin.as_mut() {
            Some(stdin) => write_frame(stdin, request).is_ok(),
            None => false,
        }
    }

    /// Ends the host: asks it to quit, gives it a moment, kills its whole
    /// process group. Returns how it ended and the tail of its stderr.
    pub fn finish(mut self) -> (Option<ExitStatus>, Vec<String>) {
        let quit = self.send(&Request::Quit);
        drop(self.stdin.take());
        let grace = Duration::from_millis(if quit { 500 } else { 50 });
        let status = self.process.end(grace);
        let captured: Captured = self
            .output
            .take()
            .map(|o| o.finish(Duration::from_millis(200)))
            .unwrap_or_default();
        (status, captured.stderr_tail)
    }

    /// Whether the host process has already ended, and how.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.process.exited()
    }
}

/// Runs `case` for every seed against `host`, until the first run that
/// does not pass. Returns how it ended; `keep` gets what each run left,
/// the run that did not pass last. With `schedule`, each run replays it
/// instead of running the case.
pub fn collect(
    host: &mut Host,
    case: &Case,
    seeds: &[Seed],
    options: &RunOptions,
    schedule: Option<&Schedule>,
    keep: &mut dyn FnMut(Kept),
) -> Ending {
    let limit = match case.kind {
        Kind::Step(_) => STEP_TIME_LIMIT,
        Kind::Scenario(_) => SEED_TIME_LIMIT,
        Kind::Search(_) if schedule.is_some() => SEED_TIME_LIMIT,
        Kind::Search(_) => SEARCH_TIME_LIMIT,
    };
    let request = Request::Run {
        case: case.name.to_string(),
        seeds: seeds.to_vec(),
        // A search's host computes long between replies: each goes out at
        // once, so the two sides search side by side.
        flush_each: options.tracing || matches!(case.kind, Kind::Search(_)),
        schedule: schedule.cloned(),
    };
    if !host.send(&request) {
        return Ending::Broke {
            seed: seeds.first().copied(),
            cause: Broken::Ended,
        };
    }
    let mut passed = 0;
    for &seed in seeds {
        host.replay.set_limit(scaled(limit, options));
        if let Err(cause) = host.replay.expect_begin(seed) {
            return Ending::Broke {
                seed: Some(seed),
                cause,
            };
        }
        let mut ctx = Ctx::new(*case, seed, &mut host.replay, options.tracing);
        ctx.schedule = schedule.cloned();
        let outcome: Outcome = (case.run)(&mut ctx);
        let kept = Kept {
            trace: std::mem::take(&mut ctx.trace),
            events: std::mem::take(&mut ctx.events),
            schedule: std::mem::take(&mut ctx.recorded),
            summary: ctx.summary.take(),
        };
        drop(ctx);
        keep(kept);
        // A broken replay made the case's code stop: its cause is the
        // verdict, not the case's view of it.
        if let Some(cause) = host.replay.broken.clone() {
            return Ending::Broke {
                seed: Some(seed),
                cause,
            };
        }
        if let Err(f) = outcome {
            return Ending::Ran {
                failed: Some((seed, f)),
                passed,
            };
        }
        if let Err(cause) = host.replay.expect_end(0) {
            return Ending::Broke {
                seed: Some(seed),
                cause,
            };
        }
        passed += 1;
    }
    if let Err(cause) = host.replay.expect_done() {
        return Ending::Broke { seed: None, cause };
    }
    Ending::Ran {
        failed: None,
        passed,
    }
}

/// Runs `case` for `seeds` in a new host from `launcher`: the whole of
/// spawn, collect and classify.
pub fn run_case(
    launcher: &dyn Launcher,
    case: &Case,
    seeds: &[Seed],
    options: &RunOptions,
) -> CaseResult {
    let started = Instant::now();
    let mut result = CaseResult {
        case: *case,
        status: Status::Fail,
        message: String::new(),
        seed: None,
        passed_seeds: 0,
        trace: Vec::new(),
        events: Vec::new(),
        logs: Vec::new(),
        output: Vec::new(),
        elapsed: Duration::ZERO,
        summary: None,
        shrunk: None,
        not_shrunk: None,
    };
    let mut host = match spawn(launcher, options) {
        Ok(host) => host,
        Err(e) => {
            result.message = e;
            result.elapsed = started.elapsed();
            return result;
        }
    };
    let mut kept: Option<Kept> = None;
    let ending = collect(&mut host, case, seeds, options, None, &mut |k| {
        kept = Some(k);
    });
    let early_exit = host.exited();
    result.logs = std::mem::take(&mut host.replay.logs);
    let (exit, tail) = host.finish();
    let exit_text = early_exit.or(exit).map(process::describe_exit);
    let (status, message) = classify(case, &ending, exit_text.as_deref());
    result.status = status;
    result.message = message;
    result.output = tail;
    match &ending {
        Ending::Ran { failed, passed } => {
            result.passed_seeds = *passed;
            result.seed = failed.as_ref().map(|(s, _)| *s);
        }
        Ending::Broke { seed, .. } => result.seed = *seed,
    }
    if let Some(kept) = kept {
        result.summary = kept.summary;
        // A traced run is shown when it passes too: a replay shows it.
        if options.tracing || !matches!(ending, Ending::Ran { failed: None, .. }) {
            result.trace = kept.trace;
            result.events = kept.events;
        }
    }
    result.elapsed = started.elapsed();
    result
}

/// Prints `message` to `out` and flushes, ignoring errors: progress lines.
pub fn progress(out: &mut dyn Write, message: &str) {
    let _ = write!(out, "{message}");
    let _ = out.flush();
}
