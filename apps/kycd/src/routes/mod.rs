//! HTTP handlers, one module per resource. Handlers parse, call the crates, and render: the
//! logic lives in the crates.

pub mod business;
pub mod common;
pub mod documents;
pub mod identities;
pub mod ops;
pub mod reviews;
pub mod sandbox;
pub mod sessions;
pub mod webhooks;

use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(ops::live)
        .service(ops::ready)
        .service(ops::metrics)
        .service(ops::openapi)
        .service(
            web::scope(common::BASE)
                .service(identities::create_container)
                .service(identities::get_container)
                .service(identities::list_people)
                .service(identities::get_person)
                .service(identities::patch_person)
                .service(identities::delete_person)
                .service(identities::get_kyc)
                .service(identities::get_eligibility)
                .service(identities::get_events)
                .service(identities::run_kyc_check)
                .service(documents::upload_document)
                .service(documents::list_documents)
                .service(documents::get_document)
                .service(documents::presign_url)
                .service(documents::get_image)
                .service(sandbox::simulate)
                .service(business::create_business)
                .service(business::list_businesses)
                .service(business::get_business)
                .service(business::patch_business)
                .service(sessions::start_session)
                .service(reviews::list_reviews)
                .service(reviews::get_review)
                .service(reviews::decide)
                .service(webhooks::put_config)
                .service(webhooks::get_config)
                .service(webhooks::list_deliveries),
        );
}
