//! The Raft state machine: one node's view of the protocol.
//!
//! A [`Raft`] never does I/O and never reads a clock. The application calls
//! [`Raft::tick`] on its own timer and [`Raft::step`] for every message it
//! receives; the node answers by appending to its log and pushing messages
//! onto [`Raft::msgs`], which [`RawNode`](crate::RawNode) hands back to the
//! application in a `Ready`.
//!
//! Each role (follower, pre-candidate, candidate, leader) has its own `tick`
//! and `step` functions, kept in two function fields that a role change
//! swaps. Term handling, which is the same for every role, happens once, at
//! the top of [`Raft::step`], before the role's `step` function sees the
//! message.
//!
//! # The ten holes
//!
//! RaftLab's exercises are the `todo!()` calls in this file, each named
//! after its step. Search for `RaftLab` to find them. Part 1, leader election:
//!
//! | step | where |
//! |---|---|
//! | Election Step1, Step2 | [`Raft::tick_election`] |
//! | Election Step3 | [`Raft::become_candidate`] |
//! | Election Step4 | [`Raft::campaign`] |
//! | Election Step5 | vote handling in [`Raft::step`] |
//! | Election Step6 | `step_candidate`, on a won election |
//!
//! Part 2, log replication:
//!
//! | step | where |
//! |---|---|
//! | Replication Step1, Step2 | `step_leader`, on `MsgProp` |
//! | Replication Step3 | `step_follower`, on `MsgApp` |
//! | Replication Step4 | `step_leader`, on a successful `MsgAppResp` |
//!
//! Section numbers (`§5.2`) refer to the extended Raft paper, "In Search of an
//! Understandable Consensus Algorithm"; §9.6 and §4.1 to Diego Ongaro's thesis.

// Each hole is a `todo!()`, which never returns: until it is filled in, the
// lines after it cannot run. This keeps the compiler quiet about that.
#![allow(unreachable_code)]

use std::cmp;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tracing::{debug, info, warn};

use crate::config::{Config, ReadOnlyOption};
use crate::errors::{Error, Result, StorageError};
use crate::quorum::VoteResult;
use crate::raft_log::RaftLog;
use crate::read_only::ReadOnly;
use crate::storage::{NO_LIMIT, Storage};
use crate::tracker::{Progress, ProgressState, ProgressTracker};
use crate::types::{
    ConfChange, ConfChangeType, ConfState, Entry, EntryType, HardState, Index, Message,
    MessageType, NONE, NodeId, ReadState, Snapshot, StateType, Term,
};

/// Why a node campaigns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CampaignType {
    /// The pre-vote round: would the others vote for me? (§9.6)
    PreElection,
    /// A normal election (§5.2).
    Election,
    /// Asked to by the leader during a leadership transfer: the others grant
    /// the vote even though they heard from a leader recently.
    Transfer,
}

/// The context that marks a vote request as part of a leadership transfer.
pub const CAMPAIGN_TRANSFER: &[u8] = b"CampaignTransfer";

/// What a node's role is; not persisted, recomputed after a restart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftState {
    pub lead: NodeId,
    pub raft_state: StateType,
}

/// The Raft state machine of one node. A clone shares the storage handle
/// (see `MemStorage::deep_copy` for a copy that does not).
#[derive(Clone)]
pub struct Raft<S: Storage> {
    /// This node's id; never [`NONE`].
    pub id: NodeId,
    /// The latest term this node has seen (§5.1); never decreases.
    pub term: Term,
    /// Who this node voted for in `term`, or [`NONE`]. At most one vote per
    /// term, persisted before any message says so (§5.2).
    pub vote: NodeId,
    /// Reads that became safe to serve, for the application to pick up.
    pub read_states: Vec<ReadState>,
    /// The log, its stable part in storage and its unstable tail in memory.
    pub raft_log: RaftLog<S>,
    /// The most bytes of entries in one `MsgApp`.
    pub max_msg_size: u64,
    /// The most bytes of uncommitted entries a leader accepts.
    pub max_uncommitted_size: u64,
    /// Who is in the cluster, and, on a leader, how far each follower's log
    /// matches its own.
    pub prs: ProgressTracker,
    /// This node's role.
    pub state: StateType,
    /// A learner receives the log but never votes or campaigns.
    pub is_learner: bool,
    /// Messages to send, oldest first. Taken by `RawNode::ready`.
    pub msgs: Vec<Message>,
    /// The leader of `term` as far as this node knows, or [`NONE`].
    pub lead: NodeId,
    /// The node leadership is being handed to, or [`NONE`].
    pub lead_transferee: NodeId,
    /// On a leader: the index of the latest conf-change entry it appended.
    /// Only one change may be pending (not yet applied) at a time.
    pub pending_conf_index: Index,
    /// On a leader: the bytes of entry data appended but not yet committed.
    pub uncommitted_size: u64,
    /// On a leader: ReadIndex requests waiting for a heartbeat quorum.
    pub read_only: ReadOnly,
    /// ReadIndex requests that arrived before this leader committed an entry
    /// of its own term; answered once it has.
    pub pending_read_index_messages: Vec<Message>,
    /// Leader: reject vote requests while it has heard from a quorum
    /// recently, and step down when it has not.
    pub check_quorum: bool,
    /// Ask for pre-votes before raising the term.
    pub pre_vote: bool,
    /// Followers drop proposals instead of forwarding them.
    pub disable_proposal_forwarding: bool,

    /// Ticks since this node last heard from a valid leader, granted a vote
    /// or started an election (follower and candidate), or since the last
    /// quorum check (leader). Not bounded by the timeout: a voter starts an
    /// election, and this count over, once it reaches
    /// `randomized_election_timeout`, but a learner never campaigns and
    /// keeps counting.
    election_elapsed: usize,
    /// Leader only: ticks since the last heartbeat, in `[0, heartbeat_timeout]`.
    heartbeat_elapsed: usize,
    heartbeat_timeout: usize,
    election_timeout: usize,
    /// The election timeout in force, in `[election_timeout,
    /// 2 * election_timeout)`; drawn anew on every role change (§5.2).
    randomized_election_timeout: usize,
    /// Draws the randomized timeouts; seeded from the config, so that the
    /// same seed gives the same run.
    rng: StdRng,

    /// What a tick does in the current role.
    tick: fn(&mut Raft<S>),
    /// How the current role handles a message, after [`Raft::step`] has
    /// dealt with its term.
    step: fn(&mut Raft<S>, Message) -> Result<()>,
}

