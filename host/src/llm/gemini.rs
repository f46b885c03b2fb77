//! Google's native Gemini API: `POST {base_url}/models/{model}:generateContent`.
//!
//! Structured output is `responseMimeType: application/json` plus a
//! `responseSchema` translated into Gemini's OpenAPI-subset dialect.

use reqwest::header;
use serde_json::{Map, Value, json};

use super::http::{Transport, secret_header};
use super::stream::{Deltas, SseEvent, StreamParse};
use super::wire::{count, endpoint, model_or, parse_json, response};
use super::{BoxFuture, ChatRequest, ChatResponse, HttpSettings, LlmError, Provider, Role};

/// Client for the Gemini API (Google AI Studio keys).
pub struct GeminiProvider {
    transport: Transport,
    settings: HttpSettings,
}

impl GeminiProvider {
    /// Build a client; the key travels in a header, never in the URL, so it
    /// cannot end up in an error message or access log that prints URLs.
    pub fn new(settings: HttpSettings, api_key: Option<&str>) -> Result<GeminiProvider, LlmError> {
        let key = api_key.filter(|k| !k.is_empty());
        let mut headers = header::HeaderMap::new();
        if let Some(key) = key {
            headers.insert("x-goog-api-key", secret_header(key)?);
        }
        let secrets = key.map(str::to_string).into_iter().collect();
        Ok(GeminiProvider {
            transport: Transport::new("gemini", settings.timeout, headers, secrets)?,
            settings,
        })
    }

    async fn chat_inner(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        // Accept the "models/gemini-…" spelling Google's own listings use.
        let model = request
            .asked_model(&self.settings.model)
            .trim_start_matches("models/");
        let url = endpoint(
            &self.settings.base_url,
            &format!("models/{model}:generateContent"),
        );
        let bytes = self
            .transport
            .post_json(&url, request.json_schema.is_some(), |structured| {
                body(&request, structured)
            })
            .await?;
        parse(&bytes, request.asked_model(&self.settings.model))
    }

    async fn chat_stream_inner(
        &self,
        request: ChatRequest,
        deltas: &Deltas,
    ) -> Result<ChatResponse, LlmError> {
        let model = request
            .asked_model(&self.settings.model)
            .trim_start_matches("models/")
            .to_string();
        let url = endpoint(
            &self.settings.base_url,
            &format!("models/{model}:streamGenerateContent?alt=sse"),
        );
        self.transport
            .post_stream(
                &url,
                request.json_schema.is_some(),
                |structured| body(&request, structured),
                || Box::new(Pieces::new(&model)),
                deltas,
            )
            .await
    }
}

/// Output tokens of an answer: thinking tokens are billed as output, so
/// they count as output here.
fn output_tokens(v: &Value) -> u32 {
    count(v, "/usageMetadata/candidatesTokenCount")
        .saturating_add(count(v, "/usageMetadata/thoughtsTokenCount"))
}

