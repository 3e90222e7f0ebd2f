//! Election Step1: `tick_election` counts, in `election_elapsed`, the ticks a
//! node spends without hearing from a leader (§5.2).
//!
//! The cases tick one node but never as far as its randomized election
//! timeout (a learner may pass it: it never campaigns), so none of them
//! needs Election Step2. Only `candidate_counts_ticks` goes through another
//! hole: `become_candidate` (Step3).

use raft::{HardState, MessageType, NONE, StateType};

use super::util::{
    ELECTION_TICK, candidate_at, config, deliver, describe, msg, new_raft, new_raft_with,
    pre_vote_config, step_case, storage, storage_with, tick_observed, ticks,
};
use crate::case::{Case, Ctx, Outcome};
use crate::skeleton::Step;
use crate::{check, check_eq};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Election1, name, purpose, run);
    vec![
        case(
            "e1::follower_counts_each_tick",
            "Each tick of a follower adds exactly one to election_elapsed, and nothing else happens before the randomized election timeout (§5.2).",
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
            "e1::candidate_counts_ticks",
            "A candidate counts ticks from 0 after become_candidate: its clock decides when a split vote is retried (§5.2).",
            candidate_counts_ticks,
        ),
        case(
            "e1::learner_counts_ticks",
            "A learner (a non-voting member, §4.2.1 of the thesis) counts ticks like any follower, past every timeout, but never campaigns.",
            learner_counts_ticks,
        ),
    ]
}

/// The largest randomized timeout: the most ticks a case can give a node
/// before it may campaign.
const LONGEST_TIMEOUT: usize = 2 * ELECTION_TICK - 1;

fn follower_counts_each_tick(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft(1, &[1, 2, 3]);
    r.set_randomized_election_timeout(LONGEST_TIMEOUT);
    check_eq!(
        r.election_elapsed(),
        0,
        "election_elapsed of a new follower"
    );
    for k in 1..LONGEST_TIMEOUT {
        let sent = tick_observed(ctx, &mut r, 1);
        check_eq!(
            r.election_elapsed(),
            k,
            "election_elapsed of a follower after {} (each tick adds one)",
            ticks(k)
        );
        check!(
            r.state == StateType::Follower && sent.is_empty(),
            "after {} of a follower, before its randomized timeout {LONGEST_TIMEOUT}: state = {:?}, sent {}; want Follower, no messages",
            ticks(k),
            r.state,
            describe(&sent)
        );
    }
    Ok(())
}

fn follower_with_leader_counts_ticks(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[], 1, 0));
    r.set_randomized_election_timeout(LONGEST_TIMEOUT);
    // The leader's heartbeat: a follower sets its clock back to 0 and notes
    // the leader (not a hole).
    let heartbeat = msg(MessageType::MsgHeartbeat, 2, 1, 1);
    deliver(ctx, &mut r, heartbeat.clone())?;
    check_eq!(r.lead, 2, "leader after a heartbeat from node 2 (set-up)");
    for round in 1..=2 {
        for k in 1..=7 {
            tick_observed(ctx, &mut r, 1);
            check_eq!(
                r.election_elapsed(),
                k,
                "election_elapsed of a follower of leader 2 after {} since its heartbeat #{round} (ticks count whether or not a leader is known)",
                ticks(k)
            );
        }
        check!(
            r.state == StateType::Follower,
            "after 7 ticks, before the timeout {LONGEST_TIMEOUT}: state = {:?}, want Follower",
            r.state
        );
        deliver(ctx, &mut r, heartbeat.clone())?;
        check_eq!(
            r.election_elapsed(),
            0,
            "election_elapsed right after heartbeat #{}",
            round + 1
        );
    }
    Ok(())
}

fn pre_candidate_counts_ticks(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft_with(pre_vote_config(1), storage(&[1, 2, 3], &[], 1, 0));
    r.become_pre_candidate();
    r.set_randomized_election_timeout(LONGEST_TIMEOUT);
    for k in 1..LONGEST_TIMEOUT {
        let sent = tick_observed(ctx, &mut r, 1);
        check_eq!(
            r.election_elapsed(),
            k,
            "election_elapsed of a pre-candidate after {} (each tick adds one, in every role but leader)",
            ticks(k)
        );
        check!(
            r.state == StateType::PreCandidate && sent.is_empty(),
            "after {} of a pre-candidate, before its randomized timeout {LONGEST_TIMEOUT}: state = {:?}, sent {}; want PreCandidate, no messages",
            ticks(k),
            r.state,
            describe(&sent)
        );
    }
    Ok(())
}

fn candidate_counts_ticks(ctx: &mut Ctx) -> Outcome {
    let mut r = candidate_at(1, &[1, 2, 3], &[], 0)?;
    r.set_randomized_election_timeout(LONGEST_TIMEOUT);
    check_eq!(
        r.election_elapsed(),
        0,
        "set-up (needs Election Step3): election_elapsed after become_candidate"
    );
    for k in 1..LONGEST_TIMEOUT {
        let sent = tick_observed(ctx, &mut r, 1);
        check_eq!(
            r.election_elapsed(),
            k,
            "election_elapsed of a candidate after {} (each tick adds one, in every role but leader)",
            ticks(k)
        );
        check!(
            r.state == StateType::Candidate && r.term == 1 && sent.is_empty(),
            "after {} of a candidate at term 1, before its randomized timeout {LONGEST_TIMEOUT}: state = {:?} at term {}, sent {}; want Candidate at term 1, no messages",
            ticks(k),
            r.state,
            r.term,
            describe(&sent)
        );
    }
    Ok(())
}

fn learner_counts_ticks(ctx: &mut Ctx) -> Outcome {
    let hard_state = HardState {
        term: 1,
        vote: NONE,
        commit: 0,
    };
    let store = storage_with(&[1, 2, 3], &[4], &[], hard_state);
    let mut r = new_raft_with(config(4), store);
    check!(r.is_learner, "set-up: node 4 should be a learner");
    let timeout = r.randomized_election_timeout();
    // Three timeouts: a learner's clock keeps counting, whatever the timeout.
    for k in 1..=3 * timeout {
        let sent = tick_observed(ctx, &mut r, 1);
        check_eq!(
            r.election_elapsed(),
            k,
            "election_elapsed of a learner after {} (randomized timeout {timeout}; a learner counts like any follower)",
            ticks(k)
        );
        check!(
            r.state == StateType::Follower && r.term == 1 && sent.is_empty(),
            "after {} of a learner: state = {:?} at term {}, sent {}; want Follower at term 1, no messages (a learner never campaigns)",
            ticks(k),
            r.state,
            r.term,
            describe(&sent)
        );
    }
    Ok(())
}
