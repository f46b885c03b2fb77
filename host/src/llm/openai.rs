//! OpenAI-compatible chat completions: OpenAI itself, llama.cpp, Ollama,
//! vLLM, LM Studio, OpenRouter.

use reqwest::header;
use serde_json::{Value, json};

use super::http::{Transport, secret_header};
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
