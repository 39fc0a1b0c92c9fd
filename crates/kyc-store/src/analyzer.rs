//! PostgreSQL: fresh planner statistics for tables that outgrew their last ones.
//!
//! PostgreSQL plans with the statistics of a table's last `ANALYZE`, and keeps the plans of the
//! foreign-key checks (and of prepared statements) for the life of a connection, until
//! statistics change. On a new database every table was analyzed empty, so those plans scan:
//! under the load example on a fresh database, each create's foreign-key check read
//! `identity_containers` from end to end (34 million rows read by 6 900 sequential scans for
//! 10 700 creates) and creates slowed down round after round, until autovacuum's first
//! `ANALYZE` (it looks once a minute, after 10 % of a table has changed). A database that
//! starts empty and takes a bulk import is exactly that case.
//!
//! A thread of the store therefore looks every [`EVERY`] for its tables whose changes since their
//! last `ANALYZE` (theirs or autovacuum's) are at least [`MIN_CHANGES`] and at least the rows
//! they held then, that is tables that doubled, and analyzes them on a connection of its own.
//! The plans that used the old statistics are then made again. A large table never doubles
//! between two autovacuum runs, so this only acts while tables are young; `ANALYZE` samples a
//! bounded number of rows, so each run is short.

use std::{
    sync::mpsc::{self, RecvTimeoutError},
    time::Duration,
};

use diesel::{QueryableByName, RunQueryDsl, sql_types::Text};

use crate::{DbConnection, StoreError, conn::DbUrl};

/// How often the thread looks for tables to analyze.
const EVERY: Duration = Duration::from_secs(5);
/// Fewest changed rows that make a table worth analyzing.
const MIN_CHANGES: i64 = 1_000;

/// The tables of kycd's schema (the connection's current one: a shared database's other
/// tables are left to their owners) that changed by at least [`MIN_CHANGES`] rows and by at
/// least as many rows as they held at their last `ANALYZE`, among those this role may analyze
/// (it owns them, or is a superuser): PostgreSQL skips the others with a warning, and they would
/// come back at every look.
fn outgrown() -> String {
    format!(
        "SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS name \
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
         WHERE s.n_mod_since_analyze >= GREATEST({MIN_CHANGES}, c.reltuples) \
         AND s.schemaname = current_schema() AND pg_has_role(c.relowner, 'MEMBER')"
    )
}

#[derive(QueryableByName)]
struct Table {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The running statistics thread. Dropping it stops the thread and waits for it to end, so
/// that a process exiting after the store is dropped never exits under a running statement.
pub(crate) struct Analyzer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Analyzer {
    /// Connects and starts the thread.
    pub(crate) fn start(url: &DbUrl) -> Result<Self, StoreError> {
        let mut conn = url.establish(Duration::from_secs(30))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("kyc-store-analyzer".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    if let Err(e) = analyze_outgrown(&mut conn) {
                        // Table names only: no value of any row reaches this log line.
                        tracing::warn!(error = %e, "ANALYZE of outgrown tables failed; autovacuum's remain");
                        return;
                    }
                }
            })
            .map_err(|e| StoreError::Pool {
                reason: format!("cannot start the statistics thread: {e}"),
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Analyzer {
    fn drop(&mut self) {
        // Disconnecting wakes the thread at once; an `ANALYZE` under way is short.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Analyzes the tables [`outgrown`] names.
fn analyze_outgrown(conn: &mut DbConnection) -> Result<(), StoreError> {
    let conn = match conn {
        DbConnection::Postgres(conn) => conn,
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(_) => return Ok(()),
    };
    let tables: Vec<Table> = diesel::sql_query(outgrown()).load(conn)?;
    for table in &tables {
        tracing::debug!(table = %table.name, "ANALYZE");
        diesel::sql_query(format!("ANALYZE {}", table.name)).execute(conn)?;
    }
    Ok(())
}
