//! The `raftlab` binary's own `test` and `__case` commands, over the real
//! registry (whatever cases it holds today).

use std::process::{Command, Output};

use grader::case::all_cases;

fn raftlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_raftlab"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run raftlab")
}

#[test]
fn test_prints_a_line_for_every_step_and_scenario_part() {
    let output = raftlab(&["test", "--machine", "--seeds", "2"]);
    let text = String::from_utf8_lossy(&output.stdout);
    let kinds: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.strip_prefix("RAFTLAB "))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace();
            Some((words.next()?.to_string(), words.next()?.to_string()))
        })
        .collect();
    let names: Vec<String> = kinds
        .iter()
        .filter(|(kind, _)| kind != "SCORE")
        .map(|(kind, name)| format!("{kind} {name}"))
        .collect();
    assert_eq!(
        names,
        [
            "STEP E1",
            "STEP E2",
            "STEP E3",
            "STEP E4",
            "STEP E5",
            "STEP E6",
            "STEP R1",
            "STEP R2",
            "STEP R3",
            "STEP R4",
            "SCENARIO election",
            "SCENARIO replication",
        ],
        "{text}"
    );
    assert!(text.contains("\nScore "), "{text}");
    let passed = text
        .lines()
        .filter(|line| line.starts_with("RAFTLAB ") && !line.starts_with("RAFTLAB SCORE"))
        .all(|line| line.ends_with(" PASS"));
    let expected = if passed { 0 } else { 1 };
    assert_eq!(output.status.code(), Some(expected), "{text}");
}

#[test]
fn test_help_and_usage_errors() {
    let help = raftlab(&["test", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).starts_with("raftlab test: grade"));
    let wrong = raftlab(&["test", "--part", "consensus"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("unknown part \"consensus\""));
    let two = raftlab(&["test", "--solution", "--minus", "E3"]);
    assert_eq!(two.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&two.stderr).contains("choose one variant"));
}

#[test]
fn the_child_refuses_unknown_cases_and_a_missing_nonce() {
    let unknown = raftlab(&["__case", "no::such_case", "--seed", "0"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no case named \"no::such_case\""));
    if let Some(case) = all_cases().first() {
        // stdin is empty: no nonce, so no result line can be trusted.
        let output = Command::new(env!("CARGO_BIN_EXE_raftlab"))
            .args(["__case", case.name, "--seed", "0"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run raftlab");
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("expected the nonce"));
    }
}
