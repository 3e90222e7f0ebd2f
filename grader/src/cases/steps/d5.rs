//! Deep Step5: the leader's use of a refusal and its hint: step the
//! follower's next index back past everything that cannot match (the hint,
//! then its own log searched by the hint's term), probe a streaming
//! follower again, retry at once, and ignore a stale refusal (Figure 2,
//! §5.3).
//!
//! The cases step refusals into a leader and judge its whole state and
//! what it sends; then a leader and a real follower repair a divergence of
//! dozens of entries between them, and the round trips are counted.

use raftpb::{Entry, Index, NodeId, Term};

use super::step_case;
use crate::cases::unit::deep::{
    backup_hint, follower, hear_rejection, leader, pick, places, repeat, runs, term_of,
};
use crate::cases::unit::{Node, app_reject, check_msgs, entries_of_terms, expect, note_changes};
use crate::cases::{Case, Ctx};
use crate::drive::Call;
use crate::model::{Failure, LogView, Outcome, ProgressState, Step};
use crate::{check, check_eq};

/// Why the cases run the earlier deep steps' code.
const USES: &[(Step, &str)] = &[
    (
        Step::Deep2,
        "the follower of the repair answers appends with Step2's receiver",
    ),
    (
        Step::Deep3,
        "a new leader's empty entry goes through Step3's commit rule",
    ),
    (
        Step::Deep4,
        "the leader searches its own log for the hint with Step4's search, and the follower of the repair computes its hints with it",
    ),
];

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Deep5, name, purpose, USES, run);
    vec![
        case(
            "d5::a_probe_jumps_past_what_cannot_match",
            "After a refusal of its probe, the leader probes next just after the last entry that may match: the hint, or lower where its own entries are of a newer term than the hint's, and sends that probe at once (Figure 2: \"decrement nextIndex and retry\"; §5.3).",
            a_probe_jumps_past_what_cannot_match,
        ),
        case(
            "d5::a_streaming_follower_is_probed_again",
            "A refusal from a follower the leader was streaming to (Replicate) sends the leader back to probing it, from just after what it knows the follower holds, with nothing left in flight (§5.3).",
            a_streaming_follower_is_probed_again,
        ),
        case(
            "d5::stale_refusals_change_nothing",
            "A refusal of an append older than the latest (a delayed or repeated answer) moves nothing and sends nothing (§5.3).",
            stale_refusals_change_nothing,
        ),
        case(
            "d5::repairs_a_long_divergence_by_term",
            "A leader and a follower whose last dozens of entries conflict need a round trip per conflicting term, not per entry, to agree again (§5.3: \"one AppendEntries RPC will be required for each term with conflicting entries, rather than one RPC per entry\").",
            repairs_a_long_divergence_by_term,
        ),
    ]
}

/// The leader is node 1, the follower node 2, of three voters.
const VOTERS: &[NodeId] = &[1, 2, 3];
const FOLLOWER: NodeId = 2;

fn view(log: &[Term]) -> LogView {
    LogView {
        first_index: 1,
        entries: entries_of_terms(log),
        ..LogView::default()
    }
}

/// A leader's log before its election: runs of climbing terms, drawn from
/// the seed; at least `min` entries.
fn climbing(ctx: &Ctx, salt: u64, runs_of: u64, min: u64) -> Vec<Term> {
    let mut log = Vec::new();
    let mut t = 1;
    for i in 0..runs_of {
        let len = pick(ctx, salt * 100 + i, 1..5);
        log.extend(repeat(t, len));
        t += 1 + pick(ctx, salt * 100 + 50 + i, 0..2);
    }
    while (log.len() as u64) < min {
        log.push(t);
    }
    log
}

/// Steps `from`'s refusal of the append after `index` with hint
/// `hint`@`hint_term` into leader `n`, and judges its whole state and
/// what it sent.
fn refuse(
    ctx: &mut Ctx,
    n: Node,
    from: NodeId,
    index: Index,
    hint: (Index, Term),
    what: &str,
) -> Outcome {
    let before = n.state(ctx)?;
    let term = before.term;
    n.deliver(ctx, app_reject(from, n.id, term, index, hint))?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    let mut want = Vec::new();
    expect(&before)
        .with(|s| want = hear_rejection(s, from, index, hint))
        .check(
            &after,
            format_args!(
                "{what}: the leader afterwards (Figure 2: \"decrement nextIndex and retry\"; §5.3: skip every entry that cannot match, using the hint {}@{} and the leader's own log)",
                hint.0, hint.1
            ),
        )?;
    check_msgs(
        &n.take_msgs(ctx)?,
        &want,
        format_args!(
            "{what}: what the leader sent (the next probe, at once, unless the refusal is stale)"
        ),
    )
}

