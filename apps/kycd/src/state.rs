//! What every handler shares: the store, the policy, the verifier, the signers and limiters.

use std::sync::Arc;

use actix_web::web;
use kyc_store::Db;
use kyc_tiers::{Policy, Verifier};
use time::{Date, OffsetDateTime};
use tokio::sync::Semaphore;

use crate::{cli::Mode, error::ApiError, presign::Presigner, ratelimit::KeyRateLimiter};

/// Shared application state (behind `web::Data`).
pub struct AppState {
    pub db: Db,
    pub policy: Arc<Policy>,
    pub verifier: Arc<dyn Verifier>,
    pub mode: Mode,
    pub presigner: Presigner,
    pub limiter: KeyRateLimiter,
    /// Recently authenticated API keys.
    pub keys: crate::auth::KeyCache,
    pub quality: kyc_docs::QualityConfig,
    /// Bounds concurrent image checks, so large uploads cannot take every blocking thread.
    pub image_slots: Arc<Semaphore>,
    /// Public base URL for presigned links (`http://127.0.0.1:8080` style, no trailing slash).
    pub public_url: String,
}

impl AppState {
    /// Whether sandbox-only routes and magic values are on.
    pub fn sandbox(&self) -> bool {
        self.mode == Mode::Sandbox
    }

    /// The current time; the one place the server reads the clock.
    pub fn now(&self) -> OffsetDateTime {
        kyc_store::now()
    }

    /// Today's date (UTC), as the tier engine and verifiers take it.
    pub fn today(&self) -> Date {
        self.now().date()
    }
}

/// Runs blocking store work on the blocking pool, keeping the request's tracing span, so no
/// actix worker ever waits on the database.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    let request_id = crate::observe::request_id();
    web::block(move || {
        let _entered = span.enter();
        crate::observe::with_request_id(request_id, f)
    })
    .await
    .map_err(|_| ApiError::internal("blocking task was cancelled"))?
}
