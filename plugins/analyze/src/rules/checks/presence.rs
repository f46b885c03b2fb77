//! Missing pieces: role, output format, examples, bounds on length and amounts.

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

// ---------------------------------------------------------------- missing-role

/// Tasks whose answer depends on who writes it and for whom; mechanical ones
/// (translate, convert, summarise, extract) do not need a persona.
pub(super) const ROLE_TASKS: &[&str] = &[
    "write",
    "draft",
    "create",
    "compose",
    "plan",
    "design",
    "critique",
    "improve",
    "rewrite",
    "review",
    "explain",
    "describe",
    "tell",
    "analyze",
    "analyse",
    "discuss",
    "advise",
    "teach",
    "recommend",
    "suggest",
    "brainstorm",
    "evaluate",
    "assess",
    "compare",
    "give",
];

pub(super) fn missing_role(doc: &Doc, sig: &Signals, task: Option<usize>, out: &mut Vec<Raw>) {
    if sig.role || sig.audience {
        return;
    }
    if let Some(k) = task {
        out.push(Raw::new(
            "missing-role",
            Some(doc.span(k, 1)),
            "The task would benefit from a role or an audience, but the prompt gives neither.",
            format!(
                "Before \"{}\", say who should answer (the expertise it needs) and for whom (the reader and their level).",
                sentence_of(doc, k)
            ),
        ));
    }
}

// ---------------------------------------------------------------- missing-output-format

pub(super) fn missing_output_format(
    doc: &Doc,
    sig: &Signals,
    task: Option<usize>,
    out: &mut Vec<Raw>,
) {
    if sig.format {
        return;
    }
    if let Some(k) = task {
        out.push(Raw::new(
            "missing-output-format",
            Some(doc.span(k, 1)),
            "The prompt asks for an answer but not its form: no structure, length or format.",
            format!(
                "Say what the answer to \"{}\" should look like: how long, and in what structure (paragraphs, a list, a table, JSON).",
                sentence_of(doc, k)
            ),
        ));
    }
}

// ---------------------------------------------------------------- vague-quantifier

pub(super) const NOT_BEFORE_THINGS: &[&str] = &[
    "the", "these", "those", "such", "all", "other", "of", "two", "three",
];

pub(super) fn vague_quantifier(doc: &Doc, out: &mut Vec<Raw>) {
    let toks = &doc.toks;
    let n = toks.len();
    let mut i = 0;
    while i < n {
        let t = &toks[i];
        if t.data {
            i += 1;
            continue;
        }
        let mut hit: Option<usize> = None;
        if let Some(len) = doc.phrase_at(i, F_VAGUE_ALWAYS, VAGUE_ALWAYS) {
            let ok = match t.lw {
                // "and more" only at the end of a list, not "and more importantly".
                "and" if toks[i + 1].lw == "more" => toks
                    .get(i + 2)
                    .is_none_or(|u| u.sent != t.sent || u.comma_before),
                "a" => toks.get(i + 2).is_none_or(|u| u.lw != "of"),
                _ => true,
            };
            if ok {
                hit = Some(len);
            }
        } else if let Some(len) = doc.phrase_at(i, F_VAGUE_Q, VAGUE_Q) {
            let prev = i.checked_sub(1).map_or("", |p| toks[p].lw);
            let excluded = matches!(prev, "how" | "as" | "too" | "so" | "in" | "for")
                || t.lw == "few" && prev == "a";
            let deliverable = (i + len..(i + len + 4).min(n))
                .take_while(|&k| toks[k].sent == t.sent)
                .any(|k| is_word(&toks[k], F_DELIVERABLE));
            if !excluded && deliverable {
                hit = Some(len);
            }
        } else if t.lw == "things" {
            let prev = i.checked_sub(1).map(|p| &toks[p]);
            if prev.is_none_or(|p| !NOT_BEFORE_THINGS.contains(&p.lw) && !doc.is_number(i - 1)) {
                hit = Some(1);
            }
        }
        if let Some(len) = hit {
            let (a, b) = doc.span(i, len);
            out.push(Raw::new(
                "vague-quantifier",
                Some((a, b)),
                format!(
                    "\"{}\" leaves the amount or the items open.",
                    &doc.text[a..b]
                ),
                format!(
                    "Replace \"{}\" with a number or the exact items you mean.",
                    &doc.text[a..b]
                ),
            ));
            i += len;
            continue;
        }
        i += 1;
    }
}

