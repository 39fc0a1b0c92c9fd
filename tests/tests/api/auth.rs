//! Authentication and roles (SPEC §6): missing or unknown key `401 unauthorized`; a known key
//! of the wrong role `403 forbidden`; readonly keys read, integrator keys write, operator keys
//! do neither on identity routes.

use kyc_model::Role;
use kycd_tests::{BASE, Method, TestApp, person_body, unique_email};
use serde_json::json;

/// Every identity route: `(method, path)` with `{id}` and `{container}` placeholders.
fn identity_routes() -> Vec<(Method, &'static str)> {
    vec![
        (Method::POST, "/identity-containers"),
        (Method::GET, "/identity-containers/{container}"),
        (Method::GET, "/personal-identities"),
        (Method::GET, "/personal-identities/{id}"),
        (Method::PATCH, "/personal-identities/{id}"),
        (Method::DELETE, "/personal-identities/{id}"),
        (Method::GET, "/personal-identities/{id}/kyc"),
        (Method::GET, "/personal-identities/{id}/eligibility"),
        (Method::GET, "/personal-identities/{id}/events"),
        (Method::POST, "/personal-identities/{id}/kyc-checks"),
    ]
}

fn body_for(method: &Method) -> Option<serde_json::Value> {
    match *method {
        Method::POST => Some(person_body(&unique_email())),
        Method::PATCH => Some(json!({ "middleName": "Third" })),
        _ => None,
    }
}

both_backends! {
    async fn keys_and_roles_are_enforced_on_every_route(app) {
        let (tenant, key) = app.tenant_with_key("acme");
        let readonly = app.api_key(&tenant, Role::Readonly);
        let operator = app.api_key(&tenant, Role::Operator);
        let created = app.create_person(&key, &person_body(&unique_email())).await;
        created.assert_status(201);
        let id = created.json["personalIdentity"]["id"].as_str().unwrap().to_owned();
        let container = created.json["id"].as_str().unwrap().to_owned();
        let wrong = format!("kycd_{}", "0".repeat(64));

        for (method, template) in identity_routes() {
            let path = format!("{BASE}{}", template.replace("{id}", &id).replace("{container}", &container));
            let body = body_for(&method);
            // No key, a malformed header, an unknown key: 401.
            app.request(method.clone(), &path, None, body.as_ref())
                .await
                .assert_error(401, "unauthorized");
            app.call(method.clone(), &path)
                .header("authorization", &format!("Basic {key}"))
                .send()
                .await
                .assert_error(401, "unauthorized");
            app.request(method.clone(), &path, Some(&wrong), body.as_ref())
                .await
                .assert_error(401, "unauthorized");
            // Operators run the review queue, not the tenant's identities.
            app.request(method.clone(), &path, Some(&operator), body.as_ref())
                .await
                .assert_error(403, "forbidden");
            let as_readonly = app.request(method.clone(), &path, Some(&readonly), body.as_ref()).await;
            if method == Method::GET {
                as_readonly.assert_status(200);
            } else {
                as_readonly.assert_error(403, "forbidden");
            }
        }
        // Nothing the refused writers sent was applied.
        assert_eq!(app.count_people(&key).await, 1);
        let person = app.get_person(&readonly, &id).await;
        person.assert_status(200);
        assert_eq!(person.json, created.json["personalIdentity"]);
    }
}

#[tokio::test]
async fn a_revoked_key_is_unauthorized() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("acme");
    let key = app.api_key(&tenant, Role::Integrator);
    app.list_people(&key, "").await.assert_status(200);
    let keys = app
        .db
        .run(|conn| kyc_store::api_keys::list(conn, tenant.id))
        .unwrap();
    for k in keys {
        app.db
            .write(|conn| kyc_store::api_keys::revoke(conn, tenant.id, k.id))
            .unwrap();
    }
    app.list_people(&key, "")
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn the_scheme_is_case_insensitive_but_the_key_is_exact() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let path = format!("{BASE}/personal-identities");
    app.call(Method::GET, &path)
        .header("authorization", &format!("bearer {key}"))
        .send()
        .await
        .assert_status(200);
    app.call(Method::GET, &path)
        .header("authorization", &format!("Bearer {}", key.to_uppercase()))
        .send()
        .await
        .assert_error(401, "unauthorized");
    app.call(Method::GET, &path)
        .header(
            "authorization",
            &format!("Bearer {}", &key[..key.len() - 1]),
        )
        .send()
        .await
        .assert_error(401, "unauthorized");
}
