//! The three strategy operations: analyze, remix, create.

use std::time::{Duration, Instant};

use std::future::Future;
use std::pin::Pin;

use axum::{
    Extension, Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::{
    AppState,
    dto::{
        AnalyzeBody, AnalyzeResponse, CreateBody, CreateResponse, ErrorBody, IssueDto, RemixBody,
        RemixResponse, ScoresDto, SpanDto, StatsDto, StrategyDto, StyleRef,
    },
    error::ApiError,
    json::ApiJson,
    middleware::RequestId,
    stream,
};
use crate::llm::stream::StreamSink;
use crate::llm::{ChatOptions, LlmError};
use crate::runtime::{
    CallContext, Called, Remixed, RuntimeError, analyzer, creator, remixer, tokens,
};
use crate::store::RequestRecord;

const MAX_PROMPT_CHARS: usize = 100_000;
const MAX_FIELD_CHARS: usize = 20_000;

fn prompt_field(value: Option<String>, field: &str) -> Result<String, ApiError> {
    let v = value.unwrap_or_default();
    if v.trim().is_empty() {
        return Err(ApiError::validation(format!(
            "`{field}` is required and must not be empty"
        )));
    }
    let n = v.chars().count();
    if n > MAX_PROMPT_CHARS {
        return Err(ApiError::validation(format!(
            "`{field}` has {n} characters; the limit is {MAX_PROMPT_CHARS}"
        )));
    }
    Ok(v)
}

fn optional_field(value: Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_FIELD_CHARS => Err(ApiError::validation(format!(
            "`{field}` is longer than {MAX_FIELD_CHARS} characters"
        ))),
        Some(v) if v.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn strategy_field(value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(s) if s.trim().is_empty() => Err(ApiError::validation(
            "`strategy` must not be empty when given",
        )),
        other => Ok(other),
    }
}

/// Fill the log record from a finished plugin call.
fn note_called<T>(rec: &mut RequestRecord, c: &Called<T>) {
    rec.strategy = Some(c.plugin.clone());
    rec.strategy_version = Some(c.version.clone());
    rec.model = c.usage.model.clone();
    rec.llm_calls = c.usage.llm_calls;
    rec.input_tokens = c.usage.input_tokens;
    rec.output_tokens = c.usage.output_tokens;
    rec.llm_wait = c.usage.llm_wait;
}

/// Turn an operation's outcome into the response, and record it in the
/// request log with its status and latency. The LLM wait rides along as a
/// response extension for the host-overhead metric.
fn finish<T: IntoResponse>(
    state: &AppState,
    mut rec: RequestRecord,
    started: Instant,
    outcome: Result<T, ApiError>,
) -> Response {
    let mut resp = match outcome {
        Ok(v) => v.into_response(),
        Err(e) => {
            rec.error_code = Some(e.code.to_string());
            e.into_response()
        }
    };
    rec.status = resp.status().as_u16();
    rec.latency = started.elapsed();
    resp.extensions_mut().insert(LlmWait(rec.llm_wait));
    state.request_log.record(rec);
    resp
}

/// Run one operation on a parsed body (or its rejection) and finish it:
/// response, request-log row, LLM wait for the metrics.
pub(super) async fn operation<B, T: IntoResponse>(
    state: &AppState,
    id: &str,
    name: &'static str,
    body: Result<ApiJson<B>, ApiError>,
    run: impl AsyncFnOnce(B, &mut RequestRecord) -> Result<T, ApiError>,
) -> Response {
    let started = Instant::now();
    let mut rec = RequestRecord::new(id, name);
    let outcome = match body {
        Ok(ApiJson(body)) => run(body, &mut rec).await,
        Err(e) => Err(e),
    };
    finish(state, rec, started, outcome)
}

/// An operation's work once its body parsed: the handler's `run_*` on an
/// owned state, handing the log record back with the outcome.
type Work<T> = Pin<Box<dyn Future<Output = (Result<Json<T>, ApiError>, RequestRecord)> + Send>>;

/// Run an operation that may answer as a stream (`wants`): plain JSON as
/// [`operation`] does, or server-sent events once its plugin call starts
/// (stream.rs); a failure before that (a validation error) is plain JSON
/// either way. The request log gets one row in every case, also for a
/// client that went away mid-stream (status 499).
async fn streamable<B, T: Serialize + Send + 'static>(
    state: AppState,
    id: String,
    name: &'static str,
    (wants, mut ctx): (bool, CallContext),
    body: Result<ApiJson<B>, ApiError>,
    work: impl FnOnce(AppState, B, CallContext, RequestRecord) -> Work<T>,
) -> Response {
    let started = Instant::now();
    let rec = RequestRecord::new(&id, name);
    let body = match body {
        Ok(ApiJson(b)) => b,
        Err(e) => return finish(&state, rec, started, Err::<Json<T>, _>(e)),
    };
    if !wants {
        let (outcome, rec) = work(state.clone(), body, ctx, rec).await;
        return finish(&state, rec, started, outcome);
    }
    let (sink, events) = StreamSink::new();
    ctx.llm.stream = Some(sink);
    let running = work(state.clone(), body, ctx, rec);
    let as_value: stream::Running<RequestRecord> = Box::pin(async move {
        let (outcome, rec) = running.await;
        let value = outcome.and_then(|Json(v)| {
            serde_json::to_value(v).map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    e.to_string(),
                )
            })
        });
        (value, rec)
    });
    let (log, log_cancelled) = (state.request_log.clone(), state.request_log.clone());
    let cancelled_id = id.clone();
    let done = move |outcome: &stream::Outcome, mut rec: RequestRecord| {
        rec.status = outcome.as_ref().map_or_else(|e| e.status.as_u16(), |_| 200);
        rec.error_code = outcome.as_ref().err().map(|e| e.code.to_string());
        rec.latency = started.elapsed();
        log.record(rec);
    };
    let cancelled = move || {
        let mut rec = RequestRecord::new(&cancelled_id, name);
        rec.status = 499;
        rec.error_code = Some("client_disconnected".into());
        rec.latency = started.elapsed();
        log_cancelled.record(rec);
    };
    match stream::respond(id, as_value, events, done, cancelled).await {
        Ok(resp) => resp,
        Err((outcome, rec)) => finish(&state, rec, started, outcome.map(Json)),
    }
}

