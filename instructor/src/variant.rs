//! Variants: this workspace with `raft/src/raft.rs` replaced.
//!
//! A variant is built in a scratch copy of the workspace under
//! `target/raftlab/variants/<slug>/`, never in the user's tree, with a cargo
//! target directory of its own inside it (`<slug>/target/`): builds of
//! different variants never share or overwrite an artifact. [`prepare`]
//! only rewrites the files whose content changed, so cargo's fingerprints
//! stay valid and building a variant again rebuilds only what differs.
//!
//! ```text
//! <root>/
//!   Cargo.toml, Cargo.lock, raft/, grader/, host/   the user's tree: only read
//!   bench/                                          (copied too when present)
//!   solutions/raft.rs                               the reference (instructors only)
//!   target/raftlab/variants/
//!     reference/                                    Cargo.toml, raft/, ..., target/
//!     minus-e3/                                     ...
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Component, Path, PathBuf};

use grader::model::{Step, Track};

use crate::skeleton::{self, Choice};
use crate::sources::{Generated, Reference, SOURCES};

/// The file every variant replaces, relative to the workspace root.
pub const RAFT_RS: &str = "raft/src/raft.rs";
/// The complete reference, relative to the workspace root.
pub const REFERENCE_RS: &str = "solutions/raft.rs";
/// Where mutants live, relative to the workspace root.
pub const MUTANTS_DIR: &str = "solutions/mutants";
/// Where the correct-but-different answers live.
pub const ALTERNATIVES_DIR: &str = "solutions/alternatives";

/// Top-level files and directories, besides the workspace members, that
/// change how cargo builds and so belong in every scratch copy.
const BUILD_CONFIG: [&str; 7] = [
    "Cargo.lock",
    "rust-toolchain",
    "rust-toolchain.toml",
    ".cargo",
    "rustfmt.toml",
    ".rustfmt.toml",
    "clippy.toml",
];

/// Crates outside the root workspace (each a `[workspace]` of its own, in
/// the root's `exclude` list) that build against `../raft` and so must see
/// the variant's `raft.rs`: copied too, when present. `bench/` compares the
/// library with raft-rs, which students never compile.
const DETACHED_CRATES: [&str; 1] = ["bench"];

/// Directory names never copied, at any depth: build output and git data.
const SKIPPED_NAMES: [&str; 2] = ["target", ".git"];

/// How deep a copied tree may nest; deeper means a symlink loop, not a crate.
const MAX_DEPTH: usize = 32;

/// Which `raft/src/raft.rs` a variant compiles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The committed `raft/src/raft.rs`, as is (the skeleton, or a student's
    /// work in progress).
    Skeleton,
    /// `solutions/raft.rs` without its markers.
    Reference,
    /// Any file, e.g. a student's submission.
    File(PathBuf),
    /// The reference with one step's answer replaced by its `todo!()`.
    MinusStep(Step),
    /// The reference with one step's answer replaced by a mutant's (or an
    /// alternative's) body. A bare name (`e5_no_record`) that is not a file
    /// is looked up in `solutions/mutants/`, then `solutions/alternatives/`.
    Mutant(PathBuf),
    /// The reference's answers for the first `k` steps in the guide's order,
    /// `todo!()` for the rest: a student `k` steps in.
    Prefix(usize),
    /// The validation's zoo: the generated files written in this folder
    /// (at their paths under it).
    Zoo(PathBuf),
    /// The same in the deep track: the first `k` deep steps answered, the
    /// other deep steps `todo!()`, the core ones answered. `DeepPrefix(0)`
    /// is the deep track's skeleton.
    DeepPrefix(usize),
    /// A submission in bulk grading: like `File`, but every submission
    /// shares one scratch copy and one set of build artifacts, so grading a
    /// class does not leave a build per student on disk. Each new
    /// submission's `raft.rs` is written anew, so cargo rebuilds it; builds
    /// must be one at a time, and each binary copied out before the next.
    Submission(PathBuf),
}

