//! kyc-store's tests, one binary: every repository function, tenant isolation, optimistic
//! concurrency, encryption at rest (raw scans of the SQLite file), erasure, migrations. Each
//! test runs on SQLite and, when `TEST_DATABASE_URL` is set, on a fresh PostgreSQL database.
//!
//! The modules are `cfg(test)` (always true here) so that clippy treats the shared helpers as
//! test code, where a failed `unwrap` is the right way to fail.

#[cfg(test)]
mod common;

#[cfg(test)]
mod concurrency;
#[cfg(test)]
mod erasure;
#[cfg(test)]
mod idempotency;
#[cfg(test)]
mod identities;
#[cfg(test)]
mod listing;
#[cfg(test)]
mod migrations;
#[cfg(test)]
mod records;
#[cfg(test)]
mod rotation;
#[cfg(test)]
mod tenancy;
#[cfg(test)]
mod webhooks;
