//! The server's units of work on personal identities: each runs inside one store transaction
//! (`Db::write`), so the data change, its KYC check, the tier engine's new state, the audit
//! entries and the webhook outbox rows commit together or not at all.
//!
//! The rules themselves are not here: validation is `kyc-rules`, verification a
//! `kyc_tiers::Verifier`, levels and review triggers `kyc_tiers::evaluate`. This module only
//! gathers the facts, calls them and records what changed.

use kyc_model::{
    Actor, AuditAction, Document, DocumentId, EventType, KycCheck, KycState, PersonalData,
    PersonalIdentity, PersonalIdentityId, ProcessReason, ReviewKind, ReviewRecord, ReviewStatus,
    TenantId,
};
use kyc_store::{
    DbConnection, audit, checks, containers, documents, personal,
    reviews::{self, NewReviewItem},
    webhooks,
};
use kyc_tiers::{ChangedFields, Evaluation, Facts, VerifyContext, ensure_unlocked};
use serde_json::json;

use crate::{error::ApiError, reply::IfMatch, state::AppState};

/// Everything stored about one personal identity that the tier engine reads.
pub struct Record {
    pub identity: PersonalIdentity,
    pub checks: Vec<KycCheck>,
    pub documents: Vec<Document>,
    pub document_reasons: Vec<(DocumentId, ProcessReason)>,
    pub reviews: Vec<ReviewRecord>,
}

impl Record {
    /// Loads the identity of `tenant` and its facts.
    pub fn load(
        conn: &mut DbConnection,
        state: &AppState,
        tenant: TenantId,
        id: PersonalIdentityId,
    ) -> Result<Self, ApiError> {
        let identity = personal::find(conn, state.db.keys(), tenant, id)?;
        Self::load_facts(conn, tenant, identity)
    }

    fn load_facts(
        conn: &mut DbConnection,
        tenant: TenantId,
        identity: PersonalIdentity,
    ) -> Result<Self, ApiError> {
        let id = identity.id;
        let checks = checks::list_for_identity(conn, tenant, id)?;
        let documents = documents::list_for_identity(conn, tenant, id)?;
        let reviews = reviews::records_for_identity(conn, tenant, id)?;
        let document_reasons = documents::reasons_for_identity(conn, tenant, id)?;
        Ok(Self {
            identity,
            checks,
            documents,
            document_reasons,
            reviews,
        })
    }

    /// Runs the tier engine over the record.
    pub fn evaluate<'p>(&self, state: &'p AppState) -> Evaluation<'p> {
        let facts = Facts {
            checks: &self.checks,
            documents: &self.documents,
            document_reasons: &self.document_reasons,
            reviews: &self.reviews,
            ..Facts::new(&self.identity.data)
        }
        .with_prior(&self.identity.kyc);
        kyc_tiers::evaluate(&facts, &state.policy, state.today())
    }
}

/// A unit of work: its transaction's connection (through `Deref`, for the store's functions)
/// and the audit entries and webhook events it records. They are written when the work is done,
/// still inside the transaction, with one insert per table and one subscription read per
/// tenant: a create used to write three audit rows and read the webhook configuration twice,
/// a round trip each on PostgreSQL. Events nobody subscribes to are never queued, so a tenant
/// without webhooks costs the delivery worker nothing (docs/webhooks.md).
pub struct Unit<'c> {
    conn: &'c mut DbConnection,
    audit: Vec<audit::NewAuditEvent>,
    events: Vec<(TenantId, EventType, serde_json::Value)>,
    /// The identities this unit has written, with the version it wrote: one request moves an
    /// identity on by one version, however many writes it takes (its data, then its state).
    moved: Vec<(PersonalIdentityId, i64)>,
}

impl std::ops::Deref for Unit<'_> {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        self.conn
    }
}

impl std::ops::DerefMut for Unit<'_> {
    fn deref_mut(&mut self) -> &mut DbConnection {
        self.conn
    }
}

impl Unit<'_> {
    /// Runs `work` on `conn` (inside a store transaction: `Db::write`), then writes what it
    /// recorded. Nothing is written when `work` fails.
    pub fn run<T>(
        conn: &mut DbConnection,
        work: impl FnOnce(&mut Unit<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut unit = Unit {
            conn,
            audit: Vec::new(),
            events: Vec::new(),
            moved: Vec::new(),
        };
        let done = work(&mut unit)?;
        unit.flush()?;
        Ok(done)
    }

    /// Records an audit entry, written in order with the unit's others.
    pub fn audit(&mut self, event: audit::NewAuditEvent) {
        self.audit.push(event);
    }

    /// The version a write of `identity` leaves: the next one, unless this unit already
    /// moved it to its current one. Call [`Unit::moved`] after the write.
    fn next_version(&self, identity: &PersonalIdentity) -> i64 {
        if self.moved.contains(&(identity.id, identity.version)) {
            identity.version
        } else {
            identity.version + 1
        }
    }

    fn moved(&mut self, identity: &PersonalIdentity) {
        self.moved.push((identity.id, identity.version));
    }

    /// Records a webhook event, queued in order with the unit's others if the tenant subscribes
    /// to its type. Payloads are thin: ids and what changed, never PII.
    pub fn emit(&mut self, tenant: TenantId, event: EventType, payload: serde_json::Value) {
        self.events.push((tenant, event, payload));
    }

    fn flush(self) -> Result<(), ApiError> {
        let Unit {
            conn,
            audit,
            events,
            moved: _,
        } = self;
        audit::append_all(conn, &audit)?;
        let mut tenants: Vec<TenantId> = events.iter().map(|(tenant, _, _)| *tenant).collect();
        tenants.sort_unstable();
        tenants.dedup();
        for tenant in tenants {
            let wanted = webhooks::subscriptions(conn, tenant)?;
            let due: Vec<_> = events
                .iter()
                .filter(|(t, event, _)| *t == tenant && wanted.contains(event))
                .map(|(_, event, payload)| (*event, payload))
                .collect();
            webhooks::enqueue_all(conn, tenant, &due)?;
        }
        Ok(())
    }
}

