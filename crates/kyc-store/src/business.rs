//! Business identities (companies). The tax id is sealed; the rest is plain text or JSON.

use diesel::prelude::*;
use kyc_model::{
    BusinessData, BusinessIdentity, BusinessIdentityId, ContainerId, CountryCode, Email,
    FormationRegion, LegalName, PersonalIdentityId, Phone, TaxId, TenantId,
};

use crate::{
    DbConnection, Keyring, StoreError,
    conn::{MultiBackend, on_backend},
    crypto::Aad,
    dialect,
    list::{FilterField, FilterOp, ListQuery, Listing, Page, Sort},
    personal::Written,
    schema::{
        business_identities::{self, dsl as b},
        personal_identities::dsl as p,
    },
    ts,
    util::{WithKeys, claim_email, from_json, parse_id, to_json},
};

const TABLE: &str = "business_identities";

/// What [`insert`] needs. The company joins its owner's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBusinessIdentity {
    pub tenant_id: TenantId,
    pub data: BusinessData,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = business_identities)]
pub(crate) struct BusinessRow {
    id: String,
    tenant_id: String,
    container_id: String,
    owner_id: String,
    legal_name: String,
    email: String,
    phone: String,
    address_json: String,
    tax_id_ct: Vec<u8>,
    tax_id_key_id: String,
    formation_region: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = business_identities, treat_none_as_default_value = false)]
struct DataColumns {
    owner_id: String,
    legal_name: String,
    email: String,
    phone: String,
    address_json: String,
    tax_id_ct: Vec<u8>,
    tax_id_key_id: String,
    formation_region: String,
}

#[derive(Insertable)]
#[diesel(table_name = business_identities, treat_none_as_default_value = false)]
struct InsertRow {
    id: String,
    tenant_id: String,
    container_id: String,
    #[diesel(embed)]
    data: DataColumns,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

pub(crate) fn tax_id_aad(id: &str) -> Aad {
    Aad::new(TABLE, "tax_id", id)
}

impl DataColumns {
    fn new(keys: &Keyring, id: &str, data: &BusinessData) -> Result<Self, StoreError> {
        let tax = keys.seal(&tax_id_aad(id), data.tax_id.as_str().as_bytes())?;
        Ok(Self {
            owner_id: data.identity_owner.to_string(),
            legal_name: data.legal_name.as_str().to_owned(),
            email: data.email.as_str().to_owned(),
            phone: data.phone.as_str().to_owned(),
            address_json: to_json(&data.address)?,
            tax_id_ct: tax.bytes,
            tax_id_key_id: tax.key_id,
            formation_region: data.formation_region.as_str().to_owned(),
        })
    }
}

/// Tax ids are stored in canonical form; which edge rule produced it depends on the country it
/// was parsed for. The formation country's rule is tried first; the non-US rule accepts every
/// canonical form (the US form is nine digits), so a stored id always reads back unchanged.
fn parse_tax_id(raw: &str, region: &FormationRegion) -> Result<TaxId, StoreError> {
    let corrupt = || StoreError::corrupt(TABLE, "tax_id_ct");
    TaxId::parse_for(region.country(), raw).or_else(|_| {
        let elsewhere = CountryCode::parse("GB").map_err(|_| corrupt())?;
        TaxId::parse_for(elsewhere, raw).map_err(|_| corrupt())
    })
}

impl TryFrom<WithKeys<'_, BusinessRow>> for BusinessIdentity {
    type Error = StoreError;

