//! A run as a schedule: the sequence of decisions the world took (which
//! node's clock ticked, which message the network delivered, what a client
//! proposed, which node crashed), without anything the nodes decided.
//!
//! The simulator records the schedule of a run while it traces it, and
//! replays a schedule on a fresh cluster ([`crate::sim::Sim::replay`]): the
//! nodes decide again, the checker judges again. A schedule with decisions
//! left out still replays (a delivery whose message was never sent is
//! skipped), which is what lets the grader shrink a failing run to the few
//! decisions that matter ([`crate::sim::shrink`]). The explorer writes the
//! schedules it finds in the same form.

use std::fmt;

use raftpb::{Message, NodeId};

use crate::drive::codec::{DecodeError, Decoder, Encoder, Wire};
use crate::model::event::{MsgInfo, preview};

/// One decision of the world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// One tick of a node's clock.
    Tick {
        node: NodeId,
    },
    /// The node's timer runs out: its clock ticks until it does (a
    /// follower or candidate starts an election, a leader sends its
    /// heartbeats).
    Fire {
        node: NodeId,
    },
    /// The network delivers `msg`: a message sent earlier with this very
    /// content (the oldest one not delivered yet), or failing that the
    /// oldest one not delivered with the same sender, receiver, type and
    /// term. `keep`: a copy stays on the wire (the network duplicated it).
    Deliver {
        msg: Message,
        keep: bool,
    },
    /// The network loses `msg` (found as for `Deliver`).
    Drop {
        msg: Message,
    },
    /// A client proposes `data` at `node`.
    Propose {
        node: NodeId,
        data: Vec<u8>,
    },
    /// The application makes `node` campaign now.
    Campaign {
        node: NodeId,
    },
    Crash {
        node: NodeId,
    },
    Restart {
        node: NodeId,
    },
    /// The scenario fixes `node`'s randomized election timeout.
    SetTimeout {
        node: NodeId,
        ticks: u64,
    },
}

/// The decisions of one run, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule(pub Vec<Decision>);

impl Schedule {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Decision {
    /// `fire n2`, `deliver n1→n3 MsgVote term=2 last=0@0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Tick { node } => write!(f, "tick n{node}"),
            Decision::Fire { node } => write!(f, "fire n{node}'s timer"),
            Decision::Deliver { msg, keep } => {
                write!(f, "deliver n{}→n{} {}", msg.from, msg.to, MsgInfo::of(msg))?;
                if *keep {
                    write!(f, " (a copy stays on the wire)")?;
                }
                Ok(())
            }
            Decision::Drop { msg } => {
                write!(f, "lose n{}→n{} {}", msg.from, msg.to, MsgInfo::of(msg))
            }
            Decision::Propose { node, data } => write!(f, "propose {} at n{node}", preview(data)),
            Decision::Campaign { node } => write!(f, "n{node} told to campaign"),
            Decision::Crash { node } => write!(f, "crash n{node}"),
            Decision::Restart { node } => write!(f, "restart n{node}"),
            Decision::SetTimeout { node, ticks } => {
                write!(f, "n{node}'s randomized election timeout set to {ticks}")
            }
        }
    }
}

impl Wire for Decision {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Decision::Tick { node } => {
                e.u8(0);
                e.u64(*node);
            }
            Decision::Fire { node } => {
                e.u8(1);
                e.u64(*node);
            }
            Decision::Deliver { msg, keep } => {
                e.u8(2);
                e.put(msg);
                e.bool(*keep);
            }
            Decision::Drop { msg } => {
                e.u8(3);
                e.put(msg);
            }
            Decision::Propose { node, data } => {
                e.u8(4);
                e.u64(*node);
                e.bytes(data);
            }
            Decision::Campaign { node } => {
                e.u8(5);
                e.u64(*node);
            }
            Decision::Crash { node } => {
                e.u8(6);
                e.u64(*node);
            }
            Decision::Restart { node } => {
                e.u8(7);
                e.u64(*node);
            }
            Decision::SetTimeout { node, ticks } => {
                e.u8(8);
                e.u64(*node);
                e.u64(*ticks);
            }
        }
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Decision, DecodeError> {
        Ok(match d.u8()? {
            0 => Decision::Tick { node: d.u64()? },
            1 => Decision::Fire { node: d.u64()? },
            2 => Decision::Deliver {
                msg: d.get()?,
                keep: d.bool()?,
            },
            3 => Decision::Drop { msg: d.get()? },
            4 => Decision::Propose {
                node: d.u64()?,
                data: d.bytes()?.to_vec(),
            },
            5 => Decision::Campaign { node: d.u64()? },
            6 => Decision::Crash { node: d.u64()? },
            7 => Decision::Restart { node: d.u64()? },
            8 => Decision::SetTimeout {
                node: d.u64()?,
                ticks: d.u64()?,
            },
            t => return Err(DecodeError(format!("{t} is not a decision"))),
        })
    }
}

impl Wire for Schedule {
    fn encode(&self, e: &mut Encoder) {
        e.seq(&self.0);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Schedule, DecodeError> {
        Ok(Schedule(d.seq()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raftpb::MessageType;

    #[test]
    fn schedules_round_trip_and_read_well() {
        let mut m = Message::new(MessageType::MsgVote, 1, 3);
        m.term = 2;
        let s = Schedule(vec![
            Decision::Tick { node: 1 },
            Decision::Fire { node: 2 },
            Decision::Deliver {
                msg: m.clone(),
                keep: true,
            },
            Decision::Drop { msg: m },
            Decision::Propose {
                node: 1,
                data: b"v1".to_vec(),
            },
            Decision::Campaign { node: 3 },
            Decision::Crash { node: 3 },
            Decision::Restart { node: 3 },
            Decision::SetTimeout { node: 1, ticks: 12 },
        ]);
        let mut e = Encoder::new();
        e.put(&s);
        let mut d = Decoder::new(&e.buf);
        assert_eq!(d.get::<Schedule>().unwrap(), s);
        d.finish().unwrap();
        assert_eq!(
            s.0[2].to_string(),
            "deliver n1→n3 MsgVote term=2 last=0@0 (a copy stays on the wire)"
        );
        assert_eq!(s.0[4].to_string(), "propose \"v1\" at n1");
        assert!(Decoder::new(&[9]).get::<Decision>().is_err());
    }
}
