//! The bytes between the grader and the host: a small binary encoding of
//! requests, replies and the records around them.
//!
//! Integers are LEB128 varints, byte strings are length-prefixed, enums are
//! one tag byte. Every frame is `[length: u32 LE][payload]`. The grader
//! reads what the host writes as untrusted input: every length is checked
//! against what is left and against a cap before anything is allocated, and
//! anything malformed is an error, never a panic.

use std::sync::Arc;

use raftpb::{
    ConfState, Entry, EntryType, HardState, Message, MessageType, ReadState, Snapshot,
    SnapshotMetadata, StateType,
};

use crate::drive::op::Reply;
use crate::model::{LogView, NodeState, ProgressState, ProgressView, ReadyView, Seed, Status};

/// The largest frame either side accepts.
pub const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// Malformed bytes: what was being read, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, DecodeError>;

fn bad<T>(what: impl Into<String>) -> Result<T> {
    Err(DecodeError(what.into()))
}

/// Appends encodings to a buffer.
#[derive(Default)]
pub struct Encoder {
    pub buf: Vec<u8>,
}

/// Reads encodings from a slice, refusing anything malformed.
pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

/// A type with a wire form.
pub trait Wire: Sized {
    fn encode(&self, e: &mut Encoder);
    fn decode(d: &mut Decoder<'_>) -> Result<Self>;
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    pub fn u64(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    pub fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    pub fn put<T: Wire>(&mut self, v: &T) {
        v.encode(self);
    }

    pub fn seq<T: Wire>(&mut self, items: &[T]) {
        self.u64(items.len() as u64);
        for item in items {
            item.encode(self);
        }
    }

    pub fn opt<T: Wire>(&mut self, v: &Option<T>) {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                x.encode(self);
            }
        }
    }

    /// Starts a frame: reserves its length, to be filled by [`Encoder::end_frame`].
    pub fn begin_frame(&mut self) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        at
    }

    /// Ends the frame begun at `at`.
    pub fn end_frame(&mut self, at: usize) {
        let len = (self.buf.len() - at - 4) as u32;
        self.buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Decoder<'a> {
        Decoder { data, pos: 0 }
    }

    /// Whether everything was read.
    pub fn is_done(&self) -> bool {
        self.pos == self.data.len()
    }

    /// Fails unless everything was read.
    pub fn finish(&self) -> Result<()> {
        if self.is_done() {
            Ok(())
        } else {
            bad(format!(
                "{} bytes left over after the end",
                self.data.len() - self.pos
            ))
        }
    }

    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn u64(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.data.get(self.pos) else {
                return bad("the data ends inside a number");
            };
            self.pos += 1;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return bad("a number wider than 64 bits");
            }
            v |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        bad("a number wider than 64 bits")
    }

    pub fn u8(&mut self) -> Result<u8> {
        let Some(&byte) = self.data.get(self.pos) else {
            return bad("the data ends early");
        };
        self.pos += 1;
        Ok(byte)
    }

    pub fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => bad(format!("{b} is not a boolean")),
        }
    }

    /// A length that must fit in what is left, at `min_size` bytes per item.
    fn len(&mut self, min_size: usize) -> Result<usize> {
        let n = self.u64()?;
        let fits = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(min_size.max(1)))
            .is_some_and(|bytes| bytes <= self.left());
        if !fits {
            return bad(format!("a length of {n} with {} bytes left", self.left()));
        }
        Ok(n as usize)
    }

    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len(1)?;
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn string(&mut self) -> Result<String> {
        match std::str::from_utf8(self.bytes()?) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => bad("text that is not UTF-8"),
        }
    }

    pub fn get<T: Wire>(&mut self) -> Result<T> {
        T::decode(self)
    }

    pub fn seq<T: Wire>(&mut self) -> Result<Vec<T>> {
        let n = self.len(1)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::decode(self)?);
        }
        Ok(out)
    }

    pub fn opt<T: Wire>(&mut self) -> Result<Option<T>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(self)?)),
            t => bad(format!("{t} is not an option tag")),
        }
    }
}

