//! The explorer: every schedule of a small cluster, breadth-first, to a
//! bound stated in events and states, with the safety invariants checked
//! in every state reached.
//!
//! ## A state
//!
//! A cluster state is each node's state and the network: the multiset of
//! messages sent and not yet delivered or lost. A node's state is what the
//! host reports of it ([`NodeState`]: role, term, vote, leader, log,
//! commit, applied, progress of every peer, votes, ...) with its clocks
//! left out (see *Timers* below); the grader computes everything from that
//! report, never from a number the host supplies. Two more things make a
//! state: what the schedule has used of its fault budgets, and a *ghost*,
//! the history the invariants need (the leader of every term so far, and
//! the committed prefix of the log with the term each entry was committed
//! in). Everything is interned: a node state, a message, a network and a
//! ghost each get a number the first time they are seen, so a state is 32
//! bytes and two states are the same exactly when their numbers are.
//!
//! ## A transition
//!
//! One decision of the world, and everything the node it touches does
//! about it (its `Ready` rounds, persisted, sent and applied) as one step:
//!
//! | transition | what | budget |
//! |---|---|---|
//! | fire n | n's timer runs out: a follower or candidate campaigns | `timeouts` |
//! | fire n, a leader | its heartbeat timer runs out: it sends heartbeats | `heartbeats` |
//! | deliver m | m reaches its receiver | — |
//! | duplicate m | m reaches its receiver and a copy stays on the wire | `duplicates` |
//! | drop m | the network loses m | `drops` |
//! | reboot n | n crashes and restarts from its storage | `reboots` |
//! | propose at n | a client proposes the next value at n, a leader | `proposals` |
//!
//! A crashed node that stays down for a while is the same as one that
//! reboots later with the messages it missed lost, so a crash and its
//! restart are one transition.
//!
//! ## Timers
//!
//! A clock counts ticks up to a randomized timeout. The explorer leaves
//! the clocks out of a state and makes "the timer runs out" one
//! transition, enabled in every state: any node may time out at any
//! moment, which covers every timing a real clock allows (and more).
//! Leaders send heartbeats every tick (`heartbeat_tick` 1); check-quorum
//! is off, so a leader's election clock changes nothing.
//!
//! ## How the nodes are run
//!
//! The nodes live in the host. A node state seen for the first time is
//! saved there (`Op::Save`); a transition loads the node's saved state
//! (`Op::Load`), does the decision, and reads the result. What a node does
//! is a function of its state and the decision, so each (node state,
//! decision) pair is run once and remembered: most transitions of a
//! search cost no op at all. Both sides of the process boundary run the
//! same search against the same replies, so both save the same states
//! under the same handles.
//!
//! ## Invariants
//!
//! In each transition, for the node that moved (as the simulator's
//! checker does): terms and commit indexes never go back, a vote never
//! changes within its term, a vote is persisted before it is granted, a
//! pre-vote request changes neither the term nor the vote of its receiver,
//! entries are deleted only after a conflict and never once committed,
//! entries are applied in order, only once committed, as the log holds
//! them, and only proposed data. In each new state: election safety (the
//! ghost's leader of every term), log matching between any two nodes,
//! state machine safety (every node's committed prefix is the ghost's),
//! and leader completeness (a new leader holds every entry committed in an
//! earlier term).
//!
//! ## Bounds and what a verdict means
//!
//! Breadth-first, level by level: a violation found is one of the fewest
//! transitions. The bounds are a depth (transitions from the start), the
//! fault budgets, and a number of states; never seconds. The same bounds
//! give the same states, the same order and the same verdict on any
//! machine. When the state bound is reached before the depth bound, the
//! search stops, and only the levels it completed count: it passes only
//! if it completed at least `min_depth` of them. A random-walk mode goes
//! deeper than breadth-first can, without the guarantee of shortness.
//!
//! ## What it leaves out
//!
//! Symmetry: node ids matter to Raft (votes name them), so no two states
//! are merged by renaming nodes. Snapshots, membership changes, pre-vote
//! with check-quorum, and clocks that matter for anything but a timeout.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use raftpb::{ConfState, Entry, EntryType, HardState, Index, Message, MessageType, NONE, NodeId};
use raftpb::{StateType, Term};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::drive::schedule::{Decision, Schedule};
use crate::drive::{Boot, Call, Driver, NodeConfig, Op, Reply, StorageSetup};
use crate::model::event::{MsgInfo, preview};
use crate::model::{Failure, NodeState, ProgressState, ReadyView, Step, mix, role_name};
use crate::sim::Holes;
use crate::sim::check::hash_bytes;

/// The most nodes a searched cluster may have.
pub const MAX_NODES: usize = 5;

/// The most `Ready` rounds one transition may need.
const MAX_READY_ROUNDS: usize = 16;

/// The election clock of a node a message arrives at: less than any
/// randomized timeout (at least `election_tick`, 2 or more).
const DELIVERY_ELAPSED: u64 = 1;

/// Every node's `max_inflight_msgs`.
const MAX_INFLIGHT: usize = 256;

/// The most deliveries [`Prelude::Settle`] makes.
const MAX_SETTLE_STEPS: usize = 1000;

// ── Hashing ──────────────────────────────────────────────────────────────

/// A fast, deterministic hasher for the explorer's tables (the one rustc
/// uses). Tables are only looked up, never iterated, so their order never
/// shows.
#[derive(Clone, Copy, Default)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // Spread the high bits down: the tables index by the low ones.
        self.hash ^ (self.hash >> 29)
    }
}

type FxBuild = BuildHasherDefault<FxHasher>;
type FxMap<K, V> = HashMap<K, V, FxBuild>;
type FxSet<K> = HashSet<K, FxBuild>;

/// `value` hashed with [`FxHasher`].
fn fx_hash<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    let mut h = FxHasher::default();
    value.hash(&mut h);
    h.finish()
}

/// An open-addressing set of numbers that stand for values kept
/// elsewhere (in an arena): four bytes a slot, where a `HashMap` would
/// hold a second copy of every key. The caller hashes and compares.
struct Table {
    slots: Vec<u32>,
    len: usize,
}

const EMPTY: u32 = u32::MAX;

impl Table {
    fn new() -> Table {
        Table {
            slots: vec![EMPTY; 1024],
            len: 0,
        }
    }

    /// The slot holding a number whose value `is` the one wanted, or the
    /// empty slot where it belongs.
    fn find(&self, hash: u64, is: impl Fn(u32) -> bool) -> (usize, Option<u32>) {
        let mask = self.slots.len() - 1;
        let mut at = (hash as usize) & mask;
        loop {
            match self.slots[at] {
                EMPTY => return (at, None),
                id if is(id) => return (at, Some(id)),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Puts `id` in `slot` (found empty by [`Table::find`]), or over the
    /// number there. Call [`Table::reserve`] first.
    fn set(&mut self, slot: usize, id: u32) {
        if self.slots[slot] == EMPTY {
            self.len += 1;
        }
        self.slots[slot] = id;
    }

    /// Makes room for one more, rehashing with `hash` when the table is
    /// three quarters full. A slot found before is stale after this.
    fn reserve(&mut self, hash: impl Fn(u32) -> u64) {
        if (self.len + 1) * 4 <= self.slots.len() * 3 {
            return;
        }
        let size = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        let mask = self.slots.len() - 1;
        for id in old.into_iter().filter(|&id| id != EMPTY) {
            let mut at = (hash(id) as usize) & mask;
            while self.slots[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = id;
        }
    }
}

// ── What a search is ─────────────────────────────────────────────────────

/// The cluster a search starts from.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Nodes `1..=nodes`, all voters; at most [`MAX_NODES`].
    pub nodes: u64,
    pub election_tick: u64,
    pub heartbeat_tick: u64,
    pub pre_vote: bool,
    /// The most bytes of entries in one `MsgApp` (at least one entry
    /// always goes).
    pub max_size_per_msg: u64,
    /// The most bytes of uncommitted entries a leader takes: more
    /// proposals are refused.
    pub max_uncommitted_size: u64,
    /// What each node's storage holds at boot: its entries (from index 1)
    /// and hard state, node 1 first. Empty: every node starts fresh.
    pub storage: Vec<(Vec<Entry>, HardState)>,
    /// Decisions taken before the search starts, to reach its start state.
    pub prelude: Vec<Prelude>,
    /// Seeds the nodes' randomized timeouts (which only ever decide how
    /// many ticks a timer needs).
    pub seed: u64,
    /// The holes of later steps a node may reach without failing the
    /// search: it did not handle what it was given, as if it were lost.
    pub holes: Holes,
}

impl Setup {
    /// `nodes` fresh nodes with the search clocks: election timeout 2
    /// ticks, a heartbeat every tick, no pre-vote.
    pub fn new(nodes: u64) -> Setup {
        Setup {
            nodes,
            election_tick: 2,
            heartbeat_tick: 1,
            pre_vote: false,
            max_size_per_msg: u64::MAX,
            max_uncommitted_size: u64::MAX,
            storage: Vec::new(),
            prelude: Vec::new(),
            seed: 0,
            holes: Holes::default(),
        }
    }
}

/// A decision of the prelude.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prelude {
    /// Node `n`'s timer fires.
    Fire(NodeId),
    /// A client proposes the next value at node `n`.
    Propose(NodeId),
    /// Every message is delivered, the oldest first, until none is left.
    Settle,
}

/// How far a search goes: in transitions and states, never in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Transitions from the start state.
    pub depth: u32,
    /// The levels a search cut short by `states` must have completed to
    /// pass.
    pub min_depth: u32,
    /// Distinct states at most.
    pub states: u64,
    /// Election timeouts (a follower or candidate's timer running out).
    pub timeouts: u8,
    /// Heartbeat timeouts (a leader's timer running out).
    pub heartbeats: u8,
    pub reboots: u8,
    pub duplicates: u8,
    pub drops: u8,
    pub proposals: u8,
}

impl Bounds {
    /// The largest budget a `Used` field holds.
    pub const MAX_BUDGET: u8 = 31;

