//! Black-box tests of the real `promptsculptor` binary: real socket, real
//! Wasm plugins, real SQLite file, and a real HTTP server speaking the
//! OpenAI wire format where an LLM is involved.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::llm::{FakeLlm, Reply, TEST_KEY, all_text};
use common::{Options, Server};
use serde_json::{Value, json};

const VAGUE: &str =
    "Write some stuff about our product and a few things customers might like, etc.";

#[tokio::test]
async fn health_ready_and_request_ids() {
    let s = Server::start(Options::default()).await;
    let h = s.get("/healthz").await;
    assert_eq!(h.status, 200);
    let generated = h.header("x-request-id").expect("generated id").to_string();
    assert!(!generated.is_empty());
    let r = s.get("/readyz").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A client id is kept; an invalid one (too long) is replaced.
    let kept = s
        .raw(|c, b| {
            c.get(format!("{b}/healthz"))
                .header("x-request-id", "my-trace-42")
        })
        .await;
    assert_eq!(kept.header("x-request-id"), Some("my-trace-42"));
    let long = "x".repeat(129);
    let replaced = s
        .raw(|c, b| {
            c.get(format!("{b}/healthz"))
                .header("x-request-id", long.as_str())
        })
        .await;
    assert_ne!(replaced.header("x-request-id"), Some(long.as_str()));
    // Errors carry the client's id in the body too.
    let e = s
        .raw(|c, b| {
            c.get(format!("{b}/api/v1/nope"))
                .header("x-request-id", "abc-1")
        })
        .await;
    e.assert_error(404, "route_not_found");
    assert_eq!(e.json["error"]["request_id"], "abc-1");
}

#[tokio::test]
async fn readyz_is_503_without_default_plugins() {
    let s = Server::start(Options::default().plugins(&["analyze"])).await;
    s.get("/readyz").await.assert_error(503, "not_ready");
    // The loaded analyzer still serves.
    let r = s.post("/api/v1/analyze", &json!({ "prompt": VAGUE })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Remix without its plugin: a clear 404 for the strategy.
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": "hi", "style": "concise" }),
        )
        .await;
    r.assert_error(404, "strategy_not_found");
}

#[tokio::test]
async fn plugin_listing_reports_good_and_bad_files() {
    let mut opts = Options::default();
    opts.extra_files
        .push(("garbage.wasm".into(), b"this is not wasm".to_vec()));
    // A valid core module, but not a component of any of our worlds.
    opts.extra_files.push((
        "core-module.wasm".into(),
        vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ));
    // The same component twice: the second one repeats a loaded name.
    let analyze = std::fs::read(common::plugin_file("analyze")).expect("analyze.wasm");
    opts.extra_files
        .push(("zz-analyze-copy.wasm".into(), analyze));
    opts.extra_files
        .push(("notes.txt".into(), b"ignored".to_vec()));
    let s = Server::start(opts).await;
    let r = s.get("/api/v1/plugins").await;
    assert_eq!(r.status, 200);
    let plugins = r.json["plugins"].as_array().expect("plugins array").clone();
    assert_eq!(plugins.len(), 6, "{}", r.text);
    let by_file = |f: &str| {
        plugins
            .iter()
            .find(|p| p["file"] == f)
            .cloned()
            .unwrap_or(Value::Null)
    };
    for (file, name, kind) in [
        ("analyze.wasm", "analyze", "analyze"),
        ("remix.wasm", "remix", "remix"),
        ("create.wasm", "create", "create"),
    ] {
        let p = by_file(file);
        assert_eq!(p["status"], "ok", "{p}");
        assert_eq!(p["name"], name);
        assert_eq!(p["kind"], kind);
        assert!(p["error"].is_null());
        assert_eq!(p["sha256"].as_str().map(str::len), Some(64));
        assert!(p["version"].as_str().is_some_and(|v| !v.is_empty()));
        assert!(p["loaded_at"].as_str().is_some_and(|v| v.contains('T')));
    }
    for file in ["garbage.wasm", "core-module.wasm", "zz-analyze-copy.wasm"] {
        let p = by_file(file);
        assert_eq!(p["status"], "error", "{p}");
        assert!(p["error"].as_str().is_some_and(|e| !e.is_empty()), "{p}");
    }
    assert!(
        by_file("zz-analyze-copy.wasm")["error"]
            .as_str()
            .unwrap_or("")
            .contains("already used")
    );
    assert!(
        by_file("core-module.wasm")["error"]
            .as_str()
            .unwrap_or("")
            .contains("component")
    );
    // The server is still ready: the bad files hurt only themselves.
    assert_eq!(s.get("/readyz").await.status, 200);
}

