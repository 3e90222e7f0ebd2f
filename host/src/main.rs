//! `raftlab-host`: runs the grader's cases against the student's Raft.
//!
//! ```text
//! raftlab-host                          serve the grader's requests on stdin/stdout
//! raftlab-host run CASE [SEED ...] [--trace]
//!                                       run one case here, for a debugger
//! ```
//!
//! This is the only program that links `raft/src/raft.rs`, and it decides
//! nothing: served, it reports what every op returned, and the grader
//! judges. Whatever the code under test prints goes to stderr, so it can
//! never mix with the protocol on stdout.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use grader::drive::Driver;
use grader::exec::host;
use grader::model::Seed;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use ::host::live::{self, Live};

/// Where log lines wait to be sent, when the protocol carries them.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn take_lines(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// Turns the library's logs on when `RUST_LOG` asks for them (`raft=debug`,
/// `debug`, `raft::raft=trace,info`: a level per target): into `buffer`
/// when given, else onto stderr.
fn init_logs(buffer: Option<LogBuffer>) -> bool {
    let Some(wanted) = std::env::var_os("RUST_LOG") else {
        return false;
    };
    let filter: Targets = match wanted.to_str().map(str::parse) {
        Some(Ok(filter)) => filter,
        Some(Err(e)) => {
            eprintln!("raftlab-host: RUST_LOG={wanted:?}: {e}; the logs stay off");
            return false;
        }
        None => {
            eprintln!("raftlab-host: RUST_LOG is not UTF-8; the logs stay off");
            return false;
        }
    };
    let layer = tracing_subscriber::fmt::layer()
        .without_time()
        .with_ansi(false);
    match buffer {
        Some(b) => tracing_subscriber::registry()
            .with(layer.with_writer(move || b.clone()))
            .with(filter)
            .init(),
        None => tracing_subscriber::registry()
            .with(layer.with_writer(io::stderr))
            .with(filter)
            .init(),
    }
    true
}

fn new_live() -> Box<dyn Driver> {
    Box::new(Live::default())
}

/// Moves the protocol off fd 1: returns a handle on the original stdout,
/// and points fd 1 at stderr, where the code under test's prints go.
fn protocol_output() -> io::Result<std::fs::File> {
    let stdout = io::stdout();
    let proto = nix::unistd::dup(stdout.as_fd())?;
    nix::unistd::dup2_stdout(io::stderr().as_fd())?;
    Ok(std::fs::File::from(proto))
}

fn serve() -> ExitCode {
    let output = match protocol_output() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("raftlab-host: cannot set up its output: {e}");
            return ExitCode::from(2);
        }
    };
    let buffer = LogBuffer::default();
    let logs_on = init_logs(Some(buffer.clone()));
    let take = move || buffer.take_lines();
    let logs: Option<&dyn Fn() -> Vec<String>> = if logs_on { Some(&take) } else { None };
    let input = io::stdin().lock();
    match host::serve(&mut new_live, input, io::BufWriter::new(output), logs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raftlab-host: {e}");
            ExitCode::from(2)
        }
    }
}

const USAGE: &str = "usage: raftlab-host                       (serves the grader on stdin/stdout)
       raftlab-host run CASE [SEED ...] [--trace]";

fn run(args: &[OsString]) -> ExitCode {
    let mut case = None;
    let mut seeds = Vec::new();
    let mut trace = false;
    for arg in args {
        let Some(text) = arg.to_str() else {
            eprintln!("raftlab-host: {arg:?} is not text\n{USAGE}");
            return ExitCode::from(2);
        };
        if text == "--trace" {
            trace = true;
        } else if case.is_none() {
            case = Some(text.to_string());
        } else {
            match text.parse::<Seed>() {
                Ok(seed) => seeds.push(seed),
                Err(e) => {
                    eprintln!("raftlab-host: {e}\n{USAGE}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let Some(case) = case else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if seeds.is_empty() {
        seeds.push(Seed(0));
    }
    init_logs(None);
    let mut out = io::stdout().lock();
    match host::run_standalone(&mut new_live, &case, &seeds, trace, &mut out) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("raftlab-host: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    live::install_panic_hook();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        None => serve(),
        Some("run") => run(&args[1..]),
        Some(_) => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
