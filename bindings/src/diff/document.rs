//! An OpenRPC document as the classifier reads it: its methods by name and its named schemas.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::DiffError;

/// Where named schemas live (what `$ref`s point into).
const DEFINITIONS_PREFIX: &str = "#/components/schemas/";

/// A parsed OpenRPC document.
pub(crate) struct Document<'v> {
    /// Method objects by wire name.
    pub methods: BTreeMap<&'v str, &'v Map<String, Value>>,
    /// `components.schemas`.
    pub definitions: Option<&'v Map<String, Value>>,
}

impl<'v> Document<'v> {
    /// Reads `value`; `side` names it in errors.
    pub(super) fn read(value: &'v Value, side: &'static str) -> Result<Self, DiffError> {
        let error = |reason: String| DiffError::Document { side, reason };
        let root = value.as_object().ok_or_else(|| error("it is not a JSON object".into()))?;
        if !root.contains_key("openrpc") {
            return Err(error("it has no `openrpc` version member".into()));
        }
        let list =
            root.get("methods").and_then(Value::as_array).ok_or_else(|| error("it has no `methods` array".into()))?;
        let mut methods = BTreeMap::new();
        for (index, method) in list.iter().enumerate() {
            let object = method.as_object().ok_or_else(|| error(format!("methods[{index}] is not an object")))?;
            let name = object
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| error(format!("methods[{index}] has no `name`")))?;
            if methods.insert(name, object).is_some() {
                return Err(error(format!("the method `{name}` is listed twice")));
            }
        }
        let definitions = root.get("components").and_then(|c| c.get("schemas")).and_then(Value::as_object);
        Ok(Self { methods, definitions })
    }

    /// The name and schema a `$ref` points to; `None` for anything but a local reference to an
    /// existing named schema.
    pub(super) fn definition(&self, reference: &str) -> Option<(&'v str, &'v Value)> {
        let name = reference.strip_prefix(DEFINITIONS_PREFIX)?;
        let (key, schema) = self.definitions?.get_key_value(&name.replace("~1", "/").replace("~0", "~"))?;
        Some((key.as_str(), schema))
    }
}
