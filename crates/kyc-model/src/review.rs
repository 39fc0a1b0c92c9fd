use serde::{Deserialize, Serialize};

/// Where an identity stands with the compliance review queue (`reviewStatus`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReviewStatus {
    /// Never sent to review.
    #[default]
    None,
    /// Waiting for a reviewer.
    Pending,
    /// A reviewer approved it.
    Approved,
    /// A reviewer rejected it.
    Rejected,
    /// A reviewer asked the integrator for more information.
    InformationRequested,
}

impl ReviewStatus {
    /// Every value, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::None,
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::InformationRequested,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::InformationRequested => "informationRequested",
        }
    }

    /// Parses the wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::None,
            Self::Pending,
            Self::Approved,
            Self::Rejected,
            Self::InformationRequested,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// What a review item is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReviewKind {
    /// A personal identity whose second KYC attempt failed, or a duplicate SSN.
    Identity,
    /// A document in `manualReviewNeeded`.
    Document,
}
