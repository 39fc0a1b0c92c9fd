//! No PII where it does not belong (SPEC §6, §9, HELPERS rule 5): the SSN is write-only and
//! never in a response; no log line holds a name, email, phone, SSN or birth date; SSN and
//! date of birth are encrypted at rest.

use kycd_tests::{
    BASE, Backend, Method, TestResponse, captured_logs, dashed_ssn, full_person_body, unique_email,
    unique_surname, valid_ssn,
};
use serde_json::json;

both_backends! {
    async fn pii_stays_out_of_responses_logs_and_raw_files(app) {
        let (_, key) = app.tenant_with_key("acme");
        let email = unique_email();
        let surname = unique_surname();
        let ssn = valid_ssn();
        let dob = "1968-11-23";
        let mut body = full_person_body(&email, &dashed_ssn(&ssn));
        body["lastName"] = json!(surname);
        body["dateOfBirth"] = json!(dob);

        let mut responses: Vec<TestResponse> = Vec::new();
        let created = app.create_person(&key, &body).await;
        created.assert_status(201);
        let id = created.json["personalIdentity"]["id"].as_str().unwrap().to_owned();
        let container = created.json["id"].as_str().unwrap().to_owned();
        assert_eq!(created.json["personalIdentity"]["kycLevel"], "L1", "{}", created.text);
        assert_eq!(created.json["personalIdentity"]["ssnProvided"], true);
        responses.push(created);
        // Values sent in refused requests must not be logged either.
        let mut refused = body.clone();
        refused["phone"] = json!("not a phone");
        responses.push(app.create_person(&key, &refused).await);
        responses.push(app.create_person(&key, &body).await); // 409, same email
        responses.push(
            app.call(Method::POST, &format!("{BASE}/identity-containers"))
                .key(&key)
                .raw(format!("{{\"ssn\": \"{ssn}\", \"lastName\": \"{surname}\""))
                .send()
                .await,
        );
        responses.push(app.get_person(&key, &id).await);
        responses.push(app.get_container(&key, &container).await);
        responses.push(app.list_people(&key, "").await);
        responses.push(app.list_people(&key, &format!("filter[email]={email}")).await);
        responses.push(app.patch_person(&key, &id, &json!({ "ssn": dashed_ssn(&ssn), "email": unique_email() })).await);
        responses.push(app.patch_person(&key, &id, &json!({ "ssn": valid_ssn() })).await); // 422 locked
        responses.push(app.get_kyc(&key, &id).await);
        responses.push(app.get_eligibility(&key, &id).await);
        responses.push(app.get_events(&key, &id).await);
        responses.push(app.run_check(&key, &id).await);

        for res in &responses {
            assert!(!res.text.contains(&ssn), "an SSN in a {} response: {}", res.status, res.text);
            assert!(!res.text.contains(&dashed_ssn(&ssn)), "an SSN in a {} response", res.status);
            if res.status >= 400 {
                for value in [&email, &surname] {
                    assert!(!res.text.contains(value.as_str()), "PII in an error: {}", res.text);
                }
            }
        }

        // The logs: the capture must see this test's requests, and none of its values.
        let logs = captured_logs();
        for res in &responses {
            assert!(logs.contains(res.request_id()), "request {} was not logged", res.request_id());
        }
        for value in [email.as_str(), surname.as_str(), ssn.as_str(), &dashed_ssn(&ssn), dob, "2025550165", "Davisson"] {
            assert!(!logs.contains(value), "a log line holds PII ({} bytes of logs)", logs.len());
        }

        // At rest: SSN and date of birth are sealed; the scan sees the plaintext columns.
        if app.backend == Backend::Sqlite {
            assert!(!app.files_containing(&surname).is_empty(), "the raw scan sees nothing");
            for secret in [ssn.clone(), dashed_ssn(&ssn), dob.to_owned(), dob.replace('-', "")] {
                let files = app.files_containing(&secret);
                assert!(files.is_empty(), "stored in plaintext in {files:?}");
            }
        }
    }
}
