//! A real HTTP server speaking the three wire formats the host supports —
//! OpenAI chat completions, Anthropic Messages, Gemini generateContent — on
//! their real paths, with answers scripted per test. It checks the parts of
//! a request the real APIs refuse (missing version header or `max_tokens`,
//! JSON-Schema keywords Gemini does not know) so a wrong wire fails loudly,
//! and records every request it received.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

use super::Options;
pub use super::llm::Reply;

/// Keys tests configure; none may ever show up in a log or an answer.
pub const OPENAI_KEY: &str = super::llm::TEST_KEY;
/// Anthropic test key.
pub const ANTHROPIC_KEY: &str = "sk-ant-test-SECRET-a1b2c3d4e5f6";
/// Gemini test key.
pub const GEMINI_KEY: &str = "AIza-test-SECRET-9z8y7x6w5v";

/// Token counts the fake reports per successful answer: (input, output).
pub const OPENAI_USAGE: (u64, u64) = (11, 7);
/// Anthropic usage per answer.
pub const ANTHROPIC_USAGE: (u64, u64) = (13, 5);
/// Gemini usage per answer (output = candidates + thoughts).
pub const GEMINI_USAGE: (u64, u64) = (17, 9);

/// Which API a request spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// `POST /v1/chat/completions`.
    OpenAi,
    /// `POST /v1/messages`.
    Anthropic,
    /// `POST /v1beta/models/{model}:generateContent`.
    Gemini,
}

impl Wire {
    /// All three.
    pub const ALL: [Wire; 3] = [Wire::OpenAi, Wire::Anthropic, Wire::Gemini];

    /// The `PROMPTSCULPTOR_LLM_PROVIDER` value.
    pub fn provider(self) -> &'static str {
        match self {
            Wire::OpenAi => "openai",
            Wire::Anthropic => "anthropic",
            Wire::Gemini => "gemini",
        }
    }

    /// The configured model name.
    pub fn model(self) -> &'static str {
        match self {
            Wire::OpenAi => "test-model",
            Wire::Anthropic => "claude-test",
            Wire::Gemini => "gemini-test",
        }
    }

    /// The model name the fake answers with.
    pub fn answering_model(self) -> &'static str {
        match self {
            Wire::OpenAi => "test-model-2026",
            Wire::Anthropic => "claude-test-2026",
            Wire::Gemini => "gemini-test-2026",
        }
    }

    /// The key configured for this provider.
    pub fn key(self) -> &'static str {
        match self {
            Wire::OpenAi => OPENAI_KEY,
            Wire::Anthropic => ANTHROPIC_KEY,
            Wire::Gemini => GEMINI_KEY,
        }
    }

    /// Usage the fake reports per answer.
    pub fn usage(self) -> (u64, u64) {
        match self {
            Wire::OpenAi => OPENAI_USAGE,
            Wire::Anthropic => ANTHROPIC_USAGE,
            Wire::Gemini => GEMINI_USAGE,
        }
    }

    /// Whether this request body carries the provider's structured-output parameters.
    pub fn is_structured(self, body: &Value) -> bool {
        match self {
            Wire::OpenAi => body.get("response_format").is_some(),
            Wire::Anthropic => body.get("tools").is_some() || body.get("tool_choice").is_some(),
            Wire::Gemini => {
                body.pointer("/generationConfig/responseSchema").is_some()
                    || body.pointer("/generationConfig/responseMimeType").is_some()
            }
        }
    }
}

/// One received request.
#[derive(Debug, Clone)]
pub struct Call {
    /// Which API it spoke.
    pub wire: Wire,
    /// Path and query as received.
    pub uri: String,
    /// Headers, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// Parsed body.
    pub body: Value,
}

