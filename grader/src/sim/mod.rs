//! The deterministic cluster simulator.
//!
//! A [`Sim`] runs N nodes (ids `1..=N`) through a [`Driver`] and drives them
//! exactly as an application would: on every `Ready`, persist (entries,
//! hard state) → send the messages into the simulated network → apply the
//! committed entries to the node's state machine → `advance`. The nodes run
//! in the host process, which persists and advances; the simulator sees
//! each `Ready` as data, sends its messages, keeps each node's state
//! machine (the list of what it applied), and lets the [`Checker`] judge
//! what every node did.
//!
//! Everything is a function of the seed: one [`StdRng`] per run draws every
//! random fault, each node's election timeouts are seeded from it, time is
//! a logical tick, and only ordered maps are iterated. The same seed gives
//! the same run, event for event, on both sides of the process boundary.
//!
//! ## A tick
//!
//! 1. Every message due at this tick is delivered, oldest first (at most
//!    [`Options::max_deliveries_per_tick`]; the rest wait a tick).
//! 2. Every live node ticks, in id order.
//!
//! After each delivery and each node's tick the node's `Ready` is handled
//! and the [`Checker`] judges what the node did. Messages take
//! [`Options::latency`] ticks, plus any random delay.
//!
//! ## Faults
//!
//! Random drops (everywhere, or on one directed link), duplicates and
//! extra delays (which reorder messages) are set with [`Sim::set_faults`]
//! and [`Sim::set_link_loss`]. [`Sim::partition`], [`Sim::isolate`] and
//! [`Sim::cut`] (one direction only) break links; [`Sim::heal`] mends them
//! all. A message crosses only if its link works both when it is sent and
//! when it arrives. [`Sim::crash`] loses a node's process and its state
//! machine; its storage survives, and [`Sim::restart`] starts it again from
//! there, and it re-applies its committed log. Messages already on the
//! wire still arrive.
//!
//! ## Holes the run may meet
//!
//! A node that reaches a `todo!()` of a step the run does not depend on
//! (an election scenario's followers meet Replication Step3 when the new
//! leader's first append arrives) has not handled what it was given: the
//! simulator notes it and goes on, as if the message were lost. Reaching a
//! hole the run depends on, or any other panic, ends the run.
//!
//! ## What it leaves out
//!
//! Log compaction and snapshots (every log stays whole in memory),
//! membership changes, and clock drift: every node ticks at the same rate.

pub mod check;
pub mod explore;
pub mod measure;
pub mod shrink;

use std::collections::{BTreeMap, VecDeque};

use raftpb::{
    ConfState, Entry, EntryType, HardState, Index, Message, MessageType, NodeId, StateType, Term,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use crate::drive::schedule::{Decision, Schedule};
pub use crate::model::event::{DropReason, Event, Faults, MsgInfo, Proposal};
pub use check::Checker;

use crate::drive::{Boot, Call, Driver, NodeConfig, Op, Reply, StorageSetup};
use crate::model::event::{EntryInfo, preview};
use crate::model::{Failure, ReadyView, Seed, Status, Step, mix, role_name};

/// How a simulated cluster is set up.
#[derive(Clone, Debug)]
pub struct Options {
    /// Nodes `1..=nodes`, all voters.
    pub nodes: u64,
    /// The election timeout of every node, in ticks; each node's randomized
    /// timeout is in `[election_tick, 2 * election_tick)`.
    pub election_tick: u64,
    /// Ticks between a leader's heartbeats.
    pub heartbeat_tick: u64,
    pub pre_vote: bool,
    pub check_quorum: bool,
    /// Ticks a message takes on the wire, at least 1.
    pub latency: u64,
    /// `Config::max_size_per_msg` of every node.
    pub max_size_per_msg: u64,
    /// `Config::max_inflight_msgs` of every node.
    pub max_inflight_msgs: u64,
    /// The most messages delivered in one tick; the rest wait.
    pub max_deliveries_per_tick: usize,
    /// The most messages on the wire at once: more is a message storm, and
    /// the run fails.
    pub max_in_flight: usize,
    /// The most `Ready` rounds one node may need after one event.
    pub max_ready_rounds: usize,
    /// `Config::max_uncommitted_entries_size` of every node.
    pub max_uncommitted_size: u64,
}

impl Options {
    /// `nodes` nodes with RaftLab's test clocks: election timeout 10 ticks,
    /// a heartbeat every 2, one tick of latency; no pre-vote, no
    /// check-quorum.
    pub fn new(nodes: u64) -> Options {
        Options {
            nodes,
            election_tick: 10,
            heartbeat_tick: 2,
            pre_vote: false,
            check_quorum: false,
            latency: 1,
            max_size_per_msg: 1 << 20,
            max_inflight_msgs: 256,
            max_deliveries_per_tick: 10_000,
            max_in_flight: 200_000,
            max_ready_rounds: 16,
            max_uncommitted_size: u64::MAX,
        }
    }

    /// The same, with pre-vote and check-quorum on.
    pub fn with_pre_vote(mut self) -> Options {
        self.pre_vote = true;
        self.check_quorum = true;
        self
    }
}

/// One entry a node applied to its state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub index: Index,
    pub term: Term,
    pub data: Vec<u8>,
}

/// Messages sent, by type, and their size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages nodes sent, by `MessageType` (in `MessageType::ALL` order).
    pub sent: [u64; MessageType::ALL.len()],
    /// Bytes sent: every message's fixed header plus its entries' data.
    pub bytes: u64,
    /// Bytes of entry data sent (in `MsgApp` and forwarded `MsgProp`).
    pub entry_bytes: u64,
    /// `MsgAppResp`s that rejected an append.
    pub rejected_appends: u64,
    /// Messages the network lost (random drops, cut links, down receivers).
    pub dropped: u64,
    /// Extra copies the network made.
    pub duplicated: u64,
    /// Messages stepped into a node.
    pub delivered: u64,
    /// Ticks run and node ticks taken.
    pub ticks: u64,
    /// Events the checker judged: deliveries, node ticks, proposals...
    pub events: u64,
}

/// What one message counts for in [`Stats::bytes`] besides its entries.
pub const MESSAGE_HEADER_BYTES: u64 = 64;

impl Stats {
    /// Messages sent of type `t`.
    pub fn count(&self, t: MessageType) -> u64 {
        self.sent[type_slot(t)]
    }

