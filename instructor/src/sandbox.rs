//! Jails for building and running a submission: bubblewrap, resource
//! limits and a wall-clock deadline.
//!
//! A submission's code runs twice: when it is compiled (macros, `build.rs`,
//! `include_str!`, `#[path]` and const evaluation all act at build time) and
//! when its cases run. Both happen in a [`Jail`]: a bubblewrap sandbox with
//!
//! - no network (a namespace of its own with only a loopback device: the
//!   host's listeners on 127.0.0.1 are out of reach);
//! - a PID namespace of its own: when the jail's first process ends, the
//!   kernel kills everything left in it, daemons included;
//! - a file system made of read-only binds of exactly what the job needs
//!   (the system's `/usr`, the binary or the toolchain and sources) plus a
//!   private, size-capped `/tmp`; nothing else of the host exists inside;
//! - user 65534 (`nobody`), with no capabilities and `no_new_privs`;
//! - [`Limits`] on memory, CPU time, file size, processes and open files,
//!   set by `setrlimit` in the child, and a wall-clock deadline after which
//!   the whole process group is killed.
//!
//! **How the user is dropped.** Started by root, bubblewrap maps a user
//! namespace's 65534 onto the host's *root* (`uid_map` reads `65534 0 1`):
//! inside it looks unprivileged, on the host it owns every root-owned file
//! it can reach. And bubblewrap started as 65534 cannot bind anything under
//! a folder 65534 may not enter, such as `/root/.rustup`, where the
//! toolchain lives. So when the judge is root, the jail uses no user
//! namespace: bubblewrap (as root) sets up the mounts, keeps only the
//! capabilities to change user, and runs `setpriv` from util-linux, which
//! becomes 65534 (real, effective and saved ids; no supplementary groups;
//! empty bounding set) and then executes the job. On the host the job is
//! user 65534, as `/proc/PID/status` shows. When the judge is not root,
//! bubblewrap makes a user namespace whose 65534 is the judge's own user,
//! and forbids further user namespaces inside.
//!
//! The process limit is counted per real user on the whole machine: jails
//! that run at the same time share it.
//!
//! **Reusing a build.** A submission's build starts from a target folder
//! prebuilt from the skeleton, so that only `raft` is compiled again. The
//! prebuilt folder is never handed to a jail: each build gets a
//! [`TargetDir`], either an overlay whose upper layer is private to the
//! submission (mounted by the judge in a mount namespace of the jail's own,
//! so nothing is left mounted on the host), or a copy.

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr, OsString};
use std::fmt;
use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use grader::exec::process::{
    self, Captured, Limits, OutputLimits, OutputReader, describe_exit, kill_group, wait_until,
};

/// The user and group every jailed job runs as.
pub const JAIL_ID: u32 = 65534;

/// The descriptor on which bubblewrap reports the host pid of the jail's
/// init process.
const INFO_FD: i32 = 3;
const INFO_FD_TEXT: &str = "3";

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Why no jail can be made here.
#[derive(Debug)]
pub enum SandboxError {
    /// No `bwrap` on the `PATH`.
    NotInstalled,
    /// `bwrap` is there but a trivial jail failed.
    NotWorking {
        detail: String,
    },
    /// The judge is root but util-linux's `setpriv` is missing.
    NoSetpriv,
    /// The Rust toolchain or cargo's registry could not be found.
    Toolchain {
        detail: String,
    },
    /// A path cannot be handed to bubblewrap or overlayfs.
    BadPath {
        path: PathBuf,
        why: &'static str,
    },
    Io {
        what: String,
        error: io::Error,
    },
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxError::NotInstalled => write!(
                f,
                "no sandbox: bubblewrap (bwrap) is not installed; on Debian or Ubuntu: \
                 apt-get install -y bubblewrap"
            ),
            SandboxError::NotWorking { detail } => {
                write!(
                    f,
                    "no sandbox: bubblewrap is installed but cannot make a jail here: {detail}"
                )
            }
            SandboxError::NoSetpriv => write!(
                f,
                "no sandbox: running as root needs setpriv (util-linux) to drop to user {JAIL_ID}"
            ),
            SandboxError::Toolchain { detail } => {
                write!(f, "cannot find the Rust toolchain: {detail}")
            }
            SandboxError::BadPath { path, why } => {
                write!(f, "cannot give {} to the sandbox: {why}", path.display())
            }
            SandboxError::Io { what, error } => write!(f, "{what}: {error}"),
        }
    }
}

