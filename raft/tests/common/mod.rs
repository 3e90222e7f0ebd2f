//! The test network the behaviour tests share, in the spirit of etcd raft's
//! `network`: nodes by id, "black hole" peers that swallow everything,
//! breadth-first delivery until the network is quiet, and faults (drop, cut,
//! isolate, ignore a message type, recover).
//!
//! Two things differ from etcd's on purpose: random drops come from a seeded
//! RNG owned by the network, so a run is the same every time, and delivery
//! is bounded: a `send` that would deliver more than `max_deliveries`
//! messages fails with the last messages delivered instead of spinning.
//!
//! After every step the network acts as the application would: it persists
//! what the node appended (entries, hard state, an incoming snapshot) into
//! the node's `MemStorage`, then applies the committed entries, including
//! membership changes, before the node's messages go out.

#![allow(dead_code)] // each test binary uses a different part of this file

pub mod etcd;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use raft::{
    ConfChange, ConfChangeType, ConfState, Config, Entry, EntryType, HardState, Index, MemStorage,
    Message, MessageType, NodeId, Raft, Snapshot, SnapshotMetadata, StateType, Storage, Term,
};

/// A node as the tests drive it.
pub type Node = Raft<MemStorage>;

/// The most messages one `send` delivers before it declares a livelock.
pub const DEFAULT_MAX_DELIVERIES: usize = 20_000;

/// A config for node `id` with the given clocks.
pub fn config(id: NodeId, election: usize, heartbeat: usize) -> Config {
    let mut c = Config::new(id);
    c.election_tick = election;
    c.heartbeat_tick = heartbeat;
    c
}

/// A storage whose membership is `voters` (and `learners`), with no entries.
pub fn storage_with(voters: &[NodeId], learners: &[NodeId]) -> MemStorage {
    MemStorage::new_with_conf_state(ConfState {
        voters: voters.to_vec(),
        learners: learners.to_vec(),
    })
}

/// A node over `storage`; the storage's membership must already be set.
pub fn new_node_with_config(c: &Config, storage: MemStorage) -> Node {
    Raft::new(c, storage).unwrap_or_else(|e| panic!("node {} cannot start: {e}", c.id))
}

/// A node `id` of a cluster of `voters`, with election and heartbeat ticks.
pub fn new_node(id: NodeId, voters: &[NodeId], election: usize, heartbeat: usize) -> Node {
    new_node_with_config(&config(id, election, heartbeat), storage_with(voters, &[]))
}

/// Entries at indexes 1.. with the given terms.
pub fn ents_with_terms(terms: &[Term]) -> Vec<Entry> {
    terms
        .iter()
        .zip(1..)
        .map(|(&term, index)| Entry::new(term, index, b""))
        .collect()
}

/// A node of `voters` whose storage holds entries with `terms` (from index
/// 1), at the last of those terms, as after a restart. Nothing is committed.
pub fn node_with_log(
    id: NodeId,
    voters: &[NodeId],
    terms: &[Term],
    tweak: impl Fn(&mut Config),
) -> Node {
    let store = storage_with(voters, &[]);
    store.wl().append(&ents_with_terms(terms)).unwrap();
    let term = terms.last().copied().unwrap_or(0);
    store.wl().set_hard_state(HardState {
        term,
        vote: 0,
        commit: 0,
    });
    let mut c = config(id, 10, 1);
    tweak(&mut c);
    new_node_with_config(&c, store)
}

/// A message with its routing, type and term set.
pub fn msg(from: NodeId, to: NodeId, t: MessageType, term: Term) -> Message {
    let mut m = Message::new(t, from, to);
    m.term = term;
    m
}

/// A local `MsgHup` that makes `id` campaign.
pub fn hup(id: NodeId) -> Message {
    Message::new(MessageType::MsgHup, id, id)
}

/// A proposal of one entry with `data`, stepped into `id`.
pub fn prop(id: NodeId, data: &[u8]) -> Message {
    let mut m = Message::new(MessageType::MsgProp, id, id);
    m.entries = vec![Entry::new(0, 0, data)];
    m
}

/// A proposal of a membership change, stepped into `id`.
pub fn prop_conf(id: NodeId, change_type: ConfChangeType, node_id: NodeId) -> Message {
    let cc = ConfChange {
        change_type,
        node_id,
        context: vec![],
    };
    let mut m = Message::new(MessageType::MsgProp, id, id);
    m.entries = vec![Entry {
        entry_type: EntryType::ConfChange,
        data: cc.encode().into(),
        ..Default::default()
    }];
    m
}

