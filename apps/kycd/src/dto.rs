//! Wire types: what the API returns (and, for the OpenAPI document, what it takes). Domain
//! values convert into these at the edge, so the wire format can stay stable while the domain
//! changes. Request bodies are parsed by `kyc-rules` from raw JSON, which is how every violation
//! of a request is reported at once; the request structs here only describe them.

use kyc_model::{
    Address, AddressRegion, BusinessIdentity, DueDiligence, Gender, IdentityContainer, KycLevel,
    MissingDocument, PersonalIdentity, ReviewStatus, UpgradeRequirement,
};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use utoipa::ToSchema;

/// RFC 3339 text of a timestamp.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
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
    #[schema(value_type = Option<String>)]
    pub gender: Option<Gender>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_diligence: Option<DueDiligenceDto>,
    #[schema(value_type = String, example = "L0")]
    pub kyc_level: KycLevel,
    #[schema(value_type = Vec<String>, example = json!(["Address is not provided", "Ssn is not provided", "DateOfBirth is not provided"]))]
    pub upgrade_requirements: Vec<UpgradeRequirement>,
    #[schema(value_type = Vec<String>, example = json!(["proofOfId"]))]
    pub missing_documents: Vec<MissingDocument>,
    pub identity_confirmed: bool,
    pub blocked: bool,
    #[schema(value_type = String, example = "none")]
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
