//! The PostgreSQL backend (fleet mode): every instance of a fleet shares
//! one database, and a LISTEN/NOTIFY listener keeps each instance's
//! in-memory registry in step with the others' writes.
//!
//! `Postgres::start` never waits on the server: it builds a lazy pool and
//! spawns the keeper task (listener.rs), which connects, migrates, loads
//! user styles and listens, reconnecting for as long as the instance
//! lives. Until the schema is known to be current, every operation answers
//! [`StoreError::Unavailable`] (HTTP 503) rather than touching tables that
//! may not exist yet.

mod connect;
mod eval;
mod listener;
mod llm_cache;
mod migrate;
mod plugins;
mod request_log;
mod styles;
#[cfg(test)]
mod tests;

use std::{future::Future, sync::Arc, time::Duration};

use deadpool_postgres::Pool;

use super::{
    CachePut, CachedAnswer, IfMatch, LogRow, NewPluginVersion, NewRun, NewStyle, PluginVersion,
    Published, PublishedPlugin, Retention, RunRecord, Stale, StoreError, StyleRecord, StyleUpdate,
    SuiteRecord, backend::Backend, snapshot::StyleCache,
};
use listener::Health;

/// What the keeper task updates in the rest of the store when the database
/// changes under this instance (another instance wrote, or a reconnect
/// resynced).
pub(crate) struct Hooks {
    /// The user-style layer of the registry; replaced on every newer version.
    pub styles: StyleCache,
    /// Bumped when published plugins may have changed.
    pub plugin_changes: tokio::sync::watch::Sender<u64>,
}

/// What the handle and its keeper task share.
struct Shared {
    pool: Pool,
    target: connect::Target,
    timeout: Duration,
    health: Health,
    hooks: Hooks,
}

/// A PostgreSQL-backed store: a connection pool for operations plus one
/// dedicated listener connection driven by the keeper task.
pub(crate) struct Postgres {
    shared: Arc<Shared>,
    keeper: tokio::task::JoinHandle<()>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // The keeper holds the shared state; without this it would keep
        // reconnecting after the store is gone.
        self.keeper.abort();
    }
}

impl Postgres {
    /// Returns at once even when the server is unreachable; spawns the
    /// keeper task (connect, migrate, load, listen, reconnect) on the
    /// current tokio runtime. Fails only on a malformed URL or TLS setup.
    pub(crate) fn start(
        url: &str,
        pool_size: usize,
        timeout: Duration,
        hooks: Hooks,
    ) -> Result<Postgres, StoreError> {
        let target = connect::Target::parse(url, timeout)?;
        let pool = target.pool(pool_size, timeout)?;
        tracing::info!(database = %target.describe(), tls = target.tls_name(), "using PostgreSQL");
        let shared = Arc::new(Shared {
            pool,
            target,
            timeout,
            health: Health::default(),
            hooks,
        });
        let keeper = tokio::spawn(listener::keep(Arc::clone(&shared)));
        Ok(Postgres { shared, keeper })
    }

    /// `Ok` when the listener is connected and the schema is current;
    /// otherwise why not (for readiness and logs).
    pub(crate) fn status(&self) -> Result<(), String> {
        self.shared.health.status()
    }

    /// Run one operation on a pooled connection, bounded by the timeout,
    /// once the schema is known to be current.
    async fn run<R>(
        &self,
        op: impl Future<Output = Result<R, StoreError>>,
    ) -> Result<R, StoreError> {
        self.shared.health.schema_ready()?;
        bounded(self.shared.timeout, op).await
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.shared.pool.get().await.map_err(pool_err)
    }
}

/// `op` bounded by `timeout`; past it, `Unavailable`.
async fn bounded<R>(
    timeout: Duration,
    op: impl Future<Output = Result<R, StoreError>>,
) -> Result<R, StoreError> {
    tokio::time::timeout(timeout, op).await.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(format!(
            "database did not answer within {} s",
            timeout.as_secs_f64()
        )))
    })
}

/// A driver error as a store error: connection-level failures (I/O, TLS,
/// closed connection, server shutting down or out of connections) are
/// `Unavailable`; anything the server answered about the SQL is `Postgres`.
fn db_err(e: tokio_postgres::Error) -> StoreError {
    let text = describe_error(&e);
    if is_unavailable(&e) {
        StoreError::Unavailable(text)
    } else {
        StoreError::Postgres(text)
    }
}

fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // 08: connection exception; 53: insufficient resources (too many
        // connections, disk full); 57P0x: admin/crash shutdown, cannot
        // connect now.
        Some(code) => {
            let c = code.code();
            c.starts_with("08") || c.starts_with("53") || c.starts_with("57P")
        }
        // No SQLSTATE: the failure happened below SQL (socket, TLS, auth
        // handshake, timeout).
        None => true,
    }
}

/// The error and its causes on one line (tokio-postgres's own `Display`
/// is only the kind: "db error", "error connecting to server").
fn describe_error(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db_err(e),
        other => StoreError::Unavailable(format!("database connection pool: {other}")),
    }
}

