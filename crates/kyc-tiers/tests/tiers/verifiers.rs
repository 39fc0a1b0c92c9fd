//! The built-in and sandbox verifiers.

use kyc_model::{
    Address, AddressLine, AddressRegion, DateOfBirth, DocumentType, DocumentVerdict, FieldOutcome,
    PersonName, PersonalData, Phone, ProcessReason, Ssn, UsState, UsZip,
};
use kyc_tiers::{BuiltinVerifier, SandboxVerifier, Verifier, VerifyContext, magic};

use crate::common::*;

const CTX: VerifyContext = VerifyContext {
    today: TODAY,
    duplicate_ssn: false,
};

fn failure(outcome: &FieldOutcome) -> Option<(ProcessReason, &str)> {
    match outcome {
        FieldOutcome::Failed { reason, rule } => Some((*reason, rule.as_str())),
        _ => None,
    }
}

#[test]
fn builtin_passes_the_seed_person_and_reports_absent_fields() {
    let o = BuiltinVerifier.verify(&us_person(), &CTX);
    assert_eq!(o.phone, FieldOutcome::Passed);
    assert_eq!(o.name, FieldOutcome::Passed);
    assert_eq!(o.address, FieldOutcome::NotProvided);
    assert_eq!(o.ssn, FieldOutcome::NotProvided);
    assert_eq!(o.date_of_birth, FieldOutcome::NotProvided);
    let o = BuiltinVerifier.verify(&us_full(), &CTX);
    assert!(!o.any_failed(), "{o:?}");
    assert_eq!(BuiltinVerifier.name(), "builtin");
    assert_eq!(
        BuiltinVerifier.decide_document(&us_full(), DocumentType::Passport),
        None,
        "documents go to a reviewer"
    );
}

#[test]
fn builtin_applies_the_kyc_rules() {
    let mut data = us_full();
    data.ssn = Some(Ssn::parse("666-12-3456").unwrap());
    data.date_of_birth = Some(DateOfBirth::parse("2015-06-01").unwrap());
    data.last_name = PersonName::parse("Test").unwrap();
    data.address = Some(
        Address::new(
            AddressLine::parse("4220 Davidson Street").unwrap(),
            None,
            AddressLine::parse("Rushville").unwrap(),
            AddressRegion::Us {
                state: UsState::parse("IN").unwrap(),
                // Seed 000's corrected ZIP is in Ohio.
                zip: UsZip::parse("45221").unwrap(),
            },
        )
        .unwrap(),
    );
    let o = BuiltinVerifier.verify(&data, &CTX);
    assert_eq!(
        failure(&o.ssn),
        Some((ProcessReason::DataMismatch, "ssn_area"))
    );
    assert_eq!(
        failure(&o.date_of_birth),
        Some((ProcessReason::Underage, "age_under_18"))
    );
    assert_eq!(
        failure(&o.name),
        Some((ProcessReason::Fraud, "name_test_pattern"))
    );
    assert_eq!(
        failure(&o.address),
        Some((ProcessReason::DataMismatch, "zip_state_mismatch"))
    );
    let dup = VerifyContext {
        duplicate_ssn: true,
        ..CTX
    };
    assert_eq!(
        failure(&BuiltinVerifier.verify(&us_full(), &dup).ssn),
        Some((ProcessReason::Duplicate, "duplicate_ssn"))
    );
}

fn sandbox(edit: impl FnOnce(&mut PersonalData)) -> kyc_model::FieldOutcomes {
    let mut data = us_full();
    edit(&mut data);
    SandboxVerifier.verify(&data, &CTX)
}

