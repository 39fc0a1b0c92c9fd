//! The tier policy: levels per region, products, and the attempt limits, loaded from TOML and
//! validated into a form the engine can evaluate without further checks.

use std::ops::RangeInclusive;

use kyc_model::{KycField, KycLevel, MissingDocument, ProductId, Region};
use toml::{Table, Value};

use crate::{
    DocumentSet, FieldSet, PolicyViolation, TierError, error::region_name, sets::field_name,
};

/// The default policy file (SPEC §4's tables), as shipped. [`Policy::default_policy`] is the
/// same policy; a test checks that the two agree.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default_policy.toml");

/// What one level asks of one region's end users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelRule {
    requires: Option<KycLevel>,
    fields: FieldSet,
    documents: DocumentSet,
    all_fields: FieldSet,
    all_documents: DocumentSet,
}

impl LevelRule {
    /// The level this one builds on (`None` for L0).
    pub const fn requires(&self) -> Option<KycLevel> {
        self.requires
    }

    /// The KYC fields this level adds.
    pub const fn fields(&self) -> FieldSet {
        self.fields
    }

    /// The documents this level adds.
    pub const fn documents(&self) -> DocumentSet {
        self.documents
    }

    /// Every KYC field the level needs, its own and those of the levels below it.
    pub const fn cumulative_fields(&self) -> FieldSet {
        self.all_fields
    }

    /// Every document the level needs, its own and those of the levels below it.
    pub const fn cumulative_documents(&self) -> DocumentSet {
        self.all_documents
    }
}

/// One region's levels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ladder {
    pub(crate) levels: [Option<LevelRule>; 3],
    /// Every field any level of the ladder asks for: the fields that matter for this region.
    pub(crate) fields: FieldSet,
    /// Every document any level of the ladder asks for.
    pub(crate) documents: DocumentSet,
}

/// A level's own demands before the ladder is resolved.
#[derive(Clone, Copy, Debug, Default)]
struct Own {
    requires: Option<KycLevel>,
    fields: FieldSet,
    documents: DocumentSet,
}

impl Ladder {
    /// Resolves cumulative demands. `requires` always names a lower level, so one pass upwards
    /// sees every base before the levels built on it.
    fn build(own: [Option<Own>; 3]) -> Self {
        let mut levels: [Option<LevelRule>; 3] = [None; 3];
        for (i, entry) in own.into_iter().enumerate() {
            let Some(own) = entry else { continue };
            let base = own
                .requires
                .and_then(|r| levels.get(level_index(r)).copied().flatten());
            levels[i] = Some(LevelRule {
                requires: own.requires,
                fields: own.fields,
                documents: own.documents,
                all_fields: own
                    .fields
                    .union(base.map_or(FieldSet::EMPTY, |b| b.all_fields)),
                all_documents: own
                    .documents
                    .union(base.map_or(DocumentSet::EMPTY, |b| b.all_documents)),
            });
        }
        let fields = levels
            .iter()
            .flatten()
            .fold(FieldSet::EMPTY, |acc, l| acc.union(l.fields));
        let documents = levels
            .iter()
            .flatten()
            .fold(DocumentSet::EMPTY, |acc, l| acc.union(l.documents));
        Self {
            levels,
            fields,
            documents,
        }
    }

    pub(crate) fn rule(&self, level: KycLevel) -> Option<&LevelRule> {
        self.levels[level_index(level)].as_ref()
    }
}

/// A product and the level it needs in each region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    id: ProductId,
    needs: [KycLevel; 2],
}

impl Product {
    /// The product's name, e.g. `onramp`.
    pub const fn id(&self) -> &ProductId {
        &self.id
    }

    /// The level an end user of `region` needs for the product.
    pub const fn needs(&self, region: Region) -> KycLevel {
        self.needs[region_index(region)]
    }
}

/// A validated tier policy. Build one with [`Policy::from_toml`] or [`Policy::default_policy`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    ladders: [Ladder; 2],
    products: Vec<Product>,
    failed_attempts_before_review: u32,
    resubmits_per_rejection: u32,
    rejections_before_lockout: u32,
    minimum_age: u8,
}

