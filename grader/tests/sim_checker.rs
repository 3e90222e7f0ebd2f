//! The invariant checker on fabricated histories: each invariant fires on a
//! history that breaks it, naming the invariant, the nodes, the index and
//! the term, and a history that keeps every invariant passes.
//!
//! These drive the checker directly, with no Raft at all, so they run on
//! the skeleton too.

use grader::sim::Checker;
use raft::{Entry, HardState, Message, MessageType, StateType};

fn e(index: u64, term: u64, data: &str) -> Entry {
    Entry::new(term, index, data.as_bytes())
}

fn hs(term: u64, vote: u64, commit: u64) -> HardState {
    HardState { term, vote, commit }
}

fn grant(from: u64, to: u64, term: u64) -> Message {
    let mut m = Message::new(MessageType::MsgVoteResp, from, to);
    m.term = term;
    m
}

/// Asserts that `result` is a violation of `invariant` whose message
/// contains every one of `words`.
fn fires(result: Result<(), grader::case::Failure>, invariant: &str, words: &[&str]) {
    let msg = match result {
        Ok(()) => panic!("{invariant}: the checker accepted a history that breaks it"),
        Err(f) => f.message,
    };
    assert!(
        msg.contains(&format!(": {invariant}: ")),
        "want a {invariant:?} violation, got {msg:?}"
    );
    for w in words {
        assert!(msg.contains(w), "{invariant}: {msg:?} should mention {w:?}");
    }
}

/// A checker where nodes 1 and 2 hold `a`, `b` at 1@1, 2@1, committed by
/// both, and the test proposed `a` and `b`.
fn two_committed() -> Checker {
    let mut c = Checker::new();
    c.on_propose(b"a");
    c.on_propose(b"b");
    for n in [1, 2] {
        c.on_persist_entries(n, &[e(1, 1, "a"), e(2, 1, "b")], 10)
            .unwrap();
        c.on_hard_state(n, hs(1, 1, 2), 10).unwrap();
    }
    c
}

#[test]
fn a_correct_history_passes() {
    let mut c = Checker::new();
    for d in ["a", "b", "c"] {
        c.on_propose(d.as_bytes());
    }
    // n1 wins term 1 with n2's vote; everyone gets a, b; n3 lags.
    c.on_hard_state(1, hs(1, 1, 0), 1).unwrap();
    c.on_hard_state(2, hs(1, 1, 0), 2).unwrap();
    c.on_send(&grant(2, 1, 1), 2).unwrap();
    c.on_send(&grant(2, 1, 1), 3).unwrap(); // a repeated grant to the same candidate
    c.on_role(1, StateType::Leader, 1, 3).unwrap();
    c.on_persist_entries(1, &[e(1, 1, ""), e(2, 1, "a"), e(3, 1, "b")], 3)
        .unwrap();
    c.on_persist_entries(2, &[e(1, 1, ""), e(2, 1, "a")], 4)
        .unwrap();
    c.on_persist_entries(2, &[e(2, 1, "a"), e(3, 1, "b")], 5)
        .unwrap(); // a duplicate append
    c.on_hard_state(1, hs(1, 1, 3), 6).unwrap();
    for i in 1..=3 {
        let ent = [e(1, 1, ""), e(2, 1, "a"), e(3, 1, "b")][i - 1].clone();
        c.on_apply(1, &ent, 6).unwrap();
    }
    // n3 had an entry of term 1 that never committed, then n2 leads term 2
    // and overwrites it.
    c.on_persist_entries(
        3,
        &[e(1, 1, ""), e(2, 1, "a"), e(3, 1, "b"), e(4, 1, "c")],
        7,
    )
    .unwrap();
    c.on_hard_state(3, hs(2, 2, 0), 8).unwrap();
    c.on_hard_state(2, hs(2, 2, 3), 8).unwrap();
    c.on_role(2, StateType::Leader, 2, 8).unwrap();
    c.on_persist_entries(2, &[e(4, 2, "")], 9).unwrap();
    c.on_persist_entries(3, &[e(4, 2, "")], 10).unwrap();
    c.on_hard_state(3, hs(2, 2, 4), 11).unwrap();
    // n1 crashes and re-applies from the start.
    c.on_crash(1);
    c.on_apply(1, &e(1, 1, ""), 12).unwrap();
    assert_eq!(c.committed_index(), 4);
    assert_eq!(c.applied_index(), 3);
    assert_eq!(c.leaders().len(), 2);
}

