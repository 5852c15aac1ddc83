//! JSON-RPC 2.0 messages as Accord reads and writes them.
//!
//! A message (an HTTP body or a WebSocket text frame) is one request object or a batch array.
//! Parsing borrows from the message: ids, params and method names stay slices of it, so a call
//! costs no copy of its params. Every way a message can be wrong has the spec's answer:
//!
//! | message | answer |
//! |---|---|
//! | not UTF-8, not JSON, trailing bytes | one `PARSE_ERROR` (-32700), `id: null` |
//! | JSON, but neither an object nor a non-empty array | one `INVALID_REQUEST` (-32600), `id: null` |
//! | an object without `"jsonrpc": "2.0"`, a string `method`, structured `params` | `INVALID_REQUEST` with its id if the id is valid, else `null` |
//! | an `id` that is not a string, a number or `null` | `INVALID_REQUEST`, `id: null` |
//! | no `id` at all | a notification: it runs, nothing is answered |
//!
//! Ids are echoed exactly as sent (`-1`, `1.5`, `18446744073709551616`, `"x"`), as their raw
//! JSON text. Accord's one extension is an optional top-level `meta` object beside
//! `params`: `{"timeoutMs": n}` shortens the call's deadline, `{"lastEventId": "..."}` resumes a
//! tracked subscription (`docs/wire.md`).

mod response;

use std::borrow::Cow;
use std::time::Duration;

use accord::{EventId, FrameworkCode, RpcError};
use serde::Deserialize;
use serde_json::value::RawValue;

pub(crate) use response::{Response, error_body};

/// A request id as its raw JSON text: a string, a number or `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Id<'a>(&'a str);

impl<'a> Id<'a> {
    /// `null`: the id of answers to messages whose id could not be read.
    pub(crate) const NULL: Id<'static> = Id("null");

    pub(crate) fn as_json(self) -> &'a str {
        self.0
    }
}

/// The keep-alive any client may call on any transport, answered `true` without any check.
pub(crate) const PING: &str = "rpc.ping";
/// In-band credentials for a WebSocket (`{"authorization": "..."}`).
pub(crate) const AUTHENTICATE: &str = "rpc.authenticate";

/// The longest `meta.lastEventId` accepted, in bytes (ids Accord makes are far shorter).
pub(crate) const MAX_EVENT_ID_BYTES: usize = 256;

/// Options a call carries in its `meta` member.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta<'a> {
    /// `meta.timeoutMs`: the caller stops waiting after this.
    pub timeout: Option<Duration>,
    /// `meta.traceparent` / `meta.tracestate`: the W3C trace context of this call (one per
    /// call on a WebSocket, where there are no per-call headers).
    pub traceparent: Option<Cow<'a, str>>,
    pub tracestate: Option<Cow<'a, str>>,
    /// `meta.lastEventId`: a subscriber resumes after this event.
    pub last_event_id: Option<EventId>,
}

/// One parsed request object.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    /// `None` for a notification.
    pub id: Option<Id<'a>>,
    pub method: Cow<'a, str>,
    /// `None` when absent or `null`.
    pub params: Option<&'a RawValue>,
    pub meta: Meta<'a>,
}

/// One entry of a message.
#[derive(Debug)]
pub(crate) enum Entry<'a> {
    Call(Call<'a>),
    /// Not a valid request: answered with this error under this id.
    Invalid(Id<'a>, RpcError),
}

/// A whole message.
#[derive(Debug)]
pub(crate) enum Message<'a> {
    Single(Entry<'a>),
    Batch(Vec<Entry<'a>>),
}

/// Reads a message. `Err` is the one error to answer (with `id: null`) when the message as a
/// whole cannot be read.
pub(crate) fn parse(bytes: &[u8]) -> Result<Message<'_>, RpcError> {
    let text = std::str::from_utf8(bytes).map_err(|_| parse_error("the message is not valid UTF-8"))?;
    let body = text.trim_start_matches([' ', '\t', '\n', '\r']);
    match body.as_bytes().first() {
        Some(b'[') => {
            let entries: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| unreadable(&e))?;
            if entries.is_empty() {
                return Err(invalid("an empty batch holds no request"));
            }
            Ok(Message::Batch(entries.into_iter().map(entry).collect()))
        }
        Some(b'{') => match serde_json::from_str::<Fields<'_>>(text) {
            Ok(fields) => Ok(Message::Single(fields.into_entry())),
            Err(error) => Err(unreadable(&error)),
        },
        _ => match serde_json::from_str::<&RawValue>(text) {
            Ok(_) => Err(invalid("a JSON-RPC message is a request object or an array of them")),
            Err(error) => Err(unreadable(&error)),
        },
    }
}

