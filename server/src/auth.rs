//! Authentication: a pluggable [`Authenticator`] turns an HTTP request (or a WebSocket's
//! upgrade request) into an [`Identity`], once per request or connection, never per call.
//!
//! A WebSocket is re-authenticated every
//! [`Limits::reauthenticate_every`](crate::Limits::reauthenticate_every) (default 5 s) with its
//! upgrade request, and an identity given an expiry (`Identity::with_expiry`) ends at that
//! instant: a session revoked or expired while the socket stays open stops working within that
//! bound, its calls answered `UNAUTHENTICATED` and the subscriptions opened with it ended.
//!
//! A WebSocket may also send its credentials in band, as its first message
//! (`rpc.authenticate {"authorization": "..."}`, `websocket/authenticate.rs`): the
//! authenticator then sees the upgrade request with that `Authorization` header, and so does
//! every later re-authentication.
//!
//! Whether a procedure needs an identity is declared in the trait (`#[query(authenticated)]`)
//! and enforced by the per-call stack (`call::authenticate`), so it holds for batch entries and WebSocket calls too.
//! Finer checks (roles, ownership) belong in the procedure: `cx.require_identity()?` and a
//! `FORBIDDEN` error.

use std::future::Future;
use std::pin::Pin;

use accord::{FrameworkCode, Identity, RpcError};

/// Recognises callers.
///
/// ```
/// use accord::{FrameworkCode, Identity, RpcError};
/// use accord_server::Authenticator;
///
/// /// Accepts `Authorization: Bearer <token>` with one known token.
/// struct StaticToken;
///
/// impl Authenticator for StaticToken {
///     async fn authenticate(&self, request: &http::request::Parts) -> Result<Option<Identity>, RpcError> {
///         let Some(value) = request.headers.get(http::header::AUTHORIZATION) else {
///             return Ok(None); // anonymous: allowed where no identity is required
///         };
///         match value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
///             Some("s3cret") => Ok(Some(Identity::new("ada").with_roles(["admin"]))),
///             _ => Err(RpcError::framework(FrameworkCode::Unauthenticated, "unknown token")),
///         }
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// `Ok(None)`: no credentials (anonymous). `Ok(Some(_))`: recognised. `Err(_)`: credentials
    /// were presented and are wrong; every call on that request or connection then fails with
    /// this error (use `UNAUTHENTICATED`), so a client never silently runs as anonymous.
    fn authenticate(
        &self,
        request: &http::request::Parts,
    ) -> impl Future<Output = Result<Option<Identity>, RpcError>> + Send;
}

/// The outcome of authentication, stored in the request's extensions for every call.
#[derive(Clone, Debug)]
pub(crate) enum Authentication {
    Anonymous,
    Authenticated(Identity),
    Refused(RpcError),
}

type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<Identity>, RpcError>> + Send + 'a>>;

/// The error calls get once the identity they ran as is gone.
pub(crate) fn revoked() -> RpcError {
    RpcError::framework(
        FrameworkCode::Unauthenticated,
        "the session ended (signed out, revoked or expired); sign in again",
    )
}

/// Runs the authenticator (if any) on a request; an identity already expired is refused.
pub(crate) async fn authenticate(
    authenticator: Option<&dyn DynAuthenticator>,
    request: &http::request::Parts,
) -> Authentication {
    let Some(authenticator) = authenticator else { return Authentication::Anonymous };
    match authenticator.authenticate_boxed(request).await {
        Ok(Some(identity)) if identity.is_expired() => Authentication::Refused(revoked()),
        Ok(Some(identity)) => Authentication::Authenticated(identity),
        Ok(None) => Authentication::Anonymous,
        Err(error) => Authentication::Refused(error),
    }
}

/// Object-safe form of [`Authenticator`], so the server can hold any one behind an `Arc`.
pub(crate) trait DynAuthenticator: Send + Sync + 'static {
    fn authenticate_boxed<'a>(&'a self, request: &'a http::request::Parts) -> AuthFuture<'a>;
}

impl<A: Authenticator> DynAuthenticator for A {
    fn authenticate_boxed<'a>(&'a self, request: &'a http::request::Parts) -> AuthFuture<'a> {
        Box::pin(self.authenticate(request))
    }
}
