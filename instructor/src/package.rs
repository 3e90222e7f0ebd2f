//! The student package (`raftlab package OUT`): what students receive.
//!
//! It is this workspace without what only instructors may see: the
//! reference, the mutants and the hidden cases (`solutions/`), and the other
//! paths of [`INSTRUCTOR_ONLY`]. The repository's README (written for both
//! audiences, and naming `solutions/`) is replaced by [`STUDENT_README`]; the
//! GitHub Classroom workflow of `handout/classroom/` is also installed where
//! GitHub runs it.
//!
//! [`check_package`] then proves the package safe to hand out:
//!
//! - no line of any reference answer (see [`secret_lines`]): a line of a
//!   region body counts unless it is [trivial](is_trivial) or also appears
//!   in the skeleton students get anyway;
//! - no region marker outside the marker parser's own test fixtures;
//! - no `solutions` path, nothing instructor-only;
//! - `raft/src/raft.rs` is exactly the skeleton generated from the reference.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::skeleton;
use crate::variant::{self, RAFT_RS};

/// Paths never shipped, relative to the workspace root. An entry names a
/// file or a directory (and everything below it); an entry ending in `*`
/// matches every path that starts with the text before the `*`.
pub const INSTRUCTOR_ONLY: &[&str] = &[
    // The reference, the bug zoo and the hidden seeds.
    "solutions",
    // The repository's own CI and tooling.
    ".ci",
    ".github",
    // Benchmarks, which run on the reference.
    "bench",
    // Instructor documentation, wherever it is kept.
    "INSTRUCTORS.md",
    "docs/instructors",
    "handout/instructors",
    // The instructor tooling's own integration tests: they read solutions/.
    "grader/tests/instructor*",
];

/// Directory names never copied, at any depth: build output and git data.
const SKIPPED_NAMES: [&str; 2] = ["target", ".git"];

/// Files whose lines may be region markers: the marker parser's test
/// fixtures (a fake reference, with ten made-up answers). They are still
/// searched for real answers.
pub const MARKER_FIXTURES: &[&str] = &["grader/tests/fixtures/"];

/// Where the GitHub Classroom workflow example lives in the repository,
/// and where the package installs a copy so that GitHub runs it.
pub const CLASSROOM_WORKFLOW: &str = "handout/classroom/raftlab.yml";
pub const INSTALLED_WORKFLOW: &str = ".github/workflows/classroom.yml";

/// A file in a package directory that marks it as one, so that a second
/// `raftlab package` into the same directory may replace it.
pub const PACKAGE_STAMP: &str = ".raftlab-package";

/// The README students get, at the top of the package.
pub const STUDENT_README: &str = "\
# RaftLab

In this lab you implement the heart of Raft, leader election and log
replication, inside a real, etcd-shaped Raft library written in Rust.

## What to do

1. Read the lab guide: [`handout/README.md`](handout/README.md)
   ([简体中文](handout/README.zh-CN.md)).
2. Open `raft/src/raft.rs` and search for `RaftLab`. There are ten holes,
   `todo!(\"RaftLab Election Step1\")` to `todo!(\"RaftLab Replication Step4\")`,
   each under a comment that says what to do, which functions to call and
   which rule of the Raft paper it implements. Fill them in, in order.
3. Run the one command:

   ```sh
   ./raftlab_test.sh
   ```

   It builds the grader with your `raft/src/raft.rs` and grades every step:
   PASS, FAIL (with the first failing case, what was expected and what was
   seen, and a one-line replay command), BLOCKED BY a step you have not done
   yet, or TIMEOUT. `./raftlab_test.sh --help` lists the options: one part,
   one step, one case, one seed, a trace of a failing run.

## The rules

- Only `raft/src/raft.rs` is graded; the grader takes that one file from
  your submission. Changes to any other file are not seen by the grader.
- Do not remove the `RaftLab` comments: they help you and your graders.
- The grader is deterministic: the same seed gives the same run. When your
  grade differs from what you saw, replay the failing seed it names.

## Layout

```
raft/               the Raft library; src/raft.rs carries the ten holes
grader/             the simulator, the per-step cases, the raftlab command
handout/            the lab guide
raftlab_test.sh     the one command
```
";

/// Whether `relative` (a path inside the workspace, `/`-separated) is for
/// instructors only.
pub fn is_instructor_only(relative: &str) -> bool {
    INSTRUCTOR_ONLY
        .iter()
        .any(|entry| match entry.strip_suffix('*') {
            Some(prefix) => relative.starts_with(prefix),
            None => {
                relative == *entry
                    || relative
                        .strip_prefix(entry)
                        .is_some_and(|rest| rest.starts_with('/'))
            }
        })
}