// ---------------------------------------------------------------- unbounded-length

pub(super) fn unbounded_length(doc: &Doc, sig: &Signals, out: &mut Vec<Raw>) {
    if sig.limit {
        return;
    }
    let found = doc
        .find_phrases(F_UNBOUNDED, UNBOUNDED)
        .first()
        .copied()
        .or_else(|| as_many_as_possible(doc));
    if let Some((i, len)) = found {
        let (a, b) = doc.span(i, len);
        out.push(Raw::new(
            "unbounded-length",
            Some((a, b)),
            format!(
                "\"{}\" asks for unlimited output and no length limit is given.",
                &doc.text[a..b]
            ),
            format!(
                "Bound \"{}\": say how many items or words you want, and which matter most.",
                &doc.text[a..b]
            ),
        ));
    }
}

/// "as many name ideas as you can", "as much detail as possible".
pub(super) fn as_many_as_possible(doc: &Doc) -> Option<(usize, usize)> {
    let toks = &doc.toks;
    let n = toks.len();
    (0..n.saturating_sub(3)).find_map(|i| {
        let t = &toks[i];
        if t.data || t.lw != "as" || !matches!(toks[i + 1].lw, "many" | "much") {
            return None;
        }
        let k = (i + 3..(i + 8).min(n))
            .take_while(|&k| toks[k].sent == t.sent)
            .find(|&k| toks[k].lw == "as")?;
        let tail = toks.get(k + 1)?;
        let open = match tail.lw {
            "possible" => true,
            "you" => toks
                .get(k + 2)
                .is_some_and(|u| matches!(u.lw, "can" | "like" | "want" | "possibly")),
            _ => false,
        };
        open.then_some((i, k + 2 - i))
    })
}

// ---------------------------------------------------------------- missing-examples

pub(super) fn missing_examples(doc: &Doc, sig: &Signals, out: &mut Vec<Raw>) {
    if sig.example {
        return;
    }
    let toks = &doc.toks;
    for i in 0..toks.len() {
        let t = &toks[i];
        if t.data || !is_word(t, F_STYLE_NOUN) {
            continue;
        }
        let before = (i.saturating_sub(3)..i)
            .any(|k| toks[k].sent == t.sent && is_word(&toks[k], F_INHOUSE));
        let after = toks
            .get(i + 1)
            .is_some_and(|u| matches!(u.lw, "that" | "which" | "we" | "our"))
            && (i + 1..(i + 10).min(toks.len())).any(|k| {
                toks[k].sent == t.sent
                    && matches!(
                        toks[k].lw,
                        "our"
                            | "we"
                            | "expects"
                            | "uses"
                            | "requires"
                            | "reads"
                            | "accepts"
                            | "needs"
                            | "wants"
                            | "imports"
                            | "parses"
                            | "ingests"
                            | "consumes"
                            | "understands"
                    )
            });
        if !(before || after) {
            continue;
        }
        // Described right here ("our voice: warm, short sentences") counts as shown.
        let tail = &doc.text[t.end..doc.sent_span(t.sent).1.max(t.end)];
        let rest_line = doc.text[t.end..].split('\n').next().unwrap_or("");
        if rest_line.contains(':') && rest_line.split_whitespace().count() > 3
            || tail.contains("such as")
        {
            continue;
        }
        let a = (i.saturating_sub(3)..i)
            .find(|&k| toks[k].sent == t.sent && is_word(&toks[k], F_INHOUSE))
            .unwrap_or(i);
        let (s, e) = doc.span(a, i + 1 - a);
        out.push(Raw::new(
            "missing-examples",
            Some((s, e)),
            format!("\"{}\" is a specific format or style the model cannot know, and no example shows it.", &doc.text[s..e]),
            "Add one short example of the expected output (or spell out the format's fields and order).",
        ));
        return;
    }
}

/// The sentence holding token `k`, clipped, so a suggestion can quote the
/// request it is about instead of inventing an off-topic example.
fn sentence_of(doc: &Doc, k: usize) -> String {
    let (a, b) = doc.sent_span(doc.toks[k].sent);
    clip(
        doc.text[a..b]
            .trim()
            .trim_end_matches(['.', '!', '?', '。', '？', '！']),
    )
}