/// A snapshot at `index`@`term` with membership `voters`.
pub fn snapshot(index: Index, term: Term, voters: &[NodeId]) -> Snapshot {
    Snapshot {
        data: vec![],
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: voters.to_vec(),
                learners: vec![],
            },
            index,
            term,
        },
    }
}

/// What to put at one position of a new network.
pub enum Peer {
    /// A new node with default settings (10-tick elections, 1-tick
    /// heartbeats), as etcd's `nil` peer.
    Fresh,
    /// Swallows every message sent to it.
    BlackHole,
    /// A node built by the test; its id must be its position (from 1).
    Node(Box<Node>),
}

impl Peer {
    pub fn node(n: Node) -> Peer {
        Peer::Node(Box::new(n))
    }
}

/// A simulated cluster.
pub struct Network {
    /// `None` is a black hole.
    nodes: BTreeMap<NodeId, Option<Node>>,
    /// Each node's stable storage (black holes have none).
    pub storage: BTreeMap<NodeId, MemStorage>,
    /// (from, to) → probability of dropping a message on that link.
    drops: BTreeMap<(NodeId, NodeId), f64>,
    /// Message types dropped wherever they go.
    ignored: BTreeSet<MessageType>,
    rng: StdRng,
    /// The bound on deliveries per `send`.
    pub max_deliveries: usize,
    /// Every message delivered to a node (not dropped, not to a black hole),
    /// in delivery order; tests clear it to count what one action causes.
    pub trace: Vec<Message>,
    /// Whether committed entries are applied (and membership changes taken
    /// into effect) right after each step.
    pub auto_apply: bool,
}

impl Network {
    /// A network of `peers` with ids 1, 2, ... in order; fresh nodes get
    /// `tweak` applied to their config.
    pub fn new_with_config(peers: Vec<Peer>, tweak: impl Fn(&mut Config)) -> Network {
        let ids: Vec<NodeId> = (1..=peers.len() as NodeId).collect();
        let mut net = Network {
            nodes: BTreeMap::new(),
            storage: BTreeMap::new(),
            drops: BTreeMap::new(),
            ignored: BTreeSet::new(),
            rng: StdRng::seed_from_u64(0x5EED),
            max_deliveries: DEFAULT_MAX_DELIVERIES,
            trace: Vec::new(),
            auto_apply: true,
        };
        for (peer, &id) in peers.into_iter().zip(&ids) {
            match peer {
                Peer::Fresh => {
                    let mut c = config(id, 10, 1);
                    tweak(&mut c);
                    let store = storage_with(&ids, &[]);
                    net.storage.insert(id, store.clone());
                    net.nodes.insert(id, Some(new_node_with_config(&c, store)));
                }
                Peer::BlackHole => {
                    net.nodes.insert(id, None);
                }
                Peer::Node(n) => {
                    assert_eq!(n.id, id, "a node at position {id} must have id {id}");
                    net.storage.insert(id, n.raft_log.store.clone());
                    net.nodes.insert(id, Some(*n));
                }
            }
        }
        net
    }

    /// A network with default settings.
    pub fn new(peers: Vec<Peer>) -> Network {
        Network::new_with_config(peers, |_| {})
    }

    /// `n` fresh nodes.
    pub fn fresh(n: usize, tweak: impl Fn(&mut Config)) -> Network {
        Network::new_with_config((0..n).map(|_| Peer::Fresh).collect(), tweak)
    }

    /// Seeds the RNG that decides random drops.
    pub fn seed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// Adds (or replaces) node `n` under its id.
    pub fn add_node(&mut self, n: Node) {
        self.storage.insert(n.id, n.raft_log.store.clone());
        self.nodes.insert(n.id, Some(n));
    }

    /// Drops node `id` (a crash): everything not in its storage is lost.
    pub fn remove_node(&mut self, id: NodeId) -> Option<Node> {
        self.nodes.remove(&id).flatten()
    }

    /// The node with id `id`. Panics for a black hole or an unknown id.
    pub fn node(&self, id: NodeId) -> &Node {
        self.nodes
            .get(&id)
            .and_then(Option::as_ref)
            .unwrap_or_else(|| panic!("no node {id} in the network"))
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        self.nodes
            .get_mut(&id)
            .and_then(Option::as_mut)
            .unwrap_or_else(|| panic!("no node {id} in the network"))
    }

