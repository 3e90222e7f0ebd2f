//! What a case or the simulator does to a node ([`Op`]), and what comes
//! back ([`Reply`]).

use raftpb::{ConfState, Entry, HardState, Index, Message, NodeId, Snapshot, Term};

use crate::model::{NodeState, ProgressState, ReadyView, Status};

/// A node's settings: etcd's `Config`, the fields the lab uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    pub election_tick: u64,
    pub heartbeat_tick: u64,
    pub pre_vote: bool,
    pub check_quorum: bool,
    pub max_size_per_msg: u64,
    pub max_inflight_msgs: u64,
    pub max_uncommitted_size: u64,
    /// The index the application has applied up to.
    pub applied: Index,
    /// Seeds the node's randomized election timeouts.
    pub seed: u64,
}

impl Default for NodeConfig {
    /// The test clocks: an election timeout of 10 ticks, a heartbeat every
    /// tick, no size limits.
    fn default() -> NodeConfig {
        NodeConfig {
            election_tick: 10,
            heartbeat_tick: 1,
            pre_vote: false,
            check_quorum: false,
            max_size_per_msg: u64::MAX,
            max_inflight_msgs: 256,
            max_uncommitted_size: u64::MAX,
            applied: 0,
            seed: 0,
        }
    }
}

/// What a node's storage holds when it starts: membership, log, hard state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageSetup {
    pub conf_state: ConfState,
    /// A snapshot the log starts after, if any.
    pub snapshot: Option<Snapshot>,
    /// The persisted entries, contiguous, after the snapshot.
    pub entries: Vec<Entry>,
    pub hard_state: HardState,
}

/// Starts node `id` from `storage`, as an application restarts one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Boot {
    pub id: NodeId,
    pub config: NodeConfig,
    pub storage: StorageSetup,
}

/// A leader's progress of one follower, put in place by a case's set-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgressSetup {
    pub peer: NodeId,
    pub matched: Index,
    pub next_idx: Index,
    pub state: ProgressState,
    pub probe_sent: bool,
    pub recent_active: bool,
}

/// A call of one of `Raft`'s own functions, for the step suites, which
/// drive one node by hand the way etcd's paper tests do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    BecomeFollower {
        term: Term,
        lead: NodeId,
    },
    BecomeCandidate,
    BecomePreCandidate,
    BecomeLeader,
    /// `campaign` with the given kind.
    Campaign(CampaignKind),
    BcastAppend,
    BcastHeartbeat,
    SendAppend {
        to: NodeId,
    },
    /// `maybe_commit`; replies whether the commit index moved.
    MaybeCommit,
    /// `append_entry`; replies whether the entries were taken.
    AppendEntry(Vec<Entry>),
    SetRandomizedElectionTimeout(u64),
    SetElectionElapsed(u64),
    SetLead(NodeId),
    RecordVote {
        voter: NodeId,
        granted: bool,
    },
    SetProgress(ProgressSetup),
    /// Drops the queued messages.
    ClearMsgs,
}

/// `campaign`'s argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CampaignKind {
    PreElection,
    Election,
    Transfer,
}

/// One thing done to a node under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Start a node from storage (`RawNode::new`).
    Boot(Boot),
    /// The node's process dies: everything but its storage is lost.
    Crash {
        id: NodeId,
    },
    /// The node starts again from its storage, with a new seed.
    Restart {
        id: NodeId,
        seed: u64,
    },
    Tick {
        id: NodeId,
        times: u64,
    },
    /// `Raft::step`: a message into the state machine, as etcd's paper
    /// tests do (local messages too).
    Step {
        id: NodeId,
        msg: Message,
    },
    /// `RawNode::step`: the application hands the node a message from the
    /// network (it refuses local ones).
    Deliver {
        id: NodeId,
        msg: Message,
    },
    /// The application proposes `data` (`RawNode::propose`).
    Propose {
        id: NodeId,
        data: Vec<u8>,
    },
    /// The application asks the node to campaign (`RawNode::campaign`).
    Campaign {
        id: NodeId,
    },
    /// If the node has a `Ready`: take it, persist it, and `advance`.
    Ready {
        id: NodeId,
    },
    /// Everything observable of the node.
    State {
        id: NodeId,
    },
    /// Where the node stands: role, term, leader, log positions.
    Status {
        id: NodeId,
    },
    /// Take the messages the node queued.
    TakeMsgs {
        id: NodeId,
    },
    Call {
        id: NodeId,
        call: Call,
    },
    /// Keep a copy of node `id` as it is now, its storage included, under
    /// the next handle. Handles count from 0 in the order saved, on both
    /// sides of the process boundary, so a case knows the number without
    /// being told.
    Save {
        id: NodeId,
    },
    /// Make node `id` a copy of what `handle` kept (the handle keeps its
    /// own copy, to be loaded again).
    Load {
        id: NodeId,
        handle: u64,
    },
}

