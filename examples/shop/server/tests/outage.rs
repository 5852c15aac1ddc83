//! Outages: while the database is unreachable or locked, every path answers `UNAVAILABLE` with
//! `retryAfterMs` (never `INTERNAL`), nothing is lost or doubled, and the shop recovers by
//! itself once the database is back, background jobs included.
//!
//! PostgreSQL is reached through a TCP proxy the test cuts and restores (`support/proxy.rs`),
//! so the machine's PostgreSQL keeps running; those tests skip without a PostgreSQL
//! `DATABASE_URL`. SQLite's outage of the same nature is a database locked by another process
//! for longer than the busy timeout.

#[path = "support/proxy.rs"]
mod proxy;
mod support;

use std::time::Duration;

use accord::client::HttpTransport;
use accord::{Cx, FrameworkCode, ProcedureError};
use futures_util::StreamExt;
use proxy::{Proxy, eventually, target, through};
use shop_api::{
    Auth, AuthClient, CartLine, Checkout, Credentials, NewAccount, OrderId, OrderQuery, OrderStatus, Orders,
    OrdersClient, ProductId, ProductQuery, Products, ProductsClient,
};
use sqlx::Connection;
use support::{Backend, SMALL, TestShop, http_as, login, postgres_url, start, ws_as};

/// Asserts `UNAVAILABLE` with a positive `retryAfterMs`.
#[track_caller]
fn assert_unavailable<T: std::fmt::Debug, E: ProcedureError + std::fmt::Debug>(result: Result<T, E>, what: &str) {
    let error = result.expect_err(what);
    let rpc = error.as_rpc_error().unwrap_or_else(|| panic!("{what}: not a framework error: {error:?}"));
    assert_eq!(rpc.framework_code(), Some(FrameworkCode::Unavailable), "{what}: {rpc:?}");
    let retry = rpc.data.as_ref().and_then(|d| d.get("retryAfterMs")).and_then(serde_json::Value::as_u64);
    assert!(retry.is_some_and(|ms| ms > 0), "{what}: no retryAfterMs in {rpc:?}");
}

fn cart(key: &str, product_id: u32, quantity: u32) -> Checkout {
    Checkout { idempotency_key: key.into(), lines: vec![CartLine { product_id, quantity }] }
}

fn bob() -> Credentials {
    Credentials { email: "bob@example.com".into(), password: shop::seed::DEMO_PASSWORD.into() }
}

/// A shop on PostgreSQL through a proxy, with short waits for connections.
async fn behind_proxy(step: Option<Duration>) -> Option<(TestShop, Proxy, String)> {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: DATABASE_URL does not point at PostgreSQL");
        return None;
    };
    let proxy = Proxy::start(&target(&url)).await;
    let test = start(Backend::Postgres, Some(SMALL), |config| {
        config.database_url = through(&url, proxy.addr());
        config.pool.acquire_timeout = Duration::from_millis(500);
        if let Some(step) = step {
            config.fulfilment_step = step;
        }
    })
    .await?;
    Some((test, proxy, url))
}

/// A direct connection to the test's schema (not through the proxy).
async fn direct(url: &str, test: &TestShop) -> sqlx::PgConnection {
    // PostgreSQL itself even when the shop goes through PgBouncer (scripts/with-pgbouncer).
    let url = support::direct_url().unwrap_or_else(|| url.to_owned());
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("a direct connection");
    let schema = test.config.database_schema.clone().expect("a schema");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET search_path TO \"{schema}\""))).execute(&mut conn).await.unwrap();
    conn
}

async fn orders_with_key(conn: &mut sqlx::PgConnection, key: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys WHERE key = $1").bind(key).fetch_one(conn).await.unwrap()
}

