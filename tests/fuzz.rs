//! Input fuzzing with a seeded generator (reproducible: every failure
//! prints its seed and input).
//!
//! - 100,000 generated texts through the pure placeholder functions the
//!   host and plugins share (`ps_guest_util`): no panic, every placeholder
//!   inside the text on char boundaries, restoration never loses a variable.
//! - A few thousand generated and mutated requests through the real server,
//!   concurrently: no 5xx, the contract's error shape for every 4xx, every
//!   span within the prompt, every `{{variable}}` of a remix input in every
//!   variant, every requested variable in a created prompt.
//!
//! `PS_FUZZ_SEED` replays a run; `PS_FUZZ_CASES` scales the pure part.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use common::{Options, Resp, Server};
use ps_guest_util::{
    char_offset, extract_json_object, is_variable_name, missing_placeholders, placeholders,
    restore_placeholders, variable_names,
};
use serde_json::json;

/// splitmix64: tiny, fast, and good enough to spread inputs; no dependency.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn seed() -> u64 {
    std::env::var("PS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_2026)
}

/// Fragments chosen to hit the parsers' edges: braces in every arrangement,
/// names valid and not, and Unicode that breaks byte/char assumptions.
const FRAGMENTS: &[&str] = &[
    "{{",
    "}}",
    "{",
    "}",
    "{{{",
    "}}}",
    "{{ ",
    " }}",
    "{{}}",
    "{{name}}",
    "{{ user_input }}",
    "{topic}",
    "{\"a\": 1}",
    "{{a {{b}} }}",
    "{{x}",
    "{{é}}",
    "{{日本}}",
    "{{_x.y-z}}",
    "{{1bad}}",
    "e\u{301}",
    "\u{0301}\u{0302}\u{0303}",
    "👩‍👩‍👧",
    "🏳️‍🌈",
    "\u{202E}שלום\u{202C}",
    "مرحبا",
    "\u{200B}",
    "\u{FEFF}",
    "\u{FFFD}",
    "\0",
    "\t",
    "\n",
    "\r\n",
    " ",
    "Write",
    "some stuff",
    "etc.",
    "ALL CAPS!!!",
    "```json\n{\"k\": [1, 2]}\n```",
    "<doc>",
    "</doc>",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\u{10FFFF}",
    "ﷺ",
    "ǅ",
    "ß",
];

fn text(rng: &mut Rng, max_parts: usize) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(max_parts) + 1 {
        if rng.chance(10) {
            // A random scalar value anywhere in Unicode (surrogates excluded:
            // a Rust string cannot hold them; JSON escapes test them below).
            let c = loop {
                if let Some(c) = char::from_u32(rng.below(0x11_0000) as u32) {
                    break c;
                }
            };
            s.push(c);
        } else {
            s.push_str(rng.pick(FRAGMENTS));
        }
    }
    s
}

fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..rng.below(4) {
        if chars.is_empty() {
            break;
        }
        let i = rng.below(chars.len());
        match rng.below(3) {
            0 => {
                chars.remove(i);
            }
            1 => chars.insert(i, rng.pick(&['{', '}', ' ', 'x', '\u{301}'])),
            _ => {
                let j = rng.below(chars.len());
                chars.swap(i, j);
            }
        }
    }
    chars.into_iter().collect()
}

// ---------------------------------------------------------- pure functions

