//! PostgreSQL for the black-box tests: one fresh database per test on the
//! server named by `PROMPTSCULPTOR_TEST_DATABASE_URL` (scripts/test sets it,
//! starting a throwaway cluster with scripts/pg-throwaway when no server is
//! at hand), dropped again when the test is done.
//!
//! Without `PROMPTSCULPTOR_REQUIRE_POSTGRES=1` a PostgreSQL test whose
//! server is unreachable is skipped with a note (a plain `cargo test` on a
//! laptop without PostgreSQL); with it, the test fails.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::OnceCell;

/// The administrative URL of the test PostgreSQL server (a role that may
/// CREATE and DROP databases).
pub fn admin_url() -> String {
    std::env::var("PROMPTSCULPTOR_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Whether a PostgreSQL test must fail rather than skip when the server is
/// unreachable.
pub fn required() -> bool {
    std::env::var("PROMPTSCULPTOR_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// `url` with its database name replaced by `db` (query string kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| format!("{url}: {e}"))?;
    config.connect_timeout(Duration::from_secs(5));
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("connect to {url}: {e}"))?;
    // The connection future does the I/O; it ends when the client is dropped.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Whether the test server answers. Checked once per test binary; panics
/// (failing the test) when it does not and [`required`] says it must.
pub async fn available() -> bool {
    static AVAILABLE: OnceCell<Result<(), String>> = OnceCell::const_new();
    let state = AVAILABLE
        .get_or_init(|| async {
            let client = connect(&admin_url()).await?;
            client
                .simple_query("SELECT 1")
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await;
    match state {
        Ok(()) => true,
        Err(e) if required() => panic!(
            "PostgreSQL is required (PROMPTSCULPTOR_REQUIRE_POSTGRES=1) but unreachable: {e}"
        ),
        Err(e) => {
            eprintln!("skipping a PostgreSQL test: {e} (set PROMPTSCULPTOR_TEST_DATABASE_URL)");
            false
        }
    }
}

/// A database created for one test; dropped (with its connections) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    /// URL of this database, for `PROMPTSCULPTOR_DATABASE_URL`.
    pub url: String,
    /// Its name.
    pub name: String,
}

/// Create an empty database on the test server.
pub async fn fresh_database() -> TestDatabase {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let name = format!(
        "ps_t_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin = admin_url();
    let client = connect(&admin).await.unwrap_or_else(|e| panic!("{e}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    TestDatabase {
        url: with_database(&admin, &name),
        name,
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // a thread of its own with its own runtime does the dropping, and is
        // joined so the database is gone before the test binary exits.
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(client) = connect(&admin_url()).await {
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        });
        let _ = done.join();
    }
}

/// The first column of the first row of `sql` on `url`, as i64 (for
/// assertions such as row counts).
pub async fn query_i64(url: &str, sql: &str) -> i64 {
    let client = connect(url).await.unwrap_or_else(|e| panic!("{e}"));
    let row = client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.try_get::<_, i64>(0)
        .or_else(|_| row.try_get::<_, i32>(0).map(i64::from))
        .unwrap_or_else(|e| panic!("{sql}: not an integer: {e}"))
}

/// Run `sql` (one or more statements) on `url`.
pub async fn execute(url: &str, sql: &str) {
    let client = connect(url).await.unwrap_or_else(|e| panic!("{e}"));
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Which store a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the server's temp dir.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// `both_backends!(async fn name(backend: Backend) { … })` defines
/// `mod name` with two tests, `sqlite` and `postgres`, each running the body
/// with that backend (the PostgreSQL one skips or fails per [`available`]).
/// Doc comments and attributes before `async fn` go on both tests;
/// `both_backends!(multi_thread async fn …)` runs them on a two-worker
/// multi-thread runtime (for tests that race requests).
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($b:ident : $t:ty) $body:block) => {
        $crate::both_backends!(@emit [] $(#[$meta])* $name $b $t $body);
    };
    ($(#[$meta:meta])* multi_thread async fn $name:ident($b:ident : $t:ty) $body:block) => {
        $crate::both_backends!(@emit [flavor = "multi_thread", worker_threads = 2] $(#[$meta])* $name $b $t $body);
    };
    (@emit [$($flavor:tt)*] $(#[$meta:meta])* $name:ident $b:ident $t:ty $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($b: $t) $body

            #[tokio::test($($flavor)*)]
            $(#[$meta])*
            async fn sqlite() {
                run($crate::common::pg::Backend::Sqlite).await
            }

            #[tokio::test($($flavor)*)]
            $(#[$meta])*
            async fn postgres() {
                if !$crate::common::pg::available().await {
                    return;
                }
                run($crate::common::pg::Backend::Postgres).await
            }
        }
    };
}