/// The error answers every operation may give, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(super) enum OperationErrors {
    /// Malformed JSON or a value of the wrong type.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// API keys are configured and none was valid.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Unknown strategy or style.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Body over the size limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// Body is not application/json.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Validation failed.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// Rate limit (ours or the provider's), with Retry-After.
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// The plugin trapped, broke a limit or returned an invalid result.
    #[response(status = 500)]
    PluginFailed(ErrorBody),
    /// The LLM's answer stayed unusable.
    #[response(status = 502)]
    BadGateway(ErrorBody),
    /// No LLM provider configured or reachable; or (remix) the user styles
    /// are not loaded because the database is unavailable.
    #[response(status = 503)]
    Unavailable(ErrorBody),
    /// The LLM or the plugin ran past its deadline.
    #[response(status = 504)]
    Timeout(ErrorBody),
}

/// The request header that steers the LLM response cache, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // only its schema is used
pub(super) struct CacheControl {
    /// LLM response cache (`PROMPTSCULPTOR_LLM_CACHE=on`): `no-cache` asks
    /// the provider instead of a stored answer (and stores the fresh one),
    /// like `"cache": false`; `no-store` keeps this request's answers out of
    /// the cache. Other directives are ignored.
    #[param(rename = "Cache-Control")]
    cache_control: Option<String>,
}

/// Time a request spent waiting on the LLM provider.
#[derive(Debug, Clone, Copy)]
pub struct LlmWait(pub Duration);

/// `POST /api/v1/analyze`: analyze a prompt: scores, issues with spans, token counts, suggestions.
#[utoipa::path(post, path = "/api/v1/analyze", tag = "operations", request_body = AnalyzeBody,
    params(CacheControl),
    responses(
        (status = 200, description = "Analyze a prompt: scores, issues with spans, token counts, suggestions. With `\"stream\": true` or `Accept: text/event-stream`: `text/event-stream` with events `start` {request_id, strategy}, per LLM call `llm` {call} then `delta` {call, text} as tokens arrive, and last `result` (this body) or `error` (the error shape plus `status`); a comment line every 15 s keeps it open.", content((AnalyzeResponse = "application/json"), (String = "text/event-stream"))),
        OperationErrors,
    ))]
