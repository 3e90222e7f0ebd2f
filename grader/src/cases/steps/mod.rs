//! The per-step suites: unit cases that drive one node by hand and check
//! its whole state and outgoing messages, so each step is judged on its own
//! (the way etcd's paper tests do).

pub mod d1;
pub mod d2;
pub mod d3;
pub mod d4;
pub mod d5;
pub mod d6;
pub mod e1;
pub mod e2;
pub mod e3;
pub mod e4;
pub mod e5;
pub mod e6;
pub mod r1;
pub mod r2;
pub mod r3;
pub mod r4;

use crate::cases::{Case, Ctx};
use crate::model::{Kind, Outcome, Step};

/// Every step case, Election Step1 first.
pub fn cases() -> Vec<Case> {
    [
        e1::cases(),
        e2::cases(),
        e3::cases(),
        e4::cases(),
        e5::cases(),
        e6::cases(),
        r1::cases(),
        r2::cases(),
        r3::cases(),
        r4::cases(),
        d1::cases(),
        d2::cases(),
        d3::cases(),
        d4::cases(),
        d5::cases(),
        d6::cases(),
    ]
    .concat()
}

/// A case of `step`: `name` is `e3::...`, `purpose` one sentence, `uses`
/// the earlier steps whose code it runs, with why.
pub fn step_case(
    step: Step,
    name: &'static str,
    purpose: &'static str,
    uses: &'static [(Step, &'static str)],
    run: fn(&mut Ctx<'_>) -> Outcome,
) -> Case {
    Case {
        name,
        kind: Kind::Step(step),
        purpose,
        uses,
        run,
    }
}
