//! The hostile suite, graded: every attack of `solutions/hostile/` (spliced
//! into the current skeleton) and every archive attack, in one `grade`
//! run, which must end with
//!
//! - every attack scored 0;
//! - no line of the reference's answers or of the hidden seeds file in
//!   anything the run wrote;
//! - the repository unchanged (every file outside `target/`), and the
//!   output folder holding only what the grader writes;
//! - no connection to a listener on 127.0.0.1 that the attacks look for;
//! - no process of the jails' user left;
//! - the run finished.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use grader::model::Track;

use crate::grade::{self, GradeArgs};
use crate::hidden::HIDDEN_SEEDS;
use crate::hostile;
use crate::package;
use crate::sandbox::{self, Bwrap};
use crate::sources::Reference;

use super::CheckResult;

/// Hashes of every file under `root`, skipping build output and git data.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, u64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            if name == "target" || name == ".git" {
                continue;
            }
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => {
                    let bytes = fs::read(&path).unwrap_or_default();
                    out.insert(path, grader::sim::check::hash_bytes(&bytes));
                }
                Ok(_) => {
                    out.insert(path, 0);
                }
                Err(_) => {}
            }
        }
    }
    out
}

/// The processes of user `uid` now running, by pid.
fn processes_of(uid: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("Uid:"))
                        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u32>().ok())
                })
                == Some(uid)
        })
        .collect()
}

/// The lines no output may hold: the answers' lines (those not in the
/// skeleton) and the hidden seeds file's data lines.
fn secrets(root: &Path) -> Result<BTreeSet<String>, String> {
    let reference = Reference::read(root)?;
    let expected = reference.skeleton(Track::Core)?;
    let holes: Vec<&crate::skeleton::Region> = reference.regions().map(|(_, r)| r).collect();
    let public: Vec<&str> = expected.iter().map(|(_, t)| t.as_str()).collect();
    let mut lines = package::secret_lines(&holes, &public);
    if let Ok(seeds) = fs::read_to_string(root.join(HIDDEN_SEEDS)) {
        for line in seeds.lines() {
            let data = line.split('#').next().unwrap_or_default().trim();
            if !data.is_empty() {
                lines.insert(data.to_string());
            }
        }
    }
    Ok(lines)
}

