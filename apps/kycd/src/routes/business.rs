//! Business identities (companies), each owned by a personal identity of the same tenant.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use kyc_model::{
    Actor, AuditAction, BusinessIdentity, BusinessIdentityId, EventType, PersonalIdentityId,
    TenantId,
};
use kyc_store::{DbConnection, audit, business, list::Listing, personal};
use serde_json::json;

use crate::{
    auth::{Reader, Writer},
    dto::{BusinessIdentityDto, PageBody},
    error::ApiError,
    idempotency,
    reply::{Reply, if_match},
    routes::common::{BASE, json_body, list_query, page_meta, path_id, retry_conflicts},
    state::{AppState, blocking, read},
    workflow::Unit,
};

type State = web::Data<AppState>;

/// The owner must be a live personal identity of the tenant: a company id is `422`, anything
/// else `404` (seed 001).
fn check_owner(
    conn: &mut DbConnection,
    tenant: TenantId,
    owner: PersonalIdentityId,
) -> Result<(), ApiError> {
    if personal::exists(conn, tenant, owner)? {
        return Ok(());
    }
    if business::exists(conn, tenant, *owner.as_uuid())? {
        return Err(ApiError::Unprocessable {
            code: "identity_owner_must_be_of_type_person",
            message: "The identityOwner must be a personal identity, not a business.".into(),
            details: None,
        });
    }
    Err(ApiError::not_found(
        "identity_owner_not_found",
        "The identityOwner is not a personal identity of this tenant.",
    ))
}

fn audit_company(
    conn: &mut Unit<'_>,
    company: &BusinessIdentity,
    actor: Actor,
    action: AuditAction,
    fields: &[&str],
) {
    conn.audit(audit::NewAuditEvent {
        tenant_id: company.tenant_id,
        identity_id: None,
        business_id: Some(company.id),
        document_id: None,
        actor,
        action,
        fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        level_change: None,
    });
}

/// Creates a company owned by a personal identity; it joins the owner's container.
#[utoipa::path(post, path = "/api/trust/v1/business-identities", tag = "identities",
    request_body = crate::dto::CreateBusinessRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    responses(
        (status = 201, body = BusinessIdentityDto, headers(("Location" = String, description = "The created resource's URL"))),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed or invalid_json"),
        (status = 404, body = crate::dto::ErrorBody, description = "identity_owner_not_found"),
        (status = 409, body = crate::dto::ErrorBody, description = "email_already_in_use"),
        (status = 422, body = crate::dto::ErrorBody, description = "identity_owner_must_be_of_type_person"),
    ),
    security(("bearer" = [])))]
#[post("/business-identities")]
pub async fn create_business(
    state: State,
    caller: Writer,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let location = |reply: &Reply| {
        serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("id")?.as_str().map(str::to_owned))
    };
    idempotency::run(&state, &caller, &req, &body, location, || async {
        let data = kyc_rules::parse_business_create(&json_body(&body)?)?;
        let (tenant, actor) = (caller.tenant, caller.actor());
        let st = state.clone();
        let company = blocking(move || {
            st.db.write(|conn| Unit::run(conn, |conn| {
                check_owner(conn, tenant, data.identity_owner)?;
                let company = business::insert(
                    conn,
                    st.db.keys(),
                    &business::NewBusinessIdentity { tenant_id: tenant, data },
                )?;
                audit_company(conn, &company, actor, AuditAction::IdentityCreated, &kyc_rules::BUSINESS_FIELDS);
                conn.emit(
                    tenant,
                    EventType::IdentityCreated,
                    json!({ "businessId": company.id, "containerId": company.container_id, "type": "company" }),
                );
                Ok::<_, ApiError>(company)
            }))
        })
        .await?;
        Ok(Reply::created(
            &BusinessIdentityDto::from(&company),
            format!("{BASE}/business-identities/{}", company.id),
        )
        .etag(company.version))
    })
    .await
}

