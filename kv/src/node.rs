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

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use raft::{
    ConfState, Config, Entry, EntryType, Error as RaftError, NONE, NodeId, RawNode, Ready,
    StateType, Storage,
};
use tracing::{error, info, warn};

use crate::http::{self, ReadError, Request, Response};
use crate::json::ObjectWriter;
use crate::state::{Applied, Command, KvStore, MAX_KEY_BYTES, MAX_VALUE_BYTES, Op, RequestId};
use crate::storage::{DiskStorage, Recovery};
use crate::transport::{Inbound, Transport};

/// How a node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub id: NodeId,
    /// Every member's peer address, this node's included.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Where clients reach this node.
    pub http: SocketAddr,
    pub data_dir: PathBuf,
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
/// Client connections served at once; more get a 503 and are closed.
const MAX_CLIENT_CONNECTIONS: usize = 256;
/// An idle client connection is closed after this long.
const CLIENT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Rounds of `Ready` handled in a row before the loop reads events again.
const READY_ROUNDS: usize = 8;

/// What the loop is asked to do.
pub enum Event {
    Peer(Inbound),
    Client(ClientRequest, Sender<Response>),
}

/// A client's request, already checked by the HTTP front end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientRequest {
    Put { key: Vec<u8>, value: Vec<u8> },
    Delete { key: Vec<u8> },
    Get { key: Vec<u8> },
    Status,
}

/// Starts node `cfg.id` and serves until the process is killed; returns
/// only on a failure, saying what failed (a port in use, a damaged data
/// directory, a disk error).
pub fn run(cfg: NodeConfig) -> Result<(), String> {
    let Some(&raft_addr) = cfg.peers.get(&cfg.id) else {
        return Err(format!(
            "--peers has no address for this node's id {} (peers: {:?})",
            cfg.id,
            cfg.peers.keys().collect::<Vec<_>>()
        ));
    };
    let voters: Vec<NodeId> = cfg.peers.keys().copied().collect();
    let (store, recovery) = DiskStorage::open(
        &cfg.data_dir,
        cfg.id,
        &ConfState {
            voters: voters.clone(),
            learners: vec![],
        },
    )
    .map_err(|e| e.to_string())?;
    report_recovery(&cfg, &store, &recovery, &voters)?;

    let peer_listener = TcpListener::bind(raft_addr)
        .map_err(|e| format!("cannot listen for peers on {raft_addr}: {e}"))?;
    let http_listener = TcpListener::bind(cfg.http)
        .map_err(|e| format!("cannot listen for clients on {}: {e}", cfg.http))?;

    let (tx, rx) = mpsc::sync_channel::<Event>(EVENT_QUEUE);
    let peer_tx = tx.clone();
    let transport = Transport::start(cfg.id, peer_listener, &cfg.peers, move |inbound| {
        // The loop is gone only when the process is exiting.
        let _ = peer_tx.send(Event::Peer(inbound));
    });
    {
        let cfg = cfg.clone();
        thread::Builder::new()
            .name(format!("n{}-http", cfg.id))
            .spawn(move || serve_http(http_listener, tx, cfg.request_timeout))
            .map_err(|e| format!("cannot start the HTTP thread: {e}"))?;
    }
    let mut node = Node::new(cfg, store, transport)?;
    node.run(rx)
}

fn report_recovery(
    cfg: &NodeConfig,
    store: &DiskStorage,
    recovery: &Recovery,
    voters: &[NodeId],
) -> Result<(), String> {
    let state = store
        .initial_state()
        .map_err(|e| format!("cannot read the storage: {e}"))?;
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
    if state.conf_state.voters != voters {
        warn!(
            "--peers names {voters:?} but {} records the members {:?}; keeping the recorded \
             ones (membership changes are not supported)",
            store.wal_path().display(),
            state.conf_state.voters
        );
    }
    Ok(())
}

/// A client waiting for its write to be applied.
struct PendingWrite {
    /// The encoded command, to propose again after a leader change.
    data: Vec<u8>,
    reply: Sender<Response>,
    deadline: Instant,
}

