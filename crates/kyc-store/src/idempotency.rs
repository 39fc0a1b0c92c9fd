//! Idempotency records: `(tenant, Idempotency-Key)` → the request's hash and, once done, the
//! response to replay for 24 hours.
//!
//! Protocol for the server (each step its own short transaction, so that other requests see
//! the claim):
//! 1. [`begin`] inserts an `in_progress` claim if none exists (`INSERT ... ON CONFLICT DO
//!    NOTHING`). Exactly one of any number of concurrent requests gets
//!    [`Begin::Started`]; the others get [`Begin::InProgress`] (answer `409`, retry later),
//!    [`Begin::Replay`] once the first finished, or [`Begin::Mismatch`] for another body with the
//!    same key (`422 idempotency_key_reused`).
//! 2. The owner does the work and, in the same transaction as its writes, calls [`complete`]
//!    with the response. So the work and its record commit together or not at all.
//! 3. If the work fails without a response worth replaying, [`abandon`] frees the key.
//!
//! A claim still `in_progress` after [`STALE_CLAIM`] (its request died) may be taken over.
//! Response bodies can hold PII (a created identity), so they are sealed; `resource_id` names
//! the personal identity a response describes, so erasing it deletes the record too.

use std::time::Duration;

use diesel::prelude::*;
use kyc_model::TenantId;
use time::OffsetDateTime;

use crate::{
    DbConnection, Keyring, StoreError,
    crypto::Aad,
    dialect,
    schema::idempotency_records::{self, dsl as i},
    ts,
    util::{from_json, to_json},
};

const TABLE: &str = "idempotency_records";

/// How long a completed response is replayed.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// After this long an `in_progress` claim is presumed dead and can be taken over.
pub const STALE_CLAIM: Duration = Duration::from_secs(5 * 60);

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

/// A response to replay.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// Headers worth replaying (`content-type`, `location`, `etag`), never secrets.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for StoredResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What [`begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// This request owns the key: do the work, then [`complete`] or [`abandon`].
    Started,
    /// Another request with this key is still running.
    InProgress,
    /// The key was used for the same request, which finished: replay this.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
}

#[derive(Insertable)]
#[diesel(table_name = idempotency_records, treat_none_as_default_value = false)]
pub(crate) struct ClaimRow<'a> {
    tenant_id: String,
    idem_key: &'a str,
    request_hash: &'a [u8],
    state: &'static str,
    created_at: i64,
    expires_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_records)]
struct RecordRow {
    request_hash: Vec<u8>,
    state: String,
    response_status: Option<i64>,
    response_headers_json: Option<String>,
    response_ct: Option<Vec<u8>>,
    response_key_id: Option<String>,
    created_at: i64,
}

fn response_aad(tenant: TenantId, key: &str) -> Aad {
    response_aad_raw(&tenant.to_string(), key)
}

pub(crate) fn response_aad_raw(tenant: &str, key: &str) -> Aad {
    Aad::new(TABLE, "response", &format!("{tenant}/{key}"))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[diesel::dsl::auto_type]
fn record(tenant: String, key: String) -> _ {
    i::idempotency_records
        .filter(i::tenant_id.eq(tenant))
        .filter(i::idem_key.eq(key))
}

/// Claims `key` for a request whose canonical form hashes to `request_hash` (method, path and
/// body; computed by the caller). `now` is passed in so expiry can be tested.
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub fn begin(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    key: &str,
    request_hash: &[u8],
    now: OffsetDateTime,
) -> Result<Begin, StoreError> {
    let now_ms = ts::to_ms(now);
    let t = tenant.to_string();
    diesel::delete(record(t.clone(), key.to_owned()).filter(i::expires_at.le(now_ms)))
        .execute(conn)?;
    let claim = ClaimRow {
        tenant_id: t.clone(),
        idem_key: key,
        request_hash,
        state: IN_PROGRESS,
        created_at: now_ms,
        expires_at: now_ms.saturating_add(ms(TTL)),
    };
    if dialect::insert_idempotency_claim(conn, &claim)? {
        return Ok(Begin::Started);
    }
    let Some(row) = record(t.clone(), key.to_owned())
        .select(RecordRow::as_select())
        .get_result(conn)
        .optional()?
    else {
        // The owner abandoned the key between our insert attempt and this read (possible on
        // PostgreSQL): the client's retry will start afresh.
        return Ok(Begin::InProgress);
    };
    if row.request_hash != request_hash {
        return Ok(Begin::Mismatch);
    }
    if row.state == IN_PROGRESS {
        if now_ms.saturating_sub(row.created_at) < ms(STALE_CLAIM) {
            return Ok(Begin::InProgress);
        }
        // Take over a dead claim, unless another request just did.
        let n = diesel::update(
            record(t, key.to_owned())
                .filter(i::state.eq(IN_PROGRESS))
                .filter(i::created_at.eq(row.created_at)),
        )
        .set((
            i::created_at.eq(now_ms),
            i::expires_at.eq(now_ms.saturating_add(ms(TTL))),
        ))
        .execute(conn)?;
        return Ok(if n == 1 {
            Begin::Started
        } else {
            Begin::InProgress
        });
    }
    let (Some(status), Some(ct), Some(key_id)) =
        (row.response_status, row.response_ct, row.response_key_id)
    else {
        return Err(StoreError::corrupt(TABLE, "response_ct"));
    };
    let body = keys.open(&key_id, &response_aad(tenant, key), &ct)?;
    Ok(Begin::Replay(StoredResponse {
        status: u16::try_from(status).map_err(|_| StoreError::corrupt(TABLE, "response_status"))?,
        headers: row
            .response_headers_json
            .map(|h| from_json(&h, TABLE, "response_headers_json"))
            .transpose()?
            .unwrap_or_default(),
        body,
    }))
}

/// Records the response of a request that [`begin`] started. `resource_id` is the personal
/// identity the response describes, if any (so erasure can find the record).
#[tracing::instrument(skip_all, fields(tenant = %tenant, status = response.status))]
pub fn complete(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    key: &str,
    response: &StoredResponse,
    resource_id: Option<&str>,
) -> Result<(), StoreError> {
    let sealed = keys.seal(&response_aad(tenant, key), &response.body)?;
    let n =
        diesel::update(record(tenant.to_string(), key.to_owned()).filter(i::state.eq(IN_PROGRESS)))
            .set((
                i::state.eq(COMPLETED),
                i::response_status.eq(Some(i64::from(response.status))),
                i::response_headers_json.eq(Some(to_json(&response.headers)?)),
                i::response_ct.eq(Some(sealed.bytes)),
                i::response_key_id.eq(Some(sealed.key_id)),
                i::resource_id.eq(resource_id),
            ))
            .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound {
            entity: "idempotency_claim",
        });
    }
    Ok(())
}

/// Frees a key whose request failed, so a retry can run it again.
pub fn abandon(conn: &mut DbConnection, tenant: TenantId, key: &str) -> Result<(), StoreError> {
    diesel::delete(record(tenant.to_string(), key.to_owned()).filter(i::state.eq(IN_PROGRESS)))
        .execute(conn)?;
    Ok(())
}

/// Deletes expired records (a periodic job); returns how many.
pub fn purge_expired(conn: &mut DbConnection, now: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(i::idempotency_records.filter(i::expires_at.le(ts::to_ms(now))))
            .execute(conn)?,
    )
}
