//! Inserts and reads per second through the store, next to the raw rate of the same database
//! in the same run, and their ratio.
//!
//! `cargo bench -p kyc-store` (PostgreSQL too when `TEST_DATABASE_URL` or
//! `BENCH_DATABASE_URL` is set; `KYC_BENCH_SECS`, default 5, is the time per measurement).
//!
//! - store insert: one `Db::write` per identity: pool checkout, `BEGIN IMMEDIATE` (SQLite),
//!   a container and a full personal identity (SSN and date of birth sealed, blind index,
//!   address JSON), `COMMIT`.
//! - raw insert: the same two rows (ciphertexts computed once) as hand-written diesel inserts
//!   on one dedicated bare connection (`SqliteConnection` / `PgConnection`, prepared statements
//!   cached like the store's), one transaction per identity (`BEGIN IMMEDIATE` on SQLite), same
//!   settings (WAL, `synchronous=FULL`). This is the database's own rate through the same
//!   driver, without pool, encryption, JSON or domain types.
//! - store read: `personal::find` of a random identity (pool checkout, select, open the
//!   ciphertexts, parse every value into kyc-model types).
//! - raw read: the same `SELECT` of the same columns on the bare connection, nothing parsed.

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark: any failure should stop it loudly"
)]

use std::time::Instant;

use diesel::{
    Connection, PgConnection, SqliteConnection, connection::SimpleConnection, prelude::*,
};
use kyc_model::{
    Address, AddressLine, AddressRegion, DateOfBirth, Email, Gender, KycState, PersonName,
    PersonalData, PersonalIdentityId, Phone, Ssn, TenantId, UsState, UsZip,
};
use kyc_store::{
    Db, DbOptions, Keyring, containers,
    personal::{self, NewPersonalIdentity},
    schema::{identity_containers::dsl as c, personal_identities::dsl as p},
    tenants,
};
use rand::{Rng, seq::SliceRandom};

fn person(n: usize) -> PersonalData {
    PersonalData {
        first_name: PersonName::parse("Jonathan").unwrap(),
        middle_name: None,
        last_name: PersonName::parse("Doe").unwrap(),
        email: Email::parse(&format!("bench{n}@example.com")).unwrap(),
        phone: Phone::parse("+14155552671").unwrap(),
        address: Some(
            Address::new(
                AddressLine::parse("1 Main Street").unwrap(),
                None,
                AddressLine::parse("Springfield").unwrap(),
                AddressRegion::Us {
                    state: UsState::parse("IL").unwrap(),
                    zip: UsZip::parse("62701").unwrap(),
                },
            )
            .unwrap(),
        ),
        date_of_birth: Some(DateOfBirth::parse("1987-06-15").unwrap()),
        ssn: Some(Ssn::parse("305464885").unwrap()),
        gender: Some(Gender::Female),
        due_diligence: None,
    }
}

/// Runs `op` repeatedly for `secs` and returns operations per second.
fn rate(secs: f64, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        op();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Measures `store` and `raw` in `ROUNDS` alternating rounds of `secs / ROUNDS` each, so that
/// a change in machine load (other builds, fsync latency) affects both sides alike, and
/// returns the median rate of each.
fn paired(secs: f64, mut store: impl FnMut(), mut raw: impl FnMut()) -> (f64, f64) {
    const ROUNDS: usize = 5;
    let (mut s, mut r) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        s.push(rate(secs / ROUNDS as f64, &mut store));
        r.push(rate(secs / ROUNDS as f64, &mut raw));
    }
    (median(s), median(r))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

enum Raw {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Every column `personal::find` reads.
#[derive(Queryable, Selectable)]
#[diesel(table_name = kyc_store::schema::personal_identities)]
#[expect(
    dead_code,
    reason = "fetched like the store fetches them, not inspected"
)]
struct RawRow {
    id: String,
    tenant_id: String,
    container_id: String,
    first_name: Option<String>,
    middle_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address_json: Option<String>,
    dob_ct: Option<Vec<u8>>,
    dob_key_id: Option<String>,
    ssn_ct: Option<Vec<u8>>,
    ssn_key_id: Option<String>,
    ssn_bidx: Option<Vec<u8>>,
    gender: Option<String>,
    due_diligence_json: Option<String>,
    kyc_level: String,
    review_status: String,
    blocked: bool,
    identity_confirmed: bool,
    kyc_json: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
    erased_at: Option<i64>,
}

