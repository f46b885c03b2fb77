//! `POST /api/v1/evaluate` (contract §6): check the request, run it, store
//! the run, answer with it.

use std::sync::Arc;
use std::time::Instant;

use axum::{Extension, Json, extract::State, http::StatusCode, response::Response};
use serde_json::Value;

use super::{
    AppState,
    error::ApiError,
    eval_dto::{
        AssertBody, AssertionDto, CaseBody, CaseErrorDto, EvalUsageDto, EvaluateBody, PromptBody,
        ResultDto, RunDto, SuiteContent, SummaryDto,
    },
    json::ApiJson,
    middleware::{RequestId, new_id},
    operations::{OperationErrors, operation},
    suites::load_suite,
};
use crate::eval::{
    self, AssertionSpec, CaseError, CaseSpec, EvalError, Plan, PromptSpec, Report, assertion,
};
use crate::llm::LlmError;
use crate::metrics;
use crate::runtime::CallContext;
use crate::store::{NewRun, RequestRecord};

const MAX_PROMPT_CHARS: usize = 100_000;
const MAX_ID_CHARS: usize = 128;
const DEFAULT_CONCURRENCY: i64 = 8;

/// `POST /api/v1/evaluate`: run prompts × cases × repeats, grade every output, rank the prompts.
#[utoipa::path(post, path = "/api/v1/evaluate", tag = "evaluate", request_body = EvaluateBody,
    responses(
        (status = 200, description = "The run: results, per-prompt summary and ranking, `best`, usage. A case whose LLM call failed is a result with `error`; the run still answers 200.", body = RunDto),
        OperationErrors,
    ))]
pub async fn evaluate(
    State(state): State<AppState>,
    Extension(RequestId(id)): Extension<RequestId>,
    body: Result<ApiJson<EvaluateBody>, ApiError>,
) -> Response {
    operation(&state, &id, "evaluate", body, async |b, rec| {
        run_evaluate(&state, &id, b, rec).await
    })
    .await
}

async fn run_evaluate(
    state: &AppState,
    id: &str,
    body: EvaluateBody,
    rec: &mut RequestRecord,
) -> Result<Json<RunDto>, ApiError> {
    let prompts = prompts(body.prompts)?;
    let repeat = match body.repeat.unwrap_or(1) {
        n @ 1..=5 => n as u32,
        n => {
            return Err(ApiError::validation(format!(
                "`repeat` must be between 1 and {} (got {n})",
                eval::MAX_REPEAT
            )));
        }
    };
    let max_concurrency = match body.max_concurrency.unwrap_or(DEFAULT_CONCURRENCY) {
        n @ 1..=1024 => n as usize,
        n => {
            return Err(ApiError::validation(format!(
                "`max_concurrency` must be between 1 and 1024 (got {n}); the server caps it at {}",
                state.evaluator.max_concurrency()
            )));
        }
    };
    let model = match body.model {
        Some(m) if m.trim().is_empty() => {
            return Err(ApiError::validation("`model` must not be empty when given"));
        }
        Some(m) if m.len() > 256 => {
            return Err(ApiError::validation("`model` is longer than 256 bytes"));
        }
        other => other,
    };
    let (content, suite) = match (body.suite, body.cases, body.asserts) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(ApiError::validation(
                "give either `suite` or `cases`/`assert`, not both",
            ));
        }
        (Some(name), None, None) => (load_suite(state, &name).await?, Some(name)),
        (None, Some(cases), asserts) => (
            SuiteContent {
                cases,
                asserts: asserts.unwrap_or_default(),
            },
            None,
        ),
        (None, None, _) => {
            return Err(ApiError::validation(
                "`cases` is required (1 to 500 test cases), or `suite` with a saved suite's name",
            ));
        }
    };
    let (cases, shared) = compile_content(&content)?;
    let plan = Plan {
        prompts,
        cases,
        shared,
        model: model.clone(),
        repeat,
        max_concurrency,
    };
    state.evaluator.check(&plan).map_err(eval_error)?;
    let plan = Arc::new(plan);
    let started = Instant::now();
    let report = state
        .evaluator
        .run(Arc::clone(&plan), &CallContext::new(id))
        .await;
    ::metrics::counter!(metrics::EVAL_RUNS).increment(1);
    tracing::info!(
        request_id = id,
        items = plan.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "evaluate run"
    );
    rec.llm_calls = u32::try_from(report.usage.llm_calls).unwrap_or(u32::MAX);
    rec.input_tokens = report.usage.input_tokens;
    rec.output_tokens = report.usage.output_tokens;
    rec.model = report.usage.model.clone();
    rec.llm_wait = report.usage.llm_wait;
    rec.style = suite.clone();
    let mut run = run_dto(&plan, report, suite, model);
    run.stored = store_run(state, &mut run).await;
    Ok(Json(run))
}

