//! Election Step6: a candidate that a majority voted for becomes the leader
//! of its term and tells every other server at once (§5.2), and the empty
//! entry of its term reaches every follower (§5.4.2, §8).
//!
//! How the new leader announces itself is the student's choice within the
//! paper's rule: appends that carry the new entry (the library's way), or
//! heartbeats or empty appends whose answers bring the entry one round trip
//! later. The cases judge the rule: every other server hears from the
//! leader before any tick, every message is one a leader of that log may
//! send, and followers that answer as the paper says all end up holding
//! the entry. The candidates come from `become_candidate` (Step3) with
//! their own vote counted, as `campaign` leaves them.

use std::collections::BTreeMap;

use raftpb::{HardState, Message, MessageType, NodeId, StateType, Term};

use super::step_case;
use crate::cases::unit::{
    Node, after_become_leader, after_campaign, after_pre_campaign, after_reset, app_reject,
    app_resp, check_msgs, config, describe, draw, expect, log_up_to, msg, note_changes,
    pre_vote_config, storage_with, trace_msg, vote_requests, vote_response,
};
use crate::cases::{Case, Ctx};
use crate::drive::{Call, CampaignKind};
use crate::model::{Failure, NodeState, Outcome, Step};
use crate::{check, check_eq};

/// Why the cases run Step3's code.
const MADE_CANDIDATE: (Step, &str) = (Step::Election3, "the candidate is Step3's doing");
const USES_E3: &[(Step, &str)] = &[MADE_CANDIDATE];
const USES_E3_E4: &[(Step, &str)] = &[
    MADE_CANDIDATE,
    (
        Step::Election4,
        "the pre-vote round's win starts the real election with Step4's campaign",
    ),
];

pub fn cases() -> Vec<Case> {
    let case = |name, purpose, uses, run| step_case(Step::Election6, name, purpose, uses, run);
    vec![
        case(
            "e6::wins_only_with_a_majority",
            "A candidate becomes leader as soon as a majority of the voters (itself included) granted their votes, never with half or fewer, and goes back to follower once a majority rejected it (§5.2).",
            USES_E3,
            wins_only_with_a_majority,
        ),
        case(
            "e6::winner_tells_every_follower",
            "The winner becomes leader of the term it won and at once sends every other server, those that rejected it or did not answer and learners too, an append or heartbeat of its term (§5.2: it \"sends heartbeat messages to all of the other servers to establish its authority and prevent new elections\").",
            USES_E3,
            winner_tells_every_follower,
        ),
        case(
            "e6::empty_entry_reaches_every_follower",
            "The empty entry the winner appends for its term reaches every follower, however far behind, within a few round trips of its messages and the followers' answers, without a tick (§5.4.2, §8: \"each leader commit a blank no-op entry into the log at the start of its term\").",
            USES_E3,
            empty_entry_reaches_every_follower,
        ),
        case(
            "e6::acts_as_leader_after_winning",
            "Once it has won, the node acts as the leader of that term: late votes change nothing, and its ticks send heartbeats, not new elections (§5.2).",
            USES_E3,
            acts_as_leader_after_winning,
        ),
        case(
            "e6::concedes_then_wins_next_election",
            "A candidate rejected by a majority goes back to follower and ignores late votes; its next election, with a majority, makes it leader: the earlier rejections do not count (§5.2).",
            USES_E3,
            concedes_then_wins_next_election,
        ),
        case(
            "e6::pre_vote_then_vote_to_leader",
            "With pre-vote, a node goes through both rounds, pre-candidate then candidate, and leads once the real votes make a majority (§9.6, §5.2).",
            USES_E3_E4,
            pre_vote_then_vote_to_leader,
        ),
    ]
}

/// A cluster, and node 1's log, term and commit before its election.
#[derive(Clone, Debug)]
struct Cluster {
    voters: Vec<NodeId>,
    learners: Vec<NodeId>,
    log: Vec<Term>,
    term: Term,
    commit: u64,
}

