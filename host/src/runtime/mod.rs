//! The plugin runtime: owns wasmtime, loads strategies from the plugins
//! folder, and runs one sandboxed call per request.
//!
//! The table of loaded plugins is swapped with one atomic pointer store, so
//! a reload never blocks requests and a request in flight keeps the plugin
//! version it started with.

pub mod bindings;
mod check;
mod engine;
mod plugin;
mod state;
pub mod tokens;
mod validate;
mod watch;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use arc_swap::ArcSwap;
use tokio::sync::Semaphore;
use wasmtime::component::Linker;
use wasmtime::{Engine, Store, UpdateDeadline};

pub use bindings::{analyzer, creator, remixer, types};
pub use check::{ManifestInfo, check_component};
pub use engine::EngineLimits;
pub use plugin::{Plugin, PluginKind, PluginStatus, is_valid_name, now_rfc3339};
pub use state::{Capabilities, Usage};
pub use watch::PluginWatcher;

use plugin::PluginPre;
use state::CallState;

use crate::llm::LlmError;
use crate::store::NewStyle;

/// Errors of the runtime layer.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine or linker could not be built.
    #[error("wasm engine: {0}")]
    Engine(String),
    /// No loaded plugin of that kind has that name.
    #[error("no {kind} strategy named '{name}' is loaded")]
    UnknownStrategy {
        /// Kind asked for.
        kind: &'static str,
        /// Name asked for.
        name: String,
    },
    /// The plugin trapped (panic, unreachable, out of memory, …).
    #[error("plugin '{plugin}' failed: {message}")]
    Trap {
        /// Plugin name.
        plugin: String,
        /// What happened.
        message: String,
    },
    /// The plugin broke a host limit (LLM-call cap, memory cap).
    #[error("plugin '{plugin}' exceeded a limit: {message}")]
    LimitExceeded {
        /// Plugin name.
        plugin: String,
        /// Which limit.
        message: String,
    },
    /// The plugin ran past its deadline.
    #[error("plugin '{plugin}' did not finish within {secs} s")]
    Timeout {
        /// Plugin name.
        plugin: String,
        /// The deadline.
        secs: u64,
    },
    /// The plugin returned a result that breaks the contract.
    #[error("plugin '{plugin}' returned an invalid result: {message}")]
    InvalidResult {
        /// Plugin name.
        plugin: String,
        /// What is wrong.
        message: String,
    },
    /// The plugin refused the input as invalid.
    #[error("{message}")]
    InvalidInput {
        /// Plugin name.
        plugin: String,
        /// Its reason.
        message: String,
    },
    /// An LLM call the plugin needed failed.
    #[error("{0}")]
    Llm(LlmError),
    /// The LLM's answer stayed unusable.
    #[error("the LLM's answer stayed unusable after a repair attempt: {message}")]
    UnusableLlmOutput {
        /// Plugin name.
        plugin: String,
        /// The plugin's reason.
        message: String,
    },
    /// The plugin reported an internal failure.
    #[error("plugin '{plugin}' reported an internal error: {message}")]
    PluginInternal {
        /// Plugin name.
        plugin: String,
        /// Its reason.
        message: String,
    },
}

/// Runtime settings, from the server configuration.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Folder scanned for `*.wasm` components.
    pub plugins_dir: PathBuf,
    /// Where compiled components are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Deadline of one plugin call, its LLM calls included.
    pub plugin_timeout: Duration,
    /// Cap on LLM calls in one plugin call.
    pub max_llm_calls: u32,
    /// Engine sizing.
    pub engine: EngineLimits,
    /// Default analyze plugin name.
    pub default_analyze: String,
    /// Default remix plugin name.
    pub default_remix: String,
    /// Default create plugin name.
    pub default_create: String,
}

/// The loaded plugins and the status of every file seen.
#[derive(Default)]
pub struct PluginTable {
    by_name: HashMap<String, Arc<Plugin>>,
    statuses: Vec<PluginStatus>,
}

impl PluginTable {
    /// Status rows, ordered by file name.
    pub fn statuses(&self) -> &[PluginStatus] {
        &self.statuses
    }

    /// A loaded plugin by name.
    pub fn get(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.by_name.get(name)
    }
}

