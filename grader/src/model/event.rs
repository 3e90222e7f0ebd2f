//! What happened in a simulated run, one structured [`Event`] per change,
//! formatted to one line of text on demand:
//!
//! ```text
//! t=41 n2 follower@3 → candidate@4
//! t=41 n2→n1 MsgVote term=4 last=7@3
//! t=42 n2→n3 dropped MsgVote term=4 last=7@3 (partition)
//! t=43 n1 commit 6 → 7
//! t=50 crash n3
//! t=60 partition {1,2} | {3,4,5}
//! ```
//!
//! Events keep the numbers (ticks, node ids, message fields), not text, so a
//! timeline can be drawn from them as well as printed.

use std::fmt;

use raftpb::{Entry, EntryType, HardState, Index, Message, MessageType, NodeId, StateType, Term};

use crate::model::role_name;

/// The fields of a message that a reader of the trace cares about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgInfo {
    pub msg_type: MessageType,
    pub from: NodeId,
    pub to: NodeId,
    pub term: Term,
    pub log_term: Term,
    pub index: Index,
    pub commit: Index,
    pub reject: bool,
    pub reject_hint: Index,
    /// The entries carried, each as index, term and a short view of its data.
    pub entries: Vec<EntryInfo>,
}

/// One entry as the trace shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    pub index: Index,
    pub term: Term,
    /// The data when it is short UTF-8 (`"c12"`), else `<5000 bytes>`;
    /// empty for an empty entry.
    pub data: String,
}

impl EntryInfo {
    pub fn of(e: &Entry) -> EntryInfo {
        EntryInfo {
            index: e.index,
            term: e.term,
            data: if e.entry_type == EntryType::ConfChange {
                "conf".to_string()
            } else {
                preview(&e.data)
            },
        }
    }
}

impl fmt::Display for EntryInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.index, self.term)?;
        if !self.data.is_empty() {
            write!(f, " {}", self.data)?;
        }
        Ok(())
    }
}

/// Short data as a quoted string, anything else as its size; empty data as
/// nothing.
pub fn preview(data: &[u8]) -> String {
    if data.is_empty() {
        return String::new();
    }
    match std::str::from_utf8(data) {
        Ok(s) if s.len() <= 16 => format!("{s:?}"),
        _ => format!("<{} bytes>", data.len()),
    }
}

impl MsgInfo {
    pub fn of(m: &Message) -> MsgInfo {
        MsgInfo {
            msg_type: m.msg_type,
            from: m.from,
            to: m.to,
            term: m.term,
            log_term: m.log_term,
            index: m.index,
            commit: m.commit,
            reject: m.reject,
            reject_hint: m.reject_hint,
            entries: m.entries.iter().map(EntryInfo::of).collect(),
        }
    }
}

/// At most this many entries of a message are listed one by one.
const LISTED_ENTRIES: usize = 4;

impl fmt::Display for MsgInfo {
    /// `MsgApp term=3 prev=5@2 commit=4 entries=[6@3 "c1"]`: the type and
    /// the fields that matter for it, without the route.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use MessageType::*;
        write!(f, "{:?} term={}", self.msg_type, self.term)?;
        match self.msg_type {
            MsgVote | MsgPreVote => write!(f, " last={}@{}", self.index, self.log_term)?,
            MsgApp => write!(
                f,
                " prev={}@{} commit={}",
                self.index, self.log_term, self.commit
            )?,
            MsgAppResp if self.reject => write!(
                f,
                " reject index={} hint={}@{}",
                self.index, self.reject_hint, self.log_term
            )?,
            MsgAppResp | MsgReadIndexResp => write!(f, " index={}", self.index)?,
            MsgHeartbeat => write!(f, " commit={}", self.commit)?,
            MsgVoteResp | MsgPreVoteResp | MsgHeartbeatResp | MsgProp | MsgSnap | MsgHup
            | MsgBeat | MsgUnreachable | MsgSnapStatus | MsgCheckQuorum | MsgTransferLeader
            | MsgTimeoutNow | MsgReadIndex => {}
        }
        if self.reject && self.msg_type != MsgAppResp {
            write!(f, " reject")?;
        }
        if !self.entries.is_empty() {
            if self.entries.len() <= LISTED_ENTRIES {
                let listed: Vec<String> = self.entries.iter().map(|e| e.to_string()).collect();
                write!(f, " entries=[{}]", listed.join(", "))?;
            } else {
                let (first, last) = (&self.entries[0], &self.entries[self.entries.len() - 1]);
                write!(
                    f,
                    " entries=[{}@{} .. {}@{}] ({} entries)",
                    first.index,
                    first.term,
                    last.index,
                    last.term,
                    self.entries.len()
                )?;
            }
        }
        Ok(())
    }
}

