//! Structural checks of every deterministic style (the ten builtins and the
//! style-pack's three) over hostile prompts: the hand-written set in
//! `tests/data/remix-structural.jsonl` plus prompts generated from mixed
//! fragments (code fences, nested tags, variables, labels, CJK and other
//! languages). Each (style, prompt) pair passes a check when every variant
//! does; the per-check pass rate is printed (`--nocapture`) and held to a
//! floor, so a transform that starts shredding code or tags fails the build.

// A test crate: a failed unwrap, expect or panic is a failed test, and its
// helpers are not #[test] functions that clippy.toml's allow-*-in-tests cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{CHECKS, Case, all_styles, judge, run};
use serde_json::Value;

const VARIANTS: usize = 3;

fn hand_written() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/remix-structural.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            Case {
                id: v["id"].as_str().unwrap().to_string(),
                lang: v["lang"].as_str().unwrap().to_string(),
                prompt: v["prompt"].as_str().unwrap().to_string(),
            }
        })
        .collect()
}

/// Prompts assembled from fragments by a fixed-seed generator, so the set is
/// the same on every run yet covers combinations nobody wrote by hand.
fn generated(count: usize) -> Vec<Case> {
    const ROLES: &[(&str, &str)] = &[
        ("en", "You are a careful data engineer."),
        ("en", "Act as a copy editor for a travel magazine."),
        ("en", ""),
        ("zh", "你是一名经验丰富的律师。"),
        ("de", "Du bist eine erfahrene Lektorin."),
        ("es", "Eres un analista financiero."),
    ];
    const TASKS: &[(&str, &str)] = &[
        ("en", "Summarise {{doc}} in three bullet points."),
        (
            "en",
            "Please rewrite the text in <text> tags so a child understands it.",
        ),
        ("en", "Extract every date from {input} and list them."),
        ("zh", "请总结{{doc}}的要点，不超过五十字。"),
        ("de", "Fasse {{doc}} in zwei Sätzen zusammen."),
        ("es", "Resume {{doc}} en tres frases."),
    ];
    const EXTRAS: &[&str] = &[
        "```js\nconst x = {a: 1};\nconsole.log(x.a);\n```",
        "<text>\n<p>{{body}}</p>\n</text>",
        "Output format: a numbered list.",
        "- Keep names.\n- Do not invent facts.",
        "<context>Quarterly report</context>",
        "",
    ];
    let mut seed: u64 = 0x5eed_1234_abcd_ef01;
    let mut next = |m: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap() % m
    };
    (0..count)
        .map(|k| {
            // Role and task share a language, so each prompt has one.
            let (lang, task) = TASKS[next(TASKS.len())];
            let roles: Vec<&str> = ROLES
                .iter()
                .filter(|(l, _)| *l == lang || (lang == "en" && l.is_empty()))
                .map(|(_, r)| *r)
                .collect();
            let role = roles[next(roles.len())];
            let a = EXTRAS[next(EXTRAS.len())];
            let b = EXTRAS[next(EXTRAS.len())];
            let parts: Vec<&str> = [role, task, a, if a == b { "" } else { b }]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            Case {
                id: format!("g{k:02}"),
                lang: lang.to_string(),
                prompt: parts.join(if next(2) == 0 { "\n\n" } else { "\n" }),
            }
        })
        .collect()
}

#[test]
fn every_style_keeps_structure() {
    let mut cases = hand_written();
    cases.extend(generated(40));
    let mut passed = [0usize; CHECKS.len()];
    let mut total = 0usize;
    let mut log = Vec::new();
    let styles = all_styles();
    for style in &styles {
        for case in &cases {
            let (variants, notes) = run(style, &case.prompt, VARIANTS);
            let fails = judge(case, style, &variants, &notes);
            total += 1;
            for (k, p) in passed.iter_mut().enumerate() {
                if fails.iter().all(|(c, _)| *c != k) {
                    *p += 1;
                }
            }
            for (c, why) in fails {
                log.push(format!("{style:<26} {:<4} [{}] {why}", case.id, CHECKS[c]));
            }
        }
    }
    if std::env::var_os("STRUCTURAL_VERBOSE").is_some() {
        for l in &log {
            println!("{l}");
        }
    }
    let mut all = 0usize;
    println!("{} style × prompt pairs", total);
    for (name, p) in CHECKS.iter().zip(passed) {
        all += p;
        #[allow(clippy::cast_precision_loss)]
        let rate = p as f64 / total as f64;
        println!("{name:<40} {rate:.3}");
    }
    #[allow(clippy::cast_precision_loss)]
    let overall = all as f64 / (total * CHECKS.len()) as f64;
    println!("{:<40} {overall:.3}", "ALL CHECKS");
    assert!(
        overall >= FLOOR,
        "structural pass rate {overall:.3} < {FLOOR}\n{}",
        log.join("\n")
    );
}

/// The issue's goal for every style × prompt (measured 1.000 on this set
/// after the shared parser; 0.92 before it).
const FLOOR: f64 = 0.98;
