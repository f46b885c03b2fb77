//! The style registry's CRUD routes.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    AppState,
    dto::{ErrorBody, StyleBody, StyleExampleBody, StyleList},
    error::ApiError,
    json::ApiJson,
};
use crate::runtime::is_valid_name;
use crate::store::{IfMatch, NewStyle, StyleExample, StyleRecord, StyleUpdate};

const MAX_TEXT: usize = 20_000;
const MAX_EXAMPLES: usize = 20;

/// `GET /api/v1/styles`: every style in the registry.
#[utoipa::path(get, operation_id = "list_styles", path = "/api/v1/styles", tag = "styles",
    responses((status = 200, description = "Every style, by name", body = StyleList)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<StyleList>, ApiError> {
    let styles = state
        .db
        .list_styles()
        .iter()
        .map(|s| StyleRecord::clone(s))
        .collect();
    Ok(Json(StyleList { styles }))
}

/// A style as the answer body, with its `ETag` header.
fn with_etag(status: StatusCode, style: StyleRecord) -> Response {
    let etag = HeaderValue::from_str(&style.etag()).ok();
    let mut resp = (status, Json(style)).into_response();
    if let Some(v) = etag {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// The request's `If-Match` condition: `None` without the header (last
/// write wins), `Any` for `*`, else the listed tags. A header that is not
/// visible ASCII is a client error.
fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>, ApiError> {
    let mut tags = Vec::new();
    let mut seen = false;
    for value in headers.get_all(header::IF_MATCH) {
        seen = true;
        let text = value.to_str().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "If-Match must be a list of quoted ETags or *",
            )
        })?;
        for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag == "*" {
                return Ok(Some(IfMatch::Any));
            }
            tags.push(tag.to_string());
        }
    }
    Ok(seen.then_some(IfMatch::Tags(tags)))
}

/// `GET /api/v1/styles/{name}`: one style, with its `ETag`.
#[utoipa::path(get, operation_id = "get_style", path = "/api/v1/styles/{name}", tag = "styles",
    params(("name" = String, Path, description = "Style name")),
    responses((status = 200, body = StyleRecord,
        headers(("etag" = String, description = "Version tag for If-Match"))),
        (status = 404, body = ErrorBody),
        (status = 503, description = "User styles not loaded: the database is unavailable", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    match state.db.get_style(&name) {
        Some(s) => Ok(with_etag(StatusCode::OK, StyleRecord::clone(&s))),
        None => Err(not_found(&state, &name)),
    }
}

/// The answer for a style absent from memory: 404, or 503 while the user
/// styles were never loaded (the database has been down since start), as
/// the style may well exist there.
fn not_found(state: &AppState, name: &str) -> ApiError {
    if !state.db.user_styles_loaded() {
        return ApiError::storage_unavailable(
            "user styles are not loaded yet: the database is unavailable; retry shortly",
        );
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        "style_not_found",
        format!("no style named '{name}'; GET /api/v1/styles lists them"),
    )
}

fn required_text(value: Option<String>, field: &str) -> Result<String, ApiError> {
    let v = value.unwrap_or_default();
    if v.trim().is_empty() {
        return Err(ApiError::validation(format!(
            "`{field}` is required and must not be empty"
        )));
    }
    if v.chars().count() > MAX_TEXT {
        return Err(ApiError::validation(format!(
            "`{field}` is longer than {MAX_TEXT} characters"
        )));
    }
    Ok(v)
}

fn examples(list: Option<Vec<StyleExampleBody>>) -> Result<Vec<StyleExample>, ApiError> {
    let list = list.unwrap_or_default();
    if list.len() > MAX_EXAMPLES {
        return Err(ApiError::validation(format!(
            "at most {MAX_EXAMPLES} examples are allowed"
        )));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, e)| e.into_example(i).map_err(ApiError::validation))
        .collect()
}

/// `POST /api/v1/styles`: create a user style (201).
#[utoipa::path(post, operation_id = "create_style", path = "/api/v1/styles", tag = "styles", request_body = StyleBody,
    responses((status = 201, body = StyleRecord), (status = 400, body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, description = "The database is unavailable (`storage_unavailable`, Retry-After)", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<StyleBody>,
) -> Result<Response, ApiError> {
    let name = body.name.unwrap_or_default();
    if !is_valid_name(&name) {
        return Err(ApiError::validation(format!(
            "`name` must match ^[a-z0-9][a-z0-9-]{{0,63}}$ (got '{name}')"
        )));
    }
    let style = NewStyle {
        name,
        description: required_text(body.description, "description")?,
        instructions: required_text(body.instructions, "instructions")?,
        examples: examples(body.examples)?,
    };
    let stored = state.db.create_style(style).await?;
    Ok(with_etag(StatusCode::CREATED, stored))
}

/// `PUT /api/v1/styles/{name}`: replace a user style's description, instructions and examples.
///
/// With `If-Match`, only when the style's current `ETag` is listed (412
/// otherwise); without it, last write wins.
#[utoipa::path(put, operation_id = "update_style", path = "/api/v1/styles/{name}", tag = "styles", request_body = StyleBody,
    params(("name" = String, Path, description = "Style name"),
        ("If-Match" = Option<String>, Header, description = "Only replace this version (an ETag, or *)")),
    responses((status = 200, body = StyleRecord,
        headers(("etag" = String, description = "Tag of the stored version"))),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Builtin or plugin style", body = ErrorBody),
        (status = 412, description = "If-Match names another version", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "The database is unavailable (`storage_unavailable`, Retry-After)", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StyleBody>,
) -> Result<Response, ApiError> {
    let condition = if_match(&headers)?;
    if let Some(other) = body.name.as_deref()
        && other != name
    {
        return Err(ApiError::validation(format!(
            "`name` in the body ('{other}') differs from the path ('{name}'); styles cannot be renamed"
        )));
    }
    // Look first so an absent style is a 404 even when the body is invalid.
    if state.db.get_style(&name).is_none() {
        return Err(not_found(&state, &name));
    }
    let update = StyleUpdate {
        description: required_text(body.description, "description")?,
        instructions: required_text(body.instructions, "instructions")?,
        examples: examples(body.examples)?,
    };
    // The condition is checked inside the write transaction, not here: a
    // check before the write would race with other writers.
    let stored = state.db.update_style_if(&name, update, condition).await??;
    Ok(with_etag(StatusCode::OK, stored))
}

/// `DELETE /api/v1/styles/{name}`: delete a user style (204).
///
/// With `If-Match`, only when the style's current `ETag` is listed (412
/// otherwise).
#[utoipa::path(delete, operation_id = "delete_style", path = "/api/v1/styles/{name}", tag = "styles",
    params(("name" = String, Path, description = "Style name"),
        ("If-Match" = Option<String>, Header, description = "Only delete this version (an ETag, or *)")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody),
        (status = 409, description = "Builtin or plugin style", body = ErrorBody),
        (status = 412, description = "If-Match names another version", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`storage_unavailable`, Retry-After)", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let condition = if_match(&headers)?;
    state.db.delete_style_if(&name, condition).await??;
    Ok(StatusCode::NO_CONTENT)
}
