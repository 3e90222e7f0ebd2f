//! Election Step2: past its randomized election timeout, `tick_election`
//! sets `election_elapsed` back to 0 and steps a local `MsgHup` (§5.2).
//!
//! Most cases turn pre-vote on (§9.6): `MsgHup` then starts a pre-vote
//! campaign, which sends its requests without going through any other
//! hole, so these cases judge Step2 alone (with Step1, whose ticks they
//! need). The case without pre-vote runs into `campaign`'s real election
//! (Step4) and `become_candidate` (Step3): while those are not done, it
//! judges what the tick did before their `todo!()`.

use raftpb::{ConfState, Entry, EntryType, HardState, MessageType, NodeId, StateType, Term};

use super::step_case;
use crate::cases::unit::{
    ELECTION_TICK, Node, after_campaign, after_pre_campaign, check_msgs, config, draw, expect,
    log_up_to, msg, note_changes, pre_vote_config, storage, ticks, vote_requests,
};
use crate::cases::{Case, Ctx};
use crate::drive::{Call, NodeConfig, StorageSetup};
use crate::model::{Failure, NodeState, Outcome, Step};

/// Why every case of this step runs Step1's code.
const TICKS: &[(Step, &str)] = &[(
    Step::Election1,
    "the node's ticks are counted by Step1's code",
)];

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Election2, name, purpose, TICKS, run);
    vec![
        case(
            "e2::campaigns_at_randomized_timeout",
            "A follower starts an election on exactly the tick its randomized timeout is reached, not one tick before or after, sets election_elapsed back to 0, and with pre-vote asks every other voter for a pre-vote (§5.2, §9.6).",
            campaigns_at_randomized_timeout,
        ),
        case(
            "e2::follower_of_a_leader_times_out",
            "A follower that stops hearing its leader's heartbeats starts an election one randomized timeout after the last of them, and forgets that leader (§5.2).",
            follower_of_a_leader_times_out,
        ),
        case(
            "e2::pre_candidate_retries_each_timeout",
            "A pre-candidate that hears nothing starts its next round one full randomized timeout after the last one, not on the next tick (§5.2: a candidate \"waits for that timeout to elapse before starting the next election\").",
            pre_candidate_retries_each_timeout,
        ),
        case(
            "e2::clock_past_timeout_fires_next_tick",
            "A voter whose clock is already past its randomized timeout (as a learner's is when it becomes a voter) starts an election on its very next tick: the timeout fires once election_elapsed reaches it, not only when it equals it (§5.2).",
            clock_past_timeout_fires_next_tick,
        ),
        case(
            "e2::timeout_goes_through_msg_hup",
            "The timeout steps a MsgHup, whose handler refuses to campaign while a committed configuration change is unapplied: a node that must not campaign only sets its clock back to 0 (§5.2; the handler's checks are the library's).",
            timeout_goes_through_msg_hup,
        ),
        case(
            "e2::election_without_pre_vote",
            "Without pre-vote, the timeout starts a real election: the follower becomes a candidate of the next term and asks every other voter for its vote (§5.2).",
            election_without_pre_vote,
        ),
    ]
}

/// The voters of a case's cluster, 3 or 5 drawn from the seed.
fn voters(ctx: &Ctx, salt: u64) -> Vec<NodeId> {
    if draw(ctx, salt, 2) == 0 {
        vec![1, 2, 3]
    } else {
        vec![1, 2, 3, 4, 5]
    }
}

/// The other voters of `voters`, those node 1 asks for votes.
fn others(voters: &[NodeId]) -> Vec<NodeId> {
    voters.iter().copied().filter(|&id| id != 1).collect()
}

/// Node 1 from `storage` with `config`, its randomized timeout set to
/// `timeout`.
fn node_with_timeout(
    ctx: &mut Ctx,
    config: NodeConfig,
    storage: StorageSetup,
    timeout: u64,
) -> Result<Node, Failure> {
    let n = Node::boot(ctx, 1, config, storage)?;
    n.call(ctx, Call::SetRandomizedElectionTimeout(timeout))?;
    Ok(n)
}

