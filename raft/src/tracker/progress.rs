//! What a leader knows about one follower's log, and how it sends to it.

use std::fmt;

use super::Inflights;
use crate::types::Index;

/// How a leader is sending entries to a follower. The leader moves a
/// follower between states as its answers arrive:
///
/// ```text
///   Probe     ── an append is acknowledged ────────▶ Replicate
///   Replicate ── a rejection, or unreachable ──────▶ Probe
///   either    ── the entries needed were compacted ▶ Snapshot
///   Snapshot  ── applied, or reported failed ──────▶ Probe
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressState {
    /// The leader does not know where the follower's log ends. It sends one
    /// `MsgApp` at a time and waits for the answer, stepping `next_idx` back
    /// on each rejection until the logs match (§5.3).
    #[default]
    Probe,
    /// The follower's log matches up to `matched`. The leader streams entries
    /// optimistically, up to `max_inflight` messages ahead of the
    /// acknowledgements.
    Replicate,
    /// The entries the follower needs were compacted away; the leader has
    /// sent a snapshot (§7) and sends nothing else until it is applied.
    Snapshot,
}

impl fmt::Display for ProgressState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ProgressState::Probe => "StateProbe",
            ProgressState::Replicate => "StateReplicate",
            ProgressState::Snapshot => "StateSnapshot",
        };
        f.write_str(name)
    }
}

/// A leader's view of one follower (or of itself): the `matchIndex` and
/// `nextIndex` of the paper (§5.3, Figure 2), plus the flow control around
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The highest index known to be replicated on the follower; only grows
    /// while this node stays leader. Normally in [0, next_idx - 1]; a Probe
    /// rejection whose hint is below it may leave `next_idx <= matched` (see
    /// [`Progress::maybe_decr_to`]).
    pub matched: Index,
    /// The index of the next entry to send; in [1, leader's last index + 1]
    /// while this node leads. A node that has never led may hold 0 here (a
    /// progress made from an empty log): becoming leader resets every
    /// progress to last index + 1.
    pub next_idx: Index,
    /// How the leader is sending to this follower.
    pub state: ProgressState,
    /// The index of the snapshot being sent: in [1, leader's last index] in
    /// Snapshot state, 0 in every other state.
    pub pending_snapshot: Index,
    /// Whether the follower was heard from since the leader last checked
    /// (check-quorum resets it every election timeout).
    pub recent_active: bool,
    /// In Probe state: a `MsgApp` was sent and its answer is awaited, so no
    /// other is sent. Always false in the other states.
    pub probe_sent: bool,
    /// The `MsgApp`s in flight; empty unless in Replicate state.
    pub inflights: Inflights,
    /// Whether this node is a learner: it receives the log but neither votes
    /// nor counts towards commitment.
    pub is_learner: bool,
}

impl Progress {
    /// A follower in Probe state that the leader will first send `next_idx`,
    /// with room for `ins_size` `MsgApp`s in flight.
    pub fn new(next_idx: Index, ins_size: usize) -> Progress {
        Progress {
            matched: 0,
            next_idx,
            state: ProgressState::Probe,
            pending_snapshot: 0,
            recent_active: false,
            probe_sent: false,
            inflights: Inflights::new(ins_size),
            is_learner: false,
        }
    }

    /// Enters `state` with that state's bookkeeping cleared: no probe
    /// outstanding, no snapshot pending, nothing in flight. `next_idx` is the
    /// caller's business (the `become_*` methods set it).
    pub fn reset_state(&mut self, state: ProgressState) {
        self.probe_sent = false;
        self.pending_snapshot = 0;
        self.state = state;
        self.inflights.reset();
    }

    /// Goes back to probing, from the first index the follower may lack.
    /// After a snapshot, the follower has at least the snapshot, so probing
    /// starts past it even if no append was acknowledged since.
    pub fn become_probe(&mut self) {
        if self.state == ProgressState::Snapshot {
            let pending = self.pending_snapshot;
            self.reset_state(ProgressState::Probe);
            self.next_idx = (self.matched + 1).max(pending + 1);
        } else {
            self.reset_state(ProgressState::Probe);
            self.next_idx = self.matched + 1;
        }
    }

