//! List queries (SPEC §6): `filter[field]=value`, `filter[field]=like:x`, `in:a,b`, `nin:a,b`
//! on a whitelist of fields; `sort=createdAt|-createdAt|updatedAt|-updatedAt`; `page[size]`
//! (default 30, at most 100) and `page[number]` (from 1); `all=true` (at most
//! [`ALL_CAP`] items). Parsed once into a typed [`ListQuery`]; bad input yields every violation
//! at once, as [`StoreError::InvalidListQuery`].

use kyc_model::{Email, KycLevel, ReviewStatus};

use crate::StoreError;

/// Default `page[size]`.
pub const DEFAULT_PAGE_SIZE: u32 = 30;
/// Largest `page[size]`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Most items `all=true` returns.
pub const ALL_CAP: u32 = 1000;

/// One broken rule of a list query, named like a validation violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryViolation {
    /// The query parameter, e.g. `filter[kycLevel]` or `page[size]`.
    pub field: String,
    /// A stable rule name, e.g. `unknown_field`, `operator`, `value`, `range`.
    pub rule: &'static str,
    /// What is allowed.
    pub message: String,
}

/// Which list a query is for: each has its own filterable fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// `GET /personal-identities`.
    Persons,
    /// `GET /business-identities`.
    Companies,
}

impl Listing {
    /// The value of `filter[type]` its identities have (seed 001's identity types).
    pub const fn identity_type(self) -> &'static str {
        match self {
            Self::Persons => "person",
            Self::Companies => "company",
        }
    }
}

/// A field a list can be filtered on (seed 001's filters; [`FilterField::applies_to`] says
/// which list has it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterField {
    Id,
    Email,
    FirstName,
    LastName,
    /// Persons: the first, the last or the full name, ignoring case (seed 001's
    /// `filter[name]=fred`); companies: the legal name.
    Name,
    KycLevel,
    ReviewStatus,
    Blocked,
    ContainerId,
    /// `person` or `company`.
    Type,
    /// A company's owner (a personal identity id).
    IdentityOwner,
}

impl FilterField {
    /// Every filterable field.
    pub const ALL: [Self; 11] = [
        Self::Id,
        Self::Email,
        Self::FirstName,
        Self::LastName,
        Self::Name,
        Self::KycLevel,
        Self::ReviewStatus,
        Self::Blocked,
        Self::ContainerId,
        Self::Type,
        Self::IdentityOwner,
    ];

    /// Whether `listing` can be filtered on this field.
    pub const fn applies_to(self, listing: Listing) -> bool {
        match listing {
            Listing::Persons => !matches!(self, Self::IdentityOwner),
            Listing::Companies => matches!(
                self,
                Self::Id
                    | Self::Email
                    | Self::Name
                    | Self::ContainerId
                    | Self::Type
                    | Self::IdentityOwner
            ),
        }
    }

    /// The wire name inside `filter[...]`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Email => "email",
            Self::FirstName => "firstName",
            Self::LastName => "lastName",
            Self::Name => "name",
            Self::KycLevel => "kycLevel",
            Self::ReviewStatus => "reviewStatus",
            Self::Blocked => "blocked",
            Self::ContainerId => "containerId",
            Self::Type => "type",
            Self::IdentityOwner => "identityOwner",
        }
    }

    /// Parses the wire name of a field of `listing`.
    pub fn from_name(listing: Listing, name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.applies_to(listing) && f.as_str() == name)
    }

    /// Whether `like:` applies (free-text fields only).
    pub const fn supports_like(self) -> bool {
        matches!(
            self,
            Self::Email | Self::FirstName | Self::LastName | Self::Name
        )
    }

    /// Checks one value and returns its stored form (emails lowercased, levels and statuses
    /// by wire name, booleans as `true`/`false`), or what the value must look like.
    fn canonical(self, raw: &str) -> Result<String, &'static str> {
        match self {
            // Ids compare in their stored (hyphenated, lowercase) form.
            Self::Id | Self::IdentityOwner | Self::ContainerId => uuid::Uuid::parse_str(raw)
                .map(|id| id.hyphenated().to_string())
                .map_err(|_| "must be a UUID"),
            Self::Type => match raw {
                "person" | "company" => Ok(raw.to_owned()),
                _ => Err("must be person or company"),
            },
            // Equality on an email compares stored (lowercased) addresses; a malformed one can
            // match nothing, so it is refused rather than answered with an empty page.
            Self::Email => Email::parse(raw)
                .map(|e| e.as_str().to_owned())
                .map_err(|_| "must be an email address"),
            Self::FirstName | Self::LastName | Self::Name => {
                if (1..=100).contains(&raw.chars().count()) {
                    Ok(raw.to_owned())
                } else {
                    Err("must be 1-100 characters")
                }
            }
            Self::KycLevel => KycLevel::from_name(raw)
                .map(|l| l.as_str().to_owned())
                .ok_or("must be one of L0, L1, L2"),
            Self::ReviewStatus => ReviewStatus::from_name(raw)
                .map(|s| s.as_str().to_owned())
                .ok_or("must be one of none, pending, approved, rejected, informationRequested"),
            Self::Blocked => match raw {
                "true" | "false" => Ok(raw.to_owned()),
                _ => Err("must be true or false"),
            },
        }
    }
}

