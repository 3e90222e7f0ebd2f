//! Starting, bounding and ending the children the grader does not trust.
//!
//! Every command of the lab that runs a child whose code it does not control
//! (a case of a student's Raft, a build of a submission, the sandbox around
//! either) goes through this module, so that each gets the same treatment:
//!
//! ```text
//! spawn(command, &limits)     its own process group; setrlimit in the child,
//!                             between fork and exec (no shell, no `ulimit`)
//! OutputReader::start         threads drain stdout and stderr at once, keep
//!                             the first N bytes and the last K lines
//! wait_until(child, deadline) sleeps on a pidfd until the child exits or
//!                             the deadline passes; never reaps
//! kill_group(child)           SIGKILL to the whole group, then reap
//! describe_exit(status)       "exited with status 3", "killed by SIGSEGV"
//! ```
//!
//! Why `wait_until` leaves the child unreaped: a process group lives on
//! while any member does, and its id is the leader's pid. As long as the
//! leader is a zombie that id cannot be handed to a new process, so the
//! `kill_group` that follows reaches the child's group and nobody else's.
//! Always end with `kill_group`, whether the child exited or timed out: it
//! sweeps up whatever the child left running in its group and reaps it.
//!
//! Limits are per process and inherited across fork and exec: a child's
//! children get the same address-space, CPU-time and file-size limits. The
//! process limit counts every process of the child's real user id on the
//! machine, and the kernel does not apply it to root: it bounds a fork bomb
//! only once the child runs as an unprivileged user (the sandbox sees to
//! that).

use std::collections::VecDeque;
use std::io::{self, Read};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

/// Resource limits set in the child before it runs its program. `None`
/// leaves a limit as the parent has it. Sizes are in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `RLIMIT_AS`: the most virtual memory one process may map. An
    /// allocation beyond it fails (Rust aborts on a failed allocation).
    pub address_space: Option<u64>,
    /// `RLIMIT_CPU`: seconds of CPU time per process. At the limit the
    /// kernel sends SIGXCPU, and SIGKILL one second later.
    pub cpu_seconds: Option<u64>,
    /// `RLIMIT_FSIZE`: the largest file a process may write (SIGXFSZ
    /// beyond it).
    pub file_size: Option<u64>,
    /// `RLIMIT_NPROC`: processes and threads of the child's real user id,
    /// machine-wide. Not enforced for root.
    pub processes: Option<u64>,
    /// `RLIMIT_NOFILE`: open file descriptors per process.
    pub open_files: Option<u64>,
    /// Core dumps are off (`RLIMIT_CORE` = 0) unless this is true.
    pub core_dumps: bool,
}

impl Limits {
    /// The (resource, value) pairs to set, with CPU's hard limit one second
    /// above its soft one so that the child first hears SIGXCPU.
    fn settings(&self) -> [(Resource, Option<(u64, u64)>); 6] {
        let same = |value: Option<u64>| value.map(|v| (v, v));
        [
            (Resource::RLIMIT_AS, same(self.address_space)),
            (
                Resource::RLIMIT_CPU,
                self.cpu_seconds.map(|s| (s, s.saturating_add(1))),
            ),
            (Resource::RLIMIT_FSIZE, same(self.file_size)),
            (Resource::RLIMIT_NPROC, same(self.processes)),
            (Resource::RLIMIT_NOFILE, same(self.open_files)),
            (
                Resource::RLIMIT_CORE,
                if self.core_dumps { None } else { Some((0, 0)) },
            ),
        ]
    }
}

/// Sets `limits` on the calling process. Runs between fork and exec, so
/// it only makes system calls (no allocation, no lock). A limit above the
/// current hard limit is lowered to it: an unprivileged parent cannot
/// raise a limit, and a child that runs with a lower one is still bounded.
fn apply_limits(limits: &Limits) -> io::Result<()> {
    for (resource, value) in limits.settings() {
        let Some((soft, hard)) = value else { continue };
        let (_, current_hard) = getrlimit(resource)?;
        setrlimit(resource, soft.min(current_hard), hard.min(current_hard))?;
    }
    Ok(())
}

