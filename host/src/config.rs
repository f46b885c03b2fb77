//! Server configuration: command-line flags that mirror the environment
//! variables of the contract (a `.env` file is read first by `main`).

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use clap::{Args, ValueEnum, builder::TypedValueParser as _};

/// A secret value (API key) that never appears in Debug output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself; call only where it is sent to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.trim().to_string()))
    }
}

/// Networks of trusted reverse proxies (`PROMPTSCULPTOR_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Whether `ip` belongs to a trusted proxy. IPv4-mapped IPv6 addresses
    /// (an IPv4 peer of a dual-stack listener) count as their IPv4 form.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// True when no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                // A bare address is a one-host network.
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("'{p}' is neither an IP address nor a CIDR network"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

/// Which LLM provider to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderKind {
    /// Any OpenAI-compatible chat-completions server.
    Openai,
    /// Anthropic's native Messages API.
    Anthropic,
    /// Google's native Gemini generateContent API.
    Gemini,
    /// A local OpenAI-compatible server (llama.cpp, Ollama, vLLM) at
    /// `http://127.0.0.1:8081/v1` unless a base URL is given.
    Local,
    /// No provider: deterministic strategies only.
    None,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Everything `promptsculptor serve` needs.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Listen address.
    #[arg(long, env = "PROMPTSCULPTOR_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// SQLite file (created and migrated at start).
    #[arg(long, env = "PROMPTSCULPTOR_DB", default_value = "promptsculptor.db")]
    pub db: PathBuf,
    /// Folder of `*.wasm` plugin components.
    #[arg(long, env = "PROMPTSCULPTOR_PLUGINS_DIR", default_value = "plugins")]
    pub plugins_dir: PathBuf,
    /// Folder of compiled-component cache files; empty disables the cache.
    // The OsString parser, unlike clap's PathBuf one, accepts an empty value,
    // which is how an operator says "no cache" (`PROMPTSCULPTOR_CACHE_DIR=`).
    #[arg(
        long,
        env = "PROMPTSCULPTOR_CACHE_DIR",
        default_value = ".cache/promptsculptor",
        value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from)
    )]
    pub cache_dir: PathBuf,
    /// Size bound of the compile cache in bytes; the least recently used
    /// entries beyond it are deleted (those of loaded plugins are kept).
    #[arg(
        long,
        env = "PROMPTSCULPTOR_CACHE_MAX_BYTES",
        default_value_t = 1024 * 1024 * 1024
    )]
    pub cache_max_bytes: u64,
    /// Entry bound of the compile cache (one entry per distinct component
    /// and engine configuration); the least recently used beyond it are deleted.
    #[arg(long, env = "PROMPTSCULPTOR_CACHE_MAX_ENTRIES", default_value_t = 256)]
    pub cache_max_entries: u32,
    /// LLM provider. Unset: `openai` when OPENAI_API_KEY or a base URL is set, else none.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_LLM_PROVIDER",
        value_enum,
        ignore_case = true
    )]
    pub llm_provider: Option<ProviderKind>,
    /// Model name (default: the provider's default).
    #[arg(long, env = "PROMPTSCULPTOR_LLM_MODEL")]
    pub llm_model: Option<String>,
    /// Provider base URL including the version path, e.g. http://127.0.0.1:8081/v1.
    #[arg(long, env = "PROMPTSCULPTOR_LLM_BASE_URL")]
    pub llm_base_url: Option<String>,
    /// OpenAI (or compatible server) API key.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<Secret>,
    /// Anthropic API key.
    #[arg(long, env = "ANTHROPIC_API_KEY", hide_env_values = true)]
    pub anthropic_api_key: Option<Secret>,
    /// Gemini API key.
    #[arg(long, env = "GEMINI_API_KEY", hide_env_values = true)]
    pub gemini_api_key: Option<Secret>,
    /// Comma-separated API keys; when set, /api/v1/* requires `Authorization: Bearer <key>`.
    #[arg(long, env = "PROMPTSCULPTOR_API_KEYS", hide_env_values = true)]
    pub api_keys: Option<Secret>,
    /// Comma-separated admin keys: the only keys accepted by the plugin
    /// publishing endpoints; also valid API keys.
    #[arg(long, env = "PROMPTSCULPTOR_ADMIN_KEYS", hide_env_values = true)]
    pub admin_keys: Option<Secret>,
    /// PostgreSQL URL (`postgres://user:pass@host:port/db?sslmode=…`); when
    /// set, the registry, request log and published plugins live there and
    /// `PROMPTSCULPTOR_DB` is not used.
    #[arg(long, env = "PROMPTSCULPTOR_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,
    /// Deadline of one database operation, in seconds; past it a write
    /// answers 503 `storage_unavailable`.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_DATABASE_TIMEOUT_SECS",
        default_value_t = 5
    )]
    pub database_timeout_secs: u64,
    /// Share compiled code of published plugins through the database, so
    /// the other instances of the same build load a publish in
    /// milliseconds instead of compiling it (needs the compile cache).
    #[arg(long, env = "PROMPTSCULPTOR_SHARE_COMPILED", default_value_t = true, action = clap::ArgAction::Set)]
    pub share_compiled: bool,
    /// Connections in the PostgreSQL pool (besides the listener's own).
    #[arg(long, env = "PROMPTSCULPTOR_DATABASE_POOL_SIZE", default_value_t = 8)]
    pub database_pool_size: usize,
    /// Evaluate: LLM and grader calls in flight at once across every
    /// evaluation of the server; a request's `max_concurrency` is clamped to it.
    #[arg(long, env = "PROMPTSCULPTOR_EVAL_MAX_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub eval_max_concurrency: u32,
    /// Evaluate: deadline of one evaluation in seconds; items not started
    /// by then are results with error `eval_timeout`.
    #[arg(long, env = "PROMPTSCULPTOR_EVAL_TIMEOUT_SECS", default_value_t = 600)]
    pub eval_timeout_secs: u64,
    /// Evaluate: stored runs kept (oldest dropped first).
    #[arg(long, env = "PROMPTSCULPTOR_EVAL_MAX_RUNS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub eval_max_runs: u64,
    /// LLM response cache: `on` answers an LLM call identical to an earlier
    /// successful one (provider, base URL, model, system, messages,
    /// temperature, max tokens, schema) from the database instead of the
    /// provider.
    #[arg(long, env = "PROMPTSCULPTOR_LLM_CACHE", default_value = "off", value_parser = clap::builder::BoolishValueParser::new())]
    pub llm_cache: bool,
    /// LLM response cache: seconds a stored answer is served.
    #[arg(long, env = "PROMPTSCULPTOR_LLM_CACHE_TTL_SECS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..))]
    pub llm_cache_ttl_secs: u64,
    /// LLM response cache: entries kept; the oldest stored are dropped first.
    #[arg(long, env = "PROMPTSCULPTOR_LLM_CACHE_MAX_ENTRIES", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub llm_cache_max_entries: u64,
    /// Deadline of one LLM call, retries included, in seconds.
    #[arg(long, env = "PROMPTSCULPTOR_LLM_TIMEOUT_SECS", default_value_t = 60)]
    pub llm_timeout_secs: u64,
    /// Deadline of one plugin call, its LLM calls included, in seconds.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_PLUGIN_TIMEOUT_SECS",
        default_value_t = 120
    )]
    pub plugin_timeout_secs: u64,
    /// Request body limit in bytes.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_MAX_BODY_BYTES",
        default_value_t = 1_048_576
    )]
    pub max_body_bytes: usize,
    /// Requests per minute per API key (or client IP without keys); unset: no limit.
    #[arg(long, env = "PROMPTSCULPTOR_RATE_LIMIT_PER_MIN")]
    pub rate_limit_per_min: Option<u32>,
    /// Comma-separated IPs and CIDR networks of reverse proxies whose
    /// `X-Forwarded-For` / `Forwarded` headers name the client for the rate
    /// limit; empty: forwarded headers are never believed.
    #[arg(long, env = "PROMPTSCULPTOR_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// Linear-memory cap of one plugin call, in MiB.
    #[arg(long, env = "PROMPTSCULPTOR_PLUGIN_MEMORY_MB", default_value_t = 128)]
    pub plugin_memory_mb: u32,
    /// Cap on LLM calls one plugin call may make.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_PLUGIN_MAX_LLM_CALLS",
        default_value_t = 16
    )]
    pub plugin_max_llm_calls: u32,
    /// Largest LLM request a plugin may send, in bytes of system prompt,
    /// messages and JSON schema; larger ones are refused to the plugin
    /// (`invalid-request`) without contacting the provider.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_LLM_MAX_REQUEST_BYTES",
        default_value_t = 1_048_576
    )]
    pub llm_max_request_bytes: usize,
    /// Highest `max_tokens` a plugin's LLM call may ask for; larger asks are clamped.
    #[arg(long, env = "PROMPTSCULPTOR_LLM_MAX_TOKENS", default_value_t = 16_384)]
    pub llm_max_tokens: u32,
    /// Plugin calls running at once (size of the instance pool); more wait.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_MAX_CONCURRENT_PLUGINS",
        default_value_t = 1024
    )]
    pub max_concurrent_plugins: u32,
    /// Calls of one plugin running at once: its share of the instance pool,
    /// so one slow or hostile plugin cannot take every slot. A call over it
    /// waits behind that plugin's own calls, holding no pool slot, and
    /// answers 503 `plugin_busy` with `Retry-After` when its turn has not
    /// come with a tenth of its deadline (at most 1 s) left. Unset: half of
    /// PROMPTSCULPTOR_MAX_CONCURRENT_PLUGINS (at least 1); capped at the pool size.
    #[arg(long, env = "PROMPTSCULPTOR_MAX_CONCURRENT_PER_PLUGIN", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_per_plugin: Option<u32>,
    /// Use wasmtime's pooling allocator (faster instantiation).
    #[arg(long, env = "PROMPTSCULPTOR_POOLING", default_value_t = true, action = clap::ArgAction::Set)]
    pub pooling: bool,
    /// Largest plugin component file, in bytes; a larger `*.wasm` is
    /// refused from its size alone, without being read (default 64 MiB; a
    /// Python component is ~18 MiB).
    #[arg(
        long,
        env = "PROMPTSCULPTOR_MAX_COMPONENT_BYTES",
        default_value_t = crate::runtime::DEFAULT_MAX_COMPONENT_BYTES
    )]
    pub max_component_bytes: u64,
    /// Most styles one plugin's manifest may declare (default 256).
    #[arg(
        long,
        env = "PROMPTSCULPTOR_MAX_STYLES_PER_PLUGIN",
        default_value_t = crate::runtime::DEFAULT_MAX_STYLES_PER_PLUGIN
    )]
    pub max_styles_per_plugin: usize,
    /// Most bytes of text in one plugin manifest, all style fields included (default 1 MiB).
    #[arg(
        long,
        env = "PROMPTSCULPTOR_MAX_MANIFEST_BYTES",
        default_value_t = crate::runtime::DEFAULT_MAX_MANIFEST_BYTES
    )]
    pub max_manifest_bytes: usize,
    /// Default analyze plugin.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_DEFAULT_ANALYZER",
        default_value = "analyze"
    )]
    pub default_analyzer: String,
    /// Default remix plugin (serves builtin and user styles).
    #[arg(long, env = "PROMPTSCULPTOR_DEFAULT_REMIXER", default_value = "remix")]
    pub default_remixer: String,
    /// Default create plugin.
    #[arg(long, env = "PROMPTSCULPTOR_DEFAULT_CREATOR", default_value = "create")]
    pub default_creator: String,
    /// Keep prompt and completion text in the request log (off: metadata only).
    #[arg(long, env = "PROMPTSCULPTOR_LOG_PROMPTS", default_value_t = false, action = clap::ArgAction::Set)]
    pub log_prompts: bool,
    /// Request-log rows older than this many days are pruned.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_REQUEST_LOG_MAX_AGE_DAYS",
        default_value_t = 30
    )]
    pub request_log_max_age_days: u32,
    /// At most this many request-log rows are kept.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_REQUEST_LOG_MAX_ROWS",
        default_value_t = 100_000
    )]
    pub request_log_max_rows: u64,
    /// Log format.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_LOG_FORMAT",
        value_enum,
        ignore_case = true,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

