//! `PUT /kycs`: start a KYC session (Kulipa) for a person: `full`, `shipping`, `rfi`, or
//! `import` of a provider's verified result (Uphold's `output`).

use actix_web::{HttpRequest, HttpResponse, put, web};

use crate::{
    auth::Writer,
    error::ApiError,
    idempotency,
    reply::Reply,
    routes::common::json_body,
    state::{AppState, blocking},
    workflow::{self, Unit},
};

/// Starts a KYC session. kycd hosts no web view: the answer says what the session must
/// collect (`missingData`, `missingDocuments`) and, for an import, whether the provider's
/// verification was accepted (`import.status`), which the identity's `identity` process and
/// level reflect at once.
#[utoipa::path(put, path = "/api/trust/v1/kycs", tag = "kyc",
    request_body(content = crate::dto::KycSessionRequestDto, description = "userId is an identity id or `usr-` + UUIDv4; output only for type import"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    responses(
        (status = 200, body = crate::dto::KycSessionDto),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed"),
        (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found"),
        (status = 409, body = crate::dto::ErrorBody, description = "document_attempts_exhausted: an import after three rejected documents"),
    ),
    security(("bearer" = [])))]
#[put("/kycs")]
pub async fn start_session(
    state: web::Data<AppState>,
    caller: Writer,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let identity_of = |reply: &Reply| {
        serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("identityId")?.as_str().map(str::to_owned))
    };
    idempotency::run(&state, &caller, &req, &body, identity_of, || async {
        let request = kyc_rules::parse_kyc_session(&json_body(&body)?)?;
        let (tenant, actor) = (caller.tenant, caller.actor());
        let st = state.clone();
        let session = blocking(move || {
            st.db.write(|conn| {
                Unit::run(conn, |unit| {
                    workflow::start_session(unit, &st, tenant, actor, &request)
                })
            })
        })
        .await?;
        Ok(Reply::ok(&session))
    })
    .await
}
