//! The shop's procedures over real sockets, through the generated Rust clients: typed errors,
//! sessions, admin rights, search and paging, the login rate limit, live order events over
//! WebSocket, health and metrics. Each runs on SQLite and (with `DATABASE_URL`) PostgreSQL.

mod support;

use std::time::Duration;

use accord::client::HttpTransport;
use accord::{Cx, FrameworkCode, ProcedureError};
use futures_util::StreamExt;
use shop_api::{
    Auth, AuthClient, AuthError, CartLine, Checkout, Credentials, NewAccount, OrderStatus, Orders, OrdersClient,
    ProductError, ProductId, ProductPatch, ProductQuery, Products, ProductsClient,
};
use support::{Backend, SMALL, http_as, login, start, ws_as};

both!(sessions_and_typed_auth_errors, only_admins_edit_products, search_and_paging, orders_stream_their_status_live);
both!(login_is_rate_limited, readiness_and_pool_metrics, one_function_runs_locally_and_remotely);
both!(nul_characters_are_refused_the_same_on_both_databases);

fn code<E: ProcedureError>(error: &E) -> Option<FrameworkCode> {
    error.as_rpc_error().and_then(accord::RpcError::framework_code)
}

async fn sessions_and_typed_auth_errors(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let url = test.url();
    let auth = AuthClient::new(HttpTransport::new(&url).unwrap());
    let cx = Cx::new();
    let wrong = Credentials { email: "bob@example.com".into(), password: "not-it".into() };
    assert_eq!(auth.login(&cx, wrong).await, Err(AuthError::InvalidCredentials));
    let unknown = Credentials { email: "nobody@example.com".into(), password: "password123".into() };
    assert_eq!(auth.login(&cx, unknown).await, Err(AuthError::InvalidCredentials));

    let account =
        NewAccount { email: "Carol@Example.com".into(), name: "Carol".into(), password: "a long password".into() };
    let session = auth.register(&cx, account.clone()).await.expect("register");
    assert_eq!(session.user.email, "carol@example.com", "emails are stored lower-cased");
    assert_eq!(auth.register(&cx, account).await, Err(AuthError::EmailTaken { email: "carol@example.com".into() }));
    let bad = NewAccount { email: "not an email".into(), name: String::new(), password: "short".into() };
    let invalid = auth.register(&cx, bad).await.expect_err("invalid");
    assert_eq!(code(&invalid), Some(FrameworkCode::InvalidParams), "{invalid:?}");
    let violations = invalid.as_rpc_error().and_then(|e| e.data.as_ref()).and_then(|d| d.get("violations")).cloned();
    assert_eq!(
        violations.as_ref().and_then(|v| v.as_array()).map(Vec::len),
        Some(3),
        "every field's rule: {violations:?}"
    );

    let mine = AuthClient::new(http_as(&url, &session.token));
    assert_eq!(mine.me(&cx).await.expect("me").name, "Carol");
    assert_eq!(code(&auth.me(&cx).await.expect_err("anonymous")), Some(FrameworkCode::Unauthenticated));
    mine.logout(&cx).await.expect("logout");
    let after = mine.me(&cx).await.expect_err("logged out");
    assert_eq!(code(&after), Some(FrameworkCode::Unauthenticated), "{after:?}");
    let forged = AuthClient::new(http_as(&url, "0000"));
    assert_eq!(code(&forged.me(&cx).await.expect_err("forged")), Some(FrameworkCode::Unauthenticated));
    test.finish().await;
}

async fn only_admins_edit_products(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let url = test.url();
    let cx = Cx::new();
    let patch = ProductPatch { id: 5, name: Some("Renamed Lamp".into()), stock: Some(9), ..Default::default() };
    let anonymous = ProductsClient::new(HttpTransport::new(&url).unwrap());
    assert_eq!(
        code(&anonymous.update(&cx, patch.clone()).await.expect_err("anon")),
        Some(FrameworkCode::Unauthenticated)
    );
    let bob = ProductsClient::new(http_as(&url, &login(&url, "bob@example.com").await));
    assert_eq!(code(&bob.update(&cx, patch.clone()).await.expect_err("bob")), Some(FrameworkCode::Forbidden));
    let ada = ProductsClient::new(http_as(&url, &login(&url, "ada@example.com").await));
    let before = anonymous.get(&cx, ProductId { id: 5 }).await.expect("cached before the update");
    let updated = ada.update(&cx, patch).await.expect("ada updates");
    assert_eq!((updated.name.as_str(), updated.stock, updated.price_cents), ("Renamed Lamp", 9, before.price_cents));
    assert_eq!(anonymous.get(&cx, ProductId { id: 5 }).await.expect("get"), updated, "the cache was invalidated");
    let missing = ProductPatch { id: 999_999, stock: Some(1), ..Default::default() };
    assert_eq!(ada.update(&cx, missing).await, Err(ProductError::NotFound { id: 999_999 }));
    test.finish().await;
}

