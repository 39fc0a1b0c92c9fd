//! The compliance review queue. Items belong to a tenant, but operators work the queue across
//! tenants, so these functions take a [`TenantScope`] instead of a bare tenant: the scope is
//! still explicit at every call.
//!
//! Claiming and deciding are optimistic: both name the version the reviewer saw, so when two
//! reviewers act on one item, one wins and the other gets [`StoreError::Conflict`].

use std::{collections::HashMap, fmt};

use diesel::prelude::*;
use kyc_model::{
    ApiKeyId, DocumentId, DocumentVerdict, KycLevel, PersonalIdentityId, ProcessReason,
    ReviewDecision, ReviewId, ReviewKind, ReviewRecord, ReviewStatus, TenantId,
};
use time::OffsetDateTime;

use crate::{
    DbConnection, Keyring, StoreError,
    conn::{MultiBackend, on_backend},
    crypto::Aad,
    list::{Page, PageRequest},
    schema::review_items::{self, dsl as r},
    ts,
    util::{from_json, from_serde_name, parse_id, required, serde_name, to_json},
};

const TABLE: &str = "review_items";

/// Whose items a call may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantScope {
    /// One tenant's items (an integrator's key).
    Tenant(TenantId),
    /// Every tenant's items: only for the operator role.
    AllTenants,
}

/// An item of the review queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    pub id: ReviewId,
    pub tenant_id: TenantId,
    pub kind: ReviewKind,
    pub identity_id: PersonalIdentityId,
    /// For document reviews, the document.
    pub document_id: Option<DocumentId>,
    /// `Pending` until decided, then the decision's outcome.
    pub status: ReviewStatus,
    /// Why it needs a person (e.g. `duplicate`).
    pub reason: Option<ProcessReason>,
    pub claimed_by: Option<ApiKeyId>,
    pub claimed_at: Option<OffsetDateTime>,
    pub decided_by: Option<ApiKeyId>,
    pub decided_at: Option<OffsetDateTime>,
    /// The decision, once made.
    pub verdict: Option<Verdict>,
    /// The identity's level when the decision was made (a rejection caps the level there).
    pub level_at_decision: Option<KycLevel>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

/// What [`insert`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReviewItem {
    pub tenant_id: TenantId,
    pub kind: ReviewKind,
    pub identity_id: PersonalIdentityId,
    pub document_id: Option<DocumentId>,
    pub reason: Option<ProcessReason>,
}

/// A decision, typed by the kind of item: kyc-model's [`ReviewDecision`] for an identity,
/// its [`DocumentVerdict`] for a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Identity(ReviewDecision),
    Document(DocumentVerdict),
}

impl Verdict {
    /// The item status the decision leaves: approved, rejected, or information requested (a
    /// document to resubmit counts as information requested).
    pub const fn status(&self) -> ReviewStatus {
        match self {
            Self::Identity(ReviewDecision::Approve { .. })
            | Self::Document(DocumentVerdict::Approve) => ReviewStatus::Approved,
            Self::Identity(ReviewDecision::Reject { .. })
            | Self::Document(DocumentVerdict::Reject { .. }) => ReviewStatus::Rejected,
            Self::Identity(ReviewDecision::RequestInformation { .. })
            | Self::Document(DocumentVerdict::Resubmit) => ReviewStatus::InformationRequested,
        }
    }

    const fn kind(&self) -> ReviewKind {
        match self {
            Self::Identity(_) => ReviewKind::Identity,
            Self::Document(_) => ReviewKind::Document,
        }
    }
}

/// What [`decide`] records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Must match the item's kind.
    pub verdict: Verdict,
    pub decided_by: ApiKeyId,
    /// The identity's level now.
    pub level_at_decision: KycLevel,
}

/// Filters of the queue listing; `None` means any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReviewFilter {
    pub kind: Option<ReviewKind>,
    pub status: Option<ReviewStatus>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = review_items, treat_none_as_default_value = false)]
