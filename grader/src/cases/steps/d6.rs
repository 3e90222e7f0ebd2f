//! Deep Step6: what a node restores when it starts from its storage: the
//! term it reached, the vote it cast in that term, and its commit index
//! (Figure 2: currentTerm and votedFor are persistent; §5.2: one vote per
//! term).
//!
//! The cases start nodes from storage holding a hard state, and crash and
//! restart nodes that voted, campaigned, moved to a new term or committed,
//! each time after the application persisted what the node handed over.
//! A vote needs the up-to-date check of Deep Step1, and entries reach a
//! follower through the receiver of Deep Step2.

use raftpb::{HardState, Index, MessageType, NodeId, StateType, Term};

use super::step_case;
use crate::cases::unit::deep::{follower, fresh_storage, pick, runs};
use crate::cases::unit::{
    Node, app, check_msgs, config, entries_of_terms, expect, msg, note_changes, vote_request,
    vote_response,
};
use crate::cases::{Case, Ctx};
use crate::drive::{Boot, Call, CampaignKind, Op, Reply, StorageSetup};
use crate::model::{Failure, NodeState, Outcome, Step, mix};
use crate::{check, check_eq};

/// Why the cases run the earlier deep steps' code.
const USES: &[(Step, &str)] = &[
    (
        Step::Deep1,
        "a vote is granted after Step1's up-to-date check",
    ),
    (
        Step::Deep2,
        "a follower gets entries and a commit index through Step2's receiver",
    ),
];

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| step_case(Step::Deep6, name, purpose, USES, run);
    vec![
        case(
            "d6::starts_from_the_stored_hard_state",
            "A node started from storage holding a hard state is a follower of the stored term, bound by the stored vote, with the stored commit index: the rest as after a start without one (Figure 2: persistent state).",
            starts_from_the_stored_hard_state,
        ),
        case(
            "d6::a_granted_vote_survives_a_restart",
            "A node that granted its vote, crashed and restarted refuses every other candidate of that term and grants the same one again (§5.2: \"each server will vote for at most one candidate in a given term\"; Figure 2: votedFor is persistent).",
            a_granted_vote_survives_a_restart,
        ),
        case(
            "d6::a_candidates_own_vote_survives_a_restart",
            "A candidate that crashed and restarted still holds its own vote in its term, and refuses another candidate of that term (§5.2, Figure 2).",
            a_candidates_own_vote_survives_a_restart,
        ),
        case(
            "d6::the_term_survives_a_restart",
            "A node that moved to a later term and restarted is still in that term: it neither goes back to an older term nor ignores what that term's leader sends (§5.1, Figure 2: currentTerm is persistent).",
            the_term_survives_a_restart,
        ),
        case(
            "d6::committed_entries_come_back_after_a_restart",
            "A follower that committed entries and restarted knows its commit index again, and hands its application the committed entries to apply again (Figure 2; §5.3).",
            committed_entries_come_back_after_a_restart,
        ),
    ]
}

/// Hands `n`'s work to the application, which persists it, until the node
/// has none (at most a few rounds).
fn persist(ctx: &mut Ctx, n: Node) -> Outcome {
    for _ in 0..4 {
        if n.ready(ctx)?.is_none() {
            return Ok(());
        }
    }
    Err(Failure::new(format!(
        "n{} still had work after 4 Ready rounds with nothing new stepped in",
        n.id
    )))
}

/// Crashes `n` and starts it again from its storage; fails if it cannot.
fn restart(ctx: &mut Ctx, n: Node, salt: u64) -> Outcome {
    n.restart(ctx, mix(ctx.seed.0, salt))
}

/// What a node started from storage must be: the node as it starts from
/// the same storage without a hard state, with the hard state's term,
/// vote and commit index.
fn with_hard_state(fresh: &NodeState, hs: HardState) -> NodeState {
    let mut s = fresh.clone();
    s.term = hs.term;
    s.vote = hs.vote;
    s.log.committed = hs.commit;
    s
}

