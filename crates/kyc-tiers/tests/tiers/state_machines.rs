//! The attempt and document state machines on their own.

use kyc_model::{DocumentStatus, DocumentVerdict, KycField, ProcessReason};
use kyc_tiers::{
    DocumentAttempts, FieldSet, KycAttempts, Policy, ReviewTrigger, TierError, can_upload,
    decide_document,
};

use crate::common::*;

#[test]
fn kyc_attempts_count_failures_of_relevant_fields() {
    let data = us_full();
    let relevant = FieldSet::ALL;
    let pass = outcomes(&data, &[]);
    let fail = outcomes(&data, &[(KycField::Address, ProcessReason::DataMismatch)]);
    let s = KycAttempts::new().record(&pass, relevant, 2);
    assert_eq!(s, KycAttempts::Open { failed: 0 });
    let s = s.record(&fail, relevant, 2);
    assert_eq!(s, KycAttempts::Open { failed: 1 });
    let s = s.record(&fail, relevant, 2);
    assert_eq!(
        s,
        KycAttempts::ReviewRequired {
            failed: 2,
            trigger: ReviewTrigger::FailedAttempts
        }
    );
    // Absorbing: passing checks do not leave review.
    let s = s.record(&pass, relevant, 2);
    assert!(s.review_required());
    assert_eq!(s.failed(), 2);

    let elsewhere = FieldSet::of(&[KycField::Name, KycField::Phone]);
    assert_eq!(
        KycAttempts::new().record(&fail, elsewhere, 2).failed(),
        0,
        "a field the ladder does not use is not an attempt"
    );
    let limit_three = KycAttempts::new()
        .record(&fail, relevant, 3)
        .record(&fail, relevant, 3);
    assert!(!limit_three.review_required());
}

#[test]
fn a_duplicate_requires_review_on_the_first_check() {
    let data = us_full();
    let dup = outcomes(&data, &[(KycField::Ssn, ProcessReason::Duplicate)]);
    let s = KycAttempts::default().record(&dup, FieldSet::EMPTY, 2);
    assert_eq!(
        s,
        KycAttempts::ReviewRequired {
            failed: 0,
            trigger: ReviewTrigger::Duplicate
        }
    );
    let checks = [check_with(dup, 0)];
    assert!(
        KycAttempts::new()
            .record_all(&checks, FieldSet::ALL, 2)
            .review_required()
    );
}

fn attempts(statuses: &[DocumentStatus]) -> DocumentAttempts {
    let policy = Policy::default_policy();
    let mut a = DocumentAttempts::new(&policy);
    for &s in statuses {
        a.record(s);
    }
    a
}

#[test]
fn three_resubmits_without_an_approval_are_one_rejection() {
    use DocumentStatus::*;
    assert_eq!(attempts(&[Resubmit, Resubmit]).rejections(), 0);
    assert_eq!(attempts(&[Resubmit, Resubmit, Resubmit]).rejections(), 1);
    assert_eq!(
        attempts(&[Resubmit, Resubmit, Approved, Resubmit]).rejections(),
        0,
        "an approval restarts the run"
    );
    assert_eq!(
        attempts(&[Resubmit, Rejected, Resubmit, ManualReviewNeeded, Resubmit]).rejections(),
        2,
        "a rejection in between neither breaks the run nor hides itself"
    );
    assert_eq!(attempts(&[Resubmit; 5]).resubmit_streak(), 2);
}

#[test]
fn three_rejections_lock_uploads() {
    use DocumentStatus::*;
    let two = attempts(&[Rejected, Rejected]);
    assert!(two.can_upload().is_ok());
    let three = attempts(&[Rejected, Rejected, Rejected]);
    assert_eq!(
        three.can_upload(),
        Err(TierError::DocumentAttemptsExhausted { rejections: 3 })
    );
    assert_eq!(
        three.can_upload().unwrap_err().code(),
        "document_attempts_exhausted"
    );
    let mixed = attempts(&[Rejected, Resubmit, Resubmit, Resubmit, Rejected]);
    assert!(mixed.exhausted());
    assert!(
        attempts(&[Approved, Rejected, Rejected, Rejected]).exhausted(),
        "an earlier approval does not forgive later rejections"
    );
}

#[test]
fn can_upload_replays_documents_in_upload_order() {
    use DocumentStatus::*;
    let policy = Policy::default_policy();
    // Upload order: resubmit, resubmit, approved, resubmit: no rejection. Shuffled input must
    // give the same answer.
    let mut docs = vec![
        document(Resubmit, 3),
        document(Approved, 2),
        document(Resubmit, 0),
        document(Resubmit, 1),
    ];
    assert_eq!(
        DocumentAttempts::from_documents(&docs, &policy).rejections(),
        0
    );
    docs.push(document(Rejected, 4));
    docs.push(document(Rejected, 5));
    assert!(can_upload(&docs, &policy).is_ok());
    docs.push(document(Rejected, 6));
    assert!(can_upload(&docs, &policy).is_err());
    assert!(can_upload(&[], &policy).is_ok());
}

#[test]
fn only_a_document_waiting_for_review_can_be_decided() {
    use DocumentStatus::*;
    assert_eq!(
        decide_document(ManualReviewNeeded, DocumentVerdict::Approve),
        Ok(Approved)
    );
    assert_eq!(
        decide_document(ManualReviewNeeded, DocumentVerdict::Resubmit),
        Ok(Resubmit)
    );
    assert_eq!(
        decide_document(
            ManualReviewNeeded,
            DocumentVerdict::Reject {
                reason: Some(ProcessReason::Fraud)
            }
        ),
        Ok(Rejected)
    );
    for done in [Approved, Resubmit, Rejected] {
        assert_eq!(
            decide_document(done, DocumentVerdict::Approve),
            Err(TierError::DocumentAlreadyDecided { status: done })
        );
    }
}

#[test]
fn a_policy_can_change_the_limits() {
    use DocumentStatus::*;
    let text = kyc_tiers::DEFAULT_POLICY_TOML
        .replace("resubmits_per_rejection = 3", "resubmits_per_rejection = 2")
        .replace(
            "rejections_before_lockout = 3",
            "rejections_before_lockout = 1",
        );
    let policy = Policy::from_toml(&text).unwrap();
    let docs = [document(Resubmit, 0), document(Resubmit, 1)];
    assert!(can_upload(&docs, &policy).is_err());
}
