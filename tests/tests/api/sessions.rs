//! `PUT /kycs` (SPEC §7, seeds 002/004): start a KYC session for a person; `import` takes a
//! provider's verified result.

use kycd_tests::{full_person_body, person_body, unique_email, valid_ssn, violations};
use serde_json::{Value, json};

fn import_output(given: &str, family: &str, birthdate: &str, expires: &str) -> Value {
    json!({
        "provider": "onfido",
        "document": { "type": "passport", "number": "X1234567", "country": "US", "expiresAt": expires },
        "person": { "givenName": given, "familyName": family, "birthdate": birthdate },
        "verifiedAt": "2024-01-02T03:04:05Z"
    })
}

both_backends! {
    async fn sessions_say_what_to_collect(app) {
        let (_, key) = app.tenant_with_key("acme");
        let (_, key_b) = app.tenant_with_key("other");
        let person = app.new_person(&key, &person_body(&unique_email())).await;
        let id = person["id"].as_str().unwrap();

        let full = app.start_session(&key, &json!({ "userId": id, "type": "full", "redirectUri": "https://app.example.com/done" })).await;
        full.assert_status(200);
        assert_eq!(full.json["identityId"], json!(id));
        assert_eq!(full.json["userId"], json!(format!("usr-{id}")));
        assert_eq!(full.json["type"], "full");
        assert_eq!(full.json["status"], "requires-data");
        assert_eq!(full.json["kycLevel"], "L0");
        assert_eq!(full.json["redirectUri"], "https://app.example.com/done");
        let mut missing: Vec<String> = full.json["missingData"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        missing.sort();
        assert_eq!(missing, ["address", "dateOfBirth", "ssn"], "{}", full.text);
        assert_eq!(full.json["missingDocuments"], json!(["proofOfId"]));

        // The usr- form names the same person.
        let shipping = app.start_session(&key, &json!({ "userId": format!("usr-{id}"), "type": "shipping" })).await;
        shipping.assert_status(200);
        assert_eq!(shipping.json["identityId"], json!(id));
        assert_eq!(shipping.json["missingData"], json!(["address"]));
        assert_eq!(shipping.json["missingDocuments"], json!([]));

        // A request for information asks for a proof of address on top of what is missing.
        let rfi = app.start_session(&key, &json!({ "userId": id, "type": "rfi" })).await;
        rfi.assert_status(200);
        assert_eq!(rfi.json["type"], "rfi");
        assert_eq!(rfi.json["status"], "requires-data");
        assert_eq!(rfi.json["missingDocuments"], json!(["proofOfId", "proofOfAddress"]));
        assert_eq!(rfi.json["missingData"], full.json["missingData"]);

        let events = app.get_events(&key, id).await;
        let started = events.json["data"].as_array().unwrap().iter().filter(|e| e["action"] == "kyc_session_started").count();
        assert_eq!(started, 3, "{}", events.text);

        // Another tenant's person does not exist here.
        app.start_session(&key_b, &json!({ "userId": id, "type": "full" }))
            .await
            .assert_error(404, "identity_not_found");

        let cases = [
            (json!({ "userId": id, "type": "bogus" }), violations(&[("type", "enum")])),
            (json!({ "userId": "usr-123", "type": "full" }), violations(&[("userId", "user_id")])),
            (json!({ "type": "full" }), violations(&[("userId", "required")])),
            (json!({ "userId": id, "type": "import" }), violations(&[("output", "required")])),
            (json!({ "userId": id, "type": "full", "output": import_output("John", "Doe", "1995-04-25", "2099-01-01") }), violations(&[("output", "not_allowed")])),
            (json!({ "userId": id, "type": "full", "redirectUri": "javascript:alert(1)" }), violations(&[("redirectUri", "url")])),
            (json!({ "userId": id, "type": "full", "extra": 1 }), violations(&[("extra", "unknown_field")])),
        ];
        for (body, expected) in cases {
            let res = app.start_session(&key, &body).await;
            assert_eq!(res.violations(), expected, "{body}: {}", res.text);
        }
    }

    /// Seed 002's import: a matching, unexpired verification counts as the proof of id; an
    /// expired one or another person fails the identity process with its reason.
    async fn imports_are_checked_against_the_person(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &full_person_body(&unique_email(), &valid_ssn())).await;
        let id = person["id"].as_str().unwrap();
        assert_eq!(person["kycLevel"], "L1");

        let expired = app.start_session(&key, &json!({ "userId": id, "type": "import", "output": import_output("John", "Doe", "1995-04-25", "2020-01-01") })).await;
        expired.assert_status(200);
        assert_eq!(expired.json["import"]["status"], "failed", "{}", expired.text);
        assert_eq!(expired.json["import"]["reason"], "expired-document");
        assert_eq!(expired.json["kycLevel"], "L1");
        // One failed import does not close the identity's path: the session's status is the
        // identity's, as /eligibility gives it, with what is still to collect.
        assert_eq!(expired.json["status"], "requires-data", "{}", expired.text);
        assert_eq!(expired.json["missingDocuments"], json!(["proofOfId"]), "{}", expired.text);
        let eligibility = app.get_eligibility(&key, id).await;
        assert!(eligibility.json["eligibility"].as_array().unwrap().iter().all(|p| p["status"] != "rejected"), "{}", eligibility.text);

        let stranger = app.start_session(&key, &json!({ "userId": id, "type": "import", "output": import_output("Jane", "Roe", "1995-04-25", "2099-01-01") })).await;
        stranger.assert_status(200);
        assert_eq!(stranger.json["import"]["status"], "failed", "{}", stranger.text);
        assert_eq!(stranger.json["import"]["reason"], "data-mismatch");

        let ok = app.start_session(&key, &json!({ "userId": id, "type": "import", "output": import_output("john", "DOE", "1995-04-25", "2099-01-01") })).await;
        ok.assert_status(200);
        assert_eq!(ok.json["import"]["status"], "ok", "{}", ok.text);
        assert_eq!(ok.json["import"]["provider"], "onfido");
        assert_eq!(ok.json["kycLevel"], "L2", "{}", ok.text);
        assert_eq!(app.get_person(&key, id).await.json["kycLevel"], "L2");
        // The document number is never echoed.
        assert!(!ok.text.contains("X1234567"));
    }

    /// An accepted import brings in the verified date of birth and address the identity lacks
    /// (audited like a PATCH); a gender or an address on both sides must agree.
    async fn imports_bring_in_what_the_identity_lacks(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &person_body(&unique_email())).await;
        let id = person["id"].as_str().unwrap();
        assert_eq!(person["dateOfBirth"], Value::Null);
        let mut output = import_output("John", "Doe", "1995-04-25", "2099-01-01");
        output["person"]["gender"] = json!("male");
        output["person"]["address"] = json!({ "line1": "4220 Davisson Street", "city": "Rushville",
            "subdivision": "US-IN", "postalCode": "46173", "country": "US" });
        let ok = app.start_session(&key, &json!({ "userId": id, "type": "import", "output": output })).await;
        ok.assert_status(200);
        assert_eq!(ok.json["import"]["status"], "ok", "{}", ok.text);
        let read = app.get_person(&key, id).await.json;
        assert_eq!(read["dateOfBirth"], "1995-04-25");
        assert_eq!(read["address"]["postalCode"], "46173");
        assert_eq!(read["address"]["state"], "IN");
        // What is still missing is the SSN only.
        assert_eq!(read["upgradeRequirements"], json!(["Ssn is not provided"]), "{read}");
        assert!(read["version"].as_i64() > person["version"].as_i64(), "{read}");
        let events = app.get_events(&key, id).await;
        assert!(events.json["data"].as_array().unwrap().iter().any(|e| e["action"] == "identity_updated"
            && e["fields"] == json!(["address", "dateOfBirth"])), "{}", events.text);

        // The import's person must match: another gender or another postal code is a mismatch.
        app.patch_person(&key, id, &json!({ "gender": "female" })).await.assert_status(200);
        let other = app.start_session(&key, &json!({ "userId": id, "type": "import", "output": import_output("John", "Doe", "1995-04-25", "2099-01-01") })).await;
        assert_eq!(other.json["import"]["status"], "ok", "no gender on the import: {}", other.text);
        let mut output = import_output("John", "Doe", "1995-04-25", "2099-01-01");
        output["person"]["gender"] = json!("male");
        let mismatch = app.start_session(&key, &json!({ "userId": id, "type": "import", "output": output })).await;
        assert_eq!(mismatch.json["import"]["reason"], "data-mismatch", "{}", mismatch.text);
        let mut output = import_output("John", "Doe", "1995-04-25", "2099-01-01");
        output["person"]["address"] = json!({ "line1": "1 Main Street", "city": "Indianapolis",
            "subdivision": "IN", "postalCode": "46204", "country": "US" });
        let moved = app.start_session(&key, &json!({ "userId": id, "type": "import", "output": output })).await;
        assert_eq!(moved.json["import"]["reason"], "data-mismatch", "{}", moved.text);
        // Seed 002 knows two genders.
        let mut output = import_output("John", "Doe", "1995-04-25", "2099-01-01");
        output["person"]["gender"] = json!("undefined");
        assert_eq!(
            app.start_session(&key, &json!({ "userId": id, "type": "import", "output": output })).await.violations(),
            violations(&[("output.person.gender", "enum")])
        );
    }
}
