//! Request ids, the access log, metrics and health endpoints.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_valid_request_id_is_kept_echoed_and_reaches_the_context_and_errors() {
    let server = serve(builder(Impl::default())).await;
    let response = post_with(&server, &[("x-request-id", "trace-42")], &call("svc.whoami", json!(null))).await;
    assert_eq!(response.headers()["x-request-id"], "trace-42");
    assert_eq!(response.json::<Value>().await.unwrap()["result"]["requestId"], "trace-42");

    let failed = post_with(&server, &[("x-request-id", "trace-43")], &call("svc.echo", json!({}))).await;
    assert_eq!(failed.json::<Value>().await.unwrap()["error"]["data"]["requestId"], "trace-43");
}

#[tokio::test]
async fn unsafe_or_missing_request_ids_are_replaced() {
    let server = serve(builder(Impl::default())).await;
    let long = "x".repeat(65);
    for header in [None, Some("has space"), Some(long.as_str())] {
        let headers: Vec<(&str, &str)> = header.map(|h| ("x-request-id", h)).into_iter().collect();
        let response = post_with(&server, &headers, &call("svc.whoami", json!(null))).await;
        let echoed = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(Some(echoed.as_str()), header);
        assert!(!echoed.is_empty());
        assert_eq!(response.json::<Value>().await.unwrap()["result"]["requestId"], echoed.as_str());
    }
}

#[tokio::test]
async fn each_websocket_call_gets_its_own_request_id() {
    let server = serve(builder(Impl::default())).await;
    let mut ws = socket(&server, None).await;
    send(&mut ws, &call("svc.whoami", json!(null))).await;
    let first = receive(&mut ws).await.unwrap()["result"]["requestId"].clone();
    send(&mut ws, &call("svc.whoami", json!(null))).await;
    let second = receive(&mut ws).await.unwrap()["result"]["requestId"].clone();
    assert!(first.is_string() && second.is_string());
    assert_ne!(first, second);
}

#[tokio::test]
async fn unknown_methods_answer_with_the_documented_error() {
    let server = serve(builder(Impl::default())).await;
    let answer = post_json(&server, &call("svc.nope", json!(null))).await;
    assert_eq!(answer["error"]["code"], -32601);
    assert_eq!(code(&answer), "METHOD_NOT_FOUND");
    assert!(answer["error"]["data"]["requestId"].is_string());
}

#[tokio::test]
async fn metrics_count_calls_by_outcome_latency_and_rejections() {
    use accord_server::{Policy, RateLimit};
    let server =
        serve(builder(Impl::default()).procedure(SvcApi::ECHO, Policy::new().rate_limit(RateLimit::per_minute(2))))
            .await;
    for _ in 0..3 {
        post(&server, &call("svc.echo", json!({"text": "x"}))).await;
    }
    post(&server, &call("svc.boom", json!(null))).await;
    let text = reqwest::get(format!("http://{}/metrics", server.local_addr())).await.unwrap().text().await.unwrap();
    let has = |needle: &str| text.lines().any(|line| line.contains(needle));
    assert!(has(r#"accord_calls_total{method="svc.echo",kind="query",outcome="OK"} 2"#), "{text}");
    assert!(has(r#"accord_calls_total{method="svc.echo",kind="query",outcome="RATE_LIMITED"} 1"#), "{text}");
    assert!(has(r#"accord_calls_total{method="svc.boom",kind="mutation",outcome="INTERNAL"} 1"#), "{text}");
    assert!(has(r#"accord_rejected_total{method="svc.echo",reason="RATE_LIMITED"} 1"#), "{text}");
    assert!(has(r#"accord_call_duration_seconds_bucket{method="svc.echo",le="0.001"}"#), "{text}");
    assert!(has("accord_calls_in_flight"), "{text}");
}

#[tokio::test]
async fn readiness_follows_checks_and_draining() {
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = healthy.clone();
    let server = serve(builder(Impl::default()).readiness_check("database", move || {
        let ok = flag.load(std::sync::atomic::Ordering::SeqCst);
        async move { if ok { Ok(()) } else { Err("ping failed".to_owned()) } }
    }))
    .await;
    let base = format!("http://{}", server.local_addr());
    assert_eq!(reqwest::get(format!("{base}/healthz")).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(format!("{base}/readyz")).await.unwrap().status(), 200);
    healthy.store(false, std::sync::atomic::Ordering::SeqCst);
    let not_ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(not_ready.status(), 503);
    assert!(not_ready.text().await.unwrap().contains("database: ping failed"));
}
