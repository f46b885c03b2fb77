//! The one error type of the HTTP layer and its mapping from lower layers.
//!
//! A handler returns `ApiError`; the response carries it as an extension and
//! the request-id middleware renders the contract's body with the id.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::llm::LlmError;
use crate::runtime::{PublishError, RuntimeError};
use crate::store::{Stale, StoreError};

/// An error answer: status, stable snake_case code, actionable message.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// A sentence a user can act on.
    pub message: String,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with no `Retry-After`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 422: well-formed JSON that fails validation.
    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
    }

    /// 412: an `If-Match` precondition found another version of the resource.
    pub fn precondition_failed(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            message,
        )
    }

    /// 503 `storage_unavailable`: the database cannot be reached now. The
    /// server reconnects by itself, so a client may retry after a second.
    pub fn storage_unavailable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "storage_unavailable",
            message: message.into(),
            retry_after: Some(1),
        }
    }

    /// 404 for a path no route matches.
    pub fn route_not_found(path: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "route_not_found",
            format!("no route for {path}"),
        )
    }

    /// The generic error for a status produced outside our handlers
    /// (e.g. axum's 405).
    pub fn from_status(status: StatusCode) -> ApiError {
        let (code, message) = match status {
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this route does not accept that HTTP method",
            ),
            StatusCode::NOT_FOUND => ("route_not_found", "no such route"),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload_too_large",
                "the request body is larger than the server accepts",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "send the body as application/json",
            ),
            s if s.is_client_error() => ("bad_request", "the request was refused"),
            _ => ("internal_error", "the server failed to answer; try again"),
        };
        ApiError::new(status, code, message)
    }

    /// Render the contract's error body for `request_id`.
    pub fn render(&self, request_id: &str) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message, "request_id": request_id } });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The body is rendered by the request-id middleware, which knows the id.
        let mut resp = self.status.into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

impl From<LlmError> for ApiError {
    fn from(e: LlmError) -> ApiError {
        use StatusCode as S;
        match e {
            LlmError::NotConfigured => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                "llm_not_configured",
                "use_llm is true but no LLM provider is configured; set PROMPTSCULPTOR_LLM_PROVIDER (see README) or send use_llm: false",
            ),
            LlmError::Unavailable(m) => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                "llm_unavailable",
                format!("LLM provider unavailable: {m}"),
            ),
            LlmError::Timeout(m) => ApiError::new(
                S::GATEWAY_TIMEOUT,
                "llm_timeout",
                format!("LLM provider timed out: {m}"),
            ),
            LlmError::RateLimited {
                message,
                retry_after,
            } => ApiError {
                status: S::TOO_MANY_REQUESTS,
                code: "llm_rate_limited",
                message: format!("the LLM provider's rate limit was hit; retry later: {message}"),
                retry_after: Some(retry_after.unwrap_or(1)),
            },
            LlmError::QuotaExceeded(m) => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                "llm_quota_exceeded",
                format!("the LLM provider account has no quota left: {m}"),
            ),
            LlmError::InvalidRequest(m) => ApiError::new(
                S::BAD_GATEWAY,
                "llm_request_rejected",
                format!("the LLM provider rejected the request: {m}"),
            ),
            LlmError::BadResponse(m) => ApiError::new(
                S::BAD_GATEWAY,
                "llm_bad_response",
                format!("the LLM provider sent an unusable response: {m}"),
            ),
        }
    }
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> ApiError {
        use StatusCode as S;
        let message = e.to_string();
        match e {
            RuntimeError::Llm(llm) => llm.into(),
            RuntimeError::UnknownStrategy { .. } => ApiError::new(
                S::NOT_FOUND,
                "strategy_not_found",
                format!("{message}; GET /api/v1/plugins lists what is loaded"),
            ),
            RuntimeError::UnknownStyle { .. } => {
                ApiError::new(S::NOT_FOUND, "style_not_found", message)
            }
            RuntimeError::Timeout { .. } => {
                ApiError::new(S::GATEWAY_TIMEOUT, "plugin_timeout", message)
            }
            // The call never started: the plugin runs its whole share of
            // the pool. Its calls end within the plugin deadline; a second
            // is a fair first back-off.
            RuntimeError::Busy { .. } => ApiError {
                status: S::SERVICE_UNAVAILABLE,
                code: "plugin_busy",
                message,
                retry_after: Some(1),
            },
            RuntimeError::Trap { .. } | RuntimeError::PluginInternal { .. } => {
                ApiError::new(S::INTERNAL_SERVER_ERROR, "plugin_failed", message)
            }
            RuntimeError::LimitExceeded { .. } => {
                ApiError::new(S::INTERNAL_SERVER_ERROR, "plugin_limit_exceeded", message)
            }
            RuntimeError::InvalidResult { .. } => {
                ApiError::new(S::INTERNAL_SERVER_ERROR, "plugin_invalid_result", message)
            }
            RuntimeError::InvalidInput { .. } => ApiError::validation(message),
            RuntimeError::UnusableLlmOutput { .. } => {
                ApiError::new(S::BAD_GATEWAY, "llm_unusable_output", message)
            }
            RuntimeError::Engine(_) => {
                ApiError::new(S::INTERNAL_SERVER_ERROR, "internal_error", message)
            }
        }
    }
}

