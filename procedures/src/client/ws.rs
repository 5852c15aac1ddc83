//! The WebSocket transport: every kind of call over one connection.
//!
//! Written here rather than taken from jsonrpsee's `WsClient` because that client drops the
//! content of a subscription's closing notification, so a subscriber could not tell a stream
//! that completed from one that failed with a typed error. This one delivers the error as the
//! stream's last item, as `docs/wire.md` specifies.
//!
//! One background task owns the socket; callers talk to it through a channel. Calls are
//! matched to answers by id, subscription items by subscription id.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{ConnectError, TransportOptions, within_deadline};
use crate::{Cx, RpcError, Transport, TransportStream};

/// Items a subscriber has not read yet; a subscriber further behind is cut off with an error
/// rather than letting memory grow.
const SUBSCRIPTION_BUFFER: usize = 1024;

type Items = mpsc::Sender<Result<Box<RawValue>, RpcError>>;

/// Every kind of call over one WebSocket connection.
#[derive(Debug)]
pub struct WsTransport {
    commands: mpsc::UnboundedSender<Command>,
    next_id: Arc<AtomicU64>,
}

#[derive(Debug)]
enum Command {
    Call { id: u64, text: String, answer: oneshot::Sender<Result<Box<RawValue>, RpcError>> },
    Subscribe { id: u64, text: String, answer: oneshot::Sender<Result<(), RpcError>>, items: Items },
    Send(String),
}

impl WsTransport {
    /// Connects to `url` (`ws://host:port/rpc`) with default options.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with_options(url, TransportOptions::default()).await
    }

    /// Connects to `url` with `options` (headers go with the upgrade request).
    pub async fn connect_with_options(url: &str, options: TransportOptions) -> Result<Self, ConnectError> {
        let error = |message: String| ConnectError { url: url.to_owned(), message };
        let mut request = url.into_client_request().map_err(|e| error(e.to_string()))?;
        request.headers_mut().extend(options.headers);
        let (socket, _) = tokio::time::timeout(options.request_timeout, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| error("no answer to the WebSocket upgrade in time".into()))?
            .map_err(|e| error(e.to_string()))?;
        let (commands, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(socket, receiver));
        Ok(Self { commands, next_id: Arc::new(AtomicU64::new(1)) })
    }

    /// Whether the connection is still open.
    pub fn is_connected(&self) -> bool {
        !self.commands.is_closed()
    }

    fn request(&self, method: &str, params: Option<&RawValue>) -> (u64, String) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let params = params.map_or("null", RawValue::get);
        (id, format!(r#"{{"jsonrpc":"2.0","id":{id},"method":{},"params":{params}}}"#, quote(method)))
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

fn closed() -> RpcError {
    RpcError::transport("the WebSocket connection is closed")
}

impl Transport for WsTransport {
    async fn call(
        &self,
        method: &'static str,
        params: Option<Box<RawValue>>,
        cx: &Cx,
    ) -> Result<Box<RawValue>, RpcError> {
        let (id, text) = self.request(method, params.as_deref());
        let (answer, answered) = oneshot::channel();
        self.commands.send(Command::Call { id, text, answer }).map_err(|_| closed())?;
        within_deadline(cx, async { answered.await.unwrap_or_else(|_| Err(closed())) }).await
    }

    async fn subscribe(
        &self,
        method: &'static str,
        unsubscribe: &'static str,
        params: Option<Box<RawValue>>,
        cx: &Cx,
    ) -> Result<TransportStream, RpcError> {
        let (id, text) = self.request(method, params.as_deref());
        let (answer, answered) = oneshot::channel();
        let (items, received) = mpsc::channel(SUBSCRIPTION_BUFFER);
        self.commands.send(Command::Subscribe { id, text, answer, items }).map_err(|_| closed())?;
        within_deadline(cx, async { answered.await.unwrap_or_else(|_| Err(closed())) }).await?;
        Ok(Box::pin(Subscription {
            received,
            unsubscribe: Some((self.commands.clone(), unsubscribe, self.next_id.clone(), id)),
        }))
    }
}

/// A subscription's items; dropping it unsubscribes.
struct Subscription {
    received: mpsc::Receiver<Result<Box<RawValue>, RpcError>>,
    unsubscribe: Option<(mpsc::UnboundedSender<Command>, &'static str, Arc<AtomicU64>, u64)>,
}

impl futures_core::Stream for Subscription {
    type Item = Result<Box<RawValue>, RpcError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.received.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some((commands, method, next_id, subscribe_id)) = self.unsubscribe.take() {
            // The background task knows the server's subscription id; it rewrites this.
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            let _ = commands.send(Command::Send(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":{},"params":["{subscribe_id}"]}}"#,
                quote(method)
            )));
        }
    }
}

/// What the server sends: an answer (with `id`) or a subscription notification.
#[derive(Deserialize)]
struct Incoming<'a> {
    id: Option<u64>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    error: Option<RpcError>,
    #[serde(borrow)]
    params: Option<Notification<'a>>,
}

