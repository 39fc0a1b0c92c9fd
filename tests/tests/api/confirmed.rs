//! Confirmed identities (SPEC §4, seed 001): from L1 on, name, dateOfBirth, gender and ssn are
//! locked (`422 identity_confirmed_field_locked`); contact details still change.

use kycd_tests::{full_person_body, person_body, unique_email, valid_ssn};
use serde_json::json;

both_backends! {
    async fn confirmed_identities_lock_their_identity_fields(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &full_person_body(&unique_email(), &valid_ssn())).await;
        assert_eq!(person["kycLevel"], "L1", "{person}");
        assert_eq!(person["identityConfirmed"], true);
        let id = person["id"].as_str().unwrap();

        let locked = [
            (json!({ "firstName": "Jonathan" }), vec!["firstName"]),
            (json!({ "lastName": "Smith" }), vec!["lastName"]),
            (json!({ "middleName": null }), vec!["middleName"]),
            (json!({ "dateOfBirth": "1990-01-01" }), vec!["dateOfBirth"]),
            (json!({ "ssn": valid_ssn() }), vec!["ssn"]),
            (json!({ "ssn": null }), vec!["ssn"]),
            (json!({ "gender": "male" }), vec!["gender"]),
            // A locked field refuses the whole PATCH, even alongside allowed ones.
            (json!({ "firstName": "Jonathan", "email": unique_email() }), vec!["firstName"]),
        ];
        for (body, fields) in locked {
            let res = app.patch_person(&key, id, &body).await;
            let error = res.assert_error(422, "identity_confirmed_field_locked");
            let named: Vec<&str> = error["details"].as_array().unwrap().iter().map(|v| {
                assert_eq!(v["rule"], "locked", "{v}");
                v["field"].as_str().unwrap()
            }).collect();
            assert_eq!(named, fields, "{body}: {}", res.text);
        }
        let unchanged = app.get_person(&key, id).await;
        assert_eq!(unchanged.json, person, "a refused PATCH changed the identity");

        // Contact details and due diligence still change; re-sending a locked value as it is
        // is no change.
        let email = unique_email();
        let res = app
            .patch_person(
                &key,
                id,
                &json!({ "email": email, "phone": "+14155552671", "firstName": "John", "dueDiligence": { "occupation": "Engineer" } }),
            )
            .await;
        res.assert_status(200);
        assert_eq!(res.json["email"], json!(email));
        assert_eq!(res.json["phone"], "+14155552671");
        assert_eq!(res.json["dueDiligence"]["occupation"], "Engineer");
        assert_eq!(res.json["kycLevel"], "L1");
        assert_eq!(res.json["identityConfirmed"], true);
    }
}

both_backends! {
    /// An approval vouches for what confirmation freezes: a later check (here because the
    /// phone changed) that fails the SSN the reviewer accepted neither lowers the level nor
    /// asks for an SSN the identity may no longer change.
    async fn an_approval_outlives_a_change_of_contact_details(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &full_person_body(&unique_email(), "333-33-3333")).await;
        assert_eq!(person["upgradeRequirements"], json!(["Ssn is invalid"]), "{person}");
        let id = person["id"].as_str().unwrap();
        app.simulate(&key, id, &json!({ "action": "approve", "level": "L1" }))
            .await
            .assert_status(200);
        let res = app.patch_person(&key, id, &json!({ "phone": "+14155552671" })).await;
        res.assert_status(200);
        assert_eq!(res.json["kycLevel"], "L1", "{}", res.text);
        assert_eq!(res.json["upgradeRequirements"], json!([]));
        assert_eq!(res.json["reviewStatus"], "approved");
        app.run_check(&key, id).await.assert_status(201);
        let person = app.get_person(&key, id).await;
        assert_eq!(person.json["kycLevel"], "L1", "{}", person.text);
        assert_eq!(person.json["reviewStatus"], "approved", "not a failed attempt");
    }

    /// A confirmed identity may provide a missing SSN or date of birth when its ladder asks
    /// for them; once given they are locked like the rest.
    async fn a_confirmed_identity_may_provide_what_it_is_asked_for(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &person_body(&unique_email())).await;
        let id = person["id"].as_str().unwrap();
        let approved = app.simulate(&key, id, &json!({ "action": "approve" })).await;
        approved.assert_status(200);
        let person = app.get_person(&key, id).await;
        assert_eq!((&person.json["kycLevel"], &person.json["identityConfirmed"]), (&json!("L2"), &json!(true)));

        let address = json!({ "street1": "4220 Davisson Street", "city": "Rushville", "state": "IN", "postalCode": "46173", "country": "US" });
        let res = app.patch_person(&key, id, &json!({ "address": address })).await;
        res.assert_status(200);
        assert_eq!(
            res.json["upgradeRequirements"],
            json!(["Ssn is not provided", "DateOfBirth is not provided"]),
            "{}", res.text
        );
        let res = app
            .patch_person(&key, id, &json!({ "ssn": valid_ssn(), "dateOfBirth": "1990-01-01" }))
            .await;
        res.assert_status(200);
        assert_eq!(res.json["kycLevel"], "L2", "the approval still vouches for the document: {}", res.text);
        app.patch_person(&key, id, &json!({ "dateOfBirth": "1990-01-02" }))
            .await
            .assert_error(422, "identity_confirmed_field_locked");
        // A gender was never asked for: it stays locked.
        app.patch_person(&key, id, &json!({ "gender": "female" }))
            .await
            .assert_error(422, "identity_confirmed_field_locked");
    }
}
