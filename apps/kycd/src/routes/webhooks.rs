//! Webhook configuration and the delivery log (SPEC §8, docs/webhooks.md). The worker that
//! delivers is `crate::delivery`.

use std::net::IpAddr;

use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, put, web};
use kyc_model::{EventId, EventType};
use kyc_store::webhooks::{self, WebhookConfig, WebhookConfigInput};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::{
    auth::{Reader, Writer},
    cli::Mode,
    delivery,
    dto::{PageBody, rfc3339},
    error::{ApiError, violation},
    idempotency,
    reply::Reply,
    routes::common::{json_body, page_meta, page_request},
    state::{AppState, blocking, read},
};

type State = web::Data<AppState>;

/// The longest webhook URL accepted.
const MAX_URL_LEN: usize = 2048;

/// `PUT /webhook-config` body. A PUT replaces the configuration: omitted fields take their
/// defaults. The signing secret is kept unless `rotateSecret` is true.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookConfigRequest {
    /// An absolute `https` URL (`http` too in sandbox mode), without credentials.
    #[schema(example = "https://hooks.example.com/kycd")]
    pub url: String,
    /// Default `true`. While `false`, events are not delivered (they are dropped, not queued).
    pub enabled: Option<bool>,
    /// The event types to deliver; default all five.
    #[schema(example = json!(["identity.created", "kyc.level_changed"]))]
    pub event_types: Option<Vec<String>>,
    /// Replace the signing secret; the new one is returned in this response only.
    pub rotate_secret: Option<bool>,
}

/// A tenant's webhook configuration. `secret` appears only in the response of the `PUT` that
/// created or rotated it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfigDto {
    pub url: String,
    pub enabled: bool,
    #[schema(example = json!(["identity.created", "identity.updated", "kyc.level_changed", "document.status_changed", "review.required"]))]
    pub event_types: Vec<String>,
    /// `whsec_` and base64 of 32 random bytes: the HMAC-SHA256 key is the decoded base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookConfigDto {
    fn new(config: &WebhookConfig, show_secret: bool) -> Self {
        Self {
            url: config.url.clone(),
            enabled: config.enabled,
            event_types: config
                .event_types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            secret: show_secret.then(|| config.secret.as_str().to_owned()),
            created_at: rfc3339(config.created_at),
            updated_at: rfc3339(config.updated_at),
        }
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryDto {
    pub id: String,
    /// The event, also sent as the `webhook-id` header.
    pub event_id: String,
    #[schema(example = "kyc.level_changed")]
    pub event_type: Option<String>,
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// `http_error`, `timeout`, `connection_failed` or `request_failed`; absent on success.
    pub error: Option<String>,
    pub duration_ms: i64,
    pub attempted_at: String,
}

/// Whether a host is an address that a production server must not be pointed at by a tenant:
/// loopback, private, link-local or unspecified (a cloud metadata endpoint, an internal admin
/// port). Names are not resolved here; egress filtering covers names that resolve inside.
fn internal_host(host: &str) -> bool {
    let ip = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        Ok(ip) => ip,
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            return name == "localhost" || name.ends_with(".localhost");
        }
    };
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64)
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                // fc00::/7 unique local, fe80::/10 link-local.
                || (v6.segments()[0] & 0xFE00) == 0xFC00
                || (v6.segments()[0] & 0xFFC0) == 0xFE80
        }
    }
}

