//! Limits over real sockets, including through batches and WebSockets (which must not bypass
//! any per-call concern): rate limits, deadlines, in-flight limits,
//! panics, batch size and concurrency, body size and connection count.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use accord_server::{Limits, Policy, RateLimit};
use common::*;
use serde_json::{Value, json};

fn batch(method: &str, params: Value, n: usize) -> Value {
    Value::Array((0..n).map(|i| json!({"jsonrpc": "2.0", "id": i, "method": method, "params": params})).collect())
}

#[tokio::test]
async fn a_batch_cannot_bypass_the_rate_limit() {
    let server =
        serve(builder(Impl::default()).procedure(SvcApi::ECHO, Policy::new().rate_limit(RateLimit::per_minute(10))))
            .await;
    let answers = post_json(&server, &batch("svc.echo", json!({"text": "hi"}), 50)).await;
    let answers = answers.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 50);
    let limited: Vec<&Value> = answers.iter().filter(|a| code(a) == "RATE_LIMITED").collect();
    assert_eq!(limited.len(), 40, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| a["result"]["text"] == "hi").count(), 10);
    let retry = limited[0]["error"]["data"]["retryAfterMs"].as_u64().expect("retryAfterMs");
    assert!(retry > 0 && retry <= 60_000, "{retry}");
    assert_eq!(limited[0]["error"]["code"], -32029);
}

#[tokio::test]
async fn websocket_calls_are_rate_limited_too() {
    let server = serve(builder(Impl::default()).rate_limit(RateLimit::per_minute(3))).await;
    let mut ws = socket(&server, None).await;
    let mut codes = Vec::new();
    for i in 0..5 {
        send(&mut ws, &json!({"jsonrpc": "2.0", "id": i, "method": "svc.echo", "params": {"text": "x"}})).await;
        let answer = receive(&mut ws).await.expect("an answer");
        codes.push(if answer.get("result").is_some() { "OK".to_owned() } else { code(&answer).to_owned() });
    }
    assert_eq!(codes, ["OK", "OK", "OK", "RATE_LIMITED", "RATE_LIMITED"]);
}

#[tokio::test]
async fn callers_are_limited_by_identity_never_by_a_header_they_choose() {
    let server = serve(builder(Impl::default()).authenticator(Tokens).rate_limit(RateLimit::per_minute(1))).await;
    let echo = call("svc.echo", json!({"text": "x"}));
    let as_user = [("authorization", "Bearer user")];
    let as_admin = [("authorization", "Bearer admin")];
    let answer = |response: reqwest::Response| async move { response.json::<Value>().await.unwrap() };
    assert!(answer(post_with(&server, &as_user, &echo).await).await.get("result").is_some());
    assert!(answer(post_with(&server, &as_admin, &echo).await).await.get("result").is_some(), "own budget");
    assert_eq!(code(&answer(post_with(&server, &as_user, &echo).await).await), "RATE_LIMITED");

    // Anonymous callers count by address: a fresh `x-api-key` (or any header) is no fresh budget.
    let first = answer(post_with(&server, &[("x-api-key", "alpha")], &echo).await).await;
    assert!(first.get("result").is_some(), "{first}");
    for forged in [("x-api-key", "beta"), ("x-forwarded-for", "203.0.113.9"), ("x-real-ip", "203.0.113.10")] {
        let again = answer(post_with(&server, &[forged], &echo).await).await;
        assert_eq!(code(&again), "RATE_LIMITED", "{forged:?} bought a fresh budget");
    }
}

#[tokio::test]
async fn a_per_address_limit_holds_whoever_is_signed_in() {
    let login = Policy::new().rate_limit(RateLimit::per_minute(2).per_address());
    let server = serve(builder(Impl::default()).authenticator(Tokens).procedure(SvcApi::ECHO, login)).await;
    let echo = call("svc.echo", json!({"text": "x"}));
    let mut codes = Vec::new();
    for token in ["Bearer user", "Bearer admin", "Bearer user"] {
        let answer = post_with(&server, &[("authorization", token)], &echo).await.json::<Value>().await.unwrap();
        codes.push(if answer.get("result").is_some() { "OK" } else { code(&answer) }.to_owned());
    }
    assert_eq!(codes, ["OK", "OK", "RATE_LIMITED"], "each account must not add attempts");
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // The test client connects from 127.0.0.1, here a trusted proxy.
    let limit = RateLimit::per_minute(1).per_address();
    let server =
        serve(builder(Impl::default()).trusted_proxies(["127.0.0.1/32".parse().unwrap()]).rate_limit(limit)).await;
    let echo = call("svc.echo", json!({"text": "x"}));
    let from = |client: &'static str| [("x-forwarded-for", client)];
    let answer = |response: reqwest::Response| async move { response.json::<Value>().await.unwrap() };
    assert!(answer(post_with(&server, &from("198.51.100.1"), &echo).await).await.get("result").is_some());
    assert!(answer(post_with(&server, &from("198.51.100.2"), &echo).await).await.get("result").is_some());
    assert_eq!(code(&answer(post_with(&server, &from("198.51.100.1"), &echo).await).await), "RATE_LIMITED");
    // A forged hop left of the proxy's own does not help: the right-most untrusted one counts.
    let forged = [("x-forwarded-for", "192.0.2.77, 198.51.100.1")];
    assert_eq!(code(&answer(post_with(&server, &forged, &echo).await).await), "RATE_LIMITED");
}

