//! The WebSocket transport: every kind of call over one connection.
//!
//! Written here rather than taken from jsonrpsee's `WsClient` because that client drops the
//! content of a subscription's closing notification, so a subscriber could not tell a stream
//! that completed from one that failed with a typed error. This one delivers the error as the
//! stream's last item, as `docs/wire.md` specifies.
//!
//! One background task owns the socket; callers talk to it through a channel. Calls are
//! matched to answers by id, subscription items by subscription id. A caller that stops
//! waiting (deadline, or its future dropped) tells the task, so that nothing waits forever
//! for it: a call is forgotten, and a subscription whose acceptance nobody awaits any more is
//! unsubscribed as soon as the server names it.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_util::{SinkExt, StreamExt};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::wire::{self, Incoming};
use super::{ConnectError, TransportOptions, remaining_ms, within};
use crate::{Cx, Method, RpcError, Transport, TransportStream};

/// Items a subscriber has not read yet; a subscriber further behind is cut off with an error
/// rather than letting memory grow.
const SUBSCRIPTION_BUFFER: usize = 1024;

type Items = mpsc::Sender<Result<crate::Item, RpcError>>;
type Answer<T> = oneshot::Sender<Result<T, RpcError>>;

/// Every kind of call over one WebSocket connection.
///
/// Per-call headers (`Cx::with_header`) are ignored: a WebSocket has headers only on its
/// upgrade request ([`TransportOptions::header`]). Deadlines travel as `meta.timeoutMs`.
#[derive(Debug)]
pub struct WsTransport {
    commands: mpsc::UnboundedSender<Command>,
    next_id: Arc<AtomicU64>,
    options: TransportOptions,
}

#[derive(Debug)]
enum Command {
    Call {
        id: u64,
        text: String,
        answer: Answer<Box<RawValue>>,
    },
    Subscribe {
        id: u64,
        text: String,
        unsubscribe: &'static str,
        answer: Answer<()>,
        items: Items,
    },
    /// The caller of `id` stopped waiting for its answer.
    Abandon(u64),
    /// The stream of the subscription requested with `id` was dropped.
    Unsubscribe(u64),
}

