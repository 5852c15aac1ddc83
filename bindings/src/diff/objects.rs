//! Objects: properties added, removed, made required or optional, and what happens to keys a
//! schema does not list (`additionalProperties`, maps' values and `propertyNames`).

use serde_json::{Map, Value, json};

use super::Class;
use super::schema::{Role, Walk};

/// What an object schema says about keys it does not list.
#[derive(Clone, Copy)]
enum Extra<'v> {
    /// Anything (no `additionalProperties`, or `true`).
    Any,
    /// Nothing (`false`: unknown fields are refused).
    Never,
    /// Values of this schema (a map).
    Schema(&'v Value),
}

impl Extra<'_> {
    fn of(map: &Map<String, Value>) -> Extra<'_> {
        match map.get("additionalProperties") {
            None | Some(Value::Bool(true)) => Extra::Any,
            Some(Value::Bool(false)) => Extra::Never,
            Some(schema) => Extra::Schema(schema),
        }
    }

    /// 0 for none, 1 for a schema, 2 for anything: how much it lets in.
    fn rank(self) -> u8 {
        match self {
            Extra::Never => 0,
            Extra::Schema(_) => 1,
            Extra::Any => 2,
        }
    }
}

fn properties(map: &Map<String, Value>) -> Map<String, Value> {
    map.get("properties").and_then(Value::as_object).cloned().unwrap_or_default()
}

fn required(map: &Map<String, Value>) -> Vec<String> {
    map.get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn deprecated(schema: &Value) -> bool {
    schema.get("deprecated").and_then(Value::as_bool).unwrap_or(false)
}

impl Walk<'_, '_> {
    pub(crate) fn compare_objects(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>) {
        let (old_properties, new_properties) = (properties(old), properties(new));
        let (old_required, new_required) = (required(old), required(new));
        let (old_extra, new_extra) = (Extra::of(old), Extra::of(new));

        let mut names: Vec<&String> = old_properties.keys().chain(new_properties.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let inner = format!("{path}.{name}");
            let (was_required, is_required) = (old_required.contains(name), new_required.contains(name));
            match (old_properties.get(name), new_properties.get(name)) {
                (Some(before), Some(after)) => {
                    if was_required && !is_required {
                        self.widened("became-optional", &inner, format!("`{inner}` may now be left out"));
                    } else if !was_required && is_required {
                        self.narrowed("became-required", &inner, format!("`{inner}` is now required"));
                    }
                    self.compare(&inner, before, after);
                }
                (Some(before), None) => self.property_removed(&inner, before, was_required, new_extra),
                (None, Some(after)) => self.property_added(&inner, after, is_required, old_extra),
                (None, None) => {}
            }
        }

        self.compare_extra(path, old_extra, new_extra);
        let any = json!({});
        match (old.get("propertyNames"), new.get("propertyNames")) {
            (None, None) => {}
            (a, b) => self.compare(&format!("{path}{{key}}"), a.unwrap_or(&any), b.unwrap_or(&any)),
        }
        self.compare_counts(path, old, new, "minProperties", "maxProperties", "number of properties");
    }

    fn property_removed(&mut self, path: &str, before: &Value, was_required: bool, new_extra: Extra<'_>) {
        match self.role {
            Role::Accept => match new_extra {
                Extra::Any => {
                    let message = format!("`{path}` removed (the server ignores it when sent)");
                    self.report(Class::Safe, "property-removed", path, message);
                }
                Extra::Never => {
                    let message =
                        format!("`{path}` removed, and unknown fields are refused: senders that still send it fail");
                    self.report(Class::Breaking, "property-removed", path, message);
                }
                Extra::Schema(values) => self.compare(path, before, values),
            },
            Role::Produce => {
                let was_deprecated = deprecated(before);
                let note = if was_deprecated { " (it was deprecated)" } else { "" };
                let (class, message) = match (was_required, was_deprecated) {
                    (true, false) => (Class::Breaking, format!("`{path}` removed: readers expect it")),
                    (true, true) | (false, false) => {
                        let what = if was_required { "" } else { "optional " };
                        (Class::Warning, format!("{what}`{path}` removed{note}: readers that still use it get nothing"))
                    }
                    (false, true) => (Class::Safe, format!("optional `{path}` removed{note}")),
                };
                self.report(class, "property-removed", path, message);
            }
        }
    }

    fn property_added(&mut self, path: &str, after: &Value, is_required: bool, old_extra: Extra<'_>) {
        let rule = if is_required { "required-property-added" } else { "property-added" };
        match (self.role, old_extra) {
            (_, Extra::Schema(values)) => self.compare(path, values, after),
            (Role::Accept, _) if is_required => {
                let message = format!("`{path}` added as required: senders built for the baseline do not send it");
                self.report(Class::Breaking, "required-property-added", path, message);
            }
            (Role::Accept, _) => {
                self.report(Class::Safe, rule, path, format!("optional `{path}` added"));
            }
            (Role::Produce, Extra::Any) => {
                let message = format!("`{path}` added (readers ignore fields they do not know)");
                self.report(Class::Safe, rule, path, message);
            }
            (Role::Produce, Extra::Never) => {
                let message = format!("`{path}` added, but readers built for the baseline refuse unknown fields");
                self.report(Class::Breaking, rule, path, message);
            }
        }
    }

    fn compare_extra(&mut self, path: &str, old: Extra<'_>, new: Extra<'_>) {
        let message = |what: &str| format!("`{path}`: {what}");
        match (old, new) {
            (Extra::Schema(a), Extra::Schema(b)) => self.compare(&format!("{path}{{}}"), a, b),
            (Extra::Never, Extra::Any) if self.role == Role::Produce => {
                // A struct is serialized with its declared fields only, whatever it accepts.
                let text = message("unknown fields are accepted again (what is sent is unchanged)");
                self.report(Class::Safe, "additional-properties", path, text);
            }
            (a, b) if a.rank() < b.rank() => {
                self.widened("additional-properties", path, message("accepts more keys than it lists now"))
            }
            (a, b) if a.rank() > b.rank() => self.narrowed(
                "additional-properties",
                path,
                message("accepts fewer unlisted keys now (unknown fields refused?)"),
            ),
            _ => {}
        }
    }
}
