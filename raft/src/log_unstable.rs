//! The tail of the log that is not persisted yet.
//!
//! New entries (from a proposal on the leader, from a `MsgApp` on a
//! follower) and an incoming snapshot land here first. The application
//! persists them from a `Ready`, then calls `stable_to` / `stable_snap_to`,
//! and they leave this buffer: from then on [`Storage`](crate::Storage)
//! serves them.
//!
//! ```text
//!   storage: 1 2 3 4 | unstable: 5 6 7        offset = 5
//!                             entries[0] is index 5 (offset + 0)
//! ```

use crate::types::{Entry, Index, Snapshot, Term};

/// Entries and a snapshot that the application has not persisted yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unstable {
    /// A snapshot received from the leader and not yet persisted. When set,
    /// `offset == snapshot.metadata.index + 1` until more entries arrive.
    pub snapshot: Option<Snapshot>,
    /// Entries not yet persisted; `entries[i]` has index `offset + i`.
    pub entries: Vec<Entry>,
    /// The index of `entries[0]`, or where the next entry will go when
    /// `entries` is empty. Always the storage's last index + 1, or lower
    /// while a conflicting tail is being overwritten.
    pub offset: Index,
}

impl Unstable {
    /// An empty buffer whose first entry will have index `offset`.
    pub fn new(offset: Index) -> Self {
        Unstable {
            snapshot: None,
            entries: Vec::new(),
            offset,
        }
    }

    /// The first index of the log, if the pending snapshot decides it.
    /// Entries alone never do: the storage holds the entries before them.
    pub fn maybe_first_index(&self) -> Option<Index> {
        self.snapshot.as_ref().map(|s| s.metadata.index + 1)
    }

    /// The last index of the log, if this buffer holds it: the last entry,
    /// else the pending snapshot's index.
    pub fn maybe_last_index(&self) -> Option<Index> {
        match (self.entries.len(), &self.snapshot) {
            (0, Some(s)) => Some(s.metadata.index),
            (0, None) => None,
            (n, _) => Some(self.offset + n as u64 - 1),
        }
    }

    /// The term of the entry at `i`, if this buffer knows it.
    pub fn maybe_term(&self, i: Index) -> Option<Term> {
        if i < self.offset {
            return self
                .snapshot
                .as_ref()
                .filter(|s| s.metadata.index == i)
                .map(|s| s.metadata.term);
        }
        let last = self.maybe_last_index()?;
        if i > last {
            return None;
        }
        Some(self.entries[(i - self.offset) as usize].term)
    }

    /// The application persisted entries up to `i`@`t`: drop them from the
    /// buffer. Ignored unless the entry at `i` still has term `t`: if the
    /// entry was overwritten since `Ready` handed it out, what was persisted
    /// is not what is here, and the new entry still needs persisting.
    pub fn stable_to(&mut self, i: Index, t: Term) {
        let Some(gt) = self.maybe_term(i) else {
            return;
        };
        // i < offset matches only the snapshot, which stable_snap_to handles.
        if gt == t && i >= self.offset {
            self.entries.drain(..(i + 1 - self.offset) as usize);
            self.offset = i + 1;
        }
    }

    /// The application persisted the snapshot at `i`: forget it.
    pub fn stable_snap_to(&mut self, i: Index) {
        if self
            .snapshot
            .as_ref()
            .is_some_and(|s| s.metadata.index == i)
        {
            self.snapshot = None;
        }
    }

    /// Replaces everything with `snap`; the next entry follows it.
    pub fn restore(&mut self, snap: Snapshot) {
        self.offset = snap.metadata.index + 1;
        self.entries.clear();
        self.snapshot = Some(snap);
    }

    /// Adds `ents` (contiguous) to the buffer, dropping whatever they
    /// overwrite. Three cases, by where `ents` starts:
    ///
    /// ```text
    ///   buffer 5 6 7 (offset 5)
    ///   ents from 8      → append:             5 6 7 8 ...
    ///   ents from 5 or 3 → replace everything: 3 4 ... (offset 3)
    ///   ents from 6      → truncate, append:   5 6' 7' ...
    /// ```
    ///
    /// Starting below `offset` means the leader overwrote entries the
    /// storage already holds (§5.3); the application's append will truncate
    /// its copy from the same index.
    ///
    /// Takes `ents` by value: entries arrive owned (in a proposal or a
    /// `MsgApp`), and moving them in spares a copy of every entry's data.
    pub fn truncate_and_append(&mut self, ents: Vec<Entry>) {
        let Some(first) = ents.first() else {
            return;
        };
        let after = first.index;
        let end = self.offset + self.entries.len() as u64;
        if after == end {
            self.entries.extend(ents);
        } else if after <= self.offset {
            tracing::info!("replace the unstable entries from index {after}");
            self.offset = after;
            self.entries = ents;
        } else {
            tracing::info!("truncate the unstable entries before index {after}");
            self.must_check_out_of_bounds(self.offset, after);
            self.entries.truncate((after - self.offset) as usize);
            self.entries.extend(ents);
        }
    }

