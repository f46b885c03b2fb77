//! @NAME@: a PromptSculptor remix plugin that brings two styles of its own.
use promptsculptor_sdk::prelude::*;
use promptsculptor_sdk::util::prompt::{mask, split_sentences};

const PLAIN: &str = "Rewrite the prompt in plain English: short sentences, everyday words.";
const CHECKLIST: &str = "Rewrite the prompt as a one-line goal and a numbered checklist.";
const REPAIR: &str = "That answered the prompt. Rewrite the prompt itself, keeping every {{placeholder}}.";
/// The no-LLM `plain` rewrite: wordy phrases and their plain words.
const WORDY: &[(&str, &str)] = &[
    ("utilise", "use"), ("utilize", "use"), ("facilitate", "help"), ("in order to", "to"),
    ("prior to", "before"), ("commence", "start"), ("approximately", "about"),
];

struct Plugin;

impl RemixPlugin for Plugin {
    fn manifest() -> Manifest {
        let plain = StyleDefinition::new("@NAME@-plain", "Plain words", PLAIN)
            .example("Utilise {{doc}} to facilitate a summary.", "Use {{doc}} to help sum up.");
        let checklist = StyleDefinition::new("@NAME@-checklist", "A checklist", CHECKLIST)
            .example("Review {{code}}. Find bugs.", "Goal: Review {{code}}.\n1. Find bugs.");
        Manifest::new("@NAME@", "0.1.0", "Two house styles.").style(plain).style(checklist)
    }

    fn remix(req: RemixRequest) -> Result<RemixResponse, PluginError> {
        remix::validate(&req)?;
        let style = styles::get(&req.style)?;
        if req.use_llm {
            let system = format!(
                "Rewrite the user's prompt; do not answer it. {} Keep every {{{{placeholder}}}} \
                 exactly as written. Reply with the rewritten prompt only.",
                style.instructions
            );
            // A reply without any of the prompt's variables answered it instead of
            // rewriting it: one repair turn. Any other loss is put back.
            let literals = remix::literals(&req.prompt);
            let check = |reply: &str| match literals.is_empty() || literals.iter().any(|p| reply.contains(p)) {
                true => Ok(restore_placeholders(&req.prompt, reply)),
                false => Err(llm::Rejection::new("it dropped every {{variable}}", REPAIR)),
            };
            let mut variants = Vec::new();
            for _ in 0..req.variants {
                let request = llm::request(&system, &req.prompt);
                variants.push(llm::round_trip(llm::call, request, check, llm::no_salvage)?);
            }
            let changes = vec![format!("Rewrote it with the LLM in the {} style.", style.name)];
            return Ok(RemixResponse { variants, changes });
        }
        // Without an LLM: rule-based rewrites, each one different, or a clear refusal.
        let all = match style.name.ends_with("-checklist") {
            true => checklist(&req.prompt),
            false => plain(&req.prompt),
        };
        let mut forms: Vec<(String, String)> = Vec::new();
        for (text, change) in all {
            if text != req.prompt && forms.iter().all(|(t, _)| *t != text) {
                forms.push((text, change));
            }
        }
        let n = usize::from(req.variants);
        if forms.len() < n {
            let why = match forms.len() {
                0 => format!("without an LLM, no rule of {} changes this prompt", style.name),
                k => format!("without an LLM, {} has {k} distinct rewrite(s); ask for at most {k}", style.name),
            };
            return Err(PluginError::invalid_input(format!("{why}, or set use_llm")));
        }
        Ok(RemixResponse {
            variants: forms.iter().take(n).map(|(t, _)| t.clone()).collect(),
            changes: forms.into_iter().take(n).map(|(_, c)| c).collect(),
        })
    }
}

/// Plain words, then the same with one sentence per line. Placeholders,
/// code, quotes and tags are masked, so no rule can touch them.
fn plain(prompt: &str) -> Vec<(String, String)> {
    let masked = mask(prompt);
    let (mut text, mut done) = (masked.text.clone(), Vec::new());
    for (wordy, simple) in WORDY {
        let (next, count) = replace_words(&text, wordy, simple);
        if count > 0 {
            done.push(format!("{wordy}→{simple}"));
        }
        text = next;
    }
    let first = match done.is_empty() {
        true => "Found no wordy phrase to replace".to_string(),
        false => format!("Replaced {} wordy phrase(s): {}", done.len(), done.join(", ")),
    };
    let lines: Vec<&str> = text.lines().flat_map(split_sentences).collect();
    vec![
        (masked.unmask(&text), first.clone()),
        (masked.unmask(&lines.join("\n")), format!("{first}; put each sentence on its own line")),
    ]
}

/// A goal and numbered steps, then the same as a `- [ ]` checklist.
fn checklist(prompt: &str) -> Vec<(String, String)> {
    let masked = mask(prompt);
    let sentences: Vec<&str> = masked.text.lines().flat_map(split_sentences).collect();
    let Some((goal, steps)) = sentences.split_first() else { return Vec::new() };
    let said = format!("Turned {} sentence(s) into a goal and {} step(s)", sentences.len(), steps.len());
    let list = |mark: &dyn Fn(usize) -> String| {
        let items = steps.iter().enumerate().map(|(i, s)| format!("\n{} {s}", mark(i + 1)));
        masked.unmask(&format!("Goal: {goal}{}", items.collect::<String>()))
    };
    vec![
        (list(&|i| format!("{i}.")), format!("{said}, numbered")),
        (list(&|_| "- [ ]".to_string()), format!("{said}, as a checklist")),
    ]
}

/// Replace whole-word, case-insensitive `wordy` by `simple`, keeping a
/// leading capital; returns the text and how many were replaced.
fn replace_words(text: &str, wordy: &str, simple: &str) -> (String, usize) {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return (text.to_string(), 0); // lower-casing moved byte offsets: leave it
    }
    let (mut out, mut last, mut count) = (String::new(), 0, 0);
    for (at, _) in lower.match_indices(wordy) {
        let end = at + wordy.len();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        if !edge(text[..at].chars().next_back()) || !edge(text[end..].chars().next()) {
            continue;
        }
        out.push_str(&text[last..at]);
        let capital = text[at..].starts_with(char::is_uppercase);
        out.push_str(&match capital {
            true => simple[..1].to_uppercase() + &simple[1..],
            false => simple.to_string(),
        });
        (last, count) = (end, count + 1);
    }
    out.push_str(&text[last..]);
    (out, count)
}

export_remix!(Plugin);
