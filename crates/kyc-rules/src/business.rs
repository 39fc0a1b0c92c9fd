//! Business identity bodies: `POST /business-identities` and `PATCH /business-identities/{id}`.

use std::fmt;

use kyc_model::{
    Address, BusinessData, CountryCode, Email, FormationRegion, LegalName, ModelError,
    PersonalIdentityId, Phone, TaxId,
};
use serde_json::Value;

use crate::{
    RulesError,
    fields::{address, phone},
    json::{Ctx, Obj, raw_text, text},
};

/// The writable wire fields of a company, in report order.
pub const BUSINESS_FIELDS: [&str; 7] = [
    "legalName",
    "email",
    "phone",
    "address",
    "taxId",
    "formationRegion",
    "identityOwner",
];

const BUSINESS_SERVER_OWNED: [&str; 6] = [
    "id",
    "containerId",
    "tenantId",
    "createdAt",
    "updatedAt",
    "version",
];

fn owner(ctx: &mut Ctx, path: &str, value: &Value) -> Option<PersonalIdentityId> {
    text(|raw: &str| raw.parse::<PersonalIdentityId>())(ctx, path, value)
}

/// Parses the body that creates a company. Every field is required. The tax id is checked
/// against the country of `formationRegion` (an EIN for the US), or of the address when the
/// formation region is itself invalid, so that one request reports as much as it can.
pub fn parse_business_create(body: &Value) -> Result<BusinessData, RulesError> {
    let mut ctx = Ctx::default();
    let data = Obj::new(&mut ctx, "", body).and_then(|obj| {
        obj.deny_unknown(&mut ctx, &BUSINESS_FIELDS, &BUSINESS_SERVER_OWNED);
        let c = &mut ctx;
        let legal_name = obj.get(c, "legalName", text(LegalName::parse)).required(c);
        let email = obj.get(c, "email", text(Email::parse)).required(c);
        let phone = obj.get(c, "phone", text(phone)).required(c);
        let address = obj.get(c, "address", address).required(c);
        let formation_region = obj
            .get(c, "formationRegion", text(FormationRegion::parse))
            .required(c);
        let identity_owner = obj.get(c, "identityOwner", owner).required(c);
        let tax_country = formation_region
            .as_ref()
            .map(FormationRegion::country)
            .or_else(|| address.as_ref().map(Address::country));
        let tax_raw = obj.get(c, "taxId", raw_text());
        let tax_path = tax_raw.path().to_owned();
        let tax_id = tax_raw.required(c).and_then(|raw| match tax_country {
            Some(country) => TaxId::parse_for(country, raw)
                .map_err(|e| c.model(&tax_path, e))
                .ok(),
            // Which rules apply is unknown; the country's own violation says why.
            None => None,
        });
        Some(BusinessData {
            legal_name: legal_name?,
            email: email?,
            phone: phone?,
            address: address?,
            tax_id: tax_id?,
            formation_region: formation_region?,
            identity_owner: identity_owner?,
        })
    });
    ctx.finish(data)
}

/// A tax id from a patch, checked for shape but not yet for a country: a patch that changes only
/// the tax id does not say where the company was formed. [`BusinessPatch::apply`] checks it
/// against the effective formation region. Its `Debug` hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct TaxIdInput(String);

impl TaxIdInput {
    /// Parses the tax id for a company formed in `country`.
    pub fn parse_for(&self, country: CountryCode) -> Result<TaxId, ModelError> {
        TaxId::parse_for(country, &self.0)
    }
}

impl fmt::Debug for TaxIdInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TaxIdInput(<redacted>)")
    }
}

/// A validated partial update of a company. `None` keeps a field. Every business field is
/// required, so none can be cleared; the address is replaced whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusinessPatch {
    pub legal_name: Option<LegalName>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub address: Option<Address>,
    pub tax_id: Option<TaxIdInput>,
    pub formation_region: Option<FormationRegion>,
    pub identity_owner: Option<PersonalIdentityId>,
}

