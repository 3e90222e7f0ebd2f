//! `kv-failover`: how long a 3-node cluster is unavailable for writes
//! after its leader is killed with SIGKILL, and whether any acknowledged
//! write is lost.
//!
//! It starts its own cluster (this same binary, re-run as nodes, on free
//! 127.0.0.1 ports, data in a temporary directory), keeps a loop of
//! writers going (each writes keys of its own, one at a time), and then,
//! `--kills` times: waits until the cluster is steady (every node up and
//! caught up, writes succeeding), kills the leader with SIGKILL, measures
//! the time from the kill to the first write that was sent after it and
//! succeeded, and restarts the killed node. At the end it reads back every
//! acknowledged write from every node, and prints the figures. Bounded:
//! every wait has a deadline, and the run stops after its kills.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use kv::client::{KvClient, Outcome};
use kv::http::HttpClient;
use kv::local::{self, Cluster, NODE_COMMAND};
use kv::node;
use serde_json::Value;

const USAGE: &str = "\
kv-failover: kill -9 the leader of a 3-node cluster during a write loop

Usage: kv-failover [OPTIONS]

Options:
  --kills N        Leaders to kill, one after another (default 20)
  --clients N      Concurrent writers (default 4)
  --tick-ms MS     Tick of the cluster (default 100: elections after 1 to 2 s)
  --data DIR       Where the cluster keeps its data (default: a temp dir, removed after)

Prints, per kill, the time from the kill to the next successful write;
then p50, p99 and max of those, and the acknowledged writes that are
missing on any node (which must be 0). Exits 1 if any was lost.
";

/// How long any one wait may take.
const WAIT: Duration = Duration::from_secs(30);

struct Options {
    kills: usize,
    clients: usize,
    tick_ms: u64,
    data: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        kills: 20,
        clients: 4,
        tick_ms: 100,
        data: None,
    };
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        let value = args
            .get(i + 1)
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let num = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag} {value:?} is not a number"))
        };
        match flag {
            "--kills" => o.kills = num()?.clamp(1, 1000) as usize,
            "--clients" => o.clients = num()?.clamp(1, 64) as usize,
            "--tick-ms" => o.tick_ms = num()?.clamp(1, 10_000),
            "--data" => o.data = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown option {flag:?}")),
        }
        i += 2;
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(NODE_COMMAND) {
        return local::run_node("kv-failover", "info", &args[1..]);
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kv-failover: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match failover(&opts, &args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("kv-failover: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The `/status` of node `i`, if it answers.
fn status(cluster: &Cluster, i: usize) -> Option<Value> {
    let mut c = HttpClient::new(&cluster.http()[i], Duration::from_secs(2));
    let resp = c.request("GET", "/status", b"").ok()?;
    serde_json::from_str(&resp.body_text()).ok()
}

/// The index of the leader once every node is up, agrees on it, and
/// has applied what the leader committed a moment before.
fn wait_steady(cluster: &Cluster) -> Result<usize, String> {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        let all: Vec<Option<Value>> = (0..3).map(|i| status(cluster, i)).collect();
        let leader = all
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s["role"] == "leader"));
        if let Some(l) = leader
            && let Some(commit) = all[l].as_ref().and_then(|s| s["commit"].as_u64())
        {
            let lead_id = (l + 1) as u64;
            let steady = all.iter().all(|s| {
                s.as_ref().is_some_and(|s| {
                    s["leader"].as_u64() == Some(lead_id)
                        && s["applied"].as_u64().unwrap_or(0) + 50 >= commit
                })
            });
            if steady {
                return Ok(l);
            }
        }
        thread::sleep(Duration::from_millis(50));
    }
    Err(format!("the cluster did not settle within {WAIT:?}"))
}

/// One write as a writer saw it.
struct Write {
    key: String,
    sent: Instant,
    done: Instant,
    acked: bool,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs the kills; returns how many acknowledged writes were lost.
fn failover(opts: &Options, args: &[String]) -> Result<usize, String> {
    let mut cluster = Cluster::start("kv-failover", opts.data.as_deref(), opts.tick_ms)?;
    wait_steady(&cluster)?;
    let stop = Arc::new(AtomicBool::new(false));
    let log: Arc<Mutex<Vec<Write>>> = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for w in 0..opts.clients {
        let (stop, log, addrs) = (Arc::clone(&stop), Arc::clone(&log), cluster.http().to_vec());
        writers.push(thread::spawn(move || {
            let mut client = KvClient::new(&addrs, Duration::from_secs(2));
            client.pin(w);
            client.retry_for = Duration::from_millis(500);
            // Bounded by the stop flag, and by count as a backstop.
            for n in 0..10_000_000u64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let key = format!("w{w}-{n}");
                let sent = Instant::now();
                let acked = client.put(key.as_bytes(), key.as_bytes()) == Outcome::Done;
                let done = Instant::now();
                log.lock().unwrap_or_else(|e| e.into_inner()).push(Write {
                    key,
                    sent,
                    done,
                    acked,
                });
            }
        }));
    }

