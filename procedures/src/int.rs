//! `I53`: a 64-bit integer that JavaScript can hold exactly.
//!
//! `JSON.parse` turns every number into an IEEE double, exact only up to ±(2^53 − 1). Accord
//! therefore refuses raw `i64`/`u64` in wire types (compile error from `#[accord::wire]`, and a
//! bindings error as a backstop) and offers this type instead: an `i64` that is checked on
//! construction and on deserialization, a plain `number` in TypeScript, and an integer with
//! `minimum`/`maximum` in the JSON Schema.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An `i64` within ±(2^53 − 1), safe to send to JavaScript.
///
/// ```
/// use accord::I53;
/// let id = I53::new(42).unwrap();
/// assert_eq!(id.get(), 42);
/// assert!(I53::new(i64::MAX).is_err());
/// assert_eq!(serde_json::to_string(&id).unwrap(), "42");
/// assert!(serde_json::from_str::<I53>("9007199254740992").is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct I53(i64);

/// A value outside the range of [`I53`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} is outside ±(2^53 − 1), the integers JavaScript holds exactly")]
pub struct I53OutOfRange(pub i64);

impl I53 {
    /// The largest value: 2^53 − 1 (`Number.MAX_SAFE_INTEGER`).
    pub const MAX: i64 = (1 << 53) - 1;
    /// The smallest value: −(2^53 − 1) (`Number.MIN_SAFE_INTEGER`).
    pub const MIN: i64 = -Self::MAX;

    /// Checks that `value` is in range.
    pub const fn new(value: i64) -> Result<Self, I53OutOfRange> {
        if value < Self::MIN || value > Self::MAX { Err(I53OutOfRange(value)) } else { Ok(Self(value)) }
    }

    /// The value.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for I53 {
    type Error = I53OutOfRange;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<i32> for I53 {
    fn from(value: i32) -> Self {
        Self(value.into())
    }
}

impl From<u32> for I53 {
    fn from(value: u32) -> Self {
        Self(value.into())
    }
}

impl From<I53> for i64 {
    fn from(value: I53) -> Self {
        value.0
    }
}

impl std::fmt::Display for I53 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for I53 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for I53 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        Self::new(value).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for I53 {
    fn schema_name() -> Cow<'static, str> {
        "I53".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": Self::MIN,
            "maximum": Self::MAX,
        })
    }
}

impl ts_rs::TS for I53 {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(_: &ts_rs::Config) -> String {
        "number".to_owned()
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}
