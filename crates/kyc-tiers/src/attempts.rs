//! The attempt state machines: failed KYC checks leading to review, and document checks leading
//! to the upload lockout (seed 000).

use kyc_model::{Document, DocumentStatus, DocumentVerdict, FieldOutcome, FieldOutcomes, KycField};
use kyc_model::{KycCheck, ProcessReason};

use crate::{FieldSet, Policy, TierError};

/// Why an identity must go to manual review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewTrigger {
    /// As many failed KYC checks as the policy allows (two by default).
    FailedAttempts,
    /// A value, in practice the SSN, is already used by another identity of the tenant.
    Duplicate,
}

/// KYC attempts since the last review decision. The only transition is [`KycAttempts::record`];
/// `ReviewRequired` absorbs every later check, so nothing but a new review decision (after
/// which the engine starts counting afresh) takes an identity out of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KycAttempts {
    /// Below the limit, with `failed` failed checks so far.
    Open { failed: u32 },
    /// The identity must be reviewed.
    ReviewRequired { failed: u32, trigger: ReviewTrigger },
}

impl Default for KycAttempts {
    fn default() -> Self {
        Self::new()
    }
}

impl KycAttempts {
    /// No attempt yet.
    pub const fn new() -> Self {
        Self::Open { failed: 0 }
    }

    /// The state after one more check. A check is a failed attempt when a field the identity's
    /// ladder asks for (`relevant`) failed; a `duplicate` on any field requires review at once.
    #[must_use]
    pub fn record(self, outcomes: &FieldOutcomes, relevant: FieldSet, limit: u32) -> Self {
        let mut failed_relevant = false;
        let mut duplicate = false;
        for field in KycField::ALL {
            if let FieldOutcome::Failed { reason, .. } = outcomes.get(field) {
                failed_relevant |= relevant.contains(field);
                duplicate |= *reason == ProcessReason::Duplicate;
            }
        }
        let failed = self.failed().saturating_add(u32::from(failed_relevant));
        match self {
            Self::ReviewRequired { trigger, .. } => Self::ReviewRequired { failed, trigger },
            Self::Open { .. } if duplicate => Self::ReviewRequired {
                failed,
                trigger: ReviewTrigger::Duplicate,
            },
            Self::Open { .. } if failed >= limit => Self::ReviewRequired {
                failed,
                trigger: ReviewTrigger::FailedAttempts,
            },
            Self::Open { .. } => Self::Open { failed },
        }
    }

    /// Records every check in `checks`, in any order (counts do not depend on it).
    #[must_use]
    pub fn record_all(self, checks: &[KycCheck], relevant: FieldSet, limit: u32) -> Self {
        checks
            .iter()
            .fold(self, |s, c| s.record(&c.outcomes, relevant, limit))
    }

    /// Failed attempts counted so far.
    pub const fn failed(self) -> u32 {
        match self {
            Self::Open { failed } | Self::ReviewRequired { failed, .. } => failed,
        }
    }

    /// Why the identity must be reviewed, if it must.
    pub const fn trigger(self) -> Option<ReviewTrigger> {
        match self {
            Self::Open { .. } => None,
            Self::ReviewRequired { trigger, .. } => Some(trigger),
        }
    }

    /// Whether the identity must be reviewed.
    pub const fn review_required(self) -> bool {
        matches!(self, Self::ReviewRequired { .. })
    }
}

/// Document checks of one identity, replayed in upload order: a run of `resubmit` results
/// without an approval in between counts as one rejection once it reaches the policy's length
/// (three), and uploads stop after the policy's number of rejections (three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentAttempts {
    rejections: u32,
    resubmit_streak: u32,
    resubmits_per_rejection: u32,
    rejections_before_lockout: u32,
}

impl DocumentAttempts {
    /// No document yet.
    pub const fn new(policy: &Policy) -> Self {
        Self {
            rejections: 0,
            resubmit_streak: 0,
            resubmits_per_rejection: policy.resubmits_per_rejection(),
            rejections_before_lockout: policy.rejections_before_lockout(),
        }
    }

    /// Replays an identity's documents in upload order (`created_at`, then slice order).
    pub fn from_documents(documents: &[Document], policy: &Policy) -> Self {
        let mut state = Self::new(policy);
        let sorted = documents
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at);
        if sorted {
            for d in documents {
                state.record(d.status);
            }
        } else {
            let mut order: Vec<&Document> = documents.iter().collect();
            order.sort_by_key(|d| d.created_at);
            for d in order {
                state.record(d.status);
            }
        }
        state
    }

    /// Counts one document's current status.
    pub fn record(&mut self, status: DocumentStatus) {
        match status {
            DocumentStatus::Approved => self.resubmit_streak = 0,
            DocumentStatus::Resubmit => {
                self.resubmit_streak += 1;
                if self.resubmit_streak >= self.resubmits_per_rejection {
                    self.resubmit_streak = 0;
                    self.rejections = self.rejections.saturating_add(1);
                }
            }
            DocumentStatus::Rejected => self.rejections = self.rejections.saturating_add(1),
            DocumentStatus::ManualReviewNeeded => {}
        }
    }

    /// Rejections counted so far, including those made of resubmits.
    pub const fn rejections(&self) -> u32 {
        self.rejections
    }

    /// Resubmits since the last approval or counted rejection.
    pub const fn resubmit_streak(&self) -> u32 {
        self.resubmit_streak
    }

    /// Whether uploads are over for this identity.
    pub const fn exhausted(&self) -> bool {
        self.rejections >= self.rejections_before_lockout
    }

    /// Whether another upload may be accepted.
    ///
    /// # Errors
    /// [`TierError::DocumentAttemptsExhausted`] once the identity has used up its rejections.
    pub const fn can_upload(&self) -> Result<(), TierError> {
        if self.exhausted() {
            Err(TierError::DocumentAttemptsExhausted {
                rejections: self.rejections,
            })
        } else {
            Ok(())
        }
    }
}

/// Whether an identity with these documents may upload another
/// (`409 document_attempts_exhausted` otherwise). Call it before accepting an upload.
///
/// # Errors
/// [`TierError::DocumentAttemptsExhausted`] once the identity has used up its rejections.
pub fn can_upload(documents: &[Document], policy: &Policy) -> Result<(), TierError> {
    DocumentAttempts::from_documents(documents, policy).can_upload()
}

/// The status a document moves to on a verdict. Only a document in `manualReviewNeeded` can be
/// decided: `approved`, `rejected` and `resubmit` are final for that upload (a resubmit asks for
/// a new upload rather than changing this one).
///
/// # Errors
/// [`TierError::DocumentAlreadyDecided`] when the document is not waiting for a decision.
pub const fn decide_document(
    current: DocumentStatus,
    verdict: DocumentVerdict,
) -> Result<DocumentStatus, TierError> {
    match current {
        DocumentStatus::ManualReviewNeeded => Ok(verdict.status()),
        status => Err(TierError::DocumentAlreadyDecided { status }),
    }
}
