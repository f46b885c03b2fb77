//! Loading the plugins folder: scan, compile or reuse, resolve names, swap the table.
//!
//! Rules (issue 11):
//! - **Names.** A name held by a loaded plugin stays with the file that
//!   holds it, whatever other files claim it and however they sort; a
//!   newcomer that claims it is listed `status: error` naming the holder's
//!   file. When no file holds a name yet (a cold start, or the holder was
//!   removed), the file named after the plugin (`analyze.wasm` for
//!   `analyze`) wins, then the first in file-name order. A removed file
//!   frees its name in the same rescan.
//! - **What is remembered.** Per file: its size, mtime, ctime and inode, its
//!   sha256 and what loading that content gave. An unchanged file is
//!   neither read nor hashed again. Only outcomes that depend on the bytes
//!   alone are reused (loaded, or refused as not a component, wrong world,
//!   bad manifest, over a cap); a failure that may pass (read error,
//!   time-out, engine error) and every name clash or style conflict are
//!   decided again on every rescan.
//! - **Costs.** A file over the component size cap is refused from its
//!   metadata, unread; other files are hashed by streaming, and read into
//!   memory only when they must be compiled.
//! - **Published plugins** (issue 12, publish.rs) rank above every folder
//!   file: a folder file whose name a published plugin holds is not listed
//!   (one row per name, the serving one) and serves again, without a
//!   recompile, when the published plugin goes.

use std::io::Read;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::*;

/// Default of `PROMPTSCULPTOR_MAX_COMPONENT_BYTES`: 64 MiB, room for a
/// component with a language runtime inside (a Python component is ~18 MiB).
pub const DEFAULT_MAX_COMPONENT_BYTES: u64 = 64 * 1024 * 1024;
/// Default of `PROMPTSCULPTOR_MAX_STYLES_PER_PLUGIN`: far more than a style
/// pack needs (the example pack has 3), few enough that the style list and
/// a sync stay small.
pub const DEFAULT_MAX_STYLES_PER_PLUGIN: usize = 256;
/// Default of `PROMPTSCULPTOR_MAX_MANIFEST_BYTES`: 1 MiB of manifest text.
pub const DEFAULT_MAX_MANIFEST_BYTES: usize = 1024 * 1024;

/// Caps on what one plugin file may cost to load.
#[derive(Debug, Clone, Copy)]
pub struct LoadLimits {
    /// Largest component file, in bytes; a larger one is refused from its
    /// size alone, without being read.
    pub max_component_bytes: u64,
    /// Most styles one plugin may provide.
    pub max_styles_per_plugin: usize,
    /// Most bytes of text in a manifest (name, version, description and
    /// every style field together).
    pub max_manifest_bytes: usize,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_component_bytes: DEFAULT_MAX_COMPONENT_BYTES,
            max_styles_per_plugin: DEFAULT_MAX_STYLES_PER_PLUGIN,
            max_manifest_bytes: DEFAULT_MAX_MANIFEST_BYTES,
        }
    }
}

/// What a rescan remembers about one file for the next.
#[derive(Clone)]
pub(super) struct FileRecord {
    /// The file's stamp when it was hashed; `None` when it had changed too
    /// recently to be trusted (see [`FileStamp::trusted`]).
    stamp: Option<FileStamp>,
    /// sha256 of the content; empty when the file was refused unread.
    sha256: String,
    /// What loading that content gave.
    outcome: Outcome,
}

/// The result of loading one content.
#[derive(Clone)]
pub(super) enum Outcome {
    /// Loaded, whether or not it won its name.
    Loaded(Arc<Plugin>),
    /// Refused for a reason in the bytes alone: reused while they are unchanged.
    Refused(Box<PluginStatus>),
    /// Failed for a reason that may pass: tried again on every rescan.
    Transient,
}

/// Size, times and identity of a file: when all are unchanged, so is the
/// content (the same test `git` and `make` rely on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    changed: (i64, i64),
    #[cfg(unix)]
    inode: (u64, u64),
}

