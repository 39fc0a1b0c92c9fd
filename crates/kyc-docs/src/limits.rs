use serde::{Deserialize, Serialize};

use crate::sniff::{Prefix, sniff_prefix};
use crate::{DocsError, ImageFormat};

/// Resource limits applied before and during decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest accepted file, in bytes (10 MB, as the seed states it: 10,000,000).
    pub max_bytes: usize,
    /// Largest accepted image area, in pixels (100 megapixels).
    pub max_pixels: u64,
    /// Largest accepted width or height, in pixels (12,000).
    pub max_side: u32,
    /// Largest amount of memory decoding may allocate for pixels and coefficients (320 MiB:
    /// a 100-megapixel baseline JPEG decodes into 300 MB of RGB).
    pub max_decode_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 10_000_000,
            max_pixels: 100_000_000,
            max_side: 12_000,
            max_decode_bytes: 320 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Refuses dimensions that are zero or over the pixel limits: the decompression-bomb guard,
    /// applied to header values before any pixel is decoded.
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<(), DocsError> {
        if width == 0 || height == 0 {
            return Err(DocsError::Corrupt("image has a zero dimension"));
        }
        let pixels = u64::from(width) * u64::from(height);
        if width > self.max_side || height > self.max_side || pixels > self.max_pixels {
            return Err(DocsError::DecompressionBomb { width, height });
        }
        Ok(())
    }

    pub(crate) fn check_bytes(&self, len: usize) -> Result<(), DocsError> {
        if len > self.max_bytes {
            return Err(DocsError::TooLarge {
                limit: self.max_bytes,
            });
        }
        Ok(())
    }
}

/// Collects an upload chunk by chunk and refuses it as early as possible: as soon as the first
/// bytes rule out JPEG and PNG, and as soon as the total passes [`Limits::max_bytes`], so a
/// server never buffers more than the limit.
///
/// ```
/// use kyc_docs::{DocsError, ImageFormat, Limits, UploadBuffer};
///
/// let limits = Limits { max_bytes: 8, ..Limits::default() };
/// let mut upload = UploadBuffer::new(&limits);
/// upload.push(b"\xFF\xD8\xFF\xE0").unwrap();
/// assert_eq!(upload.format(), Some(ImageFormat::Jpeg));
/// assert_eq!(upload.push(b"12345"), Err(DocsError::TooLarge { limit: 8 }));
///
/// let mut other = UploadBuffer::new(&Limits::default());
/// assert_eq!(other.push(b"GIF8"), Err(DocsError::UnsupportedType));
/// ```
pub struct UploadBuffer {
    max_bytes: usize,
    bytes: Vec<u8>,
    format: Option<ImageFormat>,
}

// The bytes are an ID photo (PII): Debug shows their count only.
impl std::fmt::Debug for UploadBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadBuffer")
            .field("max_bytes", &self.max_bytes)
            .field("len", &self.bytes.len())
            .field("format", &self.format)
            .finish()
    }
}

impl UploadBuffer {
    pub fn new(limits: &Limits) -> Self {
        Self {
            max_bytes: limits.max_bytes,
            bytes: Vec::new(),
            format: None,
        }
    }

    /// Appends a chunk. After an error the buffer should be dropped: the upload is refused.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), DocsError> {
        let total = self.bytes.len().saturating_add(chunk.len());
        if total > self.max_bytes {
            return Err(DocsError::TooLarge {
                limit: self.max_bytes,
            });
        }
        self.bytes.extend_from_slice(chunk);
        if self.format.is_none() {
            match sniff_prefix(&self.bytes) {
                Prefix::Known(format) => self.format = Some(format),
                Prefix::NeedMore => {}
                Prefix::Unsupported => return Err(DocsError::UnsupportedType),
            }
        }
        Ok(())
    }

    /// Bytes received so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The format, once the first bytes have decided it.
    pub fn format(&self) -> Option<ImageFormat> {
        self.format
    }

    /// The complete upload and its format; an upload too short to be sniffed is unsupported.
    pub fn finish(self) -> Result<(ImageFormat, Vec<u8>), DocsError> {
        match self.format {
            Some(format) => Ok((format, self.bytes)),
            None => Err(DocsError::UnsupportedType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_limit_is_accepted_one_more_byte_is_not() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        let mut up = UploadBuffer::new(&limits);
        up.push(b"\x89PNG\r\n\x1a\n").unwrap();
        up.push(b"ab").unwrap();
        assert_eq!(up.len(), 10);
        assert_eq!(up.push(b"c"), Err(DocsError::TooLarge { limit: 10 }));
        assert_eq!(up.len(), 10, "a refused chunk is not buffered");
    }

    #[test]
    fn sniffs_across_chunk_boundaries() {
        let mut up = UploadBuffer::new(&Limits::default());
        up.push(b"\x89P").unwrap();
        assert_eq!(up.format(), None);
        up.push(b"NG\r\n").unwrap();
        up.push(b"\x1a\n").unwrap();
        assert_eq!(up.format(), Some(ImageFormat::Png));
        let (format, bytes) = up.finish().unwrap();
        assert_eq!((format, bytes.len()), (ImageFormat::Png, 8));
    }

    #[test]
    fn short_or_empty_uploads_are_unsupported() {
        let mut up = UploadBuffer::new(&Limits::default());
        up.push(b"\xFF\xD8").unwrap();
        assert_eq!(up.finish(), Err(DocsError::UnsupportedType));
        assert_eq!(
            UploadBuffer::new(&Limits::default()).finish(),
            Err(DocsError::UnsupportedType)
        );
    }

    #[test]
    fn debug_never_shows_content() {
        let mut up = UploadBuffer::new(&Limits::default());
        up.push(b"\xFF\xD8\xFF\xE0secret").unwrap();
        let shown = format!("{up:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("115"),
            "{shown}"
        );
        assert!(shown.contains("len: 10"));
    }

    #[test]
    fn bomb_guard() {
        let l = Limits::default();
        assert!(l.check_dimensions(12_000, 8_000).is_ok());
        assert_eq!(
            l.check_dimensions(12_001, 10),
            Err(DocsError::DecompressionBomb {
                width: 12_001,
                height: 10
            })
        );
        assert!(matches!(
            l.check_dimensions(10_001, 10_000),
            Err(DocsError::DecompressionBomb { .. })
        ));
        assert!(matches!(
            l.check_dimensions(0, 10),
            Err(DocsError::Corrupt(_))
        ));
    }
}
