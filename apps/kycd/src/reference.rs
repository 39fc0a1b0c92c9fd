//! The API reference in Markdown (`docs/api.md`), rendered from the OpenAPI document alone, so
//! the two cannot disagree: `kycd openapi --markdown` prints it, and a test compares the
//! committed file with it.

use std::fmt::Write;

use serde_json::Value;

/// Methods in the order the reference lists them under a path.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The reference for `doc` (an OpenAPI 3.1 document as JSON), ending in one newline.
pub fn markdown(doc: &Value) -> String {
    let mut out = String::new();
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let _ = writeln!(out, "# {title} API reference\n");
    let _ = writeln!(
        out,
        "Generated from [openapi.json](openapi.json) by `kycd openapi --markdown`; do not edit by \
         hand.\n"
    );
    if let Some(description) = doc["info"]["description"].as_str() {
        let _ = writeln!(out, "{}\n", one_line(description));
    }
    let tags: Vec<(&str, &str)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["name"].as_str()?, t["description"].as_str().unwrap_or(""))))
        .collect();
    for (tag, description) in &tags {
        let _ = writeln!(out, "## {tag}\n");
        if !description.is_empty() {
            let _ = writeln!(out, "{}\n", one_line(description));
        }
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                let op = &item[method];
                let tagged = op["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == tag));
                if tagged {
                    operation(&mut out, doc, method, path, op);
                }
            }
        }
    }
    let _ = writeln!(out, "## Schemas\n");
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        schema_section(&mut out, name, schema);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn operation(out: &mut String, doc: &Value, method: &str, path: &str, op: &Value) {
    let _ = writeln!(out, "### `{} {path}`\n", method.to_ascii_uppercase());
    for text in [&op["summary"], &op["description"]] {
        if let Some(text) = text.as_str().filter(|t| !t.is_empty()) {
            let _ = writeln!(out, "{}\n", one_line(text));
        }
    }
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    let _ = writeln!(
        out,
        "{}\n",
        if secured {
            "Needs `Authorization: Bearer <api key>`."
        } else {
            "No API key."
        }
    );
    if let Some(parameters) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        let _ = writeln!(out, "| parameter | in | required | type | description |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for p in parameters {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                p["name"].as_str().unwrap_or(""),
                p["in"].as_str().unwrap_or(""),
                yes_no(p["required"].as_bool().unwrap_or(false)),
                type_of(&p["schema"]),
                cell(p["description"].as_str().unwrap_or("")),
            );
        }
        let _ = writeln!(out);
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        let bodies: Vec<String> = content
            .iter()
            .map(|(media, c)| format!("`{media}`: {}", type_of(&c["schema"])))
            .collect();
        let _ = writeln!(out, "Body: {}.\n", bodies.join("; "));
    }
    let _ = writeln!(out, "| status | meaning | body |");
    let _ = writeln!(out, "|---|---|---|");
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let response = resolve(doc, response);
        let body: Vec<String> = response["content"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(media, c)| match media.as_str() {
                "application/json" => type_of(&c["schema"]),
                _ => format!("`{media}`"),
            })
            .collect();
        let _ = writeln!(
            out,
            "| {status} | {} | {} |",
            cell(response["description"].as_str().unwrap_or("")),
            body.join(", "),
        );
    }
    let _ = writeln!(out);
}

fn schema_section(out: &mut String, name: &str, schema: &Value) {
    let _ = writeln!(out, "### {name}\n");
    if let Some(description) = schema["description"].as_str() {
        let _ = writeln!(out, "{}\n", one_line(description));
    }
    let Some(properties) = schema["properties"].as_object() else {
        let _ = writeln!(out, "{}\n", type_of(schema));
        return;
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let _ = writeln!(out, "| field | type | required | description |");
    let _ = writeln!(out, "|---|---|---|---|");
    for (field, property) in properties {
        let description = property["description"]
            .as_str()
            .or_else(|| nullable_ref(property)?["description"].as_str())
            .unwrap_or("");
        let _ = writeln!(
            out,
            "| `{field}` | {} | {} | {} |",
            type_of(property),
            yes_no(required.contains(&field.as_str())),
            cell(description),
        );
    }
    let _ = writeln!(out);
}

/// A response as written, or the shared response it refers to.
fn resolve<'a>(doc: &'a Value, response: &'a Value) -> &'a Value {
    match response["$ref"].as_str() {
        Some(reference) => reference
            .strip_prefix("#/components/responses/")
            .map_or(response, |name| &doc["components"]["responses"][name]),
        None => response,
    }
}

/// The `$ref` of a `oneOf: [null, {$ref}]` (an optional reference).
fn nullable_ref(schema: &Value) -> Option<&Value> {
    schema["oneOf"]
        .as_array()?
        .iter()
        .find(|s| s.get("$ref").is_some())
}

/// A schema in a few words: a link for a reference, the values of an enum, the item type of
/// an array.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("[{name}](#{})", name.to_ascii_lowercase());
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| format!("`{}`", plain(v))).collect();
        return format!("one of {}", values.join(", "));
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let options: Vec<String> = options.iter().map(type_of).collect();
        return options.join(" or ");
    }
    let kinds: Vec<&str> = match &schema["type"] {
        Value::String(kind) => vec![kind.as_str()],
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let words: Vec<String> = kinds
        .iter()
        .map(|kind| match *kind {
            "array" => format!("array of {}", type_of(&schema["items"])),
            "null" => "null".to_owned(),
            kind => match schema["format"].as_str() {
                Some(format) => format!("{kind} ({format})"),
                None => kind.to_owned(),
            },
        })
        .collect();
    if words.is_empty() {
        "any".to_owned()
    } else {
        words.join(" or ")
    }
}

fn plain(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn yes_no(yes: bool) -> &'static str {
    if yes { "yes" } else { "no" }
}

/// Text on one line, for a paragraph.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{markdown, type_of};

    #[test]
    fn schemas_read_as_words() {
        assert_eq!(
            type_of(&json!({"$ref": "#/components/schemas/ErrorBody"})),
            "[ErrorBody](#errorbody)"
        );
        assert_eq!(
            type_of(&json!({"type": "string", "enum": ["L0", "L1"]})),
            "one of `L0`, `L1`"
        );
        assert_eq!(
            type_of(&json!({"type": ["string", "null"], "format": "date"})),
            "string (date) or null"
        );
        assert_eq!(
            type_of(&json!({"type": "array", "items": {"type": "integer"}})),
            "array of integer"
        );
        assert_eq!(
            type_of(&json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/A"}]})),
            "null or [A](#a)"
        );
    }

    #[test]
    fn every_operation_and_schema_of_the_document_is_in_the_reference() {
        let doc: serde_json::Value = serde_json::from_str(&crate::openapi::json()).unwrap();
        let text = markdown(&doc);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let heading = format!("### `{} {path}`", method.to_ascii_uppercase());
                assert!(text.contains(&heading), "{heading}");
            }
        }
        for name in doc["components"]["schemas"].as_object().unwrap().keys() {
            assert!(text.contains(&format!("### {name}\n")), "{name}");
        }
    }
}
