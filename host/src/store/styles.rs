//! The style registry: builtin styles (seeded by migrations), user styles
//! (REST CRUD) and plugin styles (present while their plugin is loaded).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Db, StoreError, StyleSnapshot};

/// One before/after pair of a style.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StyleExample {
    /// A prompt before the style is applied.
    pub before: String,
    /// The same prompt after.
    pub after: String,
}

/// A style as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StyleRecord {
    /// Unique name, `^[a-z0-9][a-z0-9-]{0,63}$`.
    pub name: String,
    /// One line on what the style does.
    pub description: String,
    /// `builtin`, `user` or `plugin:<name>`.
    pub source: String,
    /// Guidance for the rewriter.
    pub instructions: String,
    /// Before/after examples.
    pub examples: Vec<StyleExample>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
}

/// Where a style comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StyleSource {
    /// Seeded with the server.
    Builtin,
    /// Created through the REST API.
    User,
    /// Provided by the named plugin.
    Plugin(String),
}

impl StyleSource {
    fn parse(s: &str) -> StyleSource {
        match s {
            "builtin" => StyleSource::Builtin,
            "user" => StyleSource::User,
            other => StyleSource::Plugin(other.trim_start_matches("plugin:").to_string()),
        }
    }
}

impl StyleRecord {
    /// The parsed source of this style.
    pub fn source_kind(&self) -> StyleSource {
        StyleSource::parse(&self.source)
    }

    /// The strong entity tag of this version of the style, quoted as it
    /// travels in `ETag` (`"3f2a…"`).
    ///
    /// A digest of every stored field, `updated_at` included: two versions
    /// differ in tag whenever they differ in content, and a rewrite with
    /// identical content still gets a new tag once the clock has moved (so
    /// an A→B→A sequence of PUTs does not make a stale `If-Match` current
    /// again). No schema change is needed, unlike a version counter.
    pub fn etag(&self) -> String {
        let mut h = Sha256::new();
        for field in [
            &self.name,
            &self.source,
            &self.description,
            &self.instructions,
            &self.created_at,
            &self.updated_at,
        ] {
            h.update(field.as_bytes());
            // A separator no field contains, so ("ab","c") ≠ ("a","bc").
            h.update([0u8]);
        }
        for e in &self.examples {
            h.update(e.before.as_bytes());
            h.update([0u8]);
            h.update(e.after.as_bytes());
            h.update([0u8]);
        }
        format!("\"{}\"", hex::encode(&h.finalize()[..12]))
    }
}

/// The `If-Match` condition of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `If-Match: *`: any current version.
    Any,
    /// One of these entity tags, as sent (quoted; `W/` tags never match,
    /// since `If-Match` uses the strong comparison).
    Tags(Vec<String>),
}

impl IfMatch {
    /// True when `record` satisfies the condition.
    pub fn matches(&self, record: &StyleRecord) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => {
                let current = record.etag();
                tags.contains(&current)
            }
        }
    }
}

/// A conditional write found another version than the client expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("style '{name}' was changed since it was read; its current ETag is {current_etag}")]
pub struct Stale {
    /// The style.
    pub name: String,
    /// Its current tag, so the client can re-read and retry.
    pub current_etag: String,
}

/// Fields of a style to insert.
#[derive(Debug, Clone)]
pub struct NewStyle {
    /// Unique name.
    pub name: String,
    /// One line on what the style does.
    pub description: String,
    /// Guidance for the rewriter.
    pub instructions: String,
    /// Before/after examples.
    pub examples: Vec<StyleExample>,
}

/// Replacement fields for a user style.
#[derive(Debug, Clone)]
pub struct StyleUpdate {
    /// New description.
    pub description: String,
    /// New instructions.
    pub instructions: String,
    /// New examples.
    pub examples: Vec<StyleExample>,
}

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
    record.examples = serde_json::from_str(&examples)
        .map_err(|e| StoreError::Corrupt(format!("examples of style {}: {e}", record.name)))?;
    Ok(record)
}

fn encode_examples(examples: &[StyleExample]) -> Result<String, StoreError> {
    serde_json::to_string(examples).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn get_sync(conn: &Connection, name: &str) -> Result<Option<StyleRecord>, StoreError> {
    let row = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM styles WHERE name = ?1"),
            [name],
            from_row,
        )
        .optional()?;
    row.map(decode).transpose()
}

/// Every stored style, ordered by name (the snapshot's source).
pub(super) fn load_all(conn: &Connection) -> Result<Vec<StyleRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM styles ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| decode(r?)).collect()
}

