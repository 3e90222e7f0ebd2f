//! RaftLab's Raft library (tour written once the modules land).

pub mod config;
pub mod errors;
pub mod types;

pub use config::{Config, ReadOnlyOption};
pub use errors::{Error, Result, StorageError};
pub use types::*;