    fn try_from(WithKeys { row, keys }: WithKeys<'_, BusinessRow>) -> Result<Self, StoreError> {
        let corrupt = |col| move |_| StoreError::corrupt(TABLE, col);
        let region =
            FormationRegion::parse(&row.formation_region).map_err(corrupt("formation_region"))?;
        let tax = keys.open_text(&row.tax_id_key_id, &tax_id_aad(&row.id), &row.tax_id_ct)?;
        Ok(Self {
            id: parse_id(&row.id, TABLE, "id")?,
            tenant_id: parse_id(&row.tenant_id, TABLE, "tenant_id")?,
            container_id: parse_id(&row.container_id, TABLE, "container_id")?,
            data: BusinessData {
                legal_name: LegalName::parse(&row.legal_name).map_err(corrupt("legal_name"))?,
                email: Email::parse(&row.email).map_err(corrupt("email"))?,
                phone: Phone::parse(&row.phone).map_err(corrupt("phone"))?,
                address: from_json(&row.address_json, TABLE, "address_json")?,
                tax_id: parse_tax_id(&tax, &region)?,
                formation_region: region,
                identity_owner: parse_id(&row.owner_id, TABLE, "owner_id")?,
            },
            created_at: ts::from_ms(row.created_at, TABLE, "created_at")?,
            updated_at: ts::from_ms(row.updated_at, TABLE, "updated_at")?,
            version: row.version,
        })
    }
}

fn open(keys: &Keyring, row: BusinessRow) -> Result<BusinessIdentity, StoreError> {
    BusinessIdentity::try_from(WithKeys::new(row, keys))
}

fn of_tenant(tenant: TenantId) -> business_identities::BoxedQuery<'static, MultiBackend> {
    b::business_identities
        .filter(b::tenant_id.eq(tenant.to_string()))
        .into_boxed()
}

/// The container of a live personal identity of `tenant`, which must own the company.
fn owner_container(
    conn: &mut DbConnection,
    tenant: TenantId,
    owner: PersonalIdentityId,
) -> Result<String, StoreError> {
    p::personal_identities
        .filter(p::id.eq(owner.to_string()))
        .filter(p::tenant_id.eq(tenant.to_string()))
        .filter(p::erased_at.is_null())
        .select(p::container_id)
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound {
            entity: "identity_owner",
        })
}

/// Whether a company of `tenant` uses `email` (stored lowercased, like the argument). On the
/// concrete connection: every person create runs it.
pub(crate) fn email_used(
    conn: &mut DbConnection,
    tenant: &str,
    email: &str,
) -> Result<bool, StoreError> {
    let query = b::business_identities
        .filter(b::tenant_id.eq(tenant.to_owned()))
        .filter(b::email.eq(email.to_owned()))
        .count();
    Ok(on_backend!(conn, |conn| query.get_result::<i64>(conn))? > 0)
}

/// A write's error, with the one unique key a company write can break (the tenant's emails; ids
/// are random) as [`StoreError::EmailInUse`].
fn email_in_use(err: diesel::result::Error) -> StoreError {
    let err = StoreError::from(err);
    if err.is_unique_violation() {
        StoreError::EmailInUse
    } else {
        err
    }
}