async fn stock(conn: &mut sqlx::PgConnection, product: i64) -> i64 {
    sqlx::query_scalar("SELECT stock FROM products WHERE id = $1").bind(product).fetch_one(conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_path_answers_unavailable_while_postgres_is_cut_off_and_recovers_by_itself() {
    let Some((test, proxy, pg_url)) = behind_proxy(None).await else { return };
    let url = test.url();
    let cx = Cx::new();
    let bob_token = login(&url, "bob@example.com").await;
    // A token the shop has not seen since it was issued: signing in with it needs the database.
    let uncached = login(&url, "ada@example.com").await;
    let orders = OrdersClient::new(http_as(&url, &bob_token));
    let before = orders.list_mine(&cx, OrderQuery::default()).await.expect("bob's orders").total;
    let products = ProductsClient::new(HttpTransport::new(&url).unwrap());
    let cached = products.get(&cx, ProductId { id: 1 }).await.expect("product 1");
    let auth = AuthClient::new(HttpTransport::new(&url).unwrap());
    let base = format!("http://{}", test.shop().server.local_addr());

    proxy.cut();
    assert_unavailable(products.get(&cx, ProductId { id: 2 }).await, "products.get");
    // Several callers sharing one failed load of the cache.
    let shared = futures_util::future::join_all((0..8).map(|_| products.get(&cx, ProductId { id: 3 }))).await;
    for result in shared {
        assert_unavailable(result, "products.get, a shared load");
    }
    assert_unavailable(products.list(&cx, ProductQuery::default()).await, "products.list");
    assert_unavailable(auth.login(&cx, bob()).await, "auth.login");
    let account = NewAccount { email: "dora@example.com".into(), name: "Dora".into(), password: "long enough".into() };
    assert_unavailable(auth.register(&cx, account.clone()).await, "auth.register");
    assert_unavailable(AuthClient::new(http_as(&url, &uncached)).me(&cx).await, "sign-in with an uncached token");
    assert_unavailable(orders.checkout(&cx, cart("outage-key-1", 5, 1)).await, "orders.checkout");
    assert_unavailable(orders.list_mine(&cx, OrderQuery::default()).await, "orders.listMine");
    assert_eq!(products.get(&cx, ProductId { id: 1 }).await.expect("served from the cache"), cached);
    assert_eq!(reqwest::get(format!("{base}/readyz")).await.unwrap().status(), 503);

    proxy.restore();
    eventually(Duration::from_secs(15), "products.get works again", || async {
        products.get(&cx, ProductId { id: 2 }).await.is_ok()
    })
    .await;
    products.list(&cx, ProductQuery::default()).await.expect("products.list");
    auth.login(&cx, bob()).await.expect("auth.login");
    auth.register(&cx, account).await.expect("auth.register");
    AuthClient::new(http_as(&url, &uncached)).me(&cx).await.expect("the uncached token");
    let placed = orders.checkout(&cx, cart("outage-key-1", 5, 1)).await.expect("the retried checkout");
    let again = orders.checkout(&cx, cart("outage-key-1", 5, 1)).await.expect("a second retry");
    assert_eq!(placed.id, again.id);
    assert_eq!(orders.list_mine(&cx, OrderQuery::default()).await.unwrap().total, before + 1, "one order");
    assert_eq!(reqwest::get(format!("{base}/readyz")).await.unwrap().status(), 200);
    let mut conn = direct(&pg_url, &test).await;
    assert_eq!(orders_with_key(&mut conn, "outage-key-1").await, 1);
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cut_in_the_middle_of_a_checkout_loses_no_order_and_doubles_none() {
    let Some((test, proxy, pg_url)) = behind_proxy(None).await else { return };
    let url = test.url();
    let token = login(&url, "bob@example.com").await;
    let orders = OrdersClient::new(http_as(&url, &token));
    let before = orders.list_mine(&Cx::new(), OrderQuery::default()).await.expect("bob's orders").total;

    // Another session locks product 40, so the checkout stops inside its transaction, on the
    // stock update, until the cut.
    let mut holder = direct(&pg_url, &test).await;
    let stock_before = stock(&mut holder, 40).await;
    sqlx::raw_sql("BEGIN; SELECT stock FROM products WHERE id = 40 FOR UPDATE").execute(&mut holder).await.unwrap();
    let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut holder).await.unwrap();
    let checkout = tokio::spawn({
        let orders = orders.clone();
        async move { orders.checkout(&Cx::new(), cart("mid-cut-key", 40, 2)).await }
    });
    let mut watcher = direct(&pg_url, &test).await;
    let blocked = "SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sqlx::query_scalar::<_, i64>(blocked).bind(holder_pid).fetch_one(&mut watcher).await.unwrap() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the checkout never waited for the lock");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    proxy.cut();
    assert_unavailable(checkout.await.unwrap(), "a checkout cut off mid-transaction");
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.unwrap();
    assert_eq!(orders_with_key(&mut holder, "mid-cut-key").await, 0, "nothing committed");
    assert_eq!(stock(&mut holder, 40).await, stock_before, "no stock taken");

    proxy.restore();
    let placed = loop {
        match orders.checkout(&Cx::new(), cart("mid-cut-key", 40, 2)).await {
            Ok(order) => break order,
            // The pool is reconnecting.
            Err(e)
                if e.as_rpc_error().and_then(accord::RpcError::framework_code) == Some(FrameworkCode::Unavailable) =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("retry after the outage: {e:?}"),
        }
    };
    let again = orders.checkout(&Cx::new(), cart("mid-cut-key", 40, 2)).await.expect("a second retry");
    assert_eq!(again.id, placed.id);
    assert_eq!(orders.list_mine(&Cx::new(), OrderQuery::default()).await.unwrap().total, before + 1);
    assert_eq!(orders_with_key(&mut holder, "mid-cut-key").await, 1);
    assert_eq!(stock(&mut holder, 40).await, stock_before - 2, "stock taken once");
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fulfilment_and_live_events_carry_on_after_an_outage() {
    let Some((test, proxy, _)) = behind_proxy(Some(Duration::from_millis(400))).await else { return };
    let (url, ws) = (test.url(), test.ws_url());
    let token = login(&url, "bob@example.com").await;
    let orders = OrdersClient::new(http_as(&url, &token));
    let events = OrdersClient::new(ws_as(&ws, &token).await).events(&Cx::new()).await.expect("subscribe");
    let first = orders.checkout(&Cx::new(), cart("jobs-key-1", 7, 1)).await.expect("checkout");

    proxy.cut();
    // Several fulfilment scans fail meanwhile.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.restore();
    eventually(Duration::from_secs(15), "the database is reachable again", || async {
        orders.get(&Cx::new(), OrderId { id: first.id }).await.is_ok()
    })
    .await;
    let second = orders.checkout(&Cx::new(), cart("jobs-key-2", 8, 1)).await.expect("checkout after");

    // Both orders are delivered, and the subscription opened before the outage saw it happen.
    let delivered: Vec<u32> = tokio::time::timeout(Duration::from_secs(20), async {
        let mut delivered = Vec::new();
        let mut events = events;
        while delivered.len() < 2 {
            let event = events.next().await.expect("the stream goes on").expect("an event");
            if event.value.status == OrderStatus::Delivered {
                delivered.push(event.value.order_id);
            }
        }
        delivered
    })
    .await
    .expect("both orders delivered");
    assert_eq!(delivered, [first.id, second.id]);
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_locked_sqlite_database_answers_unavailable_and_recovers() {
    let Some(test) = start(Backend::Sqlite, Some(SMALL), |config| {
        config.pool.busy_timeout = Duration::from_millis(200);
        config.pool.acquire_timeout = Duration::from_millis(500);
    })
    .await
    else {
        return;
    };
    let url = test.url();
    let cx = Cx::new();
    let token = login(&url, "bob@example.com").await;
    let orders = OrdersClient::new(http_as(&url, &token));
    let before = orders.list_mine(&cx, OrderQuery::default()).await.expect("bob's orders").total;

    // Another process holds the write lock (as a backup or a migration would).
    let mut holder = sqlx::SqliteConnection::connect(&test.config.database_url).await.expect("open the file");
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
    assert_unavailable(orders.checkout(&cx, cart("locked-key-1", 9, 1)).await, "orders.checkout");
    let auth = AuthClient::new(HttpTransport::new(&url).unwrap());
    assert_unavailable(auth.login(&cx, bob()).await, "auth.login (writes a session)");
    let account = NewAccount { email: "erin@example.com".into(), name: "Erin".into(), password: "long enough".into() };
    assert_unavailable(auth.register(&cx, account.clone()).await, "auth.register");
    // Readers are not blocked by a writer (WAL).
    ProductsClient::new(HttpTransport::new(&url).unwrap()).list(&cx, ProductQuery::default()).await.expect("reads");

    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.unwrap();
    let placed = orders.checkout(&cx, cart("locked-key-1", 9, 1)).await.expect("the retried checkout");
    assert_eq!(orders.checkout(&cx, cart("locked-key-1", 9, 1)).await.expect("again").id, placed.id);
    assert_eq!(orders.list_mine(&cx, OrderQuery::default()).await.unwrap().total, before + 1);
    auth.login(&cx, bob()).await.expect("auth.login");
    auth.register(&cx, account).await.expect("auth.register");
    test.finish().await;
}
