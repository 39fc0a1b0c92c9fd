//! Wire types: what the API returns (and, for the OpenAPI document, what it takes). Domain
//! values convert into these at the edge, so the wire format can stay stable while the domain
//! changes. Request bodies are parsed by `kyc-rules` from raw JSON, which is how every violation
//! of a request is reported at once; the request structs here only describe them.

use kyc_model::{
    Address, AddressRegion, BusinessIdentity, DueDiligence, Gender, IdentityContainer, KycLevel,
    MissingDocument, PersonalIdentity, ReviewStatus, UpgradeRequirement,
};
use serde::{Deserialize, Serialize};
use time::{
    OffsetDateTime, UtcOffset, format_description::BorrowedFormatItem, macros::format_description,
};
use utoipa::ToSchema;

/// RFC 3339 in UTC with exactly three fractional digits: the precision the store keeps, and
/// one fixed width, so clients can compare timestamps as text.
const MILLIS_UTC: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// RFC 3339 text of a timestamp (`2026-12-06T11:10:16.230Z`).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(MILLIS_UTC)
        .unwrap_or_default()
}

/// The wire name of a unit enum value, as serde writes it (`taxDetails`, `kebab-case`).
pub fn wire_name(value: impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressDto {
    #[schema(example = "4220 Davisson Street")]
    pub street1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street2: Option<String>,
    #[schema(example = "Rushville")]
    pub city: String,
    /// USPS code, required when `country` is `US`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "IN")]
    pub state: Option<String>,
    /// Exactly 5 digits in the US.
    #[schema(example = "46173")]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "US")]
    pub country: String,
}

impl From<&Address> for AddressDto {
    fn from(a: &Address) -> Self {
        Self {
            street1: a.street1().as_str().to_owned(),
            street2: a.street2().map(|s| s.as_str().to_owned()),
            city: a.city().as_str().to_owned(),
            state: match a.region() {
                AddressRegion::Us { state, .. } => Some(state.as_str().to_owned()),
                AddressRegion::Other { state, .. } => state.as_ref().map(|s| s.as_str().to_owned()),
            },
            postal_code: a.postal_code().to_owned(),
            country: a.country().as_str().to_owned(),
        }
    }
}

/// Customer due-diligence answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DueDiligenceDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employment_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub income_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_of_funds: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annual_income: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_monthly_volume: Option<String>,
}

impl From<&DueDiligence> for DueDiligenceDto {
    fn from(d: &DueDiligence) -> Self {
        let text = |v: &Option<kyc_model::ShortText>| v.as_ref().map(|t| t.as_str().to_owned());
        Self {
            employment_status: text(&d.employment_status),
            occupation: text(&d.occupation),
            income_source: text(&d.income_source),
            source_of_funds: text(&d.source_of_funds),
            annual_income: text(&d.annual_income),
            account_purpose: text(&d.account_purpose),
            expected_monthly_volume: text(&d.expected_monthly_volume),
        }
    }
}

