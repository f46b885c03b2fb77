//! PromptSculptor's built-in **analyze** strategy, as a Wasm component.
//!
//! The checks live in [`rules`] (plain Rust, testable natively); this file
//! only binds them to the `analyze-plugin` world: token counting through the
//! host, the optional LLM critique with one repair attempt, and type
//! conversion.

pub mod rules;

// Bindings and the export come from the SDK.
use promptsculptor_sdk::llm::{self, ChatRequest, Message, Role};
use promptsculptor_sdk::log::{self, Level};
use promptsculptor_sdk::{
    AnalyzePlugin, AnalyzeRequest, AnalyzeResponse, Issue, Manifest, PluginError, Scores, Severity,
    Span, Stats, export_analyze, tokenizer,
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
            critique(prompt, &mut report)?;
        }
        Ok(AnalyzeResponse {
            scores: convert_scores(report.scores),
            issues: report.issues.into_iter().map(convert_issue).collect(),
            suggestions: report.suggestions,
            stats: Stats {
                chars: u32::try_from(chars).unwrap_or(u32::MAX),
                words: u32::try_from(prompt.split_whitespace().count()).unwrap_or(u32::MAX),
                tokens,
                tokenizer: request.tokenizer.clone(),
                variables: ps_guest_util::variable_names(prompt),
            },
        })
    }
}

/// One critique call, one repair call if the reply does not parse, then merge.
/// An unusable reply after the repair leaves the deterministic report as is:
/// a best-effort answer beats a 502 when the checks already produced one.
fn critique(prompt: &str, report: &mut rules::Report) -> Result<(), PluginError> {
    let user = rules::critique::user_message(prompt, report);
    let mut messages = vec![Message {
        role: Role::User,
        content: user,
    }];
    let request = |messages: &[Message]| ChatRequest {
        system: Some(rules::critique::SYSTEM.to_string()),
        messages: messages.to_vec(),
        temperature: Some(0.2),
        max_tokens: Some(1500),
        json_schema: Some(rules::critique::SCHEMA.to_string()),
    };
    let first = llm::call(&request(&messages)).map_err(PluginError::Llm)?;
    let parsed = match rules::critique::parse(&first.text) {
        Some(c) => Some(c),
        None => {
            log::at(
                Level::Debug,
                "analyze: critique reply was not valid JSON; asking once for a repair",
            );
            messages.push(Message {
                role: Role::Assistant,
                content: first.text,
            });
            messages.push(Message {
                role: Role::User,
                content: rules::critique::REPAIR.to_string(),
            });
            let second = llm::call(&request(&messages)).map_err(PluginError::Llm)?;
            rules::critique::parse(&second.text)
        }
    };
    match parsed {
        Some(c) => rules::critique::merge(report, prompt, c),
        None => log::at(
            Level::Warn,
            "analyze: critique unusable after repair; returning deterministic checks only",
        ),
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
