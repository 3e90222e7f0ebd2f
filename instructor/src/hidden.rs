//! Hidden cases: scenario seeds that only instructors have.
//!
//! Students run the scenarios over seeds `0..100` and can replay any of
//! them, so a submission could, in principle, be tuned to those seeds. When
//! grading, `raftlab test --hidden FILE` (and so `raftlab grade`) also runs
//! the scenarios over the seeds listed in FILE, kept in
//! `solutions/hidden/seeds.txt`, which is never shipped. Each line of FILE
//! is one extra test of `results.json`, with its own points, shown to the
//! student only once grades are published (Gradescope's `after_published`).
//!
//! ```text
//! # KEY          POINTS  SEEDS...
//! election       4       1000..1200  0xdecaf
//! replication    4       5000..5100
//! election::re_election  0  77 78 79
//! ```
//!
//! KEY is a part (`election`, `replication`: all its scenarios) or one
//! scenario's case name. SEEDS are seeds (`42`, `0x2a`) or half-open ranges
//! (`1000..1200`). Each (scenario, seed) runs in its own child process; a
//! scenario stops at its first failing seed, as in a normal run.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::case::{Case, Kind, Part};
use crate::report::Verdict;
use crate::runner::{self, CaseResult, Options, Status};

/// Where the instructors keep the hidden seeds, relative to the root.
pub const HIDDEN_SEEDS: &str = "solutions/hidden/seeds.txt";

/// The most seeds one line may list: a typo like `0..1000000000` must not
/// turn grading into a week's work.
pub const MAX_SEEDS_PER_TEST: u64 = 10_000;

/// One line of the hidden-seeds file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiddenTest {
    /// The key as written: a part or a case name.
    pub key: String,
    pub points: u32,
    pub seeds: Vec<u64>,
    /// The scenarios the key selects, by name.
    pub cases: Vec<&'static str>,
}

impl HiddenTest {
    /// The test's name on Gradescope: `Hidden election scenarios (200 seeds)`.
    pub fn title(&self) -> String {
        let what = match Part::parse(&self.key) {
            Ok(part) => format!("{part} scenarios"),
            Err(_) => format!("scenario {}", self.key),
        };
        let seeds = match self.seeds.len() {
            1 => "1 seed".to_string(),
            n => format!("{n} seeds"),
        };
        format!("Hidden {what} ({seeds})")
    }
}

/// Reads a hidden-seeds file; `cases` are the grader's cases, to check
/// the keys. Errors name the line.
pub fn parse(text: &str, cases: &[Case]) -> Result<Vec<HiddenTest>, String> {
    let mut tests = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let [key, points, seed_words @ ..] = words.as_slice() else {
            return Err(format!(
                "line {number}: expected `KEY POINTS SEEDS...`, got {line:?}"
            ));
        };
        let points: u32 = points
            .parse()
            .map_err(|_| format!("line {number}: points {points:?} is not a whole number"))?;
        if seed_words.is_empty() {
            return Err(format!("line {number}: {key} lists no seeds"));
        }
        let selected: Vec<&'static str> = match Part::parse(key) {
            Ok(part) => cases
                .iter()
                .filter(|c| c.kind == Kind::Scenario(part))
                .map(|c| c.name)
                .collect(),
            Err(_) => match cases.iter().find(|c| c.name == *key) {
                Some(case) if matches!(case.kind, Kind::Scenario(_)) => vec![case.name],
                Some(_) => {
                    return Err(format!(
                        "line {number}: {key} is a step case; hidden seeds are for scenarios"
                    ));
                }
                None => {
                    return Err(format!(
                        "line {number}: {key:?} is neither a part (election, replication) nor a scenario"
                    ));
                }
            },
        };
        let mut seeds: Vec<u64> = Vec::new();
        for word in seed_words {
            match word.split_once("..") {
                Some((start, end)) => {
                    let start =
                        runner::parse_seed(start).map_err(|e| format!("line {number}: {e}"))?;
                    let end = runner::parse_seed(end).map_err(|e| format!("line {number}: {e}"))?;
                    if end <= start {
                        return Err(format!("line {number}: the range {word} is empty"));
                    }
                    if end - start > MAX_SEEDS_PER_TEST {
                        return Err(format!(
                            "line {number}: the range {word} has {} seeds, more than {MAX_SEEDS_PER_TEST}",
                            end - start
                        ));
                    }
                    seeds.extend(start..end);
                }
                None => {
                    seeds.push(runner::parse_seed(word).map_err(|e| format!("line {number}: {e}"))?)
                }
            }
        }
        seeds.sort_unstable();
        seeds.dedup();
        if seeds.len() as u64 > MAX_SEEDS_PER_TEST {
            return Err(format!(
                "line {number}: {} seeds, more than {MAX_SEEDS_PER_TEST}",
                seeds.len()
            ));
        }
        tests.push(HiddenTest {
            key: (*key).to_string(),
            points,
            seeds,
            cases: selected,
        });
    }
    Ok(tests)
}

