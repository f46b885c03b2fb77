//! Prompt parsing shared by the rule-based transforms.
//!
//! A prompt is split into [`Segment`]s (role, context, task, input, …) so the
//! transforms can reorder and re-tag them. Everything that must never be
//! edited — template placeholders, code fences, inline code, JSON-like brace
//! groups, quoted strings and tagged sections — is masked first by the shared
//! parser (`ps_guest_util::prompt`), so sentence splitting and phrase
//! rewriting cannot reach inside it.

pub use ps_guest_util::prompt::{
    CLOSE, Masked, OPEN, is_cjk_text, is_only_slots, join_sentences, language, mask,
    split_sentences, strip_slots, terminate, word_count,
};

mod lexicon;

pub use lexicon::TASK_VERBS;
use lexicon::{
    CONSTRAINT_LEADS, CONTEXT_LEADS, FORMAT_LEADS, FORMAT_WORDS, INPUT_LEADS, NOT_ROLE,
    PLEASANTRIES, REQUEST_LEADS, ROLE_LEADS,
};

/// Which part of a prompt a segment plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A persona: "You are a …", "Act as …".
    Role,
    /// Background the model needs: who, why, for whom.
    Context,
    /// What to do.
    Task,
    /// The data to work on, including template variables.
    Input,
    /// Worked examples.
    Examples,
    /// The shape of the answer.
    Format,
    /// Limits and rules.
    Constraint,
    /// Greetings and thanks that carry no instruction.
    Pleasantry,
}

/// One piece of a prompt.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Its role in the prompt.
    pub part: Part,
    /// A leading `Label:` as written (`Context`, `Customer email`).
    pub label: Option<String>,
    /// True when the label only names the part (`Context:`, `Rules:`), so a
    /// section heading can replace it.
    pub generic_label: bool,
    /// The text after the label.
    pub body: String,
    /// True for a list item (its marker removed).
    pub bullet: bool,
    /// True for a task cut from "…: {{input}}"; the input segment follows
    /// and a flat rendering joins them with the colon again.
    pub lead_in: bool,
}

impl Segment {
    fn new(part: Part, body: String) -> Self {
        Segment {
            part,
            label: None,
            generic_label: false,
            body,
            bullet: false,
            lead_in: false,
        }
    }

    /// The text as written, label included.
    pub fn text(&self) -> String {
        match &self.label {
            Some(l) if self.body.contains('\n') => format!("{l}:\n{}", self.body),
            Some(l) => format!("{l}: {}", self.body),
            None => self.body.clone(),
        }
    }

    /// The text as it reads in a section named after its part: a generic
    /// label is dropped, a specific one kept.
    pub fn content(&self) -> String {
        match &self.label {
            Some(_) if !self.generic_label => self.text(),
            Some(_) => capitalize(&self.body),
            None => self.body.clone(),
        }
    }
}

/// `s` without a leading `label:` from `labels` (case-insensitive).
pub fn without_label(s: &str, labels: &[&str]) -> String {
    let t = s.trim_start();
    for l in labels {
        let head = t.get(..l.len()).filter(|h| h.eq_ignore_ascii_case(l));
        if let Some(rest) = head.and_then(|_| t[l.len()..].strip_prefix(':')) {
            return capitalize(rest.trim_start());
        }
    }
    s.to_string()
}

/// True when `s`, lower-cased, starts with one of `leads`.
pub fn starts_with_any_lower(s: &str, leads: &[&str]) -> bool {
    let l = s.trim_start().to_lowercase();
    leads.iter().any(|p| l.starts_with(p))
}

/// True when the lower-case sentence `l` opens with one of `leads` as whole
/// words (a lead ending in a space may be followed by anything).
fn starts_any(l: &str, leads: &[&str]) -> bool {
    leads.iter().any(|p| {
        l.starts_with(p)
            && l[p.len()..].chars().next().is_none_or(|c| {
                // CJK writes no space after a lead ("你是一名…").
                !c.is_alphanumeric()
                    || p.ends_with(' ')
                    || p.chars()
                        .next_back()
                        .is_some_and(ps_guest_util::prompt::is_cjk)
            })
    })
}

