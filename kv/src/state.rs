//! The replicated state machine: an ordered map from keys to values, the
//! cluster's membership (who is a member, at which addresses, who was
//! removed), and the commands that change them, as they travel inside Raft
//! log entries.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use raft::{ConfChange, ConfChangeType, NodeId};

use crate::codec::{DecodeError, Decoder, Encoder};

/// The longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// The longest value accepted, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Identifies one client request across the cluster, so the node that
/// proposed it can answer when the entry is applied. `nonce` is drawn once
/// per process start, so a restarted node never mistakes an entry proposed
/// by its previous life for one of its new requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId {
    pub nonce: u64,
    pub seq: u64,
}

impl RequestId {
    pub fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        out.extend_from_slice(&self.nonce.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out
    }

    /// The id in a ReadIndex context; `None` for bytes that are not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<RequestId> {
        if bytes.len() != 16 {
            return None;
        }
        let mut nonce = [0u8; 8];
        let mut seq = [0u8; 8];
        nonce.copy_from_slice(&bytes[..8]);
        seq.copy_from_slice(&bytes[8..]);
        Some(RequestId {
            nonce: u64::from_le_bytes(nonce),
            seq: u64::from_le_bytes(seq),
        })
    }
}

/// A change to the map, or to what the cluster knows of a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Put {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        key: Vec<u8>,
    },
    /// Member `node` has started and serves clients at `http`. Once this
    /// is applied, the cluster knows the member has run, so it may hold
    /// votes and log entries the others count on: a node that comes back
    /// under this id with an empty data directory is refused.
    Publish {
        node: NodeId,
        http: Vec<u8>,
    },
}

/// An [`Op`] with the id of the request that asked for it: the data of a
/// normal log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub id: RequestId,
    pub op: Op,
}

/// The format version written first in every command, so a later format
/// can be told apart.
const COMMAND_VERSION: u8 = 1;

impl Command {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(COMMAND_VERSION);
        e.u64(self.id.nonce);
        e.u64(self.id.seq);
        match &self.op {
            Op::Put { key, value } => {
                e.u8(1);
                e.bytes(key);
                e.bytes(value);
            }
            Op::Delete { key } => {
                e.u8(2);
                e.bytes(key);
            }
            Op::Publish { node, http } => {
                e.u8(3);
                e.u64(*node);
                e.bytes(http);
            }
        }
        e.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Command, DecodeError> {
        let mut d = Decoder::new(bytes);
        let version = d.u8("command version")?;
        if version != COMMAND_VERSION {
            return Err(d.error(format!("unknown command version {version}")));
        }
        let id = RequestId {
            nonce: d.u64("request nonce")?,
            seq: d.u64("request seq")?,
        };
        let op = match d.u8("op")? {
            1 => Op::Put {
                key: d.bytes("key")?,
                value: d.bytes("value")?,
            },
            2 => Op::Delete {
                key: d.bytes("key")?,
            },
            3 => Op::Publish {
                node: d.u64("node id")?,
                http: d.bytes("http address")?,
            },
            op => return Err(d.error(format!("unknown op {op}"))),
        };
        d.finish()?;
        Ok(Command { id, op })
    }
}

/// One member of the cluster, as the replicated state knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Member {
    /// Where its peers reach it.
    pub peer: String,
    /// Where clients reach it; empty until it has published.
    pub http: String,
    /// A learner receives the log but does not vote.
    pub learner: bool,
    /// Whether it has run: see [`Op::Publish`].
    pub started: bool,
}

/// The members, and the ids that were removed and are never used again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Membership {
    pub members: BTreeMap<NodeId, Member>,
    pub removed: BTreeSet<NodeId>,
}

impl Membership {
    /// The first members of a cluster, all voters, none started yet.
    pub fn bootstrap(members: &[(NodeId, String)]) -> Membership {
        Membership {
            members: members
                .iter()
                .map(|(id, peer)| {
                    (
                        *id,
                        Member {
                            peer: peer.clone(),
                            ..Member::default()
                        },
                    )
                })
                .collect(),
            removed: BTreeSet::new(),
        }
    }

