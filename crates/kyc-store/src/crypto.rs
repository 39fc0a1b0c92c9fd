//! Encryption at rest and keyed hashes.
//!
//! SSNs, tax ids, dates of birth, document images, webhook secrets and replayable idempotent
//! responses are sealed with AES-256-GCM under the keyring's current key. Each ciphertext is
//! stored as `nonce (12 bytes) || ciphertext || tag (16 bytes)` next to the id of the key that
//! sealed it, so older keys can stay in the keyring for reading while new writes (and
//! [`crate::rotation::reseal_batch`]) move rows to the current key. The associated data binds a
//! ciphertext to its table, column and row, so a ciphertext copied into another row or column
//! does not open.
//!
//! SSN duplicates are found through a blind index: HMAC-SHA256 under a separate key, over the
//! tenant id and the nine digits. Writes index under the current blind-index key; lookups match
//! the indexes under every key of the keyring, so a rotation that changes the blind-index key
//! (a new master secret, [`Keyring::with_previous_master`]) keeps finding the rows indexed
//! before it, and [`crate::rotation::reseal_batch`] re-indexes them under the current key.

use std::fmt;

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};
use hmac::{Hmac, Mac, digest::generic_array::GenericArray};
use kyc_model::{Ssn, TenantId};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::StoreError;

type HmacSha256 = Hmac<Sha256>;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// One AES-256-GCM key and the id stored next to everything it seals.
#[derive(Clone)]
pub struct DataKey {
    id: String,
    cipher: Aes256Gcm,
}

impl DataKey {
    /// A key from its id (1-64 characters of `A-Z a-z 0-9 . _ -`) and 32 bytes of key material.
    pub fn new(id: &str, key: [u8; 32]) -> Result<Self, StoreError> {
        let id_ok = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !id_ok {
            return Err(StoreError::Crypto {
                reason: "key id must be 1-64 letters, digits, '.', '_' or '-'",
            });
        }
        Ok(Self {
            id: id.to_owned(),
            cipher: Aes256Gcm::new(&key.into()),
        })
    }

    /// Derives a data key from a master secret (HMAC-SHA256 with a fixed label), so one
    /// configured secret can yield both the data key and the blind-index key.
    pub fn derive(id: &str, master: &[u8; 32]) -> Result<Self, StoreError> {
        Self::new(id, derive(master, b"kycd data key v1"))
    }

    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The keys the store encrypts and indexes with: the current data key (all new ciphertexts),
/// older data keys (still readable), the current blind-index key (all new indexes) and older
/// blind-index keys (still matched).
#[derive(Clone)]
pub struct Keyring {
    current: DataKey,
    previous: Vec<DataKey>,
    blind_index: BlindIndexKey,
    /// Older blind-index keys, each once and none equal to the current one.
    previous_blind_indexes: Vec<BlindIndexKey>,
}

#[derive(Clone)]
struct BlindIndexKey {
    key: [u8; 32],
    mac: HmacSha256,
}

impl BlindIndexKey {
    fn new(key: [u8; 32]) -> Self {
        Self {
            key,
            mac: hmac_for(&key),
        }
    }

