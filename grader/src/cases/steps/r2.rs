//! Replication Step2: after appending a proposal, `step_leader` sends every
//! other node what it lacks (§5.3: the leader "issues AppendEntries RPCs in
//! parallel to each of the other servers").
//!
//! A proposal passes through Step1's code first, so these cases are blocked
//! by Replication Step1 until it is done. Each judges the leader's whole
//! state after a proposal (Step1's append, and every follower's progress
//! after what was sent to it) and every message, in any order.

use raftpb::{HardState, Message, NodeId, Term};

use super::step_case;
use crate::cases::unit::{
    Node, check_msgs, config, draw_in, expect, leader_appends, log_text, note_changes, older_terms,
    proposal, send_append, storage_with,
};
use crate::cases::{Case, Ctx};
use crate::drive::{Call, NodeConfig};
use crate::model::{Failure, NodeState, Outcome, ProgressState, Step};

const USES: &[(Step, &str)] = &[(
    Step::Replication1,
    "the proposal is appended by Step1's code before it is sent",
)];

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Replication2, name, purpose, USES, run);
    vec![
        case(
            "r2::sends_to_every_follower",
            "After a proposal the leader sends each follower a MsgApp with the entries from its next index on, after the entry just before them, with the leader's commit index (§5.3).",
            sends_to_every_follower,
        ),
        case(
            "r2::sends_to_all_four_followers",
            "In a five-node cluster all four followers get the new entries, each according to its own progress, and the leader sends nothing to itself (§5.3).",
            sends_to_all_four_followers,
        ),
        case(
            "r2::sends_to_learners_too",
            "Learners get the new entries like any follower: they do not vote, but they keep a copy of the log (§5.3; learners, §4.2.1 of the Raft thesis).",
            sends_to_learners_too,
        ),
        case(
            "r2::probing_follower_waits_for_answer",
            "A follower the leader is probing has an append in flight: the next proposal sends it nothing until it answers (§5.3 flow control, etcd's probe state).",
            probing_follower_waits_for_answer,
        ),
        case(
            "r2::replicating_followers_get_new_entries",
            "Followers the leader streams to get only the entries after what was last sent, proposal after proposal, without waiting for answers (§5.3).",
            replicating_followers_get_new_entries,
        ),
        case(
            "r2::paused_follower_is_skipped",
            "Each follower is sent to according to its own progress: one with a probe in flight or a full window of appends gets nothing while the others get the entries (§5.3 flow control).",
            paused_follower_is_skipped,
        ),
        case(
            "r2::single_node_sends_nothing",
            "A leader alone in its cluster has no other server to send to: a proposal sends no message, not even to itself (§5.3).",
            single_node_sends_nothing,
        ),
    ]
}

/// The window of appends in flight of test nodes (the config's default).
const WINDOW: u64 = 256;

/// Node 1 as the leader of `voters` and `learners` at `term` over a log of
/// `log_terms`, the first `commit` of them committed, with `config`.
fn leader(
    ctx: &mut Ctx,
    config: NodeConfig,
    (voters, learners): (&[NodeId], &[NodeId]),
    log_terms: &[Term],
    term: Term,
    commit: u64,
) -> Result<Node, Failure> {
    let hard_state = HardState {
        term,
        vote: 1,
        commit,
    };
    Node::leader_from(
        ctx,
        1,
        config,
        storage_with(voters, learners, log_terms, hard_state),
    )
}

/// `leader 1 of [1, 2, 3] at term 4 with log [1@1, 2@4], commit 1;
/// progress n2 match=0 next=3 Probe, ...`.
fn describe(s: &NodeState) -> String {
    let learners = if s.learners.is_empty() {
        String::new()
    } else {
        format!(" (learners {:?})", s.learners)
    };
    let progress: Vec<String> = s
        .progress
        .iter()
        .filter(|(id, _)| **id != s.id)
        .map(|(id, pr)| format!("n{id} {pr}"))
        .collect();
    format!(
        "leader {} of {:?}{learners} at term {} with log {}, commit {}; progress {}",
        s.id,
        s.voters,
        s.term,
        log_text(&s.log.entries),
        s.log.committed,
        progress.join(", ")
    )
}

/// Proposes `data` to leader `n` (window `window`) and checks the leader's
/// whole state and messages: the entries appended (Step1), then each other
/// node sent what it lacks, unless its progress holds appends back.
fn check_sent_to_each(ctx: &mut Ctx, n: Node, data: &[&str], window: u64) -> Outcome {
    let before = n.state(ctx)?;
    let context = format!("after proposing {data:?} to {}", describe(&before));
    let result = n.step(ctx, proposal(n.id, data))?;
    if let Err(e) = result {
        return Err(Failure::new(format!(
            "{context}: step returned the error {e:?}, want Ok"
        )));
    }
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    let mut want_msgs: Vec<Message> = Vec::new();
    let want = expect(&before).with(|s| {
        leader_appends(s, data);
        let others: Vec<NodeId> = s
            .progress
            .keys()
            .copied()
            .filter(|&id| id != s.id)
            .collect();
        for id in others {
            want_msgs.extend(send_append(s, id, window));
        }
    });
    let sent = n.take_msgs(ctx)?;
    check_msgs(
        &sent,
        &want_msgs,
        format_args!(
            "{context} (§5.3: the leader \"issues AppendEntries RPCs in parallel to each of the other servers\": each gets the entries from its next index on, unless a probe or a full window holds it back)"
        ),
    )?;
    want.check(
        &after,
        format_args!(
            "{context} (what was sent is in flight: a probed follower waits for its answer, a streamed one is sent from after the new entries next)"
        ),
    )
}

