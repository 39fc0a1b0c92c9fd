//! The compliance review queue (SPEC §4, §6): what lands in it, what an operator sees, and what
//! each decision does to the identity, its documents and its audit trail.

use kyc_model::Role;
use kycd_tests::{
    BASE, Method, TestApp, TestResponse, data_url, document_png, full_person_body, person_body,
    unique_email, valid_ssn,
};
use serde_json::{Value, json};

/// An integrator key, an operator key (of its own tenant) and the integrator's tenant id.
fn keys(app: &TestApp) -> (String, String, String) {
    let (tenant, key) = app.tenant_with_key("acme");
    let ops = app.create_tenant("compliance");
    (
        key,
        app.api_key(&ops, Role::Operator),
        tenant.id.to_string(),
    )
}

async fn list(app: &TestApp, key: &str, query: &str) -> TestResponse {
    app.request(
        Method::GET,
        &format!("{BASE}/reviews?{query}"),
        Some(key),
        None,
    )
    .await
}

async fn decide(app: &TestApp, key: &str, review: &str, body: &Value) -> TestResponse {
    app.request(
        Method::POST,
        &format!("{BASE}/reviews/{review}/decision"),
        Some(key),
        Some(body),
    )
    .await
}

/// A person whose two KYC attempts failed (SSN `333-33-3333`, the sandbox's data mismatch):
/// in the queue. Returns the identity id.
async fn failed_twice(app: &TestApp, key: &str) -> String {
    let person = app
        .new_person(key, &full_person_body(&unique_email(), "333333333"))
        .await;
    let id = person["id"].as_str().unwrap().to_owned();
    assert_eq!(
        person["reviewStatus"], "none",
        "one failed attempt is not enough"
    );
    app.run_check(key, &id).await.assert_status(201);
    let now = app.get_person(key, &id).await;
    assert_eq!(now.json["reviewStatus"], "pending");
    id
}

/// The pending item of an identity, from the operator's queue.
async fn item_for(app: &TestApp, operator: &str, query: &str, identity: &str) -> Value {
    let res = list(app, operator, query).await;
    res.assert_status(200);
    res.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["identityId"] == identity)
        .unwrap_or_else(|| panic!("{identity} is not in the queue: {}", res.text))
        .clone()
}

both_backends! {
    /// A duplicate SSN sends an international identity to review too, though its ladder does
    /// not use the SSN and so no process fails: the queue still says why.
    async fn an_international_duplicate_is_queued_as_a_duplicate(app) {
        let (key, operator, _) = keys(&app);
        let mut body = person_body(&unique_email());
        body["phone"] = json!("+447911123456");
        body["address"] = json!({ "street1": "1 High Street", "city": "Manchester", "postalCode": "M4 1AA", "country": "GB" });
        body["ssn"] = json!("222-22-2222");
        let person = app.new_person(&key, &body).await;
        assert_eq!(person["reviewStatus"], "pending", "{person}");
        let item = item_for(&app, &operator, "kind=identity", person["id"].as_str().unwrap()).await;
        assert_eq!(item["reason"], "duplicate", "{item}");
    }
}

