//! The compliance review queue (SPEC §4, §6): operators list what automation could not decide
//! and decide it. The unit of work is `workflow::decide_review`; this module parses, and
//! renders each item with what a reviewer needs to decide it: the person's data with the SSN
//! masked, the KYC picture, and short-lived links to the document images.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use kyc_model::{
    Document, KycField, KycLevel, MissingDocument, ProcessName, ReviewId, ReviewKind, ReviewStatus,
    TenantId,
};
use kyc_store::{
    DbConnection,
    list::PageRequest,
    reviews::{self, DecisionNote, ReviewFilter, ReviewItem, TenantScope, Verdict},
    tenants,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::{
    auth::Operator,
    dto::{DocumentDto, KycCheckDto, PageBody, PersonalIdentityDto, rfc3339, wire_name},
    error::{ApiError, violation},
    idempotency,
    presign::Side,
    reply::{Reply, if_match},
    routes::common::{BASE, field_or_alias, json_body, page_meta, path_id},
    state::{AppState, blocking, read},
    workflow::{self, Record, ReviewAction, ReviewerDecision, Unit},
};

type State = web::Data<AppState>;

/// The longest note a reviewer may write.
pub const MAX_NOTE_CHARS: usize = 2000;

/// The queue's configuration: the reason codes a reviewer may give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSettings {
    reason_codes: Vec<String>,
}

impl ReviewSettings {
    /// Checks the configured codes: at least one, each 1-64 of `a-z`, `0-9`, `_`, `-`.
    pub fn new(codes: &[String]) -> Result<Self, String> {
        let mut reason_codes: Vec<String> = Vec::new();
        for code in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            let well_formed = code.len() <= 64
                && code.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !well_formed {
                return Err(
                    "review reason codes are 1-64 characters of a-z, 0-9, '_' and '-'".to_owned(),
                );
            }
            if !reason_codes.iter().any(|c| c == code) {
                reason_codes.push(code.to_owned());
            }
        }
        if reason_codes.is_empty() {
            return Err("at least one review reason code must be configured".to_owned());
        }
        Ok(Self { reason_codes })
    }

    /// The codes, in configured order.
    pub fn reason_codes(&self) -> &[String] {
        &self.reason_codes
    }
}

/// `POST /reviews/{id}/decision` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewDecisionRequest {
    /// Identity items: `approve`, `reject` or `requestInformation`. Document items: `approve`,
    /// `reject` or `resubmit`. Also accepted as `action`, the simulate route's name for it.
    #[schema(example = "approve")]
    pub decision: String,
    /// Identity approvals only, and required there: `L1` or `L2` (a level of the identity's
    /// ladder).
    #[schema(example = "L1")]
    pub level: Option<String>,
    /// One of the configured reason codes (default list: `documents_verified`,
    /// `data_verified_manually`, `fraud_suspected`, `document_expired`, `document_unreadable`,
    /// `data_mismatch`, `duplicate_identity`, `other`).
    #[schema(example = "data_verified_manually")]
    pub reason_code: String,
    /// Free text for the audit of the case, at most 2000 characters; stored encrypted.
    pub note: Option<String>,
    /// `requestInformation` only: fields to correct (`phone`, `name`, `address`, `ssn`,
    /// `dateOfBirth`).
    pub missing_data: Option<Vec<String>>,
    /// `requestInformation` only: documents to upload (`proofOfId`, `proofOfAddress`).
    pub missing_documents: Option<Vec<String>>,
}

/// Short-lived links to a document's images (no API key needed to fetch them).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewImagesDto {
    pub front: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub back: Option<String>,
    pub expires_at: String,
}

/// A document as a reviewer sees it: status, quality checks and links to the images.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewDocumentDto {
    #[serde(flatten)]
    pub document: DocumentDto,
    /// Absent for an imported verification, which has no image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<ReviewImagesDto>,
}

