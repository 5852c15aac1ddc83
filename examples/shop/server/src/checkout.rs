//! `orders.checkout`: all lines or none, exactly once per idempotency key.
//!
//! One write transaction: look up the key; if it was used, answer with its order (same lines)
//! or `CONFLICT` (other lines). Otherwise take the stock (`UPDATE ... WHERE stock >= n`, so two
//! checkouts can never sell the same unit), insert the order and its items, then the key.
//!
//! Two calls with the same key can race past the lookup (PostgreSQL runs them concurrently).
//! The key's primary key settles it: the loser's insert fails with a unique violation, its
//! transaction rolls back (stock included), and it retries once, now finding the winner's key,
//! so both calls answer with the one order. The key lives in the database, so a retry after a
//! restart gets the same answer.

use std::collections::{BTreeMap, HashMap};

use accord::{FrameworkCode, I53, RpcError};
use sea_query::{Expr, ExprTrait, Query};
use sha2::{Digest, Sha256};
use shop_api::{Checkout, Order, OrderError, OrderEvent, OrderItem, OrderStatus};

use crate::db::schema::{IdempotencyKeys as K, OrderItems, Orders, Products};
use crate::db::{DbError, Queries, Tx, now_ms, to_u32};
use crate::orders::{OrderBook, OrderRow, status_str, with_items};

#[derive(sqlx::FromRow)]
struct KeyRow {
    request_hash: String,
    order_id: i64,
}

#[derive(sqlx::FromRow)]
struct Stock {
    stock: i64,
}

#[derive(sqlx::FromRow)]
struct Priced {
    id: i64,
    name: String,
    price_cents: i64,
}

/// How one attempt ended.
enum Attempt {
    /// A new order.
    Placed(Order),
    /// The key's earlier order, answered again.
    Replayed(Order),
    /// A domain error; nothing was written.
    Refused(OrderError),
    /// Another call with the same key committed first.
    LostRace,
}

/// Lines naming the same product, added up; sorted by product id (which also fixes the order
/// rows are locked in, so concurrent checkouts cannot deadlock).
fn merge(checkout: &Checkout) -> Result<BTreeMap<u32, u32>, OrderError> {
    let mut lines = BTreeMap::new();
    for line in &checkout.lines {
        let quantity: &mut u32 = lines.entry(line.product_id).or_default();
        *quantity = quantity.checked_add(line.quantity).ok_or_else(|| too_large("a quantity"))?;
    }
    Ok(lines)
}

/// What makes two checkouts "the same request": their merged lines.
fn request_hash(lines: &BTreeMap<u32, u32>) -> String {
    let mut hasher = Sha256::new();
    for (product, quantity) in lines {
        hasher.update(format!("{product}x{quantity};"));
    }
    hex::encode(hasher.finalize())
}

fn too_large(what: &str) -> OrderError {
    OrderError::Rpc(RpcError::framework(FrameworkCode::InvalidParams, format!("{what} is too large")))
}

/// Places the order (see the module docs).
pub(crate) async fn checkout(book: &OrderBook, user_id: i64, input: Checkout) -> Result<Order, OrderError> {
    let lines = merge(&input)?;
    let hash = request_hash(&lines);
    for _ in 0..2 {
        let tx = book.db.begin().await?;
        match attempt(tx, user_id, &input.idempotency_key, &hash, &lines).await? {
            Attempt::Placed(order) => {
                let event = OrderEvent { order_id: order.id, status: order.status, at_ms: order.created_at_ms };
                book.events.publish(user_id, event).await;
                // The cached products now show too much stock.
                book.catalog.forget(lines.keys().copied()).await;
                return Ok(order);
            }
            Attempt::Replayed(order) => return Ok(order),
            Attempt::Refused(error) => return Err(error),
            Attempt::LostRace => {
                tracing::debug!("checkout lost an idempotency-key race; answering with the winner's order");
                continue;
            }
        }
    }
    // Two lost races in a row: the winner's key must exist now, so this is not expected.
    Err(OrderError::Rpc(RpcError::framework(
        FrameworkCode::Conflict,
        "a concurrent checkout with this key is in progress",
    )))
}