impl std::error::Error for SandboxError {}

/// How the jailed job becomes user 65534 (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// The judge is root: no user namespace; `setpriv` drops to 65534.
    DropWithSetpriv { setpriv: PathBuf },
    /// The judge is not root: a user namespace maps 65534 to the judge.
    UserNamespace,
}

/// A working bubblewrap, checked once by [`Bwrap::detect`].
#[derive(Clone, Debug)]
pub struct Bwrap {
    pub program: PathBuf,
    /// `bubblewrap 0.8.0`.
    pub version: String,
    pub identity: Identity,
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

impl Bwrap {
    /// Finds `bwrap` and checks that it really makes a jail here, by
    /// running `true` in one (the same jail as [`Jail::run`] makes).
    pub fn detect() -> Result<Bwrap, SandboxError> {
        let program = find_on_path("bwrap").ok_or(SandboxError::NotInstalled)?;
        let output = Command::new(&program)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| SandboxError::NotWorking {
                detail: format!("{} --version: {e}", program.display()),
            })?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let identity = if nix::unistd::geteuid().is_root() {
            let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .ok_or(SandboxError::NoSetpriv)?;
            Identity::DropWithSetpriv { setpriv }
        } else {
            Identity::UserNamespace
        };
        let bwrap = Bwrap {
            program,
            version,
            identity,
        };
        let probe = Path::new("/usr/bin/true");
        let outcome = Jail::run(probe)
            .wall_time(Duration::from_secs(30))
            .run_to_end(&bwrap, &Jail::binary_inside(probe), &[] as &[&str], None)
            .map_err(|e| SandboxError::NotWorking {
                detail: e.to_string(),
            })?;
        if !outcome.success() {
            return Err(SandboxError::NotWorking {
                detail: format!(
                    "`true` in a jail {}: {}",
                    outcome.describe(),
                    outcome.output.stderr_tail.join(" | ")
                ),
            });
        }
        Ok(bwrap)
    }
}

/// The toolchain a build jail uses: the machine's own, found through
/// rustup or cargo rather than assumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// `rustc --print sysroot`: holds `bin/cargo`, `bin/rustc` and the
    /// standard library.
    pub sysroot: PathBuf,
    /// Cargo's registry cache (`$CARGO_HOME/registry`), with the sources of
    /// every dependency already unpacked.
    pub registry: PathBuf,
}

