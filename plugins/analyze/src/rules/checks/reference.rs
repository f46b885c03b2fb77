//! ambiguous-reference: pronouns and demonstratives that point at nothing in the prompt.

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

// ---------------------------------------------------------------- ambiguous-reference

/// True when real material follows byte `pos`: a new line with content, a
/// colon with content, a placeholder, a tag, fence or quote.
pub(super) fn content_after(doc: &Doc, pos: usize) -> bool {
    let rest = &doc.text[pos..];
    if doc.regions.iter().any(|r| r.start >= pos) || rest.contains("{{") {
        return true;
    }
    let line_end = rest.find('\n');
    let colon = rest[..line_end.unwrap_or(rest.len())].find(':');
    let body = match (colon, line_end) {
        (Some(c), _) => &rest[c + 1..],
        (None, Some(l)) => &rest[l + 1..],
        (None, None) => "",
    };
    body.chars().filter(|c| !c.is_whitespace()).take(15).count() >= 15
}

pub(super) fn content_before(doc: &Doc, pos: usize) -> bool {
    let before = &doc.text[..pos];
    doc.regions.iter().any(|r| r.end <= pos)
        || before.contains("{{")
        || before
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(80)
            .count()
            >= 80
}

pub(super) fn ambiguous_reference(doc: &Doc, out: &mut Vec<Raw>) {
    let toks = &doc.toks;
    let n = toks.len();
    // The first sentence that is not a role statement ("You are a translator.").
    let first_task_sent = (0..doc.sents.len()).find(|&s| {
        non_data_sentence(doc, s).next().is_some()
            && !head(doc, s).is_some_and(|h| {
                doc.phrase_at(h, F_ROLE, ROLE).is_some()
                    || doc.phrase_at(h.saturating_sub(1), F_ROLE, ROLE).is_some()
            })
    });
    for i in 0..n {
        let t = &toks[i];
        if t.data {
            continue;
        }
        let prev = i.checked_sub(1).map(|p| toks[p].lw).unwrap_or("");
        let next = toks.get(i + 1).filter(|u| u.sent == t.sent);
        let next_is_num = next.is_some_and(|_| doc.is_number(i + 1));
        let sent_end = doc.sent_span(t.sent).1;
        let found: Option<(usize, usize, &str)> = match t.lw {
            "following"
                if matches!(prev, "the" | "these") && !content_after(doc, t.end.min(sent_end)) =>
            {
                let end = if content_after(doc, sent_end) {
                    None
                } else {
                    Some(i)
                };
                end.map(|_| {
                    (
                        i.saturating_sub(1),
                        2,
                        "\"the following\" announces content, but nothing follows it.",
                    )
                })
            }
            "below" | "follows"
                if !next_is_num
                    && (t.lw == "follows" && prev == "as" || t.lw == "below")
                    && !content_after(doc, sent_end)
                    && !content_after(doc, t.end) =>
            {
                Some((
                    i,
                    1,
                    "The prompt points to something below, but nothing follows.",
                ))
            }
            "above" | "previous" | "preceding" | "aforementioned"
                if !(next_is_num || t.lw == "above" && next.is_some_and(|u| u.lw == "all"))
                    && (t.lw != "previous" && t.lw != "preceding"
                        || next.is_some_and(|u| {
                            matches!(
                                u.lw,
                                "text"
                                    | "message"
                                    | "paragraph"
                                    | "answer"
                                    | "code"
                                    | "email"
                                    | "section"
                                    | "response"
                                    | "example"
                                    | "list"
                                    | "output"
                                    | "conversation"
                                    | "conversations"
                                    | "discussion"
                                    | "chat"
                                    | "thread"
                                    | "call"
                                    | "meeting"
                                    | "messages"
                                    | "draft"
                                    | "version"
                                    | "reply"
                                    | "results"
                                    | "document"
                                    | "notes"
                            )
                        }))
                    && !content_before(doc, doc.sent_span(t.sent).0) =>
            {
                Some((
                    i,
                    1,
                    "The prompt refers to something earlier, but nothing comes before it.",
                ))
            }
            "discussed" | "mentioned" | "agreed" | "requested" | "promised"
                if matches!(prev, "as" | "we" | "i" | "previously" | "already")
                    // "as we discussed", or "the bug we discussed": either way
                    // an exchange the prompt does not include.
                    && ((i.saturating_sub(3)..i).any(|p| toks[p].lw == "as")
                        || matches!(prev, "we" | "you"))
                    && !content_before(doc, doc.sent_span(t.sent).0)
                    && !content_after(doc, sent_end)
                    && !doc.text.contains("{{") =>
            {
                let a = (i.saturating_sub(3)..i)
                    .find(|&p| toks[p].lw == "as")
                    .unwrap_or(i.saturating_sub(1));
                Some((
                    a,
                    i + 1 - a,
                    "The prompt relies on an earlier exchange that it does not include.",
                ))
            }
            "this" | "these" | "it" | "that"
                if Some(t.sent) == first_task_sent
                    && (i.saturating_sub(2)..i)
                        .any(|p| is_word(&toks[p], F_EDIT_VERB) && only_prefix_before(doc, p))
                    && !content_after(doc, sent_end)
                    && !content_after(doc, t.end)
                    && !doc.text.contains("{{") =>
            {
                Some((
                    i,
                    1,
                    "The prompt says \"this\"/\"it\" but gives nothing it could refer to.",
                ))
            }
            _ => None,
        };
        if let Some((a, len, msg)) = found {
            out.push(Raw::new(
                "ambiguous-reference",
                Some(doc.span(a, len)),
                msg,
                "Paste the material it refers to, delimited, e.g. <text>…</text>, or a {{variable}} for it.",
            ));
            return;
        }
    }
}

