//! Quality configuration, the verdict and the assessment returned to callers.

use kyc_model::{QualityCheck, QualityCode};
use serde::{Deserialize, Serialize};

use crate::exif::Orientation;
use crate::{ImageFormat, Limits};

/// Every threshold of the quality checks. The defaults were calibrated on labelled synthetic
/// phone photos; `docs/document-quality.md` gives the figures behind each one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QualityConfig {
    /// Pixel and memory limits applied before decoding.
    pub limits: Limits,
    /// Also compute the full-resolution reference figures of [`Metrics`] (the OpenCV peer's
    /// blur and glare scores), for comparison and diagnostics. No check uses them; they cost
    /// about 8 % of a 1200x1800 JPEG check (false).
    pub reference_metrics: bool,
    /// Minimum short side, px (800).
    pub min_short_side: u32,
    /// Minimum long side, px (1200).
    pub min_long_side: u32,
    /// Recommended short side, px (1200); below it `resolution` passes with a warning.
    pub recommended_short_side: u32,
    /// Recommended long side, px (1800).
    pub recommended_long_side: u32,
    /// Long side of the working scale every image is area-averaged to before the blur, glare,
    /// exposure and cutoff measurements (900): thresholds then do not depend on resolution.
    pub working_long_side: u32,
    /// Long side of the coarse image the document is located in (300; the working image is
    /// box-averaged by the nearest integer factor, 3 for 900 px).
    pub coarse_long_side: u32,
    /// `blur` fails below this variance of the Laplacian of the working-scale luma on the
    /// document (250).
    pub blur_min_laplacian_var: f64,
    /// Before the blur measurement the luma is scaled so that the document's 90th-percentile
    /// brightness reaches this level (at most 4x, never darkened), so a dim but sharp photo is
    /// not mistaken for a blurred one (230).
    pub blur_reference_white: f64,
    /// Working-scale luma at or above which a pixel is saturated, for `glare` (250).
    pub glare_level: u8,
    /// Saturated blobs smaller than this share of the document are specular points, not glare
    /// (0.001).
    pub glare_min_blob_fraction: f64,
    /// `glare` fails above this share of the document covered by saturated blobs (0.01).
    pub glare_max_fraction: f64,
    /// Working-scale luma below which a document pixel counts as too dark (90).
    pub exposure_dark_level: u8,
    /// `exposure` fails (too dark) when more than this share of the document is darker than
    /// `exposure_dark_level` (0.6).
    pub exposure_max_dark_share: f64,
    /// `exposure` fails (overexposed) when more than this share of the document is at or above
    /// `glare_level` (0.6). A glare spot covers less; a blown-out photo covers most of it.
    pub exposure_max_bright_share: f64,
    /// When no document outline is found the shares are measured on the whole frame, where
    /// a dark table is normal: too dark needs more than this share (0.9)...
    pub exposure_frame_max_dark_share: f64,
    /// ...and overexposed more than this share (0.2), since a frame in which the document
    /// cannot be told from the table is blown out well before most of it is saturated.
    pub exposure_frame_max_bright_share: f64,
    /// `cutoff` fails above this share of the document's outline lying on the frame border
    /// (0.04).
    pub cutoff_max_contact: f64,
    /// `monochrome` fails below this colourfulness of the frame (Hasler and Süsstrunk's
    /// metric; 0 for grey images) (2.0).
    pub monochrome_min_colourfulness: f64,
    /// A located document covers at least this share of the frame (0.05)...
    pub document_min_area: f64,
    /// ...at most this share (0.97)...
    pub document_max_area: f64,
    /// ...and fills at least this share of both its convex hull and its smallest enclosing
    /// rectangle (0.82): a card seen in perspective fills about 0.95 of both, a round blob
    /// (a glare spot) 0.785 of its rectangle.
    pub document_min_shape: f64,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            reference_metrics: false,
            min_short_side: 800,
            min_long_side: 1200,
            recommended_short_side: 1200,
            recommended_long_side: 1800,
            working_long_side: 900,
            coarse_long_side: 300,
            blur_min_laplacian_var: 250.0,
            blur_reference_white: 230.0,
            glare_level: 250,
            glare_min_blob_fraction: 0.001,
            glare_max_fraction: 0.01,
            exposure_dark_level: 90,
            exposure_max_dark_share: 0.6,
            exposure_max_bright_share: 0.6,
            exposure_frame_max_dark_share: 0.9,
            exposure_frame_max_bright_share: 0.2,
            cutoff_max_contact: 0.04,
            monochrome_min_colourfulness: 2.0,
            document_min_area: 0.05,
            document_max_area: 0.97,
            document_min_shape: 0.82,
        }
    }
}

/// The outcome for the document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "reasons", rename_all = "camelCase")]
pub enum Verdict {
    /// Every check passed; the caller sends the document to manual review.
    Pass,
    /// Some checks failed: ask for a new photo, giving these reasons.
    Resubmit(Vec<QualityCode>),
    /// Not acceptable at all (a black-and-white scan or photocopy).
    Rejected(Vec<QualityCode>),
}

