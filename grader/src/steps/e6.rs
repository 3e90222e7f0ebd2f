//! Election Step6: a candidate that a majority voted for becomes leader and
//! sends every follower an append carrying the empty entry of its new term
//! (§5.2, §5.4.2).
//!
//! The candidates come from `become_candidate` (Step3) with their own vote
//! counted, as `campaign` leaves them; the case that starts from a pre-vote
//! goes through `campaign` (Step4) too.

use raft::{
    CampaignType, Entry, HardState, MemStorage, Message, MessageType, NONE, Raft, StateType,
};

use super::util::{
    candidate_at, check_msgs, config, deliver, describe, log_terms, msg, new_raft_with, observe,
    pre_vote_config, step_case, storage, storage_with, tick_observed, vote_requests, vote_response,
};
use crate::case::{Case, Ctx, Outcome};
use crate::skeleton::Step;
use crate::{check, check_eq};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Election6, name, purpose, run);
    vec![
        case(
            "e6::wins_only_with_a_majority",
            "A candidate becomes leader as soon as a majority of the voters (itself included) granted their votes, never with half or fewer (§5.2).",
            wins_only_with_a_majority,
        ),
        case(
            "e6::winner_appends_empty_entry_and_broadcasts",
            "The winner appends an empty entry of its term and sends each follower a MsgApp with it, after the follower's presumed last entry and with its commit index (§5.2, §5.3, §5.4.2).",
            winner_appends_empty_entry_and_broadcasts,
        ),
        case(
            "e6::winner_appends_to_every_follower",
            "The winner of a 5-node election sends its append to every other voter, including those that rejected it or did not answer (§5.2).",
            winner_appends_to_every_follower,
        ),
        case(
            "e6::concedes_then_wins_next_election",
            "A candidate rejected by a majority goes back to follower and ignores late votes; its next election, with a majority, makes it leader (§5.2).",
            concedes_then_wins_next_election,
        ),
        case(
            "e6::pre_vote_then_vote_to_leader",
            "With pre-vote, a node goes through both rounds, pre-candidate then candidate, and leads once the real votes make a majority (§9.6, §5.2).",
            pre_vote_then_vote_to_leader,
        ),
    ]
}

/// The append a new leader `from` of `term` sends `to`: the empty entry
/// of its term after `prev_index`@`prev_term`, with its commit index.
fn first_append(
    from: u64,
    to: u64,
    term: u64,
    prev_index: u64,
    prev_term: u64,
    commit: u64,
) -> Message {
    let mut m = msg(MessageType::MsgApp, from, to, term);
    m.index = prev_index;
    m.log_term = prev_term;
    m.commit = commit;
    m.entries = vec![Entry::new(term, prev_index + 1, b"")];
    m
}

/// Checks that `r` is the leader of `term`, with the empty entry of its
/// term at the end of a log of `log_before`.
fn check_leader(r: &Raft<MemStorage>, term: u64, log_before: &[u64], what: &str) -> Outcome {
    check_eq!(
        (r.state, r.term, r.lead),
        (StateType::Leader, term, r.id),
        "{what}: (state, term, leader) (a majority voted for node {}: call become_leader, §5.2)",
        r.id
    );
    let mut want = log_before.to_vec();
    want.push(term);
    check_eq!(
        log_terms(r),
        want,
        "{what}: terms of the leader's log (become_leader appends an empty entry of the new term, §5.4.2)"
    );
    Ok(())
}

/// One election: the cluster size and the responses to node 1, in order.
struct Round {
    voters: u64,
    responses: &'static [(u64, bool)],
    want: StateType,
}

