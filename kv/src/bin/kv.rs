//! `kv`: run a node, or talk to a cluster.
//!
//! ```text
//! kv serve [--id N] [--peers 1=HOST:PORT,2=...] [--http HOST:PORT] [--data DIR]
//! kv [--nodes HOST:PORT,...] put KEY VALUE | get KEY | delete KEY | status
//! ```

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kv::client::{DEFAULT_NODES, KvClient, Outcome, parse_nodes};
use kv::http::HttpClient;
use kv::json::{self, Value};
use kv::node::{self, NodeConfig};
use raft::NodeId;

const USAGE: &str = "\
kv: a replicated key-value store on RaftLab's Raft

Usage:
  kv serve [OPTIONS]            Run one node (in the foreground; logs to stderr)
  kv [--nodes LIST] put KEY VALUE
  kv [--nodes LIST] get KEY
  kv [--nodes LIST] delete KEY
  kv [--nodes LIST] status      Leader, term and commit index of every node

Client options:
  --nodes LIST   HTTP addresses of the nodes, comma-separated
                 (default: $KV_NODES, else 127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003)

Serve options (defaults: a one-node cluster):
  --id N                   This node's id, 1 or more (default 1)
  --peers ID=ADDR,...      Every node's peer address, this one's included
                           (default: ID=127.0.0.1:(7000+ID), a single node)
  --http ADDR              Where clients connect (default 127.0.0.1:(8000+ID))
  --data DIR               Data directory (default kv-data/node-ID)
  --tick-ms MS             Real time per Raft tick (default 100)
  --election-ticks N       Ticks before an election, randomized up to 2N (default 10)
  --snapshot-every N       Snapshot and compact after N applied entries (default 1000)
  --request-timeout-ms MS  How long a request waits to commit (default 5000)