impl Cluster {
    /// A cluster of `voters` and `learners` with a log and term drawn from
    /// the seed.
    fn drawn(ctx: &Ctx, salt: u64, voters: Vec<NodeId>, learners: Vec<NodeId>) -> Cluster {
        let term = 1 + draw(ctx, salt, 4);
        let log = log_up_to(ctx, salt + 1, 1 + draw(ctx, salt + 2, 3), term);
        let commit = draw(ctx, salt + 3, log.len() as u64 + 1);
        Cluster {
            voters,
            learners,
            log,
            term,
            commit,
        }
    }

    /// `5 voters, 1 learner, log terms [1, 2], term 2, commit 1`.
    fn describe(&self) -> String {
        format!(
            "{} voters, {} learners, log terms {:?}, term {}, commit {}",
            self.voters.len(),
            self.learners.len(),
            self.log,
            self.term,
            self.commit
        )
    }
}

/// Node 1 of `cluster` as a candidate of the next term with its own vote
/// counted, as `campaign` leaves it: made by `become_candidate` (Step3).
fn candidate(ctx: &mut Ctx, cluster: &Cluster) -> Result<Node, Failure> {
    let c = config(ctx, 1);
    let hard_state = HardState {
        term: cluster.term,
        vote: 0,
        commit: cluster.commit,
    };
    let store = storage_with(&cluster.voters, &cluster.learners, &cluster.log, hard_state);
    let n = Node::boot(ctx, 1, c, store)?;
    n.call(ctx, Call::BecomeCandidate)?;
    n.call(
        ctx,
        Call::RecordVote {
            voter: 1,
            granted: true,
        },
    )?;
    n.call(ctx, Call::ClearMsgs)?;
    let s = n.state(ctx)?;
    check_eq!(
        (s.state, s.term, s.vote),
        (StateType::Candidate, cluster.term + 1, 1),
        "set-up: (state, term, vote) after become_candidate at term {} (Election Step3's code)",
        cluster.term
    );
    Ok(n)
}

/// How an election stands after a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    Pending,
    Won,
    Lost,
}

/// Where `votes` leave an election among `voters` (§5.2: a majority wins;
/// the library concedes once the votes still missing cannot make one).
fn standing(voters: usize, votes: &BTreeMap<NodeId, bool>) -> Standing {
    let quorum = voters / 2 + 1;
    let granted = votes.values().filter(|&&g| g).count();
    let missing = voters - votes.len();
    if granted >= quorum {
        Standing::Won
    } else if granted + missing < quorum {
        Standing::Lost
    } else {
        Standing::Pending
    }
}

/// Delivers a `MsgVoteResp` of the candidate's term from `from` to the
/// candidate `n`, and judges its whole state and messages afterwards: the
/// vote counted while the election is open, a follower of the same term
/// once it is lost, the leader once it is won. Returns how it stands.
fn respond(
    ctx: &mut Ctx,
    n: Node,
    from: NodeId,
    granted: bool,
    what: &str,
) -> Result<Standing, Failure> {
    respond_and_see(ctx, n, from, granted, what).map(|(standing, _)| standing)
}

/// What a won election left: the leader's state and what it sent.
type Won = Option<(NodeState, Vec<Message>)>;

