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
use crate::model::event::MsgInfo;
use crate::model::{Failure, Kind, NodeState, Outcome, ProgressState, ProgressView, Step, mix};

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
    crate::model::count(n, "tick")
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

// ── Replication suites ──
//
// What the Replication suites share: a step that may run into a later
// step's hole, and the library's own bookkeeping of a leader
// (`append_entry`, `send_append`, `maybe_commit`, what an acknowledgement
// does to a follower's progress) written as expectations, so a case can
// state a rule's whole effect on the leader.

/// How a `step` that may run into a later step's hole ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stepped {
    /// `step` returned: `Ok`, or the error's text.
    Returned(Result<(), String>),
    /// It stopped at this later step's `todo!()`: the node stays as that
    /// step found it, to be judged on what the case's own step did before.
    Hole(Step),
}

impl Node {
    /// Steps `m` into the node, where the step may run into the hole of a
    /// step after the case's own (a proposal goes on from Replication
    /// Step1's code to Step2's).
    pub fn step_or_later_hole(self, ctx: &mut Ctx, m: Message) -> Result<Stepped, Failure> {
        ctx.note(|| format!("deliver {}", trace_msg(&m)));
        let shown = format!("{m:?}");
        let reply = ctx.apply(&Op::Step {
            id: self.id,
            msg: m,
        });
        match reply {
            Reply::Done => Ok(Stepped::Returned(Ok(()))),
            Reply::Refused(e) => Ok(Stepped::Returned(Err(e))),
            r => match later_hole(ctx, &r) {
                Some(step) => {
                    ctx.note(|| format!("n{} reached the todo!() of {step}", self.id));
                    Ok(Stepped::Hole(step))
                }
                None => Err(unexpected(self.id, &format!("step {shown}"), r)),
            },
        }
    }
}

/// A draw in `range` from the run's seed; `salt` tells the draws of one
/// case apart.
pub fn draw_in(ctx: &Ctx, salt: u64, range: std::ops::Range<u64>) -> u64 {
    range.start + mix(ctx.seed.0, salt) % (range.end - range.start)
}

/// The term of entry `index` of `log`: 0 for index 0, `None` outside it.
pub fn term_at(log: &crate::model::LogView, index: raftpb::Index) -> Option<Term> {
    if index == 0 {
        return Some(0);
    }
    let offset = index.checked_sub(log.first_index)?;
    log.entries.get(offset as usize).map(|e| e.term)
}

/// The entries of `log` from `from` on.
pub fn entries_from(log: &crate::model::LogView, from: raftpb::Index) -> Vec<Entry> {
    let offset = from.saturating_sub(log.first_index) as usize;
    log.entries
        .get(offset..)
        .map(<[Entry]>::to_vec)
        .unwrap_or_default()
}

/// What `maybe_commit` makes of leader `s`'s commit index: the highest
/// index a majority of the voters holds (learners do not count), if that
/// entry is of the leader's term (§5.3; §5.4.2, Figure 8); never less than
/// before.
pub fn quorum_commit(s: &NodeState) -> raftpb::Index {
    let mut matched: Vec<raftpb::Index> = s
        .voters
        .iter()
        .map(|id| s.progress.get(id).map_or(0, |pr| pr.matched))
        .collect();
    matched.sort_unstable_by(|a, b| b.cmp(a));
    let Some(&majority) = matched.get(matched.len() / 2) else {
        return s.log.committed;
    };
    if majority > s.log.committed && term_at(&s.log, majority) == Some(s.term) {
        majority
    } else {
        s.log.committed
    }
}

/// Expect what `append_entry` does on leader `s` with entries carrying
/// `data`: each gets the leader's term and the next free index (§5.3), the
/// uncommitted log grows by their payload, the leader's own progress
/// holds them, and the commit index follows the voters' majority.
pub fn leader_appends(s: &mut NodeState, data: &[&str]) {
    let last = s.log.last_index();
    for (i, d) in data.iter().enumerate() {
        s.log.entries.push(ent(s.term, last + 1 + i as u64, d));
    }
    s.uncommitted_size += data.iter().map(|d| d.len() as u64).sum::<u64>();
    let new_last = s.log.last_index();
    if let Some(pr) = s.progress.get_mut(&s.id) {
        if pr.matched < new_last {
            pr.matched = new_last;
            pr.probe_sent = false;
        }
        pr.next_idx = pr.next_idx.max(new_last + 1);
    }
    s.log.committed = quorum_commit(s);
}

