//! Messages between nodes: one outgoing TCP connection per peer, carrying
//! length-prefixed frames (`len: u32 LE`, then [`codec::encode_message`]).
//! Every connection opens with 8 bytes that say what it is for: a stream of
//! messages ([`STREAM_MAGIC`]), or a probe ([`PROBE_MAGIC`]) that asks the
//! node what it knows of its cluster and gets one frame back.
//!
//! The set of peers changes with the membership ([`Transport::set_peers`]).
//! For tests, links can be cut on purpose ([`Transport::block`]): the
//! messages on them are dropped silently, as a network partition would.
//!
//! Raft tolerates lost messages, so the transport never blocks the Ready
//! loop: each peer has a bounded queue and a sender thread; a full queue,
//! a refused connection or a failed write drops the messages and reports
//! the peer unreachable, and Raft resends what matters. A peer that is
//! down is retried at most every [`RECONNECT_BACKOFF`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use raft::{Message, MessageType, NodeId};
use tracing::{debug, info, warn};

use crate::codec;

/// The largest frame accepted: a snapshot of the whole map travels in one.
pub const MAX_FRAME_BYTES: usize = 256 << 20;
/// Messages queued for one peer before new ones are dropped.
const PEER_QUEUE: usize = 4096;
/// Messages written to a peer before a flush.
const BATCH: usize = 256;
/// How long a connection attempt may take on loopback.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// A write stuck longer than this (a peer that stopped reading) fails.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// After a failed connection, wait this long before trying again.
pub const RECONNECT_BACKOFF: Duration = Duration::from_millis(200);
/// Inbound connections served at once; more are closed at once.
const MAX_INBOUND: usize = 64;
/// The first bytes of a connection that carries messages.
pub const STREAM_MAGIC: &[u8; 8] = b"RLKVMSG1";
/// The first bytes of a connection that asks for the node's cluster view.
pub const PROBE_MAGIC: &[u8; 8] = b"RLKVPRB1";
/// The largest probe answer accepted.
const MAX_PROBE_BYTES: usize = 1 << 20;
/// How long a node may take to answer a probe.
const PROBE_ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// What the transport hands the node.
#[derive(Debug)]
pub enum Inbound {
    /// A message from a peer, addressed to this node.
    Message(Message),
    /// Messages to this peer were dropped: it is down or too slow.
    Unreachable(NodeId),
    /// A snapshot was written to the peer's connection, or failed to be.
    SnapshotStatus { to: NodeId, failed: bool },
    /// Someone asks what this node knows of its cluster: send the encoded
    /// answer on the channel.
    Probe(SyncSender<Vec<u8>>),
}

type Deliver = Arc<dyn Fn(Inbound) + Send + Sync>;

/// The sending side: one queue per peer.
pub struct Transport {
    id: NodeId,
    queues: BTreeMap<NodeId, (SocketAddr, SyncSender<Message>)>,
    deliver: Deliver,
    /// Peers whose links are cut on purpose (tests).
    blocked: Arc<Mutex<BTreeSet<NodeId>>>,
}

impl Transport {
    /// Serves inbound connections on `listener` and starts a sender for
    /// every peer in `peers` other than `id`. `deliver` is called from the
    /// transport's threads, and may block to slow a fast peer down.
    pub fn start<F>(
        id: NodeId,
        listener: TcpListener,
        peers: &BTreeMap<NodeId, SocketAddr>,
        deliver: F,
    ) -> Transport
    where
        F: Fn(Inbound) + Send + Sync + 'static,
    {
        let deliver: Deliver = Arc::new(deliver);
        let blocked = Arc::new(Mutex::new(BTreeSet::new()));
        {
            let deliver = Arc::clone(&deliver);
            let blocked = Arc::clone(&blocked);
            thread::Builder::new()
                .name(format!("n{id}-accept"))
                .spawn(move || accept_loop(id, listener, deliver, blocked))
                .unwrap_or_else(|e| panic!("cannot start the peer listener thread: {e}"));
        }
        let mut t = Transport {
            id,
            queues: BTreeMap::new(),
            deliver,
            blocked,
        };
        t.set_peers(peers);
        t
    }

