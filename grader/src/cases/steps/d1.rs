//! Deep Step1: the vote rule's half about logs, `RaftLog::is_up_to_date`: a
//! node votes only for a candidate whose log is at least as up to date as
//! its own (§5.4.1).
//!
//! The cases step vote and pre-vote requests into a follower and judge its
//! whole state and its answer. The rest of the vote handling (one vote per
//! term, the term check, the reply) is the library's; only the comparison
//! of logs is this step's. No case needs another deep step: the followers
//! start without a persisted hard state (Deep Step6 restores one).

use raftpb::{Message, MessageType, NodeId, StateType, Term};

use super::step_case;
use crate::cases::unit::deep::{follower, follower_with_commit, pick, runs, up_to_date};
use crate::cases::unit::{
    after_reset, check_msgs, expect, note_changes, vote_request, vote_response,
};
use crate::cases::{Case, Ctx};
use crate::model::{Outcome, Step};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Deep1, name, purpose, &[], run);
    vec![
        case(
            "d1::votes_only_for_an_up_to_date_log",
            "A follower grants its vote only to a candidate whose last entry has a later term than its own, or the same term and an index at least as high; the commit index plays no part (§5.4.1).",
            votes_only_for_an_up_to_date_log,
        ),
        case(
            "d1::pre_votes_follow_the_same_rule",
            "A pre-vote is granted or refused by the same comparison of last entries, and changes nothing on the voter (§5.4.1, §9.6).",
            pre_votes_follow_the_same_rule,
        ),
        case(
            "d1::equal_logs_are_up_to_date",
            "A log equal to the voter's is at least as up to date, empty logs included: otherwise a fresh cluster, or one whose logs all agree, could never elect a leader (§5.4.1).",
            equal_logs_are_up_to_date,
        ),
    ]
}

/// A voter's log: `len` entries whose terms climb from 1 to `last_term`,
/// the climb drawn from the seed.
fn voter_log(ctx: &Ctx, salt: u64, len: u64, last_term: Term) -> Vec<Term> {
    let mut terms: Vec<Term> = (0..len - 1)
        .map(|i| pick(ctx, salt * 100 + i, 1..last_term))
        .collect();
    terms.sort_unstable();
    terms.push(last_term);
    terms
}

/// One candidate of a table: its last entry, as offsets from the voter's.
struct Row {
    term_offset: i64,
    index_offset: i64,
}

/// The candidates of the tables: a later, the same and an earlier last
/// term, each with a shorter, an equally long and a longer log; a much
/// longer log of an earlier term; a one-entry log of a later term.
fn rows(voter_len: u64) -> Vec<Row> {
    let mut rows = Vec::new();
    for term_offset in [1, 0, -1] {
        for index_offset in [-1, 0, 1] {
            rows.push(Row {
                term_offset,
                index_offset,
            });
        }
    }
    rows.push(Row {
        term_offset: -1,
        index_offset: 5,
    });
    rows.push(Row {
        term_offset: 1,
        index_offset: 1 - voter_len as i64,
    });
    rows
}

/// Asks follower `n` for its vote with `request`, and judges its whole
/// state and its answer: granted exactly when `grant`.
fn ask(
    ctx: &mut Ctx,
    n: crate::cases::unit::Node,
    request: Message,
    grant: bool,
    row: &str,
) -> Outcome {
    let before = n.state(ctx)?;
    n.deliver(ctx, request.clone())?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    let real = request.msg_type == MessageType::MsgVote;
    let verdict = if grant { "grant" } else { "refuse" };
    let mut e = expect(&before).with(|s| {
        if real && request.term > s.term {
            after_reset(s, request.term);
            s.state = StateType::Follower;
        }
        if grant && real {
            s.vote = request.from;
            s.election_elapsed = 0;
        }
    });
    if real {
        e = e.timeout_may_change();
    }
    e.check(
        &after,
        format_args!(
            "{row}: the voter must {verdict} (§5.4.1: \"the voter denies its vote if its own log is more up-to-date than that of the candidate\")"
        ),
    )?;
    let term = if grant { request.term } else { after.term };
    let want = vote_response(
        request.msg_type.vote_response(),
        request.to,
        request.from,
        term,
        !grant,
    );
    check_msgs(
        &n.take_msgs(ctx)?,
        &[want],
        format_args!("{row}: the voter's answer (it must {verdict})"),
    )
}