/// Whether a leader holds back appends to a follower of progress `pr`
/// (`Progress::is_paused`): its probe is unanswered, its window of
/// `window` appends in flight is full, or it is getting a snapshot.
pub fn paused(pr: &ProgressView, window: u64) -> bool {
    match pr.state {
        ProgressState::Probe => pr.probe_sent,
        ProgressState::Replicate => pr.inflights.len() as u64 >= window,
        ProgressState::Snapshot => true,
    }
}

/// Expect what `send_append(to)` does on leader `s`, whose followers'
/// windows hold `window` appends: unless `to` is paused, a `MsgApp` with
/// every entry from its next index on, after the entry before them, and
/// the leader's commit index (§5.3); a probe is then in flight, or (when
/// replicating) the entries are, and the next append goes on after them.
/// Returns the message, or `None` when nothing is sent.
pub fn send_append(s: &mut NodeState, to: NodeId, window: u64) -> Option<Message> {
    let pr = s.progress.get(&to)?;
    if paused(pr, window) {
        return None;
    }
    let next = pr.next_idx;
    let prev_term = term_at(&s.log, next - 1)?;
    let entries = entries_from(&s.log, next);
    let last = entries.last().map(|e| e.index);
    let m = app(
        s.id,
        to,
        s.term,
        (next - 1, prev_term),
        entries,
        s.log.committed,
    );
    let pr = s.progress.get_mut(&to)?;
    if let Some(last) = last {
        match pr.state {
            ProgressState::Replicate => {
                pr.next_idx = last + 1;
                pr.inflights.push(last);
            }
            ProgressState::Probe => pr.probe_sent = true,
            ProgressState::Snapshot => {}
        }
    }
    Some(m)
}

/// Expect what leader `s` does with `from`'s acknowledgement of its log up
/// to `index` before Replication Step4 decides on the commit: the follower
/// was heard from; its match index moves up (never down) and the leader
/// streams to it from there on (§5.3, Figure 2: matchIndex). Returns
/// whether the match index moved: a stale acknowledgement changes nothing
/// more.
pub fn leader_hears_ack(s: &mut NodeState, from: NodeId, index: raftpb::Index) -> bool {
    let Some(pr) = s.progress.get_mut(&from) else {
        return false;
    };
    pr.recent_active = true;
    let updated = pr.matched < index;
    if updated {
        pr.matched = index;
        pr.probe_sent = false;
    }
    pr.next_idx = pr.next_idx.max(index + 1);
    if !updated {
        return false;
    }
    match pr.state {
        ProgressState::Probe => {
            pr.state = ProgressState::Replicate;
            pr.probe_sent = false;
            pr.pending_snapshot = 0;
            pr.inflights.clear();
            pr.next_idx = pr.matched + 1;
        }
        ProgressState::Replicate => pr.inflights.retain(|&i| i > index),
        ProgressState::Snapshot => {}
    }
    true
}

/// A log as its entries' places: `[1@1, 2@1, 3@2]`.
pub fn log_text(entries: &[Entry]) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|e| format!("{}@{}", e.index, e.term))
        .collect();
    format!("[{}]", items.join(", "))
}

