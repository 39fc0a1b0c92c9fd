//! Identity containers, personal identities and their KYC views (SPEC §2, §4, §6).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use kyc_model::PersonalIdentityId;
use kyc_store::{
    audit, business, containers,
    list::{Listing, PageRequest},
    personal,
};

use crate::{
    auth::{Reader, Writer},
    dto::{
        AuditEventDto, ContainerDto, EligibilityDto, EligibilityOverviewDto, KycCheckDto,
        KycCheckRunDto, KycOverviewDto, KycSummaryDto, PageBody, PersonalIdentityDto, ProcessDto,
        wire_name,
    },
    error::ApiError,
    idempotency,
    reply::{IfMatch, Reply, if_match},
    routes::common::{
        BASE, json_body, list_query, no_fields, page_meta, page_request, path_id, retry_conflicts,
    },
    state::{AppState, blocking, find_person, read, write_owned},
    workflow::{self, Record, Unit},
};

type State = web::Data<AppState>;

fn container_location(reply: &Reply) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()?
        .get("personalIdentity")?
        .get("id")?
        .as_str()
        .map(str::to_owned)
}

/// Creates an identity container and its personal identity, runs the first KYC check.
#[utoipa::path(post, path = "/api/trust/v1/identity-containers", tag = "identities",
    request_body = crate::dto::CreatePersonRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    responses(
        (status = 201, body = ContainerDto, description = "Created", headers(("Location" = String, description = "The created resource's URL"))),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed or invalid_json"),
        (status = 409, body = crate::dto::ErrorBody, description = "email_already_in_use"),
        (status = 422, body = crate::dto::ErrorBody, description = "idempotency_key_reused"),
    ),
    security(("bearer" = [])))]
#[post("/identity-containers")]
pub async fn create_container(
    state: State,
    caller: Writer,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    idempotency::run(&state, &caller, &req, &body, container_location, || async {
        let data = kyc_rules::parse_personal_create(&json_body(&body)?)?;
        let st = state.clone();
        let (tenant, actor) = (caller.tenant, caller.actor());
        // Verification and evaluation are the domain's pure functions: no I/O to move off
        // this worker. The write goes to the store's writer without a thread waiting for it.
        let person = workflow::NewPerson::prepare(&state, data);
        let (container, identity) = write_owned(&state, move |conn| {
            Unit::run(conn, |unit| {
                workflow::create_person(unit, &st, tenant, actor, person)
            })
        })
        .await?;
        let dto = ContainerDto::new(&container, Some(&identity), &[]);
        Ok(
            Reply::created(&dto, format!("{BASE}/identity-containers/{}", container.id))
                .etag(identity.version),
        )
    })
    .await
}

/// A container with its personal and business identities.
#[utoipa::path(get, path = "/api/trust/v1/identity-containers/{id}", tag = "identities",
    params(("id" = String, Path)),
    responses((status = 200, body = ContainerDto), (status = 404, body = crate::dto::ErrorBody, description = "container_not_found")),
    security(("bearer" = [])))]
#[get("/identity-containers/{id}")]
pub async fn get_container(
    state: State,
    caller: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "id")?;
    let tenant = caller.tenant;
    let st = state.clone();
    let dto = read(&state, move || {
        st.db.run(|conn| {
            let keys = st.db.keys();
            let container = containers::find(conn, tenant, id)?;
            let person = personal::find_by_container(conn, keys, tenant, id)?;
            let companies = business::list_by_container(conn, keys, tenant, id)?;
            Ok::<_, ApiError>(ContainerDto::new(&container, person.as_ref(), &companies))
        })
    })
    .await?;
    Ok(Reply::ok(&dto).into_response())
}

/// A personal identity with its KYC level and upgrade requirements.
#[utoipa::path(get, path = "/api/trust/v1/personal-identities/{id}", tag = "identities",
    params(("id" = String, Path)),
    responses((status = 200, body = PersonalIdentityDto, headers(("ETag" = String))), (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found")),
    security(("bearer" = [])))]
