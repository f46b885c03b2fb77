//! The SQLite backend: one file, one instance. Three connections, each
//! behind a mutex and used only from `spawn_blocking`: one for the
//! registry and plugins, one for the request log, so a log batch never
//! delays a style write, and one for the LLM cache, so a cache lookup on
//! the request path never queues behind either. WAL mode keeps readers
//! and the writer apart.

mod eval;
mod llm_cache;
mod migrate;
mod plugins;
mod styles;

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use rusqlite::{Connection, TransactionBehavior, params};

use super::backend::Backend;
use super::{
    CachePut, CachedAnswer, IfMatch, LogRow, NewPluginVersion, NewRun, NewStyle, PluginVersion,
    Published, PublishedPlugin, Retention, RunRecord, Stale, StoreError, StyleRecord, StyleUpdate,
    SuiteRecord,
};

/// The SQLite backend.
pub(crate) struct Sqlite {
    main: Arc<Mutex<Connection>>,
    log: Arc<Mutex<Connection>>,
    cache: Arc<Mutex<Connection>>,
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // WAL + NORMAL: a committed write survives a process crash; only an OS
    // crash can lose the last transactions, which is the usual trade-off.
    // (FULL cost an fsync per request-log batch: ~6 % of server CPU.)
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

impl Sqlite {
    /// Open (creating if needed) the file at `path` and apply pending
    /// migrations. Blocking.
    pub(crate) fn open(path: &Path) -> Result<Sqlite, StoreError> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Worker(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let mut main = connect(path)?;
        migrate::apply(&mut main)?;
        let log = connect(path)?;
        let cache = connect(path)?;
        Ok(Sqlite {
            main: Arc::new(Mutex::new(main)),
            log: Arc::new(Mutex::new(log)),
            cache: Arc::new(Mutex::new(cache)),
        })
    }

    /// Run `f` with the registry connection on the blocking pool.
    async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        run(&self.main, f).await
    }
}

async fn run<R, F>(conn: &Arc<Mutex<Connection>>, f: F) -> Result<R, StoreError>
where
    R: Send + 'static,
    F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
{
    let conn = Arc::clone(conn);
    tokio::task::spawn_blocking(move || {
        let mut guard = conn
            .lock()
            .map_err(|_| StoreError::Worker("connection lock poisoned".into()))?;
        f(&mut guard)
    })
    .await
    .map_err(|e| StoreError::Worker(e.to_string()))?
}

/// A transaction that takes the write lock up front. A deferred
/// read-then-write transaction fails with SQLITE_BUSY_SNAPSHOT when another
/// connection (the request-log writer) committed in between, and the busy
/// timeout cannot help there.
fn write_tx(c: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    c.transaction_with_behavior(TransactionBehavior::Immediate)
}

impl Backend for Sqlite {
    async fn load_user_styles(&self) -> Result<(u64, Vec<StyleRecord>), StoreError> {
        self.call(|c| {
            let tx = c.transaction()?;
            let loaded = (styles::version(&tx)?, styles::load_all(&tx)?);
            tx.commit()?;
            Ok(loaded)
        })
        .await
    }

