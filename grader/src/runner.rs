//! The runner: every case in its own child process, judged by the parent.
//!
//! The code under test is a student's: it may panic, loop forever, call
//! `std::process::exit`, abort, or allocate until the machine gives up. So
//! each case runs in a child process (the same binary, re-invoked as
//! `raftlab __case NAME ...`), and only the parent decides the outcome:
//!
//! ```text
//! parent                                    child (raftlab __case e3::x --seed 0x0)
//!   spawn, in its own process group,
//!   under `ulimit -v` (address space)
//!   stdin: "<nonce>\n", then kept open ───▶ reads the nonce; a watchdog thread
//!                                           exits when stdin closes (parent gone)
//!                                           runs the case under catch_unwind
//!   scans stdout for the nonce         ◀─── @@raftlab <nonce> seed 0x0
//!   keeps the last 40 other lines      ◀─── (whatever the student prints)
//!                                      ◀─── @@raftlab <nonce> trace <line>   (on failure)
//!                                      ◀─── @@raftlab <nonce> fail 0x0 <message>
//!   waits for exit, or kills the
//!   process group at the time limit
//! ```
//!
//! A case passes only when its `pass` line arrived and the child exited
//! with status 0: an early exit, a signal or a hang is never a pass. The
//! nonce is random per child and travels on stdin, so nothing the student
//! prints (and nothing the student's code finds in its environment) can
//! forge a result line.
//!
//! The parent enforces every limit: a wall-clock limit per case (10 s for a
//! step case, 60 s for a scenario over all its seeds, times
//! `--timeout-scale`) and an address-space limit (4 GiB) so that a runaway
//! allocation fails fast in the child instead of taking the machine down.

use std::collections::VecDeque;
use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::panic;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::case::{Case, Ctx, Kind, Part};
use crate::report::{Graded, Report, ReportSettings, Visibility};
use crate::skeleton::Step;
use crate::variant::{self, Variant};

/// The hidden subcommand that runs one case in a child process.
pub const CHILD_COMMAND: &str = "__case";

/// The first word of every protocol line; the nonce follows.
const MARKER: &str = "@@raftlab";

/// How many lines of the child's own stdout and stderr are kept for the
/// failure report.
pub const TAIL_LINES: usize = 40;

/// Longer lines from a child are cut here, so one endless `print!` cannot
/// exhaust the parent's memory.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// A failure message longer than this is cut in the child.
const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// At most this many trace lines are sent back; a replay of a long scenario
/// stays readable and bounded.
const MAX_TRACE_LINES: usize = 200_000;

/// The wall-clock limit of a step case, before `--timeout-scale`.
pub const STEP_TIME_LIMIT: Duration = Duration::from_secs(10);

/// The wall-clock limit of a scenario over all its seeds.
pub const SCENARIO_TIME_LIMIT: Duration = Duration::from_secs(60);

/// The default address-space limit of a child, in KiB (4 GiB).
pub const MEMORY_LIMIT_KIB: u64 = 4 * 1024 * 1024;

/// The seeds a scenario runs by default: `0..DEFAULT_SEEDS`.
pub const DEFAULT_SEEDS: u64 = 100;

/// How a set of cases is run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Scenarios run seeds `0..seeds`, stopping at the first failing one.
    pub seeds: u64,
    /// Run only this seed (step cases and scenarios alike).
    pub only_seed: Option<u64>,
    /// Record and return the trace of every run (for a replay).
    pub trace: bool,
    /// Where the case should write its HTML timeline (a replay).
    pub html: Option<PathBuf>,
    /// How many children run at once.
    pub jobs: usize,
    /// Multiplies every time limit (slow machines: 2.0).
    pub timeout_scale: f64,
    /// The address-space limit of each child in KiB; `None` for no limit.
    pub memory_limit_kib: Option<u64>,
    /// Print a progress line on stderr while cases run (only when stderr
    /// is a terminal).
    pub progress: bool,
    /// Where the reference's snapshots are, to show where a failing run
    /// left the reference's trace; `None` to compare with nothing.
    pub snapshots: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seeds: DEFAULT_SEEDS,
            only_seed: None,
            trace: false,
            html: None,
            jobs: thread::available_parallelism().map_or(1, usize::from),
            timeout_scale: 1.0,
            memory_limit_kib: Some(MEMORY_LIMIT_KIB),
            progress: false,
            snapshots: Some(snapshot_dir()),
        }
    }
}

impl Options {
    /// The wall-clock limit of `case`, scaled.
    pub fn time_limit(&self, case: &Case) -> Duration {
        let base = match case.kind {
            Kind::Step(_) => STEP_TIME_LIMIT,
            Kind::Scenario(_) => SCENARIO_TIME_LIMIT,
        };
        base.mul_f64(self.timeout_scale.max(0.0))
    }

    /// The seeds `case` runs: one for a step case (0 unless one is chosen),
    /// `0..seeds` for a scenario.
    pub fn seeds_of(&self, case: &Case) -> SeedRange {
        match (self.only_seed, case.kind) {
            (Some(seed), _) => SeedRange::One(seed),
            (None, Kind::Step(_)) => SeedRange::One(0),
            (None, Kind::Scenario(_)) => SeedRange::Count(self.seeds),
        }
    }
}

/// The seeds one child runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedRange {
    One(u64),
    /// `0..n`.
    Count(u64),
}

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// The case reached the `todo!()` of another step.
    Blocked(Step),
    /// The parent killed it at its time limit.
    Timeout,
}

/// Everything the parent learned from one child.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub case: Case,
    pub status: Status,
    /// The seed the status is about: the failing (or hanging, or blocked)
    /// seed; `None` for a pass, or when the child died before naming one.
    pub seed: Option<u64>,
    /// What went wrong, for a person: `term after become_candidate: got 1,
    /// want 2`, `panicked at raft/src/raft.rs:120: ...`. Empty for a pass.
    pub message: String,
    /// The trace the case recorded (see [`Ctx::trace`]): every run's with
    /// `--trace`, otherwise only a failing step case's.
    pub trace: Vec<String>,
    /// Where the trace first leaves the reference's, when a reference
    /// snapshot exists and the case did not pass.
    pub divergence: Option<String>,
    /// The last lines the code under test printed itself.
    pub stdout_tail: Vec<String>,
    pub stderr_tail: Vec<String>,
    pub elapsed: Duration,
    /// The limit the case ran under.
    pub time_limit: Duration,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
}

