//! Personal identities. Filterable fields are plain columns (email lowercased, names, level,
//! review status, blocked, container, timestamps); address and due diligence are JSON text;
//! SSN and date of birth are sealed, with the SSN's blind index beside them for duplicate
//! detection.

use diesel::{
    prelude::*,
    sql_types::{BigInt, Integer, Text},
};
use kyc_model::{
    ContainerId, DateOfBirth, Email, Gender, KycLevel, KycState, MissingDocument, PersonName,
    PersonalData, PersonalIdentity, PersonalIdentityId, Phone, ReviewStatus, Ssn, TenantId,
    UpgradeRequirement,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    DbConnection, Keyring, StoreError,
    conn::{MultiBackend, on_backend},
    crypto::Aad,
    dialect,
    list::{FilterField, FilterOp, ListQuery, Listing, Page, Sort},
    schema::{
        live_identity_counts::dsl as lc,
        personal_identities::{self, dsl as p},
    },
    ts,
    util::{
        WithKeys, claim_email, from_json, from_serde_name, parse_id, required, serde_name, to_json,
    },
};

const TABLE: &str = "personal_identities";

/// What [`insert`] needs; the store assigns the timestamps and version 1. The caller picks the
/// id, so that it can verify and evaluate an identity before storing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPersonalIdentity {
    /// A fresh id ([`PersonalIdentityId::random`]).
    pub id: PersonalIdentityId,
    pub tenant_id: TenantId,
    /// A container of the same tenant that has no personal identity yet.
    pub container_id: ContainerId,
    pub data: PersonalData,
    pub kyc: KycState,
}

/// The version and time a write left behind (for `ETag` and `updatedAt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub version: i64,
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = personal_identities)]
pub(crate) struct PersonalRow {
    id: String,
    tenant_id: String,
    container_id: String,
    first_name: Option<String>,
    middle_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address_json: Option<String>,
    dob_ct: Option<Vec<u8>>,
    dob_key_id: Option<String>,
    ssn_ct: Option<Vec<u8>>,
    ssn_key_id: Option<String>,
    #[expect(
        dead_code,
        reason = "selected with the row; matched by queries, never read back"
    )]
    ssn_bidx: Option<Vec<u8>>,
    gender: Option<String>,
    due_diligence_json: Option<String>,
    kyc_level: String,
    review_status: String,
    blocked: bool,
    identity_confirmed: bool,
    kyc_json: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
    /// Lists filter erased rows out in SQL; lookups by id check it on the row (`is_live_of`).
    erased_at: Option<i64>,
}

/// The KYC state that has no column of its own.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KycExtra {
    upgrade_requirements: Vec<UpgradeRequirement>,
    missing_documents: Vec<MissingDocument>,
}

/// The columns a write sets: the data (sealed where required) and the KYC state.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = personal_identities, treat_none_as_null = true, treat_none_as_default_value = false)]
struct DataColumns {
    first_name: Option<String>,
    middle_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address_json: Option<String>,
    dob_ct: Option<Vec<u8>>,
    dob_key_id: Option<String>,
    ssn_ct: Option<Vec<u8>>,
    ssn_key_id: Option<String>,
    ssn_bidx: Option<Vec<u8>>,
    gender: Option<String>,
    due_diligence_json: Option<String>,
    #[diesel(embed)]
    kyc: KycColumns,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = personal_identities, treat_none_as_default_value = false)]
struct KycColumns {
    kyc_level: String,
    review_status: String,
    blocked: bool,
    identity_confirmed: bool,
    kyc_json: String,
}

#[derive(Insertable)]
#[diesel(table_name = personal_identities, treat_none_as_default_value = false)]
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

impl KycColumns {
    fn new(kyc: &KycState) -> Result<Self, StoreError> {
        Ok(Self {
            kyc_level: kyc.kyc_level.as_str().to_owned(),
            review_status: kyc.review_status.as_str().to_owned(),
            blocked: kyc.blocked,
            identity_confirmed: kyc.identity_confirmed,
            kyc_json: to_json(&KycExtra {
                upgrade_requirements: kyc.upgrade_requirements.clone(),
                missing_documents: kyc.missing_documents.clone(),
            })?,
        })
    }
}

pub(crate) fn dob_aad(id: &str) -> Aad {
    Aad::new(TABLE, "dob", id)
}

pub(crate) fn ssn_aad(id: &str) -> Aad {
    Aad::new(TABLE, "ssn", id)
}

