//! Deep Step3: the commit rule, `RaftLog::maybe_commit`: a leader commits
//! the highest index a majority holds, only if that entry is of its own
//! term (§5.3, §5.4.2, Figure 8), and says whether the commit index moved.
//!
//! The cases judge a leader (made without any hole but this step's: its
//! empty entry goes through the commit rule) two ways: by calling its
//! `maybe_commit` after putting every follower's progress in place, and by
//! stepping acknowledgements into it, after which the library tells every
//! follower of a new commit index (the core track's Replication Step4).

use raftpb::{Entry, Index, NodeId, Term};

use super::step_case;
use crate::cases::unit::deep::{commit_rule, hear_ack, leader, pick, quorum_index, runs};
use crate::cases::unit::{Node, app_resp, check_msgs, expect, note_changes};
use crate::cases::{Case, Ctx};
use crate::check_eq;
use crate::model::{NodeState, Outcome, ProgressState, Step};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Deep3, name, purpose, &[], run);
    vec![
        case(
            "d3::commits_the_majority_index_of_its_term",
            "maybe_commit commits the highest index a majority of voters hold when its entry is of the leader's term, and answers whether the commit index moved; an entry of an earlier term on a majority stays uncommitted (§5.3, §5.4.2).",
            commits_the_majority_index_of_its_term,
        ),
        case(
            "d3::earlier_terms_commit_only_through_the_leaders_own",
            "Acknowledgements that put an entry of an earlier term on a majority commit nothing (Figure 8); once the leader's own entry after it is on a majority, both commit and every follower is told (§5.4.2: \"all prior entries are committed indirectly\").",
            earlier_terms_commit_only_through_the_leaders_own,
        ),
        case(
            "d3::a_single_voter_commits_at_once",
            "The only voter of a cluster is a majority by itself: the entries it appends as leader, its empty entry first, commit as they are appended (§5.3).",
            a_single_voter_commits_at_once,
        ),
    ]
}

/// A leader's log before its election: `old` entries whose terms climb
/// from 1 to at most `top`, drawn from the seed.
fn old_log(ctx: &Ctx, salt: u64, old: u64, top: Term) -> Vec<Term> {
    let mut terms: Vec<Term> = (0..old)
        .map(|i| pick(ctx, salt * 100 + i, 1..top + 1))
        .collect();
    terms.sort_unstable();
    terms
}

/// Appends `k` proposals to leader `n` as the library's `append_entry`
/// does (its commit is this step's code); fails if it refuses.
fn propose(ctx: &mut Ctx, n: Node, k: u64) -> Outcome {
    let ents: Vec<Entry> = (0..k)
        .map(|i| Entry::new(0, 0, format!("p{i}").as_bytes()))
        .collect();
    let taken = n.call_bool(ctx, crate::drive::Call::AppendEntry(ents))?;
    check_eq!(
        taken,
        true,
        "set-up: append_entry of {k} proposals took them"
    );
    n.call(ctx, crate::drive::Call::ClearMsgs)
}

/// Puts the leader's progress of every follower in `matched` in place
/// (replicating from just after it).
fn set_matches(ctx: &mut Ctx, n: Node, matched: &[(NodeId, Index)]) -> Outcome {
    for &(peer, m) in matched {
        n.set_progress(ctx, peer, m, m + 1, ProgressState::Replicate)?;
    }
    Ok(())
}

/// `n1 9, n2 7, n3 7, n4 0, n5 0`.
fn show_matches(s: &NodeState) -> String {
    let v: Vec<String> = s
        .voters
        .iter()
        .map(|id| format!("n{id} {}", s.progress.get(id).map_or(0, |p| p.matched)))
        .collect();
    v.join(", ")
}

fn commits_the_majority_index_of_its_term(ctx: &mut Ctx) -> Outcome {
    for (c, voters) in [&[1u64, 2, 3][..], &[1, 2, 3, 4, 5][..]]
        .into_iter()
        .enumerate()
    {
        let salt = 10 * (c as u64 + 1);
        let old = pick(ctx, salt, 2..6);
        let top = pick(ctx, salt + 1, 1..4);
        let log = old_log(ctx, salt + 2, old, top);
        let term = top + 1 + pick(ctx, salt + 3, 0..3);
        let k = pick(ctx, salt + 4, 1..4);
        let n = leader(ctx, 1, voters, &log, term)?;
        propose(ctx, n, k)?;
        // The leader's log: the old entries, its empty entry at old + 1,
        // its proposals after it.
        let empty = old + 1;
        let last = empty + k;
        let peers: Vec<NodeId> = voters[1..].to_vec();
        let majority = voters.len() / 2; // followers needed beside the leader
        let at = |index: Index, count: usize| -> Vec<(NodeId, Index)> {
            peers
                .iter()
                .enumerate()
                .map(|(i, &p)| (p, if i < count { index } else { 0 }))
                .collect()
        };
        let steps: Vec<(Vec<(NodeId, Index)>, &str)> = vec![
            (
                at(old, majority),
                "an entry of an earlier term on a majority (Figure 8)",
            ),
            (
                at(empty, majority - 1),
                "the leader's empty entry one follower short of a majority",
            ),
            (
                at(empty, majority),
                "the leader's empty entry on a majority",
            ),
            (at(empty, majority), "nothing new on a majority"),
            (
                at(last, majority),
                "the leader's last proposal on a majority",
            ),
            (
                at(last - 1, majority),
                "a lower index on a majority than before",
            ),
        ];
        for (i, (matched, why)) in steps.into_iter().enumerate() {
            set_matches(ctx, n, &matched)?;
            let before = n.state(ctx)?;
            let row = format!(
                "case #{} ({} voters, leader of term {term} with log {} and {k} proposals; match indexes {}: {why})",
                i + 1,
                voters.len(),
                runs(&before.log.terms()),
                show_matches(&before)
            );
            ctx.note(|| row.clone());
            let moved = n.maybe_commit(ctx)?;
            let after = n.state(ctx)?;
            note_changes(ctx, &before, &after);
            let mut want_moved = false;
            expect(&before)
                .with(|s| want_moved = commit_rule(s))
                .check(
                    &after,
                    format_args!(
                        "{row}: the leader after maybe_commit (the majority holds up to {}; §5.4.2: only an entry of the leader's term is committed by counting replicas)",
                        quorum_index(&before)
                    ),
                )?;
            check_eq!(
                moved,
                want_moved,
                "{row}: maybe_commit's answer (whether the commit index moved: the leader tells its followers only then)"
            );
            check_msgs(
                &n.take_msgs(ctx)?,
                &[],
                format_args!("{row}: after maybe_commit"),
            )?;
        }
    }
    Ok(())
}

