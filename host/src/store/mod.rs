//! Persistence behind one interface with two backends: the style registry,
//! the request log and published plugins, in a SQLite file (one instance,
//! the embedded default) or in PostgreSQL (a fleet of instances sharing one
//! database).
//!
//! Style reads never reach a database: they are served from an in-memory
//! snapshot (snapshot.rs) that every committed write updates in
//! registry-version order and, on PostgreSQL, every other instance's write
//! refreshes through a change notification.

/// Run `$body` with `$b` bound to the backend, whichever it is: the two
/// implement one trait (backend.rs), dispatched without boxing.
macro_rules! on_backend {
    ($db:expr, $b:ident => $body:expr) => {{
        use $crate::store::backend::Backend as _;
        match &$db.inner.backend {
            $crate::store::AnyBackend::Sqlite($b) => $body,
            $crate::store::AnyBackend::Postgres($b) => $body,
        }
    }};
}

mod backend;
mod builtin;
mod eval;
mod import;
mod llm_cache;
mod postgres;
mod published;
mod request_log;
mod snapshot;
mod sqlite;
mod styles;

use std::{path::PathBuf, sync::Arc, time::Duration};

use tokio::sync::watch;

pub use eval::{NewRun, RunRecord, SuiteRecord};
pub use import::ImportReport;
pub use llm_cache::{CachePut, CachedAnswer};
pub use published::{NewPluginVersion, PluginVersion, Published, PublishedPlugin};
pub use request_log::{LogRow, RequestLog, RequestRecord, Retention};
pub use snapshot::StyleSnapshot;
pub use styles::{IfMatch, NewStyle, Stale, StyleExample, StyleRecord, StyleSource, StyleUpdate};

use backend::Backend;
use snapshot::StyleCache;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The write would break a uniqueness or ownership rule.
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached (down, restarting, or past the
    /// operation's deadline); the operation did not happen.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// SQLite itself failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused a statement.
    #[error("database error: {0}")]
    Postgres(String),
    /// Stored data could not be decoded.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The blocking task running the query died or the lock was poisoned.
    #[error("database worker failed: {0}")]
    Worker(String),
}

/// Which database to open.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// A SQLite file (created and migrated at start).
    Sqlite {
        /// The file.
        path: PathBuf,
    },
    /// A PostgreSQL database shared by every instance.
    Postgres {
        /// `postgres://user:pass@host:port/db[?sslmode=…]`.
        url: String,
        /// Pooled connections (the change listener has its own besides).
        pool_size: usize,
        /// Deadline of one database operation.
        timeout: Duration,
    },
}

impl StoreConfig {
    /// Where the data lives, for messages: the file, or the server without
    /// its credentials.
    pub fn describe(&self) -> String {
        match self {
            StoreConfig::Sqlite { path } => format!("SQLite file {}", path.display()),
            StoreConfig::Postgres { url, .. } => format!("PostgreSQL {}", redact_url(url)),
        }
    }
}

/// `url` without its password.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

pub(crate) enum AnyBackend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

