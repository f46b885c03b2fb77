-- Fleet mode (issue 12). The registry now stores user styles only:
-- builtin styles are compiled into the server (the same on every instance
-- of a version) and plugin styles live in memory while their plugin is
-- loaded, per instance. Older rows of those sources go.
DELETE FROM styles WHERE source <> 'user';

-- Bumped by every style write in its transaction: the in-memory snapshot
-- applies a change only when it is newer than what it holds.
CREATE TABLE registry (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    styles_version INTEGER NOT NULL
);
INSERT INTO registry (id, styles_version) VALUES (1, 0);

-- Published plugins: every uploaded version (by sha256) and the active one.
CREATE TABLE plugin_versions (
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    version     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    component   BLOB NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (name, sha256)
);

CREATE TABLE plugins (
    name          TEXT PRIMARY KEY NOT NULL,
    active_sha256 TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    FOREIGN KEY (name, active_sha256) REFERENCES plugin_versions (name, sha256)
);

-- Compiled code of published components, by sha256 and engine
-- configuration (shared by the instances of a fleet; on SQLite, kept for
-- symmetry and restarts).
CREATE TABLE compiled_artifacts (
    sha256     TEXT NOT NULL,
    engine     TEXT NOT NULL,
    artifact   BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (sha256, engine)
);