/// The terms of a log of `len` entries, drawn from the run's seed: each in
/// `[1, below)`, never decreasing, as a log of earlier leaders is.
pub fn older_terms(ctx: &Ctx, salt: u64, len: u64, below: Term) -> Vec<Term> {
    let mut terms: Vec<Term> = (0..len)
        .map(|i| draw_in(ctx, mix(salt, i), 1..below.max(2)))
        .collect();
    terms.sort_unstable();
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

#[cfg(test)]
mod replication_model_tests {
    use super::*;

    /// Leader 1 of `voters` (and `learners`) at `term` with a log of
    /// `log_terms`, each node's match index from `matched`.
    fn leader_state(
        voters: &[NodeId],
        learners: &[NodeId],
        log_terms: &[Term],
        term: Term,
        matched: &[(NodeId, raftpb::Index)],
    ) -> NodeState {
        let mut s = NodeState {
            id: 1,
            state: StateType::Leader,
            term,
            voters: voters.to_vec(),
            learners: learners.to_vec(),
            ..NodeState::default()
        };
        s.log.first_index = 1;
        s.log.entries = entries_of_terms(log_terms);
        let next = s.log.last_index() + 1;
        for &id in voters.iter().chain(learners) {
            s.progress.insert(
                id,
                ProgressView {
                    next_idx: next,
                    is_learner: learners.contains(&id),
                    ..ProgressView::default()
                },
            );
        }
        for &(id, m) in matched {
            if let Some(pr) = s.progress.get_mut(&id) {
                pr.matched = m;
            }
        }
        s
    }

    #[test]
    fn quorum_commit_needs_a_majority_of_voters_of_the_current_term() {
        // Each row: voters, learners, matches, log terms, term → commit.
        type Row<'a> = (
            &'a [NodeId],
            &'a [NodeId],
            &'a [(NodeId, u64)],
            &'a [Term],
            Term,
            u64,
        );
        let rows: &[Row] = &[
            (&[1], &[], &[(1, 2)], &[1, 1], 1, 2),
            (&[1, 2], &[], &[(1, 3), (2, 2)], &[3, 3, 3], 3, 2),
            (&[1, 2, 3, 4], &[], &[(1, 4), (2, 4)], &[3, 3, 3, 3], 3, 0),
            (
                &[1, 2, 3, 4],
                &[],
                &[(1, 4), (2, 4), (3, 2)],
                &[3, 3, 3, 3],
                3,
                2,
            ),
            (
                &[1, 2, 3],
                &[4, 5],
                &[(1, 2), (4, 2), (5, 2)],
                &[3, 3],
                3,
                0,
            ),
            // Figure 8: a majority holds index 2, of an earlier term.
            (&[1, 2, 3], &[], &[(1, 3), (2, 2), (3, 2)], &[1, 2, 3], 3, 0),
        ];
        for (i, &(voters, learners, matched, log, term, want)) in rows.iter().enumerate() {
            let s = leader_state(voters, learners, log, term, matched);
            assert_eq!(quorum_commit(&s), want, "row {i}");
        }
    }

    #[test]
    fn send_append_follows_progress() {
        let mut s = leader_state(&[1, 2, 3], &[], &[1, 2, 2], 2, &[(1, 3)]);
        // n2 probed from index 2: a probe goes out and n2 is paused.
        s.progress.get_mut(&2).unwrap().next_idx = 2;
        let m = send_append(&mut s, 2, 256).unwrap();
        assert_eq!((m.index, m.log_term, m.entries.len()), (1, 1, 2));
        assert!(s.progress[&2].probe_sent);
        assert_eq!(send_append(&mut s, 2, 256), None);
        // n3 streamed to: sent up to 3, next after it, one in flight.
        let pr = s.progress.get_mut(&3).unwrap();
        pr.state = ProgressState::Replicate;
        pr.next_idx = 3;
        let m = send_append(&mut s, 3, 1).unwrap();
        assert_eq!((m.index, m.entries.len()), (2, 1));
        assert_eq!(
            (s.progress[&3].next_idx, &s.progress[&3].inflights),
            (4, &vec![3])
        );
        // A window of one is full now.
        assert_eq!(send_append(&mut s, 3, 1), None);
    }

    #[test]
    fn an_acknowledgement_moves_the_match_index_up_only() {
        let mut s = leader_state(&[1, 2, 3], &[], &[1, 2, 2], 2, &[(1, 3), (2, 2)]);
        assert!(!leader_hears_ack(&mut s, 2, 1), "a stale acknowledgement");
        assert_eq!(s.progress[&2].matched, 2);
        assert!(s.progress[&2].recent_active);
        assert!(leader_hears_ack(&mut s, 3, 2));
        let pr = &s.progress[&3];
        assert_eq!(
            (pr.matched, pr.next_idx, pr.state),
            (2, 3, ProgressState::Replicate)
        );
    }
}

