//! Topics: publish/subscribe for live data that survives reconnects, restarts and many
//! instances.
//!
//! Procedures publish events into a [`Topic`]; tracked subscriptions read them with
//! [`Topic::subscribe`], which honours the subscriber's `meta.lastEventId`: it delivers every
//! event after that one, in order and once, then goes on live, or, when it cannot (the id is
//! older than the retention, or from another history), sends the `EVENTS_MISSED` marker first
//! and goes on live. Two backends, chosen when the [`Topics`] is made:
//!
//! - **in process** ([`Topics::in_process`], the default): each topic keeps its recent events
//!   in memory. Every subscriber of this process sees every event; a restart starts a new
//!   history, so resuming across it answers `EVENTS_MISSED` (`reason: "unknown"`).
//! - **Redis Streams** ([`Topics::redis`]): every instance sharing the Redis sees every event,
//!   and a subscriber can resume on any of them, across restarts. One reader task per topic per
//!   instance (see `redis.rs` for the mechanics). Needs Redis ≥ 7.0.
//!
//! Retention ([`Retention`]): at most `max_events` (default 10 000) events no older than
//! `max_age` (default 5 minutes) are kept to resume from; older ones are dropped when newer ones
//! are published.
//!
//! ```
//! use accord::{Cx, RpcError, Stream, Tracked};
//! use accord_server::topics::{Topic, Topics};
//! use futures_util::StreamExt;
//!
//! #[accord::wire]
//! #[derive(Clone, Debug, PartialEq)]
//! pub struct Price { pub cents: u32 }
//!
//! #[accord::error]
//! #[derive(Debug, thiserror::Error)]
//! pub enum PriceError { #[error(transparent)] #[accord(rpc)] Rpc(RpcError) }
//!
//! #[accord::procedures(namespace = "prices")]
//! pub trait Prices {
//!     #[mutation]
//!     async fn set(&self, cx: &Cx, input: Price) -> Result<(), PriceError>;
//!     /// Every price from now on; resumable.
//!     #[subscription]
//!     async fn changes(&self, cx: &Cx) -> Result<Stream<Tracked<Price>, PriceError>, PriceError>;
//! }
//!
//! struct Shop { prices: Topic<Price> }
//!
//! impl Prices for Shop {
//!     async fn set(&self, _: &Cx, input: Price) -> Result<(), PriceError> {
//!         self.prices.publish(input).await.map_err(RpcError::from)?; // UNAVAILABLE if Redis is down
//!         Ok(())
//!     }
//!     async fn changes(&self, cx: &Cx) -> Result<Stream<Tracked<Price>, PriceError>, PriceError> {
//!         self.prices.subscribe(cx).await // resumes after cx.last_event_id()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let topics = Topics::in_process(); // or Topics::redis("redis://127.0.0.1:6379")?
//! let shop = Shop { prices: topics.topic("prices")? };
//! let first = shop.prices.publish(Price { cents: 100 }).await?;
//! shop.prices.publish(Price { cents: 120 }).await?;
//!
//! // A subscriber that saw `first` gets what came after it.
//! let mut resumed = shop.changes(&Cx::new().with_last_event_id(first)).await?;
//! let next = resumed.next().await.expect("an item")?;
//! assert_eq!(next.value, Price { cents: 120 });
//! # Ok(()) }
//! ```

mod log;
#[cfg(feature = "redis")]
mod redis;
#[cfg(not(feature = "redis"))]
#[path = "without_redis.rs"]
mod redis;
mod subscriber;

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use accord::{Cx, EventId, FrameworkCode, RetryHintData, RpcError, Tracked};
use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::{CancellationToken, DropGuard};

use log::{Log, Offset, event_id};
use subscriber::Subscriber;

/// How many events a topic keeps for subscribers to resume from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// The most events kept (default 10 000).
    pub max_events: usize,
    /// The oldest event kept (default 5 minutes).
    pub max_age: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self { max_events: 10_000, max_age: Duration::from_secs(300) }
    }
}

