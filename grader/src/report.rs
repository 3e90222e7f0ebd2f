//! The report of a grading run: per-step verdicts built from the cases'
//! results, printed as a table for the student, and written for machines
//! (Gradescope's `results.json`, JUnit XML, `RAFTLAB STEP ...` lines).
//!
//! ```text
//! Election     Step1  tick advances the election clock      PASS
//!              Step3  become candidate                      FAIL  e3::term_increments: term: got 1, want 2
//!                     replay: ./raftlab_test.sh --case e3::term_increments --seed 0x0 --trace
//!              Step4  campaign sends MsgVote                BLOCKED BY Election Step3
//! Scenarios    election (6 × 100 seeds)                     PASS
//! Score 62/100 · 4.1 s
//! ```
//!
//! A step's verdict: FAIL if any case failed (the first one in registry
//! order is shown), else TIMEOUT if any ran out of time, else BLOCKED BY the
//! earliest step whose `todo!()` a case reached, else PASS. A step with no
//! case at all is NO CASES, which is not a pass either: nothing was checked.

use std::fmt::Write as _;
use std::time::Duration;

use crate::case::{Kind, Part};
use crate::hidden::HiddenResult;
use crate::runner::{self, CaseResult, SeedRange, Status};
use crate::skeleton::Step;
use crate::weights::{self, Weight};

/// What gets a verdict and points: one step, or one part's scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Graded {
    Step(Step),
    Scenarios(Part),
}

impl Graded {
    /// The item a case counts towards.
    pub fn of(kind: Kind) -> Graded {
        match kind {
            Kind::Step(step) => Graded::Step(step),
            Kind::Scenario(part) => Graded::Scenarios(part),
        }
    }

    pub fn part(self) -> Part {
        match self {
            Graded::Step(step) => Part::of(step),
            Graded::Scenarios(part) => part,
        }
    }

    pub fn weight(self) -> &'static Weight {
        match self {
            Graded::Step(step) => weights::weights().step(step),
            Graded::Scenarios(part) => weights::weights().scenarios(part),
        }
    }
}

/// Who sees an item's result on Gradescope: hidden cases will be shown
/// only once grades are published.
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

/// The verdict of a step or a part's scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Timeout,
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
            Verdict::Blocked(_) => "\x1b[33m",
            Verdict::NoCases => "\x1b[2m",
        }
    }
}

/// One graded item with its verdict.
#[derive(Clone, Debug)]
pub struct ItemResult {
    pub graded: Graded,
    pub verdict: Verdict,
    /// Indexes into [`Report::results`] of this item's cases, in registry order.
    pub cases: Vec<usize>,
    /// The case that decided a verdict other than PASS.
    pub decisive: Option<usize>,
    pub visibility: Visibility,
}

/// How a report names things.
#[derive(Clone, Debug)]
pub struct ReportSettings {
    /// What a student types to run the grader: `./raftlab_test.sh`, or
    /// `raftlab test --solution`. Replay lines start with it.
    pub replay_prefix: String,
    /// The seeds scenarios ran, for the scenario rows.
    pub seeds: SeedRange,
    /// The visibility of every item of this report.
    pub visibility: Visibility,
}

/// A whole grading run.
#[derive(Clone, Debug)]
pub struct Report {
    pub items: Vec<ItemResult>,
    pub results: Vec<CaseResult>,
    pub elapsed: Duration,
    pub settings: ReportSettings,
    /// The hidden tests (`--hidden`): in `results.json` (shown after
    /// publishing) and the machine lines, never in the table.
    pub hidden: Vec<HiddenResult>,
}

/// How many lines of a failing run's own stdout, and of its stderr, the
/// terminal shows; the files get all that was kept.
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

