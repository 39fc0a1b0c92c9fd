//! Connections: the multi-backend connection type, the URL that picks the backend, the r2d2
//! manager that opens connections of that backend only, SQLite's per-connection settings and
//! the embedded migrations.

use std::{
    fmt,
    path::Path,
    time::{Duration, Instant},
};

use diesel::{Connection, connection::SimpleConnection, r2d2::R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StoreError;

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!(
    "kyc-store needs at least one database backend: enable its `sqlite` or `postgres` feature"
);

/// A connection to whichever backend the URL named. Every repository function takes
/// `&mut DbConnection`; queries written against [`crate::schema`] run on either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
}

impl DbConnection {
    /// The backend of this connection.
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Runs `$body` with `$c` bound to the concrete connection inside a [`DbConnection`], for the
/// hot queries. Through the `MultiConnection` wrapper, diesel turns every query into SQL text
/// on every execution to find its prepared statement (measured: about 40% of the writer's time
/// on the create path); on a concrete connection a query of static shape finds it by type.
/// The query must compile for every backend, which the match checks.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            $crate::DbConnection::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::DbConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// `query LIMIT n OFFSET ?`, the page size written into the statement's text and the offset
/// bound (see [`paged`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paged<Q> {
    query: Q,
    limit: i64,
    offset: i64,
}

/// A page of `query`: `LIMIT` and `OFFSET` for `page`. SQLite plans a statement with the value
/// bound to its `LIMIT` and so marks it for re-preparation whenever that parameter is bound
/// again (`sqlite3ExprIsInteger`), which diesel does on every execution: with diesel's `limit()`
/// every page query was parsed and planned twice (`perf` of the load example's list phase:
/// 8 % of the process, docs/performance.md). The size is therefore part of the text, and
/// since page sizes are few (1-100, or the cap of `all=true`) so are the texts the statement
/// cache keeps; the offset, which SQLite does not plan with, stays a parameter.
pub(crate) fn paged<Q>(query: Q, page: crate::list::PageRequest) -> Paged<Q> {
    let (limit, offset) = page.limit_offset();
    Paged {
        query,
        limit,
        offset,
    }
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Paged<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> diesel::query_builder::QueryId for Paged<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Paged<Q>
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>,
    Q: diesel::query_builder::QueryFragment<DB>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(&format!(" LIMIT {} OFFSET ", self.limit));
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.offset)
    }
}

impl<Q, C> diesel::RunQueryDsl<C> for Paged<Q> {}

/// Inserts the rows of `$rows` (taken by value) into `$table` in statements of up to four
/// rows, each a batch of fixed size whose statement is prepared once per connection: diesel
/// prepares a batch of a `Vec` (any length) anew on every execution. Evaluates to a diesel
/// `QueryResult` of the rows inserted.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let mut rows = $rows.into_iter();
        let mut inserted = 0;
        loop {
            inserted += match (rows.next(), rows.next(), rows.next(), rows.next()) {
                (Some(a), Some(b), Some(c), Some(d)) => {
                    $crate::conn::on_backend!(&mut *$conn, |conn| {
                        diesel::insert_into($table)
                            .values([a, b, c, d])
                            .execute(conn)
                    })
                }
                (Some(a), Some(b), Some(c), None) => {
                    $crate::conn::on_backend!(&mut *$conn, |conn| {
                        diesel::insert_into($table).values([a, b, c]).execute(conn)
                    })
                }
                (Some(a), Some(b), None, _) => $crate::conn::on_backend!(&mut *$conn, |conn| {
                    diesel::insert_into($table).values([a, b]).execute(conn)
                }),
                (Some(a), None, ..) => $crate::conn::on_backend!(&mut *$conn, |conn| {
                    diesel::insert_into($table).values(a).execute(conn)
                }),
                (None, ..) => break diesel::QueryResult::Ok(inserted),
            }?;
        }
    }};
}
pub(crate) use insert_rows;

/// The database engines the store speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An embedded SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed database URL: `sqlite://path/to/kycd.db` (relative), `sqlite:///abs/kycd.db`,
/// `sqlite:kycd.db`, or `postgres://...` / `postgresql://...`. The scheme alone decides the
/// backend; nothing is tried in turn.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    backend: Backend,
    /// The SQLite file path, or the whole PostgreSQL URL (which libpq parses).
    target: String,
}

