//! Decoding a call's `params` into its input type, then validating it, with errors that say
//! where and why.

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::validate::{Validate, Violation};
use crate::{FrameworkCode, RpcError};

/// Decodes by-name params (the input object) into `T`, then checks `T`'s rules
/// ([`Validate`]): a procedure only ever sees an input that decoded and is valid.
///
/// A one-element positional array (`[{...}]`) is accepted too, for clients that only speak
/// positional params. Errors are `INVALID_PARAMS` with `data.path` (e.g. `items[2].name`,
/// empty for the whole input) and `data.reason`; a validation error also lists every violated
/// rule in `data.violations` (`[{path, reason}]`, `path`/`reason` being the first's).
pub(crate) fn decode_input<T: DeserializeOwned + Validate>(params: Option<&str>) -> Result<T, RpcError> {
    let input = decode::<T>(params)?;
    input.validate().map_err(|violations| invalid_input(&violations))?;
    Ok(input)
}

/// Decodes without validating.
fn decode<T: DeserializeOwned>(params: Option<&str>) -> Result<T, RpcError> {
    let Some(raw) = params else {
        return Err(invalid("", "missing params: this procedure takes an input object"));
    };
    if raw.trim_start().starts_with('[') {
        // `[input]`: decode the single element so paths stay relative to the input.
        let items: Vec<&RawValue> = serde_json::from_str(raw).map_err(|e| invalid("", &strip_position(&e)))?;
        return match items.as_slice() {
            [one] => decode_object(one.get()),
            _ => Err(invalid("", "positional params must hold exactly one element, the input object")),
        };
    }
    decode_object(raw)
}

/// Accepts the params of a procedure without input: none, `null`, `{}` or `[]`.
pub fn decode_no_input(params: Option<&str>) -> Result<(), RpcError> {
    match params.map(str::trim) {
        None | Some("null") | Some("{}") | Some("[]") => Ok(()),
        Some(raw) => match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(map)) if map.is_empty() => Ok(()),
            Ok(serde_json::Value::Array(items)) if items.is_empty() => Ok(()),
            _ => Err(invalid("", "this procedure takes no input")),
        },
    }
}

fn decode_object<T: DeserializeOwned>(raw: &str) -> Result<T, RpcError> {
    let mut deserializer = serde_json::Deserializer::from_str(raw);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        invalid(&path, &strip_position(e.inner()))
    })?;
    deserializer.end().map_err(|e| invalid("", &strip_position(&e)))?;
    Ok(value)
}

/// serde_json appends " at line 1 column 17"; positions in a request body mean nothing to a
/// caller who built the params as an object, the path says where.
fn strip_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

fn invalid(path: &str, reason: &str) -> RpcError {
    let message = if path.is_empty() {
        format!("invalid params: {reason}")
    } else {
        format!("invalid params at `{path}`: {reason}")
    };
    RpcError::framework(FrameworkCode::InvalidParams, message)
        .with_data_field("path", path)
        .with_data_field("reason", reason)
}

