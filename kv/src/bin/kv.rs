//! `kv`: run a node, or talk to a cluster.
//!
//! ```text
//! kv serve [--id N] [--peers 1=HOST:PORT,2=...] [--http HOST:PORT] [--data DIR] [--join]
//! kv [--nodes HOST:PORT,...] put KEY VALUE | get KEY | get --prefix P | delete KEY
//! kv status | endpoint status | member list|add|remove|promote | snapshot save FILE
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kv::client::{DEFAULT_NODES, KvClient, Outcome, Reply, message, parse_nodes};
use kv::http::HttpClient;
use kv::node::{self, NodeConfig};
use raft::NodeId;
use serde_json::Value;

/// Writes a line to stdout. A reader that went away (`kv status | head`)
/// ends the program quietly, as a closed pipe ends a Unix tool.
macro_rules! outln {
    ($($arg:tt)*) => {
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    };
}

const USAGE: &str = "\
kv: a replicated key-value store on RaftLab's Raft

Usage:
  kv serve [OPTIONS]              Run one node (in the foreground; logs to stderr)
  kv [--nodes LIST] put KEY VALUE
  kv [--nodes LIST] get KEY
  kv [--nodes LIST] get --prefix PREFIX [--limit N]   Every key starting with PREFIX
  kv [--nodes LIST] delete KEY
  kv [--nodes LIST] status        The members, and each node's view
  kv [--nodes LIST] endpoint status
                                  Each listed node: role, term, index, keys, log size
  kv [--nodes LIST] member list
  kv [--nodes LIST] member add PEER_ADDR [--http HTTP_ADDR] [--id N]
                                  Add a learner; prints how to start it
  kv [--nodes LIST] member promote ID [--wait SECONDS]
                                  Make a learner a voter once it has caught up
  kv [--nodes LIST] member remove ID
  kv [--nodes LIST] snapshot save FILE
                                  Save the whole state (a backup) to FILE

Client options:
  --nodes LIST   HTTP addresses of the nodes, comma-separated
                 (default: $KV_NODES, else 127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003)

Serve options (defaults: a one-node cluster):
  --id N                   This node's id, 1 or more (default 1)
  --peers ID=ADDR,...      Every first member's peer address, this one's included
                           (default: ID=127.0.0.1:(7000+ID), a single node); with
                           --join, the current members' and this one's
  --http ADDR              Where clients connect (default 127.0.0.1:(8000+ID))
  --data DIR               Data directory (default kv-data/node-ID)
  --join                   Start as a member added with `kv member add`
  --tick-ms MS             Real time per Raft tick (default 100)
  --election-ticks N       Ticks before an election, randomized up to 2N (default 10)
  --snapshot-every N       Snapshot and compact after N applied entries (default 1000)
  --request-timeout-ms MS  How long a request waits to commit (default 5000)
  --join-timeout-ms MS     How long a node without data waits for its peers (default 120000)
  --fault-injection        Serve POST /debug/partition (for tests)

Keys and values are bytes: arguments that are not UTF-8 are sent as they are.

Examples:
  cargo run --release -p kv -- serve
  curl -X PUT -d test http://127.0.0.1:8001/kv/foo
  curl http://127.0.0.1:8001/kv/foo
  kv/cluster.sh start      # three nodes in the background
";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
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

