//! Tenants (integrators). Every other row belongs to exactly one.

use diesel::prelude::*;
use kyc_model::TenantId;
use time::OffsetDateTime;

use crate::{
    DbConnection, StoreError,
    schema::tenants::{self, dsl as t},
    ts,
    util::parse_id,
};

/// An integrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    /// Unique; the CLI refers to tenants by name.
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tenants, treat_none_as_default_value = false)]
struct TenantRow {
    id: String,
    name: String,
    created_at: i64,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;

    fn try_from(row: TenantRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&row.id, "tenants", "id")?,
            name: row.name,
            created_at: ts::from_ms(row.created_at, "tenants", "created_at")?,
        })
    }
}

/// Creates a tenant. A name already taken is [`StoreError::Duplicate`].
#[tracing::instrument(skip_all)]
pub fn create(conn: &mut DbConnection, name: &str) -> Result<Tenant, StoreError> {
    let row = TenantRow {
        id: TenantId::random().to_string(),
        name: name.to_owned(),
        created_at: ts::now_ms(),
    };
    diesel::insert_into(t::tenants)
        .values(&row)
        .execute(conn)
        .map_err(StoreError::from)
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Duplicate { entity: "tenant" }
            } else {
                e
            }
        })?;
    Tenant::try_from(row)
}

/// A tenant by id.
pub fn find(conn: &mut DbConnection, id: TenantId) -> Result<Tenant, StoreError> {
    t::tenants
        .filter(t::id.eq(id.to_string()))
        .select(TenantRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound { entity: "tenant" })
        .and_then(Tenant::try_from)
}

/// A tenant by name.
pub fn find_by_name(conn: &mut DbConnection, name: &str) -> Result<Tenant, StoreError> {
    t::tenants
        .filter(t::name.eq(name))
        .select(TenantRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound { entity: "tenant" })
        .and_then(Tenant::try_from)
}

/// Every tenant, oldest first (operator tooling).
pub fn list(conn: &mut DbConnection) -> Result<Vec<Tenant>, StoreError> {
    t::tenants
        .order((t::created_at.asc(), t::id.asc()))
        .select(TenantRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Tenant::try_from)
        .collect()
}
