//! Black-box tests of the native LLM providers (OpenAI-compatible, Anthropic,
//! Gemini) through the real server binary, against a real local HTTP server
//! speaking each provider's wire format.
//!
//! About `usage.llm_calls`: it counts the LLM calls the *plugin* made. The
//! host's retries (429, 5xx, connection errors) and its one structured-output
//! fallback happen below the plugin and are invisible to it: a call that
//! succeeded on its third HTTP attempt counts once, and so do its tokens,
//! which only a successful answer reports.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::providers::{Call, FakeProvider, Reply, Wire, request_text};
use common::{Options, Server};
use serde_json::{Value, json};

const GOAL: &str = "Write release notes";

fn create_body() -> Value {
    json!({ "goal": GOAL, "variables": ["changelog"], "use_llm": true })
}

fn created() -> String {
    json!({
        "system": "You are a release-notes writer.",
        "prompt": "Turn <changelog>{{changelog}}</changelog> into release notes of at most 100 words.",
        "rationale": "Tags separate data from instructions."
    })
    .to_string()
}

fn critique() -> String {
    json!({
        "issues": [{ "code": "tone-mismatch", "severity": "warning",
                     "message": "The tone is too casual.", "quote": "stuff",
                     "suggestion": "Use formal wording." }],
        "suggestions": ["State the audience."]
    })
    .to_string()
}

fn analyze_body() -> Value {
    json!({ "prompt": "Write some stuff about {{product}} etc.", "use_llm": true })
}

async fn start(fake: &FakeProvider, wire: Wire, extra: &[(&str, &str)]) -> Server {
    let mut opts: Options = fake.options(wire);
    for (k, v) in extra {
        opts = opts.env(k, v);
    }
    Server::start(opts).await
}

/// Neither the server's log nor any answer it gave may contain a key.
#[track_caller]
fn assert_no_key(s: &Server, answers: &[&str]) {
    let log = s.log_text();
    for wire in Wire::ALL {
        assert!(!log.contains(wire.key()), "{wire:?} key in the log");
        for a in answers {
            assert!(!a.contains(wire.key()), "{wire:?} key in an answer: {a}");
        }
    }
}

