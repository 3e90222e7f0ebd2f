//! The runner against real child processes.
//!
//! This test binary is its own fixture: it has no libtest harness
//! (`harness = false`), so its `main` can act as the grader's child
//! (`__case NAME ...`) and as `raftlab test` (`__test ...`) over a registry
//! of fake cases that pass, fail, panic, reach a `todo!()`, loop, exit,
//! abort on an allocation and print noise. Without those arguments it runs
//! the tests below, which drive it as a child through the library
//! ([`runner::run_case`]) and as a command line. It understands the few
//! libtest options cargo and cargo-nextest pass (`--list`, `--exact`, a
//! filter), so both runners can run it.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};
use std::time::{Duration, Instant};

use grader::case::{Case, Ctx, Failure, Kind, Outcome, Part};
use grader::runner::{self, CaseResult, Options, Status};
use grader::skeleton::Step;

// ---------------------------------------------------------------------------
// Fake cases.

fn passes(ctx: &mut Ctx) -> Outcome {
    ctx.note(|| "passing case ran".to_string());
    Ok(())
}

fn fails(ctx: &mut Ctx) -> Outcome {
    ctx.note(|| "become_candidate at term 1".to_string());
    ctx.note(|| "term 1 → 1".to_string());
    Err(Failure::new(
        "term after become_candidate: got 1, want 2\n(the candidate must start a new term, §5.2)",
    ))
}

fn reaches_own_hole(_: &mut Ctx) -> Outcome {
    todo!("RaftLab Election Step3")
}

fn reaches_earlier_hole(_: &mut Ctx) -> Outcome {
    todo!("RaftLab Election Step3")
}

fn panics(_: &mut Ctx) -> Outcome {
    let log: Vec<u64> = vec![1, 1, 2];
    let index = std::hint::black_box(7);
    Err(Failure::new(format!("unreachable: {}", log[index])))
}

/// The file where [`loops`] records its pid and its own child's, when the
/// test that watches them asked for it by creating `<file>.want`.
fn pid_file(parent: u32) -> PathBuf {
    std::env::temp_dir().join(format!("raftlab-runner-fixture-{parent}.pids"))
}

fn loops(_: &mut Ctx) -> Outcome {
    let file = pid_file(std::os::unix::process::parent_id());
    if file.with_extension("want").exists() {
        // A process of its own too, which the parent's kill must reach.
        let sleeper = Command::new("sleep")
            .arg("1000")
            .spawn()
            .map_err(|e| Failure::new(format!("cannot start sleep: {e}")))?;
        let pids = format!("{} {}\n", std::process::id(), sleeper.id());
        fs::write(&file, pids).map_err(|e| Failure::new(e.to_string()))?;
    }
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn exits(_: &mut Ctx) -> Outcome {
    println!("leaving early");
    std::process::exit(0)
}

fn allocates_forever(_: &mut Ctx) -> Outcome {
    // Untouched zeroed chunks cost address space, not memory: only the
    // address-space limit stops this.
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        kept.push(std::hint::black_box(vec![0u8; 64 << 20]));
    }
}

fn allocates_two_gib(_: &mut Ctx) -> Outcome {
    let block = std::hint::black_box(vec![0u8; 2 << 30]);
    if block.len() == 2 << 30 {
        Ok(())
    } else {
        Err(Failure::new("short allocation"))
    }
}

fn noisy(_: &mut Ctx) -> Outcome {
    for i in 0..100 {
        println!("student says {i}");
        eprintln!("student warns {i}");
    }
    // A result line with a nonce of its own must not count.
    println!("@@raftlab 0123456789abcdef pass");
    print!("a partial line, then ");
    let _ = std::io::stdout().flush();
    Err(Failure::new("noisy failure"))
}

fn traces(ctx: &mut Ctx) -> Outcome {
    let seed = ctx.seed;
    ctx.note(|| format!("start seed={seed:#x}"));
    for i in 0..3 {
        ctx.note(|| format!("t={i} MsgVote 1→2 term={} last=0@0", 1 + (seed + i) % 2));
    }
    Err(Failure::new(format!("traced failure at seed {seed:#x}")))
}

fn flaky_scenario(ctx: &mut Ctx) -> Outcome {
    let seed = ctx.seed;
    ctx.note(|| format!("seed {seed} ran"));
    if seed == 7 {
        return Err(Failure::new("two leaders in term 3"));
    }
    Ok(())
}

fn steady_scenario(_: &mut Ctx) -> Outcome {
    Ok(())
}

fn case(name: &'static str, kind: Kind, run: fn(&mut Ctx) -> Outcome) -> Case {
    Case {
        name,
        kind,
        purpose: "a fake case of the runner's tests",
        run,
    }
}

