//! Webhooks: each tenant's configuration (its signing secret sealed), the outbox that events
//! are written to in the same transaction as the change they announce, and the log of
//! delivery attempts.
//!
//! The delivery worker is cross-tenant by nature: [`claim_due`], [`mark_delivered`],
//! [`reschedule`] and [`mark_dead`] address events by id, and every event carries its tenant.

use std::{fmt, time::Duration};

use diesel::prelude::*;
use kyc_model::{DeliveryId, EventId, EventType, TenantId};
use time::OffsetDateTime;

use crate::{
    DbConnection, Keyring, StoreError,
    conn::{insert_rows, on_backend},
    crypto::Aad,
    dialect,
    list::{Page, PageRequest},
    schema::{
        outbox_events::{self, dsl as o},
        webhook_configs::{self, dsl as w},
        webhook_deliveries::{self, dsl as dl},
    },
    ts,
    util::{from_json, parse_id, to_json},
};

/// A webhook signing secret. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Wraps a secret (e.g. `whsec_` and base64 of random bytes, made by the server).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// A tenant's webhook configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub tenant_id: TenantId,
    pub url: String,
    pub enabled: bool,
    /// The event types the tenant wants delivered.
    pub event_types: Vec<EventType>,
    pub secret: WebhookSecret,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// What [`put_config`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfigInput {
    pub url: String,
    pub enabled: bool,
    pub event_types: Vec<EventType>,
    pub secret: WebhookSecret,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_configs, treat_none_as_default_value = false)]
pub(crate) struct ConfigRow {
    tenant_id: String,
    #[diesel(embed)]
    changes: ConfigChanges,
    created_at: i64,
}

#[derive(Insertable, AsChangeset, Clone)]
#[diesel(table_name = webhook_configs, treat_none_as_default_value = false)]
pub(crate) struct ConfigChanges {
    url: String,
    enabled: bool,
    event_types_json: String,
    secret_ct: Vec<u8>,
    secret_key_id: String,
    updated_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_configs)]
struct ConfigSelect {
    tenant_id: String,
    url: String,
    enabled: bool,
    event_types_json: String,
    secret_ct: Vec<u8>,
    secret_key_id: String,
    created_at: i64,
    updated_at: i64,
}

pub(crate) fn secret_aad(tenant: &str) -> Aad {
    Aad::new("webhook_configs", "secret", tenant)
}

fn event_type_names(types: &[EventType]) -> Vec<&'static str> {
    types.iter().map(|t| t.as_str()).collect()
}

fn parse_event_types(
    raw: &str,
    table: &'static str,
    col: &'static str,
) -> Result<Vec<EventType>, StoreError> {
    let names: Vec<String> = from_json(raw, table, col)?;
    names
        .iter()
        .map(|n| EventType::from_name(n).ok_or(StoreError::corrupt(table, col)))
        .collect()
}

/// Creates or replaces `tenant`'s configuration (a single upsert) and returns it.
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub fn put_config(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    input: &WebhookConfigInput,
) -> Result<WebhookConfig, StoreError> {
    crate::tenants::find(conn, tenant)?;
    let t = tenant.to_string();
    let sealed = keys.seal(&secret_aad(&t), input.secret.as_str().as_bytes())?;
    let now = ts::now_ms();
    let changes = ConfigChanges {
        url: input.url.clone(),
        enabled: input.enabled,
        event_types_json: to_json(&event_type_names(&input.event_types))?,
        secret_ct: sealed.bytes,
        secret_key_id: sealed.key_id,
        updated_at: now,
    };
    let row = ConfigRow {
        tenant_id: t,
        changes: changes.clone(),
        created_at: now,
    };
    dialect::upsert_webhook_config(conn, &row, &changes)?;
    get_config(conn, keys, tenant)?.ok_or(StoreError::NotFound {
        entity: "webhook_config",
    })
}

/// Whether `tenant` has an enabled configuration subscribed to `event_type`; for several
/// events, read [`subscriptions`] once.
pub fn subscribed(
    conn: &mut DbConnection,
    tenant: TenantId,
    event_type: EventType,
) -> Result<bool, StoreError> {
    Ok(subscriptions(conn, tenant)?.contains(&event_type))
}