/// Leader 1 of term `term` over `log` (its empty entry appended), with its
/// progress of the follower in Probe at `next` and a probe just sent.
fn leader_probing(ctx: &mut Ctx, log: &[Term], term: Term, next: Index) -> Result<Node, Failure> {
    let n = leader(ctx, 1, VOTERS, log, term)?;
    n.set_progress(ctx, FOLLOWER, 0, next, ProgressState::Probe)?;
    n.call(ctx, Call::SendAppend { to: FOLLOWER })?;
    n.call(ctx, Call::ClearMsgs)?;
    Ok(n)
}

fn a_probe_jumps_past_what_cannot_match(ctx: &mut Ctx) -> Outcome {
    let log = climbing(ctx, 10, 4, 6);
    let top = *log.last().unwrap_or(&1);
    let term = top + 2;
    // With its empty entry, the leader's log is `log` then `term`.
    let full: Vec<Term> = [log.clone(), vec![term]].concat();
    let lv = view(&full);
    let last = lv.last_index();
    // Followers whose refusals the leader gets, each as its log.
    let cut = pick(ctx, 11, 1..log.len() as u64);
    let follower_logs: Vec<(String, Vec<Term>)> = vec![
        (
            "a follower whose entries after the common prefix are of a newer term than the leader's".into(),
            [log[..cut as usize].to_vec(), repeat(top + 1, 4)].concat(),
        ),
        (
            "a follower whose entries after the common prefix are of an older term than the leader's".into(),
            [log[..cut as usize].to_vec(), repeat(log[cut as usize - 1], 5)].concat(),
        ),
        (
            "a follower holding a prefix of the leader's log".into(),
            log[..cut as usize].to_vec(),
        ),
        ("a follower with an empty log".into(), vec![]),
    ];
    for (i, (who, flog)) in follower_logs.into_iter().enumerate() {
        // The probe is after the leader's last entry but one, or its last.
        let next = last + pick(ctx, 12 + i as u64, 0..2);
        let prev = next - 1;
        let fv = view(&flog);
        if term_of(&fv, prev) == term_of(&lv, prev) {
            continue;
        }
        let from = prev.min(fv.last_index());
        let hint = backup_hint(&fv, from, term_of(&lv, prev).unwrap_or(0));
        let hint_term = term_of(&fv, hint).unwrap_or(0);
        let what = format!(
            "case #{} (leader of term {term} with log {}, probing after {prev}; {who}, {}, refuses with hint {hint}@{hint_term})",
            i + 1,
            runs(&full),
            runs(&flog)
        );
        ctx.note(|| what.clone());
        let n = leader_probing(ctx, &log, term, next)?;
        refuse(ctx, n, FOLLOWER, prev, (hint, hint_term), &what)?;
    }
    Ok(())
}

fn a_streaming_follower_is_probed_again(ctx: &mut Ctx) -> Outcome {
    let log = climbing(ctx, 20, 3, 4);
    let top = *log.last().unwrap_or(&1);
    let term = top + 1;
    let n = leader(ctx, 1, VOTERS, &log, term)?;
    // The follower holds up to `matched`; two appends are in flight after
    // it, the second after new proposals.
    let matched = pick(ctx, 21, 1..log.len() as u64 + 1);
    n.set_progress(
        ctx,
        FOLLOWER,
        matched,
        matched + 1,
        ProgressState::Replicate,
    )?;
    n.call(ctx, Call::SendAppend { to: FOLLOWER })?;
    let first_last = n.state(ctx)?.log.last_index();
    let ents: Vec<Entry> = (0..2)
        .map(|i| Entry::new(0, 0, format!("p{i}").as_bytes()))
        .collect();
    n.call_bool(ctx, Call::AppendEntry(ents))?;
    n.call(ctx, Call::SendAppend { to: FOLLOWER })?;
    n.call(ctx, Call::ClearMsgs)?;
    let s = n.state(ctx)?;
    check_eq!(
        (
            s.progress[&FOLLOWER].state,
            s.progress[&FOLLOWER].inflights.len()
        ),
        (ProgressState::Replicate, 2),
        "set-up: the leader's progress of n{FOLLOWER} after two appends while replicating"
    );
    // The first append was lost: the follower refuses the second.
    let hint = (matched, term_of(&s.log, matched).unwrap_or(0));
    let what = format!(
        "case #1 (leader of term {term} with log {}, streaming to n{FOLLOWER}, which holds up to {matched}: it refuses the append after {first_last})",
        runs(&s.log.terms())
    );
    ctx.note(|| what.clone());
    refuse(ctx, n, FOLLOWER, first_last, hint, &what)
}