/// True when `l` (lower case) contains `word` as whole words.
pub fn has_word(l: &str, word: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = l[from..].find(word) {
        let s = from + pos;
        let e = s + word.len();
        let before_ok = l[..s]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = l[e..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        from = s + word.len().max(1);
        while from < l.len() && !l.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// Lower-cased sentence without mask tokens, list markers or a leading
/// "please".
fn normal(s: &str) -> String {
    let l = strip_slots(s).trim().to_lowercase();
    let l = l.trim_start_matches(['-', '*', '•']).trim_start();
    for p in [
        "please ",
        "kindly ",
        "also, ",
        "also ",
        "and ",
        "then ",
        "finally, ",
        "first, ",
        "next, ",
    ] {
        if let Some(rest) = l.strip_prefix(p) {
            return rest.to_string();
        }
    }
    l.to_string()
}

/// Classify one sentence (masked text).
pub fn classify(s: &str) -> Part {
    if is_only_slots(s) {
        return Part::Input;
    }
    let l = normal(s);
    let bare = l.trim_end_matches(['.', '!', ' ', ',', ':']);
    if PLEASANTRIES.contains(&bare) || (bare.starts_with("thank") && word_count(s) <= 8) {
        return Part::Pleasantry;
    }
    if starts_any(&l, ROLE_LEADS) && !starts_any(&l, NOT_ROLE) {
        return Part::Role;
    }
    let mut l = l;
    let mut request = false;
    for p in REQUEST_LEADS {
        if let Some(rest) = l.strip_prefix(p) {
            l = rest
                .trim_start_matches(" is to")
                .trim_start_matches(" please")
                .trim()
                .to_string();
            request = true;
            break;
        }
    }
    let first = l
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .next()
        .unwrap_or("");
    let verb_start = TASK_VERBS.contains(&first);
    if starts_any(&l, FORMAT_LEADS) && !task_reply(&l) {
        return Part::Format;
    }
    if starts_any(&l, CONSTRAINT_LEADS) && !starts_any(&l, CONTEXT_LEADS) {
        // "Use bullet points" is about the answer's shape, not a limit.
        if FORMAT_WORDS.iter().any(|w| has_word(&l, w)) {
            return Part::Format;
        }
        return Part::Constraint;
    }
    if request || verb_start {
        return Part::Task;
    }
    if starts_any(&l, CONTEXT_LEADS) {
        return Part::Context;
    }
    if FORMAT_WORDS.iter().any(|w| has_word(&l, w)) && !l.ends_with('?') {
        return Part::Format;
    }
    if starts_any(&l, INPUT_LEADS) {
        return Part::Input;
    }
    Part::Task
}

/// "Respond to the customer" is a task, "Respond in JSON" a format.
fn task_reply(l: &str) -> bool {
    [
        "respond to",
        "reply to",
        "answer the",
        "answer this",
        "answer each",
        "answer every",
        "return to",
        "present a",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}

/// Classify a `Label:` by its words; `Some((part, generic))`.
fn classify_label(label: &str) -> Option<(Part, bool)> {
    let l = label.trim().to_lowercase();
    let l = l.as_str();
    let generic = |ws: &[&str]| ws.contains(&l);
    let pick = |part, words: &[&str], generic_words: &[&str]| {
        if words.iter().any(|w| has_word(l, w)) {
            Some((part, generic(generic_words)))
        } else {
            None
        }
    };
    pick(
        Part::Examples,
        &["example", "examples", "sample", "samples"],
        &["example", "examples"],
    )
    .or_else(|| {
        pick(
            Part::Role,
            &["role", "persona", "system"],
            &["role", "persona"],
        )
    })
    .or_else(|| {
        pick(
            Part::Format,
            &[
                "format",
                "output",
                "response format",
                "deliverable",
                "answer format",
            ],
            &["format", "output format", "output", "response format"],
        )
    })
    .or_else(|| {
        pick(
            Part::Constraint,
            &[
                "constraints",
                "constraint",
                "rules",
                "requirements",
                "guidelines",
                "restrictions",
                "limits",
                "note",
                "notes",
                "important",
                "tone",
                "style",
                "length",
                "don'ts",
                "do nots",
            ],
            &[
                "constraints",
                "rules",
                "requirements",
                "guidelines",
                "restrictions",
            ],
        )
    })
    .or_else(|| {
        pick(
            Part::Context,
            &["context", "background", "situation", "audience", "about"],
            &["context", "background"],
        )
    })
    .or_else(|| {
        pick(
            Part::Task,
            &[
                "task",
                "instructions",
                "instruction",
                "goal",
                "objective",
                "request",
                "question",
                "steps",
            ],
            &["task", "instructions", "instruction", "goal", "objective"],
        )
    })
    .or_else(|| {
        pick(
            Part::Input,
            &[
                "input",
                "inputs",
                "text",
                "document",
                "data",
                "email",
                "article",
                "code",
                "source",
                "content",
                "passage",
                "message",
                "transcript",
                "query",
                "review",
                "ticket",
                "notes",
                "snippet",
            ],
            &["input", "inputs", "data", "input data"],
        )
    })
}

/// `Label: rest` when the line opens with a short non-imperative label.
fn split_label(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let label = line[..colon].trim();
    if label.is_empty() || label.len() > 40 || label.contains(OPEN) {
        return None;
    }
    let words: Vec<&str> = label.split_whitespace().collect();
    if words.len() > 4
        || !label
            .chars()
            .all(|c| c.is_alphanumeric() || " -/()'&_".contains(c))
    {
        return None;
    }
    let first = words.first()?.to_lowercase();
    if TASK_VERBS.contains(&first.as_str()) && words.len() > 1 {
        return None;
    }
    let rest = &line[colon + 1..];
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None; // "http://…", "12:30"
    }
    Some((label, rest.trim()))
}

fn list_item(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for m in ["- ", "* ", "• ", "– "] {
        if let Some(rest) = t.strip_prefix(m) {
            return Some(rest.trim());
        }
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        let rest = &t[digits..];
        for m in [". ", ") "] {
            if let Some(r) = rest.strip_prefix(m) {
                return Some(r.trim());
            }
        }
    }
    None
}

fn ends_sentence(s: &str) -> bool {
    s.trim_end()
        .ends_with(['.', '!', '?', ':', ';', '。', '！', '？', CLOSE])
}

/// Parse `prompt` into segments, in order.
pub fn parse(prompt: &str) -> Vec<Segment> {
    let norm = prompt.replace("\r\n", "\n").replace('\r', "\n");
    let m = mask(&norm);
    let mut segs = Vec::new();
    for block in split_blocks(&m.text) {
        parse_block(&m, &block, &mut segs);
    }
    segs
}

/// Paragraphs: runs of lines separated by blank lines.
fn split_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                blocks.push(std::mem::take(&mut cur));
            }
        } else {
            if !cur.is_empty() {
                cur.push('\n');
            }
            cur.push_str(line.trim_end());
        }
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    blocks
}

