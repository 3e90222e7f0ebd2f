//! `kv-bench`: writes per second and latency of a 3-node cluster on
//! loopback, under a closed-loop load: each client sends one request,
//! waits for the answer, and sends the next, for a fixed time.
//!
//! By default it starts its own cluster (this same binary, re-run as
//! nodes, on free 127.0.0.1 ports, data in a temporary directory) and
//! stops it at the end; `--nodes` aims at a running cluster instead.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use kv::client::{KvClient, Outcome, parse_nodes};
use kv::http::HttpClient;
use kv::local::{self, Cluster, NODE_COMMAND};

const USAGE: &str = "\
kv-bench: closed-loop load on a kv cluster

Usage: kv-bench [OPTIONS]

Options:
  --clients N       Concurrent clients, each one request at a time (default 8)
  --seconds S       How long to measure, after a 1 s warm-up (default 10)
  --op put|get      What each request does (default put; get is a ReadIndex read)
  --value-bytes N   Size of each value written (default 100)
  --keys N          Keys to spread the load over (default 1000)
  --spread          Send to every node (followers forward) instead of the leader only
  --nodes LIST      Use this running cluster (HTTP addresses) instead of starting one
  --tick-ms MS      Tick of the cluster it starts (default 100)
  --data DIR        Where the cluster it starts keeps its data (default: a temp dir)
";

struct Options {
    clients: usize,
    seconds: u64,
    op: String,
    value_bytes: usize,
    keys: u64,
    spread: bool,
    nodes: Option<String>,
    tick_ms: u64,
    data: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        clients: 8,
        seconds: 10,
        op: "put".into(),
        value_bytes: 100,
        keys: 1000,
        spread: false,
        nodes: None,
        tick_ms: 100,
        data: None,
    };
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if flag == "--spread" {
            o.spread = true;
            i += 1;
            continue;
        }
        let value = args
            .get(i + 1)
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let num = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag} {value:?} is not a number"))
        };
        match flag {
            "--clients" => o.clients = num()?.clamp(1, 128) as usize,
            "--seconds" => o.seconds = num()?.clamp(1, 3600),
            "--op" if value == "put" || value == "get" => o.op = value.clone(),
            "--op" => return Err(format!("--op must be put or get, not {value:?}")),
            "--value-bytes" => o.value_bytes = num()?.min(64 * 1024) as usize,
            "--keys" => o.keys = num()?.max(1),
            "--nodes" => o.nodes = Some(value.clone()),
            "--tick-ms" => o.tick_ms = num()?.max(1),
            "--data" => o.data = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown option {flag:?}")),
        }
        i += 2;
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Re-run as one node of the cluster this benchmark started.
    if args.first().map(String::as_str) == Some(NODE_COMMAND) {
        return local::run_node("kv-bench", "warn", &args[1..]);
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kv-bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match bench(&opts, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kv-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The HTTP address of the node every answering node calls leader;
/// waits at most 30 s.
fn find_leader(nodes: &[String]) -> Result<String, String> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let mut ids = Vec::new();
        for addr in nodes {
            let mut c = HttpClient::new(addr, Duration::from_secs(2));
            if let Ok(resp) = c.request("GET", "/status", b"")
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&resp.body_text())
                && v["role"] == "leader"
            {
                ids.push(addr.clone());
            }
        }
        if let [one] = ids.as_slice() {
            return Ok(one.clone());
        }
        thread::sleep(Duration::from_millis(50));
    }
    Err("no leader within 30 s".into())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn bench(opts: &Options, args: &[String]) -> Result<(), String> {
    let (own, nodes) = match &opts.nodes {
        Some(list) => (None, parse_nodes(list)),
        None => {
            let c = Cluster::start("kv-bench", opts.data.as_deref(), opts.tick_ms)?;
            let http = c.http().to_vec();
            (Some(c), http)
        }
    };
    let leader = find_leader(&nodes)?;
    let targets: Vec<String> = if opts.spread {
        nodes.clone()
    } else {
        vec![leader.clone()]
    };
    let value = vec![b'x'; opts.value_bytes];
    if opts.op == "get" {
        // Something to read.
        let mut c = KvClient::new(&targets, Duration::from_secs(5));
        for k in 0..opts.keys {
            if c.put(format!("key{k}").as_bytes(), &value) != Outcome::Done {
                return Err(format!("could not load key{k}"));
            }
        }
    }

    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs(opts.seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut workers = Vec::new();
    for client_id in 0..opts.clients {
        let (targets, value, stop) = (targets.clone(), value.clone(), Arc::clone(&stop));
        let (op, keys) = (opts.op.clone(), opts.keys);
        workers.push(thread::spawn(move || {
            let mut client = KvClient::new(&targets, Duration::from_secs(5));
            client.pin(client_id);
            client.retry_for = Duration::from_secs(2);
            let mut latencies_us = Vec::new();
            let mut failed = 0u64;
            let mut n = client_id as u64;
            // Bounded by time, and by count as a backstop.
            for _ in 0..50_000_000u64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let key = format!("key{}", (n >> 33) % keys);
                let t0 = Instant::now();
                let ok = if op == "put" {
                    client.put(key.as_bytes(), &value) == Outcome::Done
                } else {
                    matches!(client.get(key.as_bytes()), Outcome::Value(Some(_)))
                };
                let measured = t0.duration_since(start) >= warmup;
                if measured {
                    if ok {
                        latencies_us.push(t0.elapsed().as_micros() as u64);
                    } else {
                        failed += 1;
                    }
                }
            }
            (latencies_us, failed)
        }));
    }
    thread::sleep(warmup + measure);
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut failed = 0;
    for w in workers {
        let (lat, f) = w
            .join()
            .map_err(|_| "a client thread panicked".to_string())?;
        all.extend(lat);
        failed += f;
    }
    all.sort_unstable();
    let seconds = measure.as_secs_f64();
    let verb = if opts.op == "put" { "writes" } else { "reads" };
    println!("command: kv-bench {}", args.join(" "));
    match &own {
        Some(c) => println!(
            "cluster: 3 nodes started by kv-bench on 127.0.0.1, tick {} ms, data in {}",
            opts.tick_ms,
            c.dir().display()
        ),
        None => println!("cluster: {}", nodes.join(", ")),
    }
    println!(
        "load: {} closed-loop clients to {}, {}-byte values over {} keys, 1 s warm-up, {} s measured",
        opts.clients,
        if opts.spread {
            "every node"
        } else {
            "the leader"
        },
        opts.value_bytes,
        opts.keys,
        opts.seconds
    );
    println!(
        "{verb}: {} ok, {failed} failed: {:.0} {verb}/s",
        all.len(),
        all.len() as f64 / seconds
    );
    println!(
        "latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&all, 50.0),
        percentile(&all, 90.0),
        percentile(&all, 99.0),
        all.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    drop(own);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_rank() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn options_are_checked() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let o = parse(&args("--clients 4 --seconds 2 --op get --spread")).unwrap();
        assert_eq!(
            (o.clients, o.seconds, o.op.as_str(), o.spread),
            (4, 2, "get", true)
        );
        assert!(parse(&args("--op scan")).is_err());
        assert!(parse(&args("--clients")).is_err());
        assert!(parse(&args("--bogus 1")).is_err());
    }
}