struct ReviewRow {
    id: String,
    tenant_id: String,
    kind: String,
    identity_id: String,
    document_id: Option<String>,
    status: String,
    reason: Option<String>,
    claimed_by: Option<String>,
    claimed_at: Option<i64>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    decision_json: Option<String>,
    level_at_decision: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TryFrom<ReviewRow> for ReviewItem {
    type Error = StoreError;

    fn try_from(row: ReviewRow) -> Result<Self, StoreError> {
        let opt_ts = |v: Option<i64>, col| v.map(|ms| ts::from_ms(ms, TABLE, col)).transpose();
        let kind: ReviewKind = from_serde_name(&row.kind, TABLE, "kind")?;
        Ok(Self {
            id: parse_id(&row.id, TABLE, "id")?,
            tenant_id: parse_id(&row.tenant_id, TABLE, "tenant_id")?,
            kind,
            identity_id: parse_id(&row.identity_id, TABLE, "identity_id")?,
            document_id: row
                .document_id
                .map(|d| parse_id(&d, TABLE, "document_id"))
                .transpose()?,
            status: ReviewStatus::from_name(&row.status)
                .ok_or(StoreError::corrupt(TABLE, "status"))?,
            reason: row
                .reason
                .map(|r| from_serde_name(&r, TABLE, "reason"))
                .transpose()?,
            claimed_by: row
                .claimed_by
                .map(|k| parse_id(&k, TABLE, "claimed_by"))
                .transpose()?,
            claimed_at: opt_ts(row.claimed_at, "claimed_at")?,
            decided_by: row
                .decided_by
                .map(|k| parse_id(&k, TABLE, "decided_by"))
                .transpose()?,
            decided_at: opt_ts(row.decided_at, "decided_at")?,
            verdict: row
                .decision_json
                .map(|d| -> Result<Verdict, StoreError> {
                    Ok(match kind {
                        ReviewKind::Identity => {
                            Verdict::Identity(from_json(&d, TABLE, "decision_json")?)
                        }
                        ReviewKind::Document => {
                            Verdict::Document(from_json(&d, TABLE, "decision_json")?)
                        }
                    })
                })
                .transpose()?,
            level_at_decision: row
                .level_at_decision
                .map(|l| {
                    KycLevel::from_name(&l).ok_or(StoreError::corrupt(TABLE, "level_at_decision"))
                })
                .transpose()?,
            created_at: ts::from_ms(row.created_at, TABLE, "created_at")?,
            updated_at: ts::from_ms(row.updated_at, TABLE, "updated_at")?,
            version: row.version,
        })
    }
}

fn scoped(scope: TenantScope) -> review_items::BoxedQuery<'static, MultiBackend> {
    match scope {
        TenantScope::Tenant(t) => review_items::table
            .filter(r::tenant_id.eq(t.to_string()))
            .into_boxed(),
        TenantScope::AllTenants => review_items::table.into_boxed(),
    }
}

