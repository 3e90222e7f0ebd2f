//! Election Step4: `campaign`'s real election: become a candidate and ask
//! every other voter for its vote with a `MsgVote` of the new term, carrying
//! the candidate's last log index and term (§5.2, §5.4.1).
//!
//! The cases call `campaign` directly (or win a pre-vote round, whose
//! handler calls it), so they run Step4 and the `become_candidate` it calls
//! (Step3), and nothing else. Each judges the node's whole state after the
//! campaign and every message it queued.

use raftpb::{HardState, Message, MessageType, NodeId, Term};

use super::step_case;
use crate::cases::unit::{
    Node, after_become_leader, after_campaign, after_pre_campaign, check_msgs, config, draw,
    expect, log_up_to, note_changes, pre_vote_config, storage, storage_with, vote_requests,
    vote_response,
};
use crate::cases::{Case, Ctx};
use crate::drive::{Call, CampaignKind};
use crate::model::{NodeState, Outcome, Step};

/// Why every case of this step runs Step3's code.
const BECOMES_CANDIDATE: &[(Step, &str)] = &[(
    Step::Election3,
    "the campaign makes the node a candidate, which is Step3's code",
)];

/// The context of a transfer campaign's requests: the library's
/// `CAMPAIGN_TRANSFER`, which lets voters grant it despite a known leader.
const CAMPAIGN_TRANSFER: &[u8] = b"CampaignTransfer";

pub fn cases() -> Vec<Case> {
    let case =
        |name, purpose, run| step_case(Step::Election4, name, purpose, BECOMES_CANDIDATE, run);
    vec![
        case(
            "e4::asks_every_other_voter",
            "campaign makes the node a candidate of the next term and sends MsgVote, for that term and with its last log index and term, to every other voter and to nobody else (§5.2, §5.4.1).",
            asks_every_other_voter,
        ),
        case(
            "e4::single_voter_becomes_leader",
            "The only voter of a cluster wins its election on its own vote and becomes leader at once, of the new term, sending nothing (§5.2).",
            single_voter_becomes_leader,
        ),
        case(
            "e4::pre_vote_win_starts_election",
            "A pre-candidate granted pre-votes by a majority starts the real election: a candidate of the next term, MsgVote to every other voter (§9.6, §5.2).",
            pre_vote_win_starts_election,
        ),
        case(
            "e4::transfer_campaign_marks_requests",
            "A campaign for a leadership transfer sends MsgVote of the next term, marked as a transfer so voters grant it despite a known leader (§3.10 of the thesis).",
            transfer_campaign_marks_requests,
        ),
        case(
            "e4::campaign_again_raises_term",
            "A candidate that campaigns again moves to the next term once more and asks again, for that term, appending nothing to its log (§5.2: \"start a new election by incrementing its term\").",
            campaign_again_raises_term,
        ),
    ]
}

/// The others of `voters`, those node 1 asks for votes.
fn others(voters: &[NodeId]) -> Vec<NodeId> {
    voters.iter().copied().filter(|&id| id != 1).collect()
}

/// The vote requests a candidate in state `s` sends: `t` for its current
/// term to every other voter, with its last entry.
fn requests_of(s: &NodeState, t: MessageType) -> Vec<Message> {
    vote_requests(
        t,
        s.id,
        &others(&s.voters),
        s.term,
        s.log.last_index(),
        s.log.last_term(),
    )
}

