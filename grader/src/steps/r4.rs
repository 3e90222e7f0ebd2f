//! Replication Step4: after a successful `MsgAppResp`, the leader commits
//! what a majority holds and tells every follower (`step_leader`).
//!
//! No case proposes anything: the leader's uncommitted entry is the empty
//! one `become_leader` appends, after a log of earlier terms (or of its own
//! term) built in storage. So only this hole runs.

use raft::{MemStorage, Message, Raft};

use super::util::{self, app, app_resp};
use crate::case::{Case, Ctx, Failure, Kind, Outcome};
use crate::check_eq;
use crate::skeleton::Step;

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, run| Case {
        name,
        kind: Kind::Step(Step::Replication4),
        purpose,
        run,
    };
    vec![
        case(
            "r4::commits_what_a_majority_holds",
            "The leader commits the highest index of its term that a majority of the cluster holds, for clusters of 2 to 5 nodes (§5.3).",
            commits_what_a_majority_holds,
        ),
        case(
            "r4::no_commit_of_earlier_term_by_count",
            "An entry of an earlier term is not committed by counting replicas, even on every node; it commits with the first entry of the leader's term (§5.4.2, Figure 8).",
            no_commit_of_earlier_term_by_count,
        ),
        case(
            "r4::broadcasts_new_commit",
            "When its commit index moves, the leader sends every follower a MsgApp carrying it, so they can commit too (§5.3).",
            broadcasts_new_commit,
        ),
        case(
            "r4::quiet_when_commit_does_not_move",
            "An acknowledgement that does not move the commit index sends nothing to the other followers.",
            quiet_when_commit_does_not_move,
        ),
        case(
            "r4::commit_never_goes_back",
            "A leader that restarted with a commit index ahead of its followers' acknowledgements keeps it: the commit index never decreases (§5.3).",
            commit_never_goes_back,
        ),
    ]
}

/// Steps follower `from`'s acknowledgement of the leader's log up to
/// `index` into leader `r`, and returns what the leader sent.
fn ack(
    ctx: &mut Ctx,
    r: &mut Raft<MemStorage>,
    from: u64,
    index: u64,
    context: &str,
) -> Result<Vec<Message>, Failure> {
    let result = util::step_traced(ctx, r, app_resp(from, r.id, r.term, index));
    let sent = util::take_traced(ctx, r);
    check_eq!(result, Ok(()), "after {context}: step returned");
    Ok(sent)
}

/// The messages not sent to `to`: the follower that answered may get the
/// rest of the log from the leader whether or not the commit moved.
fn not_to(sent: &[Message], to: u64) -> Vec<Message> {
    sent.iter().filter(|m| m.to != to).cloned().collect()
}

/// The leader's match index of every node, by id: `[n1:5 n2:4 n3:0]`.
fn match_indexes(r: &Raft<MemStorage>) -> String {
    let parts: Vec<String> = r
        .prs
        .progress
        .iter()
        .map(|(id, pr)| format!("n{id}:{}", pr.matched))
        .collect();
    format!("[{}]", parts.join(" "))
}

/// One table row: a leader at term 3 over `log` (then its empty entry),
/// the acknowledgements `(from, index)` it gets, and the commit index that
/// must follow.
struct Row {
    peers: &'static [u64],
    log: &'static [u64],
    acks: &'static [(u64, u64)],
    want_commit: u64,
}

impl Row {
    const fn new(
        peers: &'static [u64],
        log: &'static [u64],
        acks: &'static [(u64, u64)],
        want_commit: u64,
    ) -> Row {
        Row {
            peers,
            log,
            acks,
            want_commit,
        }
    }
}