/// Reads a personal identity for a change, holding its row lock (PostgreSQL) until the
/// transaction ends, so concurrent changes to one identity queue instead of conflicting.
pub fn find_locked(
    conn: &mut Unit<'_>,
    state: &AppState,
    tenant: TenantId,
    id: PersonalIdentityId,
) -> Result<PersonalIdentity, ApiError> {
    Ok(personal::find_locked(conn, state.db.keys(), tenant, id)?)
}

/// Appends an audit entry.
pub fn audit_identity(
    conn: &mut Unit<'_>,
    identity: &PersonalIdentity,
    actor: Actor,
    action: AuditAction,
    fields: &[&str],
    level_change: Option<(kyc_model::KycLevel, kyc_model::KycLevel)>,
) {
    let mut event =
        audit::NewAuditEvent::for_identity(identity.tenant_id, identity.id, actor, action);
    event.fields = fields.iter().map(|f| (*f).to_owned()).collect();
    event.level_change = level_change;
    conn.audit(event);
}

/// Runs the configured verifier over the identity's current data and records the check.
pub fn run_check(
    conn: &mut Unit<'_>,
    state: &AppState,
    identity: &PersonalIdentity,
    actor: Actor,
) -> Result<KycCheck, ApiError> {
    let check = verify(conn, state, identity.tenant_id, identity.id, &identity.data)?;
    record_check(conn, identity, &check, actor)?;
    Ok(check)
}

/// Runs the configured verifier over `data` of the identity `id` (which need not be stored
/// yet), for a check the caller records in this transaction; reads only, but for the SSN's
/// lock.
fn verify(
    conn: &mut Unit<'_>,
    state: &AppState,
    tenant: TenantId,
    id: PersonalIdentityId,
    data: &PersonalData,
) -> Result<KycCheck, ApiError> {
    let duplicate_ssn = has_duplicate_ssn(conn, state, tenant, id, data)?;
    let mut check = check_of(state, id, data, duplicate_ssn);
    check.performed_at = checks::next_fact_time(conn, id, check.performed_at)?;
    Ok(check)
}

/// Whether another identity of `tenant` holds the SSN of `data` (matched by keyed hash). The
/// caller stores `data` or its check in this transaction, so the SSN is locked first
/// (`personal::lock_ssn`): of two concurrent writes of one SSN, the second sees the first.
fn has_duplicate_ssn(
    conn: &mut Unit<'_>,
    state: &AppState,
    tenant: TenantId,
    id: PersonalIdentityId,
    data: &PersonalData,
) -> Result<bool, ApiError> {
    let Some(ssn) = &data.ssn else {
        return Ok(false);
    };
    let keys = state.db.keys();
    personal::lock_ssn(conn, keys, tenant, ssn)?;
    Ok(!personal::ssn_duplicates(conn, keys, tenant, ssn, Some(id), 1)?.is_empty())
}

/// The configured verifier's check of `data`, given whether its SSN is a duplicate.
fn check_of(
    state: &AppState,
    id: PersonalIdentityId,
    data: &PersonalData,
    duplicate_ssn: bool,
) -> KycCheck {
    let context = VerifyContext {
        today: state.today(),
        duplicate_ssn,
    };
    KycCheck {
        id: kyc_model::CheckId::random(),
        identity_id: id,
        verifier: state.verifier.name().to_owned(),
        performed_at: state.now(),
        outcomes: state.verifier.verify(data, &context),
    }
}

/// Stores a check of `identity` with its audit entry. Every caller inserted the identity or
/// read it locked in this transaction (`checks::insert_of`).
fn record_check(
    conn: &mut Unit<'_>,
    identity: &PersonalIdentity,
    check: &KycCheck,
    actor: Actor,
) -> Result<(), ApiError> {
    checks::insert_of(conn, identity, check)?;
    audit_identity(
        conn,
        identity,
        actor,
        AuditAction::KycCheckCompleted,
        &[],
        None,
    );
    Ok(())
}

/// Re-evaluates the identity and stores its new KYC state when it changed, with the audit
/// entries, outbox events and review-queue item the change calls for.
pub fn settle(
    conn: &mut Unit<'_>,
    state: &AppState,
    identity: PersonalIdentity,
    actor: Actor,
) -> Result<PersonalIdentity, ApiError> {
    let record = Record::load_facts(conn, identity.tenant_id, identity)?;
    settle_record(conn, state, record, actor)
}

/// [`settle`] with the facts already at hand.
fn settle_record(
    conn: &mut Unit<'_>,
    state: &AppState,
    record: Record,
    actor: Actor,
) -> Result<PersonalIdentity, ApiError> {
    let tenant = record.identity.tenant_id;
    let evaluation = record.evaluate(state);
    let new_state = evaluation.kyc_state();
    let mut identity = record.identity;
    if new_state == identity.kyc {
        return Ok(identity);
    }
    let review_reason = review_reason(&evaluation);
    let next = conn.next_version(&identity);
    let written = personal::update_kyc(
        conn,
        tenant,
        identity.id,
        identity.version,
        next,
        &new_state,
    )?;
    let old: KycState = std::mem::replace(&mut identity.kyc, new_state);
    identity.version = written.version;
    identity.updated_at = written.updated_at;
    conn.moved(&identity);
    announce_state(conn, &identity, &old, review_reason, actor)?;
    Ok(identity)
}

