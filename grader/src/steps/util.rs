//! Helpers shared by the step suites: building a node in a known state
//! without passing through other steps' holes, and describing what it did.

use raft::{
    ConfState, Config, Entry, HardState, MemStorage, Message, MessageType, Progress, Raft,
    StateType,
};

use crate::case::{Case, Ctx, Failure, Kind, Outcome};
use crate::sim::event::role_name;
use crate::skeleton::Step;

/// The election timeout of test nodes, in ticks. The randomized timeout is
/// in `[ELECTION_TICK, 2 * ELECTION_TICK)`.
pub const ELECTION_TICK: usize = 10;
/// The heartbeat interval of test nodes, in ticks.
pub const HEARTBEAT_TICK: usize = 1;

/// A config for node `id` with the test clocks.
pub fn config(id: u64) -> Config {
    let mut c = Config::new(id);
    c.election_tick = ELECTION_TICK;
    c.heartbeat_tick = HEARTBEAT_TICK;
    c
}

/// Storage for a cluster of `peers`, holding `log` (entries of the given
/// terms at indexes 1, 2, ...) and the hard state `term` (and `vote`).
pub fn storage(peers: &[u64], log_terms: &[u64], term: u64, vote: u64) -> MemStorage {
    let store = MemStorage::new_with_conf_state(ConfState {
        voters: peers.to_vec(),
        learners: Vec::new(),
    });
    let ents: Vec<Entry> = log_terms
        .iter()
        .enumerate()
        .map(|(i, &t)| Entry::new(t, i as u64 + 1, b""))
        .collect();
    {
        let mut core = store.wl();
        core.append(&ents).expect("test log entries are contiguous");
        core.set_hard_state(HardState {
            term,
            vote,
            commit: 0,
        });
    }
    store
}

/// A follower `id` of a cluster of `peers`, with an empty log, at term 0.
pub fn new_raft(id: u64, peers: &[u64]) -> Raft<MemStorage> {
    new_raft_with(config(id), storage(peers, &[], 0, 0))
}

/// A follower built from `cfg` and `store`. Panics if the test set-up
/// itself is invalid (a bug in the grader, not in the student's code).
pub fn new_raft_with(cfg: Config, store: MemStorage) -> Raft<MemStorage> {
    let id = cfg.id;
    Raft::new(&cfg, store).unwrap_or_else(|e| panic!("grader set-up: node {id}: {e}"))
}

/// A follower `id` of `peers` whose log holds entries of `log_terms` and
/// whose term is `term`.
pub fn follower_with_log(id: u64, peers: &[u64], log_terms: &[u64], term: u64) -> Raft<MemStorage> {
    new_raft_with(config(id), storage(peers, log_terms, term, 0))
}

/// Node `id` as the leader of `term`, over a log of `log_terms`, reached
/// without any of the lab's holes: through the pre-candidate role, which is
/// not a hole, straight to `become_leader`, which is not one either. Its
/// messages (none are expected) are cleared. The leader appended the empty
/// entry of its term at `log_terms.len() + 1`.
pub fn leader_at(id: u64, peers: &[u64], log_terms: &[u64], term: u64) -> Raft<MemStorage> {
    let mut r = new_raft_with(config(id), storage(peers, log_terms, term, id));
    r.become_pre_candidate();
    r.become_leader();
    assert_eq!(
        r.state,
        StateType::Leader,
        "grader set-up: node {id} did not become leader"
    );
    r.msgs.clear();
    r
}

/// A message of type `t` from `from` to `to` at `term`.
pub fn msg(t: MessageType, from: u64, to: u64, term: u64) -> Message {
    let mut m = Message::new(t, from, to);
    m.term = term;
    m
}

/// Takes the node's outgoing messages, sorted by recipient then type, so
/// comparisons do not depend on the order a correct node happens to use.
pub fn take_sorted(r: &mut Raft<MemStorage>) -> Vec<Message> {
    let mut ms = r.take_msgs();
    ms.sort_by_key(|m| (m.to, m.msg_type));
    ms
}

/// One line per message, for failure reports: `[MsgVote 1→2 term=2 last=0@0]`.
pub fn describe(msgs: &[Message]) -> String {
    if msgs.is_empty() {
        return "no messages".to_string();
    }
    let lines: Vec<String> = msgs.iter().map(|m| format!("{m:?}")).collect();
    format!("[{}]", lines.join(", "))
}

/// Ticks `r` `n` times.
pub fn tick_n(r: &mut Raft<MemStorage>, n: usize) {
    for _ in 0..n {
        r.tick();
    }
}