/// Calls `campaign(kind)` on `n` and checks the candidate it leaves and
/// its requests, against the state before. Returns the state after.
fn campaign_and_check(
    ctx: &mut Ctx,
    n: Node,
    kind: CampaignKind,
    row: &str,
) -> Result<NodeState, crate::model::Failure> {
    let before = n.state(ctx)?;
    n.call(ctx, Call::Campaign(kind))?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    expect(&before)
        .with(after_campaign)
        .timeout_may_change()
        .check(
            &after,
            format_args!(
                "{row}: after campaign({kind:?}) (§5.2: \"a follower increments its current term and transitions to candidate state. It then votes for itself\": become a candidate)"
            ),
        )?;
    let mut want = requests_of(&after, MessageType::MsgVote);
    if kind == CampaignKind::Transfer {
        for m in &mut want {
            m.context = CAMPAIGN_TRANSFER.to_vec();
        }
    }
    check_msgs(
        &n.take_msgs(ctx)?,
        &want,
        format_args!(
            "{row}: campaign({kind:?}) (§5.2: it \"issues RequestVote RPCs in parallel to each of the other servers\": MsgVote with the candidate's new term, §5.4.1: and its last log index and term)"
        ),
    )?;
    Ok(after)
}

/// A cluster and node 1's persisted state, before `campaign`.
struct Row {
    voters: &'static [NodeId],
    learners: &'static [NodeId],
    log: Vec<Term>,
    term: Term,
    vote: NodeId,
}

