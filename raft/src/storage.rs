//! Stable storage: what a node has persisted, and how Raft reads it back.
//!
//! Raft never writes to a [`Storage`]: the application persists what a
//! `Ready` hands it (entries, hard state, snapshot) and only then tells Raft
//! it is stable. Raft reads through the trait to serve `MsgApp`s, to compute
//! terms, and to restart. [`MemStorage`] is the in-memory implementation the
//! tests, the grader and the examples use.
//!
//! `MemStorageCore` keeps etcd's layout: `entries[0]` is a dummy entry that
//! holds the index and term of the last snapshot (or `0@0` for a fresh log),
//! so the term of the entry just before the first one is always known, which
//! the log matching check of §5.3 needs at the boundary.
//!
//! ```text
//!   snapshot at 4@2, entries 5..=7 kept:
//!
//!   entries[i]  0      1      2      3
//!   index       4      5      6      7
//!   term        2      2      3      3
//!               dummy  first_index   last_index
//! ```

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::errors::{Result, StorageError};
use crate::types::{ConfState, Entry, HardState, Index, Snapshot, Term};
use crate::util::fitting_prefix;

/// "No size limit" for [`Storage::entries`] and friends.
pub const NO_LIMIT: u64 = u64::MAX;

/// What a node reads from stable storage when it starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaftState {
    /// Term, vote and commit as last persisted.
    pub hard_state: HardState,
    /// The membership as last persisted.
    pub conf_state: ConfState,
}

/// Read access to a node's stable storage.
///
/// Errors are for conditions the caller can meet in normal operation
/// (an index compacted away, a snapshot not ready yet); asking for entries
/// past the end of the log is a caller bug and may panic.
pub trait Storage {
    /// The hard state and membership to start from.
    fn initial_state(&self) -> Result<RaftState>;
    /// Entries in `[low, high)`, at most `max_size` bytes by
    /// [`Entry::size`], but always at least one if there is any.
    fn entries(&self, low: Index, high: Index, max_size: u64) -> Result<Vec<Entry>>;
    /// The term of the entry at `idx`, for `idx` in `[first_index - 1,
    /// last_index]`; the term of `first_index - 1` survives compaction.
    fn term(&self, idx: Index) -> Result<Term>;
    /// The index of the first entry still available (older ones are in the
    /// snapshot).
    fn first_index(&self) -> Result<Index>;
    /// The index of the last entry stored.
    fn last_index(&self) -> Result<Index>;
    /// The latest snapshot. `request_index` is the oldest index the caller
    /// can use; a storage that cannot offer one that new yet returns
    /// [`StorageError::SnapshotTemporarilyUnavailable`].
    fn snapshot(&self, request_index: Index) -> Result<Snapshot>;
}

/// The state behind a [`MemStorage`].
#[derive(Clone, Debug)]
pub struct MemStorageCore {
    /// Term, vote and commit, as the application last set them.
    hard_state: HardState,
    /// The latest membership: the one set by [`MemStorageCore::set_conf_state`]
    /// or brought by an applied snapshot, whichever came last.
    conf_state: ConfState,
    /// The last snapshot created or applied; index `0` when there is none.
    snapshot: Snapshot,
    /// `entries[0]` is a dummy with the snapshot's index and term; the real
    /// entries follow, contiguous. Never empty.
    entries: Vec<Entry>,
}

impl Default for MemStorageCore {
    fn default() -> Self {
        MemStorageCore {
            hard_state: HardState::default(),
            conf_state: ConfState::default(),
            snapshot: Snapshot::default(),
            entries: vec![Entry::default()],
        }
    }
}

impl MemStorageCore {
    /// Records the hard state the application persisted.
    pub fn set_hard_state(&mut self, hs: HardState) {
        self.hard_state = hs;
    }

    /// The hard state as last set.
    pub fn hard_state(&self) -> &HardState {
        &self.hard_state
    }

    /// Records the membership the application applied.
    pub fn set_conf_state(&mut self, cs: ConfState) {
        self.conf_state = cs;
    }