    async fn insert_style(
        &self,
        style: &NewStyle,
        now: &str,
    ) -> Result<(u64, StyleRecord), StoreError> {
        let (style, now) = (style.clone(), now.to_string());
        self.call(move |c| {
            let tx = write_tx(c)?;
            let version = styles::bump(&tx)?;
            let record = styles::insert(&tx, &style, &now)?;
            tx.commit()?;
            Ok((version, record))
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
        let (name, update, if_match, now) = (
            name.to_string(),
            update.clone(),
            if_match.cloned(),
            now.to_string(),
        );
        self.call(move |c| {
            let tx = write_tx(c)?;
            if let Err(stale) = styles::current(&tx, &name, if_match.as_ref())? {
                return Ok(Err(stale));
            }
            let version = styles::bump(&tx)?;
            let record = styles::update(&tx, &name, &update, &now)?;
            tx.commit()?;
            Ok(Ok((version, record)))
        })
        .await
    }

    async fn delete_style(
        &self,
        name: &str,
        if_match: Option<&IfMatch>,
    ) -> Result<Result<u64, Stale>, StoreError> {
        let (name, if_match) = (name.to_string(), if_match.cloned());
        self.call(move |c| {
            let tx = write_tx(c)?;
            if let Err(stale) = styles::current(&tx, &name, if_match.as_ref())? {
                return Ok(Err(stale));
            }
            let version = styles::bump(&tx)?;
            tx.execute("DELETE FROM styles WHERE name = ?1", [&name])?;
            tx.commit()?;
            Ok(Ok(version))
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.call(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .map(|_| ())
    }

    async fn active_plugins(&self) -> Result<Vec<PublishedPlugin>, StoreError> {
        self.call(|c| plugins::active(c)).await
    }

    async fn plugin_component(&self, name: &str, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let (name, sha256) = (name.to_string(), sha256.to_string());
        self.call(move |c| plugins::component(c, &name, &sha256))
            .await
    }

    async fn publish_plugin(
        &self,
        version: &NewPluginVersion,
        now: &str,
    ) -> Result<Published, StoreError> {
        let (version, now) = (version.clone(), now.to_string());
        self.call(move |c| {
            let tx = write_tx(c)?;
            let published = plugins::publish(&tx, &version, &now)?;
            tx.commit()?;
            Ok(published)
        })
        .await
    }

    async fn plugin_versions(&self, name: &str) -> Result<Vec<PluginVersion>, StoreError> {
        let name = name.to_string();
        self.call(move |c| plugins::versions(c, &name)).await
    }

    async fn activate_plugin_version(
        &self,
        name: &str,
        sha256: &str,
        now: &str,
    ) -> Result<PublishedPlugin, StoreError> {
        let (name, sha256, now) = (name.to_string(), sha256.to_string(), now.to_string());
        self.call(move |c| {
            let tx = write_tx(c)?;
            let active = plugins::activate(&tx, &name, &sha256, &now)?;
            tx.commit()?;
            Ok(active)
        })
        .await
    }

    async fn delete_plugin(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.call(move |c| {
            let tx = write_tx(c)?;
            plugins::delete(&tx, &name)?;
            tx.commit()?;
            Ok(())
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
        let (sha256, engine, artifact, now) = (
            sha256.to_string(),
            engine.to_string(),
            artifact.to_vec(),
            now.to_string(),
        );
        self.call(move |c| {
            c.execute(
                "INSERT INTO compiled_artifacts (sha256, engine, artifact, created_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT(sha256, engine) DO NOTHING",
                params![sha256, engine, artifact, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn artifact(&self, sha256: &str, engine: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (sha256, engine) = (sha256.to_string(), engine.to_string());
        self.call(move |c| {
            use rusqlite::OptionalExtension;
            Ok(c.query_row(
                "SELECT artifact FROM compiled_artifacts WHERE sha256 = ?1 AND engine = ?2",
                [&sha256, &engine],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn write_request_log(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        let rows = rows.to_vec();
        run(&self.log, move |c| {
            let tx = c.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO request_log (at, request_id, operation, strategy, strategy_version,
                       style, model, status, error_code, latency_ms, llm_calls, input_tokens,
                       output_tokens, prompt, completion)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )?;
                for r in &rows {
                    stmt.execute(params![
                        r.at,
                        r.request_id,
                        r.operation,
                        r.strategy,
                        r.strategy_version,
                        r.style,
                        r.model,
                        r.status,
                        r.error_code,
                        r.latency_ms,
                        r.llm_calls,
                        r.input_tokens,
                        r.output_tokens,
                        r.prompt,
                        r.completion,
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn prune_request_log(&self, retention: Retention) -> Result<(), StoreError> {
        run(&self.log, move |c| {
            c.execute(
                "DELETE FROM request_log WHERE at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
                [format!("-{} days", retention.max_age_days)],
            )?;
            c.execute(
                "DELETE FROM request_log WHERE id <= (SELECT id FROM request_log ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                [retention.max_rows as i64],
            )?;
            Ok(())
        })
        .await
    }

    async fn import_styles(&self, records: &[StyleRecord]) -> Result<(u64, u64), StoreError> {
        let records = records.to_vec();
        self.call(move |c| {
            let tx = write_tx(c)?;
            let mut imported = 0;
            for r in &records {
                if styles::insert_record(&tx, r)? {
                    imported += 1;
                }
            }
            if imported > 0 {
                styles::bump(&tx)?;
            }
            tx.commit()?;
            Ok((imported, records.len() as u64 - imported))
        })
        .await
    }

    async fn suites(&self) -> Result<Vec<SuiteRecord>, StoreError> {
        self.call(|c| eval::suites(c)).await
    }

    async fn suite(&self, name: &str) -> Result<Option<SuiteRecord>, StoreError> {
        let name = name.to_string();
        self.call(move |c| eval::suite(c, &name)).await
    }

    async fn insert_suite(
        &self,
        name: &str,
        description: &str,
        body: &str,
        now: &str,
    ) -> Result<SuiteRecord, StoreError> {
        let (name, description, body, now) = (
            name.to_string(),
            description.to_string(),
            body.to_string(),
            now.to_string(),
        );
        self.call(move |c| eval::insert_suite(c, &name, &description, &body, &now))
            .await
    }

    async fn update_suite(
        &self,
        name: &str,
        description: &str,
        body: &str,
        now: &str,
    ) -> Result<SuiteRecord, StoreError> {
        let (name, description, body, now) = (
            name.to_string(),
            description.to_string(),
            body.to_string(),
            now.to_string(),
        );
        self.call(move |c| eval::update_suite(c, &name, &description, &body, &now))
            .await
    }

    async fn delete_suite(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.call(move |c| eval::delete_suite(c, &name)).await
    }

    async fn insert_eval_run(&self, run: &NewRun, keep: u64) -> Result<(), StoreError> {
        let run = run.clone();
        self.call(move |c| {
            let tx = write_tx(c)?;
            eval::insert_run(&tx, &run, keep.max(1))?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn eval_runs(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        self.call(move |c| eval::runs(c, limit)).await
    }

    async fn eval_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let run_id = run_id.to_string();
        self.call(move |c| eval::run(c, &run_id)).await
    }

    async fn llm_cache_get(
        &self,
        key: &str,
        fresh_since_ms: i64,
    ) -> Result<Option<CachedAnswer>, StoreError> {
        let key = key.to_string();
        run(&self.cache, move |c| {
            llm_cache::get(c, &key, fresh_since_ms)
        })
        .await
    }

    async fn llm_cache_put(
        &self,
        answer: &CachedAnswer,
        max_entries: u64,
    ) -> Result<CachePut, StoreError> {
        let answer = answer.clone();
        run(&self.cache, move |c| {
            llm_cache::put(c, &answer, max_entries)
        })
        .await
    }

    async fn llm_cache_prune(&self, stale_before_ms: i64) -> Result<u64, StoreError> {
        run(&self.cache, move |c| llm_cache::prune(c, stale_before_ms)).await
    }
}

/// Read the user styles and (optionally) the request log of the SQLite file
/// at `path`, for `promptsculptor db import`. Opened read-only: the source
/// is never migrated or changed. Blocking.
pub(crate) fn read_for_import(
    path: &Path,
    request_log: bool,
) -> Result<(Vec<StyleRecord>, Vec<LogRow>), StoreError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let user = styles::load_user_any_schema(&conn)?;
    let log = if request_log {
        load_request_log(&conn)?
    } else {
        Vec::new()
    };
    Ok((user, log))
}

/// Every request-log row of `conn`, oldest first.
fn load_request_log(conn: &Connection) -> Result<Vec<LogRow>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT at, request_id, operation, strategy, strategy_version, style, model, status,
           error_code, latency_ms, llm_calls, input_tokens, output_tokens, prompt, completion
         FROM request_log ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(LogRow {
            at: r.get(0)?,
            request_id: r.get(1)?,
            operation: r.get(2)?,
            strategy: r.get(3)?,
            strategy_version: r.get(4)?,
            style: r.get(5)?,
            model: r.get(6)?,
            status: r.get(7)?,
            error_code: r.get(8)?,
            latency_ms: r.get(9)?,
            llm_calls: r.get(10)?,
            input_tokens: r.get(11)?,
            output_tokens: r.get(12)?,
            prompt: r.get(13)?,
            completion: r.get(14)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
