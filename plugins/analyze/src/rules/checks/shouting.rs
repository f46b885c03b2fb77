//! shouting: all-caps instructions (acronyms and headings excepted).

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

// ---------------------------------------------------------------- shouting

pub(super) fn is_caps(raw: &str) -> bool {
    let mut letters = 0;
    for c in raw.chars() {
        if c.is_alphabetic() {
            if !c.is_uppercase() {
                return false;
            }
            letters += 1;
        }
    }
    letters >= 2
}

pub(super) fn shout_word(t: &Tok) -> bool {
    if t.lw.is_ascii() {
        is_word(t, F_SHOUT)
    } else {
        word_flags(&t.raw.to_lowercase()) & F_SHOUT != 0
    }
}

/// A line that is only a short all-caps heading ("## OUTPUT FORMAT").
pub(super) fn heading_line(doc: &Doc, a: usize, b: usize) -> bool {
    let text = doc.text;
    let ls = text[..doc.toks[a].start].rfind('\n').map_or(0, |n| n + 1);
    let le = text[doc.toks[b].end..]
        .find('\n')
        .map_or(text.len(), |n| doc.toks[b].end + n);
    let before = text[ls..doc.toks[a].start]
        .trim_matches(|c: char| c.is_whitespace() || "#*-_=>0123456789.)".contains(c));
    let after =
        text[doc.toks[b].end..le].trim_matches(|c: char| c.is_whitespace() || ":*#_-=".contains(c));
    before.is_empty() && after.is_empty() && b - a < 5
}

pub(super) fn shouting(doc: &Doc, out: &mut Vec<Raw>) {
    let toks = &doc.toks;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.data || !is_caps(t.raw) || !shout_word(t) {
            i += 1;
            continue;
        }
        let same = |k: usize| !toks[k].data && toks[k].sent == t.sent && is_caps(toks[k].raw);
        let mut a = i;
        while a > 0 && same(a - 1) {
            a -= 1;
        }
        let mut b = i;
        while b + 1 < toks.len() && same(b + 1) {
            b += 1;
        }
        if !heading_line(doc, a, b) {
            let quote = &doc.text[toks[a].start..toks[b].end];
            out.push(Raw::new(
                "shouting",
                Some((toks[a].start, toks[b].end)),
                format!("\"{quote}\" uses ALL-CAPS for emphasis instead of giving a reason."),
                "Write it in normal case and add the reason it matters (e.g. \"because the app parses the reply\"); models follow reasons better than volume.",
            ));
        }
        i = b + 1;
    }
    // Repeated exclamation marks outside material.
    let b = doc.text.as_bytes();
    let mut k = 0;
    while k < b.len() {
        if b[k] != b'!' {
            k += 1;
            continue;
        }
        let n = b[k..].iter().take_while(|&&c| c == b'!').count();
        if n >= 3 && doc.region_at(k).is_none() {
            out.push(Raw::new(
                "shouting",
                Some((k, k + n)),
                format!("\"{}\" adds emphasis without a reason.", "!".repeat(n)),
                "Drop the exclamation marks and state why the instruction matters.",
            ));
        }
        k += n;
    }
    // Keep findings in text order so the first ones are reported.
    out.sort_by_key(|r| {
        if r.code == "shouting" {
            r.span.map_or(usize::MAX, |s| s.0)
        } else {
            0
        }
    });
}
