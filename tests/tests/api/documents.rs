//! Proof-of-identity documents (SPEC §5, seeds 000/001/003): intake by magic bytes, size limit
//! while streaming, quality checks, statuses, metadata stripping, presigned links, attempts.

use kycd_tests::{
    BASE, Method, TestApp, data_url, document_png, full_person_body, monochrome_png, png_with_text,
    small_png, unique_email, valid_ssn, violations,
};
use serde_json::{Value, json};

/// An L1 person of its own tenant, ready for a document.
async fn l1_person(app: &TestApp, key: &str) -> String {
    let person = app
        .new_person(key, &full_person_body(&unique_email(), &valid_ssn()))
        .await;
    assert_eq!(person["kycLevel"], "L1", "{person}");
    person["id"].as_str().unwrap().to_owned()
}

fn passport(front: &[u8]) -> Value {
    json!({ "documentType": "passport", "front": data_url(front) })
}

fn check_codes(doc: &Value, side: &str) -> Vec<String> {
    doc["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks in {doc}"))
        .iter()
        .filter(|c| c["side"] == side)
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect()
}

both_backends! {
    /// Seed 000: an approved proof of id takes a confirmed US person from L1 to L2.
    async fn an_approved_passport_reaches_l2(app) {
        let (_, key) = app.tenant_with_key("acme");
        let id = l1_person(&app, &key).await;
        let res = app.upload_document_json(&key, &id, &passport(document_png())).await;
        res.assert_status(201);
        assert!(res.header("etag").is_some_and(|t| t.starts_with("W/\"h-")), "no ETag on the upload's answer");
        let doc = res.json.clone();
        let doc_id = doc["id"].as_str().unwrap();
        assert_eq!(doc["type"], "passport");
        assert_eq!(doc["status"], "approved", "{}", res.text);
        assert_eq!(doc["reasons"], json!([]));
        assert_eq!(doc["identityId"], json!(id));
        assert_eq!(
            check_codes(&doc, "front"),
            ["resolution", "blur", "glare", "exposure", "cutoff", "monochrome"]
        );
        assert!(doc["checks"].as_array().unwrap().iter().all(|c| c["passed"] == true && c["side"] == "front"));
        assert_eq!(doc["identity"]["kycLevel"], "L2");
        assert_eq!(doc["identity"]["missingDocuments"], json!([]));
        assert!(res.header("location").is_some_and(|l| l.ends_with(&format!("/documents/{doc_id}"))));

        let person = app.get_person(&key, &id).await;
        assert_eq!(person.json["kycLevel"], "L2");
        assert_eq!(person.json["missingDocuments"], json!([]));

        let read = app.get_document(&key, doc_id).await;
        read.assert_status(200);
        let mut without_identity = doc.clone();
        without_identity.as_object_mut().unwrap().remove("identity");
        assert_eq!(read.json, without_identity);
        let list = app.list_documents(&key, &id).await;
        list.assert_status(200);
        assert_eq!(list.json["data"], json!([without_identity]));

        let eligibility = app.get_eligibility(&key, &id).await;
        eligibility.assert_status(200);
        for product in eligibility.json["eligibility"].as_array().unwrap() {
            assert_eq!(product["status"], "verified", "{product}");
        }

        // The quality verdict is counted.
        let metrics = app.request(Method::GET, "/metrics", None, None).await;
        assert!(
            metrics.text.contains("kycd_documents_checked_total{verdict=\"pass\"} 1"),
            "{}",
            metrics.text
        );
    }

    /// Seed 000's form upload: a license needs its back; the type comes from the bytes, not the
    /// declared `image/jpeg`.
    async fn form_uploads_follow_seed_000(app) {
        let (_, key) = app.tenant_with_key("acme");
        let id = l1_person(&app, &key).await;
        let missing_back = app
            .upload_document_form(&key, &id, &[("DocumentType", b"license"), ("DocumentFront", document_png())])
            .await;
        assert_eq!(missing_back.violations(), vec![("DocumentBack".to_owned(), "required".to_owned())]);
        let unknown_type = app
            .upload_document_form(&key, &id, &[("DocumentType", b"selfie"), ("DocumentFront", document_png())])
            .await;
        assert_eq!(unknown_type.violations(), vec![("DocumentType".to_owned(), "enum".to_owned())]);
        let no_front = app.upload_document_form(&key, &id, &[("DocumentType", b"passport")]).await;
        assert_eq!(no_front.violations(), vec![("DocumentFront".to_owned(), "required".to_owned())]);
        // An unknown part is listed with everything else that is wrong.
        let stray = app.upload_document_form(&key, &id, &[("Foo", b"1"), ("Selfie", document_png())]).await;
        assert_eq!(
            stray.violations(),
            violations(&[("DocumentFront", "required"), ("DocumentType", "required"), ("Foo", "unknown_field"), ("Selfie", "unknown_field")])
        );
        assert_eq!(app.list_documents(&key, &id).await.json["data"], json!([]));

        let res = app
            .upload_document_form(
                &key,
                &id,
                &[("DocumentType", b"license"), ("DocumentFront", document_png()), ("DocumentBack", document_png())],
            )
            .await;
        res.assert_status(201);
        assert_eq!(res.json["type"], "license");
        assert_eq!(res.json["status"], "approved", "{}", res.text);
        assert_eq!(check_codes(&res.json, "back").len(), 6);

        // The same names work in a JSON upload.
        let image = data_url(document_png());
        let body = json!({ "DocumentType": "identificationCard", "DocumentFront": image, "DocumentBack": image });
        let res = app.upload_document_json(&key, &id, &body).await;
        res.assert_status(201);
        assert_eq!(res.json["type"], "identificationCard");
        assert_eq!(check_codes(&res.json, "back").len(), 6);
    }

    async fn files_that_are_not_images_are_refused_unstored(app) {
        let (_, key) = app.tenant_with_key("acme");
        let id = l1_person(&app, &key).await;
        let not_images: [&[u8]; 4] = [
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
        ];
        for bytes in not_images {
            app.upload_document_form(&key, &id, &[("DocumentType", b"passport"), ("DocumentFront", bytes)])
                .await
                .assert_error(415, "unsupported_file_type");
            app.upload_document_json(&key, &id, &passport(bytes))
                .await
                .assert_error(415, "unsupported_file_type");
        }
        // Over 10 MB: refused while streaming.
        let mut huge = document_png().to_vec();
        huge.resize(10_000_001, 0);
        app.upload_document_form(&key, &id, &[("DocumentType", b"passport"), ("DocumentFront", &huge)])
            .await
            .assert_error(413, "payload_too_large");
        app.upload_document_json(&key, &id, &passport(&huge))
            .await
            .assert_error(413, "payload_too_large");
        // Neither a form nor JSON.
        app.call(Method::POST, &format!("{BASE}/personal-identities/{id}/documents"))
            .key(&key)
            .body(document_png().to_vec(), "image/png")
            .send()
            .await
            .violations();
        // A form whose closing boundary never comes: the body ends, so does the wait.
        for body in [
            &b"--XyZ\r\nContent-Disposition: form-data; name=\"DocumentType\"\r\n\r\npassport\r\n"[..],
            &b"--XyZ\r\nContent-Disposition: form-data; name=\"DocumentType\"\r\n\r\npassport"[..],
            &b"--XyZ\r\n"[..],
        ] {
            let unfinished = app
                .call(Method::POST, &format!("{BASE}/personal-identities/{id}/documents"))
                .key(&key)
                .body(body.to_vec(), "multipart/form-data; boundary=XyZ")
                .send();
            let answer = tokio::time::timeout(std::time::Duration::from_secs(20), unfinished)
                .await
                .expect("an unfinished form is answered, not waited on");
            answer.assert_error(400, "validation_failed");
        }
        assert_eq!(app.list_documents(&key, &id).await.json["data"], json!([]));
        let events = app.get_events(&key, &id).await;
        assert!(!events.text.contains("document_uploaded"), "{}", events.text);
        assert_eq!(app.get_person(&key, &id).await.json["kycLevel"], "L1");
    }

    /// Quality verdicts: a low resolution is `resubmit` with its reason, a grey scan `rejected`.
    async fn quality_decides_resubmit_and_rejected(app) {
        let (_, key) = app.tenant_with_key("acme");
        let id = l1_person(&app, &key).await;
        let small = app.upload_document_json(&key, &id, &passport(small_png())).await;
        small.assert_status(201);
        assert_eq!(small.json["status"], "resubmit", "{}", small.text);
        assert_eq!(small.json["reasons"], json!(["resolution"]));
        let scan = app.upload_document_json(&key, &id, &passport(monochrome_png())).await;
        scan.assert_status(201);
        assert_eq!(scan.json["status"], "rejected", "{}", scan.text);
        assert_eq!(scan.json["reasons"], json!(["monochrome"]));
        // A scanned back is rejected whatever the front: a blurred front does not turn the
        // rejection into a resubmission.
        let mut blurred = kyc_docs::testing::Scene::sharp(1200, 1800);
        blurred.blur = 4.0;
        let body = json!({
            "documentType": "license",
            "front": data_url(&blurred.png()),
            "back": data_url(monochrome_png()),
        });
        let both = app.upload_document_json(&key, &id, &body).await;
        both.assert_status(201);
        assert_eq!(both.json["status"], "rejected", "{}", both.text);
        assert_eq!(both.json["reasons"], json!(["monochrome"]));
        let person = app.get_person(&key, &id).await;
        assert_eq!(person.json["kycLevel"], "L1");
        assert_eq!(person.json["missingDocuments"], json!(["proofOfId"]));
    }

    /// Three rejections end the uploads: `409 document_attempts_exhausted`, eligibility
    /// `rejected` where a document is needed.
    async fn three_rejections_exhaust_the_attempts(app) {
        let (_, key) = app.tenant_with_key("acme");
        let id = l1_person(&app, &key).await;
        for _ in 0..3 {
            let res = app.upload_document_json(&key, &id, &passport(monochrome_png())).await;
            res.assert_status(201);
            assert_eq!(res.json["status"], "rejected");
        }
        app.upload_document_json(&key, &id, &passport(document_png()))
            .await
            .assert_error(409, "document_attempts_exhausted");
        // An import is a document check too: no way around the limit.
        let import = json!({ "userId": id, "type": "import", "output": {
            "provider": "onfido",
            "document": { "type": "passport", "number": "X1234567", "country": "US", "expiresAt": "2099-01-01" },
            "person": { "givenName": "John", "familyName": "Doe", "birthdate": "1995-04-25" },
            "verifiedAt": "2024-01-02T03:04:05Z" } });
        app.start_session(&key, &import).await.assert_error(409, "document_attempts_exhausted");
        assert_eq!(app.list_documents(&key, &id).await.json["data"].as_array().unwrap().len(), 3);
        let eligibility = app.get_eligibility(&key, &id).await;
        let offramp = eligibility.json["eligibility"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["type"] == "offramp")
            .cloned()
            .unwrap_or_else(|| panic!("no offramp in {}", eligibility.text));
        assert_eq!(offramp["status"], "rejected", "{}", eligibility.text);
    }

    /// Images are stored without their metadata and served only through signed, expiring links.
    async fn presigned_links_serve_stripped_images(app) {
        let (_, key) = app.tenant_with_key("acme");
        let id = l1_person(&app, &key).await;
        let marker = format!("GPS 48.8584N 2.2945E {}", uuid::Uuid::new_v4());
        let tagged = png_with_text(document_png(), "Comment", &marker);
        let res = app
            .upload_document_form(
                &key,
                &id,
                &[("DocumentType", b"identificationCard"), ("DocumentFront", &tagged), ("DocumentBack", document_png())],
            )
            .await;
        res.assert_status(201);
        let doc_id = res.json["id"].as_str().unwrap().to_owned();

        let links = app.presign_url(&key, &doc_id).await;
        links.assert_status(200);
        let front = links.json["front"].as_str().unwrap().to_owned();
        let back = links.json["back"].as_str().expect("a back link").to_owned();
        assert_eq!(links.json["url"], json!(front));
        assert!(links.json["expiresAt"].is_string());

        let image = app.get_url(&front).await;
        image.assert_status(200);
        assert_eq!(image.header("content-type"), Some("image/png"));
        assert_eq!(image.header("cache-control"), Some("private, no-store"));
        let bytes = image.text.as_bytes();
        assert!(!bytes.is_empty());
        assert!(!image.text.contains(&marker), "metadata was not stripped");
        assert!(!image.text.contains("tEXt"), "a text chunk survived");
        app.get_url(&back).await.assert_status(200);

        // A tampered or re-targeted link is the same 404 as a missing document.
        let tampered = if front.ends_with('0') { format!("{}1", &front[..front.len() - 1]) } else { format!("{}0", &front[..front.len() - 1]) };
        app.get_url(&tampered).await.assert_error(404, "document_not_found");
        app.get_url(&front.replace("side=front", "side=back").replace(&back, "")).await.assert_error(404, "document_not_found");
        let other_doc = uuid::Uuid::new_v4().to_string();
        app.get_url(&front.replace(&doc_id, &other_doc)).await.assert_error(404, "document_not_found");
        let expired = {
            let start = front.find("expires=").unwrap() + "expires=".len();
            let end = front[start..].find('&').map_or(front.len(), |e| start + e);
            format!("{}{}{}", &front[..start], 1_000_000_000, &front[end..])
        };
        app.get_url(&expired).await.assert_error(404, "document_not_found");

        // Erasure takes the images with it, links included.
        app.delete_person(&key, &id).await.assert_status(204);
        app.get_url(&front).await.assert_error(404, "document_not_found");
        app.get_document(&key, &doc_id).await.assert_error(404, "document_not_found");
    }
}

/// A document check must not fail for a reason outside the rules: every verdict the sandbox
/// magic last names force (docs/tier-policy.md).
#[tokio::test]
async fn sandbox_last_names_decide_documents() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    for (last_name, status, reasons) in [
        ("Manual", "manualReviewNeeded", json!([])),
        ("Resubmit", "resubmit", json!([])),
        ("Expired", "rejected", json!(["expired-document"])),
        ("Forged", "rejected", json!(["fraud"])),
    ] {
        let mut body = full_person_body(&unique_email(), &valid_ssn());
        body["lastName"] = json!(last_name);
        let person = app.new_person(&key, &body).await;
        let id = person["id"].as_str().unwrap();
        let res = app
            .upload_document_json(&key, id, &passport(document_png()))
            .await;
        res.assert_status(201);
        assert_eq!(res.json["status"], status, "{last_name}: {}", res.text);
        assert_eq!(res.json["reasons"], reasons, "{last_name}: {}", res.text);
        assert_eq!(res.json["identity"]["kycLevel"], "L1", "{last_name}");
    }
}
