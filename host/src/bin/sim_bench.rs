//! `sim_bench`: how fast the simulator is, what the judge's replay costs,
//! and how close the scenarios come to their bounds. It links the library,
//! so it needs a working Raft: run it on the reference,
//!
//! ```text
//! cargo run -q -p instructor -- exec --solution -- cargo run --release -q -p host --bin sim_bench
//! cargo run -q -p instructor -- exec --solution -- cargo run --release -q -p host --bin sim_bench -- --bounds 200
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

// The live driver, as the host's own binary builds it: the host crate has
// no library target.
#[path = "../live.rs"]
mod live;

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
use nix::sys::resource::{UsageWho, getrusage};

use live::Live;

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

/// CPU time used so far, in seconds: by this thread, or by the whole
/// process (every thread, ended ones too).
fn cpu_seconds(who: UsageWho) -> f64 {
    match getrusage(who) {
        Ok(u) => {
            let (user, system) = (u.user_time(), u.system_time());
            let micros = (user.tv_sec() + system.tv_sec()) as f64 * 1e6
                + (user.tv_usec() + system.tv_usec()) as f64;
            micros / 1e6
        }
        Err(_) => f64::NAN,
    }
}

fn thread_cpu() -> f64 {
    cpu_seconds(UsageWho::RUSAGE_THREAD)
}

fn process_cpu() -> f64 {
    cpu_seconds(UsageWho::RUSAGE_SELF)
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
/// runs it, recording every reply; and as the judge runs it, against
/// those replies.
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

    for seed in (0..seeds).map(Seed) {
        let cpu = thread_cpu();
        let recorded = record(c, seed);
        costs.recording += thread_cpu() - cpu;
        costs.recorded_bytes += recorded.len() as u64;

        let (cpu, wall) = (process_cpu(), Instant::now());
        let judged = replay(c, seed, recorded);
        costs.replay_cpu += process_cpu() - cpu;
        costs.replay_wall += wall.elapsed().as_secs_f64();
        if let Err(e) = judged {
            *failures += 1;
            eprintln!("  {} seed {seed} FAILED as judged: {e}", c.name);
        }
    }
    costs
}

/// The host's run of `c` with `seed`: the frames it writes, from `Begin`
/// to `End`.
fn record(c: &Case, seed: Seed) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut outbox = Outbox::new(&mut bytes);
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
    drop(outbox);
    bytes
}

/// The judge's run of `c` with `seed` against `recorded`, as
/// `grader::exec::judge::collect` does it.
fn replay(c: &Case, seed: Seed, recorded: Vec<u8>) -> Result<(), String> {
    let mut replay = Replay::new(Cursor::new(recorded));
    replay
        .expect_begin(seed)
        .map_err(|b| format!("replay: {b:?}"))?;
    let mut ctx = Ctx::new(*c, seed, &mut replay, false);
    let outcome = (c.run)(&mut ctx);
    drop(ctx);
    if let Some(b) = &replay.broken {
        return Err(format!("replay broke: {b:?}"));
    }
    outcome.map_err(|f| f.to_string())?;
    replay.expect_end(0).map_err(|b| format!("replay: {b:?}"))?;
    // The reader thread's last word: it has read everything and is ending,
    // so its CPU time is counted.
    while replay.next_frame().is_ok() {}
    Ok(())
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
        for (what, mut values) in seen_by_shape {
            // As fractions of the bound, worst last.
            values.sort_by(|a, b| {
                (u128::from(a.0) * u128::from(b.1)).cmp(&(u128::from(b.0) * u128::from(a.1)))
            });
            let (value, bound, seed) = values[values.len() - 1];
            let p99 = values[values.len() * 99 / 100];
            let flag = if value > bound { "  OVER" } else { "" };
            let share = if bound == 0 {
                String::from("   -")
            } else {
                format!("{:>3.0}%", value as f64 * 100.0 / bound as f64)
            };
            println!(
                "  worst {value:>6} / {bound:<6} {share} (p99 {:>6}, {} samples) {what} (seed {seed}){flag}",
                p99.0,
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
}
