//! A complete LLM rewrite into a registry style: a metaprompt built from the
//! style's own instructions and examples, a JSON reply checked for the
//! variant count and every placeholder, one repair turn, and a clean-up that
//! always yields the requested number of variants with every placeholder.
//!
//! [`rewrite`] is the whole flow over any chat function (the host's
//! [`llm::call`] in a plugin, a fake in a native test); [`with_llm`] is
//! [`rewrite`] with the host's LLM. Everything else is a pure piece, tested
//! natively and reusable with a prompt of your own.

use serde_json::{Map, Value};

use crate::llm::{self, ChatRequest, ChatResponse, Rejection};
use crate::{LlmError, PluginError, RemixRequest, RemixResponse, Style};

/// Examples beyond this many only cost tokens; the style is clear by then.
const MAX_EXAMPLES: usize = 3;

/// System prompt of the rewrite call.
pub const SYSTEM: &str = "You are an expert prompt engineer. You rewrite prompts for large language models into a \
     requested style while preserving their intent, every requirement, every piece of data and every template \
     variable. You never answer or carry out the prompt you are given; you only rewrite it. You reply with JSON only.";

/// The request checks every remix plugin makes first: a non-empty prompt and
/// 1..=5 variants (`invalid-input`, HTTP 422, otherwise).
pub fn validate(req: &RemixRequest) -> Result<(), PluginError> {
    if req.prompt.trim().is_empty() {
        return Err(PluginError::invalid_input("the prompt is empty"));
    }
    if !(1..=5).contains(&req.variants) {
        return Err(PluginError::invalid_input(format!(
            "variants must be 1..=5, got {}",
            req.variants
        )));
    }
    Ok(())
}

/// Rewrite `req.prompt` into `style` with the host LLM: `req.variants`
/// variants, each keeping every placeholder of the input. Missing variants
/// repeat the best one; use [`rewrite`] to pad from a rule-based fallback.
pub fn with_llm(req: &RemixRequest, style: &Style) -> Result<RemixResponse, PluginError> {
    rewrite(llm::call, req, style, Vec::new)
}

/// The whole LLM remix over any `chat` function: metaprompt, call, check, one
/// repair turn, then [`finalize`]. `fallback` is only called when the LLM
/// left fewer usable variants than asked for; it returns rule-based variants
/// to pad with, best first (empty: repeat the LLM's best).
pub fn rewrite<F>(
    chat: F,
    req: &RemixRequest,
    style: &Style,
    fallback: impl FnOnce() -> Vec<String>,
) -> Result<RemixResponse, PluginError>
where
    F: FnMut(&ChatRequest) -> Result<ChatResponse, LlmError>,
{
    let n = usize::from(req.variants.clamp(1, 5));
    let prompt = req.prompt.as_str();
    let request = ChatRequest {
        // Some spread helps distinct variants; a single one should stay faithful.
        temperature: Some(if n > 1 { 0.7 } else { 0.3 }),
        max_tokens: Some(max_tokens(prompt, n)),
        json_schema: Some(schema(n)),
        ..llm::request(
            SYSTEM,
            &metaprompt(prompt, style, req.instructions.as_deref(), n),
        )
    };
    // A flawed but parsable answer (the repaired one first) beats giving up:
    // `finalize` restores its placeholders and fixes the count.
    let parsed = llm::round_trip(
        chat,
        request,
        |reply| check(reply, prompt, n),
        |repaired, first| repaired.or(first),
    )?;
    Ok(finalize(parsed, prompt, &style.name, n, fallback))
}

/// Distinct placeholder literals of `prompt` (`{{name}}` as written), in order.
pub fn literals(prompt: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in crate::placeholders(prompt) {
        if !out.contains(&p.literal) {
            out.push(p.literal);
        }
    }
    out
}