// ── Deep suites ──
//
// What the deep track's suites share, in a module of their own. Their nodes
// start from storage that holds no hard state: restoring one is Deep
// Step6's work, and the cases of the steps before it must not depend on
// it. The paper's rules that the deep steps implement are written here as
// expectations on a node's whole state.

pub mod deep {
    use raftpb::{
        ConfState, Entry, HardState, Index, Message, MessageType, NodeId, StateType, Term,
    };

    use super::{Node, app, config, entries_of_terms, unexpected};
    use crate::cases::Ctx;
    use crate::drive::{Call, NodeConfig, Op, Reply, StorageSetup};
    use crate::model::{Failure, LogView, NodeState, ProgressState, ProgressView, mix};

    /// The in-flight window of test nodes (`NodeConfig`'s default).
    pub const WINDOW: u64 = 256;

    /// A number in `range`, drawn from the run's seed; `salt` tells the
    /// draws of one case apart.
    pub fn pick(ctx: &Ctx, salt: u64, range: std::ops::Range<u64>) -> u64 {
        let width = range.end.saturating_sub(range.start).max(1);
        range.start + mix(ctx.seed.0, mix(0xDEE9, salt)) % width
    }

    /// Storage for a cluster of `voters` holding entries of `log_terms` at
    /// indexes 1, 2, ... and no hard state: a node that never persisted
    /// one.
    pub fn fresh_storage(voters: &[NodeId], log_terms: &[Term]) -> StorageSetup {
        StorageSetup {
            conf_state: ConfState {
                voters: voters.to_vec(),
                learners: Vec::new(),
            },
            snapshot: None,
            entries: entries_of_terms(log_terms),
            hard_state: HardState::default(),
        }
    }

