//! Published plugins (issue 12): components stored in the database through
//! `PUT /api/v1/plugins/{name}` and served by every instance on it.
//!
//! - **One loader.** A published component goes through the same loading
//!   path as a folder file (`load_component`: compile through the compile
//!   cache, world, manifest, manifest checks), plus two rules of its own:
//!   its manifest name is the name it was published under, and it keeps
//!   the kind of a configured default of that name.
//! - **Validate, store, reload.** A publish loads the component before it
//!   is stored, so what the loader refuses never reaches the database; the
//!   plugin it loaded waits in `Inner::pending` for the reload that follows,
//!   which serves it without compiling it twice.
//! - **Reload.** Every reload reads the active versions. An unchanged
//!   (name, sha256) keeps what loading it gave (a loaded plugin, or a
//!   refusal in its bytes); a new one is fetched and loaded. A failure that
//!   may pass (the database, a time-out) leaves the previous published
//!   version of that name serving and asks for a retry; a refusal leaves the
//!   name to the folder file, if any. When the active versions cannot be
//!   read at all, the published plugins of the previous table keep serving.
//! - **Cancellation.** The store write and the reload after it run on a
//!   task of their own: a client that hangs up mid-publish cannot leave the
//!   database changed and this instance serving the old version.

use std::sync::PoisonError;

use super::reload::{LoadFailure, Outcome, failed_row, too_big};
use super::*;
use crate::store::{NewPluginVersion, PluginVersion, PublishedPlugin, StoreError};

/// Why a publish, rollback or unpublish did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The component or the name is refused (invalid name, not a component,
    /// wrong world, manifest name ≠ the name, kind of a configured default,
    /// style clash, a cap): 422 `plugin_rejected`.
    #[error("{0}")]
    Rejected(String),
    /// No such published plugin or version: 404 `plugin_not_found`.
    #[error("{0}")]
    NotFound(String),
    /// The name is served only from the plugins folder, which the API does
    /// not change: 409 `plugin_not_published`.
    #[error("{0}")]
    FolderPlugin(String),
    /// The database failed (`Unavailable` → 503 `storage_unavailable`).
    #[error("{0}")]
    Store(StoreError),
}

/// What a publish did.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    /// The name had no published plugin before (201 rather than 200).
    pub created: bool,
    /// The row of the name after the reload: the published plugin serving.
    pub status: PluginStatus,
}

/// What a reload remembers about one published name for the next.
#[derive(Clone)]
pub(super) struct PublishedRecord {
    /// The active version when it was loaded.
    sha256: String,
    /// What loading it gave.
    outcome: Outcome,
}

/// The published part of one reload.
#[derive(Default)]
pub(super) struct PublishedScan {
    /// Plugins that claim their name, above every folder file.
    pub(super) serving: Vec<Arc<Plugin>>,
    /// One row per published name.
    pub(super) statuses: Vec<PluginStatus>,
    /// What to remember for the next reload.
    pub(super) records: HashMap<String, PublishedRecord>,
    /// Something failed for a reason that may pass.
    pub(super) retry: bool,
    /// The active versions could not be read.
    pub(super) db_unavailable: bool,
}

/// What loading one active version gave.
enum Got {
    Loaded(Arc<Plugin>),
    Refused(Box<PluginStatus>),
    Transient(String),
}

/// Removes a publish's validated plugin from `Inner::pending` however the
/// publish ends, unless a concurrent publish of the same bytes replaced it.
struct PendingGuard {
    rt: Runtime,
    plugin: Arc<Plugin>,
}

impl PendingGuard {
    fn hold(rt: &Runtime, plugin: &Arc<Plugin>) -> PendingGuard {
        rt.inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(plugin.sha256.clone(), Arc::clone(plugin));
        PendingGuard {
            rt: rt.clone(),
            plugin: Arc::clone(plugin),
        }
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        let mut pending = self
            .rt
            .inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if pending
            .get(&self.plugin.sha256)
            .is_some_and(|p| Arc::ptr_eq(p, &self.plugin))
        {
            pending.remove(&self.plugin.sha256);
        }
    }
}

impl Runtime {
    /// Largest component a publish accepts, in bytes (the folder's cap,
    /// `PROMPTSCULPTOR_MAX_COMPONENT_BYTES`).
    pub fn max_component_bytes(&self) -> u64 {
        self.inner.settings.load.max_component_bytes
    }