    fn offset(&self) -> Index {
        self.entries[0].index
    }

    fn first_index(&self) -> Index {
        self.offset() + 1
    }

    fn last_index(&self) -> Index {
        self.offset() + self.entries.len() as u64 - 1
    }

    /// Replaces the whole log with `snap`: every entry is dropped, since the
    /// snapshot stands for all of them (§7). A snapshot no newer than the one
    /// held is refused with [`StorageError::SnapshotOutOfDate`].
    pub fn apply_snapshot(&mut self, snap: Snapshot) -> Result<()> {
        let held = self.snapshot.metadata.index;
        let offered = snap.metadata.index;
        if held >= offered {
            return Err(StorageError::SnapshotOutOfDate.into());
        }
        self.entries = vec![Entry {
            term: snap.metadata.term,
            index: offered,
            ..Default::default()
        }];
        self.conf_state = snap.metadata.conf_state.clone();
        self.snapshot = snap;
        Ok(())
    }

    /// Makes the snapshot at `index` (already applied by the application)
    /// the current one, with membership `cs` (or the latest one when `None`)
    /// and state machine bytes `data`. The log is left as it is; call
    /// [`MemStorageCore::compact`] to drop the entries it covers.
    ///
    /// Panics if `index` is past the last entry: nobody can have applied it.
    pub fn create_snapshot(
        &mut self,
        index: Index,
        cs: Option<ConfState>,
        data: Vec<u8>,
    ) -> Result<Snapshot> {
        if index <= self.snapshot.metadata.index {
            return Err(StorageError::SnapshotOutOfDate.into());
        }
        let last = self.last_index();
        assert!(
            index <= last,
            "snapshot index {index} is beyond last index {last}"
        );
        self.snapshot.metadata.index = index;
        self.snapshot.metadata.term = self.entries[(index - self.offset()) as usize].term;
        self.snapshot.metadata.conf_state = cs.unwrap_or_else(|| self.conf_state.clone());
        self.snapshot.data = data;
        Ok(self.snapshot.clone())
    }

    /// Drops the entries up to and including `compact_index`, which becomes
    /// the dummy entry so its term stays known. Compacting what is already
    /// gone is [`StorageError::Compacted`].
    ///
    /// Panics if `compact_index` is past the last entry.
    pub fn compact(&mut self, compact_index: Index) -> Result<()> {
        let offset = self.offset();
        if compact_index <= offset {
            return Err(StorageError::Compacted.into());
        }
        let last = self.last_index();
        assert!(
            compact_index <= last,
            "compact index {compact_index} is beyond last index {last}"
        );
        let keep_from = (compact_index - offset) as usize;
        self.entries.drain(..keep_from);
        // The new dummy keeps only what a dummy needs: its index and term.
        let dummy = &mut self.entries[0];
        dummy.data = Default::default();
        dummy.entry_type = Default::default();
        Ok(())
    }

    /// Stores `ents`, which must be contiguous. An entry at an index already
    /// stored replaces it and everything after it: the leader has
    /// overwritten that tail (§5.3), and Raft only hands out such entries
    /// after checking the conflict. Entries older than the first index are
    /// skipped, as they are already in the snapshot.
    ///
    /// Panics if `ents` would leave a gap after the last entry.
    pub fn append(&mut self, ents: &[Entry]) -> Result<()> {
        let Some(head) = ents.first() else {
            return Ok(());
        };
        for pair in ents.windows(2) {
            assert_eq!(
                pair[0].index + 1,
                pair[1].index,
                "entries to append are not contiguous: {:?} then {:?}",
                pair[0],
                pair[1]
            );
        }
        let first = self.first_index();
        let ents_last = head.index + ents.len() as u64 - 1;
        if ents_last < first {
            return Ok(());
        }
        let ents = if head.index < first {
            &ents[(first - head.index) as usize..]
        } else {
            ents
        };
        let start = ents[0].index;
        let last = self.last_index();
        assert!(
            start <= last + 1,
            "appending at index {start} would leave a gap after last index {last}"
        );
        self.entries.truncate((start - self.offset()) as usize);
        self.entries.extend_from_slice(ents);
        Ok(())
    }

