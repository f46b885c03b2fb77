//! Assertions: checked once when a request (or suite) arrives, so a bad
//! regex or schema is a 422 before any LLM call, then applied to outputs.

use std::sync::Arc;

use serde_json::Value;

use crate::runtime::tokens;

/// Longest regex source accepted, in bytes.
const MAX_REGEX_BYTES: usize = 4096;
/// Compiled-regex size cap: a pathological pattern is refused, not run.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Longest text value (`contains`, rubric, …), in characters.
pub const MAX_VALUE_CHARS: usize = 20_000;

/// One assertion as a client wrote it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct AssertionSpec {
    /// The type name (`icontains`, …).
    pub kind: Option<String>,
    /// The type's value.
    pub value: Option<Value>,
    /// Weight in the case's score.
    pub weight: Option<f64>,
    /// Score at or above which it passes.
    pub threshold: Option<f64>,
    /// Settings for `grader`.
    pub config: Option<Value>,
}

/// A checked assertion, ready to grade.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// What it checks.
    pub check: Check,
    /// Weight in the case's score, finite and ≥ 0.
    pub weight: f64,
    /// Score at or above which it passes, 0..=1.
    pub threshold: f64,
}

/// The assertion types of contract §6.
#[derive(Debug, Clone)]
pub enum Check {
    /// The output equals the text exactly, or (non-string value) parses as
    /// JSON equal to it.
    Equals(Value),
    /// The output contains the text.
    Contains(String),
    /// The output contains the text, Unicode-lowercased on both sides.
    IContains(String),
    /// The output does not contain the text.
    NotContains(String),
    /// The output starts with the text.
    StartsWith(String),
    /// The regex matches somewhere in the output.
    Regex(Arc<regex::Regex>),
    /// The output is one JSON value.
    IsJson,
    /// The output is JSON valid against the schema.
    JsonSchema(Arc<jsonschema::Validator>),
    /// The output has at most this many characters.
    MaxChars(u64),
    /// The output has at most this many tokens (host tokenizer).
    MaxTokens(u64),
    /// An LLM judge scores the output against the rubric.
    LlmRubric(String),
    /// A grade plugin scores the output.
    Grader {
        /// The grade plugin's name.
        name: String,
        /// Its settings.
        config: Value,
    },
}

impl Check {
    /// The type name, as the client wrote it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Check::Equals(_) => "equals",
            Check::Contains(_) => "contains",
            Check::IContains(_) => "icontains",
            Check::NotContains(_) => "not-contains",
            Check::StartsWith(_) => "starts-with",
            Check::Regex(_) => "regex",
            Check::IsJson => "is-json",
            Check::JsonSchema(_) => "json-schema",
            Check::MaxChars(_) => "max-chars",
            Check::MaxTokens(_) => "max-tokens",
            Check::LlmRubric(_) => "llm-rubric",
            Check::Grader { .. } => "grader",
        }
    }

    /// Whether grading needs a plugin call (and so may be slow or fail).
    pub fn is_plugin(&self) -> bool {
        matches!(self, Check::LlmRubric(_) | Check::Grader { .. })
    }
}

/// Every assertion type, for messages.
pub const TYPES: &[&str] = &[
    "equals",
    "contains",
    "icontains",
    "not-contains",
    "starts-with",
    "regex",
    "is-json",
    "json-schema",
    "max-chars",
    "max-tokens",
    "llm-rubric",
    "grader",
];

