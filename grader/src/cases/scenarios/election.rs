//! Election scenarios: whole clusters electing leaders through failures,
//! each run on one seed (the runner loops over seeds), with the invariants
//! checked after every event.
//!
//! Bounds are in election timeouts (`E`, 10 ticks; a node's randomized
//! timeout is in `[E, 2E)`). A leader must appear within [`LEADER_BOUND`]
//! election timeouts of a majority being able to talk. Most elections take
//! one or two; the wait is a run of rounds, each lost to a split vote or to
//! a stale node raising the term with some chance, so its tail falls
//! geometrically. Over 10,000 seeds of every scenario the worst wait was
//! 8.4 E (p99 under 4.5 E), each further 2 E making a longer wait about ten
//! times rarer; 20 E leaves a wait that long out of reach of any class's
//! seeds.

use raftpb::{NodeId, StateType};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::cases::{Case, Ctx};
use crate::model::{Kind, Outcome, Part, Step};
use crate::sim::{Options, Sim};
use crate::{check, check_eq};

/// The replication steps an election runs into: their holes are passed
/// over (a follower that cannot handle an append yet drops it), their code
/// runs once written.
const USES: &[(Step, &str)] = &[
    (
        Step::Replication3,
        "a new leader's first append reaches the followers",
    ),
    (
        Step::Replication4,
        "the followers' replies reach the leader",
    ),
];

/// Election timeouts within which a connected majority must elect a leader.
pub const LEADER_BOUND: u64 = 20;

fn case(name: &'static str, purpose: &'static str, run: fn(&mut Ctx<'_>) -> Outcome) -> Case {
    Case {
        name,
        kind: Kind::Scenario(Part::Election),
        purpose,
        uses: USES,
        run,
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "election::initial_election",
            "3 nodes elect exactly one leader, agree on its term, and keep it while nothing fails (§5.2).",
            initial_election,
        ),
        case(
            "election::re_election",
            "When the leader is cut off the other two elect a new one, and the old leader rejoins as its follower (§5.2).",
            re_election,
        ),
        case(
            "election::rejoin_with_pre_vote",
            "With pre-vote and check-quorum, a node cut off for long, follower or leader, rejoins without disturbing the leader (§9.6 of the thesis).",
            rejoin_with_pre_vote,
        ),
        case(
            "election::no_leader_without_majority",
            "No node is elected while no majority can talk; once two of three can, they elect a leader (§5.2).",
            no_leader_without_majority,
        ),
        case(
            "election::many_elections",
            "7 nodes with pre-vote, 10 rounds of cutting off 3 random nodes: each time the 4 connected ones have a leader (§5.2).",
            many_elections,
        ),
        case(
            "election::split_votes",
            "5 nodes that all campaign at once split the vote, and randomized timeouts still elect one leader (§5.2).",
            split_votes,
        ),
    ]
}

/// The leader bound of `sim`, in ticks.
fn leader_bound(sim: &Sim) -> u64 {
    LEADER_BOUND * sim.election_ticks()
}

/// `n1,n2,n3`.
fn names(ids: &[NodeId]) -> String {
    let v: Vec<String> = ids.iter().map(|id| format!("n{id}")).collect();
    v.join(",")
}

/// Waits for a leader that every node of `group` follows.
fn wait_all_follow(
    sim: &mut Sim,
    group: &[NodeId],
    max_ticks: u64,
) -> Result<NodeId, crate::model::Failure> {
    let what = format!("{} all following one leader", names(group));
    sim.run_until(&what, max_ticks, |s| {
        s.leader_among(group)
            .is_some_and(|l| s.all_follow(group, l))
    })?;
    Ok(sim
        .leader_among(group)
        .expect("run_until returned: the condition holds"))
}

fn initial_election(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let all = sim.ids();
        let e = sim.election_ticks();
        let leader = wait_all_follow(sim, &all, leader_bound(sim))?;
        let term = sim.term(leader);
        check!(
            term >= 1,
            "t={}: leader n{leader} is at term {term}, want a term ≥ 1",
            sim.now()
        );
        sim.note(|| {
            format!("n{leader} leads term {term}; nothing fails for two election timeouts")
        });
        // Heartbeats every 2 ticks reset every follower's timer: with a
        // reliable network no one has reason to campaign.
        sim.run(2 * 2 * e)?;
        for &n in &all {
            check!(
                sim.role(n).is_some_and(|(_, t)| t == term) && sim.lead(n) == leader,
                "t={}: two election timeouts after n{leader} won term {term} with no failure, n{n} is {} (nodes: {})",
                sim.now(),
                describe(sim, n),
                sim.describe_nodes()
            );
        }
        check_eq!(
            sim.role(leader).map(|(s, _)| s),
            Some(StateType::Leader),
            "t={}: role of n{leader}, leader of term {term}, after two quiet election timeouts",
            sim.now()
        );
        Ok(())
    })
}

