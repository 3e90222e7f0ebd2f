//! The student package (`instructor package OUT`): what students receive.
//!
//! It is this workspace without what only instructors may see: the
//! reference, the mutants, alternatives, hostile suite and hidden seeds
//! (`solutions/`), the instructor crate, and the other paths of
//! [`INSTRUCTOR_ONLY`]; the workspace manifest loses the instructor member.
//! The repository's README (written for both audiences) is replaced by
//! [`STUDENT_README`]; the GitHub Classroom workflow of `handout/classroom/`
//! is also installed where GitHub runs it. With `--no-hints` (an exam), the
//! grader's hint files say only that hints are off.
//!
//! [`check_package`] then proves the package safe to hand out:
//!
//! - no line of any reference answer (see [`secret_lines`]): a line of a
//!   region body counts unless it is [trivial](is_trivial) or also appears
//!   in the skeleton students get anyway;
//! - no call of an answer's (see [`answer_calls`]) named in a hole's
//!   comment or in `handout/`: the comments and the guide teach the rule
//!   and where to look, never the code;
//! - no region marker, no `solutions` path, nothing instructor-only, no
//!   instructor command in a document;
//! - `raft/src/raft.rs` is exactly the skeleton generated from the reference.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use grader::model::{Step, Track};

use crate::skeleton::{self, Region};
use crate::sources::Reference;
use crate::variant;

/// Paths never shipped, relative to the workspace root. An entry names a
/// file or a directory (and everything below it); an entry ending in `*`
/// matches every path that starts with the text before the `*`.
pub const INSTRUCTOR_ONLY: &[&str] = &[
    // The reference, the bug zoo, the alternatives, the hostile suite and
    // the hidden seeds.
    "solutions",
    // The instructor tool: validation, grading, the sandbox.
    "instructor",
    // The repository's own CI and tooling.
    ".ci",
    ".github",
    // Benchmarks, which run on the reference.
    "bench",
    // Instructor documentation, wherever it is kept.
    "INSTRUCTORS.md",
    "docs/instructors",
    "handout/instructors",
];

/// The deep track's chapter of the handout, in each language.
pub const DEEP_CHAPTERS: &[&str] = &["handout/deep.md", "handout/deep.zh-CN.md"];

/// The top-level entries a package may hold; anything else is a mistake
/// (a stray file) and stops the packaging.
pub const SHIPPED_TOP_LEVEL: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "README.md",
    "raftlab_test.sh",
    ".gitignore",
    "raftpb",
    "raft",
    "grader",
    "host",
    "kv",
    "handout",
];

/// The files git tracks under `root`, `/`-separated; `None` when `root` is
/// not a git checkout (a copy unpacked from an archive).
fn tracked_files(root: &Path) -> Result<Option<BTreeSet<String>>, String> {
    if !root.join(".git").exists() {
        return Ok(None);
    }
    let output = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git ls-files failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(Some(
        output
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect(),
    ))
}

/// Directory names never copied, at any depth: build output and git data.
const SKIPPED_NAMES: [&str; 2] = ["target", ".git"];

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
   each under a comment that says what must be true afterwards, which rule
   of the Raft paper it implements, and where in the library to look.
   Finding the pieces is the lesson: read the library (`raft/src/lib.rs` is
   a tour). Fill the holes in, in order.
3. Run the one command:

   ```sh
   ./raftlab_test.sh
   ```

   It builds your `raft/src/raft.rs` and grades every step: PASS, FAIL
   (what was expected and what was seen, a one-line replay command and a
   hint command), TODO (not written yet), BLOCKED BY an earlier step you
   have not done, or TIMEOUT. Each step passes as soon as it is done, in
   the guide's order. `./raftlab_test.sh --help` lists the options: one
   part, one step, one case, one seed, a trace of a run, `--list` of the
   cases, `--hint` for a step.

## The rules

- Only `raft/src/raft.rs` is graded; the grader takes that one file from
  your submission. Changes to any other file are not seen by the grader.
- Do not remove the `RaftLab` comments: they help you and your graders.
- The grader is deterministic: the same seed gives the same run. When your
  grade differs from what you saw, replay the failing seed it names.

## Layout

