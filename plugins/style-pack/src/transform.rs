//! The three styles and their deterministic transforms (`use_llm: false`).
//!
//! Pure Rust, tested natively. A transform never rewrites the author's
//! sentences — it re-frames them — so every placeholder survives verbatim.

use promptsculptor_sdk::util::prompt::{self, tag_name};
use promptsculptor_sdk::{StyleDefinition, variable_names};
use serde_json::{Map, Value, json};

/// One style of the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackStyle {
    /// Anthropic's guidance: XML tags around inputs and instructions.
    AnthropicXml,
    /// OpenAI's GPT-4.1 guidance: Markdown sections in a fixed order.
    OpenAiMarkdown,
    /// A strict JSON output contract with a JSON Schema.
    JsonSchema,
}

/// Variants and change notes of one deterministic remix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remix {
    /// Best first.
    pub variants: Vec<String>,
    /// One sentence per change.
    pub changes: Vec<String>,
}

impl PackStyle {
    /// Every style, in manifest order.
    pub const ALL: [PackStyle; 3] = [
        PackStyle::AnthropicXml,
        PackStyle::OpenAiMarkdown,
        PackStyle::JsonSchema,
    ];

    /// Registry name.
    pub fn name(self) -> &'static str {
        match self {
            PackStyle::AnthropicXml => "anthropic-xml",
            PackStyle::OpenAiMarkdown => "openai-markdown-sections",
            PackStyle::JsonSchema => "json-schema-output",
        }
    }

    /// The style called `name`, if it is one of the pack's.
    pub fn from_name(name: &str) -> Option<PackStyle> {
        PackStyle::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The registry entry: description, instructions for the LLM path and a
    /// before/after example.
    pub fn definition(self) -> StyleDefinition {
        let before =
            "Summarise {{document}} for {{audience}}. Keep it short and mention any risks.";
        match self {
            PackStyle::AnthropicXml => StyleDefinition::new(
                self.name(),
                "Anthropic-style prompt: every input and instruction block in its own XML tag",
                "Restructure the prompt the way Anthropic's prompting guide recommends. State the task in one \
                 sentence inside <task>. Put each rule or requirement as a numbered item inside <instructions>. \
                 Wrap every input in its own descriptively named XML tag (e.g. <document>{{document}}</document>) \
                 inside <inputs>, with long inputs before the instructions. Say where the answer goes: inside \
                 <answer> tags, with any reasoning first inside <thinking> tags. Refer to the tags by name in the \
                 instructions. Keep every template variable exactly as written.",
            )
            .example(
                before,
                "<inputs>\n<document>\n{{document}}\n</document>\n<audience>\n{{audience}}\n</audience>\n</inputs>\n\n\
                 <task>\nSummarise the document in <document> for the reader described in <audience>.\n</task>\n\n\
                 <instructions>\n1. Keep the summary short: at most five sentences.\n2. Name every risk the document \
                 mentions.\n</instructions>\n\nThink it through inside <thinking> tags, then write the summary inside \
                 <answer> tags.",
            ),
            PackStyle::OpenAiMarkdown => StyleDefinition::new(
                self.name(),
                "OpenAI-style prompt: Markdown sections Role and Objective, Instructions, Context, Output Format",
                "Restructure the prompt into the Markdown sections OpenAI's GPT-4.1 prompting guide recommends, \
                 in this order: `# Role and Objective` (who the model is and the one goal), `# Instructions` \
                 (bullet points, one rule each, sub-sections with `##` when there are many), `# Reasoning Steps` \
                 when the task has several steps, `# Output Format` (exact shape, length and tone), `# Context` \
                 (the inputs, each labelled) and `# Final instructions` that repeat the most important rule. \
                 Keep every template variable exactly as written.",
            )
            .example(
                before,
                "# Role and Objective\nYou are an analyst. Summarise {{document}} for {{audience}}.\n\n\
                 # Instructions\n- Keep it short: at most five sentences.\n- Mention every risk the document names.\n\n\
                 # Output Format\nA short paragraph, then a bulleted list of risks.\n\n\
                 # Context\n- document: {{document}}\n- audience: {{audience}}\n\n\
                 # Final instructions\nDo not leave out any risk.",
            ),
            PackStyle::JsonSchema => StyleDefinition::new(
                self.name(),
                "Machine-readable answers: a strict JSON output contract with a JSON Schema",
                "Keep the task as it is and replace any loose description of the answer with a strict output \
                 contract: the model must reply with a single JSON object (no prose, no code fences) that \
                 validates against a JSON Schema given in the prompt. Derive the fields from the task \
                 (e.g. `summary`, `label`, `items`, `score`), give each a type and a description, list them in \
                 `required`, set `additionalProperties` to false, and say to use null when the input does not \
                 determine a value. Keep every template variable exactly as written.",
            )
            .example(
                before,
                "Summarise {{document}} for {{audience}}. Keep it short and mention any risks.\n\n## Output format\n\
                 Respond with only a JSON object, with no text before or after it and no code fences. It must \
                 validate against this JSON Schema:\n\n{\n  \"type\": \"object\",\n  \"properties\": {\n    \
                 \"summary\": {\"type\": \"string\", \"description\": \"The summary, at most five sentences.\"},\n    \
                 \"risks\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}\n  },\n  \"required\": \
                 [\"summary\", \"risks\"],\n  \"additionalProperties\": false\n}\n\nUse null for any value the \
                 input does not determine; never invent one.",
            ),
        }
    }
}

