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
//!    every `--tick-ms` of real time.
//! 2. [`storage`]: [`storage::DiskStorage`], Raft's storage on disk: a
//!    write-ahead log with CRC-32 checksums and fsync, snapshots, and
//!    compaction by rewriting the log.
//! 3. [`transport`]: messages between nodes, length-prefixed frames over
//!    one TCP connection per peer.
//! 4. [`http`]: a minimal HTTP/1.1 server and client on `std::net`.
//! 5. [`state`]: the replicated map and the commands in the log.
//! 6. [`client`]: the `kv put / get / delete / status` commands, and a
//!    client the benchmark and the tests share.
//! 7. [`lincheck`]: a linearizability checker for key-value histories,
//!    used by the tests.
//!
//! ## What it leaves out
//!
//! Membership changes (the cluster is the `--peers` it starts with), TLS,
//! authentication, and any client session (a retried write may apply
//! twice).

pub mod client;
pub mod codec;
pub mod crc32;
pub mod http;
pub mod lincheck;
pub mod node;
pub mod state;
pub mod storage;
pub mod transport;
