//! Replication Step1: `step_leader`, on `MsgProp`, appends the proposal to
//! the leader's own log (§5.3), or drops it with `ProposalDropped` when the
//! uncommitted log is full.
//!
//! A proposal goes on from Step1's code straight to Step2's broadcast. Every
//! leader here already has a probe in flight to each other node (as a new
//! leader's first broadcast leaves it), so a broadcast has nobody to send
//! to and changes nothing: the leader's whole state after a proposal is
//! Step1's doing, whether Step2 is done or still a `todo!()`. What the
//! leader sends is Step2's business; it is judged only when Step2's hole
//! stopped the proposal (then nothing may have been sent).

use raftpb::{HardState, Message, MessageType, NodeId, Term};

use super::step_case;
use crate::cases::unit::{
    Node, Stepped, check_msgs, config, draw_in, ent, expect, leader_appends, log_text,
    note_changes, older_terms, proposal, storage_with,
};
use crate::cases::{Case, Ctx};
use crate::drive::{Call, NodeConfig};
use crate::model::{Failure, Outcome, Step};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Replication1, name, purpose, &[], run);
    vec![
        case(
            "r1::appends_at_leader_term",
            "The leader appends a proposal as one new entry of its own term at the next free index, counts it as held by itself, and changes nothing else (§5.3).",
            appends_at_leader_term,
        ),
        case(
            "r1::batch_gets_consecutive_indexes",
            "The entries of one proposal get consecutive indexes after the last one, all of the leader's term, and the next proposal goes on after them (§5.3).",
            batch_gets_consecutive_indexes,
        ),
        case(
            "r1::overrides_proposed_term_and_index",
            "The leader alone decides where a new entry goes and with which term, whatever term and index the proposal carried (§5.3).",
            overrides_proposed_term_and_index,
        ),
        case(
            "r1::drops_proposal_over_uncommitted_limit",
            "A proposal that would take the uncommitted log over max_uncommitted_size is dropped with ProposalDropped and changes nothing, so the proposer can retry; smaller ones still fit (§5.3 flow control, etcd's ProposalDropped).",
            drops_proposal_over_uncommitted_limit,
        ),
        case(
            "r1::single_voter_commits_at_once",
            "A leader that is the only voter is a majority on its own, learners or not: a proposal commits as soon as it is appended (§5.3).",
            single_voter_commits_at_once,
        ),
    ]
}

/// Leader 1 of `voters` and `learners` at `term` over a log of `log_terms`
/// (the first `commit` of them committed), with a probe in flight to every
/// other node, as a new leader's first broadcast leaves it.
fn leader_with_probes_out(
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
    let n = Node::leader_from(
        ctx,
        1,
        config,
        storage_with(voters, learners, log_terms, hard_state),
    )?;
    n.call(ctx, Call::BcastAppend)?;
    n.call(ctx, Call::ClearMsgs)?;
    Ok(n)
}

/// `leader 1 of [1, 2, 3] (learners [4]) at term 4 with log [1@1, 2@4],
/// commit 1`.
fn describe_leader(ctx: &mut Ctx, n: Node) -> Result<String, Failure> {
    let s = n.state(ctx)?;
    let learners = if s.learners.is_empty() {
        String::new()
    } else {
        format!(" (learners {:?})", s.learners)
    };
    Ok(format!(
        "leader {} of {:?}{learners} at term {} with log {}, commit {}",
        s.id,
        s.voters,
        s.term,
        log_text(&s.log.entries),
        s.log.committed
    ))
}

