//! Replication Step4: after a successful `MsgAppResp`, `step_leader`
//! commits what a majority of the voters holds, if it is of the leader's
//! term (§5.3; §5.4.2, Figure 8), and the followers learn the new commit
//! index.
//!
//! No case proposes anything: the leader's entries of its own term are the
//! empty one `become_leader` appends and, where a case needs more, entries
//! appended with the library's `append_entry`. So only this hole runs.
//!
//! After each acknowledgement a case judges the leader's whole state: the
//! follower that answered is known to hold what it acknowledged and is sent
//! what it lacks, the commit index is what the rule says, and every other
//! follower either was sent what it lacks or was left alone. How the
//! followers learn a new commit index is the leader's choice (§5.3: "in
//! future AppendEntries RPCs (including heartbeats)"): an append at once,
//! or the next heartbeat. The rule checked is that within one heartbeat
//! interval every follower has been told the new commit index, as far as
//! the leader knows it holds the entries.

use std::collections::BTreeMap;

use raftpb::{HardState, Message, MessageType, NodeId, Term};

use super::step_case;
use crate::cases::unit::{
    Node, app_resp, config, describe, draw_in, ent, entries_from, expect, leader_hears_ack,
    log_text, note_changes, quorum_commit, send_append, storage_with, term_at, ticks,
};
use crate::cases::{Case, Ctx};
use crate::drive::{Call, NodeConfig};
use crate::model::{Failure, NodeState, Outcome, ProgressState, Step, mix};
use crate::{check, check_eq};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Replication4, name, purpose, &[], run);
    vec![
        case(
            "r4::commits_what_a_majority_holds",
            "The leader commits the highest index of its term that a majority of the voters holds, for clusters of 1 to 5 voters, learners not counted (§5.3).",
            commits_what_a_majority_holds,
        ),
        case(
            "r4::no_commit_of_earlier_term_by_count",
            "An entry of an earlier term is not committed by counting replicas, even when every node holds it; it commits with the first entry of the leader's term a majority holds (§5.4.2, Figure 8).",
            no_commit_of_earlier_term_by_count,
        ),
        case(
            "r4::followers_learn_new_commit",
            "When the commit index moves, every follower that holds the new entries, learners too, is told the new commit index within one heartbeat interval, by an append or a heartbeat (§5.3).",
            followers_learn_new_commit,
        ),
        case(
            "r4::commit_waits_for_a_majority",
            "Acknowledgements from fewer than a majority of the voters commit nothing, in clusters of 4 and 5 voters; the one that completes the majority commits (§5.3).",
            commit_waits_for_a_majority,
        ),
        case(
            "r4::commit_never_goes_back",
            "A leader that restarted with a commit index ahead of its followers' acknowledgements keeps it: the commit index never decreases (§5.3, Figure 2).",
            commit_never_goes_back,
        ),
        case(
            "r4::learners_do_not_count",
            "Acknowledgements of learners do not make a majority: only voters count, though learners learn the commit index too (§5.3; learners, §4.2.1 of the Raft thesis).",
            learners_do_not_count,
        ),
        case(
            "r4::counts_only_acknowledged_entries",
            "A follower counts towards the commit only for the entries it acknowledged, not for appends still in flight to it (§5.3; Figure 2: matchIndex is the highest entry known to be replicated).",
            counts_only_acknowledged_entries,
        ),
    ]
}

/// The window of appends in flight of test nodes (the config's default).
const WINDOW: u64 = 256;

/// A leader under test and its heartbeat interval, in ticks.
#[derive(Clone, Copy)]
struct Leader {
    node: Node,
    heartbeat_ticks: u64,
}

/// Node 1 as the leader of `voters` and `learners` at `term` over a log of
/// `log_terms`, the first `commit` of them committed, with a heartbeat
/// interval drawn from the seed. It sent nothing yet: every follower is
/// probed from the leader's last index.
fn leader(
    ctx: &mut Ctx,
    (voters, learners): (&[NodeId], &[NodeId]),
    log_terms: &[Term],
    term: Term,
    commit: u64,
) -> Result<Leader, Failure> {
    let heartbeat_ticks = draw_in(ctx, 0x4b, 1..4);
    let c = NodeConfig {
        heartbeat_tick: heartbeat_ticks,
        ..config(ctx, 1)
    };
    let hard_state = HardState {
        term,
        vote: 1,
        commit,
    };
    let node = Node::leader_from(
        ctx,
        1,
        c,
        storage_with(voters, learners, log_terms, hard_state),
    )?;
    Ok(Leader {
        node,
        heartbeat_ticks,
    })
}