impl Policy {
    /// The built-in policy: SPEC §4's tables, equal to [`DEFAULT_POLICY_TOML`].
    pub fn default_policy() -> Self {
        const BASE: Own = Own {
            requires: None,
            fields: FieldSet::of(&[KycField::Name, KycField::Phone]),
            documents: DocumentSet::EMPTY,
        };
        let proof_of_id = DocumentSet::of(&[MissingDocument::ProofOfId]);
        let us = Ladder::build([
            Some(BASE),
            Some(Own {
                requires: Some(KycLevel::L0),
                fields: FieldSet::of(&[KycField::Address, KycField::DateOfBirth, KycField::Ssn]),
                documents: DocumentSet::EMPTY,
            }),
            Some(Own {
                requires: Some(KycLevel::L1),
                fields: FieldSet::EMPTY,
                documents: proof_of_id,
            }),
        ]);
        let international = Ladder::build([
            Some(BASE),
            None,
            Some(Own {
                requires: Some(KycLevel::L0),
                fields: FieldSet::of(&[KycField::Address, KycField::DateOfBirth]),
                documents: proof_of_id,
            }),
        ]);
        let products = [
            ("regulated-transfer", [KycLevel::L0, KycLevel::L0]),
            ("onramp", [KycLevel::L1, KycLevel::L2]),
            ("offramp", [KycLevel::L2, KycLevel::L2]),
        ]
        .into_iter()
        // The names are constants that parse; a test pins all three.
        .filter_map(|(name, needs)| ProductId::parse(name).ok().map(|id| Product { id, needs }))
        .collect();
        Self {
            ladders: [us, international],
            products,
            failed_attempts_before_review: 2,
            resubmits_per_rejection: 3,
            rejections_before_lockout: 3,
            minimum_age: 18,
        }
    }

    /// Parses and validates a policy file.
    ///
    /// # Errors
    /// [`TierError::PolicySyntax`] when the text is not TOML, [`TierError::PolicyInvalid`] with
    /// every problem found (unknown keys, levels requiring undefined or higher levels, products
    /// needing levels a region lacks, out-of-range limits), each named by its dotted path.
    pub fn from_toml(text: &str) -> Result<Self, TierError> {
        let root: Table = text
            .parse()
            .map_err(|e: toml::de::Error| TierError::PolicySyntax {
                message: e.to_string().trim_end().to_owned(),
            })?;
        let mut p = Parser::default();
        p.keys(&root, "", &ROOT_KEYS);
        match root.get("version") {
            Some(Value::Integer(1)) => {}
            Some(Value::Integer(n)) => p.err(
                "version",
                format!("unsupported version {n}; this kycd reads version 1"),
            ),
            Some(_) => p.err("version", "must be the integer 1"),
            None => p.err("version", "missing; write `version = 1`"),
        }
        let review = p.section(&root, "review", &["failed_attempts"]);
        let failed_attempts = p.count(review, "review.failed_attempts", 1..=100, 2);
        let documents = p.section(
            &root,
            "documents",
            &["resubmits_per_rejection", "rejections_before_lockout"],
        );
        let resubmits = p.count(documents, "documents.resubmits_per_rejection", 1..=100, 3);
        let lockout = p.count(documents, "documents.rejections_before_lockout", 1..=100, 3);
        let age = p.section(&root, "age", &["minimum"]);
        let minimum_age = p.count(age, "age.minimum", 0..=150, 18);
        let own = p.levels(root.get("levels"));
        let products = p.products(root.get("products"), &own);
        if !p.violations.is_empty() {
            return Err(TierError::PolicyInvalid {
                violations: p.violations,
            });
        }
        let [us, international] = own;
        Ok(Self {
            ladders: [Ladder::build(us), Ladder::build(international)],
            products,
            failed_attempts_before_review: failed_attempts,
            resubmits_per_rejection: resubmits,
            rejections_before_lockout: lockout,
            minimum_age: u8::try_from(minimum_age).unwrap_or(u8::MAX),
        })
    }

    /// The products, in the order eligibility reports them.
    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// A product by name.
    pub fn product(&self, name: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id.as_str() == name)
    }

    /// What `level` asks of `region`'s end users, or `None` when their ladder lacks it.
    pub fn level_rule(&self, region: Region, level: KycLevel) -> Option<&LevelRule> {
        self.ladder(region).rule(level)
    }

    /// The levels `region`'s end users can reach, lowest first.
    pub fn levels(&self, region: Region) -> impl Iterator<Item = KycLevel> + '_ {
        KycLevel::ALL
            .into_iter()
            .filter(move |&l| self.level_rule(region, l).is_some())
    }

    /// Failed KYC checks since the last review decision that send an identity to review.
    pub const fn failed_attempts_before_review(&self) -> u32 {
        self.failed_attempts_before_review
    }

    /// `resubmit` results without an approval in between that count as one rejection.
    pub const fn resubmits_per_rejection(&self) -> u32 {
        self.resubmits_per_rejection
    }

    /// Document rejections after which uploads are refused.
    pub const fn rejections_before_lockout(&self) -> u32 {
        self.rejections_before_lockout
    }

    /// The youngest age on which a level may rest.
    pub const fn minimum_age(&self) -> u8 {
        self.minimum_age
    }

    pub(crate) fn ladder(&self, region: Region) -> &Ladder {
        &self.ladders[region_index(region)]
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::default_policy()
    }
}

