//! The fleet tests' tools: three servers on one database, the publishing
//! calls, and probes that say what an instance serves and how soon a
//! change reached every instance.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{self, Options, Resp, Server, pg};

/// The admin key every fleet server accepts for publishing.
pub const ADMIN_KEY: &str = "fleet-admin-key";
/// The contract's bound (§5): a style write, publish or rollback on one
/// instance is served by every instance within this time of its answer.
pub const PROPAGATION: Duration = Duration::from_secs(1);
/// `PROMPTSCULPTOR_DATABASE_TIMEOUT_SECS` of the outage tests.
pub const DB_TIMEOUT_SECS: u64 = 2;
/// How long a change is watched for after its bound has passed, so a
/// failure reports the latency it actually had rather than only "late".
const OBSERVE_PAST_BOUND: Duration = Duration::from_secs(10);

/// An analyze input the default analyzer has things to say about.
pub const VAGUE: &str =
    "Write some stuff about our product and a few things customers might like, etc.";
/// A remix input with a template variable.
pub const TEMPLATE: &str = "Explain {{topic}} to a child.";

/// One fleet test at a time in this binary: each starts three servers and
/// asserts a 1 s bound, and two of them side by side on a 2-core machine
/// would measure the machine. A tokio mutex, because the guard is held
/// across awaits (each test has its own runtime; the mutex is runtime-free).
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// A fresh database on the test PostgreSQL server; `None` (the test is
/// skipped with a note) when there is none and none is required.
pub async fn database() -> Option<pg::TestDatabase> {
    if !pg::available().await {
        return None;
    }
    Some(pg::fresh_database().await)
}

/// Options of a fleet server on `url`: the default plugins, publishing on.
pub fn fleet_opts(url: &str) -> Options {
    Options::default()
        .database(url)
        .env("PROMPTSCULPTOR_ADMIN_KEYS", ADMIN_KEY)
        // Per-request debug lines of three servers under load cost CPU the
        // 1 s bound is measured on.
        .env("RUST_LOG", "info")
}

/// Start one server per options, all processes spawned at the same moment
/// (`Server::start` blocks until its server listens, so each gets a thread).
pub async fn start_servers(opts: Vec<Options>) -> Vec<Server> {
    let handles: Vec<_> = opts
        .into_iter()
        .map(|o| {
            let rt = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || rt.block_on(Server::start(o)))
        })
        .collect();
    let mut servers = Vec::with_capacity(handles.len());
    for h in handles {
        servers.push(h.await.expect("server start"));
    }
    servers
}

/// Three servers on one database, each ready.
pub async fn start_fleet(opts: &Options) -> Vec<Server> {
    let fleet = start_servers(vec![opts.clone(), opts.clone(), opts.clone()]).await;
    for s in &fleet {
        s.wait_ready().await;
    }
    fleet
}

/// Three servers on one database as [`start_fleet`], but each with a
/// compile cache of its own, as on separate hosts: a copy of the shared test
/// cache (the folder plugins start warm) without any artifact of
/// `uncached` components, so a publish of one of those is compiled by
/// every instance (or shared through the database) within the 1 s bound.
/// The caches live as long as the returned folders.
pub async fn start_fleet_cold(
    opts: &Options,
    uncached: &[&[u8]],
) -> (Vec<Server>, Vec<tempfile::TempDir>) {
    let skip: Vec<String> = uncached.iter().map(|c| sha256_hex(c)).collect();
    let shared = common::repo_root().join("target/test-compile-cache");
    let mut caches = Vec::new();
    let mut all = Vec::new();
    for _ in 0..3 {
        let cache = tempfile::tempdir().expect("cache dir");
        for entry in std::fs::read_dir(&shared).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !skip.iter().any(|sha| name.starts_with(sha.as_str())) {
                let _ = std::fs::copy(entry.path(), cache.path().join(&name));
            }
        }
        all.push(opts.clone().env(
            "PROMPTSCULPTOR_CACHE_DIR",
            &cache.path().display().to_string(),
        ));
        caches.push(cache);
    }
    let fleet = start_servers(all).await;
    for s in &fleet {
        s.wait_ready().await;
    }
    for cache in &caches {
        for entry in std::fs::read_dir(cache.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().to_string();
            assert!(
                !skip.iter().any(|sha| name.starts_with(sha.as_str())),
                "{name}: an artifact of a component not published yet"
            );
        }
    }
    (fleet, caches)
}

