//! Replication Step2: after appending a proposal, the leader sends every
//! follower what it is missing (`step_leader`, on `MsgProp`).
//!
//! A proposal passes through Step1 first, so these cases report BLOCKED BY
//! Replication Step1 until that hole is filled.

use raft::{MemStorage, Message, Raft};

use super::util::{self, app, ent};
use crate::case::{Case, Ctx, Kind, Outcome};
use crate::check_eq;
use crate::skeleton::Step;

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| Case {
        name,
        kind: Kind::Step(Step::Replication2),
        purpose,
        run,
    };
    vec![
        case(
            "r2::sends_to_every_follower",
            "After a proposal the leader sends each follower a MsgApp with the entries from its next index, after the entry just before them (§5.3).",
            sends_to_every_follower,
        ),
        case(
            "r2::sends_to_all_four_followers",
            "In a five-node cluster all four followers get the new entries, and the leader sends nothing to itself (§5.3).",
            sends_to_all_four_followers,
        ),
        case(
            "r2::probing_follower_waits_for_answer",
            "A follower the leader is probing already has an append in flight: a second proposal sends it nothing until it answers.",
            probing_follower_waits_for_answer,
        ),
        case(
            "r2::replicating_followers_get_new_entries",
            "Followers in Replicate state get only the entries after what was last sent, with the leader's commit index, proposal after proposal (§5.3).",
            replicating_followers_get_new_entries,
        ),
        case(
            "r2::paused_follower_is_skipped",
            "Each follower is sent to according to its own progress: a paused one gets nothing while the others get the entries.",
            paused_follower_is_skipped,
        ),
        case(
            "r2::single_node_sends_nothing",
            "A leader alone in its cluster has nobody to send to: a proposal sends no message, not even to itself.",
            single_node_sends_nothing,
        ),
    ]
}

/// Proposes `data` to leader `r` and returns the messages it sent.
fn propose(
    ctx: &mut Ctx,
    r: &mut Raft<MemStorage>,
    data: &[&str],
    context: &str,
) -> Result<Vec<Message>, crate::case::Failure> {
    let result = util::step_traced(ctx, r, util::proposal(r.id, data));
    let sent = util::take_traced(ctx, r);
    check_eq!(result, Ok(()), "after {context}: step returned");
    Ok(sent)
}

fn sends_to_every_follower(ctx: &mut Ctx) -> Outcome {
    // Leader 1 at term 2 with log 1@1 2@2; it has sent nothing yet, so both
    // followers are probed from index 2, the leader's empty entry.
    let mut r = util::leader_at(1, &[1, 2, 3], &[1], 2);
    let context = "proposing \"x\" to leader 1 of [1, 2, 3] at term 2 (log [1@1, 2@2], followers 2 and 3 to be sent from index 2)";
    let sent = propose(ctx, &mut r, &["x"], context)?;
    let entries = vec![ent(2, 2, ""), ent(2, 3, "x")];
    util::check_sent(
        context,
        &sent,
        &[
            app(1, 2, 2, (1, 1), entries.clone(), 0),
            app(1, 3, 2, (1, 1), entries, 0),
        ],
    )
}

fn sends_to_all_four_followers(ctx: &mut Ctx) -> Outcome {
    // Leader 1 at term 1 over an empty log: only its empty entry 1@1.
    let peers = [1, 2, 3, 4, 5];
    let mut r = util::leader_at(1, &peers, &[], 1);
    let context = "proposing \"x\" to leader 1 of [1, 2, 3, 4, 5] at term 1 (log [1@1])";
    let sent = propose(ctx, &mut r, &["x"], context)?;
    let want: Vec<Message> = peers[1..]
        .iter()
        .map(|&to| app(1, to, 1, (0, 0), vec![ent(1, 1, ""), ent(1, 2, "x")], 0))
        .collect();
    util::check_sent(context, &sent, &want)
}