/// `follower@5 lead=n2`.
fn describe(sim: &Sim, n: NodeId) -> String {
    match sim.role(n) {
        None => "down".to_string(),
        Some((s, t)) => format!("{}@{t} lead=n{}", crate::model::role_name(s), sim.lead(n)),
    }
}

fn re_election(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let all = sim.ids();
        let e = sim.election_ticks();
        let old = wait_all_follow(sim, &all, leader_bound(sim))?;
        let others: Vec<NodeId> = all.iter().copied().filter(|&n| n != old).collect();
        sim.note(|| format!("cut off the leader n{old}"));
        sim.isolate(old);
        let new = sim.wait_leader_among(&others, leader_bound(sim))?;
        let new_term = sim.term(new);
        sim.note(|| format!("n{new} leads term {new_term}; n{old} rejoins"));
        sim.heal();
        // The old leader cannot disturb: it never campaigned while cut off
        // (leaders do not time out), so its term is older than `new_term`
        // and everything it sends is ignored, until the new leader's
        // heartbeat makes it a follower.
        sim.run(2 * 2 * e)?;
        check!(
            sim.all_follow(&all, new) && sim.term(new) == new_term,
            "t={}: two election timeouts after n{old} rejoined, want all nodes following n{new} at term {new_term}; nodes: {}",
            sim.now(),
            sim.describe_nodes()
        );
        Ok(())
    })
}

fn rejoin_with_pre_vote(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3).with_pre_vote(), |sim| {
        let all = sim.ids();
        let e = sim.election_ticks();
        let leader = wait_all_follow(sim, &all, leader_bound(sim))?;
        let term = sim.term(leader);
        let follower = all.iter().copied().find(|&n| n != leader).expect("3 nodes");

        // A follower cut off for six election timeouts only ever
        // pre-campaigns: it cannot win a pre-vote, so its term stays.
        sim.note(|| format!("cut off follower n{follower} for 6 election timeouts"));
        sim.isolate(follower);
        sim.run(6 * e)?;
        check!(
            sim.term(follower) == term,
            "t={}: n{follower}, cut off with pre-vote on, moved from term {term} to {}; a failed pre-vote must not raise the term",
            sim.now(),
            sim.term(follower)
        );
        sim.heal();
        sim.run(2 * 2 * e)?;
        check!(
            sim.all_follow(&all, leader) && sim.term(leader) == term,
            "t={}: n{follower} rejoined and disturbed the cluster: want all following n{leader} at term {term}; nodes: {}",
            sim.now(),
            sim.describe_nodes()
        );

        // A leader cut off steps down within two election timeouts (it
        // hears from no quorum), and the others elect a new one.
        sim.note(|| format!("cut off the leader n{leader}"));
        sim.isolate(leader);
        let cut_at = sim.now();
        let others: Vec<NodeId> = all.iter().copied().filter(|&n| n != leader).collect();
        let new = sim.wait_leader_among(&others, leader_bound(sim))?;
        let new_term = sim.term(new);
        // Its first quorum check may still count what it heard before the
        // cut; the second cannot.
        let step_down_by = cut_at + 2 * e;
        sim.run_until(
            &format!(
                "n{leader}, cut off at t={cut_at}, stepping down by t={step_down_by} (check-quorum)"
            ),
            step_down_by.saturating_sub(sim.now()),
            |s| s.role(leader).is_some_and(|(r, _)| r != StateType::Leader),
        )?;
        sim.heal();
        sim.run(2 * 2 * e)?;
        check!(
            sim.all_follow(&all, new) && sim.term(new) == new_term,
            "t={}: n{leader} rejoined and disturbed the cluster: want all following n{new} at term {new_term}; nodes: {}",
            sim.now(),
            sim.describe_nodes()
        );
        Ok(())
    })
}