fn wins_only_with_a_majority(ctx: &mut Ctx) -> Outcome {
    use StateType::{Candidate, Follower, Leader};
    let rounds = [
        Round {
            voters: 3,
            responses: &[(2, true)],
            want: Leader,
        },
        Round {
            voters: 3,
            responses: &[(2, true), (3, true)],
            want: Leader,
        },
        Round {
            voters: 3,
            responses: &[(2, false)],
            want: Candidate,
        },
        Round {
            voters: 3,
            responses: &[(2, false), (3, true)],
            want: Leader,
        },
        Round {
            voters: 3,
            responses: &[(2, false), (3, false)],
            want: Follower,
        },
        Round {
            voters: 4,
            responses: &[(2, true)],
            want: Candidate,
        },
        Round {
            voters: 4,
            responses: &[(2, true), (3, true)],
            want: Leader,
        },
        Round {
            voters: 4,
            responses: &[(2, true), (3, false), (4, false)],
            want: Follower,
        },
        Round {
            voters: 5,
            responses: &[(2, true)],
            want: Candidate,
        },
        Round {
            voters: 5,
            responses: &[(2, true), (3, true)],
            want: Leader,
        },
        Round {
            voters: 5,
            responses: &[(2, true), (3, false), (4, false)],
            want: Candidate,
        },
        Round {
            voters: 5,
            responses: &[(2, false), (3, false)],
            want: Candidate,
        },
        Round {
            voters: 5,
            responses: &[(2, false), (3, false), (4, false)],
            want: Follower,
        },
        Round {
            voters: 5,
            responses: &[(2, false), (3, true), (4, false), (5, true)],
            want: Leader,
        },
    ];
    for (i, round) in rounds.iter().enumerate() {
        let granted = round.responses.iter().filter(|(_, g)| *g).count();
        let rejected = round.responses.len() - granted;
        let what = format!(
            "case #{} ({} nodes; votes of the others: {granted} granted, {rejected} rejected)",
            i + 1,
            round.voters
        );
        ctx.note(|| what.clone());
        let peers: Vec<u64> = (1..=round.voters).collect();
        let mut r = candidate_at(1, &peers, &[], 0)?;
        let mut sent = Vec::new();
        for &(from, grant) in round.responses {
            let response = vote_response(MessageType::MsgVoteResp, from, 1, 1, !grant);
            sent.extend(deliver(ctx, &mut r, response)?);
        }
        check_eq!(
            r.state,
            round.want,
            "{what}: state after the responses {:?} (leader with a majority, follower once a majority rejected, §5.2)",
            round.responses
        );
        check_eq!(r.term, 1, "{what}: term after the election");
        if round.want == Leader {
            check_leader(&r, 1, &[], &what)?;
            let want: Vec<Message> = (2..=round.voters)
                .map(|to| first_append(1, to, 1, 0, 0, 0))
                .collect();
            check_msgs(&sent, &want, format!("{what}: after winning"))?;
        } else {
            check!(
                sent.is_empty(),
                "{what}: sent {}, want no messages (the election is not won)",
                describe(&sent)
            );
        }
    }
    Ok(())
}

fn winner_appends_empty_entry_and_broadcasts(ctx: &mut Ctx) -> Outcome {
    // Node 1 has two entries of term 1, both committed, and runs for term 2.
    let hard_state = HardState {
        term: 1,
        vote: NONE,
        commit: 2,
    };
    let mut r = new_raft_with(
        config(1),
        storage_with(&[1, 2, 3], &[], &[1, 1], hard_state),
    );
    observe(ctx, &mut r, |r| r.become_candidate());
    check_eq!(
        (r.state, r.term),
        (StateType::Candidate, 2),
        "set-up (needs Election Step3): (state, term) after become_candidate at term 1"
    );
    r.prs.record_vote(1, true);
    let sent = deliver(
        ctx,
        &mut r,
        vote_response(MessageType::MsgVoteResp, 2, 1, 2, false),
    )?;
    let what = "candidate of term 2 (log 1@1 2@1, commit 2) granted 2's vote";
    check_leader(&r, 2, &[1, 1], what)?;
    let want = [
        first_append(1, 2, 2, 2, 1, 2),
        first_append(1, 3, 2, 2, 1, 2),
    ];
    check_msgs(
        &sent,
        &want,
        format!(
            "{what}: after winning (become_leader, then bcast_append: §5.2 \"sends heartbeat messages to all of the other servers\")"
        ),
    )?;

    // A late vote changes nothing: the election is over.
    let sent = deliver(
        ctx,
        &mut r,
        vote_response(MessageType::MsgVoteResp, 3, 1, 2, false),
    )?;
    check!(
        sent.is_empty(),
        "leader of term 2 after a late vote from 3: sent {}, want no messages",
        describe(&sent)
    );
    check_leader(&r, 2, &[1, 1], "leader of term 2 after a late vote from 3")?;

    // It leads from now on: its ticks send heartbeats (§5.2), which only a
    // node made leader by become_leader does.
    let sent = tick_observed(ctx, &mut r, 1);
    let want: Vec<Message> = [2, 3]
        .into_iter()
        .map(|to| msg(MessageType::MsgHeartbeat, 1, to, 2))
        .collect();
    check_msgs(
        &sent,
        &want,
        "the new leader of term 2 after one tick (heartbeat interval 1)",
    )
}