    /// Validate `component` with the loader, store it as the active version
    /// of `name`, reload, and return the row now serving `name`.
    pub async fn publish(
        &self,
        name: &str,
        component: Vec<u8>,
    ) -> Result<PublishOutcome, PublishError> {
        if !is_valid_name(name) {
            return Err(PublishError::Rejected(format!(
                "'{name}' is not a valid plugin name: it must match ^[a-z0-9][a-z0-9-]{{0,63}}$"
            )));
        }
        let cap = self.max_component_bytes();
        if component.len() as u64 > cap {
            return Err(PublishError::Rejected(format!(
                "the component is {} bytes, over the component size cap of {cap} bytes \
                 (PROMPTSCULPTOR_MAX_COMPONENT_BYTES)",
                component.len()
            )));
        }
        let bytes = Arc::new(component);
        let hashed = Arc::clone(&bytes);
        let sha = tokio::task::spawn_blocking(move || plugin::sha256_hex(&hashed))
            .await
            .map_err(|e| PublishError::Store(StoreError::Worker(e.to_string())))?;
        let plugin = match self.reusable(name, &sha) {
            Some(p) => p,
            None => {
                let file = PluginSource::published_file(name);
                let loaded = self
                    .load_component(
                        &file,
                        PluginSource::Published,
                        Arc::clone(&bytes),
                        sha.clone(),
                    )
                    .await;
                match loaded {
                    Ok(p) => Arc::new(p),
                    Err(f) if f.transient => {
                        return Err(PublishError::Rejected(format!(
                            "{}; the component could not be checked now, try again",
                            f.message
                        )));
                    }
                    Err(f) => return Err(PublishError::Rejected(f.message)),
                }
            }
        };
        self.check_published(name, &plugin)
            .map_err(PublishError::Rejected)?;
        if let Some(reason) = style_clash(name, &plugin, &self.inner.caps.db.styles(), false) {
            return Err(PublishError::Rejected(format!(
                "its styles cannot be served: {reason}"
            )));
        }
        let component = Arc::try_unwrap(bytes).unwrap_or_else(|shared| shared.to_vec());
        let version = NewPluginVersion {
            name: name.to_string(),
            version: plugin.version.clone(),
            kind: plugin.kind().as_str().to_string(),
            sha256: sha,
            component,
        };
        let rt = self.clone();
        let name = name.to_string();
        let committed = tokio::spawn(async move {
            let _pending = PendingGuard::hold(&rt, &plugin);
            // Before the change is announced: the other instances find the
            // compiled code when they load the new version.
            rt.share_compiled(&plugin.sha256).await;
            let published = rt
                .inner
                .caps
                .db
                .publish_plugin(version)
                .await
                .map_err(store_error)?;
            let table = rt.reload().await;
            let status = published_row(&table, &name).unwrap_or_else(|| {
                // The reload could not read the database after the write;
                // the retry serves it.
                let mut st = PluginStatus::ok(&plugin);
                st.status = "error";
                st.error = Some(NOT_YET_LOADED.to_string());
                st
            });
            tracing::info!(
                plugin = %name, version = %plugin.version, sha256 = %plugin.sha256,
                created = published.created, changed = published.changed, "plugin published"
            );
            Ok(PublishOutcome {
                created: published.created,
                status,
            })
        });
        committed.await.map_err(task_failed)?
    }

    /// Every stored version of `name`, newest first: empty for a name
    /// served only from the plugins folder; `NotFound` when the name is
    /// neither published nor in the folder.
    pub async fn plugin_versions(&self, name: &str) -> Result<Vec<PluginVersion>, PublishError> {
        if !is_valid_name(name) {
            return Err(no_such_plugin(name));
        }
        let versions = self
            .inner
            .caps
            .db
            .plugin_versions(name)
            .await
            .map_err(store_error)?;
        if versions.is_empty() && !self.table().folder_has(name) {
            return Err(no_such_plugin(name));
        }
        Ok(versions)
    }

