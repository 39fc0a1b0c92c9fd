//! The store handle: a pool of connections of one backend, the keyring, and the two ways to use
//! a connection (`run` for reads, `write` for a transaction).

use std::{sync::Arc, time::Duration};

use diesel::connection::{AnsiTransactionManager, TransactionManager};

use crate::{
    Backend, DbConnection, Keyring, StoreError,
    conn::{ConnectionManager, DbUrl, SqliteSettings, migrate_url},
    group_commit::{GroupCommit, OwnedWrite},
};

/// Pool and SQLite tuning. The defaults suit the server.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// Connections kept open while idle (`None`: as many as `max_connections`).
    pub min_idle: Option<u32>,
    /// How long a pool checkout waits before failing (`StoreError::Pool`, HTTP 503). Default
    /// 5 s: a request made while the database is unreachable answers 503 after that long (it
    /// waited 30 s before), and writers queue for their turn before the checkout
    /// (`write_slots`), so a busy pool seldom makes a checkout wait at all.
    pub connection_timeout: Duration,
    /// How long SQLite waits for another writer's lock before reporting busy. Writers queue on
    /// SQLite's single write lock for at most this long.
    pub busy_timeout: Duration,
    /// Whether a connection is pinged (`SELECT 1`) before a checkout, unless its last use ended
    /// without error within the last second (see `conn::Pooled`). `None`: yes on PostgreSQL,
    /// whose connections die with a server restart or failover, no on SQLite, whose connections
    /// cannot.
    pub test_on_check_out: Option<bool>,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_idle: Some(1),
            connection_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(30),
            test_on_check_out: None,
        }
    }
}

impl DbOptions {
    /// For a command that runs a few statements and exits (`kycd tenants create`, ...): one
    /// connection, opened when first needed and none kept in reserve. With the defaults, the
    /// pool refills its idle reserve on a thread of its own as soon as the command takes a
    /// connection, and a process that exits while that thread is inside libpq's TLS handshake
    /// crashes there (a segmentation fault in up to 6 runs of 20 on PostgreSQL).
    pub fn one_shot() -> Self {
        Self {
            max_connections: 1,
            min_idle: Some(0),
            ..Self::default()
        }
    }
}