/// A transaction that takes the write lock up front. A deferred
/// read-then-write transaction fails with SQLITE_BUSY_SNAPSHOT when another
/// connection (the request-log writer) committed in between, and the busy
/// timeout cannot help there.
fn write_tx(c: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    c.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// The user style `name`, checked against the caller's `If-Match`: the
/// inner `Err` when the caller's version is stale.
fn editable_style(
    conn: &Connection,
    name: &str,
    if_match: Option<&IfMatch>,
) -> Result<Result<StyleRecord, Stale>, StoreError> {
    let current = ensure_user_style(conn, name)?;
    match if_match {
        Some(cond) if !cond.matches(&current) => Ok(Err(Stale {
            current_etag: current.etag(),
            name: name.to_string(),
        })),
        _ => Ok(Ok(current)),
    }
}

/// The style when it is a user style; `NotFound` when `name` is absent,
/// `Conflict` when it is builtin or a plugin's.
fn ensure_user_style(conn: &Connection, name: &str) -> Result<StyleRecord, StoreError> {
    let existing =
        get_sync(conn, name)?.ok_or_else(|| StoreError::NotFound(format!("style '{name}'")))?;
    match read_only_reason(&existing) {
        Some(reason) => Err(StoreError::Conflict(reason)),
        None => Ok(existing),
    }
}

fn read_only_reason(record: &StyleRecord) -> Option<String> {
    match record.source_kind() {
        StyleSource::User => None,
        StyleSource::Builtin => Some(format!(
            "style '{}' is builtin and cannot be changed; create a user style with another name",
            record.name
        )),
        StyleSource::Plugin(p) => Some(format!(
            "style '{}' is provided by plugin '{p}' and cannot be changed through the API",
            record.name
        )),
    }
}

impl Db {
    /// Every style, ordered by name, from the in-memory snapshot.
    pub fn list_styles(&self) -> Arc<StyleSnapshot> {
        self.styles()
    }

    /// One style by name, from the in-memory snapshot.
    pub fn get_style(&self, name: &str) -> Option<Arc<StyleRecord>> {
        self.styles().get(name).cloned()
    }

    /// Insert a user style; `Conflict` when the name is taken.
    pub async fn create_style(&self, style: NewStyle) -> Result<StyleRecord, StoreError> {
        let cache = self.styles.clone();
        self.call(move |c| {
            let examples = encode_examples(&style.examples)?;
            let inserted = c.execute(
                "INSERT INTO styles (name, description, source, instructions, examples)
                 VALUES (?1, ?2, 'user', ?3, ?4) ON CONFLICT(name) DO NOTHING",
                params![style.name, style.description, style.instructions, examples],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "a style named '{}' already exists",
                    style.name
                )));
            }
            let record = get_sync(c, &style.name)?
                .ok_or_else(|| StoreError::NotFound(format!("style '{}'", style.name)))?;
            // Published before the connection is released: the next remix
            // (and the 201 itself) sees the style.
            cache.put(record.clone());
            Ok(record)
        })
        .await
    }

    /// Replace a user style's fields; `Conflict` for builtin and plugin styles.
    /// Last write wins; see [`Db::update_style_if`] for the conditional form.
    pub async fn update_style(
        &self,
        name: &str,
        update: StyleUpdate,
    ) -> Result<StyleRecord, StoreError> {
        match self.update_style_if(name, update, None).await? {
            Ok(record) => Ok(record),
            // Unreachable without a condition; mapped rather than unwrapped.
            Err(stale) => Err(StoreError::Conflict(stale.to_string())),
        }
    }

    /// Replace a user style's fields when its current version satisfies
    /// `if_match` (always, when `None`); `Ok(Err(Stale))` otherwise.
    ///
    /// The check and the write run in one IMMEDIATE transaction, so no
    /// other writer can slip in between: of two clients updating from the
    /// same version, exactly one wins and the other is told it is stale.
    pub async fn update_style_if(
        &self,
        name: &str,
        update: StyleUpdate,
        if_match: Option<IfMatch>,
    ) -> Result<Result<StyleRecord, Stale>, StoreError> {
        let name = name.to_string();
        let cache = self.styles.clone();
        self.call(move |c| {
            let tx = write_tx(c)?;
            if let Err(stale) = editable_style(&tx, &name, if_match.as_ref())? {
                return Ok(Err(stale));
            }
            tx.execute(
                "UPDATE styles SET description = ?2, instructions = ?3, examples = ?4,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE name = ?1",
                params![
                    name,
                    update.description,
                    update.instructions,
                    encode_examples(&update.examples)?
                ],
            )?;
            let record = get_sync(&tx, &name)?
                .ok_or_else(|| StoreError::NotFound(format!("style '{name}'")))?;
            tx.commit()?;
            cache.put(record.clone());
            Ok(Ok(record))
        })
        .await
    }

    /// Delete a user style; `Conflict` for builtin and plugin styles.
    pub async fn delete_style(&self, name: &str) -> Result<(), StoreError> {
        match self.delete_style_if(name, None).await? {
            Ok(()) => Ok(()),
            Err(stale) => Err(StoreError::Conflict(stale.to_string())),
        }
    }

    /// Delete a user style when its current version satisfies `if_match`
    /// (always, when `None`); `Ok(Err(Stale))` otherwise. Check and delete
    /// share one IMMEDIATE transaction.
    pub async fn delete_style_if(
        &self,
        name: &str,
        if_match: Option<IfMatch>,
    ) -> Result<Result<(), Stale>, StoreError> {
        let name = name.to_string();
        let cache = self.styles.clone();
        self.call(move |c| {
            let tx = write_tx(c)?;
            if let Err(stale) = editable_style(&tx, &name, if_match.as_ref())? {
                return Ok(Err(stale));
            }
            tx.execute("DELETE FROM styles WHERE name = ?1", [&name])?;
            tx.commit()?;
            cache.remove(&name);
            Ok(Ok(()))
        })
        .await
    }

    /// Make the plugin styles in the registry exactly those of `plugins`
    /// (name, styles), then call `swap` with the plugins whose styles were
    /// refused (name, reason), all inside one transaction: the connection
    /// is held throughout, so no reader sees styles and plugins disagree.
    ///
    /// A plugin is refused when one of its style names belongs to a
    /// builtin, user or other plugin's style; its styles are left out.
    ///
    /// Only the difference is written: a style whose stored fields already
    /// equal the plugin's is left alone (its `updated_at` too), so a reload
    /// costs writes in proportion to what changed, not to every plugin
    /// style.
    pub async fn sync_plugin_styles<R, F>(
        &self,
        plugins: Vec<(String, Vec<NewStyle>)>,
        swap: F,
    ) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&[(String, String)]) -> R + Send + 'static,
    {
        let cache = self.styles.clone();
        self.call(move |c| {
            let tx = write_tx(c)?;
            let mut refused: Vec<(String, String)> = Vec::new();
            let mut accepted: Vec<String> = Vec::new();
            for (plugin, styles) in &plugins {
                let source = format!("plugin:{plugin}");
                let stored: HashMap<String, StyleRecord> = {
                    let mut stmt = tx.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM styles WHERE source = ?1"
                    ))?;
                    let rows = stmt.query_map([&source], from_row)?;
                    rows.map(|r| decode(r?).map(|s| (s.name.clone(), s)))
                        .collect::<Result<_, _>>()?
                };
                let mut conflict = None;
                for style in styles.iter().filter(|s| !stored.contains_key(&s.name)) {
                    if let Some(existing) = get_sync(&tx, &style.name)? {
                        conflict = Some(format!(
                            "style '{}' already exists with source '{}'",
                            style.name, existing.source
                        ));
                        break;
                    }
                }
                if let Some(reason) = conflict {
                    refused.push((plugin.clone(), reason));
                    continue;
                }
                let wanted: HashSet<&str> = styles.iter().map(|s| s.name.as_str()).collect();
                for name in stored.keys().filter(|n| !wanted.contains(n.as_str())) {
                    tx.execute("DELETE FROM styles WHERE name = ?1", [name])?;
                }
                for style in styles {
                    match stored.get(&style.name) {
                        Some(s)
                            if s.description == style.description
                                && s.instructions == style.instructions
                                && s.examples == style.examples => {}
                        // Changed: an update keeps created_at.
                        Some(_) => {
                            tx.execute(
                                "UPDATE styles SET description = ?2, instructions = ?3,
                                   examples = ?4,
                                   updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                                 WHERE name = ?1",
                                params![
                                    style.name,
                                    style.description,
                                    style.instructions,
                                    encode_examples(&style.examples)?
                                ],
                            )?;
                        }
                        None => {
                            tx.execute(
                                "INSERT INTO styles (name, description, source, instructions, examples)
                                 VALUES (?1, ?2, ?3, ?4, ?5)",
                                params![
                                    style.name,
                                    style.description,
                                    source,
                                    style.instructions,
                                    encode_examples(&style.examples)?
                                ],
                            )?;
                        }
                    }
                }
                accepted.push(source);
            }
            // Styles of plugins that are gone (or refused) go with them.
            let sources: Vec<String> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT DISTINCT source FROM styles WHERE source LIKE 'plugin:%'",
                )?;
                stmt.query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            for source in sources.iter().filter(|s| !accepted.contains(s)) {
                tx.execute("DELETE FROM styles WHERE source = ?1", [source])?;
            }
            tx.commit()?;
            // Still holding the connection: the new styles are published
            // right before the new plugin table, so a request that sees the
            // new table sees its styles (the snapshot comes first: a style
            // may briefly exist before its plugin serves it, never the
            // reverse).
            cache.reload(c)?;
            Ok(swap(&refused))
        })
        .await
    }
}