impl DataColumns {
    fn new(
        keys: &Keyring,
        tenant: TenantId,
        id: &str,
        data: &PersonalData,
        kyc: &KycState,
    ) -> Result<Self, StoreError> {
        let dob = data
            .date_of_birth
            .map(|d| keys.seal(&dob_aad(id), d.to_iso().as_bytes()))
            .transpose()?;
        let ssn = data
            .ssn
            .as_ref()
            .map(|s| keys.seal(&ssn_aad(id), s.as_str().as_bytes()))
            .transpose()?;
        Ok(Self {
            first_name: Some(data.first_name.as_str().to_owned()),
            middle_name: data.middle_name.as_ref().map(|n| n.as_str().to_owned()),
            last_name: Some(data.last_name.as_str().to_owned()),
            email: Some(data.email.as_str().to_owned()),
            phone: Some(data.phone.as_str().to_owned()),
            address_json: data.address.as_ref().map(to_json).transpose()?,
            dob_key_id: dob.as_ref().map(|s| s.key_id.clone()),
            dob_ct: dob.map(|s| s.bytes),
            ssn_key_id: ssn.as_ref().map(|s| s.key_id.clone()),
            ssn_ct: ssn.map(|s| s.bytes),
            ssn_bidx: data.ssn.as_ref().map(|s| keys.ssn_index(tenant, s)),
            gender: data.gender.as_ref().map(serde_name).transpose()?,
            due_diligence_json: data.due_diligence.as_ref().map(to_json).transpose()?,
            kyc: KycColumns::new(kyc)?,
        })
    }
}

fn open_text(
    keys: &Keyring,
    aad: &Aad,
    ct: Option<Vec<u8>>,
    key_id: Option<String>,
    column: &'static str,
) -> Result<Option<String>, StoreError> {
    match (ct, key_id) {
        (Some(ct), Some(key_id)) => keys.open_text(&key_id, aad, &ct).map(Some),
        (None, None) => Ok(None),
        _ => Err(StoreError::corrupt(TABLE, column)),
    }
}

impl TryFrom<WithKeys<'_, PersonalRow>> for PersonalIdentity {
    type Error = StoreError;

    fn try_from(WithKeys { row, keys }: WithKeys<'_, PersonalRow>) -> Result<Self, StoreError> {
        let name = |v: Option<String>, col| {
            PersonName::parse(&required(v, TABLE, col)?)
                .map_err(|_| StoreError::corrupt(TABLE, col))
        };
        let dob = open_text(
            keys,
            &dob_aad(&row.id),
            row.dob_ct,
            row.dob_key_id,
            "dob_ct",
        )?
        .map(|d| DateOfBirth::parse(&d).map_err(|_| StoreError::corrupt(TABLE, "dob_ct")))
        .transpose()?;
        let ssn = open_text(
            keys,
            &ssn_aad(&row.id),
            row.ssn_ct,
            row.ssn_key_id,
            "ssn_ct",
        )?
        .map(|s| Ssn::parse(&s).map_err(|_| StoreError::corrupt(TABLE, "ssn_ct")))
        .transpose()?;
        let extra: KycExtra = from_json(&row.kyc_json, TABLE, "kyc_json")?;
        let data = PersonalData {
            first_name: name(row.first_name, "first_name")?,
            middle_name: row
                .middle_name
                .map(|n| {
                    PersonName::parse(&n).map_err(|_| StoreError::corrupt(TABLE, "middle_name"))
                })
                .transpose()?,
            last_name: name(row.last_name, "last_name")?,
            email: Email::parse(&required(row.email, TABLE, "email")?)
                .map_err(|_| StoreError::corrupt(TABLE, "email"))?,
            phone: Phone::parse(&required(row.phone, TABLE, "phone")?)
                .map_err(|_| StoreError::corrupt(TABLE, "phone"))?,
            address: row
                .address_json
                .map(|a| from_json(&a, TABLE, "address_json"))
                .transpose()?,
            date_of_birth: dob,
            ssn,
            gender: row
                .gender
                .map(|g| from_serde_name::<Gender>(&g, TABLE, "gender"))
                .transpose()?,
            due_diligence: row
                .due_diligence_json
                .map(|d| from_json(&d, TABLE, "due_diligence_json"))
                .transpose()?,
        };
        Ok(Self {
            id: parse_id(&row.id, TABLE, "id")?,
            tenant_id: parse_id(&row.tenant_id, TABLE, "tenant_id")?,
            container_id: parse_id(&row.container_id, TABLE, "container_id")?,
            data,
            kyc: KycState {
                kyc_level: KycLevel::from_name(&row.kyc_level)
                    .ok_or(StoreError::corrupt(TABLE, "kyc_level"))?,
                upgrade_requirements: extra.upgrade_requirements,
                missing_documents: extra.missing_documents,
                identity_confirmed: row.identity_confirmed,
                blocked: row.blocked,
                review_status: ReviewStatus::from_name(&row.review_status)
                    .ok_or(StoreError::corrupt(TABLE, "review_status"))?,
            },
            created_at: ts::from_ms(row.created_at, TABLE, "created_at")?,
            updated_at: ts::from_ms(row.updated_at, TABLE, "updated_at")?,
            version: row.version,
        })
    }
}

