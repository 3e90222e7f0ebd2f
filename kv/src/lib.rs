//! # RaftLab's key-value server
//!
//! A replicated key-value store on RaftLab's Raft, to run a real cluster on
//! the library students complete: each node is a process, nodes talk over
//! TCP, the log lives on disk, and clients use HTTP (curl works) or the
//! `kv` command.
//!
//! ## A tour
//!
//! 1. [`node`]: one server. A single thread owns the [`raft::RawNode`]
//!    and runs the `Ready` loop: persist, send, apply, advance; it ticks
//!    every `--tick-ms` of real time. [`node::join`]: a node with no data asks
//!    its peers before it starts, so it never rejoins under an id whose
//!    data it lost.
//! 2. [`storage`]: [`storage::DiskStorage`], Raft's storage on disk: a
//!    write-ahead log with CRC-32 checksums and fsync, snapshots, and
//!    compaction by rewriting the log.
//! 3. [`transport`]: messages between nodes, length-prefixed frames over
//!    one TCP connection per peer, and the probe a starting node sends.
//! 4. [`http`]: a minimal HTTP/1.1 server and client on `std::net`.
//! 5. [`state`]: the replicated map, the membership (members, learners,
//!    removed ids), and the commands in the log.
//! 6. [`client`]: a client of the whole cluster, which the `kv` command,
//!    the benchmarks and the tests share.
//! 7. [`lincheck`]: a linearizability checker for key-value histories,
//!    used by the tests.
//! 8. [`local`]: a cluster of local node processes, which `kv-bench` and
//!    `kv-failover` start and kill.
//!
//! ## What it leaves out
//!
//! Joint consensus (membership changes go one member at a time), TLS,
//! authentication, and client sessions (a write a client sends again after
//! an unknown outcome may apply twice).

pub mod client;
pub mod codec;
pub mod crc32;
pub mod http;
pub mod lincheck;
pub mod local;
pub mod node;
pub mod state;
pub mod storage;
pub mod transport;