/// [`respond`], which also returns, when the vote won the election, the
/// leader's state and what it sent.
fn respond_and_see(
    ctx: &mut Ctx,
    n: Node,
    from: NodeId,
    granted: bool,
    what: &str,
) -> Result<(Standing, Won), Failure> {
    let before = n.state(ctx)?;
    let term = before.term;
    n.deliver(
        ctx,
        vote_response(MessageType::MsgVoteResp, from, 1, term, !granted),
    )?;
    let mut votes = before.votes.clone();
    votes.insert(from, granted);
    let now = standing(before.voters.len(), &votes);
    let word = if granted { "grant" } else { "rejection" };
    let what = format!("{what}, after the {word} of {from} (votes {votes:?})");
    match now {
        Standing::Pending => {
            let after = n.state(ctx)?;
            note_changes(ctx, &before, &after);
            expect(&before).with(|s| s.votes = votes.clone()).check(
                &after,
                format_args!(
                    "{what}: no majority either way yet (the vote is counted, nothing else changes)"
                ),
            )?;
            check_msgs(
                &n.take_msgs(ctx)?,
                &[],
                format_args!("{what} (the election is still open)"),
            )?;
        }
        Standing::Lost => {
            let after = n.state(ctx)?;
            note_changes(ctx, &before, &after);
            expect(&before)
                .with(|s| {
                    after_reset(s, term);
                    s.state = StateType::Follower;
                })
                .timeout_may_change()
                .check(
                    &after,
                    format_args!(
                        "{what}: it can no longer win a majority (the library makes it a follower of the same term)"
                    ),
                )?;
            check_msgs(&n.take_msgs(ctx)?, &[], format_args!("{what} (lost)"))?;
        }
        Standing::Won => {
            return Ok((now, Some(check_won(ctx, n, &before, &what)?)));
        }
    }
    Ok((now, None))
}

/// Judges a candidate that has just won, from `before` (its state before
/// the deciding vote): the leader of the same term with the empty entry of
/// its term (become_leader), every other server told at once. Returns the
/// leader's state and the messages it sent.
fn check_won(
    ctx: &mut Ctx,
    n: Node,
    before: &NodeState,
    what: &str,
) -> Result<(NodeState, Vec<Message>), Failure> {
    let after = n.state(ctx)?;
    note_changes(ctx, before, &after);
    let sent = n.take_msgs(ctx)?;
    let me = before.id;
    expect(before)
        .with(|s| {
            after_become_leader(s);
            // The paper leaves the leader's bookkeeping of what it sent
            // free: a follower sent an append may be marked as probed.
            for (&id, pr) in s.progress.iter_mut() {
                let appended = sent
                    .iter()
                    .any(|m| m.to == id && m.msg_type == MessageType::MsgApp);
                let probed = crate::model::ProgressView {
                    probe_sent: true,
                    ..pr.clone()
                };
                if id != me && appended && after.progress.get(&id) == Some(&probed) {
                    *pr = probed;
                }
            }
        })
        .timeout_may_change()
        .check(
            &after,
            format_args!(
                "{what}: a majority voted for it (§5.2: it wins and becomes leader of the term it won; becoming leader, in the library's code, also appends the empty entry of that term, §5.4.2)"
            ),
        )?;
    check_announcement(&after, &sent, what)?;
    Ok((after, sent))
}

/// The term of entry `index` in `s`'s log, 0 for index 0.
fn term_at(s: &NodeState, index: u64) -> Option<Term> {
    if index == 0 {
        return Some(0);
    }
    index
        .checked_sub(s.log.first_index)
        .and_then(|i| s.log.entries.get(i as usize))
        .map(|e| e.term)
}

