//! Request parsing: every violation with its field path and rule.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "fixture helpers: a bad fixture should fail the test"
)]

use kyc_model::{
    AddressRegion, BusinessData, Gender, KycSessionType, PersonalData, PersonalIdentityId,
};
use kyc_rules::{
    ImportDocumentType, RulesError, Violation, parse_business_create, parse_business_patch,
    parse_kyc_session, parse_personal_create, parse_personal_patch,
};
use serde_json::{Value, json};

/// The seed-000 create body, completed with the optional fields.
fn seed_person() -> Value {
    json!({
        "firstName": "John",
        "middleName": "Second",
        "lastName": "Doe",
        "phone": "+12025550165",
        "email": "john.doe@example.com",
        "address": {
            "street1": "4220 Davisson Street",
            "postalCode": "46173",
            "city": "Rushville",
            "state": "IN",
            "country": "US"
        },
        "dateOfBirth": "1995-04-25",
        "ssn": "305464885"
    })
}

fn violations(result: Result<impl std::fmt::Debug, RulesError>) -> Vec<(String, String)> {
    match result {
        Ok(v) => panic!("expected violations, got {v:?}"),
        Err(RulesError::Invalid(v)) => v.into_iter().map(|v| (v.field, v.rule)).collect(),
    }
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = expected
        .iter()
        .map(|(f, r)| ((*f).to_owned(), (*r).to_owned()))
        .collect();
    v.sort();
    v
}

fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut cur = &mut body;
    for p in parents {
        cur = cur.get_mut(*p).unwrap();
    }
    cur.as_object_mut()
        .unwrap()
        .insert((*last).to_owned(), value);
    body
}

fn without(mut body: Value, path: &[&str]) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut cur = &mut body;
    for p in parents {
        cur = cur.get_mut(*p).unwrap();
    }
    cur.as_object_mut().unwrap().remove(*last);
    body
}

// ----- personal create -----------------------------------------------------------------------

#[test]
fn seed_person_parses() {
    let data = parse_personal_create(&seed_person()).unwrap();
    assert_eq!(data.first_name.as_str(), "John");
    assert_eq!(data.middle_name.as_ref().unwrap().as_str(), "Second");
    assert_eq!(data.last_name.as_str(), "Doe");
    assert_eq!(data.phone.as_str(), "+12025550165");
    let address = data.address.as_ref().unwrap();
    assert_eq!(address.street1().as_str(), "4220 Davisson Street");
    assert_eq!(address.city().as_str(), "Rushville");
    assert!(matches!(
        address.region(),
        AddressRegion::Us { state, zip } if state.as_str() == "IN" && zip.as_str() == "46173"
    ));
    assert_eq!(data.date_of_birth.unwrap().to_iso(), "1995-04-25");
    assert_eq!(data.ssn.as_ref().unwrap().as_str(), "305464885");
    assert_eq!(data.gender, None);
    assert_eq!(data.due_diligence, None);
}

#[test]
fn minimal_person_parses_and_email_is_lowercased() {
    let body = json!({"firstName": "Zoë", "lastName": "O'Brien", "phone": "+447911123456",
                      "email": "Zoe.OBrien+kyc@Mail.Example.co.uk"});
    let data = parse_personal_create(&body).unwrap();
    assert_eq!(data.email.as_str(), "zoe.obrien+kyc@mail.example.co.uk");
    assert_eq!(data.address, None);
}

#[test]
fn full_person_with_gender_and_due_diligence() {
    let body = with(
        with(seed_person(), &["gender"], json!("Female")),
        &["dueDiligence"],
        json!({"employmentStatus": "employed", "occupation": "Engineer", "incomeSource": null,
               "sourceOfFunds": "salary", "annualIncome": "50000-100000",
               "accountPurpose": "savings", "expectedMonthlyVolume": "1000"}),
    );
    let data = parse_personal_create(&body).unwrap();
    assert_eq!(data.gender, Some(Gender::Female));
    let dd = data.due_diligence.unwrap();
    assert_eq!(dd.occupation.unwrap().as_str(), "Engineer");
    assert_eq!(dd.income_source, None);
}