/// Base URLs of `servers`.
pub fn bases(servers: &[&Server]) -> Vec<String> {
    servers.iter().map(|s| s.base.clone()).collect()
}

/// Hex SHA-256 of `bytes`, as the plugin rows spell it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A style creation body whose description says `description`.
pub fn style_body(name: &str, description: &str) -> Value {
    json!({ "name": name, "description": description,
            "instructions": format!("Rewrite as {name}; keep every {{{{variable}}}}."),
            "examples": [{ "before": "a", "after": name }] })
}

/// `PUT /api/v1/plugins/{name}` with the admin key.
pub async fn publish(s: &Server, name: &str, component: Vec<u8>) -> Resp {
    let url = format!("{}/api/v1/plugins/{name}", s.base);
    s.raw(|c, _| {
        c.put(&url)
            .header("content-type", "application/wasm")
            .bearer_auth(ADMIN_KEY)
            .body(component)
    })
    .await
}

/// `POST /api/v1/plugins/{name}/rollback` with the admin key.
pub async fn rollback(s: &Server, name: &str, sha256: &str) -> Resp {
    let url = format!("{}/api/v1/plugins/{name}/rollback", s.base);
    let body = json!({ "sha256": sha256 });
    s.raw(|c, _| c.post(&url).bearer_auth(ADMIN_KEY).json(&body))
        .await
}

/// `DELETE /api/v1/plugins/{name}` with the admin key.
pub async fn unpublish(s: &Server, name: &str) -> Resp {
    let url = format!("{}/api/v1/plugins/{name}", s.base);
    s.raw(|c, _| c.delete(&url).bearer_auth(ADMIN_KEY)).await
}

/// `PUT /api/v1/styles/{name}`, conditional on `etag` when given.
pub async fn put_style(s: &Server, name: &str, etag: Option<&str>, description: &str) -> Resp {
    let url = format!("{}/api/v1/styles/{name}", s.base);
    let body = json!({ "description": description, "instructions": format!("Be {description}") });
    s.raw(|c, _| {
        let b = c.put(&url).json(&body);
        match etag {
            Some(e) => b.header("if-match", e),
            None => b,
        }
    })
    .await
}

// ------------------------------------------------------------------ probes

/// `Ok` when `s` serves user style `name` with `description`, both through
/// `GET /api/v1/styles/{name}` and through a remix with it.
pub async fn style_served(s: &Server, name: &str, description: &str) -> Result<(), String> {
    let got = s.get(&format!("/api/v1/styles/{name}")).await;
    if got.status != 200 || got.json["description"] != description {
        return Err(format!("GET {name}: {} {}", got.status, got.text));
    }
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": TEMPLATE, "style": name, "use_llm": false }),
        )
        .await;
    if r.status != 200
        || r.json["style"]["description"] != description
        || r.json["style"]["source"] != "user"
    {
        return Err(format!("remix with {name}: {} {}", r.status, r.text));
    }
    Ok(())
}

/// `Ok` when `s` no longer knows style `name` (404 on GET and on remix).
pub async fn style_absent(s: &Server, name: &str) -> Result<(), String> {
    let got = s.get(&format!("/api/v1/styles/{name}")).await;
    if got.status != 404 || got.json["error"]["code"] != "style_not_found" {
        return Err(format!("GET {name}: {} {}", got.status, got.text));
    }
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": TEMPLATE, "style": name, "use_llm": false }),
        )
        .await;
    if r.status != 404 || r.json["error"]["code"] != "style_not_found" {
        return Err(format!("remix with {name}: {} {}", r.status, r.text));
    }
    Ok(())
}

/// The names in `GET /api/v1/styles` of `s`.
pub async fn style_names(s: &Server) -> std::collections::HashSet<String> {
    let list = s.get("/api/v1/styles").await;
    assert_eq!(
        list.status, 200,
        "{} GET /api/v1/styles: {}",
        s.base, list.text
    );
    list.json["styles"]
        .as_array()
        .expect("styles array")
        .iter()
        .filter_map(|st| st["name"].as_str().map(str::to_string))
        .collect()
}

/// What an instance should serve under one plugin name.
#[derive(Clone, Copy, Debug)]
pub enum Serving<'a> {
    /// The published version with this sha256 and manifest version.
    Published(&'a str, &'a str),
    /// The folder file with this sha256 and manifest version.
    Folder(&'a str, &'a str),
    /// Nothing: no row, and the strategy is unknown.
    Absent,
}

