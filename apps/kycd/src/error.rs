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
#[derive(Clone, Debug, thiserror::Error)]
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
    /// A route that exists, asked with a method it does not serve; `allow` lists those it does.
    #[error("the route does not serve this method")]
    MethodNotAllowed { allow: &'static str },
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
    /// The request body stopped arriving (`crate::body_deadline`).
    #[error("the request body stopped arriving")]
    RequestTimeout,
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
            Self::RequestTimeout => "request_timeout",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
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
            Self::RequestTimeout => {
                "The request body stopped arriving; send the request again.".into()
            }
            Self::MethodNotAllowed { .. } => {
                "This route does not serve that method; see the Allow header.".into()
            }
            Self::Unavailable => "The service is not ready; retry later.".into(),
            Self::Internal(_) => "An internal error occurred.".into(),
        }
    }

    /// Whether this is the service's answer to the request itself (it was malformed, or
    /// conflicted with the data), which a retry of the same request would get again: what an
    /// `Idempotency-Key` replays. Not: a failure of the service (`5xx`), nor a refusal of the
    /// caller rather than the request (auth, rate limit), which a retry may well get past.
    pub const fn is_refusal(&self) -> bool {
        match self {
            Self::Validation(_)
            | Self::InvalidJson(_)
            | Self::NotFound { .. }
            | Self::Conflict { .. }
            | Self::Unprocessable { .. }
            | Self::VersionConflict
            | Self::UnsupportedFileType
            | Self::PayloadTooLarge(_) => true,
            Self::Unauthorized
            | Self::Forbidden
            | Self::MethodNotAllowed { .. }
            | Self::RateLimited { .. }
            | Self::RequestTimeout
            | Self::Unavailable
            | Self::Internal(_) => false,
        }
    }

    /// The response body, in the spec's shape, with the id of the request being served.
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "code": self.code(),
            "message": self.message(),
            "requestId": observe::request_id(),
        });
        if let (Some(details), Some(obj)) = (self.details(), body.as_object_mut()) {
            obj.insert("details".to_owned(), details.clone());
        }
        json!({ "error": body })
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
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error.cause = %cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, *allow));
            }
            // RFC 9110 §11.6.1: a 401 names the scheme it wants.
            Self::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.json(self.body())
    }
}

/// One entry of an error's `details`: the field (a path such as `address.postalCode`), the rule
/// it broke and what it must be. Never a value: values are personal data.
pub fn violation(field: &str, rule: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "field": field, "rule": rule, "message": message })
}