impl Toolchain {
    /// Asks `rustc` (through rustup's proxy, if that is what is on the
    /// `PATH`) for its sysroot; takes the registry from `CARGO_HOME`, else
    /// `$HOME/.cargo`.
    pub fn detect() -> Result<Toolchain, SandboxError> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let output = Command::new(&rustc)
            .args(["--print", "sysroot"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| SandboxError::Toolchain {
                detail: format!("{} --print sysroot: {e}", rustc.to_string_lossy()),
            })?;
        if !output.status.success() {
            return Err(SandboxError::Toolchain {
                detail: format!(
                    "rustc --print sysroot {}: {}",
                    describe_exit(output.status),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        let sysroot = PathBuf::from(OsStr::from_bytes(output.stdout.trim_ascii()));
        let cargo_home = match std::env::var_os("CARGO_HOME") {
            Some(home) => PathBuf::from(home),
            None => {
                let home = std::env::var_os("HOME").ok_or_else(|| SandboxError::Toolchain {
                    detail: "neither CARGO_HOME nor HOME is set".to_string(),
                })?;
                PathBuf::from(home).join(".cargo")
            }
        };
        let toolchain = Toolchain {
            registry: cargo_home.join("registry"),
            sysroot,
        };
        for needed in [
            toolchain.sysroot.join("bin/cargo"),
            toolchain.sysroot.join("bin/rustc"),
            toolchain.registry.clone(),
        ] {
            if !needed.exists() {
                return Err(SandboxError::Toolchain {
                    detail: format!("{} does not exist", needed.display()),
                });
            }
        }
        Ok(toolchain)
    }
}

/// Where a build jail's cargo writes, mounted at `/target` inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetDir {
    /// A folder of the submission's own (empty, or a copy of a prebuilt
    /// one): see [`copy_target`].
    Plain(PathBuf),
    /// The prebuilt folder as a read-only lower layer, with the
    /// submission's writes going to `upper`: see [`overlay_target`].
    Overlay {
        lower: PathBuf,
        upper: PathBuf,
        work: PathBuf,
        merged: PathBuf,
    },
}

/// Makes `scratch/target` a copy of `prebuilt` (`cp -a`, with reflinks
/// where the file system has them), owned by the jail's user.
pub fn copy_target(prebuilt: &Path, scratch: &Path) -> Result<TargetDir, SandboxError> {
    let target = scratch.join("target");
    let status = Command::new("cp")
        .arg("-a")
        .arg("--reflink=auto")
        .arg("--")
        .arg(prebuilt)
        .arg(&target)
        .stdin(Stdio::null())
        .status()
        .map_err(|error| SandboxError::Io {
            what: "cp -a".to_string(),
            error,
        })?;
    if !status.success() {
        return Err(SandboxError::Io {
            what: format!("cp -a {} {}", prebuilt.display(), target.display()),
            error: io::Error::other(describe_exit(status)),
        });
    }
    chown_tree(&target)?;
    Ok(TargetDir::Plain(target))
}

/// An overlay of `prebuilt` with `scratch/upper` (owned by the jail's
/// user) taking the writes; mounted only inside the jail's own mount
/// namespace when the jail starts. Needs the judge to be root.
pub fn overlay_target(prebuilt: &Path, scratch: &Path) -> Result<TargetDir, SandboxError> {
    let make = |name: &str| -> Result<PathBuf, SandboxError> {
        let dir = scratch.join(name);
        fs::create_dir_all(&dir).map_err(|error| SandboxError::Io {
            what: format!("mkdir {}", dir.display()),
            error,
        })?;
        Ok(dir)
    };
    let upper = make("upper")?;
    chown_one(&upper)?;
    Ok(TargetDir::Overlay {
        lower: prebuilt.to_path_buf(),
        upper,
        work: make("work")?,
        merged: make("merged")?,
    })
}

fn chown_one(path: &Path) -> Result<(), SandboxError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    std::os::unix::fs::lchown(path, Some(JAIL_ID), Some(JAIL_ID)).map_err(|error| {
        SandboxError::Io {
            what: format!("chown {}", path.display()),
            error,
        }
    })
}

/// Gives a folder tree to the jail's user (when the judge is root), never
/// following a link.
pub fn chown_tree(root: &Path) -> Result<(), SandboxError> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        chown_one(&path)?;
        let metadata = fs::symlink_metadata(&path).map_err(|error| SandboxError::Io {
            what: format!("stat {}", path.display()),
            error,
        })?;
        if metadata.is_dir() {
            let entries = fs::read_dir(&path).map_err(|error| SandboxError::Io {
                what: format!("read {}", path.display()),
                error,
            })?;
            for entry in entries.flatten() {
                stack.push(entry.path());
            }
        }
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Mount {
    ReadOnly { host: PathBuf, inside: String },
    Writable { host: PathBuf, inside: String },
    Tmpfs { inside: String, bytes: u64 },
}

impl Mount {
    fn inside(&self) -> &str {
        match self {
            Mount::ReadOnly { inside, .. }
            | Mount::Writable { inside, .. }
            | Mount::Tmpfs { inside, .. } => inside,
        }
    }
}

/// One jail's description; [`Jail::command`] turns it into the bubblewrap
/// command line.
#[derive(Clone, Debug)]
pub struct Jail {
    mounts: Vec<Mount>,
    env: BTreeMap<String, String>,
    chdir: String,
    tmp_bytes: u64,
    limits: Limits,
    wall: Duration,
    overlay: Option<TargetDir>,
}

/// How a jailed job ended.
#[derive(Debug)]
pub struct Outcome {
    /// `None` when the wall-clock deadline killed it.
    pub status: Option<ExitStatus>,
    /// The status once the group was killed and reaped (SIGKILL after a
    /// timeout).
    pub final_status: ExitStatus,
    /// The jail's PID namespace was seen empty after the end: nothing the
    /// job started is left.
    pub emptied: bool,
    pub output: Captured,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }

    /// "exited with status 0", "timed out after 10.0 s", or, since
    /// bubblewrap reports a job killed by a signal as status 128 + the
    /// signal, "exited with status 152 (killed by SIGXCPU in the jail)".
    pub fn describe(&self) -> String {
        match self.status {
            Some(status) => {
                let text = describe_exit(status);
                match status.code().map(|code| code - 128) {
                    Some(signal @ 1..=64) => {
                        let name = nix::sys::signal::Signal::try_from(signal).map_or_else(
                            |_| format!("signal {signal}"),
                            |s| s.as_str().to_string(),
                        );
                        format!("{text} (killed by {name} in the jail)")
                    }
                    _ => text,
                }
            }
            None => format!("timed out after {:.1} s", self.elapsed.as_secs_f64()),
        }
    }
}

/// `/usr` and the merged-`/usr` links (or folders) the system has.
fn system_mounts() -> Vec<Mount> {
    vec![Mount::ReadOnly {
        host: "/usr".into(),
        inside: "/usr".to_string(),
    }]
}

impl Jail {
    fn base(limits: Limits, tmp_bytes: u64) -> Jail {
        Jail {
            mounts: system_mounts(),
            env: BTreeMap::new(),
            chdir: "/tmp".to_string(),
            tmp_bytes,
            limits,
            wall: Duration::from_secs(60),
            overlay: None,
        }
    }

