//! One key-value server: the Ready loop around a [`RawNode`], its disk
//! storage, the peer transport and the HTTP front end.
//!
//! ```text
//!  HTTP threads ──┐                          ┌── peer sender threads
//!                 ├─▶ events ─▶ Ready loop ──┤
//!  peer readers ──┘   (bounded)  (one thread,├── wal.log (fsync)
//!                                 owns Raft) └── the key-value map
//! ```
//!
//! Only the loop's thread touches Raft, the storage and the map; every
//! other thread talks to it through one bounded channel of [`Event`]s and
//! gets its answer back on a channel of its own. Each round of the loop
//! takes the events that are waiting, ticks Raft if a tick is due, and then
//! works through `Ready`: persist (and sync) → send → apply → advance, the
//! order RaftLab's `raw_node` module asks for.
//!
//! Writes are proposed with a [`RequestId`] inside the entry; the node that
//! proposed answers once it applies that entry, so a follower serves
//! writes too (Raft forwards its proposal to the leader). Reads go through
//! ReadIndex (§6.4 of the paper; a follower's request is forwarded to the
//! leader too) and are answered once the node has applied up to the read
//! index, so every read is linearizable, on any node.
//!
//! ## Identity
//!
//! A member's votes and acknowledged entries are what Raft's quorums count
//! on, so a node must never come back under an id whose data it lost.
//! A node whose data directory has no log asks its peers first, and refuses
//! to start when the cluster knows its id has run before or was removed
//! (see [`join`]). Membership changes go through Raft's single-step
//! conf changes: a new member joins as a learner, catches up, and is
//! promoted.

pub mod join;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, BufWriter, Read};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use raft::{
    ConfChange, ConfChangeType, Config, Entry, EntryType, Error as RaftError, MessageType, NONE,
    NodeId, ProgressState, RawNode, Ready, StateType, Storage,
};
use serde_json::json;
use tracing::{debug, error, info, warn};

use crate::codec::{Decoder, Encoder};
use crate::crc32::crc32;
use crate::http::{self, ReadError, Request, Response};
use crate::state::{
    Applied, Command, KvStore, MAX_KEY_BYTES, MAX_VALUE_BYTES, MemberContext, Membership, Op,
    RequestId,
};
use crate::storage::{DiskStorage, Recovery};
use crate::transport::{Inbound, Transport};
use join::{ClusterView, check_not_removed, decide_start};

/// How a node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub id: NodeId,
    /// Peer addresses: for a first member, every first member's (this
    /// node's included); for a new member, the current members' and its
    /// own. Once the node runs, the replicated membership has the final
    /// word.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Where clients reach this node.
    pub http: SocketAddr,
    pub data_dir: PathBuf,
    /// Start as a member added with `kv member add`, not as a first member.
    pub join: bool,
    /// How long a node with an empty data directory waits for its peers to
    /// tell it whether it may start.
    pub join_timeout: Duration,
    /// Serve `POST /debug/partition` (tests cut links with it).
    pub fault_injection: bool,
    /// Real time per Raft tick.
    pub tick: Duration,
    /// Ticks without a leader before an election (randomized up to twice
    /// that, §5.2).
    pub election_ticks: usize,
    /// Ticks between a leader's heartbeats.
    pub heartbeat_ticks: usize,
    /// Take a snapshot and compact the log after this many applied entries.
    pub snapshot_every: u64,
    /// Entries kept in memory before a snapshot, for slow followers.
    pub keep_entries: u64,
    /// How long a client request may wait for commit or a read index.
    pub request_timeout: Duration,
}

