//! Confirmed identities (SPEC §4, seed 001): from L1 on, name, dateOfBirth, gender and ssn are
//! locked (`422 identity_confirmed_field_locked`); contact details still change.

use kycd_tests::{full_person_body, unique_email, valid_ssn};
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
            assert_eq!(error["details"]["fields"], json!(fields), "{body}: {}", res.text);
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