impl Verdict {
    /// The verdict implied by a set of checks: a failed `monochrome` on a sharp frame (a scan
    /// or photocopy) rejects; any other failure asks for a resubmission (reasons in check
    /// order), otherwise it passes. A blank, black or blurred frame has no colour either, but
    /// it is a failed photo, not a scan: it is resubmitted, and does not count as a rejection.
    /// (A photocopy's white paper may well fail `exposure` and `glare`: those do not spare it.)
    pub fn from_checks(checks: &[QualityCheck]) -> Self {
        let failed = |code: QualityCode| checks.iter().any(|c| c.code == code && !c.passed);
        if failed(QualityCode::Monochrome) && !failed(QualityCode::Blur) {
            return Self::Rejected(vec![QualityCode::Monochrome]);
        }
        // Past this point `monochrome` decides nothing: a frame without colour or detail is
        // asked for again for the reasons a new photo fixes.
        let reasons: Vec<QualityCode> = checks
            .iter()
            .filter(|c| !c.passed && c.code != QualityCode::Monochrome)
            .map(|c| c.code)
            .collect();
        if reasons.is_empty() {
            Self::Pass
        } else {
            Self::Resubmit(reasons)
        }
    }

    /// The verdict on a document of several images (front and back), from each image's own
    /// verdict: a rejected image rejects the document; otherwise every image's reasons, each
    /// once, ask for a resubmission. Judging the sides' checks together instead would let a
    /// blurred front spare a scanned back (a failed `blur` anywhere disarms `monochrome`).
    pub fn of_images(verdicts: impl IntoIterator<Item = Self>) -> Self {
        let mut reasons = Vec::new();
        for verdict in verdicts {
            match verdict {
                Self::Rejected(_) => return verdict,
                Self::Resubmit(codes) => {
                    for code in codes {
                        if !reasons.contains(&code) {
                            reasons.push(code);
                        }
                    }
                }
                Self::Pass => {}
            }
        }
        if reasons.is_empty() {
            Self::Pass
        } else {
            Self::Resubmit(reasons)
        }
    }

    /// The failing reasons (empty for [`Verdict::Pass`]).
    pub fn reasons(&self) -> &[QualityCode] {
        match self {
            Self::Pass => &[],
            Self::Resubmit(r) | Self::Rejected(r) => r,
        }
    }
}

/// Raw figures behind the checks, for diagnostics and benchmarking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Population variance of the 4-neighbour Laplacian of the full-resolution luma (border
    /// reflect-101): the common OpenCV blur score, comparable with the peer benchmark. Only
    /// with [`QualityConfig::reference_metrics`].
    pub laplacian_var: Option<f64>,
    /// Share of full-resolution luma pixels at or above 250 (the peer's glare score). Only with
    /// [`QualityConfig::reference_metrics`].
    pub glare_fraction: Option<f64>,
    /// Colourfulness of the frame.
    pub colourfulness: f64,
    /// Working-scale size (stored orientation).
    pub working_width: u32,
    pub working_height: u32,
    /// Whether a document outline was found, its share of the frame, and how card-like its
    /// shape is (area over convex hull, area over smallest enclosing rectangle).
    pub document_located: bool,
    pub document_area_fraction: f64,
    pub document_solidity: f64,
    pub document_rectangularity: f64,
}

/// The result of [`crate::assess`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub format: ImageFormat,
    /// Display width (EXIF orientation applied).
    pub width: u32,
    /// Display height (EXIF orientation applied).
    pub height: u32,
    pub orientation: Orientation,
    /// One entry per check, in the order resolution, blur, glare, exposure, cutoff, monochrome.
    pub checks: Vec<QualityCheck>,
    pub verdict: Verdict,
    pub metrics: Metrics,
}

impl Assessment {
    /// The check with this code.
    pub fn check(&self, code: QualityCode) -> Option<&QualityCheck> {
        self.checks.iter().find(|c| c.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::{QualityCode::*, Verdict};

    #[test]
    fn a_rejected_image_rejects_the_document_whatever_the_other_side() {
        let verdict = Verdict::of_images([
            Verdict::Resubmit(vec![Blur]),
            Verdict::Rejected(vec![Monochrome]),
        ]);
        assert_eq!(verdict, Verdict::Rejected(vec![Monochrome]));
    }

    #[test]
    fn the_sides_reasons_are_listed_once_each_in_order() {
        let verdict = Verdict::of_images([
            Verdict::Resubmit(vec![Blur, Glare]),
            Verdict::Pass,
            Verdict::Resubmit(vec![Cutoff, Blur]),
        ]);
        assert_eq!(verdict, Verdict::Resubmit(vec![Blur, Glare, Cutoff]));
        assert_eq!(
            Verdict::of_images([Verdict::Pass, Verdict::Pass]),
            Verdict::Pass
        );
    }
}
