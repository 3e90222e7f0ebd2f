//! The grader's side of a run: the host's replies, read off its output and
//! handed to the case's code as if the nodes ran here.
//!
//! A reader thread decodes frames as the host writes them and passes them
//! on in batches; [`Replay`] takes them one op at a time, under a deadline.
//! When anything goes wrong (the host dies, hangs, or writes something that
//! is not the protocol), the replay is *broken*: every later op gets a
//! panic reply at once, so the case's code stops, and the grader reports
//! the cause instead of the case's view.

use std::io::{BufReader, Read};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use super::codec::DecodeError;
use super::op::{Driver, Op, Reply};
use super::protocol::{Frame, decode_frame, read_frame_into};
use crate::model::Seed;

/// Why a replay cannot go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// The host's output ended: it exited or was killed.
    Ended,
    /// No frame came before the deadline.
    TimedOut,
    /// The host wrote something that is not the protocol, or not what the
    /// case's code expected next.
    Protocol(String),
}

/// How many bytes of frames the reader thread hands over at most at once.
const BATCH_BYTES: usize = 1 << 16;
/// How many batches may wait to be read.
const QUEUED_BATCHES: usize = 64;

/// Whole frames, each as its 4-byte length and payload, as the host wrote
/// them. The reader thread only reads; the case's thread decodes, so the
/// replies are made and dropped on one thread.
type Batch = Result<Vec<u8>, Broken>;

/// Reads frames from `input` on a thread of its own.
fn spawn_reader(input: impl Read + Send + 'static) -> Receiver<Batch> {
    let (tx, rx) = sync_channel(QUEUED_BATCHES);
    thread::Builder::new()
        .name("raftlab-replay-reader".to_string())
        .spawn(move || read_frames(BufReader::with_capacity(1 << 16, input), &tx))
        .expect("the grader can start a thread");
    rx
}

fn read_frames(mut input: BufReader<impl Read>, tx: &SyncSender<Batch>) {
    let mut batch = Vec::new();
    let mut payload = Vec::new();
    loop {
        // Hand over what was read before a read that may block, so a frame
        // never waits for the next one to be written.
        if !batch.is_empty()
            && (batch.len() >= BATCH_BYTES || input.buffer().is_empty())
            && tx.send(Ok(std::mem::take(&mut batch))).is_err()
        {
            return;
        }
        let end = match read_frame_into(&mut input, &mut payload) {
            Ok(true) => {
                batch.extend_from_slice(&(payload.len() as u32).to_le_bytes());
                batch.extend_from_slice(&payload);
                continue;
            }
            Ok(false) => Broken::Ended,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                Broken::Protocol(e.to_string())
            }
            Err(_) => Broken::Ended,
        };
        if !batch.is_empty() {
            let _ = tx.send(Ok(std::mem::take(&mut batch)));
        }
        let _ = tx.send(Err(end));
        return;
    }
}

/// The host's frames, one at a time, under a deadline.
pub struct Replay {
    rx: Receiver<Batch>,
    /// The batch being decoded, and how far.
    pending: Vec<u8>,
    at: usize,
    deadline: Instant,
    /// Set once the replay cannot go on; sticky.
    pub broken: Option<Broken>,
    /// Library log lines the host sent, in order.
    pub logs: Vec<String>,
    /// How many ops were answered.
    pub ops: u64,
}

impl Replay {
    /// Replays what `input` (the host's standard output) carries.
    pub fn new(input: impl Read + Send + 'static) -> Replay {
        Replay {
            rx: spawn_reader(input),
            pending: Vec::new(),
            at: 0,
            deadline: Instant::now() + Duration::from_secs(3600),
            broken: None,
            logs: Vec::new(),
            ops: 0,
        }
    }

    /// From now on, the next frame must come within `limit`.
    pub fn set_limit(&mut self, limit: Duration) {
        self.deadline = Instant::now() + limit;
    }

    /// The next frame that is not a log line.
    pub fn next_frame(&mut self) -> Result<Frame, Broken> {
        loop {
            if let Some(b) = &self.broken {
                return Err(b.clone());
            }
            match self.decode_next() {
                Some(Ok(Frame::Log(line))) => self.logs.push(line),
                Some(Ok(frame)) => return Ok(frame),
                Some(Err(e)) => {
                    return Err(
                        self.break_with(Broken::Protocol(format!("a malformed frame: {e}")))
                    );
                }
                None => self.refill()?,
            }
        }
    }

    fn refill(&mut self) -> Result<(), Broken> {
        let wait = self.deadline.saturating_duration_since(Instant::now());
        let got = match self.rx.recv_timeout(wait) {
            Ok(batch) => batch,
            Err(RecvTimeoutError::Timeout) => Err(Broken::TimedOut),
            Err(RecvTimeoutError::Disconnected) => Err(Broken::Ended),
        };
        match got {
            Ok(bytes) => {
                self.pending = bytes;
                self.at = 0;
                Ok(())
            }
            Err(b) => Err(self.break_with(b)),
        }
    }

    /// The next frame of the batch, if any is left.
    fn decode_next(&mut self) -> Option<Result<Frame, DecodeError>> {
        let rest = self.pending.get(self.at..)?;
        let len: [u8; 4] = rest.get(..4)?.try_into().ok()?;
        let len = u32::from_le_bytes(len) as usize;
        // The reader thread wrote whole frames: the payload is all there.
        let payload = rest.get(4..4 + len)?;
        self.at += 4 + len;
        Some(decode_frame::<Frame>(payload))
    }

