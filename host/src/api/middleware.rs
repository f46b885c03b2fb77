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
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
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
    let _in_flight = metrics::request_started();
    // A clone of the router's shared pattern (no copy of the text).
    let route = req.extensions().get::<MatchedPath>().cloned();
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
        identity = Some(ClientKey::api_key(&digest));
    }
    if let Some(limiter) = &state.rate_limiter {
        let who = identity.unwrap_or_else(|| {
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            ClientKey::ip(limiter.client_ip(peer, req.headers()))
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
