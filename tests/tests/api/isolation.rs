//! Tenant isolation (SPEC §6): another tenant's object is `404` with the very answer a missing
//! one gets, on every route; lists never show another tenant's rows.

use kycd_tests::{
    BASE, Method, data_url, document_png, full_person_body, person_body, unique_email, valid_ssn,
};
use serde_json::{Value, json};

/// Every route that names an object: `(method, template, body, expected code)`.
fn routes_with_ids() -> Vec<(Method, &'static str, Option<Value>, &'static str)> {
    let passport = json!({ "documentType": "passport", "front": data_url(document_png()) });
    vec![
        (
            Method::GET,
            "/identity-containers/{container}",
            None,
            "container_not_found",
        ),
        (
            Method::GET,
            "/personal-identities/{id}",
            None,
            "identity_not_found",
        ),
        (
            Method::PATCH,
            "/personal-identities/{id}",
            Some(json!({ "middleName": "Third" })),
            "identity_not_found",
        ),
        (
            Method::DELETE,
            "/personal-identities/{id}",
            None,
            "identity_not_found",
        ),
        (
            Method::GET,
            "/personal-identities/{id}/kyc",
            None,
            "identity_not_found",
        ),
        (
            Method::GET,
            "/personal-identities/{id}/eligibility",
            None,
            "identity_not_found",
        ),
        (
            Method::GET,
            "/personal-identities/{id}/events",
            None,
            "identity_not_found",
        ),
        (
            Method::POST,
            "/personal-identities/{id}/kyc-checks",
            None,
            "identity_not_found",
        ),
        (
            Method::GET,
            "/personal-identities/{id}/documents",
            None,
            "identity_not_found",
        ),
        (
            Method::POST,
            "/personal-identities/{id}/documents",
            Some(passport),
            "identity_not_found",
        ),
        (
            Method::POST,
            "/sandbox/personal-identities/{id}/simulate",
            Some(json!({ "action": "approve" })),
            "identity_not_found",
        ),
        (
            Method::GET,
            "/documents/{document}",
            None,
            "document_not_found",
        ),
        (
            Method::GET,
            "/documents/{document}/presign-url",
            None,
            "document_not_found",
        ),
        (
            Method::GET,
            "/business-identities/{business}",
            None,
            "identity_not_found",
        ),
        (
            Method::PATCH,
            "/business-identities/{business}",
            Some(json!({ "legalName": "Hijack Ltd" })),
            "identity_not_found",
        ),
    ]
}

fn fill(template: &str, person: &str, container: &str, document: &str, business: &str) -> String {
    format!(
        "{BASE}{}",
        template
            .replace("{id}", person)
            .replace("{container}", container)
            .replace("{document}", document)
            .replace("{business}", business)
    )
}