/// Ticks `n` `k` times (none of them reaching the timeout), and checks that
/// only the clock moved and nothing was sent. Returns the state after.
fn tick_before_timeout(
    ctx: &mut Ctx,
    n: Node,
    k: u64,
    row: &str,
    why: &str,
) -> Result<NodeState, Failure> {
    let before = n.state(ctx)?;
    n.tick(ctx, k)?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    expect(&before)
        .with(|s| s.election_elapsed += k)
        .check(&after, format_args!("{row}: after {} ({why})", ticks(k)))?;
    check_msgs(
        &n.take_msgs(ctx)?,
        &[],
        format_args!("{row}: after {} ({why})", ticks(k)),
    )?;
    Ok(after)
}

/// Ticks pre-vote node `n` once more, on the tick its timeout fires, and
/// checks that it started a pre-vote campaign: back to election_elapsed 0,
/// a pre-candidate of the same term with its own pre-vote, asking every
/// other voter about the next term with its last entry.
fn tick_into_pre_vote(ctx: &mut Ctx, n: Node, before: &NodeState, row: &str) -> Outcome {
    if let Some(step) = n.tick_into_later_hole(ctx, 1)? {
        return Err(Failure::new(format!(
            "{row}: the tick that reached the randomized timeout ran into the todo!() of {step}: with pre-vote on, the election starts with a pre-vote campaign, which runs no later step's code (§9.6). Step a MsgHup into the node and let its handler choose the campaign, instead of making the node a candidate yourself"
        )));
    }
    let after = n.state(ctx)?;
    note_changes(ctx, before, &after);
    expect(before)
        .with(|s| {
            s.election_elapsed = 0;
            after_pre_campaign(s);
        })
        .timeout_may_change()
        .check(
            &after,
            format_args!(
                "{row}: after the tick that reached the randomized timeout {} (§5.2: the timeout starts an election and the clock starts over; with pre-vote on, it starts a pre-vote campaign, §9.6, which keeps the term and the vote)",
                before.randomized_election_timeout
            ),
        )?;
    let want = vote_requests(
        MessageType::MsgPreVote,
        1,
        &others(&before.voters),
        before.term + 1,
        before.log.last_index(),
        before.log.last_term(),
    );
    check_msgs(
        &n.take_msgs(ctx)?,
        &want,
        format_args!("{row}: on the tick that reached the randomized timeout"),
    )
}

fn campaigns_at_randomized_timeout(ctx: &mut Ctx) -> Outcome {
    let voters = voters(ctx, 1);
    let term: Term = 1 + draw(ctx, 2, 4);
    let log = log_up_to(ctx, 3, 1 + draw(ctx, 4, 3), term);
    for (i, timeout) in (ELECTION_TICK..2 * ELECTION_TICK).enumerate() {
        let row = format!(
            "case #{} (randomized timeout {timeout}, {} voters, term {term}, log terms {log:?})",
            i + 1,
            voters.len()
        );
        ctx.note(|| row.clone());
        let c = pre_vote_config(ctx, 1);
        let n = node_with_timeout(ctx, c, storage(&voters, &log, term, 0), timeout)?;
        // The follower knew a leader, which has gone quiet.
        n.call(ctx, Call::SetLead(2))?;
        let before = tick_before_timeout(
            ctx,
            n,
            timeout - 1,
            &row,
            "one before the timeout: only the clock moves",
        )?;
        tick_into_pre_vote(ctx, n, &before, &row)?;
    }
    Ok(())
}

