//! Document intake and image quality checks for kycd: everything that happens to an uploaded ID
//! photo before a person or a verifier looks at it.
//!
//! - [`UploadBuffer`] and [`intake`]: type by magic bytes (JPEG, PNG), the 10 MB limit while
//!   streaming, dimensions from the header, decompression bombs refused before decoding, and a
//!   lossless metadata strip for storage.
//! - [`assess`] / [`Checker`]: one decoding pass under memory limits, then the six checks
//!   (`resolution`, `blur`, `glare`, `exposure`, `cutoff`, `monochrome`), each explained by the
//!   measured value and its threshold, and a [`Verdict`]: pass (the caller sends the document
//!   to manual review), resubmit with reasons, or rejected (a black-and-white scan).
//! - [`testing`]: deterministic synthetic ID photos for tests of this and other crates.
//!
//! Invariant: pure functions of the bytes and the configuration. No I/O, no global state, no
//! panics on any input (fuzzed), and no image content in errors or `Debug` output.
//! `docs/document-quality.md` describes the pipeline, every threshold and its calibration.
//!
//! ```
//! use kyc_docs::testing::Scene;
//! use kyc_docs::{assess, intake, DocsError, Limits, QualityCode, QualityConfig, Verdict};
//!
//! let photo = Scene::sharp(800, 1200).png();
//! let accepted = intake(&photo, &Limits::default()).unwrap();
//! let assessment = assess(&accepted.stripped, &QualityConfig::default()).unwrap();
//! assert_eq!(assessment.verdict, Verdict::Pass);
//!
//! let mut blurred = Scene::sharp(800, 1200);
//! blurred.blur = 3.0;
//! let assessment = assess(&blurred.png(), &QualityConfig::default()).unwrap();
//! assert_eq!(assessment.verdict, Verdict::Resubmit(vec![QualityCode::Blur]));
//! let blur = assessment.check(QualityCode::Blur).unwrap();
//! assert!(blur.measured < blur.threshold);
//!
//! assert_eq!(intake(b"%PDF-1.7", &Limits::default()).unwrap_err(), DocsError::UnsupportedType);
//! ```

mod analyze;
mod blobs;
mod checker;
mod colour;
mod decode;
mod error;
mod exif;
mod intake;
mod jpeg;
mod limits;
mod png;
mod quality;
mod resample;
mod segment;
mod sniff;
pub mod testing;

pub use checker::Checker;
pub use error::DocsError;
pub use exif::Orientation;
pub use intake::{Intake, intake};
pub use kyc_model::{QualityCheck, QualityCode};
pub use limits::{Limits, UploadBuffer};
pub use quality::{Assessment, Metrics, QualityConfig, Verdict};
pub use sniff::{ImageFormat, sniff};

/// Decodes an image and runs every quality check (see [`Checker`] to reuse buffers).
pub fn assess(bytes: &[u8], config: &QualityConfig) -> Result<Assessment, DocsError> {
    Checker::new(config.clone()).assess(bytes)
}
