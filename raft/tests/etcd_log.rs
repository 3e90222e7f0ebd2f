//! etcd raft v3.5's `log_test.go`, in part, ported: the log's conflict
//! search, the up-to-date check, append, maybe_append and the commit and
//! stable marks. None of these needs a Raft node, so they all run on the
//! skeleton too.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::etcd::*;
use raft::{Entry, MemStorage, NO_LIMIT, RaftLog};

fn log_with(ents: &[Entry]) -> RaftLog<MemStorage> {
    let mut l = RaftLog::new(MemStorage::new());
    l.append(ents.to_vec());
    l
}

fn e(index: u64, term: u64) -> Entry {
    ent(term, index)
}

#[test]
fn find_conflict() {
    let previous = [e(1, 1), e(2, 2), e(3, 3)];
    let cases: Vec<(Vec<Entry>, u64)> = vec![
        // no conflict, empty entries
        (vec![], 0),
        // no conflict
        (vec![e(1, 1), e(2, 2), e(3, 3)], 0),
        (vec![e(2, 2), e(3, 3)], 0),
        (vec![e(3, 3)], 0),
        // no conflict, but new entries
        (vec![e(1, 1), e(2, 2), e(3, 3), e(4, 4), e(5, 4)], 4),
        (vec![e(2, 2), e(3, 3), e(4, 4), e(5, 4)], 4),
        (vec![e(3, 3), e(4, 4), e(5, 4)], 4),
        (vec![e(4, 4), e(5, 4)], 4),
        // conflicts with existing entries
        (vec![e(1, 4), e(2, 4)], 1),
        (vec![e(2, 1), e(3, 4), e(4, 4)], 2),
        (vec![e(3, 1), e(4, 2), e(5, 4), e(6, 4)], 3),
    ];
    for (i, (ents, want)) in cases.into_iter().enumerate() {
        let l = log_with(&previous);
        assert_eq!(l.find_conflict(&ents), want, "case #{i}");
    }
}

#[test]
#[ignore = "needs the deep track's rules in raft_log.rs and raft.rs: reaches Deep Step1"]
fn is_up_to_date() {
    let l = log_with(&[e(1, 1), e(2, 2), e(3, 3)]);
    let li = l.last_index();
    let cases = [
        // greater term, ignore last index
        (li - 1, 4, true),
        (li, 4, true),
        (li + 1, 4, true),
        // smaller term, ignore last index
        (li - 1, 2, false),
        (li, 2, false),
        (li + 1, 2, false),
        // equal term, equal or larger last index wins
        (li - 1, 3, false),
        (li, 3, true),
        (li + 1, 3, true),
    ];
    for (i, (last_index, term, want)) in cases.into_iter().enumerate() {
        assert_eq!(l.is_up_to_date(last_index, term), want, "case #{i}");
    }
}

#[test]
fn append() {
    let previous = [e(1, 1), e(2, 2)];
    let cases: Vec<(Vec<Entry>, u64, Vec<Entry>, u64)> = vec![
        (vec![], 2, vec![e(1, 1), e(2, 2)], 3),
        (vec![e(3, 2)], 3, vec![e(1, 1), e(2, 2), e(3, 2)], 3),
        // conflicts with index 1
        (vec![e(1, 2)], 1, vec![e(1, 2)], 1),
        // conflicts with index 2
        (
            vec![e(2, 3), e(3, 3)],
            3,
            vec![e(1, 1), e(2, 3), e(3, 3)],
            2,
        ),
    ];
    for (i, (ents, windex, wents, wunstable)) in cases.into_iter().enumerate() {
        let store = MemStorage::new();
        store.wl().append(&previous).unwrap();
        let mut l = RaftLog::new(store);
        assert_eq!(l.append(ents), windex, "case #{i}: last index");
        assert_eq!(l.entries(1, NO_LIMIT).unwrap(), wents, "case #{i}: entries");
        assert_eq!(l.unstable.offset, wunstable, "case #{i}: unstable offset");
    }
}