#[get("/personal-identities/{id}")]
pub async fn get_person(
    state: State,
    caller: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: PersonalIdentityId = path_id(&id, "id")?;
    let identity = find_person(&state, caller.tenant, id).await?;
    Ok(Reply::ok(&PersonalIdentityDto::from(&identity))
        .etag(identity.version)
        .into_response())
}

/// Partial update; re-runs KYC when a KYC field changes. `If-Match` makes it conditional.
#[utoipa::path(patch, path = "/api/trust/v1/personal-identities/{id}", tag = "identities",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version the change is based on")),
    request_body = crate::dto::PatchPersonRequest,
    responses(
        (status = 200, body = PersonalIdentityDto),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed (including empty_patch for {}) or invalid_json"),
        (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found"),
        (status = 409, body = crate::dto::ErrorBody, description = "email_already_in_use"),
        (status = 412, body = crate::dto::ErrorBody, description = "version_conflict"),
        (status = 422, body = crate::dto::ErrorBody, description = "identity_confirmed_field_locked"),
    ),
    security(("bearer" = [])))]
#[patch("/personal-identities/{id}")]
pub async fn patch_person(
    state: State,
    caller: Writer,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id: PersonalIdentityId = path_id(&id, "id")?;
    let expected = if_match(&req)?;
    let patch = kyc_rules::parse_personal_patch(&json_body(&body)?)?;
    let (tenant, actor) = (caller.tenant, caller.actor());
    let st = state.clone();
    let patch = std::sync::Arc::new(patch);
    let identity = blocking(move || {
        retry_conflicts(expected.is_some(), || {
            let (state, patch, expected) = (st.clone(), patch.clone(), expected.clone());
            st.db.write_owned(move |conn| {
                Unit::run(conn, |unit| {
                    workflow::patch_person(
                        unit,
                        &state,
                        tenant,
                        actor,
                        id,
                        &patch,
                        expected.as_ref(),
                    )
                })
            })
        })
    })
    .await?;
    Ok(Reply::ok(&PersonalIdentityDto::from(&identity))
        .etag(identity.version)
        .into_response())
}

/// Erases the identity: PII and images removed, an audit tombstone kept.
#[utoipa::path(delete, path = "/api/trust/v1/personal-identities/{id}", tag = "identities",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version to erase")),
    responses(
        (status = 204, description = "Erased"),
        (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found"),
        (status = 412, body = crate::dto::ErrorBody, description = "version_conflict: the identity changed since that ETag"),
    ),
    security(("bearer" = [])))]
