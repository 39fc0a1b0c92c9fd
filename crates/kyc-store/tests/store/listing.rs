//! `GET /personal-identities` queries: filters, sorts, pages, totals, tenant scope.

use kyc_model::{KycLevel, KycState, PersonalIdentity, ReviewStatus};
use kyc_store::{
    list::{FilterField, ListQuery, PageRequest, Sort},
    personal,
};

use crate::{both_backends, common::*};

fn ids(items: &[PersonalIdentity]) -> Vec<String> {
    items
        .iter()
        .map(|p| p.data.first_name.as_str().to_owned())
        .collect()
}

fn q(pairs: &[(&str, &str)]) -> ListQuery {
    ListQuery::parse(pairs.iter().copied()).unwrap()
}

/// Five people of tenant "acme" (created in this order) and one of "globex".
fn fixture(db: &TestDb) -> (kyc_model::TenantId, Vec<PersonalIdentity>) {
    let t = tenant(db, "acme");
    let other = tenant(db, "globex");
    let mut people = Vec::new();
    let specs = [
        (
            "Alice",
            "Smith",
            "alice@example.com",
            KycLevel::L0,
            ReviewStatus::None,
            false,
        ),
        (
            "Bob",
            "Smithers",
            "bob@example.com",
            KycLevel::L1,
            ReviewStatus::Pending,
            false,
        ),
        (
            "Carol",
            "Jones",
            "carol_x@example.org",
            KycLevel::L2,
            ReviewStatus::Approved,
            false,
        ),
        (
            "Dave",
            "O'Brien",
            "dave%1@example.org",
            KycLevel::L1,
            ReviewStatus::Rejected,
            true,
        ),
        (
            "Eve",
            "SMITH",
            "eve@example.net",
            KycLevel::L0,
            ReviewStatus::Pending,
            false,
        ),
    ];
    for (first, last, email, level, review, blocked) in specs {
        let mut p = identity(db, t, bare_person(first, last, email));
        let k = KycState {
            kyc_level: level,
            review_status: review,
            blocked,
            ..KycState::default()
        };
        let w = db
            .write(|c| personal::update_kyc(c, t, p.id, p.version, p.version + 1, &k))
            .unwrap();
        p.kyc = k;
        p.version = w.version;
        p.updated_at = w.updated_at;
        people.push(p);
        // Distinct creation times so sorting is deterministic on both backends.
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    identity(
        db,
        other,
        bare_person("Alice", "Smith", "alice@example.com"),
    );
    (t, people)
}

both_backends! {
    fn defaults_sort_newest_first_with_total(db) {
        let (t, people) = fixture(db);
        let page = db.run(|c| personal::list(c, db.keys(), t, &ListQuery::default())).unwrap();
        assert_eq!(page.total, 5, "the other tenant's Alice is not counted");
        assert_eq!(ids(&page.items), ["Eve", "Dave", "Carol", "Bob", "Alice"]);
        assert_eq!(page.items[4], people[0], "list rows convert like find");
        let asc = db.run(|c| personal::list(c, db.keys(), t, &q(&[("sort", "createdAt")]))).unwrap();
        assert_eq!(ids(&asc.items), ["Alice", "Bob", "Carol", "Dave", "Eve"]);
    }

    fn equality_in_and_not_in(db) {
        let (t, people) = fixture(db);
        let run = |pairs: &[(&str, &str)]| {
            let page = db.run(|c| personal::list(c, db.keys(), t, &q(pairs))).unwrap();
            assert_eq!(page.total as usize, page.items.len());
            let mut names = ids(&page.items);
            names.sort();
            names
        };
        assert_eq!(run(&[("filter[kycLevel]", "L1")]), ["Bob", "Dave"]);
        assert_eq!(run(&[("filter[kycLevel]", "in:L0,L2")]), ["Alice", "Carol", "Eve"]);
        assert_eq!(run(&[("filter[reviewStatus]", "nin:pending,none")]), ["Carol", "Dave"]);
        assert_eq!(run(&[("filter[blocked]", "true")]), ["Dave"]);
        assert_eq!(run(&[("filter[blocked]", "nin:true")]), ["Alice", "Bob", "Carol", "Eve"]);
        assert_eq!(run(&[("filter[email]", "BOB@example.com")]), ["Bob"]);
        assert_eq!(run(&[("filter[firstName]", "Carol")]), ["Carol"]);
        assert_eq!(run(&[("filter[lastName]", "in:Smith,Jones")]), ["Alice", "Carol"]);
        assert_eq!(run(&[("filter[id]", &people[2].id.to_string())]), ["Carol"]);
        assert_eq!(run(&[("filter[containerId]", &people[3].container_id.to_string())]), ["Dave"]);
        assert_eq!(
            run(&[("filter[kycLevel]", "in:L0,L1"), ("filter[reviewStatus]", "pending")]),
            ["Bob", "Eve"]
        );
        assert!(run(&[("filter[id]", &kyc_model::PersonalIdentityId::random().to_string())]).is_empty());
    }

    fn like_is_a_case_insensitive_substring_match(db) {
        let (t, _) = fixture(db);
        let run = |pairs: &[(&str, &str)]| {
            let mut names = ids(&db.run(|c| personal::list(c, db.keys(), t, &q(pairs))).unwrap().items);
            names.sort();
            names
        };
        assert_eq!(run(&[("filter[lastName]", "like:smith")]), ["Alice", "Bob", "Eve"]);
        assert_eq!(run(&[("filter[lastName]", "like:MITHE")]), ["Bob"]);
        assert_eq!(run(&[("filter[firstName]", "like:a")]), ["Alice", "Carol", "Dave"]);
        assert_eq!(run(&[("filter[email]", "like:.ORG")]), ["Carol", "Dave"]);
        // Wildcards in the input match themselves only.
        assert_eq!(run(&[("filter[email]", "like:%1")]), ["Dave"]);
        assert_eq!(run(&[("filter[email]", "like:_x")]), ["Carol"]);
        assert!(run(&[("filter[email]", "like:_y")]).is_empty());
        assert_eq!(run(&[("filter[lastName]", "like:'b")]), ["Dave"]);
    }

    fn pages_and_all(db) {
        let (t, _) = fixture(db);
        let page = |n: &str, s: &str| {
            db.run(|c| personal::list(c, db.keys(), t, &q(&[("page[number]", n), ("page[size]", s), ("sort", "createdAt")]))).unwrap()
        };
        let p1 = page("1", "2");
        assert_eq!((ids(&p1.items), p1.total), (vec!["Alice".to_owned(), "Bob".to_owned()], 5));
        assert_eq!(p1.request, PageRequest::Page { number: 1, size: 2 });
        assert_eq!(ids(&page("3", "2").items), ["Eve"]);
        assert!(page("4", "2").items.is_empty());
        assert_eq!(page("4", "2").total, 5);
        let all = db.run(|c| personal::list(c, db.keys(), t, &q(&[("all", "true"), ("sort", "-updatedAt")]))).unwrap();
        assert_eq!(all.items.len(), 5);
        assert_eq!(all.request, PageRequest::All);
        let by_update = ListQuery { sort: Sort::UpdatedAtAsc, ..ListQuery::default() }
            .with_filter(FilterField::KycLevel, "in:L1,L2")
            .unwrap();
        let page = db.run(|c| personal::list(c, db.keys(), t, &by_update)).unwrap();
        assert_eq!(ids(&page.items), ["Bob", "Carol", "Dave"]);
    }

    /// The unfiltered total is the tenant's live count, kept by creates and erasures (across
    /// its shards); it agrees with a count of the rows, which a filter makes the list run.
    fn the_unfiltered_total_is_kept_by_creates_and_erasures(db) {
        let (t, people) = fixture(db);
        let more: Vec<_> = (0..40).map(|n| identity(db, t, person(n))).collect();
        let totals = || {
            let kept = db.run(|c| personal::list(c, db.keys(), t, &ListQuery::default())).unwrap();
            let counted = db
                .run(|c| personal::list(c, db.keys(), t, &q(&[("filter[blocked]", "in:true,false")])))
                .unwrap();
            (kept.total, counted.total)
        };
        assert_eq!(totals(), (45, 45));
        // A create that fails (the email is taken) counts nothing.
        let keys = db.keys().clone();
        let taken = db.write(|c| {
            let container = kyc_store::containers::create(c, t)?;
            personal::insert(c, &keys, &personal::NewPersonalIdentity {
                id: kyc_model::PersonalIdentityId::random(),
                tenant_id: t,
                container_id: container.id,
                data: bare_person("Al", "Smith", "alice@example.com"),
                kyc: KycState::default(),
            })
        });
        assert!(matches!(taken, Err(kyc_store::StoreError::EmailInUse)), "{taken:?}");
        assert_eq!(totals(), (45, 45));
        for p in [&people[0], &more[0], &more[39]] {
            db.db.erase_personal_identity(t, p.id, kyc_model::Actor::System, None).unwrap();
        }
        // Erasing again finds nothing and counts nothing.
        assert!(db.db.erase_personal_identity(t, people[0].id, kyc_model::Actor::System, None).unwrap_err().is_not_found());
        assert_eq!(totals(), (42, 42));
        let other = tenant(db, "initech");
        assert_eq!(db.run(|c| personal::list(c, db.keys(), other, &ListQuery::default())).unwrap().total, 0);
    }
}
