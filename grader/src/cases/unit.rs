//! What the step suites share: starting one node in a known state, doing one
//! thing to it, and judging its whole state afterwards.
//!
//! A step case reads like etcd's paper tests: build a node, act, compare.
//! The comparison is of everything observable ([`NodeState`]): a case
//! states the rule's changes to the state before ([`Expect`]), names the
//! freedoms the paper leaves (a timeout may be drawn anew, ...), and any
//! other field that moved is a failure too.

use raftpb::{ConfState, Entry, HardState, Message, MessageType, NodeId, StateType, Term};

use super::Ctx;
use crate::drive::{Boot, Call, NodeConfig, Op, ProgressSetup, Reply, StorageSetup};
use crate::model::{Failure, Kind, NodeState, Outcome, ProgressState, ProgressView, Step, mix};
use crate::sim::event::MsgInfo;

/// The election timeout of test nodes, in ticks. The randomized timeout is
/// in `[ELECTION_TICK, 2 * ELECTION_TICK)`.
pub const ELECTION_TICK: u64 = 10;
/// The heartbeat interval of test nodes, in ticks.
pub const HEARTBEAT_TICK: u64 = 1;

/// The config of test node `id`, its timeouts seeded from the run's seed.
pub fn config(ctx: &Ctx, id: NodeId) -> NodeConfig {
    NodeConfig {
        election_tick: ELECTION_TICK,
        heartbeat_tick: HEARTBEAT_TICK,
        seed: mix(ctx.seed.0, id),
        ..NodeConfig::default()
    }
}

/// The same, with pre-vote on (§9.6): an election timeout leads to a
/// pre-vote campaign, which goes through none of the lab's holes before
/// votes come back.
pub fn pre_vote_config(ctx: &Ctx, id: NodeId) -> NodeConfig {
    NodeConfig {
        pre_vote: true,
        ..config(ctx, id)
    }
}

/// Entries with the given terms at indexes 1, 2, ... and no data.
pub fn entries_of_terms(log_terms: &[Term]) -> Vec<Entry> {
    log_terms
        .iter()
        .enumerate()
        .map(|(i, &t)| Entry::new(t, i as u64 + 1, b""))
        .collect()
}

/// Storage for a cluster of `voters` (and `learners`), holding entries of
/// `log_terms` at indexes 1, 2, ... and `hard_state`.
pub fn storage_with(
    voters: &[NodeId],
    learners: &[NodeId],
    log_terms: &[Term],
    hard_state: HardState,
) -> StorageSetup {
    StorageSetup {
        conf_state: ConfState {
            voters: voters.to_vec(),
            learners: learners.to_vec(),
        },
        snapshot: None,
        entries: entries_of_terms(log_terms),
        hard_state,
    }
}

/// Storage for a cluster of `peers`, holding entries of `log_terms` and the
/// hard state `term` and `vote`.
pub fn storage(peers: &[NodeId], log_terms: &[Term], term: Term, vote: NodeId) -> StorageSetup {
    storage_with(
        peers,
        &[],
        log_terms,
        HardState {
            term,
            vote,
            commit: 0,
        },
    )
}

/// One node under test, by id; every method is an op through the context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    pub id: NodeId,
}

impl Node {
    /// Starts a node from `storage` with `config`, and checks that it
    /// starts as the library restarts one: a follower of the stored term,
    /// with the stored vote, log and membership, knowing no leader.
    pub fn boot(
        ctx: &mut Ctx,
        id: NodeId,
        config: NodeConfig,
        storage: StorageSetup,
    ) -> Result<Node, Failure> {
        let want_log: Vec<Entry> = storage.entries.clone();
        let hs = storage.hard_state;
        let voters = storage.conf_state.voters.clone();
        let op = Op::Boot(Boot {
            id,
            config,
            storage,
        });
        match ctx.apply(&op) {
            Reply::Done => {}
            Reply::Refused(e) => {
                return Err(Failure::new(format!(
                    "set-up: node {id} did not start from its storage: {e}"
                )));
            }
            other => return Err(unexpected(id, "start", other)),
        }
        let node = Node { id };
        let s = node.state(ctx)?;
        let got = (s.state, s.term, s.vote, s.lead, &s.log.entries, &s.voters);
        let want = (StateType::Follower, hs.term, hs.vote, 0, &want_log, &voters);
        if got != want {
            return Err(Failure::new(format!(
                "set-up: node {id} restarted as (state, term, vote, lead, log, voters) = {got:?}, want {want:?}: the code that starts a node from its storage (Raft::new, become_follower) is not the library's"
            )));
        }
        Ok(node)
    }

