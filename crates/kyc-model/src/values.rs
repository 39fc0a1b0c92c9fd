//! PII and address value types. Each has a private field, exactly one fallible constructor
//! (`parse`, or `new` for composites) and read access; none has a setter.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, macros::format_description};

use crate::{
    ModelError,
    tables::{is_iso_country, is_usps_code, usps_code_of_name},
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
        if !raw.chars().all(allowed) {
            return Err(ModelError::invalid(
                "charset",
                "may contain only letters, spaces, hyphens, apostrophes and periods",
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
    /// Seed 000's sample request carries its provider's redacted address: the page's email
    /// protection left `[email protected]` where the real one was. SPEC §6 requires the
    /// seed-000 samples to work verbatim, so this one placeholder is accepted as it stands (it
    /// reaches nobody, like `example.com` addresses); no other string without an `@` is.
    pub const SEED_PLACEHOLDER: &str = "[email protected]";
    /// The placeholder as the seed file spells it: with a no-break space (U+00A0), which the
    /// page's HTML had there. Stored as [`Email::SEED_PLACEHOLDER`].
    const SEED_PLACEHOLDER_NBSP: &str = "[email\u{a0}protected]";

    /// Parses and lowercases an address.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        const FORMAT: &str = "must be an email address such as name@example.com";
        if raw.eq_ignore_ascii_case(Self::SEED_PLACEHOLDER)
            || raw.eq_ignore_ascii_case(Self::SEED_PLACEHOLDER_NBSP)
        {
            return Ok(Self(Self::SEED_PLACEHOLDER.to_owned()));
        }
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
        // Case-insensitive like the rest of the address: `XN--P1AI` is `xn--p1ai`.
        let tld_ok = labels.last().is_some_and(|tld| {
            tld.len() >= 2
                && (tld.bytes().all(|b| b.is_ascii_alphabetic())
                    || tld.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")))
        });
        if !local_ok || labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
            return Err(ModelError::invalid("format", FORMAT));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }
}

/// A phone number in E.164 form: `+`, then 8-15 digits not starting with 0.
///
/// Whether the number is *possible* for its country ([`Phone::check_possible`]) is an edge rule
/// that `kyc-rules` applies to input, not part of the type: it depends on libphonenumber's
/// metadata, which changes with its releases, and a stored number must stay readable whatever
/// a later release says (and reading it must not run the metadata's regexes).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);
string_newtype!(Phone, pii);

impl Phone {
    /// Parses an E.164 number.
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
        Ok(Self(raw.to_owned()))
    }

    /// Fails (`possible_number`) unless the number's length is possible for the country its
    /// calling code belongs to, and it is written canonically (no national prefix inside).
    pub fn check_possible(&self) -> Result<(), ModelError> {
        if is_possible_e164(&self.0) {
            Ok(())
        } else {
            Err(ModelError::invalid(
                "possible_number",
                "is not a possible phone number for its country code",
            ))
        }
    }

    /// The ISO country the number belongs to: the one its metadata places it in, else (a
    /// number no region's plan accepts, such as an invalid one) its calling code's main
    /// country, so that `+44` with a bad number is still British.
    pub fn country(&self) -> Option<CountryCode> {
        let number = phonenumber::parse(None, &self.0).ok()?;
        if let Some(id) = number.country().id() {
            return CountryCode::parse(id.as_ref()).ok();
        }
        let regions = phonenumber::metadata::DATABASE.by_code(&number.code().value())?;
        let main = match regions.as_slice() {
            [only] => only,
            all => all.iter().find(|m| m.is_main_country_for_code())?,
        };
        CountryCode::parse(main.id()).ok()
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

impl Gender {
    /// Every value, in declaration order.
    pub const ALL: [Self; 3] = [Self::Male, Self::Female, Self::Undefined];
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

/// Line and paragraph separators break log lines like a newline does, and bidirectional
/// overrides and isolates make text display differently from what it is ("Trojan Source").
fn is_layout_control(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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
    if raw.chars().any(|c| c.is_control() || is_layout_control(c)) {
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
    /// Parses `CC` or `CC-SUB`, or a US state or territory by name (`Delaware` is `US-DE`).
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        const MSG: &str = "must be an ISO 3166 country (DE) or country-subdivision (US-DE) code, or a US state's name";
        if let Some(code) = usps_code_of_name(raw.trim()) {
            return Ok(Self(format!("US-{code}")));
        }
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ok<T>(r: Result<T, ModelError>) -> bool {
        r.is_ok()
    }

    fn rule<T: fmt::Debug>(r: Result<T, ModelError>) -> &'static str {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.rule(),
        }
    }

    #[test]
    fn person_names() {
        let good = [
            "John",
            "Second",
            "Doe",
            "José",
            "Zoë",
            "O'Brien",
            "O\u{2019}Brien",
            "Jean-Luc",
            "Ng",
            "李小龙",
            "Иван",
            "محمد",
            "Δημήτρης",
            "नमस्ते",
            "田中",
            "Zoe\u{0308}",
            "J. R. R.",
            "Mary Ann",
            // SPEC §3 allows spaces, not only single ones.
            "Mary  Ann",
            "X",
        ];
        for name in good {
            assert!(ok(PersonName::parse(name)), "{name}");
        }
        let long = "a".repeat(101);
        let max = "é".repeat(100);
        assert!(ok(PersonName::parse(&max)), "100 two-byte chars");
        let bad = [
            ("", "length"),
            (long.as_str(), "length"),
            (" John", "edge_whitespace"),
            ("John ", "edge_whitespace"),
            ("J0hn", "digits"),
            ("John٣", "digits"),
            ("John!", "charset"),
            ("John\tDoe", "charset"),
            ("John_Doe", "charset"),
            ("'-.", "no_letters"),
        ];
        for (name, expected) in bad {
            assert_eq!(rule(PersonName::parse(name)), expected, "{name:?}");
        }
    }

    #[test]
    fn emails() {
        let good = [
            ("john.doe@example.com", "john.doe@example.com"),
            ("John.Doe@Example.COM", "john.doe@example.com"),
            ("john+kyc@example.com", "john+kyc@example.com"),
            ("a@mail.sub.example.co.uk", "a@mail.sub.example.co.uk"),
            ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
            ("user@example.xn--p1ai", "user@example.xn--p1ai"),
            ("user@EXAMPLE.XN--P1AI", "user@example.xn--p1ai"),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("x@a-b.io", "x@a-b.io"),
            // Seed 000's redacted sample address, verbatim (SPEC §6).
            ("[email protected]", "[email protected]"),
            ("[Email Protected]", "[email protected]"),
            ("[email\u{a0}protected]", "[email protected]"),
        ];
        for (raw, canonical) in good {
            assert_eq!(
                Email::parse(raw).map(|e| e.as_str().to_owned()),
                Ok(canonical.to_owned())
            );
        }
        let local = "a".repeat(64);
        let at_limit = format!(
            "{local}@{}.{}.{}.com",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(57)
        );
        assert_eq!(at_limit.len(), 254);
        assert!(ok(Email::parse(&at_limit)));
        let over = format!(
            "{local}@{}.{}.{}.com",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(58)
        );
        let long_local = format!("{}@example.com", "a".repeat(65));
        let bad = [
            ("john.doe", "format"),
            // Only the placeholder itself: nothing near it passes.
            ("[email protected] ", "format"),
            ("[email\u{2007}protected]", "format"),
            ("[email]", "format"),
            ("email protected", "format"),
            ("john@doe@example.com", "format"),
            ("john doe@example.com", "format"),
            ("john@exa mple.com", "format"),
            (".john@example.com", "format"),
            ("john.@example.com", "format"),
            ("jo..hn@example.com", "format"),
            ("john@.example.com", "format"),
            ("john@example..com", "format"),
            ("john@example.com.", "format"),
            ("john@example", "format"),
            ("john@example.c", "format"),
            ("john@example.123", "format"),
            ("john@-example.com", "format"),
            ("john@example-.com", "format"),
            ("@example.com", "format"),
            ("john@", "format"),
            ("jöhn@example.com", "format"),
            ("john@bücher.de", "format"),
            (long_local.as_str(), "format"),
            (over.as_str(), "length"),
        ];
        for (raw, expected) in bad {
            assert_eq!(rule(Email::parse(raw)), expected, "{raw}");
        }
    }

    #[test]
    fn phones() {
        let good = [
            "+12025550165",   // US (seed)
            "+14165550123",   // CA
            "+447911123456",  // GB mobile
            "+442079460000",  // GB London
            "+4915123456789", // DE mobile
            "+493012345678",  // DE Berlin
            "+919876543210",  // IN mobile
            "+5511987654321", // BR São Paulo mobile
            "+819012345678",  // JP mobile
            "+81312345678",   // JP Tokyo
            "+390236618300",  // IT: the leading 0 is part of the number
        ];
        for raw in good {
            assert_eq!(
                Phone::parse(raw).map(|p| p.check_possible()),
                Ok(Ok(())),
                "{raw}"
            );
        }
        let bad = [
            ("12025550165", "e164"),
            ("+1 202 555 0165", "e164"),
            ("+1-202-555-0165", "e164"),
            ("+0123456789", "e164"),
            ("+1234567", "e164"),
            ("+1234567890123456", "e164"),
            ("++12025550165", "e164"),
            ("", "e164"),
            ("+120255501650", "possible_number"), // US: 11 national digits
            ("+1202555016", "possible_number"),   // US: 9
            ("+4479111234567", "possible_number"), // GB: 11
            ("+4912", "e164"),
            ("+91987654", "possible_number"),       // IN: 7
            ("+55119876543210", "possible_number"), // BR: 12
            ("+81123456", "possible_number"),       // JP: 6
            ("+99912345678", "possible_number"),    // no such calling code
            ("+4407911123456", "possible_number"),  // national prefix inside E.164
        ];
        for (raw, expected) in bad {
            let rule = match Phone::parse(raw) {
                Err(e) => Some(e.rule()),
                Ok(phone) => phone.check_possible().err().map(|e| e.rule()),
            };
            assert_eq!(rule, Some(expected), "{raw}");
            // Form is the type's invariant; possibility is checked separately.
            assert_eq!(
                ok(Phone::parse(raw)),
                expected == "possible_number",
                "{raw}"
            );
        }
    }

    #[test]
    fn phone_countries() {
        let country = |raw: &str| Phone::parse(raw).ok().and_then(|p| p.country());
        assert_eq!(country("+12025550165"), Some(CountryCode::US));
        assert_eq!(
            country("+493012345678").map(|c| c.to_string()),
            Some("DE".into())
        );
        // Numbers no plan accepts belong to their calling code's main country.
        let name = |raw: &str| country(raw).map(|c| c.to_string());
        assert_eq!(name("+441000000000").as_deref(), Some("GB"));
        assert_eq!(name("+12005550100").as_deref(), Some("US"));
        assert_eq!(name("+33100000000").as_deref(), Some("FR"));
    }

    #[test]
    fn ssns() {
        let ssn = Ssn::parse("305-46-4885").unwrap();
        assert_eq!(ssn, Ssn::parse("305464885").unwrap());
        assert_eq!(
            (ssn.area(), ssn.group(), ssn.serial()),
            ("305", "46", "4885")
        );
        assert_eq!(ssn.as_str(), "305464885");
        // Range rules are KYC rules: the edge accepts any nine digits.
        assert!(ok(Ssn::parse("000-00-0000")));
        for bad in [
            "30546488",
            "3054648851",
            "305-464-885",
            "305 46 4885",
            "30-546-4885",
            "305-46-488a",
            "３０５４６４８８５",
            "305--4885",
            "",
        ] {
            assert_eq!(rule(Ssn::parse(bad)), "format", "{bad}");
        }
    }

    #[test]
    fn dates_of_birth() {
        for good in [
            "1995-04-25",
            "1987-03-25",
            "2000-02-29",
            "2024-02-29",
            "1000-01-01",
        ] {
            let d = DateOfBirth::parse(good).unwrap();
            assert_eq!(d.to_iso(), good);
        }
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2024-04-31",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-1-5",
            "95-04-25",
            "0999-01-01",
            "+1995-04-25",
            "1995-04-25T00:00:00Z",
            "25/04/1995",
            "",
        ] {
            assert_eq!(rule(DateOfBirth::parse(bad)), "calendar_date", "{bad}");
        }
    }

    #[test]
    fn country_codes() {
        for (raw, canonical) in [
            ("US", "US"),
            ("us", "US"),
            ("gB", "GB"),
            ("AX", "AX"),
            ("SS", "SS"),
        ] {
            assert_eq!(CountryCode::parse(raw).unwrap().as_str(), canonical);
        }
        for bad in ["XK", "UK", "EU", "ZZ", "USA", "U", "", "1A", "ÜS"] {
            assert_eq!(rule(CountryCode::parse(bad)), "unknown_code", "{bad}");
        }
    }

    #[test]
    fn usps_codes() {
        for good in [
            "IN", "in", "DC", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "AA", "AE", "AP",
        ] {
            assert!(ok(UsState::parse(good)), "{good}");
        }
        assert_eq!(UsState::parse("oh").unwrap().as_str(), "OH");
        for bad in ["XX", "UK", "CZ", "Indiana", "I", "", "IN ", "US"] {
            assert_eq!(rule(UsState::parse(bad)), "unknown_code", "{bad}");
        }
    }

    #[test]
    fn zips_and_postal_codes() {
        assert_eq!(UsZip::parse("46173").unwrap().prefix(), "461");
        for bad in [
            "4617",
            "461730",
            "46173-1234",
            "4617a",
            " 4617",
            "４６１７３",
        ] {
            assert_eq!(rule(UsZip::parse(bad)), "us_postal_code", "{bad}");
        }
        for good in [
            "M4 1AA", "10117", "75008", "1000-001", "SW1A 1AA", "K1A0B1", "00",
        ] {
            assert!(ok(PostalCode::parse(good)), "{good}");
        }
        for bad in [
            "1",
            " 10117",
            "10117 ",
            "M4_1AA",
            "--",
            "1234567890123",
            "75008é",
        ] {
            assert_eq!(rule(PostalCode::parse(bad)), "format", "{bad}");
        }
    }

    #[test]
    fn free_text() {
        assert!(ok(AddressLine::parse("4220 Davisson Street")));
        assert!(ok(AddressLine::parse("Flat 2/B, 1 High St.")));
        assert!(ok(AddressLine::parse("東京都千代田区1-1")));
        assert!(ok(ShortText::parse(&"x".repeat(200))));
        assert!(ok(LegalName::parse("Acme Widgets, Inc.")));
        let cases = [
            ("", "length"),
            (" x", "edge_whitespace"),
            ("x\u{3000}", "edge_whitespace"),
            ("a\nb", "control_characters"),
            ("a\u{7}b", "control_characters"),
            ("a\u{2028}b", "control_characters"),
            ("abc\u{202E}fdp.exe", "control_characters"),
            ("---", "no_alphanumeric"),
        ];
        for (raw, expected) in cases {
            assert_eq!(rule(AddressLine::parse(raw)), expected, "{raw:?}");
            assert_eq!(rule(ShortText::parse(raw)), expected, "{raw:?}");
            assert_eq!(rule(LegalName::parse(raw)), expected, "{raw:?}");
        }
        assert_eq!(rule(AddressLine::parse(&"x".repeat(101))), "length");
        assert_eq!(rule(ShortText::parse(&"x".repeat(201))), "length");
        assert_eq!(rule(LegalName::parse(&"x".repeat(201))), "length");
    }

    #[test]
    fn tax_ids() {
        let us = CountryCode::US;
        let de = CountryCode::parse("DE").unwrap();
        assert_eq!(
            TaxId::parse_for(us, "12-3456789").unwrap().as_str(),
            "123456789"
        );
        assert_eq!(
            TaxId::parse_for(us, "123456789").unwrap().as_str(),
            "123456789"
        );
        for bad in ["1-23456789", "12345678", "12-345678a", "DE123456789", ""] {
            assert_eq!(rule(TaxId::parse_for(us, bad)), "ein", "{bad}");
        }
        for good in [
            "DE123456789",
            "12/345/67890",
            "GB 123.4567.89",
            "12-3456789",
        ] {
            assert!(ok(TaxId::parse_for(de, good)), "{good}");
        }
        for bad in ["X", "ABCDEF", " 123", "12_34", &"1".repeat(31)] {
            assert_eq!(rule(TaxId::parse_for(de, bad)), "format", "{bad}");
        }
    }

    #[test]
    fn formation_regions() {
        for (raw, canonical, country) in [
            ("US-DE", "US-DE", "US"),
            ("us-de", "US-DE", "US"),
            ("DE", "DE", "DE"),
            ("GB-MAN", "GB-MAN", "GB"),
            ("FR-75", "FR-75", "FR"),
            ("Delaware", "US-DE", "US"),
            (" new york ", "US-NY", "US"),
        ] {
            let r = FormationRegion::parse(raw).unwrap();
            assert_eq!((r.as_str(), r.country().as_str()), (canonical, country));
        }
        for bad in [
            "US-XX", "US-", "XK-01", "UK", "GB-ABCD", "GB-A_B", "", "-DE", "US-DE-1",
        ] {
            assert_eq!(rule(FormationRegion::parse(bad)), "unknown_code", "{bad}");
        }
    }

    #[test]
    fn addresses() {
        let line = |s: &str| AddressLine::parse(s).unwrap();
        let us = Address::new(
            line("4220 Davisson Street"),
            None,
            line("Rushville"),
            AddressRegion::Us {
                state: UsState::parse("IN").unwrap(),
                zip: UsZip::parse("46173").unwrap(),
            },
        )
        .unwrap();
        assert_eq!(
            (us.country(), us.state(), us.postal_code()),
            (CountryCode::US, Some("IN"), "46173")
        );
        let fake_us = Address::new(
            line("x"),
            None,
            line("y"),
            AddressRegion::Other {
                country: CountryCode::US,
                state: None,
                postal_code: PostalCode::parse("46173").unwrap(),
            },
        );
        assert_eq!(rule(fake_us), "state_required");
    }

    #[test]
    fn pii_debug_output_is_redacted() {
        let shown = [
            format!("{:?}", PersonName::parse("Johnathan").unwrap()),
            format!("{:?}", Email::parse("secret@example.com").unwrap()),
            format!("{:?}", Phone::parse("+12025550165").unwrap()),
            format!("{:?}", Ssn::parse("305464885").unwrap()),
            format!("{:?}", DateOfBirth::parse("1995-04-25").unwrap()),
            format!("{:?}", UsZip::parse("46173").unwrap()),
            format!("{:?}", PostalCode::parse("M4 1AA").unwrap()),
            format!("{:?}", AddressLine::parse("4220 Davisson").unwrap()),
            format!("{:?}", ShortText::parse("Engineer").unwrap()),
            format!(
                "{:?}",
                TaxId::parse_for(CountryCode::US, "123456789").unwrap()
            ),
        ];
        let secrets = [
            "Johnathan",
            "secret",
            "2025550165",
            "305464885",
            "1995",
            "46173",
            "M4 1AA",
            "Davisson",
            "Engineer",
            "123456789",
        ];
        for (out, secret) in shown.iter().zip(secrets) {
            assert!(!out.contains(secret), "{out}");
            assert!(out.contains("<redacted>"), "{out}");
        }
    }

    #[test]
    fn serde_goes_through_the_constructors() {
        assert!(serde_json::from_str::<Email>("\"not-an-email\"").is_err());
        let e: Email = serde_json::from_str("\"A@Example.com\"").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"a@example.com\"");
        assert!(serde_json::from_str::<DateOfBirth>("\"2023-02-29\"").is_err());
        assert!(serde_json::from_str::<CountryCode>("\"XK\"").is_err());
        let dd: Result<DueDiligence, _> = serde_json::from_str(r#"{"pet": "cat"}"#);
        assert!(dd.is_err());
    }

    /// Strings biased towards the interesting alphabets: digits, separators, letters of
    /// several scripts, combining marks, controls, and any char at all.
    fn messy() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[0-9+\\- ]{0,20}",
            "[a-zA-Z0-9.@+_\\-]{0,40}",
            "[a-zA-Z .'\\-]{0,30}",
            "[\\p{L}\\p{M} '\\-.]{0,30}",
            "[\\p{Cc}\\p{Z}a-z]{0,10}",
        ]
    }

    /// A strategy for every constructor: its name and a closure that parses, checks the
    /// canonical text re-parses to the same value, and says whether it was accepted.
    fn round_trip(raw: &str) {
        fn check<T: PartialEq + fmt::Debug>(
            parse: impl Fn(&str) -> Result<T, ModelError>,
            text: impl Fn(&T) -> String,
            raw: &str,
        ) {
            if let Ok(v) = parse(raw) {
                assert_eq!(parse(&text(&v)).as_ref(), Ok(&v), "round trip");
            }
        }
        check(PersonName::parse, |v| v.as_str().into(), raw);
        check(Email::parse, |v| v.as_str().into(), raw);
        check(Phone::parse, |v| v.as_str().into(), raw);
        check(Ssn::parse, |v| v.as_str().into(), raw);
        check(DateOfBirth::parse, |v| v.to_iso(), raw);
        check(CountryCode::parse, |v| v.as_str().into(), raw);
        check(UsState::parse, |v| v.as_str().into(), raw);
        check(UsZip::parse, |v| v.as_str().into(), raw);
        check(PostalCode::parse, |v| v.as_str().into(), raw);
        check(AddressLine::parse, |v| v.as_str().into(), raw);
        check(ShortText::parse, |v| v.as_str().into(), raw);
        check(LegalName::parse, |v| v.as_str().into(), raw);
        check(FormationRegion::parse, |v| v.as_str().into(), raw);
        for country in [CountryCode::US, CountryCode([b'D', b'E'])] {
            check(|r| TaxId::parse_for(country, r), |v| v.as_str().into(), raw);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn constructors_never_panic_and_round_trip(raw in messy()) {
            round_trip(&raw);
        }

        #[test]
        fn accepted_values_never_leak_through_debug(raw in "[a-zA-Z]{6,20}") {
            if let Ok(n) = PersonName::parse(&raw) {
                let shown = format!("{n:?}");
                prop_assert!(!shown.contains(&raw));
            }
            if let Ok(t) = ShortText::parse(&raw) {
                let shown = format!("{t:?}");
                prop_assert!(!shown.contains(&raw));
            }
        }

        #[test]
        fn errors_never_contain_the_input(raw in "[a-zA-Z0-9@.+\\-]{4,30}") {
            let errors = [
                PersonName::parse(&raw).err(),
                Email::parse(&raw).err(),
                Phone::parse(&raw).err(),
                Ssn::parse(&raw).err(),
                DateOfBirth::parse(&raw).err(),
                PostalCode::parse(&raw).err(),
                TaxId::parse_for(CountryCode::US, &raw).err(),
            ];
            for e in errors.into_iter().flatten() {
                prop_assert!(!e.to_string().contains(&raw));
                let shown = format!("{e:?}");
                prop_assert!(!shown.contains(&raw));
            }
        }

        #[test]
        fn generated_valid_values_are_accepted(
            local in "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,2}",
            domain in "[a-z][a-z0-9\\-]{0,10}[a-z0-9]",
            tld in "[a-z]{2,6}",
            area in 1u16..=899,
            group in 1u8..=99,
            serial in 1u16..=9999,
            days in 0i32..365 * 300,
        ) {
            let email = format!("{local}@{domain}.{tld}");
            prop_assert_eq!(Email::parse(&email.to_uppercase()).map(|e| e.as_str().to_owned()), Ok(email));
            let ssn = format!("{area:03}-{group:02}-{serial:04}");
            let parsed = Ssn::parse(&ssn).unwrap();
            prop_assert_eq!(parsed.as_str(), ssn.replace('-', ""));
            let date = Date::from_calendar_date(1800, time::Month::January, 1).unwrap()
                + time::Duration::days(i64::from(days));
            let iso = format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day());
            prop_assert_eq!(DateOfBirth::parse(&iso).map(DateOfBirth::date), Ok(date));
        }
    }
}
