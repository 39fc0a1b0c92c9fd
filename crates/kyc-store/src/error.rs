use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Everything the store can report.
///
/// No variant carries a value that was read from or written to a row, nor SQL text: errors end
/// up in logs and (mapped) HTTP responses, and rows hold PII. Database errors are reduced to
/// their kind and the schema names involved (table, constraint), which is enough to debug.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// No such row in this tenant (another tenant's row is reported the same way).
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for, e.g. `personal_identity`.
        entity: &'static str,
    },
    /// Optimistic concurrency: the row changed since the caller read it.
    #[error("{entity} was modified concurrently: expected version {expected}, found {actual}")]
    Conflict {
        entity: &'static str,
        /// The version the caller based its change on.
        expected: i64,
        /// The version now stored.
        actual: i64,
    },
    /// A personal identity of this tenant already uses the email address.
    #[error("email address already in use in this tenant")]
    EmailInUse,
    /// A unique key other than the email is already taken.
    #[error("{entity} already exists")]
    Duplicate { entity: &'static str },
    /// A list query (`filter[...]`, `sort`, `page[...]`, `all`) broke its rules.
    #[error("invalid list query: {} violation(s)", violations.len())]
    InvalidListQuery {
        violations: Vec<crate::list::QueryViolation>,
    },
    /// The database URL is not `sqlite://...` or `postgres://...`. The URL itself is not
    /// repeated: it may hold a password.
    #[error("invalid database URL: {reason}")]
    InvalidUrl { reason: &'static str },
    /// The URL names a backend this build does not include.
    #[error("the {backend} backend is not compiled into this build")]
    BackendNotCompiled { backend: &'static str },
    /// Sealing or opening a ciphertext failed, or a key is malformed or unknown.
    #[error("encryption error: {reason}")]
    Crypto { reason: &'static str },
    /// The database refused a statement or could not be reached.
    #[error("database error: {kind}{}", describe_schema(table.as_deref(), constraint.as_deref()))]
    Database {
        kind: DbErrorKind,
        table: Option<String>,
        constraint: Option<String>,
    },
    /// No connection could be taken from the pool.
    #[error("connection pool error: {reason}")]
    Pool { reason: String },
    /// Running the embedded migrations failed.
    #[error("migration failed: {reason}")]
    Migration { reason: String },
    /// A stored row does not convert to its domain type.
    #[error("corrupt row in {table}.{column}")]
    CorruptRow {
        table: &'static str,
        column: &'static str,
    },
    /// After an erasure, the SQLite WAL could not be checkpointed and truncated because other
    /// connections kept reading; the erased values may still be in the WAL file until the next
    /// successful [`crate::Db::scrub_wal`].
    #[error("WAL checkpoint could not complete: the database stayed busy")]
    WalCheckpointBusy,
    /// A state the store's invariants exclude (e.g. a value that cannot be serialized).
    #[error("internal store error: {reason}")]
    Internal { reason: &'static str },
}

/// The class of a database failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    UniqueViolation,
    ForeignKeyViolation,
    NotNullViolation,
    CheckViolation,
    /// PostgreSQL serialization failure or deadlock: the unit of work may be retried.
    SerializationFailure,
    /// A read-only transaction attempted a write.
    ReadOnlyTransaction,
    /// The connection to the server is gone.
    ClosedConnection,
    /// Anything else the database reported.
    Other,
    /// A value could not be converted between Rust and SQL.
    Conversion,
    /// Transaction bookkeeping (nested or broken transaction).
    Transaction,
}

impl std::fmt::Display for DbErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::UniqueViolation => "unique violation",
            Self::ForeignKeyViolation => "foreign key violation",
            Self::NotNullViolation => "not-null violation",
            Self::CheckViolation => "check violation",
            Self::SerializationFailure => "serialization failure",
            Self::ReadOnlyTransaction => "read-only transaction",
            Self::ClosedConnection => "closed connection",
            Self::Other => "database failure",
            Self::Conversion => "value conversion failure",
            Self::Transaction => "transaction state error",
        })
    }
}

fn describe_schema(table: Option<&str>, constraint: Option<&str>) -> String {
    match (table, constraint) {
        (Some(t), Some(c)) => format!(" (table {t}, constraint {c})"),
        (Some(t), None) => format!(" (table {t})"),
        (None, Some(c)) => format!(" (constraint {c})"),
        (None, None) => String::new(),
    }
}

