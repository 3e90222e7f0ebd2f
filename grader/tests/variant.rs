//! `variant::prepare` on a small fake workspace in a temporary directory:
//! what it copies, that a second call rewrites nothing, that it follows
//! changes in the source, and that the source tree is never modified.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use grader::skeleton::{self, Step};
use grader::variant::{self, Variant};

const REFERENCE: &str = include_str!("fixtures/raft.rs");
const SKELETON: &str = include_str!("fixtures/raft.skeleton.rs");
const MUTANT: &str = include_str!("fixtures/mutants/vote_twice.rs");

/// A fake workspace, removed when the test ends (kept if it panics, to look at).
struct Workspace {
    root: PathBuf,
}

impl Workspace {
    fn new(test_name: &str) -> Workspace {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let root = std::env::temp_dir().join(format!(
            "raftlab-{test_name}-{}-{nanos}",
            std::process::id()
        ));
        let workspace = Workspace { root };
        for (path, content) in [
            (
                "Cargo.toml",
                "[workspace]\nresolver = \"3\"\nmembers = [\"raft\", \"grader\"]\n\n[workspace.package]\nversion = \"0.1.0\"\n",
            ),
            ("Cargo.lock", "# lock\n"),
            ("rust-toolchain.toml", "[toolchain]\n"),
            ("notes.txt", "not part of any crate\n"),
            ("raft/Cargo.toml", "[package]\nname = \"raft\"\n"),
            ("raft/src/lib.rs", "pub mod raft;\n"),
            ("raft/src/raft.rs", SKELETON),
            ("raft/target/debug/junk", "build output\n"),
            ("grader/Cargo.toml", "[package]\nname = \"grader\"\n"),
            ("grader/src/lib.rs", "//! grader\n"),
            ("grader/tests/old.rs", "#[test]\nfn old() {}\n"),
            (
                "bench/Cargo.toml",
                "[package]\nname = \"raftlab-bench\"\n[workspace]\n",
            ),
            ("bench/target/release/junk", "build output\n"),
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("target/debug/junk", "build output\n"),
            ("solutions/raft.rs", REFERENCE),
            ("solutions/mutants/vote_twice.rs", MUTANT),
        ] {
            workspace.write(path, content);
        }
        workspace
    }

    fn write(&self, relative: &str, content: &str) {
        let path = self.root.join(relative);
        fs::create_dir_all(path.parent().expect("a file has a parent")).expect("create dirs");
        fs::write(&path, content).expect("write a file of the fake workspace");
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

/// Every file under `dir` (skipping `skip`), with its content and mtime.
fn snapshot(dir: &Path, skip: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).expect("read_dir") {
            let path = entry.expect("dir entry").path();
            if path == skip {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                let metadata = fs::metadata(&path).expect("metadata");
                let modified = metadata.modified().expect("mtime");
                let content = fs::read(&path).expect("read");
                files.insert(
                    path.strip_prefix(dir).expect("under dir").to_path_buf(),
                    (content, modified),
                );
            }
        }
    }
    files
}

/// Sets every file's mtime under `dir` to one old instant, so a rewrite,
/// however quick, shows as a newer mtime.
fn age_files(dir: &Path) -> SystemTime {
    let old = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    for path in snapshot(dir, Path::new("")).keys() {
        let file = fs::File::options()
            .write(true)
            .open(dir.join(path))
            .expect("open");
        file.set_modified(old).expect("set mtime");
    }
    old
}