/// Result of a successful plugin call.
#[derive(Debug)]
pub struct Called<T> {
    /// What the plugin returned (validated).
    pub value: T,
    /// LLM usage, counted by the host.
    pub usage: Usage,
    /// Plugin name.
    pub plugin: String,
    /// Plugin version.
    pub version: String,
}

enum CallInput {
    Manifest,
    Analyze(analyzer::AnalyzeRequest),
    Remix(remixer::RemixRequest),
    Create(creator::CreateRequest),
}

enum CallOutput {
    Manifest(types::PluginManifest),
    Analyze(Result<analyzer::AnalyzeResponse, types::PluginError>),
    Remix(Result<remixer::RemixResponse, types::PluginError>),
    Create(Result<creator::CreateResponse, types::PluginError>),
}

struct Candidate {
    file: String,
    outcome: Result<Arc<Plugin>, PluginStatus>,
}

struct Inner {
    reload_lock: tokio::sync::Mutex<()>,
    engine: Engine,
    linker: Arc<Linker<CallState>>,
    caps: Arc<Capabilities>,
    table: ArcSwap<PluginTable>,
    permits: Semaphore,
    settings: RuntimeSettings,
}

/// Handle to the plugin runtime; cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

/// Deadline for reading a manifest while loading.
const MANIFEST_TIMEOUT: Duration = Duration::from_secs(10);

impl Runtime {
    /// Build the engine and linker. Loads nothing yet: call [`Runtime::reload`].
    pub fn new(settings: RuntimeSettings, caps: Capabilities) -> Result<Runtime, RuntimeError> {
        let engine = engine::build_engine(&settings.engine)?;
        engine::start_epoch_ticker(&engine);
        let linker = engine::build_linker(&engine)?;
        Ok(Runtime {
            inner: Arc::new(Inner {
                reload_lock: tokio::sync::Mutex::new(()),
                permits: Semaphore::new(settings.engine.max_instances.max(1) as usize),
                engine,
                linker,
                caps: Arc::new(caps),
                table: ArcSwap::from_pointee(PluginTable::default()),
                settings,
            }),
        })
    }

    /// The current plugin table (a snapshot).
    pub fn table(&self) -> Arc<PluginTable> {
        self.inner.table.load_full()
    }

    /// True when the default analyze, remix and create plugins are loaded.
    pub fn defaults_loaded(&self) -> bool {
        let t = self.inner.table.load();
        let s = &self.inner.settings;
        [
            (&s.default_analyze, PluginKind::Analyze),
            (&s.default_remix, PluginKind::Remix),
            (&s.default_create, PluginKind::Create),
        ]
        .iter()
        .all(|(name, kind)| {
            t.by_name
                .get(name.as_str())
                .is_some_and(|p| p.kind() == *kind)
        })
    }

    /// Name of the default plugin of `kind`.
    pub fn default_name(&self, kind: PluginKind) -> &str {
        let s = &self.inner.settings;
        match kind {
            PluginKind::Analyze => &s.default_analyze,
            PluginKind::Remix => &s.default_remix,
            PluginKind::Create => &s.default_create,
        }
    }

    /// Scan the plugins folder and swap in a new plugin table.
    ///
    /// Unchanged files (same sha256) keep their loaded plugin; new or
    /// changed ones are compiled (or taken from the compile cache) off the
    /// async workers. A file that fails leaves the last good version of its
    /// plugin serving. Plugin styles are synced into the registry in the
    /// same database transaction as the table swap, so the style list never
    /// shows a style whose plugin is gone. Reloads are serialized.
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
        let mut candidates = Vec::with_capacity(tasks.len());
        for t in tasks {
            match t.await {
                Ok(c) => candidates.push(c),
                Err(e) => tracing::error!("plugin load task failed: {e}"),
            }
        }
        candidates.sort_by(|a, b| a.file.cmp(&b.file));

