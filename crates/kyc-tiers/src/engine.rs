//! `evaluate`: an identity's facts and a policy in, its level, requirements, processes,
//! eligibility and review status out.

use kyc_model::{
    Document, DocumentId, DocumentStatus, EligibilityStatus, FieldOutcome, FieldOutcomes, KycCheck,
    KycField, KycLevel, KycState, MissingDocument, PersonalData, ProcessName, ProcessReason,
    ProcessStatus, ProductId, Region, ReviewDecision, ReviewRecord, ReviewStatus, SummaryStatus,
    UpgradeRequirement,
};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::{
    DocumentAttempts, DocumentSet, FieldSet, KycAttempts, Policy, ReviewTrigger,
    policy::{Ladder, LevelRule, level_index},
};

/// Everything the engine knows about one personal identity. Borrowed, so building it costs
/// nothing; [`Facts::new`] fills in the defaults of a fresh identity.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// The identity's current data.
    pub data: &'a PersonalData,
    /// The ladder it climbs; [`Facts::new`] takes it from [`PersonalData::region`].
    pub region: Region,
    /// Every KYC check run on the identity, in any order. The latest (by `performed_at`, the
    /// later in the slice on a tie) is taken to cover the current data: the server runs a check
    /// after every change to a KYC field.
    pub checks: &'a [KycCheck],
    /// Every document uploaded for the identity, in any order.
    pub documents: &'a [Document],
    /// Why documents were rejected, where known (a reviewer's or an import's verdict).
    pub document_reasons: &'a [(DocumentId, ProcessReason)],
    /// Every recorded review decision on the identity, in any order.
    pub reviews: &'a [ReviewRecord],
    /// Whether the identity was confirmed before: confirmation is sticky.
    pub confirmed: bool,
    /// Whether the identity was pending review before: it stays so until a review decision
    /// made after everything that happened to it (a reviewer takes it out of the queue, not a
    /// later evaluation that would no longer have sent it there).
    pub review_pending: bool,
    /// Whether an operator blocked the identity.
    pub blocked: bool,
}

impl<'a> Facts<'a> {
    /// The facts of an identity with `data` and nothing else yet: no check, no document, no
    /// review, not confirmed, not blocked.
    pub fn new(data: &'a PersonalData) -> Self {
        Self {
            data,
            region: data.region(),
            checks: &[],
            documents: &[],
            document_reasons: &[],
            reviews: &[],
            confirmed: false,
            review_pending: false,
            blocked: false,
        }
    }

    /// Carries over the sticky parts of the stored state (`identityConfirmed`, a pending
    /// `reviewStatus`, `blocked`).
    #[must_use]
    pub fn with_prior(mut self, prior: &KycState) -> Self {
        self.confirmed = prior.identity_confirmed;
        self.review_pending = prior.review_status == ReviewStatus::Pending;
        self.blocked = prior.blocked;
        self
    }
}

/// One process of `GET /personal-identities/{id}/kyc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessReport {
    pub name: ProcessName,
    pub status: ProcessStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ProcessReason>,
    /// KYC checks that looked at the process's data (documents uploaded, for `identity`).
    pub attempts: u32,
}

/// Whether the identity may use one product yet (`GET .../eligibility`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eligibility<'p> {
    #[serde(rename = "type")]
    pub product: &'p ProductId,
    pub status: EligibilityStatus,
    /// What the integrator still has to provide or correct, as wire field names.
    pub missing_data: FieldSet,
    /// Documents still to upload.
    pub missing_documents: DocumentSet,
}

/// The outcome of [`evaluate`]. Read-only: the review state machine
/// ([`Evaluation::pending_review`]) relies on it being exactly what the engine computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation<'p> {
    region: Region,
    kyc_level: KycLevel,
    upgrade_requirements: Vec<UpgradeRequirement>,
    missing_documents: Vec<MissingDocument>,
    identity_confirmed: bool,
    blocked: bool,
    review_status: ReviewStatus,
    summary: SummaryStatus,
    processes: [ProcessReport; 7],
    eligibility: Vec<Eligibility<'p>>,
    failed_attempts: u32,
    #[serde(skip)]
    review_trigger: Option<ReviewTrigger>,
    #[serde(skip)]
    uploads: DocumentAttempts,
    #[serde(skip)]
    policy: &'p Policy,
}

