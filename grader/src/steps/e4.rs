//! Election Step4: `campaign`'s real election: become a candidate and ask
//! every other voter for its vote with a `MsgVote` of the new term (§5.2).
//!
//! The cases call `campaign` directly (or win a pre-vote round, which calls
//! it), so they need Step4 and the `become_candidate` it calls (Step3), and
//! nothing else.

use raft::{CAMPAIGN_TRANSFER, CampaignType, Entry, HardState, MessageType, NONE, StateType};

use super::util::{
    check_msgs, config, deliver, describe, log_terms, new_raft_with, observe, pre_vote_config,
    step_case, storage, storage_with, vote_requests, vote_response,
};
use crate::case::{Case, Ctx, Outcome};
use crate::skeleton::Step;
use crate::{check, check_eq};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Election4, name, purpose, run);
    vec![
        case(
            "e4::asks_every_other_voter",
            "campaign makes the node a candidate of the next term and sends MsgVote, for that term and with its last log index and term, to every other voter and nobody else (§5.2, §5.4.1).",
            asks_every_other_voter,
        ),
        case(
            "e4::single_voter_becomes_leader",
            "The only voter of a cluster wins its election on its own vote and becomes leader at once, sending nothing (§5.2).",
            single_voter_becomes_leader,
        ),
        case(
            "e4::pre_vote_win_starts_election",
            "A pre-candidate granted pre-votes by a majority starts the real election: candidate of the next term, MsgVote to every other voter (§9.6, §5.2).",
            pre_vote_win_starts_election,
        ),
        case(
            "e4::transfer_campaign_marks_requests",
            "A campaign for a leadership transfer sends MsgVote of the next term, marked as a transfer so voters grant it despite a known leader (§3.10 of the thesis).",
            transfer_campaign_marks_requests,
        ),
        case(
            "e4::campaign_again_raises_term",
            "A candidate that campaigns again moves to the next term once more and asks again for that term (§5.2).",
            campaign_again_raises_term,
        ),
    ]
}

/// A cluster and node 1's persisted state, before `campaign`.
struct Row {
    voters: &'static [u64],
    learners: &'static [u64],
    log: &'static [u64],
    term: u64,
    vote: u64,
}

fn asks_every_other_voter(ctx: &mut Ctx) -> Outcome {
    let rows = [
        Row {
            voters: &[1, 2, 3],
            learners: &[],
            log: &[1, 2],
            term: 2,
            vote: NONE,
        },
        Row {
            voters: &[1, 2, 3, 4, 5],
            learners: &[],
            log: &[],
            term: 0,
            vote: NONE,
        },
        Row {
            voters: &[1, 2, 3],
            learners: &[4],
            log: &[1, 1, 3],
            term: 5,
            vote: 2,
        },
    ];
    for (i, row) in rows.iter().enumerate() {
        let what = format!(
            "case #{} (voters {:?}, learners {:?}, log terms {:?}, term {}, voted for {})",
            i + 1,
            row.voters,
            row.learners,
            row.log,
            row.term,
            row.vote
        );
        ctx.note(|| what.clone());
        let hard_state = HardState {
            term: row.term,
            vote: row.vote,
            commit: 0,
        };
        let store = storage_with(row.voters, row.learners, row.log, hard_state);
        let mut r = new_raft_with(config(1), store);
        let sent = observe(ctx, &mut r, |r| r.campaign(CampaignType::Election));
        let term = row.term + 1;
        check_eq!(
            (r.state, r.term, r.vote),
            (StateType::Candidate, term, 1),
            "{what}: (state, term, vote) after campaign(Election) (become a candidate: it raises the term and votes for itself)"
        );
        let last_index = row.log.len() as u64;
        let last_term = row.log.last().copied().unwrap_or(0);
        let others: Vec<u64> = row.voters.iter().copied().filter(|&id| id != 1).collect();
        let want = vote_requests(
            MessageType::MsgVote,
            1,
            &others,
            term,
            last_index,
            last_term,
        );
        check_msgs(&sent, &want, format!("{what}: campaign(Election)"))?;
    }
    Ok(())
}