/// Reads and parses the hidden-seeds file at `path`.
pub fn load(path: &Path, cases: &[Case]) -> Result<Vec<HiddenTest>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the hidden seeds {}: {e}", path.display()))?;
    parse(&text, cases).map_err(|e| format!("{}: {e}", path.display()))
}

/// What one hidden test came to.
#[derive(Clone, Debug)]
pub struct HiddenResult {
    pub test: HiddenTest,
    pub verdict: Verdict,
    /// The result that decided a verdict other than PASS.
    pub decisive: Option<CaseResult>,
    pub elapsed: Duration,
}

impl HiddenResult {
    /// Points earned: all or nothing.
    pub fn earned(&self) -> u32 {
        if self.verdict == Verdict::Pass {
            self.test.points
        } else {
            0
        }
    }

    /// What the student reads once grades are published.
    pub fn output(&self, replay_prefix: &str) -> String {
        let mut out = self.verdict.text();
        if self.test.cases.is_empty() {
            out.push_str("  (no scenario matches this key yet)");
        }
        if let Some(result) = &self.decisive {
            let seed = result.seed.map(runner::format_seed).unwrap_or_default();
            let first = result.message.lines().next().unwrap_or_default();
            out.push_str(&format!("  {} seed {seed}: {first}\n", result.case.name));
            for line in result.message.lines().skip(1) {
                out.push_str(&format!("  {line}\n"));
            }
            if !seed.is_empty() {
                out.push_str(&format!(
                    "  replay: {replay_prefix} --case {} --seed {seed} --trace\n",
                    result.case.name
                ));
            }
        } else {
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for HiddenResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.test.title(), self.verdict.text())
    }
}

