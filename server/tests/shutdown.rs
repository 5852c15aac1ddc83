//! Graceful shutdown: in-flight calls finish, subscriptions end cleanly with `UNAVAILABLE`,
//! new connections are refused.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn in_flight_calls_finish_and_subscriptions_end_cleanly() {
    let server = serve(builder(Impl::default()).shutdown_grace(Duration::from_secs(5))).await;
    let url = server.http_url();
    let address = server.local_addr();

    let mut ws = socket(&server, None).await;
    send(&mut ws, &call("svc.ticks", json!(null))).await;
    let subscription = receive(&mut ws).await.expect("subscribed")["result"].clone();
    assert!(receive(&mut ws).await.expect("a tick")["params"]["result"].is_number());

    let slow = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&call("svc.slow", json!({"ms": 600})))
            .send()
            .await?
            .json::<serde_json::Value>()
            .await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;

    let shutdown = tokio::spawn(server.shutdown());

    // The subscription ends with a close notification, not a dropped socket.
    let closed = loop {
        let message = receive(&mut ws).await.expect("a close notification before the socket closes");
        if message["params"].get("error").is_some() {
            break message;
        }
    };
    assert_eq!(closed["params"]["subscription"], subscription);
    assert_eq!(closed["params"]["error"]["data"]["code"], "UNAVAILABLE");

    let answer = slow.await.unwrap().expect("the in-flight call was answered");
    assert_eq!(answer["result"], 600);
    assert!(shutdown.await.unwrap(), "shutdown did not finish within the grace period");
    assert!(tokio::net::TcpStream::connect(address).await.is_err(), "a new connection was accepted");
}

#[tokio::test]
async fn calls_still_running_after_the_grace_period_are_abandoned() {
    let server = serve(builder(Impl::default()).shutdown_grace(Duration::from_millis(200))).await;
    let url = server.http_url();
    let _slow = tokio::spawn(async move {
        reqwest::Client::new().post(url).json(&call("svc.slow", json!({"ms": 5000}))).send().await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!server.shutdown().await, "shutdown claims the 5 s call finished within 200 ms");
}

#[tokio::test]
async fn the_grace_period_is_a_hard_bound_even_with_calls_stuck() {
    let server = serve(builder(Impl::default()).shutdown_grace(Duration::from_millis(300))).await;
    let url = server.http_url();
    // Stuck over HTTP, over a WebSocket, and a subscription that keeps streaming.
    let _http = tokio::spawn(async move {
        reqwest::Client::new().post(url).json(&call("svc.slow", json!({"ms": 3_600_000}))).send().await
    });
    let mut ws = socket(&server, None).await;
    send(&mut ws, &call("svc.slow", json!({"ms": 3_600_000}))).await;
    send(&mut ws, &json!({"jsonrpc": "2.0", "id": 2, "method": "svc.ticks"})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = std::time::Instant::now();
    let drained = tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await.expect("shutdown returned");
    assert!(!drained, "the stuck calls cannot have finished");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "shutdown took {took:?} with a 300 ms grace period");
}