/// The `INVALID_PARAMS` error of an input that decoded but breaks its rules.
fn invalid_input(violations: &[Violation]) -> RpcError {
    let Some(first) = violations.first() else {
        return invalid("", "the input is invalid");
    };
    let count = match violations.len() {
        1 => "1 violation".to_owned(),
        n => format!("{n} violations"),
    };
    let list: Vec<String> = violations.iter().map(Violation::to_string).collect();
    let violations_data = serde_json::to_value(violations).unwrap_or_default();
    RpcError::framework(FrameworkCode::InvalidParams, format!("invalid params: {count}: {}", list.join("; ")))
        .with_data_field("path", first.path.as_str())
        .with_data_field("reason", first.reason.as_str())
        .with_data_field("violations", violations_data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        name: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Order {
        items: Vec<Item>,
    }

    fn data(e: &RpcError) -> (&str, &str) {
        let d = e.data.as_ref().unwrap();
        (d["path"].as_str().unwrap(), d["reason"].as_str().unwrap())
    }

    #[test]
    fn reports_the_field_path_and_what_was_expected() {
        let e = decode::<Order>(Some(r#"{"items":[{"name":"a"},{"name":"b"},{"name":3}]}"#)).unwrap_err();
        assert_eq!(e.code, -32602);
        let (path, reason) = data(&e);
        assert_eq!(path, "items[2].name");
        assert!(reason.contains("expected a string"), "{reason}");
        assert!(!reason.contains("line"), "{reason}");
    }

    #[test]
    fn reports_missing_fields() {
        let e = decode::<Order>(Some("{}")).unwrap_err();
        assert_eq!(data(&e).1, "missing field `items`");
    }

    #[test]
    fn accepts_by_name_and_single_positional() {
        let by_name: Item = decode(Some(r#"{"name":"x"}"#)).unwrap();
        let positional: Item = decode(Some(r#"[{"name":"x"}]"#)).unwrap();
        assert_eq!(by_name, positional);
        assert!(decode::<Item>(Some(r#"[{"name":"x"},{"name":"y"}]"#)).is_err());
        assert!(decode::<Item>(None).is_err());
        assert!(decode::<Item>(Some("{\"name\":\"x\"} trailing")).is_err());
    }

    #[test]
    fn no_input_accepts_only_empty_forms() {
        for ok in [None, Some("null"), Some("{}"), Some("[]"), Some(" { } ")] {
            assert!(decode_no_input(ok).is_ok(), "{ok:?}");
        }
        assert!(decode_no_input(Some(r#"{"a":1}"#)).is_err());
        assert!(decode_no_input(Some("[1]")).is_err());
    }

    impl Validate for Item {
        fn validate(&self) -> Result<(), Vec<Violation>> {
            let mut violations = Vec::new();
            if self.name.is_empty() {
                violations.push(Violation::new("name", "length is lower than 1"));
            }
            if self.name.starts_with(' ') {
                violations.push(Violation::new("name", "starts with a space"));
            }
            if violations.is_empty() { Ok(()) } else { Err(violations) }
        }
    }

    impl Validate for Order {
        fn validate(&self) -> Result<(), Vec<Violation>> {
            self.items.validate().map_err(|v| v.into_iter().map(|v| v.under_key("items")).collect())
        }
    }

    #[test]
    fn validates_after_decoding_and_lists_every_violation() {
        let valid: Item = decode_input(Some(r#"{"name":"x"}"#)).unwrap();
        assert_eq!(valid, Item { name: "x".into() });

        // A decode error is reported before any validation.
        let e = decode_input::<Item>(Some(r#"{"name":3}"#)).unwrap_err();
        assert!(e.data.as_ref().unwrap().get("violations").is_none());

        let e = decode_input::<Item>(Some(r#"{"name":" "}"#)).unwrap_err();
        assert_eq!(e.code, -32602);
        assert_eq!(e.message, "invalid params: 1 violation: `name`: starts with a space");
        assert_eq!(data(&e), ("name", "starts with a space"));

        let e = decode_input::<Order>(Some(r#"{"items":[{"name":"a"},{"name":""}]}"#)).unwrap_err();
        assert_eq!(
            e.data,
            Some(serde_json::json!({
                "code": "INVALID_PARAMS",
                "path": "items[1].name",
                "reason": "length is lower than 1",
                "violations": [{"path": "items[1].name", "reason": "length is lower than 1"}],
            }))
        );
    }

    #[test]
    fn the_message_counts_and_lists_the_violations() {
        let e =
            invalid_input(&[Violation::new("title", "length is lower than 1"), Violation::new("", "too many tags")]);
        assert_eq!(e.message, "invalid params: 2 violations: `title`: length is lower than 1; too many tags");
        assert_eq!(e.framework_code(), Some(FrameworkCode::InvalidParams));
        assert_eq!(data(&e), ("title", "length is lower than 1"));
        assert_eq!(e.data.as_ref().unwrap()["violations"].as_array().unwrap().len(), 2);
    }
}