/// Lists the tenant's companies: seed 001's filters that apply to a company, sorts and pages.
#[utoipa::path(get, path = "/api/trust/v1/business-identities", tag = "identities",
    params(
        ("filter[id]" = Option<String>, Query, description = "value, in:a,b or nin:a,b"),
        ("filter[email]" = Option<String>, Query, description = "value, like:x, in:a,b or nin:a,b"),
        ("filter[name]" = Option<String>, Query, description = "legal name, ignoring case: value, like:x, in:a,b or nin:a,b"),
        ("filter[containerId]" = Option<String>, Query, description = "value, in:a,b or nin:a,b"),
        ("filter[identityOwner]" = Option<String>, Query, description = "the owner's id: value, in:a,b or nin:a,b"),
        ("filter[type]" = Option<String>, Query, description = "company (every company) or person (none)"),
        ("sort" = Option<String>, Query, description = "createdAt, -createdAt (default), updatedAt, -updatedAt"),
        ("page[size]" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 30"),
        ("page[number]" = Option<u64>, Query, minimum = 1, maximum = 4294967295_f64, description = "from 1"),
        ("all" = Option<bool>, Query, description = "every match, capped"),
    ),
    responses(
        (status = 200, body = PageBody<BusinessIdentityDto>, description = "A page of companies with the total count"),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed: an unknown filter, operator or value"),
    ),
    security(("bearer" = [])))]
#[get("/business-identities")]
pub async fn list_businesses(
    state: State,
    caller: Reader,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = list_query(Listing::Companies, req.query_string())?;
    let tenant = caller.tenant;
    let st = state.clone();
    let page = read(&state, move || {
        Ok(st
            .db
            .run(|conn| business::list(conn, st.db.keys(), tenant, &query))?)
    })
    .await?;
    let body = PageBody {
        data: page.items.iter().map(BusinessIdentityDto::from).collect(),
        meta: page_meta(page.request, page.total, page.items.len()),
    };
    Ok(Reply::ok(&body).into_response())
}

/// One company.
#[utoipa::path(get, path = "/api/trust/v1/business-identities/{id}", tag = "identities",
    params(("id" = String, Path)),
    responses((status = 200, body = BusinessIdentityDto), (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found")),
    security(("bearer" = [])))]
#[get("/business-identities/{id}")]
pub async fn get_business(
    state: State,
    caller: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: BusinessIdentityId = path_id(&id, "id")?;
    let tenant = caller.tenant;
    let st = state.clone();
    let company = read(&state, move || {
        Ok(st
            .db
            .run(|conn| business::find(conn, st.db.keys(), tenant, id))?)
    })
    .await?;
    Ok(Reply::ok(&BusinessIdentityDto::from(&company))
        .etag(company.version)
        .into_response())
}

/// Partial update of a company. `If-Match` makes it conditional.
#[utoipa::path(patch, path = "/api/trust/v1/business-identities/{id}", tag = "identities",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version the change is based on")),
    request_body = crate::dto::PatchBusinessRequest,
    responses(
        (status = 200, body = BusinessIdentityDto),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed (including empty_patch for {}) or invalid_json"),
        (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found, or identity_owner_not_found for a new owner"),
        (status = 409, body = crate::dto::ErrorBody, description = "email_already_in_use"),
        (status = 412, body = crate::dto::ErrorBody, description = "version_conflict"),
        (status = 422, body = crate::dto::ErrorBody, description = "identity_owner_must_be_of_type_person"),
    ),
    security(("bearer" = [])))]
#[patch("/business-identities/{id}")]
pub async fn patch_business(
    state: State,
    caller: Writer,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id: BusinessIdentityId = path_id(&id, "id")?;
    let expected = if_match(&req)?;
    let patch = kyc_rules::parse_business_patch(&json_body(&body)?)?;
    let (tenant, actor) = (caller.tenant, caller.actor());
    let st = state.clone();
    let company = blocking(move || {
        retry_conflicts(expected.is_some(), || {
            st.db.write(|conn| {
                Unit::run(conn, |conn| {
                    business::lock(conn, tenant, id)?;
                    let current = business::find(conn, st.db.keys(), tenant, id)?;
                    if expected
                        .as_ref()
                        .is_some_and(|e| !e.admits(current.version))
                    {
                        return Err(ApiError::VersionConflict);
                    }
                    let data = patch.apply(&current.data)?;
                    if data.identity_owner != current.data.identity_owner {
                        check_owner(conn, tenant, data.identity_owner)?;
                    }
                    let changed = patch.changed_fields();
                    let company = business::update(
                        conn,
                        st.db.keys(),
                        &BusinessIdentity { data, ..current },
                    )?;
                    audit_company(
                        conn,
                        &company,
                        actor,
                        AuditAction::IdentityUpdated,
                        &changed,
                    );
                    conn.emit(
                        tenant,
                        EventType::IdentityUpdated,
                        json!({ "businessId": company.id, "changedFields": changed }),
                    );
                    Ok(company)
                })
            })
        })
    })
    .await?;
    Ok(Reply::ok(&BusinessIdentityDto::from(&company))
        .etag(company.version)
        .into_response())
}
