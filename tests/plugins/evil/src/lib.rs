//! A hostile analyze plugin for the fault campaign (`tests/faults.rs`).
//!
//! The first word of the prompt selects the attack, the rest is its
//! argument:
//!
//! | prompt | what the guest does |
//! | --- | --- |
//! | `giant` | returns ~20 MiB of suggestions |
//! | `many-issues` | returns 400,000 tiny issues |
//! | `net HOST:PORT` | TCP connect to `HOST:PORT` and a DNS lookup (reports what happened) |
//! | `fs-write` | creates files, relative and absolute (reports what happened) |
//! | `spin-yield` | loops forever calling the host's `log` import |
//! | `styles-spin` | loops forever calling the host's `styles.list` import |
//! | `deep-recursion` | recurses until the stack overflows |
//! | `sleep` | sleeps an hour through the WASI clock |
//! | `exit` | calls `std::process::exit(3)` |
//! | `stdout-flood` | writes 10 MiB to stdout and stderr, then answers |
//! | `huge-alloc` | asks for a 1 GiB allocation at once |
//! | `tokenize-huge N` | counts the tokens of a 40 MiB one-word text (BPE's worst case) N times (default 16) with the host's tokenizer |
//! | `tokenize-loop BYTES` | counts the tokens of a BYTES-long one-word text (default 1 MiB) over and over, forever |
//! | `styles-get-long` | asks `styles.get` for a 65-byte and a 16 MiB name (reports what came back) |
//! | `styles-get NAME` | asks `styles.get` and `styles.list` for `NAME` (reports source and instructions, or none) |
//! | `llm-huge BYTES` | one LLM call with a BYTES-long message (default 40 MiB), then a small one; both ask max-tokens u32::MAX |
//! | `llm-anyway` | reports `llm.available()` and makes an LLM call whatever the request's `use-llm` says |
//!
//! Anything else gets a minimal valid answer (`ok`).

