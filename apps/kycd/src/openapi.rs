//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa). Served at
//! `/openapi.json`, printed by `kycd openapi`, and committed as `docs/openapi.json`, which CI
//! compares with the generated one.

use std::{collections::BTreeMap, sync::OnceLock};

use utoipa::{
    Modify, OpenApi,
    openapi::{
        HttpMethod, ObjectBuilder, Ref, RefOr, Required, Response,
        header::{Header, HeaderBuilder},
        path::{Operation, ParameterBuilder, ParameterIn},
        schema::{KnownFormat, SchemaFormat, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{dto, routes};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "kycd",
        description = "Self-hosted identity onboarding and tiered KYC. Every error has the shape {\"error\": {\"code\", \"message\", \"details\"?, \"requestId\"}}; every response carries x-request-id.",
        license(name = "Apache-2.0"),
    ),
    paths(
        routes::ops::live,
        routes::ops::ready,
        routes::ops::metrics,
        routes::ops::openapi,
        routes::identities::create_container,
        routes::identities::get_container,
        routes::identities::list_people,
        routes::identities::get_person,
        routes::identities::patch_person,
        routes::identities::delete_person,
        routes::identities::get_kyc,
        routes::identities::get_eligibility,
        routes::identities::get_events,
        routes::identities::run_kyc_check,
        routes::business::create_business,
        routes::business::list_businesses,
        routes::business::get_business,
        routes::business::patch_business,
        routes::sessions::start_session,
        routes::documents::upload_document,
        routes::documents::list_documents,
        routes::documents::get_document,
        routes::documents::presign_url,
        routes::documents::get_image,
        routes::sandbox::simulate,
        routes::reviews::list_reviews,
        routes::reviews::get_review,
        routes::reviews::decide,
        routes::webhooks::put_config,
        routes::webhooks::get_config,
        routes::webhooks::list_deliveries,
    ),
    components(schemas(
        dto::AddressDto,
        dto::DueDiligenceDto,
        dto::PersonalIdentityDto,
        dto::BusinessIdentityDto,
        dto::ContainerDto,
        dto::CreatePersonRequest,
        dto::PatchPersonRequest,
        dto::CreateBusinessRequest,
        dto::PatchBusinessRequest,
        dto::KycSessionRequestDto,
        dto::KycSessionDto,
        dto::ImportResultDto,
        dto::QualityCheckDto,
        dto::IdentitySummaryDto,
        dto::DocumentDto,
        dto::DocumentListDto,
        dto::PresignedUrlDto,
        dto::DocumentUploadForm,
        dto::DocumentUploadJson,
        dto::SimulateRequest,
        dto::ViolationDto,
        dto::ErrorBody,
        dto::ErrorDetail,
        routes::reviews::ReviewDto,
        routes::reviews::ReviewDecisionRequest,
        routes::webhooks::WebhookConfigRequest,
        routes::webhooks::WebhookConfigDto,
    )),
    modifiers(&Conventions),
    tags(
        (name = "identities", description = "Identity containers, personal and business identities"),
        (name = "kyc", description = "KYC processes, eligibility, checks and the audit trail"),
        (name = "documents", description = "Proof-of-identity uploads, quality checks and presigned image links"),
        (name = "sandbox", description = "Sandbox mode only: force KYC outcomes"),
        (name = "reviews", description = "The compliance review queue (operator keys)"),
        (name = "webhooks", description = "Webhook configuration and the delivery log; see docs/webhooks.md for payloads and signatures"),
        (name = "operations", description = "Health probes, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// The bearer scheme, and what the server's conventions give every operation
/// ([`document_conventions`]).
struct Conventions;

/// What every operation behind a key may answer: shared responses, referred to from each
/// operation rather than written on each handler.
const KEY_CHECKS: [(&str, &str, &str); 3] = [
    (
        "401",
        "Unauthorized",
        "unauthorized: no key, or not a valid one",
    ),
    (
        "403",
        "Forbidden",
        "forbidden: the key's role may not use this operation",
    ),
    (
        "429",
        "RateLimited",
        "rate_limited: this key's request rate is exceeded; see Retry-After",
    ),
];

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for (_, name, description) in KEY_CHECKS {
            components
                .responses
                .insert(name.to_owned(), error_response(description));
        }
        components.responses.insert(
            "PayloadTooLarge".to_owned(),
            error_response("payload_too_large: the body is over the operation's limit"),
        );
        if let Some(RefOr::T(limited)) = components.responses.get_mut("RateLimited") {
            limited.headers.insert(
                "Retry-After".to_owned(),
                header("Seconds to wait before the key may call again"),
            );
        }
        for response in components.responses.values_mut() {
            if let RefOr::T(response) = response {
                add_request_id(response);
            }
        }
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Delete, &mut item.delete),
                (HttpMethod::Patch, &mut item.patch),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation.as_mut() {
                    document_conventions(path, &method, operation);
                }
            }
        }
    }
}