    /// Messages sent of any type.
    pub fn total(&self) -> u64 {
        self.sent.iter().sum()
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Stats) -> Stats {
        let mut d = self.clone();
        for (a, b) in d.sent.iter_mut().zip(earlier.sent.iter()) {
            *a -= b;
        }
        d.bytes -= earlier.bytes;
        d.entry_bytes -= earlier.entry_bytes;
        d.rejected_appends -= earlier.rejected_appends;
        d.dropped -= earlier.dropped;
        d.duplicated -= earlier.duplicated;
        d.delivered -= earlier.delivered;
        d.ticks -= earlier.ticks;
        d.events -= earlier.events;
        d
    }

    /// `MsgApp 12, MsgAppResp 12, ...`: the types sent at least once.
    pub fn by_type(&self) -> String {
        let parts: Vec<String> = MessageType::ALL
            .iter()
            .filter(|&&t| self.count(t) > 0)
            .map(|&t| format!("{t:?} {}", self.count(t)))
            .collect();
        parts.join(", ")
    }
}

fn type_slot(t: MessageType) -> usize {
    MessageType::ALL
        .iter()
        .position(|&x| x == t)
        .unwrap_or_else(|| panic!("{t:?} missing from MessageType::ALL"))
}

/// What the simulator knows of one node. Its storage lives with the node,
/// in the host; this mirrors what the node reported.
#[derive(Default)]
struct Node {
    up: bool,
    /// How many times it was restarted.
    incarnation: u64,
    /// The state machine: every entry applied in this incarnation, index 1
    /// first.
    applied: Vec<Applied>,
    /// Where the node stood after its last `Ready`.
    status: Status,
    /// The role and term last noted, for the trace and the checker.
    role: (StateType, Term),
    /// The hard state last persisted (survives crashes).
    hard_state: HardState,
    /// The last index of the persisted log (survives crashes).
    persisted_last: Index,
}

/// How a run treats the holes its nodes may reach.
#[derive(Clone, Copy, Debug, Default)]
pub struct Holes {
    /// A hole of a step after this one in the guide's order is one the run
    /// does not depend on: a node that reaches it did not handle what it
    /// was given, and the run goes on. `None`: every hole ends the run.
    pub tolerate_after: Option<Step>,
}

impl Holes {
    fn tolerates(&self, step: Step) -> bool {
        self.tolerate_after.is_some_and(|last| step > last)
    }
}

/// A simulated cluster.
pub struct Sim<'d> {
    driver: &'d mut dyn Driver,
    opts: Options,
    seed: Seed,
    now: u64,
    rng: StdRng,
    nodes: BTreeMap<NodeId, Node>,
    /// Messages on the wire, by arrival tick, each tick's in sending
    /// order: delivery order is arrival order, then sending order.
    wire: BTreeMap<u64, VecDeque<Message>>,
    /// How many messages `wire` holds.
    in_flight: usize,
    faults: Faults,
    /// `blocked[from][to]`: the link is cut.
    blocked: Vec<Vec<bool>>,
    /// `link_loss[from][to]`: the chance the link loses a message.
    link_loss: Vec<Vec<f64>>,
    checker: Checker,
    stats: Stats,
    holes: Holes,
    /// Holes reached and tolerated, by step: how many times.
    tolerated: BTreeMap<Step, u64>,
    tracing: bool,
    events: Vec<Event>,
    /// The run's schedule: every decision of the world, when tracing.
    schedule: Vec<Decision>,
    /// Replaying a schedule: every message sent, in order; `None` in a
    /// timed run.
    pool: Option<Vec<Pooled>>,
}

/// A message a replayed run sent.
struct Pooled {
    msg: Message,
    sent: u64,
    /// Delivered or lost.
    done: bool,
}

/// What each node's storage holds when a replayed cluster boots: its
/// entries, from index 1, and its hard state.
pub type InitialStorage = [(Vec<Entry>, HardState)];

/// Derives a seed for one purpose from the run's seed.
fn derive_seed(seed: Seed, a: u64, b: u64) -> u64 {
    mix(mix(seed.0, a), b)
}

