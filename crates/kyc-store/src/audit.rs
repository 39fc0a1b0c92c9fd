//! The audit trail: who did what to which identity, when, which fields changed (by name) and
//! how the level moved. Never values: a field name that is not a plain field path is refused,
//! so a value cannot be smuggled in as a "name".

use std::fmt;

use diesel::prelude::*;
use kyc_model::{
    Actor, AuditAction, BusinessIdentityId, DocumentId, KycLevel, PersonalIdentityId, TenantId,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    DbConnection, StoreError,
    conn::insert_rows,
    list::{Page, PageRequest},
    schema::audit_events::{self, dsl as a},
    ts,
    util::{from_json, parse_id, to_json},
};

const TABLE: &str = "audit_events";

/// The id of an audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuditId(Uuid);

impl AuditId {
    /// The underlying UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Display for AuditId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// One entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: AuditId,
    pub tenant_id: TenantId,
    pub identity_id: Option<PersonalIdentityId>,
    pub business_id: Option<BusinessIdentityId>,
    pub document_id: Option<DocumentId>,
    pub actor: Actor,
    pub action: AuditAction,
    /// Changed fields by name (`firstName`, `address.postalCode`), never their values.
    pub fields: Vec<String>,
    /// `(from, to)` when the KYC level changed.
    pub level_change: Option<(KycLevel, KycLevel)>,
    pub at: OffsetDateTime,
}

/// What [`append`] needs; the store assigns the id and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub tenant_id: TenantId,
    pub identity_id: Option<PersonalIdentityId>,
    pub business_id: Option<BusinessIdentityId>,
    pub document_id: Option<DocumentId>,
    pub actor: Actor,
    pub action: AuditAction,
    pub fields: Vec<String>,
    pub level_change: Option<(KycLevel, KycLevel)>,
}

impl NewAuditEvent {
    /// An event about a personal identity, with no fields and no level change.
    pub fn for_identity(
        tenant_id: TenantId,
        identity_id: PersonalIdentityId,
        actor: Actor,
        action: AuditAction,
    ) -> Self {
        Self {
            tenant_id,
            identity_id: Some(identity_id),
            business_id: None,
            document_id: None,
            actor,
            action,
            fields: Vec::new(),
            level_change: None,
        }
    }
}

/// Every action, so a stored name can be parsed back: `AuditAction::ALL`, which
/// `action_index` and its test keep complete (the compiler points there when kyc-model gains
/// an action).
const ACTIONS: [AuditAction; 10] = AuditAction::ALL;

const fn action_index(action: AuditAction) -> usize {
    match action {
        AuditAction::IdentityCreated => 0,
        AuditAction::IdentityUpdated => 1,
        AuditAction::IdentityErased => 2,
        AuditAction::KycCheckCompleted => 3,
        AuditAction::LevelChanged => 4,
        AuditAction::DocumentUploaded => 5,
        AuditAction::DocumentStatusChanged => 6,
        AuditAction::ReviewRequired => 7,
        AuditAction::ReviewDecided => 8,
        AuditAction::KycSessionStarted => 9,
    }
}

const _: () = assert!(action_index(AuditAction::KycSessionStarted) + 1 == ACTIONS.len());

fn action_from_name(name: &str) -> Option<AuditAction> {
    ACTIONS.into_iter().find(|a| a.as_str() == name)
}

/// A field path: letters, digits, `_`, `.`, `[`, `]`, at most 64 characters.
fn is_field_path(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']'))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    #[expect(dead_code, reason = "ordering key; the UUID is the public id")]
    seq: i64,
    id: String,
    tenant_id: String,
    identity_id: Option<String>,
    business_id: Option<String>,
    document_id: Option<String>,
    actor_kind: String,
    actor_key_id: Option<String>,
    action: String,
    fields_json: String,
    level_from: Option<String>,
    level_to: Option<String>,
    at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
struct InsertRow {
    id: String,
    tenant_id: String,
    identity_id: Option<String>,
    business_id: Option<String>,
    document_id: Option<String>,
    actor_kind: String,
    actor_key_id: Option<String>,
    action: String,
    fields_json: String,
    level_from: Option<String>,
    level_to: Option<String>,
    at: i64,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        let actor = match (row.actor_kind.as_str(), row.actor_key_id) {
            ("system", None) => Actor::System,
            ("apiKey", Some(k)) => Actor::ApiKey(parse_id(&k, TABLE, "actor_key_id")?),
            _ => return Err(StoreError::corrupt(TABLE, "actor_kind")),
        };
        let level = |v: Option<String>, col| {
            v.map(|l| KycLevel::from_name(&l).ok_or(StoreError::corrupt(TABLE, col)))
                .transpose()
        };
        let level_change = match (
            level(row.level_from, "level_from")?,
            level(row.level_to, "level_to")?,
        ) {
            (Some(from), Some(to)) => Some((from, to)),
            (None, None) => None,
            _ => return Err(StoreError::corrupt(TABLE, "level_to")),
        };
        Ok(Self {
            id: AuditId(parse_id(&row.id, TABLE, "id")?),
            tenant_id: parse_id(&row.tenant_id, TABLE, "tenant_id")?,
            identity_id: row
                .identity_id
                .map(|v| parse_id(&v, TABLE, "identity_id"))
                .transpose()?,
            business_id: row
                .business_id
                .map(|v| parse_id(&v, TABLE, "business_id"))
                .transpose()?,
            document_id: row
                .document_id
                .map(|v| parse_id(&v, TABLE, "document_id"))
                .transpose()?,
            actor,
            action: action_from_name(&row.action).ok_or(StoreError::corrupt(TABLE, "action"))?,
            fields: from_json(&row.fields_json, TABLE, "fields_json")?,
            level_change,
            at: ts::from_ms(row.at, TABLE, "at")?,
        })
    }
}