    println!("command: kv-failover {}", args.join(" "));
    println!(
        "cluster: 3 nodes on 127.0.0.1, tick {} ms (elections after {} to {} ms), {} writers",
        opts.tick_ms,
        10 * opts.tick_ms,
        20 * opts.tick_ms,
        opts.clients
    );
    let mut gaps = Vec::new();
    for round in 1..=opts.kills {
        let leader = wait_steady(&cluster)?;
        // Writes are flowing before the kill.
        let before = Instant::now();
        let from = log_len(&log);
        wait_until(
            || first_ack_after(&log, from, before).is_some(),
            "writes before the kill",
        )?;
        let from = log_len(&log);
        let killed_at = Instant::now();
        cluster.kill(leader);
        wait_until(
            || first_ack_after(&log, from, killed_at).is_some(),
            "a write after the kill",
        )?;
        let gap = first_ack_after(&log, from, killed_at)
            .map(|t| t.duration_since(killed_at).as_secs_f64())
            .unwrap_or_default();
        println!(
            "kill {round:>2}: node {} (the leader); next successful write after {gap:.2} s",
            leader + 1
        );
        gaps.push(gap);
        cluster.spawn(leader)?;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().map_err(|_| "a writer panicked".to_string())?;
    }
    wait_steady(&cluster)?;

    // Every acknowledged write, read back from each node on its own: the
    // keys of each writer, by prefix (linearizable reads through that node).
    let writes = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
    let acked: Vec<&Write> = writes.iter().filter(|w| w.acked).collect();
    let mut lost = 0;
    for i in 0..3 {
        let mut client = KvClient::new(&[cluster.http()[i].clone()], Duration::from_secs(5));
        client.retry_for = WAIT;
        let mut held: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        // A prefix with too many keys is split by its next digit; bounded,
        // since keys have at most 20 digits.
        let mut prefixes: Vec<String> = (0..opts.clients).map(|w| format!("w{w}-")).collect();
        while let Some(prefix) = prefixes.pop() {
            match client.scan(prefix.as_bytes(), node::MAX_SCAN_LIMIT) {
                Ok((pairs, false)) => held.extend(pairs),
                Ok((pairs, true)) if prefix.len() < 24 => {
                    // The keys equal to the prefix itself, then one more digit.
                    held.extend(pairs.into_iter().filter(|(k, _)| k == prefix.as_bytes()));
                    prefixes.extend((0..10).map(|d| format!("{prefix}{d}")));
                }
                other => {
                    return Err(format!("reading {prefix}* from node {}: {other:?}", i + 1));
                }
            }
        }
        let mut missing = 0;
        for w in &acked {
            if held.get(w.key.as_bytes()).map(Vec::as_slice) != Some(w.key.as_bytes()) {
                missing += 1;
                if missing <= 3 {
                    println!("node {}: acknowledged {} is missing", i + 1, w.key);
                }
            }
        }
        lost = lost.max(missing);
    }
    gaps.sort_by(f64::total_cmp);
    println!(
        "writes: {} sent, {} acknowledged, {} of unknown outcome or refused",
        writes.len(),
        acked.len(),
        writes.len() - acked.len()
    );
    println!(
        "failover (kill -9 of the leader to the next successful write), {} kills: p50 {:.2} s, \
         p99 {:.2} s, max {:.2} s",
        gaps.len(),
        percentile(&gaps, 50.0),
        percentile(&gaps, 99.0),
        gaps.last().copied().unwrap_or_default()
    );
    println!("acknowledged writes lost: {lost} (read back from every node)");
    Ok(lost)
}

/// The end time of the first acknowledged write sent at or after `t`,
/// looking only at writes logged from position `from` on (a write sent
/// after `t` is logged after it).
fn first_ack_after(log: &Mutex<Vec<Write>>, from: usize, t: Instant) -> Option<Instant> {
    let log = log.lock().unwrap_or_else(|e| e.into_inner());
    log[from.min(log.len())..]
        .iter()
        .filter(|w| w.acked && w.sent >= t)
        .map(|w| w.done)
        .min()
}

fn log_len(log: &Mutex<Vec<Write>>) -> usize {
    log.lock().unwrap_or_else(|e| e.into_inner()).len()
}

fn wait_until(mut f: impl FnMut() -> bool, what: &str) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if f() {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(5));
    }
    Err(format!("timed out after {WAIT:?} waiting for {what}"))
}
