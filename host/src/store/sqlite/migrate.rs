//! Forward-only schema migrations, tracked with `PRAGMA user_version`.

use rusqlite::Connection;

use crate::store::StoreError;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Apply every embedded migration newer than the database's `user_version`,
/// each in its own transaction.
pub fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current as usize > SQLITE_MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "database schema version {current} is newer than this server knows ({}); refusing to touch it",
            SQLITE_MIGRATIONS.len()
        )));
    }
    for (index, (name, sql)) in SQLITE_MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
        tracing::info!(migration = name, "applied migration");
    }
    Ok(())
}