impl<'p> Evaluation<'p> {
    /// The ladder the identity was evaluated on.
    pub const fn region(&self) -> Region {
        self.region
    }

    /// The KYC level (`kycLevel`).
    pub const fn level(&self) -> KycLevel {
        self.kyc_level
    }

    /// What blocks the next level, in wire order (`upgradeRequirements`).
    pub fn upgrade_requirements(&self) -> &[UpgradeRequirement] {
        &self.upgrade_requirements
    }

    /// Documents the next level needs (`missingDocuments`).
    pub fn missing_documents(&self) -> &[MissingDocument] {
        &self.missing_documents
    }

    /// Whether the identity is confirmed (`identityConfirmed`): reached L1 now or before.
    pub const fn identity_confirmed(&self) -> bool {
        self.identity_confirmed
    }

    /// Whether the identity is blocked.
    pub const fn blocked(&self) -> bool {
        self.blocked
    }

    /// Where the identity stands with the review queue (`reviewStatus`).
    pub const fn review_status(&self) -> ReviewStatus {
        self.review_status
    }

    /// The overall status (`summary.status`).
    pub const fn summary(&self) -> SummaryStatus {
        self.summary
    }

    /// All seven processes, in report order.
    pub const fn processes(&self) -> &[ProcessReport; 7] {
        &self.processes
    }

    /// One process.
    pub fn process(&self, name: ProcessName) -> ProcessReport {
        let i = ProcessName::ALL
            .iter()
            .position(|&n| n == name)
            .unwrap_or(0);
        self.processes[i]
    }

    /// Eligibility per product, in policy order.
    pub fn eligibility(&self) -> &[Eligibility<'p>] {
        &self.eligibility
    }

    /// Eligibility for one product, by name.
    pub fn eligibility_for(&self, product: &str) -> Option<&Eligibility<'p>> {
        self.eligibility
            .iter()
            .find(|e| e.product.as_str() == product)
    }

    /// Failed KYC checks since the last review decision.
    pub const fn failed_attempts(&self) -> u32 {
        self.failed_attempts
    }

    /// Why the checks since the last decision require review, if they do: a duplicate (on any
    /// field, even one the ladder does not use) or too many failed attempts.
    pub const fn review_trigger(&self) -> Option<ReviewTrigger> {
        self.review_trigger
    }

    /// The document attempt counter; [`DocumentAttempts::can_upload`] gates the next upload.
    pub const fn uploads(&self) -> &DocumentAttempts {
        &self.uploads
    }

    /// The persisted snapshot of the server-owned KYC fields.
    pub fn kyc_state(&self) -> KycState {
        KycState {
            kyc_level: self.kyc_level,
            upgrade_requirements: self.upgrade_requirements.clone(),
            missing_documents: self.missing_documents.clone(),
            identity_confirmed: self.identity_confirmed,
            blocked: self.blocked,
            review_status: self.review_status,
        }
    }

    pub(crate) const fn policy(&self) -> &'p Policy {
        self.policy
    }
}

/// How one KYC field stands after the latest check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldState {
    /// The identity has no value, or the latest check saw none.
    Absent,
    /// A value, and no check has run yet.
    Unchecked,
    Passed,
    Failed(ProcessReason),
}

const fn field_index(field: KycField) -> usize {
    match field {
        KycField::Phone => 0,
        KycField::Name => 1,
        KycField::Address => 2,
        KycField::Ssn => 3,
        KycField::DateOfBirth => 4,
    }
}

const fn requirement(field: KycField, invalid: bool) -> UpgradeRequirement {
    use UpgradeRequirement as R;
    match (field, invalid) {
        (KycField::Phone, true) => R::PhoneInvalid,
        (KycField::Phone, false) => R::PhoneNotProvided,
        (KycField::Name, true) => R::NameInvalid,
        (KycField::Name, false) => R::NameNotProvided,
        (KycField::Address, true) => R::AddressInvalid,
        (KycField::Address, false) => R::AddressNotProvided,
        (KycField::Ssn, true) => R::SsnInvalid,
        (KycField::Ssn, false) => R::SsnNotProvided,
        (KycField::DateOfBirth, true) => R::DateOfBirthInvalid,
        (KycField::DateOfBirth, false) => R::DateOfBirthNotProvided,
    }
}

