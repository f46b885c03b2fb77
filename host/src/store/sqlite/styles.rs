//! The SQL of the style registry on SQLite. Only user styles are stored.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::styles::{decode_examples, encode_examples};
use crate::store::{IfMatch, NewStyle, Stale, StoreError, StyleRecord, StyleUpdate};

const COLUMNS: &str = "name, description, source, instructions, examples, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(StyleRecord, String)> {
    Ok((
        StyleRecord {
            name: row.get(0)?,
            description: row.get(1)?,
            source: row.get(2)?,
            instructions: row.get(3)?,
            examples: Vec::new(),
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
        },
        row.get(4)?,
    ))
}

fn decode((mut record, examples): (StyleRecord, String)) -> Result<StyleRecord, StoreError> {
    record.examples = decode_examples(&record.name, &examples)?;
    Ok(record)
}

fn get(conn: &Connection, name: &str) -> Result<Option<StyleRecord>, StoreError> {
    let row = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM styles WHERE name = ?1"),
            [name],
            from_row,
        )
        .optional()?;
    row.map(decode).transpose()
}

/// Every stored (user) style, ordered by name.
pub(super) fn load_all(conn: &Connection) -> Result<Vec<StyleRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM styles WHERE source = 'user' ORDER BY name"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| decode(r?)).collect()
}

/// The user styles of a SQLite file of any schema version (for import):
/// older files also hold builtin and plugin rows, which are not copied.
pub(super) fn load_user_any_schema(conn: &Connection) -> Result<Vec<StyleRecord>, StoreError> {
    load_all(conn)
}

/// The registry version.
pub(super) fn version(conn: &Connection) -> Result<u64, StoreError> {
    let v: i64 = conn.query_row(
        "SELECT styles_version FROM registry WHERE id = 1",
        [],
        |r| r.get(0),
    )?;
    Ok(v as u64)
}

/// Bump the registry version inside a write transaction; the new value.
pub(super) fn bump(conn: &Connection) -> Result<u64, StoreError> {
    let v: i64 = conn.query_row(
        "UPDATE registry SET styles_version = styles_version + 1 WHERE id = 1 RETURNING styles_version",
        [],
        |r| r.get(0),
    )?;
    Ok(v as u64)
}

/// Insert a user style; `Conflict` when the name is taken.
pub(super) fn insert(
    conn: &Connection,
    style: &NewStyle,
    now: &str,
) -> Result<StyleRecord, StoreError> {
    let inserted = conn.execute(
        "INSERT INTO styles (name, description, source, instructions, examples, created_at, updated_at)
         VALUES (?1, ?2, 'user', ?3, ?4, ?5, ?5) ON CONFLICT(name) DO NOTHING",
        params![
            style.name,
            style.description,
            style.instructions,
            encode_examples(&style.examples)?,
            now
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a style named '{}' already exists",
            style.name
        )));
    }
    get(conn, &style.name)?.ok_or_else(|| StoreError::NotFound(format!("style '{}'", style.name)))
}

/// Insert a whole record (import), keeping its timestamps; false when the
/// name is taken.
pub(super) fn insert_record(conn: &Connection, r: &StyleRecord) -> Result<bool, StoreError> {
    let n = conn.execute(
        "INSERT INTO styles (name, description, source, instructions, examples, created_at, updated_at)
         VALUES (?1, ?2, 'user', ?3, ?4, ?5, ?6) ON CONFLICT(name) DO NOTHING",
        params![
            r.name,
            r.description,
            r.instructions,
            encode_examples(&r.examples)?,
            r.created_at,
            r.updated_at
        ],
    )?;
    Ok(n == 1)
}

/// The stored style `name` checked against `if_match`: `NotFound` when
/// absent, the inner `Err` when the caller's version is stale.
pub(super) fn current(
    conn: &Connection,
    name: &str,
    if_match: Option<&IfMatch>,
) -> Result<Result<StyleRecord, Stale>, StoreError> {
    let current =
        get(conn, name)?.ok_or_else(|| StoreError::NotFound(format!("style '{name}'")))?;
    Ok(match if_match {
        Some(cond) if !cond.matches(&current) => Err(Stale {
            current_etag: current.etag(),
            name: name.to_string(),
        }),
        _ => Ok(current),
    })
}

/// Replace a stored style's fields.
pub(super) fn update(
    conn: &Connection,
    name: &str,
    update: &StyleUpdate,
    now: &str,
) -> Result<StyleRecord, StoreError> {
    conn.execute(
        "UPDATE styles SET description = ?2, instructions = ?3, examples = ?4, updated_at = ?5
         WHERE name = ?1",
        params![
            name,
            update.description,
            update.instructions,
            encode_examples(&update.examples)?,
            now
        ],
    )?;
    get(conn, name)?.ok_or_else(|| StoreError::NotFound(format!("style '{name}'")))
}
