//! The kycd end-to-end suite: the real server over real HTTP, one module per concern. Tests that
//! touch the database run on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set
//! (see `both_backends!`).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test bodies and their helpers: a failed expectation must fail the test"
)]

/// Defines `mod $name { async fn body(app); #[tokio::test] sqlite(); #[tokio::test] postgres(); }`:
/// one body run against a fresh server on each backend. The PostgreSQL test returns early, with
/// a note, when `TEST_DATABASE_URL` is unset; CI sets it.
macro_rules! both_backends {
    ($($(#[$doc:meta])* async fn $name:ident($app:ident) $body:block)*) => {$(
        $(#[$doc])*
        mod $name {
            #[allow(unused_imports, reason = "not every test body uses every import of its module")]
            use super::*;

            async fn body($app: kycd_tests::TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                body(kycd_tests::TestApp::spawn().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) = kycd_tests::TestApp::spawn_on(kycd_tests::Backend::Postgres).await {
                    body(app).await;
                }
            }
        }
    )*};
}

mod auth;
mod business;
mod concurrency;
mod confirmed;
mod documents;
mod email;
mod erasure;
mod errors;
mod idempotency;
mod isolation;
mod kyc;
mod listing;
mod ops;
mod pii;
mod rate_limit;
mod reviews;
mod sandbox;
mod seed;
mod sessions;
mod validation;
mod webhooks;