```
raftpb/             the messages and log records (etcd's raftpb)
raft/               the Raft library; src/raft.rs carries the ten holes
host/               raftlab-host: runs the grader's cases on your Raft
grader/             the grader: simulator, cases, hints, the raftlab command
kv/                 a key-value cluster on your Raft, once it passes
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

/// How a package is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PackageOptions {
    /// The grader's hints say only that they are off: for an exam.
    pub no_hints: bool,
    /// Which holes the package leaves: the core track's ten, or the deep
    /// track's (with the core ones answered).
    pub track: Track,
}

/// The file that tells the package's grader its track.
pub const TRACK_FILE: &str = "grader/track.txt";

/// The hint files of the grader, one per step.
pub const HINTS_DIR: &str = "grader/hints";

/// The workspace manifest without its instructor member.
pub fn student_manifest(manifest: &str) -> Result<String, String> {
    let members = variant::workspace_members(manifest)?;
    let kept: Vec<String> = members
        .iter()
        .filter(|m| !is_instructor_only(m))
        .map(|m| format!("\"{m}\""))
        .collect();
    let mut out = String::with_capacity(manifest.len());
    let mut replaced = false;
    let mut skipping = false;
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if skipping {
            if trimmed.contains(']') {
                skipping = false;
            }
            continue;
        }
        if !replaced && trimmed.starts_with("members") && trimmed.contains('=') {
            out.push_str(&format!("members = [{}]\n", kept.join(", ")));
            replaced = true;
            skipping = !trimmed.contains(']');
            continue;
        }
        out.push_str(line);
    }
    if !replaced {
        return Err("Cargo.toml: no `members = [...]` to rewrite".to_string());
    }
    Ok(out)
}

/// The files of the student package, by relative path: the workspace
/// minus [`INSTRUCTOR_ONLY`] and build output, with the student README,
/// the student manifest and the Classroom workflow installed. Symbolic
/// links are not followed.
pub fn package_files(
    root: &Path,
    options: PackageOptions,
) -> Result<BTreeMap<PathBuf, Vec<u8>>, String> {
    let mut files = BTreeMap::new();
    collect(root, Path::new(""), &mut files, 0)?;
    // Only what the repository tracks ships: a class's submissions or a
    // grading's output lying in the tree never do.
    if let Some(tracked) = tracked_files(root)? {
        files.retain(|path, _| tracked.contains(&slash_path(path)));
    }
    let unexpected: Vec<String> = files
        .keys()
        .map(|p| slash_path(p))
        .filter(|p| {
            let top = p.split('/').next().unwrap_or_default();
            !SHIPPED_TOP_LEVEL.contains(&top)
        })
        .collect();
    if !unexpected.is_empty() {
        return Err(format!(
            "these files would ship but are not part of the lab: {} (the package takes only {}; remove them or add them to the list in instructor/src/package.rs)",
            unexpected.join(", "),
            SHIPPED_TOP_LEVEL.join(", ")
        ));
    }
    files.insert(
        PathBuf::from("README.md"),
        STUDENT_README.as_bytes().to_vec(),
    );
    let manifest = fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    files.insert(
        PathBuf::from("Cargo.toml"),
        student_manifest(&manifest)?.into_bytes(),
    );
    if let Some(workflow) = files.get(Path::new(CLASSROOM_WORKFLOW)).cloned() {
        files.insert(PathBuf::from(INSTALLED_WORKFLOW), workflow);
    }
    // The deep chapter walks through library code the core answers call:
    // it ships with the deep track only.
    if options.track == Track::Core {
        for chapter in DEEP_CHAPTERS {
            files.remove(Path::new(chapter));
        }
    }
    for (generated, text) in Reference::read(root)?.skeleton(options.track)? {
        files.insert(PathBuf::from(generated), text.into_bytes());
    }
    files.insert(
        PathBuf::from(TRACK_FILE),
        format!("{}\n", options.track.slug()).into_bytes(),
    );
    if options.no_hints {
        for step in Step::every() {
            files.insert(
                Path::new(HINTS_DIR).join(format!("{}.md", step.short_name())),
                format!("# {step}\n\n{}\n", grader::report::hints::HINTS_OFF).into_bytes(),
            );
        }
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
pub fn build_package(root: &Path, out: &Path, options: PackageOptions) -> Result<usize, String> {
    let files = package_files(root, options)?;
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
        "A RaftLab student package, made by `instructor package`.\n",
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
/// count as punctuation too, and so does a catch-all match arm (`_ =>
/// break,`).
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
    let body = words.trim_start_matches("_=>");
    words.is_empty() || alphanumerics < 3 || KEYWORDS.contains(&body)
}

/// The lines a package must not contain: every line (trimmed) of the
/// bodies of `regions` (the holes' answers), except trivial ones and those
/// that appear (trimmed) anywhere in `public` (the files students receive
/// anyway).
pub fn secret_lines(regions: &[&Region], public: &[&str]) -> BTreeSet<String> {
    let public: BTreeSet<&str> = public
        .iter()
        .flat_map(|t| t.lines())
        .map(str::trim)
        .collect();
    regions
        .iter()
        .flat_map(|region| region.body.lines())
        .map(str::trim)
        .filter(|line| !is_trivial(line) && !public.contains(line))
        .map(str::to_string)
        .collect()
}