/// The terms of every entry in `r`'s log, index 1 first.
pub fn log_terms(r: &Raft<MemStorage>) -> Vec<u64> {
    r.raft_log.all_entries().iter().map(|e| e.term).collect()
}

// ── Helpers of the replication suites ────────────────────────────────────

/// Storage like [`storage`], whose hard state also records `commit`: a node
/// that restarts knowing entries up to `commit` are committed.
pub fn storage_with_commit(
    peers: &[u64],
    log_terms: &[u64],
    term: u64,
    vote: u64,
    commit: u64,
) -> MemStorage {
    let store = storage(peers, log_terms, term, vote);
    store.wl().set_hard_state(HardState { term, vote, commit });
    store
}

/// A follower like [`follower_with_log`] that restarts with `commit`.
pub fn follower_with_commit(
    id: u64,
    peers: &[u64],
    log_terms: &[u64],
    term: u64,
    commit: u64,
) -> Raft<MemStorage> {
    new_raft_with(
        config(id),
        storage_with_commit(peers, log_terms, term, 0, commit),
    )
}

/// Node `cfg.id` as the leader of the term stored in `store` (which should
/// record a vote for itself), reached without any hole as [`leader_at`]
/// does, with its own config: a size limit, say. Its messages are cleared.
pub fn leader_from(cfg: Config, store: MemStorage) -> Raft<MemStorage> {
    let id = cfg.id;
    let mut r = new_raft_with(cfg, store);
    r.become_pre_candidate();
    r.become_leader();
    assert_eq!(
        r.state,
        StateType::Leader,
        "grader set-up: node {id} did not become leader"
    );
    r.msgs.clear();
    r
}

/// The leader's progress of `id`, to put a follower in a known state.
/// Panics if `id` is not in the cluster (a bug in the grader's set-up).
pub fn progress_mut(r: &mut Raft<MemStorage>, id: u64) -> &mut Progress {
    let me = r.id;
    r.prs
        .get_mut(id)
        .unwrap_or_else(|| panic!("grader set-up: node {me} has no progress for {id}"))
}

/// An entry `index`@`term` carrying `data`.
pub fn ent(term: u64, index: u64, data: &str) -> Entry {
    Entry::new(term, index, data.as_bytes())
}

/// A proposal of entries carrying `data`, one entry each, as an application
/// steps it into node `to` (no term: proposals are not part of a term).
pub fn proposal(to: u64, data: &[&str]) -> Message {
    let mut m = Message::new(MessageType::MsgProp, to, to);
    m.entries = data.iter().map(|d| ent(0, 0, d)).collect();
    m
}

/// `MsgApp` from `from` to `to` at `term`: the entries after
/// `prev_index`@`prev_term`, and the leader's commit index.
pub fn app(
    from: u64,
    to: u64,
    term: u64,
    (prev_index, prev_term): (u64, u64),
    entries: Vec<Entry>,
    commit: u64,
) -> Message {
    let mut m = msg(MessageType::MsgApp, from, to, term);
    m.index = prev_index;
    m.log_term = prev_term;
    m.entries = entries;
    m.commit = commit;
    m
}

/// A successful `MsgAppResp`: `from` holds the leader's log up to `index`.
pub fn app_resp(from: u64, to: u64, term: u64, index: u64) -> Message {
    let mut m = msg(MessageType::MsgAppResp, from, to, term);
    m.index = index;
    m
}

/// A rejected `MsgAppResp` for the append after `index`, with the hint
/// `hint_index`@`hint_term`.
pub fn app_reject(
    from: u64,
    to: u64,
    term: u64,
    index: u64,
    (hint_index, hint_term): (u64, u64),
) -> Message {
    let mut m = app_resp(from, to, term, index);
    m.reject = true;
    m.reject_hint = hint_index;
    m.log_term = hint_term;
    m
}

/// The entries of `r`'s log, index 1 first: `[1@1, 2@2 "x"]`.
pub fn log_of(r: &Raft<MemStorage>) -> Vec<Entry> {
    r.raft_log.all_entries()
}

/// A message as a trace line: `n1→n2 MsgApp term=2 prev=1@1 commit=1
/// entries=[2@2 "x"]`.
pub fn trace_msg(m: &Message) -> String {
    let full = format!("{m:?}");
    // The Debug form starts with `MsgApp 1→2 `; the trace puts the route first.
    let rest = full.splitn(3, ' ').nth(2).unwrap_or("");
    format!("n{}→n{} {:?} {rest}", m.from, m.to, m.msg_type)
}

