//! A cluster of local node processes, for the benchmarks: three nodes on
//! free 127.0.0.1 ports, each one the running program started again with
//! [`NODE_COMMAND`], their data and logs in one directory.
//!
//! A program that starts a [`Cluster`] hands its arguments to [`run_node`]
//! when the first one is [`NODE_COMMAND`]; that is how a node runs.
//! Dropping the cluster kills its nodes, so none outlives the program.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use crate::node::{self, NodeConfig};

/// The first argument that makes a program run as one node of its cluster.
pub const NODE_COMMAND: &str = "__node";

/// How many nodes a cluster has.
const NODES: usize = 3;

/// `__node ID PEERS HTTP DATA TICK_MS`: one node, as `kv serve` runs it.
/// `program` names the caller in messages; `log` is the log filter used
/// when `RUST_LOG` is not set.
pub fn run_node(program: &str, log: &str, args: &[String]) -> ExitCode {
    let parsed = (|| -> Option<NodeConfig> {
        let [id, peers, http, data, tick] = args else {
            return None;
        };
        let mut map = BTreeMap::new();
        for item in peers.split(',') {
            let (i, a) = item.split_once('=')?;
            map.insert(i.parse().ok()?, a.parse().ok()?);
        }
        let mut cfg = NodeConfig::new(id.parse().ok()?, map, http.parse().ok()?, data.into());
        cfg.tick = Duration::from_millis(tick.parse().ok()?);
        Some(cfg)
    })();
    let Some(cfg) = parsed else {
        eprintln!("{program} {NODE_COMMAND}: bad arguments {args:?}");
        return ExitCode::from(2);
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    match node::run(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program} node: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Three running nodes, numbered 0 to 2 here (ids 1 to 3); dropping it
/// kills them.
pub struct Cluster {
    exe: PathBuf,
    dir: PathBuf,
    remove_dir: bool,
    peers: String,
    http: Vec<String>,
    tick_ms: u64,
    children: Vec<Option<Child>>,
}

impl Cluster {
    /// Starts the nodes, ticking every `tick_ms`. They keep their data in
    /// `data`, emptied first, or else in a temporary directory named after
    /// `program`, removed on drop.
    pub fn start(program: &str, data: Option<&Path>, tick_ms: u64) -> Result<Cluster, String> {
        let (dir, remove_dir) = match data {
            Some(d) => (d.to_path_buf(), false),
            None => (
                std::env::temp_dir().join(format!("raftlab-{program}-{}", std::process::id())),
                true,
            ),
        };
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let ports = free_ports(2 * NODES)?;
        let peers: Vec<String> = (0..NODES)
            .map(|i| format!("{}=127.0.0.1:{}", i + 1, ports[i]))
            .collect();
        let mut c = Cluster {
            exe: std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?,
            dir,
            remove_dir,
            peers: peers.join(","),
            http: (0..NODES)
                .map(|i| format!("127.0.0.1:{}", ports[NODES + i]))
                .collect(),
            tick_ms,
            children: (0..NODES).map(|_| None).collect(),
        };
        for i in 0..NODES {
            c.spawn(i)?;
        }
        Ok(c)
    }

    /// The nodes' HTTP addresses, in node order.
    pub fn http(&self) -> &[String] {
        &self.http
    }

    /// The directory that holds the nodes' data and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts node `i` on its data; its log (`node<ID>.log`) is appended
    /// to, so a restart keeps what came before.
    pub fn spawn(&mut self, i: usize) -> Result<(), String> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("node{}.log", i + 1)))
            .map_err(|e| format!("cannot open a log file: {e}"))?;
        let child = Command::new(&self.exe)
            .arg(NODE_COMMAND)
            .arg((i + 1).to_string())
            .arg(&self.peers)
            .arg(&self.http[i])
            .arg(self.dir.join(format!("node{}", i + 1)))
            .arg(self.tick_ms.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start a node: {e}"))?;
        self.children[i] = Some(child);
        Ok(())
    }

    /// Kills node `i` with SIGKILL, if it runs, and waits for it to exit.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..NODES {
            self.kill(i);
        }
        if self.remove_dir {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// `n` ports that were free a moment ago, all bound at once so that they
/// differ.
fn free_ports(n: usize) -> Result<Vec<u16>, String> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot find a free port: {e}"))
}
