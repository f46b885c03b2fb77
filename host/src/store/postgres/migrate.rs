//! Forward-only schema migrations (migrations/postgres/NNNN_name.sql,
//! embedded by build.rs), tracked in `schema_migrations`.
//!
//! Every instance of a fleet migrates when it connects; a session-level
//! advisory lock held on the migrating connection makes them take turns,
//! so the second finds nothing left to do instead of racing the first.

use tokio_postgres::Client;

use super::{StoreError, db_err};

/// build.rs embeds both backends' migrations in one file; this module uses
/// only PostgreSQL's.
#[allow(dead_code)]
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}
pub(super) use embedded::POSTGRES_MIGRATIONS;

/// The advisory lock key of schema migrations (fleet-wide, any fixed
/// value no other application on the database is likely to use).
const LOCK_KEY: i64 = 0x7073_6d69_6772_6174; // "psmigrat"

/// Apply every embedded migration the database lacks, each in its own
/// transaction, under the migration lock. Returns how many were applied;
/// `Corrupt` when the database is newer than this binary.
pub(super) async fn apply(client: &mut Client) -> Result<usize, StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(db_err)?;
    let result = apply_locked(client).await;
    // Released explicitly so a long-lived listener connection does not keep
    // it; a dead connection releases it by itself.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await
        .map_err(db_err);
    let applied = result?;
    unlocked?;
    Ok(applied)
}

async fn apply_locked(client: &mut Client) -> Result<usize, StoreError> {
    // The one table no migration can create: it records the migrations.
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INT PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(db_err)?;
    let applied: Vec<i32> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let known = POSTGRES_MIGRATIONS.len();
    if let Some(&newest) = applied.last()
        && newest as usize > known
    {
        return Err(StoreError::Corrupt(format!(
            "database schema version {newest} is newer than this server knows ({known}); refusing to touch it"
        )));
    }
    let mut count = 0;
    for (index, (name, sql)) in POSTGRES_MIGRATIONS.iter().enumerate() {
        let version = (index + 1) as i32;
        if applied.contains(&version) {
            continue;
        }
        let tx = client.transaction().await.map_err(db_err)?;
        tx.batch_execute(sql).await.map_err(|e| match db_err(e) {
            StoreError::Postgres(m) => {
                StoreError::Postgres(format!("migration {name} failed: {m}"))
            }
            other => other,
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&version, name],
        )
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        tracing::info!(migration = name, "applied PostgreSQL migration");
        count += 1;
    }
    Ok(count)
}
