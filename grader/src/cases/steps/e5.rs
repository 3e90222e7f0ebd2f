//! Election Step5: a node grants a vote (§5.2) or a pre-vote (§9.6): it
//! replies with the request's term, and only for a real vote records whom
//! it voted for and sets its election clock back to 0.
//!
//! The cases step vote requests into a follower, which goes through no
//! other hole: its election clock is set by hand, not ticked. Each judges
//! the voter's whole state after the request and the reply it queued.

use raftpb::{HardState, Message, MessageType, NodeId, StateType, Term};

use super::step_case;
use crate::cases::unit::{
    ELECTION_TICK, Node, after_reset, check_msgs, config, draw, expect, log_up_to, note_changes,
    storage, vote_request, vote_response,
};
use crate::cases::{Case, Ctx};
use crate::drive::Call;
use crate::model::{Failure, NodeState, Outcome, Step};
use crate::{check, check_eq};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Election5, name, purpose, &[], run);
    vec![
        case(
            "e5::grants_and_records_vote",
            "A follower that has not voted in the candidate's term grants its vote with a MsgVoteResp of that term, records whom it voted for, and sets its election clock back to 0 (§5.2).",
            grants_and_records_vote,
        ),
        case(
            "e5::grants_only_up_to_date_candidates",
            "A vote or pre-vote is granted only to a candidate whose log is at least as up to date: a later last term, or the same last term and an index as high (§5.4.1).",
            grants_only_up_to_date_candidates,
        ),
        case(
            "e5::one_vote_per_term",
            "Having voted in a term, a node rejects every other candidate of that term but grants a repeated request of the one it voted for (§5.2: \"each server will vote for at most one candidate in a given term\").",
            one_vote_per_term,
        ),
        case(
            "e5::pre_vote_grant_changes_nothing",
            "Granting a pre-vote replies with MsgPreVoteResp and the request's future term, and changes nothing on the voter: not its term, not its vote, not its clock (§9.6).",
            pre_vote_grant_changes_nothing,
        ),
        case(
            "e5::only_a_granted_vote_resets_clock",
            "Granting a real vote sets election_elapsed back to 0; granting a pre-vote or rejecting a vote leaves the clock running (§5.2: a follower times out unless it receives AppendEntries \"or granting vote to candidate\"; §9.6).",
            only_a_granted_vote_resets_clock,
        ),
        case(
            "e5::recorded_vote_survives_restart",
            "The vote is part of the state a node persists: after a crash and restart it still rejects another candidate of the term it voted in, and grants the one it voted for again (§5.2, Figure 2: votedFor is persistent).",
            recorded_vote_survives_restart,
        ),
    ]
}

/// A follower `id` of `voters` at `term` with a log of `log`, no vote, and
/// its election clock at `elapsed` (set, not ticked).
fn voter(
    ctx: &mut Ctx,
    voters: &[NodeId],
    log: &[Term],
    term: Term,
    elapsed: u64,
) -> Result<Node, Failure> {
    let c = config(ctx, 1);
    let n = Node::boot(ctx, 1, c, storage(voters, log, term, 0))?;
    n.call(
        ctx,
        Call::SetRandomizedElectionTimeout(2 * ELECTION_TICK - 1),
    )?;
    n.call(ctx, Call::SetElectionElapsed(elapsed))?;
    Ok(n)
}

/// A clock somewhere before the timeout, drawn from the seed.
fn some_elapsed(ctx: &Ctx, salt: u64) -> u64 {
    1 + draw(ctx, salt, 2 * ELECTION_TICK - 2)
}

/// What the voter's state must be after it handled `request`: the term
/// check's move to a later term for a real vote (the library's, not this
/// step's), then, when `granted`, the vote recorded and the clock set back
/// for a real vote and nothing for a pre-vote.
fn after_request(s: &mut NodeState, request: &Message, granted: bool) {
    let real = request.msg_type == MessageType::MsgVote;
    if real && request.term > s.term {
        after_reset(s, request.term);
        s.state = StateType::Follower;
    }
    if granted && real {
        s.vote = request.from;
        s.election_elapsed = 0;
    }
}

