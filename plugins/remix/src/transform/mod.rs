//! Rule-based remixes, one per builtin style, plus an honest structural
//! cleanup for styles without a transform.
//!
//! Pure Rust with no WIT types, so every transform is unit-tested natively
//! and also pads an LLM answer that came back with too few variants.

use crate::text::{
    self, Masked, Part, Segment, TASK_VERBS, capitalize, classify, decapitalize, has_word,
    normalize_ws, terminate,
};
use ps_guest_util::prompt::{is_cjk, is_cjk_punct, tag_name};
use ps_guest_util::{Placeholder, missing_placeholders, placeholders, restore_placeholders};

// One file per family of styles; each sees this module's parsed prompt and
// helpers through `use super::*`.
mod concise;
mod json;
mod reasoning;
mod role;
mod sections;
mod tone;

use concise::*;
use json::*;
use reasoning::*;
use role::*;
use sections::*;
use tone::*;

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
    let only_pleasantries = p.segs.iter().all(|s| s.part == Part::Pleasantry);
    let draft = match style {
        // "hi": there is no instruction to restructure, and dropping the
        // greeting would leave nothing; say so instead of claiming edits.
        _ if only_pleasantries => Draft {
            candidates: vec![cand(p.base_with_extra(), "")],
            changes: vec![
                "No change: the prompt holds no instruction to restructure yet; state the task you want done."
                    .to_string(),
            ],
        },
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
    let fallback = if has_transform(style) && !only_pleasantries {
        generic(&p, style).candidates
    } else {
        Vec::new()
    };
    let (variants, notes, restored) = pick(prompt, draft.candidates.into_iter().chain(fallback), n);
    // Notes come from edits that happened: when the first variant is the
    // prompt unchanged, no edit happened, whatever the transform planned.
    let unchanged = variants
        .first()
        .is_some_and(|v| squash(v) == squash(prompt));
    let said_so = changes.iter().any(|c| {
        let l = c.to_lowercase();
        l.contains("no change") || l.contains("already")
    });
    if unchanged && !said_so {
        changes = vec![format!(
            "No change: the prompt already fits the {style} style as far as the rule-based remix can tell."
        )];
    }
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

/// `s` with runs of whitespace collapsed, for "did anything change" tests.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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

/// Labels a format sentence may already carry; a layout that adds its own
/// "Output format:" drops them so the label is not written twice.
const FORMAT_LABELS: &[&str] = &[
    "output format",
    "format",
    "response format",
    "answer format",
];

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
            if !prev_inline || own_line {
                out.push('\n');
            } else if !out.ends_with(|c: char| is_cjk(c) || is_cjk_punct(c)) {
                // Chinese and Japanese put no space between sentences.
                out.push(' ');
            }
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