pub async fn analyze(
    State(state): State<AppState>,
    Extension(RequestId(id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<ApiJson<AnalyzeBody>, ApiError>,
) -> Response {
    let wants = stream::wanted(body.as_ref().ok().and_then(|b| b.0.stream), &headers);
    let ctx = call_context(&id, body.as_ref().ok().and_then(|b| b.0.cache), &headers);
    streamable(
        state,
        id,
        "analyze",
        (wants, ctx),
        body,
        |state, b, ctx, mut rec| {
            Box::pin(async move {
                let out = run_analyze(&state, &ctx, b, &mut rec).await;
                (out, rec)
            })
        },
    )
    .await
}

/// `POST /api/v1/remix`: remix a prompt into a named style.
#[utoipa::path(post, path = "/api/v1/remix", tag = "operations", request_body = RemixBody,
    params(CacheControl),
    responses(
        (status = 200, description = "Remix a prompt into a named style. With `\"stream\": true` or `Accept: text/event-stream`: `text/event-stream` with events `start` {request_id, strategy}, per LLM call `llm` {call} then `delta` {call, text} as tokens arrive, and last `result` (this body) or `error` (the error shape plus `status`); a comment line every 15 s keeps it open.", content((RemixResponse = "application/json"), (String = "text/event-stream"))),
        OperationErrors,
    ))]
pub async fn remix(
    State(state): State<AppState>,
    Extension(RequestId(id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<ApiJson<RemixBody>, ApiError>,
) -> Response {
    let wants = stream::wanted(body.as_ref().ok().and_then(|b| b.0.stream), &headers);
    let ctx = call_context(&id, body.as_ref().ok().and_then(|b| b.0.cache), &headers);
    streamable(
        state,
        id,
        "remix",
        (wants, ctx),
        body,
        |state, b, ctx, mut rec| {
            Box::pin(async move {
                let out = run_remix(&state, &ctx, b, &mut rec).await;
                (out, rec)
            })
        },
    )
    .await
}

/// `POST /api/v1/create`: create a prompt from a goal.
#[utoipa::path(post, path = "/api/v1/create", tag = "operations", request_body = CreateBody,
    params(CacheControl),
    responses(
        (status = 200, description = "Create a prompt from a goal. With `\"stream\": true` or `Accept: text/event-stream`: `text/event-stream` with events `start` {request_id, strategy}, per LLM call `llm` {call} then `delta` {call, text} as tokens arrive, and last `result` (this body) or `error` (the error shape plus `status`); a comment line every 15 s keeps it open.", content((CreateResponse = "application/json"), (String = "text/event-stream"))),
        OperationErrors,
    ))]
