//! `instructor gradescope OUT.zip`: a Gradescope autograder bundle.
//!
//! ```text
//! OUT.zip
//!   setup.sh            run once by Gradescope to build the image
//!   run_autograder      run for each submission
//!   source/             the student package's files, the instructor crate,
//!                       and solutions/hidden/seeds.txt (nothing else of
//!                       solutions/)
//! ```
//!
//! The bundle is made from the student package's file list (tracked files
//! only, checked for leaks) plus the instructor crate and the hidden seeds;
//! anything else is refused. `setup.sh` installs Rust (rustup, unless cargo
//! is there) and Debian's or Ubuntu's bubblewrap, builds the instructor
//! tool, and prepares the jails' prebuilt skeleton. `run_autograder` runs
//! `instructor grade` on `/autograder/submission`: the submission is built
//! and run in jails as user 65534, the judge (built from the project's code
//! only) writes `results.json`, and the hidden seeds stay outside the
//! jails. When the container cannot run bubblewrap, `results.json` says so
//! instead of grading unconfined. `RAFTLAB_AUTOGRADER_ROOT` replaces
//! `/autograder`, to try the bundle on your own machine.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::hidden::HIDDEN_SEEDS;
use crate::package::{self, PackageOptions};

pub const SETUP_SH: &str = r#"#!/usr/bin/env bash
# RaftLab autograder: Gradescope runs this once, as root, to build the image.
set -euo pipefail

AUTOGRADER=${RAFTLAB_AUTOGRADER_ROOT:-/autograder}
SOURCE=$AUTOGRADER/source

export DEBIAN_FRONTEND=noninteractive
if ! command -v bwrap >/dev/null 2>&1 || ! command -v setpriv >/dev/null 2>&1; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends bubblewrap util-linux
fi
if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends build-essential ca-certificates curl
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
fi
cargo --version

cd "$SOURCE"
cargo fetch --locked
cargo build --release --locked -q -p instructor
# The jails' workspace and the skeleton's build that every submission's
# build starts from.
./target/release/instructor grade --prepare
"#;

pub const RUN_AUTOGRADER: &str = r#"#!/usr/bin/env bash
# RaftLab autograder: grades one submission and writes results.json. Only
# raft/src/raft.rs (or a raft.rs at the top) is taken from it; it is built
# and run in jails, and the judge writes the results.
set -uo pipefail

AUTOGRADER=${RAFTLAB_AUTOGRADER_ROOT:-/autograder}
SOURCE=$AUTOGRADER/source
RESULTS=$AUTOGRADER/results
mkdir -p "$RESULTS"

if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
export CARGO_NET_OFFLINE=true

instructor=$SOURCE/target/release/instructor
broken() {
    printf '{"score": 0, "output": "%s Please tell your instructor.", "tests": []}\n' "$1" >"$RESULTS/results.json"
    exit 0
}
[ -x "$instructor" ] || broken "The autograder is broken: it was not built (setup.sh failed)."

out=$(mktemp -d)
cd "$SOURCE" || broken "The autograder is broken: no source folder."
if ! "$instructor" grade --out "$out" "$AUTOGRADER/submission" 2>"$out/grade.log"; then
    if grep -q bubblewrap "$out/grade.log"; then
        broken "The autograder could not start its sandbox (bubblewrap) in this container, so it did not run your code."
    fi
    broken "The autograder could not grade this submission."
fi
if [ -f "$out/submissions/submission/results.json" ]; then
    cp "$out/submissions/submission/results.json" "$RESULTS/results.json"
else
    broken "The autograder could not grade this submission."
fi
"#;

pub const USAGE: &str = "\
instructor gradescope: write a Gradescope autograder bundle

Usage: cargo run -q -p instructor -- gradescope OUT.zip

The bundle holds setup.sh (installs Rust with rustup unless cargo is there,
and bubblewrap; builds the instructor tool and the jails' prebuilt
skeleton), run_autograder (grades /autograder/submission in jails, hidden
seeds included, and writes /autograder/results/results.json), and source/:
the student package, the instructor crate and the hidden seeds. Upload it as
the assignment's autograder. RAFTLAB_AUTOGRADER_ROOT replaces /autograder,
to try the bundle on your own machine.
";