/// Everything a reviewer needs to decide an item.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewSubjectDto {
    /// The person under review. The SSN stays write-only here too (`ssnProvided` says whether
    /// one is on file; the latest check says whether it passed).
    pub identity: PersonalIdentityDto,
    /// `summary.status`: `ok`, `pending`, `restricted` or `blocked`.
    pub summary_status: String,
    /// Failed KYC checks since the last review decision.
    pub failed_attempts: u32,
    /// One entry per process: `{status, reason?, attempts}`.
    #[schema(value_type = Object)]
    pub processes: Value,
    /// Per product: `{type, status, missingData, missingDocuments}`.
    #[schema(value_type = Vec<Object>)]
    pub eligibility: Value,
    pub latest_check: Option<KycCheckDto>,
    /// For a document item, the document to decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<ReviewDocumentDto>,
    /// Every document of the identity, newest first.
    pub documents: Vec<ReviewDocumentDto>,
}

/// A recorded decision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewDecisionDto {
    /// `approve`, `reject`, `requestInformation` or `resubmit`.
    pub decision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The process reason a rejection recorded, if its reason code maps to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_data: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_documents: Vec<String>,
    pub reason_code: Option<String>,
    pub note: Option<String>,
    /// The reviewer's API key id.
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The identity's level when decided.
    pub level_at_decision: Option<String>,
}

/// An item of the review queue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewDto {
    pub id: String,
    /// `identity` or `document`.
    pub kind: String,
    /// `pending`, `approved`, `rejected` or `informationRequested`.
    pub status: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub identity_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// Why it needs a person, where known (e.g. `duplicate`).
    pub reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Give it back in `If-Match` (`"v3"`) to decide only what you saw.
    pub version: i64,
    pub decision: Option<ReviewDecisionDto>,
    pub subject: ReviewSubjectDto,
}

/// The queue's query: `kind`, `status` (default `pending`; `all` for every status), `tenant`,
/// `page[size]`, `page[number]`.
struct ReviewQuery {
    scope: TenantScope,
    filter: ReviewFilter,
    page: PageRequest,
}

fn parse_query(query: &str) -> Result<ReviewQuery, ApiError> {
    let pairs = crate::routes::common::query_pairs(query)?;
    let mut violations = Vec::new();
    let mut filter = ReviewFilter {
        kind: None,
        status: Some(ReviewStatus::Pending),
    };
    let mut scope = TenantScope::AllTenants;
    let (mut number, mut size) = (1u32, 30u32);
    for (name, value) in &pairs {
        let number_in = |min: u32, max: u32, violations: &mut Vec<Value>| {
            let n = value
                .parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n));
            if n.is_none() {
                violations.push(violation(
                    name,
                    "range",
                    &format!("must be a whole number from {min} to {max}"),
                ));
            }
            n
        };
        match name.as_str() {
            "kind" => match value.as_str() {
                "identity" => filter.kind = Some(ReviewKind::Identity),
                "document" => filter.kind = Some(ReviewKind::Document),
                _ => violations.push(violation(name, "enum", "must be identity or document")),
            },
            "status" => match (value.as_str(), ReviewStatus::from_name(value)) {
                ("all", _) => filter.status = None,
                (_, Some(status)) if status != ReviewStatus::None => filter.status = Some(status),
                _ => violations.push(violation(
                    name,
                    "enum",
                    "must be pending, approved, rejected, informationRequested or all",
                )),
            },
            "tenant" => match value.parse::<TenantId>() {
                Ok(tenant) => scope = TenantScope::Tenant(tenant),
                Err(_) => violations.push(violation(name, "uuid", "must be a tenant id")),
            },
            "page[number]" => number = number_in(1, u32::MAX, &mut violations).unwrap_or(1),
            "page[size]" => size = number_in(1, 100, &mut violations).unwrap_or(30),
            _ => violations.push(violation(
                name,
                "unknown_parameter",
                "is not a parameter of this list",
            )),
        }
    }
    if !violations.is_empty() {
        return Err(ApiError::Validation(Value::Array(violations)));
    }
    Ok(ReviewQuery {
        scope,
        filter,
        page: PageRequest::page(number, size),
    })
}

