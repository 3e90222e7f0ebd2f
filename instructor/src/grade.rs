//! `instructor grade`: a class's submissions, each built and run in a
//! sandbox, graded by the judge in this process.
//!
//! ```text
//! OUT/grades.csv                       one row per submission, with a reason
//! OUT/submissions/<name>/results.json  Gradescope's format
//! OUT/submissions/<name>/report.txt    the table the student would see
//! ```
//!
//! The threat model: a submission is hostile. Only its `raft/src/raft.rs`
//! is taken (read in-process from a file, a folder or an archive, links
//! refused, sizes capped; see [`crate::archive`]). It is compiled and run
//! only in jails (see [`crate::sandbox`]) that see the skeleton workspace
//! and the submission's file and nothing else: not `solutions/`, not the
//! hidden seeds, not another submission, not this output folder; no
//! network; user 65534; limits on memory, processes, CPU time, file size
//! and wall time; nothing outlives its jail. The host never decides a
//! verdict: the judge here replays its replies. Step cases draw their
//! values from a seed secret to this run; hidden scenario seeds are never
//! in the jail's view before they are asked for.
//!
//! Without bubblewrap, grading refuses unless given
//! `--unsafe-no-sandbox`, and every report then says so.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use grader::cli::test::{Run, run_all};
use grader::exec::judge::{Direct, Launched, Launcher, RunOptions};
use grader::model::{Kind, Part, Seed, Step, mix};
use grader::registry;
use grader::report::gradescope::GradescopeResults;
use grader::report::{Graded, Item, Report, ReportSettings, Verdict, Visibility, graded_of};

use crate::archive::{self, Caps};
use crate::hidden::{self, HiddenTest};
use crate::sandbox::{self, Bwrap, Jail, Running, TargetDir, Toolchain};
use crate::variant;

pub const USAGE: &str = "\
instructor grade: grade a class's submissions, each in a sandbox

Usage: cargo run -q -p instructor -- grade [OPTIONS] --out DIR SUBMISSION...

Each SUBMISSION is a raft.rs, a folder, or a .tar, .tar.gz or .zip; only
its raft/src/raft.rs is taken. Each is built and run in a bubblewrap jail
(Debian's package: bubblewrap) and graded by the judge of this program.
Writes DIR/grades.csv and DIR/submissions/<name>/{results.json,report.txt}.
The hidden seeds of solutions/hidden/seeds.txt are graded too, as tests
shown once grades are published.

Options:
  --out DIR              where the results go (new, empty, or an earlier one)
  --seeds N              visible scenario seeds 0..N-1 (default 100)
  --jobs N               cases graded at once (default: the number of CPUs)
  --no-hidden            leave the hidden seeds out
  --build-limit SECS     the most one submission's build may take (default 300)
  --unsafe-no-sandbox    grade without a sandbox (the student's code runs as
                         you, and can read and write what you can); every
                         report says so
  --prepare              only prepare the jails' workspace and the prebuilt
                         skeleton that every submission's build starts from
  -h, --help             print this help
";

/// Options of `instructor grade`.
#[derive(Clone, Debug, PartialEq)]
pub struct GradeArgs {
    /// Only prepare the jails' workspace and prebuilt skeleton, and exit.
    pub prepare: bool,
    pub submissions: Vec<PathBuf>,
    pub out: PathBuf,
    pub seeds: u64,
    pub jobs: usize,
    pub hidden: bool,
    pub unsafe_no_sandbox: bool,
    /// The most a submission's build may take.
    pub build_limit: Duration,
}

pub fn parse_args(args: Vec<OsString>) -> Result<Option<GradeArgs>, String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut out = None;
    let mut a = GradeArgs {
        prepare: false,
        submissions: Vec::new(),
        out: PathBuf::new(),
        seeds: 100,
        jobs: std::thread::available_parallelism().map_or(1, usize::from),
        hidden: true,
        unsafe_no_sandbox: false,
        build_limit: BUILD_WALL,
    };
    let number = |v: OsString, name: &str| -> Result<u64, String> {
        v.to_str()
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|&n| n >= 1)
            .ok_or(format!("{name}: {v:?} is not a count of at least 1"))
    };
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("out") => out = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?)),
            Long("seeds") => a.seeds = number(p.value().map_err(|e| e.to_string())?, "--seeds")?,
            Long("jobs") => {
                a.jobs = number(p.value().map_err(|e| e.to_string())?, "--jobs")? as usize
            }
            Long("no-hidden") => a.hidden = false,
            Long("unsafe-no-sandbox") => a.unsafe_no_sandbox = true,
            Long("prepare") => a.prepare = true,
            Long("build-limit") => {
                a.build_limit = Duration::from_secs(number(
                    p.value().map_err(|e| e.to_string())?,
                    "--build-limit",
                )?)
            }
            Short('h') | Long("help") => return Ok(None),
            Value(v) => a.submissions.push(PathBuf::from(v)),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if a.prepare {
        return Ok(Some(a));
    }
    a.out = out.ok_or("--out DIR is required")?;
    if a.submissions.is_empty() {
        return Err("no submission to grade".to_string());
    }
    Ok(Some(a))
}

