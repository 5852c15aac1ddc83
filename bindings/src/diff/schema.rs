//! The schema walk: compares an old and a new JSON Schema side by side and reports each
//! difference with the class it has for its [`Role`].
//!
//! A difference is stated once, as an edit from old to new ("`Todo.note` may now be null"); its
//! class follows from whether the new schema must accept everything the old one did
//! ([`Role::Accept`]: a server reading what old clients send) or the old schema must accept
//! everything the new one allows ([`Role::Produce`]: old clients reading what a new server
//! sends). `$ref`s are followed, so a change inside a named type is reported at that type's
//! path (`Priority`), once per procedure that reaches it.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::document::Document;
use super::{Class, Finding, Reach};

/// Which inclusion a position needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Role {
    /// The new schema must accept every value the old one did (what a server reads).
    Accept,
    /// The old schema must accept every value the new one allows (what a client reads).
    Produce,
}

/// Keywords that describe a value without constraining it.
const METADATA: &[&str] = &[
    "description",
    "title",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
    "$id",
    "$schema",
];

/// Keywords the walk understands; a change to any other keyword cannot be judged.
const UNDERSTOOD: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "oneOf",
    "anyOf",
    "allOf",
    "properties",
    "required",
    "additionalProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
];

/// Whether `key` is an annotation (metadata or an `x-` extension).
pub(crate) fn is_metadata(key: &str) -> bool {
    METADATA.contains(&key) || key.starts_with("x-")
}

/// The state of one comparison (one position of one procedure).
pub(crate) struct Walk<'a, 'v> {
    pub old: &'a Document<'v>,
    pub new: &'a Document<'v>,
    pub role: Role,
    reach: Reach,
    out: &'a mut Vec<Finding>,
    /// Named type pairs being compared (to stop at cycles) or already compared.
    seen: HashSet<(String, String)>,
}

impl<'a, 'v> Walk<'a, 'v> {
    pub(super) fn new(
        old: &'a Document<'v>,
        new: &'a Document<'v>,
        role: Role,
        reach: Reach,
        out: &'a mut Vec<Finding>,
    ) -> Self {
        Self { old, new, role, reach, out, seen: HashSet::new() }
    }

    /// Records a change of the given class.
    pub(super) fn report(&mut self, class: Class, rule: &'static str, path: &str, message: String) {
        self.out.push(Finding { class, rule, path: path.to_owned(), message, reach: self.reach.clone() });
    }

    /// The new schema allows more: safe where it must accept, breaking where it is read.
    pub(super) fn widened(&mut self, rule: &'static str, path: &str, message: String) {
        let class = match self.role {
            Role::Accept => Class::Safe,
            Role::Produce => Class::Breaking,
        };
        self.report(class, rule, path, message);
    }

    /// The new schema allows less: breaking where it must accept, safe where it is read.
    pub(super) fn narrowed(&mut self, rule: &'static str, path: &str, message: String) {
        let class = match self.role {
            Role::Accept => Class::Breaking,
            Role::Produce => Class::Safe,
        };
        self.report(class, rule, path, message);
    }

    /// Neither schema contains the other, or the walk cannot tell: breaking in every position.
    pub(super) fn changed(&mut self, rule: &'static str, path: &str, message: String) {
        self.report(Class::Breaking, rule, path, message);
    }