    /// Make the stored version `sha256` of `name` the active one, reload,
    /// and return the row now serving `name`.
    pub async fn rollback(&self, name: &str, sha256: &str) -> Result<PluginStatus, PublishError> {
        if !is_valid_name(name) {
            return Err(no_such_plugin(name));
        }
        let rt = self.clone();
        let (name, sha256) = (name.to_string(), sha256.to_string());
        let committed = tokio::spawn(async move {
            let active = match rt
                .inner
                .caps
                .db
                .activate_plugin_version(&name, &sha256)
                .await
            {
                Ok(a) => a,
                Err(StoreError::NotFound(_)) => return Err(rt.absent(&name, Some(&sha256)).await),
                Err(e) => return Err(store_error(e)),
            };
            let table = rt.reload().await;
            tracing::info!(plugin = %name, version = %active.version, sha256 = %sha256, "plugin rolled back");
            Ok(published_row(&table, &name).unwrap_or_else(|| unloaded_row(&active)))
        });
        committed.await.map_err(task_failed)?
    }

    /// Remove the published plugin `name` and all its versions, and reload:
    /// the folder file of that name, if any, serves again.
    pub async fn unpublish(&self, name: &str) -> Result<(), PublishError> {
        if !is_valid_name(name) {
            return Err(no_such_plugin(name));
        }
        let rt = self.clone();
        let name = name.to_string();
        let committed = tokio::spawn(async move {
            match rt.inner.caps.db.delete_plugin(&name).await {
                Ok(()) => {}
                Err(StoreError::NotFound(_)) => return Err(rt.absent(&name, None).await),
                Err(e) => return Err(store_error(e)),
            }
            rt.reload().await;
            tracing::info!(plugin = %name, "plugin unpublished");
            Ok(())
        });
        committed.await.map_err(task_failed)?
    }

    /// The error for a name (or a version of it) the store does not hold.
    async fn absent(&self, name: &str, sha256: Option<&str>) -> PublishError {
        if let Some(sha) = sha256 {
            match self.inner.caps.db.plugin_versions(name).await {
                Ok(v) if !v.is_empty() => {
                    return PublishError::NotFound(format!(
                        "plugin '{name}' has no published version with sha256 {sha}; \
                         GET /api/v1/plugins/{name}/versions lists them"
                    ));
                }
                Ok(_) => {}
                Err(e) => return store_error(e),
            }
        }
        if self.table().folder_has(name) {
            PublishError::FolderPlugin(format!(
                "plugin '{name}' is served from the plugins folder and has no published \
                 version; change or remove its file instead"
            ))
        } else {
            no_such_plugin(name)
        }
    }

