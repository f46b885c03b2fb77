//! The HTTP layer: routes, request/response bodies, error mapping.

mod dto;
pub mod error;
mod eval_dto;
mod evaluate;
mod json;
mod middleware;
mod openapi;
mod operations;
mod publish;
mod stream;
mod styles;
mod suites;
mod system;

use std::sync::Arc;

use axum::{
    Router,
    extract::{OriginalUri, Request},
    middleware::from_fn_with_state,
    routing::{get, post},
};

use crate::eval::Evaluator;
use crate::runtime::Runtime;
use crate::store::{Db, RequestLog};
use error::ApiError;
pub use middleware::RateLimiter;
pub use openapi::ApiDoc;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The plugin runtime.
    pub runtime: Runtime,
    /// The database.
    pub db: Db,
    /// Whether an LLM provider is configured (the default of `use_llm`).
    pub llm_configured: bool,
    /// Request body limit.
    pub max_body_bytes: usize,
    /// sha256 digests of the accepted API keys (empty: no authentication).
    pub api_keys: Arc<Vec<[u8; 32]>>,
    /// sha256 digests of the admin keys, the only keys accepted by the
    /// publishing endpoints (empty: publishing disabled, 403). They are
    /// valid API keys too.
    pub admin_keys: Arc<Vec<[u8; 32]>>,
    /// Rate limiter, when enabled.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// Where finished operations are recorded.
    pub request_log: RequestLog,
    /// Runs evaluations.
    pub evaluator: Evaluator,
    /// Stored evaluate runs kept (`PROMPTSCULPTOR_EVAL_MAX_RUNS`).
    pub eval_max_runs: u64,
}

impl AppState {
    /// Digests of `keys`, the form in which the state keeps API keys.
    pub fn digest_keys(keys: &[String]) -> Arc<Vec<[u8; 32]>> {
        Arc::new(keys.iter().map(|k| middleware::key_digest(k)).collect())
    }
}

/// The full router of the server.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/analyze", post(operations::analyze))
        .route("/remix", post(operations::remix))
        .route("/create", post(operations::create))
        .route("/evaluate", post(evaluate::evaluate))
        .route("/suites", get(suites::list).post(suites::create))
        .route(
            "/suites/{name}",
            get(suites::get).put(suites::update).delete(suites::delete),
        )
        .route("/runs", get(suites::runs))
        .route("/runs/{run_id}", get(suites::run))
        .route("/styles", get(styles::list).post(styles::create))
        .route(
            "/styles/{name}",
            get(styles::get).put(styles::update).delete(styles::delete),
        )
        .route("/plugins", get(system::plugins))
        .route(
            "/plugins/{name}",
            get(system::plugin)
                .put(publish::publish)
                .delete(publish::unpublish),
        )
        .route("/plugins/{name}/versions", get(publish::versions))
        .route("/plugins/{name}/rollback", post(publish::rollback))
        // `layer`, not `route_layer`: unknown paths and wrong methods under
        // /api/v1 are refused without a key too, so the API surface does not
        // answer anonymous probes.
        .fallback(fallback)
        .layer(from_fn_with_state(
            state.clone(),
            middleware::auth_and_rate_limit,
        ));
    Router::new()
        .nest("/api/v1", v1)
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/docs", get(openapi::docs))
        .fallback(fallback)
        .layer(from_fn_with_state(state.clone(), middleware::request_id))
        .with_state(state)
}

/// Names the method and the full path: inside the nested `/api/v1` router
/// `req.uri()` has lost its prefix, the original URI has not.
async fn fallback(req: Request) -> ApiError {
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_string(), |o| o.0.path().to_string());
    ApiError::route_not_found(&format!("{} {path}", req.method()))
}
