//! The transport's bookkeeping, owned by its task: calls (in flight on the current connection,
//! or queued until there is one) and subscriptions (which outlive connections: each is
//! resubscribed on the next one, with the id of the last event it delivered).
//!
//! Pure state: no I/O. Frames to send go to `outbox`; the task writes them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;

use super::{Answer, Command, Items, closed};
use crate::client::retry::{backoff, retryable};
use crate::client::wire::{self, Incoming};
use crate::{EventId, Item, MissedReason, RpcError};

/// A subscription as the caller asked for it.
#[derive(Debug)]
pub(crate) struct NewSubscription {
    pub id: u64,
    pub method: &'static str,
    pub unsubscribe: &'static str,
    pub params: Option<Box<RawValue>>,
    pub last_event_id: Option<EventId>,
    pub answer: Answer<()>,
    pub items: Items,
}

struct Subscription {
    method: &'static str,
    unsubscribe: &'static str,
    params: Option<Box<RawValue>>,
    items: Items,
    /// The id of the last event delivered: where a resubscribe resumes.
    last_event_id: Option<EventId>,
    /// The caller waiting for the first acceptance.
    answer: Option<Answer<()>>,
    /// The server's id on the current connection.
    server_id: Option<String>,
    /// Accepted at least once: a later resubscribe without an id may have missed events.
    accepted_before: bool,
    /// Resubscribe at this instant (it ended with a try-again error).
    retry_at: Option<Instant>,
    attempts: u32,
}

/// What an answer with our id answers.
enum Request {
    Subscribe {
        id: u64,
        unsubscribe: &'static str,
    },
    Authenticate(Option<Answer<Box<RawValue>>>),
    /// Unsubscribes and pings: nothing waits for their answers.
    Ignored,
}

/// See the module docs.
pub(crate) struct Registry {
    next_id: Arc<AtomicU64>,
    calls: HashMap<u64, Answer<Box<RawValue>>>,
    /// Calls not sent yet (no connection), in order.
    queued: Vec<(u64, String)>,
    subscriptions: HashMap<u64, Subscription>,
    by_server_id: HashMap<String, u64>,
    requests: HashMap<u64, Request>,
    /// Credentials given with `WsTransport::authenticate`, sent at every connection.
    pub authorization: Option<String>,
    /// An `authenticate` made while disconnected, answered once sent.
    waiting_authentication: Option<Answer<Box<RawValue>>>,
    connected: bool,
    pub outbox: Vec<String>,
    first_delay: Duration,
    max_delay: Duration,
}

