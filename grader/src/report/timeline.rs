//! A timeline picture of one simulated run: a self-contained HTML page with
//! one lane per node over the ticks, role bands with their terms, messages
//! as arrows from send to delivery, partitions and crashes shaded, each
//! node's commit index, and the broken invariant marked at its tick.
//!
//! Under the lanes, each node's log at a chosen tick, the way the paper's
//! Figure 8 draws it: a box per entry with its index and term, the
//! committed and applied entries marked, and the node's role, term and
//! vote. The page opens on the tick of the violation (or the end of the
//! run); a click on the lanes, the slider or the arrow keys choose another.
//!
//! The page needs no network: its script and style are inline and the run's
//! data is embedded as JSON. It opens from disk in any browser.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use raftpb::StateType;

use crate::model::role_name;
use crate::sim::Event;

/// A stretch of ticks during which a node held one role in one term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleBand {
    pub node: u64,
    pub from_tick: u64,
    /// Exclusive; the end of the run for the last band.
    pub to_tick: u64,
    pub role: StateType,
    pub term: u64,
}

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Delivered,
    Dropped,
    /// A second copy the network made; delivered too.
    Duplicate,
    /// Sent and never delivered (a replayed schedule left it on the wire).
    Undelivered,
}

/// One message of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrow {
    pub from: u64,
    pub to: u64,
    pub send_tick: u64,
    /// For a dropped message, the tick it was dropped at.
    pub deliver_tick: u64,
    /// `MsgVote`, `MsgApp`, ...
    pub msg_type: String,
    /// The message on one line, as the trace prints it.
    pub label: String,
    pub fate: Fate,
}

/// A fault shaded over a stretch of ticks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shade {
    /// `node` was down.
    Crash {
        node: u64,
        from_tick: u64,
        to_tick: u64,
    },
    /// The cluster was split into `groups`.
    Partition {
        groups: Vec<Vec<u64>>,
        from_tick: u64,
        to_tick: u64,
    },
}

/// One node as it stood from `tick` on (until its next frame).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeFrame {
    pub tick: u64,
    pub node: u64,
    pub up: bool,
    pub role: StateType,
    pub term: u64,
    pub vote: u64,
    pub commit: u64,
    pub applied: u64,
    /// The term of each entry, index 1 first.
    pub log: Vec<u64>,
}

/// The picture's data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// What run this is: `replication::figure8 seed 0x51`.
    pub title: String,
    pub nodes: Vec<u64>,
    /// The last tick of the run.
    pub ticks: u64,
    pub roles: Vec<RoleBand>,
    pub arrows: Vec<Arrow>,
    pub shades: Vec<Shade>,
    /// (node, tick, new commit index).
    pub commits: Vec<(u64, u64, u64)>,
    /// The broken invariant, if any: (tick, nodes involved, message).
    pub violation: Option<(u64, Vec<u64>, String)>,
    /// Each node's log and standing, a frame whenever it changed.
    pub frames: Vec<NodeFrame>,
}

/// Follows each node's log and standing through the events, a frame per
/// change.
#[derive(Default)]
struct Frames {
    now: BTreeMap<u64, NodeFrame>,
    out: Vec<NodeFrame>,
}

impl Frames {
    fn node(&mut self, node: u64) -> &mut NodeFrame {
        self.now.entry(node).or_insert_with(|| NodeFrame {
            tick: 0,
            node,
            up: true,
            role: StateType::Follower,
            term: 0,
            vote: 0,
            commit: 0,
            applied: 0,
            log: Vec::new(),
        })
    }

    /// Records `node` as it stands now, at `tick`: one frame per node and
    /// tick, the last change of the tick winning.
    fn changed(&mut self, node: u64, tick: u64) {
        let mut frame = self.node(node).clone();
        frame.tick = tick;
        match self.out.last_mut() {
            Some(last) if last.node == node && last.tick == tick => *last = frame,
            _ => self.out.push(frame),
        }
    }

