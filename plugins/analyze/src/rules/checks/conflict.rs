//! conflicting-instructions: length, form, language and count constraints that cannot all hold.

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

// ---------------------------------------------------------------- conflicting-instructions

pub(super) fn sentence_negated(doc: &Doc, s: usize) -> Option<usize> {
    non_data_sentence(doc, s).find(|&k| doc.phrase_at(k, F_NEG_LEAD, NEG_LEAD).is_some())
}

pub(super) fn find_in_sentence(doc: &Doc, s: usize, words: &[&str]) -> Option<usize> {
    non_data_sentence(doc, s).find(|&k| words.contains(&doc.toks[k].lw))
}

pub(super) const LIST_WORDS_NEG: &[&str] = &[
    "bullet",
    "bullets",
    "bulleted",
    "bullet-point",
    "bullet-points",
    "lists",
    "numbered",
    "checklist",
    "checklists",
];
pub(super) const LIST_WORDS_POS: &[&str] = &[
    "bullet",
    "bullets",
    "bulleted",
    "bullet-point",
    "bullet-points",
    "list",
    "lists",
    "numbered",
    "checklist",
];
pub(super) const ITEM_FAMILIES: &[(&str, &[&str], &[&str])] = &[
    ("bullet points or lists", LIST_WORDS_NEG, LIST_WORDS_POS),
    ("emojis", &["emoji", "emojis"], &["emoji", "emojis"]),
    ("tables", &["table", "tables"], &["table", "tables"]),
    (
        "headings",
        &["heading", "headings", "headers"],
        &["heading", "headings", "headers"],
    ),
    (
        "hashtags",
        &["hashtag", "hashtags"],
        &["hashtag", "hashtags"],
    ),
    ("markdown", &["markdown"], &["markdown"]),
    ("jargon", &["jargon"], &["jargon"]),
];

pub(super) const STRICT_FORMAT: &[&str] = &[
    "json", "yaml", "xml", "csv", "sql", "array", "integer", "number", "boolean", "code", "query",
    "object",
];
pub(super) const EXTRA_TEXT: &[&[&str]] = &[
    &["greeting"],
    &["greet"],
    &["say", "hello"],
    &["start", "each"],
    &["start", "every"],
    &["start", "your"],
    &["begin", "each"],
    &["begin", "every"],
    &["begin", "your"],
    &["end", "each"],
    &["end", "every"],
    &["end", "your"],
    &["sign", "off"],
    &["explain", "your", "reasoning"],
    &["explain", "your", "answer"],
    &["add", "a", "note"],
    &["add", "a", "sentence"],
    &["add", "an", "explanation"],
    &["include", "an", "explanation"],
    &["followed", "by", "an", "explanation"],
    &["introduce", "yourself"],
    &["thank", "the"],
];

pub(super) const EXTRA_VERBS: &[&str] = &[
    "add", "include", "append", "provide", "write", "give", "follow", "prepend", "preface",
];
pub(super) const EXTRA_NOUNS: &[&str] = &[
    "explanation",
    "note",
    "comment",
    "commentary",
    "reasoning",
    "rationale",
    "justification",
    "summary",
    "sentence",
    "paragraph",
    "greeting",
    "intro",
    "introduction",
    "disclaimer",
    "apology",
    "remarks",
    "thoughts",
];

/// "add a short explanation", "follow it with a note": a verb that adds prose,
/// unless the prose goes into a field of the structure.
pub(super) fn extra_prose(doc: &Doc, k: usize) -> bool {
    let t = &doc.toks[k];
    if !EXTRA_VERBS.contains(&t.lw) {
        return false;
    }
    let s = t.sent;
    let (_, b) = doc.sents[s];
    let noun = (k + 1..(k + 5).min(b)).find(|&j| EXTRA_NOUNS.contains(&doc.toks[j].lw));
    noun.is_some()
        && find_in_sentence(
            doc,
            s,
            &[
                "key",
                "field",
                "property",
                "attribute",
                "column",
                "inside",
                "within",
                "value",
            ],
        )
        .is_none()
}

