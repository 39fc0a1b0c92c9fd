//! What every handler shares: the store, the policy, the verifier, the signers and limiters,
//! and the ways off the async workers: [`blocking`] for changes and long work, [`read`] for
//! store reads, [`write_owned`] for a change the SQLite writer thread can take without a thread
//! waiting for it.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Mutex, PoisonError, mpsc},
};

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
    /// Threads for store reads (see [`read`]).
    pub reads: ReadPool,
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
/// actix worker ever waits on the database. For changes and long work (image checks, uploads);
/// reads go to [`read`].
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    web::block(in_request_context(f))
        .await
        .map_err(|_| ApiError::internal("blocking task was cancelled"))?
}

/// Runs an owned unit of work (`Db::write_owned`) with no thread waiting for its commit: on
/// SQLite the unit goes to the store's writer thread and this awaits its outcome, which the
/// writer hands straight to this request's task; on PostgreSQL it runs on the blocking pool.
/// The unit keeps the request's span and request id.
pub async fn write_owned<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut kyc_store::DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let request_id = crate::observe::request_id();
    let unit = move |conn: &mut kyc_store::DbConnection| {
        crate::observe::with_request_id(request_id, || f(conn))
    };
    match state.db.send_owned(unit) {
        Ok(outcome) => outcome.await,
        Err(unit) => {
            let db = state.db.clone();
            blocking(move || db.write(unit)).await
        }
    }
}

/// Runs a store read (`db.run`, never `db.write`) on the [`ReadPool`], keeping the request's
/// tracing span, so no actix worker ever waits on the database.
pub async fn read<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    state.reads.run(in_request_context(f)).await
}

/// `f`, to run on another thread inside the calling request's span and request id.
fn in_request_context<T>(f: impl FnOnce() -> T) -> impl FnOnce() -> T {
    let span = tracing::Span::current();
    let request_id = crate::observe::request_id();
    move || {
        let _entered = span.enter();
        crate::observe::with_request_id(request_id, f)
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads taking store reads from one queue: one per actix worker on SQLite,
/// one per pooled connection on PostgreSQL (see `startup`).
///
/// Reads are short (a statement or a few, a decryption) and CPU-bound on SQLite, and actix's
/// blocking pool grows a thread per concurrent task: under load each read then woke a sleeping
/// thread and put it back to sleep, which cost more than the read itself. Threads as many as
/// the cores stay busy while reads keep coming, so handing one over is a push onto the queue
/// (`GET /personal-identities/{id}` at 64 connections: 30 000/s on the blocking pool, 42 000/s
/// here; docs/performance.md). The pool also keeps reads apart from writers, which wait in
/// the blocking pool for SQLite's writer: a burst of writes cannot take the readers' threads.
pub struct ReadPool {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPool").finish_non_exhaustive()
    }
}

impl ReadPool {
    /// Starts `threads` threads; they end when the pool is dropped.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads.max(1) {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("kycd-read-{n}"))
                .spawn(move || {
                    // The lock is held only while waiting for the next job.
                    let next = || jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    while let Ok(job) = next() {
                        // A panic is reported to the waiting request by the job's dropped
                        // sender; the thread lives on.
                        let _ = catch_unwind(AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Self { queue })
    }

    /// Runs `f` on one of the pool's threads.
    async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        self.queue
            .send(Box::new(move || {
                let _ = done.send(f());
            }))
            .map_err(|_| ApiError::internal("read pool stopped"))?;
        // A job that panicked drops `done` unsent.
        result
            .await
            .map_err(|_| ApiError::internal("read task panicked"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_name() -> Result<String, ApiError> {
        Ok(std::thread::current().name().unwrap_or_default().to_owned())
    }

    #[actix_web::test]
    async fn reads_run_on_the_pool_threads_and_return_their_result() {
        let pool = ReadPool::new(2).unwrap();
        let name = pool.run(thread_name).await.unwrap();
        assert!(name.starts_with("kycd-read-"), "{name}");
        let err = pool.run(|| Err::<(), _>(ApiError::Forbidden)).await;
        assert!(matches!(err, Err(ApiError::Forbidden)), "{err:?}");
    }

    #[actix_web::test]
    async fn a_panicking_read_is_an_internal_error_and_the_pool_lives_on() {
        let pool = ReadPool::new(1).unwrap();
        let err = pool
            .run(|| -> Result<(), ApiError> { panic!("boom") })
            .await;
        assert!(matches!(err, Err(ApiError::Internal(_))), "{err:?}");
        // The one thread survived the panic.
        let many = (0..8).map(|_| pool.run(thread_name));
        for name in futures_util::future::join_all(many).await {
            assert_eq!(name.unwrap(), "kycd-read-0");
        }
    }
}
