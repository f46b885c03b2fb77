-- One row per analyze/remix/create request. Prompt and completion text are
-- stored only when PROMPTSCULPTOR_LOG_PROMPTS=1.
CREATE TABLE request_log (
    id               INTEGER PRIMARY KEY,
    at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    request_id       TEXT NOT NULL,
    operation        TEXT NOT NULL,
    strategy         TEXT,
    strategy_version TEXT,
    style            TEXT,
    model            TEXT,
    status           INTEGER NOT NULL,
    error_code       TEXT,
    latency_ms       REAL NOT NULL,
    llm_calls        INTEGER NOT NULL DEFAULT 0,
    input_tokens     INTEGER NOT NULL DEFAULT 0,
    output_tokens    INTEGER NOT NULL DEFAULT 0,
    prompt           TEXT,
    completion       TEXT
);

CREATE INDEX request_log_by_time ON request_log (at);
