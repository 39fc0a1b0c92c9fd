//! PII and address value types. Each has a private field, exactly one fallible constructor
//! (`parse`, or `new` for composites) and read access; none has a setter.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, macros::format_description};

use crate::{
    ModelError,
    tables::{is_iso_country, is_usps_code},
};

/// Implements the shared plumbing of a string newtype: `as_str`, `Display` (for non-PII types),
/// serde through the constructor, and a `Debug` that hides PII.
macro_rules! string_newtype {
    ($name:ident, secret) => {
        string_newtype!(@read $name);
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
    ($name:ident, pii) => {
        string_newtype!(@common $name);
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
    ($name:ident, public) => {
        string_newtype!(@common $name);
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
    (@common $name:ident) => {
        string_newtype!(@read $name);
        impl TryFrom<String> for $name {
            type Error = ModelError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
    (@read $name:ident) => {
        impl $name {
            /// The canonical text of the value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn has_edge_whitespace(raw: &str) -> bool {
    raw.starts_with(char::is_whitespace) || raw.ends_with(char::is_whitespace)
}

fn char_len_in(raw: &str, min: usize, max: usize) -> bool {
    let n = raw.chars().count();
    (min..=max).contains(&n)
}

/// A personal name part (first, middle or last name): 1-100 characters of letters in any script,
/// combining marks, spaces, hyphens, apostrophes and periods; no digits, no edge spaces.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);
string_newtype!(PersonName, pii);

impl PersonName {
    /// Parses a name part.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        if !char_len_in(raw, 1, 100) {
            return Err(ModelError::invalid("length", "must be 1-100 characters"));
        }
        if has_edge_whitespace(raw) {
            return Err(ModelError::invalid(
                "edge_whitespace",
                "must not start or end with a space",
            ));
        }
        if raw.chars().any(|c| c.is_numeric()) {
            return Err(ModelError::invalid("digits", "must not contain digits"));
        }
        let allowed = |c: char| {
            c.is_alphabetic()
                || is_combining_mark(c)
                || matches!(c, ' ' | '-' | '\'' | '\u{2019}' | '.')
        };
        if !raw.chars().all(allowed) || raw.contains("  ") {
            return Err(ModelError::invalid(
                "charset",
                "may contain only letters, single spaces, hyphens, apostrophes and periods",
            ));
        }
        if !raw.chars().any(char::is_alphabetic) {
            return Err(ModelError::invalid("no_letters", "must contain a letter"));
        }
        Ok(Self(raw.to_owned()))
    }
}

/// Combining marks (general categories Mn, Mc, Me) that `char::is_alphabetic` does not cover:
/// the main Unicode combining blocks, enough for decomposed Latin, Indic and other scripts.
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05BD}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0900}'..='\u{0903}'
        | '\u{093A}'..='\u{094F}'
        | '\u{0E31}'..='\u{0E3A}'
        | '\u{0E47}'..='\u{0E4E}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{3099}'..='\u{309A}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// An email address: the practical subset of RFC 5322 that mail systems accept (a dot-atom
/// local part and a DNS domain with at least two labels), stored lowercased so that uniqueness
/// per tenant is case-insensitive.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);
string_newtype!(Email, pii);

impl Email {
    /// Parses and lowercases an address.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        const FORMAT: &str = "must be an email address such as name@example.com";
        if raw.len() > 254 {
            return Err(ModelError::invalid(
                "length",
                "must be at most 254 characters",
            ));
        }
        let Some((local, domain)) = raw.rsplit_once('@') else {
            return Err(ModelError::invalid("format", FORMAT));
        };
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
        let local_ok = (1..=64).contains(&local.len())
            && local
                .split('.')
                .all(|part| !part.is_empty() && part.chars().all(atext));
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let tld_ok = labels.last().is_some_and(|tld| {
            tld.len() >= 2
                && (tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--"))
        });
        if !local_ok || labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
            return Err(ModelError::invalid("format", FORMAT));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }
}

/// A phone number in E.164 form (`+` and up to 15 digits) whose length is possible for the
/// country its calling code and leading digits belong to.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);
string_newtype!(Phone, pii);

impl Phone {
    /// Parses an E.164 number and checks it is a possible number for its country.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let digits = raw.strip_prefix('+').unwrap_or("");
        let e164 = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !e164 {
            return Err(ModelError::invalid(
                "e164",
                "must be in E.164 format: + then the country code and number, 8-15 digits",
            ));
        }
        if !is_possible_e164(raw) {
            return Err(ModelError::invalid(
                "possible_number",
                "is not a possible phone number for its country code",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The ISO country the number belongs to, when its metadata names one.
    pub fn country(&self) -> Option<CountryCode> {
        let number = phonenumber::parse(None, &self.0).ok()?;
        let id = number.country().id()?;
        CountryCode::parse(id.as_ref()).ok()
    }
}

/// Whether `raw` (already `+` and digits) is a possible number in canonical E.164 form, as
/// libphonenumber's `isPossibleNumber` would say: the calling code exists and the national
/// number has a length some number type of one of its regions allows. The metadata leaves
/// the general descriptor's lengths empty (they are the union of the types' lengths), so the
/// union is taken here. Local-only lengths are not enough: E.164 numbers are dialled from abroad.
fn is_possible_e164(raw: &str) -> bool {
    let Ok(number) = phonenumber::parse(None, raw) else {
        return false;
    };
    let code = number.code().value();
    let national = number.national().to_string();
    // The parser strips national prefixes and other noise: only the canonical form is stored,
    // so that equal numbers are equal strings.
    let canonical = raw
        .strip_prefix('+')
        .and_then(|d| d.strip_prefix(code.to_string().as_str()))
        == Some(national.as_str());
    let Ok(len) = u16::try_from(national.len()) else {
        return false;
    };
    canonical
        && phonenumber::metadata::DATABASE
            .by_code(&code)
            .is_some_and(|regions| {
                regions.iter().any(|meta| {
                    let d = meta.descriptors();
                    [
                        Some(d.general()),
                        d.fixed_line(),
                        d.mobile(),
                        d.toll_free(),
                        d.premium_rate(),
                        d.shared_cost(),
                        d.personal_number(),
                        d.voip(),
                        d.pager(),
                        d.uan(),
                        d.voicemail(),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|desc| desc.possible_length().contains(&len))
                })
            })
}

/// A US Social Security Number (write-only: no serde, no `Display`): nine digits, written `123456789` or `123-45-6789` on input and
/// stored as nine digits. Whether the number was ever issued is a KYC rule, not an edge rule.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ssn(String);
string_newtype!(Ssn, secret);

impl Ssn {
    /// Parses nine digits, with the dashes of `AAA-GG-SSSS` allowed.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let b = raw.as_bytes();
        let digits: String = match b.len() {
            9 => raw.to_owned(),
            11 if b[3] == b'-' && b[6] == b'-' => raw.chars().filter(|&c| c != '-').collect(),
            _ => String::new(),
        };
        if digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(ModelError::invalid(
                "format",
                "must be 9 digits, optionally as 123-45-6789",
            ))
        }
    }

    /// Area number (first three digits).
    pub fn area(&self) -> &str {
        &self.0[..3]
    }

    /// Group number (middle two digits).
    pub fn group(&self) -> &str {
        &self.0[3..5]
    }

    /// Serial number (last four digits).
    pub fn serial(&self) -> &str {
        &self.0[5..]
    }
}

/// A date of birth: a real calendar date written `YYYY-MM-DD`. Age limits are a KYC rule.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DateOfBirth(Date);

impl DateOfBirth {
    /// Parses `YYYY-MM-DD`, refusing dates that do not exist (2023-02-29, 2024-04-31).
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let fmt = format_description!("[year padding:zero repr:full base:calendar]-[month]-[day]");
        match Date::parse(raw, &fmt) {
            Ok(d) if raw.len() == 10 && d.year() >= 1000 => Ok(Self(d)),
            _ => Err(ModelError::invalid(
                "calendar_date",
                "must be a real date written YYYY-MM-DD",
            )),
        }
    }

    /// The date.
    pub const fn date(self) -> Date {
        self.0
    }

    /// The canonical `YYYY-MM-DD` text.
    pub fn to_iso(self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl fmt::Debug for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DateOfBirth(<redacted>)")
    }
}

impl TryFrom<String> for DateOfBirth {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DateOfBirth> for String {
    fn from(value: DateOfBirth) -> Self {
        value.to_iso()
    }
}

/// Gender as the seeds define it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Male,
    Female,
    Undefined,
}

/// An ISO 3166-1 alpha-2 country code, stored uppercase.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// The United States, whose end users follow the US ladder.
    pub const US: Self = Self(*b"US");

    /// Parses an officially assigned alpha-2 code, in either case.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let upper = raw.to_ascii_uppercase();
        match upper.as_bytes() {
            &[a, b] if is_iso_country(&upper) => Ok(Self([a, b])),
            _ => Err(ModelError::invalid(
                "unknown_code",
                "must be an ISO 3166-1 alpha-2 country code",
            )),
        }
    }

    /// The two uppercase letters.
    pub fn as_str(&self) -> &str {
        // Both bytes come from the ASCII table, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for CountryCode {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> Self {
        value.as_str().to_owned()
    }
}

/// A USPS state or territory code, stored uppercase.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UsState(String);
string_newtype!(UsState, public);

impl UsState {
    /// Parses a USPS code, in either case.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let upper = raw.to_ascii_uppercase();
        if upper.len() == 2 && is_usps_code(&upper) {
            Ok(Self(upper))
        } else {
            Err(ModelError::invalid(
                "unknown_code",
                "must be a USPS state or territory code",
            ))
        }
    }
}

