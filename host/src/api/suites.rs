//! Saved evaluate suites (`/api/v1/suites`) and stored runs
//! (`/api/v1/runs`), contract §6.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{
    AppState,
    dto::ErrorBody,
    error::ApiError,
    eval_dto::{RunDto, RunList, SuiteBody, SuiteContent, SuiteDto, SuiteList},
    evaluate::compile_content,
    json::ApiJson,
};
use crate::runtime::is_valid_name;
use crate::store::{StoreError, SuiteRecord};

const MAX_DESCRIPTION_CHARS: usize = 2_000;
const DEFAULT_RUNS: u32 = 20;
const MAX_RUNS: u32 = 100;

/// A stored suite's cases and assertions (checked when it was saved).
fn content(record: &SuiteRecord) -> Result<SuiteContent, ApiError> {
    serde_json::from_str(&record.body).map_err(|e| {
        tracing::error!(suite = %record.name, "stored suite does not parse: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage_error",
            format!(
                "the stored suite '{}' is corrupt; PUT it again",
                record.name
            ),
        )
    })
}

fn dto(record: SuiteRecord) -> Result<SuiteDto, ApiError> {
    let content = content(&record)?;
    Ok(SuiteDto {
        name: record.name,
        description: record.description,
        cases: content.cases,
        asserts: content.asserts,
        created_at: record.created_at,
        updated_at: record.updated_at,
    })
}

/// A saved suite's cases and assertions; 404 `suite_not_found` when absent.
pub(super) async fn load_suite(state: &AppState, name: &str) -> Result<SuiteContent, ApiError> {
    match state.db.suite(name).await? {
        Some(record) => content(&record),
        None => Err(suite_not_found(name)),
    }
}

/// The 404 for a suite name.
fn suite_not_found(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "suite_not_found",
        format!("no suite named '{name}'; GET /api/v1/suites lists them"),
    )
}

/// A suite store error in the suite's words.
fn suite_error(e: StoreError, name: &str) -> ApiError {
    match e {
        StoreError::NotFound(_) => suite_not_found(name),
        StoreError::Conflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "suite_conflict",
            format!("a suite named '{name}' exists; PUT /api/v1/suites/{name} replaces it"),
        ),
        other => other.into(),
    }
}

/// Description and checked content of a suite body, as stored.
fn checked(body: SuiteBody) -> Result<(String, String), ApiError> {
    let description = body.description.unwrap_or_default();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::validation(format!(
            "`description` is longer than {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    let Some(cases) = body.cases else {
        return Err(ApiError::validation(
            "`cases` is required: 1 to 500 test cases",
        ));
    };
    let content = SuiteContent {
        cases,
        asserts: body.asserts.unwrap_or_default(),
    };
    compile_content(&content)?;
    let text = serde_json::to_string(&content).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("the suite could not be encoded: {e}"),
        )
    })?;
    Ok((description, text))
}