impl Wire for u64 {
    fn encode(&self, e: &mut Encoder) {
        e.u64(*self);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<u64> {
        d.u64()
    }
}

impl Wire for bool {
    fn encode(&self, e: &mut Encoder) {
        e.bool(*self);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<bool> {
        d.bool()
    }
}

impl Wire for String {
    fn encode(&self, e: &mut Encoder) {
        e.str(self);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<String> {
        d.string()
    }
}

impl Wire for Seed {
    fn encode(&self, e: &mut Encoder) {
        e.u64(self.0);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Seed> {
        Ok(Seed(d.u64()?))
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn encode(&self, e: &mut Encoder) {
        self.0.encode(e);
        self.1.encode(e);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<(A, B)> {
        Ok((A::decode(d)?, B::decode(d)?))
    }
}

/// Wire forms of fieldless enums: one byte, the variant's position in
/// `ALL`.
macro_rules! tag_enum {
    ($t:ty, [$($v:expr),+ $(,)?]) => {
        impl Wire for $t {
            fn encode(&self, e: &mut Encoder) {
                const ALL: &[$t] = &[$($v),+];
                let tag = ALL.iter().position(|x| x == self).expect("every variant is listed");
                e.u8(tag as u8);
            }
            fn decode(d: &mut Decoder<'_>) -> Result<$t> {
                const ALL: &[$t] = &[$($v),+];
                let tag = d.u8()?;
                ALL.get(tag as usize).copied().ok_or_else(|| {
                    DecodeError(format!("{tag} is not a {}", stringify!($t)))
                })
            }
        }
    };
}

tag_enum!(
    StateType,
    [
        StateType::Follower,
        StateType::Candidate,
        StateType::Leader,
        StateType::PreCandidate
    ]
);
tag_enum!(EntryType, [EntryType::Normal, EntryType::ConfChange]);
tag_enum!(
    ProgressState,
    [
        ProgressState::Probe,
        ProgressState::Replicate,
        ProgressState::Snapshot
    ]
);

impl Wire for MessageType {
    fn encode(&self, e: &mut Encoder) {
        let tag = MessageType::ALL
            .iter()
            .position(|t| t == self)
            .expect("MessageType::ALL lists every type");
        e.u8(tag as u8);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<MessageType> {
        let tag = d.u8()?;
        MessageType::ALL
            .get(tag as usize)
            .copied()
            .ok_or_else(|| DecodeError(format!("{tag} is not a message type")))
    }
}

impl Wire for Entry {
    fn encode(&self, e: &mut Encoder) {
        e.u64(self.term);
        e.u64(self.index);
        e.put(&self.entry_type);
        e.bytes(&self.data);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Entry> {
        Ok(Entry {
            term: d.u64()?,
            index: d.u64()?,
            entry_type: d.get()?,
            data: Arc::from(d.bytes()?),
        })
    }
}

impl Wire for HardState {
    fn encode(&self, e: &mut Encoder) {
        e.u64(self.term);
        e.u64(self.vote);
        e.u64(self.commit);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<HardState> {
        Ok(HardState {
            term: d.u64()?,
            vote: d.u64()?,
            commit: d.u64()?,
        })
    }
}

impl Wire for ConfState {
    fn encode(&self, e: &mut Encoder) {
        e.seq(&self.voters);
        e.seq(&self.learners);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<ConfState> {
        Ok(ConfState {
            voters: d.seq()?,
            learners: d.seq()?,
        })
    }
}

impl Wire for Snapshot {
    fn encode(&self, e: &mut Encoder) {
        e.bytes(&self.data);
        e.put(&self.metadata.conf_state);
        e.u64(self.metadata.index);
        e.u64(self.metadata.term);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Snapshot> {
        Ok(Snapshot {
            data: d.bytes()?.to_vec(),
            metadata: SnapshotMetadata {
                conf_state: d.get()?,
                index: d.u64()?,
                term: d.u64()?,
            },
        })
    }
}

impl Wire for ReadState {
    fn encode(&self, e: &mut Encoder) {
        e.u64(self.index);
        e.bytes(&self.request_ctx);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<ReadState> {
        Ok(ReadState {
            index: d.u64()?,
            request_ctx: d.bytes()?.to_vec(),
        })
    }
}

impl Wire for Message {
    fn encode(&self, e: &mut Encoder) {
        e.put(&self.msg_type);
        e.u64(self.to);
        e.u64(self.from);
        e.u64(self.term);
        e.u64(self.log_term);
        e.u64(self.index);
        e.seq(&self.entries);
        e.u64(self.commit);
        e.opt(&self.snapshot);
        e.bool(self.reject);
        e.u64(self.reject_hint);
        e.bytes(&self.context);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Message> {
        Ok(Message {
            msg_type: d.get()?,
            to: d.u64()?,
            from: d.u64()?,
            term: d.u64()?,
            log_term: d.u64()?,
            index: d.u64()?,
            entries: d.seq()?,
            commit: d.u64()?,
            snapshot: d.opt()?,
            reject: d.bool()?,
            reject_hint: d.u64()?,
            context: d.bytes()?.to_vec(),
        })
    }
}

impl Wire for ProgressView {
    fn encode(&self, e: &mut Encoder) {
        e.u64(self.matched);
        e.u64(self.next_idx);
        e.put(&self.state);
        e.u64(self.pending_snapshot);
        e.bool(self.recent_active);
        e.bool(self.probe_sent);
        e.seq(&self.inflights);
        e.bool(self.is_learner);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<ProgressView> {
        Ok(ProgressView {
            matched: d.u64()?,
            next_idx: d.u64()?,
            state: d.get()?,
            pending_snapshot: d.u64()?,
            recent_active: d.bool()?,
            probe_sent: d.bool()?,
            inflights: d.seq()?,
            is_learner: d.bool()?,
        })
    }
}

impl Wire for LogView {
    fn encode(&self, e: &mut Encoder) {
        e.u64(self.first_index);
        e.seq(&self.entries);
        e.u64(self.committed);
        e.u64(self.applied);
        e.u64(self.stabled);
        e.opt(&self.pending_snapshot);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<LogView> {
        Ok(LogView {
            first_index: d.u64()?,
            entries: d.seq()?,
            committed: d.u64()?,
            applied: d.u64()?,
            stabled: d.u64()?,
            pending_snapshot: d.opt()?,
        })
    }
}

impl Wire for NodeState {
    fn encode(&self, e: &mut Encoder) {
        e.u64(self.id);
        e.put(&self.state);
        e.u64(self.term);
        e.u64(self.vote);
        e.u64(self.lead);
        e.u64(self.lead_transferee);
        e.bool(self.is_learner);
        e.u64(self.election_elapsed);
        e.u64(self.heartbeat_elapsed);
        e.u64(self.randomized_election_timeout);
        e.put(&self.log);
        e.seq(&self.voters);
        e.seq(&self.learners);
        let progress: Vec<(u64, ProgressView)> = self
            .progress
            .iter()
            .map(|(&id, p)| (id, p.clone()))
            .collect();
        e.seq(&progress);
        let votes: Vec<(u64, bool)> = self.votes.iter().map(|(&id, &v)| (id, v)).collect();
        e.seq(&votes);
        e.u64(self.pending_conf_index);
        e.u64(self.uncommitted_size);
        e.u64(self.pending_reads);
        e.u64(self.deferred_reads);
        e.seq(&self.read_states);
        e.seq(&self.msgs);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<NodeState> {
        Ok(NodeState {
            id: d.u64()?,
            state: d.get()?,
            term: d.u64()?,
            vote: d.u64()?,
            lead: d.u64()?,
            lead_transferee: d.u64()?,
            is_learner: d.bool()?,
            election_elapsed: d.u64()?,
            heartbeat_elapsed: d.u64()?,
            randomized_election_timeout: d.u64()?,
            log: d.get()?,
            voters: d.seq()?,
            learners: d.seq()?,
            progress: d.seq::<(u64, ProgressView)>()?.into_iter().collect(),
            votes: d.seq::<(u64, bool)>()?.into_iter().collect(),
            pending_conf_index: d.u64()?,
            uncommitted_size: d.u64()?,
            pending_reads: d.u64()?,
            deferred_reads: d.u64()?,
            read_states: d.seq()?,
            msgs: d.seq()?,
        })
    }
}

impl Wire for Status {
    fn encode(&self, e: &mut Encoder) {
        e.put(&self.state);
        e.u64(self.term);
        e.u64(self.lead);
        e.u64(self.committed);
        e.u64(self.applied);
        e.u64(self.last_index);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Status> {
        Ok(Status {
            state: d.get()?,
            term: d.u64()?,
            lead: d.u64()?,
            committed: d.u64()?,
            applied: d.u64()?,
            last_index: d.u64()?,
        })
    }
}

impl Wire for ReadyView {
    fn encode(&self, e: &mut Encoder) {
        e.opt(&self.hard_state);
        e.seq(&self.entries);
        e.opt(&self.snapshot);
        e.seq(&self.committed_entries);
        e.seq(&self.messages);
        e.seq(&self.read_states);
        e.put(&self.status);
        e.opt(&self.persist_error);
    }
    fn decode(d: &mut Decoder<'_>) -> Result<ReadyView> {
        Ok(ReadyView {
            hard_state: d.opt()?,
            entries: d.seq()?,
            snapshot: d.opt()?,
            committed_entries: d.seq()?,
            messages: d.seq()?,
            read_states: d.seq()?,
            status: d.get()?,
            persist_error: d.opt()?,
        })
    }
}

impl Wire for Reply {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Reply::Done => e.u8(0),
            Reply::Refused(text) => {
                e.u8(1);
                e.str(text);
            }
            Reply::Panicked(text) => {
                e.u8(2);
                e.str(text);
            }
            Reply::Ready(ready) => {
                e.u8(3);
                match ready {
                    None => e.u8(0),
                    Some(r) => {
                        e.u8(1);
                        r.encode(e);
                    }
                }
            }
            Reply::State(state) => {
                e.u8(4);
                state.encode(e);
            }
            Reply::Status(status) => {
                e.u8(7);
                status.encode(e);
            }
            Reply::Msgs(msgs) => {
                e.u8(5);
                e.seq(msgs);
            }
            Reply::Bool(b) => {
                e.u8(6);
                e.bool(*b);
            }
        }
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Reply> {
        Ok(match d.u8()? {
            0 => Reply::Done,
            1 => Reply::Refused(d.string()?),
            2 => Reply::Panicked(d.string()?),
            3 => Reply::Ready(d.opt::<ReadyView>()?.map(Box::new)),
            4 => Reply::State(Box::new(d.get()?)),
            5 => Reply::Msgs(d.seq()?),
            6 => Reply::Bool(d.bool()?),
            7 => Reply::Status(d.get()?),
            t => return bad(format!("{t} is not a reply")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Wire + PartialEq + std::fmt::Debug>(v: &T) {
        let mut e = Encoder::new();
        e.put(v);
        let mut d = Decoder::new(&e.buf);
        assert_eq!(&d.get::<T>().unwrap(), v);
        d.finish().unwrap();
    }

    #[test]
    fn values_come_back_as_they_went() {
        for n in [0, 1, 127, 128, 300, u64::MAX] {
            round_trip(&n);
        }
        let mut m = Message::new(MessageType::MsgApp, 1, 2);
        m.term = 3;
        m.entries = vec![Entry::new(3, 4, b"x"), Entry::new(3, 5, b"")];
        m.reject = true;
        m.context = b"ctx".to_vec();
        m.snapshot = Some(Snapshot::default());
        round_trip(&m);
        let mut s = NodeState {
            id: 2,
            state: StateType::Leader,
            term: 9,
            msgs: vec![m],
            ..NodeState::default()
        };
        s.progress.insert(
            3,
            ProgressView {
                inflights: vec![4, 5],
                ..ProgressView::default()
            },
        );
        s.votes.insert(1, true);
        round_trip(&s);
        round_trip(&Reply::Panicked("at raft.rs:3".to_string()));
        round_trip(&Reply::Ready(Some(Box::new(ReadyView::default()))));
    }

    #[test]
    fn malformed_bytes_are_errors() {
        // A length far beyond the data: refused before any allocation.
        let mut e = Encoder::new();
        e.u8(5);
        e.u64(u64::MAX / 2);
        assert!(Decoder::new(&e.buf).get::<Reply>().is_err());
        // An unknown tag.
        assert!(Decoder::new(&[42]).get::<Reply>().is_err());
        // A number that never ends, and one wider than 64 bits.
        assert!(Decoder::new(&[0x80; 3]).u64().is_err());
        assert!(Decoder::new(&[0xff; 10]).u64().is_err());
        // Text that is not UTF-8.
        assert!(Decoder::new(&[1, 1, 0xff]).get::<Reply>().is_err());
    }
}
