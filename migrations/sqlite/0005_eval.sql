-- Evaluate (contract §6): saved suites and stored runs.
-- `body` of a suite is the JSON object {"cases": [...], "assert": [...]} as
-- the client sent it (checked by the server before it is stored).
CREATE TABLE eval_suites (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- One row per evaluate call. `head` is the run without its results (the
-- list view), `results` the JSON array of results. `seq` orders runs that
-- share a millisecond.
CREATE TABLE eval_runs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    head       TEXT NOT NULL,
    results    TEXT NOT NULL
);
