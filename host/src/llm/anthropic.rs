//! Anthropic's native Messages API: `POST {base_url}/messages`.
//!
//! Structured output is a forced call of one tool whose `input_schema` is the
//! plugin's schema; the tool call's `input` becomes the reply text.

use reqwest::header;
use serde_json::{Value, json};

use super::http::{Transport, secret_header};
use super::stream::{Deltas, SseEvent, StreamParse};
use super::wire::{count, endpoint, model_or, parse_json, response};
use super::{BoxFuture, ChatRequest, ChatResponse, HttpSettings, LlmError, Provider, Role};

/// The API version this client speaks.
const API_VERSION: &str = "2023-06-01";

/// `max_tokens` is mandatory here; enough for every built-in plugin's reply.
const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Name of the tool that carries a structured reply.
const TOOL: &str = "respond";

/// Client for Anthropic's Messages API.
pub struct AnthropicProvider {
    transport: Transport,
    settings: HttpSettings,
}

impl AnthropicProvider {
    /// Build a client; `api_key` may be absent only behind a proxy that adds it.
    pub fn new(
        settings: HttpSettings,
        api_key: Option<&str>,
    ) -> Result<AnthropicProvider, LlmError> {
        let key = api_key.filter(|k| !k.is_empty());
        let mut headers = header::HeaderMap::new();
        headers.insert(
            "anthropic-version",
            header::HeaderValue::from_static(API_VERSION),
        );
        if let Some(key) = key {
            headers.insert("x-api-key", secret_header(key)?);
        }
        let secrets = key.map(str::to_string).into_iter().collect();
        Ok(AnthropicProvider {
            transport: Transport::new("anthropic", settings.timeout, headers, secrets)?,
            settings,
        })
    }

    async fn chat_inner(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        let url = endpoint(&self.settings.base_url, "messages");
        let structured = tool_schema(&request).is_some();
        let bytes = self
            .transport
            .post_json(&url, structured, |structured| {
                body(
                    request.asked_model(&self.settings.model),
                    &request,
                    structured,
                )
            })
            .await?;
        parse(&bytes, request.asked_model(&self.settings.model))
    }

    async fn chat_stream_inner(
        &self,
        request: ChatRequest,
        deltas: &Deltas,
    ) -> Result<ChatResponse, LlmError> {
        let url = endpoint(&self.settings.base_url, "messages");
        let model = request.asked_model(&self.settings.model).to_string();
        let structured = tool_schema(&request).is_some();
        self.transport
            .post_stream(
                &url,
                structured,
                |structured| {
                    let mut b = body(&model, &request, structured);
                    b["stream"] = json!(true);
                    b
                },
                || Box::new(Events::new(&model)),
                deltas,
            )
            .await
    }
}

/// Input tokens of the usage object at `usage`: cached prompt tokens are
/// reported apart from `input_tokens`; they were still read, so they count.
fn input_tokens(v: &Value, usage: &str) -> u32 {
    count(v, &format!("{usage}/input_tokens"))
        .saturating_add(count(v, &format!("{usage}/cache_creation_input_tokens")))
        .saturating_add(count(v, &format!("{usage}/cache_read_input_tokens")))
}

/// A streamed Messages answer: `message_start` (model, input usage),
/// `content_block_delta` (`text_delta`, or `input_json_delta` for the
/// structured-output tool), `message_delta` (output usage), `message_stop`;
/// an `error` event ends it.
struct Events {
    text: String,
    tool_json: String,
    tool: bool,
    model: String,
    input: u32,
    output: u32,
    done: bool,
}

impl Events {
    fn new(model: &str) -> Events {
        Events {
            text: String::new(),
            tool_json: String::new(),
            tool: false,
            model: model.to_string(),
            input: 0,
            output: 0,
            done: false,
        }
    }
}

impl StreamParse for Events {
    fn event(&mut self, event: &SseEvent) -> Result<Option<String>, LlmError> {
        let v = parse_json(event.data.as_bytes())?;
        let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "message_start" => {
                self.model = model_or(&v, "/message/model", &self.model);
                self.input = input_tokens(&v, "/message/usage");
                Ok(None)
            }
            "content_block_start" => {
                if v.pointer("/content_block/type").and_then(Value::as_str) == Some("tool_use") {
                    self.tool = true;
                }
                Ok(None)
            }
            "content_block_delta" => {
                let delta = v.get("delta").cloned().unwrap_or(Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        let t = delta
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        self.text.push_str(t);
                        Ok(Some(t.to_string()))
                    }
                    Some("input_json_delta") => {
                        let t = delta
                            .get("partial_json")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        self.tool_json.push_str(t);
                        Ok(Some(t.to_string()))
                    }
                    _ => Ok(None),
                }
            }
            "message_delta" => {
                if v.pointer("/usage/output_tokens").is_some() {
                    self.output = count(&v, "/usage/output_tokens");
                }
                Ok(None)
            }
            "message_stop" => {
                self.done = true;
                Ok(None)
            }
            "error" => {
                let message = v
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("error");
                Err(LlmError::Unavailable(format!(
                    "the provider reported an error mid-stream: {message}"
                )))
            }
            _ => Ok(None),
        }
    }

    fn done(&self) -> bool {
        self.done
    }

    fn finish(self: Box<Self>) -> Result<ChatResponse, LlmError> {
        if !self.done {
            return Err(LlmError::Unavailable(
                "the provider's stream ended before message_stop".into(),
            ));
        }
        let text = if self.tool { self.tool_json } else { self.text };
        if text.is_empty() {
            return Err(LlmError::BadResponse(
                "the streamed answer has neither text nor tool input".into(),
            ));
        }
        Ok(response(text, self.model, self.input, self.output))
    }
}