    /// Starts streaming right after what the follower is known to hold.
    pub fn become_replicate(&mut self) {
        self.reset_state(ProgressState::Replicate);
        self.next_idx = self.matched + 1;
    }

    /// Waits for the follower to apply the snapshot at `snapshot_idx`.
    pub fn become_snapshot(&mut self, snapshot_idx: Index) {
        self.reset_state(ProgressState::Snapshot);
        self.pending_snapshot = snapshot_idx;
    }

    /// The follower acknowledged entries up to `n` (§5.3). Returns whether
    /// `matched` moved; an older acknowledgement arriving late does not move
    /// it back. Any acknowledgement answers the outstanding probe.
    pub fn maybe_update(&mut self, n: Index) -> bool {
        let updated = self.matched < n;
        if updated {
            self.matched = n;
            self.probe_sent = false;
        }
        self.next_idx = self.next_idx.max(n + 1);
        updated
    }

    /// Entries up to `n` were just sent in Replicate state: assume they will
    /// arrive and send from `n + 1` next, without waiting.
    pub fn optimistic_update(&mut self, n: Index) {
        self.next_idx = n + 1;
    }

    /// The follower rejected a `MsgApp` whose previous entry was `rejected`,
    /// and says its own log ends at `match_hint` (§5.3: "decrement nextIndex
    /// and retry"). Returns false when the rejection is stale (it answers a
    /// message other than the latest) and changes nothing.
    ///
    /// In Replicate state a rejection at or below `matched` is stale: those
    /// entries were already acknowledged. Otherwise the stream went wrong
    /// somewhere past `matched`, so sending restarts there.
    ///
    /// In Probe state only one `MsgApp` is out, the one at `next_idx - 1`;
    /// any other rejection is stale. The next probe jumps to the follower's
    /// hint rather than stepping back one entry at a time:
    ///
    /// ```text
    ///   leader    1 2 3 4 5 6 7 8     probe with prev = 7 (next_idx = 8)
    ///   follower  1 2 3               rejects 7, match_hint = 3
    ///   next_idx = max(min(7, 3 + 1), 1) = 4
    /// ```
    ///
    /// As in etcd v3.5, the hint is trusted even if it lies below `matched`
    /// (a late rejection from before the follower caught up); the probe at
    /// that lower index is then simply accepted.
    pub fn maybe_decr_to(&mut self, rejected: Index, match_hint: Index) -> bool {
        if self.state == ProgressState::Replicate {
            if rejected <= self.matched {
                return false;
            }
            self.next_idx = self.matched + 1;
            return true;
        }
        if self.next_idx.checked_sub(1) != Some(rejected) {
            return false;
        }
        self.next_idx = rejected.min(match_hint + 1).max(1);
        self.probe_sent = false;
        true
    }

    /// Whether the leader must hold back `MsgApp`s to this follower: a probe
    /// is awaiting its answer, the in-flight window is full, or a snapshot is
    /// being sent.
    pub fn is_paused(&self) -> bool {
        match self.state {
            ProgressState::Probe => self.probe_sent,
            ProgressState::Replicate => self.inflights.full(),
            ProgressState::Snapshot => true,
        }
    }
}