/// A client waiting for its read: first for the read index, then for the
/// node to apply up to it.
struct PendingRead {
    key: Vec<u8>,
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
    /// Reads whose read index has not come back yet.
    reads_waiting_index: BTreeMap<RequestId, PendingRead>,
    /// Reads with a read index, by that index: served once applied.
    reads_waiting_apply: BTreeMap<(u64, RequestId), PendingRead>,
    leader: NodeId,
}

impl Node {
    fn new(cfg: NodeConfig, store: DiskStorage, transport: Transport) -> Result<Node, String> {
        let snap = store
            .snapshot(0)
            .map_err(|e| format!("cannot read the snapshot: {e}"))?;
        let kv = KvStore::restore(&snap.data).map_err(|e| {
            format!(
                "the snapshot at {} does not decode: {e}",
                snap.metadata.index
            )
        })?;
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
            "node {} started: {} keys from the snapshot at {}, tick {:?}",
            cfg.id,
            kv.len(),
            snap.metadata.index,
            cfg.tick
        );
        Ok(Node {
            applied: snap.metadata.index,
            cfg,
            raw,
            kv,
            transport,
            nonce,
            next_seq: 0,
            writes: BTreeMap::new(),
            reads_waiting_index: BTreeMap::new(),
            reads_waiting_apply: BTreeMap::new(),
            leader: NONE,
        })
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
                Ok(ev) => self.handle(ev),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err("every event source stopped".to_string());
                }
            }
            for _ in 0..EVENTS_PER_ROUND {
                match rx.try_recv() {
                    Ok(ev) => self.handle(ev),
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            if now >= next_tick {
                self.raw.tick();
                next_tick += self.cfg.tick;
                // After a stall (a slow fsync, a paused process) tick once,
                // not in a burst that would fire elections at once.
                if next_tick < now {
                    next_tick = now + self.cfg.tick;
                }
                self.expire(now);
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

    fn next_id(&mut self) -> RequestId {
        self.next_seq += 1;
        RequestId {
            nonce: self.nonce,
            seq: self.next_seq,
        }
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Peer(Inbound::Message(m)) => {
                if let Err(e) = self.raw.step(m) {
                    warn!("node {} refused a message: {e}", self.cfg.id);
                }
            }
            Event::Peer(Inbound::Unreachable(peer)) => self.raw.report_unreachable(peer),
            Event::Peer(Inbound::SnapshotStatus { to, failed }) => {
                self.raw.report_snapshot(to, failed)
            }
            Event::Client(req, reply) => self.handle_client(req, reply),
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

    fn handle_client(&mut self, req: ClientRequest, reply: Sender<Response>) {
        let deadline = Instant::now() + self.cfg.request_timeout;
        let op = match req {
            ClientRequest::Status => {
                let _ = reply.send(Response::json(200, self.status()));
                return;
            }
            ClientRequest::Get { key } => {
                if self.raw.raft.lead == NONE {
                    let _ = reply.send(self.no_leader());
                    return;
                }
                let id = self.next_id();
                self.raw.read_index(id.to_bytes());
                self.reads_waiting_index.insert(
                    id,
                    PendingRead {
                        key,
                        reply,
                        deadline,
                    },
                );
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
                let _ = reply.send(
                    Response::error(
                        503,
                        "the proposal was dropped (no leader, a leadership transfer, or too \
                         much uncommitted data); retry shortly",
                    )
                    .with_header("Retry-After", "1"),
                );
            }
            Err(e) => {
                let _ = reply.send(Response::error(500, format!("proposal failed: {e}")));
            }
        }
    }

    fn status(&self) -> String {
        let r = &self.raw.raft;
        let role = match r.state {
            StateType::Follower => "follower",
            StateType::Candidate => "candidate",
            StateType::PreCandidate => "pre-candidate",
            StateType::Leader => "leader",
        };
        let store = &r.raft_log.store;
        let mut w = ObjectWriter::new()
            .number("id", self.cfg.id)
            .string("role", role)
            .number("term", r.term)
            .number("leader", r.lead)
            .number("commit", r.raft_log.committed)
            .number("applied", self.applied)
            .number("last_index", r.raft_log.last_index())
            .number("snapshot_index", store.snapshot_index())
            .number("keys", self.kv.len() as u64)
            .number("wal_bytes", store.wal_bytes())
            .string("http", &self.cfg.http.to_string());
        if r.state == StateType::Leader {
            let progress: Vec<String> = r
                .prs
                .progress
                .iter()
                .map(|(id, pr)| format!("{id}:{}", pr.matched))
                .collect();
            w = w.string("match", &progress.join(","));
        }
        w.finish()
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
            self.kv = KvStore::restore(&snap.data).map_err(|e| {
                format!(
                    "the snapshot at {} from the leader does not decode: {e}",
                    snap.metadata.index
                )
            })?;
            self.applied = snap.metadata.index;
            info!(
                "node {} installed the snapshot at {} ({} keys)",
                self.cfg.id,
                snap.metadata.index,
                self.kv.len()
            );
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
            warn!(
                "node {} ignored a membership change at {}: not supported",
                self.cfg.id, entry.index
            );
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
        if self.kv.apply(cmd) == Applied::Duplicate {
            return;
        }
        if let Some(p) = self.writes.remove(&id) {
            let _ = p.reply.send(Response::text(200, "OK\n"));
        }
    }

    fn serve_reads(&mut self) {
        while let Some(entry) = self.reads_waiting_apply.first_entry() {
            if entry.key().0 > self.applied {
                break;
            }
            let p = entry.remove();
            let resp = match self.kv.get(&p.key) {
                Some(v) => Response {
                    status: 200,
                    content_type: "application/octet-stream",
                    headers: Vec::new(),
                    body: v.to_vec(),
                },
                None => Response::error(404, "key not found"),
            };
            let _ = p.reply.send(resp);
        }
    }
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

fn serve_http(listener: TcpListener, tx: SyncSender<Event>, request_timeout: Duration) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                warn!("accepting a client connection failed: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if active.load(Ordering::SeqCst) >= MAX_CLIENT_CONNECTIONS {
            let mut w = BufWriter::new(&stream);
            let _ = http::write_response(
                &mut w,
                &Response::error(
                    503,
                    format!("too many connections (limit {MAX_CLIENT_CONNECTIONS})"),
                ),
                false,
            );
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (active, tx) = (Arc::clone(&active), tx.clone());
        let spawned = thread::Builder::new()
            .name("http-conn".into())
            .spawn(move || {
                serve_connection(stream, &tx, request_timeout);
                active.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            warn!("cannot serve a client connection: {e}");
        }
    }
}

fn serve_connection(stream: TcpStream, tx: &SyncSender<Event>, request_timeout: Duration) {
    let _ = stream.set_read_timeout(Some(CLIENT_IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut r = BufReader::new(stream);
    let mut w = BufWriter::new(write_half);
    loop {
        match http::read_request(&mut r, &mut w, MAX_BODY_BYTES) {
            Ok(req) => {
                let keep_alive = req.keep_alive;
                let resp = route(req, tx, request_timeout);
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
                      /kv/KEY, GET /status";

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
    if req.path == "/status" {
        return match req.method.as_str() {
            "GET" | "HEAD" => Ok(ClientRequest::Status),
            _ => Err(method_not_allowed("GET")),
        };
    }
    if req.path == "/" {
        return Err(Response::text(
            200,
            format!("RaftLab kv. Routes: {ROUTES}\n"),
        ));
    }
    let Some(raw_key) = req.path.strip_prefix("/kv/") else {
        if req.path == "/kv" {
            return Err(Response::error(400, "missing key: use /kv/KEY"));
        }
        return Err(Response::error(
            404,
            format!("no route {}; routes: {ROUTES}", req.path),
        ));
    };
    let key = http::percent_decode(raw_key).map_err(|e| Response::error(400, e))?;
    if key.is_empty() {
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

fn route(req: Request, tx: &SyncSender<Event>, request_timeout: Duration) -> Response {
    let creq = match parse_client_request(&req) {
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
}
