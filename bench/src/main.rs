//! RaftLab's throughput benchmark: one workload, run on RaftLab's `raft`
//! (the reference variant) and on raft-rs 0.7, side by side.
//!
//! Both libraries are driven by the same loop, [`run_workload`], through a
//! small [`BenchNode`] trait that each driver implements the way its
//! library's documentation says an application should (persist, send,
//! apply, advance). Each measurement runs in a child process of its own,
//! so the peak memory it reports (`VmHWM`) belongs to one library only.
//!
//! ```text
//! cargo run --release -- [--reps N] [--entries N] [--batch N] [--size BYTES]
//!                         [--max-msg-bytes BYTES]
//! ```

use std::process::{Command, ExitCode};
use std::time::Instant;

/// The workload's parameters: the same for both libraries.
#[derive(Clone, Copy, Debug)]
struct Workload {
    /// Entries proposed in all, after the leader is elected.
    entries: u64,
    /// Entries per proposal message (`MsgProp`), one batch per round.
    batch: u64,
    /// Bytes of application data per entry.
    size: usize,
    /// Ticks after which a follower starts an election (never reached here:
    /// the leader's appends reset it every round).
    election_tick: usize,
    /// Ticks between the leader's heartbeats.
    heartbeat_tick: usize,
    /// Bytes of entries one `MsgApp` may carry.
    max_size_per_msg: u64,
    /// `MsgApp`s in flight per follower.
    max_inflight_msgs: usize,
}

const NODES: u64 = 3;
const LEADER: u64 = 1;

impl Workload {
    fn describe(&self) -> String {
        let batches = self.entries.div_ceil(self.batch);
        format!(
            "workload: {NODES} nodes in one process, in-memory MemStorage and message passing; node {LEADER} \
             campaigns and is elected before the clock starts.\n\
             \x20 {entries} entries of {size} bytes, proposed to the leader as {batches} MsgProp \
             messages of {batch} entries (RawNode::step), one batch per round.\n\
             \x20 A round: (1) the leader steps the next batch, if any is left; (2) every node \
             ticks once; (3) nodes 1..={NODES}, in id order, each handle one Ready if they have \
             one: persist entries and hard state into their MemStorage, queue messages, apply \
             committed entries, advance; (4) every queued message is stepped into its \
             recipient, in the order queued (no loss, no reordering).\n\
             \x20 Rounds go on until every node has applied every entry; only those rounds \
             are timed. Messages are moved from node to node, never encoded; both libraries' \
             entry data is reference-counted (raft-rs: bytes::Bytes, RaftLab: Arc<[u8]>), so \
             the three nodes share one buffer per entry.\n\
             \x20 Config for both: election_tick {election}, heartbeat_tick {heartbeat}, \
             max_size_per_msg {max_size}, max_inflight_msgs {inflight}, no pre-vote, no \
             check-quorum, no limit on uncommitted or per-Ready committed size; raft-rs keeps \
             its defaults batch_append = false, skip_bcast_commit = false, and logs to \
             slog::Discard (RaftLab's tracing has no subscriber).",
            entries = self.entries,
            size = self.size,
            batch = self.batch,
            election = self.election_tick,
            heartbeat = self.heartbeat_tick,
            max_size = self.max_size_per_msg,
            inflight = self.max_inflight_msgs,
        )
    }

    /// The data of proposal number `n`: its number, then filler, so that
    /// every entry differs and the checksum sees the order.
    fn payload(&self, n: u64) -> Vec<u8> {
        let mut data = vec![0xab; self.size];
        let prefix = n.to_le_bytes();
        let len = prefix.len().min(self.size);
        data[..len].copy_from_slice(&prefix[..len]);
        data
    }
}

/// What the application keeps per node: how far it applied and a checksum
/// of what it applied, in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Applied {
    index: u64,
    checksum: u64,
}

impl Applied {
    fn apply(&mut self, index: u64, data: &[u8]) {
        assert_eq!(
            index,
            self.index + 1,
            "applied entry {index} right after {}",
            self.index
        );
        self.index = index;
        let head = data
            .iter()
            .take(8)
            .fold(0u64, |acc, b| (acc << 8) | *b as u64);
        self.checksum = self
            .checksum
            .wrapping_mul(0x100_0000_01b3)
            .wrapping_add(head ^ data.len() as u64);
    }
}

