//! Keeps the documents true to the tool: every shell command in the README
//! and the handout that runs `raftlab` (directly, through
//! `./raftlab_test.sh`, or through `cargo run ... --bin raftlab --`) is
//! extracted here, so the validation can check that its subcommand and
//! flags exist.

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

/// The arguments `raftlab` receives when `command` runs, if it runs it:
/// `./raftlab_test.sh --step E3` gives `test --step E3`,
/// `./raftlab_test.sh --validate` gives `validate`, and
/// `cargo run -q -p grader --bin raftlab -- exec --solution -- cargo test`
/// gives `exec --solution -- cargo test`. Environment assignments before
/// the command (`RUST_LOG=raft=debug ./raftlab_test.sh ...`) are skipped.
pub fn raftlab_args(command: &str) -> Option<Vec<String>> {
    let all = words(command);
    let start = all.iter().position(|w| !is_assignment(w))?;
    let w = &all[start..];
    let first = w.first()?;
    if first.ends_with("raftlab_test.sh") {
        let rest = &w[1..];
        if rest.first().map(String::as_str) == Some("--validate") {
            let mut args = vec!["validate".to_string()];
            args.extend(rest[1..].iter().cloned());
            return Some(args);
        }
        if rest.iter().any(|a| a == "-h" || a == "--help") {
            return Some(vec!["test".into(), "--help".into()]);
        }
        let mut args = vec!["test".to_string()];
        args.extend(rest.iter().cloned());
        return Some(args);
    }
    if first == "cargo" && w.get(1).map(String::as_str) == Some("run") {
        let bin = w.windows(2).any(|p| p[0] == "--bin" && p[1] == "raftlab");
        if !bin {
            return None;
        }
        let sep = w.iter().position(|a| a == "--")?;
        return Some(w[sep + 1..].to_vec());
    }
    if Path::new(first).file_name().and_then(|n| n.to_str()) == Some("raftlab") {
        return Some(w[1..].to_vec());
    }
    None
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// Every command of the checked documents under `root` that runs `raftlab`,
/// with the arguments it passes. A missing document is an error: the
/// documents are part of what is validated.
pub fn raftlab_commands(root: &Path) -> Result<Vec<(DocCommand, Vec<String>)>, String> {
    let mut out = Vec::new();
    for doc in DOCUMENTS {
        let path = root.join(doc);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (line, command) in extract(&text) {
            if let Some(args) = raftlab_args(&command) {
                out.push((
                    DocCommand {
                        file: PathBuf::from(doc),
                        line,
                        text: command,
                    },
                    args,
                ));
            }
        }
    }
    Ok(out)
}

/// What is wrong with the documented invocation `args` (subcommand first),
/// given `usage(sub)`, the usage text of a subcommand (`None` when there is
/// no such subcommand): an unknown subcommand, a flag its usage does not
/// list, or `test` arguments its parser refuses. Arguments after a lone
/// `--` belong to another program and are not checked.
pub fn check_invocation(
    args: &[String],
    mut usage: impl FnMut(&str) -> Option<String>,
) -> Result<(), String> {
    let Some(sub) = args.first() else {
        return Err("no subcommand".into());
    };
    let Some(text) = usage(sub) else {
        return Err(format!("`raftlab {sub}` is not a subcommand"));
    };
    let own = args[1..].iter().take_while(|a| a.as_str() != "--");
    for arg in own {
        if let Some(flag) = arg.strip_prefix("--") {
            let flag = format!("--{}", flag.split('=').next().unwrap_or(flag));
            if !text.contains(&flag) {
                return Err(format!("`raftlab {sub}` has no flag {flag}"));
            }
        }
    }
    if sub == "test" {
        // `raftlab test` takes the variant flags itself (building the
        // variant), and hands the rest to the parser checked here.
        let mut rest: Vec<std::ffi::OsString> = Vec::new();
        let mut words = args[1..].iter();
        while let Some(w) = words.next() {
            match w.split('=').next().unwrap_or(w) {
                "--solution" | "--reference" => {}
                "--file" | "--minus" | "--mutant" if !w.contains('=') => {
                    words.next();
                }
                "--file" | "--minus" | "--mutant" => {}
                _ => rest.push(w.into()),
            }
        }
        crate::runner::parse_test_args(&rest).map_err(|e| format!("raftlab test: {e}"))?;
    }
    Ok(())
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
    fn raftlab_invocations_are_recognised() {
        let args = |c: &str| raftlab_args(c).map(|v| v.join(" "));
        assert_eq!(args("./raftlab_test.sh").as_deref(), Some("test"));
        assert_eq!(
            args("./raftlab_test.sh --validate").as_deref(),
            Some("validate")
        );
        assert_eq!(
            args("RUST_LOG=raft=debug ./raftlab_test.sh --case e3::x --seed 0x0").as_deref(),
            Some("test --case e3::x --seed 0x0")
        );
        assert_eq!(
            args("cargo run -q -p grader --bin raftlab -- skeleton --check").as_deref(),
            Some("skeleton --check")
        );
        assert_eq!(
            args("rust-gdb --args target/debug/raftlab test --case e3::x").as_deref(),
            None,
            "a debugger's command line is not a raftlab invocation of its own"
        );
        assert_eq!(
            args("target/debug/raftlab test --step E1").as_deref(),
            Some("test --step E1")
        );
        assert_eq!(args("cargo build -p grader --bin raftlab"), None);
        assert_eq!(args("curl -s http://127.0.0.1:8001/kv/foo"), None);
    }

    #[test]
    fn comments_inside_quotes_are_kept() {
        assert_eq!(
            strip_comment("echo '# not a comment' # a comment"),
            "echo '# not a comment'"
        );
        assert_eq!(words("a 'b c' \"d\""), vec!["a", "b c", "d"]);
    }

    #[test]
    fn invocations_are_checked_against_usage_and_parser() {
        let usage = |sub: &str| match sub {
            "test" => Some(crate::runner::TEST_USAGE.to_string()),
            "exec" => Some("--solution --file".to_string()),
            _ => None,
        };
        let v = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(check_invocation(&v("test --step E3"), usage), Ok(()));
        assert!(
            check_invocation(&v("test --step E11"), usage).is_err(),
            "the parser refuses E11"
        );
        assert!(
            check_invocation(&v("test --nope"), usage)
                .unwrap_err()
                .contains("--nope")
        );
        assert!(check_invocation(&v("frobnicate"), usage).is_err());
        assert_eq!(
            check_invocation(&v("exec --solution -- cargo test --release"), usage),
            Ok(()),
            "flags after -- belong to the command run"
        );
    }
}
