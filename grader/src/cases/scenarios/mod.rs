//! Cluster scenarios: whole clusters in the simulator, each run over many
//! seeds, with the invariants checked after every event.

pub mod deep;
pub mod election;
pub mod replication;

use crate::cases::Case;

/// Every scenario, election first.
pub fn cases() -> Vec<Case> {
    [election::cases(), replication::cases(), deep::cases()].concat()
}