    /// The loaded plugin of these bytes, when one exists: serving under
    /// `name`, or validated by a publish still in progress.
    fn reusable(&self, name: &str, sha: &str) -> Option<Arc<Plugin>> {
        let table = self.table();
        if let Some(p) = table
            .by_name
            .get(name)
            .filter(|p| p.sha256 == sha && p.source == PluginSource::Published)
        {
            return Some(Arc::clone(p));
        }
        self.inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sha)
            .filter(|p| p.name == name)
            .cloned()
    }

    /// The rules a published plugin obeys beyond the loader's.
    fn check_published(&self, name: &str, p: &Plugin) -> Result<(), String> {
        if p.name != name {
            return Err(format!(
                "the component's manifest names it '{}', not '{name}'",
                p.name
            ));
        }
        let s = &self.inner.settings;
        for (default, kind, var) in [
            (&s.default_analyze, PluginKind::Analyze, "ANALYZER"),
            (&s.default_remix, PluginKind::Remix, "REMIXER"),
            (&s.default_create, PluginKind::Create, "CREATOR"),
        ] {
            if default == name && p.kind() != kind {
                return Err(format!(
                    "'{name}' is the configured default {} plugin \
                     (PROMPTSCULPTOR_DEFAULT_{var}); a {} plugin cannot take its name",
                    kind.as_str(),
                    p.kind().as_str()
                ));
            }
        }
        Ok(())
    }

    /// The published part of a reload (reload.rs): load or reuse every
    /// active version; on a database error, what `old` served.
    pub(super) async fn scan_published(&self, old: &PluginTable) -> PublishedScan {
        let active = match self.inner.caps.db.active_plugins().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(
                    "cannot read the published plugins, the previous ones keep serving: {e}"
                );
                return PublishedScan {
                    serving: old
                        .by_name
                        .values()
                        .filter(|p| p.source == PluginSource::Published)
                        .cloned()
                        .collect(),
                    statuses: old
                        .statuses
                        .iter()
                        .filter(|s| s.source == PluginSource::Published.as_str())
                        .cloned()
                        .collect(),
                    records: old.published.clone(),
                    retry: true,
                    db_unavailable: true,
                };
            }
        };
        let mut tasks = Vec::with_capacity(active.len());
        for a in active {
            let rt = self.clone();
            let record = old.published.get(&a.name).cloned();
            tasks.push(tokio::spawn(async move {
                let loaded = rt.load_published(&a, record).await;
                (a, loaded)
            }));
        }
        let styles = self.inner.caps.db.styles();
        let mut scan = PublishedScan::default();
        for t in tasks {
            let (a, (record, got)) = match t.await {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!("published plugin load task failed: {e}");
                    scan.retry = true;
                    continue;
                }
            };
            scan.records.insert(a.name.clone(), record);
            match got {
                Got::Loaded(p) => match style_clash(&a.name, &p, &styles, true) {
                    // Decided again on every reload, not remembered: the
                    // clash ends when the other style goes. Meanwhile the
                    // folder file of the name, if any, serves.
                    Some(reason) => {
                        scan.retry = true;
                        let st = failed_row(&p, format!("its styles were refused: {reason}"));
                        scan.statuses.push(st);
                    }
                    None => {
                        scan.statuses.push(PluginStatus::ok(&p));
                        scan.serving.push(p);
                    }
                },
                Got::Refused(st) => scan.statuses.push(*st),
                Got::Transient(message) => {
                    scan.retry = true;
                    let mut st = published_failed(&a, format!("{message}; tried again shortly"));
                    let prev = old
                        .by_name
                        .get(&a.name)
                        .filter(|p| p.source == PluginSource::Published);
                    if let Some(prev) = prev {
                        if let Some(e) = st.error.as_mut() {
                            e.push_str(&format!(
                                "; version {} loaded at {} keeps serving",
                                prev.version, prev.loaded_at
                            ));
                        }
                        scan.serving.push(Arc::clone(prev));
                    }
                    scan.statuses.push(st);
                }
            }
        }
        scan
    }

    /// What the active version `a` gives this reload, and what to remember.
    async fn load_published(
        &self,
        a: &PublishedPlugin,
        record: Option<PublishedRecord>,
    ) -> (PublishedRecord, Got) {
        let remember = |outcome| PublishedRecord {
            sha256: a.sha256.clone(),
            outcome,
        };
        if let Some(r) = record.filter(|r| r.sha256 == a.sha256) {
            match &r.outcome {
                Outcome::Loaded(p) => {
                    let p = Arc::clone(p);
                    return (r, Got::Loaded(p));
                }
                Outcome::Refused(st) => {
                    let st = st.clone();
                    return (r, Got::Refused(st));
                }
                Outcome::Transient => {}
            }
        }
        let validated = self
            .inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&a.sha256)
            .filter(|p| p.name == a.name)
            .cloned();
        if let Some(p) = validated {
            return (remember(Outcome::Loaded(Arc::clone(&p))), Got::Loaded(p));
        }
        let started = Instant::now();
        let result = self.fetch_and_load(a).await;
        let label = if result.is_ok() { "ok" } else { "error" };
        ::metrics::counter!(crate::metrics::PLUGIN_RELOADS, "outcome" => label).increment(1);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(p) => {
                tracing::info!(
                    plugin = %p.name, version = %p.version, kind = p.kind().as_str(),
                    sha256 = %p.sha256, from_cache = p.from_cache, elapsed_ms,
                    "published plugin loaded"
                );
                let p = Arc::new(p);
                (remember(Outcome::Loaded(Arc::clone(&p))), Got::Loaded(p))
            }
            Err(f) => {
                tracing::warn!(
                    plugin = %a.name, sha256 = %a.sha256, elapsed_ms, transient = f.transient,
                    "published plugin failed to load: {}", f.message
                );
                if f.transient {
                    (remember(Outcome::Transient), Got::Transient(f.message))
                } else {
                    let st = Box::new(published_failed(a, f.message));
                    (remember(Outcome::Refused(st.clone())), Got::Refused(st))
                }
            }
        }
    }

    /// Fetch the component of `a` and load it.
    async fn fetch_and_load(&self, a: &PublishedPlugin) -> Result<Plugin, LoadFailure> {
        let bytes = self
            .inner
            .caps
            .db
            .plugin_component(&a.name, &a.sha256)
            .await
            .map_err(|e| {
                LoadFailure::transient(format!("cannot read the published component: {e}"))
            })?;
        let cap = self.max_component_bytes();
        if bytes.len() as u64 > cap {
            return Err(LoadFailure::refused(too_big(bytes.len() as u64, cap)));
        }
        let bytes = Arc::new(bytes);
        let hashed = Arc::clone(&bytes);
        let sha = tokio::task::spawn_blocking(move || plugin::sha256_hex(&hashed))
            .await
            .map_err(|e| LoadFailure::transient(format!("hash task failed: {e}")))?;
        if sha != a.sha256 {
            return Err(LoadFailure::refused(format!(
                "the stored component hashes to {sha}, not to its recorded sha256 {}",
                a.sha256
            )));
        }
        self.fetch_compiled(&sha).await;
        let file = PluginSource::published_file(&a.name);
        let p = self
            .load_component(&file, PluginSource::Published, bytes, sha)
            .await?;
        self.check_published(&a.name, &p)
            .map_err(LoadFailure::refused)?;
        Ok(p)
    }
}

