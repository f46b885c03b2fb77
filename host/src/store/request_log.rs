//! The request log: one row per operation, written in batches by a
//! dedicated thread on its own connection, so logging never adds a database
//! round trip, nor a thread wake-up, to a request.

use std::{
    path::Path,
    sync::{
        Arc, Condvar, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
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
///
/// A request appends its record to a shared batch under a mutex held for
/// one `Vec::push`, and wakes nobody: the writer thread takes the whole
/// batch on a timer ([`FLUSH_EVERY`]), or early when a batch fills up. A
/// channel send woke the writer on every request (a futex wake-up and a
/// context switch each, visible in the profile under load).
#[derive(Clone)]
pub struct RequestLog {
    shared: Arc<Handle>,
    log_prompts: bool,
}

/// Records waiting to be written before new ones are dropped (and counted).
const QUEUE: usize = 10_000;
/// A batch this large wakes the writer before its timer does.
const BATCH: usize = 512;
/// How long a record may wait before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What requests and the writer share.
struct Queue {
    pending: Mutex<Pending>,
    /// Signalled only when a batch fills up or the log closes.
    wake: Condvar,
    dropped: AtomicU64,
}

#[derive(Default)]
struct Pending {
    records: Vec<RequestRecord>,
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A push cannot leave the batch half-written; a poisoned lock
        // (a panic elsewhere) still guards a usable Vec.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The handles' shared part: when the last clone goes, the writer flushes
/// what is pending and stops.
struct Handle(Arc<Queue>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.wake.notify_one();
    }
}

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
        let queue = Arc::new(Queue {
            pending: Mutex::new(Pending {
                records: Vec::with_capacity(BATCH),
                closed: false,
            }),
            wake: Condvar::new(),
            dropped: AtomicU64::new(0),
        });
        let writer_queue = Arc::clone(&queue);
        std::thread::Builder::new()
            .name("request-log".into())
            .spawn(move || writer(conn, &writer_queue, retention))
            .map_err(|e| StoreError::Worker(format!("cannot start the request-log writer: {e}")))?;
        Ok(RequestLog {
            shared: Arc::new(Handle(queue)),
            log_prompts,
        })
    }

    /// Whether prompt and completion text are kept.
    pub fn logs_prompts(&self) -> bool {
        self.log_prompts
    }

    /// Queue a record; never blocks on I/O and wakes no thread (except once
    /// per full batch). Prompt text is dropped here unless prompt logging
    /// is on, so it never reaches the writer.
    pub fn record(&self, mut record: RequestRecord) {
        if !self.log_prompts {
            record.prompt = None;
            record.completion = None;
        }
        let queue = &self.shared.0;
        let mut pending = queue.lock();
        let len = pending.records.len();
        if len >= QUEUE {
            drop(pending);
            let n = queue.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "request log queue full; records dropped");
            }
            return;
        }
        pending.records.push(record);
        drop(pending);
        if len + 1 == BATCH {
            queue.wake.notify_one();
        }
    }
}

fn writer(mut conn: Connection, queue: &Queue, retention: Retention) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut last_prune = Instant::now() - PRUNE_EVERY;
    loop {
        let closed = {
            let pending = queue.lock();
            let (mut pending, _) = queue
                .wake
                .wait_timeout_while(pending, FLUSH_EVERY, |p| {
                    p.records.len() < BATCH && !p.closed
                })
                .unwrap_or_else(PoisonError::into_inner);
            // Swap buffers: requests keep appending to an allocated Vec.
            std::mem::swap(&mut pending.records, &mut batch);
            pending.closed
        };
        if let Err(e) = flush(&mut conn, &mut batch) {
            tracing::error!("request log write failed: {e}");
            batch.clear();
        }
        if closed {
            return;
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