/// Adds to `operation` what the server's conventions (SPEC §6) give every operation of its
/// kind, so that no handler can forget one: the key checks, `400` for a path id that is not a
/// UUID, the body limit, `Idempotency-Key` on POST and PUT, and the headers every response
/// carries (`x-request-id`; `ETag` on a success with a body).
fn document_conventions(path: &str, method: &HttpMethod, operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response {
            add_request_id(response);
            if response.description.is_empty() {
                let reason = status
                    .parse()
                    .ok()
                    .and_then(|code| actix_web::http::StatusCode::from_u16(code).ok())
                    .and_then(|code| code.canonical_reason());
                response.description = reason.unwrap_or_default().to_owned();
            }
        }
    }
    for parameter in operation.parameters.iter_mut().flatten() {
        if matches!(parameter.parameter_in, ParameterIn::Path) && parameter.name == "id" {
            parameter
                .description
                .get_or_insert_with(|| "The resource's id, a UUID".to_owned());
            parameter.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .into(),
            );
        }
    }
    if operation.security.as_ref().is_none_or(Vec::is_empty) {
        return;
    }
    for (status, name, _) in KEY_CHECKS {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| shared(name));
    }
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response
            && status.starts_with('2')
            && !response.content.is_empty()
        {
            response
                .headers
                .entry("ETag".to_owned())
                .or_insert_with(|| {
                    header(
                        "The version (\"v3\") of a versioned resource, else a weak tag of the body",
                    )
                });
        }
    }
    if path.contains('{') {
        mention(
            responses,
            "400",
            "UUID",
            "validation_failed (rule uuid) for a path id that is not a UUID",
        );
    }
    let writes = matches!(method, HttpMethod::Post | HttpMethod::Put);
    if writes || matches!(method, HttpMethod::Patch) {
        responses
            .entry("413".to_owned())
            .or_insert_with(|| shared("PayloadTooLarge"));
        if operation
            .request_body
            .as_ref()
            .is_some_and(|body| body.content.contains_key("application/json"))
        {
            mention(responses, "400", "invalid_json", "invalid_json");
        }
    }
    if writes {
        mention(
            responses,
            "422",
            "idempotency_key_reused",
            "idempotency_key_reused: the Idempotency-Key was used with another body",
        );
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        if !parameters.iter().any(|p| p.name == "Idempotency-Key") {
            parameters.push(
                ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some("Replays the first response for 24 h"))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            );
        }
    }
}

/// Adds `text` to the description of `status`'s error response unless it already names
/// `needle`, adding the response if the operation has none.
fn mention(
    responses: &mut BTreeMap<String, RefOr<Response>>,
    status: &str,
    needle: &str,
    text: &str,
) {
    match responses.get_mut(status) {
        Some(RefOr::T(response)) if !response.description.contains(needle) => {
            response.description = if response.description.is_empty() {
                text.to_owned()
            } else {
                format!("{}; or {text}", response.description)
            };
        }
        Some(_) => {}
        None => {
            let mut response = error_response(text);
            if let RefOr::T(response) = &mut response {
                add_request_id(response);
            }
            responses.insert(status.to_owned(), response);
        }
    }
}

fn shared(name: &str) -> RefOr<Response> {
    Ref::new(format!("#/components/responses/{name}")).into()
}

fn header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

fn add_request_id(response: &mut Response) {
    response.headers.insert(
        "x-request-id".to_owned(),
        header("The request's id, also in the logs and in an error's requestId"),
    );
}

