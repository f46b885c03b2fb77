//! multiple-tasks: unrelated jobs packed into one request.

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

// ---------------------------------------------------------------- multiple-tasks

pub(super) const ANAPHORA: &[&str] = &[
    "it", "its", "them", "their", "this", "that", "these", "those", "each", "the", "same", "both",
    "his", "her", "such",
];
pub(super) const CONDITIONAL: &[&str] = &[
    "if", "when", "unless", "whenever", "once", "in", "for", "after", "before", "while",
];
pub(super) const MANNER: &[&str] = &[
    "in", "with", "like", "as", "using", "from", "of", "is", "are", "for", "to", "only",
];

struct Task {
    verb: usize,
    fresh: bool,
    joined: bool,
}

pub(super) fn task_starts(doc: &Doc) -> Vec<usize> {
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
            // "Format: a short paragraph" is a label introducing a spec, not
            // a request to format something.
            if doc.text[t.end..].starts_with(':') {
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

pub(super) const WH: &[&str] = &[
    "what", "what's", "why", "how", "which", "who", "where", "when",
];

/// True when sentence `s` ends with a question mark.
pub(super) fn is_question(doc: &Doc, s: usize) -> bool {
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
pub(super) fn question_tasks(doc: &Doc) -> Vec<(usize, bool)> {
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

pub(super) fn content_word(t: &Tok) -> bool {
    t.lw.chars().count() >= 4
        && t.flags & (F_ENG | F_NUMBER) == 0
        && !t.lw.bytes().all(|b| b.is_ascii_digit())
}

pub(super) fn stem(w: &str) -> &str {
    w.strip_suffix('s').filter(|s| s.len() >= 3).unwrap_or(w)
}

pub(super) fn multiple_tasks(
    doc: &Doc,
    verbs: &[usize],
    questions: &[(usize, bool)],
    out: &mut Vec<Raw>,
) {
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