/// The reply to `request` from a voter at `voter_term` (its term after the
/// term check): a grant carries the request's term, a rejection the
/// voter's.
fn reply_to(request: &Message, voter_term: Term, granted: bool) -> Message {
    let term = if granted { request.term } else { voter_term };
    vote_response(
        request.msg_type.vote_response(),
        request.to,
        request.from,
        term,
        !granted,
    )
}

/// Steps `request` into `n` and checks the voter's whole state and its
/// reply, granted or not. Returns the state after.
fn request_and_check(
    ctx: &mut Ctx,
    n: Node,
    request: Message,
    granted: bool,
    what: &str,
) -> Result<NodeState, Failure> {
    let before = n.state(ctx)?;
    n.deliver(ctx, request.clone())?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    let real = request.msg_type == MessageType::MsgVote;
    let rule = match (granted, real) {
        (true, true) => {
            "granting a vote records it (§5.2: at most one vote per term) and sets election_elapsed back to 0"
        }
        (true, false) => "a pre-vote is not a vote: granting one records nothing (§9.6)",
        (false, _) => "a rejection changes nothing",
    };
    let mut e = expect(&before).with(|s| after_request(s, &request, granted));
    if real && request.term > before.term {
        e = e.timeout_may_change();
    }
    e.check(
        &after,
        format_args!("{what}: the voter afterwards ({rule})"),
    )?;
    let want = reply_to(&request, after.term, granted);
    let rule = if granted {
        "a grant carries the term of the request, not the voter's: a pre-candidate only counts replies for the term it asked about, §9.6"
    } else {
        "a rejection carries the voter's term"
    };
    check_msgs(
        &n.take_msgs(ctx)?,
        &[want],
        format_args!(
            "{what}: the voter's reply (a {:?} is answered with a {:?}; {rule})",
            request.msg_type,
            request.msg_type.vote_response()
        ),
    )?;
    Ok(after)
}

fn grants_and_records_vote(ctx: &mut Ctx) -> Outcome {
    let term = 1 + draw(ctx, 1, 5);
    let log = log_up_to(ctx, 2, 1 + draw(ctx, 3, 3), term);
    let (last_index, last_term) = (log.len() as u64, *log.last().unwrap_or(&0));
    let n = voter(ctx, &[1, 2, 3], &log, term, some_elapsed(ctx, 4))?;
    // A candidate of the voter's own term, with the same log.
    let request = vote_request(MessageType::MsgVote, 2, 1, term, last_index, last_term);
    request_and_check(
        ctx,
        n,
        request,
        true,
        &format!(
            "case #1 (MsgVote of term {term} from 2, last {last_index}@{last_term}, to a follower of term {term} that has not voted, last {last_index}@{last_term})"
        ),
    )?;
    // A candidate of a later term: the voter moves to that term first
    // (the library's term check), then grants.
    let later = term + 1 + draw(ctx, 5, 3);
    let request = vote_request(MessageType::MsgVote, 3, 1, later, last_index + 1, later);
    n.call(ctx, Call::SetElectionElapsed(some_elapsed(ctx, 6)))?;
    request_and_check(
        ctx,
        n,
        request,
        true,
        &format!("case #2 (MsgVote of term {later} from 3, after voting for 2 in term {term})"),
    )?;
    Ok(())
}