/// The answer's text of a candidate. Thinking models may return their
/// thoughts as parts marked `thought`; only the answer is the reply.
fn answer_text(candidate: &Value) -> String {
    candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// A streamed generateContent answer: each event is a whole
/// `GenerateContentResponse` carrying the next parts; the usage and model
/// come with the last; the stream simply ends.
struct Pieces {
    text: String,
    model: String,
    input: u32,
    output: u32,
    finish: Option<String>,
    blocked: Option<String>,
}

impl Pieces {
    fn new(model: &str) -> Pieces {
        Pieces {
            text: String::new(),
            model: model.to_string(),
            input: 0,
            output: 0,
            finish: None,
            blocked: None,
        }
    }
}

impl StreamParse for Pieces {
    fn event(&mut self, event: &SseEvent) -> Result<Option<String>, LlmError> {
        let v = parse_json(event.data.as_bytes())?;
        if let Some(message) = v.pointer("/error/message").and_then(Value::as_str) {
            return Err(LlmError::Unavailable(format!(
                "the provider reported an error mid-stream: {message}"
            )));
        }
        self.model = model_or(&v, "/modelVersion", &self.model);
        if v.get("usageMetadata").is_some() {
            self.input = count(&v, "/usageMetadata/promptTokenCount");
            self.output = output_tokens(&v);
        }
        if let Some(r) = v
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
        {
            self.blocked = Some(r.to_string());
        }
        if let Some(f) = v
            .pointer("/candidates/0/finishReason")
            .and_then(Value::as_str)
        {
            self.finish = Some(f.to_string());
        }
        let piece = v
            .pointer("/candidates/0")
            .map(answer_text)
            .unwrap_or_default();
        self.text.push_str(&piece);
        Ok(Some(piece))
    }

    fn done(&self) -> bool {
        false
    }

    fn finish(self: Box<Self>) -> Result<ChatResponse, LlmError> {
        if let Some(r) = self.blocked.filter(|_| self.text.is_empty()) {
            return Err(LlmError::BadResponse(format!(
                "response has no candidates (prompt blocked: {r})"
            )));
        }
        if self.text.is_empty() {
            return Err(LlmError::BadResponse(format!(
                "response candidate has no text (finishReason {})",
                self.finish.as_deref().unwrap_or("unknown")
            )));
        }
        Ok(response(self.text, self.model, self.input, self.output))
    }
}

impl Provider for GeminiProvider {
    fn name(&self) -> &'static str {
        "gemini"
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

fn body(request: &ChatRequest, structured: bool) -> Value {
    let contents: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "model",
            };
            json!({ "role": role, "parts": [{ "text": m.content }] })
        })
        .collect();
    let mut body = json!({ "contents": contents });
    if let Some(system) = &request.system {
        body["systemInstruction"] = json!({ "parts": [{ "text": system }] });
    }
    let mut config = Map::new();
    if let Some(t) = request.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(n) = request.max_tokens {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    if structured && let Some(schema) = &request.json_schema {
        config.insert("responseMimeType".into(), json!("application/json"));
        config.insert("responseSchema".into(), to_gemini_schema(schema));
    }
    if !config.is_empty() {
        body["generationConfig"] = Value::Object(config);
    }
    body
}

fn parse(bytes: &[u8], configured_model: &str) -> Result<ChatResponse, LlmError> {
    let v = parse_json(bytes)?;
    let Some(candidate) = v.pointer("/candidates/0") else {
        let reason = v
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
            .map_or_else(String::new, |r| format!(" (prompt blocked: {r})"));
        return Err(LlmError::BadResponse(format!(
            "response has no candidates{reason}"
        )));
    };
    let text = answer_text(candidate);
    if text.is_empty() {
        let finish = candidate
            .get("finishReason")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        return Err(LlmError::BadResponse(format!(
            "response candidate has no text (finishReason {finish})"
        )));
    }
    let output = output_tokens(&v);
    Ok(response(
        text,
        model_or(&v, "/modelVersion", configured_model),
        count(&v, "/usageMetadata/promptTokenCount"),
        output,
    ))
}

/// Keywords Gemini's `Schema` object knows. Anything else (`additionalProperties`,
/// `$schema`, `pattern`, `$ref`, …) makes the API refuse the whole request.
const KEPT: &[&str] = &[
    "description",
    "enum",
    "maxItems",
    "minItems",
    "minimum",
    "maximum",
    "nullable",
    "propertyOrdering",
    "required",
    "title",
];