/// Formats a seed the way the report and `--seed` show it: `0x2a`.
pub fn format_seed(seed: u64) -> String {
    format!("{seed:#x}")
}

/// Reads a seed: decimal (`42`) or hexadecimal (`0x2a`).
pub fn parse_seed(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("{text:?} is not a seed (a number like 42 or 0x2a)"))
}

// ---------------------------------------------------------------------------
// The protocol: one line per event, `@@raftlab <nonce> <kind> <fields>`.

/// Escapes `text` onto one line. With `spaces`, spaces are escaped too, so
/// the result is one word.
fn escape(text: &str, spaces: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ' ' if spaces => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('s') => out.push(' '),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A result line from the child.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Reported {
    Pass,
    Fail {
        seed: u64,
        message: String,
    },
    Panic {
        seed: u64,
        location: String,
        message: String,
    },
}

/// One protocol line, once the marker and the nonce are stripped.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    Seed(u64),
    Trace(String),
    Result(Reported),
}

fn parse_event(rest: &str) -> Option<Event> {
    let (kind, fields) = rest.split_once(' ').unwrap_or((rest, ""));
    let seed_and_rest = |fields: &str| -> Option<(u64, String)> {
        let (seed, rest) = fields.split_once(' ').unwrap_or((fields, ""));
        Some((parse_seed(seed).ok()?, rest.to_string()))
    };
    match kind {
        "seed" => parse_seed(fields).ok().map(Event::Seed),
        "trace" => Some(Event::Trace(unescape(fields))),
        "pass" => Some(Event::Result(Reported::Pass)),
        "fail" => {
            let (seed, message) = seed_and_rest(fields)?;
            Some(Event::Result(Reported::Fail {
                seed,
                message: unescape(&message),
            }))
        }
        "panic" => {
            let (seed, rest) = seed_and_rest(fields)?;
            let (location, message) = rest.split_once(' ').unwrap_or((&rest, ""));
            Some(Event::Result(Reported::Panic {
                seed,
                location: unescape(location),
                message: unescape(message),
            }))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// The child.

/// The panic the case's thread hit last: message and `file:line`.
static LAST_PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);

fn panic_payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a payload that is not text".to_string()
    }
}

fn cut(mut text: String, max_bytes: usize) -> String {
    if text.len() > max_bytes {
        let mut end = max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str(" …(cut)");
    }
    text
}

/// What a child was asked to do, from `__case NAME ...`.
struct ChildArgs {
    name: String,
    seeds: SeedRange,
    /// Trace every run and send back the trace of the run that ends the
    /// case (the failing one, or the last).
    trace: bool,
    /// Trace every run but send the trace back only on a failure.
    trace_on_failure: bool,
    html: Option<PathBuf>,
}

fn parse_child_args(args: &[OsString]) -> Result<ChildArgs, String> {
    let mut args = args.iter().map(|a| a.to_string_lossy().into_owned());
    let name = args.next().ok_or("missing the case name")?;
    let mut parsed = ChildArgs {
        name,
        seeds: SeedRange::One(0),
        trace: false,
        trace_on_failure: false,
        html: None,
    };
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--seed" => parsed.seeds = SeedRange::One(parse_seed(&value("--seed")?)?),
            "--seeds" => {
                let text = value("--seeds")?;
                let count = text
                    .parse()
                    .map_err(|_| format!("--seeds {text:?} is not a count"))?;
                parsed.seeds = SeedRange::Count(count);
            }
            "--trace" => parsed.trace = true,
            "--trace-on-failure" => parsed.trace_on_failure = true,
            "--html" => parsed.html = Some(PathBuf::from(value("--html")?)),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(parsed)
}

/// Writes protocol lines for one child run.
struct Reporter {
    prefix: String,
}

impl Reporter {
    fn send(&self, line: &str) {
        self.send_all(std::iter::once(line.to_string()));
    }

    /// Writes the lines under one lock and one flush. The parent is gone
    /// if stdout is closed: nobody is left to tell, so leave.
    fn send_all(&self, lines: impl Iterator<Item = String>) {
        let mut out = io::BufWriter::new(io::stdout().lock());
        for line in lines {
            if writeln!(out, "{} {line}", self.prefix).is_err() {
                std::process::exit(3);
            }
        }
        if out.flush().is_err() {
            std::process::exit(3);
        }
    }

    fn trace(&self, trace: &[String]) {
        let shown = trace
            .iter()
            .take(MAX_TRACE_LINES)
            .map(|line| format!("trace {}", escape(line, false)));
        let cut = (trace.len() > MAX_TRACE_LINES).then(|| {
            format!(
                "trace … {} more lines not shown",
                trace.len() - MAX_TRACE_LINES
            )
        });
        self.send_all(shown.chain(cut));
    }
}

