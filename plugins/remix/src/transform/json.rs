//! json-output: an inferred or user-given JSON contract.

use super::*;

// ---------------------------------------------------------------- json-output

/// (key, type, meaning) of an inferred JSON field.
pub(super) type Field = (&'static str, &'static str, &'static str);

pub(super) fn infer_fields(p: &Prompt) -> (&'static str, Vec<Field>) {
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

pub(super) fn shape(fields: &[Field]) -> String {
    let lines: Vec<String> = fields
        .iter()
        .map(|(k, t, d)| format!("  \"{k}\": \"<{t}: {}>\"", d.replace('"', "'")))
        .collect();
    format!("{{\n{}\n}}", lines.join(",\n"))
}

pub(super) fn schema_type(t: &str) -> String {
    match t {
        "string" => "{\"type\": \"string\"".into(),
        "number" => "{\"type\": \"number\"".into(),
        "integer" => "{\"type\": \"integer\"".into(),
        "array of strings" => "{\"type\": \"array\", \"items\": {\"type\": \"string\"}".into(),
        "array of objects" => "{\"type\": \"array\", \"items\": {\"type\": \"object\"}".into(),
        _ => "{\"type\": \"string\"".into(),
    }
}

pub(super) fn schema(fields: &[Field]) -> String {
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
pub(super) fn user_shape(p: &Prompt) -> Option<String> {
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

pub(super) const JSON_RULES: &str = "Rules for the JSON:\n\
- Use exactly these keys and add no others.\n\
- Use double quotes and escape special characters so a strict JSON parser accepts the object.\n\
- If a value cannot be determined from the input, use null instead of guessing.";

pub(super) fn json_output(p: &Prompt) -> Draft {
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
