//! `PUT /kycs`: starting a KYC session (Kulipa, seed 004), including the `import` of a
//! provider's verified result in Uphold's `output` shape (seed 002).

use std::{fmt, sync::LazyLock};

use kyc_model::{
    Address, AddressLine, AddressRegion, CountryCode, DateOfBirth, FormationRegion, Gender,
    KycSessionType, ModelError, PersonName, PersonalIdentityId, PostalCode, ShortText, UsState,
    UsZip,
};
use regex::Regex;
use serde_json::Value;
use time::{
    Date, OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description,
};

use crate::{
    RulesError,
    json::{Ctx, Obj, raw_text, text},
};

/// A validated `PUT /kycs` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KycSessionRequest {
    /// The person the session is for; `usr-<uuid>` and the bare UUID name the same identity.
    pub user_id: PersonalIdentityId,
    /// `full`, `shipping`, `rfi` or `import`.
    pub kind: KycSessionType,
    /// Where the KYC web view sends the user when done.
    pub redirect_uri: Option<RedirectUri>,
    /// The provider's verified result: present exactly when `kind` is `import`.
    pub output: Option<ImportOutput>,
}

/// An absolute `http` or `https` URL without user info, at most 2048 printable ASCII characters.
/// Its `Debug` hides the value: query strings often carry tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

static URL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    // Host: DNS labels or a bracketed IPv6 literal; no `@`, so no user info (a phishing vector).
    Regex::new(
        r"^(?i:https?)://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?(?:[/?#][!-~]*)?$",
    )
    .ok()
});

impl RedirectUri {
    /// Parses an absolute http(s) URL.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let ok = raw.len() <= 2048
            && URL
                .as_ref()
                .and_then(|re| re.captures(raw))
                .is_some_and(|caps| {
                    caps.get(1)
                        .is_none_or(|port| port.as_str().parse::<u16>().is_ok_and(|p| p > 0))
                });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ModelError::Invalid {
                rule: "url",
                message: "must be an absolute http or https URL without user info",
            })
        }
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedirectUri(<redacted>)")
    }
}

/// A verified result imported from a trusted provider (Uphold's identity `output`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOutput {
    /// Who verified the person, e.g. `veriff`.
    pub provider: ShortText,
    pub document: ImportDocument,
    pub person: ImportPerson,
    /// When the provider verified the person.
    pub verified_at: OffsetDateTime,
}

/// The identity document the provider checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportDocument {
    pub kind: ImportDocumentType,
    pub number: DocumentNumber,
    /// The issuing country.
    pub country: CountryCode,
    /// The last day the document is valid; `None` for documents without an expiry date (some
    /// national identity cards), which providers report as absent or `null`.
    pub expires_at: Option<Date>,
}

/// The kind of an imported document, with Uphold's wire names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImportDocumentType {
    Passport,
    IdCard,
    DrivingLicense,
    ResidencePermit,
}

impl ImportDocumentType {
    /// All kinds.
    pub const ALL: [Self; 4] = [
        Self::Passport,
        Self::IdCard,
        Self::DrivingLicense,
        Self::ResidencePermit,
    ];

    /// The wire name, e.g. `driving-license`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Passport => "passport",
            Self::IdCard => "id-card",
            Self::DrivingLicense => "driving-license",
            Self::ResidencePermit => "residence-permit",
        }
    }
}

/// A document number: 1-40 ASCII letters, digits, spaces or hyphens, with a letter or digit.
/// PII: its `Debug` hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentNumber(String);

impl DocumentNumber {
    /// Parses a document number.
    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let ok = (1..=40).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
            && !raw.starts_with(' ')
            && !raw.ends_with(' ')
            && raw.bytes().any(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ModelError::Invalid {
                rule: "format",
                message: "must be 1-40 letters, digits, spaces or hyphens",
            })
        }
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DocumentNumber(<redacted>)")
    }
}