/// Every line of every file under `dir` that is a secret line (trimmed).
fn leaks(dir: &Path, secrets: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = fs::read(&path).unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            for line in text.lines().chain(text.split("\\n")) {
                let t = line.trim().trim_matches('"').trim();
                if secrets.contains(t) {
                    found.push(format!("{}: {t}", path.display()));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Runs the hostile suite.
pub fn hostile_check(root: &Path) -> CheckResult {
    if let Err(e) = Bwrap::detect() {
        return CheckResult::Skipped(format!(
            "no sandbox here ({e}); `.ci/run` installs bubblewrap"
        ));
    }
    let started = Instant::now();
    let work = root.join("target/raftlab/hostile");
    let subs = work.join("submissions");
    let out = work.join("out");
    let _ = fs::remove_dir_all(&work);
    if let Err(e) = fs::create_dir_all(&subs) {
        return CheckResult::Failed(format!("cannot create {}: {e}", subs.display()));
    }
    let skeleton = match fs::read_to_string(root.join("raft/src/raft.rs")) {
        Ok(s) => s,
        Err(e) => return CheckResult::Failed(format!("cannot read the skeleton: {e}")),
    };
    let attacks = match hostile::load_attacks(&root.join("solutions/hostile")) {
        Ok(a) => a,
        Err(e) => return CheckResult::Failed(e),
    };
    let mut submissions = Vec::new();
    for attack in &attacks {
        let text = match hostile::splice(&skeleton, attack) {
            Ok(t) => t,
            Err(e) => return CheckResult::Failed(format!("{}: {e}", attack.name)),
        };
        let path = subs.join(format!("{}.rs", attack.name));
        if let Err(e) = fs::write(&path, text) {
            return CheckResult::Failed(format!("cannot write {}: {e}", path.display()));
        }
        submissions.push(path);
    }
    let archives = match hostile::write_archive_attacks(&subs, &skeleton) {
        Ok(a) => a,
        Err(e) => return CheckResult::Failed(format!("cannot make the archive attacks: {e}")),
    };
    submissions.extend(archives.iter().map(|a| a.path.clone()));
    let secrets = match secrets(root) {
        Ok(s) => s,
        Err(e) => return CheckResult::Failed(e),
    };
    // What the attacks look for: a listener on loopback.
    let connections = Arc::new(AtomicUsize::new(0));
    // The ports the connecting attack tries, the first one free here.
    let listener = [9000u16, 8080, 8000, 3000]
        .iter()
        .find_map(|&port| TcpListener::bind(("127.0.0.1", port)).ok());
    if let Some(l) = &listener {
        let _ = l.set_nonblocking(false);
        let l = l.try_clone().ok();
        let seen = Arc::clone(&connections);
        if let Some(l) = l {
            std::thread::spawn(move || {
                for stream in l.incoming() {
                    seen.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut s) = stream {
                        let mut buf = [0; 64];
                        let _ = s.read(&mut buf);
                    }
                }
            });
        }
    }
    let before = snapshot(root);
    let jail_user_before = processes_of(sandbox::JAIL_ID);
    let args = GradeArgs {
        prepare: false,
        submissions: submissions.clone(),
        out: out.clone(),
        seeds: 3,
        jobs: 2,
        hidden: true,
        unsafe_no_sandbox: false,
        build_limit: Duration::from_secs(120),
    };
    let rows = match grade::grade_all(root, &args) {
        Ok((_, rows)) => rows,
        Err(e) => return CheckResult::Failed(format!("the grading did not run: {e}")),
    };
    std::thread::sleep(Duration::from_millis(200));
    let mut problems = Vec::new();
    if rows.len() != submissions.len() {
        problems.push(format!(
            "{} rows for {} submissions",
            rows.len(),
            submissions.len()
        ));
    }
    for row in &rows {
        if row.score != 0 {
            problems.push(format!("{} scored {} (want 0)", row.name, row.score));
        }
    }
    for leak in leaks(&out, &secrets) {
        problems.push(format!("leaked: {leak}"));
    }
    let after = snapshot(root);
    for (path, hash) in &after {
        match before.get(path) {
            None => problems.push(format!("created: {}", path.display())),
            Some(h) if h != hash => problems.push(format!("changed: {}", path.display())),
            Some(_) => {}
        }
    }
    for path in before.keys().filter(|p| !after.contains_key(*p)) {
        problems.push(format!("deleted: {}", path.display()));
    }
    let allowed = |p: &Path| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        matches!(
            name,
            "grades.csv" | ".raftlab-grades" | "results.json" | "report.txt"
        ) || p.is_dir()
    };
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            if !allowed(&path) {
                problems.push(format!(
                    "a file the grader does not write: {}",
                    path.display()
                ));
            }
        }
    }
    let left: Vec<u32> = processes_of(sandbox::JAIL_ID)
        .into_iter()
        .filter(|p| !jail_user_before.contains(p))
        .collect();
    if !left.is_empty() {
        problems.push(format!("processes of the jails' user left: {left:?}"));
    }
    let seen = connections.load(Ordering::SeqCst);
    if seen > 0 {
        problems.push(format!(
            "{seen} connection(s) reached a listener on 127.0.0.1"
        ));
    }
    if problems.is_empty() {
        CheckResult::Passed(format!(
            "{} attacks graded in one run in {:.0} s: every score 0, no leak, nothing changed, no connection, no process left",
            rows.len(),
            started.elapsed().as_secs_f64()
        ))
    } else {
        CheckResult::Failed(problems.join("\n    "))
    }
}