fn grants_only_up_to_date_candidates(ctx: &mut Ctx) -> Outcome {
    // The voter's last entry is `voter_last`@`voter_term`; each row is a
    // candidate's last entry relative to it.
    let voter_term = 2 + draw(ctx, 11, 3);
    let voter_last = 2 + draw(ctx, 12, 3);
    let mut log = log_up_to(ctx, 13, voter_last - 1, voter_term - 1);
    log.push(voter_term);
    let rows: [(i64, i64); 9] = [
        (-1, -1),
        (0, -1),
        (1, -1),
        (-1, 0),
        (0, 0),
        (1, 0),
        (-1, 1),
        (0, 1),
        (1, 1),
    ];
    let request_term = voter_term + 1;
    let mut k = 0;
    for request_type in [MessageType::MsgVote, MessageType::MsgPreVote] {
        for &(di, dt) in &rows {
            k += 1;
            let index = voter_last.saturating_add_signed(di);
            let log_term = voter_term.saturating_add_signed(dt);
            // §5.4.1: a later last term, or the same and at least as long.
            let granted = dt > 0 || (dt == 0 && di >= 0);
            let what = format!(
                "case #{k} ({request_type:?} for term {request_term} from a candidate with last {index}@{log_term}, to a voter at term {voter_term} with last {voter_last}@{voter_term}: {})",
                if granted { "grant" } else { "reject" }
            );
            ctx.note(|| what.clone());
            let n = voter(ctx, &[1, 2, 3], &log, voter_term, some_elapsed(ctx, 14))?;
            let request = vote_request(request_type, 2, 1, request_term, index, log_term);
            request_and_check(ctx, n, request, granted, &what)?;
        }
    }
    Ok(())
}

fn one_vote_per_term(ctx: &mut Ctx) -> Outcome {
    let term = 1 + draw(ctx, 21, 5);
    let log = log_up_to(ctx, 22, 1 + draw(ctx, 23, 3), term);
    let (last_index, last_term) = (log.len() as u64, *log.last().unwrap_or(&0));
    let n = voter(ctx, &[1, 2, 3, 4, 5], &log, term, some_elapsed(ctx, 24))?;
    // The candidates, in a drawn order; the first is granted.
    let mut candidates = [2, 3, 4, 5];
    candidates.rotate_left(draw(ctx, 25, 4) as usize);
    let chosen = candidates[0];
    let request = |from| vote_request(MessageType::MsgVote, from, 1, term, last_index, last_term);
    let steps = [
        (chosen, true, "the first MsgVote of the term"),
        (
            candidates[1],
            false,
            "another candidate of the same term, after the vote went to the first",
        ),
        (
            chosen,
            true,
            "the first candidate again (a repeated request, say after a lost reply, is granted again)",
        ),
        (candidates[2], false, "a third candidate of the same term"),
    ];
    for (i, (from, granted, why)) in steps.into_iter().enumerate() {
        n.call(
            ctx,
            Call::SetElectionElapsed(some_elapsed(ctx, 26 + i as u64)),
        )?;
        let what = format!(
            "request #{} (MsgVote of term {term} from {from}: {why})",
            i + 1
        );
        ctx.note(|| what.clone());
        request_and_check(ctx, n, request(from), granted, &what)?;
    }
    Ok(())
}

fn pre_vote_grant_changes_nothing(ctx: &mut Ctx) -> Outcome {
    // The voter voted for 3 in its term; 2 asks whether it would vote in a
    // later one.
    let term = 1 + draw(ctx, 31, 4);
    let log = log_up_to(ctx, 32, 1 + draw(ctx, 33, 3), term);
    let (last_index, last_term) = (log.len() as u64, *log.last().unwrap_or(&0));
    let c = config(ctx, 1);
    let n = Node::boot(ctx, 1, c, storage(&[1, 2, 3], &log, term, 3))?;
    n.call(
        ctx,
        Call::SetRandomizedElectionTimeout(2 * ELECTION_TICK - 1),
    )?;
    for (i, ahead) in [1, 2 + draw(ctx, 34, 3)].into_iter().enumerate() {
        n.call(
            ctx,
            Call::SetElectionElapsed(some_elapsed(ctx, 35 + i as u64)),
        )?;
        let asked = term + ahead;
        let what = format!(
            "case #{} (MsgPreVote for term {asked} from 2, to a follower at term {term} that voted for 3)",
            i + 1
        );
        ctx.note(|| what.clone());
        let request = vote_request(MessageType::MsgPreVote, 2, 1, asked, last_index, last_term);
        request_and_check(ctx, n, request, true, &what)?;
    }
    Ok(())
}

