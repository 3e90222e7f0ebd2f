//! The safety invariants of Raft, checked after every event of a run.
//!
//! The simulator tells the [`Checker`] what each node does, as it does it:
//! entries and hard states it persists, messages it sends, entries it
//! applies, roles it takes, crashes. The checker keeps just enough history
//! to judge each report in time proportional to the report itself (never a
//! rescan of whole logs), and names the first broken invariant with the
//! tick, the nodes, the term and the index:
//!
//! ```text
//! t=812: state machine safety: n2 applied 7@3 "c12" but n4 applied 7@4 "c15"
//! ```
//!
//! | invariant | how it is checked |
//! |---|---|
//! | election safety (§5.2): at most one leader per term | the leader of every term of the run |
//! | log matching (§5.3) | every entry ever persisted, by (index, term), with a hash of the log up to it |
//! | entries are deleted only after a conflict (§5.3) | each persisted batch against the log it overwrites |
//! | leader completeness (§5.4) | a new leader's log holds the committed prefix, compared by hash |
//! | state machine safety (§5.4.3) | the entry committed and applied at every index, first come |
//! | terms and commit indexes never go back | the last persisted hard state of each node, across restarts |
//! | one vote per term (§5.2) | every vote granted, by (node, term), and the vote persisted before it |
//! | applied never goes back, no gaps | what each incarnation of a node applied |
//! | only proposed data is applied | a hash of every proposal |

use std::collections::{BTreeMap, BTreeSet};

use raftpb::{
    Entry, EntryType, HardState, Index, Message, MessageType, NONE, NodeId, StateType, Term,
};

use crate::model::Failure;
use crate::model::event::preview;
pub use crate::model::mix;

/// One entry of a node's persisted log: its term, and a hash of the whole
/// log up to and including it, so two logs compare in O(1) at any index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    term: Term,
    prefix: u64,
}

/// Who first persisted an entry, and what its log looked like up to there.
#[derive(Clone, Copy, Debug)]
struct FirstHolder {
    prefix: u64,
    node: NodeId,
    tick: u64,
}

/// An index known to be committed.
#[derive(Clone, Copy, Debug)]
struct CommittedSlot {
    term: Term,
    prefix: u64,
    /// The node whose commit index first covered it, and when.
    node: NodeId,
    tick: u64,
}

/// The entry applied at an index, as first applied by anyone.
#[derive(Clone, Debug)]
struct AppliedSlot {
    term: Term,
    data_hash: u64,
    data: String,
    node: NodeId,
    tick: u64,
}

/// The invariant checker of one run.
#[derive(Default)]
pub struct Checker {
    /// The leader of each term, and the tick it won.
    leaders: BTreeMap<Term, (NodeId, u64)>,
    /// Each node's persisted log, index `i` at position `i - 1`. Survives
    /// crashes, like the storage it mirrors.
    logs: BTreeMap<NodeId, Vec<Slot>>,
    /// Every entry any node ever persisted, by (index, term).
    first_holders: BTreeMap<(Index, Term), FirstHolder>,
    /// The committed prefix of the run, index `i` at position `i - 1`.
    committed: Vec<CommittedSlot>,
    /// For each term, the highest commit index a node persisted while in it.
    commit_in_term: BTreeMap<Term, Index>,
    /// The entry applied at each index, index `i` at position `i - 1`.
    applied: Vec<AppliedSlot>,
    /// Each node's last persisted hard state.
    hard_states: BTreeMap<NodeId, HardState>,
    /// Each vote granted: (voter, term) → candidate.
    grants: BTreeMap<(NodeId, Term), NodeId>,
    /// What each node applied in its current incarnation.
    applied_upto: BTreeMap<NodeId, Index>,
    /// Hashes of everything the test proposed.
    proposed: BTreeSet<u64>,
}

fn violation(now: u64, invariant: &str, what: String) -> Failure {
    Failure::new(format!("t={now}: {invariant}: {what}"))
}

/// A hash of some bytes, eight at a time.
pub fn hash_bytes(data: &[u8]) -> u64 {
    let mut h = mix(0x5241_4654_4C41_4221, data.len() as u64);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix(h, u64::from_le_bytes(w));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    mix(h, u64::from_le_bytes(tail))
}

/// The hash of an entry's content.
fn entry_hash(e: &Entry) -> u64 {
    let kind = match e.entry_type {
        EntryType::Normal => 0,
        EntryType::ConfChange => 1,
    };
    mix(hash_bytes(&e.data), kind)
}

