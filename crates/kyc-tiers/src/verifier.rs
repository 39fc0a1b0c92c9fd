//! Verifiers: what decides, field by field, whether an identity's data passes KYC. The engine
//! never calls one; the server runs a verifier when data changes and stores the resulting
//! [`KycCheck`](kyc_model::KycCheck), which `evaluate` then reads.

use kyc_model::{
    DocumentType, DocumentVerdict, FieldOutcome, FieldOutcomes, PersonalData, ProcessReason,
};
use kyc_rules::kyc::{self, SemanticFailure};
use time::Date;

/// What a verifier may know beyond the identity itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyContext {
    /// The date the check runs on (ages are computed against it).
    pub today: Date,
    /// Whether another identity of the same tenant holds the same SSN (the server matches keyed
    /// hashes, never plaintext).
    pub duplicate_ssn: bool,
}

/// A KYC verifier: the built-in rules, the sandbox, or an operator's bureau.
pub trait Verifier: Send + Sync {
    /// The name recorded on each check (`builtin`, `sandbox`, a bureau's name).
    fn name(&self) -> &str;

    /// Verifies every KYC field of `data`. Absent fields are `NotProvided`; a failure names its
    /// reason and a stable rule, never the value.
    fn verify(&self, data: &PersonalData, context: &VerifyContext) -> FieldOutcomes;

    /// Decides a document that passed the image-quality checks, or `None` to leave it to a
    /// reviewer (`manualReviewNeeded`).
    fn decide_document(
        &self,
        data: &PersonalData,
        doc_type: DocumentType,
    ) -> Option<DocumentVerdict> {
        let _ = (data, doc_type);
        None
    }
}

fn outcome(result: Result<(), SemanticFailure>) -> FieldOutcome {
    match result {
        Ok(()) => FieldOutcome::Passed,
        Err(f) => failed(f.reason, f.rule),
    }
}

fn failed(reason: ProcessReason, rule: &str) -> FieldOutcome {
    FieldOutcome::Failed {
        reason,
        rule: rule.to_owned(),
    }
}

/// The built-in verifier: `kyc-rules`' semantic checks (SSN ranges and advertising numbers,
/// age 18-99, ZIP consistent with the state, a valid phone number, names without test patterns)
/// and the tenant-wide duplicate-SSN match. It cannot read documents, so it leaves every
/// document to a reviewer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuiltinVerifier;

impl Verifier for BuiltinVerifier {
    fn name(&self) -> &str {
        "builtin"
    }

    fn verify(&self, data: &PersonalData, context: &VerifyContext) -> FieldOutcomes {
        FieldOutcomes {
            phone: outcome(kyc::check_phone(&data.phone)),
            name: outcome(kyc::check_name(
                &data.first_name,
                data.middle_name.as_ref(),
                &data.last_name,
            )),
            address: data
                .address
                .as_ref()
                .map_or(FieldOutcome::NotProvided, |a| {
                    outcome(kyc::check_address(a))
                }),
            // A duplicate outranks a rule failure: it is the signal a reviewer must see.
            ssn: match &data.ssn {
                None => FieldOutcome::NotProvided,
                Some(_) if context.duplicate_ssn => {
                    failed(ProcessReason::Duplicate, "duplicate_ssn")
                }
                Some(ssn) => outcome(kyc::check_ssn(ssn)),
            },
            date_of_birth: data.date_of_birth.map_or(FieldOutcome::NotProvided, |d| {
                outcome(kyc::check_date_of_birth(d, context.today))
            }),
        }
    }
}

/// The sandbox verifier: the built-in rules, plus documented magic values that force each
/// outcome deterministically (see `docs/tier-policy.md`). The rules stay on so that a sandbox
/// behaves like production for real-looking data (an Ohio ZIP with an Indiana state is still
/// invalid); the magic values add outcomes the rules cannot produce on demand (fraud,
/// duplicate) and decide documents, which the built-in verifier leaves to a reviewer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SandboxVerifier;

