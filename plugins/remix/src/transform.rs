//! Rule-based remixes, one per builtin style, plus an honest structural
//! cleanup for styles without a transform.
//!
//! Pure Rust with no WIT types, so every transform is unit-tested natively
//! and also pads an LLM answer that came back with too few variants.

use crate::text::{
    self, Masked, Part, Segment, TASK_VERBS, capitalize, classify, decapitalize, has_word,
    normalize_ws, terminate,
};
use ps_guest_util::{Placeholder, missing_placeholders, placeholders, restore_placeholders};

/// The remixed prompts and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remix {
    /// Best first; never empty strings; every input placeholder kept.
    pub variants: Vec<String>,
    /// What changed and why, one sentence each.
    pub changes: Vec<String>,
}

/// Styles with a dedicated rule-based transform (the builtin seed set).
pub const BUILTIN_STYLES: &[&str] = &[
    "structured-xml",
    "concise",
    "chain-of-thought",
    "few-shot",
    "expert-role",
    "markdown-sections",
    "json-output",
    "step-by-step",
    "constraints-first",
    "friendly-tone",
];

/// True when `style` has a dedicated rule-based transform.
pub fn has_transform(style: &str) -> bool {
    BUILTIN_STYLES.contains(&style)
}

/// One candidate variant and, for alternates, why it differs.
struct Candidate {
    text: String,
    note: String,
}

fn cand(text: String, note: &str) -> Candidate {
    Candidate {
        text,
        note: note.to_string(),
    }
}

/// A transform's result: candidates best first, and the changes made by the
/// first one.
struct Draft {
    candidates: Vec<Candidate>,
    changes: Vec<String>,
}

/// Remix `prompt` into `style` without an LLM: exactly `n` (clamped to
/// 1..=5) distinct, non-empty variants that keep every placeholder.
pub fn remix(prompt: &str, style: &str, instructions: Option<&str>, n: usize) -> Remix {
    let n = n.clamp(1, 5);
    let extra = instructions.map(str::trim).filter(|s| !s.is_empty());
    let p = Prompt::new(prompt, extra);
    let draft = match style {
        "structured-xml" => structured_xml(&p),
        "concise" => concise(&p),
        "chain-of-thought" => chain_of_thought(&p),
        "few-shot" => few_shot(&p),
        "expert-role" => expert_role(&p),
        "markdown-sections" => markdown_sections(&p),
        "json-output" => json_output(&p),
        "step-by-step" => step_by_step(&p),
        "constraints-first" => constraints_first(&p),
        "friendly-tone" => friendly_tone(&p),
        _ => generic(&p, style),
    };
    let mut changes = draft.changes;
    if let Some(e) = extra {
        changes.push(format!(
            "Added your extra instruction (\u{201C}{}\u{201D}) as a requirement in every variant.",
            clip(e, 100)
        ));
    }
    let fallback = if has_transform(style) {
        generic(&p, style).candidates
    } else {
        Vec::new()
    };
    let (variants, notes, restored) = pick(prompt, draft.candidates.into_iter().chain(fallback), n);
    for (k, note) in notes.into_iter().enumerate().skip(1) {
        changes.push(format!("Variant {} {}", k + 1, note));
    }
    if restored {
        changes.push(
            "Re-attached template variables the rewrite had lost, so every placeholder of the input is still present."
                .to_string(),
        );
    }
    Remix { variants, changes }
}

/// Up to `n` distinct, non-empty, placeholder-complete variants; pads with
/// marked copies only if the candidates ran out (a one-word prompt).
fn pick(
    original: &str,
    candidates: impl Iterator<Item = Candidate>,
    n: usize,
) -> (Vec<String>, Vec<String>, bool) {
    let mut variants: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    let mut restored = false;
    for c in candidates {
        if variants.len() == n {
            break;
        }
        let mut t = normalize_ws(&c.text);
        if t.is_empty() {
            continue;
        }
        if !missing_placeholders(original, &t).is_empty() {
            t = restore_placeholders(original, &t);
            restored = true;
        }
        if !variants.contains(&t) {
            variants.push(t);
            notes.push(c.note);
        }
    }
    let base = variants
        .first()
        .cloned()
        .unwrap_or_else(|| normalize_ws(original));
    let base = if base.is_empty() {
        original.to_string()
    } else {
        base
    };
    let mut k = variants.len();
    while variants.len() < n {
        k += 1;
        variants.push(format!(
            "{base}\n\n(Alternate {k}: adjust the wording above to taste.)"
        ));
        notes.push("is a copy of the first; the prompt was too short to produce more distinct rule-based variants.".into());
    }
    (variants, notes, restored)
}

fn clip(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{}\u{2026}", cut.trim_end())
    }
}

/// The parsed prompt every transform works from.
struct Prompt<'a> {
    clean: String,
    segs: Vec<Segment>,
    extra: Option<&'a str>,
    vars: Vec<Placeholder>,
    /// Polite requests that were turned into direct instructions.
    directed: Vec<String>,
}

impl<'a> Prompt<'a> {
    fn new(prompt: &str, extra: Option<&'a str>) -> Self {
        let clean = normalize_ws(prompt);
        let mut segs = text::parse(&clean);
        let mut directed = Vec::new();
        for s in segs
            .iter_mut()
            .filter(|s| matches!(s.part, Part::Task | Part::Constraint) && s.label.is_none())
        {
            if let Some(d) = direct(&s.body) {
                directed.push(std::mem::replace(&mut s.body, d));
            }
        }
        let vars = placeholders(&clean);
        Prompt {
            clean,
            segs,
            extra,
            vars,
            directed,
        }
    }

    fn of(&self, part: Part) -> Vec<&Segment> {
        self.segs.iter().filter(|s| s.part == part).collect()
    }

    fn has(&self, part: Part) -> bool {
        self.segs.iter().any(|s| s.part == part)
    }

    /// The part's segments as flowing text (lists and blocks on own lines).
    fn prose(&self, part: Part) -> String {
        join(&self.of(part), false)
    }

    /// The segments not in `skip`, in prompt order, labels kept (for layouts
    /// without section headings).
    fn flat(&self, skip: &[Part]) -> String {
        join(
            &self
                .segs
                .iter()
                .filter(|s| !skip.contains(&s.part))
                .collect::<Vec<_>>(),
            true,
        )
    }

    /// Constraint texts, one each, the extra instruction last.
    fn rules(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .of(Part::Constraint)
            .iter()
            .map(|s| s.content())
            .collect();
        if let Some(e) = self.extra {
            v.push(e.to_string());
        }
        v
    }

    fn pleasantries(&self) -> Vec<String> {
        self.of(Part::Pleasantry)
            .iter()
            .map(|s| s.content())
            .collect()
    }

    /// Distinct literals, e.g. `{{doc}}, {{audience}}`.
    fn var_list(&self) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for v in &self.vars {
            if !seen.contains(&v.literal.as_str()) {
                seen.push(&v.literal);
            }
        }
        seen.join(", ")
    }

    fn var_names(&self) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for v in &self.vars {
            if !seen.contains(&v.name) {
                seen.push(v.name.clone());
            }
        }
        seen
    }

    /// The cleaned prompt with the extra instruction appended.
    fn base_with_extra(&self) -> String {
        with_extra(&self.clean, self.extra)
    }

    /// The cleaned prompt without the segments of `parts`.
    fn without(&self, parts: &[Part]) -> String {
        let mut t = self.clean.clone();
        for s in self.segs.iter().filter(|s| parts.contains(&s.part)) {
            t = remove_segment(&t, s);
        }
        normalize_ws(&t)
    }

    /// Lower-cased prompt text for keyword tests.
    fn lower(&self) -> String {
        self.clean.to_lowercase()
    }
}

/// Openers that wrap an instruction in a request.
const REQUEST_WRAPPERS: &[&str] = &[
    "could you please ",
    "can you please ",
    "would you please ",
    "could you ",
    "can you ",
    "would you ",
    "i want you to ",
    "i would like you to ",
    "i'd like you to ",
    "i need you to ",
    "please ",
    "kindly ",
];

/// "Could you please summarize X?" → "Summarize X." for sectioned layouts,
/// where a request reads oddly under a "Task" heading; `None` if unchanged.
fn direct(body: &str) -> Option<String> {
    let lead = REQUEST_WRAPPERS.iter().find(|w| {
        body.len() > w.len() && body.as_bytes()[..w.len()].eq_ignore_ascii_case(w.as_bytes())
    })?;
    let rest = body[lead.len()..].trim_start();
    if rest.is_empty() {
        return None;
    }
    let mut d = capitalize(rest);
    if d.ends_with('?') {
        d.pop();
        d.push('.');
    }
    Some(d)
}

fn with_extra(base: &str, extra: Option<&str>) -> String {
    match extra {
        Some(e) => format!("{base}\n\nAdditional requirement: {}", terminate(e)),
        None => base.to_string(),
    }
}

