//! What the grader sees of a node: everything a step could change, as plain
//! data.
//!
//! The grader never links the code it judges. A node runs in another
//! process (the *host*), which reports these views; every expectation is
//! checked against them here.

use std::collections::BTreeMap;
use std::fmt;

use raftpb::{Entry, HardState, Index, Message, NodeId, ReadState, Snapshot, StateType, Term};

/// A leader's view of one follower's log (etcd's `Progress`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProgressView {
    /// The highest index known to match the leader's log.
    pub matched: Index,
    /// The next index to send.
    pub next_idx: Index,
    pub state: ProgressState,
    /// The index of the snapshot being sent, in `Snapshot` state.
    pub pending_snapshot: Index,
    /// Heard from since the last quorum check.
    pub recent_active: bool,
    /// In `Probe` state: an append was sent and no answer came yet.
    pub probe_sent: bool,
    /// The last index of every append in flight, oldest first.
    pub inflights: Vec<Index>,
    pub is_learner: bool,
}

/// How a leader replicates to one follower (etcd's `StateProbe`,
/// `StateReplicate`, `StateSnapshot`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProgressState {
    #[default]
    Probe,
    Replicate,
    Snapshot,
}

/// A node's log as the grader sees it: every entry from the first index
/// on, the stable ones and the unstable tail alike.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LogView {
    /// The first index the log holds (after a snapshot: the one after it).
    pub first_index: Index,
    /// The entries `first_index..`, oldest first.
    pub entries: Vec<Entry>,
    pub committed: Index,
    pub applied: Index,
    /// Entries up to here are in storage; the rest are not persisted yet.
    pub stabled: Index,
    /// A snapshot received but not yet persisted: its index and term.
    pub pending_snapshot: Option<(Index, Term)>,
}

impl LogView {
    /// The index of the last entry (the snapshot's index for an empty log).
    pub fn last_index(&self) -> Index {
        self.first_index + self.entries.len() as u64 - 1
    }

    /// The term of the last entry, 0 for an empty log.
    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// The terms of every entry, oldest first.
    pub fn terms(&self) -> Vec<Term> {
        self.entries.iter().map(|e| e.term).collect()
    }
}

/// Everything observable of one node between two calls: role, term, vote,
/// leader, clocks, log, commit, membership, every peer's progress and the
/// votes of an election, and the messages it queued.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeState {
    pub id: NodeId,
    pub state: StateType,
    pub term: Term,
    pub vote: NodeId,
    pub lead: NodeId,
    pub lead_transferee: NodeId,
    pub is_learner: bool,
    pub election_elapsed: u64,
    pub heartbeat_elapsed: u64,
    pub randomized_election_timeout: u64,
    pub log: LogView,
    pub voters: Vec<NodeId>,
    pub learners: Vec<NodeId>,
    /// The leader's progress of every node, itself included. A follower
    /// keeps whatever its last leadership left here: it means nothing.
    pub progress: BTreeMap<NodeId, ProgressView>,
    /// The votes of the current election, by voter.
    pub votes: BTreeMap<NodeId, bool>,
    pub pending_conf_index: Index,
    pub uncommitted_size: u64,
    /// ReadIndex requests this leader is confirming with a heartbeat
    /// round (etcd's `readOnly` queue).
    pub pending_reads: u64,
    /// ReadIndex requests waiting for this leader's first commit in its
    /// term.
    pub deferred_reads: u64,
    /// Reads that became safe, for the application to pick up.
    pub read_states: Vec<ReadState>,
    /// Messages queued and not yet taken, in the order queued.
    pub msgs: Vec<Message>,
}

