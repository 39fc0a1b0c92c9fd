//! Inserts and reads per second through the store, next to the raw rate of the same database
//! in the same run, and their ratio.
//!
//! `cargo bench -p kyc-store` (PostgreSQL too when `TEST_DATABASE_URL` or
//! `BENCH_DATABASE_URL` is set; `KYC_BENCH_SECS`, default 5, is the time per measurement).
//!
//! - store insert: one `Db::write` per identity: pool checkout, `BEGIN IMMEDIATE` (SQLite),
//!   a container and a full personal identity (SSN and date of birth sealed, blind index,
//!   address JSON), `COMMIT`.
//! - raw insert: the same two rows (with ciphertexts computed once) through hand-written SQL on
//!   one dedicated connection, one transaction per identity, same settings (WAL,
//!   `synchronous=FULL`).
//! - store read: `personal::find` of a random identity (checkout, select, open, parse).
//! - raw read: the same `SELECT` of the same columns by hand-written SQL, no decryption.

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark: any failure should stop it loudly"
)]

use std::time::Instant;

use diesel::{
    Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection,
    connection::SimpleConnection, sql_types,
};
use kyc_model::{
    Address, AddressLine, AddressRegion, DateOfBirth, Email, Gender, KycState, PersonName,
    PersonalData, PersonalIdentityId, Phone, Ssn, TenantId, UsState, UsZip,
};
use kyc_store::{
    Db, DbOptions, Keyring, containers,
    personal::{self, NewPersonalIdentity},
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
fn rate(secs: f64, mut op: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed().as_secs_f64() < secs {
        op(n);
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

enum Raw {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl Raw {
    fn placeholders(&self, n: usize) -> String {
        (1..=n)
            .map(|i| match self {
                Raw::Sqlite(_) => "?".to_owned(),
                Raw::Pg(_) => format!("${i}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The columns `personal::find` reads.
#[derive(QueryableByName)]
#[expect(dead_code, reason = "read like the store reads them, not inspected")]
struct RawRow {
    #[diesel(sql_type = sql_types::Text)]
    id: String,
    #[diesel(sql_type = sql_types::Text)]
    tenant_id: String,
    #[diesel(sql_type = sql_types::Text)]
    container_id: String,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Text>)]
    first_name: Option<String>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Text>)]
    last_name: Option<String>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Text>)]
    email: Option<String>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Text>)]
    phone: Option<String>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Text>)]
    address_json: Option<String>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Binary>)]
    dob_ct: Option<Vec<u8>>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Binary>)]
    ssn_ct: Option<Vec<u8>>,
    #[diesel(sql_type = sql_types::Text)]
    kyc_json: String,
    #[diesel(sql_type = sql_types::BigInt)]
    version: i64,
}

struct Figures {
    store_insert: f64,
    raw_insert: f64,
    store_read: f64,
    raw_read: f64,
}