/// A filter operator with its (checked, canonical) values. `Debug` shows the operator and how
/// many values, never the values: filters on email and names carry PII.
#[derive(Clone, PartialEq, Eq)]
pub enum FilterOp {
    /// `filter[f]=v`
    Eq(String),
    /// `filter[f]=like:x`: contains `x`, case-insensitively (ASCII case on SQLite).
    Like(String),
    /// `filter[f]=in:a,b`
    In(Vec<String>),
    /// `filter[f]=nin:a,b`
    NotIn(Vec<String>),
}

impl FilterOp {
    /// Whether `value` passes this filter (for values known without a query, such as an
    /// identity's type).
    pub fn admits(&self, value: &str) -> bool {
        match self {
            Self::Eq(v) => v == value,
            Self::Like(needle) => value.contains(needle.as_str()),
            Self::In(vs) => vs.iter().any(|v| v == value),
            Self::NotIn(vs) => vs.iter().all(|v| v != value),
        }
    }
}

impl std::fmt::Debug for FilterOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Eq(_) => f.write_str("Eq(<redacted>)"),
            Self::Like(_) => f.write_str("Like(<redacted>)"),
            Self::In(v) => write!(f, "In(<{} redacted>)", v.len()),
            Self::NotIn(v) => write!(f, "NotIn(<{} redacted>)", v.len()),
        }
    }
}

/// One filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: FilterField,
    pub op: FilterOp,
}

/// The sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    CreatedAtAsc,
    /// `-createdAt`, the default: newest first.
    #[default]
    CreatedAtDesc,
    UpdatedAtAsc,
    UpdatedAtDesc,
}

impl Sort {
    /// Parses `createdAt`, `-createdAt`, `updatedAt` or `-updatedAt`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "createdAt" => Some(Self::CreatedAtAsc),
            "-createdAt" => Some(Self::CreatedAtDesc),
            "updatedAt" => Some(Self::UpdatedAtAsc),
            "-updatedAt" => Some(Self::UpdatedAtDesc),
            _ => None,
        }
    }
}

/// Which slice of the result to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRequest {
    /// Page `number` (from 1) of `size` items.
    Page { number: u32, size: u32 },
    /// Everything, up to [`ALL_CAP`] items.
    All,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::Page {
            number: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl PageRequest {
    /// A page, with `number` and `size` clamped into range.
    pub fn page(number: u32, size: u32) -> Self {
        Self::Page {
            number: number.max(1),
            size: size.clamp(1, MAX_PAGE_SIZE),
        }
    }

    /// `(limit, offset)` for SQL.
    pub(crate) fn limit_offset(self) -> (i64, i64) {
        match self {
            Self::Page { number, size } => {
                let size = size.clamp(1, MAX_PAGE_SIZE);
                (
                    i64::from(size),
                    i64::from(number.max(1) - 1) * i64::from(size),
                )
            }
            Self::All => (i64::from(ALL_CAP), 0),
        }
    }
}

/// A page of results and the total number of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// All matches, not just this page's.
    pub total: u64,
    /// The request this page answers.
    pub request: PageRequest,
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, total: i64, request: PageRequest) -> Self {
        Self {
            items,
            total: u64::try_from(total).unwrap_or(0),
            request,
        }
    }
}

/// A parsed list query (`GET /personal-identities`, `GET /business-identities`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    pub sort: Sort,
    pub page: PageRequest,
}