/// The child's side: `raftlab __case NAME (--seed S | --seeds N) [--trace]
/// [--trace-on-failure] [--html FILE]`, with the nonce on the first line of
/// stdin. Runs the case named `NAME` from `cases` and writes its result as a
/// protocol line. The parent alone interprets what happened; the exit
/// status is 0 once a result line is written.
pub fn child_main(cases: &[Case], args: &[OsString]) -> ExitCode {
    let args = match parse_child_args(args) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("raftlab {CHILD_COMMAND}: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(case) = cases.iter().find(|c| c.name == args.name) else {
        eprintln!("raftlab {CHILD_COMMAND}: no case named {:?}", args.name);
        return ExitCode::from(2);
    };
    let mut nonce = String::new();
    if io::stdin().lock().read_line(&mut nonce).is_err() || nonce.trim().is_empty() {
        eprintln!(
            "raftlab {CHILD_COMMAND}: expected the nonce on stdin; this command is run by \
             `raftlab test`, not by hand"
        );
        return ExitCode::from(2);
    }
    let reporter = Reporter {
        prefix: format!("{MARKER} {}", nonce.trim()),
    };

    // When the parent dies (Ctrl-C, a kill), our stdin closes: leave then,
    // rather than spin on in a loop nobody waits for.
    thread::spawn(|| {
        let mut buffer = [0u8; 64];
        loop {
            match io::stdin().lock().read(&mut buffer) {
                Ok(0) => std::process::exit(3),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => std::process::exit(3),
            }
        }
    });

    // Record panics for the result line instead of printing them: the
    // student sees them in the report, with their location.
    panic::set_hook(Box::new(|info| {
        let message = panic_payload_text(info.payload());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "an unknown location".to_string());
        let mut slot = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some((message, location));
    }));

    let (first_seed, last_seed) = match args.seeds {
        SeedRange::One(seed) => (seed, seed),
        SeedRange::Count(0) => {
            reporter.send("pass");
            return ExitCode::SUCCESS;
        }
        SeedRange::Count(n) => (0, n - 1),
    };
    let tracing = args.trace || args.trace_on_failure;
    for seed in first_seed..=last_seed {
        reporter.send(&format!("seed {}", format_seed(seed)));
        let mut ctx = Ctx::new(seed);
        ctx.case = case.name;
        ctx.tracing = tracing;
        ctx.html = args.html.clone();
        let outcome = panic::catch_unwind(panic::AssertUnwindSafe(|| (case.run)(&mut ctx)));
        let passed = matches!(outcome, Ok(Ok(())));
        // Only the run that ends the case is shown: the failing one, or
        // the last.
        if (args.trace && (!passed || seed == last_seed)) || (args.trace_on_failure && !passed) {
            reporter.trace(&ctx.trace);
        }
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => {
                reporter.send(&format!(
                    "fail {} {}",
                    format_seed(seed),
                    escape(&cut(failure.message, MAX_MESSAGE_BYTES), false)
                ));
                return ExitCode::SUCCESS;
            }
            Err(payload) => {
                let recorded = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
                let (message, location) = recorded.unwrap_or_else(|| {
                    (
                        panic_payload_text(payload.as_ref()),
                        "an unknown location".to_string(),
                    )
                });
                reporter.send(&format!(
                    "panic {} {} {}",
                    format_seed(seed),
                    escape(&location, true),
                    escape(&cut(message, MAX_MESSAGE_BYTES), false)
                ));
                return ExitCode::SUCCESS;
            }
        }
    }
    reporter.send("pass");
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------------------
// The parent.

/// The last `n` lines of a stream.
#[derive(Debug, Default)]
struct Tail {
    lines: VecDeque<String>,
}

impl Tail {
    fn push(&mut self, line: String) {
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

/// Calls `on_line` for each line of `reader` (without its `\n`), each cut
/// at [`MAX_LINE_BYTES`], until end of file or an error.
fn for_each_line(mut reader: impl Read, mut on_line: impl FnMut(String)) {
    let mut buffer = vec![0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let mut emit = |line: &mut Vec<u8>| {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        on_line(String::from_utf8_lossy(line).into_owned());
        line.clear();
    };
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        for chunk in buffer[..n].split_inclusive(|&b| b == b'\n') {
            let (body, complete) = match chunk.strip_suffix(b"\n") {
                Some(body) => (body, true),
                None => (chunk, false),
            };
            let room = MAX_LINE_BYTES.saturating_sub(line.len());
            line.extend_from_slice(&body[..body.len().min(room)]);
            if complete {
                emit(&mut line);
            }
        }
    }
    if !line.is_empty() {
        emit(&mut line);
    }
}

/// What the parent collected from a child's stdout.
#[derive(Debug, Default)]
struct Collected {
    result: Option<Reported>,
    last_seed: Option<u64>,
    trace: Vec<String>,
    tail: Tail,
}

fn make_nonce() -> String {
    // A randomly keyed hasher: a fresh 64-bit secret per child, without a
    // dependency or a global RNG.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

/// The command that runs `program __case ...` under the memory limit.
fn child_command(
    program: &Path,
    child_args: &[OsString],
    memory_limit_kib: Option<u64>,
) -> Command {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new("/bin/sh");
        // `ulimit` may be refused on some systems: run without the limit
        // rather than not at all. `exec` keeps the pid, so the parent's
        // kill and wait reach the case itself.
        let script = match memory_limit_kib {
            Some(kib) => format!("ulimit -v {kib} 2>/dev/null; exec \"$0\" \"$@\""),
            None => "exec \"$0\" \"$@\"".to_string(),
        };
        command.arg("-c").arg(script).arg(program).args(child_args);
        // Its own process group, so a timeout kills whatever it started too.
        command.process_group(0);
        command
    }
    #[cfg(not(unix))]
    {
        let _ = memory_limit_kib;
        let mut command = Command::new(program);
        command.args(child_args);
        command
    }
}

/// Kills the child and every process in its group.
fn kill_tree(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("/bin/sh")
            .arg("-c")
            .arg("kill -s KILL -- -\"$1\" 2>/dev/null")
            .arg("sh")
            .arg(child.id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// Waits for the child's exit until `deadline`.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    let mut pause = Duration::from_micros(100);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// `SIGABRT`, ...: the names students will search for.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        _ => return format!("signal {signal}"),
    };
    format!("signal {signal} ({name})")
}

fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by {}", signal_name(signal));
        }
    }
    match status.code() {
        Some(code) => format!("exited early (status {code})"),
        None => format!("ended with {status}"),
    }
}

/// Reads `not yet implemented: RaftLab Election Step3` as the step whose
/// hole was reached.
pub fn hole_reached(panic_message: &str) -> Option<Step> {
    let name = panic_message.strip_prefix("not yet implemented: RaftLab ")?;
    Step::ALL
        .into_iter()
        .find(|step| step.name() == name.trim())
}

