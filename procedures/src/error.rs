//! The error model: every failure is a JSON-RPC error object whose `data.code` is a stable
//! string. Procedures return their own typed enums ([`ProcedureError`]); the framework's own
//! failures are [`RpcError`]s with a [`FrameworkCode`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The JSON-RPC `error.code` of a procedure's domain errors, unless a variant sets its own
/// with `#[accord(code = N)]`.
pub const APPLICATION_ERROR_CODE: i32 = 1000;

/// A JSON-RPC error object: what travels on the wire for every failure.
///
/// Framework failures (bad params, timeouts, transport errors...) are built with
/// [`RpcError::framework`]; `data.code` then holds the [`FrameworkCode`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} ({code})")]
pub struct RpcError {
    /// The JSON-RPC numeric code.
    pub code: i32,
    /// An external, human-readable message. Never internals.
    pub message: String,
    /// Structured details; for Accord errors an object with a string `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

macro_rules! framework_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $rpc:literal, $name:literal;)*) => {
        /// The framework's own error codes. `data.code` carries the name, `error.code` the number.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum FrameworkCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl FrameworkCode {
            /// Every framework code, in table order.
            pub const ALL: &'static [FrameworkCode] = &[$(FrameworkCode::$variant,)*];

            /// The JSON-RPC `error.code`.
            pub const fn rpc_code(self) -> i32 {
                match self { $(FrameworkCode::$variant => $rpc,)* }
            }

            /// The stable string in `error.data.code`.
            pub const fn as_str(self) -> &'static str {
                match self { $(FrameworkCode::$variant => $name,)* }
            }

            /// The code for a `data.code` string, if it is a framework one.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some(FrameworkCode::$variant),)* _ => None }
            }
        }

        const fn framework_docs(code: FrameworkCode) -> &'static str {
            match code { $(FrameworkCode::$variant => concat!($($doc, "\n"),*),)* }
        }
    };
}

framework_codes! {
    /// The body is not JSON.
    ParseError = -32700, "PARSE_ERROR";
    /// Not a JSON-RPC 2.0 request.
    InvalidRequest = -32600, "INVALID_REQUEST";
    /// No such method.
    MethodNotFound = -32601, "METHOD_NOT_FOUND";
    /// The params do not decode into the input type (`data.path`, `data.reason`) or break its
    /// validation rules (`data.violations`).
    InvalidParams = -32602, "INVALID_PARAMS";
    /// A bug or an unexpected failure; details stay in the server log.
    Internal = -32603, "INTERNAL";
    /// A request larger than the server accepts (`data.limit`: bytes).
    RequestTooBig = -32007, "REQUEST_TOO_BIG";
    /// A batch larger than the server accepts (`data.limit`: calls).
    BatchTooBig = -32010, "BATCH_TOO_BIG";
    /// No or bad credentials.
    Unauthenticated = -32041, "UNAUTHENTICATED";
    /// Authenticated, but not allowed.
    Forbidden = -32043, "FORBIDDEN";
    /// The call's deadline passed.
    Timeout = -32048, "TIMEOUT";
    /// A concurrent or repeated write conflicts.
    Conflict = -32049, "CONFLICT";
    /// Too many calls; `data.retryAfterMs` says when to retry.
    RateLimited = -32029, "RATE_LIMITED";
    /// The server sheds load.
    Overloaded = -32050, "OVERLOADED";
    /// A dependency is down or the server is draining.
    Unavailable = -32051, "UNAVAILABLE";
    /// A marker inside a subscription, not its end: events after `data.lastEventId` could not
    /// all be delivered (`data.reason`); the subscription goes on live. Refetch.
    EventsMissed = -32052, "EVENTS_MISSED";
    /// Client side only: the request never got an answer.
    Transport = -32099, "TRANSPORT";
}

impl FrameworkCode {
    /// JSON-RPC numbers other servers (jsonrpsee) use for a framework code, besides its own.
    pub const RPC_CODE_ALIASES: &'static [(i32, FrameworkCode)] = &[(-32009, FrameworkCode::Overloaded)];

    /// The framework code a bare JSON-RPC code stands for (used for errors that jsonrpsee
    /// produces itself, without Accord's `data`).
    pub fn from_rpc_code(code: i32) -> Option<Self> {
        let alias = Self::RPC_CODE_ALIASES.iter().find(|(number, _)| *number == code).map(|(_, c)| *c);
        alias.or_else(|| Self::ALL.iter().copied().find(|c| c.rpc_code() == code))
    }