fn open(keys: &Keyring, row: PersonalRow) -> Result<PersonalIdentity, StoreError> {
    PersonalIdentity::try_from(WithKeys::new(row, keys))
}

/// Constraint violations of this table in domain terms. The only foreign key an insert can
/// break is the container's: `(container_id, tenant_id)` must be a container of the tenant.
fn map_constraint(err: StoreError) -> StoreError {
    if matches!(
        err,
        StoreError::Database {
            kind: crate::DbErrorKind::ForeignKeyViolation,
            ..
        }
    ) {
        return StoreError::NotFound {
            entity: "identity_container",
        };
    }
    let StoreError::Database {
        constraint: Some(c),
        ..
    } = &err
    else {
        return err;
    };
    if !err.is_unique_violation() {
        err
    } else if c.contains("email") {
        StoreError::EmailInUse
    } else if c.contains("container") {
        StoreError::Duplicate {
            entity: "personal_identity_in_container",
        }
    } else {
        err
    }
}

/// Whether a live person of `tenant` uses `email` (stored lowercased, like the argument).
pub(crate) fn email_used(
    conn: &mut DbConnection,
    tenant: &str,
    email: &str,
) -> Result<bool, StoreError> {
    let query = live_rows(tenant.to_owned())
        .filter(p::email.eq(email.to_owned()))
        .count();
    Ok(on_backend!(conn, |conn| query.get_result::<i64>(conn))? > 0)
}

/// The live (not erased) rows of `tenant`: the start of every query here except the lookups by
/// key ([`by_key`], and the SSN probe), which check the tenant on the row. A concrete type, not
/// a boxed query, so that diesel caches the prepared statements built on it.
fn live(tenant: TenantId) -> Live {
    live_rows(tenant.to_string())
}

#[diesel::dsl::auto_type]
fn live_rows(tenant: String) -> _ {
    p::personal_identities
        .filter(p::tenant_id.eq(tenant))
        .filter(p::erased_at.is_null())
}

type Live = live_rows;

/// [`live`], boxed, for queries assembled at run time.
fn live_boxed(tenant: TenantId) -> personal_identities::BoxedQuery<'static, MultiBackend> {
    live(tenant).into_boxed()
}

/// Stores a new personal identity. Its email must be free in the tenant, among persons and
/// companies ([`StoreError::EmailInUse`]); its container must belong to the tenant
/// ([`StoreError::NotFound`]) and hold no personal identity yet ([`StoreError::Duplicate`]).
#[tracing::instrument(skip_all, fields(tenant = %new.tenant_id))]
pub fn insert(
    conn: &mut DbConnection,
    keys: &Keyring,
    new: &NewPersonalIdentity,
) -> Result<PersonalIdentity, StoreError> {
    let id = new.id;
    let id_text = id.to_string();
    claim_email(
        conn,
        new.tenant_id,
        &new.data.email,
        crate::business::email_used,
    )?;
    let now = ts::now_ms();
    let row = InsertRow {
        data: DataColumns::new(keys, new.tenant_id, &id_text, &new.data, &new.kyc)?,
        id: id_text,
        tenant_id: new.tenant_id.to_string(),
        container_id: new.container_id.to_string(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    on_backend!(conn, |conn| diesel::insert_into(p::personal_identities)
        .values(&row)
        .execute(conn))
    .map_err(|e| map_constraint(e.into()))?;
    count_live(conn, &row.tenant_id, id, 1)?;
    let at = ts::from_ms(now, TABLE, "created_at")?;
    Ok(PersonalIdentity {
        id,
        tenant_id: new.tenant_id,
        container_id: new.container_id,
        data: new.data.clone(),
        kyc: new.kyc.clone(),
        created_at: at,
        updated_at: at,
        version: 1,
    })
}

/// Shards of a tenant's live-identity count (migration 000010): an identity counts in the
/// shard its random id's last byte picks, so concurrent creates of one tenant on PostgreSQL
/// seldom wait for each other's row lock, which is held until commit (with 16 shards, a fifth
/// of the load example's creates waited over 3 ms for one). Only the sum means anything: the
/// shard count can change without moving a row.
const COUNT_SHARDS: u16 = 256;

/// Adds `delta` to the count of `tenant`'s live identities, in the shard of `id`; called in
/// the transaction that creates (`+1`) or erases (`-1`) the identity.
pub(crate) fn count_live(
    conn: &mut DbConnection,
    tenant: &str,
    id: PersonalIdentityId,
    delta: i64,
) -> Result<(), StoreError> {
    let query = AddToLiveCount {
        tenant: tenant.to_owned(),
        shard: i32::from(u16::from(id.as_uuid().as_bytes()[15]) % COUNT_SHARDS),
        delta,
    };
    on_backend!(conn, |conn| query.execute(conn))?;
    Ok(())
}

/// `count_live`'s upsert, as a statement of fixed text that is prepared once per connection:
/// diesel's upsert builder marks every `DO UPDATE` unsafe to cache, so each create parsed and
/// planned it anew (PostgreSQL's statement log showed it as the create's only unnamed
/// statement).
#[derive(diesel::query_builder::QueryId)]
struct AddToLiveCount {
    tenant: String,
    shard: i32,
    delta: i64,
}

impl<DB> diesel::query_builder::QueryFragment<DB> for AddToLiveCount
where
    DB: diesel::backend::Backend,
    String: diesel::serialize::ToSql<Text, DB>,
    i32: diesel::serialize::ToSql<Integer, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("INSERT INTO live_identity_counts (tenant_id, shard, persons) VALUES (");
        out.push_bind_param::<Text, _>(&self.tenant)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&self.shard)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.delta)?;
        out.push_sql(
            ") ON CONFLICT (tenant_id, shard) \
             DO UPDATE SET persons = live_identity_counts.persons + excluded.persons",
        );
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for AddToLiveCount {}

