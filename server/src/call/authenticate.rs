//! Layer 2: whether the caller may make this call at all. A subscription needs a WebSocket;
//! credentials that were presented must have been accepted and must not have expired since
//! (a WebSocket outlives them); a procedure declared `authenticated` needs a signed-in caller.
//! The caller was authenticated once per HTTP request or WebSocket (`caller`); this only reads
//! the outcome.

use accord::{FrameworkCode, Kind, RpcError};

use super::{Call, CallService, Reply};
use crate::auth::{self, Authentication};
use crate::caller::Transport;

/// See the module docs.
pub struct Authenticate<S> {
    inner: S,
}

impl<S> Authenticate<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S: CallService> CallService for Authenticate<S> {
    async fn call(&self, call: Call<'_>) -> Result<Reply, RpcError> {
        check(&call)?;
        self.inner.call(call).await
    }
}

fn check(call: &Call<'_>) -> Result<(), RpcError> {
    if call.procedure.kind == Kind::Subscription && call.caller.transport != Transport::WebSocket {
        return Err(RpcError::framework(
            FrameworkCode::InvalidRequest,
            "subscriptions are served over WebSocket only: connect to ws://.../rpc",
        ));
    }
    match &call.authentication {
        Authentication::Refused(error) => Err(error.clone()),
        Authentication::Authenticated(identity) if identity.is_expired() => Err(auth::revoked()),
        Authentication::Authenticated(_) => Ok(()),
        Authentication::Anonymous if call.procedure.authenticated => {
            Err(RpcError::framework(FrameworkCode::Unauthenticated, "this procedure needs a signed-in caller"))
        }
        Authentication::Anonymous => Ok(()),
    }
}