#[tokio::test]
async fn analyze_deterministic_finds_issues_with_valid_spans() {
    let s = Server::start(Options::default()).await;
    let r = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": VAGUE, "use_llm": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let codes: Vec<&str> = r.json["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert!(codes.contains(&"vague-quantifier"), "{codes:?}");
    let chars = VAGUE.chars().count() as u64;
    for issue in r.json["issues"].as_array().expect("issues") {
        assert!(["info", "warning", "error"].contains(&issue["severity"].as_str().unwrap_or("")));
        assert!(!issue["message"].as_str().unwrap_or("").is_empty());
        if let Some(span) = issue.get("span") {
            let (a, b) = (
                span["start"].as_u64().expect("start"),
                span["end"].as_u64().expect("end"),
            );
            assert!(a <= b && b <= chars, "span {a}..{b} of {chars}");
        }
    }
    for k in [
        "overall",
        "clarity",
        "specificity",
        "structure",
        "context",
        "output_format",
    ] {
        assert!(
            r.json["scores"][k].as_u64().is_some_and(|v| v <= 100),
            "score {k}"
        );
    }
    let stats = &r.json["stats"];
    assert_eq!(stats["chars"], chars);
    assert_eq!(stats["words"], VAGUE.split_whitespace().count());
    assert_eq!(stats["tokenizer"], "o200k_base");
    assert!(
        stats["tokens"].as_u64().is_some_and(|t| t > 5 && t < 40),
        "{stats}"
    );
    assert_eq!(r.json["strategy"]["name"], "analyze");
    assert_eq!(
        r.json["usage"],
        json!({ "llm_calls": 0, "cached_llm_calls": 0, "input_tokens": 0, "output_tokens": 0, "model": null })
    );

    // The target model picks the tokenizer; variables are reported.
    let p = "Summarise {{document}} for {audience} in 3 bullet points.";
    let r = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": p, "target_model": "gpt-4" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["stats"]["tokenizer"], "cl100k_base");
    assert_eq!(
        r.json["stats"]["variables"],
        json!(["document", "audience"])
    );
    // No provider configured: use_llm defaults to false.
    assert_eq!(r.json["usage"]["llm_calls"], 0);
}

