//! What N+1 would cost: Bob's newest 20 orders with their items, loaded by the shop's own
//! `orders.listMine` (three queries) and by the textbook mistake (one query per order),
//! in-process, timed over many repetitions.

use std::time::Instant;

use accord::{Cx, Identity, Kind};
use sea_query::{Expr, ExprTrait, Order, Query};
use shop::Shop;
use shop::db::Queries;
use shop::db::schema::{OrderItems, Orders as O, Products as P};
use shop_api::{OrderQuery, Orders};

const REPEAT: u32 = 300;

#[derive(sqlx::FromRow)]
struct Id {
    id: i64,
}

#[derive(sqlx::FromRow)]
#[allow(dead_code)] // decoded, as a real loader would, then dropped
struct Item {
    product_id: i64,
    name: String,
    quantity: i64,
}

/// A markdown paragraph comparing the two.
pub async fn compare(shop: &Shop) -> String {
    let cx = Cx::new().with_extension(Identity::new("2")).with_extension(Kind::Query);
    let query = OrderQuery { offset: 0, limit: Some(20) };
    shop.orders.list_mine(&cx, query.clone()).await.expect("warm up");

    let before = shop.db.query_count();
    let started = Instant::now();
    for _ in 0..REPEAT {
        shop.orders.list_mine(&cx, query.clone()).await.expect("list");
    }
    let batched = started.elapsed() / REPEAT;
    let batched_queries = (shop.db.query_count() - before) / u64::from(REPEAT);

    let before = shop.db.query_count();
    let started = Instant::now();
    for _ in 0..REPEAT {
        naive(shop, &cx).await;
    }
    let naive_time = started.elapsed() / REPEAT;
    let naive_queries = (shop.db.query_count() - before) / u64::from(REPEAT);
    format!(
        "N+1: 20 orders with items in-process: `orders.listMine` {batched_queries} queries, {:.2} ms; \
         one query per order {naive_queries} queries, {:.2} ms ({:.1}x).",
        batched.as_secs_f64() * 1000.0,
        naive_time.as_secs_f64() * 1000.0,
        naive_time.as_secs_f64() / batched.as_secs_f64().max(1e-9),
    )
}

async fn naive(shop: &Shop, cx: &Cx) {
    let mut conn = shop.db.conn(cx).await.expect("conn");
    let page = Query::select()
        .column(O::Id)
        .from(O::Table)
        .and_where(Expr::col(O::UserId).eq(2))
        .order_by(O::Id, Order::Desc)
        .limit(20)
        .to_owned();
    for order in conn.fetch_all::<Id>(&page).await.expect("orders") {
        let items = Query::select()
            .column((OrderItems::Table, OrderItems::ProductId))
            .column((P::Table, P::Name))
            .column((OrderItems::Table, OrderItems::Quantity))
            .from(OrderItems::Table)
            .inner_join(P::Table, Expr::col((P::Table, P::Id)).equals((OrderItems::Table, OrderItems::ProductId)))
            .and_where(Expr::col((OrderItems::Table, OrderItems::OrderId)).eq(order.id))
            .to_owned();
        conn.fetch_all::<Item>(&items).await.expect("items");
    }
}