/// Starts node `id` from `storage` and returns its state, or the failure.
fn boot(ctx: &mut Ctx, id: NodeId, storage: StorageSetup, salt: u64) -> Result<NodeState, Failure> {
    let mut c = config(ctx, id);
    c.seed = mix(c.seed, salt);
    match ctx.apply(&Op::Boot(Boot {
        id,
        config: c,
        storage,
    })) {
        Reply::Done => Node { id }.state(ctx),
        Reply::Refused(e) => Err(Failure::new(format!(
            "node {id} did not start from its storage: {e}"
        ))),
        other => Err(crate::cases::unit::unexpected(
            id,
            "start from its storage",
            other,
        )),
    }
}

fn starts_from_the_stored_hard_state(ctx: &mut Ctx) -> Outcome {
    let voters: &[NodeId] = &[1, 2, 3, 4, 5];
    let len = pick(ctx, 10, 2..7);
    let top = pick(ctx, 11, 1..4);
    let mut log: Vec<Term> = (0..len).map(|i| pick(ctx, 100 + i, 1..top + 1)).collect();
    log.sort_unstable();
    let last_term = *log.last().unwrap_or(&0);
    let rows: Vec<(HardState, &str)> = vec![
        (
            HardState {
                term: last_term + pick(ctx, 12, 1..4),
                vote: 1 + pick(ctx, 13, 1..5),
                commit: pick(ctx, 14, 0..len + 1),
            },
            "a vote for another node in a term past the log's",
        ),
        (
            HardState {
                term: last_term + 1,
                vote: 1,
                commit: len,
            },
            "a vote for itself, everything committed",
        ),
        (
            HardState {
                term: last_term,
                vote: 0,
                commit: pick(ctx, 15, 1..len + 1),
            },
            "no vote, in the log's last term",
        ),
        (
            HardState {
                term: last_term + pick(ctx, 16, 2..6),
                vote: 0,
                commit: 0,
            },
            "a later term, no vote, nothing committed",
        ),
    ];
    for (i, (hs, why)) in rows.into_iter().enumerate() {
        let what = format!(
            "case #{} (log {}, stored hard state term {} vote {} commit {}: {why})",
            i + 1,
            runs(&log),
            hs.term,
            hs.vote,
            hs.commit
        );
        ctx.note(|| what.clone());
        let fresh = boot(ctx, 1, fresh_storage(voters, &log), i as u64)?;
        let storage = StorageSetup {
            hard_state: hs,
            ..fresh_storage(voters, &log)
        };
        let got = boot(ctx, 1, storage, i as u64)?;
        expect(&with_hard_state(&fresh, hs))
            .timeout_may_change()
            .check(
                &got,
                format_args!(
                    "{what}: the node as it starts (Figure 2: currentTerm and votedFor are persistent, and the commit index is stored with them)"
                ),
            )?;
        check_eq!(got.state, StateType::Follower, "{what}: role");
    }
    Ok(())
}

/// Steps vote request `m` into `n` and checks the answer: granted or not.
fn ask(ctx: &mut Ctx, n: Node, m: raftpb::Message, grant: bool, what: &str) -> Outcome {
    let before = n.state(ctx)?;
    n.deliver(ctx, m.clone())?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    let term = if grant { m.term } else { after.term };
    let verdict = if grant { "grant" } else { "refuse" };
    check_msgs(
        &n.take_msgs(ctx)?,
        &[vote_response(
            MessageType::MsgVoteResp,
            n.id,
            m.from,
            term,
            !grant,
        )],
        format_args!("{what}: the answer (it must {verdict})"),
    )?;
    let want_vote = if grant { m.from } else { before.vote };
    check!(
        after.vote == want_vote && after.term == m.term.max(before.term),
        "{what}: afterwards term {} vote {}, want term {} vote {} (§5.2: at most one vote per term)",
        after.term,
        after.vote,
        m.term.max(before.term),
        want_vote
    );
    Ok(())
}