#[test]
fn nulls_on_create_mean_absent_for_optional_fields() {
    let body = json!({"firstName": "John", "middleName": null, "lastName": "Doe",
        "phone": "+12025550165", "email": "j@example.com", "address": null, "dateOfBirth": null,
        "ssn": null, "gender": null, "dueDiligence": null});
    let data = parse_personal_create(&body).unwrap();
    assert_eq!(data.middle_name, None);
    assert_eq!(data.ssn, None);
}

#[test]
fn person_create_violations() {
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (json!([]), vec![("", "type")]),
        (json!("John"), vec![("", "type")]),
        (json!(null), vec![("", "type")]),
        (
            json!({}),
            vec![
                ("firstName", "required"),
                ("lastName", "required"),
                ("email", "required"),
                ("phone", "required"),
            ],
        ),
        (
            without(seed_person(), &["email"]),
            vec![("email", "required")],
        ),
        (
            with(seed_person(), &["firstName"], json!(null)),
            vec![("firstName", "required")],
        ),
        (
            with(seed_person(), &["firstName"], json!(42)),
            vec![("firstName", "type")],
        ),
        (
            with(seed_person(), &["firstName"], json!("J0hn")),
            vec![("firstName", "digits")],
        ),
        (
            with(seed_person(), &["firstName"], json!(" John")),
            vec![("firstName", "edge_whitespace")],
        ),
        (
            with(seed_person(), &["firstName"], json!("")),
            vec![("firstName", "length")],
        ),
        (
            with(seed_person(), &["lastName"], json!("Doe!")),
            vec![("lastName", "charset")],
        ),
        (
            with(seed_person(), &["middleName"], json!("x".repeat(101))),
            vec![("middleName", "length")],
        ),
        (
            with(seed_person(), &["email"], json!("john.doe")),
            vec![("email", "format")],
        ),
        (
            with(seed_person(), &["phone"], json!("2025550165")),
            vec![("phone", "e164")],
        ),
        (
            with(
                seed_person(),
                &["phone"],
                json!({"number": "+12025550165", "sms": true}),
            ),
            vec![("phone", "type")],
        ),
        (
            with(seed_person(), &["phone"], json!("+1202555016")),
            vec![("phone", "possible_number")],
        ),
        (
            with(seed_person(), &["dateOfBirth"], json!("1995-02-29")),
            vec![("dateOfBirth", "calendar_date")],
        ),
        (
            with(seed_person(), &["dateOfBirth"], json!("1995-04-31")),
            vec![("dateOfBirth", "calendar_date")],
        ),
        (
            with(seed_person(), &["dateOfBirth"], json!("25/04/1995")),
            vec![("dateOfBirth", "calendar_date")],
        ),
        (
            with(seed_person(), &["ssn"], json!("30546488")),
            vec![("ssn", "format")],
        ),
        (
            with(seed_person(), &["ssn"], json!(305464885)),
            vec![("ssn", "type")],
        ),
        (
            with(seed_person(), &["gender"], json!("other")),
            vec![("gender", "enum")],
        ),
        (
            with(seed_person(), &["gender"], json!(true)),
            vec![("gender", "type")],
        ),
        (
            with(seed_person(), &["address"], json!("4220 Davisson Street")),
            vec![("address", "type")],
        ),
        (
            with(seed_person(), &["address", "postalCode"], json!("4617")),
            vec![("address.postalCode", "us_postal_code")],
        ),
        (
            with(
                seed_person(),
                &["address", "postalCode"],
                json!("46173-1234"),
            ),
            vec![("address.postalCode", "us_postal_code")],
        ),
        (
            with(seed_person(), &["address", "postalCode"], json!(46173)),
            vec![("address.postalCode", "type")],
        ),
        (
            without(seed_person(), &["address", "postalCode"]),
            vec![("address.postalCode", "required")],
        ),
        (
            without(seed_person(), &["address", "state"]),
            vec![("address.state", "required")],
        ),
        (
            with(seed_person(), &["address", "state"], json!("XX")),
            vec![("address.state", "unknown_code")],
        ),
        (
            with(seed_person(), &["address", "state"], json!("Indiana")),
            vec![("address.state", "unknown_code")],
        ),
        (
            with(seed_person(), &["address", "country"], json!("USA")),
            vec![("address.country", "unknown_code")],
        ),
        (
            without(seed_person(), &["address", "country"]),
            vec![("address.country", "required")],
        ),
        (
            without(seed_person(), &["address", "street1"]),
            vec![("address.street1", "required")],
        ),
        (
            with(seed_person(), &["address", "street2"], json!("")),
            vec![("address.street2", "length")],
        ),
        (
            with(seed_person(), &["address", "city"], json!("\u{7}")),
            vec![("address.city", "control_characters")],
        ),
        (
            with(seed_person(), &["address", "zip"], json!("46173")),
            vec![("address.zip", "unknown_field")],
        ),
        (
            with(seed_person(), &["dueDiligence"], json!({"pet": "cat"})),
            vec![("dueDiligence.pet", "unknown_field")],
        ),
        (
            with(
                seed_person(),
                &["dueDiligence"],
                json!({"occupation": " x"}),
            ),
            vec![("dueDiligence.occupation", "edge_whitespace")],
        ),
        (
            with(seed_person(), &["dueDiligence"], json!([])),
            vec![("dueDiligence", "type")],
        ),
        (
            with(seed_person(), &["id"], json!("x")),
            vec![("id", "unknown_field")],
        ),
        (
            with(seed_person(), &["kycLevel"], json!("L2")),
            vec![("kycLevel", "unknown_field")],
        ),
        (
            with(seed_person(), &["identityConfirmed"], json!(true)),
            vec![("identityConfirmed", "unknown_field")],
        ),
        (
            with(seed_person(), &["birthday"], json!("1995-04-25")),
            vec![("birthday", "unknown_field")],
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            violations(parse_personal_create(&body)),
            pairs(&expected),
            "{body}"
        );
    }
}

