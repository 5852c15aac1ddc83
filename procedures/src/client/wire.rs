//! JSON-RPC framing shared by both transports: writing requests, reading answers and
//! notifications without trusting their shape.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{FrameworkCode, RpcError, TransportData};

/// A request's text. `timeout_ms` becomes the WebSocket's per-call deadline
/// (`"meta": {"timeoutMs": ...}`, docs/wire.md); params are left out for a procedure without
/// input.
pub(super) fn request(id: u64, method: &str, params: Option<&RawValue>, timeout_ms: Option<u64>) -> String {
    request_resuming(id, method, params, timeout_ms, None)
}

/// A request that may also carry `meta.lastEventId` (a subscribe resuming a tracked
/// subscription).
pub(super) fn request_resuming(
    id: u64,
    method: &str,
    params: Option<&RawValue>,
    timeout_ms: Option<u64>,
    last_event_id: Option<&str>,
) -> String {
    let mut text = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":{}"#, quote(method));
    if let Some(params) = params {
        text.push_str(r#","params":"#);
        text.push_str(params.get());
    }
    match (timeout_ms, last_event_id) {
        (None, None) => {}
        (Some(ms), None) => text.push_str(&format!(r#","meta":{{"timeoutMs":{ms}}}"#)),
        (None, Some(last)) => text.push_str(&format!(r#","meta":{{"lastEventId":{}}}"#, quote(last))),
        (Some(ms), Some(last)) => {
            text.push_str(&format!(r#","meta":{{"timeoutMs":{ms},"lastEventId":{}}}"#, quote(last)))
        }
    }
    text.push('}');
    text
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// What a server sends: an answer (with `id`) or a subscription notification.
#[derive(Deserialize)]
pub(super) struct Incoming<'a> {
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    /// `Some` whenever the member is present, `null` included (a procedure may return `null`).
    #[serde(default, borrow, deserialize_with = "present")]
    pub result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub error: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub params: Option<Notification<'a>>,
}

#[derive(Deserialize)]
pub(super) struct Notification<'a> {
    pub subscription: serde_json::Value,
    #[serde(default, borrow, deserialize_with = "present")]
    pub result: Option<&'a RawValue>,
    /// Present (possibly `null`) on the closing notification.
    #[serde(default, borrow, deserialize_with = "present")]
    pub error: Option<&'a RawValue>,
    /// A tracked item's id.
    #[serde(default, rename = "eventId")]
    pub event_id: Option<String>,
    /// The `EVENTS_MISSED` marker (an error object); the subscription goes on.
    #[serde(default, borrow)]
    pub missed: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

impl Incoming<'_> {
    /// The call's outcome, for an answer.
    pub(super) fn outcome(&self) -> Result<Box<RawValue>, RpcError> {
        match (self.result, self.error) {
            (_, Some(error)) if error.get() != "null" => Err(error_object(error)),
            (Some(result), _) => Ok(result.to_owned()),
            _ => Err(transport("an answer with neither result nor error", None)),
        }
    }
}

/// An error object as received; a malformed one becomes `TRANSPORT`.
pub(super) fn error_object(raw: &RawValue) -> RpcError {
    serde_json::from_str(raw.get()).unwrap_or_else(|_| transport("a malformed error object in the answer", None))
}

/// A `TRANSPORT` error with its `data.reason` (and `data.status` for an HTTP answer).
pub(super) fn transport(reason: impl Into<String>, status: Option<u16>) -> RpcError {
    let reason = reason.into();
    let message = match status {
        Some(status) => format!("HTTP {status}: {reason}"),
        None => reason.clone(),
    };
    RpcError::from_data(FrameworkCode::Transport, message, TransportData { status, reason: Some(reason) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_leave_out_what_they_do_not_have() {
        assert_eq!(request(1, "t.a", None, None), r#"{"jsonrpc":"2.0","id":1,"method":"t.a"}"#);
        let params = RawValue::from_string(r#"{"x":1}"#.into()).unwrap();
        assert_eq!(
            request(2, "t.b", Some(&params), Some(250)),
            r#"{"jsonrpc":"2.0","id":2,"method":"t.b","params":{"x":1},"meta":{"timeoutMs":250}}"#
        );
    }

    #[test]
    fn resuming_subscribes_carry_the_last_event_id() {
        assert_eq!(
            request_resuming(3, "t.s", None, None, Some("e:1-0")),
            r#"{"jsonrpc":"2.0","id":3,"method":"t.s","meta":{"lastEventId":"e:1-0"}}"#
        );
        let item: Incoming<'_> = serde_json::from_str(
            r#"{"method":"t.s","params":{"subscription":"1","result":{"a":1},"eventId":"e:2-0"}}"#,
        )
        .unwrap();
        let params = item.params.unwrap();
        assert_eq!(params.event_id.as_deref(), Some("e:2-0"));
        assert!(params.missed.is_none());
    }

    #[test]
    fn null_results_are_results_and_null_errors_are_not_errors() {
        let answer: Incoming<'_> = serde_json::from_str(r#"{"jsonrpc":"2.0","id":1,"result":null}"#).unwrap();
        assert_eq!(answer.outcome().unwrap().get(), "null");
        let answer: Incoming<'_> = serde_json::from_str(r#"{"jsonrpc":"2.0","id":1}"#).unwrap();
        assert_eq!(answer.outcome().unwrap_err().framework_code(), Some(FrameworkCode::Transport));
        let answer: Incoming<'_> =
            serde_json::from_str(r#"{"id":1,"error":{"code":-32051,"message":"down","data":{"code":"UNAVAILABLE"}}}"#)
                .unwrap();
        assert_eq!(answer.outcome().unwrap_err().framework_code(), Some(FrameworkCode::Unavailable));
        let answer: Incoming<'_> = serde_json::from_str(r#"{"id":1,"error":"nope"}"#).unwrap();
        assert_eq!(answer.outcome().unwrap_err().framework_code(), Some(FrameworkCode::Transport));
    }
}
