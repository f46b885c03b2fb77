//! The HTTP layer: routes, request/response bodies, error mapping.

mod dto;
pub mod error;
mod json;
mod middleware;
mod operations;
mod styles;
mod system;

use std::sync::Arc;

use axum::{
    Router,
    extract::Request,
    middleware::from_fn_with_state,
    routing::{get, post},
};

use crate::runtime::Runtime;
use crate::store::Db;
use error::ApiError;
pub use middleware::RateLimiter;

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
    /// Rate limiter, when enabled.
    pub rate_limiter: Option<Arc<RateLimiter>>,
}

impl AppState {
    /// Build the state; `api_keys` are kept only as digests.
    pub fn new(
        runtime: Runtime,
        db: Db,
        llm_configured: bool,
        max_body_bytes: usize,
        api_keys: &[String],
        rate_limit_per_min: Option<u32>,
    ) -> AppState {
        AppState {
            runtime,
            db,
            llm_configured,
            max_body_bytes,
            api_keys: Arc::new(api_keys.iter().map(|k| middleware::key_digest(k)).collect()),
            rate_limiter: rate_limit_per_min.map(|n| Arc::new(RateLimiter::new(n.max(1)))),
        }
    }
}

/// The full router of the server.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/analyze", post(operations::analyze))
        .route("/remix", post(operations::remix))
        .route("/create", post(operations::create))
        .route("/styles", get(styles::list).post(styles::create))
        .route(
            "/styles/{name}",
            get(styles::get).put(styles::update).delete(styles::delete),
        )
        .route("/plugins", get(system::plugins))
        .route_layer(from_fn_with_state(
            state.clone(),
            middleware::auth_and_rate_limit,
        ));
    Router::new()
        .nest("/api/v1", v1)
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .fallback(fallback)
        .layer(from_fn_with_state(state.clone(), middleware::request_id))
        .with_state(state)
}

async fn fallback(req: Request) -> ApiError {
    ApiError::route_not_found(req.uri().path())
}
