//! KYC check results. Outcomes name rules, never values, so they are stored as plain JSON.

use diesel::prelude::*;
use kyc_model::{KycCheck, PersonalIdentity, PersonalIdentityId, TenantId};
use time::OffsetDateTime;

use crate::{
    DbConnection, StoreError,
    conn::on_backend,
    schema::kyc_checks::{self, dsl as c},
    ts,
    util::{from_json, parse_id, to_json},
};

const TABLE: &str = "kyc_checks";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = kyc_checks, treat_none_as_default_value = false)]
struct CheckRow {
    id: String,
    tenant_id: String,
    identity_id: String,
    verifier: String,
    performed_at: i64,
    outcomes_json: String,
}

impl TryFrom<CheckRow> for KycCheck {
    type Error = StoreError;

    fn try_from(row: CheckRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&row.id, TABLE, "id")?,
            identity_id: parse_id(&row.identity_id, TABLE, "identity_id")?,
            verifier: row.verifier,
            performed_at: ts::from_ms(row.performed_at, TABLE, "performed_at")?,
            outcomes: from_json(&row.outcomes_json, TABLE, "outcomes_json")?,
        })
    }
}

/// The time to record a new fact of `identity` (a KYC check, a review decision, an upload) at:
/// `now`, or 1 ms after the identity's latest check, decision or upload when that is not
/// earlier. The tier engine orders an identity's facts by time, and two of one millisecond
/// (two units of one SQLite batch, or a replica whose clock is behind) would tie: two
/// concurrent decisions could then both be recorded while the identity settled on one of
/// them. Call it in the transaction that records the fact.
pub fn next_fact_time(
    conn: &mut DbConnection,
    identity: PersonalIdentityId,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, StoreError> {
    let query = LatestFact {
        identity: identity.to_string(),
    };
    let latest: Option<i64> = on_backend!(conn, |c| query.get_result(c))?;
    Ok(match latest {
        Some(latest) if latest >= ts::to_ms(now) => {
            ts::from_ms(latest.saturating_add(1), TABLE, "performed_at")?
        }
        _ => now,
    })
}

/// The time of an identity's latest check, decision or upload, in one statement of fixed
/// text (one round trip on PostgreSQL, prepared once per connection).
#[derive(diesel::query_builder::QueryId)]
struct LatestFact {
    identity: String,
}

impl diesel::query_builder::Query for LatestFact {
    type SqlType = diesel::sql_types::Nullable<diesel::sql_types::BigInt>;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for LatestFact
where
    DB: diesel::backend::Backend,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        use diesel::sql_types::Text;
        out.push_sql(
            "SELECT MAX(t) FROM (SELECT MAX(performed_at) AS t FROM kyc_checks \
             WHERE identity_id = ",
        );
        out.push_bind_param::<Text, _>(&self.identity)?;
        out.push_sql(" UNION ALL SELECT MAX(decided_at) FROM review_items WHERE identity_id = ");
        out.push_bind_param::<Text, _>(&self.identity)?;
        out.push_sql(" UNION ALL SELECT MAX(created_at) FROM documents WHERE identity_id = ");
        out.push_bind_param::<Text, _>(&self.identity)?;
        out.push_sql(") AS facts");
        Ok(())
    }
}

impl<C> RunQueryDsl<C> for LatestFact {}

/// Records a check of a live personal identity of `tenant`. `performed_at` is kept to the
/// millisecond (use [`crate::now`]).
#[tracing::instrument(skip_all, fields(tenant = %tenant, identity = %check.identity_id))]
pub fn insert(
    conn: &mut DbConnection,
    tenant: TenantId,
    check: &KycCheck,
) -> Result<(), StoreError> {
    crate::personal::require_live(conn, tenant, check.identity_id)?;
    insert_row(conn, tenant, check)
}

/// Records a check of `identity`, which this transaction inserted or read locked
/// (`personal::find_locked`), so it is a live identity of its tenant until the commit: no
/// probe for it (a round trip of its own on PostgreSQL). `check` must be of `identity`.
#[tracing::instrument(skip_all, fields(tenant = %identity.tenant_id, identity = %identity.id))]
pub fn insert_of(
    conn: &mut DbConnection,
    identity: &PersonalIdentity,
    check: &KycCheck,
) -> Result<(), StoreError> {
    if check.identity_id != identity.id {
        return Err(StoreError::Internal {
            reason: "a check recorded for another identity",
        });
    }
    insert_row(conn, identity.tenant_id, check)
}

fn insert_row(
    conn: &mut DbConnection,
    tenant: TenantId,
    check: &KycCheck,
) -> Result<(), StoreError> {
    let row = CheckRow {
        id: check.id.to_string(),
        tenant_id: tenant.to_string(),
        identity_id: check.identity_id.to_string(),
        verifier: check.verifier.clone(),
        performed_at: ts::to_ms(check.performed_at),
        outcomes_json: to_json(&check.outcomes)?,
    };
    on_backend!(conn, |conn| diesel::insert_into(c::kyc_checks)
        .values(&row)
        .execute(conn))
    .map_err(StoreError::from)
    .map_err(|e| {
        if e.is_unique_violation() {
            StoreError::Duplicate {
                entity: "kyc_check",
            }
        } else {
            e
        }
    })?;
    Ok(())
}

/// The checks of an identity of `tenant`, latest first.
pub fn list_for_identity(
    conn: &mut DbConnection,
    tenant: TenantId,
    identity: PersonalIdentityId,
) -> Result<Vec<KycCheck>, StoreError> {
    let query = c::kyc_checks
        .filter(c::tenant_id.eq(tenant.to_string()))
        .filter(c::identity_id.eq(identity.to_string()))
        .order((c::performed_at.desc(), c::id.desc()));
    on_backend!(conn, |conn| query.select(CheckRow::as_select()).load(conn))?
        .into_iter()
        .map(KycCheck::try_from)
        .collect()
}
