//! The LLM path, minus the call itself: the metaprompt, the reply check,
//! the repair message and the final clean-up. Pure Rust, tested natively.

use crate::transform::{self, Remix};
use ps_guest_util::{
    extract_json_object, missing_placeholders, placeholders, restore_placeholders, str_list_field,
};

/// The parts of a registry style the metaprompt uses.
#[derive(Debug, Clone)]
pub struct StyleInfo {
    /// Registry name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Guidance for the rewriter.
    pub instructions: String,
    /// (before, after) pairs.
    pub examples: Vec<(String, String)>,
}

/// Examples beyond this many only cost tokens; the style is clear by then.
const MAX_EXAMPLES: usize = 3;

/// The system prompt of the rewrite call.
pub fn system_prompt() -> String {
    "You are an expert prompt engineer. You rewrite prompts for large language models into a requested style \
     while preserving their intent, every requirement, every piece of data and every template variable. \
     You never answer or carry out the prompt you are given; you only rewrite it. You reply with JSON only."
        .to_string()
}

/// Distinct placeholder literals of `prompt`, in order.
pub fn literals(prompt: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in placeholders(prompt) {
        if !out.contains(&p.literal) {
            out.push(p.literal);
        }
    }
    out
}

/// The user message of the rewrite call.
pub fn user_prompt(
    prompt: &str,
    style: &StyleInfo,
    instructions: Option<&str>,
    n: usize,
) -> String {
    let mut s = format!("Rewrite the prompt below in the style \"{}\"", style.name);
    if !style.description.trim().is_empty() {
        s.push_str(&format!(" ({})", style.description.trim()));
    }
    s.push_str(".\n\n<style_instructions>\n");
    s.push_str(style.instructions.trim());
    s.push_str("\n</style_instructions>\n\n");
    if !style.examples.is_empty() {
        s.push_str("<style_examples>\n");
        for (before, after) in style.examples.iter().take(MAX_EXAMPLES) {
            s.push_str(&format!(
                "<example>\n<before>\n{}\n</before>\n<after>\n{}\n</after>\n</example>\n",
                before.trim(),
                after.trim()
            ));
        }
        s.push_str("</style_examples>\n\n");
    }
    s.push_str(&format!("<prompt>\n{}\n</prompt>\n\n", prompt.trim()));
    if let Some(extra) = instructions.map(str::trim).filter(|e| !e.is_empty()) {
        s.push_str(&format!(
            "<extra_instructions>\n{extra}\n</extra_instructions>\n\n"
        ));
    }
    s.push_str("Requirements:\n");
    if n == 1 {
        s.push_str("1. Produce exactly 1 rewritten prompt.\n");
    } else {
        s.push_str(&format!(
            "1. Produce exactly {n} rewritten prompts, best first. Each must be a genuinely different take on the style \
             (structure, ordering or wording), not a copy with cosmetic edits.\n"
        ));
    }
    s.push_str(
        "2. Keep the intent and every instruction, constraint and piece of data of the original. Do not answer or \
         execute the prompt; rewrite it.\n",
    );
    if instructions.is_some_and(|e| !e.trim().is_empty()) {
        s.push_str("   Follow the extra instructions as well, unless they conflict with the hard rule below.\n");
    }
    let lits = literals(prompt);
    if lits.is_empty() {
        s.push_str("3. The prompt has no template placeholders; do not add any.\n");
    } else {
        s.push_str(&format!(
            "3. Hard rule: these template placeholders must appear verbatim, character for character, in every variant: {}. \
             Do not rename, re-space, translate, fill in or remove them.\n",
            lits.join(", ")
        ));
    }
    s.push_str(
        "4. In \"changes\", write one short sentence per change: what you changed and why.\n\n\
         Reply with only this JSON object, with no code fences and no other text:\n\
         {\"variants\": [\"<rewritten prompt>\", ...], \"changes\": [\"<one sentence>\", ...]}",
    );
    s
}

/// JSON Schema of the reply, for the provider's structured-output mode.
///
/// Array lengths go in the description, not `minItems`/`maxItems`, because
/// some providers' strict modes reject those keywords.
pub fn response_schema(n: usize) -> String {
    serde_json::json!({
        "type": "object",
        "properties": {
            "variants": {
                "type": "array",
                "items": {"type": "string"},
                "description": format!("Exactly {n} rewritten prompts, best first.")
            },
            "changes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "One sentence per change: what was changed and why."
            }
        },
        "required": ["variants", "changes"],
        "additionalProperties": false
    })
    .to_string()
}

