//! KYC checks, documents, review items and the audit trail.

use std::time::Duration;

use kyc_model::{
    Actor, ApiKeyId, AuditAction, CheckId, DocumentId, DocumentStatus, DocumentType,
    DocumentVerdict, FieldOutcome, FieldOutcomes, KycCheck, KycField, KycLevel, MissingDocument,
    ProcessReason, QualityCheck, QualityCode, ReviewDecision, ReviewId, ReviewKind, ReviewStatus,
};
use kyc_store::{
    StoreError,
    audit::{self, NewAuditEvent},
    checks,
    documents::{self, DocumentImage, ImageSide, NewDocument},
    list::PageRequest,
    reviews::{self, Decision, NewReviewItem, ReviewFilter, TenantScope, Verdict},
};

use crate::{both_backends, common::*};

fn check(
    identity: kyc_model::PersonalIdentityId,
    at: time::OffsetDateTime,
    ssn_failed: bool,
) -> KycCheck {
    KycCheck {
        id: CheckId::random(),
        identity_id: identity,
        verifier: "builtin".into(),
        performed_at: at,
        outcomes: FieldOutcomes {
            phone: FieldOutcome::Passed,
            name: FieldOutcome::Passed,
            address: FieldOutcome::NotProvided,
            ssn: if ssn_failed {
                FieldOutcome::Failed {
                    reason: ProcessReason::Duplicate,
                    rule: "duplicate".into(),
                }
            } else {
                FieldOutcome::Passed
            },
            date_of_birth: FieldOutcome::Passed,
        },
    }
}

/// Built through serde so the test does not depend on every field of the struct.
pub fn quality(code: QualityCode, measured: f64) -> QualityCheck {
    serde_json::from_value(serde_json::json!({
        "code": code, "passed": true, "measured": measured, "threshold": 0.1 + 0.2,
        "warning": "below recommended",
    }))
    .unwrap()
}

pub fn new_document(
    t: kyc_model::TenantId,
    identity: kyc_model::PersonalIdentityId,
    marker: &[u8],
) -> NewDocument {
    let mut front = b"\xFF\xD8\xFF\xE0 front ".to_vec();
    front.extend_from_slice(marker);
    let mut back = b"\x89PNG back ".to_vec();
    back.extend_from_slice(marker);
    NewDocument {
        tenant_id: t,
        identity_id: identity,
        doc_type: DocumentType::License,
        status: DocumentStatus::ManualReviewNeeded,
        front_checks: vec![
            quality(QualityCode::Blur, 123.456_789_012_345),
            quality(QualityCode::Glare, 1.0 / 3.0),
        ],
        back_checks: vec![quality(QualityCode::Resolution, 1200.0)],
        front: DocumentImage {
            content_type: "image/jpeg".into(),
            bytes: front,
        },
        back: Some(DocumentImage {
            content_type: "image/png".into(),
            bytes: back,
        }),
    }
}

