//! What a case judges, and how a run of it ends.

use std::fmt;

use super::step::{Part, Step};

/// What a case judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A unit case of one step: drives one node by hand. Runs once.
    Step(Step),
    /// A cluster scenario of one part: runs once per seed.
    Scenario(Part),
    /// An exhaustive search of a small cluster's schedules, of one part:
    /// runs once.
    Search(Part),
}

impl Kind {
    /// The part a case of this kind belongs to.
    pub fn part(self) -> Part {
        match self {
            Kind::Step(step) => step.part(),
            Kind::Scenario(part) | Kind::Search(part) => part,
        }
    }
}

/// Why a run of a case did not pass: what was expected and what was seen,
/// in one or a few lines a student can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    /// The code under test panicked: at this step's `todo!()`, if it was
    /// one.
    pub hole: Option<Step>,
    /// The code under test panicked (at a hole or anywhere else).
    pub panicked: bool,
}

impl Failure {
    /// A broken expectation.
    pub fn new(message: impl Into<String>) -> Failure {
        let failure = Failure {
            message: message.into(),
            hole: None,
            panicked: false,
        };
        case_failed(&failure);
        failure
    }

    /// The code under test panicked with `message`.
    pub fn panic(message: impl Into<String>) -> Failure {
        let message = message.into();
        let failure = Failure {
            hole: Step::from_panic(&message),
            message,
            panicked: true,
        };
        case_failed(&failure);
        failure
    }

    /// Whether the run stopped at `step`'s `todo!()`.
    pub fn reached(&self, step: Step) -> bool {
        self.hole == Some(step)
    }

    /// The same failure, with `context` in front of its message.
    pub fn context(mut self, context: impl fmt::Display) -> Failure {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

/// Every failure of a case (a broken expectation, or a panic of the code
/// under test) passes through here, so a debugger can stop on it: `break
/// grader::model::outcome::case_failed`. A failed check returns an error;
/// it never panics.
#[inline(never)]
pub fn case_failed(failure: &Failure) {
    std::hint::black_box(failure);
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result of one run of a case.
pub type Outcome = Result<(), Failure>;

/// Fails the case unless `got == want`, naming what was compared:
/// `check_eq!(s.term, 2, "term after become_candidate")` fails with
/// `term after become_candidate: got 1, want 2`.
#[macro_export]
macro_rules! check_eq {
    ($got:expr, $want:expr, $($what:tt)+) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            return Err($crate::model::Failure::new(format!(
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
            return Err($crate::model::Failure::new(format!($($msg)+)));
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes() -> Outcome {
        check_eq!(1 + 1, 2, "sum");
        Ok(())
    }

    fn fails() -> Outcome {
        check_eq!(1 + 1, 3, "sum of {} and {}", 1, 1);
        Ok(())
    }

    #[test]
    fn check_eq_names_what_it_compared() {
        assert_eq!(passes(), Ok(()));
        assert_eq!(
            fails().unwrap_err().message,
            "sum of 1 and 1: got 2, want 3"
        );
    }

    #[test]
    fn a_panic_at_a_hole_names_the_step() {
        let f = Failure::panic("not yet implemented: RaftLab Election Step4");
        assert!(f.reached(Step::Election4));
        assert!(f.panicked);
        assert!(!Failure::panic("index out of bounds").reached(Step::Election4));
    }
}
