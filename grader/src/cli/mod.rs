//! The student's command: `raftlab test`.

pub mod args;
pub mod test;
