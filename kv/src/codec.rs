//! The bytes the server writes to disk and to peers: a small hand-written
//! binary format for RaftLab's plain Rust types (entries, hard state,
//! snapshots, messages).
//!
//! Everything is little-endian; a byte string is its length as a `u32`
//! followed by the bytes; a list is its count as a `u32` followed by the
//! items. Decoding never trusts a length: each one is checked against the
//! bytes that are left before anything is allocated, so a corrupt disk
//! record or a hostile peer gets a [`DecodeError`], never a panic or a
//! huge allocation.

use std::fmt;

use raft::{
    ConfState, Entry, EntryType, HardState, Message, MessageType, Snapshot, SnapshotMetadata,
};

/// Why some bytes did not decode: what was being read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The byte offset in the input at which decoding failed.
    pub offset: usize,
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for DecodeError {}

/// Appends encoded values to a buffer.
#[derive(Default)]
pub struct Encoder {
    pub buf: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    /// A length-prefixed byte string. Panics past 4 GiB: nothing the server
    /// builds is that large (requests and frames are capped far below).
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(len_u32(v.len()));
        self.buf.extend_from_slice(v);
    }

    pub fn u64s(&mut self, v: &[u64]) {
        self.u32(len_u32(v.len()));
        for &x in v {
            self.u64(x);
        }
    }
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or_else(|_| panic!("{len} bytes do not fit a u32 length"))
}

/// Reads encoded values from a byte slice, front to back.
pub struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(input: &'a [u8]) -> Decoder<'a> {
        Decoder { input, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    pub fn error(&self, reason: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.pos,
            reason: reason.into(),
        }
    }

    /// Fails unless every byte was read: trailing garbage means the writer
    /// and the reader disagree on the format.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() != 0 {
            return Err(self.error(format!("{} unexpected trailing bytes", self.remaining())));
        }
        Ok(())
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.error(format!(
                "{what} needs {n} bytes, only {} left",
                self.remaining()
            )));
        }
        let out = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self, what: &str) -> Result<u64, DecodeError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub fn bool(&mut self, what: &str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(self.error(format!("{what}: {b} is not a boolean"))),
        }
    }

    pub fn bytes(&mut self, what: &str) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32(what)? as usize;
        Ok(self.take(len, what)?.to_vec())
    }

    /// A list count, checked against the bytes left given that each item
    /// takes at least `min_item_size` bytes.
    pub fn count(&mut self, what: &str, min_item_size: usize) -> Result<usize, DecodeError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_item_size) > self.remaining() {
            return Err(self.error(format!(
                "{what}: {n} items cannot fit in the {} bytes left",
                self.remaining()
            )));
        }
        Ok(n)
    }

    pub fn u64s(&mut self, what: &str) -> Result<Vec<u64>, DecodeError> {
        let n = self.count(what, 8)?;
        (0..n).map(|_| self.u64(what)).collect()
    }
}

pub fn put_entry(e: &mut Encoder, entry: &Entry) {
    e.u64(entry.term);
    e.u64(entry.index);
    e.u8(match entry.entry_type {
        EntryType::Normal => 0,
        EntryType::ConfChange => 1,
    });
    e.bytes(&entry.data);
}

/// The smallest encoded entry: term, index, type, empty data.
const MIN_ENTRY_SIZE: usize = 8 + 8 + 1 + 4;

pub fn get_entry(d: &mut Decoder) -> Result<Entry, DecodeError> {
    let term = d.u64("entry term")?;
    let index = d.u64("entry index")?;
    let entry_type = match d.u8("entry type")? {
        0 => EntryType::Normal,
        1 => EntryType::ConfChange,
        t => return Err(d.error(format!("unknown entry type {t}"))),
    };
    let data = d.bytes("entry data")?;
    Ok(Entry {
        term,
        index,
        entry_type,
        data: data.into(),
    })
}

pub fn put_entries(e: &mut Encoder, entries: &[Entry]) {
    e.u32(len_u32(entries.len()));
    for entry in entries {
        put_entry(e, entry);
    }
}

pub fn get_entries(d: &mut Decoder) -> Result<Vec<Entry>, DecodeError> {
    let n = d.count("entry count", MIN_ENTRY_SIZE)?;
    (0..n).map(|_| get_entry(d)).collect()
}

pub fn put_hard_state(e: &mut Encoder, hs: &HardState) {
    e.u64(hs.term);
    e.u64(hs.vote);
    e.u64(hs.commit);
}

pub fn get_hard_state(d: &mut Decoder) -> Result<HardState, DecodeError> {
    Ok(HardState {
        term: d.u64("hard state term")?,
        vote: d.u64("hard state vote")?,
        commit: d.u64("hard state commit")?,
    })
}

pub fn put_conf_state(e: &mut Encoder, cs: &ConfState) {
    e.u64s(&cs.voters);
    e.u64s(&cs.learners);
}

pub fn get_conf_state(d: &mut Decoder) -> Result<ConfState, DecodeError> {
    Ok(ConfState {
        voters: d.u64s("voters")?,
        learners: d.u64s("learners")?,
    })
}