    /// The entries in `[lo, hi)`. Panics unless `offset <= lo <= hi <=
    /// offset + entries.len()`.
    pub fn slice(&self, lo: Index, hi: Index) -> &[Entry] {
        self.must_check_out_of_bounds(lo, hi);
        &self.entries[(lo - self.offset) as usize..(hi - self.offset) as usize]
    }

    fn must_check_out_of_bounds(&self, lo: Index, hi: Index) {
        assert!(lo <= hi, "invalid unstable slice: lo {lo} > hi {hi}");
        let upper = self.offset + self.entries.len() as u64;
        assert!(
            self.offset <= lo && hi <= upper,
            "unstable slice [{lo}, {hi}) out of bounds [{}, {upper}]",
            self.offset
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::SnapshotMetadata;

    fn ent(index: Index, term: Term) -> Entry {
        Entry::new(term, index, b"")
    }

    /// Entries from index `first` on, with the given terms.
    fn run(first: Index, terms: &[Term]) -> Vec<Entry> {
        terms.iter().zip(first..).map(|(&t, i)| ent(i, t)).collect()
    }

    fn snap(index: Index, term: Term) -> Snapshot {
        Snapshot {
            metadata: SnapshotMetadata {
                index,
                term,
                ..Default::default()
            },
            data: vec![],
        }
    }

    fn unstable(snapshot: Option<Snapshot>, entries: Vec<Entry>, offset: Index) -> Unstable {
        Unstable {
            snapshot,
            entries,
            offset,
        }
    }

    #[test]
    fn maybe_first_index_comes_only_from_a_snapshot() {
        // Entries alone cannot tell the first index; a snapshot can.
        let cases = [
            (unstable(None, vec![ent(5, 1)], 5), None),
            (unstable(None, vec![], 0), None),
            (unstable(Some(snap(4, 1)), vec![ent(5, 1)], 5), Some(5)),
            (unstable(Some(snap(4, 1)), vec![], 5), Some(5)),
        ];
        for (i, (u, want)) in cases.into_iter().enumerate() {
            let got = u.maybe_first_index();
            assert_eq!(got, want, "case #{i}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn maybe_last_index_prefers_entries_then_snapshot() {
        // The last entry wins; without entries the snapshot's index.
        let cases = [
            (unstable(None, vec![ent(5, 1)], 5), Some(5)),
            (unstable(Some(snap(4, 1)), vec![ent(5, 1)], 5), Some(5)),
            (unstable(Some(snap(4, 1)), vec![], 5), Some(4)),
            (unstable(None, vec![], 0), None),
        ];
        for (i, (u, want)) in cases.into_iter().enumerate() {
            let got = u.maybe_last_index();
            assert_eq!(got, want, "case #{i}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn maybe_term_knows_entries_and_the_snapshot_index() {
        // Terms are known for buffered entries and at the snapshot's index.
        let cases = [
            (unstable(None, vec![ent(5, 1)], 5), 5, Some(1)),
            (unstable(None, vec![ent(5, 1)], 5), 6, None),
            (unstable(None, vec![ent(5, 1)], 5), 4, None),
            (unstable(Some(snap(4, 1)), vec![ent(5, 1)], 5), 5, Some(1)),
            (unstable(Some(snap(4, 1)), vec![ent(5, 1)], 5), 6, None),
            (unstable(Some(snap(4, 1)), vec![ent(5, 1)], 5), 4, Some(1)),
            (unstable(Some(snap(4, 1)), vec![ent(5, 1)], 5), 3, None),
            (unstable(Some(snap(4, 1)), vec![], 5), 5, None),
            (unstable(Some(snap(4, 1)), vec![], 5), 4, Some(1)),
            (unstable(None, vec![], 0), 5, None),
        ];
        for (i, (u, idx, want)) in cases.into_iter().enumerate() {
            let got = u.maybe_term(idx);
            assert_eq!(
                got, want,
                "case #{i} (term({idx})): got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn restore_replaces_everything_with_the_snapshot() {
        // After restore only the snapshot is left, and entries follow it.
        let mut u = unstable(Some(snap(4, 1)), vec![ent(5, 1)], 5);
        u.restore(snap(6, 2));
        assert_eq!(u.offset, 7);
        assert!(u.entries.is_empty());
        assert_eq!(u.snapshot, Some(snap(6, 2)));
    }

    #[test]
    fn stable_to_drops_only_matching_persisted_entries() {
        // Entries leave the buffer only if what was persisted is still what
        // the buffer holds (same index and term).
        let cases = [
            // Nothing buffered.
            (unstable(None, vec![], 0), 5, 1, 0, 0),
            (unstable(None, vec![ent(5, 1)], 5), 5, 1, 6, 0),
            (unstable(None, vec![ent(5, 1), ent(6, 1)], 5), 5, 1, 6, 1),
            // The entry at 6 was overwritten at term 2: keep it.
            (unstable(None, vec![ent(6, 2)], 6), 6, 1, 6, 1),
            // Index 4 is before the buffer.
            (unstable(None, vec![ent(5, 1)], 5), 4, 1, 5, 1),
            (unstable(None, vec![ent(5, 1)], 5), 4, 2, 5, 1),
            // With a snapshot.
            (unstable(Some(snap(4, 1)), vec![ent(5, 1)], 5), 5, 1, 6, 0),
            (
                unstable(Some(snap(4, 1)), vec![ent(5, 1), ent(6, 1)], 5),
                5,
                1,
                6,
                1,
            ),
            (unstable(Some(snap(5, 1)), vec![ent(6, 2)], 6), 6, 1, 6, 1),
            // The snapshot's index is not an entry of the buffer.
            (unstable(Some(snap(4, 1)), vec![ent(5, 1)], 5), 4, 1, 5, 1),
            (unstable(Some(snap(4, 2)), vec![ent(5, 2)], 5), 4, 1, 5, 1),
        ];
        for (i, (mut u, idx, term, want_offset, want_len)) in cases.into_iter().enumerate() {
            u.stable_to(idx, term);
            let got = (u.offset, u.entries.len());
            let want = (want_offset, want_len);
            assert_eq!(
                got, want,
                "case #{i} (stable_to({idx}, {term})): got (offset, len) = {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn stable_snap_to_forgets_only_that_snapshot() {
        // A persisted snapshot leaves the buffer; another index does nothing.
        let mut u = unstable(Some(snap(4, 1)), vec![], 5);
        u.stable_snap_to(3);
        assert!(u.snapshot.is_some());
        u.stable_snap_to(4);
        assert!(u.snapshot.is_none());
    }

    #[test]
    fn truncate_and_append_covers_three_cases() {
        // Appending after the end, replacing from at or before the offset,
        // and truncating inside the buffer then appending.
        // Buffer 5@1 6@1 7@1 (offset 5); (added from, added terms,
        // want offset, want terms from the offset).
        let cases: [(Index, &[Term], Index, &[Term]); 6] = [
            // Right after the end: append.
            (8, &[1, 2], 5, &[1, 1, 1, 1, 2]),
            // At the offset: replace everything.
            (5, &[2, 2], 5, &[2, 2]),
            // Before the offset: replace everything, the offset moves back.
            (4, &[2, 2, 2], 4, &[2, 2, 2]),
            // Inside: truncate, then append.
            (6, &[2], 5, &[1, 2]),
            (7, &[2, 2], 5, &[1, 1, 2, 2]),
            // Nothing to add.
            (9, &[], 5, &[1, 1, 1]),
        ];
        for (i, (from, terms, want_offset, want_terms)) in cases.into_iter().enumerate() {
            let mut u = unstable(None, run(5, &[1, 1, 1]), 5);
            let add = run(from, terms);
            u.truncate_and_append(add.clone());
            let want = run(want_offset, want_terms);
            assert_eq!(
                (u.offset, &u.entries),
                (want_offset, &want),
                "case #{i} (add {add:?}): got offset {} {:?}, want offset {want_offset} {want:?}",
                u.offset,
                u.entries
            );
        }
    }

    #[test]
    fn slice_returns_the_range() {
        // slice(lo, hi) is entries lo..hi by index.
        let u = unstable(None, vec![ent(5, 1), ent(6, 1), ent(7, 2)], 5);
        assert_eq!(u.slice(6, 8), &[ent(6, 1), ent(7, 2)][..]);
        assert!(u.slice(8, 8).is_empty());
    }

    #[test]
    #[should_panic(expected = "unstable slice [4, 6) out of bounds [5, 8]")]
    fn slice_out_of_bounds_panics() {
        // Reading before the buffer is a caller bug, reported with numbers.
        let u = unstable(None, vec![ent(5, 1), ent(6, 1), ent(7, 2)], 5);
        let _ = u.slice(4, 6);
    }

    #[test]
    #[should_panic(expected = "invalid unstable slice: lo 7 > hi 6")]
    fn slice_backwards_panics() {
        // An inverted range is a caller bug.
        let u = unstable(None, vec![ent(5, 1), ent(6, 1), ent(7, 2)], 5);
        let _ = u.slice(7, 6);
    }
}