impl FileStamp {
    fn of(meta: &std::fs::Metadata) -> FileStamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            changed: (meta.ctime(), meta.ctime_nsec()),
            #[cfg(unix)]
            inode: (meta.dev(), meta.ino()),
        }
    }

    /// A file written within the timestamp granularity of the moment we
    /// looked at it could be written again with the same stamp; such a
    /// stamp is not remembered, and the file is hashed again next time.
    fn trusted(self, seen_at: SystemTime) -> Option<FileStamp> {
        let settled = self
            .modified
            .and_then(|m| seen_at.duration_since(m).ok())
            .is_some_and(|age| age >= Duration::from_secs(2));
        settled.then_some(self)
    }
}

struct Candidate {
    file: String,
    outcome: Result<Arc<Plugin>, PluginStatus>,
    record: FileRecord,
}

/// A failure to load one component, and whether it may pass by itself.
pub(super) struct LoadFailure {
    pub(super) message: String,
    pub(super) transient: bool,
}

impl LoadFailure {
    pub(super) fn refused(message: String) -> LoadFailure {
        LoadFailure {
            message,
            transient: false,
        }
    }

    pub(super) fn transient(message: String) -> LoadFailure {
        LoadFailure {
            message,
            transient: true,
        }
    }
}

/// Deadline for reading a manifest while loading.
const MANIFEST_TIMEOUT: Duration = Duration::from_secs(10);

