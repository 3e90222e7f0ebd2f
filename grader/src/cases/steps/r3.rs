//! Replication Step3: `step_follower`, on an append (`MsgApp`) from the
//! leader of its term, restarts the election clock, notes the leader, and
//! handles the append (§5.2, §5.3): the consistency check, truncation at a
//! conflict, following the leader's commit index, and the reply.
//!
//! Every follower here starts from storage at the term of the append, so
//! the message reaches `step_follower` directly and no other hole runs.
//! Each row judges the follower's whole state and its reply. The terms of
//! every row are shifted by a number drawn from the seed.

use raftpb::{Entry, HardState, Message, Term};

use super::step_case;
use crate::cases::unit::{
    ELECTION_TICK, Node, app, app_reject, app_resp, check_msgs, config, draw_in, ent,
    entries_of_terms, expect, log_text, note_changes, storage_with, trace_msg,
};
use crate::cases::{Case, Ctx};
use crate::drive::Call;
use crate::model::{Failure, Outcome, Step};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Replication3, name, purpose, &[], run);
    vec![
        case(
            "r3::resets_clock_and_records_leader",
            "An append from the leader of its term, accepted or not, sets the follower's election clock back to 0 and makes the sender its known leader (§5.2).",
            resets_clock_and_records_leader,
        ),
        case(
            "r3::appends_and_acknowledges",
            "A follower whose log holds the entry before the new ones appends them and answers with the index of the last new entry (§5.3).",
            appends_and_acknowledges,
        ),
        case(
            "r3::rejects_mismatch_with_hint",
            "A follower whose log does not hold the entry before the new ones rejects the append, keeps its log, and hints where its log could match (§5.3).",
            rejects_mismatch_with_hint,
        ),
        case(
            "r3::keeps_entries_on_stale_append",
            "A late or duplicated append whose entries the follower already holds deletes nothing after them: only a conflict truncates (§5.3, Figure 2).",
            keeps_entries_on_stale_append,
        ),
        case(
            "r3::truncates_on_conflict",
            "An entry that conflicts with a new one (same index, other term) is deleted with all that follow it, and the new entries appended (§5.3, Figure 2).",
            truncates_on_conflict,
        ),
        case(
            "r3::follows_leader_commit",
            "The follower commits up to the leader's commit index, but never past the last entry of this append, and never back (§5.3, Figure 2).",
            follows_leader_commit,
        ),
        case(
            "r3::answers_commit_below_commit",
            "An append after an index the follower has already committed is answered with the follower's commit index, and changes nothing but the clock and the leader (§5.3, §5.4).",
            answers_commit_below_commit,
        ),
    ]
}

/// One append from leader 1 to follower 2 of [1, 2, 3], both at `term`,
/// and what must come of it.
struct Row {
    /// The follower's log: the terms of its entries at 1, 2, ...
    log: &'static [Term],
    /// The follower's commit index before the append.
    commit: u64,
    term: Term,
    /// The entry just before the new ones: (index, term).
    prev: (u64, Term),
    entries: Vec<Entry>,
    leader_commit: u64,
    want_log: Vec<Entry>,
    want_commit: u64,
    want_reply: Message,
}

/// Adds `by` to a term, but not to 0 (no entry).
fn shift(term: Term, by: Term) -> Term {
    if term == 0 { 0 } else { term + by }
}

fn shift_entries(entries: &[Entry], by: Term) -> Vec<Entry> {
    entries
        .iter()
        .map(|e| Entry {
            term: shift(e.term, by),
            ..e.clone()
        })
        .collect()
}

/// Runs each row on a fresh follower, every term shifted by a number drawn
/// from the seed; on a failure, names the row and adds `rule`.
fn run_rows(ctx: &mut Ctx, rows: Vec<Row>, rule: &str) -> Outcome {
    let by = draw_in(ctx, 1, 0..4);
    for (i, row) in rows.into_iter().enumerate() {
        run_row(ctx, i + 1, row, by, rule)?;
    }
    Ok(())
}