const fn present(data: &PersonalData, field: KycField) -> bool {
    match field {
        // Required on every personal identity, so always there.
        KycField::Phone | KycField::Name => true,
        KycField::Address => data.address.is_some(),
        KycField::Ssn => data.ssn.is_some(),
        KycField::DateOfBirth => data.date_of_birth.is_some(),
    }
}

/// Age in whole years on `today`; someone born on 29 February comes of age on 1 March in
/// non-leap years, as in `kyc-rules`.
fn age_on(dob: Date, today: Date) -> i32 {
    let before_birthday =
        (u8::from(today.month()), today.day()) < (u8::from(dob.month()), dob.day());
    today.year() - dob.year() - i32::from(before_birthday)
}

/// The five field states, indexed by `field_index`.
#[derive(Clone, Copy)]
struct States([FieldState; 5]);

impl States {
    const fn get(&self, field: KycField) -> FieldState {
        self.0[field_index(field)]
    }

    fn passed(&self) -> FieldSet {
        KycField::ALL
            .into_iter()
            .filter(|&f| self.get(f) == FieldState::Passed)
            .collect()
    }

    /// Fields of `wanted` that the integrator must provide or correct.
    fn missing(&self, wanted: FieldSet) -> FieldSet {
        wanted
            .iter()
            .filter(|&f| matches!(self.get(f), FieldState::Absent | FieldState::Failed(_)))
            .collect()
    }

    /// The status of a process made of `fields` (those the ladder asks for).
    fn process(&self, name: ProcessName, fields: FieldSet, attempts: u32) -> ProcessReport {
        let mut status = if fields.is_empty() {
            ProcessStatus::Exempt
        } else {
            ProcessStatus::Ok
        };
        let mut reason = None;
        for f in fields.iter() {
            match self.get(f) {
                FieldState::Failed(r) if reason.is_none() => {
                    status = ProcessStatus::Failed;
                    reason = Some(r);
                }
                FieldState::Unchecked if status != ProcessStatus::Failed => {
                    status = ProcessStatus::Running;
                }
                FieldState::Absent if status == ProcessStatus::Ok => {
                    status = ProcessStatus::Pending;
                }
                _ => {}
            }
        }
        ProcessReport {
            name,
            status,
            reason,
            attempts,
        }
    }
}

/// What the documents show, in one pass.
struct DocumentFacts<'d> {
    approved: DocumentSet,
    in_review: DocumentSet,
    latest: Option<&'d Document>,
    attempts: DocumentAttempts,
}

impl<'d> DocumentFacts<'d> {
    fn scan(documents: &'d [Document], policy: &Policy) -> Self {
        let mut approved = DocumentSet::EMPTY;
        let mut in_review = DocumentSet::EMPTY;
        let mut latest: Option<&Document> = None;
        for d in documents {
            // Every document type kycd accepts is a government photo id.
            match d.status {
                DocumentStatus::Approved => approved = approved.with(MissingDocument::ProofOfId),
                DocumentStatus::ManualReviewNeeded => {
                    in_review = in_review.with(MissingDocument::ProofOfId);
                }
                DocumentStatus::Resubmit | DocumentStatus::Rejected => {}
            }
            if latest.is_none_or(|l| d.created_at >= l.created_at) {
                latest = Some(d);
            }
        }
        Self {
            approved,
            in_review,
            latest,
            attempts: DocumentAttempts::from_documents(documents, policy),
        }
    }
}

/// The latest of `items` by `at`, the later in the slice on a tie.
fn latest_by<T>(items: &[T], at: impl Fn(&T) -> OffsetDateTime) -> Option<&T> {
    items
        .iter()
        .fold(None, |best: Option<&T>, item| match best {
            Some(b) if at(item) < at(b) => Some(b),
            _ => Some(item),
        })
}