/// Check one assertion; `at` names it in messages (`cases[2].assert[0]`).
pub fn compile(spec: &AssertionSpec, at: &str) -> Result<Assertion, String> {
    let Some(kind) = spec.kind.as_deref() else {
        return Err(format!(
            "`{at}.type` is required: one of {}",
            TYPES.join(", ")
        ));
    };
    let value = spec.value.as_ref().filter(|v| !v.is_null());
    let text = |what: &str| -> Result<String, String> {
        match value {
            Some(Value::String(s)) if s.is_empty() => {
                Err(format!("`{at}.value` must not be empty for `{kind}`"))
            }
            Some(Value::String(s)) if s.chars().count() > MAX_VALUE_CHARS => Err(format!(
                "`{at}.value` is longer than {MAX_VALUE_CHARS} characters"
            )),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("`{at}.value` must be a string ({what})")),
            None => Err(format!("`{at}.value` is required for `{kind}`: {what}")),
        }
    };
    let count = || -> Result<u64, String> {
        match value.and_then(Value::as_u64) {
            Some(n) => Ok(n),
            None => Err(format!(
                "`{at}.value` must be a non-negative integer for `{kind}`"
            )),
        }
    };
    let check = match kind {
        "equals" => match value {
            Some(v) => Check::Equals(v.clone()),
            None => return Err(format!("`{at}.value` is required for `equals`")),
        },
        "contains" => Check::Contains(text("the text the output must contain")?),
        "icontains" => Check::IContains(text("the text the output must contain")?.to_lowercase()),
        "not-contains" => Check::NotContains(text("the text the output must not contain")?),
        "starts-with" => Check::StartsWith(text("the text the output must start with")?),
        "regex" => {
            let source = text("a regular expression")?;
            if source.len() > MAX_REGEX_BYTES {
                return Err(format!(
                    "`{at}.value` is longer than {MAX_REGEX_BYTES} bytes"
                ));
            }
            let re = regex::RegexBuilder::new(&source)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| {
                    let first = e.to_string();
                    let line = first.lines().last().unwrap_or("invalid").trim().to_string();
                    format!("`{at}.value` is not a valid regular expression: {line}")
                })?;
            Check::Regex(Arc::new(re))
        }
        "is-json" => Check::IsJson,
        "json-schema" => match value {
            Some(schema @ (Value::Object(_) | Value::Bool(_))) => {
                let validator = jsonschema::validator_for(schema)
                    .map_err(|e| format!("`{at}.value` is not a valid JSON Schema: {e}"))?;
                Check::JsonSchema(Arc::new(validator))
            }
            _ => {
                return Err(format!(
                    "`{at}.value` must be a JSON Schema object for `json-schema`"
                ));
            }
        },
        "max-chars" => Check::MaxChars(count()?),
        "max-tokens" => Check::MaxTokens(count()?),
        "llm-rubric" => Check::LlmRubric(text("the rubric the judge scores against")?),
        "grader" => {
            let name = text("the name of a grade plugin")?;
            Check::Grader {
                name,
                config: spec.config.clone().unwrap_or(Value::Null),
            }
        }
        other => {
            return Err(format!(
                "`{at}.type` '{other}' is not an assertion type; use one of {}",
                TYPES.join(", ")
            ));
        }
    };
    if spec.config.is_some() && !matches!(check, Check::Grader { .. }) {
        return Err(format!(
            "`{at}.config` is only for `grader` assertions (the settings of the grade plugin)"
        ));
    }
    let weight = spec.weight.unwrap_or(1.0);
    if !weight.is_finite() || weight < 0.0 {
        return Err(format!("`{at}.weight` must be a number ≥ 0"));
    }
    let default_threshold = if check.is_plugin() { 0.5 } else { 1.0 };
    let threshold = spec.threshold.unwrap_or(default_threshold);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(format!("`{at}.threshold` must be between 0 and 1"));
    }
    Ok(Assertion {
        check,
        weight,
        threshold,
    })
}

/// The verdict on one assertion.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Whether the score met the threshold.
    pub pass: bool,
    /// 0..=1.
    pub score: f64,
    /// Why, in a sentence.
    pub reason: String,
}

impl Verdict {
    fn binary(ok: bool, threshold: f64, yes: String, no: String) -> Verdict {
        let score = if ok { 1.0 } else { 0.0 };
        Verdict {
            pass: score >= threshold,
            score,
            reason: if ok { yes } else { no },
        }
    }
}

