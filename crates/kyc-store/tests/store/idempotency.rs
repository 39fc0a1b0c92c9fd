//! Idempotency records, including 20 concurrent requests with one key.

use std::{
    sync::{Arc, Barrier},
    time::Duration,
};

use kyc_model::KycState;
use kyc_store::{
    containers,
    idempotency::{self, Begin, STALE_CLAIM, StoredResponse, TTL},
    list::ListQuery,
    personal::{self, NewPersonalIdentity},
};

use crate::{both_backends, common::*};

fn response(body: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    }
}

both_backends! {
    fn begin_complete_replay_mismatch_expiry(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let now = kyc_store::now();
        let k = db.keys();
        let begin = |tenant, key: &str, hash: &[u8], at| db.write(|c| idempotency::begin(c, k, tenant, key, hash, at)).unwrap();
        assert_eq!(begin(t, "key-1", b"h1", now), Begin::Started);
        assert_eq!(begin(t, "key-1", b"h1", now), Begin::InProgress);
        assert_eq!(begin(t, "key-1", b"h2", now), Begin::Mismatch);
        assert_eq!(begin(other, "key-1", b"h9", now), Begin::Started, "keys are per tenant");
        let body = r#"{"id":"x","dateOfBirth":"1987-06-15"}"#;
        db.write(|c| idempotency::complete(c, k, t, "key-1", &response(body), Some("x"))).unwrap();
        assert_eq!(begin(t, "key-1", b"h1", now + Duration::from_secs(60)), Begin::Replay(response(body)));
        assert_eq!(begin(t, "key-1", b"h2", now), Begin::Mismatch);
        // The replayable body is sealed: not in the database file.
        if let Some(bytes) = db.sqlite_bytes() {
            assert!(!contains(&bytes, b"1987-06-15"));
        }
        // After 24 h the key is free again.
        assert_eq!(begin(t, "key-1", b"h2", now + TTL + Duration::from_secs(1)), Begin::Started);
        // Completing an unclaimed key is an error; abandoning frees a claim.
        assert!(db.write(|c| idempotency::complete(c, k, t, "nope", &response("{}"), None)).unwrap_err().is_not_found());
        assert_eq!(begin(t, "key-2", b"a", now), Begin::Started);
        db.write(|c| idempotency::abandon(c, t, "key-2")).unwrap();
        assert_eq!(begin(t, "key-2", b"b", now), Begin::Started);
        // A claim whose request died is taken over after STALE_CLAIM.
        assert_eq!(begin(t, "key-2", b"b", now + STALE_CLAIM + Duration::from_secs(1)), Begin::Started);
        assert_eq!(begin(t, "key-2", b"b", now + STALE_CLAIM + Duration::from_secs(2)), Begin::InProgress);
        // Purging removes what has expired only.
        let purged = db.write(|c| idempotency::purge_expired(c, now + TTL + STALE_CLAIM + Duration::from_secs(3))).unwrap();
        assert_eq!(purged, 2, "other tenant's key-1 and the taken-over key-2 have expired; key-1's second life has not");
    }

    fn twenty_concurrent_posts_create_one_identity(db) {
        let t = tenant(db, "acme");
        let n = 20;
        let barrier = Arc::new(Barrier::new(n));
        let outcomes: Vec<&'static str> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let barrier = barrier.clone();
                    s.spawn(move || {
                        let keys = db.keys();
                        barrier.wait();
                        let begun = db.write(|c| idempotency::begin(c, keys, t, "create-1", b"same body", kyc_store::now())).unwrap();
                        match begun {
                            Begin::Started => {
                                db.write(|c| {
                                    let cont = containers::create(c, t)?;
                                    let made = personal::insert(c, keys, &NewPersonalIdentity {
                                        id: kyc_model::PersonalIdentityId::random(),
                                        tenant_id: t, container_id: cont.id, data: person(1), kyc: KycState::default(),
                                    })?;
                                    // Work and record commit together.
                                    idempotency::complete(c, keys, t, "create-1", &response(&made.id.to_string()), Some(&made.id.to_string()))
                                })
                                .unwrap();
                                "started"
                            }
                            Begin::InProgress => "in_progress",
                            Begin::Replay(_) => "replay",
                            Begin::Mismatch => "mismatch",
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(outcomes.iter().filter(|o| **o == "started").count(), 1, "{outcomes:?}");
        assert!(!outcomes.contains(&"mismatch"));
        let everyone = db.run(|c| personal::list(c, db.keys(), t, &ListQuery::default())).unwrap();
        assert_eq!(everyone.total, 1);
        // Afterwards every retry replays the one response.
        let again = db.write(|c| idempotency::begin(c, db.keys(), t, "create-1", b"same body", kyc_store::now())).unwrap();
        assert_eq!(again, Begin::Replay(response(&everyone.items[0].id.to_string())));
    }
}