    /// Makes `peers` the set this node sends to: starts a sender for each
    /// new peer (or new address) and stops those of peers no longer there.
    pub fn set_peers(&mut self, peers: &BTreeMap<NodeId, SocketAddr>) {
        self.queues
            .retain(|peer, (addr, _)| peers.get(peer) == Some(addr));
        for (&peer, &addr) in peers {
            if peer == self.id || self.queues.contains_key(&peer) {
                continue;
            }
            let (tx, rx) = mpsc::sync_channel(PEER_QUEUE);
            let deliver = Arc::clone(&self.deliver);
            let spawned = thread::Builder::new()
                .name(format!("n{}-to-n{peer}", self.id))
                .spawn(move || send_loop(peer, addr, rx, deliver));
            match spawned {
                Ok(_) => {
                    self.queues.insert(peer, (addr, tx));
                }
                Err(e) => warn!("cannot start the sender thread for node {peer}: {e}"),
            }
        }
    }

    /// Cuts (or, with an empty set, heals) the links to and from `peers`:
    /// their messages are dropped without a word, as a partition would.
    pub fn block(&self, peers: BTreeSet<NodeId>) {
        *self.blocked.lock().unwrap_or_else(|e| e.into_inner()) = peers;
    }

    /// Queues `m` for its destination. Returns false when it was dropped
    /// (unknown peer, or its queue is full); the caller reports the peer
    /// unreachable.
    pub fn send(&self, m: Message) -> bool {
        if self
            .blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&m.to)
        {
            return true;
        }
        let Some((_, q)) = self.queues.get(&m.to) else {
            debug!("dropped {m:?}: node {} is not a peer", m.to);
            return false;
        };
        match q.try_send(m) {
            Ok(()) => true,
            Err(TrySendError::Full(m)) => {
                debug!("dropped {m:?}: the queue to {} is full", m.to);
                false
            }
            Err(TrySendError::Disconnected(m)) => {
                warn!("dropped {m:?}: the sender to {} stopped", m.to);
                false
            }
        }
    }
}

/// Asks the node whose peer address is `addr` what it knows of its
/// cluster; returns its encoded answer.
pub fn probe(addr: SocketAddr, timeout: Duration) -> Result<Vec<u8>, String> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout + PROBE_ANSWER_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.write_all(PROBE_MAGIC).map_err(|e| e.to_string())?;
    let mut len = [0u8; 4];
    s.read_exact(&mut len)
        .map_err(|e| format!("no answer: {e}"))?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_PROBE_BYTES {
        return Err(format!("an answer of {len} bytes is over the limit"));
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)
        .map_err(|e| format!("a cut answer: {e}"))?;
    Ok(body)
}

