//! A linearizability checker for key-value histories, after Wing & Gong
//! (1993) with Lowe's memoization (2017), checking each key on its own as
//! Porcupine does (P-compositionality: a history is linearizable iff each
//! key's sub-history is).
//!
//! Clients record, for every operation, when they called it and when the
//! answer came back. An operation whose answer never came (a timeout, a
//! killed node) has no return time: it may have taken effect at any moment
//! after its call, or never, which is the same as taking effect after
//! everything else. A read without an answer has no effect and is dropped.
//!
//! The search linearizes one operation at a time. Operation `i` may come
//! next when no other pending operation returned before `i` was called;
//! applying it to the register must give the answer the client saw. A
//! configuration (which operations are linearized, register value) that
//! failed once is never searched again. The search has a step budget: past
//! it, the answer is [`Verdict::Inconclusive`], never a hang.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// What a client did to one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Put(Vec<u8>),
    Delete,
    /// A read and what it returned (`None`: the key had no value).
    Get(Option<Vec<u8>>),
}

/// One operation of a history. Times are in any unit, from one clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub client: usize,
    pub key: Vec<u8>,
    pub action: Action,
    pub call: u64,
    /// `None` when no answer came: the outcome is unknown.
    pub ret: Option<u64>,
}

/// What the checker concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    /// No order of this key's operations explains what clients saw.
    Violation {
        key: Vec<u8>,
        explanation: String,
    },
    /// The search used up its budget on this key.
    Inconclusive {
        key: Vec<u8>,
        steps: u64,
    },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable => write!(f, "linearizable"),
            Verdict::Violation { key, explanation } => write!(
                f,
                "NOT linearizable on key {:?}: {explanation}",
                String::from_utf8_lossy(key)
            ),
            Verdict::Inconclusive { key, steps } => write!(
                f,
                "inconclusive on key {:?}: gave up after {steps} search steps",
                String::from_utf8_lossy(key)
            ),
        }
    }
}

/// Search steps allowed per key by [`check`].
pub const DEFAULT_STEP_BUDGET: u64 = 5_000_000;

/// Checks a whole history, key by key.
pub fn check(history: &[Operation]) -> Verdict {
    check_with_budget(history, DEFAULT_STEP_BUDGET)
}

/// [`check`] with a search budget of `steps` per key.
pub fn check_with_budget(history: &[Operation], steps: u64) -> Verdict {
    let mut by_key: BTreeMap<&[u8], Vec<&Operation>> = BTreeMap::new();
    for op in history {
        by_key.entry(&op.key).or_default().push(op);
    }
    for (key, ops) in by_key {
        let verdict = check_key(key, &ops, steps);
        if verdict != Verdict::Linearizable {
            return verdict;
        }
    }
    Verdict::Linearizable
}

/// The register's value: 0 for none, else 1 + the index of an interned
/// value.
type State = u32;

/// One operation of a key, reduced to what the search needs.
struct KeyOp {
    call: u64,
    /// `u64::MAX` for an unknown outcome.
    ret: u64,
    /// A write sets the register to this; a read must see it.
    value: State,
    is_read: bool,
    /// Index into the key's operations as given, for messages.
    source: usize,
}

struct Interner<'a> {
    ids: HashMap<&'a [u8], State>,
}

impl<'a> Interner<'a> {
    fn id(&mut self, v: Option<&'a [u8]>) -> State {
        let Some(v) = v else { return 0 };
        let next = self.ids.len() as State + 1;
        *self.ids.entry(v).or_insert(next)
    }
}

