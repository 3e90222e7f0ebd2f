//! Election Step3: `become_candidate` moves a node to the next term, votes
//! for itself, and hands its messages and ticks to the candidate's
//! functions (§5.2).
//!
//! The cases call `become_candidate` directly and judge the node's whole
//! state after it. One of them ticks a candidate into a new election: with
//! Election Step4 not done yet, it stops at Step4's hole and judges what the
//! candidate's tick did before.

use raftpb::{HardState, MessageType, StateType};

use super::step_case;
use crate::cases::unit::{
    ELECTION_TICK, Node, after_reset, check_msgs, config, expect, msg, note_changes, storage_with,
    vote_requests, vote_response,
};
use crate::cases::{Case, Ctx};
use crate::drive::Call;
use crate::model::{Outcome, Step};
use crate::{check, check_eq};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, uses, run| step_case(Step::Election3, name, purpose, uses, run);
    vec![
        case(
            "e3::becomes_candidate_of_next_term",
            "From any role but leader, become_candidate moves to the next term, votes for itself, forgets the leader, the clocks and the last election's votes, and sends nothing (§5.2).",
            &[],
            becomes_candidate_of_next_term,
        ),
        case(
            "e3::draws_a_new_timeout_each_election",
            "Each become_candidate draws a new randomized election timeout in [election_tick, 2 × election_tick), so split votes do not repeat forever (§5.2).",
            &[],
            draws_a_new_timeout_each_election,
        ),
        case(
            "e3::candidate_yields_to_leader_of_its_term",
            "A candidate that receives an append from a leader of its own term becomes its follower: it handles messages with the candidate's step function (§5.2).",
            &[],
            candidate_yields_to_leader_of_its_term,
        ),
        case(
            "e3::candidate_counts_rejections",
            "A candidate counts vote responses: rejected by a majority, it goes back to follower in the same term (§5.2).",
            &[],
            candidate_counts_rejections,
        ),
        case(
            "e3::candidate_times_out_into_next_election",
            "A candidate ticks with the election tick: when its randomized timeout passes it starts a new election (§5.2).",
            &[
                (
                    Step::Election1,
                    "the candidate's ticks are counted by Step1's code",
                ),
                (
                    Step::Election2,
                    "the timeout starts the election through Step2's code",
                ),
            ],
            candidate_times_out_into_next_election,
        ),
    ]
}

/// A node to call `become_candidate` on, and how to describe it.
struct Start {
    what: &'static str,
    /// Sets node 1 up, from its storage on.
    build: fn(&mut Ctx) -> Result<Node, crate::model::Failure>,
}

fn becomes_candidate_of_next_term(ctx: &mut Ctx) -> Outcome {
    let starts = [
        Start {
            what: "a new follower at term 0",
            build: |ctx| Node::follower(ctx, 1, &[1, 2, 3]),
        },
        Start {
            what: "a follower at term 5 that voted for 3 and follows leader 2",
            build: |ctx| {
                let c = config(ctx, 1);
                let n = Node::boot(
                    ctx,
                    1,
                    c,
                    storage_with(
                        &[1, 2, 3],
                        &[],
                        &[1, 5],
                        HardState {
                            term: 5,
                            vote: 3,
                            commit: 1,
                        },
                    ),
                )?;
                n.call(ctx, Call::SetLead(2))?;
                Ok(n)
            },
        },
        Start {
            what: "a pre-candidate at term 4 holding pre-votes from 1 and 2",
            build: |ctx| {
                let n = Node::follower_with_log(ctx, 1, &[1, 2, 3, 4, 5], &[4], 4)?;
                n.call(ctx, Call::BecomePreCandidate)?;
                n.call(
                    ctx,
                    Call::RecordVote {
                        voter: 1,
                        granted: true,
                    },
                )?;
                n.call(
                    ctx,
                    Call::RecordVote {
                        voter: 2,
                        granted: true,
                    },
                )?;
                n.call(ctx, Call::ClearMsgs)?;
                Ok(n)
            },
        },
        Start {
            what: "a follower at term 3 of a cluster with a learner",
            build: |ctx| {
                let c = config(ctx, 1);
                Node::boot(
                    ctx,
                    1,
                    c,
                    storage_with(
                        &[1, 2, 3],
                        &[4],
                        &[1, 3],
                        HardState {
                            term: 3,
                            vote: 0,
                            commit: 2,
                        },
                    ),
                )
            },
        },
    ];
    for (i, start) in starts.iter().enumerate() {
        let row = format!("case #{} ({})", i + 1, start.what);
        ctx.note(|| row.clone());
        let n = (start.build)(ctx)?;
        let before = n.state(ctx)?;
        n.call(ctx, Call::BecomeCandidate)?;
        let after = n.state(ctx)?;
        note_changes(ctx, &before, &after);
        expect(&before)
            .with(|s| {
                after_reset(s, before.term + 1);
                s.vote = 1;
                s.state = StateType::Candidate;
            })
            .timeout_may_change()
            .check(
                &after,
                format_args!(
                    "{row}: after become_candidate (§5.2: \"a follower increments its current term and transitions to candidate state. It then votes for itself\"; the rest a new term starts from is the library's to clear)"
                ),
            )?;
        let sent = n.take_msgs(ctx)?;
        check_msgs(
            &sent,
            &[],
            format_args!(
                "{row}: after become_candidate (campaign asks for the votes, not become_candidate)"
            ),
        )?;
    }
    Ok(())
}

