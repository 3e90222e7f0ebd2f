//! Shrinking a failing run: delta debugging over its schedule.
//!
//! A failing run is hundreds of decisions long, most of them irrelevant.
//! [`shrink`] removes decisions (chunks of them, then single ones) as long
//! as the rest still breaks the *same* invariant, the way Zeller's `ddmin`
//! does, and stops at a schedule from which no single decision can be
//! removed (1-minimal), or when its budget of runs is spent. Each candidate
//! is one replay of a schedule ([`crate::sim::Sim::replay`]); the caller
//! runs it, and says whether it failed and after how many decisions.
//!
//! The budget is a number of runs, never seconds, so the same failure
//! shrinks to the same schedule on any machine.

use crate::drive::schedule::{Decision, Schedule};
use crate::model::Failure;

/// The invariants a replay can break, as the checker names them. A failure
/// that names none of them (a scenario waiting for a leader in vain) is
/// not a replay's to reproduce, so it is not shrunk.
pub const INVARIANTS: &[&str] = &[
    "election safety",
    "log matching",
    "no truncation without a conflict",
    "committed entries are final",
    "log continuity",
    "log terms never decrease",
    "leader completeness",
    "state machine safety",
    "terms never go back",
    "commit never goes back",
    "commit within the log",
    "one vote per term",
    "votes are persisted",
    "entries are applied in order",
    "only committed entries are applied",
    "only proposed data is applied",
    "a pre-vote changes nothing",
    "no message to oneself",
];

/// What a failure is, for "the same failure": the invariant it names, or
/// the place of a panic. `None` for anything else.
pub fn failure_kind(f: &Failure) -> Option<String> {
    if f.panicked {
        let place = f
            .message
            .rfind(" (at ")
            .map(|i| f.message[i..].to_string())
            .unwrap_or_default();
        return Some(format!("a panic{place}"));
    }
    let body = match f.message.strip_prefix("t=") {
        Some(rest) => rest.split_once(": ").map_or(rest, |(_, b)| b),
        None => &f.message,
    };
    INVARIANTS
        .iter()
        .find(|name| body.starts_with(&format!("{name}: ")))
        .map(|name| name.to_string())
}

/// The tick a failure names (`t=17: ...`): in a replay, the number of the
/// decision it happened at.
pub fn failure_tick(f: &Failure) -> Option<usize> {
    f.message
        .strip_prefix("t=")?
        .split(':')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// A shrunk schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shrunk {
    pub schedule: Schedule,
    /// Candidate runs made.
    pub runs: u64,
    /// No single decision can be removed (the budget was not what
    /// stopped it).
    pub minimal: bool,
}

/// Removes decisions of `original` while `fails` says the rest still fails
/// the same way, within `max_runs` runs. `fails` returns how many of the
/// candidate's decisions it took to fail (what follows is dropped), or
/// `None` when the candidate does not fail so.
pub fn shrink(
    original: &Schedule,
    max_runs: u64,
    fails: &mut dyn FnMut(&Schedule) -> Option<usize>,
) -> Shrunk {
    let first = ddmin(original.0.clone(), 0, max_runs, fails);
    // A node's clock ticking k times in a row, up to its timeout, reads
    // better as its timer running out: one decision instead of k.
    let mut current = first.schedule.0.clone();
    let mut runs = first.runs;
    let mut merged = false;
    let mut i = 0;
    while i < current.len() && runs < max_runs {
        let Decision::Tick { node } = current[i] else {
            i += 1;
            continue;
        };
        let end = current[i..]
            .iter()
            .position(|d| *d != Decision::Tick { node })
            .map_or(current.len(), |k| i + k);
        if end - i >= 2 {
            let candidate: Vec<Decision> = current[..i]
                .iter()
                .cloned()
                .chain([Decision::Fire { node }])
                .chain(current[end..].iter().cloned())
                .collect();
            runs += 1;
            let schedule = Schedule(candidate);
            if let Some(used) = fails(&schedule) {
                current = schedule.0;
                current.truncate(used.min(current.len()));
                merged = true;
            }
        }
        i += 1;
    }
    if !merged {
        return first;
    }
    ddmin(current, runs, max_runs, fails)
}

