//! Health, readiness and the plugin listing.

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use super::{AppState, error::ApiError};

/// `GET /healthz`: the process lives.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and the default plugins are loaded.
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

/// `GET /api/v1/plugins`.
pub async fn plugins(State(state): State<AppState>) -> Json<Value> {
    let table = state.runtime.table();
    Json(json!({ "plugins": table.statuses() }))
}
