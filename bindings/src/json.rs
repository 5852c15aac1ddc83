//! Canonical JSON: object keys sorted recursively, two-space indentation, a trailing newline.
//!
//! serde_json keeps insertion order when its `preserve_order` feature is on, which any other
//! crate in the build graph may enable; sorting here keeps the output byte-identical either way.

use serde_json::{Map, Value};

/// `value` with every object's keys sorted (arrays keep their order).
pub(crate) fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(key, value)| (key, sorted(value))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The canonical text of `value`.
pub(crate) fn to_canonical_string(value: Value) -> String {
    // `{:#}` is serde_json's pretty printer (two spaces), and cannot fail on a `Value`.
    format!("{:#}\n", sorted(value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::to_canonical_string;

    #[test]
    fn keys_are_sorted_recursively_and_arrays_keep_their_order() {
        let value = json!({"b": 1, "a": {"z": [3, 1, {"y": 0, "x": 0}], "c": null}});
        let text = to_canonical_string(value);
        assert_eq!(
            text,
            "{\n  \"a\": {\n    \"c\": null,\n    \"z\": [\n      3,\n      1,\n      {\n        \"x\": 0,\n        \
             \"y\": 0\n      }\n    ]\n  },\n  \"b\": 1\n}\n"
        );
    }
}
