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
//! ## Differences from etcd raft v3.5
//!
//! The library follows etcd raft v3.5, and etcd's own unit tests, ported,
//! pass against the finished library (`raft/tests/etcd_*.rs`) except where
//! it parts from etcd on purpose. Every such place is listed here, with its
//! reason; the ported tests assert this library's behaviour there and say
//! what etcd does.
//!
//! 1. **A network message without a term is dropped.** etcd takes a
//!    message of term 0 as one of its current term. Here every message a
//!    node sends gets its term in `send`, except a forwarded `MsgProp`,
//!    `MsgReadIndex` or `MsgTransferLeader`, which belong to no term; any
//!    other message without one is malformed, and taken as of our term it
//!    could make a candidate follow a "leader" of term 0.
//! 2. **A malformed `MsgApp` is dropped without a reply.** Its entries
//!    must follow `index` without a gap, in terms that never decrease, no
//!    older than `log_term` and no newer than the message's own term. etcd
//!    has no such check and appends them. No correct leader of that term
//!    sends such entries, and appending them would break the order of
//!    terms in the log that votes (§5.4.1) and the leader's rejection hints
//!    rely on.
//! 3. **A voter cannot be demoted to a learner in one step.**
//!    `AddLearnerNode` on a voter is an error; remove the node, then add it
//!    as a learner. etcd does it as one change. Membership changes here
//!    are one server at a time (no joint consensus), and the change would
//!    take the node out of the voter set while a quorum may still count
//!    it.
//! 4. **A leader that removes itself steps down at once.** etcd v3.5 stays
//!    leader, dropping proposals, until a new leader deposes it. A leader
//!    outside the voter set cannot count itself in a quorum; stepping down
//!    lets the remaining voters elect a leader after one election timeout.
//! 5. **A snapshot goes out as soon as the entries a follower needs are
//!    compacted**, also from `maybe_send_append` when it is not forced to
//!    send (after an acknowledgement, or when a new member is probed). etcd
//!    sends one only on a forced send, such as the next heartbeat
//!    response. The follower needs the snapshot either way; waiting only
//!    delays it.
//! 6. **A node never starts at a term below the last term of its log** (or
//!    of the snapshot it starts from). A storage bootstrapped from a
//!    snapshot has no hard state: etcd starts such a node at term 0, so it
//!    can lead term 1 over a log ending at a later term, and its followers
//!    must append entries whose terms go backwards. Here `Raft::new` takes
//!    the log's last term (with no vote: a candidate of that term has an
//!    older last entry, and is refused anyway). So a node whose hard state
//!    is older than its log counts what it commits at that later term.
//! 7. **Input that makes etcd panic is refused instead**, with a log line
//!    or an [`Error`]: a heartbeat whose commit index is beyond the log
//!    (dropped), a `MsgSnap` without a snapshot or whose membership no
//!    tracker can hold (ignored), a `MsgReadIndex` without exactly one
//!    entry (dropped), a persisted commit index outside the log or
//!    [`Config::applied`] beyond it (`Raft::new` returns an error), a
//!    membership change that leaves no voter (an error: etcd panics with
//!    "removed all voters"), and a change of node id 0 (an error: etcd
//!    skips it).
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
