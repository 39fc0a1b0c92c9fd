//! Migrations: up, down, up again on each backend; the resulting schemas agree with each other.

use std::collections::BTreeMap;

use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection, sql_types};
use kyc_store::{revert_all_migrations, run_migrations};

use crate::common::scratch_postgres;

/// table -> (columns as "name type null|notnull pk?", indexes as "name unique? (cols)")
type Schema = BTreeMap<String, (Vec<String>, Vec<String>)>;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = sql_types::Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = sql_types::Text)]
    name: String,
    #[diesel(sql_type = sql_types::Text)]
    r#type: String,
    #[diesel(sql_type = sql_types::Integer)]
    notnull: i32,
    #[diesel(sql_type = sql_types::Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = sql_types::Text)]
    name: String,
    #[diesel(sql_type = sql_types::Integer)]
    unique: i32,
    #[diesel(sql_type = sql_types::Text)]
    origin: String,
    #[diesel(sql_type = sql_types::Integer)]
    partial: i32,
}

/// SQLite stores every integer as a 64-bit value: INTEGER and BIGINT are one type.
fn normalize(ty: &str) -> String {
    match ty.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "bigint".into(),
        "blob" | "bytea" => "bytes".into(),
        "text" => "text".into(),
        "boolean" => "bool".into(),
        other => other.into(),
    }
}

fn sqlite_schema(conn: &mut SqliteConnection) -> Schema {
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(conn)
    .unwrap();
    let mut schema = Schema::new();
    for t in tables {
        let cols: Vec<SqliteColumn> = diesel::sql_query(format!(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{}')",
            t.name
        ))
        .load(conn)
        .unwrap();
        let mut columns: Vec<String> = cols
            .into_iter()
            .map(|c| {
                // A primary-key column is NOT NULL on PostgreSQL whatever it declares.
                let notnull = c.notnull == 1 || c.pk > 0;
                format!(
                    "{} {} {}{}",
                    c.name,
                    normalize(&c.r#type),
                    if notnull { "notnull" } else { "null" },
                    if c.pk > 0 { " pk" } else { "" }
                )
            })
            .collect();
        columns.sort();
        let idx: Vec<SqliteIndex> = diesel::sql_query(format!(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list('{}')",
            t.name
        ))
        .load(conn)
        .unwrap();
        let mut indexes = Vec::new();
        for i in idx.into_iter().filter(|i| i.origin == "c") {
            let cols: Vec<Name> = diesel::sql_query(format!(
                "SELECT name FROM pragma_index_info('{}') ORDER BY seqno",
                i.name
            ))
            .load(conn)
            .unwrap();
            let cols: Vec<String> = cols.into_iter().map(|c| c.name).collect();
            indexes.push(format!(
                "{}{}{} ({})",
                i.name,
                if i.unique == 1 { " unique" } else { "" },
                if i.partial == 1 { " partial" } else { "" },
                cols.join(",")
            ));
        }
        indexes.sort();
        schema.insert(t.name, (columns, indexes));
    }
    schema
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = sql_types::Text)]
    data_type: String,
    #[diesel(sql_type = sql_types::Bool)]
    notnull: bool,
    #[diesel(sql_type = sql_types::Bool)]
    pk: bool,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = sql_types::Text)]
    index_name: String,
    #[diesel(sql_type = sql_types::Bool)]
    is_unique: bool,
    #[diesel(sql_type = sql_types::Bool)]
    is_partial: bool,
    #[diesel(sql_type = sql_types::Text)]
    cols: String,
}

