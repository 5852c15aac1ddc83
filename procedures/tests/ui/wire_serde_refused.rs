//! serde attributes the bindings could not describe exactly are refused, each with what to do.

#[accord::wire]
pub struct MayBeLeftOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[accord::wire]
pub struct TwoNames {
    #[serde(alias = "name")]
    pub title: String,
}

#[accord::wire]
pub struct OnlySent {
    #[serde(skip_deserializing)]
    pub computed: u32,
}

pub mod as_text {
    pub fn serialize<S: serde::Serializer>(value: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[accord::wire]
pub struct Undescribed {
    #[serde(with = "as_text")]
    pub count: u32,
}

#[accord::wire]
#[serde(tag = "type")]
pub enum Scalar {
    Text(String),
}

#[accord::wire]
#[serde(rename(serialize = "Out", deserialize = "In"))]
pub struct Renamed {
    pub id: u32,
}

fn main() {}
