//! The per-call stack: every call, whether it came alone over HTTP, inside a batch or on a
//! WebSocket, goes through the same layers, in one fixed order. A batch fans out to the stack
//! entry by entry (`dispatch`), so no layer, the app's own included, can be skipped by batching.
//!
//! Outermost first:
//!
//! 1. **observe** ([`observe`]): the call's span, its metrics and its access-log line. Outermost,
//!    so it sees every outcome, refusals included.
//! 2. **authenticate** ([`authenticate`]): the caller may make this call at all (a subscription
//!    needs a WebSocket; credentials presented must be valid and unexpired; a procedure declared
//!    `authenticated` needs a signed-in caller).
//! 3. **rate limits** ([`rate_limits`]): the procedure's own rule, then the server-wide one.
//! 4. **admission** ([`admission`]): a server-wide and a per-procedure in-flight slot, or
//!    `OVERLOADED` at once. A cheap refusal above never costs a slot.
//! 5. **guard** ([`guard`]): the deadline (the tightest of the procedure's timeout, the HTTP
//!    request's `x-accord-timeout-ms` and the call's `meta.timeoutMs`) and the panic guard.
//! 6. **the app's layers**, added with [`ServerBuilder::call_layer`](crate::ServerBuilder::call_layer)
//!    (first added, outermost): inside the guard, so their panics and their time are covered.
//! 7. **the procedure** ([`endpoint`]).
//!
//! Each layer is a [`CallService`] that wraps the next one, the shape tower gives HTTP layers;
//! the stack is composed once, when the server is built, and called through one boxed future
//! per call. What a batch's entries share (the caller's address, its authentication, the
//! request's extensions) is worked out once per HTTP request or WebSocket (`caller`), not per
//! call.
//!
//! # An app's own layer
//!
//! A [`tower::Layer`] whose service implements [`CallService`]:
//!
//! ```
//! use accord::{FrameworkCode, RpcError};
//! use accord_server::call::{Call, CallService, Reply};
//!
//! /// Refuses every procedure under `admin.` to callers without the `admin` role.
//! #[derive(Clone, Copy)]
//! struct AdminOnly;
//!
//! impl<S> tower::Layer<S> for AdminOnly {
//!     type Service = AdminOnlyService<S>;
//!     fn layer(&self, inner: S) -> Self::Service {
//!         AdminOnlyService(inner)
//!     }
//! }
//!
//! struct AdminOnlyService<S>(S);
//!
//! impl<S: CallService> CallService for AdminOnlyService<S> {
//!     async fn call(&self, call: Call<'_>) -> Result<Reply, RpcError> {
//!         let admin = call.cx().identity().is_some_and(|identity| identity.has_role("admin"));
//!         if call.method().starts_with("admin.") && !admin {
//!             return Err(RpcError::framework(FrameworkCode::Forbidden, "admins only"));
//!         }
//!         self.0.call(call).await
//!     }
//! }
//!
//! # async fn serve(builder: accord_server::ServerBuilder) -> Result<(), accord_server::ServeError> {
//! let server = builder.call_layer(AdminOnly).serve("127.0.0.1:3000").await?;
//! # Ok(()) }
//! ```

pub mod admission;
pub mod authenticate;
pub mod endpoint;
pub mod guard;
pub mod observe;
pub mod rate_limits;

use std::future::Future;
use std::pin::Pin;

use accord::{Cx, ItemStream, Kind, RpcError};
use serde_json::value::RawValue;

use crate::auth::Authentication;
use crate::caller::{Caller, Transport};
use crate::pipeline::Procedure;
use crate::protocol;

/// One call on its way through the stack: which procedure, its raw params, and the [`Cx`] the
/// procedure will be given (layers may add to it).
pub struct Call<'a> {
    pub(crate) procedure: &'a Procedure,
    pub(crate) caller: &'a Caller,
    pub(crate) request: &'a protocol::Call<'a>,
    pub(crate) batch_size: Option<usize>,
    /// The caller's authentication when the call arrived (a WebSocket's may change later).
    pub(crate) authentication: Authentication,
    pub(crate) cx: Cx,
}

impl<'a> Call<'a> {
    /// The procedure's wire name (`users.get`).
    pub fn method(&self) -> &'static str {
        self.procedure.name
    }

    /// Query, mutation or subscription.
    pub fn kind(&self) -> Kind {
        self.procedure.kind
    }

    /// The call's `params`, as sent (`None` when absent or `null`); the procedure decodes and
    /// validates them.
    pub fn params(&self) -> Option<&'a RawValue> {
        self.request.params
    }

    /// The context the procedure will be given: request id, identity, deadline (once the guard
    /// has set it), the request's extensions.
    pub fn cx(&self) -> &Cx {
        &self.cx
    }

    /// The context, to add a value for the procedure ([`Cx::extensions_mut`]) or shorten the
    /// deadline ([`Cx::set_deadline`]: the guard's timer does not move, the procedure sees it).
    pub fn cx_mut(&mut self) -> &mut Cx {
        &mut self.cx
    }

    /// How many calls the batch this one came in held; `None` when it came alone.
    pub fn batch_size(&self) -> Option<usize> {
        self.batch_size
    }

    /// Whether the call came on a WebSocket (else over HTTP).
    pub fn is_websocket(&self) -> bool {
        self.caller.transport == Transport::WebSocket
    }
}

impl std::fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call").field("method", &self.method()).field("batch_size", &self.batch_size).finish()
    }
}

/// What a call came to when it succeeded.
pub enum Reply {
    /// A query's or mutation's result, serialised once by the procedure.
    Value(Box<RawValue>),
    /// A subscription's items, forwarded on the WebSocket.
    Items(ItemStream),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Value(value) => f.debug_tuple("Value").field(value).finish(),
            Reply::Items(_) => f.write_str("Items(..)"),
        }
    }
}

/// A step of the per-call stack: it gets the call and decides what to do with it, usually
/// handing it to the service it wraps. See the [module docs](self).
pub trait CallService: Send + Sync + 'static {
    /// Runs the call. An error is answered as is (the server adds `data.requestId`).
    fn call<'a>(&'a self, call: Call<'a>) -> impl Future<Output = Result<Reply, RpcError>> + Send + 'a;
}

/// The future of a type-erased stack.
pub(crate) type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<Reply, RpcError>> + Send + 'a>>;

/// A [`CallService`] behind a pointer: the composed stack, called once per call.
pub(crate) trait DynCallService: Send + Sync + 'static {
    fn call_boxed<'a>(&'a self, call: Call<'a>) -> CallFuture<'a>;
}

impl<S: CallService> DynCallService for S {
    fn call_boxed<'a>(&'a self, call: Call<'a>) -> CallFuture<'a> {
        Box::pin(self.call(call))
    }
}

/// The built-in layers around `app` (the app's layers around the endpoint), in the documented
/// order, behind one pointer.
pub(crate) fn stack<S: CallService>(
    app: S,
    rate_limiter: Option<crate::rate_limit::RateLimiter>,
    global_rate_limit: Option<crate::CallerKey>,
    in_flight: std::sync::Arc<tokio::sync::Semaphore>,
    access_log: crate::AccessLog,
) -> Box<dyn DynCallService> {
    let guarded = guard::Guard::new(app);
    let admitted = admission::Admission::new(in_flight, guarded);
    let limited = rate_limits::RateLimits::new(rate_limiter, global_rate_limit, admitted);
    let authenticated = authenticate::Authenticate::new(limited);
    Box::new(observe::Observe::new(access_log, authenticated))
}

#[cfg(test)]
mod tests;
