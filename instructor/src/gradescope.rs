//! `raftlab gradescope OUT.zip`: a Gradescope autograder bundle.
//!
//! ```text
//! OUT.zip
//!   setup.sh            run once by Gradescope to build the image
//!   run_autograder      run for each submission
//!   raftlab/            the student package (see `grader::package`)
//!   hidden/seeds.txt    the hidden scenario seeds (never in the package)
//! ```
//!
//! Assumptions about Gradescope's image, which `setup.sh` states too: an
//! Ubuntu base image, run as root, with network access while `setup.sh`
//! runs (Gradescope's documented default). The workspace needs a recent
//! stable Rust (edition 2024), newer than Ubuntu's own `rustc` package, so
//! `setup.sh` installs Rust with rustup unless `cargo` is already there.
//! It then fetches the crates and builds the grader and its dependencies,
//! so that grading one submission only compiles the student's `raft.rs`,
//! offline.
//!
//! `run_autograder` is `raftlab grade` on `/autograder/submission`: it
//! finds the submission's `raft/src/raft.rs` (or a `raft.rs` at its top),
//! grades it with the hidden seeds, and copies the submission's
//! `results.json` to `/autograder/results/`. A missing file, a build error
//! or a hang still gives a `results.json` that says so. For testing outside
//! Gradescope, `RAFTLAB_AUTOGRADER_ROOT` replaces `/autograder`.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::hidden::HIDDEN_SEEDS;
use crate::package;
use crate::variant;

/// The environment variable that stands in for `/autograder` in tests.
pub const ROOT_ENV: &str = "RAFTLAB_AUTOGRADER_ROOT";

pub const SETUP_SH: &str = r#"#!/usr/bin/env bash
# RaftLab autograder: Gradescope runs this once, as root, to build the image.
#
# Assumes Gradescope's Ubuntu base image with network access during setup.
# RaftLab needs a recent stable Rust (edition 2024), newer than Ubuntu's
# rustc package, so Rust comes from rustup unless cargo is already present.
set -euo pipefail

AUTOGRADER=${RAFTLAB_AUTOGRADER_ROOT:-/autograder}
SOURCE=$AUTOGRADER/source

if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends build-essential ca-certificates curl tar unzip
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
fi
cargo --version

cd "$SOURCE/raftlab"
chmod +x raftlab_test.sh
cargo fetch --locked
# The grader itself, and everything a variant build needs, built once here:
# grading a submission then compiles only its raft.rs, offline.
cargo build --release --locked -q -p grader --bin raftlab
# (A variant gives the workspace's crates a version of their own, which
# rewrites its Cargo.lock: --offline, not --locked.)
./target/release/raftlab exec -- cargo build --release --offline -q -p grader --bin raftlab
"#;

pub const RUN_AUTOGRADER: &str = r#"#!/usr/bin/env bash
# RaftLab autograder: grades one submission and writes results.json.
# Only raft/src/raft.rs (or a raft.rs at the top) is taken from it.
set -uo pipefail

AUTOGRADER=${RAFTLAB_AUTOGRADER_ROOT:-/autograder}
SOURCE=$AUTOGRADER/source
RESULTS=$AUTOGRADER/results
mkdir -p "$RESULTS"

if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
export CARGO_NET_OFFLINE=true

raftlab=$SOURCE/raftlab/target/release/raftlab
if [ ! -x "$raftlab" ]; then
    cat >"$RESULTS/results.json" <<'JSON'
{"score": 0, "output": "The autograder is broken: its grader was not built (setup.sh failed). Please tell your instructor.", "tests": []}
JSON
    exit 0
fi

hidden=()
if [ -f "$SOURCE/hidden/seeds.txt" ]; then
    hidden=(--hidden "$SOURCE/hidden/seeds.txt")
fi
out=$(mktemp -d)
cd "$SOURCE/raftlab" || exit 1
"$raftlab" grade "$AUTOGRADER/submission" --out "$out" ${hidden[@]+"${hidden[@]}"}
if [ -f "$out/submission/results.json" ]; then
    cp "$out/submission/results.json" "$RESULTS/results.json"
