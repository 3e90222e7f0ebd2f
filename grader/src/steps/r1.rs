//! Replication Step1: a leader appends a proposal to its own log
//! (`step_leader`, on `MsgProp`).
//!
//! Every proposal here goes on to Step2's broadcast, so these cases report
//! BLOCKED BY Replication Step2 until that hole is filled; they check only
//! the leader's own log, commit index and progress.

use raft::{Error, MemStorage, Raft};

use super::util::{self, ent};
use crate::case::{Case, Ctx, Kind, Outcome};
use crate::check_eq;
use crate::skeleton::Step;

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| Case {
        name,
        kind: Kind::Step(Step::Replication1),
        purpose,
        run,
    };
    vec![
        case(
            "r1::appends_at_leader_term",
            "The leader appends a proposal as a new entry of its term at the next index, and counts it as its own match (§5.3).",
            appends_at_leader_term,
        ),
        case(
            "r1::batch_gets_consecutive_indexes",
            "The entries of one proposal, and of the next, get consecutive indexes after the last one and the leader's term, whatever the terms before (§5.3).",
            batch_gets_consecutive_indexes,
        ),
        case(
            "r1::overrides_proposed_term_and_index",
            "The leader sets the term and index of a proposed entry itself, whatever the proposal carried (§5.3).",
            overrides_proposed_term_and_index,
        ),
        case(
            "r1::drops_proposal_over_uncommitted_limit",
            "A proposal that would take the uncommitted log over max_uncommitted_entries_size is dropped with ProposalDropped, and appends nothing.",
            drops_proposal_over_uncommitted_limit,
        ),
        case(
            "r1::single_node_commits_at_once",
            "In a one-node cluster the leader is a majority on its own: a proposal commits as soon as it is appended (§5.3).",
            single_node_commits_at_once,
        ),
    ]
}

/// Steps a proposal of `data` into leader `r` and returns what `step` said.
fn propose(ctx: &mut Ctx, r: &mut Raft<MemStorage>, data: &[&str]) -> raft::Result<()> {
    let result = util::step_traced(ctx, r, util::proposal(r.id, data));
    // What was sent is Step2's business; take it so the trace shows it.
    util::take_traced(ctx, r);
    result
}

/// Fails unless the leader's own progress says it holds its whole log.
fn check_own_progress(context: &str, r: &Raft<MemStorage>) -> Outcome {
    let last = r.raft_log.last_index();
    let Some(pr) = r.prs.get(r.id) else {
        return Err(crate::case::Failure::new(format!(
            "after {context}: leader {} has no progress of its own",
            r.id
        )));
    };
    check_eq!(
        (pr.matched, pr.next_idx),
        (last, last + 1),
        "after {context}: the leader's own progress (match, next) — append_entry records that the leader holds its new entries, which counts towards the commit"
    );
    Ok(())
}

fn appends_at_leader_term(ctx: &mut Ctx) -> Outcome {
    // Leader 1 of three at term 2; its log is 1@1 and its empty entry 2@2.
    let mut r = util::leader_at(1, &[1, 2, 3], &[1], 2);
    let result = propose(ctx, &mut r, &["x"]);
    let context = "proposing \"x\" to leader 1 at term 2 (log [1@1, 2@2])";
    check_eq!(result, Ok(()), "{context}: step returned");
    util::check_log(context, &r, &[ent(1, 1, ""), ent(2, 2, ""), ent(2, 3, "x")])?;
    check_own_progress(context, &r)?;
    check_eq!(
        r.raft_log.committed,
        0,
        "after {context}: commit (no follower has the entry yet)"
    );
    Ok(())
}

