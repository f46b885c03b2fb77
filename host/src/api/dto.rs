//! Request and response bodies of the REST API (contract §1).
//!
//! Required fields are `Option` here so that a missing one is a 422
//! (validation) while a wrongly typed one is a 400 (deserialization).
//! Every body denies unknown fields: a typo such as `use_lmm` must answer
//! 422 `unknown_field`, never pass silently (contract §1).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::runtime::Usage;
use crate::store::StyleExample;

/// `POST /api/v1/analyze` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    /// The prompt, 1..=100000 characters.
    #[schema(required = true, nullable = false)]
    pub prompt: Option<String>,
    /// Affects token counting.
    pub target_model: Option<String>,
    /// Plugin name.
    pub strategy: Option<String>,
    /// Whether the LLM may be used.
    pub use_llm: Option<bool>,
    /// Answer as server-sent events (`start`, `llm`, `delta`, then `result` or `error`); also
    /// chosen by `Accept: text/event-stream`.
    pub stream: Option<bool>,
    /// Whether the LLM response cache may answer this request's LLM calls
    /// (default true; only when the server runs with
    /// `PROMPTSCULPTOR_LLM_CACHE=on`). `false` asks the provider and stores
    /// the fresh answer, like `Cache-Control: no-cache`.
    pub cache: Option<bool>,
}

/// `POST /api/v1/remix` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemixBody {
    /// The prompt to remix.
    #[schema(required = true, nullable = false)]
    pub prompt: Option<String>,
    /// Style name.
    #[schema(required = true, nullable = false)]
    pub style: Option<String>,
    /// Extra guidance.
    pub instructions: Option<String>,
    /// 1..=5.
    pub variants: Option<i64>,
    /// Whether the LLM may be used.
    pub use_llm: Option<bool>,
    /// Answer as server-sent events (`start`, `llm`, `delta`, then `result` or `error`); also
    /// chosen by `Accept: text/event-stream`.
    pub stream: Option<bool>,
    /// Plugin name.
    pub strategy: Option<String>,
    /// Whether the LLM response cache may answer this request's LLM calls
    /// (default true; only when the server runs with
    /// `PROMPTSCULPTOR_LLM_CACHE=on`). `false` asks the provider and stores
    /// the fresh answer, like `Cache-Control: no-cache`.
    pub cache: Option<bool>,
}

/// One input/output example of a create request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleBody {
    /// Example input.
    #[schema(required = true, nullable = false)]
    pub input: Option<String>,
    /// Example output.
    #[schema(required = true, nullable = false)]
    pub output: Option<String>,
}

/// `POST /api/v1/create` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// What the prompt must achieve.
    #[schema(required = true, nullable = false)]
    pub goal: Option<String>,
    /// Background.
    pub context: Option<String>,
    /// Who reads the output.
    pub audience: Option<String>,
    /// Desired output form.
    pub output_format: Option<String>,
    /// Constraints.
    pub constraints: Option<Vec<String>>,
    /// Examples.
    pub examples: Option<Vec<ExampleBody>>,
    /// Variable names to use as `{{name}}`.
    pub variables: Option<Vec<String>>,
    /// Target model.
    pub target_model: Option<String>,
    /// Plugin name.
    pub strategy: Option<String>,
    /// Whether the LLM may be used.
    pub use_llm: Option<bool>,
    /// Answer as server-sent events (`start`, `llm`, `delta`, then `result` or `error`); also
    /// chosen by `Accept: text/event-stream`.
    pub stream: Option<bool>,
    /// Whether the LLM response cache may answer this request's LLM calls
    /// (default true; only when the server runs with
    /// `PROMPTSCULPTOR_LLM_CACHE=on`). `false` asks the provider and stores
    /// the fresh answer, like `Cache-Control: no-cache`.
    pub cache: Option<bool>,
}

/// `POST /api/v1/styles` body (and `PUT`, without `name`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StyleBody {
    /// Unique name.
    pub name: Option<String>,
    /// One line on what the style does.
    pub description: Option<String>,
    /// Guidance for the rewriter.
    pub instructions: Option<String>,
    /// Before/after examples.
    pub examples: Option<Vec<StyleExampleBody>>,
}

/// A before/after example in a style body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StyleExampleBody {
    /// Before.
    #[schema(required = true, nullable = false)]
    pub before: Option<String>,
    /// After.
    #[schema(required = true, nullable = false)]
    pub after: Option<String>,
}

impl StyleExampleBody {
    /// Validated conversion.
    pub fn into_example(self, index: usize) -> Result<StyleExample, String> {
        match (self.before, self.after) {
            (Some(before), Some(after))
                if !before.trim().is_empty() && !after.trim().is_empty() =>
            {
                Ok(StyleExample { before, after })
            }
            _ => Err(format!(
                "examples[{index}] needs non-empty `before` and `after`"
            )),
        }
    }
}

/// Plugin identity in responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct StrategyDto {
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
}

/// LLM usage in responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDto {
    /// Chat completions made, cached ones included.
    pub llm_calls: u32,
    /// Of those, answered by the LLM response cache without a provider
    /// call (they add no tokens).
    pub cached_llm_calls: u32,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Model, or null when no LLM was called.
    pub model: Option<String>,
}

