//! `Idempotency-Key` (SPEC §6): a retry replays the first response; the same key with another
//! body is `422 idempotency_key_reused`; concurrent duplicates run once.

use kycd_tests::{BASE, Method, TestApp, TestResponse, person_body, unique_email};
use serde_json::Value;
use tokio::task::JoinSet;

async fn post_with_key(app: &TestApp, key: &str, idem: &str, body: &Value) -> TestResponse {
    app.call(Method::POST, &format!("{BASE}/identity-containers"))
        .key(key)
        .header("idempotency-key", idem)
        .json(body)
        .send()
        .await
}

both_backends! {
    async fn a_retry_replays_the_first_response(app) {
        let (_, key) = app.tenant_with_key("acme");
        let body = person_body(&unique_email());
        let first = post_with_key(&app, &key, "create-1", &body).await;
        first.assert_status(201);
        assert_eq!(first.header("idempotent-replayed"), None);

        let retry = post_with_key(&app, &key, "create-1", &body).await;
        retry.assert_status(201);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.text, first.text, "the replay differs from the first response");
        assert_eq!(retry.header("location"), first.header("location"));
        assert_eq!(retry.header("etag"), first.header("etag"));
        assert_ne!(retry.request_id(), first.request_id());
        assert_eq!(app.count_people(&key).await, 1);

        // Same key, another body: refused, nothing created.
        let other = post_with_key(&app, &key, "create-1", &person_body(&unique_email())).await;
        other.assert_error(422, "idempotency_key_reused");
        assert_eq!(app.count_people(&key).await, 1);

        // Keys belong to a tenant: another tenant's identical key is a new request.
        let (_, key_b) = app.tenant_with_key("other");
        let elsewhere = post_with_key(&app, &key_b, "create-1", &body).await;
        elsewhere.assert_status(201);
        assert_eq!(elsewhere.header("idempotent-replayed"), None);
        assert_ne!(elsewhere.json["id"], first.json["id"]);
    }

    /// A refusal is the first response too: replayed (with the retry's own request id), and
    /// the key stays bound to its request.
    async fn refused_requests_are_replayed(app) {
        let (_, key) = app.tenant_with_key("acme");
        let mut bad = person_body(&unique_email());
        bad["phone"] = Value::from("12");
        let first = post_with_key(&app, &key, "k-400", &bad).await;
        assert_eq!(first.violations(), vec![("phone".to_owned(), "e164".to_owned())]);
        assert_eq!(first.header("idempotent-replayed"), None);
        let again = post_with_key(&app, &key, "k-400", &bad).await;
        assert_eq!(again.violations(), first.violations());
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_ne!(again.request_id(), first.request_id());
        assert_eq!(again.json["error"]["requestId"].as_str(), Some(again.request_id()));
        // The corrected request needs a key of its own.
        let fixed = post_with_key(&app, &key, "k-400", &person_body(&unique_email())).await;
        fixed.assert_error(422, "idempotency_key_reused");
        post_with_key(&app, &key, "k-fixed", &person_body(&unique_email())).await.assert_status(201);
        assert_eq!(app.count_people(&key).await, 1);

        // A conflict with the data is replayed even once the data changed.
        let taken = person_body(&unique_email());
        let holder = app.new_person(&key, &taken).await;
        post_with_key(&app, &key, "k-409", &taken).await.assert_error(409, "email_already_in_use");
        app.delete_person(&key, holder["id"].as_str().unwrap()).await.assert_status(204);
        let replayed = post_with_key(&app, &key, "k-409", &taken).await;
        replayed.assert_error(409, "email_already_in_use");
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
        assert_eq!(app.count_people(&key).await, 1);
    }

    async fn concurrent_duplicates_run_once(app) {
        let (_, key) = app.tenant_with_key("acme");
        let body = person_body(&unique_email());
        let app = std::sync::Arc::new(app);
        let mut set = JoinSet::new();
        for _ in 0..20 {
            let (app, key, body) = (app.clone(), key.clone(), body.clone());
            set.spawn(async move { post_with_key(&app, &key, "same-key", &body).await });
        }
        let responses = set.join_all().await;
        let mut ids = std::collections::HashSet::new();
        let mut replayed = 0;
        for res in &responses {
            res.assert_status(201);
            ids.insert(res.json["personalIdentity"]["id"].as_str().unwrap().to_owned());
            if res.header("idempotent-replayed") == Some("true") {
                replayed += 1;
            }
        }
        assert_eq!(ids.len(), 1, "several identities were created: {ids:?}");
        assert_eq!(replayed, 19);
        assert_eq!(app.count_people(&key).await, 1);
    }

    async fn kyc_checks_are_idempotent_too(app) {
        let (_, key) = app.tenant_with_key("acme");
        let id = app.new_person(&key, &person_body(&unique_email())).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("{BASE}/personal-identities/{id}/kyc-checks");
        let first = app.call(Method::POST, &path).key(&key).header("idempotency-key", "check-1").send().await;
        first.assert_status(201);
        let again = app.call(Method::POST, &path).key(&key).header("idempotency-key", "check-1").send().await;
        again.assert_status(201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json["check"]["id"], first.json["check"]["id"]);
        let events = app.get_events(&key, &id).await;
        let checks = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "kyc_check_completed")
            .count();
        assert_eq!(checks, 2, "one check on create, one explicit: {}", events.text);
    }
}

#[tokio::test]
async fn malformed_keys_are_refused() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    for bad in ["x".repeat(256), "has space".to_owned()] {
        let res = post_with_key(&app, &key, &bad, &person_body(&unique_email())).await;
        assert_eq!(
            res.violations(),
            vec![("Idempotency-Key".to_owned(), "format".to_owned())]
        );
    }
    assert_eq!(app.count_people(&key).await, 0);
}