both_backends! {
    fn kyc_checks_latest_first(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let p = identity(db, t, person(1));
        let now = kyc_store::now();
        let first = check(p.id, now - Duration::from_secs(60), true);
        let second = check(p.id, now, false);
        db.write(|c| checks::insert(c, t, &first)).unwrap();
        db.write(|c| checks::insert(c, t, &second)).unwrap();
        let listed = db.run(|c| checks::list_for_identity(c, t, p.id)).unwrap();
        assert_eq!(listed, vec![second.clone(), first.clone()]);
        assert!(db.run(|c| checks::list_for_identity(c, other, p.id)).unwrap().is_empty());
        assert!(db.write(|c| checks::insert(c, other, &check(p.id, now, false))).unwrap_err().is_not_found());
        let nobody = kyc_model::PersonalIdentityId::random();
        assert!(db.write(|c| checks::insert(c, t, &check(nobody, now, false))).unwrap_err().is_not_found());
        // For an identity the transaction holds: stored under the identity's tenant, and only
        // a check of that identity.
        let third = check(p.id, now + Duration::from_secs(60), false);
        db.write(|c| checks::insert_of(c, &p, &third)).unwrap();
        assert_eq!(db.run(|c| checks::list_for_identity(c, t, p.id)).unwrap()[0], third);
        let q = identity(db, t, person(2));
        assert!(matches!(db.write(|c| checks::insert_of(c, &q, &check(p.id, now, false))), Err(StoreError::Internal { .. })));
        assert!(db.run(|c| checks::list_for_identity(c, t, q.id)).unwrap().is_empty());
        db.db.erase_personal_identity(t, p.id, Actor::System, None).unwrap();
        assert!(db.write(|c| checks::insert(c, t, &check(p.id, now, true))).unwrap_err().is_not_found(), "erased");
        assert!(db.run(|c| checks::list_for_identity(c, t, p.id)).unwrap().is_empty());
    }

    /// Migration 000012 rebuilds `kyc_checks` around an appended `seq` (SQLite) or adds it
    /// (PostgreSQL): down and up again over stored checks keeps every check as it was.
    fn the_checks_migration_keeps_stored_checks(db) {
        let t = tenant(db, "acme");
        let p = identity(db, t, person(1));
        let now = kyc_store::now();
        for (minutes, failed) in [(3, true), (2, false), (1, true)] {
            let at = now - Duration::from_secs(60 * minutes);
            db.write(|c| checks::insert(c, t, &check(p.id, at, failed))).unwrap();
        }
        let before = db.run(|c| checks::list_for_identity(c, t, p.id)).unwrap();
        let (down, up) = match db.backend() {
            kyc_store::Backend::Sqlite => (
                include_str!("../../migrations/sqlite/2026-12-07-000012_checks_by_seq/down.sql"),
                include_str!("../../migrations/sqlite/2026-12-07-000012_checks_by_seq/up.sql"),
            ),
            kyc_store::Backend::Postgres => (
                include_str!("../../migrations/postgres/2026-12-07-000012_checks_by_seq/down.sql"),
                include_str!("../../migrations/postgres/2026-12-07-000012_checks_by_seq/up.sql"),
            ),
        };
        for sql in [down, up] {
            db.write(|c| Ok(diesel::connection::SimpleConnection::batch_execute(c, sql)?)).unwrap();
            assert_eq!(db.run(|c| checks::list_for_identity(c, t, p.id)).unwrap(), before);
        }
        assert_eq!(before.len(), 3);
    }

    /// Facts of one identity recorded in one millisecond (two units of one SQLite batch) still
    /// get distinct, ordered times: a check or decision comes after the latest fact, whatever
    /// the clock says.
    fn facts_of_an_identity_are_ordered_in_time(db) {
        let t = tenant(db, "acme");
        let p = identity(db, t, person(1));
        let q = identity(db, t, person(2));
        let now = kyc_store::now();
        let next = |id| db.write(|c| checks::next_fact_time(c, id, now)).unwrap();
        assert_eq!(next(p.id), now, "no fact yet");
        let ahead = now + Duration::from_secs(5);
        db.write(|c| checks::insert(c, t, &check(p.id, ahead, false))).unwrap();
        assert_eq!(next(p.id), ahead + Duration::from_millis(1), "after a later check");
        assert_eq!(next(q.id), now, "another identity's facts do not count");
        let item = db.write(|c| reviews::insert(c, &NewReviewItem {
            tenant_id: t, kind: ReviewKind::Identity, identity_id: p.id, document_id: None, reason: None,
        })).unwrap();
        let decided = db.write(|c| reviews::decide(c, TenantScope::Tenant(t), item.id, 1, &Decision {
            verdict: Verdict::Identity(ReviewDecision::Approve { level: KycLevel::L1 }),
            decided_by: ApiKeyId::random(),
            level_at_decision: KycLevel::L0,
        })).unwrap();
        assert_eq!(decided.decided_at, Some(ahead + Duration::from_millis(1)), "a decision after the check");
        assert_eq!(next(p.id), ahead + Duration::from_millis(2), "a check after the decision");
        let upload = db.write(|c| documents::insert(c, db.keys(), &new_document(t, p.id, b"p"))).unwrap();
        assert_eq!(upload.created_at, ahead + Duration::from_millis(2), "an upload after the decision");
        db.write(|c| documents::insert(c, db.keys(), &new_document(t, q.id, b"q"))).unwrap();
        assert!(next(q.id) > now, "after an upload of this millisecond");
    }

    fn documents_and_sealed_images(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let p = identity(db, t, person(1));
        let new = new_document(t, p.id, b"IMAGEMARKER");
        let doc = db.write(|c| documents::insert(c, db.keys(), &new)).unwrap();
        assert_eq!(doc.front_checks, new.front_checks, "f64 measurements read back exactly");
        assert_eq!(db.run(|c| documents::find(c, t, doc.id)).unwrap(), doc);
        let front = db.run(|c| documents::image(c, db.keys(), t, doc.id, ImageSide::Front)).unwrap();
        assert_eq!(front, new.front);
        let back = db.run(|c| documents::image(c, db.keys(), t, doc.id, ImageSide::Back)).unwrap();
        assert_eq!(back, new.back.clone().unwrap());
        assert!(!format!("{front:?}").contains("MARKER"));

        let mut passport = new_document(t, p.id, b"P");
        passport.doc_type = DocumentType::Passport;
        passport.back = None;
        passport.back_checks = Vec::new();
        let pass = db.write(|c| documents::insert(c, db.keys(), &passport)).unwrap();
        assert!(db.run(|c| documents::image(c, db.keys(), t, pass.id, ImageSide::Back)).unwrap_err().is_not_found());
        let listed = db.run(|c| documents::list_for_identity(c, t, p.id)).unwrap();
        // Newest first; two documents stored within one millisecond are ordered by id.
        let mut expected = [&pass, &doc];
        expected.sort_by_key(|d| std::cmp::Reverse((d.created_at, d.id.to_string())));
        assert_eq!(listed.iter().map(|d| d.id).collect::<Vec<_>>(), expected.map(|d| d.id));

        let approved = db.write(|c| documents::set_status(c, t, doc.id, DocumentStatus::Approved)).unwrap();
        assert_eq!(approved.status, DocumentStatus::Approved);
        assert!(approved.updated_at >= doc.updated_at);

        // Tenant scope everywhere.
        assert!(db.run(|c| documents::find(c, other, doc.id)).unwrap_err().is_not_found());
        assert!(db.run(|c| documents::image(c, db.keys(), other, doc.id, ImageSide::Front)).unwrap_err().is_not_found());
        assert!(db.run(|c| documents::list_for_identity(c, other, p.id)).unwrap().is_empty());
        assert!(db.write(|c| documents::set_status(c, other, doc.id, DocumentStatus::Rejected)).unwrap_err().is_not_found());
        assert!(db.write(|c| documents::insert(c, db.keys(), &new_document(other, p.id, b"x"))).unwrap_err().is_not_found());
        assert!(db.run(|c| documents::find(c, t, DocumentId::random())).unwrap_err().is_not_found());
    }

    fn imported_documents_and_rejection_reasons(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let p = identity(db, t, person(1));
        let imported = documents::NewImportedDocument {
            tenant_id: t,
            identity_id: p.id,
            doc_type: DocumentType::Passport,
            status: DocumentStatus::Rejected,
            reason: Some(ProcessReason::ExpiredDocument),
            provider: "veriff".into(),
        };
        let doc = db.write(|c| documents::insert_imported(c, &imported)).unwrap();
        assert_eq!(doc.status, DocumentStatus::Rejected);
        assert!(doc.front_checks.is_empty() && doc.back_checks.is_empty());
        assert_eq!(db.run(|c| documents::provider(c, t, doc.id)).unwrap().as_deref(), Some("veriff"));
        assert!(db.run(|c| documents::image(c, db.keys(), t, doc.id, ImageSide::Front)).unwrap_err().is_not_found());
        let upload = db.write(|c| documents::insert(c, db.keys(), &new_document(t, p.id, b"x"))).unwrap();
        assert_eq!(db.run(|c| documents::provider(c, t, upload.id)).unwrap(), None);
        db.write(|c| documents::set_reason(c, t, upload.id, Some(ProcessReason::Fraud))).unwrap();
        let mut reasons = db.run(|c| documents::reasons_for_identity(c, t, p.id)).unwrap();
        reasons.sort();
        let mut expected = vec![(doc.id, ProcessReason::ExpiredDocument), (upload.id, ProcessReason::Fraud)];
        expected.sort();
        assert_eq!(reasons, expected);
        db.write(|c| documents::set_reason(c, t, upload.id, None)).unwrap();
        assert_eq!(db.run(|c| documents::reasons_for_identity(c, t, p.id)).unwrap(), vec![(doc.id, ProcessReason::ExpiredDocument)]);
        // Tenant-scoped like every other query.
        assert!(db.run(|c| documents::reasons_for_identity(c, other, p.id)).unwrap().is_empty());
        assert!(db.write(|c| documents::set_reason(c, other, doc.id, None)).unwrap_err().is_not_found());
        assert!(db.run(|c| documents::provider(c, other, doc.id)).unwrap_err().is_not_found());
        assert!(db.write(|c| documents::insert_imported(c, &documents::NewImportedDocument { tenant_id: other, ..imported.clone() })).unwrap_err().is_not_found());
    }

    fn review_queue_claim_and_decide(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let p = identity(db, t, person(1));
        let q = identity(db, other, person(2));
        let doc = db.write(|c| documents::insert(c, db.keys(), &new_document(t, p.id, b"x"))).unwrap();
        let first = db.write(|c| reviews::insert(c, &NewReviewItem {
            tenant_id: t, kind: ReviewKind::Identity, identity_id: p.id, document_id: None, reason: Some(ProcessReason::Duplicate),
        })).unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let second = db.write(|c| reviews::insert(c, &NewReviewItem {
            tenant_id: t, kind: ReviewKind::Document, identity_id: p.id, document_id: Some(doc.id), reason: None,
        })).unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let theirs = db.write(|c| reviews::insert(c, &NewReviewItem {
            tenant_id: other, kind: ReviewKind::Identity, identity_id: q.id, document_id: None, reason: None,
        })).unwrap();
        assert_eq!(first.status, ReviewStatus::Pending);
        assert_eq!(first.reason, Some(ProcessReason::Duplicate));
        assert_eq!(db.run(|c| reviews::find(c, TenantScope::Tenant(t), first.id)).unwrap(), first);
        assert!(db.run(|c| reviews::find(c, TenantScope::Tenant(other), first.id)).unwrap_err().is_not_found());
        assert_eq!(db.run(|c| reviews::find(c, TenantScope::AllTenants, theirs.id)).unwrap(), theirs);

        // Listing: oldest first, filtered, scoped.
        let all = db.run(|c| reviews::list(c, TenantScope::AllTenants, ReviewFilter::default(), PageRequest::default())).unwrap();
        assert_eq!(all.items.iter().map(|r| r.id).collect::<Vec<_>>(), vec![first.id, second.id, theirs.id]);
        let mine = db.run(|c| reviews::list(c, TenantScope::Tenant(t), ReviewFilter::default(), PageRequest::default())).unwrap();
        assert_eq!(mine.total, 2);
        let docs = db.run(|c| reviews::list(c, TenantScope::AllTenants, ReviewFilter { kind: Some(ReviewKind::Document), status: None }, PageRequest::default())).unwrap();
        assert_eq!(docs.items, vec![second.clone()]);
        assert_eq!(db.run(|c| reviews::pending_for_identity(c, t, p.id)).unwrap().len(), 2);
        assert!(db.run(|c| reviews::pending_for_identity(c, other, p.id)).unwrap().is_empty());

        // Two reviewers claim the same version: one wins, the other gets a conflict.
        let (r1, r2) = (ApiKeyId::random(), ApiKeyId::random());
        let claimed = db.write(|c| reviews::claim(c, TenantScope::AllTenants, first.id, 1, r1)).unwrap();
        assert_eq!((claimed.claimed_by, claimed.version), (Some(r1), 2));
        match db.write(|c| reviews::claim(c, TenantScope::AllTenants, first.id, 1, r2)) {
            Err(StoreError::Conflict { entity: "review_item", expected: 1, actual: 2 }) => {}
            other => panic!("expected a conflict, got {other:?}"),
        }
        // Deciding: the same rule.
        let decision = Decision {
            verdict: Verdict::Identity(ReviewDecision::Approve { level: KycLevel::L1 }),
            decided_by: r1,
            level_at_decision: KycLevel::L0,
        };
        let decided = db.write(|c| reviews::decide(c, TenantScope::Tenant(t), first.id, 2, &decision)).unwrap();
        assert_eq!(decided.status, ReviewStatus::Approved);
        assert_eq!(decided.decided_by, Some(r1));
        assert_eq!(decided.verdict, Some(decision.verdict.clone()));
        assert_eq!(decided.level_at_decision, Some(KycLevel::L0));
        assert_eq!(db.run(|c| reviews::find(c, TenantScope::AllTenants, first.id)).unwrap(), decided);
        assert!(db.write(|c| reviews::decide(c, TenantScope::Tenant(t), first.id, 2, &decision)).unwrap_err().is_conflict());
        assert!(db.write(|c| reviews::decide(c, TenantScope::Tenant(t), first.id, 3, &decision)).unwrap_err().is_conflict(), "already decided");
        assert!(db.write(|c| reviews::decide(c, TenantScope::Tenant(other), second.id, 1, &decision)).unwrap_err().is_not_found());
        // A verdict of the wrong kind is refused; the right one decides the document item.
        assert!(matches!(
            db.write(|c| reviews::decide(c, TenantScope::Tenant(t), second.id, 1, &decision)),
            Err(StoreError::Internal { .. })
        ));
        let resubmit = Decision { verdict: Verdict::Document(DocumentVerdict::Resubmit), ..decision.clone() };
        let doc_decided = db.write(|c| reviews::decide(c, TenantScope::Tenant(t), second.id, 1, &resubmit)).unwrap();
        assert_eq!(doc_decided.status, ReviewStatus::InformationRequested);
        // The tier engine's view: decided identity reviews, oldest first.
        let third = db.write(|c| reviews::insert(c, &NewReviewItem {
            tenant_id: t, kind: ReviewKind::Identity, identity_id: p.id, document_id: None, reason: None,
        })).unwrap();
        let ask = ReviewDecision::RequestInformation { missing_data: vec![KycField::Address], missing_documents: vec![MissingDocument::ProofOfAddress] };
        db.write(|c| reviews::decide(c, TenantScope::Tenant(t), third.id, 1, &Decision {
            verdict: Verdict::Identity(ask.clone()), decided_by: r2, level_at_decision: KycLevel::L1,
        })).unwrap();
        let records = db.run(|c| reviews::records_for_identity(c, t, p.id)).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].decision, ReviewDecision::Approve { level: KycLevel::L1 });
        assert_eq!((records[1].decision.clone(), records[1].level_at_decision), (ask, KycLevel::L1));
        assert_eq!(Some(records[0].decided_at), decided.decided_at);
        assert!(db.run(|c| reviews::records_for_identity(c, other, p.id)).unwrap().is_empty());
        let pending = db.run(|c| reviews::list(c, TenantScope::AllTenants, ReviewFilter { kind: None, status: Some(ReviewStatus::Pending) }, PageRequest::default())).unwrap();
        assert_eq!(pending.total, 1, "only the other tenant's item is still pending");
        assert!(db.run(|c| reviews::find(c, TenantScope::AllTenants, ReviewId::random())).unwrap_err().is_not_found());
        // A document of another identity cannot be attached.
        let p2 = identity(db, t, person(3));
        assert!(db.write(|c| reviews::insert(c, &NewReviewItem {
            tenant_id: t, kind: ReviewKind::Document, identity_id: p2.id, document_id: Some(doc.id), reason: None,
        })).unwrap_err().is_not_found());
    }

    fn audit_trail(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let p = identity(db, t, person(1));
        let key = ApiKeyId::random();
        let created = db.write(|c| audit::append(c, &NewAuditEvent::for_identity(t, p.id, Actor::ApiKey(key), AuditAction::IdentityCreated))).unwrap();
        let mut updated = NewAuditEvent::for_identity(t, p.id, Actor::System, AuditAction::LevelChanged);
        updated.fields = vec!["firstName".into(), "address.postalCode".into()];
        updated.level_change = Some((KycLevel::L0, KycLevel::L1));
        let updated = db.write(|c| audit::append(c, &updated)).unwrap();
        let page = db.run(|c| audit::list_for_identity(c, t, p.id, PageRequest::default())).unwrap();
        assert_eq!(page.items, vec![created.clone(), updated.clone()]);
        assert_eq!(page.total, 2);
        let second = db.run(|c| audit::list_for_identity(c, t, p.id, PageRequest::page(2, 1))).unwrap();
        assert_eq!(second.items, vec![updated]);
        assert!(db.run(|c| audit::list_for_identity(c, other, p.id, PageRequest::default())).unwrap().items.is_empty());
        // Values are refused where names belong.
        let mut leaky = NewAuditEvent::for_identity(t, p.id, Actor::System, AuditAction::IdentityUpdated);
        leaky.fields = vec!["john.doe@example.com".into()];
        assert!(matches!(db.write(|c| audit::append(c, &leaky)), Err(StoreError::Internal { .. })));
        // A unit's entries in one call (batches of four, four and one) keep their order and
        // share their time; one value among names refuses them all.
        let actions = [AuditAction::IdentityUpdated, AuditAction::KycCheckCompleted, AuditAction::LevelChanged];
        let batch: Vec<NewAuditEvent> = (0..9).map(|i| NewAuditEvent::for_identity(t, p.id, Actor::System, actions[i % 3])).collect();
        let appended = db.write(|c| audit::append_all(c, &batch)).unwrap();
        assert_eq!(appended.iter().map(|e| e.action).collect::<Vec<_>>(), batch.iter().map(|e| e.action).collect::<Vec<_>>());
        assert!(appended.iter().all(|e| e.at == appended[0].at));
        let page = db.run(|c| audit::list_for_identity(c, t, p.id, PageRequest::default())).unwrap();
        assert_eq!(page.items[2..], appended[..]);
        let mut refused = batch.clone();
        refused[5] = leaky;
        assert!(matches!(db.write(|c| audit::append_all(c, &refused)), Err(StoreError::Internal { .. })));
        assert!(db.write(|c| audit::append_all(c, &[])).unwrap().is_empty());
        assert_eq!(db.run(|c| audit::list_for_identity(c, t, p.id, PageRequest::default())).unwrap().total, 11);
    }

    fn write_rolls_back_on_error(db) {
        let t = tenant(db, "acme");
        let result: Result<(), StoreError> = db.write(|c| {
            kyc_store::tenants::create(c, "rolled-back")?;
            kyc_store::containers::create(c, t)?;
            Err(StoreError::NotFound { entity: "on purpose" })
        });
        assert!(result.is_err());
        assert!(db.run(|c| kyc_store::tenants::find_by_name(c, "rolled-back")).unwrap_err().is_not_found());
        // The pooled connection is usable afterwards.
        assert_eq!(db.run(|c| kyc_store::tenants::find(c, t)).unwrap().name, "acme");
        db.db.ping().unwrap();
        let (open, idle) = db.db.pool_state();
        assert!(open >= 1 && idle <= open, "{open} open, {idle} idle");
    }
}