/// Starts `command` in a process group of its own, with `limits` set in
/// the child before its program starts. If a limit cannot be set the
/// spawn fails: a child never runs with fewer limits than asked for.
///
/// The child inherits no file descriptor but its stdin, stdout and stderr,
/// even one the grader itself inherited without close-on-exec.
///
/// Other `pre_exec` hooks already on `command` run before the limits are
/// set.
pub fn spawn(command: &mut Command, limits: &Limits) -> io::Result<Child> {
    spawn_keeping(command, limits, None)
}

/// [`spawn`], but descriptor `keep` (set up by an earlier `pre_exec` hook,
/// without close-on-exec) is passed on too.
pub fn spawn_keeping(
    command: &mut Command,
    limits: &Limits,
    keep: Option<i32>,
) -> io::Result<Child> {
    let limits = *limits;
    command.process_group(0);
    // SAFETY: the hook runs in the forked child before exec; it only makes
    // system calls (getrlimit, setrlimit, close_range, fcntl), which are
    // async-signal-safe, and allocates nothing (`Limits` is Copy and was
    // moved in before the fork).
    unsafe {
        command.pre_exec(move || {
            close_on_exec_from(3, keep)?;
            apply_limits(&limits)
        });
    }
    command.spawn()
}

/// Marks every descriptor from `first` on close-on-exec, but `keep`.
fn close_on_exec_from(first: u32, keep: Option<i32>) -> io::Result<()> {
    let ranges = match keep.and_then(|k| u32::try_from(k).ok()) {
        Some(k) if k >= first => [(first, k.checked_sub(1)), (k + 1, Some(u32::MAX))],
        _ => [(first, Some(u32::MAX)), (1, None)],
    };
    for (low, high) in ranges {
        let Some(high) = high.filter(|&h| h >= low) else {
            continue;
        };
        // SAFETY: close_range takes two numbers and flags; with
        // CLOSE_RANGE_CLOEXEC it closes nothing now, it only marks.
        let done = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_close_range,
                low,
                high,
                nix::libc::CLOSE_RANGE_CLOEXEC,
            )
        };
        if done != 0 {
            // Before Linux 5.11: one descriptor at a time, up to the limit.
            let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE)?;
            let last = u64::from(high).min(soft.min(1 << 16));
            for fd in u64::from(low)..=last {
                // SAFETY: fcntl on a number that may not be open; EBADF is
                // ignored.
                unsafe {
                    nix::libc::fcntl(fd as i32, nix::libc::F_SETFD, nix::libc::FD_CLOEXEC);
                }
            }
        }
    }
    Ok(())
}

/// Waits until `child` exits or `deadline` passes: `Some(status)` when it
/// exited, `None` at the deadline. Sleeps on a pidfd (Linux 5.3 and
/// later), or polls with a growing pause up to 20 ms where there is none.
///
/// The child is not reaped (see the module doc): call [`kill_group`] next.
pub fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    let pid = Pid::from_raw(pid_of(child)?);
    // A child already reaped (by an earlier kill_group, or std's own wait)
    // has its status cached in `child`.
    if let Some(status) = peek_exit(child, pid)? {
        return Ok(Some(status));
    }
    let pidfd = pidfd_open(pid).ok();
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = peek_exit(child, pid)? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        let left = deadline - now;
        match &pidfd {
            Some(pidfd) => {
                // Round up: a timeout rounded down to 0 ms would spin.
                let millis = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
                match poll(
                    &mut fds,
                    PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
                ) {
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            None => {
                thread::sleep(pause.min(left));
                pause = (pause * 2).min(Duration::from_millis(20));
            }
        }
    }
}

/// The child's exit status if it has exited, without reaping it.
fn peek_exit(child: &mut Child, pid: Pid) -> io::Result<Option<ExitStatus>> {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(pid), flags) {
        Ok(WaitStatus::Exited(_, code)) => Ok(Some(ExitStatus::from_raw((code & 0xff) << 8))),
        Ok(WaitStatus::Signaled(_, signal, core_dumped)) => Ok(Some(ExitStatus::from_raw(
            signal as i32 | if core_dumped { 0x80 } else { 0 },
        ))),
        Ok(_) => Ok(None),
        // Reaped already (ECHILD), or killed by a signal the library has no
        // name for (EINVAL): std's own wait knows the status.
        Err(Errno::ECHILD | Errno::EINVAL) => child.try_wait(),
        Err(e) => Err(e.into()),
    }
}

