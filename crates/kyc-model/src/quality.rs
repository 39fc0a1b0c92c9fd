use serde::{Deserialize, Serialize};

/// One automated image-quality check of an uploaded document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QualityCode {
    /// Enough pixels to read the document.
    Resolution,
    /// In focus: variance of the Laplacian of the luma at a fixed working scale.
    Blur,
    /// No blown-out highlights on the document.
    Glare,
    /// Neither too dark nor overexposed.
    Exposure,
    /// All corners of the document inside the frame.
    Cutoff,
    /// A colour photo, not a black-and-white scan or photocopy.
    Monochrome,
}

impl QualityCode {
    /// Every value, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::Resolution,
        Self::Blur,
        Self::Glare,
        Self::Exposure,
        Self::Cutoff,
        Self::Monochrome,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Resolution => "resolution",
            Self::Blur => "blur",
            Self::Glare => "glare",
            Self::Exposure => "exposure",
            Self::Cutoff => "cutoff",
            Self::Monochrome => "monochrome",
        }
    }
}

/// The outcome of one quality check, explained by the measured value and the threshold it was
/// compared with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QualityCheck {
    pub code: QualityCode,
    pub passed: bool,
    pub measured: f64,
    pub threshold: f64,
    /// A non-blocking remark, e.g. below the recommended (but above the minimum) resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// What was measured, in words: which side of a two-sided check (exposure: too dark or
    /// overexposed) the value refers to, or why a check could not be assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