/// Evaluates one identity under `policy` as of `today`. Pure, deterministic and total: the same
/// inputs always give the same evaluation, and no input makes it panic.
///
/// See `docs/tier-policy.md` for every rule it applies.
pub fn evaluate<'p>(facts: &Facts<'_>, policy: &'p Policy, today: Date) -> Evaluation<'p> {
    let evaluation = evaluate_once(facts, policy, today);
    // Reaching L1 confirms the identity, and an approval vouches for more of a confirmed
    // identity (`LastingApproval`): evaluate it as the confirmed identity it has just become,
    // so that the state stored now is the one every later evaluation computes. Confirmation
    // only adds vouching, so a second pass is the fixed point.
    if evaluation.identity_confirmed && !facts.confirmed {
        let confirmed = Facts {
            confirmed: true,
            ..*facts
        };
        return evaluate_once(&confirmed, policy, today);
    }
    evaluation
}

fn evaluate_once<'p>(facts: &Facts<'_>, policy: &'p Policy, today: Date) -> Evaluation<'p> {
    let region = facts.region;
    let ladder = policy.ladder(region);
    let last_decision = latest_by(facts.reviews, |r| r.decided_at);
    let after_decision = |t: OffsetDateTime| last_decision.is_none_or(|r| t > r.decided_at);
    let lasting = LastingApproval::of(last_decision, facts, ladder);

    // One pass over the checks: the latest, the attempts since the last decision, and how
    // often each process's data was looked at.
    let mut latest: Option<&KycCheck> = None;
    let mut attempts = KycAttempts::new();
    let mut field_attempts = [0_u32; 5];
    let mut profile_attempts = 0_u32;
    let mut checked_since_decision = false;
    for check in facts.checks {
        if latest.is_none_or(|l| check.performed_at >= l.performed_at) {
            latest = Some(check);
        }
        for f in KycField::ALL {
            if *check.outcomes.get(f) != FieldOutcome::NotProvided {
                field_attempts[field_index(f)] += 1;
            }
        }
        if check.outcomes.name != FieldOutcome::NotProvided
            || check.outcomes.date_of_birth != FieldOutcome::NotProvided
        {
            profile_attempts += 1;
        }
        if after_decision(check.performed_at) {
            checked_since_decision = true;
            attempts = attempts.record(
                &lasting.masked(&check.outcomes),
                ladder.fields,
                policy.failed_attempts_before_review(),
            );
        }
    }

    // New data or a new document since the last decision. A pending review ends with a
    // decision made after all of it, whatever a later evaluation would say.
    let active_since_decision =
        checked_since_decision || facts.documents.iter().any(|d| after_decision(d.created_at));
    let still_pending = facts.review_pending && (last_decision.is_none() || active_since_decision);
    let review_status = if attempts.review_required() || still_pending {
        ReviewStatus::Pending
    } else {
        match last_decision.map(|r| &r.decision) {
            None => ReviewStatus::None,
            Some(ReviewDecision::Approve { .. }) => ReviewStatus::Approved,
            Some(ReviewDecision::Reject { .. }) => ReviewStatus::Rejected,
            Some(ReviewDecision::RequestInformation { .. }) => {
                // The integrator answered (new data or a new document): back to the reviewer.
                if active_since_decision {
                    ReviewStatus::Pending
                } else {
                    ReviewStatus::InformationRequested
                }
            }
        }
    };

    // An approval vouches for the data it saw: all of it until the next check, which the
    // server runs exactly when KYC data changes (or on an explicit re-run); what confirmation
    // freezes, and the documents, for as long as it is the last decision (`lasting`).
    let floor: Option<&LevelRule> = match last_decision {
        Some(ReviewRecord {
            decision: ReviewDecision::Approve { level },
            ..
        }) if !checked_since_decision => highest_at_most(ladder, *level),
        _ => None,
    };
    // A rejection caps the level where it stood until a later review approves.
    let cap = match last_decision {
        Some(ReviewRecord {
            decision: ReviewDecision::Reject { .. },
            level_at_decision,
            ..
        }) => Some(*level_at_decision),
        _ => None,
    };
    let requested = match (review_status, last_decision.map(|r| &r.decision)) {
        (
            ReviewStatus::InformationRequested,
            Some(ReviewDecision::RequestInformation {
                missing_data,
                missing_documents,
            }),
        ) => (
            missing_data.iter().copied().collect::<FieldSet>(),
            missing_documents.iter().copied().collect::<DocumentSet>(),
        ),
        _ => (FieldSet::EMPTY, DocumentSet::EMPTY),
    };

    let vouched = floor
        .map_or(FieldSet::EMPTY, LevelRule::cumulative_fields)
        .union(lasting.fields);
    let states = field_states(facts.data, latest, vouched, policy, today);
    let docs = DocumentFacts::scan(facts.documents, policy);
    let vouched_docs = floor
        .map_or(DocumentSet::EMPTY, LevelRule::cumulative_documents)
        .union(lasting.documents);
    let docs_ok = docs.approved.union(vouched_docs);

    // Levels: satisfied when their own demands are met and their base is satisfied; `requires`
    // names a lower level, so one pass upwards suffices.
    let passed = states.passed();
    let mut satisfied = [false; 3];
    for level in KycLevel::ALL {
        if let Some(rule) = ladder.rule(level) {
            satisfied[level_index(level)] = rule.fields().is_subset(passed)
                && rule.documents().is_subset(docs_ok)
                && rule.requires().is_none_or(|r| satisfied[level_index(r)]);
        }
    }
    let effective = KycLevel::ALL
        .into_iter()
        .rev()
        .find(|&l| satisfied[level_index(l)] && cap.is_none_or(|c| l <= c));
    let level = effective.unwrap_or(KycLevel::L0);
    let identity_confirmed = facts.confirmed || effective >= Some(KycLevel::L1);

    // Demands that neither passed nor wait on someone else.
    let outstanding_docs = |rule: &LevelRule| {
        rule.cumulative_documents()
            .difference(docs_ok)
            .difference(docs.in_review)
    };

    let next = KycLevel::ALL
        .into_iter()
        .find(|&l| l > level && ladder.rule(l).is_some())
        .and_then(|l| ladder.rule(l));
    let mut upgrade_requirements = Vec::new();
    let mut next_documents = requested.1;
    if let Some(rule) = next {
        for f in rule.cumulative_fields().iter() {
            match states.get(f) {
                FieldState::Absent => upgrade_requirements.push(requirement(f, false)),
                FieldState::Failed(_) => upgrade_requirements.push(requirement(f, true)),
                FieldState::Unchecked | FieldState::Passed => {}
            }
        }
        next_documents = next_documents.union(outstanding_docs(rule));
    }

    let processes = processes(
        &states,
        ladder,
        (&docs, docs_ok),
        facts,
        &field_attempts,
        profile_attempts,
    );
    let blocked = facts.blocked;
    let summary = if blocked {
        SummaryStatus::Blocked
    } else if review_status == ReviewStatus::Rejected
        || processes.iter().any(|p| p.status == ProcessStatus::Failed)
    {
        SummaryStatus::Restricted
    } else if matches!(
        review_status,
        ReviewStatus::Pending | ReviewStatus::InformationRequested
    ) || processes
        .iter()
        .any(|p| matches!(p.status, ProcessStatus::Pending | ProcessStatus::Running))
    {
        SummaryStatus::Pending
    } else {
        SummaryStatus::Ok
    };

    let eligibility = policy
        .products()
        .iter()
        .map(|product| {
            let needed = product.needs(region);
            let rule = ladder.rule(needed);
            let missing_data = rule.map_or(FieldSet::EMPTY, |r| {
                states.missing(r.cumulative_fields()).union(requested.0)
            });
            let missing_documents = rule.map_or(DocumentSet::EMPTY, |r| {
                outstanding_docs(r).union(requested.1)
            });
            let needs_upload = rule.is_some_and(|r| !outstanding_docs(r).is_empty());
            let status = if blocked {
                EligibilityStatus::Rejected
            } else if effective >= Some(needed) {
                EligibilityStatus::Verified
            } else if review_status == ReviewStatus::Rejected
                || (needs_upload && docs.attempts.exhausted())
            {
                EligibilityStatus::Rejected
            } else if facts.checks.is_empty() {
                EligibilityStatus::NotStarted
            } else if review_status == ReviewStatus::Pending {
                EligibilityStatus::PendingReview
            } else if !missing_data.is_empty() || !missing_documents.is_empty() {
                EligibilityStatus::RequiresData
            } else {
                // Nothing to provide: a check or a document review is still to come.
                EligibilityStatus::PendingReview
            };
            let settled = matches!(
                status,
                EligibilityStatus::Verified | EligibilityStatus::Rejected
            );
            Eligibility {
                product: product.id(),
                status,
                missing_data: if settled {
                    FieldSet::EMPTY
                } else {
                    missing_data
                },
                missing_documents: if settled {
                    DocumentSet::EMPTY
                } else {
                    missing_documents
                },
            }
        })
        .collect();

    Evaluation {
        region,
        kyc_level: level,
        upgrade_requirements,
        missing_documents: next_documents.to_vec(),
        identity_confirmed,
        blocked,
        review_status,
        summary,
        processes,
        eligibility,
        failed_attempts: attempts.failed(),
        review_trigger: attempts.trigger(),
        uploads: docs.attempts,
        policy,
    }
}

