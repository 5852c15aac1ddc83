//! One connection's open subscriptions: registering them (within the per-connection limit),
//! unsubscribing, and forwarding each one's items as notifications until it ends.
//!
//! A subscription ends, with one closing notification, when its stream completes (`error:
//! null`) or fails (its typed error), when the stream panics (`INTERNAL`, the panic logged, the
//! connection unharmed), when the server drains (`UNAVAILABLE`) or when the identity it was
//! opened with is gone (`UNAUTHENTICATED`). Every closing error carries the subscribe call's
//! `data.requestId`. Unsubscribing ends it silently (the unsubscribe answer says `true`).
//!
//! Items of a tracked subscription carry `eventId` beside `result`; an `EVENTS_MISSED` error
//! from the stream is sent as a `missed` marker and the subscription goes on.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use accord::{FrameworkCode, RetryHintData, RpcError};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::Outgoing;
use crate::auth::Authentication;
use crate::caller::identity_ended;
use crate::pipeline::{Opened, panicked, with_request_id};

/// See the module docs.
pub(crate) struct Subscriptions {
    open: Mutex<HashMap<String, CancellationToken>>,
    max: usize,
    next: AtomicU64,
    /// The connection's: cancelling it ends every subscription silently.
    stop: CancellationToken,
}

impl Subscriptions {
    pub(crate) fn new(max: usize, stop: CancellationToken) -> Self {
        Self { open: Mutex::new(HashMap::new()), max, next: AtomicU64::new(1), stop }
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        // No code panics while holding the lock; a poisoned map is still consistent.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a subscription that has opened and returns its id, or refuses it when the
    /// connection holds its maximum already.
    pub(crate) fn reserve(&self, opened: &Opened) -> Result<String, RpcError> {
        let mut open = self.open();
        if open.len() >= self.max {
            let hint = RetryHintData { retry_after_ms: None, limit: Some(u32::try_from(self.max).unwrap_or(u32::MAX)) };
            let message =
                format!("this connection has {} subscriptions open, its maximum; unsubscribe first", self.max);
            let error = RpcError::from_data(FrameworkCode::Overloaded, message, hint);
            return Err(with_request_id(error, &opened.request_id));
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed).to_string();
        open.insert(id.clone(), self.stop.child_token());
        Ok(id)
    }

    /// Ends subscription `id` without a closing notification. `false` if it was not open.
    pub(crate) fn cancel(&self, id: &str) -> bool {
        match self.open().remove(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    fn token(&self, id: &str) -> Option<CancellationToken> {
        self.open().get(id).cloned()
    }

    fn forget(&self, id: &str) {
        self.open().remove(id);
    }
}

/// What a forwarder needs from its connection.
#[derive(Clone)]
pub(crate) struct Link {
    pub outgoing: mpsc::Sender<Outgoing>,
    pub draining: watch::Receiver<bool>,
    pub authentication: watch::Receiver<Authentication>,
}

/// Forwards a reserved subscription's items until it ends; call once its id has been sent.
pub(crate) async fn forward(subscriptions: Arc<Subscriptions>, id: String, opened: Opened, link: Link) {
    let Some(cancelled) = subscriptions.token(&id) else { return };
    let Opened { method, mut items, request_id, identity, missed } = opened;
    let (head, tail) = envelope(method, &id);
    if let Some(marker) = missed
        && link.outgoing.send(Outgoing::Text(missed_notification(&head, tail, marker, &request_id))).await.is_err()
    {
        return;
    }
    let mut draining = link.draining;
    let ended = identity_ended(link.authentication, identity);
    tokio::pin!(ended);
    let closing: Option<RpcError> = loop {
        tokio::select! {
            biased;
            () = cancelled.cancelled() => return,
            error = &mut ended => break Some(error),
            () = crate::shutdown::draining(&mut draining) => {
                let hint = RetryHintData { retry_after_ms: Some(0), limit: None };
                break Some(RpcError::from_data(FrameworkCode::Unavailable, "the server is shutting down; resubscribe", hint));
            }
            item = AssertUnwindSafe(items.next()).catch_unwind() => match item {
                Ok(Some(Ok(item))) => {
                    let message = match &item.event_id {
                        Some(event_id) => {
                            let event_id = quote(event_id.as_str());
                            format!("{head}\"result\":{},\"eventId\":{event_id}{tail}", item.value.get())
                        }
                        None => format!("{head}\"result\":{}{tail}", item.value.get()),
                    };
                    if link.outgoing.send(Outgoing::Text(message)).await.is_err() {
                        return;
                    }
                }
                // The one error that does not end a subscription.
                Ok(Some(Err(marker))) if marker.is_events_missed() => {
                    let message = missed_notification(&head, tail, marker, &request_id);
                    if link.outgoing.send(Outgoing::Text(message)).await.is_err() {
                        return;
                    }
                }
                Ok(Some(Err(error))) => break Some(error),
                Ok(None) => break None,
                Err(panic) => break Some(panicked(&*panic)),
            },
        }
    };
    subscriptions.forget(&id);
    let error = match closing {
        Some(error) => serde_json::to_string(&with_request_id(error, &request_id)).unwrap_or_else(|_| "null".into()),
        None => "null".into(),
    };
    // Best effort: the connection may be closing too.
    let _ = link.outgoing.send(Outgoing::Text(format!("{head}\"error\":{error}{tail}"))).await;
}

/// `{"jsonrpc":"2.0","method":<m>,"params":{"subscription":<id>,` and `}}`.
fn envelope(method: &str, id: &str) -> (String, &'static str) {
    (format!(r#"{{"jsonrpc":"2.0","method":{},"params":{{"subscription":{},"#, quote(method), quote(id)), "}}")
}

/// The `EVENTS_MISSED` marker notification: `"missed"` holds the error object.
fn missed_notification(head: &str, tail: &str, marker: RpcError, request_id: &accord::RequestId) -> String {
    let marker = serde_json::to_string(&with_request_id(marker, request_id)).unwrap_or_else(|_| "null".into());
    format!("{head}\"missed\":{marker}{tail}")
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}