/// "Reply with only the name", "Answer only with yes or no": the whole reply
/// is restricted, whatever its form. "Reply only in French" restricts the
/// language, not the content, so "only" before in/if/when does not count.
pub(super) fn reply_only(doc: &Doc, s: usize) -> bool {
    non_data_sentence(doc, s).any(|k| {
        matches!(
            doc.toks[k].lw,
            "reply" | "respond" | "answer" | "return" | "output"
        ) && (k + 1..k + 3).any(|j| {
            doc.toks
                .get(j)
                .is_some_and(|u| u.sent == s && u.lw == "only")
                && !doc.toks.get(j + 1).is_some_and(|v| {
                    v.sent == s && matches!(v.lw, "in" | "if" | "when" | "to" | "after")
                })
        })
    })
}

/// A sentence whose request is an explanation ("Explain each join …",
/// "Also describe your approach"), unless it explains inside a field.
fn explain_head(doc: &Doc, s: usize) -> Option<usize> {
    let h = head(doc, s)?;
    (matches!(
        doc.toks[h].lw,
        "explain" | "describe" | "justify" | "discuss" | "elaborate" | "comment"
    ) && find_in_sentence(doc, s, &["key", "field", "property", "comment", "comments"])
        .is_none_or(|k| k == h))
    .then_some(s)
}

pub(super) fn seq_at(doc: &Doc, k: usize, seq: &[&str]) -> bool {
    seq.iter().enumerate().all(|(j, w)| {
        doc.toks
            .get(k + j)
            .is_some_and(|t| t.lw == *w && t.sent == doc.toks[k].sent)
    })
}

pub(super) fn conflicting(doc: &Doc, negated: &[Option<usize>], out: &mut Vec<Raw>) {
    let n = doc.toks.len();
    // A. Brevity against a request for more lives in `brevity.rs`.
    length_conflict(doc, negated, out);

    // B. Forbidding a form and then asking for it (one pass over the tokens).
    let mut neg: [Option<usize>; ITEM_FAMILIES.len()] = [None; ITEM_FAMILIES.len()];
    let mut pos: [Option<usize>; ITEM_FAMILIES.len()] = [None; ITEM_FAMILIES.len()];
    for k in 0..n {
        let t = &doc.toks[k];
        if t.data
            || t.single & F_FORMAT == 0
                && !matches!(t.lw, "emoji" | "emojis" | "hashtag" | "hashtags" | "jargon")
        {
            continue;
        }
        let negation = negated[t.sent];
        for (f, (_, neg_words, pos_words)) in ITEM_FAMILIES.iter().enumerate() {
            match negation {
                Some(nk) if nk < k && neg[f].is_none() && neg_words.contains(&t.lw) => {
                    neg[f] = Some(k)
                }
                None if pos[f].is_none() && pos_words.contains(&t.lw) => {
                    // "paragraphs only" / "prose only" forbid lists without a negation word.
                    pos[f] = Some(k);
                }
                _ => {}
            }
        }
        if negation.is_none()
            && neg[0].is_none()
            && matches!(t.lw, "paragraphs" | "prose")
            && find_in_sentence(doc, t.sent, &["only"]).is_some()
        {
            neg[0] = Some(k);
        }
    }
    for (f, (label, _, _)) in ITEM_FAMILIES.iter().enumerate() {
        if let (Some(a), Some(b)) = (neg[f], pos[f])
            && doc.toks[a].sent != doc.toks[b].sent
        {
            let (ps, pe) = doc.sent_span(doc.toks[b].sent);
            let (ns, ne) = doc.sent_span(doc.toks[a].sent);
            out.push(Raw::new(
                "conflicting-instructions",
                Some((ps, pe)),
                format!(
                    "\"{}\" asks for {label}, but \"{}\" forbids them.",
                    clip(&doc.text[ps..pe]),
                    clip(&doc.text[ns..ne])
                ),
                format!("Keep one rule about {label}: drop the prohibition or the request, or say where each applies."),
            ));
        }
    }

    // C. Machine-readable output only, yet extra prose requested.
    let strict = (0..doc.sents.len()).find(|&s| {
        let only = find_in_sentence(doc, s, &["only"]).is_some()
            || non_data_sentence(doc, s).any(|k| {
                seq_at(doc, k, &["nothing", "else"])
                    || seq_at(doc, k, &["no", "other", "text"])
                    || seq_at(doc, k, &["no", "surrounding", "text"])
                    || seq_at(doc, k, &["no", "extra", "text"])
                    || seq_at(doc, k, &["no", "explanation"])
            });
        only && find_in_sentence(doc, s, STRICT_FORMAT).is_some() || reply_only(doc, s)
    });
    if let Some(s0) = strict {
        let extra = (0..doc.sents.len())
            .filter(|&s| s != s0 && negated[s].is_none() && !is_conditional(doc, s))
            .find_map(|s| {
                non_data_sentence(doc, s)
                    .find(|&k| {
                        EXTRA_TEXT.iter().any(|seq| seq_at(doc, k, seq)) || extra_prose(doc, k)
                    })
                    .or_else(|| explain_head(doc, s))
                    .map(|_| s)
            });
        if let Some(s1) = extra {
            let (a, b) = doc.sent_span(s1);
            let (c, d) = doc.sent_span(s0);
            out.push(Raw::new(
                "conflicting-instructions",
                Some((a, b)),
                format!(
                    "\"{}\" adds prose around an output that \"{}\" restricts to a machine-readable form.",
                    clip(&doc.text[a..b]),
                    clip(&doc.text[c..d])
                ),
                "If the reply is parsed, put the extra text inside a field of the structure (e.g. a \"greeting\" key) or drop it.",
            ));
        }
    }

    language_conflict(doc, negated, out);
    count_conflict(doc, out);

    // D. Formal and casual tone at once.
    let formal = (0..doc.sents.len())
        .find(|&s| negated[s].is_none() && find_in_sentence(doc, s, &["formal"]).is_some());
    let casual = (0..doc.sents.len()).find(|&s| {
        negated[s].is_none()
            && find_in_sentence(
                doc,
                s,
                &["casual", "informal", "slang", "chatty", "colloquial"],
            )
            .is_some()
    });
    if let (Some(f), Some(c)) = (formal, casual)
        && f != c
    {
        let (a, b) = doc.sent_span(c);
        out.push(Raw::new(
            "conflicting-instructions",
            Some((a, b)),
            "The prompt asks for a formal tone and a casual one.",
            "Pick one register and describe it with an example sentence.",
        ));
    }
}

