//! How many points each step and each part's scenarios are worth, and the
//! short title the report prints beside them.
//!
//! The numbers live in `grader/weights.txt`, a file an instructor can read
//! and edit without touching code; it is compiled in, and [`weights`] parses
//! it once. A unit test checks that the committed file is valid, so a bad
//! edit fails `cargo test` instead of a student's run.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::model::{Part, Step, Track};

/// The committed weights file of the core track.
pub const WEIGHTS_TXT: &str = include_str!("../../weights.txt");
/// The committed weights file of the deep track.
pub const WEIGHTS_DEEP_TXT: &str = include_str!("../../weights.deep.txt");

/// The total every weights file must add up to.
pub const TOTAL_POINTS: u32 = 100;

/// What a step or a part's scenarios are worth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weight {
    pub points: u32,
    /// A few words for the report: `become candidate`.
    pub title: String,
}

/// The weights of the ten steps and of the two parts' scenarios.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weights {
    steps: BTreeMap<Step, Weight>,
    scenarios: BTreeMap<Part, Weight>,
    search: BTreeMap<Part, Weight>,
}

impl Weights {
    pub fn step(&self, step: Step) -> &Weight {
        // `parse` refuses a file without all ten steps.
        &self.steps[&step]
    }

    pub fn scenarios(&self, part: Part) -> &Weight {
        &self.scenarios[&part]
    }

    pub fn search(&self, part: Part) -> &Weight {
        &self.search[&part]
    }
}

/// Something a weights file can give points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Step(Step),
    Scenarios(Part),
    Search(Part),
}

impl Key {
    fn parse(text: &str, track: Track) -> Option<Key> {
        Key::all(track).find(|key| key.name() == text)
    }

    fn name(self) -> String {
        match self {
            Key::Step(step) => step.short_name().to_string(),
            Key::Scenarios(part) => format!("scenarios.{}", part.slug()),
            Key::Search(part) => format!("search.{}", part.slug()),
        }
    }

    fn all(track: Track) -> impl Iterator<Item = Key> {
        track
            .steps()
            .iter()
            .copied()
            .map(Key::Step)
            .chain(Part::of_track(track).iter().copied().map(Key::Scenarios))
            .chain(Part::searched(track).iter().copied().map(Key::Search))
    }
}

/// Reads a weights file (see `grader/weights.txt` for the format). Errors
/// name the line: `line 7: unknown key "E7" (keys: E1, ..., scenarios.replication)`.
pub fn parse(text: &str) -> Result<Weights, String> {
    parse_for(text, Track::Core)
}

/// Reads a weights file of `track`: its keys are the track's steps and
/// parts.
pub fn parse_for(text: &str, track: Track) -> Result<Weights, String> {
    let mut seen: BTreeMap<Key, (usize, Weight)> = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let key_text = words.next().unwrap_or_default();
        let key = Key::parse(key_text, track).ok_or_else(|| {
            let keys: Vec<String> = Key::all(track).map(Key::name).collect();
            format!(
                "line {number}: unknown key {key_text:?} (keys: {})",
                keys.join(", ")
            )
        })?;
        let points_text = words
            .next()
            .ok_or_else(|| format!("line {number}: {key_text} has no points"))?;
        let points: u32 = points_text.parse().map_err(|_| {
            format!(
                "line {number}: the points of {key_text} are {points_text:?}, not a whole number"
            )
        })?;
        let title = words.collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return Err(format!("line {number}: {key_text} has no title"));
        }
        if let Some((first, _)) = seen.insert(key, (number, Weight { points, title })) {
            return Err(format!(
                "line {number}: {key_text} is given a second time (first on line {first})"
            ));
        }
    }
    let missing: Vec<String> = Key::all(track)
        .filter(|key| !seen.contains_key(key))
        .map(Key::name)
        .collect();
    if !missing.is_empty() {
        return Err(format!("no weight for {}", missing.join(", ")));
    }
    let total: u32 = seen.values().map(|(_, weight)| weight.points).sum();
    if total != TOTAL_POINTS {
        return Err(format!("the weights add up to {total}, not {TOTAL_POINTS}"));
    }
    let mut weights = Weights {
        steps: BTreeMap::new(),
        scenarios: BTreeMap::new(),
        search: BTreeMap::new(),
    };
    for (key, (_, weight)) in seen {
        match key {
            Key::Step(step) => weights.steps.insert(step, weight),
            Key::Scenarios(part) => weights.scenarios.insert(part, weight),
            Key::Search(part) => weights.search.insert(part, weight),
        };
    }
    Ok(weights)
}

