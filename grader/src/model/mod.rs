//! The lab's vocabulary, shared by every layer above: steps and parts,
//! seeds, what a case judges and how its run ends, and the views of a node
//! the grader judges.

pub mod event;
pub mod node;
pub mod outcome;
pub mod seed;
pub mod step;

pub use node::{LogView, NodeState, ProgressState, ProgressView, ReadyView, Status, role_name};
pub use outcome::{Failure, Kind, Outcome};
pub use seed::{Seed, mix};
pub use step::{LAB_NAME, Part, Step, Track};

/// `n` of `noun`, in English: `1 seed`, `5 seeds`.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    match n.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular() {
        assert_eq!(super::count(1u64, "seed"), "1 seed");
        assert_eq!(super::count(0u64, "event"), "0 events");
        assert_eq!(super::count(5u64, "tick"), "5 ticks");
    }
}