impl NodeState {
    /// The hard state this node would persist.
    pub fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.log.committed,
        }
    }

    /// `candidate@3`.
    pub fn role(&self) -> String {
        format!("{}@{}", role_name(self.state), self.term)
    }

    /// One `field: got X, want Y` line per field in which `self` differs
    /// from `want`, in a fixed order. Messages are left out: they are
    /// compared on their own, sorted.
    pub fn differences(&self, want: &NodeState) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |name: &str, got: String, want: String| {
            if got != want {
                out.push(format!("{name}: got {got}, want {want}"));
            }
        };
        macro_rules! plain {
            ($($f:ident).+) => {
                field(
                    stringify!($($f).+),
                    format!("{:?}", self.$($f).+),
                    format!("{:?}", want.$($f).+),
                )
            };
        }
        plain!(id);
        plain!(state);
        plain!(term);
        plain!(vote);
        plain!(lead);
        plain!(lead_transferee);
        plain!(is_learner);
        plain!(election_elapsed);
        plain!(heartbeat_elapsed);
        plain!(randomized_election_timeout);
        plain!(log.first_index);
        plain!(log.entries);
        plain!(log.committed);
        plain!(log.applied);
        plain!(log.stabled);
        plain!(log.pending_snapshot);
        plain!(voters);
        plain!(learners);
        let peers: std::collections::BTreeSet<NodeId> = self
            .progress
            .keys()
            .chain(want.progress.keys())
            .copied()
            .collect();
        for peer in peers {
            let show = |p: Option<&ProgressView>| p.map_or("none".to_string(), |p| p.to_string());
            field(
                &format!("progress of n{peer}"),
                show(self.progress.get(&peer)),
                show(want.progress.get(&peer)),
            );
        }
        plain!(votes);
        plain!(pending_conf_index);
        plain!(uncommitted_size);
        plain!(pending_reads);
        plain!(deferred_reads);
        plain!(read_states);
        out
    }
}

impl fmt::Display for ProgressView {
    /// `match=3 next=4 Replicate inflights=[4]`, the flags only when set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "match={} next={} {:?}",
            self.matched, self.next_idx, self.state
        )?;
        if self.state == ProgressState::Snapshot {
            write!(f, " pending_snapshot={}", self.pending_snapshot)?;
        }
        if self.probe_sent {
            write!(f, " probe_sent")?;
        }
        if self.recent_active {
            write!(f, " recent_active")?;
        }
        if !self.inflights.is_empty() {
            write!(f, " inflights={:?}", self.inflights)?;
        }
        if self.is_learner {
            write!(f, " learner")?;
        }
        Ok(())
    }
}

/// `follower`, `pre-candidate`, `candidate`, `leader`.
pub fn role_name(s: StateType) -> &'static str {
    match s {
        StateType::Follower => "follower",
        StateType::PreCandidate => "pre-candidate",
        StateType::Candidate => "candidate",
        StateType::Leader => "leader",
    }
}

/// What a node handed its application in one `Ready`, and where it stood
/// once the application had persisted, sent, applied and advanced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadyView {
    pub hard_state: Option<HardState>,
    /// Entries to persist, in order.
    pub entries: Vec<Entry>,
    pub snapshot: Option<Snapshot>,
    /// Entries to apply, in order.
    pub committed_entries: Vec<Entry>,
    pub messages: Vec<Message>,
    pub read_states: Vec<ReadState>,
    /// The node after the `Ready`.
    pub status: Status,
    /// The storage refused what the node asked it to persist.
    pub persist_error: Option<String>,
}

/// Where a node stands: its role, term, leader and log positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Status {
    pub state: StateType,
    pub term: Term,
    pub lead: NodeId,
    pub committed: Index,
    pub applied: Index,
    pub last_index: Index,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_changed_field() {
        let a = NodeState {
            id: 1,
            term: 2,
            ..NodeState::default()
        };
        let mut b = a.clone();
        assert!(a.differences(&b).is_empty());
        b.term = 3;
        b.election_elapsed = 4;
        b.progress.insert(
            2,
            ProgressView {
                matched: 1,
                next_idx: 2,
                ..ProgressView::default()
            },
        );
        assert_eq!(
            a.differences(&b),
            vec![
                "term: got 2, want 3".to_string(),
                "election_elapsed: got 0, want 4".to_string(),
                "progress of n2: got none, want match=1 next=2 Probe".to_string(),
            ]
        );
    }

    #[test]
    fn an_empty_log_ends_before_its_first_index() {
        let log = LogView {
            first_index: 1,
            ..LogView::default()
        };
        assert_eq!((log.last_index(), log.last_term()), (0, 0));
    }
}
