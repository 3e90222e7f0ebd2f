//! The crates' import graphs, read from their sources: the grader's layers
//! import downwards only, in the order its `lib.rs` table gives, and no
//! crate's top-level modules import each other in a cycle.
//!
//! An import is any path through `crate::` or `super::` in a source file
//! (in `use` lines, in groups `crate::{a, b::c}`, and inline in code),
//! resolved to the top-level module it names. Comments are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// module → the modules it imports (itself left out), with one file and
/// line that shows each import.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the instructor crate sits in the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/`: `cases/steps/e1.rs` is
/// `[cases, steps, e1]`, `sim/mod.rs` is `[sim]`. `None` for the crate
/// root and for binaries, which sit above every layer.
fn module_path(src: &Path, file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(src).ok()?;
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") || parts == ["lib.rs"] || parts == ["main.rs"] {
        return None;
    }
    let last = parts.pop()?;
    if last != "mod.rs" {
        parts.push(last.trim_end_matches(".rs").to_string());
    }
    Some(parts)
}

/// The code of a file without its comments (line comments and doc
/// comments; the crates use no block comments).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    text.lines().enumerate().map(|(i, line)| {
        let code = match line.find("//") {
            // A `//` inside a string literal (a URL) is rare in these
            // crates; cutting there only loses the rest of that line.
            Some(at) => &line[..at],
            None => line,
        };
        (i + 1, code.to_string())
    })
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path that starts at `crate::` or `super::` in `code`, as written:
/// `crate::sim::Sim`, `super::super::unit`, and each member of a group
/// (`crate::{model::Step, sim}` gives `crate::model::Step` and
/// `crate::sim`). Group members are read to the end of the line only.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..].iter().collect();
        let starts = (rest.starts_with("crate::") || rest.starts_with("super::"))
            && (i == 0 || !is_ident_char(bytes[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < bytes.len() && (is_ident_char(bytes[end]) || bytes[end] == ':') {
            end += 1;
        }
        let head: String = bytes[i..end].iter().collect();
        if end < bytes.len() && bytes[end] == '{' {
            let group: String = bytes[end + 1..].iter().collect();
            let group = group.split('}').next().unwrap_or("");
            for member in group.split(',') {
                let member = member.trim();
                let member: String = member
                    .chars()
                    .take_while(|&c| is_ident_char(c) || c == ':')
                    .collect();
                if !member.is_empty() {
                    found.push(format!("{head}{member}"));
                }
            }
        } else {
            found.push(head.trim_end_matches(':').to_string());
        }
        i = end.max(i + 1);
    }
    found
}

/// The top-level module a path names, seen from a file of module `here`.
fn top_module(path: &str, here: &[String]) -> Option<String> {
    let mut at: Vec<String> = Vec::new();
    let mut segments = path.split("::").filter(|s| !s.is_empty()).peekable();
    match segments.next()? {
        "crate" => {}
        "super" => {
            at = here.to_vec();
            at.pop();
            while segments.peek() == Some(&"super") {
                segments.next();
                at.pop();
            }
        }
        _ => return None,
    }
    match at.first() {
        Some(top) => Some(top.clone()),
        None => segments.next().map(str::to_string),
    }
}

/// The graph of `crate_dir`'s top-level modules (those declared in its
/// `lib.rs`), from every file under `src/`.
fn graph(crate_dir: &Path) -> Graph {
    let src = crate_dir.join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).expect("the crate has a lib.rs");
    let modules: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("pub ").unwrap_or(l.trim());
            let name = l.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.to_string())
        })
        .collect();
    assert!(
        !modules.is_empty(),
        "{}: no modules in lib.rs",
        src.display()
    );
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeMap::new()))
        .collect();
    for file in files {
        let Some(here) = module_path(&src, &file) else {
            continue;
        };
        let from = here[0].clone();
        assert!(
            modules.contains(&from),
            "{} is not under a module lib.rs declares",
            file.display()
        );
        let text = fs::read_to_string(&file).expect("a readable source file");
        for (line_no, code) in code_lines(&text) {
            for path in paths(&code) {
                let Some(to) = top_module(&path, &here) else {
                    continue;
                };
                if to != from && modules.contains(&to) {
                    let rel = file.strip_prefix(crate_dir).unwrap_or(&file);
                    graph
                        .get_mut(&from)
                        .expect("every module is a node")
                        .entry(to)
                        .or_insert_with(|| format!("{}:{line_no}: {}", rel.display(), code.trim()));
                }
            }
        }
    }
    graph
}

