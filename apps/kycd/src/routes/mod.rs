//! HTTP handlers, one module per resource. Handlers parse, call the crates, and render: the
//! logic lives in the crates.

pub mod ops;