    fn see(&mut self, e: &Event) {
        let (node, tick) = match e {
            Event::Role { tick, node, to, .. } => {
                let f = self.node(*node);
                (f.role, f.term) = *to;
                (*node, *tick)
            }
            Event::Persist {
                tick,
                node,
                first,
                terms,
                hard_state,
            } => {
                let f = self.node(*node);
                if !terms.is_empty() {
                    f.log.truncate(first.saturating_sub(1) as usize);
                    f.log.extend_from_slice(terms);
                }
                f.vote = hard_state.vote;
                f.commit = hard_state.commit;
                f.term = f.term.max(hard_state.term);
                (*node, *tick)
            }
            Event::Commit { tick, node, to, .. } => {
                self.node(*node).commit = *to;
                (*node, *tick)
            }
            Event::Apply { tick, node, entry } => {
                self.node(*node).applied = entry.index;
                (*node, *tick)
            }
            Event::Crash { tick, node } => {
                self.node(*node).up = false;
                (*node, *tick)
            }
            Event::Restart {
                tick, node, term, ..
            } => {
                let f = self.node(*node);
                f.up = true;
                f.role = StateType::Follower;
                f.term = *term;
                f.applied = 0;
                (*node, *tick)
            }
            Event::Send { .. }
            | Event::Duplicate { .. }
            | Event::Drop { .. }
            | Event::Propose { .. }
            | Event::Campaign { .. }
            | Event::Partition { .. }
            | Event::Isolate { .. }
            | Event::Cut { .. }
            | Event::LossyLink { .. }
            | Event::Heal { .. }
            | Event::Faults { .. }
            | Event::Note { .. }
            | Event::Deliver { .. } => return,
        };
        self.changed(node, tick);
    }
}

impl Timeline {
    /// The picture of a simulated run from its events, with `failure` (a
    /// message `t=812: ...`, as the simulator fails) marked at its tick.
    pub fn from_events(title: &str, events: &[Event], failure: Option<&str>) -> Timeline {
        let mut t = Timeline {
            title: title.to_string(),
            ..Default::default()
        };
        let end = events.last().map_or(0, Event::tick) + 1;
        t.ticks = end;
        // Per node: the role band in progress (since, role, term) and
        // whether it is down (since when).
        let mut band: BTreeMap<u64, (u64, StateType, u64)> = BTreeMap::new();
        let mut down: BTreeMap<u64, u64> = BTreeMap::new();
        let mut nodes = std::collections::BTreeSet::new();
        // Messages in flight, to mark those lost on arrival: (from, to,
        // arrival tick, label) → arrow.
        let mut in_flight: BTreeMap<(u64, u64, u64, String), usize> = BTreeMap::new();
        let mut split: Option<(u64, Vec<Vec<u64>>)> = None;
        let mut frames = Frames::default();
        // A replayed schedule delivers its messages by decision: an arrow
        // ends where its delivery is, or nowhere.
        let replayed = events.iter().any(|e| matches!(e, Event::Deliver { .. }));
        for e in events {
            frames.see(e);
            match e {
                Event::Role {
                    tick,
                    node,
                    from,
                    to,
                } => {
                    nodes.insert(*node);
                    let (since, role, term) = band.remove(node).unwrap_or((0, from.0, from.1));
                    if *tick > since {
                        t.roles.push(RoleBand {
                            node: *node,
                            from_tick: since,
                            to_tick: *tick,
                            role,
                            term,
                        });
                    }
                    band.insert(*node, (*tick, to.0, to.1));
                }
                Event::Commit { tick, node, to, .. } => {
                    nodes.insert(*node);
                    t.commits.push((*node, *tick, *to));
                }
                Event::Send { tick, msg, arrives } | Event::Duplicate { tick, msg, arrives } => {
                    nodes.extend([msg.from, msg.to]);
                    let label = msg.to_string();
                    let fate = if matches!(e, Event::Duplicate { .. }) {
                        Fate::Duplicate
                    } else {
                        Fate::Delivered
                    };
                    let fate = if replayed && fate == Fate::Delivered {
                        Fate::Undelivered
                    } else {
                        fate
                    };
                    in_flight.insert((msg.from, msg.to, *arrives, label.clone()), t.arrows.len());
                    t.arrows.push(Arrow {
                        from: msg.from,
                        to: msg.to,
                        send_tick: *tick,
                        deliver_tick: *arrives,
                        msg_type: format!("{:?}", msg.msg_type),
                        label,
                        fate,
                    });
                }
                Event::Drop { tick, msg, .. } => {
                    nodes.extend([msg.from, msg.to]);
                    let label = msg.to_string();
                    match in_flight.remove(&(msg.from, msg.to, *tick, label.clone())) {
                        // Lost on arrival: the arrow already drawn ends in a drop.
                        Some(i) => t.arrows[i].fate = Fate::Dropped,
                        // Lost as it was sent.
                        None => t.arrows.push(Arrow {
                            from: msg.from,
                            to: msg.to,
                            send_tick: *tick,
                            deliver_tick: *tick + 1,
                            msg_type: format!("{:?}", msg.msg_type),
                            label,
                            fate: Fate::Dropped,
                        }),
                    }
                }
                Event::Crash { tick, node } => {
                    nodes.insert(*node);
                    if let Some((since, role, term)) = band.remove(node) {
                        t.roles.push(RoleBand {
                            node: *node,
                            from_tick: since,
                            to_tick: *tick,
                            role,
                            term,
                        });
                    }
                    down.insert(*node, *tick);
                }
                Event::Restart {
                    tick, node, term, ..
                } => {
                    nodes.insert(*node);
                    if let Some(since) = down.remove(node) {
                        t.shades.push(Shade::Crash {
                            node: *node,
                            from_tick: since,
                            to_tick: *tick,
                        });
                    }
                    band.insert(*node, (*tick, StateType::Follower, *term));
                }
                Event::Partition { tick, groups } => {
                    close_split(&mut t, &mut split, *tick);
                    split = Some((*tick, groups.clone()));
                }
                Event::Isolate { tick, node } => {
                    close_split(&mut t, &mut split, *tick);
                    let rest: Vec<u64> = nodes.iter().copied().filter(|n| n != node).collect();
                    split = Some((*tick, vec![vec![*node], rest]));
                }
                Event::Cut { tick, from, to } => {
                    close_split(&mut t, &mut split, *tick);
                    split = Some((*tick, vec![vec![*from], vec![*to]]));
                }
                Event::Heal { tick } => close_split(&mut t, &mut split, *tick),
                Event::Apply { node, .. }
                | Event::Propose { node, .. }
                | Event::Campaign { node, .. } => {
                    nodes.insert(*node);
                }
                Event::LossyLink { .. } | Event::Faults { .. } | Event::Note { .. } => {}
                Event::Deliver { tick, msg, sent } => {
                    let label = msg.to_string();
                    let found = t.arrows.iter().position(|a| {
                        a.fate == Fate::Undelivered
                            && a.send_tick == *sent
                            && a.from == msg.from
                            && a.to == msg.to
                            && a.label == label
                    });
                    match found {
                        Some(i) => {
                            t.arrows[i].fate = Fate::Delivered;
                            t.arrows[i].deliver_tick = *tick;
                        }
                        // A second delivery of one message: a duplicate.
                        None => t.arrows.push(Arrow {
                            from: msg.from,
                            to: msg.to,
                            send_tick: *sent,
                            deliver_tick: *tick,
                            msg_type: format!("{:?}", msg.msg_type),
                            label,
                            fate: Fate::Duplicate,
                        }),
                    }
                }
                Event::Persist { node, .. } => {
                    nodes.insert(*node);
                }
            }
        }
        close_split(&mut t, &mut split, end);
        for (node, (since, role, term)) in band {
            t.roles.push(RoleBand {
                node,
                from_tick: since,
                to_tick: end,
                role,
                term,
            });
        }
        for (node, since) in down {
            t.shades.push(Shade::Crash {
                node,
                from_tick: since,
                to_tick: end,
            });
        }
        t.nodes = nodes.into_iter().collect();
        t.violation = failure.map(|f| violation_of(f, end));
        t.frames = frames.out;
        t
    }
}

