//! Authentication and roles (SPEC §6): missing or unknown key `401 unauthorized`; a known key
//! of the wrong role `403 forbidden`; readonly keys read, integrator keys write, operator keys
//! run the review queue and nothing else.

use kyc_model::Role;
use kycd_tests::{
    BASE, Method, TestApp, data_url, document_png, full_person_body, person_body, unique_email,
    valid_ssn,
};
use serde_json::{Value, json};

/// The ids a route template can name.
struct Ids {
    person: String,
    container: String,
    document: String,
    business: String,
    review: String,
}

impl Ids {
    fn path(&self, template: &str) -> String {
        format!(
            "{BASE}{}",
            template
                .replace("{id}", &self.person)
                .replace("{container}", &self.container)
                .replace("{document}", &self.document)
                .replace("{business}", &self.business)
                .replace("{review}", &self.review)
        )
    }
}

/// Every route of an integrator's data: `(method, template, body)`.
fn tenant_routes(ids: &Ids) -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (
            Method::POST,
            "/identity-containers",
            Some(person_body(&unique_email())),
        ),
        (Method::GET, "/identity-containers/{container}", None),
        (Method::GET, "/personal-identities", None),
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
        (
            Method::POST,
            "/personal-identities/{id}/documents",
            Some(json!({ "documentType": "passport", "front": data_url(document_png()) })),
        ),
        (Method::GET, "/personal-identities/{id}/documents", None),
        (Method::GET, "/documents/{document}", None),
        (Method::GET, "/documents/{document}/presign-url", None),
        (
            Method::POST,
            "/sandbox/personal-identities/{id}/simulate",
            Some(json!({ "action": "approve" })),
        ),
        (
            Method::POST,
            "/business-identities",
            Some(json!({ "legalName": "Acme Inc", "identityOwner": ids.person })),
        ),
        (Method::GET, "/business-identities", None),
        (Method::GET, "/business-identities/{business}", None),
        (
            Method::PATCH,
            "/business-identities/{business}",
            Some(json!({ "legalName": "Acme Two Inc" })),
        ),
        (
            Method::PUT,
            "/kycs",
            Some(json!({ "userId": ids.person, "type": "full" })),
        ),
        (
            Method::PUT,
            "/webhook-config",
            Some(json!({ "url": "https://hooks.example.com/kyc" })),
        ),
        (Method::GET, "/webhook-config", None),
        (Method::GET, "/webhook-deliveries", None),
    ]
}

/// The compliance queue: operators only.
fn operator_routes() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/reviews", None),
        (Method::GET, "/reviews/{review}", None),
        (
            Method::POST,
            "/reviews/{review}/decision",
            Some(json!({ "decision": "approve" })),
        ),
    ]
}

