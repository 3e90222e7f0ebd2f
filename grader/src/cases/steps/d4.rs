//! Deep Step4: the hint of fast log backup, `RaftLog::find_conflict_by_term`:
//! a follower that refuses an append says where its log may still match
//! the leader's, skipping every entry of a term newer than the leader's
//! entry, so that a leader backs up a whole term per round trip (§5.3).
//!
//! The cases refuse appends at a follower and judge its answer, hint
//! included, and its whole state; then a leader played by the grader (with
//! the library's rule for using a hint) repairs a follower whose log
//! diverges by dozens of entries, and counts the round trips.

use raftpb::{Index, Message, Term};

use super::step_case;
use crate::cases::unit::deep::{
    append_answer, backup_hint, follower, pick, places, receive_append, repeat, runs, term_of,
};
use crate::cases::unit::{Node, app, check_msgs, entries_of_terms, expect, note_changes};
use crate::cases::{Case, Ctx};
use crate::model::{Failure, LogView, Outcome, Step};
use crate::{check, check_eq};

/// Why the cases run Deep Step2's code.
const USES: &[(Step, &str)] = &[(
    Step::Deep2,
    "a follower refuses an append through Step2's consistency check",
)];

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Deep4, name, purpose, USES, run);
    vec![
        case(
            "d4::the_hint_skips_every_newer_entry",
            "A refusal's hint is the last index, at or before the append's previous entry (or the follower's last), whose term is not newer than the leader's entry there; every entry of a newer term is skipped, and the hint's term is the follower's (§5.3).",
            the_hint_skips_every_newer_entry,
        ),
        case(
            "d4::the_hint_stops_at_the_oldest_known_term",
            "In a log that starts after a snapshot, the walk back stops at the snapshot's index, the oldest whose term is known, and the hint carries the snapshot's term (the contract of find_conflict_by_term; §7).",
            the_hint_stops_at_the_oldest_known_term,
        ),
        case(
            "d4::one_round_trip_per_term",
            "With the follower's hints, a leader repairs a follower whose last dozens of entries conflict with its own in one or two round trips, not one per entry (§5.3: \"one AppendEntries RPC will be required for each term with conflicting entries, rather than one RPC per entry\").",
            one_round_trip_per_term,
        ),
    ]
}

/// The leader of every case: node 2; the follower is node 1.
const LEADER: u64 = 2;

/// A follower's log of several terms, each in a run: terms climbing from 1
/// or 2 in steps of 1 or 2, runs of 1 to 4 entries, drawn from the seed.
fn runs_log(ctx: &Ctx, salt: u64, terms: u64) -> Vec<Term> {
    let mut log = Vec::new();
    let mut t = 1 + pick(ctx, salt * 100 + 99, 0..2);
    for i in 0..terms {
        let len = pick(ctx, salt * 100 + i, 1..5);
        log.extend(repeat(t, len));
        t += 1 + pick(ctx, salt * 100 + 50 + i, 0..2);
    }
    log
}

fn view(log: &[Term]) -> LogView {
    LogView {
        first_index: 1,
        entries: entries_of_terms(log),
        ..LogView::default()
    }
}

/// Steps the refused append `m` into follower `n` and judges its whole
/// state (nothing but the clock and the leader changes) and its answer,
/// hint included.
fn refuse_and_judge(ctx: &mut Ctx, n: Node, m: Message, what: &str) -> Outcome {
    let before = n.state(ctx)?;
    n.deliver(ctx, m.clone())?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    let mut accepted = None;
    expect(&before)
        .with(|s| {
            s.election_elapsed = 0;
            s.lead = m.from;
            accepted = receive_append(s, &m);
        })
        .check(&after, format_args!("{what}: the follower afterwards"))?;
    let want = append_answer(&before, &m, accepted);
    let from = m.index.min(before.log.last_index());
    check_msgs(
        &n.take_msgs(ctx)?,
        std::slice::from_ref(&want),
        format_args!(
            "{what}: the refusal (§5.3: walking back from index {from}, every entry of a term newer than {} cannot match the leader's log; the hint is the first one that may: {}@{})",
            m.log_term, want.reject_hint, want.log_term
        ),
    )
}