/// What a new KYC state of `identity` (stored, replacing `old`) calls for: the level change in
/// the audit trail and the outbox, and an item in the review queue when review became pending.
fn announce_state(
    conn: &mut Unit<'_>,
    identity: &PersonalIdentity,
    old: &KycState,
    review_reason: Option<ProcessReason>,
    actor: Actor,
) -> Result<(), ApiError> {
    let (from, to) = (old.kyc_level, identity.kyc.kyc_level);
    if from != to {
        audit_identity(
            conn,
            identity,
            actor,
            AuditAction::LevelChanged,
            &[],
            Some((from, to)),
        );
        conn.emit(
            identity.tenant_id,
            EventType::KycLevelChanged,
            json!({ "identityId": identity.id, "from": from, "to": to }),
        );
    }
    if identity.kyc.review_status == ReviewStatus::Pending
        && old.review_status != ReviewStatus::Pending
    {
        queue_identity_review(conn, identity, review_reason, actor)?;
    }
    Ok(())
}

/// The reason an identity review names: a duplicate first, else the first process's reason.
fn review_reason(evaluation: &Evaluation<'_>) -> Option<ProcessReason> {
    // A duplicate sends an identity to review even where its ladder does not use the field
    // (an international identity's SSN), so no process names it.
    if evaluation.review_trigger() == Some(kyc_tiers::ReviewTrigger::Duplicate) {
        return Some(ProcessReason::Duplicate);
    }
    let processes = evaluation.processes();
    processes
        .iter()
        .filter_map(|p| p.reason)
        .find(|r| *r == ProcessReason::Duplicate)
        .or_else(|| processes.iter().find_map(|p| p.reason))
}

fn queue_identity_review(
    conn: &mut Unit<'_>,
    identity: &PersonalIdentity,
    reason: Option<ProcessReason>,
    actor: Actor,
) -> Result<(), ApiError> {
    let already = reviews::pending_for_identity(conn, identity.tenant_id, identity.id)?
        .iter()
        .any(|item| item.kind == ReviewKind::Identity);
    if already {
        return Ok(());
    }
    let item = reviews::insert(
        conn,
        &NewReviewItem {
            tenant_id: identity.tenant_id,
            kind: ReviewKind::Identity,
            identity_id: identity.id,
            document_id: None,
            reason,
        },
    )?;
    audit_identity(
        conn,
        identity,
        actor,
        AuditAction::ReviewRequired,
        &[],
        None,
    );
    conn.emit(
        identity.tenant_id,
        EventType::ReviewRequired,
        json!({ "reviewId": item.id, "kind": "identity", "identityId": identity.id, "reason": reason }),
    );
    Ok(())
}

/// The names of the fields a create request provided (for the audit trail).
fn provided_fields(data: &PersonalData) -> Vec<&'static str> {
    let mut fields = vec!["firstName", "lastName", "email", "phone"];
    let optional = [
        ("middleName", data.middle_name.is_some()),
        ("address", data.address.is_some()),
        ("dateOfBirth", data.date_of_birth.is_some()),
        ("ssn", data.ssn.is_some()),
        ("gender", data.gender.is_some()),
        ("dueDiligence", data.due_diligence.is_some()),
    ];
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(name, present)| present.then_some(name)),
    );
    fields
}

/// A new person with its first KYC check and the state it leads to, worked out before the write
/// that stores it: the verifier (which may be a bureau's remote call) and the tier engine then
/// run outside the store's write turn, and the identity is inserted once, in its final state.
pub struct NewPerson {
    id: PersonalIdentityId,
    data: PersonalData,
    check: KycCheck,
    kyc: KycState,
    review_reason: Option<ProcessReason>,
}

impl NewPerson {
    /// Verifies and evaluates `data` as a new identity whose SSN no one else holds; the write
    /// ([`create_person`]) looks for a holder and assesses again if it finds one.
    pub fn prepare(state: &AppState, data: PersonalData) -> Self {
        Self::assess(state, PersonalIdentityId::random(), data, false)
    }

    fn assess(
        state: &AppState,
        id: PersonalIdentityId,
        data: PersonalData,
        duplicate_ssn: bool,
    ) -> Self {
        let check = check_of(state, id, &data, duplicate_ssn);
        let facts = Facts {
            checks: std::slice::from_ref(&check),
            ..Facts::new(&data)
        };
        let evaluation = kyc_tiers::evaluate(&facts, &state.policy, state.today());
        let (kyc, review_reason) = (evaluation.kyc_state(), review_reason(&evaluation));
        Self {
            id,
            data,
            check,
            kyc,
            review_reason,
        }
    }
}

/// `POST /identity-containers`: a container, its person, the first KYC check and the state.
pub fn create_person(
    conn: &mut Unit<'_>,
    state: &AppState,
    tenant: TenantId,
    actor: Actor,
    person: NewPerson,
) -> Result<(kyc_model::IdentityContainer, PersonalIdentity), ApiError> {
    let container = containers::create(conn, tenant)?;
    // The SSN match runs inside the write, so two creates with one SSN cannot miss each other.
    let person = if has_duplicate_ssn(conn, state, tenant, person.id, &person.data)? {
        NewPerson::assess(state, person.id, person.data, true)
    } else {
        person
    };
    let NewPerson {
        id,
        data,
        check,
        kyc,
        review_reason,
    } = person;
    let fields = provided_fields(&data);
    let new = personal::NewPersonalIdentity {
        id,
        tenant_id: tenant,
        container_id: container.id,
        data,
        kyc,
    };
    let identity = personal::insert(conn, state.db.keys(), &new)?;
    audit_identity(
        conn,
        &identity,
        actor,
        AuditAction::IdentityCreated,
        &fields,
        None,
    );
    conn.emit(
        tenant,
        EventType::IdentityCreated,
        json!({ "identityId": identity.id, "containerId": container.id, "type": "person" }),
    );
    record_check(conn, &identity, &check, actor)?;
    announce_state(conn, &identity, &KycState::default(), review_reason, actor)?;
    Ok((container, identity))
}