/// How many live personal identities `tenant` has: the sum of its count's shards, added up by
/// the database (one row back rather than one per shard; `SUM` of a `BIGINT` is `NUMERIC` on
/// PostgreSQL, hence the cast).
fn live_total(conn: &mut DbConnection, tenant: TenantId) -> Result<i64, StoreError> {
    Ok(lc::live_identity_counts
        .filter(lc::tenant_id.eq(tenant.to_string()))
        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "CAST(COALESCE(SUM(persons), 0) AS BIGINT)",
        ))
        .get_result(conn)?)
}

/// A live personal identity of `tenant`.
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = %id))]
pub fn find(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    id: PersonalIdentityId,
) -> Result<PersonalIdentity, StoreError> {
    live_by_key(conn, keys, tenant, id, false)
}

/// The live identities of the `(tenant, id)` pairs of `lookups`, in their order: each as
/// [`find`] gives it, the identity or `NotFound`. For the server's coalesced reads: on
/// PostgreSQL one statement reads them all (`id = ANY($1)`), so reads that arrived together
/// pay one round trip; on SQLite, in process, each is read by [`find`]'s cached statement (an
/// `IN` list of varying length would be prepared afresh every time). `Err` only when the
/// statement failed.
#[tracing::instrument(skip_all, fields(lookups = lookups.len()))]
pub fn find_each(
    conn: &mut DbConnection,
    keys: &Keyring,
    lookups: &[(TenantId, PersonalIdentityId)],
) -> Result<Vec<Result<PersonalIdentity, StoreError>>, StoreError> {
    #[cfg(feature = "postgres")]
    if let DbConnection::Postgres(c) = conn {
        let ids: Vec<String> = lookups.iter().map(|(_, id)| id.to_string()).collect();
        let rows: std::collections::HashMap<String, PersonalRow> = p::personal_identities
            .filter(p::id.eq_any(ids))
            .select(PersonalRow::as_select())
            .load(c)?
            .into_iter()
            .map(|row| (row.id.clone(), row))
            .collect();
        return Ok(lookups
            .iter()
            // Cloned: two of the lookups may be of one identity.
            .map(|(tenant, id)| open_live(keys, *tenant, rows.get(&id.to_string()).cloned()))
            .collect());
    }
    Ok(lookups
        .iter()
        .map(|&(tenant, id)| live_by_key(conn, keys, tenant, id, false))
        .collect())
}

/// The identity `id` read by its key alone ([`by_key`]), and `FOR UPDATE` on PostgreSQL when
/// `lock`; opened if it is a live identity of `tenant`, else `NotFound` (the tenant and erasure
/// are checked on the row).
fn live_by_key(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    id: PersonalIdentityId,
    lock: bool,
) -> Result<PersonalIdentity, StoreError> {
    // `as_select` is per backend, hence one in each arm.
    let query = by_key(id.to_string());
    let row = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => query.select(PersonalRow::as_select()).get_result(c),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) if lock => query
            .select(PersonalRow::as_select())
            .for_update()
            .get_result(c),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => query.select(PersonalRow::as_select()).get_result(c),
    }
    .optional()?;
    open_live(keys, tenant, row)
}

