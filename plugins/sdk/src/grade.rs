//! Grade plugins (WIT 0.1.1): score one output of a prompt for an
//! evaluation run. Implement [`GradePlugin`](crate::GradePlugin) and export
//! it with [`export_grade!`](crate::export_grade).
//!
//! The host hands a grader the output, the case's variables, the prompt
//! that was sent and the assertion's `config` (JSON text, `null` when the
//! assertion has none). It refuses a result whose score is not a finite
//! number within 0..=1 or whose reason is longer than 2,000 characters.
//!
//! ```
//! use promptsculptor_sdk::grade::{GradeRequest, GradeResult};
//! use promptsculptor_sdk::PluginError;
//!
//! /// Passes outputs of at most `max_words` words (config `{"max_words": 50}`).
//! fn short_enough(req: &GradeRequest) -> Result<GradeResult, PluginError> {
//!     let config = req.config_value()?;
//!     let max = config.get("max_words").and_then(|v| v.as_u64()).unwrap_or(50) as usize;
//!     let words = req.output.split_whitespace().count();
//!     let score = if words <= max { 1.0 } else { max as f64 / words as f64 };
//!     Ok(GradeResult::scored(score, 1.0, format!("{words} words, at most {max} wanted")))
//! }
//!
//! let req = GradeRequest::new("one two three", r#"{"max_words": 2}"#);
//! let graded = short_enough(&req)?;
//! assert!(!graded.pass);
//! assert!((graded.score - 2.0 / 3.0).abs() < 1e-9);
//! # Ok::<(), PluginError>(())
//! ```

use serde_json::Value;

use crate::PluginError;

pub use crate::bindings::grade::exports::promptsculptor::plugin::grader::{
    GradeManifest, GradeRequest, GradeResult,
};

/// Longest reason the host accepts, in characters.
pub const MAX_REASON_CHARS: usize = 2_000;

impl GradeRequest {
    /// A request for native unit tests: `output` graded with `config` (JSON
    /// text), no variables, an empty prompt, no LLM.
    pub fn new(output: impl Into<String>, config: impl Into<String>) -> GradeRequest {
        GradeRequest {
            output: output.into(),
            vars: Vec::new(),
            prompt: String::new(),
            config: config.into(),
            use_llm: false,
        }
    }

    /// The assertion's config, parsed (`Value::Null` when it has none); text
    /// that is not JSON is `invalid-input`.
    pub fn config_value(&self) -> Result<Value, PluginError> {
        serde_json::from_str(&self.config)
            .map_err(|e| PluginError::invalid_input(format!("config is not valid JSON: {e}")))
    }

    /// The value of the case variable `name`.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl GradeResult {
    /// A result whose `pass` is `score >= threshold`; the score is clamped
    /// into 0..=1 (a NaN becomes 0) and the reason cut at
    /// [`MAX_REASON_CHARS`], so the host never refuses it.
    pub fn scored(score: f64, threshold: f64, reason: impl Into<String>) -> GradeResult {
        let score = if score.is_nan() {
            0.0
        } else {
            score.clamp(0.0, 1.0)
        };
        let mut reason: String = reason.into();
        if let Some((cut, _)) = reason.char_indices().nth(MAX_REASON_CHARS) {
            reason.truncate(cut);
        }
        GradeResult {
            pass: score >= threshold,
            score,
            reason,
        }
    }
}

/// The `threshold` of a grader's config (`{"threshold": 0.7}`), else
/// `default`; a threshold that is not a number within 0..=1 is
/// `invalid-input`.
pub fn threshold(config: &Value, default: f64) -> Result<f64, PluginError> {
    match config.get("threshold") {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_f64()
            .filter(|t| (0.0..=1.0).contains(t))
            .ok_or_else(|| {
                PluginError::invalid_input(format!(
                    "config.threshold must be a number within 0..=1, not {v}"
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scored_clamps_and_cuts_so_the_host_accepts_it() {
        let r = GradeResult::scored(1.5, 0.5, "x".repeat(MAX_REASON_CHARS + 10));
        assert_eq!((r.pass, r.score), (true, 1.0));
        assert_eq!(r.reason.chars().count(), MAX_REASON_CHARS);
        let r = GradeResult::scored(f64::NAN, 0.0, "é".repeat(MAX_REASON_CHARS + 1));
        assert_eq!((r.pass, r.score), (true, 0.0));
        assert_eq!(r.reason.chars().count(), MAX_REASON_CHARS);
        assert!(!GradeResult::scored(0.49, 0.5, "").pass);
    }

    #[test]
    fn config_and_threshold() {
        assert_eq!(
            GradeRequest::new("o", "null").config_value().ok(),
            Some(Value::Null)
        );
        assert!(matches!(
            GradeRequest::new("o", "{").config_value(),
            Err(PluginError::InvalidInput(_))
        ));
        let c: Value = serde_json::json!({"threshold": 0.7});
        assert_eq!(threshold(&c, 0.5).ok(), Some(0.7));
        assert_eq!(threshold(&Value::Null, 0.5).ok(), Some(0.5));
        for bad in [
            serde_json::json!({"threshold": 2}),
            serde_json::json!({"threshold": "high"}),
        ] {
            assert!(matches!(
                threshold(&bad, 0.5),
                Err(PluginError::InvalidInput(_))
            ));
        }
        let mut req = GradeRequest::new("o", "null");
        req.vars.push(("ticket".into(), "printer on fire".into()));
        assert_eq!(req.var("ticket"), Some("printer on fire"));
        assert_eq!(req.var("other"), None);
    }
}