/// `GET /api/v1/suites`: every saved suite.
#[utoipa::path(get, operation_id = "list_suites", path = "/api/v1/suites", tag = "evaluate",
    responses((status = 200, description = "Every suite, by name", body = SuiteList)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<SuiteList>, ApiError> {
    let suites = state
        .db
        .suites()
        .await?
        .into_iter()
        .map(dto)
        .collect::<Result<_, _>>()?;
    Ok(Json(SuiteList { suites }))
}

/// `POST /api/v1/suites`: save a suite of cases and assertions.
#[utoipa::path(post, operation_id = "create_suite", path = "/api/v1/suites", tag = "evaluate",
    request_body = SuiteBody,
    responses(
        (status = 201, description = "Saved", body = SuiteDto),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "Validation failed", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    body: Result<ApiJson<SuiteBody>, ApiError>,
) -> Result<Response, ApiError> {
    let ApiJson(body) = body?;
    let name = body.name.clone().unwrap_or_default();
    if !is_valid_name(&name) {
        return Err(ApiError::validation(format!(
            "`name` must match ^[a-z0-9][a-z0-9-]{{0,63}}$ (got '{name}')"
        )));
    }
    let (description, content) = checked(body)?;
    let stored = state
        .db
        .insert_suite(&name, &description, &content)
        .await
        .map_err(|e| suite_error(e, &name))?;
    Ok((StatusCode::CREATED, Json(dto(stored)?)).into_response())
}

/// `GET /api/v1/suites/{name}`.
#[utoipa::path(get, operation_id = "get_suite", path = "/api/v1/suites/{name}", tag = "evaluate",
    params(("name" = String, Path, description = "Suite name")),
    responses(
        (status = 200, description = "The suite", body = SuiteDto),
        (status = 404, description = "No such suite", body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<SuiteDto>, ApiError> {
    match state.db.suite(&name).await? {
        Some(s) => Ok(Json(dto(s)?)),
        None => Err(suite_not_found(&name)),
    }
}

/// `PUT /api/v1/suites/{name}`: replace a suite's description, cases and assertions.
#[utoipa::path(put, operation_id = "update_suite", path = "/api/v1/suites/{name}", tag = "evaluate",
    params(("name" = String, Path, description = "Suite name")),
    request_body = SuiteBody,
    responses(
        (status = 200, description = "The stored suite", body = SuiteDto),
        (status = 404, description = "No such suite", body = ErrorBody),
        (status = 422, description = "Validation failed", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<ApiJson<SuiteBody>, ApiError>,
) -> Result<Json<SuiteDto>, ApiError> {
    let ApiJson(body) = body?;
    if let Some(other) = body.name.as_deref().filter(|n| *n != name) {
        return Err(ApiError::validation(format!(
            "`name` '{other}' differs from the path's '{name}'; a suite cannot be renamed"
        )));
    }
    let (description, content) = checked(body)?;
    let stored = state
        .db
        .update_suite(&name, &description, &content)
        .await
        .map_err(|e| suite_error(e, &name))?;
    Ok(Json(dto(stored)?))
}

/// `DELETE /api/v1/suites/{name}`.
#[utoipa::path(delete, operation_id = "delete_suite", path = "/api/v1/suites/{name}", tag = "evaluate",
    params(("name" = String, Path, description = "Suite name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such suite", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .db
        .delete_suite(&name)
        .await
        .map_err(|e| suite_error(e, &name))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `limit` of `GET /api/v1/runs`: 1..=100, default 20; any other
/// parameter is refused, as unknown body fields are.
fn runs_limit(query: Option<&str>) -> Result<u32, ApiError> {
    let mut limit = DEFAULT_RUNS;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "limit" {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
                format!("unknown query parameter `{key}`; known: limit"),
            ));
        }
        limit = match value.parse::<u32>() {
            Ok(n @ 1..=MAX_RUNS) => n,
            _ => {
                return Err(ApiError::validation(format!(
                    "`limit` must be an integer between 1 and {MAX_RUNS} (got '{value}')"
                )));
            }
        };
    }
    Ok(limit)
}

/// `GET /api/v1/runs?limit=N`: stored runs, newest first, without results.
#[utoipa::path(get, operation_id = "list_runs", path = "/api/v1/runs", tag = "evaluate",
    params(("limit" = Option<u32>, Query, description = "1–100, default 20")),
    responses(
        (status = 200, description = "Newest first, without results", body = RunList),
        (status = 422, description = "A bad limit", body = ErrorBody),
    ))]
pub async fn runs(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<RunList>, ApiError> {
    let limit = runs_limit(query.as_deref())?;
    let runs = state
        .db
        .eval_runs(limit)
        .await?
        .into_iter()
        .map(|r| parse_run(&r.head))
        .collect::<Result<_, _>>()?;
    Ok(Json(RunList { runs }))
}

/// `GET /api/v1/runs/{run_id}`: one stored run with its results.
#[utoipa::path(get, operation_id = "get_run", path = "/api/v1/runs/{run_id}", tag = "evaluate",
    params(("run_id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run", body = RunDto),
        (status = 404, description = "No such run", body = ErrorBody),
    ))]
pub async fn run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<Json<RunDto>, ApiError> {
    let Some(record) = state.db.eval_run(&run_id).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "run_not_found",
            format!("no run with id '{run_id}'; GET /api/v1/runs lists the stored runs"),
        ));
    };
    let mut run = parse_run(&record.head)?;
    if let Some(results) = record.results {
        run.results = Some(serde_json::from_str(&results).map_err(corrupt_run)?);
    }
    Ok(Json(run))
}

fn parse_run(head: &str) -> Result<RunDto, ApiError> {
    serde_json::from_str::<Value>(head)
        .and_then(serde_json::from_value)
        .map_err(corrupt_run)
}

fn corrupt_run(e: serde_json::Error) -> ApiError {
    tracing::error!("stored run does not parse: {e}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "storage_error",
        "a stored run is corrupt",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runs_limit_is_checked() {
        assert_eq!(runs_limit(None).unwrap(), 20);
        assert_eq!(runs_limit(Some("limit=5")).unwrap(), 5);
        for bad in ["limit=0", "limit=101", "limit=x", "limit=", "limit=-1"] {
            let e = runs_limit(Some(bad)).unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.code),
                (422, "validation_failed"),
                "{bad}"
            );
        }
        let e = runs_limit(Some("limt=5")).unwrap_err();
        assert_eq!(e.code, "unknown_field");
    }
}