fn batch_gets_consecutive_indexes(ctx: &mut Ctx) -> Outcome {
    // Leader 1 at term 4 over a log of older terms: 1@1 2@1 3@2, then its
    // empty entry 4@4.
    let mut r = util::leader_at(1, &[1, 2, 3], &[1, 1, 2], 4);
    let mut want = util::entries_of_terms(&[1, 1, 2, 4]);

    let result = propose(ctx, &mut r, &["a", "b", "c"]);
    let context = "proposing [\"a\", \"b\", \"c\"] in one MsgProp to leader 1 at term 4 (log [1@1, 2@1, 3@2, 4@4])";
    check_eq!(result, Ok(()), "{context}: step returned");
    want.extend([ent(4, 5, "a"), ent(4, 6, "b"), ent(4, 7, "c")]);
    util::check_log(context, &r, &want)?;
    check_own_progress(context, &r)?;

    let result = propose(ctx, &mut r, &["d"]);
    let context = "then proposing \"d\"";
    check_eq!(result, Ok(()), "{context}: step returned");
    want.push(ent(4, 8, "d"));
    util::check_log(context, &r, &want)?;
    check_own_progress(context, &r)?;
    Ok(())
}

fn overrides_proposed_term_and_index(ctx: &mut Ctx) -> Outcome {
    // A proposal forwarded by follower 2 whose entry claims to be 2@1: the
    // leader alone decides where an entry goes and with which term.
    let mut r = util::leader_at(1, &[1, 2, 3], &[1], 2);
    let mut m = util::msg(raft::MessageType::MsgProp, 2, 1, 0);
    m.entries = vec![ent(1, 2, "x")];
    let result = util::step_traced(ctx, &mut r, m);
    util::take_traced(ctx, &mut r);
    let context = "follower 2 forwarded a proposal whose entry says 2@1 \"x\" to leader 1 at term 2 (log [1@1, 2@2])";
    check_eq!(result, Ok(()), "{context}: step returned");
    util::check_log(context, &r, &[ent(1, 1, ""), ent(2, 2, ""), ent(2, 3, "x")])?;
    check_own_progress(context, &r)?;
    Ok(())
}

fn drops_proposal_over_uncommitted_limit(ctx: &mut Ctx) -> Outcome {
    // At most 10 bytes of uncommitted entry data. The first proposal is
    // always taken (nothing is uncommitted yet); the second would make 16.
    let mut cfg = util::config(1);
    cfg.max_uncommitted_entries_size = 10;
    let mut r = util::leader_from(cfg, util::storage(&[1, 2, 3], &[1], 2, 1));
    let mut want = vec![ent(1, 1, ""), ent(2, 2, "")];

    let result = propose(ctx, &mut r, &["12345678"]);
    let context =
        "proposing 8 bytes to leader 1 (max_uncommitted_entries_size 10, nothing uncommitted)";
    check_eq!(result, Ok(()), "{context}: step returned");
    want.push(ent(2, 3, "12345678"));
    util::check_log(context, &r, &want)?;

    let result = propose(ctx, &mut r, &["abcdefgh"]);
    let context = "then proposing 8 more bytes (16 > 10)";
    check_eq!(
        result,
        Err(Error::ProposalDropped),
        "{context}: step returned (append_entry returns false when the proposal must be dropped)"
    );
    util::check_log(context, &r, &want)?;

    let result = propose(ctx, &mut r, &["ab"]);
    let context = "then proposing 2 bytes (10 <= 10)";
    check_eq!(result, Ok(()), "{context}: step returned");
    want.push(ent(2, 4, "ab"));
    util::check_log(context, &r, &want)?;
    Ok(())
}

fn single_node_commits_at_once(ctx: &mut Ctx) -> Outcome {
    // Leader 1 alone at term 1: its empty entry 1@1 committed at once.
    let mut r = util::leader_at(1, &[1], &[], 1);
    let result = propose(ctx, &mut r, &["x"]);
    let context = "proposing \"x\" to leader 1, the only node, at term 1 (log [1@1], commit 1)";
    check_eq!(result, Ok(()), "{context}: step returned");
    util::check_log(context, &r, &[ent(1, 1, ""), ent(1, 2, "x")])?;
    check_own_progress(context, &r)?;
    check_eq!(
        r.raft_log.committed,
        2,
        "after {context}: commit (one node is a majority of one; append_entry commits)"
    );
    Ok(())
}