/// Why the network did not deliver a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The global random drop rate.
    Random,
    /// The drop rate of this one link.
    Link,
    /// The link is cut (a partition, an isolation or a one-way cut).
    Cut,
    /// The receiver is crashed.
    Down,
    /// The receiver is not a node of the cluster.
    Unknown,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::Random => "random drop",
            DropReason::Link => "lossy link",
            DropReason::Cut => "partition",
            DropReason::Down => "receiver down",
            DropReason::Unknown => "unknown receiver",
        })
    }
}

/// What a proposal became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proposal {
    /// The node is the leader and appended it at this index and term.
    Appended { index: Index, term: Term },
    /// The node forwarded it to the leader it knows.
    Forwarded { to: NodeId },
    /// The node refused it (no leader known, a transfer in progress...).
    Dropped(String),
    /// The node is crashed.
    Down,
}

impl fmt::Display for Proposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proposal::Appended { index, term } => write!(f, "appended at {index}@{term}"),
            Proposal::Forwarded { to } => write!(f, "forwarded to n{to}"),
            Proposal::Dropped(why) => write!(f, "dropped: {why}"),
            Proposal::Down => write!(f, "dropped: node down"),
        }
    }
}

/// The network's random faults.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// The chance that any message is lost, in `[0, 1]`.
    pub drop_rate: f64,
    /// The chance that a message is delivered twice, in `[0, 1]`.
    pub duplicate_rate: f64,
    /// Every message waits a random `0..=max_extra_delay` ticks on top of
    /// the latency, so messages overtake one another.
    pub max_extra_delay: u64,
    /// The chance that a message is held back much longer, in `[0, 1]`:
    /// `max_extra_delay..=max_long_delay` ticks on top of the latency (a
    /// packet stuck in a queue, arriving long after newer ones).
    pub long_delay_rate: f64,
    pub max_long_delay: u64,
}

impl Faults {
    /// An unreliable network: 10% drops, 10% duplicates, up to `delay`
    /// ticks of extra delay.
    pub fn unreliable(delay: u64) -> Faults {
        Faults {
            drop_rate: 0.1,
            duplicate_rate: 0.1,
            max_extra_delay: delay,
            ..Faults::default()
        }
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Faults::default() {
            return f.write_str("reliable");
        }
        write!(
            f,
            "drop {:.0}%, duplicate {:.0}%, extra delay ≤{} ticks",
            self.drop_rate * 100.0,
            self.duplicate_rate * 100.0,
            self.max_extra_delay
        )?;
        if self.long_delay_rate > 0.0 {
            write!(
                f,
                ", {:.0}% delayed up to {} ticks",
                self.long_delay_rate * 100.0,
                self.max_long_delay
            )?;
        }
        Ok(())
    }
}

