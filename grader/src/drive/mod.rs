//! How cases reach the nodes they judge, across a process boundary.
//!
//! Case code (a step case, the simulator) does everything to a node through
//! one function, [`Driver::apply`], with an [`Op`], and gets a [`Reply`].
//! In the host process, which links the student's `raft.rs`, the driver
//! runs the nodes for real and [`record`]s each reply; in the grader, which
//! never links it, the driver [`replay`]s those replies. The same case code
//! runs on both sides: the host's run produces the observations, the
//! grader's run judges them.

pub mod codec;
pub mod op;
pub mod protocol;
pub mod record;
pub mod replay;
pub mod schedule;

pub use op::{
    Boot, Call, CampaignKind, Driver, NodeConfig, Op, ProgressSetup, Reply, ReplyKind, StorageSetup,
};
