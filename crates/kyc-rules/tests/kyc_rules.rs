//! Table-driven tests of the semantic KYC rules.
#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers: a bad fixture should fail the test"
)]

use kyc_model::{
    Address, AddressLine, AddressRegion, CountryCode, DateOfBirth, PersonName, Phone, PostalCode,
    ProcessReason, Ssn, UsState, UsZip,
};
use kyc_rules::kyc::{
    self, RULES, SemanticFailure, check_address, check_date_of_birth, check_name, check_phone,
    check_ssn,
};
use time::{Date, Month, macros::date};

fn name(s: &str) -> PersonName {
    PersonName::parse(s).unwrap()
}

fn names(first: &str, middle: Option<&str>, last: &str) -> Result<(), SemanticFailure> {
    let middle = middle.map(name);
    check_name(&name(first), middle.as_ref(), &name(last))
}

fn us_address(state: &str, zip: &str) -> Address {
    Address::new(
        AddressLine::parse("4220 Davisson Street").unwrap(),
        None,
        AddressLine::parse("Rushville").unwrap(),
        AddressRegion::Us {
            state: UsState::parse(state).unwrap(),
            zip: UsZip::parse(zip).unwrap(),
        },
    )
    .unwrap()
}

fn failure(reason: ProcessReason, rule: &'static str) -> Result<(), SemanticFailure> {
    Err(SemanticFailure { reason, rule })
}

// ----- names ---------------------------------------------------------------------------------

#[test]
fn seed_names_pass() {
    assert_eq!(names("John", Some("Second"), "Doe"), Ok(()));
    assert_eq!(names("John", None, "Doe"), Ok(()));
}

#[test]
fn real_names_in_any_script_pass() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("José", None, "García"),
        ("Zoë", Some("Anne"), "Brontë"),
        ("Seán", None, "O'Brien"),
        ("Jean-Luc", None, "Picard"),
        ("Mei", None, "Ng"),
        ("Ee", None, "Soon"),
        ("Kok Keong", None, "Foo"),
        ("Refael", None, "Bar"),
        ("Zach", None, "Ertz"),
        ("Azer", None, "Aliyev"),
        ("Lili", None, "Wang"),
        ("小龙", None, "李"),
        ("Иван", Some("Петрович"), "Иванов"),
        ("محمد", None, "علي"),
        ("Δημήτρης", None, "Παπαδόπουλος"),
        ("नमस्ते", None, "शर्मा"),
        ("太郎", None, "田中"),
        ("J.", Some("R. R."), "Tolkien"),
        ("Malcolm", None, "X"),
        ("Stu", None, "Smith"),
    ];
    for &(f, m, l) in cases {
        assert_eq!(names(f, m, l), Ok(()), "{f} {m:?} {l}");
    }
}

#[test]
fn test_pattern_names_fail() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("Test", None, "Doe"),
        ("John", None, "TEST"),
        ("John", Some("test"), "Doe"),
        ("Testing", None, "Person"),
        ("Asdf", None, "Doe"),
        ("John", None, "Qwerty"),
        ("Xxx", None, "Doe"),
        ("Aaaa", None, "Smith"),
        ("Foo", None, "Bar"),
        ("Foo Bar", None, "Baz"),
        ("First", None, "Last"),
        ("Lorem", None, "Ipsum"),
        ("Sample", None, "User"),
        ("John", None, "Sample"),
        ("Asdfg", None, "Doe"),
        ("Jane", None, "Hjkl-Ghjkl"),
        ("Poiuy", None, "Doe"),
        ("Abcde", None, "Doe"),
        ("John", None, "Zxcvb"),
        ("Ааа", None, "Иванов"),
        ("Dummy", None, "Doe"),
        ("Unknown", None, "Unknown"),
    ];
    for &(f, m, l) in cases {
        assert_eq!(
            names(f, m, l),
            failure(ProcessReason::Fraud, "name_test_pattern"),
            "{f} {m:?} {l}"
        );
    }
}

// ----- phone ---------------------------------------------------------------------------------

#[test]
fn valid_phones_pass() {
    for raw in [
        "+12025550165", // the seed's number
        "+12015550123",
        "+447911123456",
        "+442079460000",
        "+4915123456789",
        "+493012345678",
        "+919876543210",
        "+5511987654321",
        "+819012345678",
        "+33612345678",
    ] {
        let phone = Phone::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(check_phone(&phone), Ok(()), "{raw}");
    }
}