/// The name of a submission: its file name without `.rs`, `.zip`,
/// `.tar.gz`; for a plain `raft.rs` the folder holding it. Only letters,
/// digits, `-`, `_` and `.` are kept, and it never starts with a dot.
pub fn submission_name(path: &Path) -> String {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = file_name.clone();
    for suffix in [".tar.gz", ".tgz", ".tar", ".zip", ".rs"] {
        if let Some(stem) = file_name.strip_suffix(suffix) {
            name = stem.to_string();
            break;
        }
    }
    if name == "raft" {
        let parents: Vec<String> = path
            .ancestors()
            .skip(1)
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        let owner = match parents.as_slice() {
            [src, raft, owner, ..] if src == "src" && raft == "raft" => Some(owner),
            [owner, ..] => Some(owner),
            [] => None,
        };
        if let Some(owner) = owner {
            name = owner.clone();
        }
    }
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('.').to_string();
    if cleaned.is_empty() {
        "submission".to_string()
    } else {
        cleaned
    }
}

/// Names for `paths`, made unique by `-2`, `-3`, ... in order.
pub fn unique_names(paths: &[PathBuf]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    paths
        .iter()
        .map(|path| {
            let base = submission_name(path);
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                base
            } else {
                format!("{base}-{count}")
            }
        })
        .collect()
}

/// How a submission's grading went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Graded,
    /// Its `raft.rs` could not be taken from it.
    Unreadable,
    CompileError,
    /// The grader could not run it (a sandbox or host failure).
    Error,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Graded => "graded",
            Status::Unreadable => "unreadable",
            Status::CompileError => "compile error",
            Status::Error => "error",
        }
    }
}

/// One row of `grades.csv`.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub status: Status,
    pub reason: String,
    /// Points by item, in the report's order, when graded.
    pub points: Vec<(Graded, u32)>,
    pub score: u32,
    pub max: u32,
}

/// One CSV field, quoted when it needs to be (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The columns of `grades.csv` for these items.
pub fn csv_header(items: &[Item]) -> String {
    let mut columns = vec!["name".to_string()];
    columns.extend(items.iter().map(|i| item_key(i.graded)));
    columns.extend(["total", "max", "status", "reason"].map(String::from));
    columns.join(",")
}

fn item_key(g: Graded) -> String {
    match g {
        Graded::Step(step) => step.short_name().to_string(),
        Graded::Scenarios(part) => format!("scenarios.{}", part.slug()),
        Graded::Hidden(part) => format!("hidden.{}", part.slug()),
        Graded::Search(part) => format!("search.{}", part.slug()),
    }
}