fn parse_list<T>(
    value: Option<&Value>,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &str,
    violations: &mut Vec<Value>,
) -> Vec<T> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let parsed = item.as_str().and_then(&parse);
                if parsed.is_none() {
                    violations.push(violation(
                        &format!("{field}[{i}]"),
                        "enum",
                        &format!("must be one of {allowed}"),
                    ));
                }
                parsed
            })
            .collect(),
        Some(_) => {
            violations.push(violation(field, "type", "must be an array of strings"));
            Vec::new()
        }
    }
}

/// Reads a decision field by field, reporting every violation at once and never quoting a
/// value (a note may hold personal data).
fn parse_decision(body: &Value, settings: &ReviewSettings) -> Result<ReviewerDecision, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::Validation(json!([violation(
            "",
            "type",
            "must be a JSON object"
        )])));
    };
    let mut violations = Vec::new();
    const FIELDS: [&str; 7] = [
        "decision",
        "action",
        "level",
        "reasonCode",
        "note",
        "missingData",
        "missingDocuments",
    ];
    for key in object.keys() {
        if !FIELDS.contains(&key.as_str()) {
            violations.push(violation(
                key,
                "unknown_field",
                "is not a field of this request",
            ));
        }
    }
    let text = |name: &str, violations: &mut Vec<Value>| match object.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            violations.push(violation(name, "type", "must be a string"));
            None
        }
    };
    // `action` is the simulate route's name for the same thing.
    let (decision, both) = field_or_alias(object, "decision", "action");
    if both {
        violations.push(violation("action", "duplicate", "repeats decision"));
    }
    let action = match text(decision, &mut violations).as_deref() {
        Some("approve") => Some(ReviewAction::Approve),
        Some("reject") => Some(ReviewAction::Reject),
        Some("resubmit") => Some(ReviewAction::Resubmit),
        Some("requestInformation") => Some(ReviewAction::RequestInformation),
        Some(_) => {
            violations.push(violation(
                decision,
                "enum",
                "must be approve, reject, resubmit or requestInformation",
            ));
            None
        }
        None if object.get(decision).is_none_or(Value::is_null) => {
            violations.push(violation("decision", "required", "is required"));
            None
        }
        None => None,
    };
    let level = text("level", &mut violations).and_then(|l| {
        let level = KycLevel::from_name(&l).filter(|l| *l != KycLevel::L0);
        if level.is_none() {
            violations.push(violation("level", "enum", "must be L1 or L2"));
        }
        level
    });
    let reason_code = match text("reasonCode", &mut violations) {
        Some(code) if settings.reason_codes.contains(&code) => Some(code),
        Some(_) => {
            violations.push(violation(
                "reasonCode",
                "enum",
                &format!("must be one of {}", settings.reason_codes.join(", ")),
            ));
            None
        }
        None => {
            if object.get("reasonCode").is_none_or(Value::is_null) {
                violations.push(violation("reasonCode", "required", "is required"));
            }
            None
        }
    };
    let note = text("note", &mut violations).and_then(|note| {
        let chars = note.chars().count();
        let controls = note
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        if chars > MAX_NOTE_CHARS {
            violations.push(violation(
                "note",
                "max_length",
                "must be at most 2000 characters",
            ));
            None
        } else if controls {
            violations.push(violation(
                "note",
                "control_characters",
                "must not contain control characters other than line breaks and tabs",
            ));
            None
        } else {
            Some(note).filter(|n| !n.trim().is_empty())
        }
    });
    let missing_data = parse_list(
        object.get("missingData"),
        "missingData",
        |s| {
            KycField::ALL
                .into_iter()
                .find(|f| kyc_tiers::field_name(*f) == s)
        },
        "phone, name, address, ssn, dateOfBirth",
        &mut violations,
    );
    let missing_documents = parse_list(
        object.get("missingDocuments"),
        "missingDocuments",
        |s| {
            [MissingDocument::ProofOfId, MissingDocument::ProofOfAddress]
                .into_iter()
                .find(|d| d.as_str() == s)
        },
        "proofOfId, proofOfAddress",
        &mut violations,
    );
    match (action, reason_code) {
        (Some(action), Some(reason_code)) if violations.is_empty() => Ok(ReviewerDecision {
            action,
            level,
            missing_data,
            missing_documents,
            note: DecisionNote { reason_code, note },
        }),
        _ => Err(ApiError::Validation(Value::Array(violations))),
    }
}

