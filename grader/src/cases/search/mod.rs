//! Search cases: every schedule of a small cluster, to bounds in events
//! and states (see [`crate::sim::explore`] for what a state, a transition
//! and a bound are).
//!
//! Each case explores breadth-first from its start state, checks the
//! invariants in every state, and must reach its goal somewhere (the
//! cluster can make progress at all). A violation found is one of the
//! shortest: the case replays its schedule in the simulator, so the
//! failure, the trace and the timeline are those of that replay.
//!
//! | case | start | events | budgets | goal |
//! |---|---|---|---|---|
//! | `search::election` | 3 fresh nodes | 10 | 3 timeouts, 1 heartbeat, 1 reboot | a leader |
//! | `search::pre_vote` | 3 fresh nodes with pre-vote | 10 | the same | a leader |
//! | `search::replication` | n1 leads term 1, its entry committed everywhere | 9 | 2 proposals, 1 timeout, 1 heartbeat, 1 reboot, 1 duplicate | a proposal committed on every node |
//! | `search::figure8` | the paper's Figure 8 on 3 nodes: n1 and n2 each hold an uncommitted entry at index 2, of terms 1 and 2 | 11 | 3 timeouts, one entry per append | an entry of a new term committed |
//! | `search::four_nodes` | 4 nodes, n1 leads term 1 | 12 | 2 proposals, 1 timeout | a proposal committed on every node |
//!
//! A message that is never delivered is a lost one: every schedule that
//! leaves it in flight is explored, so the default bounds spend no budget
//! on explicit losses.
//!
//! A search whose state bound cuts it short passes only if it completed
//! `min_depth` levels: it is judged on what it explored, and says so.

use raftpb::{Entry, HardState, NodeId};

use crate::cases::{Case, Ctx};
use crate::model::{Failure, Kind, Outcome, Part, Step};
use crate::sim::Options;
use crate::sim::explore::{Bounds, Explorer, Goal, Mode, Prelude, Report, Setup};

/// The replication steps an election search runs into (their holes are
/// passed over, as in the election scenarios).
const ELECTION_USES: &[(Step, &str)] = &[
    (
        Step::Replication3,
        "a new leader's first append reaches the followers",
    ),
    (
        Step::Replication4,
        "the followers' replies reach the leader",
    ),
];

/// The election steps a replication search runs first.
const REPLICATION_USES: &[(Step, &str)] = &[
    (Step::Election1, "the start state's leader is elected first"),
    (Step::Election2, "the start state's leader is elected first"),
    (Step::Election3, "the start state's leader is elected first"),
    (Step::Election4, "the start state's leader is elected first"),
    (Step::Election5, "the start state's leader is elected first"),
    (Step::Election6, "the start state's leader is elected first"),
];

/// One search: where it starts, how far it goes, what it must reach.
pub struct Spec {
    pub setup: fn() -> Setup,
    pub bounds: Bounds,
    pub goal: Goal,
}

/// `search::election`: 3 fresh nodes.
pub const ELECTION: Spec = Spec {
    setup: election_setup,
    bounds: Bounds {
        depth: 10,
        min_depth: 9,
        states: 1_600_000,
        timeouts: 3,
        heartbeats: 1,
        reboots: 1,
        duplicates: 0,
        drops: 0,
        proposals: 0,
    },
    goal: Goal::Leader,
};

/// `search::replication`: n1 leads term 1; its empty entry is committed
/// and applied everywhere.
pub const REPLICATION: Spec = Spec {
    setup: replication_setup,
    bounds: Bounds {
        depth: 9,
        min_depth: 8,
        states: 2_200_000,
        timeouts: 1,
        heartbeats: 1,
        reboots: 1,
        duplicates: 1,
        drops: 0,
        proposals: 2,
    },
    goal: Goal::CommittedOnAll,
};

/// `search::figure8`: the paper's Figure 8 (§5.4.2) on three nodes, all
/// at term 2 with entry 1@1 committed. n1 led term 1 and appended 2@1
/// alone; n2 then led term 2 with n3's vote and appended 2@2 alone:
///
/// ```text
///        1   2
///   n1  [1] [1]      term 2
///   n2  [1] [2]      term 2, voted n2
///   n3  [1]          term 2, voted n2
/// ```
///
/// A leader of term 3 that replicates 2@1 to a majority must not count it
/// committed: n2 could still be elected with 2@2 and overwrite it. Each
/// append carries one entry, so an acknowledgement can cover 2@1 alone.
pub const FIGURE8: Spec = Spec {
    setup: figure8_setup,
    bounds: Bounds {
        depth: 11,
        min_depth: 10,
        states: 400_000,
        timeouts: 3,
        heartbeats: 0,
        reboots: 0,
        duplicates: 0,
        drops: 0,
        proposals: 0,
    },
    goal: Goal::Committed(3),
};

