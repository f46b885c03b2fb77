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

#[tokio::test]
async fn dev_set_recall_and_false_positives() {
    let path = common::repo_root().join("tests/data/analyze-dev-set.jsonl");
    let text = std::fs::read_to_string(&path).expect("dev set");
    let s = Server::start(Options::default()).await;
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
    // Floors set just below the measured figures: a rule change that costs
    // recall or adds false positives fails here.
    assert!(
        recall >= RECALL_FLOOR,
        "overall recall {recall:.2} below {RECALL_FLOOR}"
    );
    assert!(
        fp <= MAX_FALSE_POSITIVES,
        "{fp} false positives (max {MAX_FALSE_POSITIVES})"
    );
}

const RECALL_FLOOR: f64 = 0.95;
const MAX_FALSE_POSITIVES: u32 = 1;
