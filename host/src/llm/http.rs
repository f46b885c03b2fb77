//! The one HTTP path every provider uses: a POST of a JSON body under the
//! call's deadline, retried on transient failures, with a single fallback
//! request without structured-output parameters, and the mapping of HTTP
//! failures to [`LlmError`].
//!
//! Providers only build bodies and parse answers; retries, deadlines, secret
//! handling and error mapping live here once.

use std::time::Duration;

use bytes::Bytes;
use reqwest::{StatusCode, header};
use serde_json::Value;
use tokio::time::Instant;

use super::stream::{Deltas, SseDecoder, StreamParse};
use super::{ChatResponse, LlmError, retry::RetryPolicy};

/// A POST-JSON client bound to one provider's headers, deadline and policy.
pub(crate) struct Transport {
    http: reqwest::Client,
    /// Sent with every request; credentials among them are marked sensitive.
    headers: header::HeaderMap,
    /// The provider's credentials, only to scrub them from echoed messages.
    secrets: Vec<String>,
    provider: &'static str,
    timeout: Duration,
    policy: RetryPolicy,
}

/// A header value holding a credential: hidden from Debug output.
pub(crate) fn secret_header(value: &str) -> Result<header::HeaderValue, LlmError> {
    let mut v = header::HeaderValue::from_str(value).map_err(|_| {
        // Never echo the value: it is the key.
        LlmError::InvalidRequest("the API key contains characters not allowed in a header".into())
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// One HTTP answer that the retry loop handed back.
struct Reply {
    status: StatusCode,
    headers: header::HeaderMap,
    bytes: Bytes,
}

/// Most bytes of one provider answer the host reads. Real completions are
/// far smaller (a 16k-token answer is well under 1 MiB); a provider or proxy
/// that sends more is broken or hostile, and reading on would let it fill
/// the host's memory once per concurrent request.
pub(crate) const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Why one HTTP exchange produced no answer.
enum Failure {
    /// Connect, send or read failed (connection dropped, body cut short…).
    Transport(reqwest::Error),
    /// The answer is larger than [`MAX_RESPONSE_BYTES`]; not retried, since
    /// the same request would get the same answer.
    TooLarge,
}

/// Why one streamed attempt produced no answer.
enum StreamFailure {
    /// Connect, send or read failed.
    Broken(reqwest::Error),
    /// The provider answered with an error status (body read in full).
    Refused(Reply),
    /// The answer was unusable, too large, or the provider reported an
    /// error inside the stream: not retried.
    Llm(LlmError),
}

/// Why one attempt failed in a way worth another attempt.
enum Transient {
    Status(Reply),
    Transport(reqwest::Error),
}

impl Transport {
    /// A client for `provider` sending `headers` on every request; `secrets`
    /// are the raw credentials inside them (scrubbed from error messages).
    pub(crate) fn new(
        provider: &'static str,
        timeout: Duration,
        headers: header::HeaderMap,
        secrets: Vec<String>,
    ) -> Result<Transport, LlmError> {
        let http = reqwest::Client::builder()
            // The deadline is enforced per call across attempts (below); this
            // only stops a dead host from eating the whole budget in connect.
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| LlmError::Unavailable(format!("cannot build HTTP client: {e}")))?;
        Ok(Transport {
            http,
            headers,
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
            provider,
            timeout,
            policy: RetryPolicy::default(),
        })
    }

    /// POST `body(structured)` to `url` and return the successful answer's bytes.
    ///
    /// When `structured` is set and the provider refuses the request (400 or
    /// 422, typically a server without structured output or a schema keyword
    /// it does not know), `body(false)` is sent once more: the plugins ask for
    /// JSON in their prompts and validate and repair it themselves. Both
    /// requests share one deadline.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        structured: bool,
        body: impl Fn(bool) -> Value,
    ) -> Result<Bytes, LlmError> {
        let deadline = Instant::now() + self.timeout;
        let mut reply = self
            .send_with_retries(url, &body(structured), deadline)
            .await?;
        if structured
            && matches!(
                reply.status,
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
            )
            && matches!(self.error_of(&reply), LlmError::InvalidRequest(_))
        {
            tracing::debug!(
                provider = self.provider,
                status = reply.status.as_u16(),
                "provider refused the structured-output request; retrying without it"
            );
            reply = self.send_with_retries(url, &body(false), deadline).await?;
        }
        if reply.status.is_success() {
            Ok(reply.bytes)
        } else {
            Err(self.error_of(&reply))
        }
    }

    /// POST `body(structured)` to `url` asking for a streamed answer, read
    /// it with a fresh `parser()` per attempt and forward its text to
    /// `deltas` as it arrives. As [`Transport::post_json`]: one deadline,
    /// retries of transient failures and one fallback without structured
    /// output — but only until the first token was forwarded: a stream
    /// that breaks after that is an error, never a second answer.
    pub(crate) async fn post_stream(
        &self,
        url: &str,
        mut structured: bool,
        body: impl Fn(bool) -> Value,
        parser: impl Fn() -> Box<dyn StreamParse>,
        deltas: &Deltas,
    ) -> Result<ChatResponse, LlmError> {
        let deadline = Instant::now() + self.timeout;
        let mut failures = 0u32;
        let mut fell_back = false;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let mut emitted = false;
            let attempt = tokio::time::timeout(
                remaining,
                self.stream_once(url, &body(structured), parser(), deltas, &mut emitted),
            )
            .await;
            let transient = match attempt {
                Err(_elapsed) => return Err(self.deadline_error()),
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(StreamFailure::Llm(e))) => return Err(e),
                Ok(Err(StreamFailure::Broken(e))) if emitted => {
                    return Err(LlmError::Unavailable(format!(
                        "the {} stream broke after its first tokens: {}",
                        self.provider,
                        without_url(&e)
                    )));
                }
                Ok(Err(StreamFailure::Broken(e))) => Transient::Transport(e),
                Ok(Err(StreamFailure::Refused(reply))) => {
                    if structured
                        && !fell_back
                        && matches!(
                            reply.status,
                            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
                        )
                        && matches!(self.error_of(&reply), LlmError::InvalidRequest(_))
                    {
                        (structured, fell_back) = (false, true);
                        continue;
                    }
                    if !self.is_transient(&reply) {
                        return Err(self.error_of(&reply));
                    }
                    Transient::Status(reply)
                }
            };
            failures += 1;
            let retry = match &transient {
                Transient::Status(r) => retry_after(&r.headers, &r.bytes),
                Transient::Transport(_) => None,
            };
            let delay = self.policy.delay(failures, retry);
            if failures >= self.policy.max_attempts || Instant::now() + delay >= deadline {
                return Err(match transient {
                    Transient::Status(r) => self.error_of(&r),
                    Transient::Transport(e) => map_transport(&e),
                });
            }
            tracing::warn!(
                provider = self.provider,
                attempt = failures,
                delay_ms = delay.as_millis() as u64,
                "LLM stream failed before its first token; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One streamed attempt. `emitted` is set once a token was forwarded.
    async fn stream_once(
        &self,
        url: &str,
        body: &Value,
        mut parser: Box<dyn StreamParse>,
        deltas: &Deltas,
        emitted: &mut bool,
    ) -> Result<ChatResponse, StreamFailure> {
        let mut resp = self
            .http
            .post(url)
            .headers(self.headers.clone())
            .header(header::ACCEPT, "text/event-stream")
            .json(body)
            .send()
            .await
            .map_err(StreamFailure::Broken)?;
        let status = resp.status();
        if !status.is_success() {
            let headers = resp.headers().clone();
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(StreamFailure::Broken)? {
                if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(StreamFailure::Llm(self.too_large_error()));
                }
                bytes.extend_from_slice(&chunk);
            }
            return Err(StreamFailure::Refused(Reply {
                status,
                headers,
                bytes: Bytes::from(bytes),
            }));
        }
        let mut decoder = SseDecoder::default();
        let mut read = 0usize;
        loop {
            let chunk = resp.chunk().await.map_err(StreamFailure::Broken)?;
            let events = match &chunk {
                Some(c) => {
                    read += c.len();
                    if read > MAX_RESPONSE_BYTES {
                        return Err(StreamFailure::Llm(self.too_large_error()));
                    }
                    decoder.push(c)
                }
                None => decoder.finish().into_iter().collect(),
            };
            for event in &events {
                let text = parser
                    .event(event)
                    .map_err(|e| StreamFailure::Llm(self.redact_error(e)))?;
                if let Some(text) = text.filter(|t| !t.is_empty()) {
                    deltas.send(&text);
                    *emitted = true;
                }
            }
            if parser.done() || chunk.is_none() {
                break;
            }
        }
        parser.finish().map_err(StreamFailure::Llm)
    }

    fn redact_error(&self, e: LlmError) -> LlmError {
        match e {
            LlmError::Unavailable(m) => LlmError::Unavailable(self.redact(m)),
            LlmError::BadResponse(m) => LlmError::BadResponse(self.redact(m)),
            LlmError::InvalidRequest(m) => LlmError::InvalidRequest(self.redact(m)),
            other => other,
        }
    }

    /// Send until an answer that is not transient, the attempt cap, or the
    /// deadline. Returns non-transient answers (success or a final 4xx) as
    /// they are; transient failures that persist become errors.
    async fn send_with_retries(
        &self,
        url: &str,
        body: &Value,
        deadline: Instant,
    ) -> Result<Reply, LlmError> {
        let mut failures = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let attempt = tokio::time::timeout(remaining, self.send_once(url, body)).await;
            let transient = match attempt {
                Err(_elapsed) => return Err(self.deadline_error()),
                Ok(Err(Failure::TooLarge)) => return Err(self.too_large_error()),
                Ok(Err(Failure::Transport(e))) => Transient::Transport(e),
                Ok(Ok(reply)) if self.is_transient(&reply) => Transient::Status(reply),
                Ok(Ok(reply)) => return Ok(reply),
            };
            failures += 1;
            let (retry_after, status) = match &transient {
                Transient::Status(r) => (retry_after(&r.headers, &r.bytes), Some(r.status)),
                Transient::Transport(_) => (None, None),
            };
            let delay = self.policy.delay(failures, retry_after);
            // Waiting past the deadline only to fail then helps nobody: give
            // the caller the provider's own answer (and its Retry-After) now.
            if failures >= self.policy.max_attempts || Instant::now() + delay >= deadline {
                return Err(match transient {
                    Transient::Status(r) => self.error_of(&r),
                    Transient::Transport(e) => map_transport(&e),
                });
            }
            tracing::warn!(
                provider = self.provider,
                attempt = failures,
                status = status.map(|s| s.as_u16()),
                delay_ms = delay.as_millis() as u64,
                "LLM call failed transiently; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_once(&self, url: &str, body: &Value) -> Result<Reply, Failure> {
        let mut resp = self
            .http
            .post(url)
            .headers(self.headers.clone())
            .json(body)
            .send()
            .await
            .map_err(Failure::Transport)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        // A declared length over the cap is refused before reading a byte.
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(Failure::TooLarge);
        }
        // Chunked answers declare nothing: count while reading, and stop
        // (dropping the connection) as soon as the cap is passed, so a
        // provider streaming without end costs at most the cap in memory.
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(Failure::Transport)? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Failure::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            headers,
            bytes: Bytes::from(bytes),
        })
    }

    /// 429 (except an exhausted quota, which waiting does not fix) and 5xx
    /// other than a gateway timeout are worth another attempt.
    fn is_transient(&self, reply: &Reply) -> bool {
        match reply.status {
            StatusCode::TOO_MANY_REQUESTS => !is_quota(&reply.bytes),
            StatusCode::GATEWAY_TIMEOUT => false,
            s => s.is_server_error(),
        }
    }

    fn too_large_error(&self) -> LlmError {
        LlmError::BadResponse(format!(
            "the {} answer is larger than the host's cap of {} MiB",
            self.provider,
            MAX_RESPONSE_BYTES / (1024 * 1024)
        ))
    }

    fn deadline_error(&self) -> LlmError {
        LlmError::Timeout(format!(
            "no answer within the LLM deadline of {}s (PROMPTSCULPTOR_LLM_TIMEOUT_SECS)",
            self.timeout.as_secs()
        ))
    }

    fn error_of(&self, reply: &Reply) -> LlmError {
        let message = self.redact(provider_message(&reply.bytes));
        map_status(reply.status, &reply.headers, &reply.bytes, message)
    }

    /// Some providers echo the key they refused; it must not travel on into
    /// our answers or logs.
    fn redact(&self, mut message: String) -> String {
        for secret in &self.secrets {
            message = message.replace(secret.as_str(), "[redacted]");
        }
        message
    }
}