/// Parses the body of a company's PATCH. `null` is a `required` violation for every field;
/// an empty object is `empty_patch`. A tax id is checked against the patch's own formation
/// region when it has one, else only for shape (the EIN check then happens in
/// [`BusinessPatch::apply`]).
pub fn parse_business_patch(body: &Value) -> Result<BusinessPatch, RulesError> {
    let mut ctx = Ctx::default();
    let patch = Obj::new(&mut ctx, "", body).map(|obj| {
        obj.deny_unknown(&mut ctx, &BUSINESS_FIELDS, &BUSINESS_SERVER_OWNED);
        if obj.is_empty() {
            ctx.violation("", "empty_patch", "must change at least one field");
        }
        let c = &mut ctx;
        let formation_region = obj
            .get(c, "formationRegion", text(FormationRegion::parse))
            .patch_required(c);
        let tax_raw = obj.get(c, "taxId", raw_text());
        let tax_path = tax_raw.path().to_owned();
        // With the region in the body the tax id is checked here, with the other fields;
        // without it, by `apply`, against the company's stored region (a US company's tax id
        // must be an EIN: rule `ein`, not the foreign `format`).
        let tax_id = tax_raw.patch_required(c).and_then(|raw| {
            let checked = match &formation_region {
                Some(region) => TaxId::parse_for(region.country(), raw).map(drop),
                None => Ok(()),
            };
            checked
                .map(|()| TaxIdInput(raw.to_owned()))
                .map_err(|e| c.model(&tax_path, e))
                .ok()
        });
        BusinessPatch {
            legal_name: obj
                .get(c, "legalName", text(LegalName::parse))
                .patch_required(c),
            email: obj.get(c, "email", text(Email::parse)).patch_required(c),
            phone: obj.get(c, "phone", text(phone)).patch_required(c),
            address: obj.get(c, "address", address).patch_required(c),
            tax_id,
            formation_region,
            identity_owner: obj.get(c, "identityOwner", owner).patch_required(c),
        }
    });
    ctx.finish(patch)
}

impl BusinessPatch {
    /// The company after the patch. The tax id (the patched one, or else the current one) is
    /// checked against the effective formation region, since either may have changed: a
    /// company re-registered in the US needs an EIN. Fails with a `taxId` violation.
    pub fn apply(&self, current: &BusinessData) -> Result<BusinessData, RulesError> {
        let mut next = current.clone();
        if let Some(v) = &self.legal_name {
            next.legal_name.clone_from(v);
        }
        if let Some(v) = &self.email {
            next.email.clone_from(v);
        }
        if let Some(v) = &self.phone {
            next.phone.clone_from(v);
        }
        if let Some(v) = &self.address {
            next.address.clone_from(v);
        }
        if let Some(v) = &self.formation_region {
            next.formation_region.clone_from(v);
        }
        if let Some(v) = self.identity_owner {
            next.identity_owner = v;
        }
        let country = next.formation_region.country();
        let tax = match &self.tax_id {
            Some(input) => input.parse_for(country),
            None if self.formation_region.is_some() => {
                TaxId::parse_for(country, current.tax_id.as_str())
            }
            None => Ok(current.tax_id.clone()),
        };
        let mut ctx = Ctx::default();
        match tax {
            Ok(tax_id) => {
                next.tax_id = tax_id;
                ctx.finish(Some(next))
            }
            Err(e) => {
                ctx.model("taxId", e);
                ctx.finish(None)
            }
        }
    }

    /// The wire names of the fields the patch sets, in [`BUSINESS_FIELDS`] order.
    pub fn changed_fields(&self) -> Vec<&'static str> {
        let touched = [
            self.legal_name.is_some(),
            self.email.is_some(),
            self.phone.is_some(),
            self.address.is_some(),
            self.tax_id.is_some(),
            self.formation_region.is_some(),
            self.identity_owner.is_some(),
        ];
        BUSINESS_FIELDS
            .into_iter()
            .zip(touched)
            .filter_map(|(name, t)| t.then_some(name))
            .collect()
    }

    /// Whether the patch changes the tax details (`taxId` or `formationRegion`), which Public
    /// Mint locks once the identity is confirmed.
    pub fn touches_tax_details(&self) -> bool {
        self.tax_id.is_some() || self.formation_region.is_some()
    }
}