both_backends! {
    /// Two failed KYC attempts: the identity is queued with what a reviewer needs (no SSN);
    /// an approval at L1 lifts it to L1, is audited, and cannot be made twice.
    async fn identity_review_approved_at_l1(app) {
        let (key, operator, tenant) = keys(&app);
        let id = failed_twice(&app, &key).await;
        let person = app.get_person(&key, &id).await.json;
        assert_eq!(person["kycLevel"], "L0");

        let item = item_for(&app, &operator, "kind=identity", &id).await;
        assert_eq!(item["kind"], "identity");
        assert_eq!(item["status"], "pending");
        assert_eq!(item["tenantId"], tenant);
        assert_eq!(item["tenantName"], "acme");
        assert_eq!(item["reason"], "data-mismatch");
        let subject = &item["subject"];
        // SPEC §2: the SSN is write-only, for reviewers too; not even its last digits.
        assert!(subject["identity"].get("ssn").is_none(), "{}", subject["identity"]);
        assert!(!item.to_string().contains("**-"), "{item}");
        assert_eq!(subject["identity"]["ssnProvided"], true);
        assert_eq!(subject["identity"]["email"], person["email"]);
        assert_eq!(subject["identity"]["dateOfBirth"], "1995-04-25");
        assert_eq!(subject["identity"]["address"]["postalCode"], "46173");
        assert_eq!(subject["failedAttempts"], 2);
        assert_eq!(subject["latestCheck"]["outcomes"]["ssn"]["outcome"], "failed");
        assert_eq!(subject["latestCheck"]["outcomes"]["ssn"]["reason"], "data-mismatch");
        assert_eq!(subject["processes"]["taxDetails"]["status"], "failed");
        assert!(!item.to_string().contains("333333333") && !item.to_string().contains("333-33-3333"));
        let review = item["id"].as_str().unwrap().to_owned();

        // Only operators see or decide the queue.
        list(&app, &key, "").await.assert_error(403, "forbidden");
        decide(&app, &key, &review, &json!({ "decision": "reject", "reasonCode": "other" }))
            .await
            .assert_error(403, "forbidden");

        // The decision must fit: a level for an identity approval, a configured reason code.
        assert_eq!(
            decide(&app, &operator, &review, &json!({ "decision": "approve", "reasonCode": "documents_verified" })).await.violations(),
            kycd_tests::violations(&[("level", "required")])
        );
        assert_eq!(
            decide(&app, &operator, &review, &json!({ "decision": "approve", "level": "L1", "reasonCode": "looked_fine" })).await.violations(),
            kycd_tests::violations(&[("reasonCode", "enum")])
        );
        assert_eq!(
            decide(&app, &operator, &review, &json!({ "decision": "resubmit", "reasonCode": "other" })).await.violations(),
            kycd_tests::violations(&[("decision", "enum")])
        );

        let decided = decide(&app, &operator, &review, &json!({
            "decision": "approve", "level": "L1", "reasonCode": "data_verified_manually",
            "note": "SSN card checked on a video call",
        })).await;
        decided.assert_status(200);
        assert_eq!(decided.json["status"], "approved");
        assert_eq!(decided.json["decision"]["decision"], "approve");
        assert_eq!(decided.json["decision"]["level"], "L1");
        assert_eq!(decided.json["decision"]["reasonCode"], "data_verified_manually");
        assert_eq!(decided.json["decision"]["note"], "SSN card checked on a video call");
        assert_eq!(decided.json["decision"]["levelAtDecision"], "L0");
        assert_eq!(decided.json["subject"]["identity"]["kycLevel"], "L1");

        let person = app.get_person(&key, &id).await.json;
        assert_eq!(person["kycLevel"], "L1");
        assert_eq!(person["reviewStatus"], "approved");
        assert_eq!(person["identityConfirmed"], true);
        let events = app.get_events(&key, &id).await.json;
        let actions: Vec<&str> = events["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"review_required") && actions.contains(&"review_decided"), "{actions:?}");
        let level = events["data"].as_array().unwrap().iter().find(|e| e["action"] == "level_changed").unwrap();
        assert_eq!(level["levelChange"], json!({ "from": "L0", "to": "L1" }));
        assert!(!events.to_string().contains("video call"), "notes stay out of the audit trail");

        // Decided once: a second decision is a conflict, and the queue moves on.
        decide(&app, &operator, &review, &json!({ "decision": "reject", "reasonCode": "other" }))
            .await
            .assert_error(409, "review_already_decided");
        let pending = list(&app, &operator, "").await;
        assert!(!pending.text.contains(&review));
        let approved = item_for(&app, &operator, "status=approved", &id).await;
        assert_eq!(approved["decision"]["note"], "SSN card checked on a video call");
        app.request(Method::GET, &format!("{BASE}/reviews/{review}"), Some(&operator), None)
            .await
            .assert_status(200);
    }

    /// Two reviewers decide the same item at once: one wins, the other gets 409.
    async fn concurrent_decisions_one_wins(app) {
        let (key, operator, _) = keys(&app);
        let id = failed_twice(&app, &key).await;
        let review = item_for(&app, &operator, "", &id).await["id"].as_str().unwrap().to_owned();
        let approve = json!({ "decision": "approve", "level": "L1", "reasonCode": "documents_verified" });
        let reject = json!({ "decision": "reject", "reasonCode": "fraud_suspected" });
        let (a, b) = tokio::join!(
            decide(&app, &operator, &review, &approve),
            decide(&app, &operator, &review, &reject),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
        let loser = if a.status == 409 { &a } else { &b };
        loser.assert_error(409, "review_already_decided");
        let winner = if a.status == 200 { &a } else { &b };
        let person = app.get_person(&key, &id).await.json;
        let expected = if winner.json["decision"]["decision"] == "approve" { "approved" } else { "rejected" };
        assert_eq!(person["reviewStatus"], expected);
    }

    /// A document the verifier leaves to a person (sandbox last name `Manual`): queued with
    /// links to its images; approving it lifts the identity to L2.
    async fn document_review_approved_to_l2(app) {
        let (key, operator, _) = keys(&app);
        let mut body = full_person_body(&unique_email(), &valid_ssn());
        body["lastName"] = json!("Manual");
        let person = app.new_person(&key, &body).await;
        assert_eq!(person["kycLevel"], "L1");
        let id = person["id"].as_str().unwrap().to_owned();
        let upload = app
            .upload_document_json(&key, &id, &json!({ "documentType": "passport", "front": data_url(document_png()) }))
            .await;
        upload.assert_status(201);
        assert_eq!(upload.json["status"], "manualReviewNeeded");
        let document = upload.json["id"].as_str().unwrap().to_owned();

        let item = item_for(&app, &operator, "kind=document", &id).await;
        assert_eq!(item["documentId"], document);
        let subject = &item["subject"];
        assert_eq!(subject["document"]["id"], document);
        assert_eq!(subject["document"]["status"], "manualReviewNeeded");
        assert!(subject["document"]["checks"].as_array().is_some_and(|c| c.iter().any(|c| c["side"] == "front")));
        let image = app.get_url(subject["document"]["images"]["front"].as_str().unwrap()).await;
        image.assert_status(200);
        assert_eq!(image.header("content-type"), Some("image/png"));
        assert!(subject["document"]["images"].get("back").is_none(), "a passport without a back");
        let review = item["id"].as_str().unwrap().to_owned();

        // Identity-only parts of a decision do not fit a document.
        assert_eq!(
            decide(&app, &operator, &review, &json!({ "decision": "approve", "level": "L2", "reasonCode": "documents_verified" })).await.violations(),
            kycd_tests::violations(&[("level", "not_allowed")])
        );
        assert_eq!(
            decide(&app, &operator, &review, &json!({ "decision": "requestInformation", "reasonCode": "other", "missingDocuments": ["proofOfAddress"] })).await.violations(),
            kycd_tests::violations(&[("missingDocuments", "not_allowed")])
        );

        decide(&app, &operator, &review, &json!({ "decision": "approve", "reasonCode": "documents_verified" }))
            .await
            .assert_status(200);
        let person = app.get_person(&key, &id).await.json;
        assert_eq!(person["kycLevel"], "L2");
        assert_eq!(person["missingDocuments"], json!([]));
        let doc = app.get_document(&key, &document).await;
        assert_eq!(doc.json["status"], "approved");
        let events = app.get_events(&key, &id).await.json;
        assert!(events["data"].as_array().unwrap().iter().any(|e| e["action"] == "document_status_changed" && e["fields"] == json!(["status"])));
        decide(&app, &operator, &review, &json!({ "decision": "reject", "reasonCode": "other" }))
            .await
            .assert_error(409, "review_already_decided");
    }

    /// A rejected document records the reviewer's reason and counts toward the upload
    /// lockout; a resubmit asks for another photo.
    /// A decision's replayable answer holds the identity's data: erasing the identity deletes
    /// it, so a retry with the same `Idempotency-Key` runs again (and finds nothing) instead of
    /// returning the erased person.
    async fn erasure_deletes_a_decision_answer_kept_for_retries(app) {
        let (key, operator, _) = keys(&app);
        let mut body = full_person_body(&unique_email(), &valid_ssn());
        body["lastName"] = json!("Manual");
        let person = app.new_person(&key, &body).await;
        let id = person["id"].as_str().unwrap().to_owned();
        let upload = app
            .upload_document_json(&key, &id, &json!({ "documentType": "passport", "front": data_url(document_png()) }))
            .await;
        assert_eq!(upload.json["status"], "manualReviewNeeded", "{}", upload.text);
        let review = item_for(&app, &operator, "kind=document", &id).await["id"].as_str().unwrap().to_owned();
        let decide_once = || {
            app.call(Method::POST, &format!("{BASE}/reviews/{review}/decision"))
                .key(&operator)
                .header("idempotency-key", "decide-before-erasure")
                .json(&json!({ "decision": "approve", "reasonCode": "documents_verified" }))
                .send()
        };
        let decided = decide_once().await;
        decided.assert_status(200);
        assert!(decided.text.contains(body["email"].as_str().unwrap()), "the answer describes the person");
        assert_eq!(decide_once().await.text, decided.text, "a retry replays the answer");
        app.delete_person(&key, &id).await.assert_status(204);
        let after = decide_once().await;
        after.assert_error(404, "review_not_found");
        assert!(!after.text.contains(body["email"].as_str().unwrap()));
    }

    async fn document_review_rejected_or_resubmitted(app) {
        let (key, operator, _) = keys(&app);
        let mut body = full_person_body(&unique_email(), &valid_ssn());
        body["lastName"] = json!("Manual");
        let id = app.new_person(&key, &body).await["id"].as_str().unwrap().to_owned();
        let passport = json!({ "documentType": "passport", "front": data_url(document_png()) });
        let first = app.upload_document_json(&key, &id, &passport).await.json["id"].as_str().unwrap().to_owned();
        let review = item_for(&app, &operator, "kind=document", &id).await["id"].as_str().unwrap().to_owned();
        decide(&app, &operator, &review, &json!({ "decision": "resubmit", "reasonCode": "document_unreadable" }))
            .await
            .assert_status(200);
        assert_eq!(app.get_document(&key, &first).await.json["status"], "resubmit");

        let second = app.upload_document_json(&key, &id, &passport).await.json["id"].as_str().unwrap().to_owned();
        let review = item_for(&app, &operator, "kind=document", &id).await["id"].as_str().unwrap().to_owned();
        let rejected = decide(&app, &operator, &review, &json!({ "decision": "reject", "reasonCode": "document_expired" })).await;
        rejected.assert_status(200);
        assert_eq!(rejected.json["decision"]["reason"], "expired-document");
        let doc = app.get_document(&key, &second).await.json;
        assert_eq!(doc["status"], "rejected");
        assert!(doc["reasons"].as_array().unwrap().contains(&json!("expired-document")), "{doc}");
        let kyc = app.get_kyc(&key, &id).await.json;
        assert_eq!(kyc["processes"]["identity"]["status"], "failed");
        assert_eq!(kyc["processes"]["identity"]["reason"], "expired-document");
        assert_eq!(app.get_person(&key, &id).await.json["kycLevel"], "L1");
    }

    /// A rejection caps the identity; a request for information names what is missing, and
    /// the integrator's answer sends the identity back to the queue.
    async fn identity_review_rejected_or_information_requested(app) {
        let (key, operator, _) = keys(&app);
        let id = failed_twice(&app, &key).await;
        let review = item_for(&app, &operator, "", &id).await["id"].as_str().unwrap().to_owned();
        let asked = decide(&app, &operator, &review, &json!({
            "decision": "requestInformation", "reasonCode": "data_mismatch",
            "missingData": ["ssn"], "missingDocuments": ["proofOfAddress"],
        })).await;
        asked.assert_status(200);
        assert_eq!(asked.json["status"], "informationRequested");
        assert_eq!(asked.json["decision"]["missingData"], json!(["ssn"]));
        let person = app.get_person(&key, &id).await.json;
        assert_eq!(person["reviewStatus"], "informationRequested");
        assert!(person["missingDocuments"].as_array().unwrap().contains(&json!("proofOfAddress")));

        // The integrator answers with a (still failing) SSN: back in the queue as a new item.
        app.patch_person(&key, &id, &json!({ "ssn": "111-11-1111" })).await.assert_status(200);
        assert_eq!(app.get_person(&key, &id).await.json["reviewStatus"], "pending");
        let again = item_for(&app, &operator, "kind=identity", &id).await;
        assert_ne!(again["id"], review.as_str());
        let rejected = decide(&app, &operator, again["id"].as_str().unwrap(), &json!({
            "decision": "reject", "reasonCode": "fraud_suspected",
        })).await;
        rejected.assert_status(200);
        assert_eq!(rejected.json["decision"]["reason"], "fraud");
        let person = app.get_person(&key, &id).await.json;
        assert_eq!((person["reviewStatus"].as_str(), person["kycLevel"].as_str()), (Some("rejected"), Some("L0")));
        let eligibility = app.get_eligibility(&key, &id).await.json;
        let onramp = eligibility["eligibility"].as_array().unwrap().iter().find(|e| e["type"] == "onramp").unwrap();
        assert_eq!(onramp["status"], "rejected", "{eligibility}");
    }

    /// The queue's filters and order, across tenants.
    async fn queue_filters_and_order(app) {
        let (key, operator, tenant) = keys(&app);
        let (other_tenant, other_key) = app.tenant_with_key("globex");
        let first = failed_twice(&app, &key).await;
        let second = failed_twice(&app, &other_key).await;
        let _ = app.new_person(&key, &person_body(&unique_email())).await;
        let all = list(&app, &operator, "").await;
        all.assert_status(200);
        let order: Vec<&str> = all.json["data"].as_array().unwrap().iter().map(|i| i["identityId"].as_str().unwrap()).collect();
        assert_eq!(order, [first.as_str(), second.as_str()], "oldest first, every tenant");
        assert_eq!(all.json["meta"]["total"], 2);
        let mine = list(&app, &operator, &format!("tenant={tenant}")).await;
        assert_eq!(mine.json["meta"]["total"], 1);
        assert_eq!(mine.json["data"][0]["identityId"], first);
        let theirs = list(&app, &operator, &format!("tenant={}", other_tenant.id)).await;
        assert_eq!(theirs.json["data"][0]["identityId"], second);
        assert_eq!(list(&app, &operator, "kind=document").await.json["meta"]["total"], 0);
        assert_eq!(list(&app, &operator, "status=approved").await.json["meta"]["total"], 0);
        let page = list(&app, &operator, "page[size]=1&page[number]=2").await;
        assert_eq!(page.json["data"][0]["identityId"], second);
        assert_eq!(
            list(&app, &operator, "kind=person&colour=red").await.violations(),
            kycd_tests::violations(&[("kind", "enum"), ("colour", "unknown_parameter")])
        );
        let readonly = app.api_key(&app.create_tenant("viewer"), Role::Readonly);
        list(&app, &readonly, "").await.assert_error(403, "forbidden");
        list(&app, "not-a-key", "").await.assert_error(401, "unauthorized");
        decide(&app, &operator, &uuid::Uuid::new_v4().to_string(), &json!({ "decision": "reject", "reasonCode": "other" }))
            .await
            .assert_error(404, "review_not_found");
    }
}
