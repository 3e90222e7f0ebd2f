//! `search_bench`: the grader's searches run in this process, against live
//! nodes, with how fast they go and how much memory they take. Not a grade
//! (the code under test shares the process, and the judge's half of the
//! work is not done): a measurement. It links the library, so run it on
//! the reference:
//!
//! ```text
//! cargo run -q -p instructor -- exec --solution -- cargo run --release -q -p host --features bench --bin search_bench
//! ... --bin search_bench -- search::election    one search
//! ... --bin search_bench -- --scale 10          bounds ×10: depth, states, budgets
//! ... --bin search_bench -- --walks 1000        random walks of the (scaled) depth
//! ... --bin search_bench -- --depth 8 --timeouts 2
//!                                               other bounds (also --states,
//!                                               --heartbeats, --reboots, --duplicates,
//!                                               --drops, --proposals, --min-depth)
//! ```

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Instant;

use grader::cases::search::{self, Spec};
use grader::cases::{Case, Ctx};
use grader::model::{Outcome, Seed};
use grader::registry;
use grader::sim::explore::{Explorer, Mode, Report, Setup};

use host::live::Live;

const USAGE: &str = "usage: search_bench [NAME ...] [--scale K] [--walks N]
         [--depth D] [--min-depth D] [--states S] [--timeouts N] [--heartbeats N]
         [--reboots N] [--duplicates N] [--drops N] [--proposals N]";

/// The peak resident memory of this process so far, in bytes (Linux).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs `spec`'s search as `case` in this process on fresh live nodes:
/// the set-up, what the explorer reported, and the case's verdict on it.
fn run_search(
    case: Case,
    spec: &Spec,
    mode: Mode,
) -> Result<(Setup, Report, Outcome), grader::model::Failure> {
    let mut live = Live::default();
    let mut ctx = Ctx::new(case, Seed(0), &mut live, false);
    let mut setup = (spec.setup)();
    setup.holes = case.holes();
    let report = Explorer::new(ctx.driver(), setup.clone())?.run(&spec.bounds, spec.goal, mode)?;
    let opts = search::replay_options(&setup);
    let verdict = search::judge(&mut ctx, spec, &setup, opts, report.clone());
    Ok((setup, report, verdict))
}

