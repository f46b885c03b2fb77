//! The plugin runtime: owns wasmtime, loads strategies from the plugins
//! folder and the published plugins of the database, and runs one
//! sandboxed call per request.
//!
//! The table of loaded plugins is swapped with one atomic pointer store, so
//! a reload never blocks requests and a request in flight keeps the plugin
//! version it started with.

pub mod bindings;
mod call;
mod check;
mod compile_cache;
mod engine;
mod plugin;
mod publish;
mod reload;
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

pub use bindings::{analyzer, creator, grader, remixer, types};
pub use check::{ManifestInfo, check_component};
pub use compile_cache::CacheLimits;
pub use engine::EngineLimits;
pub use plugin::{Plugin, PluginKind, PluginSource, PluginStatus, is_valid_name, now_rfc3339};
pub use publish::{PublishError, PublishOutcome};
pub use reload::{
    DEFAULT_MAX_COMPONENT_BYTES, DEFAULT_MAX_MANIFEST_BYTES, DEFAULT_MAX_STYLES_PER_PLUGIN,
    LoadLimits,
};
pub use state::{Capabilities, HostLimits, Usage};
pub use validate::MAX_GRADE_REASON_CHARS;
pub use watch::PluginWatcher;

use call::{CallInput, CallOutput};
use plugin::PluginPre;
use state::CallState;

use crate::llm::{ChatOptions, LlmError};
use crate::store::{NewStyle, StyleRecord, StyleSnapshot, StyleSource};

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
    /// No style of that name is in the registry.
    #[error("no style named '{name}'; GET /api/v1/styles lists them")]
    UnknownStyle {
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
    /// The plugin ran its whole share of the instance pool for as long as
    /// this call could wait (until too little of its deadline was left to
    /// be worth starting); the call never started.
    #[error(
        "plugin '{plugin}' was running {limit} calls at once, its share of the plugin \
         slots (PROMPTSCULPTOR_MAX_CONCURRENT_PER_PLUGIN), until too little of this \
         call's deadline was left to start it; it never started: retry shortly"
    )]
    Busy {
        /// Plugin name.
        plugin: String,
        /// Its share: calls it may run at once.
        limit: u32,
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
    /// Bounds of the compile cache.
    pub cache_limits: CacheLimits,
    /// Deadline of one plugin call, its LLM calls included.
    pub plugin_timeout: Duration,
    /// Cap on LLM calls in one plugin call.
    pub max_llm_calls: u32,
    /// Caps on the inputs of the host imports (tokenizer, LLM requests).
    pub host_limits: HostLimits,
    /// Engine sizing.
    pub engine: EngineLimits,
    /// Default analyze plugin name.
    pub default_analyze: String,
    /// Default remix plugin name.
    pub default_remix: String,
    /// Default create plugin name.
    pub default_create: String,
    /// Caps on loading one plugin file (component size, manifest).
    pub load: LoadLimits,
    /// Share compiled code of published plugins through the database
    /// (`PROMPTSCULPTOR_SHARE_COMPILED`): other instances of the same build
    /// load it instead of compiling. Needs the compile cache.
    pub share_compiled: bool,
}

/// The loaded plugins and the status of every file and published plugin seen.
#[derive(Default)]
pub struct PluginTable {
    by_name: HashMap<String, Arc<Plugin>>,
    statuses: Vec<PluginStatus>,
    /// Per file: its stamp, sha256 and what loading it gave (reload.rs).
    files: HashMap<String, reload::FileRecord>,
    /// Per published name: the active sha256 and what loading it gave (publish.rs).
    published: HashMap<String, publish::PublishedRecord>,
    /// The style registry holds exactly the styles of `by_name`.
    styles_synced: bool,
    /// Some file or published plugin failed for a reason that may pass
    /// without a file event, or the published plugins could not be read.
    needs_retry: bool,
    /// The published plugins could not be read from the database; those of
    /// the previous table kept serving.
    db_unavailable: bool,
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

/// Who a plugin call is for and how its LLM calls may be served.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The request's id, in every log line of the call.
    pub request_id: Arc<str>,
    /// The request's choices about LLM calls (cache, …).
    pub llm: ChatOptions,
}