/// What a trace shows of a node: the fields a step may change.
#[derive(Clone, PartialEq, Eq)]
struct NodeView {
    term: u64,
    vote: u64,
    state: StateType,
    lead: u64,
    commit: u64,
    election_elapsed: usize,
    log: Vec<Entry>,
    progress: Vec<(u64, String)>,
}

impl NodeView {
    fn of(r: &Raft<MemStorage>) -> NodeView {
        // Followers keep stale progress from an old leadership; only a
        // leader's says anything.
        let progress = if r.state == StateType::Leader {
            r.prs
                .progress
                .iter()
                .filter(|&(&id, _)| id != r.id)
                .map(|(&id, pr)| (id, pr.to_string()))
                .collect()
        } else {
            Vec::new()
        };
        NodeView {
            term: r.term,
            vote: r.vote,
            state: r.state,
            lead: r.lead,
            commit: r.raft_log.committed,
            election_elapsed: r.election_elapsed(),
            log: log_of(r),
            progress,
        }
    }

    /// One line per field that changed from `self` to `after`.
    fn changes(&self, id: u64, after: &NodeView) -> Vec<String> {
        let mut lines = Vec::new();
        let mut field = |name: &str, before: String, now: String| {
            if before != now {
                lines.push(format!("n{id} {name} {before} → {now}"));
            }
        };
        field("term", self.term.to_string(), after.term.to_string());
        field("vote", self.vote.to_string(), after.vote.to_string());
        field(
            "state",
            format!("{:?}", self.state),
            format!("{:?}", after.state),
        );
        field("lead", self.lead.to_string(), after.lead.to_string());
        field("commit", self.commit.to_string(), after.commit.to_string());
        field(
            "election_elapsed",
            self.election_elapsed.to_string(),
            after.election_elapsed.to_string(),
        );
        field("log", format!("{:?}", self.log), format!("{:?}", after.log));
        for (peer, now) in &after.progress {
            let before = self
                .progress
                .iter()
                .find(|(p, _)| p == peer)
                .map_or_else(String::new, |(_, s)| s.clone());
            field(&format!("progress of n{peer}:"), before, now.clone());
        }
        lines
    }
}

/// Steps `m` into `r`, and notes in `ctx` the message and, one line each,
/// what it changed on `r`. Returns what `step` returned.
pub fn step_traced(ctx: &mut Ctx, r: &mut Raft<MemStorage>, m: Message) -> raft::Result<()> {
    ctx.note(|| format!("deliver {}", trace_msg(&m)));
    let before = ctx.tracing.then(|| NodeView::of(r));
    let result = r.step(m);
    if let Some(before) = before {
        for line in before.changes(r.id, &NodeView::of(r)) {
            ctx.note(|| line);
        }
    }
    if let Err(e) = &result {
        ctx.note(|| format!("n{} step returned error: {e}", r.id));
    }
    result
}

/// Takes `r`'s outgoing messages as [`take_sorted`] does, noting each in
/// `ctx` as a trace line.
pub fn take_traced(ctx: &mut Ctx, r: &mut Raft<MemStorage>) -> Vec<Message> {
    let msgs = take_sorted(r);
    for m in &msgs {
        ctx.note(|| format!("send {}", trace_msg(m)));
    }
    msgs
}

/// [`check_msgs`] for replication cases: sorts `want` as [`take_sorted`]
/// sorts, and says `after {context}: sent [...], want [...]`.
pub fn check_sent(context: &str, got: &[Message], want: &[Message]) -> Outcome {
    let mut want = want.to_vec();
    want.sort_by_key(|m| (m.to, m.msg_type));
    check_msgs(got, &want, format_args!("after {context}"))
}

/// Entries with the given terms at indexes 1, 2, ... and no data: the log
/// [`storage`] builds from `log_terms`.
pub fn entries_of_terms(log_terms: &[u64]) -> Vec<Entry> {
    log_terms
        .iter()
        .enumerate()
        .map(|(i, &t)| Entry::new(t, i as u64 + 1, b""))
        .collect()
}

/// Fails unless `r`'s log is exactly `want`, naming the first entry that
/// differs: `after {context}: entry 3 is 3@0 "x", want 3@2 "x" (log [...])`.
pub fn check_log(context: &str, r: &Raft<MemStorage>, want: &[Entry]) -> Outcome {
    let got = log_of(r);
    let n = got.len().max(want.len());
    for i in 0..n {
        let problem = match (got.get(i), want.get(i)) {
            (Some(g), Some(w)) if g == w => continue,
            (Some(g), Some(w)) => format!("entry {} is {g:?}, want {w:?}", i + 1),
            (None, Some(w)) => format!("the log ends at index {i}, want entry {w:?}"),
            (Some(g), None) => format!("the log has entry {g:?}, want it to end at index {i}"),
            (None, None) => break,
        };
        return Err(Failure::new(format!(
            "after {context}: {problem} (log {got:?}, want {want:?})"
        )));
    }
    Ok(())
}