struct Inner {
    backend: AnyBackend,
    /// Every style, in memory.
    styles: StyleCache,
    /// Bumped when published plugins may have changed under this instance.
    plugin_changes: watch::Receiver<u64>,
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

impl Db {
    /// Open the configured database. SQLite: the file is created and
    /// migrated now (an error ends startup). PostgreSQL: returns at once,
    /// reachable or not; a background task connects, migrates, loads the
    /// user styles and listens for changes, and reconnects by itself.
    pub async fn open(config: &StoreConfig) -> Result<Db, StoreError> {
        let styles = StyleCache::with_builtin(builtin::styles()?);
        let (changes_tx, plugin_changes) = watch::channel(0u64);
        let backend = match config {
            StoreConfig::Sqlite { path } => {
                let path = path.clone();
                let sqlite = tokio::task::spawn_blocking(move || sqlite::Sqlite::open(&path))
                    .await
                    .map_err(|e| StoreError::Worker(e.to_string()))??;
                let (version, user) = sqlite.load_user_styles().await?;
                styles.replace_user(version, user);
                // No other writer: nothing will ever be sent.
                drop(changes_tx);
                AnyBackend::Sqlite(sqlite)
            }
            StoreConfig::Postgres {
                url,
                pool_size,
                timeout,
            } => AnyBackend::Postgres(postgres::Postgres::start(
                url,
                *pool_size,
                *timeout,
                postgres::Hooks {
                    styles: styles.clone(),
                    plugin_changes: changes_tx,
                },
            )?),
        };
        Ok(Db {
            inner: Arc::new(Inner {
                backend,
                styles,
                plugin_changes,
            }),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.inner.backend {
            AnyBackend::Sqlite(_) => "sqlite",
            AnyBackend::Postgres(_) => "postgres",
        }
    }

    /// The style registry as of the last change this instance saw: one
    /// atomic load, no query and no thread hand-off. Hold the `Arc` to read
    /// one consistent version across several lookups.
    pub fn styles(&self) -> Arc<StyleSnapshot> {
        self.inner.styles.load()
    }

    /// Whether the user styles have been read from the database at least
    /// once (false while a PostgreSQL database was never reachable).
    pub fn user_styles_loaded(&self) -> bool {
        self.inner.styles.user_version().is_some()
    }

    /// Reload the user styles from the database in full.
    pub async fn refresh_styles(&self) -> Result<(), StoreError> {
        let (version, user) = on_backend!(self, b => b.load_user_styles().await)?;
        self.inner.styles.replace_user(version, user);
        Ok(())
    }

    /// Ok when the database answers a trivial query within the deadline
    /// (and, on PostgreSQL, the change listener is connected).
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_backend!(self, b => b.ping().await)
    }

    /// Changes whenever published plugins may have changed under this
    /// instance (another instance published, or the database came back
    /// and nothing can be assumed); never on SQLite.
    pub fn plugin_changes(&self) -> watch::Receiver<u64> {
        self.inner.plugin_changes.clone()
    }
}

impl Db {
    /// Every saved evaluate suite, by name.
    pub async fn suites(&self) -> Result<Vec<SuiteRecord>, StoreError> {
        on_backend!(self, b => b.suites().await)
    }

    /// One suite, when saved.
    pub async fn suite(&self, name: &str) -> Result<Option<SuiteRecord>, StoreError> {
        on_backend!(self, b => b.suite(name).await)
    }

    /// Save a new suite; `Conflict` when the name is taken.
    pub async fn insert_suite(
        &self,
        name: &str,
        description: &str,
        body: &str,
    ) -> Result<SuiteRecord, StoreError> {
        let now = now_rfc3339();
        on_backend!(self, b => b.insert_suite(name, description, body, &now).await)
    }

    /// Replace a suite's description and body; `NotFound` when absent.
    pub async fn update_suite(
        &self,
        name: &str,
        description: &str,
        body: &str,
    ) -> Result<SuiteRecord, StoreError> {
        let now = now_rfc3339();
        on_backend!(self, b => b.update_suite(name, description, body, &now).await)
    }

    /// Delete a suite; `NotFound` when absent.
    pub async fn delete_suite(&self, name: &str) -> Result<(), StoreError> {
        on_backend!(self, b => b.delete_suite(name).await)
    }

    /// Store an evaluate run, keeping only the newest `keep`.
    pub async fn insert_eval_run(&self, run: &NewRun, keep: u64) -> Result<(), StoreError> {
        on_backend!(self, b => b.insert_eval_run(run, keep).await)
    }

    /// The newest `limit` runs, without their results.
    pub async fn eval_runs(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        on_backend!(self, b => b.eval_runs(limit).await)
    }

    /// One run with its results, when stored.
    pub async fn eval_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        on_backend!(self, b => b.eval_run(run_id).await)
    }
}

/// Current UTC time, RFC 3339 with milliseconds: the format of every stored
/// timestamp, so both backends answer alike.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_the_password_only() {
        assert_eq!(
            redact_url("postgres://app:s3cr@t@db.internal:5432/ps?sslmode=require"),
            "postgres://app:***@db.internal:5432/ps?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://127.0.0.1/ps"),
            "postgres://127.0.0.1/ps"
        );
    }
}