/// A US ZIP code: exactly five digits.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UsZip(String);
string_newtype!(UsZip, pii);

impl UsZip {
    /// Parses exactly five ASCII digits.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        if raw.len() == 5 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ModelError::invalid(
                "us_postal_code",
                "must be exactly 5 digits for US addresses",
            ))
        }
    }

    /// The first three digits, which identify the sectional center facility (and so the state).
    pub fn prefix(&self) -> &str {
        &self.0[..3]
    }
}

/// A postal code outside the US: 2-12 letters, digits, spaces or hyphens.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalCode(String);
string_newtype!(PostalCode, pii);

impl PostalCode {
    /// Parses a non-US postal code.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let ok = (2..=12).contains(&raw.len())
            && !has_edge_whitespace(raw)
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
            && raw.bytes().any(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ModelError::invalid(
                "format",
                "must be 2-12 letters, digits, spaces or hyphens",
            ))
        }
    }
}

/// A line of an address (street, city, region name): 1-100 printable characters with at least
/// one letter or digit and no edge spaces.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AddressLine(String);
string_newtype!(AddressLine, pii);

impl AddressLine {
    /// Parses one address line.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        free_text(raw, 100).map(Self)
    }
}

/// A short free-text answer (due-diligence fields): 1-200 printable characters, no edge spaces.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShortText(String);
string_newtype!(ShortText, pii);