impl Call {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

type Script = Arc<dyn Fn(usize, &Call) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    script: Script,
    received: Arc<Mutex<Vec<Call>>>,
    /// Held streams wait here after their first piece until released.
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

/// Pause between two streamed pieces.
pub const STREAM_GAP: std::time::Duration = std::time::Duration::from_millis(20);

/// The running fake.
pub struct FakeProvider {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Call>>>,
    gate: Option<Arc<tokio::sync::Semaphore>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeProvider {
    /// Serve all three APIs, answering each request with `script(index, call)`.
    pub async fn start(
        script: impl Fn(usize, &Call) -> Reply + Send + Sync + 'static,
    ) -> FakeProvider {
        FakeProvider::serve(script, None).await
    }

    /// As [`FakeProvider::start`], but a streamed answer stops after its
    /// first piece until [`FakeProvider::release`]: a test can show tokens
    /// reach its client before the provider has finished.
    pub async fn start_held(
        script: impl Fn(usize, &Call) -> Reply + Send + Sync + 'static,
    ) -> FakeProvider {
        FakeProvider::serve(script, Some(Arc::new(tokio::sync::Semaphore::new(0)))).await
    }

    /// Let held streams go on.
    pub fn release(&self) {
        if let Some(g) = &self.gate {
            g.add_permits(1000);
        }
    }

    async fn serve(
        script: impl Fn(usize, &Call) -> Reply + Send + Sync + 'static,
        gate: Option<Arc<tokio::sync::Semaphore>>,
    ) -> FakeProvider {
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            script: Arc::new(script),
            received: Arc::clone(&received),
            gate: gate.clone(),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/v1/messages", post(anthropic))
            .route("/v1beta/models/{*rest}", post(gemini))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeProvider {
            addr,
            received,
            gate,
            task,
        }
    }

    /// The base URL a server for `wire` is configured with (version path included).
    pub fn base_url(&self, wire: Wire) -> String {
        match wire {
            Wire::OpenAi | Wire::Anthropic => format!("http://{}/v1", self.addr),
            Wire::Gemini => format!("http://{}/v1beta", self.addr),
        }
    }

    /// Server options selecting `wire` against this fake, with its key.
    pub fn options(&self, wire: Wire) -> Options {
        let key_var = match wire {
            Wire::OpenAi => "OPENAI_API_KEY",
            Wire::Anthropic => "ANTHROPIC_API_KEY",
            Wire::Gemini => "GEMINI_API_KEY",
        };
        Options::default()
            .env("PROMPTSCULPTOR_LLM_PROVIDER", wire.provider())
            .env("PROMPTSCULPTOR_LLM_BASE_URL", &self.base_url(wire))
            .env("PROMPTSCULPTOR_LLM_MODEL", wire.model())
            .env(key_var, wire.key())
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Call> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every piece of text in a request (system and messages), joined, whatever the wire.
pub fn request_text(call: &Call) -> String {
    let b = &call.body;
    let mut out = Vec::new();
    let mut push = |v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str) {
            out.push(s.to_string());
        }
    };
    push(b.get("system"));
    push(b.pointer("/systemInstruction/parts/0/text"));
    for m in b["messages"].as_array().into_iter().flatten() {
        push(m.get("content"));
    }
    for c in b["contents"].as_array().into_iter().flatten() {
        for p in c["parts"].as_array().into_iter().flatten() {
            push(p.get("text"));
        }
    }
    out.join("\n")
}

fn error(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn openai(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    respond(
        s,
        Wire::OpenAi,
        "/v1/chat/completions".into(),
        headers,
        body,
    )
    .await
}

async fn anthropic(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    respond(s, Wire::Anthropic, "/v1/messages".into(), headers, body).await
}

async fn gemini(
    State(s): State<Shared>,
    Path(rest): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !rest.ends_with(":generateContent") && !rest.ends_with(":streamGenerateContent") {
        return error(
            StatusCode::NOT_FOUND,
            json!({"error": {"code": 404, "message": format!("no method {rest}"), "status": "NOT_FOUND"}}),
        );
    }
    respond(s, Wire::Gemini, uri.to_string(), headers, body).await
}

/// What a real API refuses before it looks at the script.
fn refusal(wire: Wire, call: &Call) -> Option<Response> {
    match wire {
        Wire::Anthropic => {
            let missing = if call.header("anthropic-version").is_none() {
                Some("anthropic-version: header is required")
            } else if call
                .body
                .get("max_tokens")
                .and_then(Value::as_u64)
                .is_none()
            {
                Some("max_tokens: Field required")
            } else {
                None
            };
            missing.map(|m| {
                error(
                    StatusCode::BAD_REQUEST,
                    json!({"type": "error", "error": {"type": "invalid_request_error", "message": m}}),
                )
            })
        }
        Wire::Gemini => {
            let schema = call.body.pointer("/generationConfig/responseSchema")?;
            let bad = unknown_gemini_keyword(schema)?;
            Some(error(
                StatusCode::BAD_REQUEST,
                json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": format!(
                    "Invalid JSON payload received. Unknown name \"{bad}\" at 'generation_config.response_schema': Cannot find field."
                )}}),
            ))
        }
        Wire::OpenAi => None,
    }
}

