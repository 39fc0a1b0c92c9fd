//! Test databases: SQLite in a temporary directory, always; PostgreSQL when `TEST_DATABASE_URL`
//! is set, as a fresh database per test (`CREATE DATABASE kyc_<random>`), dropped when the test
//! ends, pass or fail.

use std::{
    io::Write,
    sync::atomic::{AtomicBool, Ordering},
};

use kyc_model::{
    Address, AddressLine, AddressRegion, ContainerId, DateOfBirth, DueDiligence, Email, Gender,
    KycLevel, KycState, MissingDocument, PersonName, PersonalData, PersonalIdentity, Phone,
    ReviewStatus, ShortText, Ssn, TenantId, UpgradeRequirement, UsState, UsZip,
};
use kyc_store::{
    Backend, Db, DbConnection, DbOptions, Keyring, StoreError, containers,
    personal::{self, NewPersonalIdentity},
    scratch::ScratchDatabase,
    tenants,
};

pub const MASTER: [u8; 32] = [42; 32];

pub fn keys() -> Keyring {
    Keyring::from_master_key("k1", &MASTER).unwrap()
}

/// A migrated database, and whatever must outlive it (dropped after the pool).
pub struct TestDb {
    pub db: Db,
    guard: Guard,
}

#[expect(dead_code, reason = "held only for its Drop")]
enum Guard {
    Sqlite(tempfile::TempDir),
    Postgres(ScratchDatabase),
}

impl TestDb {
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub fn keys(&self) -> &Keyring {
        self.db.keys()
    }

    /// The SQLite file and its WAL, concatenated, as bytes (for raw scans).
    pub fn sqlite_bytes(&self) -> Option<Vec<u8>> {
        let Guard::Sqlite(_) = &self.guard else {
            return None;
        };
        let path = self.db.sqlite_path()?;
        let mut bytes = std::fs::read(path).unwrap();
        let wal = path.with_extension("db-wal");
        if let Ok(w) = std::fs::read(&wal) {
            bytes.extend(w);
        }
        Some(bytes)
    }

    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.write(f)
    }

    pub fn run<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.run(f)
    }
}

pub fn options() -> DbOptions {
    DbOptions {
        max_connections: 12,
        ..DbOptions::default()
    }
}

pub fn sqlite() -> TestDb {
    sqlite_with(keys())
}

pub fn sqlite_with(keys: Keyring) -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/kycd.db", dir.path().display());
    let db = Db::open_with(&url, keys, options()).unwrap();
    TestDb {
        db,
        guard: Guard::Sqlite(dir),
    }
}

/// A fresh PostgreSQL database, or `None` (with a note) when `TEST_DATABASE_URL` is unset.
pub fn postgres() -> Option<TestDb> {
    postgres_with(keys())
}

pub fn postgres_with(keys: Keyring) -> Option<TestDb> {
    let pg = scratch_postgres()?;
    let db = Db::open_with(pg.url(), keys, options()).unwrap();
    Some(TestDb {
        db,
        guard: Guard::Postgres(pg),
    })
}

/// An empty PostgreSQL database of its own, or `None` (with a note, once) when
/// `TEST_DATABASE_URL` is unset.
pub fn scratch_postgres() -> Option<ScratchDatabase> {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        if !NOTED.swap(true, Ordering::Relaxed) {
            // Straight to the handle: the harness captures `eprintln!` of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "note: TEST_DATABASE_URL is unset; the PostgreSQL variants of the kyc-store \
                 tests pass without running"
            );
        }
        return None;
    };
    Some(ScratchDatabase::create(&admin_url, "kyc").unwrap())
}

static NOTED: AtomicBool = AtomicBool::new(false);

/// Defines `mod $name { #[test] fn sqlite(); #[test] fn postgres(); }` running one body on
/// each backend (the PostgreSQL one passes, with a note, when the database is not configured).
#[macro_export]
macro_rules! both_backends {
    ($($(#[$doc:meta])* fn $name:ident($db:ident) $body:block)*) => {$(
        $(#[$doc])*
        mod $name {
            use super::*;
            fn body($db: &$crate::common::TestDb) $body
            #[test]
            fn sqlite() {
                body(&$crate::common::sqlite());
            }
            #[test]
            fn postgres() {
                if let Some(db) = $crate::common::postgres() {
                    body(&db);
                }
            }
        }
    )*};
}

pub fn name(s: &str) -> PersonName {
    PersonName::parse(s).unwrap()
}

/// A complete US person; `n` makes the email unique.
pub fn person(n: usize) -> PersonalData {
    PersonalData {
        first_name: name("Jonathan"),
        middle_name: Some(name("Quincy")),
        last_name: name("Doe"),
        email: Email::parse(&format!("John.Doe{n}@Example.com")).unwrap(),
        phone: Phone::parse("+14155552671").unwrap(),
        address: Some(
            Address::new(
                AddressLine::parse("1 Main Street").unwrap(),
                Some(AddressLine::parse("Apt 2").unwrap()),
                AddressLine::parse("Springfield").unwrap(),
                AddressRegion::Us {
                    state: UsState::parse("IL").unwrap(),
                    zip: UsZip::parse("62701").unwrap(),
                },
            )
            .unwrap(),
        ),
        date_of_birth: Some(DateOfBirth::parse("1987-06-15").unwrap()),
        ssn: Some(Ssn::parse("305-46-4885").unwrap()),
        gender: Some(Gender::Female),
        due_diligence: Some(DueDiligence {
            occupation: Some(ShortText::parse("Engineer").unwrap()),
            ..DueDiligence::default()
        }),
    }
}

/// A bare L0 person: only the required fields.
pub fn bare_person(first: &str, last: &str, email: &str) -> PersonalData {
    PersonalData {
        first_name: name(first),
        middle_name: None,
        last_name: name(last),
        email: Email::parse(email).unwrap(),
        phone: Phone::parse("+14155552671").unwrap(),
        address: None,
        date_of_birth: None,
        ssn: None,
        gender: None,
        due_diligence: None,
    }
}

pub fn kyc() -> KycState {
    KycState {
        kyc_level: KycLevel::L1,
        upgrade_requirements: vec![UpgradeRequirement::SsnInvalid],
        missing_documents: vec![MissingDocument::ProofOfId],
        identity_confirmed: true,
        blocked: false,
        review_status: ReviewStatus::Pending,
    }
}

pub fn tenant(db: &TestDb, name: &str) -> TenantId {
    db.write(|c| tenants::create(c, name)).unwrap().id
}

pub fn container(db: &TestDb, tenant: TenantId) -> ContainerId {
    db.write(|c| containers::create(c, tenant)).unwrap().id
}

/// A new container holding a new personal identity.
pub fn identity(db: &TestDb, tenant: TenantId, data: PersonalData) -> PersonalIdentity {
    let keys = db.keys().clone();
    db.write(|c| {
        let container = containers::create(c, tenant)?;
        personal::insert(
            c,
            &keys,
            &NewPersonalIdentity {
                id: kyc_model::PersonalIdentityId::random(),
                tenant_id: tenant,
                container_id: container.id,
                data,
                kyc: KycState::default(),
            },
        )
    })
    .unwrap()
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