#[test]
fn non_us_addresses_use_the_generic_rules() {
    let address = json!({"street1": "1 High Street", "street2": "Northern Quarter",
        "city": "Manchester", "postalCode": "M4 1AA", "country": "gb"});
    let body = with(seed_person(), &["address"], address.clone());
    let data = parse_personal_create(&body).unwrap();
    let a = data.address.unwrap();
    assert_eq!(a.country().as_str(), "GB");
    assert_eq!(a.state(), None);
    assert_eq!(a.postal_code(), "M4 1AA");
    // A region name is free text abroad, and a ZIP-like rule does not apply.
    let body = with(
        with(address.clone(), &["state"], json!("Greater Manchester")),
        &["postalCode"],
        json!("M4-1AA"),
    );
    let a = parse_personal_create(&with(seed_person(), &["address"], body))
        .unwrap()
        .address
        .unwrap();
    assert_eq!(a.state(), Some("Greater Manchester"));
    let bad = with(address, &["postalCode"], json!("M4_1AA"));
    assert_eq!(
        violations(parse_personal_create(&with(
            seed_person(),
            &["address"],
            bad
        ))),
        pairs(&[("address.postalCode", "format")])
    );
}

#[test]
fn every_violation_is_reported_at_once_and_sorted() {
    let body = json!({"firstName": "J0hn", "lastName": "", "email": "bad", "phone": "123",
        "address": {"street1": "", "city": "Rushville", "postalCode": "4617", "country": "US"},
        "dateOfBirth": "1995-02-30", "ssn": "12", "gender": "x", "kycLevel": "L2", "zzz": 1});
    let err = parse_personal_create(&body).unwrap_err();
    let v = err.violations();
    let got: Vec<(&str, &str)> = v
        .iter()
        .map(|v| (v.field.as_str(), v.rule.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("address.postalCode", "us_postal_code"),
            ("address.state", "required"),
            ("address.street1", "length"),
            ("dateOfBirth", "calendar_date"),
            ("email", "format"),
            ("firstName", "digits"),
            ("gender", "enum"),
            ("kycLevel", "unknown_field"),
            ("lastName", "length"),
            ("phone", "e164"),
            ("ssn", "format"),
            ("zzz", "unknown_field"),
        ]
    );
    assert!(v.windows(2).all(|w| w[0] < w[1]));
    assert!(v.iter().all(|v| !v.message.is_empty()));
    assert_eq!(err.to_string(), "validation failed: 12 violation(s)");
}

