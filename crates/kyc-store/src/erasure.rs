//! Erasure (`DELETE /personal-identities/{id}`): every personal value of the identity goes,
//! and an audit tombstone without PII stays.
//!
//! Removed: the identity's data columns (names, email, phone, address, sealed SSN and date of
//! birth, the SSN's blind index, gender, due diligence), its documents and their images, its
//! KYC check results, its review items, and the idempotency records whose replayable response
//! described it. Kept: the row's id, tenant, container, level and timestamps (business
//! identities and the audit trail refer to it; none is PII), the audit trail (field names
//! only), outbox events (ids only). On SQLite, `secure_delete` zeroes what was removed, and
//! [`crate::Db::erase_personal_identity`] then truncates the WAL so nothing remains in either
//! file.

use diesel::prelude::*;
use kyc_model::{Actor, AuditAction, PersonalIdentityId, TenantId};

use crate::{
    DbConnection, StoreError,
    audit::{self, NewAuditEvent},
    personal::ErasedColumns,
    schema::{
        document_images::dsl as img, documents::dsl as d, idempotency_records::dsl as i,
        kyc_checks::dsl as c, personal_identities::dsl as p, review_items::dsl as r,
    },
    ts,
};

/// What an erasure removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasureReport {
    pub documents: usize,
    pub images: usize,
    pub kyc_checks: usize,
    pub review_items: usize,
    pub idempotency_records: usize,
}

/// Erases a live personal identity of `tenant` and appends the `identity_erased` tombstone
/// by `actor`; with `expected_versions` (an `If-Match`), only if the identity is still at one
/// of those versions (else [`StoreError::Conflict`], nothing erased). Run it in a write transaction; on
/// SQLite follow the commit with [`crate::Db::scrub_wal`] (or use
/// [`crate::Db::erase_personal_identity`], which does both).
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = %id))]
pub fn erase_personal_identity(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: PersonalIdentityId,
    actor: Actor,
    expected_versions: Option<&[i64]>,
) -> Result<ErasureReport, StoreError> {
    let version = crate::personal::lock(conn, tenant, id)?;
    if let Some(expected) = expected_versions.filter(|vs| !vs.contains(&version)) {
        return Err(StoreError::Conflict {
            entity: "personal_identity",
            expected: expected.first().copied().unwrap_or_default(),
            actual: version,
        });
    }
    let t = tenant.to_string();
    let pid = id.to_string();
    let doc_ids: Vec<String> = d::documents
        .filter(d::tenant_id.eq(&t))
        .filter(d::identity_id.eq(&pid))
        .select(d::id)
        .load(conn)?;
    let review_ids: Vec<String> = r::review_items
        .filter(r::tenant_id.eq(&t))
        .filter(r::identity_id.eq(&pid))
        .select(r::id)
        .load(conn)?;
    let mut report = ErasureReport {
        review_items: diesel::delete(r::review_items.filter(r::id.eq_any(&review_ids)))
            .execute(conn)?,
        ..ErasureReport::default()
    };
    report.images = diesel::delete(img::document_images.filter(img::document_id.eq_any(&doc_ids)))
        .execute(conn)?;
    report.documents = diesel::delete(d::documents.filter(d::id.eq_any(&doc_ids))).execute(conn)?;
    report.kyc_checks = diesel::delete(
        c::kyc_checks
            .filter(c::tenant_id.eq(&t))
            .filter(c::identity_id.eq(&pid)),
    )
    .execute(conn)?;
    // The replayable answers that describe the identity: those of requests about it, and of
    // requests about its documents and review items (a review decision's answer holds the
    // identity's data), whichever tenant made them (operators decide from their own tenant).
    // The ids are random: only records about this identity name them.
    let described: Vec<&String> = std::iter::once(&pid)
        .chain(&doc_ids)
        .chain(&review_ids)
        .collect();
    report.idempotency_records =
        diesel::delete(i::idempotency_records.filter(i::resource_id.eq_any(described)))
            .execute(conn)?;
    let now = ts::now_ms();
    diesel::update(
        p::personal_identities
            .filter(p::id.eq(&pid))
            .filter(p::tenant_id.eq(&t)),
    )
    .set((&ErasedColumns::at(now), p::version.eq(p::version + 1)))
    .execute(conn)?;
    crate::personal::count_live(conn, &t, id, -1)?;
    audit::append(
        conn,
        &NewAuditEvent::for_identity(tenant, id, actor, AuditAction::IdentityErased),
    )?;
    Ok(report)
}
