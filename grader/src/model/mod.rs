//! The lab's vocabulary, shared by every layer above: steps and parts,
//! seeds, what a case judges and how its run ends, and the views of a node
//! the grader judges.

pub mod node;
pub mod outcome;
pub mod seed;
pub mod step;

pub use node::{LogView, NodeState, ProgressState, ProgressView, ReadyView, Status, role_name};
pub use outcome::{Failure, Kind, Outcome};
pub use seed::{Seed, mix};
pub use step::{LAB_NAME, Part, Step, Track};
