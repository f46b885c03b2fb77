//! Quality gate of the deterministic rules on two labeled prompt sets: the
//! dev set the rules were first tuned on (`tests/data/analyze-dev-set.jsonl`
//! at the repository root) and a hold-out set written separately
//! (`plugins/analyze/tests/data/holdout.jsonl`). Each row lists the codes a
//! careful reviewer must report (`expect`) and the ones that would be false
//! positives (`forbid`). The floors sit just below the current figures, so a
//! rule change that loses recall or adds false positives fails the build.
//! Run with `--nocapture` to see the per-code table.

// A test crate: a failed unwrap, expect or panic is a failed test, and its
// helpers are not #[test] functions that clippy.toml's allow-*-in-tests cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ps_plugin_analyze::rules::{self, STANDARD_CODES};
use serde_json::Value;

#[derive(Default, Clone, Copy)]
struct Tally {
    expected: u32,
    found: u32,
    forbidden: u32,
    false_positives: u32,
}

fn codes(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Per-code tallies (in `STANDARD_CODES` order) and the list of misses and
/// false positives, for the failure message.
fn evaluate(path: &str) -> (Vec<Tally>, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut tally = vec![Tally::default(); STANDARD_CODES.len()];
    let mut errors = Vec::new();
    let mut rows = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{path}: {e}"));
        let id = v["id"].as_str().unwrap_or("?");
        let prompt = v["prompt"].as_str().unwrap_or("");
        let chars = prompt.chars().count();
        let tokens = u32::try_from(chars.div_ceil(4)).unwrap_or(u32::MAX);
        let report = rules::analyze(prompt, tokens);
        for f in &report.issues {
            if let Some((s, e)) = f.span {
                assert!(
                    s <= e && e as usize <= chars,
                    "{id}: span {s}..{e} of {chars}"
                );
            }
        }
        let reported: Vec<&str> = report.issues.iter().map(|f| f.code.as_str()).collect();
        let (expect, forbid) = (codes(&v, "expect"), codes(&v, "forbid"));
        for (k, code) in STANDARD_CODES.iter().enumerate() {
            let has = reported.contains(code);
            if expect.iter().any(|c| c == code) {
                tally[k].expected += 1;
                if has {
                    tally[k].found += 1;
                } else {
                    errors.push(format!("MISS {id} {code}"));
                }
            }
            if forbid.iter().any(|c| c == code) {
                tally[k].forbidden += 1;
                if has {
                    tally[k].false_positives += 1;
                    errors.push(format!("FP   {id} {code}"));
                }
            }
        }
        rows += 1;
    }
    assert!(rows >= 40, "{path}: only {rows} rows");
    (tally, errors)
}

/// Print the table and check the floors: overall recall, total false
/// positives, and the lowest per-code recall.
fn check(path: &str, min_recall: f64, max_fp: u32, min_code_recall: f64) {
    let (tally, errors) = evaluate(path);
    println!("{path}");
    println!(
        "{:<26} {:>8} {:>6} {:>9} {:>4}",
        "code", "expected", "found", "forbidden", "FP"
    );
    let mut total = Tally::default();
    let mut worst = 1.0f64;
    for (code, t) in STANDARD_CODES.iter().zip(&tally) {
        println!(
            "{code:<26} {:>8} {:>6} {:>9} {:>4}",
            t.expected, t.found, t.forbidden, t.false_positives
        );
        total.expected += t.expected;
        total.found += t.found;
        total.forbidden += t.forbidden;
        total.false_positives += t.false_positives;
        if t.expected > 0 {
            worst = worst.min(f64::from(t.found) / f64::from(t.expected));
        }
    }
    let recall = f64::from(total.found) / f64::from(total.expected.max(1));
    println!(
        "TOTAL recall {recall:.3} ({}/{}), false positives {} of {} forbidden\n",
        total.found, total.expected, total.false_positives, total.forbidden
    );
    assert!(
        recall >= min_recall,
        "{path}: recall {recall:.3} < {min_recall}\n{}",
        errors.join("\n")
    );
    assert!(
        total.false_positives <= max_fp,
        "{path}: {} false positives > {max_fp}\n{}",
        total.false_positives,
        errors.join("\n")
    );
    assert!(
        worst >= min_code_recall,
        "{path}: a code's recall fell to {worst:.2} < {min_code_recall}\n{}",
        errors.join("\n")
    );
}

#[test]
fn dev_set_floors() {
    check(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/analyze-dev-set.jsonl"
        ),
        0.97,
        1,
        0.66,
    );
}

#[test]
fn holdout_set_floors() {
    check(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/holdout.jsonl"),
        0.96,
        2,
        0.75,
    );
}

/// The first hold-out set written for issue 13
/// (`tests/data/analyze-holdout.jsonl`). Its misses were later reported by
/// class and the rules improved for those classes, so it is no longer clean:
/// 0.48 at first, 0.68 after the first round, 1.00 after the second.
#[test]
fn issue13_holdout_floors() {
    check(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/analyze-holdout.jsonl"
        ),
        0.95,
        1,
        0.5,
    );
}

/// The second issue-13 hold-out (`tests/data/analyze-holdout-2.jsonl`),
/// written before the second round of rule changes: 0.67 recall and 0 false
/// positives before, 1.00 and 0 after. Its misses guided that round (by
/// class, with other probe prompts for false positives), so the figure is
/// optimistic for unseen prompts; the floor only catches a regression.
#[test]
fn issue13_holdout2_floors() {
    check(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/analyze-holdout-2.jsonl"
        ),
        0.95,
        1,
        0.75,
    );
}