/// Demonstratives of other languages that point at a text ("ce texte",
/// "este párrafo", "diesen Text").
pub(super) const FOREIGN_DEIXIS: &[(&str, &[&str])] = &[
    (
        "ce",
        &[
            "texte",
            "document",
            "paragraphe",
            "message",
            "passage",
            "code",
        ],
    ),
    ("cette", &["phrase", "lettre", "liste", "réponse"]),
    ("cet", &["e-mail", "article"]),
    ("ces", &["phrases", "notes", "données", "textes"]),
    (
        "este",
        &[
            "texto",
            "párrafo",
            "documento",
            "mensaje",
            "correo",
            "código",
            "artículo",
        ],
    ),
    ("esta", &["frase", "carta", "lista", "respuesta"]),
    ("estas", &["frases", "notas"]),
    ("estos", &["textos", "datos"]),
    ("diesen", &["text", "absatz", "brief", "artikel", "code"]),
    ("dieses", &["dokument"]),
    ("diese", &["e-mail", "nachricht", "liste", "sätze", "daten"]),
    ("esse", &["texto", "documento", "parágrafo"]),
    ("essa", &["frase", "mensagem", "lista"]),
];

pub(super) fn foreign_reference(doc: &Doc, out: &mut Vec<Raw>) {
    if !doc.regions.is_empty() || doc.text.contains("{{") {
        return;
    }
    let toks = &doc.toks;
    for i in 0..toks.len().saturating_sub(1) {
        let t = &toks[i];
        let Some((_, nouns)) = FOREIGN_DEIXIS.iter().find(|(d, _)| *d == t.lw) else {
            continue;
        };
        let u = &toks[i + 1];
        if u.sent != t.sent || !nouns.contains(&u.lw) {
            continue;
        }
        let (sa, sb) = doc.sent_span(t.sent);
        if content_after(doc, sb) || content_after(doc, u.end) || content_before(doc, sa) {
            continue;
        }
        out.push(Raw::new(
            "ambiguous-reference",
            Some(doc.span(i, 2)),
            format!(
                "\"{}\" points at a text the prompt never gives.",
                &doc.text[t.start..u.end]
            ),
            "Paste the material it refers to, delimited, e.g. <text>…</text>, or a {{variable}} for it.",
        ));
        return;
    }
}

pub(super) fn only_prefix_before(doc: &Doc, p: usize) -> bool {
    let s = doc.toks[p].sent;
    let (a, _) = doc.sents[s];
    (a..p).all(|k| PREFIX.contains(&doc.toks[k].lw) || doc.is_number(k))
}
