//! Erasure, and raw scans of the SQLite file and WAL for values that must never (or no longer)
//! be there.

use kyc_model::{
    Actor, Address, AddressLine, AddressRegion, ApiKeyId, AuditAction, DateOfBirth, Email,
    PersonalData, Phone, ProcessReason, ReviewKind, Ssn, UsState, UsZip,
};
use kyc_store::{
    audit, checks,
    documents::{self, ImageSide},
    erasure::ErasureReport,
    idempotency::{self, Begin, StoredResponse},
    list::{ListQuery, PageRequest},
    personal,
    reviews::{self, NewReviewItem, TenantScope},
};

use crate::{both_backends, common::*, records::new_document};

const SSN: &str = "219099999";
const DOB: &str = "1961-02-28";
const EMAIL: &str = "zebulon.q@erasure.example";
const FIRST: &str = "Zebulon";
const MIDDLE: &str = "Xavierus";
const LAST: &str = "Quarrington";
const STREET: &str = "742 Evergreen Terrace";
const PHONE: &str = "+14155550199";
const IMAGE: &[u8] = b"IMAGE-BYTES-OF-ZEBULON";

fn victim() -> PersonalData {
    PersonalData {
        first_name: name(FIRST),
        middle_name: Some(name(MIDDLE)),
        last_name: name(LAST),
        email: Email::parse(EMAIL).unwrap(),
        phone: Phone::parse(PHONE).unwrap(),
        address: Some(
            Address::new(
                AddressLine::parse(STREET).unwrap(),
                None,
                AddressLine::parse("Shelbyville").unwrap(),
                AddressRegion::Us {
                    state: UsState::parse("IL").unwrap(),
                    zip: UsZip::parse("62565").unwrap(),
                },
            )
            .unwrap(),
        ),
        date_of_birth: Some(DateOfBirth::parse(DOB).unwrap()),
        ssn: Some(Ssn::parse(SSN).unwrap()),
        gender: None,
        due_diligence: None,
    }
}

const PLAIN: [&[u8]; 6] = [
    EMAIL.as_bytes(),
    FIRST.as_bytes(),
    MIDDLE.as_bytes(),
    LAST.as_bytes(),
    STREET.as_bytes(),
    PHONE.as_bytes(),
];

