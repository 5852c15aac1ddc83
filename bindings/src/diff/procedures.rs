//! Procedures: added, removed or renamed methods, their kind, authentication, idempotency and
//! error codes, and the schema walks of their params, result and errors.

use serde_json::{Map, Value, json};

use super::document::Document;
use super::schema::{Role, Walk};
use super::unions::{Key, alternatives};
use super::{Class, Direction, Finding, Position, Reach};

type Method = Map<String, Value>;

/// Method members that are documentation only.
const DOCUMENTATION: &[&str] = &["description", "summary", "tags", "externalDocs", "examples"];

/// Method members compared by the rules below (anything else that changes cannot be judged).
const COMPARED: &[&str] = &[
    "name",
    "params",
    "result",
    "errors",
    "paramStructure",
    "deprecated",
    "x-accord-kind",
    "x-accord-error",
    "x-accord-unsubscribe",
    "x-accord-authenticated",
    "x-accord-idempotent",
    "x-accord-tracked",
    "x-accord-input",
];

/// Every change between the two documents, procedure by procedure.
pub(crate) fn compare(old: &Document<'_>, new: &Document<'_>, direction: Direction) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut names: Vec<&str> = old.methods.keys().chain(new.methods.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        match (old.methods.get(name), new.methods.get(name)) {
            (Some(before), Some(after)) => {
                Procedure { old, new, direction, name, out: &mut out }.compare(before, after)
            }
            (Some(before), None) => removed(name, before, new, direction, &mut out),
            (None, Some(after)) => added(name, after, old, direction, &mut out),
            (None, None) => {}
        }
    }
    out
}

fn finding(class: Class, rule: &'static str, name: &str, message: String) -> Finding {
    let reach = Reach { procedure: name.to_owned(), position: Position::Procedure };
    Finding { class, rule, path: name.to_owned(), message, reach }
}

