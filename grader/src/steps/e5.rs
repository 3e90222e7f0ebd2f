//! Election Step5: a node grants a vote (§5.2) or a pre-vote (§9.6): it
//! replies with the request's term, and for a real vote records it and
//! sets its election clock back to 0.
//!
//! The cases step vote requests into a follower, which goes through no
//! other hole; the case that checks the clock ticks first (Step1).

use raft::{MessageType, NONE, StateType};

use super::util::{
    check_msgs, config, deliver, new_raft_with, step_case, storage, tick_observed, vote_request,
    vote_response,
};
use crate::case::{Case, Ctx, Outcome};
use crate::check_eq;
use crate::skeleton::Step;

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Election5, name, purpose, run);
    vec![
        case(
            "e5::grants_and_records_vote",
            "A follower that has not voted in the candidate's term grants its vote with a MsgVoteResp of that term, and records whom it voted for (§5.2).",
            grants_and_records_vote,
        ),
        case(
            "e5::grants_only_up_to_date_candidates",
            "A vote or pre-vote is granted only to a candidate whose log is at least as up to date: a later last term, or the same last term and an index as high (§5.4.1).",
            grants_only_up_to_date_candidates,
        ),
        case(
            "e5::one_vote_per_term",
            "Having voted in a term, a node rejects every other candidate of that term but grants a repeated request of the one it voted for (§5.2).",
            one_vote_per_term,
        ),
        case(
            "e5::pre_vote_grant_changes_nothing",
            "Granting a pre-vote replies with the request's future term, but keeps the voter's term and vote as they were (§9.6).",
            pre_vote_grant_changes_nothing,
        ),
        case(
            "e5::only_a_granted_vote_resets_clock",
            "Granting a real vote sets election_elapsed back to 0; granting a pre-vote or rejecting a vote leaves the clock running (§5.2, §9.6).",
            only_a_granted_vote_resets_clock,
        ),
    ]
}

fn grants_and_records_vote(ctx: &mut Ctx) -> Outcome {
    // Same term as the candidate: nothing but the vote itself may change.
    let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[1, 1], 2, NONE));
    let request = vote_request(MessageType::MsgVote, 2, 1, 2, 2, 1);
    let sent = deliver(ctx, &mut r, request)?;
    let want = vote_response(MessageType::MsgVoteResp, 1, 2, 2, false);
    check_msgs(
        &sent,
        &[want],
        "reply of follower 1 (term 2, no vote, log 2@1) to MsgVote from 2 for term 2 with last 2@1",
    )?;
    check_eq!(
        r.vote,
        2,
        "vote of node 1 after granting 2's vote (record it in self.vote: at most one vote per term, §5.2)"
    );
    check_eq!(
        r.hard_state().vote,
        2,
        "vote in hard_state() after granting 2's vote (it must be persisted)"
    );
    check_eq!(
        (r.state, r.term),
        (StateType::Follower, 2),
        "(state, term) after granting a vote"
    );

    // A candidate of a later term: the voter moves to that term first.
    let request = vote_request(MessageType::MsgVote, 3, 1, 3, 2, 1);
    let sent = deliver(ctx, &mut r, request)?;
    let want = vote_response(MessageType::MsgVoteResp, 1, 3, 3, false);
    check_msgs(
        &sent,
        &[want],
        "reply of follower 1 (voted for 2 in term 2) to MsgVote from 3 for term 3",
    )?;
    check_eq!(
        (r.term, r.vote),
        (3, 3),
        "(term, vote) after granting 3's vote in term 3"
    );
    Ok(())
}

fn grants_only_up_to_date_candidates(ctx: &mut Ctx) -> Outcome {
    // The voter's last entry is 2@2: (candidate's last index, last term,
    // granted?).
    let rows: [(u64, u64, bool); 9] = [
        (1, 1, false),
        (2, 1, false),
        (3, 1, false),
        (1, 2, false),
        (2, 2, true),
        (3, 2, true),
        (1, 3, true),
        (2, 3, true),
        (3, 3, true),
    ];
    let mut n = 0;
    for request_type in [MessageType::MsgVote, MessageType::MsgPreVote] {
        for &(index, log_term, grant) in &rows {
            n += 1;
            let what = format!(
                "case #{n} ({request_type:?} for term 3 from a candidate with last {index}@{log_term}, to a voter at term 2 with last 2@2)"
            );
            ctx.note(|| what.clone());
            let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[1, 2], 2, NONE));
            let request = vote_request(request_type, 2, 1, 3, index, log_term);
            let sent = deliver(ctx, &mut r, request)?;
            // A real vote of a later term moves the voter to it first; a
            // pre-vote never does, and a rejection carries the voter's term.
            let voter_term = if request_type == MessageType::MsgVote {
                3
            } else {
                2
            };
            let reply_term = if grant { 3 } else { voter_term };
            let want = vote_response(request_type.vote_response(), 1, 2, reply_term, !grant);
            check_msgs(&sent, &[want], format!("{what}: reply"))?;
            let want_vote = if grant && request_type == MessageType::MsgVote {
                2
            } else {
                NONE
            };
            check_eq!(
                (r.term, r.vote),
                (voter_term, want_vote),
                "{what}: voter's (term, vote) afterwards"
            );
        }
    }
    Ok(())
}

