//! The messages and log records Raft nodes exchange and persist.
//!
//! These are etcd's `raftpb` types as plain Rust structs: no protobuf, no
//! generated code. Every message type of etcd raft v3.5 is here, so each
//! feature of the library has the message it needs.
//!
//! They live in a crate of their own, as etcd keeps them in a package of
//! their own: the `raft` crate re-exports all of them, and code that only
//! carries messages and entries around (RaftLab's grader, which judges a
//! node by what it sends and persists) needs nothing else.

use std::fmt;
use std::sync::Arc;

/// A term number (§5.1). Terms only ever grow on a node.
pub type Term = u64;
/// A position in the log; the first entry ever appended has index 1.
pub type Index = u64;
/// A node's id. `0` is reserved to mean "no node" ([`NONE`]).
pub type NodeId = u64;

/// "No node": no leader known, no vote cast.
pub const NONE: NodeId = 0;

/// The role a node plays (§5.1, Figure 4), plus pre-candidate (§9.6). Not
/// sent on the wire, but what an application sees of a node
/// (`SoftState`), and what a tester judges it by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StateType {
    #[default]
    Follower,
    Candidate,
    Leader,
    /// Asking for pre-votes: a candidate that has not raised its term yet.
    PreCandidate,
}

/// What an entry carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryType {
    /// Application data (empty for the entry a new leader appends).
    #[default]
    Normal,
    /// An encoded [`ConfChange`].
    ConfChange,
}

/// One record of the replicated log.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Entry {
    pub term: Term,
    pub index: Index,
    pub entry_type: EntryType,
    /// The payload, shared: an entry is cloned into the unstable log, every
    /// follower's `MsgApp`, `Ready` and storage, and a clone must not copy
    /// its bytes. Build it with `Arc::from(vec)` or `b"x".as_slice().into()`.
    pub data: Arc<[u8]>,
}

impl Entry {
    /// A normal entry with the given term, index and data.
    pub fn new(term: Term, index: Index, data: &[u8]) -> Entry {
        Entry {
            term,
            index,
            entry_type: EntryType::Normal,
            data: data.into(),
        }
    }

    /// The size this entry counts for in size limits: its data plus a fixed
    /// header, so that empty entries still cost something.
    pub fn size(&self) -> u64 {
        self.data.len() as u64 + ENTRY_HEADER_SIZE
    }

    /// The bytes of application data, as counted by the uncommitted-size limit.
    pub fn payload_size(&self) -> u64 {
        self.data.len() as u64
    }
}

/// What an entry's fixed fields count for in [`Entry::size`].
pub const ENTRY_HEADER_SIZE: u64 = 24;

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.index, self.term)?;
        if self.entry_type == EntryType::ConfChange {
            write!(f, " conf")?;
        }
        if !self.data.is_empty() {
            match std::str::from_utf8(&self.data) {
                Ok(s) if s.len() <= 16 => write!(f, " {s:?}")?,
                _ => write!(f, " <{} bytes>", self.data.len())?,
            }
        }
        Ok(())
    }
}

/// The kinds of message, with etcd's names so the paper, etcd and this code
/// read alike. `MsgHup`, `MsgBeat`, `MsgUnreachable`, `MsgSnapStatus` and
/// `MsgCheckQuorum` are local: a node steps them into itself, they never cross
/// the network.
#[allow(clippy::enum_variant_names)] // etcd's names: MsgHup, MsgApp, ...
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageType {
    /// Local: start an election.
    #[default]
    MsgHup,
    /// Local: a leader's heartbeat timer fired; send heartbeats.
    MsgBeat,
    /// A proposal of new entries, to the leader.
    MsgProp,
    /// AppendEntries (§5.3): entries after `index`@`log_term`, and the commit.
    MsgApp,
    /// The reply to `MsgApp`.
    MsgAppResp,
    /// RequestVote (§5.2): a candidate with last entry `index`@`log_term`.
    MsgVote,
    /// The reply to `MsgVote`.
    MsgVoteResp,
    /// InstallSnapshot (§7): the leader sends its snapshot.
    MsgSnap,
    /// The leader's heartbeat, carrying its commit index.
    MsgHeartbeat,
    /// The reply to `MsgHeartbeat`.
    MsgHeartbeatResp,
    /// Local: the application could not reach a peer.
    MsgUnreachable,
    /// Local: the application reports how sending a snapshot went.
    MsgSnapStatus,
    /// Local: a leader's check that a quorum is still active.
    MsgCheckQuorum,
    /// Ask the leader to hand leadership to `from`.
    MsgTransferLeader,
    /// The leader tells the transfer target to campaign at once.
    MsgTimeoutNow,
    /// A linearizable read request (§6.4).
    MsgReadIndex,
    /// The reply to `MsgReadIndex`: the index that is safe to read at.
    MsgReadIndexResp,
    /// Pre-vote (§9.6): would you vote for me at term `term`?
    MsgPreVote,
    /// The reply to `MsgPreVote`.
    MsgPreVoteResp,
}

