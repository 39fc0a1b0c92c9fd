//! Policy files: the default one, its tables, and validation errors.

use kyc_model::{KycField, KycLevel, MissingDocument, Region};
use kyc_tiers::{DEFAULT_POLICY_TOML, DocumentSet, FieldSet, Policy, TierError};

fn violations(text: &str) -> Vec<String> {
    match Policy::from_toml(text) {
        Err(TierError::PolicyInvalid { violations }) => {
            violations.iter().map(ToString::to_string).collect()
        }
        other => panic!("expected PolicyInvalid, got {other:?}"),
    }
}

/// The default file with `from` replaced by `to` (which must occur exactly once).
fn edited(from: &str, to: &str) -> String {
    assert_eq!(
        DEFAULT_POLICY_TOML.matches(from).count(),
        1,
        "fixture text `{from}`"
    );
    DEFAULT_POLICY_TOML.replace(from, to)
}

#[test]
fn shipped_file_parses_to_the_built_in_policy() {
    let parsed = Policy::from_toml(DEFAULT_POLICY_TOML).unwrap();
    assert_eq!(parsed, Policy::default_policy());
    assert_eq!(Policy::default(), parsed);
}

#[test]
fn default_levels_match_the_spec_table() {
    use KycField::{Address, DateOfBirth, Name, Phone, Ssn};
    let p = Policy::default_policy();
    let proof = DocumentSet::of(&[MissingDocument::ProofOfId]);
    type Row = (Region, KycLevel, Option<(FieldSet, DocumentSet)>);
    let rows: [Row; 6] = [
        (
            Region::Us,
            KycLevel::L0,
            Some((FieldSet::of(&[Name, Phone]), DocumentSet::EMPTY)),
        ),
        (
            Region::Us,
            KycLevel::L1,
            Some((
                FieldSet::of(&[Name, Phone, Address, DateOfBirth, Ssn]),
                DocumentSet::EMPTY,
            )),
        ),
        (
            Region::Us,
            KycLevel::L2,
            Some((
                FieldSet::of(&[Name, Phone, Address, DateOfBirth, Ssn]),
                proof,
            )),
        ),
        (
            Region::International,
            KycLevel::L0,
            Some((FieldSet::of(&[Name, Phone]), DocumentSet::EMPTY)),
        ),
        (Region::International, KycLevel::L1, None),
        (
            Region::International,
            KycLevel::L2,
            Some((FieldSet::of(&[Name, Phone, Address, DateOfBirth]), proof)),
        ),
    ];
    for (region, level, expected) in rows {
        let got = p
            .level_rule(region, level)
            .map(|r| (r.cumulative_fields(), r.cumulative_documents()));
        assert_eq!(got, expected, "{region:?} {level}");
    }
    assert_eq!(
        p.levels(Region::International).collect::<Vec<_>>(),
        [KycLevel::L0, KycLevel::L2]
    );
    assert_eq!(p.failed_attempts_before_review(), 2);
    assert_eq!(p.resubmits_per_rejection(), 3);
    assert_eq!(p.rejections_before_lockout(), 3);
    assert_eq!(p.minimum_age(), 18);
}