/// A row of `grades.csv`: every item's points (0 when not graded).
pub fn csv_row(row: &Row, items: &[Item]) -> String {
    let mut fields = vec![csv_field(&row.name)];
    for item in items {
        let points = row
            .points
            .iter()
            .find(|(g, _)| *g == item.graded)
            .map_or(0, |(_, p)| *p);
        fields.push(points.to_string());
    }
    fields.push(row.score.to_string());
    fields.push(row.max.to_string());
    fields.push(row.status.as_str().to_string());
    fields.push(csv_field(&row.reason));
    fields.join(",")
}

/// The items of a grading: every step, each part's scenarios and search,
/// and the hidden seeds of each part.
pub fn items(seeds: u64, hidden: &[HiddenTest]) -> Vec<Item> {
    let label = format!("{seeds} seeds");
    let mut items: Vec<Item> = Step::ALL
        .iter()
        .map(|&s| Item::weighted(Graded::Step(s), &label))
        .chain(
            Part::ALL
                .iter()
                .map(|&p| Item::weighted(Graded::Scenarios(p), &label)),
        )
        .chain(
            Part::ALL
                .iter()
                .map(|&p| Item::weighted(Graded::Search(p), "search")),
        )
        .collect();
    for h in hidden {
        let mut item = Item::weighted(
            Graded::Hidden(h.part),
            &format!("{} hidden seeds", h.seeds.len()),
        );
        item.points = h.points;
        item.visibility = Visibility::AfterPublished;
        items.push(item);
    }
    items
}

/// The runs of a grading: step cases on seeds secret to this run, the
/// scenarios on the visible seeds, and again on the hidden ones.
pub fn runs(secret: u64, seeds: u64, hidden: &[HiddenTest]) -> Vec<Run> {
    let visible: Vec<Seed> = (0..seeds).map(Seed).collect();
    let mut runs = Vec::new();
    for (i, case) in registry::all().iter().enumerate() {
        let seeds = match case.kind {
            Kind::Step(_) => vec![Seed(mix(secret, i as u64))],
            Kind::Scenario(_) => visible.clone(),
            // A search is exhaustive: its seed only draws the nodes'
            // timeouts, which the search abstracts away.
            Kind::Search(_) => vec![Seed(0)],
        };
        runs.push(Run {
            graded: graded_of(case.kind, false),
            case: *case,
            seeds,
        });
    }
    for h in hidden {
        for case in registry::scenarios_of(h.part) {
            runs.push(Run {
                graded: Graded::Hidden(h.part),
                case: *case,
                seeds: h.seeds.clone(),
            });
        }
    }
    runs
}

/// A seed no submission can know in advance.
fn secret_seed() -> u64 {
    RandomState::new().hash_one(Instant::now())
}

/// How submissions are built and run: in jails, or (refusing the sandbox
/// on purpose) directly.
enum Confinement {
    Jailed {
        bwrap: Bwrap,
        toolchain: Toolchain,
        prebuilt: PathBuf,
    },
    Unconfined,
}

/// A host run in a RUN jail.
struct JailedHost<'a> {
    bwrap: &'a Bwrap,
    binary: PathBuf,
}

struct JailProcess(Running);

impl Launched for JailProcess {
    fn child(&mut self) -> &mut std::process::Child {
        &mut self.0.child
    }
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.wait_until(Instant::now()).ok().flatten()
    }
    fn end(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        let exited = self.0.wait_until(Instant::now() + grace).ok().flatten();
        let ended = self.0.end(Duration::from_secs(5)).ok().map(|(s, _)| s);
        exited.or(ended)
    }
}

impl Launcher for JailedHost<'_> {
    fn launch(&self) -> Result<Box<dyn Launched>, String> {
        let jail = Jail::run(&self.binary).wall_time(Duration::from_secs(30 * 60));
        let no_args: [&str; 0] = [];
        let running = jail
            .start(
                self.bwrap,
                &Jail::binary_inside(&self.binary),
                &no_args,
                true,
            )
            .map_err(|e| format!("could not start the jail: {e}"))?;
        Ok(Box::new(JailProcess(running)))
    }
    fn describe(&self) -> String {
        format!("the jailed host {}", self.binary.display())
    }
}