/// Grade `output` by a check that needs no plugin; `None` for
/// `llm-rubric`/`grader`. `encoding` is the tokenizer of `max-tokens`.
pub fn grade_local(a: &Assertion, output: &str, encoding: &str) -> Option<Verdict> {
    let t = a.threshold;
    let v = match &a.check {
        Check::Equals(Value::String(s)) => Verdict::binary(
            output == s,
            t,
            "output equals the expected text".into(),
            format!("output does not equal {}", quote(s)),
        ),
        Check::Equals(expected) => {
            let parsed = serde_json::from_str::<Value>(output.trim());
            Verdict::binary(
                parsed.as_ref().is_ok_and(|v| v == expected),
                t,
                "output is JSON equal to the expected value".into(),
                match parsed {
                    Ok(_) => "output is JSON but not equal to the expected value".into(),
                    Err(_) => "output is not JSON, so it cannot equal the expected value".into(),
                },
            )
        }
        Check::Contains(s) => Verdict::binary(
            output.contains(s.as_str()),
            t,
            format!("output contains {}", quote(s)),
            format!("output does not contain {}", quote(s)),
        ),
        Check::IContains(s) => Verdict::binary(
            output.to_lowercase().contains(s.as_str()),
            t,
            format!("output contains {} (ignoring case)", quote(s)),
            format!("output does not contain {} (ignoring case)", quote(s)),
        ),
        Check::NotContains(s) => Verdict::binary(
            !output.contains(s.as_str()),
            t,
            format!("output does not contain {}", quote(s)),
            format!("output contains {}", quote(s)),
        ),
        Check::StartsWith(s) => Verdict::binary(
            output.starts_with(s.as_str()),
            t,
            format!("output starts with {}", quote(s)),
            format!("output does not start with {}", quote(s)),
        ),
        Check::Regex(re) => Verdict::binary(
            re.is_match(output),
            t,
            format!("output matches /{}/", re.as_str()),
            format!("output does not match /{}/", re.as_str()),
        ),
        Check::IsJson => {
            let parsed = serde_json::from_str::<Value>(output.trim());
            Verdict::binary(
                parsed.is_ok(),
                t,
                "output is valid JSON".into(),
                match parsed {
                    Err(e) => format!("output is not valid JSON: {e}"),
                    Ok(_) => String::new(),
                },
            )
        }
        Check::JsonSchema(validator) => match serde_json::from_str::<Value>(output.trim()) {
            Err(e) => Verdict::binary(
                false,
                t,
                String::new(),
                format!("output is not valid JSON: {e}"),
            ),
            Ok(v) => {
                let first = validator.iter_errors(&v).next().map(|e| {
                    let path = e.instance_path().to_string();
                    let path = if path.is_empty() {
                        "/".to_string()
                    } else {
                        path
                    };
                    format!("output breaks the schema at {path}: {e}")
                });
                Verdict::binary(
                    first.is_none(),
                    t,
                    "output is JSON valid against the schema".into(),
                    first.unwrap_or_default(),
                )
            }
        },
        Check::MaxChars(max) => {
            let n = output.chars().count() as u64;
            Verdict::binary(
                n <= *max,
                t,
                format!("output has {n} characters, at most {max}"),
                format!("output has {n} characters, more than {max}"),
            )
        }
        Check::MaxTokens(max) => {
            let n = u64::from(tokens::count(output, encoding).unwrap_or(0));
            Verdict::binary(
                n <= *max,
                t,
                format!("output has {n} tokens ({encoding}), at most {max}"),
                format!("output has {n} tokens ({encoding}), more than {max}"),
            )
        }
        Check::LlmRubric(_) | Check::Grader { .. } => return None,
    };
    Some(v)
}

