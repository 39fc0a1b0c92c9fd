use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    Address, BusinessIdentityId, ContainerId, CountryCode, DateOfBirth, DueDiligence, Email,
    FormationRegion, Gender, KycLevel, LegalName, MissingDocument, PersonName, PersonalIdentityId,
    Phone, ReviewStatus, Ssn, TaxId, TenantId, UpgradeRequirement,
};

/// Which ladder of the tier policy an end user climbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// A US end user: L1 needs address, date of birth and SSN.
    Us,
    /// Everyone else: no L1; L2 needs address, date of birth and a document.
    International,
}

/// Groups one personal identity and the business identities it owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityContainer {
    pub id: ContainerId,
    pub tenant_id: TenantId,
    pub created_at: OffsetDateTime,
}

/// What an integrator tells us about a person. Only parsed values: an instance is valid by
/// construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalData {
    pub first_name: PersonName,
    pub middle_name: Option<PersonName>,
    pub last_name: PersonName,
    pub email: Email,
    pub phone: Phone,
    pub address: Option<Address>,
    pub date_of_birth: Option<DateOfBirth>,
    pub ssn: Option<Ssn>,
    pub gender: Option<Gender>,
    pub due_diligence: Option<DueDiligence>,
}

impl PersonalData {
    /// The ladder this person climbs: their address's country when known, else the country of
    /// their phone number; a person we cannot place is treated as a US end user, the stricter
    /// ladder that asks for the most data (as Fortress Trust does for a bare L0 identity).
    pub fn region(&self) -> Region {
        let country = self
            .address
            .as_ref()
            .map(Address::country)
            .or_else(|| self.phone.country());
        match country {
            Some(c) if c != CountryCode::US => Region::International,
            _ => Region::Us,
        }
    }
}

/// The server-owned KYC state of a personal identity, as the tier engine last computed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KycState {
    pub kyc_level: KycLevel,
    pub upgrade_requirements: Vec<UpgradeRequirement>,
    pub missing_documents: Vec<MissingDocument>,
    pub identity_confirmed: bool,
    pub blocked: bool,
    pub review_status: ReviewStatus,
}

impl Default for KycState {
    fn default() -> Self {
        Self {
            kyc_level: KycLevel::L0,
            upgrade_requirements: Vec::new(),
            missing_documents: Vec::new(),
            identity_confirmed: false,
            blocked: false,
            review_status: ReviewStatus::None,
        }
    }
}

/// A person, with their data and KYC state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalIdentity {
    pub id: PersonalIdentityId,
    pub tenant_id: TenantId,
    pub container_id: ContainerId,
    pub data: PersonalData,
    pub kyc: KycState,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Optimistic-concurrency version, bumped on every write.
    pub version: i64,
}

/// What an integrator tells us about a company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessData {
    pub legal_name: LegalName,
    pub email: Email,
    pub phone: Phone,
    pub address: Address,
    pub tax_id: TaxId,
    pub formation_region: FormationRegion,
    /// The person who owns the company; must be a personal identity of the same tenant.
    pub identity_owner: PersonalIdentityId,
}

/// A company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessIdentity {
    pub id: BusinessIdentityId,
    pub tenant_id: TenantId,
    pub container_id: ContainerId,
    pub data: BusinessData,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}