/// One node as the benchmark loop drives it; each library's driver
/// implements it after that library's documented `Ready` loop.
trait BenchNode: Sized {
    type Msg;
    fn new(id: u64, workload: &Workload) -> Self;
    fn campaign(&mut self);
    /// Steps one `MsgProp` carrying `batch` as entries.
    fn propose_batch(&mut self, batch: Vec<Vec<u8>>);
    fn tick(&mut self);
    fn step(&mut self, msg: Self::Msg);
    /// Handles one `Ready` if there is one: persist, queue the messages in
    /// `outbox`, apply, advance. Returns whether there was one.
    fn handle_ready(&mut self, outbox: &mut Vec<Self::Msg>) -> bool;
    fn recipient(msg: &Self::Msg) -> u64;
    fn applied(&self) -> Applied;
    fn is_leader(&self) -> bool;
    fn term(&self) -> u64;
    fn last_index(&self) -> u64;
    /// The last index in the node's storage, to check everything was persisted.
    fn stored_last_index(&self) -> u64;
}

/// Every node handles its `Ready` and the queued messages are delivered,
/// until nothing is left to do; at most `limit` rounds.
fn settle<N: BenchNode>(nodes: &mut [N], outbox: &mut Vec<N::Msg>, limit: u32) {
    for _ in 0..limit {
        let mut busy = false;
        for node in nodes.iter_mut() {
            busy |= node.handle_ready(outbox);
        }
        busy |= !outbox.is_empty();
        deliver(nodes, outbox);
        if !busy {
            return;
        }
    }
    panic!("the cluster did not settle within {limit} rounds");
}

fn deliver<N: BenchNode>(nodes: &mut [N], outbox: &mut Vec<N::Msg>) {
    for msg in outbox.drain(..) {
        let to = N::recipient(&msg);
        assert!((1..=NODES).contains(&to), "a message to unknown node {to}");
        nodes[(to - 1) as usize].step(msg);
    }
}

/// The result of one run of the workload.
#[derive(Clone, Copy, Debug)]
struct Outcome {
    /// Wall-clock time of the measured rounds.
    seconds: f64,
    /// CPU time this (single-threaded) process spent in them: steadier than
    /// the wall clock on a machine shared with other work.
    cpu_seconds: f64,
    rounds: u64,
    checksum: u64,
}

/// Which time an [`Outcome`]'s rate is computed from.
#[derive(Clone, Copy, Debug)]
enum Clock {
    Cpu,
    Wall,
}

impl Clock {
    fn seconds(self, outcome: &Outcome) -> f64 {
        match self {
            Clock::Cpu => outcome.cpu_seconds,
            Clock::Wall => outcome.seconds,
        }
    }
}

impl std::fmt::Display for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Clock::Cpu => "CPU-time",
            Clock::Wall => "wall-clock",
        })
    }
}

