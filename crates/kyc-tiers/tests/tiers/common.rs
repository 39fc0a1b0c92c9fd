//! Builders for the engine tests: identities, checks and documents with readable defaults.

use kyc_model::{
    Address, AddressLine, AddressRegion, CheckId, CountryCode, DateOfBirth, Document, DocumentId,
    DocumentStatus, DocumentType, Email, FieldOutcome, FieldOutcomes, KycCheck, KycField, KycLevel,
    PersonName, PersonalData, PersonalIdentityId, Phone, PostalCode, ProcessReason, ReviewDecision,
    ReviewRecord, Ssn, TenantId, UsState, UsZip,
};
use time::{Date, Duration, OffsetDateTime, macros::date, macros::datetime};
use uuid::Uuid;

pub const TODAY: Date = date!(2026 - 01 - 05);
pub const T0: OffsetDateTime = datetime!(2026-01-05 09:00 UTC);

/// `T0` plus `minutes`: events in a test happen in minute order.
pub fn at(minutes: i64) -> OffsetDateTime {
    T0 + Duration::minutes(minutes)
}

pub fn us_address() -> Address {
    Address::new(
        AddressLine::parse("4220 Davisson Street").unwrap(),
        None,
        AddressLine::parse("Rushville").unwrap(),
        AddressRegion::Us {
            state: UsState::parse("IN").unwrap(),
            zip: UsZip::parse("46173").unwrap(),
        },
    )
    .unwrap()
}

pub fn gb_address() -> Address {
    Address::new(
        AddressLine::parse("1 High Street").unwrap(),
        None,
        AddressLine::parse("Manchester").unwrap(),
        AddressRegion::Other {
            country: CountryCode::parse("GB").unwrap(),
            state: None,
            postal_code: PostalCode::parse("M4 1AA").unwrap(),
        },
    )
    .unwrap()
}

/// Seed 000's person with only the required fields and a US phone.
pub fn us_person() -> PersonalData {
    PersonalData {
        first_name: PersonName::parse("John").unwrap(),
        middle_name: Some(PersonName::parse("Second").unwrap()),
        last_name: PersonName::parse("Doe").unwrap(),
        email: Email::parse("john.doe@example.com").unwrap(),
        phone: Phone::parse("+12025550165").unwrap(),
        address: None,
        date_of_birth: None,
        ssn: None,
        gender: None,
        due_diligence: None,
    }
}

/// The same person with all US L1 data.
pub fn us_full() -> PersonalData {
    PersonalData {
        address: Some(us_address()),
        date_of_birth: Some(DateOfBirth::parse("1995-04-25").unwrap()),
        ssn: Some(Ssn::parse("305464885").unwrap()),
        ..us_person()
    }
}

/// The US person with all L1 data, 17 years old on `TODAY`.
pub fn us_minor() -> PersonalData {
    PersonalData {
        date_of_birth: Some(DateOfBirth::parse("2008-01-06").unwrap()),
        ..us_full()
    }
}

/// A person with a UK phone and only the required fields.
pub fn gb_person() -> PersonalData {
    PersonalData {
        first_name: PersonName::parse("Jane").unwrap(),
        middle_name: None,
        last_name: PersonName::parse("Smith").unwrap(),
        email: Email::parse("jane@example.co.uk").unwrap(),
        phone: Phone::parse("+447911123456").unwrap(),
        address: None,
        date_of_birth: None,
        ssn: None,
        gender: None,
        due_diligence: None,
    }
}

/// The UK person with address and date of birth.
pub fn gb_full() -> PersonalData {
    PersonalData {
        address: Some(gb_address()),
        date_of_birth: Some(DateOfBirth::parse("1987-09-04").unwrap()),
        ..gb_person()
    }
}

fn present(data: &PersonalData, field: KycField) -> bool {
    match field {
        KycField::Phone | KycField::Name => true,
        KycField::Address => data.address.is_some(),
        KycField::Ssn => data.ssn.is_some(),
        KycField::DateOfBirth => data.date_of_birth.is_some(),
    }
}

/// What a verifier would say about `data` when every present field passes except `failed`.
pub fn outcomes(data: &PersonalData, failed: &[(KycField, ProcessReason)]) -> FieldOutcomes {
    let one = |f: KycField| {
        if !present(data, f) {
            FieldOutcome::NotProvided
        } else if let Some((_, reason)) = failed.iter().find(|(g, _)| *g == f) {
            FieldOutcome::Failed {
                reason: *reason,
                rule: "test_rule".to_owned(),
            }
        } else {
            FieldOutcome::Passed
        }
    };
    FieldOutcomes {
        phone: one(KycField::Phone),
        name: one(KycField::Name),
        address: one(KycField::Address),
        ssn: one(KycField::Ssn),
        date_of_birth: one(KycField::DateOfBirth),
    }
}

pub fn check_with(outcomes: FieldOutcomes, minutes: i64) -> KycCheck {
    KycCheck {
        id: CheckId::from_uuid(Uuid::from_u128(1_000 + minutes as u128)),
        identity_id: PersonalIdentityId::from_uuid(Uuid::from_u128(1)),
        verifier: "test".to_owned(),
        performed_at: at(minutes),
        outcomes,
    }
}

/// A check of `data` at `minutes` in which `failed` fields fail (data-mismatch) and every other
/// present field passes.
pub fn check(data: &PersonalData, failed: &[KycField], minutes: i64) -> KycCheck {
    let failed: Vec<_> = failed
        .iter()
        .map(|&f| (f, ProcessReason::DataMismatch))
        .collect();
    check_with(outcomes(data, &failed), minutes)
}

pub fn document(status: DocumentStatus, minutes: i64) -> Document {
    Document {
        id: DocumentId::from_uuid(Uuid::from_u128(5_000 + minutes as u128)),
        tenant_id: TenantId::from_uuid(Uuid::from_u128(2)),
        identity_id: PersonalIdentityId::from_uuid(Uuid::from_u128(1)),
        doc_type: DocumentType::Passport,
        status,
        front_checks: Vec::new(),
        back_checks: Vec::new(),
        created_at: at(minutes),
        updated_at: at(minutes),
    }
}

pub fn review(decision: ReviewDecision, level_at_decision: KycLevel, minutes: i64) -> ReviewRecord {
    ReviewRecord {
        decided_at: at(minutes),
        decision,
        level_at_decision,
    }
}