impl Report {
    /// Builds the verdicts of `items` from `results` (in registry order).
    pub fn new(
        items: Vec<Graded>,
        results: Vec<CaseResult>,
        elapsed: Duration,
        settings: ReportSettings,
    ) -> Report {
        let items = items
            .into_iter()
            .map(|graded| {
                let cases: Vec<usize> = (0..results.len())
                    .filter(|&i| Graded::of(results[i].case.kind) == graded)
                    .collect();
                let first = |wanted: &dyn Fn(Status) -> bool| {
                    cases.iter().copied().find(|&i| wanted(results[i].status))
                };
                let blocker = cases
                    .iter()
                    .filter_map(|&i| match results[i].status {
                        Status::Blocked(step) => Some(step),
                        _ => None,
                    })
                    .min();
                let (verdict, decisive) = if cases.is_empty() {
                    (Verdict::NoCases, None)
                } else if let Some(i) = first(&|s| s == Status::Fail) {
                    (Verdict::Fail, Some(i))
                } else if let Some(i) = first(&|s| s == Status::Timeout) {
                    (Verdict::Timeout, Some(i))
                } else if let Some(step) = blocker {
                    (
                        Verdict::Blocked(step),
                        first(&|s| s == Status::Blocked(step)),
                    )
                } else {
                    (Verdict::Pass, None)
                };
                ItemResult {
                    graded,
                    verdict,
                    cases,
                    decisive,
                    visibility: settings.visibility,
                }
            })
            .collect();
        Report {
            items,
            results,
            elapsed,
            settings,
            hidden: Vec::new(),
        }
    }

    /// Whether every item passed.
    pub fn passed(&self) -> bool {
        self.items.iter().all(|item| item.verdict == Verdict::Pass)
    }

    /// Points earned and points available over the items of this report.
    pub fn score(&self) -> (u32, u32) {
        self.items.iter().fold((0, 0), |(got, max), item| {
            let points = item.graded.weight().points;
            let earned = if item.verdict == Verdict::Pass {
                points
            } else {
                0
            };
            (got + earned, max + points)
        })
    }

    /// `election (6 × 100 seeds)`.
    fn scenario_label(&self, item: &ItemResult, part: Part) -> String {
        let count = item.cases.len();
        match (count, self.settings.seeds) {
            (0, _) => part.slug().to_string(),
            (n, SeedRange::One(seed)) => {
                format!("{} ({n} × seed {})", part.slug(), runner::format_seed(seed))
            }
            (n, SeedRange::Count(1)) => format!("{} ({n} × 1 seed)", part.slug()),
            (n, SeedRange::Count(seeds)) => format!("{} ({n} × {seeds} seeds)", part.slug()),
        }
    }

    /// What follows the verdict on the item's row.
    fn summary(&self, item: &ItemResult) -> String {
        let Some(index) = item.decisive else {
            return String::new();
        };
        let result = &self.results[index];
        if matches!(item.verdict, Verdict::Blocked(_)) {
            return String::new();
        }
        let first_line = result.message.lines().next().unwrap_or_default();
        match (result.case.kind, result.seed) {
            (Kind::Scenario(_), Some(seed)) => format!(
                "{} seed {}: {first_line}",
                result.case.name,
                runner::format_seed(seed)
            ),
            _ => format!("{}: {first_line}", result.case.name),
        }
    }

    /// The replay command of a result.
    pub fn replay_command(&self, result: &CaseResult) -> String {
        let mut command = format!(
            "{} --case {}",
            self.settings.replay_prefix, result.case.name
        );
        if let Some(seed) = result.seed {
            let _ = write!(command, " --seed {}", runner::format_seed(seed));
        }
        command.push_str(" --trace");
        command
    }

    /// The lines under a row that did not pass: the rest of the message,
    /// the replay command, where the run left the reference's, and the end
    /// of what the run printed (at most `output_lines` lines).
    fn details(&self, item: &ItemResult, output_lines: usize) -> Vec<String> {
        let Some(index) = item.decisive else {
            return Vec::new();
        };
        if matches!(item.verdict, Verdict::Blocked(_)) {
            return Vec::new();
        }
        let result = &self.results[index];
        let mut lines: Vec<String> = result.message.lines().skip(1).map(str::to_string).collect();
        lines.push(format!("replay: {}", self.replay_command(result)));
        if let Some(divergence) = &result.divergence {
            lines.push(divergence.clone());
        }
        for (stream, tail) in [
            ("stdout", &result.stdout_tail),
            ("stderr", &result.stderr_tail),
        ] {
            if tail.is_empty() {
                continue;
            }
            let shown = &tail[tail.len().saturating_sub(output_lines)..];
            if shown.len() == tail.len() {
                lines.push(format!("{stream} of the run:"));
            } else {
                lines.push(format!(
                    "{stream} of the run (its last {} lines):",
                    shown.len()
                ));
            }
            lines.extend(shown.iter().map(|line| format!("| {line}")));
        }
        lines
    }