impl fmt::Display for Progress {
    /// One line, with only the flags that are set:
    /// `StateReplicate match=5 next=6 inflight=2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} match={} next={}",
            self.state, self.matched, self.next_idx
        )?;
        if self.is_learner {
            f.write_str(" learner")?;
        }
        if self.is_paused() {
            f.write_str(" paused")?;
        }
        if self.pending_snapshot > 0 {
            write!(f, " pending_snapshot={}", self.pending_snapshot)?;
        }
        if !self.recent_active {
            f.write_str(" inactive")?;
        }
        let n = self.inflights.count();
        if n > 0 {
            write!(f, " inflight={n}")?;
            if self.inflights.full() {
                f.write_str("[full]")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProgressState::*;

    fn progress(state: ProgressState, matched: Index, next_idx: Index) -> Progress {
        let mut pr = Progress::new(next_idx, 256);
        pr.state = state;
        pr.matched = matched;
        pr
    }

    #[test]
    fn new_progress_probes() {
        let pr = Progress::new(7, 4);
        assert_eq!((pr.state, pr.matched, pr.next_idx), (Probe, 0, 7));
        assert_eq!(pr.inflights.cap(), 4);
        assert!(!pr.is_paused());
    }

    #[test]
    fn become_probe_restarts_after_what_the_follower_holds() {
        // Each row: state, matched, next_idx, pending snapshot → next_idx.
        let cases = [
            (Replicate, 1, 5, 0, 2),
            (Probe, 3, 3, 0, 4),
            (Snapshot, 1, 5, 10, 11),   // past the snapshot the follower got
            (Snapshot, 12, 13, 10, 13), // past an append acked since
        ];
        for (i, (state, matched, next_idx, snap, want)) in cases.into_iter().enumerate() {
            let mut pr = progress(state, matched, next_idx);
            pr.pending_snapshot = snap;
            pr.probe_sent = true;
            pr.become_probe();
            assert_eq!(pr.state, Probe, "case #{i}");
            assert_eq!(
                pr.next_idx, want,
                "case #{i} ({state:?} match={matched}): next"
            );
            assert_eq!(pr.matched, matched, "case #{i}: matched must not change");
            assert_eq!(
                (pr.pending_snapshot, pr.probe_sent),
                (0, false),
                "case #{i}"
            );
        }
    }

    #[test]
    fn become_replicate_streams_from_matched() {
        let mut pr = progress(Probe, 1, 5);
        pr.probe_sent = true;
        pr.become_replicate();
        assert_eq!(
            (pr.state, pr.matched, pr.next_idx, pr.probe_sent),
            (Replicate, 1, 2, false)
        );
    }

    #[test]
    fn become_snapshot_records_the_snapshot() {
        let mut pr = progress(Replicate, 1, 5);
        pr.inflights.add(4);
        pr.become_snapshot(10);
        assert_eq!(
            (pr.state, pr.matched, pr.pending_snapshot),
            (Snapshot, 1, 10)
        );
        assert_eq!(
            pr.inflights.count(),
            0,
            "leaving Replicate forgets the in-flight window"
        );
    }

    #[test]
    fn maybe_update_only_moves_forward() {
        // Each row: the acknowledged index → whether matched moved, matched,
        // next_idx, starting from matched 3 and next_idx 5.
        let cases = [
            (2, false, 3, 5), // older than matched: nothing moves
            (3, false, 3, 5), // the same acknowledgement again
            (4, true, 4, 5),  // below next_idx: next stays
            (5, true, 5, 6),  // at next_idx: next follows
            (9, true, 9, 10), // beyond what was sent (after a leader change)
        ];
        for (i, (n, moved, matched, next_idx)) in cases.into_iter().enumerate() {
            let mut pr = progress(Probe, 3, 5);
            pr.probe_sent = true;
            assert_eq!(pr.maybe_update(n), moved, "case #{i} (ack {n}): moved");
            assert_eq!(
                (pr.matched, pr.next_idx),
                (matched, next_idx),
                "case #{i} (ack {n})"
            );
            assert_eq!(
                pr.probe_sent, !moved,
                "case #{i}: probe answered iff matched moved"
            );
        }
    }

    #[test]
    fn optimistic_update_sets_next() {
        let mut pr = progress(Replicate, 3, 5);
        pr.optimistic_update(9);
        assert_eq!((pr.matched, pr.next_idx), (3, 10));
    }

    #[test]
    fn maybe_decr_to_in_replicate() {
        // Each row: matched, next_idx, rejected, hint → decremented, next_idx.
        let cases = [
            (5, 10, 5, 5, false, 10), // rejected == matched: stale
            (5, 10, 4, 4, false, 10), // rejected < matched: stale
            (5, 10, 9, 9, true, 6),   // restart right after matched
            (5, 10, 6, 2, true, 6),   // the hint plays no part here
            (0, 1, 0, 0, false, 1),   // nothing acked, index 0 can't be rejected
        ];
        for (i, (matched, next_idx, rejected, hint, want, want_next)) in
            cases.into_iter().enumerate()
        {
            let mut pr = progress(Replicate, matched, next_idx);
            let got = pr.maybe_decr_to(rejected, hint);
            assert_eq!(
                got, want,
                "case #{i} (match={matched} next={next_idx}, reject {rejected} hint {hint}): decremented"
            );
            assert_eq!(pr.next_idx, want_next, "case #{i}: next_idx");
            assert_eq!(pr.matched, matched, "case #{i}: matched must not change");
        }
    }

    #[test]
    fn maybe_decr_to_in_probe() {
        // Each row: matched, next_idx, rejected, hint → decremented, next_idx.
        let cases = [
            (0, 10, 5, 5, false, 10),   // not the probe just sent (next - 1 = 9): stale
            (0, 10, 10, 10, false, 10), // beyond the probe: stale
            (0, 10, 9, 9, true, 9),     // the hint is no help: step back one
            (0, 10, 9, 3, true, 4),     // jump to just past the follower's log
            (0, 10, 9, 0, true, 1),     // the follower's log is empty
            (0, 2, 1, 0, true, 1),      // never below 1
            (0, 10, 9, 20, true, 9),    // a hint past rejected never moves next up
            (5, 10, 9, 2, true, 3),     // v3.5: a hint below matched is trusted
        ];
        for (i, (matched, next_idx, rejected, hint, want, want_next)) in
            cases.into_iter().enumerate()
        {
            let mut pr = progress(Probe, matched, next_idx);
            pr.probe_sent = true;
            let got = pr.maybe_decr_to(rejected, hint);
            assert_eq!(
                got, want,
                "case #{i} (match={matched} next={next_idx}, reject {rejected} hint {hint}): decremented"
            );
            assert_eq!(pr.next_idx, want_next, "case #{i}: next_idx");
            assert_eq!(
                pr.probe_sent, !want,
                "case #{i}: a counted rejection answers the probe"
            );
        }
    }

    #[test]
    fn is_paused_per_state() {
        // Probe pauses on an outstanding probe, Replicate on a full window,
        // Snapshot always.
        let cases = [
            (Probe, false, 0, false),
            (Probe, true, 0, true),
            (Replicate, false, 0, false),
            (Replicate, false, 1, false),
            (Replicate, false, 2, true),
            (Snapshot, false, 0, true),
        ];
        for (i, (state, probe_sent, inflight, want)) in cases.into_iter().enumerate() {
            let mut pr = Progress::new(1, 2);
            pr.state = state;
            pr.probe_sent = probe_sent;
            for k in 1..=inflight {
                pr.inflights.add(k);
            }
            assert_eq!(
                pr.is_paused(),
                want,
                "case #{i} ({state:?}, probe_sent={probe_sent}, {inflight}/2 inflight): paused"
            );
        }
    }

    #[test]
    fn display_shows_state_and_set_flags() {
        let mut pr = progress(Replicate, 5, 6);
        pr.recent_active = true;
        pr.inflights.add(5);
        pr.inflights.add(6);
        assert_eq!(pr.to_string(), "StateReplicate match=5 next=6 inflight=2");

        let mut pr = progress(Probe, 0, 1);
        pr.is_learner = true;
        pr.become_snapshot(8);
        assert_eq!(
            pr.to_string(),
            "StateSnapshot match=0 next=1 learner paused pending_snapshot=8 inactive"
        );

        let mut pr = Progress::new(1, 1);
        pr.recent_active = true;
        pr.become_replicate();
        pr.inflights.add(1);
        assert_eq!(
            pr.to_string(),
            "StateReplicate match=0 next=1 paused inflight=1[full]"
        );
    }
}