/// A personal identity as the API returns it. The SSN is write-only: only whether one is on
/// file is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonalIdentityDto {
    pub id: String,
    pub container_id: String,
    /// Always `person`.
    #[serde(rename = "type")]
    pub kind: String,
    pub first_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Whether an SSN is on file (the number itself is never returned).
    pub ssn_provided: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = wire::gender)]
    pub gender: Option<Gender>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_diligence: Option<DueDiligenceDto>,
    #[schema(schema_with = wire::kyc_level)]
    pub kyc_level: KycLevel,
    /// What blocks the next level, in this order.
    #[schema(schema_with = wire::upgrade_requirements)]
    pub upgrade_requirements: Vec<UpgradeRequirement>,
    #[schema(schema_with = wire::missing_documents)]
    pub missing_documents: Vec<MissingDocument>,
    pub identity_confirmed: bool,
    pub blocked: bool,
    #[schema(schema_with = wire::review_status)]
    pub review_status: ReviewStatus,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl From<&PersonalIdentity> for PersonalIdentityDto {
    fn from(p: &PersonalIdentity) -> Self {
        let d = &p.data;
        Self {
            id: p.id.to_string(),
            container_id: p.container_id.to_string(),
            kind: "person".to_owned(),
            first_name: d.first_name.as_str().to_owned(),
            middle_name: d.middle_name.as_ref().map(|n| n.as_str().to_owned()),
            last_name: d.last_name.as_str().to_owned(),
            email: d.email.as_str().to_owned(),
            phone: d.phone.as_str().to_owned(),
            address: d.address.as_ref().map(AddressDto::from),
            date_of_birth: d.date_of_birth.map(|dob| dob.to_iso()),
            ssn_provided: d.ssn.is_some(),
            gender: d.gender,
            due_diligence: d.due_diligence.as_ref().map(DueDiligenceDto::from),
            kyc_level: p.kyc.kyc_level,
            upgrade_requirements: p.kyc.upgrade_requirements.clone(),
            missing_documents: p.kyc.missing_documents.clone(),
            identity_confirmed: p.kyc.identity_confirmed,
            blocked: p.kyc.blocked,
            review_status: p.kyc.review_status,
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
            version: p.version,
        }
    }
}

/// A business identity as the API returns it (the tax id is write-only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BusinessIdentityDto {
    pub id: String,
    pub container_id: String,
    /// Always `company`.
    #[serde(rename = "type")]
    pub kind: String,
    pub legal_name: String,
    pub email: String,
    pub phone: String,
    pub address: AddressDto,
    pub formation_region: String,
    pub identity_owner: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl From<&BusinessIdentity> for BusinessIdentityDto {
    fn from(b: &BusinessIdentity) -> Self {
        let d = &b.data;
        Self {
            id: b.id.to_string(),
            container_id: b.container_id.to_string(),
            kind: "company".to_owned(),
            legal_name: d.legal_name.as_str().to_owned(),
            email: d.email.as_str().to_owned(),
            phone: d.phone.as_str().to_owned(),
            address: AddressDto::from(&d.address),
            formation_region: d.formation_region.as_str().to_owned(),
            identity_owner: d.identity_owner.to_string(),
            created_at: rfc3339(b.created_at),
            updated_at: rfc3339(b.updated_at),
            version: b.version,
        }
    }
}

/// An identity container with its identities. The person's id, level, requirements and
/// missing documents are repeated at the top level, so a client creating a container reads
/// what to ask for next without digging.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDto {
    pub id: String,
    pub personal_identity_id: Option<String>,
    #[schema(value_type = Option<String>, example = "L0")]
    pub kyc_level: Option<KycLevel>,
    #[schema(value_type = Vec<String>)]
    pub upgrade_requirements: Vec<UpgradeRequirement>,
    #[schema(value_type = Vec<String>)]
    pub missing_documents: Vec<MissingDocument>,
    pub personal_identity: Option<PersonalIdentityDto>,
    pub business_identities: Vec<BusinessIdentityDto>,
    pub created_at: String,
}

impl ContainerDto {
    /// Assembles a container view.
    pub fn new(
        container: &IdentityContainer,
        person: Option<&PersonalIdentity>,
        businesses: &[BusinessIdentity],
    ) -> Self {
        Self {
            id: container.id.to_string(),
            personal_identity_id: person.map(|p| p.id.to_string()),
            kyc_level: person.map(|p| p.kyc.kyc_level),
            upgrade_requirements: person
                .map(|p| p.kyc.upgrade_requirements.clone())
                .unwrap_or_default(),
            missing_documents: person
                .map(|p| p.kyc.missing_documents.clone())
                .unwrap_or_default(),
            personal_identity: person.map(PersonalIdentityDto::from),
            business_identities: businesses.iter().map(BusinessIdentityDto::from).collect(),
            created_at: rfc3339(container.created_at),
        }
    }
}

