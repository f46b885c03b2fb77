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

use ps_guest_util::placeholders;
use ps_plugin_remix::transform::{self, BUILTIN_STYLES};
use ps_plugin_style_pack::transform::{self as pack, PackStyle};
use serde_json::Value;

const VARIANTS: usize = 3;

struct Case {
    id: String,
    lang: String,
    prompt: String,
}

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

/// Every fenced code block, fences included.
fn code_blocks(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(a) = rest.find("```") {
        let after = &rest[a + 3..];
        let Some(b) = after.find("\n```") else { break };
        out.push(rest[a..a + 3 + b + 4].to_string());
        rest = &after[b + 4..];
    }
    out
}

/// (name, is_close, byte start, byte end) of each XML-like tag.
fn tags(s: &str) -> Vec<(String, bool, usize, usize)> {
    scan_tags(s, false)
}

/// Tags anywhere, prose mentions included (`any`), or only structural ones.
fn scan_tags(s: &str, any: bool) -> Vec<(String, bool, usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = s[i..].find('<') {
        let start = i + off;
        let Some(len) = s[start..].find('>') else {
            break;
        };
        // `<document index="1">`: the name ends at the first space.
        let inner = s[start + 1..start + len].split(' ').next().unwrap_or("");
        let (close, name) = match inner.strip_prefix('/') {
            Some(n) => (true, n),
            None => (false, inner),
        };
        let ok = !name.is_empty()
            && name.chars().count() <= 32
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        // A tag mentioned in prose ("inside <thinking> tags", "the text in
        // <doc>.") is not structure: an opening tag must be followed by
        // content or a line break, a closing tag preceded by content.
        let end = start + len + 1;
        let line_start = s[..start]
            .rsplit('\n')
            .next()
            .is_none_or(|b| b.trim().is_empty());
        let line_rest = s[start..].split('\n').next().unwrap_or("");
        let structural = if close {
            !s[..start].ends_with([' ', '\t'])
        } else if !line_start && !line_rest.contains(&format!("</{name}>")) {
            // Mid-line and not closed on that line: a mention in prose.
            false
        } else {
            s[end..]
                .chars()
                .next()
                .is_none_or(|c| c == '\n' || c == '{' || c == '<' || c.is_alphanumeric())
        };
        if ok && (any || structural) {
            out.push((name.to_string(), close, start, start + len + 1));
            i = start + len + 1;
        } else {
            i = start + 1;
        }
    }
    out
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Each `<t>inner</t>` pair of the input: its name and inner text.
fn tag_pairs(s: &str) -> Vec<(String, String)> {
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut out = Vec::new();
    for (name, close, start, end) in tags(s) {
        if close {
            if let Some(p) = stack.iter().rposition(|(n, _)| *n == name) {
                let (_, from) = stack[p].clone();
                stack.truncate(p);
                out.push((name, squash(&s[from..start])));
            }
        } else {
            stack.push((name, end));
        }
    }
    out
}

fn balanced(s: &str) -> bool {
    let mut stack: Vec<String> = Vec::new();
    for (name, close, _, _) in tags(s) {
        if close {
            if stack.pop().as_deref() != Some(name.as_str()) {
                return false;
            }
        } else {
            stack.push(name);
        }
    }
    stack.is_empty()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF)
}

const CJK_PUNCT: &str = "。，、！？：；「」『』（）《》【】";

/// CJK punctuation counts, ASCII sentence marks glued to CJK text, and
/// spaces put between CJK sentences: all three must not grow.
fn cjk_profile(s: &str) -> (Vec<usize>, usize, usize) {
    let counts = CJK_PUNCT
        .chars()
        .map(|p| s.chars().filter(|c| *c == p).count())
        .collect();
    let chars: Vec<char> = s.chars().collect();
    let mut glued = 0;
    let mut spaced = 0;
    for w in chars.windows(2) {
        if is_cjk(w[0]) && matches!(w[1], '.' | '!' | '?' | ',' | ';') {
            glued += 1;
        }
    }
    for w in chars.windows(3) {
        if "。！？".contains(w[0]) && w[1] == ' ' && is_cjk(w[2]) {
            spaced += 1;
        }
    }
    (counts, glued, spaced)
}

/// English function words: a variant of a non-English prompt that gains any
/// of them has had an English sentence added.
const ENGLISH: &[&str] = &[
    "the",
    "please",
    "you",
    "your",
    "and",
    "with",
    "would",
    "could",
    "thanks",
    "help",
    "hi",
    "appreciate",
    "i'd",
    "this",
    "that",
    "of",
];

fn english_words(s: &str) -> usize {
    let mut s = s.to_string();
    for b in code_blocks(&s) {
        s = s.replace(&b, " ");
    }
    for p in placeholders(&s) {
        s = s.replace(&p.literal, " ");
    }
    s.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| ENGLISH.contains(&w.to_lowercase().as_str()))
        .count()
}

fn literal_counts(s: &str) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for p in placeholders(s) {
        match out.iter_mut().find(|(l, _)| *l == p.literal) {
            Some(e) => e.1 += 1,
            None => out.push((p.literal, 1)),
        }
    }
    out
}

const LABELS: &[&str] = &[
    "output format",
    "task",
    "context",
    "role",
    "input",
    "inputs",
    "rules",
    "constraints",
    "instructions",
    "example",
    "examples",
    "audience",
];

