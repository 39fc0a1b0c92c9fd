use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{DocumentId, PersonalIdentityId, QualityCheck, TenantId};

/// The kind of proof-of-identity document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DocumentType {
    License,
    IdentificationCard,
    Passport,
    ResidencePermit,
}

impl DocumentType {
    /// All types.
    pub const ALL: [Self; 4] = [
        Self::License,
        Self::IdentificationCard,
        Self::Passport,
        Self::ResidencePermit,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::License => "license",
            Self::IdentificationCard => "identificationCard",
            Self::Passport => "passport",
            Self::ResidencePermit => "residencePermit",
        }
    }

    /// Parses the wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether the back side must be uploaded too (everything but a passport).
    pub const fn needs_back(self) -> bool {
        !matches!(self, Self::Passport)
    }
}

/// Where a document check stands (Fortress Trust's four statuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DocumentStatus {
    Approved,
    /// Unreadable: the end user should take another photo.
    Resubmit,
    /// Expired, fraudulent, a scan, or three resubmits without an approval.
    Rejected,
    /// Waiting for a person (or a verifier) to decide.
    ManualReviewNeeded,
}

impl DocumentStatus {
    /// Every value, in declaration order.
    pub const ALL: [Self; 4] = [
        Self::Approved,
        Self::Resubmit,
        Self::Rejected,
        Self::ManualReviewNeeded,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Resubmit => "resubmit",
            Self::Rejected => "rejected",
            Self::ManualReviewNeeded => "manualReviewNeeded",
        }
    }

    /// Parses the wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Approved,
            Self::Resubmit,
            Self::Rejected,
            Self::ManualReviewNeeded,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// An uploaded document's metadata (the image bytes live in the store, encrypted).
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub id: DocumentId,
    pub tenant_id: TenantId,
    pub identity_id: PersonalIdentityId,
    pub doc_type: DocumentType,
    pub status: DocumentStatus,
    /// The quality checks of the front image.
    pub front_checks: Vec<QualityCheck>,
    /// The quality checks of the back image; empty when there is no back.
    pub back_checks: Vec<QualityCheck>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}
