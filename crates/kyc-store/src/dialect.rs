//! The few statements that differ between SQLite and PostgreSQL, each a named function that
//! matches on the connection's backend. Everything else is written once against
//! [`crate::schema`].

use diesel::{
    BoxableExpression, QueryableByName, RunQueryDsl,
    dsl::sql,
    prelude::*,
    sql_types::{BigInt, Bool, Text},
};

use crate::{
    Backend, DbConnection, StoreError,
    conn::MultiBackend,
    schema::{idempotency_records, outbox_events, webhook_configs},
};

/// `column` matches the `LIKE` pattern, ignoring case: `ILIKE` on PostgreSQL, `LIKE` on SQLite
/// (whose `LIKE` already ignores ASCII case). `column` is SQL from a fixed whitelist, never from
/// input; the pattern is bound (`crate::list::like_contains_pattern`, `like_exact_pattern`).
pub(crate) fn like_ignoring_case<QS: 'static>(
    backend: Backend,
    column: &'static str,
    pattern: String,
) -> Box<dyn BoxableExpression<QS, MultiBackend, SqlType = Bool>> {
    let op = match backend {
        Backend::Postgres => "ILIKE",
        Backend::Sqlite => "LIKE",
    };
    Box::new(
        sql::<Bool>(&format!("{column} {op} "))
            .bind::<Text, _>(pattern)
            .sql(" ESCAPE '\\'"),
    )
}

/// Some of `columns` matches some of `patterns` ([`like_ignoring_case`]); false with no
/// pattern.
fn any_like_ignoring_case<QS: 'static>(
    backend: Backend,
    columns: &[&'static str],
    patterns: &[String],
) -> Box<dyn BoxableExpression<QS, MultiBackend, SqlType = Bool>> {
    patterns
        .iter()
        .flat_map(|p| {
            columns
                .iter()
                .map(|c| like_ignoring_case(backend, c, p.clone()))
        })
        .reduce(|a, b| Box::new(a.or(b)))
        .unwrap_or_else(|| Box::new(sql::<Bool>("1 = 0")))
}

/// A text filter on `columns`, ignoring case (ASCII case on SQLite): with a value or `in:`,
/// some column equals one of the values; with `nin:`, none does; with `like:`, some column
/// contains the text.
pub(crate) fn matches_ignoring_case<QS: 'static>(
    backend: Backend,
    columns: &[&'static str],
    op: &crate::list::FilterOp,
) -> Box<dyn BoxableExpression<QS, MultiBackend, SqlType = Bool>> {
    use crate::list::FilterOp;
    let exact = |vs: &[String]| -> Vec<String> {
        vs.iter()
            .map(|v| crate::list::like_exact_pattern(v))
            .collect()
    };
    match op {
        FilterOp::Eq(v) => {
            any_like_ignoring_case(backend, columns, &exact(std::slice::from_ref(v)))
        }
        FilterOp::In(vs) => any_like_ignoring_case(backend, columns, &exact(vs)),
        FilterOp::NotIn(vs) => Box::new(diesel::dsl::not(any_like_ignoring_case(
            backend,
            columns,
            &exact(vs),
        ))),
        FilterOp::Like(needle) => any_like_ignoring_case(
            backend,
            columns,
            &[crate::list::like_contains_pattern(needle)],
        ),
    }
}

/// Inserts an idempotency claim unless one exists for the key: `ON CONFLICT DO NOTHING` on
/// both backends, so concurrent requests with one key never see a unique violation (which on
/// PostgreSQL would abort their transaction). Returns whether this call inserted it.
pub(crate) fn insert_idempotency_claim(
    conn: &mut DbConnection,
    row: &crate::idempotency::ClaimRow<'_>,
) -> Result<bool, StoreError> {
    let inserted = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => diesel::insert_into(idempotency_records::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => diesel::insert_into(idempotency_records::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(inserted == 1)
}

/// Creates or replaces a tenant's webhook configuration in one statement.
pub(crate) fn upsert_webhook_config(
    conn: &mut DbConnection,
    row: &crate::webhooks::ConfigRow,
    changes: &crate::webhooks::ConfigChanges,
) -> Result<(), StoreError> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => diesel::insert_into(webhook_configs::table)
            .values(row)
            .on_conflict(webhook_configs::tenant_id)
            .do_update()
            .set(changes)
            .execute(c)?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => diesel::insert_into(webhook_configs::table)
            .values(row)
            .on_conflict(webhook_configs::tenant_id)
            .do_update()
            .set(changes)
            .execute(c)?,
    };
    Ok(())
}

/// Ids of up to `limit` pending outbox events due at `now_ms`, oldest due first, locked for this
/// transaction. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas claiming at once get disjoint
/// sets without waiting on each other. SQLite: the immediate transaction already excludes every
/// other writer.
pub(crate) fn lock_due_outbox_ids(
    conn: &mut DbConnection,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    use outbox_events::dsl as o;
    let due = o::outbox_events
        .filter(o::status.eq("pending"))
        .filter(o::next_attempt_at.le(now_ms))
        .order((o::next_attempt_at.asc(), o::id.asc()))
        .limit(limit)
        .select(o::id);
    let ids = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => due.load(c)?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => due.for_update().skip_locked().load(c)?,
    };
    Ok(ids)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Ids of up to `limit` pending outbox events due at `now_ms` that are the oldest pending event
