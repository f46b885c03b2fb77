//! The request log on PostgreSQL: batches go in as multi-row INSERTs (one
//! round trip per 512 rows rather than one per row).

use tokio_postgres::{Client, types::ToSql};

use super::{LogRow, Retention, StoreError, db_err};

/// Columns per row; rows per statement stay well inside the protocol's
/// 65535 bind parameters (512 × 15 = 7680).
const COLUMNS: usize = 15;
const ROWS_PER_INSERT: usize = 512;

/// `INSERT … VALUES (…), (…)` for `rows` rows. `at` travels as text
/// (RFC 3339) and is cast by the server, which keeps chrono out of the build.
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO request_log (at, request_id, operation, strategy, strategy_version, style,
           model, status, error_code, latency_ms, llm_calls, input_tokens, output_tokens, prompt,
           completion) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        let p = r * COLUMNS;
        sql.push_str(&format!("(${}::text::timestamptz", p + 1));
        for c in 2..=COLUMNS {
            sql.push_str(&format!(", ${}", p + c));
        }
        sql.push(')');
    }
    sql
}

/// Append `rows` in one transaction.
pub(super) async fn write(c: &mut Client, rows: &[LogRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    // Columns are INTEGER where SQLite's are; values past i32 are clamped
    // rather than failing the whole batch.
    let small: Vec<(i32, i32)> = rows
        .iter()
        .map(|r| {
            (
                i32::try_from(r.status).unwrap_or(i32::MAX),
                i32::try_from(r.llm_calls).unwrap_or(i32::MAX),
            )
        })
        .collect();
    let tx = c.transaction().await.map_err(db_err)?;
    for (chunk, ints) in rows
        .chunks(ROWS_PER_INSERT)
        .zip(small.chunks(ROWS_PER_INSERT))
    {
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * COLUMNS);
        for (r, (status, llm_calls)) in chunk.iter().zip(ints) {
            params.extend_from_slice(&[
                &r.at,
                &r.request_id,
                &r.operation,
                &r.strategy,
                &r.strategy_version,
                &r.style,
                &r.model,
                status,
                &r.error_code,
                &r.latency_ms,
                llm_calls,
                &r.input_tokens,
                &r.output_tokens,
                &r.prompt,
                &r.completion,
            ]);
        }
        tx.execute(&insert_sql(chunk.len()), &params)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(())
}

/// Drop rows older than the retention age, then all but the newest
/// `max_rows`.
pub(super) async fn prune(c: &Client, retention: Retention) -> Result<(), StoreError> {
    let days = i32::try_from(retention.max_age_days).unwrap_or(i32::MAX);
    c.execute(
        "DELETE FROM request_log WHERE at < now() - make_interval(days => $1)",
        &[&days],
    )
    .await
    .map_err(db_err)?;
    let keep = i64::try_from(retention.max_rows).unwrap_or(i64::MAX);
    c.execute(
        "DELETE FROM request_log
          WHERE id <= (SELECT id FROM request_log ORDER BY id DESC OFFSET $1 LIMIT 1)",
        &[&keep],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}