fn pid_of(child: &Child) -> io::Result<i32> {
    i32::try_from(child.id()).map_err(|_| io::Error::other("child pid out of range"))
}

/// A file descriptor that becomes readable when process `pid` exits (any
/// process, not only a child).
pub fn pidfd_open(pid: Pid) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new file
    // descriptor or -1; no memory is passed.
    let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("pidfd out of range"))?;
    // SAFETY: the kernel just returned this descriptor, and nothing else
    // owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Waits until the process behind `pidfd` has exited, or `deadline`:
/// true when it has.
pub fn wait_pidfd(pidfd: &OwnedFd, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let millis = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(
            &mut fds,
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Sends SIGKILL to every process in the child's process group (the child
/// included), then reaps the child and returns its status. Safe to call
/// after the child exited on its own: that is how whatever it left behind
/// in its group is ended.
pub fn kill_group(child: &mut Child) -> io::Result<ExitStatus> {
    if let Some(status) = child.try_wait_cached() {
        // Reaped before: its group id may belong to someone else now.
        return Ok(status);
    }
    let pid = Pid::from_raw(pid_of(child)?);
    match killpg(pid, Signal::SIGKILL) {
        // ESRCH: the group is gone (the child left it and exited).
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(e) => return Err(e.into()),
    }
    // The child may have moved to another group: kill it by pid too
    // (harmless on a zombie).
    let _ = child.kill();
    child.wait()
}

/// Whether std has reaped the child already, without reaping it now.
trait TryWaitCached {
    fn try_wait_cached(&mut self) -> Option<ExitStatus>;
}

impl TryWaitCached for Child {
    fn try_wait_cached(&mut self) -> Option<ExitStatus> {
        let pid = Pid::from_raw(pid_of(self).ok()?);
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(pid), flags) {
            // ECHILD: not our unreaped child any more, so std reaped it and
            // try_wait returns the status it kept.
            Err(Errno::ECHILD) => self.try_wait().ok().flatten(),
            _ => None,
        }
    }
}

/// "exited with status 3", "killed by SIGSEGV", "killed by SIGABRT (core
/// dumped)": signal names come from the system library's table.
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(number) => {
            let name = Signal::try_from(number)
                .map(|signal| signal.as_str().to_string())
                .unwrap_or_else(|_| format!("signal {number}"));
            let core = if status.core_dumped() {
                " (core dumped)"
            } else {
                ""
            };
            format!("killed by {name}{core}")
        }
        None => format!("ended with {status}"),
    }
}

/// How much of a child's output is kept. Everything past it is read and
/// dropped, so the child never blocks on a full pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputLimits {
    /// Bytes of stdout kept, from the start.
    pub stdout_bytes: usize,
    /// Lines of stderr kept, the last ones.
    pub stderr_lines: usize,
    /// Bytes kept of one stderr line; a longer line is cut and ends in
    /// "…".
    pub line_bytes: usize,
}

impl Default for OutputLimits {
    fn default() -> Self {
        OutputLimits {
            stdout_bytes: 1 << 20,
            stderr_lines: 40,
            line_bytes: 1000,
        }
    }
}

/// What was kept of a child's output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    /// The first [`OutputLimits::stdout_bytes`] bytes of stdout.
    pub stdout: Vec<u8>,
    /// Stdout bytes read past the limit and dropped.
    pub stdout_dropped: u64,
    /// The last [`OutputLimits::stderr_lines`] lines of stderr (lossy
    /// UTF-8, without their line endings).
    pub stderr_tail: Vec<String>,
    /// Earlier stderr lines dropped.
    pub stderr_lines_dropped: u64,
    /// Both pipes reached their end before [`OutputReader::finish`]
    /// returned. False when something still held one open (a process that
    /// outlived the child) or the grace period ran out.
    pub closed: bool,
}

#[derive(Default)]
struct StdoutBuffer {
    kept: Vec<u8>,
    dropped: u64,
}

struct StderrTail {
    lines: VecDeque<String>,
    dropped: u64,
    partial: Vec<u8>,
    partial_cut: bool,
}