impl NodeConfig {
    /// The settings for node `id` of the cluster `peers`, with defaults
    /// for the rest: a 100 ms tick, elections after 10 to 20 ticks, a
    /// heartbeat every tick, a snapshot every 1000 entries.
    pub fn new(
        id: NodeId,
        peers: BTreeMap<NodeId, SocketAddr>,
        http: SocketAddr,
        data_dir: PathBuf,
    ) -> NodeConfig {
        NodeConfig {
            id,
            peers,
            http,
            data_dir,
            join: false,
            join_timeout: Duration::from_secs(120),
            fault_injection: false,
            tick: Duration::from_millis(100),
            election_ticks: 10,
            heartbeat_ticks: 1,
            snapshot_every: 1000,
            keep_entries: 100,
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// Events the loop handles, at most this many before it turns to `Ready`.
const EVENTS_PER_ROUND: usize = 1024;
/// Events queued for the loop before clients are told the node is busy.
const EVENT_QUEUE: usize = 8192;
/// Client connections served at once.
const MAX_CLIENT_CONNECTIONS: usize = 256;
/// Client connections from one IP address served at once: one client
/// cannot take every slot.
const MAX_CONNECTIONS_PER_IP: usize = 128;
/// An idle client connection is closed after this long.
const CLIENT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Rounds of `Ready` handled in a row before the loop reads events again.
const READY_ROUNDS: usize = 8;
/// A learner is promoted only when it is at most this many entries behind
/// the leader's commit index: closer, and it can vote without slowing the
/// quorum down while it catches up.
pub const PROMOTE_MAX_LAG: u64 = 1000;
/// Pairs a prefix read returns unless asked for fewer; the most it returns.
pub const DEFAULT_SCAN_LIMIT: usize = 1000;
pub const MAX_SCAN_LIMIT: usize = 10_000;
/// How long a removed node keeps running before it exits, so the
/// removal it applied reaches the others first.
const REMOVED_GRACE: Duration = Duration::from_secs(2);

/// What the loop is asked to do.
pub enum Event {
    Peer(Inbound),
    Client(ClientRequest, Sender<Response>),
    /// Stop the node, for this reason.
    Stop(String),
}

/// A client's request, already checked by the HTTP front end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientRequest {
    Put {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        key: Vec<u8>,
    },
    Get {
        key: Vec<u8>,
    },
    /// The pairs whose key starts with `prefix`.
    Scan {
        prefix: Vec<u8>,
        limit: usize,
    },
    Status,
    Members,
    /// Adds a learner; `id` None takes the next free id.
    MemberAdd {
        id: Option<NodeId>,
        peer: String,
        http: String,
    },
    MemberRemove {
        id: NodeId,
    },
    MemberPromote {
        id: NodeId,
    },
    /// The state machine as of a linearizable read, as a snapshot file.
    Snapshot,
    /// Cuts the links to these peers (empty: heals); tests only.
    Partition {
        peers: BTreeSet<NodeId>,
    },
}

/// Starts node `cfg.id` and serves until the process is killed; returns
/// only on a failure, saying what failed (a port in use, a damaged data
/// directory, a disk error, an identity the cluster refuses).
pub fn run(cfg: NodeConfig) -> Result<(), String> {
    let Some(&raft_addr) = cfg.peers.get(&cfg.id) else {
        return Err(format!(
            "--peers has no address for this node's id {} (peers: {:?})",
            cfg.id,
            cfg.peers.keys().collect::<Vec<_>>()
        ));
    };
    let existing = DiskStorage::open_existing(&cfg.data_dir, cfg.id).map_err(|e| e.to_string())?;

    let peer_listener = TcpListener::bind(raft_addr)
        .map_err(|e| format!("cannot listen for peers on {raft_addr}: {e}"))?;
    let http_listener = TcpListener::bind(cfg.http)
        .map_err(|e| format!("cannot listen for clients on {}: {e}", cfg.http))?;

    let (tx, rx) = mpsc::sync_channel::<Event>(EVENT_QUEUE);
    let peer_tx = tx.clone();
    let stop_tx = tx.clone();
    let transport = Transport::start(cfg.id, peer_listener, &cfg.peers, move |inbound| {
        // The loop is gone only when the process is exiting.
        let _ = peer_tx.send(Event::Peer(inbound));
    });
    {
        let cfg = cfg.clone();
        thread::Builder::new()
            .name(format!("n{}-http", cfg.id))
            .spawn(move || serve_http(http_listener, tx, &cfg))
            .map_err(|e| format!("cannot start the HTTP thread: {e}"))?;
    }
    let (store, recovery) = match existing {
        Some(opened) => {
            // In the background, so that nodes restarting together do not
            // wait on each other's answers.
            let (cfg, tx) = (cfg.clone(), stop_tx.clone());
            let spawned = thread::Builder::new()
                .name(format!("n{}-removed?", cfg.id))
                .spawn(move || {
                    if let Err(why) = check_not_removed(&cfg) {
                        let _ = tx.send(Event::Stop(why));
                    }
                });
            if let Err(e) = spawned {
                warn!("cannot check whether this node was removed: {e}");
            }
            opened
        }
        None => {
            let (bootstrap, conf_state) = decide_start(&cfg, &rx)?;
            DiskStorage::create(&cfg.data_dir, cfg.id, &bootstrap, &conf_state)
                .map_err(|e| e.to_string())?
        }
    };
    let mut node = Node::new(cfg, store, &recovery, transport)?;
    node.run(rx)
}

/// A client waiting for its write to be applied.
struct PendingWrite {
    /// The encoded command, to propose again after a leader change.
    data: Vec<u8>,
    reply: Sender<Response>,
    deadline: Instant,
}

/// What a read returns once it is safe.
#[derive(Clone, Debug)]
enum ReadKind {
    Get(Vec<u8>),
    Scan { prefix: Vec<u8>, limit: usize },
    Snapshot,
}

/// A client waiting for its read: first for the read index, then for the
/// node to apply up to it.
struct PendingRead {
    kind: ReadKind,
    reply: Sender<Response>,
    deadline: Instant,
}

/// A client waiting for a membership change to be applied.
struct PendingConf {
    reply: Sender<Response>,
    deadline: Instant,
}

struct Node {
    cfg: NodeConfig,
    raw: RawNode<DiskStorage>,
    kv: KvStore,
    /// The last index applied to `kv`.
    applied: u64,
    transport: Transport,
    /// Drawn at start: see [`RequestId`].
    nonce: u64,
    next_seq: u64,
    writes: BTreeMap<RequestId, PendingWrite>,
    confs: BTreeMap<RequestId, PendingConf>,
    /// Reads whose read index has not come back yet.
    reads_waiting_index: BTreeMap<RequestId, PendingRead>,
    /// Reads with a read index, by that index: served once applied.
    reads_waiting_apply: BTreeMap<(u64, RequestId), PendingRead>,
    leader: NodeId,
    /// When this node last proposed to publish itself.
    published_at: Option<Instant>,
    /// After an incomplete last record was cut off, in a cluster: the node
    /// may have acknowledged entries or a vote it no longer has, so it
    /// neither votes nor campaigns until it has caught up with a leader.
    /// `Some(None)`: no leader heard yet; `Some(Some(c))`: catching up to c.
    catching_up: Option<Option<u64>>,
    /// Ticks spent catching up without hearing from any leader. Past
    /// [`Node::catch_up_patience`], no leader is coming (the whole cluster
    /// restarted, say, each node with a cut tail): waiting longer would
    /// keep the cluster down for good, so the node votes again, and says
    /// what that risks.
    catch_up_ticks: usize,
    /// Set when this node applied its own removal: it exits then.
    removed_at: Option<Instant>,
}

impl Node {
    fn new(
        cfg: NodeConfig,
        store: DiskStorage,
        recovery: &Recovery,
        transport: Transport,
    ) -> Result<Node, String> {
        let state = store
            .initial_state()
            .map_err(|e| format!("cannot read the storage: {e}"))?;
        let snap = store
            .snapshot(0)
            .map_err(|e| format!("cannot read the snapshot: {e}"))?;
        let mut kv = KvStore::restore(&snap.data).map_err(|e| {
            format!(
                "the snapshot at {} does not decode: {e}",
                snap.metadata.index
            )
        })?;
        if kv.members.members.is_empty() {
            // No snapshot yet (or one from before membership was kept): the
            // first members, and the log's conf changes replayed from there.
            kv.members = Membership::bootstrap(&store.bootstrap().members);
        }
        if !recovery.created {
            info!(
                "node {} recovered {} records from {}: term {}, commit {}, entries up to {}, \
                 snapshot at {}",
                cfg.id,
                recovery.records,
                store.wal_path().display(),
                state.hard_state.term,
                state.hard_state.commit,
                store.last_index().unwrap_or_default(),
                store.snapshot_index()
            );
        }
        let mut catching_up = None;
        if let Some((offset, bytes)) = recovery.torn_tail {
            if state.conf_state.voters.len() <= 1 {
                error!(
                    "node {} is the only voter of its cluster: if the {bytes} bytes cut off at \
                     offset {offset} of {} held acknowledged writes, they are lost for good (no \
                     other node has a copy)",
                    cfg.id,
                    store.wal_path().display()
                );
            } else {
                warn!(
                    "node {}: the {bytes} bytes cut off at offset {offset} may have held entries \
                     or a vote this node acknowledged; until it has caught up with a leader it \
                     neither votes nor campaigns, so no quorum counts it for what it lost",
                    cfg.id
                );
                catching_up = Some(None);
            }
        }
        let nonce = fresh_nonce(cfg.id);
        let mut config = Config::new(cfg.id);
        config.election_tick = cfg.election_ticks;
        config.heartbeat_tick = cfg.heartbeat_ticks;
        // A real deployment: a partitioned node rejoining must not disrupt
        // the cluster (pre-vote, §9.6 of the thesis), and a leader cut off
        // from a quorum steps down (check-quorum).
        config.pre_vote = true;
        config.check_quorum = true;
        config.max_size_per_msg = 1 << 20;
        config.max_uncommitted_entries_size = 64 << 20;
        config.seed = nonce;
        let raw = RawNode::new(&config, store).map_err(|e| format!("cannot start Raft: {e}"))?;
        info!(
            "node {} started: {} keys from the snapshot at {}, members {:?}, tick {:?}",
            cfg.id,
            kv.len(),
            snap.metadata.index,
            kv.members.members.keys().collect::<Vec<_>>(),
            cfg.tick
        );
        let mut node = Node {
            applied: snap.metadata.index,
            cfg,
            raw,
            kv,
            transport,
            nonce,
            next_seq: 0,
            writes: BTreeMap::new(),
            confs: BTreeMap::new(),
            reads_waiting_index: BTreeMap::new(),
            reads_waiting_apply: BTreeMap::new(),
            leader: NONE,
            published_at: None,
            catching_up,
            catch_up_ticks: 0,
            removed_at: None,
        };
        node.sync_peers();
        Ok(node)
    }

    /// Points the transport at the members' addresses (and, for ids the
    /// membership does not know yet, at those given on the command line).
    fn sync_peers(&mut self) {
        let mut peers: BTreeMap<NodeId, SocketAddr> = self
            .cfg
            .peers
            .iter()
            .filter(|(id, _)| !self.kv.members.removed.contains(id))
            .map(|(id, a)| (*id, *a))
            .collect();
        for (id, m) in &self.kv.members.members {
            match m.peer.parse::<SocketAddr>() {
                Ok(a) => {
                    peers.insert(*id, a);
                }
                Err(_) if m.peer.is_empty() => {}
                Err(_) => warn!("member {id} has a bad peer address {:?}", m.peer),
            }
        }
        self.transport.set_peers(&peers);
    }

    fn run(&mut self, rx: Receiver<Event>) -> Result<(), String> {
        // A node alone needs no timeout to know it wins (§5.2): a one-node
        // cluster serves at once.
        if self.raw.raft.prs.voter_nodes() == [self.cfg.id]
            && let Err(e) = self.raw.campaign()
        {
            warn!("node {} could not campaign at start: {e}", self.cfg.id);
        }
        let mut next_tick = Instant::now() + self.cfg.tick;
        loop {
            let wait = next_tick.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(ev) => self.handle(ev)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err("every event source stopped".to_string());
                }
            }
            for _ in 0..EVENTS_PER_ROUND {
                match rx.try_recv() {
                    Ok(ev) => self.handle(ev)?,
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            if now >= next_tick {
                // A node catching up must not campaign: it skips the
                // ticks that would start an election.
                if self.catching_up.is_none() || self.raw.raft.state != StateType::Follower {
                    self.raw.tick();
                } else if self.catching_up == Some(None) {
                    self.catch_up_ticks += 1;
                    if self.catch_up_ticks >= self.catch_up_patience() {
                        warn!(
                            "node {}: no leader heard in {} ticks to catch up with; it votes \
                             and campaigns again. If the record it cut off held an \
                             acknowledged entry or vote, and no other node has it, that is \
                             lost",
                            self.cfg.id, self.catch_up_ticks
                        );
                        self.catching_up = None;
                    }
                }
                next_tick += self.cfg.tick;
                // After a stall (a slow fsync, a paused process) tick once,
                // not in a burst that would fire elections at once.
                if next_tick < now {
                    next_tick = now + self.cfg.tick;
                }
                self.expire(now);
                self.maybe_publish(now);
                if let Some(at) = self.removed_at
                    && now >= at + REMOVED_GRACE
                {
                    return Err(format!(
                        "node {} was removed from the cluster and stops; its data directory {} \
                         is of no further use",
                        self.cfg.id,
                        self.cfg.data_dir.display()
                    ));
                }
            }
            for _ in 0..READY_ROUNDS {
                if !self.raw.has_ready() {
                    break;
                }
                let rd = self.raw.ready();
                self.handle_ready(rd)?;
            }
        }
    }

    /// Five of the longest election timeouts: long enough for any live
    /// leader to be heard, short enough not to keep a cluster down.
    fn catch_up_patience(&self) -> usize {
        10 * self.cfg.election_ticks
    }

    fn next_id(&mut self) -> RequestId {
        self.next_seq += 1;
        RequestId {
            nonce: self.nonce,
            seq: self.next_seq,
        }
    }

    /// Handles one event; an error stops the node.
    fn handle(&mut self, ev: Event) -> Result<(), String> {
        match ev {
            Event::Stop(why) => return Err(why),
            Event::Peer(inbound) => self.handle_peer(inbound),
            Event::Client(req, reply) => self.handle_client(req, reply),
        }
        Ok(())
    }

    fn handle_peer(&mut self, inbound: Inbound) {
        match inbound {
            Inbound::Message(m) => {
                if self.kv.members.removed.contains(&m.from) {
                    debug!("dropped {m:?}: node {} was removed", m.from);
                    return;
                }
                if let Some(target) = self.catching_up {
                    if matches!(
                        m.msg_type,
                        MessageType::MsgVote | MessageType::MsgPreVote | MessageType::MsgTimeoutNow
                    ) {
                        debug!("catching up: ignored {m:?}");
                        return;
                    }
                    if target.is_none()
                        && m.term >= self.raw.raft.term
                        && matches!(
                            m.msg_type,
                            MessageType::MsgApp | MessageType::MsgHeartbeat | MessageType::MsgSnap
                        )
                    {
                        info!(
                            "node {}: heard from leader {} (commit {}); catching up to it \
                             before voting again",
                            self.cfg.id, m.from, m.commit
                        );
                        self.catching_up = Some(Some(m.commit));
                    }
                }
                if let Err(e) = self.raw.step(m) {
                    warn!("node {} refused a message: {e}", self.cfg.id);
                }
            }
            Inbound::Unreachable(peer) => self.raw.report_unreachable(peer),
            Inbound::SnapshotStatus { to, failed } => self.raw.report_snapshot(to, failed),
            Inbound::Probe(reply) => {
                let _ = reply.try_send(self.view().encode());
            }
        }
    }

    fn view(&self) -> ClusterView {
        let r = &self.raw.raft;
        let store = &r.raft_log.store;
        ClusterView {
            node: self.cfg.id,
            cluster_id: store.bootstrap().cluster_id,
            fresh: r.raft_log.last_index() == 0,
            is_leader: r.state == StateType::Leader,
            leader: r.lead,
            commit: r.raft_log.committed,
            bootstrap: store.bootstrap().clone(),
            members: self.kv.members.clone(),
        }
    }

    fn no_leader(&self) -> Response {
        Response::error(
            503,
            format!(
                "no leader known (term {}): an election is under way or a majority is down; \
                 retry shortly",
                self.raw.raft.term
            ),
        )
        .with_header("Retry-After", "1")
    }

    fn dropped() -> Response {
        Response::error(
            503,
            "the proposal was dropped (no leader, a leadership transfer, or too much \
             uncommitted data); retry shortly",
        )
        .with_header("Retry-After", "1")
    }

    fn handle_client(&mut self, req: ClientRequest, reply: Sender<Response>) {
        let deadline = Instant::now() + self.cfg.request_timeout;
        let op = match req {
            ClientRequest::Status => {
                let _ = reply.send(Response::json(200, self.status()));
                return;
            }
            ClientRequest::Members => {
                let _ = reply.send(Response::json(200, self.members_json()));
                return;
            }
            ClientRequest::Partition { peers } => {
                if peers.is_empty() {
                    info!("node {}: healed every link", self.cfg.id);
                } else {
                    info!("node {}: cut the links to {peers:?}", self.cfg.id);
                }
                self.transport.block(peers);
                let _ = reply.send(Response::text(200, "OK\n"));
                return;
            }
            ClientRequest::MemberAdd { id, peer, http } => {
                let id = id.unwrap_or_else(|| self.kv.members.next_id());
                let cc = ConfChange {
                    change_type: ConfChangeType::AddLearnerNode,
                    node_id: id,
                    context: Vec::new(),
                };
                self.propose_conf(cc, peer, http, reply, deadline);
                return;
            }
            ClientRequest::MemberRemove { id } => {
                let cc = ConfChange {
                    change_type: ConfChangeType::RemoveNode,
                    node_id: id,
                    context: Vec::new(),
                };
                self.propose_conf(cc, String::new(), String::new(), reply, deadline);
                return;
            }
            ClientRequest::MemberPromote { id } => {
                if let Err(resp) = self.check_promotable(id) {
                    let _ = reply.send(resp);
                    return;
                }
                let cc = ConfChange {
                    change_type: ConfChangeType::AddNode,
                    node_id: id,
                    context: Vec::new(),
                };
                self.propose_conf(cc, String::new(), String::new(), reply, deadline);
                return;
            }
            ClientRequest::Get { key } => {
                self.start_read(ReadKind::Get(key), reply, deadline);
                return;
            }
            ClientRequest::Scan { prefix, limit } => {
                self.start_read(ReadKind::Scan { prefix, limit }, reply, deadline);
                return;
            }
            ClientRequest::Snapshot => {
                self.start_read(ReadKind::Snapshot, reply, deadline);
                return;
            }
            ClientRequest::Put { key, value } => Op::Put { key, value },
            ClientRequest::Delete { key } => Op::Delete { key },
        };
        if self.raw.raft.lead == NONE {
            let _ = reply.send(self.no_leader());
            return;
        }
        let id = self.next_id();
        let data = Command { id, op }.encode();
        match self.raw.propose(data.clone()) {
            Ok(()) => {
                self.writes.insert(
                    id,
                    PendingWrite {
                        data,
                        reply,
                        deadline,
                    },
                );
            }
            Err(RaftError::ProposalDropped) => {
                let _ = reply.send(Node::dropped());
            }
            Err(e) => {
                let _ = reply.send(Response::error(500, format!("proposal failed: {e}")));
            }
        }
    }

    fn start_read(&mut self, kind: ReadKind, reply: Sender<Response>, deadline: Instant) {
        if self.raw.raft.lead == NONE {
            let _ = reply.send(self.no_leader());
            return;
        }
        let id = self.next_id();
        self.raw.read_index(id.to_bytes());
        self.reads_waiting_index.insert(
            id,
            PendingRead {
                kind,
                reply,
                deadline,
            },
        );
    }

    /// A learner may be promoted once it is close to the leader; only the
    /// leader knows how close.
    fn check_promotable(&self, id: NodeId) -> Result<(), Response> {
        let r = &self.raw.raft;
        if r.state != StateType::Leader {
            return Err(if r.lead == NONE {
                self.no_leader()
            } else {
                Response::error(
                    503,
                    format!(
                        "only the leader knows how far learner {id} got: ask node {}",
                        r.lead
                    ),
                )
                .with_header("X-Leader", r.lead.to_string())
            });
        }
        match self.kv.members.members.get(&id) {
            Some(m) if m.learner => {}
            Some(_) => {
                return Err(Response::error(
                    409,
                    format!("node {id} is already a voter"),
                ));
            }
            None => return Err(Response::error(404, format!("node {id} is not a member"))),
        }
        let committed = r.raft_log.committed;
        let matched = r.prs.progress.get(&id).map_or(0, |pr| pr.matched);
        if matched + PROMOTE_MAX_LAG < committed {
            return Err(Response::error(
                412,
                format!(
                    "learner {id} is not caught up yet: it has the log up to {matched}, the \
                     leader's commit index is {committed} (it may be {PROMOTE_MAX_LAG} behind \
                     at most); retry shortly"
                ),
            )
            .with_header("Retry-After", "1"));
        }
        Ok(())
    }

    fn propose_conf(
        &mut self,
        mut cc: ConfChange,
        peer: String,
        http: String,
        reply: Sender<Response>,
        deadline: Instant,
    ) {
        if self.raw.raft.lead == NONE {
            let _ = reply.send(self.no_leader());
            return;
        }
        let id = self.next_id();
        let ctx = MemberContext { id, peer, http };
        // Checked here for a quick answer; checked again, by every node
        // alike, when the entry is applied.
        if let Err(why) = self.kv.members.check(&cc, &ctx) {
            let _ = reply.send(Response::error(409, why));
            return;
        }
        cc.context = ctx.encode();
        match self.raw.propose_conf_change(&cc) {
            Ok(()) => {
                self.confs.insert(id, PendingConf { reply, deadline });
            }
            Err(RaftError::ProposalDropped) => {
                let _ = reply.send(Node::dropped());
            }
            Err(e) => {
                let _ = reply.send(Response::error(500, format!("proposal failed: {e}")));
            }
        }
    }

    /// Once a leader is known, a member that has not published itself yet
    /// (or moved its client address) proposes to; retried every second
    /// until it is applied.
    fn maybe_publish(&mut self, now: Instant) {
        if self.raw.raft.lead == NONE || self.removed_at.is_some() {
            return;
        }
        let http = self.cfg.http.to_string();
        let Some(me) = self.kv.members.members.get(&self.cfg.id) else {
            return;
        };
        if me.started && me.http == http {
            return;
        }
        if self
            .published_at
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        self.published_at = Some(now);
        let id = self.next_id();
        let cmd = Command {
            id,
            op: Op::Publish {
                node: self.cfg.id,
                http: http.into_bytes(),
            },
        };
        if let Err(e) = self.raw.propose(cmd.encode()) {
            debug!("node {}: publishing itself failed: {e}", self.cfg.id);
        }
    }

    fn status(&self) -> String {
        let r = &self.raw.raft;
        let role = match r.state {
            StateType::Follower if r.is_learner => "learner",
            StateType::Follower => "follower",
            StateType::Candidate => "candidate",
            StateType::PreCandidate => "pre-candidate",
            StateType::Leader => "leader",
        };
        let store = &r.raft_log.store;
        let mut v = json!({
            "id": self.cfg.id,
            "cluster_id": format!("{:016x}", store.bootstrap().cluster_id),
            "role": role,
            "term": r.term,
            "leader": r.lead,
            "commit": r.raft_log.committed,
            "applied": self.applied,
            "last_index": r.raft_log.last_index(),
            "snapshot_index": store.snapshot_index(),
            "keys": self.kv.len(),
            "wal_bytes": store.wal_bytes(),
            "http": self.cfg.http.to_string(),
            "voters": self.kv.members.voters(),
            "learners": self.kv.members.learners(),
            "removed": self.kv.members.removed.iter().collect::<Vec<_>>(),
            "catching_up": self.catching_up.is_some(),
        });
        if r.state == StateType::Leader {
            let progress: Vec<String> = r
                .prs
                .progress
                .iter()
                .map(|(id, pr)| format!("{id}:{}", pr.matched))
                .collect();
            v["match"] = json!(progress.join(","));
        }
        v.to_string()
    }

    fn members_json(&self) -> String {
        let r = &self.raw.raft;
        let members: Vec<serde_json::Value> = self
            .kv
            .members
            .members
            .iter()
            .map(|(id, m)| {
                let mut o = json!({
                    "id": id,
                    "role": if m.learner { "learner" } else { "voter" },
                    "peer": m.peer,
                    "http": m.http,
                    "started": m.started,
                });
                if r.state == StateType::Leader
                    && let Some(pr) = r.prs.progress.get(id)
                {
                    o["match"] = json!(pr.matched);
                    o["progress"] = json!(match pr.state {
                        ProgressState::Probe => "probe",
                        ProgressState::Replicate => "replicate",
                        ProgressState::Snapshot => "snapshot",
                    });
                }
                o
            })
            .collect();
        json!({
            "cluster_id": format!("{:016x}", r.raft_log.store.bootstrap().cluster_id),
            "leader": r.lead,
            "commit": r.raft_log.committed,
            "members": members,
            "removed": self.kv.members.removed.iter().collect::<Vec<_>>(),
            "next_id": self.kv.members.next_id(),
        })
        .to_string()
    }

    /// Answers every request whose time is up.
    fn expire(&mut self, now: Instant) {
        let secs = self.cfg.request_timeout.as_secs_f64();
        let expired: Vec<RequestId> = self
            .writes
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(p) = self.writes.remove(&id) {
                let _ = p.reply.send(Response::error(
                    504,
                    format!(
                        "the write was not applied within {secs}s (a leader change?); it may \
                         or may not take effect"
                    ),
                ));
            }
        }
        let expired: Vec<RequestId> = self
            .confs
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(p) = self.confs.remove(&id) {
                let _ = p.reply.send(Response::error(
                    504,
                    format!(
                        "the membership change was not applied within {secs}s (a leader \
                         change, or another change still pending?); it may or may not take \
                         effect: see `kv member list`"
                    ),
                ));
            }
        }
        let expired: Vec<RequestId> = self
            .reads_waiting_index
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(p) = self.reads_waiting_index.remove(&id) {
                let _ = p.reply.send(Response::error(
                    504,
                    format!("no read index within {secs}s (a leader change?); retry"),
                ));
            }
        }
        let expired: Vec<(u64, RequestId)> = self
            .reads_waiting_apply
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in expired {
            if let Some(p) = self.reads_waiting_apply.remove(&k) {
                let _ = p.reply.send(Response::error(
                    504,
                    format!(
                        "this node did not apply up to the read index {} within {secs}s; retry",
                        k.0
                    ),
                ));
            }
        }
    }

    fn handle_ready(&mut self, mut rd: Ready) -> Result<(), String> {
        if let Some(ss) = rd.soft_state
            && ss.lead != self.leader
        {
            info!(
                "node {}: leader is now {} (term {}), I am {:?}",
                self.cfg.id, ss.lead, self.raw.raft.term, ss.raft_state
            );
            self.leader = ss.lead;
            if ss.lead != NONE {
                self.retry_with_new_leader();
            }
        }

        // 1. Persist: nothing may leave this node before what it promises
        //    is on disk (§5.1: votes and log entries are stable storage).
        let store = &mut self.raw.raft.raft_log.store;
        store
            .persist(
                rd.snapshot.as_ref(),
                &rd.entries,
                rd.hard_state,
                rd.must_sync,
            )
            .map_err(|e| format!("writing {} failed: {e}", store.wal_path().display()))?;
        if let Some(snap) = &rd.snapshot {
            let mut kv = KvStore::restore(&snap.data).map_err(|e| {
                format!(
                    "the snapshot at {} from the leader does not decode: {e}",
                    snap.metadata.index
                )
            })?;
            if kv.members.members.is_empty() {
                kv.members = self.kv.members.clone();
            }
            self.kv = kv;
            self.applied = snap.metadata.index;
            store.set_applied_conf_state(snap.metadata.conf_state.clone());
            info!(
                "node {} installed the snapshot at {} ({} keys, members {:?})",
                self.cfg.id,
                snap.metadata.index,
                self.kv.len(),
                self.kv.members.members.keys().collect::<Vec<_>>()
            );
            self.sync_peers();
        }

        // 2. Send.
        for m in std::mem::take(&mut rd.messages) {
            let to = m.to;
            if !self.transport.send(m) {
                self.raw.report_unreachable(to);
            }
        }

        // 3. Apply, then serve the reads that became safe.
        for entry in &rd.committed_entries {
            self.apply(entry);
        }
        for rs in std::mem::take(&mut rd.read_states) {
            let Some(id) = RequestId::from_bytes(&rs.request_ctx) else {
                continue;
            };
            if let Some(p) = self.reads_waiting_index.remove(&id) {
                self.reads_waiting_apply.insert((rs.index, id), p);
            }
        }
        self.serve_reads();

        // 4. Advance.
        self.raw.advance(rd);

        if let Some(Some(target)) = self.catching_up
            && self.applied >= target
        {
            info!(
                "node {} caught up to {target}: it votes and campaigns again",
                self.cfg.id
            );
            self.catching_up = None;
        }

        if self.applied >= self.raw.raft.raft_log.store.snapshot_index() + self.cfg.snapshot_every {
            let data = self.kv.snapshot();
            let applied = self.applied;
            let store = &mut self.raw.raft.raft_log.store;
            store
                .compact(applied, data, self.cfg.keep_entries)
                .map_err(|e| format!("compacting {} failed: {e}", store.wal_path().display()))?;
            info!(
                "node {} took a snapshot at {applied} ({} keys); the log is now {} bytes",
                self.cfg.id,
                self.kv.len(),
                store.wal_bytes()
            );
        }
        Ok(())
    }

    /// Requests sent to a leader that is gone may be lost with it: ask the
    /// new one. A read is safe to ask again; so is a write, since the map
    /// applies each request id once (see [`KvStore`]).
    fn retry_with_new_leader(&mut self) {
        let reads: Vec<RequestId> = self.reads_waiting_index.keys().copied().collect();
        for id in reads {
            self.raw.read_index(id.to_bytes());
        }
        let writes: Vec<Vec<u8>> = self.writes.values().map(|p| p.data.clone()).collect();
        for data in writes {
            // A refusal is fine: the write is still pending and is retried
            // at the next leader change, or times out.
            let _ = self.raw.propose(data);
        }
    }

    fn apply(&mut self, entry: &Entry) {
        if entry.index <= self.applied {
            return;
        }
        self.applied = entry.index;
        if entry.entry_type == EntryType::ConfChange {
            self.apply_conf_change(entry);
            return;
        }
        // A new leader's empty entry (§8) carries no command.
        if entry.data.is_empty() {
            return;
        }
        let cmd = match Command::decode(&entry.data) {
            Ok(cmd) => cmd,
            Err(e) => {
                // Every node skips it alike, so the maps stay equal.
                error!("entry {} is not a command ({e}); skipped", entry.index);
                return;
            }
        };
        let id = cmd.id;
        let publish = matches!(cmd.op, Op::Publish { .. });
        if self.kv.apply(cmd) == Applied::Duplicate {
            return;
        }
        if publish {
            self.sync_peers();
        }
        if let Some(p) = self.writes.remove(&id) {
            let _ = p.reply.send(Response::text(200, "OK\n"));
        }
    }

    /// Applies a committed membership change, if the membership as of this
    /// entry allows it; every node decides alike.
    fn apply_conf_change(&mut self, entry: &Entry) {
        let (cc, ctx) = match ConfChange::decode(&entry.data)
            .map_err(|e| e.0)
            .and_then(|cc| {
                MemberContext::decode(&cc.context)
                    .map(|ctx| (cc, ctx))
                    .map_err(|e| e.to_string())
            }) {
            Ok(pair) => pair,
            Err(e) => {
                error!(
                    "entry {} is not a membership change ({e}); skipped",
                    entry.index
                );
                return;
            }
        };
        let answer = match self.kv.members.check(&cc, &ctx) {
            Err(why) => {
                info!(
                    "node {}: refused {:?} of node {} at {}: {why}",
                    self.cfg.id, cc.change_type, cc.node_id, entry.index
                );
                Response::error(409, why)
            }
            Ok(()) => match self.raw.apply_conf_change(&cc) {
                Err(e) => {
                    // The membership allowed it, so Raft should: a bug.
                    error!(
                        "node {}: Raft refused {:?} of node {}: {e}",
                        self.cfg.id, cc.change_type, cc.node_id
                    );
                    Response::error(500, format!("Raft refused the change: {e}"))
                }
                Ok(cs) => {
                    self.kv.members.apply(&cc, &ctx);
                    info!(
                        "node {}: applied {:?} of node {} at {}: voters {:?}, learners {:?}",
                        self.cfg.id,
                        cc.change_type,
                        cc.node_id,
                        entry.index,
                        cs.voters,
                        cs.learners
                    );
                    self.raw.raft.raft_log.store.set_applied_conf_state(cs);
                    self.sync_peers();
                    if cc.change_type == ConfChangeType::RemoveNode && cc.node_id == self.cfg.id {
                        warn!(
                            "node {} was removed from the cluster; it stops in {REMOVED_GRACE:?}",
                            self.cfg.id
                        );
                        self.removed_at = Some(Instant::now());
                    }
                    Response::json(200, self.member_answer(&cc))
                }
            },
        };
        if let Some(p) = self.confs.remove(&ctx.id) {
            let _ = p.reply.send(answer);
        }
    }

    /// The answer to a membership change that was applied.
    fn member_answer(&self, cc: &ConfChange) -> String {
        let id = cc.node_id;
        let mut v = json!({
            "id": id,
            "change": match cc.change_type {
                ConfChangeType::AddLearnerNode => "added",
                ConfChangeType::AddNode => "promoted",
                ConfChangeType::RemoveNode => "removed",
            },
        });
        if cc.change_type == ConfChangeType::AddLearnerNode {
            // What the new member needs to start: every member's address.
            let peers: Vec<String> = self
                .kv
                .members
                .members
                .iter()
                .map(|(id, m)| format!("{id}={}", m.peer))
                .collect();
            v["peers"] = json!(peers.join(","));
            if let Some(m) = self.kv.members.members.get(&id) {
                v["peer"] = json!(m.peer);
                v["http"] = json!(m.http);
            }
        }
        v.to_string()
    }

    fn serve_reads(&mut self) {
        while let Some(entry) = self.reads_waiting_apply.first_entry() {
            if entry.key().0 > self.applied {
                break;
            }
            let p = entry.remove();
            let resp = match &p.kind {
                ReadKind::Get(key) => match self.kv.get(key) {
                    Some(v) => Response {
                        status: 200,
                        content_type: "application/octet-stream",
                        headers: Vec::new(),
                        body: v.to_vec(),
                    },
                    None => Response::error(404, "key not found"),
                },
                ReadKind::Scan { prefix, limit } => {
                    let (pairs, more) = self.kv.scan_prefix(prefix, *limit);
                    let mut body = String::new();
                    for (k, v) in &pairs {
                        body.push_str(&http::percent_encode(k));
                        body.push(' ');
                        body.push_str(&http::percent_encode(v));
                        body.push('\n');
                    }
                    Response::text(200, body)
                        .with_header("X-Count", pairs.len().to_string())
                        .with_header("X-More", more.to_string())
                }
                ReadKind::Snapshot => Response {
                    status: 200,
                    content_type: "application/octet-stream",
                    headers: Vec::new(),
                    body: snapshot_file(self.applied, &self.kv.snapshot()),
                },
            };
            let _ = p.reply.send(resp);
        }
    }
}