fn parse_block(m: &Masked, block: &str, segs: &mut Vec<Segment>) {
    let lines: Vec<&str> = block.lines().collect();
    let Some(first) = lines.first() else { return };
    let header = first.trim();
    if lines.len() > 1 && header.ends_with(':') && header.len() <= 120 && !header.contains(OPEN) {
        let label = header.trim_end_matches(':').trim();
        let body_lines = &lines[1..];
        let all_items = body_lines.iter().all(|l| list_item(l).is_some());
        let body = m.unmask(&body_lines.join("\n"));
        let short = label.split_whitespace().count() <= 4
            && !TASK_VERBS.contains(
                &label
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_lowercase()
                    .as_str(),
            );
        match classify_label(label).filter(|_| short) {
            Some((part, true)) if all_items => {
                for l in body_lines {
                    let item = list_item(l).unwrap_or(l);
                    let mut s = Segment::new(part, m.unmask(item));
                    s.bullet = true;
                    segs.push(s);
                }
            }
            Some((part, generic)) => segs.push(Segment {
                part,
                label: Some(m.unmask(label)),
                generic_label: generic,
                body,
                bullet: false,
                lead_in: false,
            }),
            None => {
                let part = classify(label);
                if part == Part::Task && !all_items {
                    // "Summarize the following article:" + the article.
                    let mut task = Segment::new(Part::Task, format!("{}.", m.unmask(label)));
                    task.lead_in = true;
                    segs.push(task);
                    segs.push(Segment::new(Part::Input, body));
                } else {
                    let part = if part == Part::Context && !all_items {
                        Part::Input
                    } else {
                        part
                    };
                    segs.push(Segment {
                        part,
                        label: Some(m.unmask(label)),
                        generic_label: false,
                        body,
                        bullet: false,
                        lead_in: false,
                    });
                }
            }
        }
        return;
    }
    // Units: list items, label lines and (re-joined) wrapped prose lines.
    let mut units: Vec<(String, bool)> = Vec::new();
    for line in &lines {
        let t = line.trim();
        if let Some(item) = list_item(line) {
            units.push((item.to_string(), true));
        } else if let Some((prev, is_item)) = units.last_mut()
            && ((!*is_item && !ends_sentence(prev) && t.starts_with(char::is_lowercase))
                || (*is_item && line.starts_with(char::is_whitespace)))
            && split_label(t).is_none()
        {
            prev.push(' ');
            prev.push_str(t);
        } else {
            units.push((t.to_string(), false));
        }
    }
    // A bare generic label line inside a block ("Rules:" after a prose
    // line) heads the list items under it, as it would at the block start;
    // kept as prose it would be written twice once the layout adds its own.
    let mut pending: Option<Part> = None;
    // Lines under a bare "Examples:" label inside a block ("Input: a",
    // "Output: b") belong to the example; read one by one they would become
    // an input and a format.
    let mut example: Option<usize> = None;
    for (k, (unit, bullet)) in units.iter().enumerate() {
        let (unit, bullet) = (unit.as_str(), *bullet);
        let bare_label = (!bullet)
            .then(|| unit.strip_suffix(':'))
            .flatten()
            .and_then(|l| classify_label(l.trim()).map(|pg| (l.trim(), pg)));
        if let Some(idx) = example {
            if bare_label.is_none()
                && let Some(seg) = segs.get_mut(idx)
            {
                if !seg.body.is_empty() {
                    seg.body.push('\n');
                }
                seg.body.push_str(&m.unmask(unit));
                continue;
            }
            example = None;
        }
        if let Some((label, (Part::Examples, generic))) = bare_label
            && k + 1 < units.len()
        {
            segs.push(Segment {
                part: Part::Examples,
                label: Some(m.unmask(label)),
                generic_label: generic,
                body: String::new(),
                bullet: false,
                lead_in: false,
            });
            example = Some(segs.len() - 1);
            continue;
        }
        if bullet && let Some(part) = pending {
            let mut s = Segment::new(part, m.unmask(unit));
            s.bullet = true;
            segs.push(s);
            continue;
        }
        pending = None;
        let next_is_item = units.get(k + 1).is_some_and(|(_, b)| *b);
        if !bullet
            && next_is_item
            && let Some(label) = unit.strip_suffix(':')
            && let Some((part, true)) = classify_label(label.trim())
        {
            pending = Some(part);
            continue;
        }
        if let Some((label, rest)) = split_label(unit)
            && !rest.is_empty()
        {
            let (part, generic) = match classify_label(label) {
                Some(pg) => pg,
                None if is_only_slots(rest) => (Part::Input, false),
                None => (classify(rest), false),
            };
            segs.push(Segment {
                part,
                label: Some(m.unmask(label)),
                generic_label: generic,
                body: m.unmask(rest),
                bullet,
                lead_in: false,
            });
            continue;
        }
        for sentence in split_sentences(unit) {
            push_sentence(m, sentence, bullet, segs);
        }
    }
}