/// The functions and methods each answer calls, by step: `become_leader`,
/// `bcast_append` for Election Step6. A hole's comment and the guide may
/// name concepts, never these calls.
pub fn answer_calls(regions: &[&Region]) -> BTreeMap<Step, BTreeSet<String>> {
    let mut calls: BTreeMap<Step, BTreeSet<String>> = BTreeMap::new();
    for region in regions {
        let set = calls.entry(region.step).or_default();
        for line in region.body.lines() {
            let code = line.split("//").next().unwrap_or_default();
            let chars: Vec<char> = code.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                if chars[i].is_alphabetic() || chars[i] == '_' {
                    let start = i;
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                    let word: String = chars[start..i].iter().collect();
                    let after = chars[i..].iter().find(|c| !c.is_whitespace());
                    let called = after == Some(&'(');
                    let is_macro = after == Some(&'!');
                    let keyword = matches!(
                        word.as_str(),
                        "if" | "while" | "match" | "for" | "return" | "Ok" | "Err" | "Some" | "let"
                    );
                    if called && !is_macro && !keyword {
                        set.insert(word);
                    }
                } else {
                    i += 1;
                }
            }
        }
    }
    calls
}

/// Where `text` names `call` as code: as a word when the name is code-like
/// (`bcast_append`, `maybe_commit`), or in a code form when it is also a
/// plain word (`.step(`, `step(`, `::new`, `` `step` ``).
pub fn names_call(text: &str, call: &str) -> bool {
    let code_like = call.contains('_') || call.chars().any(|c| c.is_uppercase());
    let is_word_at = |at: usize| {
        let before = text[..at].chars().next_back();
        let after = text[at + call.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        edge(before) && edge(after)
    };
    text.match_indices(call).any(|(at, _)| {
        if !is_word_at(at) {
            return false;
        }
        if code_like {
            return true;
        }
        let before = text[..at].chars().next_back();
        let after = text[at + call.len()..].chars().next();
        matches!(before, Some('.' | ':' | '`')) || matches!(after, Some('(' | '`'))
    })
}

/// The comment block of each hole in a skeleton: the lines from its
/// `// ── RaftLab <step>` header to its `todo!()`, with their line numbers.
pub fn hole_comments(skeleton_text: &str, steps: &[Step]) -> Vec<(Step, Vec<(usize, String)>)> {
    let lines: Vec<&str> = skeleton_text.lines().collect();
    let mut out = Vec::new();
    for &step in steps {
        let header = format!("RaftLab {} ", step.name());
        let Some(start) = lines
            .iter()
            .position(|l| l.trim_start().starts_with("// ──") && l.contains(&header))
        else {
            continue;
        };
        let block: Vec<(usize, String)> = lines[start..]
            .iter()
            .enumerate()
            .take_while(|(_, l)| l.trim_start().starts_with("//"))
            .map(|(i, l)| (start + i + 1, l.to_string()))
            .collect();
        out.push((step, block));
    }
    out
}

/// Whether a line is a region marker (`//>>>` or `//<<<` first).
fn is_marker(line: &str) -> bool {
    let code = line.trim_start();
    code.starts_with("//>>>") || code.starts_with("//<<<")
}

/// Calls an answer makes that are the words of its rule, not its answer:
/// the log's accessors the paper states its rules in (an entry's term, the
/// first and last index, the last term) and `min`/`max`. The deep track's
/// rules are about exactly these; no comment or chapter can state them
/// without the words.
const VOCABULARY: &[&str] = &[
    "term",
    "min",
    "max",
    "first_index",
    "last_index",
    "last_term",
];

/// The functions whose whole body is one of `track`'s holes: their names
/// are where the student works, given by the hole list itself, so another
/// step may name them (Deep Step5 uses Step4's `find_conflict_by_term`).
fn step_functions(track: Track) -> &'static [&'static str] {
    match track {
        Track::Core => &[],
        Track::Deep => &[
            "is_up_to_date",
            "maybe_append",
            "maybe_commit",
            "find_conflict_by_term",
        ],
    }
}

