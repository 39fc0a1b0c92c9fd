//! Concurrency (SPEC §6): `ETag` on reads and writes, `If-Match` makes a PATCH conditional
//! (`412 version_conflict` when stale), and without it concurrent PATCHes never lose an update.

use std::{collections::BTreeSet, sync::Arc};

use kycd_tests::{
    BASE, Method, TestApp, TestResponse, full_person_body, person_body, unique_email, valid_ssn,
};
use serde_json::json;
use tokio::task::JoinSet;

both_backends! {
    async fn concurrent_patches_lose_no_update(app) {
        const WRITERS: i64 = 50;
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &person_body(&unique_email())).await;
        let id = person["id"].as_str().unwrap().to_owned();
        let v0 = person["version"].as_i64().unwrap();

        let app = Arc::new(app);
        let mut set = JoinSet::new();
        for i in 0..WRITERS {
            let (app, key, id) = (app.clone(), key.clone(), id.clone());
            set.spawn(async move {
                // Alternate two fields so writers do not all touch the same one.
                let body = if i % 2 == 0 {
                    json!({ "dueDiligence": { "occupation": format!("Engineer {i}") } })
                } else {
                    {
                    // Distinct values: a PATCH that changes nothing writes nothing.
                    let letter = |n: i64| char::from(b'a' + u8::try_from(n % 26).unwrap());
                    json!({ "middleName": format!("Writer{}{}", letter(i / 26), letter(i)) })
                }
                };
                app.patch_person(&key, &id, &body).await
            });
        }
        let responses = set.join_all().await;
        let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
        assert!(
            statuses.iter().all(|s| *s == 200),
            "without If-Match every concurrent PATCH must succeed, got {statuses:?}: {}",
            responses.iter().find(|r| r.status != 200).map_or("", |r| r.text.as_str())
        );
        let mut versions = BTreeSet::new();
        for res in &responses {
            let version = res.json["version"].as_i64().unwrap();
            assert_eq!(res.header("etag"), Some(format!("\"v{version}\"").as_str()));
            versions.insert(version);
        }
        // Every write got its own version: none was applied over a stale read.
        let expected: BTreeSet<i64> = (v0 + 1..=v0 + WRITERS).collect();
        assert_eq!(versions, expected);

        let read = app.get_person(&key, &id).await;
        read.assert_status(200);
        assert_eq!(read.json["version"].as_i64(), Some(v0 + WRITERS));
        let events = app.get_events(&key, &id).await;
        let updates = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "identity_updated")
            .count();
        assert_eq!(updates, 50, "{}", events.text);
    }

    async fn if_match_makes_a_patch_conditional(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &person_body(&unique_email())).await;
        let id = person["id"].as_str().unwrap();
        let path = format!("{BASE}/personal-identities/{id}");

        let read = app.get_person(&key, id).await;
        read.assert_status(200);
        let etag = read.header("etag").expect("GET returns an ETag").to_owned();
        assert_eq!(etag, format!("\"v{}\"", person["version"]));

        let ok = patch_if_match(&app, &key, &path, &etag, "Third").await;
        ok.assert_status(200);
        let new_etag = ok.header("etag").unwrap().to_owned();
        assert_ne!(new_etag, etag);
        assert_eq!(ok.json["middleName"], "Third");

        // The old ETag is stale now.
        let stale = patch_if_match(&app, &key, &path, &etag, "Fourth").await;
        stale.assert_error(412, "version_conflict");
        let after = app.get_person(&key, id).await;
        assert_eq!(after.json["middleName"], "Third");
        assert_eq!(after.header("etag"), Some(new_etag.as_str()));

        // `*` matches any version; a weak form of the current ETag never does (`If-Match`
        // compares strongly, RFC 9110).
        patch_if_match(&app, &key, &path, "*", "Fifth").await.assert_status(200);
        let current = current_etag(&app, &key, id).await;
        patch_if_match(&app, &key, &path, &format!("W/{current}"), "Sixth")
            .await
            .assert_error(412, "version_conflict");
        assert_eq!(app.get_person(&key, id).await.json["middleName"], "Fifth");
        // Something that is not one of our ETags can never match.
        patch_if_match(&app, &key, &path, "\"abc\"", "Seventh")
            .await
            .assert_error(412, "version_conflict");
        assert_eq!(app.get_person(&key, id).await.json["middleName"], "Fifth");
        // A list holds when any of its tags matches (RFC 9110 §13.1.1), for a DELETE too.
        patch_if_match(&app, &key, &path, &format!("\"v999\", \"abc\", {etag}"), "Eighth")
            .await
            .assert_error(412, "version_conflict");
        let current = current_etag(&app, &key, id).await;
        patch_if_match(&app, &key, &path, &format!("\"v999\", {current}"), "Ninth")
            .await
            .assert_status(200);
        let current = current_etag(&app, &key, id).await;
        app.call(Method::DELETE, &path)
            .key(&key)
            .header("if-match", &format!("{etag}, {current}"))
            .send()
            .await
            .assert_status(204);
    }
}