fn main() -> ExitCode {
    host::live::install_panic_hook();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let args = &args[..];
    let mut names = Vec::new();
    let mut scale = 1u32;
    let mut walks: Option<u64> = None;
    let mut overrides: Vec<(String, u64)> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(text) = arg.to_str() else {
            eprintln!("search_bench: {arg:?} is not text\n{USAGE}");
            return ExitCode::from(2);
        };
        let mut number = |what: &str| -> Option<u64> {
            let value = it
                .next()
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse().ok());
            if value.is_none() {
                eprintln!("search_bench: {what} needs a whole number\n{USAGE}");
            }
            value
        };
        match text {
            "--scale" => match number("--scale") {
                Some(k) if (1..=1000).contains(&k) => scale = k as u32,
                Some(_) => {
                    eprintln!("search_bench: --scale is 1 to 1000\n{USAGE}");
                    return ExitCode::from(2);
                }
                None => return ExitCode::from(2),
            },
            "--walks" => match number("--walks") {
                Some(n) => walks = Some(n),
                None => return ExitCode::from(2),
            },
            "--depth" | "--min-depth" | "--states" | "--timeouts" | "--heartbeats"
            | "--reboots" | "--duplicates" | "--drops" | "--proposals" => match number(text) {
                Some(n) if text == "--states" || n <= 31 || text.ends_with("depth") => {
                    overrides.push((text.to_string(), n))
                }
                _ => {
                    eprintln!("search_bench: {text} needs a whole number (budgets: at most 31)");
                    return ExitCode::from(2);
                }
            },
            name => names.push(name.to_string()),
        }
    }
    let specs = search::specs();
    for name in &names {
        if !specs.iter().any(|(n, _)| n == name) {
            let known: Vec<&str> = specs.iter().map(|(n, _)| *n).collect();
            eprintln!(
                "search_bench: no search is called {name:?} (searches: {})",
                known.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let mut all_passed = true;
    for (name, spec) in specs {
        if !names.is_empty() && !names.iter().any(|n| n == name) {
            continue;
        }
        let Some(case) = registry::find(name) else {
            eprintln!("search_bench: the registry has no case {name}");
            return ExitCode::from(2);
        };
        let mut bounds = spec.bounds.scaled(scale);
        for (option, n) in &overrides {
            let n = *n;
            match option.as_str() {
                "--depth" => bounds.depth = n as u32,
                "--min-depth" => bounds.min_depth = n as u32,
                "--states" => bounds.states = n,
                "--timeouts" => bounds.timeouts = n as u8,
                "--heartbeats" => bounds.heartbeats = n as u8,
                "--reboots" => bounds.reboots = n as u8,
                "--duplicates" => bounds.duplicates = n as u8,
                "--drops" => bounds.drops = n as u8,
                _ => bounds.proposals = n as u8,
            }
        }
        let scaled = Spec {
            setup: spec.setup,
            bounds,
            goal: spec.goal,
        };
        let mode = match walks {
            Some(walks) => Mode::RandomWalks { walks, seed: 0 },
            None => Mode::BreadthFirst,
        };
        let started = Instant::now();
        let run = run_search(case, &scaled, mode);
        let seconds = started.elapsed().as_secs_f64();
        let (setup, report, verdict) = match run {
            Ok(run) => run,
            Err(f) => {
                println!("{name}: the search stopped: {f}");
                all_passed = false;
                continue;
            }
        };
        let summary = search::summary(&setup, &scaled.bounds, &report);
        let memory = peak_memory().map_or("unknown".to_string(), |b| {
            format!("{:.0} MB", b as f64 / (1 << 20) as f64)
        });
        println!(
            "{name}{}: {summary}; {} transitions; {} node states, {} node steps run; {seconds:.2} s = {} distinct states/s; peak memory {memory}",
            match (scale, walks) {
                (1, None) => String::new(),
                (k, None) => format!(" ×{k}"),
                (k, Some(w)) => format!(" ×{k}, {w} random walks"),
            },
            search::count(report.transitions),
            search::count(report.node_states),
            search::count(report.node_steps),
            search::count((report.states as f64 / seconds.max(1e-9)) as u64),
        );
        match verdict {
            Ok(()) => println!("  passed (in-process)"),
            Err(f) => {
                all_passed = false;
                println!("  FAILED (in-process): {f}");
            }
        }
    }
    if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs a finished raft.rs: run on the reference with --include-ignored"]
    fn every_search_passes_on_the_reference_and_the_same_twice() {
        for (name, spec) in search::specs() {
            let case = registry::find(name).expect("every search is a case");
            let (_, first, verdict) = run_search(case, spec, Mode::BreadthFirst).expect(name);
            assert_eq!(verdict, Ok(()), "{name}");
            assert!(!first.truncated, "{name} reached its state bound");
            assert!(first.goal.is_some(), "{name} never reached its goal");
            let (_, second, _) = run_search(case, spec, Mode::BreadthFirst).expect(name);
            assert_eq!(
                (
                    first.states,
                    first.transitions,
                    first.depth,
                    first.node_steps
                ),
                (
                    second.states,
                    second.transitions,
                    second.depth,
                    second.node_steps
                ),
                "{name}: the same bounds must give the same search"
            );
        }
    }

    #[test]
    #[ignore = "needs a finished raft.rs: run on the reference with --include-ignored"]
    fn random_walks_ten_times_deeper_find_nothing_on_the_reference() {
        for (name, spec) in search::specs() {
            let case = registry::find(name).expect("every search is a case");
            let deeper = Spec {
                setup: spec.setup,
                bounds: spec.bounds.scaled(10),
                goal: spec.goal,
            };
            let mode = Mode::RandomWalks {
                walks: 200,
                seed: 7,
            };
            let (_, report, verdict) = run_search(case, &deeper, mode).expect(name);
            assert!(report.violation.is_none(), "{name}: {verdict:?}");
        }
    }
}
