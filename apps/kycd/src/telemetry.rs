//! Structured logs with tracing-subscriber, pretty for people or JSON for machines, on stderr
//! (stdout is kept for what commands print, such as a new API key). `RUST_LOG` filters as usual
//! (default `info`). Log lines carry ids, routes, statuses and timings; PII never reaches them
//! because handlers log no request data and our error types carry none.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::cli::LogFormat;

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let layer = fmt::layer().with_writer(std::io::stderr).with_target(false);
    let result = match format {
        LogFormat::Pretty => registry.with(layer).try_init(),
        LogFormat::Json => registry
            .with(layer.json().flatten_event(true).with_current_span(true))
            .try_init(),
    };
    // Already installed (a second server in the same test process): keep the first one.
    drop(result);
}
