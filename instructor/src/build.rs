//! Building a variant's host: the one program that links a variant's
//! `raft.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::variant::{self, Variant};

/// How a host is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Optimised, for grading.
    Release,
    /// Unoptimised with full debug information, for a debugger.
    Debug,
}

impl Profile {
    fn cargo_args(self) -> &'static [&'static str] {
        match self {
            Profile::Release => &["--release"],
            Profile::Debug => &["--profile", "raftlab-debug"],
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "raftlab-debug",
        }
    }
}

/// Prepares `variant`'s scratch copy and builds its host there, showing
/// cargo's output (the compiler's errors) on stderr. Returns the host.
pub fn build_host(root: &Path, variant: &Variant, profile: Profile) -> Result<PathBuf, String> {
    let dir = variant::prepare(root, variant)?;
    let target = variant::target_dir(root, variant);
    let status = Command::new("cargo")
        .arg("build")
        .arg("-q")
        .args(profile.cargo_args())
        .args(["-p", "host"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "{variant} does not build (the compiler's errors are above; the copy is in {})",
            dir.display()
        ));
    }
    Ok(target.join(profile.dir()).join("raftlab-host"))
}
