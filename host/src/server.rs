//! Startup: open the database, build the LLM provider and the plugin
//! runtime, load plugins, and assemble the router.

use std::{sync::Arc, time::Duration};

use axum::Router;

use crate::api::{self, AppState, RateLimiter};
use crate::config::{Config, ProviderKind};
use crate::eval::{EvalSettings, Evaluator};
use crate::llm::{
    AnthropicProvider, CacheSettings, GeminiProvider, HttpSettings, LlmCache, LlmError,
    OpenAiProvider, SharedProvider,
};
use crate::runtime::{
    CacheLimits, Capabilities, EngineLimits, HostLimits, LoadLimits, Runtime, RuntimeError,
    RuntimeSettings, tokens,
};
use crate::store::{Db, RequestLog, Retention, StoreConfig, StoreError};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened or migrated.
    #[error("database {path}: {source}")]
    Database {
        /// The file or server (without credentials).
        path: String,
        /// The cause.
        source: StoreError,
    },
    /// The provider configuration is unusable.
    #[error("LLM provider: {0}")]
    Provider(String),
    /// The wasm runtime could not be built.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Build the configured LLM provider, `None` when none is configured.
pub fn build_provider(config: &Config) -> Result<Option<SharedProvider>, StartupError> {
    let Some(choice) = config.provider() else {
        return Ok(None);
    };
    let key = choice
        .key
        .as_ref()
        .map(|k| k.expose())
        .filter(|k| !k.is_empty());
    // Local OpenAI-compatible servers need no key; the hosted APIs do, but a
    // gateway in front of them may add it, so warn instead of refusing.
    let key_var = match choice.kind {
        ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY"),
        ProviderKind::Gemini => Some("GEMINI_API_KEY"),
        ProviderKind::Openai | ProviderKind::Local | ProviderKind::None => None,
    };
    if let (Some(var), None) = (key_var, key) {
        tracing::warn!("{var} is not set; the provider will likely refuse every call");
    }
    let settings = HttpSettings {
        base_url: choice.base_url,
        model: choice.model,
        timeout: choice.timeout,
    };
    let provider: SharedProvider = match choice.kind {
        ProviderKind::Openai | ProviderKind::Local => {
            Arc::new(OpenAiProvider::new(settings, key).map_err(provider_error)?)
        }
        ProviderKind::Anthropic => {
            Arc::new(AnthropicProvider::new(settings, key).map_err(provider_error)?)
        }
        ProviderKind::Gemini => {
            Arc::new(GeminiProvider::new(settings, key).map_err(provider_error)?)
        }
        ProviderKind::None => return Ok(None),
    };
    Ok(Some(provider))
}

fn provider_error(e: LlmError) -> StartupError {
    StartupError::Provider(e.to_string())
}

/// A started application: the router plus handles tests and `main` need.
pub struct App {
    /// The HTTP router.
    pub router: Router,
    /// The plugin runtime.
    pub runtime: Runtime,
    /// Hot reload of the plugins folder; `None` when it cannot be watched.
    pub watcher: Option<crate::runtime::PluginWatcher>,
    /// The request log, to flush at shutdown.
    pub request_log: RequestLog,
}

