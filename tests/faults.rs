//! The fault and abuse campaign (issue 8): hostile plugins, failing
//! providers, crashes during writes, concurrent writers, and the security
//! boundaries, all against the real server binary. `RELIABILITY.md` lists
//! every scenario with its command and result.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use common::llm::{FakeLlm, Reply, TEST_KEY};
use common::rawhttp::{Fault, RawProvider};
use common::{Options, Resp, Server, percentile, suggestions};
use serde_json::{Value, json};

const VAGUE: &str =
    "Write some stuff about our product and a few things customers might like, etc.";

fn evil_opts() -> Options {
    Options::default()
        .plugins(&["analyze", "remix", "create", "evil", "faulty"])
        .env("PROMPTSCULPTOR_PLUGIN_TIMEOUT_SECS", "2")
        .env("PROMPTSCULPTOR_PLUGIN_MEMORY_MB", "64")
        .env("PROMPTSCULPTOR_PLUGIN_MAX_LLM_CALLS", "3")
        .env("RUST_LOG", "info")
}

fn evil(prompt: &str) -> Value {
    json!({ "prompt": prompt, "strategy": "evil", "use_llm": false })
}

/// The value of `promptsculptor_http_requests_in_flight` as seen by a
/// `/metrics` request (which counts itself: idle is 1).
async fn in_flight(s: &Server) -> i64 {
    let m = s.get("/metrics").await;
    assert_eq!(m.status, 200);
    m.text
        .lines()
        .find_map(|l| l.strip_prefix("promptsculptor_http_requests_in_flight "))
        .and_then(|v| v.trim().parse().ok())
        .expect("in-flight gauge present")
}