/// Checks that `n`, just restarted, is what it was in `was` as far as a
/// restart keeps: term, vote, log, commit; a follower knowing no leader.
fn check_restarted(ctx: &mut Ctx, n: Node, was: &NodeState, what: &str) -> Outcome {
    let s = n.state(ctx)?;
    let got = (
        s.state,
        s.term,
        s.vote,
        s.lead,
        s.log.committed,
        s.log.terms(),
    );
    let want = (
        StateType::Follower,
        was.term,
        was.vote,
        0,
        was.log.committed,
        was.log.terms(),
    );
    check!(
        got == want,
        "{what}: after the restart (state, term, vote, lead, commit, log terms) = {got:?}, want {want:?} (Figure 2: currentTerm, votedFor and the log are persistent; the application stored the commit index with them)"
    );
    Ok(())
}

fn a_granted_vote_survives_a_restart(ctx: &mut Ctx) -> Outcome {
    let voters: &[NodeId] = &[1, 2, 3, 4, 5];
    let len = pick(ctx, 20, 0..4);
    let log: Vec<Term> = vec![1; len as usize];
    let term = 1 + pick(ctx, 21, 0..3);
    let cand = 2 + pick(ctx, 22, 0..4);
    let other = 2 + (cand - 2 + 1 + pick(ctx, 23, 0..3)) % 4;
    let asked = term + 1;
    let n = follower(ctx, 1, voters, &log, term, 0)?;
    let what = format!(
        "a follower of term {term} with log {} asked by n{cand} for its vote in term {asked}",
        runs(&log)
    );
    ctx.note(|| what.clone());
    ask(
        ctx,
        n,
        vote_request(MessageType::MsgVote, cand, 1, asked, len, 1.min(len)),
        true,
        &what,
    )?;
    persist(ctx, n)?;
    let was = n.state(ctx)?;
    restart(ctx, n, 24)?;
    let what2 = format!(
        "the same node, restarted after voting for n{cand} in term {asked}, asked by n{other} of that term with a log at least as up to date (a vote forgotten in a restart is a second vote in one term)"
    );
    ask(
        ctx,
        n,
        vote_request(MessageType::MsgVote, other, 1, asked, len + 1, asked),
        false,
        &what2,
    )?;
    check_restarted(ctx, n, &was, &format!("{what}, after granting it"))?;
    let what = format!("the same node asked by n{cand} again");
    ask(
        ctx,
        n,
        vote_request(MessageType::MsgVote, cand, 1, asked, len, 1.min(len)),
        true,
        &what,
    )?;
    persist(ctx, n)?;
    // A second crash, right after the repeated grant.
    let was = n.state(ctx)?;
    restart(ctx, n, 25)?;
    check_restarted(ctx, n, &was, "after a second restart")?;
    let what = format!("after a second restart, n{other} asks again in term {asked}");
    ask(
        ctx,
        n,
        vote_request(MessageType::MsgVote, other, 1, asked, len + 1, asked),
        false,
        &what,
    )
}

fn a_candidates_own_vote_survives_a_restart(ctx: &mut Ctx) -> Outcome {
    let voters: &[NodeId] = &[1, 2, 3];
    let term = 1 + pick(ctx, 30, 0..3);
    let log: Vec<Term> = vec![1; pick(ctx, 31, 1..4) as usize];
    let n = follower(ctx, 1, voters, &log, term, 0)?;
    n.call(ctx, Call::Campaign(CampaignKind::Election))?;
    n.call(ctx, Call::ClearMsgs)?;
    let s = n.state(ctx)?;
    check_eq!(
        (s.state, s.term, s.vote),
        (StateType::Candidate, term + 1, 1),
        "set-up: (state, term, vote) after campaigning from term {term}"
    );
    persist(ctx, n)?;
    let was = n.state(ctx)?;
    restart(ctx, n, 32)?;
    check_restarted(
        ctx,
        n,
        &was,
        &format!("a candidate of term {} that voted for itself", term + 1),
    )?;
    let what = format!(
        "the restarted candidate of term {}, asked by n2 of that term with a longer log",
        term + 1
    );
    ask(
        ctx,
        n,
        vote_request(
            MessageType::MsgVote,
            2,
            1,
            term + 1,
            log.len() as Index + 2,
            term + 1,
        ),
        false,
        &what,
    )
}

