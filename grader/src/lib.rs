//! RaftLab's grader.

pub mod skeleton;
pub mod variant;
