//! kycd's persistence: diesel over SQLite (the embedded default) or PostgreSQL, chosen at run
//! time from the database URL, with embedded migrations, an r2d2 pool, encryption at rest and
//! repositories that turn rows into kyc-model types.
//!
//! Invariants:
//! - Only this crate knows SQL. Callers get domain types (rows convert with `TryFrom`, so a bad
//!   row is an error, [`StoreError::CorruptRow`], not a panic or a half-built value).
//! - Every query is scoped by tenant inside the repository function: each takes the
//!   [`kyc_model::TenantId`] (or, for the operator's review queue, an explicit
//!   [`reviews::TenantScope`]), so a handler cannot forget it. Another tenant's row is
//!   `NotFound`, exactly like a missing one.
//! - SSNs, tax ids, dates of birth, document images, webhook secrets, reviewer notes and
//!   replayable responses are sealed (AES-256-GCM, key id stored alongside); the database
//!   never holds them in clear. See docs/storage.md.
//! - Writes to one row are optimistic: a `version` column and `UPDATE ... WHERE version = ?`,
//!   with [`StoreError::Conflict`] when another write got there first.
//! - No error, log line or `Debug` output carries a stored value.
//!
//! The API is synchronous and takes `&mut DbConnection`; [`Db::run`] lends a pooled connection
//! for reads and [`Db::write`] runs a closure in one transaction (on SQLite `BEGIN IMMEDIATE`),
//! so a handler can combine repository calls atomically. An async server wraps each unit of
//! work in its blocking pool.
//!
//! ```
//! use kyc_model::{Email, KycState, PersonName, PersonalData, Phone};
//! use kyc_store::{containers, personal, tenants, Db, Keyring, StoreError};
//!
//! # fn main() -> Result<(), StoreError> {
//! let dir = tempfile::tempdir().unwrap();
//! let url = format!("sqlite://{}/kycd.db", dir.path().display());
//! let db = Db::open(&url, Keyring::from_master_key("k1", &Keyring::generate_master_key())?)?;
//!
//! let created = db.write(|conn| {
//!     let tenant = tenants::create(conn, "acme")?;
//!     let container = containers::create(conn, tenant.id)?;
//!     let data = PersonalData {
//!         first_name: PersonName::parse("Ada").unwrap(),
//!         middle_name: None,
//!         last_name: PersonName::parse("Lovelace").unwrap(),
//!         email: Email::parse("Ada@Example.com").unwrap(),
//!         phone: Phone::parse("+14155552671").unwrap(),
//!         address: None,
//!         date_of_birth: None,
//!         ssn: None,
//!         gender: None,
//!         due_diligence: None,
//!     };
//!     let new = personal::NewPersonalIdentity {
//!         id: kyc_model::PersonalIdentityId::random(),
//!         tenant_id: tenant.id,
//!         container_id: container.id,
//!         data,
//!         kyc: KycState::default(),
//!     };
//!     personal::insert(conn, db.keys(), &new)
//! })?;
//!
//! let read = db.run(|conn| personal::find(conn, db.keys(), created.tenant_id, created.id))?;
//! assert_eq!(read, created);
//! assert_eq!(read.data.email.as_str(), "ada@example.com");
//!
//! // Stale versions never overwrite: the second writer gets a typed conflict.
//! let mut stale = read.clone();
//! db.write(|conn| personal::update(conn, db.keys(), &read))?;
//! stale.kyc.blocked = true;
//! let err = db.write(|conn| personal::update(conn, db.keys(), &stale)).unwrap_err();
//! assert!(err.is_conflict());
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "postgres")]
mod analyzer;
mod conn;
mod crypto;
mod db;
mod dialect;
mod error;
mod group_commit;
mod ts;
mod util;

pub mod api_keys;
pub mod audit;
pub mod business;
pub mod checks;
pub mod containers;
pub mod documents;
pub mod erasure;
pub mod idempotency;
pub mod list;
pub mod personal;
pub mod reviews;
pub mod rotation;
pub mod schema;
#[cfg(feature = "postgres")]
pub mod scratch;
pub mod tenants;
pub mod webhooks;

pub use conn::{
    Backend, ConnectionManager, DbConnection, DbUrl, MultiBackend, revert_all_migrations,
    run_migrations,
};
pub use crypto::{DataKey, Keyring};
pub use db::{Db, DbOptions, transaction};
pub use error::{DbErrorKind, StoreError};
pub use group_commit::OwnedWrite;
pub use ts::now;