/// Stores a company in its owner's container. Its email must be free among the tenant's
/// companies and persons ([`StoreError::EmailInUse`]). An owner that is not a live personal
/// identity of the tenant is `NotFound { entity: "identity_owner" }` (use [`exists`] first to
/// tell a business-identity owner apart).
#[tracing::instrument(skip_all, fields(tenant = %new.tenant_id))]
pub fn insert(
    conn: &mut DbConnection,
    keys: &Keyring,
    new: &NewBusinessIdentity,
) -> Result<BusinessIdentity, StoreError> {
    let container = owner_container(conn, new.tenant_id, new.data.identity_owner)?;
    claim_email(
        conn,
        new.tenant_id,
        &new.data.email,
        crate::personal::email_used,
    )?;
    let id = BusinessIdentityId::random();
    let id_text = id.to_string();
    let now = ts::now_ms();
    let row = InsertRow {
        data: DataColumns::new(keys, &id_text, &new.data)?,
        id: id_text,
        tenant_id: new.tenant_id.to_string(),
        container_id: container.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(b::business_identities)
        .values(&row)
        .execute(conn)
        .map_err(email_in_use)?;
    let at = ts::from_ms(now, TABLE, "created_at")?;
    Ok(BusinessIdentity {
        id,
        tenant_id: new.tenant_id,
        container_id: parse_id(&container, TABLE, "container_id")?,
        data: new.data.clone(),
        created_at: at,
        updated_at: at,
        version: 1,
    })
}

/// A company of `tenant`.
pub fn find(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    id: BusinessIdentityId,
) -> Result<BusinessIdentity, StoreError> {
    let row = of_tenant(tenant)
        .filter(b::id.eq(id.to_string()))
        .select(BusinessRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound {
            entity: "business_identity",
        })?;
    open(keys, row)
}

/// Whether `id` (any UUID) is a business identity of `tenant`: how the server tells
/// `identity_owner_must_be_of_type_person` from `identity_owner_not_found`.
pub fn exists(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: uuid::Uuid,
) -> Result<bool, StoreError> {
    Ok(of_tenant(tenant)
        .filter(b::id.eq(id.hyphenated().to_string()))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// The companies of a container, oldest first.
pub fn list_by_container(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    container: ContainerId,
) -> Result<Vec<BusinessIdentity>, StoreError> {
    of_tenant(tenant)
        .filter(b::container_id.eq(container.to_string()))
        .order((b::created_at.asc(), b::id.asc()))
        .select(BusinessRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| open(keys, row))
        .collect()
}

/// A page of `tenant`'s companies matching `query` (a [`Listing::Companies`] query), in its
/// order (newest first by default), with the total count.
pub fn list(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    query: &ListQuery,
) -> Result<Page<BusinessIdentity>, StoreError> {
    let backend = conn.backend();
    let total: i64 = filtered(backend, tenant, query).count().get_result(conn)?;
    let q = filtered(backend, tenant, query);
    let q = match query.sort {
        Sort::CreatedAtAsc => q.order((b::created_at.asc(), b::id.asc())),
        Sort::CreatedAtDesc => q.order((b::created_at.desc(), b::id.desc())),
        Sort::UpdatedAtAsc => q.order((b::updated_at.asc(), b::id.asc())),
        Sort::UpdatedAtDesc => q.order((b::updated_at.desc(), b::id.desc())),
    };
    let items = crate::conn::paged(q.select(BusinessRow::as_select()), query.page)
        .load(conn)?
        .into_iter()
        .map(|row| open(keys, row))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::new(items, total, query.page))
}

fn filtered(
    backend: crate::Backend,
    tenant: TenantId,
    query: &ListQuery,
) -> business_identities::BoxedQuery<'static, MultiBackend> {
    let mut q = of_tenant(tenant);
    for f in &query.filters {
        macro_rules! apply {
            ($col:expr) => {
                match &f.op {
                    FilterOp::Eq(v) => q.filter($col.eq(v.clone())),
                    FilterOp::In(vs) => q.filter($col.eq_any(vs.clone())),
                    FilterOp::NotIn(vs) => q.filter($col.ne_all(vs.clone())),
                    FilterOp::Like(needle) => {
                        let column = if f.field == FilterField::Email {
                            "email"
                        } else {
                            "legal_name"
                        };
                        q.filter(dialect::like_ignoring_case(
                            backend,
                            column,
                            crate::list::like_contains_pattern(needle),
                        ))
                    }
                }
            };
        }
        q = match f.field {
            FilterField::Id => apply!(b::id),
            FilterField::Email => apply!(b::email),
            // Ignoring case in every form, as a person's name and `like:` do.
            FilterField::Name => q.filter(dialect::matches_ignoring_case(
                backend,
                &["legal_name"],
                &f.op,
            )),
            FilterField::ContainerId => apply!(b::container_id),
            FilterField::IdentityOwner => apply!(b::owner_id),
            FilterField::Type if f.op.admits(Listing::Companies.identity_type()) => q,
            FilterField::Type => q.filter(b::id.is_null()),
            // Not fields of a company: `ListQuery::parse_for` refuses them for this list.
            FilterField::FirstName
            | FilterField::LastName
            | FilterField::KycLevel
            | FilterField::ReviewStatus
            | FilterField::Blocked => q,
        };
    }
    q
}

#[diesel::dsl::auto_type]
fn update_target(tenant: String, id: String, expected: i64) -> _ {
    b::business_identities
        .filter(b::id.eq(id))
        .filter(b::tenant_id.eq(tenant))
        .filter(b::version.eq(expected))
}

/// Writes a company's data if the stored version is still `company.version` (else
/// [`StoreError::Conflict`]). A new owner must be a live personal identity of the tenant, and
/// the company moves into the new owner's container (SPEC §2: a container groups a person and
/// the companies it owns). A company whose owner was erased keeps its container and can still
/// be updated; only a new owner is looked up.
#[tracing::instrument(skip_all, fields(tenant = %company.tenant_id, id = %company.id))]
pub fn update(
    conn: &mut DbConnection,
    keys: &Keyring,
    company: &BusinessIdentity,
) -> Result<BusinessIdentity, StoreError> {
    let id = company.id.to_string();
    let stored: Option<(String, String)> = of_tenant(company.tenant_id)
        .filter(b::id.eq(&id))
        .select((b::email, b::owner_id))
        .get_result(conn)
        .optional()?;
    let owner = company.data.identity_owner.to_string();
    // A company lives in its owner's container: a new owner takes it along.
    let container = match &stored {
        Some((_, stored_owner)) if *stored_owner == owner => company.container_id.to_string(),
        _ => owner_container(conn, company.tenant_id, company.data.identity_owner)?,
    };
    if stored.is_some_and(|(e, _)| e != company.data.email.as_str()) {
        claim_email(
            conn,
            company.tenant_id,
            &company.data.email,
            crate::personal::email_used,
        )?;
    }
    let data = DataColumns::new(keys, &id, &company.data)?;
    let now = ts::now_ms();
    let n = diesel::update(update_target(
        company.tenant_id.to_string(),
        id.clone(),
        company.version,
    ))
    .set((
        &data,
        b::container_id.eq(&container),
        b::version.eq(company.version + 1),
        b::updated_at.eq(now),
    ))
    .execute(conn)
    .map_err(email_in_use)?;
    if n == 0 {
        let actual: Option<i64> = of_tenant(company.tenant_id)
            .filter(b::id.eq(id))
            .select(b::version)
            .get_result(conn)
            .optional()?;
        return Err(match actual {
            None => StoreError::NotFound {
                entity: "business_identity",
            },
            Some(actual) => StoreError::Conflict {
                entity: "business_identity",
                expected: company.version,
                actual,
            },
        });
    }
    let written = Written {
        version: company.version + 1,
        updated_at: ts::from_ms(now, TABLE, "updated_at")?,
    };
    let mut updated = company.clone();
    updated.container_id = parse_id(&container, TABLE, "container_id")?;
    updated.version = written.version;
    updated.updated_at = written.updated_at;
    Ok(updated)
}

/// Locks a company of `tenant` for the rest of the current write transaction (see
/// [`crate::personal::lock`]): `SELECT ... FOR UPDATE` on PostgreSQL, nothing on SQLite.
pub fn lock(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: BusinessIdentityId,
) -> Result<(), StoreError> {
    let found = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(_) => exists(conn, tenant, *id.as_uuid())?.then_some(()),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => b::business_identities
            .filter(b::id.eq(id.to_string()))
            .filter(b::tenant_id.eq(tenant.to_string()))
            .select(b::id)
            .for_update()
            .get_result::<String>(c)
            .optional()?
            .map(|_| ()),
    };
    found.ok_or(StoreError::NotFound {
        entity: "business_identity",
    })
}
