//! `evaluate` under the default policy: the seed walk-through, every requirement string, the US
//! and international ladders, documents in each status, eligibility, processes and reviews.

use std::sync::LazyLock;

use kyc_model::{
    DateOfBirth, Document, DocumentStatus, DocumentVerdict, EligibilityStatus as E, FieldOutcome,
    KycCheck, KycField, KycLevel, KycState, MissingDocument, PersonalData, ProcessName,
    ProcessReason, ProcessStatus as P, Region, ReviewDecision, ReviewRecord, ReviewStatus, Ssn,
    SummaryStatus,
};
use kyc_tiers::{
    BuiltinVerifier, ChangedFields, DocumentSet, Evaluation, Facts, FieldSet, PersonalField,
    Policy, ReviewTrigger, TierError, Verifier, VerifyContext, decide_document, ensure_unlocked,
    evaluate,
};

use crate::common::*;

static POLICY: LazyLock<Policy> = LazyLock::new(Policy::default_policy);

fn run(
    data: &PersonalData,
    checks: &[KycCheck],
    documents: &[Document],
    reviews: &[ReviewRecord],
) -> Evaluation<'static> {
    let facts = Facts {
        checks,
        documents,
        reviews,
        ..Facts::new(data)
    };
    evaluate(&facts, &POLICY, TODAY)
}

/// [`run`] for an identity the server already confirmed: its stored state carried over.
fn run_confirmed(
    data: &PersonalData,
    checks: &[KycCheck],
    reviews: &[ReviewRecord],
) -> Evaluation<'static> {
    let prior = KycState {
        identity_confirmed: true,
        ..KycState::default()
    };
    let facts = Facts {
        checks,
        reviews,
        ..Facts::new(data).with_prior(&prior)
    };
    evaluate(&facts, &POLICY, TODAY)
}

