//! Operations endpoints outside the base path: health probes and metrics.

use actix_web::{HttpResponse, get, web};

use crate::{error::ApiError, metrics::Metrics};

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, description = "Alive")))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
#[get("/metrics")]
pub async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}

/// Any route we do not serve: the spec's error shape instead of an empty 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("not_found", "No such route."))
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/health/ready", tag = "operations", responses((status = 200, description = "Ready"), (status = 503, body = crate::dto::ErrorBody, description = "The database is unreachable")))]
#[get("/health/ready")]
pub async fn ready(state: web::Data<crate::state::AppState>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    crate::state::read(&state, move || db.ping().map_err(|_| ApiError::Unavailable)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })))
}

/// The OpenAPI 3.1 document of this API.
#[get("/openapi.json")]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::json())
}
