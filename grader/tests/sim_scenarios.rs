//! Every cluster scenario over 100 seeds, and the simulator's determinism.
//!
//! These need a working Raft: run them on the reference with
//! `raftlab exec --solution -- cargo test --release -p grader --test sim_scenarios`.
//! On the skeleton (raft.rs with its holes) they check the opposite: no
//! scenario can pass when the holes are empty.

use std::panic;
use std::sync::Once;
use std::time::Instant;

use grader::case::{Ctx, Kind, Outcome, all_cases};
use grader::sim::{Faults, Options, Sim};

/// The raft.rs this test was built with.
const RAFT_RS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../raft/src/raft.rs"));

fn is_skeleton() -> bool {
    RAFT_RS.contains("todo!(\"RaftLab")
}

const SEEDS: u64 = 100;

/// Silences the panic messages of cases expected to panic (at a hole).
fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| panic::set_hook(Box::new(|_| {})));
}

/// Runs a case, turning a panic into a failure.
fn run_case(run: fn(&mut Ctx) -> Outcome, seed: u64) -> Result<(), String> {
    let mut ctx = Ctx::new(seed);
    match panic::catch_unwind(panic::AssertUnwindSafe(|| run(&mut ctx))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(f)) => Err(f.message),
        Err(p) => Err(p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".to_string())),
    }
}

fn scenarios() -> Vec<grader::case::Case> {
    all_cases()
        .into_iter()
        .filter(|c| matches!(c.kind, Kind::Scenario(_)))
        .collect()
}

#[test]
fn every_scenario_passes_on_100_seeds() {
    let cases = scenarios();
    assert!(
        cases.len() >= 20,
        "only {} scenarios registered",
        cases.len()
    );
    if is_skeleton() {
        // Nothing can pass before the holes are filled; a scenario that
        // does asserts nothing.
        quiet_panics();
        for c in &cases {
            assert!(
                run_case(c.run, 0).is_err(),
                "{} passed on the skeleton, whose ten holes are todo!()",
                c.name
            );
        }
        return;
    }
    let started = Instant::now();
    let mut failures = Vec::new();
    for c in &cases {
        let t = Instant::now();
        for seed in 0..SEEDS {
            if let Err(msg) = run_case(c.run, seed) {
                failures.push(format!("{} seed {seed}: {msg}", c.name));
            }
        }
        eprintln!(
            "{:45} {:>8.2} ms/seed",
            c.name,
            t.elapsed().as_secs_f64() * 1000.0 / SEEDS as f64
        );
    }
    eprintln!(
        "{} scenarios × {SEEDS} seeds in {:.2} s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} scenario runs failed on the reference:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A run with every kind of fault, traced; returns the trace.
fn faulty_run(seed: u64) -> Vec<String> {
    let mut sim = Sim::new(seed, Options::new(5), true).expect("5 nodes start");
    sim.set_faults(Faults {
        drop_rate: 0.1,
        duplicate_rate: 0.1,
        max_extra_delay: 4,
    });
    let outcome = (|| {
        sim.run(40)?;
        for i in 0..30u64 {
            if let Some(l) = sim.leader() {
                sim.propose(l, format!("v{i}").into_bytes())?;
            }
            match i % 10 {
                3 => sim.crash(1 + i % 5),
                5 => sim.partition(&[&[1, 2], &[3, 4, 5]]),
                7 => sim.heal(),
                8 => sim.restart(1 + (i - 5) % 5)?,
                _ => {}
            }
            sim.run(5)?;
        }
        Ok::<(), grader::case::Failure>(())
    })();
    let mut trace = sim.trace();
    trace.push(format!("outcome: {outcome:?}"));
    trace
}

#[test]
fn the_same_seed_gives_the_same_run() {
    if is_skeleton() {
        quiet_panics();
        assert!(
            panic::catch_unwind(|| faulty_run(3)).is_err(),
            "a cluster ran on the skeleton without reaching a hole"
        );
        return;
    }
    let a = faulty_run(3);
    let b = faulty_run(3);
    assert!(
        a.len() > 1000,
        "the faulty run traced only {} events",
        a.len()
    );
    assert!(
        a.iter().any(|l| l.contains("dropped")) && a.iter().any(|l| l.contains("duplicated")),
        "the faulty run saw no drop or no duplicate"
    );
    if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
        panic!(
            "same seed, different runs at event #{i}:\n{}\n{}",
            a[i], b[i]
        );
    }
    assert_eq!(a.len(), b.len(), "same seed, different numbers of events");
    let c = faulty_run(4);
    assert_ne!(a, c, "seeds 3 and 4 gave the same run");
}

#[test]
fn scenario_traces_are_deterministic() {
    if is_skeleton() {
        return;
    }
    // A failing scenario hands its trace over; a passing one does not, so
    // compare a scenario's trace through a case that fails on purpose: the
    // same seed twice must give the same lines.
    let trace = |seed| {
        let mut ctx = Ctx::new(seed);
        ctx.tracing = true;
        let outcome = grader::sim::run_scenario(&mut ctx, Options::new(3), |sim| {
            sim.wait_leader(100)?;
            sim.crash(1);
            sim.run(30)?;
            Err(sim.fail("stop here"))
        });
        assert!(outcome.is_err());
        ctx.trace
    };
    let (a, b) = (trace(11), trace(11));
    assert!(a.len() > 20, "trace of {} lines", a.len());
    let last = a.last().map(String::as_str).unwrap_or_default();
    assert!(
        last.starts_with("FAILED: t=") && last.ends_with(": stop here"),
        "the trace should end with the failure, not {last:?}"
    );
    assert!(
        a.iter().any(|l| l.ends_with("crash n1")),
        "no crash line in the trace"
    );
    assert_eq!(a, b);
}