/// The highest level of `ladder` at or below `level`.
fn highest_at_most(ladder: &Ladder, level: KycLevel) -> Option<&LevelRule> {
    KycLevel::ALL
        .into_iter()
        .rev()
        .filter(|&l| l <= level)
        .find_map(|l| ladder.rule(l))
}

/// What an approval at L1 or above keeps vouching for after the next check: the fields that
/// confirmation freezes (name, date of birth, SSN) as they were when the reviewer saw them,
/// whatever the ladder asks for, and the documents of the approved level. Confirmation keeps those fields from changing, so a
/// later check (run because the phone or the address changed, or on an explicit re-run) sees
/// the values the reviewer accepted, and its verdict on them neither undoes the approval nor
/// counts as a failed attempt. Without this, an approved identity could fall back to a level
/// that asks for a field it may no longer change.
struct LastingApproval {
    fields: FieldSet,
    documents: DocumentSet,
}

impl LastingApproval {
    const NONE: Self = Self {
        fields: FieldSet::EMPTY,
        documents: DocumentSet::EMPTY,
    };

    fn of(last_decision: Option<&ReviewRecord>, facts: &Facts<'_>, ladder: &Ladder) -> Self {
        let Some(ReviewRecord {
            decision: ReviewDecision::Approve { level },
            decided_at,
            ..
        }) = last_decision
        else {
            return Self::NONE;
        };
        if !facts.confirmed || *level < KycLevel::L1 {
            return Self::NONE;
        }
        let Some(rule) = highest_at_most(ladder, *level) else {
            return Self::NONE;
        };
        // The fields the reviewer saw a value for: those of the last check before the decision.
        // A value provided only later (confirmation lets a missing one be added) was never
        // vouched for.
        let seen = facts
            .checks
            .iter()
            .filter(|c| c.performed_at <= *decided_at)
            .max_by_key(|c| c.performed_at)
            .map_or(FieldSet::EMPTY, |check| {
                KycField::ALL
                    .into_iter()
                    .filter(|&f| *check.outcomes.get(f) != FieldOutcome::NotProvided)
                    .collect()
            });
        // All three whatever the ladder asks for: confirmation freezes them all, so a reviewed
        // duplicate SSN of an international identity (whose ladder does not ask for one) is
        // not sent back to review by the next check either.
        Self {
            fields: FieldSet::of(&[KycField::Name, KycField::Ssn, KycField::DateOfBirth])
                .intersection(seen),
            documents: rule.cumulative_documents(),
        }
    }

