//! kycd validation rules: raw input to validated domain values, and the semantic KYC rules.
//!
//! Two layers live here. [`kyc`] holds the semantic rules of the built-in verifier (SPEC §4):
//! is this well-formed SSN, ZIP, phone number, birth date or name plausible for KYC? The request
//! parsers (SPEC §3) turn raw JSON bodies into `kyc_model` values and report every violation at
//! once, each with a field path, a stable rule name and a message.
//!
//! Invariant: every function is pure: no I/O, no clock (the KYC date rule takes `today`), no
//! global state, and no message or `Debug` output ever contains an input value, since values are
//! PII and errors end up in logs and HTTP responses.
//!
//! ```
//! use kyc_model::{DateOfBirth, Ssn};
//! use kyc_rules::kyc::{check_date_of_birth, check_ssn};
//! use time::macros::date;
//!
//! let ssn = Ssn::parse("305-46-4885").unwrap();
//! assert!(check_ssn(&ssn).is_ok());
//! let woolworth = Ssn::parse("078-05-1120").unwrap();
//! assert_eq!(check_ssn(&woolworth).unwrap_err().rule, "ssn_advertising");
//!
//! let dob = DateOfBirth::parse("2008-06-01").unwrap();
//! assert_eq!(check_date_of_birth(dob, date!(2026 - 05 - 31)).unwrap_err().rule, "age_under_18");
//! assert!(check_date_of_birth(dob, date!(2026 - 06 - 01)).is_ok());
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
