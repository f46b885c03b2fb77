//! Cross-cutting request handling: request ids and the error body, the
//! early body-size check, API keys and the rate limit.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    body::{Body, HttpBody},
    extract::{ConnectInfo, MatchedPath, OriginalUri, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter as GovernorLimiter, clock::Clock as _};

use super::{AppState, error::ApiError, json::BodyLimit, json::too_large, operations::LlmWait};
use crate::config::TrustedProxies;
use crate::metrics;

/// The id of the current request, as sent back in `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn new_request_id() -> String {
    new_id("req")
}

/// A new unique id `<prefix>_<22 hex digits>` (request ids, run ids).
pub(super) fn new_id(prefix: &str) -> String {
    // Random per process (RandomState is seeded from the OS) plus a counter:
    // unique without a shared lock or another dependency.
    use std::hash::{BuildHasher, Hasher};
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    format!("{prefix}_{:016x}{:06x}", h.finish(), n & 0xff_ffff)
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
    let _in_flight = metrics::request_started();
    // A clone of the router's shared pattern (no copy of the text).
    let route = req.extensions().get::<MatchedPath>().cloned();
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(BodyLimit(state.max_body_bytes));
    // Publishing endpoints authenticate before anything else, the size
    // check included, and take a component-sized body: the `/api/v1` guard
    // checks their declared length after the admin key.
    let publishing = publishing_endpoint(req.method(), req.uri().path());
    let mut resp = async {
        // A declared length over the limit is refused before anything reads
        // or validates the body.
        if !publishing && declared_length(&req).is_some_and(|n| n > state.max_body_bytes as u64) {
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
    metrics::http_request_done(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        status,
        elapsed,
        llm_wait,
    );
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

/// Bytes beyond an endpoint's body limit that a refusal still reads.
const DRAIN_SLACK: u64 = 64 * 1024;
/// Longest a refusal waits for the rest of a body.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Read and discard what is left of a request body before a refusal is
/// sent (a "lingering close", as nginx does). An answer sent while the
/// client is still uploading is followed by hyper closing the socket with
/// unread data, which makes the kernel send a reset that destroys the
/// answer in the client's buffer: a client uploading a component would see
/// "connection reset" instead of its 401/403/413/415. Bounded by `limit`
/// plus a little slack and by `DRAIN_TIME`; a body declared larger than
/// that is not read at all (its client gets the reset, as before).
pub async fn drain(body: Body, declared: Option<u64>, limit: usize) {
    let budget = (limit as u64).saturating_add(DRAIN_SLACK);
    if declared.is_some_and(|n| n > budget) {
        return;
    }
    let mut body = body;
    let mut seen = 0u64;
    // A timeout only ends the wait: what was read is discarded either way.
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(frame)) =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
        {
            let n = frame.data_ref().map_or(0, |d| d.len() as u64);
            seen = seen.saturating_add(n);
            if seen > budget {
                break;
            }
        }
    })
    .await;
}

/// A refusal of `req`, sent once its body is drained (see [`drain`]).
async fn refuse(req: Request, limit: usize, error: ApiError) -> Response {
    let declared = declared_length(&req);
    drain(req.into_body(), declared, limit).await;
    error.into_response()
}

/// The declared `Content-Length` of a request, if any.
pub fn declared_length(req: &Request) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Whether `method path` (the full path, `/api/v1` included) is a
/// publishing endpoint, which only admin keys may call:
/// `PUT|DELETE /api/v1/plugins/{name}`, `POST /api/v1/plugins/{name}/rollback`.
/// Matched here rather than by the router so that authentication answers
/// before the router's 404/405 and the handlers' 413/415/422.
pub fn publishing_endpoint(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/plugins/") else {
        return false;
    };
    let mut segments = rest.split('/');
    let name = segments.next().unwrap_or("");
    if name.is_empty() {
        return false;
    }
    match (segments.next(), segments.next()) {
        (None, _) => method == Method::PUT || method == Method::DELETE,
        (Some("rollback"), None) => method == Method::POST,
        _ => false,
    }
}

/// The key of an `Authorization: Bearer <key>` header, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// Whether `digest` is one of `keys`. Every key is compared so timing does
/// not reveal which one matched.
fn key_in(keys: &[[u8; 32]], digest: &[u8; 32]) -> bool {
    keys.iter()
        .fold(false, |m, k| constant_time_eq(k, digest) | m)
}