/// Translate a JSON Schema into Gemini's dialect: drop unknown keywords,
/// upper-case type names, and express `"type": [T, "null"]` as `nullable`.
pub(crate) fn to_gemini_schema(schema: &Value) -> Value {
    let Some(obj) = schema.as_object() else {
        return json!({});
    };
    let mut out = Map::new();
    for (key, value) in obj {
        match key.as_str() {
            "type" => translate_type(value, &mut out),
            "properties" => {
                if let Some(props) = value.as_object() {
                    // Property names are data, not keywords: keep them all.
                    let props: Map<String, Value> = props
                        .iter()
                        .map(|(name, s)| (name.clone(), to_gemini_schema(s)))
                        .collect();
                    out.insert(key.clone(), Value::Object(props));
                }
            }
            "items" => {
                out.insert(key.clone(), to_gemini_schema(value));
            }
            "anyOf" | "oneOf" => {
                if let Some(options) = value.as_array() {
                    let options = options.iter().map(to_gemini_schema).collect();
                    out.insert("anyOf".into(), Value::Array(options));
                }
            }
            // Gemini's API refuses other string formats.
            "format" if matches!(value.as_str(), Some("enum" | "date-time")) => {
                out.insert(key.clone(), value.clone());
            }
            k if KEPT.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

fn translate_type(value: &Value, out: &mut Map<String, Value>) {
    let upper = |t: &str| Value::String(t.to_ascii_uppercase());
    match value {
        Value::String(t) => {
            out.insert("type".into(), upper(t));
        }
        Value::Array(types) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            let non_null: Vec<&str> = names.iter().copied().filter(|t| *t != "null").collect();
            if names.len() != non_null.len() {
                out.insert("nullable".into(), json!(true));
            }
            match non_null.as_slice() {
                [one] => {
                    out.insert("type".into(), upper(one));
                }
                [] => {}
                many => {
                    let options = many.iter().map(|t| json!({ "type": upper(t) })).collect();
                    out.insert("anyOf".into(), Value::Array(options));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Message;

    #[test]
    fn builds_a_generate_content_body() {
        let req = ChatRequest {
            system: Some("sys".into()),
            messages: vec![
                Message {
                    role: Role::User,
                    content: "hi".into(),
                },
                Message {
                    role: Role::Assistant,
                    content: "yo".into(),
                },
            ],
            temperature: Some(0.3),
            max_tokens: Some(64),
            json_schema: Some(json!({"type": "object", "additionalProperties": false})),
            model: None,
        };
        let b = body(&req, true);
        assert_eq!(b["systemInstruction"], json!({"parts": [{"text": "sys"}]}));
        assert_eq!(
            b["contents"][0],
            json!({"role": "user", "parts": [{"text": "hi"}]})
        );
        assert_eq!(b["contents"][1]["role"], "model");
        let cfg = &b["generationConfig"];
        assert_eq!(cfg["maxOutputTokens"], 64);
        assert_eq!(cfg["responseMimeType"], "application/json");
        assert_eq!(cfg["responseSchema"], json!({"type": "OBJECT"}));
        let plain = body(&req, false);
        assert!(plain["generationConfig"].get("responseSchema").is_none());
        assert!(plain["generationConfig"].get("responseMimeType").is_none());
        let bare = body(&ChatRequest::default(), false);
        assert!(bare.get("generationConfig").is_none() && bare.get("systemInstruction").is_none());
    }

    #[test]
    fn translates_json_schema_to_gemini_dialect() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["system", "code"],
            "properties": {
                "system": {"type": ["string", "null"], "description": "d"},
                "code": {"type": "string", "pattern": "^[a-z]+$", "format": "email"},
                "additionalProperties": {"type": "integer", "minimum": 0},
                "list": {"type": "array", "maxItems": 3,
                         "items": {"type": "object", "additionalProperties": false,
                                   "properties": {"s": {"type": "string", "enum": ["a", "b"]}}}},
                "either": {"type": ["string", "integer"]}
            }
        });
        let g = to_gemini_schema(&schema);
        assert_eq!(
            g,
            json!({
                "type": "OBJECT",
                "required": ["system", "code"],
                "properties": {
                    "system": {"type": "STRING", "nullable": true, "description": "d"},
                    "code": {"type": "STRING"},
                    "additionalProperties": {"type": "INTEGER", "minimum": 0},
                    "list": {"type": "ARRAY", "maxItems": 3,
                             "items": {"type": "OBJECT",
                                       "properties": {"s": {"type": "STRING", "enum": ["a", "b"]}}}},
                    "either": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]}
                }
            })
        );
    }

    #[test]
    fn parses_candidates_and_usage() {
        let ok = br#"{"candidates":[{"content":{"role":"model","parts":[{"text":"think","thought":true},{"text":"{\"a\":"},{"text":"1}"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":3,"thoughtsTokenCount":2},"modelVersion":"gemini-x"}"#;
        let r = parse(ok, "d").expect("parses");
        assert_eq!(
            (
                r.text.as_str(),
                r.model.as_str(),
                r.input_tokens,
                r.output_tokens
            ),
            ("{\"a\":1}", "gemini-x", 8, 5)
        );
        let blocked = br#"{"promptFeedback":{"blockReason":"SAFETY"}}"#;
        let e = parse(blocked, "d").expect_err("blocked");
        assert!(e.to_string().contains("SAFETY"), "{e}");
        let empty = br#"{"candidates":[{"finishReason":"MAX_TOKENS"}]}"#;
        assert!(matches!(parse(empty, "d"), Err(LlmError::BadResponse(_))));
    }
}
