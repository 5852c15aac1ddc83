//! The exact shape of `error.data` for each framework error, as wire types.
//!
//! These are the one definition of the framework's error vocabulary: the server builds its
//! errors from them ([`RpcError::from_data`]), clients read them back ([`RpcError::data_as`]),
//! and `@accord/client`'s `client-ts/src/framework.ts` is generated from them by
//! `accord-bindings` (a test there fails when the committed file drifts). Besides the fields
//! below, every `data` holds `code` (the [`FrameworkCode`]'s name) and, on errors a server
//! produced once it knew the call, `requestId`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{FrameworkCode, RpcError, TypeDescription, Violation};

/// `data` of `INVALID_PARAMS`: where and why the params were refused.
///
/// A decode error has `path` and `reason`; an input that decoded but breaks its validation
/// rules also lists every broken rule in `violations` (`path`/`reason` are the first's).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvalidParamsData {
    /// The wire path of the offending value (`items[2].name`; empty for the whole input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub path: Option<String>,
    /// What was wrong with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
    /// Every broken validation rule, in declaration order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub violations: Option<Vec<Violation>>,
}

/// `data` of `RATE_LIMITED`: when the caller may try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitedData {
    /// Milliseconds to wait before the next call can pass.
    pub retry_after_ms: u32,
}

/// `data` of `OVERLOADED` and `UNAVAILABLE`: a hint when to try again, if the server has one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryHintData {
    /// Milliseconds to wait before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub retry_after_ms: Option<u32>,
    /// The per-connection limit that refused the call (open subscriptions), when it was one:
    /// retrying does not help until something on the connection ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub limit: Option<u32>,
}

/// `data` of `REQUEST_TOO_BIG` and `BATCH_TOO_BIG`: the limit the message went over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitData {
    /// Bytes (`REQUEST_TOO_BIG`) or calls (`BATCH_TOO_BIG`).
    pub limit: u32,
}

/// `data` of `TIMEOUT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeoutData {
    /// The deadline that passed, in ms (the server's, or the one a client gave up at).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub timeout_ms: Option<u32>,
}

/// `data` of `TRANSPORT` (made by clients only): why no usable answer came.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransportData {
    /// The HTTP status, when there was an HTTP answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub status: Option<u16>,
    /// What went wrong (network error, not JSON, closed socket...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
}

/// `data` of `EVENTS_MISSED`: which resume failed, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventsMissedData {
    /// The id the subscriber asked to resume after (`meta.lastEventId`); absent when a client
    /// resubscribed with no id to resume from (nothing had arrived yet, or the subscription is
    /// not tracked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_event_id: Option<String>,
    /// Why the events in between cannot be delivered.
    pub reason: MissedReason,
}

/// Why a subscription could not resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum MissedReason {
    /// The id is older than what the server keeps (its retention window).
    Expired,
    /// The server does not know the id: another stream or server generation (a restart of an
    /// in-process backend, lost storage), a malformed id, an untracked subscription, or no id.
    Unknown,
}

/// The fields of a framework error's `data` besides `code` and `requestId`.
pub trait FrameworkData: Serialize {
    /// The codes whose `data` has this shape.
    const CODES: &'static [FrameworkCode];
}

impl FrameworkData for InvalidParamsData {
    const CODES: &'static [FrameworkCode] = &[FrameworkCode::InvalidParams];
}
impl FrameworkData for RateLimitedData {
    const CODES: &'static [FrameworkCode] = &[FrameworkCode::RateLimited];
}
impl FrameworkData for RetryHintData {
    const CODES: &'static [FrameworkCode] = &[FrameworkCode::Overloaded, FrameworkCode::Unavailable];
}
impl FrameworkData for LimitData {
    const CODES: &'static [FrameworkCode] = &[FrameworkCode::RequestTooBig, FrameworkCode::BatchTooBig];
}
impl FrameworkData for TimeoutData {
    const CODES: &'static [FrameworkCode] = &[FrameworkCode::Timeout];
}
impl FrameworkData for EventsMissedData {
    const CODES: &'static [FrameworkCode] = &[FrameworkCode::EventsMissed];
}
impl FrameworkData for TransportData {
    const CODES: &'static [FrameworkCode] = &[FrameworkCode::Transport];
}

