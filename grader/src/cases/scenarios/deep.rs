//! The deep track's scenarios: whole clusters where each of the paper's
//! rules matters, each run on one seed (the runner loops over seeds), with
//! the invariants checked after every event (see `sim::check`): a stale
//! log that must not win, the paper's Figure 8, appends delayed and
//! repeated, logs diverging by dozens of entries that must be repaired a
//! term per round trip, and crashes and restarts at every point of an
//! election.
//!
//! Bounds are in election timeouts (`E`, 10 ticks), as in the core track's
//! scenarios, and in messages where a rule is about round trips.

use raftpb::{NodeId, StateType};
use rand::Rng;
use rand::seq::SliceRandom;

use super::replication::{commit, commit_bound, figure8_options, propose_at, term_at};
use crate::cases::{Case, Ctx};
use crate::check;
use crate::model::{Kind, Outcome, Part};
use crate::sim::{Faults, Options, Sim, measure};

fn case(name: &'static str, purpose: &'static str, run: fn(&mut Ctx<'_>) -> Outcome) -> Case {
    Case {
        name,
        kind: Kind::Scenario(Part::Deep),
        purpose,
        uses: &[],
        run,
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "deep::stale_log_cannot_win",
            "A node that missed committed entries cannot win an election, however high its term: the voters refuse its stale log (§5.4.1).",
            stale_log_cannot_win,
        ),
        case(
            "deep::figure8",
            "The paper's Figure 8 step by step: an entry of an earlier term stored on a majority is not committed by counting, and a later leader overwrites it (§5.4.2).",
            figure8,
        ),
        case(
            "deep::delayed_and_repeated_appends",
            "Appends that arrive late, twice, or out of order never cut entries without a conflict, and the logs agree once the network heals (§5.3).",
            delayed_and_repeated_appends,
        ),
        case(
            "deep::backup_past_older_entries",
            "A follower holding dozens of entries of an older term that nobody else has is repaired in a few round trips, not one per entry (§5.3).",
            backup_past_older_entries,
        ),
        case(
            "deep::backup_past_newer_entries",
            "A follower holding dozens of entries of a newer term than the leader's at the same indexes is repaired in a few round trips, not one per entry (§5.3).",
            backup_past_newer_entries,
        ),
        case(
            "deep::restart_anywhere_in_an_election",
            "Every node crashes and restarts at every point of an election in which two candidates ask for votes in one term: no node votes twice in a term, no term has two leaders, and the cluster agrees afterwards (§5.2, Figure 2).",
            restart_anywhere_in_an_election,
        ),
    ]
}

/// A proposal's data, unique within a run.
fn value(i: u64) -> Vec<u8> {
    format!("d{i}").into_bytes()
}