fn bench(db: &Db, mut raw: Raw, secs: f64) -> Figures {
    let keys = db.keys().clone();
    let tenant: TenantId = db.write(|c| tenants::create(c, "bench")).unwrap().id;
    let t = tenant.to_string();
    let mut ids: Vec<PersonalIdentityId> = Vec::new();

    let store_insert = rate(secs, |n| {
        let id = db
            .write(|c| {
                let cont = containers::create(c, tenant)?;
                personal::insert(
                    c,
                    &keys,
                    &NewPersonalIdentity {
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
    });

    let mut rng = rand::thread_rng();
    let mut ct = |len: usize| (0..len).map(|_| rng.r#gen::<u8>()).collect::<Vec<u8>>();
    let (dob_ct, ssn_ct, bidx) = (ct(12 + 10 + 16), ct(12 + 9 + 16), ct(32));
    let address = r#"{"street1":"1 Main Street","street2":null,"city":"Springfield","region":{"kind":"us","state":"IL","zip":"62701"}}"#;
    let kyc_json = r#"{"upgradeRequirements":[],"missingDocuments":[]}"#;
    let container_sql = format!(
        "INSERT INTO identity_containers (id, tenant_id, created_at) VALUES ({})",
        raw.placeholders(3)
    );
    let person_sql = format!(
        "INSERT INTO personal_identities (id, tenant_id, container_id, first_name, last_name, \
         email, phone, address_json, dob_ct, dob_key_id, ssn_ct, ssn_key_id, ssn_bidx, gender, \
         kyc_level, review_status, blocked, identity_confirmed, kyc_json, created_at, \
         updated_at, version) VALUES ({})",
        raw.placeholders(22)
    );
    let raw_insert = rate(secs, |n| {
        let (cid, pid) = (
            uuid::Uuid::new_v4().to_string(),
            uuid::Uuid::new_v4().to_string(),
        );
        let now = 1_700_000_000_000i64 + n as i64;
        let container = diesel::sql_query(&container_sql)
            .bind::<sql_types::Text, _>(&cid)
            .bind::<sql_types::Text, _>(&t)
            .bind::<sql_types::BigInt, _>(now);
        let email = format!("raw{n}@example.com");
        let row = diesel::sql_query(&person_sql)
            .bind::<sql_types::Text, _>(&pid)
            .bind::<sql_types::Text, _>(&t)
            .bind::<sql_types::Text, _>(&cid)
            .bind::<sql_types::Text, _>("Jonathan")
            .bind::<sql_types::Text, _>("Doe")
            .bind::<sql_types::Text, _>(&email)
            .bind::<sql_types::Text, _>("+14155552671")
            .bind::<sql_types::Text, _>(address)
            .bind::<sql_types::Binary, _>(&dob_ct)
            .bind::<sql_types::Text, _>("k1")
            .bind::<sql_types::Binary, _>(&ssn_ct)
            .bind::<sql_types::Text, _>("k1")
            .bind::<sql_types::Binary, _>(&bidx)
            .bind::<sql_types::Text, _>("female")
            .bind::<sql_types::Text, _>("L0")
            .bind::<sql_types::Text, _>("none")
            .bind::<sql_types::Bool, _>(false)
            .bind::<sql_types::Bool, _>(false)
            .bind::<sql_types::Text, _>(kyc_json)
            .bind::<sql_types::BigInt, _>(now)
            .bind::<sql_types::BigInt, _>(now)
            .bind::<sql_types::BigInt, _>(1i64);
        match &mut raw {
            Raw::Sqlite(c) => c
                .immediate_transaction(|c| {
                    container.execute(c)?;
                    row.execute(c)
                })
                .unwrap(),
            Raw::Pg(c) => c
                .transaction(|c| {
                    container.execute(c)?;
                    row.execute(c)
                })
                .unwrap(),
        };
    });

    let mut rng = rand::thread_rng();
    let mut pick = || *ids.choose(&mut rng).unwrap();
    let store_read = rate(secs, |_| {
        let id = pick();
        let p = db.run(|c| personal::find(c, &keys, tenant, id)).unwrap();
        assert_eq!(p.id, id);
    });
    let select_sql = format!(
        "SELECT id, tenant_id, container_id, first_name, last_name, email, phone, address_json, \
         dob_ct, ssn_ct, kyc_json, version FROM personal_identities \
         WHERE id = {} AND tenant_id = {} AND erased_at IS NULL",
        match raw {
            Raw::Sqlite(_) => "?",
            Raw::Pg(_) => "$1",
        },
        match raw {
            Raw::Sqlite(_) => "?",
            Raw::Pg(_) => "$2",
        },
    );
    let raw_read = rate(secs, |_| {
        let id = pick().to_string();
        let q = diesel::sql_query(&select_sql)
            .bind::<sql_types::Text, _>(&id)
            .bind::<sql_types::Text, _>(&t);
        let row: RawRow = match &mut raw {
            Raw::Sqlite(c) => q.get_result(c).unwrap(),
            Raw::Pg(c) => q.get_result(c).unwrap(),
        };
        assert_eq!(row.id, id);
    });
    Figures {
        store_insert,
        raw_insert,
        store_read,
        raw_read,
    }
}

fn report(backend: &str, f: &Figures) {
    println!(
        "{backend:<8} insert/s  store {:>9.0}   raw {:>9.0}   store/raw {:.2}",
        f.store_insert,
        f.raw_insert,
        f.store_insert / f.raw_insert
    );
    println!(
        "{backend:<8} read/s    store {:>9.0}   raw {:>9.0}   store/raw {:.2}",
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
    println!("kyc-store throughput, {secs} s per figure, one transaction per insert");
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
        let db = Db::open_with(&url, keys, options).unwrap();
        let raw = PgConnection::establish(&url).unwrap();
        bench(&db, Raw::Pg(raw), secs)
    };
    report("postgres", &figures);
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .unwrap();
}
