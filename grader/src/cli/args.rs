//! The options of `raftlab test`, read with `lexopt`.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::model::{Part, Seed, Step, Track};

/// The help of `raftlab test` (and of `./raftlab_test.sh`, which passes
/// every option on).
pub const USAGE: &str = "\
Usage: ./raftlab_test.sh [OPTIONS]

Builds your raft/src/raft.rs into the grader's host and grades it, step by
step: PASS, FAIL (with what was expected and seen, a replay command and a
hint command), TODO (the step's todo!() is still there), BLOCKED BY <step>
(a case needs an earlier step that is not done), or TIMEOUT.

Choose what to run (default: everything):
  --part election|replication   one part: its steps and its scenarios
  --track core|deep             the track to grade (default: this package's)
  --step E3                     one step (E1..E6, R1..R4, or \"Election Step3\")
  --case NAME                   one case, as named in a FAIL line or by --list
  --seeds N                     scenarios run seeds 0..N-1 (default 100)
  --seed S                      only seed S (step cases draw their values from it too)

Understand a failure:
  --list                        every case, with its step and what it checks
  --hint E3                     the step's next hint (rule, where to look, the pieces)
  --case NAME --seed S --trace  replay one run, one line per event
  --case NAME --seed S --html F also draw the run as a timeline page, F
  --no-shrink                   show a failing scenario as it ran, without shrinking
                                it to the events that matter first
  RUST_LOG=raft=debug ...       with --case: the library's own log lines too
  --in-process --case NAME      run the case inside one process (yours), for a debugger
  --debug --case NAME           build an unoptimised host and print the rust-gdb
                                command that stops in the case's step

More:
  --jobs N                      cases run at once (default: all CPUs)
  --timeout-scale F             multiply the wall-clock guards (default 1)
  --json FILE                   write Gradescope's results.json
  --junit FILE                  write JUnit XML
  --machine                     also print `RAFTLAB STEP E3 FAIL` lines
  -h, --help                    print this help

Exit status: 0 when everything run passed, 1 otherwise, 2 on a usage error.
";

/// What `raftlab test` was asked to do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestArgs {
    pub track: Option<Track>,
    pub part: Option<Part>,
    pub step: Option<Step>,
    pub case: Option<String>,
    pub seeds: Option<u64>,
    pub seed: Option<Seed>,
    pub trace: bool,
    pub html: Option<PathBuf>,
    pub list: bool,
    pub hint: Option<Step>,
    pub in_process: bool,
    pub debug: bool,
    pub jobs: Option<usize>,
    pub timeout_scale: Option<f64>,
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub machine: bool,
    /// Do not shrink failing runs.
    pub no_shrink: bool,
    pub help: bool,
    /// The host binary (default: `raftlab-host` beside this program).
    pub host: Option<PathBuf>,
    /// The workspace (default: `RAFTLAB_ROOT`, else the current directory).
    pub root: Option<PathBuf>,
    /// What replay and hint lines tell the student to type (default:
    /// `RAFTLAB_COMMAND`, else `./raftlab_test.sh`).
    pub command: Option<String>,
}

fn text(value: OsString, option: &str) -> Result<String, String> {
    value
        .into_string()
        .map_err(|v| format!("{option}: {v:?} is not text"))
}

fn number<T: std::str::FromStr>(value: OsString, option: &str) -> Result<T, String> {
    let t = text(value, option)?;
    t.parse()
        .map_err(|_| format!("{option}: {t:?} is not a number"))
}

fn val(p: &mut lexopt::Parser) -> Result<OsString, String> {
    p.value().map_err(|e| e.to_string())
}

/// Reads the options; an error is a usage error, in one line.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<TestArgs, String> {
    use lexopt::prelude::*;
    let mut a = TestArgs::default();
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("track") => a.track = Some(Track::parse(&text(val(&mut p)?, "--track")?)?),
            Long("part") => a.part = Some(Part::parse(&text(val(&mut p)?, "--part")?)?),
            Long("step") => a.step = Some(Step::parse(&text(val(&mut p)?, "--step")?)?),
            Long("case") => a.case = Some(text(val(&mut p)?, "--case")?),
            Long("seeds") => {
                let n: u64 = number(val(&mut p)?, "--seeds")?;
                if n == 0 {
                    return Err("--seeds: at least 1".to_string());
                }
                a.seeds = Some(n);
            }
            Long("seed") => a.seed = Some(text(val(&mut p)?, "--seed")?.parse()?),
            Long("trace") => a.trace = true,
            Long("no-shrink") => a.no_shrink = true,
            Long("html") => a.html = Some(val(&mut p)?.into()),
            Long("list") => a.list = true,
            Long("hint") => a.hint = Some(Step::parse(&text(val(&mut p)?, "--hint")?)?),
            Long("in-process") => a.in_process = true,
            Long("debug") => a.debug = true,
            Long("jobs") => {
                let n: usize = number(val(&mut p)?, "--jobs")?;
                a.jobs = Some(n.max(1));
            }
            Long("timeout-scale") => {
                let f: f64 = number(val(&mut p)?, "--timeout-scale")?;
                if !(f.is_finite() && f > 0.0) {
                    return Err(format!("--timeout-scale: {f} is not a positive number"));
                }
                a.timeout_scale = Some(f);
            }
            Long("json") => a.json = Some(val(&mut p)?.into()),
            Long("junit") => a.junit = Some(val(&mut p)?.into()),
            Long("machine") => a.machine = true,
            Long("host") => a.host = Some(val(&mut p)?.into()),
            Long("root") => a.root = Some(val(&mut p)?.into()),
            Long("command") => a.command = Some(text(val(&mut p)?, "--command")?),
            Short('h') | Long("help") => a.help = true,
            other => return Err(other.unexpected().to_string()),
        }
    }
    let chosen = [a.part.is_some(), a.step.is_some(), a.case.is_some()]
        .iter()
        .filter(|&&b| b)
        .count();
    if chosen > 1 {
        return Err("choose one of --part, --step and --case".to_string());
    }
    if (a.in_process || a.debug || a.html.is_some()) && a.case.is_none() {
        return Err("--in-process, --debug and --html need --case NAME".to_string());
    }
    if a.seed.is_some() && a.seeds.is_some() {
        return Err("--seed and --seeds: choose one".to_string());
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Result<TestArgs, String> {
        parse(words.iter().map(OsString::from))
    }

    #[test]
    fn reads_the_options_the_handout_uses() {
        let a = args(&[
            "--case", "e3::x", "--seed", "0x2a", "--trace", "--html", "t.html",
        ])
        .unwrap();
        assert_eq!(a.case.as_deref(), Some("e3::x"));
        assert_eq!(a.seed, Some(Seed(42)));
        assert!(a.trace);
        assert_eq!(a.html, Some(PathBuf::from("t.html")));
        assert_eq!(args(&["--hint", "e4"]).unwrap().hint, Some(Step::Election4));
        assert_eq!(
            args(&["--step", "Election Step2"]).unwrap().step,
            Some(Step::Election2)
        );
        assert!(args(&["--list"]).unwrap().list);
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        assert!(
            args(&["--step", "E9"])
                .unwrap_err()
                .contains("unknown step")
        );
        assert!(
            args(&["--seeds", "many"])
                .unwrap_err()
                .contains("not a number")
        );
        assert!(args(&["--frobnicate"]).is_err());
        assert!(args(&["--part", "election", "--step", "E1"]).is_err());
        assert!(args(&["--debug"]).unwrap_err().contains("--case"));
        assert!(args(&["--timeout-scale", "-1"]).is_err());
    }

    #[test]
    fn every_option_of_the_usage_is_read() {
        for line in USAGE.lines() {
            let Some(option) = line.trim_start().strip_prefix("--") else {
                continue;
            };
            let name = option.split_whitespace().next().unwrap_or_default();
            let flag = format!("--{name}");
            // Each option either parses alone or says it needs a value or
            // --case, never "unexpected".
            let err = args(&[flag.as_str()]).err().unwrap_or_default();
            assert!(!err.contains("unexpected"), "{flag}: {err}");
        }
    }
}
