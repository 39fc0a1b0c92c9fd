//! Sandbox-only routes (SPEC §7; seed 001's simulate): force an identity's KYC outcome. They
//! match only in sandbox mode; in production the request falls through to the same 404 as any
//! unknown route.

use actix_web::{HttpRequest, HttpResponse, guard::GuardContext, post, web};
use kyc_model::{KycLevel, PersonalIdentityId};
use kyc_rules::Violation;

use crate::{
    auth::Writer,
    dto::PersonalIdentityDto,
    error::ApiError,
    idempotency,
    reply::Reply,
    routes::common::{field_or_alias, json_body, path_id, violation},
    state::{AppState, blocking},
    workflow::{self, Simulation, Unit},
};

type State = web::Data<AppState>;

/// Route guard: sandbox mode only.
fn sandbox_mode(ctx: &GuardContext<'_>) -> bool {
    ctx.app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.sandbox())
}

/// Parses `{"action": "approve" | "reject", "level"?: "L1" | "L2"}` (`decision` is accepted
/// for `action`, as the review route accepts `action` for `decision`), listing every violation.
fn parse_simulation(value: &serde_json::Value) -> Result<Simulation, ApiError> {
    let fail =
        |v: Vec<Violation>| ApiError::Validation(serde_json::to_value(v).unwrap_or_default());
    let Some(object) = value.as_object() else {
        return Err(fail(vec![violation("", "type", "must be a JSON object")]));
    };
    let mut violations = Vec::new();
    for key in object.keys() {
        if !matches!(key.as_str(), "action" | "decision" | "level") {
            let shown: String = key.chars().take(64).collect();
            violations.push(violation(&shown, "unknown_field", "is not a known field"));
        }
    }
    let (name, both) = field_or_alias(object, "action", "decision");
    if both {
        violations.push(violation("decision", "duplicate", "repeats action"));
    }
    let action = match object.get(name) {
        None | Some(serde_json::Value::Null) => {
            violations.push(violation(name, "required", "is required"));
            None
        }
        Some(serde_json::Value::String(a)) if a == "approve" || a == "reject" => Some(a.as_str()),
        Some(_) => {
            violations.push(violation(name, "enum", "must be approve or reject"));
            None
        }
    };
    let level = match object.get("level") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(l)) if l == "L1" || l == "L2" => KycLevel::from_name(l),
        Some(_) => {
            violations.push(violation("level", "enum", "must be L1 or L2"));
            None
        }
    };
    if action == Some("reject") && level.is_some() {
        violations.push(violation("level", "not_allowed", "applies to approve only"));
    }
    if !violations.is_empty() {
        violations.sort();
        return Err(fail(violations));
    }
    match action {
        Some("reject") => Ok(Simulation::Reject),
        _ => Ok(Simulation::Approve(level)),
    }
}

/// Sandbox only: forces the identity's KYC outcome, deterministically, through the same
/// mechanisms a compliance reviewer uses, so the level, the audit trail and the webhooks behave
/// as they would in production.
#[utoipa::path(post, path = "/api/trust/v1/sandbox/personal-identities/{id}/simulate", tag = "sandbox",
    description = "Sandbox mode only (404 in production).\n\n- `approve`: records an identity review decided `approve` at `level` (default: the highest level of the identity's ladder, L2 in the default policy). The approval vouches for that level's fields and documents until the identity's KYC data next changes (the next KYC check ends it), exactly like a reviewer's.\n- `reject`: records a KYC check by the verifier `sandbox-simulate` that fails every present field as `fraud`, then an identity review decided `reject` (reason `fraud`), which caps the level where it then stands (L0) until a later approval; every product's eligibility becomes `rejected`.\n\nA pending identity review is decided rather than left in the queue. Returns the identity after the change.",
    params(
        ("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h"),
    ),
    request_body = crate::dto::SimulateRequest,
    responses(
        (status = 200, body = PersonalIdentityDto),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed or invalid_json"),
        (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found, or not_found outside sandbox mode"),
        (status = 422, body = crate::dto::ErrorBody, description = "level_not_available (e.g. L1 for an international identity)"),
    ),
    security(("bearer" = [])))]
#[post("/sandbox/personal-identities/{id}/simulate", guard = "sandbox_mode")]
pub async fn simulate(
    state: State,
    caller: Writer,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id: PersonalIdentityId = path_id(&id, "id")?;
    let simulation = parse_simulation(&json_body(&body)?)?;
    let caller = caller.0;
    let (st, tenant, key) = (state.clone(), caller.tenant, caller.key_id);
    idempotency::run(
        &state,
        &caller,
        &req,
        &body,
        |_| Some(id.to_string()),
        move || async move {
            let identity = blocking(move || {
                st.db.write(|conn| {
                    Unit::run(conn, |unit| {
                        workflow::simulate_person(unit, &st, tenant, key, id, simulation)
                    })
                })
            })
            .await?;
            Ok(Reply::ok(&PersonalIdentityDto::from(&identity)).etag(identity.version))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules(err: ApiError) -> Vec<(String, String)> {
        let ApiError::Validation(details) = err else {
            panic!("not a validation error: {err:?}");
        };
        let mut found: Vec<(String, String)> = details
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["field"].as_str().unwrap().to_owned(),
                    v["rule"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn simulations_parse() {
        assert_eq!(
            parse_simulation(&json!({"action": "approve"})).unwrap(),
            Simulation::Approve(None)
        );
        assert_eq!(
            parse_simulation(&json!({"action": "approve", "level": "L1"})).unwrap(),
            Simulation::Approve(Some(KycLevel::L1))
        );
        assert_eq!(
            parse_simulation(&json!({"action": "reject", "level": null})).unwrap(),
            Simulation::Reject
        );
    }

    #[test]
    fn bad_simulations_list_every_violation() {
        let err = parse_simulation(&json!({"action": "bless", "level": "L3", "x": 1})).unwrap_err();
        assert_eq!(
            rules(err),
            [
                ("action".to_owned(), "enum".to_owned()),
                ("level".to_owned(), "enum".to_owned()),
                ("x".to_owned(), "unknown_field".to_owned()),
            ]
        );
        let err = parse_simulation(&json!({"level": "L2"})).unwrap_err();
        assert_eq!(rules(err), [("action".to_owned(), "required".to_owned())]);
        let err = parse_simulation(&json!({"action": "reject", "level": "L2"})).unwrap_err();
        assert_eq!(rules(err), [("level".to_owned(), "not_allowed".to_owned())]);
        let err = parse_simulation(&json!(["approve"])).unwrap_err();
        assert_eq!(rules(err), [(String::new(), "type".to_owned())]);
    }
}
