//! Evaluate's suites and runs on PostgreSQL.

use tokio_postgres::{Client, Row};

use super::{StoreError, db_err};
use crate::store::{NewRun, RunRecord, SuiteRecord};

const SUITE: &str = "SELECT name, description, body, created_at, updated_at FROM eval_suites";

fn suite_row(r: &Row) -> Result<SuiteRecord, StoreError> {
    let get = |i: usize| -> Result<String, StoreError> {
        r.try_get(i)
            .map_err(|e| StoreError::Corrupt(format!("suite row: {e}")))
    };
    Ok(SuiteRecord {
        name: get(0)?,
        description: get(1)?,
        body: get(2)?,
        created_at: get(3)?,
        updated_at: get(4)?,
    })
}

/// Every suite, by name.
pub(super) async fn suites(c: &Client) -> Result<Vec<SuiteRecord>, StoreError> {
    let rows = c
        .query(&format!("{SUITE} ORDER BY name COLLATE \"C\""), &[])
        .await
        .map_err(db_err)?;
    rows.iter().map(suite_row).collect()
}

/// One suite.
pub(super) async fn suite(c: &Client, name: &str) -> Result<Option<SuiteRecord>, StoreError> {
    let row = c
        .query_opt(&format!("{SUITE} WHERE name = $1"), &[&name])
        .await
        .map_err(db_err)?;
    row.as_ref().map(suite_row).transpose()
}

/// Insert a suite stamped `now`; `Conflict` when the name is taken.
pub(super) async fn insert_suite(
    c: &Client,
    name: &str,
    description: &str,
    body: &str,
    now: &str,
) -> Result<SuiteRecord, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "INSERT INTO eval_suites (name, description, body, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO NOTHING
                 RETURNING {}",
                "name, description, body, created_at, updated_at"
            ),
            &[&name, &description, &body, &now],
        )
        .await
        .map_err(db_err)?;
    match row {
        Some(r) => suite_row(&r),
        None => Err(StoreError::Conflict(format!(
            "a suite named '{name}' exists"
        ))),
    }
}

/// Replace a suite's description and body; `NotFound` when absent.
pub(super) async fn update_suite(
    c: &Client,
    name: &str,
    description: &str,
    body: &str,
    now: &str,
) -> Result<SuiteRecord, StoreError> {
    let row = c
        .query_opt(
            "UPDATE eval_suites SET description = $2, body = $3, updated_at = $4 WHERE name = $1
             RETURNING name, description, body, created_at, updated_at",
            &[&name, &description, &body, &now],
        )
        .await
        .map_err(db_err)?;
    match row {
        Some(r) => suite_row(&r),
        None => Err(StoreError::NotFound(format!("suite '{name}'"))),
    }
}

/// Delete a suite; `NotFound` when absent.
pub(super) async fn delete_suite(c: &Client, name: &str) -> Result<(), StoreError> {
    match c
        .execute("DELETE FROM eval_suites WHERE name = $1", &[&name])
        .await
        .map_err(db_err)?
    {
        0 => Err(StoreError::NotFound(format!("suite '{name}'"))),
        _ => Ok(()),
    }
}

/// Store a run and keep only the newest `keep`.
pub(super) async fn insert_run(c: &Client, run: &NewRun, keep: u64) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO eval_runs (run_id, created_at, head, results) VALUES ($1, $2, $3, $4)",
        &[&run.run_id, &run.created_at, &run.head, &run.results],
    )
    .await
    .map_err(db_err)?;
    let keep = keep.min(i64::MAX as u64) as i64;
    c.execute(
        "DELETE FROM eval_runs WHERE seq <= (SELECT seq FROM eval_runs ORDER BY seq DESC LIMIT 1 OFFSET $1)",
        &[&keep],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The newest `limit` runs, without results.
pub(super) async fn runs(c: &Client, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
    let rows = c
        .query(
            "SELECT head FROM eval_runs ORDER BY seq DESC LIMIT $1",
            &[&i64::from(limit)],
        )
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(RunRecord {
                head: r
                    .try_get(0)
                    .map_err(|e| StoreError::Corrupt(format!("run row: {e}")))?,
                results: None,
            })
        })
        .collect()
}

/// One run with its results.
pub(super) async fn run(c: &Client, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
    let row = c
        .query_opt(
            "SELECT head, results FROM eval_runs WHERE run_id = $1",
            &[&run_id],
        )
        .await
        .map_err(db_err)?;
    row.map(|r| {
        let corrupt = |e: tokio_postgres::Error| StoreError::Corrupt(format!("run row: {e}"));
        Ok(RunRecord {
            head: r.try_get(0).map_err(corrupt)?,
            results: Some(r.try_get(1).map_err(corrupt)?),
        })
    })
    .transpose()
}