/// Runs every hidden test with `program` (see [`runner::run_case`]):
/// each scenario over its seeds, one child per seed, stopping at the first
/// seed that does not pass; up to `options.jobs` scenarios at once.
pub fn run(
    program: &Path,
    cases: &[Case],
    tests: &[HiddenTest],
    options: &Options,
) -> Vec<HiddenResult> {
    tests
        .iter()
        .map(|test| {
            let started = Instant::now();
            let chosen: Vec<Case> = test
                .cases
                .iter()
                .filter_map(|name| cases.iter().find(|c| c.name == *name).copied())
                .collect();
            let outcomes: Vec<Mutex<Option<CaseResult>>> =
                chosen.iter().map(|_| Mutex::new(None)).collect();
            let next = AtomicUsize::new(0);
            thread::scope(|scope| {
                for _ in 0..options.jobs.clamp(1, chosen.len().max(1)) {
                    scope.spawn(|| {
                        loop {
                            let index = next.fetch_add(1, Ordering::SeqCst);
                            let Some(case) = chosen.get(index) else {
                                break;
                            };
                            for &seed in &test.seeds {
                                let one = Options {
                                    only_seed: Some(seed),
                                    trace: false,
                                    html: None,
                                    progress: false,
                                    ..options.clone()
                                };
                                let result = runner::run_case(program, case, &one);
                                if result.status != Status::Pass {
                                    *outcomes[index].lock().unwrap_or_else(|p| p.into_inner()) =
                                        Some(result);
                                    break;
                                }
                            }
                        }
                    });
                }
            });
            let failures: Vec<CaseResult> = outcomes
                .into_iter()
                .filter_map(|slot| slot.into_inner().unwrap_or_else(|p| p.into_inner()))
                .collect();
            let pick = |wanted: &dyn Fn(Status) -> bool| {
                failures.iter().find(|r| wanted(r.status)).cloned()
            };
            let (verdict, decisive) = if chosen.is_empty() {
                (Verdict::NoCases, None)
            } else if let Some(r) = pick(&|s| s == Status::Fail) {
                (Verdict::Fail, Some(r))
            } else if let Some(r) = pick(&|s| s == Status::Timeout) {
                (Verdict::Timeout, Some(r))
            } else if let Some(r) = failures
                .iter()
                .filter(|r| matches!(r.status, Status::Blocked(_)))
                .min_by_key(|r| match r.status {
                    Status::Blocked(step) => Some(step),
                    _ => None,
                })
                .cloned()
            {
                let Status::Blocked(step) = r.status else {
                    unreachable!("filtered to blocked results")
                };
                (Verdict::Blocked(step), Some(r))
            } else {
                (Verdict::Pass, None)
            };
            HiddenResult {
                test: test.clone(),
                verdict,
                decisive,
                elapsed: started.elapsed(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Ctx, Outcome};
    use crate::skeleton::Step;

    fn ok(_: &mut Ctx) -> Outcome {
        Ok(())
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                name: "e1::ticks",
                kind: Kind::Step(Step::Election1),
                purpose: "a step case",
                run: ok,
            },
            Case {
                name: "election::initial",
                kind: Kind::Scenario(Part::Election),
                purpose: "a scenario",
                run: ok,
            },
            Case {
                name: "election::re_election",
                kind: Kind::Scenario(Part::Election),
                purpose: "a scenario",
                run: ok,
            },
            Case {
                name: "replication::basic",
                kind: Kind::Scenario(Part::Replication),
                purpose: "a scenario",
                run: ok,
            },
        ]
    }

    #[test]
    fn parts_ranges_and_single_seeds() {
        let text =
            "# hidden\n\nelection 4 10..13 0x20  # trailing comment\nreplication::basic 0 7 7 3\n";
        let tests = parse(text, &cases()).expect("valid");
        assert_eq!(tests.len(), 2);
        assert_eq!(tests[0].key, "election");
        assert_eq!(tests[0].points, 4);
        assert_eq!(tests[0].seeds, vec![10, 11, 12, 32]);
        assert_eq!(
            tests[0].cases,
            vec!["election::initial", "election::re_election"]
        );
        assert_eq!(tests[0].title(), "Hidden Election scenarios (4 seeds)");
        assert_eq!(tests[1].seeds, vec![3, 7]);
        assert_eq!(tests[1].cases, vec!["replication::basic"]);
        assert_eq!(
            tests[1].title(),
            "Hidden scenario replication::basic (2 seeds)"
        );
    }

    #[test]
    fn bad_lines_are_errors_with_their_number() {
        for (text, expected) in [
            ("election\n", "line 1: expected `KEY POINTS SEEDS...`"),
            (
                "election x 1\n",
                "line 1: points \"x\" is not a whole number",
            ),
            ("\nelection 4\n", "line 2: election lists no seeds"),
            ("votes 4 1\n", "line 1: \"votes\" is neither a part"),
            ("e1::ticks 4 1\n", "line 1: e1::ticks is a step case"),
            ("election 4 5..5\n", "line 1: the range 5..5 is empty"),
            ("election 4 0..20000\n", "more than 10000"),
            ("election 4 seven\n", "line 1: \"seven\" is not a seed"),
        ] {
            let error = parse(text, &cases()).expect_err(text);
            assert!(
                error.starts_with(expected) || error.contains(expected),
                "{text:?}: {error}"
            );
        }
    }
}