/// CPU time consumed by this process so far, in seconds.
fn process_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn run_workload<N: BenchNode>(workload: &Workload) -> Outcome {
    let mut nodes: Vec<N> = (1..=NODES).map(|id| N::new(id, workload)).collect();
    let mut outbox = Vec::new();
    nodes[(LEADER - 1) as usize].campaign();
    settle(&mut nodes, &mut outbox, 100);
    let leader = &nodes[(LEADER - 1) as usize];
    assert!(leader.is_leader(), "node {LEADER} did not win its election");
    let term = leader.term();
    // The new leader's empty entry is applied everywhere by now.
    let first = leader.last_index();
    let target = first + workload.entries;
    let batches = workload.entries.div_ceil(workload.batch);
    let round_limit = batches * 10 + 1_000;

    let mut proposed = 0;
    let mut rounds = 0;
    let start = Instant::now();
    let cpu_start = process_cpu_seconds();
    while nodes.iter().any(|node| node.applied().index < target) {
        rounds += 1;
        assert!(
            rounds <= round_limit,
            "not all applied after {round_limit} rounds: applied {:?}, want {target}",
            nodes.iter().map(|n| n.applied().index).collect::<Vec<_>>()
        );
        if proposed < workload.entries {
            let count = workload.batch.min(workload.entries - proposed);
            let batch = (proposed..proposed + count)
                .map(|n| workload.payload(n))
                .collect();
            nodes[(LEADER - 1) as usize].propose_batch(batch);
            proposed += count;
        }
        for node in nodes.iter_mut() {
            node.tick();
        }
        for node in nodes.iter_mut() {
            node.handle_ready(&mut outbox);
        }
        deliver(&mut nodes, &mut outbox);
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = process_cpu_seconds() - cpu_start;

    let leader = &nodes[(LEADER - 1) as usize];
    assert!(
        leader.is_leader() && leader.term() == term,
        "node {LEADER} lost its leadership of term {term} during the run"
    );
    let checksum = nodes[0].applied().checksum;
    for (i, node) in nodes.iter().enumerate() {
        let applied = node.applied();
        assert_eq!(applied.index, target, "node {} applied", i + 1);
        assert_eq!(
            applied.checksum,
            checksum,
            "node {} applied other data",
            i + 1
        );
        assert_eq!(node.stored_last_index(), target, "node {} stored", i + 1);
    }
    Outcome {
        seconds,
        cpu_seconds,
        rounds,
        checksum,
    }
}

/// The driver for RaftLab's library.
mod ours_driver {
    use super::{Applied, BenchNode, NODES, Workload};
    use ours::{ConfState, Config, Entry, MemStorage, Message, MessageType, RawNode, StateType};

    pub struct Node {
        node: RawNode<MemStorage>,
        storage: MemStorage,
        applied: Applied,
    }

    impl BenchNode for Node {
        type Msg = Message;

        fn new(id: u64, workload: &Workload) -> Node {
            let mut config = Config::new(id);
            config.election_tick = workload.election_tick;
            config.heartbeat_tick = workload.heartbeat_tick;
            config.max_size_per_msg = workload.max_size_per_msg;
            config.max_inflight_msgs = workload.max_inflight_msgs;
            config.max_committed_size_per_ready = u64::MAX;
            config.max_uncommitted_entries_size = u64::MAX;
            config.seed = id;
            let storage = MemStorage::new_with_conf_state(ConfState {
                voters: (1..=NODES).collect(),
                learners: Vec::new(),
            });
            let node =
                RawNode::new(&config, storage.clone()).unwrap_or_else(|e| panic!("node {id}: {e}"));
            Node {
                node,
                storage,
                applied: Applied::default(),
            }
        }

        fn campaign(&mut self) {
            self.node
                .campaign()
                .unwrap_or_else(|e| panic!("campaign: {e}"));
        }

        fn propose_batch(&mut self, batch: Vec<Vec<u8>>) {
            let id = self.node.raft.id;
            let mut m = Message::new(MessageType::MsgProp, id, id);
            m.entries = batch
                .into_iter()
                .map(|data| Entry {
                    data: data.into(),
                    ..Default::default()
                })
                .collect();
            self.node
                .step(m)
                .unwrap_or_else(|e| panic!("proposal dropped: {e}"));
        }

        fn tick(&mut self) {
            self.node.tick();
        }

        fn step(&mut self, msg: Message) {
            // A refused message is what a real network would drop.
            let _ = self.node.step(msg);
        }

        fn handle_ready(&mut self, outbox: &mut Vec<Message>) -> bool {
            if !self.node.has_ready() {
                return false;
            }
            let mut rd = self.node.ready();
            assert!(rd.snapshot.is_none(), "no snapshot in this workload");
            {
                let mut core = self.storage.wl();
                core.append(&rd.entries)
                    .unwrap_or_else(|e| panic!("append: {e}"));
                if let Some(hs) = &rd.hard_state {
                    core.set_hard_state(*hs);
                }
            }
            outbox.append(&mut rd.messages);
            for entry in &rd.committed_entries {
                self.applied.apply(entry.index, &entry.data);
            }
            self.node.advance(rd);
            true
        }

        fn recipient(msg: &Message) -> u64 {
            msg.to
        }

        fn applied(&self) -> Applied {
            self.applied
        }

        fn is_leader(&self) -> bool {
            self.node.raft.state == StateType::Leader
        }

        fn term(&self) -> u64 {
            self.node.raft.term
        }

        fn last_index(&self) -> u64 {
            self.node.raft.raft_log.last_index()
        }

        fn stored_last_index(&self) -> u64 {
            use ours::Storage;
            self.storage
                .last_index()
                .unwrap_or_else(|e| panic!("storage: {e}"))
        }
    }
}

/// The driver for raft-rs 0.7, after its `five_mem_node` example's loop:
/// messages, snapshot, committed entries, entries, hard state, persisted
/// messages, then `advance` and the `LightReady`, then `advance_apply`.
mod raftrs_driver {
    use super::{Applied, BenchNode, NODES, Workload};
    use raftrs::eraftpb::{ConfState, Entry, Message, MessageType};
    use raftrs::storage::MemStorage;
    use raftrs::{Config, RawNode, StateRole, Storage};

    pub struct Node {
        node: RawNode<MemStorage>,
        storage: MemStorage,
        applied: Applied,
    }

    impl Node {
        fn apply(&mut self, entries: &[Entry]) {
            for entry in entries {
                self.applied.apply(entry.index, &entry.data);
            }
        }
    }

    impl BenchNode for Node {
        type Msg = Message;

        fn new(id: u64, workload: &Workload) -> Node {
            let config = Config {
                id,
                election_tick: workload.election_tick,
                heartbeat_tick: workload.heartbeat_tick,
                max_size_per_msg: workload.max_size_per_msg,
                max_inflight_msgs: workload.max_inflight_msgs,
                max_uncommitted_size: raftrs::NO_LIMIT,
                max_committed_size_per_ready: raftrs::NO_LIMIT,
                ..Default::default()
            };
            let conf_state = ConfState {
                voters: (1..=NODES).collect(),
                ..Default::default()
            };
            let storage = MemStorage::new_with_conf_state(conf_state);
            let logger = slog::Logger::root(slog::Discard, slog::o!());
            let node = RawNode::new(&config, storage.clone(), &logger)
                .unwrap_or_else(|e| panic!("node {id}: {e}"));
            Node {
                node,
                storage,
                applied: Applied::default(),
            }
        }

        fn campaign(&mut self) {
            self.node
                .campaign()
                .unwrap_or_else(|e| panic!("campaign: {e}"));
        }

        fn propose_batch(&mut self, batch: Vec<Vec<u8>>) {
            let id = self.node.raft.id;
            let mut m = Message {
                msg_type: MessageType::MsgPropose,
                from: id,
                to: id,
                ..Default::default()
            };
            m.entries = batch
                .into_iter()
                .map(|data| Entry {
                    data: data.into(),
                    ..Default::default()
                })
                .collect();
            self.node
                .step(m)
                .unwrap_or_else(|e| panic!("proposal dropped: {e}"));
        }

        fn tick(&mut self) {
            self.node.tick();
        }

        fn step(&mut self, msg: Message) {
            // A refused message is what a real network would drop.
            let _ = self.node.step(msg);
        }

        fn handle_ready(&mut self, outbox: &mut Vec<Message>) -> bool {
            if !self.node.has_ready() {
                return false;
            }
            let mut rd = self.node.ready();
            outbox.append(&mut rd.take_messages());
            assert!(rd.snapshot().is_empty(), "no snapshot in this workload");
            let committed = rd.take_committed_entries();
            self.apply(&committed);
            {
                let mut core = self.storage.wl();
                core.append(rd.entries())
                    .unwrap_or_else(|e| panic!("append: {e}"));
                if let Some(hs) = rd.hs() {
                    core.set_hardstate(hs.clone());
                }
            }
            outbox.append(&mut rd.take_persisted_messages());
            let mut light = self.node.advance(rd);
            if let Some(commit) = light.commit_index() {
                self.storage.wl().mut_hard_state().commit = commit;
            }
            outbox.append(&mut light.take_messages());
            let committed = light.take_committed_entries();
            self.apply(&committed);
            self.node.advance_apply();
            true
        }

        fn recipient(msg: &Message) -> u64 {
            msg.to
        }

        fn applied(&self) -> Applied {
            self.applied
        }

        fn is_leader(&self) -> bool {
            self.node.raft.state == StateRole::Leader
        }

        fn term(&self) -> u64 {
            self.node.raft.term
        }

        fn last_index(&self) -> u64 {
            self.node.raft.raft_log.last_index()
        }

        fn stored_last_index(&self) -> u64 {
            self.storage
                .last_index()
                .unwrap_or_else(|e| panic!("storage: {e}"))
        }
    }
}

/// The two libraries under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Library {
    Ours,
    RaftRs,
}