/// An argument's bytes, as the user typed them.
#[cfg(unix)]
fn arg_bytes(a: &OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    a.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn arg_bytes(a: &OsString) -> Vec<u8> {
    a.to_string_lossy().into_owned().into_bytes()
}

/// An argument that must be text (an option, an address, a number).
fn text(a: &OsString) -> Result<String, Failure> {
    a.to_str()
        .map(str::to_string)
        .ok_or_else(|| Failure::Usage(format!("{a:?} is not valid UTF-8")))
}

fn run(args: &[OsString]) -> Result<ExitCode, Failure> {
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        outln!("{}", USAGE.trim_end());
        return Ok(ExitCode::SUCCESS);
    }
    if args[0] == "serve" {
        let args: Vec<String> = args[1..].iter().map(text).collect::<Result<_, _>>()?;
        return serve(&args);
    }
    let mut nodes = std::env::var("KV_NODES").unwrap_or_else(|_| DEFAULT_NODES.to_string());
    let mut rest: Vec<&OsString> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--nodes" {
            nodes = text(
                args.get(i + 1)
                    .ok_or_else(|| Failure::Usage("--nodes needs a value".into()))?,
            )?;
            i += 2;
        } else if let Some(v) = args[i].to_str().and_then(|a| a.strip_prefix("--nodes=")) {
            nodes = v.to_string();
            i += 1;
        } else {
            rest.push(&args[i]);
            i += 1;
        }
    }
    let nodes = parse_nodes(&nodes);
    if nodes.is_empty() {
        return Err(Failure::Usage("--nodes names no node".into()));
    }
    let words: Vec<Option<&str>> = rest.iter().map(|a| a.to_str()).collect();
    let mut client = KvClient::new(&nodes, Duration::from_secs(5));
    let outcome = match words.as_slice() {
        [Some("put"), _, _] => client.put(&arg_bytes(rest[1]), &arg_bytes(rest[2])),
        [Some("get"), Some("--prefix"), _, tail @ ..] => {
            let limit = match tail {
                [] => node::DEFAULT_SCAN_LIMIT,
                [Some("--limit"), Some(n)] => n
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| (1..=node::MAX_SCAN_LIMIT).contains(&n))
                    .ok_or_else(|| {
                        Failure::Usage(format!(
                            "--limit {n:?} is not a number from 1 to {}",
                            node::MAX_SCAN_LIMIT
                        ))
                    })?,
                _ => {
                    return Err(Failure::Usage(
                        "usage: get --prefix PREFIX [--limit N]".into(),
                    ));
                }
            };
            return scan(&mut client, &arg_bytes(rest[2]), limit);
        }
        [Some("get"), _] => client.get(&arg_bytes(rest[1])),
        [Some("delete"), _] => client.delete(&arg_bytes(rest[1])),
        [Some("status")] => return status(&nodes),
        [Some("endpoint"), Some("status")] => return endpoint_status(&nodes),
        [Some("member"), ..] => {
            let tail: Vec<String> = rest[1..]
                .iter()
                .map(|a| text(a))
                .collect::<Result<_, _>>()?;
            return member(&nodes, &mut client, &tail);
        }
        [Some("snapshot"), Some("save"), _] => {
            return snapshot_save(&mut client, PathBuf::from(rest[2]));
        }
        [Some(cmd), ..]
            if ["put", "get", "delete", "status", "endpoint", "snapshot"].contains(cmd) =>
        {
            return Err(Failure::Usage(format!("wrong arguments for {cmd}")));
        }
        [Some(cmd), ..] => return Err(Failure::Usage(format!("unknown command {cmd:?}"))),
        [None, ..] => {
            return Err(Failure::Usage(format!(
                "unknown command {:?}",
                rest[0].to_string_lossy()
            )));
        }
        [] => return Err(Failure::Usage("missing command".into())),
    };
    match outcome {
        Outcome::Done => outln!("OK"),
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

/// Prints every pair under `prefix`, key and value on a line each, as
/// etcdctl does.
fn scan(client: &mut KvClient, prefix: &[u8], limit: usize) -> Result<ExitCode, Failure> {
    let (pairs, more) = client.scan(prefix, limit).map_err(|o| match o {
        Outcome::Refused { status, message } => {
            Failure::Failed(format!("refused ({status}): {message}"))
        }
        Outcome::Failed(why) | Outcome::Unknown(why) => Failure::Failed(format!("failed: {why}")),
        other => Failure::Failed(format!("{other:?}")),
    })?;
    let mut out = std::io::stdout().lock();
    for (k, v) in &pairs {
        let _ = out.write_all(k);
        let _ = out.write_all(b"\n");
        let _ = out.write_all(v);
        let _ = out.write_all(b"\n");
    }
    if more {
        eprintln!(
            "kv: only the first {} keys are shown; pass --limit (up to {})",
            pairs.len(),
            node::MAX_SCAN_LIMIT
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A request through the client; a final answer, or the failure as the
/// user should read it.
fn ask(
    client: &mut KvClient,
    method: &str,
    path: &str,
    is_write: bool,
    retry: &[u16],
) -> Result<(u16, String), Failure> {
    match client.request(method, path, b"", is_write, retry) {
        Reply::Answer(r) if (200..300).contains(&r.status) => Ok((r.status, r.body_text())),
        Reply::Answer(r) => Err(Failure::Failed(format!(
            "refused ({}): {}",
            r.status,
            message(&r)
        ))),
        Reply::Failed(why) => Err(Failure::Failed(format!("failed: {why}"))),
        Reply::Unknown(why) => Err(Failure::Failed(format!(
            "the change may or may not have been applied (see `kv member list`): {why}"
        ))),
    }
}

fn parse_json(body: &str) -> Result<Value, Failure> {
    serde_json::from_str(body).map_err(|e| Failure::Failed(format!("a bad answer ({e}): {body}")))
}

fn member(nodes: &[String], client: &mut KvClient, args: &[String]) -> Result<ExitCode, Failure> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["list"] => {
            let view = members_view(nodes)?;
            print_members(&view);
            Ok(ExitCode::SUCCESS)
        }
        ["add", peer, opts @ ..] => {
            let mut query = format!("peer={peer}");
            let mut http = None;
            let mut i = 0;
            while i < opts.len() {
                match (opts[i], opts.get(i + 1)) {
                    ("--http", Some(v)) => {
                        query.push_str(&format!("&http={v}"));
                        http = Some(v.to_string());
                    }
                    ("--id", Some(v)) => query.push_str(&format!("&id={v}")),
                    (o, _) => {
                        return Err(Failure::Usage(format!(
                            "member add: unknown or incomplete option {o:?}"
                        )));
                    }
                }
                i += 2;
            }
            peer.parse::<SocketAddr>()
                .map_err(|_| Failure::Usage(format!("{peer:?} is not IP:PORT")))?;
            let (_, body) = ask(client, "POST", &format!("/members?{query}"), true, &[])?;
            let v = parse_json(&body)?;
            let id = v["id"].as_u64().unwrap_or_default();
            let peers = v["peers"].as_str().unwrap_or_default();
            outln!(
                "added node {id} as a learner (peer {peer}{})",
                http.as_deref()
                    .map(|h| format!(", clients {h}"))
                    .unwrap_or_default()
            );
            outln!("Start it, with an empty data directory:");
            outln!(
                "  kv serve --id {id} --join --peers {peers}{} --data kv-data/node-{id}",
                http.as_deref()
                    .map(|h| format!(" --http {h}"))
                    .unwrap_or_default()
            );
            outln!("It catches up from the leader; then make it a voter:");
            outln!("  kv member promote {id}");
            Ok(ExitCode::SUCCESS)
        }
        ["remove", id] => {
            let id: NodeId = id
                .parse()
                .map_err(|_| Failure::Usage(format!("{id:?} is not a member id")))?;
            ask(client, "DELETE", &format!("/members/{id}"), true, &[])?;
            outln!("removed node {id}");
            Ok(ExitCode::SUCCESS)
        }
        ["promote", id, opts @ ..] => {
            let id: NodeId = id
                .parse()
                .map_err(|_| Failure::Usage(format!("{id:?} is not a member id")))?;
            let wait = match opts {
                [] => 60,
                ["--wait", s] => s
                    .parse::<u64>()
                    .map_err(|_| Failure::Usage(format!("--wait {s:?} is not seconds")))?,
                _ => {
                    return Err(Failure::Usage(
                        "usage: member promote ID [--wait SECONDS]".into(),
                    ));
                }
            };
            // A learner still catching up is refused with 412: wait for it.
            client.retry_for = Duration::from_secs(wait);
            ask(
                client,
                "POST",
                &format!("/members/{id}/promote"),
                true,
                &[412],
            )?;
            outln!("promoted node {id} to a voter");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(Failure::Usage(
            "usage: member list | add PEER_ADDR [--http HTTP_ADDR] [--id N] | promote ID | \
             remove ID"
                .into(),
        )),
    }
}

/// `/members` from the leader if one answers (it knows each member's
/// progress), else from any node.
fn members_view(nodes: &[String]) -> Result<Value, Failure> {
    let mut first: Option<Value> = None;
    let mut problems = Vec::new();
    for addr in nodes {
        let mut http = HttpClient::new(addr, Duration::from_secs(2));
        match http.request("GET", "/members", b"") {
            Ok(r) if r.status == 200 => {
                let v = parse_json(&r.body_text())?;
                let from_leader = v["members"]
                    .as_array()
                    .is_some_and(|ms| ms.iter().any(|m| m.get("match").is_some()));
                if from_leader {
                    return Ok(v);
                }
                first.get_or_insert(v);
            }
            Ok(r) => problems.push(format!("{addr}: {}", message(&r))),
            Err(e) => problems.push(format!("{addr}: {e}")),
        }
    }
    first.ok_or_else(|| Failure::Failed(format!("no node answered: {}", problems.join("; "))))
}

fn print_members(view: &Value) {
    let ids = |k: &str| -> String {
        let list: Vec<String> = view[k]
            .as_array()
            .map(|a| a.iter().map(|v| v.to_string()).collect())
            .unwrap_or_default();
        if list.is_empty() {
            "-".into()
        } else {
            list.join(",")
        }
    };
    outln!(
        "cluster {}  leader {}  commit {}  removed {}  next id {}",
        view["cluster_id"].as_str().unwrap_or("?"),
        view["leader"],
        view["commit"],
        ids("removed"),
        view["next_id"]
    );
    outln!(
        "{:>3} {:<8} {:<8} {:<22} {:<22} {:>8} {:<9}",
        "id",
        "role",
        "started",
        "peer",
        "http",
        "match",
        "progress"
    );
    for m in view["members"].as_array().into_iter().flatten() {
        let s = |k: &str| m[k].as_str().unwrap_or("-").to_string();
        outln!(
            "{:>3} {:<8} {:<8} {:<22} {:<22} {:>8} {:<9}",
            m["id"].to_string(),
            s("role"),
            m["started"].to_string(),
            s("peer"),
            if s("http").is_empty() {
                "-".into()
            } else {
                s("http")
            },
            m.get("match").map_or("-".into(), |v| v.to_string()),
            s("progress")
        );
    }
}

/// One line per node: its own view.
fn endpoint_lines(endpoints: &[String]) -> bool {
    outln!(
        "{:<16} {:>3} {:<13} {:>5} {:>6} {:>7} {:>8} {:>10} {:>8} {:>6} {:>10}",
        "node",
        "id",
        "role",
        "term",
        "leader",
        "commit",
        "applied",
        "last_index",
        "snapshot",
        "keys",
        "wal_bytes"
    );
    let mut any = false;
    for addr in endpoints {
        let mut http = HttpClient::new(addr, Duration::from_secs(2));
        let line = match http.request("GET", "/status", b"") {
            Ok(resp) if resp.status == 200 => {
                match serde_json::from_str::<Value>(&resp.body_text()) {
                    Ok(v) => {
                        any = true;
                        let get = |k: &str| match &v[k] {
                            Value::String(s) => s.clone(),
                            Value::Null => "-".into(),
                            other => other.to_string(),
                        };
                        let mut line = format!(
                            "{:<16} {:>3} {:<13} {:>5} {:>6} {:>7} {:>8} {:>10} {:>8} {:>6} {:>10}",
                            addr,
                            get("id"),
                            get("role"),
                            get("term"),
                            get("leader"),
                            get("commit"),
                            get("applied"),
                            get("last_index"),
                            get("snapshot_index"),
                            get("keys"),
                            get("wal_bytes")
                        );
                        if v["catching_up"] == Value::Bool(true) {
                            line.push_str("  catching up (no vote)");
                        }
                        if let Some(m) = v["match"].as_str() {
                            line.push_str(&format!("  match {m}"));
                        }
                        line
                    }
                    Err(e) => format!("{addr:<16} bad status: {e}"),
                }
            }
            Ok(resp) => format!("{addr:<16} status {}: {}", resp.status, message(&resp)),
            Err(e) => format!("{addr:<16} down ({e})"),
        };
        outln!("{line}");
    }
    any
}

fn endpoint_status(nodes: &[String]) -> Result<ExitCode, Failure> {
    Ok(if endpoint_lines(nodes) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The members (from any node), then one line per node: the ones listed
/// and every member's client address.
fn status(nodes: &[String]) -> Result<ExitCode, Failure> {
    let mut endpoints: Vec<String> = nodes.to_vec();
    match members_view(nodes) {
        Ok(view) => {
            let mut voters = Vec::new();
            let mut learners = Vec::new();
            for m in view["members"].as_array().into_iter().flatten() {
                let id = m["id"].to_string();
                if m["role"] == "learner" {
                    learners.push(id);
                } else {
                    voters.push(id);
                }
                if let Some(h) = m["http"].as_str()
                    && !h.is_empty()
                    && !endpoints.iter().any(|e| e == h)
                {
                    endpoints.push(h.to_string());
                }
            }
            let show = |v: &[String]| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    v.join(",")
                }
            };
            outln!(
                "cluster {}: leader {}, voters {}, learners {}",
                view["cluster_id"].as_str().unwrap_or("?"),
                view["leader"],
                show(&voters),
                show(&learners)
            );
        }
        Err(Failure::Failed(why) | Failure::Usage(why)) => outln!("members unknown: {why}"),
    }
    Ok(if endpoint_lines(&endpoints) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn snapshot_save(client: &mut KvClient, path: PathBuf) -> Result<ExitCode, Failure> {
    let resp = match client.request("GET", "/snapshot", b"", false, &[]) {
        Reply::Answer(r) if r.status == 200 => r,
        Reply::Answer(r) => {
            return Err(Failure::Failed(format!(
                "refused ({}): {}",
                r.status,
                message(&r)
            )));
        }
        Reply::Failed(why) | Reply::Unknown(why) => {
            return Err(Failure::Failed(format!("failed: {why}")));
        }
    };
    let (index, state) = node::read_snapshot_file(&resp.body)
        .map_err(|e| Failure::Failed(format!("the node sent a bad snapshot: {e}")))?;
    let tmp = path.with_extension("part");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&resp.body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| Failure::Failed(format!("cannot write {}: {e}", path.display())))?;
    outln!(
        "saved the state as of index {index} ({} keys, {} bytes) to {}",
        state.len(),
        resp.body.len(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn serve(args: &[String]) -> Result<ExitCode, Failure> {
    let mut opts: BTreeMap<&str, String> = BTreeMap::new();
    let mut flags: BTreeSet<&str> = BTreeSet::new();
    const FLAGS: [&str; 2] = ["--join", "--fault-injection"];
    const KNOWN: [&str; 10] = [
        "--id",
        "--peers",
        "--http",
        "--data",
        "--tick-ms",
        "--election-ticks",
        "--snapshot-every",
        "--request-timeout-ms",
        "--keep-entries",
        "--join-timeout-ms",
    ];
    let mut i = 0;
    while i < args.len() {
        if let Some(&flag) = FLAGS.iter().find(|f| **f == args[i]) {
            flags.insert(flag);
            i += 1;
            continue;
        }
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
    cfg.join_timeout = Duration::from_millis(number("--join-timeout-ms", 120_000)?);
    cfg.join = flags.contains("--join");
    cfg.fault_injection = flags.contains("--fault-injection");

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