impl Backend for Postgres {
    async fn load_user_styles(&self) -> Result<(u64, Vec<StyleRecord>), StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            styles::load(&mut c).await
        })
        .await
    }

    async fn insert_style(
        &self,
        style: &NewStyle,
        now: &str,
    ) -> Result<(u64, StyleRecord), StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            styles::insert(&mut c, style, now).await
        })
        .await
    }

    async fn update_style(
        &self,
        name: &str,
        update: &StyleUpdate,
        if_match: Option<&IfMatch>,
        now: &str,
    ) -> Result<Result<(u64, StyleRecord), Stale>, StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            styles::update(&mut c, name, update, if_match, now).await
        })
        .await
    }

    async fn delete_style(
        &self,
        name: &str,
        if_match: Option<&IfMatch>,
    ) -> Result<Result<u64, Stale>, StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            styles::delete(&mut c, name, if_match).await
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.status().map_err(StoreError::Unavailable)?;
        bounded(self.shared.timeout, async {
            let c = self.client().await?;
            c.simple_query("SELECT 1").await.map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn active_plugins(&self) -> Result<Vec<PublishedPlugin>, StoreError> {
        self.run(async {
            let c = self.client().await?;
            plugins::active(&c).await
        })
        .await
    }

    async fn plugin_component(&self, name: &str, sha256: &str) -> Result<Vec<u8>, StoreError> {
        self.run(async {
            let c = self.client().await?;
            plugins::component(&c, name, sha256).await
        })
        .await
    }

    async fn publish_plugin(
        &self,
        version: &NewPluginVersion,
        now: &str,
    ) -> Result<Published, StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            plugins::publish(&mut c, version, now).await
        })
        .await
    }

    async fn plugin_versions(&self, name: &str) -> Result<Vec<PluginVersion>, StoreError> {
        self.run(async {
            let c = self.client().await?;
            plugins::versions(&c, name).await
        })
        .await
    }

    async fn activate_plugin_version(
        &self,
        name: &str,
        sha256: &str,
        now: &str,
    ) -> Result<PublishedPlugin, StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            plugins::activate(&mut c, name, sha256, now).await
        })
        .await
    }

    async fn delete_plugin(&self, name: &str) -> Result<(), StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            plugins::delete(&mut c, name).await
        })
        .await
    }

    async fn put_artifact(
        &self,
        sha256: &str,
        engine: &str,
        artifact: &[u8],
        now: &str,
    ) -> Result<(), StoreError> {
        self.run(async {
            let c = self.client().await?;
            plugins::put_artifact(&c, sha256, engine, artifact, now).await
        })
        .await
    }

    async fn artifact(&self, sha256: &str, engine: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(async {
            let c = self.client().await?;
            plugins::artifact(&c, sha256, engine).await
        })
        .await
    }

    async fn write_request_log(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            request_log::write(&mut c, rows).await
        })
        .await
    }

    async fn prune_request_log(&self, retention: Retention) -> Result<(), StoreError> {
        self.run(async {
            let c = self.client().await?;
            request_log::prune(&c, retention).await
        })
        .await
    }

    async fn import_styles(&self, styles: &[StyleRecord]) -> Result<(u64, u64), StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            styles::import(&mut c, styles).await
        })
        .await
    }

    async fn suites(&self) -> Result<Vec<SuiteRecord>, StoreError> {
        self.run(async {
            let c = self.client().await?;
            eval::suites(&c).await
        })
        .await
    }

    async fn suite(&self, name: &str) -> Result<Option<SuiteRecord>, StoreError> {
        self.run(async {
            let c = self.client().await?;
            eval::suite(&c, name).await
        })
        .await
    }

    async fn insert_suite(
        &self,
        name: &str,
        description: &str,
        body: &str,
        now: &str,
    ) -> Result<SuiteRecord, StoreError> {
        self.run(async {
            let c = self.client().await?;
            eval::insert_suite(&c, name, description, body, now).await
        })
        .await
    }

    async fn update_suite(
        &self,
        name: &str,
        description: &str,
        body: &str,
        now: &str,
    ) -> Result<SuiteRecord, StoreError> {
        self.run(async {
            let c = self.client().await?;
            eval::update_suite(&c, name, description, body, now).await
        })
        .await
    }

    async fn delete_suite(&self, name: &str) -> Result<(), StoreError> {
        self.run(async {
            let c = self.client().await?;
            eval::delete_suite(&c, name).await
        })
        .await
    }

    async fn insert_eval_run(&self, run: &NewRun, keep: u64) -> Result<(), StoreError> {
        self.run(async {
            let c = self.client().await?;
            eval::insert_run(&c, run, keep.max(1)).await
        })
        .await
    }

    async fn eval_runs(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        self.run(async {
            let c = self.client().await?;
            eval::runs(&c, limit).await
        })
        .await
    }

    async fn eval_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.run(async {
            let c = self.client().await?;
            eval::run(&c, run_id).await
        })
        .await
    }

    async fn llm_cache_get(
        &self,
        key: &str,
        fresh_since_ms: i64,
    ) -> Result<Option<CachedAnswer>, StoreError> {
        self.run(async {
            let c = self.client().await?;
            llm_cache::get(&c, key, fresh_since_ms).await
        })
        .await
    }

    async fn llm_cache_put(
        &self,
        answer: &CachedAnswer,
        max_entries: u64,
    ) -> Result<CachePut, StoreError> {
        self.run(async {
            let mut c = self.client().await?;
            llm_cache::put(&mut c, answer, max_entries).await
        })
        .await
    }

    async fn llm_cache_prune(&self, stale_before_ms: i64) -> Result<u64, StoreError> {
        self.run(async {
            let c = self.client().await?;
            llm_cache::prune(&c, stale_before_ms).await
        })
        .await
    }
}
