//! Replication scenarios: proposals committed through failures, crashes
//! and restarts (every node persists, and a restarted node rebuilds its
//! state machine from its log), each run on one seed, with the invariants
//! checked after every event.
//!
//! Bounds are in election timeouts (`E`, 10 ticks). A proposal must be
//! committed within [`COMMIT_BOUND`] election timeouts once a majority can
//! talk: enough to elect a leader and replicate. After a long run of
//! crashes, partitions and delayed messages, terms and logs are scattered
//! and the election that ends it may take several rounds; over 10,000 seeds
//! of every scenario the worst commit took 13.6 E (p99 6.1 E), and the
//! tail falls geometrically, so 25 E leaves it out of reach.

use raftpb::{Index, MessageType, NodeId, StateType};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::cases::{Case, Ctx};
use crate::model::{Failure, Kind, Outcome, Part, Step};
use crate::sim::{Faults, Options, Proposal, Sim, measure};
use crate::{check, check_eq};

/// The election steps every replication scenario runs: the cluster needs
/// leaders.
const USES: &[(Step, &str)] = &[
    (Step::Election1, "the cluster elects its leaders"),
    (Step::Election2, "the cluster elects its leaders"),
    (Step::Election3, "the cluster elects its leaders"),
    (Step::Election4, "the cluster elects its leaders"),
    (Step::Election5, "the cluster elects its leaders"),
    (Step::Election6, "the cluster elects its leaders"),
];

/// Election timeouts within which a connected majority must commit a
/// proposal.
pub const COMMIT_BOUND: u64 = 25;

fn case(name: &'static str, purpose: &'static str, run: fn(&mut Ctx<'_>) -> Outcome) -> Case {
    Case {
        name,
        kind: Kind::Scenario(Part::Replication),
        purpose,
        uses: USES,
        run,
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "replication::basic_agree",
            "Proposals commit at consecutive indexes on every node, nothing but the leader's empty entry commits before them, and a restart re-applies them (§5.3).",
            basic_agree,
        ),
        case(
            "replication::message_counts",
            "An election, 10 proposals of 5,000 bytes and an idle leader cost a bounded number of messages and bytes: each entry crosses each link about once (§5.3).",
            message_counts,
        ),
        case(
            "replication::follower_failure",
            "The leader commits with one follower crashed, commits nothing with both crashed, and the restarted followers catch up (§5.3).",
            follower_failure,
        ),
        case(
            "replication::leader_failure",
            "A crashed leader is replaced and its followers go on committing; a lone node commits nothing (§5.3, §5.4).",
            leader_failure,
        ),
        case(
            "replication::no_commit_without_majority",
            "5 nodes with 3 followers cut off commit nothing; after repair they commit again and agree (§5.3).",
            no_commit_without_majority,
        ),
        case(
            "replication::concurrent_proposals",
            "5 proposals made at once in one term all commit, at consecutive indexes (§5.3).",
            concurrent_proposals,
        ),
        case(
            "replication::rejoin",
            "A cut-off leader's uncommitted entries are discarded when it rejoins, even across a restart (§5.3, §5.4.1).",
            rejoin,
        ),
        case(
            "replication::fast_backup",
            "Logs diverging by 50 entries in minority partitions are repaired in a few round trips, not one per entry (§5.3).",
            fast_backup,
        ),
        case(
            "replication::crash_restart_one",
            "One node at a time, leader or follower, crashes and restarts from its storage; it re-applies its log and catches up (§5.1 Figure 2).",
            crash_restart_one,
        ),
        case(
            "replication::crash_restart_all",
            "The whole cluster crashes and restarts, twice; no committed entry is lost (§5.1 Figure 2).",
            crash_restart_all,
        ),
        case(
            "replication::crash_restart_majority",
            "5 nodes, a majority crashes: nothing commits until it restarts, then everything catches up (§5.1 Figure 2).",
            crash_restart_majority,
        ),
        case(
            "replication::figure8",
            "5 nodes whose leaders keep crashing between proposals: entries of earlier terms are never committed by counting (§5.4.2, Figure 8).",
            figure8,
        ),
        case(
            "replication::figure8_paper",
            "The paper's Figure 8 step by step: an entry of an earlier term stored on a majority is not committed by counting, and a later leader overwrites it (§5.4.2).",
            figure8_paper,
        ),
        case(
            "replication::figure8_unreliable",
            "Figure 8 over a network that drops, duplicates and long delays messages, with leaders cut off instead of crashed (§5.4.2).",
            figure8_unreliable,
        ),
        case(
            "replication::unreliable_agree",
            "Proposals commit through a network that drops, duplicates and reorders messages, and all nodes agree (§5.3).",
            unreliable_agree,
        ),
        case(
            "replication::churn",
            "Random partitions, crashes and restarts with proposals: after healing, everything applied anywhere is applied everywhere (§5.4).",
            churn,
        ),
        case(
            "replication::unreliable_churn",
            "Churn over a network that drops, duplicates and reorders: nothing applied is lost (§5.4).",
            unreliable_churn,
        ),
    ]
}