impl CallContext {
    /// A context for `request_id` with the default LLM options.
    pub fn new(request_id: &str) -> CallContext {
        CallContext {
            request_id: Arc::from(request_id),
            llm: ChatOptions::default(),
        }
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

/// One output to grade, as the evaluate engine hands it to a grade plugin.
#[derive(Debug, Clone)]
pub struct GradeInput {
    /// The text to grade (the LLM's answer, or a case's stored `output`).
    pub output: String,
    /// The case's variables.
    pub vars: Vec<(String, String)>,
    /// The prompt that was sent, variables filled.
    pub prompt: String,
    /// The assertion's `config`; `Value::Null` when it has none.
    pub config: serde_json::Value,
    /// Whether the grader may call the LLM.
    pub use_llm: bool,
}

/// A grade plugin's verdict, checked by the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Graded {
    /// Whether the output passes the grader's own bar.
    pub pass: bool,
    /// From 0 to 1, finite.
    pub score: f64,
    /// Why, at most [`MAX_GRADE_REASON_CHARS`] characters.
    pub reason: String,
}

/// A remix's result and the style it applied (as the call saw it).
#[derive(Debug)]
pub struct Remixed {
    /// What the plugin returned (validated).
    pub response: remixer::RemixResponse,
    /// The style, from the registry snapshot the call read.
    pub style: Arc<StyleRecord>,
}

struct Inner {
    reload_lock: tokio::sync::Mutex<()>,
    engine: Engine,
    linker: Arc<Linker<CallState>>,
    caps: Arc<Capabilities>,
    table: ArcSwap<PluginTable>,
    /// Request slots of the instance pool, shared by every plugin.
    permits: Semaphore,
    /// Each plugin's share of `permits`, by plugin name, so a plugin whose
    /// calls hold their slot cannot take them all. Keyed by name so a new
    /// version shares its predecessor's count; reload keeps only the names
    /// it loaded (call.rs).
    shares: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Pool slots kept for loading, never taken by requests (call.rs).
    load_permits: Semaphore,
    /// Plugins a publish validated and is storing, by sha256: the reload
    /// that follows serves them without compiling them again (publish.rs).
    pending: std::sync::Mutex<HashMap<String, Arc<Plugin>>>,
    /// Signalled by a reload that left something to retry, so the watcher
    /// retries it also when the reload was not its own (a publish, a
    /// database notification).
    retry_wanted: tokio::sync::Notify,
    settings: RuntimeSettings,
}

/// Handle to the plugin runtime; cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

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
                shares: std::sync::Mutex::new(HashMap::new()),
                load_permits: Semaphore::new(engine::LOAD_SLOTS as usize),
                pending: std::sync::Mutex::new(HashMap::new()),
                retry_wanted: tokio::sync::Notify::new(),
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

    /// True when the current table was built from a successful read of the
    /// published plugins. False from start until the database first
    /// answers (a PostgreSQL instance connects in the background), and
    /// while it cannot be read (the previous published plugins keep
    /// serving): until then this instance may serve a folder plugin where
    /// the fleet serves a published one, so `/readyz` should wait for it.
    pub fn published_synced(&self) -> bool {
        !self.inner.table.load().db_unavailable
    }

    /// Name of the default plugin of `kind`; empty for grade plugins,
    /// which have no default (every `grader` assertion names one).
    pub fn default_name(&self, kind: PluginKind) -> &str {
        let s = &self.inner.settings;
        match kind {
            PluginKind::Analyze => &s.default_analyze,
            PluginKind::Remix => &s.default_remix,
            PluginKind::Create => &s.default_create,
            PluginKind::Grade => "",
        }
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
        ctx: &CallContext,
    ) -> Result<Called<analyzer::AnalyzeResponse>, RuntimeError> {
        let plugin = self.resolve(PluginKind::Analyze, strategy)?;
        let prompt = request.prompt.clone();
        let (out, usage) = self.call(&plugin, CallInput::Analyze(request), ctx).await?;
        let CallOutput::Analyze(result) = out else {
            return Err(wrong_shape(&plugin));
        };
        let value = result.map_err(|e| plugin_error(&plugin, e))?;
        validate::analysis(&prompt, &value).map_err(|m| invalid(&plugin, m))?;
        Ok(called(&plugin, value, usage))
    }