async fn search_and_paging(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let products = ProductsClient::new(HttpTransport::new(&test.url()).unwrap());
    let cx = Cx::new();
    let query = |offset, search: &str| ProductQuery {
        search: Some(search.into()),
        offset,
        limit: Some(7),
        ..Default::default()
    };
    let first = products.list(&cx, query(0, "LaMp")).await.expect("search");
    assert!(first.total > 7, "several pages of lamps: {}", first.total);
    let mut seen = Vec::new();
    let mut offset = 0;
    while offset < first.total {
        let page = products.list(&cx, query(offset, "lamp")).await.expect("page");
        assert_eq!(page.total, first.total);
        seen.extend(page.items);
        offset += 7;
    }
    assert_eq!(seen.len() as u32, first.total);
    assert!(seen.iter().all(|p| p.name.to_lowercase().contains("lamp")));
    assert!(seen.windows(2).all(|w| (&w[0].name, w[0].id) < (&w[1].name, w[1].id)), "ordered by name, id");
    // LIKE wildcards are matched literally.
    assert_eq!(products.list(&cx, query(0, "%")).await.expect("percent").total, 0);
    let in_stock = ProductQuery { category: Some("lighting".into()), in_stock_only: true, ..Default::default() };
    let page = products.list(&cx, in_stock).await.expect("category");
    assert!(page.items.iter().all(|p| p.category == "lighting" && p.stock > 0) && !page.items.is_empty());
    let too_big = ProductQuery { limit: Some(500), ..Default::default() };
    assert_eq!(code(&products.list(&cx, too_big).await.expect_err("limit")), Some(FrameworkCode::InvalidParams));
    test.finish().await;
}

async fn orders_stream_their_status_live(backend: Backend) {
    let step = Duration::from_millis(150);
    let Some(test) = start(backend, Some(SMALL), |config| config.fulfilment_step = step).await else { return };
    let (url, ws) = (test.url(), test.ws_url());
    let bob = login(&url, "bob@example.com").await;
    let ada = login(&url, "ada@example.com").await;
    let bob_events = OrdersClient::new(ws_as(&ws, &bob).await).events(&Cx::new()).await.expect("subscribe");
    let mut ada_events = OrdersClient::new(ws_as(&ws, &ada).await).events(&Cx::new()).await.expect("subscribe");
    let checkout =
        Checkout { idempotency_key: "live-status-1".into(), lines: vec![CartLine { product_id: 3, quantity: 1 }] };
    let order = OrdersClient::new(http_as(&url, &bob)).checkout(&Cx::new(), checkout).await.expect("checkout");

    let statuses: Vec<OrderStatus> = tokio::time::timeout(Duration::from_secs(20), async {
        bob_events
            .filter_map(|event| async move { event.ok().filter(|e| e.value.order_id == order.id) })
            .map(|event| event.value.status)
            .take(4)
            .collect()
            .await
    })
    .await
    .expect("four status changes");
    assert_eq!(statuses, [OrderStatus::Placed, OrderStatus::Paid, OrderStatus::Shipped, OrderStatus::Delivered]);
    let listed = OrdersClient::new(http_as(&url, &bob)).get(&Cx::new(), shop_api::OrderId { id: order.id }).await;
    assert_eq!(listed.expect("get").status, OrderStatus::Delivered);
    // Ada sees none of Bob's events.
    let nothing = tokio::time::timeout(Duration::from_millis(300), ada_events.next()).await;
    assert!(nothing.is_err(), "ada received {nothing:?}");
    // Subscriptions need a user.
    let anonymous = OrdersClient::new(accord::client::WsTransport::connect(&ws).await.unwrap());
    assert_eq!(
        code(&anonymous.events(&Cx::new()).await.err().expect("anonymous")),
        Some(FrameworkCode::Unauthenticated)
    );
    test.finish().await;
}

async fn login_is_rate_limited(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |config| config.login_rate_per_minute = 3).await else { return };
    let auth = AuthClient::new(HttpTransport::new(&test.url()).unwrap());
    let wrong = || Credentials { email: "bob@example.com".into(), password: "guess".into() };
    for _ in 0..3 {
        assert_eq!(auth.login(&Cx::new(), wrong()).await, Err(AuthError::InvalidCredentials));
    }
    let limited = auth.login(&Cx::new(), wrong()).await.expect_err("fourth");
    assert_eq!(code(&limited), Some(FrameworkCode::RateLimited), "{limited:?}");
    let retry = limited.as_rpc_error().and_then(|e| e.data.as_ref()?.get("retryAfterMs")?.as_u64());
    assert!(retry.is_some_and(|ms| ms > 0 && ms <= 60_000), "{retry:?}");
    test.finish().await;
}

async fn readiness_and_pool_metrics(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let base = format!("http://{}", test.shop().server.local_addr());
    assert_eq!(reqwest::get(format!("{base}/readyz")).await.unwrap().status(), 200);
    ProductsClient::new(HttpTransport::new(&test.url()).unwrap()).get(&Cx::new(), ProductId { id: 1 }).await.unwrap();
    test.shop().db.refresh_metrics();
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    for series in [
        "shop_db_connections{pool=\"write\",state=\"max\"}",
        "shop_db_connections{pool=\"read\",state=\"idle\"}",
        "shop_db_acquire_seconds",
    ] {
        assert!(metrics.contains(series), "{series} missing from:\n{metrics}");
    }
    test.shop().db.close().await;
    let not_ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(not_ready.status(), 503);
    assert!(not_ready.text().await.unwrap().contains("database"));
    test.finish().await;
}