/// A person with a document, a company and a webhook configuration, and a review item.
async fn fixtures(app: &TestApp, key: &str) -> Ids {
    let created = app
        .create_person(key, &full_person_body(&unique_email(), &valid_ssn()))
        .await;
    created.assert_status(201);
    let person = created.json["personalIdentity"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let container = created.json["id"].as_str().unwrap().to_owned();
    let document = app
        .upload_document_json(
            key,
            &person,
            &json!({ "documentType": "passport", "front": data_url(document_png()) }),
        )
        .await;
    document.assert_status(201);
    let business = app
        .create_business(
            key,
            &json!({
                "legalName": "Acme Widgets, Inc.",
                "email": unique_email(),
                "phone": "+12025550165",
                "address": { "street1": "1 Industrial Way", "city": "Dover", "state": "DE", "postalCode": "19901", "country": "US" },
                "taxId": "12-3456789",
                "formationRegion": "US-DE",
                "identityOwner": person
            }),
        )
        .await;
    business.assert_status(201);
    app.request(
        Method::PUT,
        &format!("{BASE}/webhook-config"),
        Some(key),
        Some(&json!({ "url": "https://hooks.example.com/kyc" })),
    )
    .await
    .assert_status(201);
    // The magic duplicate SSN goes to review at once.
    let queued = app
        .new_person(key, &full_person_body(&unique_email(), "222-22-2222"))
        .await;
    assert_eq!(queued["reviewStatus"], "pending");
    Ids {
        person,
        container,
        document: document.json["id"].as_str().unwrap().to_owned(),
        business: business.json["id"].as_str().unwrap().to_owned(),
        // Whatever the operator's queue holds first; a missing id still proves the role check
        // runs before the lookup.
        review: uuid::Uuid::new_v4().to_string(),
    }
}

both_backends! {
    async fn keys_and_roles_are_enforced_on_every_route(app) {
        let (tenant, key) = app.tenant_with_key("acme");
        let readonly = app.api_key(&tenant, Role::Readonly);
        let operator = app.api_key(&tenant, Role::Operator);
        let mut ids = fixtures(&app, &key).await;
        let queue = app.request(Method::GET, &format!("{BASE}/reviews"), Some(&operator), None).await;
        queue.assert_status(200);
        if let Some(first) = queue.json["data"].as_array().and_then(|d| d.first()) {
            ids.review = first["id"].as_str().unwrap().to_owned();
        }
        let before = app.get_person(&key, &ids.person).await;
        let wrong = format!("kycd_{}", "0".repeat(64));

        for (method, template, body) in tenant_routes(&ids).into_iter().chain(operator_routes()) {
            let path = ids.path(template);
            let operator_only = template.starts_with("/reviews");
            // No key, another scheme, an unknown key: 401.
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
            let as_operator = app.request(method.clone(), &path, Some(&operator), body.as_ref()).await;
            let as_readonly = app.request(method.clone(), &path, Some(&readonly), body.as_ref()).await;
            if operator_only {
                as_readonly.assert_error(403, "forbidden");
                app.request(method.clone(), &path, Some(&key), body.as_ref())
                    .await
                    .assert_error(403, "forbidden");
                assert!(![401, 403].contains(&as_operator.status), "{method} {template}: {}", as_operator.text);
            } else {
                as_operator.assert_error(403, "forbidden");
                if method == Method::GET {
                    assert_eq!(as_readonly.status, 200, "{method} {template}: {}", as_readonly.text);
                } else {
                    as_readonly.assert_error(403, "forbidden");
                }
            }
        }
        // Nothing the refused writers sent was applied.
        assert_eq!(app.count_people(&key).await, 2);
        assert_eq!(app.get_person(&readonly, &ids.person).await.json, before.json);
        assert_eq!(app.list_businesses(&key, "").await.json["meta"]["total"], 1);
        assert_eq!(app.list_documents(&key, &ids.person).await.json["data"].as_array().unwrap().len(), 1);
    }
}

/// A revoked key is refused.
#[tokio::test]
async fn a_revoked_key_is_unauthorized() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("acme");
    let key = app.api_key(&tenant, Role::Integrator);
    let other = app.api_key(&tenant, Role::Integrator);
    // Not used before the revocation: the server remembers keys it has seen for up to
    // `KeyCache::TTL` (30 s), a documented trade-off.
    let record = app
        .db
        .run(|conn| kyc_store::api_keys::authenticate(conn, &key))
        .unwrap()
        .unwrap();
    app.db
        .write(|conn| kyc_store::api_keys::revoke(conn, tenant.id, record.id))
        .unwrap();
    app.list_people(&key, "")
        .await
        .assert_error(401, "unauthorized");
    app.list_people(&other, "").await.assert_status(200);
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
    for bad in [
        key.to_uppercase(),
        key[..key.len() - 1].to_owned(),
        format!("{key}0"),
        format!("{key} {key}"),
    ] {
        app.call(Method::GET, &path)
            .header("authorization", &format!("Bearer {bad}"))
            .send()
            .await
            .assert_error(401, "unauthorized");
    }
}