#[test]
fn election_safety_fires_on_two_leaders_of_one_term() {
    let mut c = Checker::new();
    c.on_role(1, StateType::Leader, 3, 5).unwrap();
    c.on_role(1, StateType::Leader, 3, 6).unwrap(); // the same leader again is fine
    fires(
        c.on_role(2, StateType::Leader, 3, 7),
        "election safety",
        &["t=7", "n2", "n1", "term 3"],
    );
}

#[test]
fn log_matching_fires_on_equal_entries_over_different_logs() {
    let mut c = Checker::new();
    c.on_persist_entries(1, &[e(1, 1, "a"), e(2, 2, "b")], 3)
        .unwrap();
    // Entry 2@2 is the same, but the log below it is not.
    fires(
        c.on_persist_entries(2, &[e(1, 2, "q"), e(2, 2, "b")], 4),
        "log matching",
        &["t=4", "n2", "n1", "2@2", "first differ at index 1"],
    );
}

#[test]
fn log_matching_fires_on_one_index_and_term_with_two_contents() {
    let mut c = Checker::new();
    c.on_persist_entries(1, &[e(1, 1, "a")], 3).unwrap();
    fires(
        c.on_persist_entries(2, &[e(1, 1, "x")], 4),
        "log matching",
        &["n2", "n1", "1@1"],
    );
}

#[test]
fn leader_completeness_fires_on_a_leader_missing_a_committed_entry() {
    let mut c = two_committed();
    c.on_persist_entries(3, &[e(1, 1, "a")], 11).unwrap();
    fires(
        c.on_role(3, StateType::Leader, 2, 12),
        "leader completeness",
        &["t=12", "n3", "term 2", "2@1", "nothing at index 2"],
    );
    // A leader of term 2 holding both is fine.
    let mut c = two_committed();
    c.on_role(2, StateType::Leader, 2, 12).unwrap();
}

#[test]
fn leader_completeness_ignores_commits_of_the_leaders_own_term() {
    // An entry committed by a node in term 5 may be the work of the leader
    // of term 5 itself: a leader of term 5 elected late need not hold it,
    // but a leader of term 6 must.
    let mut c = Checker::new();
    c.on_propose(b"x");
    c.on_persist_entries(1, &[e(1, 5, "x")], 1).unwrap();
    c.on_hard_state(1, hs(5, 0, 1), 1).unwrap();
    c.on_role(2, StateType::Leader, 5, 2).unwrap();
    fires(
        c.on_role(3, StateType::Leader, 6, 3),
        "leader completeness",
        &["n3", "term 6", "1@5"],
    );
}

#[test]
fn state_machine_safety_fires_on_two_entries_applied_at_one_index() {
    let mut c = two_committed();
    c.on_propose(b"c15");
    c.on_apply(1, &e(1, 1, "a"), 20).unwrap();
    fires(
        c.on_apply(2, &e(1, 3, "c15"), 21),
        "state machine safety",
        &["t=21", "n1 applied 1@1 \"a\"", "n2 applied 1@3 \"c15\""],
    );
}

#[test]
fn state_machine_safety_fires_on_a_commit_of_a_different_entry() {
    let mut c = two_committed();
    c.on_persist_entries(3, &[e(1, 1, "a"), e(2, 2, "z")], 11)
        .unwrap();
    fires(
        c.on_hard_state(3, hs(2, 0, 2), 12),
        "state machine safety",
        &["t=12", "n3 committed 2@2", "2@1 was committed before"],
    );
}

#[test]
fn committed_entries_are_final() {
    let mut c = two_committed();
    fires(
        c.on_persist_entries(1, &[e(2, 2, "b2")], 11),
        "committed entries are final",
        &["n1 overwrote its committed entry 2@1 with 2@2"],
    );
    // A follower that truncates without a conflict cuts committed entries.
    let mut c = two_committed();
    fires(
        c.on_persist_entries(2, &[e(1, 1, "a")], 11),
        "committed entries are final",
        &["n2 cut its log back to index 1, below its commit index 2"],
    );
}

