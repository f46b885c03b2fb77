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
    // "Any thoughts on this log?" over pasted lines: the request is the
    // first paragraph when it ends in a question and material
    // follows; the pasted lines are data, not words of the request.
    let ask_end = doc
        .text
        .find("\n\n")
        .filter(|&p| {
            doc.text[..p].trim_end().ends_with(['?', '？']) && !doc.text[p..].trim().is_empty()
        })
        .unwrap_or(doc.text.len());
    let prose: String = doc
        .toks
        .iter()
        .filter(|t| !t.data && t.start < ask_end)
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
            cjk_multiple_tasks(doc, out);
            missing_role(doc, sig, short, out);
            missing_output_format(doc, sig, short, out);
        }
        // Other Latin-script languages get the checks whose keywords the
        // lexicon carries for them (prohibitions, vague amounts, unbounded
        // scope, deictic references), and role/format only on short prompts,
        // where a missing persona or form is unmistakable.
        if doc.latin {
            let negated: Vec<Option<usize>> = (0..doc.sents.len())
                .map(|s| sentence_negated(doc, s))
                .collect();
            length_conflict(doc, &negated, out);
            let before = out.len();
            foreign_reference(doc, out);
            if out.len() == before {
                foreign_pronoun(doc, out);
            }
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
    let before = out.len();
    ambiguous_reference(doc, out);
    if out.len() == before {
        dangling_pronoun(doc, out);
    }
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

mod brevity;
mod cjk;
mod conflict;
mod length;
mod negative;
mod presence;
mod pronoun;
mod reference;
mod shouting;
mod tasks;

use brevity::*;
use cjk::*;
use conflict::*;
use length::*;
use negative::*;
use presence::*;
use pronoun::*;
use reference::*;
use shouting::*;
use tasks::*;