/// A cycle of `graph`, if it has one, as the modules along it.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        m: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(m.to_string(), Mark::Open);
        stack.push(m.to_string());
        for next in graph[m].keys() {
            match marks[next] {
                Mark::Open => {
                    let from = stack.iter().position(|s| s == next).expect("on the stack");
                    let mut found = stack[from..].to_vec();
                    found.push(next.clone());
                    return Some(found);
                }
                Mark::New => {
                    if let Some(found) = visit(next, graph, marks, stack) {
                        return Some(found);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(m.to_string(), Mark::Done);
        None
    }
    let mut marks: BTreeMap<String, Mark> = graph.keys().map(|m| (m.clone(), Mark::New)).collect();
    for m in graph.keys() {
        if marks[m] == Mark::New {
            let mut stack = Vec::new();
            if let Some(found) = visit(m, graph, &mut marks, &mut stack) {
                return Some(found);
            }
        }
    }
    None
}

fn describe_cycle(graph: &Graph, found: &[String]) -> String {
    found
        .windows(2)
        .map(|w| format!("  {} → {}  ({})", w[0], w[1], graph[&w[0]][&w[1]]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The layers of the grader's `lib.rs` table: `| 3 | [`sim`] | ... |`.
fn grader_layers(lib: &str) -> BTreeMap<String, u32> {
    lib.lines()
        .filter_map(|l| {
            let mut cells = l.strip_prefix("//! |")?.split('|').map(str::trim);
            let layer: u32 = cells.next()?.parse().ok()?;
            let module = cells.next()?.trim_matches(|c| "[]`".contains(c));
            Some((module.to_string(), layer))
        })
        .collect()
}

#[test]
fn the_grader_imports_downwards_only() {
    let dir = workspace().join("grader");
    let graph = graph(&dir);
    let lib = fs::read_to_string(dir.join("src/lib.rs")).expect("grader/src/lib.rs");
    let layers = grader_layers(&lib);
    let modules: BTreeSet<&String> = graph.keys().collect();
    let tabled: BTreeSet<&String> = layers.keys().collect();
    assert_eq!(
        modules, tabled,
        "every module of grader/src/lib.rs has a row in its layer table, and only those"
    );
    let mut upwards = Vec::new();
    for (from, imports) in &graph {
        for (to, at) in imports {
            if layers[to] >= layers[from] {
                upwards.push(format!(
                    "  {from} (layer {}) imports {to} (layer {}): {at}",
                    layers[from], layers[to]
                ));
            }
        }
    }
    assert!(
        upwards.is_empty(),
        "imports that do not point to a lower layer:\n{}",
        upwards.join("\n")
    );
}

#[test]
fn no_crate_has_an_import_cycle() {
    let libraries = ["grader", "instructor", "host", "raft", "kv"]
        .map(|name| (name, workspace().join(name)))
        .into_iter()
        .filter(|(_, dir)| dir.join("src/lib.rs").exists());
    for (name, dir) in libraries {
        let graph = graph(&dir);
        if let Some(found) = cycle(&graph) {
            panic!(
                "{name}: its modules import each other in a cycle:\n{}",
                describe_cycle(&graph, &found)
            );
        }
    }
}

#[test]
fn the_reader_finds_imports_and_cycles() {
    // The parser, on the forms the crates use.
    assert_eq!(
        paths("use crate::{model::Step, sim};"),
        ["crate::model::Step", "crate::sim"]
    );
    assert_eq!(
        paths("let x = crate::report::table(&r);"),
        ["crate::report::table"]
    );
    assert_eq!(
        paths("use super::super::unit::Node;"),
        ["super::super::unit::Node"]
    );
    assert!(paths("let supercrate::x = 1;").is_empty());
    let here = |p: &str| p.split('/').map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        top_module("super::unit", &here("cases/steps")),
        Some("cases".into())
    );
    assert_eq!(
        top_module("super::super::unit", &here("cases/steps/e1")),
        Some("cases".into())
    );
    assert_eq!(
        top_module("super::Sim", &here("sim/check")),
        Some("sim".into())
    );
    assert_eq!(
        top_module("super::sim::Sim", &here("report")),
        Some("sim".into())
    );
    assert_eq!(
        top_module("crate::sim::Sim", &here("report")),
        Some("sim".into())
    );

    // The cycle finder, on a graph with one and without.
    let edge = |a: &str, b: &str| (a.to_string(), b.to_string());
    let make = |edges: &[(String, String)]| {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(b.clone()).or_default();
            g.entry(a.clone())
                .or_default()
                .insert(b.clone(), "here".into());
        }
        g
    };
    let acyclic = make(&[
        edge("cli", "report"),
        edge("report", "model"),
        edge("cli", "model"),
    ]);
    assert_eq!(cycle(&acyclic), None);
    let cyclic = make(&[
        edge("cli", "report"),
        edge("report", "exec"),
        edge("exec", "report"),
    ]);
    assert_eq!(
        cycle(&cyclic),
        Some(vec![
            "report".to_string(),
            "exec".to_string(),
            "report".to_string()
        ])
    );
    assert_eq!(
        grader_layers("//! | 3 | [`sim`] | the simulator |\n//! |---|---|---|"),
        BTreeMap::from([("sim".to_string(), 3)])
    );
}
