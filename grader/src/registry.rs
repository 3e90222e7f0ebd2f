//! Every case of the grader, by name.

use std::sync::OnceLock;

use crate::cases::{self, Case};
use crate::model::{Kind, Part, Step, mix};

/// Every case: the step suites in the guide's order, then the scenarios.
pub fn all() -> &'static [Case] {
    static ALL: OnceLock<Vec<Case>> = OnceLock::new();
    ALL.get_or_init(cases::all)
}

/// The case called `name`.
pub fn find(name: &str) -> Option<Case> {
    all().iter().find(|c| c.name == name).copied()
}

/// The cases of one step.
pub fn of_step(step: Step) -> impl Iterator<Item = &'static Case> {
    all().iter().filter(move |c| c.kind == Kind::Step(step))
}

/// The scenarios of one part.
pub fn scenarios_of(part: Part) -> impl Iterator<Item = &'static Case> {
    all().iter().filter(move |c| c.kind == Kind::Scenario(part))
}

/// A fingerprint of the registry: the grader and a host built from other
/// sources tell each other apart by it.
pub fn digest() -> u64 {
    let mut h = 0x5241_4654_4c41_4221;
    for c in all() {
        for b in c.name.bytes().chain(c.purpose.bytes()) {
            h = mix(h, u64::from(b));
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_cases_and_every_part_scenarios() {
        for step in Step::every() {
            assert!(of_step(step).count() > 0, "{step}");
        }
        for part in Part::ALL {
            assert!(scenarios_of(part).count() > 0, "{part}");
        }
        assert!(find("e1::follower_counts_each_tick").is_some());
        assert!(find("e1::nothing").is_none());
    }
}
