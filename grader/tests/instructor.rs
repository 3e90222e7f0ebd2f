//! The instructor tooling on the real repository, without building
//! anything: the bug zoo is well formed, the hidden seeds parse, the
//! student package holds no answer, and the Gradescope bundle has its
//! scripts. (The builds themselves are `raftlab validate`'s job.)
//!
//! These tests read `solutions/`, so the student package leaves this file
//! out (see `grader::package::INSTRUCTOR_ONLY`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use grader::case;
use grader::gradescope;
use grader::hidden;
use grader::package;
use grader::runner;
use grader::skeleton::{self, Step};
use grader::validate;
use grader::variant;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("grader/ is inside the workspace")
        .to_path_buf()
}

/// A fresh directory under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!(
        "raftlab-instructor-{name}-{}-{nanos}",
        std::process::id()
    ));
    fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

#[test]
fn the_bug_zoo_has_at_least_three_mutants_per_step() {
    let root = root();
    let reference = variant::read_reference(&root).expect("the reference");
    let regions = skeleton::parse_regions(&reference).expect("well formed");
    let mutants = validate::read_mutants(&root).expect("every mutant's header parses");
    assert!(mutants.len() >= 32, "only {} mutants", mutants.len());
    let mut per_step: BTreeMap<Step, usize> = BTreeMap::new();
    for (name, info, body) in &mutants {
        *per_step.entry(info.step).or_default() += 1;
        let region = regions
            .iter()
            .find(|r| r.step == info.step)
            .expect("every step has a region");
        let normalise = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("//"))
                .map(str::to_string)
                .collect()
        };
        assert_ne!(
            normalise(body),
            normalise(&region.body),
            "{name} is the reference's own answer to {}",
            info.step
        );
        assert!(
            info.description.len() > 20,
            "{name}: say what the mistake is"
        );
        let (text, _) = skeleton::apply_mutant(
            &reference,
            &fs::read_to_string(root.join(variant::MUTANTS_DIR).join(format!("{name}.rs")))
                .expect("read"),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!text.contains("todo!(\"RaftLab"), "{name} left a hole");
    }
    for step in Step::ALL {
        let count = per_step.get(&step).copied().unwrap_or(0);
        assert!(count >= 3, "{step} has {count} mutants, want at least 3");
    }
}

#[test]
fn the_zoo_of_the_whole_matrix_is_generated() {
    let root = root();
    let args = validate::ValidateArgs::default();
    let (rows, zoo) = validate::matrix_rows(&root, &args).expect("rows");
    let mutants = validate::read_mutants(&root).expect("mutants");
    assert_eq!(rows.len(), 2 + Step::ALL.len() + mutants.len());
    let zoo = zoo.expect("a zoo without --separate");
    for (name, _, _) in &mutants {
        assert!(zoo.contains(&format!("\"mutant-{name}\" => {{")), "{name}");
    }
    for step in Step::ALL {
        let key = format!("\"minus-{}\" => {{", step.short_name().to_lowercase());
        assert_eq!(zoo.matches(&key).count(), 1, "{key}");
    }
    assert!(!zoo.contains("//>>>") && !zoo.contains("//<<<"));
}

#[test]
fn the_hidden_seeds_parse_and_never_repeat_visible_ones() {
    let root = root();
    let tests = hidden::load(&root.join(hidden::HIDDEN_SEEDS), &case::all_cases())
        .expect("solutions/hidden/seeds.txt parses");
    assert!(!tests.is_empty(), "no hidden test");
    for test in &tests {
        assert!(!test.cases.is_empty(), "{} selects no scenario", test.key);
        assert!(
            test.seeds.iter().all(|&s| s >= runner::DEFAULT_SEEDS),
            "{}: hidden seeds overlap the visible 0..{}",
            test.key,
            runner::DEFAULT_SEEDS
        );
    }
}

#[test]
fn the_student_package_holds_no_answer_and_no_solutions() {
    let root = root();
    let out = scratch("package").join("raftlab");
    let files = package::build_package(&root, &out).expect("package");
    assert!(files > 10, "only {files} files");
    let problems = package::check_package(&root, &out).expect("check");
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(!out.join("solutions").exists());
    assert!(!out.join("grader/tests/instructor.rs").exists());
    assert!(out.join("raftlab_test.sh").is_file());
    let readme = fs::read_to_string(out.join("README.md")).expect("README");
    assert!(readme.contains("./raftlab_test.sh") && !readme.contains("solutions/"));
    assert!(out.join(package::INSTALLED_WORKFLOW).is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(out.join("raftlab_test.sh"))
            .expect("script")
            .permissions()
            .mode();
        assert_ne!(mode & 0o111, 0, "raftlab_test.sh lost its executable bit");
    }

    // A second package into the same directory replaces the first...
    package::build_package(&root, &out).expect("a second package replaces the first");
    // ...and a leaked answer line or a marker is found, naming the file.
    let reference = variant::read_reference(&root).expect("reference");
    let secret = package::secret_lines(
        &reference,
        &skeleton::make_skeleton(&reference).expect("skeleton"),
    )
    .expect("secrets")
    .into_iter()
    .next()
    .expect("the reference has answer lines students do not get");
    fs::write(
        out.join("handout/notes.md"),
        format!("my notes\n    {secret}\n//>>> RaftLab Election Step1\n"),
    )
    .expect("write");
    let problems = package::check_package(&root, &out).expect("check");
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("handout/notes.md:2: a line of a reference answer"));
    assert!(problems[1].starts_with("handout/notes.md:3: a region marker"));

    // A directory that is not a package is never overwritten.
    let other = scratch("not-a-package");
    fs::write(other.join("keep.txt"), "mine").expect("write");
    let error = package::build_package(&root, &other).expect_err("refuses");
    assert!(error.contains("not an earlier RaftLab package"), "{error}");
    assert!(other.join("keep.txt").exists());
    let _ = fs::remove_dir_all(out.parent().expect("parent"));
    let _ = fs::remove_dir_all(other);
}

#[test]
fn the_gradescope_bundle_has_executable_scripts_and_the_hidden_seeds() {
    let root = root();
    let dir = scratch("gradescope").join("bundle");
    gradescope::write_bundle_dir(&root, &dir).expect("bundle");
    for script in ["setup.sh", "run_autograder"] {
        let text = fs::read_to_string(dir.join(script)).expect(script);
        assert!(text.starts_with("#!/usr/bin/env bash\n"), "{script}");
        assert!(text.contains("RAFTLAB_AUTOGRADER_ROOT"), "{script}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(script))
                .expect(script)
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111, "{script} is not executable");
        }
    }
    assert!(dir.join("hidden/seeds.txt").is_file());
    assert!(dir.join("raftlab/raftlab_test.sh").is_file());
    assert!(!dir.join("raftlab/solutions").exists());
    let zip = dir.with_extension("zip");
    gradescope::zip_dir(&dir, &zip).expect("zip");
    assert!(fs::metadata(&zip).expect("zip written").len() > 1000);
    let _ = fs::remove_dir_all(dir.parent().expect("parent"));
}
