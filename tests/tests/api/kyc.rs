//! The KYC views (SPEC §4; seeds 002 and 003): per-process statuses, per-product eligibility
//! with what is missing, and how requirements follow the data (PATCH `null` clears).

use kycd_tests::{full_person_body, person_body, unique_email, valid_ssn};
use serde_json::{Value, json};

const PROCESSES: [&str; 7] = [
    "address",
    "email",
    "identity",
    "phone",
    "profile",
    "screening",
    "taxDetails",
];

fn statuses(kyc: &Value) -> Vec<(String, String)> {
    let processes = kyc["processes"]
        .as_object()
        .unwrap_or_else(|| panic!("{kyc}"));
    let mut names: Vec<&String> = processes.keys().collect();
    names.sort();
    assert_eq!(names, PROCESSES, "{kyc}");
    PROCESSES
        .iter()
        .map(|p| {
            (
                (*p).to_owned(),
                processes[*p]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn product<'a>(eligibility: &'a Value, name: &str) -> &'a Value {
    eligibility["eligibility"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == name)
        .unwrap_or_else(|| panic!("no {name} in {eligibility}"))
}

both_backends! {
    async fn processes_and_eligibility_follow_the_level(app) {
        let (_, key) = app.tenant_with_key("acme");
        let l0 = app.new_person(&key, &person_body(&unique_email())).await;
        let id = l0["id"].as_str().unwrap();
        let kyc = app.get_kyc(&key, id).await;
        kyc.assert_status(200);
        assert_eq!(kyc.json["identityId"], json!(id));
        assert_eq!(kyc.json["kycLevel"], "L0");
        assert_eq!(kyc.json["summary"]["status"], "pending");
        let st = statuses(&kyc.json);
        let get = |name: &str| st.iter().find(|(n, _)| n == name).unwrap().1.clone();
        assert_eq!(get("email"), "ok");
        assert_eq!(get("phone"), "ok");
        assert_eq!(get("address"), "pending");
        assert_eq!(get("taxDetails"), "pending");
        assert_eq!(get("identity"), "pending");

        // Seed 003: each product says what it still needs.
        let eligibility = app.get_eligibility(&key, id).await;
        eligibility.assert_status(200);
        let e = &eligibility.json;
        assert_eq!(e["identityId"], json!(id));
        assert_eq!(product(e, "regulated-transfer"), &json!({ "type": "regulated-transfer", "status": "verified", "missingData": [], "missingDocuments": [] }));
        assert_eq!(product(e, "onramp"), &json!({ "type": "onramp", "status": "requires-data", "missingData": ["address", "ssn", "dateOfBirth"], "missingDocuments": [] }));
        assert_eq!(product(e, "offramp"), &json!({ "type": "offramp", "status": "requires-data", "missingData": ["address", "ssn", "dateOfBirth"], "missingDocuments": ["proofOfId"] }));

        let l1 = app.new_person(&key, &full_person_body(&unique_email(), &valid_ssn())).await;
        let id = l1["id"].as_str().unwrap();
        let kyc = app.get_kyc(&key, id).await;
        let st = statuses(&kyc.json);
        for process in ["address", "email", "phone", "profile", "taxDetails"] {
            assert!(st.contains(&(process.to_owned(), "ok".to_owned())), "{process}: {}", kyc.text);
        }
        let e = app.get_eligibility(&key, id).await.json;
        assert_eq!(product(&e, "onramp")["status"], "verified");
        assert_eq!(product(&e, "offramp"), &json!({ "type": "offramp", "status": "requires-data", "missingData": [], "missingDocuments": ["proofOfId"] }));
    }

    /// International users have no L1 (SPEC §4): address and birth date, then a document.
    async fn international_users_need_a_document(app) {
        let (_, key) = app.tenant_with_key("acme");
        let mut body = person_body(&unique_email());
        body["address"] = json!({ "street1": "Rue de Rivoli 1", "city": "Paris", "postalCode": "75001", "country": "FR" });
        body["dateOfBirth"] = json!("1990-02-03");
        let person = app.new_person(&key, &body).await;
        assert_eq!(person["kycLevel"], "L0");
        assert_eq!(person["upgradeRequirements"], json!([]));
        assert_eq!(person["missingDocuments"], json!(["proofOfId"]));
        let e = app.get_eligibility(&key, person["id"].as_str().unwrap()).await.json;
        assert_eq!(product(&e, "onramp"), &json!({ "type": "onramp", "status": "requires-data", "missingData": [], "missingDocuments": ["proofOfId"] }));
    }

    /// `null` clears an optional field, and the requirements follow.
    async fn clearing_a_field_brings_its_requirement_back(app) {
        let (_, key) = app.tenant_with_key("acme");
        let mut body = person_body(&unique_email());
        body["address"] = kycd_tests::seed_address();
        let person = app.new_person(&key, &body).await;
        let id = person["id"].as_str().unwrap();
        assert_eq!(person["upgradeRequirements"], json!(["Ssn is not provided", "DateOfBirth is not provided"]));
        let cleared = app.patch_person(&key, id, &json!({ "address": null, "middleName": null })).await;
        cleared.assert_status(200);
        // One PATCH is one version, though it stores the data, then the state the new check
        // gives.
        assert_eq!(cleared.json["version"].as_i64(), person["version"].as_i64().map(|v| v + 1), "{}", cleared.text);
        assert_eq!(cleared.header("etag").unwrap(), format!("\"v{}\"", cleared.json["version"]));
        assert!(cleared.json.get("address").is_none(), "{}", cleared.text);
        assert!(cleared.json.get("middleName").is_none(), "{}", cleared.text);
        assert_eq!(
            cleared.json["upgradeRequirements"],
            json!(["Address is not provided", "Ssn is not provided", "DateOfBirth is not provided"])
        );
        assert_eq!(app.get_person(&key, id).await.json, cleared.json);
    }

    async fn a_complete_create_lands_at_l1_in_one_write_with_its_whole_trail(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &full_person_body(&unique_email(), &valid_ssn())).await;
        let id = person["id"].as_str().unwrap();
        assert_eq!(person["kycLevel"], "L1", "{person}");
        // Stored once, in its final state: the first version.
        assert_eq!(person["version"], 1, "{person}");
        assert_eq!(app.get_person(&key, id).await.json, person);
        let events = app.get_events(&key, id).await;
        let trail: Vec<(&str, &Value)> = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["action"].as_str().unwrap(), &e["levelChange"]))
            .collect();
        assert_eq!(
            trail,
            [
                ("identity_created", &Value::Null),
                ("kyc_check_completed", &Value::Null),
                ("level_changed", &json!({ "from": "L0", "to": "L1" })),
            ],
            "{}",
            events.text
        );
    }

    async fn an_explicit_check_is_recorded(app) {
        let (_, key) = app.tenant_with_key("acme");
        let ssn = valid_ssn();
        let person = app.new_person(&key, &full_person_body(&unique_email(), &ssn)).await;
        let id = person["id"].as_str().unwrap();
        let res = app.run_check(&key, id).await;
        res.assert_status(201);
        assert_eq!(res.json["identity"]["kycLevel"], "L1");
        assert_eq!(res.json["check"]["verifier"], "sandbox");
        assert!(res.json["check"]["id"].is_string());
        assert!(res.header("etag").is_some());
        let events = app.get_events(&key, id).await;
        let checks = events.json["data"].as_array().unwrap().iter().filter(|e| e["action"] == "kyc_check_completed").count();
        assert_eq!(checks, 2, "{}", events.text);
        // The trail names fields, never values.
        let created = &events.json["data"][0];
        assert_eq!(created["action"], "identity_created");
        let mut fields: Vec<&str> = created["fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["address", "dateOfBirth", "email", "firstName", "lastName", "middleName", "phone", "ssn"]);
        assert!(created["actor"].is_string() || created["actor"].is_object(), "{created}");
        assert!(!events.text.contains(&ssn) && !events.text.contains("Rushville"));
    }
}
