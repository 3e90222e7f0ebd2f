//! Deep Step2: the AppendEntries receiver, `RaftLog::maybe_append`: the
//! consistency check, truncation only at a conflict, and following the
//! leader's commit index (Figure 2, §5.3).
//!
//! The cases step appends of the leader's term into a follower and judge
//! its whole state and its answer. A refused append goes on to compute the
//! hint of fast backup (Deep Step4): until that step is written the case
//! judges what the follower did before it, and it never judges the hint.

use raftpb::{Entry, Index, Message, NodeId, Term};

use super::step_case;
use crate::cases::unit::deep::{
    append_answer, follower_with_commit, pick, places, receive_append, runs,
};
use crate::cases::unit::{Node, Stepped, app, check_msgs, expect, note_changes};
use crate::cases::{Case, Ctx};
use crate::check;
use crate::model::{Outcome, Step};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Deep2, name, purpose, &[], run);
    vec![
        case(
            "d2::appends_after_a_matching_entry",
            "An append whose previous entry the follower holds adds the entries it lacks after those it holds, and is answered with the index of its last entry (Figure 2: \"Append any new entries not already in the log\").",
            appends_after_a_matching_entry,
        ),
        case(
            "d2::refuses_without_the_previous_entry",
            "An append whose previous entry the follower lacks, or holds with another term, changes neither its log nor its commit index, and is refused (Figure 2: \"Reply false if log doesn't contain an entry at prevLogIndex whose term matches prevLogTerm\", §5.3).",
            refuses_without_the_previous_entry,
        ),
        case(
            "d2::cuts_only_at_a_conflict",
            "Entries from the first that conflicts with the append (same index, other term) are replaced; entries before it stay, persisted as they were (Figure 2: \"If an existing entry conflicts with a new one ... delete the existing entry and all that follow it\").",
            cuts_only_at_a_conflict,
        ),
        case(
            "d2::stale_appends_cut_nothing",
            "A delayed or repeated append whose entries the follower already holds changes nothing, even when the follower holds more after them, and is answered with its own last entry, not the follower's (§5.3).",
            stale_appends_cut_nothing,
        ),
        case(
            "d2::empty_appends_cut_nothing",
            "An append with no entries (a probe, or the news of a commit) after a matching entry in the middle of the log cuts nothing (§5.3: only a conflict deletes entries).",
            empty_appends_cut_nothing,
        ),
        case(
            "d2::commit_follows_the_leader_up_to_the_last_new_entry",
            "After an accepted append the commit index is min(leader's commit, index of the last new entry), and never goes back: entries the append did not vouch for are not committed (Figure 2, AppendEntries receiver, rule 5).",
            commit_follows_the_leader,
        ),
    ]
}

/// The leader of every case: node 2.
const LEADER: NodeId = 2;

/// A follower's log for a case: `old` entries whose terms climb from 1 to
/// `old_top`, then `current` entries of the leader's term.
struct Setup {
    /// The follower's log terms.
    log: Vec<Term>,
    /// The follower's (and the leader's) term.
    term: Term,
    /// The follower's commit index before the append.
    commit: Index,
}

impl Setup {
    /// Drawn from the seed: at least `old_min` old entries, `current`
    /// entries of the leader's term after them.
    fn draw(ctx: &Ctx, salt: u64, old_min: u64, current: u64) -> Setup {
        let old = pick(ctx, salt, old_min..old_min + 4);
        let top = pick(ctx, salt + 1, 2..4);
        let mut log: Vec<Term> = (0..old)
            .map(|i| pick(ctx, salt * 100 + i, 1..top + 1))
            .collect();
        log.sort_unstable();
        let term = top + 1 + pick(ctx, salt + 2, 0..2);
        log.extend(std::iter::repeat_n(term, current as usize));
        let commit = pick(ctx, salt + 3, 1..old / 2 + 1);
        Setup { log, term, commit }
    }

    fn len(&self) -> Index {
        self.log.len() as Index
    }

    /// The term of entry `i` (1-based), 0 for index 0.
    fn term_at(&self, i: Index) -> Term {
        if i == 0 {
            0
        } else {
            self.log[(i - 1) as usize]
        }
    }

    /// The follower's entries `from..=to`, as the leader holds them too.
    fn held(&self, from: Index, to: Index) -> Vec<Entry> {
        (from..=to)
            .map(|i| Entry::new(self.term_at(i), i, b""))
            .collect()
    }

    /// `k` new entries of the leader's term from index `from`.
    fn fresh(&self, from: Index, k: u64) -> Vec<Entry> {
        (from..from + k)
            .map(|i| Entry::new(self.term, i, format!("v{i}").as_bytes()))
            .collect()
    }

    /// An append of the leader's term after `prev`@(its term in `self`, or
    /// `prev_term` when given), carrying `entries` and `commit`.
    fn append(
        &self,
        prev: Index,
        prev_term: Option<Term>,
        entries: Vec<Entry>,
        commit: Index,
    ) -> Message {
        let t = prev_term.unwrap_or_else(|| self.term_at(prev));
        app(LEADER, 1, self.term, (prev, t), entries, commit)
    }

