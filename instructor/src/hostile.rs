//! The hostile suite: submissions that attack the grader, kept in step
//! with the skeleton by being spliced into it.
//!
//! Each file of `solutions/hostile/` is a header and a body:
//!
//! ```text
//! //! attack: what it tries, in one sentence
//! //! splice: append                      (the body goes after the skeleton)
//! //! splice: hole Election Step1         (the body replaces that todo!() line)
//! //! expect: build fails, score 0        (or just: score 0)
//! <body>
//! ```
//!
//! A hole's body is written unindented; it takes the indentation of the
//! `todo!()` line it replaces. Archive attacks cannot be text: they are
//! made at test time by [`write_archive_attacks`].

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where an attack goes in the skeleton.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Splice {
    /// After the whole file, at module level.
    Append,
    /// In place of the line `todo!("RaftLab <step>");`.
    Hole(String),
}

/// One parsed attack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attack {
    /// The file's stem, e.g. `init_array_forge`.
    pub name: String,
    pub attack: String,
    pub splice: Splice,
    /// The build itself must fail (the compiler's output then must not
    /// hold the reference's or the seeds' text either).
    pub build_fails: bool,
    pub body: String,
}

/// Reads an attack file's header and body.
pub fn parse_attack(name: &str, text: &str) -> Result<Attack, String> {
    let mut attack = None;
    let mut splice = None;
    let mut expect = None;
    let mut body = String::new();
    let mut in_header = true;
    for (number, line) in text.lines().enumerate() {
        let header = line.strip_prefix("//! ").filter(|_| in_header);
        let Some(header) = header else {
            in_header = false;
            body.push_str(line);
            body.push('\n');
            continue;
        };
        let (key, value) = header
            .split_once(": ")
            .ok_or_else(|| format!("{name}:{}: a header line is `//! key: value`", number + 1))?;
        let value = value.trim().to_string();
        match key {
            "attack" => attack = Some(value),
            "splice" => {
                splice = Some(match value.strip_prefix("hole ") {
                    Some(step) => Splice::Hole(step.trim().to_string()),
                    None if value == "append" => Splice::Append,
                    None => {
                        return Err(format!(
                            "{name}:{}: splice is `append` or `hole <step>`, not {value:?}",
                            number + 1
                        ));
                    }
                })
            }
            "expect" => expect = Some(value),
            _ => return Err(format!("{name}:{}: unknown header {key:?}", number + 1)),
        }
    }
    let missing = |what: &str| format!("{name}: no `//! {what}:` line");
    let expect = expect.ok_or_else(|| missing("expect"))?;
    let expectations: Vec<&str> = expect.split(',').map(str::trim).collect();
    for item in &expectations {
        if !matches!(*item, "score 0" | "build fails") {
            return Err(format!("{name}: unknown expectation {item:?}"));
        }
    }
    if !expectations.contains(&"score 0") {
        return Err(format!("{name}: every attack expects `score 0`"));
    }
    if body.trim().is_empty() {
        return Err(format!("{name}: the body is empty"));
    }
    Ok(Attack {
        name: name.to_string(),
        attack: attack.ok_or_else(|| missing("attack"))?,
        splice: splice.ok_or_else(|| missing("splice"))?,
        build_fails: expectations.contains(&"build fails"),
        body,
    })
}

/// The skeleton with the attack spliced in.
pub fn splice(skeleton: &str, attack: &Attack) -> Result<String, String> {
    match &attack.splice {
        Splice::Append => {
            let mut out = skeleton.to_string();
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("\n// ── hostile: ");
            out.push_str(&attack.name);
            out.push_str(" ──\n");
            out.push_str(&attack.body);
            Ok(out)
        }
        Splice::Hole(step) => {
            let needle = format!("todo!(\"RaftLab {step}\");");
            let lines: Vec<&str> = skeleton.split_inclusive('\n').collect();
            let at: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, line)| line.trim() == needle)
                .map(|(i, _)| i)
                .collect();
            let [at] = at[..] else {
                return Err(format!(
                    "{}: the skeleton has {} lines `{needle}`, want exactly one",
                    attack.name,
                    at.len()
                ));
            };
            let line = lines[at];
            let indent = &line[..line.len() - line.trim_start().len()];
            let ending = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
            let mut out = String::with_capacity(skeleton.len() + attack.body.len());
            for line in &lines[..at] {
                out.push_str(line);
            }
            for body_line in attack.body.lines() {
                if !body_line.trim().is_empty() {
                    out.push_str(indent);
                    out.push_str(body_line);
                }
                out.push_str(ending);
            }
            for line in &lines[at + 1..] {
                out.push_str(line);
            }
            Ok(out)
        }
    }
}

