//! Streamed answers (contract §7) against the real binary and a test
//! provider that streams each wire format in pieces: tokens reach the
//! client while the provider still holds the rest of its answer, a stream
//! cut after its first tokens is an `error` event without a retry, a
//! failure before the first token is retried, and validation errors stay
//! plain JSON.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::Server;
use common::providers::{FakeProvider, Reply, Wire};
use serde_json::{Value, json};

fn created() -> String {
    json!({
        "system": "You are a release-notes writer.",
        "prompt": "Turn <changelog>{{changelog}}</changelog> into release notes of at most 100 words.",
        "rationale": "Tags separate data from instructions."
    })
    .to_string()
}

fn create_body(stream: bool) -> Value {
    json!({ "goal": "Write release notes from a changelog", "variables": ["changelog"],
            "use_llm": true, "stream": stream })
}

/// A server-sent-event reader over a live response.
struct Events {
    resp: reqwest::Response,
    buf: String,
}

impl Events {
    /// POST `body`: the event stream, or the plain answer when it is none.
    async fn open(s: &Server, path: &str, body: &Value) -> Result<Events, reqwest::Response> {
        let resp = s
            .http
            .post(format!("{}{path}", s.base))
            .json(body)
            .send()
            .await
            .unwrap();
        let sse = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if sse {
            Ok(Events {
                resp,
                buf: String::new(),
            })
        } else {
            Err(resp)
        }
    }

    /// The next event (name, data), or None at the end of the stream.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if name.is_empty() && data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some((name, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
            match tokio::time::timeout(Duration::from_secs(30), self.resp.chunk()).await {
                Ok(Ok(Some(c))) => self.buf.push_str(&String::from_utf8_lossy(&c)),
                Ok(Ok(None)) | Ok(Err(_)) => return None,
                Err(_) => panic!("no event within 30 s; have {:?}", self.buf),
            }
        }
    }

    async fn rest(&mut self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        while let Some(e) = self.next().await {
            out.push(e);
        }
        out
    }
}

async fn start(fake: &FakeProvider, wire: Wire) -> Server {
    Server::start(fake.options(wire)).await
}

#[tokio::test]
async fn tokens_reach_the_client_before_the_provider_finishes_in_every_wire_format() {
    for wire in Wire::ALL {
        let fake = FakeProvider::start_held(|_, _| Reply::Text(created())).await;
        let s = start(&fake, wire).await;
        let mut events = Events::open(&s, "/api/v1/create", &create_body(true))
            .await
            .unwrap_or_else(|r| panic!("{wire:?}: not an event stream: {}", r.status()));
        let (name, start) = events.next().await.unwrap();
        assert_eq!(name, "start", "{wire:?}");
        assert_eq!(start["strategy"]["name"], "create");
        assert!(
            start["request_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("req_"))
        );
        assert_eq!(
            events.next().await.unwrap(),
            ("llm".into(), json!({"call": 1}))
        );
        let (name, first) = events.next().await.unwrap();
        assert_eq!(name, "delta", "{wire:?}: {first}");
        assert_eq!(first["call"], 1);
        // The provider holds the rest of its answer until now: this delta
        // cannot have come from a finished answer.
        fake.release();
        let mut text = first["text"].as_str().unwrap().to_string();
        let rest = events.rest().await;
        let (last, result) = rest.last().unwrap().clone();
        assert_eq!(last, "result", "{wire:?}: {rest:?}");
        for (name, data) in &rest[..rest.len() - 1] {
            assert_eq!(name, "delta", "{wire:?}: {rest:?}");
            text.push_str(data["text"].as_str().unwrap());
        }
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            serde_json::from_str::<Value>(&created()).unwrap(),
            "{wire:?}: the deltas are the provider's text"
        );
        assert_eq!(
            result["system"], "You are a release-notes writer.",
            "{wire:?}"
        );
        assert_eq!(result["usage"]["llm_calls"], 1);
        let (input, output) = wire.usage();
        assert_eq!(result["usage"]["input_tokens"], input, "{wire:?}: {result}");
        assert_eq!(
            result["usage"]["output_tokens"], output,
            "{wire:?}: {result}"
        );
        let calls = fake.received();
        assert_eq!(calls.len(), 1, "{wire:?}");
        match wire {
            Wire::Gemini => assert!(calls[0].uri.contains(":streamGenerateContent?alt=sse")),
            _ => assert_eq!(calls[0].body["stream"], true),
        }
    }
}

#[tokio::test]
async fn a_stream_cut_after_its_first_tokens_is_an_error_event_without_a_retry() {
    for wire in Wire::ALL {
        let fake = FakeProvider::start(|_, _| Reply::CutStream(created()[..30].to_string())).await;
        let s = start(&fake, wire).await;
        let mut events = Events::open(&s, "/api/v1/create", &create_body(true))
            .await
            .unwrap_or_else(|r| panic!("{wire:?}: {}", r.status()));
        let all = events.rest().await;
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"start"), "{wire:?}: {all:?}");
        assert!(names.contains(&"delta"), "{wire:?}: {all:?}");
        let (last, err) = all.last().unwrap();
        assert_eq!(last, "error", "{wire:?}: {all:?}");
        assert_eq!(err["error"]["code"], "llm_unavailable", "{wire:?}: {err}");
        assert_eq!(err["status"], 503);
        assert!(err["error"]["request_id"].as_str().is_some());
        assert_eq!(
            fake.received().len(),
            1,
            "{wire:?}: no retry once tokens were sent"
        );
    }
}