    pub fn voters(&self) -> Vec<NodeId> {
        self.members
            .iter()
            .filter(|(_, m)| !m.learner)
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn learners(&self) -> Vec<NodeId> {
        self.members
            .iter()
            .filter(|(_, m)| m.learner)
            .map(|(id, _)| *id)
            .collect()
    }

    /// The smallest id never used: above every member and every removed id.
    pub fn next_id(&self) -> NodeId {
        let top = self.members.keys().chain(self.removed.iter()).max();
        top.map_or(1, |t| t + 1)
    }

    /// Whether `cc` may be applied to this membership; the reason if not.
    /// Every node decides alike, since every node holds the same
    /// membership at the same index.
    pub fn check(&self, cc: &ConfChange, ctx: &MemberContext) -> Result<(), String> {
        let id = cc.node_id;
        if id == 0 {
            return Err("node id 0 is reserved".into());
        }
        match cc.change_type {
            ConfChangeType::AddLearnerNode => {
                if self.removed.contains(&id) {
                    return Err(format!(
                        "node {id} was removed, and ids are never used again; add the new \
                         member under another id (the next free one is {})",
                        self.next_id()
                    ));
                }
                if self.members.contains_key(&id) {
                    return Err(format!("node {id} is already a member"));
                }
                if ctx.peer.is_empty() {
                    return Err("a new member needs a peer address".into());
                }
                if let Some((other, _)) = self.members.iter().find(|(_, m)| {
                    m.peer == ctx.peer || (!ctx.http.is_empty() && m.http == ctx.http)
                }) {
                    return Err(format!(
                        "node {other} already uses the address {} or {}",
                        ctx.peer, ctx.http
                    ));
                }
                Ok(())
            }
            ConfChangeType::AddNode => match self.members.get(&id) {
                Some(m) if m.learner => Ok(()),
                Some(_) => Err(format!("node {id} is already a voter")),
                None => Err(format!(
                    "node {id} is not a member: add it as a learner first (kv member add)"
                )),
            },
            ConfChangeType::RemoveNode => match self.members.get(&id) {
                None => Err(format!("node {id} is not a member")),
                Some(m) if !m.learner && self.voters() == [id] => {
                    Err(format!("node {id} is the only voter; it cannot be removed"))
                }
                Some(_) => Ok(()),
            },
        }
    }

    /// Applies `cc`, which [`Membership::check`] accepted.
    pub fn apply(&mut self, cc: &ConfChange, ctx: &MemberContext) {
        let id = cc.node_id;
        match cc.change_type {
            ConfChangeType::AddLearnerNode => {
                self.members.insert(
                    id,
                    Member {
                        peer: ctx.peer.clone(),
                        http: ctx.http.clone(),
                        learner: true,
                        started: false,
                    },
                );
            }
            ConfChangeType::AddNode => {
                if let Some(m) = self.members.get_mut(&id) {
                    m.learner = false;
                }
            }
            ConfChangeType::RemoveNode => {
                self.members.remove(&id);
                self.removed.insert(id);
            }
        }
    }

    fn encode(&self, e: &mut Encoder) {
        e.u32(u32::try_from(self.members.len()).unwrap_or(u32::MAX));
        for (id, m) in &self.members {
            e.u64(*id);
            e.bytes(m.peer.as_bytes());
            e.bytes(m.http.as_bytes());
            e.bool(m.learner);
            e.bool(m.started);
        }
        let removed: Vec<u64> = self.removed.iter().copied().collect();
        e.u64s(&removed);
    }

    fn decode(d: &mut Decoder) -> Result<Membership, DecodeError> {
        let mut out = Membership::default();
        let n = d.count("member count", 18)?;
        for _ in 0..n {
            let id = d.u64("member id")?;
            let text = |d: &mut Decoder, what: &str| -> Result<String, DecodeError> {
                let b = d.bytes(what)?;
                String::from_utf8(b).map_err(|_| d.error(format!("{what} is not UTF-8")))
            };
            let peer = text(d, "peer address")?;
            let http = text(d, "http address")?;
            let learner = d.bool("learner")?;
            let started = d.bool("started")?;
            out.members.insert(
                id,
                Member {
                    peer,
                    http,
                    learner,
                    started,
                },
            );
        }
        out.removed = d.u64s("removed ids")?.into_iter().collect();
        Ok(out)
    }
}

/// What a conf change entry carries besides the change: the request that
/// proposed it, and a new member's addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberContext {
    pub id: RequestId,
    pub peer: String,
    pub http: String,
}

