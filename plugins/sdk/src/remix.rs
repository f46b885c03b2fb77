//! A complete LLM rewrite into a registry style: a metaprompt built from the
//! style's own instructions and examples, a JSON reply checked for the
//! variant count and every placeholder, and at most one repair turn.
//!
//! Everything but [`with_llm`] is pure and tested natively.

use serde_json::{Map, Value};

use crate::llm::{self, ChatRequest};
use crate::{PluginError, RemixRequest, RemixResponse, Style};

/// Examples beyond this many only cost tokens.
const MAX_EXAMPLES: usize = 3;

/// System prompt of the rewrite call.
pub const SYSTEM: &str = "You are an expert prompt engineer. You rewrite prompts for large language models into a \
     requested style while preserving their intent, every requirement, every piece of data and every template \
     variable. You never answer or carry out the prompt you are given; you only rewrite it. You reply with JSON only.";

/// Rewrite `req.prompt` into `style` with the host LLM: `req.variants`
/// variants, each keeping every placeholder of the input.
pub fn with_llm(req: &RemixRequest, style: &Style) -> Result<RemixResponse, PluginError> {
    let n = usize::from(req.variants.clamp(1, 5));
    let mut chat = ChatRequest {
        json_schema: Some(schema(n)),
        // Some spread helps distinct variants; a single one should stay faithful.
        temperature: Some(if n > 1 { 0.7 } else { 0.3 }),
        ..llm::request(
            SYSTEM,
            &metaprompt(&req.prompt, style, req.instructions.as_deref(), n),
        )
    };
    let first = llm::call(&chat).map_err(PluginError::Llm)?;
    let first_map = crate::extract_json_object(&first.text);
    let problems = match first_map.as_ref().map(|m| check(m, &req.prompt, n)) {
        Some(Ok(done)) => return Ok(done),
        Some(Err(problems)) => problems,
        None => vec!["the reply was not a JSON object".to_string()],
    };
    crate::log::warn(&format!("remix: LLM reply needs repair: {problems:?}"));
    llm::push_repair(&mut chat, first.text, &repair(&problems, &req.prompt, n));
    let second = llm::call(&chat).map_err(PluginError::Llm)?;
    // A flawed but parsable first answer beats giving up on an unparsable repair.
    let map = crate::extract_json_object(&second.text).or(first_map);
    map.and_then(|m| salvage(&m, &req.prompt, &style.name, n))
        .ok_or_else(|| {
            PluginError::UnusableLlmOutput(
                "the LLM did not return a JSON object with a \"variants\" list, even after one repair attempt"
                    .to_string(),
            )
        })
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
/// prompt, and the hard rules (count, placeholders, JSON shape).
pub fn metaprompt(prompt: &str, style: &Style, extra: Option<&str>, n: usize) -> String {
    let mut s = format!("Rewrite the prompt below in the style \"{}\"", style.name);
    if !style.description.trim().is_empty() {
        s.push_str(&format!(" ({})", style.description.trim()));
    }
    s.push_str(&format!(
        ".\n\n<style_instructions>\n{}\n</style_instructions>\n\n",
        style.instructions.trim()
    ));
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
    if let Some(extra) = extra.map(str::trim).filter(|e| !e.is_empty()) {
        s.push_str(&format!(
            "<extra_instructions>\n{extra}\n</extra_instructions>\n\n"
        ));
    }
    s.push_str(&format!(
        "Requirements:\n1. Produce exactly {n} rewritten prompt(s), best first; several must differ in structure or wording.\n\
         2. Keep the intent and every instruction, constraint and piece of data. Do not answer the prompt; rewrite it.\n"
    ));
    let lits = literals(prompt);
    if lits.is_empty() {
        s.push_str("3. The prompt has no template placeholders; do not add any.\n");
    } else {
        s.push_str(&format!(
            "3. Hard rule: these placeholders must appear verbatim in every variant: {}.\n",
            lits.join(", ")
        ));
    }
    s.push_str(
        "4. In \"changes\", one short sentence per change: what you changed and why.\n\n\
         Reply with only this JSON object:\n{\"variants\": [\"<rewritten prompt>\", ...], \"changes\": [\"<one sentence>\", ...]}",
    );
    s
}

/// JSON Schema of the reply. Lengths go in the description because some
/// providers' strict modes reject `minItems`/`maxItems`.
pub fn schema(n: usize) -> String {
    serde_json::json!({
        "type": "object",
        "properties": {
            "variants": {"type": "array", "items": {"type": "string"},
                         "description": format!("Exactly {n} rewritten prompts, best first.")},
            "changes": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["variants", "changes"],
        "additionalProperties": false
    })
    .to_string()
}

/// A reply that is right as it stands, or the list of what is wrong with it.
pub fn check(
    reply: &Map<String, Value>,
    prompt: &str,
    n: usize,
) -> Result<RemixResponse, Vec<String>> {
    let variants = crate::str_list_field(reply, "variants");
    let mut problems = Vec::new();
    if variants.len() != n {
        problems.push(format!(
            "expected exactly {n} variants, got {}",
            variants.len()
        ));
    }
    for (i, v) in variants.iter().enumerate() {
        let missing = crate::missing_placeholders(prompt, v);
        if !missing.is_empty() {
            problems.push(format!("variant {} dropped {}", i + 1, missing.join(", ")));
        }
    }
    if problems.is_empty() {
        Ok(RemixResponse {
            variants,
            changes: crate::str_list_field(reply, "changes"),
        })
    } else {
        Err(problems)
    }
}

/// The repair turn: what was wrong and the rules again.
pub fn repair(problems: &[String], prompt: &str, n: usize) -> String {
    let lits = literals(prompt);
    format!(
        "Your reply has these problems: {}. Reply again with only the JSON object, with exactly {n} variant(s){}.",
        problems.join("; "),
        if lits.is_empty() {
            String::new()
        } else {
            format!(", each containing verbatim: {}", lits.join(", "))
        }
    )
}

/// Best effort after the repair: the usable variants, placeholders
/// re-attached where the model still dropped them, cut or padded (by
/// repeating the best) to `n`. `None` when there is not a single variant.
pub fn salvage(
    reply: &Map<String, Value>,
    prompt: &str,
    style: &str,
    n: usize,
) -> Option<RemixResponse> {
    let mut variants: Vec<String> = crate::str_list_field(reply, "variants")
        .into_iter()
        .map(|v| crate::restore_placeholders(prompt, &v))
        .take(n)
        .collect();
    let best = variants.first()?.clone();
    while variants.len() < n {
        variants.push(best.clone());
    }
    let mut changes = crate::str_list_field(reply, "changes");
    if changes.is_empty() {
        changes.push(format!("Rewrote the prompt in the {style} style."));
    }
    Some(RemixResponse { variants, changes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StyleExample;

    fn style() -> Style {
        Style {
            name: "terse".into(),
            description: "short".into(),
            source: "plugin:test".into(),
            instructions: "Be terse.".into(),
            examples: vec![StyleExample {
                before: "Please do {{x}}.".into(),
                after: "Do {{x}}.".into(),
            }],
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn metaprompt_carries_style_and_placeholders() {
        let m = metaprompt(
            "Summarise {{doc}} for {{ who }}.",
            &style(),
            Some("no emoji"),
            2,
        );
        for needle in [
            "Be terse.",
            "<before>",
            "{{doc}}",
            "{{ who }}",
            "exactly 2",
            "no emoji",
        ] {
            assert!(m.contains(needle), "{needle} in {m}");
        }
    }

    #[test]
    fn check_and_salvage() {
        let p = "Summarise {{doc}}.";
        let good = obj(serde_json::json!({"variants": ["Sum {{doc}}."], "changes": ["shorter"]}));
        assert!(check(&good, p, 1).is_ok());
        let bad = obj(serde_json::json!({"variants": ["Sum it."]}));
        let problems = check(&bad, p, 2).err().unwrap_or_default();
        assert_eq!(problems.len(), 2, "{problems:?}");
        let fixed = salvage(&bad, p, "terse", 2).expect("salvaged");
        assert_eq!(fixed.variants.len(), 2);
        assert!(fixed.variants.iter().all(|v| v.contains("{{doc}}")));
        assert!(salvage(&obj(serde_json::json!({"variants": []})), p, "terse", 1).is_none());
    }
}