/// The files of the bundle's `source/`: the checked student package's,
/// with the workspace manifest and lock file of the instructors', the
/// instructor crate (tracked files only) and the hidden seeds.
pub fn bundle_files(root: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let mut files: Vec<(PathBuf, Vec<u8>)> =
        package::package_files(root, PackageOptions::default())?
            .into_iter()
            .collect();
    let read = |relative: &str| {
        fs::read(root.join(relative)).map_err(|e| format!("cannot read {relative}: {e}"))
    };
    for (path, bytes) in files.iter_mut() {
        if path == Path::new("Cargo.toml") {
            *bytes = read("Cargo.toml")?;
        }
    }
    let tracked = Command::new("git")
        .args(["ls-files", "-z", "instructor"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !tracked.status.success() {
        return Err("git ls-files failed: the bundle is made from a git checkout".to_string());
    }
    for path in tracked.stdout.split(|&b| b == 0).filter(|p| !p.is_empty()) {
        let relative = String::from_utf8_lossy(path).into_owned();
        files.push((PathBuf::from(&relative), read(&relative)?));
    }
    if root.join(HIDDEN_SEEDS).is_file() {
        files.push((PathBuf::from(HIDDEN_SEEDS), read(HIDDEN_SEEDS)?));
    }
    Ok(files)
}

/// Writes the bundle's files into `dir` (replaced when it exists).
pub fn write_bundle_dir(root: &Path, dir: &Path) -> Result<(), String> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    let source = dir.join("source");
    for (relative, bytes) in bundle_files(root)? {
        let path = source.join(&relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if relative == Path::new("raftlab_test.sh") {
            make_executable(&path)?;
        }
    }
    for (name, text) in [("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)] {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        make_executable(&path)?;
    }
    Ok(())
}

fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make {} executable: {e}", path.display()))
}

/// Zips the contents of `dir` (not `dir` itself) into `zip`, with the zip
/// crate, keeping the executable bits.
pub fn zip_dir(dir: &Path, zip: &Path) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let file =
        fs::File::create(zip).map_err(|e| format!("cannot create {}: {e}", zip.display()))?;
    let mut writer = zip::ZipWriter::new(file);
    let mut stack = vec![PathBuf::new()];
    let mut entries = Vec::new();
    while let Some(relative) = stack.pop() {
        let path = dir.join(&relative);
        let mut children: Vec<_> = fs::read_dir(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(Result::ok)
            .collect();
        children.sort_by_key(|e| e.file_name());
        for child in children {
            let rel = relative.join(child.file_name());
            let kind = child.file_type().map_err(|e| e.to_string())?;
            if kind.is_dir() {
                stack.push(rel);
            } else if kind.is_file() {
                entries.push(rel);
            }
        }
    }
    entries.sort();
    for rel in entries {
        let path = dir.join(&rel);
        let mode = fs::metadata(&path)
            .map_err(|e| e.to_string())?
            .permissions()
            .mode();
        let options = zip::write::SimpleFileOptions::default().unix_permissions(mode & 0o777);
        let name = rel.to_string_lossy().replace('\\', "/");
        writer
            .start_file(name, options)
            .map_err(|e| format!("zip: {e}"))?;
        let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        writer.write_all(&bytes).map_err(|e| format!("zip: {e}"))?;
    }
    writer.finish().map_err(|e| format!("zip: {e}"))?;
    Ok(())
}

/// `instructor gradescope OUT.zip`.
pub fn gradescope_main(root: &Path, args: Vec<OsString>) -> ExitCode {
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if words.iter().any(|w| w == "-h" || w == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let [out] = words.as_slice() else {
        eprintln!("instructor gradescope: expected one argument, the zip file to write\n\n{USAGE}");
        return ExitCode::from(2);
    };
    if !out.ends_with(".zip") {
        eprintln!("instructor gradescope: {out} should end in .zip");
        return ExitCode::from(2);
    }
    let scratch = root.join("target/raftlab/gradescope");
    let result = write_bundle_dir(root, &scratch)
        .and_then(|()| {
            // The package inside must pass the leak check.
            let problems =
                package::check_package(root, &scratch.join("source"), grader::model::Track::Core)?;
            let problems: Vec<String> = problems
                .into_iter()
                // The instructor crate and the hidden seeds are in the
                // bundle on purpose; the student package's part must be clean.
                .filter(|p| !p.starts_with("instructor/") && !p.starts_with("solutions/"))
                .collect();
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("\n"))
            }
        })
        .and_then(|()| zip_dir(&scratch, Path::new(out)));
    match result {
        Ok(()) => {
            println!(
                "wrote {out}: setup.sh, run_autograder and source/ (the student package, the instructor crate, the hidden seeds; unpacked in {})",
                scratch.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("instructor gradescope: {e}");
            ExitCode::FAILURE
        }
    }
}