/// One thing that happened at a tick.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A node's role or term changed.
    Role {
        tick: u64,
        node: NodeId,
        from: (StateType, Term),
        to: (StateType, Term),
    },
    /// A node persisted a higher commit index.
    Commit {
        tick: u64,
        node: NodeId,
        from: Index,
        to: Index,
    },
    /// A node applied a committed entry to its state machine.
    Apply {
        tick: u64,
        node: NodeId,
        entry: EntryInfo,
    },
    /// A message left its sender; it arrives at `arrives` unless dropped.
    Send {
        tick: u64,
        msg: MsgInfo,
        arrives: u64,
    },
    /// The network made a second copy of a message.
    Duplicate {
        tick: u64,
        msg: MsgInfo,
        arrives: u64,
    },
    /// The network lost a message.
    Drop {
        tick: u64,
        msg: MsgInfo,
        reason: DropReason,
    },
    /// The test proposed `data` at `node`.
    Propose {
        tick: u64,
        node: NodeId,
        data: String,
        result: Proposal,
    },
    /// The test made `node` campaign now.
    Campaign {
        tick: u64,
        node: NodeId,
    },
    Crash {
        tick: u64,
        node: NodeId,
    },
    /// A node came back from its stable storage.
    Restart {
        tick: u64,
        node: NodeId,
        term: Term,
        commit: Index,
        last_index: Index,
    },
    /// Links between the groups are cut, both ways; links inside a group
    /// work.
    Partition {
        tick: u64,
        groups: Vec<Vec<NodeId>>,
    },
    /// Every link to and from `node` is cut.
    Isolate {
        tick: u64,
        node: NodeId,
    },
    /// Messages from `from` to `to` are lost; the other direction works.
    Cut {
        tick: u64,
        from: NodeId,
        to: NodeId,
    },
    /// The link from `from` to `to` loses messages at `rate`.
    LossyLink {
        tick: u64,
        from: NodeId,
        to: NodeId,
        rate: f64,
    },
    /// Every link and every lossy link is back to normal.
    Heal {
        tick: u64,
    },
    /// The network's random faults changed.
    Faults {
        tick: u64,
        faults: Faults,
    },
    /// A line from the scenario, saying what it does next.
    Note {
        tick: u64,
        text: String,
    },
    /// A replayed schedule delivered a message sent at `sent`.
    Deliver {
        tick: u64,
        msg: MsgInfo,
        sent: u64,
    },
    /// A node persisted entries (their terms, from index `first` on,
    /// replacing its log from there) or a hard state: what the timeline
    /// draws its logs from. Not a line of the trace.
    Persist {
        tick: u64,
        node: NodeId,
        first: Index,
        terms: Vec<Term>,
        hard_state: HardState,
    },
}

impl Event {
    /// The tick the event happened at.
    pub fn tick(&self) -> u64 {
        match self {
            Event::Role { tick, .. }
            | Event::Commit { tick, .. }
            | Event::Apply { tick, .. }
            | Event::Send { tick, .. }
            | Event::Duplicate { tick, .. }
            | Event::Drop { tick, .. }
            | Event::Propose { tick, .. }
            | Event::Campaign { tick, .. }
            | Event::Crash { tick, .. }
            | Event::Restart { tick, .. }
            | Event::Partition { tick, .. }
            | Event::Isolate { tick, .. }
            | Event::Cut { tick, .. }
            | Event::LossyLink { tick, .. }
            | Event::Heal { tick }
            | Event::Faults { tick, .. }
            | Event::Note { tick, .. }
            | Event::Deliver { tick, .. }
            | Event::Persist { tick, .. } => *tick,
        }
    }
}