impl Registry {
    pub(super) fn new(next_id: Arc<AtomicU64>, first_delay: Duration, max_delay: Duration) -> Self {
        Self {
            next_id,
            calls: HashMap::new(),
            queued: Vec::new(),
            subscriptions: HashMap::new(),
            by_server_id: HashMap::new(),
            requests: HashMap::new(),
            authorization: None,
            waiting_authentication: None,
            connected: false,
            outbox: Vec::new(),
            first_delay,
            max_delay,
        }
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether anything needs a connection.
    pub(super) fn has_work(&self) -> bool {
        !self.queued.is_empty() || !self.subscriptions.is_empty() || self.waiting_authentication.is_some()
    }

    pub(super) fn command(&mut self, command: Command) {
        match command {
            Command::Call { id, text, answer } => {
                self.calls.insert(id, answer);
                if self.connected {
                    self.outbox.push(text);
                } else {
                    self.queued.push((id, text));
                }
            }
            Command::Subscribe(new) => {
                let subscription = Subscription {
                    method: new.method,
                    unsubscribe: new.unsubscribe,
                    params: new.params,
                    items: new.items,
                    last_event_id: new.last_event_id,
                    answer: Some(new.answer),
                    server_id: None,
                    accepted_before: false,
                    retry_at: None,
                    attempts: 0,
                };
                self.subscriptions.insert(new.id, subscription);
                if self.connected {
                    self.subscribe(new.id);
                }
            }
            Command::Abandon(id) => {
                self.calls.remove(&id);
                self.queued.retain(|(queued, _)| *queued != id);
            }
            Command::Unsubscribe(id) => {
                if let Some(subscription) = self.subscriptions.remove(&id)
                    && let Some(server_id) = subscription.server_id
                {
                    self.by_server_id.remove(&server_id);
                    self.unsubscribe(subscription.unsubscribe, &server_id);
                }
            }
            Command::Authenticate { authorization, answer } => {
                self.authorization = Some(authorization.clone());
                if self.connected {
                    self.authenticate(&authorization, Some(answer));
                } else {
                    self.waiting_authentication = Some(answer);
                }
            }
            Command::Connect | Command::Close => {}
        }
    }

    /// A connection is open: credentials first, then every subscription, then queued calls.
    pub(super) fn connected(&mut self, authorization: Option<String>) {
        self.connected = true;
        let waiting = self.waiting_authentication.take();
        match authorization {
            Some(authorization) => self.authenticate(&authorization, waiting),
            None => drop(waiting.map(|answer| answer.send(Err(closed())))),
        }
        let ids: Vec<u64> = self.subscriptions.keys().copied().collect();
        for id in ids {
            self.subscribe(id);
        }
        for (_, text) in std::mem::take(&mut self.queued) {
            self.outbox.push(text);
        }
    }

    /// The connection is gone: calls sent on it fail (their outcome is unknown), subscriptions
    /// wait for the next one.
    pub(super) fn disconnected(&mut self) {
        self.connected = false;
        self.outbox.clear();
        let queued: std::collections::HashSet<u64> = self.queued.iter().map(|(id, _)| *id).collect();
        let lost = wire::transport("the WebSocket connection was lost", None);
        let sent: Vec<u64> = self.calls.keys().filter(|id| !queued.contains(id)).copied().collect();
        for id in sent {
            if let Some(answer) = self.calls.remove(&id) {
                let _ = answer.send(Err(lost.clone()));
            }
        }
        for (_, request) in self.requests.drain() {
            if let Request::Authenticate(Some(answer)) = request {
                let _ = answer.send(Err(lost.clone()));
            }
        }
        self.by_server_id.clear();
        for subscription in self.subscriptions.values_mut() {
            subscription.server_id = None;
            subscription.retry_at = None;
        }
    }

    /// Closed for good.
    pub(super) fn close(&mut self) {
        self.disconnected();
        for (_, answer) in self.calls.drain() {
            let _ = answer.send(Err(closed()));
        }
        self.queued.clear();
        for (_, subscription) in self.subscriptions.drain() {
            match subscription.answer {
                Some(answer) => drop(answer.send(Err(closed()))),
                None => drop(subscription.items.try_send(Err(closed()))),
            }
        }
        if let Some(answer) = self.waiting_authentication.take() {
            let _ = answer.send(Err(closed()));
        }
    }

    /// A keep-alive ping.
    pub(super) fn ping(&mut self) {
        let id = self.next_id();
        self.requests.insert(id, Request::Ignored);
        self.outbox.push(wire::request(id, "rpc.ping", None, None));
    }

    /// When the next delayed resubscribe is due.
    pub(super) fn next_retry(&self) -> Option<Instant> {
        self.subscriptions.values().filter_map(|s| s.retry_at).min()
    }

    /// Resubscribes those whose delay has passed.
    pub(super) fn retry_due(&mut self, now: Instant) {
        let due: Vec<u64> = self
            .subscriptions
            .iter()
            .filter(|(_, s)| s.retry_at.is_some_and(|at| at <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.subscribe(id);
        }
    }

    fn authenticate(&mut self, authorization: &str, answer: Option<Answer<Box<RawValue>>>) {
        let id = self.next_id();
        let params = serde_json::json!({ "authorization": authorization });
        let params = serde_json::value::to_raw_value(&params).ok();
        self.requests.insert(id, Request::Authenticate(answer));
        self.outbox.push(wire::request(id, "rpc.authenticate", params.as_deref(), None));
    }

    fn subscribe(&mut self, id: u64) {
        let request = self.next_id();
        let Some(subscription) = self.subscriptions.get_mut(&id) else { return };
        subscription.retry_at = None;
        let last = subscription.last_event_id.as_ref().map(EventId::as_str);
        let text = wire::request_resuming(request, subscription.method, subscription.params.as_deref(), None, last);
        let unsubscribe = subscription.unsubscribe;
        self.requests.insert(request, Request::Subscribe { id, unsubscribe });
        self.outbox.push(text);
    }

    fn unsubscribe(&mut self, method: &str, server_id: &str) {
        let id = self.next_id();
        // `server_id` is JSON text already (a string or a number, as the server sent it).
        let params = RawValue::from_string(format!("[{server_id}]")).ok();
        self.requests.insert(id, Request::Ignored);
        self.outbox.push(wire::request(id, method, params.as_deref(), None));
    }

    pub(super) fn receive(&mut self, text: &str) {
        let Ok(incoming) = serde_json::from_str::<Incoming<'_>>(text) else { return };
        if let Some(id) = incoming.id.as_ref().and_then(serde_json::Value::as_u64) {
            match self.requests.remove(&id) {
                Some(Request::Subscribe { id, unsubscribe }) => self.accepted(id, unsubscribe, incoming.outcome()),
                Some(Request::Authenticate(answer)) => {
                    let outcome = incoming.outcome();
                    if let Err(error) = &outcome {
                        tracing::warn!(%error, "the server refused this client's credentials");
                    }
                    if let Some(answer) = answer {
                        let _ = answer.send(outcome);
                    }
                }
                Some(Request::Ignored) => {}
                None => {
                    if let Some(answer) = self.calls.remove(&id) {
                        let _ = answer.send(incoming.outcome());
                    }
                }
            }
            return;
        }
        let Some(notification) = incoming.params else { return };
        let server_id = notification.subscription.to_string();
        let Some(&id) = self.by_server_id.get(&server_id) else { return };
        if let Some(marker) = notification.missed {
            self.deliver(id, Err(wire::error_object(marker)));
        } else if let Some(error) = notification.error {
            self.by_server_id.remove(&server_id);
            if error.get() == "null" {
                self.subscriptions.remove(&id); // completed: the stream ends
            } else {
                self.ended(id, wire::error_object(error));
            }
        } else if let Some(value) = notification.result {
            let event_id = notification.event_id.map(EventId::from);
            if let (Some(subscription), Some(event_id)) = (self.subscriptions.get_mut(&id), &event_id) {
                subscription.last_event_id = Some(event_id.clone());
            }
            self.deliver(id, Ok(Item { value: value.to_owned(), event_id }));
        }
    }

    /// The answer to a (re)subscribe.
    fn accepted(&mut self, id: u64, unsubscribe: &'static str, outcome: Result<Box<RawValue>, RpcError>) {
        let Some(subscription) = self.subscriptions.get_mut(&id) else {
            // Dropped before the server named it: the server must not stream for nobody.
            if let Ok(server_id) = outcome {
                self.unsubscribe(unsubscribe, server_id.get());
            }
            return;
        };
        match outcome {
            Ok(server_id) => {
                let server_id = server_id.get().to_owned();
                subscription.server_id = Some(server_id.clone());
                subscription.attempts = 0;
                let resumed_blind = subscription.accepted_before && subscription.last_event_id.is_none();
                subscription.accepted_before = true;
                if let Some(answer) = subscription.answer.take()
                    && answer.send(Ok(())).is_err()
                {
                    // The caller gave up waiting.
                    let unsubscribe = subscription.unsubscribe;
                    self.subscriptions.remove(&id);
                    self.unsubscribe(unsubscribe, &server_id);
                    return;
                }
                self.by_server_id.insert(server_id, id);
                if resumed_blind {
                    // Nothing to resume from: whatever happened meanwhile is unknown.
                    self.deliver(id, Err(RpcError::events_missed(None, MissedReason::Unknown)));
                }
            }
            Err(error) => match subscription.answer.take() {
                Some(answer) => {
                    self.subscriptions.remove(&id);
                    let _ = answer.send(Err(error));
                }
                None => self.ended(id, error),
            },
        }
    }

    /// A live subscription ended with `error`: resubscribed later if it says "try again",
    /// else the error is its stream's last item.
    fn ended(&mut self, id: u64, error: RpcError) {
        let Some(subscription) = self.subscriptions.get_mut(&id) else { return };
        subscription.server_id = None;
        if retryable(&error) {
            let delay =
                error.retry_after().unwrap_or_else(|| backoff(self.first_delay, self.max_delay, subscription.attempts));
            subscription.attempts = subscription.attempts.saturating_add(1);
            subscription.retry_at = Some(Instant::now() + delay);
        } else if let Some(subscription) = self.subscriptions.remove(&id) {
            let _ = subscription.items.try_send(Err(error));
        }
    }

    fn deliver(&mut self, id: u64, item: Result<Item, RpcError>) {
        let Some(subscription) = self.subscriptions.get(&id) else { return };
        if subscription.items.try_send(item).is_err() {
            // Full (the subscriber is too far behind) or gone: end it with a reason.
            if let Some(subscription) = self.subscriptions.remove(&id) {
                let _ = subscription.items.try_send(Err(RpcError::transport("the subscriber fell too far behind")));
                if let Some(server_id) = subscription.server_id {
                    self.by_server_id.remove(&server_id);
                    self.unsubscribe(subscription.unsubscribe, &server_id);
                }
            }
        }
    }
}
