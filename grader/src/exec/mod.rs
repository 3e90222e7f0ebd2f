//! Running cases in a host process: starting and bounding processes, the
//! host's serving loop, and the judge that replays and decides.

pub mod host;
pub mod judge;
pub mod minimize;
pub mod process;
