//! The SQL of published plugins on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{NewPluginVersion, PluginVersion, Published, PublishedPlugin, StoreError};

const ACTIVE: &str = "SELECT p.name, v.version, v.kind, v.sha256, v.uploaded_at
    FROM plugins p JOIN plugin_versions v ON v.name = p.name AND v.sha256 = p.active_sha256";

fn active_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PublishedPlugin> {
    Ok(PublishedPlugin {
        name: r.get(0)?,
        version: r.get(1)?,
        kind: r.get(2)?,
        sha256: r.get(3)?,
        uploaded_at: r.get(4)?,
    })
}

/// The active version of every published plugin, by name.
pub(super) fn active(conn: &Connection) -> Result<Vec<PublishedPlugin>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{ACTIVE} ORDER BY p.name"))?;
    let rows = stmt.query_map([], active_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn active_of(conn: &Connection, name: &str) -> Result<Option<PublishedPlugin>, StoreError> {
    Ok(conn
        .query_row(&format!("{ACTIVE} WHERE p.name = ?1"), [name], active_row)
        .optional()?)
}

/// One version's component bytes.
pub(super) fn component(
    conn: &Connection,
    name: &str,
    sha256: &str,
) -> Result<Vec<u8>, StoreError> {
    conn.query_row(
        "SELECT component FROM plugin_versions WHERE name = ?1 AND sha256 = ?2",
        [name, sha256],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("version {sha256} of plugin '{name}'")))
}

/// Store a version (once per sha256) and make it active.
pub(super) fn publish(
    conn: &Connection,
    v: &NewPluginVersion,
    now: &str,
) -> Result<Published, StoreError> {
    let before = active_of(conn, &v.name)?;
    conn.execute(
        "INSERT INTO plugin_versions (name, sha256, version, kind, component, uploaded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name, sha256) DO NOTHING",
        params![v.name, v.sha256, v.version, v.kind, v.component, now],
    )?;
    let changed = before.as_ref().is_none_or(|b| b.sha256 != v.sha256);
    if changed {
        set_active(conn, &v.name, &v.sha256, now)?;
    }
    let plugin = active_of(conn, &v.name)?
        .ok_or_else(|| StoreError::NotFound(format!("plugin '{}'", v.name)))?;
    Ok(Published {
        created: before.is_none(),
        changed,
        plugin,
    })
}

fn set_active(conn: &Connection, name: &str, sha256: &str, now: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO plugins (name, active_sha256, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET active_sha256 = excluded.active_sha256,
           updated_at = excluded.updated_at",
        params![name, sha256, now],
    )?;
    Ok(())
}

/// Every stored version of `name`, newest upload first.
pub(super) fn versions(conn: &Connection, name: &str) -> Result<Vec<PluginVersion>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.version, v.sha256, v.uploaded_at, COALESCE(p.active_sha256 = v.sha256, 0)
         FROM plugin_versions v LEFT JOIN plugins p ON p.name = v.name
         WHERE v.name = ?1 ORDER BY v.uploaded_at DESC, v.rowid DESC",
    )?;
    let rows = stmt.query_map([name], |r| {
        Ok(PluginVersion {
            version: r.get(0)?,
            sha256: r.get(1)?,
            uploaded_at: r.get(2)?,
            active: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Make a stored version active.
pub(super) fn activate(
    conn: &Connection,
    name: &str,
    sha256: &str,
    now: &str,
) -> Result<PublishedPlugin, StoreError> {
    if active_of(conn, name)?.is_none() {
        return Err(StoreError::NotFound(format!("published plugin '{name}'")));
    }
    let known: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM plugin_versions WHERE name = ?1 AND sha256 = ?2",
            [name, sha256],
            |r| r.get(0),
        )
        .optional()?;
    if known.is_none() {
        return Err(StoreError::NotFound(format!(
            "version {sha256} of plugin '{name}'"
        )));
    }
    set_active(conn, name, sha256, now)?;
    active_of(conn, name)?.ok_or_else(|| StoreError::NotFound(format!("plugin '{name}'")))
}

/// Remove a published plugin and its versions.
pub(super) fn delete(conn: &Connection, name: &str) -> Result<(), StoreError> {
    let n = conn.execute("DELETE FROM plugins WHERE name = ?1", [name])?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("published plugin '{name}'")));
    }
    conn.execute("DELETE FROM plugin_versions WHERE name = ?1", [name])?;
    conn.execute(
        "DELETE FROM compiled_artifacts WHERE sha256 NOT IN (SELECT sha256 FROM plugin_versions)",
        [],
    )?;
    Ok(())
}
