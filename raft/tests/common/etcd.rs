//! Helpers in the shape of etcd raft v3.5's own test helpers
//! (`newTestRaft`, `newTestMemoryStorage`, `readMessages`,
//! `acceptAndReply`, `commitNoopEntry`, ...), so that the ported etcd tests
//! in `etcd_*.rs` read like the originals.

use raft::{
    ConfState, Entry, HardState, Index, MemStorage, Message, MessageType, NodeId, Raft, Snapshot,
    SnapshotMetadata, Term,
};

use super::{Node, config, new_node_with_config, storage_with};

/// etcd's `newTestMemoryStorage(withPeers(...))`.
pub fn test_storage(peers: &[NodeId]) -> MemStorage {
    storage_with(peers, &[])
}

/// etcd's `newTestMemoryStorage(withPeers(...), withLearners(...))`.
pub fn test_learner_storage(peers: &[NodeId], learners: &[NodeId]) -> MemStorage {
    storage_with(peers, learners)
}

/// etcd's `newTestRaft(id, election, heartbeat, storage)`.
pub fn new_test_raft(id: NodeId, election: usize, heartbeat: usize, store: MemStorage) -> Node {
    new_node_with_config(&config(id, election, heartbeat), store)
}

/// A storage of `peers` holding `ents` and the hard state `hs`: what
/// etcd's tests get with `storage.Append(ents)` then `r.loadState(hs)`.
pub fn storage_with_state(peers: &[NodeId], ents: &[Entry], hs: HardState) -> MemStorage {
    let store = test_storage(peers);
    store.wl().append(ents).unwrap();
    store.wl().set_hard_state(hs);
    store
}

/// An entry without data.
pub fn ent(term: Term, index: Index) -> Entry {
    Entry::new(term, index, b"")
}

/// An entry with data.
pub fn ent_data(term: Term, index: Index, data: &[u8]) -> Entry {
    Entry::new(term, index, data)
}

/// etcd's `idsBySize(n)`: 1..=n.
pub fn ids_by_size(n: usize) -> Vec<NodeId> {
    (1..=n as NodeId).collect()
}

/// etcd's `r.readMessages()`.
pub fn read_messages(r: &mut Node) -> Vec<Message> {
    r.take_msgs()
}

/// Messages in a fixed order (etcd sorts by their printed form): by
/// recipient, then type, then term and index.
pub fn sorted(mut msgs: Vec<Message>) -> Vec<Message> {
    msgs.sort_by_key(|m| (m.to, m.from, m.msg_type, m.term, m.index));
    msgs
}

/// A message with the given routing, type and term, and every other field
/// at its default: build the rest with struct update syntax.
pub fn m(from: NodeId, to: NodeId, t: MessageType, term: Term) -> Message {
    Message {
        from,
        to,
        msg_type: t,
        term,
        ..Default::default()
    }
}

/// etcd's `acceptAndReply`: the follower's acknowledgement of a `MsgApp`.
pub fn accept_and_reply(msg: &Message) -> Message {
    assert_eq!(msg.msg_type, MessageType::MsgApp, "type should be MsgApp");
    Message {
        index: msg.index + msg.entries.len() as u64,
        ..m(msg.to, msg.from, MessageType::MsgAppResp, msg.term)
    }
}

/// etcd's `commitNoopEntry`: a new leader gets its empty entry acknowledged
/// by every follower, persists and applies it.
pub fn commit_noop_entry(r: &mut Node, s: &MemStorage) {
    assert_eq!(
        r.state,
        raft::StateType::Leader,
        "it should only be used when it is the leader"
    );
    r.bcast_append();
    for msg in r.take_msgs() {
        assert!(
            msg.msg_type == MessageType::MsgApp
                && msg.entries.len() == 1
                && msg.entries[0].data.is_empty(),
            "not a message to append noop entry: {msg:?}"
        );
        r.step(accept_and_reply(&msg)).unwrap();
    }
    // Further messages refresh the followers' commit index.
    r.take_msgs();
    s.wl().append(r.raft_log.unstable_entries()).unwrap();
    let committed = r.raft_log.committed;
    r.raft_log.applied_to(committed);
    let (li, lt) = (r.raft_log.last_index(), r.raft_log.last_term());
    r.raft_log.stable_to(li, lt);
}

/// etcd's `mustAppendEntry`: the leader appends `ents`, or the test fails.
pub fn must_append_entry(r: &mut Node, ents: Vec<Entry>) {
    let mut ents = ents;
    assert!(r.append_entry(&mut ents), "entry unexpectedly dropped");
}

/// A proposal of `data` to node `to`.
pub fn prop_data(to: NodeId, data: &[u8]) -> Message {
    Message {
        entries: vec![ent_data(0, 0, data)],
        ..m(to, to, MessageType::MsgProp, 0)
    }
}

/// A snapshot at `index`@`term` with voters and learners.
pub fn snap(index: Index, term: Term, voters: &[NodeId], learners: &[NodeId]) -> Snapshot {
    Snapshot {
        data: vec![],
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: voters.to_vec(),
                learners: learners.to_vec(),
            },
            index,
            term,
        },
    }
}

/// The node's committed entries not yet applied, as etcd's `nextEnts()`
/// returns them (without marking them applied).
pub fn next_ents(r: &Raft<MemStorage>) -> Vec<Entry> {
    r.raft_log.next_entries().unwrap_or_default()
}