    /// The ids of the real nodes (not black holes).
    pub fn ids(&self) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.is_some())
            .map(|(&id, _)| id)
            .collect()
    }

    /// Delivers `msgs` and everything they cause, breadth-first, until no
    /// message is left. Errors of `step` (a dropped proposal) are ignored,
    /// as etcd's network does.
    pub fn send(&mut self, msgs: Vec<Message>) {
        let mut queue: VecDeque<Message> = msgs.into();
        let mut delivered = 0usize;
        while let Some(m) = queue.pop_front() {
            delivered += 1;
            if delivered > self.max_deliveries {
                let tail: Vec<String> = self
                    .trace
                    .iter()
                    .rev()
                    .take(20)
                    .rev()
                    .map(|m| format!("{m:?}"))
                    .collect();
                panic!(
                    "send delivered more than {} messages: livelock? last ones:\n{}",
                    self.max_deliveries,
                    tail.join("\n")
                );
            }
            let to = m.to;
            let Some(Some(node)) = self.nodes.get_mut(&to) else {
                continue;
            };
            self.trace.push(m.clone());
            let _ = node.step(m);
            self.after_step(to);
            let out = self.node_mut(to).take_msgs();
            queue.extend(self.filter(out));
        }
    }

    /// Steps `m` into its node without delivering what it causes; returns
    /// the node's outgoing messages (after the network's filters).
    pub fn step_one(&mut self, m: Message) -> Vec<Message> {
        let to = m.to;
        let _ = self.node_mut(to).step(m);
        self.after_step(to);
        let out = self.node_mut(to).take_msgs();
        self.filter(out)
    }

    /// Ticks node `id` once and delivers what it sends.
    pub fn tick(&mut self, id: NodeId) {
        self.node_mut(id).tick();
        self.after_step(id);
        let out = self.node_mut(id).take_msgs();
        let out = self.filter(out);
        self.send(out);
    }

    /// Ticks every node once (in id order), then delivers everything.
    pub fn tick_all(&mut self) {
        let mut out = Vec::new();
        for id in self.ids() {
            self.node_mut(id).tick();
            self.after_step(id);
            let msgs = self.node_mut(id).take_msgs();
            out.extend(self.filter(msgs));
        }
        self.send(out);
    }

    /// Makes `id` campaign and delivers the election.
    pub fn elect(&mut self, id: NodeId) {
        self.send(vec![hup(id)]);
    }

    /// Proposes `data` at node `id` and delivers the replication.
    pub fn propose(&mut self, id: NodeId, data: &[u8]) {
        self.send(vec![prop(id, data)]);
    }

    /// Drops a fraction `rate` of messages from `from` to `to`.
    pub fn drop(&mut self, from: NodeId, to: NodeId, rate: f64) {
        self.drops.insert((from, to), rate);
    }

    /// Drops everything between `a` and `b`, both ways.
    pub fn cut(&mut self, a: NodeId, b: NodeId) {
        self.drop(a, b, 1.0);
        self.drop(b, a, 1.0);
    }

    /// Cuts `id` off from every other node.
    pub fn isolate(&mut self, id: NodeId) {
        for other in self.nodes.keys().copied().collect::<Vec<_>>() {
            if other != id {
                self.cut(id, other);
            }
        }
    }

    /// Drops every message of type `t`.
    pub fn ignore(&mut self, t: MessageType) {
        self.ignored.insert(t);
    }

    /// Heals every fault.
    pub fn recover(&mut self) {
        self.drops.clear();
        self.ignored.clear();
    }

    /// The messages of `msgs` the faults let through. Local message types
    /// never leave a node: one here is a bug in the library.
    fn filter(&mut self, msgs: Vec<Message>) -> Vec<Message> {
        let mut out = Vec::new();
        for m in msgs {
            assert!(
                !m.msg_type.is_local(),
                "a node sent the local message {m:?} onto the network"
            );
            if self.ignored.contains(&m.msg_type) {
                continue;
            }
            let rate = self.drops.get(&(m.from, m.to)).copied().unwrap_or(0.0);
            if rate > 0.0 && self.rng.random_bool(rate.min(1.0)) {
                continue;
            }
            out.push(m);
        }
        out
    }

    /// What the application does after each step: persist, then apply.
    fn after_step(&mut self, id: NodeId) {
        let auto_apply = self.auto_apply;
        let store = self.storage[&id].clone();
        let node = self.node_mut(id);
        persist(node, &store);
        if auto_apply {
            apply_committed(node, &store);
        }
    }

    /// The states of the given nodes, in order.
    pub fn states(&self, ids: &[NodeId]) -> Vec<StateType> {
        ids.iter().map(|&id| self.node(id).state).collect()
    }

    /// The ids of every node that believes it is the leader.
    pub fn leaders(&self) -> Vec<NodeId> {
        self.ids()
            .into_iter()
            .filter(|&id| self.node(id).state == StateType::Leader)
            .collect()
    }

    /// Ticks every node until exactly one leader exists among `among`, at
    /// most `max_ticks` rounds; returns it.
    pub fn tick_until_leader(&mut self, among: &[NodeId], max_ticks: usize) -> NodeId {
        for _ in 0..max_ticks {
            self.tick_all();
            let leaders: Vec<NodeId> = among
                .iter()
                .copied()
                .filter(|&id| self.node(id).state == StateType::Leader)
                .collect();
            if leaders.len() == 1 {
                return leaders[0];
            }
        }
        panic!(
            "no single leader among {among:?} after {max_ticks} ticks: states {:?}",
            self.states(among)
        );
    }

    /// How many messages of type `t` from `from` to `to` (0 for any) are in
    /// the trace, counting only rejections when `reject_only`.
    pub fn count(&self, t: MessageType, from: NodeId, to: NodeId, reject_only: bool) -> usize {
        self.trace
            .iter()
            .filter(|m| m.msg_type == t)
            .filter(|m| from == 0 || m.from == from)
            .filter(|m| to == 0 || m.to == to)
            .filter(|m| !reject_only || m.reject)
            .count()
    }
}