/// Runs until `node` leads a term later than the one it is in now, making
/// it campaign at once and again every round trip and a tick (a refusal
/// tells it the highest term around, and its next campaign goes above
/// it). A node that still believes it leads an old term is not elected
/// until it has stepped down and won again. Returns at the tick it won,
/// before its first appends arrive anywhere.
fn elect(sim: &mut Sim, node: NodeId) -> Outcome {
    let above = sim.term(node);
    let every = 2 * sim.options().latency + 1;
    let bound = commit_bound(sim);
    let start = sim.now();
    let deadline = start + measure::stretched(bound);
    loop {
        if sim
            .role(node)
            .is_some_and(|(r, t)| r == StateType::Leader && t > above)
        {
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

fn stale_log_cannot_win(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let e = sim.election_ticks();
        let first = sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(0), 3)?;
        let leader = sim.leader().unwrap_or(first);
        let mut followers: Vec<NodeId> = sim.ids().into_iter().filter(|&n| n != leader).collect();
        followers.shuffle(sim.rng());
        let (stale, current) = (followers[0], followers[1]);
        sim.note(|| format!("cut off n{stale}; n{leader} and n{current} commit 3 entries without it"));
        sim.isolate(stale);
        for i in 1..=3 {
            commit(sim, &value(i), 2)?;
        }
        // Cut off, the stale node times out and campaigns again and again:
        // its term climbs past everyone's.
        sim.run(3 * e)?;
        sim.note(|| format!("the leader n{leader} is cut off; n{stale} (stale log, high term) and n{current} can talk"));
        sim.partition(&[&[stale, current], &[leader]]);
        let winner = sim.wait_leader_among(&[stale, current], commit_bound(sim))?;
        check!(
            winner == current,
            "t={}: n{stale}, whose log lacks the committed entries up to index {}, was elected by n{current} (§5.4.1: a voter denies its vote to a candidate whose log is less up-to-date than its own)",
            sim.now(),
            sim.checker().committed_index()
        );
        sim.heal();
        commit(sim, &value(9), 3)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

/// The cluster of Figure 8: appends carry one entry each, so a new leader
/// brings a follower up to date entry by entry and the follower
/// acknowledges entries of earlier terms before the leader's own.
fn figure8(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(figure8_options(), |sim| {
        // (a) s1 leads and stores x on s2 only.
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

        // (b) s1 crashes; s5 wins the next term with s3 and s4, and is cut
        // off before its empty entry reaches anyone.
        sim.note(|| format!("(b) n{s1} crashes; n{s5} wins with n{s3} and n{s4}, then is cut off"));
        sim.crash(s1)?;
        elect(sim, s5)?;
        let t2 = sim.term(s5);
        sim.isolate(s5);
        sim.run(2)?;
        sim.crash(s5)?;

        // (c) s1 restarts and leads again with s2 and s3, and brings s3 up
        // to date entry by entry; once s3 holds x, its messages to s3 are
        // cut: x is on a majority, the leader's own entry is not.
        sim.note(|| format!("(c) n{s1} restarts, wins with n{s2} and n{s3}, and stores x on n{s3}"));
        sim.restart(s1)?;
        sim.partition(&[&[s1, s2, s3], &[s4], &[s5]]);
        elect(sim, s1)?;
        let t3 = sim.term(s1);
        sim.run_until("x stored on the third node", commit_bound(sim), |s| {
            term_at(s, s3, x_index) == t1
        })?;
        sim.cut(s1, s3);
        sim.run(4)?;
        // Only while the leader's own entry after x is on a minority is
        // this Figure 8's situation; the staging gets there unless the
        // code under test sends entries at a pace of its own. Then there
        // is nothing to judge: everyone comes back, and the logs agree.
        let own = x_index + 1;
        let holders = sim
            .ids()
            .into_iter()
            .filter(|&n| term_at(sim, n, own) == t3)
            .count();
        if holders >= 3 {
            sim.note(|| {
                format!("n{s1}'s entry {own}@{t3} reached a majority before the cut: no Figure 8 here")
            });
            sim.heal();
            sim.restart(s5)?;
            commit(sim, &value(1), 5)?;
            sim.wait_converged(commit_bound(sim))?;
            return Ok(());
        }
        check!(
            sim.commit_index(s1) < x_index,
            "t={}: n{s1}, leader of term {t3}, committed index {} (x, {x_index}@{t1}) while its own entry {own}@{t3} is on {holders} of 5 nodes: an entry of an earlier term is committed only by committing one of the leader's term after it (§5.4.2, Figure 8)",
            sim.now(),
            sim.commit_index(s1)
        );

        // (d) s1 and s2 crash; s5 restarts and wins with s3 and s4: its
        // entry of term t2 at x's index is newer than x, and replaces it.
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

        // (e) Everyone back: one log, without x.
        sim.note(|| "(e) everyone back".to_string());
        sim.heal();
        sim.restart(s1)?;
        sim.restart(s2)?;
        commit(sim, &value(1), 5)?;
        sim.wait_converged(commit_bound(sim))?;
        for n in sim.ids() {
            if let Some(a) = sim.applied(n).iter().find(|a| a.data == b"x") {
                return Err(sim.fail(format!(
                    "n{n} applied x at {}@{}, which was overwritten in term {t2}",
                    a.index, a.term
                )));
            }
        }
        Ok(())
    })
}

fn delayed_and_repeated_appends(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let e = sim.election_ticks();
        sim.wait_leader(commit_bound(sim))?;
        // Most messages late by a few ticks, many twice, some very late:
        // an old append often arrives after a newer one.
        sim.set_faults(Faults {
            duplicate_rate: 0.3,
            max_extra_delay: 3,
            long_delay_rate: 0.05,
            max_long_delay: e,
            ..Faults::default()
        });
        let mut next = 0;
        for _ in 0..8 {
            if let Some(l) = sim.leader() {
                for _ in 0..3 {
                    next += 1;
                    sim.propose(l, value(next))?;
                    sim.run(1)?;
                }
            }
            let pause = sim.rng().random_range(1..4);
            sim.run(pause)?;
        }
        sim.note(|| "reliable network".to_string());
        sim.set_faults(Faults::default());
        next += 1;
        commit(sim, &value(next), 3)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

/// Entries proposed to build a divergence.
const DIVERGENT: u64 = 48;
/// Rejected appends allowed while one leader repairs one follower whose
/// conflicting entries are of one term: the leader's newest entry, the
/// run of conflicting entries, one to spare.
const REJECTIONS_PER_REPAIR: u64 = 3;

/// Fails if more appends were rejected since `before` than backing up by
/// term needs to repair `follower`, whose `conflicting` entries conflict
/// with the leader's.
fn check_backup(
    sim: &Sim,
    before: &crate::sim::Stats,
    follower: NodeId,
    conflicting: u64,
) -> Outcome {
    let got = sim.stats().since(before).rejected_appends;
    measure::observe(
        || "appends rejected while repairing one follower".to_string(),
        got,
        REJECTIONS_PER_REPAIR,
    );
    check!(
        got <= REJECTIONS_PER_REPAIR,
        "t={}: n{follower} sent {got} rejections for {conflicting} conflicting entries; backing up by term needs ≤ {REJECTIONS_PER_REPAIR} (§5.3: \"one AppendEntries RPC will be required for each term with conflicting entries, rather than one RPC per entry\")",
        sim.now()
    );
    Ok(())
}

/// How many of `follower`'s entries conflict with `leader`'s.
fn conflicts(sim: &Sim, follower: NodeId, leader: NodeId) -> u64 {
    let last = sim.last_index(follower);
    (1..=last)
        .filter(|&i| term_at(sim, follower, i) != term_at(sim, leader, i))
        .count() as u64
}

fn backup_past_older_entries(ctx: &mut Ctx<'_>) -> Outcome {
    // Pre-vote and check-quorum: a cut-off node neither disturbs the
    // others when it comes back nor goes on leading.
    ctx.simulate(Options::new(3).with_pre_vote(), |sim| {
        let e = sim.election_ticks();
        sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(0), 3)?;
        let old = sim.wait_leader(commit_bound(sim))?;
        sim.note(|| {
            format!("cut off the leader n{old}; it takes {DIVERGENT} proposals nobody else gets")
        });
        sim.isolate(old);
        for i in 0..DIVERGENT {
            propose_at(sim, old, value(1000 + i))?;
        }
        let rest: Vec<NodeId> = sim.ids().into_iter().filter(|&n| n != old).collect();
        let second = sim.wait_leader_among(&rest, commit_bound(sim))?;
        let mut last = 0;
        for i in 0..DIVERGENT + 2 {
            last = propose_at(sim, second, value(2000 + i))?;
        }
        sim.run_until("the proposals applied on the two", commit_bound(sim), |s| {
            s.applied_at(last).0 >= 2
        })?;
        // A new leader of the two, elected after the divergence: it starts
        // probing the cut-off node after its own last entry.
        sim.note(|| format!("n{second} crashes and restarts: a new election among the two"));
        sim.crash(second)?;
        sim.run(e)?;
        sim.restart(second)?;
        let third = sim.wait_leader_among(&rest, commit_bound(sim))?;
        sim.run(e)?;
        let conflicting = conflicts(sim, old, third);
        sim.note(|| format!("n{old} rejoins with {conflicting} conflicting entries"));
        let before = sim.stats().clone();
        sim.heal();
        sim.run_until(&format!("n{old}'s log repaired"), commit_bound(sim), |s| {
            conflicts(s, old, third) == 0 && s.last_index(old) == s.last_index(third)
        })?;
        check_backup(sim, &before, old, conflicting)?;
        commit(sim, &value(9), 3)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

fn backup_past_newer_entries(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(5), |sim| {
        sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(0), 5)?;
        let a = sim.wait_leader(commit_bound(sim))?;
        let mut others: Vec<NodeId> = sim.ids().into_iter().filter(|&n| n != a).collect();
        others.shuffle(sim.rng());
        let (b, f, v1, v2) = (others[0], others[1], others[2], others[3]);

        // n{a} leads term t1 alone and takes entries nobody else gets.
        sim.note(|| {
            format!("cut off the leader n{a}; it takes {DIVERGENT} proposals nobody else gets")
        });
        sim.isolate(a);
        for i in 0..DIVERGENT {
            propose_at(sim, a, value(1000 + i))?;
        }
        // n{b} wins the next term, and only n{f} gets its entries.
        sim.note(|| format!("n{b} wins a later term; only n{f} gets its entries"));
        sim.partition(&[&[b, f, v1, v2], &[a]]);
        elect(sim, b)?;
        sim.partition(&[&[b, f], &[v1, v2], &[a]]);
        for i in 0..DIVERGENT {
            propose_at(sim, b, value(2000 + i))?;
        }
        let last_b = sim.status(b).map_or(0, |s| s.last_index);
        sim.run_until(
            &format!("n{f} storing n{b}'s entries"),
            commit_bound(sim),
            |s| s.last_index(f) >= last_b,
        )?;
        // n{a}, whose log ends with the older term but is longer, wins with
        // n{v1} and n{v2}, who never saw n{b}'s entries.
        sim.note(|| format!("n{a} wins a still later term with n{v1} and n{v2}"));
        sim.partition(&[&[a, v1, v2], &[b, f]]);
        elect(sim, a)?;
        commit(sim, &value(3), 3)?;
        let conflicting = conflicts(sim, f, a);
        // n{f} alone rejoins n{a}: its entries of n{b}'s term are newer
        // than n{a}'s at the same indexes.
        sim.note(|| {
            format!("n{f} rejoins n{a} with {conflicting} conflicting entries of a newer term")
        });
        let before = sim.stats().clone();
        sim.partition(&[&[a, v1, v2, f], &[b]]);
        sim.run_until(&format!("n{f}'s log repaired"), commit_bound(sim), |s| {
            conflicts(s, f, a) == 0 && s.last_index(f) >= s.checker().committed_index()
        })?;
        check_backup(sim, &before, f, conflicting)?;
        sim.heal();
        commit(sim, &value(9), 5)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}

/// Points of the staged election at which a node crashes and restarts:
/// after 0 to 4 ticks from the first candidate's campaign.
const RESTART_POINTS: u64 = 5;

fn restart_anywhere_in_an_election(ctx: &mut Ctx<'_>) -> Outcome {
    for victim_slot in 0..3u64 {
        for point in 0..RESTART_POINTS {
            restart_at(ctx, victim_slot, point)?;
        }
    }
    Ok(())
}

/// One run of [`restart_anywhere_in_an_election`]: three nodes; the old
/// leader will vote. Two followers campaign for the same term, one tick
/// apart, and the first one's request cannot reach the second (which
/// therefore stays in the old term until it campaigns). `victim_slot`
/// names the node that crashes and restarts at once, `point` ticks after
/// the first campaign: 0 the voter, 1 the first candidate, 2 the second.
fn restart_at(ctx: &mut Ctx<'_>, victim_slot: u64, point: u64) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(0), 3)?;
        sim.wait_converged(commit_bound(sim))?;
        let voter = sim.wait_leader(commit_bound(sim))?;
        let mut candidates: Vec<NodeId> = sim.ids().into_iter().filter(|&n| n != voter).collect();
        candidates.shuffle(sim.rng());
        let (first, second) = (candidates[0], candidates[1]);
        let victim = [voter, first, second][victim_slot as usize];
        let role = ["the voter", "the first candidate", "the second candidate"][victim_slot as usize];
        let term = sim.term(voter);
        sim.note(|| {
            format!(
                "n{first} and n{second} campaign for term {}, one tick apart; n{victim} ({role}) restarts {point} tick(s) after the first campaign",
                term + 1
            )
        });
        sim.cut(first, second);
        sim.campaign(first)?;
        for k in 0..RESTART_POINTS {
            if k == point {
                sim.crash(victim)?;
                sim.restart(victim)?;
            }
            if k == 1 {
                sim.campaign(second)?;
            }
            sim.tick()?;
        }
        sim.heal();
        sim.wait_leader(commit_bound(sim))?;
        commit(sim, &value(1), 3)?;
        sim.wait_converged(commit_bound(sim))?;
        Ok(())
    })
}
