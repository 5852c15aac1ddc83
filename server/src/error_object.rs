//! From Accord's error model to jsonrpsee's error objects.

use accord::RpcError;
use jsonrpsee::types::ErrorObjectOwned;

/// The JSON-RPC error object for an [`RpcError`].
pub fn to_error_object(error: RpcError) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(error.code, error.message, error.data)
}