fn draws_a_new_timeout_each_election(ctx: &mut Ctx) -> Outcome {
    let n = Node::follower(ctx, 1, &[1, 2, 3])?;
    let mut timeouts = Vec::new();
    for k in 1..=10u64 {
        let before = n.state(ctx)?;
        n.call(ctx, Call::BecomeCandidate)?;
        let after = n.state(ctx)?;
        expect(&before)
            .with(|s| {
                after_reset(s, k);
                s.vote = 1;
                s.state = StateType::Candidate;
            })
            .timeout_may_change()
            .check(
                &after,
                format_args!("after become_candidate #{k} from term {}", k - 1),
            )?;
        timeouts.push(after.randomized_election_timeout);
    }
    let first = timeouts[0];
    check!(
        timeouts.iter().any(|&t| t != first),
        "randomized election timeouts after 10 calls of become_candidate: {timeouts:?}, all the same: each election must draw its own (§5.2, \"election timeouts are chosen randomly\"); the library draws one whenever a node starts a term"
    );
    Ok(())
}

fn candidate_yields_to_leader_of_its_term(ctx: &mut Ctx) -> Outcome {
    let n = Node::follower(ctx, 1, &[1, 2, 3])?;
    n.call(ctx, Call::BecomeCandidate)?;
    let s = n.state(ctx)?;
    check_eq!(
        (s.state, s.term),
        (StateType::Candidate, 1),
        "(state, term) after become_candidate from term 0"
    );
    // Leader 2 of term 1 appends nothing after the empty log.
    n.deliver(ctx, msg(MessageType::MsgApp, 2, 1, 1))?;
    let s = n.state(ctx)?;
    check!(
        s.state == StateType::Follower && s.lead == 2 && s.term == 1,
        "a candidate at term 1 after an append from leader 2 of term 1: {} following {}, want a follower of 2 at term 1: its messages must be handled by the candidate's step function, which yields to the leader (§5.2)",
        s.role(),
        s.lead
    );
    let sent = n.take_msgs(ctx)?;
    check_msgs(
        &sent,
        &[msg(MessageType::MsgAppResp, 1, 2, 1)],
        "reply to the append from leader 2",
    )
}

fn candidate_counts_rejections(ctx: &mut Ctx) -> Outcome {
    let n = Node::follower(ctx, 1, &[1, 2, 3])?;
    n.call(ctx, Call::BecomeCandidate)?;
    let reject = |from| vote_response(MessageType::MsgVoteResp, from, 1, 1, true);
    n.deliver(ctx, reject(2))?;
    let s = n.state(ctx)?;
    check_eq!(
        s.state,
        StateType::Candidate,
        "state of a candidate of 3 nodes after 1 rejection (the election is still open)"
    );
    n.deliver(ctx, reject(3))?;
    let s = n.state(ctx)?;
    check!(
        s.state == StateType::Follower && s.term == 1,
        "a candidate at term 1 after rejections from 2 and 3 of 3 nodes: {}, want a follower at term 1: its messages must be handled by the candidate's step function, which counts the votes (§5.2)",
        s.role()
    );
    let sent = n.take_msgs(ctx)?;
    check_msgs(&sent, &[], "after losing the election")
}

fn candidate_times_out_into_next_election(ctx: &mut Ctx) -> Outcome {
    let timeout = ELECTION_TICK + ctx.seed.0 % ELECTION_TICK;
    let n = Node::follower_with_log(ctx, 1, &[1, 2, 3], &[1], 1)?;
    n.call(ctx, Call::BecomeCandidate)?;
    n.call(ctx, Call::SetRandomizedElectionTimeout(timeout))?;
    n.tick(ctx, timeout - 1)?;
    let s = n.state(ctx)?;
    check!(
        s.state == StateType::Candidate && s.term == 2 && s.election_elapsed == timeout - 1,
        "a candidate of term 2 after {} ticks, one before its randomized timeout {timeout}: {} with election_elapsed {}, want a candidate at term 2 with election_elapsed {}: a candidate ticks with the election tick",
        timeout - 1,
        s.role(),
        s.election_elapsed,
        timeout - 1
    );
    check_msgs(&n.take_msgs(ctx)?, &[], "before the timeout")?;
    match n.tick_into_later_hole(ctx, 1)? {
        Some(step) => {
            // The tick got as far as the new campaign, whose first hole is
            // a later step's: the candidate did time out.
            let s = n.state(ctx)?;
            check!(
                s.election_elapsed == 0,
                "a candidate whose timeout passed reached {step}'s todo!() (the new campaign) with election_elapsed {}, want 0",
                s.election_elapsed
            );
        }
        None => {
            let s = n.state(ctx)?;
            check!(
                s.state == StateType::Candidate && s.term == 3,
                "a candidate of term 2 after its randomized timeout {timeout}: {}, want a candidate at term 3 (§5.2: \"if election timeout elapses: start new election\"): a candidate ticks with the election tick",
                s.role()
            );
            let want = vote_requests(MessageType::MsgVote, 1, &[2, 3], 3, 1, 1);
            check_msgs(&n.take_msgs(ctx)?, &want, "after the candidate's timeout")?;
        }
    }
    Ok(())
}