/// The members the jails see: enough to build the host, nothing else.
const JAIL_MEMBERS: [&str; 4] = ["raftpb", "raft", "grader", "host"];

/// Copies the skeleton workspace's buildable part into `dir`: the manifest
/// with only [`JAIL_MEMBERS`], the lock file, and those members' files
/// (no `solutions/`, no instructor crate, no `target/`).
///
/// Files whose content did not change are left alone, so their times stay
/// and cargo does not rebuild what the prebuilt target already holds.
/// Returns a digest of everything written, which names the prebuilt
/// target it goes with.
fn jail_source(root: &Path, dir: &Path) -> Result<u64, String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let manifest = fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    let members = variant::workspace_members(&manifest)?;
    let kept: Vec<String> = members
        .iter()
        .filter(|m| JAIL_MEMBERS.contains(&m.as_str()))
        .map(|m| format!("\"{m}\""))
        .collect();
    let mut out = String::new();
    let mut skipping = false;
    for line in manifest.split_inclusive('\n') {
        let t = line.trim_start();
        if skipping {
            skipping = !t.contains(']');
            continue;
        }
        if t.starts_with("members") && t.contains('=') {
            out.push_str(&format!("members = [{}]\n", kept.join(", ")));
            skipping = !t.contains(']');
            continue;
        }
        out.push_str(line);
    }
    let mut digest = 0;
    write_if_changed(&dir.join("Cargo.toml"), out.as_bytes(), &mut digest)?;
    let lock = fs::read(root.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    write_if_changed(&dir.join("Cargo.lock"), &lock, &mut digest)?;
    for member in JAIL_MEMBERS {
        copy_tree(&root.join(member), &dir.join(member), 0, &mut digest)?;
    }
    Ok(digest)
}

/// Writes `bytes` to `path` unless it holds them already; mixes them into
/// `digest` either way.
fn write_if_changed(path: &Path, bytes: &[u8], digest: &mut u64) -> Result<(), String> {
    *digest = mix(
        *digest,
        grader::sim::check::hash_bytes(path.to_string_lossy().as_bytes()),
    );
    *digest = mix(*digest, grader::sim::check::hash_bytes(bytes));
    if fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn copy_tree(from: &Path, to: &Path, depth: usize, digest: &mut u64) -> Result<(), String> {
    if depth > 16 {
        return Err(format!("{}: nested too deep", from.display()));
    }
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        let (src, dst) = (entry.path(), to.join(&name));
        if kind.is_dir() {
            copy_tree(&src, &dst, depth + 1, digest)?;
        } else if kind.is_file() {
            let bytes = fs::read(&src).map_err(|e| format!("{}: {e}", src.display()))?;
            write_if_changed(&dst, &bytes, digest)?;
        }
    }
    Ok(())
}

/// Builds the host in a BUILD jail over `source`, with the submission's
/// `raft.rs` (when given) bound over the skeleton's, writing to `target`.
fn jailed_build(
    bwrap: &Bwrap,
    toolchain: &Toolchain,
    source: &Path,
    raft_rs: Option<&Path>,
    target: &TargetDir,
    wall: Duration,
) -> Result<sandbox::Outcome, String> {
    let mut jail = Jail::build(toolchain, source, target)
        .wall_time(wall)
        .chdir("/src");
    if let Some(file) = raft_rs {
        jail = jail.ro_bind(file, "/src/raft/src/raft.rs");
    }
    jail.run_to_end(
        bwrap,
        Jail::CARGO,
        &[
            "build",
            "--offline",
            "--frozen",
            "--release",
            "-q",
            "-p",
            "host",
        ],
        None,
    )
    .map_err(|e| format!("the build jail failed: {e}"))
}

