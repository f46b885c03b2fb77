//! The LLM response cache (contract §7, `PROMPTSCULPTOR_LLM_CACHE=on`).
//!
//! An answer is stored in the database (so a fleet on PostgreSQL shares
//! it) under the sha256 of everything that decides what the provider says:
//! provider, base URL, the model actually asked, system, messages,
//! temperature, max tokens and JSON schema. Credentials are never part of
//! the key nor of the row. Only successful answers are stored.
//!
//! Concurrent identical calls of one instance make one lookup and at most
//! one provider call (single flight): the first leads, the others wait for
//! its result. The database is an optimisation only: when it fails, the
//! call goes to the provider as if nothing were cached, with a warning.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::{Answered, ChatOptions, ChatRequest, ChatResponse, LlmError, Role, SharedProvider};
use crate::metrics;
use crate::store::{CachedAnswer, Db};

/// How long a lookup may take before the call goes to the provider
/// instead: a database that hangs must not add its own deadline (5 s by
/// default) to every LLM call.
const LOOKUP_DEADLINE: Duration = Duration::from_secs(1);

/// How often expired entries are dropped and the entries gauge is
/// recounted (it is kept current between recounts from this instance's own
/// writes; other instances of a fleet show up at the recount).
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);

/// Retry interval of the maintenance while the database cannot be reached
/// (PostgreSQL is still connecting at startup).
const MAINTENANCE_RETRY: Duration = Duration::from_secs(5);

/// Bumped whenever the key's layout changes, so old rows are never
/// mistaken for new ones.
const KEY_VERSION: &[u8] = b"promptsculptor-llm-cache-v1";

/// The cache's bounds.
#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// How long a stored answer is served.
    pub ttl: Duration,
    /// Entries kept; the oldest stored are dropped first.
    pub max_entries: u64,
}

/// A result shared with the calls waiting on a flight.
type Shared = Arc<Result<ChatResponse, LlmError>>;
/// What waiters watch: `None` until the leader has a result.
type FlightRx = watch::Receiver<Option<Shared>>;

/// The response cache in front of one provider; cheap to clone.
#[derive(Clone)]
pub struct LlmCache {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    settings: CacheSettings,
    /// Flights in progress, by key.
    flights: Mutex<HashMap<[u8; 32], FlightRx>>,
}