/// `PATCH /personal-identities/{id}`: applies the patch to the stored data, refusing locked
/// fields of a confirmed identity, re-runs KYC when a KYC field changed, and settles.
pub fn patch_person(
    conn: &mut Unit<'_>,
    state: &AppState,
    tenant: TenantId,
    actor: Actor,
    id: PersonalIdentityId,
    patch: &kyc_rules::PersonalPatch,
    if_match: Option<&IfMatch>,
) -> Result<PersonalIdentity, ApiError> {
    let current = find_locked(conn, state, tenant, id)?;
    if if_match.is_some_and(|expected| !expected.admits(current.version)) {
        return Err(ApiError::VersionConflict);
    }
    let data = patch.apply(&current.data);
    match change_data(conn, state, &current, data, actor, None)? {
        Some(updated) => settle(conn, state, updated, actor),
        None => Ok(current),
    }
}

/// Stores `data` as the identity's data, unless nothing changed (`None`): refuses a locked
/// field of a confirmed identity, records the changed field names in the audit trail and an
/// `identity.updated` event (with `source` where the change did not come from a PATCH), and
/// re-runs the KYC check when a KYC field changed. The caller settles the level.
fn change_data(
    conn: &mut Unit<'_>,
    state: &AppState,
    current: &PersonalIdentity,
    data: kyc_model::PersonalData,
    actor: Actor,
    source: Option<&str>,
) -> Result<Option<PersonalIdentity>, ApiError> {
    let changed = ChangedFields::between(&current.data, &data);
    ensure_unlocked(&current.kyc, &current.data, changed)?;
    if changed.iter().next().is_none() {
        return Ok(None);
    }
    let names: Vec<&str> = changed
        .iter()
        .map(kyc_tiers::PersonalField::as_str)
        .collect();
    let updated = personal::update(
        conn,
        state.db.keys(),
        &PersonalIdentity {
            data,
            ..current.clone()
        },
    )?;
    conn.moved(&updated);
    audit_identity(
        conn,
        &updated,
        actor,
        AuditAction::IdentityUpdated,
        &names,
        None,
    );
    let mut event = json!({ "identityId": updated.id, "changedFields": names });
    if let Some(source) = source {
        event["source"] = json!(source);
    }
    conn.emit(updated.tenant_id, EventType::IdentityUpdated, event);
    if changed.needs_kyc_check() {
        run_check(conn, state, &updated, actor)?;
    }
    Ok(Some(updated))
}

/// `POST /personal-identities/{id}/kyc-checks`: an explicit re-run.
pub fn recheck_person(
    conn: &mut Unit<'_>,
    state: &AppState,
    tenant: TenantId,
    actor: Actor,
    id: PersonalIdentityId,
) -> Result<(KycCheck, PersonalIdentity), ApiError> {
    let identity = find_locked(conn, state, tenant, id)?;
    let check = run_check(conn, state, &identity, actor)?;
    let identity = settle(conn, state, identity, actor)?;
    Ok((check, identity))
}

// Documents (`POST /personal-identities/{id}/documents`) and the sandbox's simulate route.

/// One side of an upload after intake and the quality checks: the metadata-stripped image and
/// its checks.
pub struct CheckedImage {
    pub image: documents::DocumentImage,
    pub checks: Vec<kyc_model::QualityCheck>,
}

/// An upload whose images passed intake and were quality-checked, ready to be stored.
pub struct CheckedUpload {
    pub doc_type: kyc_model::DocumentType,
    pub front: CheckedImage,
    pub back: Option<CheckedImage>,
}

impl CheckedUpload {
    /// The quality verdict over both sides: a side that is a scan or photocopy rejects, any
    /// other failed check asks for a resubmission.
    pub fn quality(&self) -> kyc_docs::Verdict {
        kyc_docs::Verdict::of_images(
            std::iter::once(&self.front)
                .chain(self.back.as_ref())
                .map(|side| kyc_docs::Verdict::from_checks(&side.checks)),
        )
    }

    fn sides(&self) -> Vec<&'static str> {
        let mut sides = vec!["front"];
        if self.back.is_some() {
            sides.push("back");
        }
        sides
    }
}

/// The status of a new upload and the process reason behind it: the quality checks decide
/// first; a document that passes them is the verifier's to decide, else a reviewer's.
pub fn document_outcome(
    quality: &kyc_docs::Verdict,
    verifier: impl FnOnce() -> Option<kyc_model::DocumentVerdict>,
) -> (kyc_model::DocumentStatus, Option<ProcessReason>) {
    use kyc_docs::Verdict;
    use kyc_model::{DocumentStatus, DocumentVerdict};
    match quality {
        Verdict::Rejected(_) => (DocumentStatus::Rejected, None),
        Verdict::Resubmit(_) => (DocumentStatus::Resubmit, None),
        Verdict::Pass => match verifier() {
            Some(DocumentVerdict::Reject { reason }) => (DocumentStatus::Rejected, reason),
            Some(verdict) => (verdict.status(), None),
            None => (DocumentStatus::ManualReviewNeeded, None),
        },
    }
}

/// What an upload stored, and the identity after it.
pub struct Uploaded {
    pub document: Document,
    /// The verifier's reason for a rejection, if it gave one.
    pub reason: Option<ProcessReason>,
    pub identity: PersonalIdentity,
}

/// The identity exists in `tenant` and may upload another document: checked before any image
/// is read, and again inside [`upload_document`]'s transaction.
pub fn may_upload(
    conn: &mut DbConnection,
    state: &AppState,
    tenant: TenantId,
    id: PersonalIdentityId,
) -> Result<(), ApiError> {
    personal::find(conn, state.db.keys(), tenant, id)?;
    let existing = documents::list_for_identity(conn, tenant, id)?;
    kyc_tiers::can_upload(&existing, &state.policy)?;
    Ok(())
}