    /// A follower `id` of `peers` with an empty log, at term 0.
    pub fn follower(ctx: &mut Ctx, id: NodeId, peers: &[NodeId]) -> Result<Node, Failure> {
        let c = config(ctx, id);
        Node::boot(ctx, id, c, storage(peers, &[], 0, 0))
    }

    /// A follower `id` of `peers` with a log of `log_terms`, at `term`.
    pub fn follower_with_log(
        ctx: &mut Ctx,
        id: NodeId,
        peers: &[NodeId],
        log_terms: &[Term],
        term: Term,
    ) -> Result<Node, Failure> {
        let c = config(ctx, id);
        Node::boot(ctx, id, c, storage(peers, log_terms, term, 0))
    }

    /// Node `id` as the leader of `term` over a log of `log_terms`, reached
    /// without any of the lab's holes: through the pre-candidate role,
    /// straight to `become_leader`, neither of which is a hole. It appended
    /// the empty entry of its term; its messages are dropped.
    pub fn leader(
        ctx: &mut Ctx,
        id: NodeId,
        peers: &[NodeId],
        log_terms: &[Term],
        term: Term,
    ) -> Result<Node, Failure> {
        let c = config(ctx, id);
        Node::leader_from(ctx, id, c, storage(peers, log_terms, term, id))
    }

    /// Like [`Node::leader`], from any config and storage (which should
    /// record a vote for itself).
    pub fn leader_from(
        ctx: &mut Ctx,
        id: NodeId,
        config: NodeConfig,
        storage: StorageSetup,
    ) -> Result<Node, Failure> {
        let n = Node::boot(ctx, id, config, storage)?;
        n.call(ctx, Call::BecomePreCandidate)?;
        n.call(ctx, Call::BecomeLeader)?;
        n.call(ctx, Call::ClearMsgs)?;
        let s = n.state(ctx)?;
        if s.state != StateType::Leader {
            return Err(Failure::new(format!(
                "set-up: node {id} did not become leader (it is {})",
                s.role()
            )));
        }
        Ok(n)
    }

    /// Everything observable of the node now.
    pub fn state(self, ctx: &mut Ctx) -> Result<NodeState, Failure> {
        match ctx.apply(&Op::State { id: self.id }) {
            Reply::State(s) => Ok(*s),
            other => Err(unexpected(self.id, "report its state", other)),
        }
    }

    /// Ticks the node `times` times.
    pub fn tick(self, ctx: &mut Ctx, times: u64) -> Outcome {
        ctx.note(|| format!("n{} {}", self.id, ticks(times)));
        match ctx.apply(&Op::Tick { id: self.id, times }) {
            Reply::Done => Ok(()),
            other => Err(unexpected(self.id, &ticks(times), other)),
        }
    }

    /// Ticks the node `times` times, where the ticks may run into the hole
    /// of a step after the case's own. Returns `Ok(None)` when they ran,
    /// `Ok(Some(step))` when they stopped at that later step's `todo!()`:
    /// the node stays as that step found it, to be judged on what the
    /// case's own step did before.
    pub fn tick_into_later_hole(self, ctx: &mut Ctx, times: u64) -> Result<Option<Step>, Failure> {
        ctx.note(|| format!("n{} {}", self.id, ticks(times)));
        let reply = ctx.apply(&Op::Tick { id: self.id, times });
        match reply {
            Reply::Done => Ok(None),
            r => match later_hole(ctx, &r) {
                Some(step) => {
                    ctx.note(|| format!("n{} reached the todo!() of {step}", self.id));
                    Ok(Some(step))
                }
                None => Err(unexpected(self.id, &ticks(times), r)),
            },
        }
    }

