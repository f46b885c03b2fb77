//! The LLM response cache (contract §7) through the real server binary,
//! against a real fake provider over HTTP that counts what it receives, on
//! SQLite and PostgreSQL (`both_backends!`).
//!
//! What "identical" means is the gateway's key (provider, base URL, model
//! asked, system, messages, temperature, max tokens, schema); these tests
//! vary what a deployment can vary (provider, model, endpoint, API key) and
//! what a request can (its prompt, its bypass choices).

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::pg::{self, Backend};
use common::providers::{FakeProvider, Reply, Wire};
use common::{Options, Resp, Server, wait_until};
use serde_json::{Value, json};

/// An analyze critique naming the provider call that produced it, so a
/// test can tell which answer it was served.
fn critique(call: usize) -> Reply {
    Reply::Text(
        json!({ "issues": [], "suggestions": [format!("Answer number {call} of the provider.")] })
            .to_string(),
    )
}

/// The provider call an analyze answer came from (see [`critique`]).
fn answer_of(r: &Resp) -> Option<u64> {
    r.json["suggestions"].as_array()?.iter().find_map(|s| {
        s.as_str()?
            .strip_prefix("Answer number ")?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

fn analyze(prompt: &str) -> Value {
    json!({ "prompt": prompt, "use_llm": true })
}

const PROMPT: &str = "Summarize the attached meeting notes for the leadership team.";

/// Options for `wire` against `fake` with the cache on, storing in `backend`.
async fn cached(fake: &FakeProvider, wire: Wire, backend: Backend) -> Options {
    fake.options(wire)
        .env("PROMPTSCULPTOR_LLM_CACHE", "on")
        .backend(backend)
        .await
}

/// `name`'s value in the `/metrics` text, when present.
async fn metric(s: &Server, name: &str) -> Option<f64> {
    let text = s.get("/metrics").await.text;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Cache rows in the server's store.
async fn rows(s: &Server, sql: &str) -> i64 {
    match &s.database_url {
        Some(url) => pg::query_i64(url, sql).await,
        None => sqlite(s)
            .query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
            .expect(sql)
            .unwrap_or(0),
    }
}

/// Run `sql` on the server's store, behind its back.
async fn exec(s: &Server, sql: &str) {
    match &s.database_url {
        Some(url) => pg::execute(url, sql).await,
        None => sqlite(s).execute_batch(sql).expect(sql),
    }
}

fn sqlite(s: &Server) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(&s.db_path).expect("open the server's SQLite file");
    c.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    c
}

/// Wait until the store holds `n` entries, the last of them the
/// `puts`-th ever stored (answers are written after the response).
async fn wait_stored(s: &Server, n: i64, puts: i64) {
    wait_until(Duration::from_secs(10), "cache rows", || async {
        let (count, newest) = (
            rows(s, "SELECT count(*) FROM llm_cache").await,
            rows(s, "SELECT coalesce(max(seq), 0) FROM llm_cache").await,
        );
        if count == n && newest >= puts {
            Ok(())
        } else {
            Err(format!("{count} rows, newest seq {newest}"))
        }
    })
    .await;
}

both_backends!(
    /// A repeated call is answered from the store: no provider request, no
    /// tokens billed, counted in `cached_llm_calls` and in the metrics.
    async fn a_repeat_is_a_hit(backend: Backend) {
        let fake = FakeProvider::start(|i, _| critique(i)).await;
        let s = Server::start(cached(&fake, Wire::OpenAi, backend).await).await;
        s.wait_ready_on(backend).await;
        assert_eq!(
            metric(&s, "promptsculptor_llm_cache_hits_total").await,
            Some(0.0)
        );
        let first = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
        assert_eq!(first.status, 200, "{}", first.text);
        let calls = fake.received().len();
        assert_eq!(calls, 1, "one LLM call per analyze");
        assert_eq!(first.json["usage"]["llm_calls"], 1);
        assert_eq!(first.json["usage"]["cached_llm_calls"], 0);
        assert_eq!(first.json["usage"]["input_tokens"], Wire::OpenAi.usage().0);
        wait_stored(&s, 1, 1).await;
        let again = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(fake.received().len(), 1, "served from the cache");
        assert_eq!(answer_of(&again), Some(0), "{}", again.text);
        assert_eq!(again.json["usage"]["llm_calls"], 1);
        assert_eq!(again.json["usage"]["cached_llm_calls"], 1);
        assert_eq!(again.json["usage"]["input_tokens"], 0);
        assert_eq!(again.json["usage"]["output_tokens"], 0);
        assert_eq!(again.json["usage"]["model"], Wire::OpenAi.answering_model());
        // Everything else of the answer is what the first call answered.
        assert_eq!(again.json["issues"], first.json["issues"]);
        // Another prompt is another request to the provider.
        let other = s
            .post("/api/v1/analyze", &analyze("Draft a haiku about rain."))
            .await;
        assert_eq!(answer_of(&other), Some(1), "{}", other.text);
        wait_stored(&s, 2, 2).await;
        assert_eq!(
            metric(&s, "promptsculptor_llm_cache_hits_total").await,
            Some(1.0)
        );
        assert_eq!(
            metric(&s, "promptsculptor_llm_cache_misses_total").await,
            Some(2.0)
        );
        assert_eq!(
            metric(&s, "promptsculptor_llm_cache_entries").await,
            Some(2.0)
        );
        // Neither the key nor the row holds the API key.
        let leaked = rows(
            &s,
            &format!(
                "SELECT count(*) FROM llm_cache WHERE key || provider || model || text LIKE '%{}%'",
                Wire::OpenAi.key()
            ),
        )
        .await;
        assert_eq!(leaked, 0);
    }
);

both_backends!(
    /// Another provider, model or endpoint never gets an answer stored for
    /// one; another API key for the same endpoint and model does.
    async fn another_provider_model_or_endpoint_is_never_served(backend: Backend) {
        let fake = FakeProvider::start(|i, _| critique(i)).await;
        let dir = tempfile::tempdir().expect("tmp");
        let base = Options {
            db: Some(dir.path().join("shared.db")),
            ..Options::default()
        }
        .backend(backend)
        .await;
        // One store, one server at a time, each configured differently.
        let serve = |wire: Wire, extra: Vec<(&'static str, String)>| {
            let mut opts = fake.options(wire).env("PROMPTSCULPTOR_LLM_CACHE", "on");
            opts.db = base.db.clone();
            opts.test_database = base.test_database.clone();
            if let Some(db) = &base.test_database {
                opts = opts.database(&db.url);
            }
            for (k, v) in extra {
                opts = opts.env(k, &v);
            }
            Server::start(opts)
        };
        let ask = async |s: &Server| {
            s.wait_ready_on(backend).await;
            let r = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r
        };
        let s = serve(Wire::OpenAi, vec![]).await;
        assert_eq!(answer_of(&ask(&s).await), Some(0));
        wait_stored(&s, 1, 1).await;
        drop(s);
        let s = serve(
            Wire::OpenAi,
            vec![("PROMPTSCULPTOR_LLM_MODEL", "other-model".into())],
        )
        .await;
        assert_eq!(answer_of(&ask(&s).await), Some(1), "another model asks");
        assert_eq!(fake.received()[1].body["model"], "other-model");
        wait_stored(&s, 2, 2).await;
        drop(s);
        // Same host and path as OpenAI's, another provider.
        let s = serve(Wire::Anthropic, vec![]).await;
        assert_eq!(answer_of(&ask(&s).await), Some(2), "another provider asks");
        wait_stored(&s, 3, 3).await;
        drop(s);
        // Same provider and model, another endpoint.
        let elsewhere = FakeProvider::start(|_, _| critique(100)).await;
        let s = serve(
            Wire::OpenAi,
            vec![(
                "PROMPTSCULPTOR_LLM_BASE_URL",
                elsewhere.base_url(Wire::OpenAi),
            )],
        )
        .await;
        assert_eq!(
            answer_of(&ask(&s).await),
            Some(100),
            "another endpoint asks"
        );
        assert_eq!(elsewhere.received().len(), 1);
        wait_stored(&s, 4, 4).await;
        drop(s);
        // Another key for the first configuration: the key is not part of
        // what is asked, so the first answer serves it, from the store a
        // restart did not empty.
        let s = serve(
            Wire::OpenAi,
            vec![("OPENAI_API_KEY", "sk-another-key-of-the-same-team".into())],
        )
        .await;
        let r = ask(&s).await;
        assert_eq!(answer_of(&r), Some(0), "{}", r.text);
        assert_eq!(r.json["usage"]["cached_llm_calls"], 1);
        assert_eq!(fake.received().len(), 3);
    }
);

both_backends!(
    /// An entry older than `PROMPTSCULPTOR_LLM_CACHE_TTL_SECS` is not
    /// served; the provider's fresh answer replaces it. (The entry is aged
    /// in the database rather than by waiting.)
    async fn an_expired_entry_is_asked_again(backend: Backend) {
        let fake = FakeProvider::start(|i, _| critique(i)).await;
        let opts = cached(&fake, Wire::OpenAi, backend)
            .await
            .env("PROMPTSCULPTOR_LLM_CACHE_TTL_SECS", "60");
        let s = Server::start(opts).await;
        s.wait_ready_on(backend).await;
        s.post("/api/v1/analyze", &analyze(PROMPT)).await;
        wait_stored(&s, 1, 1).await;
        exec(&s, "UPDATE llm_cache SET created_ms = created_ms - 50000").await;
        let r = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
        assert_eq!(answer_of(&r), Some(0), "50 s old, TTL 60 s: served");
        exec(&s, "UPDATE llm_cache SET created_ms = created_ms - 11000").await;
        let r = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
        assert_eq!(answer_of(&r), Some(1), "61 s old: asked again");
        assert_eq!(r.json["usage"]["cached_llm_calls"], 0);
        wait_stored(&s, 1, 2).await;
        let r = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
        assert_eq!(answer_of(&r), Some(1), "the fresh answer replaced it");
        assert_eq!(fake.received().len(), 2);
    }
);

both_backends!(
    /// `PROMPTSCULPTOR_LLM_CACHE_MAX_ENTRIES` bounds the store; the oldest
    /// entry goes first.
    async fn the_oldest_entry_is_evicted(backend: Backend) {
        let fake = FakeProvider::start(|i, _| critique(i)).await;
        let opts = cached(&fake, Wire::OpenAi, backend)
            .await
            .env("PROMPTSCULPTOR_LLM_CACHE_MAX_ENTRIES", "2");
        let s = Server::start(opts).await;
        s.wait_ready_on(backend).await;
        let prompts = [
            "Write a limerick about a cat.",
            "Write a sonnet about a dog.",
            "Write an ode to a goldfish.",
        ];
        for (i, p) in prompts.iter().enumerate() {
            let r = s.post("/api/v1/analyze", &analyze(p)).await;
            assert_eq!(answer_of(&r), Some(i as u64), "{}", r.text);
            wait_stored(&s, (i as i64 + 1).min(2), i as i64 + 1).await;
        }
        assert_eq!(
            metric(&s, "promptsculptor_llm_cache_entries").await,
            Some(2.0)
        );
        // The newest two are served, the first was dropped.
        let r = s.post("/api/v1/analyze", &analyze(prompts[2])).await;
        assert_eq!(answer_of(&r), Some(2));
        let r = s.post("/api/v1/analyze", &analyze(prompts[1])).await;
        assert_eq!(answer_of(&r), Some(1));
        assert_eq!(fake.received().len(), 3);
        let r = s.post("/api/v1/analyze", &analyze(prompts[0])).await;
        assert_eq!(answer_of(&r), Some(3), "evicted, so asked again");
        wait_until(Duration::from_secs(10), "the re-stored entry", || async {
            let n = rows(&s, "SELECT count(*) FROM llm_cache").await;
            let newest = rows(&s, "SELECT coalesce(max(seq), 0) FROM llm_cache").await;
            let oldest = rows(&s, "SELECT coalesce(min(seq), 0) FROM llm_cache").await;
            // Storing the first again evicted the second (now the oldest).
            if n == 2 && newest >= 4 && oldest >= 3 {
                Ok(())
            } else {
                Err(format!("{n} rows, seq {oldest}..={newest}"))
            }
        })
        .await;
        assert_eq!(
            metric(&s, "promptsculptor_llm_cache_entries").await,
            Some(2.0)
        );
    }
);

both_backends!(
    multi_thread async fn concurrent_identical_misses_make_one_provider_call(backend: Backend) {
        // Slow enough that every request arrives while the first waits.
        let fake = FakeProvider::start(|i, _| {
            Reply::Delay(Duration::from_millis(800), Box::new(critique(i)))
        })
        .await;
        let s = Server::start(cached(&fake, Wire::OpenAi, backend).await).await;
        s.wait_ready_on(backend).await;
        let n = 8;
        let body = analyze(PROMPT);
        let answers =
            futures_util::future::join_all((0..n).map(|_| s.post("/api/v1/analyze", &body))).await;
        assert_eq!(fake.received().len(), 1, "one provider call for {n} requests");
        let mut cached_calls = 0;
        for r in &answers {
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(answer_of(r), Some(0));
            cached_calls += r.json["usage"]["cached_llm_calls"].as_u64().unwrap_or(0);
        }
        assert_eq!(cached_calls, n - 1, "all but the leader shared its answer");
        assert_eq!(metric(&s, "promptsculptor_llm_cache_misses_total").await, Some(1.0));
        assert_eq!(
            metric(&s, "promptsculptor_llm_cache_hits_total").await,
            Some((n - 1) as f64)
        );
    }
);

/// A failed provider call is shared with the calls waiting on it, and then
/// forgotten: the next call asks again, and only its success is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_is_shared_with_its_waiters_only() {
    let fake = FakeProvider::start(|i, _| match i {
        // 401: not retried, no structured-output fallback: one request.
        0 => Reply::Delay(
            Duration::from_millis(800),
            Box::new(Reply::Status(
                401,
                json!({"error": {"message": "bad key"}}).to_string(),
                None,
            )),
        ),
        i => critique(i),
    })
    .await;
    let s = Server::start(cached(&fake, Wire::OpenAi, Backend::Sqlite).await).await;
    let body = analyze(PROMPT);
    let failed =
        futures_util::future::join_all((0..4).map(|_| s.post("/api/v1/analyze", &body))).await;
    assert_eq!(fake.received().len(), 1, "the waiters shared the failure");
    for r in &failed {
        assert_eq!(r.status, failed[0].status, "{}", r.text);
        assert_eq!(answer_of(r), None, "{}", r.text);
    }
    let r = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
    assert_eq!(
        answer_of(&r),
        Some(1),
        "the error was not cached: {}",
        r.text
    );
    wait_stored(&s, 1, 1).await;
    let r = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
    assert_eq!(answer_of(&r), Some(1));
    assert_eq!(fake.received().len(), 2);
}

/// `"cache": false` and `Cache-Control: no-cache` skip the lookup and store
/// the fresh answer (refreshing the entry); `no-store` keeps an answer out.
/// All three operations declare the field.
#[tokio::test]
async fn bypass_by_body_or_header() {
    let fake = FakeProvider::start(|i, _| critique(i)).await;
    let s = Server::start(cached(&fake, Wire::OpenAi, Backend::Sqlite).await).await;
    let post_with = async |body: Value, cache_control: Option<&str>| {
        let r = s
            .raw(|c, base| {
                let b = c.post(format!("{base}/api/v1/analyze")).json(&body);
                match cache_control {
                    Some(v) => b.header("cache-control", v),
                    None => b,
                }
            })
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r
    };
    let plain = || analyze(PROMPT);
    let no_cache = || {
        let mut b = analyze(PROMPT);
        b["cache"] = json!(false);
        b
    };
    assert_eq!(answer_of(&post_with(plain(), None).await), Some(0));
    wait_stored(&s, 1, 1).await;
    // The body's field: asked again, and the fresh answer is what is served next.
    let r = post_with(no_cache(), None).await;
    assert_eq!(answer_of(&r), Some(1));
    assert_eq!(r.json["usage"]["cached_llm_calls"], 0);
    wait_stored(&s, 1, 2).await;
    assert_eq!(answer_of(&post_with(plain(), None).await), Some(1));
    // The header, with a directive list and odd case.
    let r = post_with(plain(), Some("max-age=0, No-Cache")).await;
    assert_eq!(answer_of(&r), Some(2));
    wait_stored(&s, 1, 3).await;
    assert_eq!(answer_of(&post_with(plain(), None).await), Some(2));
    // no-store with no-cache: asked, and the entry is left as it was.
    assert_eq!(
        answer_of(&post_with(plain(), Some("no-cache, no-store")).await),
        Some(3)
    );
    // no-store alone still reads.
    assert_eq!(
        answer_of(&post_with(plain(), Some("no-store")).await),
        Some(2)
    );
    assert_eq!(answer_of(&post_with(plain(), None).await), Some(2));
    assert_eq!(fake.received().len(), 4);
    assert_eq!(
        rows(&s, "SELECT coalesce(max(seq), 0) FROM llm_cache").await,
        3
    );
    // `cache` is a declared field of remix and create too (unknown fields are 422).
    for (path, body) in [
        (
            "/api/v1/remix",
            json!({ "prompt": "Explain {{topic}}.", "style": "concise", "use_llm": false, "cache": false }),
        ),
        (
            "/api/v1/create",
            json!({ "goal": "Summarize a document", "use_llm": false, "cache": true }),
        ),
    ] {
        let r = s.post(path, &body).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.json["usage"]["cached_llm_calls"], 0, "{path}");
    }
    s.post(
        "/api/v1/analyze",
        &json!({ "prompt": PROMPT, "cache": "no" }),
    )
    .await
    .assert_error(400, "invalid_type");
    // The OpenAPI document names the field and the usage counter.
    let doc = s.get("/openapi.json").await.json;
    for body in ["AnalyzeBody", "RemixBody", "CreateBody"] {
        let kind = &doc["components"]["schemas"][body]["properties"]["cache"]["type"];
        assert!(
            kind == "boolean"
                || kind
                    .as_array()
                    .is_some_and(|k| k.contains(&json!("boolean"))),
            "{body}: {kind}"
        );
    }
    assert!(doc["components"]["schemas"]["UsageDto"]["properties"]["cached_llm_calls"].is_object());
}

/// Off unless `PROMPTSCULPTOR_LLM_CACHE=on`: every call asks the provider
/// and nothing is stored.
#[tokio::test]
async fn off_by_default() {
    let fake = FakeProvider::start(|i, _| critique(i)).await;
    let s = Server::start(fake.options(Wire::OpenAi)).await;
    for i in 0..2 {
        let r = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
        assert_eq!(answer_of(&r), Some(i), "{}", r.text);
        assert_eq!(r.json["usage"]["cached_llm_calls"], 0);
    }
    assert_eq!(rows(&s, "SELECT count(*) FROM llm_cache").await, 0);
    assert_eq!(
        metric(&s, "promptsculptor_llm_cache_misses_total").await,
        None
    );
}

both_backends!(
    /// A cache whose table is gone (any database failure on the cache path)
    /// costs the call nothing but the cache: the provider answers, with a
    /// warning in the log.
    async fn a_broken_cache_table_does_not_fail_the_call(backend: Backend) {
        let fake = FakeProvider::start(|i, _| critique(i)).await;
        let s = Server::start(cached(&fake, Wire::OpenAi, backend).await).await;
        s.wait_ready_on(backend).await;
        exec(&s, "DROP TABLE llm_cache").await;
        for i in 0..2 {
            let r = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(answer_of(&r), Some(i));
            // The next call would share this one's answer while its (failing)
            // write is under way: wait for the write to have failed.
            wait_until(Duration::from_secs(10), "the write warning", || async {
                let n = s.log_text().matches("LLM cache write failed").count();
                if n > i as usize {
                    Ok(())
                } else {
                    Err(format!("{n} warnings"))
                }
            })
            .await;
        }
        assert_eq!(fake.received().len(), 2);
        wait_until(Duration::from_secs(10), "both warnings", || async {
            let log = s.log_text();
            match (
                log.contains("LLM cache lookup failed"),
                log.contains("LLM cache write failed"),
            ) {
                (true, true) => Ok(()),
                found => Err(format!("(lookup, write) warnings: {found:?}")),
            }
        })
        .await;
        assert!(!s.log_text().contains(Wire::OpenAi.key()));
    }
);

/// Each wire format's answers are cached alike (the key carries the
/// provider's name and base URL; the stored text is the provider-neutral
/// completion).
#[tokio::test]
async fn all_three_providers_are_cached() {
    for wire in Wire::ALL {
        let fake = FakeProvider::start(|i, _| critique(i)).await;
        let s = Server::start(cached(&fake, wire, Backend::Sqlite).await).await;
        let first = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
        assert_eq!(answer_of(&first), Some(0), "{wire:?}: {}", first.text);
        wait_stored(&s, 1, 1).await;
        let again = s.post("/api/v1/analyze", &analyze(PROMPT)).await;
        assert_eq!(answer_of(&again), Some(0), "{wire:?}: {}", again.text);
        assert_eq!(again.json["usage"]["cached_llm_calls"], 1, "{wire:?}");
        assert_eq!(again.json["usage"]["model"], wire.answering_model());
        assert_eq!(fake.received().len(), 1, "{wire:?}");
    }
}