/// A generous output budget: each variant may be about twice the prompt.
pub fn max_tokens(prompt: &str, n: usize) -> u32 {
    let tokens = prompt.chars().count() / 3 + 1;
    let total = n
        .saturating_mul(tokens.saturating_mul(2).saturating_add(400))
        .saturating_add(300);
    u32::try_from(total.clamp(1024, 16_000)).unwrap_or(16_000)
}

/// A reply that parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Distinct, non-empty variants in reply order.
    pub variants: Vec<String>,
    /// The change sentences.
    pub changes: Vec<String>,
}

/// What is wrong with a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No JSON object with a non-empty `variants` string array.
    Unparsable,
    /// The number of distinct variants is not the one asked for.
    WrongCount {
        /// How many arrived.
        got: usize,
        /// How many were asked for.
        want: usize,
    },
    /// A variant (1-based) lost placeholders.
    Missing {
        /// Which variant.
        variant: usize,
        /// The literals it lacks.
        literals: Vec<String>,
    },
}

/// Parse a reply into variants and changes, if it holds any.
pub fn parse(reply: &str) -> Option<Parsed> {
    let map = extract_json_object(reply)?;
    let mut variants: Vec<String> = Vec::new();
    for v in str_list_field(&map, "variants") {
        if !variants.contains(&v) {
            variants.push(v);
        }
    }
    if variants.is_empty() {
        return None;
    }
    Some(Parsed {
        variants,
        changes: str_list_field(&map, "changes"),
    })
}

/// Parse and check a reply; `Err` lists every problem (and the parse, if any).
pub fn check(
    reply: &str,
    prompt: &str,
    n: usize,
) -> Result<Parsed, (Option<Parsed>, Vec<Problem>)> {
    let Some(parsed) = parse(reply) else {
        return Err((None, vec![Problem::Unparsable]));
    };
    let mut problems = Vec::new();
    if parsed.variants.len() != n {
        problems.push(Problem::WrongCount {
            got: parsed.variants.len(),
            want: n,
        });
    }
    for (i, v) in parsed.variants.iter().enumerate().take(n) {
        let missing = missing_placeholders(prompt, v);
        if !missing.is_empty() {
            problems.push(Problem::Missing {
                variant: i + 1,
                literals: missing,
            });
        }
    }
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err((Some(parsed), problems))
    }
}

/// The follow-up message asking the model to fix its reply.
pub fn repair_prompt(problems: &[Problem], prompt: &str, n: usize) -> String {
    let mut s = String::from("Your previous reply cannot be used:\n");
    for p in problems {
        match p {
            Problem::Unparsable => s.push_str(
                "- It is not a JSON object with a \"variants\" array of non-empty strings and a \"changes\" array of strings.\n",
            ),
            Problem::WrongCount { got, want } => {
                s.push_str(&format!("- It has {got} distinct variant(s); exactly {want} are required.\n"))
            }
            Problem::Missing { variant, literals } => s.push_str(&format!(
                "- Variant {variant} is missing these placeholders, which must appear verbatim: {}.\n",
                literals.join(", ")
            )),
        }
    }
    s.push_str(&format!(
        "\nReply again with only the corrected JSON object {{\"variants\": [...], \"changes\": [...]}}: exactly {n} distinct variant(s)"
    ));
    let lits = literals(prompt);
    if !lits.is_empty() {
        s.push_str(&format!(
            ", each containing every placeholder ({}) verbatim",
            lits.join(", ")
        ));
    }
    s.push_str(". No code fences and no other text.");
    s
}

