//! Election Step2: past its randomized election timeout, `tick_election`
//! sets `election_elapsed` back to 0 and steps a local `MsgHup` (§5.2).
//!
//! Most cases turn pre-vote on (§9.6): `MsgHup` then starts a pre-vote
//! campaign, which sends its requests without going through any other hole,
//! so these cases judge Step2 alone (and Step1, whose ticks they need). The
//! two cases without pre-vote reach `campaign`'s real election (Step4) and
//! `become_candidate` (Step3) as well.

use raft::{Entry, EntryType, HardState, MemStorage, MessageType, NONE, Raft, StateType};

use super::util::{
    ELECTION_TICK, check_msgs, config, describe, new_raft_with, pre_vote_config, step_case,
    storage, storage_with, tick_observed, ticks, vote_requests,
};
use crate::case::{Case, Ctx, Failure, Outcome};
use crate::skeleton::Step;
use crate::{check, check_eq};

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Election2, name, purpose, run);
    vec![
        case(
            "e2::campaigns_at_randomized_timeout",
            "A follower starts an election on exactly the tick its randomized timeout is reached, not one tick before or after, and sets election_elapsed back to 0 (§5.2; pre-vote, §9.6).",
            campaigns_at_randomized_timeout,
        ),
        case(
            "e2::pre_candidate_retries_each_timeout",
            "A pre-candidate that hears nothing starts its next round one full timeout after the last one, not on the next tick (§5.2).",
            pre_candidate_retries_each_timeout,
        ),
        case(
            "e2::timeout_goes_through_msg_hup",
            "The timeout steps a MsgHup, whose handler refuses to campaign while a committed configuration change is unapplied: the timeout must not call campaign directly.",
            timeout_goes_through_msg_hup,
        ),
        case(
            "e2::election_without_pre_vote",
            "Without pre-vote, the timeout makes a follower a candidate of the next term that asks every other voter for its vote (§5.2).",
            election_without_pre_vote,
        ),
        case(
            "e2::candidate_restarts_election_each_timeout",
            "A candidate that hears nothing starts a new election after each randomized timeout, and the timeouts differ from one election to the next (§5.2).",
            candidate_restarts_election_each_timeout,
        ),
    ]
}

/// Node 1 of a 3-node cluster with pre-vote on, at term 1 with a log of two
/// entries of term 1, whose randomized timeout is `timeout`.
fn pre_vote_follower(timeout: usize) -> Raft<MemStorage> {
    let mut r = new_raft_with(pre_vote_config(1), storage(&[1, 2, 3], &[1, 1], 1, 0));
    r.set_randomized_election_timeout(timeout);
    r
}

fn campaigns_at_randomized_timeout(ctx: &mut Ctx) -> Outcome {
    let want = vote_requests(MessageType::MsgPreVote, 1, &[2, 3], 2, 2, 1);
    for (i, timeout) in (ELECTION_TICK..2 * ELECTION_TICK).enumerate() {
        let row = format!("case #{} (randomized timeout {timeout})", i + 1);
        ctx.note(|| row.clone());
        let mut r = pre_vote_follower(timeout);
        let sent = tick_observed(ctx, &mut r, timeout - 1);
        check!(
            r.state == StateType::Follower && sent.is_empty(),
            "{row}: after {}, one before the timeout: state = {:?}, sent {}; want Follower, no messages yet (§5.2)",
            ticks(timeout - 1),
            r.state,
            describe(&sent)
        );
        let sent = tick_observed(ctx, &mut r, 1);
        check!(
            r.state == StateType::PreCandidate,
            "{row}: after {timeout} ticks: state = {:?}, want PreCandidate (at the timeout, step a MsgHup into the node; with pre_vote on it starts a pre-vote campaign, §5.2, §9.6)",
            r.state
        );
        check_eq!(
            r.election_elapsed(),
            0,
            "{row}: election_elapsed right after the timeout fired (set it back to 0)"
        );
        check_eq!(
            (r.term, r.vote),
            (1, NONE),
            "{row}: (term, vote) of the pre-candidate (a pre-vote campaign keeps both)"
        );
        check_msgs(&sent, &want, format!("{row}: after {timeout} ticks"))?;
    }
    Ok(())
}

fn pre_candidate_retries_each_timeout(ctx: &mut Ctx) -> Outcome {
    let timeout = 12;
    let want = vote_requests(MessageType::MsgPreVote, 1, &[2, 3], 2, 2, 1);
    let mut r = pre_vote_follower(timeout);
    let sent = tick_observed(ctx, &mut r, timeout);
    check_msgs(
        &sent,
        &want,
        format!("first round, after {timeout} ticks (randomized timeout {timeout})"),
    )?;
    // A pre-candidate keeps its randomized timeout: becoming one does not
    // draw a new one.
    for round in 2..=3 {
        for k in 1..timeout {
            let sent = tick_observed(ctx, &mut r, 1);
            check!(
                sent.is_empty(),
                "{} after pre-vote round {} (randomized timeout {timeout}): sent {}, want no messages yet (did the timeout set election_elapsed back to 0?)",
                ticks(k),
                round - 1,
                describe(&sent)
            );
        }
        let sent = tick_observed(ctx, &mut r, 1);
        check_eq!(
            r.state,
            StateType::PreCandidate,
            "state {timeout} ticks after pre-vote round {}",
            round - 1
        );
        check_msgs(
            &sent,
            &want,
            format!(
                "round {round}, {timeout} ticks after round {} (randomized timeout {timeout})",
                round - 1
            ),
        )?;
    }
    Ok(())
}

