//! Published plugins (contract §5): upload, versions, rollback, delete.
//!
//! The admin key is checked by the `/api/v1` guard (middleware.rs) before
//! these handlers run, and so is the declared body length of an upload;
//! validation and storage belong to the runtime (`Runtime::publish` …).

use axum::{
    Json,
    extract::{Path, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    AppState,
    dto::{ErrorBody, PluginVersionDto, RollbackBody, VersionList, WasmComponent},
    error::ApiError,
    json::{ApiJson, too_large},
    middleware::{declared_length, drain},
};
use crate::runtime::PluginStatus;

/// Whether a `Content-Type` value names `application/wasm` (parameters and
/// case ignored).
fn is_wasm(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/wasm")
}

/// The rollback target: 64 lowercase hex digits, the form every answer
/// uses, so one version has one spelling.
fn valid_sha256(name: &str, value: Option<String>) -> Result<String, ApiError> {
    let Some(sha) = value else {
        return Err(ApiError::validation(format!(
            "`sha256` is required: the sha256 of a published version (GET /api/v1/plugins/{name}/versions lists them)"
        )));
    };
    if sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Ok(sha);
    }
    Err(ApiError::validation(format!(
        "`sha256` must be 64 lowercase hexadecimal characters (got '{}'); GET /api/v1/plugins/{name}/versions lists them",
        sha.chars().take(80).collect::<String>()
    )))
}

/// Publishing endpoints' error answers, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum PublishErrors {
    /// No valid admin key.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// No admin key configured (`admin_disabled`).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Rate limit, with Retry-After.
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// The database failed.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The database is unreachable (`storage_unavailable`, Retry-After).
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// `PUT /api/v1/plugins/{name}`: publish a component as plugin `{name}`.
///
/// The component is validated by the same loader as folder plugins, stored,
/// and served by every instance on the database. A re-upload of the active
/// bytes changes nothing (200).
#[utoipa::path(put, operation_id = "publish_plugin", path = "/api/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path, description = "Plugin name; must equal the component's manifest name")),
    request_body(content = WasmComponent, content_type = "application/wasm",
        description = "The Wasm component"),
    security(("admin_key" = [])),
    responses(
        (status = 201, description = "First version of this name", body = PluginStatus),
        (status = 200, description = "New (or the same) version", body = PluginStatus),
        (status = 413, description = "Over the component size cap", body = ErrorBody),
        (status = 415, description = "Body is not application/wasm", body = ErrorBody),
        (status = 422, description = "Rejected by the loader (`plugin_rejected`)", body = ErrorBody),
        PublishErrors,
    ))]
pub async fn publish(
    State(state): State<AppState>,
    Path(name): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let limit = usize::try_from(state.runtime.max_component_bytes()).unwrap_or(usize::MAX);
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !is_wasm(content_type) {
        // Read the upload first so the client sees the 415, not a reset.
        let declared = declared_length(&req);
        drain(req.into_body(), declared, limit).await;
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the component as the body with Content-Type: application/wasm",
        ));
    }
    // Bounded read: a body without a declared length (chunked) stops at the
    // cap instead of filling memory.
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large(limit))?;
    let outcome = state.runtime.publish(&name, Vec::from(bytes)).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome.status)).into_response())
}

/// `GET /api/v1/plugins/{name}/versions`: the published versions of a plugin.
#[utoipa::path(get, operation_id = "plugin_versions", path = "/api/v1/plugins/{name}/versions", tag = "plugins",
    params(("name" = String, Path, description = "Plugin name")),
    responses(
        (status = 200, description = "Newest first; empty for a folder plugin", body = VersionList),
        (status = 401, description = "API keys are configured and none was valid", body = ErrorBody),
        (status = 404, description = "Neither published nor loaded (`plugin_not_found`)", body = ErrorBody),
        (status = 500, description = "The database failed", body = ErrorBody),
        (status = 503, description = "The database is unreachable (`storage_unavailable`)", body = ErrorBody),
    ))]
pub async fn versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<VersionList>, ApiError> {
    let versions = state.runtime.plugin_versions(&name).await?;
    Ok(Json(VersionList {
        versions: versions.into_iter().map(PluginVersionDto::from).collect(),
    }))
}

/// `POST /api/v1/plugins/{name}/rollback`: serve an earlier published version.
#[utoipa::path(post, operation_id = "rollback_plugin", path = "/api/v1/plugins/{name}/rollback", tag = "plugins",
    params(("name" = String, Path, description = "Plugin name")),
    request_body = RollbackBody,
    security(("admin_key" = [])),
    responses(
        (status = 200, description = "The version now served", body = PluginStatus),
        (status = 400, description = "Malformed JSON or a value of the wrong type", body = ErrorBody),
        (status = 404, description = "No such published plugin or version (`plugin_not_found`)", body = ErrorBody),
        (status = 409, description = "Served only from the plugins folder (`plugin_not_published`)", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "Not a sha256, an unknown field, or the version no longer loads", body = ErrorBody),
        PublishErrors,
    ))]
pub async fn rollback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<RollbackBody>,
) -> Result<Json<PluginStatus>, ApiError> {
    let sha256 = valid_sha256(&name, body.sha256)?;
    Ok(Json(state.runtime.rollback(&name, &sha256).await?))
}

/// `DELETE /api/v1/plugins/{name}`: delete a published plugin and all its
/// versions; a folder file of the same name serves again.
#[utoipa::path(delete, operation_id = "unpublish_plugin", path = "/api/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path, description = "Plugin name")),
    security(("admin_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such plugin (`plugin_not_found`)", body = ErrorBody),
        (status = 409, description = "Served only from the plugins folder (`plugin_not_published`)", body = ErrorBody),
        PublishErrors,
    ))]
pub async fn unpublish(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.runtime.unpublish(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_application_wasm_is_a_component_body() {
        assert!(is_wasm("application/wasm"));
        assert!(is_wasm("Application/WASM; charset=binary"));
        assert!(!is_wasm("application/octet-stream"));
        assert!(!is_wasm("application/json"));
        assert!(!is_wasm(""));
    }

    #[test]
    fn a_rollback_target_is_64_lowercase_hex_digits() {
        let good = "0123456789abcdef".repeat(4);
        assert_eq!(
            valid_sha256("p", Some(good.clone())).ok(),
            Some(good.clone())
        );
        for bad in [
            good.to_uppercase(),
            good[..63].to_string(),
            format!("{good}0"),
            format!("{}g", &good[..63]),
            String::new(),
        ] {
            let e = valid_sha256("p", Some(bad.clone())).err();
            assert!(
                e.as_ref()
                    .is_some_and(|e| e.status == StatusCode::UNPROCESSABLE_ENTITY
                        && e.message.contains("64 lowercase hexadecimal")),
                "{bad}: {e:?}"
            );
        }
        let missing = valid_sha256("p", None).err();
        assert!(missing.is_some_and(|e| e.message.contains("`sha256` is required")));
    }
}