    /// Compares `old` and `new` at `path`.
    pub(super) fn compare(&mut self, path: &str, old: &Value, new: &Value) {
        self.compare_metadata(path, old, new);
        let (old_null, old_core) = strip_null(&as_map(unwrap_all_of(old)));
        let (new_null, new_core) = strip_null(&as_map(unwrap_all_of(new)));
        match (old_null, new_null) {
            (false, true) => self.widened("became-nullable", path, format!("`{path}` may now be null")),
            (true, false) => self.narrowed("no-longer-nullable", path, format!("`{path}` no longer allows null")),
            _ => {}
        }
        let (old_core, new_core) = match (old_core, new_core) {
            (Some(old_core), Some(new_core)) => (Value::Object(old_core), Value::Object(new_core)),
            (None, None) => return,
            (None, Some(_)) => {
                return self.widened("type-widened", path, format!("`{path}` was always null, now it may be a value"));
            }
            (Some(_), None) => return self.narrowed("type-narrowed", path, format!("`{path}` is now always null")),
        };
        let (old_core, new_core) = (unwrap_all_of(&old_core), unwrap_all_of(&new_core));
        let (old_ref, new_ref) = (reference(old_core), reference(new_core));
        if old_ref.is_none() && new_ref.is_none() {
            return self.structure(path, &as_map(old_core), &as_map(new_core));
        }

        fn resolve<'s>(
            document: &Document<'s>,
            schema: &'s Value,
            reference: Option<&str>,
        ) -> Result<(Option<&'s str>, &'s Value), String> {
            match reference {
                None => Ok((None, schema)),
                Some(reference) => match document.definition(reference) {
                    Some((name, definition)) => Ok((Some(name), definition)),
                    None => Err(reference.to_owned()),
                },
            }
        }
        let (old_name, old_schema) = match resolve(self.old, old_core, old_ref) {
            Ok(resolved) => resolved,
            Err(reference) => return self.unresolved(path, "baseline", &reference),
        };
        let (new_name, new_schema) = match resolve(self.new, new_core, new_ref) {
            Ok(resolved) => resolved,
            Err(reference) => return self.unresolved(path, "current", &reference),
        };
        let inner = match (old_name, new_name) {
            (Some(old_name), Some(new_name)) if old_name != new_name => {
                let message = format!("type `{old_name}` renamed to `{new_name}`");
                self.report(Class::Trivial, "type-renamed", new_name, message);
                new_name.to_owned()
            }
            (Some(name), Some(_)) => name.to_owned(),
            (None, Some(name)) => {
                let message = format!("`{path}` is now described by the named type `{name}`");
                self.report(Class::Trivial, "type-named", path, message);
                name.to_owned()
            }
            (Some(name), None) => {
                let message = format!("`{path}` is no longer described by the named type `{name}`");
                self.report(Class::Trivial, "type-inlined", path, message);
                path.to_owned()
            }
            (None, None) => path.to_owned(),
        };
        // A pair compared before (or being compared: a recursive type) adds nothing new.
        if let (Some(old_name), Some(new_name)) = (old_name, new_name)
            && !self.seen.insert((old_name.to_owned(), new_name.to_owned()))
        {
            return;
        }
        self.compare(&inner, old_schema, new_schema);
    }

    fn unresolved(&mut self, path: &str, side: &str, reference: &str) {
        let message = format!("the {side} document's `$ref` `{reference}` at `{path}` does not resolve: cannot judge");
        self.changed("unresolved-reference", path, message);
    }

    /// Docs, defaults and deprecation at this level.
    pub(crate) fn compare_metadata(&mut self, path: &str, old: &Value, new: &Value) {
        let empty = Map::new();
        let old = old.as_object().unwrap_or(&empty);
        let new = new.as_object().unwrap_or(&empty);
        let docs = ["description", "title", "examples", "$comment"];
        if docs.iter().any(|key| old.get(*key) != new.get(*key)) {
            self.report(Class::Trivial, "docs-changed", path, format!("`{path}`: documentation changed"));
        }
        let deprecated = |map: &Map<String, Value>| map.get("deprecated").and_then(Value::as_bool).unwrap_or(false);
        match (deprecated(old), deprecated(new)) {
            (false, true) => self.report(Class::Trivial, "deprecated", path, format!("`{path}` is now deprecated")),
            (true, false) => {
                self.report(Class::Trivial, "undeprecated", path, format!("`{path}` is no longer deprecated"))
            }
            _ => {}
        }
        match (old.get("default"), new.get("default")) {
            (Some(before), Some(after)) if before != after => {
                let class = match self.role {
                    Role::Accept => Class::Warning,
                    Role::Produce => Class::Trivial,
                };
                let message = format!(
                    "`{path}`: default changed from {before} to {after} (callers that leave it out get the new one)"
                );
                self.report(class, "default-changed", path, message);
            }
            _ => {}
        }
    }

    /// Compares two schemas without `$ref`s or `null` at the top, ignoring their metadata.
    fn structure(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>) {
        if super::unions::has_alternatives(old) || super::unions::has_alternatives(new) {
            return self.compare_alternatives(path, old, new);
        }
        self.compare_typed(path, old, new);
        self.compare_unknown(path, old, new);
    }

    /// Reports changes to keywords the walk does not understand.
    pub(super) fn compare_unknown(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>) {
        let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            if is_metadata(key) || UNDERSTOOD.contains(&key.as_str()) {
                continue;
            }
            if old.get(key) != new.get(key) {
                let message = format!(
                    "`{path}`: the keyword `{key}` changed; the classifier does not understand it, so it cannot judge the change"
                );
                self.changed("unknown-keyword", path, message);
            }
        }
        if let (Some(old_all), Some(new_all)) = (all_of(old), all_of(new)) {
            if old_all.len() == new_all.len() {
                for (index, (old_part, new_part)) in old_all.iter().zip(new_all).enumerate() {
                    self.compare(&format!("{path}&{index}"), old_part, new_part);
                }
            } else {
                let message = format!("`{path}`: the parts of an `allOf` changed: cannot judge");
                self.changed("unknown-keyword", path, message);
            }
        } else if old.get("allOf") != new.get("allOf") {
            let message = format!("`{path}`: an `allOf` appeared or disappeared: cannot judge");
            self.changed("unknown-keyword", path, message);
        }
    }
}

