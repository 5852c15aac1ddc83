//! Plain schemas: the JSON `type`, then the constraints of each type both versions share
//! (number ranges and formats, string lengths, patterns and formats, array items and sizes).

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::schema::Walk;

/// Every JSON type; a schema without `type` allows them all.
const ALL_TYPES: &[&str] = &["null", "boolean", "integer", "number", "string", "array", "object"];

/// The set of types a schema allows (`integer` stands alone only when `number` is absent).
fn types(map: &Map<String, Value>) -> Vec<&str> {
    let mut types: Vec<&str> = match map.get("type") {
        Some(Value::String(ty)) => vec![ty.as_str()],
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
        _ => ALL_TYPES.to_vec(),
    };
    types.sort_unstable();
    types.dedup();
    types
}

/// Whether every value of the types `a` is a value of the types `b`.
fn types_within(a: &[&str], b: &[&str]) -> bool {
    a.iter().all(|ty| b.contains(ty) || (*ty == "integer" && b.contains(&"number")))
}

fn describe(types: &[&str]) -> String {
    if types.len() == ALL_TYPES.len() - 1 || types.len() == ALL_TYPES.len() {
        "any JSON value".into()
    } else {
        types.join(" or ")
    }
}

/// A bound of a range: its value and whether it is exclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bound {
    value: f64,
    exclusive: bool,
}

/// Compares lower bounds: `Less` when `new` is looser (lets smaller values in).
fn compare_lower(old: Option<Bound>, new: Option<Bound>) -> Ordering {
    match (old, new) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(o), Some(n)) => n.value.total_cmp(&o.value).then((n.exclusive as u8).cmp(&(o.exclusive as u8))),
    }
}

/// Compares upper bounds: `Less` when `new` is looser (lets larger values in).
fn compare_upper(old: Option<Bound>, new: Option<Bound>) -> Ordering {
    match (old, new) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(o), Some(n)) => o.value.total_cmp(&n.value).then((n.exclusive as u8).cmp(&(o.exclusive as u8))),
    }
}

fn number(map: &Map<String, Value>, key: &str) -> Option<f64> {
    map.get(key).and_then(Value::as_f64)
}

/// The range of a number, from `minimum`/`maximum`/`exclusive*` (draft-07) and, when those are
/// absent, from an integer `format`. For integers an exclusive bound becomes the inclusive one.
fn numeric_range(map: &Map<String, Value>, integer: bool) -> (Option<Bound>, Option<Bound>) {
    let from_format = match map.get("format").and_then(Value::as_str) {
        Some("int8") => Some((i8::MIN as f64, i8::MAX as f64)),
        Some("uint8") => Some((0.0, u8::MAX as f64)),
        Some("int16") => Some((i16::MIN as f64, i16::MAX as f64)),
        Some("uint16") => Some((0.0, u16::MAX as f64)),
        Some("int32") => Some((i32::MIN as f64, i32::MAX as f64)),
        Some("uint32") => Some((0.0, u32::MAX as f64)),
        Some("int64") => Some((i64::MIN as f64, i64::MAX as f64)),
        Some("uint64") => Some((0.0, u64::MAX as f64)),
        _ => None,
    };
    let inclusive = |value: f64| Bound { value, exclusive: false };
    let lower = [
        number(map, "minimum").map(|v| inclusive(if integer { v.ceil() } else { v })),
        number(map, "exclusiveMinimum")
            .map(|v| if integer { inclusive(v.floor() + 1.0) } else { Bound { value: v, exclusive: true } }),
    ]
    .into_iter()
    .flatten()
    .max_by(|a, b| compare_lower(Some(*b), Some(*a)))
    .or(from_format.map(|f| inclusive(f.0)));
    let upper = [
        number(map, "maximum").map(|v| inclusive(if integer { v.floor() } else { v })),
        number(map, "exclusiveMaximum")
            .map(|v| if integer { inclusive(v.ceil() - 1.0) } else { Bound { value: v, exclusive: true } }),
    ]
    .into_iter()
    .flatten()
    .max_by(|a, b| compare_upper(Some(*b), Some(*a)))
    .or(from_format.map(|f| inclusive(f.1)));
    (lower, upper)
}