impl Runtime {
    /// Scan the plugins folder and the published plugins, and swap in a
    /// new plugin table.
    ///
    /// Unchanged files (same stamp, or same sha256) keep what loading them
    /// gave; new or changed ones are compiled (or taken from the compile
    /// cache) off the async workers. A file that fails leaves the last good
    /// version of its plugin serving. Published plugins are read from the
    /// database (publish.rs); when it cannot be read, the published plugins
    /// of the previous table keep serving and the table asks for a retry.
    /// Names are resolved as the module documentation says. Plugin styles
    /// are published to the in-memory registry just before the table swap,
    /// so the style list never shows a style whose plugin is gone; when no
    /// plugin providing styles changed, the registry is not touched at all.
    /// Reloads are serialized.
    pub async fn reload(&self) -> Arc<PluginTable> {
        let _serial = self.inner.reload_lock.lock().await;
        let started = Instant::now();
        let old = self.table();
        let mut tasks = Vec::new();
        for path in list_wasm_files(&self.inner.settings.plugins_dir) {
            let rt = self.clone();
            let old = Arc::clone(&old);
            tasks.push(tokio::spawn(
                async move { rt.load_or_reuse(&path, &old).await },
            ));
        }
        // While the folder's files load on their tasks.
        let published = self.scan_published(&old).await;
        let mut candidates = Vec::with_capacity(tasks.len());
        for t in tasks {
            match t.await {
                Ok(c) => candidates.push(c),
                Err(e) => tracing::error!("plugin load task failed: {e}"),
            }
        }

        let mut files: HashMap<String, FileRecord> = HashMap::new();
        let mut retry = published.retry;
        let mut statuses: HashMap<String, PluginStatus> = HashMap::new();
        // Each file claims at most one name: its new plugin, or the last
        // good version of it that keeps serving when the new content failed.
        let mut claims: Vec<(String, Arc<Plugin>)> = Vec::new();
        // Failures whose previous version claims a name; shown bare if that
        // version loses its name.
        let mut failures: HashMap<String, PluginStatus> = HashMap::new();
        for c in candidates {
            retry |= matches!(c.record.outcome, Outcome::Transient);
            files.insert(c.file.clone(), c.record);
            match c.outcome {
                Ok(plugin) => {
                    statuses.insert(c.file.clone(), PluginStatus::ok(&plugin));
                    claims.push((c.file, plugin));
                }
                Err(status) => {
                    let prev = old.by_name.values().find(|p| p.file == c.file);
                    match prev {
                        Some(prev) => {
                            let mut kept = status.clone();
                            if let Some(e) = kept.error.as_mut() {
                                e.push_str(&format!(
                                    "; version {} loaded at {} keeps serving",
                                    prev.version, prev.loaded_at
                                ));
                            }
                            kept.name = prev.name.clone();
                            statuses.insert(c.file.clone(), kept);
                            failures.insert(c.file.clone(), status);
                            claims.push((c.file, Arc::clone(prev)));
                        }
                        None => {
                            statuses.insert(c.file, status);
                        }
                    }
                }
            }
        }
        // The holder of a name first, then the file named after the
        // plugin, then file-name order: a file dropped in can never take a
        // name that is in use, whatever it is called.
        let rank = |file: &str, p: &Plugin| {
            if old.by_name.get(&p.name).is_some_and(|h| h.file == file) {
                0
            } else if file.strip_suffix(".wasm") == Some(p.name.as_str()) {
                1
            } else {
                2
            }
        };
        claims.sort_by(|(fa, a), (fb, b)| rank(fa, a).cmp(&rank(fb, b)).then_with(|| fa.cmp(fb)));
        // Published plugins rank above every folder file: publishing is a
        // deliberate, authenticated act.
        let mut by_name: HashMap<String, Arc<Plugin>> = published
            .serving
            .iter()
            .map(|p| (p.name.clone(), Arc::clone(p)))
            .collect();
        for (file, plugin) in claims {
            if let Some(holder) = by_name.get(&plugin.name) {
                if holder.source == PluginSource::Published {
                    // Shadowed: one row per name, the serving one. Its
                    // record stays, so it serves again at once when the
                    // published plugin goes.
                    statuses.remove(&file);
                    continue;
                }
                let clash = format!(
                    "plugin name '{}' is already used by {}",
                    plugin.name, holder.file
                );
                let status = match failures.remove(&file) {
                    Some(mut failed) => {
                        if let Some(e) = failed.error.as_mut() {
                            e.push_str(&format!("; its previous version stopped serving: {clash}"));
                        }
                        failed
                    }
                    None => {
                        let mut st = PluginStatus::failed(
                            &file,
                            &plugin.sha256,
                            Some(plugin.name.clone()),
                            clash,
                        );
                        st.version = Some(plugin.version.clone());
                        st.kind = Some(plugin.kind());
                        st
                    }
                };
                statuses.insert(file, status);
                continue;
            }
            by_name.insert(plugin.name.clone(), plugin);
        }
        // Keys cannot collide: folder files end in `.wasm`, published rows
        // are `published:<name>`.
        statuses.extend(published.statuses.into_iter().map(|s| (s.file.clone(), s)));
        let db_unavailable = published.db_unavailable;
        let published_records = published.records;

        let styled = |t: &HashMap<String, Arc<Plugin>>| {
            let mut v: Vec<(String, *const Plugin)> = t
                .values()
                .filter(|p| !p.styles.is_empty())
                .map(|p| (p.name.clone(), Arc::as_ptr(p)))
                .collect();
            v.sort();
            v
        };
        let styles_unchanged = old.styles_synced && styled(&old.by_name) == styled(&by_name);
        let finish = move |by_name: HashMap<String, Arc<Plugin>>,
                           statuses: HashMap<String, PluginStatus>,
                           retry: bool| {
            let mut statuses: Vec<PluginStatus> = statuses.into_values().collect();
            statuses.sort_by(|a, b| a.file.cmp(&b.file));
            PluginTable {
                by_name,
                statuses,
                files,
                published: published_records,
                styles_synced: true,
                needs_retry: retry,
                db_unavailable,
            }
        };
        let table = if styles_unchanged {
            // The registry already holds exactly these plugins' styles.
            let table = Arc::new(finish(by_name, statuses, retry));
            self.inner.table.store(Arc::clone(&table));
            table
        } else {
            let plugin_styles: Vec<(String, Vec<NewStyle>)> = by_name
                .values()
                .filter(|p| !p.styles.is_empty())
                .map(|p| (p.name.clone(), p.styles.clone()))
                .collect();
            let rt = self.clone();
            self.inner
                .caps
                .db
                .sync_plugin_styles(plugin_styles, move |refused| {
                    for (name, reason) in refused {
                        if let Some(p) = by_name.remove(name)
                            && let Some(st) = statuses.get_mut(&p.file)
                        {
                            *st = failed_row(&p, format!("its styles were refused: {reason}"));
                        }
                    }
                    // A style conflict ends when the other style goes,
                    // which no file event announces: try again later.
                    let table = Arc::new(finish(by_name, statuses, retry || !refused.is_empty()));
                    rt.inner.table.store(Arc::clone(&table));
                    table
                })
        };
        self.prune_shares(&table);
        if table.needs_retry {
            self.inner.retry_wanted.notify_one();
        }
        log_changes(&old, &table);
        tracing::info!(
            loaded = table.by_name.len(),
            failed = table.statuses.iter().filter(|s| s.status != "ok").count(),
            retry = table.needs_retry,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "plugins scanned"
        );
        table
    }

