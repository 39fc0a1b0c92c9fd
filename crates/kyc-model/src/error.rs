/// Why a raw value could not become a domain value.
///
/// Variants carry a stable `rule` name and a human message, never the offending value: the
/// value may be PII, and errors end up in logs and HTTP responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The value breaks one of its edge rules.
    #[error("{message}")]
    Invalid {
        /// Stable machine-readable rule name, e.g. `length` or `unknown_code`.
        rule: &'static str,
        /// What the value must look like.
        message: &'static str,
    },
    /// A typed id that is not a UUID.
    #[error("must be a UUID")]
    InvalidId,
}

impl ModelError {
    pub(crate) const fn invalid(rule: &'static str, message: &'static str) -> Self {
        Self::Invalid { rule, message }
    }

    /// The stable rule name of this error.
    pub const fn rule(&self) -> &'static str {
        match self {
            Self::Invalid { rule, .. } => rule,
            Self::InvalidId => "uuid",
        }
    }
}
