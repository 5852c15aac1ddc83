//! The transport's task: connects when there is something to do, serves the connection
//! (writing frames in order, reading answers and notifications, keeping it alive), and when
//! the connection is lost makes a new one after a jittered, capped backoff, handing the
//! [`Registry`] each new connection so that subscriptions resume on it.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::connection::Registry;
use super::{Command, ConnectionState};
use crate::client::retry::backoff;
use crate::client::{ConnectError, TransportOptions};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The upgrade request for `url`, with the options' headers.
pub(super) fn upgrade_request(url: &str, options: &TransportOptions) -> Result<Request, ConnectError> {
    let mut request = url.into_client_request().map_err(|e| ConnectError::new(url, e))?;
    request.headers_mut().extend(options.headers.clone());
    Ok(request)
}

/// Why serving a connection stopped.
enum Ended {
    /// Lost (dropped, dead, closed by the server): make another.
    Lost,
    /// Closed on purpose, or nobody can use the transport any more.
    Stop,
}

pub(super) async fn run(
    request: Request,
    options: TransportOptions,
    mut commands: mpsc::UnboundedReceiver<Command>,
    next_id: Arc<AtomicU64>,
    state: watch::Sender<ConnectionState>,
) {
    let mut registry = Registry::new(next_id, options.reconnect_delay, options.max_reconnect_delay);
    let mut wanted = false;
    let mut attempt = 0u32;
    'connections: loop {
        // Lazy: connect when there is something to do.
        while !wanted && !registry.has_work() {
            match commands.recv().await {
                None | Some(Command::Close) => break 'connections,
                Some(Command::Connect) => wanted = true,
                Some(command) => registry.command(command),
            }
        }
        let connecting = connect(&request, options.request_timeout);
        tokio::pin!(connecting);
        let connected = loop {
            tokio::select! {
                connected = &mut connecting => break connected,
                command = commands.recv() => match command {
                    None | Some(Command::Close) => break 'connections,
                    Some(command) => registry.command(command),
                },
            }
        };
        match connected {
            Ok(socket) => {
                attempt = 0;
                wanted = true; // from now on, keep a connection
                state.send_replace(ConnectionState::Open);
                let authorization = authorization(&registry, &options).await;
                registry.connected(authorization);
                let ended = serve(socket, &mut registry, &mut commands, &options).await;
                registry.disconnected();
                if let Ended::Stop = ended {
                    break 'connections;
                }
                tracing::debug!("the WebSocket connection was lost; reconnecting");
            }
            Err(error) => {
                tracing::debug!(%error, attempt, "could not connect the WebSocket");
                attempt = attempt.saturating_add(1);
            }
        }
        state.send_replace(ConnectionState::Reconnecting);
        let delay = backoff(options.reconnect_delay, options.max_reconnect_delay, attempt);
        let wake = tokio::time::sleep(delay);
        tokio::pin!(wake);
        loop {
            tokio::select! {
                () = &mut wake => break,
                command = commands.recv() => match command {
                    None | Some(Command::Close) => break 'connections,
                    Some(command) => registry.command(command),
                },
            }
        }
    }
    registry.close();
    state.send_replace(ConnectionState::Closed);
}

async fn connect(request: &Request, timeout: Duration) -> Result<Socket, String> {
    match tokio::time::timeout(timeout, tokio_tungstenite::connect_async(request.clone())).await {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("no answer to the WebSocket upgrade in time".into()),
    }
}

/// The credentials for a new connection: the last `authenticate`d ones, else the hook's.
async fn authorization(registry: &Registry, options: &TransportOptions) -> Option<String> {
    if let Some(authorization) = &registry.authorization {
        return Some(authorization.clone());
    }
    let hook = options.authorize.as_ref()?;
    tokio::time::timeout(options.request_timeout, hook()).await.ok().flatten()
}

/// Serves one connection until it is lost or the transport stops.
async fn serve(
    socket: Socket,
    registry: &mut Registry,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    options: &TransportOptions,
) -> Ended {
    let (mut sink, mut stream) = socket.split();
    let keep_alive = options.keep_alive;
    let mut last_heard = Instant::now();
    let mut last_ping = Instant::now();
    // Checked four times an interval: a dead socket is found within 2¼ intervals of silence.
    let mut ticker = tokio::time::interval(keep_alive / 4);
    loop {
        for text in std::mem::take(&mut registry.outbox) {
            // A peer that does not read for a whole interval is as good as dead.
            let sent = tokio::time::timeout(keep_alive, sink.send(Message::text(text))).await;
            if !matches!(sent, Ok(Ok(()))) {
                return Ended::Lost;
            }
        }
        let retry_at = registry.next_retry();
        tokio::select! {
            command = commands.recv() => match command {
                None | Some(Command::Close) => {
                    let frame = CloseFrame { code: CloseCode::Normal, reason: "closed by the client".into() };
                    let _ = tokio::time::timeout(keep_alive, sink.send(Message::Close(Some(frame)))).await;
                    return Ended::Stop;
                }
                Some(command) => registry.command(command),
            },
            message = stream.next() => {
                last_heard = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) if text.len() <= options.max_response_bytes => registry.receive(&text),
                    Some(Ok(Message::Text(_))) => {} // too large to be read: its caller times out
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return Ended::Lost,
                    Some(Ok(_)) => {}
                }
            }
            _ = ticker.tick() => {
                let silent = last_heard.elapsed();
                if silent >= 2 * keep_alive {
                    return Ended::Lost;
                }
                if silent >= keep_alive && last_ping.elapsed() >= keep_alive {
                    registry.ping();
                    last_ping = Instant::now();
                }
            }
            () = sleep_until(retry_at) => registry.retry_due(Instant::now()),
        }
    }
}

/// Sleeps until `at`; forever when there is nothing to wait for.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