fn stale_refusals_change_nothing(ctx: &mut Ctx) -> Outcome {
    let log = climbing(ctx, 30, 3, 5);
    let top = *log.last().unwrap_or(&1);
    let term = top + 1;
    let last = log.len() as Index + 1;
    // Probing after `last`: a refusal of an older probe, lower down.
    let n = leader_probing(ctx, &log, term, last + 1)?;
    let old = pick(ctx, 31, 1..last - 1);
    let what = format!(
        "case #1 (leader of term {term}, log {}, probing n{FOLLOWER} after {last}; a late refusal of its probe after {old})",
        runs(&n.state(ctx)?.log.terms())
    );
    ctx.note(|| what.clone());
    refuse(
        ctx,
        n,
        FOLLOWER,
        old,
        (old - 1, term_of(&view(&log), old - 1).unwrap_or(0)),
        &what,
    )?;
    // Streaming: a refusal at or below what the follower acknowledged.
    let n = leader(ctx, 1, VOTERS, &log, term)?;
    let matched = pick(ctx, 32, 2..last);
    n.set_progress(
        ctx,
        FOLLOWER,
        matched,
        matched + 1,
        ProgressState::Replicate,
    )?;
    n.call(ctx, Call::SendAppend { to: FOLLOWER })?;
    n.call(ctx, Call::ClearMsgs)?;
    let old = pick(ctx, 33, 1..matched + 1);
    let what = format!(
        "case #2 (leader of term {term}, streaming to n{FOLLOWER}, which acknowledged up to {matched}; a late refusal of the append after {old})",
    );
    ctx.note(|| what.clone());
    refuse(ctx, n, FOLLOWER, old, (old - 1, 1), &what)
}

/// Bound on the refusals while repairing one follower whose conflicting
/// entries are of one term: one for the leader's newest entry, one for the
/// conflicting run, and one to spare.
const REFUSALS_PER_REPAIR: u64 = 3;

fn repairs_a_long_divergence_by_term(ctx: &mut Ctx) -> Outcome {
    let common = pick(ctx, 40, 1..5);
    let conflicting = 40 + pick(ctx, 41, 0..10);
    let (t_old, t_new, term) = (2, 3 + pick(ctx, 42, 0..2), 6);
    let prefix = repeat(1, common);
    let shapes = [
        (
            "B (the follower's conflicting entries are older than the leader's: the leader's own log must skip them)",
            [prefix.clone(), repeat(t_new, conflicting)].concat(),
            [prefix.clone(), repeat(t_old, conflicting)].concat(),
        ),
        (
            "A (the follower's conflicting entries are newer than the leader's: its hint skips them)",
            [prefix.clone(), repeat(t_old, conflicting)].concat(),
            [prefix.clone(), repeat(t_new, conflicting)].concat(),
        ),
    ];
    for (i, (shape, leader_log, follower_log)) in shapes.into_iter().enumerate() {
        let what = format!(
            "case #{} (shape {shape}: leader n1 of term {term} with log {} and its empty entry, follower n2 with log {})",
            i + 1,
            runs(&leader_log),
            runs(&follower_log)
        );
        ctx.note(|| what.clone());
        let l = leader(ctx, 1, VOTERS, &leader_log, term)?;
        let f = follower(ctx, FOLLOWER, VOTERS, &follower_log, term, 1)?;
        l.call(ctx, Call::SendAppend { to: FOLLOWER })?;
        let mut refusals = 0;
        let mut done = false;
        for _ in 0..2 * (leader_log.len() + 4) {
            let to_f: Vec<_> = l
                .take_msgs(ctx)?
                .into_iter()
                .filter(|m| m.to == FOLLOWER)
                .collect();
            if to_f.is_empty() {
                break;
            }
            for m in to_f {
                f.deliver(ctx, m)?;
            }
            let answers = f.take_msgs(ctx)?;
            refusals += answers.iter().filter(|m| m.reject).count() as u64;
            for m in answers {
                l.deliver(ctx, m)?;
            }
            let (ls, fs) = (l.state(ctx)?, f.state(ctx)?);
            if fs.log.entries == ls.log.entries {
                done = true;
                break;
            }
        }
        let (ls, fs) = (l.state(ctx)?, f.state(ctx)?);
        check!(
            refusals <= REFUSALS_PER_REPAIR,
            "{what}: {refusals} rejections for {conflicting} conflicting entries; backing up by term needs ≤ {REFUSALS_PER_REPAIR} (§5.3: a refusal's hint, and the leader's own log searched by the hint's term, skip a whole term per round trip, not one entry)"
        );
        check!(
            done,
            "{what}: after {refusals} refusals the follower's log is {}, the leader's {}: the leader stopped sending before they agreed (Figure 2: \"decrement nextIndex and retry\")",
            places(&fs.log.entries),
            places(&ls.log.entries)
        );
    }
    Ok(())
}
