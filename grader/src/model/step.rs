//! The lab's steps and parts: what a student fills in, in the order the
//! guide asks for it.

use std::fmt;

/// The word in front of every step's name in the library's holes,
/// `todo!("RaftLab Election Step1")`, and in the reference's markers.
pub const LAB_NAME: &str = "RaftLab";

/// One of the lab's holes, in the guide's order: the ten of the core
/// track in `raft/src/raft.rs`, then the deep track's (the paper's rules
/// themselves, in `raft.rs` and `raft_log.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Election1,
    Election2,
    Election3,
    Election4,
    Election5,
    Election6,
    Replication1,
    Replication2,
    Replication3,
    Replication4,
    Deep1,
    Deep2,
    Deep3,
    Deep4,
    Deep5,
    Deep6,
}

/// Which holes a package leaves for the student.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Track {
    /// The ten holes around Raft's rules (the default).
    #[default]
    Core,
    /// The rules themselves: the vote rule, the AppendEntries receiver,
    /// the commit rule, fast log backup, persistence.
    Deep,
}

impl Track {
    pub const ALL: [Track; 2] = [Track::Core, Track::Deep];

    /// The track this grader was packaged for (`grader/track.txt`): what
    /// `./raftlab_test.sh` grades by default.
    pub fn packaged() -> Track {
        Track::parse(include_str!("../../track.txt").trim()).unwrap_or_default()
    }

    /// The track's steps, in the guide's order.
    pub fn steps(self) -> &'static [Step] {
        match self {
            Track::Core => &Step::ALL,
            Track::Deep => &Step::DEEP,
        }
    }

    /// `core` or `deep`, as typed on the command line.
    pub fn slug(self) -> &'static str {
        match self {
            Track::Core => "core",
            Track::Deep => "deep",
        }
    }

    pub fn parse(s: &str) -> Result<Track, String> {
        match s.to_ascii_lowercase().as_str() {
            "core" => Ok(Track::Core),
            "deep" => Ok(Track::Deep),
            _ => Err(format!("unknown track {s:?}: expected core or deep")),
        }
    }
}

impl Step {
    /// The deep track's steps, in the guide's order.
    pub const DEEP: [Step; 6] = [
        Step::Deep1,
        Step::Deep2,
        Step::Deep3,
        Step::Deep4,
        Step::Deep5,
        Step::Deep6,
    ];

    /// The core track's ten steps, in the order a student fills them.
    pub const ALL: [Step; 10] = [
        Step::Election1,
        Step::Election2,
        Step::Election3,
        Step::Election4,
        Step::Election5,
        Step::Election6,
        Step::Replication1,
        Step::Replication2,
        Step::Replication3,
        Step::Replication4,
    ];

    /// The name used in markers, `todo!()` texts and reports: `Election Step1`.
    pub fn name(self) -> &'static str {
        match self {
            Step::Election1 => "Election Step1",
            Step::Election2 => "Election Step2",
            Step::Election3 => "Election Step3",
            Step::Election4 => "Election Step4",
            Step::Election5 => "Election Step5",
            Step::Election6 => "Election Step6",
            Step::Replication1 => "Replication Step1",
            Step::Replication2 => "Replication Step2",
            Step::Replication3 => "Replication Step3",
            Step::Replication4 => "Replication Step4",
            Step::Deep1 => "Deep Step1",
            Step::Deep2 => "Deep Step2",
            Step::Deep3 => "Deep Step3",
            Step::Deep4 => "Deep Step4",
            Step::Deep5 => "Deep Step5",
            Step::Deep6 => "Deep Step6",
        }
    }

    /// The short name for command lines and matrices: `E1`..`E6`, `R1`..`R4`.
    pub fn short_name(self) -> &'static str {
        match self {
            Step::Election1 => "E1",
            Step::Election2 => "E2",
            Step::Election3 => "E3",
            Step::Election4 => "E4",
            Step::Election5 => "E5",
            Step::Election6 => "E6",
            Step::Replication1 => "R1",
            Step::Replication2 => "R2",
            Step::Replication3 => "R3",
            Step::Replication4 => "R4",
            Step::Deep1 => "D1",
            Step::Deep2 => "D2",
            Step::Deep3 => "D3",
            Step::Deep4 => "D4",
            Step::Deep5 => "D5",
            Step::Deep6 => "D6",
        }
    }

    /// Every step of both tracks.
    pub fn every() -> impl Iterator<Item = Step> {
        Step::ALL.into_iter().chain(Step::DEEP)
    }

    /// The track whose holes this step is.
    pub fn track(self) -> Track {
        if Step::DEEP.contains(&self) {
            Track::Deep
        } else {
            Track::Core
        }
    }

    /// The part the step belongs to.
    pub fn part(self) -> Part {
        match self {
            Step::Election1
            | Step::Election2
            | Step::Election3
            | Step::Election4
            | Step::Election5
            | Step::Election6 => Part::Election,
            Step::Replication1 | Step::Replication2 | Step::Replication3 | Step::Replication4 => {
                Part::Replication
            }
            Step::Deep1 | Step::Deep2 | Step::Deep3 | Step::Deep4 | Step::Deep5 | Step::Deep6 => {
                Part::Deep
            }
        }
    }

    /// The text of this step's hole: `todo!("RaftLab Election Step1")`.
    pub fn todo_text(self) -> String {
        format!("todo!(\"{LAB_NAME} {}\")", self.name())
    }

    /// The step whose hole a panic message says was reached: the message
    /// of `todo!("RaftLab Election Step3")` is `not yet implemented:
    /// RaftLab Election Step3`, maybe followed by its place, ` (at
    /// raft/src/raft.rs:640)`.
    pub fn from_panic(message: &str) -> Option<Step> {
        let rest = message.strip_prefix("not yet implemented: ")?;
        let name = rest.strip_prefix(LAB_NAME)?.trim_start();
        let name = name.split(" (at ").next().unwrap_or(name).trim_end();
        Step::every().find(|s| s.name() == name)
    }

    /// Reads the exact name written in a marker (`Election Step1`).
    pub fn from_marker_name(text: &str) -> Option<Step> {
        Step::every().find(|step| step.name() == text)
    }

    /// Reads a step name as a person types it: the short name (`E1`, `r4`)
    /// or the long one (`Election Step1`, `replication-step4`), ignoring
    /// case, spaces, `-` and `_`.
    pub fn parse(text: &str) -> Result<Step, String> {
        let wanted = normalize(text);
        Step::every()
            .find(|step| normalize(step.short_name()) == wanted || normalize(step.name()) == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown step {text:?} (expected one of {}, {}, or a long name like \"Election Step1\")",
                    Step::ALL.map(Step::short_name).join(", "),
                    Step::DEEP.map(Step::short_name).join(", ")
                )
            })
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Step {
    type Err = String;

    fn from_str(text: &str) -> Result<Step, String> {
        Step::parse(text)
    }
}

fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The parts of the lab: the core track's two, and the deep track.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Election,
    Replication,
    Deep,
}

impl Part {
    /// The core track's parts.
    pub const ALL: [Part; 2] = [Part::Election, Part::Replication];

    /// The parts of `track`.
    pub fn of_track(track: Track) -> &'static [Part] {
        match track {
            Track::Core => &Part::ALL,
            Track::Deep => &[Part::Deep],
        }
    }

    /// The parts of `track` that have search tests: the core's. The deep
    /// track's rules are judged by its steps and scenarios.
    pub fn searched(track: Track) -> &'static [Part] {
        match track {
            Track::Core => &Part::ALL,
            Track::Deep => &[],
        }
    }

    /// `election` or `replication`, as typed on the command line.
    pub fn slug(self) -> &'static str {
        match self {
            Part::Election => "election",
            Part::Replication => "replication",
            Part::Deep => "deep",
        }
    }

    /// The steps of this part, in the guide's order.
    pub fn steps(self) -> impl Iterator<Item = Step> {
        Step::every().filter(move |s| s.part() == self)
    }

    pub fn parse(s: &str) -> Result<Part, String> {
        match s.to_ascii_lowercase().as_str() {
            "election" | "e" => Ok(Part::Election),
            "replication" | "r" => Ok(Part::Replication),
            "deep" | "d" => Ok(Part::Deep),
            _ => Err(format!(
                "unknown part {s:?}: expected election, replication or deep"
            )),
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Election => "Election",
            Part::Replication => "Replication",
            Part::Deep => "Deep",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for step in Step::ALL {
            assert_eq!(Step::parse(step.short_name()), Ok(step));
            assert_eq!(Step::parse(step.name()), Ok(step));
            assert_eq!(Step::from_marker_name(step.name()), Some(step));
        }
        assert_eq!(Step::parse("election-step3"), Ok(Step::Election3));
        assert!(Step::parse("E7").is_err());
    }

    #[test]
    fn a_todo_panic_names_its_step() {
        assert_eq!(
            Step::from_panic("not yet implemented: RaftLab Replication Step2"),
            Some(Step::Replication2)
        );
        assert_eq!(
            Step::from_panic("not yet implemented: RaftLab Election Step1 (at raft/src/raft.rs:9)"),
            Some(Step::Election1)
        );
        assert_eq!(Step::from_panic("not yet implemented"), None);
        assert_eq!(Step::from_panic("index out of bounds"), None);
    }

    #[test]
    fn the_packaged_track_file_names_a_track() {
        assert!(Track::parse(include_str!("../../track.txt").trim()).is_ok());
    }

    #[test]
    fn parts_of_steps() {
        assert_eq!(Step::Election6.part(), Part::Election);
        assert_eq!(Step::Replication1.part(), Part::Replication);
        assert_eq!(Part::Replication.steps().count(), 4);
    }
}