/// Why a topic could not be made, published to or subscribed to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// The Redis URL does not parse.
    #[error("invalid Redis URL: {0}")]
    RedisUrl(String),
    /// A topic name is empty, longer than 100 bytes, or holds more than `[A-Za-z0-9._:-]`.
    #[error("invalid topic name {0:?}: 1 to 100 of [A-Za-z0-9._:-]")]
    InvalidName(String),
    /// The name is taken by a topic of another event type in this [`Topics`].
    #[error("the topic {0:?} exists with another event type")]
    OtherType(String),
    /// The event does not serialize.
    #[error("the event does not serialize: {0}")]
    Encode(#[from] serde_json::Error),
    /// The backend cannot be reached (Redis down or too slow); retry later.
    #[error("the topic's backend is unavailable: {0}")]
    Unavailable(String),
}

impl From<TopicError> for RpcError {
    /// `UNAVAILABLE` (retry in a second) when the backend is down, else `INTERNAL` (logged).
    fn from(error: TopicError) -> Self {
        match error {
            TopicError::Unavailable(_) => RpcError::from_data(
                FrameworkCode::Unavailable,
                "live events are unavailable; retry shortly",
                RetryHintData { retry_after_ms: Some(1000), limit: None },
            ),
            other => {
                tracing::error!(error = %other, "a topic failed");
                RpcError::internal()
            }
        }
    }
}

/// What a topic carries: any wire-able value that can be cloned for each subscriber.
pub trait Event: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static> Event for T {}

/// A set of topics on one backend. Cheap to clone.
#[derive(Clone)]
pub struct Topics {
    inner: Arc<Inner>,
}

struct Inner {
    redis: Option<redis::Connection>,
    retention: Retention,
    topics: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Topics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = if self.inner.redis.is_some() { "redis" } else { "in process" };
        f.debug_struct("Topics").field("backend", &backend).field("retention", &self.inner.retention).finish()
    }
}

impl Topics {
    /// Topics kept in this process's memory.
    pub fn in_process() -> Self {
        Self::with(None, Retention::default())
    }

    /// Topics in Redis Streams at `url`, keys prefixed `accord:topic:`. Connects lazily: Redis
    /// may be down at start (topics then answer `UNAVAILABLE` until it is up).
    pub fn redis(url: &str) -> Result<Self, TopicError> {
        Self::redis_with_prefix(url, "accord:topic:")
    }

    /// [`Topics::redis`] with another key prefix (to share a Redis between apps).
    pub fn redis_with_prefix(url: &str, prefix: &str) -> Result<Self, TopicError> {
        let connection = redis::Connection::new(url, prefix, Duration::from_secs(2))?;
        Ok(Self::with(Some(connection), Retention::default()))
    }

    fn with(redis: Option<redis::Connection>, retention: Retention) -> Self {
        Self { inner: Arc::new(Inner { redis, retention, topics: Mutex::new(HashMap::new()) }) }
    }

    /// The same backend with another retention (default [`Retention::default`]). Call it before
    /// making topics: the result is a new, empty set of topics.
    pub fn with_retention(self, retention: Retention) -> Self {
        let redis = self.inner.redis.clone();
        Self::with(redis, retention)
    }

    /// Whether events go through Redis.
    pub fn is_redis(&self) -> bool {
        self.inner.redis.is_some()
    }

    /// The topic `name` carrying `T`, made on first use (with the Redis backend, that starts
    /// its reader task: call it inside a tokio runtime).
    pub fn topic<T: Event>(&self, name: &str) -> Result<Topic<T>, TopicError> {
        let valid = (1..=100).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if !valid {
            return Err(TopicError::InvalidName(name.to_owned()));
        }
        let mut topics = self.inner.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = topics.get(name) {
            let shared = existing.clone().downcast::<Shared<T>>().map_err(|_| TopicError::OtherType(name.into()))?;
            return Ok(Topic { shared });
        }
        let shared = Arc::new(Shared::new(name, self.inner.redis.as_ref(), self.inner.retention));
        topics.insert(name.to_owned(), shared.clone());
        Ok(Topic { shared })
    }
}

/// One topic: publish into it, subscribe to it. Cheap to clone.
pub struct Topic<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