fn pg_schema(conn: &mut PgConnection) -> Schema {
    let cols: Vec<PgColumn> = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                c.data_type::text AS data_type, (c.is_nullable = 'NO') AS notnull, \
                EXISTS (SELECT 1 FROM information_schema.key_column_usage k \
                        JOIN information_schema.table_constraints tc \
                          ON tc.constraint_name = k.constraint_name \
                         AND tc.table_name = k.table_name \
                         AND tc.constraint_type = 'PRIMARY KEY' \
                        WHERE k.table_name = c.table_name AND k.column_name = c.column_name \
                          AND k.table_schema = 'public') AS pk \
         FROM information_schema.columns c \
         WHERE c.table_schema = 'public' AND c.table_name <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    let mut schema = Schema::new();
    for c in cols {
        let ty = match c.data_type.as_str() {
            "bigint" | "integer" => "bigint".to_owned(),
            "bytea" => "bytes".to_owned(),
            "boolean" => "bool".to_owned(),
            "text" => "text".to_owned(),
            other => other.to_owned(),
        };
        schema.entry(c.table_name).or_default().0.push(format!(
            "{} {} {}{}",
            c.column_name,
            ty,
            if c.notnull { "notnull" } else { "null" },
            if c.pk { " pk" } else { "" }
        ));
    }
    let idx: Vec<PgIndex> = diesel::sql_query(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name, \
                ix.indisunique AS is_unique, (ix.indpred IS NOT NULL) AS is_partial, \
                (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                   FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) \
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS cols \
         FROM pg_index ix \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND NOT ix.indisprimary \
           AND t.relname <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    for i in idx {
        schema.entry(i.table_name).or_default().1.push(format!(
            "{}{}{} ({})",
            i.index_name,
            if i.is_unique { " unique" } else { "" },
            if i.is_partial { " partial" } else { "" },
            i.cols
        ));
    }
    for (cols, idx) in schema.values_mut() {
        cols.sort();
        idx.sort();
    }
    schema
}

fn up_down_up(url: &str, snapshot: impl Fn() -> Schema) -> Schema {
    let applied = run_migrations(url).unwrap();
    assert_eq!(applied.len(), 13, "{applied:?}");
    assert!(
        run_migrations(url).unwrap().is_empty(),
        "second run applies nothing"
    );
    let first = snapshot();
    assert_eq!(first.len(), 15, "{:?}", first.keys());
    let reverted = revert_all_migrations(url).unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert!(
        snapshot().is_empty(),
        "down migrations leave no table behind"
    );
    assert_eq!(run_migrations(url).unwrap().len(), applied.len());
    let again = snapshot();
    assert_eq!(first, again, "up, down, up gives the same schema");
    again
}

fn sqlite_round_trip() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let url = format!("sqlite://{}", path.display());
    let snapshot = || {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        sqlite_schema(&mut conn)
    };
    up_down_up(&url, snapshot)
}

#[test]
fn sqlite_up_down_up() {
    let schema = sqlite_round_trip();
    let (cols, idx) = &schema["personal_identities"];
    assert!(cols.contains(&"ssn_ct bytes null".to_owned()), "{cols:?}");
    assert!(
        idx.iter()
            .any(|i| i.starts_with("ux_personal_identities_tenant_email unique"))
    );
    assert!(
        idx.contains(&"ix_personal_identities_ssn_bidx (ssn_bidx,created_at,id)".to_owned()),
        "{idx:?}"
    );
    assert!(
        schema["audit_events"]
            .1
            .contains(&"ix_audit_events_identity (identity_id,seq)".to_owned()),
        "{:?}",
        schema["audit_events"]
    );
    // Checks are keyed by an appended sequence number, not by their random ids (000012).
    assert!(
        schema["kyc_checks"]
            .0
            .contains(&"seq bigint notnull pk".to_owned())
            && schema["kyc_checks"]
                .0
                .contains(&"id text notnull".to_owned()),
        "{:?}",
        schema["kyc_checks"]
    );
    assert!(
        schema["outbox_events"]
            .1
            .iter()
            .any(|i| i.starts_with("ix_outbox_events_pending "))
    );
}

#[test]
fn postgres_up_down_up_and_schemas_agree() {
    let Some(pg) = scratch_postgres() else {
        return;
    };
    let snapshot = || {
        let mut conn = PgConnection::establish(pg.url()).unwrap();
        pg_schema(&mut conn)
    };
    let pg_schema = up_down_up(pg.url(), snapshot);
    let sqlite_schema = sqlite_round_trip();
    assert_eq!(
        pg_schema.keys().collect::<Vec<_>>(),
        sqlite_schema.keys().collect::<Vec<_>>()
    );
    for (table, pg_def) in &pg_schema {
        assert_eq!(pg_def, &sqlite_schema[table], "table {table} differs");
    }
}

#[derive(QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = sql_types::Text)]
    detail: String,
}

/// The steps of SQLite's `EXPLAIN QUERY PLAN` of `query`, on a freshly migrated database.
struct Planner {
    _dir: tempfile::TempDir,
    conn: SqliteConnection,
}

impl Planner {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.db");
        run_migrations(&format!("sqlite://{}", path.display())).unwrap();
        let conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        Self { _dir: dir, conn }
    }

    fn plan(&mut self, query: &str) -> Vec<String> {
        diesel::sql_query(format!("EXPLAIN QUERY PLAN {query}"))
            .load::<PlanStep>(&mut self.conn)
            .unwrap()
            .into_iter()
            .map(|s| s.detail)
            .collect()
    }
}