/// Reads a child's stdout and stderr on two threads from the moment it
/// starts; see [`OutputLimits`].
pub struct OutputReader {
    limits: OutputLimits,
    stdout: Arc<Mutex<StdoutBuffer>>,
    stderr: Arc<Mutex<StderrTail>>,
    done: Receiver<()>,
    readers: usize,
}

impl OutputReader {
    /// Takes the child's piped stdout and stderr (either may be absent:
    /// not piped) and starts draining them.
    pub fn start(child: &mut Child, limits: OutputLimits) -> OutputReader {
        let stdout = Arc::new(Mutex::new(StdoutBuffer::default()));
        let stderr = Arc::new(Mutex::new(StderrTail {
            lines: VecDeque::new(),
            dropped: 0,
            partial: Vec::new(),
            partial_cut: false,
        }));
        let (done_tx, done) = mpsc::channel();
        let mut readers = 0;
        if let Some(pipe) = child.stdout.take() {
            readers += 1;
            let buffer = Arc::clone(&stdout);
            let done_tx = done_tx.clone();
            thread::spawn(move || {
                drain_stdout(pipe, &buffer, limits.stdout_bytes);
                let _ = done_tx.send(());
            });
        }
        if let Some(pipe) = child.stderr.take() {
            readers += 1;
            let tail = Arc::clone(&stderr);
            thread::spawn(move || {
                drain_stderr(pipe, &tail, limits);
                let _ = done_tx.send(());
            });
        }
        OutputReader {
            limits,
            stdout,
            stderr,
            done,
            readers,
        }
    }