#[test]
fn possible_but_invalid_phones_fail() {
    // Right length for the country, but in no allocated range: US area codes never start with
    // 0 or 1 and N11 codes are service codes; a GB number starting 44 has no range.
    let mut checked = 0;
    for raw in [
        "+11235550165",
        "+10005550165",
        "+19115550165",
        "+444412345678",
    ] {
        let Ok(phone) = Phone::parse(raw) else {
            continue;
        };
        checked += 1;
        assert_eq!(
            check_phone(&phone),
            failure(ProcessReason::DataMismatch, "phone_not_valid"),
            "{raw}"
        );
    }
    assert!(checked >= 2, "too few numbers passed the edge rule");
}

// ----- address -------------------------------------------------------------------------------

#[test]
fn seed_address_passes_and_the_ohio_zip_fails() {
    assert_eq!(check_address(&us_address("IN", "46173")), Ok(()));
    // The seed's second sample pairs Indiana with 45221, a Cincinnati ZIP.
    assert_eq!(
        check_address(&us_address("IN", "45221")),
        failure(ProcessReason::DataMismatch, "zip_state_mismatch")
    );
    assert_eq!(check_address(&us_address("OH", "45221")), Ok(()));
}

#[test]
fn zip_prefixes_match_their_states() {
    let good = [
        ("NY", "00501"),
        ("PR", "00601"),
        ("PR", "00901"),
        ("VI", "00802"),
        ("MA", "02108"),
        ("MA", "05501"),
        ("RI", "02903"),
        ("NH", "03301"),
        ("ME", "04101"),
        ("VT", "05401"),
        ("CT", "06103"),
        ("NJ", "07102"),
        ("AE", "09021"),
        ("NY", "10001"),
        ("PA", "19103"),
        ("DE", "19901"),
        ("DC", "20001"),
        ("DC", "20500"),
        ("VA", "20166"),
        ("MD", "20814"),
        ("MD", "21201"),
        ("VA", "23219"),
        ("WV", "25301"),
        ("NC", "27601"),
        ("SC", "29201"),
        ("GA", "30301"),
        ("GA", "39901"),
        ("FL", "33101"),
        ("AA", "34001"),
        ("FL", "34102"),
        ("AL", "35203"),
        ("TN", "37201"),
        ("MS", "39201"),
        ("KY", "40202"),
        ("OH", "43215"),
        ("IN", "46204"),
        ("MI", "48226"),
        ("IA", "50309"),
        ("WI", "53202"),
        ("MN", "55401"),
        ("DC", "56901"),
        ("SD", "57501"),
        ("ND", "58501"),
        ("MT", "59601"),
        ("IL", "60601"),
        ("MO", "63101"),
        ("KS", "66101"),
        ("NE", "68102"),
        ("LA", "70112"),
        ("AR", "72201"),
        ("OK", "73102"),
        ("TX", "73301"),
        ("TX", "75201"),
        ("TX", "79901"),
        ("TX", "88510"),
        ("CO", "80202"),
        ("WY", "82001"),
        ("ID", "83702"),
        ("UT", "84101"),
        ("AZ", "85001"),
        ("NM", "87501"),
        ("NV", "89501"),
        ("CA", "90210"),
        ("CA", "94105"),
        ("AP", "96201"),
        ("HI", "96813"),
        ("GU", "96910"),
        ("MP", "96950"),
        ("PW", "96940"),
        ("FM", "96941"),
        ("MH", "96960"),
        ("AS", "96799"),
        ("OR", "97201"),
        ("WA", "98101"),
        ("AK", "99501"),
    ];
    for (state, zip) in good {
        assert_eq!(
            check_address(&us_address(state, zip)),
            Ok(()),
            "{state} {zip}"
        );
    }
    let mismatched = [
        ("NY", "90210"),
        ("VT", "05501"),
        ("DC", "20166"),
        ("FL", "34001"),
        ("OK", "73301"),
        ("NM", "88510"),
        ("HI", "96799"),
        ("AS", "96813"),
        ("HI", "96910"),
        ("GU", "96813"),
        ("CA", "96201"),
        ("MN", "56901"),
        ("PR", "00802"),
    ];
    for (state, zip) in mismatched {
        assert_eq!(
            check_address(&us_address(state, zip)),
            failure(ProcessReason::DataMismatch, "zip_state_mismatch"),
            "{state} {zip}"
        );
    }
    for zip in [
        "00000", "00401", "09901", "21301", "26901", "71501", "88601", "99999",
    ] {
        let expected = if zip == "99999" {
            Ok(()) // Alaska's 999 is in use.
        } else {
            failure(ProcessReason::DataMismatch, "zip_unassigned")
        };
        let state = if zip == "99999" { "AK" } else { "NY" };
        assert_eq!(check_address(&us_address(state, zip)), expected, "{zip}");
    }
}

