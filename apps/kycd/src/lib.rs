//! kycd, the server: thin actix-web wiring of the kycd crates.
//!
//! `main.rs` parses the command line and calls into this library; tests start the same
//! [`startup::Application`] on port 0. Invariant: no business rule lives here. Validation is
//! `kyc-rules`, levels and eligibility are `kyc-tiers`, images are `kyc-docs`, SQL is
//! `kyc-store`; this crate authenticates, parses HTTP, calls them, and renders JSON.

pub mod auth;
pub mod body_deadline;
pub mod cli;
pub mod delivery;
pub mod dto;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod presign;
pub mod ratelimit;
pub mod reference;
pub mod reply;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod workflow;