fn winner_appends_to_every_follower(ctx: &mut Ctx) -> Outcome {
    let mut r = candidate_at(1, &[1, 2, 3, 4, 5], &[1], 1)?;
    let mut sent = Vec::new();
    for (from, grant) in [(2, false), (4, true), (5, true)] {
        let response = vote_response(MessageType::MsgVoteResp, from, 1, 2, !grant);
        sent.extend(deliver(ctx, &mut r, response)?);
    }
    let what = "candidate of term 2 of 5 nodes, rejected by 2, granted by 4 and 5";
    check_leader(&r, 2, &[1], what)?;
    let want: Vec<Message> = (2..=5).map(|to| first_append(1, to, 2, 1, 1, 0)).collect();
    check_msgs(
        &sent,
        &want,
        format!("{what}: after winning (an append to every follower)"),
    )
}

fn concedes_then_wins_next_election(ctx: &mut Ctx) -> Outcome {
    let mut r = candidate_at(1, &[1, 2, 3, 4, 5], &[], 0)?;
    let response =
        |from, term, grant: bool| vote_response(MessageType::MsgVoteResp, from, 1, term, !grant);
    deliver(ctx, &mut r, response(2, 1, false))?;
    deliver(ctx, &mut r, response(3, 1, false))?;
    check_eq!(
        r.state,
        StateType::Candidate,
        "state after 2 rejections of 5 (3 votes may still come)"
    );
    let sent = deliver(ctx, &mut r, response(4, 1, false))?;
    check_eq!(
        (r.state, r.term, r.lead),
        (StateType::Follower, 1, NONE),
        "(state, term, leader) after 3 rejections of 5 (the election is lost: back to follower in the same term)"
    );
    check!(
        sent.is_empty(),
        "after losing: sent {}, want no messages",
        describe(&sent)
    );
    let sent = deliver(ctx, &mut r, response(5, 1, true))?;
    check!(
        r.state == StateType::Follower && sent.is_empty(),
        "after a late vote from 5 to a candidate that lost: state = {:?}, sent {}; want Follower, no messages",
        r.state,
        describe(&sent)
    );

    // The next election, at term 2, is won: the earlier rejections do not
    // count against it.
    observe(ctx, &mut r, |r| r.become_candidate());
    check_eq!(
        (r.state, r.term),
        (StateType::Candidate, 2),
        "set-up (needs Election Step3): (state, term) after become_candidate at term 1"
    );
    r.prs.record_vote(1, true);
    let mut sent = deliver(ctx, &mut r, response(3, 2, true))?;
    check_eq!(
        r.state,
        StateType::Candidate,
        "state in the election of term 2 after 1 vote of 5 (plus its own)"
    );
    sent.extend(deliver(ctx, &mut r, response(4, 2, true))?);
    let what = "candidate of term 2 (5 nodes) granted the votes of 3 and 4 after losing term 1";
    check_leader(&r, 2, &[], what)?;
    let want: Vec<Message> = (2..=5).map(|to| first_append(1, to, 2, 0, 0, 0)).collect();
    check_msgs(&sent, &want, format!("{what}: after winning"))
}

fn pre_vote_then_vote_to_leader(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft_with(pre_vote_config(1), storage(&[1, 2, 3], &[1], 1, 0));
    let sent = observe(ctx, &mut r, |r| r.campaign(CampaignType::PreElection));
    check_msgs(
        &sent,
        &vote_requests(MessageType::MsgPreVote, 1, &[2, 3], 2, 1, 1),
        "campaign(PreElection) at term 1",
    )?;
    let sent = deliver(
        ctx,
        &mut r,
        vote_response(MessageType::MsgPreVoteResp, 3, 1, 2, false),
    )?;
    check_eq!(
        (r.state, r.term),
        (StateType::Candidate, 2),
        "(state, term) after a majority of pre-votes"
    );
    check_msgs(
        &sent,
        &vote_requests(MessageType::MsgVote, 1, &[2, 3], 2, 1, 1),
        "after a majority of pre-votes",
    )?;
    let sent = deliver(
        ctx,
        &mut r,
        vote_response(MessageType::MsgVoteResp, 2, 1, 2, false),
    )?;
    let what = "candidate of term 2 granted 2's vote";
    check_leader(&r, 2, &[1], what)?;
    let want = [
        first_append(1, 2, 2, 1, 1, 0),
        first_append(1, 3, 2, 1, 1, 0),
    ];
    check_msgs(&sent, &want, format!("{what}: after winning"))
}