/// Store `run` (head and results apart, so the list reads only heads);
/// false when the database failed: the answer is complete all the same.
async fn store_run(state: &AppState, run: &mut RunDto) -> bool {
    run.stored = true;
    let results = run.results.take();
    let head = serde_json::to_string(&run);
    let body = serde_json::to_string(&results);
    run.results = results;
    let (Ok(head), Ok(results)) = (head, body) else {
        return false;
    };
    let new = NewRun {
        run_id: run.run_id.clone(),
        created_at: run.created_at.clone(),
        head,
        results,
    };
    match state.db.insert_eval_run(&new, state.eval_max_runs).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(run_id = %run.run_id, "evaluate run not stored: {e}");
            false
        }
    }
}

fn eval_error(e: EvalError) -> ApiError {
    match e {
        EvalError::Invalid(m) => ApiError::validation(m),
        e @ EvalError::UnknownGrader { .. } => {
            ApiError::new(StatusCode::NOT_FOUND, "grader_not_found", e.to_string())
        }
    }
}

fn prompts(body: Option<Vec<PromptBody>>) -> Result<Vec<PromptSpec>, ApiError> {
    let list = body.unwrap_or_default();
    if list.is_empty() || list.len() > eval::MAX_PROMPTS {
        return Err(ApiError::validation(format!(
            "`prompts` must hold 1 to {} prompts (got {})",
            eval::MAX_PROMPTS,
            list.len()
        )));
    }
    let mut out: Vec<PromptSpec> = Vec::with_capacity(list.len());
    for (i, p) in list.into_iter().enumerate() {
        let id = item_id(p.id, "prompts", i, 'p')?;
        if out.iter().any(|o| o.id == id) {
            return Err(ApiError::validation(format!(
                "`prompts[{i}].id` '{id}' is used twice; prompt ids must be unique"
            )));
        }
        let prompt = p.prompt.unwrap_or_default();
        if prompt.trim().is_empty() {
            return Err(ApiError::validation(format!(
                "`prompts[{i}].prompt` is required and must not be empty"
            )));
        }
        for (field, text) in [("prompt", Some(&prompt)), ("system", p.system.as_ref())] {
            if text.is_some_and(|t| t.chars().count() > MAX_PROMPT_CHARS) {
                return Err(ApiError::validation(format!(
                    "`prompts[{i}].{field}` is longer than {MAX_PROMPT_CHARS} characters"
                )));
            }
        }
        out.push(PromptSpec {
            id,
            prompt,
            system: p.system.filter(|s| !s.trim().is_empty()),
        });
    }
    Ok(out)
}

/// An item's id, or its default (`p1`, `c3`, …) by position.
fn item_id(id: Option<String>, list: &str, i: usize, prefix: char) -> Result<String, ApiError> {
    match id {
        None => Ok(format!("{prefix}{}", i + 1)),
        Some(s) if s.trim().is_empty() || s.chars().count() > MAX_ID_CHARS => {
            Err(ApiError::validation(format!(
                "`{list}[{i}].id` must be 1 to {MAX_ID_CHARS} characters"
            )))
        }
        Some(s) => Ok(s),
    }
}

/// Check a suite's (or a request's) cases and shared assertions.
pub(super) fn compile_content(
    content: &SuiteContent,
) -> Result<(Vec<CaseSpec>, Vec<eval::Assertion>), ApiError> {
    let n = content.cases.len();
    if n == 0 || n > eval::MAX_CASES {
        return Err(ApiError::validation(format!(
            "`cases` must hold 1 to {} test cases (got {n})",
            eval::MAX_CASES
        )));
    }
    let shared = assertions(&content.asserts, "assert")?;
    let mut cases: Vec<CaseSpec> = Vec::with_capacity(n);
    for (i, c) in content.cases.iter().enumerate() {
        let case = compile_case(c, i)?;
        if case.asserts.len() + shared.len() > eval::MAX_ASSERTIONS {
            return Err(ApiError::validation(format!(
                "`cases[{i}]` has {} assertions with the shared ones; the limit is {}",
                case.asserts.len() + shared.len(),
                eval::MAX_ASSERTIONS
            )));
        }
        if cases.iter().any(|o| o.id == case.id) {
            return Err(ApiError::validation(format!(
                "`cases[{i}].id` '{}' is used twice; case ids must be unique",
                case.id
            )));
        }
        cases.push(case);
    }
    Ok((cases, shared))
}