/// `POST /identity-containers` body (seed 000). Unknown fields are refused.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePersonRequest {
    #[schema(example = "John")]
    pub first_name: String,
    #[schema(example = "Second")]
    pub middle_name: Option<String>,
    #[schema(example = "Doe")]
    pub last_name: String,
    /// E.164.
    #[schema(example = "+12025550165")]
    pub phone: String,
    #[schema(example = "john.doe@example.com")]
    pub email: String,
    pub address: Option<AddressDto>,
    /// `YYYY-MM-DD`.
    #[schema(example = "1995-04-25")]
    pub date_of_birth: Option<String>,
    /// 9 digits, dashes allowed. Write-only.
    #[schema(example = "305464885")]
    pub ssn: Option<String>,
    /// `male`, `female` or `undefined`.
    pub gender: Option<String>,
    pub due_diligence: Option<DueDiligenceDto>,
}

/// `PATCH /personal-identities/{id}` body: any subset of the create fields; `null` clears an
/// optional field.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchPersonRequest {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<AddressDto>,
    pub date_of_birth: Option<String>,
    pub ssn: Option<String>,
    pub gender: Option<String>,
    pub due_diligence: Option<DueDiligenceDto>,
}

/// `POST /business-identities` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBusinessRequest {
    pub legal_name: String,
    pub email: String,
    pub phone: String,
    pub address: AddressDto,
    /// A US EIN (`12-3456789`) or a foreign tax id. Write-only.
    pub tax_id: String,
    /// `DE` or `US-DE`.
    pub formation_region: String,
    /// The owning personal identity's id.
    pub identity_owner: String,
}

/// `PATCH /business-identities/{id}` body: any non-empty subset of the create fields.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchBusinessRequest {
    pub legal_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<AddressDto>,
    /// Write-only.
    pub tax_id: Option<String>,
    pub formation_region: Option<String>,
    /// A personal identity of the tenant.
    pub identity_owner: Option<String>,
}

/// One field-level violation in a `validation_failed` error's `details`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ViolationDto {
    /// Path of the field, e.g. `address.postalCode`.
    pub field: String,
    /// Stable rule name, e.g. `us_postal_code`.
    pub rule: String,
    pub message: String,
}

/// The error body of every failure.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error object.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<ViolationDto>>,
    pub request_id: String,
}

/// One image-quality check of a document side, explained by what was measured and the threshold
/// it was compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QualityCheckDto {
    /// The image checked: `front` or `back`.
    #[schema(example = "front")]
    pub side: String,
    #[schema(schema_with = wire::quality_code)]
    pub code: String,
    pub passed: bool,
    pub measured: f64,
    pub threshold: f64,
    /// A non-blocking remark (e.g. below the recommended resolution).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// What was measured, in words, where a number alone is ambiguous.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl QualityCheckDto {
    fn new(side: &str, c: &kyc_model::QualityCheck) -> Self {
        Self {
            side: side.to_owned(),
            code: c.code.as_str().to_owned(),
            passed: c.passed,
            measured: c.measured,
            threshold: c.threshold,
            warning: c.warning.clone(),
            detail: c.detail.clone(),
        }
    }
}

/// The identity's KYC standing after an upload: what the document changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySummaryDto {
    pub id: String,
    #[schema(schema_with = wire::kyc_level)]
    pub kyc_level: KycLevel,
    #[schema(schema_with = wire::upgrade_requirements)]
    pub upgrade_requirements: Vec<UpgradeRequirement>,
    #[schema(schema_with = wire::missing_documents)]
    pub missing_documents: Vec<MissingDocument>,
    #[schema(schema_with = wire::review_status)]
    pub review_status: ReviewStatus,
}

impl From<&PersonalIdentity> for IdentitySummaryDto {
    fn from(p: &PersonalIdentity) -> Self {
        Self {
            id: p.id.to_string(),
            kyc_level: p.kyc.kyc_level,
            upgrade_requirements: p.kyc.upgrade_requirements.clone(),
            missing_documents: p.kyc.missing_documents.clone(),
            review_status: p.kyc.review_status,
        }
    }
}