/// Runs one case in a child process of `program` (a binary whose
/// [`CHILD_COMMAND`] calls [`child_main`] over a registry holding `case`).
pub fn run_case(program: &Path, case: &Case, options: &Options) -> CaseResult {
    let started = Instant::now();
    let time_limit = options.time_limit(case);
    let mut child_args: Vec<OsString> = vec![CHILD_COMMAND.into(), case.name.into()];
    match options.seeds_of(case) {
        SeedRange::One(seed) => {
            child_args.extend(["--seed".into(), format_seed(seed).into()]);
        }
        SeedRange::Count(n) => child_args.extend(["--seeds".into(), n.to_string().into()]),
    }
    if options.trace {
        child_args.push("--trace".into());
        if let Some(html) = &options.html {
            child_args.extend(["--html".into(), html.clone().into_os_string()]);
        }
    } else if matches!(case.kind, Kind::Step(_)) {
        // Cheap for a unit case, and what lets a failure be compared with
        // the reference's run.
        child_args.push("--trace-on-failure".into());
    }

    let mut result = CaseResult {
        case: *case,
        status: Status::Fail,
        seed: None,
        message: String::new(),
        trace: Vec::new(),
        divergence: None,
        stdout_tail: Vec::new(),
        stderr_tail: Vec::new(),
        elapsed: Duration::ZERO,
        time_limit,
    };

    let mut command = child_command(program, &child_args, options.memory_limit_kib);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            result.message = format!("cannot start {}: {e}", program.display());
            result.elapsed = started.elapsed();
            return result;
        }
    };
    let nonce = make_nonce();
    // Kept open until the child is done: its closing tells the child that
    // the parent is gone.
    let mut stdin = child.stdin.take();
    if let Some(stdin) = &mut stdin {
        // A child that already died cannot read it: its exit says more.
        let _ = stdin.write_all(format!("{nonce}\n").as_bytes());
        let _ = stdin.flush();
    }

    let collected = Arc::new(Mutex::new(Collected::default()));
    let (stdout_done, stdout_eof) = mpsc::channel::<()>();
    if let Some(stdout) = child.stdout.take() {
        let collected = Arc::clone(&collected);
        let marker = format!("{MARKER} {nonce} ");
        thread::spawn(move || {
            for_each_line(stdout, |line| {
                let mut collected = collected.lock().unwrap_or_else(|e| e.into_inner());
                let found = line
                    .find(&marker)
                    .and_then(|at| Some((at, parse_event(&line[at + marker.len()..])?)));
                let event = match found {
                    Some((at, event)) => {
                        // The student's unfinished `print!` before our line.
                        if at > 0 {
                            collected.tail.push(line[..at].to_string());
                        }
                        Some(event)
                    }
                    None => None,
                };
                match event {
                    Some(Event::Seed(seed)) => {
                        collected.last_seed = Some(seed);
                        collected.trace.clear();
                    }
                    Some(Event::Trace(text)) => collected.trace.push(text),
                    Some(Event::Result(reported)) => {
                        // The first result counts; anything after it is
                        // the student's code misbehaving on its way out.
                        if collected.result.is_none() {
                            collected.result = Some(reported);
                        }
                    }
                    None => collected.tail.push(line),
                }
            });
            drop(stdout_done);
        });
    }
    let stderr_tail = Arc::new(Mutex::new(Tail::default()));
    let (stderr_done, stderr_eof) = mpsc::channel::<()>();
    if let Some(stderr) = child.stderr.take() {
        let tail = Arc::clone(&stderr_tail);
        thread::spawn(move || {
            for_each_line(stderr, |line| {
                tail.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            });
            drop(stderr_done);
        });
    }

    let deadline = started + time_limit;
    let stdout_closed = !matches!(
        stdout_eof.recv_timeout(deadline.saturating_duration_since(Instant::now())),
        Err(RecvTimeoutError::Timeout)
    );
    let status = if stdout_closed {
        wait_until(&mut child, deadline)
    } else {
        None
    };
    let status = match status {
        Some(status) => Some(status),
        None => {
            kill_tree(&mut child);
            let _ = child.wait();
            None
        }
    };
    drop(stdin);
    // The last stderr lines tell why a child died: give the reader a moment
    // to drain them (bounded: a process that escaped the group may hold the
    // pipe open).
    let _ = stderr_eof.recv_timeout(Duration::from_secs(1));
    let _ = stdout_eof.recv_timeout(Duration::from_millis(200));
    result.elapsed = started.elapsed();

    let collected = std::mem::take(&mut *collected.lock().unwrap_or_else(|e| e.into_inner()));
    result.stdout_tail = collected.tail.lines.into();
    result.stderr_tail =
        std::mem::take(&mut stderr_tail.lock().unwrap_or_else(|e| e.into_inner()).lines).into();
    result.trace = collected.trace;
    result.seed = collected.last_seed;

    let Some(status) = status else {
        result.status = Status::Timeout;
        result.message = format!(
            "did not finish within its {} limit: an endless loop, or a livelock? \
             (on a slow machine, try --timeout-scale 2)",
            format_duration(time_limit)
        );
        return result;
    };
    match collected.result {
        Some(Reported::Pass) if status.success() => {
            result.status = Status::Pass;
            result.seed = None;
        }
        Some(Reported::Pass) => {
            // Something the case left behind (a thread, a destructor)
            // ended the process badly: not a clean pass.
            result.message = match status.code() {
                Some(code) => {
                    format!("the case finished, but its process then exited with status {code}")
                }
                None => format!(
                    "the case finished, but its process was then {}",
                    describe_exit(status)
                ),
            };
        }
        Some(Reported::Fail { seed, message }) => {
            result.seed = Some(seed);
            result.message = message;
        }
        Some(Reported::Panic {
            seed,
            location,
            message,
        }) => {
            result.seed = Some(seed);
            match (hole_reached(&message), case.kind) {
                (Some(step), Kind::Step(own)) if step == own => {
                    result.message = format!("not implemented yet: todo!() reached at {location}");
                }
                (Some(step), _) => {
                    result.status = Status::Blocked(step);
                    result.message = format!("reached the todo!() of {step} at {location}");
                }
                (None, _) => result.message = format!("panicked at {location}: {message}"),
            }
        }
        None => {
            let mut message = format!("{} before the case finished", describe_exit(status));
            let out_of_memory = result
                .stderr_tail
                .iter()
                .any(|line| line.contains("memory allocation of"));
            if out_of_memory && let Some(kib) = options.memory_limit_kib {
                message.push_str(&format!(
                    " (out of memory: the limit is {} GiB; unbounded growth?)",
                    kib / (1024 * 1024)
                ));
            }
            result.message = message;
        }
    }
    if result.status != Status::Pass {
        result.divergence = options
            .snapshots
            .as_deref()
            .and_then(|dir| reference_trace_in(dir, case.name))
            .and_then(|reference| first_divergence(&reference, &result.trace));
    }
    if result.status == Status::Pass && !options.trace {
        result.trace.clear();
    }
    result
}

/// `10 s`, `0.5 s`.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds >= 10.0 || seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{seconds:.1} s")
    }
}