pub async fn create(
    State(state): State<AppState>,
    Extension(RequestId(id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<ApiJson<CreateBody>, ApiError>,
) -> Response {
    let wants = stream::wanted(body.as_ref().ok().and_then(|b| b.0.stream), &headers);
    let ctx = call_context(&id, body.as_ref().ok().and_then(|b| b.0.cache), &headers);
    streamable(
        state,
        id,
        "create",
        (wants, ctx),
        body,
        |state, b, ctx, mut rec| {
            Box::pin(async move {
                let out = run_create(&state, &ctx, b, &mut rec).await;
                (out, rec)
            })
        },
    )
    .await
}

/// The request's choices about its LLM calls: the body's `cache` and the
/// `Cache-Control` header. `"cache": false` or `no-cache` skip the lookup
/// (the fresh answer is still stored, refreshing the entry); `no-store`
/// keeps the answer out of the cache.
fn call_context(id: &str, body_cache: Option<bool>, headers: &HeaderMap) -> CallContext {
    let mut llm = ChatOptions::default();
    if body_cache == Some(false) {
        llm.cache = false;
    }
    let directives = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|d| d.trim().to_ascii_lowercase());
    for directive in directives {
        match directive.as_str() {
            "no-cache" => llm.cache = false,
            "no-store" => llm.cache_store = false,
            _ => {}
        }
    }
    let mut ctx = CallContext::new(id);
    ctx.llm = llm;
    ctx
}

/// `use_llm` defaults to whether a provider is configured; asking for the
/// LLM without one is a 503 before any plugin runs.
fn resolve_use_llm(state: &AppState, asked: Option<bool>) -> Result<bool, ApiError> {
    let use_llm = asked.unwrap_or(state.llm_configured);
    if use_llm && !state.llm_configured {
        return Err(LlmError::NotConfigured.into());
    }
    Ok(use_llm)
}

fn strategy<T>(c: &Called<T>) -> StrategyDto {
    StrategyDto {
        name: c.plugin.clone(),
        version: c.version.clone(),
    }
}

async fn run_analyze(
    state: &AppState,
    ctx: &CallContext,
    body: AnalyzeBody,
    rec: &mut RequestRecord,
) -> Result<Json<AnalyzeResponse>, ApiError> {
    let prompt = prompt_field(body.prompt, "prompt")?;
    let target_model = optional_field(body.target_model, "target_model")?;
    let strategy_name = strategy_field(body.strategy)?;
    let use_llm = resolve_use_llm(state, body.use_llm)?;
    let request = analyzer::AnalyzeRequest {
        tokenizer: tokens::encoding_for_model(target_model.as_deref()).to_string(),
        prompt,
        target_model,
        use_llm,
    };
    rec.strategy = strategy_name.clone();
    if state.request_log.logs_prompts() {
        rec.prompt = Some(request.prompt.clone());
    }
    let called = state
        .runtime
        .analyze(strategy_name.as_deref(), request, ctx)
        .await?;
    note_called(rec, &called);
    let strategy = strategy(&called);
    let r = called.value;
    Ok(Json(AnalyzeResponse {
        scores: ScoresDto {
            overall: r.scores.overall,
            clarity: r.scores.clarity,
            specificity: r.scores.specificity,
            structure: r.scores.structure,
            context: r.scores.context,
            output_format: r.scores.output_format,
        },
        issues: r
            .issues
            .into_iter()
            .map(|i| IssueDto {
                code: i.code,
                severity: match i.severity {
                    analyzer::Severity::Info => "info",
                    analyzer::Severity::Warning => "warning",
                    analyzer::Severity::Error => "error",
                },
                message: i.message,
                span: i.span.map(|s| SpanDto {
                    start: s.start,
                    end: s.end,
                }),
                suggestion: i.suggestion,
            })
            .collect(),
        suggestions: r.suggestions,
        stats: StatsDto {
            chars: r.stats.chars,
            words: r.stats.words,
            tokens: r.stats.tokens,
            tokenizer: r.stats.tokenizer,
            variables: r.stats.variables,
        },
        strategy,
        usage: called.usage.into(),
    }))
}

async fn run_remix(
    state: &AppState,
    ctx: &CallContext,
    body: RemixBody,
    rec: &mut RequestRecord,
) -> Result<Json<RemixResponse>, ApiError> {
    let prompt = prompt_field(body.prompt, "prompt")?;
    let style_name = body.style.unwrap_or_default();
    rec.style = Some(style_name.clone()).filter(|s| !s.is_empty());
    if style_name.trim().is_empty() {
        return Err(ApiError::validation(
            "`style` is required; GET /api/v1/styles lists them",
        ));
    }
    let variants = body.variants.unwrap_or(1);
    if !(1..=5).contains(&variants) {
        return Err(ApiError::validation(format!(
            "`variants` must be between 1 and 5 (got {variants})"
        )));
    }
    let instructions = optional_field(body.instructions, "instructions")?;
    let strategy_name = strategy_field(body.strategy)?;
    let use_llm = resolve_use_llm(state, body.use_llm)?;
    let request = remixer::RemixRequest {
        prompt,
        style: style_name,
        instructions,
        variants: variants as u8,
        use_llm,
    };
    rec.strategy = strategy_name.clone();
    if state.request_log.logs_prompts() {
        rec.prompt = Some(request.prompt.clone());
    }
    // The runtime resolves the style and the plugin that owns it.
    let called = state
        .runtime
        .remix(strategy_name.as_deref(), request, ctx)
        .await
        .map_err(|e| remix_error(e, state.db.user_styles_loaded()))?;
    note_called(rec, &called);
    let strategy = strategy(&called);
    let Remixed { response: r, style } = called.value;
    if state.request_log.logs_prompts() {
        rec.completion = r.variants.first().cloned();
    }
    Ok(Json(RemixResponse {
        prompt: r.variants.first().cloned().unwrap_or_default(),
        variants: r.variants,
        style: StyleRef {
            name: style.name.clone(),
            description: style.description.clone(),
            source: style.source.clone(),
        },
        changes: r.changes,
        strategy,
        usage: called.usage.into(),
    }))
}

/// A remix failure as an answer. An unknown style while the user styles
/// were never loaded (database down since start) may well exist: 503, so
/// the client retries, instead of a 404 it would believe.
fn remix_error(e: RuntimeError, user_styles_loaded: bool) -> ApiError {
    match e {
        RuntimeError::UnknownStyle { .. } if !user_styles_loaded => ApiError::storage_unavailable(
            "user styles are not loaded yet: the database is unavailable; retry shortly",
        ),
        other => other.into(),
    }
}

async fn run_create(
    state: &AppState,
    ctx: &CallContext,
    body: CreateBody,
    rec: &mut RequestRecord,
) -> Result<Json<CreateResponse>, ApiError> {
    let goal = prompt_field(body.goal, "goal")?;
    let mut examples = Vec::new();
    for (i, e) in body.examples.unwrap_or_default().into_iter().enumerate() {
        match (e.input, e.output) {
            (Some(input), Some(output)) => examples.push(creator::Example { input, output }),
            _ => {
                return Err(ApiError::validation(format!(
                    "examples[{i}] needs both `input` and `output`"
                )));
            }
        }
    }
    let variables = body.variables.unwrap_or_default();
    for v in &variables {
        if !ps_guest_util::is_variable_name(v) {
            return Err(ApiError::validation(format!(
                "variable name '{v}' is not valid: use letters, digits, `_`, `-` or `.`, starting with a letter or `_`"
            )));
        }
    }
    let constraints = body.constraints.unwrap_or_default();
    if constraints.len() > 50 || examples.len() > 20 || variables.len() > 50 {
        return Err(ApiError::validation(
            "at most 50 constraints, 20 examples and 50 variables are allowed",
        ));
    }
    let request = creator::CreateRequest {
        goal,
        context: optional_field(body.context, "context")?,
        audience: optional_field(body.audience, "audience")?,
        output_format: optional_field(body.output_format, "output_format")?,
        constraints,
        examples,
        variables,
        target_model: optional_field(body.target_model, "target_model")?,
        use_llm: resolve_use_llm(state, body.use_llm)?,
    };
    let strategy_name = strategy_field(body.strategy)?;
    rec.strategy = strategy_name.clone();
    if state.request_log.logs_prompts() {
        rec.prompt = Some(request.goal.clone());
    }
    let called = state
        .runtime
        .create(strategy_name.as_deref(), request, ctx)
        .await?;
    note_called(rec, &called);
    let strategy = strategy(&called);
    let r = called.value;
    if state.request_log.logs_prompts() {
        rec.completion = Some(r.prompt.clone());
    }
    Ok(Json(CreateResponse {
        prompt: r.prompt,
        system: r.system,
        variables: r.variables,
        rationale: r.rationale,
        strategy,
        usage: called.usage.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_style_is_503_until_user_styles_are_loaded() {
        let unknown = || RuntimeError::UnknownStyle {
            name: "mine".into(),
        };
        let e = remix_error(unknown(), false);
        assert_eq!((e.status.as_u16(), e.code), (503, "storage_unavailable"));
        assert_eq!(e.retry_after, Some(1));
        let e = remix_error(unknown(), true);
        assert_eq!((e.status.as_u16(), e.code), (404, "style_not_found"));
    }
}