/// The most a submission's build may take.
pub const BUILD_WALL: Duration = Duration::from_secs(300);

/// What building one submission gave.
enum Built {
    Host(PathBuf),
    CompileError(String),
    Error(String),
}

fn build_submission(
    root: &Path,
    confinement: &Confinement,
    source: &Path,
    scratch: &Path,
    raft_rs: &Path,
    limit: Duration,
) -> Built {
    match confinement {
        Confinement::Jailed {
            bwrap,
            toolchain,
            prebuilt,
        } => {
            let target = if nix::unistd::geteuid().is_root() {
                sandbox::overlay_target(prebuilt, scratch)
            } else {
                sandbox::copy_target(prebuilt, scratch)
            };
            let target = match target {
                Ok(t) => t,
                Err(e) => return Built::Error(format!("cannot prepare the build: {e}")),
            };
            let outcome =
                match jailed_build(bwrap, toolchain, source, Some(raft_rs), &target, limit) {
                    Ok(o) => o,
                    Err(e) => return Built::Error(e),
                };
            if !outcome.success() {
                let mut text = outcome.output.stderr_tail.join("\n");
                if outcome.timed_out() {
                    text.push_str(&format!("\n(the build {})", outcome.describe()));
                }
                return Built::CompileError(text);
            }
            let dir = match &target {
                TargetDir::Plain(dir) => dir.clone(),
                TargetDir::Overlay { upper, .. } => upper.clone(),
            };
            let host = dir.join("release/raftlab-host");
            if host.is_file() {
                Built::Host(host)
            } else {
                Built::Error(format!("the build left no host at {}", host.display()))
            }
        }
        Confinement::Unconfined => {
            match crate::build::build_host(
                root,
                &variant::Variant::Submission(raft_rs.to_path_buf()),
                crate::build::Profile::Release,
            ) {
                Ok(host) => {
                    let copy = scratch.join("raftlab-host");
                    match fs::copy(&host, &copy) {
                        Ok(_) => Built::Host(copy),
                        Err(e) => Built::Error(format!("cannot copy the host: {e}")),
                    }
                }
                Err(e) => Built::CompileError(e),
            }
        }
    }
}