impl FrameworkCode {
    /// The type of this code's `data` fields besides `code` and `requestId`; `None` when it has
    /// no others.
    pub fn data(self) -> Option<TypeDescription> {
        Some(match self {
            FrameworkCode::InvalidParams => TypeDescription::of::<InvalidParamsData>(),
            FrameworkCode::RateLimited => TypeDescription::of::<RateLimitedData>(),
            FrameworkCode::Overloaded | FrameworkCode::Unavailable => TypeDescription::of::<RetryHintData>(),
            FrameworkCode::Timeout => TypeDescription::of::<TimeoutData>(),
            FrameworkCode::RequestTooBig | FrameworkCode::BatchTooBig => TypeDescription::of::<LimitData>(),
            FrameworkCode::Transport => TypeDescription::of::<TransportData>(),
            FrameworkCode::EventsMissed => TypeDescription::of::<EventsMissedData>(),
            _ => return None,
        })
    }
}

impl RpcError {
    /// A framework error of `code` whose `data` carries `fields` (next to `code`).
    ///
    /// ```
    /// use accord::{FrameworkCode, RateLimitedData, RpcError};
    ///
    /// let error = RpcError::from_data(FrameworkCode::RateLimited, "slow down", RateLimitedData { retry_after_ms: 250 });
    /// assert_eq!(error.data_as::<RateLimitedData>(), Some(RateLimitedData { retry_after_ms: 250 }));
    /// ```
    pub fn from_data<D: FrameworkData>(code: FrameworkCode, message: impl Into<String>, fields: D) -> Self {
        debug_assert!(D::CODES.contains(&code), "{} does not carry this data", code.as_str());
        let mut error = RpcError::framework(code, message);
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(fields) {
            for (key, value) in fields {
                error = error.with_data_field(&key, value);
            }
        }
        error
    }

    /// The typed `data` fields of this error, when it is a framework error of a code that has
    /// them and they have the documented shape (`code` and `requestId` are skipped).
    pub fn data_as<D: FrameworkData + serde::de::DeserializeOwned>(&self) -> Option<D> {
        if !D::CODES.contains(&self.framework_code()?) {
            return None;
        }
        let mut fields = match &self.data {
            Some(serde_json::Value::Object(map)) => map.clone(),
            _ => serde_json::Map::new(),
        };
        fields.remove("code");
        fields.remove("requestId");
        serde_json::from_value(serde_json::Value::Object(fields)).ok()
    }

    /// How long the server asked to wait before retrying (`data.retryAfterMs` of
    /// `RATE_LIMITED`, `OVERLOADED` or `UNAVAILABLE`), if it said.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        let ms = match self.framework_code()? {
            FrameworkCode::RateLimited => self.data_as::<RateLimitedData>()?.retry_after_ms,
            FrameworkCode::Overloaded | FrameworkCode::Unavailable => self.data_as::<RetryHintData>()?.retry_after_ms?,
            _ => return None,
        };
        Some(std::time::Duration::from_millis(u64::from(ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_type_names_the_codes_it_is_for() {
        for code in FrameworkCode::ALL {
            let owners = [
                InvalidParamsData::CODES,
                RateLimitedData::CODES,
                RetryHintData::CODES,
                LimitData::CODES,
                TimeoutData::CODES,
                TransportData::CODES,
                EventsMissedData::CODES,
            ];
            let owned = owners.iter().any(|codes| codes.contains(code));
            assert_eq!(owned, code.data().is_some(), "{}", code.as_str());
        }
    }

    #[test]
    fn typed_data_round_trips_and_ignores_code_and_request_id() {
        let error = RpcError::from_data(
            FrameworkCode::Unavailable,
            "down",
            RetryHintData { retry_after_ms: Some(900), limit: None },
        )
        .with_data_field("requestId", "r-1");
        assert_eq!(
            error.data,
            Some(serde_json::json!({"code": "UNAVAILABLE", "retryAfterMs": 900, "requestId": "r-1"}))
        );
        assert_eq!(error.retry_after(), Some(std::time::Duration::from_millis(900)));
        assert_eq!(error.data_as::<RateLimitedData>(), None, "another code's shape");
        let bare = RpcError::framework(FrameworkCode::Unavailable, "down");
        assert_eq!(bare.retry_after(), None);
    }

    #[test]
    fn a_shape_with_unknown_fields_does_not_read() {
        let error = RpcError::framework(FrameworkCode::RateLimited, "slow").with_data_field("retryAfter", 3);
        assert_eq!(error.data_as::<RateLimitedData>(), None);
    }
}
