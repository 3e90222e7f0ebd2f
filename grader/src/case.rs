//! A grading case: one check of one step, or one cluster scenario.
//!
//! Every case is a plain function that returns `Ok(())` when the behaviour
//! it checks is right and a [`Failure`] saying what was expected and what
//! was seen otherwise. The runner executes each case in a child process, so
//! a panic, a hang or an early exit in the code under test is caught and
//! reported, and never counts as a pass.

use std::fmt;

use crate::skeleton::Step;

/// The two parts of the lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Election,
    Replication,
}

impl Part {
    pub const ALL: [Part; 2] = [Part::Election, Part::Replication];

    /// The part a step belongs to.
    pub fn of(step: Step) -> Part {
        if step.name().starts_with("Election") {
            Part::Election
        } else {
            Part::Replication
        }
    }

    /// `election` or `replication`, as typed on the command line.
    pub fn slug(self) -> &'static str {
        match self {
            Part::Election => "election",
            Part::Replication => "replication",
        }
    }

    pub fn parse(s: &str) -> Result<Part, String> {
        match s.to_ascii_lowercase().as_str() {
            "election" | "e" => Ok(Part::Election),
            "replication" | "r" => Ok(Part::Replication),
            _ => Err(format!(
                "unknown part {s:?}: expected election or replication"
            )),
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Election => "Election",
            Part::Replication => "Replication",
        })
    }
}

/// What a case judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A unit case of one step: drives one `Raft` by hand. Runs once.
    Step(Step),
    /// A cluster scenario of one part: runs once per seed.
    Scenario(Part),
}

/// What a case may use while it runs.
#[derive(Debug, Default)]
pub struct Ctx {
    /// The seed of this run. Unit cases may ignore it; scenarios drive their
    /// simulator with it.
    pub seed: u64,
    /// Whether the case should record a readable trace of what happened.
    pub tracing: bool,
    /// The trace, one event per line, when `tracing` is on.
    pub trace: Vec<String>,
    /// Where to write an HTML timeline of the run, if asked.
    pub html: Option<std::path::PathBuf>,
    /// The name of the case being run, for titles.
    pub case: &'static str,
}

impl Ctx {
    pub fn new(seed: u64) -> Ctx {
        Ctx {
            seed,
            ..Default::default()
        }
    }

    /// Records one line of trace, when tracing is on.
    pub fn note(&mut self, line: impl FnOnce() -> String) {
        if self.tracing {
            self.trace.push(line());
        }
    }
}

/// Why a case failed: what was expected and what was seen, in one or a few
/// lines a student can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result of one run of a case.
pub type Outcome = Result<(), Failure>;

/// One case of the grader.
#[derive(Clone, Copy)]
pub struct Case {
    /// Unique, `module::name`: `e3::term_increments`, `election::re_election`.
    pub name: &'static str,
    pub kind: Kind,
    /// One sentence: what the case checks (and the paper's section, if any).
    pub purpose: &'static str,
    pub run: fn(&mut Ctx) -> Outcome,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.name, self.kind)
    }
}

/// Every case of the grader: the step suites, then the scenarios.
pub fn all_cases() -> Vec<Case> {
    let mut cases = crate::steps::cases();
    cases.extend(crate::scenarios::cases());
    cases
}

/// The case called `name`.
pub fn find(name: &str) -> Option<Case> {
    all_cases().into_iter().find(|c| c.name == name)
}

/// Fails the case unless `got == want`, naming what was compared:
/// `check_eq!(r.term, 2, "term after become_candidate")` fails with
/// `term after become_candidate: got 1, want 2`.
#[macro_export]
macro_rules! check_eq {
    ($got:expr, $want:expr, $($what:tt)+) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            return Err($crate::case::Failure::new(format!(
                "{}: got {:?}, want {:?}",
                format!($($what)+),
                got,
                want
            )));
        }
    }};
}

/// Fails the case unless `cond` holds, with the formatted message.
#[macro_export]
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {{
        if !$cond {
            return Err($crate::case::Failure::new(format!($($msg)+)));
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes(_: &mut Ctx) -> Outcome {
        check_eq!(1 + 1, 2, "sum");
        Ok(())
    }

    fn fails(_: &mut Ctx) -> Outcome {
        check_eq!(1 + 1, 3, "sum of {} and {}", 1, 1);
        Ok(())
    }

    #[test]
    fn check_eq_names_what_it_compared() {
        assert_eq!(passes(&mut Ctx::new(0)), Ok(()));
        assert_eq!(
            fails(&mut Ctx::new(0)).unwrap_err().message,
            "sum of 1 and 1: got 2, want 3"
        );
    }

    #[test]
    fn case_names_are_unique() {
        let mut names: Vec<&str> = all_cases().iter().map(|c| c.name).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate case names");
    }

    #[test]
    fn parts_of_steps() {
        assert_eq!(Part::of(Step::Election6), Part::Election);
        assert_eq!(Part::of(Step::Replication1), Part::Replication);
    }
}