    /// Waits up to `grace` for both pipes to close, then returns what was
    /// kept. A reader still blocked on a pipe held open by someone else is
    /// left to finish on its own.
    pub fn finish(self, grace: Duration) -> Captured {
        let deadline = Instant::now() + grace;
        let mut closed = 0;
        while closed < self.readers {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.done.recv_timeout(left).is_err() {
                break;
            }
            closed += 1;
        }
        let stdout = std::mem::take(&mut *lock(&self.stdout));
        let mut tail = lock(&self.stderr);
        if !tail.partial.is_empty() {
            let line = finish_line(&tail.partial, tail.partial_cut);
            tail.partial.clear();
            push_line(&mut tail, line, self.limits.stderr_lines);
        }
        Captured {
            stdout: stdout.kept,
            stdout_dropped: stdout.dropped,
            stderr_tail: tail.lines.drain(..).collect(),
            stderr_lines_dropped: tail.dropped,
            closed: closed == self.readers,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn drain_stdout(mut pipe: ChildStdout, buffer: &Mutex<StdoutBuffer>, limit: usize) {
    let mut chunk = [0u8; 8192];
    loop {
        let n = match pipe.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let mut buffer = lock(buffer);
        let room = limit.saturating_sub(buffer.kept.len()).min(n);
        buffer.kept.extend_from_slice(&chunk[..room]);
        buffer.dropped += (n - room) as u64;
    }
}

fn drain_stderr(mut pipe: ChildStderr, tail: &Mutex<StderrTail>, limits: OutputLimits) {
    let mut chunk = [0u8; 8192];
    loop {
        let n = match pipe.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let mut tail = lock(tail);
        for &byte in &chunk[..n] {
            if byte == b'\n' {
                let line = finish_line(&tail.partial, tail.partial_cut);
                tail.partial.clear();
                tail.partial_cut = false;
                push_line(&mut tail, line, limits.stderr_lines);
            } else if tail.partial.len() < limits.line_bytes {
                tail.partial.push(byte);
            } else {
                tail.partial_cut = true;
            }
        }
    }
}

fn finish_line(bytes: &[u8], cut: bool) -> String {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let mut line = String::from_utf8_lossy(bytes).into_owned();
    if cut {
        line.push('…');
    }
    line
}

fn push_line(tail: &mut StderrTail, line: String, keep: usize) {
    tail.lines.push_back(line);
    while tail.lines.len() > keep {
        tail.lines.pop_front();
        tail.dropped += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    const MIB: u64 = 1 << 20;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `command` under `limits` to its end (60 s at most) and returns
    /// its status and output.
    fn run(mut command: Command, limits: &Limits) -> (ExitStatus, Captured) {
        let mut child = spawn(&mut command, limits).expect("spawn /bin/sh");
        let output = OutputReader::start(&mut child, OutputLimits::default());
        let waited = wait_until(&mut child, Instant::now() + Duration::from_secs(60)).unwrap();
        let status = kill_group(&mut child).unwrap();
        assert!(waited.is_some(), "the child did not finish within 60 s");
        assert_eq!(waited, Some(status), "peeked and reaped statuses differ");
        (status, output.finish(Duration::from_secs(10)))
    }

    fn stdout_text(captured: &Captured) -> String {
        String::from_utf8_lossy(&captured.stdout).trim().to_string()
    }

    fn scratch_file(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("raftlab-process-{}-{name}", std::process::id()))
    }

    #[test]
    fn an_allocation_beyond_the_address_space_limit_fails() {
        // dd allocates its whole block size up front: 256 MiB here.
        let script = "dd if=/dev/zero of=/dev/null bs=256M count=1 2>&1";
        let (free, _) = run(sh(script), &Limits::default());
        assert!(
            free.success(),
            "without a limit dd should run: {}",
            describe_exit(free)
        );

        let limits = Limits {
            address_space: Some(64 * MIB),
            ..Limits::default()
        };
        let (limited, output) = run(sh(script), &limits);
        assert!(
            !limited.success(),
            "dd allocated 256 MiB under a 64 MiB limit: {}",
            stdout_text(&output)
        );
        assert!(
            stdout_text(&output).contains("memory exhausted"),
            "dd said: {}",
            stdout_text(&output)
        );
    }

    #[test]
    fn limits_are_set_in_the_child_and_inherited_by_its_children() {
        let limits = Limits {
            address_space: Some(512 * MIB),
            cpu_seconds: Some(7),
            file_size: Some(3 * MIB),
            processes: Some(321),
            open_files: Some(77),
            core_dumps: false,
        };
        // `cat` is a grandchild: it reports the limits it inherited.
        let (status, output) = run(sh("sh -c 'cat /proc/self/limits'"), &limits);
        assert!(status.success(), "{}", describe_exit(status));
        let text = stdout_text(&output);
        let soft_and_hard = |name: &str| -> String {
            let line = text.lines().find(|line| line.starts_with(name));
            let line = line.unwrap_or_else(|| panic!("no {name:?} in /proc/self/limits:\n{text}"));
            let columns: Vec<&str> = line[name.len()..].split_whitespace().collect();
            columns[..2].join(" ")
        };
        assert_eq!(soft_and_hard("Max address space"), "536870912 536870912");
        assert_eq!(soft_and_hard("Max cpu time"), "7 8");
        assert_eq!(soft_and_hard("Max file size"), "3145728 3145728");
        assert_eq!(soft_and_hard("Max processes"), "321 321");
        assert_eq!(soft_and_hard("Max open files"), "77 77");
        assert_eq!(soft_and_hard("Max core file size"), "0 0");
    }

    #[test]
    fn cpu_and_file_size_limits_end_the_child_with_their_signals() {
        let limits = Limits {
            cpu_seconds: Some(1),
            ..Limits::default()
        };
        let (status, _) = run(sh("while :; do :; done"), &limits);
        assert_eq!(describe_exit(status), "killed by SIGXCPU");

        let path = scratch_file("fsize");
        let limits = Limits {
            file_size: Some(64 * 1024),
            ..Limits::default()
        };
        let script = format!(
            "exec dd if=/dev/zero of='{}' bs=1k count=1024 2>/dev/null",
            path.display()
        );
        let (status, _) = run(sh(&script), &limits);
        let written = std::fs::metadata(&path).map(|m| m.len());
        let _ = std::fs::remove_file(&path);
        assert_eq!(describe_exit(status), "killed by SIGXFSZ");
        assert_eq!(written.ok(), Some(64 * 1024));
    }

    #[test]
    fn kill_group_ends_a_grandchild_left_running_in_the_group() {
        // The shell exits at once; its `sleep` keeps stdout open. Only a
        // kill of the whole group closes the pipe.
        let mut command = sh("sleep 1000 & echo started");
        let mut child = spawn(&mut command, &Limits::default()).unwrap();
        let output = OutputReader::start(&mut child, OutputLimits::default());
        let status = wait_until(&mut child, Instant::now() + Duration::from_secs(60)).unwrap();
        assert_eq!(
            status.map(describe_exit).as_deref(),
            Some("exited with status 0")
        );
        kill_group(&mut child).unwrap();
        let captured = output.finish(Duration::from_secs(10));
        assert_eq!(stdout_text(&captured), "started");
        assert!(captured.closed, "the grandchild still holds stdout open");
    }

    #[test]
    fn a_child_past_its_deadline_is_reported_and_killed() {
        let mut command = sh("exec sleep 1000");
        let mut child = spawn(&mut command, &Limits::default()).unwrap();
        let waited = wait_until(&mut child, Instant::now() + Duration::from_millis(50)).unwrap();
        assert_eq!(waited, None, "sleep 1000 cannot have exited");
        let status = kill_group(&mut child).unwrap();
        assert_eq!(describe_exit(status), "killed by SIGKILL");
        // A second kill_group returns the same status and touches nothing.
        assert_eq!(kill_group(&mut child).unwrap(), status);
        assert_eq!(
            wait_until(&mut child, Instant::now()).unwrap(),
            Some(status)
        );
    }

    #[test]
    fn the_child_inherits_no_descriptor_but_its_stdio() {
        // A pipe whose ends are not close-on-exec, as a descriptor the
        // grader inherited from its own parent would be.
        let (read_end, write_end) = nix::unistd::pipe().unwrap();
        for fd in [&read_end, &write_end] {
            use std::os::fd::AsRawFd;
            // SAFETY: clears the flags of a descriptor this test owns.
            let cleared = unsafe { nix::libc::fcntl(fd.as_raw_fd(), nix::libc::F_SETFD, 0) };
            assert_eq!(cleared, 0);
        }
        let (status, output) = run(sh("ls /proc/self/fd | tr '\\n' ' '"), &Limits::default());
        assert!(status.success());
        // ls itself opens one descriptor to read the folder.
        let text = stdout_text(&output);
        let fds: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(fds, ["0", "1", "2", "3"], "inherited descriptors");
        drop((read_end, write_end));
    }

    #[test]
    fn exits_are_described_by_code_or_by_the_signal_name() {
        assert_eq!(
            describe_exit(ExitStatus::from_raw(0)),
            "exited with status 0"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(3 << 8)),
            "exited with status 3"
        );
        assert_eq!(describe_exit(ExitStatus::from_raw(11)), "killed by SIGSEGV");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(6 | 0x80)),
            "killed by SIGABRT (core dumped)"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(40)),
            "killed by signal 40"
        );