/// `row` opened if it is a live identity of `tenant`, else `NotFound`.
fn open_live(
    keys: &Keyring,
    tenant: TenantId,
    row: Option<PersonalRow>,
) -> Result<PersonalIdentity, StoreError> {
    let row = row
        .filter(|row| is_live_of(tenant, &row.tenant_id, row.erased_at))
        .ok_or(StoreError::NotFound {
            entity: "personal_identity",
        })?;
    open(keys, row)
}

/// Whether `id` is a live personal identity of `tenant`.
pub fn exists(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: PersonalIdentityId,
) -> Result<bool, StoreError> {
    let query = by_key(id.to_string()).select((p::tenant_id, p::erased_at));
    let row: Option<(String, Option<i64>)> =
        on_backend!(conn, |conn| query.get_result(conn)).optional()?;
    Ok(row.is_some_and(|(owner, erased_at)| is_live_of(tenant, &owner, erased_at)))
}

/// The row with primary key `id`, whatever its tenant: the lookups by id filter on the key
/// alone and check the tenant and erasure on the row ([`is_live_of`]). With the tenant in the
/// `WHERE` clause, PostgreSQL could serve the query from any of the tenant-led list indexes,
/// and did: a plan cached while the table was nearly empty read the tenant's every row through
/// `ix_personal_identities_tenant_last_name` on each lookup (22 million index entries for 6 700
/// creates under the load example, on a fresh database, until autovacuum's first `ANALYZE`).
#[diesel::dsl::auto_type]
fn by_key(id: String) -> _ {
    p::personal_identities.filter(p::id.eq(id))
}

/// Whether a row of tenant `owner`, erased at `erased_at`, is a live identity of `tenant`.
fn is_live_of(tenant: TenantId, owner: &str, erased_at: Option<i64>) -> bool {
    erased_at.is_none() && owner == tenant.to_string()
}

pub(crate) fn require_live(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: PersonalIdentityId,
) -> Result<(), StoreError> {
    if exists(conn, tenant, id)? {
        Ok(())
    } else {
        Err(StoreError::NotFound {
            entity: "personal_identity",
        })
    }
}

/// The personal identity of a container, if it has one.
pub fn find_by_container(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    container: ContainerId,
) -> Result<Option<PersonalIdentity>, StoreError> {
    live(tenant)
        .filter(p::container_id.eq(container.to_string()))
        .select(PersonalRow::as_select())
        .get_result(conn)
        .optional()?
        .map(|row| open(keys, row))
        .transpose()
}

/// The personal identity of `tenant` with this email address, if any.
pub fn find_by_email(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    email: &Email,
) -> Result<Option<PersonalIdentity>, StoreError> {
    live(tenant)
        .filter(p::email.eq(email.as_str()))
        .select(PersonalRow::as_select())
        .get_result(conn)
        .optional()?
        .map(|row| open(keys, row))
        .transpose()
}

/// Makes the writes of this transaction that check `ssn` for duplicates ([`ssn_duplicates`])
/// and store it take turns with other transactions doing the same, until the transaction ends.
/// Without it, two concurrent creates with one SSN could each look before the other's insert
/// commits, and neither would be found a duplicate. PostgreSQL: an advisory lock on the SSN's
/// blind index (never the digits); SQLite: nothing, its writes are serial already.
pub fn lock_ssn(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    ssn: &Ssn,
) -> Result<(), StoreError> {
    let blind = hex::encode(keys.ssn_index(tenant, ssn));
    crate::dialect::lock_until_commit(conn, format!("kycd-ssn:{blind}"))
}