fn reqs(e: &Evaluation<'_>) -> Vec<&'static str> {
    e.upgrade_requirements()
        .iter()
        .map(|r| r.as_str())
        .collect()
}

fn docs(e: &Evaluation<'_>) -> Vec<&'static str> {
    e.missing_documents().iter().map(|d| d.as_str()).collect()
}

/// (status, missingData, missingDocuments) of one product.
fn elig(e: &Evaluation<'_>, product: &str) -> (E, Vec<KycField>, Vec<MissingDocument>) {
    let x = e.eligibility_for(product).unwrap();
    (
        x.status,
        x.missing_data.to_vec(),
        x.missing_documents.to_vec(),
    )
}

fn statuses(e: &Evaluation<'_>) -> [E; 3] {
    ["regulated-transfer", "onramp", "offramp"].map(|p| e.eligibility_for(p).unwrap().status)
}

fn process(e: &Evaluation<'_>, name: ProcessName) -> (P, Option<ProcessReason>) {
    let p = e.process(name);
    (p.status, p.reason)
}

const PROOF: MissingDocument = MissingDocument::ProofOfId;

#[test]
fn seed_000_walk_through() {
    // 1. Created with first/last name, phone and email only.
    let created = us_person();
    let mut checks = vec![check(&created, &[], 0)];
    let e = run(&created, &checks, &[], &[]);
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(
        reqs(&e),
        [
            "Address is not provided",
            "Ssn is not provided",
            "DateOfBirth is not provided"
        ]
    );
    assert!(docs(&e).is_empty());
    assert!(!e.identity_confirmed());
    assert_eq!(e.review_status(), ReviewStatus::None);
    assert_eq!(
        statuses(&e),
        [E::Verified, E::RequiresData, E::RequiresData]
    );
    assert_eq!(
        elig(&e, "onramp"),
        (
            E::RequiresData,
            vec![KycField::Address, KycField::Ssn, KycField::DateOfBirth],
            vec![]
        )
    );
    assert_eq!(
        elig(&e, "offramp").2,
        [PROOF],
        "offramp also needs the document"
    );

    // 2. PATCH address and date of birth; both fail the check (the seed's sample response).
    let patched = PersonalData {
        address: Some(us_address()),
        date_of_birth: Some(DateOfBirth::parse("1995-04-25").unwrap()),
        ..created.clone()
    };
    checks.push(check(
        &patched,
        &[KycField::Address, KycField::DateOfBirth],
        10,
    ));
    let e = run(&patched, &checks, &[], &[]);
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(
        reqs(&e),
        [
            "Address is invalid",
            "Ssn is not provided",
            "DateOfBirth is invalid"
        ]
    );
    assert_eq!(e.failed_attempts(), 1);
    assert_eq!(e.review_status(), ReviewStatus::None);

    // 3. PATCH the corrected data with the SSN: L1.
    let corrected = us_full();
    checks.push(check(&corrected, &[], 20));
    let e = run(&corrected, &checks, &[], &[]);
    assert_eq!(e.level(), KycLevel::L1);
    assert!(reqs(&e).is_empty());
    assert_eq!(docs(&e), ["proofOfId"]);
    assert!(e.identity_confirmed());
    assert_eq!(statuses(&e), [E::Verified, E::Verified, E::RequiresData]);
    assert_eq!(elig(&e, "offramp"), (E::RequiresData, vec![], vec![PROOF]));

    // 4. A document passes the quality checks and waits for a reviewer.
    let mut documents = vec![document(DocumentStatus::ManualReviewNeeded, 30)];
    let e = run(&corrected, &checks, &documents, &[]);
    assert_eq!(e.level(), KycLevel::L1);
    assert!(docs(&e).is_empty(), "the document is uploaded, not missing");
    assert_eq!(elig(&e, "offramp"), (E::PendingReview, vec![], vec![]));
    assert_eq!(process(&e, ProcessName::Identity), (P::Pending, None));

    // 5. The reviewer approves it: L2, nothing left.
    documents[0].status = decide_document(documents[0].status, DocumentVerdict::Approve).unwrap();
    let e = run(&corrected, &checks, &documents, &[]);
    assert_eq!(e.level(), KycLevel::L2);
    assert!(reqs(&e).is_empty());
    assert!(docs(&e).is_empty());
    assert_eq!(statuses(&e), [E::Verified; 3]);
    assert_eq!(e.summary(), SummaryStatus::Ok);
    assert!(e.processes().iter().all(|p| p.status != P::Failed));
}

#[test]
fn seed_000_with_the_built_in_verifier() {
    let ctx = VerifyContext {
        today: TODAY,
        duplicate_ssn: false,
    };
    let created = us_person();
    let mut checks = vec![check_with(BuiltinVerifier.verify(&created, &ctx), 0)];
    let e = run(&created, &checks, &[], &[]);
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(
        reqs(&e),
        [
            "Address is not provided",
            "Ssn is not provided",
            "DateOfBirth is not provided"
        ]
    );
    let full = us_full();
    checks.push(check_with(BuiltinVerifier.verify(&full, &ctx), 5));
    let e = run(&full, &checks, &[], &[]);
    assert_eq!(e.level(), KycLevel::L1, "{:?}", reqs(&e));
    let approved = [document(DocumentStatus::Approved, 10)];
    assert_eq!(run(&full, &checks, &approved, &[]).level(), KycLevel::L2);
}

#[test]
fn every_requirement_string() {
    let full = us_full();
    let without = |f: KycField| PersonalData {
        address: if f == KycField::Address {
            None
        } else {
            full.address.clone()
        },
        ssn: if f == KycField::Ssn {
            None
        } else {
            full.ssn.clone()
        },
        date_of_birth: if f == KycField::DateOfBirth {
            None
        } else {
            full.date_of_birth
        },
        ..full.clone()
    };
    let expected = [
        (KycField::Phone, "Phone is invalid", "Phone is not provided"),
        (KycField::Name, "Name is invalid", "Name is not provided"),
        (
            KycField::Address,
            "Address is invalid",
            "Address is not provided",
        ),
        (KycField::Ssn, "Ssn is invalid", "Ssn is not provided"),
        (
            KycField::DateOfBirth,
            "DateOfBirth is invalid",
            "DateOfBirth is not provided",
        ),
    ];
    for (field, invalid, not_provided) in expected {
        let e = run(&full, &[check(&full, &[field], 0)], &[], &[]);
        assert_eq!(reqs(&e), [invalid]);
        assert_eq!(e.level(), KycLevel::L0);

        // Phone and name are required on every identity, so "not provided" comes from a check
        // that saw no value (a verifier or an import that could not use it).
        let data = without(field);
        let mut outcomes = outcomes(&data, &[]);
        match field {
            KycField::Phone => outcomes.phone = FieldOutcome::NotProvided,
            KycField::Name => outcomes.name = FieldOutcome::NotProvided,
            _ => {}
        }
        let e = run(&data, &[check_with(outcomes, 0)], &[], &[]);
        assert_eq!(reqs(&e), [not_provided]);
        assert_eq!(e.level(), KycLevel::L0);
    }
}

#[test]
fn requirements_follow_the_wire_order() {
    let mut data = us_person();
    data.ssn = us_full().ssn;
    let e = run(
        &data,
        &[check(
            &data,
            &[KycField::Phone, KycField::Name, KycField::Ssn],
            0,
        )],
        &[],
        &[],
    );
    assert_eq!(
        reqs(&e),
        [
            "Phone is invalid",
            "Name is invalid",
            "Address is not provided",
            "Ssn is invalid",
            "DateOfBirth is not provided"
        ]
    );
}

#[test]
fn us_ladder_with_documents_in_each_status() {
    use DocumentStatus::*;
    let full = us_full();
    let pass = [check(&full, &[], 0)];
    let fail_ssn = [check(&full, &[KycField::Ssn], 0)];
    // (checks, documents, level, requirements, missingDocuments, onramp, offramp)
    type Row<'a> = (
        &'a [KycCheck],
        &'a [DocumentStatus],
        KycLevel,
        &'a [&'a str],
        &'a [&'a str],
        E,
        E,
    );
    let rows: [Row<'_>; 9] = [
        (
            &pass,
            &[],
            KycLevel::L1,
            &[],
            &["proofOfId"],
            E::Verified,
            E::RequiresData,
        ),
        (
            &pass,
            &[Approved],
            KycLevel::L2,
            &[],
            &[],
            E::Verified,
            E::Verified,
        ),
        (
            &pass,
            &[ManualReviewNeeded],
            KycLevel::L1,
            &[],
            &[],
            E::Verified,
            E::PendingReview,
        ),
        (
            &pass,
            &[Resubmit],
            KycLevel::L1,
            &[],
            &["proofOfId"],
            E::Verified,
            E::RequiresData,
        ),
        (
            &pass,
            &[Rejected],
            KycLevel::L1,
            &[],
            &["proofOfId"],
            E::Verified,
            E::RequiresData,
        ),
        (
            &pass,
            &[Rejected, Approved],
            KycLevel::L2,
            &[],
            &[],
            E::Verified,
            E::Verified,
        ),
        (
            &pass,
            &[Rejected; 3],
            KycLevel::L1,
            &[],
            &["proofOfId"],
            E::Verified,
            E::Rejected,
        ),
        // The document cannot lift an identity whose L1 data fails.
        (
            &fail_ssn,
            &[Approved],
            KycLevel::L0,
            &["Ssn is invalid"],
            &[],
            E::RequiresData,
            E::RequiresData,
        ),
        (
            &fail_ssn,
            &[],
            KycLevel::L0,
            &["Ssn is invalid"],
            &[],
            E::RequiresData,
            E::RequiresData,
        ),
    ];
    for (i, (checks, statuses, level, requirements, missing, onramp, offramp)) in
        rows.into_iter().enumerate()
    {
        let documents: Vec<_> = statuses
            .iter()
            .enumerate()
            .map(|(j, &s)| document(s, 10 + j as i64))
            .collect();
        let e = run(&full, checks, &documents, &[]);
        assert_eq!(e.region(), Region::Us);
        assert_eq!(e.level(), level, "row {i}");
        assert_eq!(reqs(&e), requirements, "row {i}");
        assert_eq!(docs(&e), missing, "row {i}");
        assert_eq!(elig(&e, "onramp").0, onramp, "row {i}");
        assert_eq!(elig(&e, "offramp").0, offramp, "row {i}");
    }
}

