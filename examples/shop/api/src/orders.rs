//! `orders.*`: checkout, order history and live status.

use accord::{Cx, I53, RpcError, Stream, Tracked};

/// Where an order is in its life. Orders move forward only:
/// `placed` → `paid` → `shipped` → `delivered`.
#[accord::wire]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Placed,
    Paid,
    Shipped,
    Delivered,
}

/// One line of a cart.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct CartLine {
    pub product_id: u32,
    /// 1 to 100 units.
    #[garde(range(min = 1, max = 100))]
    pub quantity: u32,
}

/// Input of `orders.checkout`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Checkout {
    /// Chosen by the client, 8 to 100 characters, one per checkout attempt. Retrying with the
    /// same key returns the first attempt's order; the same key with other lines is `CONFLICT`.
    #[garde(length(chars, min = 8, max = 100), pattern(r"^[^\x00]*$"))]
    pub idempotency_key: String,
    /// 1 to 50 lines; lines naming the same product are added up.
    #[garde(length(min = 1, max = 50), dive)]
    pub lines: Vec<CartLine>,
}

/// A line of a placed order, with the product's name and price at checkout.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct OrderItem {
    pub product_id: u32,
    pub product_name: String,
    pub quantity: u32,
    pub unit_price_cents: u32,
}

/// A placed order with its items.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub id: u32,
    pub status: OrderStatus,
    pub total_cents: u32,
    pub items: Vec<OrderItem>,
    pub created_at_ms: I53,
    pub updated_at_ms: I53,
}

/// Input of `orders.listMine`.
#[accord::wire]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderQuery {
    /// How many orders to skip (default 0).
    #[serde(default)]
    pub offset: u32,
    /// Page size, 1 to 100 (default 20).
    #[serde(default)]
    #[garde(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

/// One page of the caller's orders, newest first.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct OrderPage {
    pub items: Vec<Order>,
    /// The caller's orders over all pages.
    pub total: u32,
    pub offset: u32,
    pub limit: u32,
}

/// Input of `orders.get`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct OrderId {
    pub id: u32,
}

/// An order changed status, as `orders.events` streams it.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct OrderEvent {
    pub order_id: u32,
    pub status: OrderStatus,
    pub at_ms: I53,
}

/// What can go wrong with an order.
#[accord::error]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OrderError {
    /// No order of the caller has this id.
    #[error("order {id} does not exist")]
    #[accord(code = 1404)]
    NotFound { id: u32 },
    /// A cart line names a product that does not exist.
    #[error("product {product_id} does not exist")]
    #[accord(code = 1422)]
    ProductNotFound { product_id: u32 },
    /// Not enough units left; nothing was ordered.
    #[error("only {available} of product {product_id} left, {requested} requested")]
    #[accord(code = 1423)]
    OutOfStock { product_id: u32, available: u32, requested: u32 },
    /// A framework or transport error (`CONFLICT` for a reused idempotency key, ...).
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

/// The caller's orders.
#[accord::procedures(namespace = "orders")]
pub trait Orders {
    /// The caller's orders with their items and product names, newest first.
    #[query(authenticated)]
    async fn list_mine(&self, cx: &Cx, input: OrderQuery) -> Result<OrderPage, OrderError>;

    /// One of the caller's orders.
    #[query(authenticated)]
    async fn get(&self, cx: &Cx, input: OrderId) -> Result<Order, OrderError>;

    /// Places an order for the cart: all lines or none. Idempotent per `idempotencyKey`.
    #[mutation(authenticated)]
    async fn checkout(&self, cx: &Cx, input: Checkout) -> Result<Order, OrderError>;

    /// Status changes of the caller's orders from now on. Tracked: a subscriber that reconnects
    /// resumes after the last change it saw (or is told `EVENTS_MISSED` and reloads its orders).
    #[subscription(authenticated)]
    async fn events(&self, cx: &Cx) -> Result<Stream<Tracked<OrderEvent>, OrderError>, OrderError>;
}