fn probing_follower_waits_for_answer(ctx: &mut Ctx) -> Outcome {
    let mut r = util::leader_at(1, &[1, 2, 3], &[1], 2);
    let context = "proposing \"x\" to leader 1 of [1, 2, 3] at term 2 (log [1@1, 2@2])";
    let sent = propose(ctx, &mut r, &["x"], context)?;
    let entries = vec![ent(2, 2, ""), ent(2, 3, "x")];
    util::check_sent(
        context,
        &sent,
        &[
            app(1, 2, 2, (1, 1), entries.clone(), 0),
            app(1, 3, 2, (1, 1), entries, 0),
        ],
    )?;
    // Neither follower answered: each has one probe in flight, and a leader
    // in Probe state sends one append at a time (bcast_append skips them).
    let context = "then proposing \"y\" before any follower answered (both are probed, and their probe is in flight)";
    let sent = propose(ctx, &mut r, &["y"], context)?;
    util::check_sent(context, &sent, &[])
}

fn replicating_followers_get_new_entries(ctx: &mut Ctx) -> Outcome {
    // Leader 1 at term 2 restarted with 1@1 2@1 committed, then its empty
    // entry 3@2. Both followers are known to hold index 2 and are streamed
    // to (Replicate state, next index 3).
    let store = util::storage_with_commit(&[1, 2, 3], &[1, 1], 2, 1, 2);
    let mut r = util::leader_from(util::config(1), store);
    for id in [2, 3] {
        let pr = util::progress_mut(&mut r, id);
        pr.matched = 2;
        pr.become_replicate();
    }
    let context = "proposing \"x\" to leader 1 at term 2 (log [1@1, 2@1, 3@2], commit 2; followers 2 and 3 replicating, match 2, next 3)";
    let sent = propose(ctx, &mut r, &["x"], context)?;
    let entries = vec![ent(2, 3, ""), ent(2, 4, "x")];
    util::check_sent(
        context,
        &sent,
        &[
            app(1, 2, 2, (2, 1), entries.clone(), 2),
            app(1, 3, 2, (2, 1), entries, 2),
        ],
    )?;
    // In Replicate state the leader streams: the next append follows the
    // previous one without waiting for its answer.
    let context = "then proposing \"y\" (entries up to 4 were just sent to both)";
    let sent = propose(ctx, &mut r, &["y"], context)?;
    util::check_sent(
        context,
        &sent,
        &[
            app(1, 2, 2, (4, 2), vec![ent(2, 5, "y")], 2),
            app(1, 3, 2, (4, 2), vec![ent(2, 5, "y")], 2),
        ],
    )
}

fn paused_follower_is_skipped(ctx: &mut Ctx) -> Outcome {
    // Leader 1 at term 2 with log 1@1 2@2. Follower 2 is being probed and
    // its probe is unanswered; follower 3 holds index 1 and is streamed to.
    let mut r = util::leader_at(1, &[1, 2, 3], &[1], 2);
    util::progress_mut(&mut r, 2).probe_sent = true;
    let pr = util::progress_mut(&mut r, 3);
    pr.matched = 1;
    pr.become_replicate();
    let context = "proposing \"x\" to leader 1 at term 2 (log [1@1, 2@2]; follower 2 probed with its probe in flight, follower 3 replicating from index 2)";
    let sent = propose(ctx, &mut r, &["x"], context)?;
    util::check_sent(
        context,
        &sent,
        &[app(1, 3, 2, (1, 1), vec![ent(2, 2, ""), ent(2, 3, "x")], 0)],
    )
}

fn single_node_sends_nothing(ctx: &mut Ctx) -> Outcome {
    let mut r = util::leader_at(1, &[1], &[], 1);
    let context = "proposing \"x\" to leader 1, alone in its cluster, at term 1";
    let sent = propose(ctx, &mut r, &["x"], context)?;
    util::check_sent(context, &sent, &[])
}
