//! RaftLab's Raft library (tour written once the modules land).

pub mod config;
pub mod errors;
pub mod log_unstable;
pub mod raft_log;
pub mod storage;
pub mod types;
mod util;

pub use config::{Config, ReadOnlyOption};
pub use errors::{Error, Result, StorageError};
pub use raft_log::RaftLog;
pub use storage::{MemStorage, MemStorageCore, RaftState, Storage};
pub use types::*;
