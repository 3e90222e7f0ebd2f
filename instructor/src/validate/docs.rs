//! Keeps the documents true to the tools. Every shell command of the
//! README and the handout that runs the lab's commands (`./raftlab_test.sh
//! ...`, `cargo run -q -p instructor -- ...`, `raftlab test ...`) is
//! extracted and parsed with the very parser the command uses; every case
//! named (`--case e3::x`, or `e3::x` in the text) must exist; and every
//! output excerpt, a code block right after an `<!-- output of: COMMAND -->`
//! comment, must still be what COMMAND prints (each of its lines, with
//! times and counts of seconds left out).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The documents whose commands are checked, relative to the workspace root.
pub const DOCUMENTS: &[&str] = &[
    "README.md",
    "handout/README.md",
    "handout/README.zh-CN.md",
    "kv/README.md",
];

/// One command line found in a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocCommand {
    pub file: PathBuf,
    /// 1-based line of the command's first line.
    pub line: usize,
    /// The command, continuation lines joined, prompt and comment removed.
    pub text: String,
}

/// The command lines of the shell code blocks (```sh, ```bash, ```shell,
/// ```console) of `markdown`, with `$ ` prompts, trailing `# comments` and
/// backslash continuations handled. In a console block only prompted lines
/// are commands; the rest is output.
pub fn extract(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fence: Option<bool> = None; // Some(console?) inside a shell block
    let mut other_block = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in markdown.lines().enumerate() {
        let trimmed = raw.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            if fence.is_some() || other_block {
                fence = None;
                other_block = false;
                pending = None;
            } else {
                match lang.trim() {
                    "sh" | "bash" | "shell" => fence = Some(false),
                    "console" => fence = Some(true),
                    _ => other_block = true,
                }
            }
            continue;
        }
        let Some(console) = fence else {
            continue;
        };
        let mut line = trimmed.to_string();
        if let Some((start, mut text)) = pending.take() {
            text.push(' ');
            text.push_str(strip_comment(&line).trim_end_matches('\\').trim());
            if line.ends_with('\\') {
                pending = Some((start, text));
            } else {
                out.push((start, text));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("$ ") {
            line = rest.to_string();
        } else if console {
            continue;
        }
        let command = strip_comment(&line);
        if command.is_empty() {
            continue;
        }
        if command.ends_with('\\') {
            pending = Some((i + 1, command.trim_end_matches('\\').trim().to_string()));
        } else {
            out.push((i + 1, command.to_string()));
        }
    }
    out
}

/// `line` without a trailing `# comment` (a `#` after white space, outside
/// quotes), trimmed.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && prev_space => return line[..i].trim(),
            None => {}
        }
        prev_space = c.is_whitespace();
    }
    line.trim()
}

/// Splits a command into words: white space separates, quotes group.
pub fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in command.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// A documented invocation of one of the lab's commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// `./raftlab_test.sh ARGS` or `raftlab test ARGS`: the student's
    /// grader (with the instructor options the script hands on).
    Test(Vec<String>),
    /// `./raftlab_test.sh --validate ARGS`.
    Validate(Vec<String>),
    /// `cargo run ... -p instructor -- SUB ARGS`.
    Instructor(Vec<String>),
}

/// The lab command `command` runs, if any. Environment assignments before
/// it (`RUST_LOG=raft=debug ./raftlab_test.sh ...`) are skipped.
pub fn invocation(command: &str) -> Option<Invocation> {
    let all = words(command);
    let start = all.iter().position(|w| !is_assignment(w))?;
    let w = &all[start..];
    let first = w.first()?;
    if first.ends_with("raftlab_test.sh") {
        let rest = w[1..].to_vec();
        if rest.first().map(String::as_str) == Some("--validate") {
            return Some(Invocation::Validate(rest[1..].to_vec()));
        }
        return Some(Invocation::Test(rest));
    }
    if first == "cargo" && w.get(1).map(String::as_str) == Some("run") {
        let instructor = w.windows(2).any(|p| p[0] == "-p" && p[1] == "instructor");
        if !instructor {
            return None;
        }
        let sep = w.iter().position(|a| a == "--")?;
        return Some(Invocation::Instructor(w[sep + 1..].to_vec()));
    }
    if Path::new(first).file_name().and_then(|n| n.to_str()) == Some("raftlab")
        && w.get(1).map(String::as_str) == Some("test")
    {
        return Some(Invocation::Test(w[2..].to_vec()));
    }
    None
}