/// The sha256 key of `request` as `provider` at `base_url` would be asked
/// it, with `model` the model actually asked. Every field is length- or
/// tag-prefixed, so no two different requests feed the same bytes.
pub fn key(provider: &str, base_url: &str, model: &str, request: &ChatRequest) -> [u8; 32] {
    fn field(h: &mut Sha256, bytes: &[u8]) {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    fn optional(h: &mut Sha256, bytes: Option<&[u8]>) {
        match bytes {
            None => h.update([0u8]),
            Some(b) => {
                h.update([1u8]);
                field(h, b);
            }
        }
    }
    let mut h = Sha256::new();
    field(&mut h, KEY_VERSION);
    field(&mut h, provider.as_bytes());
    // `http://h/v1` and `http://h/v1/` are the same endpoint.
    field(&mut h, base_url.trim_end_matches('/').as_bytes());
    field(&mut h, model.as_bytes());
    optional(&mut h, request.system.as_deref().map(str::as_bytes));
    h.update((request.messages.len() as u64).to_le_bytes());
    for m in &request.messages {
        h.update([match m.role {
            Role::User => b'u',
            Role::Assistant => b'a',
        }]);
        field(&mut h, m.content.as_bytes());
    }
    optional(
        &mut h,
        request
            .temperature
            .map(|t| t.to_bits().to_le_bytes())
            .as_ref()
            .map(|b| &b[..]),
    );
    optional(
        &mut h,
        request
            .max_tokens
            .map(u32::to_le_bytes)
            .as_ref()
            .map(|b| &b[..]),
    );
    let schema = request.json_schema.as_ref().map(|s| s.to_string());
    optional(&mut h, schema.as_deref().map(str::as_bytes));
    h.finalize().into()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

/// What this call does in a flight: lead it, or wait for its leader.
enum Part {
    Lead(Flight),
    Follow(FlightRx),
}

/// A flight this call leads: removed from the map when dropped, which also
/// closes the channel, so waiters of a leader that was cancelled (client
/// gone, deadline) try again instead of waiting forever.
struct Flight {
    cache: Arc<Inner>,
    key: [u8; 32],
    tx: watch::Sender<Option<Shared>>,
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.cache
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

impl LlmCache {
    /// A cache in `db` with `settings`; spawns the maintenance task (drop
    /// expired entries, recount the gauge) on the current runtime.
    pub fn start(db: Db, settings: CacheSettings) -> LlmCache {
        metrics::llm_cache_registered();
        let cache = LlmCache {
            inner: Arc::new(Inner {
                db,
                settings,
                flights: Mutex::new(HashMap::new()),
            }),
        };
        tokio::spawn(maintain(Arc::downgrade(&cache.inner)));
        cache
    }

    /// Answer `request` from the cache when `options` allow and a fresh
    /// answer is stored; else ask `provider` through `call` (at most once
    /// for all identical calls in flight) and store a successful answer.
    pub(super) async fn chat<F>(
        &self,
        provider: &SharedProvider,
        request: ChatRequest,
        options: &ChatOptions,
        call: F,
    ) -> Answered
    where
        F: AsyncFnOnce(ChatRequest) -> Answered,
    {
        let started = Instant::now();
        let asked = request.asked_model(provider.model()).to_string();
        let key = key(provider.name(), provider.base_url(), &asked, &request);
        if !options.cache {
            // A bypass asks the provider itself, never a flight's leader,
            // and (unless told not to) stores what it got, so it refreshes
            // the entry for the calls after it.
            let answered = call(request).await;
            if options.cache_store
                && let Ok(r) = &answered.result
            {
                self.store(key, provider.name(), r, None);
            }
            return answered;
        }
        let mut call = Some(call);
        let mut request = Some(request);
        loop {
            match self.join(key) {
                Part::Follow(mut rx) => {
                    let shared = match rx.wait_for(Option::is_some).await {
                        Ok(v) => v.clone(),
                        // The leader went away without a result: try again,
                        // perhaps leading this time.
                        Err(_) => continue,
                    };
                    let Some(shared) = shared else { continue };
                    return self.followed(&shared, started, asked);
                }
                Part::Lead(flight) => {
                    let (Some(call), Some(request)) = (call.take(), request.take()) else {
                        // Unreachable: a call leads at most once (it returns).
                        return Answered {
                            result: Err(LlmError::Unavailable("LLM cache flight lost".into())),
                            elapsed: started.elapsed(),
                            model: asked,
                            cached: false,
                        };
                    };
                    return self
                        .lead(flight, provider, request, options, call, started)
                        .await;
                }
            }
        }
    }

    /// Join the flight of `key`, or start one.
    fn join(&self, key: [u8; 32]) -> Part {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(rx) = flights.get(&key) {
            return Part::Follow(rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        flights.insert(key, rx);
        Part::Lead(Flight {
            cache: Arc::clone(&self.inner),
            key,
            tx,
        })
    }

    async fn lead<F>(
        &self,
        flight: Flight,
        provider: &SharedProvider,
        request: ChatRequest,
        options: &ChatOptions,
        call: F,
        started: Instant,
    ) -> Answered
    where
        F: AsyncFnOnce(ChatRequest) -> Answered,
    {
        if let Some(hit) = self.lookup(&flight.key).await {
            ::metrics::counter!(metrics::LLM_CACHE_HITS).increment(1);
            let response = ChatResponse {
                text: hit.text,
                model: hit.model,
                // Nothing was billed for this call.
                input_tokens: 0,
                output_tokens: 0,
            };
            flight.tx.send_replace(Some(Arc::new(Ok(response.clone()))));
            return Answered {
                model: response.model.clone(),
                result: Ok(response),
                elapsed: started.elapsed(),
                cached: true,
            };
        }
        ::metrics::counter!(metrics::LLM_CACHE_MISSES).increment(1);
        let answered = call(request).await;
        // Waiters get the result, an error too; only a success is stored,
        // so an error never outlives this flight.
        flight
            .tx
            .send_replace(Some(Arc::new(answered.result.clone())));
        match &answered.result {
            // The flight stays open until the row is written, so a call
            // arriving meanwhile shares this answer instead of missing.
            Ok(r) if options.cache_store => {
                self.store(flight.key, provider.name(), r, Some(flight));
            }
            _ => drop(flight),
        }
        answered
    }

    /// What a waiter of a flight answers with.
    fn followed(&self, shared: &Shared, started: Instant, asked: String) -> Answered {
        match shared.as_ref() {
            Ok(r) => {
                ::metrics::counter!(metrics::LLM_CACHE_HITS).increment(1);
                let response = ChatResponse {
                    input_tokens: 0,
                    output_tokens: 0,
                    ..r.clone()
                };
                Answered {
                    model: response.model.clone(),
                    result: Ok(response),
                    elapsed: started.elapsed(),
                    cached: true,
                }
            }
            Err(e) => Answered {
                result: Err(e.clone()),
                elapsed: started.elapsed(),
                model: asked,
                cached: false,
            },
        }
    }

    /// The fresh entry under `key`; `None` on a miss and on any database
    /// failure (logged).
    async fn lookup(&self, key: &[u8; 32]) -> Option<CachedAnswer> {
        let hex = hex::encode(key);
        let since = now_ms().saturating_sub(ttl_ms(self.inner.settings.ttl));
        match tokio::time::timeout(LOOKUP_DEADLINE, self.inner.db.llm_cache_get(&hex, since)).await
        {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "LLM cache lookup failed; asking the provider");
                None
            }
            Err(_) => {
                tracing::warn!(
                    deadline_ms = LOOKUP_DEADLINE.as_millis() as u64,
                    "LLM cache lookup timed out; asking the provider"
                );
                None
            }
        }
    }

    /// Write `r` under `key` in the background (the caller has its answer
    /// already); `flight`, when given, closes once the row is written.
    fn store(
        &self,
        key: [u8; 32],
        provider: &'static str,
        r: &ChatResponse,
        flight: Option<Flight>,
    ) {
        let answer = CachedAnswer {
            key: hex::encode(key),
            provider: provider.to_string(),
            model: r.model.clone(),
            text: r.text.clone(),
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            created_ms: now_ms(),
        };
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move {
            match inner
                .db
                .llm_cache_put(&answer, inner.settings.max_entries)
                .await
            {
                Ok(put) => {
                    let delta = f64::from(u8::from(put.added)) - put.evicted as f64;
                    ::metrics::gauge!(metrics::LLM_CACHE_ENTRIES).increment(delta);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LLM cache write failed; the answer is not cached")
                }
            }
            drop(flight);
        });
    }
}

/// Drop expired entries and recount the gauge, for as long as the cache lives.
async fn maintain(cache: std::sync::Weak<Inner>) {
    let mut failures = 0u32;
    loop {
        let Some(inner) = cache.upgrade() else { return };
        let stale_before = now_ms().saturating_sub(ttl_ms(inner.settings.ttl));
        let wait = match inner.db.llm_cache_prune(stale_before).await {
            Ok(left) => {
                failures = 0;
                ::metrics::gauge!(metrics::LLM_CACHE_ENTRIES).set(left as f64);
                MAINTENANCE_INTERVAL
            }
            Err(e) => {
                failures += 1;
                // The first failures are PostgreSQL still connecting at startup.
                if failures >= 3 {
                    tracing::warn!(error = %e, "LLM cache maintenance failed; retrying");
                } else {
                    tracing::debug!(error = %e, "LLM cache maintenance failed; retrying");
                }
                MAINTENANCE_RETRY
            }
        };
        drop(inner);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Message;

    fn request() -> ChatRequest {
        ChatRequest {
            system: Some("sys".into()),
            messages: vec![Message {
                role: Role::User,
                content: "hi".into(),
            }],
            temperature: Some(0.2),
            max_tokens: Some(100),
            json_schema: Some(serde_json::json!({"type": "object"})),
            model: None,
        }
    }

    #[test]
    fn every_field_changes_the_key_and_a_trailing_slash_does_not() {
        let base = key("openai", "http://h/v1", "m", &request());
        assert_eq!(base, key("openai", "http://h/v1/", "m", &request()));
        let mut variants = vec![
            key("anthropic", "http://h/v1", "m", &request()),
            key("openai", "http://other/v1", "m", &request()),
            key("openai", "http://h/v1", "m2", &request()),
        ];
        let edits: Vec<fn(&mut ChatRequest)> = vec![
            |r| r.system = None,
            |r| r.system = Some("sys2".into()),
            |r| r.messages[0].content = "hi!".into(),
            |r| r.messages[0].role = Role::Assistant,
            |r| {
                r.messages.push(Message {
                    role: Role::User,
                    content: String::new(),
                })
            },
            |r| r.temperature = None,
            |r| r.temperature = Some(0.3),
            |r| r.max_tokens = Some(101),
            |r| r.max_tokens = None,
            |r| r.json_schema = None,
            |r| r.json_schema = Some(serde_json::json!({"type": "array"})),
        ];
        for edit in &edits {
            let mut r = request();
            edit(&mut r);
            variants.push(key("openai", "http://h/v1", "m", &r));
        }
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(*v, base, "variant {i} kept the key");
        }
        // Content split differently across fields is a different key.
        let mut a = request();
        a.system = Some("ab".into());
        a.messages[0].content = "c".into();
        let mut b = request();
        b.system = Some("a".into());
        b.messages[0].content = "bc".into();
        assert_ne!(key("openai", "u", "m", &a), key("openai", "u", "m", &b));
    }
}