/// The commit bound of `sim`, in ticks.
pub(super) fn commit_bound(sim: &Sim) -> u64 {
    COMMIT_BOUND * sim.election_ticks()
}

/// Fails unless `value <= bound`; the pair is also reported to a running
/// measurement (see `sim::measure`).
fn within(
    sim: &Sim,
    what: &str,
    value: u64,
    bound: u64,
    detail: impl FnOnce() -> String,
) -> Outcome {
    measure::observe(|| what.to_string(), value, bound);
    check!(
        value <= bound,
        "t={}: {what}: {value}, want at most {bound} ({})",
        sim.now(),
        detail()
    );
    Ok(())
}

/// A proposal's data: `c12`, unique within a run.
fn value(i: u64) -> Vec<u8> {
    format!("c{i}").into_bytes()
}

/// Commits `data` on `expected` live nodes within the commit bound.
pub(super) fn commit(sim: &mut Sim, data: &[u8], expected: usize) -> Result<Index, Failure> {
    let bound = commit_bound(sim);
    sim.commit(data, expected, bound)
}

/// Proposes at `node`, which must be the leader; returns the index.
pub(super) fn propose_at(sim: &mut Sim, node: NodeId, data: Vec<u8>) -> Result<Index, Failure> {
    let shown = crate::model::event::preview(&data);
    match sim.propose(node, data)? {
        Proposal::Appended { index, .. } => Ok(index),
        other => Err(sim.fail(format!(
            "proposing {shown} at n{node}, the leader: {other}; want it appended"
        ))),
    }
}

/// Fails if any live node applied `index`.
fn check_not_applied(sim: &Sim, index: Index, why: &str) -> Outcome {
    let (count, entry) = sim.applied_at(index);
    check!(
        count == 0,
        "t={}: {why}, yet {count} node(s) applied index {index} ({}); nodes: {}",
        sim.now(),
        entry.map_or(String::new(), |(t, d)| format!(
            "{index}@{t} {}",
            crate::model::event::preview(d)
        )),
        sim.describe_nodes()
    );
    Ok(())
}

/// Fails unless everything applied so far (on every live node) is empty
/// entries, the ones new leaders append.
fn check_only_empty_applied(sim: &Sim, when: &str) -> Outcome {
    for n in sim.ids() {
        if let Some(a) = sim.applied(n).iter().find(|a| !a.data.is_empty()) {
            return Err(sim.fail(format!(
                "{when}, n{n} applied {}@{} {}; want only the empty entries of new leaders",
                a.index,
                a.term,
                crate::model::event::preview(&a.data)
            )));
        }
    }
    Ok(())
}

/// The data each node applied, for comparing state machines.
fn applied_data(sim: &Sim, n: NodeId) -> Vec<Vec<u8>> {
    sim.applied(n).iter().map(|a| a.data.clone()).collect()
}

fn basic_agree(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let all = sim.ids();
        let leader = sim.wait_leader(commit_bound(sim))?;
        check_only_empty_applied(sim, "before any proposal")?;
        let mut prev = sim.last_index(leader);
        for i in 1..=3 {
            let index = commit(sim, &value(i), 3)?;
            check_eq!(
                index,
                prev + 1,
                "t={}: index of proposal c{i} (the one before was at {prev})",
                sim.now()
            );
            prev = index;
        }
        sim.wait_converged(commit_bound(sim))?;
        let before: Vec<Vec<Vec<u8>>> = all.iter().map(|&n| applied_data(sim, n)).collect();
        sim.note(|| "crash every node, then restart them".to_string());
        for &n in &all {
            sim.crash(n)?;
        }
        for &n in &all {
            sim.restart(n)?;
        }
        sim.wait_leader(commit_bound(sim))?;
        let index = commit(sim, &value(4), 3)?;
        check!(
            index > prev,
            "t={}: c4 committed at index {index}, not after c3 at {prev}",
            sim.now()
        );
        for (k, &n) in all.iter().enumerate() {
            let again = applied_data(sim, n);
            check!(
                again.len() >= before[k].len() && again[..before[k].len()] == before[k][..],
                "t={}: after its restart n{n} re-applied {} entries that differ from the {} it had applied before",
                sim.now(),
                again.len(),
                before[k].len()
            );
        }
        Ok(())
    })
}