/// `[n1:5 n2:4 n3:0]`: the match index of every node.
fn match_indexes(s: &NodeState) -> String {
    let parts: Vec<String> = s
        .progress
        .iter()
        .map(|(id, pr)| format!("n{id}:{}", pr.matched))
        .collect();
    format!("[{}]", parts.join(" "))
}

/// `leader 1 of [1, 2, 3] (learners [4]) at term 3 with log [1@1, 2@3],
/// commit 1`.
fn describe_leader(s: &NodeState) -> String {
    let learners = if s.learners.is_empty() {
        String::new()
    } else {
        format!(" (learners {:?})", s.learners)
    };
    format!(
        "leader {} of {:?}{learners} at term {} with log {}, commit {}",
        s.id,
        s.voters,
        s.term,
        log_text(&s.log.entries),
        s.log.committed
    )
}

/// Steps `from`'s acknowledgement of the leader's log up to `index` into
/// the leader, and judges its whole state and what it sent. When the
/// commit index moved, also judges that the followers learn it within one
/// heartbeat interval. `row` names the case's row in failures.
fn ack(ctx: &mut Ctx, l: Leader, from: NodeId, index: u64, row: &str) -> Outcome {
    let n = l.node;
    let before = n.state(ctx)?;
    let context = format!(
        "{row}: after n{from} acknowledged index {index} (match indexes before {})",
        match_indexes(&before)
    );
    n.deliver(ctx, app_resp(from, n.id, before.term, index))?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);

    let mut want = before.clone();
    if leader_hears_ack(&mut want, from, index) {
        want.log.committed = quorum_commit(&want);
        // The follower that answered is sent what it lacks (the library's
        // code after the hole does it, if the hole did not).
        send_append(&mut want, from, WINDOW);
    }
    let commit_context = format!("{context}, match indexes {}", match_indexes(&after));
    check_eq!(
        after.log.committed,
        want.log.committed,
        "{commit_context}: commit (§5.3: \"a log entry is committed once the leader that created the entry has replicated it on a majority of the servers\", counting voters only, the leader among them; §5.4.2: only an entry of the leader's own term is committed by counting; and the commit index never goes back)"
    );
    // Any other node may have been sent what it lacks, or not.
    let others: Vec<NodeId> = want
        .progress
        .keys()
        .copied()
        .filter(|&id| id != want.id && id != from)
        .collect();
    for id in others {
        let mut sent = want.clone();
        if send_append(&mut sent, id, WINDOW).is_some()
            && after.progress.get(&id) == sent.progress.get(&id)
            && let Some(pr) = sent.progress.remove(&id)
        {
            want.progress.insert(id, pr);
        }
    }
    expect(&want).check(
        &after,
        format_args!(
            "{context} (the follower that answered holds the leader's log up to what it acknowledged, Figure 2's matchIndex, and is sent what it lacks; every other node is either sent what it lacks or left as it was)"
        ),
    )?;
    let sent = n.take_msgs(ctx)?;
    check_well_formed(&after, &sent, &context)?;
    if after.log.committed > before.log.committed {
        check_followers_learn(ctx, l, &after, sent, &context)?;
    }
    Ok(())
}

/// Fails unless every message is an append or a heartbeat to another node
/// that agrees with the leader's log and commit index in `s`.
fn check_well_formed(s: &NodeState, sent: &[Message], context: &str) -> Outcome {
    for m in sent {
        let what = format!(
            "{context}: the leader sent {}",
            describe(std::slice::from_ref(m))
        );
        check!(
            m.from == s.id && m.to != s.id && s.progress.contains_key(&m.to),
            "{what}: a leader sends appends and heartbeats to the other nodes of its cluster only"
        );
        check_eq!(m.term, s.term, "{what}: term");
        match m.msg_type {
            MessageType::MsgApp => {
                check_eq!(
                    Some(m.log_term),
                    term_at(&s.log, m.index),
                    "{what}: the term of the entry before the new ones (its log_term) must be the leader's term of that entry"
                );
                let mut want_entries = entries_from(&s.log, m.index + 1);
                want_entries.truncate(m.entries.len());
                check_eq!(
                    m.entries,
                    want_entries,
                    "{what}: entries (an append carries the leader's own entries after its index)"
                );
                check!(
                    m.commit <= s.log.committed,
                    "{what}: commit {} is beyond the leader's commit index {}",
                    m.commit,
                    s.log.committed
                );
            }
            MessageType::MsgHeartbeat => {
                let matched = s.progress.get(&m.to).map_or(0, |pr| pr.matched);
                check!(
                    m.commit <= matched.min(s.log.committed),
                    "{what}: a heartbeat's commit index may not exceed what the follower is known to hold ({matched}) nor the leader's commit index ({})",
                    s.log.committed
                );
            }
            other => {
                return Err(Failure::new(format!(
                    "{what}: a {other:?}, want only appends (MsgApp) or heartbeats (MsgHeartbeat) after an acknowledgement"
                )));
            }
        }
    }
    Ok(())
}