fn commits_what_a_majority_holds(ctx: &mut Ctx) -> Outcome {
    let five = &[1, 2, 3, 4, 5];
    let rows = [
        // Three nodes: the leader and one follower are a majority.
        Row::new(&[1, 2, 3], &[], &[(2, 1)], 1),
        // Committing the leader's entry commits the older ones before it.
        Row::new(&[1, 2, 3], &[1, 2], &[(2, 3)], 3),
        Row::new(&[1, 2, 3], &[1, 2], &[(3, 3)], 3),
        // Two nodes: both are needed.
        Row::new(&[1, 2], &[3, 3], &[(2, 2)], 2),
        Row::new(&[1, 2], &[3, 3], &[(2, 3)], 3),
        // Four nodes: three are needed.
        Row::new(&[1, 2, 3, 4], &[3, 3, 3], &[(2, 4)], 0),
        Row::new(&[1, 2, 3, 4], &[3, 3, 3], &[(2, 4), (3, 2)], 2),
        // Five nodes: three are needed; the third-highest match commits.
        Row::new(five, &[3, 3, 3, 3], &[(2, 5)], 0),
        Row::new(five, &[3, 3, 3, 3], &[(2, 5), (3, 5)], 5),
        Row::new(five, &[3, 3, 3, 3], &[(2, 4), (3, 3)], 3),
        Row::new(five, &[3, 3, 3, 3], &[(2, 5), (3, 1), (4, 4)], 4),
        // The majority's index is of an earlier term: not yet (§5.4.2).
        Row::new(five, &[1, 1, 3, 3], &[(2, 2), (3, 2)], 0),
        Row::new(five, &[1, 1, 3, 3], &[(2, 3), (3, 4)], 3),
    ];
    for (i, row) in rows.iter().enumerate() {
        let mut r = util::leader_at(1, row.peers, row.log, 3);
        let acks: Vec<String> = row
            .acks
            .iter()
            .map(|(id, idx)| format!("n{id}:{idx}"))
            .collect();
        let setup = format!(
            "case #{i} ({} nodes, leader 1 at term 3 with log {:?}, acknowledgements {})",
            row.peers.len(),
            util::log_of(&r),
            acks.join(" ")
        );
        ctx.note(|| setup.clone());
        for &(from, index) in row.acks {
            ack(
                ctx,
                &mut r,
                from,
                index,
                &format!("{setup}, n{from} acknowledging {index}"),
            )?;
        }
        check_eq!(
            r.raft_log.committed,
            row.want_commit,
            "{setup}: with match indexes {}, commit",
            match_indexes(&r)
        );
    }
    Ok(())
}

fn no_commit_of_earlier_term_by_count(ctx: &mut Ctx) -> Outcome {
    // Leader 1 at term 3 with 1@1 2@2 and its empty entry 3@3.
    let mut r = util::leader_at(1, &[1, 2, 3], &[1, 2], 3);
    let setup = "leader 1 of [1, 2, 3] at term 3 with log [1@1, 2@2, 3@3]";

    let context = format!("{setup}, n2 acknowledging 2");
    ack(ctx, &mut r, 2, 2, &context)?;
    check_eq!(
        r.raft_log.committed,
        0,
        "after {context} (match indexes {}): commit — entry 2 has term 2, and only entries of the current term are committed by counting replicas (§5.4.2)",
        match_indexes(&r)
    );

    let context = format!("{setup}, n2 then n3 acknowledging 2");
    let sent = ack(ctx, &mut r, 3, 2, &context)?;
    check_eq!(
        r.raft_log.committed,
        0,
        "after {context} (match indexes {}): commit — even on every node, an entry of an earlier term is not committed by counting (§5.4.2, Figure 8)",
        match_indexes(&r)
    );
    util::check_sent(
        &format!("{context} (commit did not move), to followers other than n3"),
        &not_to(&sent, 3),
        &[],
    )?;

    let context = format!("{context}, then n2 acknowledging 3");
    let sent = ack(ctx, &mut r, 2, 3, &context)?;
    check_eq!(
        r.raft_log.committed,
        3,
        "after {context} (match indexes {}): commit — entry 3 is of the current term and on a majority (§5.4.2)",
        match_indexes(&r)
    );
    util::check_sent(
        &format!("{context} (commit moved 0 → 3)"),
        &sent,
        &[
            app(1, 2, 3, (3, 3), vec![], 3),
            app(1, 3, 3, (3, 3), vec![], 3),
        ],
    )
}