/// Links to a document's images, in the form `GET /documents/{id}/image` verifies.
fn image_links(state: &AppState, doc: &Document, now: OffsetDateTime) -> Option<ReviewImagesDto> {
    // Only an imported verification has no quality checks, and it has no image either.
    if doc.front_checks.is_empty() {
        return None;
    }
    let link = |side: Side| {
        let (expires, signature) = state.presigner.sign(doc.tenant_id, doc.id, side, now);
        let url = format!(
            "{}{BASE}/documents/{}/image?side={}&tenant={}&expires={expires}&signature={signature}",
            state.public_url,
            doc.id,
            side.as_str(),
            doc.tenant_id,
        );
        (expires, url)
    };
    let (expires, front) = link(Side::Front);
    let back = (!doc.back_checks.is_empty()).then(|| link(Side::Back).1);
    Some(ReviewImagesDto {
        front,
        back,
        expires_at: OffsetDateTime::from_unix_timestamp(expires)
            .map(rfc3339)
            .unwrap_or_default(),
    })
}

fn decision_view(item: &ReviewItem, note: Option<&DecisionNote>) -> Option<ReviewDecisionDto> {
    use kyc_model::{DocumentVerdict, ReviewDecision};
    let verdict = item.verdict.as_ref()?;
    let mut view = ReviewDecisionDto {
        decision: String::new(),
        level: None,
        reason: None,
        missing_data: Vec::new(),
        missing_documents: Vec::new(),
        reason_code: note.map(|n| n.reason_code.clone()),
        note: note.and_then(|n| n.note.clone()),
        decided_by: item.decided_by.map(|k| k.to_string()),
        decided_at: item.decided_at.map(rfc3339),
        level_at_decision: item.level_at_decision.map(|l| l.as_str().to_owned()),
    };
    match verdict {
        Verdict::Identity(decision) => {
            view.decision = decision.as_str().to_owned();
            match decision {
                ReviewDecision::Approve { level } => view.level = Some(level.as_str().to_owned()),
                ReviewDecision::Reject { reason } => {
                    view.reason = reason.map(|r| r.as_str().to_owned());
                }
                ReviewDecision::RequestInformation {
                    missing_data,
                    missing_documents,
                } => {
                    view.missing_data = missing_data
                        .iter()
                        .map(|f| kyc_tiers::field_name(*f).to_owned())
                        .collect();
                    view.missing_documents = missing_documents
                        .iter()
                        .map(|d| d.as_str().to_owned())
                        .collect();
                }
            }
        }
        Verdict::Document(verdict) => {
            let (name, reason) = match verdict {
                DocumentVerdict::Approve => ("approve", None),
                DocumentVerdict::Resubmit => ("resubmit", None),
                DocumentVerdict::Reject { reason } => ("reject", *reason),
            };
            view.decision = name.to_owned();
            view.reason = reason.map(|r| r.as_str().to_owned());
        }
    }
    Some(view)
}