impl Library {
    const BOTH: [Library; 2] = [Library::Ours, Library::RaftRs];

    fn flag(self) -> &'static str {
        match self {
            Library::Ours => "ours",
            Library::RaftRs => "raft-rs",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Library::Ours => "RaftLab (reference)",
            Library::RaftRs => "raft-rs 0.7",
        }
    }

    fn from_flag(flag: &str) -> Option<Library> {
        Library::BOTH.into_iter().find(|lib| lib.flag() == flag)
    }
}

/// The peak resident set of this process so far, in KiB.
fn peak_memory_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One measurement, as a child process prints it for its parent.
#[derive(Clone, Copy, Debug)]
struct Measurement {
    outcome: Outcome,
    peak_kib: u64,
}

fn run_child(library: Library, workload: &Workload) {
    let outcome = match library {
        Library::Ours => run_workload::<ours_driver::Node>(workload),
        Library::RaftRs => run_workload::<raftrs_driver::Node>(workload),
    };
    println!(
        "result seconds={} cpu_seconds={} rounds={} checksum={} peak_kib={}",
        outcome.seconds,
        outcome.cpu_seconds,
        outcome.rounds,
        outcome.checksum,
        peak_memory_kib()
    );
}

fn parse_measurement(stdout: &str) -> Option<Measurement> {
    let line = stdout.lines().find(|l| l.starts_with("result "))?;
    let field = |name: &str| -> Option<&str> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    };
    Some(Measurement {
        outcome: Outcome {
            seconds: field("seconds")?.parse().ok()?,
            cpu_seconds: field("cpu_seconds")?.parse().ok()?,
            rounds: field("rounds")?.parse().ok()?,
            checksum: field("checksum")?.parse().ok()?,
        },
        peak_kib: field("peak_kib")?.parse().ok()?,
    })
}