async fn attempt(
    mut tx: Tx,
    user_id: i64,
    key: &str,
    hash: &str,
    lines: &BTreeMap<u32, u32>,
) -> Result<Attempt, DbError> {
    let existing = Query::select()
        .columns([K::RequestHash, K::OrderId])
        .from(K::Table)
        .and_where(Expr::col(K::UserId).eq(user_id))
        .and_where(Expr::col(K::Key).eq(key))
        .to_owned();
    if let Some(used) = tx.fetch_optional::<KeyRow>(&existing).await? {
        if used.request_hash != hash {
            let message = "this idempotency key was used for a different cart; use a new key";
            return Ok(Attempt::Refused(OrderError::Rpc(RpcError::framework(FrameworkCode::Conflict, message))));
        }
        let select = Query::select()
            .columns(OrderRow::COLUMNS)
            .from(Orders::Table)
            .and_where(Expr::col(Orders::Id).eq(used.order_id))
            .to_owned();
        let row = tx.fetch_one::<OrderRow>(&select).await?;
        let order = with_items(&mut tx, vec![row]).await?.into_iter().next().ok_or(DbError::OutOfRange("orders.id"))?;
        tx.commit().await?;
        return Ok(Attempt::Replayed(order));
    }

    let select = Query::select()
        .columns([Products::Id, Products::Name, Products::PriceCents])
        .from(Products::Table)
        .and_where(Expr::col(Products::Id).is_in(lines.keys().map(|&id| i64::from(id))))
        .to_owned();
    let products: HashMap<i64, Priced> =
        tx.fetch_all::<Priced>(&select).await?.into_iter().map(|p| (p.id, p)).collect();
    let now = now_ms();
    let mut total: u64 = 0;
    let mut items = Vec::with_capacity(lines.len());
    for (&product_id, &quantity) in lines {
        let Some(product) = products.get(&i64::from(product_id)) else {
            return Ok(Attempt::Refused(OrderError::ProductNotFound { product_id }));
        };
        let take = Query::update()
            .table(Products::Table)
            .value(Products::Stock, Expr::col(Products::Stock).sub(i64::from(quantity)))
            .value(Products::UpdatedAtMs, now)
            .and_where(Expr::col(Products::Id).eq(i64::from(product_id)))
            .and_where(Expr::col(Products::Stock).gte(i64::from(quantity)))
            .to_owned();
        if tx.execute(&take).await? == 0 {
            // Read again: on PostgreSQL a concurrent checkout may have taken stock since the
            // snapshot above, and the error should say what is left now.
            let now_left = Query::select()
                .column(Products::Stock)
                .from(Products::Table)
                .and_where(Expr::col(Products::Id).eq(i64::from(product_id)))
                .to_owned();
            let left = tx.fetch_optional::<Stock>(&now_left).await?.map_or(0, |row| row.stock);
            let available = to_u32(left, "products.stock")?;
            return Ok(Attempt::Refused(OrderError::OutOfStock { product_id, available, requested: quantity }));
        }
        let unit_price_cents = to_u32(product.price_cents, "products.price_cents")?;
        total = total.saturating_add(u64::from(unit_price_cents) * u64::from(quantity));
        items.push(OrderItem { product_id, product_name: product.name.clone(), quantity, unit_price_cents });
    }
    let Ok(total_cents) = u32::try_from(total) else {
        return Ok(Attempt::Refused(too_large("the order total")));
    };

    let insert_order = Query::insert()
        .into_table(Orders::Table)
        .columns([Orders::UserId, Orders::Status, Orders::TotalCents, Orders::CreatedAtMs, Orders::UpdatedAtMs])
        .values_panic([
            user_id.into(),
            status_str(OrderStatus::Placed).into(),
            i64::from(total_cents).into(),
            now.into(),
            now.into(),
        ])
        .returning(Query::returning().columns(OrderRow::COLUMNS))
        .to_owned();
    let order = tx.fetch_one::<OrderRow>(&insert_order).await?;
    let mut insert_items = Query::insert()
        .into_table(OrderItems::Table)
        .columns([OrderItems::OrderId, OrderItems::ProductId, OrderItems::Quantity, OrderItems::UnitPriceCents])
        .to_owned();
    for item in &items {
        insert_items.values_panic([
            order.id.into(),
            i64::from(item.product_id).into(),
            i64::from(item.quantity).into(),
            i64::from(item.unit_price_cents).into(),
        ]);
    }
    tx.execute(&insert_items).await?;
    let insert_key = Query::insert()
        .into_table(K::Table)
        .columns([K::UserId, K::Key, K::RequestHash, K::OrderId, K::CreatedAtMs])
        .values_panic([user_id.into(), key.into(), hash.into(), order.id.into(), now.into()])
        .to_owned();
    match tx.execute(&insert_key).await {
        Ok(_) => {}
        Err(e) if e.is_unique_violation() => return Ok(Attempt::LostRace),
        Err(e) => return Err(e),
    }
    tx.commit().await?;
    let at = I53::new(now).map_err(|_| DbError::OutOfRange("orders.created_at_ms"))?;
    items.sort_by(|a, b| a.product_name.cmp(&b.product_name));
    Ok(Attempt::Placed(Order {
        id: to_u32(order.id, "orders.id")?,
        status: OrderStatus::Placed,
        total_cents,
        items,
        created_at_ms: at,
        updated_at_ms: at,
    }))
}

#[cfg(test)]
mod tests {
    use shop_api::CartLine;

    use super::*;

    fn cart(lines: &[(u32, u32)]) -> Checkout {
        let lines = lines.iter().map(|&(product_id, quantity)| CartLine { product_id, quantity }).collect();
        Checkout { idempotency_key: "k-12345678".into(), lines }
    }

    #[test]
    fn the_same_cart_in_any_order_is_the_same_request() {
        let a = merge(&cart(&[(1, 2), (3, 1), (1, 1)])).unwrap();
        let b = merge(&cart(&[(3, 1), (1, 3)])).unwrap();
        assert_eq!(a, b);
        assert_eq!(request_hash(&a), request_hash(&b));
        assert_ne!(request_hash(&a), request_hash(&merge(&cart(&[(1, 3), (3, 2)])).unwrap()));
    }

    #[test]
    fn overflowing_quantities_are_refused() {
        assert!(merge(&cart(&[(1, u32::MAX), (1, 1)])).is_err());
    }
}
