//! OpenAI-compatible chat completions: OpenAI itself, llama.cpp, Ollama,
//! vLLM, LM Studio, OpenRouter.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use super::{BoxFuture, ChatRequest, ChatResponse, HttpSettings, LlmError, Provider, Role};

/// Client for `POST {base_url}/chat/completions`.
pub struct OpenAiProvider {
    http: reqwest::Client,
    settings: HttpSettings,
    auth: Option<header::HeaderValue>,
}

impl OpenAiProvider {
    /// Build a client; `api_key` may be absent for local servers.
    pub fn new(settings: HttpSettings, api_key: Option<&str>) -> Result<OpenAiProvider, LlmError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| LlmError::Unavailable(format!("cannot build HTTP client: {e}")))?;
        let auth = match api_key.filter(|k| !k.is_empty()) {
            Some(key) => {
                let mut value =
                    header::HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                        LlmError::InvalidRequest("the API key contains invalid characters".into())
                    })?;
                // Keeps the key out of any Debug output of the request.
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(OpenAiProvider {
            http,
            settings,
            auth,
        })
    }

    fn body(&self, request: &ChatRequest, structured: bool) -> Value {
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
        let mut body = json!({ "model": self.settings.model, "messages": messages });
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = request.max_tokens {
            body["max_tokens"] = json!(n);
        }
        if structured && let Some(schema) = &request.json_schema {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": { "name": "response", "schema": schema, "strict": false }
            });
        }
        body
    }

    async fn send(
        &self,
        body: &Value,
    ) -> Result<(StatusCode, header::HeaderMap, bytes::Bytes), LlmError> {
        let url = format!(
            "{}/chat/completions",
            self.settings.base_url.trim_end_matches('/')
        );
        let mut req = self.http.post(url).json(body);
        if let Some(auth) = &self.auth {
            req = req.header(header::AUTHORIZATION, auth.clone());
        }
        let resp = req.send().await.map_err(map_transport)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(map_transport)?;
        Ok((status, headers, bytes))
    }

    async fn chat_inner(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        let structured = request.json_schema.is_some();
        let (status, headers, bytes) = self.send(&self.body(&request, structured)).await?;
        // Servers without structured output reject `response_format`; the
        // plugin asked for JSON in its instructions too, so retry plainly.
        let (status, headers, bytes) = if structured && status == StatusCode::BAD_REQUEST {
            tracing::debug!("provider refused response_format; retrying without it");
            self.send(&self.body(&request, false)).await?
        } else {
            (status, headers, bytes)
        };
        if !status.is_success() {
            return Err(map_status(status, &headers, &bytes));
        }
        parse_completion(&bytes, &self.settings.model)
    }
}

impl Provider for OpenAiProvider {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn model(&self) -> &str {
        &self.settings.model
    }

    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse, LlmError>> {
        Box::pin(self.chat_inner(request))
    }
}

fn map_transport(e: reqwest::Error) -> LlmError {
    if e.is_timeout() {
        LlmError::Timeout("no answer within the LLM deadline".into())
    } else if e.is_connect() {
        LlmError::Unavailable("cannot connect to the LLM provider".into())
    } else {
        LlmError::Unavailable(format!(
            "request to the LLM provider failed: {}",
            without_url(&e)
        ))
    }
}

/// reqwest errors print the URL; it is not secret, but keep messages short.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(&format!(" ({url})"), "");
    }
    s
}

fn provider_message(bytes: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    let msg = parsed
        .as_ref()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("message"))
        })
        .and_then(|m| m.as_str().map(str::to_string));
    let mut msg = msg.unwrap_or_else(|| String::from_utf8_lossy(bytes).chars().take(200).collect());
    msg.truncate(300);
    msg
}

fn map_status(status: StatusCode, headers: &header::HeaderMap, bytes: &[u8]) -> LlmError {
    let message = provider_message(bytes);
    match status {
        StatusCode::TOO_MANY_REQUESTS => {
            let quota = serde_json::from_slice::<Value>(bytes)
                .ok()
                .and_then(|v| {
                    v.pointer("/error/code")
                        .and_then(|c| c.as_str().map(str::to_string))
                })
                .is_some_and(|c| c == "insufficient_quota");
            if quota {
                LlmError::QuotaExceeded(message)
            } else {
                let retry_after = headers
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u32>().ok());
                LlmError::RateLimited {
                    message,
                    retry_after,
                }
            }
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            LlmError::Unavailable(format!("the provider refused our credentials ({status})"))
        }
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => {
            LlmError::Timeout(format!("provider answered {status}"))
        }
        s if s.is_server_error() => {
            LlmError::Unavailable(format!("provider answered {status}: {message}"))
        }
        _ => LlmError::InvalidRequest(format!("provider answered {status}: {message}")),
    }
}

fn parse_completion(bytes: &[u8], default_model: &str) -> Result<ChatResponse, LlmError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| LlmError::BadResponse(format!("response is not JSON: {e}")))?;
    let text = v
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            LlmError::BadResponse("response has no choices[0].message.content".into())
        })?;
    let tokens = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(u32::MAX as u64) as u32
    };
    Ok(ChatResponse {
        text: text.to_string(),
        model: v
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .unwrap_or(default_model)
            .to_string(),
        input_tokens: tokens("/usage/prompt_tokens"),
        output_tokens: tokens("/usage/completion_tokens"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_completion() {
        let body = br#"{"model":"m1","choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#;
        let r = parse_completion(body, "d").expect("parses");
        assert_eq!(
            (
                r.text.as_str(),
                r.model.as_str(),
                r.input_tokens,
                r.output_tokens
            ),
            ("hi", "m1", 3, 1)
        );
    }

    #[test]
    fn maps_statuses() {
        let h = header::HeaderMap::new();
        assert!(matches!(
            map_status(StatusCode::BAD_GATEWAY, &h, b"x"),
            LlmError::Unavailable(_)
        ));
        assert!(matches!(
            map_status(StatusCode::BAD_REQUEST, &h, b"x"),
            LlmError::InvalidRequest(_)
        ));
        let quota = br#"{"error":{"code":"insufficient_quota","message":"no"}}"#;
        assert!(matches!(
            map_status(StatusCode::TOO_MANY_REQUESTS, &h, quota),
            LlmError::QuotaExceeded(_)
        ));
        let mut h2 = header::HeaderMap::new();
        h2.insert(header::RETRY_AFTER, header::HeaderValue::from_static("7"));
        assert!(matches!(
            map_status(StatusCode::TOO_MANY_REQUESTS, &h2, b"{}"),
            LlmError::RateLimited {
                retry_after: Some(7),
                ..
            }
        ));
    }
}