/// A line such as `Output format: Output format: …` or two identical
/// headings in a row.
fn doubled_label(s: &str) -> bool {
    let lines: Vec<&str> = s.lines().map(str::trim).collect();
    for w in lines.windows(2) {
        if w[0].starts_with('#') && !w[0].is_empty() && w[0] == w[1] {
            return true;
        }
    }
    lines.iter().any(|l| {
        let lower = l.to_lowercase();
        let lower = lower.trim_start_matches(['#', ' ', '-', '*']);
        LABELS.iter().any(|lab| {
            lower
                .strip_prefix(lab)
                .and_then(|r| r.strip_prefix(':'))
                .map(str::trim_start)
                .is_some_and(|r| {
                    LABELS
                        .iter()
                        .any(|l2| l2 == lab && r.starts_with(&format!("{l2}:")))
                })
        })
    })
}

/// Notes that cannot be true of the first variant: empty parentheses, a tag
/// named in a note that the variant lacks, a quoted phrase "dropped" that is
/// still there, or claims of edits on an unchanged prompt.
fn notes_consistent(prompt: &str, v0: &str, notes: &[String]) -> Result<(), String> {
    let unchanged = squash(prompt) == squash(v0);
    for n in notes {
        if n.contains("()") || n.contains("( )") || n.contains("\u{201C}\u{201D}") {
            return Err(format!("empty list in note: {n}"));
        }
        if n.starts_with("Variant ") || n.starts_with("Added your extra") {
            continue;
        }
        let lower = n.to_lowercase();
        // "No output format was stated … add an <output_format> section" is
        // advice, not a claim about the variant.
        if lower.starts_with("no ") || lower.starts_with("found no") {
            continue;
        }
        for (name, close, _, _) in scan_tags(n, true) {
            if !close && !v0.contains(&format!("<{name}>")) {
                return Err(format!("note names <{name}> absent from variant: {n}"));
            }
        }
        if lower.starts_with("dropped") || lower.starts_with("removed") {
            for q in quoted(n) {
                if q.len() > 1 && v0.contains(&q) && !prompt.matches(&q).count().gt(&1) {
                    return Err(format!("note drops '{q}' still present: {n}"));
                }
            }
        }
        if unchanged && !(lower.contains("no change") || lower.contains("unchanged")) {
            return Err(format!("note on an unchanged variant: {n}"));
        }
    }
    Ok(())
}

/// Phrases in '…', "…" or “…” quotes.
fn quoted(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (open, close) in [('\'', '\''), ('"', '"'), ('\u{201C}', '\u{201D}')] {
        let mut rest = s;
        while let Some(a) = rest.find(open) {
            let after = &rest[a + open.len_utf8()..];
            let Some(b) = after.find(close) else { break };
            out.push(after[..b].to_string());
            rest = &after[b + close.len_utf8()..];
        }
    }
    out
}

const CHECKS: [&str; 8] = [
    "code blocks verbatim",
    "tags balanced, same inner text",
    "CJK punctuation untouched",
    "no English added (concise/friendly)",
    "variables kept, not duplicated",
    "no doubled labels",
    "notes consistent with variant",
    "distinct variants",
];

/// Which checks `variants` fail, each with a reason.
fn judge(case: &Case, style: &str, variants: &[String], notes: &[String]) -> Vec<(usize, String)> {
    let p = &case.prompt;
    let mut fails = Vec::new();
    let blocks = code_blocks(p);
    let pairs = tag_pairs(p);
    let cjk = cjk_profile(p);
    let english = english_words(p);
    let vars = literal_counts(p);
    for (k, v) in variants.iter().enumerate() {
        if let Some(b) = blocks.iter().find(|b| !v.contains(b.as_str())) {
            fails.push((0, format!("v{k} lost code block {b:?}")));
        }
        if !balanced(v) {
            fails.push((1, format!("v{k} tags unbalanced")));
        } else {
            let got = tag_pairs(v);
            if let Some((n, inner)) = pairs.iter().find(|pair| !got.contains(pair)) {
                fails.push((1, format!("v{k} <{n}> no longer encloses {inner:?}")));
            }
        }
        let (counts, glued, spaced) = cjk_profile(v);
        let lost = counts.iter().zip(&cjk.0).any(|(a, b)| a < b);
        if lost || glued > cjk.1 || spaced > cjk.2 {
            fails.push((2, format!("v{k} CJK punctuation changed")));
        }
        if case.lang != "en"
            && matches!(style, "concise" | "friendly-tone")
            && english_words(v) > english
        {
            fails.push((3, format!("v{k} English added")));
        }
        let got = literal_counts(v);
        for (lit, n) in &vars {
            let m = got.iter().find(|(l, _)| l == lit).map_or(0, |e| e.1);
            if m == 0 || m > *n {
                fails.push((4, format!("v{k} {lit} appears {m}× (input {n}×)")));
            }
        }
        if doubled_label(v) {
            fails.push((5, format!("v{k} doubled label")));
        }
    }
    if let Some(v0) = variants.first()
        && let Err(e) = notes_consistent(p, v0, notes)
    {
        fails.push((6, e));
    }
    let mut seen: Vec<&String> = Vec::new();
    for v in variants {
        if seen.contains(&v) {
            fails.push((7, "duplicate variant".to_string()));
        }
        seen.push(v);
    }
    fails
}

#[test]
fn every_style_keeps_structure() {
    let mut cases = hand_written();
    cases.extend(generated(40));
    let mut passed = [0usize; CHECKS.len()];
    let mut total = 0usize;
    let mut log = Vec::new();
    let styles: Vec<String> = BUILTIN_STYLES
        .iter()
        .map(|s| (*s).to_string())
        .chain(PackStyle::ALL.iter().map(|s| s.name().to_string()))
        .collect();
    for style in &styles {
        for case in &cases {
            let (variants, notes) = match PackStyle::from_name(style) {
                Some(ps) => {
                    let r = pack::remix(ps, &case.prompt, None, VARIANTS);
                    (r.variants, r.changes)
                }
                None => {
                    let r = transform::remix(&case.prompt, style, None, VARIANTS);
                    (r.variants, r.changes)
                }
            };
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