fn the_term_survives_a_restart(ctx: &mut Ctx) -> Outcome {
    let voters: &[NodeId] = &[1, 2, 3];
    let term = 1 + pick(ctx, 40, 0..3);
    let later = term + 1 + pick(ctx, 41, 0..4);
    let n = follower(ctx, 1, voters, &[1], term, 0)?;
    // The leader of a later term makes itself known with a heartbeat.
    let hb = msg(MessageType::MsgHeartbeat, 2, 1, later);
    n.deliver(ctx, hb)?;
    n.call(ctx, Call::ClearMsgs)?;
    persist(ctx, n)?;
    let was = n.state(ctx)?;
    check_eq!(
        was.term,
        later,
        "set-up: term after a heartbeat of term {later}"
    );
    restart(ctx, n, 42)?;
    check_restarted(
        ctx,
        n,
        &was,
        &format!("a follower moved from term {term} to {later}"),
    )?;
    // The old term's candidate gets nothing; the new term's leader is
    // followed.
    let what =
        format!("the restarted follower of term {later}, asked for its vote by n3 of term {term}");
    let before = n.state(ctx)?;
    n.deliver(ctx, vote_request(MessageType::MsgVote, 3, 1, term, 5, term))?;
    let after = n.state(ctx)?;
    expect(&before).check(
        &after,
        format_args!("{what}: a request of an older term changes nothing (§5.1)"),
    )?;
    check_msgs(
        &n.take_msgs(ctx)?,
        &[],
        format_args!("{what}: a request of an older term is ignored"),
    )?;
    let what = format!(
        "the restarted follower of term {later}, sent an append by n2, leader of term {later}"
    );
    n.deliver(ctx, app(2, 1, later, (1, 1), vec![], 0))?;
    check_msgs(
        &n.take_msgs(ctx)?,
        &[{
            let mut r = msg(MessageType::MsgAppResp, 1, 2, later);
            r.index = 1;
            r
        }],
        format_args!("{what}: the answer"),
    )
}

fn committed_entries_come_back_after_a_restart(ctx: &mut Ctx) -> Outcome {
    let voters: &[NodeId] = &[1, 2, 3];
    let term = 2 + pick(ctx, 50, 0..3);
    let n = follower(ctx, 1, voters, &[], term, 2)?;
    // The leader sends entries, then the news that most are committed.
    let k = pick(ctx, 51, 3..7);
    let ents: Vec<raftpb::Entry> = entries_of_terms(&vec![term; k as usize])
        .into_iter()
        .map(|e| raftpb::Entry::new(e.term, e.index, format!("c{}", e.index).as_bytes()))
        .collect();
    n.deliver(ctx, app(2, 1, term, (0, 0), ents.clone(), 0))?;
    persist(ctx, n)?;
    let commit = pick(ctx, 52, 1..k);
    n.deliver(ctx, app(2, 1, term, (k, term), vec![], commit))?;
    n.call(ctx, Call::ClearMsgs)?;
    persist(ctx, n)?;
    let was = n.state(ctx)?;
    check_eq!(
        (was.log.committed, was.log.applied),
        (commit, commit),
        "set-up: (commit, applied) after the leader's commit {commit} and a Ready"
    );
    restart(ctx, n, 53)?;
    let what = format!(
        "a follower of term {term} with {k} entries, {commit} committed and applied, after a restart"
    );
    check_restarted(ctx, n, &was, &what)?;
    let rd = n.ready(ctx)?;
    let applied: Vec<Index> = rd
        .map(|rd| rd.committed_entries.iter().map(|e| e.index).collect())
        .unwrap_or_default();
    let want: Vec<Index> = (1..=commit).collect();
    check_eq!(
        applied,
        want,
        "{what}: indexes of the committed entries its first Ready hands the application to apply again (its state machine was lost in the crash)"
    );
    Ok(())
}
