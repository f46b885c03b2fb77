-- The LLM response cache (contract §7), as in SQLite: shared by every
-- instance of a fleet. `seq` comes from a sequence, so the newest entry
-- has the highest one (oldest-first eviction).
CREATE TABLE llm_cache (
    seq           BIGSERIAL PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    text          TEXT NOT NULL,
    input_tokens  BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    created_ms    BIGINT NOT NULL
);

CREATE INDEX llm_cache_created ON llm_cache (created_ms);