/// `POST /personal-identities/{id}/documents` after the quality checks: decides the status,
/// stores the document and its sealed images, queues a review when a person must look, records
/// the audit entries and outbox events, and settles the identity's level.
pub fn upload_document(
    conn: &mut Unit<'_>,
    state: &AppState,
    tenant: TenantId,
    actor: Actor,
    id: PersonalIdentityId,
    upload: &CheckedUpload,
) -> Result<Uploaded, ApiError> {
    let identity = find_locked(conn, state, tenant, id)?;
    let existing = documents::list_for_identity(conn, tenant, id)?;
    kyc_tiers::can_upload(&existing, &state.policy)?;
    let (status, reason) = document_outcome(&upload.quality(), || {
        state
            .verifier
            .decide_document(&identity.data, upload.doc_type)
    });
    let document = documents::insert(
        conn,
        state.db.keys(),
        &documents::NewDocument {
            tenant_id: tenant,
            identity_id: id,
            doc_type: upload.doc_type,
            status,
            front_checks: upload.front.checks.clone(),
            back_checks: upload
                .back
                .as_ref()
                .map(|b| b.checks.clone())
                .unwrap_or_default(),
            front: upload.front.image.clone(),
            back: upload.back.as_ref().map(|b| b.image.clone()),
        },
    )?;
    if reason.is_some() {
        documents::set_reason(conn, tenant, document.id, reason)?;
    }
    let mut uploaded =
        audit::NewAuditEvent::for_identity(tenant, id, actor, AuditAction::DocumentUploaded);
    uploaded.document_id = Some(document.id);
    uploaded.fields = upload.sides().into_iter().map(str::to_owned).collect();
    conn.audit(uploaded);
    // The status is kycd's decision (quality checks, verifier), not the uploader's.
    let mut decided = audit::NewAuditEvent::for_identity(
        tenant,
        id,
        Actor::System,
        AuditAction::DocumentStatusChanged,
    );
    decided.document_id = Some(document.id);
    decided.fields = vec!["status".to_owned()];
    conn.audit(decided);
    let reasons = crate::dto::DocumentDto::new(&document, reason).reasons;
    conn.emit(
        tenant,
        EventType::DocumentStatusChanged,
        json!({
            "documentId": document.id,
            "identityId": id,
            "type": document.doc_type,
            "status": document.status,
            "reasons": reasons,
        }),
    );
    if status == kyc_model::DocumentStatus::ManualReviewNeeded {
        queue_document_review(conn, &identity, document.id)?;
    }
    let identity = settle(conn, state, identity, actor)?;
    Ok(Uploaded {
        document,
        reason,
        identity,
    })
}

fn queue_document_review(
    conn: &mut Unit<'_>,
    identity: &PersonalIdentity,
    document: DocumentId,
) -> Result<(), ApiError> {
    let item = reviews::insert(
        conn,
        &NewReviewItem {
            tenant_id: identity.tenant_id,
            kind: ReviewKind::Document,
            identity_id: identity.id,
            document_id: Some(document),
            reason: None,
        },
    )?;
    let mut event = audit::NewAuditEvent::for_identity(
        identity.tenant_id,
        identity.id,
        Actor::System,
        AuditAction::ReviewRequired,
    );
    event.document_id = Some(document);
    conn.audit(event);
    conn.emit(
        identity.tenant_id,
        EventType::ReviewRequired,
        json!({
            "reviewId": item.id,
            "kind": "document",
            "identityId": identity.id,
            "documentId": document,
        }),
    );
    Ok(())
}

/// What the sandbox's simulate route forces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simulation {
    /// Approve at this level (default: the highest level of the identity's ladder).
    Approve(Option<kyc_model::KycLevel>),
    /// Reject as fraud.
    Reject,
}

/// The verifier name on the KYC check a simulated rejection records.
pub const SIMULATE_VERIFIER: &str = "sandbox-simulate";

/// `POST /sandbox/personal-identities/{id}/simulate`: forces an outcome through the same
/// mechanisms a compliance reviewer uses, so levels, events and audit behave as in production.
///
/// - approve: an identity review decided `approve` at the level. The approval vouches for the
///   fields and documents of that level until the identity's KYC data next changes.
/// - reject: a KYC check by `sandbox-simulate` failing every present field as `fraud`, then an
///   identity review decided `reject` (reason `fraud`), which caps the level where it then
///   stands (L0) until a later approval.
///
/// A pending identity review is decided rather than left in the queue.
pub fn simulate_person(
    conn: &mut Unit<'_>,
    state: &AppState,
    tenant: TenantId,
    key: kyc_model::ApiKeyId,
    id: PersonalIdentityId,
    simulation: Simulation,
) -> Result<PersonalIdentity, ApiError> {
    use kyc_model::{FieldOutcome, FieldOutcomes, KycLevel, ReviewDecision};
    let actor = Actor::ApiKey(key);
    let identity = find_locked(conn, state, tenant, id)?;
    let decision = match simulation {
        Simulation::Approve(level) => {
            let region = identity.data.region();
            let level = level
                .or_else(|| {
                    KycLevel::ALL
                        .into_iter()
                        .rev()
                        .find(|&l| state.policy.level_rule(region, l).is_some())
                })
                .unwrap_or(KycLevel::L0);
            if state.policy.level_rule(region, level).is_none() {
                return Err(kyc_tiers::TierError::LevelNotAvailable { level, region }.into());
            }
            ReviewDecision::Approve { level }
        }
        Simulation::Reject => {
            let failed = |present: bool| {
                if present {
                    FieldOutcome::Failed {
                        reason: ProcessReason::Fraud,
                        rule: "sandbox_simulate_reject".to_owned(),
                    }
                } else {
                    FieldOutcome::NotProvided
                }
            };
            let data = &identity.data;
            let check = KycCheck {
                id: kyc_model::CheckId::random(),
                identity_id: id,
                verifier: SIMULATE_VERIFIER.to_owned(),
                performed_at: checks::next_fact_time(conn, id, state.now())?,
                outcomes: FieldOutcomes {
                    phone: failed(true),
                    name: failed(true),
                    address: failed(data.address.is_some()),
                    ssn: failed(data.ssn.is_some()),
                    date_of_birth: failed(data.date_of_birth.is_some()),
                },
            };
            record_check(conn, &identity, &check, actor)?;
            ReviewDecision::Reject {
                reason: Some(ProcessReason::Fraud),
            }
        }
    };
    // The level the decision is made at, as the engine sees the identity now (after the
    // simulated check, for a rejection): a rejection caps the level there.
    let record = Record::load_facts(conn, tenant, identity)?;
    let level_now = record.evaluate(state).level();
    let pending = reviews::pending_for_identity(conn, tenant, id)?
        .into_iter()
        .find(|item| item.kind == ReviewKind::Identity);
    let item = match pending {
        Some(item) => item,
        None => reviews::insert(
            conn,
            &NewReviewItem {
                tenant_id: tenant,
                kind: ReviewKind::Identity,
                identity_id: id,
                document_id: None,
                reason: None,
            },
        )?,
    };
    reviews::decide(
        conn,
        reviews::TenantScope::Tenant(tenant),
        item.id,
        item.version,
        &reviews::Decision {
            verdict: reviews::Verdict::Identity(decision),
            decided_by: key,
            level_at_decision: level_now,
        },
    )?;
    settle_identity_decision(conn, state, record.identity, actor, item.id)
}

