//! Sandbox mode (SPEC §7, docs/tier-policy.md): the simulate route and the magic values force
//! outcomes deterministically; in production the sandbox routes are 404.

use kycd_tests::{
    Backend, Method, Options, TestApp, full_person_body, person_body, unique_email, valid_ssn,
};
use serde_json::{Value, json};

fn reasons(kyc: &Value) -> Vec<String> {
    kyc["processes"]
        .as_object()
        .unwrap_or_else(|| panic!("no processes in {kyc}"))
        .values()
        .filter_map(|p| p["reason"].as_str().map(str::to_owned))
        .collect()
}

both_backends! {
    async fn simulate_forces_approval_and_rejection(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &person_body(&unique_email())).await;
        let id = person["id"].as_str().unwrap();
        let approved = app.simulate(&key, id, &json!({ "action": "approve" })).await;
        approved.assert_status(200);
        assert_eq!(approved.json["kycLevel"], "L2", "{}", approved.text);
        assert_eq!(approved.json["id"], person["id"]);
        assert_eq!(app.get_person(&key, id).await.json["kycLevel"], "L2");

        let other = app.new_person(&key, &full_person_body(&unique_email(), &valid_ssn())).await;
        let other_id = other["id"].as_str().unwrap();
        // `decision` names the outcome too, as on the review route.
        let rejected = app.simulate(&key, other_id, &json!({ "decision": "reject" })).await;
        rejected.assert_status(200);
        assert_eq!(rejected.json["kycLevel"], "L0", "{}", rejected.text);
        let eligibility = app.get_eligibility(&key, other_id).await;
        for product in eligibility.json["eligibility"].as_array().unwrap() {
            assert_eq!(product["status"], "rejected", "{product}");
        }

        for (body, expected) in [
            (json!({}), vec![("action", "required")]),
            (json!({ "action": "bless" }), vec![("action", "enum")]),
            (json!({ "action": "approve", "level": "L7" }), vec![("level", "enum")]),
            (json!({ "action": "reject", "level": "L2" }), vec![("level", "not_allowed")]),
            (json!({ "action": "approve", "why": "x" }), vec![("why", "unknown_field")]),
            (json!({ "decision": "bless" }), vec![("decision", "enum")]),
            (json!({ "action": "approve", "decision": "approve" }), vec![("decision", "duplicate")]),
        ] {
            let res = app.simulate(&key, id, &body).await;
            let want: Vec<(String, String)> = expected.iter().map(|(f, r)| ((*f).to_owned(), (*r).to_owned())).collect();
            assert_eq!(res.violations(), want, "{body}");
        }
        let missing = uuid::Uuid::new_v4().to_string();
        app.simulate(&key, &missing, &json!({ "action": "approve" }))
            .await
            .assert_error(404, "identity_not_found");
    }

    /// Each magic value makes exactly its requirement invalid, with its reason.
    async fn magic_values_force_each_outcome(app) {
        let (_, key) = app.tenant_with_key("acme");
        let cases = [
            ("phone", json!("+12025550000"), "Phone is invalid", "data-mismatch"),
            ("lastName", json!("Reject"), "Name is invalid", "data-mismatch"),
            ("ssn", json!("111-11-1111"), "Ssn is invalid", "fraud"),
            ("ssn", json!("333-33-3333"), "Ssn is invalid", "data-mismatch"),
            ("dateOfBirth", json!("1900-01-01"), "DateOfBirth is invalid", "data-mismatch"),
            ("dateOfBirth", json!("2010-01-01"), "DateOfBirth is invalid", "underage"),
        ];
        for (field, value, requirement, reason) in cases {
            let mut body = full_person_body(&unique_email(), &valid_ssn());
            body[field] = value.clone();
            let person = app.new_person(&key, &body).await;
            assert_eq!(person["kycLevel"], "L0", "{field}={value}: {person}");
            assert_eq!(person["upgradeRequirements"], json!([requirement]), "{field}={value}");
            let kyc = app.get_kyc(&key, person["id"].as_str().unwrap()).await;
            kyc.assert_status(200);
            assert_eq!(reasons(&kyc.json), vec![reason.to_owned()], "{field}={value}: {}", kyc.text);
        }
        let mut body = full_person_body(&unique_email(), &valid_ssn());
        body["address"]["street1"] = json!("1 reject street");
        let person = app.new_person(&key, &body).await;
        assert_eq!(person["upgradeRequirements"], json!(["Address is invalid"]));
    }

    /// A simulated decision has the effects of a reviewer's: the audit entry names the
    /// `reviewStatus` it changed, and `identity.updated` announces it (docs/webhooks.md).
    async fn a_simulated_decision_is_audited_and_announced(app) {
        let receiver = kycd_tests::WebhookReceiver::start(200);
        let (_, key) = app.tenant_with_key("acme");
        app.request(Method::PUT, &format!("{}/webhook-config", kycd_tests::BASE), Some(&key), Some(&json!({ "url": receiver.url })))
            .await
            .assert_status(201);
        let person = app.new_person(&key, &full_person_body(&unique_email(), "222-22-2222")).await;
        assert_eq!(person["reviewStatus"], "pending", "{person}");
        let id = person["id"].as_str().unwrap();
        let approved = app.simulate(&key, id, &json!({ "action": "approve", "level": "L1" })).await;
        approved.assert_status(200);
        assert_eq!(approved.json["reviewStatus"], "approved", "{}", approved.text);

        let events = app.get_events(&key, id).await;
        let decided = events.json["data"].as_array().unwrap().iter().find(|e| e["action"] == "review_decided").cloned();
        assert_eq!(decided.map(|e| e["fields"].clone()), Some(json!(["reviewStatus"])), "{}", events.text);
        let update = receiver
            .wait_for(std::time::Duration::from_secs(20), |r| {
                r.json()["type"] == "identity.updated" && r.json()["data"]["reviewStatus"] == "approved"
            })
            .await;
        let data = &update.json()["data"];
        assert_eq!(data["identityId"], json!(id));
        assert_eq!(data["changedFields"], json!(["reviewStatus"]));
        assert!(data["reviewId"].is_string(), "{data}");
    }

    /// SPEC §4: the same SSN twice in one tenant is `duplicate` and goes to review at once;
    /// another tenant is unaffected.
    async fn a_duplicate_ssn_goes_to_review(app) {
        let (_, key) = app.tenant_with_key("acme");
        let (_, key_b) = app.tenant_with_key("other");
        let ssn = valid_ssn();
        let first = app.new_person(&key, &full_person_body(&unique_email(), &ssn)).await;
        assert_eq!(first["kycLevel"], "L1");
        let second = app.new_person(&key, &full_person_body(&unique_email(), &kycd_tests::dashed_ssn(&ssn))).await;
        assert_eq!(second["kycLevel"], "L0", "{second}");
        assert_eq!(second["upgradeRequirements"], json!(["Ssn is invalid"]));
        assert_eq!(second["reviewStatus"], "pending", "{second}");
        let kyc = app.get_kyc(&key, second["id"].as_str().unwrap()).await;
        assert!(reasons(&kyc.json).contains(&"duplicate".to_owned()), "{}", kyc.text);
        let elsewhere = app.new_person(&key_b, &full_person_body(&unique_email(), &ssn)).await;
        assert_eq!(elsewhere["kycLevel"], "L1", "{elsewhere}");
        assert_eq!(elsewhere["reviewStatus"], "none");
        // The magic duplicate needs no first holder.
        let magic = app.new_person(&key, &full_person_body(&unique_email(), "222-22-2222")).await;
        assert_eq!(magic["reviewStatus"], "pending", "{magic}");
    }
}