/// Ticks leader `l` for one heartbeat interval after its commit index
/// moved to `s.log.committed`, and fails unless by then every other node
/// has been told the new commit index, as far as the leader knows it holds
/// the entries: by an append after an entry it holds, or by a heartbeat.
/// `sent` is what the leader sent when the commit moved.
fn check_followers_learn(
    ctx: &mut Ctx,
    l: Leader,
    s: &NodeState,
    mut sent: Vec<Message>,
    context: &str,
) -> Outcome {
    let n = l.node;
    n.tick(ctx, l.heartbeat_ticks)?;
    let later = n.take_msgs(ctx)?;
    check_well_formed(&n.state(ctx)?, &later, context)?;
    sent.extend(later);
    let commit = s.log.committed;
    let mut learned: BTreeMap<NodeId, u64> = BTreeMap::new();
    for m in &sent {
        let holds = s.progress.get(&m.to).map_or(0, |pr| pr.matched);
        let told = match m.msg_type {
            MessageType::MsgApp if m.index <= holds => {
                m.commit.min(m.index + m.entries.len() as u64)
            }
            MessageType::MsgHeartbeat => m.commit,
            _ => 0,
        };
        let best = learned.entry(m.to).or_default();
        *best = (*best).max(told);
    }
    for (&id, pr) in &s.progress {
        if id == s.id {
            continue;
        }
        let need = commit.min(pr.matched);
        let got = learned.get(&id).copied().unwrap_or(0);
        check!(
            got >= need,
            "{context}, the commit index moved to {commit}; then in {} (one heartbeat interval) n{id}, known to hold the leader's log up to {}, was told commit {got}, want {need}: §5.3, the leader \"includes that index in future AppendEntries RPCs (including heartbeats) so that the other servers eventually find out\"; messages: {}",
            ticks(l.heartbeat_ticks),
            pr.matched,
            describe(&sent)
        );
    }
    Ok(())
}

/// The terms of a row's log, written for a leader of term 3, moved to the
/// leader's term `3 + by`.
fn shifted(terms: &[Term], by: Term) -> Vec<Term> {
    terms.iter().map(|&t| t + by).collect()
}

/// `acks` in an order drawn from the seed.
fn shuffled(ctx: &Ctx, salt: u64, acks: &[(NodeId, u64)]) -> Vec<(NodeId, u64)> {
    let mut keyed: Vec<(u64, (NodeId, u64))> = acks
        .iter()
        .enumerate()
        .map(|(i, &a)| (mix(mix(ctx.seed.0, salt), i as u64), a))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, a)| a).collect()
}

/// One table row: a leader at term 3 (every term moved by a number drawn
/// from the seed) over `log` (then its empty entry), the acknowledgements
/// `(from, index)` it gets in an order drawn from the seed, and the commit
/// index that must follow.
struct Row {
    voters: &'static [NodeId],
    learners: &'static [NodeId],
    log: &'static [Term],
    acks: &'static [(NodeId, u64)],
    want_commit: u64,
}

const fn row(
    voters: &'static [NodeId],
    learners: &'static [NodeId],
    log: &'static [Term],
    acks: &'static [(NodeId, u64)],
    want_commit: u64,
) -> Row {
    Row {
        voters,
        learners,
        log,
        acks,
        want_commit,
    }
}