impl WsTransport {
    /// Connects to `url` (`ws://host:port/rpc`) with default options.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with_options(url, TransportOptions::default()).await
    }

    /// Connects to `url` with `options` (headers go with the upgrade request).
    pub async fn connect_with_options(url: &str, options: TransportOptions) -> Result<Self, ConnectError> {
        let mut request = url.into_client_request().map_err(|e| ConnectError::new(url, e))?;
        request.headers_mut().extend(options.headers.clone());
        let (socket, _) = tokio::time::timeout(options.request_timeout, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| ConnectError::new(url, "no answer to the WebSocket upgrade in time"))?
            .map_err(|e| ConnectError::new(url, e))?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let next_id = Arc::new(AtomicU64::new(1));
        tokio::spawn(run(socket, receiver, next_id.clone(), options.max_response_bytes));
        Ok(Self { commands, next_id, options })
    }

    /// Whether the connection is still open.
    pub fn is_connected(&self) -> bool {
        !self.commands.is_closed()
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

fn closed() -> RpcError {
    wire::transport("the WebSocket connection is closed", None)
}

impl Transport for WsTransport {
    async fn call(&self, method: Method, params: Option<Box<RawValue>>, cx: &Cx) -> Result<Box<RawValue>, RpcError> {
        let deadline = self.options.deadline(cx);
        let retry = self.options.retry_for(cx);
        within(deadline, async {
            retry
                .run(method, deadline, |_| async {
                    // A closed socket does not come back: no point in waiting to try again.
                    if !self.is_connected() {
                        return Err(RpcError::transport("the WebSocket connection is closed"));
                    }
                    self.send(method, params.as_deref(), remaining_ms(deadline)).await
                })
                .await
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
        // No `meta.timeoutMs`: the server would take it as the stream's deadline.
        let text = wire::request(id, method, params.as_deref(), None);
        let (answer, answered) = oneshot::channel();
        let (items, received) = mpsc::channel(SUBSCRIPTION_BUFFER);
        self.commands.send(Command::Subscribe { id, text, unsubscribe, answer, items }).map_err(|_| closed())?;
        // On timeout `answered` is dropped: the task sees it when the answer comes and
        // unsubscribes right away.
        within(self.options.deadline(cx), async { answered.await.unwrap_or_else(|_| Err(closed())) }).await?;
        Ok(Box::pin(Subscription { received, unsubscribe: Some((self.commands.clone(), id)) }))
    }
}

/// A subscription's items; dropping it unsubscribes.
struct Subscription {
    received: mpsc::Receiver<Result<crate::Item, RpcError>>,
    unsubscribe: Option<(mpsc::UnboundedSender<Command>, u64)>,
}

impl futures_core::Stream for Subscription {
    type Item = Result<crate::Item, RpcError>;
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

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

enum Pending {
    Call(Answer<Box<RawValue>>),
    Subscribe { answer: Answer<()>, items: Items, unsubscribe: &'static str },
}

/// The connection's bookkeeping, owned by the background task.
struct Connection {
    next_id: Arc<AtomicU64>,
    /// Requests sent and not answered yet, by our id.
    pending: HashMap<u64, Pending>,
    /// Live subscriptions: the server's subscription id (as JSON text) → where items go.
    subscriptions: HashMap<String, Items>,
    /// Our subscribe request id → the server's subscription id and the unsubscribe method.
    server_ids: HashMap<u64, (String, &'static str)>,
    /// Frames to send (unsubscribes the bookkeeping decided on).
    outbox: Vec<String>,
}

/// The background task: owns the socket until it closes or every handle is dropped.
async fn run(
    socket: Socket,
    mut commands: mpsc::UnboundedReceiver<Command>,
    next_id: Arc<AtomicU64>,
    max_bytes: usize,
) {
    let (mut sink, mut stream) = socket.split();
    let mut connection = Connection {
        next_id,
        pending: HashMap::new(),
        subscriptions: HashMap::new(),
        server_ids: HashMap::new(),
        outbox: Vec::new(),
    };
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None => break,
                Some(command) => connection.command(command),
            },
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) if text.len() <= max_bytes => connection.receive(&text),
                Some(Ok(Message::Text(_))) => {} // too large to be read: its caller times out
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
        let mut failed = false;
        for text in connection.outbox.drain(..) {
            if sink.send(Message::text(text)).await.is_err() {
                failed = true;
                break;
            }
        }
        if failed {
            break;
        }
    }
    connection.close();
}

impl Connection {
    fn command(&mut self, command: Command) {
        match command {
            Command::Call { id, text, answer } => {
                self.pending.insert(id, Pending::Call(answer));
                self.outbox.push(text);
            }
            Command::Subscribe { id, text, unsubscribe, answer, items } => {
                self.pending.insert(id, Pending::Subscribe { answer, items, unsubscribe });
                self.outbox.push(text);
            }
            // A subscribe stays pending: its answer still has to be unsubscribed.
            Command::Abandon(id) => {
                if let Some(Pending::Call(_)) = self.pending.get(&id) {
                    self.pending.remove(&id);
                }
            }
            Command::Unsubscribe(id) => {
                // Already ended (completed or failed): nothing to tell the server.
                if let Some((server_id, method)) = self.server_ids.remove(&id)
                    && self.subscriptions.remove(&server_id).is_some()
                {
                    self.unsubscribe(method, &server_id);
                }
            }
        }
    }

    fn unsubscribe(&mut self, method: &str, server_id: &str) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        // `server_id` is JSON text already (a string or a number, as the server sent it).
        let params = RawValue::from_string(format!("[{server_id}]")).ok();
        self.outbox.push(wire::request(id, method, params.as_deref(), None));
    }

    fn receive(&mut self, text: &str) {
        let Ok(incoming) = serde_json::from_str::<Incoming<'_>>(text) else { return };
        if let Some(id) = &incoming.id {
            let Some(pending) = id.as_u64().and_then(|id| self.pending.remove(&id).map(|p| (id, p))) else {
                return; // an unsubscribe's acknowledgement, or an answer nobody waits for
            };
            match pending {
                (_, Pending::Call(answer)) => drop(answer.send(incoming.outcome())),
                (id, Pending::Subscribe { answer, items, unsubscribe }) => match incoming.outcome() {
                    Ok(server_id) => {
                        let server_id = server_id.get().to_owned();
                        if answer.send(Ok(())).is_err() {
                            // The subscriber gave up waiting: the server must not stream for nobody.
                            self.unsubscribe(unsubscribe, &server_id);
                        } else {
                            self.subscriptions.insert(server_id.clone(), items);
                            self.server_ids.insert(id, (server_id, unsubscribe));
                        }
                    }
                    Err(error) => drop(answer.send(Err(error))),
                },
            }
            return;
        }
        let Some(notification) = incoming.params else { return };
        let key = notification.subscription.to_string();
        let Some(items) = self.subscriptions.get(&key) else { return };
        match (notification.result, notification.error) {
            (Some(item), None) => {
                if items.try_send(Ok(crate::Item::untracked(item.to_owned()))).is_err() {
                    // Full (the subscriber is too far behind) or gone: end it with a reason.
                    if let Some(items) = self.subscriptions.remove(&key) {
                        let _ = items.try_send(Err(RpcError::transport("the subscriber fell too far behind")));
                    }
                }
            }
            (_, Some(error)) => {
                // An error object ends the stream with it; `null` means completed, and dropping
                // the sender (removed here) ends the stream.
                if let Some(items) = self.subscriptions.remove(&key)
                    && error.get() != "null"
                {
                    let _ = items.try_send(Err(wire::error_object(error)));
                }
            }
            (None, None) => {}
        }
    }

    /// Closed: everyone waiting learns it; streams end with a transport error.
    fn close(&mut self) {
        for (_, waiting) in self.pending.drain() {
            match waiting {
                Pending::Call(answer) => drop(answer.send(Err(closed()))),
                Pending::Subscribe { answer, .. } => drop(answer.send(Err(closed()))),
            }
        }
        for (_, items) in self.subscriptions.drain() {
            let _ = items.try_send(Err(closed()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        Connection {
            next_id: Arc::new(AtomicU64::new(100)),
            pending: HashMap::new(),
            subscriptions: HashMap::new(),
            server_ids: HashMap::new(),
            outbox: Vec::new(),
        }
    }

    #[test]
    fn an_abandoned_call_is_forgotten_and_its_late_answer_ignored() {
        let mut connection = connection();
        let (answer, _answered) = oneshot::channel();
        connection.command(Command::Call { id: 1, text: "{}".into(), answer });
        assert_eq!(connection.pending.len(), 1);
        connection.command(Command::Abandon(1));
        assert!(connection.pending.is_empty(), "a caller that gave up leaves nothing behind");
        connection.receive(r#"{"jsonrpc":"2.0","id":1,"result":7}"#);
        assert!(connection.pending.is_empty() && connection.outbox.len() == 1);
    }

    #[test]
    fn a_subscribe_nobody_awaits_is_unsubscribed_when_accepted() {
        let mut connection = connection();
        let (answer, answered) = oneshot::channel();
        let (items, _received) = mpsc::channel(4);
        connection.command(Command::Subscribe {
            id: 5,
            text: "{}".into(),
            unsubscribe: "t.s.unsubscribe",
            answer,
            items,
        });
        connection.command(Command::Abandon(5));
        drop(answered); // the subscriber's deadline passed
        connection.outbox.clear();
        connection.receive(r#"{"jsonrpc":"2.0","id":5,"result":"sub-9"}"#);
        assert_eq!(
            connection.outbox,
            [r#"{"jsonrpc":"2.0","id":100,"method":"t.s.unsubscribe","params":["sub-9"]}"#],
            "the server is told at once"
        );
        assert!(connection.subscriptions.is_empty() && connection.pending.is_empty());
    }
}