both_backends! {
    fn erasure_removes_pii_and_leaves_a_tombstone(db) {
        let t = tenant(db, "acme");
        let reviewer = ApiKeyId::random();
        for i in 0..30 {
            identity(db, t, person(100 + i));
        }
        let v = identity(db, t, victim());
        for i in 0..30 {
            identity(db, t, person(200 + i));
        }
        let k = db.keys();
        let doc = db.write(|c| documents::insert(c, k, &new_document(t, v.id, IMAGE))).unwrap();
        db.write(|c| checks::insert(c, t, &kyc_model::KycCheck {
            id: kyc_model::CheckId::random(), identity_id: v.id, verifier: "builtin".into(), performed_at: kyc_store::now(),
            outcomes: kyc_model::FieldOutcomes {
                phone: kyc_model::FieldOutcome::Passed, name: kyc_model::FieldOutcome::Passed, address: kyc_model::FieldOutcome::Passed,
                ssn: kyc_model::FieldOutcome::Failed { reason: ProcessReason::Duplicate, rule: "duplicate".into() },
                date_of_birth: kyc_model::FieldOutcome::Passed,
            },
        })).unwrap();
        let review = db.write(|c| reviews::insert(c, &NewReviewItem { tenant_id: t, kind: ReviewKind::Document, identity_id: v.id, document_id: Some(doc.id), reason: None })).unwrap();
        let body = format!(r#"{{"firstName":"{FIRST}","email":"{EMAIL}"}}"#);
        // Replayable answers about the identity, its document and its review item (a decision's
        // answer holds the identity's data), and one about another identity, which stays.
        // The decision was made from an operator tenant: its record is that tenant's.
        let other = identity(db, t, person(300));
        let ops = tenant(db, "compliance");
        for (by, key, resource) in [(t, "create-zeb", v.id.to_string()), (t, "upload-zeb", doc.id.to_string()), (ops, "decide-zeb", review.id.to_string()), (t, "create-other", other.id.to_string())] {
            assert_eq!(db.write(|c| idempotency::begin(c, k, by, key, b"h", kyc_store::now())).unwrap(), Begin::Started);
            db.write(|c| idempotency::complete(c, k, by, key, &StoredResponse { status: 201, headers: vec![], body: body.clone().into_bytes() }, Some(&resource))).unwrap();
        }
        let mut upd = audit::NewAuditEvent::for_identity(t, v.id, Actor::ApiKey(reviewer), AuditAction::IdentityUpdated);
        upd.fields = vec!["lastName".into()];
        db.write(|c| audit::append(c, &upd)).unwrap();

        if let Some(before) = db.sqlite_bytes() {
            // The scan works (plain columns are there) and sealed values never are.
            assert!(contains(&before, EMAIL.as_bytes()) && contains(&before, LAST.as_bytes()));
            for sealed in [SSN.as_bytes(), DOB.as_bytes(), IMAGE] {
                assert!(!contains(&before, sealed), "{}", String::from_utf8_lossy(sealed));
            }
        }

        let report = db.db.erase_personal_identity(t, v.id, Actor::ApiKey(reviewer), None).unwrap();
        assert_eq!(report, ErasureReport { documents: 1, images: 2, kyc_checks: 1, review_items: 1, idempotency_records: 3 });

        assert!(db.run(|c| personal::find(c, k, t, v.id)).unwrap_err().is_not_found());
        assert!(!db.run(|c| personal::exists(c, t, v.id)).unwrap());
        assert!(db.write(|c| personal::find_locked(c, k, t, v.id)).unwrap_err().is_not_found());
        assert_eq!(db.run(|c| personal::list(c, k, t, &ListQuery::default())).unwrap().total, 61, "60 others and the one whose answer stays");
        assert!(db.run(|c| documents::find(c, t, doc.id)).unwrap_err().is_not_found());
        assert!(db.run(|c| documents::image(c, k, t, doc.id, ImageSide::Front)).unwrap_err().is_not_found());
        assert!(db.run(|c| checks::list_for_identity(c, t, v.id)).unwrap().is_empty());
        assert!(db.run(|c| reviews::pending_for_identity(c, t, v.id)).unwrap().is_empty());
        assert!(db.run(|c| reviews::list(c, TenantScope::Tenant(t), Default::default(), PageRequest::default())).unwrap().items.is_empty());
        for (by, key) in [(t, "create-zeb"), (t, "upload-zeb"), (ops, "decide-zeb")] {
            assert_eq!(db.write(|c| idempotency::begin(c, k, by, key, b"h", kyc_store::now())).unwrap(), Begin::Started, "{key}");
        }
        assert_ne!(db.write(|c| idempotency::begin(c, k, t, "create-other", b"h", kyc_store::now())).unwrap(), Begin::Started);
        let trail = db.run(|c| audit::list_for_identity(c, t, v.id, PageRequest::default())).unwrap().items;
        let last = trail.last().unwrap();
        assert_eq!((last.action, last.actor), (AuditAction::IdentityErased, Actor::ApiKey(reviewer)));
        assert!(last.fields.is_empty());
        assert_eq!(trail.len(), 2, "earlier events stay: they hold field names only");
        // Erasing twice: it is gone.
        assert!(db.db.erase_personal_identity(t, v.id, Actor::System, None).unwrap_err().is_not_found());
        // The email is free again.
        let again = identity(db, t, victim());
        assert_ne!(again.id, v.id);
        db.write(|c| kyc_store::erasure::erase_personal_identity(c, t, again.id, Actor::System, None)).unwrap();
        db.db.scrub_wal().unwrap();

        if let Some(after) = db.sqlite_bytes() {
            let wal = db.db.sqlite_path().unwrap().with_extension("db-wal");
            assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0, "WAL truncated");
            for value in PLAIN.iter().chain([SSN.as_bytes(), DOB.as_bytes(), IMAGE, body.as_bytes()].iter()) {
                assert!(!contains(&after, value), "{} survives erasure", String::from_utf8_lossy(value));
            }
            // Everyone else is untouched.
            assert!(contains(&after, b"john.doe100@example.com"));
        }
    }
}

/// 200 identities with distinct SSNs, dates of birth and company tax ids: none of them appears
/// in the database file or its WAL, before or after a checkpoint.
#[test]
fn sqlite_file_never_holds_sealed_values_in_clear() {
    let db = sqlite();
    let t = tenant(&db, "acme");
    let mut ssns = Vec::new();
    let mut dobs = Vec::new();
    for i in 0..200u32 {
        let mut data = person(i as usize);
        let ssn = format!("{:03}{:02}{:04}", 100 + i, 10 + i % 80, 1000 + i);
        let dob = format!("19{:02}-{:02}-{:02}", 50 + i % 40, 1 + i % 12, 1 + i % 28);
        data.ssn = Some(Ssn::parse(&ssn).unwrap());
        data.date_of_birth = Some(DateOfBirth::parse(&dob).unwrap());
        identity(&db, t, data);
        ssns.push(ssn);
        dobs.push(dob);
    }
    let scan = |bytes: &[u8]| {
        assert!(
            contains(bytes, b"john.doe199@example.com"),
            "the scan sees plain columns"
        );
        // Every run of digits and dashes in the files, found in one pass; a value stored in
        // clear would sit inside one of them.
        let runs: Vec<&[u8]> = bytes
            .split(|b| !(b.is_ascii_digit() || *b == b'-'))
            .filter(|r| r.len() >= 9)
            .collect();
        assert!(!runs.is_empty());
        let in_clear = |value: &str| runs.iter().any(|r| contains(r, value.as_bytes()));
        for s in ssns.iter().chain(&dobs) {
            assert!(!in_clear(s), "{s} in clear");
        }
        // Dashed forms too, in case anything formatted them.
        for s in &ssns {
            assert!(!in_clear(&format!("{}-{}-{}", &s[..3], &s[3..5], &s[5..])));
        }
    };
    scan(&db.sqlite_bytes().unwrap());
    db.db.scrub_wal().unwrap();
    scan(&db.sqlite_bytes().unwrap());
}
