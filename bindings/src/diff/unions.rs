//! Enums and unions: `enum`/`const` value sets and `oneOf`/`anyOf` alternatives, matched across
//! versions by what tells them apart on the wire (the value, the tag, the wrapping key).

use serde_json::{Map, Value, json};

use super::document::Document;
use super::schema::{Walk, as_map, is_metadata};

/// Keywords that make a schema a set of alternatives.
const ALTERNATIVE_KEYWORDS: &[&str] = &["enum", "const", "oneOf", "anyOf"];

/// Whether a schema is an enum or a union.
pub(crate) fn has_alternatives(map: &Map<String, Value>) -> bool {
    ALTERNATIVE_KEYWORDS.iter().any(|key| map.contains_key(*key))
}

/// What identifies an alternative on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// One JSON value (an enum value, a unit variant).
    Value(Value),
    /// An object whose `property` is always `value` (internally or adjacently tagged).
    Tag(String, Value),
    /// An object with exactly one key (externally tagged).
    Wrapped(String),
    /// A named type with nothing else to tell it apart (untagged).
    Named(String),
    /// Nothing tells it apart: only its place in the list.
    Position(usize),
}

/// One alternative of an enum or union.
pub(crate) struct Alternative {
    pub key: Key,
    pub schema: Value,
}

impl Alternative {
    /// How the alternative appears in a path (`Priority::high`, `TodoEvent::deleted`).
    pub(super) fn label(&self) -> String {
        let value = |value: &Value| match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        match &self.key {
            Key::Value(v) | Key::Tag(_, v) => value(v),
            Key::Wrapped(name) | Key::Named(name) => name.clone(),
            Key::Position(index) => format!("#{index}"),
        }
    }
}

/// The alternatives of a schema; a schema without any is its own single, positional one.
pub(crate) fn alternatives(document: &Document<'_>, map: &Map<String, Value>) -> Vec<Alternative> {
    let mut out = Vec::new();
    if let Some(list) = map.get("oneOf").or_else(|| map.get("anyOf")).and_then(Value::as_array) {
        for (index, entry) in list.iter().enumerate() {
            expand(document, entry, index, &mut out);
        }
    } else if let Some(values) = map.get("enum").and_then(Value::as_array) {
        out.extend(values.iter().map(|v| Alternative { key: Key::Value(v.clone()), schema: json!({ "const": v }) }));
    } else if let Some(value) = map.get("const") {
        out.push(Alternative { key: Key::Value(value.clone()), schema: Value::Object(map.clone()) });
    } else {
        out.push(Alternative { key: Key::Position(0), schema: Value::Object(map.clone()) });
    }
    out
}

/// The alternatives one `oneOf` entry stands for (an entry with an `enum` stands for each value).
fn expand(document: &Document<'_>, entry: &Value, index: usize, out: &mut Vec<Alternative>) {
    let named = entry.get("$ref").and_then(Value::as_str).and_then(|r| document.definition(r));
    let inspected = named.map_or(entry, |(_, schema)| schema);
    let map = as_map(inspected);
    let key = if let Some(values) = map.get("enum").and_then(Value::as_array)
        && !map.contains_key("oneOf")
        && !map.contains_key("anyOf")
    {
        for value in values {
            out.push(Alternative { key: Key::Value(value.clone()), schema: json!({ "const": value }) });
        }
        return;
    } else if let Some(value) = map.get("const") {
        Key::Value(value.clone())
    } else if let Some((property, value)) = tag(&map) {
        Key::Tag(property, value)
    } else if let Some(property) = wrapping_key(&map) {
        Key::Wrapped(property)
    } else if let Some((name, _)) = named {
        Key::Named(name.to_owned())
    } else {
        Key::Position(index)
    };
    out.push(Alternative { key, schema: entry.clone() });
}

/// The first (by name) required property whose schema allows exactly one value.
fn tag(map: &Map<String, Value>) -> Option<(String, Value)> {
    let properties = map.get("properties")?.as_object()?;
    let required: Vec<&str> = map.get("required")?.as_array()?.iter().filter_map(Value::as_str).collect();
    let mut names: Vec<&String> = properties.keys().filter(|name| required.contains(&name.as_str())).collect();
    names.sort();
    names.into_iter().find_map(|name| {
        let schema = properties.get(name)?;
        let value = match (schema.get("const"), schema.get("enum").and_then(Value::as_array)) {
            (Some(value), _) => value.clone(),
            (None, Some(values)) if values.len() == 1 => values[0].clone(),
            _ => return None,
        };
        Some((name.clone(), value))
    })
}

/// The one key of an object that has exactly one required property and refuses others.
fn wrapping_key(map: &Map<String, Value>) -> Option<String> {
    let properties = map.get("properties")?.as_object()?;
    let required = map.get("required")?.as_array()?;
    let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
    match (properties.keys().next(), required.as_slice()) {
        (Some(name), [only]) if properties.len() == 1 && closed && only == name => Some(name.clone()),
        _ => None,
    }
}