#[tokio::test]
async fn a_failure_before_the_first_token_is_retried() {
    for wire in Wire::ALL {
        let fake = FakeProvider::start(|i, _| match i {
            0 => Reply::Status(503, r#"{"error":{"message":"busy"}}"#.into(), None),
            _ => Reply::Text(created()),
        })
        .await;
        let s = start(&fake, wire).await;
        let mut events = Events::open(&s, "/api/v1/create", &create_body(true))
            .await
            .unwrap_or_else(|r| panic!("{wire:?}: {}", r.status()));
        let all = events.rest().await;
        assert_eq!(all.last().unwrap().0, "result", "{wire:?}: {all:?}");
        assert_eq!(fake.received().len(), 2, "{wire:?}");
    }
}

#[tokio::test]
async fn validation_errors_stay_plain_json_and_deterministic_calls_stream_too() {
    let fake = FakeProvider::start(|_, _| Reply::Text(created())).await;
    let s = start(&fake, Wire::OpenAi).await;
    let Err(resp) =
        Events::open(&s, "/api/v1/create", &json!({ "goal": "", "stream": true })).await
    else {
        panic!("a validation error must not stream");
    };
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    // An unknown strategy never starts either: a plain 404.
    let Err(resp) = Events::open(
        &s,
        "/api/v1/analyze",
        &json!({ "prompt": "x", "strategy": "nope", "stream": true }),
    )
    .await
    else {
        panic!("an unknown strategy must not stream");
    };
    assert_eq!(resp.status(), 404);
    // No LLM call: start, then the result.
    let mut events = Events::open(
        &s,
        "/api/v1/remix",
        &json!({ "prompt": "Explain {{topic}}.", "style": "concise", "use_llm": false, "stream": true }),
    )
    .await
    .unwrap_or_else(|r| panic!("{}", r.status()));
    let all = events.rest().await;
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["start", "result"], "{all:?}");
    assert!(all[1].1["prompt"].as_str().unwrap().contains("{{topic}}"));
    // Accept: text/event-stream asks for a stream without the body flag.
    let resp = s
        .http
        .post(format!("{}/api/v1/analyze", s.base))
        .header("accept", "text/event-stream")
        .json(&json!({ "prompt": "Summarise this", "use_llm": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("event: start") && text.contains("event: result"),
        "{text}"
    );
}

#[tokio::test]
async fn a_client_that_leaves_mid_stream_ends_the_call_and_is_logged() {
    let fake = FakeProvider::start_held(|_, _| Reply::Text(created())).await;
    let s = start(&fake, Wire::OpenAi).await;
    {
        let mut events = Events::open(&s, "/api/v1/create", &create_body(true))
            .await
            .unwrap_or_else(|r| panic!("{}", r.status()));
        while let Some((name, _)) = events.next().await {
            if name == "delta" {
                break;
            }
        }
        // Dropped here, while the provider still holds its answer.
    }
    let db = s.db_path.clone();
    common::wait_until(Duration::from_secs(10), "a 499 row", || {
        let db = db.clone();
        async move {
            let row: Option<(i64, String)> = rusqlite::Connection::open(&db)
                .and_then(|c| {
                    c.query_row(
                        "SELECT status, error_code FROM request_log WHERE operation = 'create'",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                })
                .ok();
            match row {
                Some((499, code)) if code == "client_disconnected" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        }
    })
    .await;
    fake.release();
    assert_eq!(s.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn a_cached_answer_streams_as_one_piece() {
    let fake = FakeProvider::start(|_, _| Reply::Text(created())).await;
    let s = Server::start(
        fake.options(Wire::OpenAi)
            .env("PROMPTSCULPTOR_LLM_CACHE", "on"),
    )
    .await;
    let mut first = Events::open(&s, "/api/v1/create", &create_body(true))
        .await
        .unwrap_or_else(|r| panic!("{}", r.status()));
    let first = first.rest().await;
    assert!(
        first.iter().filter(|(n, _)| n == "delta").count() > 1,
        "{first:?}"
    );
    let mut second = Events::open(&s, "/api/v1/create", &create_body(true))
        .await
        .unwrap_or_else(|r| panic!("{}", r.status()));
    let second = second.rest().await;
    let deltas: Vec<&Value> = second
        .iter()
        .filter(|(n, _)| n == "delta")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(deltas.len(), 1, "{second:?}");
    assert_eq!(deltas[0]["text"], created());
    let (last, result) = second.last().unwrap();
    assert_eq!(last, "result");
    assert_eq!(result["usage"]["cached_llm_calls"], 1, "{result}");
    assert_eq!(
        fake.received().len(),
        1,
        "the second answer came from the cache"
    );
}