impl<S: Storage> Raft<S> {
    /// A node as it restarts from `store`: a follower of the term it had
    /// persisted, with the membership its storage records.
    pub fn new(c: &Config, store: S) -> Result<Raft<S>> {
        c.validate()?;
        let rs = store.initial_state()?;
        let raft_log = RaftLog::new_with_size(store, c.max_committed_size_per_ready);
        let mut r = Raft {
            id: c.id,
            term: 0,
            vote: NONE,
            read_states: Vec::new(),
            raft_log,
            max_msg_size: c.max_size_per_msg,
            max_uncommitted_size: c.max_uncommitted_entries_size,
            prs: ProgressTracker::new(c.max_inflight_msgs),
            state: StateType::Follower,
            is_learner: false,
            msgs: Vec::new(),
            lead: NONE,
            lead_transferee: NONE,
            pending_conf_index: 0,
            uncommitted_size: 0,
            read_only: ReadOnly::new(c.read_only_option),
            pending_read_index_messages: Vec::new(),
            check_quorum: c.check_quorum,
            pre_vote: c.pre_vote,
            disable_proposal_forwarding: c.disable_proposal_forwarding,
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            heartbeat_timeout: c.heartbeat_tick,
            election_timeout: c.election_tick,
            randomized_election_timeout: c.election_tick,
            // Mixing in the id gives each node of a cluster its own timeouts
            // from one seed, so they rarely split the vote.
            rng: StdRng::seed_from_u64(c.seed ^ c.id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            tick: Raft::tick_election,
            step: Raft::step_follower,
        };
        r.restore_conf_state(&rs.conf_state)?;
        if !rs.hard_state.is_empty() {
            r.load_state(&rs.hard_state)?;
        }
        r.raise_term_to_log();
        if c.applied > 0 {
            if c.applied > r.raft_log.committed {
                return Err(Error::ConfigInvalid(format!(
                    "applied ({}) is beyond the commit index in storage ({})",
                    c.applied, r.raft_log.committed
                )));
            }
            r.raft_log.applied_to(c.applied);
        }
        r.become_follower(r.term, NONE);
        info!(
            "{} newraft [peers: {:?}, term: {}, commit: {}, applied: {}, lastindex: {}, lastterm: {}]",
            r.id,
            r.prs.voter_nodes(),
            r.term,
            r.raft_log.committed,
            r.raft_log.applied,
            r.raft_log.last_index(),
            r.raft_log.last_term()
        );
        Ok(r)
    }

    /// Ticks since the node last heard from a leader, voted or campaigned.
    pub fn election_elapsed(&self) -> usize {
        self.election_elapsed
    }

    /// The leader's ticks since its last heartbeat.
    pub fn heartbeat_elapsed(&self) -> usize {
        self.heartbeat_elapsed
    }

    /// The configured election timeout, in ticks.
    pub fn election_timeout(&self) -> usize {
        self.election_timeout
    }

    /// The configured heartbeat interval, in ticks.
    pub fn heartbeat_timeout(&self) -> usize {
        self.heartbeat_timeout
    }

    /// The randomized election timeout in force.
    pub fn randomized_election_timeout(&self) -> usize {
        self.randomized_election_timeout
    }

    /// Fixes the randomized election timeout, so a test can say exactly
    /// when an election starts. It stays until the next role change.
    pub fn set_randomized_election_timeout(&mut self, t: usize) {
        assert!(
            (self.election_timeout..2 * self.election_timeout).contains(&t),
            "randomized election timeout {t} is outside [{}, {})",
            self.election_timeout,
            2 * self.election_timeout
        );
        self.randomized_election_timeout = t;
    }

    /// Sets the ticks since the node last heard from a leader, so a test can
    /// start from a known clock without ticking: ticking a follower runs the
    /// election code, whose holes may still be empty.
    pub fn set_election_elapsed(&mut self, ticks: usize) {
        assert!(
            ticks <= self.randomized_election_timeout,
            "election_elapsed {ticks} is beyond the randomized election timeout {}",
            self.randomized_election_timeout
        );
        self.election_elapsed = ticks;
    }

    /// The node's role and leader.
    pub fn soft_state(&self) -> SoftState {
        SoftState {
            lead: self.lead,
            raft_state: self.state,
        }
    }

    /// What must be persisted.
    pub fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.raft_log.committed,
        }
    }

    /// Takes the messages waiting to be sent.
    pub fn take_msgs(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.msgs)
    }

    /// Whether this node may campaign: it is a voter of the cluster, and no
    /// snapshot it restored is still waiting for the application to save
    /// and apply it. Until then the node's log and membership stand on a
    /// snapshot that is not durable yet: a leader elected on it could lose
    /// its own log in a crash.
    pub fn promotable(&self) -> bool {
        self.prs.voters.contains(&self.id) && !self.raft_log.has_pending_snapshot()
    }

    /// Queues `m` for sending, filling in `from` and the term. Vote messages
    /// carry their term from the caller (a pre-vote asks for a future term);
    /// every other message gets the node's current term.
    fn send(&mut self, mut m: Message) {
        if m.from == NONE {
            m.from = self.id;
        }
        match m.msg_type {
            MessageType::MsgVote
            | MessageType::MsgVoteResp
            | MessageType::MsgPreVote
            | MessageType::MsgPreVoteResp => {
                // A vote without a term would be counted in term 0 by its
                // receiver: always a bug in the code that built it.
                assert_ne!(
                    m.term, 0,
                    "{} tried to send {:?} without a term",
                    self.id, m
                );
            }
            _ => {
                assert_eq!(
                    m.term, 0,
                    "{} tried to send {:?} with a term of its own; send() sets it",
                    self.id, m
                );
                // Proposals and read requests are forwarded as they came;
                // they are not part of any term.
                if m.msg_type != MessageType::MsgProp && m.msg_type != MessageType::MsgReadIndex {
                    m.term = self.term;
                }
            }
        }
        self.msgs.push(m);
    }

    /// Sends `to` the entries it is missing, or a snapshot if they were
    /// compacted away. Sends even when there is nothing new, so the follower
    /// learns the commit index.
    pub fn send_append(&mut self, to: NodeId) {
        self.maybe_send_append(to, true);
    }

    /// Sends `to` an append (or snapshot) if its progress is not paused and,
    /// unless `send_if_empty`, there are entries to send. Returns whether a
    /// message was sent.
    pub fn maybe_send_append(&mut self, to: NodeId, send_if_empty: bool) -> bool {
        let Some(pr) = self.prs.get(to) else {
            return false;
        };
        if pr.is_paused() {
            return false;
        }
        let next = pr.next_idx;
        let recent_active = pr.recent_active;
        let prev_term = self.raft_log.term(next - 1);
        let ents = self.raft_log.entries(next, self.max_msg_size);
        if !send_if_empty && ents.as_ref().is_ok_and(|e| e.is_empty()) {
            return false;
        }
        if let (Ok(prev_term), Ok(entries)) = (&prev_term, ents) {
            let mut m = Message::new(MessageType::MsgApp, self.id, to);
            m.index = next - 1;
            m.log_term = *prev_term;
            m.entries = entries;
            m.commit = self.raft_log.committed;
            if let Some(last) = m.entries.last().map(|e| e.index) {
                let pr = self.prs.get_mut(to).expect("progress checked above");
                match pr.state {
                    // Optimistically assume the follower will accept: the
                    // next append goes on from here (§5.3's pipelining).
                    ProgressState::Replicate => {
                        pr.optimistic_update(last);
                        pr.inflights.add(last);
                    }
                    // One probe at a time until the follower answers.
                    ProgressState::Probe => pr.probe_sent = true,
                    ProgressState::Snapshot => {
                        panic!(
                            "{} is sending append to {to} in state {:?}",
                            self.id, pr.state
                        )
                    }
                }
            }
            self.send(m);
            return true;
        }

        // The entries the follower needs were compacted: send a snapshot
        // instead (§7). Only to a follower that seems alive: a snapshot is
        // expensive.
        if !recent_active {
            debug!(
                "{} ignored sending snapshot to {to}: not recently active",
                self.id
            );
            return false;
        }
        let snapshot = match self.raft_log.snapshot() {
            Ok(s) => s,
            Err(Error::Store(StorageError::SnapshotTemporarilyUnavailable)) => {
                debug!(
                    "{} failed to send snapshot to {to}: temporarily unavailable",
                    self.id
                );
                return false;
            }
            Err(e) => panic!("{} could not read its snapshot: {e}", self.id),
        };
        assert!(
            !snapshot.is_empty(),
            "{} needs a non-empty snapshot for {to}",
            self.id
        );
        let (sindex, sterm) = (snapshot.metadata.index, snapshot.metadata.term);
        let pr = self.prs.get_mut(to).expect("progress checked above");
        debug!(
            "{} [firstindex: {}, commit: {}] sent snapshot[index: {sindex}, term: {sterm}] to {to} [{pr}]",
            self.id,
            self.raft_log.first_index(),
            self.raft_log.committed
        );
        pr.become_snapshot(sindex);
        let mut m = Message::new(MessageType::MsgSnap, self.id, to);
        m.snapshot = Some(snapshot);
        self.send(m);
        true
    }

    /// Sends a heartbeat to `to`. It carries the commit index, but never
    /// beyond what `to` is known to have: the follower must not commit an
    /// entry it may not hold yet.
    fn send_heartbeat(&mut self, to: NodeId, ctx: Vec<u8>) {
        let matched = self.prs.get(to).map_or(0, |pr| pr.matched);
        let mut m = Message::new(MessageType::MsgHeartbeat, self.id, to);
        m.commit = cmp::min(matched, self.raft_log.committed);
        m.context = ctx;
        self.send(m);
    }

    /// Every node of the cluster but this one, in id order.
    fn peers(&self) -> Vec<NodeId> {
        self.prs
            .progress
            .keys()
            .copied()
            .filter(|&id| id != self.id)
            .collect()
    }

    /// Sends every follower what it is missing (`send_append` to each peer).
    pub fn bcast_append(&mut self) {
        for id in self.peers() {
            self.send_append(id);
        }
    }

    /// Sends a heartbeat to every follower, carrying the newest pending
    /// ReadIndex request so its acknowledgements count for it.
    pub fn bcast_heartbeat(&mut self) {
        let ctx = self.read_only.last_pending_request_ctx();
        self.bcast_heartbeat_with_ctx(ctx);
    }

    fn bcast_heartbeat_with_ctx(&mut self, ctx: Vec<u8>) {
        for id in self.peers() {
            self.send_heartbeat(id, ctx.clone());
        }
    }

    /// Advances the commit index to what a quorum of voters holds, if that
    /// entry is of the current term (§5.4.2, Figure 8: entries of earlier
    /// terms are committed only indirectly). Returns whether it moved.
    pub fn maybe_commit(&mut self) -> bool {
        let mci = self.prs.committed();
        self.raft_log.maybe_commit(mci, self.term)
    }

    /// Resets what every role change resets: the term (and the vote, when
    /// the term changes), the leader, both clocks, a fresh randomized
    /// timeout, the votes and every follower's progress.
    pub fn reset(&mut self, term: Term) {
        if self.term != term {
            self.term = term;
            self.vote = NONE;
        }
        self.lead = NONE;
        self.election_elapsed = 0;
        self.heartbeat_elapsed = 0;
        self.reset_randomized_election_timeout();
        self.abort_leader_transfer();
        self.prs.reset_votes();
        let last_index = self.raft_log.last_index();
        let max_inflight = self.prs.max_inflight;
        for (&id, pr) in self.prs.progress.iter_mut() {
            let is_learner = pr.is_learner;
            *pr = Progress::new(last_index + 1, max_inflight);
            pr.is_learner = is_learner;
            if id == self.id {
                pr.matched = last_index;
            }
        }
        self.pending_conf_index = 0;
        self.uncommitted_size = 0;
        self.read_only = ReadOnly::new(self.read_only.option);
    }

    /// Gives `es` this leader's term and the next indexes, and moves them
    /// into the local log, leaving `es` empty. Returns false, appending
    /// nothing and leaving `es` as it was, when the uncommitted log is full.
    pub fn append_entry(&mut self, es: &mut Vec<Entry>) -> bool {
        let li = self.raft_log.last_index();
        for (i, e) in es.iter_mut().enumerate() {
            e.term = self.term;
            e.index = li + 1 + i as u64;
        }
        if !self.increase_uncommitted_size(es) {
            debug!(
                "{} appending new entries to log would exceed uncommitted entry size limit; dropping proposal",
                self.id
            );
            return false;
        }
        let li = self.raft_log.append(std::mem::take(es));
        if let Some(pr) = self.prs.get_mut(self.id) {
            pr.maybe_update(li);
        }
        // A single-voter cluster commits as soon as it appends.
        self.maybe_commit();
        true
    }

    /// Advances the clock by one tick, as the current role does it.
    pub fn tick(&mut self) {
        let tick = self.tick;
        tick(self);
    }

    /// The tick of followers, pre-candidates and candidates: count ticks
    /// without news from a leader, and start an election when there were
    /// too many (§5.2).
    pub fn tick_election(&mut self) {
        // ── RaftLab Election Step1 ─────────────────────────────────────────
        // Goal: after this tick, the election clock shows one more tick without
        // news from a leader. Every role that ticks here counts, candidates
        // too: one whose election was split must time out and try again.
        // Rule: "A server remains in follower state as long as it receives
        // valid RPCs from a leader or candidate" (§5.2), and the time it goes
        // without them is what the election timeout measures; "each candidate
        // will time out and start a new election" (§5.2).
        // Where to look: `Raft` keeps two clocks; the field docs above say
        // which one is the election clock and who sets it back to 0.
        // `past_election_timeout`, further down, reads it.
        todo!("RaftLab Election Step1");

        if self.promotable() && self.past_election_timeout() {
            // ── RaftLab Election Step2 ─────────────────────────────────────
            // Goal: this node went a whole randomized election timeout without
            // hearing from a leader (the condition above). Start an election,
            // and start the election clock over, so the next attempt waits a
            // full timeout again.
            // Rule: "If a follower receives no communication over a period of
            // time called the election timeout, then it assumes there is no
            // viable leader and begins an election" (§5.2); "each candidate
            // restarts its randomized election timeout at the start of an
            // election" (§5.2).
            // Where to look: do not campaign from here. Local events reach a
            // node the way remote ones do, as messages: find the local message
            // type that means "start an election" (`types`), and read what the
            // node's entry point for messages does with it (pre-vote or not,
            // and the checks that may refuse). The leader's tick below turns
            // its own timers into messages; a failure to start is only logged.
            todo!("RaftLab Election Step2");
        }
    }

    /// The leader's tick: send heartbeats every `heartbeat_timeout` ticks
    /// (§5.2), check once per election timeout that a quorum is still there,
    /// and give up a leadership transfer that took too long.
    pub fn tick_heartbeat(&mut self) {
        self.heartbeat_elapsed += 1;
        self.election_elapsed += 1;

        if self.election_elapsed >= self.election_timeout {
            self.election_elapsed = 0;
            if self.check_quorum {
                let m = Message::new(MessageType::MsgCheckQuorum, self.id, self.id);
                if let Err(e) = self.step(m) {
                    debug!(
                        "{} error occurred during checking sending heartbeat: {e}",
                        self.id
                    );
                }
            }
            // The transfer target should have won within one election
            // timeout; if it has not, take proposals again.
            if self.state == StateType::Leader && self.lead_transferee != NONE {
                self.abort_leader_transfer();
            }
        }

        // The quorum check above may have made this node a follower.
        if self.state != StateType::Leader {
            return;
        }

        if self.heartbeat_elapsed >= self.heartbeat_timeout {
            self.heartbeat_elapsed = 0;
            let m = Message::new(MessageType::MsgBeat, self.id, self.id);
            if let Err(e) = self.step(m) {
                debug!("{} error occurred during sending heartbeat: {e}", self.id);
            }
        }
    }

    /// Becomes a follower of `lead` in `term` (§5.1: "If a server receives a
    /// request with a stale term number ... converts to follower").
    pub fn become_follower(&mut self, term: Term, lead: NodeId) {
        self.step = Raft::step_follower;
        self.reset(term);
        self.tick = Raft::tick_election;
        self.lead = lead;
        self.state = StateType::Follower;
        info!("{} became follower at term {}", self.id, self.term);
    }

    /// Becomes a candidate: a new term, a vote for itself (§5.2, "To begin an
    /// election, a follower increments its current term and transitions to
    /// candidate state. It then votes for itself").
    pub fn become_candidate(&mut self) {
        assert_ne!(
            self.state,
            StateType::Leader,
            "{} invalid transition [leader -> candidate]",
            self.id
        );
        // ── RaftLab Election Step3 ─────────────────────────────────────────
        // Goal: when this returns, the node is a candidate of the next term:
        // its term is one higher than before and its vote in that term is its
        // own; it knows no leader; its clocks start from 0 under a freshly
        // drawn randomized timeout; no votes are counted yet; and the
        // candidate's tick and step functions are in force (it times out as a
        // follower does, and counts vote responses). Send nothing: asking for
        // votes is the campaign's job.
        // Rule: "To begin an election, a follower increments its current term
        // and transitions to candidate state. It then votes for itself" (§5.2).
        // Where to look: the other role changes around this one do the same job
        // for their roles. Read what each one sets, and what the helper that
        // the follower and leader changes share does to the vote when the term
        // changes.
        todo!("RaftLab Election Step3");
        info!("{} became candidate at term {}", self.id, self.term);
    }

    /// Becomes a pre-candidate: asks for pre-votes without raising its term
    /// or changing its vote, so a node that cannot win does not disrupt the
    /// cluster (§9.6).
    pub fn become_pre_candidate(&mut self) {
        assert_ne!(
            self.state,
            StateType::Leader,
            "{} invalid transition [leader -> pre-candidate]",
            self.id
        );
        // Not `reset`: the term and the vote stay as they are.
        self.step = Raft::step_candidate;
        self.prs.reset_votes();
        self.tick = Raft::tick_election;
        self.lead = NONE;
        self.state = StateType::PreCandidate;
        info!("{} became pre-candidate at term {}", self.id, self.term);
    }

    /// Becomes the leader of the current term, and appends an empty entry of
    /// its term: committing it commits everything before it (§5.4.2), and
    /// tells the leader what is committed (§8).
    pub fn become_leader(&mut self) {
        assert_ne!(
            self.state,
            StateType::Follower,
            "{} invalid transition [follower -> leader]",
            self.id
        );
        self.step = Raft::step_leader;
        self.reset(self.term);
        self.tick = Raft::tick_heartbeat;
        self.lead = self.id;
        self.state = StateType::Leader;
        // The leader's own log matches itself: replicate to itself at once.
        if let Some(pr) = self.prs.get_mut(self.id) {
            pr.become_replicate();
        }
        // Conservatively, a conf change may be pending anywhere in the log
        // this leader inherited; no new one until all of it is applied.
        self.pending_conf_index = self.raft_log.last_index();
        let mut empty = vec![Entry::default()];
        assert!(
            self.append_entry(&mut empty),
            "{} could not append the empty entry of its new term",
            self.id
        );
        info!("{} became leader at term {}", self.id, self.term);
    }

    /// Starts an election of kind `t`, unless this node cannot: it is the
    /// leader already, it is not a voter, or a committed membership change is
    /// not applied yet (the membership it would campaign in may be stale).
    fn hup(&mut self, t: CampaignType) {
        if self.state == StateType::Leader {
            debug!("{} ignoring MsgHup because already leader", self.id);
            return;
        }
        if !self.promotable() {
            warn!("{} is unpromotable and can not campaign", self.id);
            return;
        }
        // A snapshot restored but not yet applied covers the entries below
        // the first index, and its membership is already in force: only
        // the entries after it can hold pending changes.
        let first_unapplied = cmp::max(self.raft_log.applied + 1, self.raft_log.first_index());
        let unapplied = self.raft_log.slice(
            first_unapplied,
            cmp::max(first_unapplied, self.raft_log.committed + 1),
            NO_LIMIT,
        );
        let pending_conf = match unapplied {
            Ok(ents) => ents
                .iter()
                .filter(|e| e.entry_type == EntryType::ConfChange)
                .count(),
            Err(e) => panic!("{} could not read its unapplied entries: {e}", self.id),
        };
        if pending_conf != 0 {
            warn!(
                "{} cannot campaign at term {} since there are still {pending_conf} pending configuration changes to apply",
                self.id, self.term
            );
            return;
        }
        info!(
            "{} is starting a new election at term {}",
            self.id, self.term
        );
        self.campaign(t);
    }

    /// Campaigns for leadership: becomes (pre-)candidate and asks every other
    /// voter for its vote, sending its last log index and term so the voter
    /// can check that the log is up to date (§5.2, §5.4.1).
    pub fn campaign(&mut self, t: CampaignType) {
        if !self.promotable() {
            warn!(
                "{} is unpromotable; campaign() should have been called",
                self.id
            );
            return;
        }
        let (vote_msg, term) = if t == CampaignType::PreElection {
            self.become_pre_candidate();
            // A pre-vote asks about the next term before this node moves to it.
            (MessageType::MsgPreVote, self.term + 1)
        } else {
            // ── RaftLab Election Step4 ─────────────────────────────────────
            // Goal: the real election. This branch leaves the node a candidate
            // of a new term (the role change of Step3) and evaluates to the
            // pair the code below sends: the kind of vote request, and the term
            // it asks votes for.
            // Rule: "To begin an election, a follower increments its current
            // term and transitions to candidate state. It then votes for itself
            // and issues RequestVote RPCs in parallel to each of the other
            // servers" (§5.2); a RequestVote carries "candidate's term"
            // (Figure 2).
            // Where to look: the pre-vote branch just above is the other half
            // of this `if`. Compare what it becomes, and why its term is one
            // ahead: a pre-candidate asks about a term it has not entered, a
            // candidate has entered its own already. The message types are in
            // `types`.
            todo!("RaftLab Election Step4");
        };
        let self_id = self.id;
        let (_, _, result) = self.poll(self_id, vote_msg.vote_response(), true);
        if result == VoteResult::Won {
            // Winning on our own vote means this is a single-voter cluster.
            if t == CampaignType::PreElection {
                self.campaign(CampaignType::Election);
            } else {
                self.become_leader();
            }
            return;
        }
        let (last_index, last_term) = (self.raft_log.last_index(), self.raft_log.last_term());
        for id in self.prs.voter_nodes() {
            if id == self.id {
                continue;
            }
            info!(
                "{} [logterm: {last_term}, index: {last_index}] sent {vote_msg:?} request to {id} at term {}",
                self.id, self.term
            );
            let mut m = Message::new(vote_msg, self.id, id);
            m.term = term;
            m.index = last_index;
            m.log_term = last_term;
            if t == CampaignType::Transfer {
                m.context = CAMPAIGN_TRANSFER.to_vec();
            }
            self.send(m);
        }
    }

    /// Records `id`'s answer to this node's vote request and counts the
    /// votes: (granted, rejected, result).
    fn poll(&mut self, id: NodeId, t: MessageType, granted: bool) -> (usize, usize, VoteResult) {
        if granted {
            info!("{} received {t:?} from {id} at term {}", self.id, self.term);
        } else {
            info!(
                "{} received {t:?} rejection from {id} at term {}",
                self.id, self.term
            );
        }
        self.prs.record_vote(id, granted);
        self.prs.tally_votes()
    }

    /// Handles any message: first its term, which is the same for every
    /// role (§5.1: "If one server's current term is smaller than the
    /// other's, then it updates its current term to the larger value. ... If
    /// a server receives a request with a stale term number, it rejects the
    /// request."), then vote requests, then the role's own `step` function.
    pub fn step(&mut self, m: Message) -> Result<()> {
        if m.term == 0 {
            // A local message, or a proposal, read or transfer request
            // passed on without a term. Every other message gets its
            // sender's term in `send`: one without is malformed, and taken
            // as of our term it could, say, make a candidate follow a
            // "leader" of term 0.
            if !m.msg_type.is_local()
                && !matches!(
                    m.msg_type,
                    MessageType::MsgProp
                        | MessageType::MsgReadIndex
                        | MessageType::MsgTransferLeader
                )
            {
                warn!(
                    "{} dropped a {:?} from {} without a term",
                    self.id, m.msg_type, m.from
                );
                return Ok(());
            }
        } else if m.term > self.term {
            if matches!(m.msg_type, MessageType::MsgVote | MessageType::MsgPreVote) {
                let force = m.context == CAMPAIGN_TRANSFER;
                let in_lease = self.check_quorum
                    && self.lead != NONE
                    && self.election_elapsed < self.election_timeout;
                if !force && in_lease {
                    // We heard from a leader within the election timeout: a
                    // vote request now comes from a node that was cut off,
                    // and must not depose a working leader (§6, "disruptive
                    // servers").
                    self.log_vote(
                        &m,
                        &format!(
                            "ignored (lease: {} ticks left)",
                            self.election_timeout - self.election_elapsed
                        ),
                    );
                    return Ok(());
                }
            }
            match m.msg_type {
                // A pre-vote never changes our term.
                MessageType::MsgPreVote => {}
                // A granted pre-vote carries the term we asked about; we
                // move to it only once a quorum agrees. A rejection carries
                // the voter's newer term, handled below.
                MessageType::MsgPreVoteResp if !m.reject => {}
                _ => {
                    info!(
                        "{} [term: {}] received a {:?} message with higher term from {} [term: {}]",
                        self.id, self.term, m.msg_type, m.from, m.term
                    );
                    let lead = match m.msg_type {
                        MessageType::MsgApp | MessageType::MsgHeartbeat | MessageType::MsgSnap => {
                            m.from
                        }
                        _ => NONE,
                    };
                    self.become_follower(m.term, lead);
                }
            }
        } else if m.term < self.term {
            if (self.check_quorum || self.pre_vote)
                && matches!(m.msg_type, MessageType::MsgHeartbeat | MessageType::MsgApp)
            {
                // A leader of an older term that was cut off. With
                // check-quorum or pre-vote our term only grows when a
                // quorum moved on, so this leader can never win an election
                // to catch up: tell it our term so it steps down.
                self.send(Message::new(MessageType::MsgAppResp, self.id, m.from));
            } else if m.msg_type == MessageType::MsgPreVote {
                // Reject stale pre-votes with our term, so a pre-candidate
                // behind the times learns it and steps down.
                self.log_vote(&m, "rejected");
                let mut resp = Message::new(MessageType::MsgPreVoteResp, self.id, m.from);
                resp.term = self.term;
                resp.reject = true;
                self.send(resp);
            } else {
                // Any other stale message is simply ignored (§5.1).
                info!(
                    "{} [term: {}] ignored a {:?} message with lower term from {} [term: {}]",
                    self.id, self.term, m.msg_type, m.from, m.term
                );
            }
            return Ok(());
        }

        match m.msg_type {
            MessageType::MsgHup => {
                if self.pre_vote {
                    self.hup(CampaignType::PreElection);
                } else {
                    self.hup(CampaignType::Election);
                }
            }
            MessageType::MsgVote | MessageType::MsgPreVote => {
                // We can vote if this repeats a vote we already cast...
                let can_vote = self.vote == m.from
                    // ...or we have not voted and know no leader in this term...
                    || (self.vote == NONE && self.lead == NONE)
                    // ...or it is a pre-vote for a future term...
                    || (m.msg_type == MessageType::MsgPreVote && m.term > self.term);
                // ...and the candidate's log is at least as up to date as
                // ours (§5.4.1).
                if can_vote && self.raft_log.is_up_to_date(m.index, m.log_term) {
                    self.log_vote(&m, "cast");
                    // ── RaftLab Election Step5 ─────────────────────────────
                    // Goal: this node grants the request. Afterwards the
                    // requester has a grant it will count: the response type
                    // that answers the request's type, with the term the
                    // requester is counting votes for. For a real vote, not a
                    // pre-vote, this node has also given its vote of this term
                    // to the requester and started its election clock over,
                    // giving the candidate time to win. A pre-vote is only a
                    // question: it changes nothing on this node (§9.6).
                    // Rule: "Each server will vote for at most one candidate in
                    // a given term, on a first-come-first-served basis" (§5.2);
                    // a follower starts an election when its timeout "elapses
                    // without receiving AppendEntries RPC from current leader
                    // or granting vote to candidate" (Figure 2).
                    // Where to look: the reject path below answers the same
                    // requests. Which term a grant must carry: see how a
                    // pre-candidate's replies get through the term check at the
                    // top of this function, and what the candidate's step
                    // function counts.
                    todo!("RaftLab Election Step5");
                } else if self.term == 0 {
                    // Only a pre-vote gets here at term 0 (a vote would have
                    // raised our term), and only from a log whose last term
                    // is 0 too: a node's term is never below its last
                    // entry's (see `raise_term_to_log`), so at term 0 our
                    // log is empty and any pre-candidate is up to date. A
                    // rejection needs our term to mean anything; stay
                    // silent and let the pre-candidate time out.
                    debug!(
                        "{} at term 0 ignored {:?} from {} [logterm: {}, index: {}]",
                        self.id, m.msg_type, m.from, m.log_term, m.index
                    );
                } else {
                    self.log_vote(&m, "rejected");
                    let mut resp = Message::new(m.msg_type.vote_response(), self.id, m.from);
                    resp.term = self.term;
                    resp.reject = true;
                    self.send(resp);
                }
            }
            MessageType::MsgBeat
            | MessageType::MsgProp
            | MessageType::MsgApp
            | MessageType::MsgAppResp
            | MessageType::MsgVoteResp
            | MessageType::MsgSnap
            | MessageType::MsgHeartbeat
            | MessageType::MsgHeartbeatResp
            | MessageType::MsgUnreachable
            | MessageType::MsgSnapStatus
            | MessageType::MsgCheckQuorum
            | MessageType::MsgTransferLeader
            | MessageType::MsgTimeoutNow
            | MessageType::MsgReadIndex
            | MessageType::MsgReadIndexResp
            | MessageType::MsgPreVoteResp => {
                let step = self.step;
                step(self, m)?;
            }
        }
        Ok(())
    }

    /// Logs a vote decision on one line, with both logs' last entries:
    /// `2 [logterm: 1, index: 3, vote: 0] cast MsgVote from 3 [logterm: 1,
    /// index: 3] at term 2`.
    fn log_vote(&self, m: &Message, decision: &str) {
        info!(
            "{} [logterm: {}, index: {}, vote: {}] {decision} {:?} from {} [logterm: {}, index: {}] at term {}",
            self.id,
            self.raft_log.last_term(),
            self.raft_log.last_index(),
            self.vote,
            m.msg_type,
            m.from,
            m.log_term,
            m.index,
            self.term
        );
    }

    /// How a leader handles a message of its own term.
    fn step_leader(&mut self, mut m: Message) -> Result<()> {
        // These message types need no progress of the sender.
        match m.msg_type {
            MessageType::MsgBeat => {
                self.bcast_heartbeat();
                return Ok(());
            }
            MessageType::MsgCheckQuorum => {
                if let Some(pr) = self.prs.get_mut(self.id) {
                    pr.recent_active = true;
                }
                if !self.prs.quorum_active() {
                    warn!(
                        "{} stepped down to follower since quorum is not active",
                        self.id
                    );
                    self.become_follower(self.term, NONE);
                }
                // Everyone must prove to be active again before the next check.
                let id = self.id;
                for (&pid, pr) in self.prs.progress.iter_mut() {
                    if pid != id {
                        pr.recent_active = false;
                    }
                }
                return Ok(());
            }
            MessageType::MsgProp => {
                if m.entries.is_empty() {
                    warn!("{} dropped an empty proposal from {}", self.id, m.from);
                    return Err(Error::ProposalDropped);
                }
                if !self.prs.progress.contains_key(&self.id) {
                    // This leader was removed from the cluster and is only
                    // waiting to step down.
                    return Err(Error::ProposalDropped);
                }
                if self.lead_transferee != NONE {
                    debug!(
                        "{} [term {}] transfer leadership to {} is in progress; dropping proposal",
                        self.id, self.term, self.lead_transferee
                    );
                    return Err(Error::ProposalDropped);
                }
                for (i, e) in m.entries.iter_mut().enumerate() {
                    if e.entry_type != EntryType::ConfChange {
                        continue;
                    }
                    // One membership change at a time (§4.1 of the thesis):
                    // a second one before the first is applied is replaced
                    // by an empty entry.
                    if self.pending_conf_index > self.raft_log.applied {
                        info!(
                            "{} ignoring conf change at index {} since a conf change at index {} is not applied yet (applied: {})",
                            self.id,
                            self.raft_log.last_index() + 1 + i as u64,
                            self.pending_conf_index,
                            self.raft_log.applied
                        );
                        *e = Entry::default();
                    } else {
                        self.pending_conf_index = self.raft_log.last_index() + i as u64 + 1;
                    }
                }
                // ── RaftLab Replication Step1 ──────────────────────────────
                // Goal: the proposed entries are in this leader's log, each
                // with the leader's current term and the next free index, and
                // the leader's own progress (and, in a one-voter cluster, the
                // commit index) accounts for them. A proposal the leader cannot
                // take, because its uncommitted log is full, changes nothing
                // and is reported dropped, as the checks above report theirs,
                // so the proposer can retry.
                // Rule: "The leader appends the command to its log as a new
                // entry" (§5.3); each entry stores "the term number when the
                // entry was received by the leader" (§5.3).
                // Where to look: the library's function that appends entries as
                // the leader (the leader's role change uses it for its empty
                // entry): its doc, and what it returns.
                todo!("RaftLab Replication Step1");
                // ── RaftLab Replication Step2 ──────────────────────────────
                // Goal: every other server, learners included, has been sent an
                // append with what it lacks, now including the new entries,
                // unless its progress says to wait. Never this node itself.
                // Rule: the leader "then issues AppendEntries RPCs in parallel
                // to each of the other servers to replicate the entry" (§5.3).
                // Where to look: the leader's send functions, beside the
                // heartbeat ones: one sends a single follower what it lacks
                // (and picks entries or a snapshot, and respects a paused
                // follower); another does that for every follower.
                todo!("RaftLab Replication Step2");
                return Ok(());
            }
            MessageType::MsgReadIndex => {
                if m.entries.len() != 1 {
                    warn!(
                        "{} dropped a MsgReadIndex with {} entries",
                        self.id,
                        m.entries.len()
                    );
                    return Ok(());
                }
                // A single voter confirms its own leadership.
                if self.prs.is_singleton() {
                    let committed = self.raft_log.committed;
                    self.respond_to_read_index(m, committed);
                    return Ok(());
                }
                // A new leader does not know the commit index until an entry
                // of its own term is committed (§6.4): answer later.
                if !self.committed_entry_in_current_term() {
                    self.pending_read_index_messages.push(m);
                    return Ok(());
                }
                self.send_read_index_response(m);
                return Ok(());
            }
            MessageType::MsgHup
            | MessageType::MsgApp
            | MessageType::MsgAppResp
            | MessageType::MsgVote
            | MessageType::MsgVoteResp
            | MessageType::MsgSnap
            | MessageType::MsgHeartbeat
            | MessageType::MsgHeartbeatResp
            | MessageType::MsgUnreachable
            | MessageType::MsgSnapStatus
            | MessageType::MsgTransferLeader
            | MessageType::MsgTimeoutNow
            | MessageType::MsgReadIndexResp
            | MessageType::MsgPreVote
            | MessageType::MsgPreVoteResp => {}
        }

        // The rest concern one follower, and need its progress.
        let Some(pr) = self.prs.get_mut(m.from) else {
            debug!("{} no progress available for {}", self.id, m.from);
            return Ok(());
        };
        match m.msg_type {
            MessageType::MsgAppResp => {
                pr.recent_active = true;
                if m.reject {
                    debug!(
                        "{} received MsgAppResp(rejected, hint: (index {}, term {})) from {} for index {}",
                        self.id, m.reject_hint, m.log_term, m.from, m.index
                    );
                    // ── RaftLab Deep Step5 ─────────────────────────────────
                    // Goal: the follower refused our append after `m.index`:
                    // its log does not hold our entry there. Its hint,
                    // `m.reject_hint`@`m.log_term`, is the last entry of its
                    // log that may still match ours. Afterwards the
                    // follower's progress says where to probe next: as far
                    // back as the hint and our own log together show that
                    // nothing can match, so that a whole term of entries is
                    // skipped per round trip, not one entry. A follower we
                    // were streaming to is probed again, and the new probe
                    // is on its way. A rejection of an older append (the
                    // progress has moved on since) changes nothing.
                    // Rule: "If AppendEntries fails because of log
                    // inconsistency: decrement nextIndex and retry" (Figure
                    // 2); "the leader can decrement nextIndex to bypass all
                    // of the conflicting entries in that term; one
                    // AppendEntries RPC will be required for each term with
                    // conflicting entries, rather than one RPC per entry"
                    // (§5.3). A hint whose term our log holds at a lower
                    // index says our entries between cannot match either.
                    // Where to look: the follower computed its hint with a
                    // search of its log (`raft_log.rs`), which is as good a
                    // question to ask of ours. `Progress` (`tracker`) steps
                    // back after a rejection, knows which ones are stale,
                    // and has its states; the send functions are above.
                    let mut next_probe_idx = m.reject_hint;
                    if m.log_term > 0 {
                        next_probe_idx = self
                            .raft_log
                            .find_conflict_by_term(m.reject_hint, m.log_term);
                    }
                    if pr.maybe_decr_to(m.index, next_probe_idx) {
                        debug!("{} decreased progress of {} to [{}]", self.id, m.from, pr);
                        if pr.state == ProgressState::Replicate {
                            pr.become_probe();
                        }
                        self.send_append(m.from);
                    }
                } else {
                    // Both are read after the Step4 hole, which a skeleton
                    // leaves as todo!(): unused there, hence the allows.
                    #[allow(unused_variables)]
                    let old_paused = pr.is_paused();
                    if !pr.maybe_update(m.index) {
                        return Ok(());
                    }
                    match pr.state {
                        // The follower's log matches ours up to m.index:
                        // stream entries to it from now on.
                        ProgressState::Probe => pr.become_replicate(),
                        ProgressState::Snapshot if pr.matched >= pr.pending_snapshot => {
                            debug!(
                                "{} recovered from needing snapshot, resumed sending replication messages to {} [{}]",
                                self.id, m.from, pr
                            );
                            pr.become_probe();
                            pr.become_replicate();
                        }
                        ProgressState::Snapshot => {}
                        ProgressState::Replicate => pr.inflights.free_to(m.index),
                    }
                    #[allow(unused_variables)]
                    let committed_before = self.raft_log.committed;

                    // ── RaftLab Replication Step4 ──────────────────────────
                    // Goal: the follower now holds our log up to `m.index`, so
                    // an entry may have reached a majority. Afterwards the
                    // commit index is the highest index a majority of voters
                    // hold, if that entry is of this leader's term (unchanged
                    // otherwise), and the followers will learn a new commit
                    // index: at once, or with the next append or heartbeat.
                    // Rule: "A log entry is committed once the leader that
                    // created the entry has replicated it on a majority of the
                    // servers" (§5.3); "Only log entries from the leader's
                    // current term are committed by counting replicas" (§5.4.2,
                    // Figure 8); the leader "includes that index in future
                    // AppendEntries RPCs (including heartbeats) so that the
                    // other servers eventually find out" (§5.3).
                    // Where to look: the leader's commit helper beside its send
                    // functions (its doc says what it checks and what it
                    // returns); the majority arithmetic in `tracker` and
                    // `quorum`; the send functions.
                    todo!("RaftLab Replication Step4");
                    if self.raft_log.committed == committed_before && old_paused {
                        // The follower was paused, so appends that carried
                        // the latest commit index skipped it: send it now.
                        self.send_append(m.from);
                    }
                    // Reads waiting for this leader's first commit may go now.
                    self.release_pending_read_index_messages();
                    // The follower answered, so it is no longer paused, and
                    // the window may have room for several more appends.
                    while self.maybe_send_append(m.from, false) {}
                    // A leadership transfer waits for the target to catch up.
                    if m.from == self.lead_transferee
                        && self
                            .prs
                            .get(m.from)
                            .is_some_and(|pr| pr.matched == self.raft_log.last_index())
                    {
                        info!(
                            "{} sent MsgTimeoutNow to {} after received MsgAppResp",
                            self.id, m.from
                        );
                        self.send_timeout_now(m.from);
                    }
                }
            }
            MessageType::MsgHeartbeatResp => {
                pr.recent_active = true;
                pr.probe_sent = false;
                // A full window with no answer may mean lost appends: free
                // one slot so the leader can make progress.
                if pr.state == ProgressState::Replicate && pr.inflights.full() {
                    pr.inflights.free_first_one();
                }
                if pr.matched < self.raft_log.last_index() {
                    self.send_append(m.from);
                }
                if self.read_only.option != ReadOnlyOption::Safe || m.context.is_empty() {
                    return Ok(());
                }
                if !self
                    .read_only
                    .recv_ack(m.from, &m.context, &self.prs.voters)
                {
                    return Ok(());
                }
                for rs in self.read_only.advance(&m.context) {
                    self.respond_to_read_index(rs.req, rs.index);
                }
            }
            MessageType::MsgSnapStatus => {
                if pr.state != ProgressState::Snapshot {
                    return Ok(());
                }
                if m.reject {
                    // The snapshot never arrived: probe from where we were,
                    // not from the snapshot's index.
                    pr.pending_snapshot = 0;
                }
                pr.become_probe();
                // Wait for the follower's answer (or a heartbeat interval)
                // before the next append.
                pr.probe_sent = true;
                debug!(
                    "{} snapshot to {} {}, resumed probing [{}]",
                    self.id,
                    m.from,
                    if m.reject { "failed" } else { "succeeded" },
                    pr
                );
            }
            MessageType::MsgUnreachable => {
                // Appends sent optimistically were probably lost.
                if pr.state == ProgressState::Replicate {
                    pr.become_probe();
                }
                debug!(
                    "{} failed to send message to {} because it is unreachable",
                    self.id, m.from
                );
            }
            MessageType::MsgTransferLeader => {
                if pr.is_learner {
                    debug!("{} is learner. Ignored transferring leadership", m.from);
                    return Ok(());
                }
                let matched = pr.matched;
                let transferee = m.from;
                let last = self.lead_transferee;
                if last != NONE {
                    if last == transferee {
                        info!(
                            "{} [term {}] transfer leadership to {transferee} is in progress, ignores request to same node",
                            self.id, self.term
                        );
                        return Ok(());
                    }
                    self.abort_leader_transfer();
                    info!(
                        "{} [term {}] abort previous transferring leadership to {last}",
                        self.id, self.term
                    );
                }
                if transferee == self.id {
                    debug!(
                        "{} is already leader. Ignored transferring leadership to self",
                        self.id
                    );
                    return Ok(());
                }
                info!(
                    "{} [term {}] starts to transfer leadership to {transferee}",
                    self.id, self.term
                );
                // The transfer must finish within an election timeout.
                self.election_elapsed = 0;
                self.lead_transferee = transferee;
                if matched == self.raft_log.last_index() {
                    info!(
                        "{} sends MsgTimeoutNow to {transferee} immediately as {transferee} already has up-to-date log",
                        self.id
                    );
                    self.send_timeout_now(transferee);
                } else {
                    self.send_append(transferee);
                }
            }
            // Messages a leader of this term does not act on: stale vote
            // responses, another node's appends or heartbeats at our term
            // (impossible with one leader per term, §5.2), requests that are
            // handled above, and replies meant for followers.
            MessageType::MsgHup
            | MessageType::MsgBeat
            | MessageType::MsgProp
            | MessageType::MsgApp
            | MessageType::MsgVote
            | MessageType::MsgVoteResp
            | MessageType::MsgSnap
            | MessageType::MsgHeartbeat
            | MessageType::MsgCheckQuorum
            | MessageType::MsgTimeoutNow
            | MessageType::MsgReadIndex
            | MessageType::MsgReadIndexResp
            | MessageType::MsgPreVote
            | MessageType::MsgPreVoteResp => {}
        }
        Ok(())
    }

    /// How a candidate or pre-candidate handles a message of its own term.
    fn step_candidate(&mut self, m: Message) -> Result<()> {
        // Count only responses to this candidacy: a candidate may still get
        // pre-vote responses from the round that made it a candidate.
        let my_vote_resp_type = if self.state == StateType::PreCandidate {
            MessageType::MsgPreVoteResp
        } else {
            MessageType::MsgVoteResp
        };
        match m.msg_type {
            MessageType::MsgProp => {
                info!(
                    "{} no leader at term {}; dropping proposal",
                    self.id, self.term
                );
                return Err(Error::ProposalDropped);
            }
            // An append or heartbeat of our term comes from its leader: the
            // election is lost (§5.2, "If the leader's term ... is at least as
            // large as the candidate's current term, then the candidate
            // recognizes the leader as legitimate and returns to follower").
            MessageType::MsgApp => {
                self.become_follower(m.term, m.from);
                self.handle_append_entries(m);
            }
            MessageType::MsgHeartbeat => {
                self.become_follower(m.term, m.from);
                self.handle_heartbeat(m);
            }
            MessageType::MsgSnap => {
                self.become_follower(m.term, m.from);
                self.handle_snapshot(m);
            }
            MessageType::MsgVoteResp | MessageType::MsgPreVoteResp
                if m.msg_type == my_vote_resp_type =>
            {
                let (granted, rejected, result) = self.poll(m.from, m.msg_type, !m.reject);
                info!(
                    "{} has received {granted} {:?} votes and {rejected} vote rejections",
                    self.id, m.msg_type
                );
                match result {
                    VoteResult::Won if self.state == StateType::PreCandidate => {
                        self.campaign(CampaignType::Election);
                    }
                    VoteResult::Won => {
                        // ── RaftLab Election Step6 ─────────────────────────
                        // Goal: a majority voted for this node: it won.
                        // Afterwards it is the leader of its term, with the
                        // leader's tick and step functions and the empty entry
                        // of its term in its log (§8), and every other server
                        // has heard from it at once.
                        // Rule: "Once a candidate wins an election, it becomes
                        // leader. It then sends heartbeat messages to all of
                        // the other servers to establish its authority and
                        // prevent new elections" (§5.2).
                        // Where to look: the library's role change that makes a
                        // node leader (read its doc: it appends that empty
                        // entry), and the leader's functions that send to every
                        // follower, beside the ones that send to one. etcd
                        // announces a new leader with appends, which also carry
                        // the new entry.
                        todo!("RaftLab Election Step6");
                    }
                    VoteResult::Lost => {
                        // A pre-vote rejection may carry a future term; stay
                        // in ours.
                        self.become_follower(self.term, NONE);
                    }
                    VoteResult::Pending => {}
                }
            }
            MessageType::MsgTimeoutNow => {
                debug!(
                    "{} [term {}] ignored MsgTimeoutNow from {}",
                    self.id, self.term, m.from
                );
            }
            // Stale responses of the other kind, and messages a candidate has
            // no use for: nobody leads this term yet as far as we know.
            MessageType::MsgHup
            | MessageType::MsgBeat
            | MessageType::MsgAppResp
            | MessageType::MsgVote
            | MessageType::MsgVoteResp
            | MessageType::MsgHeartbeatResp
            | MessageType::MsgUnreachable
            | MessageType::MsgSnapStatus
            | MessageType::MsgCheckQuorum
            | MessageType::MsgTransferLeader
            | MessageType::MsgReadIndex
            | MessageType::MsgReadIndexResp
            | MessageType::MsgPreVote
            | MessageType::MsgPreVoteResp => {}
        }
        Ok(())
    }

    /// How a follower handles a message of its own term.
    fn step_follower(&mut self, mut m: Message) -> Result<()> {
        match m.msg_type {
            MessageType::MsgProp => {
                if self.lead == NONE {
                    info!(
                        "{} no leader at term {}; dropping proposal",
                        self.id, self.term
                    );
                    return Err(Error::ProposalDropped);
                }
                if self.disable_proposal_forwarding {
                    info!(
                        "{} not forwarding to leader {} at term {}; dropping proposal",
                        self.id, self.lead, self.term
                    );
                    return Err(Error::ProposalDropped);
                }
                m.to = self.lead;
                m.from = NONE;
                m.term = 0;
                self.send(m);
            }
            MessageType::MsgApp => {
                // ── RaftLab Replication Step3 ──────────────────────────────
                // Goal: an append of our term comes from the legitimate leader
                // (§5.2). Afterwards this follower's election clock starts
                // over, it knows who leads this term (proposals are forwarded
                // there), and the append has been handled by the receiver's
                // rules of Figure 2, and answered: the check of the entry
                // before the new ones, truncation only at a conflict, following
                // the leader's commit index (§5.3).
                // Rule: "A server remains in follower state as long as it
                // receives valid RPCs from a leader or candidate" (§5.2); "If
                // an existing entry conflicts with a new one (same index but
                // different terms), delete the existing entry and all that
                // follow it" (Figure 2).
                // Where to look: the receiver's side of AppendEntries is
                // already in this file, beside the handlers of heartbeats and
                // snapshots. The field docs of `Raft` say which field is the
                // election clock and which the leader.
                todo!("RaftLab Replication Step3");
            }
            MessageType::MsgHeartbeat => {
                self.election_elapsed = 0;
                self.lead = m.from;
                self.handle_heartbeat(m);
            }
            MessageType::MsgSnap => {
                self.election_elapsed = 0;
                self.lead = m.from;
                self.handle_snapshot(m);
            }
            MessageType::MsgTransferLeader => {
                if self.lead == NONE {
                    info!(
                        "{} no leader at term {}; dropping leader transfer msg",
                        self.id, self.term
                    );
                    return Ok(());
                }
                m.to = self.lead;
                m.term = 0;
                self.send(m);
            }
            MessageType::MsgTimeoutNow => {
                info!(
                    "{} [term {}] received MsgTimeoutNow from {} and starts an election to get leadership",
                    self.id, self.term, m.from
                );
                // A transfer skips pre-vote: the leader asked for it, so we
                // know the cluster is not partitioned from us.
                self.hup(CampaignType::Transfer);
            }
            MessageType::MsgReadIndex => {
                if self.lead == NONE {
                    info!(
                        "{} no leader at term {}; dropping index reading msg",
                        self.id, self.term
                    );
                    return Ok(());
                }
                m.to = self.lead;
                m.term = 0;
                self.send(m);
            }
            MessageType::MsgReadIndexResp => {
                if m.entries.len() != 1 {
                    warn!(
                        "{} invalid format of MsgReadIndexResp from {}, entries count: {}",
                        self.id,
                        m.from,
                        m.entries.len()
                    );
                    return Ok(());
                }
                let request_ctx = m.entries[0].data.to_vec();
                self.read_states.push(ReadState {
                    index: m.index,
                    request_ctx,
                });
            }
            // Nothing for a follower: it does not count votes, track
            // followers or run leader timers.
            MessageType::MsgHup
            | MessageType::MsgBeat
            | MessageType::MsgAppResp
            | MessageType::MsgVote
            | MessageType::MsgVoteResp
            | MessageType::MsgHeartbeatResp
            | MessageType::MsgUnreachable
            | MessageType::MsgSnapStatus
            | MessageType::MsgCheckQuorum
            | MessageType::MsgPreVote
            | MessageType::MsgPreVoteResp => {}
        }
        Ok(())
    }

    /// The follower's side of AppendEntries (§5.3): accept the entries if our
    /// log holds the entry just before them (`m.index`@`m.log_term`),
    /// truncating only where a new entry conflicts; follow the leader's
    /// commit; reply with our last matching index, or reject with a hint.
    pub fn handle_append_entries(&mut self, m: Message) {
        if m.index < self.raft_log.committed {
            // Everything up to our commit index already matches the leader
            // (§5.4's Log Matching): say how far we are.
            let mut resp = Message::new(MessageType::MsgAppResp, self.id, m.from);
            resp.index = self.raft_log.committed;
            self.send(resp);
            return;
        }
        if let Some(bad) = malformed_entries(&m) {
            warn!(
                "{} dropped a malformed MsgApp from {}: {bad}",
                self.id, m.from
            );
            return;
        }
        if let Some(last_new) = self
            .raft_log
            .maybe_append(m.index, m.log_term, m.commit, m.entries)
        {
            let mut resp = Message::new(MessageType::MsgAppResp, self.id, m.from);
            resp.index = last_new;
            self.send(resp);
            return;
        }
        debug!(
            "{} [logterm: {}, index: {}] rejected MsgApp [logterm: {}, index: {}] from {}",
            self.id,
            self.raft_log
                .zero_term_on_err_compacted(self.raft_log.term(m.index)),
            m.index,
            m.log_term,
            m.index,
            m.from
        );
        // Suggest where the leader should look next: the last index at
        // which our log has an entry of a term no newer than `m.log_term`.
        // Every entry after it is of a newer term, so cannot match.
        //
        //   idx        1 2 3 4 5 6 7 8 9
        //   leader     1 3 3 3 5 5 5 5 5     MsgApp index=7, log_term=5
        //   follower   1 3 3 3 3 3 3 4 4     rejects: term(7) = 3, not 5
        //
        // The follower replies hint=7@3 (term 3 <= 5 at index 7); the leader
        // finds its own last entry of term <= 3 at index 4, and probes there:
        // one round trip instead of three.
        let hint_index = cmp::min(m.index, self.raft_log.last_index());
        let hint_index = self.raft_log.find_conflict_by_term(hint_index, m.log_term);
        let hint_term = match self.raft_log.term(hint_index) {
            Ok(t) => t,
            Err(e) => panic!(
                "{} has no term at its own hint index {hint_index}: {e}",
                self.id
            ),
        };
        let mut resp = Message::new(MessageType::MsgAppResp, self.id, m.from);
        resp.index = m.index;
        resp.reject = true;
        resp.reject_hint = hint_index;
        resp.log_term = hint_term;
        self.send(resp);
    }

    /// A heartbeat: follow the leader's commit index (never beyond what we
    /// hold) and answer, echoing any ReadIndex context.
    pub fn handle_heartbeat(&mut self, m: Message) {
        if m.commit > self.raft_log.last_index() {
            warn!(
                "{} dropped a heartbeat from {} with commit {} beyond its last index {}",
                self.id,
                m.from,
                m.commit,
                self.raft_log.last_index()
            );
            return;
        }
        self.raft_log.commit_to(m.commit);
        let mut resp = Message::new(MessageType::MsgHeartbeatResp, self.id, m.from);
        resp.context = m.context;
        self.send(resp);
    }

    /// InstallSnapshot (§7): replace our log with the leader's snapshot when
    /// it is newer than what we committed.
    pub fn handle_snapshot(&mut self, mut m: Message) {
        let Some(snapshot) = m.snapshot.take() else {
            warn!(
                "{} dropped a MsgSnap from {} without a snapshot",
                self.id, m.from
            );
            return;
        };
        let (sindex, sterm) = (snapshot.metadata.index, snapshot.metadata.term);
        let mut resp = Message::new(MessageType::MsgAppResp, self.id, m.from);
        if self.restore(snapshot) {
            info!(
                "{} [commit: {}] restored snapshot [index: {sindex}, term: {sterm}]",
                self.id, self.raft_log.committed
            );
            resp.index = self.raft_log.last_index();
        } else {
            info!(
                "{} [commit: {}] ignored snapshot [index: {sindex}, term: {sterm}]",
                self.id, self.raft_log.committed
            );
            resp.index = self.raft_log.committed;
        }
        self.send(resp);
    }

    /// Restores the log and the membership from a snapshot. Returns false
    /// when the snapshot is not needed (we committed that far already) or
    /// cannot be used.
    pub fn restore(&mut self, snap: Snapshot) -> bool {
        if snap.metadata.index <= self.raft_log.committed {
            return false;
        }
        if self.state != StateType::Follower {
            // Only followers receive snapshots; anything else is a bug
            // elsewhere. Step down rather than corrupt our log.
            warn!(
                "{} attempted to restore snapshot as {:?}; should never happen",
                self.id, self.state
            );
            self.become_follower(self.term + 1, NONE);
            return false;
        }
        let cs = &snap.metadata.conf_state;
        if !cs.voters.contains(&self.id) && !cs.learners.contains(&self.id) {
            warn!(
                "{} attempted to restore snapshot but it is not in the ConfState {:?}; should never happen",
                self.id, cs
            );
            return false;
        }
        // A membership no tracker can hold (node id 0, a voter that is also
        // a learner) is bad input from the network: refuse it before the
        // log changes, rather than panic once it has.
        let mut check = ProgressTracker::new(1);
        let valid = cs.voters.iter().try_for_each(|&id| check.add_voter(id, 1));
        let valid = valid.and_then(|()| {
            cs.learners
                .iter()
                .try_for_each(|&id| check.add_learner(id, 1))
        });
        if let Err(e) = valid {
            warn!(
                "{} ignored a snapshot with an invalid ConfState {:?}: {e}",
                self.id, cs
            );
            return false;
        }
        if self
            .raft_log
            .match_term(snap.metadata.index, snap.metadata.term)
        {
            // We hold the snapshot's last entry already: just commit to it.
            info!(
                "{} [commit: {}, lastindex: {}, lastterm: {}] fast-forwarded commit to snapshot [index: {}, term: {}]",
                self.id,
                self.raft_log.committed,
                self.raft_log.last_index(),
                self.raft_log.last_term(),
                snap.metadata.index,
                snap.metadata.term
            );
            self.raft_log.commit_to(snap.metadata.index);
            return false;
        }
        let cs = cs.clone();
        self.raft_log.restore(snap);
        if let Err(e) = self.restore_conf_state(&cs) {
            panic!(
                "{} could not restore membership {cs:?} from a snapshot: {e}",
                self.id
            );
        }
        let last = self.raft_log.last_index();
        if let Some(pr) = self.prs.get_mut(self.id) {
            pr.maybe_update(last);
        }
        true
    }

    /// Rebuilds the progress tracker for exactly the members of `cs`.
    fn restore_conf_state(&mut self, cs: &ConfState) -> Result<()> {
        let next = self.raft_log.last_index() + 1;
        self.prs = ProgressTracker::new(self.prs.max_inflight);
        for &id in &cs.voters {
            self.prs.add_voter(id, next)?;
        }
        for &id in &cs.learners {
            self.prs.add_learner(id, next)?;
        }
        self.is_learner = self.prs.learners.contains(&self.id);
        Ok(())
    }

    /// Applies a committed membership change (§4.1 of the thesis: one server
    /// at a time) and returns the new membership.
    pub fn apply_conf_change(&mut self, cc: &ConfChange) -> Result<ConfState> {
        if cc.node_id == NONE {
            return Err(Error::ConfChange("node id 0 cannot be a member".into()));
        }
        // A cluster without voters can never elect a leader or commit
        // again: refuse the change that would leave none, before anything
        // changes.
        let leaves_no_voter = match cc.change_type {
            ConfChangeType::AddNode => false,
            ConfChangeType::AddLearnerNode | ConfChangeType::RemoveNode => {
                self.prs.voters.iter().all(|&id| id == cc.node_id)
            }
        };
        if leaves_no_voter {
            return Err(Error::ConfChange(format!(
                "removed all voters: {:?} of node {} leaves no voter",
                cc.change_type, cc.node_id
            )));
        }
        // A new member starts one entry back, so the probe sent below
        // carries the last entry instead of nothing.
        let next = cmp::max(self.raft_log.last_index(), 1);
        match cc.change_type {
            ConfChangeType::AddNode => self.prs.add_voter(cc.node_id, next)?,
            ConfChangeType::AddLearnerNode => self.prs.add_learner(cc.node_id, next)?,
            ConfChangeType::RemoveNode => self.prs.remove(cc.node_id),
        }
        // A node that just joined must not be counted inactive by the next
        // quorum check before it had a chance to answer.
        if let Some(pr) = self.prs.get_mut(cc.node_id) {
            pr.recent_active = true;
        }
        self.is_learner = self.prs.learners.contains(&self.id);
        let cs = self.prs.conf_state();
        info!("{} switched to configuration {:?}", self.id, cs);

        if self.state != StateType::Leader {
            return Ok(cs);
        }
        if !self.prs.voters.contains(&self.id) {
            // A removed leader steps down; the others elect a new one.
            info!("{} was removed from the cluster; stepping down", self.id);
            self.become_follower(self.term, NONE);
            return Ok(cs);
        }
        if self.maybe_commit() {
            // Fewer voters may mean a smaller quorum: more is committed.
            self.bcast_append();
        } else {
            // Probe new members at once, rather than at the next heartbeat.
            for id in self.peers() {
                self.maybe_send_append(id, false);
            }
        }
        if self.lead_transferee != NONE && !self.prs.voters.contains(&self.lead_transferee) {
            self.abort_leader_transfer();
        }
        Ok(cs)
    }

    /// Restores the term, vote and commit index persisted before a restart.
    fn load_state(&mut self, hs: &HardState) -> Result<()> {
        if hs.commit < self.raft_log.committed || hs.commit > self.raft_log.last_index() {
            return Err(Error::Store(StorageError::Other(format!(
                "{} state.commit {} is out of range [{}, {}]",
                self.id,
                hs.commit,
                self.raft_log.committed,
                self.raft_log.last_index()
            ))));
        }
        // ── RaftLab Deep Step6 ─────────────────────────────────────────────
        // Goal: the node starts from its storage, after a crash or from a
        // prepared state. `hs` is the hard state it last handed over to be
        // saved, before it sent anything that depended on it (see
        // `hard_state` and `RawNode::ready`). Afterwards the node is back in
        // the term it had reached, still bound by the vote it cast in that
        // term, and knows what it had committed, so its application can
        // apply the committed entries again. The commit index's range was
        // checked above.
        // Rule: Figure 2, "Persistent state on all servers (Updated on
        // stable storage before responding to RPCs)": currentTerm, votedFor,
        // log[]. "Each server will vote for at most one candidate in a given
        // term" (§5.2): a vote forgotten in a restart lets a node vote twice
        // in one term, and two leaders of one term follow. A term that goes
        // back lets a node vote in a term it had left.
        // Where to look: what `hard_state` hands over, and the fields it
        // reads. After this, `new` makes the node a follower of its term:
        // read what that role change keeps and what it clears.
        self.raft_log.committed = hs.commit;
        self.term = hs.term;
        self.vote = hs.vote;
        Ok(())
    }

    /// Raises the term to the last term of the log (or of the snapshot it
    /// starts from) when the persisted term is lower, which a storage
    /// bootstrapped from a snapshot without a hard state gives. A node at a
    /// term below an entry it holds would campaign at that lower term, and
    /// as leader append entries whose terms go backwards: followers refuse
    /// them, and the comparison of last terms in a vote (§5.4.1) would no
    /// longer say whose log is more up to date.
    ///
    /// The vote is cleared, as with any new term. No vote is lost by that:
    /// a candidate of this very term had an older term before it, so its
    /// last entry is older than ours and we refuse it anyway (§5.4.1).
    fn raise_term_to_log(&mut self) {
        let last_term = self.raft_log.last_term();
        if self.term >= last_term {
            return;
        }
        info!(
            "{} raised its term from {} to {last_term}, the last term of its log",
            self.id, self.term
        );
        self.term = last_term;
        self.vote = NONE;
    }

    /// Whether the election timeout has passed.
    pub fn past_election_timeout(&self) -> bool {
        self.election_elapsed >= self.randomized_election_timeout
    }

    /// Draws a new randomized election timeout in `[election_timeout,
    /// 2 * election_timeout)`, so that nodes rarely time out together and
    /// split votes resolve (§5.2).
    pub fn reset_randomized_election_timeout(&mut self) {
        let t = self.election_timeout;
        self.randomized_election_timeout = t + self.rng.random_range(0..t);
    }

    fn send_timeout_now(&mut self, to: NodeId) {
        self.send(Message::new(MessageType::MsgTimeoutNow, self.id, to));
    }

    /// Gives up a leadership transfer in progress.
    pub fn abort_leader_transfer(&mut self) {
        self.lead_transferee = NONE;
    }

    /// Whether the entry at the commit index is of this term: a new leader
    /// knows the cluster's commit index only from then on (§6.4).
    fn committed_entry_in_current_term(&self) -> bool {
        let t = self.raft_log.term(self.raft_log.committed);
        self.raft_log.zero_term_on_err_compacted(t) == self.term
    }

    /// Answers ReadIndex requests that waited for this leader's first commit.
    fn release_pending_read_index_messages(&mut self) {
        if !self.committed_entry_in_current_term() {
            return;
        }
        for m in std::mem::take(&mut self.pending_read_index_messages) {
            self.send_read_index_response(m);
        }
    }

    /// Serves a ReadIndex request on a leader that has committed in its term.
    fn send_read_index_response(&mut self, m: Message) {
        let committed = self.raft_log.committed;
        match self.read_only.option {
            ReadOnlyOption::Safe => {
                // Confirm we are still the leader before answering: a
                // heartbeat round acknowledged by a quorum (§6.4).
                let ctx = m.entries[0].data.to_vec();
                self.read_only.add_request(committed, m);
                self.read_only.recv_ack(self.id, &ctx, &self.prs.voters);
                self.bcast_heartbeat_with_ctx(ctx);
            }
            ReadOnlyOption::LeaseBased => self.respond_to_read_index(m, committed),
        }
    }

    /// Answers a read request at `read_index`: locally when it is our own,
    /// with a `MsgReadIndexResp` when a follower forwarded it.
    fn respond_to_read_index(&mut self, req: Message, read_index: Index) {
        if req.from == NONE || req.from == self.id {
            let request_ctx = req
                .entries
                .into_iter()
                .next()
                .map(|e| e.data.to_vec())
                .unwrap_or_default();
            self.read_states.push(ReadState {
                index: read_index,
                request_ctx,
            });
            return;
        }
        let mut resp = Message::new(MessageType::MsgReadIndexResp, self.id, req.from);
        resp.index = read_index;
        resp.entries = req.entries;
        self.send(resp);
    }

    /// Counts new entries against the uncommitted-size limit. An empty
    /// uncommitted log always accepts, so a large entry can still get in.
    fn increase_uncommitted_size(&mut self, ents: &[Entry]) -> bool {
        let s: u64 = ents.iter().map(Entry::payload_size).sum();
        if self.uncommitted_size > 0
            && s > 0
            && self.uncommitted_size.saturating_add(s) > self.max_uncommitted_size
        {
            return false;
        }
        self.uncommitted_size += s;
        true
    }

    /// Releases the uncommitted-size budget of entries that were committed.
    pub fn reduce_uncommitted_size(&mut self, ents: &[Entry]) {
        if self.uncommitted_size == 0 {
            // Followers do not count; a leader may have just been elected.
            return;
        }
        let s: u64 = ents.iter().map(Entry::payload_size).sum();
        self.uncommitted_size = self.uncommitted_size.saturating_sub(s);
    }
}

/// Why `m`'s entries cannot be a valid append, if they cannot: they must
/// follow `m.index` without a gap, in non-decreasing terms no older than
/// `m.log_term` and no newer than the message's term.
fn malformed_entries(m: &Message) -> Option<String> {
    let mut prev_term = m.log_term;
    for (i, e) in m.entries.iter().enumerate() {
        let want = m.index + 1 + i as u64;
        if e.index != want {
            return Some(format!("entry #{i} has index {}, want {want}", e.index));
        }
        if e.term < prev_term || e.term > m.term {
            return Some(format!(
                "entry {} has term {}, want a term in [{prev_term}, {}]",
                e.index, e.term, m.term
            ));
        }
        prev_term = e.term;
    }
    None
}