/// Push one sentence, splitting "Summarize this text: {{text}}" into the
/// task and its input.
fn push_sentence(m: &Masked, sentence: &str, bullet: bool, segs: &mut Vec<Segment>) {
    // A multi-line tagged section glued to a sentence ("</doc> Use it.")
    // is data of its own: moved as part of a sentence it would be bulleted
    // or wrapped mid-line and its tags would no longer start a line.
    if let Some(rest) = sentence.strip_prefix(OPEN)
        && let Some(end) = rest.find(CLOSE)
    {
        let slot = &sentence[..OPEN.len_utf8() + end + CLOSE.len_utf8()];
        let after = sentence[slot.len()..].trim();
        let section = m.unmask(slot);
        if !after.is_empty() && section.starts_with('<') && section.contains('\n') {
            segs.push(Segment::new(Part::Input, section));
            push_sentence(m, after, bullet, segs);
            return;
        }
    }
    let part = classify(sentence);
    if matches!(part, Part::Task | Part::Context)
        && let Some(colon) = sentence.rfind(':')
        && is_only_slots(&sentence[colon + 1..])
        && word_count(&sentence[..colon]) >= 2
    {
        let before = sentence[..colon].trim_end();
        let mut lead = Segment::new(part, format!("{}.", m.unmask(before)));
        lead.lead_in = true;
        segs.push(lead);
        let data = sentence[colon + 1..]
            .trim()
            .trim_end_matches(['.', ',', ';', '!']);
        segs.push(Segment::new(Part::Input, m.unmask(data)));
        return;
    }
    let mut s = Segment::new(part, m.unmask(sentence));
    s.bullet = bullet;
    segs.push(s);
}