/// Wait (briefly) for the in-flight gauge to come back to idle; fail with
/// the last value seen otherwise.
async fn assert_idle(s: &Server) {
    let started = Instant::now();
    let mut last = 0;
    while started.elapsed() < Duration::from_secs(10) {
        last = in_flight(s).await;
        if last == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("in-flight gauge stuck at {last} (idle is 1): a request or task leaked");
}

// ---------------------------------------------------------------- evil plugins

/// Every attack of the evil plugin ends only its own call, with the
/// contract's error or a refusal the plugin reports, while a stream of
/// ordinary requests keeps being answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evil_plugins_end_only_their_own_call() {
    let s = Arc::new(Server::start(evil_opts()).await);
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let trap_addr = trap.local_addr().expect("addr");
    let touched = Arc::new(Mutex::new(0usize));
    let t = Arc::clone(&touched);
    let trap_task = tokio::spawn(async move {
        while trap.accept().await.is_ok() {
            if let Ok(mut n) = t.lock() {
                *n += 1;
            }
        }
    });
    let abs_probe = std::path::Path::new("/tmp/evil-was-here.txt");
    let abs_existed = abs_probe.exists();

    // Ordinary traffic during the whole attack.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let background = {
        let (s, stop) = (Arc::clone(&s), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                statuses.push(
                    s.post("/api/v1/analyze", &json!({ "prompt": VAGUE }))
                        .await
                        .status,
                );
            }
            statuses
        })
    };

    // (prompt, expected status, expected code or None for 200)
    let net = format!("net {trap_addr}");
    let cases: Vec<(&str, u16, Option<&str>)> = vec![
        ("giant", 500, Some("plugin_invalid_result")),
        ("many-issues", 500, Some("plugin_invalid_result")),
        (net.as_str(), 200, None),
        ("fs-write", 200, None),
        ("spin-yield", 504, Some("plugin_timeout")),
        ("styles-spin", 504, Some("plugin_timeout")),
        ("deep-recursion", 500, Some("plugin_failed")),
        ("sleep", 504, Some("plugin_timeout")),
        ("exit", 500, Some("plugin_failed")),
        ("stdout-flood", 200, None),
        ("huge-alloc", 500, Some("plugin_limit_exceeded")),
    ];
    let started = Instant::now();
    let answers = futures_util::future::join_all(cases.iter().map(|(prompt, _, _)| {
        let s = Arc::clone(&s);
        let body = evil(prompt);
        async move { s.post("/api/v1/analyze", &body).await }
    }))
    .await;
    let attack_time = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let statuses = background.await.expect("background task");

    for ((prompt, status, code), r) in cases.iter().zip(&answers) {
        match code {
            Some(code) => {
                let msg = r.assert_error(*status, code);
                assert!(msg.contains("evil"), "{prompt}: names the plugin: {msg}");
                // An error body is small whatever the plugin tried to send.
                assert!(r.text.len() < 4096, "{prompt}: {} bytes", r.text.len());
            }
            None => assert_eq!(r.status, *status, "{prompt}: {}", r.text),
        }
    }
    let giant = &answers[0].json["error"]["message"];
    assert!(
        giant.as_str().unwrap_or("").contains("cap"),
        "giant: {giant}"
    );
    let net_seen = suggestions(&answers[2]);
    assert_eq!(net_seen.len(), 3, "{net_seen:?}");
    for probe in &net_seen {
        assert!(probe.contains(":denied:"), "network reached: {net_seen:?}");
    }
    let fs_seen = suggestions(&answers[3]);
    assert_eq!(fs_seen.len(), 3, "{fs_seen:?}");
    for probe in &fs_seen {
        assert!(
            probe.starts_with("fs:denied"),
            "filesystem written: {fs_seen:?}"
        );
    }
    assert!(!s.dir.path().join("evil-was-here.txt").exists());
    assert!(!s.plugins_dir().join("evil-was-here.txt").exists());
    assert_eq!(abs_probe.exists(), abs_existed, "/tmp file created");
    assert_eq!(suggestions(&answers[9]), vec!["flooded".to_string()]);
    // A sentinel connection of our own, made after every answer: the trap
    // accepts in arrival order, so once it counts ours it has counted any
    // connection the plugin made; only ours may be there.
    let _sentinel = tokio::net::TcpStream::connect(trap_addr)
        .await
        .expect("sentinel connect");
    common::wait_until(Duration::from_secs(10), "the sentinel accepted", || {
        let n = *touched.lock().expect("lock");
        async move {
            if n >= 1 {
                Ok(())
            } else {
                Err(format!("{n} accepted"))
            }
        }
    })
    .await;
    assert_eq!(
        *touched.lock().expect("lock"),
        1,
        "the plugin reached a socket"
    );
    trap_task.abort();

    // The host's log stayed bounded: 200 `log` lines per call, 100 lines
    // per output stream.
    let log = s.log_text();
    let spins = log.lines().filter(|l| l.contains("evil spin")).count();
    assert!((1..=200).contains(&spins), "{spins} spin lines logged");
    let floods = log.lines().filter(|l| l.contains("flood flood")).count();
    assert!((1..=200).contains(&floods), "{floods} flood lines logged");

    // Ordinary requests were answered throughout, all of them.
    assert!(!statuses.is_empty());
    assert!(
        statuses.iter().all(|&st| st == 200),
        "ordinary requests failed during the attack: {statuses:?}"
    );
    assert!(attack_time < Duration::from_secs(30), "{attack_time:?}");
    // Every plugin, the attacker included, still answers.
    let again = s.post("/api/v1/analyze", &evil("hello")).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(suggestions(&again), vec!["ok".to_string()]);
    assert_eq!(s.get("/readyz").await.status, 200);
    assert_idle(&s).await;
}

