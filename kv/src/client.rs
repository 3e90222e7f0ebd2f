//! Talking to a cluster as a client: which node to ask, what to retry.
//!
//! [`KvClient`] knows every node's HTTP address. It asks one node and
//! moves on to the next when that one cannot be reached or answers 503
//! (no leader yet, or a read cut short by a leader change): those requests
//! did nothing, so asking again is safe. A write that got no answer, or a
//! 504, may or may not have been applied; it is reported, not retried.
//! When every attempt failed, the most informative reason is reported: what
//! a live node said ("no leader known") over a connection refused by a
//! dead one.

use std::time::{Duration, Instant};

use crate::http::{ClientError, ClientResponse, HttpClient, percent_decode, percent_encode};

/// The nodes `kv/cluster.sh` starts.
pub const DEFAULT_NODES: &str = "127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003";

/// What came of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The write was applied.
    Done,
    /// The value read; `None` when the key has none.
    Value(Option<Vec<u8>>),
    /// The server refused the request (4xx): it did nothing.
    Refused { status: u16, message: String },
    /// The request did not go through and did nothing (no node reachable,
    /// no leader within the time given).
    Failed(String),
    /// A write whose effect is unknown: it may have been applied.
    Unknown(String),
}

/// What a request through [`KvClient::request`] came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A final answer: 2xx, or a 4xx that retrying elsewhere cannot fix.
    Answer(ClientResponse),
    /// Nothing was done; the reason.
    Failed(String),
    /// A change whose effect is unknown; the reason.
    Unknown(String),
}

/// A client of a whole cluster.
pub struct KvClient {
    nodes: Vec<HttpClient>,
    /// The node to ask first: the last one that answered.
    preferred: usize,
    /// How long one call keeps retrying.
    pub retry_for: Duration,
}

impl KvClient {
    /// A client of the nodes at `addrs`; each HTTP exchange gives up after
    /// `timeout`.
    pub fn new(addrs: &[String], timeout: Duration) -> KvClient {
        KvClient {
            nodes: addrs.iter().map(|a| HttpClient::new(a, timeout)).collect(),
            preferred: 0,
            retry_for: Duration::from_secs(10),
        }
    }

    /// Asks only node `i` from now on (for tests that aim at one node).
    pub fn pin(&mut self, i: usize) {
        self.preferred = i % self.nodes.len().max(1);
    }

    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Outcome {
        self.call("PUT", key, value, true)
    }

    pub fn delete(&mut self, key: &[u8]) -> Outcome {
        self.call("DELETE", key, b"", true)
    }

    pub fn get(&mut self, key: &[u8]) -> Outcome {
        self.call("GET", key, b"", false)
    }

    /// The pairs whose key starts with `prefix` (at most `limit`), and
    /// whether more were left out.
    pub fn scan(&mut self, prefix: &[u8], limit: usize) -> Result<(Vec<Pair>, bool), Outcome> {
        let path = format!("/kv/{}?prefix&limit={limit}", percent_encode(prefix));
        let resp = match self.request("GET", &path, b"", false, &[]) {
            Reply::Answer(r) if r.status == 200 => r,
            Reply::Answer(r) => {
                return Err(Outcome::Refused {
                    status: r.status,
                    message: message(&r),
                });
            }
            Reply::Failed(why) | Reply::Unknown(why) => return Err(Outcome::Failed(why)),
        };
        let more = resp.header("x-more") == Some("true");
        let mut pairs = Vec::new();
        for line in resp.body_text().lines() {
            let bad = || Outcome::Failed(format!("a bad line in the answer: {line:?}"));
            let (k, v) = line.split_once(' ').ok_or_else(bad)?;
            pairs.push((
                percent_decode(k).map_err(|_| bad())?,
                percent_decode(v).map_err(|_| bad())?,
            ));
        }
        Ok((pairs, more))
    }