/// The first bytes of a file `kv snapshot save` writes.
pub const SNAPSHOT_FILE_MAGIC: &[u8; 8] = b"RLKVSNP1";

/// A snapshot file: the magic, the index it was taken at, a CRC-32 of the
/// state, the state's length and the state ([`KvStore::snapshot`]).
pub fn snapshot_file(index: u64, state: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.buf.extend_from_slice(SNAPSHOT_FILE_MAGIC);
    e.u64(index);
    e.u32(crc32(state));
    e.bytes(state);
    e.buf
}

/// Reads a snapshot file back: its index and the state it holds.
pub fn read_snapshot_file(bytes: &[u8]) -> Result<(u64, KvStore), String> {
    let rest = bytes
        .strip_prefix(SNAPSHOT_FILE_MAGIC.as_slice())
        .ok_or("not a kv snapshot file (wrong magic)")?;
    let mut d = Decoder::new(rest);
    let index = d.u64("index").map_err(|e| e.to_string())?;
    let crc = d.u32("checksum").map_err(|e| e.to_string())?;
    let state = d.bytes("state").map_err(|e| e.to_string())?;
    d.finish().map_err(|e| e.to_string())?;
    if crc32(&state) != crc {
        return Err("the state fails its checksum".into());
    }
    let kv = KvStore::restore(&state).map_err(|e| e.to_string())?;
    Ok((index, kv))
}