/// Steps proposal `m`, whose entries carry `data`, into leader `n`, and
/// checks that it was appended: `step` returned `Ok` (or went on into
/// Step2's hole), and the leader's whole state is as `append_entry` leaves
/// it. When Step2's hole stopped the proposal, nothing may have been sent.
fn check_appended(ctx: &mut Ctx, n: Node, m: Message, data: &[&str], context: &str) -> Outcome {
    let before = n.state(ctx)?;
    let stepped = n.step_or_later_hole(ctx, m)?;
    if let Stepped::Returned(Err(e)) = &stepped {
        return Err(Failure::new(format!(
            "{context}: step returned the error {e:?}, want Ok: the uncommitted log has room, so the proposal must be appended (§5.3)"
        )));
    }
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    expect(&before)
        .with(|s| leader_appends(s, data))
        .check(
            &after,
            format_args!(
                "{context} (§5.3: \"the leader appends the command to its log as a new entry\": of its term, at the next index, held by the leader itself, which counts towards the commit)"
            ),
        )?;
    let sent = n.take_msgs(ctx)?;
    if let Stepped::Hole(step) = stepped {
        check_msgs(
            &sent,
            &[],
            format_args!(
                "{context}, stopped at the todo!() of {step} (appending sends nothing: sending is {step}'s part)"
            ),
        )?;
    }
    Ok(())
}

/// `"a"`, `"b"`, ... as owned strings of a proposal's entries, each with a
/// seeded suffix so no two runs propose the same bytes.
fn payloads(ctx: &Ctx, salt: u64, count: u64) -> Vec<String> {
    (0..count)
        .map(|i| {
            let letter = char::from(b'a' + (i % 26) as u8);
            format!("{letter}{}", draw_in(ctx, salt + i, 0..1000))
        })
        .collect()
}

fn refs(data: &[String]) -> Vec<&str> {
    data.iter().map(String::as_str).collect()
}

fn appends_at_leader_term(ctx: &mut Ctx) -> Outcome {
    let term = draw_in(ctx, 1, 2..7);
    let log_terms = older_terms(ctx, 2, draw_in(ctx, 3, 0..4), term);
    let commit = draw_in(ctx, 4, 0..log_terms.len() as u64 + 1);
    let n = leader_with_probes_out(
        ctx,
        config(ctx, 1),
        (&[1, 2, 3], &[]),
        &log_terms,
        term,
        commit,
    )?;
    let data = payloads(ctx, 10, 1);
    let context = format!(
        "after proposing {:?} to {}",
        data[0],
        describe_leader(ctx, n)?
    );
    check_appended(ctx, n, proposal(1, &refs(&data)), &refs(&data), &context)
}

fn batch_gets_consecutive_indexes(ctx: &mut Ctx) -> Outcome {
    let term = draw_in(ctx, 1, 2..6);
    let log_terms = older_terms(ctx, 2, draw_in(ctx, 3, 1..4), term);
    let n = leader_with_probes_out(
        ctx,
        config(ctx, 1),
        (&[1, 2, 3, 4], &[5]),
        &log_terms,
        term,
        0,
    )?;
    let batch = payloads(ctx, 10, draw_in(ctx, 4, 2..5));
    let context = format!(
        "after proposing {batch:?} in one MsgProp to {}",
        describe_leader(ctx, n)?
    );
    check_appended(ctx, n, proposal(1, &refs(&batch)), &refs(&batch), &context)?;
    let next = payloads(ctx, 20, 1);
    let context = format!(
        "then after proposing {:?} to {}",
        next[0],
        describe_leader(ctx, n)?
    );
    check_appended(ctx, n, proposal(1, &refs(&next)), &refs(&next), &context)
}

fn overrides_proposed_term_and_index(ctx: &mut Ctx) -> Outcome {
    let term = draw_in(ctx, 1, 2..6);
    let log_terms = older_terms(ctx, 2, draw_in(ctx, 3, 1..4), term);
    let n = leader_with_probes_out(ctx, config(ctx, 1), (&[1, 2, 3], &[]), &log_terms, term, 0)?;
    // Follower 2 forwards a proposal whose entries claim places of their
    // own: an older index, a term that is not the leader's.
    let data = payloads(ctx, 10, draw_in(ctx, 4, 1..3));
    let mut m = Message::new(MessageType::MsgProp, 2, 1);
    m.entries = data
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let claimed_term = draw_in(ctx, 5 + i as u64, 0..term + 3);
            let claimed_index = draw_in(ctx, 7 + i as u64, 1..3);
            ent(claimed_term, claimed_index, d)
        })
        .collect();
    let claimed = log_text(&m.entries);
    let context = format!(
        "after follower 2 forwarded a proposal of entries claiming {claimed} to {}",
        describe_leader(ctx, n)?
    );
    check_appended(ctx, n, m, &refs(&data), &context)
}