/// The list's total (`COUNT(*)` of a tenant's live identities, with or without a level,
/// review or blocked filter) is counted from an index alone, never by reading every row of
/// the tenant; the page itself is read in index order.
#[test]
fn sqlite_list_counts_come_from_covering_indexes() {
    let mut planner = Planner::new();
    let live = "FROM personal_identities WHERE tenant_id = 't' AND erased_at IS NULL";
    for query in [
        format!("SELECT COUNT(*) {live}"),
        format!("SELECT COUNT(*) {live} AND kyc_level = 'L1'"),
        format!("SELECT COUNT(*) {live} AND review_status = 'pending'"),
        format!("SELECT COUNT(*) {live} AND blocked = 1"),
    ] {
        let plan = planner.plan(&query);
        assert!(
            plan.iter().any(|d| d.contains("COVERING INDEX")),
            "{query}: {plan:?}"
        );
    }
    let page = format!("SELECT id {live} ORDER BY created_at DESC, id DESC LIMIT 30");
    assert!(
        planner
            .plan(&page)
            .iter()
            .all(|d| !d.contains("TEMP B-TREE")),
        "the page is read in index order"
    );
}

/// The SSN duplicate probe (on every create) reads the blind index in `created_at` order and
/// stops at its limit, and an identity's checks and audit trail are read through the indexes
/// keyed by identity, not by scanning the tenant.
#[test]
fn sqlite_identity_lookups_use_the_identity_keyed_indexes() {
    let mut planner = Planner::new();
    for (query, index) in [
        (
            "SELECT id, tenant_id FROM personal_identities WHERE ssn_bidx = x'00' \
             AND erased_at IS NULL AND id <> 'i' ORDER BY created_at, id",
            "ix_personal_identities_ssn_bidx",
        ),
        (
            "SELECT id FROM audit_events WHERE tenant_id = 't' AND identity_id = 'i' ORDER BY seq",
            "ix_audit_events_identity",
        ),
        (
            "SELECT id FROM kyc_checks WHERE tenant_id = 't' AND identity_id = 'i' \
             ORDER BY performed_at DESC",
            "ix_kyc_checks_identity",
        ),
    ] {
        let plan = planner.plan(query);
        assert!(
            plan.iter().any(|d| d.contains(index))
                && plan.iter().all(|d| !d.contains("TEMP B-TREE")),
            "{query}: {plan:?}"
        );
    }
}

#[derive(QueryableByName)]
struct Analyzed {
    #[diesel(sql_type = sql_types::Bool)]
    analyzed: bool,
}