    fn ssn_index(&self, tenant: TenantId, ssn: &Ssn) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(b"ssn\0");
        mac.update(tenant.as_uuid().as_bytes());
        mac.update(b"\0");
        mac.update(ssn.as_str().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

impl Keyring {
    /// A keyring with `current` as the only data key.
    pub fn new(current: DataKey, blind_index_key: [u8; 32]) -> Self {
        Self {
            current,
            previous: Vec::new(),
            blind_index: BlindIndexKey::new(blind_index_key),
            previous_blind_indexes: Vec::new(),
        }
    }

    /// Adds an older key, used only to open ciphertexts it sealed. A key with the current
    /// key's id is ignored: the current key always wins.
    #[must_use]
    pub fn with_previous(mut self, key: DataKey) -> Self {
        if key.id != self.current.id && self.previous.iter().all(|k| k.id != key.id) {
            self.previous.push(key);
        }
        self
    }

    /// Adds an older master secret (as [`Keyring::from_master_key`] used it): its data key
    /// opens what it sealed, and SSN lookups also match the indexes its blind-index key made.
    ///
    /// # Errors
    /// [`StoreError::Crypto`] for an invalid key id.
    pub fn with_previous_master(
        mut self,
        key_id: &str,
        master: &[u8; 32],
    ) -> Result<Self, StoreError> {
        self = self.with_previous(DataKey::derive(key_id, master)?);
        let blind = Self::derive_blind_index_key(master);
        let known = std::iter::once(&self.blind_index).chain(&self.previous_blind_indexes);
        if known.into_iter().all(|k| k.key != blind) {
            self.previous_blind_indexes.push(BlindIndexKey::new(blind));
        }
        Ok(self)
    }

    /// A keyring derived from one 32-byte master secret: data key `key_id` and the blind-index
    /// key both come from it. To rotate later, derive the new keyring from the new master with
    /// the old one added by [`Keyring::with_previous_master`] (or build it with
    /// [`Keyring::new`], keeping [`Keyring::derive_blind_index_key`] of the original master).
    pub fn from_master_key(key_id: &str, master: &[u8; 32]) -> Result<Self, StoreError> {
        Ok(Self::new(
            DataKey::derive(key_id, master)?,
            Self::derive_blind_index_key(master),
        ))
    }

    /// The blind-index key derived from a master secret.
    pub fn derive_blind_index_key(master: &[u8; 32]) -> [u8; 32] {
        derive(master, b"kycd blind index key v1")
    }

    /// 32 random bytes from the operating system, e.g. for a development key written to the
    /// data directory on a first run.
    pub fn generate_master_key() -> [u8; 32] {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        key
    }

    /// The id of the key new ciphertexts are sealed with.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plaintext` under the current key, bound to `aad`.
    pub(crate) fn seal(&self, aad: &Aad, plaintext: &[u8]) -> Result<Sealed, StoreError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.0.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Crypto {
                reason: "encryption failed",
            })?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + ct.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ct);
        Ok(Sealed {
            key_id: self.current.id.clone(),
            bytes,
        })
    }

