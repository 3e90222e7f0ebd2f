//! The host: the one place where the student's `raft/src/raft.rs` is
//! linked. [`live::Live`] drives real `RawNode`s for the grader's cases and
//! answers every op; the `raftlab-host` binary serves it to the grader, and
//! the `sim_bench` benchmark (feature `bench`) times it.

pub mod live;