// ── Recording and comparing what a node does ───────────────────────────────

/// A node's role and term as the trace shows them: `candidate@2`.
pub fn role(r: &Raft<MemStorage>) -> String {
    format!("{}@{}", role_name(r.state), r.term)
}

/// One trace line for a message: `n1→n2 MsgVote term=2 last=0@0`.
pub fn trace_line(m: &Message) -> String {
    let full = format!("{m:?}");
    let head = format!("{:?} {}→{}", m.msg_type, m.from, m.to);
    let rest = full.strip_prefix(head.as_str()).unwrap_or(&full);
    format!("n{}→n{} {:?}{rest}", m.from, m.to, m.msg_type)
}

/// Runs `action` on `r`, then records in the trace what changed: the role
/// and term (`n1 follower@1 → candidate@2`), then one line per message the
/// node sent. Returns those messages, sorted as by [`take_sorted`].
pub fn observe(
    ctx: &mut Ctx,
    r: &mut Raft<MemStorage>,
    action: impl FnOnce(&mut Raft<MemStorage>),
) -> Vec<Message> {
    let before = role(r);
    action(r);
    record_changes(ctx, r, &before)
}

/// Ticks `r` `n` times, recording the ticks and what they changed; returns
/// the messages sent during those ticks, sorted.
pub fn tick_observed(ctx: &mut Ctx, r: &mut Raft<MemStorage>, n: usize) -> Vec<Message> {
    let before = role(r);
    tick_n(r, n);
    ctx.note(|| {
        let what = if n == 1 {
            "tick".to_string()
        } else {
            format!("{n} ticks")
        };
        format!(
            "n{} {what} (election_elapsed {})",
            r.id,
            r.election_elapsed()
        )
    });
    record_changes(ctx, r, &before)
}

/// Records `r`'s role change since `before`, then takes, records and
/// returns its messages.
fn record_changes(ctx: &mut Ctx, r: &mut Raft<MemStorage>, before: &str) -> Vec<Message> {
    let now = role(r);
    if now != before {
        ctx.note(|| format!("n{} {before} → {now}", r.id));
    }
    let msgs = take_sorted(r);
    for m in &msgs {
        ctx.note(|| trace_line(m));
    }
    msgs
}

/// Steps `m` into `r`, recording the delivery and what it changed, and
/// returns the node's replies, sorted. An error from `step` fails the case:
/// none of the messages the step suites deliver may be refused.
pub fn deliver(
    ctx: &mut Ctx,
    r: &mut Raft<MemStorage>,
    m: Message,
) -> Result<Vec<Message>, Failure> {
    ctx.note(|| trace_line(&m));
    let delivered = format!("{m:?}");
    let mut result = Ok(());
    let msgs = observe(ctx, r, |r| result = r.step(m));
    match result {
        Ok(()) => Ok(msgs),
        Err(e) => Err(Failure::new(format!(
            "n{} step({delivered}) returned the error {e:?}, want Ok",
            r.id
        ))),
    }
}

/// A vote request (`MsgVote` or `MsgPreVote`) from `from` to `to` for
/// `term`, from a candidate whose last entry is `index`@`log_term`.
pub fn vote_request(
    t: MessageType,
    from: u64,
    to: u64,
    term: u64,
    index: u64,
    log_term: u64,
) -> Message {
    let mut m = msg(t, from, to, term);
    m.index = index;
    m.log_term = log_term;
    m
}

/// The vote requests (`MsgVote` or `MsgPreVote`) node `from` should send
/// for `term` to every id in `to`, as [`take_sorted`] orders them.
pub fn vote_requests(
    t: MessageType,
    from: u64,
    to: &[u64],
    term: u64,
    index: u64,
    log_term: u64,
) -> Vec<Message> {
    to.iter()
        .map(|&peer| vote_request(t, from, peer, term, index, log_term))
        .collect()
}

/// A vote response (`MsgVoteResp` or `MsgPreVoteResp`) from `from` to `to`
/// at `term`, granting the vote unless `reject`.
pub fn vote_response(t: MessageType, from: u64, to: u64, term: u64, reject: bool) -> Message {
    let mut m = msg(t, from, to, term);
    m.reject = reject;
    m
}

