//! Per-call store data and the host capabilities a plugin imports.
//!
//! A fresh `CallState` is made for every plugin call, so nothing a plugin
//! does can leak into another request.

use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::CallContext;
use super::bindings::{llm, log, styles, tokenizer, types};
use super::tokens;
use crate::llm::{self as provider, ChatOptions, Gateway, LlmError};
use crate::store::{Db, StyleRecord, StyleSnapshot};

/// What the host grants every plugin: shared by all calls.
pub struct Capabilities {
    /// The one path to the configured LLM provider, if any.
    pub llm: Gateway,
    /// The style registry.
    pub db: Db,
}

/// LLM usage of one plugin call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Chat completions made (cached ones included).
    pub llm_calls: u32,
    /// Of those, answered by the LLM cache (or shared from an identical
    /// call in flight) without a provider call; they bill no tokens.
    pub cached_llm_calls: u32,
    /// Prompt tokens billed.
    pub input_tokens: u64,
    /// Completion tokens billed.
    pub output_tokens: u64,
    /// Model of the last call.
    pub model: Option<String>,
    /// Time spent waiting on the provider (a cache hit's lookup is host
    /// work, not counted here).
    pub llm_wait: std::time::Duration,
}

/// Most log lines one call may emit; more are dropped so a chatty plugin
/// cannot flood the host's log.
const MAX_LOG_LINES: u32 = 200;
/// Longest log line kept, in bytes.
const MAX_LOG_LINE: usize = 4096;
/// Longest name `styles.get` looks up, in bytes: no style name can be
/// longer (`^[a-z0-9][a-z0-9-]{0,63}$`), so a longer one is answered
/// without a store query.
const MAX_STYLE_NAME: usize = 64;
/// What one message adds to an LLM request beyond its text (role and JSON
/// envelope), so a flood of empty messages counts against the size cap too.
const MESSAGE_OVERHEAD: usize = 32;

/// Caps on what a plugin may hand the host's imports in one call, so the
/// host's work and memory for an import stay proportional to an input the
/// operator allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostLimits {
    /// Longest text `tokenizer.count` accepts, in bytes; a longer one ends
    /// the call with a limit error (default: the request body limit).
    pub tokenize_bytes: usize,
    /// Largest LLM request a plugin may send, in bytes of system prompt,
    /// messages (each plus a small envelope) and JSON schema; a larger one
    /// is refused with `invalid-request` before the provider is contacted.
    pub llm_request_bytes: usize,
    /// Highest `max-tokens` passed to the provider; a larger ask is clamped.
    pub llm_max_tokens: u32,
}

impl Default for HostLimits {
    /// The documented defaults of `PROMPTSCULPTOR_MAX_BODY_BYTES`,
    /// `PROMPTSCULPTOR_LLM_MAX_REQUEST_BYTES` and `PROMPTSCULPTOR_LLM_MAX_TOKENS`.
    fn default() -> HostLimits {
        HostLimits {
            tokenize_bytes: 1_048_576,
            llm_request_bytes: 1_048_576,
            llm_max_tokens: 16_384,
        }
    }
}

/// Store data of one plugin call.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limits: StoreLimits,
    caps: Arc<Capabilities>,
    plugin: Arc<str>,
    request_id: Arc<str>,
    /// The request's choices about LLM calls.
    llm_options: ChatOptions,
    max_llm_calls: u32,
    host_limits: HostLimits,
    /// The request's `use_llm`: false means no LLM call, whatever the
    /// plugin tries (the host enforces it; the plugin is not trusted to).
    use_llm: bool,
    log_lines: u32,
    pub(super) usage: Usage,
    /// Set when the host ended the call for breaking a limit.
    pub(super) limit_hit: Option<String>,
    pub(super) stdout: MemoryOutputPipe,
    pub(super) stderr: MemoryOutputPipe,
    /// The style registry this call reads (`styles.get`/`styles.list`):
    /// pinned when the call starts, so a remix's plugin sees the very
    /// version the host resolved the style in, and reads cost no query.
    pub(super) styles: Arc<StyleSnapshot>,
}

