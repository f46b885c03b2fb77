//! The one store interface both backends implement: everything `Db` asks
//! of a database. `Db` (mod.rs) owns the in-memory style snapshot and the
//! rules around it; a backend only reads and writes rows.

use super::{
    CachePut, CachedAnswer, IfMatch, LogRow, NewPluginVersion, NewRun, NewStyle, PluginVersion,
    Published, PublishedPlugin, Retention, RunRecord, Stale, StoreError, StyleRecord, StyleUpdate,
    SuiteRecord,
};

/// A database holding the registry, the request log and published plugins.
///
/// Style writes bump the registry version (`registry.styles_version`) in
/// their transaction and return the new value; on a shared database they
/// also announce it (PostgreSQL `NOTIFY ps_styles`). Every method is bounded
/// in time by the backend (past it: [`StoreError::Unavailable`]).
pub(super) trait Backend: Send + Sync {
    /// The registry version and every user style, read in one consistent snapshot.
    async fn load_user_styles(&self) -> Result<(u64, Vec<StyleRecord>), StoreError>;

    /// Insert a user style stamped `now`; `Conflict` when a user style has that name.
    async fn insert_style(
        &self,
        style: &NewStyle,
        now: &str,
    ) -> Result<(u64, StyleRecord), StoreError>;

    /// Replace a user style's fields when `if_match` holds (always when
    /// `None`); `NotFound` when absent. Check and write in one transaction.
    async fn update_style(
        &self,
        name: &str,
        update: &StyleUpdate,
        if_match: Option<&IfMatch>,
        now: &str,
    ) -> Result<Result<(u64, StyleRecord), Stale>, StoreError>;

    /// Delete a user style when `if_match` holds; `NotFound` when absent.
    async fn delete_style(
        &self,
        name: &str,
        if_match: Option<&IfMatch>,
    ) -> Result<Result<u64, Stale>, StoreError>;

    /// A trivial round trip.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The active version of every published plugin.
    async fn active_plugins(&self) -> Result<Vec<PublishedPlugin>, StoreError>;

    /// The component bytes of one published version; `NotFound` when absent.
    async fn plugin_component(&self, name: &str, sha256: &str) -> Result<Vec<u8>, StoreError>;

    /// Store a version (kept if already stored) and make it the active one.
    async fn publish_plugin(
        &self,
        version: &NewPluginVersion,
        now: &str,
    ) -> Result<Published, StoreError>;

    /// Every stored version of `name`, newest upload first; empty when none.
    async fn plugin_versions(&self, name: &str) -> Result<Vec<PluginVersion>, StoreError>;

    /// Make a stored version the active one; `NotFound` when the plugin or version is absent.
    async fn activate_plugin_version(
        &self,
        name: &str,
        sha256: &str,
        now: &str,
    ) -> Result<PublishedPlugin, StoreError>;

    /// Remove a published plugin and all its versions (and compiled code no
    /// version refers to any more); `NotFound` when absent.
    async fn delete_plugin(&self, name: &str) -> Result<(), StoreError>;

    /// Store compiled code of component `sha256` for engine configuration
    /// `engine` (kept if already stored).
    async fn put_artifact(
        &self,
        sha256: &str,
        engine: &str,
        artifact: &[u8],
        now: &str,
    ) -> Result<(), StoreError>;

    /// Compiled code of component `sha256` for `engine`, when stored.
    async fn artifact(&self, sha256: &str, engine: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Append request-log rows in one transaction.
    async fn write_request_log(&self, rows: &[LogRow]) -> Result<(), StoreError>;

    /// Drop request-log rows past the retention bounds.
    async fn prune_request_log(&self, retention: Retention) -> Result<(), StoreError>;

    /// Copy user styles in (keeping their timestamps); a name already stored
    /// is skipped. Returns (imported, skipped).
    async fn import_styles(&self, styles: &[StyleRecord]) -> Result<(u64, u64), StoreError>;

    /// Every saved evaluate suite, by name.
    async fn suites(&self) -> Result<Vec<SuiteRecord>, StoreError>;

    /// One suite, when saved.
    async fn suite(&self, name: &str) -> Result<Option<SuiteRecord>, StoreError>;

    /// Save a new suite stamped `now`; `Conflict` when the name is taken.
    async fn insert_suite(
        &self,
        name: &str,
        description: &str,
        body: &str,
        now: &str,
    ) -> Result<SuiteRecord, StoreError>;

    /// Replace a suite's description and body; `NotFound` when absent.
    async fn update_suite(
        &self,
        name: &str,
        description: &str,
        body: &str,
        now: &str,
    ) -> Result<SuiteRecord, StoreError>;

    /// Delete a suite; `NotFound` when absent.
    async fn delete_suite(&self, name: &str) -> Result<(), StoreError>;

    /// Store an evaluate run, keeping only the newest `keep` (≥ 1).
    async fn insert_eval_run(&self, run: &NewRun, keep: u64) -> Result<(), StoreError>;

    /// The newest `limit` runs, without their results.
    async fn eval_runs(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError>;

    /// One run with its results, when stored.
    async fn eval_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// The LLM cache entry under `key` stored at or after `fresh_since_ms`.
    async fn llm_cache_get(
        &self,
        key: &str,
        fresh_since_ms: i64,
    ) -> Result<Option<CachedAnswer>, StoreError>;

    /// Store an LLM cache entry as the newest (replacing one under its key)
    /// and drop the oldest beyond `max_entries` (≥ 1), in one transaction.
    async fn llm_cache_put(
        &self,
        answer: &CachedAnswer,
        max_entries: u64,
    ) -> Result<CachePut, StoreError>;

    /// Drop LLM cache entries stored before `stale_before_ms`; returns how
    /// many are left.
    async fn llm_cache_prune(&self, stale_before_ms: i64) -> Result<u64, StoreError>;
}
