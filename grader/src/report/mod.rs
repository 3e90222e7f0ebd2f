//! The report of a grading run: per-step verdicts built from the cases'
//! results, printed as a table for the student, and written for machines
//! (Gradescope's `results.json`, JUnit XML, `RAFTLAB ...` lines).
//!
//! ```text
//! Election     Step1  tick advances the election clock      PASS
//!              Step3  become candidate                      FAIL  e3::becomes_candidate_of_next_term: ...
//!                     replay: ./raftlab_test.sh --case e3::becomes_candidate_of_next_term --seed 0x0 --trace
//!                     hint:   ./raftlab_test.sh --hint E3
//!              Step4  campaign sends MsgVote                TODO
//!              Step6  win the election and lead             BLOCKED BY Election Step4
//! Scenarios    election (6 × 100 seeds)                     PASS
//! Score 62/100 · 4.1 s
//! ```
//!
//! An item's verdict: FAIL if any case failed (the first in registry order
//! is shown), else TIMEOUT if any ran out of time, else TODO if a case
//! reached the item's own `todo!()`, else BLOCKED BY the earliest step
//! whose `todo!()` a case reached, else PASS. An item with no case is NO
//! CASES, which is not a pass either: nothing was checked.

pub mod gradescope;
pub mod hints;
pub mod junit;
pub mod timeline;
pub mod weights;

use std::fmt::Write as _;
use std::time::Duration;

use crate::exec::judge::{CaseResult, Status};
use crate::model::{Kind, Part, Step};

/// What gets a verdict and points: one step, one part's scenarios, or a
/// part's scenarios on the instructor's hidden seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Graded {
    Step(Step),
    Scenarios(Part),
    Hidden(Part),
    /// A part's search: every schedule of a small cluster.
    Search(Part),
}

impl Graded {
    pub fn part(self) -> Part {
        match self {
            Graded::Step(step) => step.part(),
            Graded::Scenarios(part) | Graded::Hidden(part) | Graded::Search(part) => part,
        }
    }
}

/// Who sees an item's result on Gradescope: hidden seeds are shown only
/// once grades are published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    Visible,
    AfterPublished,
}

impl Visibility {
    /// Gradescope's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::AfterPublished => "after_published",
        }
    }
}

/// The verdict of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Timeout,
    /// A case reached this step's own `todo!()`.
    Todo,
    Blocked(Step),
    /// No case of this item was run: nothing is known, so no points.
    NoCases,
}

impl Verdict {
    /// `PASS`, `BLOCKED BY Election Step3`, ...
    pub fn text(self) -> String {
        match self {
            Verdict::Pass => "PASS".to_string(),
            Verdict::Fail => "FAIL".to_string(),
            Verdict::Timeout => "TIMEOUT".to_string(),
            Verdict::Todo => "TODO".to_string(),
            Verdict::Blocked(step) => format!("BLOCKED BY {step}"),
            Verdict::NoCases => "NO CASES".to_string(),
        }
    }

    /// The word of a `--machine` line: `PASS`, `BLOCKED E3`, ...
    pub fn machine_text(self) -> String {
        match self {
            Verdict::Blocked(step) => format!("BLOCKED {}", step.short_name()),
            Verdict::NoCases => "NOCASES".to_string(),
            other => other.text(),
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Verdict::Pass => "\x1b[32m",
            Verdict::Fail => "\x1b[31m",
            Verdict::Timeout => "\x1b[35m",
            Verdict::Todo | Verdict::Blocked(_) => "\x1b[33m",
            Verdict::NoCases => "\x1b[2m",
        }
    }
}

/// An item to grade: what, its title and points, and who sees it.
#[derive(Clone, Debug)]
pub struct Item {
    pub graded: Graded,
    /// A few words: `become candidate`.
    pub title: String,
    pub points: u32,
    pub visibility: Visibility,
    /// The seeds its cases ran, for the row: `100 seeds`, `seed 0x2a`.
    pub seeds: String,
}