/// The committed weights of the core track, parsed once.
pub fn weights() -> &'static Weights {
    weights_of(Track::Core)
}

/// The committed weights of `track`, parsed once.
pub fn weights_of(track: Track) -> &'static Weights {
    static CORE: OnceLock<Weights> = OnceLock::new();
    static DEEP: OnceLock<Weights> = OnceLock::new();
    // The `committed_weights_are_valid` test keeps these from panicking in
    // a released grader.
    match track {
        Track::Core => CORE.get_or_init(|| {
            parse_for(WEIGHTS_TXT, track).unwrap_or_else(|e| panic!("grader/weights.txt: {e}"))
        }),
        Track::Deep => DEEP.get_or_init(|| {
            parse_for(WEIGHTS_DEEP_TXT, track)
                .unwrap_or_else(|e| panic!("grader/weights.deep.txt: {e}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_weights_are_valid() {
        let weights = parse(WEIGHTS_TXT).unwrap_or_else(|e| panic!("grader/weights.txt: {e}"));
        let total: u32 = Step::ALL
            .into_iter()
            .map(|step| weights.step(step).points)
            .chain(Part::ALL.into_iter().map(|p| weights.scenarios(p).points))
            .chain(Part::ALL.into_iter().map(|p| weights.search(p).points))
            .sum();
        assert_eq!(total, TOTAL_POINTS);
        for step in Step::ALL {
            assert!(weights.step(step).points > 0, "{step} is worth nothing");
        }
        assert_eq!(weights.step(Step::Election3).title, "become candidate");
    }

    #[test]
    fn committed_deep_weights_are_valid() {
        let weights = parse_for(WEIGHTS_DEEP_TXT, Track::Deep)
            .unwrap_or_else(|e| panic!("grader/weights.deep.txt: {e}"));
        let total: u32 = Step::DEEP
            .into_iter()
            .map(|step| weights.step(step).points)
            .sum::<u32>()
            + weights.scenarios(Part::Deep).points;
        assert_eq!(total, TOTAL_POINTS);
        assert!(
            parse_for(WEIGHTS_TXT, Track::Deep).is_err(),
            "the core file is not the deep one"
        );
    }

    fn all_keys(points: [u32; 14]) -> String {
        Key::all(Track::Core)
            .zip(points)
            .map(|(key, points)| format!("{}  {points}  title of {}\n", key.name(), key.name()))
            .collect()
    }

    #[test]
    fn a_minimal_file_parses() {
        let text = format!(
            "# comment\n\n{}",
            all_keys([10, 10, 10, 10, 10, 10, 5, 5, 5, 5, 6, 6, 4, 4])
        );
        let weights = parse(&text).expect("valid");
        assert_eq!(
            weights.step(Step::Replication4),
            &Weight {
                points: 5,
                title: "title of R4".to_string()
            }
        );
        assert_eq!(weights.scenarios(Part::Replication).points, 6);
        assert_eq!(weights.search(Part::Election).points, 4);
    }

    #[test]
    fn errors_name_the_line() {
        let good = all_keys([10, 10, 10, 10, 10, 10, 5, 5, 5, 5, 6, 6, 4, 4]);
        let cases = [
            (format!("{good}E7 1 x\n"), "line 15: unknown key \"E7\""),
            (
                format!("{good}E1 1 x\n"),
                "line 15: E1 is given a second time (first on line 1)",
            ),
            (
                "E1 five title\n".to_string(),
                "line 1: the points of E1 are \"five\"",
            ),
            ("E1 5\n".to_string(), "line 1: E1 has no title"),
            ("E1\n".to_string(), "line 1: E1 has no points"),
            (
                good.replace("E1  10", "E1  11"),
                "the weights add up to 101, not 100",
            ),
            (
                good.lines().skip(1).map(|l| format!("{l}\n")).collect(),
                "no weight for E1",
            ),
            (String::new(), "no weight for E1, E2, E3"),
        ];
        for (text, want) in cases {
            let error = parse(&text).expect_err(want);
            assert!(error.starts_with(want), "got {error:?}, want {want:?}");
        }
    }
}