/// `path` with `/` between its components, for matching and messages.
fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The files of the student package, by relative path: the workspace
/// minus [`INSTRUCTOR_ONLY`] and build output, with the student README and
/// the Classroom workflow installed. Symbolic links are not followed.
pub fn package_files(root: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>, String> {
    let mut files = BTreeMap::new();
    collect(root, Path::new(""), &mut files, 0)?;
    files.insert(
        PathBuf::from("README.md"),
        STUDENT_README.as_bytes().to_vec(),
    );
    if let Some(workflow) = files.get(Path::new(CLASSROOM_WORKFLOW)).cloned() {
        files.insert(PathBuf::from(INSTALLED_WORKFLOW), workflow);
    }
    Ok(files)
}

fn collect(
    root: &Path,
    relative: &Path,
    files: &mut BTreeMap<PathBuf, Vec<u8>>,
    depth: usize,
) -> Result<(), String> {
    const MAX_DEPTH: usize = 32;
    let path = root.join(relative);
    let error = |e: io::Error| format!("cannot read {}: {e}", path.display());
    if depth > MAX_DEPTH {
        return Err(format!("{}: nested too deep", path.display()));
    }
    let mut entries: Vec<(PathBuf, fs::FileType)> = Vec::new();
    for entry in fs::read_dir(&path).map_err(error)? {
        let entry = entry.map_err(error)?;
        let name = entry.file_name();
        if SKIPPED_NAMES.iter().any(|skipped| name == *skipped) {
            continue;
        }
        entries.push((relative.join(name), entry.file_type().map_err(error)?));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (child, kind) in entries {
        if is_instructor_only(&slash_path(&child)) {
            continue;
        }
        if kind.is_dir() {
            collect(root, &child, files, depth + 1)?;
        } else if kind.is_file() {
            let bytes = fs::read(root.join(&child))
                .map_err(|e| format!("cannot read {}: {e}", root.join(&child).display()))?;
            files.insert(child, bytes);
        }
    }
    Ok(())
}

/// Writes the student package into `out` (which must not exist, be empty,
/// or hold an earlier package), then `out.tar.gz` beside it when `tar` is
/// available. Returns the number of files written.
pub fn build_package(root: &Path, out: &Path) -> Result<usize, String> {
    let files = package_files(root)?;
    prepare_out_dir(out)?;
    for (relative, bytes) in &files {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        #[cfg(unix)]
        copy_permissions(&root.join(relative), &path);
    }
    fs::write(
        out.join(PACKAGE_STAMP),
        "A RaftLab student package, made by `raftlab package`.\n",
    )
    .map_err(|e| format!("cannot write {}: {e}", out.join(PACKAGE_STAMP).display()))?;
    Ok(files.len())
}

/// Keeps the executable bit of scripts such as `raftlab_test.sh`.
#[cfg(unix)]
fn copy_permissions(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = fs::metadata(from) {
        let mode = metadata.permissions().mode();
        let _ = fs::set_permissions(to, fs::Permissions::from_mode(mode));
    }
}

fn prepare_out_dir(out: &Path) -> Result<(), String> {
    match fs::read_dir(out) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", out.display())),
        Ok(mut entries) => {
            if entries.next().is_some() {
                if !out.join(PACKAGE_STAMP).is_file() {
                    return Err(format!(
                        "{} exists and is not an earlier RaftLab package; choose a new directory",
                        out.display()
                    ));
                }
                fs::remove_dir_all(out)
                    .map_err(|e| format!("cannot replace {}: {e}", out.display()))?;
            }
        }
    }
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))
}

/// Writes `dir` as `<dir>.tar.gz` with the system's `tar`; the archive
/// unpacks into one directory named like `dir`.
pub fn write_tar_gz(dir: &Path) -> Result<PathBuf, String> {
    let name = dir
        .file_name()
        .ok_or_else(|| format!("{} has no name", dir.display()))?;
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut archive_name = name.to_os_string();
    archive_name.push(".tar.gz");
    let archive = parent.join(archive_name);
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(parent)
        .arg(name)
        .status()
        .map_err(|e| format!("cannot run tar to write {}: {e}", archive.display()))?;
    if !status.success() {
        return Err(format!(
            "tar failed to write {} ({status})",
            archive.display()
        ));
    }
    Ok(archive)
}