fn message_counts(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let nodes = sim.options().nodes;
        let e = sim.election_ticks();
        let hb = sim.options().heartbeat_tick;
        sim.wait_leader(commit_bound(sim))?;
        let to_elect = sim.stats().total();
        within(
            sim,
            "messages to elect the first leader",
            to_elect,
            ELECTION_MESSAGES,
            || sim.stats().by_type(),
        )?;
        // Let the new leader's first appends settle.
        sim.run(e)?;

        let before = sim.stats().clone();
        const SIZE: usize = 5000;
        for i in 0..10u64 {
            let mut data = vec![b'a' + (i % 26) as u8; SIZE];
            data[..8].copy_from_slice(&i.to_le_bytes());
            commit(sim, &data, nodes as usize)?;
        }
        sim.wait_converged(commit_bound(sim))?;
        let d = sim.stats().since(&before);
        within(
            sim,
            "bytes of entries sent for 10 proposals of 5000 bytes",
            d.entry_bytes,
            nodes * 10 * SIZE as u64,
            || {
                format!(
                    "to {} followers: each entry should cross each link about once",
                    nodes - 1
                )
            },
        )?;
        let max_apps =
            APPEND_MESSAGES_PER_PROPOSAL * 10 * (nodes - 1) + (d.ticks / hb + 1) * (nodes - 1);
        within(
            sim,
            "MsgApp sent for 10 proposals",
            d.count(MessageType::MsgApp),
            max_apps,
            || format!("over {} ticks: {}", d.ticks, d.by_type()),
        )?;

        // An idle leader sends one heartbeat per follower per heartbeat
        // interval, each answered once.
        sim.run(e)?;
        let before = sim.stats().clone();
        let idle = 3 * e;
        sim.run(idle)?;
        let d = sim.stats().since(&before);
        let max_idle = 2 * (nodes - 1) * (idle / hb + 1);
        within(
            sim,
            "messages of an idle cluster in 3 election timeouts",
            d.total(),
            max_idle,
            || d.by_type(),
        )?;
        Ok(())
    })
}

/// Messages sent until the first leader of 3 nodes is followed: the classic
/// lab's 30 calls, each a request and its response. A round costs a
/// candidate 4 messages; over 10,000 seeds the worst election took 26.
const ELECTION_MESSAGES: u64 = 60;
/// `MsgApp`s per proposal per follower: the entry, then the new commit
/// index.
const APPEND_MESSAGES_PER_PROPOSAL: u64 = 2;

fn follower_failure(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let e = sim.election_ticks();
        let leader = sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(101), 3)?;
        let followers: Vec<NodeId> = sim.ids().into_iter().filter(|&n| n != leader).collect();
        sim.note(|| format!("crash follower n{}", followers[0]));
        sim.crash(followers[0])?;
        commit(sim, &value(102), 2)?;
        sim.run(e)?;
        commit(sim, &value(103), 2)?;

        sim.note(|| format!("crash follower n{} too", followers[1]));
        sim.crash(followers[1])?;
        let leader_now = sim
            .ids()
            .into_iter()
            .find(|&n| sim.is_up(n))
            .expect("one node is up");
        let commit_before = sim.commit_index(leader_now);
        let index = propose_at(sim, leader_now, value(104))?;
        sim.run(4 * e)?;
        check_not_applied(
            sim,
            index,
            "with both followers crashed the leader has no majority",
        )?;
        check_eq!(
            sim.commit_index(leader_now),
            commit_before,
            "t={}: commit index of n{leader_now}, leader without a majority, 4 election timeouts after a proposal",
            sim.now()
        );

        sim.note(|| "restart both followers".to_string());
        for &f in &followers {
            sim.restart(f)?;
        }
        sim.run_until("c104 applied on all 3 nodes", commit_bound(sim), |s| {
            s.applied_at(index).0 == 3
        })?;
        let (_, entry) = sim.applied_at(index);
        check!(
            entry.is_some_and(|(_, d)| d == value(104).as_slice()),
            "t={}: index {index} holds {:?}, want c104, proposed there while the leader kept its term",
            sim.now(),
            entry.map(|(t, d)| format!("{index}@{t} {}", crate::model::event::preview(d)))
        );
        Ok(())
    })
}

fn leader_failure(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let e = sim.election_ticks();
        let all = sim.ids();
        let first = sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(101), 3)?;
        sim.note(|| format!("crash the leader n{first}"));
        sim.crash(first)?;
        let rest: Vec<NodeId> = all.iter().copied().filter(|&n| n != first).collect();
        let second = sim.wait_leader_among(&rest, commit_bound(sim))?;
        commit(sim, &value(102), 2)?;
        sim.note(|| format!("crash the new leader n{second}"));
        sim.crash(second)?;
        let alone = rest
            .iter()
            .copied()
            .find(|&n| n != second)
            .expect("3 nodes");
        let committed = sim.checker().committed_index();
        sim.propose(alone, value(103))?;
        sim.run(4 * e)?;
        check_eq!(
            sim.checker().committed_index(),
            committed,
            "t={}: highest committed index with only n{alone} up, 4 election timeouts after a proposal to it",
            sim.now()
        );
        sim.note(|| "restart both".to_string());
        sim.restart(first)?;
        sim.restart(second)?;
        commit(sim, &value(104), 3)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

