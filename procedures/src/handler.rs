//! Type-erased procedure handlers: an implementation of a procedures trait, bound and ready
//! for a server to route JSON-RPC calls to.
//!
//! The macro builds one [`Handler`] per procedure; the server only ever sees raw JSON in and
//! raw JSON (or an [`RpcError`]) out, so it needs no knowledge of the user's types.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_core::Stream;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::{Cx, Description, ProcedureDescription, ProcedureError, RpcError};

/// The future of a query or mutation: the serialized output, or the error object.
pub type CallFuture = Pin<Box<dyn Future<Output = Result<Box<RawValue>, RpcError>> + Send>>;
/// A subscription's items, serialized. An `Err` item ends the stream with that error, except
/// the `EVENTS_MISSED` marker ([`RpcError::is_events_missed`]), which the stream goes on after.
pub type ItemStream = Pin<Box<dyn Stream<Item = Result<Item, RpcError>> + Send>>;

/// One serialized subscription item, as a server sends it and a transport receives it.
#[derive(Clone, Debug)]
pub struct Item {
    /// The item (`params.result` on the wire).
    pub value: Box<RawValue>,
    /// Its id, for a tracked subscription (`params.eventId`).
    pub event_id: Option<crate::EventId>,
}

impl Item {
    /// An item without an id (an untracked subscription's).
    pub fn untracked(value: Box<RawValue>) -> Self {
        Self { value, event_id: None }
    }
}
/// The future of a subscription: its item stream, or the error that refused it.
pub type SubscribeFuture = Pin<Box<dyn Future<Output = Result<ItemStream, RpcError>> + Send>>;

type CallFn = dyn Fn(Cx, Option<&str>) -> CallFuture + Send + Sync;
type SubscribeFn = dyn Fn(Cx, Option<&str>) -> SubscribeFuture + Send + Sync;

/// One procedure of a bound implementation.
#[derive(Clone)]
pub enum Handler {
    /// A query or mutation: `params` in, one result out.
    Call(Arc<CallFn>),
    /// A subscription: `params` in, a stream of items out.
    Subscribe(Arc<SubscribeFn>),
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Handler::Call(_) => "Handler::Call",
            Handler::Subscribe(_) => "Handler::Subscribe",
        })
    }
}

/// An implementation bound to its API's description: what a server mounts.
#[derive(Clone, Debug)]
pub struct Handlers {
    description: Description,
    handlers: Vec<Handler>,
}

impl Handlers {
    /// Pairs a description with one handler per procedure, in the description's order.
    ///
    /// Called by generated code, which produces both lists from the same trait.
    #[doc(hidden)]
    pub fn new(description: Description, handlers: Vec<Handler>) -> Self {
        debug_assert_eq!(description.procedures.len(), handlers.len());
        Self { description, handlers }
    }

    /// The API's description.
    pub fn description(&self) -> &Description {
        &self.description
    }

    /// Each procedure with its handler.
    pub fn iter(&self) -> impl Iterator<Item = (&ProcedureDescription, &Handler)> {
        self.description.procedures.iter().zip(&self.handlers)
    }
}

/// Wraps a query or mutation method. `decode` turns params into the input (or refuses them).
pub fn call_handler<I, O, E, F, Fut>(decode: fn(Option<&str>) -> Result<I, RpcError>, method: F) -> Handler
where
    I: Send + 'static,
    O: crate::WireType,
    E: ProcedureError,
    F: Fn(Cx, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
{
    Handler::Call(Arc::new(move |cx, params| match decode(params) {
        Err(error) => Box::pin(std::future::ready(Err(error))),
        Ok(input) => {
            let call = method(cx, input);
            Box::pin(async move {
                match call.await {
                    Ok(output) => serialize(&output),
                    Err(error) => Err(error.into_rpc_error()),
                }
            })
        }
    }))
}

/// Wraps a subscription method.
pub fn subscribe_handler<I, T, E, F, Fut>(decode: fn(Option<&str>) -> Result<I, RpcError>, method: F) -> Handler
where
    I: Send + 'static,
    T: crate::WireType,
    E: ProcedureError,
    F: Fn(Cx, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<crate::Stream<T, E>, E>> + Send + 'static,
{
    stream_handler(decode, method, |value: T| serialize(&value).map(Item::untracked))
}

/// Wraps a tracked subscription method: each item goes out with its [`crate::EventId`].
pub fn tracked_subscribe_handler<I, T, E, F, Fut>(decode: fn(Option<&str>) -> Result<I, RpcError>, method: F) -> Handler
where
    I: Send + 'static,
    T: crate::WireType,
    E: ProcedureError,
    F: Fn(Cx, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<crate::Stream<crate::Tracked<T>, E>, E>> + Send + 'static,
{
    stream_handler(decode, method, |tracked: crate::Tracked<T>| {
        serialize(&tracked.value).map(|value| Item { value, event_id: Some(tracked.id) })
    })
}

/// A subscription handler whose typed items become wire items with `item`.
fn stream_handler<I, T, E, F, Fut>(
    decode: fn(Option<&str>) -> Result<I, RpcError>,
    method: F,
    item: fn(T) -> Result<Item, RpcError>,
) -> Handler
where
    I: Send + 'static,
    T: Send + 'static,
    E: ProcedureError,
    F: Fn(Cx, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<crate::Stream<T, E>, E>> + Send + 'static,
{
    Handler::Subscribe(Arc::new(move |cx, params| match decode(params) {
        Err(error) => Box::pin(std::future::ready(Err(error))),
        Ok(input) => {
            let subscribe = method(cx, input);
            Box::pin(async move {
                let items = subscribe.await.map_err(E::into_rpc_error)?;
                Ok(Box::pin(Items { inner: items, item }) as ItemStream)
            })
        }
    }))
}

/// Serializes each item of a typed stream with `item`.
struct Items<T, E> {
    inner: crate::Stream<T, E>,
    item: fn(T) -> Result<Item, RpcError>,
}

impl<T, E: ProcedureError> Stream for Items<T, E> {
    type Item = Result<Item, RpcError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
        let this = &mut *self;
        this.inner.as_mut().poll_next(cx).map(|item| {
            item.map(|item| match item {
                Ok(value) => (this.item)(value),
                Err(error) => Err(error.into_rpc_error()),
            })
        })
    }
}

fn serialize<T: Serialize>(value: &T) -> Result<Box<RawValue>, RpcError> {
    serde_json::value::to_raw_value(value).map_err(|error| {
        // A type whose Serialize impl fails (e.g. a map with non-string keys) is a bug in the
        // API, not the caller's fault: log it, send INTERNAL.
        tracing::error!(%error, output = std::any::type_name::<T>(), "could not serialize a procedure's output");
        RpcError::internal()
    })
}