    fn describe(&self) -> String {
        format!(
            "a follower of term {} with log {} ({} entries), committed up to {}",
            self.term,
            runs(&self.log),
            self.len(),
            self.commit
        )
    }
}

/// Starts the follower of `setup`, steps `m` into it, and judges its whole
/// state and its answer against the receiver's rules.
fn judge(ctx: &mut Ctx, setup: &Setup, m: Message, row: &str) -> Outcome {
    let what = format!(
        "{row} ({}; append after {}@{} with {}, leader's commit {})",
        setup.describe(),
        m.index,
        m.log_term,
        places(&m.entries),
        m.commit
    );
    ctx.note(|| what.clone());
    let n = follower_with_commit(
        ctx,
        1,
        &[1, 2, 3],
        &setup.log,
        setup.term,
        LEADER,
        setup.commit,
    )?;
    deliver_and_judge(ctx, n, m, &what)
}

/// Steps `m` into follower `n`, and judges its whole state and answer.
fn deliver_and_judge(ctx: &mut Ctx, n: Node, m: Message, what: &str) -> Outcome {
    let before = n.state(ctx)?;
    let hole = match n.step_or_later_hole(ctx, m.clone())? {
        Stepped::Hole(step) => Some(step),
        Stepped::Returned(_) => None,
    };
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    let mut accepted = None;
    let e = expect(&before).with(|s| {
        // The library's part (Replication Step3): the clock starts over,
        // and the sender is the leader.
        s.election_elapsed = 0;
        s.lead = m.from;
        accepted = receive_append(s, &m);
    });
    let rule = match accepted {
        Some(_) => {
            "Figure 2: entries the follower holds stay untouched, even on storage; only a conflicting entry and those after it are replaced; commit index = min(leader's commit, last new entry), never back"
        }
        None => {
            "Figure 2: \"Reply false if log doesn't contain an entry at prevLogIndex whose term matches prevLogTerm\": nothing changes, the commit index neither"
        }
    };
    e.check(
        &after,
        format_args!("{what}: the follower afterwards ({rule})"),
    )?;
    if let Some(step) = hole {
        check!(
            accepted.is_none(),
            "{what}: the follower went on to {step}'s todo!(), the hint of a refusal, but it holds the entry before the append: it must accept it and answer with index {}",
            accepted.unwrap_or(0)
        );
        return Ok(());
    }
    let sent = n.take_msgs(ctx)?;
    let mut want = append_answer(&before, &m, accepted);
    if accepted.is_none() {
        // The hint is Deep Step4's: take whatever the follower sent.
        if let [got] = sent.as_slice()
            && got.reject
        {
            want.reject_hint = got.reject_hint;
            want.log_term = got.log_term;
        }
    }
    let answer = match accepted {
        Some(i) => format!("accepted up to {i}"),
        None => "refused (its hint is not judged here)".to_string(),
    };
    check_msgs(&sent, &[want], format_args!("{what}: the answer, {answer}"))
}

fn appends_after_a_matching_entry(ctx: &mut Ctx) -> Outcome {
    let s = Setup::draw(ctx, 10, 3, 0);
    let len = s.len();
    let k = pick(ctx, 11, 1..4);
    // New entries right after the last one.
    let m = s.append(len, None, s.fresh(len + 1, k), len);
    judge(ctx, &s, m, "case #1 (new entries after the last)")?;
    // Entries the follower holds, then new ones: only the new ones are
    // added.
    let p = pick(ctx, 12, s.commit..len);
    let mut ents = s.held(p + 1, len);
    ents.extend(s.fresh(len + 1, k));
    let m = s.append(p, None, ents, len + k);
    judge(ctx, &s, m, "case #2 (held entries, then new ones)")?;
    // New entries after a log of the leader's term.
    let s = Setup::draw(ctx, 13, 2, 2);
    let len = s.len();
    let m = s.append(len, None, s.fresh(len + 1, k), s.commit);
    judge(
        ctx,
        &s,
        m,
        "case #3 (new entries after entries of the leader's term)",
    )
}

fn refuses_without_the_previous_entry(ctx: &mut Ctx) -> Outcome {
    let s = Setup::draw(ctx, 20, 3, 1);
    let len = s.len();
    // The previous entry is past the follower's log.
    let gap = pick(ctx, 21, 1..4);
    let m = s.append(len + gap, Some(s.term), s.fresh(len + gap + 1, 1), len);
    judge(
        ctx,
        &s,
        m,
        "case #1 (the previous entry is past the follower's log)",
    )?;
    // The follower holds another term at the previous index: the leader's
    // entry there is of a term the follower never saw.
    let p = pick(ctx, 22, s.commit + 1..len);
    let other = s.term_at(p) + 1;
    let m = s.append(p, Some(other), s.fresh(p + 1, 2), len);
    judge(
        ctx,
        &s,
        m,
        "case #2 (the follower holds another term at the previous index)",
    )?;
    // The same, with no entries: a probe.
    let m = s.append(len - 1, Some(s.term_at(len - 1) + 1), vec![], len);
    judge(
        ctx,
        &s,
        m,
        "case #3 (a probe after an entry of another term)",
    )
}