impl CallState {
    /// State for one call of `plugin` on behalf of `ctx`; `use_llm`
    /// is the request's choice (false for a manifest call).
    pub fn new(
        caps: Arc<Capabilities>,
        plugin: Arc<str>,
        ctx: &CallContext,
        memory_bytes: usize,
        max_llm_calls: u32,
        host_limits: HostLimits,
        use_llm: bool,
    ) -> CallState {
        // Bounded buffers: output beyond them is refused to the guest.
        let stdout = MemoryOutputPipe::new(64 * 1024);
        let stderr = MemoryOutputPipe::new(64 * 1024);
        // No preopened directories, no environment, no arguments, no network:
        // the builder grants none of them unless asked.
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build();
        let limits = wasmtime::StoreLimitsBuilder::new()
            .memory_size(memory_bytes)
            .trap_on_grow_failure(true)
            .build();
        let styles = caps.db.styles();
        CallState {
            styles,
            wasi,
            table: ResourceTable::new(),
            limits,
            caps,
            plugin,
            request_id: Arc::clone(&ctx.request_id),
            llm_options: ctx.llm.clone(),
            max_llm_calls,
            host_limits,
            use_llm,
            log_lines: 0,
            usage: Usage::default(),
            limit_hit: None,
            stdout,
            stderr,
        }
    }

