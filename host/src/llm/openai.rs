//! OpenAI-compatible chat completions: OpenAI itself, llama.cpp, Ollama,
//! vLLM, LM Studio, OpenRouter.

use reqwest::header;
use serde_json::{Value, json};

use super::http::{Transport, secret_header};
use super::stream::{Deltas, SseEvent, StreamParse};
use super::wire::{count, endpoint, model_or, parse_json, response};
use super::{BoxFuture, ChatRequest, ChatResponse, HttpSettings, LlmError, Provider, Role};

/// Client for `POST {base_url}/chat/completions`.
pub struct OpenAiProvider {
    transport: Transport,
    settings: HttpSettings,
}

impl OpenAiProvider {
    /// Build a client; `api_key` may be absent for local servers.
    pub fn new(settings: HttpSettings, api_key: Option<&str>) -> Result<OpenAiProvider, LlmError> {
        let key = api_key.filter(|k| !k.is_empty());
        let mut headers = header::HeaderMap::new();
        if let Some(key) = key {
            headers.insert(
                header::AUTHORIZATION,
                secret_header(&format!("Bearer {key}"))?,
            );
        }
        let secrets = key.map(str::to_string).into_iter().collect();
        Ok(OpenAiProvider {
            transport: Transport::new("openai", settings.timeout, headers, secrets)?,
            settings,
        })
    }

    async fn chat_inner(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        let url = endpoint(&self.settings.base_url, "chat/completions");
        let bytes = self
            .transport
            .post_json(&url, request.json_schema.is_some(), |structured| {
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
        let url = endpoint(&self.settings.base_url, "chat/completions");
        let model = request.asked_model(&self.settings.model).to_string();
        self.transport
            .post_stream(
                &url,
                request.json_schema.is_some(),
                |structured| {
                    let mut b = body(&model, &request, structured);
                    b["stream"] = json!(true);
                    b["stream_options"] = json!({ "include_usage": true });
                    b
                },
                || Box::new(Chunks::new(&model)),
                deltas,
            )
            .await
    }
}

impl Provider for OpenAiProvider {
    fn name(&self) -> &'static str {
        "openai"
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

/// A streamed chat completion: `data:` chunks with `choices[0].delta.content`,
/// usage in the last chunk (`stream_options.include_usage`), then `[DONE]`.
struct Chunks {
    text: String,
    model: String,
    input: u32,
    output: u32,
    finished: bool,
    done: bool,
}

impl Chunks {
    fn new(model: &str) -> Chunks {
        Chunks {
            text: String::new(),
            model: model.to_string(),
            input: 0,
            output: 0,
            finished: false,
            done: false,
        }
    }
}

impl StreamParse for Chunks {
    fn event(&mut self, event: &SseEvent) -> Result<Option<String>, LlmError> {
        if event.data.trim() == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        let v = parse_json(event.data.as_bytes())?;
        if let Some(e) = v.get("error") {
            let message = e.get("message").and_then(Value::as_str).unwrap_or("error");
            return Err(LlmError::Unavailable(format!(
                "the provider reported an error mid-stream: {message}"
            )));
        }
        self.model = model_or(&v, "/model", &self.model);
        if v.pointer("/usage/prompt_tokens").is_some() {
            self.input = count(&v, "/usage/prompt_tokens");
            self.output = count(&v, "/usage/completion_tokens");
        }
        if v.pointer("/choices/0/finish_reason")
            .is_some_and(|f| !f.is_null())
        {
            self.finished = true;
        }
        let piece = v
            .pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(p) = &piece {
            self.text.push_str(p);
        }
        Ok(piece)
    }

    fn done(&self) -> bool {
        self.done
    }

    fn finish(self: Box<Self>) -> Result<ChatResponse, LlmError> {
        if !self.done && !self.finished {
            return Err(LlmError::Unavailable(
                "the provider's stream ended before the completion did".into(),
            ));
        }
        Ok(response(self.text, self.model, self.input, self.output))
    }
}

fn body(model: &str, request: &ChatRequest, structured: bool) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = &request.system {
        messages.push(json!({ "role": "system", "content": system }));
    }
    for m in &request.messages {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        messages.push(json!({ "role": role, "content": m.content }));
    }
    let mut body = json!({ "model": model, "messages": messages });
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(n) = request.max_tokens {
        body["max_tokens"] = json!(n);
    }
    if structured && let Some(schema) = &request.json_schema {
        // Not strict: strict mode demands every property be required and
        // rejects keywords our plugins use; the plugins validate anyway.
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": { "name": "response", "schema": schema, "strict": false }
        });
    }
    body
}

fn parse(bytes: &[u8], configured_model: &str) -> Result<ChatResponse, LlmError> {
    let v = parse_json(bytes)?;
    let text = v
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            LlmError::BadResponse("response has no choices[0].message.content".into())
        })?;
    Ok(response(
        text.to_string(),
        model_or(&v, "/model", configured_model),
        count(&v, "/usage/prompt_tokens"),
        count(&v, "/usage/completion_tokens"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Message;

    #[test]
    fn parses_a_completion() {
        let body = br#"{"model":"m1","choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#;
        let r = parse(body, "d").expect("parses");
        assert_eq!(
            (
                r.text.as_str(),
                r.model.as_str(),
                r.input_tokens,
                r.output_tokens
            ),
            ("hi", "m1", 3, 1)
        );
        assert!(matches!(parse(b"{}", "d"), Err(LlmError::BadResponse(_))));
    }

    #[test]
    fn builds_the_body_with_and_without_response_format() {
        let req = ChatRequest {
            system: Some("sys".into()),
            messages: vec![Message {
                role: Role::User,
                content: "hi".into(),
            }],
            temperature: Some(0.2),
            max_tokens: Some(100),
            json_schema: Some(json!({"type": "object"})),
            model: None,
        };
        let b = body("m", &req, true);
        assert_eq!(
            b["messages"][0],
            json!({"role": "system", "content": "sys"})
        );
        assert_eq!(b["messages"][1], json!({"role": "user", "content": "hi"}));
        assert_eq!(b["max_tokens"], 100);
        assert_eq!(b["response_format"]["type"], "json_schema");
        assert_eq!(
            b["response_format"]["json_schema"]["schema"],
            json!({"type": "object"})
        );
        assert!(body("m", &req, false).get("response_format").is_none());
    }
}
