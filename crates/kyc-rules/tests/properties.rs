//! Properties of the parsers and KYC rules over generated input.
#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers: a bad fixture should fail the test"
)]

use kyc_model::{
    Address, AddressLine, AddressRegion, DateOfBirth, PersonName, PersonalData, PersonalIdentityId,
    Phone, Ssn, USPS_CODES, UsState, UsZip,
};
use kyc_rules::{
    RulesError, kyc, parse_business_create, parse_business_patch, parse_kyc_session,
    parse_personal_create, parse_personal_patch,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use time::{Date, Duration, macros::date};

/// Keys the parsers know, so generated objects reach deep into them.
const KEYS: &[&str] = &[
    "firstName",
    "middleName",
    "lastName",
    "email",
    "phone",
    "address",
    "street1",
    "street2",
    "city",
    "state",
    "postalCode",
    "country",
    "dateOfBirth",
    "ssn",
    "gender",
    "dueDiligence",
    "occupation",
    "legalName",
    "taxId",
    "formationRegion",
    "identityOwner",
    "userId",
    "type",
    "redirectUri",
    "output",
    "provider",
    "document",
    "person",
    "verifiedAt",
    "number",
    "expiresAt",
    "givenName",
    "familyName",
    "birthdate",
    "subdivision",
    "line1",
    "line2",
    "id",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        prop::sample::select(vec![
            "John",
            "Doe",
            "US",
            "IN",
            "46173",
            "+12025550165",
            "j@example.com",
            "305464885",
            "1995-04-25",
            "male",
            "import",
            "full",
            "passport",
            "US-DE",
            "12-3456789",
            "GB",
            "2020-01-01T00:00:00Z",
            "usr-0b5a6f2e-3c1d-4e8f-9a7b-6c5d4e3f2a1b",
            "0b5a6f2e-3c1d-4e8f-9a7b-6c5d4e3f2a1b",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            3 => prop::sample::select(KEYS).prop_map(str::to_owned),
            1 => any::<String>(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn seed_person() -> Value {
    json!({
        "firstName": "John", "middleName": "Second", "lastName": "Doe",
        "phone": "+12025550165", "email": "john.doe@example.com",
        "address": {"street1": "4220 Davisson Street", "postalCode": "46173",
                    "city": "Rushville", "state": "IN", "country": "US"},
        "dateOfBirth": "1995-04-25", "ssn": "305464885", "gender": "male",
        "dueDiligence": {"occupation": "Engineer"}
    })
}

/// The wire form of a person, as the server would print it (with the write-only SSN).
fn to_wire(data: &PersonalData) -> Value {
    let mut body = json!({
        "firstName": data.first_name.as_str(),
        "lastName": data.last_name.as_str(),
        "email": data.email.as_str(),
        "phone": data.phone.as_str(),
    });
    if let Some(m) = &data.middle_name {
        body["middleName"] = json!(m.as_str());
    }
    if let Some(a) = &data.address {
        let mut address = json!({
            "street1": a.street1().as_str(),
            "city": a.city().as_str(),
            "postalCode": a.postal_code(),
            "country": a.country().as_str(),
        });
        if let Some(s) = a.street2() {
            address["street2"] = json!(s.as_str());
        }
        if let Some(s) = a.state() {
            address["state"] = json!(s);
        }
        body["address"] = address;
    }
    if let Some(d) = data.date_of_birth {
        body["dateOfBirth"] = json!(d.to_iso());
    }
    if let Some(s) = &data.ssn {
        body["ssn"] = json!(s.as_str());
    }
    if let Some(g) = data.gender {
        body["gender"] = serde_json::to_value(g).unwrap();
    }
    if let Some(dd) = &data.due_diligence {
        body["dueDiligence"] = serde_json::to_value(dd).unwrap();
    }
    body
}

fn check_error(err: &RulesError) -> Result<(), TestCaseError> {
    let v = err.violations();
    prop_assert!(!v.is_empty());
    // Strictly ascending: sorted and without duplicates.
    prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
    for violation in v {
        prop_assert!(!violation.rule.is_empty());
        prop_assert!(!violation.message.is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn parsers_never_panic_and_are_deterministic(body in json_value()) {
        let results = [
            parse_personal_create(&body).err(),
            parse_personal_patch(&body).err(),
            parse_business_create(&body).err(),
            parse_business_patch(&body).err(),
            parse_kyc_session(&body).err(),
        ];
        let again = [
            parse_personal_create(&body).err(),
            parse_personal_patch(&body).err(),
            parse_business_create(&body).err(),
            parse_business_patch(&body).err(),
            parse_kyc_session(&body).err(),
        ];
        prop_assert_eq!(&results, &again);
        for err in results.iter().flatten() {
            check_error(err)?;
        }
    }

    /// Replacing one field of a valid body with anything either still parses, with that field
    /// present in the result, or fails: a broken value is never silently dropped.
    #[test]
    fn a_broken_field_is_never_dropped(
        key in prop::sample::select(vec![
            "firstName", "middleName", "lastName", "email", "phone", "address", "dateOfBirth",
            "ssn", "gender", "dueDiligence",
        ]),
        nested in prop::sample::select(vec![None, Some("street1"), Some("street2"),
            Some("postalCode"), Some("state"), Some("country"), Some("city")]),
        value in json_value(),
    ) {
        let mut body = seed_person();
        match nested {
            Some(inner) if key == "address" => {
                body["address"][inner] = value.clone();
            }
            _ => body[key] = value.clone(),
        }
        let debug_value = value.clone();
        match parse_personal_create(&body) {
            Err(err) => check_error(&err)?,
            Ok(data) => {
                if value.is_null() {
                    return Ok(());
                }
                let present = match key {
                    "middleName" => data.middle_name.is_some(),
                    "address" => data.address.is_some(),
                    "dateOfBirth" => data.date_of_birth.is_some(),
                    "ssn" => data.ssn.is_some(),
                    "gender" => data.gender.is_some(),
                    "dueDiligence" => data.due_diligence.is_some(),
                    _ => true,
                };
                prop_assert!(present, "{} = {} was dropped", key, debug_value);
                if let ("address", Some("street2"), Some(a)) = (key, nested, &data.address) {
                    prop_assert!(a.street2().is_some());
                }
                // Printing the parsed person back to the wire and parsing it again is lossless.
                let wire = to_wire(&data);
                let reparsed = parse_personal_create(&wire).ok();
                prop_assert_eq!(reparsed.as_ref(), Some(&data));
            }
        }
        let patch_body = json!({ key: body[key].clone() });
        match parse_personal_patch(&patch_body) {
            Err(err) => check_error(&err)?,
            Ok(patch) => prop_assert_eq!(patch.changed_fields(), vec![key]),
        }
    }

    /// Bad PII values never come back in a violation or in the error's `Debug`.
    #[test]
    fn violations_never_echo_the_value(
        secret in "[A-Za-z]{3,12}[0-9]{2,6}[A-Za-z]{0,6}",
        field in prop::sample::select(vec![
            "firstName", "lastName", "email", "phone", "ssn", "dateOfBirth",
        ]),
        // Free-text fields (street, city) accept such strings; these two do not.
        in_address in prop::sample::select(vec![None, Some("postalCode"), Some("state")]),
    ) {
        let mut body = seed_person();
        match in_address {
            Some(inner) => body["address"][inner] = json!(secret),
            None => body[field] = json!(secret),
        }
        for result in [
            parse_personal_create(&body).err(),
            parse_personal_patch(&body).err(),
        ] {
            let err = result.unwrap();
            let shown = format!("{err:?} {err}");
            prop_assert!(!shown.contains(&secret), "{}", shown);
            for v in err.violations() {
                prop_assert!(!v.message.contains(&secret));
                prop_assert!(!v.field.contains(&secret));
            }
        }
    }

    #[test]
    fn kyc_rules_never_panic(
        first in "[\\p{L}]{1,12}",
        last in "[\\p{L}]{1,12}",
        phone in "\\+[1-9][0-9]{7,14}",
        state in prop::sample::select(USPS_CODES.to_vec()),
        zip in "[0-9]{5}",
        ssn in "[0-9]{9}",
        birth_days in 0i64..(365 * 150),
        today_days in 0i64..(365 * 150),
    ) {
        if let (Ok(f), Ok(l)) = (PersonName::parse(&first), PersonName::parse(&last)) {
            let _ = kyc::check_name(&f, None, &l);
        }
        if let Ok(p) = Phone::parse(&phone) {
            let _ = kyc::check_phone(&p);
        }
        let address = Address::new(
            AddressLine::parse("1 Main St").unwrap(),
            None,
            AddressLine::parse("Town").unwrap(),
            AddressRegion::Us { state: UsState::parse(state).unwrap(), zip: UsZip::parse(&zip).unwrap() },
        ).unwrap();
        let zip_result = kyc::check_address(&address);
        if let Err(f) = zip_result {
            prop_assert!(f.rule == "zip_state_mismatch" || f.rule == "zip_unassigned");
        }
        let ssn_result = kyc::check_ssn(&Ssn::parse(&ssn).unwrap());
        let area: u16 = ssn[..3].parse().unwrap();
        let bad_range = area == 0 || area == 666 || area >= 900 || &ssn[3..5] == "00" || &ssn[5..] == "0000";
        prop_assert_eq!(bad_range, ssn_result.is_err_and(|f| f.rule != "ssn_advertising"));

        let base = date!(1900 - 01 - 01);
        let birth = base + Duration::days(birth_days);
        let today = base + Duration::days(today_days);
        let dob = DateOfBirth::parse(&format!(
            "{:04}-{:02}-{:02}", birth.year(), u8::from(birth.month()), birth.day()
        )).unwrap();
        let outcome = kyc::check_date_of_birth(dob, today);
        prop_assert_eq!(outcome.is_ok(), reference_age_ok(birth, today));
    }
}

/// An independent age count: step year by year, using the calendar's own arithmetic.
fn reference_age_ok(birth: Date, today: Date) -> bool {
    if birth > today {
        return false;
    }
    // The n-th birthday: the same month and day n years later, or 1 March when that year has no
    // 29 February.
    let birthday = |n: i32| {
        let year = birth.year() + n;
        Date::from_calendar_date(year, birth.month(), birth.day())
            .unwrap_or_else(|_| Date::from_calendar_date(year, time::Month::March, 1).unwrap())
    };
    today >= birthday(18) && today < birthday(100)
}

#[test]
fn a_rejected_create_yields_no_value_at_all() {
    // One bad optional field fails the whole body: no PersonalData without it.
    let mut body = seed_person();
    body["ssn"] = json!("12");
    assert!(parse_personal_create(&body).is_err());
    let mut body = seed_person();
    body["dueDiligence"]["occupation"] = json!("");
    assert!(parse_personal_create(&body).is_err());
    let mut body = seed_person();
    body["address"]["street2"] = json!(5);
    assert!(parse_personal_create(&body).is_err());
}

#[test]
fn parsed_identities_do_not_leak_pii_through_debug() {
    let data = parse_personal_create(&seed_person()).unwrap();
    let patch = parse_personal_patch(&seed_person()).unwrap();
    let owner = PersonalIdentityId::random();
    let business = parse_business_create(&json!({"legalName": "Acme", "email": "ops@acme.example",
        "phone": "+12025550165", "address": {"street1": "1 Main St", "city": "Wilmington",
        "state": "DE", "postalCode": "19801", "country": "US"}, "taxId": "12-3456789",
        "formationRegion": "US-DE", "identityOwner": owner.to_string()}))
    .unwrap();
    let biz_patch = parse_business_patch(&json!({"taxId": "98-7654321"})).unwrap();
    for shown in [
        format!("{data:?}"),
        format!("{patch:?}"),
        format!("{business:?}"),
        format!("{biz_patch:?}"),
    ] {
        for secret in [
            "John",
            "Second",
            "Doe",
            "john.doe",
            "2025550165",
            "Davisson",
            "Rushville",
            "46173",
            "1995",
            "305464885",
            "Engineer",
            "3456789",
            "7654321",
            "19801",
            "Wilmington",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