/// Checks a webhook URL: absolute, `https` (or `http` in sandbox mode), a host, no
/// credentials, and in production not an internal address.
fn check_url(raw: &str, mode: Mode, violations: &mut Vec<Value>) -> Option<String> {
    let field = "url";
    if raw.len() > MAX_URL_LEN {
        violations.push(violation(
            field,
            "max_length",
            "must be at most 2048 characters",
        ));
        return None;
    }
    // The URL parser drops tabs and line breaks and trims spaces; such a URL is refused
    // rather than stored in a form other than the one that was checked.
    let clean = !raw.chars().any(|c| c.is_control() || c.is_whitespace());
    let Some(url) = reqwest::Url::parse(raw).ok().filter(|_| clean) else {
        violations.push(violation(field, "url", "must be an absolute http(s) URL"));
        return None;
    };
    let Some(host) = url.host_str() else {
        violations.push(violation(field, "url", "must be an absolute http(s) URL"));
        return None;
    };
    match (url.scheme(), mode) {
        ("https", _) | ("http", Mode::Sandbox) => {}
        ("http", Mode::Production) => {
            violations.push(violation(
                field,
                "https_required",
                "must use https in production mode",
            ));
            return None;
        }
        _ => {
            violations.push(violation(field, "url", "must be an absolute http(s) URL"));
            return None;
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        violations.push(violation(
            field,
            "no_credentials",
            "must not carry credentials; verify deliveries with the signing secret",
        ));
        return None;
    }
    if mode == Mode::Production && internal_host(host) {
        violations.push(violation(
            field,
            "public_host",
            "must not point at a loopback, private or link-local address in production mode",
        ));
        return None;
    }
    // Stored as given (it parsed), so it reads back as the integrator wrote it.
    Some(raw.to_owned())
}

/// What a valid `PUT /webhook-config` asks for.
#[derive(Debug)]
struct ConfigChange {
    url: String,
    enabled: bool,
    event_types: Vec<EventType>,
    rotate_secret: bool,
}

/// Reads the body field by field, so that every violation is reported at once and unknown
/// fields are refused by name (never by quoting a value).
fn parse_config(body: &Value, mode: Mode) -> Result<ConfigChange, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::Validation(json!([violation(
            "",
            "type",
            "must be a JSON object"
        )])));
    };
    let mut violations = Vec::new();
    for key in object.keys() {
        if !["url", "enabled", "eventTypes", "rotateSecret"].contains(&key.as_str()) {
            violations.push(violation(
                key,
                "unknown_field",
                "is not a field of this request",
            ));
        }
    }
    let url = match object.get("url") {
        None | Some(Value::Null) => {
            violations.push(violation("url", "required", "is required"));
            None
        }
        Some(Value::String(raw)) => check_url(raw, mode, &mut violations),
        Some(_) => {
            violations.push(violation("url", "type", "must be a string"));
            None
        }
    };
    let mut flag = |name: &str, default: bool| match object.get(name) {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            violations.push(violation(name, "type", "must be true or false"));
            default
        }
    };
    let enabled = flag("enabled", true);
    let rotate_secret = flag("rotateSecret", false);
    let event_types = match object.get("eventTypes") {
        None | Some(Value::Null) => EventType::ALL.to_vec(),
        Some(Value::Array(items)) if items.is_empty() => {
            violations.push(violation(
                "eventTypes",
                "min_items",
                "must name at least one event type; set enabled to false to pause deliveries",
            ));
            Vec::new()
        }
        Some(Value::Array(items)) => {
            let mut types = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_str().and_then(EventType::from_name) {
                    Some(t) if !types.contains(&t) => types.push(t),
                    Some(_) => {}
                    None => violations.push(violation(
                        &format!("eventTypes[{i}]"),
                        "enum",
                        "must be one of identity.created, identity.updated, kyc.level_changed, document.status_changed, review.required",
                    )),
                }
            }
            // Stored in a fixed order, so the configuration reads back the same however the
            // request listed them.
            EventType::ALL
                .into_iter()
                .filter(|t| types.contains(t))
                .collect()
        }
        Some(_) => {
            violations.push(violation(
                "eventTypes",
                "type",
                "must be an array of event types",
            ));
            Vec::new()
        }
    };
    match url {
        Some(url) if violations.is_empty() => Ok(ConfigChange {
            url,
            enabled,
            event_types,
            rotate_secret,
        }),
        _ => Err(ApiError::Validation(Value::Array(violations))),
    }
}

/// Creates or replaces the tenant's webhook configuration. The signing secret is created with
/// the configuration and shown in that response only; `rotateSecret: true` replaces it (and
/// shows the new one). `201` when created, `200` when replaced.
#[utoipa::path(put, path = "/api/trust/v1/webhook-config", tag = "webhooks",
    request_body = WebhookConfigRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response (with the secret it showed) for 24 h")),
    responses(
        (status = 200, body = WebhookConfigDto, description = "Replaced; `secret` only when rotated"),
        (status = 201, body = WebhookConfigDto, description = "Created, with the new `secret`"),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed or invalid_json"),
        (status = 422, body = crate::dto::ErrorBody, description = "idempotency_key_reused"),
    ),
    security(("bearer" = [])))]