struct Figures {
    store_insert: f64,
    raw_insert: f64,
    store_read: f64,
    raw_read: f64,
}

fn bench(db: &Db, mut raw: Raw, secs: f64) -> Figures {
    let keys = db.keys().clone();
    let name = uuid::Uuid::new_v4().to_string();
    let tenant: TenantId = db.write(|c| tenants::create(c, &name)).unwrap().id;
    let t = tenant.to_string();
    let mut ids: Vec<PersonalIdentityId> = Vec::new();
    let mut n = 0usize;
    let mut store_insert_op = || {
        n += 1;
        let id = db
            .write(|c| {
                let cont = containers::create(c, tenant)?;
                personal::insert(
                    c,
                    &keys,
                    &NewPersonalIdentity {
                        id: kyc_model::PersonalIdentityId::random(),
                        tenant_id: tenant,
                        container_id: cont.id,
                        data: person(n),
                        kyc: KycState::default(),
                    },
                )
            })
            .unwrap()
            .id;
        ids.push(id);
    };

    let mut rng = rand::thread_rng();
    let mut ct = |len: usize| (0..len).map(|_| rng.r#gen::<u8>()).collect::<Vec<u8>>();
    let (dob_ct, ssn_ct, bidx) = (ct(12 + 10 + 16), ct(12 + 9 + 16), ct(32));
    let address = r#"{"street1":"1 Main Street","street2":null,"city":"Springfield","region":{"kind":"us","state":"IL","zip":"62701"}}"#;
    let kyc_json = r#"{"upgradeRequirements":[],"missingDocuments":[]}"#;
    let mut m = 0usize;
    let mut raw_insert_op = || {
        m += 1;
        let n = m;
        let (cid, pid) = (
            uuid::Uuid::new_v4().to_string(),
            uuid::Uuid::new_v4().to_string(),
        );
        let now = 1_700_000_000_000i64 + n as i64;
        let email = format!("raw{n}@example.com");
        let container = diesel::insert_into(c::identity_containers).values((
            c::id.eq(&cid),
            c::tenant_id.eq(&t),
            c::created_at.eq(now),
        ));
        let row = diesel::insert_into(p::personal_identities).values((
            p::id.eq(&pid),
            p::tenant_id.eq(&t),
            p::container_id.eq(&cid),
            p::first_name.eq("Jonathan"),
            p::last_name.eq("Doe"),
            p::email.eq(&email),
            p::phone.eq("+14155552671"),
            p::address_json.eq(address),
            p::dob_ct.eq(&dob_ct),
            p::dob_key_id.eq("k1"),
            p::ssn_ct.eq(&ssn_ct),
            p::ssn_key_id.eq("k1"),
            p::ssn_bidx.eq(&bidx),
            p::gender.eq("female"),
            p::kyc_level.eq("L0"),
            p::review_status.eq("none"),
            p::blocked.eq(false),
            p::identity_confirmed.eq(false),
            p::kyc_json.eq(kyc_json),
            p::created_at.eq(now),
            p::updated_at.eq(now),
            p::version.eq(1i64),
        ));
        match &mut raw {
            Raw::Sqlite(conn) => conn
                .immediate_transaction(|conn| {
                    container.execute(conn)?;
                    row.execute(conn)
                })
                .unwrap(),
            Raw::Pg(conn) => conn
                .transaction(|conn| {
                    container.execute(conn)?;
                    row.execute(conn)
                })
                .unwrap(),
        };
    };
    let (store_insert, raw_insert) = paired(secs, &mut store_insert_op, &mut raw_insert_op);

    let mut rng = rand::thread_rng();
    let ids = &ids;
    let mut pick = move || *ids.choose(&mut rng).unwrap();
    let mut rng2 = rand::thread_rng();
    let mut pick2 = move || *ids.choose(&mut rng2).unwrap();
    let store_read_op = || {
        let id = pick();
        let p = db.run(|c| personal::find(c, &keys, tenant, id)).unwrap();
        assert_eq!(p.id, id);
    };
    let raw_read_op = || {
        let id = pick2().to_string();
        // A macro, not a value: `as_select` is typed by the backend it runs on.
        macro_rules! select {
            () => {
                p::personal_identities
                    .filter(p::id.eq(&id))
                    .filter(p::tenant_id.eq(&t))
                    .filter(p::erased_at.is_null())
                    .select(RawRow::as_select())
            };
        }
        let row: RawRow = match &mut raw {
            Raw::Sqlite(conn) => select!().get_result(conn).unwrap(),
            Raw::Pg(conn) => select!().get_result(conn).unwrap(),
        };
        assert_eq!(row.id, id);
    };
    let (store_read, raw_read) = paired(secs, store_read_op, raw_read_op);
    Figures {
        store_insert,
        raw_insert,
        store_read,
        raw_read,
    }
}

fn report(backend: &str, f: &Figures) {
    println!(
        "{backend:<9} insert/s  store {:>9.0}   raw {:>9.0}   store/raw {:.2}",
        f.store_insert,
        f.raw_insert,
        f.store_insert / f.raw_insert
    );
    println!(
        "{backend:<9} read/s    store {:>9.0}   raw {:>9.0}   store/raw {:.2}",
        f.store_read,
        f.raw_read,
        f.store_read / f.raw_read
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then only smoke-run.
    let benching = std::env::args().any(|a| a == "--bench");
    let secs: f64 = std::env::var("KYC_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if benching { 5.0 } else { 0.2 });
    let keys = Keyring::from_master_key("k1", &[42; 32]).unwrap();
    let options = DbOptions {
        max_connections: 4,
        ..DbOptions::default()
    };

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let db = Db::open_with(
        &format!("sqlite://{}", path.display()),
        keys.clone(),
        options.clone(),
    )
    .unwrap();
    let mut raw = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    raw.batch_execute(
        "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         PRAGMA foreign_keys = ON;",
    )
    .unwrap();
    println!(
        "kyc-store throughput: {secs} s per figure in 5 alternating rounds (medians), \
         one transaction per insert"
    );
    report("sqlite", &bench(&db, Raw::Sqlite(raw), secs));
    drop(db);

    let admin = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .ok();
    let Some(admin) = admin else {
        println!("postgres skipped: set TEST_DATABASE_URL or BENCH_DATABASE_URL");
        return;
    };
    let name = format!("kyc_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin_conn = PgConnection::establish(&admin).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .unwrap();
    let (server, _) = admin.split('?').next().unwrap().rsplit_once('/').unwrap();
    let url = format!("{server}/{name}");
    let figures = {
        let db = Db::open_with(&url, keys.clone(), options.clone()).unwrap();
        let raw = PgConnection::establish(&url).unwrap();
        bench(&db, Raw::Pg(raw), secs)
    };
    report("postgres", &figures);
    // The default pings each PostgreSQL connection at checkout (see DbOptions): what it costs.
    let unpinged = {
        let options = DbOptions {
            test_on_check_out: Some(false),
            ..options
        };
        let db = Db::open_with(&url, keys, options).unwrap();
        let raw = PgConnection::establish(&url).unwrap();
        bench(&db, Raw::Pg(raw), secs)
    };
    report("pg/noping", &unpinged);
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .unwrap();
}
