//! `evaluate` on realistic identities. Target: at least 1,000,000 evaluations per second per
//! core, i.e. a median under 1 µs. Run with `cargo bench -p kyc-tiers`.
#![expect(
    clippy::unwrap_used,
    reason = "fixtures are parsed from constants; a failure aborts the benchmark"
)]

use std::{hint::black_box, time::Duration};

use criterion::{Criterion, criterion_group, criterion_main};
use kyc_model::{
    Address, AddressLine, AddressRegion, CheckId, CountryCode, DateOfBirth, Document, DocumentId,
    DocumentStatus, DocumentType, Email, FieldOutcome, FieldOutcomes, KycCheck, PersonName,
    PersonalData, PersonalIdentityId, Phone, PostalCode, ProcessReason, Ssn, TenantId, UsState,
    UsZip,
};
use kyc_tiers::{Facts, Policy, evaluate};
use time::{Date, OffsetDateTime, macros::date, macros::datetime};
use uuid::Uuid;

const TODAY: Date = date!(2026 - 01 - 05);

fn at(minutes: i64) -> OffsetDateTime {
    datetime!(2026-01-05 09:00 UTC) + time::Duration::minutes(minutes)
}

fn us_person() -> PersonalData {
    PersonalData {
        first_name: PersonName::parse("John").unwrap(),
        middle_name: Some(PersonName::parse("Second").unwrap()),
        last_name: PersonName::parse("Doe").unwrap(),
        email: Email::parse("john.doe@example.com").unwrap(),
        phone: Phone::parse("+12025550165").unwrap(),
        address: Some(
            Address::new(
                AddressLine::parse("4220 Davisson Street").unwrap(),
                None,
                AddressLine::parse("Rushville").unwrap(),
                AddressRegion::Us {
                    state: UsState::parse("IN").unwrap(),
                    zip: UsZip::parse("46173").unwrap(),
                },
            )
            .unwrap(),
        ),
        date_of_birth: Some(DateOfBirth::parse("1995-04-25").unwrap()),
        ssn: Some(Ssn::parse("305464885").unwrap()),
        gender: None,
        due_diligence: None,
    }
}

fn check(minutes: i64, failed_address: bool) -> KycCheck {
    KycCheck {
        id: CheckId::from_uuid(Uuid::from_u128(minutes as u128)),
        identity_id: PersonalIdentityId::from_uuid(Uuid::from_u128(1)),
        verifier: "builtin".to_owned(),
        performed_at: at(minutes),
        outcomes: FieldOutcomes {
            phone: FieldOutcome::Passed,
            name: FieldOutcome::Passed,
            address: if failed_address {
                FieldOutcome::Failed {
                    reason: ProcessReason::DataMismatch,
                    rule: "zip_state_mismatch".to_owned(),
                }
            } else {
                FieldOutcome::Passed
            },
            ssn: FieldOutcome::Passed,
            date_of_birth: FieldOutcome::Passed,
        },
    }
}

fn document(minutes: i64, status: DocumentStatus) -> Document {
    Document {
        id: DocumentId::from_uuid(Uuid::from_u128(100 + minutes as u128)),
        tenant_id: TenantId::from_uuid(Uuid::from_u128(2)),
        identity_id: PersonalIdentityId::from_uuid(Uuid::from_u128(1)),
        doc_type: DocumentType::License,
        status,
        front_checks: Vec::new(),
        back_checks: Vec::new(),
        created_at: at(minutes),
        updated_at: at(minutes),
    }
}

fn bench(c: &mut Criterion) {
    let policy = Policy::default_policy();

    // A US identity's life: a failed first check, a corrected one, a resubmitted photo, then an
    // approved document: L2, with history to scan.
    let us = us_person();
    let us_checks = [check(0, true), check(10, false)];
    let us_docs = [
        document(20, DocumentStatus::Resubmit),
        document(30, DocumentStatus::Approved),
    ];
    let us_facts = Facts {
        checks: &us_checks,
        documents: &us_docs,
        ..Facts::new(&us)
    };
    let e = evaluate(&us_facts, &policy, TODAY);
    assert_eq!(e.level(), kyc_model::KycLevel::L2);

    // An international identity on its way: address and date of birth checked, no document.
    let mut gb = us_person();
    gb.phone = Phone::parse("+447911123456").unwrap();
    gb.ssn = None;
    gb.address = Some(
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
        .unwrap(),
    );
    let mut gb_check = check(0, false);
    gb_check.outcomes.ssn = FieldOutcome::NotProvided;
    let gb_checks = [gb_check];
    let gb_facts = Facts {
        checks: &gb_checks,
        ..Facts::new(&gb)
    };

    let mut group = c.benchmark_group("evaluate");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    group.bench_function("us_l2_with_history", |b| {
        b.iter(|| evaluate(black_box(&us_facts), black_box(&policy), black_box(TODAY)));
    });
    group.bench_function("international_l0_awaiting_document", |b| {
        b.iter(|| evaluate(black_box(&gb_facts), black_box(&policy), black_box(TODAY)));
    });
    // What the server pays per call when it also derives the region from an address.
    group.bench_function("us_l2_including_facts_new", |b| {
        b.iter(|| {
            let facts = Facts {
                checks: &us_checks,
                documents: &us_docs,
                ..Facts::new(black_box(&us))
            };
            evaluate(&facts, black_box(&policy), black_box(TODAY))
        });
    });
    // Without an address, `Facts::new` places the person by phone number, which parses it:
    // this is the cost a caller avoids by storing the region.
    let mut bare = us_person();
    bare.address = None;
    group.bench_function("facts_new_without_address", |b| {
        b.iter(|| Facts::new(black_box(&bare)).region);
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
