//! What every handler shares: the store, the policy, the verifier, the signers and limiters,
//! and the ways off the async workers: [`blocking`] for changes and long work, [`read`] for
//! store reads, [`write_owned`] for a change the SQLite writer thread can take without a thread
//! waiting for it.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Mutex, PoisonError, mpsc},
};

use actix_web::web;
use kyc_model::{PersonalIdentity, PersonalIdentityId, TenantId};
use kyc_store::Db;
use kyc_tiers::{Policy, Verifier};
use time::{Date, OffsetDateTime};
use tokio::sync::{Semaphore, oneshot};

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
    /// On PostgreSQL, one permit per pooled connection for owned units ([`write_owned`]):
    /// requests queue here in arrival order (the semaphore is fair) rather than at the pool,
    /// where a thread woken for a returned connection can lose it to a newcomer and wait
    /// again, which made the slowest creates several times slower than the mean.
    pub write_slots: Arc<Semaphore>,
    /// Public base URL for presigned links (`http://127.0.0.1:8080` style, no trailing slash).
    pub public_url: String,
    /// Threads for store reads (see [`read`]).
    pub reads: ReadPool,
    /// Reads of one personal identity, coalesced (see [`find_person`]).
    pub person_reads: PersonReads,
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
            let _slot = state
                .write_slots
                .acquire()
                .await
                .map_err(|_| ApiError::internal("write slots closed"))?;
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
        let (done, result) = oneshot::channel();
        self.spawn(move || {
            let _ = done.send(f());
        })?;
        // A job that panicked drops `done` unsent.
        result
            .await
            .map_err(|_| ApiError::internal("read task panicked"))?
    }

    /// Queues `job` for one of the pool's threads.
    fn spawn(&self, job: impl FnOnce() + Send + 'static) -> Result<(), ApiError> {
        self.queue
            .send(Box::new(job))
            .map_err(|_| ApiError::internal("read pool stopped"))
    }
}

/// A live personal identity of `tenant` (`GET /personal-identities/{id}`), read together with
/// the other such reads waiting at the time (`personal::find_each`: one statement for them all
/// on PostgreSQL).
///
/// Each read of one identity was a synchronous round trip to PostgreSQL, and under load the
/// round trips, not the statements, took the time: switching threads on both sides, on the two
/// cores the database shares with the server (docs/performance.md). The reads queue here, and
/// jobs on the [`ReadPool`], at most [`PersonReads::new`]'s `jobs` at once, answer them up to
/// [`PersonReads::BATCH`] at a time. A read that finds fewer jobs running starts one, so a
/// lone read waits for nothing; under load the reads that arrive during one batch's round trip
/// go in the next.
pub async fn find_person(
    state: &web::Data<AppState>,
    tenant: TenantId,
    id: PersonalIdentityId,
) -> Result<PersonalIdentity, ApiError> {
    let (done, result) = oneshot::channel();
    if state.person_reads.queue((tenant, id), done)
        && let Err(err) = answer_person_reads(state)
    {
        state.person_reads.release();
        return Err(err);
    }
    // A batch that panicked drops `done` unsent.
    result
        .await
        .map_err(|_| ApiError::internal("read task panicked"))?
}

/// Queues a job on the read pool answering a batch of [`find_person`]'s lookups. While lookups
/// are left, each job queues its successor behind the reads queued meanwhile, so a stream of
/// gets keeps no read thread from the other reads.
fn answer_person_reads(state: &web::Data<AppState>) -> Result<(), ApiError> {
    let st = web::Data::clone(state);
    state.reads.spawn(move || {
        if st.person_reads.answer_batch(&st.db) && answer_person_reads(&st).is_err() {
            st.person_reads.release();
        }
    })
}

/// The queue of [`find_person`].
#[derive(Debug)]
pub struct PersonReads {
    state: Mutex<Waiting>,
    jobs: usize,
}

type PersonLookup = (TenantId, PersonalIdentityId);
type PersonReply = oneshot::Sender<Result<PersonalIdentity, ApiError>>;

#[derive(Debug, Default)]
struct Waiting {
    lookups: Vec<(PersonLookup, PersonReply)>,
    /// Jobs on the read pool taking lookups.
    running: usize,
}

impl PersonReads {
    /// Lookups per statement at most.
    const BATCH: usize = 64;

