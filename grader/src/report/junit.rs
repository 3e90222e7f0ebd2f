//! JUnit XML of a grading run: one test suite per part, one test case per
//! case run.

use std::fmt::Write as _;

use super::{Graded, Report};
use crate::exec::judge::Status;
use crate::model::Part;

/// `text` escaped for XML text and attribute values. Control characters
/// XML 1.0 cannot hold at all (an ANSI escape a student printed) become
/// `\x1b`-style text.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The report as JUnit XML (and a failing placeholder for an item with no
/// case).
pub fn junit_xml(report: &Report) -> String {
    let mut suites = String::new();
    let (mut total_tests, mut total_failures) = (0, 0);
    for part in Part::ALL {
        let items: Vec<_> = report
            .items
            .iter()
            .filter(|item| item.item.graded.part() == part)
            .collect();
        if items.is_empty() {
            continue;
        }
        let (mut tests, mut failures, mut time) = (0, 0, 0.0);
        let mut cases = String::new();
        for item in items {
            let classname = match item.item.graded {
                Graded::Step(step) => step.name().to_string(),
                Graded::Scenarios(part) => format!("{part} scenarios"),
                Graded::Hidden(part) => format!("{part} scenarios, hidden seeds"),
                Graded::Search(part) => format!("{part} search"),
            };
            if item.cases.is_empty() {
                tests += 1;
                failures += 1;
                let _ = writeln!(
                    cases,
                    "    <testcase name=\"(no cases)\" classname=\"{}\" time=\"0\">\n      \
                     <failure type=\"NO CASES\" message=\"no case of this item was run\"/>\n    \
                     </testcase>",
                    xml_escape(&classname)
                );
                continue;
            }
            for &index in &item.cases {
                let result = &report.results[index];
                tests += 1;
                time += result.elapsed.as_secs_f64();
                let _ = write!(
                    cases,
                    "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                    xml_escape(result.case.name),
                    xml_escape(&classname),
                    result.elapsed.as_secs_f64()
                );
                let kind = match result.status {
                    Status::Pass => {
                        cases.push_str("/>\n");
                        continue;
                    }
                    Status::Fail => "FAIL".to_string(),
                    Status::Timeout => "TIMEOUT".to_string(),
                    Status::Todo => "TODO".to_string(),
                    Status::Blocked(step) => format!("BLOCKED BY {step}"),
                };
                failures += 1;
                let mut body = result.message.clone();
                let _ = write!(body, "\nreplay: {}", report.replay_command(result));
                for line in &result.output {
                    let _ = write!(body, "\n| {line}");
                }
                let _ = writeln!(
                    cases,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                    xml_escape(&kind),
                    xml_escape(result.message.lines().next().unwrap_or_default()),
                    xml_escape(&body)
                );
            }
        }
        total_tests += tests;
        total_failures += failures;
        let _ = write!(
            suites,
            "  <testsuite name=\"{part}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" \
             time=\"{time:.3}\">\n{cases}  </testsuite>\n"
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"raftlab\" tests=\"{total_tests}\" \
         failures=\"{total_failures}\" errors=\"0\" time=\"{:.3}\">\n{suites}</testsuites>\n",
        report.elapsed.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_xml_cannot_hold() {
        assert_eq!(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(xml_escape("\x1b[31m"), "\\x1b[31m");
    }
}
