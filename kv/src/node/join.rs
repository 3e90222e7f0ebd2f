//! Whether a node with no log may start, decided by asking its peers.
//!
//! A member's votes and acknowledged entries are what Raft's quorums count
//! on, so a node must never come back under an id whose data it lost. A
//! node whose data directory has no log sends each peer a probe
//! ([`transport::probe`]) and gets back what that peer knows of the
//! cluster (a [`ClusterView`]). It starts when
//!
//! - it is a first member and every other first member is new too (a new
//!   cluster), or the leader says this id never ran;
//! - it is a new member (`--join`) and the cluster lists it, not yet run.
//!
//! It refuses when any peer knows the id has run before (it published
//! itself: see [`crate::state::Op::Publish`]) or was removed, and waits
//! otherwise, up to `--join-timeout-ms`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use raft::{ConfState, NodeId};
use tracing::info;

use crate::codec::{DecodeError, Decoder, Encoder};
use crate::http::Response;
use crate::node::{Event, NodeConfig};
use crate::state::{KvStore, Membership};
use crate::storage::{Bootstrap, replace_advice};
use crate::transport::{self, Inbound};

/// How often a node asks its peers while deciding whether it may start.
const PROBE_INTERVAL: Duration = Duration::from_millis(300);

/// What a node tells a node that probes it: what it knows of its cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterView {
    pub node: NodeId,
    /// 0 when the node has no log and is itself a new member waiting.
    pub cluster_id: u64,
    /// The node has never held a log entry: it cannot know of any write.
    pub fresh: bool,
    pub is_leader: bool,
    pub leader: NodeId,
    pub commit: u64,
    pub bootstrap: Bootstrap,
    pub members: Membership,
}

const VIEW_VERSION: u8 = 1;

impl ClusterView {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(VIEW_VERSION);
        e.u64(self.node);
        e.u64(self.cluster_id);
        e.bool(self.fresh);
        e.bool(self.is_leader);
        e.u64(self.leader);
        e.u64(self.commit);
        self.bootstrap.encode(&mut e);
        e.bytes(&KvStore::with_members(self.members.clone()).snapshot());
        e.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<ClusterView, DecodeError> {
        let mut d = Decoder::new(bytes);
        let version = d.u8("view version")?;
        if version != VIEW_VERSION {
            return Err(d.error(format!("unknown view version {version}")));
        }
        let node = d.u64("node")?;
        let cluster_id = d.u64("cluster id")?;
        let fresh = d.bool("fresh")?;
        let is_leader = d.bool("is leader")?;
        let leader = d.u64("leader")?;
        let commit = d.u64("commit")?;
        let bootstrap = Bootstrap::decode(&mut d)?;
        let state = KvStore::restore(&d.bytes("membership")?)?;
        d.finish()?;
        Ok(ClusterView {
            node,
            cluster_id,
            fresh,
            is_leader,
            leader,
            commit,
            bootstrap,
            members: state.members,
        })
    }
}

/// For a node with no log: decides, by asking its peers, whether it may
/// start, and from what. A first member starts when its peers are all new
/// too, or when the leader says this id never ran; a new member starts
/// when the cluster lists it. An id the cluster knows has run, or removed,
/// is refused: its votes and entries are gone.
pub fn decide_start(
    cfg: &NodeConfig,
    rx: &Receiver<Event>,
) -> Result<(Bootstrap, ConfState), String> {
    let id = cfg.id;
    let mine = Bootstrap::new(
        cfg.peers
            .iter()
            .map(|(id, a)| (*id, a.to_string()))
            .collect(),
    );
    let others: BTreeMap<NodeId, SocketAddr> = cfg
        .peers
        .iter()
        .filter(|(p, _)| **p != id)
        .map(|(p, a)| (*p, *a))
        .collect();
    if !cfg.join && others.is_empty() {
        // A one-node cluster has nobody to ask, and nobody to disagree.
        return Ok((mine.clone(), mine.conf_state()));
    }
    if others.is_empty() {
        return Err(format!(
            "--join needs the peer addresses of the current members in --peers (besides \
             node {id}'s own)"
        ));
    }
    let my_view = ClusterView {
        node: id,
        cluster_id: if cfg.join { 0 } else { mine.cluster_id },
        fresh: true,
        ..ClusterView::default()
    };
    // Probes run on a thread of their own, so that this one keeps
    // answering the peers that probe us meanwhile: two new nodes probing
    // each other must not wait on each other.
    let (answers_tx, answers_rx) = mpsc::channel::<(NodeId, Result<ClusterView, String>)>();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        let others = others.clone();
        thread::Builder::new()
            .name(format!("n{id}-probe"))
            .spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    for (&peer, &addr) in &others {
                        let answer =
                            transport::probe(addr, Duration::from_millis(500)).and_then(|b| {
                                ClusterView::decode(&b).map_err(|e| format!("a bad answer: {e}"))
                            });
                        if answers_tx.send((peer, answer)).is_err() {
                            return;
                        }
                    }
                    thread::sleep(PROBE_INTERVAL);
                }
            })
            .map_err(|e| format!("cannot start the probe thread: {e}"))?;
    }
    let result = wait_for_answers(cfg, &mine, &my_view, rx, &answers_rx);
    stop.store(true, Ordering::SeqCst);
    result
}