impl From<Stale> for ApiError {
    fn from(e: Stale) -> ApiError {
        ApiError::precondition_failed(format!(
            "{e}; GET it again and retry with If-Match set to that ETag"
        ))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "style_not_found",
                format!("{what} does not exist; GET /api/v1/styles lists them"),
            ),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "style_conflict", m),
            other => storage_failure(other),
        }
    }
}

/// The answer for a storage failure that is not about a particular row:
/// 503 while the database is unreachable, else 500 (details only in the log).
fn storage_failure(e: StoreError) -> ApiError {
    match e {
        StoreError::Unavailable(reason) => {
            tracing::warn!("storage unavailable: {reason}");
            ApiError::storage_unavailable(format!(
                "the database is unavailable ({}); the server reconnects by itself: retry shortly",
                unavailable_reason(&reason)
            ))
        }
        other => {
            tracing::error!("storage failure: {other}");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage_error",
                "the database failed; try again",
            )
        }
    }
}

/// A sentence on why the database is unusable, for `/readyz`.
pub fn database_problem(e: &StoreError) -> String {
    match e {
        StoreError::Unavailable(reason) => format!(
            "the database is unavailable: {}",
            unavailable_reason(reason)
        ),
        other => other.to_string(),
    }
}

/// The cause inside `StoreError::Unavailable`, without a leading "the
/// database is unavailable:" that the store may already have written, so
/// a message never says it twice.
fn unavailable_reason(reason: &str) -> &str {
    let mut r = reason.trim();
    while let Some(rest) = r.strip_prefix("the database is unavailable:") {
        r = rest.trim_start();
    }
    r
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> ApiError {
        match e {
            PublishError::Rejected(reason) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_rejected", reason)
            }
            // The runtime's sentences already say what to list.
            PublishError::NotFound(what) => {
                ApiError::new(StatusCode::NOT_FOUND, "plugin_not_found", what)
            }
            PublishError::FolderPlugin(what) => {
                ApiError::new(StatusCode::CONFLICT, "plugin_not_published", what)
            }
            // Row-level store errors here are about plugins, not styles.
            PublishError::Store(StoreError::NotFound(what)) => ApiError::new(
                StatusCode::NOT_FOUND,
                "plugin_not_found",
                format!("{what} does not exist; GET /api/v1/plugins lists the loaded plugins"),
            ),
            PublishError::Store(StoreError::Conflict(m)) => {
                ApiError::new(StatusCode::CONFLICT, "plugin_conflict", m)
            }
            PublishError::Store(other) => storage_failure(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_a_retryable_503() {
        for e in [
            ApiError::from(StoreError::Unavailable("connection refused".into())),
            ApiError::from(PublishError::Store(StoreError::Unavailable(
                "timeout".into(),
            ))),
        ] {
            assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(e.code, "storage_unavailable");
            assert_eq!(e.retry_after, Some(1));
        }
        let e = ApiError::from(StoreError::Unavailable(
            "the database is unavailable: connection refused".into(),
        ));
        assert_eq!(
            e.message,
            "the database is unavailable (connection refused); the server reconnects by itself: retry shortly"
        );
        assert_eq!(
            database_problem(&StoreError::Unavailable(
                "the database is unavailable: timeout".into()
            )),
            "the database is unavailable: timeout"
        );
        let e = ApiError::from(StoreError::Corrupt("x".into()));
        assert_eq!((e.status.as_u16(), e.code), (500, "storage_error"));
    }

    #[test]
    fn publish_errors_have_their_own_codes() {
        let cases = [
            (
                PublishError::Rejected("wrong world".into()),
                422,
                "plugin_rejected",
            ),
            (
                PublishError::NotFound("no plugin 'x'".into()),
                404,
                "plugin_not_found",
            ),
            (
                PublishError::FolderPlugin("x".into()),
                409,
                "plugin_not_published",
            ),
            (
                PublishError::Store(StoreError::NotFound("plugin x".into())),
                404,
                "plugin_not_found",
            ),
        ];
        for (e, status, code) in cases {
            let e = ApiError::from(e);
            assert_eq!((e.status.as_u16(), e.code), (status, code), "{}", e.message);
        }
    }
}
