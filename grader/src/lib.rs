//! RaftLab's grader.
