//! Fulfilment: moves orders forward (`placed` → `paid` → `shipped` → `delivered`), one status
//! per step, and publishes each change for `orders.events`.
//!
//! A stand-in for a payment provider and a warehouse. It scans the database rather than timing
//! each order in memory, so orders placed before a restart still move on after it, and each
//! move is a conditional `UPDATE ... WHERE status = <old>`, so two instances never move one
//! order twice.

use std::time::Duration;

use sea_query::{Expr, ExprTrait, Order as Direction, Query};
use shop_api::{OrderEvent, OrderStatus};

use crate::db::schema::Orders;
use crate::db::{Database, DbError, Queries, now_ms, to_i53, to_u32};
use crate::order_events::OrderEvents;
use crate::orders::status_str;

/// Orders moved per scan at most.
const BATCH: u64 = 200;

#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    user_id: i64,
    status: String,
}

fn next(status: &str) -> Option<OrderStatus> {
    match status {
        "placed" => Some(OrderStatus::Paid),
        "paid" => Some(OrderStatus::Shipped),
        "shipped" => Some(OrderStatus::Delivered),
        _ => None,
    }
}

/// Runs until the task is aborted. A failed scan (the database is down) is retried at the next
/// tick, so the orders move on by themselves once it is back; an outage is logged when it
/// starts and when it ends, not at every tick.
pub async fn run(db: Database, events: OrderEvents, step: Duration) {
    let period = step / 4;
    // The first scan one period in, not at once: start-up stays quiet.
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing_since = None;
    loop {
        every.tick().await;
        match advance(&db, &events, step).await {
            Ok(_) => {
                if let Some(since) = failing_since.take() {
                    tracing::info!(after = ?tokio::time::Instant::now().duration_since(since), "fulfilment scans work again");
                }
            }
            Err(error) if failing_since.is_none() => {
                tracing::warn!(%error, "fulfilment scan failed; retrying every {period:?}");
                failing_since = Some(tokio::time::Instant::now());
            }
            Err(error) => tracing::debug!(%error, "fulfilment scan failed again"),
        }
    }
}

/// Moves every order that has spent `step` in its status; returns how many moved.
pub async fn advance(db: &Database, events: &OrderEvents, step: Duration) -> Result<usize, DbError> {
    let due_before = now_ms().saturating_sub(i64::try_from(step.as_millis()).unwrap_or(i64::MAX));
    let select = Query::select()
        .columns([Orders::Id, Orders::UserId, Orders::Status])
        .from(Orders::Table)
        .and_where(Expr::col(Orders::Status).is_in(["placed", "paid", "shipped"]))
        .and_where(Expr::col(Orders::UpdatedAtMs).lte(due_before))
        .order_by(Orders::UpdatedAtMs, Direction::Asc)
        .limit(BATCH)
        .to_owned();
    let due = db.read().await?.fetch_all::<Due>(&select).await?;
    let mut moved = 0;
    for order in due {
        let Some(status) = next(&order.status) else { continue };
        let now = now_ms();
        let update = Query::update()
            .table(Orders::Table)
            .value(Orders::Status, status_str(status))
            .value(Orders::UpdatedAtMs, now)
            .and_where(Expr::col(Orders::Id).eq(order.id))
            .and_where(Expr::col(Orders::Status).eq(order.status.as_str()))
            .to_owned();
        let mut tx = db.begin().await?;
        let changed = tx.execute(&update).await?;
        tx.commit().await?;
        if changed == 1 {
            moved += 1;
            let event = OrderEvent {
                order_id: to_u32(order.id, "orders.id")?,
                status,
                at_ms: to_i53(now, "orders.updated_at_ms")?,
            };
            events.publish(order.user_id, event).await;
        }
    }
    Ok(moved)
}