/// Collapse runs of blank lines and trailing spaces; trim the whole.
pub fn normalize_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    let mut in_fence = false;
    for line in s.replace("\r\n", "\n").lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let l = if in_fence { line } else { line.trim_end() };
        if l.trim().is_empty() && !in_fence {
            blank += 1;
            if blank > 1 {
                continue;
            }
            out.push('\n');
            continue;
        }
        blank = 0;
        out.push_str(l);
        out.push('\n');
    }
    out.trim().to_string()
}

/// Uppercase the first letter (leaves everything else alone).
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_lowercase() => c.to_uppercase().chain(chars).collect(),
        _ => s.to_string(),
    }
}

/// Lowercase the first letter unless the first word looks like an acronym
/// or a name the writer capitalised on purpose ("I", "JSON").
pub fn decapitalize(s: &str) -> String {
    let first_word: String = s.chars().take_while(|c| c.is_alphanumeric()).collect();
    let keep = first_word == "I"
        || first_word.chars().filter(|c| c.is_uppercase()).count() > 1
        || first_word.starts_with("I'");
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_uppercase() && !keep => c.to_lowercase().chain(chars).collect(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &str) -> Vec<(Part, String)> {
        parse(p)
            .into_iter()
            .map(|s| (s.part, s.content()))
            .collect()
    }

    #[test]
    fn mask_roundtrip_keeps_everything() {
        let t =
            "Use {{a}}, `code {x}` and {\"k\": [1, {\"n\": 2}]} and \"quoted. text\" — ok {{ b }}!";
        let m = mask(t);
        assert!(!m.text.contains("{{"));
        assert_eq!(m.unmask(&m.text), t);
    }

    #[test]
    fn sentences_respect_abbreviations_and_masks() {
        let m = mask("Use e.g. apples. Say \"Hi. There.\" Then stop! Next {{x}}.");
        let s = split_sentences(&m.text);
        // A quote that ends a sentence hides its full stop; the split is
        // conservative there rather than cutting inside the quote.
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[0].ends_with("apples."));
    }

    #[test]
    fn classifies_the_common_parts() {
        let p = parts(
            "You are a helpful assistant. I run a small bakery. Summarize the following review: {{review}}. \
             Do not mention prices. Respond in JSON. Thanks!",
        );
        let kinds: Vec<Part> = p.iter().map(|x| x.0).collect();
        assert_eq!(
            kinds,
            vec![
                Part::Role,
                Part::Context,
                Part::Task,
                Part::Input,
                Part::Constraint,
                Part::Format,
                Part::Pleasantry
            ],
            "{p:?}"
        );
    }

    #[test]
    fn labels_and_header_blocks() {
        let p =
            parts("Context: we sell shoes.\n\nRules:\n- be brief\n- no emojis\n\nEmail: {{email}}");
        assert_eq!(p[0], (Part::Context, "We sell shoes.".to_string()));
        assert_eq!(p[1], (Part::Constraint, "be brief".to_string()));
        assert_eq!(p[3], (Part::Input, "Email: {{email}}".to_string()));
    }

    #[test]
    fn task_header_with_body_becomes_task_and_input() {
        let p = parts("Summarize the following article:\nLine one.\nLine two.");
        assert_eq!(p[0].0, Part::Task);
        assert_eq!(p[1], (Part::Input, "Line one.\nLine two.".to_string()));
    }
}
