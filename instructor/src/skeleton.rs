//! The marker format that ties `solutions/raft.rs` (the reference) to
//! `raft/src/raft.rs` (the skeleton students receive), and the file
//! transformations built on it.
//!
//! Each of the ten answers stands between two marker lines:
//!
//! ```text
//!         // (explanatory comment lines for the student: kept in the skeleton)
//!         //>>> RaftLab Election Step1
//!         self.election_elapsed += 1;
//!         //<<< RaftLab Election Step1
//! ```
//!
//! | function         | each region becomes                                  |
//! |------------------|------------------------------------------------------|
//! | [`make_skeleton`] | `todo!("RaftLab <step>");`, indented like `//>>>`   |
//! | [`strip_markers`] | its body (the reference as it compiles)             |
//! | [`minus_step`]    | the body, except the one step, which gets `todo!()` |
//! | [`apply_mutant`]  | the body, except the mutant's step: the mutant body |
//!
//! Lines outside regions are copied byte for byte, line endings included, so
//! a regenerated skeleton only differs from the committed one where the
//! reference changed. Errors are messages of the form `line N: ...`; callers
//! put the file name in front.

use std::fmt;

use grader::model::{LAB_NAME, Step};

/// Opens a region: `//>>> RaftLab <step>`.
const OPEN_MARKER: &str = "//>>>";
/// Closes a region: `//<<< RaftLab <step>`.
const CLOSE_MARKER: &str = "//<<<";

/// One step's answer in the reference, between its two markers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub step: Step,
    /// 1-based line number of the `//>>>` marker.
    pub begin_line: usize,
    /// 1-based line number of the `//<<<` marker; always > `begin_line`.
    pub end_line: usize,
    /// The whitespace in front of the `//>>>` marker; the skeleton's
    /// `todo!()` line gets the same.
    pub indent: String,
    /// The lines strictly between the markers, line endings included.
    pub body: String,
}