        let (status, _) = run(sh("kill -SEGV $$"), &Limits::default());
        assert_eq!(describe_exit(status), "killed by SIGSEGV");
        let (status, _) = run(sh("exit 7"), &Limits::default());
        assert_eq!(describe_exit(status), "exited with status 7");
    }

    #[test]
    fn output_is_bounded_and_the_child_is_never_blocked() {
        // 4 MiB of stdout, far more than a pipe holds, and 100 stderr
        // lines, one of them long.
        let script = "head -c 4194304 /dev/zero; \
                      i=0; while [ $i -lt 100 ]; do echo line $i >&2; i=$((i+1)); done; \
                      head -c 5000 /dev/zero | tr '\\0' x >&2";
        let mut command = sh(script);
        let mut child = spawn(&mut command, &Limits::default()).unwrap();
        let limits = OutputLimits {
            stdout_bytes: 1000,
            stderr_lines: 3,
            line_bytes: 10,
        };
        let output = OutputReader::start(&mut child, limits);
        let waited = wait_until(&mut child, Instant::now() + Duration::from_secs(60)).unwrap();
        let status = kill_group(&mut child).unwrap();
        assert_eq!(waited, Some(status), "the child blocked on a full pipe");
        let captured = output.finish(Duration::from_secs(10));
        assert!(captured.closed);
        assert_eq!(captured.stdout.len(), 1000);
        assert_eq!(captured.stdout_dropped, 4 * MIB - 1000);
        assert_eq!(
            captured.stderr_tail,
            ["line 98", "line 99", "xxxxxxxxxx…"],
            "want the last 3 lines, the long one cut"
        );
        assert_eq!(captured.stderr_lines_dropped, 98);
    }
}