/// The format version of a [`MemberContext`].
const CONTEXT_VERSION: u8 = 1;

impl MemberContext {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(CONTEXT_VERSION);
        e.u64(self.id.nonce);
        e.u64(self.id.seq);
        e.bytes(self.peer.as_bytes());
        e.bytes(self.http.as_bytes());
        e.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<MemberContext, DecodeError> {
        let mut d = Decoder::new(bytes);
        let version = d.u8("context version")?;
        if version != CONTEXT_VERSION {
            return Err(d.error(format!("unknown context version {version}")));
        }
        let id = RequestId {
            nonce: d.u64("request nonce")?,
            seq: d.u64("request seq")?,
        };
        let text = |d: &mut Decoder, what: &str| -> Result<String, DecodeError> {
            let b = d.bytes(what)?;
            String::from_utf8(b).map_err(|_| d.error(format!("{what} is not UTF-8")))
        };
        let peer = text(&mut d, "peer address")?;
        let http = text(&mut d, "http address")?;
        d.finish()?;
        Ok(MemberContext { id, peer, http })
    }
}

/// How many recent request ids the map remembers to drop duplicates.
pub const DEDUP_WINDOW: usize = 20_000;

/// What applying a command did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The command ran; `existed` says whether the key held a value.
    Ran { existed: bool },
    /// A command with this id ran before: this copy changes nothing.
    Duplicate,
}

/// The key-value map every node applies the committed log to.
///
/// It also remembers the ids of the last [`DEDUP_WINDOW`] commands, so a
/// node may propose a write again after a leader change without risk of
/// applying it twice: whichever copy commits first runs, later copies are
/// skipped. Every node applies the same entries in the same order, so every
/// node skips the same copies, and the window is part of the snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The cluster's members, changed by conf change entries and
    /// [`Op::Publish`].
    pub members: Membership,
    /// Ids of the commands applied most recently, oldest first.
    recent: VecDeque<RequestId>,
    /// The same ids, to look up.
    recent_set: BTreeSet<RequestId>,
}

/// A key and its value, borrowed from the map.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// The snapshot format's version, its first byte. Version 1 had no
/// membership.
const SNAPSHOT_VERSION: u8 = 2;