/// Fails unless `m` is a message the leader in state `s` may send a
/// follower: an append of entries it holds, after an entry it holds, with
/// no more than its commit index, or a heartbeat that commits nothing the
/// follower may lack (§5.3).
fn check_leader_message(s: &NodeState, m: &Message, what: &str) -> Outcome {
    let peers: Vec<NodeId> = s
        .voters
        .iter()
        .chain(&s.learners)
        .copied()
        .filter(|&id| id != s.id)
        .collect();
    let shown = trace_msg(m);
    check!(
        m.from == s.id && m.term == s.term && peers.contains(&m.to),
        "{what}: sent {shown}, want a message from {} of its term {} to another member of {peers:?}",
        s.id,
        s.term
    );
    match m.msg_type {
        MessageType::MsgApp => {
            let prev_term = term_at(s, m.index);
            check!(
                prev_term == Some(m.log_term),
                "{what}: sent {shown}: its previous entry {}@{} is not in the leader's log (terms {:?}): an append goes after an entry the leader holds (§5.3)",
                m.index,
                m.log_term,
                s.log.terms()
            );
            for (i, e) in m.entries.iter().enumerate() {
                let index = m.index + 1 + i as u64;
                let mine = index
                    .checked_sub(s.log.first_index)
                    .and_then(|k| s.log.entries.get(k as usize));
                check!(
                    mine == Some(e),
                    "{what}: sent {shown}: entry #{} is {e:?}, want the leader's own entry {index} ({mine:?})",
                    i + 1
                );
            }
            check!(
                m.commit <= s.log.committed && !m.reject && m.snapshot.is_none(),
                "{what}: sent {shown}: want a commit index of at most the leader's {}, no rejection and no snapshot",
                s.log.committed
            );
        }
        MessageType::MsgHeartbeat => {
            let matched = s.progress.get(&m.to).map_or(0, |pr| pr.matched);
            let most = matched.min(s.log.committed);
            check!(
                m.commit <= most && m.entries.is_empty() && m.index == 0,
                "{what}: sent {shown}: a heartbeat carries no entries and commits at most what the follower is known to hold, {most} (a follower cannot commit entries it may lack)"
            );
        }
        _ => {
            return Err(Failure::new(format!(
                "{what}: sent {shown}: a leader tells its followers with appends (MsgApp) or heartbeats (MsgHeartbeat)"
            )));
        }
    }
    Ok(())
}

/// Fails unless `sent`, what a new leader in state `s` sent on winning,
/// tells every other member, each message one a leader may send.
fn check_announcement(s: &NodeState, sent: &[Message], what: &str) -> Outcome {
    let what = format!("{what}, the new leader of term {}", s.term);
    for m in sent {
        check_leader_message(s, m, &what)?;
    }
    let others: Vec<NodeId> = s
        .voters
        .iter()
        .chain(&s.learners)
        .copied()
        .filter(|&id| id != s.id)
        .collect();
    let silent: Vec<NodeId> = others
        .iter()
        .copied()
        .filter(|&id| !sent.iter().any(|m| m.to == id))
        .collect();
    check!(
        silent.is_empty(),
        "{what}: sent {}: nothing to {silent:?}. On winning, tell every other server at once, voters that rejected or did not answer and learners too (§5.2: the new leader \"sends heartbeat messages to all of the other servers to establish its authority and prevent new elections\")",
        describe(sent)
    );
    Ok(())
}

fn wins_only_with_a_majority(ctx: &mut Ctx) -> Outcome {
    // (voters, the responses to node 1 in order)
    let rounds: [(u64, &[(NodeId, bool)]); 14] = [
        (3, &[(2, true)]),
        (3, &[(3, true), (2, true)]),
        (3, &[(2, false)]),
        (3, &[(2, false), (3, true)]),
        (3, &[(2, false), (3, false)]),
        (4, &[(2, true)]),
        (4, &[(2, true), (3, true)]),
        (4, &[(2, true), (3, false), (4, false)]),
        (5, &[(2, true)]),
        (5, &[(2, true), (3, true)]),
        (5, &[(2, true), (3, false), (4, false)]),
        (5, &[(2, false), (3, false)]),
        (5, &[(2, false), (3, false), (4, false)]),
        (5, &[(2, false), (3, true), (4, false), (5, true)]),
    ];
    for (i, (voters, responses)) in rounds.into_iter().enumerate() {
        let granted = responses.iter().filter(|(_, g)| *g).count();
        let cluster = Cluster::drawn(ctx, 10 * i as u64, (1..=voters).collect(), vec![]);
        let what = format!(
            "case #{} ({voters} nodes, {granted} of {} answers granted; {})",
            i + 1,
            responses.len(),
            cluster.describe()
        );
        ctx.note(|| what.clone());
        let n = candidate(ctx, &cluster)?;
        for &(from, grant) in responses {
            if respond(ctx, n, from, grant, &what)? != Standing::Pending {
                break;
            }
        }
    }
    Ok(())
}

