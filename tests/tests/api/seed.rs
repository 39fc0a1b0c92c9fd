//! Seed 000 (Fortress Trust) verbatim: create an L0 identity, PATCH in the rest, reach L1; an
//! inconsistent address is "Address is invalid"; two failed attempts go to manual review.

use kycd_tests::{full_person_body, person_body, seed_address, unique_email, valid_ssn};
use serde_json::json;

both_backends! {
    /// SPEC §6: the seed-000 sample requests work verbatim (as well-formed JSON), including the
    /// provider's redacted sample address; the sample's data passes every check.
    async fn the_sample_request_works_verbatim(app) {
        let (_, key) = app.tenant_with_key("fortress");
        // The seed's body, field for field: its data with its redacted address and its SSN.
        let sample = full_person_body("[email protected]", "305464885");
        let created = app.create_person(&key, &sample).await;
        created.assert_status(201);
        let person = &created.json["personalIdentity"];
        assert_eq!(person["email"], "[email protected]");
        assert_eq!(person["kycLevel"], "L1", "{person}");
        assert_eq!(person["upgradeRequirements"], json!([]));
        assert_eq!(person["missingDocuments"], json!(["proofOfId"]));
        // It is an address like any other: unique in the tenant.
        app.create_person(&key, &sample).await.assert_error(409, "email_already_in_use");
        // The seed file spells it with a no-break space (U+00A0): the same address, as sent
        // by a client that copies the file byte for byte.
        let (_, other) = app.tenant_with_key("fortress-bytes");
        let as_in_the_file = full_person_body("[email\u{a0}protected]", "305464885");
        let created = app.create_person(&other, &as_in_the_file).await;
        created.assert_status(201);
        assert_eq!(created.json["personalIdentity"]["email"], "[email protected]");
        app.create_person(&other, &sample).await.assert_error(409, "email_already_in_use");
    }

    async fn create_then_patch_reaches_l1(app) {
        let (_, key) = app.tenant_with_key("fortress");
        let email = unique_email();

        let created = app.create_person(&key, &person_body(&email)).await;
        created.assert_status(201);
        let container_id = created.json["id"].as_str().unwrap().to_owned();
        let person = &created.json["personalIdentity"];
        let id = person["id"].as_str().unwrap().to_owned();
        assert_eq!(created.json["personalIdentityId"], json!(id));
        assert!(
            created
                .header("location")
                .is_some_and(|l| l.ends_with(&format!("/identity-containers/{container_id}"))),
            "{:?}",
            created.headers
        );
        assert_eq!(person["firstName"], "John");
        assert_eq!(person["middleName"], "Second");
        assert_eq!(person["lastName"], "Doe");
        assert_eq!(person["phone"], "+12025550165");
        assert_eq!(person["email"], json!(email));
        assert_eq!(person["containerId"], json!(container_id));
        assert_eq!(person["kycLevel"], "L0");
        assert_eq!(created.json["kycLevel"], "L0");
        let expected = json!(["Address is not provided", "Ssn is not provided", "DateOfBirth is not provided"]);
        assert_eq!(person["upgradeRequirements"], expected);
        assert_eq!(created.json["upgradeRequirements"], expected);
        assert_eq!(person["missingDocuments"], json!([]));
        assert_eq!(person["identityConfirmed"], false);
        assert_eq!(person["blocked"], false);
        assert_eq!(person["reviewStatus"], "none");
        assert_eq!(person["ssnProvided"], false);
        assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 4), "{id}");

        let patched = app
            .patch_person(
                &key,
                &id,
                &json!({
                    "address": seed_address(),
                    "dateOfBirth": "1995-04-25",
                    "ssn": "305464885"
                }),
            )
            .await;
        patched.assert_status(200);
        let p = &patched.json;
        assert_eq!(p["kycLevel"], "L1");
        assert_eq!(p["upgradeRequirements"], json!([]));
        assert_eq!(p["missingDocuments"], json!(["proofOfId"]));
        assert_eq!(p["identityConfirmed"], true);
        assert_eq!(p["ssnProvided"], true);
        assert_eq!(p["dateOfBirth"], "1995-04-25");
        assert_eq!(p["address"], seed_address());

        // The read agrees with the write, and the container shows the same person.
        let read = app.get_person(&key, &id).await;
        read.assert_status(200);
        assert_eq!(read.json, patched.json);
        let container = app.get_container(&key, &container_id).await;
        container.assert_status(200);
        assert_eq!(container.json["kycLevel"], "L1");
        assert_eq!(container.json["personalIdentity"], patched.json);
        assert_eq!(container.json["businessIdentities"], json!([]));

        // The trail records the level change L0 -> L1.
        let events = app.get_events(&key, &id).await;
        events.assert_status(200);
        let changes: Vec<_> = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "level_changed")
            .map(|e| e["levelChange"].clone())
            .collect();
        assert_eq!(changes, vec![json!({ "from": "L0", "to": "L1" })]);
    }

    async fn zip_of_another_state_is_address_invalid(app) {
        let (_, key) = app.tenant_with_key("fortress");
        let id = app.new_person(&key, &person_body(&unique_email())).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Seed 000's third request: 45221 is Cincinnati, Ohio, not Indiana.
        let res = app
            .patch_person(
                &key,
                &id,
                &json!({
                    "address": {
                        "street1": "4220 Davidson Street",
                        "postalCode": "45221",
                        "city": "Rushville",
                        "state": "IN",
                        "country": "US"
                    },
                    "dateOfBirth": "1987-03-25",
                    "ssn": valid_ssn()
                }),
            )
            .await;
        res.assert_status(200);
        assert_eq!(res.json["kycLevel"], "L0");
        assert_eq!(res.json["upgradeRequirements"], json!(["Address is invalid"]));
        assert_eq!(res.json["identityConfirmed"], false);

        let kyc = app.get_kyc(&key, &id).await;
        kyc.assert_status(200);
        assert_eq!(kyc.json["processes"]["address"]["status"], "failed");
        assert_eq!(kyc.json["processes"]["address"]["reason"], "data-mismatch");
    }

    /// Seed 000: a second failed attempt sends the identity to manual review.
    async fn second_failed_attempt_goes_to_review(app) {
        let (_, key) = app.tenant_with_key("fortress");
        let id = app.new_person(&key, &person_body(&unique_email())).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let bad_address = |street: &str| {
            json!({ "address": {
                "street1": street,
                "postalCode": "45221",
                "city": "Rushville",
                "state": "IN",
                "country": "US"
            }})
        };
        let first = app.patch_person(&key, &id, &bad_address("4220 Davidson Street")).await;
        first.assert_status(200);
        assert_eq!(first.json["reviewStatus"], "none", "{}", first.text);
        let second = app.patch_person(&key, &id, &bad_address("4221 Davidson Street")).await;
        second.assert_status(200);
        assert_eq!(second.json["reviewStatus"], "pending", "{}", second.text);
        assert!(
            second.json["upgradeRequirements"]
                .as_array()
                .unwrap()
                .contains(&json!("Address is invalid")),
            "{}",
            second.text
        );
    }
}
