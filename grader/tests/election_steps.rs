//! Checks the Election step suites themselves: every case passes on the
//! reference, and a case reaching a missing step reports that step.
//!
//! The cases need a working Raft, so this test is ignored in the skeleton
//! workspace. Run it in a variant, naming what the variant is:
//!
//! ```text
//! raftlab exec --solution -- cargo test -p grader --test election_steps -- --ignored --nocapture
//! RAFTLAB_EXPECT=minus:E3 raftlab exec --minus E3 -- cargo test -p grader --test election_steps -- --ignored --nocapture
//! RAFTLAB_EXPECT=mutant:E5 raftlab exec --mutant m.rs -- cargo test -p grader --test election_steps -- --ignored --nocapture
//! ```
//!
//! - `reference` (the default): every case passes.
//! - `minus:Ek`: each case of step k fails or reaches k's `todo!()`; every
//!   other case passes or reaches k's `todo!()` (the runner reports that as
//!   BLOCKED BY step k).
//! - `mutant:Ek`: at least one case of step k fails.
//!
//! It prints one line per case either way. `RAFTLAB_TRACE=e3::some_case`
//! also prints that case's trace.

use std::panic::{self, AssertUnwindSafe};

use grader::case::{Case, Ctx, Kind, Part};
use grader::skeleton::Step;

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    Pass,
    Fail(String),
    /// It reached this step's `todo!()`.
    Todo(Step),
    /// Any other panic.
    Panic(String),
}

fn run(case: &Case) -> Ending {
    let mut ctx = Ctx::new(0);
    ctx.tracing = std::env::var("RAFTLAB_TRACE").is_ok_and(|name| name == case.name);
    let ending = run_in(case, &mut ctx);
    for line in &ctx.trace {
        println!("    {line}");
    }
    ending
}

fn run_in(case: &Case, ctx: &mut Ctx) -> Ending {
    match panic::catch_unwind(AssertUnwindSafe(|| (case.run)(ctx))) {
        Ok(Ok(())) => Ending::Pass,
        Ok(Err(failure)) => Ending::Fail(failure.message),
        Err(payload) => {
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".to_string());
            let todo = text
                .strip_prefix("not yet implemented: RaftLab ")
                .and_then(|name| Step::ALL.into_iter().find(|s| s.name() == name));
            match todo {
                Some(step) => Ending::Todo(step),
                None => Ending::Panic(text),
            }
        }
    }
}

fn election_cases() -> Vec<(Step, Case)> {
    grader::steps::cases()
        .into_iter()
        .filter_map(|case| match case.kind {
            Kind::Step(step) if Part::of(step) == Part::Election => Some((step, case)),
            _ => None,
        })
        .collect()
}

enum Expect {
    Reference,
    Minus(Step),
    Mutant(Step),
}

fn expectation() -> Expect {
    let Ok(text) = std::env::var("RAFTLAB_EXPECT") else {
        return Expect::Reference;
    };
    let parse = |s: &str| Step::parse(s).unwrap_or_else(|e| panic!("RAFTLAB_EXPECT: {e}"));
    match text.split_once(':') {
        None if text == "reference" => Expect::Reference,
        Some(("minus", step)) => Expect::Minus(parse(step)),
        Some(("mutant", step)) => Expect::Mutant(parse(step)),
        _ => panic!("RAFTLAB_EXPECT={text:?}: want reference, minus:Ek or mutant:Ek"),
    }
}

#[test]
#[ignore = "needs a working Raft: run it in a variant (see the file's doc)"]
fn election_cases_behave_as_expected() {
    let expect = expectation();
    let cases = election_cases();
    assert!(
        Step::ALL[..6]
            .iter()
            .all(|&step| cases.iter().filter(|(s, _)| *s == step).count() >= 4),
        "every Election step needs at least 4 cases"
    );

    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let endings: Vec<(Step, &Case, Ending)> = cases
        .iter()
        .map(|(step, case)| (*step, case, run(case)))
        .collect();
    panic::set_hook(hook);

    let mut wrong = Vec::new();
    for (step, case, ending) in &endings {
        let shown = match ending {
            Ending::Pass => "pass".to_string(),
            Ending::Fail(message) => format!("FAIL: {message}"),
            Ending::Todo(at) => format!("todo!() of {}", at.name()),
            Ending::Panic(message) => format!("PANIC: {message}"),
        };
        println!("{:<48} {shown}", case.name);
        let ok = match expect {
            Expect::Reference => *ending == Ending::Pass,
            Expect::Minus(missing) if *step == missing => {
                matches!(ending, Ending::Fail(_) | Ending::Panic(_))
                    || *ending == Ending::Todo(missing)
            }
            Expect::Minus(missing) => *ending == Ending::Pass || *ending == Ending::Todo(missing),
            Expect::Mutant(_) => true,
        };
        if !ok {
            wrong.push(format!("{}: {shown}", case.name));
        }
    }
    if let Expect::Mutant(step) = expect {
        let caught = endings.iter().any(|(s, _, ending)| {
            *s == step && matches!(ending, Ending::Fail(_) | Ending::Panic(_))
        });
        assert!(caught, "no case of {} caught the mutant", step.name());
    }
    assert!(
        wrong.is_empty(),
        "unexpected endings:\n{}",
        wrong.join("\n")
    );
}