#[test]
fn international_ladder() {
    let bare = gb_person();
    let e = run(&bare, &[check(&bare, &[], 0)], &[], &[]);
    assert_eq!(e.region(), Region::International);
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(
        reqs(&e),
        ["Address is not provided", "DateOfBirth is not provided"]
    );
    assert_eq!(docs(&e), ["proofOfId"]);
    assert_eq!(
        elig(&e, "onramp"),
        (
            E::RequiresData,
            vec![KycField::Address, KycField::DateOfBirth],
            vec![PROOF]
        )
    );
    assert_eq!(process(&e, ProcessName::TaxDetails), (P::Exempt, None));

    let full = gb_full();
    let pass = [check(&full, &[], 0)];
    let e = run(&full, &pass, &[], &[]);
    assert_eq!(
        (e.level(), reqs(&e), docs(&e)),
        (KycLevel::L0, vec![], vec!["proofOfId"])
    );
    assert!(!e.identity_confirmed());

    let approved = [document(DocumentStatus::Approved, 5)];
    let e = run(&full, &pass, &approved, &[]);
    assert_eq!(e.level(), KycLevel::L2);
    assert!(e.identity_confirmed(), "L2 is above L1");
    assert_eq!(statuses(&e), [E::Verified; 3]);

    let bad_address = [check(&full, &[KycField::Address], 0)];
    let e = run(&full, &bad_address, &approved, &[]);
    assert_eq!(
        (e.level(), reqs(&e)),
        (KycLevel::L0, vec!["Address is invalid"])
    );
    assert_eq!(elig(&e, "onramp").1, [KycField::Address]);
}

#[test]
fn an_ssn_does_not_matter_to_international_end_users() {
    let mut data = gb_full();
    data.ssn = us_full().ssn;
    let checks = [
        check(&data, &[KycField::Ssn], 0),
        check(&data, &[KycField::Ssn], 1),
    ];
    let approved = [document(DocumentStatus::Approved, 5)];
    let e = run(&data, &checks, &approved, &[]);
    assert_eq!(e.level(), KycLevel::L2);
    assert!(reqs(&e).is_empty());
    assert_eq!(
        e.failed_attempts(),
        0,
        "an SSN failure is not a failed attempt here"
    );
    assert_eq!(e.review_status(), ReviewStatus::None);
    assert_eq!(e.review_trigger(), None);
    assert_eq!(process(&e, ProcessName::TaxDetails), (P::Exempt, None));
    // A duplicate still sends it to review, and says why.
    let duplicate = [check_with(
        outcomes(&data, &[(KycField::Ssn, ProcessReason::Duplicate)]),
        0,
    )];
    let e = run(&data, &duplicate, &[], &[]);
    assert_eq!(e.review_status(), ReviewStatus::Pending);
    assert_eq!(e.review_trigger(), Some(ReviewTrigger::Duplicate));
    assert_eq!(process(&e, ProcessName::TaxDetails), (P::Exempt, None));
}

