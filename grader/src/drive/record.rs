//! The host's side of a run: each op done for real, and its reply written
//! out for the grader.

use std::io::{self, Write};

use super::codec::{Encoder, Wire};
use super::op::{Driver, Op, Reply};
use super::protocol::{Frame, encode_frame};

/// Replies are written out once this many bytes are waiting.
const FLUSH_BYTES: usize = 1 << 16;

/// Where frames go: a buffer in front of the host's protocol output.
pub struct Outbox<W: Write> {
    out: W,
    buf: Encoder,
    /// Write every frame at once.
    pub flush_each: bool,
    /// The output failed (the grader is gone): the host stops.
    pub failed: bool,
}

impl<W: Write> Outbox<W> {
    pub fn new(out: W) -> Outbox<W> {
        Outbox {
            out,
            buf: Encoder::new(),
            flush_each: false,
            failed: false,
        }
    }

    /// Queues `frame`, writing the queue out when it is long enough.
    pub fn push(&mut self, frame: &Frame) {
        encode_frame(&mut self.buf, frame);
        if self.flush_each || self.buf.buf.len() >= FLUSH_BYTES {
            self.flush();
        }
    }

    /// Queues the reply frame of `reply` (the same bytes as
    /// `push(&Frame::Reply(reply))`, without copying the reply).
    pub fn push_reply(&mut self, reply: &Reply) {
        let at = self.buf.begin_frame();
        self.buf.u8(super::protocol::REPLY_TAG);
        reply.encode(&mut self.buf);
        self.buf.end_frame(at);
        if self.flush_each || self.buf.buf.len() >= FLUSH_BYTES {
            self.flush();
        }
    }

    /// Writes out everything queued.
    pub fn flush(&mut self) {
        if self.buf.buf.is_empty() {
            return;
        }
        let result: io::Result<()> = self
            .out
            .write_all(&self.buf.buf)
            .and_then(|()| self.out.flush());
        self.buf.buf.clear();
        if result.is_err() {
            self.failed = true;
        }
    }
}

/// Runs ops on `inner` and sends each reply, after the log lines the op
/// produced.
pub struct Record<'a, W: Write> {
    pub inner: &'a mut dyn Driver,
    pub outbox: &'a mut Outbox<W>,
    /// Takes the log lines written since the last call, if logs are on.
    pub logs: Option<&'a dyn Fn() -> Vec<String>>,
}

impl<W: Write> Driver for Record<'_, W> {
    fn apply(&mut self, op: &Op) -> Reply {
        let reply = self.inner.apply(op);
        if let Some(take) = self.logs {
            for line in take() {
                self.outbox.push(&Frame::Log(line));
            }
        }
        self.outbox.push_reply(&reply);
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::protocol::{decode_frame, read_frame_bytes};

    struct Echo;
    impl Driver for Echo {
        fn apply(&mut self, _: &Op) -> Reply {
            Reply::Bool(false)
        }
    }

    #[test]
    fn replies_are_written_as_frames_after_their_logs() {
        let mut outbox = Outbox::new(Vec::new());
        let mut echo = Echo;
        let take = || vec!["a line".to_string()];
        let mut rec = Record {
            inner: &mut echo,
            outbox: &mut outbox,
            logs: Some(&take),
        };
        assert_eq!(rec.apply(&Op::State { id: 1 }), Reply::Bool(false));
        outbox.flush();
        let mut input = &outbox.out[..];
        let mut frames = Vec::new();
        while let Some(p) = read_frame_bytes(&mut input).unwrap() {
            frames.push(decode_frame::<Frame>(&p).unwrap());
        }
        assert_eq!(
            frames,
            vec![
                Frame::Log("a line".to_string()),
                Frame::Reply(Reply::Bool(false))
            ]
        );
    }
}
