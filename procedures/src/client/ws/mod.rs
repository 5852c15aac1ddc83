//! The WebSocket transport: every kind of call over one connection that heals itself.
//!
//! Written here rather than taken from jsonrpsee's `WsClient` because that client drops the
//! content of a subscription's closing notification (so a subscriber could not tell a stream
//! that completed from one that failed with a typed error), and cannot reconnect.
//!
//! - **Lazy.** [`WsTransport::new`] connects on first use ([`WsTransport::connect`] at once).
//! - **Keep-alive.** A connection silent for [`TransportOptions::keep_alive`] is pinged
//!   (`rpc.ping`); one that hears nothing at all for two intervals is taken for dead.
//! - **Reconnection.** A dropped, dead or drained connection (close 1001, or subscriptions
//!   ended with `UNAVAILABLE`) is replaced, with exponential backoff, full jitter and a cap.
//!   Every live subscription is resubscribed with the id of the last event it delivered
//!   (`meta.lastEventId`), so a tracked one resumes exactly where it was; the caller's stream
//!   goes on as if nothing happened. When events may have been lost (the server says so, or an
//!   untracked subscription, or one with nothing received yet, was resubscribed), the stream
//!   yields the `EVENTS_MISSED` marker, an `Err` item that is *not* the last one.
//! - **Calls** made while (re)connecting wait for the connection, within their deadline; calls
//!   in flight on a connection that drops fail with `TRANSPORT` (and are retried per the
//!   [`RetryPolicy`](super::RetryPolicy) when safe).
//! - **State.** [`WsTransport::state`] and [`WsTransport::watch_state`]: `Connecting`, `Open`,
//!   `Reconnecting`, `Closed`, for "reconnecting…" indicators.
//! - **Credentials in band.** [`TransportOptions::authorization`] (or `authorize_with`, asked
//!   at each connection) go as the first message (`rpc.authenticate`);
//!   [`WsTransport::authenticate`] refreshes them on the live connection.

mod connection;
mod task;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, watch};

use super::wire;
use super::{ConnectError, TransportOptions, remaining_ms, within};
use crate::{Cx, Item, Method, RpcError, Transport, TransportStream};

/// Items a subscriber has not read yet; a subscriber further behind is cut off with an error
/// rather than letting memory grow.
const SUBSCRIPTION_BUFFER: usize = 1024;

/// The future an [`Authorize`] hook returns.
pub(super) type AuthorizeFuture = Pin<Box<dyn Future<Output = Option<String>> + Send>>;
/// A hook giving the credentials to send at each connection (see
/// [`TransportOptions::authorize_with`]).
pub type Authorize = Arc<dyn Fn() -> AuthorizeFuture + Send + Sync>;

type Items = mpsc::Sender<Result<Item, RpcError>>;
type Answer<T> = oneshot::Sender<Result<T, RpcError>>;

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Not connected yet (a lazy transport before its first use, or the first attempt).
    Connecting,
    /// Connected.
    Open,
    /// The connection was lost; a new one is being made (calls wait, subscriptions resume).
    Reconnecting,
    /// Closed for good ([`WsTransport::close`]): calls fail with `TRANSPORT`.
    Closed,
}

/// Every kind of call over one self-healing WebSocket connection (see the module docs).
///
/// Per-call headers (`Cx::with_header`) are ignored: a WebSocket has headers only on its
/// upgrade request ([`TransportOptions::header`]). Deadlines travel as `meta.timeoutMs`.
#[derive(Debug)]
pub struct WsTransport {
    commands: mpsc::UnboundedSender<Command>,
    next_id: Arc<AtomicU64>,
    state: watch::Receiver<ConnectionState>,
    options: TransportOptions,
}

#[derive(Debug)]
pub(super) enum Command {
    Call {
        id: u64,
        text: String,
        answer: Answer<Box<RawValue>>,
    },
    Subscribe(connection::NewSubscription),
    /// The caller of `id` stopped waiting for its answer.
    Abandon(u64),
    /// The stream of subscription `id` was dropped.
    Unsubscribe(u64),
    /// New credentials: sent now, and at every later connection.
    Authenticate {
        authorization: String,
        answer: Answer<Box<RawValue>>,
    },
    /// Connect now (an eager [`WsTransport::connect`]).
    Connect,
    Close,
}

impl WsTransport {
    /// A transport for `url` (`ws://host:port/rpc`) that connects on first use.
    pub fn new(url: &str) -> Result<Self, ConnectError> {
        Self::with_options(url, TransportOptions::default())
    }

    /// A transport for `url` with `options` that connects on first use.
    pub fn with_options(url: &str, options: TransportOptions) -> Result<Self, ConnectError> {
        let request = task::upgrade_request(url, &options)?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let (state_tx, state) = watch::channel(ConnectionState::Connecting);
        let next_id = Arc::new(AtomicU64::new(1));
        tokio::spawn(task::run(request, options.clone(), receiver, next_id.clone(), state_tx));
        Ok(Self { commands, next_id, state, options })
    }

