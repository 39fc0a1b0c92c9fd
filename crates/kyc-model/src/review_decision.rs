//! What a compliance reviewer (or a verifier standing in for one) decided: about an identity in
//! the review queue, or about a document waiting in `manualReviewNeeded`. The tier engine
//! (`kyc-tiers`) reads recorded decisions back as inputs; the store persists them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{DocumentStatus, KycField, KycLevel, MissingDocument, ProcessReason};

/// A reviewer's decision about a personal identity in the review queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "decision")]
pub enum ReviewDecision {
    /// Accept the identity at `level`. The level is a floor until the KYC data changes (the
    /// next KYC check after the decision ends it).
    Approve { level: KycLevel },
    /// Refuse the identity: it may not rise above the level it had when rejected until a later
    /// review approves it.
    Reject {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<ProcessReason>,
    },
    /// Ask the integrator for more: the fields and documents listed are reported as missing
    /// until the integrator supplies something, which sends the identity back to the queue.
    #[serde(rename_all = "camelCase")]
    RequestInformation {
        #[serde(default)]
        missing_data: Vec<KycField>,
        #[serde(default)]
        missing_documents: Vec<MissingDocument>,
    },
}

impl ReviewDecision {
    /// The wire name of the decision: `approve`, `reject` or `requestInformation`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Approve { .. } => "approve",
            Self::Reject { .. } => "reject",
            Self::RequestInformation { .. } => "requestInformation",
        }
    }
}

/// A decision as recorded, the form in which the tier engine reads it back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewRecord {
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    pub decision: ReviewDecision,
    /// The identity's level when the decision was made: a rejection caps the level there.
    pub level_at_decision: KycLevel,
}

/// A verdict on a document: a reviewer's on one in `manualReviewNeeded`, or a verifier's
/// (sandbox, extracted data) on a fresh upload that passed the quality checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "verdict")]
pub enum DocumentVerdict {
    Approve,
    /// Unreadable: the end user should take another photo.
    Resubmit,
    /// Expired, fraudulent or otherwise unacceptable.
    Reject {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<ProcessReason>,
    },
}

impl DocumentVerdict {
    /// The document status the verdict leads to.
    pub const fn status(self) -> DocumentStatus {
        match self {
            Self::Approve => DocumentStatus::Approved,
            Self::Resubmit => DocumentStatus::Resubmit,
            Self::Reject { .. } => DocumentStatus::Rejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_use_a_tagged_wire_form() {
        let approve: ReviewDecision =
            serde_json::from_str(r#"{"decision":"approve","level":"L1"}"#).unwrap();
        assert_eq!(
            approve,
            ReviewDecision::Approve {
                level: KycLevel::L1
            }
        );
        let info: ReviewDecision = serde_json::from_str(
            r#"{"decision":"requestInformation","missingData":["address"],"missingDocuments":["proofOfAddress"]}"#,
        )
        .unwrap();
        assert_eq!(info.as_str(), "requestInformation");
        let reject = ReviewDecision::Reject {
            reason: Some(ProcessReason::Fraud),
        };
        assert_eq!(
            serde_json::to_string(&reject).unwrap(),
            r#"{"decision":"reject","reason":"fraud"}"#
        );
    }

    #[test]
    fn verdicts_map_to_statuses() {
        assert_eq!(DocumentVerdict::Approve.status(), DocumentStatus::Approved);
        assert_eq!(DocumentVerdict::Resubmit.status(), DocumentStatus::Resubmit);
        assert_eq!(
            DocumentVerdict::Reject { reason: None }.status(),
            DocumentStatus::Rejected
        );
    }
}
