//! Live order status changes: published by checkout and fulfilment, streamed by `orders.events`.
//!
//! In-process (a tokio broadcast channel): with several server instances, each streams the
//! changes it made itself. A multi-instance deployment would publish through PostgreSQL
//! `LISTEN/NOTIFY` or a broker instead; the procedure would not change.

use accord::{FrameworkCode, RpcError, Stream};
use futures_util::StreamExt;
use shop_api::{OrderError, OrderEvent};
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before its subscription ends.
const BUFFER: usize = 1024;

/// An event and whose order it is.
#[derive(Clone, Debug)]
struct Addressed {
    user_id: i64,
    event: OrderEvent,
}

/// The channel every status change goes through.
#[derive(Clone, Debug)]
pub struct OrderEvents {
    sender: broadcast::Sender<Addressed>,
}

impl Default for OrderEvents {
    fn default() -> Self {
        Self { sender: broadcast::channel(BUFFER).0 }
    }
}

impl OrderEvents {
    /// Tells `user_id`'s subscribers.
    pub fn publish(&self, user_id: i64, event: OrderEvent) {
        // No subscriber is not an error.
        let _ = self.sender.send(Addressed { user_id, event });
    }

    /// `user_id`'s events from now on. A subscriber that falls more than 1024 events behind
    /// gets `OVERLOADED` and should resubscribe (and reload its orders).
    pub fn subscribe(&self, user_id: i64) -> Stream<OrderEvent, OrderError> {
        let receiver = self.sender.subscribe();
        futures_util::stream::unfold(Some(receiver), move |receiver| async move {
            let mut receiver = receiver?;
            loop {
                match receiver.recv().await {
                    Ok(Addressed { user_id: owner, event }) if owner == user_id => {
                        return Some((Ok(event), Some(receiver)));
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        let message = format!("fell {missed} events behind; resubscribe");
                        let error = OrderError::Rpc(RpcError::framework(FrameworkCode::Overloaded, message));
                        return Some((Err(error), None));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }
}