fn figure8_setup() -> Setup {
    let mut s = Setup::new(3);
    let e = |index, term, data: &[u8]| Entry::new(term, index, data);
    let hs = |vote| HardState {
        term: 2,
        vote,
        commit: 1,
    };
    s.storage = vec![
        (vec![e(1, 1, b""), e(2, 1, b"x1")], hs(1)),
        (vec![e(1, 1, b""), e(2, 2, b"")], hs(2)),
        (vec![e(1, 1, b"")], hs(2)),
    ];
    s.max_size_per_msg = 1;
    s
}

/// `search::four_nodes`: an even cluster, where a majority is 3 of 4 and
/// half is not one. n1 leads term 1; a leader takes one uncommitted
/// proposal at a time (2 bytes of them), so a second proposal waits.
pub const FOUR_NODES: Spec = Spec {
    setup: four_nodes_setup,
    bounds: Bounds {
        depth: 12,
        min_depth: 11,
        states: 320_000,
        timeouts: 1,
        heartbeats: 0,
        reboots: 0,
        duplicates: 0,
        drops: 0,
        proposals: 2,
    },
    goal: Goal::CommittedOnAll,
};

fn four_nodes_setup() -> Setup {
    let mut s = Setup::new(4);
    s.prelude = vec![Prelude::Fire(1), Prelude::Settle];
    s.max_uncommitted_size = 2;
    s
}

fn election_setup() -> Setup {
    Setup::new(3)
}

/// `search::pre_vote`: 3 fresh nodes that ask for pre-votes first.
pub const PRE_VOTE: Spec = Spec {
    setup: pre_vote_setup,
    bounds: Bounds {
        depth: 10,
        min_depth: 9,
        states: 800_000,
        timeouts: 3,
        heartbeats: 1,
        reboots: 1,
        duplicates: 0,
        drops: 0,
        proposals: 0,
    },
    goal: Goal::Leader,
};

fn pre_vote_setup() -> Setup {
    let mut s = Setup::new(3);
    s.pre_vote = true;
    s
}

fn replication_setup() -> Setup {
    let mut s = Setup::new(3);
    s.prelude = vec![Prelude::Fire(1), Prelude::Settle];
    s
}

/// Every search case, by name, with its spec: the cases, and the bench.
pub fn specs() -> Vec<(&'static str, &'static Spec)> {
    vec![
        ("search::election", &ELECTION),
        ("search::pre_vote", &PRE_VOTE),
        ("search::replication", &REPLICATION),
        ("search::figure8", &FIGURE8),
        ("search::four_nodes", &FOUR_NODES),
    ]
}

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "search::election",
            kind: Kind::Search(Part::Election),
            purpose: "Every schedule of 3 fresh nodes up to 10 events (up to 3 election timeouts, a heartbeat and a reboot, deliveries in any order or never) keeps one leader per term and one vote per node and term, and one of them elects a leader (§5.2).",
            uses: ELECTION_USES,
            run: |ctx| run(ctx, &ELECTION),
        },
        Case {
            name: "search::pre_vote",
            kind: Kind::Search(Part::Election),
            purpose: "The same with pre-vote: every schedule of 3 fresh nodes up to 10 events keeps one leader per term and one vote per node and term, a pre-vote changes no term and no vote, and one schedule elects a leader (§9.6 of the thesis).",
            uses: ELECTION_USES,
            run: |ctx| run(ctx, &PRE_VOTE),
        },
        Case {
            name: "search::replication",
            kind: Kind::Search(Part::Replication),
            purpose: "Every schedule of up to 9 events after n1 is elected (2 proposals, a timeout, a heartbeat, a reboot, deliveries in any order or never, a duplicate) keeps the logs matching and every committed entry in place, and one of them commits a proposal on every node (§5.3, §5.4).",
            uses: REPLICATION_USES,
            run: |ctx| run(ctx, &REPLICATION),
        },
        Case {
            name: "search::figure8",
            kind: Kind::Search(Part::Replication),
            purpose: "The paper's Figure 8 on 3 nodes, every schedule of up to 11 events: a leader never counts an entry of an earlier term committed by its replicas, so no committed entry is ever overwritten (§5.4.2).",
            uses: REPLICATION_USES,
            run: |ctx| run(ctx, &FIGURE8),
        },
        Case {
            name: "search::four_nodes",
            kind: Kind::Search(Part::Replication),
            purpose: "An even cluster, 4 nodes led by n1, every schedule of up to 12 events with 2 proposals (a leader takes one uncommitted proposal at a time): an entry counts as committed only once 3 of the 4 hold it, and a proposal refused is reported as refused (§5.3).",
            uses: REPLICATION_USES,
            run: |ctx| run(ctx, &FOUR_NODES),
        },
    ]
}