impl Variant {
    /// The scratch directory's name: `skeleton`, `reference`, `minus-e3`,
    /// `mutant-<name>`, `file-<name>-<hash of its path>`.
    pub fn slug(&self) -> String {
        match self {
            Variant::Skeleton => "skeleton".to_string(),
            Variant::Reference => "reference".to_string(),
            Variant::MinusStep(step) => format!("minus-{}", step.short_name().to_lowercase()),
            Variant::Prefix(k) => format!("prefix-{k}"),
            Variant::DeepPrefix(k) => format!("deep-prefix-{k}"),
            Variant::Zoo(_) => "zoo".to_string(),
            Variant::Mutant(path) => format!("mutant-{}", file_stem_slug(path)),
            Variant::Submission(_) => "submission".to_string(),
            Variant::File(path) => {
                // Submissions are often all called raft.rs: tell them apart
                // by where they are.
                let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let mut hasher = DefaultHasher::new();
                absolute.hash(&mut hasher);
                format!(
                    "file-{}-{:08x}",
                    file_stem_slug(path),
                    hasher.finish() as u32
                )
            }
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Variant::Skeleton => write!(f, "the committed {RAFT_RS}"),
            Variant::Reference => write!(f, "the reference"),
            Variant::File(path) | Variant::Submission(path) => write!(f, "{}", path.display()),
            Variant::MinusStep(step) => write!(f, "the reference minus {step}"),
            Variant::Prefix(k) => write!(f, "the reference's first {k} steps"),
            Variant::DeepPrefix(k) => write!(f, "the reference's first {k} deep steps"),
            Variant::Zoo(dir) => write!(f, "the zoo in {}", dir.display()),
            Variant::Mutant(path) => write!(f, "mutant {}", path.display()),
        }
    }
}

fn file_stem_slug(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let slug: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if slug.is_empty() {
        "unnamed".to_string()
    } else {
        slug
    }
}

/// The cargo target directory of a variant's scratch copy.
pub fn target_dir(root: &Path, variant: &Variant) -> PathBuf {
    variant_dir(root, variant).join("target")
}

/// The scratch copy of the workspace in which `variant` is built.
pub fn variant_dir(root: &Path, variant: &Variant) -> PathBuf {
    root.join("target")
        .join("raftlab")
        .join("variants")
        .join(variant.slug())
}

/// The workspace root above the current directory: see [`find_root_from`].
pub fn find_root() -> Result<PathBuf, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    find_root_from(&cwd)
}

/// The nearest directory, from `start` upwards, holding a `Cargo.toml` with a
/// `[workspace]` table and a `raft/` directory.
pub fn find_root_from(start: &Path) -> Result<PathBuf, String> {
    start
        .ancestors()
        .find(|dir| {
            let is_workspace = fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.lines().any(|line| line.trim() == "[workspace]"));
            is_workspace && dir.join("raft").is_dir()
        })
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            format!(
                "not inside a RaftLab workspace: no Cargo.toml with [workspace] next to a raft/ \
                 directory in {} or above",
                start.display()
            )
        })
}

/// The member directories listed by `members = [...]` in the `[workspace]`
/// table of a root `Cargo.toml`. A simple reader, not a TOML parser: it
/// understands one array of quoted relative paths, on one line or several.
pub fn workspace_members(manifest: &str) -> Result<Vec<String>, String> {
    let mut in_workspace = false;
    let mut array: Option<String> = None;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(text) = &mut array {
            text.push_str(line);
            if line.contains(']') {
                break;
            }
            continue;
        }
        if line.starts_with('[') {
            in_workspace = line == "[workspace]";
        } else if in_workspace {
            let value = line
                .strip_prefix("members")
                .map(str::trim_start)
                .and_then(|rest| rest.strip_prefix('='));
            if let Some(value) = value {
                array = Some(value.trim().to_string());
                if value.contains(']') {
                    break;
                }
            }
        }
    }
    let Some(array) = array else {
        return Err("Cargo.toml: no `members = [...]` in its [workspace] table".to_string());
    };
    let inner = array
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .map(|(inner, _)| inner)
        .ok_or_else(|| format!("Cargo.toml: cannot read `members = {array}` as a list"))?;
    let mut members = Vec::new();
    for item in inner
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let member = item
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .ok_or_else(|| format!("Cargo.toml: workspace member {item} is not a quoted path"))?;
        let path = Path::new(member);
        let plain = !member.is_empty()
            && !member.contains(['*', '?', '['])
            && path.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(format!(
                "Cargo.toml: workspace member {member:?} is not a plain relative directory \
                 (globs and `..` are not supported)"
            ));
        }
        members.push(member.to_string());
    }
    Ok(members)
}