/// Open everything and load the plugins.
pub async fn build(config: &Config) -> Result<App, StartupError> {
    // Before anything records: plugin loads below already count.
    crate::metrics::install();
    // The BPE vocabularies take a few hundred ms to parse; do it beside the
    // rest of startup instead of in the first request.
    let warm = tokio::task::spawn_blocking(tokens::warm_up);
    let store = store_config(config);
    let db = Db::open(&store)
        .await
        .map_err(|source| StartupError::Database {
            path: store.describe(),
            source,
        })?;
    tracing::info!(database = %store.describe(), "store opened");
    let provider = build_provider(config)?;
    match &provider {
        Some(p) => tracing::info!(
            provider = p.name(),
            model = p.model(),
            "LLM provider configured"
        ),
        None => tracing::info!("no LLM provider configured: deterministic strategies only"),
    }
    let llm_configured = provider.is_some();
    let settings = RuntimeSettings {
        plugins_dir: config.plugins_dir.clone(),
        cache_dir: (!config.cache_dir.as_os_str().is_empty()).then(|| absolute(&config.cache_dir)),
        cache_limits: CacheLimits {
            max_bytes: config.cache_max_bytes,
            max_entries: config.cache_max_entries,
        },
        plugin_timeout: Duration::from_secs(config.plugin_timeout_secs.max(1)),
        max_llm_calls: config.plugin_max_llm_calls,
        // A plugin may count the tokens of at most what a request could
        // carry: the body limit bounds the tokenizer's work and memory.
        host_limits: HostLimits {
            tokenize_bytes: config.max_body_bytes,
            llm_request_bytes: config.llm_max_request_bytes,
            llm_max_tokens: config.llm_max_tokens,
        },
        engine: EngineLimits {
            memory_bytes: (config.plugin_memory_mb.max(1) as usize) * 1024 * 1024,
            max_instances: config.max_concurrent_plugins.max(1),
            per_plugin: config.plugin_share(),
            pooling: config.pooling,
        },
        default_analyze: config.default_analyzer.clone(),
        default_remix: config.default_remixer.clone(),
        default_create: config.default_creator.clone(),
        load: LoadLimits {
            max_component_bytes: config.max_component_bytes,
            max_styles_per_plugin: config.max_styles_per_plugin,
            max_manifest_bytes: config.max_manifest_bytes,
        },
        share_compiled: config.share_compiled,
    };
    let mut gateway = crate::llm::Gateway::new(provider);
    if config.llm_cache && llm_configured {
        gateway = gateway.with_cache(LlmCache::start(
            db.clone(),
            CacheSettings {
                ttl: Duration::from_secs(config.llm_cache_ttl_secs.max(1)),
                max_entries: config.llm_cache_max_entries.max(1),
            },
        ));
        tracing::info!(
            ttl_secs = config.llm_cache_ttl_secs,
            max_entries = config.llm_cache_max_entries,
            "LLM response cache on"
        );
    }
    let runtime = Runtime::new(
        settings,
        Capabilities {
            llm: gateway.clone(),
            db: db.clone(),
        },
    )?;
    let evaluator = Evaluator::new(
        runtime.clone(),
        gateway,
        EvalSettings {
            max_concurrency: config.eval_max_concurrency as usize,
            timeout: Duration::from_secs(config.eval_timeout_secs.max(1)),
        },
    );
    runtime.reload().await;
    // Without a watcher the server still serves what it loaded; say so.
    let watcher = match runtime.watch() {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("hot reload disabled: {e}");
            None
        }
    };
    let _ = warm.await;
    follow_published_plugins(&db, &runtime);
    let request_log = RequestLog::start(
        &db,
        config.log_prompts,
        Retention {
            max_age_days: config.request_log_max_age_days,
            max_rows: config.request_log_max_rows,
        },
    );
    let state = AppState {
        runtime: runtime.clone(),
        db,
        llm_configured,
        max_body_bytes: config.max_body_bytes,
        api_keys: AppState::digest_keys(&config.api_keys()),
        admin_keys: AppState::digest_keys(&config.admin_keys()),
        rate_limiter: config
            .rate_limit_per_min
            .map(|n| RateLimiter::start(n, config.trusted_proxies.clone())),
        request_log: request_log.clone(),
        evaluator,
        eval_max_runs: config.eval_max_runs,
    };
    Ok(App {
        router: api::router(state),
        runtime,
        watcher,
        request_log,
    })
}

/// The database the configuration names: PostgreSQL when a URL is set,
/// else the SQLite file.
pub fn store_config(config: &Config) -> StoreConfig {
    match config.database_url.as_ref().map(|u| u.expose().trim()) {
        Some(url) if !url.is_empty() => StoreConfig::Postgres {
            url: url.to_string(),
            pool_size: config.database_pool_size.max(1),
            timeout: Duration::from_secs(config.database_timeout_secs.max(1)),
        },
        _ => StoreConfig::Sqlite {
            path: config.db.clone(),
        },
    }
}

/// Reload the plugin table whenever the store says published plugins may
/// have changed under this instance (another instance published, rolled
/// back or deleted one, or the database came back after an outage). The
/// watch channel coalesces a burst of changes into one reload.
fn follow_published_plugins(db: &Db, runtime: &Runtime) {
    let mut changes = db.plugin_changes();
    let runtime = runtime.clone();
    tokio::spawn(async move {
        // Ends when the store drops its sender (SQLite: at once).
        while changes.changed().await.is_ok() {
            runtime.reload().await;
        }
    });
}

fn absolute(p: &std::path::Path) -> std::path::PathBuf {
    if p.is_absolute() {
        return p.to_path_buf();
    }
    std::env::current_dir()
        .map(|d| d.join(p))
        .unwrap_or_else(|_| p.to_path_buf())
}
