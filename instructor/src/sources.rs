//! The reference as a whole: every file with marked answers, and the files
//! generated from them.
//!
//! | reference (instructors only) | generated (committed, shipped) |
//! |---|---|
//! | `solutions/raft.rs` | `raft/src/raft.rs` |
//! | `solutions/raft_log.rs` (when the deep track is in) | `raft/src/raft_log.rs` |
//!
//! Each step has exactly one region, in one of the files: the core
//! track's ten always, the deep track's all or none. A generated file is
//! its reference with every region replaced as a [`Choice`] says: the
//! committed files are the core track's skeleton (core steps `todo!()`,
//! deep steps answered); the deep package's are the other way round.

use std::fs;
use std::path::Path;

use grader::model::{Step, Track};

use crate::skeleton::{self, Choice, Region};

/// Generated files: each one's path (`raft/src/raft.rs`) and text.
pub type Generated = Vec<(&'static str, String)>;

/// A reference file and the file generated from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    pub reference: &'static str,
    pub generated: &'static str,
    /// Whether the reference must exist.
    pub required: bool,
}

/// Every reference file, the main one first.
pub const SOURCES: [Source; 2] = [
    Source {
        reference: "solutions/raft.rs",
        generated: "raft/src/raft.rs",
        required: true,
    },
    Source {
        reference: "solutions/raft_log.rs",
        generated: "raft/src/raft_log.rs",
        required: false,
    },
];

/// The reference files present, with their text and regions.
#[derive(Clone, Debug)]
pub struct Reference {
    pub files: Vec<(Source, String, Vec<Region>)>,
}