/// Latency of ordinary requests while evil plugins spin, recurse and send
/// giant results on the same server; the numbers go to RELIABILITY.md (run
/// with `--nocapture`). Asserted: every ordinary request answered 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_of_others_under_evil_load() {
    let s = Arc::new(Server::start(evil_opts()).await);
    const N: usize = 300;
    const CONCURRENCY: usize = 8;

    async fn measure(s: &Arc<Server>) -> (Vec<Duration>, Vec<u16>) {
        let times = Arc::new(Mutex::new(Vec::with_capacity(N)));
        let statuses = Arc::new(Mutex::new(Vec::with_capacity(N)));
        let workers = (0..CONCURRENCY).map(|_| {
            let (s, times, statuses) = (Arc::clone(s), Arc::clone(&times), Arc::clone(&statuses));
            async move {
                for _ in 0..N / CONCURRENCY {
                    let t = Instant::now();
                    let r = s.post("/api/v1/analyze", &json!({ "prompt": VAGUE })).await;
                    let d = t.elapsed();
                    times.lock().expect("lock").push(d);
                    statuses.lock().expect("lock").push(r.status);
                }
            }
        });
        futures_util::future::join_all(workers).await;
        let mut t = times.lock().expect("lock").clone();
        t.sort();
        let st = statuses.lock().expect("lock").clone();
        (t, st)
    }

    // Warm-up (first instantiations, connection pool).
    for _ in 0..20 {
        s.post("/api/v1/analyze", &json!({ "prompt": VAGUE })).await;
    }
    let (base, base_status) = measure(&s).await;

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Evil calls answered so far, all attackers together.
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let attackers: Vec<_> = ["spin-yield", "deep-recursion", "giant", "sleep"]
        .into_iter()
        .map(|mode| {
            let (s, stop, answered) = (Arc::clone(&s), Arc::clone(&stop), Arc::clone(&answered));
            tokio::spawn(async move {
                let mut n = 0usize;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let r = s.post("/api/v1/analyze", &evil(mode)).await;
                    assert!(
                        [500, 504].contains(&r.status),
                        "{mode}: {} {}",
                        r.status,
                        r.text
                    );
                    n += 1;
                    answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                n
            })
        })
        .collect();
    // Measure only once the attack runs: the evil plugin has already ended
    // calls with its errors (the quick traps), and the long attacks (spin,
    // sleep) hold calls in the server (the gauge counts those and the
    // /metrics probe).
    common::wait_until(Duration::from_secs(10), "the attack to run", || {
        let (s, answered) = (Arc::clone(&s), Arc::clone(&answered));
        async move {
            let (done, now) = (
                answered.load(std::sync::atomic::Ordering::SeqCst),
                in_flight(&s).await,
            );
            if done >= 2 && now >= 3 {
                Ok(())
            } else {
                Err(format!("{done} evil calls answered, {now} in flight"))
            }
        }
    })
    .await;
    let (loaded, loaded_status) = measure(&s).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut attacks = 0;
    for a in attackers {
        attacks += a.await.expect("attacker");
    }

    assert!(base_status.iter().all(|&st| st == 200), "{base_status:?}");
    assert!(
        loaded_status.iter().all(|&st| st == 200),
        "ordinary requests failed under attack: {loaded_status:?}"
    );
    eprintln!(
        "LATENCY analyze (deterministic, {N} requests, {CONCURRENCY} concurrent): \
         normal p50 {:?} p99 {:?} max {:?} | under attack ({attacks} evil calls: \
         spin-yield, deep-recursion, giant, sleep) p50 {:?} p99 {:?} max {:?}",
        percentile(&base, 0.5),
        percentile(&base, 0.99),
        base.last().copied().unwrap_or_default(),
        percentile(&loaded, 0.5),
        percentile(&loaded, 0.99),
        loaded.last().copied().unwrap_or_default(),
    );
    // Generous: even a loaded debug build answers within the plugin deadline.
    assert!(percentile(&loaded, 0.99) < Duration::from_secs(2));
    assert_idle(&s).await;
}

// ------------------------------------------------------------ provider faults

fn llm_analyze() -> Value {
    json!({ "prompt": "Summarise the text for {{audience}}.", "use_llm": true })
}

/// Bodies cut short, connections dropped before or during the answer,
/// half JSON, and bodies too large to read: each maps to the contract's
/// status, transport failures are retried, and nothing stays in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_transport_faults_map_to_contract_errors() {
    // (fault, status, code, attempts expected: exactly, or at least)
    let cases: Vec<(Fault, u16, &str, usize)> = vec![
        (Fault::DropBeforeAnswer, 503, "llm_unavailable", 4),
        (Fault::DropMidHeaders, 503, "llm_unavailable", 4),
        (
            Fault::Truncated {
                declared: 5000,
                sent: 60,
            },
            503,
            "llm_unavailable",
            4,
        ),
        (Fault::HalfJson, 502, "llm_bad_response", 1),
        (
            Fault::Huge {
                bytes: 64 * 1024 * 1024,
            },
            502,
            "llm_bad_response",
            1,
        ),
        (Fault::Endless, 502, "llm_bad_response", 1),
    ];
    for (fault, status, code, attempts) in cases {
        let fake = RawProvider::start(fault.clone()).await;
        let s = Server::start(
            Options::default()
                .llm(&fake.base_url)
                .env("PROMPTSCULPTOR_LLM_TIMEOUT_SECS", "20"),
        )
        .await;
        let started = Instant::now();
        let r = s.post("/api/v1/analyze", &llm_analyze()).await;
        let msg = r.assert_error(status, code);
        assert_eq!(
            fake.connections(),
            attempts,
            "{fault:?}: attempts; message: {msg}"
        );
        if matches!(fault, Fault::Huge { .. } | Fault::Endless) {
            assert!(msg.contains("cap"), "{fault:?}: {msg}");
        }
        if matches!(fault, Fault::Endless) {
            // The host hung up soon after its cap: once the fake's write
            // fails, it could not have pushed much more than the cap plus
            // socket buffers.
            common::wait_until(Duration::from_secs(10), "the host to hang up", || async {
                match fake.closed() {
                    0 => Err(format!(
                        "still writing, {} bytes so far",
                        fake.written.load(std::sync::atomic::Ordering::SeqCst)
                    )),
                    _ => Ok(()),
                }
            })
            .await;
            let written = fake.written.load(std::sync::atomic::Ordering::SeqCst);
            assert!(written < 64 * 1024 * 1024, "{written} bytes pushed");
        }
        assert!(started.elapsed() < Duration::from_secs(15), "{fault:?}");
        // The server serves on, deterministic and otherwise.
        let ok = s
            .post(
                "/api/v1/analyze",
                &json!({ "prompt": VAGUE, "use_llm": false }),
            )
            .await;
        assert_eq!(ok.status, 200, "{fault:?}");
        assert_idle(&s).await;
    }
}