/// Each step gets a known verdict: E1 PASS, E2 FAIL (panic), E3 FAIL (the
/// assertion, before its own hole), E4 BLOCKED BY E3, E5 TIMEOUT, E6 FAIL
/// (exit), R1 FAIL (out of memory), R2 FAIL (noise), R3 FAIL (traced), R4
/// no cases; election scenarios FAIL at seed 7, replication ones PASS.
fn fixture_cases() -> Vec<Case> {
    let step = Kind::Step;
    vec![
        case("fake::passes", step(Step::Election1), passes),
        case("fake::panics", step(Step::Election2), panics),
        case("fake::fails", step(Step::Election3), fails),
        case("fake::own_hole", step(Step::Election3), reaches_own_hole),
        case("fake::blocked", step(Step::Election4), reaches_earlier_hole),
        case("fake::loops", step(Step::Election5), loops),
        case("fake::exits", step(Step::Election6), exits),
        case(
            "fake::allocates",
            step(Step::Replication1),
            allocates_forever,
        ),
        case("fake::two_gib", step(Step::Replication1), allocates_two_gib),
        case("fake::noisy", step(Step::Replication2), noisy),
        case("fake::traces", step(Step::Replication3), traces),
        case(
            "fakescen::flaky",
            Kind::Scenario(Part::Election),
            flaky_scenario,
        ),
        case(
            "fakescen::steady",
            Kind::Scenario(Part::Replication),
            steady_scenario,
        ),
    ]
}

fn find(name: &str) -> Case {
    fixture_cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no fixture case {name}"))
}

// ---------------------------------------------------------------------------
// Helpers.

fn me() -> PathBuf {
    std::env::current_exe().expect("the test binary knows its path")
}

fn fixture_snapshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snapshots")
}

fn options() -> Options {
    Options {
        jobs: 2,
        snapshots: Some(fixture_snapshots()),
        ..Options::default()
    }
}

fn run(name: &str, options: &Options) -> CaseResult {
    runner::run_case(&me(), &find(name), options)
}