Examples:
  cargo run --release -p kv -- serve
  curl -X PUT -d test http://127.0.0.1:8001/kv/foo
  curl http://127.0.0.1:8001/kv/foo
  kv/cluster.sh start      # three nodes in the background
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(Failure::Usage(msg)) => {
            eprintln!("kv: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(msg)) => {
            eprintln!("kv: {msg}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Usage(String),
    Failed(String),
}

fn run(args: &[String]) -> Result<ExitCode, Failure> {
    if args.iter().any(|a| a == "-h" || a == "--help") || args.is_empty() {
        print!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    if args[0] == "serve" {
        return serve(&args[1..]);
    }
    let mut nodes = std::env::var("KV_NODES").unwrap_or_else(|_| DEFAULT_NODES.to_string());
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--nodes" {
            nodes = args
                .get(i + 1)
                .ok_or_else(|| Failure::Usage("--nodes needs a value".into()))?
                .clone();
            i += 2;
        } else if let Some(v) = args[i].strip_prefix("--nodes=") {
            nodes = v.to_string();
            i += 1;
        } else {
            rest.push(args[i].as_str());
            i += 1;
        }
    }
    let nodes = parse_nodes(&nodes);
    if nodes.is_empty() {
        return Err(Failure::Usage("--nodes names no node".into()));
    }
    let mut client = KvClient::new(&nodes, Duration::from_secs(5));
    let outcome = match rest.as_slice() {
        ["put", key, value] => client.put(key.as_bytes(), value.as_bytes()),
        ["get", key] => client.get(key.as_bytes()),
        ["delete", key] => client.delete(key.as_bytes()),
        ["status"] => return Ok(status(&nodes)),
        [cmd, ..] if ["put", "get", "delete", "status"].contains(cmd) => {
            return Err(Failure::Usage(format!("wrong arguments for {cmd}")));
        }
        [cmd, ..] => return Err(Failure::Usage(format!("unknown command {cmd:?}"))),
        [] => return Err(Failure::Usage("missing command".into())),
    };
    match outcome {
        Outcome::Done => println!("OK"),
        Outcome::Value(Some(v)) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&v);
            let _ = out.write_all(b"\n");
        }
        Outcome::Value(None) => return Err(Failure::Failed("key not found".into())),
        Outcome::Refused { status, message } => {
            return Err(Failure::Failed(format!("refused ({status}): {message}")));
        }
        Outcome::Failed(why) => return Err(Failure::Failed(format!("failed: {why}"))),
        Outcome::Unknown(why) => {
            return Err(Failure::Failed(format!(
                "the write may or may not have been applied: {why}"
            )));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints one line per node; succeeds if any node answered.
fn status(nodes: &[String]) -> ExitCode {
    let columns = [
        "id",
        "role",
        "term",
        "leader",
        "commit",
        "applied",
        "last_index",
        "snapshot_index",
        "keys",
    ];
    println!(
        "{:<16} {:>3} {:<13} {:>5} {:>6} {:>7} {:>8} {:>10} {:>8} {:>6}",
        "node",
        "id",
        "role",
        "term",
        "leader",
        "commit",
        "applied",
        "last_index",
        "snapshot",
        "keys"
    );
    let mut any = false;
    for addr in nodes {
        let mut http = HttpClient::new(addr, Duration::from_secs(2));
        let line = match http.request("GET", "/status", b"") {
            Ok(resp) if resp.status == 200 => match json::parse_object(&resp.body_text()) {
                Ok(map) => {
                    any = true;
                    let get = |k: &str| map.get(k).unwrap_or(&Value::Null).show();
                    let v: Vec<String> = columns.iter().map(|c| get(c)).collect();
                    let mut line = format!(
                        "{:<16} {:>3} {:<13} {:>5} {:>6} {:>7} {:>8} {:>10} {:>8} {:>6}",
                        addr, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]
                    );
                    if let Some(Value::String(m)) = map.get("match") {
                        line.push_str(&format!("  match {m}"));
                    }
                    line
                }
                Err(e) => format!("{addr:<16} bad status: {e}"),
            },
            Ok(resp) => format!(
                "{addr:<16} status {}: {}",
                resp.status,
                resp.body_text().trim()
            ),
            Err(e) => format!("{addr:<16} down ({e})"),
        };
        println!("{line}");
    }
    if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn serve(args: &[String]) -> Result<ExitCode, Failure> {
    let mut opts: BTreeMap<&str, String> = BTreeMap::new();
    const KNOWN: [&str; 9] = [
        "--id",
        "--peers",
        "--http",
        "--data",
        "--tick-ms",
        "--election-ticks",
        "--snapshot-every",
        "--request-timeout-ms",
        "--keep-entries",
    ];
    let mut i = 0;
    while i < args.len() {
        let (name, value) = match args[i].split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (args[i].clone(), None),
        };
        let Some(&known) = KNOWN.iter().find(|k| **k == name) else {
            return Err(Failure::Usage(format!(
                "unknown serve option {:?}",
                args[i]
            )));
        };
        let value = match value {
            Some(v) => {
                i += 1;
                v
            }
            None => {
                let v = args
                    .get(i + 1)
                    .ok_or_else(|| Failure::Usage(format!("{known} needs a value")))?;
                i += 2;
                v.clone()
            }
        };
        opts.insert(known, value);
    }
    let number = |name: &str, default: u64| -> Result<u64, Failure> {
        match opts.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Failure::Usage(format!("{name} {v:?} is not a number"))),
        }
    };
    let id: NodeId = number("--id", 1)?;
    if id == 0 {
        return Err(Failure::Usage("--id must be 1 or more".into()));
    }
    let peers = match opts.get("--peers") {
        Some(list) => parse_peers(list).map_err(Failure::Usage)?,
        None => {
            let port = 7000 + id;
            let port = u16::try_from(port).map_err(|_| {
                Failure::Usage(format!("no default port for id {id}: pass --peers"))
            })?;
            BTreeMap::from([(id, SocketAddr::from(([127, 0, 0, 1], port)))])
        }
    };
    let http: SocketAddr = match opts.get("--http") {
        Some(a) => a.parse().map_err(|_| {
            Failure::Usage(format!("--http {a:?} is not HOST:PORT (an IP address)"))
        })?,
        None => {
            let port = u16::try_from(8000 + id)
                .map_err(|_| Failure::Usage(format!("no default port for id {id}: pass --http")))?;
            SocketAddr::from(([127, 0, 0, 1], port))
        }
    };
    let data_dir = opts
        .get("--data")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("kv-data/node-{id}")));
    let mut cfg = NodeConfig::new(id, peers, http, data_dir);
    cfg.tick = Duration::from_millis(number("--tick-ms", 100)?.max(1));
    cfg.election_ticks = number("--election-ticks", 10)? as usize;
    if cfg.election_ticks < 2 {
        return Err(Failure::Usage("--election-ticks must be at least 2".into()));
    }
    cfg.snapshot_every = number("--snapshot-every", 1000)?.max(1);
    cfg.keep_entries = number("--keep-entries", 100)?;
    cfg.request_timeout = Duration::from_millis(number("--request-timeout-ms", 5000)?.max(1));

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    tracing::info!(
        "kv node {} (pid {}): clients on http://{}, peers {:?}, data in {}",
        cfg.id,
        std::process::id(),
        cfg.http,
        cfg.peers,
        cfg.data_dir.display()
    );
    node::run(cfg).map_err(Failure::Failed)?;
    Ok(ExitCode::SUCCESS)
}

/// Parses `1=127.0.0.1:7001,2=127.0.0.1:7002`.
fn parse_peers(list: &str) -> Result<BTreeMap<NodeId, SocketAddr>, String> {
    let mut peers = BTreeMap::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (id, addr) = item
            .split_once('=')
            .ok_or_else(|| format!("--peers item {item:?} is not ID=HOST:PORT"))?;
        let id: NodeId = id
            .parse()
            .ok()
            .filter(|&id| id > 0)
            .ok_or_else(|| format!("--peers: {id:?} is not a node id (1 or more)"))?;
        let addr: SocketAddr = addr
            .parse()
            .map_err(|_| format!("--peers: {addr:?} is not HOST:PORT (an IP address)"))?;
        if peers.insert(id, addr).is_some() {
            return Err(format!("--peers names node {id} twice"));
        }
    }
    if peers.is_empty() {
        return Err("--peers names no node".into());
    }
    Ok(peers)
}