#[test]
fn the_address_country_decides_the_ladder() {
    let mut data = us_person();
    data.address = Some(gb_address());
    assert_eq!(Facts::new(&data).region, Region::International);
    let mut data = gb_person();
    data.address = Some(us_address());
    assert_eq!(Facts::new(&data).region, Region::Us);
}

#[test]
fn nothing_has_started_before_the_first_check() {
    let data = us_full();
    let e = run(&data, &[], &[], &[]);
    assert_eq!(statuses(&e), [E::NotStarted; 3]);
    assert_eq!(e.level(), KycLevel::L0);
    assert!(reqs(&e).is_empty(), "values wait for their check");
    assert_eq!(process(&e, ProcessName::Address), (P::Running, None));
    assert_eq!(e.summary(), SummaryStatus::Pending);
    let bare = us_person();
    let e = run(&bare, &[], &[], &[]);
    assert_eq!(
        elig(&e, "onramp"),
        (
            E::NotStarted,
            vec![KycField::Address, KycField::Ssn, KycField::DateOfBirth],
            vec![]
        )
    );
}

#[test]
fn processes_report_statuses_reasons_and_attempts() {
    let full = us_full();
    let checks = [
        check_with(
            outcomes(&full, &[(KycField::DateOfBirth, ProcessReason::Underage)]),
            0,
        ),
        check_with(
            outcomes(&full, &[(KycField::Ssn, ProcessReason::DataMismatch)]),
            1,
        ),
    ];
    let documents = [document(DocumentStatus::Rejected, 2)];
    let reasons = [(documents[0].id, ProcessReason::ExpiredDocument)];
    let facts = Facts {
        checks: &checks,
        documents: &documents,
        document_reasons: &reasons,
        ..Facts::new(&full)
    };
    let e = evaluate(&facts, &POLICY, TODAY);
    let got: Vec<_> = e
        .processes()
        .iter()
        .map(|p| (p.name, p.status, p.reason, p.attempts))
        .collect();
    assert_eq!(
        got,
        [
            (ProcessName::Email, P::Ok, None, 0),
            (ProcessName::Phone, P::Ok, None, 2),
            (ProcessName::Profile, P::Ok, None, 2),
            (ProcessName::Address, P::Ok, None, 2),
            (
                ProcessName::TaxDetails,
                P::Failed,
                Some(ProcessReason::DataMismatch),
                2
            ),
            (
                ProcessName::Identity,
                P::Failed,
                Some(ProcessReason::ExpiredDocument),
                1
            ),
            (ProcessName::Screening, P::Exempt, None, 0),
        ]
    );
    assert_eq!(e.summary(), SummaryStatus::Restricted);
    let json = serde_json::to_value(e.process(ProcessName::TaxDetails)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"name": "taxDetails", "status": "failed", "reason": "data-mismatch", "attempts": 2})
    );
}

#[test]
fn profile_fails_with_the_first_failing_reason() {
    let full = us_full();
    let e = run(
        &full,
        &[check_with(
            outcomes(&full, &[(KycField::DateOfBirth, ProcessReason::Underage)]),
            0,
        )],
        &[],
        &[],
    );
    assert_eq!(
        process(&e, ProcessName::Profile),
        (P::Failed, Some(ProcessReason::Underage))
    );
    let bare = us_person();
    let e = run(&bare, &[check(&bare, &[], 0)], &[], &[]);
    assert_eq!(process(&e, ProcessName::Profile), (P::Pending, None));
    assert_eq!(process(&e, ProcessName::Identity), (P::Pending, None));
}

#[test]
fn no_level_rests_on_a_minor() {
    let mut data = us_minor();
    let e = run(&data, &[check(&data, &[], 0)], &[], &[]);
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(reqs(&e), ["DateOfBirth is invalid"]);
    assert_eq!(
        process(&e, ProcessName::Profile),
        (P::Failed, Some(ProcessReason::Underage))
    );
    data.date_of_birth = Some(DateOfBirth::parse("2008-01-05").unwrap()); // 18 today
    assert_eq!(
        run(&data, &[check(&data, &[], 0)], &[], &[]).level(),
        KycLevel::L1
    );
}

