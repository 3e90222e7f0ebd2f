//! Hints on demand: each step's hints, one level at a time.
//!
//! Level 1 restates the rule, level 2 says where in the library to look,
//! level 3 names the pieces involved; none gives the code. The texts live
//! in `grader/hints/`, one file per step, compiled in. How far a student
//! has gone is remembered per step in `target/raftlab/hints.txt`, so each
//! `--hint E4` shows the next level.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::model::Step;

/// The hint files, by step.
fn source(step: Step) -> &'static str {
    match step {
        Step::Election1 => include_str!("../../hints/E1.md"),
        Step::Election2 => include_str!("../../hints/E2.md"),
        Step::Election3 => include_str!("../../hints/E3.md"),
        Step::Election4 => include_str!("../../hints/E4.md"),
        Step::Election5 => include_str!("../../hints/E5.md"),
        Step::Election6 => include_str!("../../hints/E6.md"),
        Step::Replication1 => include_str!("../../hints/R1.md"),
        Step::Replication2 => include_str!("../../hints/R2.md"),
        Step::Replication3 => include_str!("../../hints/R3.md"),
        Step::Replication4 => include_str!("../../hints/R4.md"),
        Step::Deep1 => include_str!("../../hints/D1.md"),
        Step::Deep2 => include_str!("../../hints/D2.md"),
        Step::Deep3 => include_str!("../../hints/D3.md"),
        Step::Deep4 => include_str!("../../hints/D4.md"),
        Step::Deep5 => include_str!("../../hints/D5.md"),
        Step::Deep6 => include_str!("../../hints/D6.md"),
    }
}

/// The marker of a package built without hints: its hint files say only
/// this.
pub const HINTS_OFF: &str = "Hints are off in this package.";

/// A step's hint levels, in order: the text under each `## Level N`
/// heading of its file. Empty when the package has hints off.
pub fn levels(step: Step) -> Vec<String> {
    levels_of(source(step))
}

fn levels_of(text: &str) -> Vec<String> {
    let mut levels = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("## ") {
            if let Some(done) = current.take() {
                levels.push(done.trim().to_string());
            }
            current = Some(format!("{}\n", line.trim_start_matches("## ")));
        } else if let Some(text) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    if let Some(done) = current {
        levels.push(done.trim().to_string());
    }
    levels
}

/// The levels already shown, per step, as `E4 2` lines in `file`.
fn read_state(file: &Path) -> BTreeMap<Step, usize> {
    let Ok(text) = fs::read_to_string(file) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let (step, level) = line.split_once(' ')?;
            Some((Step::parse(step).ok()?, level.trim().parse().ok()?))
        })
        .collect()
}

fn write_state(file: &Path, state: &BTreeMap<Step, usize>) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    let text: String = state
        .iter()
        .map(|(step, level)| format!("{} {level}\n", step.short_name()))
        .collect();
    fs::write(file, text)
}

/// The next hint of `step` for whoever keeps their progress in `file`:
/// the text to print. After the last level, the last one again, saying so.
pub fn next_hint(step: Step, file: &Path) -> String {
    let levels = levels(step);
    if levels.is_empty() {
        return format!("{step}: {HINTS_OFF}");
    }
    let mut state = read_state(file);
    let shown = state.get(&step).copied().unwrap_or(0);
    let level = (shown + 1).min(levels.len());
    state.insert(step, level);
    let saved = write_state(file, &state);
    let mut out = format!(
        "{step} — hint {level} of {}: {}\n",
        levels.len(),
        levels[level - 1]
    );
    if level == levels.len() {
        out.push_str("\nThat is the last hint: the rest is reading the library (raft/src/lib.rs has a tour).\n");
    } else {
        out.push_str(&format!("\n(run it again for hint {})\n", level + 1));
    }
    if let Err(e) = saved {
        out.push_str(&format!(
            "(could not remember this level in {}: {e})\n",
            file.display()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_three_levels() {
        for step in Step::every() {
            let levels = levels(step);
            assert_eq!(levels.len(), 3, "{step}: {levels:?}");
            for l in &levels {
                assert!(l.len() > 40, "{step}: a level too short to help: {l:?}");
            }
        }
    }

    #[test]
    fn levels_come_one_at_a_time_and_are_remembered() {
        let dir = std::env::temp_dir().join(format!("raftlab-hints-{}", std::process::id()));
        let file = dir.join("hints.txt");
        let _ = fs::remove_file(&file);
        let first = next_hint(Step::Election4, &file);
        assert!(first.contains("hint 1 of 3"), "{first}");
        let second = next_hint(Step::Election4, &file);
        assert!(second.contains("hint 2 of 3"), "{second}");
        assert!(next_hint(Step::Election1, &file).contains("hint 1 of 3"));
        let third = next_hint(Step::Election4, &file);
        assert!(
            third.contains("hint 3 of 3") && third.contains("last hint"),
            "{third}"
        );
        assert!(next_hint(Step::Election4, &file).contains("hint 3 of 3"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn levels_are_split_at_their_headings() {
        let l = levels_of("# E1\n## Level 1 — the rule\nA.\n## Level 2 — where\nB.\nC.\n");
        assert_eq!(
            l,
            vec![
                "Level 1 — the rule\nA.".to_string(),
                "Level 2 — where\nB.\nC.".to_string()
            ]
        );
    }
}
