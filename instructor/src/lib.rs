//! RaftLab's instructor tooling, kept out of the student package: what
//! grading a class of untrusted submissions needs.
//!
//! | module | what |
//! |---|---|
//! | [`archive`] | reads a submission (file, folder, tar, tar.gz, zip) in-process, bounded, links refused |
//! | [`sandbox`] | bubblewrap jails for building and running a submission, with resource limits |
//! | [`hostile`] | the hostile suite's format: attacks spliced into the current skeleton |

pub mod archive;
pub mod hostile;
pub mod sandbox;