    /// Steps `m` into the node; a refusal is a failure (none of the
    /// messages the step suites deliver may be refused).
    pub fn deliver(self, ctx: &mut Ctx, m: Message) -> Outcome {
        ctx.note(|| format!("deliver {}", trace_msg(&m)));
        let shown = format!("{m:?}");
        match ctx.apply(&Op::Step {
            id: self.id,
            msg: m,
        }) {
            Reply::Done => Ok(()),
            Reply::Refused(e) => Err(Failure::new(format!(
                "n{} step({shown}) returned the error {e}, want Ok",
                self.id
            ))),
            other => Err(unexpected(self.id, &format!("step {shown}"), other)),
        }
    }

    /// Steps `m` into the node and returns what `step` returned: `Ok`, or
    /// the error's text.
    pub fn step(self, ctx: &mut Ctx, m: Message) -> Result<Result<(), String>, Failure> {
        ctx.note(|| format!("deliver {}", trace_msg(&m)));
        let shown = format!("{m:?}");
        match ctx.apply(&Op::Step {
            id: self.id,
            msg: m,
        }) {
            Reply::Done => Ok(Ok(())),
            Reply::Refused(e) => Ok(Err(e)),
            other => Err(unexpected(self.id, &format!("step {shown}"), other)),
        }
    }

    /// Calls one of `Raft`'s functions on the node.
    pub fn call(self, ctx: &mut Ctx, call: Call) -> Outcome {
        let what = format!("{call:?}");
        match ctx.apply(&Op::Call { id: self.id, call }) {
            Reply::Done | Reply::Bool(_) => Ok(()),
            other => Err(unexpected(self.id, &what, other)),
        }
    }

    /// Calls a function of `Raft`'s that returns a bool.
    pub fn call_bool(self, ctx: &mut Ctx, call: Call) -> Result<bool, Failure> {
        let what = format!("{call:?}");
        match ctx.apply(&Op::Call { id: self.id, call }) {
            Reply::Bool(b) => Ok(b),
            other => Err(unexpected(self.id, &what, other)),
        }
    }

    /// Takes the messages the node queued, sorted by recipient then type,
    /// so comparisons do not depend on the order a correct node happens to
    /// use. Each is noted in the trace.
    pub fn take_msgs(self, ctx: &mut Ctx) -> Result<Vec<Message>, Failure> {
        match ctx.apply(&Op::TakeMsgs { id: self.id }) {
            Reply::Msgs(mut ms) => {
                ms.sort_by_key(|m| (m.to, m.msg_type));
                for m in &ms {
                    ctx.note(|| format!("send {}", trace_msg(m)));
                }
                Ok(ms)
            }
            other => Err(unexpected(self.id, "hand over its messages", other)),
        }
    }

    /// Puts the leader's progress of `peer` in place.
    pub fn set_progress(
        self,
        ctx: &mut Ctx,
        peer: NodeId,
        matched: u64,
        next_idx: u64,
        state: ProgressState,
    ) -> Outcome {
        self.call(
            ctx,
            Call::SetProgress(ProgressSetup {
                peer,
                matched,
                next_idx,
                state,
                probe_sent: false,
                recent_active: true,
            }),
        )
    }
}

/// The step whose hole `reply` says was reached, if it comes after the
/// case's own step in the guide's order: a step the case does not depend
/// on, whose absence it must not be blocked by.
pub fn later_hole(ctx: &Ctx, reply: &Reply) -> Option<Step> {
    let Reply::Panicked(message) = reply else {
        return None;
    };
    let step = Step::from_panic(message)?;
    match ctx.case.kind {
        Kind::Step(own) if step > own => Some(step),
        Kind::Step(_) | Kind::Scenario(_) | Kind::Search(_) => None,
    }
}