    /// `outcomes` without the verdicts on the fields the approval still vouches for.
    fn masked<'c>(&self, outcomes: &'c FieldOutcomes) -> std::borrow::Cow<'c, FieldOutcomes> {
        if self.fields.is_empty() {
            return std::borrow::Cow::Borrowed(outcomes);
        }
        let mut masked = outcomes.clone();
        for f in self.fields.iter() {
            *masked.get_mut(f) = FieldOutcome::NotProvided;
        }
        std::borrow::Cow::Owned(masked)
    }
}

fn field_states(
    data: &PersonalData,
    latest: Option<&KycCheck>,
    vouched: FieldSet,
    policy: &Policy,
    today: Date,
) -> States {
    let mut states = [FieldState::Absent; 5];
    for f in KycField::ALL {
        // The latest check covers the current data (the server runs one after every change
        // to a KYC field), so what it did not see counts as not provided. A verdict on a value
        // the identity no longer has counts for nothing.
        let state = match latest.map(|c| c.outcomes.get(f)) {
            _ if !present(data, f) => FieldState::Absent,
            None => FieldState::Unchecked,
            Some(FieldOutcome::NotProvided) => FieldState::Absent,
            Some(FieldOutcome::Passed) => FieldState::Passed,
            Some(FieldOutcome::Failed { reason, .. }) => FieldState::Failed(*reason),
        };
        states[field_index(f)] = state;
    }
    // A reviewer's approval stands in for the automated verdict on what it covered.
    for f in vouched.iter() {
        states[field_index(f)] = FieldState::Passed;
    }
    // However lenient or old the check, and whatever a reviewer approved, no level rests on a
    // minor's date of birth.
    let dob = &mut states[field_index(KycField::DateOfBirth)];
    if *dob == FieldState::Passed
        && let Some(birth) = data.date_of_birth
        && age_on(birth.date(), today) < i32::from(policy.minimum_age())
    {
        *dob = FieldState::Failed(ProcessReason::Underage);
    }
    States(states)
}

