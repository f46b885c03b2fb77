//! Fleet benchmark (issue 12), printed as Markdown. Not part of the server.
//!
//! `bench_fleet BIN PLUGINS_DIR ADMIN_URL [SECS]` with the release server
//! `BIN`, a plugins folder holding the default plugins, and the URL of a
//! PostgreSQL database where it may create (and drop) scratch databases:
//!
//! 1. SQLite vs PostgreSQL, one instance each, one after the other: remix
//!    throughput (deterministic path, 8 connections) and the server's CPU
//!    per request (utime + stime from /proc), then style-write throughput
//!    (POST of new styles, 4 connections).
//! 2. Three instances on one PostgreSQL database: propagation latency of a
//!    style write (PUT on one instance until the new text is served by the
//!    two others, polled every 2 ms) and of a plugin publish (PUT
//!    /api/v1/plugins/{name} alternating two components until both other
//!    instances list the new sha256), p50/p99.
//!
//! Run by `scripts/bench-fleet`.

// A measuring tool, not server code: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

const ADMIN_KEY: &str = "bench-admin-key";

struct Server {
    child: Child,
    base: String,
    _scratch: tempfile::TempDir,
}

impl Server {
    fn start(bin: &Path, plugins: &Path, database_url: Option<&str>) -> Server {
        let scratch = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .env("PROMPTSCULPTOR_ADDR", "127.0.0.1:0")
            .env("PROMPTSCULPTOR_DB", scratch.path().join("ps.db"))
            .env("PROMPTSCULPTOR_PLUGINS_DIR", plugins)
            .env("PROMPTSCULPTOR_CACHE_DIR", scratch.path().join("cache"))
            .env("PROMPTSCULPTOR_ADMIN_KEYS", ADMIN_KEY)
            .env("PROMPTSCULPTOR_LLM_PROVIDER", "none")
            .env("RUST_LOG", "warn,promptsculptor=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(url) = database_url {
            cmd.env("PROMPTSCULPTOR_DATABASE_URL", url);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(i) = line.find("listening on http://") {
                    let addr = line[i + "listening on http://".len()..].trim().to_string();
                    tx.send(addr).ok();
                    sent = true;
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        Server {
            child,
            base: format!("http://{addr}"),
            _scratch: scratch,
        }
    }

    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split(' ').collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }

    async fn wait_ready(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{}/readyz", self.base)).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never became ready",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch database, dropped at the end.
struct Scratch {
    admin: String,
    name: String,
    url: String,
}

impl Scratch {
    async fn create(admin: &str) -> Scratch {
        let name = format!("ps_bench_{}_{}", std::process::id(), rand_nanos());
        exec(admin, &format!("CREATE DATABASE {name}")).await;
        let url = with_db(admin, &name);
        Scratch {
            admin: admin.to_string(),
            name,
            url,
        }
    }

    async fn drop_db(self) {
        exec(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await;
    }
}

fn rand_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_007
}

fn with_db(admin: &str, db: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, ""), |(b, q)| (b, q));
    let at = base.rfind('/').unwrap();
    let mut url = format!("{}/{db}", &base[..at]);
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    url
}

async fn exec(url: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = task.await;
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn ticks_per_sec() -> f64 {
    // CLK_TCK is 100 on every Linux this runs on; getconf tells for sure.
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Run `conns` loops of `request` for `secs`; (ok, failed).
async fn closed_loop<F, Fut>(conns: usize, secs: u64, request: F) -> (u64, u64)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let seq = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (request, stop, ok, failed, seq) = (
            Arc::clone(&request),
            Arc::clone(&stop),
            Arc::clone(&ok),
            Arc::clone(&failed),
            Arc::clone(&seq),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                if request(n).await {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed))
}

struct Single {
    backend: &'static str,
    remix_rps: f64,
    remix_cpu_ms: f64,
    remix_failed: u64,
    write_rps: f64,
    write_failed: u64,
}

async fn single(
    backend: &'static str,
    bin: &Path,
    plugins: &Path,
    url: Option<&str>,
    secs: u64,
) -> Single {
    let server = Server::start(bin, plugins, url);
    let http = reqwest::Client::new();
    server.wait_ready(&http).await;
    let body = json!({
        "prompt": "You are a support agent. Answer the customer's refund question using {{policy}}. Be polite, keep it short, no jargon.",
        "style": "structured-xml",
        "use_llm": false,
    });
    let remix_url = format!("{}/api/v1/remix", server.base);
    let send = {
        let (http, remix_url, body) = (http.clone(), remix_url.clone(), body.clone());
        move |_n: u64| {
            let (http, remix_url, body) = (http.clone(), remix_url.clone(), body.clone());
            async move {
                matches!(http.post(&remix_url).json(&body).send().await, Ok(r) if r.status() == 200)
            }
        }
    };
    // Warm-up: first calls compile nothing, but fill the pool and caches.
    closed_loop(8, 1, send.clone()).await;
    let cpu0 = server.cpu_ticks();
    let (ok, failed) = closed_loop(8, secs, send).await;
    let cpu = (server.cpu_ticks() - cpu0) as f64 / ticks_per_sec();
    let styles_url = format!("{}/api/v1/styles", server.base);
    let write = {
        let (http, styles_url) = (http.clone(), styles_url.clone());
        move |n: u64| {
            let (http, styles_url) = (http.clone(), styles_url.clone());
            async move {
                let style = json!({
                    "name": format!("bench-{n}"),
                    "description": "A benchmark style.",
                    "instructions": "Rewrite the prompt in plain words.",
                });
                matches!(http.post(&styles_url).json(&style).send().await, Ok(r) if r.status() == 201)
            }
        }
    };
    let (w_ok, w_failed) = closed_loop(4, secs, write).await;
    Single {
        backend,
        remix_rps: ok as f64 / secs as f64,
        remix_cpu_ms: cpu * 1000.0 / ok.max(1) as f64,
        remix_failed: failed,
        write_rps: w_ok as f64 / secs as f64,
        write_failed: w_failed,
    }
}

async fn visible_style(http: &reqwest::Client, base: &str, name: &str, text: &str) -> bool {
    match http
        .get(format!("{base}/api/v1/styles/{name}"))
        .send()
        .await
    {
        Ok(r) if r.status() == 200 => r
            .json::<Value>()
            .await
            .is_ok_and(|v| v["instructions"] == text),
        _ => false,
    }
}

async fn serving_sha(http: &reqwest::Client, base: &str, name: &str, sha: &str) -> bool {
    match http.get(format!("{base}/api/v1/plugins")).send().await {
        Ok(r) if r.status() == 200 => r.json::<Value>().await.is_ok_and(|v| {
            v["plugins"].as_array().is_some_and(|rows| {
                rows.iter()
                    .any(|p| p["name"] == name && p["sha256"] == sha && p["status"] == "ok")
            })
        }),
        _ => false,
    }
}

/// Time from `since` until `check` holds on every one of `bases`.
async fn until_all<F, Fut>(bases: &[String], since: Instant, check: F) -> Vec<Duration>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut out = Vec::new();
    for base in bases {
        let deadline = since + Duration::from_secs(10);
        loop {
            if check(base.clone()).await {
                out.push(since.elapsed());
                break;
            }
            assert!(Instant::now() < deadline, "{base} never caught up");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    out
}

async fn fleet(
    bin: &Path,
    plugins: &Path,
    url: &str,
    samples: usize,
    components: [(PathBuf, String); 2],
) {
    let servers: Vec<Server> = (0..3)
        .map(|_| Server::start(bin, plugins, Some(url)))
        .collect();
    let http = reqwest::Client::new();
    for s in &servers {
        s.wait_ready(&http).await;
    }
    let a = servers[0].base.clone();
    let others: Vec<String> = servers[1..].iter().map(|s| s.base.clone()).collect();
    let name = "fleet-bench-style";
    let r = http
        .post(format!("{a}/api/v1/styles"))
        .json(&json!({"name": name, "description": "d", "instructions": "v0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let mut style_lat = Vec::new();
    for i in 1..=samples {
        let text = format!("version {i}");
        let r = http
            .put(format!("{a}/api/v1/styles/{name}"))
            .json(&json!({"description": "d", "instructions": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let acked = Instant::now();
        let http2 = http.clone();
        style_lat.extend(
            until_all(&others, acked, |base| {
                let (http, text) = (http2.clone(), text.clone());
                async move { visible_style(&http, &base, name, &text).await }
            })
            .await,
        );
    }
    let mut publish_lat = Vec::new();
    let publish_samples = (samples / 5).max(10);
    for i in 0..publish_samples {
        let (path, plugin) = &components[i % 2];
        let bytes = std::fs::read(path).unwrap();
        let r = http
            .put(format!("{a}/api/v1/plugins/{plugin}"))
            .bearer_auth(ADMIN_KEY)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == 200 || r.status() == 201,
            "publish: {}",
            r.status()
        );
        let acked = Instant::now();
        let row: Value = r.json().await.unwrap();
        let sha = row["sha256"].as_str().unwrap().to_string();
        let http2 = http.clone();
        publish_lat.extend(
            until_all(&others, acked, |base| {
                let (http, sha, plugin) = (http2.clone(), sha.clone(), plugin.clone());
                async move { serving_sha(&http, &base, &plugin, &sha).await }
            })
            .await,
        );
    }
    style_lat.sort();
    publish_lat.sort();
    println!("### Propagation across 3 instances on one PostgreSQL database\n");
    println!("| change | samples (× 2 other instances) | p50 ms | p99 ms | max ms |");
    println!("| --- | --- | --- | --- | --- |");
    for (what, lat, n) in [
        (
            "style write (PUT, until served by the others)",
            &style_lat,
            samples,
        ),
        (
            "plugin publish (PUT component, until the others serve its sha256)",
            &publish_lat,
            publish_samples,
        ),
    ] {
        println!(
            "| {what} | {n} | {:.1} | {:.1} | {:.1} |",
            percentile(lat, 0.5),
            percentile(lat, 0.99),
            lat.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
        );
    }
    println!();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!(
            "usage: bench_fleet BIN PLUGINS_DIR ADMIN_URL [SECS] [SAMPLES] [COMPONENT_A NAME_A COMPONENT_B NAME_B]"
        );
        std::process::exit(2);
    }
    let bin = PathBuf::from(&args[1]);
    let plugins = PathBuf::from(&args[2]);
    let admin = args[3].clone();
    let secs: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10);
    let samples: usize = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(100);
    let components = match args.get(6..10) {
        Some([a, na, b, nb]) => [
            (PathBuf::from(a), na.clone()),
            (PathBuf::from(b), nb.clone()),
        ],
        _ => {
            eprintln!("no components given: skipping the publish measurement");
            [
                (PathBuf::new(), String::new()),
                (PathBuf::new(), String::new()),
            ]
        }
    };

    let sqlite = single("SQLite", &bin, &plugins, None, secs).await;
    let db = Scratch::create(&admin).await;
    let pg = single("PostgreSQL", &bin, &plugins, Some(&db.url), secs).await;
    db.drop_db().await;
    println!(
        "### One instance: SQLite vs PostgreSQL ({secs} s per run, same machine, one after the other)\n"
    );
    println!(
        "| backend | remix req/s (8 conns) | server CPU ms / remix | failed | style writes/s (4 conns) | failed |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for s in [&sqlite, &pg] {
        println!(
            "| {} | {:.0} | {:.3} | {} | {:.0} | {} |",
            s.backend, s.remix_rps, s.remix_cpu_ms, s.remix_failed, s.write_rps, s.write_failed
        );
    }
    println!(
        "\nRatios PostgreSQL / SQLite: remix throughput {:.2}, CPU per remix {:.2}, style writes {:.2}\n",
        pg.remix_rps / sqlite.remix_rps,
        pg.remix_cpu_ms / sqlite.remix_cpu_ms,
        pg.write_rps / sqlite.write_rps
    );
    if components[0].1.is_empty() {
        return;
    }
    let db = Scratch::create(&admin).await;
    fleet(&bin, &plugins, &db.url, samples, components).await;
    db.drop_db().await;
}