fn map_transport(e: &reqwest::Error) -> LlmError {
    if e.is_connect() {
        LlmError::Unavailable("cannot connect to the LLM provider".into())
    } else {
        LlmError::Unavailable(format!(
            "request to the LLM provider failed: {}",
            without_url(e)
        ))
    }
}

/// reqwest errors print the URL; it holds no secret (keys travel in
/// headers), but it adds nothing a user can act on.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(&format!(" ({url})"), "");
    }
    s
}

/// The provider's own explanation, short. All three providers put it at
/// `error.message`; OpenAI-compatible servers sometimes elsewhere.
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
    let msg = msg.unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned());
    msg.chars().take(300).collect()
}

/// OpenAI signals a spent account with 429 `insufficient_quota`.
fn is_quota(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| {
            v.pointer("/error/code")
                .and_then(|c| c.as_str().map(str::to_string))
        })
        .is_some_and(|c| c == "insufficient_quota")
}

/// Gemini answers a bad key with 400 INVALID_ARGUMENT and reason API_KEY_INVALID.
fn is_bad_key(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| v.pointer("/error/details").cloned())
        .and_then(|d| d.as_array().cloned())
        .is_some_and(|details| {
            details
                .iter()
                .any(|d| d.get("reason").and_then(Value::as_str) == Some("API_KEY_INVALID"))
        })
}

