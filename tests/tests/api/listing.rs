//! `GET /personal-identities` (SPEC §6, seed 001): filters (`=`, `like:`, `in:`, `nin:`),
//! sort, pagination, `all=true`, the total count, and refused queries.

use kycd_tests::{TestApp, TestResponse, full_person_body, person_body, valid_ssn};
use serde_json::Value;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

fn ids(res: &TestResponse) -> Vec<String> {
    res.assert_status(200);
    res.json["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data in {}", res.text))
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Five people, oldest first: three L0 (alice, bob, carol) and two L1 (dave, erin).
async fn five_people(app: &TestApp, key: &str, tag: &str) -> Vec<Value> {
    let mut people = Vec::new();
    for (name, full) in [
        ("alice", false),
        ("bob", false),
        ("carol", false),
        ("dave", true),
        ("erin", true),
    ] {
        let email = format!("{name}.{tag}@list.example.com");
        let body = if full {
            full_person_body(&email, &valid_ssn())
        } else {
            person_body(&email)
        };
        let mut body = body;
        let mut first = name.to_owned();
        first[..1].make_ascii_uppercase();
        body["firstName"] = Value::from(first);
        let person = app.new_person(key, &body).await;
        assert_eq!(
            person["kycLevel"],
            if full { "L1" } else { "L0" },
            "{person}"
        );
        people.push(person);
    }
    people
}