/// Shades the partition in force, if any, up to `now`.
fn close_split(t: &mut Timeline, split: &mut Option<(u64, Vec<Vec<u64>>)>, now: u64) {
    if let Some((from, groups)) = split.take() {
        t.shades.push(Shade::Partition {
            groups,
            from_tick: from,
            to_tick: now,
        });
    }
}

/// The tick and nodes a failure message names: `t=812: ... n2 ... n4 ...`.
fn violation_of(failure: &str, end: u64) -> (u64, Vec<u64>, String) {
    let tick = failure
        .strip_prefix("t=")
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(end.saturating_sub(1));
    let mut nodes: Vec<u64> = failure
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|w| w.strip_prefix('n').and_then(|id| id.parse().ok()))
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    (tick, nodes, failure.to_string())
}

/// `s` as a JSON string literal that can sit inside a `<script>`
/// element: `<` is escaped, so the data can never close it.
fn json_str(s: &str) -> String {
    serde_json::Value::from(s)
        .to_string()
        .replace('<', "\\u003c")
}

fn json_ids(ids: &[u64]) -> String {
    let parts: Vec<String> = ids.iter().map(u64::to_string).collect();
    format!("[{}]", parts.join(","))
}

impl Timeline {
    /// The run's data as JSON, the form the page embeds.
    pub fn to_json(&self) -> String {
        let mut j = String::new();
        let _ = write!(
            j,
            "{{\"title\":{},\"nodes\":{},\"ticks\":{},",
            json_str(&self.title),
            json_ids(&self.nodes),
            self.ticks
        );
        let roles: Vec<String> = self
            .roles
            .iter()
            .map(|b| {
                format!(
                    "{{\"node\":{},\"from\":{},\"to\":{},\"role\":{},\"term\":{}}}",
                    b.node,
                    b.from_tick,
                    b.to_tick,
                    json_str(role_name(b.role)),
                    b.term
                )
            })
            .collect();
        let _ = write!(j, "\"roles\":[{}],", roles.join(","));
        let arrows: Vec<String> = self
            .arrows
            .iter()
            .map(|a| {
                let fate = match a.fate {
                    Fate::Delivered => "delivered",
                    Fate::Dropped => "dropped",
                    Fate::Duplicate => "duplicate",
                    Fate::Undelivered => "undelivered",
                };
                format!(
                    "{{\"from\":{},\"to\":{},\"sent\":{},\"at\":{},\"type\":{},\"label\":{},\"fate\":{}}}",
                    a.from,
                    a.to,
                    a.send_tick,
                    a.deliver_tick,
                    json_str(&a.msg_type),
                    json_str(&a.label),
                    json_str(fate)
                )
            })
            .collect();
        let _ = write!(j, "\"arrows\":[{}],", arrows.join(","));
        let shades: Vec<String> = self
            .shades
            .iter()
            .map(|s| match s {
                Shade::Crash {
                    node,
                    from_tick,
                    to_tick,
                } => format!(
                    "{{\"kind\":\"crash\",\"nodes\":[{node}],\"from\":{from_tick},\"to\":{to_tick}}}"
                ),
                Shade::Partition {
                    groups,
                    from_tick,
                    to_tick,
                } => {
                    let gs: Vec<String> = groups.iter().map(|g| json_ids(g)).collect();
                    format!(
                        "{{\"kind\":\"partition\",\"groups\":[{}],\"from\":{from_tick},\"to\":{to_tick}}}",
                        gs.join(",")
                    )
                }
            })
            .collect();
        let _ = write!(j, "\"shades\":[{}],", shades.join(","));
        let commits: Vec<String> = self
            .commits
            .iter()
            .map(|(n, t, c)| format!("[{n},{t},{c}]"))
            .collect();
        let _ = write!(j, "\"commits\":[{}],", commits.join(","));
        let frames: Vec<String> = self
            .frames
            .iter()
            .map(|f| {
                // The log as runs of one term: [[term, count], ...].
                let mut runs: Vec<(u64, u64)> = Vec::new();
                for &term in &f.log {
                    match runs.last_mut() {
                        Some((t, n)) if *t == term => *n += 1,
                        _ => runs.push((term, 1)),
                    }
                }
                let runs: Vec<String> = runs.iter().map(|(t, n)| format!("[{t},{n}]")).collect();
                format!(
                    "{{\"t\":{},\"n\":{},\"up\":{},\"role\":{},\"term\":{},\"vote\":{},\"commit\":{},\"applied\":{},\"log\":[{}]}}",
                    f.tick,
                    f.node,
                    f.up,
                    json_str(role_name(f.role)),
                    f.term,
                    f.vote,
                    f.commit,
                    f.applied,
                    runs.join(",")
                )
            })
            .collect();
        let _ = write!(j, "\"frames\":[{}],", frames.join(","));
        match &self.violation {
            Some((tick, nodes, msg)) => {
                let _ = write!(
                    j,
                    "\"violation\":{{\"tick\":{tick},\"nodes\":{},\"message\":{}}}",
                    json_ids(nodes),
                    json_str(msg)
                );
            }
            None => j.push_str("\"violation\":null"),
        }
        j.push('}');
        j
    }

