//! Small copyable sets over the fixed vocabularies of the engine. They keep `evaluate` free of
//! allocation and iterate in wire order, so outputs need no sorting.

use std::fmt;

use kyc_model::{KycField, MissingDocument};
use serde::ser::{Serialize, SerializeSeq, Serializer};

macro_rules! bit_set {
    ($(#[$doc:meta])* $name:ident, $item:ty, $all:expr, $index:path) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name(u8);

        impl $name {
            /// Every member, in wire order.
            const ORDER: &'static [$item] = &$all;

            /// The empty set.
            pub const EMPTY: Self = Self(0);

            const fn bit(item: $item) -> u8 {
                1 << $index(item)
            }

            /// A set holding `items`.
            pub const fn of(items: &[$item]) -> Self {
                let mut set = Self::EMPTY;
                let mut i = 0;
                while i < items.len() {
                    set = set.with(items[i]);
                    i += 1;
                }
                set
            }

            /// This set plus `item`.
            #[must_use]
            pub const fn with(self, item: $item) -> Self {
                Self(self.0 | Self::bit(item))
            }

            /// Whether `item` is in the set.
            pub const fn contains(self, item: $item) -> bool {
                self.0 & Self::bit(item) != 0
            }

            /// Members of either set.
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// Members of `self` not in `other`.
            #[must_use]
            pub const fn difference(self, other: Self) -> Self {
                Self(self.0 & !other.0)
            }

            /// Members of both sets.
            #[must_use]
            pub const fn intersection(self, other: Self) -> Self {
                Self(self.0 & other.0)
            }

            /// Whether every member of `self` is in `other`.
            pub const fn is_subset(self, other: Self) -> bool {
                self.0 & !other.0 == 0
            }

            /// Whether the set is empty.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The number of members.
            pub const fn len(self) -> usize {
                self.0.count_ones() as usize
            }

            /// The members, in wire order.
            pub fn iter(self) -> impl Iterator<Item = $item> {
                Self::ORDER
                    .iter()
                    .enumerate()
                    .filter(move |(i, _)| self.0 & (1 << i) != 0)
                    .map(|(_, &item)| item)
            }

            /// The members as a vector, in wire order.
            pub fn to_vec(self) -> Vec<$item> {
                self.iter().collect()
            }
        }

        impl FromIterator<$item> for $name {
            fn from_iter<I: IntoIterator<Item = $item>>(iter: I) -> Self {
                iter.into_iter().fold(Self::EMPTY, Self::with)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_set().entries(self.iter()).finish()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(self.len()))?;
                for item in self.iter() {
                    seq.serialize_element(&item)?;
                }
                seq.end()
            }
        }
    };
}

bit_set!(
    /// A set of KYC fields (`phone`, `name`, `address`, `ssn`, `dateOfBirth`), iterated and
    /// serialized in requirement order.
    FieldSet,
    KycField,
    KycField::ALL,
    field_index
);

bit_set!(
    /// A set of document kinds (`proofOfId`, `proofOfAddress`), iterated and serialized in that
    /// order.
    DocumentSet,
    MissingDocument,
    [MissingDocument::ProofOfId, MissingDocument::ProofOfAddress],
    document_index
);

// The positions must follow the wire order of `ORDER`; the tests check it.
const fn field_index(field: KycField) -> u8 {
    match field {
        KycField::Phone => 0,
        KycField::Name => 1,
        KycField::Address => 2,
        KycField::Ssn => 3,
        KycField::DateOfBirth => 4,
    }
}

const fn document_index(document: MissingDocument) -> u8 {
    match document {
        MissingDocument::ProofOfId => 0,
        MissingDocument::ProofOfAddress => 1,
    }
}

impl FieldSet {
    /// All five KYC fields.
    pub const ALL: Self = Self(0b1_1111);
}

/// The wire name of a KYC field, as `missingData` and the policy file spell it.
pub const fn field_name(field: KycField) -> &'static str {
    match field {
        KycField::Phone => "phone",
        KycField::Name => "name",
        KycField::Address => "address",
        KycField::Ssn => "ssn",
        KycField::DateOfBirth => "dateOfBirth",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterates_in_wire_order_whatever_the_insertion_order() {
        let set = FieldSet::of(&[KycField::DateOfBirth, KycField::Address, KycField::Ssn]);
        assert_eq!(
            set.to_vec(),
            [KycField::Address, KycField::Ssn, KycField::DateOfBirth]
        );
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"["address","ssn","dateOfBirth"]"#
        );
    }

    #[test]
    fn set_algebra() {
        let a = FieldSet::of(&[KycField::Phone, KycField::Name]);
        let b = FieldSet::of(&[KycField::Name, KycField::Ssn]);
        assert_eq!(a.union(b).len(), 3);
        assert_eq!(a.difference(b).to_vec(), [KycField::Phone]);
        assert_eq!(a.intersection(b).to_vec(), [KycField::Name]);
        assert!(a.intersection(b).is_subset(a));
        assert!(!a.is_subset(b));
        assert_eq!(FieldSet::ALL.len(), 5);
        assert!(FieldSet::EMPTY.is_empty());
        let docs = DocumentSet::of(&[MissingDocument::ProofOfAddress, MissingDocument::ProofOfId]);
        assert_eq!(
            serde_json::to_string(&docs).unwrap(),
            r#"["proofOfId","proofOfAddress"]"#
        );
    }

    #[test]
    fn bit_positions_follow_wire_order() {
        for (i, f) in KycField::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(field_index(f)), i);
        }
        assert_eq!(
            DocumentSet::of(&[MissingDocument::ProofOfAddress]).to_vec(),
            [MissingDocument::ProofOfAddress]
        );
    }

    #[test]
    fn field_names_match_serde() {
        for f in KycField::ALL {
            assert_eq!(
                serde_json::to_string(&f).unwrap(),
                format!("\"{}\"", field_name(f))
            );
        }
    }
}