/// Every attack of `dir` (the `.rs` files), sorted by name.
pub fn load_attacks(dir: &Path) -> Result<Vec<Attack>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let name = path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            parse_attack(&name, &text)
        })
        .collect()
}

/// A hostile archive made at test time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveAttack {
    pub name: &'static str,
    pub path: PathBuf,
    /// What reading it must end with.
    pub expect: &'static str,
}

fn tar_entry(
    builder: &mut tar::Builder<Vec<u8>>,
    path: &str,
    kind: tar::EntryType,
    link: &str,
    data: &[u8],
) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    // Written byte by byte: the tar crate's own setter refuses `..`.
    let name = &mut header.as_old_mut().name;
    if path.len() >= name.len() {
        return Err(io::Error::other(format!("tar path too long: {path}")));
    }
    name[..path.len()].copy_from_slice(path.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    if !link.is_empty() {
        header.set_link_name(link)?;
    }
    header.set_cksum();
    builder.append(&header, data)
}

/// Writes the archive attacks into `dir`, each around `raft_rs` (the
/// skeleton, say), and says what each must end with.
pub fn write_archive_attacks(dir: &Path, raft_rs: &str) -> io::Result<Vec<ArchiveAttack>> {
    use tar::EntryType::{Link, Regular, Symlink};
    let source = raft_rs.as_bytes();
    let mut attacks = Vec::new();
    let mut tar = |name: &'static str,
                   expect: &'static str,
                   entries: &[(&str, tar::EntryType, &str, &[u8])]| {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, link, data) in entries {
            tar_entry(&mut builder, path, *kind, link, data)?;
        }
        let path = dir.join(name);
        fs::write(&path, builder.into_inner()?)?;
        attacks.push(ArchiveAttack { name, path, expect });
        io::Result::Ok(())
    };
    tar(
        "traversal.tar",
        "refused: an entry outside the submission",
        &[
            ("raft.rs", Regular, "", source),
            ("../../solutions/raft.rs", Regular, "", b"// overwritten\n"),
        ],
    )?;
    tar(
        "symlinked_src.tar",
        "refused: raft/src is a symbolic link",
        &[
            ("raft/src", Symlink, "/work/main/solutions", b""),
            ("raft/src/raft.rs", Regular, "", source),
        ],
    )?;
    tar(
        "hard_link.tar",
        "refused: raft.rs is a hard link",
        &[("raft.rs", Link, "/work/main/solutions/raft.rs", b"")],
    )?;
    tar(
        "duplicates.tar",
        "refused: ambiguous submission naming both entries",
        &[
            ("raft.rs", Regular, "", source),
            ("raft/src/raft.rs", Regular, "", source),
        ],
    )?;
    // 100 MiB of zeros before raft.rs, compressed to about 100 KiB.
    let mut builder = tar::Builder::new(Vec::new());
    tar_entry(
        &mut builder,
        "filler.bin",
        Regular,
        "",
        &vec![0u8; 100 << 20],
    )?;
    tar_entry(&mut builder, "raft.rs", Regular, "", source)?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&builder.into_inner()?)?;
    let path = dir.join("bomb.tgz");
    fs::write(&path, gzip.finish()?)?;
    attacks.push(ArchiveAttack {
        name: "bomb.tgz",
        path,
        expect: "refused: larger than 64 MiB once unpacked",
    });
    // A zip named like the grader's own output.
    let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("raft.rs", options)
        .map_err(io::Error::other)?;
    zip.write_all(source)?;
    let path = dir.join("grades.csv.zip");
    fs::write(&path, zip.finish().map_err(io::Error::other)?.into_inner())?;
    attacks.push(ArchiveAttack {
        name: "grades.csv.zip",
        path,
        expect: "read as a zip holding raft.rs; graded like the skeleton (score 0); grades.csv untouched",
    });
    Ok(attacks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{self, ArchiveError};

    fn repository() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn skeleton() -> String {
        fs::read_to_string(repository().join("raft/src/raft.rs")).unwrap()
    }

    #[test]
    fn a_hole_body_replaces_its_todo_line_with_its_indentation() {
        let skeleton = "fn a() {\n    todo!(\"RaftLab Election Step1\");\n    after();\n}\n";
        let attack = parse_attack(
            "t",
            "//! attack: x\n//! splice: hole Election Step1\n//! expect: score 0\n{\n    evil();\n}\n",
        )
        .unwrap();
        assert_eq!(
            splice(skeleton, &attack).unwrap(),
            "fn a() {\n    {\n        evil();\n    }\n    after();\n}\n"
        );
        let appended = parse_attack("u", "//! attack: x\n//! splice: append\n//! expect: build fails, score 0\nstatic X: u8 = 0;\n").unwrap();
        assert!(appended.build_fails);
        assert!(
            splice(skeleton, &appended)
                .unwrap()
                .ends_with("// ── hostile: u ──\nstatic X: u8 = 0;\n")
        );
    }

    #[test]
    fn headers_and_holes_are_checked() {
        let parse = |text: &str| parse_attack("t", text).unwrap_err();
        assert!(
            parse("//! attack: x\n//! splice: middle\n//! expect: score 0\nx\n")
                .contains("splice is")
        );
        assert!(parse("//! attack: x\n//! splice: append\nx\n").contains("no `//! expect:`"));
        assert!(
            parse("//! attack: x\n//! splice: append\n//! expect: score 100\nx\n")
                .contains("unknown expectation")
        );
        assert!(
            parse("//! attack: x\n//! splice: append\n//! expect: score 0\n").contains("empty")
        );
        let attack = parse_attack(
            "t",
            "//! attack: x\n//! splice: hole Election Step9\n//! expect: score 0\nx\n",
        )
        .unwrap();
        let error = splice("todo!(\"RaftLab Election Step1\");\n", &attack).unwrap_err();
        assert!(error.contains("0 lines"), "{error}");
    }

    #[test]
    fn every_attack_of_the_suite_splices_into_the_current_skeleton() {
        let attacks = load_attacks(&repository().join("solutions/hostile")).unwrap();
        assert!(attacks.len() >= 14, "{} attacks", attacks.len());
        let skeleton = skeleton();
        for attack in &attacks {
            let spliced = splice(&skeleton, attack).unwrap_or_else(|e| panic!("{e}"));
            assert_ne!(spliced, skeleton);
            if let Splice::Hole(step) = &attack.splice {
                let todo = format!("todo!(\"RaftLab {step}\");");
                assert!(
                    !spliced.contains(&todo),
                    "{}: {todo} still there",
                    attack.name
                );
            }
        }
    }

    #[test]
    fn the_archive_attacks_are_refused_or_read_as_they_say() {
        let dir = tempfile::TempDir::new().unwrap();
        let attacks = write_archive_attacks(dir.path(), "// skeleton\n").unwrap();
        let wanted = ["raft/src/raft.rs"];
        let caps = archive::Caps::default();
        for attack in &attacks {
            let result = archive::read_submission(&attack.path, &wanted, &caps);
            let ok = match (attack.name, &result) {
                ("traversal.tar", Err(ArchiveError::UnsafePath { .. })) => true,
                ("symlinked_src.tar" | "hard_link.tar", Err(ArchiveError::Link { .. })) => true,
                ("duplicates.tar", Err(ArchiveError::Ambiguous { candidates, .. })) => {
                    candidates.len() == 2
                }
                ("bomb.tgz", Err(ArchiveError::TooMuchData { .. })) => true,
                ("grades.csv.zip", Ok(submission)) => {
                    submission.files["raft/src/raft.rs"].text == "// skeleton\n"
                }
                _ => false,
            };
            assert!(
                ok,
                "{}: want {}, got {result:?}",
                attack.name, attack.expect
            );
        }
    }
}
