//! The create request and response as plain Rust, plus the helpers both the
//! deterministic and the LLM path share.
//!
//! Nothing here touches the WIT bindings, so the logic is unit-tested on the
//! native target; `lib.rs` only converts between these types and the
//! generated ones.

use ps_guest_util::{is_variable_name, placeholders};

/// One input/output pair that shows the model what is expected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Example {
    /// What the model would receive.
    pub input: String,
    /// What the model should answer for `input`.
    pub output: String,
}

/// A create request, independent of the generated bindings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spec {
    /// What the created prompt must achieve.
    pub goal: String,
    /// Background the model needs.
    pub context: Option<String>,
    /// Who reads the model's answer.
    pub audience: Option<String>,
    /// The form of the answer the user wants.
    pub output_format: Option<String>,
    /// Rules the answer must follow.
    pub constraints: Vec<String>,
    /// Demonstrations of the expected behaviour.
    pub examples: Vec<Example>,
    /// Names the prompt must use as `{{name}}`.
    pub variables: Vec<String>,
    /// The model the prompt is written for, e.g. `claude-sonnet-4`.
    pub target_model: Option<String>,
}

/// A created prompt, independent of the generated bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The user-turn prompt template.
    pub prompt: String,
    /// The system prompt, when the prompt has one.
    pub system: Option<String>,
    /// Names used as `{{name}}` in `system` and `prompt`, system first.
    pub variables: Vec<String>,
    /// Why the prompt is built the way it is.
    pub rationale: String,
}

impl Created {
    /// Assemble a response, deriving `variables` from the text itself so the
    /// list can never disagree with what the template actually contains.
    pub fn new(prompt: String, system: Option<String>, rationale: String) -> Self {
        let mut variables = Vec::new();
        if let Some(s) = &system {
            push_double_names(s, &mut variables);
        }
        push_double_names(&prompt, &mut variables);
        Created {
            prompt,
            system,
            variables,
            rationale,
        }
    }
}

fn push_double_names(text: &str, out: &mut Vec<String>) {
    for p in placeholders(text) {
        if p.double && !out.contains(&p.name) {
            out.push(p.name);
        }
    }
}

/// Reject a request no strategy can serve, with a message the user can act on.
pub fn validate(spec: &Spec) -> Result<(), String> {
    if spec.goal.trim().is_empty() {
        return Err("goal must not be empty: describe what the prompt must achieve".to_string());
    }
    for name in &spec.variables {
        if !is_variable_name(name) {
            return Err(format!(
                "variable name {name:?} is not valid: use letters, digits, '_', '-' or '.', \
                 starting with a letter or '_' (write `document`, not `{{{{document}}}}`)"
            ));
        }
    }
    Ok(())
}

/// The variables the created prompt must carry: the requested ones, then any
/// `{{name}}` the user already wrote into the goal, context, constraints or
/// output format (dropping those would silently break the user's template).
pub fn input_variables(spec: &Spec) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in &spec.variables {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    let mut texts: Vec<&str> = vec![spec.goal.as_str()];
    texts.extend(spec.context.as_deref());
    texts.extend(spec.constraints.iter().map(String::as_str));
    texts.extend(spec.output_format.as_deref());
    for text in texts {
        push_double_names(text, &mut out);
    }
    out
}

/// True when `name` appears as a double-brace placeholder in `text`.
pub fn has_double(text: &str, name: &str) -> bool {
    placeholders(text)
        .iter()
        .any(|p| p.double && p.name == name)
}

/// Rewrite `{{ name }}` to the canonical `{{name}}`, so callers that look for
/// the exact literal (the contract speaks of `{{name}}`) find it.
pub fn canonical_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for p in placeholders(text) {
        if p.double && p.literal.len() != p.name.len() + 4 {
            out.push_str(&text[last..p.start]);
            out.push_str("{{");
            out.push_str(&p.name);
            out.push_str("}}");
            last = p.end;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// A variable name as words, for prose: `user_input` → `user input`.
pub fn humanize(name: &str) -> String {
    name.chars()
        .map(|c| if matches!(c, '_' | '-' | '.') { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Tagged input sections for `names`, one `<name>{{name}}</name>` block each.
///
/// Tags delimit untrusted input so injected text cannot pass for part of the
/// instructions; the variable name doubles as the tag name because a valid
/// variable name is also a valid XML name.
pub fn tagged_inputs(names: &[String]) -> String {
    let mut out = String::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push('<');
        out.push_str(name);
        out.push_str(">\n{{");
        out.push_str(name);
        out.push_str("}}\n</");
        out.push_str(name);
        out.push('>');
    }
    out
}

/// Trim `text` and end it with sentence punctuation, so user fragments read
/// as sentences when dropped into prose.
pub fn sentence(text: &str) -> String {
    let t = text.trim();
    let mut s = t.to_string();
    if t.ends_with(['。', '！', '？', '：', '）', '」']) {
        return s;
    }
    if !t.ends_with(['.', '!', '?', ':', ')', '"', '\'', '`', '>', '…']) {
        // CJK text takes a full-width mark; an ASCII "." glued to it reads
        // as a typo.
        s.push(if crate::fit::ends_cjk(t) { '。' } else { '.' });
    }
    s
}

/// True for models that reason internally before answering. Vendors advise
/// against asking them to think step by step, so both strategies drop that
/// instruction for them.
pub fn is_reasoning_model(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    ["o1", "o3", "o4"].iter().any(|p| m.starts_with(p))
        || ["reasoner", "-r1", "thinking", "gpt-5"]
            .iter()
            .any(|p| m.contains(p))
}

/// Lower-case words of `text` (letters and digits only), for keyword tests.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_goal_and_bad_names() {
        let mut spec = Spec {
            goal: "  \n".into(),
            ..Spec::default()
        };
        assert!(validate(&spec).is_err());
        spec.goal = "Summarize".into();
        assert!(validate(&spec).is_ok());
        spec.variables = vec!["ok_name".into(), "{{bad}}".into()];
        let err = validate(&spec).err().unwrap_or_default();
        assert!(err.contains("{{bad}}"), "{err}");
        spec.variables = vec!["9lives".into()];
        assert!(validate(&spec).is_err());
        spec.variables = vec!["has space".into()];
        assert!(validate(&spec).is_err());
        spec.variables = vec!["dokument_ü".into()];
        assert!(validate(&spec).is_ok());
    }

    #[test]
    fn input_variables_merge_requested_and_written() {
        let spec = Spec {
            goal: "Answer {{ question }} about {{document}}".into(),
            variables: vec!["document".into(), "document".into(), "tone".into()],
            ..Spec::default()
        };
        assert_eq!(input_variables(&spec), vec!["document", "tone", "question"]);
    }

    #[test]
    fn canonicalizes_spaced_placeholders() {
        assert_eq!(
            canonical_placeholders("a {{ x }} b {{y}} {z} ü{{ ä }}"),
            "a {{x}} b {{y}} {z} ü{{ä}}"
        );
    }

    #[test]
    fn created_lists_double_brace_names_system_first() {
        let c = Created::new(
            "Use {{b}} and {{a}} and {single}".into(),
            Some("Role for {{a}} {{c}}".into()),
            String::new(),
        );
        assert_eq!(c.variables, vec!["a", "c", "b"]);
    }

    #[test]
    fn small_text_helpers() {
        assert_eq!(humanize("user_input.v2"), "user input v2");
        assert_eq!(sentence(" do x "), "do x.");
        assert_eq!(sentence("done?"), "done?");
        assert_eq!(
            words("Summarizing Verträge, ÜBER"),
            vec!["summarizing", "verträge", "über"]
        );
    }
}
