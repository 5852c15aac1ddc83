//! `orders.*`: the caller's orders (the [`Orders`] trait on the database).
//!
//! Orders are read with their items in a constant number of queries, however many orders a
//! page holds: one for the page of orders, one for all of their items (joined with the product
//! names, `WHERE order_id IN (...)`), and one count. Never one query per order.

use std::collections::HashMap;

use accord::{Cx, Stream, Tracked};
use sea_query::{Expr, ExprTrait, Func, Order as Direction, Query};
use shop_api::{
    Checkout, Order, OrderError, OrderEvent, OrderId, OrderItem, OrderPage, OrderQuery, OrderStatus, Orders,
};

use crate::accounts::user_id;
use crate::catalog::Catalog;
use crate::db::schema::{OrderItems, Orders as O, Products};
use crate::db::{Count, Database, DbError, Queries, to_i53, to_u32};
use crate::order_events::OrderEvents;

/// The page size when a query sets none.
pub const DEFAULT_LIMIT: u32 = 20;

/// An order row, without its items.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OrderRow {
    pub id: i64,
    pub status: String,
    pub total_cents: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl OrderRow {
    pub const COLUMNS: [O; 5] = [O::Id, O::Status, O::TotalCents, O::CreatedAtMs, O::UpdatedAtMs];
}

#[derive(Debug, sqlx::FromRow)]
struct ItemRow {
    order_id: i64,
    product_id: i64,
    product_name: String,
    quantity: i64,
    unit_price_cents: i64,
}

/// The stored form of a status.
pub fn status_str(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Placed => "placed",
        OrderStatus::Paid => "paid",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Delivered => "delivered",
    }
}

fn parse_status(stored: &str) -> Result<OrderStatus, DbError> {
    Ok(match stored {
        "placed" => OrderStatus::Placed,
        "paid" => OrderStatus::Paid,
        "shipped" => OrderStatus::Shipped,
        "delivered" => OrderStatus::Delivered,
        _ => return Err(DbError::OutOfRange("orders.status")),
    })
}

/// The items of `orders`, in one query, attached to their orders (in the given order).
pub(crate) async fn with_items(conn: &mut impl Queries, orders: Vec<OrderRow>) -> Result<Vec<Order>, DbError> {
    let mut items: HashMap<i64, Vec<OrderItem>> = HashMap::new();
    if !orders.is_empty() {
        let select = Query::select()
            .column((OrderItems::Table, OrderItems::OrderId))
            .column((OrderItems::Table, OrderItems::ProductId))
            .expr_as(Expr::col((Products::Table, Products::Name)), "product_name")
            .column((OrderItems::Table, OrderItems::Quantity))
            .column((OrderItems::Table, OrderItems::UnitPriceCents))
            .from(OrderItems::Table)
            .inner_join(
                Products::Table,
                Expr::col((Products::Table, Products::Id)).equals((OrderItems::Table, OrderItems::ProductId)),
            )
            .and_where(Expr::col((OrderItems::Table, OrderItems::OrderId)).is_in(orders.iter().map(|o| o.id)))
            .order_by((Products::Table, Products::Name), Direction::Asc)
            .to_owned();
        for row in conn.fetch_all::<ItemRow>(&select).await? {
            items.entry(row.order_id).or_default().push(OrderItem {
                product_id: to_u32(row.product_id, "order_items.product_id")?,
                product_name: row.product_name,
                quantity: to_u32(row.quantity, "order_items.quantity")?,
                unit_price_cents: to_u32(row.unit_price_cents, "order_items.unit_price_cents")?,
            });
        }
    }
    orders
        .into_iter()
        .map(|row| {
            Ok(Order {
                id: to_u32(row.id, "orders.id")?,
                status: parse_status(&row.status)?,
                total_cents: to_u32(row.total_cents, "orders.total_cents")?,
                items: items.remove(&row.id).unwrap_or_default(),
                created_at_ms: to_i53(row.created_at_ms, "orders.created_at_ms")?,
                updated_at_ms: to_i53(row.updated_at_ms, "orders.updated_at_ms")?,
            })
        })
        .collect()
}

/// Implements [`Orders`].
#[derive(Clone, Debug)]
pub struct OrderBook {
    pub(crate) db: Database,
    pub(crate) events: OrderEvents,
    pub(crate) catalog: Catalog,
}

impl OrderBook {
    pub fn new(db: Database, events: OrderEvents, catalog: Catalog) -> Self {
        Self { db, events, catalog }
    }
}

impl Orders for OrderBook {
    async fn list_mine(&self, cx: &Cx, query: OrderQuery) -> Result<OrderPage, OrderError> {
        let user = user_id(cx)?;
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        let count = Query::select()
            .expr_as(Func::count(Expr::col(O::Id)), "n")
            .from(O::Table)
            .and_where(Expr::col(O::UserId).eq(user))
            .to_owned();
        let page = Query::select()
            .columns(OrderRow::COLUMNS)
            .from(O::Table)
            .and_where(Expr::col(O::UserId).eq(user))
            .order_by(O::Id, Direction::Desc)
            .limit(u64::from(limit))
            .offset(u64::from(query.offset))
            .to_owned();
        let mut conn = self.db.conn(cx).await?;
        let total = conn.fetch_one::<Count>(&count).await?.n;
        let orders = conn.fetch_all::<OrderRow>(&page).await?;
        let items = with_items(&mut conn, orders).await?;
        Ok(OrderPage { items, total: to_u32(total, "order count")?, offset: query.offset, limit })
    }

    async fn get(&self, cx: &Cx, input: OrderId) -> Result<Order, OrderError> {
        let user = user_id(cx)?;
        let select = Query::select()
            .columns(OrderRow::COLUMNS)
            .from(O::Table)
            .and_where(Expr::col(O::Id).eq(i64::from(input.id)))
            .and_where(Expr::col(O::UserId).eq(user))
            .to_owned();
        let mut conn = self.db.conn(cx).await?;
        let order = conn.fetch_optional::<OrderRow>(&select).await?.ok_or(OrderError::NotFound { id: input.id })?;
        with_items(&mut conn, vec![order]).await?.into_iter().next().ok_or(OrderError::NotFound { id: input.id })
    }

    async fn checkout(&self, cx: &Cx, input: Checkout) -> Result<Order, OrderError> {
        let user = user_id(cx)?;
        crate::checkout::checkout(self, user, input).await
    }

    async fn events(&self, cx: &Cx) -> Result<Stream<Tracked<OrderEvent>, OrderError>, OrderError> {
        self.events.subscribe(cx, user_id(cx)?).await
    }
}