both_backends! {
    /// A decision's reason code and note: the note sealed at rest, hidden from Debug, scoped.
    fn review_decision_notes_are_sealed(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let p = identity(db, t, person(1));
        let item = db.write(|c| reviews::insert(c, &NewReviewItem {
            tenant_id: t, kind: ReviewKind::Identity, identity_id: p.id, document_id: None, reason: None,
        })).unwrap();
        let note = reviews::DecisionNote { reason_code: "data_verified_manually".into(), note: Some("NOTEMARKER called the bank".into()) };
        assert!(!format!("{note:?}").contains("NOTEMARKER"));
        assert!(db.write(|c| reviews::set_decision_note(c, db.keys(), TenantScope::AllTenants, item.id, &note)).unwrap_err().is_not_found(), "not decided yet");
        db.write(|c| {
            reviews::decide(c, TenantScope::AllTenants, item.id, 1, &Decision {
                verdict: Verdict::Identity(ReviewDecision::Approve { level: KycLevel::L1 }),
                decided_by: ApiKeyId::random(),
                level_at_decision: KycLevel::L0,
            })?;
            reviews::set_decision_note(c, db.keys(), TenantScope::AllTenants, item.id, &note)
        }).unwrap();
        let notes = db.run(|c| reviews::decision_notes(c, db.keys(), TenantScope::Tenant(t), &[item.id, ReviewId::random()])).unwrap();
        assert_eq!(notes.get(&item.id), Some(&note));
        assert_eq!(notes.len(), 1);
        assert!(db.run(|c| reviews::decision_notes(c, db.keys(), TenantScope::Tenant(other), &[item.id])).unwrap().is_empty());
        if let Some(bytes) = db.sqlite_bytes() {
            assert!(!contains(&bytes, b"NOTEMARKER"));
        }
        // A note is optional; the code is not.
        let bare = reviews::DecisionNote { reason_code: "other".into(), note: None };
        db.write(|c| reviews::set_decision_note(c, db.keys(), TenantScope::Tenant(t), item.id, &bare)).unwrap();
        assert_eq!(db.run(|c| reviews::decision_notes(c, db.keys(), TenantScope::AllTenants, &[item.id])).unwrap().get(&item.id), Some(&bare));
    }
}

/// A store opened for a one-shot command (`DbOptions::one_shot`) keeps to the one connection
/// its command used and opens none in the background: a `kycd` process exiting while the
/// pool's refill thread was in libpq's TLS handshake crashed there. With the defaults the pool
/// refills its reserve as soon as a connection is taken.
#[test]
fn a_one_shot_store_opens_no_connection_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/kycd.db", dir.path().display());
    let pg = scratch_postgres();
    for url in std::iter::once(sqlite.as_str()).chain(pg.as_ref().map(|pg| pg.url())) {
        let after_a_read = |options| {
            let db = kyc_store::Db::open_with(url, keys(), options).unwrap();
            assert!(
                db.run(|c| kyc_store::tenants::find_by_name(c, "nobody"))
                    .unwrap_err()
                    .is_not_found()
            );
            db
        };
        let one_shot = after_a_read(kyc_store::DbOptions::one_shot());
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(one_shot.pool_state().0, 1, "{url}");
        // The defaults refill (within a few milliseconds; up to 10 s on a loaded machine).
        let default = after_a_read(kyc_store::DbOptions::default());
        let started = std::time::Instant::now();
        while default.pool_state().0 < 2 && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(default.pool_state().0, 2, "{url}: the defaults refill");
    }
}