impl<'d> Sim<'d> {
    /// A cluster of `opts.nodes` fresh nodes, at tick 0, with a reliable
    /// network. `tracing` records every event for [`Sim::trace`].
    pub fn new(
        driver: &'d mut dyn Driver,
        seed: Seed,
        opts: Options,
        holes: Holes,
        tracing: bool,
    ) -> Result<Sim<'d>, Failure> {
        Sim::build(driver, seed, opts, holes, tracing, None)
    }

    /// A cluster for [`Sim::replay`]: the nodes boot from `storage` (all
    /// fresh when it is empty), and messages wait until a decision
    /// delivers them.
    pub fn for_replay(
        driver: &'d mut dyn Driver,
        seed: Seed,
        opts: Options,
        holes: Holes,
        tracing: bool,
        storage: &InitialStorage,
    ) -> Result<Sim<'d>, Failure> {
        Sim::build(driver, seed, opts, holes, tracing, Some(storage))
    }

    fn build(
        driver: &'d mut dyn Driver,
        seed: Seed,
        opts: Options,
        holes: Holes,
        tracing: bool,
        replay: Option<&InitialStorage>,
    ) -> Result<Sim<'d>, Failure> {
        if opts.nodes == 0 || opts.latency == 0 || opts.nodes > 64 {
            return Err(Failure::new(format!(
                "simulator set-up: {} nodes and latency {} (need 1 to 64 nodes and a latency of at least 1)",
                opts.nodes, opts.latency
            )));
        }
        let n = opts.nodes as usize;
        let mut sim = Sim {
            driver,
            seed,
            now: 0,
            rng: StdRng::seed_from_u64(seed.0),
            nodes: BTreeMap::new(),
            wire: BTreeMap::new(),
            in_flight: 0,
            faults: Faults::default(),
            blocked: vec![vec![false; n + 1]; n + 1],
            link_loss: vec![vec![0.0; n + 1]; n + 1],
            checker: Checker::new(),
            stats: Stats::default(),
            holes,
            tolerated: BTreeMap::new(),
            tracing,
            events: Vec::new(),
            schedule: Vec::new(),
            pool: replay.map(|_| Vec::new()),
            opts,
        };
        let storage = replay.unwrap_or_default();
        let voters: Vec<NodeId> = (1..=sim.opts.nodes).collect();
        for &id in &voters {
            sim.nodes.insert(id, Node::default());
            let (entries, hard_state) = storage.get((id - 1) as usize).cloned().unwrap_or_default();
            for e in &entries {
                sim.checker.on_propose(&e.data);
            }
            sim.checker.on_persist_entries(id, &entries, 0)?;
            sim.checker.on_hard_state(id, hard_state, 0)?;
            if !entries.is_empty() || hard_state != HardState::default() {
                let terms: Vec<Term> = entries.iter().map(|e| e.term).collect();
                sim.record(|tick| Event::Persist {
                    tick,
                    node: id,
                    first: 1,
                    terms,
                    hard_state,
                });
            }
            let node = sim.node_mut(id);
            node.hard_state = hard_state;
            node.persisted_last = entries.last().map_or(0, |e| e.index);
            let boot = Boot {
                id,
                config: sim.config(id, 0),
                storage: StorageSetup {
                    conf_state: ConfState {
                        voters: voters.clone(),
                        learners: Vec::new(),
                    },
                    snapshot: None,
                    entries,
                    hard_state,
                },
            };
            sim.start(id, &Op::Boot(boot))?;
        }
        Ok(sim)
    }

    /// The config of `id`'s `incarnation`.
    fn config(&self, id: NodeId, incarnation: u64) -> NodeConfig {
        NodeConfig {
            election_tick: self.opts.election_tick,
            heartbeat_tick: self.opts.heartbeat_tick,
            pre_vote: self.opts.pre_vote,
            check_quorum: self.opts.check_quorum,
            max_size_per_msg: self.opts.max_size_per_msg,
            max_inflight_msgs: self.opts.max_inflight_msgs,
            max_uncommitted_size: self.opts.max_uncommitted_size,
            applied: 0,
            seed: derive_seed(self.seed, id, incarnation),
        }
    }

    /// Boots or restarts `id` with `op`, then lets it re-apply its
    /// committed log.
    fn start(&mut self, id: NodeId, op: &Op) -> Result<(), Failure> {
        match self.driver.apply(op) {
            Reply::Done => {}
            Reply::Refused(e) => {
                return Err(self.fail(format!("n{id} could not start from its storage: {e}")));
            }
            other => return Err(self.unexpected(id, "start", other)),
        }
        let status = match self.driver.apply(&Op::Status { id }) {
            Reply::Status(s) => s,
            other => return Err(self.unexpected(id, "report its status", other)),
        };
        let node = self.node_mut(id);
        node.up = true;
        node.status = status;
        node.role = (status.state, status.term);
        self.handle_ready(id)
    }

    /// Fails the run for a reply that is not what `id` should answer to
    /// `what`: a panic (at a hole, or anywhere), or a refusal.
    fn unexpected(&mut self, id: NodeId, what: &str, reply: Reply) -> Failure {
        match reply {
            Reply::Panicked(message) => Failure::panic(message).context(format!(
                "t={}: n{id} panicked as it was asked to {what}",
                self.now
            )),
            Reply::Refused(e) => self.fail(format!("n{id} refused to {what}: {e}")),
            other => self.fail(format!("n{id} answered {what} with {other:?}")),
        }
    }

    /// Whether a panic reply from `id` is at a hole this run tolerates;
    /// notes it if so.
    fn tolerated(&mut self, id: NodeId, reply: &Reply) -> bool {
        let Reply::Panicked(message) = reply else {
            return false;
        };
        let Some(step) = Step::from_panic(message) else {
            return false;
        };
        if !self.holes.tolerates(step) {
            return false;
        }
        *self.tolerated.entry(step).or_default() += 1;
        self.note(|| format!("n{id} reached the todo!() of {step}: it could not handle this yet"));
        true
    }

    /// The holes reached and tolerated in this run, with how many times.
    pub fn tolerated_holes(&self) -> &BTreeMap<Step, u64> {
        &self.tolerated
    }

    fn node_ref(&self, id: NodeId) -> Result<&Node, Failure> {
        self.nodes.get(&id).ok_or_else(|| {
            Failure::new(format!(
                "simulator: there is no node n{id} (nodes are 1..={})",
                self.opts.nodes
            ))
        })
    }

    /// Panics on an id that is not a node: a bug in the scenario itself.
    fn node_mut(&mut self, id: NodeId) -> &mut Node {
        let n = self.opts.nodes;
        self.nodes
            .get_mut(&id)
            .unwrap_or_else(|| panic!("simulator: there is no node n{id} (nodes are 1..={n})"))
    }

    fn record(&mut self, event: impl FnOnce(u64) -> Event) {
        if self.tracing {
            let e = event(self.now);
            self.events.push(e);
        }
    }

    /// Adds a decision of the world to the run's schedule, when tracing.
    fn decide(&mut self, decision: impl FnOnce() -> Decision) {
        if self.tracing {
            self.schedule.push(decision());
        }
    }

    /// Hands `id`'s pending work to the application, as many rounds as it
    /// takes (bounded), and checks what the node did.
    fn handle_ready(&mut self, id: NodeId) -> Result<(), Failure> {
        let max_rounds = self.opts.max_ready_rounds;
        for _ in 0..max_rounds {
            if !self.node_ref(id)?.up {
                return Ok(());
            }
            let rd = match self.driver.apply(&Op::Ready { id }) {
                Reply::Ready(None) => return Ok(()),
                Reply::Ready(Some(rd)) => rd,
                other => return Err(self.unexpected(id, "hand over its Ready", other)),
            };
            self.take_ready(id, *rd)?;
        }
        Err(self.fail(format!(
            "n{id} still had work after {max_rounds} Ready rounds for one event"
        )))
    }

    /// Does what an application does with one `Ready` of `id`.
    fn take_ready(&mut self, id: NodeId, rd: ReadyView) -> Result<(), Failure> {
        let now = self.now;
        // 1. Persist, before anything is sent.
        if let Some(snap) = &rd.snapshot {
            return Err(self.fail(format!(
                "n{id} was handed snapshot {}@{}, but nothing in this simulator compacts its log",
                snap.metadata.index, snap.metadata.term
            )));
        }
        if !rd.entries.is_empty() {
            self.checker.on_persist_entries(id, &rd.entries, now)?;
            if let Some(last) = rd.entries.last() {
                self.node_mut(id).persisted_last = last.index;
            }
        }
        if let Some(e) = &rd.persist_error {
            return Err(self.fail(format!("n{id} could not persist what it asked to: {e}")));
        }
        if let Some(hs) = rd.hard_state {
            self.persist_hard_state(id, hs)?;
        }
        if !rd.entries.is_empty() || rd.hard_state.is_some() {
            let hard_state = self.node_mut(id).hard_state;
            let first = rd.entries.first().map_or(0, |e| e.index);
            let terms: Vec<Term> = rd.entries.iter().map(|e| e.term).collect();
            self.record(|tick| Event::Persist {
                tick,
                node: id,
                first,
                terms,
                hard_state,
            });
        }
        self.node_mut(id).status = rd.status;

        // A role change is noted before the messages it caused, so the
        // trace reads in cause-and-effect order.
        self.observe_role(id)?;

        // 2. Send.
        for m in &rd.messages {
            self.checker.on_send(m, now)?;
            if m.to == id {
                return Err(self.fail(format!(
                    "no message to oneself: n{id} sent itself {} (§5.3: a leader sends its RPCs \"to each of the other servers\")",
                    MsgInfo::of(m)
                )));
            }
        }
        for m in rd.messages {
            self.send(m);
        }

        // 3. Apply.
        for e in &rd.committed_entries {
            self.checker.on_apply(id, e, now)?;
            self.record(|tick| Event::Apply {
                tick,
                node: id,
                entry: EntryInfo::of(e),
            });
            let node = self.node_mut(id);
            node.applied.push(Applied {
                index: e.index,
                term: e.term,
                data: if e.entry_type == EntryType::Normal {
                    e.data.to_vec()
                } else {
                    Vec::new()
                },
            });
        }
        // 4. The host advanced the node.
        Ok(())
    }

    fn persist_hard_state(&mut self, id: NodeId, hs: HardState) -> Result<(), Failure> {
        let now = self.now;
        self.checker.on_hard_state(id, hs, now)?;
        let node = self.node_mut(id);
        let before = node.hard_state.commit;
        node.hard_state = hs;
        if hs.commit > before {
            self.record(|tick| Event::Commit {
                tick,
                node: id,
                from: before,
                to: hs.commit,
            });
        }
        Ok(())
    }

    /// Notes a change of `id`'s role or term, and lets the checker judge it.
    fn observe_role(&mut self, id: NodeId) -> Result<(), Failure> {
        let node = self.node_mut(id);
        if !node.up {
            return Ok(());
        }
        let now_role = (node.status.state, node.status.term);
        let before = node.role;
        if now_role == before {
            return Ok(());
        }
        node.role = now_role;
        self.record(|tick| Event::Role {
            tick,
            node: id,
            from: before,
            to: now_role,
        });
        self.checker.on_role(id, now_role.0, now_role.1, self.now)
    }

    /// Puts `m` on the wire, through the network's faults.
    fn send(&mut self, m: Message) {
        let slot = type_slot(m.msg_type);
        self.stats.sent[slot] += 1;
        if m.msg_type == MessageType::MsgAppResp && m.reject {
            self.stats.rejected_appends += 1;
        }
        let entry_bytes: u64 = m.entries.iter().map(|e| e.data.len() as u64).sum();
        self.stats.entry_bytes += entry_bytes;
        self.stats.bytes += MESSAGE_HEADER_BYTES + entry_bytes;

        let (from, to) = (m.from, m.to);
        if self.pool.is_some() {
            if !self.is_node(to) {
                self.stats.dropped += 1;
                self.record(|tick| Event::Drop {
                    tick,
                    msg: MsgInfo::of(&m),
                    reason: DropReason::Unknown,
                });
                return;
            }
            let sent = self.now;
            if let Some(pool) = self.pool.as_mut() {
                pool.push(Pooled {
                    msg: m.clone(),
                    sent,
                    done: false,
                });
            }
            self.record(|tick| Event::Send {
                tick,
                msg: MsgInfo::of(&m),
                arrives: tick + 1,
            });
            return;
        }
        if let Some(reason) = self.lost_on_send(from, to) {
            self.stats.dropped += 1;
            self.record(|tick| Event::Drop {
                tick,
                msg: MsgInfo::of(&m),
                reason,
            });
            return;
        }
        let duplicate =
            self.faults.duplicate_rate > 0.0 && self.rng.random_bool(self.faults.duplicate_rate);
        if duplicate {
            let arrives = self.arrival();
            self.stats.duplicated += 1;
            self.record(|tick| Event::Duplicate {
                tick,
                msg: MsgInfo::of(&m),
                arrives,
            });
            self.enqueue(m.clone(), arrives);
        }
        let arrives = self.arrival();
        self.record(|tick| Event::Send {
            tick,
            msg: MsgInfo::of(&m),
            arrives,
        });
        self.enqueue(m, arrives);
    }

    /// Why a message from `from` to `to` is lost as it is sent, if it is.
    fn lost_on_send(&mut self, from: NodeId, to: NodeId) -> Option<DropReason> {
        if !self.is_node(from) || !self.is_node(to) {
            return Some(DropReason::Unknown);
        }
        if self.blocked[from as usize][to as usize] {
            return Some(DropReason::Cut);
        }
        let link = self.link_loss[from as usize][to as usize];
        if link > 0.0 && self.rng.random_bool(link) {
            return Some(DropReason::Link);
        }
        if self.faults.drop_rate > 0.0 && self.rng.random_bool(self.faults.drop_rate) {
            return Some(DropReason::Random);
        }
        None
    }

    fn is_node(&self, id: NodeId) -> bool {
        (1..=self.opts.nodes).contains(&id)
    }

    /// When a message sent now arrives.
    fn arrival(&mut self) -> u64 {
        let f = self.faults;
        let long = f.long_delay_rate > 0.0 && self.rng.random_bool(f.long_delay_rate);
        let extra = if long && f.max_long_delay > f.max_extra_delay {
            self.rng.random_range(f.max_extra_delay..=f.max_long_delay)
        } else if f.max_extra_delay > 0 {
            self.rng.random_range(0..=f.max_extra_delay)
        } else {
            0
        };
        self.now + self.opts.latency + extra
    }

    fn enqueue(&mut self, msg: Message, arrives: u64) {
        self.wire.entry(arrives).or_default().push_back(msg);
        self.in_flight += 1;
    }

    /// Delivers the messages due now, oldest first, at most
    /// `max_deliveries_per_tick` of them.
    fn deliver_due(&mut self) -> Result<(), Failure> {
        if self.in_flight > self.opts.max_in_flight {
            return Err(self.fail(format!(
                "message storm: {} messages on the wire (at most {} expected); sent so far: {}",
                self.in_flight,
                self.opts.max_in_flight,
                self.stats.by_type()
            )));
        }
        for _ in 0..self.opts.max_deliveries_per_tick {
            let Some(mut due) = self.wire.first_entry() else {
                return Ok(());
            };
            if *due.key() > self.now {
                return Ok(());
            }
            let Some(msg) = due.get_mut().pop_front() else {
                due.remove();
                continue;
            };
            if due.get().is_empty() {
                due.remove();
            }
            self.in_flight -= 1;
            self.deliver(msg)?;
        }
        Ok(())
    }

    fn deliver(&mut self, m: Message) -> Result<(), Failure> {
        let (from, to) = (m.from, m.to);
        let reason = if self.blocked[from as usize][to as usize] {
            Some(DropReason::Cut)
        } else if self.nodes.get(&to).is_none_or(|n| !n.up) {
            Some(DropReason::Down)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.stats.dropped += 1;
            self.record(|tick| Event::Drop {
                tick,
                msg: MsgInfo::of(&m),
                reason,
            });
            return Ok(());
        }
        if self.pool.is_none() {
            self.decide(|| Decision::Deliver {
                msg: m.clone(),
                keep: false,
            });
        }
        self.stats.delivered += 1;
        self.stats.events += 1;
        // A refusal is the node declining the message (a proposal with no
        // leader, a response from a stranger); an application drops those.
        let what = format!("step {:?}", m.msg_type);
        let pre_vote = (m.msg_type == MessageType::MsgPreVote).then_some((m.term, m.from));
        let before = self.node_mut(to).hard_state;
        match self.driver.apply(&Op::Deliver { id: to, msg: m }) {
            Reply::Done | Reply::Refused(_) => {}
            r if self.tolerated(to, &r) => {}
            other => return Err(self.unexpected(to, &what, other)),
        }
        self.handle_ready(to)?;
        // §9.6: a pre-vote is a question; answering it changes nothing.
        let after = self.node_mut(to).hard_state;
        if let Some((term, from)) = pre_vote
            && (before.term, before.vote) != (after.term, after.vote)
        {
            let who = |v: NodeId| {
                if v == 0 {
                    "none".to_string()
                } else {
                    format!("n{v}")
                }
            };
            return Err(self.fail(format!(
                "a pre-vote changes nothing: n{to} went from term {}, vote {} to term {}, vote {} on a MsgPreVote of term {term} from n{from} (§9.6: a pre-vote is a question, not a vote)",
                before.term,
                who(before.vote),
                after.term,
                who(after.vote)
            )));
        }
        Ok(())
    }

    /// Runs one tick: deliveries, then every live node's tick.
    pub fn tick(&mut self) -> Result<(), Failure> {
        self.now += 1;
        self.stats.ticks += 1;
        self.deliver_due()?;
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for id in ids {
            self.tick_node(id, 1)?;
        }
        Ok(())
    }

    /// `times` ticks of `id`'s clock, if it is up.
    fn tick_node(&mut self, id: NodeId, times: u64) -> Result<(), Failure> {
        if !self.node_ref(id)?.up {
            return Ok(());
        }
        if times == 1 {
            self.decide(|| Decision::Tick { node: id });
        }
        match self.driver.apply(&Op::Tick { id, times }) {
            Reply::Done => {}
            r if self.tolerated(id, &r) => {}
            other => return Err(self.unexpected(id, "tick", other)),
        }
        self.stats.events += 1;
        self.handle_ready(id)
    }

    /// Runs `ticks` ticks.
    pub fn run(&mut self, ticks: u64) -> Result<(), Failure> {
        for _ in 0..ticks {
            self.tick()?;
        }
        Ok(())
    }

    /// Runs until `cond` holds (checked before every tick), for at most
    /// `max_ticks` ticks; returns the ticks it took. Fails naming `what`
    /// and the state of every node when the bound is reached.
    pub fn run_until(
        &mut self,
        what: &str,
        max_ticks: u64,
        mut cond: impl FnMut(&Sim<'d>) -> bool,
    ) -> Result<u64, Failure> {
        let limit = measure::stretched(max_ticks);
        for waited in 0..=limit {
            if cond(self) {
                measure::observe(|| what.to_string(), waited, max_ticks);
                return Ok(waited);
            }
            if waited < limit {
                self.tick()?;
            }
        }
        Err(self.fail(format!(
            "{what} not reached within {max_ticks} ticks (nodes: {})",
            self.describe_nodes()
        )))
    }

    /// A failure at the current tick: `t=320: <what>`.
    pub fn fail(&self, what: impl AsRef<str>) -> Failure {
        Failure::new(format!("t={}: {}", self.now, what.as_ref()))
    }

    // ── Looking at the cluster ───────────────────────────────────────────

    /// The current tick.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The run's seed.
    pub fn seed(&self) -> Seed {
        self.seed
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Node ids, `1..=N`.
    pub fn ids(&self) -> Vec<NodeId> {
        self.nodes.keys().copied().collect()
    }

    /// The run's random number generator, for the scenario's own choices
    /// (which node to crash, how long to wait): drawing from it keeps the
    /// whole run a function of the seed.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    pub fn is_up(&self, id: NodeId) -> bool {
        self.nodes.get(&id).is_some_and(|n| n.up)
    }

    /// `id`'s status as of its last `Ready`, `None` while crashed.
    pub fn status(&self, id: NodeId) -> Option<&Status> {
        self.nodes.get(&id).filter(|n| n.up).map(|n| &n.status)
    }

    /// `id`'s role and term, `None` while crashed.
    pub fn role(&self, id: NodeId) -> Option<(StateType, Term)> {
        self.status(id).map(|s| (s.state, s.term))
    }

    /// The term of `id` (0 while crashed).
    pub fn term(&self, id: NodeId) -> Term {
        self.status(id).map_or(0, |s| s.term)
    }

    /// Who `id` believes leads its term (0 for nobody or crashed).
    pub fn lead(&self, id: NodeId) -> NodeId {
        self.status(id).map_or(0, |s| s.lead)
    }

    /// Fixes `id`'s randomized election timeout, to stage an election.
    pub fn set_randomized_election_timeout(
        &mut self,
        id: NodeId,
        ticks: u64,
    ) -> Result<(), Failure> {
        if !self.is_up(id) {
            return Ok(());
        }
        self.decide(|| Decision::SetTimeout { node: id, ticks });
        let op = Op::Call {
            id,
            call: Call::SetRandomizedElectionTimeout(ticks),
        };
        match self.driver.apply(&op) {
            Reply::Done => Ok(()),
            other => Err(self.unexpected(id, "take a randomized election timeout", other)),
        }
    }

    /// What `id` applied in its current incarnation, index 1 first.
    pub fn applied(&self, id: NodeId) -> &[Applied] {
        self.nodes.get(&id).map_or(&[], |n| &n.applied)
    }

    /// The last index `id` persisted as committed (survives crashes).
    pub fn commit_index(&self, id: NodeId) -> Index {
        self.nodes.get(&id).map_or(0, |n| n.hard_state.commit)
    }

    /// The last index of `id`'s persisted log.
    pub fn last_index(&self, id: NodeId) -> Index {
        self.nodes.get(&id).map_or(0, |n| n.persisted_last)
    }

    /// The leader of every term so far, and the tick it won.
    pub fn leaders(&self) -> &BTreeMap<Term, (NodeId, u64)> {
        self.checker.leaders()
    }

    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    /// Messages sent so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The leader that a majority of the cluster follows, if any: a live
    /// node in the leader role, and a majority of all nodes (itself
    /// included) at its term that name it as their leader.
    pub fn leader(&self) -> Option<NodeId> {
        let all = self.ids();
        self.leader_among(&all)
    }

    /// Like [`Sim::leader`], counting only the followers in `group`, and
    /// only a leader in it.
    pub fn leader_among(&self, group: &[NodeId]) -> Option<NodeId> {
        let quorum = self.opts.nodes / 2 + 1;
        group.iter().copied().find(|&l| {
            let Some((StateType::Leader, term)) = self.role(l) else {
                return false;
            };
            let followers = group
                .iter()
                .filter(|&&n| self.term(n) == term && self.lead(n) == l)
                .count() as u64;
            followers >= quorum
        })
    }

    /// Whether every node of `group` is up, at `leader`'s term, following it.
    pub fn all_follow(&self, group: &[NodeId], leader: NodeId) -> bool {
        let term = self.term(leader);
        group
            .iter()
            .all(|&n| self.is_up(n) && self.term(n) == term && self.lead(n) == leader)
    }

    /// `n1 leader@5, n2 follower@5 lead=n1 commit=7 applied=7, n3 down`.
    pub fn describe_nodes(&self) -> String {
        let parts: Vec<String> = self
            .nodes
            .iter()
            .map(|(&id, n)| {
                if !n.up {
                    return format!("n{id} down");
                }
                let s = &n.status;
                let mut text = format!("n{id} {}@{}", role_name(s.state), s.term);
                if s.lead != 0 && s.state != StateType::Leader {
                    text.push_str(&format!(" lead=n{}", s.lead));
                }
                text.push_str(&format!(
                    " last={} commit={} applied={}",
                    s.last_index,
                    s.committed,
                    n.applied.len()
                ));
                text
            })
            .collect();
        parts.join(", ")
    }

    /// How many live nodes applied `index`, and whether they all applied
    /// the same entry there: the first one's term and data.
    pub fn applied_at(&self, index: Index) -> (usize, Option<(Term, &[u8])>) {
        let mut count = 0;
        let mut first: Option<(Term, &[u8])> = None;
        for n in self.nodes.values() {
            if !n.up {
                continue;
            }
            if let Some(a) = index.checked_sub(1).and_then(|i| n.applied.get(i as usize)) {
                count += 1;
                first.get_or_insert((a.term, &a.data));
            }
        }
        (count, first)
    }

    /// The election timeout of the nodes, in ticks.
    pub fn election_ticks(&self) -> u64 {
        self.opts.election_tick
    }

    /// Runs until a majority follows one leader; returns it.
    pub fn wait_leader(&mut self, max_ticks: u64) -> Result<NodeId, Failure> {
        let all = self.ids();
        self.wait_leader_among(&all, max_ticks)
    }

    /// Runs until a leader in `group` is followed by a majority of the
    /// cluster inside `group`; returns it.
    pub fn wait_leader_among(
        &mut self,
        group: &[NodeId],
        max_ticks: u64,
    ) -> Result<NodeId, Failure> {
        let what = if group.len() as u64 == self.opts.nodes {
            "a leader followed by a majority".to_string()
        } else {
            let ids: Vec<String> = group.iter().map(|id| format!("n{id}")).collect();
            format!("a leader among {} followed by a majority", ids.join(","))
        };
        self.run_until(&what, max_ticks, |s| s.leader_among(group).is_some())?;
        match self.leader_among(group) {
            Some(l) => Ok(l),
            None => Err(self.fail(format!("{what}: run_until returned without one"))),
        }
    }

    /// Gets `data` committed and applied on at least `expected` live nodes,
    /// as a client of the cluster would: proposes it at the leader, waits
    /// two election timeouts, and proposes again (at the leader of the
    /// moment) if it did not get through, all within `max_ticks`. Returns
    /// its index.
    pub fn commit(
        &mut self,
        data: &[u8],
        expected: usize,
        max_ticks: u64,
    ) -> Result<Index, Failure> {
        let start = self.now;
        let deadline = self.now + measure::stretched(max_ticks);
        let attempt_ticks = 2 * self.election_ticks();
        while self.now < deadline {
            let proposed = match self.leader() {
                Some(l) => self.propose(l, data.to_vec())?,
                None => Proposal::Down,
            };
            let Proposal::Appended { index, term } = proposed else {
                self.tick()?;
                continue;
            };
            let until = (self.now + attempt_ticks).min(deadline);
            loop {
                match self.applied_at(index) {
                    (count, Some((t, d))) if t == term && d == data => {
                        if count >= expected {
                            let took = self.now - start;
                            measure::observe(
                                || format!("commit on {expected} nodes"),
                                took,
                                max_ticks,
                            );
                            return Ok(index);
                        }
                    }
                    // Another entry was committed at that index: ours is lost.
                    (_, Some(_)) => break,
                    (_, None) => {}
                }
                if self.now >= until {
                    break;
                }
                self.tick()?;
            }
        }
        Err(self.fail(format!(
            "{} was not committed on {expected} nodes within {max_ticks} ticks (nodes: {})",
            preview(data),
            self.describe_nodes()
        )))
    }

    /// Whether every live node applied everything any node committed.
    pub fn converged(&self) -> bool {
        let committed = self.checker.committed_index();
        self.nodes
            .values()
            .all(|n| !n.up || n.applied.len() as u64 >= committed)
    }

    /// Runs until [`Sim::converged`].
    pub fn wait_converged(&mut self, max_ticks: u64) -> Result<u64, Failure> {
        let what = format!(
            "every live node applying all {} committed entries",
            self.checker.committed_index()
        );
        self.run_until(&what, max_ticks, |s| s.converged())
    }

    // ── Acting on the cluster ────────────────────────────────────────────

    /// Proposes `data` at node `id`, as a client of that node would.
    pub fn propose(&mut self, id: NodeId, data: Vec<u8>) -> Result<Proposal, Failure> {
        self.decide(|| Decision::Propose {
            node: id,
            data: data.clone(),
        });
        self.checker.on_propose(&data);
        self.stats.events += 1;
        let shown = preview(&data);
        let result = if self.is_up(id) {
            let before = self.node_mut(id).status;
            let reply = self.driver.apply(&Op::Propose { id, data });
            let refused = match reply {
                Reply::Done => None,
                Reply::Refused(e) => Some(e),
                r if self.tolerated(id, &r) => Some("the node could not handle it yet".into()),
                other => return Err(self.unexpected(id, "take a proposal", other)),
            };
            self.handle_ready(id)?;
            let after = self.node_mut(id).status;
            match refused {
                Some(e) => Proposal::Dropped(e),
                None if before.state == StateType::Leader
                    && after.last_index > before.last_index =>
                {
                    Proposal::Appended {
                        index: after.last_index,
                        term: after.term,
                    }
                }
                None if before.state == StateType::Leader => {
                    Proposal::Dropped("the leader did not append it".into())
                }
                None => Proposal::Forwarded { to: before.lead },
            }
        } else {
            Proposal::Down
        };
        let shown_result = result.clone();
        self.record(|tick| Event::Propose {
            tick,
            node: id,
            data: shown,
            result: shown_result,
        });
        Ok(result)
    }

    /// Proposes `data` at the current leader, if there is one.
    pub fn propose_at_leader(&mut self, data: Vec<u8>) -> Result<Option<(Index, Term)>, Failure> {
        let Some(l) = self.leader() else {
            return Ok(None);
        };
        match self.propose(l, data)? {
            Proposal::Appended { index, term } => Ok(Some((index, term))),
            Proposal::Forwarded { .. } | Proposal::Dropped(_) | Proposal::Down => Ok(None),
        }
    }

    /// Makes `id` start an election now (the application's `campaign`).
    pub fn campaign(&mut self, id: NodeId) -> Result<(), Failure> {
        self.decide(|| Decision::Campaign { node: id });
        self.record(|tick| Event::Campaign { tick, node: id });
        if !self.is_up(id) {
            return Ok(());
        }
        match self.driver.apply(&Op::Campaign { id }) {
            // A leader refuses to campaign again; nothing to do.
            Reply::Done | Reply::Refused(_) => {}
            r if self.tolerated(id, &r) => {}
            other => return Err(self.unexpected(id, "campaign", other)),
        }
        self.stats.events += 1;
        self.handle_ready(id)
    }

    /// Crashes `id`: its node and state machine are gone, its storage stays.
    pub fn crash(&mut self, id: NodeId) -> Result<(), Failure> {
        if !self.node_ref(id)?.up {
            return Ok(());
        }
        self.decide(|| Decision::Crash { node: id });
        match self.driver.apply(&Op::Crash { id }) {
            Reply::Done => {}
            other => return Err(self.unexpected(id, "crash", other)),
        }
        let node = self.node_mut(id);
        node.up = false;
        node.applied.clear();
        self.checker.on_crash(id);
        self.record(|tick| Event::Crash { tick, node: id });
        Ok(())
    }

    /// Restarts a crashed `id` from its storage; it re-applies its
    /// committed log. A node that is up is left alone.
    pub fn restart(&mut self, id: NodeId) -> Result<(), Failure> {
        if self.node_ref(id)?.up {
            return Ok(());
        }
        self.decide(|| Decision::Restart { node: id });
        let node = self.node_mut(id);
        node.incarnation += 1;
        let incarnation = node.incarnation;
        let (term, commit, last_index) = (
            node.hard_state.term,
            node.hard_state.commit,
            node.persisted_last,
        );
        self.record(|tick| Event::Restart {
            tick,
            node: id,
            term,
            commit,
            last_index,
        });
        let seed = self.config(id, incarnation).seed;
        self.start(id, &Op::Restart { id, seed })
    }

    /// Cuts every link between nodes of different groups, both ways; the
    /// links inside each group work. Nodes named in no group are cut off
    /// from everyone.
    pub fn partition(&mut self, groups: &[&[NodeId]]) {
        let n = self.opts.nodes as usize;
        let mut group_of = vec![usize::MAX; n + 1];
        for (g, members) in groups.iter().enumerate() {
            for &id in members.iter() {
                if self.is_node(id) {
                    group_of[id as usize] = g;
                }
            }
        }
        for from in 1..=n {
            for to in 1..=n {
                self.blocked[from][to] =
                    from != to && (group_of[from] == usize::MAX || group_of[from] != group_of[to]);
            }
        }
        let groups: Vec<Vec<NodeId>> = groups.iter().map(|g| g.to_vec()).collect();
        self.record(|tick| Event::Partition { tick, groups });
    }

    /// Cuts `id` off from every other node, both ways.
    pub fn isolate(&mut self, id: NodeId) {
        let others: Vec<NodeId> = self.ids().into_iter().filter(|&n| n != id).collect();
        for &o in &others {
            self.set_blocked(id, o, true);
            self.set_blocked(o, id, true);
        }
        self.record(|tick| Event::Isolate { tick, node: id });
    }

    /// Cuts the link from `from` to `to` only: messages the other way
    /// still arrive.
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.set_blocked(from, to, true);
        self.record(|tick| Event::Cut { tick, from, to });
    }

    fn set_blocked(&mut self, from: NodeId, to: NodeId, blocked: bool) {
        if self.is_node(from) && self.is_node(to) {
            self.blocked[from as usize][to as usize] = blocked;
        }
    }

    /// Every link works again and no link is lossy; the random faults set
    /// with [`Sim::set_faults`] stay.
    pub fn heal(&mut self) {
        for row in &mut self.blocked {
            row.fill(false);
        }
        for row in &mut self.link_loss {
            row.fill(0.0);
        }
        self.record(|tick| Event::Heal { tick });
    }

    /// The link from `from` to `to` loses each message with chance `rate`.
    pub fn set_link_loss(&mut self, from: NodeId, to: NodeId, rate: f64) {
        if self.is_node(from) && self.is_node(to) {
            self.link_loss[from as usize][to as usize] = rate.clamp(0.0, 1.0);
        }
        self.record(|tick| Event::LossyLink {
            tick,
            from,
            to,
            rate,
        });
    }

    /// Sets the random faults of every link.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = Faults {
            drop_rate: faults.drop_rate.clamp(0.0, 1.0),
            duplicate_rate: faults.duplicate_rate.clamp(0.0, 1.0),
            long_delay_rate: faults.long_delay_rate.clamp(0.0, 1.0),
            ..faults
        };
        self.record(|tick| Event::Faults { tick, faults });
    }

    /// Adds a line of the scenario's own to the trace.
    pub fn note(&mut self, text: impl FnOnce() -> String) {
        if self.tracing {
            let text = text();
            self.record(|tick| Event::Note { tick, text });
        }
    }

    // ── The trace ────────────────────────────────────────────────────────

    /// Every event so far, when tracing is on (empty otherwise).
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Ends the run, handing over its events.
    pub fn into_events(self) -> Vec<Event> {
        self.events
    }

    /// Ends the run, handing over its events and its schedule.
    pub fn into_run(self) -> (Vec<Event>, Schedule) {
        (self.events, Schedule(self.schedule))
    }

    // ── Replaying a schedule ─────────────────────────────────────────────

    /// Runs `schedule` on this cluster (made by [`Sim::for_replay`]), one
    /// decision per tick: decision k happens at t=k. A decision that cannot
    /// be taken (a delivery of a message never sent, a restart of a node
    /// that is up) is passed over. Fails with the first broken invariant,
    /// as a timed run does.
    pub fn replay(&mut self, schedule: &Schedule) -> Result<(), Failure> {
        if self.pool.is_none() {
            return Err(self.fail("a schedule is replayed on a cluster made for replays"));
        }
        for decision in &schedule.0 {
            self.now += 1;
            self.stats.ticks += 1;
            match decision {
                Decision::Tick { node } => self.tick_node(*node, 1)?,
                Decision::Fire { node } => self.fire(*node)?,
                Decision::Deliver { msg, keep } => {
                    self.decide(|| decision.clone());
                    match self.take_pooled(msg, *keep, true) {
                        Some((m, sent)) => {
                            self.record(|tick| Event::Deliver {
                                tick,
                                msg: MsgInfo::of(&m),
                                sent,
                            });
                            self.deliver(m)?;
                        }
                        None => self.note(|| format!("(not sent in this run: {decision})")),
                    }
                }
                Decision::Drop { msg } => {
                    self.decide(|| decision.clone());
                    if let Some((m, _)) = self.take_pooled(msg, false, false) {
                        self.stats.dropped += 1;
                        self.record(|tick| Event::Drop {
                            tick,
                            msg: MsgInfo::of(&m),
                            reason: DropReason::Random,
                        });
                    }
                }
                Decision::Propose { node, data } => {
                    self.propose(*node, data.clone())?;
                }
                Decision::Campaign { node } => self.campaign(*node)?,
                Decision::Crash { node } => self.crash(*node)?,
                Decision::Restart { node } => self.restart(*node)?,
                Decision::SetTimeout { node, ticks } => {
                    self.set_randomized_election_timeout(*node, *ticks)?;
                }
            }
        }
        Ok(())
    }

    /// `id`'s timer runs out: its clock ticks until it does (a leader's
    /// heartbeat, anyone else's election timeout), all in one event.
    fn fire(&mut self, id: NodeId) -> Result<(), Failure> {
        self.decide(|| Decision::Fire { node: id });
        if !self.node_ref(id)?.up {
            return Ok(());
        }
        let state = match self.driver.apply(&Op::State { id }) {
            Reply::State(s) => s,
            other => return Err(self.unexpected(id, "report its state", other)),
        };
        let ticks = if state.state == StateType::Leader {
            self.opts
                .heartbeat_tick
                .saturating_sub(state.heartbeat_elapsed)
                .max(1)
        } else {
            state
                .randomized_election_timeout
                .saturating_sub(state.election_elapsed)
                .max(1)
        };
        self.note(|| format!("n{id}'s timer runs out ({ticks} ticks)"));
        self.tick_node(id, ticks)
    }

    /// The message of the pool `msg` names: the oldest one not delivered
    /// with this very content, else (`again`) one delivered before with
    /// it, else the oldest one not delivered with the same sender,
    /// receiver, type and term. Marked done unless `keep`.
    fn take_pooled(&mut self, msg: &Message, keep: bool, again: bool) -> Option<(Message, u64)> {
        let pool = self.pool.as_mut()?;
        let same_kind = |p: &Pooled| {
            p.msg.from == msg.from
                && p.msg.to == msg.to
                && p.msg.msg_type == msg.msg_type
                && p.msg.term == msg.term
        };
        let at = pool
            .iter()
            .position(|p| !p.done && p.msg == *msg)
            .or_else(|| {
                if again {
                    pool.iter().position(|p| p.msg == *msg)
                } else {
                    None
                }
            })
            .or_else(|| pool.iter().position(|p| !p.done && same_kind(p)))?;
        let p = &mut pool[at];
        if !keep {
            p.done = true;
        }
        Some((p.msg.clone(), p.sent))
    }
}