/// After review item `review` of `identity` was decided (by a reviewer, or by the sandbox's
/// simulation of one): the audit entry, the new KYC state, and `identity.updated` when the
/// decision changed the `reviewStatus`.
fn settle_identity_decision(
    conn: &mut Unit<'_>,
    state: &AppState,
    identity: PersonalIdentity,
    actor: Actor,
    review: kyc_model::ReviewId,
) -> Result<PersonalIdentity, ApiError> {
    audit_identity(
        conn,
        &identity,
        actor,
        AuditAction::ReviewDecided,
        &["reviewStatus"],
        None,
    );
    let before = identity.kyc.review_status;
    let settled = settle(conn, state, identity, actor)?;
    if settled.kyc.review_status != before {
        conn.emit(
            settled.tenant_id,
            EventType::IdentityUpdated,
            json!({
                "identityId": settled.id,
                "changedFields": ["reviewStatus"],
                "reviewStatus": settled.kyc.review_status,
                "reviewId": review,
            }),
        );
    }
    Ok(settled)
}

/// `PUT /kycs`: records the session in the audit trail and, for an import, the provider's
/// verification as a document (approved, or rejected with the reason), then answers what the
/// session still has to collect.
pub fn start_session(
    conn: &mut Unit<'_>,
    state: &AppState,
    tenant: TenantId,
    actor: Actor,
    request: &kyc_rules::KycSessionRequest,
) -> Result<crate::dto::KycSessionDto, ApiError> {
    use kyc_model::{
        DocumentStatus, DocumentType, EligibilityStatus, KycSessionType, MissingDocument,
    };
    use kyc_rules::ImportDocumentType;

    let mut identity = find_locked(conn, state, tenant, request.user_id)?;
    let session_id = uuid::Uuid::new_v4();
    audit_identity(
        conn,
        &identity,
        actor,
        AuditAction::KycSessionStarted,
        &[],
        None,
    );
    let mut import = None;
    if let (KycSessionType::Import, Some(output)) = (request.kind, &request.output) {
        // An import is a document check like an upload: none once the rejections are used up.
        let existing = documents::list_for_identity(conn, tenant, identity.id)?;
        kyc_tiers::can_upload(&existing, &state.policy)?;
        let verdict = kyc_rules::kyc::check_import(output, state.now())
            .and_then(|()| kyc_rules::kyc::check_import_matches(output, &identity.data));
        let (status, reason) = match verdict {
            Ok(()) => (DocumentStatus::Approved, None),
            Err(failure) => (DocumentStatus::Rejected, Some(failure.reason)),
        };
        if reason.is_none() {
            identity = adopt_imported(conn, state, identity, &output.person, actor)?;
        }
        let doc_type = match output.document.kind {
            ImportDocumentType::Passport => DocumentType::Passport,
            ImportDocumentType::IdCard => DocumentType::IdentificationCard,
            ImportDocumentType::DrivingLicense => DocumentType::License,
            ImportDocumentType::ResidencePermit => DocumentType::ResidencePermit,
        };
        let provider = output.provider.as_str().to_owned();
        let document = documents::insert_imported(
            conn,
            &documents::NewImportedDocument {
                tenant_id: tenant,
                identity_id: identity.id,
                doc_type,
                status,
                reason,
                provider: provider.clone(),
            },
        )?;
        audit_identity(
            conn,
            &identity,
            actor,
            AuditAction::DocumentUploaded,
            &["import"],
            None,
        );
        conn.emit(
            tenant,
            EventType::DocumentStatusChanged,
            json!({
                "identityId": identity.id,
                "documentId": document.id,
                "status": status,
                "reason": reason,
                "source": "import",
            }),
        );
        identity = settle(conn, state, identity, actor)?;
        import = Some(crate::dto::ImportResultDto {
            provider,
            status: if reason.is_none() { "ok" } else { "failed" }.to_owned(),
            reason: reason.map(|r| r.as_str().to_owned()),
            document_id: document.id.to_string(),
        });
    }

    let record = Record::load_facts(conn, tenant, identity)?;
    let evaluation = record.evaluate(state);
    let (mut data, mut docs) = (
        kyc_tiers::FieldSet::default(),
        kyc_tiers::DocumentSet::default(),
    );
    for e in evaluation.eligibility() {
        data = data.union(e.missing_data);
        docs = docs.union(e.missing_documents);
    }
    let mut missing_data: Vec<String> = data
        .iter()
        .map(|f| kyc_tiers::field_name(f).to_owned())
        .collect();
    let mut missing_documents: Vec<MissingDocument> = docs.to_vec();
    match request.kind {
        KycSessionType::Shipping => {
            missing_data = if record.identity.data.address.is_none() {
                vec!["address".to_owned()]
            } else {
                Vec::new()
            };
            missing_documents.clear();
        }
        // Seed 004: a request for information, "for instance a proof of address", on top of
        // whatever else is missing (a reviewer's request included).
        KycSessionType::Rfi if !missing_documents.contains(&MissingDocument::ProofOfAddress) => {
            missing_documents.push(MissingDocument::ProofOfAddress);
        }
        KycSessionType::Full | KycSessionType::Rfi | KycSessionType::Import => {}
    }
    let statuses: Vec<EligibilityStatus> =
        evaluation.eligibility().iter().map(|e| e.status).collect();
    // A shipping session collects an address only: the products' verdicts are not its own.
    // A failed import says so in `import`; the session's status stays the identity's, as
    // `/eligibility` gives it (one failed import does not close the identity's path).
    let judged_by_products = request.kind != KycSessionType::Shipping;
    let status = if judged_by_products && statuses.contains(&EligibilityStatus::Rejected) {
        "rejected"
    } else if judged_by_products && statuses.contains(&EligibilityStatus::PendingReview) {
        "pending-review"
    } else if missing_data.is_empty() && missing_documents.is_empty() {
        "completed"
    } else {
        "requires-data"
    };
    let id = record.identity.id;
    Ok(crate::dto::KycSessionDto {
        id: format!("kyc-{session_id}"),
        identity_id: id.to_string(),
        user_id: format!("usr-{id}"),
        kind: serde_json::to_value(request.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        status: status.to_owned(),
        redirect_uri: request.redirect_uri.as_ref().map(|u| u.as_str().to_owned()),
        missing_data,
        missing_documents: missing_documents
            .iter()
            .map(|d| d.as_str().to_owned())
            .collect(),
        kyc_level: evaluation.level(),
        import,
    })
}

/// The verified date of birth and address of an accepted import, for an identity that has
/// none (SPEC §7: import brings in pre-verified data): stored, audited, announced and checked
/// like a PATCH of those fields ([`change_data`]). What the identity already has was compared
/// with the import ([`kyc_rules::kyc::check_import_matches`]) and stays.
fn adopt_imported(
    conn: &mut Unit<'_>,
    state: &AppState,
    identity: PersonalIdentity,
    person: &kyc_rules::ImportPerson,
    actor: Actor,
) -> Result<PersonalIdentity, ApiError> {
    let mut data = identity.data.clone();
    data.date_of_birth = data.date_of_birth.or(Some(person.birthdate));
    if data.address.is_none() {
        data.address.clone_from(&person.address);
    }
    Ok(change_data(conn, state, &identity, data, actor, Some("import"))?.unwrap_or(identity))
}

// Compliance review decisions (`POST /reviews/{id}/decision`).

/// What a reviewer chose. Which actions fit depends on the item: `approve`, `reject` or
/// `requestInformation` for an identity; `approve`, `reject` or `resubmit` for a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewAction {
    Approve,
    Reject,
    Resubmit,
    RequestInformation,
}

