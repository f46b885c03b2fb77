//! A real HTTP server speaking OpenAI's chat-completions wire format, whose
//! answers each test scripts. It records what it received.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

/// The key tests configure; it must never show up in logs.
pub const TEST_KEY: &str = "sk-test-SECRET-0123456789abcdef";

/// What the fake provider answers to one call.
pub enum Reply {
    /// A completion whose content is this text.
    Text(String),
    /// Any status with a raw body and optional Retry-After.
    Status(u16, String, Option<u32>),
    /// Wait, then answer with the inner reply.
    Delay(Duration, Box<Reply>),
    /// A streamed answer that breaks after this text (tests/common/providers.rs
    /// streams it; answered unstreamed, it is a 500).
    CutStream(String),
}

/// One received call.
#[derive(Debug, Clone)]
pub struct Received {
    /// Parsed body.
    pub body: Value,
    /// Authorization header.
    pub authorization: Option<String>,
}

type Script = Arc<dyn Fn(usize, &Value) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    script: Script,
    received: Arc<Mutex<Vec<Received>>>,
}

/// The running fake provider.
pub struct FakeLlm {
    /// Base URL including `/v1`.
    pub base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeLlm {
    /// Start a server answering each call with `script(call_index, body)`.
    pub async fn start(script: impl Fn(usize, &Value) -> Reply + Send + Sync + 'static) -> FakeLlm {
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            script: Arc::new(script),
            received: Arc::clone(&received),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeLlm {
            base_url: format!("http://{addr}/v1"),
            received,
            task,
        }
    }

    /// Calls received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An OpenAI chat-completion body.
pub fn completion(text: &str, prompt_tokens: u32, completion_tokens: u32) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model-2026",
        "choices": [{ "index": 0, "finish_reason": "stop",
                      "message": { "role": "assistant", "content": text } }],
        "usage": { "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                   "total_tokens": prompt_tokens + completion_tokens }
    })
}

/// The text of every message of a request, joined (to match on content).
pub fn all_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["content"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

async fn handle(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let index = {
        let mut r = match s.received.lock() {
            Ok(r) => r,
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        r.push(Received {
            body: body.clone(),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        });
        r.len() - 1
    };
    (s.script)(index, &body)
        .respond(|t| completion(t, 11, 7))
        .await
}

impl Reply {
    /// Play this reply: wait out delays, answer a status as given, and turn
    /// text into a success body with `success` (each wire format has its own).
    pub async fn respond(self, success: impl FnOnce(&str) -> Value) -> Response {
        let mut reply = self;
        loop {
            match reply {
                Reply::Delay(d, inner) => {
                    tokio::time::sleep(d).await;
                    reply = *inner;
                }
                Reply::Text(t) => return axum::Json(success(&t)).into_response(),
                Reply::CutStream(_) => {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "cut").into_response();
                }
                Reply::Status(code, body, retry_after) => {
                    let mut resp = (
                        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                        [("content-type", "application/json")],
                        body,
                    )
                        .into_response();
                    if let Some(secs) = retry_after {
                        resp.headers_mut().insert("retry-after", secs.into());
                    }
                    return resp;
                }
            }
        }
    }
}