both_backends! {
    async fn another_tenants_ids_are_not_found(app) {
        let (_, key_a) = app.tenant_with_key("tenant-a");
        let (_, key_b) = app.tenant_with_key("tenant-b");
        let created = app.create_person(&key_a, &full_person_body(&unique_email(), &valid_ssn())).await;
        created.assert_status(201);
        let id = created.json["personalIdentity"]["id"].as_str().unwrap().to_owned();
        let container = created.json["id"].as_str().unwrap().to_owned();
        let doc = app
            .upload_document_json(&key_a, &id, &json!({ "documentType": "passport", "front": data_url(document_png()) }))
            .await;
        doc.assert_status(201);
        let document = doc.json["id"].as_str().unwrap().to_owned();
        let company = app
            .create_business(
                &key_a,
                &json!({
                    "legalName": "Acme Widgets, Inc.",
                    "email": unique_email(),
                    "phone": "+12025550165",
                    "address": { "street1": "1 Industrial Way", "city": "Dover", "state": "DE", "postalCode": "19901", "country": "US" },
                    "taxId": "12-3456789",
                    "formationRegion": "US-DE",
                    "identityOwner": id
                }),
            )
            .await;
        company.assert_status(201);
        let business = company.json["id"].as_str().unwrap().to_owned();
        let before = app.get_person(&key_a, &id).await;
        let missing = uuid::Uuid::new_v4().to_string();

        for (method, template, body, expected) in routes_with_ids() {
            let foreign = fill(template, &id, &container, &document, &business);
            let absent = fill(template, &missing, &missing, &missing, &missing);
            let as_b = app.request(method.clone(), &foreign, Some(&key_b), body.as_ref()).await;
            let not_there = app.request(method.clone(), &absent, Some(&key_b), body.as_ref()).await;
            let foreign_error = as_b.assert_error(404, expected);
            let missing_error = not_there.assert_error(404, expected);
            // Same code and message: nothing tells "exists elsewhere" from "does not exist".
            assert_eq!(foreign_error["message"], missing_error["message"], "{method} {template}");
            assert_eq!(as_b.headers.get("etag"), None, "{method} {template}");
        }
        // A session for another tenant's person, a company owned by one.
        app.start_session(&key_b, &json!({ "userId": id, "type": "full" }))
            .await
            .assert_error(404, "identity_not_found");

        // Tenant A's data is untouched: not patched, erased, approved, re-checked or uploaded to.
        let read = app.get_person(&key_a, &id).await;
        read.assert_status(200);
        assert_eq!(read.json, before.json);
        assert_eq!(app.list_documents(&key_a, &id).await.json["data"].as_array().unwrap().len(), 1);
        assert_eq!(app.get_business(&key_a, &business).await.json, company.json);
        let events = app.get_events(&key_a, &id).await;
        let actions: Vec<&str> = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for foreign_action in ["identity_updated", "identity_erased", "kyc_session_started", "review_decided"] {
            assert!(!actions.contains(&foreign_action), "{actions:?}");
        }
        assert_eq!(actions.iter().filter(|a| **a == "kyc_check_completed").count(), 1, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| **a == "document_uploaded").count(), 1, "{actions:?}");

        // After an erasure, the tombstone trail stays the owner's alone.
        app.delete_person(&key_a, &id).await.assert_status(204);
        app.get_events(&key_a, &id).await.assert_status(200);
        app.get_events(&key_b, &id).await.assert_error(404, "identity_not_found");
    }

    async fn lists_only_show_the_callers_tenant(app) {
        let (_, key_a) = app.tenant_with_key("tenant-a");
        let (_, key_b) = app.tenant_with_key("tenant-b");
        let shared_email = unique_email();
        let a1 = app.new_person(&key_a, &person_body(&shared_email)).await;
        let a2 = app.new_person(&key_a, &person_body(&unique_email())).await;
        let b1 = app.new_person(&key_b, &person_body(&shared_email)).await;

        let ids = |res: &kycd_tests::TestResponse| -> Vec<String> {
            res.json["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let list_a = app.list_people(&key_a, "all=true").await;
        list_a.assert_status(200);
        let mut got = ids(&list_a);
        got.sort();
        let mut want = vec![a1["id"].as_str().unwrap().to_owned(), a2["id"].as_str().unwrap().to_owned()];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(list_a.json["meta"]["total"], 2);

        let list_b = app.list_people(&key_b, "").await;
        assert_eq!(ids(&list_b), vec![b1["id"].as_str().unwrap().to_owned()]);
        assert_eq!(list_b.json["meta"]["total"], 1);

        // Filters cannot reach across either: not by email, not by id, not by container.
        let by_email = app
            .list_people(&key_b, &format!("filter[email]={shared_email}"))
            .await;
        assert_eq!(ids(&by_email), vec![b1["id"].as_str().unwrap().to_owned()]);
        for query in [
            format!("filter[id]={}", a1["id"].as_str().unwrap()),
            format!("filter[containerId]={}", a1["containerId"].as_str().unwrap()),
            format!("filter[id]=in:{},{}", a1["id"].as_str().unwrap(), a2["id"].as_str().unwrap()),
        ] {
            let res = app.list_people(&key_b, &query).await;
            res.assert_status(200);
            assert_eq!(ids(&res), Vec::<String>::new(), "{query}");
            assert_eq!(res.json["meta"]["total"], 0, "{query}");
        }

        // Webhook configurations are per tenant too.
        app.request(Method::PUT, &format!("{BASE}/webhook-config"), Some(&key_a), Some(&json!({ "url": "https://a.example.com/hooks" })))
            .await
            .assert_status(201);
        app.request(Method::GET, &format!("{BASE}/webhook-config"), Some(&key_b), None)
            .await
            .assert_error(404, "webhook_config_not_found");
        let deliveries = app.request(Method::GET, &format!("{BASE}/webhook-deliveries"), Some(&key_b), None).await;
        deliveries.assert_status(200);
        assert!(!deliveries.text.contains("a.example.com"), "{}", deliveries.text);
    }
}