fn run_row(ctx: &mut Ctx, number: usize, row: Row, by: Term, rule: &str) -> Outcome {
    let term = shift(row.term, by);
    let log_terms: Vec<Term> = row.log.iter().map(|&t| shift(t, by)).collect();
    let c = config(ctx, 2);
    let n = Node::boot(
        ctx,
        2,
        c,
        storage_with(
            &[1, 2, 3],
            &[],
            &log_terms,
            HardState {
                term,
                vote: 0,
                commit: row.commit,
            },
        ),
    )?;
    // Some time passed since the follower last heard from anyone.
    let elapsed = draw_in(ctx, 100 + number as u64, 1..ELECTION_TICK);
    n.call(ctx, Call::SetElectionElapsed(elapsed))?;
    let m = app(
        1,
        2,
        term,
        (row.prev.0, shift(row.prev.1, by)),
        shift_entries(&row.entries, by),
        row.leader_commit,
    );
    let row_name = format!(
        "case #{number} (follower 2 at term {term}, log {}, commit {}, election_elapsed {elapsed}, no known leader)",
        log_text(&entries_of_terms(&log_terms)),
        row.commit
    );
    ctx.note(|| row_name.clone());
    let context = format!("{row_name}: after {}", trace_msg(&m));
    let before = n.state(ctx)?;
    n.deliver(ctx, m)?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    let want_log = shift_entries(&row.want_log, by);
    // Entries from the first one that changed on are not persisted yet.
    let first_change = before
        .log
        .entries
        .iter()
        .zip(&want_log)
        .position(|(a, b)| a != b)
        .unwrap_or(before.log.entries.len().min(want_log.len()));
    let want_stabled = if want_log == before.log.entries {
        before.log.stabled
    } else {
        before.log.stabled.min(first_change as u64)
    };
    if after.log.entries == want_log && after.log.stabled < want_stabled {
        return Err(Failure::new(format!(
            "{context}: the log holds the right entries, but those from index {} on were written again (log.stabled: got {}, want {want_stabled}): entries the follower already holds stay as they are, and only a conflict deletes and rewrites (Figure 2: \"append any new entries not already in the log\"; {rule})",
            after.log.stabled + 1,
            after.log.stabled
        )));
    }
    expect(&before)
        .with(|s| {
            s.election_elapsed = 0;
            s.lead = 1;
            s.log.entries = want_log;
            s.log.committed = row.want_commit;
            s.log.stabled = want_stabled;
        })
        .check(
            &after,
            format_args!(
                "{context} (§5.2: an append of the current term comes from its leader, so the election clock starts over and the sender is the known leader; {rule})"
            ),
        )?;
    let mut want_reply = row.want_reply;
    want_reply.term = shift(want_reply.term, by);
    want_reply.log_term = shift(want_reply.log_term, by);
    check_msgs(
        &n.take_msgs(ctx)?,
        &[want_reply],
        format_args!("{context} ({rule})"),
    )
}

/// The log of `terms` at 1, 2, ..., then `more`.
fn log(terms: &[Term], more: &[Entry]) -> Vec<Entry> {
    let mut es = entries_of_terms(terms);
    es.extend_from_slice(more);
    es
}

fn resets_clock_and_records_leader(ctx: &mut Ctx) -> Outcome {
    let rows = vec![
        // Accepted: the follower holds 1@1, the entry before the new one.
        Row {
            log: &[1],
            commit: 0,
            term: 2,
            prev: (1, 1),
            entries: vec![ent(2, 2, "x")],
            leader_commit: 1,
            want_log: log(&[1], &[ent(2, 2, "x")]),
            want_commit: 1,
            want_reply: app_resp(2, 1, 2, 2),
        },
        // Rejected: the follower has no entry 3. It still heard from its
        // leader.
        Row {
            log: &[1],
            commit: 0,
            term: 2,
            prev: (3, 2),
            entries: vec![ent(2, 4, "x")],
            leader_commit: 1,
            want_log: log(&[1], &[]),
            want_commit: 0,
            want_reply: app_reject(2, 1, 2, 3, (1, 1)),
        },
        // An empty append (a probe) with nothing new.
        Row {
            log: &[1, 2],
            commit: 1,
            term: 2,
            prev: (2, 2),
            entries: vec![],
            leader_commit: 1,
            want_log: log(&[1, 2], &[]),
            want_commit: 1,
            want_reply: app_resp(2, 1, 2, 2),
        },
    ];
    run_rows(ctx, rows, "§5.3: accepted or not, the append is answered")
}

