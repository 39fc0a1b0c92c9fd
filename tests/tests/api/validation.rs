//! Edge validation (SPEC §3, docs/validation.md): every malformed body is `400
//! validation_failed` listing each violation's `field` path and `rule`; nothing is stored.

use kycd_tests::{
    BASE, Method, TestApp, Violations, person_body, seed_address, unique_email, violations,
};
use serde_json::{Value, json};

/// A create body with one change: `path` (dot-separated) set to `value`, or removed for `None`.
fn with(base: &Value, path: &str, value: Option<Value>) -> Value {
    let mut body = base.clone();
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut target = &mut body;
    for part in parts {
        target = &mut target[part];
    }
    match value {
        Some(v) => target[last] = v,
        None => {
            target.as_object_mut().unwrap().remove(last);
        }
    }
    body
}

/// One table row: what is wrong, the body, the violations expected.
type Case = (&'static str, Value, Violations);

/// `(what, change, expected violations)`: the base is a valid full US person.
fn create_cases() -> Vec<Case> {
    let mut base = person_body("john.doe@example.com");
    base["address"] = seed_address();
    base["dateOfBirth"] = json!("1995-04-25");
    base["ssn"] = json!("305464885");
    let long = "a".repeat(101);
    vec![
        (
            "firstName missing",
            with(&base, "firstName", None),
            violations(&[("firstName", "required")]),
        ),
        (
            "firstName null",
            with(&base, "firstName", Some(Value::Null)),
            violations(&[("firstName", "required")]),
        ),
        (
            "firstName empty",
            with(&base, "firstName", Some(json!(""))),
            violations(&[("firstName", "length")]),
        ),
        (
            "firstName a number",
            with(&base, "firstName", Some(json!(42))),
            violations(&[("firstName", "type")]),
        ),
        (
            "firstName with a digit",
            with(&base, "firstName", Some(json!("J0hn"))),
            violations(&[("firstName", "digits")]),
        ),
        (
            "firstName edge space",
            with(&base, "firstName", Some(json!(" John"))),
            violations(&[("firstName", "edge_whitespace")]),
        ),
        (
            "firstName symbol",
            with(&base, "firstName", Some(json!("Jo@hn"))),
            violations(&[("firstName", "charset")]),
        ),
        (
            "firstName no letters",
            with(&base, "firstName", Some(json!("-"))),
            violations(&[("firstName", "no_letters")]),
        ),
        (
            "lastName too long",
            with(&base, "lastName", Some(json!(long))),
            violations(&[("lastName", "length")]),
        ),
        (
            "middleName digit",
            with(&base, "middleName", Some(json!("2nd"))),
            violations(&[("middleName", "digits")]),
        ),
        (
            "lastName missing",
            with(&base, "lastName", None),
            violations(&[("lastName", "required")]),
        ),
        (
            "email missing",
            with(&base, "email", None),
            violations(&[("email", "required")]),
        ),
        (
            "email malformed",
            with(&base, "email", Some(json!("john.doe@"))),
            violations(&[("email", "format")]),
        ),
        (
            "email without tld",
            with(&base, "email", Some(json!("john@localhost"))),
            violations(&[("email", "format")]),
        ),
        (
            "phone missing",
            with(&base, "phone", None),
            violations(&[("phone", "required")]),
        ),
        (
            "phone not E.164",
            with(&base, "phone", Some(json!("2025550165"))),
            violations(&[("phone", "e164")]),
        ),
        (
            "phone with spaces",
            with(&base, "phone", Some(json!("+1 202 555 0165"))),
            violations(&[("phone", "e164")]),
        ),
        (
            "phone impossible length",
            with(&base, "phone", Some(json!("+1202555016"))),
            violations(&[("phone", "possible_number")]),
        ),
        (
            "US ZIP of 4 digits",
            with(&base, "address.postalCode", Some(json!("4617"))),
            violations(&[("address.postalCode", "us_postal_code")]),
        ),
        (
            "US ZIP+4",
            with(&base, "address.postalCode", Some(json!("46173-1234"))),
            violations(&[("address.postalCode", "us_postal_code")]),
        ),
        (
            "US state unknown",
            with(&base, "address.state", Some(json!("XX"))),
            violations(&[("address.state", "unknown_code")]),
        ),
        (
            "US state missing",
            with(&base, "address.state", None),
            violations(&[("address.state", "required")]),
        ),
        (
            "country UK",
            with(&base, "address.country", Some(json!("UK"))),
            violations(&[("address.country", "unknown_code")]),
        ),
        (
            "street1 missing",
            with(&base, "address.street1", None),
            violations(&[("address.street1", "required")]),
        ),
        (
            "address not an object",
            with(&base, "address", Some(json!("4220 Davisson Street"))),
            violations(&[("address", "type")]),
        ),
        (
            "unknown address field",
            with(&base, "address.zip", Some(json!("46173"))),
            violations(&[("address.zip", "unknown_field")]),
        ),
        (
            "dateOfBirth Feb 29 2023",
            with(&base, "dateOfBirth", Some(json!("2023-02-29"))),
            violations(&[("dateOfBirth", "calendar_date")]),
        ),
        (
            "dateOfBirth April 31",
            with(&base, "dateOfBirth", Some(json!("1995-04-31"))),
            violations(&[("dateOfBirth", "calendar_date")]),
        ),
        (
            "dateOfBirth US style",
            with(&base, "dateOfBirth", Some(json!("04/25/1995"))),
            violations(&[("dateOfBirth", "calendar_date")]),
        ),
        (
            "ssn 8 digits",
            with(&base, "ssn", Some(json!("30546488"))),
            violations(&[("ssn", "format")]),
        ),
        (
            "ssn letters",
            with(&base, "ssn", Some(json!("305-46-488X"))),
            violations(&[("ssn", "format")]),
        ),
        (
            "gender other",
            with(&base, "gender", Some(json!("other"))),
            violations(&[("gender", "enum")]),
        ),
        (
            "unknown field",
            with(&base, "nickname", Some(json!("Johnny"))),
            violations(&[("nickname", "unknown_field")]),
        ),
        (
            "server-owned kycLevel",
            with(&base, "kycLevel", Some(json!("L2"))),
            violations(&[("kycLevel", "unknown_field")]),
        ),
        (
            "server-owned identityConfirmed",
            with(&base, "identityConfirmed", Some(json!(true))),
            violations(&[("identityConfirmed", "unknown_field")]),
        ),
        (
            "unknown dueDiligence field",
            with(
                &base,
                "dueDiligence",
                Some(json!({ "favouriteColour": "blue" })),
            ),
            violations(&[("dueDiligence.favouriteColour", "unknown_field")]),
        ),
        (
            "body an array",
            json!([base.clone()]),
            violations(&[("", "type")]),
        ),
        (
            "body a string",
            json!("John Doe"),
            violations(&[("", "type")]),
        ),
        (
            "every violation at once, sorted by field then rule",
            json!({
                "firstName": "J0hn",
                "lastName": "Doe",
                "email": "nope",
                "phone": "12",
                "address": { "street1": "1 Main St", "city": "Rushville", "postalCode": "1", "state": "ZZ", "country": "US" },
                "ssn": "1",
                "blocked": false
            }),
            violations(&[
                ("address.postalCode", "us_postal_code"),
                ("address.state", "unknown_code"),
                ("blocked", "unknown_field"),
                ("email", "format"),
                ("firstName", "digits"),
                ("phone", "e164"),
                ("ssn", "format"),
            ]),
        ),
    ]
}

both_backends! {
    async fn invalid_creates_are_refused_and_store_nothing(app) {
        let (_, key) = app.tenant_with_key("acme");
        for (what, body, expected) in create_cases() {
            let res = app.create_person(&key, &body).await;
            assert_eq!(res.violations(), expected, "{what}: {}", res.text);
            // No violation quotes the value sent (values are personal data).
            for detail in res.json["error"]["details"].as_array().unwrap() {
                assert!(detail["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}");
                assert!(!detail["message"].as_str().unwrap().contains("J0hn"), "{what}");
            }
        }
        assert_eq!(app.count_people(&key).await, 0);
        // The refused bodies used this email; it is still free.
        let mut ok = person_body("john.doe@example.com");
        ok["address"] = seed_address();
        app.create_person(&key, &ok).await.assert_status(201);
        assert_eq!(app.count_people(&key).await, 1);
    }

    async fn invalid_patches_are_refused_and_change_nothing(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = app.new_person(&key, &person_body(&unique_email())).await;
        let id = person["id"].as_str().unwrap();
        let cases: Vec<Case> = vec![
            ("empty patch", json!({}), violations(&[("", "empty_patch")])),
            ("required field cleared", json!({ "firstName": null }), violations(&[("firstName", "required")])),
            ("email cleared", json!({ "email": null }), violations(&[("email", "required")])),
            ("phone cleared", json!({ "phone": null }), violations(&[("phone", "required")])),
            ("bad email", json!({ "email": "x@y" }), violations(&[("email", "format")])),
            ("unknown field", json!({ "nickname": "J" }), violations(&[("nickname", "unknown_field")])),
            ("server-owned version", json!({ "version": 99 }), violations(&[("version", "unknown_field")])),
            ("server-owned kycLevel with a valid field", json!({ "kycLevel": "L2", "middleName": "Third" }), violations(&[("kycLevel", "unknown_field")])),
            ("partial US address", json!({ "address": { "street1": "4220 Davisson Street", "country": "US" } }), violations(&[
                ("address.city", "required"),
                ("address.postalCode", "required"),
                ("address.state", "required"),
            ])),
            ("not an object", json!(["firstName"]), violations(&[("", "type")])),
        ];
        for (what, body, expected) in cases {
            let res = app.patch_person(&key, id, &body).await;
            assert_eq!(res.violations(), expected, "{what}: {}", res.text);
        }
        let after = app.get_person(&key, id).await;
        after.assert_status(200);
        assert_eq!(after.json, person, "a refused PATCH changed the identity");
    }

    async fn bodies_that_are_not_json_are_invalid_json(app) {
        let (_, key) = app.tenant_with_key("acme");
        let id = app.new_person(&key, &person_body(&unique_email())).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let raw_bodies: [&[u8]; 5] = [
            b"",
            b"{",
            b"firstName=John&lastName=Doe",
            b"{\"firstName\": \"John\",}",
            b"\xff\xfe{}",
        ];
        for raw in raw_bodies {
            let created = app
                .call(Method::POST, &format!("{BASE}/identity-containers"))
                .key(&key)
                .raw(raw)
                .send()
                .await;
            created.assert_error(400, "invalid_json");
            assert!(created.json["error"].get("details").is_none(), "{}", created.text);
            let patched = app
                .call(Method::PATCH, &format!("{BASE}/personal-identities/{id}"))
                .key(&key)
                .raw(raw)
                .send()
                .await;
            patched.assert_error(400, "invalid_json");
        }
        assert_eq!(app.count_people(&key).await, 1);
    }

    async fn malformed_path_ids_are_validation_errors(app) {
        let (_, key) = app.tenant_with_key("acme");
        for path in [
            "/personal-identities/not-a-uuid",
            "/personal-identities/12345",
            "/personal-identities/not-a-uuid/kyc",
            "/personal-identities/not-a-uuid/eligibility",
            "/personal-identities/not-a-uuid/events",
            "/identity-containers/not-a-uuid",
        ] {
            let res = app.request(Method::GET, &format!("{BASE}{path}"), Some(&key), None).await;
            assert_eq!(res.violations(), violations(&[("id", "uuid")]), "{path}");
        }
        let res = app
            .patch_person(&key, "not-a-uuid", &json!({ "middleName": "Third" }))
            .await;
        assert_eq!(res.violations(), violations(&[("id", "uuid")]));
        let res = app.delete_person(&key, "not-a-uuid").await;
        assert_eq!(res.violations(), violations(&[("id", "uuid")]));
        let res = app.run_check(&key, "not-a-uuid").await;
        assert_eq!(res.violations(), violations(&[("id", "uuid")]));
    }
}

/// Values the edge accepts (so a refusal above is the rule, not an over-strict parser).
#[tokio::test]
async fn accepted_variants_are_normalized() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let mut body = person_body("John.Doe+kyc@Example.COM");
    body["ssn"] = json!("305-46-4885");
    body["gender"] = json!("FEMALE");
    body["address"] = json!({
        "street1": "4220 Davisson Street",
        "postalCode": "46173",
        "city": "Rushville",
        "state": "in",
        "country": "us"
    });
    body["firstName"] = json!("Jean-Luc O'Neil");
    body["middleName"] = Value::Null;
    let person = app.new_person(&key, &body).await;
    assert_eq!(person["email"], "john.doe+kyc@example.com");
    assert_eq!(person["gender"], "female");
    assert_eq!(person["address"]["state"], "IN");
    assert_eq!(person["address"]["country"], "US");
    assert_eq!(person["firstName"], "Jean-Luc O'Neil");
    assert!(person.get("middleName").is_none(), "{person}");
    assert_eq!(person["ssnProvided"], true);
}