fn no_commit_without_majority(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(5), |sim| {
        let e = sim.election_ticks();
        let leader = sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(10), 5)?;
        let leader = sim.leader().unwrap_or(leader);
        let mut followers: Vec<NodeId> = sim.ids().into_iter().filter(|&n| n != leader).collect();
        followers.shuffle(sim.rng());
        let kept = followers[0];
        sim.note(|| format!("cut off every follower but n{kept}"));
        let mut groups: Vec<&[NodeId]> = Vec::new();
        let pair = [leader, kept];
        groups.push(&pair);
        for f in &followers[1..] {
            groups.push(std::slice::from_ref(f));
        }
        sim.partition(&groups);
        let commit_before = sim.commit_index(leader);
        let index = propose_at(sim, leader, value(20))?;
        sim.run(4 * e)?;
        check_not_applied(sim, index, "with 3 of 5 followers cut off")?;
        check_eq!(
            sim.commit_index(leader),
            commit_before,
            "t={}: commit index of n{leader}, with 3 of 5 followers cut off, after a proposal",
            sim.now()
        );
        sim.note(|| "repair the network".to_string());
        sim.heal();
        commit(sim, &value(30), 5)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

fn concurrent_proposals(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let leader = sim.wait_leader(commit_bound(sim))?;
        let term = sim.term(leader);
        let mut indexes = Vec::new();
        for i in 1..=5 {
            indexes.push(propose_at(sim, leader, value(i))?);
        }
        for w in indexes.windows(2) {
            check_eq!(
                w[1],
                w[0] + 1,
                "t={}: index of a proposal made right after the one at {}",
                sim.now(),
                w[0]
            );
        }
        let last = indexes[4];
        sim.run_until(
            "the 5 proposals applied on all 3 nodes",
            commit_bound(sim),
            |s| s.applied_at(last).0 == 3,
        )?;
        for (k, &index) in indexes.iter().enumerate() {
            let (_, entry) = sim.applied_at(index);
            let want = value(k as u64 + 1);
            check!(
                entry.is_some_and(|(t, d)| t == term && d == want.as_slice()),
                "t={}: index {index} holds {:?}, want c{}@{term}: the leader kept its term throughout",
                sim.now(),
                entry.map(|(t, d)| format!("{index}@{t} {}", crate::model::event::preview(d))),
                k + 1
            );
        }
        check_eq!(
            sim.term(leader),
            term,
            "t={}: term of leader n{leader}",
            sim.now()
        );
        Ok(())
    })
}

fn rejoin(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let all = sim.ids();
        let old = sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(101), 3)?;
        let old = sim.leader().unwrap_or(old);
        sim.note(|| format!("cut off the leader n{old}; it takes 3 proposals it cannot commit"));
        sim.isolate(old);
        let lost = [
            b"lost102".to_vec(),
            b"lost103".to_vec(),
            b"lost104".to_vec(),
        ];
        for data in &lost {
            propose_at(sim, old, data.clone())?;
        }
        let rest: Vec<NodeId> = all.iter().copied().filter(|&n| n != old).collect();
        let new = sim.wait_leader_among(&rest, commit_bound(sim))?;
        commit(sim, &value(103), 2)?;
        sim.note(|| format!("restart n{old} while still cut off"));
        sim.crash(old)?;
        sim.restart(old)?;
        let third = rest.iter().copied().find(|&n| n != new).expect("3 nodes");
        sim.note(|| format!("cut off n{new}; n{old} rejoins n{third}"));
        sim.partition(&[&[old, third], &[new]]);
        commit(sim, &value(104), 2)?;
        sim.heal();
        commit(sim, &value(105), 3)?;
        sim.wait_converged(commit_bound(sim))?;
        for &n in &all {
            if let Some(a) = sim.applied(n).iter().find(|a| lost.contains(&a.data)) {
                return Err(sim.fail(format!(
                    "n{n} applied {}@{} {}, proposed to n{old} while it was cut off: those entries were never on a majority and must be discarded",
                    a.index,
                    a.term,
                    crate::model::event::preview(&a.data)
                )));
            }
        }
        Ok(())
    })
}

/// Rejected appends allowed while one leader repairs one divergent follower.
const REJECTS_PER_REPAIR: u64 = 4;