pub(crate) const fn level_index(level: KycLevel) -> usize {
    match level {
        KycLevel::L0 => 0,
        KycLevel::L1 => 1,
        KycLevel::L2 => 2,
    }
}

pub(crate) const fn region_index(region: Region) -> usize {
    match region {
        Region::Us => 0,
        Region::International => 1,
    }
}

const REGIONS: [Region; 2] = [Region::Us, Region::International];
const ROOT_KEYS: [&str; 6] = [
    "version",
    "review",
    "documents",
    "age",
    "levels",
    "products",
];
const LEVEL_NAMES: &str = "levels are L0, L1 and L2";

/// Collects every violation instead of stopping at the first, so an operator fixes a file in one
/// round.
#[derive(Default)]
struct Parser {
    violations: Vec<PolicyViolation>,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

impl Parser {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.violations.push(PolicyViolation {
            path: path.into(),
            message: message.into(),
        });
    }

    fn keys(&mut self, table: &Table, prefix: &str, allowed: &[&str]) {
        for key in table.keys() {
            if !allowed.contains(&key.as_str()) {
                let message = format!("unknown field (expected one of: {})", allowed.join(", "));
                self.err(join(prefix, key), message);
            }
        }
    }

    fn table<'t>(&mut self, value: &'t Value, path: &str) -> Option<&'t Table> {
        let table = value.as_table();
        if table.is_none() {
            self.err(path, "must be a table");
        }
        table
    }

    /// An optional section: absent means defaults.
    fn section<'t>(&mut self, root: &'t Table, name: &str, allowed: &[&str]) -> Option<&'t Table> {
        let table = self.table(root.get(name)?, name)?;
        self.keys(table, name, allowed);
        Some(table)
    }

    fn count(
        &mut self,
        section: Option<&Table>,
        path: &str,
        range: RangeInclusive<u32>,
        default: u32,
    ) -> u32 {
        let key = path.rsplit('.').next().unwrap_or(path);
        let Some(value) = section.and_then(|s| s.get(key)) else {
            return default;
        };
        let n = value
            .as_integer()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| range.contains(n));
        n.unwrap_or_else(|| {
            let message = format!(
                "must be an integer from {} to {}",
                range.start(),
                range.end()
            );
            self.err(path, message);
            default
        })
    }

    fn level_name(&mut self, value: &Value, path: &str) -> Option<KycLevel> {
        let Some(name) = value.as_str() else {
            self.err(path, format!("must be a level name ({LEVEL_NAMES})"));
            return None;
        };
        let level = KycLevel::from_name(name);
        if level.is_none() {
            self.err(path, format!("unknown level `{name}` ({LEVEL_NAMES})"));
        }
        level
    }

    fn strings<'v>(&mut self, value: &'v Value, path: &str) -> Vec<&'v str> {
        let items = value
            .as_array()
            .and_then(|a| a.iter().map(Value::as_str).collect::<Option<Vec<_>>>());
        items.unwrap_or_else(|| {
            self.err(path, "must be an array of strings");
            Vec::new()
        })
    }

    fn fields(&mut self, value: &Value, path: &str) -> FieldSet {
        let mut set = FieldSet::EMPTY;
        for name in self.strings(value, path) {
            match KycField::ALL.into_iter().find(|&f| field_name(f) == name) {
                Some(f) if set.contains(f) => self.err(path, format!("lists `{name}` twice")),
                Some(f) => set = set.with(f),
                None => self.err(
                    path,
                    format!(
                        "unknown KYC field `{name}` (fields are phone, name, address, ssn, dateOfBirth)"
                    ),
                ),
            }
        }
        set
    }

    fn documents(&mut self, value: &Value, path: &str) -> DocumentSet {
        let mut set = DocumentSet::EMPTY;
        for name in self.strings(value, path) {
            match name {
                "proofOfId" if set.contains(MissingDocument::ProofOfId) => {
                    self.err(path, "lists `proofOfId` twice");
                }
                "proofOfId" => set = set.with(MissingDocument::ProofOfId),
                "proofOfAddress" => self.err(
                    path,
                    "`proofOfAddress` cannot be required: no uploadable document type proves an \
                     address yet (a reviewer can still request one)",
                ),
                other => self.err(
                    path,
                    format!("unknown document `{other}` (documents are proofOfId)"),
                ),
            }
        }
        set
    }

    /// Reads `[levels]` into per-region, per-level demands and checks the ladders they form.
    fn levels(&mut self, value: Option<&Value>) -> [[Option<Own>; 3]; 2] {
        let mut own: [[Option<Own>; 3]; 2] = [[None; 3]; 2];
        let Some(value) = value else {
            self.err("levels", "missing; the policy must define L0 at least");
            return own;
        };
        let Some(levels) = self.table(value, "levels") else {
            return own;
        };
        for (key, value) in levels {
            let path = format!("levels.{key}");
            let Some(level) = KycLevel::from_name(key) else {
                self.err(path, format!("unknown level ({LEVEL_NAMES})"));
                continue;
            };
            let Some(table) = self.table(value, &path) else {
                continue;
            };
            self.keys(table, &path, &["us", "international"]);
            for region in REGIONS {
                let rpath = format!("{path}.{}", region_name(region));
                let Some(entry) = table.get(region_name(region)) else {
                    continue;
                };
                let Some(entry) = self.table(entry, &rpath) else {
                    continue;
                };
                self.keys(entry, &rpath, &["requires", "fields", "documents"]);
                let requires_path = format!("{rpath}.requires");
                let requires = match entry.get("requires") {
                    Some(v) => self.level_name(v, &requires_path),
                    None => None,
                };
                let fields = entry.get("fields").map_or(FieldSet::EMPTY, |v| {
                    self.fields(v, &format!("{rpath}.fields"))
                });
                let documents = entry.get("documents").map_or(DocumentSet::EMPTY, |v| {
                    self.documents(v, &format!("{rpath}.documents"))
                });
                if level == KycLevel::L0 && entry.contains_key("requires") {
                    self.err(
                        requires_path,
                        "L0 is the base level and cannot require another level",
                    );
                } else if level != KycLevel::L0 && !entry.contains_key("requires") {
                    self.err(
                        requires_path,
                        "missing; name the level this one builds on, e.g. requires = \"L0\"",
                    );
                }
                own[region_index(region)][level_index(level)] = Some(Own {
                    requires,
                    fields,
                    documents,
                });
            }
        }
        for region in REGIONS {
            let ladder = &own[region_index(region)];
            let name = region_name(region);
            if ladder[0].is_none() {
                self.err(
                    format!("levels.L0.{name}"),
                    "missing; every end user starts at L0, so L0 must be defined for us and \
                     international end users",
                );
            }
            for level in KycLevel::ALL {
                let Some(Own {
                    requires: Some(base),
                    ..
                }) = ladder[level_index(level)]
                else {
                    continue;
                };
                let path = format!("levels.{level}.{name}.requires");
                if base >= level {
                    self.err(path, format!("must name a level below {level}"));
                } else if ladder[level_index(base)].is_none() {
                    self.err(
                        path,
                        format!("requires {base}, which is not defined for {name} end users"),
                    );
                }
            }
        }
        own
    }

    fn products(&mut self, value: Option<&Value>, own: &[[Option<Own>; 3]; 2]) -> Vec<Product> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(items) = value.as_array() else {
            self.err(
                "products",
                "must be an array of tables, written [[products]]",
            );
            return Vec::new();
        };
        let mut products: Vec<Product> = Vec::with_capacity(items.len());
        let mut seen: Vec<ProductId> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let index_path = format!("products[{i}]");
            let Some(table) = self.table(item, &index_path) else {
                continue;
            };
            self.keys(table, &index_path, &["name", "us", "international"]);
            let id = match table.get("name").map(Value::as_str) {
                None => {
                    self.err(format!("{index_path}.name"), "missing");
                    None
                }
                Some(None) => {
                    self.err(format!("{index_path}.name"), "must be a string");
                    None
                }
                Some(Some(name)) => match ProductId::parse(name) {
                    Ok(id) => Some(id),
                    Err(e) => {
                        self.err(format!("{index_path}.name"), e.to_string());
                        None
                    }
                },
            };
            let path = id
                .as_ref()
                .map_or(index_path.clone(), |id| format!("products.{id}"));
            if let Some(id) = &id {
                if seen.contains(id) {
                    self.err(
                        format!("{index_path}.name"),
                        format!("duplicate product `{id}`"),
                    );
                    continue;
                }
                seen.push(id.clone());
            }
            let mut needs = [KycLevel::L0; 2];
            let mut complete = id.is_some();
            for region in REGIONS {
                let name = region_name(region);
                let rpath = format!("{path}.{name}");
                let Some(v) = table.get(name) else {
                    self.err(rpath, "missing; name the level the product needs");
                    complete = false;
                    continue;
                };
                let Some(level) = self.level_name(v, &rpath) else {
                    complete = false;
                    continue;
                };
                if own[region_index(region)][level_index(level)].is_none() {
                    self.err(
                        rpath,
                        format!("needs {level}, which is not defined for {name} end users"),
                    );
                    complete = false;
                }
                needs[region_index(region)] = level;
            }
            if let (true, Some(id)) = (complete, id) {
                products.push(Product { id, needs });
            }
        }
        products
    }
}