        let mut by_name: HashMap<String, Arc<Plugin>> = HashMap::new();
        let mut statuses: HashMap<String, PluginStatus> = HashMap::new();
        for c in candidates {
            match c.outcome {
                Ok(plugin) => {
                    if let Some(existing) = by_name.get(&plugin.name) {
                        let msg = format!(
                            "plugin name '{}' is already used by {}",
                            plugin.name, existing.file
                        );
                        statuses.insert(
                            c.file.clone(),
                            PluginStatus::failed(
                                &c.file,
                                &plugin.sha256,
                                Some(plugin.name.clone()),
                                msg,
                            ),
                        );
                        continue;
                    }
                    statuses.insert(c.file.clone(), PluginStatus::ok(&plugin));
                    by_name.insert(plugin.name.clone(), plugin);
                }
                Err(mut status) => {
                    // The last good version from this file keeps serving.
                    if let Some(prev) = old.by_name.values().find(|p| p.file == c.file)
                        && !by_name.contains_key(&prev.name)
                    {
                        if let Some(e) = status.error.as_mut() {
                            e.push_str(&format!(
                                "; version {} loaded at {} keeps serving",
                                prev.version, prev.loaded_at
                            ));
                        }
                        status.name = prev.name.clone();
                        by_name.insert(prev.name.clone(), Arc::clone(prev));
                    }
                    statuses.insert(c.file.clone(), status);
                }
            }
        }

