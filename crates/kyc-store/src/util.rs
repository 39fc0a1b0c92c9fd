//! Small conversions shared by the repositories.

use std::str::FromStr;

use serde::{Serialize, de::DeserializeOwned};

use crate::{DbConnection, Keyring, StoreError};

/// A row together with the keyring that opens its ciphertexts: the input of the `TryFrom`
/// conversions of rows that hold encrypted columns.
pub(crate) struct WithKeys<'k, R> {
    pub(crate) row: R,
    pub(crate) keys: &'k Keyring,
}

impl<'k, R> WithKeys<'k, R> {
    pub(crate) fn new(row: R, keys: &'k Keyring) -> Self {
        Self { row, keys }
    }
}

pub(crate) fn parse_id<T: FromStr>(
    raw: &str,
    table: &'static str,
    column: &'static str,
) -> Result<T, StoreError> {
    raw.parse().map_err(|_| StoreError::corrupt(table, column))
}

/// The serde name of a unit enum variant (`"male"`, `"duplicate"`, ...): stored names are
/// wire names, defined once in kyc-model.
pub(crate) fn serde_name<T: Serialize>(value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StoreError::Internal {
            reason: "enum does not serialize to a name",
        }),
    }
}

pub(crate) fn from_serde_name<T: DeserializeOwned>(
    name: &str,
    table: &'static str,
    column: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| StoreError::corrupt(table, column))
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError::Internal {
        reason: "value does not serialize to JSON",
    })
}

pub(crate) fn from_json<T: DeserializeOwned>(
    raw: &str,
    table: &'static str,
    column: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(raw).map_err(|_| StoreError::corrupt(table, column))
}

pub(crate) fn required<T>(
    value: Option<T>,
    table: &'static str,
    column: &'static str,
) -> Result<T, StoreError> {
    value.ok_or(StoreError::corrupt(table, column))
}

/// Whether the other identity table (persons or companies) has a row of `tenant` with `email`.
pub(crate) type EmailProbe = fn(&mut DbConnection, &str, &str) -> Result<bool, StoreError>;

/// An email is unique in its tenant across persons and companies (SPEC §3; seed 001 keeps both
/// in one collection): each table's unique index covers its own rows, and a write giving an
/// identity `email` probes the other table with `used_by_other` ([`StoreError::EmailInUse`] if
/// taken), after [`crate::dialect::lock_email`] so that concurrent writers take turns.
pub(crate) fn claim_email(
    conn: &mut DbConnection,
    tenant: kyc_model::TenantId,
    email: &kyc_model::Email,
    used_by_other: EmailProbe,
) -> Result<(), StoreError> {
    let tenant = tenant.to_string();
    crate::dialect::lock_email(conn, &tenant, email.as_str())?;
    if used_by_other(conn, &tenant, email.as_str())? {
        return Err(StoreError::EmailInUse);
    }
    Ok(())
}
