//! The deterministic analyzer measured on the labeled dev set through the
//! real server: per-code recall and false positives, with floors that catch
//! a regression. Run with `--nocapture` to see the table.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{Options, Server};
use serde_json::{Value, json};

const CODES: [&str; 13] = [
    "missing-role",
    "missing-output-format",
    "vague-quantifier",
    "unbounded-length",
    "conflicting-instructions",
    "multiple-tasks",
    "malformed-variable",
    "injection-risk",
    "negative-only",
    "ambiguous-reference",
    "shouting",
    "missing-examples",
    "excessive-length",
];

#[derive(Default, Debug)]
struct Tally {
    expected: u32,
    found: u32,
    forbidden: u32,
    false_positives: u32,
}

/// Floors per labeled set, set just below the figures measured when the
/// gate was last raised: a rule change that costs recall or adds false
/// positives fails here. The dev set was tuned on; the first hold-out was
/// reported on by class (so it is no longer clean); holdout-2 was written
/// before the second round of rule changes, but its misses then guided that
/// round by class, so its figure is optimistic for unseen prompts.
const SETS: &[(&str, f64, f64)] = &[
    // (file, recall floor, max false-positive rate)
    ("analyze-dev-set.jsonl", 0.97, 0.01),
    ("analyze-holdout.jsonl", 0.90, 0.01),
    ("analyze-holdout-2.jsonl", 0.95, 0.01),
];

#[tokio::test]
async fn labeled_sets_recall_and_false_positives() {
    let s = Server::start(Options::default()).await;
    let mut failures = Vec::new();
    for &(file, floor, max_fp) in SETS {
        let (recall, fp_rate) = measure(&s, file).await;
        if recall < floor {
            failures.push(format!("{file}: recall {recall:.2} below {floor}"));
        }
        if fp_rate > max_fp {
            failures.push(format!(
                "{file}: false-positive rate {fp_rate:.3} above {max_fp}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Run one labeled set through the server; print its table and return
/// (overall recall, false positives / forbidden).
async fn measure(s: &Server, file: &str) -> (f64, f64) {
    let path = common::repo_root().join("tests/data").join(file);
    let text = std::fs::read_to_string(&path).expect("labeled set");
    println!("== {file}");
    let mut tallies: BTreeMap<&str, Tally> = CODES.iter().map(|c| (*c, Tally::default())).collect();
    let mut misses = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("jsonl");
        let r = s
            .post(
                "/api/v1/analyze",
                &json!({ "prompt": case["prompt"], "use_llm": false }),
            )
            .await;
        assert_eq!(r.status, 200, "{}: {}", case["id"], r.text);
        let got: Vec<String> = r.json["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .filter_map(|i| i["code"].as_str().map(str::to_string))
            .collect();
        let list = |k: &str| -> Vec<String> {
            case[k]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        for code in list("expect") {
            if let Some(t) = tallies.get_mut(code.as_str()) {
                t.expected += 1;
                if got.contains(&code) {
                    t.found += 1;
                } else {
                    misses.push(format!("{} missed {code}", case["id"]));
                }
            }
        }
        for code in list("forbid") {
            if let Some(t) = tallies.get_mut(code.as_str()) {
                t.forbidden += 1;
                if got.contains(&code) {
                    t.false_positives += 1;
                    misses.push(format!("{} false {code}", case["id"]));
                }
            }
        }
    }
    let (mut exp, mut found, mut forb, mut fp) = (0, 0, 0, 0);
    println!(
        "{:<26} {:>8} {:>7} {:>9} {:>4}",
        "code", "expected", "recall", "forbidden", "FP"
    );
    for (code, t) in &tallies {
        let recall = if t.expected == 0 {
            1.0
        } else {
            f64::from(t.found) / f64::from(t.expected)
        };
        println!(
            "{code:<26} {:>8} {recall:>7.2} {:>9} {:>4}",
            t.expected, t.forbidden, t.false_positives
        );
        exp += t.expected;
        found += t.found;
        forb += t.forbidden;
        fp += t.false_positives;
    }
    let recall = f64::from(found) / f64::from(exp.max(1));
    println!("{:<26} {exp:>8} {recall:>7.2} {forb:>9} {fp:>4}", "TOTAL");
    for m in &misses {
        println!("  {m}");
    }
    (recall, f64::from(fp) / f64::from(forb.max(1)))
}