/// A number no earlier run of this node drew: the clock and the process
/// id, mixed.
fn fresh_nonce(id: NodeId) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mut x =
        nanos ^ (u64::from(std::process::id()) << 32) ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64's finalizer spreads the bits.
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The body limit: a value plus nothing else.
pub const MAX_BODY_BYTES: usize = MAX_VALUE_BYTES;

/// Every open client connection, to enforce the limits: at most
/// [`MAX_CLIENT_CONNECTIONS`] in all and [`MAX_CONNECTIONS_PER_IP`] from
/// one address. When a limit is reached, the connection idle the longest
/// (of that address, for the per-address limit) is closed to make room,
/// so idle connections cannot lock anyone out; only when every
/// connection is busy is the newcomer refused.
#[derive(Default)]
struct Connections {
    next: AtomicU64,
    table: Mutex<BTreeMap<u64, Connection>>,
}

struct Connection {
    ip: IpAddr,
    /// Since when it waits for a request; `None` while one is served.
    idle_since: Option<Instant>,
    /// A handle to close it with.
    stream: TcpStream,
}

impl Connections {
    /// Registers a new connection, closing an idle one if a limit is
    /// reached; the reason when there is no room.
    fn admit(&self, stream: &TcpStream) -> Result<u64, String> {
        let ip = stream
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let handle = stream.try_clone().map_err(|e| e.to_string())?;
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let from_ip = table.values().filter(|c| c.ip == ip).count();
        let full = table.len() >= MAX_CLIENT_CONNECTIONS;
        if full || from_ip >= MAX_CONNECTIONS_PER_IP {
            let same_ip_only = !full;
            let victim = table
                .iter()
                .filter(|(_, c)| c.idle_since.is_some() && (!same_ip_only || c.ip == ip))
                .min_by_key(|(_, c)| c.idle_since)
                .map(|(id, _)| *id);
            match victim {
                Some(v) => {
                    if let Some(c) = table.remove(&v) {
                        debug!(
                            "closed an idle client connection from {} to make room",
                            c.ip
                        );
                        let _ = c.stream.shutdown(Shutdown::Both);
                    }
                }
                None if full => {
                    return Err(format!(
                        "too many connections: all {MAX_CLIENT_CONNECTIONS} are busy"
                    ));
                }
                None => {
                    return Err(format!(
                        "too many connections from {ip}: all {MAX_CONNECTIONS_PER_IP} are busy"
                    ));
                }
            }
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        table.insert(
            id,
            Connection {
                ip,
                idle_since: Some(Instant::now()),
                stream: handle,
            },
        );
        Ok(id)
    }

    fn set_idle(&self, id: u64, idle: bool) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = table.get_mut(&id) {
            c.idle_since = idle.then(Instant::now);
        }
    }

