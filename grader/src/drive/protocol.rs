//! The conversation between the grader and a host, in frames.
//!
//! ```text
//! grader                                   host (raftlab-host, the student's raft.rs)
//!                                   ◀───── Hello { version, digest }
//!   Run { case, seeds, flush } ──────────▶
//!                                   ◀───── Begin { seed }
//!                                   ◀───── Reply, Reply, Log, Reply, ...   (one per op)
//!                                   ◀───── End
//!                                   ◀───── Begin { seed } ... End          (each seed)
//!                                   ◀───── Done
//!   Quit ────────────────────────────────▶ exits
//! ```
//!
//! The host runs the case's code against the real nodes and reports what
//! every op returned; the grader runs the same code against those replies
//! and decides. The host's own view of the case is never sent: nothing it
//! says is a verdict.

use std::io::{self, Read, Write};

use super::codec::{DecodeError, Decoder, Encoder, MAX_FRAME_BYTES, Wire};
use super::op::Reply;
use super::schedule::Schedule;
use crate::model::Seed;

/// The tag of a reply frame.
pub const REPLY_TAG: u8 = 2;

/// Bumped whenever a frame's form changes.
pub const PROTOCOL_VERSION: u64 = 2;

/// What the grader asks of the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Run `case` once for each seed, in order.
    Run {
        case: String,
        seeds: Vec<Seed>,
        /// Send each reply at once instead of in batches: slower, but a
        /// crash leaves every reply before it readable.
        flush_each: bool,
        /// Replay this schedule instead of the case's own run (the grader
        /// shrinking a failure).
        schedule: Option<Schedule>,
    },
    /// Exit.
    Quit,
}

/// What the host says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The first frame: which protocol, and which grader build (a digest of
    /// the case registry), so a stale host is told apart from a hostile one.
    Hello { version: u64, digest: u64 },
    /// A run of the case starts with this seed.
    Begin { seed: Seed },
    /// What one op returned.
    Reply(Reply),
    /// A line the library logged (when logs were asked for).
    Log(String),
    /// The run's case code returned.
    End,
    /// Every seed of the request ran.
    Done,
}

impl Wire for Request {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Request::Run {
                case,
                seeds,
                flush_each,
                schedule,
            } => {
                e.u8(0);
                e.str(case);
                e.seq(seeds);
                e.bool(*flush_each);
                e.opt(schedule);
            }
            Request::Quit => e.u8(1),
        }
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Request, DecodeError> {
        match d.u8()? {
            0 => Ok(Request::Run {
                case: d.string()?,
                seeds: d.seq()?,
                flush_each: d.bool()?,
                schedule: d.opt()?,
            }),
            1 => Ok(Request::Quit),
            t => Err(DecodeError(format!("{t} is not a request"))),
        }
    }
}

impl Wire for Frame {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Frame::Hello { version, digest } => {
                e.u8(0);
                e.u64(*version);
                e.u64(*digest);
            }
            Frame::Begin { seed } => {
                e.u8(1);
                e.put(seed);
            }
            Frame::Reply(reply) => {
                e.u8(REPLY_TAG);
                reply.encode(e);
            }
            Frame::Log(line) => {
                e.u8(3);
                e.str(line);
            }
            Frame::End => e.u8(4),
            Frame::Done => e.u8(5),
        }
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Frame, DecodeError> {
        Ok(match d.u8()? {
            0 => Frame::Hello {
                version: d.u64()?,
                digest: d.u64()?,
            },
            1 => Frame::Begin { seed: d.get()? },
            REPLY_TAG => Frame::Reply(d.get()?),
            3 => Frame::Log(d.string()?),
            4 => Frame::End,
            5 => Frame::Done,
            t => return Err(DecodeError(format!("{t} is not a frame"))),
        })
    }
}

/// Appends `value` as one frame.
pub fn encode_frame<T: Wire>(e: &mut Encoder, value: &T) {
    let at = e.begin_frame();
    e.put(value);
    e.end_frame(at);
}

/// Writes `value` as one frame and flushes.
pub fn write_frame<T: Wire>(out: &mut impl Write, value: &T) -> io::Result<()> {
    let mut e = Encoder::new();
    encode_frame(&mut e, value);
    out.write_all(&e.buf)?;
    out.flush()
}

/// Reads one frame's payload: `Ok(None)` at a clean end of the stream.
pub fn read_frame_bytes(input: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut payload = Vec::new();
    Ok(read_frame_into(input, &mut payload)?.then_some(payload))
}

/// Reads one frame's payload into `payload` (reusing its room): `false`
/// at a clean end of the stream.
pub fn read_frame_into(input: &mut impl Read, payload: &mut Vec<u8>) -> io::Result<bool> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes (at most {MAX_FRAME_BYTES})"),
        ));
    }
    payload.clear();
    payload.resize(len, 0);
    input.read_exact(payload)?;
    Ok(true)
}

/// Decodes one whole frame's payload as a `T`.
pub fn decode_frame<T: Wire>(payload: &[u8]) -> Result<T, DecodeError> {
    let mut d = Decoder::new(payload);
    let value = d.get::<T>()?;
    d.finish()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_a_stream() {
        let frames = vec![
            Frame::Hello {
                version: PROTOCOL_VERSION,
                digest: 7,
            },
            Frame::Begin { seed: Seed(3) },
            Frame::Reply(Reply::Done),
            Frame::Log("n1 became candidate".to_string()),
            Frame::End,
            Frame::Done,
        ];
        let mut e = Encoder::new();
        for f in &frames {
            encode_frame(&mut e, f);
        }
        let mut input = &e.buf[..];
        let mut back = Vec::new();
        while let Some(payload) = read_frame_bytes(&mut input).unwrap() {
            back.push(decode_frame::<Frame>(&payload).unwrap());
        }
        assert_eq!(back, frames);
    }

    #[test]
    fn a_frame_with_bytes_left_over_is_refused() {
        let mut e = Encoder::new();
        e.put(&Frame::End);
        e.u8(9);
        assert!(decode_frame::<Frame>(&e.buf).is_err());
    }

    #[test]
    fn an_oversized_frame_is_refused_before_it_is_read() {
        let bytes = (MAX_FRAME_BYTES as u32 + 1).to_le_bytes();
        assert!(read_frame_bytes(&mut &bytes[..]).is_err());
    }

    #[test]
    fn requests_round_trip() {
        let r = Request::Run {
            case: "e1::x".to_string(),
            seeds: vec![Seed(1), Seed(2)],
            flush_each: true,
            schedule: Some(Schedule(vec![crate::drive::schedule::Decision::Fire {
                node: 2,
            }])),
        };
        let mut e = Encoder::new();
        e.put(&r);
        assert_eq!(decode_frame::<Request>(&e.buf).unwrap(), r);
    }
}