impl<T> std::fmt::Debug for Topic<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topic").field("name", &self.shared.name).finish_non_exhaustive()
    }
}

struct Shared<T> {
    name: Arc<str>,
    retention: Retention,
    log: Arc<Log<T>>,
    redis: Option<Arc<redis::Store>>,
    /// Stops the Redis reader when the last handle goes.
    _reader: Option<DropGuard>,
}

impl<T: Event> Shared<T> {
    fn new(name: &str, redis: Option<&redis::Connection>, retention: Retention) -> Self {
        let name: Arc<str> = name.into();
        match redis {
            None => {
                let log = Arc::new(Log::new(new_epoch().into(), Offset::ZERO, true));
                Self { name, retention, log, redis: None, _reader: None }
            }
            Some(connection) => {
                // Down until the reader has read the stream's position.
                let log = Arc::new(Log::new("".into(), Offset::ZERO, false));
                let store = Arc::new(connection.store(&name));
                let stop = CancellationToken::new();
                tokio::spawn(redis::follow(name.clone(), store.clone(), log.clone(), retention, stop.clone()));
                Self { name, retention, log, redis: Some(store), _reader: Some(stop.drop_guard()) }
            }
        }
    }
}

/// An epoch for a new in-process history.
fn new_epoch() -> String {
    use std::hash::BuildHasher;
    let seed = (std::process::id(), std::time::SystemTime::now());
    format!("{:016x}", std::hash::RandomState::new().hash_one(seed))
}

impl<T: Event> Topic<T> {
    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Publishes `event` to every subscriber (of every instance, with Redis); its id.
    ///
    /// Fails with [`TopicError::Unavailable`] when Redis cannot be reached (that event is then
    /// recorded as a gap once Redis is back: subscribers get `EVENTS_MISSED`).
    pub async fn publish(&self, event: T) -> Result<EventId, TopicError> {
        let shared = &self.shared;
        match &shared.redis {
            None => {
                let (epoch, offset) = {
                    let state = shared.log.state();
                    (state.epoch.clone(), state.head.next())
                };
                shared.log.append([(offset, Some(event))], &shared.retention);
                Ok(event_id(&epoch, offset))
            }
            Some(store) => {
                let payload = serde_json::to_string(&event)?;
                let (generation, offset) = store.publish(&payload, &shared.retention).await?;
                Ok(event_id(&generation, offset))
            }
        }
    }

    /// A subscription's stream for a procedure: after `cx.last_event_id()` when the subscriber
    /// resumes, else live. Errors are `E`s: `UNAVAILABLE` when the backend is down (refused,
    /// or ending the stream), and the `EVENTS_MISSED` marker, which does not end it.
    pub async fn subscribe<E: From<RpcError> + Send + 'static>(
        &self,
        cx: &Cx,
    ) -> Result<accord::Stream<Tracked<T>, E>, E> {
        let events = self.subscribe_after(cx.last_event_id()).await.map_err(|e| E::from(e.into()))?;
        Ok(events.map(|item| item.map_err(E::from)).boxed())
    }

    /// The events after `after` (live when `None`), as [`subscribe`](Self::subscribe) streams
    /// them, with [`RpcError`]s.
    pub async fn subscribe_after(
        &self,
        after: Option<&EventId>,
    ) -> Result<impl futures_util::Stream<Item = Result<Tracked<T>, RpcError>> + Send + 'static, TopicError> {
        let subscriber = Subscriber::start(self.shared.clone(), after).await?;
        Ok(futures_util::stream::unfold(subscriber, |mut subscriber| async move {
            let item = subscriber.next().await?;
            Some((item, subscriber))
        }))
    }
}

#[cfg(test)]
mod tests;

/// Decodes a payload; "" is a gap, and so is one this process cannot read (logged).
pub(crate) fn decode<T: DeserializeOwned>(topic: &str, payload: &str) -> Option<T> {
    if payload.is_empty() {
        return None;
    }
    serde_json::from_str(payload)
        .inspect_err(|error| tracing::error!(topic, %error, "an event in Redis does not decode; delivered as a gap"))
        .ok()
}