fn broadcasts_new_commit(ctx: &mut Ctx) -> Outcome {
    // Leader 1 of five at term 2 with 1@1 and its empty entry 2@2; it sent
    // nothing yet, so every follower is probed from index 2.
    let mut r = util::leader_at(1, &[1, 2, 3, 4, 5], &[1], 2);
    let setup = "leader 1 of [1, 2, 3, 4, 5] at term 2 with log [1@1, 2@2]";
    ack(ctx, &mut r, 2, 2, &format!("{setup}, n2 acknowledging 2"))?;
    let context = format!("{setup}, n2 then n3 acknowledging 2");
    let sent = ack(ctx, &mut r, 3, 2, &context)?;
    check_eq!(
        r.raft_log.committed,
        2,
        "after {context} (match indexes {}): commit",
        match_indexes(&r)
    );
    // n2 and n3 hold everything: an empty append with the new commit index.
    // n4 and n5 have not answered: their probe from index 2, with it.
    util::check_sent(
        &format!("{context} (commit moved 0 → 2: every follower must learn it)"),
        &sent,
        &[
            app(1, 2, 2, (2, 2), vec![], 2),
            app(1, 3, 2, (2, 2), vec![], 2),
            app(1, 4, 2, (1, 1), vec![util::ent(2, 2, "")], 2),
            app(1, 5, 2, (1, 1), vec![util::ent(2, 2, "")], 2),
        ],
    )
}

fn quiet_when_commit_does_not_move(ctx: &mut Ctx) -> Outcome {
    let mut r = util::leader_at(1, &[1, 2, 3, 4, 5], &[1], 2);
    let setup = "leader 1 of [1, 2, 3, 4, 5] at term 2 with log [1@1, 2@2]";

    // Two of five hold entry 2: no majority yet.
    let context = format!("{setup}, n2 acknowledging 2");
    let sent = ack(ctx, &mut r, 2, 2, &context)?;
    check_eq!(r.raft_log.committed, 0, "after {context}: commit");
    util::check_sent(
        &format!("{context} (commit did not move), to followers other than n2"),
        &not_to(&sent, 2),
        &[],
    )?;

    let context = format!("{setup}, n2 then n3 acknowledging 2");
    ack(ctx, &mut r, 3, 2, &context)?;
    check_eq!(r.raft_log.committed, 2, "after {context}: commit");

    // A fourth copy of a committed entry commits nothing new.
    let context = format!("{context}, then n4 acknowledging 2");
    let sent = ack(ctx, &mut r, 4, 2, &context)?;
    check_eq!(r.raft_log.committed, 2, "after {context}: commit");
    util::check_sent(
        &format!("{context} (commit stayed 2), to followers other than n4"),
        &not_to(&sent, 4),
        &[],
    )
}

fn commit_never_goes_back(ctx: &mut Ctx) -> Outcome {
    // Leader 1 at term 3 restarted knowing 1@1 2@2 committed; its empty
    // entry is 3@3. The followers' match indexes start at 0.
    let store = util::storage_with_commit(&[1, 2, 3], &[1, 2], 3, 1, 2);
    let mut r = util::leader_from(util::config(1), store);
    let setup = "leader 1 of [1, 2, 3] at term 3 with log [1@1, 2@2, 3@3] and commit 2";

    let context = format!("{setup}, n2 acknowledging 1");
    let sent = ack(ctx, &mut r, 2, 1, &context)?;
    check_eq!(
        r.raft_log.committed,
        2,
        "after {context} (match indexes {}, a majority holds only index 1): commit — it never decreases",
        match_indexes(&r)
    );
    util::check_sent(
        &format!("{context} (commit did not move), to followers other than n2"),
        &not_to(&sent, 2),
        &[],
    )?;

    let context = format!("{context}, then n3 acknowledging 3");
    let sent = ack(ctx, &mut r, 3, 3, &context)?;
    check_eq!(
        r.raft_log.committed,
        3,
        "after {context} (match indexes {}): commit",
        match_indexes(&r)
    );
    // n2 was already sent entries up to 3 (it is streamed to after its
    // answer), so both get an empty append with the new commit.
    util::check_sent(
        &format!("{context} (commit moved 2 → 3)"),
        &sent,
        &[
            app(1, 2, 3, (3, 3), vec![], 3),
            app(1, 3, 3, (3, 3), vec![], 3),
        ],
    )
}