/// The person as the provider verified them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPerson {
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub birthdate: DateOfBirth,
    pub gender: Option<Gender>,
    /// Uphold's address (`line1`, `line2`, `city`, `subdivision`, `postalCode`, `country`) as a
    /// model address: `line1`/`line2` become `street1`/`street2`; for the US the subdivision
    /// (`US-IN` or `IN`) is the required state and the postal code a ZIP; elsewhere the
    /// subdivision, if any, is kept as the region text.
    pub address: Option<Address>,
}

const SESSION_KEYS: [&str; 5] = ["userId", "type", "redirectUri", "input", "output"];
const OUTPUT_KEYS: [&str; 4] = ["provider", "document", "person", "verifiedAt"];
const DOCUMENT_KEYS: [&str; 4] = ["type", "number", "country", "expiresAt"];
const PERSON_KEYS: [&str; 5] = ["givenName", "familyName", "birthdate", "gender", "address"];
const IMPORT_ADDRESS_KEYS: [&str; 6] = [
    "country",
    "subdivision",
    "city",
    "line1",
    "line2",
    "postalCode",
];

/// Parses a `PUT /kycs` body: `userId` (an identity id, bare or as `usr-` + UUIDv4, exactly 40
/// characters), `type`, an optional `redirectUri` and, for `import` only, the `output` and seed
/// 002's optional `input` (an object, not used).
pub fn parse_kyc_session(body: &Value) -> Result<KycSessionRequest, RulesError> {
    let mut ctx = Ctx::default();
    let request = Obj::new(&mut ctx, "", body).and_then(|obj| {
        obj.deny_unknown(&mut ctx, &SESSION_KEYS, &[]);
        let c = &mut ctx;
        let user_id = obj.get(c, "userId", text(parse_user_id)).required(c);
        let kind = obj.get(c, "type", session_type).required(c);
        let redirect_uri = obj
            .get(c, "redirectUri", text(RedirectUri::parse))
            .optional();
        let output = match kind {
            // Also read when the type is broken, so the output's own violations are reported.
            Some(KycSessionType::Import) | None => {
                let field = obj.get(c, "output", import_output);
                if kind.is_some() && field.is_missing() {
                    let path = field.path().to_owned();
                    c.violation(&path, "required", "is required when type is import");
                }
                field.optional()
            }
            Some(_) => {
                for key in ["input", "output"] {
                    let field = obj.get(c, key, |_, _, _| Some(()));
                    if !field.is_missing() {
                        let path = field.path().to_owned();
                        c.violation(&path, "not_allowed", "is only allowed when type is import");
                    }
                }
                None
            }
        };
        if kind.is_none_or(|k| k == KycSessionType::Import) {
            // Seed 002's `input` names the media the provider verified, in the provider's own
            // file store: accepted so the seed's body works as it is, and otherwise unused.
            obj.get(c, "input", |c, path, v| {
                if !v.is_object() {
                    c.violation(path, "type", "must be an object");
                }
                Some(())
            });
        }
        Some(KycSessionRequest {
            user_id: user_id?,
            kind: kind?,
            redirect_uri,
            output,
        })
    });
    ctx.finish(request)
}

/// `usr-` + a UUIDv4 (Kulipa's form, exactly 40 characters) or a bare hyphenated UUID.
fn parse_user_id(raw: &str) -> Result<PersonalIdentityId, ModelError> {
    const ERR: ModelError = ModelError::Invalid {
        rule: "user_id",
        message: "must be an identity id, or usr- followed by a v4 UUID (40 characters)",
    };
    let (uuid, need_v4) = match raw.strip_prefix("usr-") {
        Some(rest) if raw.len() == 40 => (rest, true),
        None if raw.len() == 36 => (raw, false),
        _ => return Err(ERR),
    };
    // Hyphenated form only: the version digit is at 14 and the RFC 4122 variant at 19.
    let b = uuid.as_bytes();
    let hyphenated = b.iter().enumerate().all(|(i, &c)| {
        if matches!(i, 8 | 13 | 18 | 23) {
            c == b'-'
        } else {
            c.is_ascii_hexdigit()
        }
    });
    let v4 = b.get(14) == Some(&b'4') && b.get(19).is_some_and(|c| b"89abAB".contains(c));
    if !hyphenated || (need_v4 && !v4) {
        return Err(ERR);
    }
    uuid.parse().map_err(|_| ERR)
}