        let plugin_styles: Vec<(String, Vec<NewStyle>)> = by_name
            .values()
            .filter(|p| !p.styles.is_empty())
            .map(|p| (p.name.clone(), p.styles.clone()))
            .collect();
        let rt = self.clone();
        let swapped = self
            .inner
            .caps
            .db
            .sync_plugin_styles(plugin_styles, move |refused| {
                for (name, reason) in refused {
                    if let Some(p) = by_name.remove(name)
                        && let Some(st) = statuses.get_mut(&p.file)
                    {
                        *st = PluginStatus::failed(
                            &p.file,
                            &p.sha256,
                            Some(p.name.clone()),
                            format!("its styles were refused: {reason}"),
                        );
                    }
                }
                let mut statuses: Vec<PluginStatus> = statuses.into_values().collect();
                statuses.sort_by(|a, b| a.file.cmp(&b.file));
                let table = Arc::new(PluginTable { by_name, statuses });
                rt.inner.table.store(Arc::clone(&table));
                table
            })
            .await;
        let table = match swapped {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("plugin reload aborted, previous plugins keep serving: {e}");
                return old;
            }
        };
        log_changes(&old, &table);
        tracing::info!(
            loaded = table.by_name.len(),
            failed = table.statuses.iter().filter(|s| s.status != "ok").count(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "plugins scanned"
        );
        table
    }

    async fn load_or_reuse(&self, path: &Path, old: &PluginTable) -> Candidate {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = match tokio::fs::read(path).await {
            Ok(b) => b,
            Err(e) => {
                return Candidate {
                    outcome: Err(PluginStatus::failed(
                        &file,
                        "",
                        None,
                        format!("cannot read file: {e}"),
                    )),
                    file,
                };
            }
        };
        let sha = plugin::sha256_hex(&bytes);
        if let Some(p) = old
            .by_name
            .values()
            .find(|p| p.file == file && p.sha256 == sha)
        {
            return Candidate {
                outcome: Ok(Arc::clone(p)),
                file,
            };
        }
        // A file that failed before with the same content fails again: keep
        // its error instead of compiling it on every scan.
        if let Some(st) = old
            .statuses
            .iter()
            .find(|s| s.file == file && s.sha256 == sha && s.status != "ok")
        {
            return Candidate {
                outcome: Err(st.clone()),
                file,
            };
        }
        let started = Instant::now();
        let outcome = self.load_file(&file, bytes, sha).await.map(Arc::new);
        crate::metrics::global().count(
            "promptsculptor_plugin_reloads_total",
            vec![(
                "outcome",
                if outcome.is_ok() { "ok" } else { "error" }.to_string(),
            )],
            1,
        );
        match &outcome {
            Ok(p) => tracing::info!(
                plugin = %p.name, version = %p.version, kind = p.kind().as_str(), file = %file,
                from_cache = p.from_cache, elapsed_ms = started.elapsed().as_millis() as u64, "plugin loaded"
            ),
            Err(st) => tracing::warn!(
                file = %file, elapsed_ms = started.elapsed().as_millis() as u64,
                "plugin failed to load: {}", st.error.as_deref().unwrap_or("")
            ),
        }
        Candidate { file, outcome }
    }

    async fn load_file(
        &self,
        file: &str,
        bytes: Vec<u8>,
        sha: String,
    ) -> Result<Plugin, PluginStatus> {
        let fail = |msg: String| PluginStatus::failed(file, &sha, None, msg);
        let engine = self.inner.engine.clone();
        let cache = self.inner.settings.cache_dir.clone();
        let sha2 = sha.clone();
        let (component, from_cache) = tokio::task::spawn_blocking(move || {
            plugin::compile(&engine, &bytes, &sha2, cache.as_deref())
        })
        .await
        .map_err(|e| fail(format!("compile task failed: {e}")))?
        .map_err(fail)?;
        let pre = plugin::prepare(&self.inner.linker, &component).map_err(fail)?;
        let kind = pre.kind();
        let mut plugin = Plugin {
            name: file.trim_end_matches(".wasm").to_string(),
            version: String::new(),
            description: String::new(),
            file: file.to_string(),
            sha256: sha.clone(),
            loaded_at: now_rfc3339(),
            styles: Vec::new(),
            from_cache,
            pre,
        };
        let manifest = match self
            .invoke(&plugin, CallInput::Manifest, "load", MANIFEST_TIMEOUT)
            .await
        {
            Ok((CallOutput::Manifest(m), _)) => m,
            Ok(_) => return Err(fail("manifest call returned the wrong shape".into())),
            Err(e) => return Err(fail(format!("manifest call failed: {e}"))),
        };
        plugin.styles = plugin::check_manifest(kind, &manifest).map_err(fail)?;
        plugin.name = manifest.name;
        plugin.version = manifest.version;
        plugin.description = manifest.description;
        Ok(plugin)
    }

    fn resolve(
        &self,
        kind: PluginKind,
        strategy: Option<&str>,
    ) -> Result<Arc<Plugin>, RuntimeError> {
        let name = strategy.unwrap_or_else(|| self.default_name(kind));
        let table = self.inner.table.load();
        match table.by_name.get(name) {
            Some(p) if p.kind() == kind => Ok(Arc::clone(p)),
            _ => Err(RuntimeError::UnknownStrategy {
                kind: kind.as_str(),
                name: name.to_string(),
            }),
        }
    }

    /// Analyze with `strategy` (default: the configured analyzer).
    pub async fn analyze(
        &self,
        strategy: Option<&str>,
        request: analyzer::AnalyzeRequest,
        request_id: &str,
    ) -> Result<Called<analyzer::AnalyzeResponse>, RuntimeError> {
        let plugin = self.resolve(PluginKind::Analyze, strategy)?;
        let prompt = request.prompt.clone();
        let (out, usage) = self
            .call(&plugin, CallInput::Analyze(request), request_id)
            .await?;
        let CallOutput::Analyze(result) = out else {
            return Err(wrong_shape(&plugin));
        };
        let value = result.map_err(|e| plugin_error(&plugin, e))?;
        validate::analysis(&prompt, &value).map_err(|m| invalid(&plugin, m))?;
        Ok(called(&plugin, value, usage))
    }

    /// Remix with `strategy` (default: the configured remixer).
    pub async fn remix(
        &self,
        strategy: Option<&str>,
        request: remixer::RemixRequest,
        request_id: &str,
    ) -> Result<Called<remixer::RemixResponse>, RuntimeError> {
        let plugin = self.resolve(PluginKind::Remix, strategy)?;
        let (prompt, wanted) = (request.prompt.clone(), request.variants);
        let (out, usage) = self
            .call(&plugin, CallInput::Remix(request), request_id)
            .await?;
        let CallOutput::Remix(result) = out else {
            return Err(wrong_shape(&plugin));
        };
        let value = result.map_err(|e| plugin_error(&plugin, e))?;
        validate::remix(&prompt, wanted, &value).map_err(|m| invalid(&plugin, m))?;
        Ok(called(&plugin, value, usage))
    }

    /// Create with `strategy` (default: the configured creator).
    pub async fn create(
        &self,
        strategy: Option<&str>,
        request: creator::CreateRequest,
        request_id: &str,
    ) -> Result<Called<creator::CreateResponse>, RuntimeError> {
        let plugin = self.resolve(PluginKind::Create, strategy)?;
        let variables = request.variables.clone();
        let (out, usage) = self
            .call(&plugin, CallInput::Create(request), request_id)
            .await?;
        let CallOutput::Create(result) = out else {
            return Err(wrong_shape(&plugin));
        };
        let value = result.map_err(|e| plugin_error(&plugin, e))?;
        validate::creation(&variables, &value).map_err(|m| invalid(&plugin, m))?;
        Ok(called(&plugin, value, usage))
    }

    async fn call(
        &self,
        plugin: &Plugin,
        input: CallInput,
        request_id: &str,
    ) -> Result<(CallOutput, Usage), RuntimeError> {
        let deadline = self.inner.settings.plugin_timeout;
        let started = Instant::now();
        let result = self.invoke(plugin, input, request_id, deadline).await;
        let outcome_label = match &result {
            Ok(_) => "ok",
            Err(RuntimeError::Timeout { .. }) => "timeout",
            Err(RuntimeError::LimitExceeded { .. }) => "limit_exceeded",
            Err(_) => "trap",
        };
        let m = crate::metrics::global();
        m.observe(
            "promptsculptor_plugin_call_duration_seconds",
            vec![("plugin", plugin.name.clone())],
            started.elapsed(),
        );
        m.count(
            "promptsculptor_plugin_calls_total",
            vec![
                ("plugin", plugin.name.clone()),
                ("outcome", outcome_label.to_string()),
            ],
            1,
        );
        result
    }

    /// Instantiate `plugin` in a fresh store and run one export under the
    /// deadline, the memory cap and the LLM-call cap.
    async fn invoke(
        &self,
        plugin: &Plugin,
        input: CallInput,
        request_id: &str,
        deadline: Duration,
    ) -> Result<(CallOutput, Usage), RuntimeError> {
        let started = Instant::now();
        let timeout = || RuntimeError::Timeout {
            plugin: plugin.name.clone(),
            secs: deadline.as_secs(),
        };
        // The pool has a fixed number of slots; wait for one rather than
        // fail, within the same deadline.
        let _permit = tokio::time::timeout(deadline, self.inner.permits.acquire())
            .await
            .map_err(|_| timeout())?
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let state = CallState::new(
            Arc::clone(&self.inner.caps),
            Arc::from(plugin.name.as_str()),
            Arc::from(request_id),
            self.inner.settings.engine.memory_bytes,
            self.inner.settings.max_llm_calls,
        );
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        let remaining = deadline.saturating_sub(started.elapsed());
        let outcome = tokio::time::timeout(remaining, run(&mut store, &plugin.pre, input)).await;
        let state = store.into_data();
        forward_output(plugin, request_id, &state);
        let result = self.classify(plugin, outcome, state, deadline);
        if result.is_ok() {
            tracing::debug!(plugin = %plugin.name, request_id, elapsed_us = started.elapsed().as_micros() as u64, "plugin call");
        }
        result
    }

    /// Map the raw outcome of a call to the runtime's result.
    fn classify(
        &self,
        plugin: &Plugin,
        outcome: Result<wasmtime::Result<CallOutput>, tokio::time::error::Elapsed>,
        state: CallState,
        deadline: Duration,
    ) -> Result<(CallOutput, Usage), RuntimeError> {
        let timeout = || RuntimeError::Timeout {
            plugin: plugin.name.clone(),
            secs: deadline.as_secs(),
        };
        match outcome {
            Err(_) => Err(timeout()),
            Ok(Err(trap)) => {
                if let Some(limit) = state.limit_hit {
                    return Err(RuntimeError::LimitExceeded {
                        plugin: plugin.name.clone(),
                        message: limit,
                    });
                }
                if is_memory_trap(&trap) {
                    return Err(RuntimeError::LimitExceeded {
                        plugin: plugin.name.clone(),
                        message: format!(
                            "plugin exceeded its memory cap of {} MiB",
                            self.inner.settings.engine.memory_bytes / (1024 * 1024)
                        ),
                    });
                }
                Err(RuntimeError::Trap {
                    plugin: plugin.name.clone(),
                    message: describe_trap(&trap, &state),
                })
            }
            Ok(Ok(out)) => Ok((out, state.usage)),
        }
    }
}