/// Up to `limit` other live identities of `tenant` with the same SSN (through the blind
/// index), oldest first: a KYC finding (`duplicate`), not an error. At most `limit` rows are
/// read, so a check costs the same however many identities share one SSN. A writer that will
/// store the SSN takes [`lock_ssn`] first.
pub fn ssn_duplicates(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    ssn: &Ssn,
    exclude: Option<PersonalIdentityId>,
    limit: u32,
) -> Result<Vec<PersonalIdentityId>, StoreError> {
    // An empty id excludes nothing, as ids are UUIDs: one statement shape either way.
    let exclude = exclude.map(|id| id.to_string()).unwrap_or_default();
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    // One look per blind-index key of the keyring (one, except during a rotation): rows indexed
    // under an older key are still this SSN's.
    let mut rows: Vec<(i64, String, String)> = Vec::new();
    for index in keys.ssn_indexes(tenant, ssn) {
        // The blind index is keyed by tenant, so it finds this tenant's rows alone; the tenant
        // is checked on the rows rather than in the `WHERE` clause, where PostgreSQL could
        // pick a tenant-led list index instead of the blind index (see `by_key`).
        let same_ssn = p::personal_identities
            .filter(p::ssn_bidx.eq(index))
            .filter(p::erased_at.is_null())
            .filter(p::id.ne(&exclude))
            .order((p::created_at.asc(), p::id.asc()))
            .select((p::created_at, p::id, p::tenant_id));
        let found: Vec<(i64, String, String)> = match conn {
            #[cfg(feature = "postgres")]
            DbConnection::Postgres(c) => same_ssn.limit(i64::from(limit)).load(c)?,
            // SQLite steps through rows on demand: stopping after `limit` keeps the statement
            // cacheable, where a bound `LIMIT` would re-prepare it on every call (clippy.toml).
            #[cfg(feature = "sqlite")]
            DbConnection::Sqlite(c) => same_ssn
                .load_iter::<(i64, String, String), diesel::connection::DefaultLoadingMode>(c)?
                .take(take)
                .collect::<Result<_, _>>()?,
        };
        rows.extend(found);
    }
    rows.sort_unstable();
    let tenant = tenant.to_string();
    rows.iter()
        .take(take)
        .filter(|(_, _, owner)| *owner == tenant)
        .map(|(_, id, _)| parse_id(id, TABLE, "id"))
        .collect()
}

/// Writes `identity`'s data and KYC state if the stored version is still `identity.version`,
/// and returns it with the new version and `updated_at`. A stale version is
/// [`StoreError::Conflict`] (nothing written); the caller re-reads and re-applies its change, or
/// answers `412` when the client sent `If-Match`. The container, tenant and creation time are
/// not changed.
#[tracing::instrument(skip_all, fields(tenant = %identity.tenant_id, id = %identity.id))]
pub fn update(
    conn: &mut DbConnection,
    keys: &Keyring,
    identity: &PersonalIdentity,
) -> Result<PersonalIdentity, StoreError> {
    let id = identity.id.to_string();
    let stored_email: Option<Option<String>> = live(identity.tenant_id)
        .filter(p::id.eq(&id))
        .select(p::email)
        .get_result(conn)
        .optional()?;
    if stored_email.is_some_and(|e| e.as_deref() != Some(identity.data.email.as_str())) {
        claim_email(
            conn,
            identity.tenant_id,
            &identity.data.email,
            crate::business::email_used,
        )?;
    }
    let data = DataColumns::new(keys, identity.tenant_id, &id, &identity.data, &identity.kyc)?;
    let now = ts::now_ms();
    let n = diesel::update(target(identity.tenant_id, identity.id, identity.version))
        .set((
            &data,
            p::version.eq(identity.version + 1),
            p::updated_at.eq(now),
        ))
        .execute(conn)
        .map_err(|e| map_constraint(e.into()))?;
    let written = check_written(
        conn,
        identity.tenant_id,
        identity.id,
        identity.version,
        n,
        now,
    )?;
    let mut updated = identity.clone();
    updated.version = written.version;
    updated.updated_at = written.updated_at;
    Ok(updated)
}

/// Writes only the KYC state (the tier engine's output), with the same version check as
/// [`update`], leaving the version at `new_version`: `expected_version + 1` for a change of its
/// own, `expected_version` when it completes a write of the same transaction (a PATCH stores
/// the data, runs the check, then the state: one change, one version). Needs no keys.
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = %id))]
pub fn update_kyc(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: PersonalIdentityId,
    expected_version: i64,
    new_version: i64,
    kyc: &KycState,
) -> Result<Written, StoreError> {
    let cols = KycColumns::new(kyc)?;
    let now = ts::now_ms();
    let n = on_backend!(conn, |conn| diesel::update(target(
        tenant,
        id,
        expected_version
    ))
    .set((&cols, p::version.eq(new_version), p::updated_at.eq(now)))
    .execute(conn))?;
    check_written(conn, tenant, id, expected_version, n, now).map(|w| Written {
        version: new_version,
        ..w
    })
}

/// The row an optimistic update may touch: this id, this tenant, still at `expected`, live.
fn target(tenant: TenantId, id: PersonalIdentityId, expected: i64) -> UpdateTarget {
    update_target(tenant.to_string(), id.to_string(), expected)
}

#[diesel::dsl::auto_type]
fn update_target(tenant: String, id: String, expected: i64) -> _ {
    p::personal_identities
        .filter(p::id.eq(id))
        .filter(p::tenant_id.eq(tenant))
        .filter(p::version.eq(expected))
        .filter(p::erased_at.is_null())
}

