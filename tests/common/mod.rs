//! Test harness: the real `promptsculptor` binary on a real socket, with the
//! real plugins copied into a temp folder and a real SQLite file.

#![allow(dead_code)]

pub mod llm;
pub mod pg;
pub mod providers;
pub mod rawhttp;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::Value;

/// Poll `pred` until it holds, failing with `what` (and its last `Err`
/// detail) after `within`. Tests wait for the condition they rely on, never
/// for a fixed time: a slow machine only waits longer, a fast one not at all.
pub async fn wait_until<F, Fut>(within: Duration, what: &str, mut pred: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let start = Instant::now();
    loop {
        let last = match pred().await {
            Ok(()) => return,
            Err(detail) => detail,
        };
        assert!(
            start.elapsed() < within,
            "timed out after {within:?} waiting for {what}: {last}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A built plugin component, panicking with the fix when it is missing.
pub fn plugin_file(name: &str) -> PathBuf {
    let candidates = [
        repo_root().join("plugins").join(format!("{name}.wasm")),
        repo_root()
            .join("target/test-plugins")
            .join(format!("{name}.wasm")),
    ];
    for c in &candidates {
        if c.exists() {
            return c.clone();
        }
    }
    panic!(
        "plugin {name}.wasm is not built; run scripts/build-plugins --with-test-plugins (scripts/test does)"
    );
}

/// How to start a server.
#[derive(Clone, Default)]
pub struct Options {
    /// Plugins copied into the plugins folder (default: analyze, remix, create).
    pub plugins: Option<Vec<&'static str>>,
    /// Extra files written into the plugins folder: (file name, bytes).
    pub extra_files: Vec<(String, Vec<u8>)>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Use this database file instead of a fresh one.
    pub db: Option<PathBuf>,
    /// The PostgreSQL database `PROMPTSCULPTOR_DATABASE_URL` points at, when
    /// the test created it: shared by every clone of these options and every
    /// server started from them, dropped after the last of them.
    pub test_database: Option<Arc<pg::TestDatabase>>,
}

impl Options {
    /// Default options plus one env var.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    /// Set the plugin list.
    pub fn plugins(mut self, p: &[&'static str]) -> Self {
        self.plugins = Some(p.to_vec());
        self
    }

    /// Store in the PostgreSQL database at `url` (`PROMPTSCULPTOR_DATABASE_URL`).
    pub fn database(self, url: &str) -> Self {
        self.env("PROMPTSCULPTOR_DATABASE_URL", url)
    }

    /// Store with `backend`: SQLite (a fresh file, the default) or a fresh
    /// PostgreSQL database on the test server, kept for as long as these
    /// options or a server started from them live. Clones share the
    /// database, so a restart or a second server sees the same data;
    /// for SQLite set [`Options::db`] for that.
    pub async fn backend(self, backend: pg::Backend) -> Self {
        match backend {
            pg::Backend::Sqlite => self,
            pg::Backend::Postgres => {
                let db = pg::fresh_database().await;
                let mut opts = self.database(&db.url);
                opts.test_database = Some(Arc::new(db));
                opts
            }
        }
    }

    /// Point the server at an OpenAI-compatible test server.
    pub fn llm(self, base_url: &str) -> Self {
        self.env("PROMPTSCULPTOR_LLM_PROVIDER", "openai")
            .env("PROMPTSCULPTOR_LLM_BASE_URL", base_url)
            .env("PROMPTSCULPTOR_LLM_MODEL", "test-model")
            .env("OPENAI_API_KEY", llm::TEST_KEY)
    }
}

/// A running server process; killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Everything the server logged so far.
    pub logs: Arc<Mutex<Vec<String>>>,
    /// Temp dir holding the db and plugins folder.
    pub dir: tempfile::TempDir,
    /// HTTP client.
    pub http: reqwest::Client,
    /// The SQLite file (unused when the server stores in PostgreSQL).
    pub db_path: PathBuf,
    /// The PostgreSQL database of this server, when the test created it.
    pub test_database: Option<Arc<pg::TestDatabase>>,
    /// `PROMPTSCULPTOR_DATABASE_URL` of this server, when set.
    pub database_url: Option<String>,
}

impl Server {
    /// Start with `opts` and wait until it listens.
    pub async fn start(opts: Options) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let plugins_dir = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins_dir).expect("plugins dir");
        for name in opts
            .plugins
            .clone()
            .unwrap_or_else(|| vec!["analyze", "remix", "create"])
        {
            std::fs::copy(plugin_file(name), plugins_dir.join(format!("{name}.wasm")))
                .expect("copy plugin");
        }
        for (file, bytes) in &opts.extra_files {
            std::fs::write(plugins_dir.join(file), bytes).expect("write extra file");
        }
        let db = opts
            .db
            .clone()
            .unwrap_or_else(|| dir.path().join("test.db"));
        let mut server = Self::spawn(dir, &plugins_dir, &db, &opts.env).await;
        server.test_database = opts.test_database.clone();
        server
    }

    async fn spawn(
        dir: tempfile::TempDir,
        plugins_dir: &Path,
        db: &Path,
        env: &[(String, String)],
    ) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsculptor"));
        // A clean environment: nothing from the developer's shell (keys!)
        // may leak into a test.
        cmd.env_clear()
            .arg("serve")
            .current_dir(dir.path())
            .env("PROMPTSCULPTOR_ADDR", "127.0.0.1:0")
            .env("PROMPTSCULPTOR_DB", db)
            .env("PROMPTSCULPTOR_PLUGINS_DIR", plugins_dir)
            .env(
                "PROMPTSCULPTOR_CACHE_DIR",
                repo_root().join("target/test-compile-cache"),
            )
            .env("RUST_LOG", "info,promptsculptor=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn promptsculptor");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(pos) = line.find("listening on http://") {
                    let rest = &line[pos + "listening on ".len()..];
                    let url: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || ":/.[]-".contains(*c))
                        .collect();
                    let _ = tx.send(url);
                }
                if let Ok(mut l) = sink.lock() {
                    l.push(line);
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let logs = logs.lock().map(|l| l.join("\n")).unwrap_or_default();
                panic!("server did not start; its log:\n{logs}");
            }
        };
        Server {
            child,
            base,
            logs,
            dir,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            db_path: db.to_path_buf(),
            test_database: None,
            database_url: env
                .iter()
                .rev()
                .find(|(k, _)| k == "PROMPTSCULPTOR_DATABASE_URL")
                .map(|(_, v)| v.clone()),
        }
    }

    /// The plugins folder of this server.
    pub fn plugins_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// Pid of the server process (the harness spawns the binary itself).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log so far, one string.
    pub fn log_text(&self) -> String {
        self.logs.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Stop the process (SIGKILL) and wait for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Send SIGTERM and wait (up to `within`) for the process to exit.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// GET and parse JSON.
    pub async fn get(&self, path: &str) -> Resp {
        Resp::from(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("POST");
        Resp::from(r).await
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        let r = self
            .http
            .put(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("PUT");
        Resp::from(r).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Resp {
        Resp::from(
            self.http
                .delete(format!("{}{path}", self.base))
                .send()
                .await
                .expect("DELETE"),
        )
        .await
    }

    /// Send `method path` with an optional bearer key and JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut b = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = bearer {
            b = b.bearer_auth(key);
        }
        if let Some(body) = body {
            b = b.json(body);
        }
        Resp::from(b.send().await.expect("request")).await
    }

    /// PUT raw bytes with `content_type` and an optional bearer key (plugin
    /// publishing), on a connection of its own.
    ///
    /// An answer given before the body was read (401, 403, 413, 415) makes
    /// the server drop the connection; `Connection: close` keeps the pool
    /// from reusing it for the next request. tests/publish.rs checks that
    /// case separately, with a pooled connection.
    pub async fn put_bytes(
        &self,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
        bearer: Option<&str>,
    ) -> Resp {
        let mut b = self
            .http
            .put(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::CONNECTION, "close")
            .body(bytes);
        if let Some(key) = bearer {
            b = b.bearer_auth(key);
        }
        Resp::from(b.send().await.expect("PUT bytes")).await
    }

    /// GET with an optional bearer key.
    pub async fn get_auth(&self, path: &str, bearer: Option<&str>) -> Resp {
        self.send(reqwest::Method::GET, path, bearer, None).await
    }

    /// POST JSON with an optional bearer key.
    pub async fn post_auth(&self, path: &str, body: &Value, bearer: Option<&str>) -> Resp {
        self.send(reqwest::Method::POST, path, bearer, Some(body))
            .await
    }

    /// DELETE with an optional bearer key.
    pub async fn delete_auth(&self, path: &str, bearer: Option<&str>) -> Resp {
        self.send(reqwest::Method::DELETE, path, bearer, None).await
    }

    /// Rows in the request log of this server's store (SQLite file or
    /// PostgreSQL database); 0 while the table does not exist yet.
    pub async fn request_log_rows(&self) -> i64 {
        match &self.database_url {
            Some(url) => {
                let exists = pg::query_i64(
                    url,
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = 'request_log'",
                )
                .await;
                if exists == 0 {
                    return 0;
                }
                pg::query_i64(url, "SELECT count(*) FROM request_log").await
            }
            None => rusqlite::Connection::open_with_flags(
                &self.db_path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .and_then(|c| c.query_row("SELECT count(*) FROM request_log", [], |r| r.get(0)))
            .unwrap_or(0),
        }
    }

    /// Send a raw request built by `f`.
    pub async fn raw(
        &self,
        f: impl FnOnce(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Resp {
        Resp::from(f(&self.http, &self.base).send().await.expect("request")).await
    }

    /// Wait until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if self.get("/readyz").await.status == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server never became ready; log:\n{}", self.log_text());
    }
}

impl Server {
    /// Wait until `/readyz` answers 200 and assert that its `backend` is
    /// `backend`: a test meant for PostgreSQL must not pass on SQLite.
    pub async fn wait_ready_on(&self, backend: pg::Backend) {
        self.wait_ready().await;
        let r = self.get("/readyz").await;
        let want = match backend {
            pg::Backend::Sqlite => "sqlite",
            pg::Backend::Postgres => "postgres",
        };
        assert_eq!(r.json["backend"], want, "/readyz: {}", r.text);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A response: status, headers, body parsed as JSON (Null when empty or not JSON).
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body as JSON.
    pub json: Value,
    /// Body as text.
    pub text: String,
}

impl Resp {
    async fn from(r: reqwest::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            json,
            text,
        }
    }

    /// Header value as str.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Assert the contract's error shape with `status` and `code`; returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "status; body: {}", self.text);
        let err = &self.json["error"];
        assert_eq!(err["code"], code, "error code; body: {}", self.text);
        let message = err["message"].as_str().unwrap_or_default().to_string();
        assert!(!message.is_empty(), "error message must not be empty");
        let id = err["request_id"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "request_id in body");
        assert_eq!(
            self.header("x-request-id"),
            Some(id),
            "x-request-id header equals body request_id"
        );
        message
    }
}

/// The `suggestions` strings of an analyze answer (the evil test plugin
/// reports what its attacks saw there).
pub fn suggestions(r: &Resp) -> Vec<String> {
    r.json["suggestions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The `p` quantile (0..=1) of sorted durations; zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Peak resident set size of process `pid` (`VmHWM`), in MiB.
pub fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb / 1024)
        .expect("VmHWM")
}

/// Copy `src` into `dir/name` the way a careful deployer does: write a temp
/// file, then rename over the target, so the server never sees half a file.
pub fn install(src: &Path, dir: &Path, name: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::copy(src, &tmp).expect("copy");
    std::fs::rename(&tmp, dir.join(name)).expect("rename");
}

/// The `GET /api/v1/plugins` row of `file`, or null.
pub async fn plugin_row(s: &Server, file: &str) -> Value {
    let r = s.get("/api/v1/plugins").await;
    r.json["plugins"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["file"] == file).cloned())
        .unwrap_or(Value::Null)
}

/// Poll the plugin listing until `file`'s row satisfies `pred` (20 s at most).
pub async fn wait_for_row(s: &Server, file: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let row = plugin_row(s, file).await;
        if pred(&row) {
            return row;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting on {file}: {row}\n{}",
            s.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
