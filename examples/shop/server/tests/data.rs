//! The data-layer guarantees, on SQLite and (with `DATABASE_URL`) PostgreSQL: no N+1 in
//! `orders.listMine`, one query for concurrent cache misses, exactly-once checkout under a race
//! and across a restart, stock never oversold, and queries routed to the read pool.

mod support;

use std::collections::HashSet;

use accord::{Cx, FrameworkCode, Kind, ProcedureError};
use shop_api::{CartLine, Checkout, OrderError, OrderQuery, Orders, OrdersClient, ProductId, ProductPatch, Products};
use support::{Backend, SMALL, cx_as, http_as, login, start};

both!(list_mine_is_constant_in_queries, concurrent_misses_cause_one_query, racing_checkouts_place_one_order);
both!(checkout_survives_a_restart_and_refuses_a_changed_cart, stock_is_never_oversold);

/// Bob's user id in every seeded database.
const BOB: i64 = 2;

async fn list_mine_is_constant_in_queries(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let shop = test.shop();
    let cx = cx_as(BOB, Kind::Query);
    let mut seen = Vec::new();
    for limit in [1, 10, 50, 100] {
        let before = shop.db.query_count();
        let page = shop.orders.list_mine(&cx, OrderQuery { offset: 0, limit: Some(limit) }).await.expect("list");
        let queries = shop.db.query_count() - before;
        let items: usize = page.items.iter().map(|o| o.items.len()).sum();
        assert!(page.items.len() as u32 == limit.min(page.total), "a full page of {limit}");
        assert!(page.items.iter().all(|o| !o.items.is_empty() && o.items.iter().all(|i| !i.product_name.is_empty())));
        seen.push((limit, page.items.len(), items, queries));
    }
    // count + page + every item of the page: 3, whether the page holds 1 order or 100.
    assert!(seen.iter().all(|&(_, _, _, queries)| queries == 3), "queries per page size: {seen:?}");
    assert!(seen.last().is_some_and(|&(_, orders, items, _)| orders >= 50 && items > orders), "{seen:?}");
    test.finish().await;
}

async fn concurrent_misses_cause_one_query(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let shop = test.shop();
    let cx = Cx::new().with_extension(Kind::Query);
    let before = shop.db.query_count();
    let gets = (0..64).map(|_| shop.catalog.get(&cx, ProductId { id: 7 }));
    let products = futures_util::future::join_all(gets).await;
    assert_eq!(shop.db.query_count() - before, 1, "64 concurrent misses for one id");
    let first = products[0].clone().expect("product 7");
    assert!(products.iter().all(|p| p.as_ref() == Ok(&first)));

    // Cached now: no query. An update invalidates: the next get reads the new row.
    let before = shop.db.query_count();
    shop.catalog.get(&cx, ProductId { id: 7 }).await.expect("cached");
    assert_eq!(shop.db.query_count(), before);
    let admin = Cx::new().with_extension(accord::Identity::new("1").with_roles(["admin"]));
    let patch = ProductPatch { id: 7, price_cents: Some(first.price_cents + 1), ..Default::default() };
    shop.catalog.update(&admin, patch).await.expect("update");
    let fresh = shop.catalog.get(&cx, ProductId { id: 7 }).await.expect("reloaded");
    assert_eq!(fresh.price_cents, first.price_cents + 1);
    // A missing id is not cached as a product, and every caller gets NOT_FOUND.
    let missing =
        futures_util::future::join_all((0..8).map(|_| shop.catalog.get(&cx, ProductId { id: 999_999 }))).await;
    assert!(missing.iter().all(|m| *m == Err(shop_api::ProductError::NotFound { id: 999_999 })), "{missing:?}");
    test.finish().await;
}

fn cart(key: &str, lines: &[(u32, u32)]) -> Checkout {
    let lines = lines.iter().map(|&(product_id, quantity)| CartLine { product_id, quantity }).collect();
    Checkout { idempotency_key: key.into(), lines }
}

async fn order_count(shop: &shop::Shop, user: i64) -> u32 {
    shop.orders
        .list_mine(&cx_as(user, Kind::Query), OrderQuery { offset: 0, limit: Some(1) })
        .await
        .expect("count")
        .total
}