/// Many concurrent requests against a provider that rate-limits every call:
/// each ends in 429 `llm_rate_limited` with `Retry-After`, the retry cap
/// bounds the calls, and nothing stays in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_bounded_and_leaves_nothing_in_flight() {
    let llm = FakeLlm::start(|_, _| {
        Reply::Status(429, r#"{"error":{"message":"slow down"}}"#.into(), Some(1))
    })
    .await;
    let s = Arc::new(
        Server::start(
            Options::default()
                .llm(&llm.base_url)
                .env("PROMPTSCULPTOR_LLM_TIMEOUT_SECS", "10"),
        )
        .await,
    );
    const CLIENTS: usize = 40;
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..CLIENTS).map(|i| {
        let s = Arc::clone(&s);
        async move {
            match i % 3 {
                0 => s.post("/api/v1/analyze", &llm_analyze()).await,
                1 => {
                    s.post(
                        "/api/v1/remix",
                        &json!({ "prompt": "Sum up {{doc}}.", "style": "concise", "use_llm": true }),
                    )
                    .await
                }
                _ => {
                    s.post(
                        "/api/v1/create",
                        &json!({ "goal": "Classify tickets", "use_llm": true }),
                    )
                    .await
                }
            }
        }
    }))
    .await;
    for r in &answers {
        r.assert_error(429, "llm_rate_limited");
        assert_eq!(r.header("retry-after"), Some("1"), "{}", r.text);
    }
    // 4 attempts per LLM call at most, Retry-After: 1 s between them.
    let calls = llm.received().len();
    assert!(
        (CLIENTS..=CLIENTS * 4).contains(&calls),
        "{calls} provider calls for {CLIENTS} requests"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    eprintln!(
        "429 STORM: {CLIENTS} requests, {calls} provider calls, {:?}",
        started.elapsed()
    );
    assert_idle(&s).await;
}

// ---------------------------------------------------------------- durability

fn style_body(name: &str) -> Value {
    json!({ "name": name, "description": format!("style {name}"),
            "instructions": format!("Rewrite as {name}; keep every {{{{variable}}}}."),
            "examples": [{ "before": "a", "after": name }] })
}

