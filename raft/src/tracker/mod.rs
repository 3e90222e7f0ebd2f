//! The leader's bookkeeping about the cluster: who is a member, how far each
//! member's log matches, and, during an election, who voted how.
//!
//! A tour:
//!
//! - [`ProgressTracker`] holds the membership (voters and learners), one
//!   [`Progress`] per member, and the votes of the current election. It
//!   answers the two majority questions through [`crate::quorum`]: which
//!   index is committed ([`ProgressTracker::committed`]) and whether an
//!   election is won ([`ProgressTracker::tally_votes`]).
//! - [`Progress`] is what the leader knows about one follower: `matched` and
//!   `next_idx` (the paper's matchIndex and nextIndex, §5.3), and whether it
//!   is probing, replicating or sending a snapshot ([`ProgressState`]).
//! - [`Inflights`] bounds how many appends may be unacknowledged at once.
//!
//! Left out: joint consensus. Membership changes one node at a time
//! ([`ProgressTracker::add_voter`], [`ProgressTracker::add_learner`],
//! [`ProgressTracker::remove`]), so there is only ever one voter set.

mod inflights;
mod progress;

use std::collections::{BTreeMap, BTreeSet};

pub use inflights::Inflights;
pub use progress::{Progress, ProgressState};

use crate::errors::{Error, Result};
use crate::quorum::{self, VoteResult};
use crate::types::{ConfState, Index, NONE, NodeId};

/// Membership, per-member progress and election votes. Everything is kept in
/// ordered collections, so iterating visits members in id order and a run is
/// reproducible.
#[derive(Clone, Debug)]
pub struct ProgressTracker {
    /// The members whose votes and acknowledgements count; disjoint from
    /// `learners`.
    pub voters: BTreeSet<NodeId>,
    /// The members that receive the log but do not vote; disjoint from
    /// `voters`.
    pub learners: BTreeSet<NodeId>,
    /// One entry per member: its keys are exactly `voters ∪ learners`, and
    /// `is_learner` is set exactly for the ids in `learners`.
    pub progress: BTreeMap<NodeId, Progress>,
    /// The current election's votes, id → granted. Only a node's first vote
    /// is kept; ids outside `voters` may appear and are never counted.
    pub votes: BTreeMap<NodeId, bool>,
    /// The in-flight window given to each new member's progress; at least 1.
    pub max_inflight: usize,
}

impl ProgressTracker {
    /// An empty cluster whose members will each have `max_inflight` appends
    /// in flight at most.
    pub fn new(max_inflight: usize) -> ProgressTracker {
        ProgressTracker {
            voters: BTreeSet::new(),
            learners: BTreeSet::new(),
            progress: BTreeMap::new(),
            votes: BTreeMap::new(),
            max_inflight,
        }
    }

    /// The membership, as stored in snapshots: ids in increasing order.
    pub fn conf_state(&self) -> ConfState {
        ConfState {
            voters: self.voter_nodes(),
            learners: self.learner_nodes(),
        }
    }

    /// Whether this is a one-voter cluster: that voter alone is a majority,
    /// so it can elect itself and commit without asking anyone.
    pub fn is_singleton(&self) -> bool {
        self.voters.len() == 1
    }

    /// The largest index stored on a majority of voters (§5.3). The leader
    /// may commit it only if it is from the leader's current term (§5.4.2);
    /// that check belongs to the caller.
    pub fn committed(&self) -> Index {
        quorum::committed_index(&self.voters, |id| {
            self.progress.get(&id).map(|pr| pr.matched)
        })
    }

    /// Whether a majority of voters were heard from recently. A leader that
    /// has lost touch with a majority steps down (check-quorum), since it can
    /// no longer commit anything.
    pub fn quorum_active(&self) -> bool {
        let active: BTreeMap<NodeId, bool> = self
            .voters
            .iter()
            .filter_map(|&id| self.progress.get(&id).map(|pr| (id, pr.recent_active)))
            .collect();
        quorum::vote_result(&self.voters, &active) == VoteResult::Won
    }

    /// The voters' ids, in increasing order.
    pub fn voter_nodes(&self) -> Vec<NodeId> {
        self.voters.iter().copied().collect()
    }

