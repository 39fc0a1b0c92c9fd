use serde::{Deserialize, Serialize};

use crate::DocsError;

const JPEG_MAGIC: [u8; 3] = [0xFF, 0xD8, 0xFF];
const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// The two accepted container formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
}

impl ImageFormat {
    /// The media type to store and serve the image with.
    pub const fn mime_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    /// The canonical file extension.
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }
}

/// The type of a file from its magic bytes alone; names and declared content types are never
/// trusted.
///
/// ```
/// use kyc_docs::{sniff, DocsError, ImageFormat};
/// assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Ok(ImageFormat::Jpeg));
/// assert_eq!(sniff(b"GIF89a..."), Err(DocsError::UnsupportedType));
/// ```
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, DocsError> {
    match sniff_prefix(bytes) {
        Prefix::Known(format) => Ok(format),
        Prefix::NeedMore | Prefix::Unsupported => Err(DocsError::UnsupportedType),
    }
}

/// What a (possibly incomplete) prefix of a file tells about its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prefix {
    Known(ImageFormat),
    /// Still compatible with a magic number; more bytes are needed to decide.
    NeedMore,
    Unsupported,
}

pub(crate) fn sniff_prefix(bytes: &[u8]) -> Prefix {
    if bytes.starts_with(&JPEG_MAGIC) {
        return Prefix::Known(ImageFormat::Jpeg);
    }
    if bytes.starts_with(&PNG_MAGIC) {
        return Prefix::Known(ImageFormat::Png);
    }
    if JPEG_MAGIC.starts_with(bytes) || PNG_MAGIC.starts_with(bytes) {
        return Prefix::NeedMore;
    }
    Prefix::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(sniff_prefix(b""), Prefix::NeedMore);
        assert_eq!(sniff_prefix(b"\xFF\xD8"), Prefix::NeedMore);
        assert_eq!(sniff_prefix(b"\x89PN"), Prefix::NeedMore);
        assert_eq!(
            sniff_prefix(b"\xFF\xD8\xFF"),
            Prefix::Known(ImageFormat::Jpeg)
        );
        assert_eq!(sniff_prefix(&PNG_MAGIC), Prefix::Known(ImageFormat::Png));
        assert_eq!(sniff_prefix(b"\x89PNx"), Prefix::Unsupported);
        assert_eq!(sniff_prefix(b"%PDF-1.7"), Prefix::Unsupported);
        assert_eq!(sniff(b"\xFF\xD8"), Err(DocsError::UnsupportedType));
    }
}