/// Closing advice added to variants past the three layouts, so five variants
/// are five different prompts.
const EXTRA_TIPS: [&str; 2] = [
    "If the inputs do not contain what the task needs, say so instead of guessing.",
    "Quote the passages of the inputs your answer relies on before giving it.",
];

/// Remix `prompt` into `style`, `n` variants (best first).
pub fn remix(style: PackStyle, prompt: &str, extra: Option<&str>, n: usize) -> Remix {
    let parts = Parts::of(prompt, extra);
    let variants = (0..n.max(1))
        .map(|i| {
            let mut v = match style {
                PackStyle::AnthropicXml => anthropic(&parts, i % 3),
                PackStyle::OpenAiMarkdown => openai(&parts, i % 3),
                PackStyle::JsonSchema => json_contract(&parts, i % 3),
            };
            if let Some(tip) = (i >= 3).then(|| EXTRA_TIPS[(i - 3) % EXTRA_TIPS.len()]) {
                v.push_str("\n\n");
                v.push_str(tip);
            }
            // Belt and braces: the layouts keep every sentence, so this never fires.
            promptsculptor_sdk::restore_placeholders(prompt, &v)
        })
        .collect();
    Remix {
        variants,
        changes: changes(style, &parts),
    }
}

/// A prompt taken apart by the SDK's shared parser: the task sentence, the
/// other rules, the sentences about the answer's shape, the protected blocks
/// (tagged sections, code fences) that are moved whole and never split, and
/// the inputs (placeholders) a layout may lift into their own tags.
#[derive(Debug, Clone)]
struct Parts {
    /// The author's persona sentence ("You are …"), kept word for word.
    role: Option<String>,
    task: String,
    rules: Vec<String>,
    output: Vec<String>,
    /// Tagged sections and code blocks, verbatim, in prompt order.
    material: Vec<String>,
    /// (tag name, placeholder literal as written) of placeholders in the
    /// sentences. Only filled for English prompts: lifting a placeholder out
    /// means rewording its sentence ("the document in <document>"), which
    /// the transform can only do in English; elsewhere it stays inline.
    inputs: Vec<(String, String)>,
}

impl Parts {
    fn of(prompt: &str, extra: Option<&str>) -> Parts {
        let (mut sentences, material) = split(prompt);
        let role = (sentences.len() > 1 && is_role(&sentences[0])).then(|| sentences.remove(0));
        let task = if sentences.is_empty() {
            if material.is_empty() {
                prompt.trim().to_string()
            } else {
                String::new()
            }
        } else {
            sentences.remove(0)
        };
        if let Some(extra) = extra.map(str::trim).filter(|e| !e.is_empty()) {
            sentences.extend(split(extra).0);
        }
        let (output, rules) = sentences.into_iter().partition(|s| is_about_output(s));
        let mut parts = Parts {
            role,
            task,
            rules,
            output,
            material,
            inputs: Vec::new(),
        };
        if prompt::language(prompt) == "en" {
            let text = parts
                .sentences()
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            // A placeholder already inside a tag (`<contract>{{contract}}</contract>`
            // in a sentence) is delimited as it is; lifting it would nest tags.
            let placeholders: Vec<_> = promptsculptor_sdk::placeholders(&text)
                .into_iter()
                .filter(|p| !text[..p.start].trim_end().ends_with('>'))
                .collect();
            parts.inputs = variable_names(&text)
                .into_iter()
                .filter(|name| {
                    placeholders
                        .iter()
                        .all(|p| p.name != *name || !text.contains(&format!(">{}", p.literal)))
                })
                .filter_map(|name| {
                    let literal = placeholders
                        .iter()
                        .find(|p| p.name == name)?
                        .literal
                        .clone();
                    // A placeholder written twice in the sentences is
                    // referred to twice but its data is sent once.
                    Some((tag_name(&name), literal))
                })
                .collect();
        }
        parts
    }

