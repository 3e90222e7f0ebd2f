//! Robustness: arbitrary input from the network never panics a node nor
//! breaks its invariants, and misuse of the API is an error, not a panic.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::*;
use raft::{
    CAMPAIGN_TRANSFER, ConfChange, ConfChangeType, ConfState, Config, Entry, EntryType, Error,
    HardState, MemStorage, Message, MessageType, NONE, RawNode, ReadOnlyOption, Snapshot,
    SnapshotMetadata, StateType,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The role a fuzzed node starts in.
#[derive(Clone, Copy, Debug)]
enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
    /// A follower started from a snapshot alone, without a hard state: it
    /// takes the snapshot's term.
    FromSnapshot,
}

/// Node 1 of `[1, 2, 3]` with a log of terms 1 1 2 2 3, at term 3 with
/// commit 2, brought into `role`.
fn node_in_role(role: Role, pre_vote: bool, check_quorum: bool, seed: u64) -> RawNode<MemStorage> {
    let store = storage_with(&[1, 2, 3], &[]);
    if let Role::FromSnapshot = role {
        store
            .wl()
            .apply_snapshot(snapshot(4, 2, &[1, 2, 3]))
            .unwrap();
        let mut c = config(1, 10, 1);
        c.pre_vote = pre_vote;
        c.check_quorum = check_quorum;
        c.seed = seed;
        let n = RawNode::new(&c, store).unwrap();
        assert_eq!((n.raft.term, n.raft.raft_log.committed), (2, 4));
        return n;
    }
    store
        .wl()
        .append(
            &[1, 1, 2, 2, 3]
                .iter()
                .zip(1..)
                .map(|(&t, i)| Entry::new(t, i, b"x"))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    store.wl().set_hard_state(HardState {
        term: 3,
        vote: 0,
        commit: 2,
    });
    let mut c = config(1, 10, 1);
    // A pre-candidate exists only with pre-vote on.
    c.pre_vote = pre_vote || matches!(role, Role::PreCandidate);
    c.check_quorum = check_quorum;
    c.seed = seed;
    let mut n = RawNode::new(&c, store).unwrap();
    match role {
        Role::FromSnapshot => unreachable!("returned above"),
        Role::Follower => {
            let mut hb = msg(2, 1, MessageType::MsgHeartbeat, 3);
            hb.commit = 2;
            n.step(hb).unwrap();
        }
        Role::PreCandidate => n.campaign().unwrap(),
        Role::Candidate | Role::Leader => {
            n.campaign().unwrap();
            if n.raft.state == StateType::PreCandidate {
                let t = n.raft.term + 1;
                n.step(msg(2, 1, MessageType::MsgPreVoteResp, t)).unwrap();
            }
            if matches!(role, Role::Leader) {
                let t = n.raft.term;
                n.step(msg(2, 1, MessageType::MsgVoteResp, t)).unwrap();
            }
        }
    }
    let want = match role {
        Role::Follower => StateType::Follower,
        Role::PreCandidate => StateType::PreCandidate,
        Role::Candidate => StateType::Candidate,
        Role::Leader => StateType::Leader,
        Role::FromSnapshot => unreachable!("returned above"),
    };
    assert_eq!(n.raft.state, want, "setting up {role:?}");
    n
}

/// A number near `around` half the time, anything in `0..=max` otherwise.
fn near(rng: &mut StdRng, around: u64, max: u64) -> u64 {
    if rng.random_bool(0.5) {
        around.saturating_sub(1) + rng.random_range(0..=2)
    } else {
        rng.random_range(0..=max)
    }
}

/// Entries after `index`: well formed (contiguous, terms rising from
/// `log_term` up to `term`) or not, of either type, with valid or garbage
/// conf-change data.
fn random_entries(rng: &mut StdRng, index: u64, log_term: u64, term: u64) -> Vec<Entry> {
    let n = rng.random_range(0..=4);
    let well_formed = rng.random_bool(0.7);
    let mut t = log_term.max(1);
    (0..n)
        .map(|i| {
            let (idx, et) = if well_formed {
                if t < term && rng.random_bool(0.3) {
                    t += 1;
                }
                (index + 1 + i, t.min(term.max(1)))
            } else {
                (rng.random_range(0..=60), rng.random_range(0..=50))
            };
            let conf = rng.random_bool(0.2);
            let data = if conf && rng.random_bool(0.7) {
                let change_type = match rng.random_range(0..3) {
                    0 => ConfChangeType::AddNode,
                    1 => ConfChangeType::RemoveNode,
                    _ => ConfChangeType::AddLearnerNode,
                };
                ConfChange {
                    change_type,
                    node_id: rng.random_range(0..=4),
                    context: vec![],
                }
                .encode()
            } else {
                (0..rng.random_range(0..12)).map(|_| rng.random()).collect()
            };
            Entry {
                term: et,
                index: idx,
                entry_type: if conf {
                    EntryType::ConfChange
                } else {
                    EntryType::Normal
                },
                data: data.into(),
            }
        })
        .collect()
}

fn random_ids(rng: &mut StdRng) -> Vec<u64> {
    [0, 1, 2, 3, 4, 9]
        .into_iter()
        .filter(|_| rng.random_bool(0.5))
        .collect()
}

/// Any message at all to node 1: every type, senders known and unknown,
/// terms 0..=50, indexes 0..=60, random entries and snapshots.
fn random_message(rng: &mut StdRng, n: &RawNode<MemStorage>) -> Message {
    let r = &n.raft;
    let t = MessageType::ALL[rng.random_range(0..MessageType::ALL.len())];
    let from = [1, 2, 3, 2, 3, 9, 0][rng.random_range(0..7)];
    let mut m = Message::new(t, from, 1);
    m.term = near(rng, r.term, 50);
    m.index = near(rng, r.raft_log.last_index(), 60);
    m.log_term = near(rng, r.raft_log.last_term(), 50);
    m.commit = near(rng, r.raft_log.committed, 60);
    m.reject = rng.random_bool(0.3);
    m.reject_hint = near(rng, m.index, 60);
    m.entries = random_entries(rng, m.index, m.log_term, m.term);
    if rng.random_bool(0.1) {
        m.context = CAMPAIGN_TRANSFER.to_vec();
    } else if rng.random_bool(0.2) {
        m.context = vec![rng.random_range(0..4)];
    }
    if t == MessageType::MsgSnap || rng.random_bool(0.05) {
        let learners = random_ids(rng);
        let mut voters = random_ids(rng);
        if rng.random_bool(0.7) && !voters.contains(&1) {
            voters.push(1);
        }
        m.snapshot = Some(Snapshot {
            data: vec![7],
            metadata: SnapshotMetadata {
                conf_state: ConfState { voters, learners },
                index: near(rng, r.raft_log.committed + 5, 60),
                term: near(rng, r.term, 50),
            },
        })
        .filter(|_| rng.random_bool(0.9));
    }
    m
}

/// What is observed of a node after each input.
#[derive(Clone, Copy, Debug)]
struct Seen {
    term: u64,
    vote: u64,
    committed: u64,
}

/// Checks the invariants that no input may break, against what was seen
/// before the input.
fn check_invariants(n: &RawNode<MemStorage>, before: Seen, what: &dyn Fn() -> String) {
    let r = &n.raft;
    let fail = |why: String| -> ! { panic!("{why}\n  after: {}", what()) };
    if r.term < before.term {
        fail(format!("term went back from {} to {}", before.term, r.term));
    }
    if r.term == before.term && before.vote != NONE && r.vote != before.vote {
        fail(format!(
            "vote changed from {} to {} within term {}",
            before.vote, r.vote, r.term
        ));
    }
    let (committed, applied, last) = (
        r.raft_log.committed,
        r.raft_log.applied,
        r.raft_log.last_index(),
    );
    if committed < before.committed {
        fail(format!(
            "commit went back from {} to {committed}",
            before.committed
        ));
    }
    if committed > last {
        fail(format!("commit {committed} is beyond last index {last}"));
    }
    if applied > committed {
        fail(format!("applied {applied} is beyond commit {committed}"));
    }
    match r.state {
        StateType::Leader => {
            if r.lead != r.id || r.vote != r.id {
                fail(format!(
                    "a leader with lead {} and vote {} (id {})",
                    r.lead, r.vote, r.id
                ));
            }
        }
        StateType::Candidate | StateType::PreCandidate => {
            if r.lead != NONE {
                fail(format!("a {:?} that knows leader {}", r.state, r.lead));
            }
        }
        StateType::Follower => {}
    }
}

/// Handles the node's Ready as an application would: persist, apply
/// (membership changes included), advance.
fn handle_ready(n: &mut RawNode<MemStorage>) {
    if !n.has_ready() {
        return;
    }
    let rd = n.ready();
    let store = n.raft.raft_log.store.clone();
    if let Some(s) = &rd.snapshot {
        // A snapshot older than the one held is the storage's to refuse.
        let _ = store.wl().apply_snapshot(s.clone());
    }
    store.wl().append(&rd.entries).unwrap();
    if let Some(hs) = rd.hard_state {
        store.wl().set_hard_state(hs);
    }
    for e in &rd.committed_entries {
        if e.entry_type == EntryType::ConfChange
            && let Ok(cc) = ConfChange::decode(&e.data)
            && let Ok(cs) = n.apply_conf_change(&cc)
        {
            store.wl().set_conf_state(cs);
        }
    }
    n.advance(rd);
}

/// One input to the node: mostly a network message, sometimes a tick, a
/// proposal, another API call, or the handling of a Ready.
/// `doing` says what is being done, in case it panics.
fn random_input(rng: &mut StdRng, n: &mut RawNode<MemStorage>, doing: &mut String) -> String {
    let roll = rng.random_range(0..100);
    *doing = format!("input of kind {roll}");
    match roll {
        0..=9 => {
            n.tick();
            "tick".into()
        }
        10..=13 => {
            let data = vec![rng.random(); 3];
            let r = n.propose(data);
            format!("propose -> {r:?}")
        }
        14 => {
            let cc = ConfChange {
                change_type: ConfChangeType::AddLearnerNode,
                node_id: rng.random_range(0..=5),
                context: vec![],
            };
            let r = n.propose_conf_change(&cc);
            format!("propose_conf_change({cc:?}) -> {r:?}")
        }
        15 => {
            let ctx = vec![rng.random_range(0..4)];
            n.read_index(ctx.clone());
            format!("read_index({ctx:?})")
        }
        16 => {
            let to = rng.random_range(0..=4);
            n.transfer_leader(to);
            format!("transfer_leader({to})")
        }
        17 => {
            let id = rng.random_range(0..=4);
            n.report_unreachable(id);
            format!("report_unreachable({id})")
        }
        18 => {
            let (id, failed) = (rng.random_range(0..=4), rng.random_bool(0.5));
            n.report_snapshot(id, failed);
            format!("report_snapshot({id}, {failed})")
        }
        19 => {
            let r = n.campaign();
            format!("campaign -> {r:?}")
        }
        20..=34 => {
            handle_ready(n);
            "ready/advance".into()
        }
        _ => {
            let m = random_message(rng, n);
            *doing = format!("step {m:?} entries={:?} snap={:?}", m.entries, m.snapshot);
            let r = n.step(m);
            format!("{doing} -> {r:?}")
        }
    }
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step1"]
fn arbitrary_messages_never_panic_nor_break_invariants() {
    // Whatever arrives from the network, in every role and with pre-vote and
    // check-quorum on or off, a node does not panic and keeps its safety
    // invariants: terms and commits never go back, one vote per term,
    // applied <= committed <= last index, a consistent role and leader
    // (design: "bad input from the network never panics").
    // RAFTLAB_FUZZ_SEEDS and RAFTLAB_FUZZ_INPUTS scale the search up for
    // a longer hunt; the default keeps the suite fast.
    let scale = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let seeds = scale("RAFTLAB_FUZZ_SEEDS", 20);
    let per_run = scale("RAFTLAB_FUZZ_INPUTS", 400) as usize;
    let roles = [
        Role::Follower,
        Role::PreCandidate,
        Role::Candidate,
        Role::Leader,
        Role::FromSnapshot,
    ];
    let mut inputs = 0usize;
    let mut role_changes = 0usize;
    for seed in 0..seeds {
        for role in roles {
            for (pre_vote, check_quorum) in
                [(false, false), (true, false), (false, true), (true, true)]
            {
                let mut rng = StdRng::seed_from_u64(
                    seed * 1000 + role as u64 * 10 + pre_vote as u64 * 2 + check_quorum as u64,
                );
                let mut n = node_in_role(role, pre_vote, check_quorum, seed);
                let mut history: Vec<String> = Vec::new();
                for i in 0..per_run {
                    let before = Seen {
                        term: n.raft.term,
                        vote: n.raft.vote,
                        committed: n.raft.raft_log.committed,
                    };
                    let state_before = n.raft.state;
                    let mut doing = String::new();
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        random_input(&mut rng, &mut n, &mut doing)
                    }));
                    let desc = match result {
                        Ok(desc) => desc,
                        Err(e) => {
                            let why = e
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            let recent = history[history.len().saturating_sub(8)..].join("\n    ");
                            panic!(
                                "seed {seed}, {role:?}, pre_vote {pre_vote}, check_quorum {check_quorum}, input #{i} ({doing}): panicked: {why}\n  recent inputs:\n    {recent}"
                            );
                        }
                    };
                    inputs += 1;
                    if n.raft.state != state_before {
                        role_changes += 1;
                    }
                    let ctx = || {
                        format!(
                            "seed {seed}, {role:?}, pre_vote {pre_vote}, check_quorum {check_quorum}, input #{i}: {desc}"
                        )
                    };
                    check_invariants(&n, before, &ctx);
                    history.push(desc);
                }
            }
        }
    }
    assert_eq!(inputs, seeds as usize * roles.len() * 4 * per_run);
    assert!(
        role_changes > 1000,
        "the inputs should move nodes between roles, only {role_changes} changes"
    );
}

