//! `Idempotency-Key` on POST and PUT (SPEC §6): the first request with a key runs and its
//! response is stored (encrypted) for 24 hours; a retry with the same key and the same request
//! replays it; the same key with another request is `422 idempotency_key_reused`. Concurrent
//! requests with one key run once: the others wait for the first and replay it. A refusal of
//! the request (`ApiError::is_refusal`: it was malformed, or conflicted with the data) is a
//! response like any other and is replayed too, with the retry's own `requestId`; a failure of
//! the service (`5xx`) frees the key, so that a retry runs again.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, ResponseError as _, http::StatusCode};
use kyc_store::idempotency::{self, Begin, StoredResponse};
use sha2::{Digest, Sha256};

use crate::{
    auth::Caller,
    error::ApiError,
    reply::Reply,
    state::{AppState, blocking},
};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on replayed responses.
pub const REPLAYED: &str = "idempotent-replayed";

/// How long a concurrent duplicate waits for the first request to finish.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(key.to_owned()))
        }
        _ => Err(ApiError::invalid_field(
            "Idempotency-Key",
            "format",
            "must be 1-255 printable ASCII characters",
        )),
    }
}

fn request_hash(req: &HttpRequest, body: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(req.method().as_str());
    hash.update(b"\n");
    hash.update(req.path());
    hash.update(b"\n");
    hash.update(req.query_string());
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().to_vec()
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let body = if status.is_client_error() {
        with_own_request_id(stored.body)
    } else {
        stored.body
    };
    Reply {
        status,
        body,
        headers: stored.headers,
    }
    .header(REPLAYED, "true".to_owned())
    .into_response()
}

/// A stored error body with the `requestId` of the request replaying it, so that the body's id
/// is the `x-request-id` of the response carrying it, as on every other error.
fn with_own_request_id(body: Vec<u8>) -> Vec<u8> {
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return body;
    };
    match json.pointer_mut("/error/requestId") {
        Some(id) => *id = serde_json::Value::String(crate::observe::request_id()),
        None => return body,
    }
    serde_json::to_vec(&json).unwrap_or(body)
}

/// Runs `work` at most once per idempotency key (when the request has one).
pub async fn run<F, Fut>(
    state: &actix_web::web::Data<AppState>,
    caller: &Caller,
    req: &HttpRequest,
    body: &[u8],
    resource_id: impl Fn(&Reply) -> Option<String>,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let Some(key) = key_of(req)? else {
        return work().await.map(Reply::into_response);
    };
    let hash = request_hash(req, body);
    let tenant = caller.tenant;
    let started = std::time::Instant::now();
    loop {
        let (db, key, hash) = (state.db.clone(), key.clone(), hash.clone());
        let now = state.now();
        let begun = blocking(move || {
            Ok(db.write(|conn| idempotency::begin(conn, db.keys(), tenant, &key, &hash, now))?)
        })
        .await?;
        match begun {
            Begin::Started => break,
            Begin::Replay(stored) => return Ok(replay(stored)),
            Begin::Mismatch => {
                return Err(ApiError::Unprocessable {
                    code: "idempotency_key_reused",
                    message: "This Idempotency-Key was used with a different request.".into(),
                    details: None,
                });
            }
            Begin::InProgress if started.elapsed() < WAIT => tokio::time::sleep(POLL).await,
            Begin::InProgress => {
                return Err(ApiError::Conflict {
                    code: "idempotency_request_in_progress",
                    message: "A request with this Idempotency-Key is still being processed.".into(),
                });
            }
        }
    }
    let outcome = work().await;
    let (stored, resource) = match &outcome {
        Ok(reply) => (
            StoredResponse {
                status: reply.status.as_u16(),
                headers: reply.headers.clone(),
                body: reply.body.clone(),
            },
            resource_id(reply),
        ),
        Err(err) if err.is_refusal() => (
            StoredResponse {
                status: err.status_code().as_u16(),
                headers: Vec::new(),
                // A JSON value always serializes.
                body: serde_json::to_vec(&err.body()).unwrap_or_default(),
            },
            None,
        ),
        Err(_) => {
            let db = state.db.clone();
            blocking(move || Ok(db.write(|conn| idempotency::abandon(conn, tenant, &key))?))
                .await?;
            return outcome.map(Reply::into_response);
        }
    };
    let db = state.db.clone();
    blocking(move || {
        Ok(db.write(|conn| {
            idempotency::complete(conn, db.keys(), tenant, &key, &stored, resource.as_deref())
        })?)
    })
    .await?;
    outcome.map(Reply::into_response)
}
