//! Flow control for one follower: the `MsgApp`s sent but not yet
//! acknowledged.

use crate::types::Index;

/// A bounded queue of the last entry index of each `MsgApp` in flight to one
/// follower, oldest first. A leader in Replicate state adds an index per
/// `MsgApp` it sends and frees the queue up to each index the follower
/// acknowledges; while the queue is full it stops sending, so a slow follower
/// cannot make the leader buffer without bound.
///
/// The queue is a ring over `buffer`. The buffer grows on demand up to `cap`
/// slots, so a large `cap` costs nothing for a follower that keeps up.
#[derive(Clone, Debug)]
pub struct Inflights {
    /// The slot of the oldest index in flight; always in [0, cap), and 0 when
    /// the queue is empty.
    start: usize,
    /// How many indexes are in flight; always in [0, cap].
    count: usize,
    /// The most indexes in flight at once; fixed, always at least 1.
    cap: usize,
    /// The ring's slots; `buffer.len()` is always in [0, cap]. Slot
    /// `(start + k) % cap` holds the k-th oldest index, for k in [0, count).
    buffer: Vec<Index>,
}

impl Inflights {
    /// An empty queue holding at most `cap` indexes.
    ///
    /// # Panics
    /// If `cap` is 0: such a follower could never be sent anything in
    /// Replicate state (`Config::validate` rejects it first).
    pub fn new(cap: usize) -> Inflights {
        assert!(cap > 0, "inflights capacity must be at least 1, got 0");
        Inflights {
            start: 0,
            count: 0,
            cap,
            buffer: Vec::new(),
        }
    }

    /// Records a `MsgApp` whose last entry is `inflight`. Indexes must be
    /// added in increasing order, since `free_to` frees from the oldest.
    ///
    /// # Panics
    /// If the queue is full: the caller must check [`Inflights::full`] (via
    /// `Progress::is_paused`) before sending.
    pub fn add(&mut self, inflight: Index) {
        assert!(
            !self.full(),
            "cannot add index {inflight}: all {} inflight slots are taken",
            self.cap
        );
        let slot = (self.start + self.count) % self.cap;
        // The occupied slots are all below `buffer.len()`, so the next free
        // slot is at most one past the end: either reuse it or grow by one.
        if slot == self.buffer.len() {
            self.buffer.push(inflight);
        } else {
            self.buffer[slot] = inflight;
        }
        self.count += 1;
    }

    /// Frees every index in flight that is `<= to`: the follower has
    /// acknowledged entries up to `to`, so those messages have arrived.
    pub fn free_to(&mut self, to: Index) {
        let mut freed = 0;
        let mut slot = self.start;
        // Bounded by `count`; stops at the first index still in flight.
        while freed < self.count && self.buffer[slot] <= to {
            freed += 1;
            slot = (slot + 1) % self.cap;
        }
        self.count -= freed;
        self.start = if self.count == 0 { 0 } else { slot };
    }

    /// Frees the oldest index in flight, if any. A heartbeat response shows
    /// the follower is reachable again, so one more message may go out.
    pub fn free_first_one(&mut self) {
        if self.count > 0 {
            self.free_to(self.buffer[self.start]);
        }
    }

    /// Whether no more messages may be sent until some are acknowledged.
    pub fn full(&self) -> bool {
        self.count == self.cap
    }

    /// How many messages are in flight.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The most messages that may be in flight at once.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Forgets every message in flight (the follower left Replicate state).
    pub fn reset(&mut self) {
        self.start = 0;
        self.count = 0;
    }

    /// The indexes in flight, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = Index> + '_ {
        (0..self.count).map(move |k| self.buffer[(self.start + k) % self.cap])
    }
}

/// Two queues are equal when they hold the same indexes in the same order
/// with the same capacity, wherever the ring happens to start.
impl PartialEq for Inflights {
    fn eq(&self, other: &Inflights) -> bool {
        self.cap == other.cap && self.count == other.count && self.iter().eq(other.iter())
    }
}