    impl Node {
        /// Starts node `id` of `voters` over a log of `log_terms` and no
        /// hard state, and checks it starts as the library starts one: a
        /// follower at the last term of its log, with no vote and no
        /// leader, nothing committed.
        pub fn start_fresh(
            ctx: &mut Ctx,
            id: NodeId,
            config: NodeConfig,
            voters: &[NodeId],
            log_terms: &[Term],
        ) -> Result<Node, Failure> {
            let op = Op::Boot(crate::drive::Boot {
                id,
                config,
                storage: fresh_storage(voters, log_terms),
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
            let n = Node { id };
            let s = n.state(ctx)?;
            let last_term = log_terms.last().copied().unwrap_or(0);
            let got = (s.state, s.term, s.vote, s.lead, s.log.committed);
            let want = (StateType::Follower, last_term, 0, 0, 0);
            if got != want || s.log.terms() != log_terms {
                return Err(Failure::new(format!(
                    "set-up: node {id} started as (state, term, vote, lead, committed) = {got:?} with log terms {:?}, want {want:?} with {log_terms:?}: the code that starts a node from its storage (Raft::new, become_follower) is not the library's",
                    s.log.terms()
                )));
            }
            Ok(n)
        }

        /// Calls `maybe_commit` and returns its answer.
        pub fn maybe_commit(self, ctx: &mut Ctx) -> Result<bool, Failure> {
            self.call_bool(ctx, Call::MaybeCommit)
        }
    }

    /// A follower `id` of `voters` at `term` (at least its last log term)
    /// over a log of `log_terms`, following `lead` (0 for nobody), with
    /// nothing committed and nothing queued. Reached without any hole: a
    /// start without hard state and the library's `become_follower`.
    pub fn follower(
        ctx: &mut Ctx,
        id: NodeId,
        voters: &[NodeId],
        log_terms: &[Term],
        term: Term,
        lead: NodeId,
    ) -> Result<Node, Failure> {
        let c = config(ctx, id);
        let n = Node::start_fresh(ctx, id, c, voters, log_terms)?;
        n.call(ctx, Call::BecomeFollower { term, lead })?;
        n.call(ctx, Call::ClearMsgs)?;
        Ok(n)
    }

    /// Like [`follower`], then told by a heartbeat of `lead` that `commit`
    /// is committed (the heartbeat's handling is not a hole); its reply is
    /// dropped.
    pub fn follower_with_commit(
        ctx: &mut Ctx,
        id: NodeId,
        voters: &[NodeId],
        log_terms: &[Term],
        term: Term,
        lead: NodeId,
        commit: Index,
    ) -> Result<Node, Failure> {
        let n = follower(ctx, id, voters, log_terms, term, lead)?;
        if commit > 0 {
            let mut hb = super::msg(MessageType::MsgHeartbeat, lead, id, term);
            hb.commit = commit;
            n.deliver(ctx, hb)?;
            n.call(ctx, Call::ClearMsgs)?;
            let s = n.state(ctx)?;
            if s.log.committed != commit {
                return Err(Failure::new(format!(
                    "set-up: a heartbeat with commit {commit} left node {id} with commit index {} (heartbeats are not a hole)",
                    s.log.committed
                )));
            }
        }
        Ok(n)
    }

    /// Node `id` as the leader of `term` over a log of `log_terms`, with
    /// the empty entry of its term appended (and, if it is the only
    /// voter, committed: the leader's `append_entry` asks the commit rule,
    /// Deep Step3). Reached through a start without hard state,
    /// `become_follower`, `become_pre_candidate` and `become_leader`, none
    /// a hole of the core track. Its messages are dropped.
    pub fn leader(
        ctx: &mut Ctx,
        id: NodeId,
        voters: &[NodeId],
        log_terms: &[Term],
        term: Term,
    ) -> Result<Node, Failure> {
        let n = follower(ctx, id, voters, log_terms, term, 0)?;
        n.call(ctx, Call::BecomePreCandidate)?;
        n.call(ctx, Call::BecomeLeader)?;
        n.call(ctx, Call::ClearMsgs)?;
        let s = n.state(ctx)?;
        if s.state != StateType::Leader || s.term != term {
            return Err(Failure::new(format!(
                "set-up: node {id} did not become leader of term {term} (it is {})",
                s.role()
            )));
        }
        Ok(n)
    }

    // ── The rules, as expectations ──

    /// The term of entry `index` of `log`: 0 for index 0 of a log that
    /// starts at 1, `None` for an index the log does not hold.
    pub fn term_of(log: &LogView, index: Index) -> Option<Term> {
        if index == 0 && log.first_index == 1 {
            return Some(0);
        }
        let offset = index.checked_sub(log.first_index)?;
        log.entries.get(offset as usize).map(|e| e.term)
    }

    /// The entries of `log` from `from` on.
    pub fn entries_after(log: &LogView, from: Index) -> Vec<Entry> {
        let offset = from.saturating_sub(log.first_index) as usize;
        log.entries
            .get(offset..)
            .map(<[Entry]>::to_vec)
            .unwrap_or_default()
    }

    /// §5.4.1: whether a log ending at `last_index`@`last_term` is at least
    /// as up to date as `log`: a later last term, or the same last term
    /// and at least as long.
    pub fn up_to_date(log: &LogView, last_index: Index, last_term: Term) -> bool {
        let (ours_index, ours_term) = (log.last_index(), log.last_term());
        last_term > ours_term || (last_term == ours_term && last_index >= ours_index)
    }

    /// The hint of fast backup (§5.3), `find_conflict_by_term`: walking
    /// back from `index`, the first index whose term is `term` or older,
    /// never below `first_index - 1`; an index past the log is returned as
    /// it is.
    pub fn backup_hint(log: &LogView, index: Index, term: Term) -> Index {
        if index > log.last_index() {
            return index;
        }
        let lowest = log.first_index - 1;
        (lowest..=index)
            .rev()
            .find(|&i| i == lowest || term_of(log, i).is_none_or(|t| t <= term))
            .unwrap_or(lowest)
    }

    /// What the AppendEntries receiver (Figure 2, §5.3) does to follower
    /// `s` with the append `m`: `None` when the log lacks `m`'s previous
    /// entry (nothing changes); otherwise the entries from the first that
    /// conflicts or is new replace the log's tail (nothing is cut without
    /// a conflict, and what is rewritten is no longer persisted), the
    /// commit index follows the leader's up to the last new entry (never
    /// back), and the answer is that last new index.
    pub fn receive_append(s: &mut NodeState, m: &Message) -> Option<Index> {
        let log = &mut s.log;
        if m.index > log.last_index() || term_of(log, m.index) != Some(m.log_term) {
            return None;
        }
        let last_new = m.index + m.entries.len() as u64;
        let first_new = m
            .entries
            .iter()
            .position(|e| term_of(log, e.index) != Some(e.term));
        if let Some(k) = first_new {
            let from = m.entries[k].index;
            log.entries
                .truncate(from.saturating_sub(log.first_index) as usize);
            log.entries.extend(m.entries[k..].iter().cloned());
            log.stabled = log.stabled.min(from - 1);
        }
        log.committed = log.committed.max(m.commit.min(last_new));
        Some(last_new)
    }

    /// The answer of follower `s` (as it is after [`receive_append`]) to
    /// the append `m`: the last new index, or a rejection with the hint of
    /// fast backup (§5.3): [`backup_hint`] from the message's previous
    /// index (or our last, if lower), with the term we hold there.
    pub fn append_answer(s: &NodeState, m: &Message, accepted: Option<Index>) -> Message {
        let mut r = super::msg(MessageType::MsgAppResp, s.id, m.from, s.term);
        match accepted {
            Some(last_new) => r.index = last_new,
            None => {
                let from = m.index.min(s.log.last_index());
                let hint = backup_hint(&s.log, from, m.log_term);
                r.index = m.index;
                r.reject = true;
                r.reject_hint = hint;
                r.log_term = term_of(&s.log, hint).unwrap_or(0);
            }
        }
        r
    }

    /// The highest index a majority of `s`'s voters hold, by the leader's
    /// progress of each (its own included).
    pub fn quorum_index(s: &NodeState) -> Index {
        let mut matched: Vec<Index> = s
            .voters
            .iter()
            .map(|id| s.progress.get(id).map_or(0, |pr| pr.matched))
            .collect();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        matched.get(matched.len() / 2).copied().unwrap_or(0)
    }

    /// The commit rule (§5.3, §5.4.2): leader `s` commits the majority's
    /// index if it is ahead of the commit index and its entry is of the
    /// leader's term. Returns whether the commit index moved.
    pub fn commit_rule(s: &mut NodeState) -> bool {
        let index = quorum_index(s);
        if index > s.log.committed && term_of(&s.log, index) == Some(s.term) {
            s.log.committed = index;
            return true;
        }
        false
    }

    /// Whether the leader holds back appends to a follower of progress
    /// `pr`: its probe is unanswered, its window is full, or it is getting
    /// a snapshot.
    pub fn paused(pr: &ProgressView) -> bool {
        match pr.state {
            ProgressState::Probe => pr.probe_sent,
            ProgressState::Replicate => pr.inflights.len() as u64 >= WINDOW,
            ProgressState::Snapshot => true,
        }
    }

    /// What the library's `maybe_send_append(to, send_if_empty)` does on
    /// leader `s` (no size limit, no snapshot): unless `to` is paused (or
    /// there is nothing to send and `send_if_empty` is false), a `MsgApp`
    /// with every entry from its next index on, after the entry before
    /// them, and the commit index; a probe is then out, or (replicating)
    /// the entries are in flight and the next append goes on after them.
    pub fn send_append(s: &mut NodeState, to: NodeId, send_if_empty: bool) -> Option<Message> {
        let pr = s.progress.get(&to)?;
        if paused(pr) {
            return None;
        }
        let next = pr.next_idx;
        let prev_term = term_of(&s.log, next - 1)?;
        let entries = entries_after(&s.log, next);
        if entries.is_empty() && !send_if_empty {
            return None;
        }
        let last = entries.last().map(|e| e.index);
        let m = app(
            s.id,
            to,
            s.term,
            (next - 1, prev_term),
            entries,
            s.log.committed,
        );
        let pr = s.progress.get_mut(&to)?;
        if let Some(last) = last {
            match pr.state {
                ProgressState::Replicate => {
                    pr.next_idx = last + 1;
                    pr.inflights.push(last);
                }
                ProgressState::Probe => pr.probe_sent = true,
                ProgressState::Snapshot => {}
            }
        }
        Some(m)
    }

    /// Every other member, in id order, sent what it lacks
    /// (`bcast_append`).
    pub fn bcast_append(s: &mut NodeState) -> Vec<Message> {
        let peers: Vec<NodeId> = s.progress.keys().copied().filter(|&p| p != s.id).collect();
        peers
            .into_iter()
            .filter_map(|p| send_append(s, p, true))
            .collect()
    }

    /// What leader `s` does with `from`'s acknowledgement of its log up to
    /// `index` (the library's code around the commit rule, with the core
    /// track's Replication Step4): the follower was heard from; its match
    /// index moves up, never down, and the leader streams to it; if the
    /// commit index moved, everyone is told; a follower that was paused
    /// is sent what it lacks. Returns the messages sent.
    pub fn hear_ack(s: &mut NodeState, from: NodeId, index: Index) -> Vec<Message> {
        let Some(pr) = s.progress.get_mut(&from) else {
            return Vec::new();
        };
        pr.recent_active = true;
        let old_paused = paused(pr);
        let updated = pr.matched < index;
        if updated {
            pr.matched = index;
            pr.probe_sent = false;
        }
        pr.next_idx = pr.next_idx.max(index + 1);
        if !updated {
            return Vec::new();
        }
        match pr.state {
            ProgressState::Probe => {
                pr.state = ProgressState::Replicate;
                pr.probe_sent = false;
                pr.pending_snapshot = 0;
                pr.inflights.clear();
                pr.next_idx = pr.matched + 1;
            }
            ProgressState::Replicate => pr.inflights.retain(|&i| i > index),
            ProgressState::Snapshot => {}
        }
        let mut sent = Vec::new();
        let before = s.log.committed;
        if commit_rule(s) {
            sent.extend(bcast_append(s));
        }
        if s.log.committed == before && old_paused {
            sent.extend(send_append(s, from, true));
        }
        for _ in 0..WINDOW {
            match send_append(s, from, false) {
                Some(m) => sent.push(m),
                None => break,
            }
        }
        sent
    }

    /// What leader `s` does with `from`'s rejection of the append after
    /// `index`, with the hint `hint`@`hint_term` (Figure 2: "decrement
    /// nextIndex and retry"; §5.3's fast backup): the follower was heard
    /// from; unless the rejection is stale, its next index drops to just
    /// after what the hint and the leader's own log leave possible, a
    /// streaming follower is probed again, and the probe is sent. Returns
    /// the messages sent.
    pub fn hear_rejection(
        s: &mut NodeState,
        from: NodeId,
        index: Index,
        (hint, hint_term): (Index, Term),
    ) -> Vec<Message> {
        let probe_at = if hint_term > 0 {
            backup_hint(&s.log, hint, hint_term)
        } else {
            hint
        };
        let Some(pr) = s.progress.get_mut(&from) else {
            return Vec::new();
        };
        pr.recent_active = true;
        let moved = match pr.state {
            ProgressState::Replicate => {
                if index <= pr.matched {
                    false
                } else {
                    pr.next_idx = pr.matched + 1;
                    true
                }
            }
            _ => {
                if pr.next_idx.checked_sub(1) != Some(index) {
                    false
                } else {
                    pr.next_idx = index.min(probe_at + 1).max(1);
                    pr.probe_sent = false;
                    true
                }
            }
        };
        if !moved {
            return Vec::new();
        }
        if pr.state == ProgressState::Replicate {
            pr.state = ProgressState::Probe;
            pr.probe_sent = false;
            pr.pending_snapshot = 0;
            pr.inflights.clear();
            pr.next_idx = pr.matched + 1;
        }
        send_append(s, from, true).into_iter().collect()
    }

    /// A log's entries as `index@term`, for failure messages:
    /// `[1@1, 2@1, 3@2]`.
    pub fn places(entries: &[Entry]) -> String {
        let items: Vec<String> = entries
            .iter()
            .map(|e| format!("{}@{}", e.index, e.term))
            .collect();
        format!("[{}]", items.join(", "))
    }

    /// A log's terms, compressed: `1×3 2×48 5`.
    pub fn runs(terms: &[Term]) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < terms.len() {
            let t = terms[i];
            let mut j = i;
            while j < terms.len() && terms[j] == t {
                j += 1;
            }
            out.push(if j - i == 1 {
                format!("{t}")
            } else {
                format!("{t}×{}", j - i)
            });
            i = j;
        }
        if out.is_empty() {
            "(empty)".to_string()
        } else {
            out.join(" ")
        }
    }