/// The lines of `text`, each with its line ending (`\n` or `\r\n`); the last
/// one has none when the file does not end with a newline.
fn lines_with_endings(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// `line` without its line ending.
fn strip_line_ending(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// The line ending of `line`, possibly empty.
fn line_ending(line: &str) -> &str {
    &line[strip_line_ending(line).len()..]
}

enum Marker<'a> {
    Open(&'a str),
    Close(&'a str),
}

/// Recognises a marker line; what follows the marker is returned raw (it
/// should read `RaftLab <step>`) so the caller can report a bad name.
fn marker(line: &str) -> Option<Marker<'_>> {
    let code = strip_line_ending(line).trim_start();
    if let Some(rest) = code.strip_prefix(OPEN_MARKER) {
        Some(Marker::Open(rest.trim()))
    } else {
        code.strip_prefix(CLOSE_MARKER)
            .map(|rest| Marker::Close(rest.trim()))
    }
}

/// Is this line a region marker, well formed or not?
fn is_marker_line(line: &str) -> bool {
    marker(line).is_some()
}

/// The step named after a marker (`RaftLab Election Step1`), or an error
/// naming the line.
fn marker_step(line_number: usize, marker_text: &str, after: &str) -> Result<Step, String> {
    after
        .strip_prefix(LAB_NAME)
        .map(str::trim)
        .and_then(Step::from_marker_name)
        .ok_or_else(|| {
            format!(
                "line {line_number}: unknown step name {after:?} after `{marker_text}` \
                 (expected `{marker_text} {LAB_NAME} Election Step1`..`Election Step6` \
                 or `Replication Step1`..`Replication Step4`)"
            )
        })
}

/// Finds the regions of a reference file, in file order.
///
/// Fails, naming the line, on an unknown step name, a region opened twice
/// (or opened inside another), a region never closed, and a `//<<<` with no
/// open region or naming another step. Which steps must have a region is
/// the business of [`crate::sources`], across all the reference files.
pub fn parse_regions(text: &str) -> Result<Vec<Region>, String> {
    let lines = lines_with_endings(text);
    let mut regions: Vec<Region> = Vec::new();
    // The region being read: its step, marker line and indentation.
    let mut open: Option<(Step, usize, String)> = None;
    for (index, line) in lines.iter().enumerate() {
        let line_number = index + 1;
        match marker(line) {
            None => {}
            Some(Marker::Open(after)) => {
                let step = marker_step(line_number, OPEN_MARKER, after)?;
                if let Some((open_step, open_line, _)) = &open {
                    return Err(format!(
                        "line {line_number}: `{OPEN_MARKER} {LAB_NAME} {step}` opens a region while \
                         {open_step} (opened at line {open_line}) is still open"
                    ));
                }
                if let Some(earlier) = regions.iter().find(|region| region.step == step) {
                    return Err(format!(
                        "line {line_number}: {step} is opened a second time (its region is \
                         already at lines {}-{}); each step has exactly one region",
                        earlier.begin_line, earlier.end_line
                    ));
                }
                let code = strip_line_ending(line);
                let indent = code[..code.len() - code.trim_start().len()].to_string();
                open = Some((step, line_number, indent));
            }
            Some(Marker::Close(after)) => {
                let step = marker_step(line_number, CLOSE_MARKER, after)?;
                let Some((open_step, open_line, indent)) = open.take() else {
                    return Err(format!(
                        "line {line_number}: `{CLOSE_MARKER} {LAB_NAME} {step}` closes a region \
                         that was never opened"
                    ));
                };
                if open_step != step {
                    return Err(format!(
                        "line {line_number}: `{CLOSE_MARKER} {LAB_NAME} {step}` closes {step}, \
                         but the open region is {open_step} (opened at line {open_line})"
                    ));
                }
                regions.push(Region {
                    step,
                    begin_line: open_line,
                    end_line: line_number,
                    indent,
                    body: lines[open_line..index].concat(),
                });
            }
        }
    }
    if let Some((step, open_line, _)) = open {
        return Err(format!(
            "line {open_line}: the region of {step} is never closed \
             (expected `{CLOSE_MARKER} {LAB_NAME} {step}` before the end of the file)"
        ));
    }
    Ok(regions)
}

/// Rebuilds `text` with each region (markers included) replaced by what
/// `replace` returns for it; everything outside regions is copied as is.
fn rewrite(text: &str, mut replace: impl FnMut(&Region, &str) -> String) -> Result<String, String> {
    let regions = parse_regions(text)?;
    let lines = lines_with_endings(text);
    let mut out = String::with_capacity(text.len());
    let mut next_line = 1;
    for region in &regions {
        out.push_str(&lines[next_line - 1..region.begin_line - 1].concat());
        // The replacement ends the way the closing marker line ended, so a
        // file that ends on a marker keeps ending without a newline.
        let ending = line_ending(lines[region.end_line - 1]);
        out.push_str(&replace(region, ending));
        next_line = region.end_line + 1;
    }
    out.push_str(&lines[next_line - 1..].concat());
    Ok(out)
}

/// What a region becomes in a generated file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The reference's answer.
    Answer,
    /// The step's `todo!()`: a hole.
    Todo,
    /// Another body (a mutant's, an alternative's), with its line endings.
    Body(String),
}

/// `text` with every region replaced as `choose` says for its step.
pub fn render(text: &str, choose: &dyn Fn(Step) -> Choice) -> Result<String, String> {
    rewrite(text, |region, ending| match choose(region.step) {
        Choice::Answer => region.body.clone(),
        Choice::Todo => todo_line(region, ending),
        Choice::Body(body) => body,
    })
}

/// The line that stands in for a region in the skeleton.
fn todo_line(region: &Region, ending: &str) -> String {
    format!("{}{};{ending}", region.indent, region.step.todo_text())
}

/// The student's file: every region replaced by one
/// `todo!("RaftLab <step>");` line, indented like its `//>>>` marker.
pub fn make_skeleton(reference: &str) -> Result<String, String> {
    rewrite(reference, todo_line)
}

/// The reference with its marker lines removed: the complete, working file
/// that "the reference variant" compiles. Does not check the regions; use
/// [`parse_regions`] first when the file may be malformed.
pub fn strip_markers(reference: &str) -> String {
    lines_with_endings(reference)
        .into_iter()
        .filter(|line| !is_marker_line(line))
        .collect()
}

/// The reference with only `step` replaced by its `todo!()`; the other
/// steps keep their answers, without markers.
pub fn minus_step(reference: &str, step: Step) -> Result<String, String> {
    rewrite(reference, |region, ending| {
        if region.step == step {
            todo_line(region, ending)
        } else {
            region.body.clone()
        }
    })
}

/// The reference with the answers of the first `k` steps (the guide's
/// order) and `todo!()` for the rest: a student who has done `k` steps.
pub fn prefix(reference: &str, k: usize) -> Result<String, String> {
    let done = &Step::ALL[..k.min(Step::ALL.len())];
    rewrite(reference, |region, ending| {
        if done.contains(&region.step) {
            region.body.clone()
        } else {
            todo_line(region, ending)
        }
    })
}

/// What a mutant may fail besides its own step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlsoFails {
    Step(Step),
    /// The cluster scenarios, which exercise every step together.
    Scenarios,
    /// The searches: every schedule of a small cluster.
    Search,
}