#[test]
fn violations_serialize_for_the_error_details() {
    let err = parse_personal_create(&json!({"firstName": "John", "lastName": "Doe",
        "email": "j@example.com", "phone": "+12025550165", "ssn": "1"}))
    .unwrap_err();
    let json = serde_json::to_value(err.violations()).unwrap();
    assert_eq!(
        json,
        json!([{"field": "ssn", "rule": "format", "message": "must be 9 digits, optionally as 123-45-6789"}])
    );
}

// ----- personal patch ------------------------------------------------------------------------

fn current() -> PersonalData {
    parse_personal_create(&seed_person()).unwrap()
}

#[test]
fn seed_patches_parse_and_apply() {
    // Seed 000's second PATCH: the ZIP belongs to Ohio, which is the KYC check's business, not
    // the edge's.
    let body = json!({"address": {"street1": "4220 Davidson Street", "postalCode": "45221",
        "city": "Rushville", "state": "IN", "country": "US"},
        "dateOfBirth": "1987-03-25", "ssn": "305464885"});
    let patch = parse_personal_patch(&body).unwrap();
    assert_eq!(
        patch.changed_fields(),
        vec!["address", "dateOfBirth", "ssn"]
    );
    assert!(patch.touches_kyc_fields());
    assert!(patch.touches_locked_fields());
    let next = patch.apply(&current());
    assert_eq!(next.address.as_ref().unwrap().postal_code(), "45221");
    assert_eq!(next.date_of_birth.unwrap().to_iso(), "1987-03-25");
    assert_eq!(next.first_name, current().first_name);
    assert_eq!(next.email, current().email);
    assert_eq!(patch.locked_fields_changed(&current()), vec!["dateOfBirth"]);
}

#[test]
fn patch_null_clears_optional_fields() {
    let body = json!({"middleName": null, "address": null, "dateOfBirth": null, "ssn": null,
        "gender": null, "dueDiligence": null});
    let patch = parse_personal_patch(&body).unwrap();
    let next = patch.apply(&current());
    assert_eq!(next.middle_name, None);
    assert_eq!(next.address, None);
    assert_eq!(next.date_of_birth, None);
    assert_eq!(next.ssn, None);
    assert_eq!(next.gender, None);
    assert_eq!(
        patch.changed_fields(),
        vec![
            "middleName",
            "address",
            "dateOfBirth",
            "ssn",
            "gender",
            "dueDiligence"
        ]
    );
}

#[test]
fn patch_kyc_and_locked_field_classification() {
    let cases: &[(Value, bool, bool)] = &[
        (json!({"email": "new@example.com"}), false, false),
        (
            json!({"dueDiligence": {"occupation": "Chef"}}),
            false,
            false,
        ),
        (json!({"phone": "+12025550166"}), true, false),
        (json!({"address": null}), true, false),
        (json!({"gender": "male"}), false, true),
        (json!({"firstName": "Jon"}), true, true),
        (json!({"middleName": null}), true, true),
        (json!({"lastName": "Roe"}), true, true),
        (json!({"ssn": "305-46-4885"}), true, true),
        (json!({"dateOfBirth": "1990-01-01"}), true, true),
    ];
    for (body, kyc, locked) in cases {
        let patch = parse_personal_patch(body).unwrap();
        assert_eq!(patch.touches_kyc_fields(), *kyc, "{body}");
        assert_eq!(patch.touches_locked_fields(), *locked, "{body}");
    }
    // Re-sending the same name changes nothing that is locked.
    let same = parse_personal_patch(&json!({"firstName": "John", "lastName": "Doe"})).unwrap();
    assert!(same.touches_locked_fields());
    assert!(same.locked_fields_changed(&current()).is_empty());
}