    /// Where [`Jail::run`] puts `binary`: `/sandbox/<its file name>`.
    pub fn binary_inside(binary: &Path) -> String {
        let name = binary
            .file_name()
            .map_or_else(|| "program".into(), |n| n.to_string_lossy().into_owned());
        format!("/sandbox/{name}")
    }

    /// A jail that runs `binary` (bound read-only at
    /// [`Jail::binary_inside`]) and nothing else of the host but `/usr`.
    /// Limits: 4 GiB of address space, 60 s of CPU, 16 MiB files, 64
    /// processes, 256 open files; a 64 MiB `/tmp`; 60 s of wall time.
    pub fn run(binary: &Path) -> Jail {
        let limits = Limits {
            address_space: Some(4 * GIB),
            cpu_seconds: Some(60),
            file_size: Some(16 * MIB),
            processes: Some(64),
            open_files: Some(256),
            core_dumps: false,
        };
        let mut jail = Jail::base(limits, 64 * MIB);
        jail.mounts.push(Mount::ReadOnly {
            host: binary.to_path_buf(),
            inside: Jail::binary_inside(binary),
        });
        jail.env.insert("PATH".into(), "/usr/bin".into());
        jail
    }

    /// A jail that runs cargo on the read-only workspace `source` (at
    /// `/src`), writing only to `target` (at `/target`). The program to run
    /// is [`Jail::CARGO`]; pass `--offline --frozen`. The linker's
    /// `/etc/alternatives` links are bound too. Limits: 4 GiB of address
    /// space, 600 s of CPU per process, 512 MiB files, 512 processes and
    /// threads, 1024 open files; a 256 MiB `/tmp`; 600 s of wall time.
    pub fn build(toolchain: &Toolchain, source: &Path, target: &TargetDir) -> Jail {
        let limits = Limits {
            address_space: Some(4 * GIB),
            cpu_seconds: Some(600),
            file_size: Some(512 * MIB),
            processes: Some(512),
            open_files: Some(1024),
            core_dumps: false,
        };
        let mut jail = Jail::base(limits, 256 * MIB).wall_time(Duration::from_secs(600));
        let ro = |host: &Path, inside: &str| Mount::ReadOnly {
            host: host.to_path_buf(),
            inside: inside.to_string(),
        };
        if Path::new("/etc/alternatives").is_dir() {
            jail.mounts
                .push(ro(Path::new("/etc/alternatives"), "/etc/alternatives"));
        }
        jail.mounts.push(ro(&toolchain.sysroot, "/toolchain"));
        jail.mounts.push(Mount::Tmpfs {
            inside: "/cargo-home".to_string(),
            bytes: 16 * MIB,
        });
        jail.mounts
            .push(ro(&toolchain.registry, "/cargo-home/registry"));
        jail.mounts.push(ro(source, "/src"));
        let target_host = match target {
            TargetDir::Plain(dir) => dir.clone(),
            TargetDir::Overlay { merged, .. } => {
                jail.overlay = Some(target.clone());
                merged.clone()
            }
        };
        jail.mounts.push(Mount::Writable {
            host: target_host,
            inside: "/target".to_string(),
        });
        jail.chdir = "/src".to_string();
        for (key, value) in [
            ("PATH", "/toolchain/bin:/usr/bin"),
            ("HOME", "/tmp"),
            ("CARGO_HOME", "/cargo-home"),
            ("CARGO_TARGET_DIR", "/target"),
            ("RUSTC", "/toolchain/bin/rustc"),
            ("CARGO_TERM_COLOR", "never"),
        ] {
            jail.env.insert(key.to_string(), value.to_string());
        }
        jail
    }

