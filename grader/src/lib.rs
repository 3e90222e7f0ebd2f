//! RaftLab's grader: it judges a student's `raft/src/raft.rs` without ever
//! linking it.
//!
//! The student's code runs in a child process, the *host*
//! (`raftlab-host`, the `host` crate), which drives real nodes and reports
//! what each op returned. The grader runs the same case code against those
//! reports and decides. Layers import downwards only:
//!
//! | layer | module | what |
//! |---|---|---|
//! | 1 | [`model`] | steps, parts, seeds, outcomes, the views of a node, the events of a run |
//! | 2 | [`drive`] | ops and replies, their wire form, record and replay, schedules |
//! | 3 | [`sim`] | the cluster simulator, the invariant checker, the explorer, shrinking |
//! | 4 | [`cases`] | the step suites, the scenarios, the searches |
//! | 5 | [`registry`] | every case, by name |
//! | 6 | [`exec`] | running a case in a host: processes, the judge |
//! | 7 | [`report`] | verdicts, the table, hints, Gradescope, JUnit, timelines |
//! | 8 | [`cli`] | `raftlab test`, the student's command |

pub mod cases;
pub mod cli;
pub mod drive;
pub mod exec;
pub mod model;
pub mod registry;
pub mod report;
pub mod sim;