impl ApiError {
    /// `400 validation_failed` with the one [`violation`] named.
    pub fn invalid_field(field: &str, rule: &str, message: &str) -> Self {
        Self::Validation(serde_json::Value::Array(vec![violation(
            field, rule, message,
        )]))
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

impl From<kyc_store::StoreError> for ApiError {
    fn from(err: kyc_store::StoreError) -> Self {
        use kyc_store::StoreError as S;
        match err {
            S::NotFound { entity } => not_found_for(entity),
            S::Conflict { .. } => Self::Conflict {
                code: "concurrent_modification",
                message: "The resource was modified concurrently; retry the request.".into(),
            },
            S::EmailInUse => Self::Conflict {
                code: "email_already_in_use",
                message: "Another identity of this tenant already uses this email address.".into(),
            },
            S::Duplicate { entity } => Self::Conflict {
                code: "already_exists",
                message: format!("The {} already exists.", entity.replace('_', " ")).into(),
            },
            S::InvalidListQuery { violations } => Self::Validation(serde_json::json!(
                violations
                    .iter()
                    .map(|v| serde_json::json!({ "field": v.field, "rule": v.rule, "message": v.message }))
                    .collect::<Vec<_>>()
            )),
            S::Pool { .. } => {
                tracing::warn!(error = %err, "no database connection available");
                Self::Unavailable
            }
            err @ (S::InvalidUrl { .. }
            | S::BackendNotCompiled { .. }
            | S::Crypto { .. }
            | S::Database { .. }
            | S::Migration { .. }
            | S::CorruptRow { .. }
            | S::WalCheckpointBusy
            | S::Internal { .. }) => Self::internal(err),
        }
    }
}

/// The 404 code and message for each kind of stored object.
fn not_found_for(entity: &str) -> ApiError {
    let (code, message) = match entity {
        "personal_identity" | "business_identity" | "identity" => {
            ("identity_not_found", "No such identity.")
        }
        "identity_container" | "container" => {
            ("container_not_found", "No such identity container.")
        }
        "document" | "document_image" => ("document_not_found", "No such document."),
        "identity_owner" => (
            "identity_owner_not_found",
            "The identityOwner is not a personal identity of this tenant.",
        ),
        "review_item" => ("review_not_found", "No such review item."),
        "tenant" => ("tenant_not_found", "No such tenant."),
        _ => ("not_found", "Not found."),
    };
    ApiError::not_found(code, message)
}

impl From<kyc_rules::RulesError> for ApiError {
    fn from(err: kyc_rules::RulesError) -> Self {
        Self::Validation(serde_json::to_value(err.violations()).unwrap_or_default())
    }
}

impl From<kyc_tiers::TierError> for ApiError {
    fn from(err: kyc_tiers::TierError) -> Self {
        use kyc_tiers::TierError as T;
        match err {
            T::IdentityConfirmedFieldLocked { fields } => Self::Unprocessable {
                code: "identity_confirmed_field_locked",
                message: "The identity is confirmed: name, dateOfBirth, gender and ssn can no longer change."
                    .into(),
                // In the shape of every other error's details: one violation per field.
                details: Some(
                    fields
                        .iter()
                        .map(|f| {
                            violation(
                                f.as_str(),
                                "locked",
                                "can no longer change: the identity is confirmed",
                            )
                        })
                        .collect(),
                ),
            },
            T::DocumentAttemptsExhausted { .. } => Self::Conflict {
                code: "document_attempts_exhausted",
                message: "Three document checks were rejected: no more uploads are accepted.".into(),
            },
            T::DocumentAlreadyDecided { .. } | T::ReviewNotPending { .. } => Self::Conflict {
                code: "review_already_decided",
                message: "This item was already decided.".into(),
            },
            T::LevelNotAvailable { .. } => Self::Unprocessable {
                code: "level_not_available",
                message: "That level is not available to this identity under the tier policy.".into(),
                details: None,
            },
            T::EmptyInformationRequest => Self::Validation(serde_json::json!([{
                "field": "missingData",
                "rule": "required",
                "message": "a request for information must name at least one field or document",
            }])),
            err @ (T::PolicySyntax { .. } | T::PolicyInvalid { .. }) => Self::internal(err),
        }
    }
}

impl ApiError {
    /// `422 invalid_image`: an upload whose image cannot be decoded, and why.
    fn invalid_image(message: impl Into<Cow<'static, str>>) -> Self {
        Self::Unprocessable {
            code: "invalid_image",
            message: message.into(),
            details: None,
        }
    }
}

impl From<kyc_docs::DocsError> for ApiError {
    fn from(err: kyc_docs::DocsError) -> Self {
        use kyc_docs::DocsError as D;
        match err {
            D::UnsupportedType => Self::UnsupportedFileType,
            D::TooLarge { .. } => {
                Self::PayloadTooLarge("Each document image may be at most 10 MB.")
            }
            D::DecompressionBomb { .. } => Self::Unprocessable {
                code: "decompression_bomb",
                message: "The image exceeds 100 megapixels or 12,000 pixels a side.".into(),
                details: None,
            },
            D::UnsupportedEncoding(what) => Self::invalid_image(format!(
                "The image uses an encoding that is not decoded here ({what}): send it as \
                 an 8-bit baseline or progressive JPEG, or as a PNG."
            )),
            D::MemoryLimit { .. } => Self::invalid_image(
                "Decoding the image would need more memory than allowed: send it at a lower \
                 resolution (1200x1800 is plenty).",
            ),
            D::Truncated | D::Corrupt(_) | D::Decode(_) => Self::invalid_image(
                "The image could not be read: it is corrupt or truncated, or uses an encoding \
                 that is not decoded here (such as a 12-bit JPEG).",
            ),
        }
    }
}

/// Puts an error response that did not come from [`ApiError`] (actix's own answers, such as
/// the plain-text 413 of a body over the payload limit) into the spec's error shape, so every
/// error a client sees looks the same. Registered inside [`crate::observe::Observe`], so the
/// request id is known.
pub fn foreign_errors<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::{dev::ServiceResponse, middleware::ErrorHandlerResponse};
    let ours = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if ours {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let timed_out = res
        .response()
        .error()
        .and_then(|e| e.as_error::<actix_web::error::PayloadError>())
        .is_some_and(crate::body_deadline::is_timeout);
    let err = match res.status() {
        _ if timed_out => ApiError::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge("The request body is too large.")
        }
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::not_found("not_found", "No such route.")
        }
        status if status.is_server_error() => ApiError::internal(format!("unhandled {status}")),
        _ => ApiError::InvalidJson("The request could not be read.".into()),
    };
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, err.error_response()).map_into_right_body(),
    ))
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    #[test]
    fn an_undecodable_image_says_why() {
        use kyc_docs::DocsError as D;
        let unsupported = ApiError::from(D::UnsupportedEncoding("arithmetic-coded JPEG"));
        assert_eq!(unsupported.code(), "invalid_image");
        assert!(unsupported.message().contains("arithmetic-coded JPEG"));
        let memory = ApiError::from(D::MemoryLimit { limit: 1 });
        assert_eq!(memory.code(), "invalid_image");
        assert!(memory.message().contains("memory"));
        let corrupt = ApiError::from(D::Truncated);
        assert!(corrupt.message().contains("corrupt or truncated"));
    }

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
    fn unauthorized_names_the_bearer_scheme() {
        let res = ApiError::Unauthorized.error_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
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