impl fmt::Display for AlsoFails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlsoFails::Step(step) => step.fmt(f),
            AlsoFails::Scenarios => f.write_str("scenarios"),
            AlsoFails::Search => f.write_str("search"),
        }
    }
}

/// Whether a replacement body is a known wrong answer or a correct one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `//! mutant:` — its own step's suite must catch it.
    Mutant,
    /// `//! alternative:` — an answer the paper allows that differs from
    /// the reference's: every step must pass with it.
    Alternative,
}

/// The header of a mutant file (`solutions/mutants/<name>.rs`) or of an
/// alternative (`solutions/alternatives/<name>.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MutantInfo {
    pub verdict: Verdict,
    /// What is wrong (or how it differs and why the paper allows it), from
    /// `//! mutant: ...` (or `//! alternative: ...`).
    pub description: String,
    /// The step whose region the mutant replaces, from `//! step: ...`;
    /// that step's suite must catch it.
    pub step: Step,
    /// From `//! also-fails: ...`; empty when absent.
    pub also_fails: Vec<AlsoFails>,
}

/// Splits a mutant file into its header and the body lines that follow it.
pub fn parse_mutant(mutant_text: &str) -> Result<(MutantInfo, String), String> {
    let lines = lines_with_endings(mutant_text);
    let header_len = lines
        .iter()
        .take_while(|line| line.trim_start().starts_with("//!"))
        .count();
    let mut description: Option<(Verdict, String)> = None;
    let mut step: Option<Step> = None;
    let mut also_fails: Option<Vec<AlsoFails>> = None;
    for (index, line) in lines[..header_len].iter().enumerate() {
        let line_number = index + 1;
        let content = strip_line_ending(line)
            .trim_start()
            .trim_start_matches("//!")
            .trim();
        if content.is_empty() {
            continue;
        }
        let Some((key, value)) = content.split_once(':') else {
            return Err(format!(
                "line {line_number}: expected `//! key: value` (keys: mutant or alternative, step, also-fails), \
                 found {content:?}"
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        let duplicate = || format!("line {line_number}: `{key}:` is given twice");
        match key {
            "mutant" | "alternative" => {
                if value.is_empty() {
                    return Err(format!(
                        "line {line_number}: `{key}:` needs a description of what is wrong or different"
                    ));
                }
                let verdict = if key == "mutant" {
                    Verdict::Mutant
                } else {
                    Verdict::Alternative
                };
                if description.replace((verdict, value.to_string())).is_some() {
                    return Err(format!(
                        "line {line_number}: a file is one mutant or one alternative: `{key}:` comes after another"
                    ));
                }
            }
            "step" => {
                let parsed = Step::parse(value).map_err(|e| format!("line {line_number}: {e}"))?;
                if step.replace(parsed).is_some() {
                    return Err(duplicate());
                }
            }
            "also-fails" => {
                let mut list = Vec::new();
                for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let parsed = if item.eq_ignore_ascii_case("scenarios") {
                        AlsoFails::Scenarios
                    } else if item.eq_ignore_ascii_case("search") {
                        AlsoFails::Search
                    } else {
                        AlsoFails::Step(Step::parse(item).map_err(|e| {
                            format!(
                                "line {line_number}: in `also-fails:`: {e}, \"scenarios\" or \"search\""
                            )
                        })?)
                    };
                    list.push(parsed);
                }
                if also_fails.replace(list).is_some() {
                    return Err(duplicate());
                }
            }
            _ => {
                return Err(format!(
                    "line {line_number}: unknown header key `{key}:` (keys: mutant or alternative, step, also-fails)"
                ));
            }
        }
    }
    let end_of_header = header_len.max(1);
    let (verdict, description) = description.ok_or_else(|| {
        format!(
            "line {end_of_header}: the header has no `//! mutant: <what is wrong>` (or `//! alternative: <how it differs>`) line"
        )
    })?;
    let step = step.ok_or_else(|| {
        format!("line {end_of_header}: the header has no `//! step: <step>` line")
    })?;
    let also_fails = also_fails.unwrap_or_default();
    if verdict == Verdict::Alternative && !also_fails.is_empty() {
        return Err(format!(
            "line {end_of_header}: an alternative is a correct answer: it fails nothing, so it has no `also-fails:`"
        ));
    }
    if also_fails.contains(&AlsoFails::Step(step)) {
        return Err(format!(
            "line {end_of_header}: `also-fails:` names {step}, the mutant's own step"
        ));
    }
    if let Some(index) = (header_len..lines.len()).find(|&index| is_marker_line(lines[index])) {
        return Err(format!(
            "line {}: a mutant body cannot contain region markers",
            index + 1
        ));
    }
    let mut body = lines[header_len..].concat();
    if !body.is_empty() && !body.ends_with('\n') {
        body.push('\n');
    }
    Ok((
        MutantInfo {
            verdict,
            description,
            step,
            also_fails,
        },
        body,
    ))
}

/// The reference with the mutant's step region replaced by the mutant's
/// body (markers dropped) and every other region by its answer.
///
/// Errors say `mutant line N: ...` or `reference line N: ...`, so the caller
/// only has to name the two files.
pub fn apply_mutant(reference: &str, mutant_text: &str) -> Result<(String, MutantInfo), String> {
    let (info, mutant_body) = parse_mutant(mutant_text).map_err(|e| format!("mutant {e}"))?;
    let regions = parse_regions(reference).map_err(|e| format!("reference {e}"))?;
    if !regions.iter().any(|r| r.step == info.step) {
        return Err(format!(
            "reference line 1: no region for {}, the mutant's step",
            info.step
        ));
    }
    let text = rewrite(reference, |region, _| {
        if region.step == info.step {
            mutant_body.clone()
        } else {
            region.body.clone()
        }
    })
    .map_err(|e| format!("reference {e}"))?;
    Ok((text, info))
}

/// The first line where `expected` and `found` differ: its 1-based number
/// and both lines without their line endings, `None` for a line past the end
/// of that file. Lines that differ only in their ending (`\r\n`, or a
/// missing final newline) count as different. `None` when the files are
/// identical.
pub fn first_difference<'a>(
    expected: &'a str,
    found: &'a str,
) -> Option<(usize, Option<&'a str>, Option<&'a str>)> {
    let expected_lines = lines_with_endings(expected);
    let found_lines = lines_with_endings(found);
    let longest = expected_lines.len().max(found_lines.len());
    (0..longest).find_map(|index| {
        let a = expected_lines.get(index).copied();
        let b = found_lines.get(index).copied();
        (a != b).then(|| {
            (
                index + 1,
                a.map(strip_line_ending),
                b.map(strip_line_ending),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/raft.rs");
    const FIXTURE_SKELETON: &str = include_str!("../tests/fixtures/raft.skeleton.rs");
    const MUTANT: &str = include_str!("../tests/fixtures/mutants/vote_twice.rs");

    /// A minimal well-formed reference: ten one-line regions, one per step.
    fn ten_regions() -> String {
        Step::ALL
            .into_iter()
            .map(|step| {
                format!("    //>>> RaftLab {step}\n    answer();\n    //<<< RaftLab {step}\n")
            })
            .collect()
    }

    fn parse_error(text: &str) -> String {
        match parse_regions(text) {
            Ok(regions) => panic!("expected an error, parsed {} regions", regions.len()),
            Err(message) => message,
        }
    }

    #[test]
    fn a_prefix_keeps_the_first_answers_in_the_guides_order() {
        let text = prefix(&ten_regions(), 3).expect("well formed");
        assert_eq!(text.matches("answer();").count(), 3);
        for step in &Step::ALL[3..] {
            assert!(text.contains(&step.todo_text()), "{step}");
        }
        assert_eq!(
            prefix(&ten_regions(), 10).unwrap(),
            strip_markers(&ten_regions())
        );
        assert_eq!(
            prefix(&ten_regions(), 0).unwrap(),
            make_skeleton(&ten_regions()).unwrap()
        );
    }

    #[test]
    fn fixture_regions_are_found_in_order() {
        let regions = parse_regions(FIXTURE).expect("the fixture is well formed");
        let steps: Vec<Step> = regions.iter().map(|region| region.step).collect();
        assert_eq!(steps, Step::ALL);
        let first = &regions[0];
        assert_eq!((first.begin_line, first.end_line), (15, 17));
        assert_eq!(first.indent, "        ");
        assert_eq!(first.body, "        self.election_elapsed += 1;\n");
        assert_eq!(regions[6].indent, "\t");
        assert_eq!(regions[9].body, "");
    }

    #[test]
    fn skeleton_of_the_fixture_matches_the_expected_file() {
        let skeleton = make_skeleton(FIXTURE).expect("the fixture is well formed");
        assert_eq!(first_difference(FIXTURE_SKELETON, &skeleton), None);
        assert!(!skeleton.contains("//>>>") && !skeleton.contains("//<<<"));
    }

    #[test]
    fn skeleton_keeps_crlf_and_a_missing_final_newline() {
        let mut text = ten_regions().replace('\n', "\r\n");
        // The file now ends on the last marker, with no line ending at all.
        text.truncate(text.len() - "\r\n".len());
        let skeleton = make_skeleton(&text).expect("well formed");
        assert!(skeleton.starts_with("    todo!(\"RaftLab Election Step1\");\r\n"));
        assert!(skeleton.ends_with("    todo!(\"RaftLab Replication Step4\");"));
        assert_eq!(skeleton.lines().count(), 10);
    }

    #[test]
    fn unknown_step_name_is_an_error_with_its_line() {
        let text = ten_regions().replacen(
            "//>>> RaftLab Election Step2",
            "//>>> RaftLab Election Step7",
            1,
        );
        let error = parse_error(&text);
        assert!(error.starts_with("line 4: unknown step name"), "{error}");
        let text =
            ten_regions().replacen("//<<< RaftLab Election Step1", "//<<< Election Step1", 1);
        let error = parse_error(&text);
        assert!(error.starts_with("line 3: unknown step name"), "{error}");
    }

    #[test]
    fn region_opened_twice_is_an_error() {
        let text = format!("{}//>>> RaftLab Election Step3\n", ten_regions());
        let error = parse_error(&text);
        assert!(
            error.starts_with("line 31: Election Step3 is opened a second time"),
            "{error}"
        );
        assert!(error.contains("lines 7-9"), "{error}");
    }

    #[test]
    fn region_opened_inside_another_is_an_error() {
        let text = ten_regions().replacen("    answer();\n", "//>>> RaftLab Election Step2\n", 1);
        let error = parse_error(&text);
        assert!(error.starts_with("line 2: "), "{error}");
        assert!(
            error.contains("Election Step1 (opened at line 1) is still open"),
            "{error}"
        );
    }

    #[test]
    fn unclosed_region_is_an_error_at_its_opening_line() {
        let text = ten_regions().replacen("    //<<< RaftLab Replication Step4\n", "", 1);
        let error = parse_error(&text);
        assert!(
            error.starts_with("line 28: the region of Replication Step4 is never closed"),
            "{error}"
        );
    }

    #[test]
    fn close_without_open_is_an_error() {
        let text = format!("//<<< RaftLab Election Step1\n{}", ten_regions());
        let error = parse_error(&text);
        assert!(error.starts_with("line 1: "), "{error}");
        assert!(error.contains("never opened"), "{error}");
    }

    #[test]
    fn close_naming_another_step_is_an_error() {
        let text = ten_regions().replacen(
            "//<<< RaftLab Election Step4",
            "//<<< RaftLab Election Step5",
            1,
        );
        let error = parse_error(&text);
        assert!(error.starts_with("line 12: "), "{error}");
        assert!(
            error.contains(
                "closes Election Step5, but the open region is Election Step4 (opened at line 10)"
            ),
            "{error}"
        );
    }

    #[test]
    fn a_file_may_hold_some_steps_only() {
        let text: String = ten_regions()
            .lines()
            .skip(3)
            .take(24)
            .map(|l| format!("{l}\n"))
            .collect();
        let steps: Vec<Step> = parse_regions(&text)
            .unwrap()
            .iter()
            .map(|r| r.step)
            .collect();
        assert_eq!(steps, Step::ALL[1..9].to_vec());
        assert!(parse_regions("").unwrap().is_empty());
    }

    #[test]
    fn render_chooses_per_step() {
        let text = render(&ten_regions(), &|s| match s {
            Step::Election1 => Choice::Todo,
            Step::Election2 => Choice::Body("    other();\n".to_string()),
            _ => Choice::Answer,
        })
        .unwrap();
        assert!(text.contains(&Step::Election1.todo_text()));
        assert_eq!(text.matches("other();").count(), 1);
        assert_eq!(text.matches("answer();").count(), 8);
    }

    #[test]
    fn strip_markers_keeps_every_answer() {
        let stripped = strip_markers(FIXTURE);
        assert_eq!(stripped.lines().count(), FIXTURE.lines().count() - 20);
        assert!(!stripped.contains("//>>>") && !stripped.contains("//<<<"));
        assert!(stripped.contains("        self.election_elapsed += 1;\n\n        if self"));
        assert!(stripped.contains("        // Replication Step1\n\tself.append_entry(entries);\n        // Replication Step2\n"));
    }

    #[test]
    fn minus_step_replaces_only_that_step() {
        for step in Step::ALL {
            let text = minus_step(FIXTURE, step).expect("well formed");
            assert_eq!(text.matches("todo!(").count(), 1, "{step}");
            assert!(text.contains(&step.todo_text()), "{step}");
            assert!(!text.contains("//>>>") && !text.contains("//<<<"), "{step}");
        }
        let text = minus_step(FIXTURE, Step::Election5).expect("well formed");
        assert!(text.contains(
            "// Election Step5: reply, reset the clock, record the vote.\n        todo!(\"RaftLab Election Step5\");\n    }"
        ));
        assert!(text.contains("self.election_elapsed += 1;"));
    }

    #[test]
    fn apply_mutant_replaces_the_step_body() {
        let (text, info) = apply_mutant(FIXTURE, MUTANT).expect("well formed");
        assert_eq!(
            info,
            MutantInfo {
                verdict: Verdict::Mutant,
                description:
                    "grants the vote but never records it, so a node can vote twice in one term"
                        .to_string(),
                step: Step::Election5,
                also_fails: vec![AlsoFails::Scenarios, AlsoFails::Step(Step::Replication3)],
            }
        );
        let expected_region = "        // Election Step5: reply, reset the clock, record the vote.\n        \
             self.send_vote_response(from, false);\n        self.election_elapsed = 0;\n    }\n";
        assert!(text.contains(expected_region), "{text}");
        assert!(!text.contains("self.vote = from;"));
        assert!(!text.contains("//>>>") && !text.contains("todo!("));
        assert_eq!(
            strip_markers(FIXTURE).lines().count() - 1,
            text.lines().count()
        );
    }

    #[test]
    fn mutant_without_final_newline_or_with_empty_body() {
        let (text, _) =
            apply_mutant(FIXTURE, "//! mutant: m\n//! step: E1\n        bad();").expect("ok");
        assert!(text.contains("        bad();\n\n        if self"), "{text}");
        let (text, info) =
            apply_mutant(FIXTURE, "//! mutant: does nothing\n//! step: R2\n").expect("ok");
        assert_eq!(info.also_fails, []);
        assert!(
            text.contains("        // Replication Step2\n    }\n"),
            "{text}"
        );
    }

    #[test]
    fn mutant_header_errors_name_the_line() {
        let cases = [
            (
                "//! step: E1\nx\n",
                "mutant line 1: the header has no `//! mutant:",
            ),
            (
                "//! mutant: m\nx\n",
                "mutant line 1: the header has no `//! step:",
            ),
            ("x\n", "mutant line 1: the header has no `//! mutant:"),
            (
                "//! mutant: m\n//! step: E9\n",
                "mutant line 2: unknown step \"E9\"",
            ),
            (
                "//! mutant: m\n//! step: E1\n//! also-fails: E2, liveness\n",
                "mutant line 3: in `also-fails:`: unknown step \"liveness\"",
            ),
            (
                "//! mutant: m\n//! step: E1\n//! also-fails: E1\n",
                "mutant line 3: `also-fails:` names Election Step1",
            ),
            (
                "//! mutant: m\n//! step: E1\n//! step: E2\n",
                "mutant line 3: `step:` is given twice",
            ),
            (
                "//! mutant:\n//! step: E1\n",
                "mutant line 1: `mutant:` needs a description",
            ),
            (
                "//! mutant: m\n//! steps: E1\n",
                "mutant line 2: unknown header key `steps:`",
            ),
            (
                "//! mutant: m\n//! just words\n",
                "mutant line 2: expected `//! key: value`",
            ),
            (
                "//! alternative: a\n//! step: E1\n//! also-fails: E2\n",
                "mutant line 3: an alternative is a correct answer",
            ),
            (
                "//! mutant: m\n//! alternative: a\n//! step: E1\n",
                "mutant line 2: a file is one mutant or one alternative",
            ),
            (
                "//! mutant: m\n//! step: E1\nx\n//<<< RaftLab Election Step1\n",
                "mutant line 4: a mutant body cannot contain region markers",
            ),
        ];
        for (mutant, expected) in cases {
            let error = apply_mutant(FIXTURE, mutant).expect_err(mutant);
            assert!(
                error.starts_with(expected),
                "mutant {mutant:?}\n  got:  {error}\n  want: {expected}"
            );
        }
        let error = apply_mutant("broken\n", MUTANT).expect_err("bad reference");
        assert!(error.starts_with("reference line 1: "), "{error}");
    }

    #[test]
    fn first_difference_reports_line_and_both_sides() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        assert_eq!(first_difference("", ""), None);
        assert_eq!(
            first_difference("a\nb\nc\n", "a\nB\nc\n"),
            Some((2, Some("b"), Some("B")))
        );
        assert_eq!(
            first_difference("a\n", "a\nb\n"),
            Some((2, None, Some("b")))
        );
        assert_eq!(
            first_difference("a\nb\n", "a\n"),
            Some((2, Some("b"), None))
        );
        // Only the line ending differs: still a difference, on that line.
        assert_eq!(
            first_difference("a\nb\n", "a\r\nb\n"),
            Some((1, Some("a"), Some("a")))
        );
        assert_eq!(
            first_difference("a\nb\n", "a\nb"),
            Some((2, Some("b"), Some("b")))
        );
    }
}