/// Who may call what. A publishing endpoint needs an admin key (403 when
/// none is configured, so publishing is off by default); any other
/// `/api/v1` endpoint needs an API key or an admin key, but only when API
/// keys are configured. `Ok` carries the digest of the key that passed, the
/// caller's rate-limit identity; `None` when no key was required.
fn authenticate(
    api_keys: &[[u8; 32]],
    admin_keys: &[[u8; 32]],
    publishing: bool,
    presented: Option<&str>,
) -> Result<Option<[u8; 32]>, ApiError> {
    let unauthorized =
        |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
    if publishing {
        if admin_keys.is_empty() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "admin_disabled",
                "publishing plugins is disabled on this server: no admin key is configured; \
                 set PROMPTSCULPTOR_ADMIN_KEYS to enable it",
            ));
        }
        let Some(presented) = presented else {
            return Err(unauthorized(
                "publishing plugins needs an admin key as `Authorization: Bearer <key>`",
            ));
        };
        let digest = key_digest(presented);
        if !key_in(admin_keys, &digest) {
            return Err(unauthorized(
                "the key is not an admin key (PROMPTSCULPTOR_ADMIN_KEYS); publishing plugins needs one",
            ));
        }
        return Ok(Some(digest));
    }
    if api_keys.is_empty() {
        return Ok(None);
    }
    let Some(presented) = presented else {
        return Err(unauthorized(
            "send an API key as `Authorization: Bearer <key>`",
        ));
    };
    let digest = key_digest(presented);
    // Admin keys are API keys too; `|`, not `||`: both lists are walked.
    if !(key_in(api_keys, &digest) | key_in(admin_keys, &digest)) {
        return Err(unauthorized("the API key is not valid"));
    }
    Ok(Some(digest))
}

/// `/api/v1` guard: API or admin keys, then the rate limit (when
/// configured), keyed by key or client IP; for publishing endpoints last
/// the declared body length against the endpoint's own limit.
pub async fn auth_and_rate_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    // Inside the nested router the URI has lost its `/api/v1` prefix.
    let publishing = {
        let path = req
            .extensions()
            .get::<OriginalUri>()
            .map_or_else(|| req.uri().path(), |o| o.0.path());
        publishing_endpoint(req.method(), path)
    };
    // The body limit of this endpoint: a component for an upload.
    let limit = if publishing && req.method() == Method::PUT {
        usize::try_from(state.runtime.max_component_bytes()).unwrap_or(usize::MAX)
    } else {
        state.max_body_bytes
    };
    let identity = match authenticate(
        &state.api_keys,
        &state.admin_keys,
        publishing,
        bearer(req.headers()),
    ) {
        Ok(digest) => digest.map(|d| ClientKey::api_key(&d)),
        Err(e) => return refuse(req, limit, e).await,
    };
    if let Some(limiter) = &state.rate_limiter {
        let who = identity.unwrap_or_else(|| {
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            ClientKey::ip(limiter.client_ip(peer, req.headers()))
        });
        if let Err(retry_after) = limiter.check(&who) {
            let error = ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                message: format!(
                    "rate limit of {} requests per minute reached; retry in {retry_after} s",
                    limiter.per_minute
                ),
                retry_after: Some(retry_after),
            };
            return refuse(req, limit, error).await;
        }
    }
    // The outer layer skipped the size check for publishing endpoints.
    if publishing && declared_length(&req).is_some_and(|n| n > limit as u64) {
        return refuse(req, limit, too_large(limit)).await;
    }
    next.run(req).await
}

/// Whose bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// An API key, by the first half of its sha256: the raw key is never
    /// kept in the limiter, and 128 bits cannot collide by accident.
    ApiKey([u8; 16]),
    /// A client address; IPv6 clients by their /64, the block one
    /// subscriber gets, so one host cannot open a bucket per address.
    Ip(IpAddr),
}

impl ClientKey {
    /// The bucket of the API key whose sha256 is `digest`.
    pub fn api_key(digest: &[u8; 32]) -> ClientKey {
        let mut half = [0u8; 16];
        half.copy_from_slice(&digest[..16]);
        ClientKey::ApiKey(half)
    }

    /// The bucket of a client address (`None`: unknown, one shared bucket).
    pub fn ip(ip: Option<IpAddr>) -> ClientKey {
        let ip = ip.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ip| ip.to_canonical());
        match ip {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                ClientKey::Ip(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
            v4 => ClientKey::Ip(v4),
        }
    }
}

/// How often the background task drops clients whose bucket refilled.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Above this many tracked clients a request also triggers a sweep (at most
/// one a second), so a flood of new addresses cannot outgrow the sweep.
const MAX_TRACKED: usize = 100_000;