/// Sentence `s` states a condition ("If …", "When …", "Unless …").
pub(super) fn is_conditional(doc: &Doc, s: usize) -> bool {
    head(doc, s).is_some_and(|h| {
        matches!(
            doc.toks[h].lw,
            "if" | "when" | "whenever" | "unless" | "once" | "where"
        )
    }) || find_in_sentence(doc, s, &["unless", "if"]).is_some()
}

pub(super) const LANGUAGES: &[&str] = &[
    "english",
    "french",
    "german",
    "spanish",
    "italian",
    "portuguese",
    "dutch",
    "japanese",
    "chinese",
    "korean",
    "polish",
    "swedish",
    "arabic",
    "russian",
    "turkish",
];
pub(super) const REPLY_VERBS: &[&str] = &[
    "reply",
    "replies",
    "respond",
    "responses",
    "answer",
    "answers",
    "write",
    "speak",
    "communicate",
];

/// E. A fixed reply language against "the same language as the user".
pub(super) fn language_conflict(doc: &Doc, negated: &[Option<usize>], out: &mut Vec<Raw>) {
    let mut fixed = None;
    let mut mirror = None;
    for (s, neg) in negated.iter().enumerate() {
        if neg.is_some()
            || is_conditional(doc, s)
            || find_in_sentence(doc, s, REPLY_VERBS).is_none()
        {
            continue;
        }
        let same = non_data_sentence(doc, s).any(|k| {
            seq_at(doc, k, &["same", "language"])
                || seq_at(doc, k, &["their", "language"])
                || seq_at(doc, k, &["their", "own", "language"])
                || doc.toks[k].lw.ends_with("'s")
                    && doc
                        .toks
                        .get(k + 1)
                        .is_some_and(|u| u.lw == "language" && u.sent == doc.toks[k].sent)
                || seq_at(doc, k, &["language", "of", "the"])
        });
        let fixed_here = find_in_sentence(doc, s, &["always", "only"]).is_some()
            && non_data_sentence(doc, s).any(|k| {
                doc.toks[k].lw == "in"
                    && doc
                        .toks
                        .get(k + 1)
                        .is_some_and(|u| LANGUAGES.contains(&u.lw) && u.sent == doc.toks[k].sent)
            })
            && find_in_sentence(
                doc,
                s,
                &["code", "comments", "keys", "names", "json", "identifiers"],
            )
            .is_none();
        if same && !fixed_here && mirror.is_none() {
            mirror = Some(s);
        } else if fixed_here && fixed.is_none() {
            fixed = Some(s);
        }
    }
    if let (Some(f), Some(m)) = (fixed, mirror) {
        let (a, b) = doc.sent_span(m);
        let (c, d) = doc.sent_span(f);
        out.push(Raw::new(
            "conflicting-instructions",
            Some((a, b)),
            format!(
                "\"{}\" contradicts \"{}\": the reply language cannot be both fixed and the user's.",
                clip(&doc.text[a..b]),
                clip(&doc.text[c..d])
            ),
            "Pick one rule for the reply language, or say when each applies (e.g. \"reply in the customer's language; use English if unsure\").",
        ));
    }
}

