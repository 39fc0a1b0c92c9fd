use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{CheckId, PersonalIdentityId, ProcessReason};

/// A KYC-relevant part of a personal identity, as the upgrade requirements name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KycField {
    Phone,
    Name,
    Address,
    Ssn,
    DateOfBirth,
}

impl KycField {
    /// All fields in requirement order.
    pub const ALL: [Self; 5] = [
        Self::Phone,
        Self::Name,
        Self::Address,
        Self::Ssn,
        Self::DateOfBirth,
    ];
}

/// What a verifier concluded about one field.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum FieldOutcome {
    /// The identity has no value for the field.
    NotProvided,
    /// The value passed the check.
    Passed,
    /// The value is present but failed: `rule` names the rule (never the value).
    Failed { reason: ProcessReason, rule: String },
}

impl FieldOutcome {
    /// True when the value failed the check.
    pub const fn is_failed(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }
}

/// The per-field results of one check.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldOutcomes {
    pub phone: FieldOutcome,
    pub name: FieldOutcome,
    pub address: FieldOutcome,
    pub ssn: FieldOutcome,
    pub date_of_birth: FieldOutcome,
}

impl FieldOutcomes {
    /// The outcome for one field.
    pub const fn get(&self, field: KycField) -> &FieldOutcome {
        match field {
            KycField::Phone => &self.phone,
            KycField::Name => &self.name,
            KycField::Address => &self.address,
            KycField::Ssn => &self.ssn,
            KycField::DateOfBirth => &self.date_of_birth,
        }
    }

    /// The outcome for one field, to change.
    pub const fn get_mut(&mut self, field: KycField) -> &mut FieldOutcome {
        match field {
            KycField::Phone => &mut self.phone,
            KycField::Name => &mut self.name,
            KycField::Address => &mut self.address,
            KycField::Ssn => &mut self.ssn,
            KycField::DateOfBirth => &mut self.date_of_birth,
        }
    }

    /// True when any field failed: such a check is a failed attempt.
    pub fn any_failed(&self) -> bool {
        KycField::ALL.iter().any(|&f| self.get(f).is_failed())
    }
}

/// One run of a verifier over a personal identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KycCheck {
    pub id: CheckId,
    pub identity_id: PersonalIdentityId,
    /// Which verifier ran (`builtin`, `sandbox`, or a bureau's name).
    pub verifier: String,
    #[serde(with = "time::serde::rfc3339")]
    pub performed_at: OffsetDateTime,
    pub outcomes: FieldOutcomes,
}