#[test]
fn patch_violations() {
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (json!({}), vec![("", "empty_patch")]),
        (json!([{"firstName": "John"}]), vec![("", "type")]),
        (json!({"firstName": null}), vec![("firstName", "required")]),
        (
            json!({"lastName": null, "email": null, "phone": null}),
            vec![
                ("email", "required"),
                ("lastName", "required"),
                ("phone", "required"),
            ],
        ),
        (
            json!({"email": "a@@example.com"}),
            vec![("email", "format")],
        ),
        (
            json!({"address": {"street1": "x", "city": "y", "country": "US", "postalCode": "46173"}}),
            vec![("address.state", "required")],
        ),
        (
            json!({"id": "5", "version": 3}),
            vec![("id", "unknown_field"), ("version", "unknown_field")],
        ),
        (
            json!({"identityConfirmed": true, "ssn": "305464885"}),
            vec![("identityConfirmed", "unknown_field")],
        ),
        (json!({"ssn": "305-464-885"}), vec![("ssn", "format")]),
    ];
    for (body, expected) in cases {
        assert_eq!(
            violations(parse_personal_patch(&body)),
            pairs(&expected),
            "{body}"
        );
    }
}

// ----- business ------------------------------------------------------------------------------

fn seed_business(owner: PersonalIdentityId) -> Value {
    json!({
        "legalName": "Acme Widgets, Inc.",
        "email": "ops@acme.example",
        "phone": "+12025550165",
        "address": {"street1": "1 Main St", "city": "Wilmington", "state": "DE",
                    "postalCode": "19801", "country": "US"},
        "taxId": "12-3456789",
        "formationRegion": "US-DE",
        "identityOwner": owner.to_string()
    })
}

fn current_business() -> BusinessData {
    parse_business_create(&seed_business(PersonalIdentityId::random())).unwrap()
}

#[test]
fn business_create_parses() {
    let owner = PersonalIdentityId::random();
    let data = parse_business_create(&seed_business(owner)).unwrap();
    assert_eq!(data.legal_name.as_str(), "Acme Widgets, Inc.");
    assert_eq!(data.tax_id.as_str(), "123456789");
    assert_eq!(data.formation_region.as_str(), "US-DE");
    assert_eq!(data.identity_owner, owner);
    // A German company: the tax id is not an EIN.
    let de = json!({"legalName": "Beispiel GmbH", "email": "info@beispiel.de",
        "phone": "+493012345678", "address": {"street1": "Unter den Linden 1", "city": "Berlin",
        "postalCode": "10117", "country": "DE"}, "taxId": "DE123456789", "formationRegion": "DE",
        "identityOwner": owner.to_string()});
    assert_eq!(
        parse_business_create(&de).unwrap().tax_id.as_str(),
        "DE123456789"
    );
}