fn winner_tells_every_follower(ctx: &mut Ctx) -> Outcome {
    for (row, learners) in [vec![], vec![6], vec![6, 7]].into_iter().enumerate() {
        let cluster = Cluster::drawn(ctx, 200 + 10 * row as u64, vec![1, 2, 3, 4, 5], learners);
        // Two grants win with node 1's own vote; of the other two voters,
        // one rejects and one does not answer. The order is drawn.
        let mut peers = [2, 3, 4, 5];
        peers.rotate_left(draw(ctx, 300 + row as u64, 4) as usize);
        let (grants, rejecter) = ([peers[0], peers[1]], peers[2]);
        let what = format!(
            "case #{} ({}; granted by {grants:?}, rejected by {rejecter}, {} silent)",
            row + 1,
            cluster.describe(),
            peers[3]
        );
        ctx.note(|| what.clone());
        let n = candidate(ctx, &cluster)?;
        let order = if draw(ctx, 310 + row as u64, 2) == 0 {
            [(grants[0], true), (rejecter, false), (grants[1], true)]
        } else {
            [(rejecter, false), (grants[0], true), (grants[1], true)]
        };
        for (from, granted) in order {
            respond(ctx, n, from, granted, &what)?;
        }
        let s = n.state(ctx)?;
        check_eq!(
            s.state,
            StateType::Leader,
            "{what}: state after a majority of votes"
        );
    }
    Ok(())
}

/// A follower as the paper describes it, as far as a new leader's messages
/// go: its log, and its answers to appends (with the consistency check and
/// the rejection hint, §5.3) and to heartbeats.
struct Follower {
    id: NodeId,
    log: Vec<Term>,
}

impl Follower {
    fn term_at(&self, index: u64) -> Option<Term> {
        match index {
            0 => Some(0),
            i => self.log.get(i as usize - 1).copied(),
        }
    }

    /// The follower's answer to `m`, after taking it.
    fn answer(&mut self, m: &Message) -> Message {
        match m.msg_type {
            MessageType::MsgApp => {
                if self.term_at(m.index) != Some(m.log_term) {
                    // The largest index at or before the leader's previous
                    // entry whose term is at most its term: where the
                    // leader should look next.
                    let mut hint = m.index.min(self.log.len() as u64);
                    while hint > 0 && self.term_at(hint).is_some_and(|t| t > m.log_term) {
                        hint -= 1;
                    }
                    let hint_term = self.term_at(hint).unwrap_or(0);
                    return app_reject(self.id, m.from, m.term, m.index, (hint, hint_term));
                }
                for (i, e) in m.entries.iter().enumerate() {
                    let index = m.index as usize + 1 + i;
                    if self.log.get(index - 1).is_some_and(|&t| t != e.term) {
                        self.log.truncate(index - 1);
                    }
                    if self.log.len() < index {
                        self.log.push(e.term);
                    }
                }
                app_resp(self.id, m.from, m.term, m.index + m.entries.len() as u64)
            }
            // Heartbeats and anything else a checked leader message may be.
            _ => {
                let mut resp = msg(MessageType::MsgHeartbeatResp, self.id, m.from, m.term);
                resp.context = m.context.clone();
                resp
            }
        }
    }
}