fn processes(
    states: &States,
    ladder: &Ladder,
    docs: (&DocumentFacts<'_>, DocumentSet),
    facts: &Facts<'_>,
    field_attempts: &[u32; 5],
    profile_attempts: u32,
) -> [ProcessReport; 7] {
    let wanted = |fields: &[KycField]| FieldSet::of(fields).intersection(ladder.fields);
    let attempts = |f: KycField| field_attempts[field_index(f)];
    let documents = u32::try_from(facts.documents.len()).unwrap_or(u32::MAX);
    [
        // Parsed and validated when written: nothing further to verify.
        ProcessReport {
            name: ProcessName::Email,
            status: ProcessStatus::Ok,
            reason: None,
            attempts: 0,
        },
        states.process(
            ProcessName::Phone,
            wanted(&[KycField::Phone]),
            attempts(KycField::Phone),
        ),
        states.process(
            ProcessName::Profile,
            wanted(&[KycField::Name, KycField::DateOfBirth]),
            profile_attempts,
        ),
        states.process(
            ProcessName::Address,
            wanted(&[KycField::Address]),
            attempts(KycField::Address),
        ),
        states.process(
            ProcessName::TaxDetails,
            wanted(&[KycField::Ssn]),
            attempts(KycField::Ssn),
        ),
        identity_process(ladder, docs, facts, documents),
        // No screening provider is built in.
        ProcessReport {
            name: ProcessName::Screening,
            status: ProcessStatus::Exempt,
            reason: None,
            attempts: 0,
        },
    ]
}

/// `docs_ok` is what the approved documents and an approval floor cover.
fn identity_process(
    ladder: &Ladder,
    (docs, docs_ok): (&DocumentFacts<'_>, DocumentSet),
    facts: &Facts<'_>,
    attempts: u32,
) -> ProcessReport {
    let reason_of = |d: &Document| {
        facts
            .document_reasons
            .iter()
            .find(|(id, _)| *id == d.id)
            .map(|&(_, r)| r)
    };
    let latest_rejected = docs.latest.filter(|d| d.status == DocumentStatus::Rejected);
    let (status, reason) = if ladder.documents.is_empty() {
        (ProcessStatus::Exempt, None)
    } else if ladder.documents.is_subset(docs_ok) {
        (ProcessStatus::Ok, None)
    } else if !docs.in_review.is_empty() {
        (ProcessStatus::Pending, None)
    } else if docs.attempts.exhausted() || latest_rejected.is_some() {
        let reason = latest_rejected.and_then(reason_of).or_else(|| {
            // The last rejection with a known reason explains the lockout best.
            facts
                .documents
                .iter()
                .filter(|d| d.status == DocumentStatus::Rejected)
                .filter_map(|d| reason_of(d).map(|r| (d.created_at, r)))
                .max_by_key(|&(at, _)| at)
                .map(|(_, r)| r)
        });
        // Otherwise (a photocopy, a run of unusable photos, a reviewer's rejection without a
        // reason of the list) the proof of identity the ladder declares is still missing.
        (
            ProcessStatus::Failed,
            Some(reason.unwrap_or(ProcessReason::MissingDeclaredInformation)),
        )
    } else {
        // No document yet, or the last one must be retaken: waiting on the end user.
        (ProcessStatus::Pending, None)
    };
    ProcessReport {
        name: ProcessName::Identity,
        status,
        reason,
        attempts,
    }
}