#[tokio::test]
async fn a_slow_call_times_out_and_the_client_may_only_shorten_the_deadline() {
    let implementation = Impl::default();
    let server = serve(
        builder(implementation.clone()).procedure(SvcApi::SLOW, Policy::new().timeout(Duration::from_millis(300))),
    )
    .await;
    let timed_out = post_json(&server, &call("svc.slow", json!({"ms": 5000}))).await;
    assert_eq!(code(&timed_out), "TIMEOUT");
    assert_eq!(timed_out["error"]["code"], -32048);

    let shorter = post_with(&server, &[("x-accord-timeout-ms", "50")], &call("svc.slow", json!({"ms": 200}))).await;
    assert_eq!(code(&shorter.json::<Value>().await.unwrap()), "TIMEOUT");
    // Asking for more than the policy does not extend it.
    let longer = post_with(&server, &[("x-accord-timeout-ms", "60000")], &call("svc.slow", json!({"ms": 2000}))).await;
    assert_eq!(code(&longer.json::<Value>().await.unwrap()), "TIMEOUT");
    // The timed-out handlers were cancelled, not left running.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(implementation.running.load(Ordering::SeqCst), 0);
    assert_eq!(implementation.finished.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_full_procedure_sheds_load_instead_of_queueing() {
    let implementation = Impl::default();
    let server = serve(builder(implementation.clone()).procedure(SvcApi::SLOW, Policy::new().max_in_flight(2))).await;
    let answers = post_json(&server, &batch("svc.slow", json!({"ms": 300}), 6)).await;
    let answers = answers.as_array().expect("a batch answer");
    assert_eq!(answers.iter().filter(|a| code(a) == "OVERLOADED").count(), 4, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| a["result"] == 300).count(), 2);
    assert_eq!(implementation.most.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_global_in_flight_limit_applies_across_procedures() {
    let server = serve(builder(Impl::default()).limits(Limits::default().max_in_flight(1))).await;
    let slow = tokio::spawn({
        let url = server.http_url();
        async move { reqwest::Client::new().post(url).json(&call("svc.slow", json!({"ms": 500}))).send().await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let rejected = post_json(&server, &call("svc.echo", json!({"text": "x"}))).await;
    assert_eq!(code(&rejected), "OVERLOADED");
    assert!(slow.await.unwrap().is_ok());
}

#[tokio::test]
async fn batch_entries_run_concurrently() {
    let implementation = Impl::default();
    let server = serve(builder(implementation.clone())).await;
    let answers = post_json(&server, &batch("svc.slow", json!({"ms": 200}), 8)).await;
    assert_eq!(answers.as_array().map(Vec::len), Some(8));
    assert!(implementation.most.load(Ordering::SeqCst) > 1, "entries ran one after another");
}

#[tokio::test]
async fn a_panicking_handler_answers_internal_and_the_server_keeps_serving() {
    let server = serve(builder(Impl::default())).await;
    let answer = post_json(&server, &call("svc.boom", json!(null))).await;
    assert_eq!(code(&answer), "INTERNAL");
    assert_eq!(answer["error"]["code"], -32603);
    assert!(!answer.to_string().contains("blew up"), "internals leaked: {answer}");
    assert!(answer["error"]["data"]["requestId"].is_string());
    let next = post_json(&server, &call("svc.echo", json!({"text": "still here"}))).await;
    assert_eq!(next["result"]["text"], "still here");
}

#[tokio::test]
async fn batches_and_bodies_have_size_caps() {
    let server =
        serve(builder(Impl::default()).limits(Limits::default().max_batch_len(5).max_request_body_bytes(1024))).await;
    let too_many = post_json(&server, &batch("svc.echo", json!({"text": "x"}), 6)).await;
    assert_eq!(too_many["error"]["code"], -32010, "{too_many}");
    let too_big = post(&server, &call("svc.echo", json!({"text": "x".repeat(4096)}))).await;
    let status = too_big.status();
    let body: Value = too_big.json().await.unwrap_or(Value::Null);
    assert!(status == 413 || body["error"]["code"] == -32007, "{status} {body}");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed() {
    let server = serve(builder(Impl::default()).limits(Limits::default().max_connections(1))).await;
    let mut first = socket(&server, None).await;
    send(&mut first, &call("svc.echo", json!({"text": "x"}))).await;
    assert!(receive(&mut first).await.is_some());
    let second = tokio_tungstenite::connect_async(server.ws_url()).await;
    assert!(second.is_err(), "a second connection was served");
}