impl Reference {
    /// Reads and checks the reference of the workspace at `root`.
    pub fn read(root: &Path) -> Result<Reference, String> {
        let mut files = Vec::new();
        for source in SOURCES {
            let path = root.join(source.reference);
            let text = match fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !source.required => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(format!(
                        "no {} in {}: the reference is only in the instructors' repository, not in the student package",
                        source.reference,
                        root.display()
                    ));
                }
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            };
            let regions =
                skeleton::parse_regions(&text).map_err(|e| format!("{}: {e}", source.reference))?;
            files.push((source, text, regions));
        }
        let reference = Reference::from_files(files)?;
        Ok(reference)
    }

    /// A reference from texts already read, checked.
    pub fn from_files(files: Vec<(Source, String, Vec<Region>)>) -> Result<Reference, String> {
        let r = Reference { files };
        r.check()?;
        Ok(r)
    }

    /// Every step has one region at most; the core steps all have one; the
    /// deep steps all or none.
    fn check(&self) -> Result<(), String> {
        let mut seen: Vec<(Step, &str)> = Vec::new();
        for (source, _, regions) in &self.files {
            for region in regions {
                if let Some((_, first)) = seen.iter().find(|(s, _)| *s == region.step) {
                    return Err(format!(
                        "{}: {} has a region here and in {first}: each step has exactly one",
                        source.reference, region.step
                    ));
                }
                seen.push((region.step, source.reference));
            }
        }
        let missing = |steps: &[Step]| -> Vec<&'static str> {
            steps
                .iter()
                .filter(|s| !seen.iter().any(|(t, _)| t == *s))
                .map(|s| s.name())
                .collect()
        };
        let core = missing(&Step::ALL);
        if !core.is_empty() {
            return Err(format!(
                "no region for {} (each of the ten core steps needs one `//>>> RaftLab <step>` ... `//<<< RaftLab <step>` region)",
                core.join(", ")
            ));
        }
        let deep = missing(&Step::DEEP);
        if !deep.is_empty() && deep.len() < Step::DEEP.len() {
            return Err(format!(
                "no region for {}: the deep track's steps come all together or not at all",
                deep.join(", ")
            ));
        }
        Ok(())
    }

    /// Whether the deep track's regions are in.
    pub fn has_deep(&self) -> bool {
        self.region(Step::Deep1).is_some()
    }

    /// The region of `step`, and its file.
    pub fn region(&self, step: Step) -> Option<(&Source, &Region)> {
        self.files.iter().find_map(|(source, _, regions)| {
            regions.iter().find(|r| r.step == step).map(|r| (source, r))
        })
    }

    /// Every region, with its file.
    pub fn regions(&self) -> impl Iterator<Item = (&Source, &Region)> {
        self.files
            .iter()
            .flat_map(|(source, _, regions)| regions.iter().map(move |r| (source, r)))
    }

    /// The generated files, each region replaced as `choose` says.
    pub fn render(&self, choose: &dyn Fn(Step) -> Choice) -> Result<Generated, String> {
        self.files
            .iter()
            .map(|(source, text, _)| {
                skeleton::render(text, choose)
                    .map(|t| (source.generated, t))
                    .map_err(|e| format!("{}: {e}", source.reference))
            })
            .collect()
    }

    /// The files students of `track` get: that track's steps are holes,
    /// the other track's are answered.
    pub fn skeleton(&self, track: Track) -> Result<Generated, String> {
        self.render(&|s| {
            if s.track() == track {
                Choice::Todo
            } else {
                Choice::Answer
            }
        })
    }

    /// The committed files of the workspace at `root` that differ from
    /// the core track's skeleton, each with its first differing line:
    /// `raft/src/raft.rs is stale at line 12: it has "...", the reference
    /// makes "..."`. Empty when every generated file is current.
    pub fn stale_files(&self, root: &Path) -> Result<Vec<String>, String> {
        let mut stale = Vec::new();
        for (generated, text) in self.skeleton(Track::Core)? {
            let current = fs::read_to_string(root.join(generated)).unwrap_or_default();
            if let Some((line, want, got)) = skeleton::first_difference(&text, &current) {
                stale.push(format!(
                    "{generated} is stale at line {line}: it has {:?}, the reference makes {:?}",
                    got.unwrap_or("(end of file)"),
                    want.unwrap_or("(end of file)")
                ));
            }
        }
        Ok(stale)
    }

    /// The text of one generated file of `rendered`.
    pub fn file<'a>(rendered: &'a [(&'static str, String)], generated: &str) -> Option<&'a str> {
        rendered
            .iter()
            .find(|(g, _)| *g == generated)
            .map(|(_, t)| t.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions_of(steps: &[Step]) -> String {
        steps
            .iter()
            .map(|s| {
                format!(
                    "    //>>> RaftLab {s}\n    answer_{}();\n    //<<< RaftLab {s}\n",
                    s.short_name()
                )
            })
            .collect()
    }

    fn reference(main: &[Step], log: Option<&[Step]>) -> Result<Reference, String> {
        let mut files = Vec::new();
        let text = regions_of(main);
        let regions = skeleton::parse_regions(&text)?;
        files.push((SOURCES[0], text, regions));
        if let Some(log) = log {
            let text = regions_of(log);
            let regions = skeleton::parse_regions(&text)?;
            files.push((SOURCES[1], text, regions));
        }
        Reference::from_files(files)
    }

    #[test]
    fn the_core_steps_are_required_and_the_deep_ones_come_together() {
        assert!(reference(&Step::ALL, None).is_ok());
        let e = reference(&Step::ALL[1..], None).unwrap_err();
        assert!(e.contains("no region for Election Step1"), "{e}");
        let e = reference(&Step::ALL, Some(&Step::DEEP[..2])).unwrap_err();
        assert!(e.contains("all together"), "{e}");
        let mut main: Vec<Step> = Step::ALL.to_vec();
        main.push(Step::Deep5);
        let e = reference(&main, Some(&Step::DEEP)).unwrap_err();
        assert!(e.contains("exactly one"), "{e}");
        let r = reference(&Step::ALL, Some(&Step::DEEP)).unwrap();
        assert!(r.has_deep());
        assert_eq!(
            r.region(Step::Deep3).unwrap().0.reference,
            "solutions/raft_log.rs"
        );
    }

    #[test]
    fn each_track_has_its_own_holes() {
        let r = reference(&Step::ALL, Some(&Step::DEEP)).unwrap();
        let core = r.skeleton(Track::Core).unwrap();
        let main = Reference::file(&core, "raft/src/raft.rs").unwrap();
        let log = Reference::file(&core, "raft/src/raft_log.rs").unwrap();
        assert_eq!(main.matches("todo!(").count(), 10);
        assert_eq!(log.matches("todo!(").count(), 0);
        assert_eq!(log.matches("answer_D").count(), 6);
        let deep = r.skeleton(Track::Deep).unwrap();
        let log = Reference::file(&deep, "raft/src/raft_log.rs").unwrap();
        assert_eq!(log.matches("todo!(\"RaftLab Deep").count(), 6);
        assert_eq!(
            Reference::file(&deep, "raft/src/raft.rs")
                .unwrap()
                .matches("todo!(")
                .count(),
            0
        );
    }
}