/// SIGKILL during a burst of style writes: every write acknowledged with
/// 201 is there after a restart, and SQLite's integrity check passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_loses_no_acknowledged_style() {
    let db_dir = tempfile::tempdir().expect("tmp");
    let db = db_dir.path().join("styles.db");
    let opts = Options {
        db: Some(db.clone()),
        ..Options::default()
    };
    let mut s = Server::start(opts.clone()).await;
    let (base, http) = (s.base.clone(), s.http.clone());
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (base, http, acked) = (base.clone(), http.clone(), Arc::clone(&acked));
            tokio::spawn(async move {
                for i in 0..10_000 {
                    let name = format!("crash-{w}-{i}");
                    let sent = http
                        .post(format!("{base}/api/v1/styles"))
                        .json(&style_body(&name))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().as_u16() == 201 => {
                            acked.lock().expect("lock").push(name)
                        }
                        Ok(r) => panic!("unexpected {} for {name}", r.status()),
                        // The server died under us: this write was never
                        // acknowledged, and may or may not be stored.
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    // Let the burst run, then kill without warning mid-write.
    while acked.lock().expect("lock").len() < 150 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    s.kill();
    for w in writers {
        w.await.expect("writer");
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 150);

    // Straight from the file, as left by the crash (WAL recovery included).
    {
        let conn = rusqlite::Connection::open(&db).expect("open db");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(check, "ok");
        let mut stmt = conn
            .prepare("SELECT name FROM styles WHERE source = 'user'")
            .expect("prepare");
        let stored: std::collections::HashSet<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let lost: Vec<&String> = acked.iter().filter(|n| !stored.contains(*n)).collect();
        assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
        eprintln!(
            "KILL -9: {} writes acknowledged, {} rows stored (unacknowledged in-flight writes may land)",
            acked.len(),
            stored.len()
        );
    }

    // And through the restarted server.
    let s2 = Server::start(opts).await;
    s2.wait_ready().await;
    let list = s2.get("/api/v1/styles").await;
    assert_eq!(list.status, 200);
    let names: std::collections::HashSet<&str> = list.json["styles"]
        .as_array()
        .expect("styles")
        .iter()
        .filter_map(|st| st["name"].as_str())
        .collect();
    for name in &acked {
        assert!(
            names.contains(name.as_str()),
            "{name} missing after restart"
        );
    }
    let one = s2.get(&format!("/api/v1/styles/{}", acked[0])).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json["examples"][0]["after"], acked[0].as_str());
}

// --------------------------------------------------------------- concurrency

// ETag / If-Match semantics are tested on both backends in tests/store.rs
// (`etags_and_if_match_serialize_style_writers`).

async fn put_if(s: &Server, name: &str, etag: Option<&str>, instructions: &str) -> Resp {
    let url = format!("{}/api/v1/styles/{name}", s.base);
    let body = json!({ "description": "d", "instructions": instructions });
    s.raw(|c, _| {
        let b = c.put(&url).json(&body);
        match etag {
            Some(e) => b.header("if-match", e),
            None => b,
        }
    })
    .await
}

/// Remixes with a user style while other clients replace, delete and
/// recreate it: every remix answers 200 with one whole version of the style
/// or 404 while it is absent, never a 5xx; every write succeeds or fails
/// with the contract's codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_style_crud_and_remixes() {
    let s = Arc::new(Server::start(Options::default()).await);
    assert_eq!(
        s.post("/api/v1/styles", &style_body("steady")).await.status,
        201
    );
    assert_eq!(
        s.post("/api/v1/styles", &style_body("flicker"))
            .await
            .status,
        201
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (s, stop) = (Arc::clone(&s), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut codes = Vec::new();
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    i += 1;
                    let r = put_if(&s, "steady", None, &format!("writer {w} round {i}")).await;
                    codes.push(r.status);
                    if w == 0 {
                        // One writer deletes and recreates the other style.
                        codes.push(s.delete("/api/v1/styles/flicker").await.status);
                        codes.push(
                            s.post("/api/v1/styles", &style_body("flicker"))
                                .await
                                .status,
                        );
                    }
                }
                codes
            })
        })
        .collect();
    let remixes = futures_util::future::join_all((0..300).map(|i| {
        let s = Arc::clone(&s);
        async move {
            let style = if i % 2 == 0 { "steady" } else { "flicker" };
            let r = s
                .post(
                    "/api/v1/remix",
                    &json!({ "prompt": format!("Summarise {{{{doc}}}} in {i} words."),
                             "style": style, "use_llm": false }),
                )
                .await;
            (style, r)
        }
    }))
    .await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut writes = Vec::new();
    for w in writers {
        writes.extend(w.await.expect("writer"));
    }
    let mut absent = 0;
    for (style, r) in &remixes {
        match (*style, r.status) {
            (_, 200) => {
                assert!(r.json["prompt"].as_str().unwrap_or("").contains("{{doc}}"));
                assert_eq!(r.json["style"]["name"], *style);
                assert_eq!(r.json["style"]["source"], "user");
            }
            ("flicker", 404) => {
                absent += 1;
                r.assert_error(404, "style_not_found");
            }
            // A delete between our lookup and the plugin's read is turned
            // into the 404 too; a 422 remains possible only when the style
            // was deleted and re-created while the plugin ran.
            ("flicker", 422) => {
                absent += 1;
                let msg = r.assert_error(422, "validation_failed");
                assert!(msg.contains("flicker"), "{msg}");
            }
            _ => panic!("remix with {style}: {} {}", r.status, r.text),
        }
    }
    // PUT always 200; DELETE 204 (or 404 if already gone); POST 201 (or 409).
    assert!(
        writes.iter().all(|c| [200, 201, 204].contains(c)),
        "{writes:?}"
    );
    eprintln!(
        "CONCURRENCY: {} remixes ({absent} saw 'flicker' deleted), {} writes",
        remixes.len(),
        writes.len()
    );
    assert_eq!(s.get("/api/v1/styles/steady").await.status, 200);
}

