//! Wording checks: every standard code except the brace-based ones.
//!
//! Keyword checks run only on English prose (other languages would give
//! English-keyword false positives) and never look inside material regions
//! (code, tagged blocks, quotes, examples): those are data, not instructions.

use super::Raw;
use super::lexicon::*;
use super::text::{Doc, Tok, word_flags};

/// Positive and negative signals several checks and the scores share.
pub(crate) struct Signals {
    /// A role or persona is given.
    pub role: bool,
    /// An audience (or the asker's own situation) is given.
    pub audience: bool,
    /// Some output form is stated (format word, structure, length).
    pub format: bool,
    /// A length or count limit is stated.
    pub limit: bool,
    /// An example is shown.
    pub example: bool,
}

impl Signals {
    pub(crate) fn new(doc: &Doc) -> Self {
        let n = doc.toks.len();
        let mut s = Signals {
            role: false,
            audience: false,
            format: false,
            limit: false,
            example: false,
        };
        s.example = doc
            .regions
            .iter()
            .any(|r| r.kind == super::text::RegionKind::Example);
        for i in 0..n {
            let t = &doc.toks[i];
            if t.flags & F_EXAMPLE != 0 && doc.phrase_at(i, F_EXAMPLE, EXAMPLE).is_some() {
                s.example = true;
            }
            if t.data {
                continue;
            }
            if !s.role
                && (doc.phrase_at(i, F_ROLE, ROLE).is_some()
                    || t.lw == "as"
                        && is_sentence_start(doc, i)
                        && doc
                            .toks
                            .get(i + 1)
                            .is_some_and(|u| u.lw == "a" || u.lw == "an"))
            {
                s.role = true;
            }
            if !s.audience
                && (doc.phrase_at(i, F_AUDIENCE, AUDIENCE).is_some()
                    || t.lw.ends_with("year-old")
                    || t.lw.ends_with("year-olds")
                    || doc.phrase_at(i, F_SELF, SELF).is_some()
                    || t.flags & F_AUD_LEAD != 0
                        && (i + 1..(i + 4).min(n)).any(|k| {
                            doc.toks[k].sent == t.sent && is_word(&doc.toks[k], F_AUD_NOUN)
                        }))
            {
                s.audience = true;
            }
            if !s.limit
                && (limit_phrase(doc, i)
                    || doc.phrase_at(i, F_LIMIT_NUM, LIMIT_NUM).is_some_and(|len| {
                        (i + len..(i + len + 2).min(n))
                            .any(|k| doc.is_number(k) && doc.toks[k].sent == t.sent)
                    })
                    || num_unit(doc, i))
            {
                s.limit = true;
            }
            if !s.format && (doc.phrase_at(i, F_FORMAT, FORMAT).is_some() || num_unit(doc, i)) {
                s.format = true;
            }
        }
        s.format |= s.limit;
        s
    }
}

fn limit_phrase(doc: &Doc, i: usize) -> bool {
    // "short" and "single" bound length only as adjectives of the answer;
    // a number of units or "at most"/"brief" are the reliable markers.
    match doc.phrase_at(i, F_LIMIT, LIMIT) {
        Some(_) => {
            !matches!(
                doc.toks[i].lw,
                "short" | "shorter" | "single" | "exactly" | "cap" | "only"
            ) || doc
                .toks
                .get(i + 1)
                .is_some_and(|u| is_word(u, F_UNIT) || u.lw == "answer" || u.lw == "reply")
                || (doc.toks[i].lw == "exactly" && doc.is_number(i + 1))
        }
        None => false,
    }
}

/// Token `i` is a number followed by a unit ("80 words", "three bullets").
fn num_unit(doc: &Doc, i: usize) -> bool {
    doc.is_number(i)
        && doc
            .toks
            .get(i + 1)
            .is_some_and(|u| u.sent == doc.toks[i].sent && is_word(u, F_UNIT))
}

/// True when the token's word is a one-word entry of the group with bit `flag`.
fn is_word(t: &Tok, flag: u64) -> bool {
    t.single & flag != 0
}