    /// These bounds with `k` times the states, and `k` times the depth and
    /// every budget (at most [`Bounds::MAX_BUDGET`] each). `min_depth` is
    /// what the default bounds complete on a correct Raft, so it stays only
    /// at `k` = 1: with every budget `k` times wider, the states of a level
    /// grow faster than `k` times, and a scaled search is judged on what it
    /// explored.
    pub fn scaled(self, k: u32) -> Bounds {
        let budget = |b: u8| (u32::from(b) * k).min(u32::from(Bounds::MAX_BUDGET)) as u8;
        Bounds {
            depth: self.depth.saturating_mul(k),
            min_depth: if k == 1 { self.min_depth } else { 0 },
            states: self.states.saturating_mul(u64::from(k)),
            timeouts: budget(self.timeouts),
            heartbeats: budget(self.heartbeats),
            reboots: budget(self.reboots),
            duplicates: budget(self.duplicates),
            drops: budget(self.drops),
            proposals: budget(self.proposals),
        }
    }
}

/// How the state space is walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Level by level: every state within the bounds, the shortest
    /// violation first.
    BreadthFirst,
    /// `walks` random walks of `depth` transitions each from the start,
    /// choices drawn from `seed`: deeper than breadth-first, not
    /// exhaustive.
    RandomWalks { walks: u64, seed: u64 },
}

/// A state the search must reach somewhere within its bounds: the cluster
/// can make progress at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Some node is leader.
    Leader,
    /// Every node has committed a proposed entry, without a leader's
    /// heartbeat timer running out: the leader sends a new entry, and the
    /// commit index that covers it, as soon as it has them (§5.3).
    CommittedOnAll,
    /// Some node has committed up to this index.
    Committed(Index),
}

impl Goal {
    /// `a leader is elected`.
    pub fn describe(self) -> String {
        match self {
            Goal::Leader => "a leader is elected".to_string(),
            Goal::CommittedOnAll => {
                "a proposed entry is committed on every node, with no heartbeat needed".to_string()
            }
            Goal::Committed(i) => format!("a node has committed index {i}"),
        }
    }
}

/// A violation, and the schedule that leads to it from the fresh cluster.
#[derive(Clone, Debug)]
pub struct Found {
    pub failure: Failure,
    /// The prelude's decisions, then the search's.
    pub schedule: Schedule,
    /// How many of the schedule's decisions the search took (after the
    /// prelude).
    pub depth: u32,
}

/// What a search found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Distinct states reached, the start included.
    pub states: u64,
    /// Transitions taken (to new states or known ones).
    pub transitions: u64,
    /// Levels completed (breadth-first), or the longest walk.
    pub depth: u32,
    /// The state bound was reached before the depth bound.
    pub truncated: bool,
    /// Distinct node states, each saved once in the host.
    pub node_states: u64,
    /// Node steps run in the host (each (node state, decision) once).
    pub node_steps: u64,
    /// Distinct messages.
    pub messages: u64,
    /// The first goal state: its depth and schedule.
    pub goal: Option<(u32, Schedule)>,
    pub violation: Option<Found>,
    /// Holes reached and passed over, with how many times.
    pub tolerated: BTreeMap<Step, u64>,
}

// ── The explorer's tables ────────────────────────────────────────────────

/// What the explorer keeps of one node state.
#[derive(Clone, Debug)]
struct NodeInfo {
    id: NodeId,
    /// Its copy in the host.
    handle: u64,
    role: StateType,
    /// The leader it knows of, or none.
    lead: NodeId,
    /// Hard state: term, vote, commit.
    hs: HardState,
    applied: Index,
    /// On a leader: the followers its progress does not pause, which a new
    /// entry must be sent to at once.
    unpaused: Vec<NodeId>,
    /// The term of each entry, index 1 first.
    terms: Vec<Term>,
    /// A hash of the log up to each entry.
    prefix: Vec<u64>,
    /// The first index holding a proposed value, if any.
    first_proposal: Option<Index>,
    /// Ticks for its timer to run out.
    fire_ticks: u64,
}

/// What a transition gives a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Input {
    Fire,
    Reboot,
    /// The `k`-th proposal of a schedule.
    Propose(u8),
    Deliver(u32),
}

/// What a node did with an input.
#[derive(Clone, Debug)]
struct NodeStep {
    next: u32,
    /// Messages sent to nodes of the cluster, in order.
    sent: Vec<u32>,
    /// An invariant the step broke, or a panic.
    failure: Option<Failure>,
}

/// One transition of the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Move {
    Fire(u8),
    Reboot(u8),
    Propose(u8),
    Deliver(u32),
    Duplicate(u32),
    Drop(u32),
}

impl Move {
    fn pack(self) -> u32 {
        let (kind, payload) = match self {
            Move::Fire(j) => (0, u32::from(j)),
            Move::Reboot(j) => (1, u32::from(j)),
            Move::Propose(j) => (2, u32::from(j)),
            Move::Deliver(m) => (3, m),
            Move::Duplicate(m) => (4, m),
            Move::Drop(m) => (5, m),
        };
        debug_assert!(payload < 1 << 29);
        (kind << 29) | payload
    }

    fn unpack(v: u32) -> Move {
        let payload = v & ((1 << 29) - 1);
        match v >> 29 {
            0 => Move::Fire(payload as u8),
            1 => Move::Reboot(payload as u8),
            2 => Move::Propose(payload as u8),
            3 => Move::Deliver(payload),
            4 => Move::Duplicate(payload),
            _ => Move::Drop(payload),
        }
    }
}

/// What a schedule has used of its budgets, five bits each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Used(u32);

impl Used {
    const TIMEOUTS: u32 = 0;
    const HEARTBEATS: u32 = 5;
    const REBOOTS: u32 = 10;
    const DUPLICATES: u32 = 15;
    const DROPS: u32 = 20;
    const PROPOSALS: u32 = 25;

    fn get(self, field: u32) -> u8 {
        ((self.0 >> field) & 31) as u8
    }

    fn bump(self, field: u32) -> Used {
        Used(self.0 + (1 << field))
    }

    /// Whether every budget is used no more than in `other`: a state
    /// reached with `self` can do all that one reached with `other` can.
    fn within(self, other: Used) -> bool {
        [
            Used::TIMEOUTS,
            Used::HEARTBEATS,
            Used::REBOOTS,
            Used::DUPLICATES,
            Used::DROPS,
            Used::PROPOSALS,
        ]
        .iter()
        .all(|&f| self.get(f) <= other.get(f))
    }
}

/// The history the invariants need, beyond the nodes' own states.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Ghost {
    /// The leader of each term so far (node index), by term.
    leaders: Vec<(Term, u8)>,
    /// The committed prefix: for each index, the entry's term, the hash of
    /// the log up to it, and the term of the node that first committed it.
    committed: Vec<(Term, u64, Term)>,
}

/// A cluster state: every field an interned number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    nodes: [u32; MAX_NODES],
    net: u32,
    ghost: u32,
    used: Used,
}

impl Key {
    /// The state without its budgets: the nodes, the network, the ghost.
    fn core(&self) -> (&[u32; MAX_NODES], u32, u32) {
        (&self.nodes, self.net, self.ghost)
    }
}

/// A state a breadth-first search reached: how, and the next state with
/// the same core (other budgets), if any.
#[derive(Clone, Copy, Debug)]
struct Reached {
    key: Key,
    parent: u32,
    mv: u32,
    next: u32,
}

/// The node-local checks of one step, on what the node persisted, sent
/// and applied, in the order an application sees them.
struct Running {
    id: NodeId,
    hs: HardState,
    terms: Vec<Term>,
    prefix: Vec<u64>,
    applied: Index,
}

/// The hash of an entry's content, as the checker computes it.
fn entry_hash(e: &Entry) -> u64 {
    let kind = match e.entry_type {
        EntryType::Normal => 0,
        EntryType::ConfChange => 1,
    };
    mix(hash_bytes(&e.data), kind)
}

fn who(vote: NodeId) -> String {
    if vote == NONE {
        "nobody".to_string()
    } else {
        format!("n{vote}")
    }
}

fn broken(invariant: &str, what: String) -> Failure {
    Failure::new(format!("{invariant}: {what}"))
}

impl Running {
    fn of(info: &NodeInfo) -> Running {
        Running {
            id: info.id,
            hs: info.hs,
            terms: info.terms.clone(),
            prefix: info.prefix.clone(),
            applied: info.applied,
        }
    }

