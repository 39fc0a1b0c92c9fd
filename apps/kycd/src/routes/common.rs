//! Small helpers every resource module uses.

use std::str::FromStr;

use crate::error::{ApiError, invalid_json};

/// The API's base path.
pub const BASE: &str = "/api/trust/v1";

/// Parses a JSON body into a raw value; the rules crates then validate its shape.
pub fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::InvalidJson(
            "The request body is empty; a JSON object is expected.".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| invalid_json(&e))
}

/// Parses a path id; a malformed one is a validation error (seed 001), not a 404.
pub fn path_id<T: FromStr>(raw: &str, field: &'static str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::Validation(serde_json::json!([{
            "field": field,
            "rule": "uuid",
            "message": "must be a UUID",
        }]))
    })
}
