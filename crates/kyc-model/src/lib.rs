//! The kycd domain model: identities, the PII value types they are made of, KYC levels and
//! upgrade requirements, documents, processes, products, reviews and events.
//!
//! Invariant: every constrained value is a newtype with a private field and exactly one fallible
//! constructor, so a [`PersonalIdentity`] can only hold values that passed their edge rules.
//! PII types never print their value through `Debug`, so they cannot leak into a log line or a
//! panic message by accident. The crate does no I/O and knows nothing of HTTP or SQL.
//!
//! ```
//! use kyc_model::{Email, Ssn, UpgradeRequirement};
//!
//! let email = Email::parse("John.Doe@Example.com").unwrap();
//! assert_eq!(email.as_str(), "john.doe@example.com");
//! let ssn = Ssn::parse("305-46-4885").unwrap();
//! assert_eq!(format!("{ssn:?}"), "Ssn(<redacted>)");
//! assert_eq!(UpgradeRequirement::SsnNotProvided.as_str(), "Ssn is not provided");
//! ```

mod check;
mod document;
mod error;
mod event;
mod identity;
mod ids;
mod level;
mod process;
mod quality;
mod review;
mod review_decision;
mod tables;
mod values;

pub use check::{FieldOutcome, FieldOutcomes, KycCheck, KycField};
pub use document::{Document, DocumentStatus, DocumentType};
pub use error::ModelError;
pub use event::{Actor, AuditAction, EventType};
pub use identity::{
    BusinessData, BusinessIdentity, IdentityContainer, KycState, PersonalData, PersonalIdentity,
    Region,
};
pub use ids::{
    ApiKeyId, BusinessIdentityId, CheckId, ContainerId, DeliveryId, DocumentId, EventId,
    PersonalIdentityId, ReviewId, TenantId,
};
pub use level::{KycLevel, MissingDocument, UpgradeRequirement};
pub use process::{
    EligibilityStatus, KycSessionType, ProcessName, ProcessReason, ProcessStatus, ProductId, Role,
    SummaryStatus,
};
pub use quality::{QualityCheck, QualityCode};
pub use review::{ReviewKind, ReviewStatus};
pub use review_decision::{DocumentVerdict, ReviewDecision, ReviewRecord};
pub use tables::{ISO_3166_ALPHA2, USPS_CODES};
pub use values::{
    Address, AddressLine, AddressRegion, CountryCode, DateOfBirth, DueDiligence, Email,
    FormationRegion, Gender, LegalName, PersonName, Phone, PostalCode, ShortText, Ssn, TaxId,
    UsState, UsZip,
};
