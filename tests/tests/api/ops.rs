//! Operations endpoints outside the base path: probes, metrics, the OpenAPI document.

use kycd_tests::{BASE, Method, TestApp};

#[tokio::test]
async fn liveness_answers_ok() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::GET, "/health/live", None, None).await;
    res.assert_status(200);
    assert_eq!(res.json["status"], "ok");
    assert!(!res.request_id().is_empty());
}

both_backends! {
    /// Readiness means the database answers, on either backend.
    async fn readiness_answers_ok(app) {
        let res = app.request(Method::GET, "/health/ready", None, None).await;
        res.assert_status(200);
        assert_eq!(res.json["status"], "ok");
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let id = uuid::Uuid::new_v4().to_string();
    app.get_person(&key, &id)
        .await
        .assert_error(404, "identity_not_found");
    let res = app.request(Method::GET, "/metrics", None, None).await;
    res.assert_status(200);
    assert!(
        res.text.contains("kycd_http_requests_total"),
        "no request counter in:\n{}",
        res.text
    );
    // Labels name the route pattern, never the concrete path: ids must not become series.
    assert!(
        res.text
            .contains(&format!("{BASE}/personal-identities/{{id}}")),
        "the route pattern is not a label:\n{}",
        res.text
    );
    assert!(!res.text.contains(&id), "an id leaked into a metric label");
}

#[tokio::test]
async fn openapi_is_a_3_1_document_of_the_api() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::GET, "/openapi.json", None, None).await;
    res.assert_status(200);
    assert!(
        res.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        res.headers
    );
    let version = res.json["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "openapi = {version:?}");
    let paths = res.json["paths"].as_object().expect("paths");
    for path in [
        "/api/trust/v1/identity-containers",
        "/api/trust/v1/personal-identities/{id}",
        "/api/trust/v1/personal-identities",
        "/health/ready",
    ] {
        assert!(paths.contains_key(path), "{path} missing from the document");
    }
}
