//! JSON-RPC over WebSocket (RFC 6455), served by Accord itself on tokio-tungstenite.
//!
//! One connection: a reader loop (this module) that reads frames and runs each message's calls
//! on their own task, at most `max_calls_per_connection` at a time (then it stops reading: a
//! client that floods gets TCP backpressure, not unbounded tasks); one writer task that sends
//! answers, notifications and pings in order; the connection's [`Subscriptions`]. The server
//! closes with the RFC's codes: 1007 for a text frame that is not UTF-8, 1002 for a protocol
//! violation (an unmasked client frame, say), 1009 for a message over the size limit, 1001
//! when idle past `ws_idle_timeout` or when the server drains, 1008 after too many refused
//! `rpc.authenticate` credentials in a row.

mod authenticate;
mod handshake;
mod subscriptions;

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use accord::FrameworkCode;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub(crate) use handshake::{accept, is_upgrade, switching_protocols};
pub(crate) use subscriptions::Subscriptions;

use authenticate::InBand;

use crate::auth::{self, Authentication};
use crate::caller::Caller;
use crate::dispatch;
use crate::service::Shared;
use subscriptions::Link;

/// Answers and notifications queued for the writer before calls wait for it.
const OUTGOING_QUEUE: usize = 256;
/// The longest the writer waits on a peer that does not read before giving the connection up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a closing connection gives its writer to flush.
const CLOSE_FLUSH: Duration = Duration::from_secs(2);

