//! Business identities (SPEC §2, seed 001): companies owned by a personal identity of the same
//! tenant; an unknown owner is `404 identity_owner_not_found`, a company as owner `422
//! identity_owner_must_be_of_type_person`. The tax id is write-only.

use kyc_model::Role;
use kycd_tests::{BASE, Method, TestApp, Violations, person_body, unique_email, violations};
use serde_json::{Value, json};

const EIN: &str = "12-3456789";

fn company_body(owner: &str) -> Value {
    json!({
        "legalName": "Acme Widgets, Inc.",
        "email": unique_email(),
        "phone": "+12025550165",
        "address": {
            "street1": "1 Industrial Way",
            "city": "Dover",
            "state": "DE",
            "postalCode": "19901",
            "country": "US"
        },
        "taxId": EIN,
        "formationRegion": "US-DE",
        "identityOwner": owner
    })
}

async fn owner(app: &TestApp, key: &str) -> Value {
    app.new_person(key, &person_body(&unique_email())).await
}

both_backends! {
    async fn a_company_joins_its_owners_container(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = owner(&app, &key).await;
        let person_id = person["id"].as_str().unwrap();
        let body = company_body(person_id);
        let created = app.create_business(&key, &body).await;
        created.assert_status(201);
        let company = created.json.clone();
        let id = company["id"].as_str().unwrap();
        assert_eq!(company["type"], "company");
        assert_eq!(company["legalName"], body["legalName"]);
        assert_eq!(company["email"], body["email"]);
        assert_eq!(company["address"], body["address"]);
        assert_eq!(company["formationRegion"], "US-DE");
        assert_eq!(company["identityOwner"], json!(person_id));
        assert_eq!(company["containerId"], person["containerId"]);
        assert!(uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 4));
        assert!(created.header("location").is_some_and(|l| l.ends_with(&format!("/business-identities/{id}"))));
        assert!(created.header("etag").is_some());
        // Write-only: the tax id comes back in no form.
        assert!(!created.text.contains("3456789"), "{}", created.text);

        let read = app.get_business(&key, id).await;
        read.assert_status(200);
        assert_eq!(read.json, company);
        assert!(!read.text.contains("3456789"));

        let container = app.get_container(&key, person["containerId"].as_str().unwrap()).await;
        // Unversioned answers carry a weak ETag of their content (SPEC §6).
        assert!(container.header("etag").is_some_and(|t| t.starts_with("W/\"h-")), "{:?}", container.headers);
        container.assert_status(200);
        assert_eq!(container.json["businessIdentities"], json!([company]));
        assert!(!container.text.contains("3456789"));

        let list = app.list_businesses(&key, "").await;
        list.assert_status(200);
        assert_eq!(list.json["data"], json!([company]));
        assert_eq!(list.json["meta"]["total"], 1);
        assert!(!list.text.contains("3456789"));
        // A company is not a person.
        assert_eq!(app.count_people(&key).await, 1);
        app.get_person(&key, id).await.assert_error(404, "identity_not_found");
    }

    async fn owners_must_be_people_of_the_tenant(app) {
        let (_, key) = app.tenant_with_key("acme");
        let (_, key_b) = app.tenant_with_key("other");
        let person = owner(&app, &key).await;
        let company = app.create_business(&key, &company_body(person["id"].as_str().unwrap())).await;
        company.assert_status(201);

        let missing = uuid::Uuid::new_v4().to_string();
        app.create_business(&key, &company_body(&missing))
            .await
            .assert_error(404, "identity_owner_not_found");
        app.create_business(&key, &company_body(company.json["id"].as_str().unwrap()))
            .await
            .assert_error(422, "identity_owner_must_be_of_type_person");
        // Another tenant's person is not an owner here: the same 404 as a missing one.
        app.create_business(&key_b, &company_body(person["id"].as_str().unwrap()))
            .await
            .assert_error(404, "identity_owner_not_found");
        // Nor is another tenant's company: it does not exist for this tenant.
        app.create_business(&key_b, &company_body(company.json["id"].as_str().unwrap()))
            .await
            .assert_error(404, "identity_owner_not_found");
        // An erased person owns nothing new.
        let erased = owner(&app, &key).await;
        app.delete_person(&key, erased["id"].as_str().unwrap()).await.assert_status(204);
        app.create_business(&key, &company_body(erased["id"].as_str().unwrap()))
            .await
            .assert_error(404, "identity_owner_not_found");

        let list = app.list_businesses(&key, "").await;
        assert_eq!(list.json["meta"]["total"], 1, "{}", list.text);
        assert_eq!(app.list_businesses(&key_b, "").await.json["meta"]["total"], 0);

        // A company whose owner is erased stays in its container and can still be updated;
        // only a new owner must be a live person (it takes the company to its container).
        let company_id = company.json["id"].as_str().unwrap();
        app.delete_person(&key, person["id"].as_str().unwrap()).await.assert_status(204);
        let renamed = app.patch_business(&key, company_id, &json!({ "legalName": "After Erasure Inc." })).await;
        renamed.assert_status(200);
        assert_eq!(renamed.json["legalName"], "After Erasure Inc.");
        assert_eq!(renamed.json["containerId"], person["containerId"]);
        app.patch_business(&key, company_id, &json!({ "identityOwner": erased["id"] }))
            .await
            .assert_error(404, "identity_owner_not_found");
        let heir = owner(&app, &key).await;
        let moved = app.patch_business(&key, company_id, &json!({ "identityOwner": heir["id"] })).await;
        moved.assert_status(200);
        assert_eq!(moved.json["containerId"], heir["containerId"]);
    }

    async fn invalid_companies_are_refused(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = owner(&app, &key).await;
        let base = company_body(person["id"].as_str().unwrap());
        let change = |key: &str, value: Option<Value>| {
            let mut body = base.clone();
            match value {
                Some(v) => body[key] = v,
                None => {
                    body.as_object_mut().unwrap().remove(key);
                }
            }
            body
        };
        let cases: Vec<(&str, Value, Violations)> = vec![
            ("formationRegion missing", change("formationRegion", None), violations(&[("formationRegion", "required")])),
            ("taxId missing", change("taxId", None), violations(&[("taxId", "required")])),
            ("US tax id not an EIN", change("taxId", Some(json!("12345"))), violations(&[("taxId", "ein")])),
            ("formation region unknown", change("formationRegion", Some(json!("US-XX"))), violations(&[("formationRegion", "unknown_code")])),
            ("owner not a UUID", change("identityOwner", Some(json!("abc"))), violations(&[("identityOwner", "uuid")])),
            ("owner missing", change("identityOwner", None), violations(&[("identityOwner", "required")])),
            ("legalName missing", change("legalName", None), violations(&[("legalName", "required")])),
            ("unknown field", change("type", Some(json!("company"))), violations(&[("type", "unknown_field")])),
            ("server-owned id", change("id", Some(json!(uuid::Uuid::new_v4().to_string()))), violations(&[("id", "unknown_field")])),
            ("bad phone", change("phone", Some(json!("555"))), violations(&[("phone", "e164")])),
        ];
        for (what, body, expected) in cases {
            let res = app.create_business(&key, &body).await;
            assert_eq!(res.violations(), expected, "{what}: {}", res.text);
        }
        app.call(Method::POST, &format!("{BASE}/business-identities"))
            .key(&key)
            .raw("{")
            .send()
            .await
            .assert_error(400, "invalid_json");
        assert_eq!(app.list_businesses(&key, "").await.json["meta"]["total"], 0);
    }

    async fn companies_are_patched_conditionally(app) {
        let (_, key) = app.tenant_with_key("acme");
        let person = owner(&app, &key).await;
        let created = app.create_business(&key, &company_body(person["id"].as_str().unwrap())).await;
        created.assert_status(201);
        let id = created.json["id"].as_str().unwrap();
        let etag = created.header("etag").unwrap().to_owned();

        let patched = app.patch_business(&key, id, &json!({ "legalName": "Acme Gadgets LLC" })).await;
        patched.assert_status(200);
        assert_eq!(patched.json["legalName"], "Acme Gadgets LLC");
        assert_eq!(patched.json["version"].as_i64(), created.json["version"].as_i64().map(|v| v + 1));

        let stale = app
            .call(Method::PATCH, &format!("{BASE}/business-identities/{id}"))
            .key(&key)
            .header("if-match", &etag)
            .json(&json!({ "legalName": "Stale Corp" }))
            .send()
            .await;
        stale.assert_error(412, "version_conflict");
        for (body, expected) in [
            (json!({}), ("", "empty_patch")),
            (json!({ "legalName": null }), ("legalName", "required")),
            (json!({ "taxId": "12345" }), ("taxId", "ein")),
            // A US company's tax id is an EIN, whatever shape the wrong one has.
            (json!({ "taxId": "no-digits" }), ("taxId", "ein")),
            (json!({ "taxId": "no-digits", "formationRegion": "DE" }), ("taxId", "format")),
            (json!({ "version": 7 }), ("version", "unknown_field")),
        ] {
            let res = app.patch_business(&key, id, &body).await;
            assert_eq!(res.violations(), vec![(expected.0.to_owned(), expected.1.to_owned())], "{body}: {}", res.text);
        }
        // The owner can change to another person, never to a company or a stranger.
        let other = owner(&app, &key).await;
        let moved = app.patch_business(&key, id, &json!({ "identityOwner": other["id"] })).await;
        moved.assert_status(200);
        assert_eq!(moved.json["identityOwner"], other["id"]);
        // It moves into the new owner's container (SPEC §2), and out of the old one.
        assert_eq!(moved.json["containerId"], other["containerId"]);
        let new_home = app.get_container(&key, other["containerId"].as_str().unwrap()).await;
        assert_eq!(new_home.json["businessIdentities"][0]["id"], json!(id), "{}", new_home.text);
        let old_home = app.get_container(&key, created.json["containerId"].as_str().unwrap()).await;
        assert_eq!(old_home.json["businessIdentities"], json!([]), "{}", old_home.text);
        app.patch_business(&key, id, &json!({ "identityOwner": id }))
            .await
            .assert_error(422, "identity_owner_must_be_of_type_person");
        app.patch_business(&key, id, &json!({ "identityOwner": uuid::Uuid::new_v4().to_string() }))
            .await
            .assert_error(404, "identity_owner_not_found");

        let read = app.get_business(&key, id).await;
        assert_eq!(read.json, moved.json);
        assert_eq!(read.header("etag"), moved.header("etag"));
    }

    async fn a_company_email_is_unique_in_its_tenant(app) {
        let (_, key) = app.tenant_with_key("acme");
        let (_, key_b) = app.tenant_with_key("other");
        let person = owner(&app, &key).await;
        let body = company_body(person["id"].as_str().unwrap());
        app.create_business(&key, &body).await.assert_status(201);
        // Another case of the same address is the same address.
        let mut again = company_body(person["id"].as_str().unwrap());
        again["email"] = json!(body["email"].as_str().unwrap().to_uppercase());
        app.create_business(&key, &again).await.assert_error(409, "email_already_in_use");
        assert_eq!(app.list_businesses(&key, "").await.json["meta"]["total"], 1);

        // A PATCH onto a taken address is refused and changes nothing.
        let second = app.create_business(&key, &company_body(person["id"].as_str().unwrap())).await;
        second.assert_status(201);
        let id = second.json["id"].as_str().unwrap();
        app.patch_business(&key, id, &json!({ "email": body["email"] }))
            .await
            .assert_error(409, "email_already_in_use");
        assert_eq!(app.get_business(&key, id).await.json, second.json);

        // Persons and companies share the tenant's addresses (seed 001: one identity
        // collection), in both directions, on create and on PATCH.
        let person_email = person["email"].as_str().unwrap();
        let mut taken = company_body(person["id"].as_str().unwrap());
        taken["email"] = json!(person_email.to_uppercase());
        app.create_business(&key, &taken).await.assert_error(409, "email_already_in_use");
        app.patch_business(&key, id, &json!({ "email": person_email }))
            .await
            .assert_error(409, "email_already_in_use");
        app.create_person(&key, &person_body(body["email"].as_str().unwrap()))
            .await
            .assert_error(409, "email_already_in_use");
        let other = owner(&app, &key).await;
        let other_id = other["id"].as_str().unwrap();
        let before = app.get_person(&key, other_id).await.json;
        app.patch_person(&key, other_id, &json!({ "email": body["email"] }))
            .await
            .assert_error(409, "email_already_in_use");
        assert_eq!(app.get_person(&key, other_id).await.json, before);
        assert_eq!(app.get_business(&key, id).await.json, second.json);
        assert_eq!(app.count_people(&key).await, 2);
        // A PATCH that keeps the address, or changes other fields only, is not a conflict.
        app.patch_business(&key, id, &json!({ "email": second.json["email"], "legalName": "Renamed Inc" }))
            .await
            .assert_status(200);
        app.patch_person(&key, other_id, &json!({ "email": other["email"], "firstName": "Jane" }))
            .await
            .assert_status(200);

        // Other tenants have their own addresses.
        let stranger = owner(&app, &key_b).await;
        let mut theirs = company_body(stranger["id"].as_str().unwrap());
        theirs["email"] = body["email"].clone();
        app.create_business(&key_b, &theirs).await.assert_status(201);
    }

    async fn the_company_list_filters_sorts_and_pages(app) {
        let (_, key) = app.tenant_with_key("acme");
        let alice = owner(&app, &key).await;
        let bob = owner(&app, &key).await;
        let (alice_id, bob_id) = (alice["id"].as_str().unwrap(), bob["id"].as_str().unwrap());
        let mut ids = Vec::new();
        for (owner_id, name) in [(alice_id, "Acme Widgets, Inc."), (bob_id, "Globex LLC"), (alice_id, "Initech Corp")] {
            let mut body = company_body(owner_id);
            body["legalName"] = json!(name);
            let created = app.create_business(&key, &body).await;
            created.assert_status(201);
            ids.push(created.json["id"].as_str().unwrap().to_owned());
            // Creation times are in milliseconds: apart, so the order is the creation order.
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
        let listed = |query: &'static str| {
            let app = &app;
            let key = &key;
            async move {
                let list = app.list_businesses(key, query).await;
                list.assert_status(200);
                list.json["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        // Newest first by default; `sort=createdAt` oldest first.
        let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
        assert_eq!(listed("").await, newest_first);
        assert_eq!(listed("sort=-createdAt").await, newest_first);
        assert_eq!(listed("sort=createdAt").await, ids);
        assert_eq!(app.list_businesses(&key, &format!("filter[identityOwner]={alice_id}")).await.json["meta"]["total"], 2);
        let by_bob = app.list_businesses(&key, &format!("filter[identityOwner]=in:{bob_id}")).await;
        assert_eq!(by_bob.json["data"][0]["id"], json!(ids[1]));
        assert_eq!(by_bob.json["meta"]["total"], 1);
        assert_eq!(app.list_businesses(&key, &format!("filter[identityOwner]=nin:{alice_id}")).await.json["meta"]["total"], 1);
        assert_eq!(listed("filter[name]=like:globex").await, vec![ids[1].clone()]);
        // A name, `in:` and `nin:` ignore case too, as for persons; `%` and `_` are literal.
        assert_eq!(listed("filter[name]=globex%20llc").await, vec![ids[1].clone()]);
        assert_eq!(listed("filter[name]=in:INITECH%20CORP,globex%20llc&sort=createdAt").await, ids[1..].to_vec());
        assert_eq!(listed("filter[name]=nin:globex%20llc&sort=createdAt").await, vec![ids[0].clone(), ids[2].clone()]);
        assert_eq!(listed("filter[name]=globex%25").await, Vec::<String>::new());
        assert_eq!(listed("filter[name]=globex").await, Vec::<String>::new());
        assert_eq!(listed("filter[type]=company&page[size]=2&page[number]=2&sort=createdAt").await, vec![ids[2].clone()]);
        assert_eq!(listed("filter[type]=person").await, Vec::<String>::new());
        // The person list knows its own type.
        assert_eq!(app.list_people(&key, "filter[type]=person").await.json["meta"]["total"], 2);
        assert_eq!(app.list_people(&key, "filter[type]=company").await.json["meta"]["total"], 0);
        assert_eq!(app.list_people(&key, "filter[type]=nin:company").await.json["meta"]["total"], 2);
        // Fields of a person are not filters of companies; bad values are named.
        assert_eq!(
            app.list_businesses(&key, "filter[kycLevel]=L1&filter[identityOwner]=bob&filter[type]=robot&sort=name").await.violations(),
            violations(&[("filter[kycLevel]", "unknown_field"), ("filter[identityOwner]", "value"), ("filter[type]", "value"), ("sort", "value")])
        );
        app.list_people(&key, &format!("filter[identityOwner]={alice_id}")).await.violations();
    }

    async fn companies_are_isolated_and_role_checked(app) {
        let (tenant, key) = app.tenant_with_key("acme");
        let (_, key_b) = app.tenant_with_key("other");
        let readonly = app.api_key(&tenant, Role::Readonly);
        let operator = app.api_key(&tenant, Role::Operator);
        let person = owner(&app, &key).await;
        let created = app.create_business(&key, &company_body(person["id"].as_str().unwrap())).await;
        created.assert_status(201);
        let id = created.json["id"].as_str().unwrap();
        let missing = uuid::Uuid::new_v4().to_string();

        for target in [id, missing.as_str()] {
            app.get_business(&key_b, target).await.assert_error(404, "identity_not_found");
            app.patch_business(&key_b, target, &json!({ "legalName": "Hijack Ltd" }))
                .await
                .assert_error(404, "identity_not_found");
        }
        assert_eq!(app.list_businesses(&key_b, "").await.json["data"], json!([]));

        app.get_business(&readonly, id).await.assert_status(200);
        app.list_businesses(&readonly, "").await.assert_status(200);
        app.patch_business(&readonly, id, &json!({ "legalName": "Nope Inc" }))
            .await
            .assert_error(403, "forbidden");
        app.create_business(&readonly, &company_body(person["id"].as_str().unwrap()))
            .await
            .assert_error(403, "forbidden");
        app.get_business(&operator, id).await.assert_error(403, "forbidden");
        app.get_business("nope", id).await.assert_error(401, "unauthorized");
        app.get_business(&key, "nope").await.violations();

        let read = app.get_business(&key, id).await;
        assert_eq!(read.json, created.json);
    }
}

#[tokio::test]
async fn company_idempotency_replays() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme");
    let person = owner(&app, &key).await;
    let body = company_body(person["id"].as_str().unwrap());
    let send = |body: Value| {
        let app = &app;
        let key = key.clone();
        async move {
            app.call(Method::POST, &format!("{BASE}/business-identities"))
                .key(&key)
                .header("idempotency-key", "company-1")
                .json(&body)
                .send()
                .await
        }
    };
    let first = send(body.clone()).await;
    first.assert_status(201);
    let again = send(body.clone()).await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text);
    let mut other = body;
    other["legalName"] = json!("Other Corp");
    send(other)
        .await
        .assert_error(422, "idempotency_key_reused");
    assert_eq!(app.list_businesses(&key, "").await.json["meta"]["total"], 1);
}