impl DbUrl {
    /// Parses a URL; the backend must be compiled in.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let (backend, target) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(StoreError::InvalidUrl {
                    reason: "a sqlite URL needs a file path, e.g. sqlite://data/kycd.db",
                });
            }
            if path == ":memory:" || path.contains("mode=memory") {
                return Err(StoreError::InvalidUrl {
                    reason: "in-memory SQLite is not supported: every pooled connection would \
                             see its own empty database",
                });
            }
            (Backend::Sqlite, path.to_owned())
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(StoreError::InvalidUrl {
                reason: "expected a sqlite:// or postgres:// URL",
            });
        };
        let compiled = match backend {
            Backend::Sqlite => cfg!(feature = "sqlite"),
            Backend::Postgres => cfg!(feature = "postgres"),
        };
        if !compiled {
            return Err(StoreError::BackendNotCompiled {
                backend: backend.as_str(),
            });
        }
        Ok(Self { backend, target })
    }

    /// The backend the scheme names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For SQLite, the database file.
    pub fn sqlite_path(&self) -> Option<&Path> {
        (self.backend == Backend::Sqlite).then(|| Path::new(&self.target))
    }

    /// Opens one connection of the URL's backend, with SQLite's settings applied (for the
    /// migration connection; pooled ones get them from [`SqliteSettings`]).
    pub(crate) fn establish(&self, busy_timeout: Duration) -> Result<DbConnection, StoreError> {
        let mut conn = self.connect()?;
        if conn.backend() == Backend::Sqlite {
            apply_sqlite_settings(&mut conn, busy_timeout)?;
        }
        Ok(conn)
    }

    /// Opens one connection of the URL's backend, as the driver leaves it.
    fn connect(&self) -> Result<DbConnection, StoreError> {
        let connect_err = |e: diesel::ConnectionError| StoreError::Pool {
            reason: format!("cannot connect to the {} database: {e}", self.backend),
        };
        match self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                if let Some(parent) = Path::new(&self.target).parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent).map_err(|e| StoreError::Pool {
                        reason: format!("cannot create the database directory: {}", e.kind()),
                    })?;
                }
                Ok(DbConnection::Sqlite(
                    diesel::SqliteConnection::establish(&self.target).map_err(connect_err)?,
                ))
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => Ok(DbConnection::Postgres(
                diesel::PgConnection::establish(&self.target).map_err(connect_err)?,
            )),
            #[cfg(not(feature = "sqlite"))]
            Backend::Sqlite => Err(StoreError::BackendNotCompiled { backend: "sqlite" }),
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => Err(StoreError::BackendNotCompiled {
                backend: "postgres",
            }),
        }
    }
}

/// Never prints the URL: a PostgreSQL URL may carry a password.
impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbUrl")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// SQLite's settings, applied to every connection as it is opened (by
/// [`SqliteSettings::on_acquire`] for pooled ones):
/// - `busy_timeout` first, so that even the other pragmas wait for a lock instead of failing;
/// - `page_size=1024` (takes effect only when the file is created): ids are random UUIDs, so
///   each create lands on about a dozen random index leaves, and every leaf it touches is
///   written whole to the WAL and again by the checkpoint. Measured with the load example:
///   creates per second with 4 KiB pages 2 391, 2 KiB 3 194, 1 KiB 3 556, 512 B 3 169;
/// - WAL, so readers never block the writer nor the writer the readers;
/// - `synchronous=FULL`: a commit is on disk when it returns, even on power loss;
/// - `foreign_keys=ON`, which SQLite leaves off by default;
/// - `secure_delete=ON`: deleted and overwritten content is zeroed, so erased PII does not
///   linger in free pages;
/// - `temp_store=MEMORY`: sorts and temporary tables never spill rows to temporary files;
/// - `cache_size` 16 MiB (the default is 2 MiB): a list page counts the tenant's identities on
///   an index of about 4 000 pages at 45 000 identities, which no longer fits the default and
///   was read back from the file on every count (list at 64 connections 477 to about 600-750
///   lists/s). An upper bound per connection, filled as pages are read.
fn apply_sqlite_settings(
    conn: &mut DbConnection,
    busy_timeout: Duration,
) -> Result<(), StoreError> {
    let ms = busy_timeout.as_millis().min(i32::MAX as u128);
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {ms};
         PRAGMA page_size = 1024;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16384;"
    ))?;
    Ok(())
}

