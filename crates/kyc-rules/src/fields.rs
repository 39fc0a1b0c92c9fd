//! Parsers for the composite fields shared by persons and companies.

use kyc_model::{
    Address, AddressLine, AddressRegion, CountryCode, DueDiligence, Gender, ModelError, Phone,
    PostalCode, ShortText, UsState, UsZip,
};
use serde_json::Value;

use crate::json::{Ctx, Obj, raw_text, text};

/// An input phone number: E.164, and possible for its country (SPEC §3). The second rule is
/// applied to input only (see [`Phone`]).
pub(crate) fn phone(raw: &str) -> Result<Phone, ModelError> {
    let phone = Phone::parse(raw)?;
    phone.check_possible()?;
    Ok(phone)
}

/// The wire keys of an address.
pub(crate) const ADDRESS_KEYS: [&str; 6] = [
    "street1",
    "street2",
    "city",
    "state",
    "postalCode",
    "country",
];

/// Reads an address object. The country decides what `state` and `postalCode` must be: a USPS
/// code (required) and five digits for the US, an optional region name and a postal code
/// elsewhere. When the country itself is missing or invalid, only the types and presence of
/// `state` and `postalCode` are checked: their rules depend on a country we do not know.
pub(crate) fn address(ctx: &mut Ctx, path: &str, value: &Value) -> Option<Address> {
    let obj = Obj::new(ctx, path, value)?;
    obj.deny_unknown(ctx, &ADDRESS_KEYS, &[]);
    let street1 = obj
        .get(ctx, "street1", text(AddressLine::parse))
        .required(ctx);
    let street2 = obj.get(ctx, "street2", text(AddressLine::parse)).maybe();
    let city = obj.get(ctx, "city", text(AddressLine::parse)).required(ctx);
    let country = obj
        .get(ctx, "country", text(CountryCode::parse))
        .required(ctx);
    let state = obj.get(ctx, "state", raw_text());
    let postal = obj.get(ctx, "postalCode", raw_text());
    let region = match country {
        Some(CountryCode::US) => {
            let state = if state.is_missing() {
                ctx.violation(state.path(), "required", "is required when country is US");
                None
            } else {
                let path = state.path().to_owned();
                state
                    .optional()
                    .and_then(|raw| UsState::parse(raw).map_err(|e| ctx.model(&path, e)).ok())
            };
            let path = postal.path().to_owned();
            let zip = postal
                .required(ctx)
                .and_then(|raw| UsZip::parse(raw).map_err(|e| ctx.model(&path, e)).ok());
            state
                .zip(zip)
                .map(|(state, zip)| AddressRegion::Us { state, zip })
        }
        Some(country) => {
            let state_path = state.path().to_owned();
            let state = match state.optional() {
                None => Some(None),
                Some(raw) => AddressLine::parse(raw)
                    .map(Some)
                    .map_err(|e| ctx.model(&state_path, e))
                    .ok(),
            };
            let path = postal.path().to_owned();
            let postal_code = postal
                .required(ctx)
                .and_then(|raw| PostalCode::parse(raw).map_err(|e| ctx.model(&path, e)).ok());
            state
                .zip(postal_code)
                .map(|(state, postal_code)| AddressRegion::Other {
                    country,
                    state,
                    postal_code,
                })
        }
        None => {
            state.optional();
            postal.required(ctx);
            None
        }
    };
    let (street1, street2, city, region) = (street1?, street2?, city?, region?);
    Address::new(street1, street2, city, region)
        .map_err(|e| ctx.model(obj.path(), e))
        .ok()
}

/// The wire keys of the due-diligence answers.
pub(crate) const DUE_DILIGENCE_KEYS: [&str; 7] = [
    "employmentStatus",
    "occupation",
    "incomeSource",
    "sourceOfFunds",
    "annualIncome",
    "accountPurpose",
    "expectedMonthlyVolume",
];

/// Reads the due-diligence object: every answer optional, `null` meaning "no answer".
pub(crate) fn due_diligence(ctx: &mut Ctx, path: &str, value: &Value) -> Option<DueDiligence> {
    let obj = Obj::new(ctx, path, value)?;
    obj.deny_unknown(ctx, &DUE_DILIGENCE_KEYS, &[]);
    // `maybe`: a broken answer must not read as "no answer"; the whole object fails. Every
    // answer is read before any `?`, so all their violations are reported.
    let mut answer = |key| obj.get(ctx, key, text(ShortText::parse)).maybe();
    let answers = DUE_DILIGENCE_KEYS.map(&mut answer);
    let [
        employment_status,
        occupation,
        income_source,
        source_of_funds,
        annual_income,
        account_purpose,
        expected_monthly_volume,
    ] = answers;
    Some(DueDiligence {
        employment_status: employment_status?,
        occupation: occupation?,
        income_source: income_source?,
        source_of_funds: source_of_funds?,
        annual_income: annual_income?,
        account_purpose: account_purpose?,
        expected_monthly_volume: expected_monthly_volume?,
    })
}

/// Reads a gender, `male`, `female` or `undefined`, in any case (Public Mint writes `Male`).
pub(crate) fn gender(ctx: &mut Ctx, path: &str, value: &Value) -> Option<Gender> {
    const MESSAGE: &str = "must be one of male, female, undefined";
    let Value::String(raw) = value else {
        ctx.violation(path, "type", "must be a string");
        return None;
    };
    let gender = [
        ("male", Gender::Male),
        ("female", Gender::Female),
        ("undefined", Gender::Undefined),
    ]
    .into_iter()
    .find(|(name, _)| name.eq_ignore_ascii_case(raw))
    .map(|(_, g)| g);
    if gender.is_none() {
        ctx.violation(path, "enum", MESSAGE);
    }
    gender
}