/// An uploaded proof-of-identity document: its status (seed 000), why, and the quality checks
/// of its images. The images themselves are fetched through a presigned URL.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentDto {
    pub id: String,
    pub identity_id: String,
    #[serde(rename = "type")]
    #[schema(schema_with = wire::document_type)]
    pub doc_type: String,
    #[schema(schema_with = wire::document_status)]
    pub status: String,
    /// Why the document is `resubmit` or `rejected`: the codes of the failed quality checks
    /// (`blur`, `glare`, ...) and, where a verifier or reviewer gave one, the process reason
    /// (`expired-document`, `fraud`).
    #[schema(example = json!([]))]
    pub reasons: Vec<String>,
    /// Every quality check, front first and then back (when a back image was uploaded), each in
    /// the order resolution, blur, glare, exposure, cutoff, monochrome.
    pub checks: Vec<QualityCheckDto>,
    pub created_at: String,
    pub updated_at: String,
    /// The identity after the upload (upload responses only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentitySummaryDto>,
}

impl DocumentDto {
    /// The view of a stored document; `reason` is its recorded process reason, if any.
    pub fn new(doc: &kyc_model::Document, reason: Option<kyc_model::ProcessReason>) -> Self {
        use kyc_model::DocumentStatus;
        // The quality verdict's reasons: what a new photo must fix, or `monochrome` for a
        // scan (a blurred grey photo is resubmitted for its blur, not for lacking colour).
        let mut reasons: Vec<String> = Vec::new();
        if matches!(
            doc.status,
            DocumentStatus::Resubmit | DocumentStatus::Rejected
        ) {
            let quality = kyc_docs::Verdict::of_images(
                [&doc.front_checks, &doc.back_checks]
                    .map(|checks| kyc_docs::Verdict::from_checks(checks)),
            );
            reasons.extend(quality.reasons().iter().map(|c| c.as_str().to_owned()));
        }
        if let Some(reason) = reason {
            reasons.push(reason.as_str().to_owned());
        }
        let checks = doc
            .front_checks
            .iter()
            .map(|c| QualityCheckDto::new("front", c))
            .chain(
                doc.back_checks
                    .iter()
                    .map(|c| QualityCheckDto::new("back", c)),
            )
            .collect();
        Self {
            id: doc.id.to_string(),
            identity_id: doc.identity_id.to_string(),
            doc_type: doc.doc_type.as_str().to_owned(),
            status: doc.status.as_str().to_owned(),
            reasons,
            checks,
            created_at: rfc3339(doc.created_at),
            updated_at: rfc3339(doc.updated_at),
            identity: None,
        }
    }

    /// Adds the identity's standing (upload responses).
    #[must_use]
    pub fn with_identity(mut self, identity: &PersonalIdentity) -> Self {
        self.identity = Some(IdentitySummaryDto::from(identity));
        self
    }
}

/// A list of documents, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentListDto {
    pub data: Vec<DocumentDto>,
}

/// Short-lived links to a document's images, usable without an API key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresignedUrlDto {
    /// The front image's link (the same as `front`).
    pub url: String,
    /// When every link expires (RFC 3339).
    pub expires_at: String,
    pub front: String,
    /// Absent when the document has no back image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub back: Option<String>,
}

/// `POST /personal-identities/{id}/documents` as `multipart/form-data` (seed 000).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentUploadForm {
    /// `license`, `identificationCard`, `passport` or `residencePermit`.
    #[serde(rename = "DocumentType")]
    #[schema(example = "license")]
    pub document_type: String,
    /// JPEG or PNG (by content, whatever the name), at most 10 MB.
    #[serde(rename = "DocumentFront")]
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub document_front: Vec<u8>,
    /// Required for `license`, `identificationCard` and `residencePermit`; optional (and then
    /// checked like the front) for `passport`.
    #[serde(rename = "DocumentBack")]
    #[schema(value_type = Option<String>, format = Binary, content_media_type = "application/octet-stream")]
    pub document_back: Option<Vec<u8>>,
}

