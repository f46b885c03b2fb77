//! LLM providers behind one small trait.
//!
//! The runtime hands plugins a chat capability; this module turns it into
//! HTTP calls to the configured provider. Keys live here and nowhere else.
//!
//! Three wire formats — OpenAI-compatible chat completions, Anthropic
//! Messages, Gemini generateContent — share one transport (`http`) that owns
//! the deadline, the retries (`retry`), the structured-output fallback and the
//! mapping of HTTP failures to [`LlmError`]; each provider file only builds
//! its request body and reads its answer.

mod anthropic;
mod cache;
mod gateway;
mod gemini;
mod http;
mod openai;
mod retry;
pub mod stream;
mod wire;

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

pub use anthropic::AnthropicProvider;
pub use cache::{CacheSettings, LlmCache};
pub use gateway::{Answered, ChatOptions, Gateway};
pub use gemini::GeminiProvider;
pub use openai::OpenAiProvider;

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The end user.
    User,
    /// The model.
    Assistant,
}

/// One turn of a conversation.
#[derive(Debug, Clone)]
pub struct Message {
    /// Speaker.
    pub role: Role,
    /// Text.
    pub content: String,
}

/// A provider-neutral chat-completion request.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    /// Optional system prompt.
    pub system: Option<String>,
    /// Conversation, oldest first.
    pub messages: Vec<Message>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Cap on generated tokens.
    pub max_tokens: Option<u32>,
    /// JSON Schema the reply must follow.
    pub json_schema: Option<serde_json::Value>,
    /// Model to ask instead of the configured one (evaluate's `model`
    /// override); `None` for the configured model.
    pub model: Option<String>,
}

impl ChatRequest {
    /// The model this request asks for: its override, else `configured`.
    pub fn asked_model<'a>(&'a self, configured: &'a str) -> &'a str {
        self.model
            .as_deref()
            .filter(|m| !m.is_empty())
            .unwrap_or(configured)
    }
}

/// A provider's answer.
#[derive(Debug, Clone)]
pub struct ChatResponse {
    /// Generated text.
    pub text: String,
    /// Model that answered.
    pub model: String,
    /// Prompt tokens billed.
    pub input_tokens: u32,
    /// Completion tokens billed.
    pub output_tokens: u32,
}

/// Why a chat call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    /// No provider is configured.
    #[error("no LLM provider is configured")]
    NotConfigured,
    /// Unreachable, failing, or refusing our credentials.
    #[error("LLM provider unavailable: {0}")]
    Unavailable(String),
    /// No answer within the deadline.
    #[error("LLM provider timed out: {0}")]
    Timeout(String),
    /// Rate limit persisted.
    #[error("LLM provider rate limit: {message}")]
    RateLimited {
        /// Provider's message.
        message: String,
        /// Seconds to wait, when the provider said.
        retry_after: Option<u32>,
    },
    /// No quota left on the account.
    #[error("LLM provider quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The provider refused the request.
    #[error("LLM provider rejected the request: {0}")]
    InvalidRequest(String),
    /// The provider's answer was not a usable completion.
    #[error("LLM provider sent an unusable response: {0}")]
    BadResponse(String),
}

/// A boxed future, so providers stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One LLM provider.
pub trait Provider: Send + Sync {
    /// Short provider id (`openai`, …).
    fn name(&self) -> &'static str;
    /// Default model of this provider as configured.
    fn model(&self) -> &str;
    /// Base URL this provider sends to (part of the cache key, so an answer
    /// of one endpoint is never served for another).
    fn base_url(&self) -> &str;
    /// Run one chat completion.
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse, LlmError>>;
    /// Run one chat completion asking the provider to stream it, forwarding
    /// its text to `deltas` as it arrives; the whole answer as [`Provider::chat`].
    /// The default sends the finished text as one piece.
    fn chat_stream<'a>(
        &'a self,
        request: ChatRequest,
        deltas: &'a stream::Deltas,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
        Box::pin(async move {
            let answer = self.chat(request).await?;
            deltas.send(&answer.text);
            Ok(answer)
        })
    }
}

/// Shared handle to the configured provider, if any.
pub type SharedProvider = Arc<dyn Provider>;

/// Settings common to HTTP providers.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Base URL including the version path.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Deadline of one chat call, every retry and fallback included.
    pub timeout: Duration,
}
