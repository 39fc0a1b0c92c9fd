//! The review state machine. A decision can only be made on a [`PendingReview`], and the only
//! way to get one is from an [`Evaluation`] whose review status is `pending`: deciding an
//! identity that is not in the queue does not compile into a record.

use kyc_model::{KycLevel, ProcessReason, Region, ReviewDecision, ReviewRecord, ReviewStatus};
use time::OffsetDateTime;

use crate::{DocumentSet, Evaluation, FieldSet, TierError};

/// An identity waiting in the review queue, ready for exactly one decision.
/// Deliberately neither `Clone` nor `Copy`: each decision consumes it.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a pending review does nothing until decided"]
pub struct PendingReview {
    region: Region,
    level: KycLevel,
    available: [bool; 3],
}

impl Evaluation<'_> {
    /// The identity's pending review, to decide.
    ///
    /// # Errors
    /// [`TierError::ReviewNotPending`] unless the review status is `pending`.
    pub fn pending_review(&self) -> Result<PendingReview, TierError> {
        if self.review_status() != ReviewStatus::Pending {
            return Err(TierError::ReviewNotPending {
                status: self.review_status(),
            });
        }
        let policy = self.policy();
        let region = self.region();
        Ok(PendingReview {
            region,
            level: self.level(),
            available: KycLevel::ALL.map(|l| policy.level_rule(region, l).is_some()),
        })
    }
}

impl PendingReview {
    /// The level the identity has while waiting.
    pub const fn level(&self) -> KycLevel {
        self.level
    }

    fn record(self, decision: ReviewDecision, decided_at: OffsetDateTime) -> ReviewRecord {
        ReviewRecord {
            decided_at,
            decision,
            level_at_decision: self.level,
        }
    }

    /// Approves the identity at `level`, which becomes its floor until its KYC data changes; what
    /// confirmation freezes stays vouched for while this is the last decision (`docs/tier-policy.md`).
    ///
    /// # Errors
    /// [`TierError::LevelNotAvailable`] when the identity's ladder has no such level.
    pub fn approve(
        self,
        level: KycLevel,
        decided_at: OffsetDateTime,
    ) -> Result<ReviewRecord, TierError> {
        let index = KycLevel::ALL.iter().position(|&l| l == level).unwrap_or(0);
        if !self.available[index] {
            return Err(TierError::LevelNotAvailable {
                level,
                region: self.region,
            });
        }
        Ok(self.record(ReviewDecision::Approve { level }, decided_at))
    }

    /// Rejects the identity: its level is capped where it stands until a later approval.
    pub fn reject(self, reason: Option<ProcessReason>, decided_at: OffsetDateTime) -> ReviewRecord {
        self.record(ReviewDecision::Reject { reason }, decided_at)
    }

    /// Asks the integrator for the listed fields and documents.
    ///
    /// # Errors
    /// [`TierError::EmptyInformationRequest`] when nothing is asked for.
    pub fn request_information(
        self,
        missing_data: FieldSet,
        missing_documents: DocumentSet,
        decided_at: OffsetDateTime,
    ) -> Result<ReviewRecord, TierError> {
        if missing_data.is_empty() && missing_documents.is_empty() {
            return Err(TierError::EmptyInformationRequest);
        }
        let decision = ReviewDecision::RequestInformation {
            missing_data: missing_data.to_vec(),
            missing_documents: missing_documents.to_vec(),
        };
        Ok(self.record(decision, decided_at))
    }

    /// Applies a decision as received on the wire (lists are deduplicated into wire order).
    ///
    /// # Errors
    /// As [`PendingReview::approve`] and [`PendingReview::request_information`].
    pub fn decide(
        self,
        decision: ReviewDecision,
        decided_at: OffsetDateTime,
    ) -> Result<ReviewRecord, TierError> {
        match decision {
            ReviewDecision::Approve { level } => self.approve(level, decided_at),
            ReviewDecision::Reject { reason } => Ok(self.reject(reason, decided_at)),
            ReviewDecision::RequestInformation {
                missing_data,
                missing_documents,
            } => self.request_information(
                missing_data.into_iter().collect(),
                missing_documents.into_iter().collect(),
                decided_at,
            ),
        }
    }
}