fn compile_case(c: &CaseBody, i: usize) -> Result<CaseSpec, ApiError> {
    let id = item_id(c.id.clone(), "cases", i, 'c')?;
    let mut vars = Vec::new();
    for (k, v) in c.vars.iter().flatten() {
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Null => {
                return Err(ApiError::validation(format!(
                    "`cases[{i}].vars.{k}` is null; give it a value or leave it out"
                )));
            }
            other => other.to_string(),
        };
        if value.chars().count() > MAX_PROMPT_CHARS {
            return Err(ApiError::validation(format!(
                "`cases[{i}].vars.{k}` is longer than {MAX_PROMPT_CHARS} characters"
            )));
        }
        vars.push((k.clone(), value));
    }
    if c.output
        .as_ref()
        .is_some_and(|o| o.chars().count() > MAX_PROMPT_CHARS)
    {
        return Err(ApiError::validation(format!(
            "`cases[{i}].output` is longer than {MAX_PROMPT_CHARS} characters"
        )));
    }
    let asserts = assertions(
        c.asserts.as_deref().unwrap_or_default(),
        &format!("cases[{i}].assert"),
    )?;
    Ok(CaseSpec {
        id,
        vars,
        output: c.output.clone(),
        asserts,
    })
}

fn assertions(list: &[AssertBody], at: &str) -> Result<Vec<eval::Assertion>, ApiError> {
    if list.len() > eval::MAX_ASSERTIONS {
        return Err(ApiError::validation(format!(
            "`{at}` holds {} assertions; the limit is {}",
            list.len(),
            eval::MAX_ASSERTIONS
        )));
    }
    list.iter()
        .enumerate()
        .map(|(j, a)| {
            let spec = AssertionSpec {
                kind: a.kind.clone(),
                value: a.value.clone(),
                weight: a.weight,
                threshold: a.threshold,
                config: a.config.clone(),
            };
            assertion::compile(&spec, &format!("{at}[{j}]")).map_err(ApiError::validation)
        })
        .collect()
}

fn run_dto(plan: &Plan, report: Report, suite: Option<String>, model: Option<String>) -> RunDto {
    let prompt_id = |p: usize| {
        plan.prompts
            .get(p)
            .map(|x| x.id.clone())
            .unwrap_or_default()
    };
    let results = report
        .results
        .into_iter()
        .map(|r| ResultDto {
            prompt_id: prompt_id(r.prompt),
            case_id: plan
                .cases
                .get(r.case)
                .map(|c| c.id.clone())
                .unwrap_or_default(),
            repeat: r.repeat,
            output: r.output,
            pass: r.pass,
            score: r.score,
            assertions: r
                .assertions
                .iter()
                .map(|a| AssertionDto {
                    kind: a.kind.to_string(),
                    pass: a.verdict.pass,
                    score: a.verdict.score,
                    reason: a.verdict.reason.clone(),
                })
                .collect(),
            latency_ms: r.latency.as_millis() as u64,
            error: r.error.map(case_error),
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
        })
        .collect();
    RunDto {
        run_id: new_id("run"),
        created_at: crate::store::now_rfc3339(),
        best: prompt_id(report.best),
        summary: report
            .summary
            .iter()
            .map(|s| SummaryDto {
                prompt_id: prompt_id(s.prompt),
                rank: s.rank,
                pass_rate: s.pass_rate,
                mean_score: s.mean_score,
                passed: s.passed,
                failed: s.failed,
                errors: s.errors,
                input_tokens: s.input_tokens,
                output_tokens: s.output_tokens,
                latency_ms_p50: s.latency_p50.as_millis() as u64,
            })
            .collect(),
        results: Some(results),
        usage: EvalUsageDto {
            llm_calls: report.usage.llm_calls,
            input_tokens: report.usage.input_tokens,
            output_tokens: report.usage.output_tokens,
            grader_calls: report.usage.grader_calls,
        },
        suite,
        model,
        repeat: plan.repeat,
        cases: plan.cases.len(),
        stored: false,
    }
}

/// A result's error in the contract's words: the code and message the
/// operation would have answered.
fn case_error(e: CaseError) -> CaseErrorDto {
    let api = match e {
        CaseError::Llm(LlmError::NotConfigured)
        | CaseError::Grader(crate::runtime::RuntimeError::Llm(LlmError::NotConfigured)) => {
            return CaseErrorDto {
                code: "llm_not_configured".into(),
                message: "no LLM provider is configured: this case needs one (it has no \
                          `output` to grade, or an `llm-rubric` needs a judge); set \
                          PROMPTSCULPTOR_LLM_PROVIDER or give the case an `output`"
                    .into(),
            };
        }
        CaseError::Llm(e) => ApiError::from(e),
        CaseError::Grader(e) => ApiError::from(e),
        CaseError::Timeout { secs } => {
            return CaseErrorDto {
                code: "eval_timeout".into(),
                message: format!(
                    "the evaluation ran past its deadline of {secs} s \
                     (PROMPTSCULPTOR_EVAL_TIMEOUT_SECS) before this item started"
                ),
            };
        }
        CaseError::Internal(message) => {
            return CaseErrorDto {
                code: "internal_error".into(),
                message,
            };
        }
    };
    CaseErrorDto {
        code: api.code.to_string(),
        message: api.message,
    }
}
