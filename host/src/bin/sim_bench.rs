//! `sim_bench`: how fast the simulator is, what the judge's replay costs,
//! and how close the scenarios come to their bounds. It links the library,
//! so it needs a working Raft: run it on the reference,
//!
//! ```text
//! cargo run -q -p instructor -- exec --solution -- cargo run --release -q -p host --features bench --bin sim_bench
//! cargo run -q -p instructor -- exec --solution -- cargo run --release -q -p host --features bench --bin sim_bench -- --bounds 200
//! ```
//!
//! Without `--bounds` it prints
//! - the simulated events per second and the peak memory of a 5-node run
//!   committing 10,000 entries through a faulty network and crashes;
//! - per scenario, over 100 seeds: the CPU time of a run in this process
//!   against live nodes; of the host's run, which also records every
//!   reply; and of the judge's run against those recorded replies (what
//!   `raftlab test` does on its side of the pipe, here without the pipe
//!   and the process).
//!
//! With `--bounds SEEDS` it runs every scenario over that many seeds with
//! its wait bounds stretched tenfold, and prints, per scenario, the worst
//! value seen of each bounded quantity next to its bound.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Cursor;
use std::process::ExitCode;
use std::time::Instant;

use grader::cases::{Case, Ctx};
use grader::drive::protocol::Frame;
use grader::drive::record::{Outbox, Record};
use grader::drive::replay::Replay;
use grader::model::{Failure, Kind, Outcome, Seed};
use grader::registry;
use grader::sim::{Faults, Holes, Options, Sim, measure};
use nix::libc;

use host::live::{self, Live};

const USAGE: &str = "\
sim_bench: the simulator's speed, the judge's replay, and the scenarios'
margins to their bounds

Usage: sim_bench [--seeds N] [--entries N] [--only NAME]
       sim_bench --bounds N [--only NAME]

  --seeds N     seeds per scenario for the timing (default 100)
  --entries N   entries of the long run (default 10000)
  --bounds N    instead of timing, run every scenario over N seeds with wait
                bounds stretched tenfold, and print the worst values seen
  --only NAME   only the scenarios whose name contains NAME
  -h, --help    this text
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    seeds: u64,
    entries: u64,
    bounds: Option<u64>,
    only: String,
}

/// `Ok(None)`: the help was asked for.
fn parse(args: Vec<OsString>) -> Result<Option<Args>, String> {
    use lexopt::prelude::*;
    let mut a = Args {
        seeds: 100,
        entries: 10_000,
        bounds: None,
        only: String::new(),
    };
    let mut p = lexopt::Parser::from_args(args);
    let mut seeds_given = false;
    let mut entries_given = false;
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("seeds") => {
                a.seeds = positive(&mut p, "--seeds")?;
                seeds_given = true;
            }
            Long("entries") => {
                a.entries = positive(&mut p, "--entries")?;
                entries_given = true;
            }
            Long("bounds") => a.bounds = Some(positive(&mut p, "--bounds")?),
            Long("only") => {
                let v = p.value().map_err(|e| e.to_string())?;
                a.only = v
                    .into_string()
                    .map_err(|v| format!("--only: {v:?} is not text"))?;
            }
            Short('h') | Long("help") => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if a.bounds.is_some() && (seeds_given || entries_given) {
        return Err(
            "--bounds N takes its seeds from N: --seeds and --entries are for the timing"
                .to_string(),
        );
    }
    Ok(Some(a))
}

fn positive(p: &mut lexopt::Parser, name: &str) -> Result<u64, String> {
    let v = p.value().map_err(|e| e.to_string())?;
    let n: u64 = v
        .to_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{name}: {v:?} is not a number"))?;
    if n == 0 {
        return Err(format!("{name}: at least 1"));
    }
    Ok(n)
}