// ------------------------------------------------------------------ security

/// With API keys set, every `/api/v1` route and method refuses a request
/// without a valid key, while health, readiness and metrics stay open.
#[tokio::test]
async fn every_api_route_requires_a_key() {
    const KEY: &str = "api-key-SECRET-0f1e2d3c";
    let s = Server::start(Options::default().env("PROMPTSCULPTOR_API_KEYS", KEY)).await;
    let routes: &[(&str, &str)] = &[
        ("GET", "/api/v1/styles"),
        ("POST", "/api/v1/styles"),
        ("GET", "/api/v1/styles/concise"),
        ("PUT", "/api/v1/styles/concise"),
        ("DELETE", "/api/v1/styles/concise"),
        ("POST", "/api/v1/analyze"),
        ("POST", "/api/v1/remix"),
        ("POST", "/api/v1/create"),
        ("GET", "/api/v1/plugins"),
    ];
    for (method, path) in routes {
        let url = format!("{}{path}", s.base);
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        for key in [None, Some("wrong-key"), Some("")] {
            let r = s
                .raw(|c, _| {
                    let b = c.request(m.clone(), &url).json(&json!({ "prompt": "x" }));
                    match key {
                        Some(k) => b.header("authorization", format!("Bearer {k}")),
                        None => b,
                    }
                })
                .await;
            r.assert_error(401, "unauthorized");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
        // The right key gets past the guard (whatever the route then says).
        let ok = s
            .raw(|c, _| {
                c.request(m.clone(), &url)
                    .bearer_auth(KEY)
                    .json(&json!({ "prompt": "x" }))
            })
            .await;
        assert_ne!(ok.status, 401, "{method} {path}: {}", ok.text);
    }
    // Methods a route does not have: refused as unauthorized too, so the
    // route's methods are not revealed without a key.
    for (method, path) in [
        ("PATCH", "/api/v1/styles"),
        ("DELETE", "/api/v1/analyze"),
        ("GET", "/api/v1/remix"),
        ("POST", "/api/v1/plugins"),
    ] {
        let url = format!("{}{path}", s.base);
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        s.raw(|c, _| c.request(m.clone(), &url))
            .await
            .assert_error(401, "unauthorized");
    }
    // A path under /api/v1 that is no route at all is refused too, so the
    // API answers no anonymous probe; with a key it is a plain 404.
    for path in ["/api/v1/no-such-route", "/api/v1/styles/x/y"] {
        s.get(path).await.assert_error(401, "unauthorized");
        let url = format!("{}{path}", s.base);
        s.raw(|c, _| c.get(&url).bearer_auth(KEY))
            .await
            .assert_error(404, "route_not_found");
    }
    for open in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(s.get(open).await.status, 200, "{open}");
    }
    let log = s.log_text();
    assert!(!log.contains(KEY), "the API key was logged");
    assert!(!log.contains("wrong-key"), "a presented key was logged");
}

