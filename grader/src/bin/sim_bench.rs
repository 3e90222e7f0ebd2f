//! `sim_bench`: how fast the simulator is, and how close the scenarios come
//! to their bounds. Needs a working Raft: run it on the reference,
//!
//! ```text
//! raftlab exec --solution -- cargo run --release -p grader --bin sim_bench
//! raftlab exec --solution -- cargo run --release -p grader --bin sim_bench -- --bounds 500
//! ```
//!
//! Without options it prints the simulated events per second and the peak
//! memory of a 5-node run committing 10,000 entries through a faulty
//! network, then the time every scenario takes over 100 seeds. With
//! `--bounds SEEDS` it runs every scenario over that many seeds with its
//! wait bounds stretched tenfold, and prints, per scenario, the worst value
//! seen of each bounded quantity next to its bound.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use grader::case::{Case, Ctx, Kind, all_cases};
use grader::sim::{Faults, Options, Sim, measure};

const USAGE: &str = "\
sim_bench: the simulator's speed, and the scenarios' margins to their bounds

Usage: sim_bench [--seeds N] [--entries N] [--bounds N [--only NAME]]

  --seeds N     seeds per scenario for the timing (default 100)
  --entries N   entries of the long run (default 10000)
  --bounds N    instead of timing, run every scenario over N seeds with wait
                bounds stretched tenfold, and print the worst values seen
  --only NAME   with --bounds: only the scenarios whose name contains NAME
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seeds = 100u64;
    let mut entries = 10_000u64;
    let mut bounds: Option<u64> = None;
    let mut only = String::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        let parsed = match a.as_str() {
            "--seeds" => number("--seeds").map(|n| seeds = n),
            "--entries" => number("--entries").map(|n| entries = n),
            "--bounds" => number("--bounds").map(|n| bounds = Some(n)),
            "--only" => it
                .next()
                .map(|v| only = v.clone())
                .ok_or_else(|| "--only needs a scenario name".to_string()),
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument {other:?}")),
        };
        if let Err(e) = parsed {
            eprintln!("sim_bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let result = match bounds {
        Some(n) => margins(n, &only),
        None => timing(seeds, entries),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sim_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn scenarios() -> Vec<Case> {
    all_cases()
        .into_iter()
        .filter(|c| matches!(c.kind, Kind::Scenario(_)))
        .collect()
}

/// CPU time of this thread so far, in seconds (from the scheduler's
/// statistics: no dependency, nanosecond resolution).
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        })
        .map_or(f64::NAN, |ns| ns as f64 / 1e9)
}

/// A line of /proc/self/status, in kB.
fn status_kb(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn timing(seeds: u64, entries: u64) -> Result<(), String> {
    // The long run first, so the peak memory is its own.
    let cpu = thread_cpu_seconds();
    let wall = Instant::now();
    let (events, ticks, committed) = long_run(entries).map_err(|f| f.message)?;
    let cpu = thread_cpu_seconds() - cpu;
    println!(
        "long run: 5 nodes, {committed} entries committed through drops, duplicates, delays and a crash"
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

    let cases = scenarios();
    let mut total_cpu = 0.0;
    let mut failures = 0;
    println!("{} scenarios × {seeds} seeds:", cases.len());
    for c in &cases {
        let cpu = thread_cpu_seconds();
        for seed in 0..seeds {
            let mut ctx = Ctx::new(seed);
            if let Err(f) = (c.run)(&mut ctx) {
                failures += 1;
                eprintln!("  {} seed {seed} FAILED: {f}", c.name);
            }
        }
        let cpu = thread_cpu_seconds() - cpu;
        total_cpu += cpu;
        let per = cpu * 1000.0 / seeds as f64;
        println!("  {:45} {per:>7.2} ms/seed", c.name);
    }
    println!(
        "  total: {total_cpu:.2} s CPU on one core, {:.2} ms per scenario-seed on average; about {:.2} s on 2 cores",
        total_cpu * 1000.0 / (seeds as f64 * cases.len() as f64),
        total_cpu / 2.0
    );
    if failures > 0 {
        return Err(format!("{failures} scenario runs failed"));
    }
    Ok(())
}

/// 5 nodes commit `entries` entries of 100 bytes, proposed 20 at a time,
/// through 5% drops, 5% duplicates, up to 2 ticks of extra delay, and a
/// follower crash and restart every 500 ticks. Returns (events, ticks,
/// committed).
fn long_run(entries: u64) -> Result<(u64, u64, u64), grader::case::Failure> {
    let mut sim = Sim::new(1, Options::new(5), false)?;
    sim.set_faults(Faults {
        drop_rate: 0.05,
        duplicate_rate: 0.05,
        max_extra_delay: 2,
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
            // Keep about 100 entries in flight.
            let backlog = proposed.saturating_sub(sim.checker().committed_index());
            if backlog < 100 {
                for _ in 0..20 {
                    proposed += 1;
                    let mut data = format!("entry-{proposed:08}-").into_bytes();
                    data.resize(100, b'.');
                    sim.propose(l, data)?;
                }
            }
        }
        if sim.now() % 500 == 250 {
            match crashed.take() {
                Some(n) => sim.restart(n)?,
                None => {
                    let l = sim.leader().unwrap_or(1);
                    let n = l % 5 + 1;
                    sim.crash(n);
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

fn margins(seeds: u64, only: &str) -> Result<(), String> {
    let cases: Vec<Case> = scenarios()
        .into_iter()
        .filter(|c| c.name.contains(only))
        .collect();
    let mut failures = 0;
    for c in &cases {
        // shape → every value seen, with its bound and seed
        let mut seen_by_shape: BTreeMap<String, Vec<(u64, u64, u64)>> = BTreeMap::new();
        for seed in 0..seeds {
            measure::start(10);
            let mut ctx = Ctx::new(seed);
            let outcome = (c.run)(&mut ctx);
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
            values.sort_by(|a, b| (a.0 * b.1).cmp(&(b.0 * a.1)));
            let (value, bound, seed) = values[values.len() - 1];
            let p99 = values[values.len() * 99 / 100];
            let flag = if value > bound { "  OVER" } else { "" };
            println!(
                "  worst {value:>6} / {bound:<6} (p99 {:>6}, {} samples) {what} (seed {seed}){flag}",
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