    /// cargo, inside a build jail.
    pub const CARGO: &'static str = "/toolchain/bin/cargo";

    /// Binds `host` read-only at `inside` (an absolute path). A later bind
    /// may cover part of an earlier one: e.g. a submission's `raft.rs` over
    /// the workspace's.
    pub fn ro_bind(mut self, host: &Path, inside: &str) -> Jail {
        self.mounts.push(Mount::ReadOnly {
            host: host.to_path_buf(),
            inside: inside.to_string(),
        });
        self
    }

    /// Binds `host` writable at `inside`. Give a jail only folders made for
    /// it, never one another jail reads.
    pub fn bind(mut self, host: &Path, inside: &str) -> Jail {
        self.mounts.push(Mount::Writable {
            host: host.to_path_buf(),
            inside: inside.to_string(),
        });
        self
    }

    /// Sets one variable of the job's environment, which holds nothing
    /// else than what is set here.
    pub fn env(mut self, key: &str, value: &str) -> Jail {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    pub fn limits(mut self, limits: Limits) -> Jail {
        self.limits = limits;
        self
    }

    pub fn current_limits(&self) -> Limits {
        self.limits
    }

    pub fn wall_time(mut self, wall: Duration) -> Jail {
        self.wall = wall;
        self
    }

    pub fn current_wall_time(&self) -> Duration {
        self.wall
    }

    /// Bytes the private `/tmp` may hold (it lives in memory).
    pub fn tmp_size(mut self, bytes: u64) -> Jail {
        self.tmp_bytes = bytes;
        self
    }

    pub fn chdir(mut self, inside: &str) -> Jail {
        self.chdir = inside.to_string();
        self
    }

    /// bubblewrap's arguments up to (and including) the job's own.
    pub fn args(&self, bwrap: &Bwrap, program: &str, args: &[impl AsRef<OsStr>]) -> Vec<OsString> {
        let mut out: Vec<OsString> = Vec::new();
        fn push(out: &mut Vec<OsString>, items: &[&str]) {
            out.extend(items.iter().map(OsString::from));
        }
        push(
            &mut out,
            &[
                "--unshare-pid",
                "--unshare-net",
                "--unshare-ipc",
                "--unshare-uts",
                "--unshare-cgroup-try",
                "--die-with-parent",
                "--new-session",
                "--hostname",
                "jail",
                "--info-fd",
                INFO_FD_TEXT,
            ],
        );
        let id = JAIL_ID.to_string();
        if bwrap.identity == Identity::UserNamespace {
            push(
                &mut out,
                &[
                    "--unshare-user",
                    "--disable-userns",
                    "--uid",
                    &id,
                    "--gid",
                    &id,
                ],
            );
        }
        // The merged-/usr links, as the host has them.
        for top in ["bin", "sbin", "lib", "lib32", "lib64"] {
            let host = Path::new("/").join(top);
            if let Ok(target) = fs::read_link(&host) {
                let target = target.to_string_lossy().into_owned();
                push(&mut out, &["--symlink", &target, &format!("/{top}")]);
            } else if host.is_dir() {
                push(
                    &mut out,
                    &["--ro-bind", &format!("/{top}"), &format!("/{top}")],
                );
            }
        }
        push(&mut out, &["--proc", "/proc", "--dev", "/dev"]);
        let tmp_bytes = self.tmp_bytes.to_string();
        push(
            &mut out,
            &["--perms", "1777", "--size", &tmp_bytes, "--tmpfs", "/tmp"],
        );
        // bubblewrap makes missing parent folders 0700 (root's), which the
        // jail's user could not enter: make them 0755 first.
        let mut present: Vec<String> =
            vec!["/usr".into(), "/tmp".into(), "/proc".into(), "/dev".into()];
        for mount in &self.mounts {
            let inside = mount.inside();
            let mut parent = String::new();
            let parts: Vec<&str> = inside.split('/').filter(|p| !p.is_empty()).collect();
            for part in &parts[..parts.len().saturating_sub(1)] {
                parent.push('/');
                parent.push_str(part);
                let covered = present
                    .iter()
                    .any(|p| parent == *p || parent.starts_with(&format!("{p}/")));
                if !covered {
                    push(&mut out, &["--perms", "0755", "--dir", &parent]);
                    present.push(parent.clone());
                }
            }
            match mount {
                Mount::ReadOnly { host, .. } => {
                    out.extend(["--ro-bind".into(), host.into(), inside.into()]);
                }
                Mount::Writable { host, .. } => {
                    out.extend(["--bind".into(), host.into(), inside.into()]);
                }
                Mount::Tmpfs { bytes, .. } => {
                    let bytes = bytes.to_string();
                    out.extend(
                        ["--perms", "0777", "--size", &bytes, "--tmpfs", inside]
                            .map(OsString::from),
                    );
                }
            }
            present.push(inside.to_string());
        }
        out.extend(["--chdir".into(), OsString::from(&self.chdir)]);
        match &bwrap.identity {
            Identity::DropWithSetpriv { setpriv } => {
                // Only what setpriv needs to become 65534 and empty the
                // bounding set; all of it is gone once it has.
                out.extend(
                    [
                        "--cap-drop",
                        "ALL",
                        "--cap-add",
                        "CAP_SETUID",
                        "--cap-add",
                        "CAP_SETGID",
                        "--cap-add",
                        "CAP_SETPCAP",
                    ]
                    .map(OsString::from),
                );
                out.push(setpriv.into());
                out.extend(
                    [
                        format!("--reuid={JAIL_ID}"),
                        format!("--regid={JAIL_ID}"),
                        "--clear-groups".to_string(),
                        "--inh-caps=-all".to_string(),
                        "--bounding-set=-all".to_string(),
                        "--no-new-privs".to_string(),
                        "--".to_string(),
                    ]
                    .map(OsString::from),
                );
            }
            Identity::UserNamespace => {}
        }
        out.push(program.into());
        out.extend(args.iter().map(|a| a.as_ref().to_os_string()));
        out
    }

    /// Starts `program` (a path inside the jail) with `args`: environment
    /// cleared but for [`Jail::env`], stdin null (or piped when `stdin` is
    /// true), stdout and stderr piped, under the jail's limits.
    pub fn start(
        &self,
        bwrap: &Bwrap,
        program: &str,
        args: &[impl AsRef<OsStr>],
        stdin: bool,
    ) -> Result<Running, SandboxError> {
        let io_error = |what: &str, error: io::Error| SandboxError::Io {
            what: format!("{what} for {}", bwrap.program.display()),
            error,
        };
        let (info_read, info_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| io_error("pipe", e.into()))?;
        let mut command = Command::new(&bwrap.program);
        command
            .args(self.args(bwrap, program, args))
            .env_clear()
            .envs(&self.env)
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let info_raw = info_write.as_raw_fd();
        // SAFETY: runs between fork and exec; dup2 and fcntl only.
        unsafe {
            command.pre_exec(move || {
                // dup2 gives a copy without close-on-exec; the same number
                // keeps its flag, so clear it.
                let done = if info_raw == INFO_FD {
                    nix::libc::fcntl(info_raw, nix::libc::F_SETFD, 0)
                } else {
                    nix::libc::dup2(info_raw, INFO_FD)
                };
                if done < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        if let Some(TargetDir::Overlay {
            lower,
            upper,
            work,
            merged,
        }) = &self.overlay
        {
            let overlay = OverlayMount::new(lower, upper, work, merged)?;
            // SAFETY: runs between fork and exec; it only makes the
            // unshare and mount system calls on C strings built before the
            // fork, and allocates nothing.
            unsafe {
                command.pre_exec(move || overlay.mount_in_new_namespace());
            }
        }
        let child = process::spawn_keeping(&mut command, &self.limits, Some(INFO_FD))
            .map_err(|e| io_error("starting", e))?;
        drop(info_write);
        let init = jail_init(fs::File::from(info_read), child.id());
        Ok(Running {
            child,
            init,
            wall: self.wall,
        })
    }

    /// Runs `program` to its end or to the wall-clock deadline, keeping a
    /// bounded part of its output, with `stdin` written to it first when
    /// given.
    pub fn run_to_end(
        &self,
        bwrap: &Bwrap,
        program: &str,
        args: &[impl AsRef<OsStr>],
        stdin: Option<&[u8]>,
    ) -> Result<Outcome, SandboxError> {
        let started = Instant::now();
        let mut running = self.start(bwrap, program, args, stdin.is_some())?;
        let output = OutputReader::start(&mut running.child, OutputLimits::default());
        if let (Some(bytes), Some(mut pipe)) = (stdin, running.child.stdin.take()) {
            use std::io::Write;
            // A job that exits without reading its input is not an error
            // here: its status tells.
            let _ = pipe.write_all(bytes);
        }
        let io_error = |error| SandboxError::Io {
            what: format!("waiting for {}", bwrap.program.display()),
            error,
        };
        let status = running.wait_until(started + self.wall).map_err(io_error)?;
        let (final_status, emptied) = running.end(Duration::from_secs(10)).map_err(io_error)?;
        let elapsed = started.elapsed();
        Ok(Outcome {
            status,
            final_status,
            emptied,
            output: output.finish(Duration::from_secs(5)),
            elapsed,
        })
    }
}

/// A started jail.
pub struct Running {
    /// The outer bubblewrap process (its stdio is the job's).
    pub child: std::process::Child,
    /// The jail's init process (pid 1 inside), on the host: when it is
    /// gone, so is everything the job started.
    init: Result<Option<std::os::fd::OwnedFd>, ()>,
    wall: Duration,
}

impl Running {
    /// See `process::wait_until`.
    pub fn wait_until(&mut self, deadline: Instant) -> io::Result<Option<ExitStatus>> {
        wait_until(&mut self.child, deadline)
    }

    /// The wall time the jail was given.
    pub fn wall_time(&self) -> Duration {
        self.wall
    }

    /// Kills the jail's process group and waits (up to `grace`) until the
    /// jail's PID namespace is empty: its init exits only after the kernel
    /// has killed and reaped everything in it. Returns the outer status and
    /// whether the jail was seen empty.
    pub fn end(&mut self, grace: Duration) -> io::Result<(ExitStatus, bool)> {
        let status = kill_group(&mut self.child)?;
        let emptied = match &self.init {
            Ok(Some(init)) => process::wait_pidfd(init, Instant::now() + grace)?,
            // Gone before it could be watched.
            Ok(None) => true,
            // bubblewrap never said which process it was.
            Err(()) => false,
        };
        Ok((status, emptied))
    }
}

/// Reads bubblewrap's `{"child-pid": N, ...}` report and opens a pidfd on
/// that process, checking that it is the child of the outer bubblewrap
/// (`outer`), so that a reused pid is never watched.
/// `Ok(None)`: it had already exited; `Err`: no report came.
fn jail_init(mut info: fs::File, outer: u32) -> Result<Option<std::os::fd::OwnedFd>, ()> {
    use std::io::Read;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = Vec::new();
        let mut chunk = [0u8; 256];
        while text.len() < 4096 && !text.contains(&b'}') {
            match info.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => text.extend_from_slice(&chunk[..n]),
            }
        }
        let _ = tx.send(text);
    });
    let text = rx.recv_timeout(Duration::from_secs(10)).map_err(|_| ())?;
    let text = String::from_utf8_lossy(&text);
    let after = text.split("\"child-pid\":").nth(1).ok_or(())?;
    let digits: String = after
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let pid: i32 = digits.parse().map_err(|_| ())?;
    let Ok(pidfd) = process::pidfd_open(nix::unistd::Pid::from_raw(pid)) else {
        return Ok(None);
    };
    // /proc/PID/stat: "pid (comm) state ppid ...", comm may hold spaces.
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Ok(None);
    };
    let ppid = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().nth(1));
    Ok((ppid == Some(outer.to_string().as_str())).then_some(pidfd))
}