/// Per-client GCRA limiter (governor): `per_minute` requests a minute,
/// the whole minute's allowance usable as a burst, refilled evenly. Keyed
/// by API key or client IP; lock-free across clients (a sharded map), so it
/// has no global lock to contend on or to poison.
pub struct RateLimiter {
    /// Requests allowed per client and minute.
    pub per_minute: u32,
    limiter: DefaultKeyedRateLimiter<ClientKey>,
    trusted: TrustedProxies,
    created: Instant,
    last_sweep_ms: AtomicU64,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` (at least 1) requests per client and
    /// minute; forwarded headers are believed only from `trusted` peers.
    pub fn new(per_minute: u32, trusted: TrustedProxies) -> RateLimiter {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        RateLimiter {
            per_minute: per_minute.get(),
            limiter: GovernorLimiter::dashmap(Quota::per_minute(per_minute)),
            trusted,
            created: Instant::now(),
            last_sweep_ms: AtomicU64::new(0),
        }
    }

    /// [`RateLimiter::new`] plus a background task that drops idle clients
    /// every few seconds, bounding memory to the clients of the last minute.
    /// The task ends when the limiter is dropped. Needs a tokio runtime.
    pub fn start(per_minute: u32, trusted: TrustedProxies) -> Arc<RateLimiter> {
        let limiter = Arc::new(RateLimiter::new(per_minute, trusted));
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(limiter) = weak.upgrade() else { break };
                limiter.sweep();
            }
        });
        limiter
    }

    /// `Ok` when `who` may proceed, else the whole seconds (at least 1)
    /// until its next request would be allowed.
    pub fn check(&self, who: &ClientKey) -> Result<(), u32> {
        if self.limiter.len() > MAX_TRACKED {
            let now_ms = self.created.elapsed().as_millis() as u64;
            let last = self.last_sweep_ms.load(Ordering::Relaxed);
            if now_ms.saturating_sub(last) >= 1000
                && self
                    .last_sweep_ms
                    .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                self.sweep();
            }
        }
        self.limiter.check_key(who).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            u32::try_from(secs).unwrap_or(u32::MAX).max(1)
        })
    }

    /// Drop clients whose bucket is full again (indistinguishable from new).
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Clients tracked now.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }

    /// The client address of a request from TCP peer `peer`: the peer itself
    /// unless it is a trusted proxy; then the right-most address of
    /// `X-Forwarded-For` (else of `Forwarded`'s `for=`) that is not a
    /// trusted proxy. Addresses further left were written by the client and
    /// prove nothing. A hop that is not an address ends the walk at the last
    /// trusted hop, so garbage can only merge clients, never split them.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.trusted.contains(peer) {
            return Some(peer);
        }
        let mut client = peer;
        for hop in forwarded_chain(headers).iter().rev() {
            let Some(ip) = hop else { break };
            client = ip.to_canonical();
            if !self.trusted.contains(client) {
                break;
            }
        }
        Some(client)
    }
}

/// The addresses a request passed through, client first, as the proxies
/// wrote them: `X-Forwarded-For` when present, else `Forwarded` (RFC 7239).
/// `None` marks a hop that is not an address (`unknown`, an obfuscated
/// name, garbage). Every header line counts, in order.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().unwrap_or("?"))
        .collect();
    if !xff.is_empty() {
        return xff
            .iter()
            .flat_map(|line| line.split(','))
            .map(|hop| parse_hop(hop.trim()))
            .collect();
    }
    headers
        .get_all(header::FORWARDED)
        .iter()
        .map(|v| v.to_str().unwrap_or("for=?"))
        .flat_map(|line| line.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(v.trim().trim_matches('"')))
            })
        })
        .collect()
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:80`, `::1`,
/// `[::1]`, `[::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse::<Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(trusted: &str) -> RateLimiter {
        RateLimiter::new(2, trusted.parse().unwrap())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn publishing_endpoints_are_matched_by_method_and_path() {
        let yes = [
            (Method::PUT, "/api/v1/plugins/my-remix"),
            (Method::DELETE, "/api/v1/plugins/my-remix"),
            (Method::POST, "/api/v1/plugins/my-remix/rollback"),
            // Invalid names still need the admin key: auth comes first.
            (Method::PUT, "/api/v1/plugins/NOT%20valid"),
        ];
        for (m, p) in yes {
            assert!(publishing_endpoint(&m, p), "{m} {p}");
        }
        let no = [
            (Method::GET, "/api/v1/plugins"),
            (Method::GET, "/api/v1/plugins/my-remix"),
            (Method::GET, "/api/v1/plugins/my-remix/versions"),
            (Method::POST, "/api/v1/plugins/my-remix"),
            (Method::PUT, "/api/v1/plugins/"),
            (Method::PUT, "/api/v1/plugins"),
            (Method::GET, "/api/v1/plugins/my-remix/rollback"),
            (Method::POST, "/api/v1/plugins/my-remix/rollback/x"),
            (Method::PUT, "/api/v1/plugins/my-remix/versions"),
            (Method::PUT, "/api/v1/styles/x"),
            (Method::PUT, "/plugins/x"),
        ];
        for (m, p) in no {
            assert!(!publishing_endpoint(&m, p), "{m} {p}");
        }
    }