#[test]
fn business_create_violations() {
    let owner = PersonalIdentityId::random();
    let seed = || seed_business(owner);
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({}),
            vec![
                ("address", "required"),
                ("email", "required"),
                ("formationRegion", "required"),
                ("identityOwner", "required"),
                ("legalName", "required"),
                ("phone", "required"),
                ("taxId", "required"),
            ],
        ),
        (
            with(seed(), &["taxId"], json!("DE123456789")),
            vec![("taxId", "ein")],
        ),
        (
            with(seed(), &["taxId"], json!("12-345678")),
            vec![("taxId", "ein")],
        ),
        (
            with(seed(), &["formationRegion"], json!("US-XX")),
            vec![("formationRegion", "unknown_code")],
        ),
        // With the formation region broken, the address's country decides the tax-id rule.
        (
            with(
                with(seed(), &["formationRegion"], json!("ZZ")),
                &["taxId"],
                json!("abc"),
            ),
            vec![("formationRegion", "unknown_code"), ("taxId", "ein")],
        ),
        (
            with(seed(), &["identityOwner"], json!("not-a-uuid")),
            vec![("identityOwner", "uuid")],
        ),
        (
            with(seed(), &["identityOwner"], json!(null)),
            vec![("identityOwner", "required")],
        ),
        (
            with(seed(), &["address"], json!(null)),
            vec![("address", "required")],
        ),
        (
            with(seed(), &["legalName"], json!(" Acme")),
            vec![("legalName", "edge_whitespace")],
        ),
        (
            with(seed(), &["kycLevel"], json!("L1")),
            vec![("kycLevel", "unknown_field")],
        ),
        (
            with(seed(), &["id"], json!("x")),
            vec![("id", "unknown_field")],
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            violations(parse_business_create(&body)),
            pairs(&expected),
            "{body}"
        );
    }
}

#[test]
fn business_patch_checks_the_tax_id_against_the_effective_country() {
    let current = current_business();
    // No country in the patch: the tax id is checked at apply, against the stored region, so a
    // US company's malformed tax id breaks the EIN rule whatever its shape.
    for raw in ["DE123456789", "AB-CDEFGHI", "!"] {
        let patch = parse_business_patch(&json!({ "taxId": raw })).unwrap();
        assert_eq!(
            violations(patch.apply(&current)),
            pairs(&[("taxId", "ein")]),
            "{raw}"
        );
    }
    let abroad = parse_business_patch(&json!({"formationRegion": "DE"}))
        .unwrap()
        .apply(&current)
        .unwrap();
    let patch = parse_business_patch(&json!({"taxId": "AB-CDEFGHI"})).unwrap();
    assert_eq!(
        violations(patch.apply(&abroad)),
        pairs(&[("taxId", "format")])
    );
    let patch = parse_business_patch(&json!({"taxId": "98-7654321"})).unwrap();
    assert_eq!(patch.changed_fields(), vec!["taxId"]);
    assert!(patch.touches_tax_details());
    assert_eq!(patch.apply(&current).unwrap().tax_id.as_str(), "987654321");
    let patch = parse_business_patch(&json!({"taxId": "DE123456789"})).unwrap();
    assert_eq!(
        violations(patch.apply(&current)),
        pairs(&[("taxId", "ein")])
    );
    // Moving the company abroad keeps its (still well-formed) tax id.
    let patch = parse_business_patch(&json!({"formationRegion": "DE"})).unwrap();
    assert_eq!(patch.apply(&current).unwrap().tax_id.as_str(), "123456789");
    // A patch naming both checks them together at parse time.
    assert_eq!(
        violations(parse_business_patch(
            &json!({"formationRegion": "US", "taxId": "DE1"})
        )),
        pairs(&[("taxId", "ein")])
    );
    // Names and other fields.
    let patch = parse_business_patch(&json!({"legalName": "Acme Holdings"})).unwrap();
    let next = patch.apply(&current).unwrap();
    assert_eq!(next.legal_name.as_str(), "Acme Holdings");
    assert_eq!(next.tax_id, current.tax_id);
    assert!(!patch.touches_tax_details());
}

#[test]
fn business_patch_violations() {
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (json!({}), vec![("", "empty_patch")]),
        (json!({"legalName": null}), vec![("legalName", "required")]),
        (
            json!({"taxId": null, "address": null}),
            vec![("address", "required"), ("taxId", "required")],
        ),
        (
            json!({"taxId": "!", "formationRegion": "DE"}),
            vec![("taxId", "format")],
        ),
        (json!({"identityOwner": 7}), vec![("identityOwner", "type")]),
        (json!({"version": 2}), vec![("version", "unknown_field")]),
    ];
    for (body, expected) in cases {
        assert_eq!(
            violations(parse_business_patch(&body)),
            pairs(&expected),
            "{body}"
        );
    }
}