type UpdateTarget = update_target;

/// After `UPDATE ... WHERE version = expected`: one row is success; zero rows means the row
/// is gone ([`StoreError::NotFound`]) or moved on ([`StoreError::Conflict`]).
pub(crate) fn check_written(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: PersonalIdentityId,
    expected: i64,
    rows: usize,
    now_ms: i64,
) -> Result<Written, StoreError> {
    if rows == 1 {
        return Ok(Written {
            version: expected + 1,
            updated_at: ts::from_ms(now_ms, TABLE, "updated_at")?,
        });
    }
    let actual: Option<i64> = live(tenant)
        .filter(p::id.eq(id.to_string()))
        .select(p::version)
        .get_result(conn)
        .optional()?;
    Err(match actual {
        None => StoreError::NotFound {
            entity: "personal_identity",
        },
        Some(actual) => StoreError::Conflict {
            entity: "personal_identity",
            expected,
            actual,
        },
    })
}

/// A page of `tenant`'s live personal identities matching `query`, with the total count
/// (without filters, from the tenant's live count). Every filter and sort is served by an
/// index that starts with `tenant_id` (see the migrations); `like:` is a substring match and
/// scans the tenant's rows.
#[tracing::instrument(skip_all, fields(tenant = %tenant, filters = query.filters.len()))]
pub fn list(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    query: &ListQuery,
) -> Result<Page<PersonalIdentity>, StoreError> {
    let backend = conn.backend();
    // Without filters the total is the tenant's live count, kept on every create and erasure,
    // rather than a count of every identity of the tenant on every page.
    let total = if query.filters.is_empty() {
        live_total(conn, tenant)?
    } else {
        filtered(backend, tenant, query).count().get_result(conn)?
    };
    let mut q = filtered(backend, tenant, query);
    q = match query.sort {
        Sort::CreatedAtAsc => q.order((p::created_at.asc(), p::id.asc())),
        Sort::CreatedAtDesc => q.order((p::created_at.desc(), p::id.desc())),
        Sort::UpdatedAtAsc => q.order((p::updated_at.asc(), p::id.asc())),
        Sort::UpdatedAtDesc => q.order((p::updated_at.desc(), p::id.desc())),
    };
    let rows = crate::conn::paged(q.select(PersonalRow::as_select()), query.page).load(conn)?;
    let items = rows
        .into_iter()
        .map(|row| open(keys, row))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::new(items, total, query.page))
}

fn filtered(
    backend: crate::Backend,
    tenant: TenantId,
    query: &ListQuery,
) -> personal_identities::BoxedQuery<'static, MultiBackend> {
    let mut q = live_boxed(tenant);
    for f in &query.filters {
        q = match (f.field, &f.op) {
            (FilterField::Name, op) => q.filter(name_filter(backend, op)),
            (FilterField::Type, op) if op.admits(Listing::Persons.identity_type()) => q,
            (FilterField::Type, _) => q.filter(p::id.is_null()),
            (field, FilterOp::Like(needle)) => q.filter(dialect::like_ignoring_case(
                backend,
                like_column(field),
                crate::list::like_contains_pattern(needle),
            )),
            (FilterField::Blocked, op) => {
                let b = |v: &String| v == "true";
                match op {
                    FilterOp::Eq(v) => q.filter(p::blocked.eq(b(v))),
                    FilterOp::In(vs) => {
                        q.filter(p::blocked.eq_any(vs.iter().map(b).collect::<Vec<_>>()))
                    }
                    FilterOp::NotIn(vs) => {
                        q.filter(p::blocked.ne_all(vs.iter().map(b).collect::<Vec<_>>()))
                    }
                    FilterOp::Like(_) => q,
                }
            }
            (field, op) => text_filter(q, field, op),
        };
    }
    q
}

type NameCondition = Box<
    dyn BoxableExpression<
            personal_identities::table,
            MultiBackend,
            SqlType = diesel::sql_types::Bool,
        >,
>;

/// `filter[name]`: a person whose first name, last name or full name (first and last, or first,
/// middle and last, separated by single spaces) is one of the values, ignoring case (ASCII case
/// on SQLite), or, with `like:`, whose first or last name contains the text.
fn name_filter(backend: crate::Backend, op: &FilterOp) -> NameCondition {
    const NAMES: [&str; 4] = [
        "first_name",
        "last_name",
        "(first_name || ' ' || last_name)",
        "(first_name || ' ' || middle_name || ' ' || last_name)",
    ];
    match op {
        // `like:` looks into the first and last names only.
        FilterOp::Like(_) => dialect::matches_ignoring_case(backend, &NAMES[..2], op),
        _ => dialect::matches_ignoring_case(backend, &NAMES, op),
    }
}

