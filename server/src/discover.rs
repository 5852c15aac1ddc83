//! `rpc.discover`, OpenRPC's service discovery method: it answers the OpenRPC document of the
//! mounted APIs, the very document `accord-bindings` writes as `openrpc.json` (both are built
//! by `accord::openrpc` from the same descriptions), plus the configured `servers`.
//!
//! The document is rendered once, when the server is built, and served as raw JSON. The
//! method goes through the call pipeline like any procedure (rate limits, metrics, access log),
//! and can be turned off with [`ServerBuilder::without_discovery`](crate::ServerBuilder::without_discovery).

use std::sync::Arc;

use accord::openrpc::{Info, OpenRpcError};
use accord::{Description, Handler, Kind, ProcedureDescription, ProcedureName, TypeDescription};
use serde_json::value::RawValue;

/// `rpc.discover`, for a policy: `builder.procedure(DISCOVER, Policy::new().rate_limit(..))`.
pub const DISCOVER: ProcedureName = ProcedureName::new("rpc.discover");

/// The handler answering `document` to every call without params.
pub(crate) fn handler(apis: &[Description], info: &Info) -> Result<Handler, OpenRpcError> {
    let document = accord::openrpc::document(apis, info)?;
    // A `Value` always serializes; the fallback keeps this path free of panics all the same.
    let document: Box<RawValue> =
        serde_json::value::to_raw_value(&document).unwrap_or_else(|_| RawValue::NULL.to_owned());
    Ok(Handler::Call(Arc::new(move |_cx, params| {
        let answer = accord::__private::decode_no_input(params).map(|()| document.clone());
        Box::pin(std::future::ready(answer))
    })))
}

/// How the pipeline sees the method: a query without input, open to anyone.
pub(crate) fn description() -> ProcedureDescription {
    ProcedureDescription {
        name: DISCOVER.as_str(),
        unsubscribe: None,
        method: "discover",
        rust_name: "discover",
        kind: Kind::Query,
        docs: "The OpenRPC document of this server.",
        deprecated: false,
        authenticated: false,
        idempotent: false,
        tracked: false,
        input: None,
        output: TypeDescription::of::<()>(),
        error: TypeDescription::of::<accord::Error>(),
        errors: &[],
    }
}
