//! The request log: one row per operation, written in batches by one
//! background task through the store's backend, so logging never adds a
//! database round trip, nor a wake-up, to a request. While the database is
//! unreachable, rows wait (up to a bound) and are written when it is back.

use std::{
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::Notify;

use super::{Db, StoreError, now_rfc3339};

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

/// One request-log row as stored (and as imported from a SQLite file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRow {
    /// RFC 3339 time the request finished.
    pub at: String,
    /// The request id.
    pub request_id: String,
    /// `analyze`, `remix` or `create`.
    pub operation: String,
    /// Plugin that served it.
    pub strategy: Option<String>,
    /// Its version.
    pub strategy_version: Option<String>,
    /// Style name (remix).
    pub style: Option<String>,
    /// LLM model.
    pub model: Option<String>,
    /// HTTP status answered.
    pub status: i64,
    /// Error code, for failures.
    pub error_code: Option<String>,
    /// Latency in milliseconds.
    pub latency_ms: f64,
    /// LLM calls made.
    pub llm_calls: i64,
    /// Prompt tokens.
    pub input_tokens: i64,
    /// Completion tokens.
    pub output_tokens: i64,
    /// Input text (prompt logging only).
    pub prompt: Option<String>,
    /// Output text (prompt logging only).
    pub completion: Option<String>,
}

impl LogRow {
    fn from_record(r: RequestRecord, at: &str) -> LogRow {
        LogRow {
            at: at.to_string(),
            request_id: r.request_id,
            operation: r.operation.to_string(),
            strategy: r.strategy,
            strategy_version: r.strategy_version,
            style: r.style,
            model: r.model,
            status: i64::from(r.status),
            error_code: r.error_code,
            latency_ms: r.latency.as_secs_f64() * 1000.0,
            llm_calls: i64::from(r.llm_calls),
            input_tokens: i64::try_from(r.input_tokens).unwrap_or(i64::MAX),
            output_tokens: i64::try_from(r.output_tokens).unwrap_or(i64::MAX),
            prompt: r.prompt,
            completion: r.completion,
        }
    }
}

/// Handle for recording requests; cheap to clone.
///
/// A request appends its row to a shared batch under a mutex held for one
/// `Vec::push`, and wakes nobody: the writer task takes the whole batch on
/// a timer ([`FLUSH_EVERY`]), or early when a batch fills up. (A channel
/// send woke the writer on every request: a wake-up and a context switch
/// each, visible in the profile under load.)
#[derive(Clone)]
pub struct RequestLog {
    shared: Arc<Queue>,
    log_prompts: bool,
}

/// Rows waiting to be written (including those kept while the database is
/// unreachable) before new ones are dropped (and counted).
const QUEUE: usize = 10_000;
/// A batch this large wakes the writer before its timer does.
const BATCH: usize = 512;
/// How long a row may wait before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What requests and the writer share.
struct Queue {
    pending: Mutex<Pending>,
    /// Signalled only when a batch fills up or the log closes.
    wake: Notify,
    dropped: AtomicU64,
    /// The writer task, taken by [`RequestLog::close`].
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[derive(Default)]
struct Pending {
    rows: Vec<LogRow>,
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A push cannot leave the batch half-written; a poisoned lock
        // (a panic elsewhere) still guards a usable Vec.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl RequestLog {
    /// Start the writer task on the current tokio runtime.
    pub fn start(db: &Db, log_prompts: bool, retention: Retention) -> RequestLog {
        let queue = Arc::new(Queue {
            pending: Mutex::new(Pending {
                rows: Vec::with_capacity(BATCH),
                closed: false,
            }),
            wake: Notify::new(),
            dropped: AtomicU64::new(0),
            writer: Mutex::new(None),
        });
        let task = tokio::spawn(writer(db.clone(), Arc::clone(&queue), retention));
        if let Ok(mut slot) = queue.writer.lock() {
            *slot = Some(task);
        }
        RequestLog {
            shared: queue,
            log_prompts,
        }
    }

    /// Whether prompt and completion text are kept.
    pub fn logs_prompts(&self) -> bool {
        self.log_prompts
    }

    /// Queue a record; never blocks on I/O and wakes no task (except once
    /// per full batch). Prompt text is dropped here unless prompt logging
    /// is on, so it never reaches the writer.
    pub fn record(&self, mut record: RequestRecord) {
        if !self.log_prompts {
            record.prompt = None;
            record.completion = None;
        }
        let row = LogRow::from_record(record, &now_rfc3339());
        let queue = &self.shared;
        let mut pending = queue.lock();
        let len = pending.rows.len();
        if len >= QUEUE {
            drop(pending);
            count_dropped(queue, 1);
            return;
        }
        pending.rows.push(row);
        drop(pending);
        if len + 1 == BATCH {
            queue.wake.notify_one();
        }
    }

    /// Write what is pending and stop the writer (at shutdown). Rows that
    /// cannot be written within the store's deadline are dropped.
    pub async fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        let task = self.shared.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn count_dropped(queue: &Queue, n: u64) {
    let before = queue.dropped.fetch_add(n, Ordering::Relaxed);
    if (before + n).is_power_of_two() || before == 0 {
        tracing::warn!(
            dropped = before + n,
            "request log queue full; records dropped"
        );
    }
}

async fn writer(db: Db, queue: Arc<Queue>, retention: Retention) {
    let mut batch: Vec<LogRow> = Vec::with_capacity(BATCH);
    let mut last_prune = Instant::now() - PRUNE_EVERY;
    let mut failing = false;
    loop {
        let full = {
            let p = queue.lock();
            p.rows.len() >= BATCH || p.closed
        };
        if !full {
            // A timer, not a wake-up per request; a full batch or close cuts it short.
            let _ = tokio::time::timeout(FLUSH_EVERY, queue.wake.notified()).await;
        }
        let closed = {
            let mut pending = queue.lock();
            if batch.is_empty() {
                // Swap buffers: requests keep appending to an allocated Vec.
                std::mem::swap(&mut pending.rows, &mut batch);
            } else {
                // Rows kept from a failed write go first; the queue bound
                // covers both.
                let room = QUEUE.saturating_sub(batch.len());
                let take = pending.rows.len().min(room);
                let dropped = pending.rows.len() - take;
                batch.extend(pending.rows.drain(..take));
                pending.rows.clear();
                if dropped > 0 {
                    count_dropped(&queue, dropped as u64);
                }
            }
            pending.closed
        };
        if !batch.is_empty() {
            match db.write_request_log(&batch).await {
                Ok(()) => {
                    if failing {
                        tracing::info!("request log writes resumed");
                    }
                    failing = false;
                    batch.clear();
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(
                            kept = batch.len(),
                            "request log write failed, rows kept for the next try: {e}"
                        );
                    }
                    failing = true;
                    if closed {
                        return;
                    }
                    // Not hammering a database that is down.
                    tokio::time::sleep(FLUSH_EVERY * 10).await;
                }
            }
        }
        if closed {
            return;
        }
        if !failing && last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = Instant::now();
            if let Err(e) = db.prune_request_log(retention).await {
                tracing::error!("request log prune failed: {e}");
            }
        }
    }
}

impl Db {
    /// Append request-log rows in one transaction.
    pub async fn write_request_log(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        on_backend!(self, b => b.write_request_log(rows).await)
    }

    /// Drop request-log rows past the retention bounds.
    pub async fn prune_request_log(&self, retention: Retention) -> Result<(), StoreError> {
        on_backend!(self, b => b.prune_request_log(retention).await)
    }
}
