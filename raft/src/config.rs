//! How a node is set up: its id, its clocks, its limits and which optional
//! behaviours are on.

use crate::errors::{Error, Result};
use crate::types::{Index, NONE, NodeId};

/// How a leader serves read-only requests (§6.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadOnlyOption {
    /// Confirm leadership with a round of heartbeats before answering: safe
    /// whatever the clocks do.
    #[default]
    Safe,
    /// Trust the leader's lease (needs `check_quorum`): one round trip less,
    /// but relies on bounded clock drift.
    LeaseBased,
}

/// A node's settings. `Config::new(id)` gives sensible defaults; call
/// [`Config::validate`] (the node does) before use.
#[derive(Clone, Debug)]
pub struct Config {
    /// This node's id; never `0`.
    pub id: NodeId,
    /// Ticks a follower waits without hearing from a leader before it starts
    /// an election. The actual timeout is randomized in
    /// `[election_tick, 2 * election_tick)` (§5.2). Must exceed
    /// `heartbeat_tick`; ten times it is usual.
    pub election_tick: usize,
    /// Ticks between a leader's heartbeats.
    pub heartbeat_tick: usize,
    /// The last index the application has applied, on restart.
    pub applied: Index,
    /// The most bytes of entries one `MsgApp` carries (at least one entry
    /// is always sent). `u64::MAX` for no limit.
    pub max_size_per_msg: u64,
    /// The most bytes of committed entries one `Ready` hands out.
    pub max_committed_size_per_ready: u64,
    /// The most bytes of uncommitted entries a leader accepts before it drops
    /// proposals. `u64::MAX` for no limit.
    pub max_uncommitted_entries_size: u64,
    /// The most `MsgApp`s in flight to one follower in Replicate state.
    pub max_inflight_msgs: usize,
    /// A leader that has not heard from a quorum within an election timeout
    /// steps down, and followers that heard from a leader recently ignore
    /// disruptive vote requests (the leader's lease).
    pub check_quorum: bool,
    /// Ask for pre-votes before raising the term (§9.6 of the thesis), so a
    /// partitioned node cannot disrupt the cluster when it returns.
    pub pre_vote: bool,
    /// How read-only requests are served.
    pub read_only_option: ReadOnlyOption,
    /// Followers drop proposals instead of forwarding them to the leader.
    pub disable_proposal_forwarding: bool,
    /// Seed for the node's randomized election timeouts. The same seed gives
    /// the same timeouts, so a whole run can be replayed.
    pub seed: u64,
}

impl Config {
    /// Defaults for node `id`: election after 10 ticks, heartbeat every tick.
    pub fn new(id: NodeId) -> Config {
        Config {
            id,
            election_tick: 10,
            heartbeat_tick: 1,
            applied: 0,
            max_size_per_msg: u64::MAX,
            max_committed_size_per_ready: u64::MAX,
            max_uncommitted_entries_size: u64::MAX,
            max_inflight_msgs: 256,
            check_quorum: false,
            pre_vote: false,
            read_only_option: ReadOnlyOption::Safe,
            disable_proposal_forwarding: false,
            seed: 0,
        }
    }

    /// Checks that the settings can work; the error says which does not.
    pub fn validate(&self) -> Result<()> {
        if self.id == NONE {
            return Err(Error::ConfigInvalid(
                "id must not be 0 (0 means no node)".into(),
            ));
        }
        if self.heartbeat_tick == 0 {
            return Err(Error::ConfigInvalid(
                "heartbeat_tick must be greater than 0".into(),
            ));
        }
        if self.election_tick <= self.heartbeat_tick {
            return Err(Error::ConfigInvalid(format!(
                "election_tick ({}) must be greater than heartbeat_tick ({})",
                self.election_tick, self.heartbeat_tick
            )));
        }
        if self.max_inflight_msgs == 0 {
            return Err(Error::ConfigInvalid(
                "max_inflight_msgs must be greater than 0".into(),
            ));
        }
        if self.max_size_per_msg == 0 {
            return Err(Error::ConfigInvalid(
                "max_size_per_msg must be greater than 0".into(),
            ));
        }
        if self.read_only_option == ReadOnlyOption::LeaseBased && !self.check_quorum {
            return Err(Error::ConfigInvalid(
                "read_only_option LeaseBased needs check_quorum".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::new(1).validate().unwrap();
    }

    #[test]
    fn bad_settings_are_named() {
        let cases: Vec<(Box<dyn Fn(&mut Config)>, &str)> = vec![
            (Box::new(|c| c.id = 0), "id"),
            (Box::new(|c| c.heartbeat_tick = 0), "heartbeat_tick"),
            (Box::new(|c| c.election_tick = 1), "election_tick"),
            (Box::new(|c| c.max_inflight_msgs = 0), "max_inflight_msgs"),
            (Box::new(|c| c.max_size_per_msg = 0), "max_size_per_msg"),
            (
                Box::new(|c| c.read_only_option = ReadOnlyOption::LeaseBased),
                "LeaseBased",
            ),
        ];
        for (i, (change, word)) in cases.iter().enumerate() {
            let mut c = Config::new(1);
            change(&mut c);
            match c.validate() {
                Err(Error::ConfigInvalid(msg)) => {
                    assert!(
                        msg.contains(word),
                        "case #{i}: message {msg:?} should name {word}"
                    )
                }
                other => panic!("case #{i}: got {other:?}, want ConfigInvalid naming {word}"),
            }
        }
    }
}
