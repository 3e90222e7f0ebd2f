//! Log replication around the core: heartbeats and the commit index, fast
//! rejection hints, flow control, message size limits, and proposals made
//! on followers.

mod common;

use common::*;
use raft::{Entry, Error, MessageType, ProgressState, StateType};

/// A leader of `voters` at term 1 whose log is the empty entry of its term
/// plus `n` entries, all unsent (its messages are discarded).
fn leader_with_entries(voters: &[u64], n: usize, tweak: impl Fn(&mut raft::Config)) -> Node {
    let mut c = config(1, 10, 1);
    tweak(&mut c);
    let mut r = new_node_with_config(&c, storage_with(voters, &[]));
    r.become_candidate();
    r.become_leader();
    for i in 0..n {
        let mut es = vec![Entry::new(0, 0, format!("e{i}").as_bytes())];
        assert!(r.append_entry(&mut es));
    }
    r.take_msgs();
    r
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step3"]
fn heartbeats_carry_the_commit_index_capped_at_the_match_index() {
    // A heartbeat tells a follower the commit index, but never beyond what
    // that follower is known to hold: it must not commit an entry it may not
    // have (etcd's TestBcastBeat).
    let mut r = leader_with_entries(&[1, 2, 3, 4, 5], 9, |_| {});
    assert_eq!(r.raft_log.last_index(), 10);
    for (id, matched) in [(2, 3), (3, 7), (4, 10), (5, 0)] {
        r.prs.get_mut(id).unwrap().matched = matched;
    }
    assert!(r.maybe_commit());
    assert_eq!(r.raft_log.committed, 7, "the majority (1, 3, 4) holds 7");
    r.step(raft::Message::new(MessageType::MsgBeat, 1, 1))
        .unwrap();
    let mut got: Vec<(u64, u64)> = Vec::new();
    for m in r.take_msgs() {
        assert_eq!(m.msg_type, MessageType::MsgHeartbeat, "{m:?}");
        assert!(
            m.entries.is_empty() && m.index == 0 && m.log_term == 0,
            "a heartbeat carries no log position: {m:?}"
        );
        got.push((m.to, m.commit));
    }
    assert_eq!(got, vec![(2, 3), (3, 7), (4, 7), (5, 0)]);
}

#[test]
#[ignore = "needs the deep track's rules in raft_log.rs and raft.rs: reaches Deep Step6"]
fn a_follower_follows_the_heartbeat_commit_but_never_goes_back() {
    // The commit index from a heartbeat raises the follower's, a lower one
    // changes nothing (commit never decreases), and one past the follower's
    // log is not followed (etcd's TestHandleHeartbeat).
    let cases = [(3, 3), (1, 2), (2, 2), (9, 2)];
    for (i, (commit, want)) in cases.into_iter().enumerate() {
        let mut r = node_with_log(2, &[1, 2], &[1, 2, 3], |_| {});
        r.become_follower(3, 1);
        r.raft_log.commit_to(2);
        let mut hb = msg(1, 2, MessageType::MsgHeartbeat, 3);
        hb.commit = commit;
        r.step(hb).unwrap();
        assert_eq!(
            r.raft_log.committed, want,
            "case #{i} (heartbeat commit {commit}): committed = {}, want {want}",
            r.raft_log.committed
        );
        let out = r.take_msgs();
        let answered = out
            .iter()
            .any(|m| m.msg_type == MessageType::MsgHeartbeatResp && m.to == 1);
        assert_eq!(answered, commit <= 3, "case #{i}: replies {out:?}");
    }
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step4"]
fn long_divergences_are_repaired_in_a_few_round_trips() {
    // A follower whose log diverges from the leader's over dozens of
    // entries of other terms is repaired with a handful of rejections, each
    // skipping a whole term, not one per entry (§5.3's closing
    // optimization; etcd's TestFastLogRejection, the lab's Backup).
    fn terms(runs: &[(u64, usize)]) -> Vec<u64> {
        runs.iter()
            .flat_map(|&(t, n)| std::iter::repeat_n(t, n))
            .collect()
    }
    let cases: Vec<(&str, Vec<u64>, Vec<u64>, usize)> = vec![
        (
            "50 entries of terms 2 and 3 against 2 then 4",
            terms(&[(1, 1), (2, 3), (4, 27)]),
            terms(&[(1, 1), (2, 25), (3, 25)]),
            1,
        ),
        (
            "longer follower of an older term",
            terms(&[(1, 1), (4, 10)]),
            terms(&[(1, 1), (3, 50)]),
            1,
        ),
        (
            "follower has more of a shared term",
            terms(&[(1, 1), (2, 5), (3, 5), (4, 40)]),
            terms(&[(1, 1), (2, 5), (3, 50)]),
            1,
        ),
        (
            "shorter follower",
            terms(&[(1, 1), (3, 50)]),
            terms(&[(1, 1), (2, 5)]),
            1,
        ),
        (
            "follower has newer terms than the leader's old ones",
            terms(&[(1, 3), (5, 20)]),
            terms(&[(1, 1), (2, 10), (4, 40)]),
            2,
        ),
    ];
    for (i, (name, leader, follower, max_rejects)) in cases.into_iter().enumerate() {
        let voters = [1, 2, 3];
        let mut net = Network::new(vec![
            Peer::node(node_with_log(1, &voters, &leader, |_| {})),
            Peer::node(node_with_log(2, &voters, &follower, |_| {})),
            Peer::node(node_with_log(3, &voters, &leader, |_| {})),
        ]);
        net.elect(1);
        assert_eq!(net.node(1).state, StateType::Leader, "case #{i} ({name})");
        let rejects = net.count(MessageType::MsgAppResp, 2, 1, true);
        let appends = net.count(MessageType::MsgApp, 1, 2, false);
        assert!(
            rejects <= max_rejects,
            "case #{i} ({name}): {rejects} rejections, want at most {max_rejects}"
        );
        assert!(
            appends <= max_rejects + 3,
            "case #{i} ({name}): {appends} appends to the follower"
        );
        assert_eq!(
            log_shape(net.node(2)),
            log_shape(net.node(1)),
            "case #{i} ({name}): the follower's log must end up as the leader's"
        );
    }
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step3"]
fn replicate_state_stops_at_the_inflight_limit_and_resumes_on_acks() {
    // In Replicate state the leader streams appends without waiting, but at
    // most max_inflight_msgs of them unacknowledged; each acknowledgement
    // frees room for more (etcd's TestMsgAppFlowControlFull and
    // TestMsgAppFlowControlMoveForward).
    let max = 3;
    let mut r = leader_with_entries(&[1, 2], 0, |c| c.max_inflight_msgs = max);
    r.prs.get_mut(2).unwrap().become_replicate();
    for i in 0..max {
        r.step(prop(1, b"data")).unwrap();
        let out = r.take_msgs();
        assert_eq!(out.len(), 1, "proposal #{i}: want one append, got {out:?}");
    }
    assert!(r.prs.get(2).unwrap().inflights.full());
    for i in 0..5 {
        r.step(prop(1, b"data")).unwrap();
        let out = r.take_msgs();
        assert!(
            out.is_empty(),
            "proposal #{} past the window sent {out:?}",
            max + i
        );
    }
    // Acknowledging the first append (index 2) frees one slot: exactly one
    // more append goes out, carrying everything not sent yet.
    let mut ack = msg(2, 1, MessageType::MsgAppResp, r.term);
    ack.index = 2;
    r.step(ack).unwrap();
    let out: Vec<_> = r
        .take_msgs()
        .into_iter()
        .filter(|m| m.msg_type == MessageType::MsgApp && !m.entries.is_empty())
        .collect();
    assert_eq!(out.len(), 1, "one slot freed: {out:?}");
    assert_eq!(out[0].entries.len(), 5, "the five held-back entries");
    assert!(r.prs.get(2).unwrap().inflights.full());
    // A stale acknowledgement frees nothing.
    let mut stale = msg(2, 1, MessageType::MsgAppResp, r.term);
    stale.index = 1;
    r.step(stale).unwrap();
    assert!(r.prs.get(2).unwrap().inflights.full());
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step3"]
fn a_heartbeat_response_frees_one_slot_of_a_full_window() {
    // A follower that answers a heartbeat is reachable: if the window is
    // full (appends may have been lost), one slot is freed so replication
    // can go on (etcd's TestMsgAppFlowControlRecvHeartbeat).
    let max = 2;
    let mut r = leader_with_entries(&[1, 2], 0, |c| c.max_inflight_msgs = max);
    r.prs.get_mut(2).unwrap().become_replicate();
    for _ in 0..max {
        r.step(prop(1, b"data")).unwrap();
    }
    r.take_msgs();
    assert!(r.prs.get(2).unwrap().inflights.full());
    for round in 0..3 {
        r.step(msg(2, 1, MessageType::MsgHeartbeatResp, r.term))
            .unwrap();
        // Nothing new to send yet: at most an empty append for the commit.
        r.take_msgs();
        assert_eq!(
            r.prs.get(2).unwrap().inflights.count(),
            max - 1,
            "round {round}: one slot free after the heartbeat response"
        );
        // The freed slot is used at once by the pending entries, if any.
        r.step(prop(1, b"data")).unwrap();
        let apps = r
            .take_msgs()
            .into_iter()
            .filter(|m| m.msg_type == MessageType::MsgApp && !m.entries.is_empty())
            .count();
        assert_eq!(apps, 1, "round {round}: one append in the freed slot");
        assert!(r.prs.get(2).unwrap().inflights.full());
    }
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step3"]
fn probe_state_sends_one_append_at_a_time() {
    // While probing, the leader sends one append and waits for its answer
    // (or a heartbeat response) before the next (etcd's
    // TestSendAppendForProgressProbe).
    let mut r = leader_with_entries(&[1, 2], 0, |_| {});
    assert_eq!(r.prs.get(2).unwrap().state, ProgressState::Probe);
    r.step(prop(1, b"a")).unwrap();
    let out = r.take_msgs();
    assert_eq!(out.len(), 1, "the first proposal probes: {out:?}");
    assert!(r.prs.get(2).unwrap().probe_sent);
    for i in 0..3 {
        r.step(prop(1, b"b")).unwrap();
        assert!(
            r.take_msgs().is_empty(),
            "proposal #{i} while a probe is out"
        );
    }
    // The heartbeat goes out, but no append.
    r.tick();
    let out = r.take_msgs();
    assert!(
        out.iter().all(|m| m.msg_type == MessageType::MsgHeartbeat),
        "only heartbeats while probing: {out:?}"
    );
    // Its answer lets the next probe go.
    r.step(msg(2, 1, MessageType::MsgHeartbeatResp, r.term))
        .unwrap();
    let out = r.take_msgs();
    assert_eq!(
        out.len(),
        1,
        "one probe after the heartbeat answer: {out:?}"
    );
    assert_eq!(out[0].msg_type, MessageType::MsgApp);
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step4"]
fn max_size_per_msg_splits_the_entries_to_send() {
    // A lagging follower is caught up in appends of at most
    // max_size_per_msg bytes each, and gets every entry.
    let entry_size = Entry::new(0, 0, b"0123456789").size();
    let limit = 3 * entry_size;
    let mut net = Network::fresh(3, |c| c.max_size_per_msg = limit);
    net.elect(1);
    net.isolate(2);
    for i in 0..20 {
        net.propose(1, format!("{i:010}").as_bytes());
    }
    net.recover();
    net.trace.clear();
    net.send(vec![raft::Message::new(MessageType::MsgBeat, 1, 1)]);
    let mut appends = 0;
    for m in &net.trace {
        if m.msg_type != MessageType::MsgApp || m.to != 2 {
            continue;
        }
        appends += 1;
        let size: u64 = m.entries.iter().map(Entry::size).sum();
        assert!(
            m.entries.len() <= 1 || size <= limit,
            "an append of {} entries, {size} bytes, over the {limit} limit",
            m.entries.len()
        );
    }
    assert!(
        appends >= 7,
        "20 entries in threes need 7 appends, saw {appends}"
    );
    assert_eq!(log_shape(net.node(2)), log_shape(net.node(1)));
    assert_eq!(net.node(2).raft_log.committed, 21);
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step4"]
fn proposals_commit_only_with_a_majority() {
    // A proposal at the leader commits when a majority of the cluster is
    // reachable, and on none otherwise (etcd's TestProposal).
    let cases: Vec<(Vec<Peer>, bool)> = vec![
        (vec![Peer::Fresh, Peer::Fresh, Peer::Fresh], true),
        (vec![Peer::Fresh, Peer::Fresh, Peer::BlackHole], true),
        (vec![Peer::Fresh, Peer::BlackHole, Peer::BlackHole], false),
        (
            vec![Peer::Fresh, Peer::BlackHole, Peer::BlackHole, Peer::Fresh],
            false,
        ),
        (
            vec![
                Peer::Fresh,
                Peer::BlackHole,
                Peer::BlackHole,
                Peer::Fresh,
                Peer::Fresh,
            ],
            true,
        ),
    ];
    for (i, (peers, success)) in cases.into_iter().enumerate() {
        let mut net = Network::new(peers);
        net.elect(1);
        net.propose(1, b"somedata");
        let want: Vec<Vec<u8>> = if success {
            vec![b"somedata".to_vec()]
        } else {
            vec![]
        };
        for id in net.ids() {
            let n = net.node(id);
            let committed: Vec<Vec<u8>> = n
                .raft_log
                .slice(1, n.raft_log.committed + 1, u64::MAX)
                .unwrap()
                .into_iter()
                .filter(|e| !e.data.is_empty())
                .map(|e| e.data.to_vec())
                .collect();
            assert_eq!(
                committed, want,
                "case #{i}: node {id} committed {committed:?}"
            );
        }
    }
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step4"]
fn proposals_on_followers_are_forwarded_to_the_leader() {
    // A follower forwards a proposal to the leader it knows, which
    // replicates and commits it (etcd's TestProposalByProxy).
    let mut net = Network::fresh(3, |_| {});
    net.elect(1);
    net.trace.clear();
    net.propose(2, b"forwarded");
    let fwd = net
        .trace
        .iter()
        .find(|m| m.msg_type == MessageType::MsgProp && m.from == 2 && m.to != 2)
        .unwrap_or_else(|| panic!("no forwarded proposal in {:?}", net.trace));
    assert_eq!((fwd.to, fwd.term), (1, 0), "forwarded as it came: {fwd:?}");
    for id in 1..=3 {
        let n = net.node(id);
        assert_eq!(log_data(n), vec![b"forwarded".to_vec()], "node {id}");
        assert_eq!(n.raft_log.committed, 2, "node {id}");
    }
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step3"]
fn proposals_are_dropped_without_a_leader_or_forwarding() {
    // A follower that knows no leader, a candidate, and a follower with
    // forwarding disabled refuse a proposal with ProposalDropped, so the
    // application can retry elsewhere (etcd's TestStepIgnoreOldTermMsg /
    // disableProposalForwarding).
    let mut no_leader = new_node(1, &[1, 2, 3], 10, 1);
    let mut cand = new_node(1, &[1, 2, 3], 10, 1);
    cand.become_candidate();
    let mut c = config(2, 10, 1);
    c.disable_proposal_forwarding = true;
    let mut no_fwd = new_node_with_config(&c, storage_with(&[1, 2, 3], &[]));
    no_fwd.become_follower(1, 1);
    for (name, n) in [
        ("follower without leader", &mut no_leader),
        ("candidate", &mut cand),
        ("follower without forwarding", &mut no_fwd),
    ] {
        n.take_msgs();
        let id = n.id;
        let got = n.step(prop(id, b"x"));
        assert_eq!(got, Err(Error::ProposalDropped), "{name}");
        assert!(n.take_msgs().is_empty(), "{name} must send nothing");
        assert_eq!(n.raft_log.last_index(), 0, "{name} must append nothing");
    }
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Replication Step3"]
fn a_delayed_append_never_truncates_newer_entries() {
    // An append that arrives late, after a newer one, holds only entries
    // the follower already has: it must not cut the log back (§5.3; the
    // lab's classic pitfall).
    let mut r = new_node(2, &[1, 2], 10, 1);
    r.become_follower(1, 1);
    let app = |prev: u64, ents: &[u64]| {
        let mut m = msg(1, 2, MessageType::MsgApp, 1);
        m.index = prev;
        m.log_term = if prev == 0 { 0 } else { 1 };
        m.entries = ents.iter().map(|&i| Entry::new(1, i, b"")).collect();
        m
    };
    r.step(app(0, &[1, 2, 3])).unwrap();
    r.step(app(0, &[1])).unwrap();
    assert_eq!(r.raft_log.last_index(), 3);
    let out = r.take_msgs();
    let acks: Vec<u64> = out.iter().map(|m| m.index).collect();
    assert_eq!(acks, vec![3, 1], "each append acknowledged at its own end");
}
