//! RaftLab's Raft library (tour written once the modules land).

pub mod config;
pub mod errors;
pub mod quorum;
pub mod tracker;
pub mod types;

pub use config::{Config, ReadOnlyOption};
pub use errors::{Error, Result, StorageError};
pub use quorum::VoteResult;
pub use tracker::{Inflights, Progress, ProgressState, ProgressTracker};
pub use types::*;
