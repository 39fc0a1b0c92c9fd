//! Erasure (SPEC §6): `DELETE` removes every piece of PII, unrecoverably, leaving an audit
//! tombstone; the trail stays readable and ends with `identity_erased`.

use kycd_tests::{
    BASE, Backend, Method, dashed_ssn, full_person_body, unique_email, unique_surname, valid_ssn,
};
use serde_json::json;

both_backends! {
    async fn erasure_removes_the_identity_and_keeps_a_tombstone(app) {
        let (_, key) = app.tenant_with_key("acme");
        let email = unique_email();
        let surname = unique_surname();
        let ssn = valid_ssn();
        let mut body = full_person_body(&email, &ssn);
        body["lastName"] = json!(surname);
        body["dateOfBirth"] = json!("1971-08-13");
        let created = app.create_person(&key, &body).await;
        created.assert_status(201);
        let person = &created.json["personalIdentity"];
        assert_eq!(person["kycLevel"], "L1", "{person}");
        let id = person["id"].as_str().unwrap().to_owned();
        let container = created.json["id"].as_str().unwrap().to_owned();
        app.patch_person(&key, &id, &json!({ "dueDiligence": { "occupation": "Geologist" } }))
            .await
            .assert_status(200);

        // On SQLite the scan must see plaintext it is allowed to see before the erasure, or a
        // clean result afterwards would prove nothing.
        if app.backend == Backend::Sqlite {
            assert!(!app.files_containing(&email).is_empty(), "the raw scan does not see the email");
            assert!(!app.files_containing(&surname).is_empty(), "the raw scan does not see the name");
        }

        // `If-Match` makes the erasure conditional: a stale ETag erases nothing.
        let current = app.get_person(&key, &id).await;
        let etag = current.header("etag").unwrap().to_owned();
        let stale = format!("\"v{}\"", current.json["version"].as_i64().unwrap() - 1);
        let refused = app
            .call(Method::DELETE, &format!("{BASE}/personal-identities/{id}"))
            .key(&key)
            .header("if-match", &stale)
            .send()
            .await;
        refused.assert_error(412, "version_conflict");
        // `If-Match` compares strongly: a weak tag never matches.
        let weak = app
            .call(Method::DELETE, &format!("{BASE}/personal-identities/{id}"))
            .key(&key)
            .header("if-match", &format!("W/{etag}"))
            .send()
            .await;
        weak.assert_error(412, "version_conflict");
        assert_eq!(app.get_person(&key, &id).await.json, current.json);

        let erased = app
            .call(Method::DELETE, &format!("{BASE}/personal-identities/{id}"))
            .key(&key)
            .header("if-match", &etag)
            .send()
            .await;
        erased.assert_status(204);
        assert!(erased.text.is_empty(), "{}", erased.text);
        assert!(!erased.request_id().is_empty());

        app.get_person(&key, &id).await.assert_error(404, "identity_not_found");
        app.patch_person(&key, &id, &json!({ "middleName": "Third" }))
            .await
            .assert_error(404, "identity_not_found");
        app.get_kyc(&key, &id).await.assert_error(404, "identity_not_found");
        app.get_eligibility(&key, &id).await.assert_error(404, "identity_not_found");
        app.run_check(&key, &id).await.assert_error(404, "identity_not_found");
        app.delete_person(&key, &id).await.assert_error(404, "identity_not_found");
        assert_eq!(app.count_people(&key).await, 0);
        let by_email = app.list_people(&key, &format!("filter[email]={email}")).await;
        assert_eq!(by_email.json["meta"]["total"], 0);

        // The trail is still there, without a single value.
        let events = app.get_events(&key, &id).await;
        events.assert_status(200);
        let actions: Vec<&str> = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions.first(), Some(&"identity_created"), "{actions:?}");
        assert_eq!(actions.last(), Some(&"identity_erased"), "{actions:?}");
        assert!(actions.contains(&"identity_updated"), "{actions:?}");
        for secret in [email.as_str(), surname.as_str(), ssn.as_str(), "1971-08-13", "Geologist"] {
            assert!(!events.text.contains(secret), "the trail holds a value");
        }
        // The trail pages like the other lists, and bad paging is named in full.
        let page = app.request(Method::GET, &format!("{BASE}/personal-identities/{id}/events?page[size]=1&page[number]=2"), Some(&key), None).await;
        assert_eq!(page.json["data"][0], events.json["data"][1], "{}", page.text);
        assert_eq!(page.json["meta"]["total"], actions.len());
        let bad = app.request(Method::GET, &format!("{BASE}/personal-identities/{id}/events?foo=1&page[size]=0"), Some(&key), None).await;
        assert_eq!(bad.violations(), kycd_tests::violations(&[("foo", "unknown_parameter"), ("page[size]", "range")]));

        // Whatever the container answers now, it holds none of the person's data.
        let container = app.get_container(&key, &container).await;
        assert!(!container.text.contains(&email) && !container.text.contains(&surname), "{}", container.text);

        // Removed means unrecoverable from the data directory: no file holds a value.
        if app.backend == Backend::Sqlite {
            for secret in [
                email.clone(),
                surname.clone(),
                ssn.clone(),
                dashed_ssn(&ssn),
                "1971-08-13".to_owned(),
                "Geologist".to_owned(),
            ] {
                let files = app.files_containing(&secret);
                assert!(files.is_empty(), "an erased value survives in {files:?}");
            }
        }

        // The address is free again.
        app.new_person(&key, &full_person_body(&email, &valid_ssn())).await;
    }
}

/// Erasing leaves the tenant's other identities alone.
#[tokio::test]
async fn erasure_touches_only_its_identity() {
    let app = kycd_tests::TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let keep = app
        .new_person(&key, &full_person_body(&unique_email(), &valid_ssn()))
        .await;
    let gone = app
        .new_person(&key, &full_person_body(&unique_email(), &valid_ssn()))
        .await;
    app.delete_person(&key, gone["id"].as_str().unwrap())
        .await
        .assert_status(204);
    let read = app.get_person(&key, keep["id"].as_str().unwrap()).await;
    read.assert_status(200);
    assert_eq!(read.json, keep);
    assert_eq!(app.count_people(&key).await, 1);
}
