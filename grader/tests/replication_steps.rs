//! The replication step suites against the `raft/src/raft.rs` this test is
//! built with, and the isolation rule they must keep.
//!
//! Run it in a variant: `raftlab exec --solution -- cargo test -p grader
//! --test replication_steps` (every case must pass), or `--minus R2` and the
//! like. The test reads which holes are still `todo!()` in the variant's
//! raft.rs and checks each case's outcome against them:
//!
//! - a case of a missing step fails, or runs into a missing step's hole;
//! - a case of a filled step passes, or runs into a missing step's hole;
//! - no replication case ever runs into an election hole.

use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};

use grader::case::{Case, Ctx, Kind};
use grader::skeleton::Step;
use grader::steps::{r1, r2, r3, r4};

/// How one case ended.
enum Ending {
    Passed,
    Failed(String),
    /// Ran into the `todo!()` of this step.
    Blocked(Step),
    /// Panicked for another reason.
    Panicked(String),
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Passed => write!(f, "PASS"),
            Ending::Failed(why) => write!(f, "FAIL: {why}"),
            Ending::Blocked(step) => write!(f, "BLOCKED BY {step}"),
            Ending::Panicked(why) => write!(f, "PANIC: {why}"),
        }
    }
}

/// The holes still empty in the raft.rs this test was built with.
fn missing_steps() -> BTreeSet<Step> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../raft/src/raft.rs");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    Step::ALL
        .into_iter()
        .filter(|s| text.contains(&s.todo_text()))
        .collect()
}

fn run(case: &Case) -> (Ending, Vec<String>) {
    let mut ctx = Ctx::new(0);
    ctx.tracing = true;
    let result = panic::catch_unwind(AssertUnwindSafe(|| (case.run)(&mut ctx)));
    let ending = match result {
        Ok(Ok(())) => Ending::Passed,
        Ok(Err(f)) => Ending::Failed(f.message),
        Err(payload) => {
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let hole = text
                .strip_prefix("not yet implemented: RaftLab ")
                .and_then(|name| Step::ALL.into_iter().find(|s| s.name() == name));
            match hole {
                Some(step) => Ending::Blocked(step),
                None => Ending::Panicked(text),
            }
        }
    };
    (ending, ctx.trace)
}

fn replication_cases() -> Vec<Case> {
    [r1::cases(), r2::cases(), r3::cases(), r4::cases()].concat()
}

#[test]
fn every_step_has_enough_cases() {
    for (step, cases) in [
        (Step::Replication1, r1::cases()),
        (Step::Replication2, r2::cases()),
        (Step::Replication3, r3::cases()),
        (Step::Replication4, r4::cases()),
    ] {
        assert!(cases.len() >= 4, "{step}: only {} cases", cases.len());
        for c in &cases {
            assert_eq!(
                c.kind,
                Kind::Step(step),
                "{} is filed under the wrong step",
                c.name
            );
            assert!(
                c.purpose.ends_with('.'),
                "{}: purpose is not one sentence",
                c.name
            );
        }
    }
}

#[test]
fn cases_keep_the_isolation_rule() {
    let missing = missing_steps();
    let mut report = Vec::new();
    let mut broken = Vec::new();
    for case in replication_cases() {
        let Kind::Step(step) = case.kind else {
            unreachable!("step suites hold step cases only")
        };
        let (ending, trace) = run(&case);
        let ok = match &ending {
            Ending::Blocked(hole) if hole.name().starts_with("Election") => false,
            Ending::Blocked(hole) => missing.contains(hole),
            Ending::Passed => !missing.contains(&step),
            Ending::Failed(_) => missing.contains(&step),
            Ending::Panicked(_) => false,
        };
        let line = format!("{:<45} {ending}", case.name);
        // RAFTLAB_TRACE=r3:: (with --nocapture) shows the traces of the
        // cases whose name starts with it.
        if std::env::var("RAFTLAB_TRACE").is_ok_and(|p| case.name.starts_with(&p)) {
            println!("{line}\n  {}", trace.join("\n  "));
        }
        if !ok {
            broken.push(format!(
                "{line}\n    trace:\n      {}",
                trace.join("\n      ")
            ));
        }
        report.push(line);
    }
    println!("missing holes: {missing:?}");
    for line in &report {
        println!("{line}");
    }
    assert!(
        broken.is_empty(),
        "with holes {missing:?} missing, these cases break the rule:\n{}",
        broken.join("\n")
    );
}

#[test]
fn traces_record_every_message() {
    // Only meaningful where the replication holes are filled.
    if !missing_steps().is_empty() {
        return;
    }
    for case in replication_cases() {
        let (ending, trace) = run(&case);
        assert!(matches!(ending, Ending::Passed), "{}: {ending}", case.name);
        assert!(
            trace.iter().any(|l| l.starts_with("deliver ")),
            "{}: no delivery in the trace",
            case.name
        );
    }
}
