-- Evaluate (contract §6): saved suites and stored runs, as in SQLite.
CREATE TABLE eval_suites (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE eval_runs (
    seq        BIGSERIAL PRIMARY KEY,
    run_id     TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    head       TEXT NOT NULL,
    results    TEXT NOT NULL
);