fn fast_backup(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(5), |sim| {
        let mut next = 0u64;
        let mut fresh = |sim: &mut Sim| -> Vec<u8> {
            next += 1;
            let r: u32 = sim.rng().random();
            format!("b{next}-{r:x}").into_bytes()
        };
        let leader = sim.wait_leader(commit_bound(sim))?;
        let v = fresh(sim);
        commit(sim, &v, 5)?;
        let leader = sim.leader().unwrap_or(leader);
        let mut others: Vec<NodeId> = sim.ids().into_iter().filter(|&n| n != leader).collect();
        others.shuffle(sim.rng());
        let partner = others[0];
        let majority: Vec<NodeId> = others[1..].to_vec();

        sim.note(|| format!("n{leader} and n{partner} cut off; n{leader} takes 50 proposals"));
        sim.partition(&[&[leader, partner], &majority]);
        for _ in 0..50 {
            let v = fresh(sim);
            propose_at(sim, leader, v)?;
        }
        sim.run(sim.election_ticks() / 2)?;

        let second = sim.wait_leader_among(&majority, commit_bound(sim))?;
        let mut last = 0;
        for _ in 0..50 {
            let v = fresh(sim);
            last = propose_at(sim, second, v)?;
        }
        sim.run_until(
            "50 proposals applied on the majority",
            commit_bound(sim),
            |s| s.applied_at(last).0 >= 3,
        )?;

        let odd = majority
            .iter()
            .copied()
            .find(|&n| n != second)
            .expect("3 in majority");
        let keep = majority
            .iter()
            .copied()
            .find(|&n| n != second && n != odd)
            .expect("3 in majority");
        sim.note(|| format!("n{odd} cut off too; n{second} and n{keep} take 50 proposals"));
        sim.partition(&[&[leader, partner], &[second, keep], &[odd]]);
        for _ in 0..50 {
            let v = fresh(sim);
            propose_at(sim, second, v)?;
        }
        sim.run(sim.election_ticks() / 2)?;

        // n{leader} and n{partner} hold 50 entries of an old term after the
        // committed prefix; n{odd} holds the committed ones. Only n{odd}
        // can win, and must repair the other two.
        sim.note(|| format!("n{leader}, n{partner} and n{odd} can talk"));
        sim.partition(&[&[leader, partner, odd], &[second, keep]]);
        let (before, since) = (sim.stats().clone(), sim.now());
        let third = sim.wait_leader_among(&[leader, partner, odd], commit_bound(sim))?;
        let mut last = 0;
        for _ in 0..50 {
            let v = fresh(sim);
            last = propose_at(sim, third, v)?;
        }
        sim.run_until(
            "50 proposals applied on the new majority",
            commit_bound(sim),
            |s| s.applied_at(last).0 >= 3,
        )?;
        check_repair(
            sim,
            &before,
            since,
            2,
            "repairing 2 followers after a 50-entry divergence",
        )?;

        sim.note(|| "heal: everyone".to_string());
        sim.heal();
        let (before, since) = (sim.stats().clone(), sim.now());
        let v = fresh(sim);
        commit(sim, &v, 5)?;
        sim.wait_converged(commit_bound(sim))?;
        check_repair(
            sim,
            &before,
            since,
            2,
            "repairing 2 more followers after a 50-entry divergence",
        )?;
        Ok(())
    })
}

/// Fails if the leaders elected since `since` needed more rejected appends
/// to repair `followers` divergent followers than fast backup allows: a
/// rejection's hint skips a whole term of the follower's log (§5.3), so
/// each leader needs about one rejection per follower and term, where
/// backing up one entry per round trip would need 50.
fn check_repair(
    sim: &Sim,
    before: &crate::sim::Stats,
    since: u64,
    followers: u64,
    what: &str,
) -> Outcome {
    let got = sim.stats().since(before).rejected_appends;
    let leaders = sim
        .leaders()
        .values()
        .filter(|&&(_, at)| at >= since)
        .count() as u64;
    let max = REJECTS_PER_REPAIR * followers * leaders.max(1);
    within(
        sim,
        "appends rejected while repairing divergent followers",
        got,
        max,
        || {
            format!(
                "{what}, {leaders} leader(s) elected meanwhile: a follower's hint should skip a whole term per round trip (§5.3)"
            )
        },
    )
}

fn crash_restart_one(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let all = sim.ids();
        sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(11), 3)?;
        for round in 0..4u64 {
            // Leader in even rounds, a follower in odd ones.
            let leader = sim.wait_leader(commit_bound(sim))?;
            let victim = if round % 2 == 0 {
                leader
            } else {
                let f: Vec<NodeId> = all.iter().copied().filter(|&n| n != leader).collect();
                f[sim.rng().random_range(0..f.len())]
            };
            let had = applied_data(sim, victim);
            sim.note(|| format!("round {round}: crash n{victim}"));
            sim.crash(victim)?;
            commit(sim, &value(20 + round), 2)?;
            sim.restart(victim)?;
            // It re-applies at once what it had committed before.
            let again = applied_data(sim, victim);
            check!(
                again.len() >= had.len() && again[..had.len()] == had[..],
                "t={}: n{victim} restarted and re-applied {} entries, which do not start with the {} it had applied before its crash",
                sim.now(),
                again.len(),
                had.len()
            );
            commit(sim, &value(30 + round), 3)?;
        }
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

