//! The one HTTP error type: every failure a handler can meet maps to a status and a stable
//! `code`, rendered in the spec's shape `{"error": {"code", "message", "details"?, "requestId"}}`.
//!
//! Messages are fixed texts chosen here, never a formatted input value, so no PII can reach a
//! response. Unexpected errors become an opaque 500 whose cause goes to the log (the causes we
//! log are our own error types, which carry no values either).

use std::borrow::Cow;

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use serde_json::json;

use crate::observe;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Field-level violations of the edge rules (SPEC §3).
    #[error("the request failed validation")]
    Validation(serde_json::Value),
    /// The body is not JSON, or not the JSON shape the route takes.
    #[error("the request body is not valid JSON")]
    InvalidJson(Cow<'static, str>),
    #[error("a valid API key is required")]
    Unauthorized,
    #[error("this API key's role may not do that")]
    Forbidden,
    /// A missing object, or one of another tenant: the same answer for both.
    #[error("{message}")]
    NotFound {
        code: &'static str,
        message: &'static str,
    },
    #[error("a route-level conflict")]
    Conflict {
        code: &'static str,
        message: Cow<'static, str>,
    },
    #[error("the request is well formed but cannot be processed")]
    Unprocessable {
        code: &'static str,
        message: Cow<'static, str>,
        details: Option<serde_json::Value>,
    },
    #[error("the identity was changed since the ETag given in If-Match")]
    VersionConflict,
    #[error("the file type is not supported")]
    UnsupportedFileType,
    #[error("the payload is too large")]
    PayloadTooLarge(&'static str),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("the service is not ready")]
    Unavailable,
    /// Anything unexpected: logged with its cause, answered with an opaque 500.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 404 for a missing (or foreign) object.
    pub const fn not_found(code: &'static str, message: &'static str) -> Self {
        Self::NotFound { code, message }
    }

    /// An unexpected failure; `cause` goes to the log only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::InvalidJson(_) => "invalid_json",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. } => code,
            Self::VersionConflict => "version_conflict",
            Self::UnsupportedFileType => "unsupported_file_type",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn message(&self) -> Cow<'static, str> {
        match self {
            Self::Validation(_) => "The request failed validation; see details.".into(),
            Self::InvalidJson(why) => why.clone(),
            Self::Unauthorized => {
                "A valid API key is required: Authorization: Bearer <key>.".into()
            }
            Self::Forbidden => "This API key's role may not perform this operation.".into(),
            Self::NotFound { message, .. } => (*message).into(),
            Self::Conflict { message, .. } | Self::Unprocessable { message, .. } => message.clone(),
            Self::VersionConflict => {
                "The resource was modified since the version given in If-Match.".into()
            }
            Self::UnsupportedFileType => "Only JPEG and PNG images are accepted.".into(),
            Self::PayloadTooLarge(what) => (*what).into(),
            Self::RateLimited { .. } => "Too many requests for this API key; retry later.".into(),
            Self::Unavailable => "The service is not ready; retry later.".into(),
            Self::Internal(_) => "An internal error occurred.".into(),
        }
    }

    fn details(&self) -> Option<&serde_json::Value> {
        match self {
            Self::Validation(details) => Some(details),
            Self::Unprocessable { details, .. } => details.as_ref(),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::InvalidJson(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::VersionConflict => StatusCode::PRECONDITION_FAILED,
            Self::UnsupportedFileType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error.cause = %cause, "request failed");
        }
        let mut body = json!({
            "code": self.code(),
            "message": self.message(),
            "requestId": observe::request_id(),
        });
        if let (Some(details), Some(obj)) = (self.details(), body.as_object_mut()) {
            obj.insert("details".to_owned(), details.clone());
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Self::RateLimited { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        response.json(json!({ "error": body }))
    }
}

/// The error for a JSON body serde could not read: position and category only, because serde's
/// own message can quote the input.
pub fn invalid_json(err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let what = match err.classify() {
        Category::Eof => "ends early",
        Category::Syntax => "has a syntax error",
        Category::Data => "has a value of the wrong type",
        Category::Io => "could not be read",
    };
    ApiError::InvalidJson(
        format!(
            "The request body is not valid JSON: it {what} at line {} column {}.",
            err.line(),
            err.column()
        )
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn body_of(err: ApiError) -> serde_json::Value {
        let res = err.error_response();
        serde_json::from_slice(&to_bytes(res.into_body()).await.unwrap()).unwrap()
    }

    #[actix_web::test]
    async fn errors_have_the_spec_shape() {
        let body = body_of(ApiError::not_found(
            "identity_not_found",
            "No such identity.",
        ))
        .await;
        assert_eq!(body["error"]["code"], "identity_not_found");
        assert_eq!(body["error"]["message"], "No such identity.");
        assert!(body["error"]["requestId"].is_string());
        assert!(body["error"].get("details").is_none());
    }

    #[actix_web::test]
    async fn internal_errors_are_opaque() {
        let body = body_of(ApiError::internal("secret table kyc_identities exploded")).await;
        assert_eq!(body["error"]["code"], "internal_error");
        assert!(!body.to_string().contains("kyc_identities"));
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let res = ApiError::RateLimited {
            retry_after_secs: 3,
        }
        .error_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "3");
    }

    #[test]
    fn invalid_json_never_quotes_the_input() {
        let err = serde_json::from_str::<u32>("\"305464885\"").unwrap_err();
        let api = invalid_json(&err);
        assert!(!api.message().contains("305464885"));
        assert_eq!(api.code(), "invalid_json");
    }
}