/// Runs this binary as `raftlab test` over the fixture cases.
fn raftlab_test(args: &[&str]) -> Output {
    Command::new(me())
        .arg("__test")
        .args(args)
        .env(runner::REPLAY_ENV, "./raftlab_test.sh")
        .env(runner::SNAPSHOT_DIR_ENV, fixture_snapshots())
        .env_remove("NO_COLOR")
        .output()
        .expect("run the fixture as raftlab test")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether a process is gone: no `/proc` entry, or a zombie nobody reaped
/// yet (it runs no more code either way).
fn is_gone(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

// ---------------------------------------------------------------------------
// Tests.

fn a_passing_case_passes() {
    let result = run("fake::passes", &options());
    assert_eq!(result.status, Status::Pass, "{result:?}");
    assert_eq!(result.seed, None);
    assert!(result.trace.is_empty(), "a pass sends no trace back");
}

fn a_failing_case_reports_message_seed_and_divergence() {
    let result = run("fake::fails", &options());
    assert_eq!(result.status, Status::Fail, "{result:?}");
    assert_eq!(
        result.message,
        "term after become_candidate: got 1, want 2\n(the candidate must start a new term, §5.2)"
    );
    assert_eq!(result.seed, Some(0));
    assert_eq!(result.trace, ["become_candidate at term 1", "term 1 → 1"]);
    assert_eq!(
        result.divergence.as_deref(),
        Some("first difference at event 2: reference `term 1 → 2`, yours `term 1 → 1`"),
        "compared with tests/fixtures/snapshots/fake__fails.snap"
    );
}

fn a_panic_is_a_failure_with_its_location() {
    let result = run("fake::panics", &options());
    assert_eq!(result.status, Status::Fail, "{result:?}");
    assert!(
        result
            .message
            .starts_with("panicked at grader/tests/runner.rs:"),
        "{}",
        result.message
    );
    assert!(
        result
            .message
            .contains("index out of bounds: the len is 3 but the index is 7"),
        "{}",
        result.message
    );
    assert!(
        result.stderr_tail.is_empty(),
        "the default panic message is silenced: {:?}",
        result.stderr_tail
    );
}

fn own_hole_fails_and_another_steps_hole_blocks() {
    let own = run("fake::own_hole", &options());
    assert_eq!(own.status, Status::Fail, "{own:?}");
    assert!(
        own.message
            .starts_with("not implemented yet: todo!() reached at grader/tests/runner.rs:"),
        "{}",
        own.message
    );
    let blocked = run("fake::blocked", &options());
    assert_eq!(
        blocked.status,
        Status::Blocked(Step::Election3),
        "{blocked:?}"
    );
}

fn a_hang_is_killed_at_its_limit_with_its_children() {
    let want = pid_file(std::process::id()).with_extension("want");
    fs::write(&want, "").expect("ask the case for its pids");
    let options = Options {
        timeout_scale: 0.05,
        ..options()
    };
    let started = Instant::now();
    let result = run("fake::loops", &options);
    let elapsed = started.elapsed();
    let _ = fs::remove_file(&want);
    assert_eq!(result.status, Status::Timeout, "{result:?}");
    assert_eq!(result.time_limit, Duration::from_millis(500));
    assert!(
        elapsed < Duration::from_secs(5),
        "the parent waited {elapsed:?} for a 0.5 s limit"
    );
    assert!(result.message.contains("0.5 s"), "{}", result.message);
    let pids = fs::read_to_string(pid_file(std::process::id())).expect("the case wrote its pids");
    let _ = fs::remove_file(pid_file(std::process::id()));
    for pid in pids.split_whitespace() {
        let pid: u32 = pid.parse().expect("a pid");
        // The kill is sent before the parent returns; the kernel may take a
        // moment to tear a process down.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !is_gone(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(is_gone(pid), "process {pid} survived the timeout");
    }
}

fn an_early_exit_is_never_a_pass() {
    let result = run("fake::exits", &options());
    assert_eq!(result.status, Status::Fail, "{result:?}");
    assert_eq!(
        result.message,
        "exited early (status 0) before the case finished"
    );
    assert_eq!(result.seed, Some(0));
    assert_eq!(result.stdout_tail, ["leaving early"]);
}

fn a_runaway_allocation_dies_fast() {
    let started = Instant::now();
    let result = run("fake::allocates", &options());
    assert_eq!(result.status, Status::Fail, "{result:?}");
    assert!(
        result
            .message
            .starts_with("killed by signal 6 (SIGABRT) before the case finished"),
        "{}",
        result.message
    );
    assert!(
        result.message.contains("out of memory"),
        "{}",
        result.message
    );
    assert!(
        result
            .stderr_tail
            .iter()
            .any(|l| l.starts_with("memory allocation of")),
        "{:?}",
        result.stderr_tail
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

fn the_memory_limit_is_the_parents_choice() {
    let roomy = run("fake::two_gib", &options());
    assert_eq!(roomy.status, Status::Pass, "2 GiB fits in 4 GiB: {roomy:?}");
    let tight = Options {
        memory_limit_kib: Some(1024 * 1024),
        ..options()
    };
    let cramped = run("fake::two_gib", &tight);
    assert_eq!(cramped.status, Status::Fail, "{cramped:?}");
    assert!(
        cramped.message.contains("the limit is 1 GiB"),
        "{}",
        cramped.message
    );
}

fn noise_neither_confuses_the_protocol_nor_is_lost() {
    let result = run("fake::noisy", &options());
    assert_eq!(result.status, Status::Fail, "{result:?}");
    assert_eq!(result.message, "noisy failure");
    assert_eq!(result.stdout_tail.len(), runner::TAIL_LINES);
    let last_two: Vec<&str> = result.stdout_tail[runner::TAIL_LINES - 2..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        last_two,
        ["@@raftlab 0123456789abcdef pass", "a partial line, then "],
        "a forged result line and an unfinished one are kept as output"
    );
    assert_eq!(result.stderr_tail.len(), runner::TAIL_LINES);
    assert_eq!(
        result.stderr_tail.last().map(String::as_str),
        Some("student warns 99")
    );
}

fn scenarios_stop_at_the_first_failing_seed() {
    let options = Options {
        seeds: 20,
        ..options()
    };
    let result = run("fakescen::flaky", &options);
    assert_eq!(result.status, Status::Fail, "{result:?}");
    assert_eq!(result.seed, Some(7));
    assert_eq!(result.message, "two leaders in term 3");
    let five = Options {
        seeds: 5,
        ..options
    };
    assert_eq!(run("fakescen::flaky", &five).status, Status::Pass);
    let only_seven = Options {
        only_seed: Some(7),
        ..five
    };
    assert_eq!(run("fakescen::flaky", &only_seven).seed, Some(7));
}

fn results_come_back_in_registry_order() {
    let cases: Vec<Case> = [
        "fake::traces",
        "fake::passes",
        "fakescen::flaky",
        "fake::fails",
    ]
    .into_iter()
    .map(find)
    .collect();
    let options = Options {
        jobs: 4,
        seeds: 10,
        ..options()
    };
    let results = runner::run_cases(&me(), &cases, &options);
    let names: Vec<&str> = results.iter().map(|r| r.case.name).collect();
    assert_eq!(
        names,
        [
            "fake::traces",
            "fake::passes",
            "fakescen::flaky",
            "fake::fails"
        ]
    );
    let statuses: Vec<Status> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [Status::Fail, Status::Pass, Status::Fail, Status::Fail]
    );
}

fn a_replay_prints_the_same_bytes_twice() {
    let args = ["--case", "fake::traces", "--seed", "0x2a", "--trace"];
    let first = raftlab_test(&args);
    let second = raftlab_test(&args);
    assert_eq!(first.status.code(), Some(1), "{}", stdout(&first));
    let text = stdout(&first);
    assert_eq!(text, stdout(&second), "two replays differ");
    let expected = "\
trace of fake::traces, seed 0x2a (4 events):
  1  start seed=0x2a
  2  t=0 MsgVote 1→2 term=1 last=0@0
  3  t=1 MsgVote 1→2 term=2 last=0@0
  4  t=2 MsgVote 1→2 term=1 last=0@0

Replication  Step3  follower accepts MsgApp           FAIL  fake::traces: traced failure at seed 0x2a
                    replay: ./raftlab_test.sh --case fake::traces --seed 0x2a --trace
                    first difference at event 3: reference `t=1 MsgVote 1→2 term=1 last=0@0`, yours `t=1 MsgVote 1→2 term=2 last=0@0`
Score 0/10
";
    assert_eq!(text, expected, "\n{text}");
}

fn a_scenario_replay_shows_the_run_that_ended_it() {
    let output = raftlab_test(&["--case", "fakescen::flaky", "--seeds", "5", "--trace"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("trace of fakescen::flaky (1 events):\n  1  seed 4 ran\n"),
        "the last seed's run: {text}"
    );
    let output = raftlab_test(&["--case", "fakescen::flaky", "--seeds", "20", "--trace"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with("trace of fakescen::flaky, seed 0x7 (1 events):\n  1  seed 7 ran\n"),
        "the failing seed's run: {text}"
    );
}

fn the_command_line_reports_every_verdict() {
    let dir = std::env::temp_dir().join(format!("raftlab-runner-cli-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("a scratch directory");
    let json = dir.join("results.json");
    let junit = dir.join("junit.xml");
    let output = raftlab_test(&[
        "--machine",
        "--seeds",
        "10",
        "--timeout-scale",
        "0.05",
        "--json",
        json.to_str().expect("utf-8 temp dir"),
        "--junit",
        junit.to_str().expect("utf-8 temp dir"),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let machine: Vec<&str> = text.lines().filter(|l| l.starts_with("RAFTLAB ")).collect();
    assert_eq!(
        machine,
        [
            "RAFTLAB STEP E1 PASS",
            "RAFTLAB STEP E2 FAIL",
            "RAFTLAB STEP E3 FAIL",
            "RAFTLAB STEP E4 BLOCKED E3",
            "RAFTLAB STEP E5 TIMEOUT",
            "RAFTLAB STEP E6 FAIL",
            "RAFTLAB STEP R1 FAIL",
            "RAFTLAB STEP R2 FAIL",
            "RAFTLAB STEP R3 FAIL",
            "RAFTLAB STEP R4 NOCASES",
            "RAFTLAB SCENARIO election FAIL",
            "RAFTLAB SCENARIO replication PASS",
            "RAFTLAB SCORE 13 100",
        ],
        "{text}"
    );
    assert!(
        text.contains("FAIL  fakescen::flaky seed 0x7: two leaders in term 3"),
        "{text}"
    );
    assert!(
        text.contains("Scenarios    election (1 × 10 seeds)"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour into a pipe");
    let json = fs::read_to_string(&json).expect("results.json written");
    assert!(
        json.starts_with("{\n  \"score\": 13,\n  \"max_score\": 100,"),
        "{json}"
    );
    assert_eq!(
        json.matches("\"visibility\": \"visible\"").count(),
        13,
        "{json}"
    );
    let junit = fs::read_to_string(&junit).expect("junit written");
    assert!(junit.contains("<testcase name=\"fake::passes\""), "{junit}");
    assert!(junit.contains("<failure type=\"TIMEOUT\""), "{junit}");
    let _ = fs::remove_dir_all(&dir);
}

fn selection_and_usage_errors() {
    let output = raftlab_test(&["--step", "E1"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).starts_with(
            "Election     Step1  tick advances the election clock  PASS\nScore 5/5 · "
        ),
        "{}",
        stdout(&output)
    );
    let output = raftlab_test(&["--part", "replication", "--case", "fakescen::steady"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    for (args, want) in [
        (
            &["--case", "fake::nope"][..],
            "no case named \"fake::nope\"",
        ),
        (&["--trace"][..], "--trace replays one case"),
        (&["--step", "E9"][..], "unknown step \"E9\""),
        (&["--seeds", "0"][..], "--seeds \"0\": expected a count"),
        (&["--bogus"][..], "unknown option \"--bogus\""),
        (
            &["--step", "E1", "--case", "fake::fails"][..],
            "outside the chosen parts and steps",
        ),
    ] {
        let output = raftlab_test(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}

const TESTS: &[(&str, fn())] = &[
    ("a_passing_case_passes", a_passing_case_passes),
    (
        "a_failing_case_reports_message_seed_and_divergence",
        a_failing_case_reports_message_seed_and_divergence,
    ),
    (
        "a_panic_is_a_failure_with_its_location",
        a_panic_is_a_failure_with_its_location,
    ),
    (
        "own_hole_fails_and_another_steps_hole_blocks",
        own_hole_fails_and_another_steps_hole_blocks,
    ),
    (
        "a_hang_is_killed_at_its_limit_with_its_children",
        a_hang_is_killed_at_its_limit_with_its_children,
    ),
    (
        "an_early_exit_is_never_a_pass",
        an_early_exit_is_never_a_pass,
    ),
    (
        "a_runaway_allocation_dies_fast",
        a_runaway_allocation_dies_fast,
    ),
    (
        "the_memory_limit_is_the_parents_choice",
        the_memory_limit_is_the_parents_choice,
    ),
    (
        "noise_neither_confuses_the_protocol_nor_is_lost",
        noise_neither_confuses_the_protocol_nor_is_lost,
    ),
    (
        "scenarios_stop_at_the_first_failing_seed",
        scenarios_stop_at_the_first_failing_seed,
    ),
    (
        "results_come_back_in_registry_order",
        results_come_back_in_registry_order,
    ),
    (
        "a_replay_prints_the_same_bytes_twice",
        a_replay_prints_the_same_bytes_twice,
    ),
    (
        "a_scenario_replay_shows_the_run_that_ended_it",
        a_scenario_replay_shows_the_run_that_ended_it,
    ),
    (
        "the_command_line_reports_every_verdict",
        the_command_line_reports_every_verdict,
    ),
    ("selection_and_usage_errors", selection_and_usage_errors),
];

// ---------------------------------------------------------------------------
// A minimal test harness.

/// Runs the tests named by the libtest-style arguments cargo and
/// cargo-nextest pass: `--list [--format terse]`, `--exact`, `--ignored`,
/// `--skip NAME` and filters; other flags are accepted and ignored.
fn harness(args: &[OsString]) -> ExitCode {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (mut list, mut exact, mut ignored_only) = (false, false, false);
    let mut filters: Vec<&str> = Vec::new();
    let mut skips: Vec<&str> = Vec::new();
    let mut index = 0;
    while index < args.len() {
        match args[index].as_str() {
            "--list" => list = true,
            "--exact" => exact = true,
            "--ignored" => ignored_only = true,
            "--skip" => {
                index += 1;
                skips.extend(args.get(index).map(String::as_str));
            }
            "--format" | "--test-threads" | "--color" | "--logfile" | "-Z" => index += 1,
            flag if flag.starts_with('-') => {}
            filter => filters.push(filter),
        }
        index += 1;
    }
    let matches = |name: &str| {
        let chosen = filters.is_empty()
            || filters
                .iter()
                .any(|f| if exact { name == *f } else { name.contains(f) });
        chosen && !skips.iter().any(|s| name.contains(s))
    };
    // No test here is ignored.
    let tests: Vec<&(&str, fn())> = TESTS
        .iter()
        .filter(|(name, _)| !ignored_only && matches(name))
        .collect();
    if list {
        for (name, _) in &tests {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    println!("\nrunning {} tests", tests.len());
    let mut failed = Vec::new();
    for (name, test) in &tests {
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(test);
        let verdict = if outcome.is_ok() { "ok" } else { "FAILED" };
        println!(
            "test {name} ... {verdict} ({:.2} s)",
            started.elapsed().as_secs_f64()
        );
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        tests.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failures: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        Some(runner::CHILD_COMMAND) => runner::child_main(&fixture_cases(), &args[1..]),
        Some("__test") => runner::test_main(&fixture_cases(), &args[1..]),
        _ => harness(&args),
    }
}