/// Answers what arrives on `rx` while the probes come back on `answers`,
/// until [`judge_answers`] decides.
fn wait_for_answers(
    cfg: &NodeConfig,
    mine: &Bootstrap,
    my_view: &ClusterView,
    rx: &Receiver<Event>,
    answers_rx: &Receiver<(NodeId, Result<ClusterView, String>)>,
) -> Result<(Bootstrap, ConfState), String> {
    let id = cfg.id;
    let started = Instant::now();
    let mut last_report = started;
    let mut answers: BTreeMap<NodeId, Result<ClusterView, String>> = BTreeMap::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(Event::Peer(Inbound::Probe(reply))) => {
                // We know nothing yet.
                let _ = reply.try_send(my_view.encode());
            }
            Ok(Event::Client(_, reply)) => {
                let _ = reply.send(
                    Response::error(
                        503,
                        format!(
                            "node {id} is starting: it is asking its peers whether it may join \
                             (see its log)"
                        ),
                    )
                    .with_header("Retry-After", "1"),
                );
            }
            Ok(Event::Stop(why)) => return Err(why),
            Ok(Event::Peer(_)) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err("every event source stopped".to_string());
            }
        }
        let mut fresh_answers = false;
        while let Ok((peer, answer)) = answers_rx.try_recv() {
            answers.insert(peer, answer);
            fresh_answers = true;
        }
        if fresh_answers && let Some(start) = judge_answers(cfg, mine, &answers)? {
            return Ok(start);
        }
        if started.elapsed() >= cfg.join_timeout {
            return Err(format!(
                "node {id} has no data directory yet, and in {:?} its peers did not tell \
                 whether it may start: {}",
                cfg.join_timeout,
                describe_answers(&answers)
            ));
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            info!(
                "node {id} has no log yet and waits for its peers to tell whether it may start: \
                 {}",
                describe_answers(&answers)
            );
            last_report = Instant::now();
        }
    }
}

/// For a node that has a log: refuses to start if a peer says this node
/// was removed from the cluster (it would only knock on doors that stay
/// shut). Peers that do not answer at once are not waited for.
pub fn check_not_removed(cfg: &NodeConfig) -> Result<(), String> {
    let id = cfg.id;
    for (&peer, &addr) in cfg.peers.iter().filter(|(p, _)| **p != id) {
        let Ok(bytes) = transport::probe(addr, Duration::from_millis(300)) else {
            continue;
        };
        let Ok(view) = ClusterView::decode(&bytes) else {
            continue;
        };
        if !view.fresh && view.members.removed.contains(&id) {
            return Err(format!(
                "node {id} was removed from the cluster (node {peer} says so) and cannot \
                 rejoin; its data directory {} is of no further use. To bring a node back, add \
                 a new member: `kv member add PEER_ADDR --http HTTP_ADDR`.",
                cfg.data_dir.display()
            ));
        }
    }
    Ok(())
}

fn describe_answers(answers: &BTreeMap<NodeId, Result<ClusterView, String>>) -> String {
    let parts: Vec<String> = answers
        .iter()
        .map(|(peer, a)| match a {
            Ok(v) if v.fresh => format!("node {peer} is new too"),
            Ok(v) if v.is_leader => format!("node {peer} leads"),
            Ok(v) => format!("node {peer} runs (leader {})", v.leader),
            Err(e) => format!("node {peer}: {e}"),
        })
        .collect();
    parts.join("; ")
}