pub(super) const COUNT_VERBS: &[&str] = &[
    "give",
    "list",
    "provide",
    "suggest",
    "write",
    "generate",
    "recommend",
    "propose",
    "name",
    "create",
    "produce",
    "return",
    "offer",
    "share",
    "include",
    "draft",
    "output",
];

/// F. Two different counts for the same deliverable ("Give exactly three
/// recommendations" … "List five recommendations").
pub(super) fn count_conflict(doc: &Doc, out: &mut Vec<Raw>) {
    let mut seen: Vec<(usize, u32, &str)> = Vec::new();
    for s in 0..doc.sents.len() {
        if is_conditional(doc, s) {
            continue;
        }
        let Some(h) = head(doc, s) else { continue };
        if !COUNT_VERBS.contains(&doc.toks[h].lw) {
            continue;
        }
        let (_, b) = doc.sents[s];
        let Some(k) = (h + 1..(h + 4).min(b)).find(|&k| doc.is_number(k)) else {
            continue;
        };
        if !(h + 1..k).all(|j| {
            matches!(
                doc.toks[j].lw,
                "exactly" | "me" | "us" | "only" | "the" | "top" | "just"
            )
        }) {
            continue;
        }
        let Some(noun) = doc.toks.get(k + 1).filter(|u| u.sent == s && !u.data) else {
            continue;
        };
        let Some(n) = count_value(doc.toks[k].lw) else {
            continue;
        };
        let stem_noun = stem(noun.lw);
        if let Some(&(s0, n0, _)) = seen.iter().find(|e| e.2 == stem_noun && e.1 != n) {
            let (a, b) = doc.sent_span(s);
            let (c, d) = doc.sent_span(s0);
            out.push(Raw::new(
                "conflicting-instructions",
                Some((a, b)),
                format!(
                    "\"{}\" asks for {n} {}, but \"{}\" asks for {n0}.",
                    clip(&doc.text[a..b]),
                    noun.raw,
                    clip(&doc.text[c..d])
                ),
                "State the count once.",
            ));
            return;
        }
        seen.push((s, n, stem_noun));
    }
}

pub(super) fn count_value(w: &str) -> Option<u32> {
    w.parse().ok().or(match w {
        "one" | "single" => Some(1),
        "two" => Some(2),
        "three" => Some(3),
        "four" => Some(4),
        "five" => Some(5),
        "six" => Some(6),
        "seven" => Some(7),
        "eight" => Some(8),
        "nine" => Some(9),
        "ten" => Some(10),
        "twelve" => Some(12),
        "fifteen" => Some(15),
        "twenty" => Some(20),
        // Other languages the lexicon covers; "un"/"una"/"ein" are also
        // articles, which callers accept because "in einem Satz" is a cap too.
        "un" | "une" | "uno" | "una" | "ein" | "eine" | "einem" | "einen" => Some(1),
        "deux" | "dos" | "zwei" => Some(2),
        "trois" | "tres" | "drei" => Some(3),
        "quatre" | "cuatro" | "vier" => Some(4),
        "cinq" | "cinco" | "fünf" => Some(5),
        _ => None,
    })
}

pub(super) fn clip(s: &str) -> String {
    let t: String = s.chars().take(70).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}