#[test]
fn non_us_addresses_pass() {
    let address = Address::new(
        AddressLine::parse("1 High Street").unwrap(),
        Some(AddressLine::parse("Northern Quarter").unwrap()),
        AddressLine::parse("Manchester").unwrap(),
        AddressRegion::Other {
            country: CountryCode::parse("GB").unwrap(),
            state: None,
            postal_code: PostalCode::parse("M4 1AA").unwrap(),
        },
    )
    .unwrap();
    assert_eq!(check_address(&address), Ok(()));
}

// ----- SSN -----------------------------------------------------------------------------------

#[test]
fn ssn_rules() {
    let dm = ProcessReason::DataMismatch;
    let cases: &[(&str, Result<(), SemanticFailure>)] = &[
        ("305464885", Ok(())),
        ("305-46-4885", Ok(())),
        ("001-01-0001", Ok(())),
        ("665-99-9999", Ok(())),
        ("667-01-0001", Ok(())),
        ("899-99-9999", Ok(())),
        ("000-12-3456", failure(dm, "ssn_area")),
        ("666-12-3456", failure(dm, "ssn_area")),
        ("900-12-3456", failure(dm, "ssn_area")),
        ("987-65-4320", failure(dm, "ssn_area")),
        ("999-99-9999", failure(dm, "ssn_area")),
        ("305-00-4885", failure(dm, "ssn_group")),
        ("305-46-0000", failure(dm, "ssn_serial")),
        (
            "078-05-1120",
            failure(ProcessReason::Fraud, "ssn_advertising"),
        ),
        (
            "219-09-9999",
            failure(ProcessReason::Fraud, "ssn_advertising"),
        ),
        (
            "457-55-5462",
            failure(ProcessReason::Fraud, "ssn_advertising"),
        ),
        (
            "123-45-6789",
            failure(ProcessReason::Fraud, "ssn_advertising"),
        ),
        (
            "123456789",
            failure(ProcessReason::Fraud, "ssn_advertising"),
        ),
    ];
    for (raw, expected) in cases {
        let ssn = Ssn::parse(raw).unwrap();
        assert_eq!(&check_ssn(&ssn), expected, "{raw}");
    }
}

// ----- date of birth -------------------------------------------------------------------------

fn dob(raw: &str) -> DateOfBirth {
    DateOfBirth::parse(raw).unwrap()
}

#[test]
fn seed_birth_dates_pass() {
    let today = date!(2026 - 01 - 15);
    assert_eq!(check_date_of_birth(dob("1995-04-25"), today), Ok(()));
    assert_eq!(check_date_of_birth(dob("1987-03-25"), today), Ok(()));
}

#[test]
fn age_limits_are_inclusive() {
    let under = failure(ProcessReason::Underage, "age_under_18");
    let over = failure(ProcessReason::DataMismatch, "age_over_99");
    let future = failure(ProcessReason::DataMismatch, "future_birth_date");
    let birth = dob("2000-06-15");
    let cases = [
        (date!(2018 - 06 - 15), Ok(())), // 18th birthday
        (date!(2018 - 06 - 14), under),  // the day before
        (date!(2000 - 06 - 15), under),  // born today
        (date!(2000 - 06 - 14), future), // not born yet
        (date!(2099 - 06 - 14), Ok(())), // 98, the day before 99
        (date!(2099 - 06 - 15), Ok(())), // 99th birthday
        (date!(2100 - 06 - 14), Ok(())), // last day of 99
        (date!(2100 - 06 - 15), over),   // 100th birthday
        (date!(2026 - 01 - 01), Ok(())),
    ];
    for (today, expected) in cases {
        assert_eq!(check_date_of_birth(birth, today), expected, "{today}");
    }
}

