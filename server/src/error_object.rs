//! From Accord's error model to jsonrpsee's error objects.

use accord::{RequestId, RpcError};
use jsonrpsee::types::ErrorObjectOwned;

/// The JSON-RPC error object for an [`RpcError`].
pub fn to_error_object(error: RpcError) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(error.code, error.message, error.data)
}

/// Adds the call's request id to an error's `data`, as every error the server sends carries it.
pub(crate) fn with_request_id(error: RpcError, request_id: Option<&RequestId>) -> RpcError {
    match request_id {
        Some(id) => error.with_data_field("requestId", id.as_str()),
        None => error,
    }
}