/// Appends an event. Field names must be field paths (see module docs), else
/// [`StoreError::Internal`]: that is a bug in the caller, which would otherwise leak a value.
#[tracing::instrument(skip_all, fields(tenant = %event.tenant_id, action = event.action.as_str()))]
pub fn append(conn: &mut DbConnection, event: &NewAuditEvent) -> Result<AuditEvent, StoreError> {
    let mut appended = append_all(conn, std::slice::from_ref(event))?;
    appended.pop().ok_or(StoreError::Internal {
        reason: "an appended audit event went missing",
    })
}

/// Appends `events` in their order (the trail's order) with one statement, all at one time:
/// what a unit of work records, written as it ends. Refuses them all, writing nothing, if any
/// field name is not a field path (see [`append`]).
#[tracing::instrument(skip_all, fields(events = events.len()))]
pub fn append_all(
    conn: &mut DbConnection,
    events: &[NewAuditEvent],
) -> Result<Vec<AuditEvent>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    if !events
        .iter()
        .all(|event| event.fields.iter().all(|f| is_field_path(f)))
    {
        return Err(StoreError::Internal {
            reason: "audit fields must be field names, never values",
        });
    }
    let at = ts::now_ms();
    let ids: Vec<Uuid> = events.iter().map(|_| Uuid::new_v4()).collect();
    let rows = events
        .iter()
        .zip(&ids)
        .map(|(event, id)| insert_row(event, *id, at))
        .collect::<Result<Vec<_>, _>>()?;
    insert_rows!(conn, a::audit_events, rows)?;
    let at = ts::from_ms(at, TABLE, "at")?;
    Ok(events
        .iter()
        .zip(ids)
        .map(|(event, id)| AuditEvent {
            id: AuditId(id),
            tenant_id: event.tenant_id,
            identity_id: event.identity_id,
            business_id: event.business_id,
            document_id: event.document_id,
            actor: event.actor,
            action: event.action,
            fields: event.fields.clone(),
            level_change: event.level_change,
            at,
        })
        .collect())
}

fn insert_row(event: &NewAuditEvent, id: Uuid, at: i64) -> Result<InsertRow, StoreError> {
    let (actor_kind, actor_key_id) = match event.actor {
        Actor::System => ("system", None),
        Actor::ApiKey(k) => ("apiKey", Some(k.to_string())),
    };
    Ok(InsertRow {
        id: id.hyphenated().to_string(),
        tenant_id: event.tenant_id.to_string(),
        identity_id: event.identity_id.map(|v| v.to_string()),
        business_id: event.business_id.map(|v| v.to_string()),
        document_id: event.document_id.map(|v| v.to_string()),
        actor_kind: actor_kind.to_owned(),
        actor_key_id,
        action: event.action.as_str().to_owned(),
        fields_json: to_json(&event.fields)?,
        level_from: event.level_change.map(|(f, _)| f.as_str().to_owned()),
        level_to: event.level_change.map(|(_, t)| t.as_str().to_owned()),
        at,
    })
}

/// A page of the trail of one identity of `tenant`, oldest first, with the total. Erased
/// identities keep their trail (it holds no PII), ending with `identity_erased`.
pub fn list_for_identity(
    conn: &mut DbConnection,
    tenant: TenantId,
    identity: PersonalIdentityId,
    page: PageRequest,
) -> Result<Page<AuditEvent>, StoreError> {
    let mine = || {
        a::audit_events
            .filter(a::tenant_id.eq(tenant.to_string()))
            .filter(a::identity_id.eq(identity.to_string()))
    };
    let total: i64 = mine().count().get_result(conn)?;
    let in_order = mine().order(a::seq.asc()).select(AuditRow::as_select());
    let items = crate::conn::paged(in_order, page)
        .load(conn)?
        .into_iter()
        .map(AuditEvent::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::new(items, total, page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips() {
        for (i, action) in ACTIONS.into_iter().enumerate() {
            assert_eq!(action_index(action), i);
            assert_eq!(action_from_name(action.as_str()), Some(action));
        }
    }

    #[test]
    fn field_paths_only() {
        for ok in [
            "firstName",
            "address.postalCode",
            "dueDiligence.occupation",
            "a[0]",
        ] {
            assert!(is_field_path(ok), "{ok}");
        }
        for bad in [
            "",
            "john@example.com",
            "305-46-4885",
            "John Doe",
            "1abc",
            &"a".repeat(65),
        ] {
            assert!(!is_field_path(bad), "{bad}");
        }
    }
}