fn appends_and_acknowledges(ctx: &mut Ctx) -> Outcome {
    let rows = vec![
        // One new entry after the follower's last.
        Row {
            log: &[1, 1],
            commit: 0,
            term: 3,
            prev: (2, 1),
            entries: vec![ent(3, 3, "x")],
            leader_commit: 0,
            want_log: log(&[1, 1], &[ent(3, 3, "x")]),
            want_commit: 0,
            want_reply: app_resp(2, 1, 3, 3),
        },
        // Several entries, of two terms.
        Row {
            log: &[1, 1],
            commit: 0,
            term: 3,
            prev: (2, 1),
            entries: vec![ent(2, 3, "x"), ent(3, 4, "y")],
            leader_commit: 0,
            want_log: log(&[1, 1], &[ent(2, 3, "x"), ent(3, 4, "y")]),
            want_commit: 0,
            want_reply: app_resp(2, 1, 3, 4),
        },
        // From the start of the log: the entries it holds stay, the new
        // one is appended.
        Row {
            log: &[1, 1],
            commit: 0,
            term: 3,
            prev: (0, 0),
            entries: vec![ent(1, 1, ""), ent(1, 2, ""), ent(3, 3, "x")],
            leader_commit: 0,
            want_log: log(&[1, 1], &[ent(3, 3, "x")]),
            want_commit: 0,
            want_reply: app_resp(2, 1, 3, 3),
        },
        // No entries: only the consistency check and the answer.
        Row {
            log: &[1, 1],
            commit: 0,
            term: 3,
            prev: (2, 1),
            entries: vec![],
            leader_commit: 0,
            want_log: log(&[1, 1], &[]),
            want_commit: 0,
            want_reply: app_resp(2, 1, 3, 2),
        },
    ];
    run_rows(
        ctx,
        rows,
        "§5.3: append after a matching entry, answer with the last new index",
    )
}

fn rejects_mismatch_with_hint(ctx: &mut Ctx) -> Outcome {
    let rows = vec![
        // The follower has no entry 3: it hints at its last entry, 2@1.
        Row {
            log: &[1, 1],
            commit: 0,
            term: 3,
            prev: (3, 3),
            entries: vec![],
            leader_commit: 0,
            want_log: log(&[1, 1], &[]),
            want_commit: 0,
            want_reply: app_reject(2, 1, 3, 3, (2, 1)),
        },
        // Entry 2 has term 1, not 2.
        Row {
            log: &[1, 1],
            commit: 0,
            term: 3,
            prev: (2, 2),
            entries: vec![ent(2, 3, "x")],
            leader_commit: 0,
            want_log: log(&[1, 1], &[]),
            want_commit: 0,
            want_reply: app_reject(2, 1, 3, 2, (2, 1)),
        },
        // Entry 7 has term 3, not 5: the hint is 7@3, whose term is at most
        // 5, so the leader can skip back past its own entries of terms 4-5.
        Row {
            log: &[1, 3, 3, 3, 3, 3, 3, 4, 4],
            commit: 0,
            term: 5,
            prev: (7, 5),
            entries: vec![ent(5, 8, "x")],
            leader_commit: 0,
            want_log: log(&[1, 3, 3, 3, 3, 3, 3, 4, 4], &[]),
            want_commit: 0,
            want_reply: app_reject(2, 1, 5, 7, (7, 3)),
        },
        // Entry 4 has term 4, newer than 3: every entry of term 4 is
        // skipped, the hint is the last entry of a term at most 3, 2@1.
        Row {
            log: &[1, 1, 4, 4],
            commit: 0,
            term: 5,
            prev: (4, 3),
            entries: vec![],
            leader_commit: 0,
            want_log: log(&[1, 1, 4, 4], &[]),
            want_commit: 0,
            want_reply: app_reject(2, 1, 5, 4, (2, 1)),
        },
    ];
    run_rows(
        ctx,
        rows,
        "§5.3: without the entry before the new ones, reject with index = the message's index and the hint from find_conflict_by_term",
    )
}

fn keeps_entries_on_stale_append(ctx: &mut Ctx) -> Outcome {
    let rows = vec![
        // A delayed append of entry 2 arrives after entries 3 and 4.
        Row {
            log: &[1, 2, 2, 2],
            commit: 0,
            term: 2,
            prev: (1, 1),
            entries: vec![ent(2, 2, "")],
            leader_commit: 0,
            want_log: log(&[1, 2, 2, 2], &[]),
            want_commit: 0,
            want_reply: app_resp(2, 1, 2, 2),
        },
        // A duplicate of entries 2 and 3.
        Row {
            log: &[1, 2, 2, 2],
            commit: 0,
            term: 2,
            prev: (1, 1),
            entries: vec![ent(2, 2, ""), ent(2, 3, "")],
            leader_commit: 1,
            want_log: log(&[1, 2, 2, 2], &[]),
            want_commit: 1,
            want_reply: app_resp(2, 1, 2, 3),
        },
        // An old empty append (a heartbeat-like probe).
        Row {
            log: &[1, 2, 2, 2],
            commit: 0,
            term: 2,
            prev: (2, 2),
            entries: vec![],
            leader_commit: 1,
            want_log: log(&[1, 2, 2, 2], &[]),
            want_commit: 1,
            want_reply: app_resp(2, 1, 2, 2),
        },
    ];
    run_rows(
        ctx,
        rows,
        "§5.3: delete entries only where an existing entry conflicts with a new one",
    )
}