    fn persist_entries(&mut self, ents: &[Entry]) -> Result<(), Failure> {
        let Some(first) = ents.first() else {
            return Ok(());
        };
        let node = self.id;
        let held = self.terms.len() as u64;
        if first.index == 0 || first.index > held + 1 {
            return Err(broken(
                "log continuity",
                format!(
                    "n{node} persisted entries from index {} but its log ends at {held}",
                    first.index
                ),
            ));
        }
        let last_new = first.index + ents.len() as u64 - 1;
        let commit = self.hs.commit;
        for k in first.index..=commit.min(held).min(last_new) {
            let (old, new) = (
                self.terms[(k - 1) as usize],
                ents[(k - first.index) as usize].term,
            );
            if old != new {
                return Err(broken(
                    "committed entries are final",
                    format!(
                        "n{node} overwrote its committed entry {k}@{old} with {k}@{new} (its commit index is {commit})"
                    ),
                ));
            }
        }
        let overlap_end = held.min(last_new);
        let conflict = (first.index..=overlap_end)
            .any(|k| self.terms[(k - 1) as usize] != ents[(k - first.index) as usize].term);
        if !conflict && last_new < held {
            return Err(broken(
                "no truncation without a conflict",
                format!(
                    "n{node} persisted entries {}..={last_new}, all matching its log, and dropped its entries {}..={held} with them",
                    first.index,
                    last_new + 1
                ),
            ));
        }
        self.terms.truncate((first.index - 1) as usize);
        self.prefix.truncate((first.index - 1) as usize);
        let mut prefix = self.prefix.last().copied().unwrap_or(0);
        let mut prev_term = self.terms.last().copied().unwrap_or(0);
        for (i, e) in ents.iter().enumerate() {
            let want = first.index + i as u64;
            if e.index != want {
                return Err(broken(
                    "log continuity",
                    format!(
                        "n{node} persisted entry {}@{} where index {want} belongs",
                        e.index, e.term
                    ),
                ));
            }
            if e.term < prev_term {
                return Err(broken(
                    "log terms never decrease",
                    format!(
                        "n{node} persisted {}@{} after an entry of term {prev_term}",
                        e.index, e.term
                    ),
                ));
            }
            prev_term = e.term;
            prefix = mix(mix(prefix, e.term), entry_hash(e));
            self.terms.push(e.term);
            self.prefix.push(prefix);
        }
        Ok(())
    }

    fn persist_hard_state(&mut self, hs: HardState) -> Result<(), Failure> {
        let (node, prev) = (self.id, self.hs);
        if hs.term < prev.term {
            return Err(broken(
                "terms never go back",
                format!(
                    "n{node} persisted term {} after term {}",
                    hs.term, prev.term
                ),
            ));
        }
        if hs.commit < prev.commit {
            return Err(broken(
                "commit never goes back",
                format!(
                    "n{node} persisted commit index {} after {}",
                    hs.commit, prev.commit
                ),
            ));
        }
        if hs.term == prev.term && prev.vote != NONE && hs.vote != prev.vote {
            return Err(broken(
                "one vote per term",
                format!(
                    "n{node} changed its persisted vote in term {} from n{} to {}",
                    hs.term,
                    prev.vote,
                    who(hs.vote)
                ),
            ));
        }
        if hs.commit > self.terms.len() as u64 {
            return Err(broken(
                "commit within the log",
                format!(
                    "n{node} persisted commit index {} but its log ends at {}",
                    hs.commit,
                    self.terms.len()
                ),
            ));
        }
        self.hs = hs;
        Ok(())
    }

    fn send(&self, m: &Message) -> Result<(), Failure> {
        if m.msg_type != MessageType::MsgVoteResp || m.reject {
            return Ok(());
        }
        if self.hs.term != m.term || self.hs.vote != m.to {
            return Err(broken(
                "votes are persisted",
                format!(
                    "n{} granted its vote in term {} to n{}, but its persisted state says term {}, vote {}",
                    m.from,
                    m.term,
                    m.to,
                    self.hs.term,
                    who(self.hs.vote)
                ),
            ));
        }
        Ok(())
    }

    fn apply(
        &mut self,
        e: &Entry,
        proposals: &[Vec<u8>],
        stored: &[Vec<u8>],
    ) -> Result<(), Failure> {
        let node = self.id;
        if e.index != self.applied + 1 {
            return Err(broken(
                "entries are applied in order",
                format!(
                    "n{node} applied {}@{} after applying up to index {}",
                    e.index, e.term, self.applied
                ),
            ));
        }
        if e.index > self.hs.commit {
            return Err(broken(
                "only committed entries are applied",
                format!(
                    "n{node} applied {}@{} but its persisted commit index is {}",
                    e.index, e.term, self.hs.commit
                ),
            ));
        }
        let held = self.terms.get((e.index - 1) as usize).copied();
        if held != Some(e.term) {
            return Err(broken(
                "state machine safety",
                format!(
                    "n{node} applied {}@{} but its log holds {} there",
                    e.index,
                    e.term,
                    held.map_or("nothing".to_string(), |t| format!("{}@{t}", e.index))
                ),
            ));
        }
        let proposed = e.entry_type == EntryType::Normal
            && (e.data.is_empty() || proposals.iter().chain(stored).any(|p| p[..] == e.data[..]));
        if !proposed {
            return Err(broken(
                "only proposed data is applied",
                format!(
                    "n{node} applied {}@{} {}, which no client proposed",
                    e.index,
                    e.term,
                    preview(&e.data)
                ),
            ));
        }
        self.applied = e.index;
        Ok(())
    }
}

/// The explorer over one driver.
pub struct Explorer<'d> {
    driver: &'d mut dyn Driver,
    setup: Setup,
    n: usize,
    infos: Vec<NodeInfo>,
    info_ids: FxMap<NodeState, u32>,
    msgs: Vec<Message>,
    msg_ids: FxMap<Message, u32>,
    /// Every network, each a sorted run of message numbers in `net_data`.
    net_data: Vec<u32>,
    net_spans: Vec<(u32, u32)>,
    net_table: Table,
    /// Room to build a network in.
    scratch: Vec<u32>,
    ghosts: Vec<Ghost>,
    ghost_ids: FxMap<Ghost, u32>,
    memo: FxMap<(u32, Input), u32>,
    steps: Vec<NodeStep>,
    next_handle: u64,
    /// The node state each live node is known to be in, if any: a step on
    /// it needs no `Load`.
    live: [Option<u32>; MAX_NODES],
    /// The values proposals carry: the k-th proposal proposes `values[k]`.
    values: Vec<Vec<u8>>,
    /// The values the nodes' storage held at boot: applying them is
    /// legitimate too.
    stored_values: Vec<Vec<u8>>,
    /// How many values the prelude proposed: the search's proposals come
    /// after them.
    prelude_values: u8,
    tolerated: BTreeMap<Step, u64>,
}

/// The value of the `k`-th proposal of a schedule: `v1`, `v2`, ...
pub fn proposal_value(k: usize) -> Vec<u8> {
    format!("v{}", k + 1).into_bytes()
}

/// Why the explorer stopped early: a violation (with the moves that lead
/// to it), or a host that does not answer as a host does.
enum Stop {
    Violation(Failure),
    Host(Failure),
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Stop {
        Stop::Violation(f)
    }
}

