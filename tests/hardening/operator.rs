//! Hardening tests (see tests/hardening.rs): items 9 and 10 of issue 11 —
//! operator settings (an empty cache folder setting, a bounded compile
//! cache, the container health check) and the rate limit behind a proxy.

use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::common::{self, Options, Resp, Server};

/// `bytes` (a component) plus a custom section named `tag`: the same code
/// under a different sha256, as every edit of a plugin under development is.
fn variant(bytes: &[u8], tag: &str) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut payload = Vec::new();
    leb(tag.len(), &mut payload);
    payload.extend_from_slice(tag.as_bytes());
    let mut out = bytes.to_vec();
    out.push(0); // custom section id
    leb(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Write `bytes` as `dir/name` atomically (temp file, then rename).
fn install(bytes: &[u8], dir: &Path, name: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, dir.join(name)).expect("rename");
}

/// Poll the plugin listing until `file` is loaded with content `sha`.
async fn wait_loaded(s: &Server, file: &str, sha: &str) {
    let start = Instant::now();
    loop {
        let r = s.get("/api/v1/plugins").await;
        let row = r.json["plugins"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["file"] == file).cloned())
            .unwrap_or_default();
        if row["sha256"] == sha && row["status"] == "ok" {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{file} never loaded {sha}: {row}\n{}",
            s.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cache_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".cwasm"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn empty_cache_dir_setting_starts_with_the_cache_disabled() {
    // Before the fix clap refused the empty value ("a value is required")
    // and the server never started.
    let s = Server::start(Options::default().env("PROMPTSCULPTOR_CACHE_DIR", "")).await;
    s.wait_ready().await;
    let r = s.get("/api/v1/plugins").await;
    let rows = r.json["plugins"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 3, "{}", r.text);
    assert!(
        rows.iter().all(|p| p["compiled_from_cache"] == false),
        "{}",
        r.text
    );
    // Nothing was written where the default cache folder would be.
    assert!(!s.dir.path().join(".cache").exists());
}

#[tokio::test]
async fn compile_cache_stays_within_its_entry_bound() {
    let cache = tempfile::tempdir().expect("cache dir");
    let s = Server::start(
        Options::default()
            .plugins(&[])
            .env(
                "PROMPTSCULPTOR_CACHE_DIR",
                &cache.path().display().to_string(),
            )
            .env("PROMPTSCULPTOR_CACHE_MAX_ENTRIES", "2"),
    )
    .await;
    let base = std::fs::read(common::plugin_file("faulty")).expect("faulty.wasm");
    let mut last = String::new();
    for i in 0..5 {
        let bytes = variant(&base, &format!("build-{i}"));
        last = sha256_hex(&bytes);
        install(&bytes, &s.plugins_dir(), "dev.wasm");
        wait_loaded(&s, "dev.wasm", &last).await;
    }
    let entries = cache_entries(cache.path());
    assert!(
        entries.len() <= 2,
        "5 distinct builds, bound 2, cache holds {entries:?}"
    );
    assert!(
        entries.iter().any(|e| e.starts_with(&last)),
        "the loaded plugin's entry must survive: {entries:?}"
    );
    // The surviving entry is used by the next start.
    drop(s);
    let mut opts = Options::default()
        .plugins(&[])
        .env(
            "PROMPTSCULPTOR_CACHE_DIR",
            &cache.path().display().to_string(),
        )
        .env("PROMPTSCULPTOR_CACHE_MAX_ENTRIES", "2");
    opts.extra_files
        .push(("dev.wasm".to_string(), variant(&base, "build-4")));
    let s = Server::start(opts).await;
    wait_loaded(&s, "dev.wasm", &last).await;
    let r = s.get("/api/v1/plugins").await;
    assert_eq!(
        r.json["plugins"][0]["compiled_from_cache"], true,
        "{}",
        r.text
    );
}

/// Run `promptsculptor healthcheck ARGS` with a clean environment.
fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsculptor"));
    cmd.env_clear().arg("healthcheck").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run healthcheck");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "healthcheck took {:?}",
        started.elapsed()
    );
    out
}

fn stderr_line(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(text.lines().count(), 1, "one line of reason: {text:?}");
    text
}