fn follower_of_a_leader_times_out(ctx: &mut Ctx) -> Outcome {
    let voters = voters(ctx, 11);
    let term: Term = 1 + draw(ctx, 12, 5);
    let log = log_up_to(ctx, 13, 1 + draw(ctx, 14, 3), term);
    let timeout = ELECTION_TICK + draw(ctx, 15, ELECTION_TICK);
    let c = pre_vote_config(ctx, 1);
    let n = node_with_timeout(ctx, c, storage(&voters, &log, term, 2), timeout)?;
    for round in 1..=3 {
        // The leader's heartbeat comes before the timeout: the clock
        // starts over (the heartbeat code is not a hole).
        let gap = 1 + draw(ctx, 15 + round, timeout - 1);
        let row = format!(
            "heartbeat #{round} of leader 2 after {} (randomized timeout {timeout})",
            ticks(gap)
        );
        tick_before_timeout(ctx, n, gap, &row, "before the timeout")?;
        n.deliver(ctx, msg(MessageType::MsgHeartbeat, 2, 1, term))?;
        n.take_msgs(ctx)?;
        let s = n.state(ctx)?;
        crate::check!(
            s.state == StateType::Follower && s.lead == 2 && s.election_elapsed == 0,
            "set-up: after {row}: {} following {} with election_elapsed {}, want a follower of 2 with election_elapsed 0 (the heartbeat code, which is not a hole, does this)",
            s.role(),
            s.lead,
            s.election_elapsed
        );
    }
    let row = format!(
        "follower of leader 2 at term {term}, silent for its randomized timeout {timeout} after the last heartbeat"
    );
    ctx.note(|| row.clone());
    let before = tick_before_timeout(
        ctx,
        n,
        timeout - 1,
        &row,
        "one before the timeout: only the clock moves",
    )?;
    tick_into_pre_vote(ctx, n, &before, &row)
}

fn pre_candidate_retries_each_timeout(ctx: &mut Ctx) -> Outcome {
    let voters = voters(ctx, 21);
    let term: Term = 1 + draw(ctx, 22, 4);
    let log = log_up_to(ctx, 23, 1 + draw(ctx, 24, 3), term);
    let timeout = ELECTION_TICK + draw(ctx, 25, ELECTION_TICK);
    let c = pre_vote_config(ctx, 1);
    let n = node_with_timeout(ctx, c, storage(&voters, &log, term, 0), timeout)?;
    let row = format!("round 1 (randomized timeout {timeout})");
    let before = tick_before_timeout(ctx, n, timeout - 1, &row, "one before the timeout")?;
    tick_into_pre_vote(ctx, n, &before, &row)?;
    for round in 2..=4 {
        // The timeout in force: drawing a new one when it fires is allowed.
        let timeout = n.state(ctx)?.randomized_election_timeout;
        let row = format!(
            "round {round}, a pre-candidate that heard nothing since round {} (randomized timeout {timeout})",
            round - 1
        );
        ctx.note(|| row.clone());
        let before = tick_before_timeout(
            ctx,
            n,
            timeout - 1,
            &row,
            "one before the timeout: a pre-candidate waits a whole timeout before it tries again; did the timeout set election_elapsed back to 0?",
        )?;
        tick_into_pre_vote(ctx, n, &before, &row)?;
    }
    Ok(())
}

fn clock_past_timeout_fires_next_tick(ctx: &mut Ctx) -> Outcome {
    let voters = voters(ctx, 31);
    let term: Term = 1 + draw(ctx, 32, 4);
    let log = log_up_to(ctx, 33, 1 + draw(ctx, 34, 3), term);
    let longest = 2 * ELECTION_TICK - 1;
    let timeout = ELECTION_TICK + draw(ctx, 35, ELECTION_TICK - 2);
    let beyond = timeout + 1 + draw(ctx, 36, longest - timeout);
    for (i, elapsed) in [timeout, beyond].into_iter().enumerate() {
        let row = format!(
            "case #{} (election_elapsed {elapsed}, randomized timeout {timeout})",
            i + 1
        );
        ctx.note(|| row.clone());
        let c = pre_vote_config(ctx, 1);
        // The clock is set under the longest timeout, then the timeout is
        // shortened below it.
        let n = node_with_timeout(ctx, c, storage(&voters, &log, term, 0), longest)?;
        n.call(ctx, Call::SetElectionElapsed(elapsed))?;
        n.call(ctx, Call::SetRandomizedElectionTimeout(timeout))?;
        let before = n.state(ctx)?;
        tick_into_pre_vote(ctx, n, &before, &row)?;
    }
    Ok(())
}

