//! SQLite group commit: the process's writers take turns on one writer connection, each unit
//! of work in a savepoint of a shared transaction, and one commit (one WAL append and one
//! `fsync`) makes a whole batch durable.
//!
//! SQLite admits one writer at a time, and with `synchronous=FULL` a commit costs a WAL write
//! and an `fsync`: measured on the server's create path, the commit took as long as the unit's
//! own statements. Committing units one by one therefore halves the write throughput for
//! nothing; PostgreSQL and most databases batch commits the same way internally.
//!
//! The protocol, for each call of [`GroupCommit::write`]:
//! 1. Wait for the writer connection: writers of this process queue in arrival order, and the
//!    writer that finishes hands the connection to the one at the head of the queue (woken
//!    alone), so nobody is overtaken and the latency of a write is its place in the queue.
//! 2. If no transaction is open, open one with `BEGIN IMMEDIATE`: this starts a batch.
//! 3. Run the unit inside a savepoint: released when the unit returns `Ok`, rolled back when it
//!    returns `Err` or panics, so a failed unit leaves no trace and the batch goes on.
//! 4. If other writers are waiting, and the batch is younger than [`MAX_AGE`] and smaller than
//!    [`MAX_UNITS`], hand the connection to the next writer with the transaction still open;
//!    otherwise commit. A unit that succeeded returns only once its batch has committed, with
//!    the commit's error if it failed: nobody is told "done" before the data is on disk.
//!
//! Units see the uncommitted changes of the units before them in their batch, exactly as if
//! each had committed in turn: the order of the batch is a serial order. A lone writer commits
//! at once, so nothing waits for company. SQLite's own lock still guards against other
//! processes (such as `kycd migrate`): `BEGIN IMMEDIATE` waits for it through the busy timeout.
//! A writer that waits longer than the busy timeout for its turn (a mistake such as a nested
//! write on one thread) goes ahead on a connection of its own and lets SQLite decide, so it
//! ends in an error, not a hang.
//!
//! Handing the connection from thread to thread costs a wake-up per unit, during which the
//! connection idles: on a loaded machine that, not SQLite, bounded the hot path. A unit that
//! owns what it uses ([`GroupCommit::write_owned`]) is therefore sent to the writer thread
//! instead, which takes one turn for all the units queued at that moment and runs them back to
//! back, each in a savepoint of its own inside the turn's unit; each caller gets its own result
//! once the batch has committed.

use std::{
    collections::VecDeque,
    panic::{AssertUnwindSafe, catch_unwind, resume_unwind},
    sync::{
        Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::{self, RecvTimeoutError},
    },
    thread::{self, Thread},
    time::{Duration, Instant},
};

use diesel::{
    connection::{SimpleConnection, TransactionManager},
    r2d2::R2D2Connection,
};

use crate::{DbConnection, StoreError, conn::DbUrl};

/// How often the checkpointer looks for committed WAL frames to copy into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// WAL frames (about 1 KiB each, so about 1 GiB) past which the writer makes the WAL start
/// over (see [`Checkpointer`]).
const RESTART_WAL_FRAMES: i64 = 1 << 20;
/// Passive checkpoints run back to back, at most, before the writer starts the WAL over, and
/// the duration of one under which the WAL counts as caught up.
const CATCH_UP_RUNS: usize = 4;
const CAUGHT_UP: Duration = Duration::from_millis(2);
/// Most units one commit makes durable: bounds how long the first unit of a batch waits.
const MAX_UNITS: usize = 32;
/// Page cache of the writer connection, in KiB (an upper bound, filled as pages are read).
///
/// Bigger is not better here: when a page split reorders sibling pages, SQLite parks a page
/// under the lock-byte page's number (1 048 577 with 1 KiB pages), and the commit that follows
/// then walks the cache's whole hash table to drop pages past the end of the file
/// (`pcache1TruncateUnsafe`, seen with gdb: `iMaxKey` 1 048 577 at every commit). With 64 MiB
/// that walk took 12.5 % of the writer's time; with 8 MiB it is small, and the index pages a
/// create misses are read back from the OS page cache (docs/performance.md, sixth sitting).
const WRITER_CACHE_KIB: u32 = 8 * 1024;
/// Oldest a batch may grow before it commits, whoever is waiting.
const MAX_AGE: Duration = Duration::from_millis(4);