    /// Marks the replay broken (the first cause wins) and returns the cause.
    pub fn break_with(&mut self, cause: Broken) -> Broken {
        self.broken.get_or_insert(cause).clone()
    }

    /// Expects the frame that starts the run of `seed`.
    pub fn expect_begin(&mut self, seed: Seed) -> Result<(), Broken> {
        match self.next_frame()? {
            Frame::Begin { seed: s } if s == seed => Ok(()),
            other => Err(self.unexpected(&format!("Begin {{ seed: {seed} }}"), &other)),
        }
    }

    /// Expects the frame that ends a run: the host's case code returned
    /// where the grader's did. Replies the grader did not need (the host
    /// goes on where the grader's checks already stopped) are skipped, up
    /// to `max_skipped`.
    pub fn expect_end(&mut self, max_skipped: u64) -> Result<(), Broken> {
        let mut skipped = 0;
        loop {
            match self.next_frame()? {
                Frame::End => return Ok(()),
                Frame::Reply(_) if skipped < max_skipped => skipped += 1,
                other => return Err(self.unexpected("End", &other)),
            }
        }
    }

    /// Expects the frame that ends a request.
    pub fn expect_done(&mut self) -> Result<(), Broken> {
        match self.next_frame()? {
            Frame::Done => Ok(()),
            other => Err(self.unexpected("Done", &other)),
        }
    }

    fn unexpected(&mut self, want: &str, got: &Frame) -> Broken {
        let what = match got {
            Frame::Reply(r) => format!("a reply ({})", reply_kind(r)),
            other => format!("{other:?}"),
        };
        self.break_with(Broken::Protocol(format!(
            "expected {want}, the host sent {what}"
        )))
    }
}

fn reply_kind(r: &Reply) -> &'static str {
    match r {
        Reply::Done => "Done",
        Reply::Refused(_) => "Refused",
        Reply::Panicked(_) => "Panicked",
        Reply::Ready(_) => "Ready",
        Reply::State(_) => "State",
        Reply::Status(_) => "Status",
        Reply::Msgs(_) => "Msgs",
        Reply::Bool(_) => "Bool",
    }
}

/// What a broken replay answers every op with: a panic no case tolerates.
pub const BROKEN_REPLY: &str = "the host stopped answering";

impl Driver for Replay {
    fn apply(&mut self, op: &Op) -> Reply {
        let frame = match self.next_frame() {
            Ok(frame) => frame,
            Err(_) => return Reply::Panicked(BROKEN_REPLY.to_string()),
        };
        match frame {
            Frame::Reply(reply) if reply.answers(op.expects()) => {
                self.ops += 1;
                reply
            }
            other => {
                let want = format!("the reply to op #{} {}", self.ops + 1, op.label());
                self.unexpected(&want, &other);
                Reply::Panicked(BROKEN_REPLY.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::codec::Encoder;
    use crate::drive::protocol::encode_frame;

    fn stream(frames: &[Frame]) -> Replay {
        let mut e = Encoder::new();
        for f in frames {
            encode_frame(&mut e, f);
        }
        Replay::new(std::io::Cursor::new(e.buf))
    }

    #[test]
    fn replies_answer_ops_in_order_and_logs_are_kept() {
        let mut r = stream(&[
            Frame::Begin { seed: Seed(1) },
            Frame::Log("hello".to_string()),
            Frame::Reply(Reply::Done),
            Frame::Reply(Reply::Bool(true)),
            Frame::End,
        ]);
        r.expect_begin(Seed(1)).unwrap();
        assert_eq!(r.apply(&Op::Tick { id: 1, times: 1 }), Reply::Done);
        let commit = Op::Call {
            id: 1,
            call: crate::drive::op::Call::MaybeCommit,
        };
        assert_eq!(r.apply(&commit), Reply::Bool(true));
        r.expect_end(0).unwrap();
        assert_eq!(r.logs, vec!["hello".to_string()]);
        // The stream ends: every later op gets the broken reply.
        assert_eq!(
            r.apply(&Op::Tick { id: 1, times: 1 }),
            Reply::Panicked(BROKEN_REPLY.to_string())
        );
        assert_eq!(r.broken, Some(Broken::Ended));
    }

    #[test]
    fn a_reply_of_the_wrong_kind_breaks_the_replay() {
        let mut r = stream(&[Frame::Reply(Reply::Bool(true))]);
        let got = r.apply(&Op::State { id: 1 });
        assert_eq!(got, Reply::Panicked(BROKEN_REPLY.to_string()));
        assert!(matches!(r.broken, Some(Broken::Protocol(_))));
    }

    #[test]
    fn garbage_breaks_the_replay() {
        let mut r = Replay::new(std::io::Cursor::new(b"RAFTLAB PASS 100\n".to_vec()));
        assert!(r.expect_begin(Seed(0)).is_err());
        assert!(matches!(r.broken, Some(Broken::Protocol(_))));
    }

    #[test]
    fn silence_times_out() {
        // A pipe whose writer stays open and silent.
        let (reader, writer) = std::io::pipe().unwrap();
        let mut r = Replay::new(reader);
        r.set_limit(Duration::from_millis(20));
        assert_eq!(r.expect_begin(Seed(0)), Err(Broken::TimedOut));
        drop(writer);
    }
}
