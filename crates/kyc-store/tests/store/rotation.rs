//! Key rotation: old ciphertexts stay readable with the old key in the keyring, and
//! `reseal_batch` moves them to the new key so the old one can be dropped.

use kyc_model::{EventType, PersonalIdentityId};
use kyc_store::{
    DataKey, Keyring, StoreError,
    business::{self, NewBusinessIdentity},
    documents::{self, ImageSide},
    idempotency::{self, Begin, StoredResponse},
    personal, rotation,
    webhooks::{self, WebhookConfigInput, WebhookSecret},
};

use crate::{both_backends, common::*, records::new_document};

fn rotated() -> Keyring {
    Keyring::new(
        DataKey::derive("k2", &[77; 32]).unwrap(),
        Keyring::derive_blind_index_key(&MASTER),
    )
    .with_previous(DataKey::derive("k1", &MASTER).unwrap())
}

fn only_new() -> Keyring {
    Keyring::new(
        DataKey::derive("k2", &[77; 32]).unwrap(),
        Keyring::derive_blind_index_key(&MASTER),
    )
}

both_backends! {
    fn rotate_then_drop_the_old_key(db) {
        let t = tenant(db, "acme");
        let p = identity(db, t, person(1));
        let k = db.keys();
        let company = db.write(|c| business::insert(c, k, &NewBusinessIdentity { tenant_id: t, data: crate::identities::company(p.id, "DE42") })).unwrap();
        let doc = db.write(|c| documents::insert(c, k, &new_document(t, p.id, b"rot"))).unwrap();
        db.write(|c| webhooks::put_config(c, k, t, &WebhookConfigInput {
            url: "https://h.example".into(), enabled: true, event_types: vec![EventType::IdentityCreated], secret: WebhookSecret::new("s3cret"),
        })).unwrap();
        assert_eq!(db.write(|c| idempotency::begin(c, k, t, "r", b"h", kyc_store::now())).unwrap(), Begin::Started);
        let resp = StoredResponse { status: 200, headers: vec![], body: b"{}".to_vec() };
        db.write(|c| idempotency::complete(c, k, t, "r", &resp, None)).unwrap();

        let new_keys = rotated();
        let read_all = |keys: &Keyring| -> Result<(), StoreError> {
            db.run(|c| {
                assert_eq!(personal::find(c, keys, t, p.id)?, p);
                assert_eq!(business::find(c, keys, t, company.id)?, company);
                documents::image(c, keys, t, doc.id, ImageSide::Back)?;
                assert_eq!(webhooks::get_config(c, keys, t)?.unwrap().secret.as_str(), "s3cret");
                Ok(())
            })?;
            match db.write(|c| idempotency::begin(c, keys, t, "r", b"h", kyc_store::now()))? {
                Begin::Replay(r) => assert_eq!(r, resp),
                other => panic!("expected a replay, got {other:?}"),
            }
            Ok(())
        };
        read_all(&new_keys).unwrap();
        assert!(matches!(read_all(&only_new()), Err(StoreError::Crypto { .. })), "k1 is still needed");
        // SSN duplicates still match: the blind-index key did not change.
        let dupes = db.run(|c| personal::ssn_duplicates(c, &new_keys, t, p.data.ssn.as_ref().unwrap(), None::<PersonalIdentityId>, 10)).unwrap();
        assert_eq!(dupes, vec![p.id]);

        let mut total = 0;
        loop {
            let n = db.write(|c| rotation::reseal_batch(c, &new_keys, 1)).unwrap();
            if n == 0 { break; }
            total += n;
        }
        assert_eq!(total, 1 + 1 + 2 + 1 + 1, "identity, company, two images, webhook secret, response");
        read_all(&only_new()).unwrap();
    }
}

both_backends! {
    /// A new master secret brings a new blind-index key: SSN duplicates indexed under the old
    /// one are still found while it is in the keyring, and resealing re-indexes them, so that
    /// it can be dropped.
    fn a_new_master_keeps_finding_ssn_duplicates(db) {
        let t = tenant(db, "acme");
        let old = identity(db, t, person(1));
        let ssn = old.data.ssn.clone().unwrap();
        let dupes = |keys: &Keyring| {
            db.run(|c| personal::ssn_duplicates(c, keys, t, &ssn, None::<PersonalIdentityId>, 10)).unwrap()
        };
        let new_master = [77; 32];
        let rotated = Keyring::from_master_key("k2", &new_master).unwrap().with_previous_master("k1", &MASTER).unwrap();
        let only_new = Keyring::from_master_key("k2", &new_master).unwrap();
        assert_eq!(dupes(&rotated), vec![old.id]);
        assert!(dupes(&only_new).is_empty(), "the old row is indexed under the old key");

        // A row written after the rotation is indexed under the new key; both are found,
        // oldest first, and the limit holds across keys.
        let mut data = person(2);
        data.ssn = Some(ssn.clone());
        let new = db.write(|c| {
            let container = kyc_store::containers::create(c, t)?;
            personal::insert(c, &rotated, &personal::NewPersonalIdentity {
                id: PersonalIdentityId::random(), tenant_id: t, container_id: container.id, data, kyc: Default::default(),
            })
        }).unwrap();
        assert_eq!(dupes(&rotated), vec![old.id, new.id]);
        assert_eq!(db.run(|c| personal::ssn_duplicates(c, &rotated, t, &ssn, None::<PersonalIdentityId>, 1)).unwrap(), vec![old.id]);
        assert_eq!(db.run(|c| personal::ssn_duplicates(c, &rotated, t, &ssn, Some(old.id), 10)).unwrap(), vec![new.id]);

        while db.write(|c| rotation::reseal_batch(c, &rotated, 10)).unwrap() > 0 {}
        assert_eq!(dupes(&only_new), vec![old.id, new.id]);
        assert_eq!(db.run(|c| personal::find(c, &only_new, t, old.id)).unwrap(), old);
    }
}

/// `Db::check_keys` (the server's start) opens a sealed value of the database with the
/// configured keys: a new database passes with any key; one written with `keys()` passes with
/// them, or with them kept as the previous key of a rotation, and fails with another key under
/// the same id or without the key it was written with.
#[test]
fn check_keys_tells_a_wrong_key_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/kycd.db", dir.path().display());
    let pg = scratch_postgres();
    for url in std::iter::once(sqlite.as_str()).chain(pg.as_ref().map(|pg| pg.url())) {
        let open = |keys| kyc_store::Db::open_with(url, keys, options()).unwrap();
        let wrong = || Keyring::from_master_key("k1", &[9; 32]).unwrap();
        open(wrong()).check_keys().unwrap();
        {
            let db = open(keys());
            let keys = db.keys().clone();
            db.write(|c| {
                let tenant = kyc_store::tenants::create(c, "acme")?.id;
                let container = kyc_store::containers::create(c, tenant)?;
                personal::insert(
                    c,
                    &keys,
                    &personal::NewPersonalIdentity {
                        id: PersonalIdentityId::random(),
                        tenant_id: tenant,
                        container_id: container.id,
                        data: person(1),
                        kyc: kyc(),
                    },
                )
            })
            .unwrap();
        }
        open(keys()).check_keys().unwrap();
        open(rotated()).check_keys().unwrap();
        for keys in [wrong(), only_new()] {
            let err = open(keys).check_keys().unwrap_err();
            assert!(matches!(err, StoreError::Crypto { .. }), "{url}: {err:?}");
        }
    }
}
