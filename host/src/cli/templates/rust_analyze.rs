//! @NAME@: a PromptSculptor analyze plugin.
use promptsculptor_sdk::prelude::*;

struct Plugin;

impl AnalyzePlugin for Plugin {
    fn manifest() -> Manifest {
        Manifest::new("@NAME@", "0.1.0", "Flags prompts too short to be specific.")
    }

    fn analyze(req: AnalyzeRequest) -> Result<AnalyzeResponse, PluginError> {
        let chars = u32::try_from(req.prompt.chars().count()).unwrap_or(u32::MAX);
        let words = u32::try_from(req.prompt.split_whitespace().count()).unwrap_or(u32::MAX);
        let tokens = tokenizer::count(&req.prompt, &req.tokenizer).unwrap_or(chars / 4);
        let mut issues = Vec::new();
        if words < 8 {
            issues.push(Issue {
                code: "too-short".into(),
                severity: Severity::Warning,
                message: format!("The prompt has only {words} words."),
                span: None,
                suggestion: Some("Say who the answer is for and what shape it should take.".into()),
            });
        }
        let s = if issues.is_empty() { 80 } else { 40 };
        Ok(AnalyzeResponse {
            scores: Scores { overall: s, clarity: s, specificity: s, structure: s, context: s, output_format: s },
            suggestions: issues.iter().filter_map(|i| i.suggestion.clone()).collect(),
            issues,
            stats: Stats { chars, words, tokens, tokenizer: req.tokenizer, variables: variable_names(&req.prompt) },
        })
    }
}

export_analyze!(Plugin);