/// What the writer sends.
pub(crate) enum Outgoing {
    Text(String),
    Close(CloseCode, &'static str),
}

/// tungstenite's settings for a server connection of these limits.
pub(crate) fn config(max_message_bytes: usize) -> WebSocketConfig {
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(max_message_bytes);
    config.max_frame_size = Some(max_message_bytes);
    // The default eagerly allocates 128 KiB per connection for reading.
    config.read_buffer_size = 16 * 1024;
    config.max_write_buffer_size = 4 * max_message_bytes.max(1024 * 1024);
    config.accept_unmasked_frames = false;
    config
}

/// Serves one upgraded connection until it closes, fails, idles out or the server drains.
pub(crate) async fn serve<S>(
    socket: WebSocketStream<S>,
    shared: Arc<Shared>,
    caller: Arc<Caller>,
    mut upgrade: http::request::Parts,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let settings = &shared.limits;
    let (sink, mut stream) = socket.split();
    let (outgoing, queue) = mpsc::channel(OUTGOING_QUEUE);
    let broken = CancellationToken::new();
    let writer = tokio::spawn(write(sink, queue, settings.ws_ping_interval, broken.clone()));

    // A child of the server's: abandoning the server (after the grace period) stops it too.
    let stop = shared.abandon.child_token();
    let tasks = TaskTracker::new();
    let subscriptions = Arc::new(Subscriptions::new(settings.max_subscriptions_per_connection as usize, stop.clone()));
    let permits = Arc::new(Semaphore::new(settings.max_calls_per_connection));
    let mut draining = shared.draining.clone();
    let mut is_draining = false;
    // The idle timer is re-armed lazily from the last frame's time when it fires: resetting a
    // timer on every frame touches the timer wheel, reading the clock does not.
    let mut last_frame = tokio::time::Instant::now();
    let idle = tokio::time::sleep(settings.ws_idle_timeout);
    tokio::pin!(idle);
    // Made once, not on every turn of the loop: each one made registers with its token.
    let broken_now = broken.cancelled();
    tokio::pin!(broken_now);
    let stop_now = stop.cancelled();
    tokio::pin!(stop_now);
    let mut reauthenticate = tokio::time::interval(settings.reauthenticate_every);
    reauthenticate.reset();
    let reauthenticating = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut refusals = 0;

    let close: Option<(CloseCode, &'static str)> = loop {
        tokio::select! {
            frame = stream.next() => {
                last_frame = tokio::time::Instant::now();
                let bytes: Bytes = match frame {
                    Some(Ok(Message::Text(text))) => text.into(),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => break close_code(&error),
                };
                if is_draining {
                    // Answered at once, here: every call of it is refused as UNAVAILABLE.
                    let answer =
                        dispatch::answer(&shared.pipeline, shared.message_limits, &caller, &bytes, None, true).await;
                    if let Some(body) = answer.body
                        && outgoing.send(Outgoing::Text(text_of(body))).await.is_err()
                    {
                        break None;
                    }
                    continue;
                }
                // In band credentials, inline: the messages after them run as their identity.
                if let InBand::Answered { answer, refused } =
                    authenticate::in_band(&shared, &caller, &mut upgrade, &bytes).await
                {
                    refusals = if refused { refusals + 1 } else { 0 };
                    if let Some(text) = answer
                        && outgoing.send(Outgoing::Text(text)).await.is_err()
                    {
                        break None;
                    }
                    if refusals >= authenticate::MAX_REFUSALS {
                        break Some((CloseCode::Policy, "too many refused credentials"));
                    }
                    continue;
                }
                let permit = match permits.clone().try_acquire_owned() {
                    Ok(permit) => Some(permit),
                    // All of this connection's call slots are busy: wait for one (backpressure).
                    Err(_) => tokio::select! {
                        permit = permits.clone().acquire_owned() => permit.ok(),
                        () = &mut broken_now => None,
                    },
                };
                let Some(permit) = permit else { break None };
                let (shared, caller, subscriptions, stop) = (shared.clone(), caller.clone(), subscriptions.clone(), stop.clone());
                let outgoing = outgoing.clone();
                let forwarders = tasks.clone();
                let mut call = Box::pin(async move {
                    let answer = dispatch::answer(&shared.pipeline, shared.message_limits, &caller, &bytes, Some(&subscriptions), false);
                    let answer = tokio::select! {
                        // The answer first: a call that is ready never registers with `stop`.
                        biased;
                        answer = answer => answer,
                        // The connection is gone: nobody waits for these calls; drop them.
                        () = stop.cancelled() => return,
                    };
                    if let Some(body) = answer.body
                        && outgoing.send(Outgoing::Text(text_of(body))).await.is_err()
                    {
                        return;
                    }
                    if !answer.opened.is_empty() {
                        // Only a message that opened subscriptions needs the watches they end by.
                        let link = Link { outgoing, draining: shared.draining.clone(), authentication: caller.watch_authentication() };
                        for (id, opened) in answer.opened {
                            forwarders.spawn(subscriptions::forward(subscriptions.clone(), id, opened, link.clone()));
                        }
                    }
                    drop(permit);
                });
                // Most calls finish without waiting on anything: answer those right here, and
                // hand only the ones that wait to a task of their own (a spawn per message was a
                // good part of a WebSocket call's cost). A call polled here that then waits has
                // registered this task's waker too: a spurious wake-up of this loop, no more.
                let finished = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx).is_ready())).await;
                if !finished {
                    tasks.spawn(call);
                }
            }
            () = &mut idle => {
                let until = last_frame + settings.ws_idle_timeout;
                if until > tokio::time::Instant::now() {
                    idle.as_mut().reset(until);
                    continue;
                }
                break Some((CloseCode::Away, "idle timeout"));
            }
            () = &mut broken_now => break None,
            () = &mut stop_now => break None,
            () = crate::shutdown::draining(&mut draining), if !is_draining => {
                // Subscriptions end themselves with UNAVAILABLE; running calls finish.
                is_draining = true;
                tasks.close();
            }
            () = tasks.wait(), if is_draining => break Some((CloseCode::Away, "server shutting down")),
            _ = reauthenticate.tick(), if shared.authenticator.is_some() => {
                if !reauthenticating.swap(true, std::sync::atomic::Ordering::AcqRel) {
                    let (shared, caller, upgrade, flag) = (shared.clone(), caller.clone(), upgrade.clone(), reauthenticating.clone());
                    let stop = stop.clone();
                    tasks.spawn(async move {
                        tokio::select! {
                            () = refresh(&shared, &caller, &upgrade) => {}
                            () = stop.cancelled() => {}
                        }
                        flag.store(false, std::sync::atomic::Ordering::Release);
                    });
                }
            }
        }
    };

    // Calls nobody will read the answers of are dropped (cancelled); subscriptions end.
    stop.cancel();
    tasks.close();
    tasks.wait().await;
    if let Some((code, reason)) = close {
        let _ = outgoing.send(Outgoing::Close(code, reason)).await;
    }
    drop(outgoing);
    let mut writer = writer;
    if tokio::time::timeout(CLOSE_FLUSH, &mut writer).await.is_err() {
        writer.abort();
    }
}