#[tokio::test]
async fn analyze_counts_characters_not_bytes() {
    let s = Server::start(Options::default()).await;
    let p = "Résumé 🚀 analyse: write some things about {{topic}} and stuff!!! الرجاء";
    let r = s.post("/api/v1/analyze", &json!({ "prompt": p })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let chars = p.chars().count() as u64;
    assert_eq!(r.json["stats"]["chars"], chars);
    for issue in r.json["issues"].as_array().expect("issues") {
        if let Some(span) = issue.get("span") {
            assert!(span["end"].as_u64().unwrap_or(u64::MAX) <= chars, "{issue}");
        }
    }
}

#[tokio::test]
async fn request_errors_have_the_contract_shape() {
    let s = Server::start(Options::default().env("PROMPTSCULPTOR_MAX_BODY_BYTES", "4096")).await;
    let url = |p: &str| format!("{}{p}", s.base);
    // 415: not JSON.
    s.raw(|c, _| {
        c.post(url("/api/v1/analyze"))
            .header("content-type", "text/plain")
            .body("hello")
    })
    .await
    .assert_error(415, "unsupported_media_type");
    // 400: malformed JSON, and a value of the wrong type.
    s.raw(|c, _| {
        c.post(url("/api/v1/analyze"))
            .header("content-type", "application/json")
            .body("{\"prompt\": ")
    })
    .await
    .assert_error(400, "malformed_json");
    s.post("/api/v1/analyze", &json!({ "prompt": 5 }))
        .await
        .assert_error(400, "invalid_type");
    s.post("/api/v1/analyze", &json!(["prompt"]))
        .await
        .assert_error(400, "invalid_type");
    s.post(
        "/api/v1/remix",
        &json!({ "prompt": "x", "style": "concise", "variants": "2" }),
    )
    .await
    .assert_error(400, "invalid_type");
    // Messages speak JSON's types, not Rust's.
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": "x", "style": "concise", "variants": "2" }),
        )
        .await;
    let msg = r.json["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("`variants` must be an integer"), "{msg}");
    assert!(!msg.contains("i64"), "{msg}");
    // 422 unknown_field: a typo never passes silently, and the closest
    // known field is named (also inside nested objects).
    let r = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": "hi", "use_lmm": false }),
        )
        .await;
    r.assert_error(422, "unknown_field");
    let msg = r.json["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("use_lmm") && msg.contains("use_llm"), "{msg}");
    let r = s
        .post(
            "/api/v1/create",
            &json!({ "goal": "g", "examples": [{ "input": "a", "outptu": "b" }] }),
        )
        .await;
    r.assert_error(422, "unknown_field");
    let msg = r.json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("examples[0].outptu") && msg.contains("`output`"),
        "{msg}"
    );
    // 422: missing, empty, out of range.
    s.post("/api/v1/analyze", &json!({}))
        .await
        .assert_error(422, "validation_failed");
    s.post("/api/v1/analyze", &json!({ "prompt": "   " }))
        .await
        .assert_error(422, "validation_failed");
    s.post(
        "/api/v1/remix",
        &json!({ "prompt": "x", "style": "concise", "variants": 6 }),
    )
    .await
    .assert_error(422, "validation_failed");
    s.post(
        "/api/v1/remix",
        &json!({ "prompt": "x", "style": "concise", "variants": 0 }),
    )
    .await
    .assert_error(422, "validation_failed");
    s.post("/api/v1/remix", &json!({ "prompt": "x" }))
        .await
        .assert_error(422, "validation_failed");
    s.post("/api/v1/create", &json!({ "goal": "" }))
        .await
        .assert_error(422, "validation_failed");
    s.post(
        "/api/v1/create",
        &json!({ "goal": "g", "variables": ["ok", "not ok"] }),
    )
    .await
    .assert_error(422, "validation_failed");
    s.post(
        "/api/v1/create",
        &json!({ "goal": "g", "examples": [{ "input": "a" }] }),
    )
    .await
    .assert_error(422, "validation_failed");
    // 413 before validation: even a body that would be a 422 or 400.
    let big = json!({ "prompt": "a".repeat(5000) });
    s.post("/api/v1/analyze", &big)
        .await
        .assert_error(413, "payload_too_large");
    let big_bad = format!("{{\"nope\": \"{}\"", "b".repeat(5000));
    s.raw(|c, _| {
        c.post(url("/api/v1/analyze"))
            .header("content-type", "application/json")
            .body(big_bad)
    })
    .await
    .assert_error(413, "payload_too_large");
    // 404: route, strategy, style; 405: wrong method.
    let r = s.get("/api/v1/unknown").await;
    r.assert_error(404, "route_not_found");
    let msg = r.json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("GET /api/v1/unknown"),
        "names the full path: {msg}"
    );
    s.post(
        "/api/v1/analyze",
        &json!({ "prompt": "hi", "strategy": "nope" }),
    )
    .await
    .assert_error(404, "strategy_not_found");
    s.post(
        "/api/v1/remix",
        &json!({ "prompt": "hi", "style": "no-such-style" }),
    )
    .await
    .assert_error(404, "style_not_found");
    s.raw(|c, _| c.delete(url("/api/v1/analyze")))
        .await
        .assert_error(405, "method_not_allowed");
    // 503: LLM asked for, none configured.
    s.post(
        "/api/v1/analyze",
        &json!({ "prompt": "hi", "use_llm": true }),
    )
    .await
    .assert_error(503, "llm_not_configured");
    // The server is fine after all that.
    assert_eq!(
        s.post("/api/v1/analyze", &json!({ "prompt": "hi" }))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn prompt_length_limit_is_422() {
    let s = Server::start(Options::default().env("PROMPTSCULPTOR_MAX_BODY_BYTES", "400000")).await;
    s.post("/api/v1/analyze", &json!({ "prompt": "a".repeat(100_001) }))
        .await
        .assert_error(422, "validation_failed");
    let ok = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": "word ".repeat(20_000) }),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let codes: Vec<&str> = ok.json["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert!(codes.contains(&"excessive-length"), "{codes:?}");
}

#[tokio::test]
async fn remix_every_builtin_style_keeps_variables() {
    let s = Server::start(Options::default()).await;
    let styles = s.get("/api/v1/styles").await;
    let builtin: Vec<String> = styles.json["styles"]
        .as_array()
        .expect("styles")
        .iter()
        .filter(|st| st["source"] == "builtin")
        .filter_map(|st| st["name"].as_str().map(str::to_string))
        .collect();
    assert!(builtin.len() >= 8, "{builtin:?}");
    let prompt = "You are a support agent. Please answer the customer's question in {{question}} using the policy in {{ policy_doc }}. Be polite and basically just really helpful. Reply in {language}.";
    for style in &builtin {
        for variants in [1, 3] {
            let r = s
                .post("/api/v1/remix", &json!({ "prompt": prompt, "style": style, "variants": variants, "use_llm": false }))
                .await;
            assert_eq!(r.status, 200, "{style}: {}", r.text);
            let vs = r.json["variants"].as_array().expect("variants");
            assert_eq!(vs.len(), variants, "{style}");
            assert_eq!(r.json["prompt"], vs[0]);
            for v in vs {
                let v = v.as_str().expect("string");
                for literal in ["{{question}}", "{{ policy_doc }}", "{language}"] {
                    assert!(v.contains(literal), "{style} dropped {literal}: {v}");
                }
            }
            assert_ne!(
                r.json["prompt"].as_str(),
                Some(prompt),
                "{style} changed nothing"
            );
            assert_eq!(r.json["style"]["name"], style.as_str());
            assert_eq!(r.json["style"]["source"], "builtin");
            assert!(
                r.json["changes"].as_array().is_some_and(|c| !c.is_empty()),
                "{style}"
            );
            assert_eq!(r.json["strategy"]["name"], "remix");
            assert_eq!(r.json["usage"]["llm_calls"], 0);
        }
    }
}

// The style registry's tests (CRUD, the next call serving a write, restart
// persistence) run against both stores in tests/store.rs.

#[tokio::test]
async fn create_deterministic_uses_every_variable() {
    let s = Server::start(Options::default()).await;
    let body = json!({
        "goal": "Summarise a customer support ticket and propose the next action",
        "context": "Tickets come from a SaaS billing product.",
        "audience": "support team leads",
        "output_format": "three bullet points then one line starting with Next:",
        "constraints": ["Do not invent account details", "Stay under 120 words"],
        "examples": [{ "input": "Customer was double charged", "output": "- Double charge\n- ...\nNext: refund" }],
        "variables": ["ticket", "customer_tier"]
    });
    let r = s.post("/api/v1/create", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let all = format!(
        "{}\n{}",
        r.json["prompt"].as_str().unwrap_or(""),
        r.json["system"].as_str().unwrap_or("")
    );
    for v in ["ticket", "customer_tier"] {
        assert!(
            all.contains(&format!("{{{{{v}}}}}")),
            "missing {{{{{v}}}}} in {all}"
        );
        assert!(
            r.json["variables"]
                .as_array()
                .expect("variables")
                .iter()
                .any(|x| x == v)
        );
    }
    assert!(!r.json["rationale"].as_str().unwrap_or("").is_empty());
    assert_eq!(r.json["strategy"]["name"], "create");
    assert_eq!(r.json["usage"]["llm_calls"], 0);
    // The created prompt passes our own analyzer without errors.
    let a = s
        .post("/api/v1/analyze", &json!({ "prompt": r.json["prompt"] }))
        .await;
    let errors: Vec<&Value> = a.json["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| i["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "created prompt has errors: {errors:?}");
}

fn llm_opts(llm: &FakeLlm) -> Options {
    Options::default().llm(&llm.base_url)
}

#[tokio::test]
async fn analyze_with_llm_merges_critique_and_counts_usage() {
    let llm = FakeLlm::start(|_, _| {
        Reply::Text(
            json!({
                "issues": [{ "code": "tone-mismatch", "severity": "warning",
                             "message": "The tone is too casual for a legal audience.",
                             "quote": "stuff", "suggestion": "Use formal wording." }],
                "suggestions": ["State the audience explicitly."]
            })
            .to_string(),
        )
    })
    .await;
    let s = Server::start(llm_opts(&llm)).await;
    // use_llm defaults to true when a provider is configured.
    let r = s.post("/api/v1/analyze", &json!({ "prompt": VAGUE })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let issues = r.json["issues"].as_array().expect("issues");
    assert!(
        issues.iter().any(|i| i["code"] == "tone-mismatch"),
        "{}",
        r.text
    );
    assert!(
        issues.iter().any(|i| i["code"] == "vague-quantifier"),
        "deterministic findings kept"
    );
    assert!(
        r.json["suggestions"]
            .as_array()
            .expect("s")
            .iter()
            .any(|x| x == "State the audience explicitly.")
    );
    let calls = llm.received().len() as u64;
    assert!(calls >= 1);
    assert_eq!(r.json["usage"]["llm_calls"], calls);
    assert_eq!(r.json["usage"]["input_tokens"], 11 * calls);
    assert_eq!(r.json["usage"]["output_tokens"], 7 * calls);
    assert_eq!(r.json["usage"]["model"], "test-model-2026");
    // The request went to the provider with the key and the configured model.
    let first = &llm.received()[0];
    assert_eq!(
        first.authorization.as_deref(),
        Some(format!("Bearer {TEST_KEY}").as_str())
    );
    assert_eq!(first.body["model"], "test-model");
    // use_llm: false makes no call even with a provider.
    let before = llm.received().len();
    let r = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": VAGUE, "use_llm": false }),
        )
        .await;
    assert_eq!(r.json["usage"]["llm_calls"], 0);
    assert_eq!(llm.received().len(), before);
    // The key never reaches the log.
    assert!(!s.log_text().contains(TEST_KEY));
}

#[tokio::test]
async fn remix_with_llm_repairs_a_dropped_variable() {
    let llm = FakeLlm::start(|i, _| {
        let prompt = if i == 0 {
            "Answer the question politely."
        } else {
            "Answer {{question}} politely and precisely."
        };
        Reply::Text(json!({ "variants": [prompt], "changes": ["Made it precise."] }).to_string())
    })
    .await;
    let s = Server::start(llm_opts(&llm)).await;
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": "pls answer {{question}}", "style": "concise" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.json["prompt"]
            .as_str()
            .unwrap_or("")
            .contains("{{question}}"),
        "{}",
        r.text
    );
    assert_eq!(r.json["usage"]["llm_calls"], 2, "one repair call");
    assert!(
        all_text(&llm.received()[1].body).contains("{{question}}"),
        "the repair names the missing variable"
    );
    // The style's instructions went into the metaprompt.
    let style = s.get("/api/v1/styles/concise").await;
    let instructions = style.json["instructions"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let first_line = instructions.lines().next().unwrap_or("").trim().to_string();
    assert!(
        all_text(&llm.received()[0].body).contains(&first_line)
            || llm.received()[0].body.to_string().contains(&first_line)
    );
}

#[tokio::test]
async fn remix_llm_variants_and_persistent_drop_is_restored() {
    let llm = FakeLlm::start(|_, _| {
        Reply::Text(
            json!({ "variants": ["A: answer it.", "B: answer it."], "changes": ["Shorter."] })
                .to_string(),
        )
    })
    .await;
    let s = Server::start(llm_opts(&llm)).await;
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": "answer {{q}} now", "style": "concise", "variants": 2 }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let vs = r.json["variants"].as_array().expect("variants");
    assert_eq!(vs.len(), 2);
    for v in vs {
        assert!(
            v.as_str().unwrap_or("").contains("{{q}}"),
            "variable restored: {v}"
        );
    }
}

#[tokio::test]
async fn create_with_llm_garbage_twice_is_502() {
    let llm = FakeLlm::start(|_, _| Reply::Text("I am not JSON at all, sorry.".into())).await;
    let s = Server::start(llm_opts(&llm)).await;
    let r = s
        .post(
            "/api/v1/create",
            &json!({ "goal": "Write release notes", "variables": ["changelog"] }),
        )
        .await;
    r.assert_error(502, "llm_unusable_output");
    assert_eq!(llm.received().len(), 2, "one attempt and one repair");
}

#[tokio::test]
async fn create_with_llm_uses_the_models_prompt() {
    let llm = FakeLlm::start(|_, _| {
        Reply::Text(
            json!({
                "system": "You are a release-notes writer.",
                "prompt": "Turn <changelog>{{changelog}}</changelog> into release notes of at most 100 words.",
                "rationale": "Tags separate data from instructions."
            })
            .to_string(),
        )
    })
    .await;
    let s = Server::start(llm_opts(&llm)).await;
    let r = s
        .post(
            "/api/v1/create",
            &json!({ "goal": "Write release notes", "variables": ["changelog"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.json["prompt"]
            .as_str()
            .unwrap_or("")
            .contains("{{changelog}}")
    );
    assert_eq!(r.json["system"], "You are a release-notes writer.");
    assert_eq!(r.json["usage"]["llm_calls"], 1);
}

#[tokio::test]
async fn provider_failures_map_to_contract_statuses() {
    let llm = FakeLlm::start(|_, body| {
        let text = all_text(body);
        if text.contains("CASE-500") {
            Reply::Status(500, r#"{"error":{"message":"boom"}}"#.into(), None)
        } else if text.contains("CASE-429") {
            Reply::Status(429, r#"{"error":{"message":"slow down"}}"#.into(), Some(17))
        } else if text.contains("CASE-HANG") {
            Reply::Delay(Duration::from_secs(5), Box::new(Reply::Text("{}".into())))
        } else if text.contains("CASE-401") {
            Reply::Status(401, r#"{"error":{"message":"bad key"}}"#.into(), None)
        } else {
            Reply::Status(200, "not json".into(), None)
        }
    })
    .await;
    let s = Server::start(llm_opts(&llm).env("PROMPTSCULPTOR_LLM_TIMEOUT_SECS", "1")).await;
    let analyze =
        |p: &str| json!({ "prompt": format!("Summarise the text. {p}"), "use_llm": true });
    s.post("/api/v1/analyze", &analyze("CASE-500"))
        .await
        .assert_error(503, "llm_unavailable");
    let r = s.post("/api/v1/analyze", &analyze("CASE-429")).await;
    r.assert_error(429, "llm_rate_limited");
    assert_eq!(r.header("retry-after"), Some("17"));
    s.post("/api/v1/analyze", &analyze("CASE-HANG"))
        .await
        .assert_error(504, "llm_timeout");
    s.post("/api/v1/analyze", &analyze("CASE-401"))
        .await
        .assert_error(503, "llm_unavailable");
    s.post("/api/v1/analyze", &analyze("CASE-GARBAGE"))
        .await
        .assert_error(502, "llm_bad_response");
    // Deterministic requests still work while the provider fails.
    let ok = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": "hi", "use_llm": false }),
        )
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn unreachable_provider_is_503() {
    // Bind then drop a listener: nothing listens on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let s = Server::start(Options::default().llm(&format!("http://127.0.0.1:{port}/v1"))).await;
    s.post(
        "/api/v1/remix",
        &json!({ "prompt": "hello {{x}}", "style": "concise" }),
    )
    .await
    .assert_error(503, "llm_unavailable");
}

fn faulty_opts() -> Options {
    Options::default()
        .plugins(&["analyze", "remix", "create", "faulty"])
        .env("PROMPTSCULPTOR_PLUGIN_TIMEOUT_SECS", "2")
        .env("PROMPTSCULPTOR_PLUGIN_MEMORY_MB", "32")
        .env("PROMPTSCULPTOR_PLUGIN_MAX_LLM_CALLS", "3")
}

fn faulty(prompt: &str) -> Value {
    json!({ "prompt": prompt, "strategy": "faulty", "use_llm": false })
}

/// Wait until at least `n` requests besides the `/metrics` probe itself are
/// in the server (`promptsculptor_http_requests_in_flight`).
async fn wait_in_flight(s: &Server, n: i64) {
    common::wait_until(Duration::from_secs(10), "requests in flight", || async {
        let m = s.get("/metrics").await;
        let gauge = m
            .text
            .lines()
            .find_map(|l| l.strip_prefix("promptsculptor_http_requests_in_flight "))
            .and_then(|v| v.trim().parse::<i64>().ok());
        match gauge {
            Some(g) if g > n => Ok(()),
            _ => Err(format!("gauge {gauge:?}, want {n} + the probe")),
        }
    })
    .await;
}

#[tokio::test]
async fn a_trapping_plugin_fails_only_its_own_call() {
    let s = Server::start(faulty_opts()).await;
    let (trap_body, ok_body) = (faulty("trap"), json!({ "prompt": VAGUE }));
    let (trap, ok) = tokio::join!(
        s.post("/api/v1/analyze", &trap_body),
        s.post("/api/v1/analyze", &ok_body)
    );
    let msg = trap.assert_error(500, "plugin_failed");
    assert!(msg.contains("faulty"), "{msg}");
    assert_eq!(ok.status, 200);
    // Same plugin, next call: a fresh instance that works.
    let again = s.post("/api/v1/analyze", &faulty("fine")).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json["strategy"]["name"], "faulty");
}

#[tokio::test]
async fn an_endless_plugin_hits_its_deadline() {
    let s = Server::start(faulty_opts()).await;
    let started = std::time::Instant::now();
    let (loop_body, ok_body) = (faulty("loop"), json!({ "prompt": VAGUE }));
    let (looped, ok) = tokio::join!(s.post("/api/v1/analyze", &loop_body), async {
        // While the guest spins, the server keeps answering others: ask
        // only once the looping call is in the server.
        wait_in_flight(&s, 1).await;
        s.post("/api/v1/analyze", &ok_body).await
    });
    looped.assert_error(504, "plugin_timeout");
    assert_eq!(ok.status, 200);
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn memory_and_llm_caps_end_the_call() {
    let llm = FakeLlm::start(|_, _| Reply::Text("ok".into())).await;
    let s = Server::start(faulty_opts().llm(&llm.base_url)).await;
    let msg = s
        .post("/api/v1/analyze", &faulty("oom"))
        .await
        .assert_error(500, "plugin_limit_exceeded");
    assert!(msg.contains("memory"), "{msg}");
    let msg = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": "llm-flood", "strategy": "faulty" }),
        )
        .await
        .assert_error(500, "plugin_limit_exceeded");
    assert!(msg.contains("LLM calls"), "{msg}");
    assert_eq!(llm.received().len(), 3, "the cap stops calls at 3");
    // One allowed LLM call works and is counted.
    let r = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": "llm", "strategy": "faulty" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["usage"]["llm_calls"], 1);
    assert_eq!(r.json["suggestions"][0], "ok");
}

#[tokio::test]
async fn invalid_plugin_results_are_500() {
    let s = Server::start(faulty_opts()).await;
    let msg = s
        .post("/api/v1/analyze", &faulty("bad-span"))
        .await
        .assert_error(500, "plugin_invalid_result");
    assert!(msg.contains("span"), "{msg}");
}

#[tokio::test]
async fn plugins_see_no_environment_or_filesystem() {
    let llm = FakeLlm::start(|_, _| Reply::Text("ok".into())).await;
    let s = Server::start(
        faulty_opts()
            .llm(&llm.base_url)
            .env("SOME_HOST_SECRET", "hunter2"),
    )
    .await;
    let env = s.post("/api/v1/analyze", &faulty("probe-env")).await;
    assert_eq!(env.status, 200, "{}", env.text);
    assert_eq!(
        env.json["suggestions"][0], "env:",
        "plugin saw environment: {}",
        env.text
    );
    let fs = s.post("/api/v1/analyze", &faulty("probe-fs")).await;
    assert_eq!(fs.status, 200);
    assert!(
        fs.json["suggestions"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("fs:denied"),
        "{}",
        fs.text
    );
}

#[tokio::test]
async fn api_keys_and_rate_limit() {
    let s = Server::start(
        Options::default()
            .env("PROMPTSCULPTOR_API_KEYS", "alpha-key, beta-key")
            .env("PROMPTSCULPTOR_RATE_LIMIT_PER_MIN", "3"),
    )
    .await;
    let url = format!("{}/api/v1/styles", s.base);
    s.raw(|c, _| c.get(&url))
        .await
        .assert_error(401, "unauthorized");
    s.raw(|c, _| c.get(&url).bearer_auth("wrong"))
        .await
        .assert_error(401, "unauthorized");
    // Health endpoints stay open.
    assert_eq!(s.get("/healthz").await.status, 200);
    for _ in 0..3 {
        assert_eq!(
            s.raw(|c, _| c.get(&url).bearer_auth("alpha-key"))
                .await
                .status,
            200
        );
    }
    let limited = s.raw(|c, _| c.get(&url).bearer_auth("alpha-key")).await;
    limited.assert_error(429, "rate_limited");
    assert!(
        limited
            .header("retry-after")
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|v| (1..=60).contains(&v))
    );
    // Limits are per key.
    assert_eq!(
        s.raw(|c, _| c.get(&url).bearer_auth("beta-key"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn restart_uses_the_compile_cache() {
    let dir = tempfile::tempdir().expect("tmp");
    let cache = dir.path().join("cache");
    let opts = Options::default().env("PROMPTSCULPTOR_CACHE_DIR", cache.to_str().expect("utf8"));
    let cold = Server::start(opts.clone()).await;
    let listing = cold.get("/api/v1/plugins").await;
    assert!(
        listing.json["plugins"]
            .as_array()
            .expect("p")
            .iter()
            .all(|p| p["compiled_from_cache"] == false)
    );
    drop(cold);
    // A corrupt entry is discarded and recompiled, never trusted.
    let entries: Vec<_> = std::fs::read_dir(&cache)
        .expect("cache dir")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(entries.len(), 3, "one cache file per plugin");
    std::fs::write(entries[0].path(), b"corrupt").expect("corrupt");
    let warm = Server::start(opts).await;
    let listing = warm.get("/api/v1/plugins").await;
    let from_cache = listing.json["plugins"]
        .as_array()
        .expect("p")
        .iter()
        .filter(|p| p["compiled_from_cache"] == true)
        .count();
    assert_eq!(from_cache, 2, "{}", listing.text);
    assert!(
        listing.json["plugins"]
            .as_array()
            .expect("p")
            .iter()
            .all(|p| p["status"] == "ok")
    );
}

fn log_rows(db: &std::path::Path) -> Vec<Value> {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return Vec::new();
    };
    let Ok(mut stmt) = conn.prepare(
        "SELECT request_id, operation, strategy, strategy_version, style, model, status, error_code,
                latency_ms, llm_calls, input_tokens, output_tokens, prompt, completion FROM request_log ORDER BY id",
    ) else {
        return Vec::new();
    };
    stmt.query_map([], |r| {
        Ok(json!({
            "request_id": r.get::<_, String>(0)?, "operation": r.get::<_, String>(1)?,
            "strategy": r.get::<_, Option<String>>(2)?, "strategy_version": r.get::<_, Option<String>>(3)?,
            "style": r.get::<_, Option<String>>(4)?, "model": r.get::<_, Option<String>>(5)?,
            "status": r.get::<_, i64>(6)?, "error_code": r.get::<_, Option<String>>(7)?,
            "latency_ms": r.get::<_, f64>(8)?, "llm_calls": r.get::<_, i64>(9)?,
            "input_tokens": r.get::<_, i64>(10)?, "output_tokens": r.get::<_, i64>(11)?,
            "prompt": r.get::<_, Option<String>>(12)?, "completion": r.get::<_, Option<String>>(13)?,
        }))
    })
    .map(|rows| rows.filter_map(Result::ok).collect())
    .unwrap_or_default()
}

async fn wait_rows(db: &std::path::Path, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let rows = log_rows(db);
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("request log never reached {n} rows: {:?}", log_rows(db));
}

#[tokio::test]
async fn request_log_records_metadata_not_prompts() {
    let llm =
        FakeLlm::start(|_, _| Reply::Text(json!({ "issues": [], "suggestions": [] }).to_string()))
            .await;
    let s = Server::start(llm_opts(&llm)).await;
    let db = s.dir.path().join("test.db");
    let a = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": "Secret prompt text about things" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": "Make {{x}} short", "style": "concise", "use_llm": false }),
        )
        .await;
    assert_eq!(r.status, 200);
    s.post("/api/v1/create", &json!({ "goal": "" }))
        .await
        .assert_error(422, "validation_failed");
    let rows = wait_rows(&db, 3).await;
    let analyze = &rows[0];
    assert_eq!(analyze["operation"], "analyze");
    assert_eq!(
        analyze["request_id"],
        a.header("x-request-id").unwrap_or_default()
    );
    assert_eq!(analyze["strategy"], "analyze");
    assert_eq!(analyze["status"], 200);
    assert_eq!(analyze["model"], "test-model-2026");
    assert_eq!(analyze["llm_calls"], a.json["usage"]["llm_calls"]);
    assert_eq!(analyze["input_tokens"], a.json["usage"]["input_tokens"]);
    assert!(analyze["latency_ms"].as_f64().is_some_and(|l| l > 0.0));
    assert!(
        analyze["prompt"].is_null() && analyze["completion"].is_null(),
        "no text without LOG_PROMPTS"
    );
    assert_eq!(rows[1]["style"], "concise");
    assert_eq!(rows[1]["llm_calls"], 0);
    assert_eq!(rows[2]["operation"], "create");
    assert_eq!(rows[2]["status"], 422);
    assert_eq!(rows[2]["error_code"], "validation_failed");
    let raw = std::fs::read(&db).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&raw).contains("Secret prompt text"));
}

#[tokio::test]
async fn request_log_keeps_prompts_when_asked() {
    let s = Server::start(Options::default().env("PROMPTSCULPTOR_LOG_PROMPTS", "true")).await;
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": "Please make {{x}} short", "style": "concise" }),
        )
        .await;
    assert_eq!(r.status, 200);
    let rows = wait_rows(&s.dir.path().join("test.db"), 1).await;
    assert_eq!(rows[0]["prompt"], "Please make {{x}} short");
    assert_eq!(rows[0]["completion"], r.json["prompt"]);
}

#[tokio::test]
async fn metrics_move_after_requests() {
    let llm =
        FakeLlm::start(|_, _| Reply::Text(json!({ "issues": [], "suggestions": [] }).to_string()))
            .await;
    let s = Server::start(llm_opts(&llm).plugins(&["analyze", "remix", "create", "faulty"])).await;
    assert_eq!(
        s.post("/api/v1/analyze", &json!({ "prompt": VAGUE }))
            .await
            .status,
        200
    );
    s.post("/api/v1/analyze", &faulty("trap"))
        .await
        .assert_error(500, "plugin_failed");
    s.get("/api/v1/styles/absent")
        .await
        .assert_error(404, "style_not_found");
    let m = s.get("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(
        m.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    let t = &m.text;
    for needle in [
        "promptsculptor_http_requests_total{route=\"/api/v1/analyze\",status=\"200\"} 1",
        "promptsculptor_http_requests_total{route=\"/api/v1/analyze\",status=\"500\"} 1",
        "promptsculptor_http_requests_total{route=\"/api/v1/styles/{name}\",status=\"404\"} 1",
        "promptsculptor_plugin_calls_total{plugin=\"faulty\",outcome=\"trap\"} 1",
        "promptsculptor_plugin_calls_total{plugin=\"analyze\",outcome=\"ok\"} 1",
        "promptsculptor_llm_calls_total{provider=\"openai\",model=\"test-model-2026\",outcome=\"ok\"} 1",
        "promptsculptor_llm_tokens_total{provider=\"openai\",model=\"test-model-2026\",direction=\"input\"} 11",
        "promptsculptor_host_overhead_seconds_count{route=\"/api/v1/analyze\"} 2",
        "promptsculptor_plugin_reloads_total{outcome=\"ok\"} 4",
        "promptsculptor_http_requests_in_flight 1",
    ] {
        assert!(t.contains(needle), "missing `{needle}` in:\n{t}");
    }
}

#[tokio::test]
async fn openapi_document_lists_every_contract_path() {
    let s = Server::start(Options::default()).await;
    let r = s.get("/openapi.json").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.json["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        r.json["openapi"]
    );
    let paths = r.json["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/v1/analyze", "post"),
        ("/api/v1/remix", "post"),
        ("/api/v1/create", "post"),
        ("/api/v1/styles", "get"),
        ("/api/v1/styles", "post"),
        ("/api/v1/styles/{name}", "get"),
        ("/api/v1/styles/{name}", "put"),
        ("/api/v1/styles/{name}", "delete"),
        ("/api/v1/plugins", "get"),
        ("/api/v1/evaluate", "post"),
        ("/api/v1/suites", "get"),
        ("/api/v1/suites", "post"),
        ("/api/v1/suites/{name}", "get"),
        ("/api/v1/suites/{name}", "put"),
        ("/api/v1/suites/{name}", "delete"),
        ("/api/v1/runs", "get"),
        ("/api/v1/runs/{run_id}", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/docs", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    // Schemas come from the Rust types: the analyze answer names its fields.
    let schemas = &r.json["components"]["schemas"];
    for field in [
        "scores",
        "issues",
        "suggestions",
        "stats",
        "strategy",
        "usage",
    ] {
        assert!(
            schemas["AnalyzeResponse"]["properties"]
                .get(field)
                .is_some(),
            "AnalyzeResponse.{field}"
        );
    }
    for field in ["run_id", "best", "summary", "results", "usage"] {
        assert!(
            schemas["RunDto"]["properties"].get(field).is_some(),
            "RunDto.{field}"
        );
    }
    assert!(
        schemas["AnalyzeBody"]["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f == "prompt"))
    );
    // A real validator checks the document against the OpenAPI 3.1 schema
    // (scripts/test installs it and requires this check).
    let required =
        std::env::var("PROMPTSCULPTOR_REQUIRE_OPENAPI_VALIDATOR").is_ok_and(|v| v == "1");
    let file = s.dir.path().join("openapi.json");
    std::fs::write(&file, &r.text).expect("write openapi.json");
    match std::process::Command::new("openapi-spec-validator")
        .arg(&file)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "openapi-spec-validator refused the document:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => assert!(
            !required,
            "openapi-spec-validator is required but cannot run: {e}"
        ),
    }
    let docs = s.get("/docs").await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(docs.text.contains("/openapi.json") && !docs.text.contains("https://cdn"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_requests_in_flight_finish() {
    let llm = FakeLlm::start(|_, _| {
        Reply::Delay(
            Duration::from_millis(1500),
            Box::new(Reply::Text(
                json!({ "issues": [], "suggestions": [] }).to_string(),
            )),
        )
    })
    .await;
    let mut s = Server::start(llm_opts(&llm)).await;
    let (http, url) = (s.http.clone(), format!("{}/api/v1/analyze", s.base));
    let slow = tokio::spawn(async move {
        let r = http
            .post(url)
            .json(&json!({ "prompt": "Summarise the report in 3 bullets." }))
            .send()
            .await?;
        let status = r.status().as_u16();
        r.text().await.map(|t| (status, t))
    });
    common::wait_until(Duration::from_secs(10), "the LLM call", || async {
        match llm.received().len() {
            0 => Err("no LLM call yet".into()),
            _ => Ok(()),
        }
    })
    .await;
    assert_eq!(llm.received().len(), 1, "the slow request is in flight");
    let exit = tokio::task::block_in_place(|| s.terminate(Duration::from_secs(10)));
    let (status, text) = slow.await.expect("task").expect("response");
    assert_eq!(status, 200, "in-flight request finished: {text}");
    let exit = exit.expect("server exited after SIGTERM");
    assert!(exit.success(), "exit status {exit:?}");
    assert!(s.log_text().contains("shutdown signal received"));
}

#[tokio::test]
async fn json_logs_carry_the_request_id_on_every_line() {
    let s = Server::start(Options::default().env("PROMPTSCULPTOR_LOG_FORMAT", "json")).await;
    let r = s
        .raw(|c, b| {
            c.post(format!("{b}/api/v1/analyze"))
                .header("x-request-id", "trace-json-7")
                .json(&json!({ "prompt": "hi" }))
        })
        .await;
    assert_eq!(r.status, 200);
    // The last line of a request is written after its answer is sent.
    common::wait_until(
        Duration::from_secs(10),
        "the request's last log line",
        || async {
            let log = s.log_text();
            if log
                .lines()
                .any(|l| l.contains("trace-json-7") && l.contains("request done"))
            {
                Ok(())
            } else {
                Err(log)
            }
        },
    )
    .await;
    let lines: Vec<Value> = s
        .log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.to_string().contains("trace-json-7"))
        .collect();
    assert!(
        !lines.is_empty(),
        "no JSON line mentions the request: {}",
        s.log_text()
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "request done"),
        "{lines:?}"
    );
    for l in &lines {
        assert_eq!(
            l["span"]["id"], "trace-json-7",
            "every line of the request carries its id: {l}"
        );
    }
}