/// A short quotation of `s` for a reason line.
fn quote(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        format!("\"{s}\"")
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("\"{head}…\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(kind: &str, value: Value) -> AssertionSpec {
        AssertionSpec {
            kind: Some(kind.into()),
            value: Some(value),
            ..Default::default()
        }
    }

    fn grade(kind: &str, value: Value, output: &str) -> Verdict {
        let a = compile(&spec(kind, value), "assert[0]").unwrap();
        grade_local(&a, output, "o200k_base").unwrap()
    }

    #[test]
    fn exact_types_score_one_or_zero() {
        assert!(grade("equals", json!("high"), "high").pass);
        assert!(!grade("equals", json!("high"), "high\n").pass);
        assert!(grade("equals", json!({"a": 1}), " {\"a\": 1} ").pass);
        assert!(grade("contains", json!("igh"), "high").pass);
        assert!(grade("icontains", json!("HIGH"), "Priority: High").pass);
        assert!(grade("icontains", json!("straße"), "STRASSE straße").pass);
        assert!(grade("icontains", json!("ÉTÉ"), "un été chaud").pass);
        assert!(!grade("not-contains", json!("low"), "below").pass);
        assert!(grade("starts-with", json!("Yes"), "Yes, it is").pass);
        assert!(!grade("starts-with", json!("Yes"), " Yes").pass);
        let v = grade("contains", json!("x"), "abc");
        assert_eq!((v.pass, v.score), (false, 0.0));
        assert!(v.reason.contains("does not contain"));
    }

    #[test]
    fn regex_searches_anywhere_and_anchors_are_the_authors() {
        assert!(grade("regex", json!("\\d{3}"), "code 123 ok").pass);
        assert!(!grade("regex", json!("^\\d{3}$"), "code 123 ok").pass);
        let e = compile(&spec("regex", json!("(unclosed")), "cases[1].assert[0]").unwrap_err();
        assert!(
            e.starts_with("`cases[1].assert[0].value` is not a valid regular expression"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }

    #[test]
    fn json_types() {
        assert!(grade("is-json", Value::Null, " [1, 2] ").pass);
        assert!(!grade("is-json", Value::Null, "{oops").pass);
        let schema = json!({"type": "object", "required": ["label"],
            "properties": {"label": {"enum": ["high", "low"]}}});
        assert!(grade("json-schema", schema.clone(), r#"{"label":"high"}"#).pass);
        let v = grade("json-schema", schema.clone(), r#"{"label":"mid"}"#);
        assert!(!v.pass);
        assert!(v.reason.contains("/label"), "{}", v.reason);
        assert!(!grade("json-schema", schema, "not json").pass);
        let e = compile(&spec("json-schema", json!({"type": 12})), "assert[0]").unwrap_err();
        assert!(e.contains("not a valid JSON Schema"), "{e}");
        assert!(compile(&spec("json-schema", json!("x")), "a").is_err());
    }

    #[test]
    fn lengths() {
        assert!(grade("max-chars", json!(5), "héllo").pass);
        assert!(!grade("max-chars", json!(4), "héllo").pass);
        assert!(grade("max-tokens", json!(3), "hello world").pass);
        assert!(!grade("max-tokens", json!(1), "hello world").pass);
        assert!(compile(&spec("max-chars", json!(-1)), "a").is_err());
        assert!(compile(&spec("max-chars", json!("5")), "a").is_err());
    }

    #[test]
    fn weights_thresholds_and_config_are_checked() {
        let mut s = spec("contains", json!("a"));
        s.threshold = Some(1.5);
        assert!(compile(&s, "a").unwrap_err().contains("threshold"));
        s.threshold = None;
        s.weight = Some(-1.0);
        assert!(compile(&s, "a").unwrap_err().contains("weight"));
        s.weight = None;
        s.config = Some(json!({}));
        assert!(compile(&s, "a").unwrap_err().contains("config"));
        let r = compile(&spec("llm-rubric", json!("is polite")), "a").unwrap();
        assert_eq!(r.threshold, 0.5);
        let c = compile(&spec("contains", json!("a")), "a").unwrap();
        assert_eq!(c.threshold, 1.0);
        let mut zero = spec("contains", json!("zzz"));
        zero.threshold = Some(0.0);
        let a = compile(&zero, "a").unwrap();
        assert!(grade_local(&a, "abc", "o200k_base").unwrap().pass);
    }

    #[test]
    fn unknown_types_and_missing_values_say_what_to_do() {
        let e = compile(&spec("containz", json!("a")), "cases[0].assert[1]").unwrap_err();
        assert!(e.contains("'containz' is not an assertion type"), "{e}");
        let e = compile(
            &AssertionSpec {
                kind: Some("contains".into()),
                ..Default::default()
            },
            "assert[0]",
        )
        .unwrap_err();
        assert!(e.contains("`assert[0].value` is required"), "{e}");
        assert!(compile(&spec("contains", json!("")), "a").is_err());
        assert!(compile(&spec("contains", json!(3)), "a").is_err());
    }
}
