//! Published plugins on PostgreSQL. Every change announces the plugin's
//! name with `pg_notify('ps_plugins', …)` in its transaction, so each
//! instance reloads its plugin table once the change is committed.

use tokio_postgres::{Client, Row, Transaction};

use super::{NewPluginVersion, PluginVersion, Published, PublishedPlugin, StoreError, db_err};

/// Advisory-lock class of per-plugin writes (the key is the name's hash):
/// two publishes of one new name must not both report `created`.
const LOCK_CLASS: i32 = 0x7073_706c; // "pspl"

fn corrupt(e: tokio_postgres::Error) -> StoreError {
    StoreError::Corrupt(format!("plugin row: {e}"))
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    index: usize,
) -> Result<T, StoreError> {
    row.try_get(index).map_err(corrupt)
}

/// Serialise writes to plugin `name` until the transaction ends.
async fn lock(tx: &Transaction<'_>, name: &str) -> Result<(), StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1::int4, hashtext($2))",
        &[&LOCK_CLASS, &name],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn notify(tx: &Transaction<'_>, name: &str) -> Result<(), StoreError> {
    tx.execute("SELECT pg_notify('ps_plugins', $1)", &[&name])
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The stored version `sha256` of `name` as the active plugin row.
async fn stored_version(
    tx: &Transaction<'_>,
    name: &str,
    sha256: &str,
) -> Result<Option<PublishedPlugin>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT version, kind, uploaded_at FROM plugin_versions WHERE name = $1 AND sha256 = $2",
            &[&name, &sha256],
        )
        .await
        .map_err(db_err)?;
    row.map(|r| {
        Ok(PublishedPlugin {
            name: name.to_string(),
            version: get(&r, 0)?,
            kind: get(&r, 1)?,
            sha256: sha256.to_string(),
            uploaded_at: get(&r, 2)?,
        })
    })
    .transpose()
}

/// The active sha256 of `name`, when it is published.
async fn active_sha(tx: &Transaction<'_>, name: &str) -> Result<Option<String>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT active_sha256 FROM plugins WHERE name = $1",
            &[&name],
        )
        .await
        .map_err(db_err)?;
    row.map(|r| get(&r, 0)).transpose()
}

/// The active version of every published plugin, by name.
pub(super) async fn active(c: &Client) -> Result<Vec<PublishedPlugin>, StoreError> {
    let rows = c
        .query(
            "SELECT p.name, v.version, v.kind, v.sha256, v.uploaded_at
               FROM plugins p
               JOIN plugin_versions v ON v.name = p.name AND v.sha256 = p.active_sha256
              ORDER BY p.name COLLATE \"C\"",
            &[],
        )
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(PublishedPlugin {
                name: get(r, 0)?,
                version: get(r, 1)?,
                kind: get(r, 2)?,
                sha256: get(r, 3)?,
                uploaded_at: get(r, 4)?,
            })
        })
        .collect()
}

/// The component bytes of one stored version.
pub(super) async fn component(c: &Client, name: &str, sha256: &str) -> Result<Vec<u8>, StoreError> {
    let row = c
        .query_opt(
            "SELECT component FROM plugin_versions WHERE name = $1 AND sha256 = $2",
            &[&name, &sha256],
        )
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("version {sha256} of plugin '{name}'")))?;
    get(&row, 0)
}

/// Store a version (kept when already stored) and make it the active one.
pub(super) async fn publish(
    c: &mut Client,
    v: &NewPluginVersion,
    now: &str,
) -> Result<Published, StoreError> {
    let tx = c.transaction().await.map_err(db_err)?;
    lock(&tx, &v.name).await?;
    let before = active_sha(&tx, &v.name).await?;
    tx.execute(
        "INSERT INTO plugin_versions (name, sha256, version, kind, component, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name, sha256) DO NOTHING",
        &[&v.name, &v.sha256, &v.version, &v.kind, &v.component, &now],
    )
    .await
    .map_err(db_err)?;
    let plugin = stored_version(&tx, &v.name, &v.sha256)
        .await?
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "version {} of plugin '{}' vanished",
                v.sha256, v.name
            ))
        })?;
    let changed = before.as_deref() != Some(v.sha256.as_str());
    if changed {
        tx.execute(
            "INSERT INTO plugins (name, active_sha256, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE
               SET active_sha256 = EXCLUDED.active_sha256, updated_at = EXCLUDED.updated_at",
            &[&v.name, &v.sha256, &now],
        )
        .await
        .map_err(db_err)?;
        notify(&tx, &v.name).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(Published {
        created: before.is_none(),
        changed,
        plugin,
    })
}

/// Every stored version of `name`, newest upload first.
pub(super) async fn versions(c: &Client, name: &str) -> Result<Vec<PluginVersion>, StoreError> {
    let rows = c
        .query(
            "SELECT v.version, v.sha256, v.uploaded_at,
                    COALESCE(p.active_sha256 = v.sha256, false)
               FROM plugin_versions v
               LEFT JOIN plugins p ON p.name = v.name
              WHERE v.name = $1
              ORDER BY v.seq DESC",
            &[&name],
        )
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(PluginVersion {
                version: get(r, 0)?,
                sha256: get(r, 1)?,
                uploaded_at: get(r, 2)?,
                active: get(r, 3)?,
            })
        })
        .collect()
}

/// Make a stored version the active one.
pub(super) async fn activate(
    c: &mut Client,
    name: &str,
    sha256: &str,
    now: &str,
) -> Result<PublishedPlugin, StoreError> {
    let tx = c.transaction().await.map_err(db_err)?;
    lock(&tx, name).await?;
    let before = active_sha(&tx, name)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("published plugin '{name}'")))?;
    let plugin = stored_version(&tx, name, sha256)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("version {sha256} of plugin '{name}'")))?;
    if before != sha256 {
        tx.execute(
            "UPDATE plugins SET active_sha256 = $2, updated_at = $3 WHERE name = $1",
            &[&name, &sha256, &now],
        )
        .await
        .map_err(db_err)?;
        notify(&tx, name).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(plugin)
}

/// Remove a published plugin and all its versions.
pub(super) async fn delete(c: &mut Client, name: &str) -> Result<(), StoreError> {
    let tx = c.transaction().await.map_err(db_err)?;
    lock(&tx, name).await?;
    let removed = tx
        .execute("DELETE FROM plugins WHERE name = $1", &[&name])
        .await
        .map_err(db_err)?;
    if removed == 0 {
        return Err(StoreError::NotFound(format!("published plugin '{name}'")));
    }
    tx.execute("DELETE FROM plugin_versions WHERE name = $1", &[&name])
        .await
        .map_err(db_err)?;
    tx.execute(
        "DELETE FROM compiled_artifacts WHERE sha256 NOT IN (SELECT sha256 FROM plugin_versions)",
        &[],
    )
    .await
    .map_err(db_err)?;
    notify(&tx, name).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(())
}

/// Store compiled code (kept if already stored).
pub(super) async fn put_artifact(
    c: &Client,
    sha256: &str,
    engine: &str,
    artifact: &[u8],
    now: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO compiled_artifacts (sha256, engine, artifact, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (sha256, engine) DO NOTHING",
        &[&sha256, &engine, &artifact, &now],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Compiled code, when stored.
pub(super) async fn artifact(
    c: &Client,
    sha256: &str,
    engine: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row = c
        .query_opt(
            "SELECT artifact FROM compiled_artifacts WHERE sha256 = $1 AND engine = $2",
            &[&sha256, &engine],
        )
        .await
        .map_err(db_err)?;
    row.map(|r| get(&r, 0)).transpose()
}