fn empty_entry_reaches_every_follower(ctx: &mut Ctx) -> Outcome {
    'rows: for (row, five) in [false, true].into_iter().enumerate() {
        let salt = 400 + 20 * row as u64;
        let voters: Vec<NodeId> = if five {
            vec![1, 2, 3, 4, 5]
        } else {
            vec![1, 2, 3]
        };
        let learner = voters.len() as NodeId + 1;
        let mut cluster = Cluster::drawn(ctx, salt, voters.clone(), vec![learner]);
        // A longer log, so followers can be behind in more ways.
        let term = cluster.term;
        cluster.log = log_up_to(ctx, salt + 5, 2 + draw(ctx, salt + 6, 3), term);
        cluster.commit = draw(ctx, salt + 7, cluster.log.len() as u64 + 1);
        let len = cluster.log.len();
        // The followers' logs: as the leader's, a shorter prefix of it, one
        // with a stale entry after it (from a leader of an older term that
        // never committed it), and the learner's, drawn.
        let mut logs: BTreeMap<NodeId, Vec<Term>> = BTreeMap::new();
        logs.insert(2, cluster.log.clone());
        logs.insert(
            3,
            cluster.log[..draw(ctx, salt + 8, len as u64) as usize].to_vec(),
        );
        if five {
            let mut stale = cluster.log.clone();
            stale.push(term);
            logs.insert(4, stale);
            logs.insert(5, cluster.log[..1].to_vec());
        }
        let learner_len = draw(ctx, salt + 9, len as u64 + 1) as usize;
        logs.insert(learner, cluster.log[..learner_len].to_vec());
        let what = format!(
            "case #{} ({}; the followers' log terms {logs:?})",
            row + 1,
            cluster.describe()
        );
        ctx.note(|| what.clone());

        // The votes: 2 always grants (its log is the candidate's), with 3
        // as well in a 5-node cluster; that is a majority.
        let n = candidate(ctx, &cluster)?;
        let grants: &[NodeId] = if five { &[3, 2] } else { &[2] };
        let mut won = None;
        for &from in grants {
            won = respond_and_see(ctx, n, from, true, &what)?.1;
        }
        let Some((leader, sent)) = won else {
            return Err(Failure::new(format!(
                "{what}: not the leader after votes from {grants:?} (a majority)"
            )));
        };

        let entry_index = leader.log.last_index();
        let mut followers: BTreeMap<NodeId, Follower> = logs
            .into_iter()
            .map(|(id, log)| (id, Follower { id, log }))
            .collect();
        let holds = |f: &Follower| f.term_at(entry_index) == Some(leader.term);
        let mut pending = sent;
        for round in 1..=4 {
            let mut next = Vec::new();
            for m in &pending {
                check_leader_message(
                    &leader,
                    m,
                    &format!("{what}: round trip {round}, the leader"),
                )?;
                let f = followers
                    .get_mut(&m.to)
                    .expect("check_leader_message checked the recipient");
                let answer = f.answer(m);
                if holds(f) {
                    // The entry has arrived: this follower's answer is not
                    // needed for what the case judges.
                    continue;
                }
                if n.step_into_later_hole(ctx, answer)?.is_some() {
                    // The answer ran into a later step's hole: that step,
                    // not this one, carries the entry on from here. What
                    // this step did (the leader, its messages) is judged.
                    continue 'rows;
                }
                next.extend(n.take_msgs(ctx)?);
            }
            if followers.values().all(&holds) {
                break;
            }
            pending = next;
            let lacking: Vec<NodeId> = followers
                .values()
                .filter(|f| !holds(f))
                .map(|f| f.id)
                .collect();
            check!(
                round < 4,
                "{what}: after 4 round trips (the leader's messages and the followers' answers, no tick), {lacking:?} still lack the leader's entry {entry_index}@{} (§5.4.2: the new leader's empty entry must reach every follower; the followers' log terms are now {:?})",
                leader.term,
                followers
                    .values()
                    .map(|f| (f.id, f.log.clone()))
                    .collect::<BTreeMap<_, _>>()
            );
        }
        let s = n.state(ctx)?;
        check!(
            s.state == StateType::Leader && s.term == leader.term,
            "{what}: after its followers' answers: {}, want the leader of term {}",
            s.role(),
            leader.term
        );
    }
    Ok(())
}