/// Provider and API keys appear in no log line, response or plugin-visible
/// data, whatever the request does.
#[tokio::test]
async fn keys_stay_out_of_logs_answers_and_plugins() {
    const API_KEY: &str = "api-key-SECRET-77aa";
    let llm = FakeLlm::start(|_, body| {
        // A provider that echoes what it received back into the completion.
        Reply::Text(body.to_string())
    })
    .await;
    let s = Server::start(
        evil_opts()
            .llm(&llm.base_url)
            .env("PROMPTSCULPTOR_API_KEYS", API_KEY)
            // Everything of ours at trace; Cranelift's own trace output (about
            // ten million lines per cold compile) would only slow the start.
            .env(
                "RUST_LOG",
                "trace,cranelift_codegen=info,cranelift_frontend=info,wasmtime_internal_cranelift=info,wasmtime_cranelift=info",
            ),
    )
    .await;
    let post = |path: &'static str, body: Value| {
        let url = format!("{}{path}", s.base);
        s.raw(move |c, _| c.post(&url).bearer_auth(API_KEY).json(&body))
    };
    let mut answers = vec![
        post(
            "/api/v1/analyze",
            json!({ "prompt": "llm", "strategy": "faulty" }),
        )
        .await,
        post(
            "/api/v1/analyze",
            json!({ "prompt": "probe-env", "strategy": "faulty" }),
        )
        .await,
        post(
            "/api/v1/analyze",
            json!({ "prompt": VAGUE, "use_llm": true }),
        )
        .await,
        post(
            "/api/v1/remix",
            json!({ "prompt": "Sum up {{doc}}.", "style": "concise", "use_llm": true }),
        )
        .await,
        post(
            "/api/v1/create",
            json!({ "goal": "Classify tickets", "use_llm": true }),
        )
        .await,
    ];
    assert_eq!(answers[0].status, 200, "{}", answers[0].text);
    assert_eq!(
        answers[1].json["suggestions"][0], "env:",
        "{}",
        answers[1].text
    );
    for path in ["/api/v1/plugins", "/api/v1/styles"] {
        let url = format!("{}{path}", s.base);
        answers.push(s.raw(|c, _| c.get(&url).bearer_auth(API_KEY)).await);
    }
    answers.push(s.get("/metrics").await);
    answers.push(s.get("/openapi.json").await);
    // What the plugin got back from the "LLM" is everything the provider
    // received: no key in it.
    let echoed = answers[0].json["suggestions"][0].as_str().unwrap_or("");
    assert!(echoed.contains("messages"), "{echoed}");
    for r in &answers {
        for key in [TEST_KEY, API_KEY] {
            assert!(!r.text.contains(key), "key in an answer: {}", r.text);
            for v in r.headers.values() {
                assert!(!v.to_str().unwrap_or("").contains(key), "key in a header");
            }
        }
    }
    for c in llm.received() {
        assert!(
            !c.body.to_string().contains(TEST_KEY),
            "key in a request body"
        );
        assert!(
            !c.body.to_string().contains(API_KEY),
            "API key sent to the provider"
        );
    }
    let log = s.log_text();
    assert!(log.lines().count() > 10, "trace logging is on");
    assert!(!log.contains(TEST_KEY), "provider key logged");
    assert!(!log.contains(API_KEY), "API key logged");
}

/// Body fields cannot raise the server's limits: a deadline, an LLM-call
/// cap or a memory size in the request is refused as an unknown field
/// (422, contract §1) before any plugin runs, and the limits hold.
#[tokio::test]
async fn request_fields_cannot_raise_limits() {
    let llm = FakeLlm::start(|_, _| Reply::Text("ok".into())).await;
    let s = Server::start(evil_opts().llm(&llm.base_url)).await;
    let plain = |prompt: &str, strategy: &str| json!({ "prompt": prompt, "strategy": strategy, "use_llm": true });
    let sneaky = |prompt: &str, strategy: &str| {
        let mut body = plain(prompt, strategy);
        for (k, v) in [
            ("timeout", json!(9999)),
            ("plugin_timeout_secs", json!(9999)),
            ("max_llm_calls", json!(10_000)),
            ("memory_mb", json!(4096)),
            (
                "limits",
                json!({ "timeout": 9999, "max_llm_calls": 10_000 }),
            ),
        ] {
            body[k] = v;
        }
        body
    };
    for (prompt, strategy) in [
        ("sleep", "evil"),
        ("llm-flood", "faulty"),
        (VAGUE, "analyze"),
    ] {
        let started = Instant::now();
        let r = s.post("/api/v1/analyze", &sneaky(prompt, strategy)).await;
        r.assert_error(422, "unknown_field");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused before running"
        );
    }
    assert!(llm.received().is_empty(), "nothing reached the provider");

    // Without them, the server's own limits hold.
    let started = Instant::now();
    let r = s.post("/api/v1/analyze", &plain("sleep", "evil")).await;
    r.assert_error(504, "plugin_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the 2 s deadline held: {:?}",
        started.elapsed()
    );
    s.post("/api/v1/analyze", &plain("llm-flood", "faulty"))
        .await
        .assert_error(500, "plugin_limit_exceeded");
    assert_eq!(llm.received().len(), 3, "the cap of 3 LLM calls held");
    s.post("/api/v1/analyze", &plain("huge-alloc", "evil"))
        .await
        .assert_error(500, "plugin_limit_exceeded");
}