/// Runs every case of `cases` in its own child process of `program`, up to
/// `options.jobs` at a time, and returns the results in the order of
/// `cases` (not the order they finished in).
pub fn run_cases(program: &Path, cases: &[Case], options: &Options) -> Vec<CaseResult> {
    // Scenarios take longest: start them first so they do not end up
    // running alone at the end.
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by_key(|&i| matches!(cases[i].kind, Kind::Step(_)));
    let slots: Vec<Mutex<Option<CaseResult>>> = cases.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let show_progress = options.progress && io::stderr().is_terminal() && !cases.is_empty();
    let jobs = options.jobs.clamp(1, cases.len().max(1));
    thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let taken = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&index) = order.get(taken) else {
                        break;
                    };
                    let result = run_case(program, &cases[index], options);
                    *slots[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                    let done = finished.fetch_add(1, Ordering::SeqCst) + 1;
                    if show_progress {
                        eprint!("\r\x1b[Kraftlab: {done}/{} cases run", cases.len());
                    }
                }
            });
        }
    });
    if show_progress {
        eprint!("\r\x1b[K");
    }
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every case index is taken by exactly one worker")
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Reference snapshots.

/// Overrides [`snapshot_dir`].
pub const SNAPSHOT_DIR_ENV: &str = "RAFTLAB_SNAPSHOT_DIR";

/// The directory of the reference's snapshots: `$RAFTLAB_SNAPSHOT_DIR` if
/// set, else `grader/tests/snapshots` of the user's tree, also when this
/// grader was built in a variant's scratch copy
/// (`<root>/target/raftlab/variants/<slug>/grader`), so that the snapshot
/// test run with `raftlab exec --solution` writes them where they are
/// committed.
pub fn snapshot_dir() -> PathBuf {
    match std::env::var_os(SNAPSHOT_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => snapshot_dir_for(Path::new(env!("CARGO_MANIFEST_DIR"))),
    }
}

/// [`snapshot_dir`] for a grader crate at `manifest_dir`.
pub fn snapshot_dir_for(manifest_dir: &Path) -> PathBuf {
    let in_variant = manifest_dir
        .parent()
        .and_then(Path::parent)
        .filter(|variants| variants.file_name().is_some_and(|n| n == "variants"))
        .and_then(Path::parent)
        .filter(|raftlab| raftlab.file_name().is_some_and(|n| n == "raftlab"))
        .and_then(Path::parent)
        .filter(|target| target.file_name().is_some_and(|n| n == "target"))
        .and_then(Path::parent)
        .map(|root| root.join("grader"))
        .filter(|grader| grader.is_dir());
    in_variant
        .unwrap_or_else(|| manifest_dir.to_path_buf())
        .join("tests")
        .join("snapshots")
}

/// The snapshot's name for a case: `e3::term_increments` → `e3__term_increments`
/// (no `:` in file names, for Windows checkouts).
pub fn snapshot_name(case_name: &str) -> String {
    case_name.replace("::", "__")
}

/// The content of an insta `.snap` file: what follows its `---` header.
pub fn parse_snapshot(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let body = match text.strip_prefix("---\n") {
        Some(rest) => match rest.find("\n---\n") {
            Some(end) => rest[end + "\n---\n".len()..].to_string(),
            None => rest.to_string(),
        },
        None => text,
    };
    body.strip_suffix('\n').unwrap_or(&body).to_string()
}

/// The reference's trace of the case, if a snapshot of it exists.
pub fn reference_trace(case_name: &str) -> Option<Vec<String>> {
    reference_trace_in(&snapshot_dir(), case_name)
}

/// [`reference_trace`] from snapshots in `dir`.
pub fn reference_trace_in(dir: &Path, case_name: &str) -> Option<Vec<String>> {
    let path = dir.join(format!("{}.snap", snapshot_name(case_name)));
    let text = fs::read_to_string(path).ok()?;
    Some(parse_snapshot(&text).lines().map(str::to_string).collect())
}

/// Where `yours` first leaves `reference`, for a person:
/// ``first difference at event 4: reference `MsgVote 1→2 term=2`, yours `MsgVote 1→2 term=1` ``.
/// `None` when they are the same, or when there is nothing of yours to
/// compare (a run that recorded no trace).
pub fn first_divergence(reference: &[String], yours: &[String]) -> Option<String> {
    if yours.is_empty() {
        return None;
    }
    let at = (0..reference.len().max(yours.len())).find(|&i| reference.get(i) != yours.get(i))?;
    let event = at + 1;
    Some(match (reference.get(at), yours.get(at)) {
        (Some(want), Some(got)) => {
            format!("first difference at event {event}: reference `{want}`, yours `{got}`")
        }
        (Some(want), None) => format!(
            "yours stops after event {at}; the reference goes on with `{want}` at event {event}"
        ),
        (None, Some(got)) => format!(
            "the reference stops after event {at}; yours goes on with `{got}` at event {event}"
        ),
        (None, None) => unreachable!("index {at} is below the longer trace's length"),
    })
}

// ---------------------------------------------------------------------------
// `raftlab test`.

/// The `raftlab test` usage text.
pub const TEST_USAGE: &str = "\
raftlab test: grade raft/src/raft.rs, step by step

Usage: raftlab test [VARIANT] [OPTIONS]