// Component export names (`…@0.1.0#analyze`) are not valid native symbols,
// so the bindings exist only in the wasm build.
#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({ path: "../../../wit", world: "analyze-plugin" });

    use exports::promptsculptor::plugin::analyzer::{
        AnalyzeRequest, AnalyzeResponse, Guest, Issue, Scores, Severity, Stats,
    };
    use promptsculptor::plugin::log::{Level, log};
    use promptsculptor::plugin::styles;
    use promptsculptor::plugin::types::{Kind, PluginError, PluginManifest};
    use promptsculptor::plugin::{llm, tokenizer};

    struct Evil;

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

    /// Try every way std offers to reach the network; report each outcome.
    fn probe_net(target: &str) -> Vec<String> {
        use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
        let mut seen = Vec::new();
        seen.push(match TcpStream::connect(target) {
            Ok(_) => format!("net:tcp:connected:{target}"),
            Err(e) => format!("net:tcp:denied:{e}"),
        });
        seen.push(match ("example.com", 80).to_socket_addrs() {
            Ok(addrs) => format!("net:dns:resolved:{}", addrs.count()),
            Err(e) => format!("net:dns:denied:{e}"),
        });
        seen.push(match UdpSocket::bind("0.0.0.0:0") {
            Ok(s) => match s.send_to(b"evil", target) {
                Ok(_) => format!("net:udp:sent:{target}"),
                Err(e) => format!("net:udp:denied:{e}"),
            },
            Err(e) => format!("net:udp:denied:{e}"),
        });
        seen
    }

    fn probe_fs() -> Vec<String> {
        [
            "evil-was-here.txt",
            "/tmp/evil-was-here.txt",
            "./plugins/evil.wasm",
        ]
        .iter()
        .map(|path| match std::fs::write(path, b"pwned") {
            Ok(()) => format!("fs:written:{path}"),
            Err(e) => format!("fs:denied:{e}"),
        })
        .collect()
    }

    #[inline(never)]
    fn recurse(depth: u64, pad: [u8; 256]) -> u64 {
        // Never true; it only tells the compiler the recursion can end.
        if std::hint::black_box(depth) == u64::MAX {
            return 0;
        }
        let mut local = std::hint::black_box(pad);
        local[(depth % 256) as usize] = depth as u8;
        // Not a tail call: the addition after the call keeps every frame alive.
        recurse(depth + 1, local) + u64::from(std::hint::black_box(local[0]))
    }

    impl Guest for Evil {
        fn manifest() -> PluginManifest {
            PluginManifest {
                // Built a second time as an impostor that claims the
                // builtin analyzer's name (scripts/build-plugins).
                name: option_env!("PS_TEST_EVIL_NAME").unwrap_or("evil").into(),
                version: "0.0.1".into(),
                description: "attacks its sandbox on request (tests only)".into(),
                kind: Kind::Analyze,
                styles: Vec::new(),
            }
        }

        fn analyze(req: AnalyzeRequest) -> Result<AnalyzeResponse, PluginError> {
            let prompt = req.prompt.trim().to_string();
            let (mode, arg) = prompt.split_once(' ').unwrap_or((prompt.as_str(), ""));
            match mode {
                "giant" => {
                    let chunk = "x".repeat(1 << 20);
                    Ok(answer(&req, vec![chunk; 20], Vec::new()))
                }
                "many-issues" => {
                    let issue = Issue {
                        code: "x".into(),
                        severity: Severity::Info,
                        message: "m".into(),
                        span: None,
                        suggestion: None,
                    };
                    Ok(answer(&req, Vec::new(), vec![issue; 400_000]))
                }
                "net" => Ok(answer(&req, probe_net(arg), Vec::new())),
                "fs-write" => Ok(answer(&req, probe_fs(), Vec::new())),
                "spin-yield" => {
                    let mut n: u64 = 0;
                    loop {
                        n = n.wrapping_add(1);
                        log(Level::Info, &format!("evil spin {n}"));
                    }
                }
                "styles-spin" => loop {
                    std::hint::black_box(styles::list());
                },
                "deep-recursion" => {
                    let n = recurse(0, [7; 256]);
                    Ok(answer(&req, vec![n.to_string()], Vec::new()))
                }
                "sleep" => {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                    Ok(answer(&req, vec!["woke".into()], Vec::new()))
                }
                "exit" => std::process::exit(3),
                "stdout-flood" => {
                    use std::io::Write;
                    let line = format!("{}\n", "flood ".repeat(100));
                    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
                    for _ in 0..(10 << 20) / line.len() {
                        // The host's pipes are bounded: writes past them fail,
                        // which is exactly what is being probed.
                        let _ = out.write_all(line.as_bytes());
                        let _ = err.write_all(line.as_bytes());
                    }
                    Ok(answer(&req, vec!["flooded".into()], Vec::new()))
                }
                "huge-alloc" => {
                    let v = vec![1u8; 1 << 30];
                    Ok(answer(
                        &req,
                        vec![std::hint::black_box(v).len().to_string()],
                        Vec::new(),
                    ))
                }
                "tokenize-huge" => {
                    let times: usize = arg.parse().unwrap_or(16);
                    // One giant word: no pre-tokenizer split, so BPE gets it whole.
                    let text = "x".repeat(40 << 20);
                    let counts = (0..times)
                        .map(|_| format!("count:{:?}", tokenizer::count(&text, "o200k_base")))
                        .collect();
                    Ok(answer(&req, counts, Vec::new()))
                }
                "tokenize-loop" => {
                    let bytes: usize = arg.parse().unwrap_or(1 << 20);
                    let text = "x".repeat(bytes);
                    loop {
                        std::hint::black_box(tokenizer::count(&text, "o200k_base"));
                    }
                }
                "styles-get" => {
                    let got = match styles::get(arg) {
                        Some(s) => format!("styles-get:found:{}:{}", s.source, s.instructions),
                        None => "styles-get:none".to_string(),
                    };
                    let listed = styles::list().iter().any(|s| s.name == arg);
                    Ok(answer(
                        &req,
                        vec![got, format!("styles-list:{listed}")],
                        Vec::new(),
                    ))
                }
                "styles-get-long" => {
                    let seen = [65, 16 << 20]
                        .iter()
                        .map(|&n| {
                            let name = "a".repeat(n);
                            match styles::get(&name) {
                                Some(s) => format!("styles-get:{n}:found:{}", s.name.len()),
                                None => format!("styles-get:{n}:none"),
                            }
                        })
                        .collect();
                    Ok(answer(&req, seen, Vec::new()))
                }
                "llm-huge" => {
                    let bytes: usize = arg.parse().unwrap_or(40 << 20);
                    let ask = |content: String| llm::ChatRequest {
                        system: None,
                        messages: vec![llm::Message {
                            role: llm::Role::User,
                            content,
                        }],
                        temperature: None,
                        max_tokens: Some(u32::MAX),
                        json_schema: None,
                    };
                    let seen = [ask("x".repeat(bytes)), ask("small".into())]
                        .iter()
                        .map(|r| match llm::chat(r) {
                            Ok(resp) => format!("llm:ok:{}", resp.text),
                            Err(e) => format!("llm:err:{e:?}"),
                        })
                        .collect();
                    Ok(answer(&req, seen, Vec::new()))
                }
                "llm-anyway" => {
                    let request = llm::ChatRequest {
                        system: None,
                        messages: vec![llm::Message {
                            role: llm::Role::User,
                            content: "bill me".into(),
                        }],
                        temperature: None,
                        max_tokens: None,
                        json_schema: None,
                    };
                    let chat = match llm::chat(&request) {
                        Ok(resp) => format!("chat:ok:{}", resp.text),
                        Err(e) => format!("chat:err:{e:?}"),
                    };
                    let available = format!("available:{}", llm::available());
                    Ok(answer(&req, vec![available, chat], Vec::new()))
                }
                _ => Ok(answer(&req, vec!["ok".into()], Vec::new())),
            }
        }
    }

    // wit-bindgen's export glue (the canonical-ABI entry points: unsafe fns
    // with export_name) is generated into this crate; it is the only unsafe
    // code here and is allowed on exactly that expansion.
    #[allow(unsafe_code)]
    const _: () = {
        export!(Evil);
    };
}