    /// The stored entries, without the dummy.
    pub fn entries_all(&self) -> Vec<Entry> {
        self.entries[1..].to_vec()
    }
}

/// A cloneable handle on one [`MemStorageCore`]: the application keeps one
/// clone to persist into while Raft reads through another, and a node that
/// "crashes" in the simulator is rebuilt from the same handle, so what was
/// persisted survives.
#[derive(Clone, Default)]
pub struct MemStorage {
    core: Arc<RwLock<MemStorageCore>>,
}

impl MemStorage {
    /// An empty storage: no entries, no snapshot, no members.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty storage whose membership is `cs`, for a node of a new
    /// cluster that must know its peers before any entry exists.
    pub fn new_with_conf_state(cs: ConfState) -> Self {
        let store = Self::new();
        store.wl().set_conf_state(cs);
        store
    }

    /// Read access to the core. A lock poisoned by a panicking holder is
    /// still used: every method of the core checks its assertions before it
    /// mutates anything, so a panic leaves the core as it was.
    pub fn rl(&self) -> RwLockReadGuard<'_, MemStorageCore> {
        self.core.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the core (see [`MemStorage::rl`] on poisoning).
    pub fn wl(&self) -> RwLockWriteGuard<'_, MemStorageCore> {
        self.core.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A storage of its own holding what this one holds now: unlike
    /// `clone`, which hands out another handle on the same core, later
    /// writes to either are not seen by the other. The grader's explorer
    /// saves and restores whole nodes with it.
    pub fn deep_copy(&self) -> MemStorage {
        MemStorage {
            core: Arc::new(RwLock::new(self.rl().clone())),
        }
    }
}

impl Storage for MemStorage {
    fn initial_state(&self) -> Result<RaftState> {
        let core = self.rl();
        Ok(RaftState {
            hard_state: core.hard_state,
            conf_state: core.conf_state.clone(),
        })
    }

    fn entries(&self, low: Index, high: Index, max_size: u64) -> Result<Vec<Entry>> {
        let core = self.rl();
        let offset = core.offset();
        if low <= offset {
            return Err(StorageError::Compacted.into());
        }
        let last = core.last_index();
        assert!(
            high <= last + 1,
            "entries [{low}, {high}) asked beyond last index {last}"
        );
        if core.entries.len() == 1 {
            return Err(StorageError::Unavailable.into());
        }
        let from = (low - offset) as usize;
        let to = ((high - offset) as usize).max(from);
        let wanted = &core.entries[from..to];
        Ok(wanted[..fitting_prefix(wanted, 0, max_size)].to_vec())
    }

    fn term(&self, idx: Index) -> Result<Term> {
        let core = self.rl();
        let offset = core.offset();
        if idx < offset {
            return Err(StorageError::Compacted.into());
        }
        match core.entries.get((idx - offset) as usize) {
            Some(e) => Ok(e.term),
            None => Err(StorageError::Unavailable.into()),
        }
    }

    fn first_index(&self) -> Result<Index> {
        Ok(self.rl().first_index())
    }

    fn last_index(&self) -> Result<Index> {
        Ok(self.rl().last_index())
    }