/// One batch element.
fn entry(raw: &RawValue) -> Entry<'_> {
    if !raw.get().starts_with('{') {
        return Entry::Invalid(Id::NULL, invalid("a batch entry must be a request object"));
    }
    match serde_json::from_str::<Fields<'_>>(raw.get()) {
        Ok(fields) => fields.into_entry(),
        Err(error) => Entry::Invalid(Id::NULL, invalid(&format!("not a request object: {}", strip_position(&error)))),
    }
}

/// The members of a request object, each kept as raw JSON so that a wrong type is reported
/// as an invalid request, not a parse error. Unknown members are ignored.
#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    meta: Option<&'a RawValue>,
}

/// Keeps a member that is present, `null` included (a plain `Option` would read `null` as
/// absent, and `"id": null` is a call while a missing id is a notification).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

impl<'a> Fields<'a> {
    fn into_entry(self) -> Entry<'a> {
        let id = match self.id {
            None => None,
            Some(raw) => match valid_id(raw) {
                Some(id) => Some(id),
                None => return Entry::Invalid(Id::NULL, invalid("the id must be a string, a number or null")),
            },
        };
        let refuse = |why: &str| Entry::Invalid(id.unwrap_or(Id::NULL), invalid(why));
        if self.jsonrpc.map(RawValue::get) != Some(r#""2.0""#) {
            return refuse(r#"the request must carry "jsonrpc": "2.0""#);
        }
        let Some(method) = self.method.and_then(json_string) else {
            return refuse("the method must be a string");
        };
        let params = match self.params {
            None => None,
            Some(raw) => match raw.get().as_bytes().first() {
                Some(b'{' | b'[') => Some(raw),
                Some(b'n') => None,
                _ => return refuse("params must be an object or an array"),
            },
        };
        let meta = match self.meta.map(read_meta).transpose() {
            Ok(meta) => meta.unwrap_or_default(),
            Err(why) => return refuse(why),
        };
        Entry::Call(Call { id, method, params, meta })
    }
}

/// A string, a number or `null`, as written.
fn valid_id(raw: &RawValue) -> Option<Id<'_>> {
    match raw.get().as_bytes().first()? {
        b'"' | b'-' | b'0'..=b'9' => Some(Id(raw.get())),
        b'n' => Some(Id::NULL),
        _ => None,
    }
}

/// The value of a JSON string, borrowed when it has no escapes.
fn json_string(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(text).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

fn read_meta(raw: &RawValue) -> Result<Meta<'_>, &'static str> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Wire<'a> {
        timeout_ms: Option<u64>,
        #[serde(borrow)]
        traceparent: Option<Cow<'a, str>>,
        #[serde(borrow)]
        tracestate: Option<Cow<'a, str>>,
        #[serde(borrow)]
        last_event_id: Option<Cow<'a, str>>,
    }
    if raw.get() == "null" {
        return Ok(Meta::default());
    }
    let wire: Wire<'_> = serde_json::from_str(raw.get()).map_err(|_| {
        "meta must be an object; meta.timeoutMs a whole number of milliseconds, meta.traceparent, meta.tracestate and meta.lastEventId strings"
    })?;
    let last_event_id = match wire.last_event_id {
        Some(id) if id.is_empty() || id.len() > MAX_EVENT_ID_BYTES => {
            return Err("meta.lastEventId must hold 1 to 256 bytes");
        }
        Some(id) => Some(EventId::new(id.as_ref())),
        None => None,
    };
    Ok(Meta {
        timeout: wire.timeout_ms.map(Duration::from_millis),
        traceparent: wire.traceparent,
        tracestate: wire.tracestate,
        last_event_id,
    })
}

fn parse_error(why: &str) -> RpcError {
    RpcError::framework(FrameworkCode::ParseError, format!("parse error: {why}"))
}

fn invalid(why: &str) -> RpcError {
    RpcError::framework(FrameworkCode::InvalidRequest, format!("invalid request: {why}"))
}

/// A message serde could not read: bad JSON is a parse error, valid JSON of the wrong shape
/// an invalid request.
fn unreadable(error: &serde_json::Error) -> RpcError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => parse_error(&strip_position(error)),
        Category::Data => invalid(&strip_position(error)),
    }
}

fn strip_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests;