impl PluginTable {
    /// True when the plugins folder has a file that loaded as `name`, or a
    /// row of that name: serving, shadowed by a published plugin, or failed.
    pub(super) fn folder_has(&self, name: &str) -> bool {
        self.statuses
            .iter()
            .any(|s| s.name == name && s.source == PluginSource::Folder.as_str())
            || self.folder_plugins().any(|p| p.name == name)
    }
}

/// The row the API answers with after a change to `name`.
fn published_row(table: &PluginTable, name: &str) -> Option<PluginStatus> {
    table
        .statuses
        .iter()
        .find(|s| s.name == name && s.source == PluginSource::Published.as_str())
        .cloned()
}

/// Why a stored change shows no row yet.
const NOT_YET_LOADED: &str = "stored as the active version; this instance could not read the \
     published plugins just now and loads it as soon as the database answers";

/// The row of an active version this instance has not loaded yet.
fn unloaded_row(a: &PublishedPlugin) -> PluginStatus {
    let mut st = published_failed(a, NOT_YET_LOADED.to_string());
    st.sha256 = a.sha256.clone();
    st
}

/// The status row of an active version that does not serve.
fn published_failed(a: &PublishedPlugin, error: String) -> PluginStatus {
    let file = PluginSource::published_file(&a.name);
    let mut st = PluginStatus::failed(&file, &a.sha256, Some(a.name.clone()), error);
    st.source = PluginSource::Published.as_str();
    st.version = Some(a.version.clone());
    st.kind = PluginKind::parse(&a.kind);
    st
}

/// A style of `p` that another owner holds in `styles`: any owner other
/// than the plugin `name` it replaces, or only builtin and user styles when
/// `builtin_or_user` (a reload: clashes between plugins are the registry
/// sync's to settle).
fn style_clash(
    name: &str,
    p: &Plugin,
    styles: &StyleSnapshot,
    builtin_or_user: bool,
) -> Option<String> {
    p.styles.iter().find_map(|s| {
        let existing = styles.get(&s.name)?;
        match existing.source_kind() {
            StyleSource::Plugin(owner) if owner == name || builtin_or_user => None,
            _ => Some(format!(
                "style '{}' already exists with source '{}'",
                s.name, existing.source
            )),
        }
    })
}

fn no_such_plugin(name: &str) -> PublishError {
    PublishError::NotFound(format!(
        "no plugin named '{name}' is published or in the plugins folder"
    ))
}

/// The store's `NotFound` is the API's 404; everything else keeps its kind.
fn store_error(e: StoreError) -> PublishError {
    match e {
        StoreError::NotFound(_) => PublishError::NotFound(e.to_string()),
        e => PublishError::Store(e),
    }
}

fn task_failed(e: tokio::task::JoinError) -> PublishError {
    PublishError::Store(StoreError::Worker(format!("publish task failed: {e}")))
}
