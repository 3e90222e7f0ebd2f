//! The reference's trace of every step case, kept as an insta snapshot in
//! `grader/tests/snapshots/<case>.snap`. When a student's run of a case
//! fails, the runner shows where its trace first leaves the reference's
//! (`first difference at event 4: ...`); leaving it is never a failure in
//! itself.
//!
//! The traces only mean something on the reference, so record or check
//! them there:
//!
//! ```text
//! raftlab exec --solution -- cargo test -p grader --test reference_snapshots
//! INSTA_UPDATE=always raftlab exec --solution -- cargo test -p grader --test reference_snapshots
//! ```
//!
//! The variant is a scratch copy, but the snapshots are read and written in
//! the user's tree (see `runner::snapshot_dir`). On a tree with holes left,
//! only the checks that need no working Raft run.

use std::fs;
use std::path::{Path, PathBuf};

use grader::case::{Case, Ctx, Failure, Kind, Outcome, all_cases};
use grader::runner::{self, snapshot_dir, snapshot_name};
use grader::skeleton::Step;

/// Whether `raft/src/raft.rs` of the tree this test was built from still
/// has a hole.
fn holes_left() -> bool {
    let raft_rs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../raft/src/raft.rs");
    let text = fs::read_to_string(&raft_rs)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", raft_rs.display()));
    Step::ALL
        .into_iter()
        .any(|step| text.contains(&step.todo_text()))
}

/// Step cases: the ones with one canonical run.
fn step_cases() -> Vec<Case> {
    all_cases()
        .into_iter()
        .filter(|c| matches!(c.kind, Kind::Step(_)))
        .collect()
}

/// The trace of one run of `case` at seed 0, as the runner records it.
fn trace_of(case: &Case) -> Result<String, String> {
    let mut ctx = Ctx::new(0);
    ctx.tracing = true;
    (case.run)(&mut ctx).map_err(|f| f.message)?;
    Ok(ctx.trace.join("\n"))
}

/// Checks `trace` against the snapshot of `name` in `dir` (insta writes a
/// `.snap.new` beside it when they differ). Returns whether it matched.
fn check_snapshot(dir: &Path, name: &str, purpose: &str, trace: &str) -> bool {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(purpose);
    let matched = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(snapshot_name(name), trace));
    }));
    matched.is_ok()
}

/// The `.snap` files in `dir` (insta's `.snap.new` proposals excluded).
fn snapshot_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "snap"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_snapshot_belongs_to_a_step_case() {
    let known: Vec<String> = step_cases()
        .iter()
        .map(|c| format!("{}.snap", snapshot_name(c.name)))
        .collect();
    let dir = snapshot_dir();
    let stale: Vec<String> = snapshot_files(&dir)
        .iter()
        .filter_map(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|name| !known.contains(name))
        .collect();
    assert!(
        stale.is_empty(),
        "snapshots in {} without a step case of that name (renamed or removed? delete them): {}",
        dir.display(),
        stale.join(", ")
    );
}

#[test]
fn reference_traces_match_their_snapshots() {
    if holes_left() {
        eprintln!(
            "reference_snapshots: raft/src/raft.rs has holes; run this test in the reference: \
             raftlab exec --solution -- cargo test -p grader --test reference_snapshots"
        );
        return;
    }
    let dir = snapshot_dir();
    let mut failed = Vec::new();
    let mut mismatched = Vec::new();
    for case in step_cases() {
        match trace_of(&case) {
            Err(message) => failed.push(format!("{}: {message}", case.name)),
            // A case that records nothing has nothing to compare with.
            Ok(trace) if trace.is_empty() => {}
            Ok(trace) => {
                if !check_snapshot(&dir, case.name, case.purpose, &trace) {
                    mismatched.push(case.name);
                }
            }
        }
    }
    assert!(
        failed.is_empty(),
        "the reference fails step cases:\n{}",
        failed.join("\n")
    );
    assert!(
        mismatched.is_empty(),
        "the reference's traces changed for {} (new versions are in {}/*.snap.new; \
         accept them with INSTA_UPDATE=always)",
        mismatched.join(", "),
        dir.display()
    );
}

fn fake_step(ctx: &mut Ctx) -> Outcome {
    ctx.note(|| "t=0 n1 follower@1 → candidate@2".to_string());
    ctx.note(|| "t=0 n1→n2 MsgVote 1→2 term=2 last=0@0".to_string());
    if ctx.seed == 0 {
        Ok(())
    } else {
        Err(Failure::new("fake failure"))
    }
}

/// What insta accepts as a match is what the runner reads back: a snapshot
/// written in insta's format under the runner's name is read by the runner
/// as exactly the trace.
#[test]
fn snapshots_round_trip_between_insta_and_the_runner() {
    let case = Case {
        name: "fake::vote",
        kind: Kind::Step(Step::Election4),
        purpose: "a fake case: a candidate asks for votes",
        run: fake_step,
    };
    let dir = std::env::temp_dir().join(format!("raftlab-snapshots-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("a scratch directory");
    let trace = trace_of(&case).expect("the fake case passes at seed 0");
    fs::write(
        dir.join("fake__vote.snap"),
        format!(
            "---\nsource: grader/tests/reference_snapshots.rs\ndescription: \"{}\"\n---\n{trace}\n",
            case.purpose
        ),
    )
    .expect("write the snapshot");
    assert!(check_snapshot(&dir, case.name, case.purpose, &trace));
    let read = runner::reference_trace_in(&dir, case.name).expect("the snapshot is found");
    assert_eq!(read.join("\n"), trace);
    assert!(!check_snapshot(
        &dir,
        case.name,
        case.purpose,
        "something else"
    ));
    let _ = fs::remove_dir_all(&dir);
}