impl Item {
    /// The item of a step or of a part's scenarios, with the committed
    /// weights.
    pub fn weighted(graded: Graded, seeds: &str) -> Item {
        let track = match graded {
            Graded::Step(step) => step.track(),
            Graded::Scenarios(Part::Deep) | Graded::Hidden(Part::Deep) => crate::model::Track::Deep,
            Graded::Scenarios(_) | Graded::Hidden(_) | Graded::Search(_) => {
                crate::model::Track::Core
            }
        };
        let w = weights::weights_of(track);
        let weight = match graded {
            Graded::Step(step) => w.step(step),
            Graded::Scenarios(part) | Graded::Hidden(part) => w.scenarios(part),
            Graded::Search(part) => w.search(part),
        };
        Item {
            graded,
            title: weight.title.clone(),
            points: weight.points,
            visibility: Visibility::Visible,
            seeds: seeds.to_string(),
        }
    }
}

/// One item with its verdict.
#[derive(Clone, Debug)]
pub struct ItemResult {
    pub item: Item,
    pub verdict: Verdict,
    /// Indexes into [`Report::results`] of this item's cases, in registry
    /// order.
    pub cases: Vec<usize>,
    /// The case that decided a verdict other than PASS.
    pub decisive: Option<usize>,
}

impl ItemResult {
    pub fn earned(&self) -> u32 {
        if self.verdict == Verdict::Pass {
            self.item.points
        } else {
            0
        }
    }
}

/// How a report names things.
#[derive(Clone, Debug)]
pub struct ReportSettings {
    /// What a student types to run the grader: `./raftlab_test.sh`.
    /// Replay and hint lines start with it.
    pub command: String,
    /// Print a hint command under a failing step.
    pub hints: bool,
    /// A line every report carries (how it was graded), if any.
    pub notice: Option<String>,
}

/// A whole grading run.
#[derive(Clone, Debug)]
pub struct Report {
    pub items: Vec<ItemResult>,
    pub results: Vec<CaseResult>,
    pub elapsed: Duration,
    pub settings: ReportSettings,
}

/// How many lines of a failing run's output the terminal shows.
const TERMINAL_OUTPUT_LINES: usize = 8;

/// The widths of the table's first two columns: `Replication  `, `Step3  `.
const PART_WIDTH: usize = 13;
const STEP_WIDTH: usize = 7;

fn width(text: &str) -> usize {
    text.chars().count()
}

fn pad(text: &str, to: usize) -> String {
    let mut padded = text.to_string();
    padded.extend(std::iter::repeat_n(' ', to.saturating_sub(width(text))));
    padded
}

/// The item `kind`'s case counts towards, when `hidden` seeds ran it.
pub fn graded_of(kind: Kind, hidden: bool) -> Graded {
    match kind {
        Kind::Step(step) => Graded::Step(step),
        Kind::Scenario(part) if hidden => Graded::Hidden(part),
        Kind::Scenario(part) => Graded::Scenarios(part),
        Kind::Search(part) => Graded::Search(part),
    }
}

/// The verdict of cases with these statuses, and the index (into
/// `statuses`) of the one that decided it.
pub fn combine(statuses: &[&Status], own: Option<Step>) -> (Verdict, Option<usize>) {
    let first = |wanted: &dyn Fn(&Status) -> bool| statuses.iter().position(|s| wanted(s));
    if statuses.is_empty() {
        return (Verdict::NoCases, None);
    }
    if let Some(i) = first(&|s| *s == Status::Fail) {
        return (Verdict::Fail, Some(i));
    }
    if let Some(i) = first(&|s| *s == Status::Timeout) {
        return (Verdict::Timeout, Some(i));
    }
    if let Some(i) = first(&|s| *s == Status::Todo) {
        return (Verdict::Todo, Some(i));
    }
    let blocker = statuses
        .iter()
        .filter_map(|s| match s {
            Status::Blocked(step) if Some(*step) != own => Some(*step),
            _ => None,
        })
        .min();
    if let Some(step) = blocker {
        return (
            Verdict::Blocked(step),
            first(&|s| *s == Status::Blocked(step)),
        );
    }
    (Verdict::Pass, None)
}

