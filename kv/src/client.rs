//! Talking to a cluster as a client: which node to ask, what to retry.
//!
//! [`KvClient`] knows every node's HTTP address. It asks one node and
//! moves on to the next when that one cannot be reached or answers 503
//! (no leader yet, or a read cut short by a leader change): those requests
//! did nothing, so asking again is safe. A write that got no answer, or a
//! 504, may or may not have been applied; it is reported, not retried.

use std::time::{Duration, Instant};

use crate::http::{ClientError, ClientResponse, HttpClient, percent_encode};

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

    fn call(&mut self, method: &str, key: &[u8], body: &[u8], is_write: bool) -> Outcome {
        let path = format!("/kv/{}", percent_encode(key));
        let started = Instant::now();
        let mut last_problem = String::from("no node was tried");
        // Bounded: every pass over the nodes waits a little, and the whole
        // call stops after `retry_for`.
        for attempt in 0..1000 {
            if attempt > 0 && started.elapsed() >= self.retry_for {
                break;
            }
            let i = (self.preferred + attempt) % self.nodes.len();
            let node = &mut self.nodes[i];
            let result = node.request(method, &path, body);
            match result {
                Ok(resp) => match resp.status {
                    200 => {
                        self.preferred = i;
                        return if is_write {
                            Outcome::Done
                        } else {
                            Outcome::Value(Some(resp.body))
                        };
                    }
                    404 if !is_write => {
                        self.preferred = i;
                        return Outcome::Value(None);
                    }
                    503 => last_problem = format!("{}: {}", node.addr(), message(&resp)),
                    504 if is_write => {
                        return Outcome::Unknown(format!("{}: {}", node.addr(), message(&resp)));
                    }
                    504 => last_problem = format!("{}: {}", node.addr(), message(&resp)),
                    status => {
                        return Outcome::Refused {
                            status,
                            message: message(&resp),
                        };
                    }
                },
                Err(ClientError::Connect(e)) => {
                    last_problem = format!("{}: cannot connect: {e}", node.addr());
                }
                Err(e) if is_write => return Outcome::Unknown(format!("{}: {e}", node.addr())),
                Err(e) => last_problem = format!("{}: {e}", node.addr()),
            }
            // Once every node was tried, wait before the next pass.
            if (attempt + 1) % self.nodes.len() == 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Outcome::Failed(last_problem)
    }
}

fn message(resp: &ClientResponse) -> String {
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