    fn title_width(&self) -> usize {
        Step::ALL
            .iter()
            .map(|&step| width(&Graded::Step(step).weight().title))
            .max()
            .unwrap_or(0)
            + 2
    }

    /// The table a student reads, ending with the score (and the wall
    /// time, with `show_time`). ANSI colours on the verdicts with `colour`.
    pub fn table(&self, colour: bool, show_time: bool) -> String {
        let title_width = self.title_width();
        let indent = " ".repeat(PART_WIDTH + STEP_WIDTH);
        let mut out = String::new();
        let mut last_group: Option<String> = None;
        for item in &self.items {
            let (group, label) = match item.graded {
                Graded::Step(step) => {
                    let step_word = step.name().rsplit(' ').next().unwrap_or_default();
                    (
                        Part::of(step).to_string(),
                        format!(
                            "{}{}",
                            pad(step_word, STEP_WIDTH),
                            pad(&item.graded.weight().title, title_width)
                        ),
                    )
                }
                Graded::Scenarios(part) => (
                    "Scenarios".to_string(),
                    pad(&self.scenario_label(item, part), STEP_WIDTH + title_width),
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

    /// One line per item for tools: `RAFTLAB STEP E3 FAIL`,
    /// `RAFTLAB STEP E4 BLOCKED E3`, `RAFTLAB SCENARIO election PASS`, and
    /// a last `RAFTLAB SCORE 62 100`.
    pub fn machine_lines(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            let (kind, name) = match item.graded {
                Graded::Step(step) => ("STEP", step.short_name()),
                Graded::Scenarios(part) => ("SCENARIO", part.slug()),
            };
            let _ = writeln!(out, "RAFTLAB {kind} {name} {}", item.verdict.machine_text());
        }
        for hidden in &self.hidden {
            let _ = writeln!(
                out,
                "RAFTLAB HIDDEN {} {}",
                hidden.test.key,
                hidden.verdict.machine_text()
            );
        }
        let (got, max) = self.score_with_hidden();
        let _ = writeln!(out, "RAFTLAB SCORE {got} {max}");
        out
    }

    /// [`Report::score`] plus the hidden tests' points.
    pub fn score_with_hidden(&self) -> (u32, u32) {
        let (got, max) = self.score();
        self.hidden.iter().fold((got, max), |(got, max), hidden| {
            (got + hidden.earned(), max + hidden.test.points)
        })
    }

    /// The traces recorded by the runs (a replay): one numbered line per
    /// event.
    pub fn traces(&self) -> String {
        let mut out = String::new();
        for result in &self.results {
            let seed = result
                .seed
                .or(match self.settings.seeds {
                    SeedRange::One(seed) => Some(seed),
                    SeedRange::Count(_) => None,
                })
                .map(|seed| format!(", seed {}", runner::format_seed(seed)))
                .unwrap_or_default();
            if result.trace.is_empty() {
                let _ = writeln!(
                    out,
                    "trace of {}{seed}: no events recorded\n",
                    result.case.name
                );
                continue;
            }
            let _ = writeln!(
                out,
                "trace of {}{seed} ({} events):",
                result.case.name,
                result.trace.len()
            );
            let number_width = result.trace.len().to_string().len();
            for (i, line) in result.trace.iter().enumerate() {
                let _ = writeln!(out, "  {:>number_width$}  {line}", i + 1);
            }
            out.push('\n');
        }
        out
    }

    /// The name of an item on Gradescope and in JUnit:
    /// `Election Step3: become candidate`, `Election scenarios (6 × 100 seeds)`.
    pub fn item_name(&self, item: &ItemResult) -> String {
        match item.graded {
            Graded::Step(step) => format!("{step}: {}", item.graded.weight().title),
            Graded::Scenarios(part) => {
                let label = self.scenario_label(item, part);
                let counts = label
                    .strip_prefix(part.slug())
                    .unwrap_or_default()
                    .to_string();
                format!("{part} scenarios{counts}")
            }
        }
    }

    /// Everything about an item, for files: the verdict with its summary and
    /// all details, with the whole kept output.
    fn item_output(&self, item: &ItemResult) -> String {
        let mut out = item.verdict.text();
        let summary = self.summary(item);
        if !summary.is_empty() {
            let _ = write!(out, "  {summary}");
        }
        out.push('\n');
        for line in self.details(item, runner::TAIL_LINES) {
            let _ = writeln!(out, "  {line}");
        }
        out
    }

    /// Gradescope's `results.json`: the score, the table as `output`, and
    /// one test per step and per part's scenarios.
    pub fn gradescope_json(&self) -> String {
        let (got, max) = self.score();
        let mut tests = Vec::new();
        for item in &self.items {
            let points = item.graded.weight().points;
            let earned = if item.verdict == Verdict::Pass {
                points
            } else {
                0
            };
            let status = if item.verdict == Verdict::Pass {
                "passed"
            } else {
                "failed"
            };
            tests.push(format!(
                "    {{\n      \"name\": {},\n      \"score\": {earned},\n      \"max_score\": {points},\n      \
                 \"status\": \"{status}\",\n      \"output\": {},\n      \"visibility\": \"{}\"\n    }}",
                json_string(&self.item_name(item)),
                json_string(&self.item_output(item)),
                item.visibility.as_str()
            ));
        }
        for hidden in &self.hidden {
            let status = if hidden.verdict == Verdict::Pass {
                "passed"
            } else {
                "failed"
            };
            tests.push(format!(
                "    {{\n      \"name\": {},\n      \"score\": {},\n      \"max_score\": {},\n      \
                 \"status\": \"{status}\",\n      \"output\": {},\n      \"visibility\": \"{}\"\n    }}",
                json_string(&hidden.test.title()),
                hidden.earned(),
                hidden.test.points,
                json_string(&hidden.output(&self.settings.replay_prefix)),
                Visibility::AfterPublished.as_str()
            ));
        }
        // With hidden tests, the total is left out: Gradescope then adds up
        // the tests itself, and shows each hidden one only once published.
        // The table in `output` counts the visible tests only.
        let total = if self.hidden.is_empty() {
            format!("\"score\": {got},\n  \"max_score\": {max},\n  ")
        } else {
            String::new()
        };
        format!(
            "{{\n  {total}\"execution_time\": {:.2},\n  \
             \"output\": {},\n  \"visibility\": \"visible\",\n  \"tests\": [\n{}\n  ]\n}}\n",
            self.elapsed.as_secs_f64(),
            json_string(&self.table(false, true)),
            tests.join(",\n")
        )
    }

    /// JUnit XML: one test suite per part, one test case per case run (and
    /// one failing placeholder for an item with no case).
    pub fn junit_xml(&self) -> String {
        let mut suites = String::new();
        let (mut total_tests, mut total_failures) = (0, 0);
        for part in Part::ALL {
            let items: Vec<&ItemResult> = self
                .items
                .iter()
                .filter(|item| item.graded.part() == part)
                .collect();
            if items.is_empty() {
                continue;
            }
            let (mut tests, mut failures, mut time) = (0, 0, 0.0);
            let mut cases = String::new();
            for item in items {
                let classname = match item.graded {
                    Graded::Step(step) => step.name().to_string(),
                    Graded::Scenarios(part) => format!("{part} scenarios"),
                };
                if item.cases.is_empty() {
                    tests += 1;
                    failures += 1;
                    let _ = writeln!(
                        cases,
                        "    <testcase name=\"(no cases)\" classname=\"{}\" time=\"0\">\n      \
                         <failure type=\"NO CASES\" message=\"no case of this item was run\"/>\n    \
                         </testcase>",
                        xml_escape(&classname)
                    );
                    continue;
                }
                for &index in &item.cases {
                    let result = &self.results[index];
                    tests += 1;
                    time += result.elapsed.as_secs_f64();
                    let _ = write!(
                        cases,
                        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                        xml_escape(result.case.name),
                        xml_escape(&classname),
                        result.elapsed.as_secs_f64()
                    );
                    let kind = match result.status {
                        Status::Pass => {
                            cases.push_str("/>\n");
                            continue;
                        }
                        Status::Fail => "FAIL".to_string(),
                        Status::Timeout => "TIMEOUT".to_string(),
                        Status::Blocked(step) => format!("BLOCKED BY {step}"),
                    };
                    failures += 1;
                    let mut body = result.message.clone();
                    let _ = write!(body, "\nreplay: {}", self.replay_command(result));
                    if let Some(divergence) = &result.divergence {
                        let _ = write!(body, "\n{divergence}");
                    }
                    for line in result.stdout_tail.iter().chain(&result.stderr_tail) {
                        let _ = write!(body, "\n| {line}");
                    }
                    let _ = writeln!(
                        cases,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                        xml_escape(&kind),
                        xml_escape(result.message.lines().next().unwrap_or_default()),
                        xml_escape(&body)
                    );
                }
            }
            total_tests += tests;
            total_failures += failures;
            let _ = write!(
                suites,
                "  <testsuite name=\"{part}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" \
                 time=\"{time:.3}\">\n{cases}  </testsuite>\n"
            );
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"raftlab\" tests=\"{total_tests}\" \
             failures=\"{total_failures}\" errors=\"0\" time=\"{:.3}\">\n{suites}</testsuites>\n",
            self.elapsed.as_secs_f64()
        )
    }
}

/// `text` as a JSON string literal.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` escaped for XML text and attribute values. Control characters
/// XML 1.0 cannot hold at all (an ANSI escape a student printed) become
/// `\x1b`-style text.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Case, Ctx, Outcome};

    fn nothing(_: &mut Ctx) -> Outcome {
        Ok(())
    }

    fn case(name: &'static str, kind: Kind) -> Case {
        Case {
            name,
            kind,
            purpose: "a fake case for report tests",
            run: nothing,
        }
    }

    fn result(name: &'static str, kind: Kind, status: Status, message: &str) -> CaseResult {
        CaseResult {
            case: case(name, kind),
            status,
            seed: (status != Status::Pass).then_some(0),
            message: message.to_string(),
            trace: Vec::new(),
            divergence: None,
            stdout_tail: Vec::new(),
            stderr_tail: Vec::new(),
            elapsed: Duration::from_millis(12),
            time_limit: Duration::from_secs(10),
        }
    }

    fn settings() -> ReportSettings {
        ReportSettings {
            replay_prefix: "./raftlab_test.sh".to_string(),
            seeds: SeedRange::Count(100),
            visibility: Visibility::Visible,
        }
    }

    /// E1 passes, E2 has no cases, E3 fails (second case; the first is
    /// blocked), E4 is blocked by E3 and E5 (E3 is earlier), E5 times
    /// out, election scenarios fail at seed 0x17 with output.
    fn sample() -> Report {
        let step = |s| Kind::Step(s);
        let mut scenario = result(
            "election::re_election",
            Kind::Scenario(Part::Election),
            Status::Fail,
            "two leaders in term 4: n1 and n3\nlog of n1: [1, 1, 4]",
        );
        scenario.seed = Some(0x17);
        scenario.stdout_tail = vec!["debug: <n1> & \"n3\"".to_string()];
        scenario.stderr_tail = vec!["warning\u{1b}[0m".to_string()];
        let mut failing = result(
            "e3::term_increments",
            step(Step::Election3),
            Status::Fail,
            "term after become_candidate: got 1, want 2",
        );
        failing.divergence = Some(
            "first difference at event 2: reference `term 1 → 2`, yours `term 1 → 1`".to_string(),
        );
        let results = vec![
            result("e1::tick", step(Step::Election1), Status::Pass, ""),
            result(
                "e3::blocked_first",
                step(Step::Election3),
                Status::Blocked(Step::Election2),
                "reached the todo!() of Election Step2 at raft/src/raft.rs:10",
            ),
            failing,
            result(
                "e4::votes",
                step(Step::Election4),
                Status::Blocked(Step::Election5),
                "reached",
            ),
            result(
                "e4::votes_again",
                step(Step::Election4),
                Status::Blocked(Step::Election3),
                "reached",
            ),
            result(
                "e5::loops",
                step(Step::Election5),
                Status::Timeout,
                "did not finish within its 10 s limit: an endless loop, or a livelock?",
            ),
            scenario,
        ];
        let items = vec![
            Graded::Step(Step::Election1),
            Graded::Step(Step::Election2),
            Graded::Step(Step::Election3),
            Graded::Step(Step::Election4),
            Graded::Step(Step::Election5),
            Graded::Step(Step::Replication1),
            Graded::Scenarios(Part::Election),
        ];
        Report::new(items, results, Duration::from_millis(4100), settings())
    }

    #[test]
    fn verdicts_aggregate_in_order_of_severity() {
        let report = sample();
        let verdicts: Vec<Verdict> = report.items.iter().map(|i| i.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Pass,
                Verdict::NoCases,
                Verdict::Fail,
                Verdict::Blocked(Step::Election3),
                Verdict::Timeout,
                Verdict::NoCases,
                Verdict::Fail,
            ]
        );
        assert_eq!(
            report.items[2].decisive,
            Some(2),
            "the failing case, not the blocked one"
        );
        assert_eq!(
            report.items[3].decisive,
            Some(4),
            "the case blocked by the earliest step"
        );
        assert!(!report.passed());
        assert_eq!(report.score(), (5, 5 + 5 + 10 + 10 + 10 + 8 + 8));
    }

    #[test]
    fn table_shows_verdicts_replays_and_output() {
        let table = sample().table(false, true);
        let expected = "\
Election     Step1  tick advances the election clock  PASS
             Step2  a timeout starts an election      NO CASES
             Step3  become candidate                  FAIL  e3::term_increments: term after become_candidate: got 1, want 2
                    replay: ./raftlab_test.sh --case e3::term_increments --seed 0x0 --trace
                    first difference at event 2: reference `term 1 → 2`, yours `term 1 → 1`
             Step4  campaign sends MsgVote            BLOCKED BY Election Step3
             Step5  grant a vote                      TIMEOUT  e5::loops: did not finish within its 10 s limit: an endless loop, or a livelock?
                    replay: ./raftlab_test.sh --case e5::loops --seed 0x0 --trace
Replication  Step1  leader appends proposals          NO CASES
Scenarios    election (1 × 100 seeds)                 FAIL  election::re_election seed 0x17: two leaders in term 4: n1 and n3
                    log of n1: [1, 1, 4]
                    replay: ./raftlab_test.sh --case election::re_election --seed 0x17 --trace
                    stdout of the run:
                    | debug: <n1> & \"n3\"
                    stderr of the run:
                    | warning\u{1b}[0m
Score 5/56 · 4.1 s
";
        assert_eq!(table, expected, "\n{table}");
        let coloured = sample().table(true, false);
        assert!(coloured.contains("\x1b[32mPASS\x1b[0m"), "{coloured}");
        assert!(coloured.contains("\x1b[31mFAIL\x1b[0m"), "{coloured}");
        assert!(coloured.ends_with("Score 5/56\n"), "{coloured}");
    }

    #[test]
    fn machine_lines_name_each_item() {
        assert_eq!(
            sample().machine_lines(),
            "RAFTLAB STEP E1 PASS\nRAFTLAB STEP E2 NOCASES\nRAFTLAB STEP E3 FAIL\n\
             RAFTLAB STEP E4 BLOCKED E3\nRAFTLAB STEP E5 TIMEOUT\nRAFTLAB STEP R1 NOCASES\n\
             RAFTLAB SCENARIO election FAIL\nRAFTLAB SCORE 5 56\n"
        );
    }

    #[test]
    fn a_full_pass_scores_everything() {
        let results = vec![result(
            "r4::commit",
            Kind::Step(Step::Replication4),
            Status::Pass,
            "",
        )];
        let report = Report::new(
            vec![Graded::Step(Step::Replication4)],
            results,
            Duration::ZERO,
            settings(),
        );
        assert!(report.passed());
        assert_eq!(report.score(), (8, 8));
        assert_eq!(
            report.table(false, false),
            "Replication  Step4  commit on a majority of acks      PASS\nScore 8/8\n"
        );
    }

    /// A JSON value, enough to read back what `gradescope_json` writes.
    #[derive(Debug, PartialEq)]
    enum Json {
        Null,
        Bool(bool),
        Number(f64),
        Text(String),
        Array(Vec<Json>),
        Object(Vec<(String, Json)>),
    }

    impl Json {
        fn get(&self, key: &str) -> &Json {
            match self {
                Json::Object(fields) => fields
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v)
                    .unwrap_or_else(|| panic!("no key {key:?} in {self:?}")),
                _ => panic!("{self:?} is not an object"),
            }
        }

        fn text(&self) -> &str {
            match self {
                Json::Text(text) => text,
                _ => panic!("{self:?} is not a string"),
            }
        }

        fn number(&self) -> f64 {
            match self {
                Json::Number(n) => *n,
                _ => panic!("{self:?} is not a number"),
            }
        }
    }

    /// A strict JSON reader (RFC 8259 minus the exotic number forms): it
    /// fails on anything malformed, which is the point.
    struct Reader<'a> {
        text: &'a [u8],
        at: usize,
    }