pub fn put_snapshot(e: &mut Encoder, s: &Snapshot) {
    e.u64(s.metadata.index);
    e.u64(s.metadata.term);
    put_conf_state(e, &s.metadata.conf_state);
    e.bytes(&s.data);
}

pub fn get_snapshot(d: &mut Decoder) -> Result<Snapshot, DecodeError> {
    let index = d.u64("snapshot index")?;
    let term = d.u64("snapshot term")?;
    let conf_state = get_conf_state(d)?;
    let data = d.bytes("snapshot data")?;
    Ok(Snapshot {
        data,
        metadata: SnapshotMetadata {
            conf_state,
            index,
            term,
        },
    })
}

/// A message as it crosses the network between two nodes.
pub fn encode_message(m: &Message) -> Vec<u8> {
    let mut e = Encoder::new();
    let type_index = MessageType::ALL
        .iter()
        .position(|&t| t == m.msg_type)
        .unwrap_or_else(|| panic!("{:?} is missing from MessageType::ALL", m.msg_type));
    e.u8(type_index as u8);
    e.u64(m.to);
    e.u64(m.from);
    e.u64(m.term);
    e.u64(m.log_term);
    e.u64(m.index);
    put_entries(&mut e, &m.entries);
    e.u64(m.commit);
    match &m.snapshot {
        Some(s) => {
            e.u8(1);
            put_snapshot(&mut e, s);
        }
        None => e.u8(0),
    }
    e.bool(m.reject);
    e.u64(m.reject_hint);
    e.bytes(&m.context);
    e.buf
}

/// Decodes what [`encode_message`] wrote; anything else is an error.
pub fn decode_message(bytes: &[u8]) -> Result<Message, DecodeError> {
    let mut d = Decoder::new(bytes);
    let t = d.u8("message type")? as usize;
    let Some(&msg_type) = MessageType::ALL.get(t) else {
        return Err(d.error(format!("unknown message type {t}")));
    };
    let to = d.u64("to")?;
    let from = d.u64("from")?;
    let term = d.u64("term")?;
    let log_term = d.u64("log_term")?;
    let index = d.u64("index")?;
    let entries = get_entries(&mut d)?;
    let commit = d.u64("commit")?;
    let snapshot = match d.u8("snapshot flag")? {
        0 => None,
        1 => Some(get_snapshot(&mut d)?),
        f => return Err(d.error(format!("snapshot flag {f} is neither 0 nor 1"))),
    };
    let reject = d.bool("reject")?;
    let reject_hint = d.u64("reject_hint")?;
    let context = d.bytes("context")?;
    d.finish()?;
    Ok(Message {
        msg_type,
        to,
        from,
        term,
        log_term,
        index,
        entries,
        commit,
        snapshot,
        reject,
        reject_hint,
        context,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_message() -> Message {
        Message {
            msg_type: MessageType::MsgSnap,
            to: 2,
            from: 1,
            term: 7,
            log_term: 6,
            index: 41,
            entries: vec![
                Entry::new(6, 42, b"put"),
                Entry {
                    term: 7,
                    index: 43,
                    entry_type: EntryType::ConfChange,
                    data: [1, 2, 3].into(),
                },
            ],
            commit: 40,
            snapshot: Some(Snapshot {
                data: b"state".to_vec(),
                metadata: SnapshotMetadata {
                    conf_state: ConfState {
                        voters: vec![1, 2, 3],
                        learners: vec![4],
                    },
                    index: 40,
                    term: 5,
                },
            }),
            reject: true,
            reject_hint: 9,
            context: b"ctx".to_vec(),
        }
    }

    #[test]
    fn messages_round_trip() {
        // Every field survives, for every message type.
        for t in MessageType::ALL {
            let mut m = full_message();
            m.msg_type = t;
            let got = decode_message(&encode_message(&m)).unwrap();
            assert_eq!(got, m, "{t:?}");
        }
        let plain = Message::new(MessageType::MsgHeartbeat, 3, 1);
        assert_eq!(decode_message(&encode_message(&plain)).unwrap(), plain);
    }

    #[test]
    fn every_truncation_is_an_error() {
        // A message cut anywhere never decodes, and never panics.
        let bytes = encode_message(&full_message());
        for len in 0..bytes.len() {
            assert!(
                decode_message(&bytes[..len]).is_err(),
                "a message cut to {len} of {} bytes decoded",
                bytes.len()
            );
        }
    }

    #[test]
    fn absurd_lengths_are_refused_before_allocating() {
        // A count of four billion entries in a 30-byte input is refused.
        let mut e = Encoder::new();
        e.u8(3);
        for _ in 0..5 {
            e.u64(1);
        }
        e.u32(u32::MAX);
        let err = decode_message(&e.buf).unwrap_err();
        assert!(err.reason.contains("cannot fit"), "{err}");
    }

    #[test]
    fn trailing_bytes_and_unknown_types_are_errors() {
        let mut bytes = encode_message(&full_message());
        bytes.push(0);
        assert!(
            decode_message(&bytes)
                .unwrap_err()
                .reason
                .contains("trailing")
        );
        let mut bytes = encode_message(&full_message());
        bytes[0] = 200;
        assert!(
            decode_message(&bytes)
                .unwrap_err()
                .reason
                .contains("unknown message type")
        );
    }
}
