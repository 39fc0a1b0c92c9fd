//! Small helpers every resource module uses.

use std::str::FromStr;

use crate::{
    dto::{PageMetaDto, PageNumberDto},
    error::{ApiError, invalid_json, violation as violation_json},
};

/// The API's base path.
pub const BASE: &str = "/api/trust/v1";

/// A violation of a body's or query's rules, as `kyc-rules` reports them.
pub fn violation(field: &str, rule: &str, message: &str) -> kyc_rules::Violation {
    kyc_rules::Violation {
        field: field.to_owned(),
        rule: rule.to_owned(),
        message: message.to_owned(),
    }
}

/// The name under which `object` gives a field that the API accepts under two names (`name`,
/// or `alias`, another route's name for it): `alias` when it alone is present, else `name`.
/// The flag says both are present, which the caller reports as a `duplicate` of `alias`.
pub fn field_or_alias(
    object: &serde_json::Map<String, serde_json::Value>,
    name: &'static str,
    alias: &'static str,
) -> (&'static str, bool) {
    match (object.contains_key(name), object.contains_key(alias)) {
        (false, true) => (alias, false),
        (has_name, has_alias) => (name, has_name && has_alias),
    }
}

/// Parses a JSON body into a raw value; the rules crates then validate its shape.
pub fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::InvalidJson(
            "The request body is empty; a JSON object is expected.".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| invalid_json(&e))
}

/// A body that must be the empty object: anything else is named, field by field, as unknown
/// (SPEC §3: unknown JSON fields are refused).
pub fn no_fields(body: &serde_json::Value) -> Result<(), ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::invalid_field("", "type", "must be a JSON object"));
    };
    if object.is_empty() {
        return Ok(());
    }
    Err(ApiError::Validation(
        object
            .keys()
            .map(|key| violation_json(key, "unknown_field", "is not a field of this request"))
            .collect(),
    ))
}

/// Parses a path id; a malformed one is a validation error (seed 001), not a 404.
pub fn path_id<T: FromStr>(raw: &str, field: &'static str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::invalid_field(field, "uuid", "must be a UUID"))
}

/// The decoded `name=value` pairs of a query string, in order.
pub fn query_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(query)
        .map(actix_web::web::Query::into_inner)
        .map_err(|_| ApiError::InvalidJson("The query string could not be decoded.".into()))
}

/// Parses the query of an identity list (filters, sort, pages), refusing unknown parameters.
pub fn list_query(
    listing: kyc_store::list::Listing,
    query: &str,
) -> Result<kyc_store::list::ListQuery, ApiError> {
    let pairs = query_pairs(query)?;
    Ok(kyc_store::list::ListQuery::parse_for(
        listing,
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?)
}

/// Parses the paging parameters of a simple list (`page[size]`, `page[number]`, `all`),
/// refusing any other parameter; every broken rule is listed.
pub fn page_request(query: &str) -> Result<kyc_store::list::PageRequest, ApiError> {
    use kyc_store::list::PageRequest;
    let pairs = query_pairs(query)?;
    let mut violations = Vec::new();
    let mut violation = |field: &str, rule: &str, message: &str| {
        violations.push(violation_json(field, rule, message));
    };
    let (mut number, mut size, mut all) = (1u32, 30u32, false);
    for (name, value) in &pairs {
        let number_in = |min: u32, max: u32| {
            value
                .parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
        };
        match name.as_str() {
            "page[number]" => match number_in(1, u32::MAX) {
                Some(n) => number = n,
                None => violation(name, "range", "must be a whole number from 1"),
            },
            "page[size]" => match number_in(1, 100) {
                Some(n) => size = n,
                None => violation(name, "range", "must be a whole number from 1 to 100"),
            },
            "all" => match value.parse::<bool>() {
                Ok(b) => all = b,
                Err(_) => violation(name, "type", "must be true or false"),
            },
            _ => violation(name, "unknown_parameter", "is not a parameter of this list"),
        }
    }
    if !violations.is_empty() {
        return Err(ApiError::Validation(serde_json::Value::Array(violations)));
    }
    Ok(if all {
        PageRequest::All
    } else {
        PageRequest::page(number, size)
    })
}

/// Runs a write that may meet an optimistic-concurrency conflict. Row locks make conflicts rare
/// (PostgreSQL), but a writer that lost a race re-reads and re-applies its change, so no update
/// is lost; a conditional request (`If-Match`) is answered `412 version_conflict` instead.
pub fn retry_conflicts<T>(
    conditional: bool,
    mut write: impl FnMut() -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    const ATTEMPTS: usize = 20;
    for _ in 0..ATTEMPTS {
        match write() {
            Err(ApiError::Conflict {
                code: "concurrent_modification",
                ..
            }) if !conditional => {}
            Err(ApiError::Conflict {
                code: "concurrent_modification",
                ..
            }) => {
                return Err(ApiError::VersionConflict);
            }
            other => return other,
        }
    }
    Err(ApiError::VersionConflict)
}

/// The `meta` object of a list answer: the total number of matches and the page returned
/// (`all=true` is reported as page 1 holding every item returned).
pub fn page_meta(
    request: kyc_store::list::PageRequest,
    total: u64,
    returned: usize,
) -> PageMetaDto {
    use kyc_store::list::PageRequest;
    let (number, size) = match request {
        PageRequest::Page { number, size } => (number, size),
        PageRequest::All => (1, u32::try_from(returned).unwrap_or(u32::MAX)),
    };
    PageMetaDto {
        total,
        page: PageNumberDto { number, size },
    }
}

#[cfg(test)]
mod tests {
    use super::field_or_alias;

    #[test]
    fn a_field_given_under_its_alias_alone_is_read_there_and_both_names_are_a_duplicate() {
        let fields = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
        let pick = |v| field_or_alias(&fields(v), "decision", "action");
        assert_eq!(
            pick(serde_json::json!({ "decision": "approve" })),
            ("decision", false)
        );
        assert_eq!(
            pick(serde_json::json!({ "action": "approve" })),
            ("action", false)
        );
        assert_eq!(
            pick(serde_json::json!({ "decision": 1, "action": 2 })),
            ("decision", true)
        );
        assert_eq!(pick(serde_json::json!({})), ("decision", false));
    }
}