impl Eq for Inflights {}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_flight(inf: &Inflights) -> Vec<Index> {
        inf.iter().collect()
    }

    #[test]
    fn add_fills_in_order_until_full() {
        // Indexes queue up oldest first; the queue is full at `cap`.
        let mut inf = Inflights::new(10);
        for i in 0..5 {
            inf.add(i);
        }
        assert_eq!((inf.start, inf.count), (0, 5));
        assert_eq!(in_flight(&inf), vec![0, 1, 2, 3, 4]);
        assert!(!inf.full());
        for i in 5..10 {
            inf.add(i);
        }
        assert_eq!((inf.start, inf.count), (0, 10));
        assert!(inf.full());
        assert_eq!(inf.buffer, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn add_wraps_around_the_ring() {
        // Starting mid-ring, the sixth index lands in slot 0.
        let mut inf = Inflights::new(10);
        inf.buffer = vec![0; 10];
        inf.start = 5;
        for i in 0..5 {
            inf.add(i);
        }
        assert_eq!(inf.buffer, vec![0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
        for i in 5..10 {
            inf.add(i);
        }
        assert_eq!(inf.buffer, vec![5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
        assert_eq!((inf.start, inf.count), (5, 10));
        assert!(inf.full());
        assert_eq!(in_flight(&inf), (0..10).collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "all 3 inflight slots are taken")]
    fn add_to_a_full_queue_panics() {
        let mut inf = Inflights::new(3);
        for i in 1..=4 {
            inf.add(i);
        }
    }

    #[test]
    fn free_to_frees_every_index_up_to_to() {
        // Acknowledging index `to` frees every message ending at or before it.
        let mut inf = Inflights::new(10);
        for i in 0..10 {
            inf.add(i);
        }
        inf.free_to(4);
        assert_eq!((inf.start, inf.count), (5, 5));
        assert_eq!(in_flight(&inf), vec![5, 6, 7, 8, 9]);

        inf.free_to(8);
        assert_eq!((inf.start, inf.count), (9, 1));

        // Refill across the end of the ring, then free across it.
        for i in 10..15 {
            inf.add(i);
        }
        inf.free_to(12);
        assert_eq!((inf.start, inf.count), (3, 2));
        assert_eq!(in_flight(&inf), vec![13, 14]);

        inf.free_to(14);
        assert_eq!(
            (inf.start, inf.count),
            (0, 0),
            "an empty queue restarts at slot 0"
        );
    }

    #[test]
    fn free_to_below_the_oldest_frees_nothing() {
        // A stale acknowledgement (older than anything in flight) is a no-op.
        let mut inf = Inflights::new(4);
        inf.add(5);
        inf.add(7);
        inf.free_to(4);
        assert_eq!(in_flight(&inf), vec![5, 7]);
        let mut empty = Inflights::new(4);
        empty.free_to(100);
        assert_eq!((empty.start, empty.count), (0, 0));
    }

    #[test]
    fn free_first_one_frees_only_the_oldest() {
        let mut inf = Inflights::new(10);
        for i in 0..10 {
            inf.add(i);
        }
        inf.free_first_one();
        assert_eq!((inf.start, inf.count), (1, 9));
        assert!(!inf.full());
        let mut empty = Inflights::new(2);
        empty.free_first_one();
        assert_eq!(empty.count(), 0);
    }

    #[test]
    fn buffer_grows_only_as_needed() {
        // A follower that keeps up never makes the ring grow past its use.
        let mut inf = Inflights::new(256);
        for i in 1..=100 {
            inf.add(i);
            inf.free_to(i);
        }
        assert_eq!(inf.buffer.len(), 1);
        assert_eq!(inf.cap(), 256);
    }

    #[test]
    fn reset_empties_the_queue() {
        let mut inf = Inflights::new(3);
        for i in 1..=3 {
            inf.add(i);
        }
        inf.reset();
        assert_eq!(inf.count(), 0);
        assert!(!inf.full());
        inf.add(9);
        assert_eq!(in_flight(&inf), vec![9]);
    }

    #[test]
    fn equality_ignores_where_the_ring_starts() {
        let mut a = Inflights::new(3);
        let mut b = Inflights::new(3);
        for i in 1..=3 {
            a.add(i);
        }
        a.free_to(2);
        a.add(4);
        b.add(3);
        b.add(4);
        assert_ne!(a.start, b.start);
        assert_eq!(a, b);
        b.add(5);
        assert_ne!(a, b);
    }
}