    fn snapshot(&self, request_index: Index) -> Result<Snapshot> {
        let core = self.rl();
        if core.snapshot.metadata.index < request_index {
            return Err(StorageError::SnapshotTemporarilyUnavailable.into());
        }
        Ok(core.snapshot.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::Error;
    use crate::types::ENTRY_HEADER_SIZE;

    fn ent(index: Index, term: Term) -> Entry {
        Entry::new(term, index, b"")
    }

    /// A storage whose snapshot is at 3@3, holding entries 4@4 and 5@5:
    /// first index 4, last index 5.
    fn storage_3_to_5() -> MemStorage {
        let store = MemStorage::new();
        store
            .wl()
            .apply_snapshot(Snapshot {
                metadata: crate::types::SnapshotMetadata {
                    index: 3,
                    term: 3,
                    conf_state: ConfState {
                        voters: vec![1, 2, 3],
                        learners: vec![],
                    },
                },
                data: b"state@3".to_vec(),
            })
            .unwrap();
        store.wl().append(&[ent(4, 4), ent(5, 5)]).unwrap();
        store
    }

    #[test]
    fn a_deep_copy_is_not_shared_and_a_clone_is() {
        let store = storage_3_to_5();
        let shared = store.clone();
        let copy = store.deep_copy();
        store.wl().append(&[ent(6, 5)]).unwrap();
        assert_eq!(shared.last_index().unwrap(), 6);
        assert_eq!(copy.last_index().unwrap(), 5);
        copy.wl().append(&[ent(5, 6)]).unwrap();
        assert_eq!(store.term(5).unwrap(), 5);
        assert_eq!(copy.term(5).unwrap(), 6);
    }

    fn compacted() -> Error {
        Error::Store(StorageError::Compacted)
    }

    fn unavailable() -> Error {
        Error::Store(StorageError::Unavailable)
    }

    #[test]
    fn fresh_storage_is_empty() {
        // A new storage has first index 1, last index 0, and the term of
        // index 0 is 0: the dummy stands for "before the first entry".
        let store = MemStorage::new();
        assert_eq!(store.first_index().unwrap(), 1);
        assert_eq!(store.last_index().unwrap(), 0);
        assert_eq!(store.term(0).unwrap(), 0);
        assert_eq!(store.term(1), Err(unavailable()));
        assert!(store.rl().entries_all().is_empty());
        assert_eq!(store.initial_state().unwrap(), RaftState::default());
    }

    #[test]
    fn term_covers_dummy_to_last() {
        // Terms are known from the snapshot's index to the last entry.
        let store = storage_3_to_5();
        let cases: [(Index, Result<Term>); 5] = [
            (2, Err(compacted())),
            (3, Ok(3)),
            (4, Ok(4)),
            (5, Ok(5)),
            (6, Err(unavailable())),
        ];
        for (i, (idx, want)) in cases.into_iter().enumerate() {
            let got = store.term(idx);
            assert_eq!(
                got, want,
                "case #{i} (term({idx})): got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn entries_respects_bounds_and_size() {
        // Entries come from [low, high), size-limited but never empty.
        let store = storage_3_to_5();
        store.wl().append(&[ent(6, 6)]).unwrap();
        let h = ENTRY_HEADER_SIZE;
        let cases: [(Index, Index, u64, Result<Vec<Entry>>); 7] = [
            (2, 6, NO_LIMIT, Err(compacted())),
            (3, 4, NO_LIMIT, Err(compacted())),
            (4, 5, NO_LIMIT, Ok(vec![ent(4, 4)])),
            (4, 7, NO_LIMIT, Ok(vec![ent(4, 4), ent(5, 5), ent(6, 6)])),
            (4, 7, 0, Ok(vec![ent(4, 4)])),
            (4, 7, 2 * h, Ok(vec![ent(4, 4), ent(5, 5)])),
            (5, 5, NO_LIMIT, Ok(vec![])),
        ];
        for (i, (lo, hi, max, want)) in cases.into_iter().enumerate() {
            let got = store.entries(lo, hi, max);
            assert_eq!(
                got, want,
                "case #{i} (entries({lo}, {hi}, {max})): got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn entries_of_a_log_with_only_a_snapshot_are_unavailable() {
        // After a snapshot and nothing else, no entry can be read.
        let store = MemStorage::new();
        store
            .wl()
            .apply_snapshot(Snapshot {
                metadata: crate::types::SnapshotMetadata {
                    index: 4,
                    term: 2,
                    ..Default::default()
                },
                data: vec![],
            })
            .unwrap();
        assert_eq!(store.entries(5, 5, NO_LIMIT), Err(unavailable()));
    }

    #[test]
    #[should_panic(expected = "entries [4, 7) asked beyond last index 5")]
    fn entries_past_the_end_panics() {
        // Asking past last index + 1 is a caller bug, reported with numbers.
        let _ = storage_3_to_5().entries(4, 7, NO_LIMIT);
    }

    #[test]
    fn compact_drops_a_prefix_and_keeps_its_term() {
        // After compaction the compacted index becomes the dummy: its term
        // is still known, the entries before it are gone.
        let cases: [(Index, Result<()>, Index, Term, usize); 4] = [
            (2, Err(compacted()), 3, 3, 2),
            (3, Err(compacted()), 3, 3, 2),
            (4, Ok(()), 4, 4, 1),
            (5, Ok(()), 5, 5, 0),
        ];
        for (i, (at, want, want_index, want_term, want_len)) in cases.into_iter().enumerate() {
            let store = storage_3_to_5();
            let got = store.wl().compact(at);
            assert_eq!(
                got, want,
                "case #{i} (compact({at})): got {got:?}, want {want:?}"
            );
            let core = store.rl();
            let dummy = &core.entries[0];
            assert_eq!(
                (dummy.index, dummy.term),
                (want_index, want_term),
                "case #{i} (compact({at})): dummy = {dummy:?}, want {want_index}@{want_term}"
            );
            let len = core.entries_all().len();
            assert_eq!(
                len, want_len,
                "case #{i} (compact({at})): {len} entries left, want {want_len}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "compact index 6 is beyond last index 5")]
    fn compact_past_the_end_panics() {
        // Nobody can have applied an entry that does not exist.
        let _ = storage_3_to_5().wl().compact(6);
    }

    #[test]
    fn create_snapshot_takes_term_and_membership() {
        // The snapshot records the term at its index, and the membership
        // given or, when none is given, the latest one.
        let given = ConfState {
            voters: vec![1, 2],
            learners: vec![3],
        };
        let latest = ConfState {
            voters: vec![1, 2, 3],
            learners: vec![],
        };
        let cases = [
            (4, Some(given.clone()), 4, given.clone()),
            (5, Some(given.clone()), 5, given.clone()),
            (5, None, 5, latest.clone()),
        ];
        for (i, (at, cs, want_term, want_cs)) in cases.into_iter().enumerate() {
            let store = storage_3_to_5();
            let snap = store
                .wl()
                .create_snapshot(at, cs, b"data".to_vec())
                .unwrap();
            let got = (
                snap.metadata.index,
                snap.metadata.term,
                snap.metadata.conf_state,
            );
            let want = (at, want_term, want_cs);
            assert_eq!(got, want, "case #{i}: got {got:?}, want {want:?}");
            assert_eq!(store.snapshot(0).unwrap().data, b"data");
        }
    }

    #[test]
    fn create_snapshot_refuses_old_indexes() {
        // A snapshot at or before the current one is out of date.
        let store = storage_3_to_5();
        for at in [2, 3] {
            let got = store.wl().create_snapshot(at, None, vec![]);
            assert_eq!(
                got,
                Err(StorageError::SnapshotOutOfDate.into()),
                "create_snapshot({at}): got {got:?}, want SnapshotOutOfDate"
            );
        }
    }

    #[test]
    #[should_panic(expected = "snapshot index 6 is beyond last index 5")]
    fn create_snapshot_past_the_end_panics() {
        // A snapshot of an entry that does not exist is a bug.
        let _ = storage_3_to_5().wl().create_snapshot(6, None, vec![]);
    }

    #[test]
    fn apply_snapshot_replaces_the_log() {
        // A newer snapshot replaces every entry and brings its membership;
        // an older or equal one is refused and changes nothing (§7).
        let store = storage_3_to_5();
        let mut snap = Snapshot::default();
        snap.metadata.index = 3;
        snap.metadata.term = 3;
        assert_eq!(
            store.wl().apply_snapshot(snap.clone()),
            Err(StorageError::SnapshotOutOfDate.into())
        );
        assert_eq!(store.last_index().unwrap(), 5);

        snap.metadata.index = 10;
        snap.metadata.term = 7;
        snap.metadata.conf_state.voters = vec![4, 5];
        store.wl().apply_snapshot(snap.clone()).unwrap();
        assert_eq!(store.first_index().unwrap(), 11);
        assert_eq!(store.last_index().unwrap(), 10);
        assert_eq!(store.term(10).unwrap(), 7);
        assert_eq!(store.snapshot(0).unwrap(), snap);
        assert_eq!(store.initial_state().unwrap().conf_state.voters, vec![4, 5]);
        assert!(store.rl().entries_all().is_empty());
    }

    #[test]
    fn snapshot_older_than_requested_is_temporarily_unavailable() {
        // The caller needs at least request_index; the held snapshot is at 3.
        let store = storage_3_to_5();
        assert_eq!(store.snapshot(3).unwrap().metadata.index, 3);
        assert_eq!(
            store.snapshot(4),
            Err(StorageError::SnapshotTemporarilyUnavailable.into())
        );
    }

    #[test]
    fn append_truncates_conflicts_and_skips_compacted() {
        // New entries overwrite from their first index on; entries already
        // in the snapshot are skipped; duplicates change nothing.
        let cases: [(Vec<Entry>, Vec<Entry>); 7] = [
            // Entirely inside the snapshot: nothing to do.
            (vec![ent(2, 3), ent(3, 3)], vec![ent(4, 4), ent(5, 5)]),
            // The same entries again.
            (vec![ent(4, 4), ent(5, 5)], vec![ent(4, 4), ent(5, 5)]),
            // A conflicting tail replaces ours.
            (
                vec![ent(4, 4), ent(5, 6), ent(6, 6)],
                vec![ent(4, 4), ent(5, 6), ent(6, 6)],
            ),
            // Straddling the snapshot: the old part is skipped.
            (vec![ent(2, 3), ent(3, 3), ent(4, 5)], vec![ent(4, 5)]),
            // Overwriting from the first index.
            (vec![ent(4, 5)], vec![ent(4, 5)]),
            // Right after the last entry.
            (vec![ent(6, 5)], vec![ent(4, 4), ent(5, 5), ent(6, 5)]),
            // Nothing at all.
            (vec![], vec![ent(4, 4), ent(5, 5)]),
        ];
        for (i, (ents, want)) in cases.into_iter().enumerate() {
            let store = storage_3_to_5();
            store.wl().append(&ents).unwrap();
            let got = store.rl().entries_all();
            assert_eq!(
                got, want,
                "case #{i} (append {ents:?}): got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "appending at index 7 would leave a gap after last index 5")]
    fn append_with_a_gap_panics() {
        // Index 6 would be missing.
        let _ = storage_3_to_5().wl().append(&[ent(7, 5)]);
    }

    #[test]
    #[should_panic(expected = "not contiguous")]
    fn append_of_non_contiguous_entries_panics() {
        // The entries themselves must follow one another.
        let _ = storage_3_to_5().wl().append(&[ent(6, 5), ent(8, 5)]);
    }

    #[test]
    fn handles_share_one_core() {
        // A clone sees what another clone persisted, as a restarted node must.
        let app = MemStorage::new_with_conf_state(ConfState {
            voters: vec![1, 2, 3],
            learners: vec![],
        });
        let raft = app.clone();
        app.wl().append(&[ent(1, 1)]).unwrap();
        app.wl().set_hard_state(HardState {
            term: 1,
            vote: 2,
            commit: 1,
        });
        assert_eq!(raft.last_index().unwrap(), 1);
        let state = raft.initial_state().unwrap();
        assert_eq!(state.hard_state, *app.rl().hard_state());
        assert_eq!(state.conf_state.voters, vec![1, 2, 3]);
    }
}