/// What is wrong with an invocation: it is checked by the parser of the
/// command it runs, and a case it names must exist.
pub fn check(inv: &Invocation) -> Result<(), String> {
    let os = |v: &[String]| v.iter().map(OsString::from).collect::<Vec<_>>();
    match inv {
        Invocation::Test(args) => check_test(args),
        Invocation::Validate(args) => super::parse_args(os(args)).map(|_| ()),
        Invocation::Instructor(args) => {
            let Some((sub, rest)) = args.split_first() else {
                return Err("no instructor command".into());
            };
            match sub.as_str() {
                "test" => check_test(rest),
                "exec" => {
                    let (_, cmd) = crate::cli::split_variant(os(rest))?;
                    if cmd.is_empty() {
                        return Err("exec needs a command".into());
                    }
                    Ok(())
                }
                "skeleton" => match rest {
                    [] => Ok(()),
                    [f] if f == "--check" => Ok(()),
                    _ => Err(format!("skeleton takes only --check, not {rest:?}")),
                },
                "validate" => super::parse_args(os(rest)).map(|_| ()),
                "package" => crate::package::parse_args(os(rest)).map(|_| ()),
                "grade" => crate::grade::parse_args(os(rest)).map(|_| ()),
                "gradescope" => match rest {
                    [zip] if zip.ends_with(".zip") => Ok(()),
                    _ => Err("gradescope takes one OUT.zip".into()),
                },
                "-h" | "--help" if rest.is_empty() => Ok(()),
                other => Err(format!("`instructor {other}` is not a command")),
            }
        }
    }
}

fn check_test(args: &[String]) -> Result<(), String> {
    let (_, rest) = crate::cli::split_variant(args.iter().map(OsString::from).collect())?;
    let parsed = grader::cli::args::parse(rest).map_err(|e| format!("raftlab test: {e}"))?;
    if let Some(name) = &parsed.case
        && grader::registry::find(name).is_none()
    {
        return Err(format!("there is no case {name:?} (see --list)"));
    }
    Ok(())
}

/// The words of `text` shaped like case names (`e3::x`, `election::y`,
/// `replication::z`) that name no case.
pub fn unknown_cases(text: &str) -> Vec<String> {
    let modules: Vec<&str> = grader::registry::all()
        .iter()
        .filter_map(|c| c.name.split("::").next())
        .collect();
    let mut out = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
        let Some((module, name)) = word.split_once("::") else {
            continue;
        };
        if name.is_empty() || !modules.contains(&module) {
            continue;
        }
        let word = word.trim_end_matches(':');
        if grader::registry::find(word).is_none() && !out.iter().any(|w| w == word) {
            out.push(word.to_string());
        }
    }
    out
}

/// An output excerpt: the command whose output it shows, and its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    pub file: PathBuf,
    pub line: usize,
    pub command: String,
    pub lines: Vec<String>,
}

/// The excerpts of `markdown`: each code block right after a line
/// `<!-- output of: COMMAND -->`.
pub fn excerpts(file: &Path, markdown: &str) -> Vec<Excerpt> {
    let mut out = Vec::new();
    let lines: Vec<&str> = markdown.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        if let Some(command) = t
            .strip_prefix("<!-- output of:")
            .and_then(|r| r.strip_suffix("-->"))
        {
            let command = command.trim().to_string();
            // The block starts at the next fence.
            let Some(open) = (i + 1..lines.len()).find(|&j| lines[j].trim().starts_with("```"))
            else {
                break;
            };
            let close = (open + 1..lines.len())
                .find(|&j| lines[j].trim().starts_with("```"))
                .unwrap_or(lines.len());
            out.push(Excerpt {
                file: file.to_path_buf(),
                line: i + 1,
                command,
                lines: lines[open + 1..close]
                    .iter()
                    .map(|l| l.to_string())
                    .collect(),
            });
            i = close;
        }
        i += 1;
    }
    out
}

/// A line with what changes from run to run left out: times (`0.3 s`,
/// `1.2s`, `12 ms`) and runs of spaces.
pub fn normalize(line: &str) -> String {
    let mut out = Vec::new();
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let number = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.');
        if number(w) && matches!(words.get(i + 1), Some(&("s" | "ms"))) {
            out.push("TIME".to_string());
            i += 2;
            continue;
        }
        if let Some(n) = w.strip_suffix("ms").or_else(|| w.strip_suffix('s'))
            && number(n)
            && n.contains('.')
        {
            out.push("TIME".to_string());
            i += 1;
            continue;
        }
        out.push(w.to_string());
        i += 1;
    }
    out.join(" ")
}

/// The lines of `excerpt` that `output` does not have.
pub fn stale_lines(excerpt: &[String], output: &str) -> Vec<String> {
    let have: Vec<String> = output.lines().map(normalize).collect();
    excerpt
        .iter()
        .filter(|l| !l.trim().is_empty() && l.trim() != "...")
        .filter(|l| {
            let want = normalize(l);
            !have.iter().any(|h| h == &want)
        })
        .cloned()
        .collect()
}