/// The JSON types a value has (`integer` values are `number`s too).
fn value_types(value: &Value) -> &'static [&'static str] {
    match value {
        Value::Null => &["null"],
        Value::Bool(_) => &["boolean"],
        Value::Number(n) if n.is_i64() || n.is_u64() => &["integer", "number"],
        Value::Number(_) => &["number"],
        Value::String(_) => &["string"],
        Value::Array(_) => &["array"],
        Value::Object(_) => &["object"],
    }
}

/// Whether every value of an enum fits a plain schema's `type` (any type when it has none).
fn values_fit(values: &[Alternative], plain: &Map<String, Value>) -> bool {
    let types: Vec<&str> = match plain.get("type") {
        Some(Value::String(ty)) => vec![ty.as_str()],
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
        _ => return true,
    };
    values.iter().all(|alternative| match &alternative.key {
        Key::Value(value) => value_types(value).iter().any(|ty| types.contains(ty)),
        _ => false,
    })
}

fn all_values(alternatives: &[Alternative]) -> bool {
    alternatives.iter().all(|alternative| matches!(alternative.key, Key::Value(_)))
}

fn list(alternatives: &[Alternative]) -> String {
    alternatives.iter().map(|a| format!("`{}`", a.label())).collect::<Vec<_>>().join(", ")
}

impl Walk<'_, '_> {
    /// Compares two schemas of which at least one is an enum or a union.
    pub(crate) fn compare_alternatives(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>) {
        let old_alternatives = alternatives(self.old, old);
        let new_alternatives = alternatives(self.new, new);
        let (old_plain, new_plain) = (!has_alternatives(old), !has_alternatives(new));
        if old_plain && all_values(&new_alternatives) && values_fit(&new_alternatives, old) {
            let message = format!("`{path}` is now restricted to {}", list(&new_alternatives));
            return self.narrowed("became-enum", path, message);
        }
        if new_plain && all_values(&old_alternatives) && values_fit(&old_alternatives, new) {
            let message = format!("`{path}` was restricted to {}, now it is not", list(&old_alternatives));
            return self.widened("no-longer-enum", path, message);
        }
        self.compare_siblings(path, old, new);

        let positional = |alternatives: &[Alternative]| alternatives.iter().any(|a| matches!(a.key, Key::Position(_)));
        if positional(&old_alternatives) || positional(&new_alternatives) {
            let all_positional =
                |alternatives: &[Alternative]| alternatives.iter().all(|a| matches!(a.key, Key::Position(_)));
            if all_positional(&old_alternatives)
                && all_positional(&new_alternatives)
                && old_alternatives.len() == new_alternatives.len()
            {
                for (old, new) in old_alternatives.iter().zip(&new_alternatives) {
                    self.compare(&format!("{path}::{}", old.label()), &old.schema, &new.schema);
                }
            } else {
                let message = format!(
                    "`{path}`: the alternatives of an untagged union changed, and nothing tells them apart on the wire: cannot judge"
                );
                self.changed("union-changed", path, message);
            }
            return;
        }

        for old_alternative in &old_alternatives {
            let label = old_alternative.label();
            match new_alternatives.iter().find(|new| new.key == old_alternative.key) {
                Some(new_alternative) => {
                    let inner = format!("{path}::{label}");
                    if matches!(old_alternative.key, Key::Value(_)) {
                        self.compare_metadata(&inner, &old_alternative.schema, &new_alternative.schema);
                    } else {
                        self.compare(&inner, &old_alternative.schema, &new_alternative.schema);
                    }
                }
                None => {
                    let (rule, what) = rule_for(&old_alternative.key, "removed");
                    self.narrowed(rule, path, format!("`{path}`: {what} `{label}` removed"));
                }
            }
        }
        for new_alternative in &new_alternatives {
            if !old_alternatives.iter().any(|old| old.key == new_alternative.key) {
                let (rule, what) = rule_for(&new_alternative.key, "added");
                let message = format!("`{path}`: {what} `{}` added", new_alternative.label());
                self.widened(rule, path, message);
            }
        }
    }

    /// Structural keywords beside `oneOf`/`enum` must not change: nothing here can judge them.
    fn compare_siblings(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>) {
        let sibling =
            |key: &String| !is_metadata(key) && !ALTERNATIVE_KEYWORDS.contains(&key.as_str()) && key != "type";
        let old_siblings: Map<String, Value> =
            old.iter().filter(|(k, _)| sibling(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        let new_siblings: Map<String, Value> =
            new.iter().filter(|(k, _)| sibling(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        if old_siblings != new_siblings {
            let message = format!("`{path}`: keywords beside the alternatives of a union changed: cannot judge");
            self.changed("union-changed", path, message);
        }
    }
}

fn rule_for(key: &Key, how: &'static str) -> (&'static str, &'static str) {
    match (key, how) {
        (Key::Value(_), "added") => ("enum-value-added", "value"),
        (Key::Value(_), _) => ("enum-value-removed", "value"),
        (_, "added") => ("variant-added", "variant"),
        _ => ("variant-removed", "variant"),
    }
}