impl MessageType {
    /// Every message type, in declaration order.
    pub const ALL: [MessageType; 19] = [
        MessageType::MsgHup,
        MessageType::MsgBeat,
        MessageType::MsgProp,
        MessageType::MsgApp,
        MessageType::MsgAppResp,
        MessageType::MsgVote,
        MessageType::MsgVoteResp,
        MessageType::MsgSnap,
        MessageType::MsgHeartbeat,
        MessageType::MsgHeartbeatResp,
        MessageType::MsgUnreachable,
        MessageType::MsgSnapStatus,
        MessageType::MsgCheckQuorum,
        MessageType::MsgTransferLeader,
        MessageType::MsgTimeoutNow,
        MessageType::MsgReadIndex,
        MessageType::MsgReadIndexResp,
        MessageType::MsgPreVote,
        MessageType::MsgPreVoteResp,
    ];

    /// Local messages are stepped by a node into itself and never sent.
    pub fn is_local(self) -> bool {
        matches!(
            self,
            MessageType::MsgHup
                | MessageType::MsgBeat
                | MessageType::MsgUnreachable
                | MessageType::MsgSnapStatus
                | MessageType::MsgCheckQuorum
        )
    }

    /// Responses: a node answers these only to the node that asked.
    pub fn is_response(self) -> bool {
        matches!(
            self,
            MessageType::MsgAppResp
                | MessageType::MsgVoteResp
                | MessageType::MsgHeartbeatResp
                | MessageType::MsgUnreachable
                | MessageType::MsgReadIndexResp
                | MessageType::MsgPreVoteResp
        )
    }

    /// The response type for a vote request (`MsgVote` or `MsgPreVote`).
    pub fn vote_response(self) -> MessageType {
        match self {
            MessageType::MsgVote => MessageType::MsgVoteResp,
            MessageType::MsgPreVote => MessageType::MsgPreVoteResp,
            other => panic!("{other:?} is not a vote request"),
        }
    }
}

/// A message between nodes (or from a node to itself, for local types).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Message {
    pub msg_type: MessageType,
    pub to: NodeId,
    pub from: NodeId,
    pub term: Term,
    /// For `MsgApp`: the term of the entry at `index`. For votes: the
    /// candidate's last log term. For a rejected `MsgAppResp`: the term of
    /// the follower's entry at `reject_hint`.
    pub log_term: Term,
    /// For `MsgApp`: the index just before `entries`. For votes: the
    /// candidate's last log index. For `MsgAppResp`: the follower's last
    /// matching index, or the index it rejected.
    pub index: Index,
    pub entries: Vec<Entry>,
    pub commit: Index,
    pub snapshot: Option<Snapshot>,
    pub reject: bool,
    /// For a rejected `MsgAppResp`: where the follower suggests the leader
    /// look next (§5.3, "fast backup").
    pub reject_hint: Index,
    /// Opaque bytes: a ReadIndex request id, or a campaign's kind.
    pub context: Vec<u8>,
}

impl Message {
    /// A message with only its routing fields set.
    pub fn new(msg_type: MessageType, from: NodeId, to: NodeId) -> Message {
        Message {
            msg_type,
            from,
            to,
            ..Default::default()
        }
    }
}

impl fmt::Debug for Message {
    /// One line, only the fields that matter for the type: `MsgVote 1→2
    /// term=4 last=7@3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use MessageType::*;
        write!(
            f,
            "{:?} {}→{} term={}",
            self.msg_type, self.from, self.to, self.term
        )?;
        match self.msg_type {
            MsgVote | MsgPreVote => write!(f, " last={}@{}", self.index, self.log_term)?,
            MsgApp => {
                write!(
                    f,
                    " prev={}@{} commit={}",
                    self.index, self.log_term, self.commit
                )?;
                if !self.entries.is_empty() {
                    write!(f, " entries={:?}", self.entries)?;
                }
            }
            MsgAppResp if self.reject => write!(
                f,
                " reject index={} hint={}@{}",
                self.index, self.reject_hint, self.log_term
            )?,
            MsgAppResp => write!(f, " index={}", self.index)?,
            MsgHeartbeat => write!(f, " commit={}", self.commit)?,
            MsgProp => write!(f, " entries={:?}", self.entries)?,
            MsgSnap => {
                if let Some(s) = &self.snapshot {
                    write!(f, " snap={}@{}", s.metadata.index, s.metadata.term)?;
                }
            }
            MsgReadIndexResp => write!(f, " index={}", self.index)?,
            MsgVoteResp | MsgPreVoteResp | MsgHeartbeatResp | MsgHup | MsgBeat | MsgUnreachable
            | MsgSnapStatus | MsgCheckQuorum | MsgTransferLeader | MsgTimeoutNow | MsgReadIndex => {
            }
        }
        if self.reject && self.msg_type != MsgAppResp {
            write!(f, " reject")?;
        }
        Ok(())
    }
}