fn main() -> ExitCode {
    live::install_panic_hook();
    let args = match parse(std::env::args_os().skip(1).collect()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("sim_bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let cases: Vec<Case> = registry::all()
        .iter()
        .filter(|c| matches!(c.kind, Kind::Scenario(_)) && c.name.contains(&args.only))
        .copied()
        .collect();
    if cases.is_empty() {
        eprintln!("sim_bench: no scenario's name contains {:?}", args.only);
        return ExitCode::from(2);
    }
    let result = match args.bounds {
        Some(n) => margins(&cases, n),
        None => timing(&cases, args.seeds, args.entries),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sim_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The CPU time of `clock` so far, in seconds, to the nanosecond. (The
/// kernel's other counters, `getrusage` and `/proc/*/schedstat`, leave out
/// the running slice of a thread: they move in steps of milliseconds, more
/// than a scenario's seed takes.)
fn cpu_seconds(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given, which
    // lives through the call.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// CPU time of this thread so far.
fn thread_cpu() -> f64 {
    cpu_seconds(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of the whole process so far: every thread, ended ones too.
fn process_cpu() -> f64 {
    cpu_seconds(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// A line of /proc/self/status, in kB.
fn status_kb(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Per scenario, in seconds and bytes over all its seeds.
#[derive(Default)]
struct Costs {
    in_process: f64,
    recording: f64,
    replay_cpu: f64,
    replay_wall: f64,
    recorded_bytes: u64,
}

fn timing(cases: &[Case], seeds: u64, entries: u64) -> Result<(), String> {
    // The long run first, so the peak memory is its own.
    let cpu = thread_cpu();
    let wall = Instant::now();
    let (events, ticks, committed) = long_run(entries).map_err(|f| f.to_string())?;
    let cpu = thread_cpu() - cpu;
    println!(
        "long run: 5 nodes, {committed} entries committed through drops, duplicates, delays, crashes and restarts"
    );
    println!(
        "  {events} events in {ticks} ticks, {cpu:.2} s CPU ({:.2} s wall): {:.0} events/s",
        wall.elapsed().as_secs_f64(),
        events as f64 / cpu
    );
    println!(
        "  peak memory (VmHWM): {} kB",
        status_kb("VmHWM:").map_or("unknown".into(), |k| k.to_string())
    );

    println!(
        "{} scenarios × {seeds} seeds, ms of CPU per seed:",
        cases.len()
    );
    println!(
        "  {:45} {:>10} {:>10} {:>10} {:>10}",
        "", "in-process", "host", "judge", "recorded"
    );
    let mut failures = 0;
    let mut total = Costs::default();
    let wall = Instant::now();
    for c in cases {
        let costs = time_scenario(c, seeds, &mut failures);
        let ms = |s: f64| s * 1000.0 / seeds as f64;
        println!(
            "  {:45} {:>10.2} {:>10.2} {:>10.2} {:>7} kB",
            c.name,
            ms(costs.in_process),
            ms(costs.recording),
            ms(costs.replay_cpu),
            costs.recorded_bytes / seeds / 1024
        );
        total.in_process += costs.in_process;
        total.recording += costs.recording;
        total.replay_cpu += costs.replay_cpu;
        total.replay_wall += costs.replay_wall;
        total.recorded_bytes += costs.recorded_bytes;
    }
    let runs = seeds as f64 * cases.len() as f64;
    println!(
        "  in-process: {:.2} s CPU on one core, {:.2} ms per scenario-seed on average; about {:.2} s split over 2 cores",
        total.in_process,
        total.in_process * 1000.0 / runs,
        total.in_process / 2.0
    );
    println!(
        "  host (live nodes, every reply recorded): {:.2} s CPU, {:.2}× in-process",
        total.recording,
        total.recording / total.in_process
    );
    println!(
        "  judge (replay of the recorded replies): {:.2} s CPU ({:.2} s wall), {:.2}× in-process; {:.1} MB of replies",
        total.replay_cpu,
        total.replay_wall,
        total.replay_cpu / total.in_process,
        total.recorded_bytes as f64 / 1e6
    );
    println!(
        "  all of the above: {:.2} s wall",
        wall.elapsed().as_secs_f64()
    );
    if failures > 0 {
        return Err(format!("{failures} scenario runs failed"));
    }
    Ok(())
}

/// Runs `c` over `seeds` seeds three ways: in this process; as the host
/// serves one request of every seed, recording each reply; and as the
/// judge runs that request, against those replies.
fn time_scenario(c: &Case, seeds: u64, failures: &mut u64) -> Costs {
    let mut costs = Costs::default();
    let cpu = thread_cpu();
    for seed in (0..seeds).map(Seed) {
        let mut live = Live::default();
        let mut ctx = Ctx::new(*c, seed, &mut live, false);
        if let Err(f) = (c.run)(&mut ctx) {
            *failures += 1;
            eprintln!("  {} seed {seed} FAILED in-process: {f}", c.name);
        }
    }
    costs.in_process = thread_cpu() - cpu;

    let cpu = thread_cpu();
    let recorded = record(c, seeds);
    costs.recording = thread_cpu() - cpu;
    costs.recorded_bytes = recorded.len() as u64;

    let (cpu, wall) = (process_cpu(), Instant::now());
    let judged = replay(c, seeds, recorded);
    costs.replay_cpu = process_cpu() - cpu;
    costs.replay_wall = wall.elapsed().as_secs_f64();
    for e in judged {
        *failures += 1;
        eprintln!("  {} {e}", c.name);
    }
    costs
}

/// What the host writes for a request of `c` over seeds `0..seeds`, as
/// `grader::exec::host::serve` writes it: each seed's replies between its
/// `Begin` and `End`, then `Done`.
fn record(c: &Case, seeds: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut outbox = Outbox::new(&mut bytes);
    for seed in (0..seeds).map(Seed) {
        outbox.push(&Frame::Begin { seed });
        let mut live = Live::default();
        let mut rec = Record {
            inner: &mut live,
            outbox: &mut outbox,
            logs: None,
        };
        let mut ctx = Ctx::new(*c, seed, &mut rec, false);
        // As in the host: its own view of the outcome is not sent.
        let _ = (c.run)(&mut ctx);
        drop(ctx);
        outbox.push(&Frame::End);
        outbox.flush();
    }
    outbox.push(&Frame::Done);
    outbox.flush();
    drop(outbox);
    bytes
}

/// The judge's run of `c` over seeds `0..seeds` against `recorded`, as
/// `grader::exec::judge::collect` does it, but on through a failing seed.
/// Returns what did not pass.
fn replay(c: &Case, seeds: u64, recorded: Vec<u8>) -> Vec<String> {
    let mut replay = Replay::new(Cursor::new(recorded));
    let mut failed = Vec::new();
    for seed in (0..seeds).map(Seed) {
        if let Err(b) = replay.expect_begin(seed) {
            failed.push(format!("seed {seed}: the replay broke: {b:?}"));
            return failed;
        }
        let mut ctx = Ctx::new(*c, seed, &mut replay, false);
        let outcome = (c.run)(&mut ctx);
        drop(ctx);
        if let Some(b) = &replay.broken {
            failed.push(format!("seed {seed}: the replay broke: {b:?}"));
            return failed;
        }
        if let Err(f) = outcome {
            failed.push(format!("seed {seed} FAILED as judged: {f}"));
        }
        if let Err(b) = replay.expect_end(0) {
            failed.push(format!("seed {seed}: the replay broke: {b:?}"));
            return failed;
        }
    }
    if let Err(b) = replay.expect_done() {
        failed.push(format!("the replay broke at its end: {b:?}"));
    }
    // The reader thread's last word: it has read everything and is ending,
    // so its CPU time is counted.
    while replay.next_frame().is_ok() {}
    failed
}

/// 5 nodes commit `entries` entries of 100 bytes, proposed 5 at a time
/// with at most 50 waiting, through 5% drops, 5% duplicates, up to 2 ticks
/// of extra delay, and a follower crashed or restarted every 250 ticks.
/// Returns (events, ticks, committed).
fn long_run(entries: u64) -> Result<(u64, u64, u64), Failure> {
    let mut live = Live::default();
    let mut sim = Sim::new(&mut live, Seed(1), Options::new(5), Holes::default(), false)?;
    sim.set_faults(Faults {
        drop_rate: 0.05,
        duplicate_rate: 0.05,
        max_extra_delay: 2,
        ..Faults::default()
    });
    let mut proposed = 0u64;
    let mut crashed: Option<u64> = None;
    let limit = entries * 10 + 10_000;
    while sim.checker().committed_index() < entries {
        if sim.now() > limit {
            return Err(sim.fail(format!(
                "only {} of {entries} entries committed after {limit} ticks",
                sim.checker().committed_index()
            )));
        }
        if let Some(l) = sim.leader() {
            // Keep about 50 entries in flight.
            let backlog = proposed.saturating_sub(sim.checker().committed_index());
            if backlog < 50 {
                for _ in 0..5 {
                    proposed += 1;
                    let mut data = format!("entry-{proposed:08}-").into_bytes();
                    data.resize(100, b'.');
                    sim.propose(l, data)?;
                }
            }
        }
        if sim.now() % 250 == 125 {
            match crashed.take() {
                Some(n) => sim.restart(n)?,
                None => {
                    let l = sim.leader().unwrap_or(1);
                    let n = l % 5 + 1;
                    sim.crash(n)?;
                    crashed = Some(n);
                }
            }
        }
        sim.tick()?;
    }
    Ok((
        sim.stats().events,
        sim.now(),
        sim.checker().committed_index(),
    ))
}

/// Replaces every run of digits with `#`, so waits named after nodes and
/// values group together.
fn shape(what: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for ch in what.chars() {
        if ch.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(ch);
        }
    }
    out
}

/// `value` as a fraction of `bound`; a value over a bound of 0 is
/// infinitely over.
fn fraction(value: u64, bound: u64) -> f64 {
    match (value, bound) {
        (0, _) => 0.0,
        (_, 0) => f64::INFINITY,
        (v, b) => v as f64 / b as f64,
    }
}

/// A fraction as a percentage, four characters wide.
fn percent(f: f64) -> String {
    if f.is_finite() {
        format!("{:>3.0}%", f * 100.0)
    } else {
        " inf".to_string()
    }
}

fn margins(cases: &[Case], seeds: u64) -> Result<(), String> {
    let mut failures = 0;
    for c in cases {
        // shape → every value seen, with its bound and seed
        let mut seen_by_shape: BTreeMap<String, Vec<(u64, u64, Seed)>> = BTreeMap::new();
        for seed in (0..seeds).map(Seed) {
            measure::start(10);
            let mut live = Live::default();
            let mut ctx = Ctx::new(*c, seed, &mut live, false);
            let outcome: Outcome = (c.run)(&mut ctx);
            let seen = measure::stop();
            if let Err(f) = outcome {
                failures += 1;
                println!(
                    "  {} seed {seed} FAILED even with stretched bounds: {f}",
                    c.name
                );
            }
            for o in seen {
                seen_by_shape
                    .entry(shape(&o.what))
                    .or_default()
                    .push((o.value, o.bound, seed));
            }
        }
        println!("{} ({seeds} seeds)", c.name);
        for (what, values) in seen_by_shape {
            // The worst as a fraction of its bound, at its first seed
            // (values are in seed order).
            let worst = values
                .iter()
                .map(|&(v, b, _)| fraction(v, b))
                .fold(0.0, f64::max);
            let Some(&(value, bound, seed)) =
                values.iter().find(|&&(v, b, _)| fraction(v, b) == worst)
            else {
                continue;
            };
            let mut sorted: Vec<f64> = values.iter().map(|&(v, b, _)| fraction(v, b)).collect();
            sorted.sort_by(f64::total_cmp);
            let p99 = sorted[sorted.len() * 99 / 100];
            let flag = if value > bound { "  OVER" } else { "" };
            println!(
                "  worst {value:>6} / {bound:<6} {} (p99 {}, {} samples) {what} (seed {seed}){flag}",
                percent(worst),
                percent(p99).trim_start(),
                values.len()
            );
        }
    }
    if failures > 0 {
        return Err(format!("{failures} runs failed even with stretched bounds"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Args>, String> {
        parse(list.iter().map(OsString::from).collect())
    }

    #[test]
    fn options_are_read_and_bad_ones_refused() {
        let a = args(&["--seeds", "7", "--only", "election"])
            .unwrap()
            .unwrap();
        assert_eq!((a.seeds, a.bounds, a.only.as_str()), (7, None, "election"));
        let a = args(&["--bounds", "50"]).unwrap().unwrap();
        assert_eq!(a.bounds, Some(50));
        assert_eq!(args(&["--help"]).unwrap(), None);
        assert!(args(&["--seeds", "many"]).is_err());
        assert!(args(&["--seeds", "0"]).is_err());
        assert!(args(&["--bounds"]).is_err());
        assert!(args(&["--bounds", "5", "--seeds", "5"]).is_err());
        assert!(args(&["--fast"]).is_err());
    }

    #[test]
    fn shapes_group_numbers() {
        assert_eq!(shape("n3 elected"), "n# elected");
        assert_eq!(shape("commit on 12 nodes"), "commit on # nodes");
    }

    #[test]
    fn fractions_of_a_zero_bound() {
        assert_eq!(fraction(0, 0), 0.0);
        assert_eq!(fraction(3, 0), f64::INFINITY);
        assert_eq!(fraction(30, 40), 0.75);
        assert_eq!(percent(0.75), " 75%");
        assert_eq!(percent(f64::INFINITY), " inf");
    }
}