/// Remove one segment's text from `t` (first occurrence), tidying the gap.
fn remove_segment(t: &str, s: &Segment) -> String {
    let mut options = Vec::new();
    if let Some(l) = &s.label {
        options.push(format!("{l}:\n{}", s.body));
        options.push(format!("{l}: {}", s.body));
        options.push(format!("{l}:{}", s.body));
    }
    options.push(s.body.clone());
    for o in options {
        if let Some(pos) = t.find(&o) {
            let mut out = String::with_capacity(t.len());
            out.push_str(t[..pos].trim_end_matches([' ', '\t']));
            let rest = t[pos + o.len()..].trim_start_matches([' ', '\t']);
            if !out.is_empty()
                && !out.ends_with('\n')
                && !rest.is_empty()
                && !rest.starts_with('\n')
            {
                out.push(' ');
            }
            out.push_str(rest);
            // A list item whose text is gone leaves a bare marker behind.
            return out
                .lines()
                .filter(|l| !matches!(l.trim(), "-" | "*" | "\u{2022}"))
                .collect::<Vec<_>>()
                .join("\n");
        }
    }
    t.to_string()
}

/// Flowing text of segments: prose joined by spaces; list items, labelled
/// lines and multi-line blocks on their own lines. `labels` keeps generic
/// labels ("Context:") that a section heading would otherwise replace.
fn join(segs: &[&Segment], labels: bool) -> String {
    let mut out = String::new();
    let mut prev_inline = false;
    let mut prev_lead_in = false;
    for s in segs {
        let c = if labels { s.text() } else { s.content() };
        let c = if s.part == Part::Input {
            c
        } else {
            terminate(&c)
        };
        if prev_lead_in && s.part == Part::Input && out.ends_with('.') {
            // Re-join "Summarize this text." + "{{text}}" as written.
            out.pop();
            out.push(':');
            out.push(if c.contains('\n') { '\n' } else { ' ' });
            out.push_str(&c);
            prev_inline = !c.contains('\n');
            prev_lead_in = false;
            continue;
        }
        let own_line = s.bullet || c.contains('\n') || (labels && s.label.is_some());
        if !out.is_empty() {
            out.push(if prev_inline && !own_line { ' ' } else { '\n' });
        }
        if s.bullet {
            out.push_str("- ");
        }
        out.push_str(&c);
        prev_inline = !own_line;
        prev_lead_in = s.lead_in;
    }
    out
}

fn bullets(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("- {}", terminate(&capitalize(i))))
        .collect::<Vec<_>>()
        .join("\n")
}