fn commits_what_a_majority_holds(ctx: &mut Ctx) -> Outcome {
    let three = &[1, 2, 3];
    let four = &[1, 2, 3, 4];
    let five = &[1, 2, 3, 4, 5];
    let rows = [
        // One voter: the leader alone is the majority, learners or not.
        row(&[1], &[2], &[3], &[(2, 2)], 2),
        // Two voters: both are needed.
        row(&[1, 2], &[], &[3, 3], &[(2, 2)], 2),
        row(&[1, 2], &[], &[3, 3], &[(2, 3)], 3),
        // Three voters: the leader and one follower; committing the
        // leader's entry commits the older ones before it.
        row(three, &[], &[], &[(2, 1)], 1),
        row(three, &[], &[1, 2], &[(2, 3)], 3),
        row(three, &[], &[1, 2], &[(3, 3)], 3),
        // Four voters: three are needed.
        row(four, &[], &[3, 3, 3], &[(2, 4)], 0),
        row(four, &[], &[3, 3, 3], &[(2, 4), (3, 2)], 2),
        // Five voters: three are needed; the third-highest match commits.
        row(five, &[], &[3, 3, 3, 3], &[(2, 5)], 0),
        row(five, &[], &[3, 3, 3, 3], &[(2, 5), (3, 5)], 5),
        row(five, &[], &[3, 3, 3, 3], &[(2, 4), (3, 3)], 3),
        row(five, &[], &[3, 3, 3, 3], &[(2, 5), (3, 1), (4, 4)], 4),
        // Learners hold entries but do not count.
        row(three, &[4, 5], &[3], &[(4, 2), (5, 2)], 0),
        row(three, &[4, 5], &[3], &[(4, 2), (5, 2), (3, 1)], 1),
        // The majority's index is of an earlier term: not yet (§5.4.2).
        row(five, &[], &[1, 1, 3, 3], &[(2, 2), (3, 2)], 0),
        row(five, &[], &[1, 1, 3, 3], &[(2, 3), (3, 4)], 3),
    ];
    let by = draw_in(ctx, 1, 0..3);
    for (i, r) in rows.iter().enumerate() {
        let term = 3 + by;
        let l = leader(ctx, (r.voters, r.learners), &shifted(r.log, by), term, 0)?;
        let acks = shuffled(ctx, 2 + i as u64, r.acks);
        let shown: Vec<String> = acks
            .iter()
            .map(|(id, idx)| format!("n{id}:{idx}"))
            .collect();
        let start = l.node.state(ctx)?;
        let name = format!(
            "case #{} ({} voters, {}, acknowledgements {})",
            i + 1,
            r.voters.len(),
            describe_leader(&start),
            shown.join(" ")
        );
        ctx.note(|| name.clone());
        for &(from, index) in &acks {
            ack(ctx, l, from, index, &name)?;
        }
        let end = l.node.state(ctx)?;
        check_eq!(
            end.log.committed,
            r.want_commit,
            "{name}: with match indexes {}, commit",
            match_indexes(&end)
        );
    }
    Ok(())
}

fn no_commit_of_earlier_term_by_count(ctx: &mut Ctx) -> Outcome {
    // Leader 1 of three at term t+1 over 1@1 2@t, then its empty entry
    // 3@(t+1): entry 2 is of an earlier term.
    let t = draw_in(ctx, 1, 2..5);
    let l = leader(ctx, (&[1, 2, 3], &[]), &[1, t], t + 1, 0)?;
    let name = describe_leader(&l.node.state(ctx)?);
    ack(ctx, l, 2, 2, &name)?;
    ack(ctx, l, 3, 2, &name)?;
    let s = l.node.state(ctx)?;
    check_eq!(
        s.log.committed,
        0,
        "{name}: after n2 and n3 acknowledged index 2, of term {t} (match indexes {}), commit: every node holds it, yet an entry of an earlier term is never committed by counting replicas (§5.4.2, Figure 8)",
        match_indexes(&s)
    );
    let third = draw_in(ctx, 2, 2..4);
    ack(ctx, l, third, 3, &name)?;
    let s = l.node.state(ctx)?;
    check_eq!(
        s.log.committed,
        3,
        "{name}: then after n{third} acknowledged index 3, of the leader's term {} (match indexes {}), commit: it is on a majority and of the current term, and committing it commits entry 2 too (§5.4.2)",
        t + 1,
        match_indexes(&s)
    );
    Ok(())
}

fn followers_learn_new_commit(ctx: &mut Ctx) -> Outcome {
    // Five voters and a learner; the leader of term t over 1@1, then its
    // empty entry 2@t.
    let t = draw_in(ctx, 1, 2..6);
    let l = leader(ctx, (&[1, 2, 3, 4, 5], &[6]), &[1], t, 0)?;
    let name = describe_leader(&l.node.state(ctx)?);
    // The learner holds everything first: no commit yet. Then two voters,
    // drawn from the seed, complete the majority.
    ack(ctx, l, 6, 2, &name)?;
    let first = draw_in(ctx, 2, 2..6);
    let second = 2 + (first - 2 + draw_in(ctx, 3, 1..4)) % 4;
    ack(ctx, l, first, 2, &name)?;
    ack(ctx, l, second, 2, &name)?;
    let s = l.node.state(ctx)?;
    check_eq!(
        s.log.committed,
        2,
        "{name}: after n6 (a learner), n{first} and n{second} acknowledged index 2 (match indexes {}), commit",
        match_indexes(&s)
    );
    Ok(())
}