/// Checks a package directory (see the module doc); returns every problem
/// found, each naming the file and line. `root` is the instructors'
/// workspace the package came from.
pub fn check_package(root: &Path, dir: &Path, track: Track) -> Result<Vec<String>, String> {
    let reference = Reference::read(root)?;
    let expected = reference.skeleton(track)?;
    let holes: Vec<&Region> = reference
        .regions()
        .filter(|(_, r)| r.step.track() == track)
        .map(|(_, r)| r)
        .collect();
    let public: Vec<&str> = expected.iter().map(|(_, t)| t.as_str()).collect();
    let secrets = secret_lines(&holes, &public);
    let mut calls = answer_calls(&holes);
    for names in calls.values_mut() {
        names.retain(|c| {
            !VOCABULARY.contains(&c.as_str()) && !step_functions(track).contains(&c.as_str())
        });
    }
    let mut problems = Vec::new();
    for (generated, text) in &expected {
        for (step, block) in hole_comments(text, track.steps()) {
            let names = calls.get(&step).cloned().unwrap_or_default();
            for (number, line) in block {
                for call in names.iter().filter(|c| names_call(&line, c)) {
                    problems.push(format!(
                        "{generated}:{number}: the comment of {step} names `{call}`, a call of its answer: {}",
                        line.trim()
                    ));
                }
            }
        }
    }
    let mut files = BTreeMap::new();
    collect_all(dir, Path::new(""), &mut files, 0)?;
    for (generated, _) in &expected {
        if !files.contains_key(Path::new(generated)) {
            problems.push(format!("{generated} is missing"));
        }
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
        if let Some(want) = Reference::file(&expected, &shown)
            && text != want
        {
            let line = skeleton::first_difference(want, text).map_or(0, |(line, _, _)| line);
            problems.push(format!(
                "{shown}: not the {} track's skeleton generated from the reference (first difference at line {line})",
                track.slug()
            ));
        }
        let document = shown.ends_with(".md") || shown.ends_with(".yml");
        if document && (text.contains("--solution") || text.contains("-p instructor")) {
            problems.push(format!(
                "{shown}: an instructor command (`--solution` or `-p instructor`) in a student document"
            ));
        }
        if shown.starts_with("handout/") {
            for (index, line) in text.lines().enumerate() {
                for (step, names) in &calls {
                    for call in names.iter().filter(|c| names_call(line, c)) {
                        problems.push(format!(
                            "{shown}:{}: names `{call}`, a call of {step}'s answer: {}",
                            index + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
        for (index, line) in text.lines().enumerate() {
            if secrets.contains(line.trim()) {
                problems.push(format!(
                    "{shown}:{}: a line of a reference answer: {}",
                    index + 1,
                    line.trim()
                ));
            }
            if is_marker(line) {
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
instructor package: write the student package

Usage: cargo run -q -p instructor -- package OUT [--track core|deep] [--no-hints] [--no-check]

Writes the directory OUT (and OUT.tar.gz beside it): this workspace without
solutions/, the instructor crate and the other instructor-only paths, with a
README for students and the GitHub Classroom workflow installed. Then checks
it: no line of any reference answer, no call of an answer named in a hole's
comment or the handout, no region marker, no solutions path, no instructor
command in a document, and raft/src/raft.rs is the skeleton. OUT must be new,
empty, or an earlier package.

Options:
  --track T    core (default): the ten holes of raft.rs; deep: the paper's
               rules themselves as holes (raft.rs and raft_log.rs), the ten
               core holes answered
  --no-hints   an exam package: `--hint` says hints are off
  --no-check   skip the content check
  -h, --help   print this help
";

/// What `instructor package` was asked to do.
#[derive(Debug)]
pub struct PackageArgs {
    pub out: PathBuf,
    pub options: PackageOptions,
    /// Check the package for answers after writing it.
    pub check: bool,
}

/// Parses `instructor package`'s arguments; `Ok(None)` is `--help`.
pub fn parse_args(args: Vec<std::ffi::OsString>) -> Result<Option<PackageArgs>, String> {
    let mut options = PackageOptions::default();
    let mut check = true;
    let mut out: Option<PathBuf> = None;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("-h" | "--help") => return Ok(None),
            Some("--no-hints") => options.no_hints = true,
            Some("--track") => {
                let t = it.next().ok_or("--track needs core or deep")?;
                options.track = Track::parse(&t.to_string_lossy())?;
            }
            Some("--no-check") => check = false,
            Some(flag) if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ if out.is_some() => return Err("one directory to write, not two".to_string()),
            _ => out = Some(PathBuf::from(arg)),
        }
    }
    let out = out.ok_or("which directory to write?")?;
    Ok(Some(PackageArgs {
        out,
        options,
        check,
    }))
}

/// `instructor package OUT [--track core|deep] [--no-hints] [--no-check]`.
pub fn package_main(root: &Path, args: Vec<std::ffi::OsString>) -> std::process::ExitCode {
    use std::process::ExitCode;
    let PackageArgs {
        out,
        options,
        check,
    } = match parse_args(args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("instructor package: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let files = match build_package(root, &out, options) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("instructor package: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("wrote {} files to {}", files, out.display());
    match write_tar_gz(&out) {
        Ok(archive) => println!("wrote {}", archive.display()),
        Err(e) => eprintln!("instructor package: no archive: {e}"),
    }
    if !check {
        return ExitCode::SUCCESS;
    }
    match check_package(root, &out, options.track) {
        Ok(problems) if problems.is_empty() => {
            println!(
                "checked: no answer line or answer call, no region marker, no solutions path, no instructor command; raft/src/raft.rs is the skeleton"
            );
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            for problem in &problems {
                eprintln!("instructor package: {problem}");
            }
            eprintln!(
                "instructor package: the package is NOT safe to hand out ({} problems)",
                problems.len()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("instructor package: cannot check the package: {e}");
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
            "_ => break,",
            "_ => {}",
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
            "Some(_) => break,",
        ] {
            assert!(!is_trivial(line), "{line:?} should not be trivial");
        }
    }

    #[test]
    fn secrets_leave_out_trivial_and_public_lines() {
        let reference = Step::ALL
            .iter()
            .enumerate()
            .map(|(i, step)| {
                format!(
                    "    public_call();\n    //>>> RaftLab {step}\n    public_call();\n    secret_{i}();\n    }}\n    //<<< RaftLab {step}\n"
                )
            })
            .collect::<String>();
        let skeleton = skeleton::make_skeleton(&reference).expect("well formed");
        let regions = skeleton::parse_regions(&reference).expect("well formed");
        let regions: Vec<&Region> = regions.iter().collect();
        let secrets = secret_lines(&regions, &[skeleton.as_str()]);
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
            "instructor/src/main.rs",
        ] {
            assert!(is_instructor_only(path), "{path}");
        }
        for path in [
            "solutionsx",
            "raft/src/raft.rs",
            "grader/src/lib.rs",
            "instructors.txt",
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

    #[test]
    fn answer_calls_are_the_functions_an_answer_calls() {
        let reference: String = Step::ALL
            .iter()
            .map(|step| {
                format!("    //>>> RaftLab {step}\n    if self.maybe_commit() {{ self.bcast_append(); }}\n    let m = Message::new(t, 1, 2); todo_not!(x);\n    //<<< RaftLab {step}\n")
            })
            .collect();
        let regions = skeleton::parse_regions(&reference).unwrap();
        let calls = answer_calls(&regions.iter().collect::<Vec<_>>());
        let e1: Vec<&str> = calls[&Step::Election1].iter().map(String::as_str).collect();
        assert_eq!(e1, vec!["bcast_append", "maybe_commit", "new"]);
    }

    #[test]
    fn a_call_is_named_as_code_not_as_a_word() {
        assert!(names_call(
            "then call bcast_append to tell everyone",
            "bcast_append"
        ));
        assert!(names_call("use `self.step(m)`", "step"));
        assert!(names_call("build it with Message::new", "new"));
        assert!(!names_call("this step makes a new term", "step"));
        assert!(!names_call("this step makes a new term", "new"));
        assert!(!names_call("bcast_append_all", "bcast_append"));
        assert!(names_call("the `step` function", "step"));
    }

    #[test]
    fn hole_comments_run_from_the_header_to_the_todo() {
        let text = "fn f() {\n    // ── RaftLab Election Step2 ──\n    // Start an election.\n    todo!(\"RaftLab Election Step2\");\n}\n";
        let holes = hole_comments(text, &Step::ALL);
        assert_eq!(holes.len(), 1);
        assert_eq!(holes[0].0, Step::Election2);
        assert_eq!(holes[0].1.len(), 2);
        assert_eq!(holes[0].1[1].0, 3);
    }

    #[test]
    fn the_student_manifest_has_no_instructor_member() {
        let manifest = "[workspace]\nresolver = \"3\"\nmembers = [\"raftpb\", \"raft\", \"grader\", \"host\", \"instructor\", \"kv\"]\n[workspace.package]\n";
        let out = student_manifest(manifest).unwrap();
        assert!(
            out.contains("members = [\"raftpb\", \"raft\", \"grader\", \"host\", \"kv\"]\n"),
            "{out}"
        );
        let multi = "[workspace]\nmembers = [\n  \"raft\",\n  \"instructor\",\n]\nexclude = []\n";
        let out = student_manifest(multi).unwrap();
        assert_eq!(out, "[workspace]\nmembers = [\"raft\"]\nexclude = []\n");
    }
}
