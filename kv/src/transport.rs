//! Messages between nodes: one outgoing TCP connection per peer, carrying
//! length-prefixed frames (`len: u32 LE`, then [`codec::encode_message`]).
//!
//! Raft tolerates lost messages, so the transport never blocks the Ready
//! loop: each peer has a bounded queue and a sender thread; a full queue,
//! a refused connection or a failed write drops the messages and reports
//! the peer unreachable, and Raft resends what matters. A peer that is
//! down is retried at most every [`RECONNECT_BACKOFF`].

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
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

/// What the transport hands the node.
#[derive(Debug)]
pub enum Inbound {
    /// A message from a peer, addressed to this node.
    Message(Message),
    /// Messages to this peer were dropped: it is down or too slow.
    Unreachable(NodeId),
    /// A snapshot was written to the peer's connection, or failed to be.
    SnapshotStatus { to: NodeId, failed: bool },
}

/// The sending side: one queue per peer.
pub struct Transport {
    queues: BTreeMap<NodeId, SyncSender<Message>>,
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
        let deliver = Arc::new(deliver);
        let known: Vec<NodeId> = peers.keys().copied().collect();
        {
            let deliver = Arc::clone(&deliver);
            thread::Builder::new()
                .name(format!("n{id}-accept"))
                .spawn(move || accept_loop(id, listener, known, deliver))
                .unwrap_or_else(|e| panic!("cannot start the peer listener thread: {e}"));
        }
        let mut queues = BTreeMap::new();
        for (&peer, &addr) in peers {
            if peer == id {
                continue;
            }
            let (tx, rx) = mpsc::sync_channel(PEER_QUEUE);
            let deliver = Arc::clone(&deliver);
            thread::Builder::new()
                .name(format!("n{id}-to-n{peer}"))
                .spawn(move || send_loop(peer, addr, rx, deliver))
                .unwrap_or_else(|e| panic!("cannot start the sender thread for {peer}: {e}"));
            queues.insert(peer, tx);
        }
        Transport { queues }
    }

    /// Queues `m` for its destination. Returns false when it was dropped
    /// (unknown peer, or its queue is full); the caller reports the peer
    /// unreachable.
    pub fn send(&self, m: Message) -> bool {
        let Some(q) = self.queues.get(&m.to) else {
            warn!("dropped {m:?}: node {} is not a peer", m.to);
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

fn accept_loop(
    id: NodeId,
    listener: TcpListener,
    known: Vec<NodeId>,
    deliver: Arc<dyn Fn(Inbound) + Send + Sync>,
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
        let (active, deliver, known) = (Arc::clone(&active), Arc::clone(&deliver), known.clone());
        let spawned = thread::Builder::new()
            .name(format!("n{id}-from-peer"))
            .spawn(move || {
                let peer = stream.peer_addr().ok();
                if let Err(e) = read_frames(id, stream, &known, &*deliver) {
                    debug!("connection from {peer:?} closed: {e}");
                }
                active.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            warn!("cannot serve a peer connection: {e}");
        }
    }
}

/// Reads frames until the connection ends or a frame is bad.
fn read_frames(
    id: NodeId,
    stream: TcpStream,
    known: &[NodeId],
    deliver: &(dyn Fn(Inbound) + Send + Sync),
) -> Result<(), String> {
    let mut r = BufReader::new(stream);
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
        if m.to != id || !known.contains(&m.from) || m.from == id || m.msg_type.is_local() {
            warn!("dropped {m:?}: not a message from a peer to node {id}");
            continue;
        }
        deliver(Inbound::Message(m));
    }
}

fn send_loop(
    peer: NodeId,
    addr: SocketAddr,
    rx: Receiver<Message>,
    deliver: Arc<dyn Fn(Inbound) + Send + Sync>,
) {
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

fn connect(addr: SocketAddr) -> std::io::Result<BufWriter<TcpStream>> {
    let s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    s.set_write_timeout(Some(WRITE_TIMEOUT))?;
    s.set_nodelay(true)?;
    Ok(BufWriter::new(s))
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
