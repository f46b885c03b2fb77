//! Plain-Rust helpers shared by PromptSculptor's built-in plugins.
//!
//! Nothing here touches the WIT bindings, so every function is unit-tested on
//! the native target and reused by all three guests.

pub mod prompt;

use serde_json::Value;

/// One template placeholder found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The variable name, trimmed (`user_input` for `{{ user_input }}`).
    pub name: String,
    /// The exact text of the placeholder as written (`{{ user_input }}`).
    pub literal: String,
    /// Byte offset of the first brace.
    pub start: usize,
    /// Byte offset just past the last brace.
    pub end: usize,
    /// True for `{{name}}`, false for the single-brace `{name}` form.
    pub double: bool,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// True when `s` is a valid variable name (letters, digits, `_`, `-`, `.`,
/// starting with a letter or `_`).
pub fn is_variable_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if is_name_start(c)) && chars.all(is_name_char)
}

/// Every well-formed placeholder in `text`, in order of appearance.
///
/// `{{name}}` (inner whitespace allowed) always counts. A single-brace
/// `{name}` counts only where it is unambiguous: the braces hold nothing but
/// a name and are not part of a larger brace group, so JSON objects such as
/// `{"a": 1}` and code blocks are not mistaken for variables.
pub fn placeholders(text: &str) -> Vec<Placeholder> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'{') {
            // Skip runs of three or more braces: `{{{x}}}` is not ours to judge.
            if bytes.get(i + 2) == Some(&b'{') {
                let mut j = i;
                while j < bytes.len() && bytes[j] == b'{' {
                    j += 1;
                }
                i = j;
                continue;
            }
            if let Some(close) = text[i + 2..].find("}}") {
                let inner = &text[i + 2..i + 2 + close];
                let name = inner.trim();
                let end = i + 2 + close + 2;
                if is_variable_name(name) && !inner.contains('{') {
                    out.push(Placeholder {
                        name: name.to_string(),
                        literal: text[i..end].to_string(),
                        start: i,
                        end,
                        double: true,
                    });
                    i = end;
                    continue;
                }
            }
            i += 2;
            continue;
        }
        // Single brace: `{name}` not adjacent to other braces.
        let prev_brace = i > 0 && bytes[i - 1] == b'{';
        if !prev_brace && let Some(close) = text[i + 1..].find('}') {
            let inner = &text[i + 1..i + 1 + close];
            let end = i + 1 + close + 1;
            let next_brace = bytes.get(end) == Some(&b'}');
            if !next_brace && is_variable_name(inner) {
                out.push(Placeholder {
                    name: inner.to_string(),
                    literal: text[i..end].to_string(),
                    start: i,
                    end,
                    double: false,
                });
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Distinct variable names in `text`, in order of first appearance.
pub fn variable_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in placeholders(text) {
        if !names.contains(&p.name) {
            names.push(p.name);
        }
    }
    names
}

/// Placeholder literals of `original` (e.g. `{{topic}}`) that do not appear
/// verbatim in `candidate`. A remix must return an empty list.
pub fn missing_placeholders(original: &str, candidate: &str) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    for p in placeholders(original) {
        if !candidate.contains(&p.literal) && !missing.contains(&p.literal) {
            missing.push(p.literal);
        }
    }
    missing
}

/// Re-attach placeholders a rewrite dropped, so no variable is ever lost.
///
/// The missing literals are appended in a short "Inputs" block; used only as
/// the last resort after the LLM failed to keep them when asked twice.
pub fn restore_placeholders(original: &str, candidate: &str) -> String {
    let missing = missing_placeholders(original, candidate);
    if missing.is_empty() {
        return candidate.to_string();
    }
    let mut out = candidate.trim_end().to_string();
    out.push_str("\n\nInputs:\n");
    for literal in missing {
        out.push_str("- ");
        out.push_str(&literal);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// Convert a byte offset into `text` to a character (Unicode scalar) offset.
pub fn char_offset(text: &str, byte: usize) -> usize {
    let byte = byte.min(text.len());
    // Clamp to a char boundary so callers with a slightly-off offset never panic.
    let mut b = byte;
    while b > 0 && !text.is_char_boundary(b) {
        b -= 1;
    }
    text[..b].chars().count()
}

/// Parse the first JSON object in an LLM reply.
///
/// Accepts the bare object, one wrapped in a Markdown code fence, or one with
/// prose around it. Returns `None` when no object parses.
pub fn extract_json_object(reply: &str) -> Option<serde_json::Map<String, Value>> {
    let trimmed = reply.trim();
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed) {
        return Some(map);
    }
    // Inside a code fence.
    if let Some(start) = trimmed.find("```") {
        let after = &trimmed[start + 3..];
        let body_start = after.find('\n').map(|n| n + 1).unwrap_or(0);
        let body = &after[body_start..];
        if let Some(end) = body.find("```")
            && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body[..end].trim())
        {
            return Some(map);
        }
    }
    // Widest brace-delimited slice, then shrink from the right.
    let start = trimmed.find('{')?;
    let mut end = trimmed.len();
    while let Some(close) = trimmed[..end].rfind('}') {
        if close < start {
            break;
        }
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&trimmed[start..=close]) {
            return Some(map);
        }
        end = close;
    }
    None
}

/// A string field of a JSON object, trimmed, if present and non-empty.
pub fn str_field(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A list of non-empty strings from a JSON array field (other items skipped).
pub fn str_list_field(map: &serde_json::Map<String, Value>, key: &str) -> Vec<String> {
    map.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_double_and_unambiguous_single_braces() {
        let t = "Hi {{ name }}, see {topic} and {{name}}.";
        let p = placeholders(t);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].name, "name");
        assert_eq!(p[0].literal, "{{ name }}");
        assert!(!p[1].double);
        assert_eq!(variable_names(t), vec!["name", "topic"]);
    }

    #[test]
    fn json_is_not_a_variable() {
        let t = r#"Return {"name": "x", "n": 1} or {"a": {"b": 2}}"#;
        assert!(variable_names(t).is_empty());
    }

    #[test]
    fn malformed_and_nested_are_skipped() {
        assert!(variable_names("{{}} and {{a {{b}} }}").contains(&"b".to_string()));
        // An unbalanced `{{name}` is malformed, not a variable.
        assert!(variable_names("{{name}").is_empty());
        assert!(variable_names("{{{triple}}}").is_empty());
    }

    #[test]
    fn missing_and_restored() {
        let orig = "Summarise {{doc}} for {{audience}}.";
        let cand = "Summarise the document for {{audience}}.";
        assert_eq!(missing_placeholders(orig, cand), vec!["{{doc}}"]);
        let fixed = restore_placeholders(orig, cand);
        assert!(missing_placeholders(orig, &fixed).is_empty());
    }

    #[test]
    fn char_offsets_count_scalars() {
        let t = "héllo wörld";
        let b = t.find("wörld").unwrap_or(0);
        assert_eq!(char_offset(t, b), 6);
        assert_eq!(char_offset(t, 2), 1); // inside 'é' clamps back
    }

    #[test]
    fn json_from_fences_and_prose() {
        assert!(extract_json_object("{\"a\":1}").is_some());
        assert!(extract_json_object("Sure!\n```json\n{\"a\": 1}\n```\nDone").is_some());
        let m = extract_json_object("Here: {\"a\": {\"b\": 2}} trailing } brace");
        assert_eq!(
            m.and_then(|m| m.get("a").cloned()),
            Some(serde_json::json!({"b": 2}))
        );
        assert!(extract_json_object("no json here").is_none());
    }
}