fn read_text(path: &Path, what: &str) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))
}

/// The reference, checked: all ten regions well formed.
pub fn read_reference(root: &Path) -> Result<String, String> {
    let path = root.join(REFERENCE_RS);
    if !path.is_file() {
        return Err(format!(
            "no {REFERENCE_RS} in {}: the reference is only in the instructors' repository, \
             not in the student package",
            root.display()
        ));
    }
    let reference = read_text(&path, "the reference")?;
    skeleton::parse_regions(&reference).map_err(|e| format!("{REFERENCE_RS}: {e}"))?;
    Ok(reference)
}

/// Where a mutant's file is: the path itself, or for a bare name that is not
/// a file, `solutions/mutants/<name>.rs`, else `solutions/alternatives/<name>.rs`.
pub fn resolve_mutant(root: &Path, path: &Path) -> PathBuf {
    let is_bare_name = path.components().count() == 1;
    if path.exists() || !is_bare_name {
        return path.to_path_buf();
    }
    let named = |dir: &str| {
        let p = root.join(dir).join(path);
        if p.extension().is_none() {
            p.with_extension("rs")
        } else {
            p
        }
    };
    let in_mutants = named(MUTANTS_DIR);
    let in_alternatives = named(ALTERNATIVES_DIR);
    if !in_mutants.exists() && in_alternatives.exists() {
        in_alternatives
    } else {
        in_mutants
    }
}

/// The generated files of the variant: `raft/src/raft.rs`, and
/// `raft/src/raft_log.rs` when the reference marks it too.
pub fn variant_files(root: &Path, variant: &Variant) -> Result<Generated, String> {
    let committed = || -> Result<Generated, String> {
        let mut files = Vec::new();
        for source in SOURCES {
            let path = root.join(source.generated);
            match fs::read_to_string(&path) {
                Ok(text) => files.push((source.generated, text)),
                Err(_) if !source.required => {}
                Err(e) => {
                    return Err(format!(
                        "cannot read {}: {e} (generate it with `cargo run -q -p instructor -- skeleton`)",
                        path.display()
                    ));
                }
            }
        }
        Ok(files)
    };
    let render = |choose: &dyn Fn(Step) -> Choice| Reference::read(root)?.render(choose);
    match variant {
        Variant::Skeleton => committed(),
        Variant::Reference => render(&|_| Choice::Answer),
        Variant::File(path) | Variant::Submission(path) => {
            let mut files = committed()?;
            let text = read_text(path, "submission")?;
            for (generated, t) in files.iter_mut() {
                if *generated == RAFT_RS {
                    *t = text.clone();
                }
            }
            Ok(files)
        }
        Variant::Zoo(dir) => {
            let mut files = committed()?;
            for (generated, text) in files.iter_mut() {
                let path = dir.join(generated);
                if path.is_file() {
                    *text = read_text(&path, "zoo file")?;
                }
            }
            Ok(files)
        }
        Variant::MinusStep(step) => render(&|s| {
            if s == *step {
                Choice::Todo
            } else {
                Choice::Answer
            }
        }),
        Variant::Prefix(k) => {
            let done = &Step::ALL[..(*k).min(Step::ALL.len())];
            render(&|s| {
                if s.track() != Track::Core || done.contains(&s) {
                    Choice::Answer
                } else {
                    Choice::Todo
                }
            })
        }
        Variant::DeepPrefix(k) => {
            let done = &Step::DEEP[..(*k).min(Step::DEEP.len())];
            render(&|s| {
                if s.track() != Track::Deep || done.contains(&s) {
                    Choice::Answer
                } else {
                    Choice::Todo
                }
            })
        }
        Variant::Mutant(path) => {
            let path = resolve_mutant(root, path);
            let mutant = read_text(&path, "mutant")?;
            let (info, body) =
                skeleton::parse_mutant(&mutant).map_err(|e| format!("{}: {e}", path.display()))?;
            let reference = Reference::read(root)?;
            if reference.region(info.step).is_none() {
                return Err(format!(
                    "{}: the reference has no region for {}",
                    path.display(),
                    info.step
                ));
            }
            reference.render(&|s| {
                if s == info.step {
                    Choice::Body(body.clone())
                } else {
                    Choice::Answer
                }
            })
        }
    }
}

