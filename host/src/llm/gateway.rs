//! The one path of every LLM call the server makes — a plugin's `llm.chat`
//! import and evaluate's own calls alike — so metrics and the response
//! cache (cache.rs) apply the same way to all of them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cache::LlmCache;
use super::stream::{Deltas, StreamSink};
use super::{ChatRequest, ChatResponse, LlmError, SharedProvider};
use crate::metrics;

/// Per-request choices about LLM calls.
#[derive(Debug, Clone)]
pub struct ChatOptions {
    /// Whether a cached answer may serve this call (`"cache": false` or
    /// `Cache-Control: no-cache` turn it off).
    pub cache: bool,
    /// Where a streamed request's LLM calls and tokens go (`"stream": true`).
    pub stream: Option<StreamSink>,
    /// Whether this call's answer may be stored in the cache
    /// (`Cache-Control: no-store` turns it off).
    pub cache_store: bool,
}

impl Default for ChatOptions {
    fn default() -> ChatOptions {
        ChatOptions {
            cache: true,
            stream: None,
            cache_store: true,
        }
    }
}

/// What one call through the gateway gave.
#[derive(Debug)]
pub struct Answered {
    /// The provider's answer or why there is none.
    pub result: Result<ChatResponse, LlmError>,
    /// Time spent waiting for it.
    pub elapsed: Duration,
    /// The model that answered, or the one asked for when the call failed.
    pub model: String,
    /// Answered without a provider call of its own: from the cache, or
    /// shared from an identical call in flight. Its token counts are 0.
    pub cached: bool,
}

/// Handle to the configured provider, if any; cheap to clone.
#[derive(Clone, Default)]
pub struct Gateway {
    provider: Option<SharedProvider>,
    cache: Option<LlmCache>,
}

impl Gateway {
    /// A gateway to `provider` (`None`: every call is `NotConfigured`).
    pub fn new(provider: Option<SharedProvider>) -> Gateway {
        Gateway {
            provider,
            cache: None,
        }
    }

    /// This gateway answering identical calls from `cache`.
    pub fn with_cache(mut self, cache: LlmCache) -> Gateway {
        self.cache = Some(cache);
        self
    }

    /// Whether a provider is configured.
    pub fn configured(&self) -> bool {
        self.provider.is_some()
    }

    /// The configured provider's default model, if any.
    pub fn default_model(&self) -> Option<&str> {
        self.provider.as_deref().map(|p| p.model())
    }

    /// Run one chat completion: from the cache when it is on and the
    /// options allow, else from the provider, recorded in the LLM metrics.
    pub async fn chat(&self, request: ChatRequest, options: &ChatOptions) -> Answered {
        let Some(provider) = self.provider.as_ref() else {
            return Answered {
                result: Err(LlmError::NotConfigured),
                elapsed: Duration::ZERO,
                model: request.model.unwrap_or_default(),
                cached: false,
            };
        };
        // A streamed request announces the call and gets its tokens.
        let deltas = options.stream.as_ref().map(StreamSink::begin_call);
        let answered = match &self.cache {
            Some(cache) => {
                cache
                    .chat(provider, request, options, async |r| {
                        ask(provider, r, deltas.as_ref()).await
                    })
                    .await
            }
            None => ask(provider, request, deltas.as_ref()).await,
        };
        // A cached answer (or one shared from an identical call in flight)
        // never passed this request's sink: its text goes as one piece.
        if answered.cached
            && let (Some(d), Ok(r)) = (&deltas, &answered.result)
        {
            d.send(&r.text);
        }
        answered
    }
}

/// One provider call, streamed to `deltas` when given, recorded in the LLM metrics.
async fn ask(provider: &SharedProvider, request: ChatRequest, deltas: Option<&Deltas>) -> Answered {
    let asked = request.asked_model(provider.model()).to_string();
    let started = Instant::now();
    let result = match deltas {
        Some(d) => provider.chat_stream(request, d).await,
        None => provider.chat(request).await,
    };
    let elapsed = started.elapsed();
    let model = match &result {
        Ok(r) => r.model.clone(),
        Err(_) => asked,
    };
    record(provider.name(), &model, &result, elapsed);
    Answered {
        result,
        elapsed,
        model,
        cached: false,
    }
}

fn record(
    provider_name: &'static str,
    model: &str,
    result: &Result<ChatResponse, LlmError>,
    elapsed: Duration,
) {
    // One shared copy of the model name serves every series below.
    let model = ::metrics::SharedString::from(Arc::<str>::from(model));
    ::metrics::histogram!(metrics::LLM_CALL_DURATION, "provider" => provider_name, "model" => model.clone())
        .record(elapsed);
    let outcome = match result {
        Ok(_) => "ok",
        Err(LlmError::NotConfigured) => "not_configured",
        Err(LlmError::Unavailable(_)) => "unavailable",
        Err(LlmError::Timeout(_)) => "timeout",
        Err(LlmError::RateLimited { .. }) => "rate_limited",
        Err(LlmError::QuotaExceeded(_)) => "quota_exceeded",
        Err(LlmError::InvalidRequest(_)) => "invalid_request",
        Err(LlmError::BadResponse(_)) => "bad_response",
    };
    ::metrics::counter!(metrics::LLM_CALLS, "provider" => provider_name, "model" => model.clone(), "outcome" => outcome)
        .increment(1);
    if let Ok(r) = result {
        for (direction, n) in [("input", r.input_tokens), ("output", r.output_tokens)] {
            ::metrics::counter!(metrics::LLM_TOKENS, "provider" => provider_name, "model" => model.clone(), "direction" => direction)
                .increment(u64::from(n));
        }
    }
}
