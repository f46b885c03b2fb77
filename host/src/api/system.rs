//! Health, readiness and the plugin listing.

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use super::{
    AppState,
    dto::{ErrorBody, PluginList},
    error::ApiError,
};

/// `GET /healthz`: the process lives.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and the default plugins are loaded.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready", body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let db = state.db.ping().await;
    let plugins = state.runtime.defaults_loaded();
    if db && plugins {
        return Ok(Json(
            json!({ "status": "ready", "database": "ok", "plugins": "ok" }),
        ));
    }
    let mut missing = Vec::new();
    if !db {
        missing.push("the database does not answer".to_string());
    }
    if !plugins {
        missing.push(
            "a default analyze, remix or create plugin is not loaded (see GET /api/v1/plugins)"
                .to_string(),
        );
    }
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        format!("not ready: {}", missing.join("; ")),
    ))
}

/// `GET /api/v1/plugins`: every plugin file seen, loaded or not.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins", responses((status = 200, body = PluginList)))]
pub async fn plugins(State(state): State<AppState>) -> Json<PluginList> {
    let table = state.runtime.table();
    Json(PluginList {
        plugins: table.statuses().to_vec(),
    })
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
}
