//! # RaftLab's Raft library
//!
//! A Raft consensus library in the design of etcd's `raft` package (v3.5),
//! written in Rust with etcd's names in snake_case, so that the Raft paper,
//! etcd and this code read alike. It is the library RaftLab's students work
//! in: ten steps of the protocol are left as `todo!("RaftLab ...")` holes in
//! [`raft`](mod@raft), and everything around them is complete.
//!
//! ## A tour, in the order to read it
//!
//! 1. [`types`] (the [`raftpb`] crate, re-exported): what nodes exchange and persist. [`Message`] with its
//!    [`MessageType`] (`MsgVote`, `MsgApp`, ...), log [`Entry`]s,
//!    [`HardState`] (term, vote, commit), [`Snapshot`] and [`ConfState`].
//! 2. [`raft`](mod@raft): the state machine of one node, [`Raft`]. It never
//!    does I/O and never reads a clock: the application calls
//!    [`Raft::tick`] and [`Raft::step`], and the node appends to its log and
//!    queues messages in [`Raft::msgs`]. Each role has its own `tick` and
//!    `step` function, kept in two function fields that `become_follower`,
//!    `become_candidate`, `become_pre_candidate` and `become_leader` swap.
//!    **The ten holes are here.**
//! 3. [`raft_log`]: the log, [`RaftLog`]: entries already in [`Storage`]
//!    plus an unstable tail ([`log_unstable`]) not yet persisted, the commit
//!    and applied indexes, and the checks AppendEntries needs
//!    (`maybe_append`, `find_conflict_by_term`, `is_up_to_date`).
//! 4. [`storage`]: the [`Storage`] trait a node reads its persisted log
//!    through, and [`MemStorage`], an in-memory implementation.
//! 5. [`tracker`]: what a leader knows of each follower ([`Progress`]:
//!    `matched`, `next_idx`, Probe / Replicate / Snapshot state, and the
//!    [`Inflights`] window of flow control) and the votes of an election
//!    ([`ProgressTracker`]). [`quorum`] does the majority arithmetic.
//! 6. [`raw_node`]: how an application drives a node: [`RawNode`] takes
//!    ticks, messages and proposals, and hands work back as a [`Ready`]:
//!    persist, then send, then apply, then `advance`.
//! 7. [`read_only`]: linearizable reads (ReadIndex, §6.4 of the paper).
//! 8. [`config`] and [`errors`]: a node's settings ([`Config`], checked by
//!    [`Config::validate`]) and what can go wrong ([`Error`]).
//!
//! ## What it has
//!
//! Leader election with randomized timeouts, pre-vote and check-quorum
//! (leader lease); log replication with pipelining, flow control and fast
//! rejection hints; heartbeats carrying the commit index; snapshots and log
//! compaction; leadership transfer; ReadIndex reads (safe and lease-based);
//! single-server membership changes, voters and learners.
//!
//! ## What it leaves out
//!
//! Joint consensus (etcd's `ConfChangeV2`), asynchronous storage writes,
//! and any transport or disk: those belong to the application.
//!
//! ## Logs
//!
//! The library logs through [`tracing`]: run with `RUST_LOG=raft=debug`
//! to see elections, votes and appends, or `RUST_LOG=raft=info` for role
//! changes only.

pub mod config;
pub mod errors;
pub mod log_unstable;
pub mod quorum;
pub mod raft;
pub mod raft_log;
pub mod raw_node;
pub mod read_only;
pub mod storage;
pub mod tracker;
pub mod types;
mod util;

pub use config::{Config, ReadOnlyOption};
pub use errors::{Error, Result, StorageError};
pub use quorum::VoteResult;
pub use raft::{CAMPAIGN_TRANSFER, CampaignType, Raft, SoftState};
pub use raft_log::RaftLog;
pub use raw_node::{RawNode, Ready};
pub use read_only::{ReadIndexStatus, ReadOnly};
pub use storage::{MemStorage, MemStorageCore, NO_LIMIT, RaftState, Storage};
pub use tracker::{Inflights, Progress, ProgressState, ProgressTracker};
pub use types::*;