/// `{1,2} | {3,4,5}`.
pub fn groups_text(groups: &[Vec<NodeId>]) -> String {
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            let ids: Vec<String> = g.iter().map(|id| id.to_string()).collect();
            format!("{{{}}}", ids.join(","))
        })
        .collect();
    parts.join(" | ")
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={} ", self.tick())?;
        match self {
            Event::Role { node, from, to, .. } => write!(
                f,
                "n{node} {}@{} → {}@{}",
                role_name(from.0),
                from.1,
                role_name(to.0),
                to.1
            ),
            Event::Commit { node, from, to, .. } => write!(f, "n{node} commit {from} → {to}"),
            Event::Apply { node, entry, .. } => write!(f, "n{node} apply {entry}"),
            Event::Send {
                tick, msg, arrives, ..
            } => {
                write!(f, "n{}→n{} {msg}", msg.from, msg.to)?;
                if *arrives > tick + 1 {
                    write!(f, " (arrives t={arrives})")?;
                }
                Ok(())
            }
            Event::Duplicate { msg, arrives, .. } => write!(
                f,
                "n{}→n{} duplicated {msg} (copy arrives t={arrives})",
                msg.from, msg.to
            ),
            Event::Drop { msg, reason, .. } => {
                write!(f, "n{}→n{} dropped {msg} ({reason})", msg.from, msg.to)
            }
            Event::Propose {
                node, data, result, ..
            } => write!(f, "propose {data} at n{node}: {result}"),
            Event::Campaign { node, .. } => write!(f, "n{node} told to campaign"),
            Event::Crash { node, .. } => write!(f, "crash n{node}"),
            Event::Restart {
                node,
                term,
                commit,
                last_index,
                ..
            } => write!(
                f,
                "restart n{node} (term {term}, commit {commit}, last index {last_index})"
            ),
            Event::Partition { groups, .. } => write!(f, "partition {}", groups_text(groups)),
            Event::Isolate { node, .. } => write!(f, "isolate n{node}"),
            Event::Cut { from, to, .. } => write!(f, "cut n{from}→n{to}"),
            Event::LossyLink { from, to, rate, .. } => {
                write!(f, "link n{from}→n{to} loses {:.0}%", rate * 100.0)
            }
            Event::Heal { .. } => write!(f, "heal: every link works"),
            Event::Faults { faults, .. } => write!(f, "network: {faults}"),
            Event::Note { text, .. } => write!(f, "-- {text}"),
            Event::Deliver { msg, sent, .. } => write!(
                f,
                "n{}→n{} delivered {msg} (sent t={sent})",
                msg.from, msg.to
            ),
            Event::Persist {
                node,
                first,
                terms,
                hard_state,
                ..
            } => {
                write!(
                    f,
                    "n{node} persisted term {} vote {} commit {}",
                    hard_state.term, hard_state.vote, hard_state.commit
                )?;
                if !terms.is_empty() {
                    let ents: Vec<String> = terms
                        .iter()
                        .enumerate()
                        .map(|(i, t)| format!("{}@{t}", first + i as u64))
                        .collect();
                    write!(f, ", entries {}", ents.join(" "))?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_like_the_design() {
        let mut m = Message::new(MessageType::MsgVote, 2, 1);
        m.term = 4;
        m.index = 7;
        m.log_term = 3;
        let send = Event::Send {
            tick: 41,
            msg: MsgInfo::of(&m),
            arrives: 42,
        };
        assert_eq!(send.to_string(), "t=41 n2→n1 MsgVote term=4 last=7@3");
        let role = Event::Role {
            tick: 41,
            node: 2,
            from: (StateType::Follower, 3),
            to: (StateType::Candidate, 4),
        };
        assert_eq!(role.to_string(), "t=41 n2 follower@3 → candidate@4");
        let part = Event::Partition {
            tick: 60,
            groups: vec![vec![1, 2], vec![3, 4, 5]],
        };
        assert_eq!(part.to_string(), "t=60 partition {1,2} | {3,4,5}");
        let commit = Event::Commit {
            tick: 43,
            node: 1,
            from: 6,
            to: 7,
        };
        assert_eq!(commit.to_string(), "t=43 n1 commit 6 → 7");
    }

    #[test]
    fn long_appends_are_summarised() {
        let mut m = Message::new(MessageType::MsgApp, 1, 2);
        m.term = 3;
        m.index = 5;
        m.log_term = 2;
        m.entries = (6..=57).map(|i| Entry::new(3, i, b"x")).collect();
        let text = MsgInfo::of(&m).to_string();
        assert_eq!(
            text,
            "MsgApp term=3 prev=5@2 commit=0 entries=[6@3 .. 57@3] (52 entries)"
        );
        m.entries.truncate(1);
        assert_eq!(
            MsgInfo::of(&m).to_string(),
            "MsgApp term=3 prev=5@2 commit=0 entries=[6@3 \"x\"]"
        );
    }
}