impl ReviewAction {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Resubmit => "resubmit",
            Self::RequestInformation => "requestInformation",
        }
    }
}

/// A reviewer's decision as the request gave it, well formed but not yet matched to the item.
#[derive(Clone, Debug)]
pub struct ReviewerDecision {
    pub action: ReviewAction,
    /// The level an identity is approved at.
    pub level: Option<kyc_model::KycLevel>,
    /// What a request for information asks for.
    pub missing_data: Vec<kyc_model::KycField>,
    pub missing_documents: Vec<kyc_model::MissingDocument>,
    /// The reason code (from the configured list) and the note.
    pub note: reviews::DecisionNote,
}

impl ReviewerDecision {
    /// The request field that asks for something (`missingData` first), if any does.
    fn asked_field(&self) -> Option<&'static str> {
        if !self.missing_data.is_empty() {
            Some("missingData")
        } else if !self.missing_documents.is_empty() {
            Some("missingDocuments")
        } else {
            None
        }
    }
}

/// The process reason a rejection records for a reason code, where one fits: the reason then
/// shows on the identity's processes and documents.
pub fn rejection_reason(reason_code: &str) -> Option<ProcessReason> {
    match reason_code {
        "fraud_suspected" | "fraud" => Some(ProcessReason::Fraud),
        "document_expired" | "expired-document" => Some(ProcessReason::ExpiredDocument),
        "data_mismatch" | "data-mismatch" => Some(ProcessReason::DataMismatch),
        "duplicate_identity" | "duplicate" => Some(ProcessReason::Duplicate),
        "underage" => Some(ProcessReason::Underage),
        "missing-declared-information" => Some(ProcessReason::MissingDeclaredInformation),
        _ => None,
    }
}

fn review_already_decided() -> ApiError {
    ApiError::Conflict {
        code: "review_already_decided",
        message: "This item was already decided.".into(),
    }
}

/// The identity decision a reviewer's request stands for.
fn identity_decision(decision: &ReviewerDecision) -> Result<kyc_model::ReviewDecision, ApiError> {
    use kyc_model::ReviewDecision;
    if decision.action != ReviewAction::RequestInformation
        && let Some(field) = decision.asked_field()
    {
        return Err(ApiError::invalid_field(
            field,
            "not_allowed",
            "only a requestInformation decision lists missing data or documents",
        ));
    }
    if decision.level.is_some() && decision.action != ReviewAction::Approve {
        return Err(ApiError::invalid_field(
            "level",
            "not_allowed",
            "only an approval names a level",
        ));
    }
    match decision.action {
        ReviewAction::Approve => decision
            .level
            .map(|level| ReviewDecision::Approve { level })
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "level",
                    "required",
                    "an identity approval names the level it grants (L1 or L2)",
                )
            }),
        ReviewAction::Reject => Ok(ReviewDecision::Reject {
            reason: rejection_reason(&decision.note.reason_code),
        }),
        ReviewAction::RequestInformation => Ok(ReviewDecision::RequestInformation {
            missing_data: decision.missing_data.clone(),
            missing_documents: decision.missing_documents.clone(),
        }),
        ReviewAction::Resubmit => Err(ApiError::invalid_field(
            "decision",
            "enum",
            "an identity review is decided with approve, reject or requestInformation",
        )),
    }
}