fn session_type(ctx: &mut Ctx, path: &str, value: &Value) -> Option<KycSessionType> {
    let raw = raw_text()(ctx, path, value)?;
    let kind = match raw {
        "full" => Some(KycSessionType::Full),
        "shipping" => Some(KycSessionType::Shipping),
        "rfi" => Some(KycSessionType::Rfi),
        "import" => Some(KycSessionType::Import),
        _ => None,
    };
    if kind.is_none() {
        ctx.violation(path, "enum", "must be one of full, shipping, rfi, import");
    }
    kind
}

fn import_output(ctx: &mut Ctx, path: &str, value: &Value) -> Option<ImportOutput> {
    let obj = Obj::new(ctx, path, value)?;
    obj.deny_unknown(ctx, &OUTPUT_KEYS, &[]);
    let provider = obj
        .get(ctx, "provider", text(ShortText::parse))
        .required(ctx);
    let document = obj.get(ctx, "document", import_document).required(ctx);
    let person = obj.get(ctx, "person", import_person).required(ctx);
    let verified_at = obj
        .get(ctx, "verifiedAt", text(parse_timestamp))
        .required(ctx);
    Some(ImportOutput {
        provider: provider?,
        document: document?,
        person: person?,
        verified_at: verified_at?,
    })
}

fn parse_timestamp(raw: &str) -> Result<OffsetDateTime, ModelError> {
    OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| ModelError::Invalid {
        rule: "rfc3339",
        message: "must be an RFC 3339 date and time, e.g. 2020-01-01T00:00:00Z",
    })
}

fn parse_date(raw: &str) -> Result<Date, ModelError> {
    let fmt = format_description!("[year]-[month]-[day]");
    match Date::parse(raw, &fmt) {
        Ok(d) if raw.len() == 10 => Ok(d),
        _ => Err(ModelError::Invalid {
            rule: "calendar_date",
            message: "must be a real date written YYYY-MM-DD",
        }),
    }
}

fn import_document(ctx: &mut Ctx, path: &str, value: &Value) -> Option<ImportDocument> {
    let obj = Obj::new(ctx, path, value)?;
    obj.deny_unknown(ctx, &DOCUMENT_KEYS, &[]);
    let kind = obj.get(ctx, "type", document_type).required(ctx);
    let number = obj
        .get(ctx, "number", text(DocumentNumber::parse))
        .required(ctx);
    let country = obj
        .get(ctx, "country", text(CountryCode::parse))
        .required(ctx);
    let expires_at = obj.get(ctx, "expiresAt", text(parse_date)).maybe();
    Some(ImportDocument {
        kind: kind?,
        number: number?,
        country: country?,
        expires_at: expires_at?,
    })
}

fn document_type(ctx: &mut Ctx, path: &str, value: &Value) -> Option<ImportDocumentType> {
    let raw = raw_text()(ctx, path, value)?;
    let kind = ImportDocumentType::ALL
        .into_iter()
        .find(|k| k.as_str() == raw);
    if kind.is_none() {
        ctx.violation(
            path,
            "enum",
            "must be one of passport, id-card, driving-license, residence-permit",
        );
    }
    kind
}

