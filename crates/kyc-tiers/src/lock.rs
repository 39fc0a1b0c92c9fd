//! Which fields a change touches, and the confirmed-field lock (seed 001: once an identity is
//! confirmed, the attributes that were verified can no longer be rewritten).

use std::fmt;

use kyc_model::{KycField, KycState, PersonalData};
use serde::ser::{Serialize, SerializeSeq, Serializer};

use crate::TierError;

/// A part of a personal identity that an update can change, named as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PersonalField {
    FirstName,
    MiddleName,
    LastName,
    Email,
    Phone,
    Address,
    DateOfBirth,
    Ssn,
    Gender,
    DueDiligence,
}

impl PersonalField {
    /// Every field, in wire order.
    pub const ALL: [Self; 10] = [
        Self::FirstName,
        Self::MiddleName,
        Self::LastName,
        Self::Email,
        Self::Phone,
        Self::Address,
        Self::DateOfBirth,
        Self::Ssn,
        Self::Gender,
        Self::DueDiligence,
    ];

    /// The wire name, e.g. `dateOfBirth`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FirstName => "firstName",
            Self::MiddleName => "middleName",
            Self::LastName => "lastName",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Address => "address",
            Self::DateOfBirth => "dateOfBirth",
            Self::Ssn => "ssn",
            Self::Gender => "gender",
            Self::DueDiligence => "dueDiligence",
        }
    }

    /// The KYC field this part feeds, if any: a change to one of these needs a new KYC check.
    pub const fn kyc_field(self) -> Option<KycField> {
        match self {
            Self::FirstName | Self::MiddleName | Self::LastName => Some(KycField::Name),
            Self::Phone => Some(KycField::Phone),
            Self::Address => Some(KycField::Address),
            Self::DateOfBirth => Some(KycField::DateOfBirth),
            Self::Ssn => Some(KycField::Ssn),
            Self::Email | Self::Gender | Self::DueDiligence => None,
        }
    }

    /// Whether the field is frozen once the identity is confirmed: the name parts, date of
    /// birth, gender and SSN (SPEC §4, seed 001).
    pub const fn locked_once_confirmed(self) -> bool {
        matches!(
            self,
            Self::FirstName
                | Self::MiddleName
                | Self::LastName
                | Self::DateOfBirth
                | Self::Gender
                | Self::Ssn
        )
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The set of fields an update changed. Setting, replacing and clearing a value are all
/// changes; writing the value already stored is not.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ChangedFields(u16);

impl ChangedFields {
    /// No change.
    pub const EMPTY: Self = Self(0);

    /// The fields whose value differs between `old` and `new`.
    pub fn between(old: &PersonalData, new: &PersonalData) -> Self {
        let pairs = [
            (PersonalField::FirstName, old.first_name != new.first_name),
            (
                PersonalField::MiddleName,
                old.middle_name != new.middle_name,
            ),
            (PersonalField::LastName, old.last_name != new.last_name),
            (PersonalField::Email, old.email != new.email),
            (PersonalField::Phone, old.phone != new.phone),
            (PersonalField::Address, old.address != new.address),
            (
                PersonalField::DateOfBirth,
                old.date_of_birth != new.date_of_birth,
            ),
            (PersonalField::Ssn, old.ssn != new.ssn),
            (PersonalField::Gender, old.gender != new.gender),
            (
                PersonalField::DueDiligence,
                old.due_diligence != new.due_diligence,
            ),
        ];
        pairs
            .into_iter()
            .filter(|&(_, changed)| changed)
            .fold(Self::EMPTY, |set, (field, _)| set.with(field))
    }

    /// This set plus `field`.
    #[must_use]
    pub const fn with(self, field: PersonalField) -> Self {
        Self(self.0 | field.bit())
    }

    /// Whether `field` changed.
    pub const fn contains(self, field: PersonalField) -> bool {
        self.0 & field.bit() != 0
    }

    /// Whether nothing changed.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The changed fields, in wire order.
    pub fn iter(self) -> impl Iterator<Item = PersonalField> {
        PersonalField::ALL
            .into_iter()
            .filter(move |&f| self.contains(f))
    }

    /// Whether a KYC-relevant field changed, so that a new KYC check must run.
    pub fn needs_kyc_check(self) -> bool {
        self.iter().any(|f| f.kyc_field().is_some())
    }

    /// The changed fields that a confirmed identity may not change.
    #[must_use]
    pub fn locked(self) -> Self {
        self.iter()
            .filter(|f| f.locked_once_confirmed())
            .fold(Self::EMPTY, Self::with)
    }
}

impl FromIterator<PersonalField> for ChangedFields {
    fn from_iter<I: IntoIterator<Item = PersonalField>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

impl fmt::Debug for ChangedFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(PersonalField::as_str))
            .finish()
    }
}

/// The wire names, comma-separated: field names are not PII, so they may appear in messages.
impl fmt::Display for ChangedFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(field.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for ChangedFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for field in self.iter() {
            seq.serialize_element(field.as_str())?;
        }
        seq.end()
    }
}

/// Refuses an update that changes a locked field of a confirmed identity
/// (`422 identity_confirmed_field_locked`). Call it with the stored state and data, before
/// writing.
///
/// A missing SSN or date of birth may still be provided: a ladder can ask for one after
/// confirmation (an approval at a level, or a move to a region whose ladder needs an SSN), and
/// refusing it would leave the identity asking for a value it can never be given. Once
/// provided, it is locked like the rest.
///
/// # Errors
/// [`TierError::IdentityConfirmedFieldLocked`] naming every locked field the update changes.
pub fn ensure_unlocked(
    prior: &KycState,
    old: &PersonalData,
    changed: ChangedFields,
) -> Result<(), TierError> {
    let provided_now = |field: &PersonalField| match field {
        PersonalField::Ssn => old.ssn.is_none(),
        PersonalField::DateOfBirth => old.date_of_birth.is_none(),
        _ => false,
    };
    let locked: ChangedFields = changed
        .locked()
        .iter()
        .filter(|f| !provided_now(f))
        .collect();
    if prior.identity_confirmed && !locked.is_empty() {
        return Err(TierError::IdentityConfirmedFieldLocked { fields: locked });
    }
    Ok(())
}
