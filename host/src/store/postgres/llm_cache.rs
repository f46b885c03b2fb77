//! The LLM response cache on PostgreSQL, shared by every instance of a fleet.

use tokio_postgres::{Client, Row};

use super::{StoreError, db_err};
use crate::store::{CachePut, CachedAnswer, llm_cache::bound};

fn tokens(r: &Row, i: usize) -> Result<u32, StoreError> {
    let n: i64 = r
        .try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("llm_cache row: {e}")))?;
    Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

fn text(r: &Row, i: usize) -> Result<String, StoreError> {
    r.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("llm_cache row: {e}")))
}

/// The entry under `key` stored at or after `fresh_since_ms`. The hit path
/// of every cached call: the pooled connection's prepared statement saves a
/// round trip.
pub(super) async fn get(
    c: &deadpool_postgres::ClientWrapper,
    key: &str,
    fresh_since_ms: i64,
) -> Result<Option<CachedAnswer>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT provider, model, text, input_tokens, output_tokens, created_ms
             FROM llm_cache WHERE key = $1 AND created_ms >= $2",
        )
        .await
        .map_err(db_err)?;
    let Some(r) = c
        .query_opt(&stmt, &[&key, &fresh_since_ms])
        .await
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    Ok(Some(CachedAnswer {
        key: key.to_string(),
        provider: text(&r, 0)?,
        model: text(&r, 1)?,
        text: text(&r, 2)?,
        input_tokens: tokens(&r, 3)?,
        output_tokens: tokens(&r, 4)?,
        created_ms: r
            .try_get(5)
            .map_err(|e| StoreError::Corrupt(format!("llm_cache row: {e}")))?,
    }))
}

/// Store `a` as the newest entry and evict beyond `max_entries`, in one
/// transaction.
pub(super) async fn put(
    c: &mut Client,
    a: &CachedAnswer,
    max_entries: u64,
) -> Result<CachePut, StoreError> {
    let tx = c.transaction().await.map_err(db_err)?;
    // One statement, so two instances storing the same key at once cannot
    // collide on the unique key; `seq = DEFAULT` makes a replaced entry the
    // newest. `xmax = 0` holds for a freshly inserted row only.
    let row = tx
        .query_one(
            "INSERT INTO llm_cache (key, provider, model, text, input_tokens, output_tokens, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (key) DO UPDATE SET seq = DEFAULT, provider = EXCLUDED.provider,
               model = EXCLUDED.model, text = EXCLUDED.text,
               input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
               created_ms = EXCLUDED.created_ms
             RETURNING (xmax = 0)",
            &[
                &a.key,
                &a.provider,
                &a.model,
                &a.text,
                &i64::from(a.input_tokens),
                &i64::from(a.output_tokens),
                &a.created_ms,
            ],
        )
        .await
        .map_err(db_err)?;
    let added: bool = row
        .try_get(0)
        .map_err(|e| StoreError::Corrupt(format!("llm_cache insert: {e}")))?;
    // The sequence only grows: an index range below the newest entry, not a
    // count of the table.
    let evicted = tx
        .execute(
            "DELETE FROM llm_cache WHERE seq <= (SELECT max(seq) FROM llm_cache) - $1",
            &[&bound(max_entries)],
        )
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(CachePut { added, evicted })
}

/// Drop entries stored before `stale_before_ms`; the count left.
pub(super) async fn prune(c: &Client, stale_before_ms: i64) -> Result<u64, StoreError> {
    c.execute(
        "DELETE FROM llm_cache WHERE created_ms < $1",
        &[&stale_before_ms],
    )
    .await
    .map_err(db_err)?;
    let row = c
        .query_one("SELECT count(*) FROM llm_cache", &[])
        .await
        .map_err(db_err)?;
    let left: i64 = row
        .try_get(0)
        .map_err(|e| StoreError::Corrupt(format!("llm_cache count: {e}")))?;
    Ok(left.max(0) as u64)
}