fn timeout_goes_through_msg_hup(ctx: &mut Ctx) -> Outcome {
    // Entry 2 is a configuration change: committed, not yet applied.
    let hard_state = HardState {
        term: 1,
        vote: NONE,
        commit: 2,
    };
    let store = storage_with(&[1, 2, 3], &[], &[1], hard_state);
    let conf_change = Entry {
        term: 1,
        index: 2,
        entry_type: EntryType::ConfChange,
        data: Default::default(),
    };
    store
        .wl()
        .append(&[conf_change])
        .map_err(|e| Failure::new(format!("set-up: {e}")))?;
    let mut r = new_raft_with(pre_vote_config(1), store);
    check_eq!(
        (r.raft_log.committed, r.raft_log.applied),
        (2, 0),
        "set-up: (commit, applied)"
    );
    let timeout = 10;
    r.set_randomized_election_timeout(timeout);
    let sent = tick_observed(ctx, &mut r, timeout);
    check!(
        r.state == StateType::Follower && r.term == 1 && sent.is_empty(),
        "after {timeout} ticks (randomized timeout {timeout}) of a node with an unapplied configuration change at index 2: state = {:?} at term {}, sent {}; want Follower at term 1, no messages. Step a MsgHup (its handler refuses to campaign here) instead of calling campaign yourself",
        r.state,
        r.term,
        describe(&sent)
    );
    check_eq!(
        r.election_elapsed(),
        0,
        "election_elapsed after the timeout fired (set it back to 0 even when no election starts)"
    );
    Ok(())
}

fn election_without_pre_vote(ctx: &mut Ctx) -> Outcome {
    let timeout = 15;
    let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[1, 1], 1, 0));
    r.set_randomized_election_timeout(timeout);
    let sent = tick_observed(ctx, &mut r, timeout - 1);
    check!(
        r.state == StateType::Follower && sent.is_empty(),
        "after {}, one before the timeout {timeout}: state = {:?}, sent {}; want Follower, no messages yet",
        ticks(timeout - 1),
        r.state,
        describe(&sent)
    );
    let sent = tick_observed(ctx, &mut r, 1);
    check_eq!(
        (r.state, r.term, r.vote),
        (StateType::Candidate, 2, 1),
        "(state, term, vote) after {timeout} ticks (randomized timeout {timeout}; a follower at term 1 with pre-vote off must become a candidate of term 2 that voted for itself, §5.2; this also needs Election Step3 and Step4)"
    );
    let want = vote_requests(MessageType::MsgVote, 1, &[2, 3], 2, 2, 1);
    check_msgs(&sent, &want, format!("after {timeout} ticks"))
}

fn candidate_restarts_election_each_timeout(ctx: &mut Ctx) -> Outcome {
    let mut r = new_raft_with(config(1), storage(&[1, 2, 3], &[], 0, 0));
    let mut timeouts = Vec::new();
    for term in 1..=10u64 {
        let timeout = r.randomized_election_timeout();
        check!(
            (ELECTION_TICK..2 * ELECTION_TICK).contains(&timeout),
            "randomized election timeout before election #{term}: {timeout}, want one in [{ELECTION_TICK}, {})",
            2 * ELECTION_TICK
        );
        timeouts.push(timeout);
        let was = r.state;
        let sent = tick_observed(ctx, &mut r, timeout - 1);
        check!(
            r.state == was && r.term == term - 1 && sent.is_empty(),
            "{} into election #{term}, one before the randomized timeout {timeout}: state = {:?} at term {}, sent {}; want {was:?} at term {}, no messages yet",
            ticks(timeout - 1),
            r.state,
            r.term,
            describe(&sent),
            term - 1
        );
        let sent = tick_observed(ctx, &mut r, 1);
        check_eq!(
            (r.state, r.term),
            (StateType::Candidate, term),
            "(state, term) after the randomized timeout {timeout} of election #{term} (this also needs Election Step3 and Step4)"
        );
        let want = vote_requests(MessageType::MsgVote, 1, &[2, 3], term, 0, 0);
        check_msgs(
            &sent,
            &want,
            format!("election #{term}, after the randomized timeout {timeout}"),
        )?;
    }
    check!(
        timeouts.iter().any(|&t| t != timeouts[0]),
        "the randomized timeouts of 10 successive elections were all {}: each election must draw a new one (§5.2: randomized timeouts make split votes rare); become_candidate's reset does it",
        timeouts[0]
    );
    Ok(())
}