/// An item with its subject, read in the caller's transaction or connection.
fn view(
    conn: &mut DbConnection,
    state: &AppState,
    item: &ReviewItem,
    note: Option<&DecisionNote>,
    tenant_names: &mut HashMap<TenantId, String>,
) -> Result<ReviewDto, ApiError> {
    let record = Record::load(conn, state, item.tenant_id, item.identity_id)?;
    let evaluation = record.evaluate(state);
    let now = state.now();
    let reason_of = |doc: &Document| {
        record
            .document_reasons
            .iter()
            .find_map(|&(d, r)| (d == doc.id).then_some(r))
    };
    let documents: Vec<ReviewDocumentDto> = record
        .documents
        .iter()
        .map(|doc| ReviewDocumentDto {
            document: DocumentDto::new(doc, reason_of(doc)),
            images: image_links(state, doc, now),
        })
        .collect();
    let document = item.document_id.and_then(|id| {
        record
            .documents
            .iter()
            .position(|d| d.id == id)
            .and_then(|i| documents.get(i).cloned())
    });
    let processes: serde_json::Map<String, Value> = ProcessName::ALL
        .iter()
        .map(|&name| {
            let report = evaluation.process(name);
            (
                wire_name(name),
                json!({ "status": report.status, "reason": report.reason, "attempts": report.attempts }),
            )
        })
        .collect();
    let latest_check = record
        .checks
        .iter()
        .max_by_key(|c| c.performed_at)
        .map(KycCheckDto::from);
    let identity = &record.identity;
    let tenant_name = match tenant_names.get(&item.tenant_id) {
        Some(name) => name.clone(),
        None => {
            let name = tenants::find(conn, item.tenant_id)?.name;
            tenant_names.insert(item.tenant_id, name.clone());
            name
        }
    };
    Ok(ReviewDto {
        id: item.id.to_string(),
        kind: wire_name(item.kind),
        status: item.status.as_str().to_owned(),
        tenant_id: item.tenant_id.to_string(),
        tenant_name,
        identity_id: item.identity_id.to_string(),
        document_id: item.document_id.map(|d| d.to_string()),
        reason: item.reason.map(|r| r.as_str().to_owned()),
        created_at: rfc3339(item.created_at),
        updated_at: rfc3339(item.updated_at),
        version: item.version,
        decision: decision_view(item, note),
        subject: ReviewSubjectDto {
            identity: PersonalIdentityDto::from(identity),
            summary_status: wire_name(evaluation.summary()),
            failed_attempts: evaluation.failed_attempts(),
            processes: Value::Object(processes),
            eligibility: serde_json::to_value(evaluation.eligibility()).unwrap_or_default(),
            latest_check,
            document,
            documents,
        },
    })
}

/// One item, read fresh (with its note).
fn load_view(
    conn: &mut DbConnection,
    state: &AppState,
    id: ReviewId,
) -> Result<ReviewDto, ApiError> {
    let item = reviews::find(conn, TenantScope::AllTenants, id)?;
    let notes = reviews::decision_notes(conn, state.db.keys(), TenantScope::AllTenants, &[id])?;
    view(conn, state, &item, notes.get(&id), &mut HashMap::new())
}

/// The review queue across tenants, oldest first: identities whose KYC attempts ran out (or
/// that share an SSN) and documents in `manualReviewNeeded`. Pending items unless `status`
/// says otherwise.
#[utoipa::path(get, path = "/api/trust/v1/reviews", tag = "reviews",
    params(
        ("kind" = Option<String>, Query, description = "identity or document"),
        ("status" = Option<String>, Query, description = "pending (default), approved, rejected, informationRequested or all"),
        ("tenant" = Option<String>, Query, description = "one tenant's items (a tenant id)"),
        ("page[size]" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 30"),
        ("page[number]" = Option<u64>, Query, minimum = 1, maximum = 4294967295_f64, description = "from 1"),
    ),
    responses(
        (status = 200, body = PageBody<ReviewDto>),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed"),
        (status = 403, body = crate::dto::ErrorBody, description = "forbidden: operator keys only"),
    ),
    security(("bearer" = [])))]
#[get("/reviews")]
pub async fn list_reviews(
    state: State,
    _caller: Operator,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(req.query_string())?;
    let st = state.clone();
    let (data, total, request) = read(&state, move || {
        st.db.run(|conn| {
            let page = reviews::list(conn, query.scope, query.filter, query.page)?;
            let ids: Vec<ReviewId> = page.items.iter().map(|i| i.id).collect();
            let notes = reviews::decision_notes(conn, st.db.keys(), query.scope, &ids)?;
            let mut names = HashMap::new();
            let mut data = Vec::with_capacity(page.items.len());
            for item in &page.items {
                match view(conn, &st, item, notes.get(&item.id), &mut names) {
                    Ok(view) => data.push(view),
                    // Erased since the page was read (the reads are not one snapshot): the
                    // item has left the queue.
                    Err(err) if err.code() == "identity_not_found" => {}
                    Err(err) => return Err(err),
                }
            }
            Ok::<_, ApiError>((data, page.total, page.request))
        })
    })
    .await?;
    let meta = page_meta(request, total, data.len());
    let body = PageBody { data, meta };
    Ok(Reply::ok(&body)
        .header("cache-control", "private, no-store".to_owned())
        .into_response())
}