/// The user message: the style's description, instructions and examples, the
/// prompt, the extra instructions, and the hard rules (count, placeholders,
/// JSON shape).
pub fn metaprompt(prompt: &str, style: &Style, instructions: Option<&str>, n: usize) -> String {
    let mut s = format!("Rewrite the prompt below in the style \"{}\"", style.name);
    if !style.description.trim().is_empty() {
        s.push_str(&format!(" ({})", style.description.trim()));
    }
    s.push_str(".\n\n<style_instructions>\n");
    s.push_str(style.instructions.trim());
    s.push_str("\n</style_instructions>\n\n");
    if !style.examples.is_empty() {
        s.push_str("<style_examples>\n");
        for e in style.examples.iter().take(MAX_EXAMPLES) {
            s.push_str(&format!(
                "<example>\n<before>\n{}\n</before>\n<after>\n{}\n</after>\n</example>\n",
                e.before.trim(),
                e.after.trim()
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
pub fn schema(n: usize) -> String {
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

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Unparsable => f.write_str(
                "the reply is not a JSON object with a non-empty \"variants\" list of strings",
            ),
            Problem::WrongCount { got, want } => {
                write!(f, "{got} distinct variant(s) instead of {want}")
            }
            Problem::Missing { variant, literals } => {
                write!(f, "variant {variant} dropped {}", literals.join(", "))
            }
        }
    }
}

/// Parse a reply into variants and changes, if it holds any.
pub fn parse(reply: &str) -> Option<Parsed> {
    parse_map(&crate::extract_json_object(reply)?)
}

fn parse_map(map: &Map<String, Value>) -> Option<Parsed> {
    let mut variants: Vec<String> = Vec::new();
    for v in crate::str_list_field(map, "variants") {
        if !variants.contains(&v) {
            variants.push(v);
        }
    }
    if variants.is_empty() {
        return None;
    }
    Some(Parsed {
        variants,
        changes: crate::str_list_field(map, "changes"),
    })
}

/// Everything wrong with a parsed reply: the count, then each variant's
/// dropped placeholders. Empty when it is right as it stands.
pub fn problems(parsed: &Parsed, prompt: &str, n: usize) -> Vec<Problem> {
    let mut problems = Vec::new();
    if parsed.variants.len() != n {
        problems.push(Problem::WrongCount {
            got: parsed.variants.len(),
            want: n,
        });
    }
    for (i, v) in parsed.variants.iter().enumerate().take(n) {
        let missing = crate::missing_placeholders(prompt, v);
        if !missing.is_empty() {
            problems.push(Problem::Missing {
                variant: i + 1,
                literals: missing,
            });
        }
    }
    problems
}

/// The check of the round trip: the parsed reply when it is right as it
/// stands, else a rejection whose repair turn lists every problem and which
/// keeps the parse (if any) for [`finalize`].
pub fn check(reply: &str, prompt: &str, n: usize) -> Result<Parsed, Rejection<Parsed>> {
    let Some(parsed) = parse(reply) else {
        let problems = [Problem::Unparsable];
        return Err(Rejection::new(
            Problem::Unparsable.to_string(),
            repair(&problems, prompt, n),
        ));
    };
    let problems = problems(&parsed, prompt, n);
    if problems.is_empty() {
        return Ok(parsed);
    }
    let described: Vec<String> = problems.iter().map(Problem::to_string).collect();
    Err(Rejection::new(described.join("; "), repair(&problems, prompt, n)).with_partial(parsed))
}

/// The repair turn: what is wrong and the rules again.
pub fn repair(problems: &[Problem], prompt: &str, n: usize) -> String {
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
/// truncate extras, re-attach lost placeholders, pad from `fallback` (called
/// only when needed) and, if that runs out, with the best variant again.
/// Every fix is named in `changes`.
pub fn finalize(
    parsed: Parsed,
    prompt: &str,
    style: &str,
    n: usize,
    fallback: impl FnOnce() -> Vec<String>,
) -> RemixResponse {
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
        let fixed = crate::restore_placeholders(prompt, &v);
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
        for v in fallback() {
            if variants.len() == n {
                break;
            }
            if !variants.contains(&v) {
                variants.push(v);
            }
        }
        if variants.len() > from {
            changes.push(format!(
                "The LLM returned {from} usable variant(s), so the remaining {} come from the rule-based transform.",
                variants.len() - from
            ));
        }
    }
    if let Some(best) = variants.first().cloned().filter(|_| variants.len() < n) {
        let repeats = n - variants.len();
        variants.resize(n, best);
        changes.push(format!(
            "No other usable variant was left, so the best one is repeated {repeats} time(s)."
        ));
    }
    RemixResponse { variants, changes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StyleExample;

    fn style() -> Style {
        Style {
            name: "concise".into(),
            description: "Shorter".into(),
            source: "builtin".into(),
            instructions: "Remove filler.".into(),
            examples: vec![StyleExample {
                before: "Please summarize {{doc}}.".into(),
                after: "Summarize {{doc}}.".into(),
            }],
        }
    }

    #[test]
    fn metaprompt_names_placeholders_count_and_extra() {
        let u = metaprompt(
            "Summarize {{doc}} for { audience }.",
            &style(),
            Some("Use British English"),
            3,
        );
        assert!(u.contains("{{doc}}"));
        assert!(u.contains("exactly 3 rewritten prompts"));
        assert!(u.contains("<extra_instructions>\nUse British English"));
        assert!(u.contains("<before>\nPlease summarize {{doc}}."));
        assert!(u.contains("Remove filler."));
        let schema: serde_json::Value = serde_json::from_str(&schema(3)).unwrap();
        assert_eq!(schema["required"][0], "variants");
    }

    #[test]
    fn check_reports_count_and_missing_placeholders() {
        let reply =
            "```json\n{\"variants\": [\"Summarize the doc.\"], \"changes\": [\"Shorter.\"]}\n```";
        let err = check(reply, "Please summarize {{doc}}.", 2).unwrap_err();
        assert_eq!(err.problem.matches("; ").count(), 1, "{}", err.problem);
        assert!(err.repair.contains("exactly 2"));
        assert!(err.repair.contains(
            "Variant 1 is missing these placeholders, which must appear verbatim: {{doc}}"
        ));
        assert_eq!(err.partial.map(|p| p.variants.len()), Some(1));
        let unparsable = check("nonsense", "x", 1).unwrap_err();
        assert_eq!(unparsable.problem, Problem::Unparsable.to_string());
        assert!(unparsable.partial.is_none());
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
        let pad = || vec!["Rule-based {{doc}} {{audience}}.".to_string()];
        let r = finalize(parsed.clone(), prompt, "concise", 3, pad);
        assert_eq!(r.variants.len(), 3);
        for v in &r.variants {
            assert!(crate::missing_placeholders(prompt, v).is_empty(), "{v}");
        }
        assert!(r.changes.iter().any(|c| c.contains("rule-based")));
        assert!(r.changes.iter().any(|c| c.contains("repeated 1 time")));
        // No fallback at all: the best variant is repeated.
        let r = finalize(parsed, prompt, "concise", 2, Vec::new);
        assert_eq!(r.variants[0], r.variants[1]);
        let many = Parsed {
            variants: (1..=4)
                .map(|i| format!("V{i} {{{{doc}}}} {{{{audience}}}}"))
                .collect(),
            changes: vec!["x".into()],
        };
        let r = finalize(many, prompt, "concise", 2, || unreachable!("not needed"));
        assert_eq!(
            r.variants,
            vec!["V1 {{doc}} {{audience}}", "V2 {{doc}} {{audience}}"]
        );
    }

    #[test]
    fn validate_refuses_an_empty_prompt_and_a_bad_count() {
        let req = |prompt: &str, variants: u8| RemixRequest {
            prompt: prompt.into(),
            style: "concise".into(),
            instructions: None,
            variants,
            use_llm: false,
        };
        assert!(validate(&req("Sum up {{doc}}.", 5)).is_ok());
        assert!(matches!(
            validate(&req("  ", 1)),
            Err(PluginError::InvalidInput(_))
        ));
        assert!(matches!(
            validate(&req("x", 0)),
            Err(PluginError::InvalidInput(_))
        ));
        assert!(matches!(
            validate(&req("x", 6)),
            Err(PluginError::InvalidInput(_))
        ));
    }

    #[test]
    fn token_budget_is_bounded() {
        assert_eq!(max_tokens("hi", 1), 1024);
        assert_eq!(max_tokens(&"x".repeat(1_000_000), 5), 16_000);
    }

    /// The whole flow with a fake chat: a dropped placeholder is repaired once.
    #[test]
    fn rewrite_repairs_a_dropped_placeholder_with_a_fake_chat() {
        let req = RemixRequest {
            prompt: "pls answer {{question}}".into(),
            style: "concise".into(),
            instructions: None,
            variants: 1,
            use_llm: true,
        };
        let mut fake = llm::FakeChat::new([
            r#"{"variants": ["Answer politely."], "changes": ["Shorter."]}"#,
            r#"{"variants": ["Answer {{question}} politely."], "changes": ["Shorter."]}"#,
        ]);
        let out = rewrite(|r| fake.chat(r), &req, &style(), Vec::new).unwrap();
        assert_eq!(out.variants, vec!["Answer {{question}} politely."]);
        assert_eq!(fake.requests.len(), 2);
        assert_eq!(fake.requests[0].system.as_deref(), Some(SYSTEM));
        assert!(
            fake.requests[1].messages[2]
                .content
                .contains("{{question}}")
        );
    }
}