fn crash_restart_all(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let all = sim.ids();
        sim.wait_leader(commit_bound(sim))?;
        for round in 0..2u64 {
            commit(sim, &value(10 * round + 1), 3)?;
            commit(sim, &value(10 * round + 2), 3)?;
            sim.wait_converged(commit_bound(sim))?;
            let committed = sim.checker().committed_index();
            sim.note(|| format!("round {round}: crash every node, then restart them"));
            for &n in &all {
                sim.crash(n)?;
            }
            let e = sim.election_ticks();
            let pause = sim.rng().random_range(0..e);
            sim.run(pause)?;
            for &n in &all {
                sim.restart(n)?;
            }
            for &n in &all {
                check!(
                    sim.applied(n).len() as u64 >= committed.saturating_sub(1),
                    "t={}: n{n} restarted and re-applied {} entries; {committed} were committed before the crash",
                    sim.now(),
                    sim.applied(n).len()
                );
            }
            commit(sim, &value(10 * round + 3), 3)?;
        }
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

fn crash_restart_majority(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(5), |sim| {
        let e = sim.election_ticks();
        let all = sim.ids();
        sim.wait_leader(commit_bound(sim))?;
        for round in 0..3u64 {
            commit(sim, &value(10 * round + 1), 5)?;
            let mut order = all.clone();
            order.shuffle(sim.rng());
            let (down, up) = order.split_at(3);
            let (down, up) = (down.to_vec(), up.to_vec());
            sim.note(|| format!("round {round}: crash a majority"));
            for &n in &down {
                sim.crash(n)?;
            }
            let committed = sim.checker().committed_index();
            for &n in &up {
                sim.propose(n, value(10 * round + 2))?;
            }
            sim.run(3 * e)?;
            check_eq!(
                sim.checker().committed_index(),
                committed,
                "t={}: highest committed index with a majority crashed, 3 election timeouts after proposals",
                sim.now()
            );
            for &n in &down {
                sim.restart(n)?;
            }
            commit(sim, &value(10 * round + 3), 5)?;
        }
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

/// Rounds of [`figure8`] and [`figure8_unreliable`].
const FIGURE8_ROUNDS: u64 = 100;

/// The cluster of the Figure 8 scenarios: appends carry one entry each, so
/// a new leader brings a follower up to date one entry per message and the
/// follower acknowledges entries of earlier terms before the leader's own.
/// That is when counting replicas of an old entry would commit it (§5.4.2).
pub(super) fn figure8_options() -> Options {
    let mut opts = Options::new(5);
    opts.max_size_per_msg = 1;
    opts
}

fn figure8(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(figure8_options(), |sim| {
        let e = sim.election_ticks();
        let all = sim.ids();
        let mut next = 0u64;
        commit(sim, &value(next), 1)?;
        for _ in 0..FIGURE8_ROUNDS {
            propose_at_leaders(sim, &mut next)?;
            let pause = if sim.rng().random_bool(0.1) {
                sim.rng().random_range(0..e / 2)
            } else {
                sim.rng().random_range(0..3)
            };
            sim.run(pause)?;
            let leader = all
                .iter()
                .copied()
                .find(|&n| sim.role(n).is_some_and(|(r, _)| r == StateType::Leader));
            if let Some(l) = leader {
                sim.crash(l)?;
            }
            let down: Vec<NodeId> = all.iter().copied().filter(|&n| !sim.is_up(n)).collect();
            if all.len() - down.len() < 3 {
                let n = down[sim.rng().random_range(0..down.len())];
                sim.restart(n)?;
            }
        }
        sim.note(|| "restart everyone".to_string());
        for &n in &all {
            sim.restart(n)?;
        }
        next += 1;
        commit(sim, &value(next), 5)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

/// Every node that thinks it leads takes a proposal, as clients talking to
/// stale leaders would make.
fn propose_at_leaders(sim: &mut Sim, next: &mut u64) -> Outcome {
    for n in sim.ids() {
        if sim.role(n).is_some_and(|(r, _)| r == StateType::Leader) {
            *next += 1;
            sim.propose(n, value(*next))?;
        }
    }
    Ok(())
}

/// Runs until `node` becomes leader, making it campaign at once and again
/// every round trip and a tick: a rejection tells it the highest term
/// around, and its next campaign goes above it (the scenario leaves no one
/// else able to win). Returns at the tick it won, before its first appends
/// arrive anywhere.
fn elect(sim: &mut Sim, node: NodeId) -> Outcome {
    let every = 2 * sim.options().latency + 1;
    let bound = commit_bound(sim);
    let start = sim.now();
    let deadline = start + measure::stretched(bound);
    loop {
        if sim.role(node).is_some_and(|(r, _)| r == StateType::Leader) {
            measure::observe(|| format!("n{node} elected"), sim.now() - start, bound);
            return Ok(());
        }
        if sim.now() >= deadline {
            return Err(sim.fail(format!(
                "n{node} not elected within {bound} ticks though it campaigned every {every} ticks (nodes: {})",
                sim.describe_nodes()
            )));
        }
        if (sim.now() - start).is_multiple_of(every) {
            sim.campaign(node)?;
        }
        sim.tick()?;
    }
}

/// The term of `node`'s persisted entry at `index` (0 if none).
pub(super) fn term_at(sim: &Sim, node: NodeId, index: Index) -> u64 {
    sim.checker().log_term(node, index)
}

fn figure8_paper(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(figure8_options(), |sim| {
        // (a) s1 leads and gets an entry x to s2 only.
        sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(0), 5)?;
        let s1 = sim.wait_leader(commit_bound(sim))?;
        let mut others: Vec<NodeId> = sim.ids().into_iter().filter(|&n| n != s1).collect();
        others.shuffle(sim.rng());
        let (s2, s3, s4, s5) = (others[0], others[1], others[2], others[3]);
        sim.note(|| format!("(a) n{s1} leads and stores x on n{s2} only"));
        sim.partition(&[&[s1, s2], &[s3, s4, s5]]);
        let x_index = propose_at(sim, s1, b"x".to_vec())?;
        let t1 = sim.term(s1);
        sim.run_until("x stored on the second node", commit_bound(sim), |s| {
            term_at(s, s2, x_index) == t1
        })?;

        // (b) s1 crashes; s5 wins the next term with the votes of s3 and
        // s4, and is cut off before its empty entry reaches anyone.
        sim.note(|| format!("(b) n{s1} crashes; n{s5} wins with n{s3} and n{s4}, then is cut off"));
        sim.crash(s1)?;
        elect(sim, s5)?;
        let t2 = sim.term(s5);
        sim.isolate(s5);
        sim.run(2)?;
        sim.crash(s5)?;

        // (c) s1 restarts and leads again, with the votes of s2 and s3; it
        // brings s3 up to date one entry per message. Once s3 holds x, the
        // leader's messages to s3 are cut: x is on a majority (s1, s2, s3),
        // the new leader's own entry is not.
        sim.note(|| {
            format!("(c) n{s1} restarts, wins with n{s2} and n{s3}, and replicates x to n{s3}")
        });
        sim.restart(s1)?;
        sim.partition(&[&[s1, s2, s3], &[s4], &[s5]]);
        elect(sim, s1)?;
        let leader = s1;
        let t3 = sim.term(leader);
        sim.run_until("x stored on the third node", commit_bound(sim), |s| {
            term_at(s, s3, x_index) == t1
        })?;
        sim.cut(leader, s3);
        sim.run(4)?;
        check!(
            sim.commit_index(leader) < x_index,
            "t={}: n{leader}, leader of term {t3}, committed index {} (x, {x_index}@{t1}) while its own entry {}@{t3} is on 2 of 5 nodes: an entry of an earlier term is committed only by committing one of the leader's term after it (§5.4.2, Figure 8)",
            sim.now(),
            sim.commit_index(leader),
            x_index + 1
        );

        // (d) the leader crashes; s5 restarts and wins with s3 and s4: its
        // entry of term t2 at x's index is newer than x, so it overwrites x.
        sim.note(|| format!("(d) n{s1} and n{s2} crash; n{s5} wins with n{s3} and n{s4}"));
        sim.crash(s1)?;
        sim.crash(s2)?;
        sim.restart(s5)?;
        sim.partition(&[&[s3, s4, s5], &[s1], &[s2]]);
        elect(sim, s5)?;
        sim.run_until(
            &format!("n{s5}'s entry replacing x on n{s3}"),
            commit_bound(sim),
            |s| term_at(s, s3, x_index) == t2,
        )?;

        // Everyone back: one log, without x.
        sim.note(|| "(e) everyone back".to_string());
        sim.heal();
        sim.restart(s1)?;
        sim.restart(s2)?;
        commit(sim, &value(1), 5)?;
        sim.wait_converged(commit_bound(sim))?;
        if let Some(a) = sim.applied(s1).iter().find(|a| a.data == b"x") {
            return Err(sim.fail(format!(
                "n{s1} applied x at {}@{}, which was overwritten in term {t2}",
                a.index, a.term
            )));
        }
        Ok(())
    })
}

fn figure8_unreliable(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(figure8_options(), |sim| {
        let e = sim.election_ticks();
        let all = sim.ids();
        // Mostly short delays, and one message in ten held back for up to
        // three election timeouts: long reordering, yet elections can
        // still finish (Raft needs most messages to be much faster than an
        // election timeout, §5.6).
        sim.set_faults(Faults {
            long_delay_rate: 0.1,
            max_long_delay: 3 * e,
            ..Faults::unreliable(2)
        });
        let mut next = 0u64;
        commit(sim, &value(next), 1)?;
        let mut cut_off: Vec<NodeId> = Vec::new();
        for _ in 0..FIGURE8_ROUNDS {
            propose_at_leaders(sim, &mut next)?;
            let pause = if sim.rng().random_bool(0.1) {
                sim.rng().random_range(0..e / 2)
            } else {
                sim.rng().random_range(0..3)
            };
            sim.run(pause)?;
            let leader = all.iter().copied().find(|&n| {
                !cut_off.contains(&n) && sim.role(n).is_some_and(|(r, _)| r == StateType::Leader)
            });
            let mut changed = false;
            if let Some(l) = leader
                && sim.rng().random_bool(0.5)
            {
                cut_off.push(l);
                changed = true;
            }
            if all.len() - cut_off.len() < 3 {
                let k = sim.rng().random_range(0..cut_off.len());
                cut_off.remove(k);
                changed = true;
            }
            if changed {
                let connected: Vec<NodeId> = all
                    .iter()
                    .copied()
                    .filter(|n| !cut_off.contains(n))
                    .collect();
                let groups: Vec<&[NodeId]> = std::iter::once(connected.as_slice())
                    .chain(cut_off.chunks(1))
                    .collect();
                sim.partition(&groups);
            }
        }
        sim.note(|| "reliable network, everyone connected".to_string());
        sim.set_faults(Faults::default());
        sim.heal();
        next += 1;
        commit(sim, &value(next), 5)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

fn unreliable_agree(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(5), |sim| {
        sim.set_faults(Faults::unreliable(3));
        let mut next = 0u64;
        for _ in 0..4 {
            // Five proposals at once, then one more waited for.
            if let Some(l) = sim.leader() {
                for _ in 0..5 {
                    next += 1;
                    sim.propose(l, value(next))?;
                }
            }
            next += 1;
            commit(sim, &value(next), 1)?;
        }
        sim.set_faults(Faults::default());
        next += 1;
        commit(sim, &value(next), 5)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

fn churn(ctx: &mut Ctx<'_>) -> Outcome {
    churn_with(ctx, Faults::default())
}

fn unreliable_churn(ctx: &mut Ctx<'_>) -> Outcome {
    churn_with(
        ctx,
        Faults {
            duplicate_rate: 0.05,
            ..Faults::unreliable(3)
        },
    )
}

/// Churn rounds in [`churn`] and [`unreliable_churn`].
const CHURN_ROUNDS: u64 = 20;

fn churn_with(ctx: &mut Ctx, faults: Faults) -> Outcome {
    ctx.simulate(Options::new(5), |sim| {
        let e = sim.election_ticks();
        let all = sim.ids();
        sim.set_faults(faults);
        let mut next = 0u64;
        for _ in 0..CHURN_ROUNDS {
            let roll: f64 = sim.rng().random();
            let up: Vec<NodeId> = all.iter().copied().filter(|&n| sim.is_up(n)).collect();
            let down: Vec<NodeId> = all.iter().copied().filter(|&n| !sim.is_up(n)).collect();
            if roll < 0.2 && !up.is_empty() {
                let n = up[sim.rng().random_range(0..up.len())];
                sim.crash(n)?;
            } else if roll < 0.5 && !down.is_empty() {
                let n = down[sim.rng().random_range(0..down.len())];
                sim.restart(n)?;
            } else if roll < 0.7 {
                let mut shuffled = all.clone();
                shuffled.shuffle(sim.rng());
                let cut = sim.rng().random_range(1..all.len());
                let (a, b) = shuffled.split_at(cut);
                let (mut a, mut b) = (a.to_vec(), b.to_vec());
                a.sort();
                b.sort();
                sim.partition(&[&a, &b]);
            } else if roll < 0.8 {
                sim.heal();
            }
            // Clients keep proposing to whoever thinks it leads.
            for &n in &all {
                if sim.role(n).is_some_and(|(r, _)| r == StateType::Leader) {
                    next += 1;
                    sim.propose(n, value(next))?;
                }
            }
            let pause = sim.rng().random_range(1..=e);
            sim.run(pause)?;
        }
        sim.note(|| "end of churn: heal, reliable network, restart everyone".to_string());
        sim.set_faults(Faults::default());
        sim.heal();
        for &n in &all {
            sim.restart(n)?;
        }
        next += 1;
        commit(sim, &value(next), 5)?;
        sim.wait_converged(commit_bound(sim))?;
        // Every live node has applied the whole committed prefix, and state
        // machine safety held all along: nothing applied anywhere, by any
        // incarnation, is missing.
        let applied = sim.checker().applied_index();
        for &n in &all {
            check!(
                sim.applied(n).len() as u64 >= applied,
                "t={}: n{n} applied {} entries, but index {applied} was applied somewhere during the run",
                sim.now(),
                sim.applied(n).len()
            );
        }
        Ok(())
    })
}
