//! Email is unique per tenant, regardless of case (SPEC §3): `409 email_already_in_use`.

use std::sync::Arc;

use kycd_tests::{person_body, unique_email};
use serde_json::json;
use tokio::task::JoinSet;

both_backends! {
    async fn email_is_unique_per_tenant_ignoring_case(app) {
        let (_, key_a) = app.tenant_with_key("tenant-a");
        let (_, key_b) = app.tenant_with_key("tenant-b");
        let email = unique_email();
        let first = app.new_person(&key_a, &person_body(&email)).await;

        let again = app.create_person(&key_a, &person_body(&email.to_uppercase())).await;
        let error = again.assert_error(409, "email_already_in_use");
        assert!(!error["message"].as_str().unwrap().to_lowercase().contains(&email));
        assert_eq!(app.count_people(&key_a).await, 1, "the refused create stored something");

        // Another tenant may onboard the same person.
        let other = app.new_person(&key_b, &person_body(&email)).await;
        assert_eq!(other["email"], json!(email));

        // A PATCH cannot take an address already in use either...
        let second = app.new_person(&key_a, &person_body(&unique_email())).await;
        let second_id = second["id"].as_str().unwrap();
        let mixed_case = format!("{}{}", email[..3].to_uppercase(), &email[3..]);
        app.patch_person(&key_a, second_id, &json!({ "email": mixed_case }))
            .await
            .assert_error(409, "email_already_in_use");
        let unchanged = app.get_person(&key_a, second_id).await;
        assert_eq!(unchanged.json, second);

        // ...but an identity may re-send its own address in another case.
        let first_id = first["id"].as_str().unwrap();
        let same = app
            .patch_person(&key_a, first_id, &json!({ "email": email.to_uppercase() }))
            .await;
        same.assert_status(200);
        assert_eq!(same.json["email"], json!(email));
    }
}

both_backends! {
    /// Racing creates with one address: exactly one wins, the rest are 409 (never a 500).
    async fn concurrent_creates_with_one_email_admit_one(app) {
        let (_, key) = app.tenant_with_key("acme");
        let email = unique_email();
        let app = Arc::new(app);
        let mut set = JoinSet::new();
        for i in 0..10 {
            let (app, key) = (app.clone(), key.clone());
            // Different case per request: uniqueness ignores it.
            let email = if i % 2 == 0 { email.clone() } else { email.to_uppercase() };
            set.spawn(async move { app.create_person(&key, &person_body(&email)).await });
        }
        let responses = set.join_all().await;
        let created = responses.iter().filter(|r| r.status == 201).count();
        assert_eq!(created, 1, "{:?}", responses.iter().map(|r| r.status).collect::<Vec<_>>());
        for res in responses.iter().filter(|r| r.status != 201) {
            res.assert_error(409, "email_already_in_use");
        }
        assert_eq!(app.count_people(&key).await, 1);
    }
}