Every case runs in its own process; a step passes when all its cases pass.
Verdicts: PASS, FAIL (with the first failing case, its seed and a replay
command), BLOCKED BY <step> (the case ran into another step's todo!()),
TIMEOUT.

Selection (repeatable; default: everything):
  --part PART           election or replication: its steps and scenarios
  --step STEP           one step: E1..E6, R1..R4, or a long name (\"Election Step3\")
  --case NAME           one case, e.g. e3::term_increments
  --seeds N             run scenarios over seeds 0..N-1 (default 100)
  --seed S              run only seed S (42 or 0x2a)

Replay:
  --trace               print the case's trace, event by event (needs --case)
  --html FILE           with --trace: also write the run's timeline to FILE
  --in-process          with --case: run the case in this process, not a
                        child, so a debugger stops in it (no time limit)

Running:
  --jobs N              run N cases at once (default: the number of CPUs)
  --timeout-scale F     multiply the time limits (10 s per step case, 60 s per
                        scenario over all its seeds) by F, for slow machines

Output:
  --json FILE           write Gradescope's results.json to FILE
  --junit FILE          write JUnit XML to FILE
  --machine             also print one `RAFTLAB STEP E3 FAIL` line per step
  --hidden FILE         instructors: also run the hidden scenario seeds of FILE
                        (solutions/hidden/seeds.txt), as separate tests
  -h, --help            print this help

Variant (raftlab only; at most one; default: your raft/src/raft.rs):
  --solution            the reference
  --file PATH           any raft.rs, e.g. a submission
  --minus STEP          the reference without STEP's answer
  --mutant MUTANT       the reference with a mutant in its step

Colours are used when stdout is a terminal and NO_COLOR is not set.
Exit status: 0 when every selected step passed, 1 otherwise, 2 on a usage error.
";

/// The environment variable holding the command a student types to get
/// here (`./raftlab_test.sh`), used in replay lines.
pub const REPLAY_ENV: &str = "RAFTLAB_REPLAY";

/// A parsed `raftlab test` command line (variant flags excluded).
#[derive(Clone, Debug)]
pub struct TestArgs {
    pub parts: Vec<Part>,
    pub steps: Vec<Step>,
    pub cases: Vec<String>,
    pub options: Options,
    pub json: Option<PathBuf>,
    /// The hidden-seeds file (see [`crate::hidden`]).
    pub hidden: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub machine: bool,
    /// Run the one selected case in this process, for a debugger.
    pub in_process: bool,
    pub help: bool,
}

/// Replays `case` at `seed` with a trace and writes its timeline page to
/// `target/raftlab/timeline-<case>-<seed>.html` under the workspace (or the
/// temporary directory outside one); returns the page's path.
fn write_timeline(program: &Path, case: Case, seed: u64) -> Result<PathBuf, String> {
    let dir = crate::variant::find_root()
        .map(|root| root.join("target").join("raftlab"))
        .unwrap_or_else(|_| std::env::temp_dir());
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!(
        "timeline-{}-{}.html",
        case.name.replace("::", "-"),
        format_seed(seed)
    ));
    let options = Options {
        only_seed: Some(seed),
        trace: true,
        html: Some(path.clone()),
        ..Options::default()
    };
    run_case(program, &case, &options);
    if path.is_file() {
        Ok(path)
    } else {
        Err("the replay wrote no page".into())
    }
}

/// Runs one case in this process, for a debugger: no child, no time limit,
/// and a panic is not caught, so the debugger stops where it happens.
fn run_in_process(chosen: &[Case], options: &Options) -> ExitCode {
    let [case] = chosen else {
        eprintln!(
            "raftlab test: --in-process runs exactly one case; {} are selected (use --case NAME)",
            chosen.len()
        );
        return ExitCode::from(2);
    };
    let seed = options.only_seed.unwrap_or(0);
    let mut ctx = Ctx::new(seed);
    ctx.case = case.name;
    ctx.tracing = options.trace;
    ctx.html = options.html.clone();
    let outcome = (case.run)(&mut ctx);
    for line in &ctx.trace {
        println!("{line}");
    }
    match outcome {
        Ok(()) => {
            println!("{} seed {}: PASS", case.name, format_seed(seed));
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!("{} seed {}: FAIL {failure}", case.name, format_seed(seed));
            ExitCode::FAILURE
        }
    }
}

/// Reads `raftlab test` options (each value also as `--flag=VALUE`).
pub fn parse_test_args(args: &[OsString]) -> Result<TestArgs, String> {
    let mut parsed = TestArgs {
        parts: Vec::new(),
        steps: Vec::new(),
        cases: Vec::new(),
        options: Options {
            progress: true,
            ..Options::default()
        },
        json: None,
        hidden: None,
        junit: None,
        machine: false,
        in_process: false,
        help: false,
    };
    let mut args = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            match &inline {
                Some(value) => Ok(value.clone()),
                None => args.next().ok_or(format!("{flag} needs a value")),
            }
        };
        match flag.as_str() {
            "--part" => parsed.parts.push(Part::parse(&value()?)?),
            "--step" => parsed.steps.push(Step::parse(&value()?)?),
            "--case" => parsed.cases.push(value()?),
            "--seeds" => {
                let text = value()?;
                parsed.options.seeds = text
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("--seeds {text:?}: expected a count of at least 1"))?;
            }
            "--seed" => parsed.options.only_seed = Some(parse_seed(&value()?)?),
            "--trace" => parsed.options.trace = true,
            "--html" => parsed.options.html = Some(PathBuf::from(value()?)),
            "--jobs" | "-j" => {
                let text = value()?;
                parsed.options.jobs = text
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("--jobs {text:?}: expected a count of at least 1"))?;
            }
            "--timeout-scale" => {
                let text = value()?;
                parsed.options.timeout_scale = text
                    .parse()
                    .ok()
                    .filter(|f: &f64| f.is_finite() && *f > 0.0)
                    .ok_or(format!(
                        "--timeout-scale {text:?}: expected a positive number"
                    ))?;
            }
            "--json" => parsed.json = Some(PathBuf::from(value()?)),
            "--junit" => parsed.junit = Some(PathBuf::from(value()?)),
            "--machine" => parsed.machine = true,
            "--hidden" => parsed.hidden = Some(PathBuf::from(value()?)),
            "--in-process" => parsed.in_process = true,
            "-h" | "--help" => parsed.help = true,
            "--solution" | "--reference" | "--file" | "--minus" | "--mutant" => {
                return Err(format!(
                    "{flag} chooses a variant, which only `raftlab test` can build"
                ));
            }
            _ => return Err(format!("unknown option {arg:?}")),
        }
        if inline.is_some() && matches!(flag.as_str(), "--trace" | "--machine" | "-h" | "--help") {
            return Err(format!("{flag} takes no value"));
        }
    }
    if parsed.options.html.is_some() && !parsed.options.trace {
        return Err("--html goes with --trace (and --case)".to_string());
    }
    Ok(parsed)
}

