//! A Redis outage under a server whose rate limits live in Redis, over real sockets: Redis is
//! reached through a TCP proxy the test cuts (new connections refused, live ones reset) and
//! restores, so the machine's Redis keeps running. Skipped without `REDIS_URL`.
//!
//! Fail open: calls go on during the outage, without waiting for Redis, and are counted again
//! once it is back. Fail closed: calls are refused with `UNAVAILABLE` and `retryAfterMs` 1000
//! during the outage, and served again once it is back. Neither answers `INTERNAL`, and neither
//! needs a restart.

mod proxy;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accord::{Cx, RpcError};
use accord_server::{OnBackendError, RateLimit, RateLimitBackend, RedisBackend, RunningServer, Server};
use proxy::Proxy;
use serde_json::{Value, json};

#[accord::wire]
pub struct Ping {
    pub n: u32,
}

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    #[error("never")]
    Never,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[accord::procedures(namespace = "ping")]
pub trait Pings {
    #[query]
    async fn ping(&self, cx: &Cx, input: Ping) -> Result<Ping, PingError>;
}

struct Echo;

impl Pings for Echo {
    async fn ping(&self, _: &Cx, input: Ping) -> Result<Ping, PingError> {
        Ok(input)
    }
}

fn redis_url() -> Option<String> {
    let url = std::env::var("REDIS_URL").ok().filter(|url| !url.is_empty());
    if url.is_none() {
        eprintln!("skipped: REDIS_URL not set");
    }
    url
}

/// `url` pointed at the proxy (host and port replaced; user info and database kept).
fn through(url: &str, proxy: &Proxy) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let user_info = authority.rsplit_once('@').map(|(user, _)| format!("{user}@")).unwrap_or_default();
    format!("{scheme}://{user_info}{}{path}", proxy.addr())
}

fn target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.contains(':') { host.to_owned() } else { format!("{host}:6379") }
}

/// A server allowing `calls` per minute per caller, counted in Redis through `proxy`.
async fn serve(redis: &str, proxy: &Proxy, calls: u32, on_error: OnBackendError) -> RunningServer {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let backend = RedisBackend::new(through(redis, proxy))
        .key_prefix(format!("accord:test:outage:{}:{nanos}:", std::process::id()))
        .on_error(on_error)
        .timeout(Duration::from_millis(300));
    Server::builder()
        .mount(PingsApi::handlers(Echo))
        .expect("mount")
        .rate_limit(RateLimit::per_minute(calls))
        .rate_limit_backend(RateLimitBackend::Redis(backend))
        .serve("127.0.0.1:0")
        .await
        .expect("serve")
}

/// One `ping.ping` over HTTP: its `error` (`Null` on success) and how long it took.
async fn ping(server: &RunningServer) -> (Value, Duration) {
    let started = Instant::now();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping.ping", "params": {"n": 1}});
    let answer: Value = reqwest::Client::new()
        .post(server.http_url())
        .json(&body)
        .send()
        .await
        .expect("an HTTP answer")
        .json()
        .await
        .expect("JSON");
    if answer.get("error").is_none() {
        assert_eq!(answer["result"], json!({"n": 1}), "{answer}");
    }
    (answer.get("error").cloned().unwrap_or(Value::Null), started.elapsed())
}

fn retry_after_ms(error: &Value) -> Option<u64> {
    (error["data"]["code"] == "RATE_LIMITED").then(|| error["data"]["retryAfterMs"].as_u64()).flatten()
}

/// `retryAfterMs` of an `UNAVAILABLE` error.
fn unavailable_for_ms(error: &Value) -> Option<u64> {
    (error["data"]["code"] == "UNAVAILABLE").then(|| error["data"]["retryAfterMs"].as_u64()).flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_open_the_calls_go_on_during_an_outage_and_are_counted_again_after_it() {
    let Some(redis) = redis_url() else { return };
    let proxy = Proxy::start(&target(&redis)).await;
    let server = serve(&redis, &proxy, 3, OnBackendError::FailOpen).await;
    assert_eq!(ping(&server).await.0, Value::Null, "counted in Redis: 1 of 3");

    proxy.cut();
    for i in 0..10 {
        let (error, took) = ping(&server).await;
        assert_eq!(error, Value::Null, "call {i} during the outage");
        assert!(took < Duration::from_secs(2), "call {i} waited {took:?} for Redis");
    }

    proxy.restore();
    // Once Redis answers again, calls are counted: after at most 2 more allowed, a real denial
    // (a retry after up to a minute, not the 1 s of a backend error).
    let deadline = Instant::now() + Duration::from_secs(15);
    let denied = loop {
        let (error, _) = ping(&server).await;
        if let Some(ms) = retry_after_ms(&error) {
            break ms;
        }
        assert_eq!(error, Value::Null, "only allowed or rate-limited");
        assert!(Instant::now() < deadline, "counting never resumed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(denied > 1000 && denied <= 60_000, "retryAfterMs {denied}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_closed_the_calls_are_refused_during_an_outage_and_served_after_it() {
    let Some(redis) = redis_url() else { return };
    let proxy = Proxy::start(&target(&redis)).await;
    let server = serve(&redis, &proxy, 1000, OnBackendError::FailClosed).await;
    assert_eq!(ping(&server).await.0, Value::Null);

    proxy.cut();
    for i in 0..10 {
        let (error, took) = ping(&server).await;
        assert_eq!(unavailable_for_ms(&error), Some(1000), "call {i} during the outage: {error}");
        assert!(took < Duration::from_secs(2), "call {i} waited {took:?} for Redis");
    }

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    while ping(&server).await.0 != Value::Null {
        assert!(Instant::now() < deadline, "Redis is back but calls are still refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..5 {
        assert_eq!(ping(&server).await.0, Value::Null, "served again");
    }
    server.shutdown().await;
}
