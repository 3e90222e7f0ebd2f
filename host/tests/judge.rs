//! The judge and the host together, on the finished reference: every case
//! passes through the protocol, a replay is the same twice, and a real
//! run draws a timeline. They need a finished `raft.rs`, so on the
//! skeleton they are ignored; the validation runs them on the reference
//! (`--include-ignored`).

use std::path::PathBuf;

use grader::cli::args::TestArgs;
use grader::cli::test::{Plan, plan, run_all};
use grader::exec::judge::{self, Direct, RunOptions, Status};
use grader::model::Seed;
use grader::registry;
use grader::report::timeline::{Shade, Timeline};
use raftpb::StateType;

fn host() -> Direct {
    Direct::new(PathBuf::from(env!("CARGO_BIN_EXE_raftlab-host")))
}

#[test]
#[ignore = "needs a finished raft.rs: every case must pass"]
fn every_case_of_the_reference_passes_through_the_judge() {
    let args = TestArgs {
        seeds: Some(5),
        ..Default::default()
    };
    let Plan { runs, .. } = plan(&args).unwrap();
    let results = run_all(&host(), &runs, &RunOptions::default(), 2, &|_, _| {});
    assert_eq!(results.len(), runs.len(), "every run ran");
    for (_, r) in &results {
        assert_eq!(r.status, Status::Pass, "{}: {}", r.case.name, r.message);
        assert!(r.passed_seeds >= 1, "{}", r.case.name);
    }
}

#[test]
#[ignore = "needs a finished raft.rs: the run must get far"]
fn a_replay_is_the_same_twice() {
    let case = registry::find("replication::unreliable_agree").unwrap();
    let traced = RunOptions {
        tracing: true,
        ..RunOptions::default()
    };
    let a = judge::run_case(&host(), &case, &[Seed(7)], &traced);
    let b = judge::run_case(&host(), &case, &[Seed(7)], &traced);
    assert_eq!(a.status, Status::Pass, "{}", a.message);
    assert!(!a.events.is_empty(), "a traced run keeps its events");
    assert_eq!(a.events, b.events, "the same seed gives the same run");
    let c = judge::run_case(&host(), &case, &[Seed(8)], &traced);
    assert_ne!(a.events, c.events, "another seed gives another run");
}

#[test]
#[ignore = "needs a finished raft.rs: leaders must be elected"]
fn a_real_run_becomes_lanes_arrows_and_shades() {
    let case = registry::find("election::re_election").unwrap();
    let traced = RunOptions {
        tracing: true,
        ..RunOptions::default()
    };
    let r = judge::run_case(&host(), &case, &[Seed(3)], &traced);
    assert_eq!(r.status, Status::Pass, "{}", r.message);
    let t = Timeline::from_events("test", &r.events, Some("t=30: n2 and n3 disagree"));
    assert_eq!(t.nodes, vec![1, 2, 3]);
    let leaders = t
        .roles
        .iter()
        .filter(|b| b.role == StateType::Leader)
        .count();
    assert!(leaders >= 2, "two leaders over the run: {:?}", t.roles);
    assert!(t.arrows.iter().all(|a| a.send_tick <= a.deliver_tick));
    assert!(!t.arrows.is_empty());
    assert!(
        t.shades
            .iter()
            .any(|s| matches!(s, Shade::Partition { .. })),
        "the cut-off leader is shaded"
    );
    assert_eq!(t.violation.as_ref().map(|v| v.0), Some(30));
}

/// Holds on the skeleton and on the reference alike: a run longer than a
/// chunk goes to several hosts, and comes back as one result, as if it
/// had run in order: every seed passed, or the first failing seed is the
/// one after those that passed.
#[test]
fn a_long_run_is_cut_into_chunks_and_joined_in_order() {
    let case = registry::find("replication::concurrent_proposals").unwrap();
    let n = 12_001;
    let runs = [grader::cli::test::Run {
        graded: grader::report::graded_of(case.kind, false),
        case,
        seeds: (0..n).map(Seed).collect(),
    }];
    let results = run_all(&host(), &runs, &RunOptions::default(), 2, &|_, _| {});
    assert_eq!(results.len(), 1, "one result for one run");
    let r = &results[0].1;
    if r.passed() {
        assert_eq!(r.passed_seeds, n, "every chunk's seeds counted");
    } else {
        assert_eq!(
            r.seed,
            Some(Seed(r.passed_seeds)),
            "the first failure follows the seeds that passed: {}",
            r.message
        );
    }
}