// ----- KYC sessions --------------------------------------------------------------------------

const USR: &str = "usr-0b5a6f2e-3c1d-4e8f-9a7b-6c5d4e3f2a1b";

fn import_body() -> Value {
    json!({
        "userId": USR,
        "type": "import",
        "output": {
            "provider": "veriff",
            "document": {"type": "passport", "number": "7700225VH", "country": "GB",
                         "expiresAt": "2026-03-13"},
            "person": {"givenName": "John", "familyName": "Doe", "birthdate": "1987-09-04",
                       "gender": "male",
                       "address": {"country": "GB", "subdivision": "GB-MAN", "city": "Manchester",
                                   "line1": "1 High Street", "line2": "Northern Quarter",
                                   "postalCode": "M4 1AA"}},
            "verifiedAt": "2020-01-01T00:00:00Z"
        }
    })
}

#[test]
fn sessions_parse() {
    let r = parse_kyc_session(&json!({"userId": USR, "type": "full",
        "redirectUri": "https://app.example.com/kyc/done?x=1"}))
    .unwrap();
    assert_eq!(r.kind, KycSessionType::Full);
    assert_eq!(r.user_id.to_string(), &USR[4..]);
    assert_eq!(
        r.redirect_uri.unwrap().as_str(),
        "https://app.example.com/kyc/done?x=1"
    );
    assert_eq!(r.output, None);
    // The bare identity id is the same user.
    let bare = parse_kyc_session(&json!({"userId": &USR[4..], "type": "rfi"})).unwrap();
    assert_eq!(bare.user_id.to_string(), &USR[4..]);
    for kind in ["shipping", "rfi", "full"] {
        assert!(parse_kyc_session(&json!({"userId": USR, "type": kind})).is_ok());
    }
}

#[test]
fn import_sessions_parse_the_seed_output() {
    let r = parse_kyc_session(&import_body()).unwrap();
    assert_eq!(r.kind, KycSessionType::Import);
    let out = r.output.unwrap();
    assert_eq!(out.provider.as_str(), "veriff");
    assert_eq!(out.document.kind, ImportDocumentType::Passport);
    assert_eq!(out.document.number.as_str(), "7700225VH");
    assert_eq!(out.document.country.as_str(), "GB");
    assert_eq!(out.document.expires_at.unwrap().to_string(), "2026-03-13");
    assert_eq!(out.person.given_name.as_str(), "John");
    assert_eq!(out.person.birthdate.to_iso(), "1987-09-04");
    assert_eq!(out.person.gender, Some(Gender::Male));
    let a = out.person.address.unwrap();
    assert_eq!(a.street1().as_str(), "1 High Street");
    assert_eq!(a.state(), Some("GB-MAN"));
    assert_eq!(out.verified_at.unix_timestamp(), 1_577_836_800);
    // Seed 002's body as it is: its `input` (the provider's media) is accepted and unused.
    let seed = with(
        import_body(),
        &["input"],
        json!({"media": [{"context": "photo-selfie",
                          "fileId": "470b2192-893f-4ce6-9daa-816d4c319a84"}]}),
    );
    assert_eq!(
        parse_kyc_session(&seed).unwrap().output,
        parse_kyc_session(&import_body()).unwrap().output
    );
    // A US address: the subdivision is the state.
    let us = with(
        import_body(),
        &["output", "person", "address"],
        json!({"country": "US", "subdivision": "US-IN", "city": "Rushville",
               "line1": "4220 Davisson Street", "postalCode": "46173"}),
    );
    let a = parse_kyc_session(&us)
        .unwrap()
        .output
        .unwrap()
        .person
        .address
        .unwrap();
    assert!(matches!(a.region(), AddressRegion::Us { state, .. } if state.as_str() == "IN"));
}