/// What a node must persist before it sends any message (§5.1 Figure 2,
/// "persistent state on all servers"), plus the commit index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HardState {
    pub term: Term,
    pub vote: NodeId,
    pub commit: Index,
}

impl HardState {
    /// The hard state of a node that has never run.
    pub fn is_empty(&self) -> bool {
        *self == HardState::default()
    }
}

/// The cluster's membership: who votes, and who only learns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ConfState {
    pub voters: Vec<NodeId>,
    pub learners: Vec<NodeId>,
}

/// Where a snapshot stands in the log, and the membership at that point.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SnapshotMetadata {
    pub conf_state: ConfState,
    pub index: Index,
    pub term: Term,
}

/// The state machine's state at `metadata.index`, replacing the log up to it.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Snapshot {
    pub data: Vec<u8>,
    pub metadata: SnapshotMetadata,
}

impl Snapshot {
    /// The empty snapshot: there is none.
    pub fn is_empty(&self) -> bool {
        self.metadata.index == 0
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Snapshot {}@{} voters={:?} <{} bytes>",
            self.metadata.index,
            self.metadata.term,
            self.metadata.conf_state.voters,
            self.data.len()
        )
    }
}

/// One step of a single-server membership change (§4.1 of the Raft thesis).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ConfChangeType {
    #[default]
    AddNode,
    RemoveNode,
    AddLearnerNode,
}

/// A membership change, proposed as the data of a `ConfChange` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ConfChange {
    pub change_type: ConfChangeType,
    pub node_id: NodeId,
    pub context: Vec<u8>,
}

impl ConfChange {
    /// Encodes the change as entry data: one type byte, the node id
    /// (little-endian), then the context.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + self.context.len());
        out.push(match self.change_type {
            ConfChangeType::AddNode => 0,
            ConfChangeType::RemoveNode => 1,
            ConfChangeType::AddLearnerNode => 2,
        });
        out.extend_from_slice(&self.node_id.to_le_bytes());
        out.extend_from_slice(&self.context);
        out
    }

    /// Decodes what [`ConfChange::encode`] wrote; anything else is an error.
    pub fn decode(data: &[u8]) -> Result<ConfChange, DecodeError> {
        if data.len() < 9 {
            return Err(DecodeError(format!(
                "conf change needs at least 9 bytes, got {}",
                data.len()
            )));
        }
        let change_type = match data[0] {
            0 => ConfChangeType::AddNode,
            1 => ConfChangeType::RemoveNode,
            2 => ConfChangeType::AddLearnerNode,
            t => return Err(DecodeError(format!("unknown conf change type {t}"))),
        };
        let mut id = [0u8; 8];
        id.copy_from_slice(&data[1..9]);
        Ok(ConfChange {
            change_type,
            node_id: u64::from_le_bytes(id),
            context: data[9..].to_vec(),
        })
    }
}

/// Bytes that are not an encoding this crate wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// A read that became safe to serve: every entry up to `index` is committed,
/// and once the application has applied `index` it may answer the read
/// identified by `request_ctx` (§6.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReadState {
    pub index: Index,
    pub request_ctx: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_change_round_trips() {
        let cc = ConfChange {
            change_type: ConfChangeType::RemoveNode,
            node_id: 0x0102_0304,
            context: b"ctx".to_vec(),
        };
        assert_eq!(ConfChange::decode(&cc.encode()).unwrap(), cc);
    }

    #[test]
    fn conf_change_rejects_garbage() {
        assert!(ConfChange::decode(&[]).is_err());
        assert!(ConfChange::decode(&[9, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn message_debug_is_one_line() {
        let mut m = Message::new(MessageType::MsgVote, 2, 1);
        m.term = 4;
        m.index = 7;
        m.log_term = 3;
        assert_eq!(format!("{m:?}"), "MsgVote 2→1 term=4 last=7@3");
    }
}