/// The lines of a compiler's output a student sees: its errors, without
/// the jail's paths.
fn compiler_text(text: &str) -> String {
    text.lines()
        .map(|l| l.replace("/src/", ""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A marker of a grading output folder, so a second run may reuse it.
const STAMP: &str = ".raftlab-grades";

fn prepare_out(out: &Path) -> Result<(), String> {
    match fs::read_dir(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", out.display())),
        Ok(mut entries) => {
            if entries.next().is_some() && !out.join(STAMP).is_file() {
                return Err(format!(
                    "{} is not empty and not an earlier grading: choose a new folder",
                    out.display()
                ));
            }
        }
    }
    fs::create_dir_all(out.join("submissions"))
        .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    fs::write(out.join(STAMP), "RaftLab grades, by `instructor grade`.\n")
        .map_err(|e| format!("cannot write in {}: {e}", out.display()))
}

/// The jails' workspace, the skeleton's prebuilt target, or the lack of
/// a sandbox.
fn confinement(root: &Path, args: &GradeArgs) -> Result<Confinement, String> {
    let work = root.join("target/raftlab/grade");
    let source = work.join("src");
    let digest = jail_source(root, &source)?;
    let confinement = if args.unsafe_no_sandbox {
        eprintln!(
            "instructor grade: WITHOUT a sandbox: the submissions' code runs as you; every report says so"
        );
        Confinement::Unconfined
    } else {
        let bwrap = Bwrap::detect().map_err(|e| {
            format!(
                "{e}\nGrading runs every submission in a sandbox; install bubblewrap, or pass --unsafe-no-sandbox to grade without one (not for untrusted code)"
            )
        })?;
        let toolchain = Toolchain::detect().map_err(|e| e.to_string())?;
        // The registry is read-only in the jails: unpack what the build
        // needs first.
        let fetched = Command::new("cargo")
            .args(["fetch", "-q", "--manifest-path"])
            .arg(source.join("Cargo.toml"))
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run cargo fetch: {e}"))?;
        if !fetched.success() {
            return Err("cargo fetch failed for the jail's workspace".to_string());
        }
        let prebuilt = work.join("prebuilt");
        let stamp = work.join("prebuilt.stamp");
        let fresh = fs::read_to_string(&stamp).ok() == Some(format!("{digest:x}"))
            && prebuilt.join("release/raftlab-host").is_file();
        if !fresh {
            let _ = fs::remove_file(&stamp);
            let _ = fs::remove_dir_all(&prebuilt);
            fs::create_dir_all(&prebuilt).map_err(|e| e.to_string())?;
            sandbox::chown_tree(&prebuilt).map_err(|e| e.to_string())?;
            let t = Instant::now();
            let outcome = jailed_build(
                &bwrap,
                &toolchain,
                &source,
                None,
                &TargetDir::Plain(prebuilt.clone()),
                Duration::from_secs(1800),
            )?;
            if !outcome.success() {
                return Err(format!(
                    "the skeleton does not build in the jail ({}):\n{}",
                    outcome.describe(),
                    outcome.output.stderr_tail.join("\n")
                ));
            }
            fs::write(&stamp, format!("{digest:x}")).map_err(|e| e.to_string())?;
            eprintln!(
                "instructor grade: the skeleton's build, reused by every submission, took {:.0} s",
                t.elapsed().as_secs_f64()
            );
        }
        Confinement::Jailed {
            bwrap,
            toolchain,
            prebuilt,
        }
    };
    Ok(confinement)
}

/// Grades every submission; returns the rows, in order.
pub fn grade_all(root: &Path, args: &GradeArgs) -> Result<(Vec<Item>, Vec<Row>), String> {
    prepare_out(&args.out)?;
    let hidden = if args.hidden {
        hidden::load(root)?
    } else {
        Vec::new()
    };
    let work = root.join("target/raftlab/grade");
    let source = work.join("src");
    let confinement = confinement(root, args)?;
    let items = items(args.seeds, &hidden);
    let max: u32 = items.iter().map(|i| i.points).sum();
    let names = unique_names(&args.submissions);
    let mut rows = Vec::new();
    for (path, name) in args.submissions.iter().zip(&names) {
        let started = Instant::now();
        let dir = args.out.join("submissions").join(name);
        let _ = fs::remove_dir_all(&dir);
        let scratch = work.join("scratch").join(name);
        let _ = fs::remove_dir_all(&scratch);
        let row = grade_one(
            root,
            &confinement,
            &source,
            &scratch,
            path,
            name,
            &dir,
            args,
            &items,
            &hidden,
            max,
        );
        let _ = fs::remove_dir_all(&scratch);
        eprintln!(
            "instructor grade: {name}: {} {}/{} in {:.0} s{}",
            row.status.as_str(),
            row.score,
            row.max,
            started.elapsed().as_secs_f64(),
            if row.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", row.reason.lines().next().unwrap_or_default())
            }
        );
        rows.push(row);
        write_csv(&args.out, &items, &rows)?;
    }
    Ok((items, rows))
}

fn write_csv(out: &Path, items: &[Item], rows: &[Row]) -> Result<(), String> {
    let mut text = csv_header(items);
    text.push('\n');
    for row in rows {
        text.push_str(&csv_row(row, items));
        text.push('\n');
    }
    // Written whole, then moved into place: a reader never sees half a file.
    let tmp = out.join(".grades.csv.tmp");
    fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    fs::rename(&tmp, out.join("grades.csv")).map_err(|e| format!("cannot write grades.csv: {e}"))
}

#[allow(clippy::too_many_arguments)]
fn grade_one(
    root: &Path,
    confinement: &Confinement,
    source: &Path,
    scratch: &Path,
    path: &Path,
    name: &str,
    dir: &Path,
    args: &GradeArgs,
    items: &[Item],
    hidden: &[HiddenTest],
    max: u32,
) -> Row {
    let unconfined = matches!(confinement, Confinement::Unconfined);
    let notice = unconfined.then(|| "NOTE: graded WITHOUT a sandbox".to_string());
    let mut row = Row {
        name: name.to_string(),
        status: Status::Error,
        reason: String::new(),
        points: Vec::new(),
        score: 0,
        max,
    };
    let save = |row: &Row, results: &GradescopeResults, report: &str| {
        let _ = fs::create_dir_all(dir);
        let _ = fs::write(dir.join("results.json"), results.to_json());
        let _ = fs::write(dir.join("report.txt"), report);
        row.clone()
    };
    let fail = |mut row: Row, status: Status, headline: &str, details: &str| {
        row.status = status;
        row.reason = headline.to_string();
        let mut text = headline.to_string();
        if let Some(n) = &notice {
            text = format!("{n}\n{text}");
        }
        let results = GradescopeResults::failed(&text, details, max);
        save(&row, &results, &format!("{text}\n\n{details}\n"))
    };
    let submission = match archive::read_submission(path, &["raft/src/raft.rs"], &Caps::default()) {
        Ok(s) => s,
        Err(e) => {
            return fail(
                row,
                Status::Unreadable,
                &format!("the submission could not be read: {e}"),
                "",
            );
        }
    };
    let Some(found) = submission.files.get("raft/src/raft.rs") else {
        return fail(row, Status::Unreadable, "the submission has no raft.rs", "");
    };
    if fs::create_dir_all(scratch).is_err() {
        return fail(row, Status::Error, "cannot create the scratch folder", "");
    }
    let raft_rs = scratch.join("raft.rs");
    if fs::write(&raft_rs, &found.text).is_err() {
        return fail(row, Status::Error, "cannot write the scratch copy", "");
    }
    let host = match build_submission(
        root,
        confinement,
        source,
        scratch,
        &raft_rs,
        args.build_limit,
    ) {
        Built::Host(h) => h,
        Built::CompileError(text) => {
            return fail(
                row,
                Status::CompileError,
                "raft.rs does not compile: every step 0",
                &compiler_text(&text),
            );
        }
        Built::Error(e) => return fail(row, Status::Error, &e, ""),
    };
    let direct;
    let jailed;
    let launcher: &dyn Launcher = match confinement {
        Confinement::Jailed { bwrap, .. } => {
            jailed = JailedHost {
                bwrap,
                binary: host,
            };
            &jailed
        }
        Confinement::Unconfined => {
            direct = Direct::new(host);
            &direct
        }
    };
    let started = Instant::now();
    let runs = runs(secret_seed(), args.seeds, hidden);
    let results = run_all(
        launcher,
        &runs,
        &RunOptions::default(),
        args.jobs,
        &|_, _| {},
    );
    let report = Report::new(
        items.to_vec(),
        results,
        started.elapsed(),
        ReportSettings {
            command: "./raftlab_test.sh".to_string(),
            hints: false,
            notice,
        },
    );
    let (score, report_max) = report.score();
    row.status = Status::Graded;
    row.score = score;
    row.max = report_max;
    row.points = report
        .items
        .iter()
        .map(|i| (i.item.graded, i.earned()))
        .collect();
    let not_passed: Vec<String> = report
        .items
        .iter()
        .filter(|i| i.verdict != Verdict::Pass)
        .map(|i| format!("{} {}", item_key(i.item.graded), i.verdict.machine_text()))
        .collect();
    row.reason = not_passed.join("; ");
    let results = GradescopeResults::of(&report);
    save(&row, &results, &report.table(false, true))
}

/// `instructor grade`.
pub fn grade_main(root: &Path, args: Vec<OsString>) -> ExitCode {
    let args = match parse_args(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("instructor grade: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.prepare {
        return match confinement(root, &args) {
            Ok(_) => {
                println!(
                    "instructor grade: the jails' workspace and the prebuilt skeleton are ready"
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("instructor grade: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match grade_all(root, &args) {
        Ok((_, rows)) => {
            let graded = rows.iter().filter(|r| r.status == Status::Graded).count();
            let mut summary = String::new();
            let _ = write!(
                summary,
                "instructor grade: {} submissions, {graded} graded; {}",
                rows.len(),
                args.out.join("grades.csv").display()
            );
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("instructor grade: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_and_unique() {
        let paths: Vec<PathBuf> = [
            "in/alice.rs",
            "in/alice.zip",
            "in/bob/raft/src/raft.rs",
            "in/carol/raft.rs",
            "in/../grades.csv.zip",
            "in/.hidden.tar.gz",
            "in/ü ber.tgz",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let names = unique_names(&paths);
        assert_eq!(
            names,
            vec![
                "alice",
                "alice-2",
                "bob",
                "carol",
                "grades.csv",
                "hidden",
                "__ber"
            ]
        );
        // A submission named like the run's own files lands in submissions/,
        // never beside grades.csv.
        for n in names {
            assert!(!n.contains('/') && !n.starts_with('.'));
        }
    }

    #[test]
    fn csv_rows_quote_what_needs_quoting() {
        let items = items(100, &[]);
        let row = Row {
            name: "a,b".to_string(),
            status: Status::CompileError,
            reason: "line 1: \"x\"".to_string(),
            points: vec![(Graded::Step(Step::Election1), 5)],
            score: 5,
            max: 100,
        };
        let line = csv_row(&row, &items);
        assert!(line.starts_with("\"a,b\",5,0,"), "{line}");
        assert!(
            line.ends_with(",5,100,compile error,\"line 1: \"\"x\"\"\""),
            "{line}"
        );
        // The quoted name holds one comma.
        assert_eq!(
            csv_header(&items).split(',').count(),
            line.split(',').count() - 1
        );
    }

    #[test]
    fn step_cases_run_on_secret_seeds_and_hidden_seeds_are_items_of_their_own() {
        let hidden = vec![HiddenTest {
            part: Part::Election,
            points: 4,
            seeds: vec![Seed(1000), Seed(1001)],
        }];
        let a = runs(1, 3, &hidden);
        let b = runs(2, 3, &hidden);
        let step_seeds = |r: &[Run]| -> Vec<Seed> {
            r.iter()
                .filter(|r| matches!(r.case.kind, Kind::Step(_)))
                .map(|r| r.seeds[0])
                .collect()
        };
        assert_ne!(step_seeds(&a), step_seeds(&b));
        assert!(
            a.iter()
                .any(|r| r.graded == Graded::Hidden(Part::Election) && r.seeds.len() == 2)
        );
        let items = items(3, &hidden);
        let h = items
            .iter()
            .find(|i| i.graded == Graded::Hidden(Part::Election))
            .unwrap();
        assert_eq!((h.points, h.visibility), (4, Visibility::AfterPublished));
    }

    #[test]
    fn arguments() {
        let parse = |w: &[&str]| parse_args(w.iter().map(OsString::from).collect());
        let a = parse(&["--out", "g", "a.rs", "b.zip", "--seeds", "5"])
            .unwrap()
            .unwrap();
        assert_eq!(a.submissions.len(), 2);
        assert_eq!(a.seeds, 5);
        assert!(parse(&["a.rs"]).unwrap_err().contains("--out"));
        assert!(
            parse(&["--out", "g"])
                .unwrap_err()
                .contains("no submission")
        );
        assert!(parse(&["--help"]).unwrap().is_none());
    }
}