    fn sentences(&self) -> Vec<&String> {
        self.role
            .iter()
            .chain(std::iter::once(&self.task))
            .chain(&self.rules)
            .chain(&self.output)
            .collect()
    }

    /// `s` with each lifted placeholder replaced by `refer(name, tag)`.
    fn refer(&self, s: &str, refer: impl Fn(&str, &str) -> String) -> String {
        let mut out = s.to_string();
        for (tag, literal) in &self.inputs {
            out = out.replace(literal, &refer(&tag.replace('_', " "), tag));
        }
        out
    }
}

/// "You are …", "Act as …" and their German, Spanish and French forms.
fn is_role(s: &str) -> bool {
    let l = s.to_lowercase();
    [
        "you are ",
        "act as ",
        "du bist ",
        "sie sind ",
        "eres ",
        "usted es ",
        "tu es ",
        "vous êtes ",
    ]
    .iter()
    .any(|lead| l.starts_with(lead))
}

/// Sentences of `text` (list markers dropped, split by the shared parser,
/// which knows abbreviations and CJK sentence marks) and its protected
/// blocks: a line that is nothing but a tagged section or a code fence is
/// kept whole, never split into sentences or numbered as a rule.
fn split(text: &str) -> (Vec<String>, Vec<String>) {
    let m = prompt::mask(text);
    let mut sentences = Vec::new();
    let mut material = Vec::new();
    for line in m.text.lines() {
        let line = strip_marker(line.trim());
        if line.is_empty() {
            continue;
        }
        if prompt::is_only_slots(line) && m.unmask(line).trim_start().starts_with(['<', '`']) {
            material.push(m.unmask(line).trim().to_string());
            continue;
        }
        for s in prompt::split_sentences(line) {
            let s = m.unmask(s);
            if s.contains('\n') {
                // A block inside a sentence ("See ```…```") stays one piece.
                material.push(s);
            } else {
                sentences.push(s);
            }
        }
    }
    (sentences, material)
}

/// `- item`, `* item`, `1. item`, `2) item` → `item`.
fn strip_marker(line: &str) -> &str {
    if let Some(rest) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        return rest.trim_start();
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        let rest = &line[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return r.trim_start();
        }
    }
    line
}

/// Whether a sentence describes the answer's shape rather than the task.
fn is_about_output(s: &str) -> bool {
    let l = s.to_lowercase();
    [
        "format",
        "respond",
        "reply",
        "return",
        "output",
        "json",
        "bullet",
        "table",
        "markdown",
        "words",
        "sentences",
        "paragraph",
        "answer with",
        "answer in",
    ]
    .iter()
    .any(|k| l.contains(k))
}

fn numbered(items: &[String]) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