/// The first field in which `got` differs from `want`, as `field: got X,
/// want Y`; `None` when they are equal. Needed because a message's one-line
/// form leaves out the fields its type does not use.
pub fn message_difference(got: &Message, want: &Message) -> Option<String> {
    macro_rules! field {
        ($name:ident) => {
            if got.$name != want.$name {
                return Some(format!(
                    "{}: got {:?}, want {:?}",
                    stringify!($name),
                    got.$name,
                    want.$name
                ));
            }
        };
    }
    field!(msg_type);
    field!(from);
    field!(to);
    field!(term);
    field!(index);
    field!(log_term);
    field!(entries);
    field!(commit);
    field!(reject);
    field!(reject_hint);
    field!(context);
    field!(snapshot);
    None
}

/// Fails unless `got` is exactly `want` (both sorted as by
/// [`take_sorted`]), printing both lists and the first differing field:
/// `after the timeout: sent [..], want [..]; message #2 differs in term: got 3, want 2`.
pub fn check_msgs(got: &[Message], want: &[Message], what: impl std::fmt::Display) -> Outcome {
    if got == want {
        return Ok(());
    }
    let mut message = format!("{what}: sent {}, want {}", describe(got), describe(want));
    if got.len() == want.len() {
        let diff = got
            .iter()
            .zip(want)
            .enumerate()
            .find_map(|(i, (g, w))| message_difference(g, w).map(|d| (i, d)));
        if let Some((i, d)) = diff {
            message.push_str(&format!("; message #{} differs in {d}", i + 1));
        }
    }
    Err(Failure::new(message))
}

/// Node `id` as a candidate of `term + 1`, over a log of `log_terms`, as
/// `campaign` leaves it just before it sends its vote requests: made a
/// candidate by `become_candidate` (Election Step3), with its own vote
/// counted. Its messages (none are expected) are cleared. Fails, naming
/// Step3, when `become_candidate` did not get it there.
pub fn candidate_at(
    id: u64,
    peers: &[u64],
    log_terms: &[u64],
    term: u64,
) -> Result<Raft<MemStorage>, Failure> {
    let mut r = new_raft_with(config(id), storage(peers, log_terms, term, 0));
    r.become_candidate();
    let got = (r.state, r.term, r.vote);
    let want = (StateType::Candidate, term + 1, id);
    if got != want {
        return Err(Failure::new(format!(
            "set-up (needs Election Step3): (state, term, vote) after become_candidate at term {term}: got {got:?}, want {want:?}"
        )));
    }
    r.prs.record_vote(id, true);
    r.msgs.clear();
    Ok(r)
}

/// A config for node `id` with the test clocks and pre-vote on (§9.6): its
/// election timeout leads to a pre-vote campaign, which goes through none of
/// the lab's holes before votes come back.
pub fn pre_vote_config(id: u64) -> Config {
    let mut c = config(id);
    c.pre_vote = true;
    c
}

/// Like [`storage`], for a cluster of `voters` and `learners`, whose hard
/// state (term, vote and commit index) is `hard_state`.
pub fn storage_with(
    voters: &[u64],
    learners: &[u64],
    log_terms: &[u64],
    hard_state: HardState,
) -> MemStorage {
    let store = storage(voters, log_terms, 0, 0);
    {
        let mut core = store.wl();
        core.set_conf_state(ConfState {
            voters: voters.to_vec(),
            learners: learners.to_vec(),
        });
        core.set_hard_state(hard_state);
    }
    store
}

/// A step case: `name` is `e3::...`, `purpose` one sentence.
pub fn step_case(
    step: Step,
    name: &'static str,
    purpose: &'static str,
    run: fn(&mut Ctx) -> Outcome,
) -> Case {
    Case {
        name,
        kind: Kind::Step(step),
        purpose,
        run,
    }
}

/// `1 tick`, `5 ticks`: for failure messages.
pub fn ticks(n: usize) -> String {
    if n == 1 {
        "1 tick".to_string()
    } else {
        format!("{n} ticks")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_at_bypasses_the_holes() {
        // This runs on the skeleton too: a hole reached here would panic.
        let r = leader_at(1, &[1, 2, 3], &[1, 1], 2);
        assert_eq!(r.state, StateType::Leader);
        assert_eq!(r.term, 2);
        assert_eq!(log_terms(&r), vec![1, 1, 2]);
    }

    #[test]
    fn follower_with_log_restores_term_and_log() {
        let r = follower_with_log(2, &[1, 2, 3], &[1, 2], 3);
        assert_eq!(
            (r.term, r.state, log_terms(&r)),
            (3, StateType::Follower, vec![1, 2])
        );
    }
}
