//! Personal identity bodies: `POST /identity-containers` and `PATCH /personal-identities/{id}`.

use kyc_model::{
    Address, DateOfBirth, DueDiligence, Email, Gender, PersonName, PersonalData, Phone, Ssn,
};
use serde_json::Value;

use crate::{
    RulesError,
    fields::{address, due_diligence, gender, phone},
    json::{Ctx, Obj, text},
};

/// The writable wire fields of a person, in report order.
pub const PERSONAL_FIELDS: [&str; 10] = [
    "firstName",
    "middleName",
    "lastName",
    "email",
    "phone",
    "address",
    "dateOfBirth",
    "ssn",
    "gender",
    "dueDiligence",
];

/// Fields the server owns: refused like any unknown field, with a clearer message.
pub(crate) const PERSONAL_SERVER_OWNED: [&str; 12] = [
    "id",
    "containerId",
    "tenantId",
    "kycLevel",
    "upgradeRequirements",
    "missingDocuments",
    "identityConfirmed",
    "blocked",
    "reviewStatus",
    "createdAt",
    "updatedAt",
    "version",
];

/// Parses the body that creates a person. `firstName`, `lastName`, `email` and `phone` are
/// required; everything else is optional, and `null` means absent.
pub fn parse_personal_create(body: &Value) -> Result<PersonalData, RulesError> {
    let mut ctx = Ctx::default();
    let data = Obj::new(&mut ctx, "", body).and_then(|obj| {
        obj.deny_unknown(&mut ctx, &PERSONAL_FIELDS, &PERSONAL_SERVER_OWNED);
        let c = &mut ctx;
        let first_name = obj.get(c, "firstName", text(PersonName::parse)).required(c);
        let middle_name = obj.get(c, "middleName", text(PersonName::parse)).optional();
        let last_name = obj.get(c, "lastName", text(PersonName::parse)).required(c);
        let email = obj.get(c, "email", text(Email::parse)).required(c);
        let phone = obj.get(c, "phone", text(phone)).required(c);
        let address = obj.get(c, "address", address).optional();
        let date_of_birth = obj
            .get(c, "dateOfBirth", text(DateOfBirth::parse))
            .optional();
        let ssn = obj.get(c, "ssn", text(Ssn::parse)).optional();
        let gender = obj.get(c, "gender", gender).optional();
        let due_diligence = obj.get(c, "dueDiligence", due_diligence).optional();
        Some(PersonalData {
            first_name: first_name?,
            middle_name,
            last_name: last_name?,
            email: email?,
            phone: phone?,
            address,
            date_of_birth,
            ssn,
            gender,
            due_diligence,
        })
    });
    ctx.finish(data)
}

/// A validated partial update of a person.
///
/// Required fields are `Option<T>`: `None` keeps the current value. Optional fields are
/// `Option<Option<T>>`: `None` keeps, `Some(None)` clears (the body said `null`), `Some(Some(v))`
/// sets. Composite fields (`address`, `dueDiligence`) are replaced whole, never merged: a
/// half-updated address would mix two places.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonalPatch {
    pub first_name: Option<PersonName>,
    pub middle_name: Option<Option<PersonName>>,
    pub last_name: Option<PersonName>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub address: Option<Option<Address>>,
    pub date_of_birth: Option<Option<DateOfBirth>>,
    pub ssn: Option<Option<Ssn>>,
    pub gender: Option<Option<Gender>>,
    pub due_diligence: Option<Option<DueDiligence>>,
}

/// Parses the body of a person's PATCH. Every field is optional; `null` clears an optional
/// field and is a `required` violation for a required one; an empty object is `empty_patch`.
pub fn parse_personal_patch(body: &Value) -> Result<PersonalPatch, RulesError> {
    let mut ctx = Ctx::default();
    let patch = Obj::new(&mut ctx, "", body).map(|obj| {
        obj.deny_unknown(&mut ctx, &PERSONAL_FIELDS, &PERSONAL_SERVER_OWNED);
        if obj.is_empty() {
            ctx.violation("", "empty_patch", "must change at least one field");
        }
        let c = &mut ctx;
        let name = |c: &mut Ctx, key| obj.get(c, key, text(PersonName::parse));
        PersonalPatch {
            first_name: name(c, "firstName").patch_required(c),
            middle_name: name(c, "middleName").patch_optional(),
            last_name: name(c, "lastName").patch_required(c),
            email: obj.get(c, "email", text(Email::parse)).patch_required(c),
            phone: obj.get(c, "phone", text(phone)).patch_required(c),
            address: obj.get(c, "address", address).patch_optional(),
            date_of_birth: obj
                .get(c, "dateOfBirth", text(DateOfBirth::parse))
                .patch_optional(),
            ssn: obj.get(c, "ssn", text(Ssn::parse)).patch_optional(),
            gender: obj.get(c, "gender", gender).patch_optional(),
            due_diligence: obj.get(c, "dueDiligence", due_diligence).patch_optional(),
        }
    });
    ctx.finish(patch)
}