impl StoreError {
    /// True for the optimistic-concurrency conflict, after which the caller re-reads and retries
    /// (or answers `412` when the client sent `If-Match`).
    pub const fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }

    /// True for not found.
    pub const fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// True when the database reported a unique-key violation.
    pub(crate) const fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Database {
                kind: DbErrorKind::UniqueViolation,
                ..
            }
        )
    }

    pub(crate) const fn corrupt(table: &'static str, column: &'static str) -> Self {
        Self::CorruptRow { table, column }
    }
}

/// Keeps the kind and schema names of a diesel error and drops its message, which can quote
/// values (PostgreSQL's `invalid input syntax ... "<value>"`, SQLite's conversion errors).
impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        let (kind, table, constraint) = match &err {
            DieselError::NotFound => return Self::NotFound { entity: "row" },
            DieselError::DatabaseError(kind, info) => {
                let kind = match kind {
                    DatabaseErrorKind::UniqueViolation => DbErrorKind::UniqueViolation,
                    DatabaseErrorKind::ForeignKeyViolation => DbErrorKind::ForeignKeyViolation,
                    DatabaseErrorKind::NotNullViolation => DbErrorKind::NotNullViolation,
                    DatabaseErrorKind::CheckViolation => DbErrorKind::CheckViolation,
                    DatabaseErrorKind::SerializationFailure => DbErrorKind::SerializationFailure,
                    DatabaseErrorKind::ReadOnlyTransaction => DbErrorKind::ReadOnlyTransaction,
                    DatabaseErrorKind::ClosedConnection => DbErrorKind::ClosedConnection,
                    _ => DbErrorKind::Other,
                };
                let table = info
                    .table_name()
                    .map(str::to_owned)
                    .or_else(|| sqlite_unique_table(info.message()));
                let constraint = info
                    .constraint_name()
                    .map(str::to_owned)
                    .or_else(|| sqlite_unique_columns(info.message()));
                (kind, table, constraint)
            }
            DieselError::DeserializationError(_) | DieselError::SerializationError(_) => {
                (DbErrorKind::Conversion, None, None)
            }
            DieselError::AlreadyInTransaction
            | DieselError::NotInTransaction
            | DieselError::BrokenTransactionManager
            | DieselError::RollbackErrorOnCommit { .. }
            | DieselError::RollbackTransaction => (DbErrorKind::Transaction, None, None),
            DieselError::IntegerConversion(_) => (DbErrorKind::Conversion, None, None),
            _ => (DbErrorKind::Other, None, None),
        };
        tracing::debug!(%kind, ?table, ?constraint, "database error");
        Self::Database {
            kind,
            table,
            constraint,
        }
    }
}

/// SQLite names no constraint: its message is `UNIQUE constraint failed: t.a, t.b`, which holds
/// schema names only. These two helpers turn it into the table and a `t.a,t.b` "constraint".
fn sqlite_unique_table(message: &str) -> Option<String> {
    let cols = message.strip_prefix("UNIQUE constraint failed: ")?;
    cols.split('.').next().map(str::to_owned)
}

fn sqlite_unique_columns(message: &str) -> Option<String> {
    message
        .strip_prefix("UNIQUE constraint failed: ")
        .map(|cols| cols.replace(' ', ""))
}

impl From<r2d2::Error> for StoreError {
    fn from(err: r2d2::Error) -> Self {
        Self::Pool {
            reason: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_unique_message_yields_schema_names_only() {
        let msg =
            "UNIQUE constraint failed: personal_identities.tenant_id, personal_identities.email";
        assert_eq!(
            sqlite_unique_table(msg).as_deref(),
            Some("personal_identities")
        );
        assert_eq!(
            sqlite_unique_columns(msg).as_deref(),
            Some("personal_identities.tenant_id,personal_identities.email")
        );
        assert_eq!(sqlite_unique_table("something else"), None);
    }

    #[test]
    fn display_has_no_values() {
        let err = StoreError::Database {
            kind: DbErrorKind::UniqueViolation,
            table: Some("tenants".into()),
            constraint: Some("ux_tenants_name".into()),
        };
        assert_eq!(
            err.to_string(),
            "database error: unique violation (table tenants, constraint ux_tenants_name)"
        );
    }
}
