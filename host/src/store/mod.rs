//! SQLite persistence: the style registry and its migrations.
//!
//! One connection behind a mutex, used only from `spawn_blocking`, so async
//! workers never wait on disk. WAL mode keeps readers and the writer apart.
//! Style reads never reach it: they are served from an in-memory snapshot
//! (snapshot.rs) that every committed style write replaces.

mod migrations;
mod request_log;
mod snapshot;
mod styles;

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use rusqlite::Connection;

pub use request_log::{RequestLog, RequestRecord, Retention};
pub use snapshot::StyleSnapshot;
pub use styles::{IfMatch, NewStyle, Stale, StyleExample, StyleRecord, StyleSource, StyleUpdate};

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
    /// SQLite itself failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Stored data could not be decoded.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The blocking task running the query died or the lock was poisoned.
    #[error("database worker failed: {0}")]
    Worker(String),
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    /// Every style, in memory; replaced after each committed style write.
    styles: StyleCache,
}

impl Db {
    /// Open (creating if needed) the database at `path` and apply pending migrations.
    pub fn open(path: &Path) -> Result<Db, StoreError> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Worker(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // WAL + NORMAL: a committed write survives a process crash; only an OS
        // crash can lose the last transactions, which is the usual trade-off.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::apply(&mut conn)?;
        let styles = StyleCache::default();
        styles.reload(&conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            styles,
        })
    }

    /// The style registry as of the last committed write: one atomic load,
    /// no query and no thread hand-off. Hold the `Arc` to read one
    /// consistent version across several lookups.
    pub fn styles(&self) -> Arc<StyleSnapshot> {
        self.styles.load()
    }

    /// Replace the style snapshot with what the database holds now. Only
    /// needed when something other than this `Db` wrote styles (another
    /// instance on a shared database); this handle's own writes publish
    /// their snapshot before they return.
    pub async fn refresh_styles(&self) -> Result<(), StoreError> {
        let cache = self.styles.clone();
        self.call(move |c| cache.reload(c)).await
    }

    /// Run `f` with the connection on the blocking pool.
    pub async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Worker("connection lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
    }

    /// True when a trivial query succeeds.
    pub async fn ping(&self) -> bool {
        self.call(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .is_ok()
    }
}
