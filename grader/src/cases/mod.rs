//! The grading cases: the per-step suites ([`steps`]), which drive one node
//! by hand and check its whole state, and the cluster [`scenarios`] of
//! each part, which run many seeds through the simulator.
//!
//! A case is a plain function of a [`Ctx`]: it does things to nodes through
//! the context's driver and returns `Ok(())` when the behaviour it checks
//! is right, or a [`Failure`] saying what was expected and what was seen.
//! The same function runs twice: in the host, against the student's nodes,
//! and in the grader, against what the host reported. Only the grader's
//! run decides.

pub mod scenarios;
pub mod search;
pub mod steps;
pub mod unit;

use std::fmt;

use crate::drive::{Driver, Op, Reply};
use crate::model::{Failure, Kind, Outcome, Seed, Step};
use crate::sim::{Event, Holes, InitialStorage, Options, Schedule, Sim};

/// One case of the grader.
#[derive(Clone, Copy)]
pub struct Case {
    /// Unique, `module::name`: `e3::becomes_candidate_of_next_term`.
    pub name: &'static str,
    pub kind: Kind,
    /// One sentence: what the case checks (and the paper's section, if any).
    pub purpose: &'static str,
    /// The other steps whose code this case runs, each with the reason,
    /// in one clause: shown when the case is blocked by one of them, or
    /// fails while they are done.
    pub uses: &'static [(Step, &'static str)],
    pub run: fn(&mut Ctx<'_>) -> Outcome,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.name, self.kind)
    }
}

impl Case {
    /// Why this case runs `step`'s code, if it says.
    pub fn why_it_uses(&self, step: Step) -> Option<&'static str> {
        self.uses
            .iter()
            .find(|(s, _)| *s == step)
            .map(|(_, why)| *why)
    }

    /// How the case's runs treat holes: a scenario of the election part
    /// does not depend on the replication steps.
    pub fn holes(&self) -> Holes {
        match self.kind {
            Kind::Scenario(part) | Kind::Search(part) => Holes {
                tolerate_after: part.steps().last(),
            },
            Kind::Step(_) => Holes::default(),
        }
    }
}

/// What a run of a case may use.
pub struct Ctx<'d> {
    pub case: Case,
    /// The seed of this run. Step cases draw their parameters from it;
    /// scenarios drive their simulator with it.
    pub seed: Seed,
    driver: &'d mut dyn Driver,
    /// Record a readable trace and the events of the run.
    pub tracing: bool,
    /// The trace, one line per event, when tracing.
    pub trace: Vec<String>,
    /// The simulator's events of the run, when tracing (for the timeline).
    pub events: Vec<Event>,
    /// A schedule to replay instead of the case's own run: the grader
    /// shrinking a failure asks for this.
    pub schedule: Option<Schedule>,
    /// The schedule of the run, when tracing.
    pub recorded: Schedule,
    /// The case's own line about its run, for the report (a search: its
    /// bounds and the states it saw).
    pub summary: Option<String>,
}

impl<'d> Ctx<'d> {
    pub fn new(case: Case, seed: Seed, driver: &'d mut dyn Driver, tracing: bool) -> Ctx<'d> {
        Ctx {
            case,
            seed,
            driver,
            tracing,
            trace: Vec::new(),
            events: Vec::new(),
            schedule: None,
            recorded: Schedule::default(),
            summary: None,
        }
    }

    /// Does `op` to a node, and returns what came back.
    pub fn apply(&mut self, op: &Op) -> Reply {
        self.driver.apply(op)
    }

    /// The driver itself, for code that does many ops of its own (the
    /// explorer).
    pub fn driver(&mut self) -> &mut dyn Driver {
        &mut *self.driver
    }

    /// Records one line of trace, when tracing.
    pub fn note(&mut self, line: impl FnOnce() -> String) {
        if self.tracing {
            self.trace.push(line());
        }
    }

    /// Runs `body` on a fresh simulated cluster of this run's seed, and
    /// keeps its events and trace when tracing. With a schedule to replay
    /// ([`Ctx::schedule`]), replays it instead of running `body`.
    pub fn simulate(
        &mut self,
        opts: Options,
        body: impl FnOnce(&mut Sim<'_>) -> Outcome,
    ) -> Outcome {
        if let Some(schedule) = self.schedule.clone() {
            return self.replay(opts, &[], &schedule);
        }
        let (holes, seed, tracing) = (self.case.holes(), self.seed, self.tracing);
        let mut sim = Sim::new(&mut *self.driver, seed, opts, holes, tracing)?;
        let outcome = body(&mut sim);
        let run = finished(sim);
        self.keep_run(run, &outcome);
        outcome
    }

    /// Replays `schedule` on a fresh cluster whose nodes boot from
    /// `storage` (fresh when empty), keeping its events and trace when
    /// tracing.
    pub fn replay(
        &mut self,
        opts: Options,
        storage: &InitialStorage,
        schedule: &Schedule,
    ) -> Outcome {
        let (holes, seed, tracing) = (self.case.holes(), self.seed, self.tracing);
        let mut sim = Sim::for_replay(&mut *self.driver, seed, opts, holes, tracing, storage)?;
        let outcome = sim.replay(schedule);
        let run = finished(sim);
        self.keep_run(run, &outcome);
        outcome
    }

    /// Keeps the trace, events and schedule of a finished run, when tracing.
    fn keep_run(&mut self, run: Finished, outcome: &Outcome) {
        let Finished {
            tolerated,
            events,
            schedule,
        } = run;
        if self.tracing {
            // What a node persisted is drawn by the timeline, not listed.
            self.trace = events
                .iter()
                .filter(|e| !matches!(e, Event::Persist { .. }))
                .map(|e| e.to_string())
                .collect();
            if !tolerated.is_empty() {
                self.trace.push(format!(
                    "holes reached and passed over: {}",
                    tolerated.join(", ")
                ));
            }
            if let Err(f) = outcome {
                self.trace.push(format!("FAILED: {f}"));
            }
            self.events = events;
            self.recorded = schedule;
        }
    }
}

/// What a finished simulator run leaves.
struct Finished {
    /// `Replication Step3 2×`: holes reached and passed over.
    tolerated: Vec<String>,
    events: Vec<Event>,
    schedule: Schedule,
}

fn finished(sim: Sim<'_>) -> Finished {
    let tolerated = sim
        .tolerated_holes()
        .iter()
        .map(|(step, n)| format!("{step} {n}×"))
        .collect();
    let (events, schedule) = sim.into_run();
    Finished {
        tolerated,
        events,
        schedule,
    }
}

/// Every case of the grader: the step suites in the guide's order, then the
/// scenarios, then the searches.
pub fn all() -> Vec<Case> {
    let mut cases = steps::cases();
    cases.extend(scenarios::cases());
    cases.extend(search::cases());
    cases
}

/// The failure of a case whose code met a panic: the hole's step, when it
/// was one, is in [`Failure::hole`].
pub fn panicked(message: String, doing: impl fmt::Display) -> Failure {
    Failure::panic(message).context(doing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_unique_and_say_their_module() {
        let cases = all();
        let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate case names");
        for c in &cases {
            assert!(c.name.contains("::"), "{} has no module", c.name);
            assert!(
                c.purpose.ends_with('.') || c.purpose.ends_with(')'),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn a_step_case_uses_only_earlier_steps() {
        // Steps pass in the guide's order: a case of step k may run the
        // code of steps before k, never of a later one.
        for c in all() {
            if let Kind::Step(own) = c.kind {
                for (used, _) in c.uses {
                    assert!(used < &own, "{} (of {own}) uses {used}", c.name);
                }
            }
        }
    }
}
