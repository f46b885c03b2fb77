//! The LLM response cache on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{CachePut, CachedAnswer, StoreError, llm_cache::bound};

/// The entry under `key` stored at or after `fresh_since_ms`.
pub(super) fn get(
    conn: &Connection,
    key: &str,
    fresh_since_ms: i64,
) -> Result<Option<CachedAnswer>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider, model, text, input_tokens, output_tokens, created_ms
         FROM llm_cache WHERE key = ?1 AND created_ms >= ?2",
    )?;
    Ok(stmt
        .query_row(params![key, fresh_since_ms], |r| {
            Ok(CachedAnswer {
                key: key.to_string(),
                provider: r.get(0)?,
                model: r.get(1)?,
                text: r.get(2)?,
                input_tokens: r.get(3)?,
                output_tokens: r.get(4)?,
                created_ms: r.get(5)?,
            })
        })
        .optional()?)
}

/// Store `a` as the newest entry and evict beyond `max_entries`, in one
/// write transaction.
pub(super) fn put(
    conn: &mut Connection,
    a: &CachedAnswer,
    max_entries: u64,
) -> Result<CachePut, StoreError> {
    let tx = super::write_tx(conn)?;
    // Delete and insert rather than update in place: the entry takes a new
    // `seq`, so a refreshed answer counts as the newest for eviction.
    let replaced = tx.execute("DELETE FROM llm_cache WHERE key = ?1", [&a.key])?;
    tx.execute(
        "INSERT INTO llm_cache (key, provider, model, text, input_tokens, output_tokens, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            a.key,
            a.provider,
            a.model,
            a.text,
            a.input_tokens,
            a.output_tokens,
            a.created_ms
        ],
    )?;
    // `seq` only grows (AUTOINCREMENT), so everything at or below the newest
    // minus the bound is older than the newest `max_entries`: an index range,
    // not a count of the table.
    let evicted = tx.execute(
        "DELETE FROM llm_cache WHERE seq <= (SELECT max(seq) FROM llm_cache) - ?1",
        [bound(max_entries)],
    )?;
    tx.commit()?;
    Ok(CachePut {
        added: replaced == 0,
        evicted: evicted as u64,
    })
}

/// Drop entries stored before `stale_before_ms`; the count left.
pub(super) fn prune(conn: &Connection, stale_before_ms: i64) -> Result<u64, StoreError> {
    conn.execute(
        "DELETE FROM llm_cache WHERE created_ms < ?1",
        [stale_before_ms],
    )?;
    let left: i64 = conn.query_row("SELECT count(*) FROM llm_cache", [], |r| r.get(0))?;
    Ok(left.max(0) as u64)
}