fn import_person(ctx: &mut Ctx, path: &str, value: &Value) -> Option<ImportPerson> {
    let obj = Obj::new(ctx, path, value)?;
    obj.deny_unknown(ctx, &PERSON_KEYS, &[]);
    let given_name = obj
        .get(ctx, "givenName", text(PersonName::parse))
        .required(ctx);
    let family_name = obj
        .get(ctx, "familyName", text(PersonName::parse))
        .required(ctx);
    let birthdate = obj
        .get(ctx, "birthdate", text(DateOfBirth::parse))
        .required(ctx);
    let gender = obj.get(ctx, "gender", import_gender).maybe();
    let address = obj.get(ctx, "address", import_address).maybe();
    Some(ImportPerson {
        given_name: given_name?,
        family_name: family_name?,
        birthdate: birthdate?,
        gender: gender?,
        address: address?,
    })
}

/// Seed 002's genders: `female` or `male` (a provider reads one off the document).
fn import_gender(ctx: &mut Ctx, path: &str, value: &Value) -> Option<Gender> {
    match value.as_str() {
        Some(raw) if raw.eq_ignore_ascii_case("female") => Some(Gender::Female),
        Some(raw) if raw.eq_ignore_ascii_case("male") => Some(Gender::Male),
        Some(_) => {
            ctx.violation(path, "enum", "must be one of female, male");
            None
        }
        None => {
            ctx.violation(path, "type", "must be a string");
            None
        }
    }
}

fn import_address(ctx: &mut Ctx, path: &str, value: &Value) -> Option<Address> {
    let obj = Obj::new(ctx, path, value)?;
    obj.deny_unknown(ctx, &IMPORT_ADDRESS_KEYS, &[]);
    let country = obj
        .get(ctx, "country", text(CountryCode::parse))
        .required(ctx);
    let city = obj.get(ctx, "city", text(AddressLine::parse)).required(ctx);
    let line1 = obj
        .get(ctx, "line1", text(AddressLine::parse))
        .required(ctx);
    let line2 = obj.get(ctx, "line2", text(AddressLine::parse)).maybe();
    let subdivision = obj.get(ctx, "subdivision", raw_text());
    let postal = obj.get(ctx, "postalCode", raw_text());
    let sub_path = subdivision.path().to_owned();
    let postal_path = postal.path().to_owned();
    let region = match country {
        Some(CountryCode::US) => {
            let state = subdivision.required(ctx).and_then(|raw| {
                let code = raw
                    .strip_prefix("US-")
                    .or_else(|| raw.strip_prefix("us-"))
                    .unwrap_or(raw);
                UsState::parse(code)
                    .map_err(|e| ctx.model(&sub_path, e))
                    .ok()
            });
            let zip = postal.required(ctx).and_then(|raw| {
                UsZip::parse(raw)
                    .map_err(|e| ctx.model(&postal_path, e))
                    .ok()
            });
            state
                .zip(zip)
                .map(|(state, zip)| AddressRegion::Us { state, zip })
        }
        Some(country) => {
            let state = match subdivision.optional() {
                None => Some(None),
                Some(raw) => FormationRegion::parse(raw)
                    .map_err(|e| ctx.model(&sub_path, e))
                    .ok()
                    .and_then(|sub| {
                        if sub.country() == country {
                            AddressLine::parse(sub.as_str()).ok().map(Some)
                        } else {
                            ctx.violation(
                                &sub_path,
                                "subdivision_country",
                                "must be a subdivision of the address's country",
                            );
                            None
                        }
                    }),
            };
            let postal_code = postal.required(ctx).and_then(|raw| {
                PostalCode::parse(raw)
                    .map_err(|e| ctx.model(&postal_path, e))
                    .ok()
            });
            state
                .zip(postal_code)
                .map(|(state, postal_code)| AddressRegion::Other {
                    country,
                    state,
                    postal_code,
                })
        }
        None => {
            subdivision.optional();
            postal.required(ctx);
            None
        }
    };
    Address::new(line1?, line2?, city?, region?)
        .map_err(|e| ctx.model(obj.path(), e))
        .ok()
}