/// Expect what a role change's `reset` leaves, from `s`: the term (and no
/// vote, when it changes), no leader, both clocks at 0, a new randomized
/// timeout (checked with [`Expect::timeout_may_change`]), no transfer, no
/// votes, fresh progress of every peer, no pending change or read.
pub fn after_reset(s: &mut NodeState, term: Term) {
    if s.term != term {
        s.term = term;
        s.vote = 0;
    }
    s.lead = 0;
    s.election_elapsed = 0;
    s.heartbeat_elapsed = 0;
    s.lead_transferee = 0;
    s.votes.clear();
    let last = s.log.last_index();
    let me = s.id;
    for (&id, pr) in s.progress.iter_mut() {
        *pr = ProgressView {
            matched: if id == me { last } else { 0 },
            next_idx: last + 1,
            is_learner: pr.is_learner,
            ..ProgressView::default()
        };
    }
    s.pending_conf_index = 0;
    s.uncommitted_size = 0;
    s.pending_reads = 0;
}

/// The failure for a reply that is not what the case asked for: a panic
/// (at a hole or anywhere), a refusal, or anything else.
pub fn unexpected(id: NodeId, doing: &str, reply: Reply) -> Failure {
    match reply {
        Reply::Panicked(message) => {
            Failure::panic(message).context(format!("n{id} panicked during {doing}"))
        }
        Reply::Refused(e) => Failure::new(format!("n{id} refused {doing}: {e}")),
        other => Failure::new(format!("n{id} answered {doing} with {other:?}")),
    }
}

/// What a node's state must be after an action: the state before it with
/// the rule's changes, and the freedoms the paper leaves.
#[derive(Clone, Debug)]
pub struct Expect {
    pub want: NodeState,
    /// The randomized election timeout may be any value in
    /// `[ELECTION_TICK, 2 * ELECTION_TICK)`: it may be drawn anew.
    pub any_timeout: bool,
    /// A follower's progress entries mean nothing; any may be there.
    pub any_progress: bool,
}

/// Expect the state `before`, changed by what the caller adds.
pub fn expect(before: &NodeState) -> Expect {
    Expect {
        want: before.clone(),
        any_timeout: false,
        any_progress: before.state != StateType::Leader,
    }
}

impl Expect {
    /// The rule's changes.
    pub fn with(mut self, change: impl FnOnce(&mut NodeState)) -> Expect {
        change(&mut self.want);
        self.any_progress = self.want.state != StateType::Leader;
        self
    }

    /// The randomized timeout may have been drawn anew.
    pub fn timeout_may_change(mut self) -> Expect {
        self.any_timeout = true;
        self
    }

    /// Fails unless `got` is what is expected, naming every field that
    /// differs: `after 1 tick: election_elapsed: got 0, want 1`.
    /// Queued messages are left out: compare them with [`check_msgs`].
    pub fn check(&self, got: &NodeState, context: impl std::fmt::Display) -> Outcome {
        let mut seen = got.clone();
        let mut want = self.want.clone();
        if self.any_timeout
            && (ELECTION_TICK..2 * ELECTION_TICK).contains(&seen.randomized_election_timeout)
        {
            seen.randomized_election_timeout = want.randomized_election_timeout;
        }
        if self.any_progress {
            seen.progress.clear();
            want.progress.clear();
        }
        let diffs = seen.differences(&want);
        if diffs.is_empty() {
            return Ok(());
        }
        Err(Failure::new(format!(
            "{context}: {} (everything else as expected)",
            diffs.join("; ")
        )))
    }
}

/// A message of type `t` from `from` to `to` at `term`.
pub fn msg(t: MessageType, from: NodeId, to: NodeId, term: Term) -> Message {
    let mut m = Message::new(t, from, to);
    m.term = term;
    m
}

/// A vote request (`MsgVote` or `MsgPreVote`) from `from` to `to` for
/// `term`, from a candidate whose last entry is `index`@`log_term`.
pub fn vote_request(
    t: MessageType,
    from: NodeId,
    to: NodeId,
    term: Term,
    index: u64,
    log_term: Term,
) -> Message {
    let mut m = msg(t, from, to, term);
    m.index = index;
    m.log_term = log_term;
    m
}