fn show_range(lower: Option<Bound>, upper: Option<Bound>) -> String {
    let lower = match lower {
        Some(b) => format!("{}{}", if b.exclusive { "(" } else { "[" }, b.value),
        None => "(-∞".into(),
    };
    let upper = match upper {
        Some(b) => format!("{}{}", b.value, if b.exclusive { ")" } else { "]" }),
        None => "∞)".into(),
    };
    format!("{lower}, {upper}")
}

/// A count range (`minLength`/`maxLength`, `minItems`/`maxItems`...): missing minimum is 0.
fn count_range(map: &Map<String, Value>, min: &str, max: &str) -> (Option<Bound>, Option<Bound>) {
    let lower = number(map, min).filter(|v| *v > 0.0).map(|value| Bound { value, exclusive: false });
    let upper = number(map, max).map(|value| Bound { value, exclusive: false });
    (lower, upper)
}

impl Walk<'_, '_> {
    /// Compares two plain (non-union) schemas: types, then each shared type's constraints.
    pub(crate) fn compare_typed(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>) {
        let (old_types, new_types) = (types(old), types(new));
        let widened = types_within(&old_types, &new_types);
        let narrowed = types_within(&new_types, &old_types);
        let message = || format!("`{path}` changed from {} to {}", describe(&old_types), describe(&new_types));
        match (widened, narrowed) {
            (true, true) => {}
            (true, false) => self.widened("type-widened", path, message()),
            (false, true) => self.narrowed("type-narrowed", path, message()),
            (false, false) => return self.changed("type-changed", path, message()),
        }
        let shared = |ty: &str| {
            let has = |types: &[&str]| types.contains(&ty) || (ty == "integer" && types.contains(&"number"));
            has(&old_types) && has(&new_types)
        };
        if shared("integer") || shared("number") {
            let integer = !old_types.contains(&"number") || !new_types.contains(&"number");
            self.compare_numbers(path, old, new, integer);
        }
        if shared("string") {
            self.compare_counts(path, old, new, "minLength", "maxLength", "length");
            self.compare_added_constraint(path, old, new, "pattern");
            self.compare_string_format(path, old, new);
        }
        if shared("array") {
            self.compare_arrays(path, old, new);
        }
        if shared("object") {
            self.compare_objects(path, old, new);
        }
    }

    fn compare_numbers(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>, integer: bool) {
        let (old_lower, old_upper) = numeric_range(old, integer);
        let (new_lower, new_upper) = numeric_range(new, integer);
        let message =
            || format!("`{path}`: range {} → {}", show_range(old_lower, old_upper), show_range(new_lower, new_upper));
        self.range_change(
            path,
            "range",
            compare_lower(old_lower, new_lower),
            compare_upper(old_upper, new_upper),
            message,
        );

        match (number(old, "multipleOf"), number(new, "multipleOf")) {
            (a, b) if a == b => {}
            (None, Some(b)) => {
                self.narrowed("multiple-of-changed", path, format!("`{path}` must now be a multiple of {b}"))
            }
            (Some(a), None) => {
                self.widened("multiple-of-changed", path, format!("`{path}` need no longer be a multiple of {a}"))
            }
            (Some(a), Some(b)) => {
                let message = format!("`{path}`: multiple of {a} → {b}");
                if (a / b).fract() == 0.0 {
                    self.widened("multiple-of-changed", path, message);
                } else if (b / a).fract() == 0.0 {
                    self.narrowed("multiple-of-changed", path, message);
                } else {
                    self.changed("multiple-of-changed", path, message);
                }
            }
            (None, None) => {}
        }

        // Integer widths are carried by the range; float widths only change precision.
        let format = |map: &Map<String, Value>| map.get("format").and_then(Value::as_str).map(str::to_owned);
        let width = |f: &Option<String>| {
            matches!(
                f.as_deref(),
                None | Some(
                    "int8"
                        | "uint8"
                        | "int16"
                        | "uint16"
                        | "int32"
                        | "uint32"
                        | "int64"
                        | "uint64"
                        | "float"
                        | "double"
                )
            )
        };
        let (old_format, new_format) = (format(old), format(new));
        if old_format != new_format && !(width(&old_format) && width(&new_format)) {
            let message = format!("`{path}`: number format {old_format:?} → {new_format:?}: cannot judge");
            self.changed("format-changed", path, message);
        }
    }

