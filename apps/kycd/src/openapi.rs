//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa). Served at
//! `/openapi.json`, printed by `kycd openapi`, and committed as `docs/openapi.json`, which CI
//! compares with the generated one.

use std::sync::OnceLock;

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
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
        routes::reviews::ReviewListDto,
        routes::reviews::ReviewDto,
        routes::reviews::ReviewDecisionRequest,
        routes::webhooks::WebhookConfigRequest,
        routes::webhooks::WebhookConfigDto,
        routes::webhooks::WebhookDeliveryListDto,
    )),
    modifiers(&BearerAuth),
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

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // What every operation behind a key may answer: shared responses, referred to from
        // each operation rather than written on each handler.
        let common = [
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
        for (_, name, description) in common {
            components
                .responses
                .insert(name.to_owned(), error_response(description));
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                if operation.security.as_ref().is_none_or(Vec::is_empty) {
                    continue;
                }
                for (status, name, _) in common {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            utoipa::openapi::Ref::new(format!("#/components/responses/{name}"))
                                .into()
                        });
                }
            }
        }
    }
}

/// A response in the error shape.
fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
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
    let mut text = doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
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
        // Every operation behind a key documents the answers of the key checks.
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                    for status in ["401", "403", "429"] {
                        assert!(
                            op["responses"].get(status).is_some(),
                            "{method} {path}: {status}"
                        );
                    }
                }
            }
        }
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
