//! The application's handle on a node: feed it ticks, messages and
//! proposals; take its work out as a [`Ready`]; say when that work is done.
//!
//! The loop every application runs:
//!
//! ```text
//! loop {
//!     on a timer:          node.tick()
//!     on a message:        node.step(msg)
//!     on a client request: node.propose(data)
//!     if node.has_ready() {
//!         let rd = node.ready();
//!         1. persist rd.snapshot, rd.entries and rd.hard_state   (before sending!)
//!         2. send rd.messages
//!         3. apply rd.committed_entries to the state machine
//!         4. node.advance(rd)
//!     }
//! }
//! ```
//!
//! Step 1 must come before step 2: a vote or an append acknowledgement
//! promises that the term, the vote and the entries are on stable storage
//! (§5.1, Figure 2, "updated on stable storage before responding to RPCs").

use tracing::debug;

use crate::config::Config;
use crate::errors::{Error, Result};
use crate::raft::{Raft, SoftState};
use crate::storage::Storage;
use crate::types::StateType;
use crate::types::{
    ConfChange, ConfState, Entry, EntryType, HardState, Message, MessageType, NONE, NodeId,
    ReadState, Snapshot,
};

/// The work a node hands to the application, in the order it must be done:
/// persist, send, apply, then [`RawNode::advance`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ready {
    /// The node's role and leader, when they changed. Not persisted.
    pub soft_state: Option<SoftState>,
    /// The term, vote and commit index, when they changed: persist before
    /// sending `messages`.
    pub hard_state: Option<HardState>,
    /// Reads that became safe once `committed_entries` up to their index
    /// are applied.
    pub read_states: Vec<ReadState>,
    /// New log entries: persist before sending `messages`.
    pub entries: Vec<Entry>,
    /// A snapshot received from the leader: persist (and load into the
    /// state machine) before anything else.
    pub snapshot: Option<Snapshot>,
    /// Committed entries to apply to the state machine, in order. They were
    /// persisted by an earlier `Ready`.
    pub committed_entries: Vec<Entry>,
    /// Messages to send once the above is persisted.
    pub messages: Vec<Message>,
    /// Whether the persistence must be synced to disk (the hard state's term
    /// or vote changed, or there are new entries).
    pub must_sync: bool,
}

/// A [`Raft`] node as an application drives it. A clone shares the
/// storage handle.
#[derive(Clone)]
pub struct RawNode<S: Storage> {
    /// The state machine; read freely, change only through the methods here.
    pub raft: Raft<S>,
    prev_soft_state: SoftState,
    prev_hard_state: HardState,
}

impl<S: Storage> RawNode<S> {
    /// A node over `store`, which holds what it persisted before (if anything)
    /// and the initial membership.
    pub fn new(config: &Config, store: S) -> Result<RawNode<S>> {
        let raft = Raft::new(config, store)?;
        let prev_soft_state = raft.soft_state();
        let prev_hard_state = raft.hard_state();
        Ok(RawNode {
            raft,
            prev_soft_state,
            prev_hard_state,
        })
    }

    /// Advances the node's logical clock by one tick.
    pub fn tick(&mut self) {
        self.raft.tick();
    }

    /// Starts an election now, without waiting for the timeout.
    pub fn campaign(&mut self) -> Result<()> {
        if self.raft.state == StateType::Leader {
            return Err(Error::InvalidState(format!(
                "{} is already the leader of term {}",
                self.raft.id, self.raft.term
            )));
        }
        self.raft.step(Message::new(
            MessageType::MsgHup,
            self.raft.id,
            self.raft.id,
        ))
    }

    /// Proposes `data` to be appended to the log. Fails with
    /// [`Error::ProposalDropped`] when no leader is known (or it refuses);
    /// success means only that the proposal was passed on, not committed.
    pub fn propose(&mut self, data: Vec<u8>) -> Result<()> {
        let mut m = Message::new(MessageType::MsgProp, self.raft.id, NONE);
        m.entries = vec![Entry {
            data: data.into(),
            ..Default::default()
        }];
        self.raft.step(m)
    }

    /// Proposes a membership change. Apply it with
    /// [`RawNode::apply_conf_change`] once its entry is committed.
    pub fn propose_conf_change(&mut self, cc: &ConfChange) -> Result<()> {
        let mut m = Message::new(MessageType::MsgProp, self.raft.id, NONE);
        m.entries = vec![Entry {
            entry_type: EntryType::ConfChange,
            data: cc.encode().into(),
            ..Default::default()
        }];
        self.raft.step(m)
    }

    /// Applies a committed membership change; returns the new membership,
    /// for the application to persist.
    pub fn apply_conf_change(&mut self, cc: &ConfChange) -> Result<ConfState> {
        self.raft.apply_conf_change(cc)
    }

    /// Steps a message received from the network. Local message types and
    /// responses from unknown nodes are refused; they are never valid input
    /// from a peer.
    pub fn step(&mut self, m: Message) -> Result<()> {
        if m.msg_type.is_local() {
            return Err(Error::StepLocalMsg);
        }
        if m.from == NONE {
            debug!("{} dropped {:?}: it has no sender", self.raft.id, m);
            return Err(Error::StepPeerNotFound);
        }
        if m.msg_type.is_response() && !self.raft.prs.progress.contains_key(&m.from) {
            return Err(Error::StepPeerNotFound);
        }
        self.raft.step(m)
    }