/// `POST /personal-identities/{id}/documents` as `application/json` (seed 003): the images as
/// base64 data URLs (`data:image/jpeg;base64,...`) or bare base64. The media type in a data URL
/// is ignored: the type is read from the decoded bytes. The form's names are accepted too:
/// `DocumentType`, `DocumentFront` or `documentFront`, `DocumentBack` or `documentBack`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentUploadJson {
    /// `license`, `identificationCard`, `passport` or `residencePermit`.
    #[schema(example = "passport")]
    pub document_type: String,
    /// At most 10 MB once decoded.
    #[schema(example = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ...")]
    pub front: String,
    /// Required for `license`, `identificationCard` and `residencePermit`.
    pub back: Option<String>,
}

/// `POST /sandbox/personal-identities/{id}/simulate` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimulateRequest {
    /// `approve` or `reject` (the name `decision` is accepted instead of `action`).
    #[schema(example = "approve")]
    pub action: String,
    /// For `approve` only: `L1` or `L2` (default: the highest level of the identity's ladder).
    #[schema(example = "L2")]
    pub level: Option<String>,
}

/// `PUT /kycs` body (seeds 004 and 002).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KycSessionRequestDto {
    /// A personal identity id, or `usr-` followed by it (40 characters).
    pub user_id: String,
    /// `full` (everything the products still need, documents included), `shipping` (a shipping
    /// address only), `rfi` (a request for information: what is missing plus a proof of
    /// address) or `import` (a provider's verified result, in `output`).
    #[serde(rename = "type")]
    pub kind: String,
    pub redirect_uri: Option<String>,
    /// Type `import` only, optional: seed 002's `input` (the media the provider verified, in the
    /// provider's own file store). Must be an object; accepted and not used.
    #[schema(value_type = Option<Object>)]
    pub input: Option<serde_json::Value>,
    /// The provider's verified result (type `import` only): `{provider, document {type, number,
    /// country, expiresAt}, person {givenName, familyName, birthdate, gender, address}, verifiedAt}`.
    #[schema(value_type = Option<Object>)]
    pub output: Option<serde_json::Value>,
}

/// What a KYC session must collect, and for an import, its verdict.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KycSessionDto {
    /// The session's id (recorded in the identity's audit trail).
    pub id: String,
    pub identity_id: String,
    /// The `usr-` form of the identity id.
    pub user_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `requires-data`, `pending-review`, `completed` or `rejected`: the identity's standing
    /// as `/eligibility` gives it (`rejected` only when a product is; for a shipping session,
    /// whether the address is still to collect). A failed import says so in `import`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Wire names of the fields still to collect.
    pub missing_data: Vec<String>,
    /// Documents still to collect, e.g. `proofOfId`.
    pub missing_documents: Vec<String>,
    #[schema(schema_with = wire::kyc_level)]
    pub kyc_level: KycLevel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportResultDto>,
}

/// The verdict on an imported verification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportResultDto {
    pub provider: String,
    /// `ok` or `failed`.
    pub status: String,
    /// `data-mismatch`, `underage` or `expired-document` when failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub document_id: String,
}

/// A list answer, `{"data": [...], "meta": {...}}`, serialized straight from its items (a
/// `json!` body would first build a JSON tree of every item, then serialize that: for a page of
/// 30 identities most of the worker's time).
#[derive(Debug, Serialize, ToSchema)]
pub struct PageBody<T> {
    pub data: Vec<T>,
    pub meta: PageMetaDto,
}

/// The `meta` object of a list answer: the total number of matches and the page returned
/// (`all=true` is reported as page 1 holding every item returned).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageMetaDto {
    pub total: u64,
    pub page: PageNumberDto,
}

/// Which page a list answer holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageNumberDto {
    /// From 1.
    pub number: u32,
    pub size: u32,
}

/// One entry of an identity's audit trail: who changed which fields when, never the values.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventDto {
    pub id: String,
    /// RFC 3339.
    pub at: String,
    /// `{"type": "apiKey", "keyId": ...}` or `{"type": "system"}`.
    #[schema(schema_with = wire::actor)]
    pub actor: kyc_model::Actor,
    #[schema(schema_with = wire::audit_action)]
    pub action: kyc_model::AuditAction,
    /// Changed fields by wire name (`address.postalCode`), never their values.
    pub fields: Vec<String>,
    /// The level before and after, when the KYC level changed; `null` otherwise.
    pub level_change: Option<LevelChangeDto>,
}

