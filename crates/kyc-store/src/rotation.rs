//! Key rotation: moves ciphertexts sealed under older keys to the keyring's current key.
//!
//! Procedure: make the new key current and keep the old one as a previous key
//! ([`crate::Keyring::with_previous`]); writes already seal under the new key. Then call
//! [`reseal_batch`] in write transactions until it returns 0, and drop the old key. A new
//! master secret also brings a new blind-index key ([`crate::Keyring::with_previous_master`]):
//! resealing an SSN re-indexes it under the current one, so the old master can be dropped too.

use diesel::prelude::*;
use kyc_model::Ssn;

use crate::{
    DbConnection, Keyring, StoreError,
    business::tax_id_aad,
    documents::image_aad,
    personal::{dob_aad, ssn_aad},
    reviews::note_aad,
    schema::{
        business_identities::dsl as b, document_images::dsl as img, idempotency_records::dsl as i,
        personal_identities::dsl as p, review_items::dsl as r, webhook_configs::dsl as w,
    },
    util::parse_id,
    webhooks::secret_aad,
};

fn reseal(
    keys: &Keyring,
    aad: &crate::crypto::Aad,
    key_id: &str,
    ct: &[u8],
) -> Result<(Vec<u8>, String), StoreError> {
    let plain = keys.open(key_id, aad, ct)?;
    let sealed = keys.seal(aad, &plain)?;
    Ok((sealed.bytes, sealed.key_id))
}

/// Re-seals up to `limit` rows per encrypted table that are not under the current key and
/// returns how many rows it rewrote (0: rotation complete). Run it inside
/// [`crate::Db::write`].
#[tracing::instrument(skip_all, fields(current = keys.current_key_id(), limit))]
pub fn reseal_batch(
    conn: &mut DbConnection,
    keys: &Keyring,
    limit: i64,
) -> Result<usize, StoreError> {
    let cur = keys.current_key_id().to_owned();
    let mut done = 0;

    type PersonalCt = (
        String,
        String,
        Option<Vec<u8>>,
        Option<String>,
        Option<Vec<u8>>,
        Option<String>,
    );
    let rows: Vec<PersonalCt> = p::personal_identities
        .filter(p::ssn_key_id.ne(&cur).or(p::dob_key_id.ne(&cur)))
        .select((
            p::id,
            p::tenant_id,
            p::ssn_ct,
            p::ssn_key_id,
            p::dob_ct,
            p::dob_key_id,
        ))
        .limit(limit)
        .load(conn)?;
    for (id, tenant, ssn_ct, ssn_key, dob_ct, dob_key) in rows {
        let (ssn, ssn_bidx) = match (ssn_ct, ssn_key) {
            (Some(ct), Some(k)) => {
                const TABLE: &str = "personal_identities";
                let aad = ssn_aad(&id);
                let digits = keys.open_text(&k, &aad, &ct)?;
                let ssn = Ssn::parse(&digits).map_err(|_| StoreError::corrupt(TABLE, "ssn_ct"))?;
                let tenant = parse_id(&tenant, TABLE, "tenant_id")?;
                let sealed = keys.seal(&aad, digits.as_bytes())?;
                let index = keys.ssn_index(tenant, &ssn);
                (Some((sealed.bytes, sealed.key_id)), Some(index))
            }
            _ => (None, None),
        };
        let dob = match (dob_ct, dob_key) {
            (Some(ct), Some(k)) => Some(reseal(keys, &dob_aad(&id), &k, &ct)?),
            _ => None,
        };
        let (ssn_ct, ssn_key_id) = ssn.unzip();
        let (dob_ct, dob_key_id) = dob.unzip();
        diesel::update(p::personal_identities.filter(p::id.eq(&id)))
            .set((
                p::ssn_ct.eq(ssn_ct),
                p::ssn_key_id.eq(ssn_key_id),
                p::ssn_bidx.eq(ssn_bidx),
                p::dob_ct.eq(dob_ct),
                p::dob_key_id.eq(dob_key_id),
            ))
            .execute(conn)?;
        done += 1;
    }

    let rows: Vec<(String, Vec<u8>, String)> = b::business_identities
        .filter(b::tax_id_key_id.ne(&cur))
        .select((b::id, b::tax_id_ct, b::tax_id_key_id))
        .limit(limit)
        .load(conn)?;
    for (id, ct, key) in rows {
        let (ct, key) = reseal(keys, &tax_id_aad(&id), &key, &ct)?;
        diesel::update(b::business_identities.filter(b::id.eq(&id)))
            .set((b::tax_id_ct.eq(ct), b::tax_id_key_id.eq(key)))
            .execute(conn)?;
        done += 1;
    }

    let rows: Vec<(String, String, Vec<u8>, String)> = img::document_images
        .filter(img::key_id.ne(&cur))
        .select((img::document_id, img::side, img::ciphertext, img::key_id))
        .limit(limit)
        .load(conn)?;
    for (doc, side, ct, key) in rows {
        let (ct, key) = reseal(keys, &image_aad(&doc, &side), &key, &ct)?;
        diesel::update(
            img::document_images
                .filter(img::document_id.eq(&doc))
                .filter(img::side.eq(&side)),
        )
        .set((img::ciphertext.eq(ct), img::key_id.eq(key)))
        .execute(conn)?;
        done += 1;
    }

    let rows: Vec<(String, Vec<u8>, String)> = w::webhook_configs
        .filter(w::secret_key_id.ne(&cur))
        .select((w::tenant_id, w::secret_ct, w::secret_key_id))
        .limit(limit)
        .load(conn)?;
    for (tenant, ct, key) in rows {
        let (ct, key) = reseal(keys, &secret_aad(&tenant), &key, &ct)?;
        diesel::update(w::webhook_configs.filter(w::tenant_id.eq(&tenant)))
            .set((w::secret_ct.eq(ct), w::secret_key_id.eq(key)))
            .execute(conn)?;
        done += 1;
    }

    let rows: Vec<(String, Option<Vec<u8>>, Option<String>)> = r::review_items
        .filter(r::note_key_id.ne(&cur))
        .select((r::id, r::note_ct, r::note_key_id))
        .limit(limit)
        .load(conn)?;
    for (id, ct, key) in rows {
        let (Some(ct), Some(key)) = (ct, key) else {
            continue;
        };
        let (ct, key) = reseal(keys, &note_aad(&id), &key, &ct)?;
        diesel::update(r::review_items.filter(r::id.eq(&id)))
            .set((r::note_ct.eq(Some(ct)), r::note_key_id.eq(Some(key))))
            .execute(conn)?;
        done += 1;
    }

    type ResponseCt = (String, String, Option<Vec<u8>>, Option<String>);
    let rows: Vec<ResponseCt> = i::idempotency_records
        .filter(i::response_key_id.ne(&cur))
        .select((
            i::tenant_id,
            i::idem_key,
            i::response_ct,
            i::response_key_id,
        ))
        .limit(limit)
        .load(conn)?;
    for (tenant, idem_key, ct, key) in rows {
        let (Some(ct), Some(key)) = (ct, key) else {
            continue;
        };
        let aad = crate::idempotency::response_aad_raw(&tenant, &idem_key);
        let (ct, key) = reseal(keys, &aad, &key, &ct)?;
        diesel::update(
            i::idempotency_records
                .filter(i::tenant_id.eq(&tenant))
                .filter(i::idem_key.eq(&idem_key)),
        )
        .set((
            i::response_ct.eq(Some(ct)),
            i::response_key_id.eq(Some(key)),
        ))
        .execute(conn)?;
        done += 1;
    }
    Ok(done)
}