    /// Decide what one file gives this rescan: what it gave last time when
    /// it is unchanged (by stamp, then by sha256) and that outcome depended
    /// only on its bytes; a fresh load otherwise.
    async fn load_or_reuse(&self, path: &Path, old: &PluginTable) -> Candidate {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cap = self.inner.settings.load.max_component_bytes;
        let prev = old.files.get(&file);
        let seen_at = SystemTime::now();
        let meta = match tokio::fs::metadata(path).await {
            Ok(m) => m,
            Err(e) => {
                return failed(
                    file,
                    String::new(),
                    None,
                    LoadFailure::transient(format!("cannot read file: {e}")),
                );
            }
        };
        let stamp = FileStamp::of(&meta);
        if meta.len() > cap {
            return failed(
                file,
                String::new(),
                Some(stamp),
                LoadFailure::refused(too_big(meta.len(), cap)),
            );
        }
        let known = prev.filter(|r| r.stamp == Some(stamp));
        let sha = match (known, prev) {
            (Some(r), _) => r.sha256.clone(),
            // Content seen before under this name: hash it (streaming) to
            // find out whether it changed before reading it whole.
            (None, Some(_)) => {
                let p = path.to_path_buf();
                match off_thread("hash", cap, move || hash_file(&p, cap)).await {
                    Ok(sha) => sha,
                    Err(f) => return failed(file, String::new(), None, f),
                }
            }
            (None, None) => String::new(),
        };
        let stamp = stamp.trusted(seen_at);
        if !sha.is_empty() {
            if let Some(r) = prev.filter(|r| r.sha256 == sha) {
                match &r.outcome {
                    Outcome::Loaded(p) => return reused(file, stamp, &sha, Ok(Arc::clone(p))),
                    Outcome::Refused(st) => {
                        return reused(file, stamp, &sha, Err(PluginStatus::clone(st)));
                    }
                    Outcome::Transient => {}
                }
            }
            // Back to the content of the version still serving.
            if let Some(p) = old
                .by_name
                .values()
                .find(|p| p.file == file && p.sha256 == sha)
            {
                return reused(file, stamp, &sha, Ok(Arc::clone(p)));
            }
        }
        let p = path.to_path_buf();
        let bytes = match off_thread("read", cap, move || read_capped(&p, cap)).await {
            Ok(b) => b,
            Err(f) => return failed(file, String::new(), None, f),
        };
        // The hash of the bytes actually compiled, in case the file changed
        // since it was hashed above.
        let sha = plugin::sha256_hex(&bytes);
        let started = Instant::now();
        let outcome = self
            .load_component(&file, PluginSource::Folder, Arc::new(bytes), sha.clone())
            .await
            .map(Arc::new);
        let reload_outcome = if outcome.is_ok() { "ok" } else { "error" };
        ::metrics::counter!(crate::metrics::PLUGIN_RELOADS, "outcome" => reload_outcome)
            .increment(1);
        match outcome {
            Ok(p) => {
                tracing::info!(
                    plugin = %p.name, version = %p.version, kind = p.kind().as_str(), file = %file,
                    from_cache = p.from_cache, elapsed_ms = started.elapsed().as_millis() as u64, "plugin loaded"
                );
                reused(file, stamp, &sha, Ok(p))
            }
            Err(mut f) => {
                tracing::warn!(
                    file = %file, elapsed_ms = started.elapsed().as_millis() as u64,
                    transient = f.transient, "plugin failed to load: {}", f.message
                );
                if f.transient {
                    f.message.push_str("; tried again on the next rescan");
                }
                failed(file, sha, stamp, f)
            }
        }
    }