/// The analyze request that names strategy `name` (the test plugin answers
/// a minimal valid result to any prompt but its trigger words).
pub fn analyze_with(name: &str) -> Value {
    json!({ "prompt": "fine", "strategy": name, "use_llm": false })
}

/// `Ok` when `s` serves `want` under `name`: its one row in
/// `GET /api/v1/plugins` (source and sha256) and an analyze call with
/// `strategy: name` (the manifest version it answers with).
pub async fn plugin_served(s: &Server, name: &str, want: Serving<'_>) -> Result<(), String> {
    let list = s.get("/api/v1/plugins").await;
    if list.status != 200 {
        return Err(format!(
            "GET /api/v1/plugins: {} {}",
            list.status, list.text
        ));
    }
    let rows: Vec<&Value> = list.json["plugins"]
        .as_array()
        .map(|a| a.iter().filter(|r| r["name"] == name).collect())
        .unwrap_or_default();
    let call = s.post("/api/v1/analyze", &analyze_with(name)).await;
    let (source, sha, version) = match want {
        Serving::Published(sha, v) => ("published", sha, v),
        Serving::Folder(sha, v) => ("folder", sha, v),
        Serving::Absent => {
            if !rows.is_empty() {
                return Err(format!("rows still listed: {rows:?}"));
            }
            if call.status != 404 || call.json["error"]["code"] != "strategy_not_found" {
                return Err(format!("analyze: {} {}", call.status, call.text));
            }
            return Ok(());
        }
    };
    match rows.as_slice() {
        [row] if row["source"] == source && row["sha256"] == sha && row["status"] == "ok" => {}
        _ => return Err(format!("rows for {name}: {rows:?}")),
    }
    if call.status != 200 || call.json["strategy"]["version"] != version {
        return Err(format!("analyze: {} {}", call.status, call.text));
    }
    Ok(())
}

/// Wait until `probe` holds on every server in `servers` (probed side by
/// side), then assert each got there within `bound` of `since`, the moment
/// the change was acknowledged. Returns each instance's latency (the end
/// of its first successful probe). Past the bound the change is still
/// watched for a while, so a failure says how late it was.
pub async fn propagated<'a, F, Fut>(
    servers: &[&'a Server],
    since: Instant,
    bound: Duration,
    what: &str,
    mut probe: F,
) -> Vec<Duration>
where
    F: FnMut(&'a Server) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut seen: Vec<Option<Duration>> = vec![None; servers.len()];
    let mut last: Vec<String> = vec![String::new(); servers.len()];
    while seen.iter().any(Option::is_none) && since.elapsed() < bound + OBSERVE_PAST_BOUND {
        let pending: Vec<usize> = (0..servers.len()).filter(|i| seen[*i].is_none()).collect();
        let results =
            futures_util::future::join_all(pending.iter().map(|i| probe(servers[*i]))).await;
        let at = since.elapsed();
        for (i, r) in pending.into_iter().zip(results) {
            match r {
                Ok(()) => seen[i] = Some(at),
                Err(e) => last[i] = e,
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let report: Vec<String> = servers
        .iter()
        .zip(&seen)
        .zip(&last)
        .map(|((s, seen), last)| match seen {
            Some(d) => format!("{}: after {d:?}", s.base),
            None => format!("{}: never; last probe: {last}", s.base),
        })
        .collect();
    eprintln!("{what}: {}", report.join("; "));
    assert!(
        seen.iter().all(|d| d.is_some_and(|d| d <= bound)),
        "{what}: not on every instance within {bound:?}: {}",
        report.join("; ")
    );
    seen.into_iter().flatten().collect()
}

/// `GET /readyz` of `s`: `Ok` when it is 503 with `"database": "unavailable"`
/// (and the plugins loaded), `Err` with what it answered otherwise.
pub async fn database_unavailable(s: &Server) -> Result<(), String> {
    let r = s.get("/readyz").await;
    if r.status == 503
        && r.json["status"] == "not_ready"
        && r.json["database"] == "unavailable"
        && r.json["plugins"] == "ok"
        && r.json["error"]["code"].is_string()
    {
        Ok(())
    } else {
        Err(format!("/readyz: {} {}", r.status, r.text))
    }
}

/// `GET /readyz` of `s`: `Ok` when 200 with the PostgreSQL backend.
pub async fn ready_on_postgres(s: &Server) -> Result<(), String> {
    let r = s.get("/readyz").await;
    if r.status == 200 && r.json["database"] == "ok" && r.json["backend"] == "postgres" {
        Ok(())
    } else {
        Err(format!("/readyz: {} {}", r.status, r.text))
    }
}
