use crate::exif::Orientation;
use crate::jpeg::{self, JpegInfo};
use crate::png::{self, PngInfo};
use crate::{DocsError, ImageFormat, Limits, sniff};

/// An accepted upload, ready to be stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Intake {
    pub format: ImageFormat,
    /// Display width: the stored width with the EXIF orientation applied.
    pub width: u32,
    /// Display height: the stored height with the EXIF orientation applied.
    pub height: u32,
    /// The orientation from the original metadata; kept in `stripped` as its only tag.
    pub orientation: Orientation,
    /// The file without metadata, losslessly (see [`intake`]).
    pub stripped: Vec<u8>,
}

// The image bytes are PII: Debug shows the shape only.
impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("orientation", &self.orientation)
            .field("stripped_len", &self.stripped.len())
            .finish()
    }
}

/// Accepts or refuses an upload without decoding any pixel: checks the size limit, sniffs the
/// type, walks the container (every PNG chunk checksum is verified; a file ending early is
/// [`DocsError::Truncated`]), refuses decompression bombs from the header dimensions, and strips
/// the metadata.
///
/// Stripping is lossless: the compressed image data is copied byte for byte. JPEG keeps its
/// tables, frame, scans, the ICC profile and the Adobe colour-transform segment, and loses every
/// other APPn segment (EXIF with GPS, XMP, maker notes, MPF previews), comments and anything
/// after the end-of-image marker. PNG keeps its critical chunks and the colour and transparency
/// chunks (tRNS, gAMA, cHRM, sRGB, iCCP, sBIT, cICP) and loses text (tEXt, zTXt, iTXt), eXIf,
/// tIME, pHYs, animation and private chunks. The orientation is the one piece of metadata
/// that changes how the picture looks, so when it is not `Normal` it is written back as a
/// minimal EXIF block (APP1 / eXIf) holding that single tag: viewers keep showing the document
/// upright and nothing else survives.
pub fn intake(bytes: &[u8], limits: &Limits) -> Result<Intake, DocsError> {
    limits.check_bytes(bytes.len())?;
    match read_container(bytes, limits, true)? {
        Container::Jpeg(info) => {
            let (width, height) = info.orientation.display_size(info.width, info.height);
            Ok(Intake {
                format: ImageFormat::Jpeg,
                width,
                height,
                orientation: info.orientation,
                stripped: jpeg::strip(bytes, &info),
            })
        }
        Container::Png(info) => {
            let (width, height) = info.orientation.display_size(info.width, info.height);
            Ok(Intake {
                format: ImageFormat::Png,
                width,
                height,
                orientation: info.orientation,
                stripped: png::strip(bytes, &info),
            })
        }
    }
}

pub(crate) enum Container {
    Jpeg(JpegInfo),
    Png(PngInfo),
}

impl Container {
    pub(crate) fn format(&self) -> ImageFormat {
        match self {
            Self::Jpeg(_) => ImageFormat::Jpeg,
            Self::Png(_) => ImageFormat::Png,
        }
    }

    /// Stored (not display) dimensions.
    pub(crate) fn size(&self) -> (u32, u32) {
        match self {
            Self::Jpeg(i) => (i.width, i.height),
            Self::Png(i) => (i.width, i.height),
        }
    }

    pub(crate) fn orientation(&self) -> Orientation {
        match self {
            Self::Jpeg(i) => i.orientation,
            Self::Png(i) => i.orientation,
        }
    }
}

pub(crate) fn read_container(
    bytes: &[u8],
    limits: &Limits,
    verify_crc: bool,
) -> Result<Container, DocsError> {
    Ok(match sniff(bytes)? {
        ImageFormat::Jpeg => Container::Jpeg(jpeg::parse(bytes, limits)?),
        ImageFormat::Png => Container::Png(png::parse(bytes, limits, verify_crc)?),
    })
}
