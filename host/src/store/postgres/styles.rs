//! User styles on PostgreSQL.
//!
//! Every write opens its transaction with the registry-version bump: that
//! `UPDATE` takes the registry row lock, so style writes are serialised
//! fleet-wide and the `If-Match` check that follows cannot race another
//! instance's write. The new version is announced with
//! `pg_notify('ps_styles', …)`, delivered to listeners only on commit.

use tokio_postgres::{Client, IsolationLevel, Row, Transaction};

use super::{IfMatch, NewStyle, Stale, StoreError, StyleRecord, StyleUpdate, db_err};
use crate::store::styles::{decode_examples, encode_examples};

const COLUMNS: &str = "name, description, source, instructions, examples, created_at, updated_at";

fn corrupt(e: tokio_postgres::Error) -> StoreError {
    StoreError::Corrupt(format!("style row: {e}"))
}

fn decode(row: &Row) -> Result<StyleRecord, StoreError> {
    let name: String = row.try_get(0).map_err(corrupt)?;
    let examples: String = row.try_get(4).map_err(corrupt)?;
    Ok(StyleRecord {
        examples: decode_examples(&name, &examples)?,
        description: row.try_get(1).map_err(corrupt)?,
        source: row.try_get(2).map_err(corrupt)?,
        instructions: row.try_get(3).map_err(corrupt)?,
        created_at: row.try_get(5).map_err(corrupt)?,
        updated_at: row.try_get(6).map_err(corrupt)?,
        name,
    })
}

fn version(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("registry version {v}")))
}

/// The registry version and every user style, from one snapshot.
pub(super) async fn load(c: &mut Client) -> Result<(u64, Vec<StyleRecord>), StoreError> {
    let tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(db_err)?;
    let v: i64 = tx
        .query_one("SELECT styles_version FROM registry WHERE id = 1", &[])
        .await
        .map_err(db_err)?
        .try_get(0)
        .map_err(corrupt)?;
    // Byte order, like the SQLite registry (the snapshot re-sorts anyway).
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} FROM styles ORDER BY name COLLATE \"C\""),
            &[],
        )
        .await
        .map_err(db_err)?;
    let styles = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    tx.commit().await.map_err(db_err)?;
    Ok((version(v)?, styles))
}

/// Bump the registry version (taking the registry row lock until commit).
async fn bump(tx: &Transaction<'_>) -> Result<u64, StoreError> {
    let v: i64 = tx
        .query_one(
            "UPDATE registry SET styles_version = styles_version + 1 WHERE id = 1
             RETURNING styles_version",
            &[],
        )
        .await
        .map_err(db_err)?
        .try_get(0)
        .map_err(corrupt)?;
    version(v)
}

/// Announce registry version `v` (sent by the server at commit).
async fn notify(tx: &Transaction<'_>, v: u64) -> Result<(), StoreError> {
    tx.execute("SELECT pg_notify('ps_styles', $1)", &[&v.to_string()])
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The user style `name`, checked against `if_match`; `NotFound` when absent.
async fn editable(
    tx: &Transaction<'_>,
    name: &str,
    if_match: Option<&IfMatch>,
) -> Result<Result<StyleRecord, Stale>, StoreError> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM styles WHERE name = $1"),
            &[&name],
        )
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("style '{name}'")))?;
    let current = decode(&row)?;
    match if_match {
        Some(cond) if !cond.matches(&current) => Ok(Err(Stale {
            current_etag: current.etag(),
            name: name.to_string(),
        })),
        _ => Ok(Ok(current)),
    }
}