impl ListQuery {
    /// Parses decoded query pairs of the person list such as `("filter[kycLevel]",
    /// "in:L1,L2")`. Unknown parameters are refused, like unknown JSON fields.
    pub fn parse<'a, I>(pairs: I) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        Self::parse_for(Listing::Persons, pairs)
    }

    /// [`ListQuery::parse`] for the list `listing`, with its own filterable fields.
    pub fn parse_for<'a, I>(listing: Listing, pairs: I) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut q = Self::default();
        let mut violations = Vec::new();
        let mut bad = |field: &str, rule: &'static str, message: String| {
            violations.push(QueryViolation {
                field: field.to_owned(),
                rule,
                message,
            });
        };
        let mut number: Option<u32> = None;
        let mut size: Option<u32> = None;
        let mut all = false;
        for (key, value) in pairs {
            if let Some(name) = key
                .strip_prefix("filter[")
                .and_then(|k| k.strip_suffix(']'))
            {
                let Some(field) = FilterField::from_name(listing, name) else {
                    let known: Vec<_> = FilterField::ALL
                        .iter()
                        .filter(|f| f.applies_to(listing))
                        .map(|f| f.as_str())
                        .collect();
                    bad(
                        key,
                        "unknown_field",
                        format!("can filter on: {}", known.join(", ")),
                    );
                    continue;
                };
                match parse_op(field, value) {
                    Ok(op) => q.filters.push(Filter { field, op }),
                    Err((rule, message)) => bad(key, rule, message),
                }
                continue;
            }
            match key {
                "sort" => match Sort::from_name(value) {
                    Some(s) => q.sort = s,
                    None => bad(
                        key,
                        "value",
                        "must be createdAt, -createdAt, updatedAt or -updatedAt".into(),
                    ),
                },
                "page[size]" => match value.parse::<u32>() {
                    Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => size = Some(n),
                    _ => bad(
                        key,
                        "range",
                        format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                    ),
                },
                "page[number]" => match value.parse::<u32>() {
                    Ok(n) if n >= 1 => number = Some(n),
                    _ => bad(key, "range", "must be a whole number from 1".into()),
                },
                "all" => match value {
                    "true" => all = true,
                    "false" => all = false,
                    _ => bad(key, "value", "must be true or false".into()),
                },
                _ => bad(
                    key,
                    "unknown_parameter",
                    "allowed: filter[field], sort, page[size], page[number], all".into(),
                ),
            }
        }
        if !violations.is_empty() {
            return Err(StoreError::InvalidListQuery { violations });
        }
        q.page = if all {
            PageRequest::All
        } else {
            PageRequest::Page {
                number: number.unwrap_or(1),
                size: size.unwrap_or(DEFAULT_PAGE_SIZE),
            }
        };
        Ok(q)
    }

    /// Adds a filter, checking and canonicalizing its values like [`ListQuery::parse`].
    pub fn with_filter(mut self, field: FilterField, raw: &str) -> Result<Self, StoreError> {
        let op = parse_op(field, raw).map_err(|(rule, message)| StoreError::InvalidListQuery {
            violations: vec![QueryViolation {
                field: format!("filter[{}]", field.as_str()),
                rule,
                message,
            }],
        })?;
        self.filters.push(Filter { field, op });
        Ok(self)
    }
}

fn parse_op(field: FilterField, value: &str) -> Result<FilterOp, (&'static str, String)> {
    // No stored value holds one, and a NUL would end the value early in SQLite's C strings
    // (matching what it should not) and fail PostgreSQL's text encoding.
    if value.chars().any(char::is_control) {
        return Err(("value", "must not contain control characters".into()));
    }
    let list = |raw: &str| -> Result<Vec<String>, (&'static str, String)> {
        let items: Vec<&str> = raw.split(',').collect();
        if items.is_empty() || items.iter().any(|s| s.is_empty()) || items.len() > 100 {
            return Err(("value", "must be 1-100 comma-separated values".into()));
        }
        items
            .into_iter()
            .map(|v| field.canonical(v).map_err(|m| ("value", m.to_owned())))
            .collect()
    };
    if let Some(rest) = value.strip_prefix("like:") {
        if !field.supports_like() {
            return Err(("operator", "like: applies to email and names only".into()));
        }
        if rest.is_empty() || rest.chars().count() > 100 {
            return Err(("value", "like: needs 1-100 characters".into()));
        }
        let needle = if field == FilterField::Email {
            rest.to_lowercase()
        } else {
            rest.to_owned()
        };
        return Ok(FilterOp::Like(needle));
    }
    if let Some(rest) = value.strip_prefix("in:") {
        return list(rest).map(FilterOp::In);
    }
    if let Some(rest) = value.strip_prefix("nin:") {
        return list(rest).map(FilterOp::NotIn);
    }
    field.canonical(value).map(FilterOp::Eq).map_err(|m| {
        // No filterable value contains a colon, so `gt:5` or `eq:x` names an operator this
        // list does not have: say so, rather than that `gt:5` is not a level.
        match value.split_once(':') {
            Some((op, _)) if !op.is_empty() && op.bytes().all(|b| b.is_ascii_alphabetic()) => (
                "operator",
                "unknown operator: use a value, like:x, in:a,b or nin:a,b".to_owned(),
            ),
            _ => ("value", m.to_owned()),
        }
    })
}