fn bulleted(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("- {s}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn xml_inputs(p: &Parts) -> String {
    let body: Vec<String> = p
        .inputs
        .iter()
        .map(|(tag, literal)| format!("<{tag}>\n{literal}\n</{tag}>"))
        .chain(p.material.iter().cloned())
        .collect();
    format!("<inputs>\n{}\n</inputs>", body.join("\n"))
}

/// A sentence for the XML layouts: lifted placeholders become references to
/// their tags.
fn xml_ref(p: &Parts, s: &str) -> String {
    p.refer(s, |name, tag| format!("the {name} in <{tag}>"))
}

/// Anthropic layouts: 0 task first; 1 long inputs first (their long-context
/// advice) with thinking tags; 2 a role line and rules with the inputs last.
fn anthropic(p: &Parts, layout: usize) -> String {
    let mut blocks: Vec<String> = Vec::new();
    // The author's persona frames everything, so it opens the prompt outside
    // the tags (layout 2 otherwise opens with a generic one).
    blocks.extend(p.role.iter().map(|r| xml_ref(p, r)));
    let rules: Vec<String> = p.rules.iter().map(|r| xml_ref(p, r)).collect();
    let task = format!("<task>\n{}\n</task>", xml_ref(p, &p.task));
    let instructions = (!rules.is_empty())
        .then(|| format!("<instructions>\n{}\n</instructions>", numbered(&rules)));
    let inputs = (!p.inputs.is_empty() || !p.material.is_empty()).then(|| xml_inputs(p));
    let answer = if p.output.is_empty() {
        "Write your final answer inside <answer> tags.".to_string()
    } else {
        format!(
            "<output_format>\n{}\n</output_format>\n\nWrite your final answer inside <answer> tags.",
            p.output
                .iter()
                .map(|o| xml_ref(p, o))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    match layout {
        0 => {
            blocks.push(task);
            blocks.extend(instructions);
            blocks.extend(inputs);
            blocks.push(answer);
        }
        1 => {
            blocks.extend(inputs);
            blocks.push(task);
            blocks.extend(instructions);
            blocks.push(format!(
                "Think the task through step by step inside <thinking> tags first.\n\n{answer}"
            ));
        }
        _ if p.role.is_some() => {
            blocks.push(
                "The task, its rules and its inputs are given in XML tags below; refer to them by tag name."
                    .to_string(),
            );
            blocks.push(task);
            if !rules.is_empty() {
                blocks.push(format!("<rules>\n{}\n</rules>", bulleted(&rules)));
            }
            blocks.extend(inputs);
            blocks.push(answer);
        }
        _ => {
            blocks.push(
                "You are a careful expert. The task, its rules and its inputs are given in XML tags below; refer \
                 to them by tag name."
                    .to_string(),
            );
            blocks.push(task);
            if !rules.is_empty() {
                blocks.push(format!("<rules>\n{}\n</rules>", bulleted(&rules)));
            }
            blocks.extend(inputs);
            blocks.push(answer);
        }
    }
    blocks.join("\n\n")
}

/// OpenAI layouts: 0 the guide's core sections; 1 plus reasoning steps and
/// final instructions; 2 instructions repeated after the context (their
/// advice for long context).
fn openai(p: &Parts, layout: usize) -> String {
    let md = |s: &str| p.refer(s, |name, _| format!("the {name} under Context"));
    let task = md(&p.task);
    let mut s = match &p.role {
        Some(role) => format!("# Role and Objective\n{}\n{task}", md(role)),
        None => format!("# Role and Objective\n{task}"),
    };
    let rules = if p.rules.is_empty() {
        "- Follow the objective above exactly.".to_string()
    } else {
        bulleted(&p.rules.iter().map(|r| md(r)).collect::<Vec<_>>())
    };
    s.push_str(&format!("\n\n# Instructions\n{rules}"));
    if layout == 1 {
        s.push_str(
            "\n\n# Reasoning Steps\n1. Read the context in full.\n2. Work out what the objective needs from it.\n\
             3. Check the draft answer against every instruction before replying.",
        );
    }
    let format = if p.output.is_empty() {
        "Reply in plain, concise prose; use Markdown only where it aids reading.".to_string()
    } else {
        p.output
            .iter()
            .map(|o| md(o))
            .collect::<Vec<_>>()
            .join("\n")
    };
    s.push_str(&format!("\n\n# Output Format\n{format}"));
    if !p.inputs.is_empty() || !p.material.is_empty() {
        let ctx: Vec<String> = p
            .inputs
            .iter()
            .map(|(tag, literal)| format!("- {tag}: {literal}"))
            .chain(p.material.iter().cloned())
            .collect();
        s.push_str(&format!("\n\n# Context\n{}", ctx.join("\n")));
    }
    match layout {
        1 => s.push_str(
            "\n\n# Final instructions\nThink step by step, then give only the final answer.",
        ),
        // Repeating a task that still holds a placeholder would send that
        // input twice, so such a task is pointed at, not repeated.
        2 if promptsculptor_sdk::placeholders(&task).is_empty() => s.push_str(&format!(
            "\n\n# Final instructions\nRemember the objective: {task}"
        )),
        2 => s.push_str(
            "\n\n# Final instructions\nRemember the objective stated under # Role and Objective, and follow every instruction above.",
        ),
        _ => {}
    }
    s
}

/// Fields a task asks for, from its verbs: (name, schema).
fn fields(p: &Parts) -> Vec<(&'static str, Value)> {
    let all = format!("{} {}", p.task, p.rules.join(" ")).to_lowercase();
    let has = |ks: &[&str]| ks.iter().any(|k| all.contains(k));
    let described = |kind: &str, what: &str| {
        let mut d = what.to_string();
        if !p.output.is_empty() {
            d.push(' ');
            d.push_str(&p.output.join(" "));
        }
        json!({"type": kind, "description": d})
    };
    let mut out = Vec::new();
    if has(&["classif", "categor", "label", "sentiment", "tag "]) {
        out.push((
            "label",
            described("string", "The category the input belongs to."),
        ));
    }
    if has(&["extract", "list ", "find all", "identify", "enumerate"]) {
        out.push((
            "items",
            json!({"type": "array", "items": {"type": "string"}, "description": "Every item found, in order of appearance."}),
        ));
    }
    if has(&["summar"]) {
        out.push(("summary", described("string", "The summary.")));
    }
    if has(&["translat"]) {
        out.push(("translation", described("string", "The translated text.")));
    }
    if has(&["score", "rate ", "rating", "grade"]) {
        out.push((
            "score",
            json!({"type": "number", "description": "The score, on the scale the task names."}),
        ));
    }
    if has(&["risk"]) {
        out.push(("risks", json!({"type": "array", "items": {"type": "string"}, "description": "Every risk mentioned."})));
    }
    if out.is_empty() {
        out.push((
            "answer",
            described("string", "The complete answer to the task."),
        ));
    }
    out
}

/// JSON layouts: 0 the inferred fields; 1 a `reasoning` field first (the
/// model reasons before committing to values); 2 a result/error envelope so
/// a refusal is machine-readable too.
fn json_contract(p: &Parts, layout: usize) -> String {
    let mut props = Map::new();
    let mut required: Vec<Value> = Vec::new();
    if layout == 1 {
        props.insert(
            "reasoning".into(),
            json!({"type": "string", "description": "Brief reasoning, written before the other fields."}),
        );
        required.push("reasoning".into());
    }
    for (name, schema) in fields(p) {
        props.insert(name.into(), schema);
        required.push(name.into());
    }
    let mut schema = json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    });
    if layout == 2 {
        schema = json!({
            "type": "object",
            "properties": {
                "result": {"anyOf": [schema, {"type": "null"}]},
                "error": {"type": ["string", "null"], "description": "Why the task cannot be done, else null."}
            },
            "required": ["result", "error"],
            "additionalProperties": false,
        });
    }
    let pretty = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| schema.to_string());
    // The task keeps its own wording and placeholders (each input is sent
    // once, where the author put it); protected blocks follow it verbatim.
    let mut body = vec![prompt::join_sentences(
        &p.role
            .iter()
            .chain(std::iter::once(&p.task))
            .chain(&p.rules)
            .collect::<Vec<_>>(),
    )];
    body.extend(p.material.iter().cloned());
    format!(
        "{}\n\n## Output format\nRespond with only a JSON object, with no text before or after it and no \
         code fences. It must validate against this JSON Schema:\n\n{pretty}\n\nUse null for any value the input \
         does not determine; never invent one.",
        body.join("\n\n")
    )
}