impl Report {
    /// Builds the verdicts of `items` from `results`: each result counts
    /// towards the item `graded` names for it.
    pub fn new(
        items: Vec<Item>,
        results: Vec<(Graded, CaseResult)>,
        elapsed: Duration,
        settings: ReportSettings,
    ) -> Report {
        let (graded_of_result, results): (Vec<Graded>, Vec<CaseResult>) =
            results.into_iter().unzip();
        let items = items
            .into_iter()
            .map(|item| {
                let cases: Vec<usize> = (0..results.len())
                    .filter(|&i| graded_of_result[i] == item.graded)
                    .collect();
                let statuses: Vec<&Status> = cases.iter().map(|&i| &results[i].status).collect();
                let own = match item.graded {
                    Graded::Step(step) => Some(step),
                    Graded::Scenarios(_) | Graded::Hidden(_) | Graded::Search(_) => None,
                };
                let (verdict, decisive) = combine(&statuses, own);
                ItemResult {
                    item,
                    verdict,
                    decisive: decisive.map(|d| cases[d]),
                    cases,
                }
            })
            .collect();
        Report {
            items,
            results,
            elapsed,
            settings,
        }
    }

    /// Whether every item passed.
    pub fn passed(&self) -> bool {
        self.items.iter().all(|item| item.verdict == Verdict::Pass)
    }

    /// Points earned and points available.
    pub fn score(&self) -> (u32, u32) {
        self.items.iter().fold((0, 0), |(got, max), item| {
            (got + item.earned(), max + item.item.points)
        })
    }

    /// `election (6 × 100 seeds)`: every scenario of the part, whether or
    /// not all of them ran (an item's runs stop at its first failure).
    fn scenario_label(&self, item: &ItemResult, part: Part) -> String {
        match (
            item.cases.len(),
            crate::registry::scenarios_of(part).count(),
        ) {
            (0, _) => part.slug().to_string(),
            (_, n) => format!("{} ({n} × {})", part.slug(), item.item.seeds),
        }
    }

    /// `election (3 nodes, depth 12, 1.2 M states)`: what each search saw,
    /// once it could run (a search stopped by a hole saw nothing).
    fn search_label(&self, item: &ItemResult, part: Part) -> String {
        if matches!(item.verdict, Verdict::Todo | Verdict::Blocked(_)) {
            return part.slug().to_string();
        }
        let seen: Vec<String> = item
            .cases
            .iter()
            .filter_map(|&i| self.results[i].summary.clone())
            .collect();
        if seen.is_empty() {
            part.slug().to_string()
        } else {
            format!("{} ({})", part.slug(), seen.join("; "))
        }
    }

    /// What follows the verdict on the item's row.
    fn summary(&self, item: &ItemResult) -> String {
        let Some(index) = item.decisive else {
            return String::new();
        };
        let result = &self.results[index];
        let first_line = result.message.lines().next().unwrap_or_default();
        if matches!(item.verdict, Verdict::Todo) {
            return String::new();
        }
        if let Verdict::Blocked(_) = item.verdict {
            // Why the case needs the other step, in one clause.
            let why = first_line.split_once(": ").map_or("", |(_, why)| why);
            return format!("({why})");
        }
        let shrunk = match &result.shrunk {
            Some(s) if s.to < s.from => {
                format!(" (shrunk from {} to {} events)", s.from, s.to)
            }
            Some(s) => format!(" ({} events, none could be left out)", s.to),
            None => String::new(),
        };
        let first_line = match &result.shrunk {
            Some(s) => s.message.lines().next().unwrap_or_default(),
            None => first_line,
        };
        match (result.case.kind, result.seed) {
            (Kind::Scenario(_), Some(seed)) => {
                format!("{} seed {seed}: {first_line}{shrunk}", result.case.name)
            }
            _ => format!("{}: {first_line}{shrunk}", result.case.name),
        }
    }

    /// The replay command of a result.
    pub fn replay_command(&self, result: &CaseResult) -> String {
        let mut command = format!("{} --case {}", self.settings.command, result.case.name);
        if let Some(seed) = result.seed {
            let _ = write!(command, " --seed {seed}");
        }
        command.push_str(" --trace");
        command
    }