/// Queues an item for a live personal identity of `tenant`.
#[tracing::instrument(skip_all, fields(tenant = %new.tenant_id, identity = %new.identity_id))]
pub fn insert(conn: &mut DbConnection, new: &NewReviewItem) -> Result<ReviewItem, StoreError> {
    crate::personal::require_live(conn, new.tenant_id, new.identity_id)?;
    if let Some(doc) = new.document_id {
        let doc = crate::documents::find(conn, new.tenant_id, doc)?;
        if doc.identity_id != new.identity_id {
            return Err(StoreError::NotFound { entity: "document" });
        }
    }
    let now = ts::now_ms();
    let row = ReviewRow {
        id: ReviewId::random().to_string(),
        tenant_id: new.tenant_id.to_string(),
        kind: serde_name(&new.kind)?,
        identity_id: new.identity_id.to_string(),
        document_id: new.document_id.map(|d| d.to_string()),
        status: ReviewStatus::Pending.as_str().to_owned(),
        reason: new.reason.map(|r| r.as_str().to_owned()),
        claimed_by: None,
        claimed_at: None,
        decided_by: None,
        decided_at: None,
        decision_json: None,
        level_at_decision: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(r::review_items)
        .values(&row)
        .execute(conn)?;
    ReviewItem::try_from(row)
}

/// An item within `scope`.
pub fn find(
    conn: &mut DbConnection,
    scope: TenantScope,
    id: ReviewId,
) -> Result<ReviewItem, StoreError> {
    scoped(scope)
        .filter(r::id.eq(id.to_string()))
        .select(ReviewRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound {
            entity: "review_item",
        })
        .and_then(ReviewItem::try_from)
}

/// A page of the queue within `scope`, oldest first (first come, first served), with the total.
pub fn list(
    conn: &mut DbConnection,
    scope: TenantScope,
    filter: ReviewFilter,
    page: PageRequest,
) -> Result<Page<ReviewItem>, StoreError> {
    let filtered = || -> Result<_, StoreError> {
        let mut q = scoped(scope);
        if let Some(kind) = filter.kind {
            q = q.filter(r::kind.eq(serde_name(&kind)?));
        }
        if let Some(status) = filter.status {
            q = q.filter(r::status.eq(status.as_str()));
        }
        Ok(q)
    };
    let total: i64 = filtered()?.count().get_result(conn)?;
    let oldest_first = filtered()?
        .order((r::created_at.asc(), r::id.asc()))
        .select(ReviewRow::as_select());
    let items = crate::conn::paged(oldest_first, page)
        .load(conn)?
        .into_iter()
        .map(ReviewItem::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::new(items, total, page))
}

/// The pending items of one identity of `tenant`, oldest first (so a caller can avoid queueing
/// the same case twice).
pub fn pending_for_identity(
    conn: &mut DbConnection,
    tenant: TenantId,
    identity: PersonalIdentityId,
) -> Result<Vec<ReviewItem>, StoreError> {
    scoped(TenantScope::Tenant(tenant))
        .filter(r::identity_id.eq(identity.to_string()))
        .filter(r::status.eq(ReviewStatus::Pending.as_str()))
        .order((r::created_at.asc(), r::id.asc()))
        .select(ReviewRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ReviewItem::try_from)
        .collect()
}

#[diesel::dsl::auto_type]
fn pending_at(id: String, expected: i64) -> _ {
    review_items::table
        .filter(r::id.eq(id))
        .filter(r::version.eq(expected))
        .filter(r::status.eq("pending"))
}

/// Claims a pending item for `reviewer`, if it is still at `expected_version`. Another
/// reviewer's claim or decision in between is [`StoreError::Conflict`]; an item already
/// decided is `Conflict` too (its version moved on).
#[tracing::instrument(skip_all, fields(id = %id))]
pub fn claim(
    conn: &mut DbConnection,
    scope: TenantScope,
    id: ReviewId,
    expected_version: i64,
    reviewer: ApiKeyId,
) -> Result<ReviewItem, StoreError> {
    find(conn, scope, id)?;
    let now = ts::now_ms();
    let n = diesel::update(pending_at(id.to_string(), expected_version))
        .set((
            r::claimed_by.eq(Some(reviewer.to_string())),
            r::claimed_at.eq(Some(now)),
            r::updated_at.eq(now),
            r::version.eq(expected_version + 1),
        ))
        .execute(conn)?;
    after_versioned_write(conn, scope, id, expected_version, n)
}

/// Decides a pending item, if it is still at `expected_version` (else
/// [`StoreError::Conflict`]). The verdict must fit the item's kind.
#[tracing::instrument(skip_all, fields(id = %id))]
pub fn decide(
    conn: &mut DbConnection,
    scope: TenantScope,
    id: ReviewId,
    expected_version: i64,
    decision: &Decision,
) -> Result<ReviewItem, StoreError> {
    let item = find(conn, scope, id)?;
    if item.kind != decision.verdict.kind() {
        return Err(StoreError::Internal {
            reason: "a review verdict must match the kind of the item",
        });
    }
    let verdict_json = match &decision.verdict {
        Verdict::Identity(d) => to_json(d)?,
        Verdict::Document(v) => to_json(v)?,
    };
    // After every fact of the identity, so the engine orders this decision after them.
    let now = ts::to_ms(crate::checks::next_fact_time(
        conn,
        item.identity_id,
        ts::now(),
    )?);
    let n = diesel::update(pending_at(id.to_string(), expected_version))
        .set((
            r::status.eq(decision.verdict.status().as_str()),
            r::decided_by.eq(Some(decision.decided_by.to_string())),
            r::decided_at.eq(Some(now)),
            r::decision_json.eq(Some(verdict_json)),
            r::level_at_decision.eq(Some(decision.level_at_decision.as_str())),
            r::updated_at.eq(now),
            r::version.eq(expected_version + 1),
        ))
        .execute(conn)?;
    after_versioned_write(conn, scope, id, expected_version, n)
}

/// The decided identity reviews of one identity of `tenant`, oldest first, in the form the
/// tier engine reads them.
pub fn records_for_identity(
    conn: &mut DbConnection,
    tenant: TenantId,
    identity: PersonalIdentityId,
) -> Result<Vec<ReviewRecord>, StoreError> {
    let query = review_items::table
        .filter(r::tenant_id.eq(tenant.to_string()))
        .filter(r::identity_id.eq(identity.to_string()))
        .filter(r::kind.eq(serde_name(&ReviewKind::Identity)?))
        .filter(r::decided_at.is_not_null())
        .order((r::decided_at.asc(), r::id.asc()));
    let items: Vec<ReviewItem> =
        on_backend!(conn, |conn| query.select(ReviewRow::as_select()).load(conn))?
            .into_iter()
            .map(ReviewItem::try_from)
            .collect::<Result<_, _>>()?;
    items
        .into_iter()
        .map(|item| {
            let Some(Verdict::Identity(decision)) = item.verdict else {
                return Err(StoreError::corrupt(TABLE, "decision_json"));
            };
            Ok(ReviewRecord {
                decided_at: required(item.decided_at, TABLE, "decided_at")?,
                decision,
                level_at_decision: required(item.level_at_decision, TABLE, "level_at_decision")?,
            })
        })
        .collect()
}

fn after_versioned_write(
    conn: &mut DbConnection,
    scope: TenantScope,
    id: ReviewId,
    expected: i64,
    rows: usize,
) -> Result<ReviewItem, StoreError> {
    let item = find(conn, scope, id)?;
    if rows == 1 {
        Ok(item)
    } else {
        Err(StoreError::Conflict {
            entity: "review_item",
            expected,
            actual: item.version,
        })
    }
}

/// What a reviewer gave with a decision: a reason code from the operator's configured list and
/// an optional free-text note. The note is sealed at rest and hidden from `Debug`, because a
/// reviewer may type a name or a number into it.
#[derive(Clone, PartialEq, Eq)]
pub struct DecisionNote {
    /// E.g. `documents_verified`; validated by the caller against its configured list.
    pub reason_code: String,
    pub note: Option<String>,
}

impl fmt::Debug for DecisionNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecisionNote")
            .field("reason_code", &self.reason_code)
            .field("note", &self.note.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

pub(crate) fn note_aad(review_id: &str) -> Aad {
    Aad::new(TABLE, "note", review_id)
}

/// Records the reason code and note of a decided item of `scope`; call it in the transaction of
/// [`decide`]. An item that is not decided is `NotFound`: a note only accompanies a decision.
#[tracing::instrument(skip_all, fields(id = %id))]
pub fn set_decision_note(
    conn: &mut DbConnection,
    keys: &Keyring,
    scope: TenantScope,
    id: ReviewId,
    note: &DecisionNote,
) -> Result<(), StoreError> {
    let item = find(conn, scope, id)?;
    if item.decided_at.is_none() {
        return Err(StoreError::NotFound {
            entity: "review_item",
        });
    }
    let id_text = id.to_string();
    let sealed = note
        .note
        .as_ref()
        .map(|text| keys.seal(&note_aad(&id_text), text.as_bytes()))
        .transpose()?;
    let (note_ct, note_key_id) = sealed.map(|s| (s.bytes, s.key_id)).unzip();
    diesel::update(review_items::table.filter(r::id.eq(&id_text)))
        .set((
            r::reason_code.eq(Some(note.reason_code.as_str())),
            r::note_ct.eq(note_ct),
            r::note_key_id.eq(note_key_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// The reason codes and notes of the items `ids` within `scope`, for those that have one.
pub fn decision_notes(
    conn: &mut DbConnection,
    keys: &Keyring,
    scope: TenantScope,
    ids: &[ReviewId],
) -> Result<HashMap<ReviewId, DecisionNote>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
    type NoteRow = (String, Option<String>, Option<Vec<u8>>, Option<String>);
    let rows: Vec<NoteRow> = scoped(scope)
        .filter(r::id.eq_any(&texts))
        .filter(r::reason_code.is_not_null())
        .select((r::id, r::reason_code, r::note_ct, r::note_key_id))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, code, ct, key)| {
            let note = match (ct, key) {
                (Some(ct), Some(key)) => Some(keys.open_text(&key, &note_aad(&id), &ct)?),
                (None, None) => None,
                _ => return Err(StoreError::corrupt(TABLE, "note_ct")),
            };
            Ok((
                parse_id(&id, TABLE, "id")?,
                DecisionNote {
                    reason_code: required(code, TABLE, "reason_code")?,
                    note,
                },
            ))
        })
        .collect()
}
