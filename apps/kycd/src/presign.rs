//! Short-lived signed URLs for document images (SPEC §5, seed 001): whoever holds the URL may
//! fetch that one image until it expires, without an API key. The signature is an HMAC-SHA256
//! over the tenant id, the document id, the side and the expiry, under a key kept only by the
//! server. The tenant is signed (and carried in the link) so that the image lookup stays
//! tenant-scoped like every other store query: the signature vouches for the pair.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac, digest::KeyInit};
use kyc_model::{DocumentId, TenantId};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

/// Which image of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Front,
    Back,
}

impl Side {
    /// The query-string name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Front => "front",
            Self::Back => "back",
        }
    }
}

/// Why a presigned link was refused (both answer 404 alike, so links cannot be probed).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PresignError {
    #[error("the link has expired")]
    Expired,
    #[error("the link signature does not match")]
    BadSignature,
}

/// Signs and verifies document links.
#[derive(Clone)]
pub struct Presigner {
    keyed: Hmac<Sha256>,
    ttl: Duration,
}

impl Presigner {
    /// Default lifetime of a link: 15 minutes.
    pub const DEFAULT_TTL: Duration = Duration::minutes(15);

    /// A signer with its own key.
    pub fn new(key: [u8; 32], ttl: Duration) -> Self {
        // HMAC zero-pads keys shorter than the 64-byte block, so padding here is the same key
        // and makes construction infallible.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&key);
        Self {
            keyed: <Hmac<Sha256> as KeyInit>::new(&block.into()),
            ttl,
        }
    }

    /// How long links live.
    pub const fn ttl(&self) -> Duration {
        self.ttl
    }

    fn mac(
        &self,
        tenant: TenantId,
        document: DocumentId,
        side: Side,
        expires: i64,
    ) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(
            format!(
                "kycd-document:v2:{tenant}:{document}:{}:{expires}",
                side.as_str()
            )
            .as_bytes(),
        );
        mac
    }

    /// The expiry (unix seconds) and signature of a link issued at `now`.
    pub fn sign(
        &self,
        tenant: TenantId,
        document: DocumentId,
        side: Side,
        now: OffsetDateTime,
    ) -> (i64, String) {
        let expires = (now + self.ttl).unix_timestamp();
        let tag = self
            .mac(tenant, document, side, expires)
            .finalize()
            .into_bytes();
        (expires, URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks a link at `now`: constant-time signature comparison, then expiry.
    pub fn verify(
        &self,
        tenant: TenantId,
        document: DocumentId,
        side: Side,
        expires: i64,
        signature: &str,
        now: OffsetDateTime,
    ) -> Result<(), PresignError> {
        let tag = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| PresignError::BadSignature)?;
        self.mac(tenant, document, side, expires)
            .verify_slice(&tag)
            .map_err(|_| PresignError::BadSignature)?;
        if now.unix_timestamp() > expires {
            return Err(PresignError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Presigner {
        Presigner::new([7; 32], Presigner::DEFAULT_TTL)
    }

    #[test]
    fn a_fresh_link_verifies() {
        let (tenant, doc) = (TenantId::random(), DocumentId::random());
        let now = OffsetDateTime::now_utc();
        let (expires, sig) = signer().sign(tenant, doc, Side::Front, now);
        assert_eq!(expires, (now + Duration::minutes(15)).unix_timestamp());
        assert_eq!(
            signer().verify(tenant, doc, Side::Front, expires, &sig, now),
            Ok(())
        );
    }

    #[test]
    fn links_expire() {
        let (tenant, doc) = (TenantId::random(), DocumentId::random());
        let now = OffsetDateTime::now_utc();
        let (expires, sig) = signer().sign(tenant, doc, Side::Front, now);
        let later = now + Duration::minutes(16);
        assert_eq!(
            signer().verify(tenant, doc, Side::Front, expires, &sig, later),
            Err(PresignError::Expired)
        );
    }

    #[test]
    fn tampering_is_detected() {
        let (tenant, doc) = (TenantId::random(), DocumentId::random());
        let now = OffsetDateTime::now_utc();
        let (expires, sig) = signer().sign(tenant, doc, Side::Front, now);
        let s = signer();
        assert_eq!(
            s.verify(tenant, doc, Side::Back, expires, &sig, now),
            Err(PresignError::BadSignature)
        );
        assert_eq!(
            s.verify(tenant, doc, Side::Front, expires + 3600, &sig, now),
            Err(PresignError::BadSignature)
        );
        assert_eq!(
            s.verify(
                tenant,
                DocumentId::random(),
                Side::Front,
                expires,
                &sig,
                now
            ),
            Err(PresignError::BadSignature)
        );
        let other = Presigner::new([8; 32], Presigner::DEFAULT_TTL);
        assert_eq!(
            other.verify(tenant, doc, Side::Front, expires, &sig, now),
            Err(PresignError::BadSignature)
        );
        assert_eq!(
            s.verify(tenant, doc, Side::Front, expires, "not base64!", now),
            Err(PresignError::BadSignature)
        );
    }

    #[test]
    fn a_link_is_bound_to_its_tenant() {
        let (tenant, doc) = (TenantId::random(), DocumentId::random());
        let now = OffsetDateTime::now_utc();
        let (expires, sig) = signer().sign(tenant, doc, Side::Front, now);
        assert_eq!(
            signer().verify(TenantId::random(), doc, Side::Front, expires, &sig, now),
            Err(PresignError::BadSignature)
        );
    }
}