fn the_hint_skips_every_newer_entry(ctx: &mut Ctx) -> Outcome {
    let log = runs_log(ctx, 10, 4);
    let last = log.len() as Index;
    let top = *log.last().unwrap_or(&1);
    let term = top + 2;
    let v = view(&log);
    // Terms the follower's log has, and terms between them it lacks.
    let present: Vec<Term> = {
        let mut t = log.clone();
        t.dedup();
        t
    };
    let absent: Vec<Term> = (1..top).filter(|t| !present.contains(t)).collect();
    let mut rows: Vec<(Index, Term, String)> = Vec::new();
    // At the follower's last entry, the leader's entry has a term between
    // the follower's: skip the newer run(s).
    let between = absent
        .get(pick(ctx, 11, 0..absent.len().max(1) as u64) as usize)
        .copied()
        .unwrap_or(top + 1);
    rows.push((
        last,
        between,
        "the leader's term there is one the follower lacks".into(),
    ));
    // The leader's entry is of a term the follower holds earlier on: the
    // hint is the last entry of that term.
    let earlier = present[pick(ctx, 12, 0..present.len().saturating_sub(1).max(1) as u64) as usize];
    let mid = pick(ctx, 13, 1..last + 1);
    let probe_term = earlier.max(term_of(&v, mid).unwrap_or(1) + 1).min(term);
    rows.push((
        mid,
        probe_term,
        "an entry in the middle, of a term newer than the follower's there".into(),
    ));
    rows.push((
        last,
        earlier,
        "a term the follower holds at lower indexes".into(),
    ));
    // Every entry is newer: the hint goes back to index 0.
    let first_term = log[0];
    if first_term > 1 {
        rows.push((
            last,
            first_term - 1,
            "every entry of the follower is newer".into(),
        ));
    }
    // A shorter follower: the hint starts from its last entry.
    rows.push((
        last + pick(ctx, 14, 1..4),
        top + 1,
        "the previous entry is past the follower's log".into(),
    ));
    rows.push((
        last + 2,
        top,
        "the previous entry is past the follower's log, whose last term is the leader's there"
            .into(),
    ));
    for (i, (index, log_term, why)) in rows.into_iter().enumerate() {
        if term_of(&v, index) == Some(log_term) {
            // Not a refusal: the follower holds that entry.
            continue;
        }
        let what = format!(
            "case #{} (a follower of term {term} with log {} refuses a probe after {index}@{log_term}: {why})",
            i + 1,
            runs(&log)
        );
        ctx.note(|| what.clone());
        let n = follower(ctx, 1, &[1, 2, 3], &log, term, LEADER)?;
        let m = app(LEADER, 1, term, (index, log_term), vec![], 0);
        refuse_and_judge(ctx, n, m, &what)?;
    }
    Ok(())
}

fn the_hint_stops_at_the_oldest_known_term(ctx: &mut Ctx) -> Outcome {
    // A follower whose log starts after a snapshot at `snap`@`snap_term`,
    // then entries of a newer term. The append it refuses is after an
    // entry of a term older than all of them: a message no correct leader
    // sends, which probes the edge of what the follower knows.
    let snap = 3 + pick(ctx, 30, 0..4);
    let snap_term = 3 + pick(ctx, 31, 0..2);
    let after = pick(ctx, 32, 1..5);
    let term = snap_term + 3;
    let entries: Vec<raftpb::Entry> = (1..=after)
        .map(|i| raftpb::Entry::new(snap_term + 1, snap + i, b""))
        .collect();
    let storage = crate::drive::StorageSetup {
        conf_state: raftpb::ConfState {
            voters: vec![1, 2, 3],
            learners: Vec::new(),
        },
        snapshot: Some(raftpb::Snapshot {
            data: Vec::new(),
            metadata: raftpb::SnapshotMetadata {
                conf_state: raftpb::ConfState {
                    voters: vec![1, 2, 3],
                    learners: Vec::new(),
                },
                index: snap,
                term: snap_term,
            },
        }),
        entries,
        hard_state: raftpb::HardState::default(),
    };
    let c = crate::cases::unit::config(ctx, 1);
    match ctx.apply(&crate::drive::Op::Boot(crate::drive::Boot {
        id: 1,
        config: c,
        storage,
    })) {
        crate::drive::Reply::Done => {}
        other => {
            return Err(crate::cases::unit::unexpected(
                1,
                "start from a snapshot",
                other,
            ));
        }
    }
    let n = Node { id: 1 };
    n.call(
        ctx,
        crate::drive::Call::BecomeFollower { term, lead: LEADER },
    )?;
    n.call(ctx, crate::drive::Call::ClearMsgs)?;
    let last = snap + after;
    let log_term = snap_term - 1;
    let what = format!(
        "case #1 (a follower whose log starts after a snapshot at {snap}@{snap_term}, then {after} entries of term {}, refuses a probe after {last}@{log_term})",
        snap_term + 1
    );
    ctx.note(|| what.clone());
    let before = n.state(ctx)?;
    n.deliver(ctx, app(LEADER, 1, term, (last, log_term), vec![], 0))?;
    let after_state = n.state(ctx)?;
    note_changes(ctx, &before, &after_state);
    expect(&before)
        .with(|s| {
            s.election_elapsed = 0;
            s.lead = LEADER;
        })
        .check(
            &after_state,
            format_args!("{what}: the follower afterwards"),
        )?;
    let mut want = crate::cases::unit::msg(raftpb::MessageType::MsgAppResp, 1, LEADER, term);
    want.index = last;
    want.reject = true;
    want.reject_hint = snap;
    want.log_term = snap_term;
    check_msgs(
        &n.take_msgs(ctx)?,
        &[want],
        format_args!(
            "{what}: the refusal (every entry after the snapshot is newer than term {log_term}, and so is the snapshot's; below {snap} no term is known: the walk stops there, and the hint's term is the snapshot's)"
        ),
    )
}