    fn call(&mut self, method: &str, key: &[u8], body: &[u8], is_write: bool) -> Outcome {
        let path = format!("/kv/{}", percent_encode(key));
        match self.request(method, &path, body, is_write, &[]) {
            Reply::Answer(resp) => match resp.status {
                200 if is_write => Outcome::Done,
                200 => Outcome::Value(Some(resp.body)),
                404 if !is_write => Outcome::Value(None),
                status => Outcome::Refused {
                    status,
                    message: message(&resp),
                },
            },
            Reply::Failed(why) => Outcome::Failed(why),
            Reply::Unknown(why) => Outcome::Unknown(why),
        }
    }

    /// Sends `method path` to the nodes in turn until one gives a final
    /// answer, for at most `retry_for`. 503, and the statuses in
    /// `retry_statuses`, are retried on the next node; so are connections
    /// refused. A change (`is_write`) that may have reached a node and got
    /// no answer, or a 504, is not retried: its effect is unknown.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
        is_write: bool,
        retry_statuses: &[u16],
    ) -> Reply {
        let started = Instant::now();
        // The most informative reason so far: an answer from a live node
        // (rank 2) beats a failure to reach one (rank 1).
        let mut best: (u8, String) = (0, String::from("no node was tried"));
        let mut note = |rank: u8, why: String| {
            if rank >= best.0 {
                best = (rank, why);
            }
        };
        // Bounded: every pass over the nodes waits a little, and the whole
        // call stops after `retry_for`.
        for attempt in 0..1000 {
            if attempt > 0 && started.elapsed() >= self.retry_for {
                break;
            }
            let i = (self.preferred + attempt) % self.nodes.len();
            let node = &mut self.nodes[i];
            match node.request(method, path, body) {
                Ok(resp) => match resp.status {
                    503 => note(2, format!("{}: {}", node.addr(), message(&resp))),
                    s if retry_statuses.contains(&s) => {
                        note(2, format!("{}: {}", node.addr(), message(&resp)))
                    }
                    504 if is_write => {
                        return Reply::Unknown(format!("{}: {}", node.addr(), message(&resp)));
                    }
                    504 => note(2, format!("{}: {}", node.addr(), message(&resp))),
                    _ => {
                        self.preferred = i;
                        return Reply::Answer(resp);
                    }
                },
                Err(ClientError::Connect(e)) => {
                    note(1, format!("{}: cannot connect: {e}", node.addr()));
                }
                Err(e) if is_write => return Reply::Unknown(format!("{}: {e}", node.addr())),
                Err(e) => note(1, format!("{}: {e}", node.addr())),
            }
            // Once every node was tried, wait before the next pass.
            if (attempt + 1) % self.nodes.len() == 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Reply::Failed(best.1)
    }
}

/// A key and its value.
pub type Pair = (Vec<u8>, Vec<u8>);

/// The reason in an error response, without the `error: ` prefix.
pub fn message(resp: &ClientResponse) -> String {
    let text = resp.body_text();
    let text = text.trim();
    text.strip_prefix("error: ").unwrap_or(text).to_string()
}

/// Splits `a,b,c` into addresses.
pub fn parse_nodes(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn a_live_nodes_reason_beats_a_refused_connection() {
        // One address refuses connections (nothing listens there), the
        // other answers 503 "no leader known": after retrying both, the
        // client reports what the live node said.
        let dead = TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_addr = dead.local_addr().unwrap().to_string();
        drop(dead);
        let live = TcpListener::bind("127.0.0.1:0").unwrap();
        let live_addr = live.local_addr().unwrap().to_string();
        // Bounded: the server answers at most 50 connections.
        std::thread::spawn(move || {
            for stream in live.incoming().take(50) {
                let Ok(mut s) = stream else { continue };
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let body = "error: no leader known (term 3)\n";
                let _ = write!(
                    s,
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: {}\r\nConnection: \
                     close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        // The dead node is asked last, so its error is the latest one.
        let mut client = KvClient::new(&[live_addr, dead_addr], Duration::from_secs(2));
        client.retry_for = Duration::from_millis(300);
        match client.put(b"k", b"v") {
            Outcome::Failed(why) => assert!(why.contains("no leader known"), "{why}"),
            other => panic!("got {other:?}"),
        }
    }
}