    /// Reports a range change from how each end moved (`Less` = looser).
    fn range_change(
        &mut self,
        path: &str,
        what: &'static str,
        lower: Ordering,
        upper: Ordering,
        message: impl Fn() -> String,
    ) {
        let looser = lower == Ordering::Less || upper == Ordering::Less;
        let tighter = lower == Ordering::Greater || upper == Ordering::Greater;
        let rule = |kind: &'static str| -> &'static str {
            match (what, kind) {
                ("range", "widened") => "range-widened",
                ("range", "narrowed") => "range-narrowed",
                ("range", _) => "range-changed",
                (_, "widened") => "limit-widened",
                (_, "narrowed") => "limit-narrowed",
                _ => "limit-changed",
            }
        };
        match (looser, tighter) {
            (false, false) => {}
            (true, false) => self.widened(rule("widened"), path, message()),
            (false, true) => self.narrowed(rule("narrowed"), path, message()),
            (true, true) => self.changed(rule("changed"), path, message()),
        }
    }

    /// Compares a count range such as `minLength`/`maxLength`.
    pub(crate) fn compare_counts(
        &mut self,
        path: &str,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        min: &str,
        max: &str,
        what: &str,
    ) {
        let (old_lower, old_upper) = count_range(old, min, max);
        let (new_lower, new_upper) = count_range(new, min, max);
        let show = |lower: Option<Bound>, upper: Option<Bound>| {
            let lower = lower.map_or(0.0, |b| b.value);
            upper.map_or(format!("at least {lower}"), |b| format!("{lower} to {}", b.value))
        };
        let message = || format!("`{path}`: {what} {} → {}", show(old_lower, old_upper), show(new_lower, new_upper));
        self.range_change(
            path,
            "limit",
            compare_lower(old_lower, new_lower),
            compare_upper(old_upper, new_upper),
            message,
        );
    }

    /// A constraint that can only be compared for equality (`pattern`): adding it narrows,
    /// removing it widens, changing it cannot be judged.
    fn compare_added_constraint(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>, key: &str) {
        match (old.get(key), new.get(key)) {
            (None, None) => {}
            (a, b) if a == b => {}
            (None, Some(b)) => self.narrowed("pattern-added", path, format!("`{path}` must now match the {key} {b}")),
            (Some(a), None) => {
                self.widened("pattern-removed", path, format!("`{path}` need no longer match the {key} {a}"))
            }
            (Some(a), Some(b)) => {
                let message = format!(
                    "`{path}`: {key} {a} → {b}; whether one accepts everything the other does cannot be judged"
                );
                self.changed("pattern-changed", path, message);
            }
        }
    }

    fn compare_string_format(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>) {
        match (old.get("format"), new.get("format")) {
            (a, b) if a == b => {}
            (None, Some(b)) => self.narrowed("format-added", path, format!("`{path}` must now have the format {b}")),
            (Some(a), None) => {
                self.widened("format-removed", path, format!("`{path}` need no longer have the format {a}"))
            }
            (Some(a), Some(b)) => self.changed("format-changed", path, format!("`{path}`: format {a} → {b}")),
            (None, None) => {}
        }
    }

    fn compare_arrays(&mut self, path: &str, old: &Map<String, Value>, new: &Map<String, Value>) {
        let any = json!({});
        match (old.get("items"), new.get("items")) {
            (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
                for (index, (a, b)) in a.iter().zip(b).enumerate() {
                    self.compare(&format!("{path}[{index}]"), a, b);
                }
            }
            (Some(Value::Array(a)), Some(Value::Array(b))) => {
                let message = format!("`{path}`: tuple of {} → {} elements", a.len(), b.len());
                self.changed("tuple-changed", path, message);
            }
            (Some(Value::Array(_)), _) | (_, Some(Value::Array(_))) => {
                self.changed("representation-changed", path, format!("`{path}`: a tuple became a list or back"));
            }
            (a, b) => self.compare(&format!("{path}[]"), a.unwrap_or(&any), b.unwrap_or(&any)),
        }
        self.compare_counts(path, old, new, "minItems", "maxItems", "number of items");
        let unique = |map: &Map<String, Value>| map.get("uniqueItems").and_then(Value::as_bool).unwrap_or(false);
        match (unique(old), unique(new)) {
            (false, true) => self.narrowed("unique-items", path, format!("`{path}`: items must now be unique")),
            (true, false) => self.widened("unique-items", path, format!("`{path}`: items need no longer be unique")),
            _ => {}
        }
    }
}