/// The vote requests node `from` should send for `term` to every id in
/// `to`, sorted as [`Node::take_msgs`] sorts.
pub fn vote_requests(
    t: MessageType,
    from: NodeId,
    to: &[NodeId],
    term: Term,
    index: u64,
    log_term: Term,
) -> Vec<Message> {
    to.iter()
        .map(|&peer| vote_request(t, from, peer, term, index, log_term))
        .collect()
}

/// A vote response from `from` to `to` at `term`, granting unless `reject`.
pub fn vote_response(
    t: MessageType,
    from: NodeId,
    to: NodeId,
    term: Term,
    reject: bool,
) -> Message {
    let mut m = msg(t, from, to, term);
    m.reject = reject;
    m
}

/// An entry `index`@`term` carrying `data`.
pub fn ent(term: Term, index: u64, data: &str) -> Entry {
    Entry::new(term, index, data.as_bytes())
}

/// A proposal of entries carrying `data`, one entry each, as an application
/// steps it into node `to` (no term: proposals are not part of a term).
pub fn proposal(to: NodeId, data: &[&str]) -> Message {
    let mut m = Message::new(MessageType::MsgProp, to, to);
    m.entries = data.iter().map(|d| ent(0, 0, d)).collect();
    m
}

/// `MsgApp` from `from` to `to` at `term`: the entries after
/// `prev_index`@`prev_term`, and the leader's commit index.
pub fn app(
    from: NodeId,
    to: NodeId,
    term: Term,
    (prev_index, prev_term): (u64, Term),
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
pub fn app_resp(from: NodeId, to: NodeId, term: Term, index: u64) -> Message {
    let mut m = msg(MessageType::MsgAppResp, from, to, term);
    m.index = index;
    m
}

/// A rejected `MsgAppResp` for the append after `index`, with the hint
/// `hint_index`@`hint_term`.
pub fn app_reject(
    from: NodeId,
    to: NodeId,
    term: Term,
    index: u64,
    (hint_index, hint_term): (u64, Term),
) -> Message {
    let mut m = app_resp(from, to, term, index);
    m.reject = true;
    m.reject_hint = hint_index;
    m.log_term = hint_term;
    m
}

/// A message as a trace line: `n1→n2 MsgApp term=2 prev=1@1 commit=1
/// entries=[2@2 "x"]`.
pub fn trace_msg(m: &Message) -> String {
    format!("n{}→n{} {}", m.from, m.to, MsgInfo::of(m))
}

/// One line per message, for failure reports.
pub fn describe(msgs: &[Message]) -> String {
    if msgs.is_empty() {
        return "no messages".to_string();
    }
    let lines: Vec<String> = msgs.iter().map(trace_msg).collect();
    format!("[{}]", lines.join(", "))
}

/// The first field in which `got` differs from `want`, as `field: got X,
/// want Y`; `None` when they are equal.
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
/// [`Node::take_msgs`]), printing both lists and the first differing field.
pub fn check_msgs(got: &[Message], want: &[Message], what: impl std::fmt::Display) -> Outcome {
    let mut want = want.to_vec();
    want.sort_by_key(|m| (m.to, m.msg_type));
    if got == want.as_slice() {
        return Ok(());
    }
    let mut message = format!("{what}: sent {}, want {}", describe(got), describe(&want));
    if got.len() == want.len() {
        let diff = got
            .iter()
            .zip(&want)
            .enumerate()
            .find_map(|(i, (g, w))| message_difference(g, w).map(|d| (i, d)));
        if let Some((i, d)) = diff {
            message.push_str(&format!("; message #{} differs in {d}", i + 1));
        }
    }
    Err(Failure::new(message))
}

/// `1 tick`, `5 ticks`.
pub fn ticks(n: u64) -> String {
    if n == 1 {
        "1 tick".to_string()
    } else {
        format!("{n} ticks")
    }
}

/// Records in the trace what changed from `before` to `after`, one line
/// per field: `n1 term 1 → 2`.
pub fn note_changes(ctx: &mut Ctx, before: &NodeState, after: &NodeState) {
    if !ctx.tracing {
        return;
    }
    for line in after.differences(before) {
        // `term: got 2, want 1` reads here as `term 1 → 2`.
        let (field, rest) = line.split_once(": got ").unwrap_or((&line, ""));
        let (now, was) = rest.split_once(", want ").unwrap_or((rest, ""));
        ctx.trace
            .push(format!("n{} {field} {was} → {now}", after.id));
    }
}

// ── Election suites ──
//
// What the Election Step2, Step4, Step5 and Step6 suites share: the state
// a campaign or a won election leaves, and ops that may run into a later
// step's hole.

/// Expect the votes of an election that has only the node's own vote, as
/// `campaign` polls it.
pub fn only_own_vote(s: &mut NodeState) {
    s.votes.clear();
    s.votes.insert(s.id, true);
}

/// Expect what a pre-vote campaign leaves (§9.6): `become_pre_candidate`
/// (not a hole) keeps the term and the vote, forgets the leader and the
/// last election's votes, and the node's own pre-vote is counted.
pub fn after_pre_campaign(s: &mut NodeState) {
    s.state = StateType::PreCandidate;
    s.lead = 0;
    only_own_vote(s);
}

/// Expect what a real campaign leaves (§5.2): a candidate of the next term
/// that voted for itself, its own vote counted, after the library's
/// `reset` (check with [`Expect::timeout_may_change`]).
pub fn after_campaign(s: &mut NodeState) {
    let term = s.term + 1;
    after_reset(s, term);
    s.vote = s.id;
    s.state = StateType::Candidate;
    only_own_vote(s);
}

/// Expect what `become_leader` (not a hole) leaves: a `reset` in the same
/// term, itself as leader, its own progress replicating, every entry it
/// inherited counted as a possible configuration change, and the empty
/// entry of its term appended (§5.4.2, §8), committed at once when it is
/// the only voter.
pub fn after_become_leader(s: &mut NodeState) {
    let term = s.term;
    after_reset(s, term);
    s.state = StateType::Leader;
    s.lead = s.id;
    let last = s.log.last_index();
    s.pending_conf_index = last;
    s.log.entries.push(Entry::new(term, last + 1, b""));
    let me = s.id;
    if let Some(pr) = s.progress.get_mut(&me) {
        pr.state = ProgressState::Replicate;
        pr.matched = last + 1;
        pr.next_idx = last + 2;
    }
    commit_by_quorum(s);
}

/// Expect the commit a leader's `maybe_commit` makes: the highest index a
/// majority of voters holds, if it is of the leader's term (§5.3, §5.4.2).
pub fn commit_by_quorum(s: &mut NodeState) {
    let mut matched: Vec<u64> = s
        .voters
        .iter()
        .map(|id| s.progress.get(id).map_or(0, |pr| pr.matched))
        .collect();
    if matched.is_empty() {
        return;
    }
    matched.sort_unstable_by(|a, b| b.cmp(a));
    let index = matched[matched.len() / 2];
    let term_at = index
        .checked_sub(s.log.first_index)
        .and_then(|i| s.log.entries.get(i as usize))
        .map(|e| e.term);
    if index > s.log.committed && term_at == Some(s.term) {
        s.log.committed = index;
    }
}

impl Node {
    /// Steps `m` into the node, where it may run into the hole of a step
    /// after the case's own. Returns `Ok(None)` when the step ran (and was
    /// not refused), `Ok(Some(step))` when it stopped at that later step's
    /// `todo!()`: the node stays as that step found it.
    pub fn step_into_later_hole(self, ctx: &mut Ctx, m: Message) -> Result<Option<Step>, Failure> {
        ctx.note(|| format!("deliver {}", trace_msg(&m)));
        let shown = format!("{m:?}");
        let reply = ctx.apply(&Op::Step {
            id: self.id,
            msg: m,
        });
        match reply {
            Reply::Done => Ok(None),
            r => match later_hole(ctx, &r) {
                Some(step) => {
                    ctx.note(|| format!("n{} reached the todo!() of {step}", self.id));
                    Ok(Some(step))
                }
                None => Err(unexpected(self.id, &format!("step {shown}"), r)),
            },
        }
    }

    /// Hands the node's `Ready`, if it has one, to the application, which
    /// persists it, sends its messages and advances.
    pub fn ready(self, ctx: &mut Ctx) -> Result<Option<crate::model::ReadyView>, Failure> {
        ctx.note(|| format!("n{} ready", self.id));
        match ctx.apply(&Op::Ready { id: self.id }) {
            Reply::Ready(rd) => Ok(rd.map(|rd| *rd)),
            other => Err(unexpected(self.id, "hand over its Ready", other)),
        }
    }

    /// The node's process dies and starts again from its storage, with a
    /// new seed: everything not persisted is lost.
    pub fn restart(self, ctx: &mut Ctx, seed: u64) -> Outcome {
        ctx.note(|| format!("n{} crashes and restarts", self.id));
        match ctx.apply(&Op::Crash { id: self.id }) {
            Reply::Done => {}
            other => return Err(unexpected(self.id, "crash", other)),
        }
        match ctx.apply(&Op::Restart { id: self.id, seed }) {
            Reply::Done => Ok(()),
            other => Err(unexpected(self.id, "restart", other)),
        }
    }
}

/// A number in `0..below` drawn from the run's seed, different for each
/// `salt`: the varying parameters of a case (terms, log lengths, which
/// peer), so that a table of answers cannot pass under another seed.
pub fn draw(ctx: &Ctx, salt: u64, below: u64) -> u64 {
    mix(ctx.seed.0, salt) % below.max(1)
}

/// A log of `len` entries whose terms climb from 1 to at most `term`, as
/// the log of a node at `term` may be: the terms drawn from the seed.
pub fn log_up_to(ctx: &Ctx, salt: u64, len: u64, term: Term) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut t = 1;
    for i in 0..len {
        if i > 0 && t < term && draw(ctx, mix(salt, i), 2) == 1 {
            t += 1;
        }
        terms.push(t.min(term));
    }
    terms
}