fn timeout_goes_through_msg_hup(ctx: &mut Ctx) -> Outcome {
    let term: Term = 1 + draw(ctx, 41, 4);
    let timeout = ELECTION_TICK + draw(ctx, 42, ELECTION_TICK);
    for (i, pre_vote) in [true, false].into_iter().enumerate() {
        let row = format!(
            "case #{} (pre-vote {}, term {term}, randomized timeout {timeout}, a configuration change committed at index 2 and not applied)",
            i + 1,
            if pre_vote { "on" } else { "off" }
        );
        ctx.note(|| row.clone());
        // Entry 2 is a configuration change: committed, not yet applied.
        let conf_change = Entry {
            term,
            index: 2,
            entry_type: EntryType::ConfChange,
            data: Default::default(),
        };
        let storage = StorageSetup {
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                learners: vec![],
            },
            snapshot: None,
            entries: vec![Entry::new(1, 1, b""), conf_change],
            hard_state: HardState {
                term,
                vote: 0,
                commit: 2,
            },
        };
        let c = if pre_vote {
            pre_vote_config(ctx, 1)
        } else {
            config(ctx, 1)
        };
        let n = node_with_timeout(ctx, c, storage, timeout)?;
        let before = tick_before_timeout(ctx, n, timeout - 1, &row, "one before the timeout")?;
        if let Some(step) = n.tick_into_later_hole(ctx, 1)? {
            return Err(Failure::new(format!(
                "{row}: the tick that reached the timeout ran into the todo!() of {step} (a campaign): this node must not campaign. Step a MsgHup into the node: its handler refuses to campaign while a configuration change is unapplied"
            )));
        }
        let after = n.state(ctx)?;
        note_changes(ctx, &before, &after);
        expect(&before)
            .with(|s| s.election_elapsed = 0)
            .timeout_may_change()
            .check(
                &after,
                format_args!(
                    "{row}: after the tick that reached the timeout (the clock starts over and the election is asked for the way the application asks for one, and the library's handler refuses to campaign here; do not campaign yourself)"
                ),
            )?;
        check_msgs(
            &n.take_msgs(ctx)?,
            &[],
            format_args!("{row}: after the tick that reached the timeout"),
        )?;
    }
    Ok(())
}

fn election_without_pre_vote(ctx: &mut Ctx) -> Outcome {
    let voters = voters(ctx, 51);
    let term: Term = 1 + draw(ctx, 52, 4);
    let log = log_up_to(ctx, 53, 1 + draw(ctx, 54, 3), term);
    let timeout = ELECTION_TICK + draw(ctx, 55, ELECTION_TICK);
    let row = format!(
        "a follower of {} voters at term {term} with log terms {log:?}, pre-vote off, randomized timeout {timeout}",
        voters.len()
    );
    let c = config(ctx, 1);
    let n = node_with_timeout(ctx, c, storage(&voters, &log, term, 0), timeout)?;
    let before = tick_before_timeout(
        ctx,
        n,
        timeout - 1,
        &row,
        "one before the timeout: only the clock moves",
    )?;
    let after_what = format!("{row}: after the tick that reached the timeout");
    match n.tick_into_later_hole(ctx, 1)? {
        Some(step) => {
            // The election started and stopped at a later step's hole (the
            // campaign): judge what the tick did before it. The clock may
            // be set back before or after the MsgHup.
            let after = n.state(ctx)?;
            note_changes(ctx, &before, &after);
            let elapsed = after.election_elapsed;
            crate::check!(
                elapsed == 0 || elapsed == timeout,
                "{after_what}, which reached the todo!() of {step} (the campaign): election_elapsed {elapsed}, want 0 (set it back when the timeout fires)"
            );
            expect(&before)
                .with(|s| s.election_elapsed = elapsed)
                .timeout_may_change()
                .check(
                    &after,
                    format_args!(
                        "{after_what}, which reached the todo!() of {step} (the campaign)"
                    ),
                )?;
            check_msgs(
                &n.take_msgs(ctx)?,
                &[],
                format_args!("{after_what}, which reached the todo!() of {step}"),
            )
        }
        None => {
            let after = n.state(ctx)?;
            note_changes(ctx, &before, &after);
            expect(&before)
                .with(after_campaign)
                .timeout_may_change()
                .check(
                    &after,
                    format_args!(
                        "{after_what} (§5.2: \"a follower increments its current term and transitions to candidate state. It then votes for itself\"; the MsgHup handler campaigns through Election Step3 and Step4's code)"
                    ),
                )?;
            let want = vote_requests(
                MessageType::MsgVote,
                1,
                &others(&voters),
                term + 1,
                before.log.last_index(),
                before.log.last_term(),
            );
            check_msgs(&n.take_msgs(ctx)?, &want, after_what)
        }
    }
}