/// Persists what `node` has not persisted yet into `store`, as the
/// application does with a `Ready`: an incoming snapshot, new entries, and
/// the hard state.
pub fn persist(node: &mut Node, store: &MemStorage) {
    if let Some(s) = node.raft_log.unstable.snapshot.clone() {
        let index = s.metadata.index;
        store
            .wl()
            .apply_snapshot(s)
            .unwrap_or_else(|e| panic!("node {} cannot persist snapshot {index}: {e}", node.id));
        node.raft_log.stable_snap_to(index);
        // The snapshot is applied to the state machine with it.
        if index > node.raft_log.applied {
            node.raft_log.applied_to(index);
        }
    }
    let ents = node.raft_log.unstable_entries().to_vec();
    if let Some(last) = ents.last() {
        store.wl().append(&ents).unwrap();
        node.raft_log.stable_to(last.index, last.term);
    }
    store.wl().set_hard_state(node.hard_state());
}

/// Applies `node`'s committed entries, as the application would: membership
/// changes take effect (and are persisted), everything else is just marked
/// applied.
pub fn apply_committed(node: &mut Node, store: &MemStorage) {
    let Some(ents) = node.raft_log.next_entries() else {
        return;
    };
    for e in &ents {
        if e.entry_type == EntryType::ConfChange
            && let Ok(cc) = ConfChange::decode(&e.data)
            && let Ok(cs) = node.apply_conf_change(&cc)
        {
            store.wl().set_conf_state(cs);
        }
    }
    if let Some(last) = ents.last() {
        node.raft_log.applied_to(last.index);
    }
    node.reduce_uncommitted_size(&ents);
}

/// Every entry of `node`'s log as (index, term) pairs, for comparing logs.
pub fn log_shape(node: &Node) -> Vec<(Index, Term)> {
    node.raft_log
        .all_entries()
        .iter()
        .map(|e| (e.index, e.term))
        .collect()
}

/// The data of every entry of `node`'s log that carries some.
pub fn log_data(node: &Node) -> Vec<Vec<u8>> {
    node.raft_log
        .all_entries()
        .into_iter()
        .filter(|e| !e.data.is_empty() && e.entry_type == EntryType::Normal)
        .map(|e| e.data.to_vec())
        .collect()
}

/// The stored last index of `store`.
pub fn stored_last_index(store: &MemStorage) -> Index {
    store.last_index().unwrap()
}
