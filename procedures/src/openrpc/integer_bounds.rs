//! Explicit bounds for fixed-width integers in the emitted JSON Schema.
//!
//! schemars describes a `u32` as `{"type": "integer", "format": "uint32", "minimum": 0}`.
//! Validators ignore unknown formats, so without a `maximum` the schema would accept
//! 4294967296, which serde (and therefore the server) rejects. The three views must agree, so
//! every fixed-width integer gets both bounds.

use schemars::Schema;
use schemars::transform::{Transform, transform_subschemas};

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IntegerBounds;

impl Transform for IntegerBounds {
    fn transform(&mut self, schema: &mut Schema) {
        let bounds = match schema.get("format").and_then(|f| f.as_str()) {
            Some("int8") => Some((i64::from(i8::MIN), i64::from(i8::MAX))),
            Some("uint8") => Some((0, i64::from(u8::MAX))),
            Some("int16") => Some((i64::from(i16::MIN), i64::from(i16::MAX))),
            Some("uint16") => Some((0, i64::from(u16::MAX))),
            Some("int32") => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
            Some("uint32") => Some((0, i64::from(u32::MAX))),
            _ => None,
        };
        if let Some((minimum, maximum)) = bounds {
            if schema.get("minimum").is_none() {
                schema.insert("minimum".into(), minimum.into());
            }
            if schema.get("maximum").is_none() {
                schema.insert("maximum".into(), maximum.into());
            }
        }
        transform_subschemas(self, schema);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_integers_get_both_bounds() {
        let mut schema = schemars::json_schema!({
            "type": "object",
            "properties": {
                "id": {"type": "integer", "format": "uint32", "minimum": 0},
                "delta": {"type": "integer", "format": "int16"},
                "name": {"type": "string"}
            }
        });
        IntegerBounds.transform(&mut schema);
        let properties = &schema.as_value()["properties"];
        assert_eq!(properties["id"]["maximum"], 4294967295u32);
        assert_eq!(properties["delta"]["minimum"], -32768);
        assert_eq!(properties["delta"]["maximum"], 32767);
        assert!(properties["name"].get("maximum").is_none());
    }
}