#[tokio::test]
async fn healthcheck_exits_0_when_ready_and_1_otherwise() {
    let s = Server::start(Options::default()).await;
    s.wait_ready().await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let port = addr.rsplit(':').next().expect("port").to_string();

    let out = healthcheck(&["--addr", &addr], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = healthcheck(&["--url", &format!("{}/readyz", s.base)], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // The container's way: the listen address from the environment, on
    // every interface.
    let listen = format!("0.0.0.0:{port}");
    let out = healthcheck(&[], &[("PROMPTSCULPTOR_ADDR", &listen)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // A server that is up but not ready (no plugins: /readyz 503).
    let unready = Server::start(Options::default().plugins(&[])).await;
    let url = format!("{}/readyz", unready.base);
    assert_eq!(unready.get("/readyz").await.status, 503);
    let out = healthcheck(&["--url", &url], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr_line(&out).contains("503"), "{out:?}");

    // A closed port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").to_string()
    };
    let out = healthcheck(&["--addr", &closed], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let reason = stderr_line(&out);
    assert!(reason.contains(&closed), "{reason}");
}

// ---- rate limit (item 10) ----

async fn get_styles(s: &Server, headers: &[(&str, &str)]) -> Resp {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    s.raw(move |c, base| {
        let mut rb = c.get(format!("{base}/api/v1/styles"));
        for (k, v) in &headers {
            rb = rb.header(k, v);
        }
        rb
    })
    .await
}

#[track_caller]
fn assert_limited(r: &Resp) -> u64 {
    r.assert_error(429, "rate_limited");
    r.header("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .expect("Retry-After in whole seconds")
}

fn limited(extra: &[(&str, &str)]) -> Options {
    let mut o = Options::default()
        .plugins(&[])
        .env("PROMPTSCULPTOR_RATE_LIMIT_PER_MIN", "2");
    for (k, v) in extra {
        o = o.env(k, v);
    }
    o
}

#[tokio::test]
async fn rate_limit_gives_each_api_key_its_own_bucket() {
    let s = Server::start(limited(&[("PROMPTSCULPTOR_API_KEYS", "key-one,key-two")])).await;
    let one = [("authorization", "Bearer key-one")];
    let two = [("authorization", "Bearer key-two")];
    for _ in 0..2 {
        assert_eq!(get_styles(&s, &one).await.status, 200);
    }
    let retry = assert_limited(&get_styles(&s, &one).await);
    // GCRA: the minute's allowance refills evenly, one request every 30 s
    // at 2 a minute; Retry-After says when the next one is allowed (the old
    // fixed window said "the rest of the minute").
    assert!((1..=30).contains(&retry), "Retry-After {retry}");
    assert_eq!(get_styles(&s, &two).await.status, 200);
    assert_eq!(get_styles(&s, &two).await.status, 200);
    assert_limited(&get_styles(&s, &two).await);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let s = Server::start(limited(&[(
        "PROMPTSCULPTOR_TRUSTED_PROXIES",
        "10.0.0.0/8, 127.0.0.1",
    )]))
    .await;
    let a = [("x-forwarded-for", "203.0.113.1")];
    for _ in 0..2 {
        assert_eq!(get_styles(&s, &a).await.status, 200);
    }
    assert_limited(&get_styles(&s, &a).await);
    // Another client behind the same proxy is not hurt (before the fix:
    // one bucket for everyone behind the proxy, so this was 429).
    let b = [("x-forwarded-for", "203.0.113.2")];
    assert_eq!(get_styles(&s, &b).await.status, 200);
    // Client A cannot escape by writing addresses of its own in front of
    // the one the proxy appended: the right-most untrusted hop counts.
    let spoof = [("x-forwarded-for", "198.51.100.99, 203.0.113.1")];
    assert_limited(&get_styles(&s, &spoof).await);
    // Trusted hops (an inner proxy) are skipped.
    let chained = [("x-forwarded-for", "203.0.113.1, 10.2.3.4")];
    assert_limited(&get_styles(&s, &chained).await);
    // RFC 7239 Forwarded when there is no X-Forwarded-For.
    let c = [("forwarded", "for=\"[2001:db8::7]:4711\";proto=https")];
    assert_eq!(get_styles(&s, &c).await.status, 200);
    assert_eq!(get_styles(&s, &c).await.status, 200);
    assert_limited(&get_styles(&s, &c).await);
}

#[tokio::test]
async fn an_untrusted_peer_cannot_escape_the_limit_with_forwarded_headers() {
    for trusted in ["", "10.0.0.0/8"] {
        let s = Server::start(limited(&[("PROMPTSCULPTOR_TRUSTED_PROXIES", trusted)])).await;
        for i in 0..2 {
            let xff = format!("203.0.113.{i}");
            let r = get_styles(&s, &[("x-forwarded-for", &xff)]).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
        assert_limited(&get_styles(&s, &[("x-forwarded-for", "203.0.113.77")]).await);
        assert_limited(&get_styles(&s, &[("forwarded", "for=198.51.100.5")]).await);
        assert_limited(&get_styles(&s, &[]).await);
    }
}

#[tokio::test]
async fn a_malformed_trusted_proxy_list_refuses_to_start() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_promptsculptor"))
        .env_clear()
        .current_dir(dir.path())
        .arg("serve")
        .env("PROMPTSCULPTOR_ADDR", "127.0.0.1:0")
        .env("PROMPTSCULPTOR_PLUGINS_DIR", dir.path())
        .env("PROMPTSCULPTOR_DB", dir.path().join("t.db"))
        .env(
            "PROMPTSCULPTOR_TRUSTED_PROXIES",
            "10.0.0.0/8, kong.internal",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started despite a host name in the trusted-proxy list");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kong.internal"), "{err}");
}