/// The event types `tenant`'s enabled configuration subscribes to (none without one): one
/// read for all the events of a unit of work. The server writes an event to the outbox only
/// when its type is among them, so a tenant without webhooks costs the delivery worker
/// nothing. (The worker checks again at delivery, as the configuration may change meanwhile.)
pub fn subscriptions(
    conn: &mut DbConnection,
    tenant: TenantId,
) -> Result<Vec<EventType>, StoreError> {
    let query = w::webhook_configs
        .filter(w::tenant_id.eq(tenant.to_string()))
        .filter(w::enabled.eq(true))
        .select(w::event_types_json);
    match on_backend!(conn, |conn| query.get_result::<String>(conn)).optional()? {
        Some(types) => parse_event_types(&types, "webhook_configs", "event_types_json"),
        None => Ok(Vec::new()),
    }
}

/// `tenant`'s configuration, if it has one.
pub fn get_config(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
) -> Result<Option<WebhookConfig>, StoreError> {
    const T: &str = "webhook_configs";
    let Some(row) = w::webhook_configs
        .filter(w::tenant_id.eq(tenant.to_string()))
        .select(ConfigSelect::as_select())
        .get_result(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let secret = keys.open_text(
        &row.secret_key_id,
        &secret_aad(&row.tenant_id),
        &row.secret_ct,
    )?;
    Ok(Some(WebhookConfig {
        tenant_id: parse_id(&row.tenant_id, T, "tenant_id")?,
        url: row.url,
        enabled: row.enabled,
        event_types: parse_event_types(&row.event_types_json, T, "event_types_json")?,
        secret: WebhookSecret(secret),
        created_at: ts::from_ms(row.created_at, T, "created_at")?,
        updated_at: ts::from_ms(row.updated_at, T, "updated_at")?,
    }))
}

/// Where an outbox event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting for (another) delivery attempt at `next_attempt_at`.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up on after too many attempts (or dropped because webhooks are disabled).
    Dead,
}

impl OutboxStatus {
    /// `pending`, `delivered` or `dead`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// A webhook event in the outbox. Payloads are thin (ids and what changed), never PII.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub id: EventId,
    pub tenant_id: TenantId,
    pub event_type: EventType,
    pub payload: serde_json::Value,
    pub status: OutboxStatus,
    /// Delivery attempts claimed so far.
    pub attempts: i64,
    pub next_attempt_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
    /// The last failure, e.g. `HTTP 503` or `timeout` (no response bodies).
    pub last_error: Option<String>,
}

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox_events, treat_none_as_default_value = false)]
struct OutboxRow {
    id: String,
    tenant_id: String,
    event_type: String,
    payload_json: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    created_at: i64,
    delivered_at: Option<i64>,
    last_error: Option<String>,
}

impl TryFrom<OutboxRow> for OutboxEvent {
    type Error = StoreError;

    fn try_from(row: OutboxRow) -> Result<Self, StoreError> {
        const T: &str = "outbox_events";
        Ok(Self {
            id: parse_id(&row.id, T, "id")?,
            tenant_id: parse_id(&row.tenant_id, T, "tenant_id")?,
            event_type: EventType::from_name(&row.event_type)
                .ok_or(StoreError::corrupt(T, "event_type"))?,
            payload: from_json(&row.payload_json, T, "payload_json")?,
            status: OutboxStatus::from_name(&row.status).ok_or(StoreError::corrupt(T, "status"))?,
            attempts: row.attempts,
            next_attempt_at: ts::from_ms(row.next_attempt_at, T, "next_attempt_at")?,
            created_at: ts::from_ms(row.created_at, T, "created_at")?,
            delivered_at: row
                .delivered_at
                .map(|ms| ts::from_ms(ms, T, "delivered_at"))
                .transpose()?,
            last_error: row.last_error,
        })
    }
}

/// Writes an event to the outbox, due now. Call it in the transaction of the change it
/// announces, so the event exists exactly when the change does.
///
/// A tenant's events get strictly increasing `created_at` (a millisecond later than the
/// tenant's latest when the clock has not moved on), so the events of one transaction keep the
/// order they were written in: [`claim_next_per_tenant`] delivers in that order.
#[tracing::instrument(skip_all, fields(tenant = %tenant, event_type = event_type.as_str()))]
pub fn enqueue(
    conn: &mut DbConnection,
    tenant: TenantId,
    event_type: EventType,
    payload: &serde_json::Value,
) -> Result<OutboxEvent, StoreError> {
    let mut queued = enqueue_all(conn, tenant, &[(event_type, payload)])?;
    queued.pop().ok_or(StoreError::Internal {
        reason: "an enqueued event went missing",
    })
}