fn single_voter_becomes_leader(ctx: &mut Ctx) -> Outcome {
    for (i, (log, term)) in [(&[][..], 0u64), (&[1, 1][..], 1)].into_iter().enumerate() {
        let what = format!(
            "case #{} (single voter, log terms {log:?}, term {term})",
            i + 1
        );
        ctx.note(|| what.clone());
        let mut r = new_raft_with(config(1), storage(&[1], log, term, 0));
        let sent = observe(ctx, &mut r, |r| r.campaign(CampaignType::Election));
        check_eq!(
            (r.state, r.term, r.lead),
            (StateType::Leader, term + 1, 1),
            "{what}: (state, term, leader) after campaign(Election) (its own vote is a majority of one)"
        );
        let mut want_log = log.to_vec();
        want_log.push(term + 1);
        check_eq!(
            log_terms(&r),
            want_log,
            "{what}: log terms after winning (a new leader appends an empty entry of its term)"
        );
        check!(
            sent.is_empty(),
            "{what}: sent {}, want no messages (there is nobody to ask)",
            describe(&sent)
        );
    }
    Ok(())
}

fn pre_vote_win_starts_election(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft_with(pre_vote_config(1), storage(&[1, 2, 3], &[1, 1], 1, 0));
    let sent = observe(ctx, &mut r, |r| r.campaign(CampaignType::PreElection));
    check_eq!(
        (r.state, r.term),
        (StateType::PreCandidate, 1),
        "(state, term) after campaign(PreElection) at term 1"
    );
    let want = vote_requests(MessageType::MsgPreVote, 1, &[2, 3], 2, 2, 1);
    check_msgs(&sent, &want, "campaign(PreElection) at term 1")?;

    let grant = vote_response(MessageType::MsgPreVoteResp, 2, 1, 2, false);
    let sent = deliver(ctx, &mut r, grant)?;
    check_eq!(
        (r.state, r.term, r.vote),
        (StateType::Candidate, 2, 1),
        "(state, term, vote) after the pre-vote of 2 made a majority (the real election starts: campaign(Election))"
    );
    let want = vote_requests(MessageType::MsgVote, 1, &[2, 3], 2, 2, 1);
    check_msgs(&sent, &want, "after winning the pre-vote round")
}

fn transfer_campaign_marks_requests(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[1], 1, 0));
    let sent = observe(ctx, &mut r, |r| r.campaign(CampaignType::Transfer));
    check_eq!(
        (r.state, r.term, r.vote),
        (StateType::Candidate, 2, 1),
        "(state, term, vote) after campaign(Transfer) at term 1"
    );
    let want: Vec<_> = vote_requests(MessageType::MsgVote, 1, &[2, 3], 2, 1, 1)
        .into_iter()
        .map(|mut m| {
            m.context = CAMPAIGN_TRANSFER.to_vec();
            m
        })
        .collect();
    check_msgs(&sent, &want, "campaign(Transfer) at term 1")
}

fn campaign_again_raises_term(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[1], 1, 0));
    for term in 2..=4u64 {
        let sent = observe(ctx, &mut r, |r| r.campaign(CampaignType::Election));
        check_eq!(
            (r.state, r.term, r.vote),
            (StateType::Candidate, term, 1),
            "(state, term, vote) after campaign #{} from term 1",
            term - 1
        );
        let want = vote_requests(MessageType::MsgVote, 1, &[2, 3], term, 1, 1);
        check_msgs(&sent, &want, format!("campaign #{} from term 1", term - 1))?;
    }
    check_eq!(
        r.raft_log.all_entries(),
        vec![Entry::new(1, 1, b"")],
        "log after three campaigns (a candidate appends nothing)"
    );
    Ok(())
}
