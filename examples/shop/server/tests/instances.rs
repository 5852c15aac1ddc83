//! Two shop instances on one database sharing live data through Redis (`REDIS_URL`; skipped
//! without): an order placed through one is streamed to its owner's subscription on the other,
//! and a product updated through one is not served stale from the other's cache.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accord::Cx;
use accord::client::HttpTransport;
use futures_util::StreamExt;
use shop::Shop;
use shop_api::{
    CartLine, Checkout, OrderStatus, Orders, OrdersClient, ProductId, ProductPatch, Products, ProductsClient,
};
use support::{Backend, SMALL, http_as, login, start, ws_as};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_and_product_changes_reach_the_other_instance() {
    let Some(redis) = std::env::var("REDIS_URL").ok().filter(|url| !url.is_empty()) else {
        eprintln!("skipped: REDIS_URL not set");
        return;
    };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let prefix = format!("accord:test:shop:{}:{nanos}:", std::process::id());
    let Some(a) = start(Backend::Sqlite, Some(SMALL), |config| {
        config.redis_url = Some(redis.clone());
        config.redis_prefix = prefix.clone();
        config.product_cache_ttl = Duration::from_secs(3600); // only invalidation can refresh it
    })
    .await
    else {
        return;
    };
    let b = Shop::start(&a.config, None).await.expect("a second instance on the same database");
    tokio::time::sleep(Duration::from_millis(300)).await; // both follow the topics
    let (url_a, url_b) = (a.url(), b.server.http_url());

    // Bob watches on A and orders through B.
    let bob = login(&url_b, "bob@example.com").await;
    let mut events = OrdersClient::new(ws_as(&a.ws_url(), &bob).await).events(&Cx::new()).await.expect("subscribe");
    let checkout =
        Checkout { idempotency_key: "instances-1".into(), lines: vec![CartLine { product_id: 3, quantity: 1 }] };
    let order = OrdersClient::new(http_as(&url_b, &bob)).checkout(&Cx::new(), checkout).await.expect("checkout");
    let event = tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("in time").unwrap().unwrap();
    assert_eq!((event.value.order_id, event.value.status), (order.id, OrderStatus::Placed));

    // A caches product 5; Ada renames it through B; A serves the new name.
    let on_a = ProductsClient::new(HttpTransport::new(&url_a).unwrap());
    let before = on_a.get(&Cx::new(), ProductId { id: 5 }).await.expect("cached on A");
    let ada = ProductsClient::new(http_as(&url_b, &login(&url_b, "ada@example.com").await));
    let patch = ProductPatch { id: 5, name: Some(format!("{} II", before.name)), ..Default::default() };
    let updated = ada.update(&Cx::new(), patch).await.expect("updated through B");
    let deadline = Instant::now() + Duration::from_secs(5);
    while on_a.get(&Cx::new(), ProductId { id: 5 }).await.expect("get") != updated {
        assert!(Instant::now() < deadline, "A still serves the old product from its cache");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.shutdown().await;
    a.finish().await;
}
