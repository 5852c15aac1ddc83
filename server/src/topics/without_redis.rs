//! The Redis backend's place when `accord-server` is built without its `redis` feature:
//! [`Topics::redis`](super::Topics::redis) answers a typed error, and nothing below can be
//! reached (the types are uninhabited), so the in-process backend works unchanged.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::log::{Log, Offset};
use super::{Retention, TopicError};

pub(super) const BATCH: usize = 256;

#[derive(Clone)]
pub(super) struct Connection(Infallible);

impl Connection {
    pub(super) fn new(_url: &str, _prefix: &str, _timeout: Duration) -> Result<Self, TopicError> {
        Err(TopicError::RedisUrl("this accord-server was built without its `redis` feature".into()))
    }

    pub(super) fn store(&self, _topic: &str) -> Store {
        match self.0 {}
    }
}

pub(super) struct Store(Infallible);

pub(super) struct Replay {
    pub generation: String,
    pub last: Offset,
    pub trimmed: Offset,
    pub entries: Vec<(Offset, String)>,
}

impl Store {
    pub(super) async fn publish(&self, _payload: &str, _retention: &Retention) -> Result<(String, Offset), TopicError> {
        match self.0 {}
    }

    pub(super) async fn replay(&self, _after: Offset, _count: usize) -> Result<Replay, TopicError> {
        match self.0 {}
    }
}

pub(super) async fn follow<T: DeserializeOwned + Clone + Send + 'static>(
    _topic: Arc<str>,
    store: Arc<Store>,
    _log: Arc<Log<T>>,
    _retention: Retention,
    _stop: CancellationToken,
) {
    match store.0 {}
}