/// The SQL name of a column that `like:` applies to; `FilterField::supports_like` guarantees
/// one of these three (`name`, which spans two columns, is handled in [`filtered`]).
fn like_column(field: FilterField) -> &'static str {
    match field {
        FilterField::FirstName => "first_name",
        FilterField::LastName => "last_name",
        _ => "email",
    }
}

fn text_filter(
    q: personal_identities::BoxedQuery<'static, MultiBackend>,
    field: FilterField,
    op: &FilterOp,
) -> personal_identities::BoxedQuery<'static, MultiBackend> {
    macro_rules! apply {
        ($col:expr) => {
            match op {
                FilterOp::Eq(v) => q.filter($col.eq(v.clone())),
                FilterOp::In(vs) => q.filter($col.eq_any(vs.clone())),
                FilterOp::NotIn(vs) => q.filter($col.ne_all(vs.clone())),
                FilterOp::Like(_) => q,
            }
        };
    }
    match field {
        FilterField::Id => apply!(p::id),
        FilterField::ContainerId => apply!(p::container_id),
        FilterField::KycLevel => apply!(p::kyc_level),
        FilterField::ReviewStatus => apply!(p::review_status),
        FilterField::Email => apply!(p::email.assume_not_null()),
        FilterField::FirstName => apply!(p::first_name.assume_not_null()),
        FilterField::LastName => apply!(p::last_name.assume_not_null()),
        // Handled in `filtered`; `identityOwner` is not a filter of this list.
        FilterField::Name
        | FilterField::Blocked
        | FilterField::Type
        | FilterField::IdentityOwner => q,
    }
}

/// Erased rows keep their id (business identities and the audit trail refer to it) but lose
/// every personal value.
#[derive(AsChangeset)]
#[diesel(table_name = personal_identities, treat_none_as_null = true)]
pub(crate) struct ErasedColumns {
    first_name: Option<String>,
    middle_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address_json: Option<String>,
    dob_ct: Option<Vec<u8>>,
    dob_key_id: Option<String>,
    ssn_ct: Option<Vec<u8>>,
    ssn_key_id: Option<String>,
    ssn_bidx: Option<Vec<u8>>,
    gender: Option<String>,
    due_diligence_json: Option<String>,
    kyc_json: String,
    erased_at: Option<i64>,
    updated_at: i64,
}

impl ErasedColumns {
    pub(crate) fn at(now_ms: i64) -> Self {
        Self {
            first_name: None,
            middle_name: None,
            last_name: None,
            email: None,
            phone: None,
            address_json: None,
            dob_ct: None,
            dob_key_id: None,
            ssn_ct: None,
            ssn_key_id: None,
            ssn_bidx: None,
            gender: None,
            due_diligence_json: None,
            kyc_json: r#"{"upgradeRequirements":[],"missingDocuments":[]}"#.to_owned(),
            erased_at: Some(now_ms),
            updated_at: now_ms,
        }
    }
}

/// [`find`] and [`lock`] in one statement: a live personal identity of `tenant`, locked for
/// the rest of the current write transaction (`SELECT ... FOR UPDATE` on PostgreSQL; a plain
/// read on SQLite, whose write transactions run one at a time). One round trip fewer for every
/// read-modify-write of an identity. The row is found by its key alone, like [`find`]'s, and
/// checked afterwards: another tenant's row is locked only until this transaction ends, and
/// answers [`StoreError::NotFound`] like a missing one.
pub fn find_locked(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    id: PersonalIdentityId,
) -> Result<PersonalIdentity, StoreError> {
    live_by_key(conn, keys, tenant, id, true)
}

/// Locks a live personal identity of `tenant` for the rest of the current write transaction,
/// so that concurrent read-modify-write sequences on it (a PATCH, a document upload, a review
/// decision) run one after another instead of failing each other's version check. PostgreSQL:
/// `SELECT ... FOR UPDATE`; SQLite: a plain read, its write transactions (`BEGIN IMMEDIATE`)
/// already run one at a time. Returns the identity's version as locked; a missing identity is
/// [`StoreError::NotFound`].
pub fn lock(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: PersonalIdentityId,
) -> Result<i64, StoreError> {
    let row = live(tenant)
        .filter(p::id.eq(id.to_string()))
        .select(p::version);
    let found = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => row.get_result::<i64>(c).optional()?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => row.for_update().get_result::<i64>(c).optional()?,
    };
    found.ok_or(StoreError::NotFound {
        entity: "personal_identity",
    })
}