#[test]
fn local_message_types_are_refused_by_raw_node_step() {
    // Local messages are stepped by a node into itself; from the network
    // they are refused (etcd's ErrStepLocalMsg).
    let mut n = RawNode::new(&config(1, 10, 1), storage_with(&[1, 2], &[])).unwrap();
    for t in MessageType::ALL.into_iter().filter(|t| t.is_local()) {
        let got = n.step(msg(2, 1, t, 0));
        assert_eq!(got, Err(Error::StepLocalMsg), "{t:?}");
    }
    assert_eq!(
        n.raft.state,
        StateType::Follower,
        "a MsgHup must not campaign"
    );
    assert!(n.raft.msgs.is_empty());
}

#[test]
fn responses_from_unknown_peers_are_refused() {
    // A response can only answer a request this node sent to a member; one
    // from a stranger is refused (etcd's ErrStepPeerNotFound).
    let mut n = RawNode::new(&config(1, 10, 1), storage_with(&[1, 2], &[])).unwrap();
    for t in MessageType::ALL
        .into_iter()
        .filter(|t| t.is_response() && !t.is_local())
    {
        let got = n.step(msg(9, 1, t, 1));
        assert_eq!(got, Err(Error::StepPeerNotFound), "{t:?} from 9");
    }
    assert_eq!(n.raft.term, 0, "refused responses change nothing");
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step4"]
fn api_misuse_returns_errors() {
    // Calls that make no sense in the node's state return errors (etcd's
    // ErrProposalDropped and friends), they do not panic.
    let mut n = RawNode::new(&config(1, 10, 1), storage_with(&[1, 2, 3], &[])).unwrap();
    assert_eq!(n.propose(b"x".to_vec()), Err(Error::ProposalDropped));
    let cc = ConfChange {
        change_type: ConfChangeType::AddNode,
        node_id: 4,
        context: vec![],
    };
    assert_eq!(n.propose_conf_change(&cc), Err(Error::ProposalDropped));

    let mut single = RawNode::new(&config(1, 10, 1), storage_with(&[1], &[])).unwrap();
    single.campaign().unwrap();
    assert_eq!(single.raft.state, StateType::Leader);
    assert!(
        matches!(single.campaign(), Err(Error::InvalidState(_))),
        "campaign on a leader"
    );
    // An empty proposal is refused.
    let mut empty = Message::new(MessageType::MsgProp, 1, 1);
    empty.entries.clear();
    assert_eq!(single.raft.step(empty), Err(Error::ProposalDropped));

    // Membership changes that cannot be.
    let zero = ConfChange {
        change_type: ConfChangeType::AddNode,
        node_id: 0,
        context: vec![],
    };
    assert!(matches!(
        single.apply_conf_change(&zero),
        Err(Error::ConfChange(_))
    ));
    let demote = ConfChange {
        change_type: ConfChangeType::AddLearnerNode,
        node_id: 1,
        context: vec![],
    };
    assert!(matches!(
        single.apply_conf_change(&demote),
        Err(Error::ConfChange(_))
    ));
    assert_eq!(single.raft.prs.voter_nodes(), vec![1]);
}

/// Changes one setting of a valid config.
type Breakage = Box<dyn Fn(&mut Config)>;

#[test]
fn invalid_configs_are_refused_by_validate_and_new() {
    // Config::validate names what is wrong, and a node refuses to start
    // with such a config.
    let cases: Vec<(&str, Breakage)> = vec![
        ("id", Box::new(|c| c.id = 0)),
        ("heartbeat_tick", Box::new(|c| c.heartbeat_tick = 0)),
        ("election_tick", Box::new(|c| c.election_tick = 1)),
        ("max_inflight_msgs", Box::new(|c| c.max_inflight_msgs = 0)),
        ("max_size_per_msg", Box::new(|c| c.max_size_per_msg = 0)),
        (
            "LeaseBased",
            Box::new(|c| c.read_only_option = ReadOnlyOption::LeaseBased),
        ),
    ];
    for (i, (word, change)) in cases.iter().enumerate() {
        let mut c = config(1, 10, 1);
        change(&mut c);
        match c.validate() {
            Err(Error::ConfigInvalid(why)) => {
                assert!(why.contains(word), "case #{i}: {why:?} should name {word}")
            }
            other => panic!("case #{i} ({word}): validate = {other:?}"),
        }
        let started = RawNode::new(&c, storage_with(&[1], &[]));
        assert!(
            matches!(started, Err(Error::ConfigInvalid(_))),
            "case #{i} ({word}): a node started"
        );
    }
}

#[test]
#[ignore = "needs the deep track's rules in raft_log.rs and raft.rs: reaches Deep Step6"]
fn applied_beyond_the_commit_index_is_refused() {
    // A restart cannot have applied more than was committed: such a config
    // and storage do not belong together (etcd panics; here it is an error).
    let store = storage_with(&[1], &[]);
    store
        .wl()
        .append(&[Entry::new(1, 1, b""), Entry::new(1, 2, b"")])
        .unwrap();
    store.wl().set_hard_state(HardState {
        term: 1,
        vote: 1,
        commit: 1,
    });
    let mut c = config(1, 10, 1);
    c.applied = 2;
    let got = raft::Raft::new(&c, store.clone());
    assert!(
        matches!(got, Err(Error::ConfigInvalid(ref why)) if why.contains("applied")),
        "applied 2 > commit 1: {:?}",
        got.as_ref().err()
    );
    c.applied = 1;
    let r = raft::Raft::new(&c, store).unwrap();
    assert_eq!((r.raft_log.applied, r.raft_log.committed), (1, 1));
}

#[test]
fn a_hard_state_commit_beyond_the_log_is_refused() {
    // A persisted commit index past the persisted log means the storage lost
    // entries: the node refuses to start instead of panicking later.
    let store = storage_with(&[1], &[]);
    store.wl().append(&[Entry::new(1, 1, b"")]).unwrap();
    store.wl().set_hard_state(HardState {
        term: 1,
        vote: 1,
        commit: 5,
    });
    assert!(matches!(
        raft::Raft::new(&config(1, 10, 1), store),
        Err(Error::Store(_))
    ));
}

#[test]
#[ignore = "needs a finished raft.rs: reaches Election Step5"]
fn a_node_started_from_a_snapshot_alone_takes_its_term() {
    // A storage bootstrapped from a snapshot has no hard state: the node
    // starts at the snapshot's term, never below its log's last term, so
    // it answers pre-votes with a real term. A stale pre-candidate is
    // refused with that term; an up-to-date one of a later term gets its
    // pre-vote.
    let store = MemStorage::new();
    store
        .wl()
        .apply_snapshot(snapshot(10, 3, &[1, 2, 3]))
        .unwrap();
    let mut n = RawNode::new(&config(1, 10, 1), store).unwrap();
    assert_eq!((n.raft.term, n.raft.vote), (3, NONE));
    let mut m = msg(2, 1, MessageType::MsgPreVote, 1);
    m.index = 5;
    m.log_term = 2;
    assert_eq!(n.step(m), Ok(()));
    let out = n.raft.take_msgs();
    assert!(
        out.len() == 1 && out[0].reject && out[0].term == 3,
        "a stale pre-vote: {out:?}"
    );
    let mut m = msg(2, 1, MessageType::MsgPreVote, 4);
    m.index = 10;
    m.log_term = 3;
    n.step(m).unwrap();
    let out = n.raft.take_msgs();
    assert!(
        out.len() == 1 && !out[0].reject && out[0].term == 4,
        "an up-to-date pre-vote: {out:?}"
    );
    assert_eq!(n.raft.term, 3, "a pre-vote never changes the term");
}