/// Whether a line says nothing about an answer: once trimmed, empty, or
/// only brackets and separators (`}`, `});`), or such punctuation around one
/// bare keyword (`} else {`, `return;`, `Ok(())`), or fewer than three
/// letters and digits in all (`i += 1;`). Comment markers alone (`//`)
/// count as punctuation too.
pub fn is_trivial(line: &str) -> bool {
    const KEYWORDS: [&str; 10] = [
        "else", "return", "break", "continue", "loop", "Ok", "None", "true", "false", "Err",
    ];
    let words: String = line
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !"{}()[];,/".contains(*c))
        .collect();
    let alphanumerics = words.chars().filter(|c| c.is_alphanumeric()).count();
    words.is_empty() || alphanumerics < 3 || KEYWORDS.contains(&words.as_str())
}

/// The lines a package must not contain: every line (trimmed) of every
/// region body of `reference`, except trivial ones and those that appear
/// (trimmed) anywhere in `skeleton`, which students receive anyway.
pub fn secret_lines(reference: &str, skeleton: &str) -> Result<BTreeSet<String>, String> {
    let public: BTreeSet<&str> = skeleton.lines().map(str::trim).collect();
    let regions = skeleton::parse_regions(reference)?;
    Ok(regions
        .iter()
        .flat_map(|region| region.body.lines())
        .map(str::trim)
        .filter(|line| !is_trivial(line) && !public.contains(line))
        .map(str::to_string)
        .collect())
}

/// Whether a line is a region marker (`//>>>` or `//<<<` first).
fn is_marker(line: &str) -> bool {
    let code = line.trim_start();
    code.starts_with("//>>>") || code.starts_with("//<<<")
}

/// Checks a package directory (see the module doc); returns every problem
/// found, each naming the file and line. `root` is the instructors'
/// workspace the package came from.
pub fn check_package(root: &Path, dir: &Path) -> Result<Vec<String>, String> {
    let reference = variant::read_reference(root)?;
    let expected_skeleton = skeleton::make_skeleton(&reference)?;
    let secrets = secret_lines(&reference, &expected_skeleton)?;
    let mut problems = Vec::new();
    let mut files = BTreeMap::new();
    collect_all(dir, Path::new(""), &mut files, 0)?;
    if !files.contains_key(Path::new(RAFT_RS)) {
        problems.push(format!("{RAFT_RS} is missing"));
    }
    for (relative, bytes) in &files {
        let shown = slash_path(relative);
        if relative.components().any(|c| c.as_os_str() == "solutions") {
            problems.push(format!("{shown}: a `solutions` path"));
        }
        if is_instructor_only(&shown) && shown != INSTALLED_WORKFLOW {
            problems.push(format!("{shown}: instructor-only"));
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            // Pictures and other binary files hold no code.
            continue;
        };
        if shown == RAFT_RS && text != expected_skeleton {
            let line =
                skeleton::first_difference(&expected_skeleton, text).map_or(0, |(line, _, _)| line);
            problems.push(format!(
                "{shown}: not the skeleton generated from the reference (first difference at line {line})"
            ));
        }
        let marker_allowed = MARKER_FIXTURES.iter().any(|p| shown.starts_with(p));
        for (index, line) in text.lines().enumerate() {
            if secrets.contains(line.trim()) {
                problems.push(format!(
                    "{shown}:{}: a line of a reference answer: {}",
                    index + 1,
                    line.trim()
                ));
            }
            if !marker_allowed && is_marker(line) {
                problems.push(format!(
                    "{shown}:{}: a region marker: {}",
                    index + 1,
                    line.trim()
                ));
            }
        }
    }
    Ok(problems)
}

/// Every file under `dir`, skipping build output (a package that was built
/// and run has a `target/`).
fn collect_all(
    root: &Path,
    relative: &Path,
    files: &mut BTreeMap<PathBuf, Vec<u8>>,
    depth: usize,
) -> Result<(), String> {
    let path = root.join(relative);
    let error = |e: io::Error| format!("cannot read {}: {e}", path.display());
    if depth > 32 {
        return Err(format!("{}: nested too deep", path.display()));
    }
    for entry in fs::read_dir(&path).map_err(error)? {
        let entry = entry.map_err(error)?;
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let child = relative.join(&name);
        let kind = entry.file_type().map_err(error)?;
        if kind.is_dir() {
            collect_all(root, &child, files, depth + 1)?;
        } else if kind.is_file() {
            files.insert(child.clone(), fs::read(root.join(&child)).map_err(error)?);
        }
    }
    Ok(())
}

pub const USAGE: &str = "\
raftlab package: write the student package

Usage: raftlab package OUT [--no-check]