fn acts_as_leader_after_winning(ctx: &mut Ctx) -> Outcome {
    let cluster = Cluster::drawn(ctx, 500, vec![1, 2, 3], vec![]);
    let term = cluster.term + 1;
    let what = format!(
        "a candidate of term {term} ({}) granted the vote of 2",
        cluster.describe()
    );
    let n = candidate(ctx, &cluster)?;
    respond(ctx, n, 2, true, &what)?;
    // Late votes of the term, either way: the election is over.
    for (from, granted) in [(3, draw(ctx, 501, 2) == 0), (2, true)] {
        let before = n.state(ctx)?;
        n.deliver(
            ctx,
            vote_response(MessageType::MsgVoteResp, from, 1, term, !granted),
        )?;
        let after = n.state(ctx)?;
        note_changes(ctx, &before, &after);
        let late = format!(
            "the leader of term {term}, after a late {} from {from}",
            if granted { "vote" } else { "rejection" }
        );
        expect(&before).check(&after, format_args!("{late} (the election is over)"))?;
        check_msgs(&n.take_msgs(ctx)?, &[], late)?;
    }
    // It leads from now on: a tick sends heartbeats (heartbeat interval 1),
    // which only a node that ticks as a leader does.
    let before = n.state(ctx)?;
    n.tick(ctx, 1)?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    expect(&before)
        .with(|s| s.election_elapsed += 1)
        .check(
            &after,
            format_args!(
                "the leader of term {term} after 1 tick (it ticks as a leader: the library sets a leader's tick when a node becomes leader)"
            ),
        )?;
    let want: Vec<Message> = [2, 3]
        .into_iter()
        .map(|to| {
            let mut m = msg(MessageType::MsgHeartbeat, 1, to, term);
            let matched = before.progress.get(&to).map_or(0, |pr| pr.matched);
            m.commit = matched.min(before.log.committed);
            m
        })
        .collect();
    check_msgs(
        &n.take_msgs(ctx)?,
        &want,
        format_args!(
            "the leader of term {term} after 1 tick (§5.2: a leader sends periodic heartbeats)"
        ),
    )
}

fn concedes_then_wins_next_election(ctx: &mut Ctx) -> Outcome {
    let cluster = Cluster::drawn(ctx, 600, vec![1, 2, 3, 4, 5], vec![]);
    let mut peers = [2, 3, 4, 5];
    peers.rotate_left(draw(ctx, 601, 4) as usize);
    let term = cluster.term + 1;
    let what = format!("the election of term {term} ({})", cluster.describe());
    let n = candidate(ctx, &cluster)?;
    for &from in &peers[..3] {
        respond(ctx, n, from, false, &what)?;
    }
    // A late vote of the lost election: a follower ignores it.
    let before = n.state(ctx)?;
    n.deliver(
        ctx,
        vote_response(MessageType::MsgVoteResp, peers[3], 1, term, false),
    )?;
    let after = n.state(ctx)?;
    expect(&before).check(
        &after,
        format_args!(
            "{what}: a follower after losing, after a late vote from {}",
            peers[3]
        ),
    )?;
    check_msgs(&n.take_msgs(ctx)?, &[], "a late vote after losing")?;

    // The next election: become_candidate again, its own vote counted.
    n.call(ctx, Call::BecomeCandidate)?;
    n.call(
        ctx,
        Call::RecordVote {
            voter: 1,
            granted: true,
        },
    )?;
    n.call(ctx, Call::ClearMsgs)?;
    let s = n.state(ctx)?;
    check_eq!(
        (s.state, s.term),
        (StateType::Candidate, term + 1),
        "set-up: (state, term) after become_candidate at term {term} (Election Step3's code)"
    );
    let what = format!("the election of term {} after losing term {term}", term + 1);
    for (i, &from) in peers[1..3].iter().enumerate() {
        let standing = respond(ctx, n, from, true, &what)?;
        let want = if i == 0 {
            Standing::Pending
        } else {
            Standing::Won
        };
        check_eq!(standing, want, "{what}: after {} grants", i + 1);
    }
    Ok(())
}

