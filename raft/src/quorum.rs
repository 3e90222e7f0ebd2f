//! Majority quorums: which index a majority has acknowledged, and whether an
//! election is won.
//!
//! Raft decides two things by majority: an entry is committed once a majority
//! of voters store it (§5.3, §5.4.2), and a candidate becomes leader once a
//! majority of voters grant it their vote (§5.2). Both are answered here, for
//! one set of voters. Joint consensus (two sets at once, §6 of the Raft
//! thesis) is left out: RaftLab changes membership one node at a time.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::{Index, NodeId};

/// Where an election stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteResult {
    /// Neither outcome is settled: enough voters have yet to answer that
    /// either could still happen.
    Pending,
    /// So many voters rejected that a majority can no longer be reached.
    Lost,
    /// A majority granted the vote.
    Won,
}

/// How many voters out of `n` make a majority: more than half.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// Voter sets up to this size are sorted on the stack; larger ones allocate.
/// Seven covers every cluster a lab builds.
const STACK_VOTERS: usize = 7;

/// The largest index acknowledged by a majority of `voters` (§5.3: a leader
/// commits an entry once it is stored on a majority). `acked(id)` gives what
/// voter `id` has acknowledged; `None` counts as 0.
///
/// With the acknowledged indexes sorted in descending order, the answer is the
/// one at position `majority - 1`: that many voters (a majority) have
/// acknowledged at least it, and no larger index has as many.
///
/// An empty voter set returns `u64::MAX`. A joint configuration takes the
/// minimum over its two halves, so an empty half must never be the smaller
/// one; with no joint consensus here the caller always has voters, and the
/// value only keeps the function total.
pub fn committed_index(
    voters: &BTreeSet<NodeId>,
    acked: impl Fn(NodeId) -> Option<Index>,
) -> Index {
    let n = voters.len();
    if n == 0 {
        return u64::MAX;
    }
    let mut stack = [0u64; STACK_VOTERS];
    let mut heap = Vec::new();
    let indexes: &mut [u64] = if n <= STACK_VOTERS {
        &mut stack[..n]
    } else {
        heap.resize(n, 0);
        &mut heap
    };
    for (slot, &id) in indexes.iter_mut().zip(voters) {
        *slot = acked(id).unwrap_or(0);
    }
    indexes.sort_unstable_by(|a, b| b.cmp(a));
    indexes[majority(n) - 1]
}