#[track_caller]
fn assert_usage(r: &common::Resp, wire: Wire, calls: u64) {
    let (input, output) = wire.usage();
    assert_eq!(
        r.json["usage"],
        json!({ "llm_calls": calls, "cached_llm_calls": 0, "input_tokens": input * calls,
                "output_tokens": output * calls, "model": wire.answering_model() }),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn anthropic_speaks_the_messages_api() {
    let fake = FakeProvider::start(|_, _| Reply::Text(created())).await;
    let s = start(&fake, Wire::Anthropic, &[]).await;
    let r = s.post("/api/v1/create", &create_body()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["system"], "You are a release-notes writer.");
    assert!(
        r.json["prompt"]
            .as_str()
            .unwrap_or("")
            .contains("{{changelog}}")
    );
    assert_usage(&r, Wire::Anthropic, 1);

    let calls = fake.received();
    assert_eq!(calls.len(), 1, "structured request accepted, no fallback");
    let c = &calls[0];
    assert_eq!(c.uri, "/v1/messages");
    assert_eq!(c.header("x-api-key"), Some(Wire::Anthropic.key()));
    assert_eq!(c.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(c.header("authorization"), None);
    let b = &c.body;
    assert_eq!(b["model"], "claude-test");
    assert_eq!(b["max_tokens"], 4096, "the plugin's max_tokens");
    assert!(
        b["system"]
            .as_str()
            .unwrap_or("")
            .contains("prompt engineer"),
        "top-level system"
    );
    let messages = b["messages"].as_array().expect("messages");
    assert!(
        messages
            .iter()
            .all(|m| m["role"] == "user" || m["role"] == "assistant")
    );
    assert!(request_text(c).contains(GOAL));
    // Structured output: one forced tool whose input schema is the plugin's.
    let tool = &b["tools"][0];
    assert_eq!(b["tool_choice"]["type"], "tool");
    assert_eq!(b["tool_choice"]["name"], tool["name"]);
    assert_eq!(tool["input_schema"]["type"], "object");
    assert_eq!(
        tool["input_schema"]["required"],
        json!(["system", "prompt", "rationale"])
    );
    assert_no_key(&s, &[&r.text]);
}

#[tokio::test]
async fn gemini_speaks_generate_content() {
    let fake = FakeProvider::start(|_, call| {
        // Answer whichever plugin asked.
        if request_text(call).contains(GOAL) {
            Reply::Text(created())
        } else {
            Reply::Text(critique())
        }
    })
    .await;
    let s = start(&fake, Wire::Gemini, &[]).await;
    let r = s.post("/api/v1/create", &create_body()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.json["prompt"]
            .as_str()
            .unwrap_or("")
            .contains("{{changelog}}")
    );
    assert_usage(&r, Wire::Gemini, 1);

    let calls = fake.received();
    assert_eq!(
        calls.len(),
        1,
        "the translated schema was accepted: no fallback"
    );
    let c = &calls[0];
    assert_eq!(
        c.uri, "/v1beta/models/gemini-test:generateContent",
        "no key in the URL"
    );
    assert_eq!(c.header("x-goog-api-key"), Some(Wire::Gemini.key()));
    assert_eq!(c.header("authorization"), None);
    let b = &c.body;
    assert!(
        b["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("prompt engineer")
    );
    let contents = b["contents"].as_array().expect("contents");
    assert_eq!(contents[0]["role"], "user");
    assert!(
        contents
            .iter()
            .all(|c| c["role"] == "user" || c["role"] == "model")
    );
    let cfg = &b["generationConfig"];
    assert!((cfg["temperature"].as_f64().unwrap_or(0.0) - 0.3).abs() < 1e-6);
    assert_eq!(cfg["maxOutputTokens"], 4096);
    assert_eq!(cfg["responseMimeType"], "application/json");
    let schema = &cfg["responseSchema"];
    assert_eq!(schema["type"], "OBJECT");
    assert_eq!(
        schema["properties"]["system"],
        json!({"type": "STRING", "nullable": true,
        "description": "System prompt holding the role, or null"})
    );
    assert!(!schema.to_string().contains("additionalProperties"));

    // The analyzer's schema (nested additionalProperties, pattern, maxItems)
    // is translated too.
    let r = s.post("/api/v1/analyze", &analyze_body()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.json["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .any(|i| i["code"] == "tone-mismatch")
    );
    assert_usage(&r, Wire::Gemini, 1);
    let calls = fake.received();
    assert_eq!(calls.len(), 2, "no fallback for the analyzer either");
    assert_eq!(
        common::providers::unknown_gemini_keyword(
            &calls[1].body["generationConfig"]["responseSchema"]
        ),
        None
    );
    assert_no_key(&s, &[&r.text]);
}

#[tokio::test]
async fn openai_sends_response_format_with_a_bearer_key() {
    let fake = FakeProvider::start(|_, _| Reply::Text(created())).await;
    let s = start(&fake, Wire::OpenAi, &[]).await;
    let r = s.post("/api/v1/create", &create_body()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_usage(&r, Wire::OpenAi, 1);
    let c = &fake.received()[0];
    assert_eq!(c.uri, "/v1/chat/completions");
    assert_eq!(
        c.header("authorization"),
        Some(format!("Bearer {}", Wire::OpenAi.key()).as_str())
    );
    assert_eq!(c.body["messages"][0]["role"], "system");
    assert_eq!(c.body["response_format"]["type"], "json_schema");
    assert_eq!(
        c.body["response_format"]["json_schema"]["schema"]["required"],
        json!(["system", "prompt", "rationale"])
    );
    assert_no_key(&s, &[&r.text]);
}

/// A 400 refusing each provider's own structured-output parameters.
fn unsupported(wire: Wire) -> String {
    match wire {
        Wire::OpenAi => r#"{"error":{"message":"response_format is not supported","type":"invalid_request_error"}}"#,
        Wire::Anthropic => r#"{"type":"error","error":{"type":"invalid_request_error","message":"tools: not supported by this model"}}"#,
        Wire::Gemini => r#"{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"JSON mode is not enabled for this model"}}"#,
    }
    .to_string()
}

#[tokio::test]
async fn structured_output_falls_back_once_without_it() {
    for wire in Wire::ALL {
        let fake = FakeProvider::start(move |_, call: &Call| {
            if wire.is_structured(&call.body) {
                Reply::Status(400, unsupported(wire), None)
            } else {
                Reply::Text(created())
            }
        })
        .await;
        let s = start(&fake, wire, &[]).await;
        let r = s.post("/api/v1/create", &create_body()).await;
        assert_eq!(r.status, 200, "{wire:?}: {}", r.text);
        assert_usage(&r, wire, 1);
        let calls = fake.received();
        assert_eq!(calls.len(), 2, "{wire:?}: one fallback");
        assert!(
            wire.is_structured(&calls[0].body),
            "{wire:?}: structured first"
        );
        assert!(!wire.is_structured(&calls[1].body), "{wire:?}: then plain");
        assert_eq!(
            request_text(&calls[0]),
            request_text(&calls[1]),
            "{wire:?}: same prompt"
        );
    }
}

#[tokio::test]
async fn rate_limit_then_success_is_retried_after_retry_after() {
    let fake = FakeProvider::start(|i, _| {
        if i == 0 {
            Reply::Status(
                429,
                r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#
                    .into(),
                Some(1),
            )
        } else {
            Reply::Text(created())
        }
    })
    .await;
    let s = start(&fake, Wire::Anthropic, &[]).await;
    let started = Instant::now();
    let r = s.post("/api/v1/create", &create_body()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(fake.received().len(), 2);
    // Retries are invisible to the plugin: one call, its tokens once.
    assert_usage(&r, Wire::Anthropic, 1);
}

#[tokio::test]
async fn server_errors_twice_then_success() {
    let fake = FakeProvider::start(|i, _| match i {
        0 => Reply::Status(
            500,
            r#"{"error":{"code":500,"message":"internal","status":"INTERNAL"}}"#.into(),
            None,
        ),
        1 => Reply::Status(
            503,
            r#"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#.into(),
            None,
        ),
        _ => Reply::Text(created()),
    })
    .await;
    let s = start(&fake, Wire::Gemini, &[]).await;
    let r = s.post("/api/v1/create", &create_body()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(fake.received().len(), 3);
    assert_usage(&r, Wire::Gemini, 1);
}

#[tokio::test]
async fn persistent_server_errors_are_503_after_the_attempt_cap() {
    for (wire, status, body) in [
        (
            Wire::Anthropic,
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
        (Wire::OpenAi, 500, r#"{"error":{"message":"boom"}}"#),
    ] {
        let fake = FakeProvider::start(move |_, _| Reply::Status(status, body.into(), None)).await;
        let s = start(&fake, wire, &[]).await;
        let started = Instant::now();
        let r = s.post("/api/v1/analyze", &analyze_body()).await;
        let message = r.assert_error(503, "llm_unavailable");
        assert!(message.contains(&status.to_string()), "{message}");
        assert_eq!(fake.received().len(), 4, "{wire:?}: 4 attempts in all");
        // Backoff ceilings 250 ms + 500 ms + 1 s: well under the deadline.
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn a_hang_ends_at_the_deadline_with_504() {
    for wire in Wire::ALL {
        // The first attempt fails fast, the retry hangs: the deadline covers
        // both attempts together.
        let fake = FakeProvider::start(|i, _| {
            if i == 0 {
                Reply::Status(502, r#"{"error":{"message":"bad gateway"}}"#.into(), None)
            } else {
                Reply::Delay(Duration::from_secs(30), Box::new(Reply::Text(critique())))
            }
        })
        .await;
        let s = start(&fake, wire, &[("PROMPTSCULPTOR_LLM_TIMEOUT_SECS", "1")]).await;
        let started = Instant::now();
        let r = s.post("/api/v1/analyze", &analyze_body()).await;
        let elapsed = started.elapsed();
        r.assert_error(504, "llm_timeout");
        assert!(
            elapsed < Duration::from_secs(3),
            "{wire:?}: took {elapsed:?}"
        );
        assert!(
            elapsed >= Duration::from_millis(900),
            "{wire:?}: took {elapsed:?}"
        );
        assert_eq!(fake.received().len(), 2, "{wire:?}");
    }
}

#[tokio::test]
async fn garbage_is_502_without_retry() {
    for wire in Wire::ALL {
        for garbage in ["not json at all", r#"{"unexpected": true}"#] {
            let fake =
                FakeProvider::start(move |_, _| Reply::Status(200, garbage.into(), None)).await;
            let s = start(&fake, wire, &[]).await;
            let r = s.post("/api/v1/analyze", &analyze_body()).await;
            r.assert_error(502, "llm_bad_response");
            assert_eq!(fake.received().len(), 1, "{wire:?} {garbage}");
        }
    }
}

#[tokio::test]
async fn persistent_rate_limit_is_429_with_retry_after() {
    // Retry-After fits the deadline: every attempt is used, then 429.
    let fake = FakeProvider::start(|_, _| {
        Reply::Status(
            429,
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#.into(),
            Some(1),
        )
    })
    .await;
    let s = start(&fake, Wire::Anthropic, &[]).await;
    let started = Instant::now();
    let r = s.post("/api/v1/analyze", &analyze_body()).await;
    r.assert_error(429, "llm_rate_limited");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(fake.received().len(), 4);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "waited 3 × 1 s"
    );

    // Gemini says when in the body; beyond the deadline, waiting is
    // pointless: one attempt, and the client learns the provider's delay.
    let fake = FakeProvider::start(|_, _| {
        Reply::Status(
            429,
            r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}"#.into(),
            None,
        )
    })
    .await;
    let s = start(
        &fake,
        Wire::Gemini,
        &[("PROMPTSCULPTOR_LLM_TIMEOUT_SECS", "5")],
    )
    .await;
    let started = Instant::now();
    let r = s.post("/api/v1/analyze", &analyze_body()).await;
    r.assert_error(429, "llm_rate_limited");
    assert_eq!(r.header("retry-after"), Some("30"));
    assert_eq!(fake.received().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn usage_is_summed_over_several_calls() {
    for wire in Wire::ALL {
        // A reply that is not JSON makes the analyzer ask once for a repair.
        let fake = FakeProvider::start(|i, _| {
            Reply::Text(if i == 0 {
                "Sure! Here you go.".into()
            } else {
                critique()
            })
        })
        .await;
        let s = start(&fake, wire, &[]).await;
        let r = s.post("/api/v1/analyze", &analyze_body()).await;
        assert_eq!(r.status, 200, "{wire:?}: {}", r.text);
        assert_eq!(fake.received().len(), 2, "{wire:?}");
        assert_usage(&r, wire, 2);
    }
}

#[tokio::test]
async fn keys_are_sent_but_never_logged_or_echoed() {
    for wire in Wire::ALL {
        // A provider that echoes the key it refuses, as some do.
        let fake = FakeProvider::start(move |_, _| {
            Reply::Status(
                400,
                json!({"error": {"type": "invalid_request_error",
                                 "message": format!("key {} cannot use this model", wire.key())}})
                .to_string(),
                None,
            )
        })
        .await;
        let s = start(&fake, wire, &[]).await;
        let r = s.post("/api/v1/analyze", &analyze_body()).await;
        let message = r.assert_error(502, "llm_request_rejected");
        assert!(message.contains("[redacted]"), "{message}");
        let calls = fake.received();
        assert!(!calls.is_empty());
        for c in &calls {
            assert!(!c.uri.contains(wire.key()), "{wire:?}: key in URL");
            let sent = c
                .headers
                .values()
                .filter(|v| v.contains(wire.key()))
                .count();
            assert_eq!(sent, 1, "{wire:?}: the key travels in exactly one header");
        }
        assert_no_key(&s, &[&r.text]);
    }
}

#[tokio::test]
async fn other_client_errors_are_not_retried() {
    for (status, code) in [(401, "llm_unavailable"), (404, "llm_request_rejected")] {
        let fake = FakeProvider::start(move |_, _| {
            Reply::Status(status, r#"{"error":{"message":"no"}}"#.into(), None)
        })
        .await;
        let s = start(&fake, Wire::Anthropic, &[]).await;
        let r = s.post("/api/v1/analyze", &analyze_body()).await;
        r.assert_error(if status == 401 { 503 } else { 502 }, code);
        assert_eq!(fake.received().len(), 1, "{status}: no retry");
    }
}
