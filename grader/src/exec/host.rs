//! The host's side of the protocol: the loop that runs in `raftlab-host`,
//! the only process that links a student's `raft.rs`.
//!
//! The host runs each requested case against its live nodes and reports
//! every op's reply; it never judges. This loop is compiled once, in the
//! grader; the host crate adds only the live driver, so an edit of
//! `raft.rs` rebuilds as little as possible.

use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::cases::Ctx;
use crate::drive::Driver;
use crate::drive::protocol::{Frame, PROTOCOL_VERSION, Request, decode_frame, read_frame_bytes};
use crate::drive::record::{Outbox, Record};
use crate::registry;

use super::judge::{Status, classify_failure};

/// Serves requests from `input` until it ends or says `Quit`: each seed of
/// a run gets fresh nodes from `new_driver`, and every reply goes to
/// `output`. `logs`, when given, takes the library's log lines written
/// since its last call; they are sent before each reply.
pub fn serve(
    new_driver: &mut dyn FnMut() -> Box<dyn Driver>,
    mut input: impl Read,
    output: impl Write,
    logs: Option<&dyn Fn() -> Vec<String>>,
) -> Result<(), String> {
    let mut outbox = Outbox::new(output);
    outbox.push(&Frame::Hello {
        version: PROTOCOL_VERSION,
        digest: registry::digest(),
    });
    outbox.flush();
    loop {
        let payload = match read_frame_bytes(&mut input) {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("reading a request: {e}")),
        };
        let request =
            decode_frame::<Request>(&payload).map_err(|e| format!("a malformed request: {e}"))?;
        let (name, seeds, flush_each, schedule) = match request {
            Request::Quit => return Ok(()),
            Request::Run {
                case,
                seeds,
                flush_each,
                schedule,
            } => (case, seeds, flush_each, schedule),
        };
        let case = registry::find(&name).ok_or_else(|| format!("no case is called {name:?}"))?;
        outbox.flush_each = flush_each;
        for seed in seeds {
            outbox.push(&Frame::Begin { seed });
            let mut live = new_driver();
            let mut rec = Record {
                inner: live.as_mut(),
                outbox: &mut outbox,
                logs,
            };
            let mut ctx = Ctx::new(case, seed, &mut rec, false);
            ctx.schedule = schedule.clone();
            // The host's view of the outcome is not sent: only the replies
            // are. A panic in the case's own code ends its run the same way.
            let _ = catch_unwind(AssertUnwindSafe(|| (case.run)(&mut ctx)));
            drop(ctx);
            drop(live);
            outbox.push(&Frame::End);
            outbox.flush();
            if outbox.failed {
                return Ok(());
            }
        }
        outbox.push(&Frame::Done);
        outbox.flush();
        if outbox.failed {
            return Ok(());
        }
    }
}

/// Runs one case in this process, with the live nodes, and prints what the
/// case itself concludes: for debuggers and for `--in-process`. This is
/// not a grade (the student's code shares the process); the judge's run
/// is.
pub fn run_standalone(
    new_driver: &mut dyn FnMut() -> Box<dyn Driver>,
    case_name: &str,
    seeds: &[crate::model::Seed],
    trace: bool,
    out: &mut dyn Write,
) -> io::Result<bool> {
    let Some(case) = registry::find(case_name) else {
        writeln!(out, "no case is called {case_name:?}; `--list` lists them")?;
        return Ok(false);
    };
    let mut all_passed = true;
    for &seed in seeds {
        let mut live = new_driver();
        let mut ctx = Ctx::new(case, seed, live.as_mut(), trace);
        let outcome = (case.run)(&mut ctx);
        for line in &ctx.trace {
            writeln!(out, "  {line}")?;
        }
        match outcome {
            Ok(()) => writeln!(out, "{} seed {seed}: passed (in-process)", case.name)?,
            Err(f) => {
                all_passed = false;
                let (status, message) = classify_failure(&case, &f);
                let verdict = match status {
                    Status::Todo => "TODO".to_string(),
                    Status::Blocked(step) => format!("BLOCKED BY {step}"),
                    _ => "FAILED".to_string(),
                };
                let message = if message.is_empty() {
                    f.to_string()
                } else {
                    message
                };
                writeln!(
                    out,
                    "{} seed {seed}: {verdict} (in-process): {message}",
                    case.name
                )?;
            }
        }
    }
    Ok(all_passed)
}