fn describe_entry(index: Index, term: Term, data: &str) -> String {
    if data.is_empty() {
        format!("{index}@{term}")
    } else {
        format!("{index}@{term} {data}")
    }
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    /// The test proposed `data`: applying it is legitimate from now on.
    pub fn on_propose(&mut self, data: &[u8]) {
        self.proposed.insert(hash_bytes(data));
    }

    /// `node` persisted `ents` (contiguous), replacing its log from the
    /// first of them on. Log matching (§5.3): an entry at an index and term
    /// that anyone ever held must have the very same log below it.
    pub fn on_persist_entries(
        &mut self,
        node: NodeId,
        ents: &[Entry],
        now: u64,
    ) -> Result<(), Failure> {
        let Some(first) = ents.first() else {
            return Ok(());
        };
        let log = self.logs.entry(node).or_default();
        let held = log.len() as u64;
        if first.index == 0 || first.index > held + 1 {
            return Err(violation(
                now,
                "log continuity",
                format!(
                    "n{node} persisted entries from index {} but its log ends at {held}",
                    first.index
                ),
            ));
        }
        // Entries up to the commit index may be rewritten only with
        // themselves (§5.4.3): a stale or repeated append is no conflict.
        let commit = self.hard_states.get(&node).map_or(0, |hs| hs.commit);
        let last_new = first.index + ents.len() as u64 - 1;
        for k in first.index..=commit.min(held).min(last_new) {
            let (old, new) = (
                log[(k - 1) as usize].term,
                ents[(k - first.index) as usize].term,
            );
            if old != new {
                return Err(violation(
                    now,
                    "committed entries are final",
                    format!(
                        "n{node} overwrote its committed entry {k}@{old} with {k}@{new} (its commit index is {commit})"
                    ),
                ));
            }
        }
        // §5.3: "If an existing entry conflicts with a new one (same index
        // but different terms), delete the existing entry and all that
        // follow it": without a conflict nothing may be deleted, however
        // stale or repeated the append.
        let overlap_end = held.min(last_new);
        let conflict = (first.index..=overlap_end)
            .any(|k| log[(k - 1) as usize].term != ents[(k - first.index) as usize].term);
        if !conflict && last_new < held {
            return Err(violation(
                now,
                "no truncation without a conflict",
                format!(
                    "n{node} persisted entries {}..={last_new}, all matching its log, and dropped its entries {}..={held} with them",
                    first.index,
                    last_new + 1
                ),
            ));
        }
        log.truncate((first.index - 1) as usize);
        let mut prefix = log.last().map_or(0, |s| s.prefix);
        let mut prev_term = log.last().map_or(0, |s| s.term);
        for (i, e) in ents.iter().enumerate() {
            let want = first.index + i as u64;
            if e.index != want {
                return Err(violation(
                    now,
                    "log continuity",
                    format!(
                        "n{node} persisted entry {}@{} where index {want} belongs",
                        e.index, e.term
                    ),
                ));
            }
            if e.term < prev_term {
                return Err(violation(
                    now,
                    "log terms never decrease",
                    format!(
                        "n{node} persisted {}@{} after an entry of term {prev_term}",
                        e.index, e.term
                    ),
                ));
            }
            prev_term = e.term;
            prefix = mix(mix(prefix, e.term), entry_hash(e));
            log.push(Slot {
                term: e.term,
                prefix,
            });
            match self.first_holders.get(&(e.index, e.term)) {
                None => {
                    self.first_holders.insert(
                        (e.index, e.term),
                        FirstHolder {
                            prefix,
                            node,
                            tick: now,
                        },
                    );
                }
                Some(h) if h.prefix != prefix => {
                    let (other, since) = (h.node, h.tick);
                    let mut where_ = String::new();
                    if let Some(other_log) = self.logs.get(&other) {
                        let mine = &self.logs[&node];
                        let upto = (e.index as usize).min(other_log.len());
                        if let Some(d) = (0..upto).find(|&k| other_log[k].prefix != mine[k].prefix)
                        {
                            let (a, b) = (other_log[d], mine[d]);
                            where_ = format!(
                                "; they first differ at index {}: n{other} holds {}@{}, n{node} holds {}@{}",
                                d + 1,
                                d + 1,
                                a.term,
                                d + 1,
                                b.term
                            );
                        }
                    }
                    return Err(violation(
                        now,
                        "log matching",
                        format!(
                            "n{node} and n{other} (at t={since}) both persisted {}@{}, but their logs up to index {} differ{where_}",
                            e.index, e.term, e.index
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// `node` persisted `hs`. Terms and commit indexes never go back, a
    /// vote is never changed within its term (§5.2), and every committed
    /// entry is the one committed before at its index (§5.4.3).
    pub fn on_hard_state(&mut self, node: NodeId, hs: HardState, now: u64) -> Result<(), Failure> {
        let prev = self.hard_states.get(&node).copied().unwrap_or_default();
        if hs.term < prev.term {
            return Err(violation(
                now,
                "terms never go back",
                format!(
                    "n{node} persisted term {} after term {}",
                    hs.term, prev.term
                ),
            ));
        }
        if hs.commit < prev.commit {
            return Err(violation(
                now,
                "commit never goes back",
                format!(
                    "n{node} persisted commit index {} after {}",
                    hs.commit, prev.commit
                ),
            ));
        }
        if hs.term == prev.term && prev.vote != NONE && hs.vote != prev.vote {
            return Err(violation(
                now,
                "one vote per term",
                format!(
                    "n{node} changed its persisted vote in term {} from n{} to {}",
                    hs.term,
                    prev.vote,
                    if hs.vote == NONE {
                        "nobody".to_string()
                    } else {
                        format!("n{}", hs.vote)
                    }
                ),
            ));
        }
        self.hard_states.insert(node, hs);
        if hs.commit > prev.commit {
            self.on_commit(node, hs.commit, hs.term, now)?;
        }
        Ok(())
    }

    /// `node`'s commit index reached `commit` while in `term`.
    fn on_commit(
        &mut self,
        node: NodeId,
        commit: Index,
        term: Term,
        now: u64,
    ) -> Result<(), Failure> {
        let log = self.logs.get(&node).map(Vec::as_slice).unwrap_or_default();
        if commit > log.len() as u64 {
            return Err(violation(
                now,
                "commit within the log",
                format!(
                    "n{node} persisted commit index {commit} but its log ends at {}",
                    log.len()
                ),
            ));
        }
        let known = self.committed.len() as u64;
        // One comparison covers the whole prefix up to `commit`, thanks to
        // the prefix hashes.
        let check_at = commit.min(known);
        if check_at > 0 {
            let mine = log[(check_at - 1) as usize];
            let c = self.committed[(check_at - 1) as usize];
            if mine.prefix != c.prefix {
                let d = (0..check_at as usize)
                    .find(|&k| log[k].prefix != self.committed[k].prefix)
                    .unwrap_or(check_at as usize - 1);
                let first = self.committed[d];
                return Err(violation(
                    now,
                    "state machine safety",
                    format!(
                        "n{node} committed {}@{} but {}@{} was committed before (n{} at t={})",
                        d + 1,
                        log[d].term,
                        d + 1,
                        first.term,
                        first.node,
                        first.tick
                    ),
                ));
            }
        }
        for i in known..commit {
            let s = log[i as usize];
            self.committed.push(CommittedSlot {
                term: s.term,
                prefix: s.prefix,
                node,
                tick: now,
            });
        }
        let slot = self.commit_in_term.entry(term).or_default();
        *slot = (*slot).max(commit);
        Ok(())
    }

    /// `node` sent `m`. A granted vote must be the node's only vote in its
    /// term, and persisted before the grant went out (§5.2, Figure 2).
    pub fn on_send(&mut self, m: &Message, now: u64) -> Result<(), Failure> {
        if m.msg_type != MessageType::MsgVoteResp || m.reject {
            return Ok(());
        }
        let (voter, candidate, term) = (m.from, m.to, m.term);
        if let Some(&before) = self.grants.get(&(voter, term)) {
            if before != candidate {
                return Err(violation(
                    now,
                    "one vote per term",
                    format!(
                        "n{voter} granted its vote in term {term} to n{before} and then to n{candidate}"
                    ),
                ));
            }
        } else {
            self.grants.insert((voter, term), candidate);
        }
        let hs = self.hard_states.get(&voter).copied().unwrap_or_default();
        if hs.term != term || hs.vote != candidate {
            return Err(violation(
                now,
                "votes are persisted",
                format!(
                    "n{voter} granted its vote in term {term} to n{candidate}, but its persisted state says term {}, vote {}",
                    hs.term,
                    if hs.vote == NONE {
                        "none".to_string()
                    } else {
                        format!("n{}", hs.vote)
                    }
                ),
            ));
        }
        Ok(())
    }

    /// `node` applied `e` to its state machine.
    pub fn on_apply(&mut self, node: NodeId, e: &Entry, now: u64) -> Result<(), Failure> {
        let upto = self.applied_upto.entry(node).or_default();
        if e.index != *upto + 1 {
            return Err(violation(
                now,
                "entries are applied in order",
                format!(
                    "n{node} applied {}@{} after applying up to index {}",
                    e.index, e.term, *upto
                ),
            ));
        }
        *upto = e.index;
        let commit = self.hard_states.get(&node).map_or(0, |hs| hs.commit);
        if e.index > commit {
            return Err(violation(
                now,
                "only committed entries are applied",
                format!(
                    "n{node} applied {}@{} but its persisted commit index is {commit}",
                    e.index, e.term
                ),
            ));
        }
        let data_hash = entry_hash(e);
        let at = (e.index - 1) as usize;
        match self.applied.get(at) {
            Some(first) => {
                if first.term != e.term || first.data_hash != data_hash {
                    return Err(violation(
                        now,
                        "state machine safety",
                        format!(
                            "n{} applied {} (t={}) but n{node} applied {}",
                            first.node,
                            describe_entry(e.index, first.term, &first.data),
                            first.tick,
                            describe_entry(e.index, e.term, &preview(&e.data))
                        ),
                    ));
                }
            }
            None => self.applied.push(AppliedSlot {
                term: e.term,
                data_hash,
                data: preview(&e.data),
                node,
                tick: now,
            }),
        }
        let proposed = e.entry_type == EntryType::Normal
            && (e.data.is_empty() || self.proposed.contains(&hash_bytes(&e.data)));
        if !proposed {
            return Err(violation(
                now,
                "only proposed data is applied",
                format!(
                    "n{node} applied {}{}, which the test never proposed",
                    describe_entry(e.index, e.term, &preview(&e.data)),
                    if e.entry_type == EntryType::ConfChange {
                        " (a configuration change)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        Ok(())
    }

    /// `node` is now `state` in `term`. A new leader must be the only one
    /// of its term (§5.2) and hold every entry committed in earlier terms
    /// (§5.4.1).
    pub fn on_role(
        &mut self,
        node: NodeId,
        state: StateType,
        term: Term,
        now: u64,
    ) -> Result<(), Failure> {
        if state != StateType::Leader {
            return Ok(());
        }
        match self.leaders.get(&term) {
            Some(&(other, since)) if other != node => {
                return Err(violation(
                    now,
                    "election safety",
                    format!(
                        "n{node} and n{other} (since t={since}) are both leaders of term {term}"
                    ),
                ));
            }
            Some(_) => return Ok(()),
            None => {
                self.leaders.insert(term, (node, now));
            }
        }
        // Entries committed by a node of an earlier term were committed in
        // an earlier term; a commit seen in this very term may be this
        // leader's own future work, so it does not count.
        let need = self
            .commit_in_term
            .range(..term)
            .map(|(_, &i)| i)
            .max()
            .unwrap_or(0);
        if need == 0 {
            return Ok(());
        }
        let c = self.committed[(need - 1) as usize];
        let log = self.logs.get(&node).map(Vec::as_slice).unwrap_or_default();
        let holds = log
            .get((need - 1) as usize)
            .is_some_and(|s| s.prefix == c.prefix);
        if !holds {
            let d = (0..need as usize)
                .find(|&k| {
                    log.get(k)
                        .is_none_or(|s| s.prefix != self.committed[k].prefix)
                })
                .unwrap_or(0);
            let has = match log.get(d) {
                Some(s) => format!("{}@{}", d + 1, s.term),
                None => format!("nothing at index {}", d + 1),
            };
            return Err(violation(
                now,
                "leader completeness",
                format!(
                    "n{node} became leader of term {term} with {has}, but {}@{} was committed (n{} at t={})",
                    d + 1,
                    self.committed[d].term,
                    self.committed[d].node,
                    self.committed[d].tick
                ),
            ));
        }
        Ok(())
    }

    /// `node` crashed: its state machine is gone, its storage is not.
    pub fn on_crash(&mut self, node: NodeId) {
        self.applied_upto.insert(node, 0);
    }

    /// The term of `node`'s persisted entry at `index`, 0 if it has none.
    pub fn log_term(&self, node: NodeId, index: Index) -> Term {
        index
            .checked_sub(1)
            .and_then(|i| self.logs.get(&node)?.get(i as usize))
            .map_or(0, |s| s.term)
    }

    /// The leader of every term so far, with the tick it won.
    pub fn leaders(&self) -> &BTreeMap<Term, (NodeId, u64)> {
        &self.leaders
    }

    /// The highest index any node has committed.
    pub fn committed_index(&self) -> Index {
        self.committed.len() as u64
    }

    /// The highest index any node has applied.
    pub fn applied_index(&self) -> Index {
        self.applied.len() as u64
    }

    /// The term of the entry applied at `index`, if anyone applied it.
    pub fn applied_term(&self, index: Index) -> Option<Term> {
        index
            .checked_sub(1)
            .and_then(|i| self.applied.get(i as usize))
            .map(|s| s.term)
    }
}