/// What a `raftlab test` command line selects: the graded items (steps and
/// scenario parts) and the cases to run, in registry order.
pub fn select(cases: &[Case], args: &TestArgs) -> Result<(Vec<Graded>, Vec<Case>), String> {
    for name in &args.cases {
        if !cases.iter().any(|c| c.name == name) {
            let mut close: Vec<&str> = cases
                .iter()
                .map(|c| c.name)
                .filter(|n| {
                    let stem = name.split("::").next().unwrap_or(name);
                    n.starts_with(stem) || n.contains(name.as_str())
                })
                .take(8)
                .collect();
            close.sort();
            let hint = if close.is_empty() {
                String::new()
            } else {
                format!(" (similar: {})", close.join(", "))
            };
            return Err(format!("no case named {name:?}{hint}"));
        }
    }
    let mut items: Vec<Graded> = Vec::new();
    let everything = args.parts.is_empty() && args.steps.is_empty();
    for step in Step::ALL {
        if everything || args.steps.contains(&step) || args.parts.contains(&Part::of(step)) {
            items.push(Graded::Step(step));
        }
    }
    for part in Part::ALL {
        if everything || args.parts.contains(&part) {
            items.push(Graded::Scenarios(part));
        }
    }
    let chosen: Vec<Case> = cases
        .iter()
        .filter(|c| items.contains(&Graded::of(c.kind)))
        .filter(|c| args.cases.is_empty() || args.cases.iter().any(|n| n == c.name))
        .copied()
        .collect();
    if !args.cases.is_empty() {
        items.retain(|item| chosen.iter().any(|c| Graded::of(c.kind) == *item));
        if chosen.is_empty() {
            return Err(format!(
                "--case {} is outside the chosen parts and steps",
                args.cases.join(", --case ")
            ));
        }
    }
    if args.options.trace && chosen.len() != 1 {
        return Err(format!(
            "--trace replays one case: choose it with --case (this selects {} cases)",
            chosen.len()
        ));
    }
    Ok((items, chosen))
}