/// Opens connections of the one backend its URL names (vaultwarden's pattern: the enum is a
/// diesel `MultiConnection`, but the choice is ours, made once from the scheme).
#[derive(Debug)]
pub struct ConnectionManager {
    url: DbUrl,
}

impl ConnectionManager {
    pub(crate) fn new(url: DbUrl) -> Self {
        Self { url }
    }
}

/// How long after a use that ended without error a pooled connection is handed out again
/// without a ping (when pinging is on: PostgreSQL by default).
const TRUSTED_AFTER_USE: Duration = Duration::from_secs(1);

/// A pooled connection, and when its last use ended without an error.
///
/// A ping before every checkout (`SELECT 1`) finds connections that died with a server restart
/// or failover, at one round trip per request: a third of a `GET` on PostgreSQL (load example:
/// 14 861 against 20 823 gets/s without it). As HikariCP does, a connection that served a use
/// without error within [`TRUSTED_AFTER_USE`] is handed out unpinged; one that failed (any
/// error, a dead socket among them) or idled longer is pinged first, and dropped by the pool if
/// the ping fails. A server restart under load therefore fails at most the one request in
/// flight on each connection, as it would anyway.
pub struct Pooled {
    conn: DbConnection,
    healthy_at: Option<Instant>,
}

impl Pooled {
    /// Runs `f` on the connection, remembering whether it ended without an error.
    pub(crate) fn run<T, E>(
        &mut self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let result = f(&mut self.conn);
        self.healthy_at = result.is_ok().then(Instant::now);
        result
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = StoreError;

    fn connect(&self) -> Result<Pooled, StoreError> {
        Ok(Pooled {
            conn: self.url.connect()?,
            healthy_at: None,
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), StoreError> {
        if pooled
            .healthy_at
            .is_some_and(|at| at.elapsed() < TRUSTED_AFTER_USE)
        {
            return Ok(());
        }
        pooled.run(|conn| conn.ping().map_err(StoreError::from))
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        // A connection returned mid-transaction (a panic in a closure) must not be reused.
        std::thread::panicking() || pooled.conn.is_broken()
    }
}

/// Applies SQLite's settings to each new pooled connection (they are per connection).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqliteSettings {
    pub(crate) busy_timeout: Duration,
}

impl r2d2::CustomizeConnection<Pooled, StoreError> for SqliteSettings {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), StoreError> {
        if pooled.conn.backend() == Backend::Sqlite {
            apply_sqlite_settings(&mut pooled.conn, self.busy_timeout)?;
        }
        Ok(())
    }
}

#[cfg(feature = "sqlite")]
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serializes migrations between kycd replicas starting at once on one PostgreSQL.
#[cfg(feature = "postgres")]
const MIGRATION_LOCK_KEY: i64 = 0x006b_7963_646d_6967; // "kycdmig"

/// Runs the pending embedded migrations of the URL's backend on a dedicated connection and
/// returns the versions applied. [`crate::Db::open`] calls this before it builds the pool.
pub fn run_migrations(url: &str) -> Result<Vec<String>, StoreError> {
    let url = DbUrl::parse(url)?;
    migrate(&url, Direction::Up)
}

/// Reverts every migration: all tables and their data are dropped. For tests and development
/// tooling only.
pub fn revert_all_migrations(url: &str) -> Result<Vec<String>, StoreError> {
    let url = DbUrl::parse(url)?;
    migrate(&url, Direction::Down)
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

pub(crate) fn migrate_url(url: &DbUrl) -> Result<Vec<String>, StoreError> {
    migrate(url, Direction::Up)
}

fn migrate(url: &DbUrl, direction: Direction) -> Result<Vec<String>, StoreError> {
    let migration_err = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration {
        reason: e.to_string(),
    };
    let mut conn = url.establish(Duration::from_secs(30))?;
    let versions: Vec<String> = match &mut conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => match direction {
            Direction::Up => c.run_pending_migrations(SQLITE_MIGRATIONS),
            Direction::Down => c.revert_all_migrations(SQLITE_MIGRATIONS),
        }
        .map_err(migration_err)?
        .into_iter()
        .map(|v| v.to_string())
        .collect(),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            let result = match direction {
                Direction::Up => c.run_pending_migrations(POSTGRES_MIGRATIONS),
                Direction::Down => c.revert_all_migrations(POSTGRES_MIGRATIONS),
            }
            .map(|vs| vs.into_iter().map(|v| v.to_string()).collect::<Vec<_>>());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            result.map_err(migration_err)?
        }
    };
    if !versions.is_empty() {
        tracing::info!(backend = %url.backend(), count = versions.len(), "migrations applied");
    }
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "sqlite")]
    #[test]
    fn a_page_writes_its_limit_and_binds_its_offset() {
        use diesel::{QueryDsl, sqlite::Sqlite};

        use crate::{list::PageRequest, schema::tenants};
        let page = PageRequest::Page {
            number: 3,
            size: 20,
        };
        let query = paged(tenants::table.select(tenants::id), page);
        let sql = diesel::debug_query::<Sqlite, _>(&query).to_string();
        assert!(sql.contains(" LIMIT 20 OFFSET ? -- binds: [40]"), "{sql}");
        let all = paged(tenants::table.select(tenants::id), PageRequest::All);
        let sql = diesel::debug_query::<Sqlite, _>(&all).to_string();
        assert!(sql.contains(" LIMIT 1000 OFFSET ? -- binds: [0]"), "{sql}");
    }

    #[test]
    fn a_pooled_connection_is_trusted_only_after_a_use_without_error() {
        use r2d2::ManageConnection;
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::parse(&format!("sqlite://{}/t.db", dir.path().display())).unwrap();
        let manager = ConnectionManager::new(url);
        let mut pooled = manager.connect().unwrap();
        assert!(
            pooled.healthy_at.is_none(),
            "a new connection is pinged first"
        );
        pooled.run(|_| Ok::<_, StoreError>(())).unwrap();
        assert!(pooled.healthy_at.is_some());
        let failed = pooled.run(|_| Err::<(), _>(StoreError::NotFound { entity: "x" }));
        assert!(failed.is_err());
        assert!(
            pooled.healthy_at.is_none(),
            "after an error the next checkout pings"
        );
        manager.is_valid(&mut pooled).unwrap();
        assert!(
            pooled.healthy_at.is_some(),
            "a ping that answers trusts it again"
        );
    }

    #[test]
    fn urls_pick_the_backend_by_scheme() {
        let u = DbUrl::parse("sqlite://data/kycd.db").unwrap();
        assert_eq!(u.backend(), Backend::Sqlite);
        assert_eq!(u.sqlite_path(), Some(Path::new("data/kycd.db")));
        let u = DbUrl::parse("sqlite:///tmp/x/kycd.db").unwrap();
        assert_eq!(u.sqlite_path(), Some(Path::new("/tmp/x/kycd.db")));
        let u = DbUrl::parse("sqlite:kycd.db").unwrap();
        assert_eq!(u.sqlite_path(), Some(Path::new("kycd.db")));
        let u = DbUrl::parse("postgres://u:secret@h/db").unwrap();
        assert_eq!(u.backend(), Backend::Postgres);
        assert_eq!(u.sqlite_path(), None);
        assert!(!format!("{u:?}").contains("secret"));
        assert!(DbUrl::parse("postgresql://h/db").is_ok());
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        for bad in [
            "mysql://u:pw@h/db",
            "",
            "sqlite:",
            "sqlite://",
            "sqlite::memory:",
        ] {
            let err = DbUrl::parse(bad).unwrap_err();
            assert!(matches!(err, StoreError::InvalidUrl { .. }), "{bad}");
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
    }

    #[test]
    fn both_backends_have_migrations_of_the_same_names() {
        let names = |dir: &str| {
            let mut v: Vec<String> =
                std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
            v.sort();
            v
        };
        let sqlite = names("migrations/sqlite");
        assert_eq!(sqlite.len(), 13);
        assert_eq!(sqlite, names("migrations/postgres"));
        for m in &sqlite {
            for backend in ["sqlite", "postgres"] {
                for file in ["up.sql", "down.sql"] {
                    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("migrations")
                        .join(backend)
                        .join(m)
                        .join(file);
                    assert!(p.is_file(), "{}", p.display());
                }
            }
        }
    }
}
