//! How close runs come to their bounds: for choosing bounds that a correct
//! Raft meets on every seed, and reporting the margin.
//!
//! Every bounded wait of the simulator ([`Sim::run_until`](super::Sim::run_until),
//! [`Sim::commit`](super::Sim::commit)) and every bounded count a scenario
//! checks is reported here as (what, value, bound). Nothing is recorded
//! unless a measurement is on, so graded runs pay nothing; a measurement
//! can also stretch every wait bound, to see how long a run would have
//! needed beyond the bound instead of failing at it.

use std::cell::RefCell;

/// One bounded quantity of a run: what it was, the value seen, the bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub what: String,
    pub value: u64,
    pub bound: u64,
}

struct Measurement {
    stretch: u64,
    seen: Vec<Observation>,
}

thread_local! {
    static MEASUREMENT: RefCell<Option<Measurement>> = const { RefCell::new(None) };
}

/// Starts recording on this thread; wait bounds are multiplied by
/// `stretch` (1 keeps them as they are).
pub fn start(stretch: u64) {
    MEASUREMENT.with(|m| {
        *m.borrow_mut() = Some(Measurement {
            stretch: stretch.max(1),
            seen: Vec::new(),
        })
    });
}

/// Stops recording and returns what was seen.
pub fn stop() -> Vec<Observation> {
    MEASUREMENT.with(|m| m.borrow_mut().take().map(|m| m.seen).unwrap_or_default())
}

/// Takes what was seen so far, and goes on recording.
pub fn take() -> Vec<Observation> {
    MEASUREMENT.with(|m| {
        m.borrow_mut()
            .as_mut()
            .map(|m| std::mem::take(&mut m.seen))
            .unwrap_or_default()
    })
}

/// The bound to enforce for a wait of `bound` ticks.
pub(crate) fn stretched(bound: u64) -> u64 {
    MEASUREMENT.with(|m| {
        m.borrow()
            .as_ref()
            .map_or(bound, |m| bound.saturating_mul(m.stretch))
    })
}

/// Records that `what` came to `value` against `bound`. `what` is built
/// only when recording.
pub fn observe(what: impl FnOnce() -> String, value: u64, bound: u64) {
    MEASUREMENT.with(|m| {
        if let Some(m) = m.borrow_mut().as_mut() {
            m.seen.push(Observation {
                what: what(),
                value,
                bound,
            });
        }
    });
}