    /// The lines under a row that did not pass: the rest of the message,
    /// the replay command, the hint command, and the end of what the run
    /// printed (at most `output_lines` lines).
    fn details(&self, item: &ItemResult, output_lines: usize) -> Vec<String> {
        let Some(index) = item.decisive else {
            return Vec::new();
        };
        if matches!(item.verdict, Verdict::Blocked(_) | Verdict::Todo) {
            return Vec::new();
        }
        let result = &self.results[index];
        let message = result
            .shrunk
            .as_ref()
            .map_or(&result.message, |s| &s.message);
        let mut lines: Vec<String> = message.lines().skip(1).map(str::to_string).collect();
        lines.push(format!("replay: {}", self.replay_command(result)));
        if let Some(why) = &result.not_shrunk {
            lines.push(format!("not shrunk: {why}"));
        }
        if let Some(s) = &result.shrunk
            && s.to < s.from
        {
            lines.push(format!(
                "shrunk: the same failure in {} of the run's {} events; the replay's trace shows both runs, the timeline the shrunk one",
                s.to, s.from
            ));
        }
        if let (true, Graded::Step(step)) = (self.settings.hints, item.item.graded) {
            lines.push(format!(
                "hint:   {} --hint {}",
                self.settings.command,
                step.short_name()
            ));
        }
        if !result.output.is_empty() {
            let tail = &result.output;
            let shown = &tail[tail.len().saturating_sub(output_lines)..];
            if shown.len() == tail.len() {
                lines.push("what your code printed:".to_string());
            } else {
                lines.push(format!(
                    "what your code printed (the last {} lines):",
                    shown.len()
                ));
            }
            lines.extend(shown.iter().map(|line| format!("| {line}")));
        }
        lines
    }

