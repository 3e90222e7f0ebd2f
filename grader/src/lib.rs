//! RaftLab's grader.

pub mod skeleton;