    /// Asks the cluster to hand leadership to `transferee`.
    pub fn transfer_leader(&mut self, transferee: NodeId) {
        let m = Message::new(MessageType::MsgTransferLeader, transferee, NONE);
        if let Err(e) = self.raft.step(m) {
            debug!("{} transfer leader failed: {e}", self.raft.id);
        }
    }

    /// Requests a linearizable read identified by `ctx`; the answer comes
    /// back as a [`ReadState`] in a later `Ready`.
    pub fn read_index(&mut self, ctx: Vec<u8>) {
        let mut m = Message::new(MessageType::MsgReadIndex, NONE, NONE);
        m.entries = vec![Entry {
            data: ctx.into(),
            ..Default::default()
        }];
        if let Err(e) = self.raft.step(m) {
            debug!("{} read index failed: {e}", self.raft.id);
        }
    }

    /// Tells the node that `id` could not be reached.
    pub fn report_unreachable(&mut self, id: NodeId) {
        let _ = self
            .raft
            .step(Message::new(MessageType::MsgUnreachable, id, NONE));
    }

    /// Tells the node whether sending a snapshot to `id` worked.
    pub fn report_snapshot(&mut self, id: NodeId, failed: bool) {
        let mut m = Message::new(MessageType::MsgSnapStatus, id, NONE);
        m.reject = failed;
        let _ = self.raft.step(m);
    }

    /// Whether the node has work for the application.
    pub fn has_ready(&self) -> bool {
        let r = &self.raft;
        r.soft_state() != self.prev_soft_state
            || (!r.hard_state().is_empty() && r.hard_state() != self.prev_hard_state)
            || r.raft_log.has_pending_snapshot()
            || !r.msgs.is_empty()
            || !r.raft_log.unstable_entries().is_empty()
            || has_persisted_committed_entries(r)
            || !r.read_states.is_empty()
    }

    /// Takes the node's pending work. Do it, in order, then call
    /// [`RawNode::advance`] with the same `Ready`.
    pub fn ready(&mut self) -> Ready {
        let r = &mut self.raft;
        let soft_state = r.soft_state();
        let hard_state = r.hard_state();
        let entries = r.raft_log.unstable_entries().to_vec();
        let must_sync = !entries.is_empty()
            || hard_state.term != self.prev_hard_state.term
            || hard_state.vote != self.prev_hard_state.vote;
        let rd = Ready {
            soft_state: (soft_state != self.prev_soft_state).then_some(soft_state),
            hard_state: (!hard_state.is_empty() && hard_state != self.prev_hard_state)
                .then_some(hard_state),
            read_states: std::mem::take(&mut r.read_states),
            entries,
            snapshot: r.raft_log.unstable.snapshot.clone(),
            committed_entries: persisted_committed_entries(r),
            messages: r.take_msgs(),
            must_sync,
        };
        if let Some(ss) = rd.soft_state {
            self.prev_soft_state = ss;
        }
        rd
    }

    /// Tells the node that `rd` was persisted, sent and applied.
    pub fn advance(&mut self, rd: Ready) {
        if let Some(hs) = rd.hard_state {
            self.prev_hard_state = hs;
        }
        let r = &mut self.raft;
        r.reduce_uncommitted_size(&rd.committed_entries);
        let applied = rd
            .committed_entries
            .last()
            .map(|e| e.index)
            .or_else(|| rd.snapshot.as_ref().map(|s| s.metadata.index));
        if let Some(applied) = applied {
            r.raft_log.applied_to(applied);
        }
        if let Some(e) = rd.entries.last() {
            r.raft_log.stable_to(e.index, e.term);
        }
        if let Some(s) = &rd.snapshot {
            r.raft_log.stable_snap_to(s.metadata.index);
        }
    }
}

/// The index of the last entry the application has persisted: entries from
/// the unstable offset on are not, or were overwritten since they were.
fn last_persisted_index<S: Storage>(r: &Raft<S>) -> u64 {
    r.raft_log.unstable.offset - 1
}

/// Whether some committed, unapplied entry is already persisted.
fn has_persisted_committed_entries<S: Storage>(r: &Raft<S>) -> bool {
    let next = (r.raft_log.applied + 1).max(r.raft_log.first_index());
    r.raft_log.has_next_entries() && next <= last_persisted_index(r)
}

/// The committed, unapplied entries to apply: only those persisted by an
/// earlier `Ready`. A follower can learn that an entry is committed in the
/// very message that brings it (and a single voter commits what it appends);
/// such an entry waits for the next `Ready`, so the state machine never
/// applies what a crash could still take back.
fn persisted_committed_entries<S: Storage>(r: &Raft<S>) -> Vec<Entry> {
    let persisted = last_persisted_index(r);
    let mut ents = r.raft_log.next_entries().unwrap_or_default();
    ents.retain(|e| e.index <= persisted);
    ents
}