/// Re-runs the authenticator on the upgrade request; a session that is gone (no identity, or
/// refused as `UNAUTHENTICATED`/`FORBIDDEN`) or expired ends the caller's identity. Other
/// failures (the session store is down) keep it until the next try: an outage must not sign
/// everyone out.
async fn refresh(shared: &Shared, caller: &Caller, upgrade: &http::request::Parts) {
    let Authentication::Authenticated(current) = caller.authentication() else { return };
    if current.is_expired() {
        caller.set_authentication(Authentication::Refused(auth::revoked()));
        return;
    }
    let fresh = auth::authenticate(shared.authenticator.as_deref(), upgrade).await;
    let ended = match &fresh {
        Authentication::Authenticated(identity) => *identity != current,
        Authentication::Anonymous => true,
        Authentication::Refused(error) => {
            matches!(error.framework_code(), Some(FrameworkCode::Unauthenticated | FrameworkCode::Forbidden))
        }
    };
    if ended {
        let fresh = match fresh {
            Authentication::Authenticated(identity) if identity.subject() == current.subject() => {
                Authentication::Authenticated(identity)
            }
            Authentication::Refused(error) => Authentication::Refused(error),
            _ => Authentication::Refused(auth::revoked()),
        };
        caller.set_authentication(fresh);
    }
}

/// The close code for a read error, if one should be sent.
fn close_code(error: &WsError) -> Option<(CloseCode, &'static str)> {
    match error {
        WsError::Utf8 => Some((CloseCode::Invalid, "text frames must be UTF-8")),
        WsError::Protocol(_) => Some((CloseCode::Protocol, "protocol violation")),
        WsError::Capacity(_) => Some((CloseCode::Size, "message too big")),
        _ => None,
    }
}

/// Bodies are written by Accord as JSON, so they are UTF-8.
fn text_of(body: Vec<u8>) -> String {
    String::from_utf8(body).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// The writer: sends queued messages in order (flushing when the queue is empty), pings every
/// `ping_every`, and gives up on a peer that does not read for [`WRITE_TIMEOUT`].
async fn write<S>(
    mut sink: futures_util::stream::SplitSink<WebSocketStream<S>, Message>,
    mut queue: mpsc::Receiver<Outgoing>,
    ping_every: Duration,
    broken: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    loop {
        let (message, last) = tokio::select! {
            next = queue.recv() => match next {
                Some(Outgoing::Text(text)) => (Message::text(text), false),
                Some(Outgoing::Close(code, reason)) => (Message::Close(Some(CloseFrame { code, reason: reason.into() })), true),
                None => break,
            },
            _ = ping.tick() => (Message::Ping(Bytes::new()), false),
        };
        let flush = last || queue.is_empty();
        let sent = tokio::time::timeout(WRITE_TIMEOUT, async {
            sink.feed(message).await?;
            if flush {
                sink.flush().await?;
            }
            Ok::<(), WsError>(())
        })
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            broken.cancel();
            return;
        }
        if last {
            break;
        }
    }
    let _ = tokio::time::timeout(CLOSE_FLUSH, sink.close()).await;
}
