//! Request and response bodies of evaluate, suites and runs (contract §6).
//! As in dto.rs, required fields are `Option` (missing → 422, wrong type →
//! 400) and every body denies unknown fields.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One prompt to evaluate.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptBody {
    /// Its id in the results (default `p1`, `p2`, … by position); unique.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The prompt, with `{{variables}}` filled from each case's `vars`.
    #[schema(required = true, nullable = false)]
    pub prompt: Option<String>,
    /// Optional system prompt (its variables are filled too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
}

/// One assertion.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertBody {
    /// `equals`, `contains`, `icontains`, `not-contains`, `starts-with`, `regex`, `is-json`,
    /// `json-schema`, `max-chars`, `max-tokens`, `llm-rubric` or `grader`.
    #[serde(rename = "type")]
    #[schema(required = true, nullable = false)]
    pub kind: Option<String>,
    /// The type's value: text, a regex, a JSON Schema object, a count, a rubric, a grade plugin's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub value: Option<Value>,
    /// Weight in the case's score (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Score at or above which it passes (default 1; 0.5 for `llm-rubric` and `grader`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Settings passed to a `grader`'s plugin.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub config: Option<Value>,
}

/// One test case.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    /// Its id in the results (default `c1`, `c2`, … by position); unique.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Variable values; strings are used as they are, numbers and booleans as their JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub vars: Option<Map<String, Value>>,
    /// Grade this text instead of calling the LLM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// This case's assertions (the request's `assert` apply too).
    #[serde(rename = "assert", skip_serializing_if = "Option::is_none")]
    pub asserts: Option<Vec<AssertBody>>,
}

/// `POST /api/v1/evaluate` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateBody {
    /// 1–10 prompts.
    #[schema(required = true, nullable = false)]
    pub prompts: Option<Vec<PromptBody>>,
    /// 1–500 cases (or `suite`).
    pub cases: Option<Vec<CaseBody>>,
    /// Assertions applied to every case.
    #[serde(rename = "assert")]
    pub asserts: Option<Vec<AssertBody>>,
    /// A saved suite's name instead of `cases` and `assert`.
    pub suite: Option<String>,
    /// Model to ask instead of the configured one.
    pub model: Option<String>,
    /// 1–5 (default 1).
    pub repeat: Option<i64>,
    /// Calls in flight at once for this run (default 8; clamped to
    /// `PROMPTSCULPTOR_EVAL_MAX_CONCURRENCY`).
    pub max_concurrency: Option<i64>,
}

/// `POST /api/v1/suites` body (and `PUT /api/v1/suites/{name}`, where `name` may be left out).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteBody {
    /// `^[a-z0-9][a-z0-9-]{0,63}$`.
    pub name: Option<String>,
    /// What it tests.
    pub description: Option<String>,
    /// 1–500 cases.
    #[schema(required = true, nullable = false)]
    pub cases: Option<Vec<CaseBody>>,
    /// Assertions applied to every case.
    #[serde(rename = "assert")]
    pub asserts: Option<Vec<AssertBody>>,
}

/// What a suite stores besides its name and description.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteContent {
    /// Its cases.
    pub cases: Vec<CaseBody>,
    /// Its shared assertions.
    #[serde(rename = "assert", default)]
    pub asserts: Vec<AssertBody>,
}

/// A saved suite.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuiteDto {
    /// Its name.
    pub name: String,
    /// What it tests.
    pub description: String,
    /// Its cases.
    pub cases: Vec<CaseBody>,
    /// Its shared assertions.
    #[serde(rename = "assert")]
    pub asserts: Vec<AssertBody>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// `GET /api/v1/suites`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuiteList {
    /// Every suite, by name.
    pub suites: Vec<SuiteDto>,
}

/// One assertion's verdict.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssertionDto {
    /// The assertion's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether its score met its threshold.
    pub pass: bool,
    /// 0–1.
    pub score: f64,
    /// Why.
    pub reason: String,
}

/// Why a result has no verdict.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseErrorDto {
    /// The error code an operation would have answered (`llm_timeout`, `llm_not_configured`, …).
    pub code: String,
    /// A sentence a user can act on.
    pub message: String,
}

/// One prompt × case × repeat.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResultDto {
    /// The prompt's id.
    pub prompt_id: String,
    /// The case's id.
    pub case_id: String,
    /// 0-based repeat.
    pub repeat: u32,
    /// The graded text (null when the LLM call failed).
    pub output: Option<String>,
    /// Every assertion met its threshold.
    pub pass: bool,
    /// Weight-averaged assertion score.
    pub score: f64,
    /// One verdict per assertion.
    pub assertions: Vec<AssertionDto>,
    /// Time of the LLM call (0 for a stored output).
    pub latency_ms: u64,
    /// Set when the result has no verdict.
    pub error: Option<CaseErrorDto>,
    /// Prompt tokens of this result's LLM call.
    pub input_tokens: u64,
    /// Completion tokens of this result's LLM call.
    pub output_tokens: u64,
}

/// One prompt's tally.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SummaryDto {
    /// The prompt's id.
    pub prompt_id: String,
    /// 1 is best: pass rate, then mean score, then fewer tokens, then request order.
    pub rank: usize,
    /// passed / all results.
    pub pass_rate: f64,
    /// Mean score over all results (an error scores 0).
    pub mean_score: f64,
    /// Results that passed.
    pub passed: u64,
    /// Results that were graded and failed.
    pub failed: u64,
    /// Results without a verdict.
    pub errors: u64,
    /// Prompt tokens of its results' LLM calls.
    pub input_tokens: u64,
    /// Completion tokens of its results' LLM calls.
    pub output_tokens: u64,
    /// Median latency of its results.
    pub latency_ms_p50: u64,
}

/// LLM usage of a run.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvalUsageDto {
    /// Chat completions made (cases and judges).
    pub llm_calls: u64,
    /// Prompt tokens billed.
    pub input_tokens: u64,
    /// Completion tokens billed.
    pub output_tokens: u64,
    /// Grade-plugin calls (`llm-rubric` judges and `grader`s).
    pub grader_calls: u64,
}

/// An evaluation's answer, and a stored run (`GET /api/v1/runs/{run_id}`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunDto {
    /// Its id.
    pub run_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// The rank-1 prompt's id.
    pub best: String,
    /// Per prompt, in request order.
    pub summary: Vec<SummaryDto>,
    /// Every result, prompt-major (absent from `GET /api/v1/runs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<ResultDto>>,
    /// LLM usage.
    pub usage: EvalUsageDto,
    /// The suite evaluated, if any.
    pub suite: Option<String>,
    /// The model override, if any.
    pub model: Option<String>,
    /// Repeats per prompt × case.
    pub repeat: u32,
    /// Number of cases.
    pub cases: usize,
    /// Whether the run was stored (false when the database failed; the answer is complete anyway).
    pub stored: bool,
}

/// `GET /api/v1/runs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    /// Newest first, without results.
    pub runs: Vec<RunDto>,
}