fn truncates_on_conflict(ctx: &mut Ctx) -> Outcome {
    let rows = vec![
        // 2@1 conflicts with 2@2: 2@1 and 3@1 go.
        Row {
            log: &[1, 1, 1],
            commit: 0,
            term: 2,
            prev: (1, 1),
            entries: vec![ent(2, 2, "x")],
            leader_commit: 1,
            want_log: log(&[1], &[ent(2, 2, "x")]),
            want_commit: 1,
            want_reply: app_resp(2, 1, 2, 2),
        },
        // The conflict is at 3: entry 2 stays, 3 and 4 are replaced.
        Row {
            log: &[1, 1, 1, 1],
            commit: 0,
            term: 2,
            prev: (1, 1),
            entries: vec![ent(1, 2, ""), ent(2, 3, "x"), ent(2, 4, "y")],
            leader_commit: 0,
            want_log: log(&[1, 1], &[ent(2, 3, "x"), ent(2, 4, "y")]),
            want_commit: 0,
            want_reply: app_resp(2, 1, 2, 4),
        },
    ];
    run_rows(
        ctx,
        rows,
        "§5.3: if an existing entry conflicts with a new one, delete it and all that follow it",
    )
}

fn follows_leader_commit(ctx: &mut Ctx) -> Outcome {
    let rows = vec![
        // The leader committed 3, but this append only vouches for entries
        // up to 2: entry 3 of the follower may not be the leader's.
        Row {
            log: &[1, 1, 1],
            commit: 0,
            term: 1,
            prev: (1, 1),
            entries: vec![ent(1, 2, "")],
            leader_commit: 3,
            want_log: log(&[1, 1, 1], &[]),
            want_commit: 2,
            want_reply: app_resp(2, 1, 1, 2),
        },
        // An empty append carries the commit index too.
        Row {
            log: &[1, 1],
            commit: 0,
            term: 1,
            prev: (2, 1),
            entries: vec![],
            leader_commit: 2,
            want_log: log(&[1, 1], &[]),
            want_commit: 2,
            want_reply: app_resp(2, 1, 1, 2),
        },
        // The leader's commit index is beyond everything sent.
        Row {
            log: &[],
            commit: 0,
            term: 1,
            prev: (0, 0),
            entries: vec![ent(1, 1, "x"), ent(1, 2, "y")],
            leader_commit: 5,
            want_log: log(&[], &[ent(1, 1, "x"), ent(1, 2, "y")]),
            want_commit: 2,
            want_reply: app_resp(2, 1, 1, 2),
        },
        // An append carrying an older commit index moves nothing back.
        Row {
            log: &[1, 1, 1],
            commit: 2,
            term: 1,
            prev: (2, 1),
            entries: vec![ent(1, 3, "")],
            leader_commit: 1,
            want_log: log(&[1, 1, 1], &[]),
            want_commit: 2,
            want_reply: app_resp(2, 1, 1, 3),
        },
    ];
    run_rows(
        ctx,
        rows,
        "§5.3: if leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new entry)",
    )
}

fn answers_commit_below_commit(ctx: &mut Ctx) -> Outcome {
    let rows = vec![
        Row {
            log: &[1, 1, 1],
            commit: 3,
            term: 1,
            prev: (1, 1),
            entries: vec![ent(1, 2, "")],
            leader_commit: 1,
            want_log: log(&[1, 1, 1], &[]),
            want_commit: 3,
            want_reply: app_resp(2, 1, 1, 3),
        },
        Row {
            log: &[1, 1, 1],
            commit: 3,
            term: 1,
            prev: (0, 0),
            entries: vec![ent(1, 1, "")],
            leader_commit: 3,
            want_log: log(&[1, 1, 1], &[]),
            want_commit: 3,
            want_reply: app_resp(2, 1, 1, 3),
        },
    ];
    run_rows(
        ctx,
        rows,
        "committed entries match the leader's (§5.4), so the follower answers with its commit index",
    )
}