type Outcome = Arc<OnceLock<Result<(), StoreError>>>;

/// A unit sent to the writer thread: runs in a savepoint of its own and says whether it left
/// the transaction usable, and what to tell its caller once the batch's outcome is known.
type Job = Box<dyn FnOnce(&mut DbConnection) -> (bool, Finish) + Send>;
type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

thread_local! {
    /// Set on the writer thread, where an owned unit must not wait for the writer thread.
    static ON_WRITER_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The writer connection and its queue (one per [`crate::Db`] on SQLite).
pub(crate) struct GroupCommit {
    url: DbUrl,
    busy_timeout: Duration,
    state: Mutex<State>,
    /// Signalled when a batch has committed or rolled back.
    ended: Condvar,
    /// Units run and transactions ended, for metrics (their ratio is the mean batch size).
    units: AtomicU64,
    batches: Arc<AtomicU64>,
    /// Set by the checkpointer when the WAL has grown past [`RESTART_WAL_FRAMES`].
    restart_wanted: Arc<AtomicBool>,
    /// Dropped with the store, which stops the checkpointer thread.
    _stop_checkpointer: mpsc::Sender<()>,
    /// The writer thread's queue, started with the first owned unit (`None` if it could not
    /// start: owned units then take turns like the others). Dropped with the store, which stops
    /// the thread.
    jobs: OnceLock<Option<mpsc::Sender<Job>>>,
}

#[derive(Default)]
struct State {
    /// The writer connection while nobody holds it; `None` also before the first write and
    /// after a failure that left the connection unusable (the next writer opens a new one).
    conn: Option<DbConnection>,
    /// A writer holds the connection (or has been handed it and is waking up).
    in_use: bool,
    /// Writers waiting for the connection, oldest first.
    queue: VecDeque<Arc<Waiter>>,
    /// The open transaction, if any.
    batch: Option<Batch>,
}

/// A writer waiting for its turn.
struct Waiter {
    thread: Thread,
    /// Set (under the state lock) when the connection has been handed to this writer.
    granted: AtomicBool,
}

struct Batch {
    units: usize,
    started: Instant,
    outcome: Outcome,
}

/// What running a unit left behind.
enum Ran<T, E> {
    Returned(Result<T, E>),
    Panicked(Box<dyn std::any::Any + Send>),
}

/// The outcome of a unit sent with [`GroupCommit::send_owned_async`], ready once its batch has
/// committed.
#[must_use = "the unit runs either way; its outcome arrives only through this future"]
pub struct OwnedWrite<T, E> {
    result: futures_channel::oneshot::Receiver<Ran<T, E>>,
}

impl<T, E: From<StoreError>> std::future::Future for OwnedWrite<T, E> {
    type Output = Result<T, E>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.result)
            .poll(cx)
            .map(|ran| match ran {
                Ok(Ran::Returned(result)) => result,
                Ok(Ran::Panicked(_)) => Err(StoreError::Internal {
                    reason: "a write panicked",
                }
                .into()),
                Err(futures_channel::oneshot::Canceled) => Err(not_run().into()),
            })
    }
}