#[test]
fn leap_day_birthdays_count_from_the_first_of_march() {
    let birth = dob("2004-02-29");
    let under = failure(ProcessReason::Underage, "age_under_18");
    // 2022 is not a leap year: the 18th birthday is reached on 1 March.
    assert_eq!(check_date_of_birth(birth, date!(2022 - 02 - 28)), under);
    assert_eq!(check_date_of_birth(birth, date!(2022 - 03 - 01)), Ok(()));
    // In a leap year the birthday exists: 2024 would be the 20th, so check an 18th in a
    // leap year with a leap birth year 18 years earlier.
    let leap18 = dob("2006-02-28");
    assert_eq!(check_date_of_birth(leap18, date!(2024 - 02 - 27)), under);
    assert_eq!(check_date_of_birth(leap18, date!(2024 - 02 - 28)), Ok(()));
    // Born on a leap day, 18 on a leap day: 2008-02-29 turns 18 in 2026 (not leap) on 1 March.
    let birth = dob("2008-02-29");
    assert_eq!(check_date_of_birth(birth, date!(2026 - 02 - 28)), under);
    assert_eq!(check_date_of_birth(birth, date!(2026 - 03 - 01)), Ok(()));
    // And 100 on 1 March of a non-leap year.
    let old = dob("1920-02-29");
    assert_eq!(check_date_of_birth(old, date!(2020 - 02 - 28)), Ok(()));
    assert_eq!(
        check_date_of_birth(old, date!(2020 - 02 - 29)),
        failure(ProcessReason::DataMismatch, "age_over_99")
    );
    let old = dob("1924-02-29");
    assert_eq!(check_date_of_birth(old, date!(2024 - 02 - 28)), Ok(()));
    assert_eq!(
        check_date_of_birth(old, date!(2024 - 02 - 29)),
        failure(ProcessReason::DataMismatch, "age_over_99")
    );
}

#[test]
fn age_matches_a_reference_count_over_many_days() {
    // Reference: count birthdays by walking the calendar, independent of the implementation.
    let birth = Date::from_calendar_date(2000, Month::February, 29).unwrap();
    let dob_value = dob("2000-02-29");
    let mut today = date!(2017 - 12 - 01);
    while today < date!(2018 - 04 - 01) {
        let reached = today >= date!(2018 - 03 - 01);
        assert_eq!(
            check_date_of_birth(dob_value, today).is_ok(),
            reached,
            "{birth} on {today}"
        );
        today = today.next_day().unwrap();
    }
}

#[test]
fn every_rule_is_listed_once() {
    let mut sorted = RULES.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), RULES.len());
    assert!(RULES.iter().all(|r| {
        r.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
    }));
}

// ----- imports -------------------------------------------------------------------------------

fn import(expires: &str, verified: &str, birthdate: &str) -> kyc_rules::ImportOutput {
    let body = serde_json::json!({
        "userId": "usr-0b5a6f2e-3c1d-4e8f-9a7b-6c5d4e3f2a1b",
        "type": "import",
        "output": {
            "provider": "veriff",
            "document": {"type": "passport", "number": "7700225VH", "country": "GB",
                         "expiresAt": expires},
            "person": {"givenName": "John", "familyName": "Doe", "birthdate": birthdate},
            "verifiedAt": verified
        }
    });
    kyc_rules::parse_kyc_session(&body).unwrap().output.unwrap()
}

#[test]
fn import_checks() {
    use time::macros::datetime;
    let now = datetime!(2026 - 03 - 13 12:00 UTC);
    let seed = import("2026-03-13", "2020-01-01T00:00:00Z", "1987-09-04");
    // Valid through its expiry day.
    assert_eq!(kyc::check_import(&seed, now), Ok(()));
    assert_eq!(
        kyc::check_import(&seed, datetime!(2026 - 03 - 14 00:00 UTC)),
        failure(ProcessReason::ExpiredDocument, "document_expired")
    );
    let future = import("2030-01-01", "2026-03-13T12:00:01Z", "1987-09-04");
    assert_eq!(
        kyc::check_import(&future, now),
        failure(ProcessReason::DataMismatch, "verified_in_future")
    );
    // An offset is honoured: 13:30+02:00 is 11:30 UTC, in the past.
    let offset = import("2030-01-01", "2026-03-13T13:30:00+02:00", "1987-09-04");
    assert_eq!(kyc::check_import(&offset, now), Ok(()));
    let minor = import("2030-01-01", "2026-01-01T00:00:00Z", "2010-01-01");
    assert_eq!(
        kyc::check_import(&minor, now),
        failure(ProcessReason::Underage, "age_under_18")
    );
}

