//! @NAME@: a PromptSculptor grade plugin.
//!
//! Config of a `grader` assertion: `{"max_words": 50}`. The score is 1 up to
//! `max_words` words and falls in proportion beyond; it passes at 1.
use promptsculptor_sdk::prelude::*;

struct Plugin;

impl GradePlugin for Plugin {
    fn manifest() -> Manifest {
        Manifest::new("@NAME@", "0.1.0", "Passes outputs of at most config.max_words words (default 50).")
    }

    fn grade(req: GradeRequest) -> Result<GradeResult, PluginError> {
        let config = req.config_value()?;
        let max = match config.get("max_words") {
            None => 50,
            Some(v) => v
                .as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| PluginError::invalid_input("config.max_words must be a positive integer"))?,
        };
        let words = req.output.split_whitespace().count() as u64;
        let score = if words <= max { 1.0 } else { max as f64 / words as f64 };
        Ok(GradeResult::scored(score, 1.0, format!("{words} words; at most {max} pass")))
    }
}

export_grade!(Plugin);