    /// `count` terms, each `term`.
    pub fn repeat(term: Term, count: u64) -> Vec<Term> {
        vec![term; count as usize]
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn follower_state(terms: &[Term], committed: Index) -> NodeState {
            let mut s = NodeState {
                id: 1,
                term: 9,
                ..NodeState::default()
            };
            s.log.first_index = 1;
            s.log.entries = entries_of_terms(terms);
            s.log.stabled = terms.len() as u64;
            s.log.committed = committed;
            s
        }

        #[test]
        fn the_hint_skips_newer_terms() {
            let s = follower_state(&[1, 1, 3, 3, 5, 5], 0);
            let cases = [
                (6, 5, 6),
                (6, 4, 4),
                (6, 2, 2),
                (6, 0, 0),
                (3, 2, 2),
                (7, 1, 7),
            ];
            for (index, term, want) in cases {
                assert_eq!(backup_hint(&s.log, index, term), want, "({index}, {term})");
            }
        }

        #[test]
        fn the_receiver_cuts_only_at_a_conflict() {
            let mut s = follower_state(&[1, 1, 2, 2], 1);
            // A stale append of entries we hold: nothing changes.
            let m = app(2, 1, 3, (1, 1), entries_of_terms(&[1, 1])[1..].to_vec(), 4);
            assert_eq!(receive_append(&mut s, &m), Some(2));
            assert_eq!(s.log.terms(), vec![1, 1, 2, 2]);
            assert_eq!((s.log.committed, s.log.stabled), (2, 4));
            // A conflict at 3: cut there, and 3 is no longer persisted.
            let m = app(2, 1, 3, (2, 1), vec![Entry::new(3, 3, b"")], 3);
            assert_eq!(receive_append(&mut s, &m), Some(3));
            assert_eq!(s.log.terms(), vec![1, 1, 3]);
            assert_eq!((s.log.committed, s.log.stabled), (3, 2));
            // No entry 5: refused.
            let m = app(2, 1, 3, (5, 3), vec![], 3);
            assert_eq!(receive_append(&mut s, &m), None);
        }

        #[test]
        fn the_commit_rule_counts_only_the_current_term() {
            let mut s = follower_state(&[1, 2, 2, 4], 0);
            s.state = StateType::Leader;
            s.term = 4;
            s.voters = vec![1, 2, 3, 4, 5];
            for (id, m) in [(1, 4), (2, 3), (3, 3), (4, 0), (5, 0)] {
                s.progress.insert(
                    id,
                    ProgressView {
                        matched: m,
                        ..ProgressView::default()
                    },
                );
            }
            assert!(!commit_rule(&mut s));
            s.progress.get_mut(&2).unwrap().matched = 4;
            s.progress.get_mut(&3).unwrap().matched = 4;
            assert!(commit_rule(&mut s));
            assert_eq!(s.log.committed, 4);
            assert!(!commit_rule(&mut s));
        }

        #[test]
        fn a_rejection_backs_up_by_term() {
            let mut s = follower_state(&[1, 1, 4, 4, 4, 6], 0);
            s.state = StateType::Leader;
            s.term = 6;
            s.voters = vec![1, 2];
            s.progress.insert(
                2,
                ProgressView {
                    next_idx: 7,
                    probe_sent: true,
                    ..ProgressView::default()
                },
            );
            // The follower's entries from 3 on are of term 3: its hint is
            // 6@3, and the leader's own log can match only up to 2.
            let sent = hear_rejection(&mut s, 2, 6, (6, 3));
            assert_eq!(s.progress[&2].next_idx, 3);
            assert_eq!(sent.len(), 1);
            assert_eq!((sent[0].index, sent[0].log_term), (2, 1));
            assert!(s.progress[&2].probe_sent);
            // A second rejection of the same probe is stale.
            assert!(hear_rejection(&mut s, 2, 6, (6, 3)).is_empty());
        }

        #[test]
        fn runs_compress_terms() {
            assert_eq!(runs(&[1, 1, 1, 2, 5, 5]), "1×3 2 5×2");
            assert_eq!(runs(&[]), "(empty)");
        }
    }
}