    impl Reader<'_> {
        fn parse(text: &str) -> Result<Json, String> {
            let mut reader = Reader {
                text: text.as_bytes(),
                at: 0,
            };
            let value = reader.value()?;
            reader.space();
            if reader.at != reader.text.len() {
                return Err(format!("trailing text at byte {}", reader.at));
            }
            Ok(value)
        }

        fn space(&mut self) {
            while self
                .text
                .get(self.at)
                .is_some_and(|b| b" \t\n\r".contains(b))
            {
                self.at += 1;
            }
        }

        fn expect(&mut self, byte: u8) -> Result<(), String> {
            self.space();
            if self.text.get(self.at) == Some(&byte) {
                self.at += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at byte {}", byte as char, self.at))
            }
        }

        fn value(&mut self) -> Result<Json, String> {
            self.space();
            match self.text.get(self.at) {
                Some(b'{') => {
                    self.at += 1;
                    let mut fields = Vec::new();
                    self.space();
                    if self.text.get(self.at) == Some(&b'}') {
                        self.at += 1;
                        return Ok(Json::Object(fields));
                    }
                    loop {
                        self.space();
                        let key = self.string()?;
                        self.expect(b':')?;
                        fields.push((key, self.value()?));
                        self.space();
                        match self.text.get(self.at) {
                            Some(b',') => self.at += 1,
                            Some(b'}') => {
                                self.at += 1;
                                return Ok(Json::Object(fields));
                            }
                            _ => return Err(format!("bad object at byte {}", self.at)),
                        }
                    }
                }
                Some(b'[') => {
                    self.at += 1;
                    let mut items = Vec::new();
                    self.space();
                    if self.text.get(self.at) == Some(&b']') {
                        self.at += 1;
                        return Ok(Json::Array(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.space();
                        match self.text.get(self.at) {
                            Some(b',') => self.at += 1,
                            Some(b']') => {
                                self.at += 1;
                                return Ok(Json::Array(items));
                            }
                            _ => return Err(format!("bad array at byte {}", self.at)),
                        }
                    }
                }
                Some(b'"') => self.string().map(Json::Text),
                Some(b't') if self.text[self.at..].starts_with(b"true") => {
                    self.at += 4;
                    Ok(Json::Bool(true))
                }
                Some(b'f') if self.text[self.at..].starts_with(b"false") => {
                    self.at += 5;
                    Ok(Json::Bool(false))
                }
                Some(b'n') if self.text[self.at..].starts_with(b"null") => {
                    self.at += 4;
                    Ok(Json::Null)
                }
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.at;
                    while self
                        .text
                        .get(self.at)
                        .is_some_and(|b| b"-+.eE0123456789".contains(b))
                    {
                        self.at += 1;
                    }
                    let number = std::str::from_utf8(&self.text[start..self.at])
                        .map_err(|e| e.to_string())?;
                    number
                        .parse()
                        .map(Json::Number)
                        .map_err(|_| format!("bad number {number:?}"))
                }
                _ => Err(format!("unexpected byte at {}", self.at)),
            }
        }

        fn string(&mut self) -> Result<String, String> {
            if self.text.get(self.at) != Some(&b'"') {
                return Err(format!("expected a string at byte {}", self.at));
            }
            self.at += 1;
            let mut bytes = Vec::new();
            loop {
                let byte = *self.text.get(self.at).ok_or("unterminated string")?;
                self.at += 1;
                match byte {
                    b'"' => break,
                    b'\\' => {
                        let escaped = *self.text.get(self.at).ok_or("unterminated escape")?;
                        self.at += 1;
                        let plain = match escaped {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'u' => {
                                let hex = self
                                    .text
                                    .get(self.at..self.at + 4)
                                    .ok_or("short \\u escape")?;
                                self.at += 4;
                                let code = u32::from_str_radix(
                                    std::str::from_utf8(hex).map_err(|e| e.to_string())?,
                                    16,
                                )
                                .map_err(|e| e.to_string())?;
                                char::from_u32(code).ok_or("surrogate escapes are not written")?
                            }
                            other => return Err(format!("bad escape \\{}", other as char)),
                        };
                        let mut buffer = [0u8; 4];
                        bytes.extend_from_slice(plain.encode_utf8(&mut buffer).as_bytes());
                    }
                    byte if byte < 0x20 => {
                        return Err(format!("raw control byte {byte:#x} in a string"));
                    }
                    byte => bytes.push(byte),
                }
            }
            String::from_utf8(bytes).map_err(|e| e.to_string())
        }
    }