    /// Opens a ciphertext sealed by key `key_id` with the same `aad`.
    pub(crate) fn open(
        &self,
        key_id: &str,
        aad: &Aad,
        bytes: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or(StoreError::Crypto {
                reason: "ciphertext sealed with a key that is not in the keyring",
            })?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(StoreError::Crypto {
                reason: "ciphertext too short",
            });
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        key.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: aad.0.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Crypto {
                reason: "ciphertext failed authentication",
            })
    }

    /// Opens a ciphertext that must be UTF-8 text.
    pub(crate) fn open_text(
        &self,
        key_id: &str,
        aad: &Aad,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        String::from_utf8(self.open(key_id, aad, bytes)?).map_err(|_| StoreError::Crypto {
            reason: "decrypted value is not UTF-8",
        })
    }

    /// The blind index of an SSN within a tenant, under the current blind-index key: equal SSNs
    /// of one tenant share it; nothing about the SSN can be learnt from it without the key.
    pub(crate) fn ssn_index(&self, tenant: TenantId, ssn: &Ssn) -> Vec<u8> {
        self.blind_index.ssn_index(tenant, ssn)
    }

    /// The blind indexes of an SSN under every blind-index key, the current one first: what a
    /// lookup matches, as rows may still be indexed under an older key.
    pub(crate) fn ssn_indexes(&self, tenant: TenantId, ssn: &Ssn) -> Vec<Vec<u8>> {
        std::iter::once(&self.blind_index)
            .chain(&self.previous_blind_indexes)
            .map(|k| k.ssn_index(tenant, ssn))
            .collect()
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self
                    .previous
                    .iter()
                    .map(|k| k.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A ciphertext and the id of the key that sealed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sealed {
    pub(crate) key_id: String,
    pub(crate) bytes: Vec<u8>,
}

/// Associated data: which table, column and row a ciphertext belongs to.
pub(crate) struct Aad(String);

impl Aad {
    pub(crate) fn new(table: &str, column: &str, row_id: &str) -> Self {
        Self(format!("kycd/v1/{table}.{column}/{row_id}"))
    }
}

fn hmac_for(key: &[u8; 32]) -> HmacSha256 {
    // HMAC zero-pads keys shorter than its 64-byte block, so padding here changes nothing and
    // lets the infallible constructor be used.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <HmacSha256 as Mac>::new(GenericArray::from_slice(&block))
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = hmac_for(master);
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// SHA-256 of an API key as presented; what the database stores.
pub(crate) fn api_key_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A fresh API key: `kycd_` and 64 hex digits of 256 random bits.
pub(crate) fn new_api_key_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("kycd_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::from_master_key("k1", &[7u8; 32]).unwrap()
    }

    #[test]
    fn seal_then_open() {
        let ring = ring();
        let aad = Aad::new("t", "c", "row-1");
        let sealed = ring.seal(&aad, b"305464885").unwrap();
        assert_eq!(sealed.key_id, "k1");
        assert_eq!(sealed.bytes.len(), NONCE_LEN + 9 + TAG_LEN);
        assert!(!sealed.bytes.windows(9).any(|w| w == b"305464885"));
        assert_eq!(ring.open("k1", &aad, &sealed.bytes).unwrap(), b"305464885");
    }

    #[test]
    fn nonces_differ() {
        let ring = ring();
        let aad = Aad::new("t", "c", "r");
        assert_ne!(
            ring.seal(&aad, b"x").unwrap().bytes,
            ring.seal(&aad, b"x").unwrap().bytes
        );
    }

    #[test]
    fn wrong_row_or_key_does_not_open() {
        let ring = ring();
        let sealed = ring.seal(&Aad::new("t", "c", "row-1"), b"secret").unwrap();
        assert!(
            ring.open("k1", &Aad::new("t", "c", "row-2"), &sealed.bytes)
                .is_err()
        );
        assert!(
            ring.open("k0", &Aad::new("t", "c", "row-1"), &sealed.bytes)
                .is_err()
        );
        let other = Keyring::from_master_key("k1", &[8u8; 32]).unwrap();
        assert!(
            other
                .open("k1", &Aad::new("t", "c", "row-1"), &sealed.bytes)
                .is_err()
        );
        assert!(
            ring.open("k1", &Aad::new("t", "c", "row-1"), b"short")
                .is_err()
        );
    }

    #[test]
    fn previous_keys_still_open() {
        let old = ring();
        let aad = Aad::new("t", "c", "r");
        let sealed = old.seal(&aad, b"dob").unwrap();
        let rotated = Keyring::new(
            DataKey::derive("k2", &[9u8; 32]).unwrap(),
            Keyring::derive_blind_index_key(&[7u8; 32]),
        )
        .with_previous(DataKey::derive("k1", &[7u8; 32]).unwrap());
        assert_eq!(rotated.current_key_id(), "k2");
        assert_eq!(rotated.open("k1", &aad, &sealed.bytes).unwrap(), b"dob");
        assert_eq!(rotated.seal(&aad, b"x").unwrap().key_id, "k2");
    }

    #[test]
    fn blind_index_is_keyed_and_tenant_scoped() {
        let ssn = Ssn::parse("305-46-4885").unwrap();
        let t1 = TenantId::random();
        let t2 = TenantId::random();
        let a = ring();
        assert_eq!(a.ssn_index(t1, &ssn), a.ssn_index(t1, &ssn));
        assert_ne!(a.ssn_index(t1, &ssn), a.ssn_index(t2, &ssn));
        let b = Keyring::from_master_key("k1", &[8u8; 32]).unwrap();
        assert_ne!(a.ssn_index(t1, &ssn), b.ssn_index(t1, &ssn));
    }

    #[test]
    fn lookups_match_the_indexes_of_previous_masters() {
        let ssn = Ssn::parse("305-46-4885").unwrap();
        let t = TenantId::random();
        let old = ring();
        let rotated = Keyring::from_master_key("k2", &[8u8; 32])
            .unwrap()
            .with_previous_master("k1", &[7u8; 32])
            .unwrap()
            // Adding a master again changes nothing.
            .with_previous_master("k1", &[7u8; 32])
            .unwrap();
        let fresh = Keyring::from_master_key("k2", &[8u8; 32]).unwrap();
        assert_eq!(rotated.ssn_index(t, &ssn), fresh.ssn_index(t, &ssn));
        assert_eq!(
            rotated.ssn_indexes(t, &ssn),
            vec![fresh.ssn_index(t, &ssn), old.ssn_index(t, &ssn)]
        );
        assert_eq!(old.ssn_indexes(t, &ssn), vec![old.ssn_index(t, &ssn)]);
        let aad = Aad::new("t", "c", "r");
        let sealed = old.seal(&aad, b"dob").unwrap();
        assert_eq!(rotated.open("k1", &aad, &sealed.bytes).unwrap(), b"dob");
    }

    #[test]
    fn key_ids_are_checked_and_debug_hides_keys() {
        assert!(DataKey::new("", [0; 32]).is_err());
        assert!(DataKey::new("bad id", [0; 32]).is_err());
        let dbg = format!("{:?}", ring());
        assert!(dbg.contains("k1"), "{dbg}");
        assert!(!dbg.contains("7, 7"), "{dbg}");
    }

    #[test]
    fn api_keys_are_256_bit_and_hashed() {
        let a = new_api_key_secret();
        assert!(a.starts_with("kycd_") && a.len() == 5 + 64, "{}", a.len());
        assert_ne!(a, new_api_key_secret());
        assert_eq!(api_key_hash(&a), api_key_hash(&a));
        assert_ne!(api_key_hash(&a), api_key_hash("kycd_other"));
    }
}