/// On PostgreSQL the store analyzes a table that outgrew its statistics (here: a fresh
/// database, analyzed empty, then 1 200 tenants), without waiting for autovacuum, which looks
/// once a minute (`analyzer.rs`). Waits at most 60 s for the statistics thread (5 s cadence)
/// and for the server's activity counters (flushed by idle sessions within about 10 s).
#[test]
fn postgres_tables_that_outgrow_their_statistics_are_analyzed() {
    let Some(db) = crate::common::postgres() else {
        return;
    };
    db.write(|c| {
        for n in 0..1_200 {
            kyc_store::tenants::create(c, &format!("tenant-{n}"))?;
        }
        Ok(())
    })
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let analyzed = || {
        db.run(|c| {
            let kyc_store::DbConnection::Postgres(c) = c else {
                unreachable!("a PostgreSQL store")
            };
            Ok(diesel::sql_query(
                "SELECT (last_analyze IS NOT NULL) AS analyzed FROM pg_stat_user_tables \
                 WHERE relname = 'tenants'",
            )
            .get_result::<Analyzed>(c)?
            .analyzed)
        })
        .unwrap()
    };
    while !analyzed() {
        assert!(
            std::time::Instant::now() < deadline,
            "tenants was not analyzed within 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct TenantCount {
    #[diesel(sql_type = sql_types::Text)]
    tenant_id: String,
    #[diesel(sql_type = sql_types::BigInt)]
    persons: i64,
}

/// Migration 000010 starts each tenant's live-identity count at the live identities already
/// stored (erased ones are not counted), so a database created before it keeps its totals.
#[test]
fn sqlite_live_counts_start_from_the_stored_identities() {
    use diesel::connection::SimpleConnection;
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};

    let source = || {
        FileBasedMigrations::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut conn = SqliteConnection::establish(dir.path().join("c.db").to_str().unwrap()).unwrap();
    for _ in 0..9 {
        conn.run_next_migration(source()).unwrap();
    }
    conn.batch_execute(
        "INSERT INTO tenants VALUES ('t1', 'a', 0), ('t2', 'b', 0);
         INSERT INTO identity_containers VALUES ('c1', 't1', 0), ('c2', 't1', 0), ('c3', 't1', 0), ('c4', 't2', 0);
         INSERT INTO personal_identities (id, tenant_id, container_id, email, kyc_level,
             review_status, blocked, identity_confirmed, kyc_json, created_at, updated_at,
             version, erased_at)
         VALUES ('p1', 't1', 'c1', 'a@x.io', 'L0', 'none', 0, 0, '{}', 0, 0, 1, NULL),
                ('p2', 't1', 'c2', 'b@x.io', 'L0', 'none', 0, 0, '{}', 0, 0, 1, NULL),
                ('p3', 't1', 'c3', NULL, 'L0', 'none', 0, 0, '{}', 0, 0, 2, 5),
                ('p4', 't2', 'c4', 'd@x.io', 'L0', 'none', 0, 0, '{}', 0, 0, 1, NULL);",
    )
    .unwrap();
    conn.run_next_migration(source()).unwrap();
    let counts: Vec<TenantCount> = diesel::sql_query(
        "SELECT tenant_id, SUM(persons) AS persons FROM live_identity_counts \
         GROUP BY tenant_id ORDER BY tenant_id",
    )
    .load(&mut conn)
    .unwrap();
    let count = |t: &str, n| TenantCount {
        tenant_id: t.into(),
        persons: n,
    };
    assert_eq!(counts, [count("t1", 2), count("t2", 1)]);
}

#[derive(QueryableByName)]
struct PgPlanLine {
    #[diesel(sql_type = sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

/// On PostgreSQL a list page is read from the tenant's live index in order and stops at its
/// limit, and a filtered total is counted from an index alone, with the generic plan that a
/// prepared statement settles on: before migration 000011 every page read and sorted all live
/// identities of the tenant (PostgreSQL does not treat `erased_at IS NULL` as fixing the
/// column that followed the tenant in the index).
#[test]
fn postgres_list_pages_are_read_in_index_order() {
    use diesel::connection::SimpleConnection;

    let Some(pg) = scratch_postgres() else {
        return;
    };
    run_migrations(pg.url()).unwrap();
    let mut conn = PgConnection::establish(pg.url()).unwrap();
    conn.batch_execute(
        "INSERT INTO tenants VALUES ('t', 'acme', 0);
         INSERT INTO identity_containers SELECT 'c' || i, 't', i FROM generate_series(1, 5000) i;
         INSERT INTO personal_identities (id, tenant_id, container_id, email, kyc_level,
             review_status, blocked, identity_confirmed, kyc_json, created_at, updated_at,
             version, erased_at)
         SELECT 'p' || i, 't', 'c' || i, i || '@x.io', 'L' || (i % 3), 'none', i % 7 = 0, false,
             '{}', i, i, 1, CASE WHEN i % 10 = 0 THEN i END
         FROM generate_series(1, 5000) i;",
    )
    .unwrap();
    // Each its own statement: `VACUUM` may not run in the implicit transaction of a batch.
    for statement in [
        "VACUUM ANALYZE personal_identities",
        "SET plan_cache_mode = force_generic_plan",
    ] {
        conn.batch_execute(statement).unwrap();
    }
    let mut plan = |query: &str| {
        conn.batch_execute(&format!("DEALLOCATE ALL; PREPARE q(text) AS {query}"))
            .unwrap();
        diesel::sql_query("EXPLAIN EXECUTE q('t')")
            .load::<PgPlanLine>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let live = "FROM personal_identities WHERE tenant_id = $1 AND erased_at IS NULL";
    for (query, index) in [
        (
            format!("SELECT * {live} ORDER BY created_at DESC, id DESC LIMIT 30"),
            "ix_personal_identities_tenant_created",
        ),
        (
            format!("SELECT * {live} ORDER BY updated_at, id LIMIT 30 OFFSET 60"),
            "ix_personal_identities_tenant_updated",
        ),
        (
            format!(
                "SELECT * {live} AND kyc_level = 'L1' ORDER BY created_at DESC, id DESC LIMIT 30"
            ),
            "ix_personal_identities_tenant_level",
        ),
    ] {
        let plan = plan(&query);
        assert!(
            plan.contains(index) && !plan.contains("Sort"),
            "{query}:\n{plan}"
        );
    }
    for (query, index) in [
        (
            format!("SELECT COUNT(*) {live} AND kyc_level = 'L1'"),
            "ix_personal_identities_tenant_level",
        ),
        (
            format!("SELECT COUNT(*) {live} AND blocked"),
            "ix_personal_identities_tenant_blocked",
        ),
    ] {
        let plan = plan(&query);
        assert!(
            plan.contains(&format!("Index Only Scan using {index}")),
            "{query}:\n{plan}"
        );
    }
}
