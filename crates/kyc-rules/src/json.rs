//! A small reader over `serde_json::Value` that records every violation instead of stopping at
//! the first, which is what `#[derive(Deserialize)]` would do.

use kyc_model::ModelError;
use serde_json::{Map, Value};

use crate::{RulesError, Violation};

/// Longest unknown key quoted in a field path: keys are not PII, but they are caller-controlled
/// and end up in responses and logs.
const MAX_KEY_CHARS: usize = 64;

/// Collects violations while a body is read.
#[derive(Default)]
pub(crate) struct Ctx {
    violations: Vec<Violation>,
}

impl Ctx {
    pub(crate) fn violation(&mut self, field: &str, rule: &str, message: &str) {
        self.violations.push(Violation {
            field: field.to_owned(),
            rule: rule.to_owned(),
            message: message.to_owned(),
        });
    }

    pub(crate) fn model(&mut self, field: &str, err: ModelError) {
        self.violations.push(Violation {
            field: field.to_owned(),
            rule: err.rule().to_owned(),
            message: err.to_string(),
        });
    }

    pub(crate) fn required(&mut self, field: &str) {
        self.violation(field, "required", "is required");
    }

    /// The result of a read: `value` when nothing was violated, else every violation, sorted.
    ///
    /// `value` is `None` only when a part failed, which recorded a violation; the fallback
    /// violation guards the invariant without panicking.
    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, RulesError> {
        match value {
            Some(v) if self.violations.is_empty() => Ok(v),
            _ => {
                let mut violations = self.violations;
                if violations.is_empty() {
                    violations.push(Violation {
                        field: String::new(),
                        rule: "invalid".to_owned(),
                        message: "is invalid".to_owned(),
                    });
                }
                violations.sort();
                violations.dedup();
                Err(RulesError::Invalid(violations))
            }
        }
    }
}

/// Joins a parent path and a key: `address` + `city` = `address.city`.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// A JSON object being read, with its path.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

/// What a field held after its parser ran.
pub(crate) enum Slot<T> {
    /// The key was not there.
    Absent,
    /// The key held `null`.
    Null,
    /// The value parsed.
    Set(T),
    /// The value was present but broke a rule (already recorded).
    Invalid,
}

/// A field of an object after reading: its path and what it held.
pub(crate) struct Field<T> {
    path: String,
    slot: Slot<T>,
}

impl<T> Field<T> {
    /// A field that must be present and not null.
    pub(crate) fn required(self, ctx: &mut Ctx) -> Option<T> {
        match self.slot {
            Slot::Set(v) => Some(v),
            Slot::Absent | Slot::Null => {
                ctx.required(&self.path);
                None
            }
            Slot::Invalid => None,
        }
    }

    /// A field that may be absent or null (both mean "none").
    pub(crate) fn optional(self) -> Option<T> {
        match self.slot {
            Slot::Set(v) => Some(v),
            _ => None,
        }
    }

    /// An optional field, distinguishing a broken value (`None`) from an absent or null one
    /// (`Some(None)`), so a composite fails when one of its optional parts does.
    pub(crate) fn maybe(self) -> Option<Option<T>> {
        match self.slot {
            Slot::Set(v) => Some(Some(v)),
            Slot::Absent | Slot::Null => Some(None),
            Slot::Invalid => None,
        }
    }

    /// A required field in a patch: absent keeps the current value, null is a violation.
    pub(crate) fn patch_required(self, ctx: &mut Ctx) -> Option<T> {
        match self.slot {
            Slot::Set(v) => Some(v),
            Slot::Null => {
                ctx.violation(&self.path, "required", "may not be null");
                None
            }
            Slot::Absent | Slot::Invalid => None,
        }
    }

    /// An optional field in a patch: absent keeps (`None`), null clears (`Some(None)`).
    pub(crate) fn patch_optional(self) -> Option<Option<T>> {
        match self.slot {
            Slot::Set(v) => Some(Some(v)),
            Slot::Null => Some(None),
            Slot::Absent | Slot::Invalid => None,
        }
    }

    /// Whether the key held `null` or nothing.
    pub(crate) fn is_missing(&self) -> bool {
        matches!(self.slot, Slot::Absent | Slot::Null)
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }
}

impl<'a> Obj<'a> {
    /// Reads `value` as an object, or records a `type` violation at `path`.
    pub(crate) fn new(ctx: &mut Ctx, path: &str, value: &'a Value) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self {
                map,
                path: path.to_owned(),
            }),
            _ => {
                ctx.violation(path, "type", "must be a JSON object");
                None
            }
        }
    }

    /// Records an `unknown_field` violation for every key not in `allowed`. Keys in
    /// `server_owned` get a message saying why: they are real fields, just not writable.
    pub(crate) fn deny_unknown(&self, ctx: &mut Ctx, allowed: &[&str], server_owned: &[&str]) {
        for key in self.map.keys() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let message = if server_owned.contains(&key.as_str()) {
                "is set by the server and cannot be written"
            } else {
                "is not a known field"
            };
            let shown: String = key.chars().take(MAX_KEY_CHARS).collect();
            ctx.violation(&join(&self.path, &shown), "unknown_field", message);
        }
    }

    /// Whether the object has no keys at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Reads `key` with `parse`, which gets the field's path and its non-null value and records
    /// its own violations.
    pub(crate) fn get<T>(
        &self,
        ctx: &mut Ctx,
        key: &str,
        parse: impl FnOnce(&mut Ctx, &str, &'a Value) -> Option<T>,
    ) -> Field<T> {
        let path = join(&self.path, key);
        let slot = match self.map.get(key) {
            None => Slot::Absent,
            Some(Value::Null) => Slot::Null,
            Some(v) => parse(ctx, &path, v).map_or(Slot::Invalid, Slot::Set),
        };
        Field { path, slot }
    }
}

/// A parser for a JSON string field through a value type's constructor.
pub(crate) fn text<'v, T>(
    parse: impl FnOnce(&str) -> Result<T, ModelError>,
) -> impl FnOnce(&mut Ctx, &str, &'v Value) -> Option<T> {
    move |ctx, path, value| {
        let raw = string(ctx, path, value)?;
        parse(raw).map_err(|e| ctx.model(path, e)).ok()
    }
}

/// A parser for a JSON string field, returning the raw text.
pub(crate) fn raw_text<'v>() -> impl FnOnce(&mut Ctx, &str, &'v Value) -> Option<&'v str> {
    string
}

fn string<'v>(ctx: &mut Ctx, path: &str, value: &'v Value) -> Option<&'v str> {
    match value {
        Value::String(s) => Some(s),
        _ => {
            ctx.violation(path, "type", "must be a string");
            None
        }
    }
}
