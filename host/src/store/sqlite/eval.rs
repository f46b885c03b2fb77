//! Evaluate's suites and runs on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{NewRun, RunRecord, StoreError, SuiteRecord};

const SUITE: &str = "SELECT name, description, body, created_at, updated_at FROM eval_suites";

fn suite_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SuiteRecord> {
    Ok(SuiteRecord {
        name: r.get(0)?,
        description: r.get(1)?,
        body: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

/// Every suite, by name.
pub(super) fn suites(conn: &Connection) -> Result<Vec<SuiteRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{SUITE} ORDER BY name"))?;
    let rows = stmt.query_map([], suite_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One suite.
pub(super) fn suite(conn: &Connection, name: &str) -> Result<Option<SuiteRecord>, StoreError> {
    Ok(conn
        .query_row(&format!("{SUITE} WHERE name = ?1"), [name], suite_row)
        .optional()?)
}

/// Insert a suite stamped `now`; `Conflict` when the name is taken.
pub(super) fn insert_suite(
    conn: &Connection,
    name: &str,
    description: &str,
    body: &str,
    now: &str,
) -> Result<SuiteRecord, StoreError> {
    let n = conn.execute(
        "INSERT INTO eval_suites (name, description, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(name) DO NOTHING",
        params![name, description, body, now],
    )?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "a suite named '{name}' exists"
        )));
    }
    suite(conn, name)?.ok_or_else(|| StoreError::NotFound(format!("suite '{name}'")))
}

/// Replace a suite's description and body; `NotFound` when absent.
pub(super) fn update_suite(
    conn: &Connection,
    name: &str,
    description: &str,
    body: &str,
    now: &str,
) -> Result<SuiteRecord, StoreError> {
    let n = conn.execute(
        "UPDATE eval_suites SET description = ?2, body = ?3, updated_at = ?4 WHERE name = ?1",
        params![name, description, body, now],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("suite '{name}'")));
    }
    suite(conn, name)?.ok_or_else(|| StoreError::NotFound(format!("suite '{name}'")))
}

/// Delete a suite; `NotFound` when absent.
pub(super) fn delete_suite(conn: &Connection, name: &str) -> Result<(), StoreError> {
    match conn.execute("DELETE FROM eval_suites WHERE name = ?1", [name])? {
        0 => Err(StoreError::NotFound(format!("suite '{name}'"))),
        _ => Ok(()),
    }
}

/// Store a run and keep only the newest `keep`.
pub(super) fn insert_run(conn: &Connection, run: &NewRun, keep: u64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO eval_runs (run_id, created_at, head, results) VALUES (?1, ?2, ?3, ?4)",
        params![run.run_id, run.created_at, run.head, run.results],
    )?;
    conn.execute(
        "DELETE FROM eval_runs WHERE seq <= (SELECT seq FROM eval_runs ORDER BY seq DESC LIMIT 1 OFFSET ?1)",
        [keep.min(i64::MAX as u64) as i64],
    )?;
    Ok(())
}

/// The newest `limit` runs, without results.
pub(super) fn runs(conn: &Connection, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT head FROM eval_runs ORDER BY seq DESC LIMIT ?1")?;
    let rows = stmt.query_map([limit], |r| {
        Ok(RunRecord {
            head: r.get(0)?,
            results: None,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One run with its results.
pub(super) fn run(conn: &Connection, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT head, results FROM eval_runs WHERE run_id = ?1",
            [run_id],
            |r| {
                Ok(RunRecord {
                    head: r.get(0)?,
                    results: Some(r.get(1)?),
                })
            },
        )
        .optional()?)
}