    /// The self-contained HTML page.
    pub fn to_html(&self) -> String {
        PAGE.replace("__TITLE__", &html_escape(&self.title))
            .replace("__DATA__", &self.to_json())
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page: inline style and script; `__DATA__` is replaced by the run.
const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>RaftLab timeline: __TITLE__</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 12px; color: #222; }
h1 { font-size: 16px; margin: 0 0 6px; }
#violation { color: #b00020; font-weight: 600; margin: 4px 0; }
#controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin: 6px 0; }
#controls fieldset { border: 1px solid #ccc; padding: 2px 8px; }
#controls label { margin-right: 6px; white-space: nowrap; }
#chart { border: 1px solid #ddd; overflow-x: auto; }
#details { font-family: ui-monospace, monospace; min-height: 1.4em; margin-top: 6px; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 4px; border-radius: 3px; }
.follower { fill: #e8eef7; background: #e8eef7; }
.pre-candidate { fill: #fdf1c7; background: #fdf1c7; }
.candidate { fill: #fbd38d; background: #fbd38d; }
.leader { fill: #9ae6b4; background: #9ae6b4; }
.arrow { stroke: #4a5568; stroke-width: 1; fill: none; opacity: 0.6; }
.arrow.dropped { stroke: #e53e3e; stroke-dasharray: 4 3; }
.arrow.duplicate { stroke: #805ad5; }
.arrow:hover { stroke-width: 3; opacity: 1; }
.crash { fill: #718096; opacity: 0.35; }
.partition { fill: #fed7d7; opacity: 0.45; }
.lane-label { font-weight: 600; }
.commit { font-size: 10px; fill: #2b6cb0; }
.violation-line { stroke: #b00020; stroke-width: 2; }
.arrow.undelivered { stroke: #a0aec0; stroke-dasharray: 2 3; }
.cursor-line { stroke: #2b6cb0; stroke-width: 1.5; stroke-dasharray: 4 3; }
#logs-head { margin-top: 10px; }
#logs { font-family: ui-monospace, monospace; margin-top: 4px; }
.logrow { display: flex; align-items: center; margin: 4px 0; }
.logrow .who { width: 330px; white-space: nowrap; }
.box { display: inline-block; width: 34px; height: 30px; border: 1px solid #a0aec0; margin-right: 2px;
       text-align: center; font-size: 12px; line-height: 14px; position: relative; box-sizing: border-box; }
.box .i { display: block; color: #4a5568; font-size: 9px; }
.box.committed { border: 2px solid #2b6cb0; }
.box.applied::after { content: "✓"; position: absolute; right: 2px; bottom: 0; font-size: 9px; color: #2f855a; }
.logrow.down { opacity: 0.45; }
.marks { font-size: 11px; color: #4a5568; margin-left: 8px; }
</style>
</head>
<body>
<h1 id="title"></h1>
<div id="violation"></div>
<div class="legend">
  <span class="follower">follower</span><span class="pre-candidate">pre-candidate</span>
  <span class="candidate">candidate</span><span class="leader">leader</span>
  <span style="background:#fed7d7">partitioned</span><span style="background:#cbd5e0">crashed</span>
  <span style="color:#e53e3e">- - dropped</span><span style="color:#805ad5">— duplicate</span>
</div>
<div id="controls">
  <fieldset id="types"><legend>message types</legend></fieldset>
  <fieldset id="nodes"><legend>nodes</legend></fieldset>
  <fieldset><legend>ticks</legend>
    from <input id="from" type="number" min="0" style="width:6em">
    to <input id="to" type="number" min="0" style="width:6em">
    <button id="all">whole run</button>
  </fieldset>
</div>
<div id="chart"></div>
<div id="details">Hover over a message to see its fields.</div>
<div id="logs-head"><b>Each node at t=<span id="at"></span></b>
  <input id="cursor" type="range" min="0" style="width:40em">
  <span class="marks">click the lanes or use ← → to move; blue frame: committed, ✓: applied</span></div>
<div id="logs"></div>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const NS = "http://www.w3.org/2000/svg";
const LANE = 46, TOP = 24, LEFT = 52, WIDTH = 1400;
// Open on the ticks that matter: around the violation when there is one.
const state = { types: new Set(), nodes: new Set(D.nodes), from: 0, to: Math.max(D.ticks, 1) };
if (D.violation && D.ticks > 300) {
  state.from = Math.max(0, D.violation.tick - 150);
  state.to = Math.min(D.ticks, D.violation.tick + 50);
}
for (const a of D.arrows) state.types.add(a.type);

document.getElementById("title").textContent = "RaftLab timeline: " + D.title;
if (D.violation) {
  const m = D.violation.message;
  document.getElementById("violation").textContent =
    m.startsWith("t=") ? m : "t=" + D.violation.tick + ": " + m;
}

function checkbox(parent, value, label, set) {
  const l = document.createElement("label");
  const c = document.createElement("input");
  c.type = "checkbox"; c.checked = true; c.dataset.value = value;
  c.addEventListener("change", () => { c.checked ? set.add(value) : set.delete(value); draw(); });
  l.appendChild(c); l.appendChild(document.createTextNode(" " + label));
  parent.appendChild(l);
}
for (const t of [...state.types].sort()) checkbox(document.getElementById("types"), t, t, state.types);
for (const n of D.nodes) checkbox(document.getElementById("nodes"), n, "n" + n, state.nodes);
const fromIn = document.getElementById("from"), toIn = document.getElementById("to");
fromIn.value = state.from; toIn.value = state.to;
fromIn.addEventListener("change", () => { state.from = Math.max(0, +fromIn.value); draw(); });
toIn.addEventListener("change", () => { state.to = Math.max(state.from + 1, +toIn.value); draw(); });
document.getElementById("all").addEventListener("click", () => {
  state.from = 0; state.to = Math.max(D.ticks, 1); fromIn.value = state.from; toIn.value = state.to; draw();
});

const FRAMES = D.frames || [];
let cursor = D.violation ? D.violation.tick : Math.max(D.ticks - 1, 0);
const cursorIn = document.getElementById("cursor");
cursorIn.max = Math.max(D.ticks - 1, 0);
cursorIn.value = cursor;
cursorIn.addEventListener("input", () => { cursor = +cursorIn.value; draw(); });
document.addEventListener("keydown", ev => {
  if (ev.target.tagName === "INPUT" && ev.target.type !== "range") return;
  if (ev.key === "ArrowLeft") cursor = Math.max(0, cursor - 1);
  else if (ev.key === "ArrowRight") cursor = Math.min(D.ticks - 1, cursor + 1);
  else return;
  cursorIn.value = cursor; draw();
});

// The latest frame of node n at or before tick t.
function frameAt(n, t) {
  let best = null;
  for (const f of FRAMES) if (f.n === n && f.t <= t) best = f;
  return best;
}

function termColour(term) { return "hsl(" + ((term * 67) % 360) + ", 65%, 84%)"; }

function drawLogs() {
  document.getElementById("at").textContent = cursor;
  const logs = document.getElementById("logs");
  logs.replaceChildren();
  for (const n of D.nodes) {
    const f = frameAt(n, cursor);
    const row = document.createElement("div");
    row.className = "logrow" + (f && !f.up ? " down" : "");
    const who = document.createElement("span");
    who.className = "who";
    if (!f) who.textContent = "n" + n + " follower@0 vote none";
    else who.textContent = "n" + n + " " + (f.up ? f.role : "down") + "@" + f.term +
      " vote " + (f.vote ? "n" + f.vote : "none") + "  commit " + f.commit + " applied " + f.applied;
    row.appendChild(who);
    let index = 1;
    for (const [term, count] of (f ? f.log : [])) {
      for (let k = 0; k < count; k++, index++) {
        const b = document.createElement("span");
        b.className = "box" + (index <= f.commit ? " committed" : "") + (index <= f.applied ? " applied" : "");
        b.style.background = termColour(term);
        b.title = "n" + n + " entry " + index + ", term " + term;
        const i = document.createElement("span");
        i.className = "i"; i.textContent = index;
        b.appendChild(i);
        b.appendChild(document.createTextNode(term));
        row.appendChild(b);
      }
    }
    if (index === 1) {
      const empty = document.createElement("span");
      empty.className = "marks"; empty.textContent = "(empty log)";
      row.appendChild(empty);
    }
    logs.appendChild(row);
  }
}

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

function draw() {
  const lanes = D.nodes.filter(n => state.nodes.has(n));
  const y = n => TOP + lanes.indexOf(n) * LANE + LANE / 2;
  const span = Math.max(state.to - state.from, 1);
  const x = t => LEFT + (Math.min(Math.max(t, state.from), state.to) - state.from) * (WIDTH - LEFT - 10) / span;
  const visible = (a, b) => b >= state.from && a <= state.to;
  const svg = el("svg", { width: WIDTH, height: TOP + lanes.length * LANE + 20, id: "svg" });
  const defs = el("defs", {}, svg);
  const marker = el("marker", { id: "head", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" }, defs);
  el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#4a5568" }, marker);

  for (const s of D.shades) {
    if (!visible(s.from, s.to)) continue;
    if (s.kind === "crash") {
      if (!lanes.includes(s.nodes[0])) continue;
      const r = el("rect", { class: "crash", x: x(s.from), y: y(s.nodes[0]) - LANE / 2 + 2, width: Math.max(x(s.to) - x(s.from), 1), height: LANE - 4 }, svg);
      el("title", {}, r).textContent = "n" + s.nodes[0] + " crashed, t=" + s.from + "–" + s.to;
    } else {
      const minority = s.groups.slice().sort((a, b) => a.length - b.length)[0] || [];
      for (const n of minority) {
        if (!lanes.includes(n)) continue;
        const r = el("rect", { class: "partition", x: x(s.from), y: y(n) - LANE / 2 + 2, width: Math.max(x(s.to) - x(s.from), 1), height: LANE - 4 }, svg);
        el("title", {}, r).textContent = "partition " + s.groups.map(g => "{" + g.join(",") + "}").join(" | ") + ", t=" + s.from + "–" + s.to;
      }
    }
  }
  for (const b of D.roles) {
    if (!lanes.includes(b.node) || !visible(b.from, b.to)) continue;
    const w = Math.max(x(b.to) - x(b.from), 1);
    const r = el("rect", { class: "role " + b.role, x: x(b.from), y: y(b.node) - 9, width: w, height: 18 }, svg);
    el("title", {}, r).textContent = "n" + b.node + " " + b.role + " term " + b.term + ", t=" + b.from + "–" + b.to;
    if (w > 28) {
      const t = el("text", { x: x(b.from) + 3, y: y(b.node) + 4, "font-size": 11 }, svg);
      t.textContent = b.role[0].toUpperCase() + "@" + b.term;
    }
  }
  for (const n of lanes) {
    const t = el("text", { class: "lane-label", x: 6, y: y(n) + 4 }, svg);
    t.textContent = "n" + n;
  }
  for (const [n, t, c] of D.commits) {
    if (!lanes.includes(n) || t < state.from || t > state.to) continue;
    const e = el("text", { class: "commit", x: x(t), y: y(n) + 20 }, svg);
    e.textContent = c;
    el("title", {}, e).textContent = "n" + n + " commit " + c + " at t=" + t;
  }
  let shown = 0;
  for (const a of D.arrows) {
    if (!state.types.has(a.type) || !lanes.includes(a.from) || !lanes.includes(a.to)) continue;
    if (!visible(a.sent, a.at)) continue;
    const line = el("line", { class: "arrow " + a.fate, x1: x(a.sent), y1: y(a.from), x2: x(a.at), y2: y(a.to), "marker-end": a.fate === "dropped" ? "" : "url(#head)" }, svg);
    line.dataset.label = a.label;
    el("title", {}, line).textContent = "t=" + a.sent + "→" + a.at + " " + a.label + (a.fate === "delivered" ? "" : " (" + a.fate + ")");
    line.addEventListener("mouseover", () => {
      document.getElementById("details").textContent = "t=" + a.sent + " → t=" + a.at + "  " + a.label + "  [" + a.fate + "]";
    });
    shown++;
  }
  if (D.violation && D.violation.tick >= state.from && D.violation.tick <= state.to) {
    const vx = x(D.violation.tick);
    const v = el("line", { class: "violation-line", id: "violation-marker", x1: vx, y1: 4, x2: vx, y2: TOP + lanes.length * LANE }, svg);
    el("title", {}, v).textContent = "t=" + D.violation.tick + ": " + D.violation.message;
    const right = vx > WIDTH * 0.6;
    const t = el("text", { x: right ? vx - 4 : vx + 4, y: 14, fill: "#b00020", "font-weight": 600, "text-anchor": right ? "end" : "start" }, svg);
    t.textContent = "✗ " + D.violation.message.slice(0, 80);
  }
  if (cursor >= state.from && cursor <= state.to) {
    const cx = x(cursor);
    el("line", { class: "cursor-line", id: "cursor-marker", x1: cx, y1: 4, x2: cx, y2: TOP + lanes.length * LANE }, svg);
  }
  svg.addEventListener("click", ev => {
    const r = svg.getBoundingClientRect();
    const t = state.from + Math.round((ev.clientX - r.left - LEFT) * span / (WIDTH - LEFT - 10));
    cursor = Math.min(Math.max(t, 0), Math.max(D.ticks - 1, 0));
    cursorIn.value = cursor;
    draw();
  });
  svg.dataset.arrows = shown;
  const chart = document.getElementById("chart");
  chart.replaceChildren(svg);
  drawLogs();
}
draw();
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Timeline {
        Timeline {
            title: "replication::figure8 seed 0x51".into(),
            nodes: vec![1, 2, 3],
            ticks: 40,
            roles: vec![RoleBand {
                node: 1,
                from_tick: 0,
                to_tick: 40,
                role: StateType::Leader,
                term: 2,
            }],
            arrows: vec![Arrow {
                from: 1,
                to: 2,
                send_tick: 3,
                deliver_tick: 4,
                msg_type: "MsgApp".into(),
                label: "MsgApp 1→2 term=2 prev=0@0 commit=0 entries=[1@2 \"</script>\"]".into(),
                fate: Fate::Dropped,
            }],
            shades: vec![Shade::Partition {
                groups: vec![vec![1], vec![2, 3]],
                from_tick: 5,
                to_tick: 9,
            }],
            commits: vec![(1, 4, 1)],
            violation: Some((30, vec![1, 2], "state machine safety: \"x\"".into())),
            frames: vec![NodeFrame {
                tick: 3,
                node: 1,
                up: true,
                role: StateType::Leader,
                term: 2,
                vote: 1,
                commit: 1,
                applied: 1,
                log: vec![1, 2, 2],
            }],
        }
    }

    #[test]
    fn frames_follow_each_nodes_log_and_standing() {
        use crate::model::event::{EntryInfo, MsgInfo};
        use raftpb::{HardState, Message, MessageType};
        let vote = Message::new(MessageType::MsgVote, 1, 2);
        let events = vec![
            Event::Persist {
                tick: 0,
                node: 2,
                first: 1,
                terms: vec![1, 1],
                hard_state: HardState {
                    term: 1,
                    vote: 0,
                    commit: 1,
                },
            },
            Event::Role {
                tick: 1,
                node: 1,
                from: (StateType::Follower, 0),
                to: (StateType::Candidate, 2),
            },
            Event::Send {
                tick: 1,
                msg: MsgInfo::of(&vote),
                arrives: 2,
            },
            Event::Deliver {
                tick: 4,
                msg: MsgInfo::of(&vote),
                sent: 1,
            },
            Event::Persist {
                tick: 4,
                node: 2,
                first: 2,
                terms: vec![2],
                hard_state: HardState {
                    term: 2,
                    vote: 1,
                    commit: 1,
                },
            },
            Event::Apply {
                tick: 4,
                node: 2,
                entry: EntryInfo {
                    index: 1,
                    term: 1,
                    data: String::new(),
                },
            },
        ];
        let t = Timeline::from_events("x", &events, None);
        let last = t.frames.iter().rev().find(|f| f.node == 2).unwrap();
        assert_eq!(
            (last.tick, last.term, last.vote, last.commit, last.applied),
            (4, 2, 1, 1, 1)
        );
        assert_eq!(last.log, vec![1, 2], "entry 2 replaced from index 2 on");
        assert_eq!(t.frames.iter().filter(|f| f.node == 2).count(), 2);
        // The replayed delivery ends the arrow where it happened.
        assert_eq!(t.arrows.len(), 1);
        assert_eq!(
            (t.arrows[0].fate, t.arrows[0].deliver_tick),
            (Fate::Delivered, 4)
        );
        assert!(t.to_json().contains("\"log\":[[1,1],[2,1]]"));
    }

    #[test]
    fn data_cannot_close_the_script_element() {
        let html = sample().to_html();
        let data = html.split("id=\"data\">").nth(1).unwrap();
        let data = data.split("</script>").next().unwrap();
        assert!(
            data.contains("\\u003c/script>"),
            "the label's </script> must be escaped"
        );
        assert!(data.contains("\"violation\":{\"tick\":30"));
    }

    #[test]
    fn json_escapes_quotes_and_controls() {
        assert_eq!(json_str("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }

    #[test]
    fn the_page_fetches_nothing() {
        let html = sample().to_html();
        for bad in ["http://", "https://", "src=", "@import"] {
            let hits: Vec<&str> = html
                .lines()
                .filter(|l| l.contains(bad) && !l.contains(NS_LINE))
                .collect();
            assert!(
                hits.is_empty(),
                "the page must be self-contained, found {bad:?} in {hits:?}"
            );
        }
    }

    #[test]
    fn failures_name_their_tick_and_nodes() {
        assert_eq!(
            violation_of(
                "t=812: state machine safety: n2 applied 7@3 but n4 applied 7@4",
                900
            ),
            (
                812,
                vec![2, 4],
                "t=812: state machine safety: n2 applied 7@3 but n4 applied 7@4".into()
            )
        );
        assert_eq!(violation_of("no tick here", 50).0, 49);
    }

    /// The SVG namespace is an identifier, not a fetch.
    const NS_LINE: &str = "http://www.w3.org/2000/svg";
}