/// The document verdict a reviewer's request stands for.
fn document_verdict(decision: &ReviewerDecision) -> Result<kyc_model::DocumentVerdict, ApiError> {
    use kyc_model::DocumentVerdict;
    if decision.level.is_some() {
        return Err(ApiError::invalid_field(
            "level",
            "not_allowed",
            "a document decision names no level: the tier engine derives it",
        ));
    }
    if let Some(field) = decision.asked_field() {
        return Err(ApiError::invalid_field(
            field,
            "not_allowed",
            "only a requestInformation decision on an identity lists missing data or documents",
        ));
    }
    match decision.action {
        ReviewAction::Approve => Ok(DocumentVerdict::Approve),
        ReviewAction::Resubmit => Ok(DocumentVerdict::Resubmit),
        ReviewAction::Reject => Ok(DocumentVerdict::Reject {
            reason: rejection_reason(&decision.note.reason_code),
        }),
        ReviewAction::RequestInformation => Err(ApiError::invalid_field(
            "decision",
            "enum",
            "a document review is decided with approve, reject or resubmit",
        )),
    }
}

/// `POST /reviews/{id}/decision`: decides a pending review item of any tenant, in one
/// transaction with everything it causes.
///
/// - Identity: the tier engine's [`Evaluation::pending_review`] turns the decision into a
///   review record (an approval's level must exist on the identity's ladder), stored on the
///   item; the identity then settles (level floor or cap, review status, eligibility).
/// - Document: [`kyc_tiers::decide_document`] moves the document out of
///   `manualReviewNeeded`; the attempt rules then count it like any other verdict
///   (resubmits and rejections lead to the upload lockout).
///
/// Either way the reason code and note are recorded (the note sealed), the audit trail gets
/// `review_decided` (and the document's or level's change), and the outbox gets the events.
/// The item is decided optimistically at the version read: when two reviewers decide at
/// once, one wins and the other gets `409 review_already_decided`; `expected_version` (from
/// `If-Match`) makes a stale view `412`.
pub fn decide_review(
    conn: &mut Unit<'_>,
    state: &AppState,
    reviewer: kyc_model::ApiKeyId,
    id: kyc_model::ReviewId,
    expected_version: Option<&IfMatch>,
    decision: &ReviewerDecision,
) -> Result<reviews::ReviewItem, ApiError> {
    use reviews::{Decision, TenantScope, Verdict};
    let scope = TenantScope::AllTenants;
    let item = reviews::find(conn, scope, id)?;
    if expected_version.is_some_and(|e| !e.admits(item.version)) {
        return Err(ApiError::VersionConflict);
    }
    if item.status != ReviewStatus::Pending {
        return Err(review_already_decided());
    }
    let tenant = item.tenant_id;
    let actor = Actor::ApiKey(reviewer);
    let conflict = |err: kyc_store::StoreError| {
        if err.is_conflict() {
            review_already_decided()
        } else {
            err.into()
        }
    };
    let decided = match item.kind {
        ReviewKind::Identity => {
            let wanted = identity_decision(decision)?;
            let identity = find_locked(conn, state, tenant, item.identity_id)?;
            let record = Record::load_facts(conn, tenant, identity)?;
            let pending = record.evaluate(state).pending_review()?;
            let verdict = pending.decide(wanted, state.now())?;
            let decided = reviews::decide(
                conn,
                scope,
                id,
                item.version,
                &Decision {
                    verdict: Verdict::Identity(verdict.decision),
                    decided_by: reviewer,
                    level_at_decision: verdict.level_at_decision,
                },
            )
            .map_err(conflict)?;
            reviews::set_decision_note(conn, state.db.keys(), scope, id, &decision.note)?;
            settle_identity_decision(conn, state, record.identity, actor, id)?;
            decided
        }
        ReviewKind::Document => {
            let verdict = document_verdict(decision)?;
            let document_id = item
                .document_id
                .ok_or_else(|| ApiError::internal("a document review item without its document"))?;
            let identity = find_locked(conn, state, tenant, item.identity_id)?;
            let document = documents::find(conn, tenant, document_id)?;
            let status = kyc_tiers::decide_document(document.status, verdict)?;
            let decided = reviews::decide(
                conn,
                scope,
                id,
                item.version,
                &Decision {
                    verdict: Verdict::Document(verdict),
                    decided_by: reviewer,
                    level_at_decision: identity.kyc.kyc_level,
                },
            )
            .map_err(conflict)?;
            reviews::set_decision_note(conn, state.db.keys(), scope, id, &decision.note)?;
            let document = documents::set_status(conn, tenant, document_id, status)?;
            let reason = match verdict {
                kyc_model::DocumentVerdict::Reject { reason } => reason,
                _ => None,
            };
            if reason.is_some() {
                documents::set_reason(conn, tenant, document_id, reason)?;
            }
            for action in [
                AuditAction::DocumentStatusChanged,
                AuditAction::ReviewDecided,
            ] {
                let mut event =
                    audit::NewAuditEvent::for_identity(tenant, identity.id, actor, action);
                event.document_id = Some(document_id);
                event.fields = vec!["status".to_owned()];
                conn.audit(event);
            }
            let reasons = crate::dto::DocumentDto::new(&document, reason).reasons;
            conn.emit(
                tenant,
                EventType::DocumentStatusChanged,
                json!({
                    "documentId": document.id,
                    "identityId": identity.id,
                    "type": document.doc_type,
                    "status": document.status,
                    "reasons": reasons,
                    "source": "review",
                    "reviewId": id,
                }),
            );
            settle(conn, state, identity, actor)?;
            decided
        }
    };
    tracing::info!(
        review = %id,
        tenant = %tenant,
        kind = ?item.kind,
        decision = decision.action.as_str(),
        reason_code = decision.note.reason_code.as_str(),
        "review decided"
    );
    Ok(decided)
}