/// The decision of [`decide_start`] from the answers so far: start (with
/// this bootstrap and membership), refuse (an error), or wait (`None`).
pub fn judge_answers(
    cfg: &NodeConfig,
    mine: &Bootstrap,
    answers: &BTreeMap<NodeId, Result<ClusterView, String>>,
) -> Result<Option<(Bootstrap, ConfState)>, String> {
    let id = cfg.id;
    let replace = replace_advice(Some(id));
    let mut all_fresh = true;
    for (peer, answer) in answers {
        let Ok(v) = answer else {
            all_fresh = false;
            continue;
        };
        if !v.fresh && !cfg.join && v.cluster_id != mine.cluster_id {
            return Err(format!(
                "node {peer} belongs to cluster {:016x}, but this node's --peers make cluster \
                 {:016x}: every first member must be started with the same --peers",
                v.cluster_id, mine.cluster_id
            ));
        }
        if v.fresh {
            continue;
        }
        all_fresh = false;
        if v.members.removed.contains(&id) {
            return Err(format!(
                "node {id} was removed from the cluster (node {peer} says so), and an id is \
                 never used again. Add a new member instead: `kv member add PEER_ADDR --http \
                 HTTP_ADDR` prints its id and how to start it."
            ));
        }
        match v.members.members.get(&id) {
            Some(m) if m.started => {
                return Err(format!(
                    "the data directory {} has no log, but node {peer} says node {id} has run \
                     before: its log and votes are lost, and rejoining without them could lose \
                     acknowledged writes. {replace}",
                    cfg.data_dir.display()
                ));
            }
            Some(m) if cfg.join || v.is_leader => {
                // A member that never ran: it promised nothing yet.
                info!(
                    "node {peer} lists node {id} as a {} that has not run yet: starting with \
                     an empty log",
                    if m.learner { "learner" } else { "voter" }
                );
                return Ok(Some((v.bootstrap.clone(), v.bootstrap.conf_state())));
            }
            Some(_) => {}
            None if v.is_leader => {
                return Err(if cfg.join {
                    format!(
                        "node {id} is not a member of the cluster that node {peer} leads: add \
                         it first with `kv member add PEER_ADDR --http HTTP_ADDR`"
                    )
                } else {
                    format!(
                        "node {id} is not a member of the cluster that node {peer} leads (its \
                         members are {:?}); to add it, use `kv member add` and start it with \
                         --join",
                        v.members.members.keys().collect::<Vec<_>>()
                    )
                });
            }
            None => {}
        }
    }
    let others = cfg.peers.keys().filter(|p| **p != id).count();
    if !cfg.join && all_fresh && answers.len() == others {
        info!(
            "every peer is new: starting cluster {:016x}",
            mine.cluster_id
        );
        return Ok(Some((mine.clone(), mine.conf_state())));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{read_snapshot_file, snapshot_file};
    use crate::state::{Command, Op, RequestId};

    fn first_members() -> BTreeMap<NodeId, SocketAddr> {
        (1..=3)
            .map(|id| (id, SocketAddr::from(([127, 0, 0, 1], 7000 + id as u16))))
            .collect()
    }

    /// What node `from` says: its cluster, whether it is new, whether it
    /// leads, and which members have run.
    fn view(from: NodeId, fresh: bool, is_leader: bool, started: &[NodeId]) -> ClusterView {
        let boot = Bootstrap::new(
            first_members()
                .iter()
                .map(|(id, a)| (*id, a.to_string()))
                .collect(),
        );
        let mut members = Membership::bootstrap(&boot.members);
        for id in started {
            if let Some(m) = members.members.get_mut(id) {
                m.started = true;
            }
        }
        ClusterView {
            node: from,
            cluster_id: boot.cluster_id,
            fresh,
            is_leader,
            leader: if is_leader { from } else { 0 },
            commit: if fresh { 0 } else { 10 },
            bootstrap: boot,
            members,
        }
    }

    #[test]
    fn a_node_without_a_log_starts_only_when_its_peers_allow() {
        // Node 1 has no log. Whether it may start depends on what nodes 2
        // and 3 say; `None` in a row is a peer that did not answer.
        let cfg = NodeConfig::new(
            1,
            first_members(),
            "127.0.0.1:8001".parse().unwrap(),
            "d".into(),
        );
        let mine = Bootstrap::new(
            first_members()
                .iter()
                .map(|(id, a)| (*id, a.to_string()))
                .collect(),
        );
        #[derive(Debug, PartialEq)]
        enum Want {
            Start,
            Wait,
            Refuse(&'static str),
        }
        let mut removed = view(2, false, true, &[1, 2, 3]);
        removed.members.members.remove(&1);
        removed.members.removed.insert(1);
        let mut other_cluster = view(2, false, false, &[2]);
        other_cluster.cluster_id ^= 1;
        let cases: Vec<(&str, Vec<Option<ClusterView>>, Want)> = vec![
            (
                "every peer is new",
                vec![
                    Some(view(2, true, false, &[])),
                    Some(view(3, true, false, &[])),
                ],
                Want::Start,
            ),
            (
                "one peer new, one silent",
                vec![Some(view(2, true, false, &[])), None],
                Want::Wait,
            ),
            (
                "a follower says node 1 ran",
                vec![Some(view(2, false, false, &[1, 2])), None],
                Want::Refuse("has run before"),
            ),
            (
                "the leader says node 1 never ran",
                vec![Some(view(2, false, true, &[2, 3])), None],
                Want::Start,
            ),
            (
                "a follower says node 1 never ran: it may lag",
                vec![Some(view(2, false, false, &[2])), None],
                Want::Wait,
            ),
            (
                "node 1 was removed",
                vec![Some(removed), None],
                Want::Refuse("was removed"),
            ),
            (
                "another cluster",
                vec![Some(other_cluster), None],
                Want::Refuse("same --peers"),
            ),
            ("nobody answers", vec![None, None], Want::Wait),
        ];
        for (name, answers, want) in cases {
            let answers: BTreeMap<NodeId, Result<ClusterView, String>> = answers
                .into_iter()
                .zip(2..)
                .map(|(a, id)| (id, a.ok_or_else(|| "refused".to_string())))
                .collect();
            let got = match judge_answers(&cfg, &mine, &answers) {
                Ok(Some(_)) => Want::Start,
                Ok(None) => Want::Wait,
                Err(e) => {
                    if let Want::Refuse(text) = want {
                        assert!(e.contains(text), "{name}: {e}");
                        continue;
                    }
                    panic!("{name}: refused: {e}");
                }
            };
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_new_member_starts_only_once_the_cluster_lists_it() {
        let mut peers = first_members();
        peers.insert(4, "127.0.0.1:7004".parse().unwrap());
        let mut cfg = NodeConfig::new(4, peers, "127.0.0.1:8004".parse().unwrap(), "d".into());
        cfg.join = true;
        let mine = Bootstrap::default();
        let not_yet = view(2, false, true, &[1, 2, 3]);
        let mut listed = not_yet.clone();
        listed.members.members.insert(
            4,
            crate::state::Member {
                peer: "127.0.0.1:7004".into(),
                learner: true,
                ..Default::default()
            },
        );
        let one = |v: ClusterView| BTreeMap::from([(2, Ok(v))]);
        let err = judge_answers(&cfg, &mine, &one(not_yet)).unwrap_err();
        assert!(err.contains("kv member add"), "{err}");
        let (boot, cs) = judge_answers(&cfg, &mine, &one(listed.clone()))
            .unwrap()
            .expect("it may start");
        assert_eq!(boot, listed.bootstrap, "it copies the cluster's bootstrap");
        assert_eq!(cs.voters, vec![1, 2, 3]);
        listed.members.members.get_mut(&4).unwrap().started = true;
        let err = judge_answers(&cfg, &mine, &one(listed)).unwrap_err();
        assert!(err.contains("has run before"), "{err}");
    }

    #[test]
    fn views_and_snapshot_files_round_trip() {
        let v = view(2, false, true, &[1, 3]);
        assert_eq!(ClusterView::decode(&v.encode()).unwrap(), v);
        assert!(ClusterView::decode(&[9]).is_err());

        let mut kv = KvStore::with_members(v.members.clone());
        kv.apply(Command {
            id: RequestId { nonce: 1, seq: 1 },
            op: Op::Put {
                key: vec![0xff],
                value: b"x".to_vec(),
            },
        });
        let file = snapshot_file(42, &kv.snapshot());
        let (index, back) = read_snapshot_file(&file).unwrap();
        assert_eq!((index, &back), (42, &kv));
        let mut damaged = file.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(read_snapshot_file(&damaged).is_err());
        assert!(read_snapshot_file(b"garbage").is_err());
    }
}
