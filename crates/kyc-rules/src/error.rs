use serde::Serialize;

/// One broken rule of a request body.
///
/// `field` is the camelCase path of the offending field (`address.postalCode`, `""` for the body
/// itself), `rule` a stable machine-readable name (`required`, `type`, `unknown_field`, or a
/// value type's edge rule such as `calendar_date`) and `message` says what the value must look
/// like. None of them ever contains the value: it may be PII.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Violation {
    pub field: String,
    pub rule: String,
    pub message: String,
}

/// The error of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// The input broke one or more rules, listed sorted by field, rule and message and without
    /// duplicates, so the same input always yields the same list.
    #[error("validation failed: {} violation(s)", .0.len())]
    Invalid(Vec<Violation>),
}

impl RulesError {
    /// The violations.
    pub fn violations(&self) -> &[Violation] {
        match self {
            Self::Invalid(v) => v,
        }
    }
}
