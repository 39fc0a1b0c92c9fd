//! The error policy (SPEC §6): one shape everywhere, `x-request-id` on every response and in
//! every error body, no internals in messages.

use kycd_tests::{BASE, Backend, Method, Options, TestApp, person_body, unique_email};
use serde_json::json;

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let person = app.new_person(&key, &person_body(&unique_email())).await;
    let id = person["id"].as_str().unwrap();
    let responses = vec![
        app.request(Method::GET, "/health/live", None, None).await,
        app.request(Method::GET, "/health/ready", None, None).await,
        app.request(Method::GET, "/metrics", None, None).await,
        app.request(Method::GET, "/openapi.json", None, None).await,
        app.get_person(&key, id).await,
        app.list_people(&key, "").await,
        app.patch_person(&key, id, &json!({ "middleName": "Third" }))
            .await,
        app.get_person(&key, "not-a-uuid").await,
        app.list_people("nope", "").await,
        app.request(Method::GET, "/nowhere", None, None).await,
        app.delete_person(&key, id).await,
    ];
    let mut seen = std::collections::HashSet::new();
    for res in &responses {
        let rid = res.request_id().to_owned();
        assert!(!rid.is_empty() && rid.len() <= 128, "{rid:?}");
        assert!(seen.insert(rid), "request ids repeat");
    }
    // 204 No Content has the header too.
    assert_eq!(responses.last().unwrap().status, 204);
}

#[tokio::test]
async fn a_sane_inbound_request_id_is_echoed_and_a_hostile_one_replaced() {
    let app = TestApp::spawn().await;
    let res = app
        .call(Method::GET, "/nowhere")
        .header("x-request-id", "trace-42.a:b_c")
        .send()
        .await;
    assert_eq!(res.request_id(), "trace-42.a:b_c");
    assert_eq!(res.json["error"]["requestId"], "trace-42.a:b_c");
    for hostile in ["has space", "<script>", &"x".repeat(200)] {
        let res = app
            .call(Method::GET, "/nowhere")
            .header("x-request-id", hostile)
            .send()
            .await;
        assert_ne!(res.request_id(), hostile);
        res.assert_error(404, "not_found");
    }
}

#[tokio::test]
async fn unknown_routes_have_the_error_shape() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    for path in [
        "/nowhere",
        "/api/trust/v1",
        &format!("{BASE}/no-such-resource"),
        "/api/trust/v2/personal-identities",
    ] {
        app.request(Method::GET, path, Some(&key), None)
            .await
            .assert_error(404, "not_found");
    }
}

/// A route asked with a method it does not serve is `405 method_not_allowed` with `Allow`, in
/// the error shape; sandbox routes outside sandbox mode stay `404` whatever the method.
#[tokio::test]
async fn unserved_methods_are_405_with_allow() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let id = uuid::Uuid::new_v4();
    for (method, path, allow) in [
        (
            Method::PUT,
            format!("{BASE}/personal-identities/{id}"),
            "GET, HEAD, DELETE, PATCH",
        ),
        (
            Method::POST,
            format!("{BASE}/personal-identities/{id}"),
            "GET, HEAD, DELETE, PATCH",
        ),
        (
            Method::DELETE,
            format!("{BASE}/identity-containers/{id}"),
            "GET, HEAD",
        ),
        (
            Method::DELETE,
            format!("{BASE}/personal-identities"),
            "GET, HEAD",
        ),
        (
            Method::GET,
            format!("{BASE}/sandbox/personal-identities/{id}/simulate"),
            "POST",
        ),
        (Method::POST, "/health/live".to_owned(), "GET, HEAD"),
    ] {
        let res = app.request(method.clone(), &path, Some(&key), None).await;
        res.assert_error(405, "method_not_allowed");
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
    }
    // A path that no route has is 404 whatever the method.
    app.request(
        Method::DELETE,
        &format!("{BASE}/personal-identities/{id}/nothing"),
        Some(&key),
        None,
    )
    .await
    .assert_error(404, "not_found");

    let options = Options {
        mode: kycd::cli::Mode::Production,
        ..Options::default()
    };
    let production = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let (_, key) = production.tenant_with_key("acme");
    for method in [Method::GET, Method::POST] {
        production
            .request(
                method,
                &format!("{BASE}/sandbox/personal-identities/{id}/simulate"),
                Some(&key),
                None,
            )
            .await
            .assert_error(404, "not_found");
    }
}