#[test]
fn sandbox_magic_values_force_each_outcome() {
    assert!(!sandbox(|_| {}).any_failed());
    let o = sandbox(|d| d.phone = Phone::parse(magic::PHONE_INVALID).unwrap());
    assert_eq!(
        failure(&o.phone).map(|f| f.0),
        Some(ProcessReason::DataMismatch)
    );
    let o = sandbox(|d| d.last_name = PersonName::parse(magic::LAST_NAME_INVALID).unwrap());
    assert_eq!(
        failure(&o.name).map(|f| f.0),
        Some(ProcessReason::DataMismatch)
    );
    let o = sandbox(|d| {
        d.address = Some(
            Address::new(
                AddressLine::parse(magic::STREET_INVALID).unwrap(),
                None,
                AddressLine::parse("Rushville").unwrap(),
                d.address.as_ref().unwrap().region().clone(),
            )
            .unwrap(),
        );
    });
    assert_eq!(
        failure(&o.address).map(|f| f.0),
        Some(ProcessReason::DataMismatch)
    );
    for (ssn, reason) in [
        (magic::SSN_FRAUD, ProcessReason::Fraud),
        (magic::SSN_DUPLICATE, ProcessReason::Duplicate),
        (magic::SSN_INVALID, ProcessReason::DataMismatch),
    ] {
        let o = sandbox(|d| d.ssn = Some(Ssn::parse(ssn).unwrap()));
        assert_eq!(failure(&o.ssn).map(|f| f.0), Some(reason), "{ssn}");
    }
    let o = sandbox(|d| d.ssn = Some(Ssn::parse("111-11-1111").unwrap()));
    assert_eq!(failure(&o.ssn).map(|f| f.1), Some("sandbox_ssn_fraud"));
    for (dob, reason) in [
        ("1900-01-01", ProcessReason::DataMismatch),
        ("2010-01-01", ProcessReason::Underage),
    ] {
        let o = sandbox(|d| d.date_of_birth = Some(DateOfBirth::parse(dob).unwrap()));
        assert_eq!(
            failure(&o.date_of_birth).map(|f| f.0),
            Some(reason),
            "{dob}"
        );
    }
    // Beyond the magic values the sandbox answers like the built-in rules: test names and SSN
    // ranges that never were issued fail there too, and ordinary data passes.
    let o = sandbox(|d| d.last_name = PersonName::parse("Test").unwrap());
    assert_eq!(failure(&o.name).map(|f| f.1), Some("name_test_pattern"));
    let o = sandbox(|d| d.ssn = Some(Ssn::parse("666-12-3456").unwrap()));
    assert_eq!(failure(&o.ssn).map(|f| f.1), Some("ssn_area"));
    let o = sandbox(|_| {});
    assert_eq!(o, BuiltinVerifier.verify(&us_full(), &CTX));
    assert!(!o.any_failed());
    assert_eq!(SandboxVerifier.name(), "sandbox");
}

#[test]
fn sandbox_decides_documents_by_last_name() {
    let with_last = |name: &str| {
        let mut d = us_full();
        d.last_name = PersonName::parse(name).unwrap();
        SandboxVerifier.decide_document(&d, DocumentType::License)
    };
    assert_eq!(with_last("Doe"), Some(DocumentVerdict::Approve));
    assert_eq!(with_last(magic::LAST_NAME_DOCUMENT_MANUAL), None);
    assert_eq!(
        with_last(magic::LAST_NAME_DOCUMENT_RESUBMIT),
        Some(DocumentVerdict::Resubmit)
    );
    assert_eq!(
        with_last(magic::LAST_NAME_DOCUMENT_EXPIRED),
        Some(DocumentVerdict::Reject {
            reason: Some(ProcessReason::ExpiredDocument)
        })
    );
    assert_eq!(
        with_last(magic::LAST_NAME_DOCUMENT_FORGED),
        Some(DocumentVerdict::Reject {
            reason: Some(ProcessReason::Fraud)
        })
    );
}

#[test]
fn verifiers_are_deterministic_and_object_safe() {
    let verifiers: [&dyn Verifier; 2] = [&BuiltinVerifier, &SandboxVerifier];
    for v in verifiers {
        for data in [us_person(), us_full(), gb_person(), gb_full()] {
            assert_eq!(v.verify(&data, &CTX), v.verify(&data, &CTX));
        }
    }
}
