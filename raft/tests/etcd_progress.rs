//! etcd raft v3.5's `tracker/progress_test.go`, ported: what the leader
//! knows of one follower, and how each state moves `matched` and
//! `next_idx`. No Raft node is needed: these run on the skeleton too.

use raft::{Progress, ProgressState};

/// A progress in `state` with `matched` and `next_idx`, a window of 256.
fn progress(state: ProgressState, matched: u64, next_idx: u64) -> Progress {
    let mut p = Progress::new(next_idx, 256);
    p.state = state;
    p.matched = matched;
    p
}

#[test]
fn progress_is_paused() {
    // Probe pauses after one probe; Replicate only when the window is
    // full; Snapshot always.
    use ProgressState::*;
    let cases = [
        (Probe, false, false),
        (Probe, true, true),
        (Replicate, false, false),
        (Replicate, true, false),
        (Snapshot, false, true),
        (Snapshot, true, true),
    ];
    for (i, (state, paused, w)) in cases.into_iter().enumerate() {
        let mut p = progress(state, 0, 1);
        p.probe_sent = paused;
        assert_eq!(p.is_paused(), w, "case #{i}");
    }
}

#[test]
fn progress_resume() {
    // An answer of any kind unpauses a probe.
    let mut p = progress(ProgressState::Probe, 0, 2);
    p.probe_sent = true;
    p.maybe_decr_to(1, 1);
    assert!(!p.probe_sent, "maybe_decr_to left it paused");
    p.probe_sent = true;
    p.maybe_update(2);
    assert!(!p.probe_sent, "maybe_update left it paused");
}

#[test]
fn progress_become_probe() {
    // Probing starts after what the follower holds, or after the snapshot
    // it was sent.
    let cases = [
        (progress(ProgressState::Replicate, 1, 5), 2),
        // snapshot finished
        (
            {
                let mut p = progress(ProgressState::Snapshot, 1, 5);
                p.pending_snapshot = 10;
                p
            },
            11,
        ),
        // snapshot failed
        (progress(ProgressState::Snapshot, 1, 5), 2),
    ];
    for (i, (mut p, wnext)) in cases.into_iter().enumerate() {
        p.become_probe();
        assert_eq!(
            (p.state, p.matched, p.next_idx),
            (ProgressState::Probe, 1, wnext),
            "case #{i}"
        );
    }
}

#[test]
fn progress_become_replicate() {
    let mut p = progress(ProgressState::Probe, 1, 5);
    p.become_replicate();
    assert_eq!(
        (p.state, p.matched, p.next_idx),
        (ProgressState::Replicate, 1, 2)
    );
}

#[test]
fn progress_become_snapshot() {
    let mut p = progress(ProgressState::Probe, 1, 5);
    p.become_snapshot(10);
    assert_eq!(
        (p.state, p.matched, p.pending_snapshot),
        (ProgressState::Snapshot, 1, 10)
    );
}

#[test]
fn progress_update() {
    // matched only grows; next_idx follows it but never goes back.
    let (prev_m, prev_n) = (3, 5);
    let cases = [
        (prev_m - 1, prev_m, prev_n, false),
        (prev_m, prev_m, prev_n, false),
        (prev_m + 1, prev_m + 1, prev_n, true),
        (prev_m + 2, prev_m + 2, prev_n + 1, true),
    ];
    for (i, (update, wm, wn, wok)) in cases.into_iter().enumerate() {
        let mut p = progress(ProgressState::Probe, prev_m, prev_n);
        assert_eq!(p.maybe_update(update), wok, "case #{i}: ok");
        assert_eq!((p.matched, p.next_idx), (wm, wn), "case #{i}");
    }
}

#[test]
fn progress_maybe_decr() {
    // A rejection moves next_idx back: in Replicate to matched + 1 (if the
    // rejection is not stale), in Probe to min(rejected, hint + 1), never
    // below 1; a rejection of anything but the last probe is stale.
    use ProgressState::*;
    let cases = [
        // replicate, rejected not above matched
        (Replicate, 5, 10, 5, 5, false, 10),
        (Replicate, 5, 10, 4, 4, false, 10),
        // replicate, rejected above matched: back to matched + 1
        (Replicate, 5, 10, 9, 9, true, 6),
        // probe: next - 1 != rejected is stale
        (Probe, 0, 0, 0, 0, false, 0),
        (Probe, 0, 10, 5, 5, false, 10),
        // probe: back by one
        (Probe, 0, 10, 9, 9, true, 9),
        (Probe, 0, 2, 1, 1, true, 1),
        // probe: never below 1
        (Probe, 0, 1, 0, 0, true, 1),
        // probe: to min(rejected, hint + 1)
        (Probe, 0, 10, 9, 2, true, 3),
        (Probe, 0, 10, 9, 0, true, 1),
    ];
    for (i, (state, m, n, rejected, last, w, wn)) in cases.into_iter().enumerate() {
        let mut p = progress(state, m, n);
        assert_eq!(p.maybe_decr_to(rejected, last), w, "case #{i}");
        assert_eq!((p.matched, p.next_idx), (m, wn), "case #{i}");
    }
}
