//! Live order status changes: published by checkout and fulfilment, streamed by `orders.events`.
//!
//! Every change goes to one topic (`shop.orders`, through Redis Streams when `REDIS_URL` is set,
//! so every instance's subscribers see every instance's changes), and each subscriber reads the
//! changes of its own orders. The stream is tracked: a subscriber that reconnects, to this
//! instance or another, resumes after the last change it saw (`meta.lastEventId`), or is told
//! `EVENTS_MISSED` and reloads its orders.

use accord::{Cx, Stream, Tracked};
use accord_server::topics::{Topic, TopicError, Topics};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use shop_api::{OrderError, OrderEvent};

/// The topic order changes go through.
pub const TOPIC: &str = "shop.orders";

/// An event and whose order it is.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Addressed {
    user_id: i64,
    event: OrderEvent,
}

/// The topic every status change goes through.
#[derive(Clone, Debug)]
pub struct OrderEvents {
    topic: Topic<Addressed>,
}

impl OrderEvents {
    /// Order events on `topics`.
    pub fn new(topics: &Topics) -> Result<Self, TopicError> {
        Ok(Self { topic: topics.topic(TOPIC)? })
    }

    /// Tells `user_id`'s subscribers. The change is made whether or not this succeeds: a
    /// publication that failed (Redis down) is recorded as a gap, and subscribers are told
    /// `EVENTS_MISSED`.
    pub async fn publish(&self, user_id: i64, event: OrderEvent) {
        if let Err(error) = self.topic.publish(Addressed { user_id, event }).await {
            tracing::warn!(%error, "an order event could not be published; subscribers will be told they missed it");
        }
    }

    /// `user_id`'s events: after `cx.last_event_id()` when the subscriber resumes, else from now.
    pub async fn subscribe(
        &self,
        cx: &Cx,
        user_id: i64,
    ) -> Result<Stream<Tracked<OrderEvent>, OrderError>, OrderError> {
        let events = self.topic.subscribe::<OrderError>(cx).await?;
        Ok(events
            .filter_map(move |item| {
                std::future::ready(match item {
                    Ok(item) if item.value.user_id == user_id => Some(Ok(item.map(|addressed| addressed.event))),
                    Ok(_) => None,
                    Err(error) => Some(Err(error)),
                })
            })
            .boxed())
    }
}