/// A response in the error shape.
fn error_response(description: &str) -> RefOr<Response> {
    use utoipa::openapi::{ContentBuilder, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// The document as pretty JSON, with a trailing newline (as committed).
pub fn json() -> String {
    served_json(true)
}

/// The document a server serves, as [`json`] prints it: in production mode without the
/// sandbox routes and their tag (those routes answer 404 there).
pub fn served_json(sandbox: bool) -> String {
    let mut text = served(sandbox)
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// The API reference (docs/api.md) of [`served_json`]'s document.
pub fn served_reference(sandbox: bool) -> String {
    let doc = serde_json::to_value(served(sandbox)).unwrap_or_default();
    crate::reference::markdown(&doc)
}

/// The document a server in this mode serves.
fn served(sandbox: bool) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    if !sandbox {
        doc.paths
            .paths
            .retain(|path, _| !path.contains("/sandbox/"));
        if let Some(tags) = doc.tags.as_mut() {
            tags.retain(|tag| tag.name != "sandbox");
        }
        if let Some(components) = doc.components.as_mut() {
            components.schemas.remove("SimulateRequest");
        }
    }
    doc
}

/// A documented route: its path template split at `/`, and its methods as an `Allow` value.
struct Route {
    segments: Vec<String>,
    allow: String,
}

/// The documented routes, read once from the document itself.
fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];
        let doc = ApiDoc::openapi();
        doc.paths
            .paths
            .iter()
            .filter_map(|(template, item)| {
                let item = serde_json::to_value(item).ok()?;
                let mut methods: Vec<String> = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_ascii_uppercase())
                    .collect();
                // Every GET route also answers HEAD (`observe`).
                if let Some(get) = methods.iter().position(|m| m == "GET") {
                    methods.insert(get + 1, "HEAD".to_owned());
                }
                Some(Route {
                    segments: template.split('/').map(str::to_owned).collect(),
                    allow: methods.join(", "),
                })
            })
            .collect()
    })
}

/// The `Allow` value of the documented route that `path` (a request path) names, preferring
/// literal segments over `{parameters}`; `None` when no route has that shape.
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    routes()
        .iter()
        .filter(|route| route.segments.len() == segments.len())
        .filter_map(|route| {
            let mut literal = 0;
            for (template, given) in route.segments.iter().zip(&segments) {
                if template.starts_with('{') && template.ends_with('}') && !given.is_empty() {
                    continue;
                }
                if template != given {
                    return None;
                }
                literal += 1;
            }
            Some((literal, route.allow.as_str()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, allow)| allow)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_openapi_3_1_and_names_every_route() {
        let doc: serde_json::Value = serde_json::from_str(&super::json()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/api/trust/v1/identity-containers",
            "/api/trust/v1/personal-identities/{id}",
            "/api/trust/v1/personal-identities/{id}/eligibility",
            "/health/ready",
            "/openapi.json",
        ] {
            assert!(paths.contains_key(path), "{path}");
        }
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let responses = &op["responses"];
                for (status, response) in responses.as_object().unwrap() {
                    // Every response carries x-request-id; every JSON success has a schema.
                    assert!(
                        response
                            .get("headers")
                            .is_some_and(|h| h.get("x-request-id").is_some())
                            || response.get("$ref").is_some(),
                        "{method} {path} {status}: x-request-id"
                    );
                    if status.starts_with('2') && status != "204" {
                        assert!(
                            response["content"].as_object().is_some_and(|c| c
                                .values()
                                .all(|media| media.get("schema").is_some())),
                            "{method} {path} {status}: no schema"
                        );
                    }
                }
                if op["security"].as_array().is_none_or(Vec::is_empty) {
                    continue;
                }
                // The key checks, an id that is not a UUID, and idempotent writes.
                let mut expected = vec!["401", "403", "429"];
                if path.contains("{id}") {
                    expected.push("400");
                }
                if method == "post" || method == "put" {
                    expected.extend(["413", "422"]);
                    let idempotent = op["parameters"]
                        .as_array()
                        .is_some_and(|p| p.iter().any(|p| p["name"] == "Idempotency-Key"));
                    assert!(idempotent, "{method} {path}: Idempotency-Key");
                    assert!(
                        responses["422"]["description"]
                            .as_str()
                            .is_some_and(|d| d.contains("idempotency_key_reused")),
                        "{method} {path}: idempotency_key_reused"
                    );
                }
                for status in expected {
                    assert!(responses.get(status).is_some(), "{method} {path}: {status}");
                }
            }
        }
        // The closed sets are enums, e.g. the level.
        let level = &doc["components"]["schemas"]["PersonalIdentityDto"]["properties"]["kycLevel"];
        assert_eq!(level["enum"], serde_json::json!(["L0", "L1", "L2"]));
    }

    #[test]
    fn the_committed_reference_is_current() {
        let committed = include_str!("../../../docs/api.md");
        assert!(
            committed == super::served_reference(true),
            "docs/api.md is stale: run `cargo run -p kycd -- openapi --markdown > docs/api.md`"
        );
    }

    #[test]
    fn the_committed_document_is_current() {
        let committed = include_str!("../../../docs/openapi.json");
        assert!(
            committed == super::json(),
            "docs/openapi.json is stale: run `cargo run -p kycd -- openapi > docs/openapi.json`"
        );
    }
}