async fn run(
    store: &mut Store<CallState>,
    pre: &PluginPre,
    input: CallInput,
) -> wasmtime::Result<CallOutput> {
    match (pre, input) {
        (PluginPre::Analyze(p), input) => {
            let instance = p.instantiate_async(&mut *store).await?;
            let api = instance.promptsculptor_plugin_analyzer();
            match input {
                CallInput::Manifest => {
                    Ok(CallOutput::Manifest(api.call_manifest(&mut *store).await?))
                }
                CallInput::Analyze(r) => Ok(CallOutput::Analyze(
                    api.call_analyze(&mut *store, &r).await?,
                )),
                _ => Err(wasmtime::Error::msg(
                    "operation does not match the plugin kind",
                )),
            }
        }
        (PluginPre::Remix(p), input) => {
            let instance = p.instantiate_async(&mut *store).await?;
            let api = instance.promptsculptor_plugin_remixer();
            match input {
                CallInput::Manifest => {
                    Ok(CallOutput::Manifest(api.call_manifest(&mut *store).await?))
                }
                CallInput::Remix(r) => {
                    Ok(CallOutput::Remix(api.call_remix(&mut *store, &r).await?))
                }
                _ => Err(wasmtime::Error::msg(
                    "operation does not match the plugin kind",
                )),
            }
        }
        (PluginPre::Create(p), input) => {
            let instance = p.instantiate_async(&mut *store).await?;
            let api = instance.promptsculptor_plugin_creator();
            match input {
                CallInput::Manifest => {
                    Ok(CallOutput::Manifest(api.call_manifest(&mut *store).await?))
                }
                CallInput::Create(r) => {
                    Ok(CallOutput::Create(api.call_create(&mut *store, &r).await?))
                }
                _ => Err(wasmtime::Error::msg(
                    "operation does not match the plugin kind",
                )),
            }
        }
    }
}

