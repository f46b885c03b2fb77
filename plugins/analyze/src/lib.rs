//! PromptSculptor's built-in **analyze** strategy, as a Wasm component.
//!
//! The checks live in [`rules`] (plain Rust, testable natively); this file
//! only binds them to the `analyze-plugin` world: token counting through the
//! host, the optional LLM critique with one repair attempt, and type
//! conversion.

pub mod rules;

// Bindings and the export come from the SDK.
use promptsculptor_sdk::llm::{self, ChatRequest, ChatResponse, Rejection};
use promptsculptor_sdk::{
    AnalyzePlugin, AnalyzeRequest, AnalyzeResponse, Issue, LlmError, Manifest, PluginError, Scores,
    Severity, Span, Stats, export_analyze, log, tokenizer,
};

/// The component's export.
pub struct Analyzer;

impl AnalyzePlugin for Analyzer {
    fn manifest() -> Manifest {
        Manifest::new(
            "analyze",
            "0.1.0",
            "Deterministic prompt checks (13 standard issue codes, scores, suggestions), optionally \
             extended by an LLM critique.",
        )
    }

    fn analyze(request: AnalyzeRequest) -> Result<AnalyzeResponse, PluginError> {
        let prompt = &request.prompt;
        let chars = prompt.chars().count();
        let tokens = tokenizer::count(prompt, &request.tokenizer)
            .unwrap_or_else(|| u32::try_from(chars.div_ceil(4)).unwrap_or(u32::MAX));
        let mut report = rules::analyze(prompt, tokens);
        if request.use_llm {
            critique(llm::call, prompt, &mut report)?;
        }
        Ok(AnalyzeResponse {
            scores: convert_scores(report.scores),
            issues: report.issues.into_iter().map(convert_issue).collect(),
            suggestions: report.suggestions,
            stats: Stats {
                chars: u32::try_from(chars).unwrap_or(u32::MAX),
                words: u32::try_from(rules::word_count(prompt)).unwrap_or(u32::MAX),
                tokens,
                tokenizer: request.tokenizer.clone(),
                variables: ps_guest_util::variable_names(prompt),
            },
        })
    }
}

/// The LLM critique through the SDK's round trip (one call, one repair turn
/// when the reply does not parse), merged into `report`. An unusable reply
/// after the repair leaves the deterministic report as is: a best-effort
/// answer beats a 502 when the checks already produced one. LLM failures pass
/// through. Generic over `chat` so it is unit-tested natively.
pub fn critique<F>(chat: F, prompt: &str, report: &mut rules::Report) -> Result<(), PluginError>
where
    F: FnMut(&ChatRequest) -> Result<ChatResponse, LlmError>,
{
    let request = ChatRequest {
        temperature: Some(0.2),
        max_tokens: Some(1500),
        json_schema: Some(rules::critique::SCHEMA.to_string()),
        ..llm::request(
            rules::critique::SYSTEM,
            &rules::critique::user_message(prompt, report),
        )
    };
    let check = |reply: &str| {
        rules::critique::parse(reply).ok_or_else(|| {
            Rejection::new(
                "the critique reply was not valid JSON for the schema",
                rules::critique::REPAIR,
            )
        })
    };
    match llm::round_trip(chat, request, check, llm::no_salvage) {
        Ok(c) => rules::critique::merge(report, prompt, c),
        Err(PluginError::UnusableLlmOutput(why)) => log::warn(&format!(
            "analyze: critique unusable after repair ({why}); returning deterministic checks only"
        )),
        Err(e) => return Err(e),
    }
    Ok(())
}

fn convert_scores(s: rules::Scores) -> Scores {
    Scores {
        overall: s.overall,
        clarity: s.clarity,
        specificity: s.specificity,
        structure: s.structure,
        context: s.context,
        output_format: s.output_format,
    }
}

fn convert_issue(f: rules::Finding) -> Issue {
    Issue {
        code: f.code,
        severity: match f.severity {
            rules::Severity::Info => Severity::Info,
            rules::Severity::Warning => Severity::Warning,
            rules::Severity::Error => Severity::Error,
        },
        message: f.message,
        span: f.span.map(|(start, end)| Span { start, end }),
        suggestion: f.suggestion,
    }
}

// The macro emits the component exports on wasm32 only: native builds (tests,
// the dev-set example) link the crate as a host cdylib, where the component's
// `ns:pkg/iface#func` export names are not valid symbols.
export_analyze!(Analyzer);

#[cfg(test)]
mod tests {
    use super::*;

    const PROMPT: &str = "Tell me everything about Kubernetes networking.";
    const GOOD: &str = r#"{"issues": [{"code": "missing-context", "severity": "warning", "message": "No cluster details.", "quote": "Kubernetes networking", "suggestion": "Say which CNI."}], "suggestions": []}"#;

    /// Runs the critique against `fake`; returns the result, the report and
    /// how many calls were made.
    fn run(mut fake: llm::FakeChat) -> (Result<(), PluginError>, rules::Report, usize) {
        let mut report = rules::analyze(PROMPT, 12);
        let out = critique(|r| fake.chat(r), PROMPT, &mut report);
        (out, report, fake.requests.len())
    }

    fn has(report: &rules::Report, code: &str) -> bool {
        report.issues.iter().any(|f| f.code == code)
    }

    #[test]
    fn a_repaired_critique_is_merged() {
        let (out, report, calls) = run(llm::FakeChat::new(["Sure, here you go!", GOOD]));
        assert!(out.is_ok());
        assert_eq!(calls, 2);
        assert!(has(&report, "missing-context"));
    }

    #[test]
    fn an_unusable_critique_keeps_the_deterministic_report() {
        let before = rules::analyze(PROMPT, 12).issues.len();
        let (out, report, calls) = run(llm::FakeChat::new(["no", "still no", GOOD]));
        assert!(out.is_ok());
        assert_eq!(calls, 2, "exactly one repair");
        assert_eq!(report.issues.len(), before);
    }

    #[test]
    fn llm_failures_pass_through() {
        let (out, _, calls) = run(llm::FakeChat::default().fail(LlmError::Timeout("slow".into())));
        assert!(matches!(out, Err(PluginError::Llm(LlmError::Timeout(_)))));
        assert_eq!(calls, 1);
    }
}