impl ShortText {
    /// Parses a short answer.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        free_text(raw, 200).map(Self)
    }
}

/// A company's legal name: 1-200 printable characters, no edge spaces.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LegalName(String);
string_newtype!(LegalName, public);

impl LegalName {
    /// Parses a legal name.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        free_text(raw, 200).map(Self)
    }
}

fn free_text(raw: &str, max: usize) -> Result<String, ModelError> {
    if !char_len_in(raw, 1, max) {
        return Err(ModelError::Invalid {
            rule: "length",
            message: if max == 100 {
                "must be 1-100 characters"
            } else {
                "must be 1-200 characters"
            },
        });
    }
    if has_edge_whitespace(raw) {
        return Err(ModelError::invalid(
            "edge_whitespace",
            "must not start or end with a space",
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(ModelError::invalid(
            "control_characters",
            "must not contain control characters",
        ));
    }
    if !raw.chars().any(char::is_alphanumeric) {
        return Err(ModelError::invalid(
            "no_alphanumeric",
            "must contain a letter or digit",
        ));
    }
    Ok(raw.to_owned())
}

/// A tax id: a US EIN (nine digits, `12-3456789` allowed) or, elsewhere, 2-30 letters, digits,
/// spaces, hyphens, periods or slashes. Stored without the EIN dash.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TaxId(String);
string_newtype!(TaxId, secret);

impl TaxId {
    /// Parses a tax id for a company registered in `country`.
    pub fn parse_for(country: CountryCode, raw: &str) -> Result<Self, ModelError> {
        if country == CountryCode::US {
            let b = raw.as_bytes();
            let digits: String = match b.len() {
                9 => raw.to_owned(),
                10 if b[2] == b'-' => raw.chars().filter(|&c| c != '-').collect(),
                _ => String::new(),
            };
            return if digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(Self(digits))
            } else {
                Err(ModelError::invalid(
                    "ein",
                    "must be a US EIN: 9 digits, optionally as 12-3456789",
                ))
            };
        }
        let ok = (2..=30).contains(&raw.len())
            && !has_edge_whitespace(raw)
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b" -./".contains(&b))
            && raw.bytes().any(|b| b.is_ascii_digit());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ModelError::invalid(
                "format",
                "must be 2-30 letters, digits, spaces, hyphens, periods or slashes",
            ))
        }
    }
}