#[test]
fn the_second_failed_attempt_sends_the_identity_to_review() {
    let full = us_full();
    let one = [check(&full, &[KycField::Address], 0)];
    let e = run(&full, &one, &[], &[]);
    assert_eq!(
        (e.failed_attempts(), e.review_status()),
        (1, ReviewStatus::None)
    );
    let two = [one[0].clone(), check(&full, &[KycField::Ssn], 1)];
    let e = run(&full, &two, &[], &[]);
    assert_eq!(
        (e.failed_attempts(), e.review_status()),
        (2, ReviewStatus::Pending)
    );
    assert_eq!(
        statuses(&e),
        [E::Verified, E::PendingReview, E::PendingReview]
    );
    assert_eq!(e.summary(), SummaryStatus::Restricted);
    // A passing check in between does not reset the count: only a decision does.
    let three = [
        one[0].clone(),
        check(&full, &[], 1),
        check(&full, &[KycField::Ssn], 2),
    ];
    assert_eq!(
        run(&full, &three, &[], &[]).review_status(),
        ReviewStatus::Pending
    );
}

#[test]
fn a_duplicate_ssn_goes_to_review_at_once() {
    let full = us_full();
    let checks = [check_with(
        outcomes(&full, &[(KycField::Ssn, ProcessReason::Duplicate)]),
        0,
    )];
    let e = run(&full, &checks, &[], &[]);
    assert_eq!(e.review_status(), ReviewStatus::Pending);
    assert_eq!(e.failed_attempts(), 1);
    assert_eq!(
        process(&e, ProcessName::TaxDetails),
        (P::Failed, Some(ProcessReason::Duplicate))
    );
}

/// A pending review ends with a decision, not with a later evaluation that would no longer
/// have sent the identity there: here confirmation lets an earlier approval vouch for the
/// name whose failures sent it to review, yet it stays pending for the reviewer.
#[test]
fn a_pending_review_waits_for_a_decision() {
    let (adult, minor) = (us_full(), us_minor());
    let failing = |name: bool| {
        let mut failed = vec![(KycField::DateOfBirth, ProcessReason::Underage)];
        if name {
            failed.push((KycField::Name, ProcessReason::Fraud));
        }
        outcomes(&minor, &failed)
    };
    let mut checks = vec![check_with(failing(false), 0)];
    // The sandbox's simulated approval needs no pending review.
    let reviews = [ReviewRecord {
        decision: ReviewDecision::Approve {
            level: KycLevel::L2,
        },
        level_at_decision: KycLevel::L0,
        decided_at: at(1),
    }];
    checks.push(check_with(failing(true), 2));
    checks.push(check_with(failing(true), 3));
    let pending = run(&minor, &checks, &[], &reviews);
    assert_eq!(pending.review_status(), ReviewStatus::Pending);
    assert!(!pending.identity_confirmed());
    // The date of birth is corrected and the name passes: the identity reaches L1.
    checks.push(check(&adult, &[], 4));
    let facts = Facts {
        checks: &checks,
        reviews: &reviews,
        ..Facts::new(&adult).with_prior(&pending.kyc_state())
    };
    let e = evaluate(&facts, &POLICY, TODAY);
    assert!(e.identity_confirmed());
    assert_eq!(e.review_status(), ReviewStatus::Pending);
}

/// An international identity sharing an SSN goes to review; once a reviewer approved it, the
/// next check (run because the phone changed) finds the same duplicate and neither counts it
/// nor sends the identity back to review: the SSN is frozen on every ladder.
#[test]
fn a_reviewed_duplicate_ssn_stays_approved_on_the_international_ladder() {
    let full = PersonalData {
        ssn: Some(Ssn::parse("305464885").unwrap()),
        ..gb_full()
    };
    let duplicate = || {
        check_with(
            outcomes(&full, &[(KycField::Ssn, ProcessReason::Duplicate)]),
            0,
        )
    };
    let mut checks = vec![duplicate()];
    let pending = run(&full, &checks, &[], &[]);
    assert_eq!(pending.review_status(), ReviewStatus::Pending);
    let reviews = [pending
        .pending_review()
        .unwrap()
        .approve(KycLevel::L2, at(1))
        .unwrap()];
    let approved = run(&full, &checks, &[], &reviews);
    assert_eq!(approved.level(), KycLevel::L2);
    assert!(approved.identity_confirmed());
    checks.push(KycCheck {
        performed_at: at(2),
        ..duplicate()
    });
    let e = run_confirmed(&full, &checks, &reviews);
    assert_eq!(
        (e.level(), e.review_status(), e.failed_attempts()),
        (KycLevel::L2, ReviewStatus::Approved, 0)
    );
}

