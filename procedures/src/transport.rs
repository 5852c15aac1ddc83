//! The client side: a [`Transport`] moves raw JSON-RPC calls; the generated `<Trait>Client`
//! uses [`call`] and [`subscribe`] to turn typed inputs into typed outputs and errors over it.
//!
//! The trait is here, free of any runtime, so that an API crate can offer its client type
//! without pulling in tokio; the HTTP and WebSocket transports live in [`crate::client`] behind
//! the `client` feature.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::{Cx, Item, Kind, ProcedureError, RpcError, Tracked};

/// The procedure a call goes to, as a transport needs to know it: where to send the call, and
/// whether sending it again after a failure is safe (for retries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method {
    /// The wire name, `namespace.method`.
    pub name: &'static str,
    /// [`Kind::Query`] or [`Kind::Mutation`] (subscriptions go through [`Transport::subscribe`]).
    pub kind: Kind,
    /// Declared `#[mutation(idempotent)]`.
    pub idempotent: bool,
}

impl Method {
    /// A query named `name`.
    pub const fn query(name: &'static str) -> Self {
        Self { name, kind: Kind::Query, idempotent: false }
    }

    /// A mutation named `name` (not idempotent).
    pub const fn mutation(name: &'static str) -> Self {
        Self { name, kind: Kind::Mutation, idempotent: false }
    }

    /// Whether the server may run the call twice without harm: queries, and mutations declared
    /// idempotent. Only such calls are retried after a failure that may have reached the server.
    pub const fn retry_safe(&self) -> bool {
        matches!(self.kind, Kind::Query) || self.idempotent
    }
}

/// Raw subscription items as a transport delivers them. An `Err` item is the last one, except
/// the `EVENTS_MISSED` marker ([`RpcError::is_events_missed`]).
pub type TransportStream = Pin<Box<dyn Stream<Item = Result<Item, RpcError>> + Send>>;

/// Moves JSON-RPC calls to a server and back.
///
/// Errors are [`RpcError`]s: the server's error object as received, or a `TRANSPORT` /
/// `TIMEOUT` error the transport made itself.
pub trait Transport: Send + Sync {
    /// Sends a query or mutation and waits for its result.
    fn call(
        &self,
        method: Method,
        params: Option<Box<RawValue>>,
        cx: &Cx,
    ) -> impl Future<Output = Result<Box<RawValue>, RpcError>> + Send;

    /// Opens a subscription. The stream ends when the server completes it; an `Err` item is
    /// the last one, except the `EVENTS_MISSED` marker. A `cx` with
    /// [`Cx::with_last_event_id`] asks a tracked subscription to resume after that event.
    fn subscribe(
        &self,
        method: &'static str,
        unsubscribe: &'static str,
        params: Option<Box<RawValue>>,
        cx: &Cx,
    ) -> impl Future<Output = Result<TransportStream, RpcError>> + Send;
}

/// Calls `method` with `input` and decodes the typed result or error.
pub async fn call<T, I, O, E>(transport: &T, method: Method, cx: &Cx, input: Option<&I>) -> Result<O, E>
where
    T: Transport,
    I: crate::WireType,
    O: crate::WireType,
    E: ProcedureError,
{
    let params = encode::<I, E>(input)?;
    match transport.call(method, params, cx).await {
        Ok(raw) => decode(&raw),
        Err(error) => Err(E::from_rpc_error(error)),
    }
}

/// Subscribes to `method` and decodes each item.
pub async fn subscribe<T, I, O, E>(
    transport: &T,
    method: &'static str,
    unsubscribe: &'static str,
    cx: &Cx,
    input: Option<&I>,
) -> Result<crate::Stream<O, E>, E>
where
    T: Transport,
    I: crate::WireType,
    O: crate::WireType,
    E: ProcedureError,
{
    subscribe_decoded(transport, method, unsubscribe, cx, input, |item| decode(&item.value)).await
}

/// Subscribes to a tracked subscription `method`: each item comes with its [`crate::EventId`].
pub async fn subscribe_tracked<T, I, O, E>(
    transport: &T,
    method: &'static str,
    unsubscribe: &'static str,
    cx: &Cx,
    input: Option<&I>,
) -> Result<crate::Stream<Tracked<O>, E>, E>
where
    T: Transport,
    I: crate::WireType,
    O: crate::WireType,
    E: ProcedureError,
{
    subscribe_decoded(transport, method, unsubscribe, cx, input, decode_tracked).await
}

async fn subscribe_decoded<T, I, O, E>(
    transport: &T,
    method: &'static str,
    unsubscribe: &'static str,
    cx: &Cx,
    input: Option<&I>,
    decode: fn(Item) -> Result<O, E>,
) -> Result<crate::Stream<O, E>, E>
where
    T: Transport,
    I: crate::WireType,
    O: Send + 'static,
    E: ProcedureError,
{
    let params = encode::<I, E>(input)?;
    match transport.subscribe(method, unsubscribe, params, cx).await {
        Ok(raw) => Ok(Box::pin(Decoded::<O, E> { raw, decode, _types: PhantomData })),
        Err(error) => Err(E::from_rpc_error(error)),
    }
}

fn decode_tracked<O: DeserializeOwned, E: ProcedureError>(item: Item) -> Result<Tracked<O>, E> {
    let Some(id) = item.event_id else {
        return Err(E::from(RpcError::transport("a tracked subscription's item came without its eventId")));
    };
    Ok(Tracked { id, value: decode::<O, E>(&item.value)? })
}

fn encode<I: Serialize, E: ProcedureError>(input: Option<&I>) -> Result<Option<Box<RawValue>>, E> {
    input.map(serde_json::value::to_raw_value).transpose().map_err(|e| {
        E::from(RpcError::framework(crate::FrameworkCode::InvalidParams, format!("could not encode the input: {e}")))
    })
}

fn decode<O: DeserializeOwned, E: ProcedureError>(raw: &RawValue) -> Result<O, E> {
    serde_json::from_str(raw.get()).map_err(|e| {
        // The server answered with something this client's types do not describe: the two
        // were built from different versions of the API.
        E::from(RpcError::transport(format!("the server's answer does not match this client's types: {e}")))
    })
}

struct Decoded<O, E> {
    raw: TransportStream,
    decode: fn(Item) -> Result<O, E>,
    _types: PhantomData<fn() -> (O, E)>,
}

impl<O, E: ProcedureError> Stream for Decoded<O, E> {
    type Item = Result<O, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let decode = self.decode;
        self.raw.as_mut().poll_next(cx).map(|item| {
            item.map(|item| match item {
                Ok(item) => decode(item),
                Err(error) => Err(E::from_rpc_error(error)),
            })
        })
    }
}
