//! Snapshots and log compaction (§7).

mod common;

use common::*;
use raft::{Entry, HardState, Message, MessageType, ProgressState, RawNode, StateType, Storage};

/// A 3-node cluster led by 1 where node 3 missed ten entries that the
/// leader then compacted into a snapshot at index 11.
fn lagging_follower_behind_a_snapshot() -> Network {
    let mut net = Network::fresh(3, |_| {});
    net.elect(1);
    net.isolate(3);
    for i in 0..10 {
        net.propose(1, format!("v{i}").as_bytes());
    }
    let store = net.storage[&1].clone();
    assert_eq!(net.node(1).raft_log.applied, 11);
    store
        .wl()
        .create_snapshot(11, None, b"state at 11".to_vec())
        .unwrap();
    store.wl().compact(11).unwrap();
    assert_eq!(net.node(1).raft_log.first_index(), 12);
    net
}

fn beat(id: u64) -> Message {
    Message::new(MessageType::MsgBeat, id, id)
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step4"]
fn a_follower_behind_the_compacted_log_is_caught_up_by_a_snapshot() {
    // "The leader must occasionally send snapshots to followers that lag
    // behind", when the entries they need were discarded (§7; etcd's
    // TestSlowNodeRestore / TestProvideSnap).
    let mut net = lagging_follower_behind_a_snapshot();
    net.recover();
    net.trace.clear();
    net.send(vec![beat(1)]);
    assert_eq!(net.count(MessageType::MsgSnap, 1, 3, false), 1);
    let n3 = net.node(3);
    assert_eq!(
        (n3.raft_log.first_index(), n3.raft_log.committed),
        (12, 11),
        "node 3 restored the snapshot at 11"
    );
    assert_eq!(net.storage[&3].snapshot(0).unwrap().data, b"state at 11");
    let pr = net.node(1).prs.get(3).unwrap();
    assert_eq!((pr.state, pr.matched), (ProgressState::Replicate, 11));
    // Replication goes on from there.
    net.propose(1, b"after");
    assert_eq!(log_shape(net.node(3)), log_shape(net.node(1)));
    assert_eq!(net.node(3).raft_log.committed, 12);
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step4"]
fn progress_goes_probe_snapshot_probe_replicate_and_retries_a_failed_snapshot() {
    // A follower the leader must send a snapshot to is paused in Snapshot
    // state; if the application reports the send failed, the leader probes
    // again and sends a new snapshot; once one is applied, replication
    // resumes (etcd's TestSnapshotFailure, TestSnapshotSucceed,
    // TestPendingSnapshotPauseReplication).
    let mut net = lagging_follower_behind_a_snapshot();
    net.recover();
    net.ignore(MessageType::MsgSnap);
    net.send(vec![beat(1)]);
    let pr = net.node(1).prs.get(3).unwrap();
    assert_eq!(
        (pr.state, pr.pending_snapshot),
        (ProgressState::Snapshot, 11)
    );
    // Paused: a proposal sends node 3 nothing.
    net.trace.clear();
    net.propose(1, b"held");
    assert_eq!(net.count(MessageType::MsgApp, 1, 3, false), 0);

    // The application reports that the snapshot did not arrive.
    let mut failed = Message::new(MessageType::MsgSnapStatus, 3, 1);
    failed.reject = true;
    net.send(vec![failed]);
    let pr = net.node(1).prs.get(3).unwrap();
    assert_eq!(
        (pr.state, pr.pending_snapshot, pr.probe_sent),
        (ProgressState::Probe, 0, true),
        "back to probing, waiting for the follower"
    );

    // The next heartbeat answer lets the leader try again, with a snapshot.
    net.recover();
    net.trace.clear();
    net.send(vec![beat(1)]);
    assert_eq!(net.count(MessageType::MsgSnap, 1, 3, false), 1, "a retry");
    let pr = net.node(1).prs.get(3).unwrap();
    assert_eq!(pr.state, ProgressState::Replicate);
    assert_eq!(log_shape(net.node(3)), log_shape(net.node(1)));
    assert_eq!(net.node(3).raft_log.committed, 12);
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step4"]
fn a_reported_snapshot_success_resumes_probing_after_it() {
    // When the application reports the snapshot delivered, the leader
    // probes from just after it and waits for the follower's answer
    // (etcd's TestSnapshotSucceed).
    let mut net = lagging_follower_behind_a_snapshot();
    net.recover();
    net.ignore(MessageType::MsgSnap);
    net.send(vec![beat(1)]);
    net.send(vec![Message::new(MessageType::MsgSnapStatus, 3, 1)]);
    let pr = net.node(1).prs.get(3).unwrap();
    assert_eq!(
        (pr.state, pr.next_idx, pr.probe_sent),
        (ProgressState::Probe, 12, true)
    );
}

#[test]
#[ignore = "needs the deep track's rules in raft_log.rs and raft.rs: reaches Deep Step6"]
fn a_follower_restores_a_newer_snapshot_and_ignores_an_older_one() {
    // A snapshot beyond the commit index replaces the log; one the follower
    // already committed, or whose last entry it holds, does not (etcd's
    // TestRestore, TestRestoreIgnoreSnapshot).
    let mut r = node_with_log(1, &[1, 2], &[1, 1, 1], |_| {});
    r.become_follower(1, 2);
    assert!(r.restore(snapshot(11, 11, &[1, 2, 3])));
    assert_eq!(
        (
            r.raft_log.last_index(),
            r.raft_log.last_term(),
            r.raft_log.committed
        ),
        (11, 11, 11)
    );
    assert_eq!(r.prs.voter_nodes(), vec![1, 2, 3]);
    assert!(!r.restore(snapshot(11, 11, &[1, 2, 3])), "the same again");

    // The last entry of the snapshot is already in the log: only commit.
    let mut r = node_with_log(1, &[1, 2], &[1, 1, 1], |_| {});
    r.become_follower(1, 2);
    assert!(!r.restore(snapshot(2, 1, &[1, 2])));
    assert_eq!((r.raft_log.committed, r.raft_log.last_index()), (2, 3));

    // A snapshot of a membership without this node is refused.
    let mut r = node_with_log(1, &[1, 2], &[1], |_| {});
    r.become_follower(1, 2);
    assert!(!r.restore(snapshot(5, 1, &[2, 3])));
    assert_eq!(r.raft_log.last_index(), 1);
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step3"]
fn a_snapshot_makes_a_candidate_a_follower() {
    // A MsgSnap of the candidate's term comes from that term's leader: the
    // candidate steps down and restores it (§5.2; etcd's
    // TestRestoreFromSnapMsg).
    let mut r = new_node(2, &[1, 2], 10, 1);
    r.become_candidate();
    let mut m = msg(1, 2, MessageType::MsgSnap, r.term);
    m.snapshot = Some(snapshot(11, 1, &[1, 2]));
    r.step(m).unwrap();
    assert_eq!((r.state, r.lead), (StateType::Follower, 1));
    assert_eq!(r.raft_log.committed, 11);
    let out = r.take_msgs();
    assert!(
        out.iter()
            .any(|m| m.msg_type == MessageType::MsgAppResp && m.index == 11),
        "acknowledges the snapshot: {out:?}"
    );
}

#[test]
#[ignore = "needs the deep track's rules in raft_log.rs and raft.rs: reaches Deep Step6"]
fn a_restarted_node_starts_from_its_snapshot() {
    // After a restart the snapshot stands for the log up to its index: the
    // node starts with it committed and applied, its membership, and the
    // entries after it still to apply (etcd's TestRawNodeRestartFromSnapshot).
    let store = storage_from_snapshot(10, 3, &[1, 2, 3]);
    store
        .wl()
        .append(
            &(11..=13)
                .map(|i| Entry::new(3, i, b"e"))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    store.wl().set_hard_state(HardState {
        term: 3,
        vote: 1,
        commit: 12,
    });
    let mut n = RawNode::new(&config(2, 10, 1), store).unwrap();
    let r = &n.raft;
    assert_eq!(
        (
            r.raft_log.first_index(),
            r.raft_log.last_index(),
            r.raft_log.committed,
            r.raft_log.applied
        ),
        (11, 13, 12, 10)
    );
    assert_eq!(r.prs.voter_nodes(), vec![1, 2, 3]);
    assert_eq!((r.term, r.vote), (3, 1));
    let rd = n.ready();
    let applied: Vec<u64> = rd.committed_entries.iter().map(|e| e.index).collect();
    assert_eq!(applied, vec![11, 12]);
    assert!(rd.snapshot.is_none(), "the snapshot is persisted already");
    n.advance(rd);
    assert_eq!(n.raft.raft_log.applied, 12);
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step4"]
fn a_restarted_node_from_a_snapshot_rejoins_its_cluster() {
    // A node that crashed after installing a snapshot restarts from its
    // storage and takes part again: it is caught up and can be elected.
    let mut net = lagging_follower_behind_a_snapshot();
    net.recover();
    net.send(vec![beat(1)]);
    let store = net.storage[&3].clone();
    net.remove_node(3);
    let n3 = new_node_with_config(&config(3, 10, 1), store);
    assert_eq!(n3.raft_log.committed, 11);
    net.add_node(n3);
    net.propose(1, b"after restart");
    assert_eq!(log_shape(net.node(3)), log_shape(net.node(1)));
    net.isolate(1);
    net.elect(3);
    assert_eq!(net.node(3).state, StateType::Leader);
}

/// A storage that starts from a snapshot at `index`@`term`.
fn storage_from_snapshot(index: u64, term: u64, voters: &[u64]) -> raft::MemStorage {
    let store = raft::MemStorage::new();
    store
        .wl()
        .apply_snapshot(snapshot(index, term, voters))
        .unwrap();
    store
}

#[test]
#[ignore = "needs the deep track's rules in raft_log.rs and raft.rs: reaches Deep Step6"]
fn a_node_started_from_a_snapshot_without_a_hard_state_takes_its_term() {
    // A node's term is never below the last term of its log: a storage
    // bootstrapped from a snapshot at 11@11 with no hard state starts the
    // node at term 11, not 0, with no vote. Otherwise it would campaign at
    // term 1 and, as leader, append 12@1 after 11@11.
    let n = new_node_with_config(&config(1, 10, 1), storage_from_snapshot(11, 11, &[1, 2, 3]));
    assert_eq!((n.term, n.vote, n.raft_log.last_term()), (11, 0, 11));
    // The same for a hard state older than the log (written before the
    // entries of a later term were).
    let store = storage_from_snapshot(11, 11, &[1, 2, 3]);
    store.wl().append(&[Entry::new(12, 12, b"")]).unwrap();
    store.wl().set_hard_state(HardState {
        term: 11,
        vote: 2,
        commit: 11,
    });
    let n = new_node_with_config(&config(1, 10, 1), store);
    assert_eq!(
        (n.term, n.vote),
        (12, 0),
        "the vote of term 11 is not one of term 12"
    );
    // A hard state at or above the log's last term is kept as it is.
    let store = storage_from_snapshot(11, 11, &[1, 2, 3]);
    store.wl().set_hard_state(HardState {
        term: 13,
        vote: 2,
        commit: 11,
    });
    let n = new_node_with_config(&config(1, 10, 1), store);
    assert_eq!((n.term, n.vote), (13, 2));
}

#[test]
#[ignore = "needs a finished raft.rs: the cluster elects a leader and replicates"]
fn a_cluster_started_from_a_snapshot_without_a_hard_state_elects_and_commits() {
    // Three nodes bootstrapped from the same snapshot at 11@11, none with a
    // hard state: they elect a leader of a term above 11, whose entries
    // follow the snapshot in term order, and commit a new entry on all
    // three. No node's term is ever below the last term of its log.
    let nodes: Vec<Peer> = (1..=3)
        .map(|id| {
            Peer::node(new_node_with_config(
                &config(id, 10, 1),
                storage_from_snapshot(11, 11, &[1, 2, 3]),
            ))
        })
        .collect();
    let mut net = Network::new(nodes);
    let leader = net.tick_until_leader(&[1, 2, 3], 100);
    assert!(
        net.node(leader).term > 11,
        "leader of term {}",
        net.node(leader).term
    );
    net.propose(leader, b"after the snapshot");
    for id in 1..=3 {
        let n = net.node(id);
        assert_eq!(n.raft_log.committed, 13, "node {id}: {:?}", log_shape(n));
        let shape = log_shape(n);
        assert!(
            shape.windows(2).all(|w| w[0].1 <= w[1].1) && shape[0].1 > 11,
            "node {id}: entries after the snapshot in term order: {shape:?}"
        );
        assert!(
            n.term >= n.raft_log.last_term(),
            "node {id}: term {} below its last log term {}",
            n.term,
            n.raft_log.last_term()
        );
    }
}

#[test]
fn a_node_does_not_campaign_while_a_restored_snapshot_is_pending() {
    // A snapshot restored from the leader stays pending until the
    // application has saved and applied it; until then the node is not
    // promotable (etcd v3.5's promotable()): a leader elected on a log that
    // is not durable yet could lose it in a crash.
    let mut r = new_node(2, &[1, 2, 3], 10, 1);
    let mut m = msg(1, 2, MessageType::MsgSnap, 2);
    m.snapshot = Some(snapshot(11, 2, &[1, 2, 3]));
    r.step(m).unwrap();
    assert!(r.raft_log.has_pending_snapshot());
    assert!(!r.promotable(), "promotable with a pending snapshot");
    r.msgs.clear();
    r.step(hup(2)).unwrap();
    assert_eq!((r.state, r.term), (StateType::Follower, 2), "campaigned");
    assert!(r.msgs.is_empty(), "sent {:?}", r.msgs);
    // Once the application saved it, the node may campaign again.
    r.raft_log.stable_snap_to(11);
    assert!(r.promotable());
}