/// A seeded term and log of earlier terms for a new leader.
fn term_and_log(ctx: &Ctx) -> (Term, Vec<Term>) {
    let term = draw_in(ctx, 1, 2..7);
    let log_terms = older_terms(ctx, 2, draw_in(ctx, 3, 0..4), term);
    (term, log_terms)
}

fn sends_to_every_follower(ctx: &mut Ctx) -> Outcome {
    let (term, log_terms) = term_and_log(ctx);
    let commit = draw_in(ctx, 4, 0..log_terms.len() as u64 + 1);
    let n = leader(
        ctx,
        config(ctx, 1),
        (&[1, 2, 3], &[]),
        &log_terms,
        term,
        commit,
    )?;
    check_sent_to_each(ctx, n, &["x"], WINDOW)
}

fn sends_to_all_four_followers(ctx: &mut Ctx) -> Outcome {
    let (term, log_terms) = term_and_log(ctx);
    let n = leader(
        ctx,
        config(ctx, 1),
        (&[1, 2, 3, 4, 5], &[]),
        &log_terms,
        term,
        0,
    )?;
    // One follower, drawn from the seed, holds the leader's log up to its
    // last entry and is streamed to; the others are still probed.
    let last = n.state(ctx)?.log.last_index();
    let streamed = draw_in(ctx, 5, 2..6);
    n.set_progress(ctx, streamed, last, last + 1, ProgressState::Replicate)?;
    check_sent_to_each(ctx, n, &["x", "y"], WINDOW)
}

fn sends_to_learners_too(ctx: &mut Ctx) -> Outcome {
    let (term, log_terms) = term_and_log(ctx);
    let learners: Vec<NodeId> = (4..4 + draw_in(ctx, 5, 1..3)).collect();
    let n = leader(
        ctx,
        config(ctx, 1),
        (&[1, 2, 3], &learners),
        &log_terms,
        term,
        0,
    )?;
    check_sent_to_each(ctx, n, &["x"], WINDOW)
}

fn probing_follower_waits_for_answer(ctx: &mut Ctx) -> Outcome {
    let (term, log_terms) = term_and_log(ctx);
    let n = leader(ctx, config(ctx, 1), (&[1, 2, 3], &[]), &log_terms, term, 0)?;
    // The first proposal sends each follower a probe; neither answers, so
    // the second sends nothing.
    check_sent_to_each(ctx, n, &["x"], WINDOW)?;
    check_sent_to_each(ctx, n, &["y"], WINDOW)
}

fn replicating_followers_get_new_entries(ctx: &mut Ctx) -> Outcome {
    let (term, log_terms) = term_and_log(ctx);
    let held = log_terms.len() as u64;
    let n = leader(
        ctx,
        config(ctx, 1),
        (&[1, 2, 3], &[]),
        &log_terms,
        term,
        held,
    )?;
    // Both followers hold the log before the leader's term, and are
    // streamed to from there.
    for id in [2, 3] {
        n.set_progress(ctx, id, held, held + 1, ProgressState::Replicate)?;
    }
    for data in [&["x"][..], &["y", "z"], &["w"]] {
        check_sent_to_each(ctx, n, data, WINDOW)?;
    }
    Ok(())
}

fn paused_follower_is_skipped(ctx: &mut Ctx) -> Outcome {
    let (term, log_terms) = term_and_log(ctx);
    let held = log_terms.len() as u64;
    let window = draw_in(ctx, 5, 1..4);
    let c = NodeConfig {
        max_inflight_msgs: window,
        ..config(ctx, 1)
    };
    let n = leader(ctx, c, (&[1, 2, 3, 4], &[]), &log_terms, term, 0)?;
    // Follower 2 has a probe in flight. Follower 3 is streamed to and its
    // window is full: one append in flight per entry appended since.
    // Follower 4 is streamed to and has room.
    n.call(ctx, Call::SendAppend { to: 2 })?;
    n.set_progress(ctx, 3, held, held + 1, ProgressState::Replicate)?;
    n.set_progress(ctx, 4, held, held + 1, ProgressState::Replicate)?;
    for i in 0..window {
        let data = format!("w{i}");
        n.call(
            ctx,
            Call::AppendEntry(vec![crate::cases::unit::ent(0, 0, &data)]),
        )?;
        n.call(ctx, Call::SendAppend { to: 3 })?;
    }
    n.call(ctx, Call::ClearMsgs)?;
    check_sent_to_each(ctx, n, &["x"], window)
}

fn single_node_sends_nothing(ctx: &mut Ctx) -> Outcome {
    let (term, log_terms) = term_and_log(ctx);
    let n = leader(ctx, config(ctx, 1), (&[1], &[]), &log_terms, term, 0)?;
    check_sent_to_each(ctx, n, &["x"], WINDOW)
}