fn only_a_granted_vote_resets_clock(ctx: &mut Ctx) -> Outcome {
    let term = 2 + draw(ctx, 41, 4);
    let log = log_up_to(ctx, 42, 1 + draw(ctx, 43, 3), term);
    let (last_index, last_term) = (log.len() as u64, *log.last().unwrap_or(&0));
    // (what, request, granted, the vote before): every request is for the
    // voter's own term (a later term would reset the clock anyway) but the
    // pre-vote, which never moves the voter's term.
    let rows = [
        (
            "a granted MsgVote of its own term",
            vote_request(MessageType::MsgVote, 2, 1, term, last_index, last_term),
            true,
            0,
        ),
        (
            "a granted MsgPreVote for the next term",
            vote_request(
                MessageType::MsgPreVote,
                2,
                1,
                term + 1,
                last_index,
                last_term,
            ),
            true,
            0,
        ),
        (
            "a MsgVote of its own term from a candidate whose log is behind",
            vote_request(MessageType::MsgVote, 2, 1, term, last_index - 1, 0),
            false,
            0,
        ),
        (
            "a MsgVote of its own term from 2, after voting for 3",
            vote_request(MessageType::MsgVote, 2, 1, term, last_index, last_term),
            false,
            3,
        ),
    ];
    for (i, (why, request, granted, vote)) in rows.into_iter().enumerate() {
        let elapsed = some_elapsed(ctx, 44 + i as u64);
        let what = format!(
            "case #{} ({why}, to a follower at term {term} with election_elapsed {elapsed})",
            i + 1
        );
        ctx.note(|| what.clone());
        let c = config(ctx, 1);
        let n = Node::boot(ctx, 1, c, storage(&[1, 2, 3], &log, term, vote))?;
        n.call(
            ctx,
            Call::SetRandomizedElectionTimeout(2 * ELECTION_TICK - 1),
        )?;
        n.call(ctx, Call::SetElectionElapsed(elapsed))?;
        request_and_check(ctx, n, request, granted, &what)?;
    }
    Ok(())
}

fn recorded_vote_survives_restart(ctx: &mut Ctx) -> Outcome {
    let term = 1 + draw(ctx, 51, 5);
    let log = log_up_to(ctx, 52, 1 + draw(ctx, 53, 3), term);
    let (last_index, last_term) = (log.len() as u64, *log.last().unwrap_or(&0));
    let n = voter(ctx, &[1, 2, 3], &log, term, some_elapsed(ctx, 54))?;
    let chosen = 2 + draw(ctx, 55, 2);
    let other = 5 - chosen;
    let voted_in = term + 1;
    let request = |from| {
        vote_request(
            MessageType::MsgVote,
            from,
            1,
            voted_in,
            last_index,
            last_term,
        )
    };
    request_and_check(
        ctx,
        n,
        request(chosen),
        true,
        &format!("MsgVote of term {voted_in} from {chosen}, to a follower at term {term}"),
    )?;
    // The application persists what the node asks it to, then the node
    // crashes and restarts from its storage.
    let rd = n.ready(ctx)?;
    let persisted = rd.and_then(|rd| rd.hard_state);
    let want = HardState {
        term: voted_in,
        vote: chosen,
        commit: 0,
    };
    check_eq!(
        persisted,
        Some(want),
        "the hard state the node handed its application to persist after granting its vote in term {voted_in} to {chosen} (the vote is kept in the node's vote field, which the hard state reports)"
    );
    n.restart(ctx, draw(ctx, 56, u64::MAX))?;
    let s = n.state(ctx)?;
    check!(
        (s.state, s.term, s.vote) == (StateType::Follower, voted_in, chosen),
        "after a restart: {} with vote {}, want a follower at term {voted_in} with vote {chosen} (set-up: the library restores the persisted hard state)",
        s.role(),
        s.vote
    );
    let what = format!("after a restart, MsgVote of term {voted_in} from {other}");
    request_and_check(ctx, n, request(other), false, &what)?;
    let what = format!("after a restart, MsgVote of term {voted_in} from {chosen} again");
    request_and_check(ctx, n, request(chosen), true, &what)?;
    Ok(())
}