/// Runs the table of [`rows`] with requests of type `t` against voters
/// whose log, term and commit index are drawn from the seed.
fn table(ctx: &mut Ctx, t: MessageType, salt: u64) -> Outcome {
    let voters: &[NodeId] = &[1, 2, 3, 4, 5];
    let len = pick(ctx, salt, 3..7);
    let last_term = pick(ctx, salt + 1, 2..5);
    let log = voter_log(ctx, salt + 2, len, last_term);
    let term = last_term + pick(ctx, salt + 3, 0..2);
    // Committed somewhere before the last entry: a log is judged by its
    // last entry, not by what it knows to be committed.
    let commit = pick(ctx, salt + 4, 1..len);
    let asked_term = term + 1 + pick(ctx, salt + 5, 0..2);
    for (i, row) in rows(len).iter().enumerate() {
        let cand_term = (last_term as i64 + row.term_offset) as Term;
        let cand_index = (len as i64 + row.index_offset) as u64;
        let grant = up_to_date_terms(&log, cand_index, cand_term);
        let what = format!(
            "case #{} ({:?} of term {asked_term} from a candidate whose log ends at {cand_index}@{cand_term}, to a follower of term {term} whose log ends at {len}@{last_term} ({}), committed up to {commit})",
            i + 1,
            t,
            runs(&log)
        );
        ctx.note(|| what.clone());
        let n = follower_with_commit(ctx, 1, voters, &log, term, 2, commit)?;
        let request = vote_request(t, 3, 1, asked_term, cand_index, cand_term);
        ask(ctx, n, request, grant, &what)?;
    }
    Ok(())
}

/// [`up_to_date`] for a log given by its terms.
fn up_to_date_terms(log: &[Term], last_index: u64, last_term: Term) -> bool {
    let view = crate::model::LogView {
        first_index: 1,
        entries: crate::cases::unit::entries_of_terms(log),
        ..Default::default()
    };
    up_to_date(&view, last_index, last_term)
}

fn votes_only_for_an_up_to_date_log(ctx: &mut Ctx) -> Outcome {
    table(ctx, MessageType::MsgVote, 10)
}

fn pre_votes_follow_the_same_rule(ctx: &mut Ctx) -> Outcome {
    table(ctx, MessageType::MsgPreVote, 20)
}

fn equal_logs_are_up_to_date(ctx: &mut Ctx) -> Outcome {
    // A fresh cluster: every log is empty.
    let what = "case #1 (MsgVote of term 1 from a candidate with an empty log, to a fresh follower with an empty log)";
    ctx.note(|| what.to_string());
    let n = follower(ctx, 1, &[1, 2, 3], &[], 0, 0)?;
    ask(
        ctx,
        n,
        vote_request(MessageType::MsgVote, 2, 1, 1, 0, 0),
        true,
        what,
    )?;
    let what = "case #2 (MsgPreVote of term 1 from a candidate with an empty log, to a fresh follower with an empty log)";
    ctx.note(|| what.to_string());
    let n = follower(ctx, 1, &[1, 2, 3], &[], 0, 0)?;
    ask(
        ctx,
        n,
        vote_request(MessageType::MsgPreVote, 2, 1, 1, 0, 0),
        true,
        what,
    )?;
    // Logs that agree, as after every entry reached everyone.
    let len = pick(ctx, 30, 1..6);
    let last_term = pick(ctx, 31, 1..4);
    let log = voter_log(ctx, 32, len, last_term);
    for (i, t) in [MessageType::MsgVote, MessageType::MsgPreVote]
        .into_iter()
        .enumerate()
    {
        let what = format!(
            "case #{} ({t:?} of term {} from a candidate whose log equals the follower's, {} ending at {len}@{last_term})",
            i + 3,
            last_term + 1,
            runs(&log)
        );
        ctx.note(|| what.clone());
        let n = follower(ctx, 1, &[1, 2, 3], &log, last_term, 0)?;
        ask(
            ctx,
            n,
            vote_request(t, 2, 1, last_term + 1, len, last_term),
            true,
            &what,
        )?;
    }
    Ok(())
}