/// The simulator's options for replaying a schedule of `setup`.
pub fn replay_options(setup: &Setup) -> Options {
    let mut opts = Options::new(setup.nodes);
    opts.election_tick = setup.election_tick;
    opts.heartbeat_tick = setup.heartbeat_tick;
    opts.pre_vote = setup.pre_vote;
    opts.check_quorum = false;
    opts.max_size_per_msg = setup.max_size_per_msg;
    opts.max_uncommitted_size = setup.max_uncommitted_size;
    opts
}

/// `1,234`, `56.7 k`, `1.2 M`.
pub fn count(n: u64) -> String {
    match n {
        0..10_000 => n.to_string(),
        10_000..1_000_000 => format!("{:.1} k", n as f64 / 1e3),
        _ => format!("{:.1} M", n as f64 / 1e6),
    }
}

/// `3 nodes, depth 12, 1.2 M states` (and what cut it short).
pub fn summary(setup: &Setup, bounds: &Bounds, report: &Report) -> String {
    let depth = if report.truncated {
        format!(
            "depth {} of {}, cut at {} states",
            report.depth,
            bounds.depth,
            count(report.states)
        )
    } else {
        format!("depth {}, {} states", report.depth, count(report.states))
    };
    format!("{} nodes, {depth}", setup.nodes)
}

/// Explores `spec` from the context's run (or replays the schedule the
/// context carries) and judges what was found.
pub fn run(ctx: &mut Ctx<'_>, spec: &Spec) -> Outcome {
    let mut setup = (spec.setup)();
    setup.holes = ctx.case.holes();
    setup.seed = ctx.seed.0;
    let opts = replay_options(&setup);
    if let Some(schedule) = ctx.schedule.clone() {
        return ctx.replay(opts, &setup.storage, &schedule);
    }
    let bounds = spec.bounds;
    let report =
        Explorer::new(ctx.driver(), setup.clone())?.run(&bounds, spec.goal, Mode::BreadthFirst)?;
    ctx.summary = Some(summary(&setup, &bounds, &report));
    judge(ctx, spec, &setup, opts, report)
}

/// The verdict of a search's report; a violation is replayed in the
/// simulator first, for its trace.
pub fn judge(
    ctx: &mut Ctx<'_>,
    spec: &Spec,
    setup: &Setup,
    opts: Options,
    report: Report,
) -> Outcome {
    let bounds = &spec.bounds;
    if let Some(found) = report.violation {
        let how = if found.depth == 0 {
            format!(
                "in the {} events that set up the search's start state",
                found.schedule.len()
            )
        } else {
            format!(
                "a schedule of {} events, the fewest that break it: found breadth-first among {} states",
                found.depth,
                count(report.states)
            )
        };
        let replayed = ctx.replay(opts, &setup.storage, &found.schedule);
        let events = found.schedule.len();
        ctx.recorded = found.schedule;
        return Err(match replayed {
            Err(f) => Failure {
                message: format!("{} ({how})", f.message),
                ..f
            },
            // A rule the simulator's checker does not judge: the replay
            // shows the schedule, the explorer says what broke.
            Ok(()) => Failure {
                message: format!("t={events}: {} ({how})", found.failure.message),
                ..found.failure
            },
        });
    }
    if report.truncated && report.depth < bounds.min_depth {
        return Err(Failure::new(format!(
            "the search reached its bound of {} states before completing {} levels (it completed {}): your nodes reach far more states than they need (a reference run: see the README); nothing it saw was wrong",
            count(bounds.states),
            bounds.min_depth,
            report.depth
        )));
    }
    if report.goal.is_none() {
        return Err(Failure::new(format!(
            "no schedule of up to {} events from the start state reaches a state where {} ({} states seen){}",
            report.depth,
            spec.goal.describe(),
            count(report.states),
            stuck_hint(spec.goal, setup.nodes)
        )));
    }
    Ok(())
}

/// What a search that never reached its goal suggests.
fn stuck_hint(goal: Goal, nodes: NodeId) -> String {
    match goal {
        Goal::Leader => format!(
            ": a timer that runs out must start an election, and {} votes must make a leader (§5.2)",
            nodes / 2 + 1
        ),
        Goal::CommittedOnAll => ": a leader must replicate a proposal and commit it once a majority holds it, and tell every follower (§5.3)".to_string(),
        Goal::Committed(_) => ": a new leader must replicate its log and commit an entry of its own term once a majority holds it (§5.3, §5.4.2)".to_string(),
    }
}