/// One item of the queue, with what a reviewer needs.
#[utoipa::path(get, path = "/api/trust/v1/reviews/{id}", tag = "reviews",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = ReviewDto, headers(("ETag" = String))),
        (status = 404, body = crate::dto::ErrorBody, description = "review_not_found"),
    ),
    security(("bearer" = [])))]
#[get("/reviews/{id}")]
pub async fn get_review(
    state: State,
    _caller: Operator,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ReviewId = path_id(&id, "id")?;
    let st = state.clone();
    let dto = read(&state, move || st.db.run(|conn| load_view(conn, &st, id))).await?;
    Ok(Reply::ok(&dto)
        .etag(dto.version)
        .header("cache-control", "private, no-store".to_owned())
        .into_response())
}

/// Decides a pending item. Identity: `approve` (with `level`), `reject` or
/// `requestInformation` (with `missingData`/`missingDocuments`). Document: `approve`, `reject`
/// or `resubmit`. The decision feeds the tier engine and the document attempt rules at once,
/// is audited and announced by webhook events. When two reviewers decide one item at once,
/// one wins; the other gets `409 review_already_decided`.
#[utoipa::path(post, path = "/api/trust/v1/reviews/{id}/decision", tag = "reviews",
    request_body = ReviewDecisionRequest,
    params(
        ("id" = String, Path),
        ("If-Match" = Option<String>, Header, description = "The item's ETag: decide only the version you saw"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h"),
    ),
    responses(
        (status = 200, body = ReviewDto, description = "The decided item, with the identity after the decision"),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed: unknown reason code, a decision that does not fit the item, a missing level"),
        (status = 403, body = crate::dto::ErrorBody, description = "forbidden: operator keys only"),
        (status = 404, body = crate::dto::ErrorBody, description = "review_not_found; or identity_not_found when the identity was erased meanwhile"),
        (status = 409, body = crate::dto::ErrorBody, description = "review_already_decided"),
        (status = 412, body = crate::dto::ErrorBody, description = "version_conflict"),
        (status = 422, body = crate::dto::ErrorBody, description = "level_not_available"),
    ),
    security(("bearer" = [])))]