impl From<&kyc_store::audit::AuditEvent> for AuditEventDto {
    fn from(e: &kyc_store::audit::AuditEvent) -> Self {
        Self {
            id: e.id.to_string(),
            at: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            fields: e.fields.clone(),
            level_change: e.level_change.map(|(from, to)| LevelChangeDto { from, to }),
        }
    }
}

/// A change of KYC level.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LevelChangeDto {
    #[schema(schema_with = wire::kyc_level)]
    pub from: KycLevel,
    #[schema(schema_with = wire::kyc_level)]
    pub to: KycLevel,
}

/// `GET /personal-identities/{id}/kyc` (seed 002): the summary and one entry per process,
/// keyed by the process's name.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KycOverviewDto {
    pub identity_id: String,
    #[schema(schema_with = wire::kyc_level)]
    pub kyc_level: KycLevel,
    pub summary: KycSummaryDto,
    /// Keyed by `email`, `phone`, `profile`, `address`, `taxDetails`, `identity`, `screening`.
    pub processes: std::collections::BTreeMap<String, ProcessDto>,
}

/// `summary` of [`KycOverviewDto`].
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KycSummaryDto {
    #[schema(schema_with = wire::summary_status)]
    pub status: kyc_model::SummaryStatus,
}

/// One KYC process of an identity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProcessDto {
    #[schema(schema_with = wire::process_name)]
    pub name: kyc_model::ProcessName,
    #[schema(schema_with = wire::process_status)]
    pub status: kyc_model::ProcessStatus,
    /// Present exactly when `status` is `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = wire::process_reason)]
    pub reason: Option<kyc_model::ProcessReason>,
    /// KYC checks that looked at the process's data (documents uploaded, for `identity`).
    pub attempts: u32,
}

impl From<&kyc_tiers::ProcessReport> for ProcessDto {
    fn from(r: &kyc_tiers::ProcessReport) -> Self {
        Self {
            name: r.name,
            status: r.status,
            reason: r.reason,
            attempts: r.attempts,
        }
    }
}

/// `GET /personal-identities/{id}/eligibility` (seed 003): one entry per product of the policy.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EligibilityOverviewDto {
    pub identity_id: String,
    #[schema(schema_with = wire::kyc_level)]
    pub kyc_level: KycLevel,
    pub eligibility: Vec<EligibilityDto>,
}

/// Whether the identity may use one product yet, and what it still needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EligibilityDto {
    /// The product, e.g. `regulated-transfer`, `onramp` or `offramp` (the default policy's).
    #[serde(rename = "type")]
    pub product: String,
    #[schema(schema_with = wire::eligibility_status)]
    pub status: kyc_model::EligibilityStatus,
    /// Fields to provide or correct.
    #[schema(schema_with = wire::kyc_fields)]
    pub missing_data: kyc_tiers::FieldSet,
    #[schema(schema_with = wire::missing_documents)]
    pub missing_documents: kyc_tiers::DocumentSet,
}

impl From<&kyc_tiers::Eligibility<'_>> for EligibilityDto {
    fn from(e: &kyc_tiers::Eligibility<'_>) -> Self {
        Self {
            product: e.product.as_str().to_owned(),
            status: e.status,
            missing_data: e.missing_data,
            missing_documents: e.missing_documents,
        }
    }
}

/// A KYC check: per field `passed`, `notProvided`, or `failed` with the reason and the rule,
/// never the value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KycCheckDto {
    pub id: String,
    /// `builtin`, `sandbox`, or the name of the operator's bureau.
    pub verifier: String,
    pub performed_at: String,
    /// Keyed by `phone`, `name`, `address`, `ssn`, `dateOfBirth`.
    #[schema(value_type = Object)]
    pub outcomes: kyc_model::FieldOutcomes,
}

