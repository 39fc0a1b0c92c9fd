//! Rate limits per API key (SPEC §6): `429 rate_limited` with `Retry-After`.

use kycd_tests::{Backend, Method, Options, TestApp};

#[tokio::test]
async fn a_key_over_its_limit_gets_429_with_retry_after() {
    let options = Options {
        rate_limit_per_second: 1,
        rate_limit_burst: 2,
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let (tenant, key) = app.tenant_with_key("acme");
    let other = app.api_key(&tenant, kyc_model::Role::Integrator);

    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..4 {
        let res = app.list_people(&key, "").await;
        statuses.push(res.status);
        if res.status == 429 {
            limited = Some(res);
        }
    }
    // The burst of two passes; within the same second the next ones do not.
    assert_eq!(&statuses[..2], &[200, 200], "{statuses:?}");
    assert!(statuses[2..].contains(&429), "{statuses:?}");
    let limited = limited.unwrap();
    limited.assert_error(429, "rate_limited");
    let retry: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in whole seconds");
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");

    // The limit is per key, and probes are not limited at all.
    app.list_people(&other, "").await.assert_status(200);
    for _ in 0..5 {
        app.request(Method::GET, "/health/live", None, None)
            .await
            .assert_status(200);
    }
}
