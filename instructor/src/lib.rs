//! RaftLab's instructor tooling: what only instructors run. It depends on
//! the grader (the judge) and never on the `raft` crate, so it builds and
//! works while the committed `raft/src/raft.rs` does not compile.
//!
//! | module | what |
//! |---|---|
//! | [`skeleton`] | the marker format: skeleton, minus-step, prefix, mutants and alternatives |
//! | [`variant`], [`build`] | scratch copies of the workspace with a `raft.rs` replaced, and their hosts |
//! | [`cli`] | `test`, `exec`, `skeleton` |

pub mod build;
pub mod cli;
pub mod skeleton;
pub mod variant;
