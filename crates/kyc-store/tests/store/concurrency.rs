//! Optimistic concurrency under contention, and many writers at once.

use std::{
    sync::{
        Arc, Barrier,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use kyc_model::{Actor, AuditAction, EventType, KycState, PersonalIdentityId, TenantId};
use kyc_store::{
    StoreError, audit, containers,
    list::ListQuery,
    personal::{self, NewPersonalIdentity},
    webhooks,
};

use crate::{both_backends, common::*};

/// Appends one letter to the middle name: re-read and retry on conflict, the way the server
/// handles a PATCH without If-Match. Returns the number of conflicts met.
fn append_letter(db: &TestDb, t: TenantId, id: PersonalIdentityId) -> u64 {
    let mut conflicts = 0;
    loop {
        let result = db.write(|c| {
            let mut p = personal::find(c, db.keys(), t, id)?;
            let middle = format!(
                "{}a",
                p.data.middle_name.as_ref().map_or("A", |m| m.as_str())
            );
            p.data.middle_name = Some(name(&middle));
            personal::update(c, db.keys(), &p)
        });
        match result {
            Ok(_) => return conflicts,
            Err(e) if e.is_conflict() => conflicts += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}

both_backends! {
    fn concurrent_updates_never_lose_a_write(db) {
        let t = tenant(db, "acme");
        let mut data = person(1);
        data.middle_name = None;
        let p = identity(db, t, data);
        let (threads, each) = (8, 10);
        let barrier = Barrier::new(threads);
        let conflicts: u64 = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|_| s.spawn(|| {
                    barrier.wait();
                    (0..each).map(|_| append_letter(db, t, p.id)).sum::<u64>()
                }))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        let last = db.run(|c| personal::find(c, db.keys(), t, p.id)).unwrap();
        let n = (threads * each) as i64;
        assert_eq!(last.version, 1 + n, "one version per successful write");
        assert_eq!(
            last.data.middle_name.unwrap().as_str().len() as i64,
            1 + n,
            "every write's letter is there: none was lost"
        );
        eprintln!("{}: {n} contended updates, {conflicts} conflicts retried", db.backend());
    }

    /// 8 writer threads for KYC_STRESS_SECS (default 30) seconds, each committing transactions
    /// that create a container and an identity, append an audit event and enqueue an outbox
    /// event, and every fourth one updating a shared identity; 2 readers list meanwhile. No
    /// error of any kind may surface (SQLite's "database is locked" included); conflicts on the
    /// shared identity are retried and counted.
    fn eight_writers_no_busy_errors(db) {
        let secs: u64 = std::env::var("KYC_STRESS_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
        let t = tenant(db, "stress");
        let shared = identity(db, t, person(0));
        let commits = AtomicU64::new(0);
        let conflicts = AtomicU64::new(0);
        let reads = AtomicU64::new(0);
        let errors = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let deadline = Instant::now() + Duration::from_secs(secs);
        std::thread::scope(|s| {
            for w in 0..8usize {
                let (commits, conflicts, errors) = (&commits, &conflicts, errors.clone());
                s.spawn(move || {
                    let mut i = 0usize;
                    while Instant::now() < deadline {
                        let email = format!("w{w}-{i}@stress.example");
                        let r = db.write(|c| {
                            let cont = containers::create(c, t)?;
                            let p = personal::insert(c, db.keys(), &NewPersonalIdentity {
                                id: kyc_model::PersonalIdentityId::random(),
                                tenant_id: t, container_id: cont.id,
                                data: bare_person("Stress", "Writer", &email), kyc: KycState::default(),
                            })?;
                            audit::append(c, &audit::NewAuditEvent::for_identity(t, p.id, Actor::System, AuditAction::IdentityCreated))?;
                            webhooks::enqueue(c, t, EventType::IdentityCreated, &serde_json::json!({ "id": p.id }))?;
                            Ok::<_, StoreError>(())
                        });
                        match r {
                            Ok(()) => { commits.fetch_add(1, Ordering::Relaxed); }
                            Err(e) => { errors.lock().unwrap().push(e.to_string()); }
                        }
                        if i.is_multiple_of(4) {
                            let r = db.write(|c| {
                                let mut p = personal::find(c, db.keys(), t, shared.id)?;
                                p.kyc.blocked = !p.kyc.blocked;
                                personal::update(c, db.keys(), &p)
                            });
                            match r {
                                Ok(_) => { commits.fetch_add(1, Ordering::Relaxed); }
                                Err(e) if e.is_conflict() => { conflicts.fetch_add(1, Ordering::Relaxed); }
                                Err(e) => { errors.lock().unwrap().push(e.to_string()); }
                            }
                        }
                        i += 1;
                    }
                });
            }
            for _ in 0..2 {
                let (reads, errors) = (&reads, errors.clone());
                s.spawn(move || {
                    while Instant::now() < deadline {
                        let q = ListQuery::parse([("filter[lastName]", "Writer"), ("page[size]", "10")]).unwrap();
                        match db.run(|c| personal::list(c, db.keys(), t, &q)) {
                            Ok(_) => { reads.fetch_add(1, Ordering::Relaxed); }
                            Err(e) => { errors.lock().unwrap().push(e.to_string()); }
                        }
                    }
                });
            }
        });
        let errors = errors.lock().unwrap();
        let commits = commits.load(Ordering::Relaxed);
        eprintln!(
            "{}: 8 writers x {secs} s: {commits} commits ({:.0}/s), {} conflicts retried, {} list reads, {} errors",
            db.backend(),
            commits as f64 / secs as f64,
            conflicts.load(Ordering::Relaxed),
            reads.load(Ordering::Relaxed),
            errors.len()
        );
        assert!(errors.is_empty(), "errors under contention: {:?}", &errors[..errors.len().min(5)]);
        assert!(commits > 8, "every writer made progress");
        let q = ListQuery::parse([("filter[lastName]", "Writer")]).unwrap();
        let created = db.run(|c| personal::list(c, db.keys(), t, &q)).unwrap().total;
        // The live count, kept by every concurrent create, agrees with the rows (and `shared`).
        let kept = db.run(|c| personal::list(c, db.keys(), t, &ListQuery::default())).unwrap().total;
        assert_eq!(kept, created + 1, "the live count lost or doubled a create");
        let final_shared = db.run(|c| personal::find(c, db.keys(), t, shared.id)).unwrap();
        assert_eq!(created + (final_shared.version as u64 - 1), commits, "every commit is in the database");
    }
}

both_backends! {
    /// Many writers at once, some of whose units fail or panic half-way (on SQLite they share
    /// commits, each unit in a savepoint): a unit that returned `Ok` is visible to every other
    /// connection the moment `write` returns, and nothing of a failed or panicking unit is
    /// ever stored, whoever it shared a transaction with.
    fn failing_units_leave_no_trace_among_concurrent_writers(db) {
        let t = tenant(db, "group");
        let (threads, each) = (12usize, 25usize);
        let barrier = Barrier::new(threads);
        let stored: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|w| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        let mut ok = 0;
                        for i in 0..each {
                            let email = format!("g{w}-{i}@group.example");
                            let create = |c: &mut kyc_store::DbConnection| {
                                let cont = containers::create(c, t)?;
                                personal::insert(c, db.keys(), &NewPersonalIdentity {
                                    id: kyc_model::PersonalIdentityId::random(),
                                    tenant_id: t, container_id: cont.id,
                                    data: bare_person("Group", "Writer", &email), kyc: KycState::default(),
                                })
                            };
                            match (w + i) % 5 {
                                0 => {
                                    let r = db.write(|c| {
                                        create(c)?;
                                        Err::<(), _>(StoreError::Internal { reason: "refused by the test" })
                                    });
                                    assert!(matches!(r, Err(StoreError::Internal { .. })), "{r:?}");
                                }
                                1 => {
                                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                        db.write(|c| -> Result<(), StoreError> {
                                            create(c)?;
                                            panic!("a unit panics after its writes");
                                        })
                                    }));
                                    assert!(r.is_err(), "the panic reaches the caller");
                                }
                                _ => {
                                    let p = db.write(create).unwrap();
                                    let seen = db.run(|c| personal::find(c, db.keys(), t, p.id)).unwrap();
                                    assert_eq!(seen.id, p.id, "committed when write returns");
                                    ok += 1;
                                }
                            }
                        }
                        ok
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        let q = ListQuery::parse([("filter[lastName]", "Writer")]).unwrap();
        let listed = db.run(|c| personal::list(c, db.keys(), t, &q)).unwrap().total;
        assert_eq!(listed as usize, stored, "exactly the units that returned Ok are stored");
        assert_eq!(stored, threads * each * 3 / 5);
        // The writer is still usable after the failures.
        let after = identity(db, t, person(7));
        assert!(db.run(|c| personal::find(c, db.keys(), t, after.id)).is_ok());
    }
}

/// SQLite's writer does not checkpoint inside its commits; the checkpointer thread copies the
/// committed WAL frames into the database file within moments, so the WAL does not grow for
/// ever and the database file holds the data.
#[test]
fn sqlite_checkpointer_copies_the_wal_into_the_database_file() {
    let db = sqlite();
    let path = db.db.sqlite_path().unwrap().to_owned();
    let before = std::fs::metadata(&path).unwrap().len();
    let t = tenant(&db, "checkpoint");
    for n in 0..200 {
        identity(&db, t, person(n));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&path).unwrap().len() <= before {
        assert!(Instant::now() < deadline, "no checkpoint within 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The SQLite settings of `conn.rs` and `group_commit.rs`, as pooled connections and the
/// writer connection report them.
#[test]
fn sqlite_connections_have_the_documented_settings() {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    /// `wal_autocheckpoint` has no table-valued `pragma_` function.
    #[derive(diesel::QueryableByName)]
    struct AutoCheckpoint {
        #[diesel(sql_type = diesel::sql_types::Text)]
        wal_autocheckpoint: String,
    }
    fn settings(conn: &mut kyc_store::DbConnection) -> Result<Vec<(String, String)>, StoreError> {
        let kyc_store::DbConnection::Sqlite(conn) = conn else {
            panic!("a SQLite store")
        };
        let names = [
            "page_size",
            "journal_mode",
            "synchronous",
            "foreign_keys",
            "secure_delete",
            "temp_store",
            "cache_size",
        ];
        use diesel::RunQueryDsl;
        let mut found: Vec<(String, String)> = names
            .iter()
            .map(|name| {
                let q = format!("SELECT {name} AS v FROM pragma_{name}()");
                let s: Setting = diesel::sql_query(q).get_result(conn).unwrap();
                ((*name).to_owned(), s.v)
            })
            .collect();
        let a: AutoCheckpoint = diesel::sql_query("PRAGMA wal_autocheckpoint")
            .get_result(conn)
            .unwrap();
        found.push(("wal_autocheckpoint".to_owned(), a.wal_autocheckpoint));
        Ok(found)
    }
    let expected = |cache: &str, autocheckpoint: &str| {
        [
            ("page_size", "1024"),
            ("journal_mode", "wal"),
            ("synchronous", "2"),
            ("foreign_keys", "1"),
            ("secure_delete", "1"),
            ("temp_store", "2"),
            ("cache_size", cache),
            ("wal_autocheckpoint", autocheckpoint),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
    };
    let db = sqlite();
    assert_eq!(db.db.run(settings).unwrap(), expected("-16384", "1000"));
    assert_eq!(db.db.write(settings).unwrap(), expected("-8192", "0"));
}
