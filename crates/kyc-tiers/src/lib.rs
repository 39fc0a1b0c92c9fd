//! The kycd tier engine: a policy (levels per region, products, attempt limits) loaded from
//! TOML, and [`evaluate`], which turns an identity's data, KYC checks, documents and review
//! decisions into its level, upgrade requirements, missing documents, per-process statuses,
//! per-product eligibility and review status. Also here: the attempt, document and review state
//! machines, the confirmed-field lock, and the [`Verifier`] trait with the built-in and sandbox
//! verifiers.
//!
//! Invariant: [`evaluate`] is pure, deterministic and total. The same facts, policy and date
//! always give the same evaluation; no input makes it panic; it does no I/O and reads no clock
//! (`today` is injected). Verifying data is a separate step whose result, a
//! [`KycCheck`](kyc_model::KycCheck), is an input. The crate never sees HTTP or SQL.
//!
//! ```
//! use kyc_model::{
//!     CheckId, Email, FieldOutcome, FieldOutcomes, KycCheck, KycLevel, PersonName,
//!     PersonalData, PersonalIdentityId, Phone, UpgradeRequirement as R,
//! };
//! use kyc_tiers::{Facts, Policy, evaluate};
//! use time::macros::{date, datetime};
//!
//! // Seed 000: a person created with only the required fields.
//! let data = PersonalData {
//!     first_name: PersonName::parse("John").unwrap(),
//!     middle_name: None,
//!     last_name: PersonName::parse("Doe").unwrap(),
//!     email: Email::parse("john@example.com").unwrap(),
//!     phone: Phone::parse("+12025550165").unwrap(),
//!     address: None,
//!     date_of_birth: None,
//!     ssn: None,
//!     gender: None,
//!     due_diligence: None,
//! };
//! let check = KycCheck {
//!     id: CheckId::random(),
//!     identity_id: PersonalIdentityId::random(),
//!     verifier: "builtin".into(),
//!     performed_at: datetime!(2026-01-05 10:00 UTC),
//!     outcomes: FieldOutcomes {
//!         phone: FieldOutcome::Passed,
//!         name: FieldOutcome::Passed,
//!         address: FieldOutcome::NotProvided,
//!         ssn: FieldOutcome::NotProvided,
//!         date_of_birth: FieldOutcome::NotProvided,
//!     },
//! };
//! let policy = Policy::default_policy();
//! let checks = [check];
//! let facts = Facts { checks: &checks, ..Facts::new(&data) };
//! let evaluation = evaluate(&facts, &policy, date!(2026 - 01 - 05));
//!
//! assert_eq!(evaluation.level(), KycLevel::L0);
//! assert_eq!(
//!     evaluation.upgrade_requirements(),
//!     [R::AddressNotProvided, R::SsnNotProvided, R::DateOfBirthNotProvided]
//! );
//! assert!(evaluation.missing_documents().is_empty());
//! ```

mod attempts;
mod engine;
mod error;
mod lock;
mod policy;
mod review;
mod sets;
mod verifier;

pub use attempts::{DocumentAttempts, KycAttempts, ReviewTrigger, can_upload, decide_document};
pub use engine::{Eligibility, Evaluation, Facts, ProcessReport, evaluate};
pub use error::{PolicyViolation, TierError};
pub use lock::{ChangedFields, PersonalField, ensure_unlocked};
pub use policy::{DEFAULT_POLICY_TOML, LevelRule, Policy, Product};
pub use review::PendingReview;
pub use sets::{DocumentSet, FieldSet, field_name};
pub use verifier::{BuiltinVerifier, SandboxVerifier, Verifier, VerifyContext, magic};