impl Provider for AnthropicProvider {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn model(&self) -> &str {
        &self.settings.model
    }

    fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse, LlmError>> {
        Box::pin(self.chat_inner(request))
    }

    fn chat_stream<'a>(
        &'a self,
        request: ChatRequest,
        deltas: &'a Deltas,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
        Box::pin(self.chat_stream_inner(request, deltas))
    }
}

/// The schema usable as a tool's `input_schema`, which must describe an
/// object; other schemas go unenforced (the plugins validate replies anyway).
fn tool_schema(request: &ChatRequest) -> Option<&Value> {
    request
        .json_schema
        .as_ref()
        .filter(|s| s.get("type").and_then(Value::as_str) == Some("object"))
}

fn body(model: &str, request: &ChatRequest, structured: bool) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({ "role": role, "content": m.content })
        })
        .collect();
    let mut body = json!({
        "model": model,
        "max_tokens": request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": messages,
    });
    if let Some(system) = &request.system {
        body["system"] = json!(system);
    }
    if let Some(t) = request.temperature {
        // Anthropic accepts 0..=1 where OpenAI accepts 0..=2; clamp rather
        // than have the request refused.
        body["temperature"] = json!(t.clamp(0.0, 1.0));
    }
    if structured && let Some(schema) = tool_schema(request) {
        body["tools"] = json!([{
            "name": TOOL,
            "description": "Give your complete reply as this tool's input.",
            "input_schema": schema,
        }]);
        body["tool_choice"] = json!({ "type": "tool", "name": TOOL });
    }
    body
}

fn parse(bytes: &[u8], configured_model: &str) -> Result<ChatResponse, LlmError> {
    let v = parse_json(bytes)?;
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| LlmError::BadResponse("response has no content blocks".into()))?;
    let tool_input = blocks.iter().find_map(|b| {
        (b.get("type").and_then(Value::as_str) == Some("tool_use")).then(|| b.get("input"))?
    });
    let text = match tool_input {
        Some(input) => input.to_string(),
        None => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            if texts.is_empty() {
                return Err(LlmError::BadResponse(
                    "response has neither text nor tool_use content".into(),
                ));
            }
            texts.concat()
        }
    };
    let input = input_tokens(&v, "/usage");
    Ok(response(
        text,
        model_or(&v, "/model", configured_model),
        input,
        count(&v, "/usage/output_tokens"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Message;

    fn request(schema: Option<Value>) -> ChatRequest {
        ChatRequest {
            system: Some("be brief".into()),
            messages: vec![
                Message {
                    role: Role::User,
                    content: "hi".into(),
                },
                Message {
                    role: Role::Assistant,
                    content: "{".into(),
                },
            ],
            temperature: Some(1.5),
            max_tokens: None,
            json_schema: schema,
            model: None,
        }
    }

    #[test]
    fn builds_a_messages_body_with_a_forced_tool() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let b = body("claude", &request(Some(schema.clone())), true);
        assert_eq!(b["model"], "claude");
        assert_eq!(b["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(b["system"], "be brief");
        assert_eq!(b["temperature"], 1.0);
        assert_eq!(b["messages"][0], json!({"role": "user", "content": "hi"}));
        assert_eq!(b["messages"][1]["role"], "assistant");
        assert_eq!(b["tools"][0]["input_schema"], schema);
        assert_eq!(b["tool_choice"], json!({"type": "tool", "name": TOOL}));
        let plain = body("claude", &request(Some(schema)), false);
        assert!(plain.get("tools").is_none() && plain.get("tool_choice").is_none());
        // A non-object schema cannot be a tool's input.
        assert!(tool_schema(&request(Some(json!({"type": "array"})))).is_none());
    }

    #[test]
    fn parses_tool_use_and_text_replies() {
        let tool = br#"{"model":"claude-x","content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"t","name":"respond","input":{"a":"b"}}],"usage":{"input_tokens":10,"output_tokens":4,"cache_read_input_tokens":2}}"#;
        let r = parse(tool, "d").expect("parses");
        assert_eq!(
            serde_json::from_str::<Value>(&r.text).ok(),
            Some(json!({"a": "b"}))
        );
        assert_eq!(
            (r.model.as_str(), r.input_tokens, r.output_tokens),
            ("claude-x", 12, 4)
        );
        let text = br#"{"content":[{"type":"text","text":"he"},{"type":"text","text":"llo"}],"usage":{"input_tokens":1,"output_tokens":2}}"#;
        let r = parse(text, "d").expect("parses");
        assert_eq!((r.text.as_str(), r.model.as_str()), ("hello", "d"));
        assert!(matches!(
            parse(br#"{"content":[]}"#, "d"),
            Err(LlmError::BadResponse(_))
        ));
        assert!(matches!(
            parse(br#"{"type":"message"}"#, "d"),
            Err(LlmError::BadResponse(_))
        ));
    }
}
