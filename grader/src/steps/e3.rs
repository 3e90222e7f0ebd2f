//! Election Step3: `become_candidate` moves a node to the next term, votes
//! for itself, and hands its messages and ticks to the candidate's
//! functions (§5.2).
//!
//! The cases call `become_candidate` directly, so no other hole is needed,
//! except for ticks (Step1) where the clocks are checked, and the case whose
//! candidate times out into a new election (Step1, Step2, Step4).

use raft::{MemStorage, MessageType, NONE, Raft, StateType};

use super::util::{
    ELECTION_TICK, check_msgs, config, deliver, describe, msg, new_raft, new_raft_with, observe,
    step_case, storage, tick_observed, ticks, vote_requests, vote_response,
};
use crate::case::{Case, Ctx, Outcome};
use crate::skeleton::Step;
use crate::{check, check_eq};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Election3, name, purpose, run);
    vec![
        case(
            "e3::becomes_candidate_of_next_term",
            "From any role but leader, become_candidate moves to the next term, votes for itself, forgets the leader and the last election's votes, and sends nothing (§5.2).",
            becomes_candidate_of_next_term,
        ),
        case(
            "e3::resets_clock_and_draws_new_timeout",
            "become_candidate sets election_elapsed back to 0 and draws a new randomized election timeout each time (§5.2).",
            resets_clock_and_draws_new_timeout,
        ),
        case(
            "e3::candidate_yields_to_leader_of_its_term",
            "A candidate that receives an append from a leader of its own term becomes its follower: it handles messages with step_candidate (§5.2).",
            candidate_yields_to_leader_of_its_term,
        ),
        case(
            "e3::candidate_counts_rejections",
            "A candidate counts vote responses: rejected by a majority, it goes back to follower in the same term (§5.2).",
            candidate_counts_rejections,
        ),
        case(
            "e3::candidate_times_out_into_next_term",
            "A candidate whose election timeout passes starts a new election at the next term: it ticks with tick_election (§5.2).",
            candidate_times_out_into_next_term,
        ),
    ]
}

/// A starting point for `become_candidate`.
struct Start {
    what: &'static str,
    build: fn() -> Raft<MemStorage>,
}

fn becomes_candidate_of_next_term(ctx: &mut Ctx) -> Outcome {
    let starts = [
        Start {
            what: "new follower at term 0",
            build: || new_raft(1, &[1, 2, 3]),
        },
        Start {
            what: "follower at term 5 that voted for 3 and follows leader 2",
            build: || {
                let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[1, 5], 5, 3));
                r.lead = 2;
                r
            },
        },
        Start {
            what: "pre-candidate at term 4 holding pre-votes from 1 and 2",
            build: || {
                let mut r = new_raft_with(config(1), storage(&[1, 2, 3, 4, 5], &[4], 4, 0));
                r.become_pre_candidate();
                r.prs.record_vote(1, true);
                r.prs.record_vote(2, true);
                r
            },
        },
        Start {
            what: "candidate at term 7 rejected by 2",
            build: || {
                let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[], 6, 0));
                r.become_candidate();
                r.prs.record_vote(1, true);
                r.prs.record_vote(2, false);
                r
            },
        },
    ];
    for (i, start) in starts.iter().enumerate() {
        let row = format!("case #{} ({})", i + 1, start.what);
        ctx.note(|| row.clone());
        let mut r = (start.build)();
        let before = (r.state, r.term);
        let sent = observe(ctx, &mut r, |r| r.become_candidate());
        check_eq!(
            r.state,
            StateType::Candidate,
            "{row}: state after become_candidate"
        );
        check_eq!(
            r.term,
            before.1 + 1,
            "{row}: term after become_candidate from {:?} at term {} (§5.2: \"a follower increments its current term\")",
            before.0,
            before.1
        );
        check_eq!(
            r.vote,
            1,
            "{row}: vote of node 1 after become_candidate (§5.2: \"it then votes for itself\")"
        );
        check_eq!(
            r.hard_state().vote,
            1,
            "{row}: vote in hard_state() after become_candidate"
        );
        check_eq!(
            r.lead,
            NONE,
            "{row}: leader known after become_candidate (nobody leads the new term yet; reset forgets it)"
        );
        check!(
            r.prs.votes.is_empty(),
            "{row}: votes recorded after become_candidate: {:?}, want none (the last election's votes do not count in the new term; reset clears them)",
            r.prs.votes
        );
        check!(
            sent.is_empty(),
            "{row}: become_candidate sent {}, want no messages (campaign asks for votes)",
            describe(&sent)
        );
    }
    Ok(())
}

