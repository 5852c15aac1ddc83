//! The `shop` binary on a fresh SQLite file: it creates, migrates and seeds the database, serves
//! the API and the page on one port, and drains and exits 0 on SIGTERM. With a call stuck on
//! the database (SQLite or PostgreSQL locked by another session), SIGTERM still ends the process
//! right after the grace period, with status 3.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;

#[test]
fn a_fresh_start_serves_seeded_data_and_the_page_then_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>shop</title>").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shop"))
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("shop.db").display()))
        .env("SHOP_WEB_DIR", &web)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start shop");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready = lines.next().expect("a first line").expect("readable");
    let url = ready.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/rpc"), "{ready}");
    let base = url.trim_end_matches("/rpc").to_owned();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "products.list", "params": {"limit": 1}});
        let answer: serde_json::Value =
            reqwest::Client::new().post(&url).json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(answer["result"]["total"], 5000, "seeded: {answer}");
        let page = reqwest::get(format!("{base}/")).await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("<title>shop</title>"));
        assert_eq!(reqwest::get(format!("{base}/readyz")).await.unwrap().status(), 200);
    });

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "shop did not exit within 15 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shop stopped")), "{rest:?}");
}

/// The shop binary, killed if a test fails before it exits.
struct Shop(Child);

impl Drop for Shop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The shop binary, started with `env` on top of a quiet log level, and its URL. Its output is
/// drained in the background.
fn spawn(env: &[(&str, String)]) -> (Shop, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shop"));
    command.env("PORT", "0").env("RUST_LOG", "error").env("SHOP_WEB_DIR", "/nonexistent").stdout(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start shop");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines().map_while(Result::ok);
    let ready = lines.by_ref().find(|l| l.contains("listening on")).expect("the shop started");
    std::thread::spawn(move || lines.for_each(drop));
    let url = ready.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_owned();
    (Shop(child), url)
}

async fn login(url: &str) -> String {
    let credentials = json!({"email": "bob@example.com", "password": shop::seed::DEMO_PASSWORD});
    let session = call(url, None, "auth.login", credentials).await;
    session["result"]["token"].as_str().unwrap_or_else(|| panic!("a token: {session}")).to_owned()
}

async fn call(url: &str, token: Option<&str>, method: &str, params: Value) -> Value {
    let mut request =
        reqwest::Client::new().post(url).json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("an answer").json().await.expect("JSON")
}

/// Waits for the process to end; `None` if it is still running after `limit` (then killed).
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a checkout that the lock will hold (it is still running when this returns), sends
/// SIGTERM and asserts the exit: status 3 within the grace period (1 s) and a margin, not when
/// the lock is released.
async fn sigterm_with_a_stuck_checkout_exits_after_the_grace_period(shop: &mut Shop, url: &str, token: &str) {
    let cart = json!({"idempotencyKey": "stuck-checkout", "lines": [{"productId": 3, "quantity": 1}]});
    let stuck = tokio::spawn({
        let (url, token) = (url.to_owned(), token.to_owned());
        async move { call(&url, Some(&token), "orders.checkout", cart).await }
    });
    let metrics = url.replace("/rpc", "/metrics");
    let in_flight = "accord_calls_in_flight{method=\"orders.checkout\"} 1";
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reqwest::get(&metrics).await.unwrap().text().await.unwrap().contains(in_flight) {
        assert!(Instant::now() < deadline, "the checkout never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!stuck.is_finished(), "the checkout is stuck on the lock");

    let signalled = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &shop.0.id().to_string()]).status().unwrap().success());
    let status = wait_at_most(&mut shop.0, Duration::from_secs(15)).expect("the shop exits although a call is stuck");
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(3), "calls were abandoned: {status}");
    assert!(took >= Duration::from_millis(900), "it waited for the grace period: {took:?}");
    assert!(took < Duration::from_secs(4), "grace 1 s + pool close 1 s + margin: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_stuck_on_a_locked_sqlite_database_does_not_hold_up_the_exit() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("shop.db").display());
    let env = [
        ("DATABASE_URL", database.clone()),
        ("SHOP_SHUTDOWN_GRACE_MS", "1000".into()),
        // A writer waits up to a minute for the lock.
        ("DB_BUSY_TIMEOUT_MS", "60000".into()),
    ];
    let (mut shop, url) = spawn(&env);
    let token = login(&url).await;
    let mut holder = sqlx::SqliteConnection::connect(&database).await.expect("open the file");
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
    sigterm_with_a_stuck_checkout_exits_after_the_grace_period(&mut shop, &url, &token).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_stuck_on_a_locked_postgres_row_does_not_hold_up_the_exit() {
    let Some(pg) = support::postgres_url() else {
        eprintln!("skipped: DATABASE_URL does not point at PostgreSQL");
        return;
    };
    let schema = format!("shop_exit_{}", std::process::id());
    let env = [
        ("DATABASE_URL", pg.clone()),
        ("DATABASE_SCHEMA", schema.clone()),
        ("SHOP_SHUTDOWN_GRACE_MS", "1000".into()),
        ("DB_STATEMENT_TIMEOUT_MS", "60000".into()),
    ];
    let (mut shop, url) = spawn(&env);
    let token = login(&url).await;
    let direct = support::direct_url().unwrap_or_else(|| pg.clone());
    let mut holder = sqlx::PgConnection::connect(&direct).await.expect("a direct connection");
    let lock = format!("SET search_path TO \"{schema}\"; BEGIN; SELECT stock FROM products WHERE id = 3 FOR UPDATE");
    sqlx::raw_sql(sqlx::AssertSqlSafe(lock)).execute(&mut holder).await.unwrap();
    sigterm_with_a_stuck_checkout_exits_after_the_grace_period(&mut shop, &url, &token).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.unwrap();
    let drop = format!("DROP SCHEMA \"{schema}\" CASCADE");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut holder).await.expect("drop the schema");
}
