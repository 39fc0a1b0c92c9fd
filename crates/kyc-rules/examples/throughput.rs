//! Prints the cost of each KYC rule and of parsing the seed body, in nanoseconds per call.
//!
//! Run with `cargo run --release -p kyc-rules --example throughput`.

use std::{hint::black_box, time::Instant};

use kyc_model::{
    Address, AddressLine, AddressRegion, DateOfBirth, PersonName, Phone, Ssn, UsState, UsZip,
};
use kyc_rules::{kyc, parse_personal_create};
use serde_json::json;
use time::macros::date;

fn measure(label: &str, iterations: u32, mut f: impl FnMut()) {
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let ns = start.elapsed().as_nanos() / u128::from(iterations);
    println!("{label:<28} {ns:>8} ns/call");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let first = PersonName::parse("John")?;
    let middle = PersonName::parse("Second")?;
    let last = PersonName::parse("Doe")?;
    let phone = Phone::parse("+12025550165")?;
    let address = Address::new(
        AddressLine::parse("4220 Davisson Street")?,
        None,
        AddressLine::parse("Rushville")?,
        AddressRegion::Us {
            state: UsState::parse("IN")?,
            zip: UsZip::parse("46173")?,
        },
    )?;
    let ssn = Ssn::parse("305464885")?;
    let dob = DateOfBirth::parse("1995-04-25")?;
    let today = date!(2026 - 01 - 15);
    let body = json!({
        "firstName": "John", "middleName": "Second", "lastName": "Doe",
        "phone": "+12025550165", "email": "john.doe@example.com",
        "address": {"street1": "4220 Davisson Street", "postalCode": "46173",
                    "city": "Rushville", "state": "IN", "country": "US"},
        "dateOfBirth": "1995-04-25", "ssn": "305464885"
    });

    measure("check_name", 1_000_000, || {
        let _ = black_box(kyc::check_name(black_box(&first), Some(&middle), &last));
    });
    measure("check_address", 1_000_000, || {
        let _ = black_box(kyc::check_address(black_box(&address)));
    });
    measure("check_ssn", 1_000_000, || {
        let _ = black_box(kyc::check_ssn(black_box(&ssn)));
    });
    measure("check_date_of_birth", 1_000_000, || {
        let _ = black_box(kyc::check_date_of_birth(black_box(dob), today));
    });
    measure("check_phone", 20_000, || {
        let _ = black_box(kyc::check_phone(black_box(&phone)));
    });
    measure("parse_personal_create (seed)", 20_000, || {
        let _ = black_box(parse_personal_create(black_box(&body)));
    });
    Ok(())
}