fn numbered(items: &[String]) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {}", i + 1, terminate(&capitalize(s))))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Join non-empty blocks with blank lines.
fn blocks(parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn xml(tag: &str, body: &str) -> String {
    if body.trim().is_empty() {
        String::new()
    } else {
        format!("<{tag}>\n{}\n</{tag}>", body.trim())
    }
}

/// A safe XML tag name for a variable (`user-input` → `user_input`).
fn tag_name(name: &str) -> String {
    let mut t: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !t.starts_with(|c: char| c.is_ascii_alphabetic()) {
        t.insert_str(0, "var_");
    }
    t
}

/// Input segments for an XML prompt: a bare placeholder gets its own tag
/// named after the variable, so several inputs stay distinguishable.
fn xml_inputs(p: &Prompt, per_var: bool) -> String {
    let mut out = Vec::new();
    for s in p.of(Part::Input) {
        let body = s.body.trim();
        let single = placeholders(body);
        if per_var && single.len() == 1 && single[0].literal == body {
            out.push(xml(&tag_name(&single[0].name), body));
        } else {
            out.push(s.content());
        }
    }
    out.join("\n")
}

fn part_names(p: &Prompt) -> String {
    let mut names = Vec::new();
    for (part, name) in [
        (Part::Role, "role"),
        (Part::Context, "context"),
        (Part::Task, "task"),
        (Part::Input, "input"),
        (Part::Examples, "examples"),
        (Part::Constraint, "constraints"),
        (Part::Format, "output format"),
    ] {
        if p.has(part) || (part == Part::Constraint && p.extra.is_some()) {
            names.push(name);
        }
    }
    names.join(", ")
}

fn quoted_list(items: &[String], max: usize) -> String {
    items
        .iter()
        .take(max)
        .map(|s| format!("\u{201C}{}\u{201D}", clip(s, 40)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Change lines every sectioning transform shares.
fn common_changes(p: &Prompt, changes: &mut Vec<String>) {
    if let Some(d) = p.directed.first() {
        changes.push(format!(
            "Turned polite requests such as \u{201C}{}\u{201D} into direct instructions, which read unambiguously under a section heading.",
            clip(d, 50)
        ));
    }
    let pl = p.pleasantries();
    if !pl.is_empty() {
        changes.push(format!(
            "Dropped pleasantries ({}) because they give the model no instruction.",
            quoted_list(&pl, 3)
        ));
    }
}

// ---------------------------------------------------------------- structured-xml

fn structured_xml(p: &Prompt) -> Draft {
    let role = p.prose(Part::Role);
    let context = p.prose(Part::Context);
    let task = p.prose(Part::Task);
    let examples = p.prose(Part::Examples);
    let format = p.prose(Part::Format);
    let rules = p.rules();
    let rule_list = bullets(&rules);
    let input = xml_inputs(p, true);
    let plain_input = xml_inputs(p, false);

    let v1 = blocks(&[
        role.clone(),
        xml("context", &context),
        xml("input", &input),
        xml("examples", &examples),
        xml("instructions", &task),
        xml("constraints", &rule_list),
        xml("output_format", &format),
    ]);
    let v2 = blocks(&[
        xml("role", &role),
        xml("instructions", &task),
        xml("constraints", &rule_list),
        xml("output_format", &format),
        xml("context", &context),
        xml("examples", &examples),
        xml("input", &input),
    ]);
    let docs: Vec<String> = p
        .of(Part::Input)
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "<document index=\"{}\">\n{}\n</document>",
                i + 1,
                s.content()
            )
        })
        .collect();
    let v3 = blocks(&[
        xml("persona", &role),
        xml("background", &context),
        xml("documents", &docs.join("\n")),
        xml("task", &task),
        xml("rules", &rule_list),
        xml("response_format", &format),
    ]);
    let answer_line = if p.has(Part::Input) {
        "Base your answer only on the material inside the tags above, and write it inside <answer> tags."
    } else {
        "Write your final answer inside <answer> tags."
    };
    let v4 = blocks(&[v1.clone(), answer_line.to_string()]);
    let mut steps: Vec<String> = p.of(Part::Task).iter().map(|s| s.content()).collect();
    steps.extend(rules.iter().cloned());
    let v5 = blocks(&[
        xml("role", &role),
        xml("context", &context),
        xml("input", &plain_input),
        xml("examples", &examples),
        xml("instructions", &numbered(&steps)),
        xml("output_format", &format),
    ]);

    let mut changes = vec![format!(
        "Split the prompt into its parts ({}) and wrapped each in its own XML tag so the model can tell instructions apart from data.",
        part_names(p)
    )];
    if p.has(Part::Input) {
        let vars = p.var_list();
        let what = if vars.is_empty() {
            String::new()
        } else {
            format!(" ({vars})")
        };
        changes.push(format!(
            "Put the input data{what} in <input> ahead of the instructions, because models answer more reliably when long material comes before the question."
        ));
    }
    if p.has(Part::Role) {
        changes.push("Kept the persona as the opening line, outside the tags, so it frames everything after it.".into());
    }
    if !rules.is_empty() {
        changes.push("Collected the rules into a bulleted <constraints> list so none of them is buried in prose.".into());
    }
    if !p.has(Part::Format) {
        changes.push(
            "No output format was stated, so none was invented; add an <output_format> section to pin down the answer's shape."
                .into(),
        );
    }
    common_changes(p, &mut changes);
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "puts the instructions, constraints and format first and the data last, for readers who scan for the task.",
            ),
            cand(
                v3,
                "uses alternative tag names (<persona>, <background>, <documents>, <task>, <rules>) and indexes each input document.",
            ),
            cand(
                v4,
                "adds a closing line that keeps the answer grounded in the tagged material and inside <answer> tags.",
            ),
            cand(
                v5,
                "merges the task and the constraints into one numbered <instructions> list.",
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- concise

/// Filler phrases and their shorter replacements, longest first so a longer
/// phrase wins over its own prefix.
const FILLERS: &[(&str, &str)] = &[
    ("i was wondering if you could ", ""),
    ("it would be great if you could ", ""),
    ("it would be nice if you could ", ""),
    ("i would really appreciate it if you could ", ""),
    ("i would appreciate it if you could ", ""),
    ("as an ai language model, ", ""),
    ("could you please ", ""),
    ("can you please ", ""),
    ("would you please ", ""),
    ("i would like you to ", ""),
    ("i'd like you to ", ""),
    ("i want you to ", ""),
    ("i need you to ", ""),
    ("it is important that you ", ""),
    ("it is important to ", ""),
    ("it's important to ", ""),
    ("it is essential that you ", ""),
    ("make sure that you ", ""),
    ("make sure to ", ""),
    ("be sure to ", ""),
    ("feel free to ", ""),
    ("if you don't mind", ""),
    ("if at all possible", ""),
    ("if possible", ""),
    ("if you can", ""),
    ("could you ", ""),
    ("can you ", ""),
    ("would you ", ""),
    ("due to the fact that", "because"),
    ("at this point in time", "now"),
    ("in the event that", "if"),
    ("for the purpose of", "for"),
    ("in order to", "to"),
    ("a large number of", "many"),
    ("the majority of", "most"),
    ("with regard to", "about"),
    ("with respect to", "about"),
    ("in terms of", "in"),
    ("each and every", "every"),
    ("first and foremost", "first"),
    ("in a clear and concise manner", "clearly"),
    ("in a concise manner", "concisely"),
    ("in a clear manner", "clearly"),
    (", please", ""),
    ("please, ", ""),
    ("please ", ""),
    ("kindly ", ""),
    ("basically ", ""),
    ("actually ", ""),
    ("really ", ""),
    ("very ", ""),
    ("just ", ""),
    ("simply ", ""),
    ("quite ", ""),
    ("somewhat ", ""),
    ("perhaps ", ""),
    ("maybe ", ""),
    ("sort of ", ""),
    ("kind of ", ""),
    ("i think ", ""),
    ("note that ", ""),
    ("try to ", ""),
];

/// Request openers whose removal turns a question into a command.
const REQUEST_OPENERS: &[&str] = &["could you", "can you", "would you", "i was wondering"];

/// Replace every whole-word, case-insensitive occurrence of the fillers.
fn strip_fillers(s: &str, removed: &mut Vec<String>) -> String {
    // Removing one filler can expose another ("it is really important that
    // you" → "it is important that you"), so repeat until nothing changes.
    let mut t = s.to_string();
    for _ in 0..3 {
        let next = strip_fillers_once(&t, s, removed);
        if next == t {
            break;
        }
        t = next;
    }
    t
}

fn strip_fillers_once(cur: &str, s: &str, removed: &mut Vec<String>) -> String {
    let mut t = cur.to_string();
    let lower_start = s.trim_start().to_ascii_lowercase();
    let was_request = REQUEST_OPENERS.iter().any(|r| lower_start.starts_with(r));
    for (pat, rep) in FILLERS {
        let pb = pat.as_bytes();
        let mut i = 0;
        while i + pb.len() <= t.len() {
            let tb = t.as_bytes();
            let boundary_before =
                i == 0 || !(tb[i - 1].is_ascii_alphanumeric() || tb[i - 1] == b'\'');
            let ends_alpha = pat.ends_with(|c: char| c.is_ascii_alphanumeric());
            let boundary_after = !ends_alpha
                || tb
                    .get(i + pb.len())
                    .is_none_or(|b| !b.is_ascii_alphanumeric());
            if tb[i..i + pb.len()].eq_ignore_ascii_case(pb) && boundary_before && boundary_after {
                t.replace_range(i..i + pb.len(), rep);
                let name = pat.trim_matches([' ', ',']).to_string();
                if !removed.contains(&name) {
                    removed.push(name);
                }
                i += rep.len();
            } else {
                i += 1;
                while i < t.len() && !t.is_char_boundary(i) {
                    i += 1;
                }
            }
        }
    }
    let mut t = t
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    for (a, b) in [("!!", "!"), ("??", "?")] {
        if t.contains(a) {
            let name = format!("repeated \"{b}\"");
            if !removed.contains(&name) {
                removed.push(name);
            }
        }
        while t.contains(a) {
            t = t.replace(a, b);
        }
    }
    for (a, b) in [
        (" ,", ","),
        (" .", "."),
        (",,", ","),
        (" ?", "?"),
        (" !", "!"),
        (" ;", ";"),
        (" :", ":"),
    ] {
        while t.contains(a) {
            t = t.replace(a, b);
        }
    }
    let mut t = t.trim_start_matches([',', ' ']).trim().to_string();
    if was_request && t.ends_with('?') {
        t.pop();
        t.push('.');
    }
    if s.trim_start().starts_with(char::is_uppercase) {
        t = capitalize(&t);
    }
    t
}

/// Apply `f` to every sentence of `text` (masked), keeping line structure,
/// list markers and labels; `None` drops the sentence.
fn map_sentences(text: &str, mut f: impl FnMut(&Masked, &str) -> Option<String>) -> String {
    let m = text::mask(text);
    let mut out: Vec<String> = Vec::new();
    for line in m.text.lines() {
        if line.trim().is_empty() {
            out.push(String::new());
            continue;
        }
        let body_start = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        let mut prefix_len = body_start;
        for mk in ["- ", "* ", "\u{2022} "] {
            if trimmed.starts_with(mk) {
                prefix_len += mk.len();
            }
        }
        let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
        if prefix_len == body_start && digits > 0 && trimmed[digits..].starts_with(['.', ')']) {
            prefix_len += digits + 1;
        }
        let (prefix, body) = line.split_at(prefix_len);
        let kept: Vec<String> = text::split_sentences(body)
            .into_iter()
            .filter_map(|s| f(&m, s))
            .collect();
        if kept.is_empty() {
            continue;
        }
        out.push(format!("{prefix}{}", kept.join(" ")));
    }
    m.unmask(&normalize_ws(&out.join("\n")))
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn concise(p: &Prompt) -> Draft {
    let mut removed = Vec::new();
    let mut dropped = Vec::new();
    let mut dups = 0;
    let mut seen: Vec<String> = Vec::new();
    let v1 = map_sentences(&p.clean, |m, s| {
        if classify(s) == Part::Pleasantry {
            dropped.push(m.unmask(s));
            return None;
        }
        let t = strip_fillers(s, &mut removed);
        let key: String = m
            .unmask(&t)
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        if key.is_empty() {
            return None;
        }
        if seen.contains(&key) {
            dups += 1;
            return None;
        }
        seen.push(key);
        Some(t)
    });
    let v1 = if v1.trim().is_empty() {
        p.clean.clone()
    } else {
        v1
    };
    let short = Prompt::new(&v1, None);
    let mut labelled = Vec::new();
    for (part, label) in [
        (Part::Role, "Role"),
        (Part::Context, "Context"),
        (Part::Task, "Task"),
        (Part::Input, "Input"),
        (Part::Examples, "Examples"),
        (Part::Constraint, "Rules"),
        (Part::Format, "Format"),
    ] {
        let body = short.prose(part);
        if !body.is_empty() {
            let sep = if body.contains('\n') { "\n" } else { " " };
            labelled.push(format!("{label}:{sep}{body}"));
        }
    }
    let v2 = labelled.join("\n");
    let v3 = short
        .segs
        .iter()
        .map(|s| {
            if s.content().contains('\n') {
                format!("\n{}\n", s.content())
            } else {
                terminate(&s.content())
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let v4 = short
        .segs
        .iter()
        .map(|s| {
            if s.content().contains('\n') {
                s.content()
            } else {
                format!("- {}", terminate(&s.content()))
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let v5 = format!("{v1}\n\nBe brief: answer in as few words as the task allows.");
    let v1 = with_extra(&v1, p.extra);
    let v2 = with_extra(&v2, p.extra);
    let v3 = with_extra(&v3, p.extra);
    let v4 = with_extra(&v4, p.extra);
    let v5 = with_extra(&v5, p.extra);

    let mut changes = Vec::new();
    if !removed.is_empty() {
        let list: Vec<String> = removed
            .iter()
            .take(5)
            .map(|r| format!("\u{201C}{r}\u{201D}"))
            .collect();
        changes.push(format!(
            "Removed filler and hedging phrases ({}) that add length without adding instructions.",
            list.join(", ")
        ));
    }
    if dups > 0 {
        changes.push(format!("Removed {dups} repeated sentence(s); saying a thing twice does not make the model follow it better."));
    }
    if !dropped.is_empty() {
        changes.push(format!(
            "Dropped pleasantries ({}) because they give the model no instruction.",
            quoted_list(&dropped, 3)
        ));
    }
    let (before, after) = (words(&p.clean), words(&v1));
    if removed.is_empty() && dups == 0 && dropped.is_empty() {
        changes.push("Found no filler, hedging or repetition to remove, so the first variant only normalises whitespace; the prompt was already concise.".into());
    } else {
        changes.push(format!("Cut the prompt from {before} to {after} words without dropping an instruction or a variable."));
    }
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "compresses the prompt further into one labelled line per part (Task, Input, Rules, Format).",
            ),
            cand(v3, "folds the prompt into a single paragraph."),
            cand(v4, "turns every sentence into a terse bullet."),
            cand(v5, "also asks the model to keep its answer brief."),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- chain-of-thought

fn kind_of_work(l: &str) -> &'static str {
    const MATH: &[&str] = &[
        "calculate",
        "compute",
        "how many",
        "how much",
        "solve",
        "equation",
        "probability",
        "percent",
        "percentage",
        "total",
        "sum",
        "math",
        "average",
        "ratio",
        "interest",
        "price",
        "cost",
    ];
    const CODE: &[&str] = &[
        "code",
        "function",
        "bug",
        "program",
        "script",
        "stack trace",
        "compile",
        "sql",
        "query",
    ];
    if MATH.iter().any(|w| has_word(l, w)) {
        "math"
    } else if CODE.iter().any(|w| has_word(l, w)) {
        "code"
    } else {
        "general"
    }
}

fn chain_of_thought(p: &Prompt) -> Draft {
    let base = p.base_with_extra();
    let kind = kind_of_work(&p.lower());
    let facts = if p.has(Part::Input) {
        "Quote or list the facts from the input that matter, and note any assumption you must make."
    } else {
        "List the facts, definitions and assumptions that matter."
    };
    let work = match kind {
        "math" => {
            "Work through the problem one step at a time and show every intermediate calculation with its units."
        }
        "code" => {
            "Trace what the code does step by step, naming the exact line or value each conclusion rests on."
        }
        _ => "Work through the problem one step at a time, giving the reason for each step.",
    };
    let answer_fmt = if p.has(Part::Format) {
        ", following the output format above"
    } else {
        ""
    };
    let v1 = format!(
        "{base}\n\nBefore you answer, think it through inside <thinking> tags:\n\
         1. Restate the task in one sentence and what a complete answer must contain.\n\
         2. {facts}\n3. {work}\n4. Check your conclusion against every requirement above and fix anything that does not hold.\n\
         Then write only the final answer inside <answer> tags{answer_fmt}."
    );
    let v2 = format!(
        "{base}\n\nThink step by step. Write out your reasoning first, then give the final answer on its own line starting with \"Answer:\"{answer_fmt}."
    );
    let v3 = format!(
        "{base}\n\nStructure your response in three parts:\n\
         <plan>The steps you will take, as a short numbered list.</plan>\n\
         <thinking>Carry out each step of the plan. {work}</thinking>\n\
         <answer>Only the final answer{answer_fmt}.</answer>"
    );
    let v4 = format!(
        "{base}\n\nInside <thinking> tags, consider at least two different ways to approach this, work each one through, \
         and compare where they disagree. Choose the most reliable result and explain in one sentence why. \
         Then give the final answer inside <answer> tags{answer_fmt}."
    );
    let v5 = format!(
        "{base}\n\nUse a <scratchpad> for your working notes: {} {} \
         The reader will only see what is inside <answer>, so put everything they need there{answer_fmt}.",
        decapitalize(facts),
        work
    );
    let mut changes = vec![
        "Added a reasoning scaffold that has the model think step by step inside <thinking> tags before answering, which improves accuracy on multi-step tasks.".to_string(),
        "Asked for the final answer in separate <answer> tags so it can be read or parsed without the reasoning.".to_string(),
    ];
    match kind {
        "math" => changes.push("Tailored the reasoning step to calculation work: every intermediate result must be shown.".into()),
        "code" => changes.push("Tailored the reasoning step to code: each conclusion must cite the line or value it rests on.".into()),
        _ => {}
    }
    if p.has(Part::Format) {
        changes.push("Tied the answer section to the output format you already specified, so the scaffold does not override it.".into());
    }
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "uses a lighter \"think step by step\" cue with a plain \"Answer:\" line instead of tags.",
            ),
            cand(
                v3,
                "splits the response into <plan>, <thinking> and <answer> sections.",
            ),
            cand(
                v4,
                "asks the model to try two approaches and compare them before answering (self-consistency).",
            ),
            cand(
                v5,
                "keeps the reasoning in a private <scratchpad> and only the <answer> for the reader.",
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- few-shot

fn example_input(p: &Prompt, i: usize, what: &str) -> String {
    let names = p.var_names();
    if names.is_empty() {
        format!("[{what} example input {i}]")
    } else {
        names
            .iter()
            .map(|n| format!("{n}: [{what} example value for {n}]"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn example_output(p: &Prompt, i: usize) -> String {
    if p.has(Part::Format) {
        format!("[the ideal output for example {i}, in exactly the required format]")
    } else {
        format!("[the ideal output for example {i}]")
    }
}

const KINDS: [&str; 3] = ["a typical", "a tricky or edge-case", "a borderline"];

fn few_shot(p: &Prompt) -> Draft {
    let xml_example = |i: usize| {
        format!(
            "<example>\n<input>\n{}\n</input>\n<output>\n{}\n</output>\n</example>",
            example_input(p, i, KINDS[(i - 1) % 3]),
            example_output(p, i)
        )
    };
    let intro = "Here are examples of inputs and ideal outputs. Match their format, length and tone; do not copy their content.";
    let todo = "(Replace each bracketed placeholder with a real, varied example before using this prompt.)";

    // Variant 1: examples after the instructions, before the real input.
    let mut v1_parts = vec![p.flat(&[Part::Input, Part::Pleasantry, Part::Constraint])];
    let rules = p.rules();
    if !rules.is_empty() {
        v1_parts.push(format!("Rules:\n{}", bullets(&rules)));
    }
    v1_parts.push(format!(
        "{intro}\n{todo}\n\n<examples>\n{}\n{}\n</examples>",
        xml_example(1),
        xml_example(2)
    ));
    if p.has(Part::Input) {
        v1_parts.push(format!(
            "Now do the same for this input:\n{}",
            join(&p.of(Part::Input), true)
        ));
    }
    let v1 = blocks(&v1_parts);

    let base = p.base_with_extra();
    let md: Vec<String> = (1..=3)
        .map(|i| {
            format!(
                "### Example {i} ({} case)\n**Input:**\n{}\n\n**Output:**\n{}",
                KINDS[i - 1].trim_start_matches("a "),
                example_input(p, i, KINDS[i - 1]),
                example_output(p, i)
            )
        })
        .collect();
    let v2 = format!("{base}\n\n## Examples\n{todo}\n\n{}", md.join("\n\n"));
    let plain: Vec<String> = (1..=3)
        .map(|i| {
            format!(
                "Input:\n{}\nOutput:\n{}",
                example_input(p, i, KINDS[i - 1]),
                example_output(p, i)
            )
        })
        .collect();
    let v3 = format!("{intro}\n{todo}\n\n{}\n\n---\n\n{base}", plain.join("\n\n"));
    let v4 = format!(
        "{base}\n\nHere is one example of an ideal answer. {todo}\n\n<example>\n<input>\n{}\n</input>\n<output>\n{}\n</output>\n<why>[one sentence on what makes this output ideal]</why>\n</example>",
        example_input(p, 1, KINDS[0]),
        example_output(p, 1)
    );
    let v5 = format!(
        "{base}\n\nA good and a bad answer, for contrast. {todo}\n\n<good_example>\n<input>\n{}\n</input>\n<output>\n{}\n</output>\n</good_example>\n<bad_example>\n<input>\n{}\n</input>\n<output>\n[a plausible but wrong output]\n</output>\n<why_bad>[what the bad output gets wrong]</why_bad>\n</bad_example>",
        example_input(p, 1, KINDS[0]),
        example_output(p, 1),
        example_input(p, 1, KINDS[0]),
    );
    let mut changes = vec![
        "Added an examples section, because a couple of worked input/output pairs pin down format and tone better than any description.".to_string(),
        "The example slots are bracketed placeholders to fill with real cases; rule-based remixing cannot invent faithful examples (use_llm: true can).".to_string(),
    ];
    if !p.var_names().is_empty() {
        changes.push(format!(
            "Each example input mirrors the prompt's variables ({}) so the pairs line up with the real input.",
            p.var_names().join(", ")
        ));
    }
    if p.has(Part::Input) {
        changes.push("Placed the examples before the real input so the model sees the pattern first and then applies it.".into());
    }
    if p.has(Part::Examples) {
        changes.push("The prompt already had examples; the scaffold adds room for a more varied (edge-case) pair.".into());
    }
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "keeps the prompt as written and appends three Markdown examples: typical, edge case and borderline.",
            ),
            cand(
                v3,
                "puts three plain Input/Output examples before the instructions.",
            ),
            cand(
                v4,
                "is one-shot: a single example plus a line on why it is ideal.",
            ),
            cand(
                v5,
                "contrasts a good and a bad example so the model learns what to avoid.",
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- expert-role

/// Domain keywords → (persona, what that expert cares about).
const DOMAINS: &[(&[&str], &str, &str)] = &[
    (
        &[
            "code",
            "function",
            "bug",
            "debug",
            "refactor",
            "python",
            "rust",
            "javascript",
            "typescript",
            "java",
            "api",
            "compile",
            "program",
            "script",
            "repository",
            "unit test",
            "algorithm",
            "database",
            "sql",
            "backend",
            "frontend",
        ],
        "a senior software engineer",
        "who writes correct, idiomatic, well-tested code and explains trade-offs plainly",
    ),
    (
        &[
            "security",
            "vulnerability",
            "vulnerabilities",
            "threat",
            "attack",
            "exploit",
            "malware",
            "encryption",
            "authentication",
            "phishing",
            "pentest",
            "cve",
        ],
        "a senior security engineer",
        "who thinks like an attacker and recommends concrete, prioritised mitigations",
    ),
    (
        &[
            "data",
            "dataset",
            "csv",
            "statistics",
            "statistical",
            "metric",
            "metrics",
            "chart",
            "regression",
            "spreadsheet",
            "analytics",
            "trend",
            "trends",
            "kpi",
        ],
        "an experienced data analyst",
        "who checks assumptions, quantifies uncertainty and reports numbers precisely",
    ),
    (
        &[
            "contract",
            "legal",
            "clause",
            "clauses",
            "law",
            "lawyer",
            "compliance",
            "gdpr",
            "liability",
            "agreement",
            "regulation",
            "regulatory",
            "terms of service",
        ],
        "an experienced legal analyst",
        "who reads documents closely, cites the exact clause and flags risks, without giving formal legal advice",
    ),
    (
        &[
            "health",
            "medical",
            "symptom",
            "symptoms",
            "patient",
            "patients",
            "diagnosis",
            "clinical",
            "medication",
            "doctor",
            "disease",
            "treatment",
        ],
        "a careful clinician",
        "who explains medical information accurately, states uncertainty and recommends professional care where appropriate",
    ),
    (
        &[
            "finance",
            "financial",
            "budget",
            "invest",
            "investment",
            "tax",
            "revenue",
            "profit",
            "accounting",
            "stock",
            "stocks",
            "portfolio",
            "cash flow",
            "valuation",
        ],
        "a chartered financial analyst",
        "who shows the calculations, states assumptions and avoids speculation",
    ),
    (
        &[
            "marketing",
            "campaign",
            "ad",
            "ads",
            "slogan",
            "seo",
            "brand",
            "landing page",
            "product description",
            "newsletter",
            "conversion",
            "copywriting",
            "tagline",
        ],
        "a senior marketing copywriter",
        "who writes clear, persuasive copy tailored to a specific audience",
    ),
    (
        &[
            "translate",
            "translation",
            "french",
            "spanish",
            "german",
            "chinese",
            "japanese",
            "italian",
            "portuguese",
            "localize",
            "localise",
            "localization",
        ],
        "a professional translator",
        "who preserves meaning, tone and formatting and flags terms that do not translate cleanly",
    ),
    (
        &[
            "product",
            "feature",
            "features",
            "roadmap",
            "user story",
            "user stories",
            "requirements",
            "ux",
            "stakeholder",
            "stakeholders",
            "prd",
            "prioritize",
            "prioritise",
        ],
        "an experienced product manager",
        "who ties every recommendation to user needs and measurable outcomes",
    ),
    (
        &[
            "student",
            "students",
            "teach",
            "lesson",
            "beginner",
            "beginners",
            "learn",
            "course",
            "quiz",
            "homework",
            "kids",
            "child",
            "children",
            "explain",
        ],
        "an experienced teacher",
        "who explains ideas step by step with concrete examples at the learner's level",
    ),
    (
        &[
            "research",
            "paper",
            "papers",
            "study",
            "studies",
            "literature",
            "evidence",
            "citation",
            "citations",
            "summarize",
            "summarise",
            "summary",
            "findings",
        ],
        "a meticulous research analyst",
        "who separates findings from opinion and keeps every claim traceable to its source",
    ),
    (
        &[
            "customer",
            "customers",
            "support",
            "ticket",
            "complaint",
            "refund",
            "helpdesk",
            "reply to",
        ],
        "a senior customer-support specialist",
        "who is empathetic, precise and focused on resolving the customer's problem",
    ),
    (
        &[
            "essay",
            "article",
            "blog",
            "story",
            "poem",
            "edit",
            "proofread",
            "grammar",
            "rewrite",
            "draft",
            "headline",
            "narrative",
        ],
        "a professional editor and writer",
        "who values clarity, structure and a consistent voice",
    ),
];

/// Domains ranked by keyword hits (best first), ties in table order.
fn rank_domains(l: &str) -> Vec<(usize, usize)> {
    let mut scored: Vec<(usize, usize)> = DOMAINS
        .iter()
        .enumerate()
        .map(|(i, (kw, _, _))| (i, kw.iter().filter(|w| has_word(l, w)).count()))
        .filter(|&(_, n)| n > 0)
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

fn expert_role(p: &Prompt) -> Draft {
    let ranked = rank_domains(&p.lower());
    let generic = (
        "a seasoned expert in the subject of this task",
        "who gives accurate, specific and well-reasoned answers",
    );
    let first = ranked
        .first()
        .map_or(generic, |&(i, _)| (DOMAINS[i].1, DOMAINS[i].2));
    let second = ranked.get(1).map(|&(i, _)| (DOMAINS[i].1, DOMAINS[i].2));
    let body = with_extra(&p.without(&[Part::Role]), p.extra);
    let title = first.0.trim_start_matches("a ").trim_start_matches("an ");

    let v1 = format!("You are {}, {}.\n\n{body}", first.0, first.1);
    let v2 = format!(
        "You are {} with more than 15 years of experience, {}. Apply the standards of your field, \
         use its terminology precisely, and say so plainly when something is outside your expertise or the input does not contain the answer.\n\n{body}",
        first.0, first.1
    );
    let v3 = match second {
        Some(s) => format!(
            "You are {}, {}, and you also draw on the perspective of {}.\n\n{body}",
            first.0, first.1, s.0
        ),
        None => format!(
            "Act as {}. Before answering, consider how a {title} would approach this task and what they would check first.\n\n{body}",
            first.0
        ),
    };
    let v4 = format!(
        "## Role\nYou are {}, {}.\n\n## Task\n{body}",
        first.0, first.1
    );
    let v5 = format!(
        "{body}\n\nAnswer as {} would: {}. Flag any assumption you make.",
        first.0,
        first.1.trim_start_matches("who ")
    );
    let mut changes = vec![match ranked.first() {
        Some(&(i, _)) => format!(
            "Opened with an expert persona ({}) inferred from the task's domain keywords, because a specific role sets the vocabulary, depth and standards of the answer.",
            DOMAINS[i].1
        ),
        None => "No domain keyword matched, so a generic expert persona was used; name the domain in the prompt for a sharper persona.".to_string(),
    }];
    let old = p.of(Part::Role);
    if let Some(r) = old.first() {
        changes.push(format!(
            "Replaced the existing role (\u{201C}{}\u{201D}) so the prompt does not give the model two personas.",
            clip(&r.content(), 60)
        ));
    }
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "elaborates the persona with experience, professional standards and permission to say what it does not know.",
            ),
            cand(
                v3,
                if second.is_some() {
                    "blends in a second expert perspective that also matched the task."
                } else {
                    "phrases the role as \"Act as\" and asks the model to think as that expert before answering."
                },
            ),
            cand(
                v4,
                "puts the persona and the task under separate Markdown headings.",
            ),
            cand(
                v5,
                "keeps the task first and adds the expert stance as a closing instruction.",
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- markdown-sections

/// A short title from the first task sentence, never cutting a placeholder.
fn title(p: &Prompt) -> String {
    let src = p
        .of(Part::Task)
        .first()
        .map(|s| s.content())
        .unwrap_or_default();
    let words: Vec<&str> = src
        .split_whitespace()
        .take_while(|w| !w.contains(['{', '}', ':', '\n']))
        .take(7)
        .collect();
    let t = words.join(" ");
    let t = t.trim_end_matches(['.', ',', ';', '!', '?']);
    if t.is_empty() {
        "Prompt".to_string()
    } else {
        capitalize(t)
    }
}

fn md_sections(p: &Prompt, order: &[Part], heading: &str, numbered_rules: bool) -> String {
    let mut out = Vec::new();
    for &part in order {
        let (name, body) = match part {
            Part::Role => ("Role", p.prose(Part::Role)),
            Part::Context => ("Context", p.prose(Part::Context)),
            Part::Task => ("Task", p.prose(Part::Task)),
            Part::Input => ("Input", p.prose(Part::Input)),
            Part::Examples => ("Examples", p.prose(Part::Examples)),
            Part::Constraint => {
                let r = p.rules();
                (
                    "Constraints",
                    if numbered_rules {
                        numbered(&r)
                    } else {
                        bullets(&r)
                    },
                )
            }
            Part::Format => ("Output format", p.prose(Part::Format)),
            Part::Pleasantry => continue,
        };
        if !body.trim().is_empty() {
            out.push(format!("{heading} {name}\n{body}"));
        }
    }
    out.join("\n\n")
}

const CANONICAL: &[Part] = &[
    Part::Role,
    Part::Context,
    Part::Task,
    Part::Input,
    Part::Examples,
    Part::Constraint,
    Part::Format,
];
const TASK_FIRST: &[Part] = &[
    Part::Role,
    Part::Task,
    Part::Format,
    Part::Constraint,
    Part::Context,
    Part::Examples,
    Part::Input,
];

fn markdown_sections(p: &Prompt) -> Draft {
    let v1 = md_sections(p, CANONICAL, "##", false);
    let mut bold = Vec::new();
    for (part, name) in [
        (Part::Role, "Role"),
        (Part::Context, "Context"),
        (Part::Task, "Task"),
        (Part::Input, "Input"),
        (Part::Examples, "Examples"),
        (Part::Format, "Output format"),
    ] {
        let body = p.prose(part);
        if !body.is_empty() {
            let sep = if body.contains('\n') { "\n" } else { " " };
            bold.push(format!("**{name}:**{sep}{body}"));
        }
        if part == Part::Examples && !p.rules().is_empty() {
            bold.push(format!("**Constraints:**\n{}", bullets(&p.rules())));
        }
    }
    let v2 = bold.join("\n\n");
    let v3 = format!(
        "# {}\n\n{}",
        title(p),
        md_sections(p, CANONICAL, "###", true)
    );
    let v4 = md_sections(p, TASK_FIRST, "##", false);
    let fenced_ok = !p.of(Part::Input).iter().any(|s| s.body.contains("```"));
    let v5 = if fenced_ok && p.has(Part::Input) {
        let fenced = p
            .of(Part::Input)
            .iter()
            .map(|s| format!("```text\n{}\n```", s.content()))
            .collect::<Vec<_>>()
            .join("\n");
        let mut order: Vec<Part> = CANONICAL.to_vec();
        order.retain(|&x| x != Part::Input);
        format!(
            "{}\n\n## Input\n{fenced}",
            md_sections(p, &order, "##", false)
        )
    } else {
        md_sections(p, CANONICAL, "##", false).replace("\n\n## ", "\n\n---\n\n## ")
    };
    let mut changes = vec![format!(
        "Reorganised the prompt under Markdown headings ({}) so each part is easy to find and edit.",
        part_names(p)
    )];
    if !p.rules().is_empty() {
        changes.push("Turned the rules into a bulleted Constraints list so each one can be checked on its own.".into());
    }
    if !p.has(Part::Format) {
        changes.push("No output format was stated, so no Output format section was invented; adding one would make the answer predictable.".into());
    }
    common_changes(p, &mut changes);
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(v2, "uses compact bold labels instead of headings."),
            cand(
                v3,
                "adds a title, uses third-level headings and numbers the constraints.",
            ),
            cand(
                v4,
                "orders the sections task-first, with context and input data at the end.",
            ),
            cand(
                v5,
                if fenced_ok && p.has(Part::Input) {
                    "fences the input data in a code block so it is clearly separated from the instructions."
                } else {
                    "separates the sections with horizontal rules."
                },
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- json-output

/// (key, type, meaning) of an inferred JSON field.
type Field = (&'static str, &'static str, &'static str);

fn infer_fields(p: &Prompt) -> (&'static str, Vec<Field>) {
    let task = p.prose(Part::Task).to_lowercase();
    let l = if task.is_empty() { p.lower() } else { task };
    let any = |ws: &[&str]| ws.iter().any(|w| has_word(&l, w));
    if any(&["summarize", "summarise", "summary", "tl;dr", "tldr"]) {
        (
            "a summary",
            vec![
                ("summary", "string", "the summary in 2-4 sentences"),
                (
                    "key_points",
                    "array of strings",
                    "the most important points, one per item",
                ),
            ],
        )
    } else if any(&[
        "classify",
        "categorize",
        "categorise",
        "category",
        "label",
        "sentiment",
        "detect",
        "tag",
    ]) {
        (
            "a classification",
            vec![
                ("label", "string", "the chosen category"),
                ("confidence", "number", "from 0 to 1"),
                ("rationale", "string", "one sentence explaining the choice"),
            ],
        )
    } else if any(&["translate", "translation"]) {
        (
            "a translation",
            vec![
                ("translation", "string", "the translated text"),
                (
                    "source_language",
                    "string",
                    "the detected language of the input",
                ),
                (
                    "notes",
                    "array of strings",
                    "terms that did not translate cleanly; empty if none",
                ),
            ],
        )
    } else if any(&[
        "rate", "score", "evaluate", "review", "assess", "grade", "critique",
    ]) {
        (
            "an evaluation",
            vec![
                ("score", "integer", "from 1 to 10"),
                ("strengths", "array of strings", "what works, one per item"),
                (
                    "weaknesses",
                    "array of strings",
                    "what does not, one per item",
                ),
                ("verdict", "string", "one-sentence overall judgement"),
            ],
        )
    } else if any(&["extract", "list", "find", "identify", "enumerate", "pull"]) {
        (
            "an extraction",
            vec![
                (
                    "items",
                    "array of objects",
                    "each with \"value\" (string) and \"evidence\" (the exact source text it came from)",
                ),
                ("count", "integer", "the number of items"),
            ],
        )
    } else if any(&["email", "reply", "respond", "response", "message"]) {
        (
            "a message",
            vec![
                ("subject", "string", "a short subject line"),
                ("body", "string", "the full message text"),
            ],
        )
    } else if any(&[
        "write", "draft", "generate", "create", "compose", "rewrite", "produce",
    ]) {
        (
            "generated text",
            vec![
                ("title", "string", "a short title"),
                ("content", "string", "the full text"),
            ],
        )
    } else if l.contains('?')
        || any(&[
            "what", "why", "how", "when", "which", "who", "answer", "explain",
        ])
    {
        (
            "an answer",
            vec![
                ("answer", "string", "the direct answer"),
                ("reasoning", "string", "a brief justification"),
                (
                    "confidence",
                    "string",
                    "one of \"low\", \"medium\", \"high\"",
                ),
            ],
        )
    } else {
        (
            "a result",
            vec![
                ("result", "string", "the complete result of the task"),
                (
                    "notes",
                    "array of strings",
                    "caveats or assumptions; empty if none",
                ),
            ],
        )
    }
}

fn shape(fields: &[Field]) -> String {
    let lines: Vec<String> = fields
        .iter()
        .map(|(k, t, d)| format!("  \"{k}\": \"<{t}: {}>\"", d.replace('"', "'")))
        .collect();
    format!("{{\n{}\n}}", lines.join(",\n"))
}

fn schema_type(t: &str) -> String {
    match t {
        "string" => "{\"type\": \"string\"".into(),
        "number" => "{\"type\": \"number\"".into(),
        "integer" => "{\"type\": \"integer\"".into(),
        "array of strings" => "{\"type\": \"array\", \"items\": {\"type\": \"string\"}".into(),
        "array of objects" => "{\"type\": \"array\", \"items\": {\"type\": \"object\"}".into(),
        _ => "{\"type\": \"string\"".into(),
    }
}

fn schema(fields: &[Field]) -> String {
    let props: Vec<String> = fields
        .iter()
        .map(|(k, t, d)| {
            format!(
                "    \"{k}\": {}, \"description\": \"{}\"}}",
                schema_type(t),
                d.replace('"', "\\\"")
            )
        })
        .collect();
    let req: Vec<String> = fields.iter().map(|(k, _, _)| format!("\"{k}\"")).collect();
    format!(
        "{{\n  \"type\": \"object\",\n  \"properties\": {{\n{}\n  }},\n  \"required\": [{}],\n  \"additionalProperties\": false\n}}",
        props.join(",\n"),
        req.join(", ")
    )
}

/// A JSON object the user already wrote in a format sentence, verbatim.
fn user_shape(p: &Prompt) -> Option<String> {
    for s in p.of(Part::Format) {
        let b = &s.body;
        let start = b.find('{')?;
        let mut depth = 0usize;
        for (off, c) in b[start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        let obj = &b[start..start + off + 1];
                        if obj.contains(':') {
                            return Some(obj.to_string());
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    None
}

const JSON_RULES: &str = "Rules for the JSON:\n\
- Use exactly these keys and add no others.\n\
- Use double quotes and escape special characters so a strict JSON parser accepts the object.\n\
- If a value cannot be determined from the input, use null instead of guessing.";

fn json_output(p: &Prompt) -> Draft {
    let body = with_extra(&p.without(&[Part::Format]), p.extra);
    let own = user_shape(p);
    let (what, fields) = infer_fields(p);
    let shape_text = own.clone().unwrap_or_else(|| shape(&fields));
    let only = "Respond with a single JSON object and nothing else: no Markdown code fences and no text before or after it.";
    let v1 = format!(
        "{body}\n\nOutput format: {only} Use exactly this shape; the values describe each field's type and meaning, so replace them with real values of that type:\n{shape_text}\n\n{JSON_RULES}"
    );
    let v2 = match &own {
        None => format!(
            "{body}\n\nOutput format: {only} The object must validate against this JSON Schema:\n{}",
            schema(&fields)
        ),
        Some(s) => format!(
            "{body}\n\n{only}\nShape:\n{s}\nBefore you answer, check that your reply starts with {{, ends with }}, uses exactly these keys and parses as JSON."
        ),
    };
    let v3 = format!(
        "{body}\n\nOutput format: {only} On success return {{\"ok\": true, \"data\": DATA, \"error\": null}}, where DATA has this shape:\n{shape_text}\n\
         If the task cannot be done with the given input, return {{\"ok\": false, \"data\": null, \"error\": \"<one sentence saying why>\"}} instead of guessing."
    );
    let compact = match &own {
        Some(s) => s.split_whitespace().collect::<Vec<_>>().join(" "),
        None => {
            let kv: Vec<String> = fields
                .iter()
                .map(|(k, t, _)| format!("\"{k}\": {t}"))
                .collect();
            format!("{{{}}}", kv.join(", "))
        }
    };
    let v4 = format!("{body}\n\nReturn only valid JSON of the form {compact}, with no other text.");
    let v5 = match &own {
        None => {
            let defs: Vec<String> = fields
                .iter()
                .map(|(k, t, d)| format!("- `{k}` ({t}): {d}"))
                .collect();
            format!(
                "{body}\n\nReturn a JSON object with exactly these keys:\n{}\n\n{only}",
                defs.join("\n")
            )
        }
        Some(s) => format!(
            "{body}\n\n{only}\n```json\n{s}\n```\nThe block above shows the shape only; do not wrap your own reply in a code fence."
        ),
    };
    let mut changes = vec![match &own {
        Some(_) => "Kept the JSON shape you wrote and made the contract explicit: a single object, no code fences, no prose around it.".to_string(),
        None => format!(
            "Added an explicit JSON output contract for {what} (keys: {}) inferred from the task, so the answer can be parsed by a program.",
            fields.iter().map(|f| f.0).collect::<Vec<_>>().join(", ")
        ),
    }];
    changes.push("Told the model to use null for unknown values instead of guessing, which keeps the JSON honest and parseable.".into());
    let old: Vec<String> = p.of(Part::Format).iter().map(|s| s.content()).collect();
    if !old.is_empty() {
        changes.push(format!(
            "Replaced the original format instruction ({}) with the JSON contract so the two cannot conflict.",
            quoted_list(&old, 2)
        ));
    }
    if own.is_none() {
        changes.push("The field names are a rule-based guess; rename them to match the program that reads the output.".into());
    }
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                if own.is_none() {
                    "states the contract as a formal JSON Schema."
                } else {
                    "adds a self-check that the reply parses as JSON."
                },
            ),
            cand(
                v3,
                "wraps the result in an {ok, data, error} envelope so failures are reported in JSON too.",
            ),
            cand(v4, "states the contract in one compact line."),
            cand(
                v5,
                if own.is_none() {
                    "defines each key in a bulleted list instead of an example object."
                } else {
                    "shows the shape in a fenced block and warns against fencing the reply."
                },
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- step-by-step

const STEP_SEPARATORS: &[&str] = &[
    "; then ",
    ", and then ",
    " and then ",
    ", then ",
    "; after that, ",
    ". then ",
    "; ",
    " then ",
];
const STEP_LEADS: &[&str] = &[
    "first, ",
    "first ",
    "then, ",
    "then ",
    "next, ",
    "next ",
    "finally, ",
    "finally ",
    "after that, ",
    "and ",
];

/// Split one task text into steps (masked, so quotes and variables are never cut).
fn split_steps(content: &str) -> Vec<String> {
    let m = text::mask(content);
    if m.text.contains('\n') {
        return m
            .text
            .lines()
            .map(|l| {
                let t = l.trim();
                let t = t.trim_start_matches(['-', '*', '\u{2022}']).trim_start();
                let d = t.chars().take_while(char::is_ascii_digit).count();
                let t = if d > 0 && t[d..].starts_with(['.', ')']) {
                    t[d + 1..].trim_start()
                } else {
                    t
                };
                m.unmask(t)
            })
            .filter(|t| !t.trim().is_empty())
            .map(|t| terminate(&capitalize(&t)))
            .collect();
    }
    let mut pieces = vec![m.text.clone()];
    for sep in STEP_SEPARATORS {
        pieces = pieces
            .into_iter()
            .flat_map(|p| {
                let l = p.to_ascii_lowercase();
                let mut out = Vec::new();
                let mut last = 0;
                let mut from = 0;
                while let Some(pos) = l[from..].find(sep) {
                    let at = from + pos;
                    out.push(p[last..at].to_string());
                    last = at + sep.len();
                    from = last;
                }
                out.push(p[last..].to_string());
                out
            })
            .collect();
    }
    // "Read the email and write a reply": split at "and" before a verb.
    let mut steps = Vec::new();
    for piece in pieces {
        let ws: Vec<&str> = piece.split(' ').collect();
        let mut cur: Vec<&str> = Vec::new();
        for (i, w) in ws.iter().enumerate() {
            let next = ws
                .get(i + 1)
                .map(|n| n.to_ascii_lowercase())
                .unwrap_or_default();
            if (*w == "and" || *w == "and,")
                && !cur.is_empty()
                && TASK_VERBS.contains(&next.as_str())
                && cur.len() >= 2
            {
                steps.push(cur.join(" "));
                cur.clear();
            } else {
                cur.push(w);
            }
        }
        steps.push(cur.join(" "));
    }
    steps
        .into_iter()
        .map(|s| {
            let mut t = s.trim().trim_end_matches([',', ';']).trim().to_string();
            loop {
                let l = t.to_ascii_lowercase();
                match STEP_LEADS.iter().find(|p| l.starts_with(*p)) {
                    Some(p) => t = t[p.len()..].trim_start().to_string(),
                    None => break,
                }
            }
            m.unmask(&t)
        })
        .filter(|s| s.chars().any(char::is_alphanumeric))
        .map(|t| terminate(&capitalize(&t)))
        .collect()
}

fn step_by_step(p: &Prompt) -> Draft {
    let task_steps: Vec<String> = p
        .of(Part::Task)
        .iter()
        .flat_map(|s| split_steps(&s.content()))
        .collect();
    let rules = p.rules();
    let format = p.prose(Part::Format);
    let has_input = p.has(Part::Input);
    let intro = p.flat(&[
        Part::Task,
        Part::Input,
        Part::Examples,
        Part::Constraint,
        Part::Format,
        Part::Pleasantry,
    ]);
    let input = if has_input {
        format!("Input:\n{}", join(&p.of(Part::Input), true))
    } else {
        String::new()
    };
    let examples = p.prose(Part::Examples);
    let tail = blocks(&[
        if rules.is_empty() {
            String::new()
        } else {
            format!("Constraints:\n{}", bullets(&rules))
        },
        if format.is_empty() {
            String::new()
        } else {
            format!("Output format: {format}")
        },
    ]);
    let check = match (rules.is_empty(), format.is_empty()) {
        (false, false) => {
            "Check the result against the constraints and the output format below, and fix anything that does not match."
        }
        (false, true) => {
            "Check the result against the constraints below, and fix anything that does not match."
        }
        (true, false) => {
            "Check that the result follows the output format below, and fix anything that does not match."
        }
        (true, true) => {
            "Review the result for errors and missing parts, and fix them before you answer."
        }
    };
    let mut s1 = Vec::new();
    if has_input {
        s1.push("Read the input carefully and note what it contains.".to_string());
    }
    s1.extend(task_steps.iter().cloned());
    s1.push(check.to_string());
    let v1 = blocks(&[
        intro.clone(),
        input.clone(),
        examples.clone(),
        format!("Follow these steps in order:\n{}", numbered(&s1)),
        tail.clone(),
    ]);

    let mut s2 = task_steps.clone();
    s2.push(check.to_string());
    let labelled: Vec<String> = s2
        .iter()
        .enumerate()
        .map(|(i, s)| format!("Step {}: {s}", i + 1))
        .collect();
    let v2 = blocks(&[
        intro.clone(),
        input.clone(),
        examples.clone(),
        format!(
            "Complete each step before moving on to the next.\n{}",
            labelled.join("\n")
        ),
        tail.clone(),
    ]);

    let v3 = blocks(&[
        intro.clone(),
        input.clone(),
        examples.clone(),
        format!(
            "Work through these steps and show the result of each under its number:\n{}",
            numbered(&s1)
        ),
        tail.clone(),
        "Then give the final answer after the line \"Final answer:\".".to_string(),
    ]);

    let mut s4 = s1.clone();
    s4.pop();
    for r in &rules {
        s4.push(terminate(&capitalize(r)));
    }
    if !format.is_empty() {
        s4.push(format!(
            "Format the answer as specified: {}",
            terminate(&decapitalize(&format))
        ));
    }
    s4.push("Re-read your answer once and correct any mistake.".into());
    let v4 = blocks(&[
        intro.clone(),
        input.clone(),
        examples.clone(),
        format!("Follow these steps in order:\n{}", numbered(&s4)),
    ]);

    let checklist: Vec<String> = s1.iter().map(|s| format!("- [ ] {s}")).collect();
    let v5 = blocks(&[
        intro,
        input,
        examples,
        format!(
            "Work through this checklist from top to bottom:\n{}",
            checklist.join("\n")
        ),
        tail,
    ]);

    let mut changes = vec![if task_steps.len() > 1 {
        format!(
            "Broke the task into {} numbered steps, one action each, so the model does them in order and skips none.",
            task_steps.len()
        )
    } else {
        "Put the single task into a numbered sequence so the model works through it in a fixed order.".to_string()
    }];
    if has_input {
        changes.push("Added a first step to read the input, and moved the input above the steps so it is in view before the work starts.".into());
    }
    changes.push(
        "Added a final checking step so the model verifies its result before answering.".into(),
    );
    if !rules.is_empty() || !format.is_empty() {
        changes.push("Kept the constraints and the output format as their own sections after the steps, where the check step points to them.".into());
    }
    common_changes(p, &mut changes);
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "labels the steps \"Step 1:\", \"Step 2:\" and asks for each to be finished before the next.",
            ),
            cand(
                v3,
                "asks the model to show the result of each step and then a final answer.",
            ),
            cand(
                v4,
                "folds the constraints and the output format into the steps themselves.",
            ),
            cand(v5, "presents the steps as a checklist."),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- constraints-first

const NEGATIVE_LEADS: &[&str] = &[
    "do not",
    "don't",
    "don\u{2019}t",
    "never",
    "avoid",
    "no ",
    "without",
    "refrain",
    "must not",
    "you must not",
    "not ",
];

fn constraints_first(p: &Prompt) -> Draft {
    let mut cons = p.rules();
    for f in p.of(Part::Format) {
        let c = f.content();
        cons.push(if f.generic_label || f.label.is_none() {
            format!("Output format: {c}")
        } else {
            c
        });
    }
    let rest = p.flat(&[Part::Constraint, Part::Format, Part::Pleasantry]);
    let none = cons.is_empty();
    let list = if none {
        vec!["None were stated. Add limits on length, scope, tone or sources here before using this prompt.".to_string()]
    } else {
        cons.clone()
    };
    let v1 = format!(
        "Constraints (these apply to everything below):\n{}\n\n{rest}",
        bullets(&list)
    );
    let v2 = format!(
        "Hard rules. Follow them even if something below seems to say otherwise:\n{}\n\n{rest}",
        numbered(&list)
    );
    let v3 = format!(
        "{v1}\n\nBefore you answer, re-check every constraint at the top and fix anything that breaks one."
    );
    let v4 = format!(
        "<constraints>\n{}\n</constraints>\n\n{rest}",
        bullets(&list)
    );
    let (neg, pos): (Vec<String>, Vec<String>) = list
        .iter()
        .cloned()
        .partition(|c| text::starts_with_any_lower(c, NEGATIVE_LEADS));
    let v5 = blocks(&[
        if pos.is_empty() {
            String::new()
        } else {
            format!("You must:\n{}", bullets(&pos))
        },
        if neg.is_empty() {
            String::new()
        } else {
            format!("You must not:\n{}", bullets(&neg))
        },
        rest.clone(),
    ]);
    let mut changes = Vec::new();
    if none {
        changes.push("The prompt states no constraints, so the first section is a marked slot to fill in; models weigh rules most when they come first.".into());
    } else {
        let fmt = if p.has(Part::Format) {
            ", including the output format,"
        } else {
            ""
        };
        changes.push(format!(
            "Moved {} constraint(s){fmt} to the top, because rules stated before the task frame everything the model reads next.",
            cons.len()
        ));
        changes
            .push("Gave each constraint its own bullet so none is lost inside a paragraph.".into());
    }
    common_changes(p, &mut changes);
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "numbers the rules and says they win over anything below that conflicts.",
            ),
            cand(
                v3,
                "repeats a reminder at the end to re-check the constraints (a sandwich for long prompts).",
            ),
            cand(v4, "fences the constraints in <constraints> tags."),
            cand(
                v5,
                "splits the constraints into \"You must\" and \"You must not\" lists.",
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- friendly-tone

const ACRONYMS: &[&str] = &[
    "JSON", "HTML", "HTTP", "HTTPS", "YAML", "XML", "CSV", "SQL", "API", "URL", "PDF", "NASA",
    "GDPR", "ASCII", "UTF-8",
];

/// Lowercase shouted words (ALL CAPS, four letters or more, not an acronym).
fn unshout(s: &str) -> (String, bool) {
    let mut changed = false;
    let out: Vec<String> = s
        .split(' ')
        .map(|w| {
            let letters: String = w.chars().filter(|c| c.is_alphabetic()).collect();
            let shouted = letters.chars().count() >= 4
                && letters.chars().all(|c| c.is_uppercase())
                && !ACRONYMS.contains(&letters.as_str());
            if shouted {
                changed = true;
                w.to_lowercase()
            } else {
                w.to_string()
            }
        })
        .collect();
    let mut t = out.join(" ");
    while t.contains("!!") {
        t = t.replace("!!", "!");
        changed = true;
    }
    (t, changed)
}

/// Soften one sentence; `first_task` is consumed by the first imperative.
fn soften(s: &str, first_task: &mut bool, shouted: &mut bool) -> String {
    let (t, sh) = unshout(s);
    *shouted |= sh;
    let l = t.to_lowercase();
    let rest = |n: usize| t[n..].trim_start().to_string();
    for (lead, rep) in [
        ("do not ", "Please don't "),
        ("don't ", "Please don't "),
        ("never ", "Please never "),
        ("you must not ", "Please don't "),
        ("you must ", "Please make sure you "),
        ("you should ", "Please "),
        ("you need to ", "Please "),
    ] {
        if l.starts_with(lead) {
            return format!("{rep}{}", rest(lead.len()));
        }
    }
    let first = l.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
    if *first_task && TASK_VERBS.contains(&first) && classify(&t) == Part::Task {
        *first_task = false;
        let body = decapitalize(&t);
        return match body.strip_suffix('.') {
            Some(b) => format!("Could you please {b}?"),
            None => format!("Could you please {body}"),
        };
    }
    t
}

fn friendly_body(p: &Prompt, shouted: &mut bool) -> String {
    let mut first_task = true;
    map_sentences(&p.clean, |_, s| Some(soften(s, &mut first_task, shouted)))
}

fn friendly_tone(p: &Prompt) -> Draft {
    let mut shouted = false;
    let body = with_extra(&friendly_body(p, &mut shouted), p.extra);
    let opener = if p.has(Part::Pleasantry) {
        ""
    } else {
        "Hi! I'd really appreciate your help with something.\n\n"
    };
    let v1 = format!(
        "{opener}{body}\n\nPlease keep your reply warm, encouraging and easy to follow. Thanks so much!"
    );
    let v2 = format!(
        "Hey there! Quick favour:\n\n{body}\n\nKeep the tone relaxed and conversational, like you're explaining it to a friend. Thanks!"
    );
    let v3 = format!(
        "Let's work on this together.\n\n{body}\n\nIf anything is unclear, ask me a short question before you start. A friendly, supportive reply would be lovely. Thank you!"
    );
    let v4 = format!(
        "{}\n\nTone: answer in a warm, friendly and approachable way.",
        p.base_with_extra()
    );
    let v5 = format!(
        "{body}\n\nWrite your reply in a friendly, upbeat voice and use plain words instead of jargon where you can. Thanks in advance, I really appreciate it!"
    );
    let mut changes = vec![
        "Rephrased commands as polite requests (\"Could you please …\", \"Please don't …\") so the prompt reads as a collaboration rather than orders.".to_string(),
        "Added a friendly opening and closing and asked for a warm, approachable tone in the answer.".to_string(),
    ];
    if shouted {
        changes.push("Replaced ALL-CAPS emphasis and repeated exclamation marks with normal case; shouting adds tension, not clarity.".into());
    }
    changes.push("Kept every instruction, constraint and variable; only the tone changed.".into());
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(v2, "is more casual and asks for a conversational answer."),
            cand(
                v3,
                "frames the prompt as a collaboration and invites clarifying questions.",
            ),
            cand(
                v4,
                "keeps your wording as written and only asks for a friendly answer.",
            ),
            cand(
                v5,
                "skips the greeting and asks for an upbeat, jargon-free reply.",
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- generic

/// Structural cleanup for styles without a transform: honest about the fact
/// that following the style's own instructions needs the LLM.
fn generic(p: &Prompt, style: &str) -> Draft {
    let v1 = md_sections(p, CANONICAL, "##", false);
    let mut labelled = Vec::new();
    for (part, name) in [
        (Part::Role, "Role"),
        (Part::Context, "Context"),
        (Part::Task, "Task"),
        (Part::Input, "Input"),
        (Part::Examples, "Examples"),
        (Part::Format, "Output format"),
    ] {
        let body = p.prose(part);
        if !body.is_empty() {
            labelled.push(format!("{name}:\n{body}"));
        }
        if part == Part::Examples && !p.rules().is_empty() {
            labelled.push(format!("Constraints:\n{}", bullets(&p.rules())));
        }
    }
    let v2 = labelled.join("\n\n");
    let v3 = blocks(&[
        xml("role", &p.prose(Part::Role)),
        xml("context", &p.prose(Part::Context)),
        xml("input", &p.prose(Part::Input)),
        xml("examples", &p.prose(Part::Examples)),
        xml("task", &p.prose(Part::Task)),
        xml("constraints", &bullets(&p.rules())),
        xml("output_format", &p.prose(Part::Format)),
    ]);
    let v4 = md_sections(p, TASK_FIRST, "##", false);
    let mut items: Vec<String> = p
        .segs
        .iter()
        .filter(|s| s.part != Part::Pleasantry)
        .map(|s| {
            if s.content().contains('\n') {
                s.content()
            } else {
                format!("- {}", terminate(&s.content()))
            }
        })
        .collect();
    if let Some(e) = p.extra {
        items.push(format!("- {}", terminate(e)));
    }
    let v5 = items.join("\n");
    let mut changes = Vec::new();
    if !has_transform(style) {
        changes.push(format!(
            "Style \u{201C}{style}\u{201D} has no rule-based transform, so this is only a structural cleanup; a faithful rewrite that follows the style's instructions needs the LLM (use_llm: true)."
        ));
    }
    changes.push(format!(
        "Grouped the prompt into labelled sections ({}) and normalised whitespace so its parts are easy to see and edit.",
        part_names(p)
    ));
    common_changes(p, &mut changes);
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "uses plain \"Label:\" sections instead of Markdown headings.",
            ),
            cand(v3, "wraps the sections in XML tags."),
            cand(v4, "orders the sections task-first."),
            cand(
                v5,
                "lists every part of the prompt as a bullet, in the original order.",
            ),
        ],
        changes,
    }
}

#[cfg(test)]
mod tests;
