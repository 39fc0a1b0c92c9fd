//! kycd validation rules: raw input to validated domain values, and the semantic KYC rules.
//!
//! Two layers live here. The request parsers (SPEC §3: [`parse_personal_create`],
//! [`parse_personal_patch`], [`parse_business_create`], [`parse_business_patch`],
//! [`parse_kyc_session`]) turn a raw JSON body into `kyc_model` values and report every
//! violation at once, each with a field path, a stable rule name and a message. [`kyc`] holds
//! the semantic rules of the built-in verifier (SPEC §4): is this well-formed SSN, ZIP, phone
//! number, birth date or name plausible for KYC? `docs/validation.md` lists every rule.
//!
//! Invariant: every function is pure: no I/O, no clock (time-dependent rules take `today` or
//! `now`), no global state, no panics; and no message or `Debug` output ever contains an input
//! value, since values are PII and errors end up in logs and HTTP responses.
//!
//! ```
//! use kyc_model::{DateOfBirth, Ssn};
//! use kyc_rules::{RulesError, kyc, parse_personal_create};
//! use serde_json::json;
//! use time::macros::date;
//!
//! // The edge: every violation, with its path; never the value.
//! let body = json!({"firstName": "John", "lastName": "Doe", "email": "john.doe@example.com",
//!                   "phone": "+12025550165", "ssn": "305-46-48", "kycLevel": "L2"});
//! let RulesError::Invalid(violations) = parse_personal_create(&body).unwrap_err();
//! let found: Vec<_> = violations.iter().map(|v| (v.field.as_str(), v.rule.as_str())).collect();
//! assert_eq!(found, [("kycLevel", "unknown_field"), ("ssn", "format")]);
//!
//! // KYC: well-formed values that still fail.
//! let woolworth = Ssn::parse("078-05-1120").unwrap();
//! assert_eq!(kyc::check_ssn(&woolworth).unwrap_err().rule, "ssn_advertising");
//! let dob = DateOfBirth::parse("2008-06-01").unwrap();
//! assert_eq!(kyc::check_date_of_birth(dob, date!(2026 - 05 - 31)).unwrap_err().rule, "age_under_18");
//! assert!(kyc::check_date_of_birth(dob, date!(2026 - 06 - 01)).is_ok());
//! ```

pub mod kyc;

mod business;
mod error;
mod fields;
mod json;
mod personal;
mod session;

pub use business::{
    BUSINESS_FIELDS, BusinessPatch, TaxIdInput, parse_business_create, parse_business_patch,
};
pub use error::{RulesError, Violation};
pub use personal::{PERSONAL_FIELDS, PersonalPatch, parse_personal_create, parse_personal_patch};
pub use session::{
    DocumentNumber, ImportDocument, ImportDocumentType, ImportOutput, ImportPerson,
    KycSessionRequest, RedirectUri, parse_kyc_session,
};