/// A unit dropped unrun: its turn or its batch failed (logged by the writer thread).
fn not_run() -> StoreError {
    StoreError::Internal {
        reason: "the SQLite writer thread did not run the write",
    }
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// The queue for the SQLite database at `url`, and its checkpointer thread.
    pub(crate) fn new(url: DbUrl, busy_timeout: Duration) -> Result<Self, StoreError> {
        Self::with_checkpoints(url, busy_timeout, CHECKPOINT_EVERY, RESTART_WAL_FRAMES)
    }

    /// [`GroupCommit::new`], with checkpoints every `every` and the WAL started over past
    /// `restart_at` frames.
    fn with_checkpoints(
        url: DbUrl,
        busy_timeout: Duration,
        every: Duration,
        restart_at: i64,
    ) -> Result<Self, StoreError> {
        let batches = Arc::new(AtomicU64::new(0));
        let restart_wanted = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel();
        let checkpointer = Checkpointer {
            conn: url.establish(busy_timeout)?,
            batches: Arc::clone(&batches),
            restart_wanted: Arc::clone(&restart_wanted),
            every,
            restart_at,
            stopped,
        };
        std::thread::Builder::new()
            .name("kyc-store-checkpointer".into())
            .spawn(move || checkpointer.run())
            .map_err(|_| StoreError::Internal {
                reason: "cannot start the SQLite checkpointer thread",
            })?;
        Ok(Self {
            url,
            busy_timeout,
            state: Mutex::default(),
            ended: Condvar::new(),
            units: AtomicU64::new(0),
            batches,
            restart_wanted,
            _stop_checkpointer: stop,
            jobs: OnceLock::new(),
        })
    }

    /// Opens the writer connection: SQLite's settings, without the automatic checkpoint that
    /// would copy WAL frames into the database file inside a commit, on the writers' path
    /// (the checkpointer thread does it instead), and with a page cache of [`WRITER_CACHE_KIB`].
    fn open_writer(&self) -> Result<DbConnection, StoreError> {
        let mut conn = self.url.establish(self.busy_timeout)?;
        conn.batch_execute(&format!(
            "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -{WRITER_CACHE_KIB}"
        ))?;
        Ok(conn)
    }

    /// Checkpoints what is left of the WAL (a passive checkpoint, which waits for nobody) while
    /// no transaction is open, so that the next transaction writes the WAL from its beginning
    /// again once the readers still in the WAL are gone. A failure changes nothing but the
    /// WAL's length.
    fn restart_wal(conn: &mut DbConnection) {
        if let Err(e) = crate::dialect::checkpoint(conn, "PASSIVE") {
            tracing::warn!(error = %e, "SQLite WAL checkpoint failed");
        }
    }

    /// `(units run, transactions ended)` since the store opened.
    pub(crate) fn stats(&self) -> (u64, u64) {
        (
            self.units.load(Ordering::Relaxed),
            self.batches.load(Ordering::Relaxed),
        )
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` as one unit of a group-committed transaction (see the module documentation):
    /// `Ok` once the unit's changes are committed, `Err` with nothing of the unit applied.
    pub(crate) fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        let Some((conn, open)) = self.take_turn() else {
            tracing::warn!("SQLite writer queue wait exceeded the busy timeout");
            let mut conn = self.url.establish(self.busy_timeout)?;
            return crate::db::transaction(&mut conn, f);
        };
        let mut conn = match conn {
            Some(conn) => conn,
            None => match self.open_writer() {
                Ok(conn) => conn,
                Err(e) => {
                    self.hand_back(None);
                    return Err(e.into());
                }
            },
        };
        let outcome = match open {
            Some(outcome) => outcome,
            None => match crate::db::begin_immediate(&mut conn) {
                Ok(()) => {
                    let outcome = Outcome::default();
                    self.lock().batch = Some(Batch {
                        units: 0,
                        started: Instant::now(),
                        outcome: Arc::clone(&outcome),
                    });
                    outcome
                }
                Err(e) => {
                    self.hand_back(Some(conn));
                    return Err(e.into());
                }
            },
        };

        let (ran, clean) = run_in_savepoint(&mut conn, f);
        self.units.fetch_add(1, Ordering::Relaxed);

        let mut state = self.lock();
        let nobody_waits = state.queue.is_empty();
        let close = match state.batch.as_mut() {
            Some(batch) => {
                batch.units += 1;
                !clean
                    || nobody_waits
                    || batch.units >= MAX_UNITS
                    || batch.started.elapsed() >= MAX_AGE
            }
            None => true,
        };
        if close {
            state.batch = None;
            drop(state);
            self.batches.fetch_add(1, Ordering::Relaxed);
            let result = if clean {
                <DbConnection as TransactionManager<DbConnection>>::commit_transaction(&mut conn)
                    .map_err(StoreError::from)
            } else {
                Err(StoreError::Internal {
                    reason: "a unit of work left the shared transaction unusable",
                })
            };
            // A connection left inside a transaction is dropped: closing it rolls back.
            let reusable = clean && !conn.is_broken();
            let committed = result.is_ok();
            {
                // Set while holding the lock, so that no follower misses the wake-up.
                let _state = self.lock();
                let _ = outcome.set(result);
            }
            self.ended.notify_all();
            // Between two transactions, while the next writers wait for the connection.
            if committed && reusable && self.restart_wanted.swap(false, Ordering::Relaxed) {
                Self::restart_wal(&mut conn);
            }
            let mut state = self.lock();
            state.conn = reusable.then_some(conn);
            Self::pass_on(&mut state);
            drop(state);
        } else {
            state.conn = Some(conn);
            Self::pass_on(&mut state);
            drop(state);
        }

        match ran {
            Ran::Panicked(payload) => resume_unwind(payload),
            Ran::Returned(Err(e)) => Err(e),
            Ran::Returned(Ok(value)) => match self.wait_for(&outcome) {
                Ok(()) => Ok(value),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// [`GroupCommit::write`] for a unit that owns what it uses: it runs on the writer thread
    /// (see the module documentation), and this thread waits for its result.
    pub(crate) fn write_owned<T, E, F>(self: &Arc<Self>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (done, result) = mpsc::sync_channel::<Ran<T, E>>(1);
        // The caller waits for this; it cannot have gone.
        if let Err(f) = self.send_owned(f, move |ran| drop(done.send(ran))) {
            // A write inside an owned unit would wait for its own thread forever; as a nested
            // `write` it ends in an error after the busy timeout instead.
            return self.write(f);
        }
        match result.recv() {
            Ok(Ran::Returned(result)) => result,
            Ok(Ran::Panicked(payload)) => resume_unwind(payload),
            Err(_) => Err(not_run().into()),
        }
    }

    /// [`GroupCommit::write_owned`] without a waiting thread: the unit's outcome arrives
    /// through the returned future once its batch has committed. A unit that panicked is an
    /// internal error here (the panic stays on the writer thread, which goes on). `Err(f)` on
    /// the writer thread itself or when the thread cannot start: run `f` with
    /// [`GroupCommit::write`] then.
    pub(crate) fn send_owned_async<T, E, F>(self: &Arc<Self>, f: F) -> Result<OwnedWrite<T, E>, F>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (done, result) = futures_channel::oneshot::channel::<Ran<T, E>>();
        // A caller that stopped waiting (its request went away) drops the outcome.
        self.send_owned(f, move |ran| drop(done.send(ran)))?;
        Ok(OwnedWrite { result })
    }

    /// Queues `f` for the writer thread; `deliver` gets its outcome once its batch has
    /// committed (the unit's error, or the commit's if the unit succeeded and the commit
    /// failed). `Err(f)` when there is no writer thread to take it, or this is that thread.
    fn send_owned<T, E, F>(
        self: &Arc<Self>,
        f: F,
        deliver: impl FnOnce(Ran<T, E>) + Send + 'static,
    ) -> Result<(), F>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let jobs = match self.writer_thread() {
            Some(jobs) if !ON_WRITER_THREAD.get() => jobs,
            _ => return Err(f),
        };
        // The unit's log lines stay in the caller's span (its request).
        let span = tracing::Span::current();
        let job: Job = Box::new(move |conn| {
            let (ran, clean) = span.in_scope(|| run_in_savepoint(conn, f));
            let finish: Finish = Box::new(move |outcome| {
                deliver(match (ran, outcome) {
                    (Ran::Returned(Ok(_)), Err(e)) => Ran::Returned(Err(e.into())),
                    (ran, _) => ran,
                });
            });
            (clean, finish)
        });
        if let Err(mpsc::SendError(job)) = jobs.send(job) {
            // The writer thread is gone (it never should): take a turn on this thread instead.
            self.run_jobs(vec![job]);
        }
        Ok(())
    }

    /// The writer thread's queue, starting the thread on first use.
    fn writer_thread(self: &Arc<Self>) -> Option<&mpsc::Sender<Job>> {
        self.jobs
            .get_or_init(|| {
                let (jobs, queue) = mpsc::channel::<Job>();
                let gc = Arc::downgrade(self);
                thread::Builder::new()
                    .name("kyc-store-writer".into())
                    .spawn(move || {
                        ON_WRITER_THREAD.set(true);
                        // Ends when the store is dropped (the sender with it).
                        while let Ok(first) = queue.recv() {
                            let mut batch = vec![first];
                            batch.extend(queue.try_iter().take(MAX_UNITS - 1));
                            match gc.upgrade() {
                                Some(gc) => gc.run_jobs(batch),
                                None => break,
                            }
                        }
                    })
                    .ok()
                    .map(|_| jobs)
            })
            .as_ref()
    }

    /// Runs owned units back to back in one turn, then tells each caller its result.
    fn run_jobs(&self, jobs: Vec<Job>) {
        let count = jobs.len();
        let mut finishers = Vec::with_capacity(count);
        let result = self.write(|conn| {
            for job in jobs {
                let (clean, finish) = job(conn);
                finishers.push(finish);
                if !clean {
                    // The remaining jobs are dropped unrun; their callers get an error.
                    return Err(StoreError::Internal {
                        reason: "a unit of work left the shared transaction unusable",
                    });
                }
            }
            Ok(())
        });
        if let Err(e) = &result {
            tracing::warn!(error = %e, units = count, "SQLite writer thread batch failed");
        }
        // `write` counted the turn as one unit.
        self.units
            .fetch_add(finishers.len().saturating_sub(1) as u64, Ordering::Relaxed);
        for finish in finishers {
            finish(result.clone());
        }
    }

    /// Waits for the connection: `Some((connection if open, outcome of the open batch))`, or
    /// `None` after the busy timeout.
    fn take_turn(&self) -> Option<(Option<DbConnection>, Option<Outcome>)> {
        let mut state = self.lock();
        if state.in_use || !state.queue.is_empty() {
            let me = Arc::new(Waiter {
                thread: thread::current(),
                granted: AtomicBool::new(false),
            });
            state.queue.push_back(Arc::clone(&me));
            drop(state);
            let deadline = Instant::now() + self.busy_timeout;
            // Parking can end spuriously: the flag, not the wake-up, says whose turn it is.
            while !me.granted.load(Ordering::Acquire) {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let mut state = self.lock();
                    if me.granted.load(Ordering::Acquire) {
                        break;
                    }
                    state.queue.retain(|w| !Arc::ptr_eq(w, &me));
                    return None;
                }
                thread::park_timeout(left);
            }
            state = self.lock();
        }
        state.in_use = true;
        let open = state.batch.as_ref().map(|b| Arc::clone(&b.outcome));
        Some((state.conn.take(), open))
    }

    /// Gives the connection (already back in `state`) to the oldest waiting writer, or frees it.
    fn pass_on(state: &mut State) {
        match state.queue.pop_front() {
            Some(next) => {
                next.granted.store(true, Ordering::Release);
                next.thread.unpark();
            }
            None => state.in_use = false,
        }
    }

    /// Returns the connection (or loses it) without touching the batch.
    fn hand_back(&self, conn: Option<DbConnection>) {
        let mut state = self.lock();
        state.conn = conn;
        Self::pass_on(&mut state);
    }

    fn wait_for(&self, outcome: &Outcome) -> Result<(), StoreError> {
        let state = self.lock();
        let _state = self
            .ended
            .wait_while(state, |_| outcome.get().is_none())
            .unwrap_or_else(PoisonError::into_inner);
        outcome.get().cloned().unwrap_or(Err(StoreError::Internal {
            reason: "group commit ended without an outcome",
        }))
    }
}

/// Runs `f` in a savepoint. The flag is false when the savepoint could not be opened, released
/// or rolled back: the shared transaction is then in an unknown state and must be abandoned.
fn run_in_savepoint<T, E, F>(conn: &mut DbConnection, f: F) -> (Ran<T, E>, bool)
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<StoreError>,
{
    type Tm = DbConnection;
    if let Err(e) = <Tm as TransactionManager<Tm>>::begin_transaction(conn) {
        return (Ran::Returned(Err(StoreError::from(e).into())), false);
    }
    match catch_unwind(AssertUnwindSafe(|| f(conn))) {
        Ok(Ok(value)) => match <Tm as TransactionManager<Tm>>::commit_transaction(conn) {
            Ok(()) => (Ran::Returned(Ok(value)), true),
            Err(e) => (Ran::Returned(Err(StoreError::from(e).into())), false),
        },
        Ok(Err(e)) => {
            let clean = <Tm as TransactionManager<Tm>>::rollback_transaction(conn).is_ok();
            (Ran::Returned(Err(e)), clean)
        }
        Err(payload) => {
            let clean = <Tm as TransactionManager<Tm>>::rollback_transaction(conn).is_ok();
            (Ran::Panicked(payload), clean)
        }
    }
}

/// Copies committed WAL frames into the database file (`PRAGMA wal_checkpoint(PASSIVE)`) on
/// a connection and thread of its own, every [`CHECKPOINT_EVERY`] in which something was
/// committed. A passive checkpoint runs alongside the writer and waits for nobody.
///
/// SQLite writes the WAL from its beginning again only when a transaction starts with every
/// frame checkpointed and no reader in the WAL. Under a steady stream of writes that does not
/// happen by itself (the writer always commits again before a checkpoint run on another
/// connection has caught up): the load example's creates grew the WAL to 830 MB in 5 s, and
/// it would grow until the disk is full if the stream never paused. So once the WAL holds
/// [`RESTART_WAL_FRAMES`] frames, the checkpointer asks the writer to start it over between
/// two transactions ([`GroupCommit::restart_wal`]). The bound is high because the writers
/// wait while the writer copies the rest of the WAL and syncs the database file: starting
/// over at 270 MB stalled the writer 15-45 ms a time and raised the load example's create p99
/// from 17 to 21-25 ms (docs/performance.md, tenth sitting). A pause in the writes resets the
/// WAL long before the bound.
struct Checkpointer {
    /// Opened with the store, so the thread never creates a database file of its own.
    conn: DbConnection,
    batches: Arc<AtomicU64>,
    restart_wanted: Arc<AtomicBool>,
    /// [`CHECKPOINT_EVERY`] and [`RESTART_WAL_FRAMES`], but for tests.
    every: Duration,
    restart_at: i64,
    stopped: mpsc::Receiver<()>,
}

impl Checkpointer {
    fn run(mut self) {
        let mut seen = 0;
        while let Err(RecvTimeoutError::Timeout) = self.stopped.recv_timeout(self.every) {
            let batches = self.batches.load(Ordering::Relaxed);
            if batches == seen {
                continue;
            }
            seen = batches;
            // A failed checkpoint (say, SQLITE_BUSY) leaves the frames for the next one.
            match crate::dialect::checkpoint(&mut self.conn, "PASSIVE") {
                Ok(r) if r.log >= self.restart_at => self.prepare_restart(),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed"),
            }
        }
    }

    /// Leaves the writer as little as possible to copy while the next writers wait (passive
    /// checkpoints back to back until one finds little to do), then asks it to start the WAL
    /// over.
    ///
    /// The writer's checkpoint also syncs the database file, which a passive checkpoint under
    /// a stream of writes never does (it never finds the WAL complete). It is not synced here
    /// through a descriptor of our own: closing one drops every POSIX lock this process holds
    /// on the file, SQLite's included, and another process could then delete a WAL still in
    /// use ("How To Corrupt An SQLite Database File", 2.2). Measured, it did not shorten the
    /// writer's stall anyway (docs/performance.md, tenth sitting).
    fn prepare_restart(&mut self) {
        for _ in 0..CATCH_UP_RUNS {
            let started = Instant::now();
            if crate::dialect::checkpoint(&mut self.conn, "PASSIVE").is_err()
                || started.elapsed() < CAUGHT_UP
            {
                break;
            }
        }
        self.restart_wanted.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Barrier, mpsc};

    use super::*;

    fn queue_len(gc: &GroupCommit) -> usize {
        gc.lock().queue.len()
    }

    /// A store in a fresh directory (kept alive by the returned guard).
    fn store(busy_timeout: Duration) -> (tempfile::TempDir, Arc<GroupCommit>) {
        let dir = tempfile::tempdir().unwrap();
        let url =
            DbUrl::parse(&format!("sqlite://{}", dir.path().join("gc.db").display())).unwrap();
        let gc = Arc::new(GroupCommit::new(url, busy_timeout).unwrap());
        (dir, gc)
    }

    /// [`store`] with a table `t` of numbers, which the tests' units insert into.
    fn store_with_table() -> (tempfile::TempDir, Arc<GroupCommit>) {
        let (dir, gc) = store(Duration::from_secs(30));
        gc.write(|c| Ok::<_, StoreError>(c.batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")?))
            .unwrap();
        (dir, gc)
    }

    /// Unit `i`'s insert of `i` into `t`.
    fn insert_number(c: &mut DbConnection, i: i64) -> Result<usize, StoreError> {
        use diesel::RunQueryDsl;
        Ok(diesel::sql_query(format!("INSERT INTO t VALUES ({i})")).execute(c)?)
    }

    /// The numbers in `t`, in order.
    fn stored_numbers(gc: &Arc<GroupCommit>) -> Vec<i64> {
        use diesel::{RunQueryDsl, sql_types::BigInt};

        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        gc.write(|c| {
            Ok::<_, StoreError>(diesel::sql_query("SELECT n FROM t ORDER BY n").load::<N>(c)?)
        })
        .unwrap()
        .into_iter()
        .map(|r| r.n)
        .collect()
    }

    /// A writer that holds the connection until the returned sender is used.
    type Holder = (thread::JoinHandle<Result<(), StoreError>>, mpsc::Sender<()>);

    fn hold_connection(gc: &Arc<GroupCommit>) -> Holder {
        let (release, hold) = mpsc::channel::<()>();
        let started = Arc::new(Barrier::new(2));
        let holder = {
            let (gc, started) = (Arc::clone(gc), Arc::clone(&started));
            thread::spawn(move || {
                gc.write(|_| {
                    started.wait();
                    hold.recv().unwrap();
                    Ok::<_, StoreError>(())
                })
            })
        };
        started.wait();
        (holder, release)
    }

    /// Waits (bounded) until `n` writers are queued.
    fn until_queued(gc: &GroupCommit, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while queue_len(gc) < n {
            assert!(Instant::now() < deadline, "{n} writers never queued");
            thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn writers_take_turns_in_arrival_order() {
        let (_dir, gc) = store(Duration::from_secs(30));
        let order = Arc::new(Mutex::new(Vec::new()));
        // The first writer holds the connection until every other writer has queued.
        let (first, release) = hold_connection(&gc);
        let writers: Vec<_> = (0..6)
            .map(|i| {
                let (gc2, order) = (Arc::clone(&gc), Arc::clone(&order));
                let handle = thread::spawn(move || {
                    gc2.write(|_| {
                        order.lock().unwrap().push(i);
                        Ok::<_, StoreError>(())
                    })
                });
                until_queued(&gc, i + 1);
                handle
            })
            .collect();
        release.send(()).unwrap();
        first.join().unwrap().unwrap();
        for w in writers {
            w.join().unwrap().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(gc.stats().0, 7);
        let state = gc.lock();
        assert!(!state.in_use && state.queue.is_empty() && state.batch.is_none());
    }

    #[test]
    fn owned_units_run_together_on_the_writer_thread_and_fail_alone() {
        let (_dir, gc) = store_with_table();
        // A borrowed writer holds the connection while the owned units queue.
        let (first, release) = hold_connection(&gc);
        let owned: Vec<_> = (0..8_i64)
            .map(|i| {
                let gc = Arc::clone(&gc);
                thread::spawn(move || {
                    gc.write_owned(move |c| {
                        insert_number(c, i)?;
                        match i {
                            3 => Err(StoreError::Internal {
                                reason: "unit 3 fails",
                            }),
                            5 => panic!("unit 5 panics"),
                            _ => Ok(i),
                        }
                    })
                })
            })
            .collect();
        // The writer thread waits for its turn behind the borrowed writer.
        until_queued(&gc, 1);
        let (_, batches_before) = gc.stats();
        release.send(()).unwrap();
        first.join().unwrap().unwrap();
        for (i, handle) in (0_i64..).zip(owned) {
            match (i, handle.join()) {
                (3, Ok(Err(StoreError::Internal { reason }))) => assert_eq!(reason, "unit 3 fails"),
                (5, Err(_)) => {}
                (i, Ok(Ok(n))) => assert_eq!(n, i),
                (i, other) => panic!(
                    "unit {i}: {:?}",
                    other.map(|r| r.map_err(|e| e.to_string()))
                ),
            }
        }
        let stored = stored_numbers(&gc);
        assert_eq!(
            stored,
            [0, 1, 2, 4, 6, 7],
            "the failed and the panicking unit left nothing"
        );
        // The first turn of the writer thread, and at most one more for the units that arrived
        // meanwhile (plus the read above); each unit counted once.
        let (units, batches) = gc.stats();
        assert!(
            batches - batches_before <= 4,
            "{batches_before} -> {batches}"
        );
        assert_eq!(units, 1 + 1 + 8 + 1);
    }

    /// Polls `future` to its end on this thread, parking between wake-ups.
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        struct Unpark(Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = std::task::Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            thread::park();
        }
    }

    #[test]
    fn units_sent_without_a_waiting_thread_deliver_their_outcome_after_the_commit() {
        let (_dir, gc) = store_with_table();
        let sent: Vec<OwnedWrite<i64, StoreError>> = (0..4_i64)
            .map(|i| {
                gc.send_owned_async(move |c| {
                    insert_number(c, i)?;
                    match i {
                        1 => Err(StoreError::Internal {
                            reason: "unit 1 fails",
                        }),
                        2 => panic!("unit 2 panics"),
                        _ => Ok(i * 10),
                    }
                })
                .unwrap_or_else(|_| panic!("SQLite has a writer thread"))
            })
            .collect();
        let outcomes: Vec<Result<i64, String>> = sent
            .into_iter()
            .map(|w| block_on(w).map_err(|e| e.to_string()))
            .collect();
        assert_eq!(outcomes[0], Ok(0));
        assert!(
            outcomes[1]
                .as_ref()
                .is_err_and(|e| e.contains("unit 1 fails")),
            "{outcomes:?}"
        );
        assert!(
            outcomes[2].as_ref().is_err_and(|e| e.contains("panicked")),
            "{outcomes:?}"
        );
        assert_eq!(outcomes[3], Ok(30));
        let stored = stored_numbers(&gc);
        assert_eq!(
            stored,
            [0, 3],
            "the failed and the panicking unit left nothing"
        );
        // On the writer thread itself the unit comes back, to be run another way.
        let inner = Arc::clone(&gc);
        let nested = gc.write_owned(move |_| {
            Ok::<_, StoreError>(inner.send_owned_async(|_| Ok::<_, StoreError>(())).is_err())
        });
        assert_eq!(nested.ok(), Some(true));
    }

    #[test]
    fn a_write_nested_in_an_owned_unit_fails_instead_of_hanging() {
        let (_dir, gc) = store(Duration::from_millis(50));
        let inner = Arc::clone(&gc);
        let nested = gc.write_owned(move |_| {
            Ok::<_, StoreError>(inner.write_owned(|_| Ok::<_, StoreError>(())).is_err())
        });
        assert_eq!(nested.ok(), Some(true));
    }

    #[test]
    fn a_writer_that_waits_past_the_busy_timeout_leaves_the_queue() {
        let (_dir, gc) = store(Duration::from_millis(50));
        gc.lock().in_use = true;
        assert!(gc.take_turn().is_none());
        assert_eq!(queue_len(&gc), 0);
    }

    /// The WAL's length after writers and a reader have kept the database busy for 2.5 s, with
    /// checkpoints every 10 ms and the WAL started over past `restart_at` frames; every number
    /// written is then stored.
    fn wal_after_a_steady_stream(restart_at: i64) -> u64 {
        use diesel::RunQueryDsl;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gc.db");
        let url = DbUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        let gc = Arc::new(
            GroupCommit::with_checkpoints(
                url.clone(),
                Duration::from_secs(30),
                Duration::from_millis(10),
                restart_at,
            )
            .unwrap(),
        );
        gc.write(|c| Ok::<_, StoreError>(c.batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")?))
            .unwrap();
        let until = Instant::now() + Duration::from_millis(2500);
        let mut written: Vec<i64> = thread::scope(|s| {
            s.spawn(|| {
                let mut reader = url.establish(Duration::from_secs(30)).unwrap();
                while Instant::now() < until {
                    diesel::sql_query("SELECT COUNT(*) FROM t")
                        .execute(&mut reader)
                        .unwrap();
                    thread::sleep(Duration::from_micros(100));
                }
            });
            let writers: Vec<_> = (0..4)
                .map(|w| {
                    let gc = &gc;
                    s.spawn(move || {
                        let mut written = Vec::new();
                        for i in (w..).step_by(4).take_while(|_| Instant::now() < until) {
                            gc.write(|c| insert_number(c, i)).unwrap();
                            written.push(i);
                        }
                        written
                    })
                })
                .collect();
            writers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        written.sort_unstable();
        assert_eq!(stored_numbers(&gc), written);
        std::fs::metadata(dir.path().join("gc.db-wal"))
            .unwrap()
            .len()
    }

    #[test]
    fn a_steady_stream_of_writes_starts_the_wal_over() {
        // Unbounded (`i64::MAX`), this WAL grew to 11-14 MB, and on as long as the writes do;
        // bounded, to 0.9-3.2 MB.
        let bounded = wal_after_a_steady_stream(64);
        assert!(bounded < 8 << 20, "the WAL grew to {bounded} bytes");
    }
}