    /// The learners' ids, in increasing order.
    pub fn learner_nodes(&self) -> Vec<NodeId> {
        self.learners.iter().copied().collect()
    }

    /// Forgets the votes of the previous election.
    pub fn reset_votes(&mut self) {
        self.votes.clear();
    }

    /// Records node `id`'s answer to this election. Only its first answer
    /// counts: a node votes at most once per term (§5.2), so a second answer
    /// is a duplicate delivery and must not change the tally.
    pub fn record_vote(&mut self, id: NodeId, granted: bool) {
        self.votes.entry(id).or_insert(granted);
    }

    /// How many voters granted and rejected their vote, and where the
    /// election stands (§5.2: won with votes from a majority). Votes of
    /// non-voters are in neither count.
    pub fn tally_votes(&self) -> (usize, usize, VoteResult) {
        let (mut granted, mut rejected) = (0, 0);
        for id in &self.voters {
            match self.votes.get(id) {
                Some(true) => granted += 1,
                Some(false) => rejected += 1,
                None => {}
            }
        }
        (
            granted,
            rejected,
            quorum::vote_result(&self.voters, &self.votes),
        )
    }

    /// Member `id`'s progress, if `id` is a member.
    pub fn get(&self, id: NodeId) -> Option<&Progress> {
        self.progress.get(&id)
    }

    /// Member `id`'s progress, mutably, if `id` is a member.
    pub fn get_mut(&mut self, id: NodeId) -> Option<&mut Progress> {
        self.progress.get_mut(&id)
    }

    /// Makes `id` a voter. A new member gets a fresh progress starting at
    /// `next_idx`; a learner is promoted and keeps its progress (what it has
    /// replicated is still there); a voter stays as it is.
    pub fn add_voter(&mut self, id: NodeId, next_idx: Index) -> Result<()> {
        check_id(id)?;
        if self.voters.contains(&id) {
            return Ok(());
        }
        if self.learners.remove(&id) {
            let pr = self.progress.get_mut(&id).unwrap_or_else(|| {
                panic!("learner {id} has no progress: voters ∪ learners must match progress")
            });
            pr.is_learner = false;
        } else {
            self.progress.insert(id, self.new_progress(next_idx, false));
        }
        self.voters.insert(id);
        Ok(())
    }

    /// Makes `id` a learner. A new member gets a fresh progress starting at
    /// `next_idx`; a learner stays as it is. A voter cannot become a learner
    /// in one step: it would leave the voter set, and with it a majority,
    /// while still counted for one, which needs joint consensus (left out).
    pub fn add_learner(&mut self, id: NodeId, next_idx: Index) -> Result<()> {
        check_id(id)?;
        if self.voters.contains(&id) {
            return Err(Error::ConfChange(format!(
                "cannot demote voter {id} to learner in a single step"
            )));
        }
        if self.learners.contains(&id) {
            return Ok(());
        }
        self.progress.insert(id, self.new_progress(next_idx, true));
        self.learners.insert(id);
        Ok(())
    }

    /// Removes `id` from the cluster: from the voters or learners, its
    /// progress and its vote. Removing a non-member does nothing.
    pub fn remove(&mut self, id: NodeId) {
        self.voters.remove(&id);
        self.learners.remove(&id);
        self.progress.remove(&id);
        self.votes.remove(&id);
    }

    /// A progress for a member just added. It counts as recently active, so
    /// that a check-quorum right after the change does not count it against
    /// the leader before it had a chance to answer.
    fn new_progress(&self, next_idx: Index, is_learner: bool) -> Progress {
        let mut pr = Progress::new(next_idx, self.max_inflight);
        pr.recent_active = true;
        pr.is_learner = is_learner;
        pr
    }
}