fn pre_vote_then_vote_to_leader(ctx: &mut Ctx) -> Outcome {
    let cluster = Cluster::drawn(ctx, 700, vec![1, 2, 3], vec![]);
    let term = cluster.term;
    let c = pre_vote_config(ctx, 1);
    let hard_state = HardState {
        term,
        vote: 0,
        commit: cluster.commit,
    };
    let n = Node::boot(
        ctx,
        1,
        c,
        storage_with(&cluster.voters, &[], &cluster.log, hard_state),
    )?;
    let what = format!("a follower with pre-vote on ({})", cluster.describe());
    let (last_index, last_term) = (cluster.log.len() as u64, *cluster.log.last().unwrap_or(&0));

    let before = n.state(ctx)?;
    n.call(ctx, Call::Campaign(CampaignKind::PreElection))?;
    let after = n.state(ctx)?;
    expect(&before).with(after_pre_campaign).check(
        &after,
        format_args!("set-up: {what}, after campaign(PreElection)"),
    )?;
    check_msgs(
        &n.take_msgs(ctx)?,
        &vote_requests(
            MessageType::MsgPreVote,
            1,
            &[2, 3],
            term + 1,
            last_index,
            last_term,
        ),
        format_args!("set-up: {what}, campaign(PreElection)"),
    )?;

    let granter = 2 + draw(ctx, 701, 2);
    let before = n.state(ctx)?;
    n.deliver(
        ctx,
        vote_response(MessageType::MsgPreVoteResp, granter, 1, term + 1, false),
    )?;
    let after = n.state(ctx)?;
    note_changes(ctx, &before, &after);
    expect(&before)
        .with(after_campaign)
        .timeout_may_change()
        .check(
            &after,
            format_args!(
                "set-up: {what}, after the pre-vote of {granter} made a majority (the real election starts: campaign(Election), Election Step3 and Step4's code)"
            ),
        )?;
    check_msgs(
        &n.take_msgs(ctx)?,
        &vote_requests(
            MessageType::MsgVote,
            1,
            &[2, 3],
            term + 1,
            last_index,
            last_term,
        ),
        format_args!("set-up: {what}, after a majority of pre-votes"),
    )?;

    let what = format!(
        "{what}, a candidate of term {} after the pre-vote round",
        term + 1
    );
    let voter = 5 - granter;
    let standing = respond(ctx, n, voter, true, &what)?;
    check_eq!(standing, Standing::Won, "{what}: after the vote of {voter}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_majority_wins_and_a_lost_cause_concedes() {
        let votes = |vs: &[(NodeId, bool)]| vs.iter().copied().collect::<BTreeMap<_, _>>();
        assert_eq!(standing(3, &votes(&[(1, true), (2, true)])), Standing::Won);
        assert_eq!(
            standing(5, &votes(&[(1, true), (2, false), (3, false)])),
            Standing::Pending
        );
        // Two of four can never make three: the library concedes.
        assert_eq!(
            standing(4, &votes(&[(1, true), (2, true), (3, false), (4, false)])),
            Standing::Lost
        );
    }

    #[test]
    fn the_follower_model_checks_consistency_and_hints() {
        let mut f = Follower {
            id: 2,
            log: vec![1, 1, 2],
        };
        // The leader's previous entry 5@3 is beyond the log: reject with
        // the last entry at most of term 3 as the hint.
        let mut m = msg(MessageType::MsgApp, 1, 2, 4);
        (m.index, m.log_term) = (5, 3);
        let r = f.answer(&m);
        assert!(r.reject);
        assert_eq!((r.index, r.reject_hint, r.log_term), (5, 3, 2));
        // 2@1 matches: entry 3@2 conflicts with 3@4 and is replaced.
        (m.index, m.log_term) = (2, 1);
        m.entries = vec![raftpb::Entry::new(4, 3, b"")];
        let r = f.answer(&m);
        assert!(!r.reject);
        assert_eq!(r.index, 3);
        assert_eq!(f.log, vec![1, 1, 4]);
        // A heartbeat is answered with its context.
        let mut hb = msg(MessageType::MsgHeartbeat, 1, 2, 4);
        hb.context = b"ctx".to_vec();
        let r = f.answer(&hb);
        assert_eq!(
            (r.msg_type, r.context.as_slice()),
            (MessageType::MsgHeartbeatResp, b"ctx".as_slice())
        );
    }
}