#[tokio::test]
async fn production_mode_hides_the_sandbox() {
    let options = Options {
        mode: kycd::cli::Mode::Production,
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let (_, key) = app.tenant_with_key("acme");
    // Production has no bootstrap tenant.
    let tenants = app.db.run(kyc_store::tenants::list).unwrap();
    assert_eq!(tenants.len(), 1);
    let person = app
        .new_person(&key, &full_person_body(&unique_email(), &valid_ssn()))
        .await;
    assert_eq!(person["kycLevel"], "L1", "{person}");
    let id = person["id"].as_str().unwrap();
    app.simulate(&key, id, &json!({ "action": "approve" }))
        .await
        .assert_error(404, "not_found");
    assert_eq!(app.get_person(&key, id).await.json["kycLevel"], "L1");
    // Nor does the served OpenAPI document list them.
    let doc = app.request(Method::GET, "/openapi.json", None, None).await;
    doc.assert_status(200);
    assert!(doc.json["paths"].as_object().is_some_and(|p| !p.is_empty()));
    assert!(
        !doc.text.contains("/sandbox/"),
        "production lists a sandbox route"
    );
    // Magic values are ordinary data in production: 111-11-1111 fails the SSN rules on its
    // own merits, not as fraud by fiat.
    let mut body = full_person_body(&unique_email(), "111-11-1111");
    body["lastName"] = json!("Reject");
    let person = app.new_person(&key, &body).await;
    assert_eq!(person["upgradeRequirements"], json!([]), "{person}");
}