/// Checks every document under `root`: commands, case names and output
/// excerpts (each excerpt's command is run in `root`). Returns the
/// problems, each naming its file and line, and how many things were
/// checked.
pub fn check_documents(root: &Path) -> Result<(Vec<String>, usize), String> {
    let mut problems = Vec::new();
    let mut checked = 0;
    for doc in DOCUMENTS {
        let path = root.join(doc);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (line, command) in extract(&text) {
            if let Some(inv) = invocation(&command) {
                checked += 1;
                if let Err(e) = check(&inv) {
                    problems.push(format!("{doc}:{line}: `{command}`: {e}"));
                }
            }
        }
        for (number, line) in text.lines().enumerate() {
            for name in unknown_cases(line) {
                problems.push(format!(
                    "{doc}:{}: names the case {name}, which does not exist",
                    number + 1
                ));
            }
        }
        for excerpt in excerpts(Path::new(doc), &text) {
            checked += 1;
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(&excerpt.command)
                .current_dir(root)
                .env("NO_COLOR", "1")
                .stdin(std::process::Stdio::null())
                .output();
            match output {
                Err(e) => problems.push(format!(
                    "{doc}:{}: cannot run `{}`: {e}",
                    excerpt.line, excerpt.command
                )),
                Ok(o) => {
                    let all = format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    );
                    let stale = stale_lines(&excerpt.lines, &all);
                    if !stale.is_empty() {
                        problems.push(format!(
                            "{doc}:{}: the output of `{}` no longer has: {}",
                            excerpt.line,
                            excerpt.command,
                            stale.join(" | ")
                        ));
                    }
                }
            }
        }
    }
    Ok((problems, checked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_come_from_shell_blocks_only() {
        let md = "text\n```sh\n./raftlab_test.sh --step E3   # one step\n\n```\n```\n./raftlab_test.sh --nope\n```\n```console\n$ ./raftlab_test.sh --part election\noutput line\n```\n";
        assert_eq!(
            extract(md),
            vec![
                (3, "./raftlab_test.sh --step E3".to_string()),
                (10, "./raftlab_test.sh --part election".to_string())
            ]
        );
    }

    #[test]
    fn continuations_are_joined() {
        let md = "```sh\ncargo run -q -p grader --bin raftlab -- \\\n  exec --solution -- cargo test\n```\n";
        assert_eq!(
            extract(md),
            vec![(
                2,
                "cargo run -q -p grader --bin raftlab -- exec --solution -- cargo test".to_string()
            )]
        );
    }

    #[test]
    fn lab_invocations_are_recognised() {
        assert_eq!(
            invocation("./raftlab_test.sh"),
            Some(Invocation::Test(vec![]))
        );
        assert_eq!(
            invocation("./raftlab_test.sh --validate --quick"),
            Some(Invocation::Validate(vec!["--quick".into()]))
        );
        assert_eq!(
            invocation("RUST_LOG=raft=debug ./raftlab_test.sh --case e3::x"),
            Some(Invocation::Test(vec!["--case".into(), "e3::x".into()]))
        );
        assert_eq!(
            invocation("cargo run -q -p instructor -- skeleton --check"),
            Some(Invocation::Instructor(vec![
                "skeleton".into(),
                "--check".into()
            ]))
        );
        assert_eq!(
            invocation("rust-gdb --args target/raftlab-debug/raftlab-host run e3::x"),
            None
        );
        assert_eq!(invocation("cargo build -p grader"), None);
    }

    #[test]
    fn invocations_are_checked_by_their_parsers() {
        let t = |s: &str| check(&invocation(s).unwrap());
        assert_eq!(t("./raftlab_test.sh --step E3"), Ok(()));
        assert!(t("./raftlab_test.sh --step E11").is_err());
        assert!(t("./raftlab_test.sh --nope").is_err());
        assert!(
            t("./raftlab_test.sh --case e3::nothing_like_this")
                .unwrap_err()
                .contains("no case")
        );
        assert_eq!(t("./raftlab_test.sh --solution --part election"), Ok(()));
        assert_eq!(
            t("cargo run -q -p instructor -- exec --solution -- cargo test --release"),
            Ok(())
        );
        assert!(t("cargo run -q -p instructor -- frobnicate").is_err());
        assert!(t("cargo run -q -p instructor -- package").is_err());
        assert_eq!(
            t("cargo run -q -p instructor -- package /tmp/p --no-hints"),
            Ok(())
        );
    }

    #[test]
    fn case_names_in_text_must_exist() {
        let first = grader::registry::all()[0].name;
        assert!(
            unknown_cases(&format!("see `{first}` and e1::no_such_case."))
                .contains(&"e1::no_such_case".to_string())
        );
        assert!(unknown_cases(&format!("see `{first}`")).is_empty());
        assert!(unknown_cases("std::fmt and raft::Message are not cases").is_empty());
    }

    #[test]
    fn excerpts_follow_their_comment_and_match_modulo_times() {
        let md = "a\n<!-- output of: ./raftlab_test.sh --list -->\n```text\nScore 5/5 · 0.3 s\nline two\n```\n";
        let ex = excerpts(Path::new("d.md"), md);
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].command, "./raftlab_test.sh --list");
        assert_eq!(ex[0].lines, vec!["Score 5/5 · 0.3 s", "line two"]);
        assert!(stale_lines(&ex[0].lines, "Score 5/5 · 1.7 s\nline two\n").is_empty());
        assert_eq!(
            stale_lines(&ex[0].lines, "Score 4/5 · 1.7 s\nline two\n"),
            vec!["Score 5/5 · 0.3 s"]
        );
    }

    #[test]
    fn comments_inside_quotes_are_kept() {
        assert_eq!(
            strip_comment("echo '# not a comment' # a comment"),
            "echo '# not a comment'"
        );
        assert_eq!(words("a 'b c' \"d\""), vec!["a", "b c", "d"]);
    }
}