#[test]
fn import_must_match_the_identity() {
    let output = import("2030-01-01", "2020-01-01T00:00:00Z", "1987-09-04");
    let person = |first: &str, middle: Option<&str>, last: &str, dob: Option<&str>| {
        kyc_model::PersonalData {
            first_name: name(first),
            middle_name: middle.map(name),
            last_name: name(last),
            email: kyc_model::Email::parse("j@example.com").unwrap(),
            phone: Phone::parse("+12025550165").unwrap(),
            address: None,
            date_of_birth: dob.map(|d| DateOfBirth::parse(d).unwrap()),
            ssn: None,
            gender: None,
            due_diligence: None,
        }
    };
    let mismatch = failure(ProcessReason::DataMismatch, "import_mismatch");
    let cases = [
        (person("John", None, "Doe", Some("1987-09-04")), Ok(())),
        (person("JOHN", None, "doe", None), Ok(())),
        (person("John", None, "Doe", Some("1987-09-05")), mismatch),
        (person("Jon", None, "Doe", None), mismatch),
        (person("John", None, "Roe", None), mismatch),
    ];
    for (p, expected) in cases {
        assert_eq!(kyc::check_import_matches(&output, &p), expected);
    }
    // A provider may put the middle name into the given name.
    let mut body = serde_json::json!({"userId": "usr-0b5a6f2e-3c1d-4e8f-9a7b-6c5d4e3f2a1b",
        "type": "import", "output": {"provider": "veriff",
        "document": {"type": "id-card", "number": "X1", "country": "DE"},
        "person": {"givenName": "Jean Luc", "familyName": "Picard", "birthdate": "1987-09-04"},
        "verifiedAt": "2020-01-01T00:00:00Z"}});
    let out = kyc_rules::parse_kyc_session(&body).unwrap().output.unwrap();
    assert_eq!(out.document.expires_at, None);
    assert_eq!(
        kyc::check_import_matches(&out, &person("Jean", Some("Luc"), "Picard", None)),
        Ok(())
    );
    assert_eq!(
        kyc::check_import_matches(&out, &person("Jean", Some("Paul"), "Picard", None)),
        mismatch
    );
    body["output"]["person"]["givenName"] = serde_json::json!("Jean");
    let out = kyc_rules::parse_kyc_session(&body).unwrap().output.unwrap();
    assert_eq!(
        kyc::check_import_matches(&out, &person("Jean", Some("Luc"), "Picard", None)),
        Ok(())
    );

    // A gender or an address on both sides must agree; `undefined` agrees with anything.
    body["output"]["person"]["gender"] = serde_json::json!("female");
    body["output"]["person"]["address"] = serde_json::json!({"line1": "1 Rue de Rivoli",
        "city": "Paris", "postalCode": "75001", "country": "FR"});
    let out = kyc_rules::parse_kyc_session(&body).unwrap().output.unwrap();
    let mut jean = person("Jean", None, "Picard", None);
    assert_eq!(kyc::check_import_matches(&out, &jean), Ok(()));
    jean.gender = Some(kyc_model::Gender::Male);
    assert_eq!(kyc::check_import_matches(&out, &jean), mismatch);
    jean.gender = Some(kyc_model::Gender::Undefined);
    assert_eq!(kyc::check_import_matches(&out, &jean), Ok(()));
    let address = |line: &str, postal: &str, country: &str| {
        let body = serde_json::json!({"firstName": "Jean", "lastName": "Picard",
            "email": "j@example.com", "phone": "+12025550165",
            "address": {"street1": line, "city": "Paris", "postalCode": postal, "country": country}});
        kyc_rules::parse_personal_create(&body).unwrap().address
    };
    // Street lines are written many ways; the country and postal code decide.
    jean.address = address("1 rue de Rivoli, apt 2", "75 001", "FR");
    assert_eq!(kyc::check_import_matches(&out, &jean), Ok(()));
    jean.address = address("1 Rue de Rivoli", "75002", "FR");
    assert_eq!(kyc::check_import_matches(&out, &jean), mismatch);
    jean.address = address("1 Rue de Rivoli", "75001", "BE");
    assert_eq!(kyc::check_import_matches(&out, &jean), mismatch);

    // Seed 002 knows two genders.
    body["output"]["person"]["gender"] = serde_json::json!("undefined");
    let err = kyc_rules::parse_kyc_session(&body).unwrap_err();
    assert_eq!(err.violations()[0].field, "output.person.gender");
    assert_eq!(err.violations()[0].rule, "enum");
}