/// A short description of a trap for the error body (the full chain and
/// backtrace go to the debug log): the trap kind, and the guest's panic
/// message when it printed one.
fn describe_trap(e: &wasmtime::Error, state: &CallState) -> String {
    tracing::debug!("plugin trap: {e:?}");
    let mut msg = match e.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => e.root_cause().to_string(),
    };
    if let Some(panic) = panic_message(&state.stderr.contents()) {
        msg = format!("panicked: {panic} ({msg})");
    }
    truncate(&mut msg, 500);
    msg
}

/// The message of a Rust guest's panic, from what it wrote to stderr.
fn panic_message(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let mut lines = text.lines();
    lines.find(|l| l.contains("panicked at"))?;
    lines
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

fn is_memory_trap(e: &wasmtime::Error) -> bool {
    e.chain()
        .any(|c| c.to_string().contains("forcing trap when growing memory"))
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

fn forward_output(plugin: &Plugin, request_id: &str, state: &CallState) {
    for (stream, pipe) in [("stdout", &state.stdout), ("stderr", &state.stderr)] {
        let bytes = pipe.contents();
        if bytes.is_empty() {
            continue;
        }
        for line in String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(100)
        {
            tracing::info!(plugin = %plugin.name, request_id, stream, "{line}");
        }
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

fn called<T>(plugin: &Plugin, value: T, usage: Usage) -> Called<T> {
    Called {
        value,
        usage,
        plugin: plugin.name.clone(),
        version: plugin.version.clone(),
    }
}

fn wrong_shape(plugin: &Plugin) -> RuntimeError {
    invalid(plugin, "the export returned the wrong shape".into())
}

fn invalid(plugin: &Plugin, message: String) -> RuntimeError {
    RuntimeError::InvalidResult {
        plugin: plugin.name.clone(),
        message,
    }
}

fn plugin_error(plugin: &Plugin, e: types::PluginError) -> RuntimeError {
    let name = plugin.name.clone();
    match e {
        types::PluginError::InvalidInput(message) => RuntimeError::InvalidInput {
            plugin: name,
            message,
        },
        types::PluginError::Llm(e) => RuntimeError::Llm(state::from_wit_llm_error(e)),
        types::PluginError::UnusableLlmOutput(message) => RuntimeError::UnusableLlmOutput {
            plugin: name,
            message,
        },
        types::PluginError::Internal(message) => RuntimeError::PluginInternal {
            plugin: name,
            message,
        },
    }
}