    fn title_width(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i.item.graded, Graded::Step(_)))
            .map(|i| width(&i.item.title))
            .max()
            .unwrap_or(0)
            + 2
    }

    /// The table a student reads, ending with the score (and the wall
    /// time, with `show_time`). ANSI colours on the verdicts with `colour`.
    pub fn table(&self, colour: bool, show_time: bool) -> String {
        let title_width = self.title_width().max(24);
        let indent = " ".repeat(PART_WIDTH + STEP_WIDTH);
        let mut out = String::new();
        if let Some(notice) = &self.settings.notice {
            let _ = writeln!(out, "{notice}");
        }
        let mut last_group: Option<String> = None;
        for item in &self.items {
            let (group, label) = match item.item.graded {
                Graded::Step(step) => {
                    let step_word = step.name().rsplit(' ').next().unwrap_or_default();
                    (
                        step.part().to_string(),
                        format!(
                            "{}{}",
                            pad(step_word, STEP_WIDTH),
                            pad(&item.item.title, title_width)
                        ),
                    )
                }
                Graded::Scenarios(part) => (
                    "Scenarios".to_string(),
                    pad(&self.scenario_label(item, part), STEP_WIDTH + title_width),
                ),
                Graded::Hidden(part) => (
                    "Hidden".to_string(),
                    pad(&self.scenario_label(item, part), STEP_WIDTH + title_width),
                ),
                Graded::Search(part) => (
                    "Search".to_string(),
                    pad(&self.search_label(item, part), STEP_WIDTH + title_width),
                ),
            };
            let group_cell = if last_group.as_ref() == Some(&group) {
                String::new()
            } else {
                group.clone()
            };
            last_group = Some(group);
            let verdict = item.verdict.text();
            let verdict = if colour {
                format!("{}{verdict}\x1b[0m", item.verdict.colour())
            } else {
                verdict
            };
            let summary = self.summary(item);
            let label = if label.ends_with("  ") {
                label
            } else {
                format!("{}  ", label.trim_end())
            };
            let mut row = format!("{}{label}{verdict}", pad(&group_cell, PART_WIDTH));
            if !summary.is_empty() {
                let _ = write!(row, "  {summary}");
            }
            out.push_str(row.trim_end());
            out.push('\n');
            for line in self.details(item, TERMINAL_OUTPUT_LINES) {
                out.push_str(format!("{indent}{line}").trim_end());
                out.push('\n');
            }
        }
        let (got, max) = self.score();
        let _ = write!(out, "Score {got}/{max}");
        if show_time {
            let _ = write!(out, " · {:.1} s", self.elapsed.as_secs_f64());
        }
        out.push('\n');
        out
    }

    /// One line per item for tools: `RAFTLAB STEP E3 FAIL`, `RAFTLAB STEP
    /// E4 BLOCKED E3`, `RAFTLAB SCENARIO election PASS`, `RAFTLAB HIDDEN
    /// election PASS`, and a last `RAFTLAB SCORE 62 100`.
    pub fn machine_lines(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            let (kind, name) = match item.item.graded {
                Graded::Step(step) => ("STEP", step.short_name()),
                Graded::Scenarios(part) => ("SCENARIO", part.slug()),
                Graded::Hidden(part) => ("HIDDEN", part.slug()),
                Graded::Search(part) => ("SEARCH", part.slug()),
            };
            let _ = writeln!(out, "RAFTLAB {kind} {name} {}", item.verdict.machine_text());
        }
        let (got, max) = self.score();
        let _ = writeln!(out, "RAFTLAB SCORE {got} {max}");
        out
    }

    /// The traces recorded by the runs (a replay): one numbered line per
    /// event, then the library's log lines if any.
    pub fn traces(&self) -> String {
        let mut out = String::new();
        for result in &self.results {
            let seed = result
                .seed
                .map(|seed| format!(", seed {seed}"))
                .unwrap_or_default();
            if result.trace.is_empty() {
                if !result.passed() {
                    let _ = writeln!(
                        out,
                        "trace of {}{seed}: no events recorded\n",
                        result.case.name
                    );
                }
                continue;
            }
            let _ = writeln!(
                out,
                "trace of {}{seed} ({}):",
                result.case.name,
                crate::model::count(result.trace.len() as u64, "event")
            );
            let number_width = result.trace.len().to_string().len();
            for (i, line) in result.trace.iter().enumerate() {
                let _ = writeln!(out, "  {:>number_width$}  {line}", i + 1);
            }
            out.push('\n');
            if let Some(s) = &result.shrunk {
                let _ = writeln!(
                    out,
                    "the same failure, shrunk from {} to {} events ({} runs tried), one event per tick ({} lines):",
                    s.from,
                    s.to,
                    s.runs,
                    s.trace.len()
                );
                let number_width = s.trace.len().to_string().len();
                for (i, line) in s.trace.iter().enumerate() {
                    let _ = writeln!(out, "  {:>number_width$}  {line}", i + 1);
                }
                out.push('\n');
            }
        }
        out
    }

    /// The name of an item on Gradescope and in JUnit: `Election Step3:
    /// become candidate`, `Election scenarios (6 × 100 seeds)`.
    pub fn item_name(&self, item: &ItemResult) -> String {
        let counts = |part: Part| {
            let label = self.scenario_label(item, part);
            label
                .strip_prefix(part.slug())
                .unwrap_or_default()
                .to_string()
        };
        match item.item.graded {
            Graded::Step(step) => format!("{step}: {}", item.item.title),
            Graded::Scenarios(part) => format!("{part} scenarios{}", counts(part)),
            Graded::Hidden(part) => format!("{part} scenarios, hidden seeds{}", counts(part)),
            Graded::Search(part) => {
                let label = self.search_label(item, part);
                format!(
                    "{part} search{}",
                    label.strip_prefix(part.slug()).unwrap_or_default()
                )
            }
        }
    }

    /// Everything about an item, for files: the verdict with its summary and
    /// all details, with all the output kept.
    pub fn item_output(&self, item: &ItemResult) -> String {
        let mut out = item.verdict.text();
        let summary = self.summary(item);
        if !summary.is_empty() {
            let _ = write!(out, "  {summary}");
        }
        out.push('\n');
        for line in self.details(item, usize::MAX) {
            let _ = writeln!(out, "  {line}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_fails_before_it_times_out_before_it_is_todo_before_it_is_blocked() {
        let (fail, timeout, todo) = (Status::Fail, Status::Timeout, Status::Todo);
        let (b3, b2, pass) = (
            Status::Blocked(Step::Election3),
            Status::Blocked(Step::Election2),
            Status::Pass,
        );
        assert_eq!(
            combine(&[&pass, &b3, &fail], None),
            (Verdict::Fail, Some(2))
        );
        assert_eq!(
            combine(&[&todo, &timeout], None),
            (Verdict::Timeout, Some(1))
        );
        assert_eq!(combine(&[&b3, &todo], None), (Verdict::Todo, Some(1)));
        assert_eq!(
            combine(&[&b3, &b2, &pass], None),
            (Verdict::Blocked(Step::Election2), Some(1))
        );
        assert_eq!(combine(&[&pass, &pass], None), (Verdict::Pass, None));
        assert_eq!(combine(&[], None), (Verdict::NoCases, None));
    }
}