fn measure(library: Library, workload: &Workload) -> Result<Measurement, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let output = Command::new(exe)
        .args(["--child", library.flag()])
        .args(["--entries", &workload.entries.to_string()])
        .args(["--batch", &workload.batch.to_string()])
        .args(["--size", &workload.size.to_string()])
        .args(["--max-msg-bytes", &workload.max_size_per_msg.to_string()])
        .output()
        .map_err(|e| format!("cannot start the {} run: {e}", library.label()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "the {} run failed ({}):\n{}{}",
            library.label(),
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    parse_measurement(&stdout)
        .ok_or_else(|| format!("the {} run printed no result:\n{stdout}", library.label()))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

struct Options {
    workload: Workload,
    reps: usize,
    child: Option<Library>,
}

const USAGE: &str = "usage: raftlab-bench [--reps N] [--entries N] [--batch N] [--size BYTES] \
                     [--max-msg-bytes BYTES]";

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        workload: Workload {
            entries: 100_000,
            batch: 100,
            size: 128,
            election_tick: 10,
            heartbeat_tick: 2,
            max_size_per_msg: 1024 * 1024,
            max_inflight_msgs: 256,
        },
        reps: 21,
        child: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            let text = args
                .next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?;
            match text.parse() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{name} {text:?}: want a positive number\n{USAGE}")),
            }
        };
        match arg.as_str() {
            "--reps" => options.reps = value("--reps")? as usize,
            "--entries" => options.workload.entries = value("--entries")?,
            "--batch" => options.workload.batch = value("--batch")?,
            "--size" => options.workload.size = value("--size")? as usize,
            "--max-msg-bytes" => options.workload.max_size_per_msg = value("--max-msg-bytes")?,
            "--child" => {
                let name = args.next().unwrap_or_default();
                options.child = Some(
                    Library::from_flag(&name)
                        .ok_or_else(|| format!("--child {name:?}: want ours or raft-rs"))?,
                );
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let workload = options.workload;
    if let Some(library) = options.child {
        run_child(library, &workload);
        return ExitCode::SUCCESS;
    }

    println!("{}", workload.describe());
    println!(
        "  {} repetitions; each run is a fresh child process (so VmHWM is one library's), \
         the two libraries alternating and taking turns to go first.\n\
         \x20 Rates are given per CPU second (clock_gettime(CLOCK_PROCESS_CPUTIME_ID), \
         user + system) and per wall-clock second; on a machine shared with other work \
         the wall clock also counts time spent waiting for a core, so compare the CPU \
         figures there.\n",
        options.reps
    );
    let mut results: [Vec<Measurement>; 2] = [Vec::new(), Vec::new()];
    for rep in 0..options.reps {
        let order = if rep % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let library = Library::BOTH[i];
            match measure(library, &workload) {
                Ok(m) => {
                    println!(
                        "  rep {:>2} {:<20} {:>9.0} entries/s wall ({:.3} s), {:>9.0} entries/s CPU ({:.3} s), {} rounds, VmHWM {:.1} MiB",
                        rep + 1,
                        library.label(),
                        workload.entries as f64 / m.outcome.seconds,
                        m.outcome.seconds,
                        workload.entries as f64 / m.outcome.cpu_seconds,
                        m.outcome.cpu_seconds,
                        m.outcome.rounds,
                        m.peak_kib as f64 / 1024.0
                    );
                    results[i].push(m);
                }
                Err(message) => {
                    eprintln!("{message}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }

    let checksums: Vec<u64> = results
        .iter()
        .flatten()
        .map(|m| m.outcome.checksum)
        .collect();
    if checksums.windows(2).any(|w| w[0] != w[1]) {
        eprintln!("the runs applied different data: checksums {checksums:?}");
        return ExitCode::FAILURE;
    }

    println!();
    for clock in [Clock::Cpu, Clock::Wall] {
        let seconds = |o: &Outcome| clock.seconds(o);
        println!("{clock} throughput (entries / {clock} seconds of the measured rounds):");
        let mut medians = [0.0; 2];
        for (i, library) in Library::BOTH.into_iter().enumerate() {
            let rates: Vec<f64> = results[i]
                .iter()
                .map(|m| workload.entries as f64 / seconds(&m.outcome))
                .collect();
            let rate = median(&rates);
            let (lo, hi) = min_max(&rates);
            medians[i] = rate;
            println!(
                "  {:<20} median {:>9.0} entries/s  (min {:.0}, max {:.0}, spread (max-min)/median {:.1}%)",
                library.label(),
                rate,
                lo,
                hi,
                (hi - lo) / rate * 100.0,
            );
        }
        let paired: Vec<f64> = results[0]
            .iter()
            .zip(&results[1])
            .map(|(ours, theirs)| seconds(&theirs.outcome) / seconds(&ours.outcome))
            .collect();
        let (lo, hi) = min_max(&paired);
        println!(
            "  ratio ours / raft-rs: {:.2} (of the medians; per repetition min {:.2}, median {:.2}, max {:.2})",
            medians[0] / medians[1],
            lo,
            median(&paired),
            hi
        );
    }
    println!("peak memory (VmHWM of the child process, whole run including setup):");
    for (i, library) in Library::BOTH.into_iter().enumerate() {
        let peaks: Vec<f64> = results[i]
            .iter()
            .map(|m| m.peak_kib as f64 / 1024.0)
            .collect();
        let (lo, hi) = min_max(&peaks);
        println!(
            "  {:<20} median {:.1} MiB (min {:.1}, max {:.1})",
            library.label(),
            median(&peaks),
            lo,
            hi
        );
    }
    ExitCode::SUCCESS
}
