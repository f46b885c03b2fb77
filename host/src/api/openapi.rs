//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! the DTO types so it cannot drift from the code, and a browsable page of
//! it served from an embedded asset (no CDN: the server may be offline).

use axum::{
    Json,
    http::header,
    response::{Html, IntoResponse},
};
use utoipa::OpenApi;

use super::{dto, operations, styles, system};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "PromptSculptor",
        description = "Self-hosted prompt engineering: analyze, remix and create prompts with sandboxed, hot-swappable Wasm strategies.",
        license(name = "MIT")
    ),
    paths(
        operations::analyze,
        operations::remix,
        operations::create,
        styles::list,
        styles::get,
        styles::create,
        styles::update,
        styles::delete,
        system::plugins,
        system::healthz,
        system::readyz,
        system::metrics,
        openapi_json,
        docs,
    ),
    components(schemas(dto::ErrorBody, dto::ErrorDetail)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Analyze, remix, create; health"),
        (name = "styles", description = "The style registry"),
        (name = "plugins", description = "Loaded strategies"),
    )
)]
pub struct ApiDoc;

/// Adds the optional bearer-key scheme (`PROMPTSCULPTOR_API_KEYS`).
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /openapi.json`: the OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> impl IntoResponse {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    ([(header::CACHE_CONTROL, "no-cache")], Json(doc))
}

/// `GET /docs`: a browsable page of the OpenAPI document.
#[utoipa::path(get, path = "/docs", tag = "operations", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