fn set<T: Clone>(current: &mut T, change: Option<&T>) {
    if let Some(v) = change {
        current.clone_from(v);
    }
}

impl PersonalPatch {
    /// The person after the patch.
    pub fn apply(&self, current: &PersonalData) -> PersonalData {
        let mut next = current.clone();
        set(&mut next.first_name, self.first_name.as_ref());
        set(&mut next.middle_name, self.middle_name.as_ref());
        set(&mut next.last_name, self.last_name.as_ref());
        set(&mut next.email, self.email.as_ref());
        set(&mut next.phone, self.phone.as_ref());
        set(&mut next.address, self.address.as_ref());
        set(&mut next.date_of_birth, self.date_of_birth.as_ref());
        set(&mut next.ssn, self.ssn.as_ref());
        set(&mut next.gender, self.gender.as_ref());
        set(&mut next.due_diligence, self.due_diligence.as_ref());
        next
    }

    /// The wire names of the fields the patch sets or clears, in [`PERSONAL_FIELDS`] order
    /// (for the audit trail and `identity.updated` events: names, never values).
    pub fn changed_fields(&self) -> Vec<&'static str> {
        let touched = [
            self.first_name.is_some(),
            self.middle_name.is_some(),
            self.last_name.is_some(),
            self.email.is_some(),
            self.phone.is_some(),
            self.address.is_some(),
            self.date_of_birth.is_some(),
            self.ssn.is_some(),
            self.gender.is_some(),
            self.due_diligence.is_some(),
        ];
        PERSONAL_FIELDS
            .into_iter()
            .zip(touched)
            .filter_map(|(name, t)| t.then_some(name))
            .collect()
    }

    /// Whether the patch touches a field the KYC check looks at (name, phone, address, date of
    /// birth, SSN): such a patch starts a new check (SPEC §4).
    pub fn touches_kyc_fields(&self) -> bool {
        self.first_name.is_some()
            || self.middle_name.is_some()
            || self.last_name.is_some()
            || self.phone.is_some()
            || self.address.is_some()
            || self.date_of_birth.is_some()
            || self.ssn.is_some()
    }

    /// Whether the patch touches a field that is locked once the identity is confirmed (name,
    /// date of birth, gender, SSN: SPEC §4, `identity_confirmed_field_locked`).
    pub fn touches_locked_fields(&self) -> bool {
        self.first_name.is_some()
            || self.middle_name.is_some()
            || self.last_name.is_some()
            || self.date_of_birth.is_some()
            || self.gender.is_some()
            || self.ssn.is_some()
    }

    /// The locked fields whose value the patch would actually change on `current`, in
    /// [`PERSONAL_FIELDS`] order. Re-sending a confirmed identity's unchanged name is harmless;
    /// a server may choose to refuse only these.
    pub fn locked_fields_changed(&self, current: &PersonalData) -> Vec<&'static str> {
        let differs = |changed: bool, name| changed.then_some(name);
        [
            differs(
                self.first_name
                    .as_ref()
                    .is_some_and(|v| *v != current.first_name),
                "firstName",
            ),
            differs(
                self.middle_name
                    .as_ref()
                    .is_some_and(|v| *v != current.middle_name),
                "middleName",
            ),
            differs(
                self.last_name
                    .as_ref()
                    .is_some_and(|v| *v != current.last_name),
                "lastName",
            ),
            differs(
                self.date_of_birth
                    .as_ref()
                    .is_some_and(|v| *v != current.date_of_birth),
                "dateOfBirth",
            ),
            differs(self.ssn.as_ref().is_some_and(|v| *v != current.ssn), "ssn"),
            differs(
                self.gender.as_ref().is_some_and(|v| *v != current.gender),
                "gender",
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
