//! `banned-phrases`: an example grade plugin with a config, for `grader`
//! assertions of `POST /api/v1/evaluate`.
//!
//! Config: `{"phrases": ["as an AI", "delve"], "case_sensitive": false,
//! "threshold": 1}`:
//! - `phrases` (required): 1 to [`MAX_PHRASES`] non-empty strings;
//! - `case_sensitive` (optional, default false): false compares
//!   Unicode-lowercased text;
//! - `threshold` (optional, 0..=1, default 1: any banned phrase fails).
//!
//! A phrase is found when it occurs anywhere in the output (a substring,
//! no word boundaries). Score = 1 − found / listed (each distinct phrase
//! counted once); pass = score ≥ threshold; the reason names the phrases
//! found. Any other config, or another key, is `invalid-input`. No LLM.

use promptsculptor_sdk::grade::{self, GradeRequest, GradeResult};
use promptsculptor_sdk::serde_json::Value;
use promptsculptor_sdk::{GradePlugin, Manifest, PluginError, export_grade};

/// Most phrases one config may list.
pub const MAX_PHRASES: usize = 1_000;

/// Threshold when the config gives none: any banned phrase fails.
pub const DEFAULT_THRESHOLD: f64 = 1.0;

/// A checked config.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The phrases as listed, duplicates (in the compared case) removed.
    pub phrases: Vec<String>,
    /// Compare case-sensitively.
    pub case_sensitive: bool,
    /// Pass when the score reaches it.
    pub threshold: f64,
}

fn invalid(message: impl Into<String>) -> PluginError {
    PluginError::invalid_input(format!("banned-phrases: {}", message.into()))
}

/// Read the config (see the crate docs).
pub fn config(value: &Value) -> Result<Config, PluginError> {
    let Some(obj) = value.as_object() else {
        return Err(invalid("needs a config object {\"phrases\": [\"…\"]}"));
    };
    if let Some(key) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "phrases" | "case_sensitive" | "threshold"))
    {
        return Err(invalid(format!(
            "unknown config key '{key}' (known: phrases, case_sensitive, threshold)"
        )));
    }
    let case_sensitive = match obj.get("case_sensitive") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            return Err(invalid(format!(
                "case_sensitive must be true or false, not {v}"
            )));
        }
    };
    let Some(list) = obj.get("phrases").and_then(Value::as_array) else {
        return Err(invalid("config.phrases must be a list of strings"));
    };
    if list.is_empty() || list.len() > MAX_PHRASES {
        return Err(invalid(format!(
            "config.phrases must list 1 to {MAX_PHRASES} phrases, not {}",
            list.len()
        )));
    }
    let mut phrases: Vec<String> = Vec::with_capacity(list.len());
    let mut seen = std::collections::HashSet::with_capacity(list.len());
    for item in list {
        match item.as_str() {
            Some(p) if !p.trim().is_empty() => {
                if seen.insert(compared(p, case_sensitive)) {
                    phrases.push(p.to_string());
                }
            }
            _ => {
                return Err(invalid(format!(
                    "every phrase must be a non-empty string, not {item}"
                )));
            }
        }
    }
    Ok(Config {
        phrases,
        case_sensitive,
        threshold: grade::threshold(value, DEFAULT_THRESHOLD)?,
    })
}

/// `text` as it is compared.
fn compared(text: &str, case_sensitive: bool) -> String {
    if case_sensitive {
        text.to_string()
    } else {
        text.to_lowercase()
    }
}

/// Grade `req` (see the crate docs).
pub fn grade_output(req: &GradeRequest) -> Result<GradeResult, PluginError> {
    let config = config(&req.config_value()?)?;
    let haystack = compared(&req.output, config.case_sensitive);
    let found: Vec<&str> = config
        .phrases
        .iter()
        .filter(|p| haystack.contains(&compared(p, config.case_sensitive)))
        .map(String::as_str)
        .collect();
    let listed = config.phrases.len();
    let score = 1.0 - found.len() as f64 / listed as f64;
    let reason = if found.is_empty() {
        format!("none of the {listed} banned phrases occurs")
    } else {
        let quoted: Vec<String> = found.iter().map(|p| format!("\"{p}\"")).collect();
        format!(
            "found {} of {listed} banned phrases: {}",
            found.len(),
            quoted.join(", ")
        )
    };
    Ok(GradeResult::scored(score, config.threshold, reason))
}

struct Banned;

impl GradePlugin for Banned {
    fn manifest() -> Manifest {
        Manifest::new(
            "banned-phrases",
            env!("CARGO_PKG_VERSION"),
            "Scores an output by the share of config.phrases it avoids (substring match, \
             case-insensitive unless config.case_sensitive); any phrase found fails by default.",
        )
    }

    fn grade(request: GradeRequest) -> Result<GradeResult, PluginError> {
        grade_output(&request)
    }
}

export_grade!(Banned);

#[cfg(test)]
mod tests {
    use super::*;

    fn graded(output: &str, config: &str) -> Result<GradeResult, PluginError> {
        grade_output(&GradeRequest::new(output, config))
    }

    #[test]
    fn no_phrase_found_passes_with_full_score() {
        let r = graded("Plain answer.", r#"{"phrases": ["as an AI", "delve"]}"#).unwrap();
        assert_eq!((r.pass, r.score), (true, 1.0));
        assert_eq!(r.reason, "none of the 2 banned phrases occurs");
    }

    #[test]
    fn found_phrases_lower_the_score_and_are_named() {
        let cfg = r#"{"phrases": ["as an AI", "delve", "tapestry", "DELVE"]}"#;
        let r = graded("As an AI, I will Delve into it.", cfg).unwrap();
        // "DELVE" is "delve" once case is ignored: 3 distinct phrases.
        assert!(!r.pass);
        assert!((r.score - 1.0 / 3.0).abs() < 1e-12, "{}", r.score);
        assert_eq!(
            r.reason,
            "found 2 of 3 banned phrases: \"as an AI\", \"delve\""
        );
    }

    #[test]
    fn case_sensitive_and_threshold() {
        let cfg = r#"{"phrases": ["Delve", "tapestry"], "case_sensitive": true, "threshold": 0.5}"#;
        let r = graded("I delve into a tapestry.", cfg).unwrap();
        assert_eq!((r.pass, r.score), (true, 0.5));
        assert_eq!(r.reason, "found 1 of 2 banned phrases: \"tapestry\"");
        // Unicode lowercasing when case is ignored.
        let r = graded("ÉCOLE", r#"{"phrases": ["école"]}"#).unwrap();
        assert_eq!((r.pass, r.score), (false, 0.0));
    }

    #[test]
    fn an_invalid_config_is_invalid_input() {
        let long = format!(
            "{{\"phrases\": [{}]}}",
            vec!["\"x\""; MAX_PHRASES + 1].join(",")
        );
        for cfg in [
            "null",
            "\"delve\"",
            "{",
            "{}",
            r#"{"phrases": []}"#,
            r#"{"phrases": "delve"}"#,
            r#"{"phrases": ["ok", ""]}"#,
            r#"{"phrases": ["ok", 3]}"#,
            r#"{"phrases": ["ok"], "case_sensitive": "no"}"#,
            r#"{"phrases": ["ok"], "threshold": -1}"#,
            r#"{"phrases": ["ok"], "phrase": "typo"}"#,
            long.as_str(),
        ] {
            let out = graded("text", cfg);
            assert!(
                matches!(out, Err(PluginError::InvalidInput(_))),
                "{cfg}: {out:?}"
            );
        }
    }
}