/// Where a company was formed: an ISO 3166-1 country (`DE`) or a country and subdivision in
/// ISO 3166-2 form (`US-DE`); US subdivisions must be USPS codes.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FormationRegion(String);
string_newtype!(FormationRegion, public);

impl FormationRegion {
    /// Parses `CC` or `CC-SUB`.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        const MSG: &str = "must be an ISO 3166 country (DE) or country-subdivision (US-DE) code";
        let upper = raw.to_ascii_uppercase();
        let (country, sub) = match upper.split_once('-') {
            Some((c, s)) => (c, Some(s)),
            None => (upper.as_str(), None),
        };
        let country =
            CountryCode::parse(country).map_err(|_| ModelError::invalid("unknown_code", MSG))?;
        let sub_ok = match sub {
            None => true,
            Some(s) if country == CountryCode::US => UsState::parse(s).is_ok(),
            Some(s) => (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()),
        };
        if sub_ok {
            Ok(Self(upper))
        } else {
            Err(ModelError::invalid("unknown_code", MSG))
        }
    }

    /// The country part.
    pub fn country(&self) -> CountryCode {
        CountryCode([self.0.as_bytes()[0], self.0.as_bytes()[1]])
    }
}

/// The country-dependent part of an address. A US address always has a USPS state and a
/// five-digit ZIP; other countries have a postal code and an optional region.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum AddressRegion {
    /// A US address.
    Us { state: UsState, zip: UsZip },
    /// Any other country.
    Other {
        country: CountryCode,
        state: Option<AddressLine>,
        postal_code: PostalCode,
    },
}

/// A postal address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    street1: AddressLine,
    street2: Option<AddressLine>,
    city: AddressLine,
    region: AddressRegion,
}

impl Address {
    /// Builds an address. `AddressRegion::Other` may not name the US: US addresses need a state
    /// and ZIP, which only `AddressRegion::Us` carries.
    pub fn new(
        street1: AddressLine,
        street2: Option<AddressLine>,
        city: AddressLine,
        region: AddressRegion,
    ) -> Result<Self, ModelError> {
        if matches!(&region, AddressRegion::Other { country, .. } if *country == CountryCode::US) {
            return Err(ModelError::invalid(
                "state_required",
                "US addresses need a state and a ZIP",
            ));
        }
        Ok(Self {
            street1,
            street2,
            city,
            region,
        })
    }

    /// First street line.
    pub fn street1(&self) -> &AddressLine {
        &self.street1
    }

    /// Second street line.
    pub fn street2(&self) -> Option<&AddressLine> {
        self.street2.as_ref()
    }

    /// City.
    pub fn city(&self) -> &AddressLine {
        &self.city
    }

    /// The country-dependent part.
    pub fn region(&self) -> &AddressRegion {
        &self.region
    }

    /// The country.
    pub fn country(&self) -> CountryCode {
        match &self.region {
            AddressRegion::Us { .. } => CountryCode::US,
            AddressRegion::Other { country, .. } => *country,
        }
    }

    /// The state or region text, if any.
    pub fn state(&self) -> Option<&str> {
        match &self.region {
            AddressRegion::Us { state, .. } => Some(state.as_str()),
            AddressRegion::Other { state, .. } => state.as_ref().map(AddressLine::as_str),
        }
    }

    /// The postal code text.
    pub fn postal_code(&self) -> &str {
        match &self.region {
            AddressRegion::Us { zip, .. } => zip.as_str(),
            AddressRegion::Other { postal_code, .. } => postal_code.as_str(),
        }
    }
}

/// Customer due-diligence answers. All optional; each a short free text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DueDiligence {
    pub employment_status: Option<ShortText>,
    pub occupation: Option<ShortText>,
    pub income_source: Option<ShortText>,
    pub source_of_funds: Option<ShortText>,
    pub annual_income: Option<ShortText>,
    pub account_purpose: Option<ShortText>,
    pub expected_monthly_volume: Option<ShortText>,
}