impl From<&kyc_model::KycCheck> for KycCheckDto {
    fn from(c: &kyc_model::KycCheck) -> Self {
        Self {
            id: c.id.to_string(),
            verifier: c.verifier.clone(),
            performed_at: rfc3339(c.performed_at),
            outcomes: c.outcomes.clone(),
        }
    }
}

/// `POST /personal-identities/{id}/kyc-checks`: the check and the identity after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KycCheckRunDto {
    pub check: KycCheckDto,
    pub identity: PersonalIdentityDto,
}

/// Closed sets of the wire format, for the OpenAPI document: each lists the wire names of a
/// domain enum as serde writes them, so the document's `enum`s cannot misspell a value.
pub mod wire {
    use kyc_model::{
        AuditAction, DocumentStatus, DocumentType, EligibilityStatus, Gender, KycField, KycLevel,
        MissingDocument, ProcessName, ProcessReason, ProcessStatus, QualityCode, ReviewStatus,
        SummaryStatus, UpgradeRequirement,
    };
    use serde::Serialize;
    use utoipa::openapi::{Array, ArrayBuilder, Object, ObjectBuilder, schema::Type};

    fn one_of<T: Serialize>(values: &[T]) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(
                values.iter().filter_map(|v| serde_json::to_value(v).ok()),
            ))
            .build()
    }

    fn list_of<T: Serialize>(values: &[T]) -> Array {
        ArrayBuilder::new().items(one_of(values)).build()
    }

    pub fn kyc_level() -> Object {
        one_of(&KycLevel::ALL)
    }

    pub fn upgrade_requirements() -> Array {
        list_of(&UpgradeRequirement::ALL)
    }

    pub fn missing_documents() -> Array {
        list_of(&MissingDocument::ALL)
    }

    pub fn kyc_fields() -> Array {
        list_of(&KycField::ALL)
    }

    pub fn review_status() -> Object {
        one_of(&ReviewStatus::ALL)
    }

    pub fn gender() -> Object {
        one_of(&Gender::ALL)
    }

    pub fn document_type() -> Object {
        one_of(&DocumentType::ALL)
    }

    pub fn document_status() -> Object {
        one_of(&DocumentStatus::ALL)
    }

    pub fn quality_code() -> Object {
        one_of(&QualityCode::ALL)
    }

    pub fn process_name() -> Object {
        one_of(&ProcessName::ALL)
    }

    pub fn process_status() -> Object {
        one_of(&ProcessStatus::ALL)
    }

    pub fn process_reason() -> Object {
        one_of(&ProcessReason::ALL)
    }

    pub fn summary_status() -> Object {
        one_of(&SummaryStatus::ALL)
    }

    pub fn eligibility_status() -> Object {
        one_of(&EligibilityStatus::ALL)
    }

    pub fn audit_action() -> Object {
        one_of(&AuditAction::ALL)
    }

    /// `{"type": "apiKey", "keyId": ...}` or `{"type": "system"}`.
    pub fn actor() -> Object {
        let key_id = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The API key that acted (type apiKey only)"));
        ObjectBuilder::new()
            .property("type", one_of(&["apiKey", "system"]))
            .required("type")
            .property("keyId", key_id)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use time::{format_description::well_known::Rfc3339, macros::datetime};

    use super::rfc3339;

    #[test]
    fn timestamps_are_utc_with_three_fractional_digits() {
        assert_eq!(
            rfc3339(datetime!(2026-12-06 11:10:16.23 UTC)),
            "2026-12-06T11:10:16.230Z"
        );
        assert_eq!(
            rfc3339(datetime!(2026-12-06 12:00:00 +01:00)),
            "2026-12-06T11:00:00.000Z"
        );
        let text = rfc3339(datetime!(1999-01-02 03:04:05.678 UTC));
        assert_eq!(
            time::OffsetDateTime::parse(&text, &Rfc3339).ok(),
            Some(datetime!(1999-01-02 03:04:05.678 UTC))
        );
    }
}