fn cuts_only_at_a_conflict(ctx: &mut Ctx) -> Outcome {
    let s = Setup::draw(ctx, 30, 4, 0);
    let len = s.len();
    // The conflict is somewhere after the commit index.
    let x = pick(ctx, 31, s.commit + 2..len + 1);
    let p = pick(ctx, 32, s.commit..x);
    let k = pick(ctx, 33, 1..4);
    let mut ents = s.held(p + 1, x - 1);
    ents.extend(s.fresh(x, k));
    let m = s.append(p, None, ents, len + k);
    judge(
        ctx,
        &s,
        m,
        &format!("case #1 (entries held up to {}, a conflict at {x})", x - 1),
    )?;
    // The conflict is the very first entry of the append.
    let m = s.append(x - 1, None, s.fresh(x, k), x);
    judge(
        ctx,
        &s,
        m,
        &format!("case #2 (a conflict at the append's first entry, {x})"),
    )?;
    // Fewer entries than the follower holds, conflicting at the last one:
    // the tail after it goes too.
    let m = s.append(
        p,
        None,
        {
            let mut e = s.held(p + 1, x - 1);
            e.extend(s.fresh(x, 1));
            e
        },
        0,
    );
    judge(
        ctx,
        &s,
        m,
        &format!("case #3 (one conflicting entry at {x}, the follower holds more after it)"),
    )
}

fn stale_appends_cut_nothing(ctx: &mut Ctx) -> Outcome {
    // The follower holds entries of the leader's term from later appends.
    let s = Setup::draw(ctx, 40, 2, 3);
    let len = s.len();
    let p = pick(ctx, 41, s.commit..len - 2);
    let q = pick(ctx, 42, p + 1..len);
    let m = s.append(p, None, s.held(p + 1, q), len);
    judge(
        ctx,
        &s,
        m.clone(),
        &format!(
            "case #1 (an old append of entries {}..={q}, all held, the follower holds up to {len})",
            p + 1
        ),
    )?;
    // The same append twice in a row.
    let what = format!(
        "case #2 (the append of case #1 delivered twice; {})",
        s.describe()
    );
    ctx.note(|| what.clone());
    let n = follower_with_commit(ctx, 1, &[1, 2, 3], &s.log, s.term, LEADER, s.commit)?;
    deliver_and_judge(ctx, n, m.clone(), &format!("{what}, first delivery"))?;
    deliver_and_judge(ctx, n, m, &format!("{what}, second delivery"))
}

fn empty_appends_cut_nothing(ctx: &mut Ctx) -> Outcome {
    let s = Setup::draw(ctx, 50, 3, 2);
    let len = s.len();
    let p = pick(ctx, 51, s.commit..len);
    let m = s.append(p, None, vec![], len);
    judge(
        ctx,
        &s,
        m,
        &format!("case #1 (an empty append after {p}, the follower holds up to {len})"),
    )?;
    // Old entries after the matching one, of terms older than the
    // leader's: they may not be the leader's, so they are not committed.
    let s = Setup::draw(ctx, 52, 4, 0);
    let len = s.len();
    let p = pick(ctx, 53, s.commit..len - 1);
    let m = s.append(p, None, vec![], len);
    judge(
        ctx,
        &s,
        m,
        &format!(
            "case #2 (an empty append after {p} with the leader's commit at {len}: entries after {p} are not vouched for)"
        ),
    )
}

fn commit_follows_the_leader(ctx: &mut Ctx) -> Outcome {
    let s = Setup::draw(ctx, 60, 5, 0);
    let len = s.len();
    let k = pick(ctx, 61, 2..4);
    let last_new = len + k;
    let rows: [(Index, &str); 4] = [
        (last_new, "the leader's commit is the last new entry"),
        (
            last_new - 1,
            "the leader's commit is below the last new entry",
        ),
        (
            last_new + 3,
            "the leader's commit is past the last new entry",
        ),
        (0, "the leader's commit is below the follower's"),
    ];
    for (i, (commit, why)) in rows.into_iter().enumerate() {
        let m = s.append(len, None, s.fresh(len + 1, k), commit);
        judge(ctx, &s, m, &format!("case #{} ({why})", i + 1))?;
    }
    // Entries of an older term past the append: the leader's commit is
    // past them, but they are not the leader's.
    let p = pick(ctx, 62, s.commit..len - 1);
    let m = s.append(p, None, s.held(p + 1, p + 1), len);
    judge(
        ctx,
        &s,
        m,
        &format!(
            "case #5 (an append up to {}, leader's commit {len}, the follower holds older entries up to {len})",
            p + 1
        ),
    )
}