/// How long the provider asked us to wait: the `Retry-After` header in
/// seconds, else Gemini's `RetryInfo.retryDelay` ("37s") in the body.
fn retry_after(headers: &header::HeaderMap, bytes: &[u8]) -> Option<Duration> {
    let from_header = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let from_body = || {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        v.pointer("/error/details")?
            .as_array()?
            .iter()
            .filter_map(|d| d.get("retryDelay").and_then(Value::as_str))
            .find_map(|s| s.strip_suffix('s')?.parse::<f64>().ok())
            .map(|secs| secs.ceil().max(0.0) as u64)
    };
    from_header.or_else(from_body).map(Duration::from_secs)
}

fn map_status(
    status: StatusCode,
    headers: &header::HeaderMap,
    bytes: &[u8],
    message: String,
) -> LlmError {
    match status {
        StatusCode::TOO_MANY_REQUESTS if is_quota(bytes) => LlmError::QuotaExceeded(message),
        StatusCode::TOO_MANY_REQUESTS => LlmError::RateLimited {
            message,
            retry_after: retry_after(headers, bytes)
                .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX)),
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            LlmError::Unavailable(format!("the provider refused our credentials ({status})"))
        }
        StatusCode::BAD_REQUEST if is_bad_key(bytes) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: StatusCode, headers: &header::HeaderMap, body: &[u8]) -> LlmError {
        map_status(status, headers, body, provider_message(body))
    }

    #[test]
    fn maps_statuses() {
        let h = header::HeaderMap::new();
        assert!(matches!(
            map(StatusCode::BAD_GATEWAY, &h, b"x"),
            LlmError::Unavailable(_)
        ));
        assert!(matches!(
            map(StatusCode::BAD_REQUEST, &h, b"x"),
            LlmError::InvalidRequest(_)
        ));
        let quota = br#"{"error":{"code":"insufficient_quota","message":"no"}}"#;
        assert!(matches!(
            map(StatusCode::TOO_MANY_REQUESTS, &h, quota),
            LlmError::QuotaExceeded(_)
        ));
        let mut h2 = header::HeaderMap::new();
        h2.insert(header::RETRY_AFTER, header::HeaderValue::from_static("7"));
        assert!(matches!(
            map(StatusCode::TOO_MANY_REQUESTS, &h2, b"{}"),
            LlmError::RateLimited {
                retry_after: Some(7),
                ..
            }
        ));
        let bad_key = br#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#;
        assert!(matches!(
            map(StatusCode::BAD_REQUEST, &h, bad_key),
            LlmError::Unavailable(_)
        ));
    }

    #[test]
    fn reads_gemini_retry_delay_from_the_body() {
        let body = br#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36.2s"}]}}"#;
        let h = header::HeaderMap::new();
        assert_eq!(retry_after(&h, body), Some(Duration::from_secs(37)));
        assert!(matches!(
            map(StatusCode::TOO_MANY_REQUESTS, &h, body),
            LlmError::RateLimited {
                retry_after: Some(37),
                ..
            }
        ));
        // The header wins when both are present.
        let mut h2 = header::HeaderMap::new();
        h2.insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h2, body), Some(Duration::from_secs(2)));
    }

    #[test]
    fn echoed_keys_are_redacted_and_headers_are_sensitive() {
        let t = Transport::new(
            "test",
            Duration::from_secs(1),
            header::HeaderMap::new(),
            vec!["sk-SECRET".into()],
        )
        .expect("client");
        let reply = Reply {
            status: StatusCode::BAD_REQUEST,
            headers: header::HeaderMap::new(),
            bytes: Bytes::from_static(br#"{"error":{"message":"bad key sk-SECRET given"}}"#),
        };
        let e = t.error_of(&reply).to_string();
        assert!(!e.contains("sk-SECRET") && e.contains("[redacted]"), "{e}");
        let v = secret_header("sk-SECRET").expect("header");
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("SECRET"));
        let err = secret_header("bad\nkey").expect_err("newline refused");
        assert!(!err.to_string().contains("bad"));
    }
}
