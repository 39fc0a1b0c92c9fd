//! Personal and business identities.

use diesel::RunQueryDsl;
use kyc_model::{
    Address, AddressLine, AddressRegion, BusinessData, CountryCode, Email, FormationRegion,
    KycLevel, KycState, LegalName, PersonalIdentityId, Phone, PostalCode, ReviewStatus, Ssn, TaxId,
};
use kyc_store::{
    StoreError,
    business::{self, NewBusinessIdentity},
    personal::{self, NewPersonalIdentity},
};

use crate::{both_backends, common::*};

pub fn company(owner: PersonalIdentityId, tax: &str) -> BusinessData {
    BusinessData {
        legal_name: LegalName::parse("Acme Widgets GmbH").unwrap(),
        // One address per tax id: a company's email is unique in its tenant.
        email: Email::parse(&format!(
            "ops-{}@acme.example",
            tax.replace(|c: char| !c.is_ascii_alphanumeric(), "")
        ))
        .unwrap(),
        phone: Phone::parse("+4930123456").unwrap(),
        address: Address::new(
            AddressLine::parse("Unter den Linden 1").unwrap(),
            None,
            AddressLine::parse("Berlin").unwrap(),
            AddressRegion::Other {
                country: CountryCode::parse("DE").unwrap(),
                state: None,
                postal_code: PostalCode::parse("10117").unwrap(),
            },
        )
        .unwrap(),
        tax_id: TaxId::parse_for(CountryCode::parse("DE").unwrap(), tax).unwrap(),
        formation_region: FormationRegion::parse("DE").unwrap(),
        identity_owner: owner,
    }
}

