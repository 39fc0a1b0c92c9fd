use serde::{Deserialize, Serialize};

use crate::ApiKeyId;

/// A webhook event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "identity.created")]
    IdentityCreated,
    #[serde(rename = "identity.updated")]
    IdentityUpdated,
    #[serde(rename = "kyc.level_changed")]
    KycLevelChanged,
    #[serde(rename = "document.status_changed")]
    DocumentStatusChanged,
    #[serde(rename = "review.required")]
    ReviewRequired,
}

impl EventType {
    /// All event types.
    pub const ALL: [Self; 5] = [
        Self::IdentityCreated,
        Self::IdentityUpdated,
        Self::KycLevelChanged,
        Self::DocumentStatusChanged,
        Self::ReviewRequired,
    ];

    /// The wire name, e.g. `kyc.level_changed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IdentityCreated => "identity.created",
            Self::IdentityUpdated => "identity.updated",
            Self::KycLevelChanged => "kyc.level_changed",
            Self::DocumentStatusChanged => "document.status_changed",
            Self::ReviewRequired => "review.required",
        }
    }

    /// Parses the wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// Who made a change, for the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type", content = "keyId")]
pub enum Actor {
    /// An integrator's or operator's API key.
    ApiKey(ApiKeyId),
    /// kycd itself (automatic KYC checks, document verdicts).
    System,
}

/// What happened, for the audit trail. Audit entries name fields, never their values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    IdentityCreated,
    IdentityUpdated,
    IdentityErased,
    KycCheckCompleted,
    LevelChanged,
    DocumentUploaded,
    DocumentStatusChanged,
    ReviewRequired,
    ReviewDecided,
    KycSessionStarted,
}

impl AuditAction {
    /// Every value, in declaration order.
    pub const ALL: [Self; 10] = [
        Self::IdentityCreated,
        Self::IdentityUpdated,
        Self::IdentityErased,
        Self::KycCheckCompleted,
        Self::LevelChanged,
        Self::DocumentUploaded,
        Self::DocumentStatusChanged,
        Self::ReviewRequired,
        Self::ReviewDecided,
        Self::KycSessionStarted,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IdentityCreated => "identity_created",
            Self::IdentityUpdated => "identity_updated",
            Self::IdentityErased => "identity_erased",
            Self::KycCheckCompleted => "kyc_check_completed",
            Self::LevelChanged => "level_changed",
            Self::DocumentUploaded => "document_uploaded",
            Self::DocumentStatusChanged => "document_status_changed",
            Self::ReviewRequired => "review_required",
            Self::ReviewDecided => "review_decided",
            Self::KycSessionStarted => "kyc_session_started",
        }
    }
}