/// Zeller's `ddmin` with complements only: removes ever smaller chunks
/// of `current` while the rest still fails.
fn ddmin(
    mut current: Vec<Decision>,
    mut runs: u64,
    max_runs: u64,
    fails: &mut dyn FnMut(&Schedule) -> Option<usize>,
) -> Shrunk {
    let mut chunks = 2usize;
    let mut minimal = false;
    let mut attempt = |candidate: Vec<Decision>, runs: &mut u64| -> Option<Vec<Decision>> {
        *runs += 1;
        let schedule = Schedule(candidate);
        let used = fails(&schedule)?;
        let mut kept = schedule.0;
        kept.truncate(used.min(kept.len()));
        Some(kept)
    };
    'outer: while runs < max_runs {
        if current.len() < 2 {
            minimal = true;
            break;
        }
        let size = current.len().div_ceil(chunks);
        let mut start = 0;
        while start < current.len() {
            if runs >= max_runs {
                break 'outer;
            }
            let end = (start + size).min(current.len());
            let candidate: Vec<Decision> = current[..start]
                .iter()
                .chain(&current[end..])
                .cloned()
                .collect();
            if let Some(kept) = attempt(candidate, &mut runs) {
                current = kept;
                chunks = chunks.saturating_sub(1).max(2);
                continue 'outer;
            }
            start = end;
        }
        if chunks >= current.len() {
            minimal = true;
            break;
        }
        chunks = (chunks * 2).min(current.len());
    }
    Shrunk {
        schedule: Schedule(current),
        runs,
        minimal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(nodes: &[u64]) -> Schedule {
        Schedule(nodes.iter().map(|&node| Decision::Tick { node }).collect())
    }

    /// Fails when the schedule ticks n3 after n7, at the n3 tick.
    fn needs_7_then_3(s: &Schedule) -> Option<usize> {
        let seven = s.0.iter().position(|d| *d == Decision::Tick { node: 7 })?;
        let three = s.0[seven..]
            .iter()
            .position(|d| *d == Decision::Tick { node: 3 })?;
        Some(seven + three + 1)
    }

    #[test]
    fn shrinks_to_the_decisions_that_matter() {
        let original = ticks(&[1, 2, 7, 4, 5, 6, 1, 3, 9, 9, 9]);
        let shrunk = shrink(&original, 1000, &mut needs_7_then_3);
        assert_eq!(shrunk.schedule, ticks(&[7, 3]));
        assert!(shrunk.minimal);
    }

    #[test]
    fn ticks_in_a_row_become_one_timeout() {
        // Fails once n2 has ticked three times and n5 then ticks; a Fire
        // stands for n2's three ticks.
        let mut fails = |s: &Schedule| -> Option<usize> {
            let mut ticks = 0;
            for (i, d) in s.0.iter().enumerate() {
                match d {
                    Decision::Tick { node: 2 } => ticks += 1,
                    Decision::Fire { node: 2 } => ticks += 3,
                    Decision::Tick { node: 5 } if ticks >= 3 => return Some(i + 1),
                    _ => {}
                }
            }
            None
        };
        let shrunk = shrink(&ticks(&[1, 2, 2, 3, 2, 5, 9]), 1000, &mut fails);
        assert_eq!(
            shrunk.schedule,
            Schedule(vec![Decision::Fire { node: 2 }, Decision::Tick { node: 5 }])
        );
    }

    #[test]
    fn the_budget_bounds_the_runs() {
        let original = ticks(
            &(0..200)
                .map(|i| 10 + i % 5)
                .chain([7, 3])
                .collect::<Vec<_>>(),
        );
        let shrunk = shrink(&original, 5, &mut needs_7_then_3);
        assert_eq!(shrunk.runs, 5);
        assert!(!shrunk.minimal);
        assert!(needs_7_then_3(&shrunk.schedule).is_some());
    }

    #[test]
    fn failures_are_told_apart_by_invariant_or_panic_place() {
        let f = Failure::new("t=17: election safety: n1 and n2 are both leaders of term 2");
        assert_eq!(failure_kind(&f).as_deref(), Some("election safety"));
        assert_eq!(failure_tick(&f), Some(17));
        let wait =
            Failure::new("t=200: a leader followed by a majority not reached within 200 ticks");
        assert_eq!(failure_kind(&wait), None);
        let p = Failure::panic("index out of bounds (at raft/src/raft.rs:12)")
            .context("t=4: n2 panicked as it was asked to tick");
        assert_eq!(
            failure_kind(&p).as_deref(),
            Some("a panic (at raft/src/raft.rs:12)")
        );
    }
}