    fn remove(&self, id: u64) {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
}

fn serve_http(listener: TcpListener, tx: SyncSender<Event>, cfg: &NodeConfig) {
    let conns = Arc::new(Connections::default());
    let request_timeout = cfg.request_timeout;
    let fault_injection = cfg.fault_injection;
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                warn!("accepting a client connection failed: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let id = match conns.admit(&stream) {
            Ok(id) => id,
            Err(why) => {
                let mut w = BufWriter::new(&stream);
                let _ = http::write_response(
                    &mut w,
                    &Response::error(503, why).with_header("Retry-After", "1"),
                    false,
                );
                continue;
            }
        };
        let (conns, tx) = (Arc::clone(&conns), tx.clone());
        let spawned = thread::Builder::new()
            .name("http-conn".into())
            .spawn(move || {
                serve_connection(stream, &tx, request_timeout, fault_injection, &conns, id);
                conns.remove(id);
            });
        if let Err(e) = spawned {
            warn!("cannot serve a client connection: {e}");
        }
    }
}

fn serve_connection(
    stream: TcpStream,
    tx: &SyncSender<Event>,
    request_timeout: Duration,
    fault_injection: bool,
    conns: &Connections,
    id: u64,
) {
    let _ = stream.set_read_timeout(Some(CLIENT_IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut r = BufReader::new(stream);
    let mut w = BufWriter::new(write_half);
    loop {
        conns.set_idle(id, true);
        let read = http::read_request(&mut r, &mut w, MAX_BODY_BYTES);
        conns.set_idle(id, false);
        match read {
            Ok(req) => {
                let keep_alive = req.keep_alive;
                let resp = route(req, tx, request_timeout, fault_injection);
                if http::write_response(&mut w, &resp, keep_alive).is_err() || !keep_alive {
                    return;
                }
            }
            Err(ReadError::Reject(resp)) => {
                let _ = http::write_response(&mut w, &resp, false);
                linger(&mut r);
                return;
            }
            Err(ReadError::Closed) | Err(ReadError::Io(_)) => return,
        }
    }
}

/// Closes a connection whose request was refused unread. Closing a socket
/// with unread input makes the kernel send a reset, which can destroy the
/// error response before the client reads it; so stop writing, and read
/// and discard what the client still sends, for a bounded time and size.
fn linger(r: &mut BufReader<TcpStream>) {
    let _ = r.get_ref().shutdown(Shutdown::Write);
    let _ = r
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 8192];
    let mut drained = 0;
    while drained < 1 << 20 {
        match r.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

const ROUTES: &str = "GET /kv/KEY, PUT or POST /kv/KEY (the body is the value), DELETE \
                      /kv/KEY, GET /kv/PREFIX?prefix[&limit=N], GET /status, GET /members, \
                      POST /members?peer=ADDR&http=ADDR[&id=N], DELETE /members/ID, POST \
                      /members/ID/promote, GET /snapshot";

/// The value of `name` in a query string `a=1&b&c=x`: `Some("")` for a
/// bare name.
fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn decoded_param(query: &str, name: &str) -> Result<Option<String>, Response> {
    match query_param(query, name) {
        None => Ok(None),
        Some(v) => {
            let bytes = http::percent_decode(v).map_err(|e| Response::error(400, e))?;
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| Response::error(400, format!("{name} is not UTF-8")))
        }
    }
}

fn parse_member_id(text: &str) -> Result<NodeId, Response> {
    text.parse::<NodeId>()
        .ok()
        .filter(|&id| id > 0)
        .ok_or_else(|| Response::error(400, format!("{text:?} is not a member id (1 or more)")))
}

/// An address a peer or a client can connect to: `HOST:PORT` with an IP.
fn check_addr(name: &str, addr: &str) -> Result<String, Response> {
    addr.parse::<SocketAddr>()
        .map(|a| a.to_string())
        .map_err(|_| Response::error(400, format!("{name} {addr:?} is not IP:PORT")))
}

/// Checks a request and turns it into a [`ClientRequest`] for the loop,
/// or answers it at once when it is wrong.
pub fn parse_client_request(req: &Request) -> Result<ClientRequest, Response> {
    let method_not_allowed = |allow: &str| {
        Response::error(
            405,
            format!("{} is not allowed on {}; use {allow}", req.method, req.path),
        )
        .with_header("Allow", allow)
    };
    let get_only = |r: ClientRequest| match req.method.as_str() {
        "GET" | "HEAD" => Ok(r),
        _ => Err(method_not_allowed("GET")),
    };
    match req.path.as_str() {
        "/status" => return get_only(ClientRequest::Status),
        "/snapshot" => return get_only(ClientRequest::Snapshot),
        "/" => {
            return Err(Response::text(
                200,
                format!("RaftLab kv. Routes: {ROUTES}\n"),
            ));
        }
        "/members" => {
            return match req.method.as_str() {
                "GET" | "HEAD" => Ok(ClientRequest::Members),
                "POST" => {
                    let peer = decoded_param(&req.query, "peer")?
                        .ok_or_else(|| Response::error(400, "missing peer=ADDR"))?;
                    let peer = check_addr("peer", &peer)?;
                    let http = match decoded_param(&req.query, "http")? {
                        Some(h) if !h.is_empty() => check_addr("http", &h)?,
                        _ => String::new(),
                    };
                    let id = match decoded_param(&req.query, "id")? {
                        Some(id) if !id.is_empty() => Some(parse_member_id(&id)?),
                        _ => None,
                    };
                    Ok(ClientRequest::MemberAdd { id, peer, http })
                }
                _ => Err(method_not_allowed("GET, POST")),
            };
        }
        _ => {}
    }
    if let Some(rest) = req.path.strip_prefix("/members/") {
        return match (rest.split_once('/'), req.method.as_str()) {
            (None, "DELETE") => Ok(ClientRequest::MemberRemove {
                id: parse_member_id(rest)?,
            }),
            (None, _) => Err(method_not_allowed("DELETE")),
            (Some((id, "promote")), "POST") => Ok(ClientRequest::MemberPromote {
                id: parse_member_id(id)?,
            }),
            (Some((_, "promote")), _) => Err(method_not_allowed("POST")),
            (Some(_), _) => Err(Response::error(
                404,
                format!("no route {}; routes: {ROUTES}", req.path),
            )),
        };
    }
    if req.path == "/debug/partition" {
        return match req.method.as_str() {
            "POST" => {
                let text = String::from_utf8_lossy(&req.body);
                let mut peers = BTreeSet::new();
                for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    peers.insert(parse_member_id(part)?);
                }
                Ok(ClientRequest::Partition { peers })
            }
            _ => Err(method_not_allowed("POST")),
        };
    }
    let scan = query_param(&req.query, "prefix").is_some();
    let raw_key = match req.path.strip_prefix("/kv/") {
        Some(k) => k,
        None if req.path == "/kv" && scan => "",
        None if req.path == "/kv" => return Err(Response::error(400, "missing key: use /kv/KEY")),
        None => {
            return Err(Response::error(
                404,
                format!("no route {}; routes: {ROUTES}", req.path),
            ));
        }
    };
    let key = http::percent_decode(raw_key).map_err(|e| Response::error(400, e))?;
    if key.is_empty() && !scan {
        return Err(Response::error(400, "missing key: use /kv/KEY"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Response::error(
            414,
            format!(
                "the key has {} bytes; the limit is {MAX_KEY_BYTES}",
                key.len()
            ),
        ));
    }
    if scan {
        let limit = match query_param(&req.query, "limit") {
            None | Some("") => DEFAULT_SCAN_LIMIT,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|&l| (1..=MAX_SCAN_LIMIT).contains(&l))
                .ok_or_else(|| {
                    Response::error(
                        400,
                        format!("limit {l:?} is not a number from 1 to {MAX_SCAN_LIMIT}"),
                    )
                })?,
        };
        return match req.method.as_str() {
            "GET" => Ok(ClientRequest::Scan { prefix: key, limit }),
            _ => Err(method_not_allowed("GET")),
        };
    }
    match req.method.as_str() {
        "GET" => Ok(ClientRequest::Get { key }),
        "PUT" | "POST" => Ok(ClientRequest::Put {
            key,
            value: req.body.clone(),
        }),
        "DELETE" => Ok(ClientRequest::Delete { key }),
        _ => Err(method_not_allowed("GET, PUT, POST, DELETE")),
    }
}

fn route(
    req: Request,
    tx: &SyncSender<Event>,
    request_timeout: Duration,
    fault_injection: bool,
) -> Response {
    let creq = match parse_client_request(&req) {
        Ok(ClientRequest::Partition { .. }) if !fault_injection => {
            return Response::error(
                404,
                "fault injection is off (start the node with --fault-injection)",
            );
        }
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let (reply_tx, reply_rx) = mpsc::channel();
    match tx.try_send(Event::Client(creq, reply_tx)) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return Response::error(503, "the node is overloaded; retry shortly")
                .with_header("Retry-After", "1");
        }
        Err(TrySendError::Disconnected(_)) => {
            return Response::error(503, "the node is shutting down");
        }
    }
    // The loop answers every request by its own deadline; the margin
    // covers a loop stalled on a slow disk.
    match reply_rx.recv_timeout(request_timeout + Duration::from_secs(2)) {
        Ok(resp) => resp,
        Err(_) => Response::error(504, "the node did not answer in time"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str, body: &[u8]) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            headers: vec![],
            body: body.to_vec(),
            keep_alive: true,
        }
    }

    #[test]
    fn routes_map_to_requests() {
        assert_eq!(
            parse_client_request(&req("PUT", "/kv/foo", b"test")),
            Ok(ClientRequest::Put {
                key: b"foo".to_vec(),
                value: b"test".to_vec()
            })
        );
        assert_eq!(
            parse_client_request(&req("GET", "/kv/a%2Fb", b"")),
            Ok(ClientRequest::Get {
                key: b"a/b".to_vec()
            })
        );
        assert_eq!(
            parse_client_request(&req("DELETE", "/kv/x", b"")),
            Ok(ClientRequest::Delete { key: b"x".to_vec() })
        );
        assert_eq!(
            parse_client_request(&req("GET", "/status", b"")),
            Ok(ClientRequest::Status)
        );
    }

    #[test]
    fn bad_requests_are_answered_with_the_reason() {
        let long_key = format!("/kv/{}", "k".repeat(MAX_KEY_BYTES + 1));
        let cases: [(&str, &str, u16); 7] = [
            ("GET", "/nope", 404),
            ("GET", "/kv/", 400),
            ("GET", "/kv", 400),
            ("PATCH", "/kv/a", 405),
            ("PUT", "/status", 405),
            ("GET", "/kv/%zz", 400),
            ("GET", &long_key, 414),
        ];
        for (i, (method, path, want)) in cases.iter().enumerate() {
            match parse_client_request(&req(method, path, b"")) {
                Err(resp) => assert_eq!(
                    resp.status,
                    *want,
                    "case #{i} ({method} {}): status {}, want {want}",
                    &path[..path.len().min(20)],
                    resp.status
                ),
                Ok(r) => panic!("case #{i}: {r:?} accepted"),
            }
        }
    }

    fn req_q(method: &str, path: &str, query: &str) -> Request {
        Request {
            query: query.into(),
            ..req(method, path, b"")
        }
    }

    #[test]
    fn membership_prefix_and_snapshot_routes() {
        let cases: Vec<(Request, ClientRequest)> = vec![
            (req("GET", "/members", b""), ClientRequest::Members),
            (
                req_q(
                    "POST",
                    "/members",
                    "peer=127.0.0.1:7004&http=127.0.0.1%3A8004",
                ),
                ClientRequest::MemberAdd {
                    id: None,
                    peer: "127.0.0.1:7004".into(),
                    http: "127.0.0.1:8004".into(),
                },
            ),
            (
                req_q("POST", "/members", "peer=127.0.0.1:7009&id=9"),
                ClientRequest::MemberAdd {
                    id: Some(9),
                    peer: "127.0.0.1:7009".into(),
                    http: String::new(),
                },
            ),
            (
                req("DELETE", "/members/3", b""),
                ClientRequest::MemberRemove { id: 3 },
            ),
            (
                req("POST", "/members/4/promote", b""),
                ClientRequest::MemberPromote { id: 4 },
            ),
            (
                req_q("GET", "/kv/ab", "prefix&limit=5"),
                ClientRequest::Scan {
                    prefix: b"ab".to_vec(),
                    limit: 5,
                },
            ),
            (
                req_q("GET", "/kv", "prefix"),
                ClientRequest::Scan {
                    prefix: vec![],
                    limit: DEFAULT_SCAN_LIMIT,
                },
            ),
            (req("GET", "/snapshot", b""), ClientRequest::Snapshot),
            (
                req("POST", "/debug/partition", b"2, 3"),
                ClientRequest::Partition {
                    peers: BTreeSet::from([2, 3]),
                },
            ),
        ];
        for (i, (r, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                parse_client_request(&r),
                Ok(want),
                "case #{i}: {} {}?{}",
                r.method,
                r.path,
                r.query
            );
        }
        let bad: [(Request, u16); 7] = [
            (req_q("POST", "/members", "http=127.0.0.1:1"), 400),
            (req_q("POST", "/members", "peer=nowhere"), 400),
            (req_q("POST", "/members", "peer=127.0.0.1:1&id=0"), 400),
            (req("DELETE", "/members/x", b""), 400),
            (req("GET", "/members/4/promote", b""), 405),
            (req_q("GET", "/kv/a", "prefix&limit=0"), 400),
            (req_q("PUT", "/kv/a", "prefix"), 405),
        ];
        for (i, (r, want)) in bad.into_iter().enumerate() {
            match parse_client_request(&r) {
                Err(resp) => assert_eq!(resp.status, want, "case #{i}: {}", r.path),
                Ok(got) => panic!("case #{i}: {got:?} accepted"),
            }
        }
    }
}