    fn trap_limit(&mut self, message: String) -> wasmtime::Error {
        self.limit_hit = Some(message.clone());
        wasmtime::Error::msg(message)
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for CallState {}

fn to_wit_llm_error(e: LlmError) -> types::LlmError {
    match e {
        LlmError::NotConfigured => types::LlmError::Unavailable(e.to_string()),
        LlmError::Unavailable(m) => types::LlmError::Unavailable(m),
        LlmError::Timeout(m) => types::LlmError::Timeout(m),
        LlmError::RateLimited {
            message,
            retry_after,
        } => types::LlmError::RateLimited(types::RateLimit {
            message,
            retry_after_secs: retry_after,
        }),
        LlmError::QuotaExceeded(m) => types::LlmError::QuotaExceeded(m),
        LlmError::InvalidRequest(m) => types::LlmError::InvalidRequest(m),
        LlmError::BadResponse(m) => types::LlmError::BadResponse(m),
    }
}

/// The host's view of an LLM error a plugin passed back to it.
pub fn from_wit_llm_error(e: types::LlmError) -> LlmError {
    match e {
        types::LlmError::Unavailable(m) => LlmError::Unavailable(m),
        types::LlmError::Timeout(m) => LlmError::Timeout(m),
        types::LlmError::RateLimited(r) => LlmError::RateLimited {
            message: r.message,
            retry_after: r.retry_after_secs,
        },
        types::LlmError::QuotaExceeded(m) => LlmError::QuotaExceeded(m),
        types::LlmError::InvalidRequest(m) => LlmError::InvalidRequest(m),
        types::LlmError::BadResponse(m) => LlmError::BadResponse(m),
    }
}

impl llm::Host for CallState {
    async fn available(&mut self) -> wasmtime::Result<bool> {
        Ok(self.use_llm && self.caps.llm.configured())
    }

    async fn chat(
        &mut self,
        request: llm::ChatRequest,
    ) -> wasmtime::Result<Result<llm::ChatResponse, types::LlmError>> {
        // Checked before anything else: a request that said no LLM costs
        // nothing, whatever the plugin does.
        if !self.use_llm {
            tracing::debug!(
                plugin = %self.plugin,
                request_id = %self.request_id,
                "llm call refused: use_llm is false"
            );
            return Ok(Err(types::LlmError::Unavailable(
                "this request was sent with use_llm: false, so the host makes no LLM call for it"
                    .into(),
            )));
        }
        if self.usage.llm_calls >= self.max_llm_calls {
            let limit = self.max_llm_calls;
            return Err(self.trap_limit(format!(
                "plugin exceeded its cap of {limit} LLM calls per request"
            )));
        }
        if !self.caps.llm.configured() {
            return Ok(Err(to_wit_llm_error(LlmError::NotConfigured)));
        }
        // Bounded before it is copied into a provider request: the plugin
        // sees a typed refusal it can handle, and nothing is sent or billed.
        let size = request_bytes(&request);
        let cap = self.host_limits.llm_request_bytes;
        if size > cap {
            return Ok(Err(types::LlmError::InvalidRequest(format!(
                "the LLM request has {size} bytes (system, messages and json-schema), over the \
                 host's cap of {cap} bytes (PROMPTSCULPTOR_LLM_MAX_REQUEST_BYTES); it was not sent"
            ))));
        }
        if request.temperature.is_some_and(|t| !t.is_finite()) {
            return Ok(Err(types::LlmError::InvalidRequest(
                "temperature must be a finite number".into(),
            )));
        }
        let max_tokens = request.max_tokens.map(|asked| {
            let cap = self.host_limits.llm_max_tokens;
            if asked > cap {
                tracing::info!(
                    plugin = %self.plugin,
                    request_id = %self.request_id,
                    asked,
                    cap,
                    "llm call: max_tokens clamped to PROMPTSCULPTOR_LLM_MAX_TOKENS"
                );
            }
            asked.min(cap)
        });
        let json_schema = match request
            .json_schema
            .as_deref()
            .map(serde_json::from_str::<serde_json::Value>)
        {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => {
                return Ok(Err(types::LlmError::InvalidRequest(format!(
                    "json-schema is not valid JSON: {e}"
                ))));
            }
        };
        let req = provider::ChatRequest {
            system: request.system,
            messages: request
                .messages
                .into_iter()
                .map(|m| provider::Message {
                    role: match m.role {
                        llm::Role::User => provider::Role::User,
                        llm::Role::Assistant => provider::Role::Assistant,
                    },
                    content: m.content,
                })
                .collect(),
            temperature: request.temperature,
            max_tokens,
            json_schema,
            model: None,
        };
        self.usage.llm_calls += 1;
        let answered = self.caps.llm.chat(req, &self.llm_options).await;
        if answered.cached {
            self.usage.cached_llm_calls += 1;
        } else {
            self.usage.llm_wait += answered.elapsed;
        }
        tracing::debug!(
            plugin = %self.plugin,
            request_id = %self.request_id,
            elapsed_ms = answered.elapsed.as_millis() as u64,
            ok = answered.result.is_ok(),
            cached = answered.cached,
            "llm call"
        );
        let result = answered.result;
        Ok(match result {
            Ok(r) => {
                self.usage.input_tokens += u64::from(r.input_tokens);
                self.usage.output_tokens += u64::from(r.output_tokens);
                self.usage.model = Some(r.model.clone());
                Ok(llm::ChatResponse {
                    text: r.text,
                    model: r.model,
                    usage: llm::TokenUsage {
                        input_tokens: r.input_tokens,
                        output_tokens: r.output_tokens,
                    },
                })
            }
            Err(e) => {
                if self.usage.model.is_none() {
                    self.usage.model = Some(answered.model);
                }
                Err(to_wit_llm_error(e))
            }
        })
    }
}

/// Size of an LLM request as the size cap counts it.
fn request_bytes(r: &llm::ChatRequest) -> usize {
    let messages: usize = r
        .messages
        .iter()
        .map(|m| m.content.len().saturating_add(MESSAGE_OVERHEAD))
        .fold(0, usize::saturating_add);
    r.system
        .as_ref()
        .map_or(0, String::len)
        .saturating_add(r.json_schema.as_ref().map_or(0, String::len))
        .saturating_add(messages)
}

fn to_wit_style(s: &StyleRecord) -> types::Style {
    types::Style {
        name: s.name.clone(),
        description: s.description.clone(),
        source: s.source.clone(),
        instructions: s.instructions.clone(),
        examples: s
            .examples
            .iter()
            .map(|e| types::StyleExample {
                before: e.before.clone(),
                after: e.after.clone(),
            })
            .collect(),
    }
}

impl styles::Host for CallState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Option<types::Style>> {
        // A name longer than any style name can match nothing; answered
        // without a lookup.
        if name.len() > MAX_STYLE_NAME {
            return Ok(None);
        }
        Ok(self.styles.get(&name).map(|s| to_wit_style(s)))
    }

    async fn list(&mut self) -> wasmtime::Result<Vec<types::Style>> {
        Ok(self.styles.iter().map(|s| to_wit_style(s)).collect())
    }
}

impl tokenizer::Host for CallState {
    async fn count(&mut self, text: String, encoding: String) -> wasmtime::Result<Option<u32>> {
        // Bounded input: the work and memory of a count stay proportional
        // to a text the operator allowed (a request body's worth).
        let cap = self.host_limits.tokenize_bytes;
        if text.len() > cap {
            let len = text.len();
            return Err(self.trap_limit(format!(
                "tokenizer.count got a text of {len} bytes, over the cap of {cap} bytes \
                 (PROMPTSCULPTOR_MAX_BODY_BYTES)"
            )));
        }
        let Some(mut counter) = tokens::Counter::new(&text, &encoding) else {
            return Ok(None);
        };
        // Inline on this task, one slice at a time, yielding in between: no
        // thread hand-off for small texts, other tasks run between slices,
        // and when the call is dropped at its deadline the count stops with
        // it (a blocking thread would have run on, uncancelled).
        while !counter.step() {
            tokio::task::yield_now().await;
        }
        Ok(Some(counter.tokens()))
    }
}

impl log::Host for CallState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES {
            return Ok(());
        }
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let (plugin, request_id) = (&*self.plugin, &*self.request_id);
        match level {
            log::Level::Trace => tracing::trace!(plugin, request_id, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, request_id, "{message}"),
            log::Level::Info => tracing::info!(plugin, request_id, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, request_id, "{message}"),
            log::Level::Error => tracing::error!(plugin, request_id, "{message}"),
        }
        Ok(())
    }
}
