//! [`Error`]: the ready-made error of procedures that have no domain errors of their own.

use crate::RpcError;

/// The error of a procedure with no domain errors: it fails only with framework and transport
/// errors (`TIMEOUT`, `UNAUTHENTICATED`, `INTERNAL`...), carried as an [`RpcError`]. It saves
/// writing an `#[accord::error]` enum with nothing but an `Rpc` variant; in TypeScript the
/// procedure's domain error union is `never`.
///
/// ```
/// use accord::{Cx, Error, FrameworkCode, RpcError};
///
/// #[accord::procedures(namespace = "clock")]
/// pub trait Clock {
///     /// Milliseconds since the epoch, as a string.
///     #[query]
///     async fn now(&self, cx: &Cx) -> Result<String, Error>;
/// }
///
/// struct SystemClock;
///
/// impl Clock for SystemClock {
///     async fn now(&self, cx: &Cx) -> Result<String, Error> {
///         let since = std::time::UNIX_EPOCH.elapsed()
///             .map_err(|_| RpcError::framework(FrameworkCode::Unavailable, "the clock is before 1970"))?;
///         Ok(since.as_millis().to_string())
///     }
/// }
/// ```
///
/// Give a procedure its own `#[accord::error]` enum when it gains a domain error: the wire
/// format of every error it already returns stays the same.
#[crate::error]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// A framework or transport error.
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

impl Error {
    /// The wire error inside.
    pub fn rpc_error(&self) -> &RpcError {
        let Error::Rpc(error) = self;
        error
    }
}

impl From<Error> for RpcError {
    fn from(error: Error) -> Self {
        let Error::Rpc(error) = error;
        error
    }
}