#[test]
fn an_approval_vouches_for_what_confirmation_freezes() {
    let full = us_full();
    let mut checks = vec![
        check(&full, &[KycField::Ssn], 0),
        check(&full, &[KycField::Ssn], 1),
    ];
    let pending = run(&full, &checks, &[], &[]);
    let record = pending
        .pending_review()
        .unwrap()
        .approve(KycLevel::L1, at(2))
        .unwrap();
    assert_eq!(record.level_at_decision, KycLevel::L0);
    let reviews = [record];
    let e = run(&full, &checks, &[], &reviews);
    assert_eq!(e.level(), KycLevel::L1);
    assert_eq!(e.review_status(), ReviewStatus::Approved);
    assert!(e.identity_confirmed());
    assert!(reqs(&e).is_empty(), "the reviewer vouched for the SSN");
    assert_eq!(docs(&e), ["proofOfId"]);
    assert_eq!(process(&e, ProcessName::TaxDetails), (P::Ok, None));
    assert_eq!(e.failed_attempts(), 0);

    // The server carries the confirmation over, and confirmation freezes the SSN.
    let confirmed = |checks: &[KycCheck]| run_confirmed(&full, checks, &reviews);
    // Later checks (the phone changed, an explicit re-run) fail the same SSN again: the
    // reviewer saw it, so the approval stands and they are not failed attempts.
    checks.push(check(&full, &[KycField::Ssn], 3));
    checks.push(check(&full, &[KycField::Ssn], 4));
    let e = confirmed(&checks);
    assert_eq!(e.level(), KycLevel::L1);
    assert!(reqs(&e).is_empty());
    assert_eq!(process(&e, ProcessName::TaxDetails), (P::Ok, None));
    assert_eq!(
        (e.failed_attempts(), e.review_status()),
        (0, ReviewStatus::Approved)
    );
    // What confirmation leaves open follows the data again: the integrator can fix it.
    checks.push(check(&full, &[KycField::Address, KycField::Ssn], 5));
    let e = confirmed(&checks);
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(reqs(&e), ["Address is invalid"]);
    assert!(e.identity_confirmed(), "confirmation is sticky");
    assert_eq!(
        (e.failed_attempts(), e.review_status()),
        (1, ReviewStatus::Approved)
    );
    checks.push(check(&full, &[KycField::Address], 6));
    assert_eq!(confirmed(&checks).review_status(), ReviewStatus::Pending);
    // Without confirmation nothing is frozen: the floor ends at the next check.
    let e = run(&full, &checks[..3], &[], &reviews);
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(reqs(&e), ["Ssn is invalid"]);
}

/// An identity an approval left below L1 (a minor: no approval verifies that) reaches L1 once
/// its date of birth is corrected: it is evaluated as the confirmed identity it becomes, so
/// what the server stores is what every later read computes (the approval's documents count
/// at once, not only from the next read on).
#[test]
fn confirmation_earned_now_counts_as_confirmation_carried_over() {
    let (adult, minor) = (us_full(), us_minor());
    let underage = || outcomes(&minor, &[(KycField::DateOfBirth, ProcessReason::Underage)]);
    let mut checks = vec![check_with(underage(), 0), check_with(underage(), 1)];
    let record = run(&minor, &checks, &[], &[])
        .pending_review()
        .unwrap()
        .approve(KycLevel::L2, at(2))
        .unwrap();
    let reviews = [record];
    assert_eq!(run(&minor, &checks, &[], &reviews).level(), KycLevel::L0);
    checks.push(check(&adult, &[], 3));
    let earned = run(&adult, &checks, &[], &reviews);
    assert!(earned.identity_confirmed());
    assert_eq!(earned, run_confirmed(&adult, &checks, &reviews));
    assert_eq!(earned.level(), KycLevel::L2);
    assert!(
        docs(&earned).is_empty(),
        "the approval vouched for the document"
    );
}

#[test]
fn an_approval_does_not_vouch_for_what_it_never_saw() {
    // Approved at L2 with no SSN (an international identity, then a move to the US): the SSN
    // provided afterwards is checked like any other.
    let gb = gb_full();
    let mut checks = vec![
        check(&gb, &[KycField::Address], 0),
        check(&gb, &[KycField::Address], 1),
    ];
    let record = run(&gb, &checks, &[], &[])
        .pending_review()
        .unwrap()
        .approve(KycLevel::L2, at(2))
        .unwrap();
    let reviews = [record];
    let mut moved = us_full();
    moved.first_name = gb.first_name.clone();
    moved.last_name = gb.last_name.clone();
    moved.date_of_birth = gb.date_of_birth;
    checks.push(check(&moved, &[KycField::Ssn], 3));
    let e = run_confirmed(&moved, &checks, &reviews);
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(reqs(&e), ["Ssn is invalid"]);
    // The approved level's document stays vouched for.
    assert!(docs(&e).is_empty());
    assert_eq!(process(&e, ProcessName::Identity), (P::Ok, None));
}

#[test]
fn no_approval_makes_a_minor_verified() {
    let minor = us_minor();
    let checks = [
        check_with(
            outcomes(&minor, &[(KycField::DateOfBirth, ProcessReason::Underage)]),
            0,
        ),
        check_with(
            outcomes(&minor, &[(KycField::DateOfBirth, ProcessReason::Underage)]),
            1,
        ),
    ];
    let record = run(&minor, &checks, &[], &[])
        .pending_review()
        .unwrap()
        .approve(KycLevel::L2, at(2))
        .unwrap();
    let e = run(&minor, &checks, &[], &[record]);
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(reqs(&e), ["DateOfBirth is invalid"]);
    assert_eq!(
        process(&e, ProcessName::Profile),
        (P::Failed, Some(ProcessReason::Underage))
    );
    assert!(!e.identity_confirmed());
}

