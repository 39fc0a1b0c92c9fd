use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// One KYC process of `GET /personal-identities/{id}/kyc` (Uphold's processes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProcessName {
    Email,
    Phone,
    Profile,
    Address,
    TaxDetails,
    /// The proof-of-identity document.
    Identity,
    Screening,
}

impl ProcessName {
    /// All processes in report order.
    pub const ALL: [Self; 7] = [
        Self::Email,
        Self::Phone,
        Self::Profile,
        Self::Address,
        Self::TaxDetails,
        Self::Identity,
        Self::Screening,
    ];
}

/// The state of one process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProcessStatus {
    Ok,
    Failed,
    Running,
    Pending,
    Exempt,
}

impl ProcessStatus {
    /// Every value, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::Ok,
        Self::Failed,
        Self::Running,
        Self::Pending,
        Self::Exempt,
    ];
}

/// Why a process failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProcessReason {
    DataMismatch,
    Duplicate,
    Fraud,
    MissingDeclaredInformation,
    Underage,
    ExpiredDocument,
}

impl ProcessReason {
    /// Every value, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::DataMismatch,
        Self::Duplicate,
        Self::Fraud,
        Self::MissingDeclaredInformation,
        Self::Underage,
        Self::ExpiredDocument,
    ];

    /// The wire name, e.g. `data-mismatch`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DataMismatch => "data-mismatch",
            Self::Duplicate => "duplicate",
            Self::Fraud => "fraud",
            Self::MissingDeclaredInformation => "missing-declared-information",
            Self::Underage => "underage",
            Self::ExpiredDocument => "expired-document",
        }
    }
}

/// The overall KYC state of an identity (`summary.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SummaryStatus {
    Ok,
    Pending,
    Restricted,
    Blocked,
}

impl SummaryStatus {
    /// Every value, in declaration order.
    pub const ALL: [Self; 4] = [Self::Ok, Self::Pending, Self::Restricted, Self::Blocked];
}

/// Whether an identity may use a product yet (Crossmint's eligibility).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EligibilityStatus {
    NotStarted,
    RequiresData,
    PendingReview,
    Verified,
    Rejected,
}

impl EligibilityStatus {
    /// Every value, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::NotStarted,
        Self::RequiresData,
        Self::PendingReview,
        Self::Verified,
        Self::Rejected,
    ];
}

/// A product of the tier policy, e.g. `onramp`: lowercase letters, digits and hyphens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProductId(String);

impl ProductId {
    /// Parses a product name: 1-64 of `a-z`, `0-9` and `-`, starting with a letter.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let ok = (1..=64).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ModelError::invalid(
                "format",
                "must be 1-64 lowercase letters, digits or hyphens, starting with a letter",
            ))
        }
    }

    /// The product name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProductId {
    type Error = ModelError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProductId> for String {
    fn from(value: ProductId) -> Self {
        value.0
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read and write its own tenant's data.
    Integrator,
    /// Read its own tenant's data.
    Readonly,
    /// The compliance review queue, across tenants.
    Operator,
}

impl Role {
    /// The wire and CLI name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Integrator => "integrator",
            Self::Readonly => "readonly",
            Self::Operator => "operator",
        }
    }

    /// Parses the wire and CLI name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Integrator, Self::Readonly, Self::Operator]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// The kind of a KYC session started with `PUT /kycs` (Kulipa).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KycSessionType {
    /// A full KYC that needs documents.
    Full,
    /// Collects a shipping address only.
    Shipping,
    /// A request for information, e.g. proof of address.
    Rfi,
    /// Pre-verified data from a trusted provider.
    Import,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        let s = |v: &dyn erased::Ser| v.json();
        assert_eq!(s(&ProcessName::TaxDetails), "\"taxDetails\"");
        assert_eq!(
            s(&ProcessReason::MissingDeclaredInformation),
            "\"missing-declared-information\""
        );
        assert_eq!(s(&EligibilityStatus::RequiresData), "\"requires-data\"");
        assert_eq!(s(&EligibilityStatus::NotStarted), "\"not-started\"");
        assert_eq!(s(&ProcessStatus::Exempt), "\"exempt\"");
        assert_eq!(s(&Role::Readonly), "\"readonly\"");
        assert_eq!(s(&KycSessionType::Rfi), "\"rfi\"");
    }

    mod erased {
        pub trait Ser {
            fn json(&self) -> String;
        }
        impl<T: serde::Serialize> Ser for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap()
            }
        }
    }

    #[test]
    fn product_ids() {
        assert!(ProductId::parse("regulated-transfer").is_ok());
        for bad in ["", "Onramp", "1ramp", "on ramp", &"a".repeat(65)] {
            assert!(ProductId::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<ProductId>("\"BAD\"").is_err());
    }

    #[test]
    fn roles_parse() {
        assert_eq!(Role::from_name("operator"), Some(Role::Operator));
        assert_eq!(Role::from_name("admin"), None);
    }
}