fn asks_every_other_voter(ctx: &mut Ctx) -> Outcome {
    let term = 1 + draw(ctx, 1, 5);
    let rows = [
        Row {
            voters: &[1, 2, 3],
            learners: &[],
            log: log_up_to(ctx, 2, 1 + draw(ctx, 3, 3), term),
            term,
            vote: 0,
        },
        Row {
            voters: &[1, 2, 3, 4, 5],
            learners: &[],
            log: vec![],
            term: 0,
            vote: 0,
        },
        Row {
            voters: &[1, 2, 3],
            learners: &[4],
            log: log_up_to(ctx, 4, 2 + draw(ctx, 5, 3), term),
            term: term + 1,
            vote: 2 + draw(ctx, 6, 2),
        },
        Row {
            voters: &[1, 2, 3, 4, 5],
            learners: &[6, 7],
            log: log_up_to(ctx, 7, 1 + draw(ctx, 8, 4), term),
            term,
            vote: 1,
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
        let store = storage_with(row.voters, row.learners, &row.log, hard_state);
        let c = config(ctx, 1);
        let n = Node::boot(ctx, 1, c, store)?;
        campaign_and_check(ctx, n, CampaignKind::Election, &what)?;
    }
    Ok(())
}

fn single_voter_becomes_leader(ctx: &mut Ctx) -> Outcome {
    let term = 1 + draw(ctx, 11, 5);
    let rows: [(Vec<Term>, Term); 2] = [
        (vec![], 0),
        (log_up_to(ctx, 12, 1 + draw(ctx, 13, 3), term), term),
    ];
    for (i, (log, term)) in rows.iter().enumerate() {
        let what = format!(
            "case #{} (the single voter, log terms {log:?}, term {term})",
            i + 1
        );
        ctx.note(|| what.clone());
        let c = config(ctx, 1);
        let n = Node::boot(ctx, 1, c, storage(&[1], log, *term, 0))?;
        let before = n.state(ctx)?;
        n.call(ctx, Call::Campaign(CampaignKind::Election))?;
        let after = n.state(ctx)?;
        note_changes(ctx, &before, &after);
        expect(&before)
            .with(|s| {
                after_campaign(s);
                after_become_leader(s);
            })
            .timeout_may_change()
            .check(
                &after,
                format_args!(
                    "{what}: after campaign(Election) (become a candidate of the next term: its own vote is a majority of one, so the library's code after the hole makes it leader, which appends and commits the empty entry of its term)"
                ),
            )?;
        check_msgs(
            &n.take_msgs(ctx)?,
            &[],
            format_args!("{what}: campaign(Election) (there is nobody to ask)"),
        )?;
    }
    Ok(())
}

fn pre_vote_win_starts_election(ctx: &mut Ctx) -> Outcome {
    let five = draw(ctx, 21, 2) == 1;
    let voters: &[NodeId] = if five { &[1, 2, 3, 4, 5] } else { &[1, 2, 3] };
    let term = 1 + draw(ctx, 22, 5);
    let log = log_up_to(ctx, 23, 1 + draw(ctx, 24, 3), term);
    let c = pre_vote_config(ctx, 1);
    let n = Node::boot(ctx, 1, c, storage(voters, &log, term, 0))?;
    let what = format!(
        "a follower of {} voters at term {term} with log terms {log:?}, pre-vote on",
        voters.len()
    );

    // The pre-vote round, which is not this step's code.
    let before = n.state(ctx)?;
    n.call(ctx, Call::Campaign(CampaignKind::PreElection))?;
    let pre = n.state(ctx)?;
    note_changes(ctx, &before, &pre);
    expect(&before).with(after_pre_campaign).check(
        &pre,
        format_args!("set-up: {what}, after campaign(PreElection), which is not a hole"),
    )?;
    let mut want = requests_of(&pre, MessageType::MsgPreVote);
    for m in &mut want {
        m.term = term + 1;
    }
    check_msgs(
        &n.take_msgs(ctx)?,
        &want,
        format_args!("set-up: {what}, campaign(PreElection)"),
    )?;

    // Pre-votes from a majority, in a drawn order: the last one wins the
    // round, and the pre-vote handler starts the real election.
    let mut granting = others(voters);
    let first = draw(ctx, 25, granting.len() as u64) as usize;
    granting.rotate_left(first);
    granting.truncate(voters.len() / 2);
    let (last, earlier) = granting.split_last().expect("a majority needs a grant");
    for &from in earlier {
        n.deliver(
            ctx,
            vote_response(MessageType::MsgPreVoteResp, from, 1, term + 1, false),
        )?;
    }
    let candidate_what = format!(
        "{what}, granted pre-votes for term {} by {granting:?}",
        term + 1
    );
    let before = n.state(ctx)?;
    n.deliver(
        ctx,
        vote_response(MessageType::MsgPreVoteResp, *last, 1, term + 1, false),
    )?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    expect(&before)
        .with(after_campaign)
        .timeout_may_change()
        .check(
            &after,
            format_args!(
                "{candidate_what} (a majority: the library calls campaign(Election), which must make it a candidate of the next term, §9.6, §5.2)"
            ),
        )?;
    check_msgs(
        &n.take_msgs(ctx)?,
        &requests_of(&after, MessageType::MsgVote),
        format_args!("{candidate_what}: the real election's requests"),
    )
}

fn transfer_campaign_marks_requests(ctx: &mut Ctx) -> Outcome {
    let term = 1 + draw(ctx, 31, 5);
    let log = log_up_to(ctx, 32, 1 + draw(ctx, 33, 3), term);
    let what = format!("a follower of leader 2 at term {term} with log terms {log:?}");
    let c = config(ctx, 1);
    let n = Node::boot(ctx, 1, c, storage(&[1, 2, 3], &log, term, 2))?;
    n.call(ctx, Call::SetLead(2))?;
    campaign_and_check(ctx, n, CampaignKind::Transfer, &what)?;
    Ok(())
}

fn campaign_again_raises_term(ctx: &mut Ctx) -> Outcome {
    let term = 1 + draw(ctx, 41, 5);
    let log = log_up_to(ctx, 42, 1 + draw(ctx, 43, 3), term);
    let c = config(ctx, 1);
    let n = Node::boot(ctx, 1, c, storage(&[1, 2, 3, 4, 5], &log, term, 0))?;
    // A vote rejected in each election, forgotten by the next one.
    for k in 1..=3u64 {
        let what = format!("campaign #{k} from term {term} (log terms {log:?})");
        ctx.note(|| what.clone());
        let after = campaign_and_check(ctx, n, CampaignKind::Election, &what)?;
        let from = 2 + draw(ctx, 43 + k, 4);
        n.deliver(
            ctx,
            vote_response(MessageType::MsgVoteResp, from, 1, after.term, true),
        )?;
        n.take_msgs(ctx)?;
    }
    Ok(())
}