#[test]
fn default_products_match_the_spec() {
    let p = Policy::default_policy();
    let got: Vec<_> = p
        .products()
        .iter()
        .map(|pr| {
            (
                pr.id().as_str(),
                pr.needs(Region::Us),
                pr.needs(Region::International),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("regulated-transfer", KycLevel::L0, KycLevel::L0),
            ("onramp", KycLevel::L1, KycLevel::L2),
            ("offramp", KycLevel::L2, KycLevel::L2),
        ]
    );
    assert!(p.product("onramp").is_some());
    assert!(p.product("card").is_none());
}

#[test]
fn unknown_fields_are_refused_with_their_path() {
    let cases = [
        (
            "version = 1",
            "version = 1\ncolour = \"red\"",
            "colour: unknown field",
        ),
        (
            "failed_attempts = 2",
            "failed_attempts = 2\nfailed_attempt = 3",
            "review.failed_attempt: unknown field",
        ),
        (
            "us = { requires = \"L0\", fields",
            "us = { require = \"L0\", requires = \"L0\", fields",
            "levels.L1.us.require: unknown field",
        ),
        (
            "[levels.L1]",
            "[levels.L1]\neu = { requires = \"L0\" }",
            "levels.L1.eu: unknown field (expected one of: us, international)",
        ),
        (
            "name = \"onramp\"",
            "name = \"onramp\"\nprice = 3",
            "products[1].price: unknown field",
        ),
        (
            "[levels.L2]",
            "[levels.L3]\nus = { requires = \"L2\" }\n\n[levels.L2]",
            "levels.L3: unknown level",
        ),
    ];
    for (from, to, expected) in cases {
        let found = violations(&edited(from, to));
        assert!(
            found.iter().any(|v| v.starts_with(expected)),
            "{expected:?} not in {found:?}"
        );
    }
}

#[test]
fn a_level_requiring_an_undefined_level_is_refused() {
    // Remove US L1: US L2 still builds on it, and onramp still needs it.
    let text = edited(
        "us = { requires = \"L0\", fields = [\"address\", \"dateOfBirth\", \"ssn\"] }\n",
        "",
    );
    let found = violations(&text);
    assert!(
        found.contains(
            &"levels.L2.us.requires: requires L1, which is not defined for us end users".to_owned()
        ),
        "{found:?}"
    );
    assert!(
        found.contains(
            &"products.onramp.us: needs L1, which is not defined for us end users".to_owned()
        ),
        "{found:?}"
    );
}

#[test]
fn a_product_needing_a_missing_level_is_refused() {
    let text = edited(
        "name = \"onramp\"\nus = \"L1\"\ninternational = \"L2\"",
        "name = \"onramp\"\nus = \"L1\"\ninternational = \"L1\"",
    );
    assert_eq!(
        violations(&text),
        [
            "products.onramp.international: needs L1, which is not defined for international end users"
        ]
    );
}

#[test]
fn ladder_shape_errors() {
    let cases = [
        (
            "us = { requires = \"L1\", documents",
            "us = { requires = \"L2\", documents",
            "levels.L2.us.requires: must name a level below L2",
        ),
        (
            "us = { requires = \"L1\", documents",
            "us = { documents",
            "levels.L2.us.requires: missing",
        ),
        (
            "us = { requires = \"L1\", documents",
            "us = { requires = \"L7\", documents",
            "levels.L2.us.requires: unknown level `L7`",
        ),
        (
            "us = { fields = [\"name\", \"phone\"] }",
            "us = { requires = \"L0\", fields = [\"name\", \"phone\"] }",
            "levels.L0.us.requires: L0 is the base level",
        ),
        (
            "international = { fields = [\"name\", \"phone\"] }\n",
            "",
            "levels.L0.international: missing",
        ),
        (
            "us = { fields = [\"name\", \"phone\"] }",
            "us = { fields = [\"name\", \"email\"] }",
            "levels.L0.us.fields: unknown KYC field `email`",
        ),
        (
            "us = { fields = [\"name\", \"phone\"] }",
            "us = { fields = [\"name\", \"name\"] }",
            "levels.L0.us.fields: lists `name` twice",
        ),
        (
            "us = { requires = \"L1\", documents = [\"proofOfId\"] }",
            "us = { requires = \"L1\", documents = [\"proofOfAddress\"] }",
            "levels.L2.us.documents: `proofOfAddress` cannot be required",
        ),
        (
            "us = { requires = \"L1\", documents = [\"proofOfId\"] }",
            "us = { requires = \"L1\", documents = \"proofOfId\" }",
            "levels.L2.us.documents: must be an array of strings",
        ),
        (
            "version = 1",
            "version = 2",
            "version: unsupported version 2",
        ),
        ("version = 1", "", "version: missing"),
        (
            "failed_attempts = 2",
            "failed_attempts = 0",
            "review.failed_attempts: must be an integer from 1 to 100",
        ),
        (
            "minimum = 18",
            "minimum = \"18\"",
            "age.minimum: must be an integer from 0 to 150",
        ),
        (
            "name = \"offramp\"",
            "name = \"onramp\"",
            "products[2].name: duplicate product `onramp`",
        ),
        (
            "name = \"offramp\"",
            "name = \"Off Ramp\"",
            "products[2].name: must be 1-64 lowercase letters",
        ),
        (
            "name = \"offramp\"\nus = \"L2\"\n",
            "name = \"offramp\"\n",
            "products.offramp.us: missing",
        ),
    ];
    for (from, to, expected) in cases {
        let found = violations(&edited(from, to));
        assert!(
            found.iter().any(|v| v.starts_with(expected)),
            "{expected:?} not in {found:?}"
        );
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = edited("version = 1", "version = 3\nextra = true");
    let text = text.replace("failed_attempts = 2", "failed_attempts = -1");
    let found = violations(&text);
    assert_eq!(found.len(), 3, "{found:?}");
    let message = Policy::from_toml(&text).unwrap_err().to_string();
    assert!(message.contains("extra: unknown field"), "{message}");
    assert!(message.contains("; "), "{message}");
}

#[test]
fn toml_syntax_errors_are_their_own_kind() {
    let err = Policy::from_toml("version = = 1").unwrap_err();
    assert!(matches!(err, TierError::PolicySyntax { .. }), "{err:?}");
    assert_eq!(err.code(), "invalid_policy");
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn optional_sections_default_to_the_spec_values() {
    let minimal = r#"
        version = 1
        [levels.L0]
        us = {}
        international = {}
    "#;
    let p = Policy::from_toml(minimal).unwrap();
    assert_eq!(p.failed_attempts_before_review(), 2);
    assert_eq!(p.minimum_age(), 18);
    assert!(p.products().is_empty());
    assert_eq!(
        p.level_rule(Region::Us, KycLevel::L0).unwrap().fields(),
        FieldSet::EMPTY
    );
}

#[test]
fn an_operator_can_give_international_users_an_l1() {
    let text = edited(
        "# International end users have no L1.",
        "international = { requires = \"L0\", fields = [\"address\"] }",
    )
    .replace(
        "international = { requires = \"L0\", fields = [\"address\", \"dateOfBirth\"], documents",
        "international = { requires = \"L1\", fields = [\"dateOfBirth\"], documents",
    );
    let p = Policy::from_toml(&text).unwrap();
    let l2 = p.level_rule(Region::International, KycLevel::L2).unwrap();
    assert_eq!(
        l2.cumulative_fields(),
        FieldSet::of(&[
            KycField::Name,
            KycField::Phone,
            KycField::Address,
            KycField::DateOfBirth
        ])
    );
    assert_eq!(l2.requires(), Some(KycLevel::L1));
}

#[test]
fn the_guide_quotes_the_shipped_file() {
    let guide = include_str!("../../../../docs/tier-policy.md");
    let quoted = format!("```toml\n{DEFAULT_POLICY_TOML}```");
    assert!(
        guide.contains(&quoted),
        "docs/tier-policy.md must quote default_policy.toml verbatim"
    );
}

#[test]
fn the_guide_shows_real_error_messages() {
    let broken = [
        edited("version = 1", "version = 2\ncolour = \"red\""),
        edited(
            "us = { requires = \"L0\", fields",
            "us = { require = \"L0\", requires = \"L0\", fields",
        ),
        edited("[levels.L2]", "[levels.L3]\n\n[levels.L2]"),
        edited(
            "us = { requires = \"L0\", fields = [\"address\", \"dateOfBirth\", \"ssn\"] }\n",
            "",
        ),
        edited(
            "us = { requires = \"L1\", documents = [\"proofOfId\"] }",
            "us = { requires = \"L2\", documents = [\"proofOfAddress\"] }",
        ),
        edited("international = { fields = [\"name\", \"phone\"] }\n", ""),
        edited(
            "us = { fields = [\"name\", \"phone\"] }",
            "us = { fields = [\"name\", \"email\"] }",
        ),
        edited("name = \"offramp\"", "name = \"onramp\""),
    ];
    let mut all: Vec<String> = broken.iter().flat_map(|t| violations(t)).collect();
    all.extend(violations(&edited(
        "name = \"onramp\"\nus = \"L1\"\ninternational = \"L2\"",
        "name = \"onramp\"\nus = \"L1\"\ninternational = \"L1\"",
    )));
    let guide = include_str!("../../../../docs/tier-policy.md");
    let block = guide
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    for line in block.lines() {
        assert!(
            all.iter().any(|v| v == line),
            "not produced: {line}\n{all:#?}"
        );
    }
}