/// Creates or refreshes the scratch copy of the workspace for `variant` and
/// returns its directory. Copies `Cargo.toml`, the workspace members, the
/// detached crates that build against them (`bench/`) and the build
/// configuration (`Cargo.lock`, `.cargo/`, toolchain and lint files),
/// skipping `target/` and `.git/`, then writes the variant's
/// `raft/src/raft.rs`. Only files whose content changed are written, and
/// files that vanished from the source are removed from the copy. The user's
/// tree is only read.
pub fn prepare(root: &Path, variant: &Variant) -> Result<PathBuf, String> {
    let generated = variant_files(root, variant)?;
    let manifest = read_text(&root.join("Cargo.toml"), "the workspace manifest")?;
    let members = workspace_members(&manifest)?;
    if !members.iter().any(|member| member == "raft") {
        return Err(format!(
            "{}: the workspace has no `raft` member",
            root.join("Cargo.toml").display()
        ));
    }

    let mut tree = Tree::default();
    tree.files
        .insert(PathBuf::from("Cargo.toml"), manifest.into_bytes());
    let copied: Vec<&str> = members
        .iter()
        .map(String::as_str)
        .chain(DETACHED_CRATES)
        .chain(BUILD_CONFIG)
        .collect();
    for name in &copied {
        tree.read(root, Path::new(name), 0)?;
    }
    for (path, text) in generated {
        tree.files.insert(PathBuf::from(path), text.into_bytes());
    }

    let dir = variant_dir(root, variant);
    fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create the variant directory {}: {e}", dir.display()))?;
    for name in &copied {
        tree.remove_stale(&dir, Path::new(name), 0)
            .map_err(|e| format!("cannot clean {}: {e}", dir.join(name).display()))?;
    }
    tree.write(&dir)?;
    Ok(dir)
}

/// The files a scratch copy should hold, relative to the workspace root.
#[derive(Default)]
struct Tree {
    files: BTreeMap<PathBuf, Vec<u8>>,
    /// The permissions of copied files, so scripts stay executable.
    modes: BTreeMap<PathBuf, fs::Permissions>,
    dirs: BTreeSet<PathBuf>,
}

