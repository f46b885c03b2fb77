//! A deliberately misbehaving analyze plugin for the black-box tests.
//!
//! The prompt selects the misbehaviour, so one component covers every
//! failure path: `trap`, `loop`, `oom`, `llm-flood`, `bad-span`, `llm`,
//! `probe-env`, `probe-fs`; anything else gets a minimal valid answer.

// The SDK provides the bindings; its export macro emits the component
// exports on wasm32 only (they are not valid native symbols).
#[cfg(target_arch = "wasm32")]
mod component {
    use promptsculptor_sdk::llm;
    use promptsculptor_sdk::{
        AnalyzePlugin, AnalyzeRequest, AnalyzeResponse, Issue, Manifest, PluginError, Scores,
        Severity, Span, Stats, export_analyze,
    };

    struct Faulty;

    fn answer(
        req: &AnalyzeRequest,
        suggestions: Vec<String>,
        issues: Vec<Issue>,
    ) -> AnalyzeResponse {
        AnalyzeResponse {
            scores: Scores {
                overall: 50,
                clarity: 50,
                specificity: 50,
                structure: 50,
                context: 50,
                output_format: 50,
            },
            issues,
            suggestions,
            stats: Stats {
                chars: req.prompt.chars().count() as u32,
                words: req.prompt.split_whitespace().count() as u32,
                tokens: 0,
                tokenizer: req.tokenizer.clone(),
                variables: Vec::new(),
            },
        }
    }

    fn ask(text: &str) -> Result<llm::ChatResponse, PluginError> {
        llm::call(&llm::ChatRequest {
            system: None,
            messages: vec![llm::Message {
                role: llm::Role::User,
                content: text.to_string(),
            }],
            temperature: None,
            max_tokens: None,
            json_schema: None,
        })
        .map_err(PluginError::Llm)
    }

    impl AnalyzePlugin for Faulty {
        fn manifest() -> Manifest {
            Manifest::new(
                "faulty",
                // The test build makes a second copy with another version to
                // exercise hot replacement.
                option_env!("PS_TEST_PLUGIN_VERSION").unwrap_or("0.0.1"),
                "misbehaves on request (tests only)",
            )
        }

        fn analyze(req: AnalyzeRequest) -> Result<AnalyzeResponse, PluginError> {
            match req.prompt.trim() {
                // Trapping on request is this test plugin's purpose.
                #[allow(clippy::panic)]
                "trap" => panic!("faulty plugin asked to trap"),
                "loop" => {
                    let mut n: u64 = 0;
                    loop {
                        n = std::hint::black_box(n.wrapping_add(1));
                    }
                }
                "oom" => {
                    let mut hoard: Vec<Vec<u8>> = Vec::new();
                    loop {
                        hoard.push(vec![1u8; 1 << 20]);
                        std::hint::black_box(&hoard);
                    }
                }
                "llm-flood" => {
                    for _ in 0..10_000 {
                        ask("again")?;
                    }
                    Ok(answer(&req, Vec::new(), Vec::new()))
                }
                "llm" => {
                    let reply = ask("say something")?;
                    Ok(answer(&req, vec![reply.text], Vec::new()))
                }
                "bad-span" => {
                    let issue = Issue {
                        code: "out-of-bounds".into(),
                        severity: Severity::Warning,
                        message: "a span past the end".into(),
                        span: Some(Span {
                            start: 0,
                            end: 10_000,
                        }),
                        suggestion: None,
                    };
                    Ok(answer(&req, Vec::new(), vec![issue]))
                }
                "probe-env" => {
                    let vars: Vec<String> =
                        std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
                    Ok(answer(
                        &req,
                        vec![format!("env:{}", vars.join(";"))],
                        Vec::new(),
                    ))
                }
                "probe-fs" => {
                    let seen = match std::fs::read_to_string("/etc/hostname") {
                        Ok(s) => format!("fs:read:{s}"),
                        Err(e) => format!("fs:denied:{e}"),
                    };
                    Ok(answer(&req, vec![seen], Vec::new()))
                }
                _ => Ok(answer(&req, Vec::new(), Vec::new())),
            }
        }
    }

    export_analyze!(Faulty);
}