#[test]
#[ignore = "needs the deep track's rules in raft_log.rs and raft.rs: reaches Deep Step2"]
fn log_maybe_append() {
    // If (index, term) matches the log: cut a conflicting tail, append
    // what is new, commit to min(committed, last new index); otherwise
    // refuse. Overwriting a committed entry panics.
    let previous = [e(1, 1), e(2, 2), e(3, 3)];
    let (lastindex, lastterm, commit) = (3, 3, 1);
    // (log term, index, committed, entries, want last, want append,
    // want commit, want panic)
    type Case = (u64, u64, u64, Vec<Entry>, u64, bool, u64, bool);
    let cases: Vec<Case> = vec![
        // not match: term is different
        (
            lastterm - 1,
            lastindex,
            lastindex,
            vec![e(lastindex + 1, 4)],
            0,
            false,
            commit,
            false,
        ),
        // not match: index out of bound
        (
            lastterm,
            lastindex + 1,
            lastindex,
            vec![e(lastindex + 2, 4)],
            0,
            false,
            commit,
            false,
        ),
        // match with the last existing entry
        (
            lastterm,
            lastindex,
            lastindex,
            vec![],
            lastindex,
            true,
            lastindex,
            false,
        ),
        // do not commit beyond the last new index
        (
            lastterm,
            lastindex,
            lastindex + 1,
            vec![],
            lastindex,
            true,
            lastindex,
            false,
        ),
        // commit up to the commit in the message
        (
            lastterm,
            lastindex,
            lastindex - 1,
            vec![],
            lastindex,
            true,
            lastindex - 1,
            false,
        ),
        // commit never decreases
        (
            lastterm,
            lastindex,
            0,
            vec![],
            lastindex,
            true,
            commit,
            false,
        ),
        (0, 0, lastindex, vec![], 0, true, commit, false),
        (
            lastterm,
            lastindex,
            lastindex,
            vec![e(lastindex + 1, 4)],
            lastindex + 1,
            true,
            lastindex,
            false,
        ),
        (
            lastterm,
            lastindex,
            lastindex + 1,
            vec![e(lastindex + 1, 4)],
            lastindex + 1,
            true,
            lastindex + 1,
            false,
        ),
        (
            lastterm,
            lastindex,
            lastindex + 2,
            vec![e(lastindex + 1, 4)],
            lastindex + 1,
            true,
            lastindex + 1,
            false,
        ),
        (
            lastterm,
            lastindex,
            lastindex + 2,
            vec![e(lastindex + 1, 4), e(lastindex + 2, 4)],
            lastindex + 2,
            true,
            lastindex + 2,
            false,
        ),
        // match with an entry in the middle
        (
            lastterm - 1,
            lastindex - 1,
            lastindex,
            vec![e(lastindex, 4)],
            lastindex,
            true,
            lastindex,
            false,
        ),
        (
            lastterm - 2,
            lastindex - 2,
            lastindex,
            vec![e(lastindex - 1, 4)],
            lastindex - 1,
            true,
            lastindex - 1,
            false,
        ),
        // conflict with an existing committed entry
        (
            lastterm - 3,
            lastindex - 3,
            lastindex,
            vec![e(lastindex - 2, 4)],
            lastindex - 2,
            true,
            lastindex - 2,
            true,
        ),
        (
            lastterm - 2,
            lastindex - 2,
            lastindex,
            vec![e(lastindex - 1, 4), e(lastindex, 4)],
            lastindex,
            true,
            lastindex,
            false,
        ),
    ];
    for (i, (log_term, index, committed, ents, wlasti, wappend, wcommit, wpanic)) in
        cases.into_iter().enumerate()
    {
        let mut l = log_with(&previous);
        l.committed = commit;
        let got = catch_unwind(AssertUnwindSafe(|| {
            l.maybe_append(index, log_term, committed, ents.clone())
        }));
        let Ok(got) = got else {
            assert!(wpanic, "case #{i}: panicked");
            continue;
        };
        assert!(!wpanic, "case #{i}: did not panic");
        assert_eq!(got.is_some(), wappend, "case #{i}: append");
        assert_eq!(got.unwrap_or(0), wlasti, "case #{i}: last index");
        assert_eq!(l.committed, wcommit, "case #{i}: committed");
        if wappend && !ents.is_empty() {
            let li = l.last_index();
            let gents = l
                .slice(li - ents.len() as u64 + 1, li + 1, NO_LIMIT)
                .unwrap();
            assert_eq!(gents, ents, "case #{i}: appended");
        }
    }
}

#[test]
fn commit_to() {
    // The commit index never decreases; committing past the log panics.
    let previous = [e(1, 1), e(2, 2), e(3, 3)];
    for (i, (commit, wcommit, wpanic)) in [(3, 3, false), (1, 2, false), (4, 0, true)]
        .into_iter()
        .enumerate()
    {
        let mut l = log_with(&previous);
        l.committed = 2;
        let got = catch_unwind(AssertUnwindSafe(|| l.commit_to(commit)));
        assert_eq!(got.is_err(), wpanic, "case #{i}: panic");
        if !wpanic {
            assert_eq!(l.committed, wcommit, "case #{i}");
        }
    }
}

#[test]
fn stable_to() {
    // Persisting moves the unstable offset, but only for the entry as it
    // is now: a wrong term or an index past the log changes nothing.
    for (i, (stablei, stablet, wunstable)) in [(1, 1, 2), (2, 2, 3), (2, 1, 1), (3, 1, 1)]
        .into_iter()
        .enumerate()
    {
        let mut l = log_with(&[e(1, 1), e(2, 2)]);
        l.stable_to(stablei, stablet);
        assert_eq!(l.unstable.offset, wunstable, "case #{i}");
    }
}

#[test]
#[ignore = "needs the deep track's rules in raft_log.rs and raft.rs: reaches Deep Step3"]
fn has_next_ents_and_next_ents() {
    // Committed entries not yet applied are handed out, from after the
    // applied index (the snapshot at 3 is applied already).
    let store = MemStorage::new();
    store.wl().apply_snapshot(snap(3, 1, &[1], &[])).unwrap();
    let ents = [e(4, 1), e(5, 1), e(6, 1)];
    for (i, (applied, whas, wents)) in [
        (0, true, ents[..2].to_vec()),
        (3, true, ents[..2].to_vec()),
        (4, true, ents[1..2].to_vec()),
        (5, false, vec![]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut l = RaftLog::new(store.clone());
        l.append(ents.to_vec());
        l.maybe_commit(5, 1);
        l.applied_to(applied);
        assert_eq!(l.has_next_entries(), whas, "case #{i}: has");
        assert_eq!(
            l.next_entries().unwrap_or_default(),
            wents,
            "case #{i}: entries"
        );
    }
}

#[test]
fn term_after_a_snapshot() {
    // The term is known from the snapshot's index to the last entry; 0
    // outside that range.
    let (offset, num) = (100u64, 100u64);
    let store = MemStorage::new();
    store
        .wl()
        .apply_snapshot(snap(offset, 1, &[1], &[]))
        .unwrap();
    let mut l = RaftLog::new(store);
    for i in 1..num {
        l.append(vec![e(offset + i, i)]);
    }
    for (j, (index, w)) in [
        (offset - 1, 0),
        (offset, 1),
        (offset + num / 2, num / 2),
        (offset + num - 1, num - 1),
        (offset + num, 0),
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(l.term(index).unwrap(), w, "case #{j}");
    }
}