fn check_text(t: &str, other: &str, probe: usize) -> Result<(), String> {
    let found = placeholders(t);
    let mut last_end = 0;
    for p in &found {
        if !(p.start < p.end && p.end <= t.len()) {
            return Err(format!("placeholder {p:?} out of bounds"));
        }
        if !t.is_char_boundary(p.start) || !t.is_char_boundary(p.end) {
            return Err(format!("placeholder {p:?} splits a character"));
        }
        if t[p.start..p.end] != p.literal {
            return Err(format!("literal {p:?} differs from the text"));
        }
        if p.start < last_end {
            return Err(format!("placeholder {p:?} overlaps the previous one"));
        }
        last_end = p.end;
        if !is_variable_name(&p.name) {
            return Err(format!("invalid name in {p:?}"));
        }
        if p.double && !p.literal.starts_with("{{") {
            return Err(format!("double placeholder {p:?} without braces"));
        }
    }
    let names = variable_names(t);
    for p in &found {
        if !names.contains(&p.name) {
            return Err(format!("variable_names misses {}", p.name));
        }
    }
    // Restoring is idempotent and complete: nothing of `t` stays missing.
    let restored = restore_placeholders(t, other);
    let missing = missing_placeholders(t, &restored);
    if !missing.is_empty() {
        return Err(format!("restore left {missing:?} missing"));
    }
    if !missing_placeholders(t, t).is_empty() {
        return Err("a text misses its own placeholders".into());
    }
    let chars = t.chars().count();
    let off = char_offset(t, probe);
    if off > chars {
        return Err(format!("char_offset {off} past {chars} chars"));
    }
    if probe >= t.len() && off != chars {
        return Err(format!(
            "char_offset at/after the end is {off}, not {chars}"
        ));
    }
    let _ = extract_json_object(t);
    Ok(())
}

#[test]
fn pure_placeholder_functions_hold_on_100k_generated_texts() {
    let cases: usize = std::env::var("PS_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let seed = seed();
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut with_vars = 0;
    for case in 0..cases {
        let t = text(&mut rng, 24);
        let other = if rng.chance(50) {
            mutate(&mut rng, &t)
        } else {
            text(&mut rng, 12)
        };
        let probe = rng.below(t.len() + 4);
        if !placeholders(&t).is_empty() {
            with_vars += 1;
        }
        let outcome = std::panic::catch_unwind(|| check_text(&t, &other, probe));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("case {case} (seed {seed}): {e}\ntext: {t:?}\nother: {other:?}"),
            Err(_) => panic!("case {case} (seed {seed}) panicked\ntext: {t:?}\nother: {other:?}"),
        }
    }
    // The generator must actually exercise placeholders.
    assert!(
        with_vars > cases / 5,
        "{with_vars} of {cases} had variables"
    );
    eprintln!(
        "FUZZ pure: {cases} cases ({with_vars} with placeholders) in {:?}",
        started.elapsed()
    );
}

// ------------------------------------------------------------ real server

/// What one generated request must satisfy.
enum Expect {
    Analyze(String),
    /// Prompt, variants asked, whether the style exists.
    Remix(String, usize, bool),
    Create(Vec<String>),
    /// Raw bytes: anything but a 5xx, errors in the contract's shape.
    Raw,
}