/// Turn a (possibly still flawed) parse into exactly `n` usable variants:
/// truncate extras, re-attach lost placeholders, pad with the rule-based
/// transform.
pub fn finalize(
    parsed: Parsed,
    prompt: &str,
    style: &str,
    instructions: Option<&str>,
    n: usize,
) -> Remix {
    let n = n.clamp(1, 5);
    let mut changes = parsed.changes;
    if changes.is_empty() {
        changes.push(format!(
            "Rewrote the prompt following the instructions of the \u{201C}{style}\u{201D} style."
        ));
    }
    let got = parsed.variants.len();
    let mut variants: Vec<String> = Vec::new();
    let mut restored = false;
    for v in parsed.variants.into_iter().take(n) {
        let fixed = restore_placeholders(prompt, &v);
        restored |= fixed != v;
        if !variants.contains(&fixed) {
            variants.push(fixed);
        }
    }
    if got > n {
        changes.push(format!(
            "The LLM returned {got} variants; kept the first {n} as asked."
        ));
    }
    if restored {
        changes.push(
            "Re-attached template variables the LLM dropped, so every placeholder of the input is still present.".to_string(),
        );
    }
    if variants.len() < n {
        let from = variants.len();
        let fallback = transform::remix(prompt, style, instructions, 5);
        for v in fallback.variants {
            if variants.len() == n {
                break;
            }
            if !variants.contains(&v) {
                variants.push(v);
            }
        }
        changes.push(format!(
            "The LLM returned {from} usable variant(s), so the remaining {} come from the rule-based transform.",
            variants.len() - from
        ));
    }
    Remix { variants, changes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style() -> StyleInfo {
        StyleInfo {
            name: "concise".into(),
            description: "Shorter".into(),
            instructions: "Remove filler.".into(),
            examples: vec![(
                "Please summarize {{doc}}.".into(),
                "Summarize {{doc}}.".into(),
            )],
        }
    }

    #[test]
    fn metaprompt_names_placeholders_count_and_extra() {
        let u = user_prompt(
            "Summarize {{doc}} for { audience }.",
            &style(),
            Some("Use British English"),
            3,
        );
        assert!(u.contains("{{doc}}"));
        assert!(u.contains("exactly 3 rewritten prompts"));
        assert!(u.contains("<extra_instructions>\nUse British English"));
        assert!(u.contains("<before>\nPlease summarize {{doc}}."));
        let schema: serde_json::Value = serde_json::from_str(&response_schema(3)).unwrap();
        assert_eq!(schema["required"][0], "variants");
    }

    #[test]
    fn check_reports_count_and_missing_placeholders() {
        let reply =
            "```json\n{\"variants\": [\"Summarize the doc.\"], \"changes\": [\"Shorter.\"]}\n```";
        let err = check(reply, "Please summarize {{doc}}.", 2).unwrap_err();
        assert_eq!(err.1.len(), 2);
        let msg = repair_prompt(&err.1, "Please summarize {{doc}}.", 2);
        assert!(msg.contains("exactly 2"));
        assert!(msg.contains(
            "Variant 1 is missing these placeholders, which must appear verbatim: {{doc}}"
        ));
        assert_eq!(
            check("nonsense", "x", 1).unwrap_err().1,
            vec![Problem::Unparsable]
        );
        assert!(
            check(
                "{\"variants\": [\"Sum {{doc}}.\"], \"changes\": []}",
                "{{doc}}",
                1
            )
            .is_ok()
        );
    }

    #[test]
    fn finalize_restores_pads_and_truncates() {
        let prompt = "Please summarize {{doc}} for {{audience}}.";
        let parsed = Parsed {
            variants: vec!["Summarize {{doc}}.".into()],
            changes: vec![],
        };
        let r = finalize(parsed, prompt, "concise", None, 3);
        assert_eq!(r.variants.len(), 3);
        for v in &r.variants {
            assert!(missing_placeholders(prompt, v).is_empty(), "{v}");
        }
        assert!(r.changes.iter().any(|c| c.contains("rule-based")));
        let many = Parsed {
            variants: (1..=4)
                .map(|i| format!("V{i} {{{{doc}}}} {{{{audience}}}}"))
                .collect(),
            changes: vec!["x".into()],
        };
        let r = finalize(many, prompt, "concise", None, 2);
        assert_eq!(
            r.variants,
            vec!["V1 {{doc}} {{audience}}", "V2 {{doc}} {{audience}}"]
        );
    }

    #[test]
    fn token_budget_is_bounded() {
        assert_eq!(max_tokens("hi", 1), 1024);
        assert_eq!(max_tokens(&"x".repeat(1_000_000), 5), 16_000);
    }
}
