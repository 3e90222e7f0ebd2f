//! What nodes exchange and persist: etcd's `raftpb` types, kept in the
//! [`raftpb`] crate and re-exported here, so `raft::Message` and
//! `raft::types::Entry` name them as before.

pub use raftpb::*;
