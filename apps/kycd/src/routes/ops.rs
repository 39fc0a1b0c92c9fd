//! Operations endpoints outside the base path: health probes and metrics.

use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::{error::ApiError, metrics::Metrics, routes::common::BASE};

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, body = Object, description = "Alive: {\"status\": \"ok\"}")))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", description = "OpenMetrics text, which Prometheus scrapes")))]
#[get("/metrics")]
pub async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}

/// Any request no route served: `405` with `Allow` when the path is a documented route asked
/// with another method, else `404`; both in the spec's error shape. Sandbox routes outside
/// sandbox mode are `404` whatever the method (SPEC §7).
pub async fn not_found(
    req: HttpRequest,
    state: web::Data<crate::state::AppState>,
) -> Result<HttpResponse, ApiError> {
    let hidden = !state.sandbox()
        && req
            .path()
            .strip_prefix(BASE)
            .is_some_and(|p| p.starts_with("/sandbox/"));
    match crate::openapi::allowed_methods(req.path()) {
        Some(allow) if !hidden && !allow.split(", ").any(|m| m == req.method().as_str()) => {
            Err(ApiError::MethodNotAllowed { allow })
        }
        _ => Err(ApiError::not_found("not_found", "No such route.")),
    }
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/health/ready", tag = "operations", responses((status = 200, body = Object, description = "Ready: {\"status\": \"ok\"}"), (status = 503, body = crate::dto::ErrorBody, description = "The database is unreachable")))]
#[get("/health/ready")]
pub async fn ready(state: web::Data<crate::state::AppState>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    crate::state::read(&state, move || db.ping().map_err(|_| ApiError::Unavailable)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })))
}

/// The OpenAPI 3.1 document of this API (in production mode without the sandbox routes).
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, body = Object, description = "This document")))]
#[get("/openapi.json")]
pub async fn openapi(state: web::Data<crate::state::AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::served_json(state.sandbox()))
}