/// A user's own code, written against the traits: it cannot tell where they run.
async fn cheapest_lamp_with_stock(products: &impl Products) -> Result<(u32, String), ProductError> {
    let query =
        ProductQuery { search: Some("lamp".into()), in_stock_only: true, limit: Some(100), ..Default::default() };
    let page = products.list(&Cx::new(), query).await?;
    let cheapest = page.items.iter().min_by_key(|p| (p.price_cents, p.id)).ok_or(ProductError::NotFound { id: 0 })?;
    let product = products.get(&Cx::new(), ProductId { id: cheapest.id }).await?;
    Ok((product.id, product.name))
}

async fn one_function_runs_locally_and_remotely(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let local = cheapest_lamp_with_stock(&test.shop().catalog).await;
    let remote = cheapest_lamp_with_stock(&ProductsClient::new(HttpTransport::new(&test.url()).unwrap())).await;
    assert!(local.is_ok());
    assert_eq!(local, remote);
    let missing = test.shop().catalog.get(&Cx::new(), ProductId { id: 0 }).await;
    let remote_missing =
        ProductsClient::new(HttpTransport::new(&test.url()).unwrap()).get(&Cx::new(), ProductId { id: 0 }).await;
    assert_eq!(missing, remote_missing);
    assert_eq!(missing, Err(ProductError::NotFound { id: 0 }));
    test.finish().await;
}

/// `INVALID_PARAMS` whose violations name `path`.
#[track_caller]
fn assert_refused_at<T: std::fmt::Debug, E: ProcedureError + std::fmt::Debug>(result: Result<T, E>, path: &str) {
    let error = result.expect_err(path);
    assert_eq!(code(&error), Some(FrameworkCode::InvalidParams), "{path}: {error:?}");
    let violations = error.as_rpc_error().and_then(|e| e.data.as_ref()?.get("violations").cloned());
    let paths: Vec<String> = violations
        .as_ref()
        .and_then(|v| v.as_array())
        .map(|v| v.iter().filter_map(|v| v.get("path")?.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    assert_eq!(paths, [path], "{error:?}");
}

/// PostgreSQL refuses NUL in text (it answered `INTERNAL`); SQLite cut the LIKE pattern at the
/// NUL (a search matched every product). Every text input now refuses it up front, with a typed
/// violation, whichever the database.
async fn nul_characters_are_refused_the_same_on_both_databases(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |config| config.login_rate_per_minute = 100).await else { return };
    let url = test.url();
    let cx = Cx::new();
    let products = ProductsClient::new(HttpTransport::new(&url).unwrap());
    let search = |text: &str| ProductQuery { search: Some(text.into()), ..Default::default() };
    assert_refused_at(products.list(&cx, search("\0")).await, "search");
    assert_refused_at(products.list(&cx, search("lamp\0zzz")).await, "search");
    let category = ProductQuery { category: Some("lighting\0".into()), ..Default::default() };
    assert_refused_at(products.list(&cx, category).await, "category");

    let auth = AuthClient::new(HttpTransport::new(&url).unwrap());
    let credentials = Credentials { email: "bob@example.com\0".into(), password: "password123".into() };
    assert_refused_at(auth.login(&cx, credentials).await, "email");
    let credentials = Credentials { email: "bob@example.com".into(), password: "password123\0".into() };
    assert_refused_at(auth.login(&cx, credentials).await, "password");
    let account = NewAccount { email: "nul@example.com".into(), name: "N\0L".into(), password: "long enough".into() };
    assert_refused_at(auth.register(&cx, account).await, "name");

    let bob = OrdersClient::new(http_as(&url, &login(&url, "bob@example.com").await));
    let checkout =
        Checkout { idempotency_key: "key\0key\0key".into(), lines: vec![CartLine { product_id: 1, quantity: 1 }] };
    assert_refused_at(bob.checkout(&cx, checkout).await, "idempotencyKey");
    let ada = ProductsClient::new(http_as(&url, &login(&url, "ada@example.com").await));
    let patch = ProductPatch { id: 1, name: Some("Lamp\0".into()), ..Default::default() };
    assert_refused_at(ada.update(&cx, patch).await, "name");
    let patch = ProductPatch { id: 1, description: Some("\0".into()), ..Default::default() };
    assert_refused_at(ada.update(&cx, patch).await, "description");

    // Other control characters are plain text: stored and found as they are, on both.
    let patch = ProductPatch { id: 1, name: Some("Tab\tLamp \u{1}".into()), ..Default::default() };
    ada.update(&cx, patch).await.expect("a name with control characters");
    let found = products.list(&cx, search("tab\tlamp \u{1}")).await.expect("search");
    assert_eq!(found.items.iter().map(|p| p.id).collect::<Vec<_>>(), [1]);
    test.finish().await;
}