    #[test]
    fn gradescope_json_parses_back() {
        let report = sample();
        let text = report.gradescope_json();
        let json = Reader::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(json.get("score").number(), 5.0);
        assert_eq!(json.get("max_score").number(), 56.0);
        assert_eq!(json.get("execution_time").number(), 4.1);
        assert_eq!(json.get("output").text(), report.table(false, true));
        let Json::Array(tests) = json.get("tests") else {
            panic!("tests is not an array");
        };
        assert_eq!(tests.len(), report.items.len());
        let e1 = &tests[0];
        assert_eq!(
            e1.get("name").text(),
            "Election Step1: tick advances the election clock"
        );
        assert_eq!(e1.get("score").number(), 5.0);
        assert_eq!(e1.get("max_score").number(), 5.0);
        assert_eq!(e1.get("status").text(), "passed");
        assert_eq!(e1.get("visibility").text(), "visible");
        let e3 = &tests[2];
        assert_eq!(e3.get("status").text(), "failed");
        assert_eq!(e3.get("score").number(), 0.0);
        let output = e3.get("output").text();
        assert!(
            output.starts_with("FAIL  e3::term_increments: term after"),
            "{output}"
        );
        assert!(
            output.contains(
                "replay: ./raftlab_test.sh --case e3::term_increments --seed 0x0 --trace"
            ),
            "{output}"
        );
        let scenarios = &tests[6];
        assert_eq!(
            scenarios.get("name").text(),
            "Election scenarios (1 × 100 seeds)"
        );
        assert!(
            scenarios
                .get("output")
                .text()
                .contains("| warning\u{1b}[0m"),
            "control characters survive the round trip"
        );
    }

