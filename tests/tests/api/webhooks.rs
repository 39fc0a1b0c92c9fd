//! Webhooks (SPEC §8): per-tenant configuration, thin events signed in the Standard Webhooks
//! layout, delivered by the background worker, with a delivery log.

use std::time::Duration;

use kycd_tests::{
    BASE, Method, TestApp, WebhookReceiver, full_person_body, unique_email, unique_surname,
    valid_ssn, webhook_signature,
};
use serde_json::{Value, json};

async fn configure(app: &TestApp, key: &str, body: &Value) -> kycd_tests::TestResponse {
    app.request(
        Method::PUT,
        &format!("{BASE}/webhook-config"),
        Some(key),
        Some(body),
    )
    .await
}

both_backends! {
    async fn events_are_delivered_signed_and_thin(app) {
        let receiver = WebhookReceiver::start(200);
        let (_, key) = app.tenant_with_key("acme");
        let (_, key_b) = app.tenant_with_key("other");
        let created = configure(&app, &key, &json!({ "url": receiver.url })).await;
        created.assert_status(201);
        let secret = created.json["secret"].as_str().expect("the secret, shown once").to_owned();
        assert!(secret.starts_with("whsec_"), "{secret}");
        let read = app.request(Method::GET, &format!("{BASE}/webhook-config"), Some(&key), None).await;
        read.assert_status(200);
        assert_eq!(read.json["url"], json!(receiver.url));
        assert!(!read.text.contains(&secret[6..]), "the secret is shown again");

        let email = unique_email();
        let surname = unique_surname();
        let mut body = full_person_body(&email, &valid_ssn());
        body["lastName"] = json!(surname);
        let person = app.new_person(&key, &body).await;
        let id = person["id"].as_str().unwrap().to_owned();
        // Tenant B's events never reach tenant A's endpoint.
        app.new_person(&key_b, &full_person_body(&unique_email(), &valid_ssn())).await;

        let wait = Duration::from_secs(20);
        let delivery = receiver
            .wait_for(wait, |r| r.json()["type"] == "identity.created")
            .await;
        assert_eq!(delivery.method, "POST");
        assert_eq!(delivery.path, "/hooks/kyc");
        let payload = delivery.json();
        assert_eq!(payload["data"]["identityId"], json!(id), "{payload}");
        assert_eq!(payload["data"]["containerId"], person["containerId"]);
        let text = String::from_utf8_lossy(&delivery.body).into_owned();
        for value in [email.as_str(), surname.as_str(), "2025550165", "Davisson", "1995-04-25"] {
            assert!(!text.contains(value), "PII in a webhook: {text}");
        }
        let webhook_id = delivery.header("webhook-id").expect("webhook-id");
        let timestamp = delivery.header("webhook-timestamp").expect("webhook-timestamp");
        let signature = delivery.header("webhook-signature").expect("webhook-signature");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let sent: i64 = timestamp.parse().expect("webhook-timestamp in Unix seconds");
        assert!((now - sent).abs() < 300, "timestamp {sent} vs now {now}");
        let expected = webhook_signature(&secret, webhook_id, timestamp, &delivery.body);
        assert!(
            signature.split(' ').any(|s| s == expected),
            "signature {signature} does not verify (expected {expected})"
        );

        // The level change L0 -> L1 is announced too, and only this tenant's events arrive.
        let level = receiver
            .wait_for(wait, |r| r.json()["type"] == "kyc.level_changed")
            .await;
        assert_eq!(level.json()["data"]["identityId"], json!(id));
        assert_eq!(level.json()["data"]["to"], "L1");
        for r in receiver.received() {
            let data = &r.json()["data"];
            if let Some(identity) = data["identityId"].as_str() {
                assert_eq!(identity, id, "another tenant's event was delivered: {data}");
            }
        }

        // The delivery log records the successful attempt.
        let log = app.request(Method::GET, &format!("{BASE}/webhook-deliveries"), Some(&key), None).await;
        log.assert_status(200);
        let entry = log.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["eventId"] == json!(webhook_id))
            .cloned()
            .unwrap_or_else(|| panic!("no log entry for {webhook_id}: {}", log.text));
        assert_eq!(entry["statusCode"], 200, "{entry}");
        assert_eq!(entry["attempt"], 1);
        assert_eq!(entry["eventType"], "identity.created");
        assert_eq!(entry["url"], json!(receiver.url));
        assert!(entry["error"].is_null(), "{entry}");
    }

    async fn webhook_configuration_is_validated(app) {
        let (_, key) = app.tenant_with_key("acme");
        for (body, field, rule) in [
            (json!({}), "url", "required"),
            (json!({ "url": "ftp://hooks.example.com" }), "url", "url"),
            (json!({ "url": "not a url" }), "url", "url"),
            (json!({ "url": "https://user:pass@hooks.example.com" }), "url", "no_credentials"),
            (json!({ "url": "https://hooks.example.com", "secret": "mine" }), "secret", "unknown_field"),
        ] {
            let res = configure(&app, &key, &body).await;
            assert_eq!(res.violations(), vec![(field.to_owned(), rule.to_owned())], "{body}: {}", res.text);
        }
        app.request(Method::GET, &format!("{BASE}/webhook-config"), Some(&key), None)
            .await
            .assert_error(404, "webhook_config_not_found");

        let first = configure(&app, &key, &json!({ "url": "https://hooks.example.com/a" })).await;
        first.assert_status(201);
        let replaced = configure(&app, &key, &json!({ "url": "https://hooks.example.com/b" })).await;
        replaced.assert_status(200);
        assert!(replaced.json.get("secret").is_none_or(Value::is_null), "{}", replaced.text);
        let rotated = configure(&app, &key, &json!({ "url": "https://hooks.example.com/b", "rotateSecret": true })).await;
        rotated.assert_status(200);
        let new_secret = rotated.json["secret"].as_str().unwrap();
        assert_ne!(Some(new_secret), first.json["secret"].as_str());
    }
}

/// Production refuses plain http and internal addresses (no SSRF into the operator's network).
#[tokio::test]
async fn production_webhooks_must_be_public_https() {
    let options = kycd_tests::Options {
        mode: kycd::cli::Mode::Production,
        ..kycd_tests::Options::default()
    };
    let app = TestApp::spawn_with(kycd_tests::Backend::Sqlite, options)
        .await
        .unwrap();
    let (_, key) = app.tenant_with_key("acme");
    for (url, rule) in [
        ("http://hooks.example.com/kyc", "https_required"),
        ("https://127.0.0.1/kyc", "public_host"),
        ("https://10.1.2.3/kyc", "public_host"),
        ("https://169.254.169.254/latest/meta-data", "public_host"),
        ("https://[::1]/kyc", "public_host"),
    ] {
        let res = configure(&app, &key, &json!({ "url": url })).await;
        assert_eq!(
            res.violations(),
            vec![("url".to_owned(), rule.to_owned())],
            "{url}: {}",
            res.text
        );
    }
    configure(
        &app,
        &key,
        &json!({ "url": "https://hooks.example.com/kyc" }),
    )
    .await
    .assert_status(201);
}
