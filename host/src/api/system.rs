//! Health, readiness and the plugin listing.

use axum::{
    Extension, Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{
    AppState,
    dto::{ErrorBody, NotReady, PluginList, Ready},
    error::{ApiError, database_problem},
    middleware::RequestId,
};

/// `GET /healthz`: the process lives.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and the default plugins are loaded.
///
/// Ready also waits for the user styles and the published plugins to be
/// read from the database, so an instance joining a fleet serves what the
/// others serve from its first request. The 503 answer is the error shape plus top-level `status`, `database`
/// and `plugins`, so a probe or an operator sees which part is missing.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Not ready", body = NotReady)))]
pub async fn readyz(
    State(state): State<AppState>,
    Extension(RequestId(id)): Extension<RequestId>,
) -> Response {
    let probe = Readiness {
        ping: state.db.ping().await.map_err(|e| database_problem(&e)),
        user_styles_loaded: state.db.user_styles_loaded(),
        defaults_loaded: state.runtime.defaults_loaded(),
        published_synced: state.runtime.published_synced(),
    };
    let (status, body) = probe.answer(state.db.backend_name(), &id);
    // Rendered here, not through `ApiError`: the body carries more than
    // the error. The request-id layer leaves a JSON answer as it is.
    (status, Json(body)).into_response()
}

/// What `/readyz` looks at.
struct Readiness {
    /// The database's ping (`Err`: why it failed).
    ping: Result<(), String>,
    /// The user styles have been read from the database at least once.
    user_styles_loaded: bool,
    /// The default analyze, remix and create plugins are loaded.
    defaults_loaded: bool,
    /// The plugin table was built from a successful read of the published
    /// plugins (until then a folder plugin may serve where the fleet
    /// serves a published one).
    published_synced: bool,
}

impl Readiness {
    /// The status and body. Ready means this instance serves what the
    /// fleet serves: database reachable, user styles and published plugins
    /// loaded, defaults present.
    fn answer(&self, backend: &str, request_id: &str) -> (StatusCode, Value) {
        let mut missing = Vec::new();
        let database_ok = match &self.ping {
            // The store's message already names the database.
            Err(reason) => {
                missing.push(reason.clone());
                false
            }
            Ok(()) if !self.user_styles_loaded => {
                missing.push(
                    "the database answers but the user styles are not loaded yet".to_string(),
                );
                false
            }
            Ok(()) => true,
        };
        if !self.defaults_loaded {
            missing.push(
                "a default analyze, remix or create plugin is not loaded (see GET /api/v1/plugins)"
                    .to_string(),
            );
        }
        // While the database is down the published plugins cannot be read:
        // that is the database's fault, reported above.
        let published_ok = self.published_synced || !database_ok;
        if !published_ok {
            missing.push("the published plugins are not loaded yet".to_string());
        }
        let database = if database_ok { "ok" } else { "unavailable" };
        let plugins = if self.defaults_loaded && published_ok {
            "ok"
        } else {
            "missing"
        };
        if missing.is_empty() {
            return (
                StatusCode::OK,
                json!({ "status": "ready", "database": database, "plugins": plugins, "backend": backend }),
            );
        }
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "status": "not_ready",
                "database": database,
                "plugins": plugins,
                "backend": backend,
                "error": {
                    "code": "not_ready",
                    "message": format!("not ready: {}", missing.join("; ")),
                    "request_id": request_id,
                },
            }),
        )
    }
}

/// `GET /api/v1/plugins`: every plugin file seen, loaded or not.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins", responses((status = 200, body = PluginList)))]
pub async fn plugins(State(state): State<AppState>) -> Json<PluginList> {
    let table = state.runtime.table();
    Json(PluginList {
        plugins: table.statuses().to_vec(),
    })
}

/// `GET /api/v1/plugins/{name}`: the row of the plugin serving `name` (the
/// one `GET /api/v1/plugins` lists with that name and `status: ok`), else
/// the first row of that name that failed to load, else 404.
#[utoipa::path(get, operation_id = "get_plugin", path = "/api/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path, description = "Plugin name")),
    responses((status = 200, body = crate::runtime::PluginStatus),
        (status = 404, description = "No plugin of that name (`plugin_not_found`)", body = ErrorBody)))]
pub async fn plugin(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<crate::runtime::PluginStatus>, ApiError> {
    let table = state.runtime.table();
    let rows = table.statuses();
    rows.iter()
        .find(|r| r.name == name && r.status == "ok")
        .or_else(|| rows.iter().find(|r| r.name == name))
        .cloned()
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "plugin_not_found",
                format!("no plugin named '{name}'; GET /api/v1/plugins lists them"),
            )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Readiness {
        Readiness {
            ping: Ok(()),
            user_styles_loaded: true,
            defaults_loaded: true,
            published_synced: true,
        }
    }

    fn message(body: &Value) -> &str {
        body["error"]["message"].as_str().unwrap_or("")
    }

    #[test]
    fn ready_names_the_backend() {
        let (status, body) = ready().answer("postgres", "req_1");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({ "status": "ready", "database": "ok", "plugins": "ok", "backend": "postgres" })
        );
    }

    #[test]
    fn not_ready_keeps_the_error_shape_and_says_what_is_missing() {
        let down = Readiness {
            ping: Err("the database is unavailable: connection refused".into()),
            user_styles_loaded: false,
            published_synced: false,
            ..ready()
        };
        let (status, body) = down.answer("postgres", "req_2");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "not_ready");
        assert_eq!(body["database"], "unavailable");
        // The plugins are not blamed for the database being down.
        assert_eq!(body["plugins"], "ok");
        assert_eq!(body["backend"], "postgres");
        assert_eq!(body["error"]["code"], "not_ready");
        assert_eq!(body["error"]["request_id"], "req_2");
        assert!(message(&body).contains("connection refused"), "{body}");
        assert!(!message(&body).contains("published"), "{body}");

        let no_defaults = Readiness {
            defaults_loaded: false,
            ..ready()
        };
        let (status, body) = no_defaults.answer("sqlite", "req_3");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            (&body["database"], &body["plugins"]),
            (&json!("ok"), &json!("missing"))
        );
        assert!(message(&body).contains("GET /api/v1/plugins"), "{body}");
    }

    #[test]
    fn ready_waits_for_user_styles_and_published_plugins() {
        let styles = Readiness {
            user_styles_loaded: false,
            ..ready()
        };
        let (status, body) = styles.answer("postgres", "r");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["database"], "unavailable");
        assert!(message(&body).contains("user styles"), "{body}");

        let published = Readiness {
            published_synced: false,
            ..ready()
        };
        let (status, body) = published.answer("postgres", "r");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            (&body["database"], &body["plugins"]),
            (&json!("ok"), &json!("missing"))
        );
        assert!(message(&body).contains("published plugins"), "{body}");
    }
}