/// HEAD is GET without the body (RFC 9110 §9.3.2): same status, headers and length, as the
/// same caller; a missing object or a bad key is the same error status, bodiless.
#[tokio::test]
async fn head_answers_as_get_without_the_body() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let person = app.new_person(&key, &person_body(&unique_email())).await;
    let path = format!(
        "{BASE}/personal-identities/{}",
        person["id"].as_str().unwrap()
    );
    let get = app.request(Method::GET, &path, Some(&key), None).await;
    get.assert_status(200);
    let head = app.request(Method::HEAD, &path, Some(&key), None).await;
    head.assert_status(200);
    assert!(head.text.is_empty(), "HEAD has no body: {}", head.text);
    assert_eq!(
        head.header("content-length"),
        Some(get.text.len().to_string().as_str())
    );
    assert_eq!(head.header("etag"), get.header("etag"));
    assert!(!head.request_id().is_empty());
    for (key, status) in [(None, 401), (Some(key.as_str()), 404)] {
        let missing = format!("{BASE}/personal-identities/{}", uuid::Uuid::new_v4());
        let head = app.request(Method::HEAD, &missing, key, None).await;
        head.assert_status(status);
        assert!(head.text.is_empty());
    }
    let live = app.request(Method::HEAD, "/health/live", None, None).await;
    live.assert_status(200);
    assert!(live.text.is_empty());
}

both_backends! {
    async fn missing_ids_are_404_in_the_error_shape(app) {
        let (_, key) = app.tenant_with_key("acme");
        let id = uuid::Uuid::new_v4().to_string();
        let error = app.get_person(&key, &id).await.assert_error(404, "identity_not_found").clone();
        assert!(error.get("details").is_none());
        assert!(!error["message"].as_str().unwrap().contains(&id), "ids are not echoed");
        app.get_container(&key, &id).await.assert_error(404, "container_not_found");
        app.patch_person(&key, &id, &json!({ "middleName": "Third" }))
            .await
            .assert_error(404, "identity_not_found");
        app.delete_person(&key, &id).await.assert_error(404, "identity_not_found");
        app.get_kyc(&key, &id).await.assert_error(404, "identity_not_found");
        app.get_eligibility(&key, &id).await.assert_error(404, "identity_not_found");
        app.get_events(&key, &id).await.assert_error(404, "identity_not_found");
        app.run_check(&key, &id).await.assert_error(404, "identity_not_found");
    }
}

/// SPEC §6: one error shape everywhere, including a JSON body over the server's limit.
#[tokio::test]
async fn an_oversized_json_body_is_413_in_the_error_shape() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let mut body = person_body(&unique_email());
    body["dueDiligence"] = json!({ "occupation": "x".repeat(300 * 1024) });
    app.create_person(&key, &body)
        .await
        .assert_error(413, "payload_too_large");
    assert_eq!(app.count_people(&key).await, 0);
}

/// A body that stops arriving ends the request (`body_deadline`): `408` in the error shape,
/// nothing stored, and the connection closed instead of held open.
#[tokio::test]
async fn a_body_that_stops_arriving_is_408() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let port = app.port;
    let head = format!(
        "POST {BASE}/identity-containers HTTP/1.1\r\nHost: kycd\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"fi"
    );
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .unwrap();
        tcp.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        // Until the server closes the connection.
        tcp.read_to_end(&mut answer).unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("x-request-id:"),
        "{answer}"
    );
    assert_eq!(app.count_people(&key).await, 0);
}