impl KvStore {
    /// An empty map with this membership.
    pub fn with_members(members: Membership) -> KvStore {
        KvStore {
            members,
            ..KvStore::default()
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.map.get(key).map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The pairs whose key starts with `prefix`, in key order, at most
    /// `limit` of them; the flag says whether more were left out.
    pub fn scan_prefix(&self, prefix: &[u8], limit: usize) -> (Vec<Pair<'_>>, bool) {
        let mut out = Vec::new();
        for (k, v) in self.map.range(prefix.to_vec()..) {
            if !k.starts_with(prefix) {
                break;
            }
            if out.len() == limit {
                return (out, true);
            }
            out.push((k.as_slice(), v.as_slice()));
        }
        (out, false)
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Applies `cmd` unless a command with its id was applied recently.
    pub fn apply(&mut self, cmd: Command) -> Applied {
        if self.recent_set.contains(&cmd.id) {
            return Applied::Duplicate;
        }
        self.remember(cmd.id);
        let existed = match cmd.op {
            Op::Put { key, value } => self.map.insert(key, value).is_some(),
            Op::Delete { key } => self.map.remove(&key).is_some(),
            Op::Publish { node, http } => match self.members.members.get_mut(&node) {
                Some(m) => {
                    m.started = true;
                    m.http = String::from_utf8_lossy(&http).into_owned();
                    true
                }
                // A member removed before its publish committed.
                None => false,
            },
        };
        Applied::Ran { existed }
    }

    fn remember(&mut self, id: RequestId) {
        self.recent.push_back(id);
        self.recent_set.insert(id);
        while self.recent.len() > DEDUP_WINDOW {
            if let Some(old) = self.recent.pop_front() {
                self.recent_set.remove(&old);
            }
        }
    }

    /// The whole state as snapshot data.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(SNAPSHOT_VERSION);
        e.u64(self.map.len() as u64);
        for (k, v) in &self.map {
            e.bytes(k);
            e.bytes(v);
        }
        e.u64(self.recent.len() as u64);
        for id in &self.recent {
            e.u64(id.nonce);
            e.u64(id.seq);
        }
        self.members.encode(&mut e);
        e.buf
    }

    /// The state a snapshot holds. Empty data is the empty state.
    pub fn restore(data: &[u8]) -> Result<KvStore, DecodeError> {
        let mut kv = KvStore::default();
        if data.is_empty() {
            return Ok(kv);
        }
        let mut d = Decoder::new(data);
        let version = d.u8("snapshot version")?;
        if version != SNAPSHOT_VERSION && version != 1 {
            return Err(d.error(format!("unknown snapshot version {version}")));
        }
        let pairs = d.u64("pair count")?;
        for _ in 0..pairs {
            let k = d.bytes("key")?;
            let v = d.bytes("value")?;
            kv.map.insert(k, v);
        }
        let ids = d.u64("request id count")?;
        for _ in 0..ids {
            let nonce = d.u64("request nonce")?;
            let seq = d.u64("request seq")?;
            kv.remember(RequestId { nonce, seq });
        }
        if version >= 2 {
            kv.members = Membership::decode(&mut d)?;
        }
        d.finish()?;
        Ok(kv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        let id = RequestId { nonce: 7, seq: 9 };
        for op in [
            Op::Put {
                key: b"k".to_vec(),
                value: b"v".to_vec(),
            },
            Op::Put {
                key: b"empty".to_vec(),
                value: vec![],
            },
            Op::Delete { key: b"k".to_vec() },
        ] {
            let cmd = Command { id, op };
            assert_eq!(Command::decode(&cmd.encode()).unwrap(), cmd);
        }
        assert!(Command::decode(b"").is_err());
        assert!(Command::decode(&[9]).is_err());
    }

    fn cmd(seq: u64, op: Op) -> Command {
        Command {
            id: RequestId { nonce: 1, seq },
            op,
        }
    }

    fn put(seq: u64, k: &str, v: &str) -> Command {
        cmd(
            seq,
            Op::Put {
                key: k.as_bytes().to_vec(),
                value: v.as_bytes().to_vec(),
            },
        )
    }

    #[test]
    fn snapshot_restores_the_same_state() {
        let mut kv = KvStore::default();
        kv.apply(put(1, "a", "1"));
        kv.apply(put(2, "b", "2"));
        let del = |seq| cmd(seq, Op::Delete { key: b"a".to_vec() });
        assert_eq!(kv.apply(del(3)), Applied::Ran { existed: true });
        assert_eq!(kv.apply(del(4)), Applied::Ran { existed: false });
        let back = KvStore::restore(&kv.snapshot()).unwrap();
        assert_eq!(back, kv);
        assert_eq!(back.get(b"b"), Some(&b"2"[..]));
        assert_eq!(KvStore::restore(&[]).unwrap(), KvStore::default());
        assert!(KvStore::restore(&[1, 1, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(KvStore::restore(&[9]).is_err());
    }

    #[test]
    fn a_command_applies_once() {
        // A second copy of a command (proposed again after a leader change)
        // changes nothing, even after a snapshot round trip.
        let mut kv = KvStore::default();
        assert_eq!(kv.apply(put(1, "a", "1")), Applied::Ran { existed: false });
        kv.apply(put(2, "a", "2"));
        assert_eq!(kv.apply(put(1, "a", "1")), Applied::Duplicate);
        assert_eq!(kv.get(b"a"), Some(&b"2"[..]));
        let mut back = KvStore::restore(&kv.snapshot()).unwrap();
        assert_eq!(back.apply(put(1, "a", "1")), Applied::Duplicate);
        // The window is bounded: the oldest id is forgotten.
        for seq in 3..(DEDUP_WINDOW as u64 + 3) {
            back.apply(put(seq, "b", "x"));
        }
        assert_eq!(back.recent.len(), DEDUP_WINDOW);
        assert_eq!(back.apply(put(1, "a", "1")), Applied::Ran { existed: true });
    }

    #[test]
    fn request_ids_round_trip() {
        let id = RequestId {
            nonce: u64::MAX,
            seq: 3,
        };
        assert_eq!(RequestId::from_bytes(&id.to_bytes()), Some(id));
        assert_eq!(RequestId::from_bytes(b"short"), None);
    }

    #[test]
    fn membership_changes_are_checked_alike_everywhere() {
        // One change at a time, as every node applies it: learners first,
        // ids never used twice, never the last voter removed.
        let mut m = Membership::bootstrap(&[(1, "a:1".into()), (2, "a:2".into())]);
        let cc = |change_type, node_id| ConfChange {
            change_type,
            node_id,
            context: vec![],
        };
        let ctx = |peer: &str| MemberContext {
            peer: peer.into(),
            ..MemberContext::default()
        };
        let refused = |m: &Membership, c: ConfChange, x: &MemberContext, why: &str| {
            let err = m.check(&c, x).expect_err(why);
            assert!(err.contains(why), "{c:?}: {err}");
        };
        refused(
            &m,
            cc(ConfChangeType::AddNode, 3),
            &ctx(""),
            "add it as a learner first",
        );
        refused(
            &m,
            cc(ConfChangeType::AddLearnerNode, 3),
            &ctx(""),
            "peer address",
        );
        refused(
            &m,
            cc(ConfChangeType::AddLearnerNode, 3),
            &ctx("a:1"),
            "already uses",
        );
        refused(
            &m,
            cc(ConfChangeType::AddLearnerNode, 2),
            &ctx("a:9"),
            "already a member",
        );
        let add3 = cc(ConfChangeType::AddLearnerNode, 3);
        m.check(&add3, &ctx("a:3")).unwrap();
        m.apply(&add3, &ctx("a:3"));
        assert_eq!((m.voters(), m.learners()), (vec![1, 2], vec![3]));
        let promote = cc(ConfChangeType::AddNode, 3);
        m.check(&promote, &ctx("")).unwrap();
        m.apply(&promote, &ctx(""));
        refused(
            &m,
            cc(ConfChangeType::AddNode, 3),
            &ctx(""),
            "already a voter",
        );
        for id in [1, 2] {
            let remove = cc(ConfChangeType::RemoveNode, id);
            m.check(&remove, &ctx("")).unwrap();
            m.apply(&remove, &ctx(""));
        }
        assert_eq!(m.voters(), vec![3]);
        refused(
            &m,
            cc(ConfChangeType::RemoveNode, 3),
            &ctx(""),
            "only voter",
        );
        refused(
            &m,
            cc(ConfChangeType::RemoveNode, 1),
            &ctx(""),
            "not a member",
        );
        refused(
            &m,
            cc(ConfChangeType::AddLearnerNode, 1),
            &ctx("a:1"),
            "never used again",
        );
        assert_eq!(m.next_id(), 4);
        // The membership travels in snapshots.
        let kv = KvStore::with_members(m.clone());
        assert_eq!(KvStore::restore(&kv.snapshot()).unwrap().members, m);
    }

    #[test]
    fn prefix_scans_stop_at_the_prefix_and_the_limit() {
        let mut kv = KvStore::default();
        for (i, k) in ["a", "ab", "abc", "abd", "b"].iter().enumerate() {
            kv.apply(put(i as u64 + 1, k, "v"));
        }
        let keys = |pairs: Vec<Pair<'_>>| -> Vec<String> {
            pairs
                .iter()
                .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
                .collect()
        };
        let (pairs, more) = kv.scan_prefix(b"ab", 10);
        assert_eq!(
            (keys(pairs), more),
            (vec!["ab".into(), "abc".into(), "abd".into()], false)
        );
        let (pairs, more) = kv.scan_prefix(b"ab", 2);
        assert_eq!((keys(pairs), more), (vec!["ab".into(), "abc".into()], true));
        assert_eq!(kv.scan_prefix(b"", 100).0.len(), 5);
        assert!(kv.scan_prefix(b"c", 100).0.is_empty());
    }
}