fn no_leader_without_majority(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(3), |sim| {
        let all = sim.ids();
        let e = sim.election_ticks();
        wait_all_follow(sim, &all, leader_bound(sim))?;
        let cut_at = sim.now();
        sim.note(|| "cut every link: no majority anywhere".to_string());
        sim.partition(&[&[1], &[2], &[3]]);
        sim.run(6 * e)?;
        if let Some((term, (n, at))) = sim.leaders().iter().find(|(_, (_, at))| *at > cut_at) {
            return Err(sim.fail(format!(
                "n{n} was elected leader of term {term} at t={at}, while every node was cut off from the others"
            )));
        }
        // Two of three can talk again: they are a majority.
        let mut pair = all.clone();
        pair.shuffle(sim.rng());
        pair.truncate(2);
        pair.sort();
        let alone = all
            .iter()
            .copied()
            .find(|n| !pair.contains(n))
            .expect("3 nodes");
        sim.note(|| format!("n{} and n{} can talk again", pair[0], pair[1]));
        sim.partition(&[&pair, &[alone]]);
        wait_all_follow(sim, &pair, leader_bound(sim))?;
        sim.heal();
        wait_all_follow(sim, &all, leader_bound(sim))?;
        Ok(())
    })
}

/// Election timeouts within which the 4 connected nodes of
/// [`many_elections`] elect a leader. A winner needs all four votes, and
/// only the nodes holding the newest entries (often just one of the four:
/// each leader appends an empty entry, which reaches only the nodes
/// connected in its round) can get them. Without pre-vote, every stale node
/// that times out first raises the term and restarts everyone's timer, so
/// the wait has a long tail: over 3,000 seeds the worst was 42 election
/// timeouts. Pre-vote stops stale nodes from disturbing; over 20,000 seeds
/// (200,000 rounds) the worst wait was 8.6 election timeouts, and the same
/// margin as [`LEADER_BOUND`] applies.
const MANY_ELECTIONS_BOUND: u64 = LEADER_BOUND;

fn many_elections(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(7).with_pre_vote(), |sim| {
        let all = sim.ids();
        let e = sim.election_ticks();
        sim.wait_leader(leader_bound(sim))?;
        for round in 1..=10 {
            let mut order = all.clone();
            order.shuffle(sim.rng());
            let (cut, connected) = order.split_at(3);
            let mut connected = connected.to_vec();
            connected.sort();
            sim.note(|| format!("round {round}: cut off {}", names(cut)));
            let groups: Vec<&[NodeId]> = std::iter::once(connected.as_slice())
                .chain(cut.chunks(1))
                .collect();
            sim.partition(&groups);
            let pause = sim.rng().random_range(0..e);
            sim.run(pause)?;
            let bound = MANY_ELECTIONS_BOUND * e;
            sim.wait_leader_among(&connected, bound)?;
            sim.heal();
        }
        sim.wait_leader(leader_bound(sim))?;
        Ok(())
    })
}

fn split_votes(ctx: &mut Ctx<'_>) -> Outcome {
    ctx.simulate(Options::new(5), |sim| {
        let all = sim.ids();
        let e = sim.election_ticks();
        // Every node times out at the same tick: five candidates of term 1,
        // each with its own vote only, so term 1 cannot have a leader.
        for &n in &all {
            sim.set_randomized_election_timeout(n, e)?;
        }
        sim.note(|| "every node times out at the same tick".to_string());
        let first = wait_all_follow(sim, &all, leader_bound(sim))?;
        if let Some((&term, &(n, at))) = sim.leaders().iter().next() {
            check!(
                term >= 2,
                "t={}: n{n} won term {term} at t={at}, though all 5 nodes campaigned in term 1 at once and each voted for itself",
                sim.now()
            );
        }
        let mut leader = first;
        for round in 1..=3 {
            // Every follower campaigns in the same tick: four candidates of
            // one term, and the leader, stepping down, votes for one of
            // them. Two votes of five: the term is split again.
            let term = sim.term(leader);
            sim.note(|| format!("round {round}: every follower of n{leader} campaigns at once"));
            for &n in &all {
                if n != leader {
                    sim.campaign(n)?;
                }
            }
            sim.run(2)?;
            leader = wait_all_follow(sim, &all, leader_bound(sim))?;
            let won = sim.term(leader);
            check!(
                won >= term + 2,
                "t={}: n{leader} won term {won}, but term {} was split by 4 simultaneous candidates",
                sim.now(),
                term + 1
            );
        }
        Ok(())
    })
}