fn accept_loop(
    id: NodeId,
    listener: TcpListener,
    deliver: Deliver,
    blocked: Arc<Mutex<BTreeSet<NodeId>>>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                warn!("accepting a peer connection failed: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if active.load(Ordering::SeqCst) >= MAX_INBOUND {
            warn!("closed a peer connection: already {MAX_INBOUND} open");
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (active, deliver, blocked) = (
            Arc::clone(&active),
            Arc::clone(&deliver),
            Arc::clone(&blocked),
        );
        let spawned = thread::Builder::new()
            .name(format!("n{id}-from-peer"))
            .spawn(move || {
                let peer = stream.peer_addr().ok();
                if let Err(e) = serve_peer(id, stream, &*deliver, &blocked) {
                    debug!("connection from {peer:?} closed: {e}");
                }
                active.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            warn!("cannot serve a peer connection: {e}");
        }
    }
}

/// Serves one inbound connection: a probe, or a stream of messages.
fn serve_peer(
    id: NodeId,
    stream: TcpStream,
    deliver: &(dyn Fn(Inbound) + Send + Sync),
    blocked: &Mutex<BTreeSet<NodeId>>,
) -> Result<(), String> {
    let mut r = BufReader::new(stream);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).map_err(|e| format!("{e}"))?;
    if &magic == PROBE_MAGIC {
        let (tx, rx) = mpsc::sync_channel(1);
        deliver(Inbound::Probe(tx));
        let answer = rx
            .recv_timeout(PROBE_ANSWER_TIMEOUT)
            .map_err(|_| "the node did not answer the probe".to_string())?;
        let mut w = r.into_inner();
        w.set_write_timeout(Some(WRITE_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let len = u32::try_from(answer.len()).map_err(|_| "answer too large".to_string())?;
        w.write_all(&len.to_le_bytes()).map_err(|e| e.to_string())?;
        return w.write_all(&answer).map_err(|e| e.to_string());
    }
    if &magic != STREAM_MAGIC {
        return Err(format!("not a RaftLab kv peer (it opened with {magic:?})"));
    }
    loop {
        let mut len = [0u8; 4];
        if let Err(e) = r.read_exact(&mut len) {
            return Err(format!("{e}"));
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_FRAME_BYTES {
            return Err(format!("a frame of {len} bytes is over the limit"));
        }
        let mut frame = vec![0u8; len];
        r.read_exact(&mut frame).map_err(|e| format!("{e}"))?;
        let m = codec::decode_message(&frame).map_err(|e| format!("bad frame: {e}"))?;
        if m.to != id || m.from == id || m.msg_type.is_local() {
            warn!("dropped {m:?}: not a message from a peer to node {id}");
            continue;
        }
        if blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&m.from)
        {
            continue;
        }
        deliver(Inbound::Message(m));
    }
}

fn send_loop(peer: NodeId, addr: SocketAddr, rx: Receiver<Message>, deliver: Deliver) {
    let mut conn: Option<BufWriter<TcpStream>> = None;
    let mut last_failure: Option<Instant> = None;
    let mut was_down = false;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        // A peer that restarted closed our old connection; writing to it
        // would "succeed" into the kernel's buffer and be lost, and the
        // first messages after a restart are often votes. Notice it first.
        if conn.as_ref().is_some_and(|w| !still_open(w.get_ref())) {
            debug!("the connection to node {peer} was closed by the other side; reconnecting");
            conn = None;
        }
        if conn.is_none() {
            let backing_off = last_failure.is_some_and(|t| t.elapsed() < RECONNECT_BACKOFF);
            if !backing_off {
                match connect(addr) {
                    Ok(c) => {
                        if was_down {
                            info!("connected to node {peer} at {addr}");
                        }
                        was_down = false;
                        conn = Some(c);
                    }
                    Err(e) => {
                        if !was_down {
                            info!("node {peer} at {addr} is unreachable: {e}");
                        }
                        was_down = true;
                        last_failure = Some(Instant::now());
                    }
                }
            }
        }
        let written = match &mut conn {
            Some(w) => write_batch(w, &batch),
            None => Err("not connected".to_string()),
        };
        if let Err(e) = &written {
            if conn.take().is_some() {
                info!("lost the connection to node {peer}: {e}");
                was_down = true;
                last_failure = Some(Instant::now());
            }
            deliver(Inbound::Unreachable(peer));
        }
        for m in &batch {
            if m.msg_type == MessageType::MsgSnap {
                deliver(Inbound::SnapshotStatus {
                    to: peer,
                    failed: written.is_err(),
                });
            }
        }
    }
}

/// Whether the other side still has the connection open. It never writes
/// on it, so anything to read means it closed (or reset) it.
fn still_open(s: &TcpStream) -> bool {
    if s.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    let open = matches!(s.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    open && s.set_nonblocking(false).is_ok()
}

fn connect(addr: SocketAddr) -> std::io::Result<BufWriter<TcpStream>> {
    let s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    s.set_write_timeout(Some(WRITE_TIMEOUT))?;
    s.set_nodelay(true)?;
    let mut w = BufWriter::new(s);
    w.write_all(STREAM_MAGIC)?;
    Ok(w)
}

fn write_batch(w: &mut BufWriter<TcpStream>, batch: &[Message]) -> Result<(), String> {
    for m in batch {
        let frame = codec::encode_message(m);
        let len = u32::try_from(frame.len())
            .ok()
            .filter(|&l| l as usize <= MAX_FRAME_BYTES)
            .ok_or_else(|| format!("{m:?} is {} bytes, over the frame limit", frame.len()))?;
        w.write_all(&len.to_le_bytes()).map_err(|e| e.to_string())?;
        w.write_all(&frame).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}
