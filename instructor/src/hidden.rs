//! Hidden seeds: scenario seeds only instructors have, graded besides the
//! visible ones and shown to students once grades are published.
//!
//! The file (`solutions/hidden/seeds.txt`) has one line per part:
//!
//! ```text
//! # PART        POINTS  SEEDS...
//! election      4       1000..1100 0x5eed
//! replication   4       2000..2100 0xc0ffee
//! ```
//!
//! Seeds are numbers (`42`, `0x2a`) or half-open ranges (`1000..1100`).

use std::fs;
use std::path::Path;

use grader::model::{Part, Seed};

/// The file, relative to the workspace root.
pub const HIDDEN_SEEDS: &str = "solutions/hidden/seeds.txt";

/// The most seeds one line may name.
pub const MAX_SEEDS: u64 = 100_000;

/// One line: a part's scenarios on these seeds, for these points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiddenTest {
    pub part: Part,
    pub points: u32,
    pub seeds: Vec<Seed>,
}

/// Reads a hidden-seeds file; errors name the line.
pub fn parse(text: &str) -> Result<Vec<HiddenTest>, String> {
    let mut tests: Vec<HiddenTest> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let part_text = words.next().unwrap_or_default();
        let part = Part::parse(part_text).map_err(|e| format!("line {number}: {e}"))?;
        if tests.iter().any(|t| t.part == part) {
            return Err(format!("line {number}: {part_text} is given a second time"));
        }
        let points_text = words
            .next()
            .ok_or_else(|| format!("line {number}: {part_text} has no points"))?;
        let points: u32 = points_text
            .parse()
            .map_err(|_| format!("line {number}: points {points_text:?} are not a whole number"))?;
        let mut seeds = Vec::new();
        for word in words {
            if let Some((from, to)) = word.split_once("..") {
                let from: Seed = from.parse().map_err(|e| format!("line {number}: {e}"))?;
                let to: Seed = to.parse().map_err(|e| format!("line {number}: {e}"))?;
                if to.0 <= from.0 {
                    return Err(format!("line {number}: the range {word} is empty"));
                }
                if (to.0 - from.0) + seeds.len() as u64 > MAX_SEEDS {
                    return Err(format!("line {number}: more than {MAX_SEEDS} seeds"));
                }
                seeds.extend((from.0..to.0).map(Seed));
            } else {
                seeds.push(word.parse().map_err(|e| format!("line {number}: {e}"))?);
            }
        }
        if seeds.is_empty() {
            return Err(format!("line {number}: {part_text} names no seed"));
        }
        if seeds.len() as u64 > MAX_SEEDS {
            return Err(format!("line {number}: more than {MAX_SEEDS} seeds"));
        }
        tests.push(HiddenTest {
            part,
            points,
            seeds,
        });
    }
    Ok(tests)
}

/// Reads the hidden seeds of the workspace at `root`, if it has any.
pub fn load(root: &Path) -> Result<Vec<HiddenTest>, String> {
    let path = root.join(HIDDEN_SEEDS);
    match fs::read_to_string(&path) {
        Ok(text) => parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parts_points_and_seeds() {
        let t =
            parse("# comment\nelection 4 1000..1003 0x2a # trailing\n\nreplication 5 7\n").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].part, Part::Election);
        assert_eq!(t[0].points, 4);
        assert_eq!(
            t[0].seeds,
            vec![Seed(1000), Seed(1001), Seed(1002), Seed(42)]
        );
        assert_eq!(t[1].seeds, vec![Seed(7)]);
    }

    #[test]
    fn errors_name_the_line() {
        for (text, want) in [
            ("search 4 1\n", "line 1: unknown part"),
            ("election four 1\n", "line 1: points"),
            ("election 4\n", "line 1: election names no seed"),
            ("election 4 5..5\n", "line 1: the range 5..5 is empty"),
            (
                "election 4 1\nelection 2 3\n",
                "line 2: election is given a second time",
            ),
            ("election 4 0..1000000\n", "more than"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_committed_file_is_valid() {
        let text = include_str!("../../solutions/hidden/seeds.txt");
        assert!(!parse(text).unwrap().is_empty());
    }
}
