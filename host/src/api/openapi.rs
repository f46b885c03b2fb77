//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! the DTO types so it cannot drift from the code, and a browsable page of
//! it served from an embedded asset (no CDN: the server may be offline).

use axum::{
    Json,
    http::header,
    response::{Html, IntoResponse},
};
use utoipa::OpenApi;

use super::{dto, evaluate, operations, publish, styles, suites, system};

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
        evaluate::evaluate,
        suites::list,
        suites::get,
        suites::create,
        suites::update,
        suites::delete,
        suites::runs,
        suites::run,
        styles::list,
        styles::get,
        styles::create,
        styles::update,
        styles::delete,
        system::plugins,
        system::plugin,
        publish::publish,
        publish::versions,
        publish::rollback,
        publish::unpublish,
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
        (name = "evaluate", description = "Evaluate prompts against test cases; saved suites and stored runs"),
        (name = "styles", description = "The style registry"),
        (name = "plugins", description = "Loaded strategies; publishing plugins to the fleet (admin key)"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer-key schemes: the optional API keys
/// (`PROMPTSCULPTOR_API_KEYS`) and the admin keys of the publishing
/// endpoints (`PROMPTSCULPTOR_ADMIN_KEYS`).
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An admin key (PROMPTSCULPTOR_ADMIN_KEYS); 403 admin_disabled when none is configured",
                    ))
                    .build(),
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_publishing_endpoints_are_documented() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        let paths = &doc["paths"];
        for (path, method) in [
            ("/api/v1/plugins/{name}", "put"),
            ("/api/v1/plugins/{name}", "delete"),
            ("/api/v1/plugins/{name}/versions", "get"),
            ("/api/v1/plugins/{name}/rollback", "post"),
        ] {
            assert!(paths[path][method].is_object(), "{method} {path} missing");
        }
        let put = &paths["/api/v1/plugins/{name}"]["put"];
        assert!(put["requestBody"]["content"]["application/wasm"].is_object());
        for status in ["200", "201", "401", "403", "413", "415", "422", "503"] {
            assert!(put["responses"][status].is_object(), "PUT {status}");
        }
        assert_eq!(put["security"][0]["admin_key"], serde_json::json!([]));
        let schemas = &doc["components"]["schemas"];
        assert!(schemas["RollbackBody"]["properties"]["sha256"].is_object());
        assert!(schemas["VersionList"]["properties"]["versions"].is_object());
        assert!(schemas["NotReady"]["properties"]["database"].is_object());
    }
}