#[delete("/personal-identities/{id}")]
pub async fn delete_person(
    state: State,
    caller: Writer,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: PersonalIdentityId = path_id(&id, "id")?;
    let expected = if_match(&req)?;
    let (tenant, actor) = (caller.tenant, caller.actor());
    let st = state.clone();
    blocking(move || {
        match st.db.erase_personal_identity(
            tenant,
            id,
            actor,
            expected.as_ref().map(IfMatch::versions),
        ) {
            Err(kyc_store::StoreError::Conflict { .. }) => Err(ApiError::VersionConflict),
            other => Ok(other?),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists personal identities: `filter[field]=value|like:x|in:a,b|nin:a,b`, `sort`, `page[size]`,
/// `page[number]`, `all=true`.
#[utoipa::path(get, path = "/api/trust/v1/personal-identities", tag = "identities",
    params(
        ("filter[id]" = Option<String>, Query, description = "value, in:a,b or nin:a,b"),
        ("filter[email]" = Option<String>, Query, description = "value, like:x, in:a,b or nin:a,b"),
        ("filter[firstName]" = Option<String>, Query, description = "value, like:x, in:a,b or nin:a,b"),
        ("filter[lastName]" = Option<String>, Query, description = "value, like:x, in:a,b or nin:a,b"),
        ("filter[name]" = Option<String>, Query, description = "first, last or full name, ignoring case: value, like:x, in:a,b or nin:a,b"),
        ("filter[kycLevel]" = Option<String>, Query, description = "L0, L1 or L2: value, in:a,b or nin:a,b"),
        ("filter[reviewStatus]" = Option<String>, Query, description = "none, pending, approved, rejected or informationRequested: value, in:a,b or nin:a,b"),
        ("filter[blocked]" = Option<bool>, Query, description = "true or false"),
        ("filter[containerId]" = Option<String>, Query, description = "value, in:a,b or nin:a,b"),
        ("filter[type]" = Option<String>, Query, description = "person (every identity here) or company (none)"),
        ("sort" = Option<String>, Query, description = "createdAt, -createdAt, updatedAt or -updatedAt"),
        ("page[size]" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 30"),
        ("page[number]" = Option<u64>, Query, minimum = 1, maximum = 4294967295_f64, description = "from 1"),
        ("all" = Option<bool>, Query, description = "every match, capped"),
    ),
    responses((status = 200, body = PageBody<PersonalIdentityDto>, description = "A page of identities with the total count"), (status = 400, body = crate::dto::ErrorBody, description = "validation_failed: an unknown filter, operator or value")),
    security(("bearer" = [])))]
#[get("/personal-identities")]
pub async fn list_people(
    state: State,
    caller: Reader,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = list_query(Listing::Persons, req.query_string())?;
    let tenant = caller.tenant;
    let st = state.clone();
    let page = read(&state, move || {
        Ok(st
            .db
            .run(|conn| personal::list(conn, st.db.keys(), tenant, &query))?)
    })
    .await?;
    let body = PageBody {
        data: page.items.iter().map(PersonalIdentityDto::from).collect(),
        meta: page_meta(page.request, page.total, page.items.len()),
    };
    Ok(Reply::ok(&body).into_response())
}

/// Loads an identity of `tenant`, runs the tier engine over it and renders the evaluation.
async fn evaluated<T: serde::Serialize + Send + 'static>(
    state: State,
    tenant: kyc_model::TenantId,
    raw_id: &str,
    render: impl FnOnce(PersonalIdentityId, &kyc_tiers::Evaluation<'_>) -> T + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let id: PersonalIdentityId = path_id(raw_id, "id")?;
    let st = state.clone();
    let body = read(&state, move || {
        let record = st.db.run(|conn| Record::load(conn, &st, tenant, id))?;
        Ok(render(id, &record.evaluate(&st)))
    })
    .await?;
    Ok(Reply::ok(&body).into_response())
}

/// The KYC processes (Uphold's overview): a summary status and one entry per process.
#[utoipa::path(get, path = "/api/trust/v1/personal-identities/{id}/kyc", tag = "kyc",
    params(("id" = String, Path)),
    responses((status = 200, body = KycOverviewDto, description = "summary.status and the processes"), (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found")),
    security(("bearer" = [])))]
#[get("/personal-identities/{id}/kyc")]
pub async fn get_kyc(
    state: State,
    caller: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    evaluated(state, caller.tenant, &id, |id, evaluation| KycOverviewDto {
        identity_id: id.to_string(),
        kyc_level: evaluation.level(),
        summary: KycSummaryDto {
            status: evaluation.summary(),
        },
        processes: evaluation
            .processes()
            .iter()
            .map(|report| (wire_name(report.name), ProcessDto::from(report)))
            .collect(),
    })
    .await
}

/// Per-product eligibility (Crossmint): may this user use each product yet?
#[utoipa::path(get, path = "/api/trust/v1/personal-identities/{id}/eligibility", tag = "kyc",
    params(("id" = String, Path)),
    responses((status = 200, body = EligibilityOverviewDto, description = "One entry per product of the policy"), (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found")),
    security(("bearer" = [])))]
#[get("/personal-identities/{id}/eligibility")]
pub async fn get_eligibility(
    state: State,
    caller: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    evaluated(state, caller.tenant, &id, |id, evaluation| {
        EligibilityOverviewDto {
            identity_id: id.to_string(),
            kyc_level: evaluation.level(),
            eligibility: evaluation
                .eligibility()
                .iter()
                .map(EligibilityDto::from)
                .collect(),
        }
    })
    .await
}

/// The audit trail of an identity: who changed which fields when, never the values.
#[utoipa::path(get, path = "/api/trust/v1/personal-identities/{id}/events", tag = "kyc",
    params(
        ("id" = String, Path),
        ("page[size]" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100; without paging parameters, every event (capped)"),
        ("page[number]" = Option<u64>, Query, minimum = 1, maximum = 4294967295_f64, description = "from 1"),
        ("all" = Option<bool>, Query, description = "every event, capped"),
    ),
    responses((status = 200, body = PageBody<AuditEventDto>, description = "Audit events, oldest first, with the total count"), (status = 400, body = crate::dto::ErrorBody, description = "validation_failed: a bad page parameter"), (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found: no such identity of this tenant (an erased identity keeps its trail, which ends with the identity_erased tombstone)")),
    security(("bearer" = [])))]
#[get("/personal-identities/{id}/events")]
pub async fn get_events(
    state: State,
    caller: Reader,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: PersonalIdentityId = path_id(&id, "id")?;
    let request = match req.query_string() {
        "" => PageRequest::All,
        query => page_request(query)?,
    };
    let tenant = caller.tenant;
    let st = state.clone();
    let events = read(&state, move || {
        st.db.run(|conn| {
            let page = audit::list_for_identity(conn, tenant, id, request)?;
            // An erased identity keeps its trail; one that never existed here has none.
            if page.total == 0 {
                personal::find(conn, st.db.keys(), tenant, id)?;
            }
            Ok::<_, ApiError>(page)
        })
    })
    .await?;
    let data: Vec<AuditEventDto> = events.items.iter().map(AuditEventDto::from).collect();
    let meta = page_meta(events.request, events.total, data.len());
    Ok(Reply::ok(&PageBody { data, meta }).into_response())
}

/// Re-runs the KYC check on the identity's current data. The body is empty or `{}`: the check
/// takes no parameters.
#[utoipa::path(post, path = "/api/trust/v1/personal-identities/{id}/kyc-checks", tag = "kyc",
    params(("id" = String, Path)),
    responses(
        (status = 201, body = KycCheckRunDto, description = "The check and the identity after it"),
        (status = 400, body = crate::dto::ErrorBody, description = "invalid_json, or validation_failed (unknown_field) for a body other than {}"),
        (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found"),
    ),
    security(("bearer" = [])))]
#[post("/personal-identities/{id}/kyc-checks")]
pub async fn run_kyc_check(
    state: State,
    caller: Writer,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id: PersonalIdentityId = path_id(&id, "id")?;
    if !body.is_empty() {
        no_fields(&json_body(&body)?)?;
    }
    let caller = caller.0;
    idempotency::run(
        &state,
        &caller,
        &req,
        &body,
        |_| Some(id.to_string()),
        || async {
            let (tenant, actor) = (caller.tenant, caller.actor());
            let st = state.clone();
            let (check, identity) = blocking(move || {
                st.db.write(|conn| {
                    Unit::run(conn, |unit| {
                        workflow::recheck_person(unit, &st, tenant, actor, id)
                    })
                })
            })
            .await?;
            let body = KycCheckRunDto {
                check: KycCheckDto::from(&check),
                identity: PersonalIdentityDto::from(&identity),
            };
            Ok(Reply::json(actix_web::http::StatusCode::CREATED, &body).etag(identity.version))
        },
    )
    .await
}