else
    cat >"$RESULTS/results.json" <<'JSON'
{"score": 0, "output": "The autograder could not grade this submission. Please tell your instructor.", "tests": []}
JSON
fi
"#;

pub const USAGE: &str = "\
raftlab gradescope: write a Gradescope autograder bundle

Usage: raftlab gradescope OUT.zip

The bundle holds setup.sh (installs Rust with rustup unless cargo is there,
then builds the grader), run_autograder (grades /autograder/submission with
`raftlab grade`, hidden seeds included, and writes
/autograder/results/results.json), the student package and the hidden seeds.
Upload it as the assignment's autograder. RAFTLAB_AUTOGRADER_ROOT replaces
/autograder, to try the bundle on your own machine.
";

/// Writes the bundle's files into `dir`, which must not exist or be empty.
pub fn write_bundle_dir(root: &Path, dir: &Path) -> Result<(), String> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    package::build_package(root, &dir.join("raftlab"))?;
    for (name, text) in [("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)] {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        make_executable(&path)?;
    }
    let hidden = root.join(HIDDEN_SEEDS);
    if hidden.is_file() {
        let into = dir.join("hidden");
        fs::create_dir_all(&into).map_err(|e| format!("cannot create {}: {e}", into.display()))?;
        fs::copy(&hidden, into.join("seeds.txt"))
            .map_err(|e| format!("cannot copy {}: {e}", hidden.display()))?;
    }
    Ok(())
}

fn make_executable(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", path.display()))?;
    }
    Ok(())
}

/// Zips the contents of `dir` (not `dir` itself) into `zip`, with `zip` if
/// installed, else `python3 -m zipfile`. Both keep the executable bits.
pub fn zip_dir(dir: &Path, zip: &Path) -> Result<(), String> {
    let zip = std::path::absolute(zip).map_err(|e| format!("{}: {e}", zip.display()))?;
    if zip.exists() {
        fs::remove_file(&zip).map_err(|e| format!("cannot replace {}: {e}", zip.display()))?;
    }
    let has = |program: &str, probe: &str| {
        Command::new(program)
            .arg(probe)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    let status = if has("zip", "-v") {
        Command::new("zip")
            .args(["-q", "-r", "-X"])
            .arg(&zip)
            .arg(".")
            .current_dir(dir)
            .status()
    } else if has("python3", "--version") {
        let mut entries: Vec<OsString> = fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        entries.sort();
        Command::new("python3")
            .args(["-m", "zipfile", "-c"])
            .arg(&zip)
            .args(entries)
            .current_dir(dir)
            .status()
    } else {
        return Err(
            "cannot write a zip file: neither `zip` nor `python3` is installed".to_string(),
        );
    };
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("zipping {} failed ({status})", zip.display())),
        Err(e) => Err(format!("cannot run the zip tool: {e}")),
    }
}

/// Builds the bundle as `zip` (via a scratch directory beside the other
/// RaftLab scratch files).
pub fn build_bundle(root: &Path, zip: &Path) -> Result<PathBuf, String> {
    let scratch = root.join("target").join("raftlab").join("gradescope");
    write_bundle_dir(root, &scratch)?;
    zip_dir(&scratch, zip)?;
    Ok(scratch)
}

/// `raftlab gradescope OUT.zip`.
pub fn gradescope_main(args: &[OsString]) -> ExitCode {
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if words.iter().any(|w| w == "-h" || w == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let [out] = words.as_slice() else {
        eprintln!(
            "raftlab gradescope: expected one argument, the zip file to write\n\nRun `raftlab gradescope --help` for usage."
        );
        return ExitCode::from(2);
    };
    if !out.ends_with(".zip") {
        eprintln!("raftlab gradescope: {out} should end in .zip");
        return ExitCode::from(2);
    }
    let result = variant::find_root().and_then(|root| build_bundle(&root, Path::new(out)));
    match result {
        Ok(scratch) => {
            println!(
                "wrote {out}: setup.sh, run_autograder, the student package and the hidden seeds \
                 (unpacked in {})",
                scratch.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("raftlab gradescope: {e}");
            ExitCode::FAILURE
        }
    }
}