#[put("/webhook-config")]
pub async fn put_config(
    state: State,
    caller: Writer,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    idempotency::run(&state, &caller, &req, &body, |_| None, || async {
        let change = parse_config(&json_body(&body)?, state.mode)?;
        let tenant = caller.tenant;
        let st = state.clone();
        let (config, created, shown) = blocking(move || {
            st.db.write(|conn| {
                let keys = st.db.keys();
                let existing = webhooks::get_config(conn, keys, tenant)?;
                let created = existing.is_none();
                let fresh = created || change.rotate_secret;
                let secret = match existing {
                    Some(old) if !fresh => old.secret,
                    _ => delivery::new_secret(),
                };
                let input = WebhookConfigInput {
                    url: change.url,
                    enabled: change.enabled,
                    event_types: change.event_types,
                    secret,
                };
                let config = webhooks::put_config(conn, keys, tenant, &input)?;
                Ok::<_, ApiError>((config, created, fresh))
            })
        })
        .await?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        tracing::info!(tenant = %caller.tenant, created, rotated = shown && !created, "webhook configuration saved");
        Ok(Reply::json(status, &WebhookConfigDto::new(&config, shown))
            .header("cache-control", "no-store".to_owned()))
    })
    .await
}

/// The tenant's webhook configuration, without the signing secret.
#[utoipa::path(get, path = "/api/trust/v1/webhook-config", tag = "webhooks",
    responses(
        (status = 200, body = WebhookConfigDto),
        (status = 404, body = crate::dto::ErrorBody, description = "webhook_config_not_found"),
    ),
    security(("bearer" = [])))]
#[get("/webhook-config")]
pub async fn get_config(state: State, caller: Reader) -> Result<HttpResponse, ApiError> {
    let tenant = caller.tenant;
    let st = state.clone();
    let config = read(&state, move || {
        Ok(st
            .db
            .run(|conn| webhooks::get_config(conn, st.db.keys(), tenant))?)
    })
    .await?
    .ok_or(ApiError::not_found(
        "webhook_config_not_found",
        "No webhook configuration: create one with PUT /webhook-config.",
    ))?;
    Ok(Reply::ok(&WebhookConfigDto::new(&config, false)).into_response())
}

/// The delivery log: every attempt to deliver the tenant's events, newest first.
#[utoipa::path(get, path = "/api/trust/v1/webhook-deliveries", tag = "webhooks",
    params(
        ("page[size]" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 30"),
        ("page[number]" = Option<u64>, Query, minimum = 1, maximum = 4294967295_f64, description = "from 1"),
    ),
    responses((status = 200, body = PageBody<WebhookDeliveryDto>), (status = 400, body = crate::dto::ErrorBody, description = "validation_failed: a bad page parameter")),
    security(("bearer" = [])))]
