//! RaftLab's grader: a deterministic cluster simulator, the per-step suites
//! and the scenarios that judge a student's `raft/src/raft.rs`, the runner
//! that executes every case in its own process, and the reports.
//!
//! | module | what |
//! |---|---|
//! | [`case`] | what a case is, and the registry of all of them |
//! | [`steps`] | the ten step suites |
//! | [`scenarios`] | cluster scenarios of the election and replication parts |
//! | [`sim`] | the simulator and the invariant checker |
//! | [`timeline`] | the HTML timeline picture of one run |
//! | [`skeleton`], [`variant`] | the reference, the skeleton, mutants, scratch copies |
//! | [`runner`] | runs each case in a child process; `raftlab test` |
//! | [`report`], [`weights`] | verdicts per step, the table, results.json, JUnit |
//! | [`validate`] | the grader's own test: the validation matrix and CI's checks |
//! | [`package`], [`grade`], [`gradescope`], [`hidden`] | the student package, bulk grading, Gradescope, hidden seeds |

pub mod case;
pub mod docs;
pub mod exec;
pub mod grade;
pub mod gradescope;
pub mod hidden;
pub mod package;
pub mod report;
pub mod runner;
pub mod scenarios;
pub mod sim;
pub mod skeleton;
pub mod steps;
pub mod timeline;
pub mod validate;
pub mod variant;
pub mod weights;