impl Tree {
    /// Adds `relative` (a file, or a directory read recursively) under
    /// `root`; a path that does not exist adds nothing.
    fn read(&mut self, root: &Path, relative: &Path, depth: usize) -> Result<(), String> {
        let path = root.join(relative);
        let error = |e: io::Error| format!("cannot copy {}: {e}", path.display());
        if depth > MAX_DEPTH {
            return Err(format!(
                "cannot copy {}: nested more than {MAX_DEPTH} directories deep (a symlink loop?)",
                path.display()
            ));
        }
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(error(e)),
        };
        if metadata.is_file() {
            self.files
                .insert(relative.to_path_buf(), fs::read(&path).map_err(error)?);
            self.modes
                .insert(relative.to_path_buf(), metadata.permissions());
        } else if metadata.is_dir() {
            self.dirs.insert(relative.to_path_buf());
            for entry in fs::read_dir(&path).map_err(error)? {
                let name = entry.map_err(error)?.file_name();
                if !SKIPPED_NAMES.iter().any(|skipped| name == *skipped) {
                    self.read(root, &relative.join(name), depth + 1)?;
                }
            }
        }
        Ok(())
    }

    /// Removes from the copy at `dir` whatever under `relative` is no longer
    /// in the tree, leaving skipped names (a `target/` of its own) alone.
    fn remove_stale(&self, dir: &Path, relative: &Path, depth: usize) -> io::Result<()> {
        let path = dir.join(relative);
        let metadata = match fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if metadata.is_dir() {
            if !self.dirs.contains(relative) {
                return fs::remove_dir_all(&path);
            }
            if depth > MAX_DEPTH {
                return Ok(());
            }
            for entry in fs::read_dir(&path)? {
                let name = entry?.file_name();
                if !SKIPPED_NAMES.iter().any(|skipped| name == *skipped) {
                    self.remove_stale(dir, &relative.join(name), depth + 1)?;
                }
            }
        } else if !self.files.contains_key(relative) {
            fs::remove_file(&path)?;
        }
        Ok(())
    }

    /// Writes every file whose content differs from what is at `dir`.
    fn write(&self, dir: &Path) -> Result<(), String> {
        for (relative, content) in &self.files {
            let path = dir.join(relative);
            let mode = self.modes.get(relative);
            let same_mode = |p: &Path| {
                mode.is_none_or(|m| fs::metadata(p).is_ok_and(|have| have.permissions() == *m))
            };
            if fs::read(&path).is_ok_and(|existing| existing == *content) && same_mode(&path) {
                continue;
            }
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            fs::write(&path, content)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            if let Some(mode) = mode {
                fs::set_permissions(&path, mode.clone())
                    .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_read_from_one_or_several_lines() {
        let manifest = "[package]\nmembers = [\"no\"]\n[workspace]\nresolver = \"3\"\nmembers = [\"raft\", \"grader\"]\n";
        assert_eq!(
            workspace_members(manifest),
            Ok(vec!["raft".into(), "grader".into()])
        );
        let manifest = "[workspace]\nmembers = [\n  \"raft\", # the library\n  \"crates/kv\",\n]\n[workspace.package]\n";
        assert_eq!(
            workspace_members(manifest),
            Ok(vec!["raft".into(), "crates/kv".into()])
        );
    }

    #[test]
    fn members_that_cannot_be_copied_simply_are_errors() {
        for (manifest, expected) in [
            ("[workspace]\nresolver = \"3\"\n", "no `members = [...]`"),
            (
                "[workspace]\nmembers = [\"crates/*\"]\n",
                "globs and `..` are not supported",
            ),
            (
                "[workspace]\nmembers = [\"../outside\"]\n",
                "globs and `..` are not supported",
            ),
            ("[workspace]\nmembers = [raft]\n", "is not a quoted path"),
            ("[workspace]\nmembers = \"raft\"\n", "cannot read `members"),
        ] {
            let error = workspace_members(manifest).expect_err(manifest);
            assert!(error.contains(expected), "{manifest:?}: {error}");
        }
    }

    #[test]
    fn slugs_name_the_variant() {
        assert_eq!(Variant::Skeleton.slug(), "skeleton");
        assert_eq!(Variant::Reference.slug(), "reference");
        assert_eq!(Variant::MinusStep(Step::Replication3).slug(), "minus-r3");
        assert_eq!(
            Variant::Mutant("solutions/mutants/vote twice.rs".into()).slug(),
            "mutant-vote_twice"
        );
        let a = Variant::File("alice/raft.rs".into()).slug();
        let b = Variant::File("bob/raft.rs".into()).slug();
        assert!(
            a.starts_with("file-raft-") && b.starts_with("file-raft-"),
            "{a} {b}"
        );
        assert_ne!(a, b);
    }

    #[test]
    fn each_variant_has_its_own_target_dir() {
        let root = Path::new("/w");
        assert_eq!(
            target_dir(root, &Variant::Reference),
            Path::new("/w/target/raftlab/variants/reference/target")
        );
        assert_eq!(
            variant_dir(root, &Variant::Prefix(4)),
            Path::new("/w/target/raftlab/variants/prefix-4")
        );
    }
}