/// `raftlab test` over `cases`, with children run by re-invoking this very
/// binary (which must send [`CHILD_COMMAND`] to [`child_main`] over the
/// same `cases`). Prints the report; returns the exit status.
pub fn test_main(cases: &[Case], args: &[OsString]) -> ExitCode {
    let started = Instant::now();
    let args = match parse_test_args(args) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("raftlab test: {e}\n\nRun `raftlab test --help` for usage.");
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{TEST_USAGE}");
        return ExitCode::SUCCESS;
    }
    let (items, chosen) = match select(cases, &args) {
        Ok(selection) => selection,
        Err(e) => {
            eprintln!("raftlab test: {e}");
            return ExitCode::from(2);
        }
    };
    if args.in_process {
        return run_in_process(&chosen, &args.options);
    }
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(e) => {
            eprintln!("raftlab test: cannot find this program's own path to run cases: {e}");
            return ExitCode::FAILURE;
        }
    };
    let results = run_cases(&program, &chosen, &args.options);
    // The first scenario that failed, to draw its run once the table is out.
    let first_failed_scenario = results
        .iter()
        .find(|r| matches!(r.case.kind, Kind::Scenario(_)) && r.status == Status::Fail)
        .and_then(|r| r.seed.map(|seed| (r.case, seed)));
    let replay_prefix = std::env::var(REPLAY_ENV)
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "raftlab test".to_string());
    let settings = ReportSettings {
        replay_prefix,
        seeds: match args.options.only_seed {
            Some(seed) => SeedRange::One(seed),
            None => SeedRange::Count(args.options.seeds),
        },
        visibility: Visibility::Visible,
    };
    let hidden = match &args.hidden {
        None => Vec::new(),
        Some(path) => match crate::hidden::load(path, cases) {
            Ok(tests) => crate::hidden::run(&program, cases, &tests, &args.options),
            Err(e) => {
                eprintln!("raftlab test: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut report = Report::new(items, results, started.elapsed(), settings);
    report.hidden = hidden;

    let mut out = String::new();
    if args.options.trace {
        out.push_str(&report.traces());
    }
    let color =
        io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // A replay prints no time, so that two replays print the same bytes.
    out.push_str(&report.table(color, !args.options.trace));
    if args.machine {
        out.push_str(&report.machine_lines());
    }
    print!("{out}");
    if let Some((case, seed)) = first_failed_scenario
        && !args.options.trace
        && !args.machine
    {
        match write_timeline(&program, case, seed) {
            Ok(path) => println!(
                "Timeline of {} seed {}: {} (open it in a browser)",
                case.name,
                format_seed(seed),
                path.display()
            ),
            Err(e) => eprintln!("raftlab test: no timeline of {}: {e}", case.name),
        }
    }
    let mut status = if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    let outputs = [
        (&args.json, report.gradescope_json(), "results.json"),
        (&args.junit, report.junit_xml(), "JUnit XML"),
    ];
    for (path, text, what) in outputs {
        if let Some(path) = path
            && let Err(e) = fs::write(path, text)
        {
            eprintln!(
                "raftlab test: cannot write the {what} to {}: {e}",
                path.display()
            );
            status = ExitCode::FAILURE;
        }
    }
    status
}

// ---------------------------------------------------------------------------
// Variants.

/// Where the runnable grader of `variant` is kept: `target/raftlab/bin/<slug>`.
pub fn variant_binary(root: &Path, variant: &Variant) -> PathBuf {
    root.join("target")
        .join("raftlab")
        .join("bin")
        .join(variant.slug())
}

/// Prepares `variant` (see [`variant::prepare`]), builds its `raftlab` in
/// release mode in the shared target directory, and copies the binary to
/// [`variant_binary`] so that later builds of other variants do not replace
/// it while it runs. Builds are serialised by a lock file, across
/// processes, from the build until the copy. The error holds cargo's
/// messages when the build fails.
pub fn build_variant(root: &Path, variant: &Variant) -> Result<PathBuf, String> {
    let dir = variant::prepare(root, variant)?;
    let target = variant::target_dir(root);
    let destination = variant_binary(root, variant);
    let bin_dir = destination
        .parent()
        .ok_or_else(|| format!("{} has no parent directory", destination.display()))?;
    fs::create_dir_all(bin_dir).map_err(|e| format!("cannot create {}: {e}", bin_dir.display()))?;
    let lock_path = bin_dir.join(".build.lock");
    let lock = fs::File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "grader",
            "--bin",
            "raftlab",
        ])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        let mut errors = String::from_utf8_lossy(&output.stderr).into_owned();
        errors.push_str(&String::from_utf8_lossy(&output.stdout));
        return Err(format!(
            "{variant} does not compile (in {}):\n{}",
            dir.display(),
            errors.trim_end()
        ));
    }
    let built = target
        .join("release")
        .join(format!("raftlab{}", std::env::consts::EXE_SUFFIX));
    // Copy then rename: a binary that is running cannot be overwritten in
    // place, but it can be replaced.
    let temporary = bin_dir.join(format!(".{}.{}", variant.slug(), std::process::id()));
    fs::copy(&built, &temporary).map_err(|e| {
        format!(
            "cannot copy {} to {}: {e}",
            built.display(),
            temporary.display()
        )
    })?;
    fs::rename(&temporary, &destination).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            temporary.display(),
            destination.display()
        )
    })?;
    drop(lock);
    Ok(destination)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_and_stays_on_one_line() {
        for text in ["", "plain", "a b\\c\nd\r\ne", "\\n literal", "trailing\\"] {
            let word = escape(text, true);
            assert!(!word.contains([' ', '\n', '\r']), "{word:?}");
            assert_eq!(unescape(&word), text);
            let line = escape(text, false);
            assert!(!line.contains(['\n', '\r']), "{line:?}");
            assert_eq!(unescape(&line), text);
        }
    }

    #[test]
    fn protocol_lines_parse() {
        assert_eq!(parse_event("seed 0x2a"), Some(Event::Seed(42)));
        assert_eq!(parse_event("pass"), Some(Event::Result(Reported::Pass)));
        assert_eq!(
            parse_event("fail 0x1 term: got 1, want 2\\nsecond line"),
            Some(Event::Result(Reported::Fail {
                seed: 1,
                message: "term: got 1, want 2\nsecond line".to_string()
            }))
        );
        assert_eq!(
            parse_event(
                "panic 0x0 my\\sdir/raft.rs:12 not yet implemented: RaftLab Election Step3"
            ),
            Some(Event::Result(Reported::Panic {
                seed: 0,
                location: "my dir/raft.rs:12".to_string(),
                message: "not yet implemented: RaftLab Election Step3".to_string()
            }))
        );
        assert_eq!(
            parse_event("trace a\\sb c"),
            Some(Event::Trace("a b c".to_string()))
        );
        assert_eq!(parse_event("fail notaseed x"), None);
        assert_eq!(parse_event("bogus"), None);
    }

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("42"), Ok(42));
        assert_eq!(parse_seed("0x2a"), Ok(42));
        assert_eq!(format_seed(42), "0x2a");
        assert!(parse_seed("forty").unwrap_err().contains("not a seed"));
    }

    #[test]
    fn holes_are_recognised_by_their_exact_text() {
        assert_eq!(
            hole_reached("not yet implemented: RaftLab Election Step3"),
            Some(Step::Election3)
        );
        assert_eq!(
            hole_reached("not yet implemented: RaftLab Replication Step4"),
            Some(Step::Replication4)
        );
        assert_eq!(hole_reached("not yet implemented"), None);
        assert_eq!(hole_reached("not yet implemented: RaftLab Step9"), None);
    }

    #[test]
    fn lines_are_split_and_cut() {
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        let input = format!("one\r\ntwo\n{long}\nlast without newline");
        let mut lines = Vec::new();
        for_each_line(input.as_bytes(), |line| lines.push(line));
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "one");
        assert_eq!(lines[1], "two");
        assert_eq!(lines[2].len(), MAX_LINE_BYTES);
        assert_eq!(lines[3], "last without newline");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let mut tail = Tail::default();
        for i in 0..100 {
            tail.push(i.to_string());
        }
        assert_eq!(tail.lines.len(), TAIL_LINES);
        assert_eq!(tail.lines.front().map(String::as_str), Some("60"));
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn divergence_names_the_first_differing_event() {
        let reference = lines("a\nMsgVote 1→2 term=2\nc");
        assert_eq!(first_divergence(&reference, &reference), None);
        assert_eq!(
            first_divergence(&reference, &lines("a\nMsgVote 1→2 term=1\nc")).as_deref(),
            Some(
                "first difference at event 2: reference `MsgVote 1→2 term=2`, yours `MsgVote 1→2 term=1`"
            )
        );
        assert_eq!(
            first_divergence(&reference, &lines("a")).as_deref(),
            Some(
                "yours stops after event 1; the reference goes on with `MsgVote 1→2 term=2` at event 2"
            )
        );
        assert_eq!(
            first_divergence(&lines("a"), &lines("a\nb")).as_deref(),
            Some("the reference stops after event 1; yours goes on with `b` at event 2")
        );
        assert_eq!(first_divergence(&reference, &[]), None);
    }

    #[test]
    fn snapshots_are_read_without_their_header() {
        let text = "---\nsource: grader/tests/reference_snapshots.rs\nexpression: trace\n---\nline 1\nline 2\n";
        assert_eq!(parse_snapshot(text), "line 1\nline 2");
        assert_eq!(parse_snapshot("no header\n"), "no header");
        assert_eq!(snapshot_name("e3::term_increments"), "e3__term_increments");
    }

    #[test]
    fn snapshot_dir_of_a_variant_is_the_users_tree() {
        let root = std::env::temp_dir().join(format!("raftlab-snapdir-{}", std::process::id()));
        let variant_grader = root.join("target/raftlab/variants/reference/grader");
        fs::create_dir_all(&variant_grader).expect("create the fake variant");
        fs::create_dir_all(root.join("grader")).expect("create the fake grader");
        assert_eq!(
            snapshot_dir_for(&variant_grader),
            root.join("grader/tests/snapshots")
        );
        assert_eq!(
            snapshot_dir_for(&root.join("grader")),
            root.join("grader/tests/snapshots")
        );
        let elsewhere = root.join("somewhere/grader");
        assert_eq!(
            snapshot_dir_for(&elsewhere),
            elsewhere.join("tests/snapshots")
        );
        fs::remove_dir_all(&root).expect("clean up");
    }

    #[test]
    fn durations_print_briefly() {
        assert_eq!(format_duration(Duration::from_secs(10)), "10 s");
        assert_eq!(format_duration(Duration::from_millis(500)), "0.5 s");
        assert_eq!(format_duration(Duration::from_secs(60)), "60 s");
    }
}