/// Bound on the refusals while repairing a follower whose conflicting
/// entries are all of one term: one for the leader's newest entry, one
/// for the run of conflicting entries, and one to spare.
const REFUSALS_PER_REPAIR: u64 = 3;

/// The grader plays a leader with log `leader_log` at `term` against the
/// follower `n` (whose log is `follower_log`): it probes after its last
/// entry, and on each refusal moves its next index as the library's
/// leader does with a hint (its own log searched from the hint by the
/// hint's term). Returns the refusals before the follower accepts.
fn repair(
    ctx: &mut Ctx,
    n: Node,
    leader_log: &[Term],
    term: Term,
    what: &str,
) -> Result<u64, Failure> {
    let lv = view(leader_log);
    let mut next = lv.last_index() + 1;
    let mut refusals = 0;
    for _ in 0..=lv.last_index() + 1 {
        let prev = next - 1;
        let prev_term = term_of(&lv, prev).unwrap_or(0);
        let entries = crate::cases::unit::deep::entries_after(&lv, next);
        let m = app(LEADER, 1, term, (prev, prev_term), entries, 0);
        n.deliver(ctx, m)?;
        let sent = n.take_msgs(ctx)?;
        let [answer] = sent.as_slice() else {
            return Err(Failure::new(format!(
                "{what}: answer to the append after {prev}@{prev_term}: sent {} messages, want one MsgAppResp",
                sent.len()
            )));
        };
        if !answer.reject {
            check_eq!(
                answer.index,
                lv.last_index(),
                "{what}: index of the acceptance of the append after {prev}@{prev_term}"
            );
            return Ok(refusals);
        }
        refusals += 1;
        check!(
            answer.reject_hint <= prev,
            "{what}: refusal of the append after {prev}@{prev_term} hints at {}, past the append's previous entry: the hint must not be beyond it",
            answer.reject_hint
        );
        let probe_at = if answer.log_term > 0 {
            backup_hint(&lv, answer.reject_hint, answer.log_term)
        } else {
            answer.reject_hint
        };
        next = prev.min(probe_at + 1).max(1);
    }
    Err(Failure::new(format!(
        "{what}: the follower never accepted an append ({refusals} refusals)"
    )))
}

fn one_round_trip_per_term(ctx: &mut Ctx) -> Outcome {
    let common = pick(ctx, 20, 1..5);
    let conflicting = 40 + pick(ctx, 21, 0..10);
    let (t_old, t_new, term) = (2, 3 + pick(ctx, 22, 0..2), 6);
    let prefix = repeat(1, common);
    // Shape A: the follower's conflicting entries are of a newer term than
    // the leader's at the same indexes (it led a later term that
    // committed nothing); only the follower's hint can skip them.
    // Shape B: they are older (it was a leader cut off with entries
    // nobody else got); the leader's own log skips them, but the hint
    // must still say where the follower's log may match.
    let shapes = [
        (
            "A (the follower's conflicting entries are newer than the leader's)",
            [prefix.clone(), repeat(t_old, conflicting), vec![term]].concat(),
            [prefix.clone(), repeat(t_new, conflicting)].concat(),
        ),
        (
            "B (the follower's conflicting entries are older than the leader's)",
            [prefix.clone(), repeat(t_new, conflicting), vec![term]].concat(),
            [prefix.clone(), repeat(t_old, conflicting)].concat(),
        ),
    ];
    for (i, (shape, leader_log, follower_log)) in shapes.into_iter().enumerate() {
        let what = format!(
            "case #{} (shape {shape}: leader of term {term} with log {}, follower with log {})",
            i + 1,
            runs(&leader_log),
            runs(&follower_log)
        );
        ctx.note(|| what.clone());
        let n = follower(ctx, 1, &[1, 2, 3], &follower_log, term, LEADER)?;
        let refusals = repair(ctx, n, &leader_log, term, &what)?;
        check!(
            refusals <= REFUSALS_PER_REPAIR,
            "{what}: {refusals} rejections for {conflicting} conflicting entries; backing up by term needs ≤ {REFUSALS_PER_REPAIR} (§5.3: \"one AppendEntries RPC will be required for each term with conflicting entries, rather than one RPC per entry\"): the follower's hint must skip every entry of a term newer than the leader's entry"
        );
        let s = n.state(ctx)?;
        check_eq!(
            places(&s.log.entries),
            places(&entries_of_terms(&leader_log)),
            "{what}: the follower's log after the repair"
        );
    }
    Ok(())
}