    #[test]
    fn admin_keys_guard_publishing_and_count_as_api_keys() {
        let api = [key_digest("api")];
        let admin = [key_digest("admin")];
        let code = |r: Result<Option<[u8; 32]>, ApiError>| match r {
            Ok(_) => (200, "ok"),
            Err(e) => (e.status.as_u16(), e.code),
        };
        // Publishing: off without admin keys, whatever is presented.
        assert_eq!(
            code(authenticate(&api, &[], true, Some("api"))),
            (403, "admin_disabled")
        );
        assert_eq!(
            code(authenticate(&[], &[], true, None)),
            (403, "admin_disabled")
        );
        // With admin keys: only an admin key passes.
        assert_eq!(
            code(authenticate(&[], &admin, true, None)),
            (401, "unauthorized")
        );
        assert_eq!(
            code(authenticate(&api, &admin, true, Some("api"))),
            (401, "unauthorized")
        );
        assert_eq!(
            authenticate(&api, &admin, true, Some("admin")).ok(),
            Some(Some(key_digest("admin")))
        );
        // Other endpoints: open without API keys, even with admin keys.
        assert_eq!(authenticate(&[], &admin, false, None).ok(), Some(None));
        // With API keys, an admin key is an API key too.
        assert_eq!(
            code(authenticate(&api, &admin, false, Some("admin"))),
            (200, "ok")
        );
        assert_eq!(
            code(authenticate(&api, &admin, false, Some("api"))),
            (200, "ok")
        );
        assert_eq!(
            code(authenticate(&api, &admin, false, Some("other"))),
            (401, "unauthorized")
        );
        assert_eq!(
            code(authenticate(&api, &admin, false, None)),
            (401, "unauthorized")
        );
    }

    #[test]
    fn forwarded_headers_of_an_untrusted_peer_are_ignored() {
        let l = limiter("");
        let h = headers(&[("x-forwarded-for", "9.9.9.9")]);
        assert_eq!(l.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        let l = limiter("10.0.0.0/8");
        assert_eq!(l.client_ip(ip("11.0.0.1"), &h), ip("11.0.0.1"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let l = limiter("10.0.0.0/8, 192.168.1.1");
        // The client wrote "6.6.6.6"; the edge proxy appended the real
        // client 1.2.3.4; an inner trusted proxy appended the edge's address.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.1.1.1")]);
        assert_eq!(l.client_ip(ip("192.168.1.1"), &h), ip("1.2.3.4"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "1.2.3.4:5555"),
        ]);
        assert_eq!(l.client_ip(ip("10.0.0.2"), &h), ip("1.2.3.4"));
        // Every hop trusted: the left-most.
        let h = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.8")]);
        assert_eq!(l.client_ip(ip("10.0.0.2"), &h), ip("10.0.0.9"));
        // Garbage stops the walk at the last trusted hop.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, nonsense, 10.0.0.8")]);
        assert_eq!(l.client_ip(ip("10.0.0.2"), &h), ip("10.0.0.8"));
        // No header: the proxy itself.
        assert_eq!(
            l.client_ip(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn rfc7239_forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let l = limiter("127.0.0.1, ::1");
        let h = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::17]:4711\";proto=https, For=127.0.0.1",
        )]);
        assert_eq!(l.client_ip(ip("::ffff:127.0.0.1"), &h), ip("2001:db8::17"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(l.client_ip(ip("127.0.0.1"), &h), ip("127.0.0.1"));
    }

    #[test]
    fn ipv6_clients_share_their_64_and_keys_their_bucket() {
        assert_eq!(
            ClientKey::ip(ip("2001:db8:1:2:aaaa::1")),
            ClientKey::ip(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            ClientKey::ip(ip("2001:db8:1:3::1")),
            ClientKey::ip(ip("2001:db8:1:2::1"))
        );
        let l = limiter("");
        let a = ClientKey::api_key(&key_digest("a"));
        let b = ClientKey::api_key(&key_digest("b"));
        assert!(l.check(&a).is_ok() && l.check(&a).is_ok());
        let retry = l.check(&a).unwrap_err();
        assert!((1..=30).contains(&retry), "{retry}");
        assert!(l.check(&b).is_ok());
    }

    #[test]
    fn a_sweep_forgets_clients_whose_bucket_refilled_only() {
        let l = limiter("");
        l.check(&ClientKey::ip(ip("1.1.1.1"))).unwrap();
        assert_eq!(l.tracked(), 1);
        l.sweep();
        // Its bucket is not full yet (half a minute to refill one request).
        assert_eq!(l.tracked(), 1);
    }
}
