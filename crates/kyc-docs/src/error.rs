use thiserror::Error;

/// Everything that can go wrong between the uploaded bytes and a quality verdict.
///
/// Messages describe the file's structure only (never pixel data or metadata values), so they
/// are safe to log and to return to a client. [`DocsError::code`] gives a stable machine name.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DocsError {
    /// Neither JPEG nor PNG by its magic bytes (HTTP 415 `unsupported_file_type`).
    #[error("unsupported file type: only JPEG and PNG images are accepted")]
    UnsupportedType,
    /// More bytes than [`crate::Limits::max_bytes`] (HTTP 413 `payload_too_large`).
    #[error("file is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    /// The header announces more pixels than allowed; refused without decoding.
    #[error("image of {width}x{height} px exceeds the pixel limits (decompression bomb)")]
    DecompressionBomb { width: u32, height: u32 },
    /// The file ends before the image does.
    #[error("file is truncated")]
    Truncated,
    /// The container structure is invalid.
    #[error("file is corrupt: {0}")]
    Corrupt(&'static str),
    /// A valid file using a feature we do not decode (arithmetic coding, 12-bit JPEG, lossless...).
    #[error("unsupported image encoding: {0}")]
    UnsupportedEncoding(&'static str),
    /// Decoding would need more memory than [`crate::Limits::max_decode_bytes`].
    #[error("decoding would need more than the memory limit of {limit} bytes")]
    MemoryLimit { limit: u64 },
    /// The pixel decoder rejected the data.
    #[error("image data could not be decoded: {0}")]
    Decode(String),
}

impl DocsError {
    /// A stable snake_case name for the error, for API responses and metrics.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedType => "unsupported_file_type",
            Self::TooLarge { .. } => "payload_too_large",
            Self::DecompressionBomb { .. } => "decompression_bomb",
            Self::Truncated => "truncated_file",
            Self::Corrupt(_) => "corrupt_file",
            Self::UnsupportedEncoding(_) => "unsupported_encoding",
            Self::MemoryLimit { .. } => "memory_limit",
            Self::Decode(_) => "undecodable_image",
        }
    }
}