#[post("/reviews/{id}/decision")]
pub async fn decide(
    state: State,
    settings: web::Data<ReviewSettings>,
    caller: Operator,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id: ReviewId = path_id(&id, "id")?;
    let expected = if_match(&req)?;
    let caller = caller.0;
    idempotency::run(
        &state,
        &caller,
        &req,
        &body,
        |_| Some(id.to_string()),
        || async {
            let decision = parse_decision(&json_body(&body)?, &settings)?;
            let reviewer = caller.key_id;
            let st = state.clone();
            let dto = blocking(move || {
                st.db.write(|conn| {
                    Unit::run(conn, |unit| {
                        workflow::decide_review(
                            unit,
                            &st,
                            reviewer,
                            id,
                            expected.as_ref(),
                            &decision,
                        )
                    })
                })?;
                st.db.run(|conn| load_view(conn, &st, id))
            })
            .await?;
            Ok(Reply::ok(&dto).etag(dto.version))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ReviewSettings {
        ReviewSettings::new(&crate::cli::ReviewArgs::default().reason_codes).unwrap()
    }

    fn rules(body: Value) -> Vec<(String, String)> {
        match parse_decision(&body, &settings()) {
            Err(ApiError::Validation(Value::Array(list))) => list
                .iter()
                .map(|v| {
                    (
                        v["field"].as_str().unwrap().to_owned(),
                        v["rule"].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => Vec::new(),
        }
    }

    fn pair(field: &str, rule: &str) -> (String, String) {
        (field.to_owned(), rule.to_owned())
    }

    #[test]
    fn reason_codes_are_configured_strictly() {
        assert_eq!(settings().reason_codes().len(), 8);
        let custom =
            ReviewSettings::new(&["ok".into(), " ok ".into(), "bad-photo".into()]).unwrap();
        assert_eq!(custom.reason_codes(), ["ok", "bad-photo"]);
        assert!(ReviewSettings::new(&[]).is_err());
        assert!(ReviewSettings::new(&[" ".into()]).is_err());
        assert!(ReviewSettings::new(&["Has Space".into()]).is_err());
    }

    #[test]
    fn decisions_parse() {
        let d = parse_decision(
            &json!({ "decision": "approve", "level": "L1", "reasonCode": "documents_verified",
                     "note": "Called the customer." }),
            &settings(),
        )
        .unwrap();
        assert_eq!(
            (d.action, d.level),
            (ReviewAction::Approve, Some(KycLevel::L1))
        );
        assert_eq!(d.note.note.as_deref(), Some("Called the customer."));
        let d = parse_decision(
            &json!({ "decision": "requestInformation", "reasonCode": "other",
                     "missingData": ["address", "dateOfBirth"], "missingDocuments": ["proofOfAddress"] }),
            &settings(),
        )
        .unwrap();
        assert_eq!(d.missing_data, [KycField::Address, KycField::DateOfBirth]);
        assert_eq!(d.missing_documents, [MissingDocument::ProofOfAddress]);
        let blank = parse_decision(
            &json!({ "decision": "reject", "reasonCode": "other", "note": "  " }),
            &settings(),
        )
        .unwrap();
        assert_eq!(blank.note.note, None);
        let d = parse_decision(
            &json!({ "action": "reject", "reasonCode": "fraud_suspected" }),
            &settings(),
        )
        .unwrap();
        assert_eq!(d.action, ReviewAction::Reject);
        assert_eq!(
            rules(json!({ "decision": "reject", "action": "approve", "reasonCode": "other" })),
            [pair("action", "duplicate")]
        );
    }

    #[test]
    fn bad_decisions_list_every_violation_without_values() {
        assert_eq!(
            rules(
                json!({ "level": "L7", "reasonCode": "because", "note": "x".repeat(2001),
                          "missingData": ["ssn", "SSN-123-45-6789"], "extra": 1 })
            ),
            vec![
                pair("extra", "unknown_field"),
                pair("decision", "required"),
                pair("level", "enum"),
                pair("reasonCode", "enum"),
                pair("note", "max_length"),
                pair("missingData[1]", "enum"),
            ]
        );
        let err = parse_decision(
            &json!({ "decision": "maybe", "reasonCode": "123-45-6789", "note": "a\u{0}b" }),
            &settings(),
        )
        .unwrap_err();
        assert!(!format!("{err:?}").contains("123-45-6789"));
        assert_eq!(
            rules(json!({ "decision": "approve" })),
            vec![pair("reasonCode", "required")]
        );
        assert_eq!(
            rules(json!({ "decision": "approve", "reasonCode": "other", "level": "L0" })),
            vec![pair("level", "enum")]
        );
        assert_eq!(rules(json!("approve")), vec![pair("", "type")]);
    }

    #[test]
    fn queries_parse() {
        let q = parse_query("").unwrap();
        assert_eq!(q.scope, TenantScope::AllTenants);
        assert_eq!(q.filter.status, Some(ReviewStatus::Pending));
        let tenant = TenantId::random();
        let q = parse_query(&format!(
            "kind=document&status=all&tenant={tenant}&page%5Bsize%5D=5&page%5Bnumber%5D=2"
        ))
        .unwrap();
        assert_eq!(q.scope, TenantScope::Tenant(tenant));
        assert_eq!(
            q.filter,
            ReviewFilter {
                kind: Some(ReviewKind::Document),
                status: None
            }
        );
        assert_eq!(q.page, PageRequest::page(2, 5));
        assert!(parse_query("status=none").is_err());
        assert!(parse_query("kind=person").is_err());
        assert!(parse_query("tenant=acme").is_err());
        assert!(parse_query("page%5Bsize%5D=101").is_err());
        assert!(parse_query("sort=-createdAt").is_err());
    }
}