    /// Connects to `url` now with default options; fails if that first attempt fails (later
    /// losses reconnect by themselves).
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with_options(url, TransportOptions::default()).await
    }

    /// Connects to `url` now with `options` (headers go with the upgrade request).
    pub async fn connect_with_options(url: &str, options: TransportOptions) -> Result<Self, ConnectError> {
        let transport = Self::with_options(url, options)?;
        let _ = transport.commands.send(Command::Connect);
        let mut state = transport.state.clone();
        let first = tokio::time::timeout(
            transport.options.request_timeout,
            state.wait_for(|state| *state != ConnectionState::Connecting),
        )
        .await;
        let first = first.map(|state| state.map(|state| *state));
        match first {
            Ok(Ok(ConnectionState::Open)) => Ok(transport),
            Err(_) => Err(ConnectError::new(url, "no answer to the WebSocket upgrade in time")),
            _ => Err(ConnectError::new(url, "could not connect")),
        }
    }

    /// The connection's state now.
    pub fn state(&self) -> ConnectionState {
        *self.state.borrow()
    }

    /// Every change of the connection's state.
    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Whether the connection is open now.
    pub fn is_connected(&self) -> bool {
        self.state() == ConnectionState::Open
    }

    /// Sends new credentials (`rpc.authenticate`) now and at every later connection; the
    /// server's answer (`{"subject": ...}`) or its refusal (`UNAUTHENTICATED`).
    pub async fn authenticate(&self, authorization: impl Into<String>) -> Result<Box<RawValue>, RpcError> {
        let (answer, answered) = oneshot::channel();
        let authorization = authorization.into();
        self.commands.send(Command::Authenticate { authorization, answer }).map_err(|_| closed())?;
        let deadline = std::time::Instant::now() + self.options.request_timeout;
        within(deadline, async { answered.await.unwrap_or_else(|_| Err(closed())) }).await
    }

    /// Closes the connection for good: pending calls and open subscriptions end with
    /// `TRANSPORT`.
    pub fn close(&self) {
        let _ = self.commands.send(Command::Close);
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// One attempt of a call: sent, then awaited until answered or abandoned.
    async fn send(
        &self,
        method: Method,
        params: Option<&RawValue>,
        timeout_ms: u64,
    ) -> Result<Box<RawValue>, RpcError> {
        let id = self.next_id();
        let text = wire::request(id, method.name, params, Some(timeout_ms));
        let (answer, answered) = oneshot::channel();
        self.commands.send(Command::Call { id, text, answer }).map_err(|_| closed())?;
        let waiting = Waiting { commands: &self.commands, id: Some(id) };
        let outcome = answered.await.unwrap_or_else(|_| Err(closed()));
        waiting.answered();
        outcome
    }
}

/// Tells the task when a caller stops waiting before its answer came (dropped on timeout).
struct Waiting<'a> {
    commands: &'a mpsc::UnboundedSender<Command>,
    id: Option<u64>,
}

impl Waiting<'_> {
    fn answered(mut self) {
        self.id = None;
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let _ = self.commands.send(Command::Abandon(id));
        }
    }
}

pub(super) fn closed() -> RpcError {
    wire::transport("the WebSocket transport is closed", None)
}

impl Transport for WsTransport {
    async fn call(&self, method: Method, params: Option<Box<RawValue>>, cx: &Cx) -> Result<Box<RawValue>, RpcError> {
        let deadline = self.options.deadline(cx);
        let retry = self.options.retry_for(cx);
        within(deadline, async {
            retry.run(method, deadline, |_| self.send(method, params.as_deref(), remaining_ms(deadline))).await
        })
        .await
    }

    async fn subscribe(
        &self,
        method: &'static str,
        unsubscribe: &'static str,
        params: Option<Box<RawValue>>,
        cx: &Cx,
    ) -> Result<TransportStream, RpcError> {
        let id = self.next_id();
        let (answer, answered) = oneshot::channel();
        let (items, received) = mpsc::channel(SUBSCRIPTION_BUFFER);
        let last_event_id = cx.last_event_id().cloned();
        let subscription =
            connection::NewSubscription { id, method, unsubscribe, params, last_event_id, answer, items };
        self.commands.send(Command::Subscribe(subscription)).map_err(|_| closed())?;
        // On timeout `answered` is dropped: the task unsubscribes when the answer comes.
        let accepted = within(self.options.deadline(cx), async { answered.await.unwrap_or_else(|_| Err(closed())) });
        if let Err(error) = accepted.await {
            let _ = self.commands.send(Command::Unsubscribe(id));
            return Err(error);
        }
        Ok(Box::pin(Subscription { received, unsubscribe: Some((self.commands.clone(), id)) }))
    }
}

/// A subscription's items; dropping it unsubscribes.
struct Subscription {
    received: mpsc::Receiver<Result<Item, RpcError>>,
    unsubscribe: Option<(mpsc::UnboundedSender<Command>, u64)>,
}

impl futures_core::Stream for Subscription {
    type Item = Result<Item, RpcError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.received.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some((commands, id)) = self.unsubscribe.take() {
            let _ = commands.send(Command::Unsubscribe(id));
        }
    }
}