#[track_caller]
fn check_error_shape(r: &Resp, what: &str) {
    let err = &r.json["error"];
    assert!(
        err["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{what}: error without code: {} {}",
        r.status,
        r.text.chars().take(300).collect::<String>()
    );
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(
        r.header("x-request-id"),
        err["request_id"].as_str(),
        "{what}: request id"
    );
}

fn check_response(r: &Resp, expect: &Expect, what: &str) -> Result<(), String> {
    if r.status >= 500 {
        return Err(format!(
            "{what}: {} {}",
            r.status,
            r.text.chars().take(400).collect::<String>()
        ));
    }
    if r.status >= 400 {
        let unknown_style = matches!(expect, Expect::Remix(_, _, false))
            && r.status == 404
            && r.json["error"]["code"] == "style_not_found";
        if ![400, 413, 415, 422].contains(&r.status) && !unknown_style {
            return Err(format!("{what}: unexpected {} {}", r.status, r.text));
        }
        check_error_shape(r, what);
        return Ok(());
    }
    match expect {
        Expect::Raw => {}
        Expect::Analyze(prompt) => {
            let chars = prompt.chars().count() as u64;
            if r.json["stats"]["chars"].as_u64() != Some(chars) {
                return Err(format!(
                    "{what}: stats.chars {} ≠ {chars}",
                    r.json["stats"]["chars"]
                ));
            }
            for issue in r.json["issues"].as_array().into_iter().flatten() {
                if let Some(span) = issue.get("span").filter(|s| !s.is_null()) {
                    let (s, e) = (span["start"].as_u64(), span["end"].as_u64());
                    match (s, e) {
                        (Some(s), Some(e)) if s <= e && e <= chars => {}
                        _ => return Err(format!("{what}: span {span} outside {chars} chars")),
                    }
                }
            }
        }
        Expect::Remix(prompt, variants, _) => {
            let got = r.json["variants"].as_array().cloned().unwrap_or_default();
            if got.len() != *variants {
                return Err(format!("{what}: {} variants, asked {variants}", got.len()));
            }
            if r.json["prompt"] != got[0] {
                return Err(format!("{what}: prompt ≠ variants[0]"));
            }
            for v in &got {
                let v = v.as_str().unwrap_or("");
                let missing = missing_placeholders(prompt, v);
                if !missing.is_empty() {
                    return Err(format!("{what}: variant lost {missing:?}: {v:?}"));
                }
            }
        }
        Expect::Create(vars) => {
            let all = format!(
                "{}\n{}",
                r.json["prompt"].as_str().unwrap_or(""),
                r.json["system"].as_str().unwrap_or("")
            );
            let used = variable_names(&all);
            for v in vars.iter().filter(|v| is_variable_name(v)) {
                if !used.contains(v) {
                    return Err(format!("{what}: requested variable {v} not used"));
                }
            }
        }
    }
    Ok(())
}

/// A prompt with some real `{{variables}}` mixed into generated text.
fn prompt(rng: &mut Rng) -> String {
    let mut p = text(rng, 16);
    for _ in 0..rng.below(3) {
        let name = rng.pick(&["doc", "user_input", "név", "x.y", "topic_1"]);
        let at = p
            .char_indices()
            .map(|(i, _)| i)
            .nth(rng.below(p.chars().count() + 1))
            .unwrap_or(p.len());
        p.insert_str(at, &format!(" {{{{{name}}}}} "));
    }
    p
}

/// Raw bodies that no JSON library would produce: lone surrogates, huge
/// numbers, deep nesting, wrong types, truncation, byte noise.
fn raw_body(rng: &mut Rng) -> Vec<u8> {
    let base = rng.pick(&[
        r#"{"prompt": "P", "use_llm": false}"#,
        r#"{"prompt": "P", "style": "concise", "variants": 2, "use_llm": false}"#,
        r#"{"goal": "P", "variables": ["a"], "use_llm": false}"#,
    ]);
    let filler = rng.pick(&[
        "\\ud800",
        "\\udfff\\ud800",
        "\\ud83d\\ude00",
        "\\u0000",
        "\\uFFFF",
        "\\u202e",
        "x\\\"y",
        "\\q",
        "\u{7f}",
        "{{v}}",
    ]);
    let mut body = base.replace('P', filler);
    match rng.below(8) {
        0 => {
            body = body.replace(
                "2",
                rng.pick(&[
                    "1e999999",
                    "-0",
                    "18446744073709551616",
                    "2.5",
                    "\"2\"",
                    "null",
                    "-1",
                    "99999999999999999999999",
                ]),
            )
        }
        1 => {
            let depth = rng.pick(&[10usize, 200, 5000]);
            body = format!(
                r#"{{"prompt": "x", "use_llm": false, "deep": {}{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            );
        }
        2 => body = body.replace("false", rng.pick(&["0", "\"no\"", "[]", "{}", "nul"])),
        3 => {
            let cut = rng.below(body.len());
            body.truncate(cut);
        }
        4 => body = format!(r#"{{"prompt": {body}}}"#),
        _ => {}
    }
    let mut bytes = body.into_bytes();
    if rng.chance(30) && !bytes.is_empty() {
        for _ in 0..rng.below(3) + 1 {
            let i = rng.below(bytes.len());
            bytes[i] = rng.next() as u8;
        }
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_holds_on_generated_and_mutated_requests() {
    const STRUCTURED: usize = 3000;
    const RAW: usize = 3000;
    const CONCURRENCY: usize = 16;
    let s = Arc::new(Server::start(Options::default().env("RUST_LOG", "info")).await);
    let seed = seed();
    let mut rng = Rng(seed ^ 0xA5A5);
    // The builtin styles as served, plus one that does not exist (404).
    let listed = s.get("/api/v1/styles").await;
    let mut styles: Vec<String> = listed.json["styles"]
        .as_array()
        .expect("styles")
        .iter()
        .filter_map(|st| st["name"].as_str().map(str::to_string))
        .collect();
    assert!(styles.len() >= 10, "{}", listed.text);
    styles.push("no-such-style".into());
    let mut jobs: Vec<(String, Vec<u8>, Expect)> = Vec::with_capacity(STRUCTURED + RAW);
    for _ in 0..STRUCTURED {
        let p = prompt(&mut rng);
        match rng.below(3) {
            0 => jobs.push((
                "/api/v1/analyze".into(),
                json!({ "prompt": p, "use_llm": false,
                        "target_model": rng.pick(&["gpt-4o", "claude-sonnet-4", "x\u{0}y", ""]) })
                .to_string()
                .into_bytes(),
                Expect::Analyze(p),
            )),
            1 => {
                let variants = rng.below(5) + 1;
                let style = styles[rng.below(styles.len())].clone();
                let known = style != "no-such-style";
                jobs.push((
                    "/api/v1/remix".into(),
                    json!({ "prompt": p, "style": style, "variants": variants,
                            "instructions": text(&mut rng, 4), "use_llm": false })
                    .to_string()
                    .into_bytes(),
                    Expect::Remix(p, variants, known),
                ))
            }
            _ => {
                let vars: Vec<String> = (0..rng.below(4))
                    .map(|_| {
                        rng.pick(&["ticket", "user_input", "日本", "1bad", "", "a b", "x.y"])
                            .to_string()
                    })
                    .collect();
                jobs.push((
                    "/api/v1/create".into(),
                    json!({ "goal": p, "variables": vars, "context": text(&mut rng, 6),
                            "constraints": [text(&mut rng, 3)], "use_llm": false,
                            "examples": [{ "input": text(&mut rng, 3), "output": text(&mut rng, 3) }] })
                    .to_string()
                    .into_bytes(),
                    Expect::Create(vars),
                ))
            }
        }
    }
    for _ in 0..RAW {
        let path = rng.pick(&[
            "/api/v1/analyze",
            "/api/v1/remix",
            "/api/v1/create",
            "/api/v1/styles",
        ]);
        jobs.push((path.to_string(), raw_body(&mut rng), Expect::Raw));
    }

    let started = Instant::now();
    let jobs = Arc::new(Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let counts = Arc::new(Mutex::new(std::collections::BTreeMap::<u16, usize>::new()));
    let workers = (0..CONCURRENCY).map(|_| {
        let (s, jobs, failures, counts) = (
            Arc::clone(&s),
            Arc::clone(&jobs),
            Arc::clone(&failures),
            Arc::clone(&counts),
        );
        async move {
            loop {
                let Some((i, (path, body, expect))) = jobs.lock().expect("lock").pop() else {
                    return;
                };
                let url = format!("{}{path}", s.base);
                let r = s
                    .raw(|c, _| {
                        c.post(&url)
                            .header("content-type", "application/json")
                            .body(body.clone())
                    })
                    .await;
                *counts.lock().expect("lock").entry(r.status).or_default() += 1;
                let what = format!(
                    "job {i} (seed {seed}) {path} {:?}",
                    String::from_utf8_lossy(&body)
                        .chars()
                        .take(300)
                        .collect::<String>()
                );
                if let Err(e) = check_response(&r, &expect, &what) {
                    failures.lock().expect("lock").push(e);
                }
            }
        }
    });
    futures_util::future::join_all(workers).await;
    let elapsed = started.elapsed();
    let failures = failures.lock().expect("lock").clone();
    assert!(
        failures.is_empty(),
        "{} failures, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let counts = counts.lock().expect("lock").clone();
    eprintln!(
        "FUZZ server: {} requests in {elapsed:?}, statuses {counts:?}",
        STRUCTURED + RAW
    );
    // Both paths must really be exercised: successes and refusals.
    assert!(
        counts.get(&200).copied().unwrap_or(0) > STRUCTURED / 2,
        "{counts:?}"
    );
    assert!(
        counts.get(&400).copied().unwrap_or(0) > RAW / 4,
        "{counts:?}"
    );
    assert!(elapsed < Duration::from_secs(120));
    assert_eq!(s.get("/healthz").await.status, 200);
    assert_eq!(s.get("/readyz").await.status, 200);
}