/// `true` and `false` schemas as objects (`{}` and `{"not": {}}`).
pub(crate) fn as_map(value: &Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map.clone(),
        Value::Bool(false) => {
            let mut map = Map::new();
            map.insert("not".into(), Value::Object(Map::new()));
            map
        }
        _ => Map::new(),
    }
}

/// The `$ref` of a schema (draft-07 ignores its siblings).
fn reference(schema: &Value) -> Option<&str> {
    schema.get("$ref").and_then(Value::as_str)
}

/// `{"allOf": [X], ...metadata}` (how schemars adds docs or a default to a `$ref`) as `X`.
fn unwrap_all_of(schema: &Value) -> &Value {
    if let Some(object) = schema.as_object()
        && let Some([single]) = object.get("allOf").and_then(Value::as_array).map(Vec::as_slice)
        && object.keys().all(|key| key == "allOf" || is_metadata(key))
    {
        return unwrap_all_of(single);
    }
    schema
}

fn all_of(map: &Map<String, Value>) -> Option<&Vec<Value>> {
    map.get("allOf").and_then(Value::as_array)
}

/// Whether the schema allows `null`, and the schema of its other values (`None` when `null` is
/// all it allows).
pub(crate) fn strip_null(map: &Map<String, Value>) -> (bool, Option<Map<String, Value>>) {
    let mut core = map.clone();
    // A schema that restricts neither the type nor the values (`{}`) allows `null` too.
    let restricting = ["type", "enum", "const", "oneOf", "anyOf", "allOf", "$ref", "not"];
    let mut nullable = !restricting.iter().any(|key| map.contains_key(*key));
    let mut only_null = false;
    match core.get_mut("type") {
        Some(Value::String(ty)) if ty == "null" => {
            nullable = true;
            only_null = true;
        }
        Some(Value::Array(types)) => {
            let before = types.len();
            types.retain(|ty| ty != "null");
            nullable |= types.len() != before;
            match types.len() {
                0 => only_null = true,
                1 => {
                    let single = types[0].clone();
                    core.insert("type".into(), single);
                }
                _ => {}
            }
        }
        _ => {}
    }
    if let Some(Value::Array(values)) = core.get_mut("enum") {
        let before = values.len();
        values.retain(|value| !value.is_null());
        if values.len() != before {
            nullable = true;
            only_null |= values.is_empty();
        }
    }
    if core.get("const") == Some(&Value::Null) {
        nullable = true;
        only_null = true;
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(alternatives)) = core.get_mut(key) else { continue };
        let before = alternatives.len();
        alternatives.retain(|alternative| !is_null_schema(alternative));
        if alternatives.len() == before {
            continue;
        }
        nullable = true;
        match alternatives.len() {
            0 => only_null = true,
            1 => {
                // `anyOf: [X, null]`: the value is X (the wrapper's metadata was compared already).
                let single = alternatives[0].clone();
                core.remove(key);
                match single {
                    Value::Object(inner) if core.keys().all(|k| is_metadata(k)) => core = inner,
                    other => {
                        core.insert("allOf".into(), Value::Array(vec![other]));
                    }
                }
            }
            _ => {}
        }
    }
    (nullable, if only_null { None } else { Some(core) })
}

fn is_null_schema(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else { return false };
    let structural: Vec<&String> = map.keys().filter(|key| !is_metadata(key)).collect();
    match structural.as_slice() {
        [key] if *key == "type" => map.get("type") == Some(&Value::String("null".into())),
        [key] if *key == "const" => map.get("const") == Some(&Value::Null),
        [key] if *key == "enum" => map.get("enum") == Some(&Value::Array(vec![Value::Null])),
        _ => false,
    }
}
