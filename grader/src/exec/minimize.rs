//! Shrinking a failing run in a host: each candidate schedule is one run
//! of the case that replays it ([`crate::sim::shrink`] chooses the
//! candidates; this module runs them and judges each, as every run is
//! judged).
//!
//! ```text
//! judge                                         host
//!   Run { case, seed }            (traced)  ──▶  the failing run again: the
//!                                                judge records its schedule
//!   Run { case, seed, schedule }  × N       ──▶  candidates, each a replay
//!   Run { case, seed, schedule }  (traced)  ──▶  the shrunk run, for its trace
//! ```
//!
//! A candidate counts as failing the same way only if the judge's replay
//! of it breaks the same invariant (or panics at the same place); a host
//! that stops answering ends the shrinking with what was found so far.

use super::judge::{Ending, Kept, Launcher, RunOptions, Shrunk, collect, spawn};
use crate::cases::Case;
use crate::model::{Failure, Seed};
use crate::sim::Schedule;
use crate::sim::shrink::{self, failure_kind, failure_tick};

/// Candidate runs a shrinking may make.
pub const MAX_SHRINK_RUNS: u64 = 5000;

/// Why a failure was not shrunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotShrunk(pub String);

/// One run of `case` on `seed` (replaying `schedule` if given): how it
/// ended, and what it left.
fn run_once(
    host: &mut super::judge::Host,
    case: &Case,
    seed: Seed,
    options: &RunOptions,
    schedule: Option<&Schedule>,
) -> (Ending, Kept) {
    let mut kept = Kept::default();
    let mut ending = collect(host, case, &[seed], options, schedule, &mut |k| kept = k);
    // A failing run stops the judge's side early; the host's side stopped
    // at the same op, and its end frames are still to be read before the
    // next request.
    if let Ending::Ran {
        failed: Some((seed, _)),
        ..
    } = &ending
    {
        let seed = *seed;
        if let Err(cause) = host
            .replay
            .expect_end(0)
            .and_then(|()| host.replay.expect_done())
        {
            ending = Ending::Broke {
                seed: Some(seed),
                cause,
            };
        }
    }
    (ending, kept)
}

fn failed(ending: &Ending) -> Option<&Failure> {
    match ending {
        Ending::Ran {
            failed: Some((_, f)),
            ..
        } => Some(f),
        _ => None,
    }
}

/// Shrinks the failing run of `case` on `seed`, in a host from `launcher`,
/// within `max_runs` candidate runs.
pub fn minimize(
    launcher: &dyn Launcher,
    case: &Case,
    seed: Seed,
    options: &RunOptions,
    max_runs: u64,
) -> Result<Shrunk, NotShrunk> {
    let traced = RunOptions {
        tracing: true,
        ..options.clone()
    };
    let quiet = RunOptions {
        tracing: false,
        ..options.clone()
    };
    let mut host = spawn(launcher, options).map_err(NotShrunk)?;
    let (ending, original) = run_once(&mut host, case, seed, &traced, None);
    let Some(failure) = failed(&ending) else {
        host.finish();
        return Err(NotShrunk(
            "the run did not fail the same way again".to_string(),
        ));
    };
    let Some(kind) = failure_kind(failure) else {
        host.finish();
        return Err(NotShrunk(
            "only a broken invariant or a panic is shrunk, and this failure is neither".to_string(),
        ));
    };
    let from = original.schedule.len();
    let mut broken_host = false;
    let mut fails = |candidate: &Schedule| -> Option<usize> {
        if broken_host {
            return None;
        }
        let (ending, _) = run_once(&mut host, case, seed, &quiet, Some(candidate));
        if matches!(ending, Ending::Broke { .. }) {
            broken_host = true;
            return None;
        }
        let f = failed(&ending)?;
        if failure_kind(f).as_deref() != Some(kind.as_str()) {
            return None;
        }
        Some(failure_tick(f).unwrap_or(candidate.len()))
    };
    // The replay of the whole schedule comes first: it tells how much of
    // it the failure needs, and that a replay reproduces it at all.
    let Some(used) = fails(&original.schedule) else {
        host.finish();
        return Err(NotShrunk(
            "a replay of the run's schedule did not fail the same way".to_string(),
        ));
    };
    let start = Schedule(original.schedule.0[..used.min(from)].to_vec());
    let shrunk = shrink::shrink(&start, max_runs, &mut fails);
    let (ending, kept) = run_once(&mut host, case, seed, &traced, Some(&shrunk.schedule));
    host.finish();
    let Some(f) = failed(&ending) else {
        return Err(NotShrunk(
            "the shrunk schedule did not fail again when traced".to_string(),
        ));
    };
    Ok(Shrunk {
        from,
        to: shrunk.schedule.len(),
        message: f.message.clone(),
        trace: kept.trace,
        events: kept.events,
        schedule: shrunk.schedule,
        runs: shrunk.runs + 1,
    })
}
