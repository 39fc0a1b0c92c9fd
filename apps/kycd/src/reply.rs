//! A handler's successful answer before it becomes an `HttpResponse`: status, JSON body and the
//! few headers we set. Keeping it as data lets idempotency store and replay it byte for byte.

use actix_web::{HttpResponse, http::StatusCode};

/// Status, JSON body and headers of a successful response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: StatusCode, body: &impl serde::Serialize) -> Self {
        // Serializing our own DTOs cannot fail: they hold only strings, numbers and maps.
        let body = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// `200 OK` with a JSON body.
    pub fn ok(body: &impl serde::Serialize) -> Self {
        Self::json(StatusCode::OK, body)
    }

    /// `201 Created` with a JSON body and its `Location`.
    pub fn created(body: &impl serde::Serialize, location: String) -> Self {
        Self::json(StatusCode::CREATED, body).header("location", location)
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_owned(), value));
        self
    }

    /// Adds the `ETag` of a versioned resource.
    #[must_use]
    pub fn etag(self, version: i64) -> Self {
        self.header("etag", etag(version))
    }

    /// The HTTP response. A success with a body but no version `ETag` (lists, containers, KYC
    /// views, documents, configuration) gets a weak one derived from its body (SPEC §6:
    /// responses carry `ETag`), so a client can tell a changed answer from an unchanged one.
    pub fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/json");
        for (name, value) in &self.headers {
            response.insert_header((name.as_str(), value.as_str()));
        }
        let has_body = self.status.is_success() && self.status != StatusCode::NO_CONTENT;
        if has_body && !self.headers.iter().any(|(n, _)| n == "etag") {
            response.insert_header(("etag", content_etag(&self.body)));
        }
        response.body(self.body)
    }
}

/// A weak `ETag` naming a body's content: `W/"h-"` and 16 hex digits of its SHA-256.
fn content_etag(body: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    format!("W/\"h-{}\"", hex::encode(&digest[..8]))
}

/// The `ETag` of version `version` of a resource.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The versions an `If-Match` header accepts: the condition holds when the resource is at any
/// of them (RFC 9110 §13.1.1: a list of tags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfMatch(std::sync::Arc<[i64]>);

impl IfMatch {
    /// Whether a resource at `version` meets the condition.
    pub fn admits(&self, version: i64) -> bool {
        self.0.contains(&version)
    }

    /// The versions, for a store call that checks them itself.
    pub fn versions(&self) -> &[i64] {
        &self.0
    }
}

/// What an `If-Match` header asks: `None` without the header or for `*`; otherwise the
/// versions its tags name, of which the resource must be at one. A tag that is not one of our
/// version ETags matches nothing, and a weak tag never matches: `If-Match` compares strongly
/// (RFC 9110 §13.1.1); a header naming none of our versions is answered `412` at once.
pub fn if_match(req: &actix_web::HttpRequest) -> Result<Option<IfMatch>, crate::error::ApiError> {
    let Some(value) = req.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let versions: Vec<i64> = text
        .split(',')
        .filter_map(|tag| {
            tag.trim()
                .strip_prefix("\"v")
                .and_then(|rest| rest.strip_suffix('"'))
                .and_then(|digits| digits.parse::<i64>().ok())
        })
        .collect();
    if versions.is_empty() {
        return Err(crate::error::ApiError::VersionConflict);
    }
    Ok(Some(IfMatch(versions.into())))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn if_match_reads_our_etags() {
        let req = |v: &str| {
            TestRequest::default()
                .insert_header(("if-match", v))
                .to_http_request()
        };
        let admits = |v: &str, version: i64| if_match(&req(v)).unwrap().unwrap().admits(version);
        assert!(admits(&etag(7), 7));
        assert!(!admits(&etag(7), 8));
        assert!(if_match(&req("W/\"v7\"")).is_err());
        assert_eq!(if_match(&req("*")).unwrap(), None);
        assert!(if_match(&req("\"something-else\"")).is_err());
        // A list holds when any of its tags matches; weak and foreign tags match nothing.
        assert!(admits("\"v9\", \"v7\"", 7));
        assert!(admits("W/\"v7\", \"x\", \"v9\"", 9));
        assert!(!admits("W/\"v7\", \"v9\"", 7));
        assert_eq!(
            if_match(&TestRequest::default().to_http_request()).unwrap(),
            None
        );
    }

    #[test]
    fn unversioned_answers_carry_a_content_etag() {
        let tag = |body: &serde_json::Value| {
            Reply::ok(body)
                .into_response()
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let a = tag(&serde_json::json!({"data": [1]}));
        assert!(
            a.as_deref()
                .is_some_and(|t| t.starts_with("W/\"h-") && t.len() == 22),
            "{a:?}"
        );
        assert_eq!(a, tag(&serde_json::json!({"data": [1]})));
        assert_ne!(a, tag(&serde_json::json!({"data": [2]})));
        // A versioned resource keeps its version tag; a created one without a version gets a
        // content tag too; an error gets none.
        assert_eq!(
            Reply::ok(&1)
                .etag(3)
                .into_response()
                .headers()
                .get("etag")
                .map(|v| v.to_str().ok()),
            Some(Some("\"v3\""))
        );
        assert!(
            Reply::created(&1, "/x".into())
                .into_response()
                .headers()
                .get("etag")
                .is_some_and(|t| t.as_bytes().starts_with(b"W/\"h-"))
        );
        assert!(
            Reply::json(StatusCode::NOT_FOUND, &1)
                .into_response()
                .headers()
                .get("etag")
                .is_none()
        );
    }
}