/// Tallies `votes` (voter id → granted) over `voters`: `Won` once a majority
/// granted, `Lost` once too many rejected for a majority to remain possible,
/// `Pending` otherwise (§5.2). Votes from ids outside `voters` do not count.
/// An empty voter set has nobody to ask and is `Won`.
pub fn vote_result(voters: &BTreeSet<NodeId>, votes: &BTreeMap<NodeId, bool>) -> VoteResult {
    if voters.is_empty() {
        return VoteResult::Won;
    }
    let (mut granted, mut missing) = (0, 0);
    for id in voters {
        match votes.get(id) {
            Some(true) => granted += 1,
            Some(false) => {}
            None => missing += 1,
        }
    }
    let needed = majority(voters.len());
    if granted >= needed {
        VoteResult::Won
    } else if granted + missing >= needed {
        VoteResult::Pending
    } else {
        VoteResult::Lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u64) -> BTreeSet<NodeId> {
        (1..=n).collect()
    }

    #[test]
    fn majority_is_more_than_half() {
        let want = [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 2),
            (4, 3),
            (5, 3),
            (6, 4),
            (7, 4),
        ];
        for (n, m) in want {
            assert_eq!(majority(n), m, "majority({n})");
        }
    }

    #[test]
    fn committed_index_is_the_majority_acknowledged_index() {
        // Each row: the acknowledged index of voters 1..=n (0 = never
        // acknowledged), and the index a majority has reached.
        let cases: &[(&[u64], u64)] = &[
            (&[0], 0),
            (&[5], 5),
            (&[5, 0], 0),
            (&[5, 4], 4),
            (&[5, 5], 5),
            (&[0, 0, 0], 0),
            (&[5, 0, 0], 0),
            (&[5, 4, 0], 4),
            (&[5, 4, 3], 4),
            (&[2, 9, 9], 9),
            (&[5, 5, 0, 0], 0),
            (&[5, 5, 5, 0], 5),
            (&[1, 2, 3, 4], 2),
            (&[4, 3, 2, 1], 2),
            (&[5, 4, 3, 2, 1], 3),
            (&[1, 1, 7, 7, 0], 1),
            (&[0, 0, 7, 7, 7], 7),
            (&[9, 9, 0, 0, 0], 0),
            (&[10, 20, 30, 40, 50, 60, 70], 40),
            // Past the stack buffer: nine voters, majority five.
            (&[9, 8, 7, 6, 5, 4, 3, 2, 1], 5),
        ];
        for (i, (acked, want)) in cases.iter().enumerate() {
            let voters = ids(acked.len() as u64);
            let got = committed_index(&voters, |id| Some(acked[id as usize - 1]));
            assert_eq!(
                got,
                *want,
                "case #{i} ({} voters, acked {acked:?})",
                acked.len()
            );
        }
    }

    #[test]
    fn committed_index_counts_unknown_voters_as_zero() {
        // A voter with no acknowledgement at all holds the index back like 0.
        let voters = ids(3);
        let acked = |id| if id == 3 { None } else { Some(7) };
        assert_eq!(committed_index(&voters, acked), 7);
        let acked = |id| if id == 1 { Some(7) } else { None };
        assert_eq!(committed_index(&voters, acked), 0);
    }

    #[test]
    fn committed_index_of_no_voters_never_limits() {
        // An empty set must not hold back the other half of a joint config.
        assert_eq!(committed_index(&BTreeSet::new(), |_| Some(3)), u64::MAX);
    }

    #[test]
    fn vote_result_needs_a_majority() {
        // Each row: the votes of voters 1..=n (None = not answered yet), and
        // the outcome (§5.2: a candidate wins with votes from a majority).
        use VoteResult::*;
        let (y, n, u) = (Some(true), Some(false), None);
        let cases: &[(&[Option<bool>], VoteResult)] = &[
            (&[u], Pending),
            (&[y], Won),
            (&[n], Lost),
            (&[y, u], Pending),
            (&[y, y], Won),
            (&[y, n], Lost),
            (&[u, n], Lost),
            (&[y, u, u], Pending),
            (&[y, y, u], Won),
            (&[y, n, u], Pending),
            (&[y, n, n], Lost),
            (&[n, n, u], Lost),
            (&[y, y, n], Won),
            (&[y, u, u, u], Pending),
            (&[y, y, n, u], Pending),
            (&[y, y, n, n], Lost),
            (&[y, y, y, n], Won),
            (&[y, u, u, u, u], Pending),
            (&[y, y, u, u, u], Pending),
            (&[y, y, y, u, u], Won),
            (&[y, y, n, n, u], Pending),
            (&[y, n, n, n, u], Lost),
            (&[y, y, n, n, n], Lost),
        ];
        for (i, (row, want)) in cases.iter().enumerate() {
            let voters = ids(row.len() as u64);
            let votes: BTreeMap<NodeId, bool> = row
                .iter()
                .enumerate()
                .filter_map(|(k, v)| v.map(|v| (k as NodeId + 1, v)))
                .collect();
            let got = vote_result(&voters, &votes);
            assert_eq!(
                got,
                *want,
                "case #{i} ({} nodes, votes {row:?}): result = {got:?}, want {want:?}",
                row.len()
            );
        }
    }

    #[test]
    fn vote_result_ignores_non_voters() {
        // Votes from nodes outside the voter set (learners, removed nodes)
        // never decide an election.
        let voters = ids(3);
        let votes = BTreeMap::from([(1, true), (4, true), (5, true)]);
        assert_eq!(vote_result(&voters, &votes), VoteResult::Pending);
    }

    #[test]
    fn vote_result_of_no_voters_is_won() {
        assert_eq!(
            vote_result(&BTreeSet::new(), &BTreeMap::new()),
            VoteResult::Won
        );
    }
}
