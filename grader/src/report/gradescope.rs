//! Gradescope's `results.json`, as one typed value with one serializer.
//!
//! The format: <https://gradescope-autograders.readthedocs.io/en/latest/specs/>.
//! Every file of this kind the lab writes (a student's `--json`, each row
//! of a bulk grading, the autograder's) is built here.

use serde_json::{Value, json};

use super::{Graded, Report, Verdict, Visibility};

/// One test of `results.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct GradescopeTest {
    pub name: String,
    pub score: u32,
    pub max_score: u32,
    pub passed: bool,
    pub output: String,
    pub visibility: Visibility,
}

/// A whole `results.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct GradescopeResults {
    /// The total; left out when some tests are shown only after
    /// publication, so that Gradescope adds the tests up itself.
    pub score: Option<(u32, u32)>,
    pub execution_time: f64,
    /// Shown above the tests: the report's table.
    pub output: String,
    pub tests: Vec<GradescopeTest>,
}

/// The most bytes of one test's output, and of the top output: a run that
/// printed without end still gives a file of reasonable size.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;

fn cut(mut text: String) -> String {
    if text.len() > MAX_OUTPUT_BYTES {
        let mut end = MAX_OUTPUT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n… (cut)");
    }
    text
}

impl GradescopeResults {
    /// The results of a grading run: one test per item.
    pub fn of(report: &Report) -> GradescopeResults {
        let tests: Vec<GradescopeTest> = report
            .items
            .iter()
            .map(|item| GradescopeTest {
                name: report.item_name(item),
                score: item.earned(),
                max_score: item.item.points,
                passed: item.verdict == Verdict::Pass,
                output: cut(report.item_output(item)),
                visibility: item.item.visibility,
            })
            .collect();
        let all_visible = report.items.iter().all(|i| {
            i.item.visibility == Visibility::Visible && !matches!(i.item.graded, Graded::Hidden(_))
        });
        GradescopeResults {
            score: all_visible.then(|| report.score()),
            execution_time: report.elapsed.as_secs_f64(),
            output: cut(report.table(false, true)),
            tests,
        }
    }

    /// A run that graded nothing (a submission that did not build, ...):
    /// `headline` and `details` as the output, every item at 0 of
    /// `max_score`.
    pub fn failed(headline: &str, details: &str, max_score: u32) -> GradescopeResults {
        GradescopeResults {
            score: Some((0, max_score)),
            execution_time: 0.0,
            output: cut(format!("{headline}\n\n{details}")),
            tests: Vec::new(),
        }
    }

    pub fn to_value(&self) -> Value {
        let tests: Vec<Value> = self
            .tests
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "score": t.score,
                    "max_score": t.max_score,
                    "status": if t.passed { "passed" } else { "failed" },
                    "output": t.output,
                    "visibility": t.visibility.as_str(),
                })
            })
            .collect();
        let mut v = json!({
            "execution_time": (self.execution_time * 100.0).round() / 100.0,
            "output": self.output,
            "visibility": "visible",
            "tests": tests,
        });
        if let Some((score, max)) = self.score {
            v["score"] = json!(score);
            v["max_score"] = json!(max);
        }
        v
    }

    /// The file's text.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.to_value())
            .unwrap_or_else(|e| format!("{{\"output\": \"results could not be written: {e}\"}}"));
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_left_out_when_a_test_is_hidden_until_published() {
        let mut r = GradescopeResults::failed("no build", "error[E0425]: x\n\"quoted\"", 100);
        let v: Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["score"], 0);
        assert_eq!(v["max_score"], 100);
        assert!(v["output"].as_str().unwrap().contains("\"quoted\""));
        r.score = None;
        r.tests.push(GradescopeTest {
            name: "Election scenarios, hidden seeds".into(),
            score: 4,
            max_score: 4,
            passed: true,
            output: "PASS".into(),
            visibility: Visibility::AfterPublished,
        });
        let v: Value = serde_json::from_str(&r.to_json()).unwrap();
        assert!(v.get("score").is_none());
        assert_eq!(v["tests"][0]["visibility"], "after_published");
        assert_eq!(v["tests"][0]["status"], "passed");
    }

    #[test]
    fn endless_output_is_cut() {
        let r = GradescopeResults::failed("x", &"é".repeat(MAX_OUTPUT_BYTES), 1);
        assert!(r.output.len() <= MAX_OUTPUT_BYTES + 16);
        assert!(r.output.ends_with("(cut)"));
    }
}