#[test]
fn a_rejection_closes_the_path() {
    let full = us_full();
    let mut checks = vec![
        check(&full, &[KycField::Ssn], 0),
        check(&full, &[KycField::Ssn], 1),
    ];
    let record = run(&full, &checks, &[], &[])
        .pending_review()
        .unwrap()
        .reject(Some(ProcessReason::Fraud), at(2));
    let reviews = [record];
    // Even once the data passes, the level stays where the rejection left it.
    checks.push(check(&full, &[], 3));
    let e = run(
        &full,
        &checks,
        &[document(DocumentStatus::Approved, 4)],
        &reviews,
    );
    assert_eq!(e.level(), KycLevel::L0);
    assert_eq!(e.review_status(), ReviewStatus::Rejected);
    assert_eq!(statuses(&e), [E::Verified, E::Rejected, E::Rejected]);
    assert_eq!(elig(&e, "onramp"), (E::Rejected, vec![], vec![]));
    assert_eq!(e.summary(), SummaryStatus::Restricted);
    assert!(matches!(
        e.pending_review(),
        Err(TierError::ReviewNotPending {
            status: ReviewStatus::Rejected
        })
    ));
}

#[test]
fn a_request_for_information_lists_what_the_reviewer_wants() {
    let full = us_full();
    let checks = [
        check(&full, &[KycField::Address], 0),
        check(&full, &[KycField::Address], 1),
    ];
    let record = run(&full, &checks, &[], &[])
        .pending_review()
        .unwrap()
        .request_information(
            FieldSet::of(&[KycField::Address]),
            DocumentSet::of(&[MissingDocument::ProofOfAddress]),
            at(2),
        )
        .unwrap();
    let reviews = [record];
    let e = run(&full, &checks, &[], &reviews);
    assert_eq!(e.review_status(), ReviewStatus::InformationRequested);
    assert_eq!(docs(&e), ["proofOfAddress"]);
    assert_eq!(
        elig(&e, "offramp"),
        (
            E::RequiresData,
            vec![KycField::Address],
            vec![PROOF, MissingDocument::ProofOfAddress]
        )
    );
    assert_eq!(e.summary(), SummaryStatus::Restricted);
    // The integrator answers: back to the reviewer.
    let answered = [checks[0].clone(), checks[1].clone(), check(&full, &[], 3)];
    let e = run(&full, &answered, &[], &reviews);
    assert_eq!(e.review_status(), ReviewStatus::Pending);
    assert_eq!(e.level(), KycLevel::L1);
    assert!(docs(&e).contains(&"proofOfId"));
    let documents = [document(DocumentStatus::ManualReviewNeeded, 3)];
    assert_eq!(
        run(&full, &checks, &documents, &reviews).review_status(),
        ReviewStatus::Pending
    );
}

#[test]
fn review_decisions_are_checked() {
    let gb = gb_full();
    let checks = [
        check(&gb, &[KycField::Address], 0),
        check(&gb, &[KycField::Address], 1),
    ];
    let e = run(&gb, &checks, &[], &[]);
    let pending = || e.pending_review().unwrap();
    assert_eq!(pending().level(), KycLevel::L0);
    assert_eq!(
        pending().approve(KycLevel::L1, at(2)),
        Err(TierError::LevelNotAvailable {
            level: KycLevel::L1,
            region: Region::International
        })
    );
    assert_eq!(
        pending().request_information(FieldSet::EMPTY, DocumentSet::EMPTY, at(2)),
        Err(TierError::EmptyInformationRequest)
    );
    let wire = ReviewDecision::RequestInformation {
        missing_data: vec![KycField::DateOfBirth, KycField::Address, KycField::Address],
        missing_documents: vec![],
    };
    let record = pending().decide(wire, at(2)).unwrap();
    assert_eq!(
        record.decision,
        ReviewDecision::RequestInformation {
            missing_data: vec![KycField::Address, KycField::DateOfBirth],
            missing_documents: vec![]
        }
    );
    let approved = pending()
        .decide(
            ReviewDecision::Approve {
                level: KycLevel::L2,
            },
            at(2),
        )
        .unwrap();
    let e = run(&gb, &checks, &[], &[approved]);
    assert_eq!(
        e.level(),
        KycLevel::L2,
        "approving L2 vouches for the document too"
    );
    assert_eq!(process(&e, ProcessName::Identity), (P::Ok, None));
    assert_eq!(
        run(&gb, &checks[..1], &[], &[])
            .pending_review()
            .unwrap_err()
            .code(),
        "review_not_pending"
    );
}

