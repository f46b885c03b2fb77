//! excessive-length: too long for the task, or the same instruction restated.

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

// ---------------------------------------------------------------- excessive-length

pub(super) fn excessive_length(doc: &Doc, tokens: u32, out: &mut Vec<Raw>) {
    if tokens > 4000 {
        out.push(Raw::new(
            "excessive-length",
            None,
            format!("The prompt is {tokens} tokens long, over the 4,000-token budget where instructions start to get lost."),
            "Move reference material into retrieval or a shorter summary, and keep each instruction once.",
        ));
    }
    // Heavy repetition: the same sentence (3+ words) three or more times.
    let mut seen: Vec<(String, usize, usize)> = Vec::new();
    for s in 0..doc.sents.len() {
        let words: Vec<&str> = non_data_sentence(doc, s).map(|k| doc.toks[k].lw).collect();
        let key = words.join(" ");
        // Counted by the shared parser, so a CJK sentence (one token per run)
        // counts its ideographs and "请用中文回答。" is long enough to matter.
        if ps_guest_util::prompt::word_count(&key) < 3 {
            continue;
        }
        match seen.iter_mut().find(|(k, _, _)| *k == key) {
            Some(e) => {
                e.1 += 1;
                if e.1 == 3 {
                    e.2 = s;
                }
            }
            None => seen.push((key, 1, s)),
        }
    }
    let verbatim = seen.iter().filter(|e| e.1 >= 3).max_by_key(|e| e.1);
    if verbatim.is_none()
        && let Some((count, s)) = paraphrased_repetition(doc)
    {
        let (a, b) = doc.sent_span(s);
        let shown: String = doc.text[a..b].chars().take(80).collect();
        out.push(Raw::new(
            "excessive-length",
            Some((a, b)),
            format!("The instruction \"{shown}\" is restated {count} times in different words."),
            "State the instruction once, in the place it applies; if it matters, say why instead of repeating it.",
        ));
    }
    if let Some((_, count, s)) = verbatim {
        let (a, b) = doc.sent_span(*s);
        let first = &doc.text[a..b];
        let shown: String = first.chars().take(80).collect();
        out.push(Raw::new(
            "excessive-length",
            Some((a, b)),
            format!("\"{shown}\" is repeated {count} times; repetition costs tokens without adding emphasis."),
            "State the instruction once, in the place it applies; if it matters, say why instead of repeating it.",
        ));
    }
}

/// The same short instruction restated in other words: two content words
/// ("answer", "french") shared by four or more short sentences. Returns the
/// count and the first such sentence.
pub(super) fn paraphrased_repetition(doc: &Doc) -> Option<(usize, usize)> {
    let mut sets: Vec<(usize, Vec<&str>)> = Vec::new();
    for s in 0..doc.sents.len() {
        let (a, b) = doc.sents[s];
        if b - a > 10 || non_data_sentence(doc, s).count() < 2 {
            continue;
        }
        let words: Vec<&str> = non_data_sentence(doc, s)
            .map(|k| &doc.toks[k])
            .filter(|t| content_word(t))
            .map(|t| stem(t.lw))
            .collect();
        if words.len() >= 2 {
            sets.push((s, words));
        }
    }
    if sets.len() < 4 {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    for (x, (s0, words)) in sets.iter().enumerate() {
        for (p, &w1) in words.iter().enumerate() {
            for &w2 in &words[p + 1..] {
                if w1 == w2 {
                    continue;
                }
                let count = 1 + sets[x + 1..]
                    .iter()
                    .filter(|(_, ws)| ws.contains(&w1) && ws.contains(&w2))
                    .count();
                if count >= 4 && best.is_none_or(|b| b.0 < count) {
                    best = Some((count, *s0));
                }
            }
        }
    }
    best
}
