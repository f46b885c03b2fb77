//! Checkers shared by the structural test (fixed and seeded prompts) and
//! the property test (proptest-generated prompts): one definition of "code
//! kept", "tags balanced", "notes consistent" and the rest, so both tests
//! judge a variant the same way.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use ps_guest_util::placeholders;
use ps_plugin_remix::transform::{self, BUILTIN_STYLES};
use ps_plugin_style_pack::transform::{self as pack, PackStyle};

/// Every deterministic style: the builtins and the style-pack's.
pub fn all_styles() -> Vec<String> {
    BUILTIN_STYLES
        .iter()
        .map(|s| (*s).to_string())
        .chain(PackStyle::ALL.iter().map(|s| s.name().to_string()))
        .collect()
}

/// Remix `prompt` into `style` without an LLM: (variants, change notes).
pub fn run(style: &str, prompt: &str, n: usize) -> (Vec<String>, Vec<String>) {
    match PackStyle::from_name(style) {
        Some(ps) => {
            let r = pack::remix(ps, prompt, None, n);
            (r.variants, r.changes)
        }
        None => {
            let r = transform::remix(prompt, style, None, n);
            (r.variants, r.changes)
        }
    }
}

/// A prompt to remix: `lang` is the language of its prose ("en", "zh" …).
pub struct Case {
    pub id: String,
    pub lang: String,
    pub prompt: String,
}

/// Every fenced code block, fences included.
pub fn code_blocks(s: &str) -> Vec<String> {
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
pub fn tags(s: &str) -> Vec<(String, bool, usize, usize)> {
    scan_tags(s, false)
}

/// Tags anywhere, prose mentions included (`any`), or only structural ones.
pub fn scan_tags(s: &str, any: bool) -> Vec<(String, bool, usize, usize)> {
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

pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Each `<t>inner</t>` pair of the input: its name and inner text.
pub fn tag_pairs(s: &str) -> Vec<(String, String)> {
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

pub fn balanced(s: &str) -> bool {
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

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF)
}

pub const CJK_PUNCT: &str = "。，、！？：；「」『』（）《》【】";

/// CJK punctuation counts, ASCII sentence marks glued to CJK text, and
/// spaces put between CJK sentences: all three must not grow.
pub fn cjk_profile(s: &str) -> (Vec<usize>, usize, usize) {
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
pub const ENGLISH: &[&str] = &[
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

pub fn english_words(s: &str) -> usize {
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

pub fn literal_counts(s: &str) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for p in placeholders(s) {
        match out.iter_mut().find(|(l, _)| *l == p.literal) {
            Some(e) => e.1 += 1,
            None => out.push((p.literal, 1)),
        }
    }
    out
}

pub const LABELS: &[&str] = &[
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
pub fn doubled_label(s: &str) -> bool {
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
pub fn notes_consistent(prompt: &str, v0: &str, notes: &[String]) -> Result<(), String> {
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

/// `s` with its fenced code blocks removed: text inside code is the user's
/// data, not a label the transform wrote.
pub fn without_code(s: &str) -> String {
    let mut out = s.to_string();
    for b in code_blocks(s) {
        out = out.replace(&b, " ");
    }
    out
}

/// "Variant k …" notes may name only tags that variant k contains (the
/// README once listed five alternative tags beside a variant with one).
pub fn variant_notes_consistent(variants: &[String], notes: &[String]) -> Result<(), String> {
    for n in notes {
        let Some(rest) = n.strip_prefix("Variant ") else {
            continue;
        };
        let k: usize = rest
            .split(' ')
            .next()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        let Some(v) = k.checked_sub(1).and_then(|i| variants.get(i)) else {
            return Err(format!("note names a variant that does not exist: {n}"));
        };
        for (name, close, _, _) in scan_tags(n, true) {
            if !close && !v.contains(&format!("<{name}>")) && !v.contains(&format!("<{name} ")) {
                return Err(format!("note names <{name}> absent from variant {k}: {n}"));
            }
        }
    }
    Ok(())
}

/// Phrases in '…', "…" or “…” quotes.
pub fn quoted(s: &str) -> Vec<String> {
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

pub const CHECKS: [&str; 8] = [
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
pub fn judge(
    case: &Case,
    style: &str,
    variants: &[String],
    notes: &[String],
) -> Vec<(usize, String)> {
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
        if doubled_label(&without_code(v)) && !doubled_label(&without_code(p)) {
            fails.push((5, format!("v{k} doubled label")));
        }
    }
    if let Some(v0) = variants.first()
        && let Err(e) = notes_consistent(p, v0, notes)
    {
        fails.push((6, e));
    }
    if let Err(e) = variant_notes_consistent(variants, notes) {
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