    /// At most `jobs` jobs take lookups at once (at least one).
    pub fn new(jobs: usize) -> Self {
        Self {
            state: Mutex::default(),
            jobs: jobs.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives back the place of a job that ends, or that could not be started.
    fn release(&self) {
        self.lock().running -= 1;
    }

    /// Queues a lookup; `true` when the caller is to start a job taking them.
    fn queue(&self, lookup: PersonLookup, reply: PersonReply) -> bool {
        let mut waiting = self.lock();
        waiting.lookups.push((lookup, reply));
        let start = waiting.running < self.jobs;
        if start {
            waiting.running += 1;
        }
        start
    }

    /// Answers a batch of the queued lookups. `true` when lookups are left: the job's place is
    /// then its successor's; else it is given back.
    fn answer_batch(&self, db: &Db) -> bool {
        // Gives the job's place back if the batch panics: its requests fail by their dropped
        // senders, and the lookups still queued wait for the next read's job.
        struct Place<'a>(&'a PersonReads);
        impl Drop for Place<'_> {
            fn drop(&mut self) {
                self.0.release();
            }
        }
        let place = Place(self);
        let batch: Vec<_> = {
            let mut waiting = self.lock();
            let n = waiting.lookups.len().min(Self::BATCH);
            waiting.lookups.drain(..n).collect()
        };
        let (lookups, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        if !lookups.is_empty() {
            match db.run(|conn| kyc_store::personal::find_each(conn, db.keys(), &lookups)) {
                Ok(found) => {
                    for (reply, identity) in replies.into_iter().zip(found) {
                        let _ = reply.send(identity.map_err(ApiError::from));
                    }
                }
                Err(err) => {
                    // The statement failed for every lookup: the pool's timeout or a database
                    // error (the cause, ids only, goes to each request's log line).
                    let err = ApiError::from(err);
                    for reply in replies {
                        let _ = reply.send(Err(err.clone()));
                    }
                }
            }
        }
        // Under the lock, so that a lookup queued after a last batch starts a job of its own.
        let mut waiting = self.lock();
        let more = !waiting.lookups.is_empty();
        if !more {
            waiting.running -= 1;
        }
        drop(waiting);
        std::mem::forget(place);
        more
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

    fn lookup() -> PersonLookup {
        (TenantId::random(), PersonalIdentityId::random())
    }

    #[test]
    fn a_lookup_starts_a_job_only_while_fewer_than_the_jobs_run() {
        let reads = PersonReads::new(2);
        assert!(reads.queue(lookup(), oneshot::channel().0));
        assert!(reads.queue(lookup(), oneshot::channel().0));
        assert!(!reads.queue(lookup(), oneshot::channel().0));
        assert_eq!(reads.lock().lookups.len(), 3);
        assert_eq!(reads.lock().running, 2);
    }

    #[test]
    fn a_job_answers_every_queued_lookup_and_gives_its_place_back() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("kycd.db").display());
        let keys = kyc_store::Keyring::from_master_key("k1", &[7; 32]).unwrap();
        let db = Db::open(&url, keys).unwrap();
        let reads = PersonReads::new(1);
        // More than a batch.
        let mut answers = Vec::new();
        for _ in 0..PersonReads::BATCH + 3 {
            let (reply, answer) = oneshot::channel();
            reads.queue(lookup(), reply);
            answers.push(answer);
        }
        // One batch, then the rest; a job would queue its successor in between.
        assert!(reads.answer_batch(&db));
        assert_eq!(reads.lock().running, 1);
        assert!(!reads.answer_batch(&db));
        for mut answer in answers {
            let err = answer.try_recv().unwrap().unwrap_err();
            assert_eq!(err.code(), "identity_not_found");
        }
        assert_eq!(reads.lock().running, 0);
        assert!(reads.lock().lookups.is_empty());

        // A failed statement fails every lookup of its batch, and the job's place is free again.
        db.run(|conn| {
            diesel::connection::SimpleConnection::batch_execute(
                conn,
                "ALTER TABLE personal_identities RENAME TO gone",
            )
            .map_err(kyc_store::StoreError::from)
        })
        .unwrap();
        let (reply, mut answer) = oneshot::channel();
        assert!(reads.queue(lookup(), reply));
        assert!(!reads.answer_batch(&db));
        assert!(matches!(
            answer.try_recv().unwrap(),
            Err(ApiError::Internal(_))
        ));
        assert_eq!(reads.lock().running, 0);
    }
}