    /// Remix into `request.style` with `strategy`; without one, a plugin's
    /// own style goes to that plugin, a builtin or user style to the
    /// configured remixer.
    ///
    /// The style is resolved in the in-memory registry snapshot, and the
    /// plugin's `styles.get` reads that same snapshot: a style deleted
    /// meanwhile cannot make the plugin refuse a style the host accepted.
    pub async fn remix(
        &self,
        strategy: Option<&str>,
        request: remixer::RemixRequest,
        ctx: &CallContext,
    ) -> Result<Called<Remixed>, RuntimeError> {
        let styles: Arc<StyleSnapshot> = self.inner.caps.db.styles();
        let Some(style) = styles.get(&request.style).cloned() else {
            return Err(RuntimeError::UnknownStyle {
                name: request.style,
            });
        };
        let owner = match style.source_kind() {
            StyleSource::Plugin(p) => Some(p),
            StyleSource::Builtin | StyleSource::User => None,
        };
        let plugin = self.resolve(PluginKind::Remix, strategy.or(owner.as_deref()))?;
        let (prompt, wanted) = (request.prompt.clone(), request.variants);
        let (out, usage) = self
            .call(&plugin, CallInput::Remix(request, styles), ctx)
            .await?;
        let CallOutput::Remix(result) = out else {
            return Err(wrong_shape(&plugin));
        };
        let value = result.map_err(|e| plugin_error(&plugin, e))?;
        validate::remix(&prompt, wanted, &value).map_err(|m| invalid(&plugin, m))?;
        Ok(called(
            &plugin,
            Remixed {
                response: value,
                style,
            },
            usage,
        ))
    }

    /// Create with `strategy` (default: the configured creator).
    pub async fn create(
        &self,
        strategy: Option<&str>,
        request: creator::CreateRequest,
        ctx: &CallContext,
    ) -> Result<Called<creator::CreateResponse>, RuntimeError> {
        let plugin = self.resolve(PluginKind::Create, strategy)?;
        let variables = request.variables.clone();
        let (out, usage) = self.call(&plugin, CallInput::Create(request), ctx).await?;
        let CallOutput::Create(result) = out else {
            return Err(wrong_shape(&plugin));
        };
        let value = result.map_err(|e| plugin_error(&plugin, e))?;
        validate::creation(&variables, &value).map_err(|m| invalid(&plugin, m))?;
        Ok(called(&plugin, value, usage))
    }
}

impl Runtime {
    /// Grade one output with the grade plugin named `grader`, under the
    /// same deadline, memory cap, LLM-call cap and pool slots as every
    /// plugin call. An unknown name, or a plugin of another kind, is
    /// [`RuntimeError::UnknownStrategy`] with kind `grade`; a score outside
    /// 0..=1 (or not finite) or an overlong reason is
    /// [`RuntimeError::InvalidResult`].
    pub async fn grade(
        &self,
        grader: &str,
        input: GradeInput,
        ctx: &CallContext,
    ) -> Result<Called<Graded>, RuntimeError> {
        let plugin = self.resolve(PluginKind::Grade, Some(grader))?;
        let request = grader::GradeRequest {
            output: input.output,
            vars: input.vars,
            prompt: input.prompt,
            config: input.config.to_string(),
            use_llm: input.use_llm,
        };
        let (out, usage) = self.call(&plugin, CallInput::Grade(request), ctx).await?;
        let CallOutput::Grade(result) = out else {
            return Err(wrong_shape(&plugin));
        };
        let value = result.map_err(|e| plugin_error(&plugin, e))?;
        validate::grade(&value).map_err(|m| invalid(&plugin, m))?;
        let graded = Graded {
            pass: value.pass,
            score: value.score,
            reason: value.reason,
        };
        Ok(called(&plugin, graded, usage))
    }
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
