use std::fmt;

use kyc_model::{DocumentStatus, KycLevel, Region, ReviewStatus};

use crate::ChangedFields;

/// Everything the tier engine can refuse. Messages name fields, levels and policy paths, never a
/// value of an identity.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// The policy file is not TOML.
    #[error("the policy file is not valid TOML: {message}")]
    PolicySyntax { message: String },
    /// The policy file is TOML but breaks the policy format; every problem is listed.
    #[error("the policy file is invalid: {}", Violations(.violations))]
    PolicyInvalid { violations: Vec<PolicyViolation> },
    /// An update changes fields that a confirmed identity may no longer change.
    #[error("the identity is confirmed; these fields can no longer change: {fields}")]
    IdentityConfirmedFieldLocked { fields: ChangedFields },
    /// The identity used up its document attempts.
    #[error("no more document uploads: {rejections} document checks were rejected")]
    DocumentAttemptsExhausted { rejections: u32 },
    /// Only a document waiting for manual review can be decided.
    #[error("the document is already {}; only a document in manualReviewNeeded can be decided", .status.as_str())]
    DocumentAlreadyDecided { status: DocumentStatus },
    /// Only an identity waiting in the review queue can be decided.
    #[error("the identity is not pending review (its review status is {})", .status.as_str())]
    ReviewNotPending { status: ReviewStatus },
    /// A reviewer tried to approve a level the identity's ladder does not have.
    #[error("level {level} is not available to {} end users under this policy", region_name(*.region))]
    LevelNotAvailable { level: KycLevel, region: Region },
    /// A request for information that asks for nothing.
    #[error("a request for information must name at least one field or document")]
    EmptyInformationRequest,
}

impl TierError {
    /// A stable machine-readable code for the error.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::PolicySyntax { .. } | Self::PolicyInvalid { .. } => "invalid_policy",
            Self::IdentityConfirmedFieldLocked { .. } => "identity_confirmed_field_locked",
            Self::DocumentAttemptsExhausted { .. } => "document_attempts_exhausted",
            Self::DocumentAlreadyDecided { .. } => "document_already_decided",
            Self::ReviewNotPending { .. } => "review_not_pending",
            Self::LevelNotAvailable { .. } => "level_not_available",
            Self::EmptyInformationRequest => "empty_information_request",
        }
    }
}

/// One problem in a policy file: where (a dotted path such as `levels.L2.us.requires`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyViolation {
    pub path: String,
    pub message: String,
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

struct Violations<'a>(&'a [PolicyViolation]);

impl fmt::Display for Violations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            f.write_str(if i == 0 { "" } else { "; " })?;
            v.fmt(f)?;
        }
        Ok(())
    }
}

pub(crate) const fn region_name(region: Region) -> &'static str {
    match region {
        Region::Us => "us",
        Region::International => "international",
    }
}