fn commit_waits_for_a_majority(ctx: &mut Ctx) -> Outcome {
    let voters: &[NodeId] = if draw_in(ctx, 1, 0..2) == 0 {
        &[1, 2, 3, 4]
    } else {
        &[1, 2, 3, 4, 5]
    };
    let t = draw_in(ctx, 2, 2..6);
    let l = leader(ctx, (voters, &[]), &[1], t, 0)?;
    // Two more entries of the leader's term: 1@1 2@t 3@t 4@t.
    l.node
        .call(ctx, Call::AppendEntry(vec![ent(0, 0, "x"), ent(0, 0, "y")]))?;
    let name = describe_leader(&l.node.state(ctx)?);
    // Every follower acknowledges an index of the leader's term, in an
    // order drawn from the seed.
    let acks: Vec<(NodeId, u64)> = voters[1..]
        .iter()
        .map(|&id| (id, draw_in(ctx, 10 + id, 2..5)))
        .collect();
    for (from, index) in shuffled(ctx, 3, &acks) {
        ack(ctx, l, from, index, &name)?;
    }
    Ok(())
}

fn commit_never_goes_back(ctx: &mut Ctx) -> Outcome {
    // Leader 1 at term t+1 restarted knowing 1@1 2@t committed; its empty
    // entry is 3@(t+1). The followers' match indexes start at 0.
    let t = draw_in(ctx, 1, 2..5);
    let l = leader(ctx, (&[1, 2, 3], &[]), &[1, t], t + 1, 2)?;
    let name = describe_leader(&l.node.state(ctx)?);
    ack(ctx, l, 2, 1, &name)?;
    let s = l.node.state(ctx)?;
    check_eq!(
        s.log.committed,
        2,
        "{name}: after n2 acknowledged index 1 (match indexes {}, a majority holds only index 1), commit: the commit index never decreases",
        match_indexes(&s)
    );
    ack(ctx, l, 3, 3, &name)?;
    Ok(())
}

fn learners_do_not_count(ctx: &mut Ctx) -> Outcome {
    let t = draw_in(ctx, 1, 2..6);
    let l = leader(ctx, (&[1, 2, 3], &[4, 5]), &[1], t, 0)?;
    let name = describe_leader(&l.node.state(ctx)?);
    ack(ctx, l, 4, 2, &name)?;
    ack(ctx, l, 5, 2, &name)?;
    let s = l.node.state(ctx)?;
    check_eq!(
        s.log.committed,
        0,
        "{name}: after learners 4 and 5 acknowledged index 2 (match indexes {}), commit: learners do not vote, so they are no part of a majority",
        match_indexes(&s)
    );
    // One voter more makes the majority of voters; the learners, which hold
    // the entries, must learn the commit too.
    let voter = draw_in(ctx, 2, 2..4);
    ack(ctx, l, voter, 2, &name)
}

fn counts_only_acknowledged_entries(ctx: &mut Ctx) -> Outcome {
    // Leader 1 of three at term t over a log of earlier terms, then its
    // empty entry and two entries of its own.
    let t = draw_in(ctx, 1, 2..6);
    let held = draw_in(ctx, 2, 1..4);
    let log_terms: Vec<Term> = (0..held).map(|i| 1 + i % (t - 1)).collect();
    let mut log_terms = log_terms;
    log_terms.sort_unstable();
    let l = leader(ctx, (&[1, 2, 3], &[]), &log_terms, t, held)?;
    // Follower 2 holds the log before the leader's term and is streamed to:
    // everything up to the last entry is in flight to it.
    l.node
        .set_progress(ctx, 2, held, held + 1, ProgressState::Replicate)?;
    l.node
        .call(ctx, Call::AppendEntry(vec![ent(0, 0, "x"), ent(0, 0, "y")]))?;
    l.node.call(ctx, Call::SendAppend { to: 2 })?;
    l.node.call(ctx, Call::ClearMsgs)?;
    let s = l.node.state(ctx)?;
    let last = s.log.last_index();
    let name = format!(
        "{} (appends up to {last} in flight to n2, next index {})",
        describe_leader(&s),
        s.progress.get(&2).map_or(0, |pr| pr.next_idx)
    );
    // n2 acknowledges the first append of the leader's term only.
    ack(ctx, l, 2, held + 1, &name)?;
    let s = l.node.state(ctx)?;
    check_eq!(
        s.log.committed,
        held + 1,
        "{name}: after n2 acknowledged index {} only (match indexes {}), commit: the entries still in flight are not known to be on n2",
        held + 1,
        match_indexes(&s)
    );
    ack(ctx, l, 2, last, &name)
}