async fn racing_checkouts_place_one_order(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let url = test.url();
    let token = login(&url, "bob@example.com").await;
    let before = order_count(test.shop(), BOB).await;
    let stock_before = test.shop().catalog.get(&Cx::new(), ProductId { id: 11 }).await.expect("product").stock;
    for round in 0..5 {
        // Eight clients, eight connections, one key: all at once.
        let key = format!("race-key-{round}");
        let calls = (0..8).map(|_| {
            let client = OrdersClient::new(http_as(&url, &token));
            let checkout = cart(&key, &[(11, 1), (12, 2)]);
            async move { client.checkout(&Cx::new(), checkout).await }
        });
        let results = futures_util::future::join_all(calls).await;
        let ids: HashSet<u32> = results.iter().map(|r| r.as_ref().expect("every call succeeds").id).collect();
        assert_eq!(ids.len(), 1, "round {round}: every racer answers with the one order: {results:?}");
    }
    assert_eq!(order_count(test.shop(), BOB).await, before + 5, "exactly one order per key");
    let stock_after = test.shop().catalog.get(&Cx::new(), ProductId { id: 11 }).await.expect("product").stock;
    assert_eq!(stock_after, stock_before - 5, "stock taken once per key");
    test.finish().await;
}

async fn checkout_survives_a_restart_and_refuses_a_changed_cart(backend: Backend) {
    let Some(mut test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let token = login(&test.url(), "bob@example.com").await;
    let first = OrdersClient::new(http_as(&test.url(), &token))
        .checkout(&Cx::new(), cart("restart-key-1", &[(20, 1)]))
        .await
        .expect("checkout");
    test.restart().await;
    let client = OrdersClient::new(http_as(&test.url(), &token));
    let again = client.checkout(&Cx::new(), cart("restart-key-1", &[(20, 1)])).await.expect("retry");
    assert_eq!(again, first, "the retry after a restart answers with the first order");
    let changed = client.checkout(&Cx::new(), cart("restart-key-1", &[(20, 2)])).await.expect_err("changed cart");
    assert_eq!(
        changed.as_rpc_error().and_then(accord::RpcError::framework_code),
        Some(FrameworkCode::Conflict),
        "{changed:?}"
    );
    test.finish().await;
}

async fn stock_is_never_oversold(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let admin = Cx::new().with_extension(accord::Identity::new("1").with_roles(["admin"]));
    test.shop()
        .catalog
        .update(&admin, ProductPatch { id: 30, stock: Some(3), ..Default::default() })
        .await
        .expect("stock 3");
    let token = login(&test.url(), "bob@example.com").await;
    let url = test.url();
    let calls = (0..6).map(|n| {
        let client = OrdersClient::new(http_as(&url, &token));
        async move { client.checkout(&Cx::new(), cart(&format!("oversell-{n}"), &[(30, 1)])).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let placed = results.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(placed, 3, "{results:?}");
    assert!(
        refused.iter().all(|e| matches!(e, OrderError::OutOfStock { product_id: 30, available: 0, requested: 1 })),
        "{refused:?}"
    );
    let product = test.shop().catalog.get(&Cx::new(), ProductId { id: 30 }).await.expect("product");
    assert_eq!(product.stock, 0);
    test.finish().await;
}

#[tokio::test]
async fn queries_read_from_the_read_pool() {
    // SQLite's read pool is opened read-only: a write routed there by kind fails, one on the
    // write pool succeeds. (PostgreSQL shares one pool unless DATABASE_READ_URL is set.)
    let Some(test) = start(Backend::Sqlite, Some(SMALL), |_| {}).await else { return };
    use shop::db::Queries;
    let update = sea_query::Query::update()
        .table(shop::db::schema::Products::Table)
        .value(shop::db::schema::Products::Stock, 1)
        .and_where(sea_query::ExprTrait::eq(sea_query::Expr::col(shop::db::schema::Products::Id), 1))
        .to_owned();
    let db = &test.shop().db;
    let read = db.conn(&Cx::new().with_extension(Kind::Query)).await.expect("conn").execute(&update).await;
    assert!(read.is_err(), "a query's connection is read-only");
    let write = db.conn(&Cx::new().with_extension(Kind::Mutation)).await.expect("conn").execute(&update).await;
    assert_eq!(write.expect("a mutation's connection writes"), 1);
    test.finish().await;
}

#[tokio::test]
async fn an_exhausted_pool_answers_unavailable_not_a_hang() {
    let Some(test) = start(Backend::Sqlite, Some(SMALL), |config| {
        config.pool.max_connections = 1;
        config.pool.acquire_timeout = std::time::Duration::from_millis(100);
    })
    .await
    else {
        return;
    };
    let shop = test.shop();
    let held = shop.db.read().await.expect("the only read connection");
    let started = std::time::Instant::now();
    let cx = Cx::new().with_extension(Kind::Query);
    let refused = shop.catalog.list(&cx, shop_api::ProductQuery::default()).await.expect_err("no connection");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "gave up after the acquire timeout");
    assert_eq!(refused.as_rpc_error().and_then(accord::RpcError::framework_code), Some(FrameworkCode::Unavailable));
    drop(held);
    assert!(shop.catalog.list(&cx, shop_api::ProductQuery::default()).await.is_ok(), "works again");
    test.finish().await;
}