fn changes(style: PackStyle, p: &Parts) -> Vec<String> {
    let mut out = Vec::new();
    match style {
        PackStyle::AnthropicXml => {
            out.push("Put the task in a <task> tag so the model knows its one goal.".to_string());
            if !p.rules.is_empty() {
                out.push(
                    "Numbered the requirements inside <instructions> so none is overlooked."
                        .to_string(),
                );
            }
            if !p.inputs.is_empty() {
                out.push("Wrapped every input variable in its own XML tag to separate data from instructions.".to_string());
            }
            if !p.material.is_empty() {
                out.push(
                    "Kept the tagged sections and code blocks verbatim inside <inputs>."
                        .to_string(),
                );
            }
            out.push(
                "Asked for the final answer inside <answer> tags so it is easy to extract."
                    .to_string(),
            );
        }
        PackStyle::OpenAiMarkdown => {
            out.push(
                "Organised the prompt into the Markdown sections of OpenAI's prompting guide."
                    .to_string(),
            );
            if !p.rules.is_empty() {
                out.push("Listed each rule as its own bullet under # Instructions.".to_string());
            }
            if !p.inputs.is_empty() {
                out.push("Labelled every input under # Context.".to_string());
            }
            if !p.material.is_empty() {
                out.push(
                    "Kept the tagged sections and code blocks verbatim under # Context."
                        .to_string(),
                );
            }
        }
        PackStyle::JsonSchema => {
            out.push(
                "Replaced the loose answer description with a strict JSON output contract."
                    .to_string(),
            );
            out.push(
                "Derived the schema's fields from the task and made them all required.".to_string(),
            );
            out.push("Told the model to use null instead of inventing values.".to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use promptsculptor_sdk::missing_placeholders;

    const PROMPT: &str = "Summarise {{document}} for {{ audience }}. Mention every risk, e.g. legal ones.\n\
                          - Keep it under 100 words.\nUse {lang} throughout.";

    #[test]
    fn every_variant_of_every_style_keeps_every_placeholder() {
        for style in PackStyle::ALL {
            for n in 1..=5 {
                let r = remix(style, PROMPT, Some("Be neutral."), n);
                assert_eq!(r.variants.len(), n);
                for v in &r.variants {
                    assert!(missing_placeholders(PROMPT, v).is_empty(), "{style:?}: {v}");
                }
                assert!(!r.changes.is_empty());
            }
        }
    }

    #[test]
    fn deterministic_and_distinct() {
        for style in PackStyle::ALL {
            let a = remix(style, PROMPT, None, 5);
            assert_eq!(a, remix(style, PROMPT, None, 5));
            for i in 0..5 {
                for j in i + 1..5 {
                    assert_ne!(a.variants[i], a.variants[j], "{style:?} {i} {j}");
                }
            }
        }
    }

    #[test]
    fn anthropic_tags_inputs_and_instructions() {
        let v = &remix(PackStyle::AnthropicXml, PROMPT, None, 1).variants[0];
        assert!(
            v.starts_with("<task>\nSummarise the document in <document> for the audience in <audience>.\n</task>"),
            "{v}"
        );
        // Each input is sent once: lifted into its tag, referred to by name.
        assert_eq!(v.matches("{{document}}").count(), 1, "{v}");
        assert!(v.contains("<document>\n{{document}}\n</document>"), "{v}");
        assert!(v.contains("1. Mention every risk, e.g. legal ones."), "{v}");
        assert!(
            v.contains("<output_format>\nKeep it under 100 words."),
            "{v}"
        );
        assert!(v.contains("<answer>"));
    }

    #[test]
    fn openai_sections_in_order() {
        let v = &remix(PackStyle::OpenAiMarkdown, PROMPT, None, 1).variants[0];
        let at = |h: &str| v.find(h).unwrap_or(usize::MAX);
        assert!(at("# Role and Objective") < at("# Instructions"));
        assert!(at("# Instructions") < at("# Output Format"));
        assert!(at("# Output Format") < at("# Context"));
        assert!(v.contains("- lang: {lang}"), "{v}");
    }

    #[test]
    fn json_schema_is_valid_json_with_inferred_fields() {
        let v = &remix(PackStyle::JsonSchema, PROMPT, None, 1).variants[0];
        let start = v.find("\n{\n").map(|i| i + 1).unwrap_or(0);
        let end = v.rfind("\n}").map(|i| i + 2).unwrap_or(v.len());
        let schema: Value = serde_json::from_str(&v[start..end]).expect("schema parses");
        assert_eq!(schema["required"], json!(["summary", "risks"]));
        assert_eq!(schema["additionalProperties"], json!(false));
        // The schema itself must not read as a template variable.
        assert_eq!(variable_names(v), variable_names(PROMPT));
    }

    #[test]
    fn definitions_are_complete() {
        for s in PackStyle::ALL {
            let d = s.definition();
            assert_eq!(PackStyle::from_name(&d.name), Some(s));
            assert!(d.instructions.len() > 200 && d.examples.len() == 1);
            let e = &d.examples[0];
            assert!(
                missing_placeholders(&e.before, &e.after).is_empty(),
                "{}",
                d.name
            );
        }
    }
}