fn drops_proposal_over_uncommitted_limit(ctx: &mut Ctx) -> Outcome {
    let limit = draw_in(ctx, 1, 10..16);
    let c = NodeConfig {
        max_uncommitted_size: limit,
        ..config(ctx, 1)
    };
    let n = leader_with_probes_out(ctx, c, (&[1, 2, 3], &[]), &[1], 2, 1)?;
    let setup = format!(
        "{} and max_uncommitted_size {limit}",
        describe_leader(ctx, n)?
    );
    // Nothing is uncommitted yet: the first proposal always fits.
    let first = "f".repeat((limit / 2 + 1 + draw_in(ctx, 2, 0..2)) as usize);
    let context = format!(
        "{setup}: after proposing {} bytes (nothing uncommitted yet)",
        first.len()
    );
    check_appended(ctx, n, proposal(1, &[&first]), &[&first], &context)?;

    // Then one that would take the uncommitted log over the limit.
    let room = limit - first.len() as u64;
    let over = "o".repeat((room + 1 + draw_in(ctx, 3, 0..3)) as usize);
    let context = format!(
        "{setup}: after proposing {} bytes, then {} more ({} > {limit})",
        first.len(),
        over.len(),
        first.len() + over.len()
    );
    let before = n.state(ctx)?;
    let stepped = n.step_or_later_hole(ctx, proposal(1, &[&over]))?;
    let want = Err("raft proposal dropped".to_string());
    if stepped != Stepped::Returned(want.clone()) {
        let got = match stepped {
            Stepped::Returned(r) => format!("{r:?}"),
            Stepped::Hole(step) => format!("no error (it went on to {step}'s todo!())"),
        };
        return Err(Failure::new(format!(
            "{context}: step returned {got}, want {want:?}: append_entry returns false when the proposal would overfill the uncommitted log, and the proposal must then be refused with Error::ProposalDropped so the proposer retries"
        )));
    }
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    expect(&before).check(
        &after,
        format_args!("{context}: a dropped proposal must change nothing"),
    )?;
    check_msgs(
        &n.take_msgs(ctx)?,
        &[],
        format_args!("{context}: a dropped proposal is not sent"),
    )?;

    // What still fits is taken.
    let fits = "g".repeat(room as usize);
    let context = format!(
        "{setup}: after proposing {} bytes, {} dropped, then {} ({} <= {limit})",
        first.len(),
        over.len(),
        fits.len(),
        first.len() + fits.len()
    );
    check_appended(ctx, n, proposal(1, &[&fits]), &[&fits], &context)
}

fn single_voter_commits_at_once(ctx: &mut Ctx) -> Outcome {
    let term = draw_in(ctx, 1, 2..6);
    let log_terms = older_terms(ctx, 2, draw_in(ctx, 3, 0..3), term);
    let learners: Vec<NodeId> = (2..2 + draw_in(ctx, 4, 0..3)).collect();
    let n = leader_with_probes_out(ctx, config(ctx, 1), (&[1], &learners), &log_terms, term, 0)?;
    for round in 0..2 {
        let data = payloads(ctx, 10 + 10 * round, 1 + round);
        let context = format!("after proposing {data:?} to {}", describe_leader(ctx, n)?);
        check_appended(ctx, n, proposal(1, &refs(&data)), &refs(&data), &context)?;
    }
    Ok(())
}
