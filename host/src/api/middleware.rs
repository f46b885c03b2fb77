//! Cross-cutting request handling: request ids and the error body, the
//! early body-size check, API keys and the rate limit.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use super::{AppState, error::ApiError, json::BodyLimit, json::too_large, operations::LlmWait};
use crate::metrics;

/// The id of the current request, as sent back in `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn new_request_id() -> String {
    // Random per process (RandomState is seeded from the OS) plus a counter:
    // unique without a shared lock or another dependency.
    use std::hash::{BuildHasher, Hasher};
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    format!("req_{:016x}{:06x}", h.finish(), n & 0xff_ffff)
}

fn client_request_id(req: &Request) -> Option<String> {
    let v = req.headers().get("x-request-id")?.to_str().ok()?;
    let ok = (1..=128).contains(&v.len()) && v.bytes().all(|b| (0x21..=0x7e).contains(&b));
    ok.then(|| v.to_string())
}

/// Outermost layer: assign the request id, log the request, render every
/// error in the contract's shape and echo the id header.
pub async fn request_id(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = client_request_id(&req).unwrap_or_else(new_request_id);
    let started = Instant::now();
    let metrics = metrics::global();
    let _in_flight = metrics.request_started();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(BodyLimit(state.max_body_bytes));
    let mut resp = async {
        // A declared length over the limit is refused before anything reads
        // or validates the body.
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > state.max_body_bytes as u64) {
            return too_large(state.max_body_bytes).into_response();
        }
        next.run(req).await
    }
    .instrument(span.clone())
    .await;
    // Read before an error is re-rendered into a fresh response.
    let llm_wait = resp.extensions().get::<LlmWait>().map(|w| w.0);
    if let Some(err) = resp.extensions_mut().remove::<ApiError>() {
        resp = err.render(&id);
    } else if resp.status().as_u16() >= 400 && !is_json(&resp) {
        resp = ApiError::from_status(resp.status()).render(&id);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    metrics.count(
        "promptsculptor_http_requests_total",
        vec![("route", route.clone()), ("status", status.to_string())],
        1,
    );
    metrics.observe(
        "promptsculptor_http_request_duration_seconds",
        vec![("route", route.clone())],
        elapsed,
    );
    if let Some(wait) = llm_wait {
        metrics.observe(
            "promptsculptor_host_overhead_seconds",
            vec![("route", route)],
            elapsed.saturating_sub(wait),
        );
    }
    let _guard = span.enter();
    tracing::info!(
        status,
        elapsed_us = elapsed.as_micros() as u64,
        "request done"
    );
    resp
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// sha256 of a key; comparing digests keeps the comparison's time
/// independent of where two keys first differ.
pub fn key_digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// `/api/v1` guard: API keys (when configured), then the rate limit (when
/// configured), keyed by API key or client IP.
pub async fn auth_and_rate_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut identity = None;
    if !state.api_keys.is_empty() {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let Some(presented) = presented else {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send an API key as `Authorization: Bearer <key>`",
            )
            .into_response();
        };
        let digest = key_digest(presented);
        // Check every key so timing does not reveal which one matched.
        let matched = state
            .api_keys
            .iter()
            .fold(false, |m, k| constant_time_eq(k, &digest) | m);
        if !matched {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the API key is not valid",
            )
            .into_response();
        }
        identity = Some(format!("key:{}", hex::encode(&digest[..8])));
    }
    if let Some(limiter) = &state.rate_limiter {
        let who = identity.unwrap_or_else(|| {
            req.extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "ip:unknown".to_string(), |c| format!("ip:{}", c.0.ip()))
        });
        if let Err(retry_after) = limiter.check(&who) {
            return ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                message: format!(
                    "rate limit of {} requests per minute reached; retry in {retry_after} s",
                    limiter.per_minute
                ),
                retry_after: Some(retry_after),
            }
            .into_response();
        }
    }
    next.run(req).await
}

/// Fixed one-minute windows per client.
pub struct RateLimiter {
    /// Requests allowed per window.
    pub per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per client and minute.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` when `who` may proceed, else the seconds until its window resets.
    pub fn check(&self, who: &str) -> Result<(), u32> {
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            // A poisoned lock means a panic elsewhere; fail open rather than
            // lock every client out.
            return Ok(());
        };
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(who.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            let left = WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1) as u32);
        }
        entry.1 += 1;
        Ok(())
    }
}
