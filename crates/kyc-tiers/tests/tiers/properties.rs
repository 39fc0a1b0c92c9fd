//! Properties of `evaluate` over arbitrary facts: total, deterministic, internally consistent,
//! and monotone in verified facts.

use kyc_model::{
    DateOfBirth, Document, DocumentId, DocumentStatus, EligibilityStatus, FieldOutcome,
    FieldOutcomes, KycCheck, KycField, KycLevel, MissingDocument, PersonalData, ProcessName,
    ProcessReason, ProcessStatus, Region, ReviewDecision, ReviewRecord, ReviewStatus, Ssn,
};
use kyc_tiers::{Evaluation, Facts, Policy, evaluate};
use proptest::prelude::*;
use time::{Date, Duration};

use crate::common::*;

const REASONS: [ProcessReason; 6] = ProcessReason::ALL;
const STATUSES: [DocumentStatus; 4] = DocumentStatus::ALL;
const DOBS: [&str; 4] = ["1990-05-05", "2010-03-03", "1900-01-01", "2000-02-29"];

#[derive(Clone, Debug)]
struct Input {
    data: PersonalData,
    region: Region,
    checks: Vec<KycCheck>,
    documents: Vec<Document>,
    reasons: Vec<(DocumentId, ProcessReason)>,
    reviews: Vec<ReviewRecord>,
    confirmed: bool,
    review_pending: bool,
    blocked: bool,
    today: Date,
}

impl Input {
    fn evaluate<'p>(&self, policy: &'p Policy) -> Evaluation<'p> {
        let facts = Facts {
            data: &self.data,
            region: self.region,
            checks: &self.checks,
            documents: &self.documents,
            document_reasons: &self.reasons,
            reviews: &self.reviews,
            confirmed: self.confirmed,
            review_pending: self.review_pending,
            blocked: self.blocked,
        };
        evaluate(&facts, policy, self.today)
    }

    /// The index of the check `evaluate` treats as the latest.
    fn latest_check(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, c) in self.checks.iter().enumerate() {
            if best.is_none_or(|b| c.performed_at >= self.checks[b].performed_at) {
                best = Some(i);
            }
        }
        best
    }
}

fn outcome() -> impl Strategy<Value = FieldOutcome> {
    prop_oneof![
        Just(FieldOutcome::NotProvided),
        Just(FieldOutcome::Passed),
        Just(FieldOutcome::Passed),
        (0..REASONS.len()).prop_map(|i| FieldOutcome::Failed {
            reason: REASONS[i],
            rule: "rule".to_owned()
        }),
    ]
}

fn kyc_check() -> impl Strategy<Value = KycCheck> {
    (
        outcome(),
        outcome(),
        outcome(),
        outcome(),
        outcome(),
        0..60_i64,
    )
        .prop_map(|(phone, name, address, ssn, date_of_birth, minute)| {
            check_with(
                FieldOutcomes {
                    phone,
                    name,
                    address,
                    ssn,
                    date_of_birth,
                },
                minute,
            )
        })
}

fn level() -> impl Strategy<Value = KycLevel> {
    (0..3_usize).prop_map(|i| KycLevel::ALL[i])
}

fn review_record() -> impl Strategy<Value = ReviewRecord> {
    let decision = prop_oneof![
        level().prop_map(|level| ReviewDecision::Approve { level }),
        proptest::option::of(0..REASONS.len()).prop_map(|r| ReviewDecision::Reject {
            reason: r.map(|i| REASONS[i])
        }),
        (proptest::bits::u8::masked(0b1_1111), any::<bool>()).prop_map(|(fields, proof)| {
            ReviewDecision::RequestInformation {
                missing_data: KycField::ALL
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| fields & (1 << i) != 0)
                    .map(|(_, f)| f)
                    .collect(),
                missing_documents: if proof {
                    vec![MissingDocument::ProofOfAddress]
                } else {
                    vec![]
                },
            }
        }),
    ];
    (decision, level(), 0..60_i64).prop_map(|(d, l, m)| review(d, l, m))
}

fn personal_data() -> impl Strategy<Value = PersonalData> {
    (
        any::<bool>(),
        0..3_u8,
        any::<bool>(),
        proptest::option::of(0..DOBS.len()),
    )
        .prop_map(|(us_phone, address, ssn, dob)| {
            let mut d = if us_phone { us_person() } else { gb_person() };
            d.address = match address {
                0 => None,
                1 => Some(us_address()),
                _ => Some(gb_address()),
            };
            d.ssn = ssn.then(|| Ssn::parse("305464885").unwrap());
            d.date_of_birth = dob.map(|i| DateOfBirth::parse(DOBS[i]).unwrap());
            d
        })
}