fn resets_clock_and_draws_new_timeout(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft(1, &[1, 2, 3]);
    r.set_randomized_election_timeout(2 * ELECTION_TICK - 1);
    tick_observed(ctx, &mut r, 6);
    check_eq!(
        r.election_elapsed(),
        6,
        "set-up (needs Election Step1): election_elapsed after 6 ticks"
    );
    let mut timeouts = Vec::new();
    for n in 1..=10u64 {
        observe(ctx, &mut r, |r| r.become_candidate());
        check_eq!(
            r.term,
            n,
            "term after {n} calls of become_candidate from term 0"
        );
        check_eq!(
            r.election_elapsed(),
            0,
            "election_elapsed after become_candidate #{n} (a new election starts its clock at 0; reset does it)"
        );
        let timeout = r.randomized_election_timeout();
        check!(
            (ELECTION_TICK..2 * ELECTION_TICK).contains(&timeout),
            "randomized election timeout after become_candidate #{n}: {timeout}, want one in [{ELECTION_TICK}, {})",
            2 * ELECTION_TICK
        );
        timeouts.push(timeout);
        // Some time passes in this election before the next one starts.
        tick_observed(ctx, &mut r, 3);
    }
    check!(
        timeouts.iter().any(|&t| t != timeouts[0]),
        "randomized election timeouts after 10 calls of become_candidate: {timeouts:?}, all the same: each election must draw a new one (§5.2); reset does it"
    );
    Ok(())
}

fn candidate_yields_to_leader_of_its_term(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft(1, &[1, 2, 3]);
    observe(ctx, &mut r, |r| r.become_candidate());
    check_eq!(
        (r.state, r.term),
        (StateType::Candidate, 1),
        "(state, term) after become_candidate from term 0"
    );
    // Leader 2 of term 1 appends nothing after the empty log: a heartbeat
    // in the form of an append.
    let append = msg(MessageType::MsgApp, 2, 1, 1);
    let sent = deliver(ctx, &mut r, append)?;
    check!(
        r.state == StateType::Follower && r.lead == 2,
        "candidate at term 1 after an append from leader 2 of term 1: state = {:?}, leader = {}; want Follower of 2. Set the step function in become_candidate to Raft::step_candidate, which yields to the leader (§5.2)",
        r.state,
        r.lead
    );
    check_eq!(r.term, 1, "term after yielding to the leader of term 1");
    let mut want = msg(MessageType::MsgAppResp, 1, 2, 1);
    want.index = 0;
    check_msgs(&sent, &[want], "reply to the append from leader 2")
}

fn candidate_counts_rejections(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft(1, &[1, 2, 3]);
    observe(ctx, &mut r, |r| r.become_candidate());
    check_eq!(
        (r.state, r.term),
        (StateType::Candidate, 1),
        "(state, term) after become_candidate from term 0"
    );
    let reject = |from| vote_response(MessageType::MsgVoteResp, from, 1, 1, true);
    deliver(ctx, &mut r, reject(2))?;
    check_eq!(
        r.state,
        StateType::Candidate,
        "state of a candidate of 3 nodes after 1 rejection (the election is still open)"
    );
    let sent = deliver(ctx, &mut r, reject(3))?;
    check!(
        r.state == StateType::Follower && r.term == 1,
        "candidate at term 1 after rejections from 2 and 3 of 3 nodes: state = {:?} at term {}; want Follower at term 1. Set the step function in become_candidate to Raft::step_candidate, which counts the votes (§5.2)",
        r.state,
        r.term
    );
    check!(
        sent.is_empty(),
        "after losing the election: sent {}, want no messages",
        describe(&sent)
    );
    Ok(())
}

fn candidate_times_out_into_next_term(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[1], 1, 0));
    observe(ctx, &mut r, |r| r.become_candidate());
    let timeout = 2 * ELECTION_TICK - 1;
    r.set_randomized_election_timeout(timeout);
    let sent = tick_observed(ctx, &mut r, timeout - 1);
    check!(
        r.state == StateType::Candidate && r.term == 2 && sent.is_empty(),
        "candidate of term 2 after {}, one before its randomized timeout {timeout}: state = {:?} at term {}, sent {}; want Candidate at term 2, no messages",
        ticks(timeout - 1),
        r.state,
        r.term,
        describe(&sent)
    );
    let sent = tick_observed(ctx, &mut r, 1);
    check!(
        r.state == StateType::Candidate && r.term == 3,
        "candidate of term 2 after its randomized timeout {timeout}: state = {:?} at term {}; want Candidate at term 3 (§5.2: \"if election timeout elapses: start new election\"). A candidate ticks with Raft::tick_election, set in become_candidate; this also needs Election Step1 and Step2",
        r.state,
        r.term
    );
    let want = vote_requests(MessageType::MsgVote, 1, &[2, 3], 3, 1, 1);
    check_msgs(&sent, &want, "after the candidate's timeout")
}