/// A `LIKE` pattern for values containing `needle`. `%` and `_` in user input match themselves:
/// escaped with `\` (used as the `ESCAPE` char).
pub(crate) fn like_contains_pattern(needle: &str) -> String {
    format!("%{}%", like_exact_pattern(needle))
}

/// A `LIKE` pattern for `value` itself (with `ILIKE`, equality ignoring case).
pub(crate) fn like_exact_pattern(value: &str) -> String {
    let mut p = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<ListQuery, StoreError> {
        ListQuery::parse(pairs.iter().copied())
    }

    fn violations(pairs: &[(&str, &str)]) -> Vec<(String, &'static str)> {
        match parse(pairs) {
            Err(StoreError::InvalidListQuery { violations }) => {
                violations.into_iter().map(|v| (v.field, v.rule)).collect()
            }
            other => panic!("expected violations, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let q = parse(&[]).unwrap();
        assert!(q.filters.is_empty());
        assert_eq!(q.sort, Sort::CreatedAtDesc);
        assert_eq!(
            q.page,
            PageRequest::Page {
                number: 1,
                size: 30
            }
        );
        assert_eq!(q.page.limit_offset(), (30, 0));
    }

    #[test]
    fn parses_every_operator() {
        let id = kyc_model::PersonalIdentityId::random();
        let q = parse(&[
            ("filter[email]", "John@Example.com"),
            ("filter[lastName]", "like:Do%"),
            ("filter[kycLevel]", "in:L1,L2"),
            ("filter[reviewStatus]", "nin:pending"),
            ("filter[id]", &id.to_string()),
            ("filter[blocked]", "false"),
            ("sort", "updatedAt"),
            ("page[size]", "100"),
            ("page[number]", "3"),
        ])
        .unwrap();
        assert_eq!(q.filters[0].op, FilterOp::Eq("john@example.com".to_owned()));
        assert_eq!(q.filters[1].op, FilterOp::Like("Do%".to_owned()));
        assert_eq!(
            q.filters[2].op,
            FilterOp::In(vec!["L1".to_owned(), "L2".to_owned()])
        );
        assert_eq!(q.filters[3].op, FilterOp::NotIn(vec!["pending".to_owned()]));
        assert_eq!(q.sort, Sort::UpdatedAtAsc);
        assert_eq!(q.page.limit_offset(), (100, 200));
    }

    #[test]
    fn all_is_capped() {
        let q = parse(&[("all", "true"), ("page[size]", "10")]).unwrap();
        assert_eq!(q.page, PageRequest::All);
        assert_eq!(q.page.limit_offset(), (i64::from(ALL_CAP), 0));
    }

    #[test]
    fn reports_every_violation() {
        let v = violations(&[
            ("filter[ssn]", "123"),
            ("filter[kycLevel]", "L3"),
            ("filter[kycLevel]", "like:L"),
            ("filter[id]", "nope"),
            ("filter[blocked]", "yes"),
            ("filter[email]", "in:a@b.co,"),
            ("sort", "name"),
            ("page[size]", "101"),
            ("page[size]", "0"),
            ("page[number]", "0"),
            ("all", "maybe"),
            ("include", "x"),
            ("filter[kycLevel]", "gt:L1"),
            ("filter[email]", "eq:a@b.co"),
        ]);
        let rules: Vec<&str> = v.iter().map(|(_, r)| *r).collect();
        assert_eq!(
            rules,
            [
                "unknown_field",
                "value",
                "operator",
                "value",
                "value",
                "value",
                "value",
                "range",
                "range",
                "range",
                "value",
                "unknown_parameter",
                "operator",
                "operator"
            ]
        );
        assert_eq!(v[0].0, "filter[ssn]");
    }

    #[test]
    fn control_characters_are_refused_in_every_operator() {
        for value in [
            "Ann\0 Lee",
            "like:Ann\0x",
            "like:\0",
            "in:Ann,Bo\u{7}",
            "nin:\nAnn",
        ] {
            for field in ["filter[firstName]", "filter[name]", "filter[lastName]"] {
                let v = violations(&[(field, value)]);
                assert_eq!(v.len(), 1, "{field}={value:?}");
                assert_eq!(v[0].1, "value", "{field}={value:?}");
            }
        }
        let v = violations(&[("filter[email]", "like:a\0b")]);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn debug_hides_filter_values() {
        let q = parse(&[("filter[email]", "in:ann@example.com,bo@example.com")]).unwrap();
        let dbg = format!("{q:?}");
        assert!(!dbg.contains("example.com"), "{dbg}");
        assert!(dbg.contains("In(<2 redacted>)"), "{dbg}");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn page_clamps() {
        assert_eq!(
            PageRequest::page(0, 1000),
            PageRequest::Page {
                number: 1,
                size: 100
            }
        );
    }
}