both_backends! {
    /// SPEC §9: concurrent writers never see "database is locked" or a lost insert.
    async fn concurrent_creates_all_succeed(app) {
        let (_, key) = app.tenant_with_key("acme");
        let app = Arc::new(app);
        let mut set = JoinSet::new();
        for _ in 0..30 {
            let (app, key) = (app.clone(), key.clone());
            set.spawn(async move {
                app.create_person(&key, &full_person_body(&unique_email(), &valid_ssn())).await
            });
        }
        let mut ids = BTreeSet::new();
        for res in set.join_all().await {
            res.assert_status(201);
            assert_eq!(res.json["kycLevel"], "L1", "{}", res.text);
            ids.insert(res.json["personalIdentity"]["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids.len(), 30);
        assert_eq!(app.count_people(&key).await, 30);
    }

    /// SPEC §4: of concurrent creates with one SSN, only the first to commit is not a
    /// duplicate; none may miss another because both looked before either committed.
    async fn concurrent_creates_with_one_ssn_find_each_other(app) {
        const CREATES: usize = 12;
        let (_, key) = app.tenant_with_key("acme");
        let ssn = valid_ssn();
        let app = Arc::new(app);
        let mut set = JoinSet::new();
        for _ in 0..CREATES {
            let (app, key, ssn) = (app.clone(), key.clone(), ssn.clone());
            set.spawn(async move { app.create_person(&key, &full_person_body(&unique_email(), &ssn)).await });
        }
        let mut review = Vec::new();
        for res in set.join_all().await {
            res.assert_status(201);
            review.push(res.json["personalIdentity"]["reviewStatus"].as_str().unwrap().to_owned());
        }
        review.sort();
        let mut expected = vec!["pending".to_owned(); CREATES - 1];
        expected.insert(0, "none".to_owned());
        assert_eq!(review, expected);
    }

    /// Concurrent reads of identities go to the database together (one statement for many on
    /// PostgreSQL): each read still gets its own identity, and a 404 for an identity of another
    /// tenant, an erased one or none.
    async fn concurrent_reads_each_get_their_own_answer(app) {
        let (_, acme) = app.tenant_with_key("acme");
        let (_, globex) = app.tenant_with_key("globex");
        let mut people = Vec::new();
        for key in [&acme, &globex, &acme, &globex] {
            let person = app.new_person(key, &person_body(&unique_email())).await;
            people.push((key.clone(), person["id"].as_str().unwrap().to_owned(), person["email"].clone()));
        }
        let erased = app.new_person(&acme, &person_body(&unique_email())).await;
        let erased = erased["id"].as_str().unwrap().to_owned();
        app.delete_person(&acme, &erased).await.assert_status(204);

        let app = Arc::new(app);
        let mut set = JoinSet::new();
        for round in 0..15 {
            for (n, (key, id, email)) in people.iter().enumerate() {
                // Every person read by its own tenant, and by the other one.
                let other = if *key == acme { globex.clone() } else { acme.clone() };
                let (own, foreign) = (key.clone(), other);
                let (app, id, email) = (app.clone(), id.clone(), email.clone());
                set.spawn(async move {
                    let read = if (round + n) % 2 == 0 { app.get_person(&own, &id).await } else { app.get_person(&foreign, &id).await };
                    ((round + n) % 2 == 0, id, email, read)
                });
            }
            let (app, acme, erased) = (app.clone(), acme.clone(), erased.clone());
            set.spawn(async move {
                let missing = "7d0c2b1e-5d3a-4c1e-9f0a-2b7e6c4d8a91".to_owned();
                let (id, read) = if round % 2 == 0 { (erased.clone(), app.get_person(&acme, &erased).await) } else { (missing.clone(), app.get_person(&acme, &missing).await) };
                (false, id, serde_json::Value::Null, read)
            });
        }
        let reads = set.join_all().await;
        assert_eq!(reads.len(), 15 * 5);
        for (own, id, email, read) in reads {
            if own {
                read.assert_status(200);
                assert_eq!(read.json["id"].as_str(), Some(id.as_str()));
                assert_eq!(read.json["email"], email);
            } else {
                read.assert_error(404, "identity_not_found");
            }
        }
    }
}

/// A PATCH of the person at `path` setting `middleName`, on condition `if_match`.
async fn patch_if_match(
    app: &TestApp,
    key: &str,
    path: &str,
    if_match: &str,
    middle_name: &str,
) -> TestResponse {
    app.call(Method::PATCH, path)
        .key(key)
        .header("if-match", if_match)
        .json(&json!({ "middleName": middle_name }))
        .send()
        .await
}

/// The person's current `ETag`.
async fn current_etag(app: &TestApp, key: &str, id: &str) -> String {
    app.get_person(key, id)
        .await
        .header("etag")
        .unwrap()
        .to_owned()
}