#[test]
fn exhausted_uploads_reject_only_what_needs_a_document() {
    let full = us_full();
    let checks = [check(&full, &[], 0)];
    let documents: Vec<_> = (0..9)
        .map(|i| document(DocumentStatus::Resubmit, 10 + i))
        .collect();
    let e = run(&full, &checks, &documents, &[]);
    assert_eq!(e.uploads().rejections(), 3);
    assert!(e.uploads().can_upload().is_err());
    assert_eq!(statuses(&e), [E::Verified, E::Verified, E::Rejected]);
    assert_eq!(
        process(&e, ProcessName::Identity),
        (P::Failed, Some(ProcessReason::MissingDeclaredInformation))
    );
    assert_eq!(e.summary(), SummaryStatus::Restricted);
    // Eight resubmits are two rejections: one more try is allowed.
    let e = run(&full, &checks, &documents[..8], &[]);
    assert_eq!(e.uploads().rejections(), 2);
    assert_eq!(elig(&e, "offramp").0, E::RequiresData);
}

#[test]
fn a_blocked_identity_is_rejected_everywhere() {
    let full = us_full();
    let checks = [check(&full, &[], 0)];
    let prior = KycState {
        blocked: true,
        ..KycState::default()
    };
    let facts = Facts {
        checks: &checks,
        ..Facts::new(&full).with_prior(&prior)
    };
    let e = evaluate(&facts, &POLICY, TODAY);
    assert_eq!(e.level(), KycLevel::L1);
    assert!(e.blocked());
    assert_eq!(e.summary(), SummaryStatus::Blocked);
    assert_eq!(statuses(&e), [E::Rejected; 3]);
}

#[test]
fn the_snapshot_and_the_wire_shape() {
    let bare = us_person();
    let e = run(&bare, &[check(&bare, &[], 0)], &[], &[]);
    let state = e.kyc_state();
    assert_eq!(state.kyc_level, KycLevel::L0);
    assert_eq!(state.upgrade_requirements, e.upgrade_requirements());
    assert_eq!(state.review_status, ReviewStatus::None);
    let json = serde_json::to_value(e.eligibility_for("onramp").unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "type": "onramp",
            "status": "requires-data",
            "missingData": ["address", "ssn", "dateOfBirth"],
            "missingDocuments": []
        })
    );
    let whole = serde_json::to_value(&e).unwrap();
    assert_eq!(whole["kycLevel"], "L0");
    assert_eq!(whole["upgradeRequirements"][0], "Address is not provided");
    assert_eq!(whole["summary"], "pending");
}

#[test]
fn the_confirmed_field_lock() {
    let old = us_full();
    let mut new = old.clone();
    new.first_name = kyc_model::PersonName::parse("Johnny").unwrap();
    new.gender = Some(kyc_model::Gender::Male);
    new.email = kyc_model::Email::parse("johnny@example.com").unwrap();
    let changed = ChangedFields::between(&old, &new);
    assert_eq!(
        changed.iter().collect::<Vec<_>>(),
        [
            PersonalField::FirstName,
            PersonalField::Email,
            PersonalField::Gender
        ]
    );
    assert!(changed.needs_kyc_check());
    let confirmed = KycState {
        identity_confirmed: true,
        ..KycState::default()
    };
    let err = ensure_unlocked(&confirmed, &old, changed).unwrap_err();
    assert_eq!(err.code(), "identity_confirmed_field_locked");
    assert_eq!(
        err.to_string(),
        "the identity is confirmed; these fields can no longer change: firstName, gender"
    );
    assert!(ensure_unlocked(&KycState::default(), &old, changed).is_ok());
    let email_only: ChangedFields = [PersonalField::Email, PersonalField::Address]
        .into_iter()
        .collect();
    assert!(ensure_unlocked(&confirmed, &old, email_only).is_ok());
    assert!(ChangedFields::between(&old, &old).is_empty());
    assert!(!ChangedFields::between(&old, &new).locked().is_empty());
    let only_email: ChangedFields = std::iter::once(PersonalField::Email).collect();
    assert!(!only_email.needs_kyc_check());
    let mut without_ssn = old.clone();
    without_ssn.ssn = None;
    assert!(
        ensure_unlocked(&confirmed, &old, ChangedFields::between(&old, &without_ssn)).is_err(),
        "clearing a locked field is a change"
    );
    // A missing SSN or date of birth may be provided once; a missing gender may not.
    let mut bare = old.clone();
    bare.ssn = None;
    bare.date_of_birth = None;
    assert!(ensure_unlocked(&confirmed, &bare, ChangedFields::between(&bare, &old)).is_ok());
    let mut with_gender = bare.clone();
    with_gender.gender = Some(kyc_model::Gender::Female);
    let err = ensure_unlocked(
        &confirmed,
        &bare,
        ChangedFields::between(&bare, &with_gender),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the identity is confirmed; these fields can no longer change: gender"
    );
}