    /// Load one component (a folder file's or a published version's):
    /// compile through the compile cache, recognise its world, read and
    /// check its manifest. `file` is the status label: the file name, or
    /// `published:<name>`. The bytes are shared so a publish can store them
    /// after loading without a copy.
    pub(super) async fn load_component(
        &self,
        file: &str,
        source: PluginSource,
        bytes: Arc<Vec<u8>>,
        sha: String,
    ) -> Result<Plugin, LoadFailure> {
        let fail = LoadFailure::refused;
        let engine = self.inner.engine.clone();
        let cache = self.compile_cache();
        let sha2 = sha.clone();
        let (component, from_cache) = tokio::task::spawn_blocking(move || {
            plugin::compile(&engine, &bytes, &sha2, cache.as_ref())
        })
        .await
        .map_err(|e| LoadFailure::transient(format!("compile task failed: {e}")))?
        .map_err(fail)?;
        let pre = plugin::prepare(&self.inner.linker, &component).map_err(fail)?;
        let kind = pre.kind();
        // Until the manifest names it: the name calls and logs show.
        let provisional = match source {
            PluginSource::Folder => file.trim_end_matches(".wasm"),
            PluginSource::Published => file.strip_prefix("published:").unwrap_or(file),
        };
        let mut plugin = Plugin {
            name: provisional.to_string(),
            version: String::new(),
            description: String::new(),
            file: file.to_string(),
            source,
            sha256: sha.clone(),
            loaded_at: now_rfc3339(),
            styles: Vec::new(),
            from_cache,
            pre,
        };
        let manifest = match self
            .invoke(
                &plugin,
                CallInput::Manifest,
                &CallContext::new("load"),
                MANIFEST_TIMEOUT,
            )
            .await
        {
            Ok((CallOutput::Manifest(m), _)) => m,
            Ok((CallOutput::GradeManifest(m), _)) => {
                let limits = &self.inner.settings.load;
                plugin::check_grade_manifest(&m, limits.max_manifest_bytes).map_err(fail)?;
                plugin.name = m.name;
                plugin.version = m.version;
                plugin.description = m.description;
                return Ok(plugin);
            }
            Ok(_) => return Err(fail("manifest call returned the wrong shape".into())),
            // A time-out or an engine error may pass (a busy machine); a
            // trap is in the plugin's code.
            Err(e @ (RuntimeError::Timeout { .. } | RuntimeError::Engine(_))) => {
                return Err(LoadFailure::transient(format!("manifest call failed: {e}")));
            }
            Err(e) => return Err(fail(format!("manifest call failed: {e}"))),
        };
        let limits = &self.inner.settings.load;
        plugin.styles = plugin::check_manifest(
            kind,
            &manifest,
            limits.max_styles_per_plugin,
            limits.max_manifest_bytes,
        )
        .map_err(fail)?;
        plugin.name = manifest.name;
        plugin.version = manifest.version;
        plugin.description = manifest.description;
        Ok(plugin)
    }
}

/// Log what a reload changed: loaded, replaced, unloaded.
fn log_changes(old: &PluginTable, new: &PluginTable) {
    for (name, p) in &new.by_name {
        match old.by_name.get(name) {
            Some(o) if Arc::ptr_eq(o, p) => {}
            Some(o) => {
                tracing::info!(plugin = %name, from = %o.version, to = %p.version, "plugin replaced")
            }
            None if !old.by_name.is_empty() || !old.statuses.is_empty() => {
                tracing::info!(plugin = %name, version = %p.version, "plugin added")
            }
            None => {}
        }
    }
    for (name, o) in &old.by_name {
        if !new.by_name.contains_key(name) {
            tracing::info!(plugin = %name, version = %o.version, "plugin unloaded");
        }
    }
}

