use std::fmt;

use serde::{Deserialize, Serialize};

/// A KYC tier. Levels are ordered: `L0 < L1 < L2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KycLevel {
    /// Valid name, email and phone.
    L0,
    /// L0 plus verified address, date of birth and SSN (US end users).
    L1,
    /// A verified proof-of-identity document on top of the lower level.
    L2,
}

impl KycLevel {
    /// All levels, lowest first.
    pub const ALL: [Self; 3] = [Self::L0, Self::L1, Self::L2];

    /// The wire name, `L0`, `L1` or `L2`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::L0 => "L0",
            Self::L1 => "L1",
            Self::L2 => "L2",
        }
    }

    /// The next level up, if any.
    pub const fn next(self) -> Option<Self> {
        match self {
            Self::L0 => Some(Self::L1),
            Self::L1 => Some(Self::L2),
            Self::L2 => None,
        }
    }

    /// Parses the wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }
}

impl fmt::Display for KycLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What blocks the next level: exactly the ten strings of the Fortress Trust API.
///
/// The declaration order is the order in which they are reported, so sorting a list of
/// requirements puts it in wire order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum UpgradeRequirement {
    #[serde(rename = "Phone is invalid")]
    PhoneInvalid,
    #[serde(rename = "Phone is not provided")]
    PhoneNotProvided,
    #[serde(rename = "Name is invalid")]
    NameInvalid,
    #[serde(rename = "Name is not provided")]
    NameNotProvided,
    #[serde(rename = "Address is invalid")]
    AddressInvalid,
    #[serde(rename = "Address is not provided")]
    AddressNotProvided,
    #[serde(rename = "Ssn is invalid")]
    SsnInvalid,
    #[serde(rename = "Ssn is not provided")]
    SsnNotProvided,
    #[serde(rename = "DateOfBirth is invalid")]
    DateOfBirthInvalid,
    #[serde(rename = "DateOfBirth is not provided")]
    DateOfBirthNotProvided,
}

impl UpgradeRequirement {
    /// All ten, in wire order.
    pub const ALL: [Self; 10] = [
        Self::PhoneInvalid,
        Self::PhoneNotProvided,
        Self::NameInvalid,
        Self::NameNotProvided,
        Self::AddressInvalid,
        Self::AddressNotProvided,
        Self::SsnInvalid,
        Self::SsnNotProvided,
        Self::DateOfBirthInvalid,
        Self::DateOfBirthNotProvided,
    ];

    /// The exact wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PhoneInvalid => "Phone is invalid",
            Self::PhoneNotProvided => "Phone is not provided",
            Self::NameInvalid => "Name is invalid",
            Self::NameNotProvided => "Name is not provided",
            Self::AddressInvalid => "Address is invalid",
            Self::AddressNotProvided => "Address is not provided",
            Self::SsnInvalid => "Ssn is invalid",
            Self::SsnNotProvided => "Ssn is not provided",
            Self::DateOfBirthInvalid => "DateOfBirth is invalid",
            Self::DateOfBirthNotProvided => "DateOfBirth is not provided",
        }
    }

    /// True for the `... is invalid` half: present but failed the KYC check.
    pub const fn is_invalid(self) -> bool {
        matches!(
            self,
            Self::PhoneInvalid
                | Self::NameInvalid
                | Self::AddressInvalid
                | Self::SsnInvalid
                | Self::DateOfBirthInvalid
        )
    }

    /// Parses the exact wire string.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for UpgradeRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A document the next level needs (`missingDocuments`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MissingDocument {
    /// A government photo id: license, identification card, passport or residence permit.
    ProofOfId,
    /// A utility bill or bank statement, asked for by a request for information.
    ProofOfAddress,
}

impl MissingDocument {
    /// Every value, in declaration order.
    pub const ALL: [Self; 2] = [Self::ProofOfId, Self::ProofOfAddress];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProofOfId => "proofOfId",
            Self::ProofOfAddress => "proofOfAddress",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_strings_serialize_exactly() {
        for r in UpgradeRequirement::ALL {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
            assert_eq!(UpgradeRequirement::from_name(r.as_str()), Some(r));
        }
    }

    #[test]
    fn requirement_order_is_wire_order() {
        let mut shuffled = UpgradeRequirement::ALL;
        shuffled.reverse();
        shuffled.sort();
        assert_eq!(shuffled, UpgradeRequirement::ALL);
    }

    #[test]
    fn levels_are_ordered() {
        assert!(KycLevel::L0 < KycLevel::L1 && KycLevel::L1 < KycLevel::L2);
        assert_eq!(KycLevel::L0.next(), Some(KycLevel::L1));
        assert_eq!(KycLevel::from_name("L2"), Some(KycLevel::L2));
        assert_eq!(serde_json::to_string(&KycLevel::L1).unwrap(), "\"L1\"");
    }

    #[test]
    fn missing_documents_use_camel_case() {
        assert_eq!(
            serde_json::to_string(&MissingDocument::ProofOfId).unwrap(),
            "\"proofOfId\""
        );
    }
}
