//! Prometheus metrics, served at `/metrics` in the text exposition format.

use std::sync::Mutex;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

/// Labels of the HTTP metrics: the route pattern, never the concrete path (ids are not labels).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// Labels of the document-check metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DocumentLabels {
    pub verdict: String,
}

/// The metrics kycd exports.
pub struct Metrics {
    registry: Mutex<Registry>,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<HttpLabels, Histogram>,
    documents_checked: Family<DocumentLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
        });
        let documents_checked = Family::<DocumentLabels, Counter>::default();
        let mut registry = Registry::with_prefix("kycd");
        registry.register(
            "http_requests",
            "HTTP requests served",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_duration.clone(),
        );
        registry.register(
            "documents_checked",
            "Uploaded document images by quality verdict",
            documents_checked.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            http_requests,
            http_duration,
            documents_checked,
        }
    }
}

impl Metrics {
    /// Records one served request. A method outside HTTP's standard ones is labelled `other`:
    /// the label is the client's text, and every new value would be a new series.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        const KNOWN: [&str; 9] = [
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
        ];
        let labels = HttpLabels {
            method: KNOWN
                .into_iter()
                .find(|known| *known == method)
                .unwrap_or("other")
                .to_owned(),
            route: route.to_owned(),
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_duration.get_or_create(&labels).observe(seconds);
    }

    /// Records one document verdict (`pass`, `resubmit`, `rejected`).
    pub fn observe_document(&self, verdict: &str) {
        self.documents_checked
            .get_or_create(&DocumentLabels {
                verdict: verdict.to_owned(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_observed_requests() {
        let m = Metrics::default();
        m.observe_request("GET", "/api/trust/v1/personal-identities/{id}", 200, 0.004);
        m.observe_document("resubmit");
        let text = m.render();
        assert!(text.contains("kycd_http_requests_total{method=\"GET\",route=\"/api/trust/v1/personal-identities/{id}\",status=\"200\"} 1"), "{text}");
        assert!(text.contains("kycd_documents_checked_total{verdict=\"resubmit\"} 1"));
        // Invented methods share one series, whatever the client sent.
        m.observe_request("JOHNDOE123", "/health/live", 405, 0.001);
        m.observe_request("get", "/health/live", 405, 0.001);
        let text = m.render();
        assert!(
            !text.contains("JOHNDOE123") && !text.contains("method=\"get\""),
            "{text}"
        );
        assert!(
            text.contains(
                "kycd_http_requests_total{method=\"other\",route=\"/health/live\",status=\"405\"} 2"
            ),
            "{text}"
        );
    }
}