both_backends! {
    fn locks_take_live_rows_of_the_tenant_only(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let p = identity(db, t, person(1));
        // Inside a write transaction the lock holds until commit; the update that follows
        // still goes through the version check.
        db.write(|c| {
            personal::lock(c, t, p.id)?;
            personal::update(c, db.keys(), &p)
        })
        .unwrap();
        assert!(db.write(|c| personal::lock(c, other, p.id)).unwrap_err().is_not_found());
        assert!(db.write(|c| personal::lock(c, t, PersonalIdentityId::random())).unwrap_err().is_not_found());
        // The locking read is the plain read, for the tenant's live rows only.
        let k = db.keys();
        let locked = db.write(|c| personal::find_locked(c, k, t, p.id)).unwrap();
        assert_eq!(locked, db.run(|c| personal::find(c, k, t, p.id)).unwrap());
        assert!(db.write(|c| personal::find_locked(c, k, other, p.id)).unwrap_err().is_not_found());
        assert!(db.write(|c| personal::find_locked(c, k, t, PersonalIdentityId::random())).unwrap_err().is_not_found());
        let company = db
            .write(|c| {
                business::insert(c, db.keys(), &NewBusinessIdentity { tenant_id: t, data: company(p.id, "12-3456789") })
            })
            .unwrap();
        db.write(|c| business::lock(c, t, company.id)).unwrap();
        assert!(db.write(|c| business::lock(c, other, company.id)).unwrap_err().is_not_found());
        db.write(|c| kyc_store::erasure::erase_personal_identity(c, t, p.id, kyc_model::Actor::System, None)).unwrap();
        assert!(db.write(|c| personal::lock(c, t, p.id)).unwrap_err().is_not_found());
    }

    fn personal_round_trips_every_field(db) {
        let t = tenant(db, "acme");
        let cont = container(db, t);
        let new = NewPersonalIdentity { id: kyc_model::PersonalIdentityId::random(), tenant_id: t, container_id: cont, data: person(1), kyc: kyc() };
        let made = db.write(|c| personal::insert(c, db.keys(), &new)).unwrap();
        assert_eq!(made.version, 1);
        assert_eq!(made.created_at, made.updated_at);
        assert_eq!(made.data, new.data);
        let read = db.run(|c| personal::find(c, db.keys(), t, made.id)).unwrap();
        assert_eq!(read, made, "every field, sealed or not, reads back equal");
        assert_eq!(read.data.ssn.as_ref().map(Ssn::as_str), Some("305464885"));
        assert_eq!(read.data.email.as_str(), "john.doe1@example.com");

        let by_container = db.run(|c| personal::find_by_container(c, db.keys(), t, cont)).unwrap();
        assert_eq!(by_container, Some(made.clone()));
        let by_email = db.run(|c| personal::find_by_email(c, db.keys(), t, &Email::parse("JOHN.DOE1@example.com").unwrap())).unwrap();
        assert_eq!(by_email, Some(made.clone()));
        assert!(db.run(|c| personal::exists(c, t, made.id)).unwrap());
        assert!(!db.run(|c| personal::exists(c, t, PersonalIdentityId::random())).unwrap());

        let bare = identity(db, t, bare_person("Ann", "Lee", "ann@example.com"));
        let bare_read = db.run(|c| personal::find(c, db.keys(), t, bare.id)).unwrap();
        assert_eq!(bare_read, bare);
        assert_eq!(bare_read.kyc, KycState::default());
    }

    fn personal_insert_rules(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let a = identity(db, t, person(1));
        // Same email, other case: in use in this tenant, free in another.
        let mut dup = person(2);
        dup.email = Email::parse("JOHN.DOE1@EXAMPLE.COM").unwrap();
        let cont = container(db, t);
        let new = NewPersonalIdentity { id: kyc_model::PersonalIdentityId::random(), tenant_id: t, container_id: cont, data: dup.clone(), kyc: KycState::default() };
        assert!(matches!(db.write(|c| personal::insert(c, db.keys(), &new)), Err(StoreError::EmailInUse)));
        identity(db, other, dup);
        // One person per container.
        let new = NewPersonalIdentity { id: kyc_model::PersonalIdentityId::random(), tenant_id: t, container_id: a.container_id, data: person(3), kyc: KycState::default() };
        assert!(matches!(
            db.write(|c| personal::insert(c, db.keys(), &new)),
            Err(StoreError::Duplicate { .. })
        ));
        // Another tenant's container is not found.
        let foreign = container(db, other);
        let new = NewPersonalIdentity { id: kyc_model::PersonalIdentityId::random(), tenant_id: t, container_id: foreign, data: person(4), kyc: KycState::default() };
        assert!(db.write(|c| personal::insert(c, db.keys(), &new)).unwrap_err().is_not_found());
    }

    fn personal_update_and_conflict(db) {
        let t = tenant(db, "acme");
        let made = identity(db, t, person(1));
        let mut changed = made.clone();
        changed.data.first_name = name("Johnny");
        changed.data.ssn = Some(Ssn::parse("219099999").unwrap());
        changed.data.date_of_birth = None;
        changed.kyc = kyc();
        let updated = db.write(|c| personal::update(c, db.keys(), &changed)).unwrap();
        assert_eq!(updated.version, 2);
        assert!(updated.updated_at >= made.updated_at);
        assert_eq!(updated.created_at, made.created_at);
        let read = db.run(|c| personal::find(c, db.keys(), t, made.id)).unwrap();
        assert_eq!(read, updated);
        assert_eq!(read.data.date_of_birth, None);

        // The first read is now stale: a typed conflict, and nothing written.
        let mut stale = made.clone();
        stale.data.last_name = name("Smith");
        match db.write(|c| personal::update(c, db.keys(), &stale)) {
            Err(StoreError::Conflict { entity: "personal_identity", expected: 1, actual: 2 }) => {}
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(db.run(|c| personal::find(c, db.keys(), t, made.id)).unwrap().data.last_name.as_str(), "Doe");

        // KYC-only update, with its own version check.
        let mut k = kyc();
        k.kyc_level = KycLevel::L2;
        k.review_status = ReviewStatus::Approved;
        let w = db.write(|c| personal::update_kyc(c, t, made.id, 2, 3, &k)).unwrap();
        assert_eq!(w.version, 3);
        let read = db.run(|c| personal::find(c, db.keys(), t, made.id)).unwrap();
        assert_eq!(read.kyc, k);
        assert_eq!(read.version, 3);
        assert_eq!(read.updated_at, w.updated_at);
        assert!(db.write(|c| personal::update_kyc(c, t, made.id, 2, 3, &k)).unwrap_err().is_conflict());
        // Completing a write of the same transaction keeps the version it moved to.
        k.review_status = ReviewStatus::Pending;
        let w = db.write(|c| personal::update_kyc(c, t, made.id, 3, 3, &k)).unwrap();
        assert_eq!(w.version, 3);
        let read = db.run(|c| personal::find(c, db.keys(), t, made.id)).unwrap();
        assert_eq!((read.version, read.kyc.review_status), (3, ReviewStatus::Pending));

        // Email changes are checked against the tenant's other identities.
        let other = identity(db, t, person(2));
        let mut steal = read.clone();
        steal.data.email = other.data.email.clone();
        assert!(matches!(db.write(|c| personal::update(c, db.keys(), &steal)), Err(StoreError::EmailInUse)));

        // Another tenant's identity, or a missing one, is not found rather than a conflict.
        let stranger = tenant(db, "globex");
        let mut foreign = read.clone();
        foreign.tenant_id = stranger;
        assert!(db.write(|c| personal::update(c, db.keys(), &foreign)).unwrap_err().is_not_found());
        assert!(db.write(|c| personal::update_kyc(c, t, PersonalIdentityId::random(), 1, 2, &k)).unwrap_err().is_not_found());
    }

    fn ssn_duplicates_use_the_blind_index(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let a = identity(db, t, person(1));
        let b = identity(db, t, person(2));
        identity(db, other, person(3));
        let mut no_ssn = person(4);
        no_ssn.ssn = None;
        identity(db, t, no_ssn);
        let ssn = Ssn::parse("305464885").unwrap();
        let all = db.run(|c| personal::ssn_duplicates(c, db.keys(), t, &ssn, None, 10)).unwrap();
        assert_eq!(all.len(), 2);
        let first = db.run(|c| personal::ssn_duplicates(c, db.keys(), t, &ssn, None, 1)).unwrap();
        assert_eq!(first.len(), 1, "the limit bounds the answer");
        assert!(all.starts_with(&first), "oldest first");
        assert!(all.contains(&a.id) && all.contains(&b.id));
        let others = db.run(|c| personal::ssn_duplicates(c, db.keys(), t, &ssn, Some(a.id), 10)).unwrap();
        assert_eq!(others, vec![b.id]);
        let none = db.run(|c| personal::ssn_duplicates(c, db.keys(), t, &Ssn::parse("111223333").unwrap(), None, 10)).unwrap();
        assert!(none.is_empty());
    }

    fn tenants_cannot_see_each_others_identities(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let a = identity(db, t, person(1));
        assert!(db.run(|c| personal::find(c, db.keys(), other, a.id)).unwrap_err().is_not_found());
        assert!(!db.run(|c| personal::exists(c, other, a.id)).unwrap());
        assert_eq!(db.run(|c| personal::find_by_container(c, db.keys(), other, a.container_id)).unwrap(), None);
        assert_eq!(db.run(|c| personal::find_by_email(c, db.keys(), other, &a.data.email)).unwrap(), None);
        assert!(db.run(|c| personal::ssn_duplicates(c, db.keys(), other, a.data.ssn.as_ref().unwrap(), None, 10)).unwrap().is_empty());
        let mut k = kyc();
        k.blocked = true;
        assert!(db.write(|c| personal::update_kyc(c, other, a.id, 1, 2, &k)).unwrap_err().is_not_found());
    }

    /// `find_each` answers each lookup as `find` would, in order: one statement for all of them
    /// on PostgreSQL, where a lookup of another tenant's, an erased or a missing identity, or
    /// one asked twice, must still get its own answer.
    fn find_each_answers_every_lookup_as_find_does(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let a = identity(db, t, person(1));
        let b = identity(db, other, person(2));
        let gone = identity(db, t, person(3));
        db.write(|c| kyc_store::erasure::erase_personal_identity(c, t, gone.id, kyc_model::Actor::System, None)).unwrap();
        let missing = PersonalIdentityId::random();
        let lookups = [(t, a.id), (t, b.id), (other, b.id), (t, gone.id), (t, missing), (t, a.id), (other, a.id)];
        let found = db.run(|c| personal::find_each(c, db.keys(), &lookups)).unwrap();
        assert_eq!(found.len(), lookups.len());
        for ((tenant, id), answer) in lookups.iter().zip(found) {
            match db.run(|c| personal::find(c, db.keys(), *tenant, *id)) {
                Ok(identity) => assert_eq!(answer.unwrap(), identity),
                Err(err) => {
                    assert!(err.is_not_found());
                    assert!(answer.unwrap_err().is_not_found());
                }
            }
        }
        let hits = db.run(|c| personal::find_each(c, db.keys(), &lookups)).unwrap();
        let hits: Vec<_> = hits.into_iter().filter_map(Result::ok).map(|p| p.id).collect();
        assert_eq!(hits, vec![a.id, b.id, a.id]);
        assert!(db.run(|c| personal::find_each(c, db.keys(), &[])).unwrap().is_empty());
    }

    /// A stored phone number is read back by its form (E.164) alone: whether it is possible for
    /// its country is an input rule of numbering metadata that changes between releases.
    fn a_stored_phone_is_read_by_its_form(db) {
        let t = tenant(db, "acme");
        let a = identity(db, t, person(1));
        let set = |phone: &str| {
            db.write(|c| {
                diesel::sql_query(format!("UPDATE personal_identities SET phone = '{phone}' WHERE id = '{}'", a.id))
                    .execute(c)?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        };
        // No such calling code today: not possible, still well formed.
        set("+99912345678");
        let read = db.run(|c| personal::find(c, db.keys(), t, a.id)).unwrap();
        assert_eq!(read.data.phone.as_str(), "+99912345678");
        assert!(read.data.phone.check_possible().is_err());
        set("+1 202 555 0165");
        match db.run(|c| personal::find(c, db.keys(), t, a.id)) {
            Err(StoreError::CorruptRow { table: "personal_identities", column: "phone" }) => {}
            other => panic!("expected a corrupt row, got {other:?}"),
        }
    }

    fn corrupt_rows_are_errors_not_panics(db) {
        let t = tenant(db, "acme");
        let a = identity(db, t, person(1));
        db.write(|c| {
            diesel::sql_query(format!("UPDATE personal_identities SET kyc_level = 'L9' WHERE id = '{}'", a.id))
                .execute(c)?;
            Ok(())
        })
        .unwrap();
        match db.run(|c| personal::find(c, db.keys(), t, a.id)) {
            Err(StoreError::CorruptRow { table: "personal_identities", column: "kyc_level" }) => {}
            other => panic!("expected a corrupt row, got {other:?}"),
        }
        // A ciphertext moved to another row does not open there (it is bound to its row).
        let b = identity(db, t, person(2));
        db.write(|c| {
            diesel::sql_query(format!(
                "UPDATE personal_identities SET ssn_ct = (SELECT ssn_ct FROM personal_identities WHERE id = '{}') WHERE id = '{}'",
                a.id, b.id
            ))
            .execute(c)?;
            Ok(())
        })
        .unwrap();
        assert!(matches!(db.run(|c| personal::find(c, db.keys(), t, b.id)), Err(StoreError::Crypto { .. })));
        // Without the key, nothing opens.
        let wrong = kyc_store::Keyring::from_master_key("k1", &[1; 32]).unwrap();
        let c2 = identity(db, t, person(3));
        assert!(matches!(db.run(|c| personal::find(c, &wrong, t, c2.id)), Err(StoreError::Crypto { .. })));
    }

    fn business_identities(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let owner = identity(db, t, person(1));
        let new = NewBusinessIdentity { tenant_id: t, data: company(owner.id, "DE123/456.7") };
        let made = db.write(|c| business::insert(c, db.keys(), &new)).unwrap();
        assert_eq!(made.container_id, owner.container_id, "joins the owner's container");
        assert_eq!(made.version, 1);
        let read = db.run(|c| business::find(c, db.keys(), t, made.id)).unwrap();
        assert_eq!(read, made);
        assert_eq!(read.data.tax_id.as_str(), "DE123/456.7");
        assert!(db.run(|c| business::exists(c, t, *made.id.as_uuid())).unwrap());
        assert!(!db.run(|c| business::exists(c, t, *owner.id.as_uuid())).unwrap());
        assert!(!db.run(|c| business::exists(c, other, *made.id.as_uuid())).unwrap());
        let second = db.write(|c| business::insert(c, db.keys(), &NewBusinessIdentity { tenant_id: t, data: company(owner.id, "123456789") })).unwrap();
        assert_eq!(db.run(|c| business::find(c, db.keys(), t, second.id)).unwrap().data.tax_id.as_str(), "123456789");
        let in_container = db.run(|c| business::list_by_container(c, db.keys(), t, owner.container_id)).unwrap();
        // Oldest first; two rows created within the same instant are ordered by id.
        let mut expected = vec![made.clone(), second.clone()];
        expected.sort_by_key(|b| (b.created_at, *b.id.as_uuid()));
        assert_eq!(in_container, expected);
        let query = kyc_store::list::ListQuery { page: kyc_store::list::PageRequest::page(1, 1), ..Default::default() };
        let page = db.run(|c| business::list(c, db.keys(), t, &query)).unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(page.items.len(), 1);
        // Filters of the company list: the owner, the legal name (like), the type.
        let of = |pairs: &[(&str, &str)]| kyc_store::list::ListQuery::parse_for(kyc_store::list::Listing::Companies, pairs.iter().copied()).unwrap();
        let owner_id = owner.id.to_string();
        let count = |q: &kyc_store::list::ListQuery| db.run(|c| business::list(c, db.keys(), t, q)).unwrap().total;
        assert_eq!(count(&of(&[("filter[identityOwner]", owner_id.as_str())])), 2);
        assert_eq!(count(&of(&[("filter[identityOwner]", &format!("nin:{owner_id}"))])), 0);
        assert_eq!(count(&of(&[("filter[name]", "like:WIDGETS")])), 2);
        assert_eq!(count(&of(&[("filter[name]", "like:globex")])), 0);
        assert_eq!(count(&of(&[("filter[type]", "person")])), 0);
        assert!(kyc_store::list::ListQuery::parse_for(kyc_store::list::Listing::Companies, [("filter[kycLevel]", "L1")]).is_err());

        // Updates are versioned; the owner must stay a person of the tenant.
        let mut changed = read.clone();
        changed.data.legal_name = LegalName::parse("Acme Holding GmbH").unwrap();
        let updated = db.write(|c| business::update(c, db.keys(), &changed)).unwrap();
        assert_eq!(updated.version, 2);
        assert_eq!(db.run(|c| business::find(c, db.keys(), t, made.id)).unwrap(), updated);
        assert!(db.write(|c| business::update(c, db.keys(), &changed)).unwrap_err().is_conflict());

        // A company's email is unique in its tenant, on insert and on update.
        let taken = NewBusinessIdentity { tenant_id: t, data: company(owner.id, "123456789") };
        assert!(matches!(db.write(|c| business::insert(c, db.keys(), &taken)), Err(StoreError::EmailInUse)));
        let mut onto_taken = updated.clone();
        onto_taken.data.email = second.data.email.clone();
        assert!(matches!(db.write(|c| business::update(c, db.keys(), &onto_taken)), Err(StoreError::EmailInUse)));
        assert_eq!(db.run(|c| business::find(c, db.keys(), t, made.id)).unwrap(), updated);

        // Owners: missing, of another tenant, or a business are all "identity_owner" not found.
        let foreign_owner = identity(db, other, person(9));
        for owner in [PersonalIdentityId::random(), foreign_owner.id, PersonalIdentityId::from_uuid(*made.id.as_uuid())] {
            let new = NewBusinessIdentity { tenant_id: t, data: company(owner, "DE1") };
            assert!(matches!(
                db.write(|c| business::insert(c, db.keys(), &new)),
                Err(StoreError::NotFound { entity: "identity_owner" })
            ));
        }
        assert!(db.run(|c| business::find(c, db.keys(), other, made.id)).unwrap_err().is_not_found());
        assert!(db.run(|c| business::list_by_container(c, db.keys(), other, owner.container_id)).unwrap().is_empty());
    }
}