/// An overlay mount prepared before the fork.
struct OverlayMount {
    merged: CString,
    options: CString,
}

impl OverlayMount {
    fn new(
        lower: &Path,
        upper: &Path,
        work: &Path,
        merged: &Path,
    ) -> Result<OverlayMount, SandboxError> {
        let mut options = Vec::new();
        for (key, path) in [("lowerdir", lower), ("upperdir", upper), ("workdir", work)] {
            let bytes = path.as_os_str().as_bytes();
            if bytes.iter().any(|b| matches!(b, b',' | b':' | b'\\' | 0)) {
                return Err(SandboxError::BadPath {
                    path: path.to_path_buf(),
                    why: "overlayfs paths may not hold ',', ':' or '\\'",
                });
            }
            if !options.is_empty() {
                options.push(b',');
            }
            options.extend_from_slice(key.as_bytes());
            options.push(b'=');
            options.extend_from_slice(bytes);
        }
        let c_string = |bytes: Vec<u8>, path: &Path| {
            CString::new(bytes).map_err(|_| SandboxError::BadPath {
                path: path.to_path_buf(),
                why: "it holds a NUL byte",
            })
        };
        Ok(OverlayMount {
            merged: c_string(merged.as_os_str().as_bytes().to_vec(), merged)?,
            options: c_string(options, lower)?,
        })
    }

    /// In the child: a private mount namespace, and the overlay in it.
    fn mount_in_new_namespace(&self) -> io::Result<()> {
        use nix::mount::{MsFlags, mount};
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
        // Nothing mounted here may propagate back to the host.
        mount(
            None::<&std::ffi::CStr>,
            c"/",
            None::<&std::ffi::CStr>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&std::ffi::CStr>,
        )?;
        mount(
            Some(c"overlay"),
            self.merged.as_c_str(),
            Some(c"overlay"),
            MsFlags::empty(),
            Some(self.options.as_c_str()),
        )?;
        Ok(())
    }
}

/// The owner of `path` on the host, for checks.
pub fn owner_of(path: &Path) -> io::Result<(u32, u32)> {
    let metadata = fs::symlink_metadata(path)?;
    Ok((metadata.uid(), metadata.gid()))
}