fn is_sentence_start(doc: &Doc, i: usize) -> bool {
    i == 0 || doc.toks[i - 1].sent != doc.toks[i].sent
}

/// Words that only soften a request ("Can you please …") before its verb.
const PREFIX: &[&str] = &[
    "please", "can", "could", "would", "will", "you", "kindly", "also", "and", "then", "now",
    "first", "next", "finally", "lastly", "i", "need", "want", "to", "help", "me", "us", "just",
    "quickly", "pls", "oh", "btw", "so", "hey", "hi", "ok", "okay", "i'd", "like", "we", "must",
    "should", "your", "task", "is", "job", "goal", "do", "step",
];

/// Index of the first token of sentence `s` after numbering and polite prefixes.
fn head(doc: &Doc, s: usize) -> Option<usize> {
    let (a, b) = doc.sents[s];
    (a..b).find(|&k| {
        let t = &doc.toks[k];
        !t.data && !doc.is_number(k) && !PREFIX.contains(&t.lw) && t.lw.chars().count() > 1
    })
}

fn non_data_sentence<'d>(doc: &'d Doc<'_>, s: usize) -> impl Iterator<Item = usize> + 'd {
    let (a, b) = doc.sents[s];
    (a..b).filter(move |&k| !doc.toks[k].data)
}

const REPLY_FORM: &[&str] = &[
    "reply with",
    "respond with",
    "answer with",
    "reply in",
    "respond in",
    "answer in",
    "return only",
    " only",
];

/// The first word of a short prompt that names no role, audience or form
/// ("What do you make of these numbers?", "hi", "请介绍一下量子计算。"): in any
/// language, so little text cannot carry a persona or an answer shape, and
/// the reader has to guess both. Word count is the shared parser's (CJK
/// ideographs count one each).
fn short_bare_request(doc: &Doc, sig: &Signals) -> Option<usize> {
    if sig.role || sig.audience || sig.format {
        return None;
    }
    let prose: String = doc
        .toks
        .iter()
        .filter(|t| !t.data)
        .map(|t| t.raw)
        .collect::<Vec<_>>()
        .join(" ");
    // "Reply with the number only": a short prompt that states its reply
    // form is complete, even where the format signal has no keyword for it.
    let lower = prose.to_lowercase();
    if REPLY_FORM.iter().any(|h| lower.contains(h)) {
        return None;
    }
    let words = ps_guest_util::prompt::word_count(&prose);
    (words > 0 && words <= 20).then(|| doc.toks.iter().position(|t| !t.data))?
}

/// Run every wording check.
pub fn run_all(doc: &Doc, sig: &Signals, tokens: u32, out: &mut Vec<Raw>) {
    excessive_length(doc, tokens, out);
    shouting(doc, out);
    let short = short_bare_request(doc, sig);
    if !doc.english {
        if !doc.latin {
            missing_role(doc, sig, short, out);
            missing_output_format(doc, sig, short, out);
        }
        // Other Latin-script languages get the checks whose keywords the
        // lexicon carries for them (prohibitions, vague amounts, unbounded
        // scope, deictic references), and role/format only on short prompts,
        // where a missing persona or form is unmistakable.
        if doc.latin {
            foreign_reference(doc, out);
            negative_only(doc, out);
            let tasks = task_starts(doc);
            multiple_tasks(doc, &tasks, &[], out);
            let words = doc.toks.iter().filter(|t| !t.data).count();
            if words <= 30 {
                let open = tasks
                    .iter()
                    .copied()
                    .find(|&k| is_word(&doc.toks[k], F_OPEN));
                missing_role(doc, sig, open.or(short), out);
                missing_output_format(doc, sig, open.or(short), out);
            }
            vague_quantifier(doc, out);
            unbounded_length(doc, sig, out);
        }
        return;
    }
    let negated: Vec<Option<usize>> = (0..doc.sents.len())
        .map(|s| sentence_negated(doc, s))
        .collect();
    let tasks = task_starts(doc);
    let questions = question_tasks(doc);
    conflicting(doc, &negated, out);
    multiple_tasks(doc, &tasks, &questions, out);
    ambiguous_reference(doc, out);
    negative_only(doc, out);
    let open_question = questions
        .iter()
        .copied()
        .find(|&(_, open)| open)
        .map(|q| q.0);
    let role_task = tasks
        .iter()
        .copied()
        .find(|&k| ROLE_TASKS.contains(&doc.toks[k].lw))
        .or(open_question)
        .or(short);
    missing_role(doc, sig, role_task, out);
    let format_task = tasks
        .iter()
        .copied()
        .find(|&k| is_word(&doc.toks[k], F_OPEN))
        .or(open_question)
        .or(short);
    missing_output_format(doc, sig, format_task, out);
    vague_quantifier(doc, out);
    unbounded_length(doc, sig, out);
    missing_examples(doc, sig, out);
}