impl<'d> Explorer<'d> {
    /// An explorer of `setup` over `driver`, which runs the nodes.
    pub fn new(driver: &'d mut dyn Driver, setup: Setup) -> Result<Explorer<'d>, Failure> {
        let n = setup.nodes as usize;
        if n == 0 || n > MAX_NODES {
            return Err(Failure::new(format!(
                "search set-up: {n} nodes (a search takes 1 to {MAX_NODES})"
            )));
        }
        if !setup.storage.is_empty() && setup.storage.len() != n {
            return Err(Failure::new(format!(
                "search set-up: storage for {} nodes, but {n} nodes",
                setup.storage.len()
            )));
        }
        let stored_values = setup
            .storage
            .iter()
            .flat_map(|(entries, _)| entries.iter())
            .filter(|e| !e.data.is_empty())
            .map(|e| e.data.to_vec())
            .collect();
        Ok(Explorer {
            driver,
            setup,
            n,
            infos: Vec::new(),
            info_ids: FxMap::default(),
            msgs: Vec::new(),
            msg_ids: FxMap::default(),
            net_data: Vec::new(),
            net_spans: Vec::new(),
            net_table: Table::new(),
            scratch: Vec::new(),
            ghosts: Vec::new(),
            ghost_ids: FxMap::default(),
            memo: FxMap::default(),
            steps: Vec::new(),
            next_handle: 0,
            live: [None; MAX_NODES],
            values: Vec::new(),
            stored_values,
            prelude_values: 0,
            tolerated: BTreeMap::new(),
        })
    }

    fn config(&self, id: NodeId, incarnation: u64) -> NodeConfig {
        NodeConfig {
            election_tick: self.setup.election_tick,
            heartbeat_tick: self.setup.heartbeat_tick,
            pre_vote: self.setup.pre_vote,
            check_quorum: false,
            max_size_per_msg: self.setup.max_size_per_msg,
            max_inflight_msgs: MAX_INFLIGHT as u64,
            max_uncommitted_size: self.setup.max_uncommitted_size,
            applied: 0,
            seed: mix(mix(self.setup.seed, id), incarnation),
        }
    }

    /// Does `op`, which must be done.
    fn done(&mut self, op: &Op) -> Result<(), Stop> {
        match self.driver.apply(op) {
            Reply::Done => Ok(()),
            other => Err(Stop::Host(Failure::new(format!(
                "the host answered {} with {}",
                op.label(),
                reply_text(&other)
            )))),
        }
    }

    // ── Interning ────────────────────────────────────────────────────────

    fn intern_msg(&mut self, m: &Message) -> u32 {
        if let Some(&id) = self.msg_ids.get(m) {
            return id;
        }
        let id = self.msgs.len() as u32;
        self.msgs.push(m.clone());
        self.msg_ids.insert(m.clone(), id);
        id
    }

    /// The messages of network `id`, sorted.
    fn net(&self, id: u32) -> &[u32] {
        let (start, len) = self.net_spans[id as usize];
        &self.net_data[start as usize..(start + len) as usize]
    }

    fn intern_net(&mut self, net: &[u32]) -> u32 {
        let (data, spans) = (&self.net_data, &self.net_spans);
        let span = |id: u32| {
            let (start, len) = spans[id as usize];
            &data[start as usize..(start + len) as usize]
        };
        self.net_table.reserve(|id| fx_hash(span(id)));
        let (slot, found) = self.net_table.find(fx_hash(net), |id| span(id) == net);
        if let Some(id) = found {
            return id;
        }
        let id = self.net_spans.len() as u32;
        self.net_spans
            .push((self.net_data.len() as u32, net.len() as u32));
        self.net_data.extend_from_slice(net);
        self.net_table.set(slot, id);
        id
    }

    fn intern_ghost(&mut self, g: Ghost) -> u32 {
        if let Some(&id) = self.ghost_ids.get(&g) {
            return id;
        }
        let id = self.ghosts.len() as u32;
        self.ghosts.push(g.clone());
        self.ghost_ids.insert(g, id);
        id
    }

    /// The number of node `j`'s state as the host reports it now, saving
    /// it in the host when it is new.
    fn intern_node(&mut self, j: usize, state: NodeState) -> Result<u32, Stop> {
        let mut key = state;
        let fire_ticks = if key.state == StateType::Leader {
            self.setup
                .heartbeat_tick
                .saturating_sub(key.heartbeat_elapsed)
                .max(1)
        } else {
            key.randomized_election_timeout
                .saturating_sub(key.election_elapsed)
                .max(1)
        };
        key.election_elapsed = 0;
        key.heartbeat_elapsed = 0;
        key.randomized_election_timeout = 0;
        // Without check-quorum, nothing reads whether a peer was heard from.
        for p in key.progress.values_mut() {
            p.recent_active = false;
        }
        if let Some(&id) = self.info_ids.get(&key) {
            return Ok(id);
        }
        let node = j as NodeId + 1;
        if key.log.first_index != 1 || key.log.pending_snapshot.is_some() {
            return Err(Stop::Violation(Failure::new(format!(
                "n{node}'s log starts at index {}: nothing in a search compacts a log or sends a snapshot",
                key.log.first_index
            ))));
        }
        let mut prefix = Vec::with_capacity(key.log.entries.len());
        let mut h = 0;
        for e in &key.log.entries {
            h = mix(mix(h, e.term), entry_hash(e));
            prefix.push(h);
        }
        let unpaused = if key.state == StateType::Leader {
            key.progress
                .iter()
                .filter(|&(&id, p)| {
                    let paused = match p.state {
                        ProgressState::Probe => p.probe_sent,
                        ProgressState::Replicate => p.inflights.len() >= MAX_INFLIGHT,
                        ProgressState::Snapshot => true,
                    };
                    id != node && !paused
                })
                .map(|(&id, _)| id)
                .collect()
        } else {
            Vec::new()
        };
        let info = NodeInfo {
            id: node,
            handle: self.next_handle,
            role: key.state,
            lead: key.lead,
            hs: key.hard_state(),
            applied: key.log.applied,
            unpaused,
            terms: key.log.terms(),
            prefix,
            first_proposal: key
                .log
                .entries
                .iter()
                .find(|e| !e.data.is_empty())
                .map(|e| e.index),
            fire_ticks,
        };
        self.done(&Op::Save { id: node })?;
        self.next_handle += 1;
        let id = self.infos.len() as u32;
        self.infos.push(info);
        self.info_ids.insert(key, id);
        self.live[j] = Some(id);
        Ok(id)
    }

    // ── Node steps ───────────────────────────────────────────────────────

    /// What node `j` in state `from` does with `input`: remembered, or run
    /// in the host.
    fn node_step(&mut self, j: usize, from: u32, input: Input) -> Result<u32, Stop> {
        if let Some(&s) = self.memo.get(&(from, input)) {
            return Ok(s);
        }
        let step = self.run_node_step(j, from, input)?;
        let s = self.steps.len() as u32;
        self.steps.push(step);
        self.memo.insert((from, input), s);
        Ok(s)
    }

    fn run_node_step(&mut self, j: usize, from: u32, input: Input) -> Result<NodeStep, Stop> {
        let node = j as NodeId + 1;
        let info = &self.infos[from as usize];
        let (handle, fire_ticks) = (info.handle, info.fire_ticks);
        let mut run = Running::of(info);
        if self.live[j] != Some(from) {
            self.done(&Op::Load { id: node, handle })?;
        }
        self.live[j] = None;
        let (op, doing) = match input {
            Input::Fire => (
                Op::Tick {
                    id: node,
                    times: fire_ticks,
                },
                "tick".to_string(),
            ),
            Input::Reboot => {
                self.done(&Op::Crash { id: node })?;
                run.applied = 0;
                let seed = self.config(node, 1).seed;
                (Op::Restart { id: node, seed }, "restart".to_string())
            }
            Input::Propose(k) => (
                Op::Propose {
                    id: node,
                    data: self.value(k as usize),
                },
                "take a proposal".to_string(),
            ),
            Input::Deliver(m) => {
                // A message arrives one tick into the receiver's clock (any
                // time before its timeout is the same to the search), so
                // whether it starts the clock over shows.
                self.done(&Op::Call {
                    id: node,
                    call: Call::SetElectionElapsed(DELIVERY_ELAPSED),
                })?;
                let msg = self.msgs[m as usize].clone();
                let doing = format!("step {}", MsgInfo::of(&msg));
                (Op::Deliver { id: node, msg }, doing)
            }
        };
        let unchanged = |failure: Option<Failure>| NodeStep {
            next: from,
            sent: Vec::new(),
            failure,
        };
        let took = match self.driver.apply(&op) {
            Reply::Done => true,
            Reply::Refused(_) => false,
            Reply::Panicked(message) => {
                return Ok(unchanged(self.panicked(node, &doing, message)));
            }
            other => {
                return Err(Stop::Host(Failure::new(format!(
                    "the host answered {} with {}",
                    op.label(),
                    reply_text(&other)
                ))));
            }
        };
        let mut sent = Vec::new();
        let mut rounds = 0;
        loop {
            let rd = match self.driver.apply(&Op::Ready { id: node }) {
                Reply::Ready(None) => break,
                Reply::Ready(Some(rd)) => rd,
                Reply::Panicked(message) => {
                    let doing = "hand over its Ready";
                    return Ok(unchanged(self.panicked(node, doing, message)));
                }
                other => {
                    return Err(Stop::Host(Failure::new(format!(
                        "the host answered Ready(n{node}) with {}",
                        reply_text(&other)
                    ))));
                }
            };
            if let Err(f) = self.take_ready(&mut run, &rd, &mut sent) {
                return Ok(unchanged(Some(f)));
            }
            rounds += 1;
            if rounds >= MAX_READY_ROUNDS {
                return Ok(unchanged(Some(Failure::new(format!(
                    "n{node} still had work after {MAX_READY_ROUNDS} Ready rounds for one event"
                )))));
            }
        }
        let state = match self.driver.apply(&Op::State { id: node }) {
            Reply::State(s) => *s,
            Reply::Panicked(message) => {
                return Ok(unchanged(self.panicked(node, "report its state", message)));
            }
            other => {
                return Err(Stop::Host(Failure::new(format!(
                    "the host answered State(n{node}) with {}",
                    reply_text(&other)
                ))));
            }
        };
        if let Some(f) = self
            .check_clock(from, input, &state, &sent)
            .or_else(|| self.check_new_leader(from, &state, &sent))
        {
            return Ok(unchanged(Some(f)));
        }
        let next = match self.intern_node(j, state) {
            Ok(next) => next,
            Err(Stop::Violation(f)) => return Ok(unchanged(Some(f))),
            Err(stop) => return Err(stop),
        };
        if let Input::Propose(k) = input {
            let before = &self.infos[from as usize];
            if took && before.role == StateType::Leader && run.terms.len() == before.terms.len() {
                let f = broken(
                    "a proposal taken is appended",
                    format!(
                        "n{node}, the leader, took the proposal of {} without an error but did not append it (§5.3: \"the leader appends the command to its log\"; a proposal it cannot take must be refused, so the client tries again)",
                        preview(&self.values[k as usize])
                    ),
                );
                return Ok(unchanged(Some(f)));
            }
            if let Some(f) = self.check_broadcast(from, k, &run, &sent) {
                return Ok(unchanged(Some(f)));
            }
        }
        if let Input::Deliver(m) = input
            && self.msgs[m as usize].msg_type == MessageType::MsgPreVote
        {
            let (before, after) = (self.infos[from as usize].hs, run.hs);
            if (before.term, before.vote) != (after.term, after.vote) {
                let m = &self.msgs[m as usize];
                let f = broken(
                    "a pre-vote changes nothing",
                    format!(
                        "n{node} went from term {}, vote {} to term {}, vote {} on a MsgPreVote of term {} from n{} (§9.6: a pre-vote is a question, not a vote)",
                        before.term,
                        who(before.vote),
                        after.term,
                        who(after.vote),
                        m.term,
                        m.from
                    ),
                );
                return Ok(unchanged(Some(f)));
            }
        }
        let got = &self.infos[next as usize];
        if got.terms != run.terms || got.prefix != run.prefix || got.hs != run.hs {
            let f = Failure::new(format!(
                "n{node} reports log {:?} and hard state (term {}, vote {}, commit {}), but what it persisted makes log {:?} and (term {}, vote {}, commit {})",
                got.terms,
                got.hs.term,
                who(got.hs.vote),
                got.hs.commit,
                run.terms,
                run.hs.term,
                who(run.hs.vote),
                run.hs.commit
            ));
            return Ok(unchanged(Some(f)));
        }
        Ok(NodeStep {
            next,
            sent,
            failure: None,
        })
    }

    /// §5.3: a leader that appended a proposal "issues AppendEntries RPCs
    /// in parallel to each of the other servers": every follower its
    /// progress does not pause must have been sent the new entry.
    fn check_broadcast(&self, from: u32, k: u8, run: &Running, sent: &[u32]) -> Option<Failure> {
        let before = &self.infos[from as usize];
        let appended = run.terms.len() == before.terms.len() + 1;
        if before.role != StateType::Leader || !appended || self.setup.max_size_per_msg != u64::MAX
        {
            return None;
        }
        let index = run.terms.len() as Index;
        let missed: Vec<String> = before
            .unpaused
            .iter()
            .filter(|&&peer| {
                !sent.iter().any(|&m| {
                    let m = &self.msgs[m as usize];
                    m.to == peer
                        && m.msg_type == MessageType::MsgApp
                        && m.entries.iter().any(|e| e.index == index)
                })
            })
            .map(|peer| format!("n{peer}"))
            .collect();
        if missed.is_empty() {
            return None;
        }
        Some(broken(
            "a new entry goes to every follower",
            format!(
                "n{} appended {} at {index}@{} but sent no MsgApp with it to {} (§5.3: the leader \"issues AppendEntries RPCs in parallel to each of the other servers to replicate the entry\"; its progress did not pause them)",
                before.id,
                preview(&self.values[k as usize]),
                run.hs.term.max(before.hs.term),
                missed.join(", ")
            ),
        ))
    }

    /// The election clock's rules, on the node as this step left it (the
    /// search leaves clocks out of its states, but a message arrives with
    /// the clock at [`DELIVERY_ELAPSED`], so its value after is known):
    /// granting a vote, hearing from the current leader and starting an
    /// election each start the clock over (Figure 2, §5.2); a pre-vote
    /// leaves it alone (§9.6).
    fn check_clock(
        &self,
        from: u32,
        input: Input,
        after: &NodeState,
        sent: &[u32],
    ) -> Option<Failure> {
        let before = &self.infos[from as usize];
        let node = before.id;
        let elapsed = after.election_elapsed;
        let granted = |t: MessageType| {
            sent.iter().any(|&m| {
                let m = &self.msgs[m as usize];
                m.msg_type == t && !m.reject
            })
        };
        let (rule, want) = match input {
            Input::Deliver(m) => {
                let m = &self.msgs[m as usize];
                match m.msg_type {
                    MessageType::MsgVote if granted(MessageType::MsgVoteResp) => (
                        "granting a vote starts the election clock over (Figure 2: a follower times out only \"without ... granting vote to candidate\")".to_string(),
                        0,
                    ),
                    MessageType::MsgPreVote if granted(MessageType::MsgPreVoteResp) => (
                        "granting a pre-vote leaves the election clock alone (§9.6: a pre-vote changes nothing)".to_string(),
                        DELIVERY_ELAPSED,
                    ),
                    MessageType::MsgApp
                        if after.state == StateType::Follower
                            && m.term == after.term
                            && after.lead == m.from =>
                    {
                        (
                            format!(
                                "an append from n{}, the leader of term {}, starts the election clock over (Figure 2: a follower times out only \"without receiving AppendEntries RPC from current leader\")",
                                m.from, m.term
                            ),
                            0,
                        )
                    }
                    _ => return None,
                }
            }
            Input::Fire
                if before.role != StateType::Leader
                    && (after.state != before.role || after.term != before.hs.term) =>
            {
                (
                    "a timeout that starts an election starts the election clock over (§5.2: \"each candidate restarts its randomized election timeout at the start of an election\")".to_string(),
                    0,
                )
            }
            Input::Fire | Input::Reboot | Input::Propose(_) => return None,
        };
        if elapsed == want {
            return None;
        }
        Some(broken(
            "the election clock",
            format!("n{node}'s election_elapsed is {elapsed} after this step, want {want}: {rule}"),
        ))
    }

    /// A node that became leader in this step made itself known to every
    /// other voter in it (§5.2: "it then sends heartbeat messages to all of
    /// the other servers to establish its authority and prevent new
    /// elections").
    fn check_new_leader(&self, from: u32, after: &NodeState, sent: &[u32]) -> Option<Failure> {
        let before = &self.infos[from as usize];
        let became = after.state == StateType::Leader
            && !(before.role == StateType::Leader && before.hs.term == after.term);
        if !became {
            return None;
        }
        let missed: Vec<String> = after
            .voters
            .iter()
            .filter(|&&v| v != after.id && !sent.iter().any(|&m| self.msgs[m as usize].to == v))
            .map(|v| format!("n{v}"))
            .collect();
        if missed.is_empty() {
            return None;
        }
        Some(broken(
            "a new leader makes itself known",
            format!(
                "n{} became leader of term {} and sent nothing to {} (§5.2: a new leader \"sends heartbeat messages to all of the other servers to establish its authority and prevent new elections\")",
                after.id,
                after.term,
                missed.join(", ")
            ),
        ))
    }

    /// A panic of node `n`: `None` when it is at a hole the search passes
    /// over (noted), else the failure.
    fn panicked(&mut self, node: NodeId, doing: &str, message: String) -> Option<Failure> {
        if let Some(step) = Step::from_panic(&message)
            && self
                .setup
                .holes
                .tolerate_after
                .is_some_and(|last| step > last)
        {
            *self.tolerated.entry(step).or_default() += 1;
            return None;
        }
        Some(
            Failure::panic(message).context(format!("n{node} panicked as it was asked to {doing}")),
        )
    }

    /// What an application does with one `Ready`, checked.
    fn take_ready(
        &mut self,
        run: &mut Running,
        rd: &ReadyView,
        sent: &mut Vec<u32>,
    ) -> Result<(), Failure> {
        let node = run.id;
        if let Some(snap) = &rd.snapshot {
            return Err(Failure::new(format!(
                "n{node} was handed snapshot {}@{}, but nothing in a search compacts a log",
                snap.metadata.index, snap.metadata.term
            )));
        }
        run.persist_entries(&rd.entries)?;
        if let Some(e) = &rd.persist_error {
            return Err(Failure::new(format!(
                "n{node} could not persist what it asked to: {e}"
            )));
        }
        if let Some(hs) = rd.hard_state {
            run.persist_hard_state(hs)?;
        }
        for m in &rd.messages {
            run.send(m)?;
            if m.to == node {
                return Err(broken(
                    "no message to oneself",
                    format!(
                        "n{node} sent itself {} (§5.3: a leader sends its RPCs \"to each of the other servers\")",
                        MsgInfo::of(m)
                    ),
                ));
            }
            if (1..=self.setup.nodes).contains(&m.to) {
                sent.push(self.intern_msg(m));
            }
        }
        let (values, stored) = (&self.values, &self.stored_values);
        for e in &rd.committed_entries {
            run.apply(e, values, stored)?;
        }
        Ok(())
    }

    /// Which value the next proposal from `key` carries.
    fn value_index(&self, key: &Key) -> u8 {
        self.prelude_values + key.used.get(Used::PROPOSALS)
    }

    fn value(&mut self, k: usize) -> Vec<u8> {
        while self.values.len() <= k {
            let next = proposal_value(self.values.len());
            self.values.push(next);
        }
        self.values[k].clone()
    }

    // ── Transitions ──────────────────────────────────────────────────────

    /// The transitions enabled in `key`, in a fixed order.
    fn moves(&self, key: &Key, b: &Bounds, out: &mut Vec<Move>) {
        out.clear();
        let n = self.n as u8;
        let timeout = key.used.get(Used::TIMEOUTS) < b.timeouts;
        let heartbeat = key.used.get(Used::HEARTBEATS) < b.heartbeats;
        for j in 0..n {
            let leader = self.infos[key.nodes[j as usize] as usize].role == StateType::Leader;
            if (leader && heartbeat) || (!leader && timeout) {
                out.push(Move::Fire(j));
            }
        }
        if key.used.get(Used::REBOOTS) < b.reboots {
            out.extend((0..n).map(Move::Reboot));
        }
        if key.used.get(Used::PROPOSALS) < b.proposals {
            for j in 0..n {
                if self.infos[key.nodes[j as usize] as usize].role == StateType::Leader {
                    out.push(Move::Propose(j));
                }
            }
        }
        let dup = key.used.get(Used::DUPLICATES) < b.duplicates;
        let drop = key.used.get(Used::DROPS) < b.drops;
        let net = self.net(key.net);
        for (i, &m) in net.iter().enumerate() {
            if i > 0 && net[i - 1] == m {
                continue;
            }
            out.push(Move::Deliver(m));
            if dup {
                out.push(Move::Duplicate(m));
            }
            if drop {
                out.push(Move::Drop(m));
            }
        }
    }

    /// The state `mv` leads to from `key`, and the node it changed.
    fn apply(&mut self, key: &Key, mv: Move) -> Result<(Key, Option<usize>), Stop> {
        let (j, input, consumed, used) = match mv {
            Move::Fire(j) => {
                let leader = self.infos[key.nodes[j as usize] as usize].role == StateType::Leader;
                let budget = if leader {
                    Used::HEARTBEATS
                } else {
                    Used::TIMEOUTS
                };
                (j as usize, Input::Fire, None, key.used.bump(budget))
            }
            Move::Reboot(j) => (
                j as usize,
                Input::Reboot,
                None,
                key.used.bump(Used::REBOOTS),
            ),
            Move::Propose(j) => (
                j as usize,
                Input::Propose(self.value_index(key)),
                None,
                key.used.bump(Used::PROPOSALS),
            ),
            Move::Deliver(m) => (self.receiver(m), Input::Deliver(m), Some(m), key.used),
            Move::Duplicate(m) => (
                self.receiver(m),
                Input::Deliver(m),
                None,
                key.used.bump(Used::DUPLICATES),
            ),
            Move::Drop(m) => {
                let mut net = std::mem::take(&mut self.scratch);
                without(self.net(key.net), m, &mut net);
                let id = self.intern_net(&net);
                self.scratch = net;
                let net = id;
                let next = Key {
                    net,
                    used: key.used.bump(Used::DROPS),
                    ..*key
                };
                return Ok((next, None));
            }
        };
        let from = key.nodes[j];
        let s = self.node_step(j, from, input)?;
        let step = &self.steps[s as usize];
        if let Some(f) = &step.failure {
            return Err(Stop::Violation(f.clone()));
        }
        let next_node = step.next;
        let mut net = std::mem::take(&mut self.scratch);
        match consumed {
            Some(m) => without(self.net(key.net), m, &mut net),
            None => {
                net.clear();
                net.extend_from_slice(self.net(key.net));
            }
        }
        let step = &self.steps[s as usize];
        if !step.sent.is_empty() {
            net.extend_from_slice(&step.sent);
            net.sort_unstable();
        }
        let id = self.intern_net(&net);
        self.scratch = net;
        let net = id;
        let ghost = if next_node == from {
            key.ghost
        } else {
            self.update_ghost(key.ghost, from, next_node, j)?
        };
        let mut nodes = key.nodes;
        nodes[j] = next_node;
        let changed = (next_node != from).then_some(j);
        Ok((
            Key {
                nodes,
                net,
                ghost,
                used,
            },
            changed,
        ))
    }

    /// The index of the node message `m` is for.
    fn receiver(&self, m: u32) -> usize {
        (self.msgs[m as usize].to - 1) as usize
    }

    /// The ghost after node `j` went from state `from` to `to`: its
    /// commits added, its leadership recorded, with the invariants those
    /// changes must keep.
    fn update_ghost(&mut self, g: u32, from: u32, to: u32, j: usize) -> Result<u32, Failure> {
        let (p, q) = (&self.infos[from as usize], &self.infos[to as usize]);
        let ghost = &self.ghosts[g as usize];
        let became_leader =
            q.role == StateType::Leader && !(p.role == StateType::Leader && p.hs.term == q.hs.term);
        let commit = q.hs.commit;
        let known = ghost.committed.len() as u64;
        let commit_moved = commit != p.hs.commit || commit > known;
        if !(became_leader || commit_moved && commit > 0) {
            return Ok(g);
        }
        let node = q.id;
        let mut next = ghost.clone();
        if commit_moved && commit > 0 {
            // §5.4.3: every committed prefix is the one committed before.
            let at = commit.min(known);
            if at > 0 && q.prefix[(at - 1) as usize] != ghost.committed[(at - 1) as usize].1 {
                let d = (0..at as usize)
                    .find(|&k| q.prefix[k] != ghost.committed[k].1)
                    .unwrap_or(at as usize - 1);
                return Err(broken(
                    "state machine safety",
                    format!(
                        "n{node} committed {}@{} but {}@{} was committed before",
                        d + 1,
                        q.terms[d],
                        d + 1,
                        ghost.committed[d].0
                    ),
                ));
            }
            for i in known..commit {
                next.committed
                    .push((q.terms[i as usize], q.prefix[i as usize], q.hs.term));
            }
        }
        if became_leader {
            let term = q.hs.term;
            match next.leaders.binary_search_by_key(&term, |&(t, _)| t) {
                Ok(i) if next.leaders[i].1 as usize != j => {
                    return Err(broken(
                        "election safety",
                        format!(
                            "n{node} and n{} are both leaders of term {term}",
                            next.leaders[i].1 + 1
                        ),
                    ));
                }
                Ok(_) => {}
                Err(i) => next.leaders.insert(i, (term, j as u8)),
            }
            // §5.4.1: a leader holds every entry committed in an earlier term.
            let need = next
                .committed
                .iter()
                .rposition(|&(_, _, t)| t < term)
                .map_or(0, |i| i + 1);
            if need > 0 && q.prefix.get(need - 1) != Some(&next.committed[need - 1].1) {
                let d = (0..need)
                    .find(|&k| q.prefix.get(k) != Some(&next.committed[k].1))
                    .unwrap_or(0);
                let has = match q.terms.get(d) {
                    Some(t) => format!("{}@{t}", d + 1),
                    None => format!("nothing at index {}", d + 1),
                };
                return Err(broken(
                    "leader completeness",
                    format!(
                        "n{node} became leader of term {term} with {has}, but {}@{} was committed in term {}",
                        d + 1,
                        next.committed[d].0,
                        next.committed[d].2
                    ),
                ));
            }
        }
        Ok(self.intern_ghost(next))
    }

    /// The invariants of a new state whose node `j` changed: log matching
    /// (§5.3) between it and every other node (two logs with an entry of
    /// the same index and term are identical up to it), and the last
    /// committed entry on a majority (§5.3: an entry is committed once "it
    /// has replicated it on a majority of the servers", and no server
    /// ever deletes it).
    fn check_state(&self, key: &Key, j: usize) -> Result<(), Failure> {
        let ghost = &self.ghosts[key.ghost as usize];
        if let Some(&(term, prefix, _)) = ghost.committed.last() {
            let index = ghost.committed.len();
            let holders: Vec<String> = key.nodes[..self.n]
                .iter()
                .map(|&s| &self.infos[s as usize])
                .filter(|i| i.prefix.get(index - 1) == Some(&prefix))
                .map(|i| format!("n{}", i.id))
                .collect();
            if holders.len() < self.n / 2 + 1 {
                return Err(broken(
                    "committed entries are on a majority",
                    format!(
                        "{index}@{term} is committed, but only {} of the {} nodes hold it ({}) (§5.3: an entry is committed once the leader \"has replicated it on a majority of the servers\")",
                        holders.len(),
                        self.n,
                        holders.join(", ")
                    ),
                ));
            }
        }
        let a = &self.infos[key.nodes[j] as usize];
        for k in 0..self.n {
            if k == j {
                continue;
            }
            let b = &self.infos[key.nodes[k] as usize];
            let upto = a.terms.len().min(b.terms.len());
            if let Some(i) = (0..upto).rev().find(|&i| a.terms[i] == b.terms[i])
                && a.prefix[i] != b.prefix[i]
            {
                let d = (0..=i).find(|&d| a.prefix[d] != b.prefix[d]).unwrap_or(i);
                return Err(broken(
                    "log matching",
                    format!(
                        "n{} and n{} both hold {}@{}, but their logs up to index {} differ; they first differ at index {}: n{} holds {}@{}, n{} holds {}@{}",
                        a.id,
                        b.id,
                        i + 1,
                        a.terms[i],
                        i + 1,
                        d + 1,
                        a.id,
                        d + 1,
                        a.terms[d],
                        b.id,
                        d + 1,
                        b.terms[d]
                    ),
                ));
            }
        }
        Ok(())
    }

    fn reached(&self, key: &Key, goal: Goal) -> bool {
        let nodes = &key.nodes[..self.n];
        match goal {
            Goal::Leader => nodes
                .iter()
                .any(|&s| self.infos[s as usize].role == StateType::Leader),
            Goal::Committed(i) => nodes.iter().any(|&s| self.infos[s as usize].hs.commit >= i),
            Goal::CommittedOnAll => {
                key.used.get(Used::HEARTBEATS) == 0
                    && nodes.iter().all(|&s| {
                        let i = &self.infos[s as usize];
                        i.first_proposal.is_some_and(|p| i.hs.commit >= p)
                    })
            }
        }
    }

    // ── The start ────────────────────────────────────────────────────────

    /// Boots the cluster and runs the prelude: the start state, and the
    /// decisions that led to it.
    fn start(&mut self) -> Result<(Key, Vec<Decision>), (Stop, Vec<Decision>)> {
        let n = self.n;
        let voters: Vec<NodeId> = (1..=self.setup.nodes).collect();
        let mut nodes = [0u32; MAX_NODES];
        let mut sent = Vec::new();
        let mut ghost = self.intern_ghost(Ghost::default());
        let empty = self.intern_node_placeholder();
        for (j, slot) in nodes.iter_mut().enumerate().take(n) {
            let id = j as NodeId + 1;
            let (entries, hard_state) = self.setup.storage.get(j).cloned().unwrap_or_default();
            let boot = Boot {
                id,
                config: self.config(id, 0),
                storage: StorageSetup {
                    conf_state: ConfState {
                        voters: voters.clone(),
                        learners: Vec::new(),
                    },
                    snapshot: None,
                    entries: entries.clone(),
                    hard_state,
                },
            };
            let result = self.boot(j, &boot, &entries, hard_state, &mut sent);
            let s = result.map_err(|stop| (stop, Vec::new()))?;
            *slot = s;
            ghost = self
                .update_ghost(ghost, empty, s, j)
                .map_err(|f| (Stop::Violation(f), Vec::new()))?;
        }
        sent.sort_unstable();
        let net = self.intern_net(&sent);
        let mut key = Key {
            nodes,
            net,
            ghost,
            used: Used::default(),
        };
        let mut path = Vec::new();
        let prelude = self.setup.prelude.clone();
        for p in prelude {
            let moves: Vec<Move> = match p {
                Prelude::Fire(id) => vec![Move::Fire((id - 1) as u8)],
                Prelude::Propose(id) => vec![Move::Propose((id - 1) as u8)],
                Prelude::Settle => Vec::new(),
            };
            let settle = p == Prelude::Settle;
            let mut i = 0;
            loop {
                let mv = if settle {
                    match self.net(key.net).first() {
                        Some(&m) if i < MAX_SETTLE_STEPS => Move::Deliver(m),
                        _ => break,
                    }
                } else {
                    match moves.get(i) {
                        Some(&mv) => mv,
                        None => break,
                    }
                };
                i += 1;
                path.extend(self.decisions(&key, mv));
                let (next, changed) = self.apply(&key, mv).map_err(|s| (s, path.clone()))?;
                if let Some(j) = changed {
                    self.check_state(&next, j)
                        .map_err(|f| (Stop::Violation(f), path.clone()))?;
                }
                // The prelude's proposals and fires are not the search's.
                if let Move::Propose(_) = mv {
                    self.prelude_values += 1;
                }
                key = Key {
                    used: Used::default(),
                    ..next
                };
            }
            if settle && let Err(f) = self.check_settled(&key) {
                return Err((Stop::Violation(f), path));
            }
        }
        Ok((key, path))
    }

    /// Once every message was delivered after an election, every node
    /// knows the leader: a new leader makes itself known to every other
    /// server at once (§5.2: it "sends heartbeat messages to all of the
    /// other servers to establish its authority").
    fn check_settled(&self, key: &Key) -> Result<(), Failure> {
        let nodes: Vec<&NodeInfo> = key.nodes[..self.n]
            .iter()
            .map(|&s| &self.infos[s as usize])
            .collect();
        let Some(leader) = nodes.iter().find(|i| i.role == StateType::Leader) else {
            return Ok(());
        };
        for i in &nodes {
            if i.id != leader.id && (i.lead != leader.id || i.hs.term != leader.hs.term) {
                return Err(broken(
                    "a new leader makes itself known",
                    format!(
                        "once n{} won term {} and every message was delivered, n{} is {}@{} and knows {} as its leader (§5.2: a new leader \"sends heartbeat messages to all of the other servers to establish its authority\")",
                        leader.id,
                        leader.hs.term,
                        i.id,
                        role_name(i.role),
                        i.hs.term,
                        if i.lead == NONE {
                            "nobody".to_string()
                        } else {
                            format!("n{}", i.lead)
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A node state that stands for "nothing yet": no log, no commit.
    fn intern_node_placeholder(&mut self) -> u32 {
        let id = self.infos.len() as u32;
        self.infos.push(NodeInfo {
            id: 0,
            handle: u64::MAX,
            role: StateType::Follower,
            lead: NONE,
            hs: HardState::default(),
            applied: 0,
            unpaused: Vec::new(),
            terms: Vec::new(),
            prefix: Vec::new(),
            first_proposal: None,
            fire_ticks: 1,
        });
        id
    }

    fn boot(
        &mut self,
        j: usize,
        boot: &Boot,
        entries: &[Entry],
        hs: HardState,
        sent: &mut Vec<u32>,
    ) -> Result<u32, Stop> {
        let node = boot.id;
        match self.driver.apply(&Op::Boot(boot.clone())) {
            Reply::Done => {}
            Reply::Refused(e) => {
                return Err(Stop::Violation(Failure::new(format!(
                    "n{node} could not start from its storage: {e}"
                ))));
            }
            Reply::Panicked(message) => {
                return Err(Stop::Violation(
                    Failure::panic(message).context(format!("n{node} panicked as it started")),
                ));
            }
            other => {
                return Err(Stop::Host(Failure::new(format!(
                    "the host answered Boot(n{node}) with {}",
                    reply_text(&other)
                ))));
            }
        }
        let mut run = Running {
            id: node,
            hs: HardState::default(),
            terms: Vec::new(),
            prefix: Vec::new(),
            applied: 0,
        };
        run.persist_entries(entries)?;
        run.persist_hard_state(hs)?;
        for _ in 0..MAX_READY_ROUNDS {
            match self.driver.apply(&Op::Ready { id: node }) {
                Reply::Ready(None) => break,
                Reply::Ready(Some(rd)) => self.take_ready(&mut run, &rd, sent)?,
                Reply::Panicked(message) => {
                    return Err(Stop::Violation(
                        Failure::panic(message)
                            .context(format!("n{node} panicked as it handed over its Ready")),
                    ));
                }
                other => {
                    return Err(Stop::Host(Failure::new(format!(
                        "the host answered Ready(n{node}) with {}",
                        reply_text(&other)
                    ))));
                }
            }
        }
        match self.driver.apply(&Op::State { id: node }) {
            Reply::State(s) => self.intern_node(j, *s),
            other => Err(Stop::Host(Failure::new(format!(
                "the host answered State(n{node}) with {}",
                reply_text(&other)
            )))),
        }
    }

    // ── Schedules ────────────────────────────────────────────────────────

    /// The decisions of move `mv` from `key`, as a schedule says them.
    fn decisions(&mut self, key: &Key, mv: Move) -> Vec<Decision> {
        let node = |j: u8| NodeId::from(j) + 1;
        match mv {
            Move::Fire(j) => vec![Decision::Fire { node: node(j) }],
            Move::Reboot(j) => vec![
                Decision::Crash { node: node(j) },
                Decision::Restart { node: node(j) },
            ],
            Move::Propose(j) => {
                let k = self.value_index(key);
                vec![Decision::Propose {
                    node: node(j),
                    data: self.value(k as usize),
                }]
            }
            Move::Deliver(m) => vec![Decision::Deliver {
                msg: self.msgs[m as usize].clone(),
                keep: false,
            }],
            Move::Duplicate(m) => vec![Decision::Deliver {
                msg: self.msgs[m as usize].clone(),
                keep: true,
            }],
            Move::Drop(m) => vec![Decision::Drop {
                msg: self.msgs[m as usize].clone(),
            }],
        }
    }

    /// The schedule from the fresh cluster to arena state `at`, and then
    /// `last` if given; with the number of the search's moves in it.
    fn schedule_to(
        &mut self,
        prelude: &[Decision],
        arena: &[Reached],
        at: u32,
        last: Option<(Key, Move)>,
    ) -> (Schedule, u32) {
        let mut chain = Vec::new();
        let mut i = at;
        while i != 0 {
            let r = arena[i as usize];
            chain.push((arena[r.parent as usize].key, Move::unpack(r.mv)));
            i = r.parent;
        }
        chain.reverse();
        chain.extend(last);
        let depth = chain.len() as u32;
        let mut out = prelude.to_vec();
        for (from, mv) in chain {
            out.extend(self.decisions(&from, mv));
        }
        (Schedule(out), depth)
    }

    // ── The search ───────────────────────────────────────────────────────

    /// Explores from the start state to `bounds`, checking the invariants
    /// in every state, and looking for `goal`. `Err` only when the host
    /// stopped answering as a host does.
    pub fn run(&mut self, bounds: &Bounds, goal: Goal, mode: Mode) -> Result<Report, Failure> {
        let (root, prelude) = match self.start() {
            Ok(started) => started,
            Err((Stop::Host(f), _)) => return Err(f),
            Err((Stop::Violation(failure), schedule)) => {
                let mut report = self.report(1, 0, 0, false);
                report.violation = Some(Found {
                    failure,
                    schedule: Schedule(schedule),
                    depth: 0,
                });
                return Ok(report);
            }
        };
        match mode {
            Mode::BreadthFirst => self.breadth_first(root, &prelude, bounds, goal),
            Mode::RandomWalks { walks, seed } => {
                self.random_walks(root, &prelude, bounds, goal, walks, seed)
            }
        }
    }

    fn report(&self, states: u64, transitions: u64, depth: u32, truncated: bool) -> Report {
        Report {
            states,
            transitions,
            depth,
            truncated,
            node_states: self.next_handle,
            node_steps: self.steps.len() as u64,
            messages: self.msgs.len() as u64,
            goal: None,
            violation: None,
            tolerated: self.tolerated.clone(),
        }
    }

    fn breadth_first(
        &mut self,
        root: Key,
        prelude: &[Decision],
        bounds: &Bounds,
        goal: Goal,
    ) -> Result<Report, Failure> {
        // Every state reached, and a table of them by their core: a state
        // whose core was reached before with budgets used no more than its
        // own is subsumed (the earlier one, no deeper, can do all it can).
        let mut arena: Vec<Reached> = vec![Reached {
            key: root,
            parent: 0,
            mv: 0,
            next: EMPTY,
        }];
        let mut table = Table::new();
        let (slot, _) = table.find(fx_hash(&root.core()), |_| false);
        table.set(slot, 0);
        let mut level: Vec<u32> = vec![0];
        let mut transitions = 0u64;
        let mut goal_at: Option<u32> = self.reached(&root, goal).then_some(0);
        let mut depth = 0;
        let mut truncated = false;
        let mut moves = Vec::new();
        'levels: while depth < bounds.depth && !level.is_empty() {
            let mut next_level = Vec::new();
            for &at in &level {
                let key = arena[at as usize].key;
                self.moves(&key, bounds, &mut moves);
                for &mv in &moves {
                    transitions += 1;
                    let (next, changed) = match self.apply(&key, mv) {
                        Ok(next) => next,
                        Err(Stop::Host(f)) => return Err(f),
                        Err(Stop::Violation(failure)) => {
                            let (schedule, d) =
                                self.schedule_to(prelude, &arena, at, Some((key, mv)));
                            let mut report =
                                self.report(arena.len() as u64, transitions, depth, false);
                            report.goal = self.goal_schedule(prelude, &arena, goal_at);
                            report.violation = Some(Found {
                                failure,
                                schedule,
                                depth: d,
                            });
                            return Ok(report);
                        }
                    };
                    table.reserve(|i| fx_hash(&arena[i as usize].key.core()));
                    let core = next.core();
                    let (slot, first) =
                        table.find(fx_hash(&core), |i| arena[i as usize].key.core() == core);
                    let mut same = first.unwrap_or(EMPTY);
                    let mut subsumed = false;
                    while same != EMPTY {
                        let r = &arena[same as usize];
                        if r.key.used.within(next.used) {
                            subsumed = true;
                            break;
                        }
                        same = r.next;
                    }
                    if subsumed {
                        continue;
                    }
                    let index = arena.len() as u32;
                    arena.push(Reached {
                        key: next,
                        parent: at,
                        mv: mv.pack(),
                        next: first.unwrap_or(EMPTY),
                    });
                    table.set(slot, index);
                    if first.is_none()
                        && let Some(j) = changed
                        && let Err(failure) = self.check_state(&next, j)
                    {
                        let (schedule, d) = self.schedule_to(prelude, &arena, index, None);
                        let mut report = self.report(arena.len() as u64, transitions, depth, false);
                        report.goal = self.goal_schedule(prelude, &arena, goal_at);
                        report.violation = Some(Found {
                            failure,
                            schedule,
                            depth: d,
                        });
                        return Ok(report);
                    }
                    if goal_at.is_none() && self.reached(&next, goal) {
                        goal_at = Some(index);
                    }
                    next_level.push(index);
                    if arena.len() as u64 >= bounds.states {
                        truncated = true;
                        break 'levels;
                    }
                }
            }
            level = next_level;
            depth += 1;
        }
        let mut report = self.report(arena.len() as u64, transitions, depth, truncated);
        report.goal = self.goal_schedule(prelude, &arena, goal_at);
        Ok(report)
    }

    fn goal_schedule(
        &mut self,
        prelude: &[Decision],
        arena: &[Reached],
        at: Option<u32>,
    ) -> Option<(u32, Schedule)> {
        let at = at?;
        let (schedule, depth) = self.schedule_to(prelude, arena, at, None);
        Some((depth, schedule))
    }

    #[allow(clippy::too_many_arguments)]
    fn random_walks(
        &mut self,
        root: Key,
        prelude: &[Decision],
        bounds: &Bounds,
        goal: Goal,
        walks: u64,
        seed: u64,
    ) -> Result<Report, Failure> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut visited: FxSet<Key> = FxSet::default();
        visited.insert(root);
        let mut transitions = 0u64;
        let mut longest = 0;
        let mut goal_found: Option<(u32, Schedule)> = None;
        let mut moves = Vec::new();
        for _ in 0..walks {
            let mut key = root;
            let mut path: Vec<(Key, Move)> = Vec::new();
            for _ in 0..bounds.depth {
                self.moves(&key, bounds, &mut moves);
                if moves.is_empty() {
                    break;
                }
                let mv = moves[rng.random_range(0..moves.len())];
                transitions += 1;
                let step = self.apply(&key, mv);
                let failure = match step {
                    Ok((next, changed)) => {
                        path.push((key, mv));
                        let fresh = visited.insert(next);
                        let broke = match changed {
                            Some(j) if fresh => self.check_state(&next, j).err(),
                            _ => None,
                        };
                        if broke.is_none() {
                            if goal_found.is_none() && self.reached(&next, goal) {
                                let schedule = self.walk_schedule(prelude, &path);
                                goal_found = Some((path.len() as u32, schedule));
                            }
                            key = next;
                            if visited.len() as u64 >= bounds.states {
                                break;
                            }
                            continue;
                        }
                        broke
                    }
                    Err(Stop::Host(f)) => return Err(f),
                    Err(Stop::Violation(f)) => {
                        path.push((key, mv));
                        Some(f)
                    }
                };
                if let Some(failure) = failure {
                    let schedule = self.walk_schedule(prelude, &path);
                    let mut report = self.report(
                        visited.len() as u64,
                        transitions,
                        longest.max(path.len() as u32),
                        false,
                    );
                    report.goal = goal_found;
                    report.violation = Some(Found {
                        failure,
                        schedule,
                        depth: path.len() as u32,
                    });
                    return Ok(report);
                }
            }
            longest = longest.max(path.len() as u32);
            if visited.len() as u64 >= bounds.states {
                let mut report = self.report(visited.len() as u64, transitions, longest, true);
                report.goal = goal_found;
                return Ok(report);
            }
        }
        let mut report = self.report(visited.len() as u64, transitions, longest, false);
        report.goal = goal_found;
        Ok(report)
    }

    fn walk_schedule(&mut self, prelude: &[Decision], path: &[(Key, Move)]) -> Schedule {
        let mut out = prelude.to_vec();
        for (key, mv) in path {
            out.extend(self.decisions(key, *mv));
        }
        Schedule(out)
    }
}

/// `net` without one copy of `m`, into `out`.
fn without(net: &[u32], m: u32, out: &mut Vec<u32>) {
    out.clear();
    let mut removed = false;
    for &x in net {
        if x == m && !removed {
            removed = true;
        } else {
            out.push(x);
        }
    }
}

fn reply_text(r: &Reply) -> String {
    match r {
        Reply::Panicked(m) => format!("a panic: {m}"),
        Reply::Refused(e) => format!("a refusal: {e}"),
        Reply::Done => "Done".to_string(),
        Reply::Ready(_) => "a Ready".to_string(),
        Reply::State(_) => "a State".to_string(),
        Reply::Status(_) => "a Status".to_string(),
        Reply::Msgs(_) => "messages".to_string(),
        Reply::Bool(_) => "a boolean".to_string(),
    }
}

/// `n1 leader@2 [1@1 2@2] commit=2`: one node state, for messages.
pub fn describe_node(s: &NodeState) -> String {
    let terms: Vec<String> = s
        .log
        .entries
        .iter()
        .map(|e| format!("{}@{}", e.index, e.term))
        .collect();
    format!(
        "n{} {}@{} vote={} [{}] commit={}",
        s.id,
        role_name(s.state),
        s.term,
        who(s.vote),
        terms.join(" "),
        s.log.committed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_pack_and_unpack() {
        for mv in [
            Move::Fire(2),
            Move::Reboot(0),
            Move::Propose(4),
            Move::Deliver(0),
            Move::Duplicate(12345),
            Move::Drop((1 << 29) - 1),
        ] {
            assert_eq!(Move::unpack(mv.pack()), mv);
        }
    }

    #[test]
    fn budgets_count_apart() {
        let u = Used::default()
            .bump(Used::TIMEOUTS)
            .bump(Used::TIMEOUTS)
            .bump(Used::PROPOSALS);
        assert_eq!(u.get(Used::TIMEOUTS), 2);
        assert_eq!(u.get(Used::PROPOSALS), 1);
        assert_eq!(u.get(Used::DROPS), 0);
    }

    #[test]
    fn a_message_leaves_the_network_once() {
        let mut out = Vec::new();
        without(&[1, 2, 2, 3], 2, &mut out);
        assert_eq!(out, vec![1, 2, 3]);
        without(&[1, 3], 2, &mut out);
        assert_eq!(out, vec![1, 3]);
    }

    #[test]
    fn a_table_finds_what_it_holds_through_growth() {
        let values: Vec<u64> = (0..5000).map(|i| i * 7919 % 10007).collect();
        let mut t = Table::new();
        for (id, v) in values.iter().enumerate() {
            t.reserve(|i| fx_hash(&values[i as usize]));
            let (slot, found) = t.find(fx_hash(v), |i| values[i as usize] == *v);
            assert_eq!(found, None);
            t.set(slot, id as u32);
        }
        for (id, v) in values.iter().enumerate() {
            let (_, found) = t.find(fx_hash(v), |i| values[i as usize] == *v);
            assert_eq!(found, Some(id as u32));
        }
        assert_eq!(t.find(fx_hash(&99_999u64), |_| false).1, None);
    }

    #[test]
    fn budgets_subsume_componentwise() {
        let a = Used::default().bump(Used::TIMEOUTS);
        let b = a.bump(Used::REBOOTS);
        assert!(a.within(b));
        assert!(!b.within(a));
        let c = Used::default().bump(Used::DROPS);
        assert!(!a.within(c) && !c.within(a));
    }

    #[test]
    fn bounds_scale_within_their_fields() {
        let b = Bounds {
            depth: 10,
            min_depth: 8,
            states: 1000,
            timeouts: 3,
            heartbeats: 1,
            reboots: 40,
            duplicates: 1,
            drops: 0,
            proposals: 2,
        };
        let s = b.scaled(10);
        assert_eq!(
            (s.depth, s.states, s.timeouts, s.reboots),
            (100, 10_000, 30, Bounds::MAX_BUDGET)
        );
        assert_eq!(
            s.min_depth, 0,
            "a scaled search is judged on what it explored"
        );
        assert_eq!(b.scaled(1).min_depth, 8);
    }

    #[test]
    fn the_hasher_is_deterministic_and_spreads() {
        use std::hash::Hash;
        let h = |k: &Key| {
            let mut s = FxHasher::default();
            k.hash(&mut s);
            s.finish()
        };
        let a = Key {
            nodes: [1, 2, 3, 0, 0],
            net: 7,
            ghost: 0,
            used: Used(0),
        };
        let b = Key { net: 8, ..a };
        assert_eq!(h(&a), h(&a));
        assert_ne!(h(&a), h(&b));
    }
}