fn one_vote_per_term(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft_with(config(1), storage(&[1, 2, 3, 4, 5], &[1], 2, NONE));
    let request = |from| vote_request(MessageType::MsgVote, from, 1, 2, 1, 1);
    let granted = |to| vote_response(MessageType::MsgVoteResp, 1, to, 2, false);
    let rejected = |to| vote_response(MessageType::MsgVoteResp, 1, to, 2, true);

    let sent = deliver(ctx, &mut r, request(2))?;
    check_msgs(&sent, &[granted(2)], "first MsgVote of term 2, from 2")?;
    let sent = deliver(ctx, &mut r, request(3))?;
    check_msgs(
        &sent,
        &[rejected(3)],
        "MsgVote of term 2 from 3, after voting for 2 in term 2 (§5.2: \"each server will vote for at most one candidate in a given term\")",
    )?;
    let sent = deliver(ctx, &mut r, request(2))?;
    check_msgs(
        &sent,
        &[granted(2)],
        "MsgVote of term 2 from 2 again, after voting for 2 (a repeated request, e.g. after a lost reply, is granted again)",
    )?;
    let sent = deliver(ctx, &mut r, request(4))?;
    check_msgs(
        &sent,
        &[rejected(4)],
        "MsgVote of term 2 from 4, after voting for 2 twice",
    )?;
    check_eq!(r.vote, 2, "vote at the end of term 2");
    Ok(())
}

fn pre_vote_grant_changes_nothing(ctx: &mut Ctx) -> Outcome {
    // Node 1 voted for 3 in term 1; 2 asks whether it would vote in term 3.
    let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[1], 1, 3));
    let request = vote_request(MessageType::MsgPreVote, 2, 1, 3, 1, 1);
    let sent = deliver(ctx, &mut r, request)?;
    let want = vote_response(MessageType::MsgPreVoteResp, 1, 2, 3, false);
    check_msgs(
        &sent,
        &[want],
        "reply of follower 1 (term 1, voted for 3) to MsgPreVote from 2 for term 3 (the grant carries the request's term 3, which the pre-candidate counts)",
    )?;
    check_eq!(
        (r.state, r.term, r.vote),
        (StateType::Follower, 1, 3),
        "(state, term, vote) after granting a pre-vote (a pre-vote is not a vote: record nothing, §9.6)"
    );
    Ok(())
}

fn only_a_granted_vote_resets_clock(ctx: &mut Ctx) -> Outcome {
    // (what, request, reply, clock afterwards): every request is for the
    // voter's own term 2 (a later term would reset the clock anyway) except
    // the pre-vote, which never changes the term.
    let rows = [
        (
            "granted MsgVote of term 2 from 2",
            vote_request(MessageType::MsgVote, 2, 1, 2, 1, 1),
            vote_response(MessageType::MsgVoteResp, 1, 2, 2, false),
            0,
        ),
        (
            "granted MsgPreVote for term 3 from 2",
            vote_request(MessageType::MsgPreVote, 2, 1, 3, 1, 1),
            vote_response(MessageType::MsgPreVoteResp, 1, 2, 3, false),
            5,
        ),
        (
            "rejected MsgVote of term 2 from 2, whose log (last 0@0) is behind",
            vote_request(MessageType::MsgVote, 2, 1, 2, 0, 0),
            vote_response(MessageType::MsgVoteResp, 1, 2, 2, true),
            5,
        ),
    ];
    for (i, (what, request, reply, elapsed)) in rows.into_iter().enumerate() {
        let row = format!("case #{} ({what}, after 5 ticks)", i + 1);
        ctx.note(|| row.clone());
        let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[1], 2, NONE));
        r.set_randomized_election_timeout(19);
        tick_observed(ctx, &mut r, 5);
        check_eq!(
            r.election_elapsed(),
            5,
            "{row}: set-up (needs Election Step1): election_elapsed after 5 ticks"
        );
        let sent = deliver(ctx, &mut r, request)?;
        check_msgs(&sent, &[reply], format!("{row}: reply"))?;
        check_eq!(
            r.election_elapsed(),
            elapsed,
            "{row}: election_elapsed afterwards (only granting a real vote sets it back to 0, §5.2)"
        );
    }
    Ok(())
}