/// [`enqueue`] for several events of `tenant`, in their order, with one insert.
#[tracing::instrument(skip_all, fields(tenant = %tenant, events = events.len()))]
pub fn enqueue_all(
    conn: &mut DbConnection,
    tenant: TenantId,
    events: &[(EventType, &serde_json::Value)],
) -> Result<Vec<OutboxEvent>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let latest: Option<i64> = o::outbox_events
        .filter(o::tenant_id.eq(tenant.to_string()))
        .select(diesel::dsl::max(o::created_at))
        .get_result(conn)?;
    let first = latest.map_or(ts::now_ms(), |l| ts::now_ms().max(l.saturating_add(1)));
    let rows = (first..)
        .zip(events)
        .map(|(at, (event_type, payload))| {
            Ok(OutboxRow {
                id: EventId::random().to_string(),
                tenant_id: tenant.to_string(),
                event_type: event_type.as_str().to_owned(),
                payload_json: to_json(payload)?,
                status: OutboxStatus::Pending.as_str().to_owned(),
                attempts: 0,
                next_attempt_at: at,
                created_at: at,
                delivered_at: None,
                last_error: None,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let queued = rows
        .iter()
        .cloned()
        .map(OutboxEvent::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    insert_rows!(conn, o::outbox_events, rows)?;
    Ok(queued)
}

/// Claims up to `limit` pending events due at `now` for delivery: each gets one more attempt
/// and is hidden from other claimers for `lease` (pushed `next_attempt_at`). Call it inside
/// [`crate::Db::write`]; then deliver outside the transaction and record the result with
/// [`mark_delivered`], [`reschedule`] or [`mark_dead`]. A worker that dies mid-delivery leaves
/// the event to be claimed again when the lease ends (at-least-once delivery).
#[tracing::instrument(skip_all, fields(limit))]
pub fn claim_due(
    conn: &mut DbConnection,
    now: OffsetDateTime,
    limit: u32,
    lease: Duration,
) -> Result<Vec<OutboxEvent>, StoreError> {
    let now_ms = ts::to_ms(now);
    let ids = dialect::lock_due_outbox_ids(conn, now_ms, i64::from(limit))?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    diesel::update(o::outbox_events.filter(o::id.eq_any(&ids)))
        .set((
            o::attempts.eq(o::attempts + 1),
            o::next_attempt_at.eq(now_ms.saturating_add(lease_ms)),
        ))
        .execute(conn)?;
    o::outbox_events
        .filter(o::id.eq_any(&ids))
        .order((o::created_at.asc(), o::id.asc()))
        .select(OutboxRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OutboxEvent::try_from)
        .collect()
}

/// Claims pending events for delivery like [`claim_due`], except that only the oldest pending
/// event of each tenant is eligible (by `created_at`, then id). A tenant's events therefore go
/// out one at a time, in the order they were enqueued: a later event waits while an earlier
/// one is leased to a worker or waiting for its retry, and moves up once that one is delivered
/// or given up ([`mark_dead`]). Across tenants, up to `limit` events are claimed, oldest
/// first. On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so replicas claiming at
/// once get disjoint events and, as the head of a tenant's queue is locked or leased, never two
/// events of one tenant.
#[tracing::instrument(skip_all, fields(limit))]
pub fn claim_next_per_tenant(
    conn: &mut DbConnection,
    now: OffsetDateTime,
    limit: u32,
    lease: Duration,
) -> Result<Vec<OutboxEvent>, StoreError> {
    let now_ms = ts::to_ms(now);
    let ids = dialect::lock_tenant_heads(conn, now_ms, i64::from(limit))?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    diesel::update(o::outbox_events.filter(o::id.eq_any(&ids)))
        .set((
            o::attempts.eq(o::attempts + 1),
            o::next_attempt_at.eq(now_ms.saturating_add(lease_ms)),
        ))
        .execute(conn)?;
    o::outbox_events
        .filter(o::id.eq_any(&ids))
        .order((o::created_at.asc(), o::id.asc()))
        .select(OutboxRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OutboxEvent::try_from)
        .collect()
}

fn set_outcome(
    conn: &mut DbConnection,
    id: EventId,
    status: OutboxStatus,
    next_attempt_at: Option<i64>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let now = ts::now_ms();
    let target = o::outbox_events.filter(o::id.eq(id.to_string()));
    let n = match next_attempt_at {
        Some(next) => diesel::update(target)
            .set((
                o::status.eq(status.as_str()),
                o::next_attempt_at.eq(next),
                o::last_error.eq(error),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                o::status.eq(status.as_str()),
                o::delivered_at.eq((status == OutboxStatus::Delivered).then_some(now)),
                o::last_error.eq(error),
            ))
            .execute(conn)?,
    };
    if n == 0 {
        return Err(StoreError::NotFound {
            entity: "outbox_event",
        });
    }
    Ok(())
}

/// The endpoint accepted the event.
pub fn mark_delivered(conn: &mut DbConnection, id: EventId) -> Result<(), StoreError> {
    set_outcome(conn, id, OutboxStatus::Delivered, None, None)
}

/// The attempt failed; try again at `next_attempt_at` (the worker's backoff).
pub fn reschedule(
    conn: &mut DbConnection,
    id: EventId,
    next_attempt_at: OffsetDateTime,
    error: &str,
) -> Result<(), StoreError> {
    set_outcome(
        conn,
        id,
        OutboxStatus::Pending,
        Some(ts::to_ms(next_attempt_at)),
        Some(error),
    )
}

/// Give up on the event.
pub fn mark_dead(conn: &mut DbConnection, id: EventId, error: &str) -> Result<(), StoreError> {
    set_outcome(conn, id, OutboxStatus::Dead, None, Some(error))
}

/// An event of `tenant`.
pub fn find_event(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: EventId,
) -> Result<OutboxEvent, StoreError> {
    o::outbox_events
        .filter(o::id.eq(id.to_string()))
        .filter(o::tenant_id.eq(tenant.to_string()))
        .select(OutboxRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound {
            entity: "outbox_event",
        })
        .and_then(OutboxEvent::try_from)
}

/// One delivery attempt, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub tenant_id: TenantId,
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// The HTTP status, if the endpoint answered.
    pub status_code: Option<u16>,
    /// What went wrong, if anything (no response bodies).
    pub error: Option<String>,
    pub duration_ms: i64,
    pub attempted_at: OffsetDateTime,
}

/// What [`record_delivery`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub event_id: EventId,
    pub tenant_id: TenantId,
    pub url: String,
    pub attempt: i64,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries, treat_none_as_default_value = false)]
struct DeliveryRow {
    id: String,
    event_id: String,
    tenant_id: String,
    url: String,
    attempt: i64,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
    attempted_at: i64,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self, StoreError> {
        const T: &str = "webhook_deliveries";
        Ok(Self {
            id: parse_id(&row.id, T, "id")?,
            event_id: parse_id(&row.event_id, T, "event_id")?,
            tenant_id: parse_id(&row.tenant_id, T, "tenant_id")?,
            url: row.url,
            attempt: row.attempt,
            status_code: row
                .status_code
                .map(|c| u16::try_from(c).map_err(|_| StoreError::corrupt(T, "status_code")))
                .transpose()?,
            error: row.error,
            duration_ms: row.duration_ms,
            attempted_at: ts::from_ms(row.attempted_at, T, "attempted_at")?,
        })
    }
}

/// Logs a delivery attempt of an event of `new.tenant_id`.
pub fn record_delivery(conn: &mut DbConnection, new: &NewDelivery) -> Result<Delivery, StoreError> {
    find_event(conn, new.tenant_id, new.event_id)?;
    let row = DeliveryRow {
        id: DeliveryId::random().to_string(),
        event_id: new.event_id.to_string(),
        tenant_id: new.tenant_id.to_string(),
        url: new.url.clone(),
        attempt: new.attempt,
        status_code: new.status_code.map(i64::from),
        error: new.error.clone(),
        duration_ms: new.duration_ms,
        attempted_at: ts::now_ms(),
    };
    diesel::insert_into(dl::webhook_deliveries)
        .values(&row)
        .execute(conn)?;
    Delivery::try_from(row)
}

/// A page of `tenant`'s delivery log, newest first, with the total.
pub fn list_deliveries(
    conn: &mut DbConnection,
    tenant: TenantId,
    page: PageRequest,
) -> Result<Page<Delivery>, StoreError> {
    let mine = || dl::webhook_deliveries.filter(dl::tenant_id.eq(tenant.to_string()));
    let total: i64 = mine().count().get_result(conn)?;
    let newest_first = mine()
        .order((dl::attempted_at.desc(), dl::id.desc()))
        .select(DeliveryRow::as_select());
    let items = crate::conn::paged(newest_first, page)
        .load(conn)?
        .into_iter()
        .map(Delivery::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::new(items, total, page))
}
