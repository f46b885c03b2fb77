//! The request log: one row per operation, written in batches by a
//! dedicated thread on its own connection, so logging never adds a database
//! round trip to a request.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel},
    },
    time::{Duration, Instant},
};

use rusqlite::{Connection, params};

use super::StoreError;

/// One finished request.
#[derive(Debug, Clone, Default)]
pub struct RequestRecord {
    /// The request id.
    pub request_id: String,
    /// `analyze`, `remix` or `create`.
    pub operation: &'static str,
    /// Plugin that served it (or was asked for).
    pub strategy: Option<String>,
    /// Its version, when it ran.
    pub strategy_version: Option<String>,
    /// Style name (remix).
    pub style: Option<String>,
    /// LLM model, when one was called.
    pub model: Option<String>,
    /// HTTP status answered.
    pub status: u16,
    /// Error code, for failures.
    pub error_code: Option<String>,
    /// Time from request to response.
    pub latency: Duration,
    /// LLM calls made.
    pub llm_calls: u32,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Input text (only kept when prompt logging is on).
    pub prompt: Option<String>,
    /// Output text (only kept when prompt logging is on).
    pub completion: Option<String>,
    /// Time spent waiting on the LLM (not stored; feeds the host-overhead metric).
    pub llm_wait: Duration,
}

impl RequestRecord {
    /// An empty record for `operation` of request `request_id`.
    pub fn new(request_id: &str, operation: &'static str) -> RequestRecord {
        RequestRecord {
            request_id: request_id.to_string(),
            operation,
            ..RequestRecord::default()
        }
    }
}

/// Retention of the request log.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Rows older than this are pruned.
    pub max_age_days: u32,
    /// At most this many rows are kept (newest first).
    pub max_rows: u64,
}

/// Handle for recording requests; cheap to clone.
#[derive(Clone)]
pub struct RequestLog {
    tx: SyncSender<RequestRecord>,
    log_prompts: bool,
    dropped: Arc<AtomicU64>,
}

/// Records waiting to be written before new ones are dropped (and counted).
const QUEUE: usize = 10_000;
const BATCH: usize = 512;
const FLUSH_EVERY: Duration = Duration::from_millis(100);
const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl RequestLog {
    /// Open a second connection to the database at `path` and start the writer thread.
    pub fn start(
        path: &Path,
        log_prompts: bool,
        retention: Retention,
    ) -> Result<RequestLog, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // Like the main connection: a commit survives a process crash; an
        // OS crash may lose the last batch of log rows. FULL cost an fsync
        // per batch (~6 % of server CPU under load in the profile).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let (tx, rx) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("request-log".into())
            .spawn(move || writer(conn, rx, retention))
            .map_err(|e| StoreError::Worker(format!("cannot start the request-log writer: {e}")))?;
        Ok(RequestLog {
            tx,
            log_prompts,
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Whether prompt and completion text are kept.
    pub fn logs_prompts(&self) -> bool {
        self.log_prompts
    }

    /// Queue a record; never blocks. Prompt text is dropped here unless
    /// prompt logging is on, so it never reaches the writer.
    pub fn record(&self, mut record: RequestRecord) {
        if !self.log_prompts {
            record.prompt = None;
            record.completion = None;
        }
        match self.tx.try_send(record) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n, "request log queue full; records dropped");
                }
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

fn writer(mut conn: Connection, rx: Receiver<RequestRecord>, retention: Retention) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut last_prune = Instant::now() - PRUNE_EVERY;
    loop {
        match rx.recv_timeout(FLUSH_EVERY) {
            Ok(r) => {
                batch.push(r);
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(r) => batch.push(r),
                        Err(_) => break,
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                let _ = flush(&mut conn, &mut batch);
                return;
            }
        }
        if let Err(e) = flush(&mut conn, &mut batch) {
            tracing::error!("request log write failed: {e}");
            batch.clear();
        }
        if last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = Instant::now();
            if let Err(e) = prune(&conn, retention) {
                tracing::error!("request log prune failed: {e}");
            }
        }
    }
}

fn flush(conn: &mut Connection, batch: &mut Vec<RequestRecord>) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO request_log (request_id, operation, strategy, strategy_version, style, model, status,
               error_code, latency_ms, llm_calls, input_tokens, output_tokens, prompt, completion)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        for r in batch.drain(..) {
            stmt.execute(params![
                r.request_id,
                r.operation,
                r.strategy,
                r.strategy_version,
                r.style,
                r.model,
                r.status,
                r.error_code,
                r.latency.as_secs_f64() * 1000.0,
                r.llm_calls,
                r.input_tokens as i64,
                r.output_tokens as i64,
                r.prompt,
                r.completion,
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn prune(conn: &Connection, retention: Retention) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM request_log WHERE at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
        [format!("-{} days", retention.max_age_days)],
    )?;
    conn.execute(
        "DELETE FROM request_log WHERE id <= (SELECT id FROM request_log ORDER BY id DESC LIMIT 1 OFFSET ?1)",
        [retention.max_rows as i64],
    )?;
    Ok(())
}