fn check_key(key: &[u8], given: &[&Operation], budget: u64) -> Verdict {
    let mut interner = Interner {
        ids: HashMap::new(),
    };
    let mut ops: Vec<KeyOp> = Vec::new();
    for (source, op) in given.iter().enumerate() {
        let (value, is_read) = match &op.action {
            // A read that never answered tells nothing.
            Action::Get(_) if op.ret.is_none() => continue,
            Action::Get(v) => (interner.id(v.as_deref()), true),
            Action::Put(v) => (interner.id(Some(v)), false),
            Action::Delete => (0, false),
        };
        ops.push(KeyOp {
            call: op.call,
            ret: op.ret.unwrap_or(u64::MAX),
            value,
            is_read,
            source,
        });
    }
    ops.sort_by_key(|o| (o.call, o.ret));
    let n = ops.len();
    let words = n.div_ceil(64);

    struct Frame {
        candidates: Vec<usize>,
        next: usize,
        /// The operation linearized to get here, and the state before it.
        via: Option<(usize, State)>,
    }
    let candidates = |done: &[u64]| -> Vec<usize> {
        let pending = |i: usize| done[i / 64] & (1 << (i % 64)) == 0;
        let min_ret = (0..n)
            .filter(|&i| pending(i))
            .map(|i| ops[i].ret)
            .min()
            .unwrap_or(u64::MAX);
        (0..n)
            .take_while(|&i| ops[i].call <= min_ret)
            .filter(|&i| pending(i))
            .collect()
    };

    let mut done = vec![0u64; words];
    let mut state: State = 0;
    let mut count = 0;
    let mut seen: HashSet<(Vec<u64>, State)> = HashSet::new();
    let mut frames = vec![Frame {
        candidates: candidates(&done),
        next: 0,
        via: None,
    }];
    let mut steps = 0u64;
    // The deepest point reached, for the explanation.
    let mut deepest = (0usize, 0 as State, Vec::new());
    loop {
        if count == n {
            return Verdict::Linearizable;
        }
        steps += 1;
        if steps > budget {
            return Verdict::Inconclusive {
                key: key.to_vec(),
                steps: budget,
            };
        }
        let Some(frame) = frames.last_mut() else {
            unreachable!("the search stack is never empty inside the loop");
        };
        if frame.next < frame.candidates.len() {
            let i = frame.candidates[frame.next];
            frame.next += 1;
            let op = &ops[i];
            let after = if op.is_read {
                if op.value != state {
                    continue;
                }
                state
            } else {
                op.value
            };
            done[i / 64] |= 1 << (i % 64);
            if !seen.insert((done.clone(), after)) {
                done[i / 64] &= !(1 << (i % 64));
                continue;
            }
            frames.push(Frame {
                candidates: candidates(&done),
                next: 0,
                via: Some((i, state)),
            });
            state = after;
            count += 1;
            if count > deepest.0 {
                deepest = (
                    count,
                    state,
                    frames
                        .last()
                        .map(|f| f.candidates.clone())
                        .unwrap_or_default(),
                );
            }
        } else {
            let frame = frames.pop().unwrap_or_else(|| unreachable!());
            match frame.via {
                Some((i, before)) => {
                    done[i / 64] &= !(1 << (i % 64));
                    state = before;
                    count -= 1;
                }
                None => {
                    let show_state = |s: State| -> String {
                        if s == 0 {
                            return "no value".to_string();
                        }
                        interner
                            .ids
                            .iter()
                            .find(|(_, id)| **id == s)
                            .map(|(v, _)| format!("{:?}", String::from_utf8_lossy(v)))
                            .unwrap_or_default()
                    };
                    let stuck: Vec<String> = deepest
                        .2
                        .iter()
                        .map(|&i| format!("{:?}", given[ops[i].source]))
                        .collect();
                    return Verdict::Violation {
                        key: key.to_vec(),
                        explanation: format!(
                            "at best {} of {n} operations can be ordered; then the register \
                             holds {} and none of these can come next: {}",
                            deepest.0,
                            show_state(deepest.1),
                            stuck.join("; ")
                        ),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(client: usize, action: Action, call: u64, ret: Option<u64>) -> Operation {
        Operation {
            client,
            key: b"k".to_vec(),
            action,
            call,
            ret,
        }
    }
    fn put(v: &str) -> Action {
        Action::Put(v.as_bytes().to_vec())
    }
    fn get(v: Option<&str>) -> Action {
        Action::Get(v.map(|v| v.as_bytes().to_vec()))
    }

    #[test]
    fn known_good_histories_pass() {
        let cases: Vec<(&str, Vec<Operation>)> = vec![
            ("empty history", vec![]),
            (
                "sequential put then get",
                vec![
                    op(0, put("1"), 0, Some(1)),
                    op(0, get(Some("1")), 2, Some(3)),
                ],
            ),
            (
                "a read concurrent with a put may see the old value",
                vec![op(0, put("1"), 0, Some(10)), op(1, get(None), 1, Some(2))],
            ),
            (
                "a read concurrent with a put may see the new value",
                vec![
                    op(0, put("1"), 0, Some(10)),
                    op(1, get(Some("1")), 1, Some(2)),
                ],
            ),
            (
                "ops touching at an instant are concurrent",
                vec![op(0, put("1"), 0, Some(5)), op(1, get(None), 5, Some(6))],
            ),
            (
                "delete empties the key",
                vec![
                    op(0, put("1"), 0, Some(1)),
                    op(0, Action::Delete, 2, Some(3)),
                    op(1, get(None), 4, Some(5)),
                ],
            ),
            (
                "an unanswered put may have happened",
                vec![
                    op(0, put("1"), 0, None),
                    op(1, get(Some("1")), 10, Some(11)),
                ],
            ),
            (
                "an unanswered put may never happen",
                vec![op(0, put("1"), 0, None), op(1, get(None), 10, Some(11))],
            ),
            (
                "two concurrent puts, reads agree on the last",
                vec![
                    op(0, put("1"), 0, Some(10)),
                    op(1, put("2"), 0, Some(10)),
                    op(2, get(Some("1")), 11, Some(12)),
                    op(2, get(Some("1")), 13, Some(14)),
                ],
            ),
            (
                "an unanswered read is ignored",
                vec![op(0, put("1"), 0, Some(1)), op(1, get(Some("x")), 2, None)],
            ),
        ];
        for (name, history) in cases {
            assert_eq!(check(&history), Verdict::Linearizable, "{name}");
        }
    }

    #[test]
    fn known_bad_histories_fail() {
        let cases: Vec<(&str, Vec<Operation>)> = vec![
            (
                "a stale read after the put returned",
                vec![op(0, put("1"), 0, Some(1)), op(1, get(None), 2, Some(3))],
            ),
            (
                "a read of a value never written",
                vec![op(0, get(Some("ghost")), 0, Some(1))],
            ),
            (
                "new then old: a later read goes back in time",
                vec![
                    op(0, put("1"), 0, Some(100)),
                    op(1, get(Some("1")), 10, Some(20)),
                    op(2, get(None), 30, Some(40)),
                ],
            ),
            (
                "two sequential reads see two concurrent puts in opposite orders",
                vec![
                    op(0, put("1"), 0, Some(10)),
                    op(1, put("2"), 0, Some(10)),
                    op(2, get(Some("1")), 11, Some(12)),
                    op(2, get(Some("2")), 13, Some(14)),
                ],
            ),
            (
                "a read sees an unanswered put, a later one does not",
                vec![
                    op(0, put("1"), 0, None),
                    op(1, get(Some("1")), 10, Some(11)),
                    op(1, get(None), 12, Some(13)),
                ],
            ),
            (
                "a read after a delete still sees the value",
                vec![
                    op(0, put("1"), 0, Some(1)),
                    op(0, Action::Delete, 2, Some(3)),
                    op(1, get(Some("1")), 4, Some(5)),
                ],
            ),
        ];
        for (name, history) in cases {
            match check(&history) {
                Verdict::Violation { key, explanation } => {
                    assert_eq!(key, b"k", "{name}");
                    assert!(explanation.contains("operations"), "{name}: {explanation}");
                }
                other => panic!("{name}: got {other:?}, want a violation"),
            }
        }
    }

    #[test]
    fn keys_are_checked_independently() {
        // Each key alone is fine; a violation on one key is reported with
        // that key.
        let mut history = vec![
            op(0, put("1"), 0, Some(1)),
            op(1, get(Some("1")), 2, Some(3)),
        ];
        let mut other = op(2, get(Some("zzz")), 0, Some(1));
        other.key = b"other".to_vec();
        assert_eq!(check(&history), Verdict::Linearizable);
        history.push(other);
        match check(&history) {
            Verdict::Violation { key, .. } => assert_eq!(key, b"other"),
            v => panic!("got {v:?}"),
        }
    }

    #[test]
    fn long_sequential_histories_are_quick_and_budgets_hold() {
        // 20,000 operations of one client check in linear time.
        let history: Vec<Operation> = (0..20_000u64)
            .map(|i| {
                let v = (i / 2).to_string();
                let action = if i % 2 == 0 { put(&v) } else { get(Some(&v)) };
                op(0, action, 2 * i, Some(2 * i + 1))
            })
            .collect();
        assert_eq!(check(&history), Verdict::Linearizable);
        // Many fully concurrent unanswered puts and a bad read explode
        // the search; the budget stops it.
        let mut hard: Vec<Operation> = (0..40)
            .map(|i| op(i, put(&i.to_string()), 0, None))
            .collect();
        hard.push(op(99, get(Some("nope")), 1, Some(2)));
        match check_with_budget(&hard, 10_000) {
            Verdict::Inconclusive { steps, .. } => assert_eq!(steps, 10_000),
            v => panic!("got {v:?}, want inconclusive"),
        }
    }
}
