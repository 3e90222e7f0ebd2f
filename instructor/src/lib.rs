//! RaftLab's instructor tooling: what only instructors run. It depends on
//! the grader (the judge) and never on the `raft` crate, so it builds and
//! works while the committed `raft/src/raft.rs` does not compile.
//!
//! | module | what |
//! |---|---|
//! | [`sources`] | the reference's files and the files generated from them, per track |
//! | [`skeleton`] | the marker format: skeleton, minus-step, prefix, mutants and alternatives |
//! | [`variant`], [`build`] | scratch copies of the workspace with a `raft.rs` replaced, and their hosts |
//! | [`package`] | the student package and its leak check |
//! | [`validate`] | the grader's own test: the validation matrix, the docs check and CI's checks |
//! | [`grade`], [`hidden`] | grading a class in jails, with hidden seeds |
//! | [`archive`] | reads a submission (file, folder, tar, tar.gz, zip) in-process, bounded, links refused |
//! | [`sandbox`] | bubblewrap jails for building and running a submission, with resource limits |
//! | [`hostile`] | the hostile suite's format: attacks spliced into the current skeleton |
//! | [`cli`] | `test`, `exec`, `skeleton` |

pub mod archive;
pub mod build;
pub mod cli;
pub mod grade;
pub mod gradescope;
pub mod hidden;
pub mod hostile;
pub mod package;
pub mod sandbox;
pub mod skeleton;
pub mod sources;
pub mod validate;
pub mod variant;