impl Op {
    /// The node the op is done to.
    pub fn node(&self) -> NodeId {
        match self {
            Op::Boot(b) => b.id,
            Op::Crash { id }
            | Op::Restart { id, .. }
            | Op::Tick { id, .. }
            | Op::Step { id, .. }
            | Op::Deliver { id, .. }
            | Op::Propose { id, .. }
            | Op::Campaign { id }
            | Op::Ready { id }
            | Op::State { id }
            | Op::Status { id }
            | Op::TakeMsgs { id }
            | Op::Call { id, .. }
            | Op::Save { id }
            | Op::Load { id, .. } => *id,
        }
    }

    /// The kind of reply the op gets when nothing goes wrong.
    pub fn expects(&self) -> ReplyKind {
        match self {
            Op::Ready { .. } => ReplyKind::Ready,
            Op::State { .. } => ReplyKind::State,
            Op::Status { .. } => ReplyKind::Status,
            Op::TakeMsgs { .. } => ReplyKind::Msgs,
            Op::Call {
                call: Call::MaybeCommit | Call::AppendEntry(_),
                ..
            } => ReplyKind::Bool,
            Op::Boot(_)
            | Op::Crash { .. }
            | Op::Restart { .. }
            | Op::Tick { .. }
            | Op::Step { .. }
            | Op::Deliver { .. }
            | Op::Propose { .. }
            | Op::Campaign { .. }
            | Op::Call { .. }
            | Op::Save { .. }
            | Op::Load { .. } => ReplyKind::Done,
        }
    }

    /// A short name for protocol errors: `Step(n2)`.
    pub fn label(&self) -> String {
        let name = match self {
            Op::Boot(_) => "Boot",
            Op::Crash { .. } => "Crash",
            Op::Restart { .. } => "Restart",
            Op::Tick { .. } => "Tick",
            Op::Step { .. } => "Step",
            Op::Deliver { .. } => "Deliver",
            Op::Propose { .. } => "Propose",
            Op::Campaign { .. } => "Campaign",
            Op::Ready { .. } => "Ready",
            Op::State { .. } => "State",
            Op::Status { .. } => "Status",
            Op::TakeMsgs { .. } => "TakeMsgs",
            Op::Call { .. } => "Call",
            Op::Save { .. } => "Save",
            Op::Load { .. } => "Load",
        };
        format!("{name}(n{})", self.node())
    }
}

/// What came back from an op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The op was done.
    Done,
    /// The library refused it with an error (`step` returned `Err`, a
    /// storage the node cannot start from): the error's text.
    Refused(String),
    /// The code under test panicked: the panic's message and place.
    Panicked(String),
    /// The node had no `Ready`, or this one.
    Ready(Option<Box<ReadyView>>),
    State(Box<NodeState>),
    Status(Status),
    Msgs(Vec<Message>),
    Bool(bool),
}

/// The kinds of [`Reply`] an op can expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    Done,
    Ready,
    State,
    Status,
    Msgs,
    Bool,
}

impl Reply {
    /// Whether this reply can answer an op that expects `kind`: the
    /// expected kind, or a panic or a refusal, which any op may get.
    pub fn answers(&self, kind: ReplyKind) -> bool {
        matches!(
            (self, kind),
            (Reply::Panicked(_) | Reply::Refused(_), _)
                | (Reply::Done, ReplyKind::Done)
                | (Reply::Ready(_), ReplyKind::Ready)
                | (Reply::State(_), ReplyKind::State)
                | (Reply::Status(_), ReplyKind::Status)
                | (Reply::Msgs(_), ReplyKind::Msgs)
                | (Reply::Bool(_), ReplyKind::Bool)
        )
    }
}

/// Whatever runs the nodes under test. The host process runs them for
/// real; the grader replays what the host reported; both run the same case
/// code against this one function.
pub trait Driver {
    fn apply(&mut self, op: &Op) -> Reply;
}