fn flag(method: &Method, key: &str) -> bool {
    method.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// A method without its name and docs, to spot renames.
fn shape(method: &Method) -> Method {
    method
        .iter()
        .filter(|(key, _)| *key != "name" && !DOCUMENTATION.contains(&key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `" (`b` has the same shape: renamed?)"` when `other` holds a method shaped like `method`.
fn rename_hint(method: &Method, other: &Document<'_>, missing_from: &Document<'_>) -> String {
    let shape = shape(method);
    let twins: Vec<&str> = other
        .methods
        .iter()
        .filter(|(name, candidate)| !missing_from.methods.contains_key(*name) && self::shape(candidate) == shape)
        .map(|(name, _)| *name)
        .collect();
    match twins.as_slice() {
        [twin] => format!(" (`{twin}` has the same shape: renamed?)"),
        _ => String::new(),
    }
}

fn removed(name: &str, before: &Method, new: &Document<'_>, direction: Direction, out: &mut Vec<Finding>) {
    let hint = rename_hint(before, new, new);
    let (class, message) = match direction {
        Direction::Backward if flag(before, "deprecated") => {
            (Class::Warning, format!("`{name}` removed{hint}; it was deprecated, clients that still call it fail"))
        }
        Direction::Backward => (Class::Breaking, format!("`{name}` removed{hint}: clients that call it fail")),
        Direction::Forward => (Class::Safe, format!("`{name}` removed{hint} (new clients no longer call it)")),
    };
    out.push(finding(class, "procedure-removed", name, message));
}

fn added(name: &str, after: &Method, old: &Document<'_>, direction: Direction, out: &mut Vec<Finding>) {
    let hint = rename_hint(after, old, old);
    let (class, message) = match direction {
        Direction::Backward => (Class::Safe, format!("`{name}` added{hint}")),
        Direction::Forward => (
            Class::Breaking,
            format!("`{name}` added{hint}: the baseline's server does not have it, new clients calling it fail"),
        ),
    };
    out.push(finding(class, "procedure-added", name, message));
}

/// The comparison of one method present in both documents.
struct Procedure<'a, 'v> {
    old: &'a Document<'v>,
    new: &'a Document<'v>,
    direction: Direction,
    name: &'a str,
    out: &'a mut Vec<Finding>,
}

impl Procedure<'_, '_> {
    fn report(&mut self, class: Class, rule: &'static str, message: String) {
        self.out.push(finding(class, rule, self.name, message));
    }

    /// The role of a position that the server reads (params); results and errors get the other.
    fn params_role(&self) -> Role {
        match self.direction {
            Direction::Backward => Role::Accept,
            Direction::Forward => Role::Produce,
        }
    }

    fn walk(&mut self, role: Role, position: Position, path: &str, old: &Value, new: &Value) {
        let reach = Reach { procedure: self.name.to_owned(), position };
        Walk::new(self.old, self.new, role, reach, self.out).compare(path, old, new);
    }

    fn compare(mut self, before: &Method, after: &Method) {
        let name = self.name;
        // What the client was built against, and what the server it talks to serves.
        let (client, server) = match self.direction {
            Direction::Backward => (before, after),
            Direction::Forward => (after, before),
        };
        self.compare_kind(client, server);
        if before.get("x-accord-unsubscribe") != after.get("x-accord-unsubscribe") {
            self.report(Class::Breaking, "unsubscribe-changed", format!("`{name}`: the unsubscribe method changed"));
        }
        // Authentication and idempotency are promises of the server that clients rely on.
        let backward = self.direction == Direction::Backward;
        match (flag(before, "x-accord-authenticated"), flag(after, "x-accord-authenticated")) {
            (false, true) if backward => {
                let message = format!("`{name}` now needs an authenticated caller: anonymous calls are refused");
                self.report(Class::Breaking, "authentication-added", message);
            }
            (false, true) => {
                let message = format!("`{name}` now needs authentication (the baseline's server did not ask for it)");
                self.report(Class::Safe, "authentication-added", message);
            }
            (true, false) if backward => {
                self.report(Class::Safe, "authentication-removed", format!("`{name}` no longer needs authentication"));
            }
            (true, false) => {
                let message = format!(
                    "`{name}` no longer needs authentication, but the baseline's server refuses anonymous calls"
                );
                self.report(Class::Breaking, "authentication-removed", message);
            }
            _ => {}
        }
        match (flag(before, "x-accord-idempotent"), flag(after, "x-accord-idempotent")) {
            (true, false) if backward => {
                let message =
                    format!("`{name}` is no longer idempotent, but old clients retry it: a retry may apply it twice");
                self.report(Class::Breaking, "idempotency-removed", message);
            }
            (true, false) => {
                self.report(Class::Safe, "idempotency-removed", format!("`{name}` is no longer idempotent"))
            }
            (false, true) if backward => {
                self.report(Class::Safe, "idempotency-added", format!("`{name}` is now idempotent"))
            }
            (false, true) => {
                let message = format!(
                    "`{name}` is now idempotent, and new clients retry it, but the baseline's server may apply a retry twice"
                );
                self.report(Class::Breaking, "idempotency-added", message);
            }
            _ => {}
        }
        // Tracking lets clients resume; a client built for it against a server without it just
        // cannot (it is told so with EVENTS_MISSED), so no direction breaks, one degrades.
        match (flag(before, "x-accord-tracked"), flag(after, "x-accord-tracked")) {
            (false, true) if backward => self.report(
                Class::Safe,
                "tracking-added",
                format!("`{name}` now sends event ids: clients can resume it after a reconnect"),
            ),
            (false, true) => self.report(
                Class::Warning,
                "tracking-added",
                format!("`{name}` is tracked, but the baseline's server sends no event ids: clients cannot resume it"),
            ),
            (true, false) if backward => self.report(
                Class::Warning,
                "tracking-removed",
                format!("`{name}` no longer sends event ids: old clients cannot resume it and are told EVENTS_MISSED"),
            ),
            (true, false) => self.report(Class::Safe, "tracking-removed", format!("`{name}` is no longer tracked")),
            _ => {}
        }
        if before.get("paramStructure") != after.get("paramStructure") {
            self.report(Class::Breaking, "param-structure-changed", format!("`{name}`: paramStructure changed"));
        }
        match (flag(before, "deprecated"), flag(after, "deprecated")) {
            (false, true) => self.report(Class::Trivial, "deprecated", format!("`{name}` is now deprecated")),
            (true, false) => self.report(Class::Trivial, "undeprecated", format!("`{name}` is no longer deprecated")),
            _ => {}
        }
        if DOCUMENTATION.iter().any(|key| before.get(*key) != after.get(*key)) {
            self.report(Class::Trivial, "docs-changed", format!("`{name}`: documentation changed"));
        }
        self.compare_unknown(before, after);

        self.compare_params(before, after);
        let position = match after.get("x-accord-kind").and_then(Value::as_str) {
            Some("subscription") => Position::Item,
            _ => Position::Result,
        };
        let any = json!({});
        let schema =
            |method: &Method| method.get("result").and_then(|r| r.get("schema")).cloned().unwrap_or(any.clone());
        let role = self.result_role();
        self.walk(role, position, &format!("{name}(result)"), &schema(before), &schema(after));
        self.compare_errors(before, after);
    }

    fn result_role(&self) -> Role {
        match self.params_role() {
            Role::Accept => Role::Produce,
            Role::Produce => Role::Accept,
        }
    }

    fn compare_kind(&mut self, client: &Method, server: &Method) {
        let kind = |method: &Method| method.get("x-accord-kind").and_then(Value::as_str).map(str::to_owned);
        let (client_kind, server_kind) = (kind(client), kind(server));
        if client_kind == server_kind {
            return;
        }
        let name = self.name;
        let show = |kind: &Option<String>| kind.clone().unwrap_or_else(|| "unknown".into());
        let change = format!("`{name}`: kind {} (client) vs {} (server)", show(&client_kind), show(&server_kind));
        match (client_kind.as_deref(), server_kind.as_deref()) {
            (Some("mutation"), Some("query")) => {
                self.report(Class::Safe, "kind-changed", format!("{change}: clients just never retry or cache it"));
            }
            (Some("query"), Some("mutation")) => {
                let message = format!("{change}: clients may retry or cache a call that now writes");
                self.report(Class::Breaking, "kind-changed", message);
            }
            _ => self.report(Class::Breaking, "kind-changed", format!("{change}: clients call it the wrong way")),
        }
    }

    fn compare_unknown(&mut self, before: &Method, after: &Method) {
        let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let known = COMPARED.contains(&key.as_str()) || DOCUMENTATION.contains(&key.as_str());
            if !known && before.get(key) != after.get(key) {
                let message = format!(
                    "`{}`: the member `{key}` changed; the classifier does not know it: cannot judge",
                    self.name
                );
                self.report(Class::Breaking, "unknown-member", message);
            }
        }
    }

    /// The input: the whole input type when both documents name it (`x-accord-input`), else
    /// an object built from the params list.
    fn compare_params(&mut self, before: &Method, after: &Method) {
        let name = self.name;
        let role = self.params_role();
        let path = format!("{name}(params)");
        match (before.get("x-accord-input"), after.get("x-accord-input")) {
            (Some(old), Some(new)) => self.walk(role, Position::Params, &path, old, new),
            _ => {
                let (old, new) = (params_object(before), params_object(after));
                self.walk(role, Position::Params, &path, &old, &new);
            }
        }
    }

    /// Reports at the error type, so one change to a shared error enum is one entry.
    fn error_change(&mut self, class: Class, rule: &'static str, path: &str, message: String) {
        let reach = Reach { procedure: self.name.to_owned(), position: Position::Error };
        self.out.push(Finding { class, rule, path: path.to_owned(), message, reach });
    }

    fn compare_errors(&mut self, before: &Method, after: &Method) {
        let (old_codes, new_codes) = (error_codes(self.old, before), error_codes(self.new, after));
        let error_type = error_type(before, after, self.name);
        let path = error_type.as_str();
        // Errors travel like results: new codes surprise the reader.
        let reader_is_old = self.result_role() == Role::Produce;
        for (code, old_number, old_schema) in &old_codes {
            match new_codes.iter().find(|(c, _, _)| c == code) {
                Some((_, new_number, new_schema)) => {
                    if let (Some(a), Some(b)) = (old_number, new_number)
                        && a != b
                    {
                        let message = format!("`{path}`: the error `{code}` now has the number {b} (was {a})");
                        self.error_change(Class::Breaking, "error-number-changed", path, message);
                    }
                    if let (Some(a), Some(b)) = (old_schema, new_schema) {
                        let role = self.result_role();
                        self.walk(role, Position::Error, &format!("{path}::{code}"), a, b);
                    }
                }
                None if reader_is_old => {
                    let message = format!("`{path}`: error `{code}` no longer returned");
                    self.error_change(Class::Safe, "error-removed", path, message);
                }
                None => {
                    let message = format!(
                        "`{path}`: error `{code}` removed, but the baseline's server may still return it: exhaustive switches miss it"
                    );
                    self.error_change(Class::Warning, "error-removed", path, message);
                }
            }
        }
        for (code, _, _) in &new_codes {
            if old_codes.iter().any(|(c, _, _)| c == code) {
                continue;
            }
            if reader_is_old {
                let message =
                    format!("`{path}`: error `{code}` added: clients' exhaustive switches over the error code miss it");
                self.error_change(Class::Warning, "error-added", path, message);
            } else {
                self.error_change(Class::Safe, "error-added", path, format!("`{path}`: error `{code}` added"));
            }
        }
    }
}

/// The params list as one object schema (deprecated params marked in their schemas).
fn params_object(method: &Method) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for param in method.get("params").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = param.get("name").and_then(Value::as_str) else { continue };
        let mut schema = param.get("schema").cloned().unwrap_or_else(|| json!({}));
        if flag(param.as_object().unwrap_or(&Map::new()), "deprecated")
            && let Some(object) = schema.as_object_mut()
        {
            object.insert("deprecated".into(), true.into());
        }
        properties.insert(name.to_owned(), schema);
        if param.get("required").and_then(Value::as_bool).unwrap_or(false) {
            required.push(Value::from(name));
        }
    }
    json!({ "type": "object", "properties": properties, "required": required })
}

/// The name errors are reported under: the error type's name, else `method(error)`.
fn error_type(before: &Method, after: &Method, name: &str) -> String {
    let reference = |method: &Method| {
        method.get("x-accord-error").and_then(|e| e.get("$ref")).and_then(Value::as_str).map(str::to_owned)
    };
    reference(after)
        .or_else(|| reference(before))
        .and_then(|r| r.rsplit('/').next().map(str::to_owned))
        .unwrap_or_else(|| format!("{name}(error)"))
}

/// Each domain error of a method: its `data.code`, its JSON-RPC number (from `errors`) and
/// the schema of its `data` (from `x-accord-error`).
fn error_codes(document: &Document<'_>, method: &Method) -> Vec<(String, Option<i64>, Option<Value>)> {
    let mut codes: Vec<(String, Option<i64>, Option<Value>)> = Vec::new();
    for error in method.get("errors").and_then(Value::as_array).into_iter().flatten() {
        let code = error.get("data").and_then(|d| d.get("code")).and_then(Value::as_str);
        let number = error.get("code").and_then(Value::as_i64);
        let code = code.map(str::to_owned).or_else(|| number.map(|n| n.to_string()));
        if let Some(code) = code {
            codes.push((code, number, None));
        }
    }
    if let Some(union) = method.get("x-accord-error") {
        let resolved =
            union.get("$ref").and_then(Value::as_str).and_then(|r| document.definition(r)).map_or(union, |(_, s)| s);
        if let Some(map) = resolved.as_object() {
            for alternative in alternatives(document, map) {
                if let Key::Tag(property, Value::String(code)) = &alternative.key
                    && property == "code"
                {
                    match codes.iter_mut().find(|(c, _, _)| c == code) {
                        Some(entry) => entry.2 = Some(alternative.schema),
                        None => codes.push((code.clone(), None, Some(alternative.schema))),
                    }
                }
            }
        }
    }
    codes
}