#[derive(Deserialize)]
struct Notification<'a> {
    subscription: serde_json::Value,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    /// Present (possibly `null`) on the closing notification. `Some("null")` and `None` must
    /// differ, which a plain `Option` would not keep apart.
    #[serde(default, borrow, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

enum Pending {
    Call(oneshot::Sender<Result<Box<RawValue>, RpcError>>),
    Subscribe(oneshot::Sender<Result<(), RpcError>>, Items),
}

/// The background task: owns the socket until it closes or every handle is dropped.
async fn run(socket: Socket, mut commands: mpsc::UnboundedReceiver<Command>) {
    let (mut sink, mut stream) = socket.split();
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    // Server subscription id (as JSON text) → items; and our request id → server id, for
    // unsubscribing.
    let mut subscriptions: HashMap<String, Items> = HashMap::new();
    let mut server_ids: HashMap<u64, String> = HashMap::new();
    loop {
        tokio::select! {
            command = commands.recv() => {
                let text = match command {
                    None => break,
                    Some(Command::Call { id, text, answer }) => { pending.insert(id, Pending::Call(answer)); text }
                    Some(Command::Subscribe { id, text, answer, items }) => { pending.insert(id, Pending::Subscribe(answer, items)); text }
                    Some(Command::Send(text)) => match rewrite_unsubscribe(&text, &mut server_ids, &mut subscriptions) {
                        Some(text) => text,
                        None => continue,
                    },
                };
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            message = stream.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                let Ok(incoming) = serde_json::from_str::<Incoming<'_>>(&text) else { continue };
                dispatch(incoming, &mut pending, &mut subscriptions, &mut server_ids);
            }
        }
    }
    // Closed: everyone waiting learns it; streams end with a transport error.
    for (_, waiting) in pending.drain() {
        match waiting {
            Pending::Call(answer) => drop(answer.send(Err(closed()))),
            Pending::Subscribe(answer, _) => drop(answer.send(Err(closed()))),
        }
    }
    for (_, items) in subscriptions.drain() {
        let _ = items.try_send(Err(closed()));
    }
}

fn dispatch(
    incoming: Incoming<'_>,
    pending: &mut HashMap<u64, Pending>,
    subscriptions: &mut HashMap<String, Items>,
    server_ids: &mut HashMap<u64, String>,
) {
    if let Some(id) = incoming.id {
        let outcome = match (incoming.result, incoming.error) {
            (_, Some(error)) => Err(error),
            (Some(result), None) => Ok(result),
            (None, None) => Err(RpcError::transport("an answer with neither result nor error")),
        };
        match pending.remove(&id) {
            Some(Pending::Call(answer)) => drop(answer.send(outcome.map(ToOwned::to_owned))),
            Some(Pending::Subscribe(answer, items)) => match outcome {
                Ok(server_id) => {
                    subscriptions.insert(server_id.get().to_owned(), items);
                    server_ids.insert(id, server_id.get().to_owned());
                    drop(answer.send(Ok(())));
                }
                Err(error) => drop(answer.send(Err(error))),
            },
            None => {}
        }
        return;
    }
    let Some(notification) = incoming.params else { return };
    let key = notification.subscription.to_string();
    let Some(items) = subscriptions.get(&key) else { return };
    match (notification.result, notification.error) {
        (Some(item), None) => {
            if items.try_send(Ok(item.to_owned())).is_err() {
                // Full (the subscriber is too far behind) or gone: end it with a reason.
                if let Some(items) = subscriptions.remove(&key) {
                    let _ = items.try_send(Err(RpcError::transport("the subscriber fell too far behind")));
                }
            }
        }
        (_, Some(error)) => {
            // An error object ends the stream with it; `null` means completed, and dropping the
            // sender (removed here) ends the stream.
            if let Some(items) = subscriptions.remove(&key)
                && let Ok(error) = serde_json::from_str::<RpcError>(error.get())
            {
                let _ = items.try_send(Err(error));
            }
        }
        (None, None) => {}
    }
}

/// Drop-time unsubscribes carry our request id; the server wants its own subscription id.
fn rewrite_unsubscribe(
    text: &str,
    server_ids: &mut HashMap<u64, String>,
    subscriptions: &mut HashMap<String, Items>,
) -> Option<String> {
    #[derive(Deserialize)]
    struct Unsubscribe {
        id: u64,
        method: String,
        params: [String; 1],
    }
    let request: Unsubscribe = serde_json::from_str(text).ok()?;
    let ours: u64 = request.params[0].parse().ok()?;
    // Already ended (completed or failed): nothing to tell the server.
    let server_id = server_ids.remove(&ours)?;
    subscriptions.remove(&server_id)?;
    Some(format!(
        r#"{{"jsonrpc":"2.0","id":{},"method":{},"params":[{server_id}]}}"#,
        request.id,
        quote(&request.method)
    ))
}