Writes the directory OUT (and OUT.tar.gz beside it): this workspace without
solutions/ and the other instructor-only paths, with a README for students
and the GitHub Classroom workflow installed. Then checks it: no line of any
reference answer, no region marker, no solutions path, and raft/src/raft.rs
is the skeleton. OUT must be new, empty, or an earlier package.

Options:
  --no-check   skip the content check
  -h, --help   print this help
";

/// `raftlab package OUT [--no-check]`.
pub fn package_main(args: &[std::ffi::OsString]) -> std::process::ExitCode {
    use std::process::ExitCode;
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if words.iter().any(|w| w == "-h" || w == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let check = !words.iter().any(|w| w == "--no-check");
    let outs: Vec<&String> = words.iter().filter(|w| !w.starts_with("--")).collect();
    let unknown: Vec<&String> = words
        .iter()
        .filter(|w| w.starts_with("--") && *w != "--no-check")
        .collect();
    let ([out], []) = (outs.as_slice(), unknown.as_slice()) else {
        eprintln!(
            "raftlab package: expected one directory to write, and only --no-check\n\n\
             Run `raftlab package --help` for usage."
        );
        return ExitCode::from(2);
    };
    let out = Path::new(out.as_str());
    let root = match variant::find_root() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("raftlab package: {e}");
            return ExitCode::FAILURE;
        }
    };
    let files = match build_package(&root, out) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("raftlab package: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("wrote {} files to {}", files, out.display());
    match write_tar_gz(out) {
        Ok(archive) => println!("wrote {}", archive.display()),
        Err(e) => eprintln!("raftlab package: no archive: {e}"),
    }
    if !check {
        return ExitCode::SUCCESS;
    }
    match check_package(&root, out) {
        Ok(problems) if problems.is_empty() => {
            println!(
                "checked: no answer line, no region marker, no solutions path; raft/src/raft.rs is the skeleton"
            );
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            for problem in &problems {
                eprintln!("raftlab package: {problem}");
            }
            eprintln!(
                "raftlab package: the package is NOT safe to hand out ({} problems)",
                problems.len()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("raftlab package: cannot check the package: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_lines_carry_no_answer() {
        for line in [
            "",
            "   ",
            "}",
            "    });",
            "{",
            ")",
            "],",
            "} else {",
            "else",
            "return;",
            "break;",
            "continue;",
            "Ok(())",
            "None",
            "//",
            "i += 1;",
            "x",
            "};",
        ] {
            assert!(is_trivial(line), "{line:?} should be trivial");
        }
        for line in [
            "self.bcast_append();",
            "self.election_elapsed += 1;",
            "(MessageType::MsgVote, self.term)",
            "return Err(Error::ProposalDropped);",
            "if self.maybe_commit() {",
            "resp.term = m.term;",
            "// reset before voting",
            "vote",
        ] {
            assert!(!is_trivial(line), "{line:?} should not be trivial");
        }
    }

    #[test]
    fn secrets_leave_out_trivial_and_public_lines() {
        let reference = skeleton::Step::ALL
            .iter()
            .enumerate()
            .map(|(i, step)| {
                format!(
                    "    public_call();\n    //>>> RaftLab {step}\n    public_call();\n    secret_{i}();\n    }}\n    //<<< RaftLab {step}\n"
                )
            })
            .collect::<String>();
        let skeleton = skeleton::make_skeleton(&reference).expect("well formed");
        let secrets = secret_lines(&reference, &skeleton).expect("well formed");
        assert_eq!(secrets.len(), 10);
        assert!(secrets.contains("secret_0();"));
        assert!(!secrets.contains("public_call();"));
        assert!(!secrets.contains("}"));
    }

    #[test]
    fn instructor_only_paths() {
        for path in [
            "solutions",
            "solutions/raft.rs",
            "solutions/hidden/seeds.txt",
            ".ci/run",
            "bench/Cargo.toml",
            "grader/tests/instructor.rs",
            "grader/tests/instructor_grade.rs",
        ] {
            assert!(is_instructor_only(path), "{path}");
        }
        for path in [
            "solutionsx",
            "raft/src/raft.rs",
            "grader/tests/runner.rs",
            "handout/README.md",
            "handout/classroom/raftlab.yml",
            "benchmarks.md",
        ] {
            assert!(!is_instructor_only(path), "{path}");
        }
    }

    #[test]
    fn markers_are_recognised_only_at_the_start_of_a_line() {
        assert!(is_marker("        //>>> RaftLab Election Step1"));
        assert!(is_marker("//<<< RaftLab Replication Step4"));
        assert!(!is_marker("//!         //>>> RaftLab Election Step1"));
        assert!(!is_marker("const OPEN_MARKER: &str = \"//>>>\";"));
    }
}