/// Longest [`Db::ping`] waits for a connection.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// The store: cheap to clone (the pool and keyring are shared), `Send + Sync`.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<ConnectionManager>,
    keys: Arc<Keyring>,
    url: DbUrl,
    /// SQLite only: the writer connection, where this process's writers queue and share
    /// commits (see `group_commit.rs`).
    writer: Option<Arc<GroupCommit>>,
    /// PostgreSQL only: stops the statistics thread (`analyzer.rs`), and waits for it, when the
    /// last clone drops.
    #[cfg(feature = "postgres")]
    _analyzer: Option<Arc<crate::analyzer::Analyzer>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.url.backend())
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens the database at `url` (`sqlite://...` or `postgres://...`) with default options:
    /// runs the pending migrations on a dedicated connection, then builds the pool.
    pub fn open(url: &str, keys: Keyring) -> Result<Self, StoreError> {
        Self::open_with(url, keys, DbOptions::default())
    }

    /// [`Db::open`] with explicit options.
    pub fn open_with(url: &str, keys: Keyring, options: DbOptions) -> Result<Self, StoreError> {
        let url = DbUrl::parse(url)?;
        migrate_url(&url)?;
        let manager = ConnectionManager::new(url.clone());
        let sqlite = url.backend() == Backend::Sqlite;
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections.max(1))
            .min_idle(options.min_idle)
            .connection_timeout(options.connection_timeout)
            .test_on_check_out(options.test_on_check_out.unwrap_or(!sqlite))
            .connection_customizer(Box::new(SqliteSettings {
                busy_timeout: options.busy_timeout,
            }))
            .build(manager)?;
        tracing::info!(backend = %url.backend(), "store opened");
        Ok(Self {
            pool,
            keys: Arc::new(keys),
            writer: if sqlite {
                Some(Arc::new(GroupCommit::new(
                    url.clone(),
                    options.busy_timeout,
                )?))
            } else {
                None
            },
            #[cfg(feature = "postgres")]
            _analyzer: if sqlite {
                None
            } else {
                Some(Arc::new(crate::analyzer::Analyzer::start(&url)?))
            },
            url,
        })
    }

    /// The backend the URL chose.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The keyring, for the repository functions that encrypt or decrypt.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// The SQLite database file, when the backend is SQLite.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        self.url.sqlite_path()
    }

    /// Runs `f` on a pooled connection, outside any transaction: for reads. Writes go through
    /// [`Db::write`].
    pub fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        self.pool.get().map_err(StoreError::from)?.run(f)
    }

    /// Runs `f` as one transaction: its changes are committed when it returns `Ok` (and
    /// `write` returns once they are durable), and none of them is when it returns `Err` or
    /// panics. PostgreSQL: a transaction of its own on a pooled connection (see
    /// [`transaction`]). SQLite: the process's writers take turns on one writer connection,
    /// each `f` in a savepoint, and share commits (group commit, see `group_commit.rs`); `f`
    /// sees the latest data, including that of writers whose commit it shares.
    pub fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        if let Some(writer) = &self.writer {
            return writer.write(f);
        }
        self.pool
            .get()
            .map_err(StoreError::from)?
            .run(|conn| transaction(conn, f))
    }

    /// [`Db::write`] for a unit that owns what it uses, as the server's hot paths do. SQLite: it
    /// runs on the writer thread, back to back with the other owned units queued at the time,
    /// so that no thread switch separates them (see `group_commit.rs`); this thread waits for
    /// the result. PostgreSQL: exactly [`Db::write`].
    pub fn write_owned<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write_owned(f),
            None => self.write(f),
        }
    }

    /// [`Db::write_owned`] for async callers, where no thread should wait for a commit. SQLite:
    /// the unit goes to the writer thread and the returned future yields its outcome once its
    /// batch has committed (a unit that panics yields an internal error). `Err(f)` on
    /// PostgreSQL, or on the writer thread itself: run `f` with [`Db::write`] on a thread that
    /// may block.
    pub fn send_owned<T, E, F>(&self, f: F) -> Result<OwnedWrite<T, E>, F>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.send_owned_async(f),
            None => Err(f),
        }
    }

    /// SQLite: `(units of work written, transactions committed or rolled back)` since the store
    /// opened; their ratio is the mean number of units per commit. `None` on PostgreSQL.
    pub fn group_commit_stats(&self) -> Option<(u64, u64)> {
        self.writer.as_ref().map(|w| w.stats())
    }

    /// Opens a sealed value of the database, if it holds one (a live person's date of birth or
    /// SSN, a company's tax id), with the keyring: [`StoreError::Crypto`] when the configured
    /// keys are not those the data was written with. A server started with the wrong key would
    /// otherwise answer every read of an existing identity with an internal error.
    pub fn check_keys(&self) -> Result<(), StoreError> {
        use diesel::prelude::*;

        use crate::{
            schema::{business_identities::dsl as b, personal_identities::dsl as p},
            util::parse_id,
        };
        let fatal = |result: Result<(), StoreError>| match result {
            Err(e @ StoreError::Crypto { .. }) => Err(e),
            // Gone meanwhile, say: nothing learnt about the keys.
            _ => Ok(()),
        };
        self.run(|conn| {
            let people: Vec<(String, String)> = p::personal_identities
                .filter(p::erased_at.is_null())
                .filter(p::dob_ct.is_not_null().or(p::ssn_ct.is_not_null()))
                .select((p::tenant_id, p::id))
                .limit(1)
                .load(conn)?;
            for (tenant, id) in people {
                let (tenant, id) = (
                    parse_id(&tenant, "personal_identities", "tenant_id")?,
                    parse_id(&id, "personal_identities", "id")?,
                );
                fatal(crate::personal::find(conn, &self.keys, tenant, id).map(drop))?;
            }
            let companies: Vec<(String, String)> = b::business_identities
                .select((b::tenant_id, b::id))
                .limit(1)
                .load(conn)?;
            for (tenant, id) in companies {
                let (tenant, id) = (
                    parse_id(&tenant, "business_identities", "tenant_id")?,
                    parse_id(&id, "business_identities", "id")?,
                );
                fatal(crate::business::find(conn, &self.keys, tenant, id).map(drop))?;
            }
            Ok(())
        })
    }

    /// Checks that a connection can be had and answers (readiness probe).
    pub fn ping(&self) -> Result<(), StoreError> {
        use diesel::r2d2::R2D2Connection;
        // A probe answers within its caller's patience (a Kubernetes probe waits 1 s by
        // default), not after the pool's checkout timeout.
        self.pool
            .get_timeout(PING_TIMEOUT)?
            .run(|conn| conn.ping().map_err(StoreError::from))
    }

    /// Most pooled connections (reads, and writes on PostgreSQL) open at once.
    pub fn max_connections(&self) -> u32 {
        self.pool.max_size()
    }

    /// Pool statistics `(open connections, idle connections)`, for metrics.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }

    /// SQLite: copies the WAL into the database file and truncates the WAL to zero bytes, so
    /// that rows deleted or overwritten before the call survive in neither file (with
    /// `secure_delete` the database pages themselves are zeroed). Waits for readers through the
    /// busy timeout, retries a few times, then reports [`StoreError::WalCheckpointBusy`].
    /// PostgreSQL: nothing to do here (see docs/storage.md on erasure).
    pub fn scrub_wal(&self) -> Result<(), StoreError> {
        self.run(crate::dialect::checkpoint_truncate)
    }

    /// Erases a personal identity (see [`crate::erasure::erase_personal_identity`], with its
    /// optional expected version) in one transaction, then scrubs the WAL.
    pub fn erase_personal_identity(
        &self,
        tenant: kyc_model::TenantId,
        id: kyc_model::PersonalIdentityId,
        actor: kyc_model::Actor,
        expected_versions: Option<&[i64]>,
    ) -> Result<crate::erasure::ErasureReport, StoreError> {
        let report = self.write(|conn| {
            crate::erasure::erase_personal_identity(conn, tenant, id, actor, expected_versions)
        })?;
        self.scrub_wal()?;
        Ok(report)
    }
}

/// Runs `f` in one transaction on `conn`. SQLite: `BEGIN IMMEDIATE`, which takes the write lock
/// up front (waiting through the busy timeout), so a transaction never fails half-way because
/// a reader it started as had to become a writer: the source of "database is locked". Within a
/// write transaction, reads see the latest committed data and no other writer can interleave.
/// PostgreSQL: a `READ COMMITTED` transaction; concurrent writers to one row are ordered by
/// the row lock and the version check in each repository's update.
pub fn transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<StoreError>,
{
    begin_immediate(conn)?;
    match f(conn) {
        Ok(value) => {
            <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn)
                .map_err(StoreError::from)?;
            Ok(value)
        }
        Err(user_error) => {
            match <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
                Err(rollback_error) => Err(StoreError::from(rollback_error).into()),
            }
        }
    }
}

/// Begins a transaction: `BEGIN IMMEDIATE` on SQLite (the write lock up front), `BEGIN` on
/// PostgreSQL.
pub(crate) fn begin_immediate(conn: &mut DbConnection) -> Result<(), StoreError> {
    let begun = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => <AnsiTransactionManager as TransactionManager<
            diesel::PgConnection,
        >>::begin_transaction(c),
    };
    begun.map_err(StoreError::from)
}