/// of their tenant (by `created_at`, then id), oldest first, locked for this transaction.
/// PostgreSQL: `FOR UPDATE SKIP LOCKED`, as in [`lock_due_outbox_ids`]; an event whose older
/// sibling is locked by another claimer is not a head, so it is not taken either. SQLite: the
/// immediate transaction excludes every other writer.
pub(crate) fn lock_tenant_heads(
    conn: &mut DbConnection,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    // The correlated NOT EXISTS is why this is SQL text: the same statement on both backends
    // but for the placeholders and the lock clause. Every value is bound.
    const HEADS: &str = "SELECT o.id FROM outbox_events o \
        WHERE o.status = 'pending' AND o.next_attempt_at <= {now} \
        AND NOT EXISTS (SELECT 1 FROM outbox_events e \
            WHERE e.tenant_id = o.tenant_id AND e.status = 'pending' \
            AND (e.created_at < o.created_at OR (e.created_at = o.created_at AND e.id < o.id))) \
        ORDER BY o.created_at, o.id LIMIT {limit}";
    let rows: Vec<IdRow> = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => {
            diesel::sql_query(HEADS.replace("{now}", "?").replace("{limit}", "?"))
                .bind::<BigInt, _>(now_ms)
                .bind::<BigInt, _>(limit)
                .load(c)?
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => diesel::sql_query(format!(
            "{} FOR UPDATE OF o SKIP LOCKED",
            HEADS.replace("{now}", "$1").replace("{limit}", "$2")
        ))
        .bind::<BigInt, _>(now_ms)
        .bind::<BigInt, _>(limit)
        .load(c)?,
    };
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The row `PRAGMA wal_checkpoint` returns.
#[cfg(feature = "sqlite")]
#[derive(QueryableByName)]
pub(crate) struct CheckpointResult {
    /// 1 if the checkpoint could not finish (a reader or writer was in the way).
    #[diesel(sql_type = BigInt)]
    pub busy: i64,
    /// Frames in the WAL (-1 outside WAL mode).
    #[diesel(sql_type = BigInt)]
    pub log: i64,
}

/// SQLite: `PRAGMA wal_checkpoint(mode)` on `conn`.
#[cfg(feature = "sqlite")]
pub(crate) fn checkpoint(
    conn: &mut DbConnection,
    mode: &'static str,
) -> Result<CheckpointResult, StoreError> {
    Ok(diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(conn)?)
}

/// SQLite: `PRAGMA wal_checkpoint(TRUNCATE)`, retried while readers hold old snapshots.
/// PostgreSQL: nothing (its WAL is the server's business).
pub(crate) fn checkpoint_truncate(conn: &mut DbConnection) -> Result<(), StoreError> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(_) => {
            for attempt in 0..10u64 {
                if checkpoint(conn, "TRUNCATE")?.busy == 0 {
                    return Ok(());
                }
                std::thread::sleep(std::time::Duration::from_millis(20 * (attempt + 1)));
            }
            Err(StoreError::WalCheckpointBusy)
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(_) => Ok(()),
    }
}

/// Serializes, until the end of the transaction, the writes that give an identity of `tenant`
/// the address `email`: persons and companies live in two tables, each with its own unique
/// index, and the uniqueness across both is checked by a probe that two concurrent
/// transactions could otherwise both pass.
pub(crate) fn lock_email(
    conn: &mut DbConnection,
    tenant: &str,
    email: &str,
) -> Result<(), StoreError> {
    lock_until_commit(conn, format!("kycd-email:{tenant}:{email}"))
}

/// Makes the transactions that lock `key` take turns until each ends. PostgreSQL: a
/// transaction-scoped advisory lock on a hash of `key` (a collision only serializes two
/// unrelated writes). SQLite: nothing, its writes are serial already. Keys of one kind share
/// a prefix (`kycd-email:`, `kycd-ssn:`), so that kinds never lock each other but by collision.
pub(crate) fn lock_until_commit(conn: &mut DbConnection, key: String) -> Result<(), StoreError> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(_) => {
            let _ = key;
            Ok(())
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            diesel::select(pg::advisory_xact_lock(pg::hashtextextended(key, 0))).execute(c)?;
            Ok(())
        }
    }
}

/// PostgreSQL functions as typed expressions, so that the statements using them are prepared
/// once per connection (diesel re-parses a raw `sql_query` on every execution).
#[cfg(feature = "postgres")]
mod pg {
    use diesel::sql_types::{BigInt, Text};

    /// PostgreSQL's `void`, the result of functions called for their effect.
    #[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
    #[diesel(postgres_type(oid = 2278, array_oid = 0))]
    pub struct Void;

    diesel::define_sql_function! {
        /// Waits for the transaction-scoped advisory lock `key`.
        #[sql_name = "pg_advisory_xact_lock"]
        fn advisory_xact_lock(key: BigInt) -> Void;
    }

    diesel::define_sql_function! {
        /// A 64-bit hash of `value`.
        fn hashtextextended(value: Text, seed: BigInt) -> BigInt;
    }
}