#[test]
fn commit_within_the_log() {
    let mut c = Checker::new();
    c.on_persist_entries(1, &[e(1, 1, "")], 1).unwrap();
    fires(
        c.on_hard_state(1, hs(1, 0, 2), 2),
        "commit within the log",
        &["n1", "commit index 2", "ends at 1"],
    );
}

#[test]
fn terms_never_go_back() {
    let mut c = Checker::new();
    c.on_hard_state(4, hs(3, 0, 0), 1).unwrap();
    fires(
        c.on_hard_state(4, hs(2, 0, 0), 2),
        "terms never go back",
        &["n4", "term 2 after term 3"],
    );
}

#[test]
fn commit_never_goes_back() {
    let mut c = two_committed();
    fires(
        c.on_hard_state(1, hs(1, 1, 1), 11),
        "commit never goes back",
        &["n1", "commit index 1 after 2"],
    );
}

#[test]
fn one_vote_per_term_in_the_persisted_state() {
    let mut c = Checker::new();
    c.on_hard_state(3, hs(4, 1, 0), 1).unwrap();
    fires(
        c.on_hard_state(3, hs(4, 2, 0), 2),
        "one vote per term",
        &["n3", "term 4", "from n1 to n2"],
    );
    fires(
        c.on_hard_state(3, hs(4, 0, 0), 2),
        "one vote per term",
        &["n3", "term 4", "from n1 to nobody"],
    );
}

#[test]
fn one_vote_per_term_in_the_grants_sent() {
    let mut c = Checker::new();
    c.on_hard_state(3, hs(4, 1, 0), 1).unwrap();
    c.on_send(&grant(3, 1, 4), 1).unwrap();
    fires(
        c.on_send(&grant(3, 2, 4), 2),
        "one vote per term",
        &["t=2", "n3", "term 4", "to n1 and then to n2"],
    );
}

#[test]
fn votes_are_persisted_before_they_are_granted() {
    let mut c = Checker::new();
    c.on_hard_state(3, hs(4, 0, 0), 1).unwrap();
    fires(
        c.on_send(&grant(3, 1, 4), 2),
        "votes are persisted",
        &["n3", "n1", "term 4", "vote none"],
    );
    // A rejection commits to nothing.
    let mut reject = grant(3, 2, 4);
    reject.reject = true;
    c.on_send(&reject, 3).unwrap();
}

#[test]
fn entries_are_applied_in_order() {
    let mut c = two_committed();
    c.on_apply(1, &e(1, 1, "a"), 11).unwrap();
    c.on_crash(2);
    fires(
        c.on_apply(2, &e(2, 1, "b"), 12),
        "entries are applied in order",
        &["n2 applied 2@1 after applying up to index 0"],
    );
    fires(
        c.on_apply(1, &e(1, 1, "a"), 12),
        "entries are applied in order",
        &["n1 applied 1@1 after applying up to index 1"],
    );
}

#[test]
fn only_committed_entries_are_applied() {
    let mut c = Checker::new();
    c.on_propose(b"a");
    c.on_persist_entries(1, &[e(1, 1, "a")], 1).unwrap();
    fires(
        c.on_apply(1, &e(1, 1, "a"), 2),
        "only committed entries are applied",
        &["n1", "1@1", "commit index is 0"],
    );
}

#[test]
fn only_proposed_data_is_applied() {
    let mut c = Checker::new();
    c.on_persist_entries(1, &[e(1, 1, ""), e(2, 1, "zzz")], 1)
        .unwrap();
    c.on_hard_state(1, hs(1, 1, 2), 1).unwrap();
    // The empty entry of a new leader needs no proposal.
    c.on_apply(1, &e(1, 1, ""), 2).unwrap();
    fires(
        c.on_apply(1, &e(2, 1, "zzz"), 2),
        "only proposed data is applied",
        &["n1 applied 2@1 \"zzz\""],
    );
}

#[test]
fn the_log_has_no_gaps_and_no_falling_terms() {
    let mut c = Checker::new();
    fires(
        c.on_persist_entries(1, &[e(3, 1, "")], 1),
        "log continuity",
        &["n1", "from index 3", "ends at 0"],
    );
    fires(
        c.on_persist_entries(1, &[e(1, 2, ""), e(2, 1, "")], 1),
        "log terms never decrease",
        &["n1", "2@1", "term 2"],
    );
}
