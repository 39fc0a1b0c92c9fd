//! Tenant isolation (SPEC §6): another tenant's object is `404` with the very answer a missing
//! one gets, on every route; lists never show another tenant's rows.

use kycd_tests::{BASE, Method, person_body, unique_email};
use serde_json::{Value, json};

/// Every route that takes an id: `(method, path template, body)`.
fn routes_with_ids() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/identity-containers/{container}", None),
        (Method::GET, "/personal-identities/{id}", None),
        (
            Method::PATCH,
            "/personal-identities/{id}",
            Some(json!({ "middleName": "Third" })),
        ),
        (Method::DELETE, "/personal-identities/{id}", None),
        (Method::GET, "/personal-identities/{id}/kyc", None),
        (Method::GET, "/personal-identities/{id}/eligibility", None),
        (Method::GET, "/personal-identities/{id}/events", None),
        (Method::POST, "/personal-identities/{id}/kyc-checks", None),
    ]
}

both_backends! {
    async fn another_tenants_ids_are_not_found(app) {
        let (_, key_a) = app.tenant_with_key("tenant-a");
        let (_, key_b) = app.tenant_with_key("tenant-b");
        let created = app.create_person(&key_a, &person_body(&unique_email())).await;
        created.assert_status(201);
        let id = created.json["personalIdentity"]["id"].as_str().unwrap().to_owned();
        let container = created.json["id"].as_str().unwrap().to_owned();
        let missing = uuid::Uuid::new_v4().to_string();

        for (method, template, body) in routes_with_ids() {
            let foreign = format!("{BASE}{}", template.replace("{id}", &id).replace("{container}", &container));
            let absent = format!("{BASE}{}", template.replace("{id}", &missing).replace("{container}", &missing));
            let as_b = app.request(method.clone(), &foreign, Some(&key_b), body.as_ref()).await;
            let not_there = app.request(method.clone(), &absent, Some(&key_b), body.as_ref()).await;
            let expected = if template.starts_with("/identity-containers") {
                "container_not_found"
            } else {
                "identity_not_found"
            };
            let foreign_error = as_b.assert_error(404, expected);
            let missing_error = not_there.assert_error(404, expected);
            // Same code and message: nothing tells "exists elsewhere" from "does not exist".
            assert_eq!(foreign_error["message"], missing_error["message"], "{method} {template}");
            assert_eq!(as_b.headers.get("etag"), None, "{method} {template}");
        }

        // Tenant A's identity is untouched: not patched, not erased, no check run by B.
        let read = app.get_person(&key_a, &id).await;
        read.assert_status(200);
        assert_eq!(read.json, created.json["personalIdentity"]);
        let events = app.get_events(&key_a, &id).await;
        let actions: Vec<&str> = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            !actions.iter().any(|a| ["identity_updated", "identity_erased"].contains(a)),
            "{actions:?}"
        );
        let checks = actions.iter().filter(|a| **a == "kyc_check_completed").count();
        assert_eq!(checks, 1, "{actions:?}");
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
    }
}
