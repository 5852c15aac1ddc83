//! The innermost step: the procedure's handler, given the call's [`Cx`](accord::Cx) and raw
//! params (it decodes and validates them, and serialises its result once).

use accord::{Handler, RpcError};

use super::{Call, CallService, Reply};

/// See the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Endpoint;

impl CallService for Endpoint {
    async fn call(&self, call: Call<'_>) -> Result<Reply, RpcError> {
        let params = call.request.params.map(serde_json::value::RawValue::get);
        match &call.procedure.handler {
            Handler::Call(handler) => handler(call.cx, params).await.map(Reply::Value),
            Handler::Subscribe(handler) => handler(call.cx, params).await.map(Reply::Items),
        }
    }
}