/// The first keyword Gemini's `Schema` does not know, if any.
pub fn unknown_gemini_keyword(schema: &Value) -> Option<String> {
    const KNOWN: &[&str] = &[
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
    ];
    let obj = schema.as_object()?;
    for (k, v) in obj {
        if !KNOWN.contains(&k.as_str()) {
            return Some(k.clone());
        }
        if k == "type" && !v.is_string() {
            return Some("type (not a string)".into());
        }
        let nested: Vec<&Value> = match k.as_str() {
            "properties" => v
                .as_object()
                .map(|m| m.values().collect())
                .unwrap_or_default(),
            "items" => vec![v],
            "anyOf" => v.as_array().map(|a| a.iter().collect()).unwrap_or_default(),
            _ => vec![],
        };
        if let Some(bad) = nested.into_iter().find_map(unknown_gemini_keyword) {
            return Some(bad);
        }
    }
    None
}

async fn respond(s: Shared, wire: Wire, uri: String, headers: HeaderMap, body: Bytes) -> Response {
    let call = Call {
        wire,
        uri,
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let index = {
        let Ok(mut r) = s.received.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        r.push(call.clone());
        r.len() - 1
    };
    if let Some(resp) = refusal(wire, &call) {
        return resp;
    }
    let streamed = match wire {
        Wire::Gemini => call.uri.contains(":streamGenerateContent"),
        _ => call.body["stream"] == true,
    };
    let mut reply = (s.script)(index, &call);
    if streamed {
        while let Reply::Delay(d, inner) = reply {
            tokio::time::sleep(d).await;
            reply = *inner;
        }
        match reply {
            Reply::Text(t) => return stream(wire, &call.body, t, false, s.gate.clone()),
            Reply::CutStream(t) => return stream(wire, &call.body, t, true, s.gate.clone()),
            other => return other.respond(|t| success(wire, &call.body, t)).await,
        }
    }
    reply.respond(|t| success(wire, &call.body, t)).await
}

/// `text` streamed as server-sent events in `wire`'s format, a few
/// characters per event with [`STREAM_GAP`] between them; `cut` breaks the
/// connection after the text instead of finishing; a `gate` holds the
/// stream after its first piece until released.
fn stream(
    wire: Wire,
    request: &Value,
    text: String,
    cut: bool,
    gate: Option<Arc<tokio::sync::Semaphore>>,
) -> Response {
    let (input, output) = wire.usage();
    let model = wire.answering_model();
    let forced_tool = wire == Wire::Anthropic
        && request.pointer("/tool_choice/name").is_some()
        && serde_json::from_str::<Value>(&text).is_ok_and(|v| v.is_object());
    let chars: Vec<char> = text.chars().collect();
    let pieces: Vec<String> = chars.chunks(6).map(|c| c.iter().collect()).collect();
    let sse = |event: Option<&str>, data: Value| match event {
        Some(e) => format!("event: {e}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    };
    let mut frames: Vec<String> = Vec::new();
    if wire == Wire::Anthropic {
        frames.push(sse(
            Some("message_start"),
            json!({"type": "message_start",
            "message": {"id": "msg_test", "type": "message", "role": "assistant", "model": model,
                        "content": [], "usage": {"input_tokens": input, "output_tokens": 1}}}),
        ));
        let block = if forced_tool {
            json!({"type": "tool_use", "id": "toolu_test", "name": "reply", "input": {}})
        } else {
            json!({"type": "text", "text": ""})
        };
        frames.push(sse(
            Some("content_block_start"),
            json!({"type": "content_block_start", "index": 0, "content_block": block}),
        ));
        frames.push(sse(Some("ping"), json!({"type": "ping"})));
    }
    for p in &pieces {
        frames.push(match wire {
            Wire::OpenAi => sse(None, json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": model,
                "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]})),
            Wire::Anthropic => {
                let delta = if forced_tool {
                    json!({"type": "input_json_delta", "partial_json": p})
                } else {
                    json!({"type": "text_delta", "text": p})
                };
                sse(Some("content_block_delta"), json!({"type": "content_block_delta", "index": 0, "delta": delta}))
            }
            Wire::Gemini => sse(None, json!({"candidates": [{"content": {"role": "model", "parts": [{"text": p}]}, "index": 0}],
                "modelVersion": model})),
        });
    }
    let first_piece = frames.len() - pieces.len() + 1;
    if !cut {
        match wire {
            Wire::OpenAi => {
                frames.push(sse(
                    None,
                    json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
                ));
                frames.push(sse(None, json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": model,
                    "choices": [], "usage": {"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output}})));
                frames.push("data: [DONE]\n\n".into());
            }
            Wire::Anthropic => {
                frames.push(sse(
                    Some("content_block_stop"),
                    json!({"type": "content_block_stop", "index": 0}),
                ));
                frames.push(sse(
                    Some("message_delta"),
                    json!({"type": "message_delta",
                    "delta": {"stop_reason": if forced_tool { "tool_use" } else { "end_turn" }},
                    "usage": {"output_tokens": output}}),
                ));
                frames.push(sse(Some("message_stop"), json!({"type": "message_stop"})));
            }
            Wire::Gemini => frames.push(sse(
                None,
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]},
                "finishReason": "STOP", "index": 0}], "modelVersion": model,
                "usageMetadata": {"promptTokenCount": input, "candidatesTokenCount": output - 2,
                                  "thoughtsTokenCount": 2, "totalTokenCount": input + output}}),
            )),
        }
    }
    let state = (frames.into_iter().enumerate(), gate, cut, false);
    let body =
        futures_util::stream::unfold(state, move |(mut frames, gate, cut, ended)| async move {
            if ended {
                return None;
            }
            match frames.next() {
                Some((i, frame)) => {
                    if i > 0 {
                        tokio::time::sleep(STREAM_GAP).await;
                    }
                    if i == first_piece
                        && let Some(g) = &gate
                    {
                        let _ = g.acquire().await.map(|p| p.forget());
                    }
                    Some((
                        Ok::<_, std::io::Error>(bytes::Bytes::from(frame)),
                        (frames, gate, cut, false),
                    ))
                }
                None if cut => Some((
                    Err(std::io::Error::other("the test provider cut the stream")),
                    (frames, gate, cut, true),
                )),
                None => None,
            }
        });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(axum::body::Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A successful answer carrying `text` in `wire`'s format. Like the real
/// Anthropic API under a forced tool, a structured request is answered with a
/// `tool_use` block whose input is the JSON text.
pub fn success(wire: Wire, request: &Value, text: &str) -> Value {
    let (input, output) = wire.usage();
    match wire {
        Wire::OpenAi => super::llm::completion(text, input as u32, output as u32),
        Wire::Anthropic => {
            let forced = request.pointer("/tool_choice/name").and_then(Value::as_str);
            let parsed = serde_json::from_str::<Value>(text)
                .ok()
                .filter(Value::is_object);
            let block = match (forced, parsed) {
                (Some(name), Some(input)) => {
                    json!({"type": "tool_use", "id": "toolu_test", "name": name, "input": input})
                }
                _ => json!({"type": "text", "text": text}),
            };
            json!({
                "id": "msg_test", "type": "message", "role": "assistant",
                "model": wire.answering_model(),
                "content": [block],
                "stop_reason": if forced.is_some() { "tool_use" } else { "end_turn" },
                "usage": {"input_tokens": input, "output_tokens": output}
            })
        }
        Wire::Gemini => json!({
            "candidates": [{
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": "STOP", "index": 0
            }],
            "usageMetadata": {"promptTokenCount": input, "candidatesTokenCount": output - 2,
                              "thoughtsTokenCount": 2, "totalTokenCount": input + output},
            "modelVersion": wire.answering_model()
        }),
    }
}
