-- Fleet-mode schema (PostgreSQL): the same data as the SQLite database.
-- `schema_migrations` is created by the server itself before the first
-- migration runs (it records them). Timestamps of styles and plugins are
-- RFC 3339 UTC text with milliseconds, produced by the server, as in SQLite.

-- One row: the registry version, bumped by every style write in its
-- transaction. The row lock of that UPDATE serialises style writes across
-- the fleet; NOTIFY ps_styles carries the new value.
CREATE TABLE registry (
    id             INT PRIMARY KEY CHECK (id = 1),
    styles_version BIGINT NOT NULL
);
INSERT INTO registry (id, styles_version) VALUES (1, 0);

-- User styles only: builtin styles live in the binary, plugin styles in
-- each instance's memory. `examples` is a JSON array of {"before", "after"}.
CREATE TABLE styles (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source = 'user'),
    instructions TEXT NOT NULL,
    examples     TEXT NOT NULL DEFAULT '[]',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Every uploaded version of a published plugin, kept for rollback.
-- `seq` orders versions by upload (newest first) when two share a
-- millisecond.
CREATE TABLE plugin_versions (
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    version     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    component   BYTEA NOT NULL,
    uploaded_at TEXT NOT NULL,
    seq         BIGSERIAL NOT NULL,
    PRIMARY KEY (name, sha256)
);

-- The published plugins and the version each serves.
CREATE TABLE plugins (
    name          TEXT PRIMARY KEY,
    active_sha256 TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    FOREIGN KEY (name, active_sha256) REFERENCES plugin_versions (name, sha256)
);

-- One row per analyze/remix/create request. Prompt and completion text are
-- stored only when PROMPTSCULPTOR_LOG_PROMPTS=1.
-- Compiled code of published components, by sha256 and engine
-- configuration: the instance that validated a publish stores what it
-- compiled, so the others load it in milliseconds instead of compiling.
CREATE TABLE compiled_artifacts (
    sha256     TEXT NOT NULL,
    engine     TEXT NOT NULL,
    artifact   BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (sha256, engine)
);

CREATE TABLE request_log (
    id               BIGSERIAL PRIMARY KEY,
    at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    request_id       TEXT NOT NULL,
    operation        TEXT NOT NULL,
    strategy         TEXT,
    strategy_version TEXT,
    style            TEXT,
    model            TEXT,
    status           INTEGER NOT NULL,
    error_code       TEXT,
    latency_ms       DOUBLE PRECISION NOT NULL,
    llm_calls        INTEGER NOT NULL DEFAULT 0,
    input_tokens     BIGINT NOT NULL DEFAULT 0,
    output_tokens    BIGINT NOT NULL DEFAULT 0,
    prompt           TEXT,
    completion       TEXT
);
CREATE INDEX request_log_by_time ON request_log (at);