fn earlier_terms_commit_only_through_the_leaders_own(ctx: &mut Ctx) -> Outcome {
    let voters = [1, 2, 3, 4, 5];
    let old = pick(ctx, 20, 2..6);
    let top = pick(ctx, 21, 1..4);
    let log = old_log(ctx, 22, old, top);
    let term = top + 2 + pick(ctx, 23, 0..2);
    let n = leader(ctx, 1, &voters, &log, term)?;
    let empty = old + 1;
    // Two followers, drawn from the seed, first acknowledge the old
    // entries, then the leader's empty entry.
    let a = 2 + pick(ctx, 24, 0..4);
    let b = 2 + (a - 2 + 1 + pick(ctx, 25, 0..3)) % 4;
    let acks = [
        (a, old, "the first follower holds the old entries"),
        (
            b,
            old,
            "a majority holds the old entries (Figure 8: not committed by counting)",
        ),
        (
            a,
            empty,
            "the first follower holds the leader's empty entry",
        ),
        (
            b,
            empty,
            "a majority holds the leader's empty entry: it commits, and the old entries with it",
        ),
        (b, empty, "the same acknowledgement again"),
    ];
    for (i, (from, index, why)) in acks.into_iter().enumerate() {
        let before = n.state(ctx)?;
        let row = format!(
            "case #{} (5 voters, leader of term {term} with log {}; n{from} acknowledges up to {index}: {why})",
            i + 1,
            runs(&before.log.terms())
        );
        ctx.note(|| row.clone());
        n.deliver(ctx, app_resp(from, 1, term, index))?;
        let after = n.state(ctx)?;
        note_changes(ctx, &before, &after);
        let mut want = Vec::new();
        expect(&before)
            .with(|s| want = hear_ack(s, from, index))
            .check(
                &after,
                format_args!(
                    "{row}: the leader afterwards (§5.4.2: \"Raft never commits log entries from previous terms by counting replicas\")"
                ),
            )?;
        check_msgs(
            &n.take_msgs(ctx)?,
            &want,
            format_args!(
                "{row}: what the leader sent (a new commit index is told to every follower at once, else nothing but what the acknowledging follower lacks)"
            ),
        )?;
    }
    Ok(())
}

fn a_single_voter_commits_at_once(ctx: &mut Ctx) -> Outcome {
    let old = pick(ctx, 30, 0..4);
    let log = old_log(ctx, 31, old, 2);
    let term = 3 + pick(ctx, 32, 0..2);
    let n = leader(ctx, 1, &[1], &log, term)?;
    let s = n.state(ctx)?;
    check_eq!(
        s.log.committed,
        old + 1,
        "case #1 (the only voter, leader of term {term} with log {}): commit index after becoming leader and appending its empty entry",
        runs(&s.log.terms())
    );
    for round in 0..2u64 {
        let k = pick(ctx, 33 + round, 1..4);
        let data: Vec<String> = (0..k).map(|i| format!("r{round}p{i}")).collect();
        let before = n.state(ctx)?;
        let row = format!(
            "case #{} (the only voter, leader of term {term} with log {}, appends {k} proposals)",
            round + 2,
            runs(&before.log.terms())
        );
        ctx.note(|| row.clone());
        let ents: Vec<Entry> = data
            .iter()
            .map(|d| Entry::new(0, 0, d.as_bytes()))
            .collect();
        let taken = n.call_bool(ctx, crate::drive::Call::AppendEntry(ents))?;
        check_eq!(taken, true, "{row}: append_entry took them");
        let after = n.state(ctx)?;
        note_changes(ctx, &before, &after);
        expect(&before)
            .with(|s| {
                let last = s.log.last_index();
                for (i, d) in data.iter().enumerate() {
                    s.log
                        .entries
                        .push(Entry::new(term, last + 1 + i as u64, d.as_bytes()));
                }
                s.uncommitted_size += data.iter().map(|d| d.len() as u64).sum::<u64>();
                let new_last = s.log.last_index();
                if let Some(pr) = s.progress.get_mut(&1) {
                    pr.matched = new_last;
                    pr.next_idx = pr.next_idx.max(new_last + 1);
                }
                commit_rule(s);
            })
            .check(
                &after,
                format_args!("{row}: the leader afterwards (a single voter is a majority: what it appends commits at once, §5.3)"),
            )?;
    }
    Ok(())
}
