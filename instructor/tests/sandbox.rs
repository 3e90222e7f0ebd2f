//! The jails' promises, checked from the host. Every test needs a working
//! bubblewrap and is ignored otherwise; run them with
//!
//! ```text
//! cargo test -p instructor --test sandbox -- --include-ignored
//! ```
//!
//! (after `apt-get install -y bubblewrap`). Jobs are shell scripts run by
//! the system's `/bin/sh` inside the jail.

use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use grader::exec::process::Limits;
use instructor::sandbox::{Bwrap, JAIL_ID, Jail, Outcome, TargetDir, Toolchain, owner_of};

fn bwrap() -> Bwrap {
    Bwrap::detect().unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `script` with `sh -c` in a run jail.
fn run_script(jail: Jail, script: &str) -> Outcome {
    jail.run_to_end(&bwrap(), "/bin/sh", &["-c", script], None)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn sh_jail() -> Jail {
    Jail::run(Path::new("/bin/sh")).wall_time(Duration::from_secs(60))
}

fn stdout(outcome: &Outcome) -> String {
    String::from_utf8_lossy(&outcome.output.stdout)
        .trim()
        .to_string()
}

fn explain(outcome: &Outcome) -> String {
    format!(
        "{}; stdout: {}; stderr: {}",
        outcome.describe(),
        stdout(outcome),
        outcome.output.stderr_tail.join(" | ")
    )
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn the_job_is_user_65534_inside_and_on_the_host() {
    let scratch = tempfile::TempDir::new().unwrap();
    let shared = scratch.path().join("out");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let outcome = run_script(
        sh_jail().bind(&shared, "/out"),
        "echo $(id -u) $(id -g) $(id -G); grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; touch /out/mine",
    );
    assert!(outcome.success(), "{}", explain(&outcome));
    let text = stdout(&outcome);
    assert!(text.starts_with("65534 65534 65534\n"), "{text}");
    assert!(text.contains("CapEff:\t0000000000000000"), "{text}");
    assert!(
        text.contains("CapBnd:\t0000000000000000") || !nix::unistd::geteuid().is_root(),
        "{text}"
    );
    assert!(text.contains("NoNewPrivs:\t1"), "{text}");
    // The file it made belongs to 65534 on the host too: not to root.
    let expected = if nix::unistd::geteuid().is_root() {
        (JAIL_ID, JAIL_ID)
    } else {
        (
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        )
    };
    assert_eq!(owner_of(&shared.join("mine")).unwrap(), expected);
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn nothing_of_the_host_is_visible_but_what_is_bound() {
    let outcome = run_script(
        sh_jail(),
        "ls -a / | tr '\\n' ' '; echo; \
         for p in /work /root /home /etc/passwd /etc/hostname /var /run /sys/fs; do \
           if [ -e $p ]; then echo visible $p; fi; done; \
         ls /sandbox; env | sort | tr '\\n' ' '",
    );
    assert!(outcome.success(), "{}", explain(&outcome));
    let text = stdout(&outcome);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(". .. bin dev lib lib64 proc sandbox sbin tmp usr "),
        "the jail's root"
    );
    let rest: Vec<&str> = lines.collect();
    assert_eq!(rest.first().copied(), Some("sh"), "{text}");
    assert!(!text.contains("visible"), "{text}");
    // The environment holds only what the jail sets (and sh's own PWD).
    assert_eq!(
        rest.get(1).map(|l| l.trim()),
        Some("PATH=/usr/bin PWD=/tmp"),
        "{text}"
    );
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn writes_outside_the_private_tmp_fail() {
    let scratch = tempfile::TempDir::new().unwrap();
    let readable = scratch.path().join("data");
    fs::write(&readable, "kept\n").unwrap();
    let outcome = run_script(
        sh_jail().ro_bind(&readable, "/data"),
        "for p in /usr/raftlab /data /sandbox/sh /raftlab /proc/sys/kernel/hostname /dev/raftlab; do \
           if (echo x > $p) 2>/dev/null; then echo wrote $p; fi; done; \
         rm -f /data 2>/dev/null && echo removed /data; \
         echo ok > /tmp/scratch && cat /tmp/scratch",
    );
    assert!(outcome.success(), "{}", explain(&outcome));
    assert_eq!(stdout(&outcome), "ok");
    assert_eq!(fs::read_to_string(&readable).unwrap(), "kept\n");

    // The private /tmp is capped: 1 MiB here.
    let outcome = run_script(
        sh_jail().tmp_size(1 << 20),
        "head -c 2097152 /dev/zero > /tmp/big; echo $?; wc -c < /tmp/big",
    );
    let text = stdout(&outcome);
    assert!(
        text.starts_with('1'),
        "the write of 2 MiB did not fail: {text}"
    );
    assert!(text.ends_with("1048576"), "{text}");
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn a_listener_on_the_hosts_loopback_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        "if (echo forged > /dev/tcp/127.0.0.1/{port}) 2>/dev/null; then echo connected; else echo refused; fi"
    );
    // Outside the jail the same command reaches the listener: the check
    // below can fail.
    let outside = Command::new("/bin/bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&outside.stdout).trim(), "connected");
    let (mut accepted, _) = listener.accept().expect("the host-side connection");
    let mut seen = String::new();
    std::io::Read::read_to_string(&mut accepted, &mut seen).unwrap();
    assert_eq!(seen, "forged\n");

    let outcome = bwrap_script_with_bash(&script);
    assert!(outcome.success(), "{}", explain(&outcome));
    assert_eq!(stdout(&outcome), "refused");
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the jail reached the host's listener: {other:?}"),
    }
}

fn bwrap_script_with_bash(script: &str) -> Outcome {
    Jail::run(Path::new("/bin/bash"))
        .run_to_end(&bwrap(), "/bin/bash", &["-c", script], None)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Whether any process on the host has `needle` in its command line.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(format!(
                "{}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn a_detached_daemon_does_not_outlive_the_jail() {
    let token = format!("raftlab-daemon-{}-{}", std::process::id(), line!());
    // Double fork and a new session: the classic daemon. It would write
    // after the job has ended.
    let script = format!(
        "(setsid sh -c 'sleep 1000; echo {token}' > /dev/null 2>&1 &); \
         (setsid sh -c 'exec sleep 1001 # {token}' &); echo detached"
    );
    let outcome = run_script(sh_jail(), &script);
    assert!(outcome.success(), "{}", explain(&outcome));
    assert_eq!(stdout(&outcome), "detached");
    assert_eq!(
        processes_with(&token),
        Vec::<String>::new(),
        "left running after the jail"
    );
    assert!(
        outcome.output.closed,
        "something still holds the jail's stdout"
    );
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn the_memory_limit_applies_to_the_jobs_children() {
    // dd allocates its block size at once; it runs as a grandchild of the
    // job.
    let script = "sh -c 'dd if=/dev/zero of=/dev/null bs=512M count=1 2>&1; echo status $?'";
    let limited = |bytes: u64| {
        let limits = Limits {
            address_space: Some(bytes),
            ..sh_jail().current_limits()
        };
        run_script(sh_jail().limits(limits), script)
    };
    let roomy = limited(2 << 30);
    assert!(stdout(&roomy).ends_with("status 0"), "{}", explain(&roomy));
    let tight = limited(256 << 20);
    let text = stdout(&tight);
    assert!(
        text.contains("memory exhausted") && text.ends_with("status 1"),
        "{text}"
    );
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn a_fork_bomb_stops_at_the_process_limit_and_dies_with_the_jail() {
    let token = format!("raftlab-bomb-{}", std::process::id());
    let limits = Limits {
        processes: Some(24),
        ..sh_jail().current_limits()
    };
    // The count is per user on the whole machine: the forks fail once
    // the jail's user has 24 processes (the tests' other jails included).
    let script = format!(
        "i=0; while [ $i -lt 100 ]; do sh -c 'exec sleep 1000 # {token}' & i=$((i+1)); done; wait"
    );
    let outcome = run_script(sh_jail().limits(limits), &script);
    assert!(!outcome.timed_out(), "{}", explain(&outcome));
    let stderr = outcome.output.stderr_tail.join("\n");
    assert!(
        stderr.contains("Cannot fork") || stderr.contains("Resource temporarily unavailable"),
        "no fork failed: {}",
        explain(&outcome)
    );
    assert!(outcome.emptied);
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn the_wall_clock_deadline_kills_the_job() {
    let outcome = run_script(
        sh_jail().wall_time(Duration::from_millis(300)),
        "sleep 1000",
    );
    assert!(outcome.timed_out(), "{}", explain(&outcome));
    assert_eq!(
        grader::exec::process::describe_exit(outcome.final_status),
        "killed by SIGKILL"
    );
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn cpu_time_is_limited_inside() {
    let limits = Limits {
        cpu_seconds: Some(1),
        ..sh_jail().current_limits()
    };
    let outcome = run_script(sh_jail().limits(limits), "while :; do :; done");
    let status = outcome.status.expect("the CPU limit, not the deadline");
    // The job is the jail's init's child: bubblewrap reports its death as
    // 128 + the signal (SIGXCPU = 24).
    assert_eq!(status.code(), Some(128 + 24), "{}", explain(&outcome));
    assert_eq!(
        outcome.describe(),
        "exited with status 152 (killed by SIGXCPU in the jail)"
    );
}

/// A crate whose build script checks the build jail from inside: it
/// panics (failing the build) when it sees the host.
fn probe_crate(dir: &Path) {
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    fs::write(
        dir.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"probe\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    fs::write(dir.join("src/lib.rs"), "pub fn probe() -> u32 { 7 }\n").unwrap();
    fs::write(
        dir.join("build.rs"),
        r#"fn main() {
    for hidden in ["/work", "/root", "/home", "/etc/passwd"] {
        assert!(!std::path::Path::new(hidden).exists(), "{hidden} is visible");
    }
    assert!(std::fs::write("/src/written", "x").is_err(), "the source is writable");
    let uid = std::fs::read_to_string("/proc/self/status").unwrap();
    assert!(uid.lines().any(|l| l.starts_with("Uid:") && l.contains("65534")), "{uid}");
}
"#,
    )
    .unwrap();
}

#[test]
#[ignore = "needs bubblewrap: apt-get install -y bubblewrap"]
fn cargo_builds_a_read_only_workspace_into_a_private_target() {
    let toolchain = Toolchain::detect().unwrap_or_else(|e| panic!("{e}"));
    let scratch = tempfile::TempDir::new().unwrap();
    let source = scratch.path().join("src");
    probe_crate(&source);
    let target = scratch.path().join("target");
    fs::create_dir(&target).unwrap();
    instructor::sandbox::chown_tree(&target).unwrap();
    let jail = Jail::build(&toolchain, &source, &TargetDir::Plain(target.clone()));
    let outcome = jail
        .run_to_end(
            &bwrap(),
            Jail::CARGO,
            &["build", "--offline", "--frozen", "--release"],
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(outcome.success(), "{}", explain(&outcome));
    assert!(target.join("release/libprobe.rlib").is_file());
    assert!(!source.join("written").exists());
    assert!(!source.join("target").exists());
}

#[test]
#[ignore = "needs bubblewrap (apt-get install -y bubblewrap) and root"]
fn an_overlay_target_leaves_the_prebuilt_folder_untouched() {
    // Overlays are mounted by a judge that is root; other judges copy.
    assert!(
        nix::unistd::geteuid().is_root(),
        "overlay targets need root"
    );
    let toolchain = Toolchain::detect().unwrap_or_else(|e| panic!("{e}"));
    let scratch = tempfile::TempDir::new().unwrap();
    let source = scratch.path().join("src");
    probe_crate(&source);
    let prebuilt = scratch.path().join("prebuilt");
    fs::create_dir(&prebuilt).unwrap();
    instructor::sandbox::chown_tree(&prebuilt).unwrap();
    let build = |target: &TargetDir| {
        Jail::build(&toolchain, &source, target)
            .run_to_end(
                &bwrap(),
                Jail::CARGO,
                &["build", "--offline", "--frozen"],
                None,
            )
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let outcome = build(&TargetDir::Plain(prebuilt.clone()));
    assert!(outcome.success(), "{}", explain(&outcome));
    let rlib = prebuilt.join("debug/libprobe.rlib");
    let before = fs::read(&rlib).unwrap();

    // A "submission" changes the source; its build writes to its upper
    // layer only.
    fs::write(source.join("src/lib.rs"), "pub fn probe() -> u32 { 8 }\n").unwrap();
    let submission = scratch.path().join("submission");
    let target = instructor::sandbox::overlay_target(&prebuilt, &submission).unwrap();
    let outcome = build(&target);
    assert!(outcome.success(), "{}", explain(&outcome));
    assert_eq!(
        fs::read(&rlib).unwrap(),
        before,
        "the prebuilt rlib changed"
    );
    assert!(submission.join("upper/debug/libprobe.rlib").is_file());
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap();
    assert!(
        !mounts.contains(&submission.join("merged").display().to_string()),
        "left mounted"
    );
}