// ---------------------------------------------------------------- excessive-length

fn excessive_length(doc: &Doc, tokens: u32, out: &mut Vec<Raw>) {
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
        if words.len() < 3 {
            continue;
        }
        let key = words.join(" ");
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
fn paraphrased_repetition(doc: &Doc) -> Option<(usize, usize)> {
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

// ---------------------------------------------------------------- shouting

fn is_caps(raw: &str) -> bool {
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

fn shout_word(t: &Tok) -> bool {
    if t.lw.is_ascii() {
        is_word(t, F_SHOUT)
    } else {
        word_flags(&t.raw.to_lowercase()) & F_SHOUT != 0
    }
}

/// A line that is only a short all-caps heading ("## OUTPUT FORMAT").
fn heading_line(doc: &Doc, a: usize, b: usize) -> bool {
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

fn shouting(doc: &Doc, out: &mut Vec<Raw>) {
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

// ---------------------------------------------------------------- conflicting-instructions

fn sentence_negated(doc: &Doc, s: usize) -> Option<usize> {
    non_data_sentence(doc, s).find(|&k| doc.phrase_at(k, F_NEG_LEAD, NEG_LEAD).is_some())
}

fn find_in_sentence(doc: &Doc, s: usize, words: &[&str]) -> Option<usize> {
    non_data_sentence(doc, s).find(|&k| words.contains(&doc.toks[k].lw))
}

fn numeric_brevity(doc: &Doc, i: usize) -> bool {
    if !num_unit(doc, i) {
        return false;
    }
    let t = &doc.toks[i];
    let n: u32 = t.lw.parse().unwrap_or(match t.lw {
        "one" | "single" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        _ => 100,
    });
    let unit = doc.toks[i + 1].lw;
    let small = match unit {
        "word" | "words" => n <= 150,
        "sentence" | "sentences" | "line" | "lines" => n <= 3,
        "character" | "characters" | "chars" => n <= 300,
        "paragraph" | "paragraphs" | "bullet" | "bullets" => n <= 1,
        _ => false,
    };
    // Only a stated cap counts, not "a 3-sentence intro" style descriptions.
    small
        && (i.saturating_sub(3)..i).any(|k| {
            doc.phrase_at(k, F_LIMIT, LIMIT).is_some()
                || doc.phrase_at(k, F_LIMIT_NUM, LIMIT_NUM).is_some()
                || doc.toks[k].lw == "in"
        })
}

const LIST_WORDS_NEG: &[&str] = &[
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
const LIST_WORDS_POS: &[&str] = &[
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
const ITEM_FAMILIES: &[(&str, &[&str], &[&str])] = &[
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

const STRICT_FORMAT: &[&str] = &[
    "json", "yaml", "xml", "csv", "sql", "array", "integer", "number", "boolean", "code", "query",
    "object",
];
const EXTRA_TEXT: &[&[&str]] = &[
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

const EXTRA_VERBS: &[&str] = &[
    "add", "include", "append", "provide", "write", "give", "follow", "prepend", "preface",
];
const EXTRA_NOUNS: &[&str] = &[
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
fn extra_prose(doc: &Doc, k: usize) -> bool {
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

fn seq_at(doc: &Doc, k: usize, seq: &[&str]) -> bool {
    seq.iter().enumerate().all(|(j, w)| {
        doc.toks
            .get(k + j)
            .is_some_and(|t| t.lw == *w && t.sent == doc.toks[k].sent)
    })
}

fn conflicting(doc: &Doc, negated: &[Option<usize>], out: &mut Vec<Raw>) {
    let n = doc.toks.len();
    // A. Brevity against exhaustive detail.
    let mut brief: Option<usize> = None;
    let mut detail: Option<(usize, usize)> = None;
    let conditional: Vec<bool> = (0..doc.sents.len())
        .map(|s| is_conditional(doc, s))
        .collect();
    for i in 0..n {
        // "If the user asks for more detail, give a detailed answer" only
        // refines the default; it does not contradict it.
        if doc.toks[i].data || conditional[doc.toks[i].sent] {
            continue;
        }
        if brief.is_none()
            && (doc.phrase_at(i, F_BREVITY, BREVITY).is_some() || numeric_brevity(doc, i))
        {
            brief = Some(i);
        }
        if detail.is_none()
            && let Some(len) = doc.phrase_at(i, F_DETAIL, DETAIL)
            && negated[doc.toks[i].sent].is_none_or(|k| k > i)
        {
            detail = Some((i, len));
        }
    }
    if let (Some(b), Some((d, len))) = (brief, detail)
        && doc.toks[b].sent != doc.toks[d].sent
    {
        let (bs, be) = doc.span(b, 1);
        let (ds, de) = doc.span(d, len);
        out.push(Raw::new(
            "conflicting-instructions",
            Some((ds, de)),
            format!(
                "\"{}\" asks for depth while \"{}\" limits length; the model cannot satisfy both.",
                &doc.text[ds..de],
                &doc.text[bs..be]
            ),
            "Decide which matters more: raise the length limit, or ask for only the most important points.",
        ));
    }

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
        only && find_in_sentence(doc, s, STRICT_FORMAT).is_some()
    });
    if let Some(s0) = strict {
        let extra = (0..doc.sents.len())
            .filter(|&s| s != s0 && negated[s].is_none() && !is_conditional(doc, s))
            .find_map(|s| {
                non_data_sentence(doc, s)
                    .find(|&k| {
                        EXTRA_TEXT.iter().any(|seq| seq_at(doc, k, seq)) || extra_prose(doc, k)
                    })
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
fn is_conditional(doc: &Doc, s: usize) -> bool {
    head(doc, s).is_some_and(|h| {
        matches!(
            doc.toks[h].lw,
            "if" | "when" | "whenever" | "unless" | "once" | "where"
        )
    }) || find_in_sentence(doc, s, &["unless", "if"]).is_some()
}

const LANGUAGES: &[&str] = &[
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
const REPLY_VERBS: &[&str] = &[
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
fn language_conflict(doc: &Doc, negated: &[Option<usize>], out: &mut Vec<Raw>) {
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

const COUNT_VERBS: &[&str] = &[
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
fn count_conflict(doc: &Doc, out: &mut Vec<Raw>) {
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

fn count_value(w: &str) -> Option<u32> {
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
        _ => None,
    })
}

fn clip(s: &str) -> String {
    let t: String = s.chars().take(70).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

// ---------------------------------------------------------------- multiple-tasks

const ANAPHORA: &[&str] = &[
    "it", "its", "them", "their", "this", "that", "these", "those", "each", "the", "same", "both",
    "his", "her", "such",
];
const CONDITIONAL: &[&str] = &[
    "if", "when", "unless", "whenever", "once", "in", "for", "after", "before", "while",
];
const MANNER: &[&str] = &[
    "in", "with", "like", "as", "using", "from", "of", "is", "are", "for", "to", "only",
];

struct Task {
    verb: usize,
    fresh: bool,
    joined: bool,
}

fn task_starts(doc: &Doc) -> Vec<usize> {
    let mut starts = Vec::new();
    for s in 0..doc.sents.len() {
        let Some(h) = head(doc, s) else { continue };
        if CONDITIONAL.contains(&doc.toks[h].lw) {
            continue;
        }
        for k in non_data_sentence(doc, s) {
            let t = &doc.toks[k];
            if !is_word(t, F_TASK) || t.raw.chars().skip(1).any(|c| c.is_uppercase()) {
                continue;
            }
            let prev = k.checked_sub(1).map(|p| &doc.toks[p]);
            let start = k == h
                || t.comma_before && prev.is_some_and(|p| p.sent == t.sent)
                || prev.is_some_and(|p| {
                    p.sent == t.sent
                        && (matches!(
                            p.lw,
                            "then"
                                | "also"
                                | "plus"
                                | "puis"
                                | "luego"
                                | "después"
                                | "dann"
                                | "depois"
                        ) || matches!(p.lw, "and" | "et" | "y" | "und" | "e") && p.comma_before)
                });
            let noun_use = doc
                .toks
                .get(k + 1)
                .is_none_or(|u| u.sent != t.sent || MANNER.contains(&u.lw));
            if start && !noun_use {
                starts.push(k);
            }
        }
    }
    starts
}

const WH: &[&str] = &[
    "what", "what's", "why", "how", "which", "who", "where", "when",
];

/// True when sentence `s` ends with a question mark.
fn is_question(doc: &Doc, s: usize) -> bool {
    let (_, b) = doc.sents[s];
    let end = doc.toks[b - 1].end;
    doc.text[end..]
        .trim_start_matches([' ', '"', '\'', ')', '*'])
        .starts_with(['?', '\u{FF1F}'])
}

/// Direct questions the prompt asks ("What are the main causes of
/// inflation?"): (first token, open-ended). Open-ended ones ("why", "how
/// does", "what are") call for an explanation, like "explain"; "what is the
/// capital" asks for a fact. A prompt with three or more questions lists them
/// as material (FAQ entries, a questionnaire), so none counts then.
fn question_tasks(doc: &Doc) -> Vec<(usize, bool)> {
    let mut out = Vec::new();
    for s in 0..doc.sents.len() {
        let (a0, b) = doc.sents[s];
        // Skip list numbering ("3. What's …").
        let a = (a0..b).find(|&k| !doc.is_number(k)).unwrap_or(a0);
        let t = &doc.toks[a];
        if t.data || !WH.contains(&t.lw) || b - a < 3 || !is_question(doc, s) {
            continue;
        }
        let next = doc.toks[a + 1].lw;
        let open = match t.lw {
            "why" => true,
            "how" => !matches!(
                next,
                "many" | "much" | "long" | "old" | "often" | "far" | "big"
            ),
            "what" | "which" => matches!(
                next,
                "are" | "were" | "should" | "would" | "could" | "can" | "do" | "does" | "makes"
            ),
            _ => false,
        };
        out.push((a, open));
    }
    if out.len() > 2 {
        out.clear();
    }
    out
}

fn content_word(t: &Tok) -> bool {
    t.lw.chars().count() >= 4
        && t.flags & (F_ENG | F_NUMBER) == 0
        && !t.lw.bytes().all(|b| b.is_ascii_digit())
}

fn stem(w: &str) -> &str {
    w.strip_suffix('s').filter(|s| s.len() >= 3).unwrap_or(w)
}

fn multiple_tasks(doc: &Doc, verbs: &[usize], questions: &[(usize, bool)], out: &mut Vec<Raw>) {
    let mut starts: Vec<usize> = verbs.to_vec();
    starts.extend(questions.iter().map(|q| q.0));
    starts.sort_unstable();
    starts.dedup();
    if starts.len() < 2 {
        return;
    }
    let mut tasks: Vec<Task> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (j, &k) in starts.iter().enumerate() {
        let end = starts.get(j + 1).copied().unwrap_or(doc.toks.len());
        let sent = doc.toks[k].sent;
        let obj: Vec<&Tok> = (k + 1..end)
            .map(|x| &doc.toks[x])
            .filter(|t| !t.data && t.sent == sent)
            .collect();
        let first = obj
            .iter()
            .find(|t| !matches!(t.lw, "me" | "us" | "out" | "up" | "down" | "with"));
        // A question's subject ("What's the capital …") is not an anaphor.
        let is_q = questions.iter().any(|q| q.0 == k);
        let anaphoric = !is_q && first.is_some_and(|t| ANAPHORA.contains(&t.lw));
        let words: Vec<&str> = obj
            .iter()
            .filter(|t| content_word(t))
            .map(|t| stem(t.lw))
            .collect();
        let overlap = words.iter().any(|w| seen.contains(w));
        let joined = (k.saturating_sub(3)..k).any(|p| doc.phrase_at(p, F_JOIN, JOIN).is_some());
        tasks.push(Task {
            verb: k,
            fresh: j == 0 || !anaphoric && !overlap,
            joined,
        });
        seen.extend(words);
    }
    let fresh: Vec<&Task> = tasks.iter().filter(|t| t.fresh).collect();
    let flagged = fresh.len() >= 3 || fresh.len() == 2 && fresh[1].joined;
    if flagged {
        let a = doc.toks[fresh[0].verb].start;
        let last = fresh[fresh.len() - 1].verb;
        let (_, b) = doc.sent_span(doc.toks[last].sent);
        let verbs: Vec<&str> = fresh.iter().map(|t| doc.toks[t.verb].raw).collect();
        out.push(Raw::new(
            "multiple-tasks",
            Some((a, b.max(a))),
            format!("The prompt packs {} unrelated tasks into one request ({}).", fresh.len(), verbs.join(", ")),
            "Split it into one prompt per task, or say how the tasks relate and what to deliver for each.",
        ));
    }
}

// ---------------------------------------------------------------- ambiguous-reference

/// True when real material follows byte `pos`: a new line with content, a
/// colon with content, a placeholder, a tag, fence or quote.
fn content_after(doc: &Doc, pos: usize) -> bool {
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

fn content_before(doc: &Doc, pos: usize) -> bool {
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

fn ambiguous_reference(doc: &Doc, out: &mut Vec<Raw>) {
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
                    && (i.saturating_sub(3)..i).any(|p| toks[p].lw == "as")
                    && !content_before(doc, doc.sent_span(t.sent).0)
                    && !content_after(doc, sent_end)
                    && !doc.text.contains("{{") =>
            {
                let a = (i.saturating_sub(3)..i)
                    .find(|&p| toks[p].lw == "as")
                    .unwrap_or(i);
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
const FOREIGN_DEIXIS: &[(&str, &[&str])] = &[
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

fn foreign_reference(doc: &Doc, out: &mut Vec<Raw>) {
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

fn only_prefix_before(doc: &Doc, p: usize) -> bool {
    let s = doc.toks[p].sent;
    let (a, _) = doc.sents[s];
    (a..p).all(|k| PREFIX.contains(&doc.toks[k].lw) || doc.is_number(k))
}

// ---------------------------------------------------------------- negative-only

const ALT: &[&str] = &[
    "instead",
    "rather",
    "but",
    "otherwise",
    "except",
    "unless",
    "alternatively",
];
const ROLE_ACTION: &[&str] = &[
    "who", "that", "helping", "helps", "answers", "assists", "assist", "help", "writes", "handles",
    "to",
];

/// French elided negation: "n'utilise", "n’écris".
fn elided_negation(w: &str) -> bool {
    (w.starts_with("n'") && w.len() > 2) || (w.starts_with("n\u{2019}") && w.len() > 4)
}

fn negative_only(doc: &Doc, out: &mut Vec<Raw>) {
    let (mut neg, mut pos) = (Vec::new(), 0usize);
    for s in 0..doc.sents.len() {
        let Some(h) = head(doc, s) else { continue };
        let words = non_data_sentence(doc, s).count();
        if words < 2 {
            continue;
        }
        let t = &doc.toks[h];
        let role = doc.phrase_at(h, F_ROLE, ROLE).is_some()
            || t.lw == "as"
                && doc
                    .toks
                    .get(h + 1)
                    .is_some_and(|u| u.lw == "a" || u.lw == "an")
            || doc.phrase_at(h.saturating_sub(1), F_ROLE, ROLE).is_some();
        if role {
            if find_in_sentence(doc, s, ROLE_ACTION).is_some() {
                pos += 1;
            }
            continue;
        }
        let (a, _) = doc.sents[s];
        let negative = (a..=h).any(|k| {
            doc.phrase_at(k, F_NEG_LEAD, NEG_LEAD).is_some() || elided_negation(doc.toks[k].lw)
        }) && find_in_sentence(doc, s, ALT).is_none();
        if negative {
            neg.push(s);
        } else {
            pos += 1;
        }
    }
    if neg.len() >= 2 && pos == 0 {
        let (a, _) = doc.sent_span(neg[0]);
        let (_, b) = doc.sent_span(neg[neg.len() - 1]);
        out.push(Raw::new(
            "negative-only",
            Some((a, b)),
            format!("All {} instructions say what not to do; none says what to do instead.", neg.len()),
            "Pair each prohibition with the behaviour you want, e.g. \"Never diagnose\" → \"Describe possible causes and advise seeing a pharmacist or doctor.\"",
        ));
    }
}

// ---------------------------------------------------------------- missing-role

/// Tasks whose answer depends on who writes it and for whom; mechanical ones
/// (translate, convert, summarise, extract) do not need a persona.
const ROLE_TASKS: &[&str] = &[
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

fn missing_role(doc: &Doc, sig: &Signals, task: Option<usize>, out: &mut Vec<Raw>) {
    if sig.role || sig.audience {
        return;
    }
    if let Some(k) = task {
        out.push(Raw::new(
            "missing-role",
            Some(doc.span(k, 1)),
            "The task would benefit from a role or an audience, but the prompt gives neither.",
            "Start with who should answer and for whom, e.g. \"You are a network engineer explaining this to junior developers.\"",
        ));
    }
}

// ---------------------------------------------------------------- missing-output-format

fn missing_output_format(doc: &Doc, sig: &Signals, task: Option<usize>, out: &mut Vec<Raw>) {
    if sig.format {
        return;
    }
    if let Some(k) = task {
        out.push(Raw::new(
            "missing-output-format",
            Some(doc.span(k, 1)),
            "The prompt asks for an answer but not its form: no structure, length or format.",
            "Say what the answer should look like, e.g. \"Answer in 3 bullet points of at most 20 words each\" or \"a table with columns X and Y\".",
        ));
    }
}

// ---------------------------------------------------------------- vague-quantifier

const NOT_BEFORE_THINGS: &[&str] = &[
    "the", "these", "those", "such", "all", "other", "of", "two", "three",
];

fn vague_quantifier(doc: &Doc, out: &mut Vec<Raw>) {
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
                format!("\"{}\" leaves the amount or the items open.", &doc.text[a..b]),
                "Replace it with a number or the exact list, e.g. \"5 ideas\" or \"pumpkin latte, maple scone and chai\".",
            ));
            i += len;
            continue;
        }
        i += 1;
    }
}

// ---------------------------------------------------------------- unbounded-length

fn unbounded_length(doc: &Doc, sig: &Signals, out: &mut Vec<Raw>) {
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
            format!("\"{}\" asks for unlimited output and no length limit is given.", &doc.text[a..b]),
            "Bound it: say how many items or words you want, e.g. \"the 10 most important concepts, one line each\".",
        ));
    }
}

/// "as many name ideas as you can", "as much detail as possible".
fn as_many_as_possible(doc: &Doc) -> Option<(usize, usize)> {
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

fn missing_examples(doc: &Doc, sig: &Signals, out: &mut Vec<Raw>) {
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
