-- The LLM response cache (contract §7, PROMPTSCULPTOR_LLM_CACHE=on).
-- `key` is the hex sha256 of what the provider was asked (provider, base
-- URL, model, system, messages, temperature, max tokens, schema), never of
-- a credential. `seq` orders entries by when they were stored, for
-- oldest-first eviction; AUTOINCREMENT so a number is never reused and the
-- newest entry always has the highest one. `created_ms` (Unix time, ms)
-- decides freshness against the TTL at read time.
CREATE TABLE llm_cache (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    key           TEXT NOT NULL UNIQUE,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    text          TEXT NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL
);

CREATE INDEX llm_cache_created ON llm_cache (created_ms);
