//! The style registry: builtin styles (compiled in), user styles (REST
//! CRUD, stored in the database) and plugin styles (in memory while their
//! plugin is loaded). Reads come from the snapshot; writes go through the
//! backend and then into the snapshot in registry-version order.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::snapshot::UserChange;
use super::{Db, StoreError, StyleSnapshot, now_rfc3339};

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

/// The examples column: a JSON array of `{before, after}`.
pub(crate) fn encode_examples(examples: &[StyleExample]) -> Result<String, StoreError> {
    serde_json::to_string(examples).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The examples of style `name` from their column text.
pub(crate) fn decode_examples(name: &str, text: &str) -> Result<Vec<StyleExample>, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("examples of style {name}: {e}")))
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

    /// `Conflict` when `name` is a builtin or plugin style (they are not
    /// the database's to change).
    fn ensure_not_read_only(&self, name: &str) -> Result<(), StoreError> {
        match self.styles().get(name).and_then(|s| read_only_reason(s)) {
            Some(reason) => Err(StoreError::Conflict(reason)),
            None => Ok(()),
        }
    }

    /// Publish a committed user-style change in the snapshot before the
    /// write answers; when another instance's write came in between (the
    /// version is not the next one), reload the layer in full instead.
    async fn publish_change(&self, version: u64, change: UserChange) {
        if self.inner.styles.apply_user(version, change) {
            return;
        }
        if let Err(e) = self.refresh_styles().await {
            // Committed all the same; the listener's resync catches up.
            tracing::warn!("style snapshot not refreshed after a write: {e}");
        }
    }

    /// Insert a user style; `Conflict` when the name is taken.
    pub async fn create_style(&self, style: NewStyle) -> Result<StyleRecord, StoreError> {
        if let Some(reason) = self.inner.styles.reserved(&style.name) {
            return Err(StoreError::Conflict(reason));
        }
        let now = now_rfc3339();
        let (version, record) = on_backend!(self, b => b.insert_style(&style, &now).await)?;
        self.publish_change(version, UserChange::Put(record.clone()))
            .await;
        Ok(record)
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
    /// The check and the write run in one transaction that first bumps the
    /// registry version, which serialises style writes on the database (of
    /// every instance): of two clients updating from the same version,
    /// exactly one wins and the other is told it is stale.
    pub async fn update_style_if(
        &self,
        name: &str,
        update: StyleUpdate,
        if_match: Option<IfMatch>,
    ) -> Result<Result<StyleRecord, Stale>, StoreError> {
        self.ensure_not_read_only(name)?;
        let now = now_rfc3339();
        let written =
            on_backend!(self, b => b.update_style(name, &update, if_match.as_ref(), &now).await)?;
        match written {
            Ok((version, record)) => {
                self.publish_change(version, UserChange::Put(record.clone()))
                    .await;
                Ok(Ok(record))
            }
            Err(stale) => Ok(Err(stale)),
        }
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
    /// share one transaction.
    pub async fn delete_style_if(
        &self,
        name: &str,
        if_match: Option<IfMatch>,
    ) -> Result<Result<(), Stale>, StoreError> {
        self.ensure_not_read_only(name)?;
        let deleted = on_backend!(self, b => b.delete_style(name, if_match.as_ref()).await)?;
        match deleted {
            Ok(version) => {
                self.publish_change(version, UserChange::Remove(name.to_string()))
                    .await;
                Ok(Ok(()))
            }
            Err(stale) => Ok(Err(stale)),
        }
    }

    /// Make the plugin styles of the registry exactly those of `plugins`
    /// (name, styles), then call `swap` with the plugins whose styles were
    /// refused (name, reason). In memory only: plugin styles belong to the
    /// instance that loaded the plugin, so a reload never writes to the
    /// database and works while it is down.
    ///
    /// A plugin is refused when one of its style names belongs to a
    /// builtin or user style, or to another plugin that already provides
    /// it; its styles are left out.
    pub fn sync_plugin_styles<R>(
        &self,
        plugins: Vec<(String, Vec<NewStyle>)>,
        swap: impl FnOnce(&[(String, String)]) -> R,
    ) -> R {
        self.inner
            .styles
            .set_plugin_styles(&plugins, &now_rfc3339(), swap)
    }
}
