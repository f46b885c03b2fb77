-- The style registry. `examples` is a JSON array of {"before", "after"}.
-- Timestamps are RFC 3339 UTC with milliseconds.
CREATE TABLE styles (
    name         TEXT PRIMARY KEY NOT NULL,
    description  TEXT NOT NULL,
    source       TEXT NOT NULL,
    instructions TEXT NOT NULL,
    examples     TEXT NOT NULL DEFAULT '[]',
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK (source = 'builtin' OR source = 'user' OR source LIKE 'plugin:%')
);

CREATE INDEX styles_by_source ON styles (source);