fn read(path: PathBuf) -> String {
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn prepare_copies_the_crates_and_writes_the_variant() {
    let workspace = Workspace::new("copies");
    let root = &workspace.root;
    let dir = variant::prepare(root, &Variant::Reference).expect("prepare the reference");
    assert_eq!(dir, root.join("target/raftlab/variants/reference"));

    let copied: Vec<PathBuf> = snapshot(&dir, Path::new("")).into_keys().collect();
    let expected: Vec<PathBuf> = [
        "Cargo.lock",
        "Cargo.toml",
        "bench/Cargo.toml",
        "grader/Cargo.toml",
        "grader/src/lib.rs",
        "grader/tests/old.rs",
        "raft/Cargo.toml",
        "raft/src/lib.rs",
        "raft/src/raft.rs",
        "rust-toolchain.toml",
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(
        copied, expected,
        "the members and bench/, but no target/, .git/, solutions/ or stray files"
    );
    assert_eq!(
        read(dir.join("raft/src/raft.rs")),
        skeleton::strip_markers(REFERENCE)
    );
    assert_eq!(
        read(dir.join("Cargo.toml")),
        read(root.join("Cargo.toml")).replace("\"0.1.0\"", "\"0.1.0-rl-reference\""),
        "the manifest is copied with a workspace version of the variant's own"
    );
}

#[test]
fn prepare_keeps_scripts_executable() {
    use std::os::unix::fs::PermissionsExt;
    let workspace = Workspace::new("modes");
    let root = &workspace.root;
    workspace.write("grader/run.sh", "#!/bin/sh\necho hi\n");
    let script = root.join("grader/run.sh");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    let dir = variant::prepare(root, &Variant::Reference).expect("prepare the reference");
    let mode = fs::metadata(dir.join("grader/run.sh"))
        .expect("copied")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o755,
        "the copy of an executable script stays executable"
    );
}

#[test]
fn prepare_rewrites_only_changed_files_and_never_the_source() {
    let workspace = Workspace::new("incremental");
    let root = &workspace.root;
    let scratch_root = root.join("target");
    let source_before = snapshot(root, &scratch_root);

    let dir = variant::prepare(root, &Variant::MinusStep(Step::Election5)).expect("first prepare");
    let old = age_files(&dir);
    let dir_again =
        variant::prepare(root, &Variant::MinusStep(Step::Election5)).expect("second prepare");
    assert_eq!(dir, dir_again);
    for (path, (_, modified)) in snapshot(&dir, Path::new("")) {
        assert_eq!(
            modified,
            old,
            "{} was rewritten with unchanged content",
            path.display()
        );
    }

    // The source changes: one file edited, one deleted, one added.
    workspace.write("grader/src/lib.rs", "//! grader, edited\n");
    fs::remove_file(root.join("grader/tests/old.rs")).expect("remove old.rs");
    workspace.write("grader/tests/new.rs", "#[test]\nfn new() {}\n");
    let source_edited = snapshot(root, &scratch_root);
    variant::prepare(root, &Variant::MinusStep(Step::Election5)).expect("third prepare");
    let after = snapshot(&dir, Path::new(""));
    assert_eq!(read(dir.join("grader/src/lib.rs")), "//! grader, edited\n");
    assert!(
        !dir.join("grader/tests/old.rs").exists(),
        "a file deleted in the source stays deleted"
    );
    assert!(dir.join("grader/tests/new.rs").exists());
    for (path, (_, modified)) in &after {
        let changed =
            path.starts_with("grader/src/lib.rs") || path.starts_with("grader/tests/new.rs");
        assert_eq!(
            *modified == old,
            !changed,
            "{}: mtime {modified:?}",
            path.display()
        );
    }

    // Only target/ was ever written to.
    assert_eq!(snapshot(root, &scratch_root), source_edited);
    assert_eq!(source_before.len(), source_edited.len());
}

#[test]
fn every_variant_gets_its_raft_rs() {
    let workspace = Workspace::new("variants");
    let root = &workspace.root;
    let raft_rs = |variant: &Variant| {
        let dir = variant::prepare(root, variant).unwrap_or_else(|e| panic!("{variant}: {e}"));
        read(dir.join("raft/src/raft.rs"))
    };
    assert_eq!(raft_rs(&Variant::Skeleton), SKELETON);
    assert_eq!(
        raft_rs(&Variant::MinusStep(Step::Replication2)),
        skeleton::minus_step(REFERENCE, Step::Replication2).expect("minus step")
    );
    let mutated = skeleton::apply_mutant(REFERENCE, MUTANT).expect("mutant").0;
    assert_eq!(raft_rs(&Variant::Mutant("vote_twice".into())), mutated);
    assert_eq!(
        raft_rs(&Variant::Mutant(
            root.join("solutions/mutants/vote_twice.rs")
        )),
        mutated
    );
    workspace.write("submissions/alice/raft.rs", "// alice\n");
    assert_eq!(
        raft_rs(&Variant::File(root.join("submissions/alice/raft.rs"))),
        "// alice\n"
    );
}

#[test]
fn variant_errors_are_one_clear_line() {
    let workspace = Workspace::new("errors");
    let root = &workspace.root;
    let error = |variant: Variant| {
        let message = variant::prepare(root, &variant).expect_err("an error");
        assert!(!message.contains('\n'), "{message}");
        message
    };
    let missing = root.join("nowhere/raft.rs");
    let message = error(Variant::File(missing.clone()));
    assert!(
        message.starts_with(&format!("cannot read submission {}", missing.display())),
        "{message}"
    );
    let message = error(Variant::Mutant("no_such_mutant".into()));
    assert!(
        message.contains("solutions/mutants/no_such_mutant.rs"),
        "{message}"
    );

    workspace.write("solutions/mutants/bad.rs", "//! mutant: m\n//! step: E8\n");
    let message = error(Variant::Mutant("bad".into()));
    assert!(
        message.contains("bad.rs: line 2: unknown step \"E8\""),
        "{message}"
    );

    workspace.write(
        "solutions/raft.rs",
        &REFERENCE.replace("//<<< RaftLab Election Step4", ""),
    );
    let message = error(Variant::Reference);
    assert!(
        message.starts_with("solutions/raft.rs: line 50: `//>>> RaftLab Election Step5` opens a region while Election Step4 (opened at line 42) is still open"),
        "{message}"
    );

    fs::remove_dir_all(root.join("solutions")).expect("remove solutions/");
    let message = error(Variant::MinusStep(Step::Election1));
    assert!(message.contains("no solutions/raft.rs in"), "{message}");
    assert!(message.contains("student package"), "{message}");
    // The student package still runs its own raft.rs.
    variant::prepare(root, &Variant::Skeleton).expect("the skeleton variant needs no solutions/");
}

#[test]
fn the_root_is_found_from_below() {
    let workspace = Workspace::new("root");
    let root = &workspace.root;
    assert_eq!(
        variant::find_root_from(&root.join("raft/src")).as_ref(),
        Ok(root)
    );
    assert_eq!(variant::find_root_from(root).as_ref(), Ok(root));
    let error = variant::find_root_from(&std::env::temp_dir()).expect_err("temp is no workspace");
    assert!(
        error.starts_with("not inside a RaftLab workspace"),
        "{error}"
    );
}