/// A resolved LLM provider choice.
#[derive(Debug, Clone)]
pub struct ProviderChoice {
    /// Which API.
    pub kind: ProviderKind,
    /// Base URL including the version path.
    pub base_url: String,
    /// Model.
    pub model: String,
    /// Key, if any.
    pub key: Option<Secret>,
    /// Deadline of one call.
    pub timeout: Duration,
}

impl Config {
    /// Resolve the provider from the explicit choice, or infer it from the
    /// keys and base URL that are set. `None` when no provider is configured.
    pub fn provider(&self) -> Option<ProviderChoice> {
        let kind = match self.llm_provider {
            Some(ProviderKind::None) => return None,
            Some(k) => k,
            None if self.openai_api_key.is_some() || self.llm_base_url.is_some() => {
                ProviderKind::Openai
            }
            None if self.anthropic_api_key.is_some() => ProviderKind::Anthropic,
            None if self.gemini_api_key.is_some() => ProviderKind::Gemini,
            None => return None,
        };
        let (default_url, default_model, key) = match kind {
            ProviderKind::Openai => (
                "https://api.openai.com/v1",
                "gpt-4o-mini",
                self.openai_api_key.clone(),
            ),
            ProviderKind::Local => (
                "http://127.0.0.1:8081/v1",
                "local",
                self.openai_api_key.clone(),
            ),
            ProviderKind::Anthropic => (
                "https://api.anthropic.com/v1",
                "claude-sonnet-4-5",
                self.anthropic_api_key.clone(),
            ),
            ProviderKind::Gemini => (
                "https://generativelanguage.googleapis.com/v1beta",
                "gemini-2.5-flash",
                self.gemini_api_key.clone(),
            ),
            ProviderKind::None => return None,
        };
        Some(ProviderChoice {
            kind,
            base_url: self
                .llm_base_url
                .clone()
                .unwrap_or_else(|| default_url.to_string()),
            model: self
                .llm_model
                .clone()
                .unwrap_or_else(|| default_model.to_string()),
            key,
            timeout: Duration::from_secs(self.llm_timeout_secs.max(1)),
        })
    }

    /// Concurrent calls one plugin may run: the configured share, or half
    /// the pool by default, always within 1..=pool size.
    pub fn plugin_share(&self) -> u32 {
        let pool = self.max_concurrent_plugins.max(1);
        self.max_concurrent_per_plugin
            .unwrap_or(pool / 2)
            .clamp(1, pool)
    }

    /// The configured API keys (empty: authentication off).
    pub fn api_keys(&self) -> Vec<String> {
        split_keys(self.api_keys.as_ref())
    }

    /// The configured admin keys (empty: publishing disabled).
    pub fn admin_keys(&self) -> Vec<String> {
        split_keys(self.admin_keys.as_ref())
    }
}

fn split_keys(keys: Option<&Secret>) -> Vec<String> {
    keys.map(|s| {
        s.expose()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}
