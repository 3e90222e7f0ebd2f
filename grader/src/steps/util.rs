//! Helpers shared by the step suites: building a node in a known state
//! without passing through other steps' holes, and describing what it did.

use raft::{
    ConfState, Config, Entry, HardState, MemStorage, Message, MessageType, Raft, StateType,
};

/// The election timeout of test nodes, in ticks. The randomized timeout is
/// in `[ELECTION_TICK, 2 * ELECTION_TICK)`.
pub const ELECTION_TICK: usize = 10;
/// The heartbeat interval of test nodes, in ticks.
pub const HEARTBEAT_TICK: usize = 1;

/// A config for node `id` with the test clocks.
pub fn config(id: u64) -> Config {
    let mut c = Config::new(id);
    c.election_tick = ELECTION_TICK;
    c.heartbeat_tick = HEARTBEAT_TICK;
    c
}

/// Storage for a cluster of `peers`, holding `log` (entries of the given
/// terms at indexes 1, 2, ...) and the hard state `term` (and `vote`).
pub fn storage(peers: &[u64], log_terms: &[u64], term: u64, vote: u64) -> MemStorage {
    let store = MemStorage::new_with_conf_state(ConfState {
        voters: peers.to_vec(),
        learners: Vec::new(),
    });
    let ents: Vec<Entry> = log_terms
        .iter()
        .enumerate()
        .map(|(i, &t)| Entry::new(t, i as u64 + 1, b""))
        .collect();
    {
        let mut core = store.wl();
        core.append(&ents).expect("test log entries are contiguous");
        core.set_hard_state(HardState {
            term,
            vote,
            commit: 0,
        });
    }
    store
}

/// A follower `id` of a cluster of `peers`, with an empty log, at term 0.
pub fn new_raft(id: u64, peers: &[u64]) -> Raft<MemStorage> {
    new_raft_with(config(id), storage(peers, &[], 0, 0))
}

/// A follower built from `cfg` and `store`. Panics if the test set-up
/// itself is invalid (a bug in the grader, not in the student's code).
pub fn new_raft_with(cfg: Config, store: MemStorage) -> Raft<MemStorage> {
    let id = cfg.id;
    Raft::new(&cfg, store).unwrap_or_else(|e| panic!("grader set-up: node {id}: {e}"))
}

/// A follower `id` of `peers` whose log holds entries of `log_terms` and
/// whose term is `term`.
pub fn follower_with_log(id: u64, peers: &[u64], log_terms: &[u64], term: u64) -> Raft<MemStorage> {
    new_raft_with(config(id), storage(peers, log_terms, term, 0))
}

/// Node `id` as the leader of `term`, over a log of `log_terms`, reached
/// without any of the lab's holes: through the pre-candidate role, which is
/// not a hole, straight to `become_leader`, which is not one either. Its
/// messages (none are expected) are cleared. The leader appended the empty
/// entry of its term at `log_terms.len() + 1`.
pub fn leader_at(id: u64, peers: &[u64], log_terms: &[u64], term: u64) -> Raft<MemStorage> {
    let mut r = new_raft_with(config(id), storage(peers, log_terms, term, id));
    r.become_pre_candidate();
    r.become_leader();
    assert_eq!(
        r.state,
        StateType::Leader,
        "grader set-up: node {id} did not become leader"
    );
    r.msgs.clear();
    r
}

/// A message of type `t` from `from` to `to` at `term`.
pub fn msg(t: MessageType, from: u64, to: u64, term: u64) -> Message {
    let mut m = Message::new(t, from, to);
    m.term = term;
    m
}

/// Takes the node's outgoing messages, sorted by recipient then type, so
/// comparisons do not depend on the order a correct node happens to use.
pub fn take_sorted(r: &mut Raft<MemStorage>) -> Vec<Message> {
    let mut ms = r.take_msgs();
    ms.sort_by_key(|m| (m.to, m.msg_type));
    ms
}

/// One line per message, for failure reports: `[MsgVote 1→2 term=2 last=0@0]`.
pub fn describe(msgs: &[Message]) -> String {
    if msgs.is_empty() {
        return "no messages".to_string();
    }
    let lines: Vec<String> = msgs.iter().map(|m| format!("{m:?}")).collect();
    format!("[{}]", lines.join(", "))
}

/// Ticks `r` `n` times.
pub fn tick_n(r: &mut Raft<MemStorage>, n: usize) {
    for _ in 0..n {
        r.tick();
    }
}

/// The terms of every entry in `r`'s log, index 1 first.
pub fn log_terms(r: &Raft<MemStorage>) -> Vec<u64> {
    r.raft_log.all_entries().iter().map(|e| e.term).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_at_bypasses_the_holes() {
        // This runs on the skeleton too: a hole reached here would panic.
        let r = leader_at(1, &[1, 2, 3], &[1, 1], 2);
        assert_eq!(r.state, StateType::Leader);
        assert_eq!(r.term, 2);
        assert_eq!(log_terms(&r), vec![1, 1, 2]);
    }

    #[test]
    fn follower_with_log_restores_term_and_log() {
        let r = follower_with_log(2, &[1, 2, 3], &[1, 2], 3);
        assert_eq!(
            (r.term, r.state, log_terms(&r)),
            (3, StateType::Follower, vec![1, 2])
        );
    }
}