impl From<Usage> for UsageDto {
    fn from(u: Usage) -> UsageDto {
        UsageDto {
            llm_calls: u.llm_calls,
            cached_llm_calls: u.cached_llm_calls,
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            model: u.model,
        }
    }
}

/// Scores of an analysis.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoresDto {
    /// Overall.
    pub overall: u8,
    /// Clarity.
    pub clarity: u8,
    /// Specificity.
    pub specificity: u8,
    /// Structure.
    pub structure: u8,
    /// Context.
    pub context: u8,
    /// Output format.
    pub output_format: u8,
}

/// A character span.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpanDto {
    /// Start, in characters.
    pub start: u32,
    /// End (exclusive), in characters.
    pub end: u32,
}

/// One issue.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueDto {
    /// kebab-case code.
    pub code: String,
    /// info, warning or error.
    #[schema(value_type = String, example = "warning")]
    pub severity: &'static str,
    /// Human sentence.
    pub message: String,
    /// Where, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<SpanDto>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// Prompt statistics.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsDto {
    /// Characters.
    pub chars: u32,
    /// Words.
    pub words: u32,
    /// Tokens.
    pub tokens: u32,
    /// BPE encoding used.
    pub tokenizer: String,
    /// Template variables found.
    pub variables: Vec<String>,
}

/// `POST /api/v1/analyze` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyzeResponse {
    /// Scores.
    pub scores: ScoresDto,
    /// Issues.
    pub issues: Vec<IssueDto>,
    /// Suggestions.
    pub suggestions: Vec<String>,
    /// Stats.
    pub stats: StatsDto,
    /// Which plugin answered.
    pub strategy: StrategyDto,
    /// LLM usage.
    pub usage: UsageDto,
}

/// A style in responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct StyleRef {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Source.
    pub source: String,
}

/// `POST /api/v1/remix` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemixResponse {
    /// The best variant.
    pub prompt: String,
    /// All variants; `variants[0] == prompt`.
    pub variants: Vec<String>,
    /// The style used.
    pub style: StyleRef,
    /// What changed and why.
    pub changes: Vec<String>,
    /// Which plugin answered.
    pub strategy: StrategyDto,
    /// LLM usage.
    pub usage: UsageDto,
}

/// `POST /api/v1/create` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreateResponse {
    /// The created prompt.
    pub prompt: String,
    /// Optional system prompt.
    pub system: Option<String>,
    /// Variables used.
    pub variables: Vec<String>,
    /// Why it is built this way.
    pub rationale: String,
    /// Which plugin answered.
    pub strategy: StrategyDto,
    /// LLM usage.
    pub usage: UsageDto,
}

/// The body of every 4xx and 5xx answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Details of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code.
    pub code: String,
    /// A sentence a user can act on.
    pub message: String,
    /// Equal to the `x-request-id` header.
    pub request_id: String,
}

/// `GET /api/v1/styles` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct StyleList {
    /// Every style, by name.
    pub styles: Vec<crate::store::StyleRecord>,
}

/// `GET /api/v1/plugins` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginList {
    /// Every plugin file seen, by file name.
    pub plugins: Vec<crate::runtime::PluginStatus>,
}

/// `POST /api/v1/plugins/{name}/rollback` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    /// sha256 of the version to serve (64 lowercase hex digits), as listed
    /// by `GET /api/v1/plugins/{name}/versions`.
    #[schema(required = true, nullable = false, pattern = "^[0-9a-f]{64}$")]
    pub sha256: Option<String>,
}

/// A published version of a plugin.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginVersionDto {
    /// Version from the component's manifest (may repeat across uploads).
    pub version: String,
    /// sha256 of the component, hex: the version's identity.
    pub sha256: String,
    /// When it was first uploaded (RFC 3339, UTC).
    pub uploaded_at: String,
    /// Whether it is the version the fleet serves.
    pub active: bool,
}

impl From<crate::store::PluginVersion> for PluginVersionDto {
    fn from(v: crate::store::PluginVersion) -> PluginVersionDto {
        PluginVersionDto {
            version: v.version,
            sha256: v.sha256,
            uploaded_at: v.uploaded_at,
            active: v.active,
        }
    }
}

/// `GET /api/v1/plugins/{name}/versions` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    /// Published versions, newest first; empty for a plugin served only
    /// from the plugins folder.
    pub versions: Vec<PluginVersionDto>,
}

/// A Wasm component, the raw body of `PUT /api/v1/plugins/{name}`.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // only its schema is used
pub struct WasmComponent(Vec<u8>);

/// `GET /readyz` answer when ready.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    #[schema(example = "ready")]
    pub status: String,
    /// `ok`.
    #[schema(example = "ok")]
    pub database: String,
    /// `ok`.
    #[schema(example = "ok")]
    pub plugins: String,
    /// `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub backend: String,
}

/// `GET /readyz` answer when not ready: the error shape plus what is missing.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotReady {
    /// `not_ready`.
    #[schema(example = "not_ready")]
    pub status: String,
    /// `ok` or `unavailable`.
    #[schema(example = "unavailable")]
    pub database: String,
    /// `ok` or `missing` (a default analyze, remix or create plugin is not loaded).
    #[schema(example = "ok")]
    pub plugins: String,
    /// `sqlite` or `postgres`.
    #[schema(example = "postgres")]
    pub backend: String,
    /// Why, in the error shape (`code: not_ready`).
    pub error: ErrorDetail,
}
