//! Election Step1: `tick_election` counts, in `election_elapsed`, the ticks a
//! node spends without hearing from a leader (§5.2).
//!
//! The cases tick nodes that tick with `tick_election` without any other
//! hole: followers, pre-candidates (made by `become_pre_candidate`, not a
//! hole) and learners. They never tick a voter as far as its randomized
//! timeout, so none of them needs Election Step2.

use raftpb::{HardState, MessageType, StateType};

use super::step_case;
use crate::cases::unit::{
    ELECTION_TICK, Node, check_msgs, config, expect, msg, note_changes, pre_vote_config,
    storage_with, ticks,
};
use crate::cases::{Case, Ctx};
use crate::drive::Call;
use crate::model::{Outcome, Step};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Election1, name, purpose, &[], run);
    vec![
        case(
            "e1::follower_counts_each_tick",
            "Each tick of a follower adds exactly one to election_elapsed and changes nothing else before the randomized election timeout (§5.2).",
            follower_counts_each_tick,
        ),
        case(
            "e1::follower_with_leader_counts_ticks",
            "A follower that knows its leader counts ticks too, from 0 again after each heartbeat: that is how it notices the leader is gone (§5.2).",
            follower_with_leader_counts_ticks,
        ),
        case(
            "e1::pre_candidate_counts_ticks",
            "A pre-candidate counts ticks: its clock decides when it tries again (§5.2, §9.6).",
            pre_candidate_counts_ticks,
        ),
        case(
            "e1::learner_counts_ticks",
            "A learner (a non-voting member, §4.2.1 of the thesis) counts ticks like any follower and never campaigns; past its timeout its clock may count on or stop.",
            learner_counts_ticks,
        ),
    ]
}

/// The largest randomized timeout: the most ticks a case can give a voter
/// before it may campaign.
const LONGEST_TIMEOUT: u64 = 2 * ELECTION_TICK - 1;

/// Ticks `n` `k` times, one at a time, and checks after each that
/// `election_elapsed` grew by one, nothing else changed, and nothing was
/// sent. `who` names the node in failures.
fn count_ticks(ctx: &mut Ctx, n: Node, k: u64, who: &str) -> Outcome {
    count_ticks_past_timeout(ctx, n, k, who, false)
}

/// [`count_ticks`], where `may_stop` allows the clock to stay put once it
/// has reached the randomized timeout: for a node that never campaigns,
/// every reader of the clock (the timeout check, the lease check) compares
/// it with a value no larger than that timeout, so counting on and
/// stopping there decide the same.
fn count_ticks_past_timeout(ctx: &mut Ctx, n: Node, k: u64, who: &str, may_stop: bool) -> Outcome {
    let mut before = n.state(ctx)?;
    let start = before.election_elapsed;
    for i in 1..=k {
        n.tick(ctx, 1)?;
        let after = n.state(ctx)?;
        note_changes(ctx, &before, &after);
        let stopped = may_stop
            && before.election_elapsed >= before.randomized_election_timeout
            && after.election_elapsed == before.election_elapsed;
        expect(&before)
            .with(|s| {
                if !stopped {
                    s.election_elapsed += 1
                }
            })
            .check(
                &after,
                format_args!(
                    "{who}, after {} from election_elapsed {start} (each tick adds one, and a tick before the timeout does nothing else)",
                    ticks(i)
                ),
            )?;
        let sent = n.take_msgs(ctx)?;
        check_msgs(&sent, &[], format_args!("{who}, after {}", ticks(i)))?;
        before = after;
    }
    Ok(())
}

fn follower_counts_each_tick(ctx: &mut Ctx) -> Outcome {
    // A follower somewhere in a cluster's life: a term, a vote, a log.
    let term = 2 + ctx.seed.0 % 5;
    let c = config(ctx, 1);
    let n = Node::boot(
        ctx,
        1,
        c,
        storage_with(
            &[1, 2, 3],
            &[],
            &[1, term],
            HardState {
                term,
                vote: 3,
                commit: 1,
            },
        ),
    )?;
    n.call(ctx, Call::SetRandomizedElectionTimeout(LONGEST_TIMEOUT))?;
    count_ticks(ctx, n, LONGEST_TIMEOUT - 1, "a follower")
}

fn follower_with_leader_counts_ticks(ctx: &mut Ctx) -> Outcome {
    let n = Node::follower_with_log(ctx, 2, &[1, 2, 3], &[1], 1)?;
    n.call(ctx, Call::SetRandomizedElectionTimeout(LONGEST_TIMEOUT))?;
    for round in 1..=3 {
        // The leader's heartbeat: the clock starts over.
        let mut hb = msg(MessageType::MsgHeartbeat, 1, 2, 1);
        hb.commit = 0;
        n.deliver(ctx, hb)?;
        let s = n.state(ctx)?;
        crate::check!(
            s.lead == 1 && s.election_elapsed == 0,
            "a follower after a heartbeat of leader 1 (round {round}): lead = {}, election_elapsed = {}; want lead 1 and 0 (the heartbeat code, which is not a hole, does this)",
            s.lead,
            s.election_elapsed
        );
        n.take_msgs(ctx)?;
        count_ticks(ctx, n, 4 + round, "a follower of leader 1")?;
    }
    Ok(())
}

fn pre_candidate_counts_ticks(ctx: &mut Ctx) -> Outcome {
    let c = pre_vote_config(ctx, 1);
    let n = Node::boot(
        ctx,
        1,
        c,
        storage_with(
            &[1, 2, 3],
            &[],
            &[1],
            HardState {
                term: 1,
                vote: 0,
                commit: 0,
            },
        ),
    )?;
    n.call(ctx, Call::BecomePreCandidate)?;
    n.call(ctx, Call::SetRandomizedElectionTimeout(LONGEST_TIMEOUT))?;
    n.take_msgs(ctx)?;
    let s = n.state(ctx)?;
    crate::check_eq!(
        s.state,
        StateType::PreCandidate,
        "set-up: state after become_pre_candidate (not a hole)"
    );
    count_ticks(ctx, n, LONGEST_TIMEOUT - 1, "a pre-candidate")
}

fn learner_counts_ticks(ctx: &mut Ctx) -> Outcome {
    let c = config(ctx, 4);
    let n = Node::boot(
        ctx,
        4,
        c,
        storage_with(
            &[1, 2, 3],
            &[4],
            &[1],
            HardState {
                term: 1,
                vote: 0,
                commit: 0,
            },
        ),
    )?;
    // A learner is not promotable: past its timeout it never campaigns. It
    // goes on counting (etcd), or its clock may stop at the timeout.
    count_ticks_past_timeout(ctx, n, 3 * ELECTION_TICK, "a learner", true)
}