#[test]
fn session_violations() {
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({}),
            vec![("type", "required"), ("userId", "required")],
        ),
        (json!({"userId": USR}), vec![("type", "required")]),
        (
            json!({"userId": USR, "type": "kyc"}),
            vec![("type", "enum")],
        ),
        (
            json!({"userId": "usr-123", "type": "full"}),
            vec![("userId", "user_id")],
        ),
        // Right length, but version 1.
        (
            json!({"userId": "usr-0b5a6f2e-3c1d-1e8f-9a7b-6c5d4e3f2a1b", "type": "full"}),
            vec![("userId", "user_id")],
        ),
        // Right length, not hex.
        (
            json!({"userId": "usr-0b5a6f2e-3c1d-4e8f-9a7b-6c5d4e3f2a1z", "type": "full"}),
            vec![("userId", "user_id")],
        ),
        (
            json!({"userId": "usr-0b5a6f2e3c1d4e8f9a7b6c5d4e3f2a1b", "type": "full"}),
            vec![("userId", "user_id")],
        ),
        (
            json!({"userId": "0b5a6f2e3c1d4e8f9a7b6c5d4e3f2a1b", "type": "full"}),
            vec![("userId", "user_id")],
        ),
        (
            json!({"userId": USR, "type": "full", "redirectUri": "javascript:alert(1)"}),
            vec![("redirectUri", "url")],
        ),
        (
            json!({"userId": USR, "type": "full", "redirectUri": "/relative"}),
            vec![("redirectUri", "url")],
        ),
        (
            json!({"userId": USR, "type": "full", "redirectUri": "https://user:pw@evil.example/"}),
            vec![("redirectUri", "url")],
        ),
        (
            json!({"userId": USR, "type": "full", "redirectUri": "https://a.example:99999/"}),
            vec![("redirectUri", "url")],
        ),
        (
            json!({"userId": USR, "type": "full", "redirectUri": "https://a.example/ b"}),
            vec![("redirectUri", "url")],
        ),
        (
            json!({"userId": USR, "type": "import"}),
            vec![("output", "required")],
        ),
        (
            json!({"userId": USR, "type": "full", "output": {}}),
            vec![("output", "not_allowed")],
        ),
        (
            json!({"userId": USR, "type": "full", "input": {}}),
            vec![("input", "not_allowed")],
        ),
        (
            with(import_body(), &["input"], json!([])),
            vec![("input", "type")],
        ),
        (
            with(
                import_body(),
                &["output", "document", "type"],
                json!("visa"),
            ),
            vec![("output.document.type", "enum")],
        ),
        (
            with(
                import_body(),
                &["output", "document", "expiresAt"],
                json!("2026-02-30"),
            ),
            vec![("output.document.expiresAt", "calendar_date")],
        ),
        (
            with(
                import_body(),
                &["output", "verifiedAt"],
                json!("2020-01-01"),
            ),
            vec![("output.verifiedAt", "rfc3339")],
        ),
        (
            without(import_body(), &["output", "person", "birthdate"]),
            vec![("output.person.birthdate", "required")],
        ),
        (
            with(import_body(), &["output", "person", "gender"], json!("x")),
            vec![("output.person.gender", "enum")],
        ),
        (
            with(
                import_body(),
                &["output", "person", "address", "subdivision"],
                json!("FR-75"),
            ),
            vec![("output.person.address.subdivision", "subdivision_country")],
        ),
        (
            with(
                import_body(),
                &["output", "person", "address", "line2"],
                json!(""),
            ),
            vec![("output.person.address.line2", "length")],
        ),
        (
            with(
                import_body(),
                &["output", "person", "middleName"],
                json!("x"),
            ),
            vec![("output.person.middleName", "unknown_field")],
        ),
        (
            with(
                import_body(),
                &["output", "document", "number"],
                json!("77<00"),
            ),
            vec![("output.document.number", "format")],
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            violations(parse_kyc_session(&body)),
            pairs(&expected),
            "{body}"
        );
    }
}

#[test]
fn violation_is_plain_data() {
    let v = Violation {
        field: "a".into(),
        rule: "b".into(),
        message: "c".into(),
    };
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"field":"a","rule":"b","message":"c"}"#
    );
}