#[get("/webhook-deliveries")]
pub async fn list_deliveries(
    state: State,
    caller: Reader,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = page_request(req.query_string())?;
    let tenant = caller.tenant;
    let st = state.clone();
    let (page, types) = read(&state, move || {
        st.db.run(|conn| {
            let page = webhooks::list_deliveries(conn, tenant, page)?;
            let mut types: Vec<(EventId, EventType)> = Vec::new();
            for d in &page.items {
                if !types.iter().any(|(id, _)| *id == d.event_id) {
                    let event = webhooks::find_event(conn, tenant, d.event_id)?;
                    types.push((d.event_id, event.event_type));
                }
            }
            Ok::<_, ApiError>((page, types))
        })
    })
    .await?;
    let meta = page_meta(page.request, page.total, page.items.len());
    let data = page
        .items
        .iter()
        .map(|d| WebhookDeliveryDto {
            id: d.id.to_string(),
            event_id: d.event_id.to_string(),
            event_type: types
                .iter()
                .find(|(id, _)| *id == d.event_id)
                .map(|(_, t)| t.as_str().to_owned()),
            url: d.url.clone(),
            attempt: d.attempt,
            status_code: d.status_code,
            error: d.error.clone(),
            duration_ms: d.duration_ms,
            attempted_at: rfc3339(d.attempted_at),
        })
        .collect();
    let body = PageBody { data, meta };
    Ok(Reply::ok(&body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(body: Value, mode: Mode) -> Vec<(String, String)> {
        match parse_config(&body, mode) {
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
    fn a_minimal_body_takes_the_defaults() {
        let change = parse_config(
            &json!({ "url": "https://hooks.example.com/k" }),
            Mode::Production,
        )
        .unwrap();
        assert!(change.enabled && !change.rotate_secret);
        assert_eq!(change.event_types, EventType::ALL.to_vec());
        let change = parse_config(
            &json!({ "url": "http://127.0.0.1:9000/", "enabled": false,
                     "eventTypes": ["review.required", "identity.created", "review.required"] }),
            Mode::Sandbox,
        )
        .unwrap();
        assert!(!change.enabled);
        assert_eq!(
            change.event_types,
            vec![EventType::IdentityCreated, EventType::ReviewRequired]
        );
    }

    #[test]
    fn urls_are_checked() {
        let url = |u: &str, mode| rules(json!({ "url": u }), mode);
        assert_eq!(url("not a url", Mode::Sandbox), vec![pair("url", "url")]);
        assert_eq!(
            url("ftp://example.com/x", Mode::Sandbox),
            vec![pair("url", "url")]
        );
        assert_eq!(url("/relative", Mode::Sandbox), vec![pair("url", "url")]);
        // What the parser would drop or trim is refused: the URL stored is the URL checked.
        for raw in [
            "https://x.example/\r\nX-Injected: 1",
            " https://x.example/",
            "https://x.example/a\tb",
        ] {
            assert_eq!(url(raw, Mode::Sandbox), vec![pair("url", "url")], "{raw:?}");
        }
        assert_eq!(
            url("http://hooks.example.com/", Mode::Production),
            vec![pair("url", "https_required")]
        );
        assert!(url("http://hooks.example.com/", Mode::Sandbox).is_empty());
        assert_eq!(
            url("https://user:pw@hooks.example.com/", Mode::Sandbox),
            vec![pair("url", "no_credentials")]
        );
        for internal in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://localhost:8443/",
            "https://100.64.0.1/",
            "https://[::ffff:192.168.0.1]/",
        ] {
            assert_eq!(
                url(internal, Mode::Production),
                vec![pair("url", "public_host")],
                "{internal}"
            );
            assert!(url(internal, Mode::Sandbox).is_empty(), "{internal}");
        }
        assert!(url("https://93.184.216.34/hook", Mode::Production).is_empty());
        assert_eq!(
            url(
                &format!("https://example.com/{}", "a".repeat(2100)),
                Mode::Sandbox
            ),
            vec![pair("url", "max_length")]
        );
    }

    #[test]
    fn every_violation_is_listed_without_values() {
        let found = rules(
            json!({ "enabled": "yes", "eventTypes": ["identity.created", "secret.SSN123"],
                    "rotateSecret": 1, "extra": true }),
            Mode::Sandbox,
        );
        assert_eq!(
            found,
            vec![
                pair("extra", "unknown_field"),
                pair("url", "required"),
                pair("enabled", "type"),
                pair("rotateSecret", "type"),
                pair("eventTypes[1]", "enum"),
            ]
        );
        let err = parse_config(
            &json!({ "url": 5, "eventTypes": ["SSN123"] }),
            Mode::Sandbox,
        )
        .unwrap_err();
        assert!(!format!("{err:?}").contains("SSN123"));
        assert_eq!(
            rules(
                json!({ "url": "https://a.example", "eventTypes": [] }),
                Mode::Sandbox
            ),
            vec![pair("eventTypes", "min_items")]
        );
        assert_eq!(rules(json!([1]), Mode::Sandbox), vec![pair("", "type")]);
    }
}