/// Insert a user style stamped `now`; `Conflict` when the name is stored.
pub(super) async fn insert(
    c: &mut Client,
    style: &NewStyle,
    now: &str,
) -> Result<(u64, StyleRecord), StoreError> {
    let examples = encode_examples(&style.examples)?;
    let tx = c.transaction().await.map_err(db_err)?;
    let v = bump(&tx).await?;
    let inserted = tx
        .execute(
            "INSERT INTO styles (name, description, source, instructions, examples, created_at, updated_at)
             VALUES ($1, $2, 'user', $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING",
            &[
                &style.name,
                &style.description,
                &style.instructions,
                &examples,
                &now,
            ],
        )
        .await
        .map_err(db_err)?;
    if inserted == 0 {
        // Dropping the transaction rolls the version bump back.
        return Err(StoreError::Conflict(format!(
            "a style named '{}' already exists",
            style.name
        )));
    }
    notify(&tx, v).await?;
    tx.commit().await.map_err(db_err)?;
    Ok((
        v,
        StyleRecord {
            name: style.name.clone(),
            description: style.description.clone(),
            source: "user".to_string(),
            instructions: style.instructions.clone(),
            examples: style.examples.clone(),
            created_at: now.to_string(),
            updated_at: now.to_string(),
        },
    ))
}

/// Replace a user style's fields when `if_match` holds.
pub(super) async fn update(
    c: &mut Client,
    name: &str,
    update: &StyleUpdate,
    if_match: Option<&IfMatch>,
    now: &str,
) -> Result<Result<(u64, StyleRecord), Stale>, StoreError> {
    let examples = encode_examples(&update.examples)?;
    let tx = c.transaction().await.map_err(db_err)?;
    let v = bump(&tx).await?;
    let current = match editable(&tx, name, if_match).await? {
        Ok(current) => current,
        Err(stale) => return Ok(Err(stale)),
    };
    tx.execute(
        "UPDATE styles SET description = $2, instructions = $3, examples = $4, updated_at = $5
         WHERE name = $1",
        &[
            &name,
            &update.description,
            &update.instructions,
            &examples,
            &now,
        ],
    )
    .await
    .map_err(db_err)?;
    notify(&tx, v).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(Ok((
        v,
        StyleRecord {
            description: update.description.clone(),
            instructions: update.instructions.clone(),
            examples: update.examples.clone(),
            updated_at: now.to_string(),
            ..current
        },
    )))
}

/// Delete a user style when `if_match` holds.
pub(super) async fn delete(
    c: &mut Client,
    name: &str,
    if_match: Option<&IfMatch>,
) -> Result<Result<u64, Stale>, StoreError> {
    let tx = c.transaction().await.map_err(db_err)?;
    let v = bump(&tx).await?;
    if let Err(stale) = editable(&tx, name, if_match).await? {
        return Ok(Err(stale));
    }
    tx.execute("DELETE FROM styles WHERE name = $1", &[&name])
        .await
        .map_err(db_err)?;
    notify(&tx, v).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(Ok(v))
}

/// Copy user styles in with their timestamps, skipping stored names, in
/// one statement (an import may be large; the deadline is per operation).
/// Returns (imported, skipped).
pub(super) async fn import(
    c: &mut Client,
    styles: &[StyleRecord],
) -> Result<(u64, u64), StoreError> {
    let mut columns: [Vec<String>; 6] = Default::default();
    for s in styles {
        columns[0].push(s.name.clone());
        columns[1].push(s.description.clone());
        columns[2].push(s.instructions.clone());
        columns[3].push(encode_examples(&s.examples)?);
        columns[4].push(s.created_at.clone());
        columns[5].push(s.updated_at.clone());
    }
    let [
        names,
        descriptions,
        instructions,
        examples,
        created,
        updated,
    ] = &columns;
    let tx = c.transaction().await.map_err(db_err)?;
    let v = bump(&tx).await?;
    let imported = tx
        .execute(
            "INSERT INTO styles (name, description, source, instructions, examples, created_at, updated_at)
             SELECT n, d, 'user', i, e, c, u
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                    AS t(n, d, i, e, c, u)
             ON CONFLICT (name) DO NOTHING",
            &[names, descriptions, instructions, examples, created, updated],
        )
        .await
        .map_err(db_err)?;
    let total = styles.len() as u64;
    if imported == 0 {
        // Nothing changed: no version bump, no notification.
        return Ok((0, total));
    }
    notify(&tx, v).await?;
    tx.commit().await.map_err(db_err)?;
    Ok((imported, total.saturating_sub(imported)))
}