/// The status row of a loaded plugin that does not serve for `error`.
pub(super) fn failed_row(p: &Plugin, error: String) -> PluginStatus {
    let mut st = PluginStatus::failed(&p.file, &p.sha256, Some(p.name.clone()), error);
    st.source = p.source.as_str();
    st
}

/// A candidate for `file` whose load failed now.
fn failed(
    file: String,
    sha256: String,
    stamp: Option<FileStamp>,
    failure: LoadFailure,
) -> Candidate {
    let status = PluginStatus::failed(&file, &sha256, None, failure.message);
    let outcome = if failure.transient {
        Outcome::Transient
    } else {
        Outcome::Refused(Box::new(status.clone()))
    };
    Candidate {
        record: FileRecord {
            // A transient failure is not tied to the content: no stamp, so
            // the file is looked at afresh next time.
            stamp: stamp.filter(|_| !failure.transient),
            sha256,
            outcome,
        },
        outcome: Err(status),
        file,
    }
}

/// A candidate for `file` with an outcome that depends only on its bytes.
fn reused(
    file: String,
    stamp: Option<FileStamp>,
    sha256: &str,
    outcome: Result<Arc<Plugin>, PluginStatus>,
) -> Candidate {
    let remembered = match &outcome {
        Ok(p) => Outcome::Loaded(Arc::clone(p)),
        Err(st) => Outcome::Refused(Box::new(st.clone())),
    };
    Candidate {
        record: FileRecord {
            stamp,
            sha256: sha256.to_string(),
            outcome: remembered,
        },
        outcome,
        file,
    }
}

/// Run a capped file read off the async workers. `None` from `f` means the
/// file grew past `cap` while being read (refused); I/O errors are
/// transient, so the next rescan tries again.
async fn off_thread<T: Send + 'static>(
    what: &str,
    cap: u64,
    f: impl FnOnce() -> std::io::Result<Option<T>> + Send + 'static,
) -> Result<T, LoadFailure> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(Some(v))) => Ok(v),
        Ok(Ok(None)) => Err(LoadFailure::refused(too_big(cap + 1, cap))),
        Ok(Err(e)) => Err(LoadFailure::transient(format!("cannot read file: {e}"))),
        Err(e) => Err(LoadFailure::transient(format!("{what} task failed: {e}"))),
    }
}

pub(super) fn too_big(len: u64, cap: u64) -> String {
    format!(
        "file is {len} bytes, over the component size cap of {cap} bytes \
         (PROMPTSCULPTOR_MAX_COMPONENT_BYTES); it was not loaded"
    )
}

/// sha256 of the file at `path`, read in 64 KiB chunks; `None` when it
/// holds more than `cap` bytes. Blocking.
fn hash_file(path: &Path, cap: u64) -> std::io::Result<Option<String>> {
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file).take(cap + 1);
    let mut hasher = Sha256::new();
    let n = std::io::copy(&mut reader, &mut hasher)?;
    if n > cap {
        return Ok(None);
    }
    Ok(Some(hex::encode(hasher.finalize())))
}

/// The bytes of the file at `path`; `None` when it holds more than `cap`
/// bytes (it grew after its size was checked). Blocking.
fn read_capped(path: &Path, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0).min(cap);
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Ok(None);
    }
    Ok(Some(bytes))
}

fn list_wasm_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "plugins folder cannot be read");
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    files.sort();
    files
}

impl PluginTable {
    /// Every plugin a folder file loaded as, serving or not (a loser of a
    /// name clash, or shadowed by a published plugin).
    pub(super) fn folder_plugins(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        self.files.values().filter_map(|r| match &r.outcome {
            Outcome::Loaded(p) => Some(p),
            Outcome::Refused(_) | Outcome::Transient => None,
        })
    }
}
