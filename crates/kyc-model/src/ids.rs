use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ModelError;

macro_rules! typed_id {
    ($(#[$doc:meta] $name:ident),+ $(,)?) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) id: ids are never sequential.
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an existing UUID, e.g. one read back from storage.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ModelError;

            /// The hyphenated form only (hex digits of either case): one spelling per id,
            /// not also the braced, URN and undashed ones the `uuid` crate reads.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() != 36 {
                    return Err(ModelError::InvalidId);
                }
                Uuid::try_parse(s).map(Self).map_err(|_| ModelError::InvalidId)
            }
        }
    )+};
}

typed_id! {
    /// An integrator: every identity, document and key belongs to exactly one.
    TenantId,
    /// An API key (the id, not the secret).
    ApiKeyId,
    /// An identity container: one person and the companies they own.
    ContainerId,
    /// A personal identity (a person).
    PersonalIdentityId,
    /// A business identity (a company).
    BusinessIdentityId,
    /// An uploaded proof-of-identity document.
    DocumentId,
    /// One run of a KYC verifier over an identity.
    CheckId,
    /// An item in the compliance review queue.
    ReviewId,
    /// A webhook event in the outbox.
    EventId,
    /// One attempt to deliver a webhook event.
    DeliveryId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings() {
        let id = PersonalIdentityId::random();
        let parsed: PersonalIdentityId = id.to_string().parse().unwrap();
        assert_eq!(id, parsed);
        assert_eq!(id.as_uuid().get_version_num(), 4);
    }

    #[test]
    fn ids_refuse_garbage() {
        assert_eq!(
            "not-a-uuid".parse::<DocumentId>(),
            Err(ModelError::InvalidId)
        );
        // Other spellings of a valid UUID: one spelling per id.
        let id = "7d0c2b1e-5d3a-4c1e-9f0a-2b7e6c4d8a91";
        assert!(id.parse::<DocumentId>().is_ok());
        assert!(id.to_uppercase().parse::<DocumentId>().is_ok());
        for other in [
            format!("{{{id}}}"),
            format!("urn:uuid:{id}"),
            id.replace('-', ""),
        ] {
            assert_eq!(
                other.parse::<DocumentId>(),
                Err(ModelError::InvalidId),
                "{other}"
            );
        }
    }

    #[test]
    fn ids_are_not_sequential() {
        let a = TenantId::random();
        let b = TenantId::random();
        assert_ne!(a, b);
    }
}