/// Rejects the reserved id [`NONE`], which means "no node" in votes and
/// leader fields and so can never be a member.
fn check_id(id: NodeId) -> Result<()> {
    if id == NONE {
        return Err(Error::ConfChange(format!(
            "node id {NONE} is reserved for no node"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tracker with voters `voters` and learners `learners`, every progress
    /// starting at index 1.
    fn tracker(voters: &[NodeId], learners: &[NodeId]) -> ProgressTracker {
        let mut t = ProgressTracker::new(16);
        for &id in voters {
            t.add_voter(id, 1).unwrap();
        }
        for &id in learners {
            t.add_learner(id, 1).unwrap();
        }
        t
    }

    #[test]
    fn committed_counts_voters_only() {
        // Learners replicate but do not count towards a majority (§5.3).
        let mut t = tracker(&[1, 2, 3], &[4, 5]);
        for (id, matched) in [(1, 9), (2, 4), (3, 2), (4, 9), (5, 9)] {
            t.get_mut(id).unwrap().matched = matched;
        }
        assert_eq!(t.committed(), 4);
        t.get_mut(3).unwrap().matched = 9;
        assert_eq!(t.committed(), 9);
    }

    #[test]
    fn record_vote_keeps_the_first_vote() {
        // A duplicated or changed answer from the same node must not change
        // the tally: one vote per node per term (§5.2).
        let mut t = tracker(&[1, 2, 3], &[]);
        t.record_vote(2, false);
        t.record_vote(2, true);
        assert_eq!(t.tally_votes(), (0, 1, VoteResult::Pending));
        t.record_vote(1, true);
        t.record_vote(1, true);
        assert_eq!(t.tally_votes(), (1, 1, VoteResult::Pending));
        t.record_vote(3, true);
        assert_eq!(t.tally_votes(), (2, 1, VoteResult::Won));
        t.reset_votes();
        assert_eq!(t.tally_votes(), (0, 0, VoteResult::Pending));
    }

    /// One row of `tally_votes_over_cluster_sizes`: voter count, the votes
    /// cast, and the expected tally.
    type TallyCase = (usize, &'static [(NodeId, bool)], (usize, usize, VoteResult));

    #[test]
    fn tally_votes_over_cluster_sizes() {
        // Each row: voters, votes cast (id, granted) → granted, rejected,
        // result. Learner 9 votes in every row and is never counted.
        use VoteResult::*;
        let cases: &[TallyCase] = &[
            (1, &[], (0, 0, Pending)),
            (1, &[(1, true)], (1, 0, Won)),
            (3, &[(1, true)], (1, 0, Pending)),
            (3, &[(1, true), (2, false)], (1, 1, Pending)),
            (3, &[(1, true), (2, false), (3, false)], (1, 2, Lost)),
            (3, &[(1, true), (3, true)], (2, 0, Won)),
            (4, &[(1, true), (2, true), (3, false)], (2, 1, Pending)),
            (4, &[(1, true), (2, false), (3, false)], (1, 2, Lost)),
            (
                5,
                &[(1, true), (2, true), (3, false), (4, false)],
                (2, 2, Pending),
            ),
            (5, &[(1, true), (2, true), (5, true)], (3, 0, Won)),
        ];
        for (i, (n, votes, want)) in cases.iter().enumerate() {
            let voters: Vec<NodeId> = (1..=*n as NodeId).collect();
            let mut t = tracker(&voters, &[9]);
            t.record_vote(9, true);
            for &(id, granted) in votes.iter() {
                t.record_vote(id, granted);
            }
            let got = t.tally_votes();
            assert_eq!(got, *want, "case #{i} ({n} nodes, votes {votes:?}): tally");
        }
    }

    #[test]
    fn quorum_active_needs_a_majority_of_active_voters() {
        // Each row: voters, which voters were recently active → active quorum.
        // Learner 9 is always active and never helps.
        let cases: &[(usize, &[NodeId], bool)] = &[
            (1, &[1], true),
            (1, &[], false),
            (3, &[1], false),
            (3, &[1, 3], true),
            (4, &[1, 2], false),
            (4, &[1, 2, 4], true),
            (5, &[2, 4], false),
            (5, &[2, 4, 5], true),
        ];
        for (i, (n, active, want)) in cases.iter().enumerate() {
            let voters: Vec<NodeId> = (1..=*n as NodeId).collect();
            let mut t = tracker(&voters, &[9]);
            for (id, pr) in t.progress.iter_mut() {
                pr.recent_active = active.contains(id) || *id == 9;
            }
            assert_eq!(
                t.quorum_active(),
                *want,
                "case #{i} ({n} voters, active {active:?}): quorum active"
            );
        }
    }

    #[test]
    fn new_members_count_as_active() {
        // Right after a change, check-quorum must not count the new member
        // as silent.
        let t = tracker(&[1, 2, 3], &[]);
        assert!(t.quorum_active());
    }

    #[test]
    fn conf_state_is_sorted() {
        // Snapshots must not depend on the order members were added in.
        let t = tracker(&[5, 1, 3], &[8, 4]);
        let cs = t.conf_state();
        assert_eq!(cs.voters, vec![1, 3, 5]);
        assert_eq!(cs.learners, vec![4, 8]);
        assert_eq!(
            t.progress.keys().copied().collect::<Vec<_>>(),
            vec![1, 3, 4, 5, 8]
        );
    }

    #[test]
    fn is_singleton_means_one_voter() {
        assert!(!tracker(&[], &[]).is_singleton());
        assert!(tracker(&[1], &[]).is_singleton());
        assert!(
            tracker(&[1], &[2]).is_singleton(),
            "a learner does not vote"
        );
        assert!(!tracker(&[1, 2], &[]).is_singleton());
    }

    #[test]
    fn add_voter_creates_a_fresh_progress() {
        let mut t = ProgressTracker::new(4);
        t.add_voter(2, 7).unwrap();
        let pr = t.get(2).unwrap();
        assert_eq!(
            (pr.state, pr.matched, pr.next_idx),
            (ProgressState::Probe, 0, 7)
        );
        assert_eq!(pr.inflights.cap(), 4);
        assert!(!pr.is_learner);
        assert!(t.get(3).is_none());
    }

    #[test]
    fn adding_an_existing_member_in_its_role_changes_nothing() {
        // A repeated change (a re-applied entry) must not reset the progress.
        let mut t = tracker(&[1], &[2]);
        t.get_mut(1).unwrap().matched = 5;
        t.get_mut(2).unwrap().matched = 6;
        let before = t.clone();
        t.add_voter(1, 100).unwrap();
        t.add_learner(2, 100).unwrap();
        assert_eq!(t.progress, before.progress);
        assert_eq!((t.voters, t.learners), (before.voters, before.learners));
    }

    #[test]
    fn promoting_a_learner_keeps_its_progress() {
        // What the learner replicated is still on its disk.
        let mut t = tracker(&[1], &[2]);
        t.get_mut(2).unwrap().maybe_update(5);
        t.add_voter(2, 100).unwrap();
        assert_eq!(t.voter_nodes(), vec![1, 2]);
        assert!(t.learner_nodes().is_empty());
        let pr = t.get(2).unwrap();
        assert!(!pr.is_learner);
        assert_eq!((pr.matched, pr.next_idx), (5, 6));
    }

    #[test]
    fn demoting_a_voter_is_an_error() {
        let mut t = tracker(&[1, 2], &[]);
        match t.add_learner(2, 1) {
            Err(Error::ConfChange(msg)) => assert!(msg.contains("voter 2"), "message {msg:?}"),
            other => panic!("add_learner(voter 2) = {other:?}, want Err(ConfChange)"),
        }
        assert_eq!(
            t.voter_nodes(),
            vec![1, 2],
            "a failed change must change nothing"
        );
        assert!(t.learners.is_empty());
        assert!(!t.get(2).unwrap().is_learner);
    }

    #[test]
    fn node_zero_cannot_join() {
        // Id 0 means "no node"; as a member it would be confused with none.
        let mut t = ProgressTracker::new(4);
        assert!(matches!(t.add_voter(NONE, 1), Err(Error::ConfChange(_))));
        assert!(matches!(t.add_learner(NONE, 1), Err(Error::ConfChange(_))));
        assert!(t.progress.is_empty());
    }

    #[test]
    fn remove_forgets_the_member_everywhere() {
        let mut t = tracker(&[1, 2, 3], &[4]);
        t.record_vote(3, true);
        t.remove(3);
        t.remove(4);
        t.remove(7); // not a member: nothing happens
        assert_eq!(t.voter_nodes(), vec![1, 2]);
        assert!(t.learner_nodes().is_empty());
        assert_eq!(t.progress.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert!(t.votes.is_empty());
        // With voter 3 gone, two voters need both to commit.
        t.get_mut(1).unwrap().matched = 4;
        assert_eq!(t.committed(), 0);
    }
}