/// The sandbox's magic values, for documentation and tests.
pub mod magic {
    /// Phone number that fails (`data-mismatch`).
    pub const PHONE_INVALID: &str = "+12025550000";
    /// Last name that fails the name (`data-mismatch`).
    pub const LAST_NAME_INVALID: &str = "Reject";
    /// First street line that fails the address (`data-mismatch`), in any country.
    pub const STREET_INVALID: &str = "1 Reject Street";
    /// SSN (as nine digits) that fails as `fraud`.
    pub const SSN_FRAUD: &str = "111111111";
    /// SSN that fails as `duplicate` (and so goes to review at once).
    pub const SSN_DUPLICATE: &str = "222222222";
    /// SSN that fails as `data-mismatch`.
    pub const SSN_INVALID: &str = "333333333";
    /// Date of birth that fails as `data-mismatch`: 1900-01-01.
    pub const DOB_INVALID: (i32, u8, u8) = (1900, 1, 1);
    /// Date of birth that fails as `underage`: 2010-01-01.
    pub const DOB_UNDERAGE: (i32, u8, u8) = (2010, 1, 1);
    /// Last name whose documents are left to manual review.
    pub const LAST_NAME_DOCUMENT_MANUAL: &str = "Manual";
    /// Last name whose documents are `resubmit`.
    pub const LAST_NAME_DOCUMENT_RESUBMIT: &str = "Resubmit";
    /// Last name whose documents are rejected as `expired-document`.
    pub const LAST_NAME_DOCUMENT_EXPIRED: &str = "Expired";
    /// Last name whose documents are rejected as `fraud`.
    pub const LAST_NAME_DOCUMENT_FORGED: &str = "Forged";
}

fn is_date(date: Date, magic: (i32, u8, u8)) -> bool {
    (date.year(), u8::from(date.month()), date.day()) == magic
}

impl Verifier for SandboxVerifier {
    fn name(&self) -> &str {
        "sandbox"
    }

    fn verify(&self, data: &PersonalData, context: &VerifyContext) -> FieldOutcomes {
        let rules = BuiltinVerifier.verify(data, context);
        let phone = if data.phone.as_str() == magic::PHONE_INVALID {
            failed(ProcessReason::DataMismatch, "sandbox_phone")
        } else {
            rules.phone
        };
        let name = if data
            .last_name
            .as_str()
            .eq_ignore_ascii_case(magic::LAST_NAME_INVALID)
        {
            failed(ProcessReason::DataMismatch, "sandbox_name")
        } else {
            rules.name
        };
        let address = match &data.address {
            None => FieldOutcome::NotProvided,
            Some(a)
                if a.street1()
                    .as_str()
                    .eq_ignore_ascii_case(magic::STREET_INVALID) =>
            {
                failed(ProcessReason::DataMismatch, "sandbox_address")
            }
            Some(_) => rules.address,
        };
        let ssn = match data.ssn.as_ref().map(|s| s.as_str()) {
            None => FieldOutcome::NotProvided,
            Some(_) if context.duplicate_ssn => failed(ProcessReason::Duplicate, "duplicate_ssn"),
            Some(magic::SSN_FRAUD) => failed(ProcessReason::Fraud, "sandbox_ssn_fraud"),
            Some(magic::SSN_DUPLICATE) => failed(ProcessReason::Duplicate, "sandbox_ssn_duplicate"),
            Some(magic::SSN_INVALID) => failed(ProcessReason::DataMismatch, "sandbox_ssn_invalid"),
            Some(_) => rules.ssn,
        };
        let date_of_birth = match data.date_of_birth.map(|d| d.date()) {
            None => FieldOutcome::NotProvided,
            Some(d) if is_date(d, magic::DOB_INVALID) => {
                failed(ProcessReason::DataMismatch, "sandbox_dob_invalid")
            }
            Some(d) if is_date(d, magic::DOB_UNDERAGE) => {
                failed(ProcessReason::Underage, "sandbox_dob_underage")
            }
            Some(_) => rules.date_of_birth,
        };
        FieldOutcomes {
            phone,
            name,
            address,
            ssn,
            date_of_birth,
        }
    }

    fn decide_document(
        &self,
        data: &PersonalData,
        _doc_type: DocumentType,
    ) -> Option<DocumentVerdict> {
        let last = data.last_name.as_str();
        let is = |magic: &str| last.eq_ignore_ascii_case(magic);
        if is(magic::LAST_NAME_DOCUMENT_MANUAL) {
            None
        } else if is(magic::LAST_NAME_DOCUMENT_RESUBMIT) {
            Some(DocumentVerdict::Resubmit)
        } else if is(magic::LAST_NAME_DOCUMENT_EXPIRED) {
            Some(DocumentVerdict::Reject {
                reason: Some(ProcessReason::ExpiredDocument),
            })
        } else if is(magic::LAST_NAME_DOCUMENT_FORGED) {
            Some(DocumentVerdict::Reject {
                reason: Some(ProcessReason::Fraud),
            })
        } else {
            Some(DocumentVerdict::Approve)
        }
    }
}
