//! API keys: 256-bit random secrets, of which only the SHA-256 is stored. A presented key is
//! hashed and looked up by its hash (unique index); the stored hash is then compared with the
//! computed one in constant time, so no timing difference depends on the secret.

use std::fmt;

use diesel::prelude::*;
use kyc_model::{ApiKeyId, Role, TenantId};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::{
    DbConnection, StoreError,
    crypto::{api_key_hash, new_api_key_secret},
    schema::api_keys::{self, dsl as k},
    ts,
    util::parse_id,
};

/// An API key's record (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub role: Role,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// The secret of a new key, shown once to whoever created it. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// The key as the client sends it: `kycd_` and 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key, consumed.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(<redacted>)")
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys, treat_none_as_default_value = false)]
struct ApiKeyRow {
    id: String,
    tenant_id: String,
    role: String,
    key_hash: Vec<u8>,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(row: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&row.id, "api_keys", "id")?,
            tenant_id: parse_id(&row.tenant_id, "api_keys", "tenant_id")?,
            role: Role::from_name(&row.role).ok_or(StoreError::corrupt("api_keys", "role"))?,
            created_at: ts::from_ms(row.created_at, "api_keys", "created_at")?,
            revoked_at: row
                .revoked_at
                .map(|ms| ts::from_ms(ms, "api_keys", "revoked_at"))
                .transpose()?,
        })
    }
}

/// Creates a key with `role` for `tenant` and returns its record and its secret. The tenant
/// must exist.
#[tracing::instrument(skip_all, fields(tenant = %tenant, role = role.as_str()))]
pub fn create(
    conn: &mut DbConnection,
    tenant: TenantId,
    role: Role,
) -> Result<(ApiKey, ApiKeySecret), StoreError> {
    crate::tenants::find(conn, tenant)?;
    let secret = new_api_key_secret();
    let row = ApiKeyRow {
        id: ApiKeyId::random().to_string(),
        tenant_id: tenant.to_string(),
        role: role.as_str().to_owned(),
        key_hash: api_key_hash(&secret).to_vec(),
        created_at: ts::now_ms(),
        revoked_at: None,
    };
    diesel::insert_into(k::api_keys)
        .values(&row)
        .execute(conn)?;
    Ok((ApiKey::try_from(row)?, ApiKeySecret(secret)))
}

/// The live key matching `presented`, or `None` for an unknown or revoked key. Operator keys
/// come back like any other: what they may touch is the caller's decision.
pub fn authenticate(
    conn: &mut DbConnection,
    presented: &str,
) -> Result<Option<ApiKey>, StoreError> {
    let hash = api_key_hash(presented);
    let row: Option<ApiKeyRow> = k::api_keys
        .filter(k::key_hash.eq(hash.to_vec()))
        .select(ApiKeyRow::as_select())
        .get_result(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    if !bool::from(row.key_hash.as_slice().ct_eq(&hash)) || row.revoked_at.is_some() {
        return Ok(None);
    }
    ApiKey::try_from(row).map(Some)
}

/// A tenant's keys, newest first.
pub fn list(conn: &mut DbConnection, tenant: TenantId) -> Result<Vec<ApiKey>, StoreError> {
    k::api_keys
        .filter(k::tenant_id.eq(tenant.to_string()))
        .order((k::created_at.desc(), k::id.desc()))
        .select(ApiKeyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ApiKey::try_from)
        .collect()
}

/// Revokes a key of `tenant`; revoking twice keeps the first time.
pub fn revoke(conn: &mut DbConnection, tenant: TenantId, id: ApiKeyId) -> Result<(), StoreError> {
    let mine = || {
        k::api_keys
            .filter(k::id.eq(id.to_string()))
            .filter(k::tenant_id.eq(tenant.to_string()))
    };
    let n = diesel::update(mine().filter(k::revoked_at.is_null()))
        .set(k::revoked_at.eq(Some(ts::now_ms())))
        .execute(conn)?;
    if n == 0 && mine().count().get_result::<i64>(conn)? == 0 {
        return Err(StoreError::NotFound { entity: "api_key" });
    }
    Ok(())
}