    #[test]
    fn json_strings_escape_everything_json_requires() {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{7} é";
        let literal = json_string(text);
        assert_eq!(
            literal,
            "\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007 é\""
        );
        assert_eq!(Reader::parse(&literal), Ok(Json::Text(text.to_string())));
    }

    #[test]
    fn junit_lists_every_case_and_escapes() {
        let xml = sample().junit_xml();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"raftlab\" tests=\"9\" failures=\"8\""), "{xml}");
        assert!(
            xml.contains("<testsuite name=\"Election\" tests=\"8\" failures=\"7\""),
            "{xml}"
        );
        assert!(xml.contains("<testsuite name=\"Replication\" tests=\"1\" failures=\"1\""));
        assert!(
            xml.contains(
                "<testcase name=\"e1::tick\" classname=\"Election Step1\" time=\"0.012\"/>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<failure type=\"BLOCKED BY Election Step3\" message=\"reached\">"),
            "{xml}"
        );
        assert!(
            xml.contains("| debug: &lt;n1&gt; &amp; &quot;n3&quot;"),
            "{xml}"
        );
        assert!(xml.contains("| warning\\x1b[0m"), "{xml}");
        assert!(!xml.contains('\u{1b}'), "no raw control characters");
        // Every element that opens is closed, in order.
        let mut open: Vec<String> = Vec::new();
        let mut rest = xml.split_once("?>").map(|(_, r)| r).unwrap_or_default();
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').expect("a tag ends") + start;
            let tag = &rest[start + 1..end];
            let name = tag
                .trim_start_matches('/')
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string();
            if tag.starts_with('/') {
                assert_eq!(open.pop().as_deref(), Some(name.as_str()), "{xml}");
            } else if !tag.ends_with('/') {
                open.push(name);
            }
            rest = &rest[end + 1..];
        }
        assert!(open.is_empty(), "unclosed: {open:?}");
    }

    #[test]
    fn xml_escape_covers_markup_and_control_characters() {
        assert_eq!(
            xml_escape("a<b>&\"c\"'\r\u{0}"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;&#13;\\x00"
        );
    }
}
