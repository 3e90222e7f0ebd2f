//! What can go wrong, for a caller: errors are returned, never panicked.
//!
//! Panics are kept for broken internal invariants (a bug in this library);
//! anything a caller, a peer or the storage can get wrong is an [`Error`].

use std::fmt;

/// Errors a [`Storage`](crate::Storage) returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageError {
    /// The requested index is older than the first one kept: it was compacted
    /// into a snapshot.
    Compacted,
    /// The requested index is beyond the last one stored.
    Unavailable,
    /// The snapshot offered is older than the one already held.
    SnapshotOutOfDate,
    /// A snapshot is being made and is not ready yet; ask again later.
    SnapshotTemporarilyUnavailable,
    /// Anything else, from a storage of the application's own.
    Other(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Compacted => {
                write!(f, "requested index is unavailable due to compaction")
            }
            StorageError::Unavailable => write!(f, "requested entry at index is unavailable"),
            StorageError::SnapshotOutOfDate => {
                write!(f, "requested index is older than the existing snapshot")
            }
            StorageError::SnapshotTemporarilyUnavailable => {
                write!(f, "snapshot is temporarily unavailable")
            }
            StorageError::Other(s) => write!(f, "storage: {s}"),
        }
    }
}

/// Errors of the Raft library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A `Config` that cannot work; the text says which setting and why.
    ConfigInvalid(String),
    /// A proposal could not be accepted: no leader is known, a leadership
    /// transfer is under way, or the uncommitted log is full. Retry later.
    ProposalDropped,
    /// A local message (`MsgHup`, `MsgBeat`, ...) was given to
    /// `RawNode::step`, which is for messages from the network.
    StepLocalMsg,
    /// A response came from a node this one does not know.
    StepPeerNotFound,
    /// The call makes no sense in the node's current role (campaign on a
    /// leader, ...).
    InvalidState(String),
    /// A membership change that cannot be applied.
    ConfChange(String),
    /// Bytes that do not decode.
    Codec(String),
    /// The storage failed.
    Store(StorageError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ConfigInvalid(s) => write!(f, "invalid config: {s}"),
            Error::ProposalDropped => write!(f, "raft proposal dropped"),
            Error::StepLocalMsg => write!(f, "raft: cannot step raft local message"),
            Error::StepPeerNotFound => write!(f, "raft: cannot step as peer not found"),
            Error::InvalidState(s) => write!(f, "invalid state: {s}"),
            Error::ConfChange(s) => write!(f, "conf change: {s}"),
            Error::Codec(s) => write!(f, "codec: {s}"),
            Error::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}
impl std::error::Error for StorageError {}

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Error {
        Error::Store(e)
    }
}

/// The library's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl From<crate::types::DecodeError> for Error {
    fn from(e: crate::types::DecodeError) -> Error {
        Error::Codec(e.0)
    }
}