#[cfg(test)]
mod election_tests {
    use super::*;

    fn node(voters: &[NodeId], log_terms: &[Term], term: Term) -> NodeState {
        let mut s = NodeState {
            id: 1,
            term,
            voters: voters.to_vec(),
            log: crate::model::LogView {
                first_index: 1,
                entries: entries_of_terms(log_terms),
                ..Default::default()
            },
            ..NodeState::default()
        };
        for &id in voters {
            s.progress.insert(id, ProgressView::default());
        }
        s
    }

    #[test]
    fn a_single_voter_commits_its_empty_entry_at_once() {
        let mut s = node(&[1], &[1, 1], 2);
        after_become_leader(&mut s);
        assert_eq!(
            (s.state, s.lead, s.log.last_index()),
            (StateType::Leader, 1, 3)
        );
        assert_eq!(s.log.committed, 3);
        assert_eq!(s.pending_conf_index, 2);
        let me = &s.progress[&1];
        assert_eq!(
            (me.matched, me.next_idx, me.state),
            (3, 4, ProgressState::Replicate)
        );
    }

    #[test]
    fn a_leader_of_three_waits_for_a_follower() {
        let mut s = node(&[1, 2, 3], &[1], 2);
        after_become_leader(&mut s);
        assert_eq!(s.log.committed, 0);
        // A follower holding the new entry makes a majority; an old term's
        // entry is never committed by counting (§5.4.2).
        s.progress.get_mut(&2).unwrap().matched = 2;
        commit_by_quorum(&mut s);
        assert_eq!(s.log.committed, 2);
        let mut old = node(&[1, 2, 3], &[1, 1], 2);
        old.progress.get_mut(&1).unwrap().matched = 2;
        old.progress.get_mut(&2).unwrap().matched = 2;
        commit_by_quorum(&mut old);
        assert_eq!(old.log.committed, 0);
    }
}
