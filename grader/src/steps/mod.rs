//! The per-step suites: unit cases that drive one `Raft` by hand and check
//! its exact state and outgoing messages, so each of the ten steps is
//! judged on its own (the way etcd's paper tests do).

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
pub mod util;

use crate::case::Case;

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
    ]
    .concat()
}
