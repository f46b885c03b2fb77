//! Dev-set evaluation of the deterministic analyzer.
//!
//! Run: `cargo run --release -p ps-plugin-analyze --example devset -- tests/data/analyze-dev-set.jsonl`
//! or `-- tests/data/analyze-holdout-2.jsonl` (or another labeled set)
//! (add `-v` after the path to list every miss and false positive). Tokens are
//! estimated as chars/4, as the plugin does when the host knows no encoding.

// A measuring tool, not plugin code: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ps_plugin_analyze::rules::{self, STANDARD_CODES};
use serde_json::Value;
use std::time::Instant;

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "/work/shared/analyze-dev-set.jsonl".to_string());
    let verbose = args.any(|a| a == "-v");
    let text = std::fs::read_to_string(&path)?;

    // Per code: (expected, found among expected, forbidden, reported where forbidden).
    let mut stats: Vec<(usize, usize, usize, usize)> = vec![(0, 0, 0, 0); STANDARD_CODES.len()];
    let mut total_time = 0u128;
    let mut runs = 0u128;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)?;
        let id = v.get("id").and_then(Value::as_str).unwrap_or("?");
        let prompt = v.get("prompt").and_then(Value::as_str).unwrap_or("");
        let expect = strings(&v, "expect");
        let forbid = strings(&v, "forbid");
        let chars = prompt.chars().count();
        let tokens = u32::try_from(chars.div_ceil(4)).unwrap_or(u32::MAX);

        // Best of 5 batches: the machine may be shared, and the minimum is the
        // least noisy estimate of the analyzer's own cost.
        let mut report = rules::analyze(prompt, tokens);
        let mut elapsed = u128::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            for _ in 0..40 {
                report = rules::analyze(std::hint::black_box(prompt), tokens);
            }
            elapsed = elapsed.min(start.elapsed().as_nanos() / 40);
        }
        total_time += elapsed;
        runs += 1;

        for f in &report.issues {
            if let Some((s, e)) = f.span {
                assert!(
                    s <= e && (e as usize) <= chars,
                    "{id}: span {s}..{e} out of bounds ({chars} chars)"
                );
            }
        }
        let reported: Vec<&str> = report.issues.iter().map(|f| f.code.as_str()).collect();
        for (k, code) in STANDARD_CODES.iter().enumerate() {
            let has = reported.contains(code);
            if expect.iter().any(|c| c == code) {
                stats[k].0 += 1;
                if has {
                    stats[k].1 += 1;
                } else if verbose {
                    println!("MISS {id} {code}");
                }
            }
            if forbid.iter().any(|c| c == code) {
                stats[k].2 += 1;
                if has {
                    stats[k].3 += 1;
                    if verbose {
                        let f = report.issues.iter().find(|f| f.code == *code);
                        println!("FP   {id} {code}: {}", f.map_or("", |f| f.message.as_str()));
                    }
                }
            }
        }
        if verbose {
            println!(
                "     {id} {chars} chars {:.1} µs overall={} reported={reported:?}",
                elapsed as f64 / 1000.0,
                report.scores.overall
            );
        }
    }

    println!(
        "{:<26} {:>8} {:>6} {:>8} {:>9} {:>4}",
        "code", "expected", "found", "recall", "forbidden", "FP"
    );
    let (mut te, mut tf, mut tb, mut tp) = (0, 0, 0, 0);
    for (k, code) in STANDARD_CODES.iter().enumerate() {
        let (e, f, b, p) = stats[k];
        let recall = if e == 0 {
            "-".to_string()
        } else {
            format!("{:.2}", f as f64 / e as f64)
        };
        println!("{code:<26} {e:>8} {f:>6} {recall:>8} {b:>9} {p:>4}");
        te += e;
        tf += f;
        tb += b;
        tp += p;
    }
    println!(
        "{:<26} {te:>8} {tf:>6} {:>8.2} {tb:>9} {tp:>4}",
        "TOTAL",
        if te == 0 { 0.0 } else { tf as f64 / te as f64 }
    );
    println!(
        "mean time per analysis: {:.1} µs over {runs} prompts",
        total_time as f64 / runs as f64 / 1000.0
    );
    Ok(())
}