fn input() -> impl Strategy<Value = Input> {
    (
        personal_data(),
        any::<bool>(),
        proptest::collection::vec(kyc_check(), 0..5),
        proptest::collection::vec((0..STATUSES.len(), 0..60_i64, any::<bool>()), 0..8),
        proptest::collection::vec(review_record(), 0..3),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        -30_000..30_000_i64,
    )
        .prop_map(
            |(data, us, checks, docs, reviews, (confirmed, review_pending, blocked), days)| {
                let documents: Vec<Document> = docs
                    .iter()
                    .map(|&(s, m, _)| document(STATUSES[s], m))
                    .collect();
                let reasons = documents
                    .iter()
                    .zip(&docs)
                    .filter(|(_, (_, _, reason))| *reason)
                    .map(|(d, _)| (d.id, ProcessReason::ExpiredDocument))
                    .collect();
                Input {
                    data,
                    region: if us {
                        Region::Us
                    } else {
                        Region::International
                    },
                    checks,
                    documents,
                    reasons,
                    reviews,
                    confirmed,
                    review_pending,
                    blocked,
                    today: TODAY + Duration::days(days),
                }
            },
        )
}

proptest! {
    /// What the server stores is what it computes again later: evaluating an identity with
    /// the sticky state the evaluation gave it (confirmation, a pending review) changes
    /// nothing.
    #[test]
    fn the_stored_confirmation_is_a_fixed_point(input in input()) {
        let policy = Policy::default_policy();
        let first = input.evaluate(&policy);
        let again = Input {
            confirmed: first.identity_confirmed(),
            review_pending: first.review_status() == ReviewStatus::Pending,
            ..input.clone()
        };
        prop_assert_eq!(again.evaluate(&policy), first);
    }

    #[test]
    fn evaluate_is_total_deterministic_and_consistent(input in input()) {
        let policy = Policy::default_policy();
        let e = input.evaluate(&policy);
        prop_assert_eq!(&e, &input.evaluate(&policy));

        let reqs = e.upgrade_requirements();
        prop_assert!(reqs.windows(2).all(|w| w[0] < w[1]), "wire order, no repeats");
        if e.level() == KycLevel::L2 {
            prop_assert!(reqs.is_empty());
        }
        if e.level() >= KycLevel::L1 {
            prop_assert!(e.identity_confirmed());
        }
        if input.confirmed {
            prop_assert!(e.identity_confirmed(), "confirmation is sticky");
        }
        if input.region == Region::International {
            prop_assert!(e.level() != KycLevel::L1);
        }
        for el in e.eligibility() {
            let needed = policy.product(el.product.as_str()).unwrap().needs(input.region);
            if el.status == EligibilityStatus::Verified {
                prop_assert!(e.level() >= needed);
            }
            if input.blocked {
                prop_assert_eq!(el.status, EligibilityStatus::Rejected);
            }
            if matches!(el.status, EligibilityStatus::Verified | EligibilityStatus::Rejected) {
                prop_assert!(el.missing_data.is_empty() && el.missing_documents.is_empty());
            }
        }
        prop_assert_eq!(
            e.pending_review().is_ok(),
            e.review_status() == ReviewStatus::Pending
        );
        for p in e.processes() {
            prop_assert_eq!(p.status == ProcessStatus::Failed, p.reason.is_some(), "a reason exactly where failed");
        }
        let state = e.kyc_state();
        prop_assert_eq!(state.kyc_level, e.level());
        prop_assert_eq!(state.review_status, e.review_status());
    }

    #[test]
    fn a_verified_fact_never_lowers_the_level(input in input(), field in 0..5_usize) {
        let policy = Policy::default_policy();
        let before = input.evaluate(&policy).level();

        // The latest check now passes one more field (adding the value if it was absent).
        if let Some(latest) = input.latest_check() {
            let mut more = input.clone();
            let f = KycField::ALL[field];
            match f {
                KycField::Ssn if more.data.ssn.is_none() => {
                    more.data.ssn = Some(Ssn::parse("305464885").unwrap());
                }
                KycField::DateOfBirth if more.data.date_of_birth.is_none() => {
                    more.data.date_of_birth = Some(DateOfBirth::parse(DOBS[0]).unwrap());
                }
                // Adding an address could move the person to another ladder: not the same fact.
                KycField::Address if more.data.address.is_none() => {}
                _ => {}
            }
            let outcomes = &mut more.checks[latest].outcomes;
            let slot = match f {
                KycField::Phone => &mut outcomes.phone,
                KycField::Name => &mut outcomes.name,
                KycField::Address => &mut outcomes.address,
                KycField::Ssn => &mut outcomes.ssn,
                KycField::DateOfBirth => &mut outcomes.date_of_birth,
            };
            *slot = FieldOutcome::Passed;
            let after = more.evaluate(&policy);
            // A date of birth that makes the person a minor on `today` is no verified fact,
            // whatever the check or a reviewer said.
            let minor = f == KycField::DateOfBirth
                && after.process(ProcessName::Profile).reason == Some(ProcessReason::Underage);
            prop_assert!(minor || after.level() >= before);
        }

        // An approved document, uploaded after everything else.
        let mut more = input.clone();
        more.documents.push(document(DocumentStatus::Approved, 120));
        prop_assert!(more.evaluate(&policy).level() >= before);
    }
}