    /// The code's doc comment in this table, as written (one line per doc line).
    pub const fn docs(self) -> &'static str {
        framework_docs(self)
    }
}

impl RpcError {
    /// A framework error with `data: {"code": <name>}`.
    pub fn framework(code: FrameworkCode, message: impl Into<String>) -> Self {
        let mut data = Map::new();
        data.insert("code".into(), Value::String(code.as_str().into()));
        Self { code: code.rpc_code(), message: message.into(), data: Some(Value::Object(data)) }
    }

    /// An `INTERNAL` error with a generic message. Log the cause; never send it.
    pub fn internal() -> Self {
        Self::framework(FrameworkCode::Internal, "internal error")
    }

    /// A `TRANSPORT` error: the call got no answer.
    pub fn transport(message: impl Into<String>) -> Self {
        Self::framework(FrameworkCode::Transport, message)
    }

    /// Adds a field to `data` (turning a missing or non-object `data` into an object).
    pub fn with_data_field(mut self, key: &str, value: impl Into<Value>) -> Self {
        let data = self.data.get_or_insert_with(|| Value::Object(Map::new()));
        if !data.is_object() {
            *data = Value::Object(Map::new());
        }
        if let Value::Object(map) = data {
            map.insert(key.to_owned(), value.into());
        }
        self
    }

    /// The string `data.code`, if present.
    pub fn data_code(&self) -> Option<&str> {
        self.data.as_ref()?.get("code")?.as_str()
    }

    /// The framework code, if this is a framework error (by `data.code`, else by number).
    pub fn framework_code(&self) -> Option<FrameworkCode> {
        match self.data_code() {
            Some(name) => FrameworkCode::from_name(name),
            None => FrameworkCode::from_rpc_code(self.code),
        }
    }

    /// Whether the numeric code lies in the range JSON-RPC reserves for the protocol and
    /// servers (-32768..=-32000), which domain errors never use.
    pub fn is_reserved_code(code: i32) -> bool {
        (-32768..=-32000).contains(&code)
    }
}

/// One domain error a procedure can return: a variant of its `#[accord::error]` enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCase {
    /// The stable string in `data.code`.
    pub code: &'static str,
    /// The JSON-RPC `error.code`.
    pub rpc_code: i32,
    /// The variant's doc comment.
    pub docs: &'static str,
}

/// A procedure's typed error: the user's own enum, made by `#[accord::error]`.
///
/// Each domain variant maps to a stable string code (`data.code`) and a numeric code; the
/// variant marked `#[accord(rpc)]` carries framework and transport errors, so that a remote
/// client can implement the same trait as a local implementation.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an Accord error type",
    label = "a procedure's error must be an #[accord::error] enum",
    note = "add #[accord::error] to the enum (with an `#[accord(rpc)] Rpc(accord::RpcError)` variant), or use `accord::Error` for a procedure without domain errors"
)]
pub trait ProcedureError: From<RpcError> + std::fmt::Display + Send + 'static {
    /// The domain errors this enum can be, in declaration order (the framework variant is not
    /// listed).
    const CASES: &'static [ErrorCase];

    /// The wire form of this error.
    fn into_rpc_error(self) -> RpcError;

    /// Rebuilds the typed error from its wire form; anything that is not one of this enum's
    /// domain errors becomes the framework variant.
    fn from_rpc_error(error: RpcError) -> Self;

    /// The framework error inside, if this is the framework variant.
    fn as_rpc_error(&self) -> Option<&RpcError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_codes_are_outside_domain_space_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in FrameworkCode::ALL {
            assert!(RpcError::is_reserved_code(code.rpc_code()) || code.rpc_code() < -32000);
            assert!(seen.insert(code.rpc_code()), "duplicate {}", code.rpc_code());
            assert_eq!(FrameworkCode::from_name(code.as_str()), Some(*code));
        }
    }

    #[test]
    fn data_fields_are_added_to_an_object() {
        let e = RpcError::framework(FrameworkCode::RateLimited, "slow down").with_data_field("retryAfterMs", 250);
        assert_eq!(e.data, Some(serde_json::json!({"code": "RATE_LIMITED", "retryAfterMs": 250})));
        assert_eq!(e.framework_code(), Some(FrameworkCode::RateLimited));
    }
}