both_backends! {
    async fn filters_sorting_and_pages(app) {
        let (_, key) = app.tenant_with_key("acme");
        let people = five_people(&app, &key, "t1").await;
        let id = |i: usize| people[i]["id"].as_str().unwrap().to_owned();
        let all_ids = sorted((0..5).map(id).collect());

        // Default: newest first, page 1 of 30, with the total.
        let res = app.list_people(&key, "").await;
        assert_eq!(res.json["meta"]["total"], 5);
        assert_eq!(res.json["meta"]["page"]["number"], 1);
        assert_eq!(res.json["meta"]["page"]["size"], 30);
        let newest_first = ids(&res);
        assert_eq!(sorted(newest_first.clone()), all_ids);
        let created: Vec<OffsetDateTime> = res.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| OffsetDateTime::parse(p["createdAt"].as_str().unwrap(), &Rfc3339).unwrap())
            .collect();
        assert!(created.windows(2).all(|w| w[0] >= w[1]), "not newest first: {created:?}");
        let res = app.list_people(&key, "sort=-createdAt").await;
        assert_eq!(ids(&res), newest_first);
        let res = app.list_people(&key, "sort=createdAt").await;
        let oldest_first = ids(&res);
        let mut reversed = newest_first.clone();
        reversed.reverse();
        if created.windows(2).all(|w| w[0] > w[1]) {
            assert_eq!(oldest_first, reversed);
            assert_eq!(oldest_first, (0..5).map(id).collect::<Vec<_>>());
        }

        // Equality, like, in, nin.
        assert_eq!(ids(&app.list_people(&key, "filter[email]=bob.t1@list.example.com").await), vec![id(1)]);
        assert_eq!(ids(&app.list_people(&key, "filter[email]=BOB.T1@LIST.EXAMPLE.COM").await), vec![id(1)]);
        assert_eq!(ids(&app.list_people(&key, "filter[email]=like:carol").await), vec![id(2)]);
        assert_eq!(ids(&app.list_people(&key, "filter[email]=like:ERIN.t1").await), vec![id(4)]);
        assert_eq!(ids(&app.list_people(&key, "filter[email]=like:list.example").await).len(), 5);
        assert_eq!(ids(&app.list_people(&key, "filter[email]=like:nobody").await), Vec::<String>::new());
        assert_eq!(ids(&app.list_people(&key, "filter[firstName]=like:ali").await), vec![id(0)]);
        // Seed 001's `name` (its sample is `filter[name]=fred`): the first, the last or the
        // full name, ignoring case.
        assert_eq!(ids(&app.list_people(&key, "filter[name]=Alice").await), vec![id(0)]);
        assert_eq!(ids(&app.list_people(&key, "filter[name]=alice").await), vec![id(0)]);
        assert_eq!(ids(&app.list_people(&key, "filter[name]=alice%20doe").await), vec![id(0)]);
        assert_eq!(ids(&app.list_people(&key, "filter[name]=ALICE%20Doe").await), vec![id(0)]);
        assert_eq!(ids(&app.list_people(&key, "filter[name]=Alic").await), Vec::<String>::new());
        assert_eq!(ids(&app.list_people(&key, "filter[name]=Alic_").await), Vec::<String>::new(), "no wildcards");
        assert_eq!(ids(&app.list_people(&key, "filter[name]=doe").await).len(), 5);
        assert_eq!(ids(&app.list_people(&key, "filter[name]=nin:alice,bob").await).len(), 3);
        assert_eq!(ids(&app.list_people(&key, "filter[name]=Doe").await).len(), 5);
        assert_eq!(ids(&app.list_people(&key, "filter[name]=like:ali").await), vec![id(0)]);
        assert_eq!(ids(&app.list_people(&key, "filter[name]=like:OE").await).len(), 5);
        assert_eq!(sorted(ids(&app.list_people(&key, "filter[name]=in:Bob,Carol").await)), sorted(vec![id(1), id(2)]));
        // The longest list there is: a hundred names, each compared with four forms of the name.
        let hundred: Vec<String> = (0..99).map(|i| format!("Name{}", char::from(b'a' + (i % 26) as u8))).chain(["carol".to_owned()]).collect();
        assert_eq!(ids(&app.list_people(&key, &format!("filter[name]=in:{}", hundred.join(","))).await), vec![id(2)]);
        assert_eq!(ids(&app.list_people(&key, &format!("filter[name]=nin:{}", hundred.join(","))).await).len(), 4);
        assert_eq!(ids(&app.list_people(&key, "filter[name]=nin:Bob,Doe").await), Vec::<String>::new());
        assert_eq!(ids(&app.list_people(&key, "filter[name]=nin:Bob,Carol").await).len(), 3);
        assert_eq!(sorted(ids(&app.list_people(&key, "filter[kycLevel]=L1").await)), sorted(vec![id(3), id(4)]));
        assert_eq!(sorted(ids(&app.list_people(&key, "filter[kycLevel]=in:L0,L1").await)), all_ids);
        assert_eq!(sorted(ids(&app.list_people(&key, "filter[kycLevel]=in:L1,L2").await)), sorted(vec![id(3), id(4)]));
        assert_eq!(sorted(ids(&app.list_people(&key, "filter[kycLevel]=nin:L1").await)), sorted(vec![id(0), id(1), id(2)]));
        assert_eq!(sorted(ids(&app.list_people(&key, "filter[kycLevel]=nin:L0,L1").await)), Vec::<String>::new());
        assert_eq!(
            sorted(ids(&app.list_people(&key, &format!("filter[id]=in:{},{}", id(0), id(4))).await)),
            sorted(vec![id(0), id(4)])
        );
        // Filters combine with AND, and the total counts matches, not the page.
        let res = app.list_people(&key, "filter[kycLevel]=L0&filter[firstName]=like:O&page[size]=1").await;
        assert_eq!(res.json["meta"]["total"], 2, "{}", res.text); // bob, carol
        assert_eq!(ids(&res).len(), 1);

        // Pages.
        let page = |n: u32| format!("sort=createdAt&page[size]=2&page[number]={n}");
        let p1 = app.list_people(&key, &page(1)).await;
        let p2 = app.list_people(&key, &page(2)).await;
        let p3 = app.list_people(&key, &page(3)).await;
        let p4 = app.list_people(&key, &page(4)).await;
        assert_eq!(ids(&p1).len(), 2);
        assert_eq!(ids(&p2).len(), 2);
        assert_eq!(ids(&p3).len(), 1);
        assert_eq!(ids(&p4), Vec::<String>::new());
        for p in [&p1, &p2, &p3, &p4] {
            assert_eq!(p.json["meta"]["total"], 5);
            assert_eq!(p.json["meta"]["page"]["size"], 2);
        }
        assert_eq!(p3.json["meta"]["page"]["number"], 3);
        let walked: Vec<String> = [&p1, &p2, &p3].iter().flat_map(|p| ids(p)).collect();
        assert_eq!(walked, oldest_first, "pages overlap or skip");

        // all=true returns every match at once.
        let res = app.list_people(&key, "all=true&page[size]=1").await;
        assert_eq!(sorted(ids(&res)), all_ids);
        assert_eq!(res.json["meta"]["total"], 5);
    }

    async fn refused_queries_list_every_violation(app) {
        let (_, key) = app.tenant_with_key("acme");
        let cases: [(&str, &[(&str, &str)]); 14] = [
            ("filter[ssn]=305464885", &[("filter[ssn]", "unknown_field")]),
            ("filter[kycLevel]=L9", &[("filter[kycLevel]", "value")]),
            ("filter[kycLevel]=in:L0,L9", &[("filter[kycLevel]", "value")]),
            ("filter[kycLevel]=like:L", &[("filter[kycLevel]", "operator")]),
            ("filter[id]=not-a-uuid", &[("filter[id]", "value")]),
            ("filter[email]=not-an-email", &[("filter[email]", "value")]),
            // A NUL cut SQLite's comparison short and failed PostgreSQL's encoding (500).
            ("filter[name]=like:Ann%00x", &[("filter[name]", "value")]),
            ("filter[firstName]=in:Ann,Bo%00", &[("filter[firstName]", "value")]),
            ("page[size]=0", &[("page[size]", "range")]),
            ("page[size]=101", &[("page[size]", "range")]),
            ("page[number]=0", &[("page[number]", "range")]),
            ("sort=lastName", &[("sort", "value")]),
            ("all=yes", &[("all", "value")]),
            ("pageSize=10&sort=-name", &[("pageSize", "unknown_parameter"), ("sort", "value")]),
        ];
        for (query, expected) in cases {
            let res = app.list_people(&key, query).await;
            let expected: Vec<(String, String)> =
                expected.iter().map(|(f, r)| ((*f).to_owned(), (*r).to_owned())).collect();
            let mut got = res.violations();
            got.sort();
            assert_eq!(got, expected, "{query}: {}", res.text);
        }
    }
}
