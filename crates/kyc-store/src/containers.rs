//! Identity containers: one person and the companies they own.

use diesel::prelude::*;
use kyc_model::{ContainerId, IdentityContainer, TenantId};

use crate::{
    DbConnection, StoreError,
    conn::on_backend,
    schema::identity_containers::{self, dsl as c},
    ts,
    util::parse_id,
};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = identity_containers, treat_none_as_default_value = false)]
struct ContainerRow {
    id: String,
    tenant_id: String,
    created_at: i64,
}

impl TryFrom<ContainerRow> for IdentityContainer {
    type Error = StoreError;

    fn try_from(row: ContainerRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&row.id, "identity_containers", "id")?,
            tenant_id: parse_id(&row.tenant_id, "identity_containers", "tenant_id")?,
            created_at: ts::from_ms(row.created_at, "identity_containers", "created_at")?,
        })
    }
}

/// Creates an empty container for `tenant`.
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub fn create(conn: &mut DbConnection, tenant: TenantId) -> Result<IdentityContainer, StoreError> {
    let row = ContainerRow {
        id: ContainerId::random().to_string(),
        tenant_id: tenant.to_string(),
        created_at: ts::now_ms(),
    };
    on_backend!(conn, |conn| diesel::insert_into(c::identity_containers)
        .values(&row)
        .execute(conn))?;
    IdentityContainer::try_from(row)
}

/// A container of `tenant`.
pub fn find(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: ContainerId,
) -> Result<IdentityContainer, StoreError> {
    c::identity_containers
        .filter(c::id.eq(id.to_string()))
        .filter(c::tenant_id.eq(tenant.to_string()))
        .select(ContainerRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound {
            entity: "identity_container",
        })
        .and_then(IdentityContainer::try_from)
}
