//! HTTP layers around the server (`ServerBuilder::layer`) and CORS (`ServerBuilder::cors`),
//! over real sockets.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use accord_server::Cors;
use common::*;
use http::HeaderValue;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A layer that counts the requests it sees.
#[derive(Clone)]
struct Counting(Arc<AtomicUsize>);

#[derive(Clone)]
struct Counted<S> {
    inner: S,
    count: Arc<AtomicUsize>,
}

impl<S> tower::Layer<S> for Counting {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted { inner, count: self.0.clone() }
    }
}

impl<S: tower::Service<R>, R> tower::Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.inner.call(request)
    }
}

#[tokio::test]
async fn layers_wrap_the_server_first_added_outermost() {
    use tower_http::compression::CompressionLayer;
    use tower_http::set_header::SetResponseHeaderLayer;

    let name = http::HeaderName::from_static("x-layer");
    let server = builder(Impl::default())
        .layer(SetResponseHeaderLayer::overriding(name.clone(), HeaderValue::from_static("outer")))
        .layer(SetResponseHeaderLayer::overriding(name, HeaderValue::from_static("inner")))
        .layer(CompressionLayer::new())
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let text = "compress me ".repeat(500);
    let response = reqwest::Client::new()
        .post(server.http_url())
        .header("accept-encoding", "gzip")
        .json(&call("svc.echo", json!({"text": text})))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-layer"], "outer", "the first layer added sees the response last");
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert!(response.headers().contains_key("x-request-id"));
    let compressed = response.bytes().await.unwrap();
    assert!(compressed.len() < text.len() / 4, "{} bytes", compressed.len());

    // WebSocket upgrades go through the layers too, and still work.
    let mut socket = socket(&server, None).await;
    send(&mut socket, &call("svc.echo", json!({"text": "hi"}))).await;
    assert_eq!(receive(&mut socket).await.unwrap()["result"], json!({"text": "hi"}));
}

#[tokio::test]
async fn layer_errors_are_answered_as_json_rpc_errors() {
    let server = builder(Impl::default())
        .layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(100)))
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let response = post(&server, &call("svc.slow", json!({"ms": 2000}))).await;
    assert_eq!(response.status(), 504);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(code(&body), "TIMEOUT", "{body}");
    // The connection is still good for the next request.
    assert_eq!(post_json(&server, &call("svc.echo", json!({"text": "x"}))).await["result"]["text"], "x");

    let server = builder(Impl::default())
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::ConcurrencyLimitLayer::new(1))
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let slow_call = call("svc.slow", json!({"ms": 500}));
    let slow = post(&server, &slow_call);
    let shed = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        post(&server, &call("svc.echo", json!({"text": "x"}))).await
    };
    let (slow, shed) = tokio::join!(slow, shed);
    assert_eq!(slow.status(), 200);
    assert_eq!(shed.status(), 503);
    let body: serde_json::Value = shed.json().await.unwrap();
    assert_eq!(code(&body), "OVERLOADED", "{body}");
}

fn preflight(server: &accord_server::RunningServer, origin: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, server.http_url())
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-accord-timeout-ms,authorization")
}

#[tokio::test]
async fn cors_answers_preflights_for_allowed_origins_only() {
    let seen = Arc::new(AtomicUsize::new(0));
    let cors: Cors = "http://localhost:5173, https://app.example.com".parse().unwrap();
    let server = builder(Impl::default()).layer(Counting(seen.clone())).cors(cors).serve("127.0.0.1:0").await.unwrap();

    let allowed = preflight(&server, "http://localhost:5173").send().await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:5173");
    let allow_headers = headers["access-control-allow-headers"].to_str().unwrap();
    for header in ["content-type", "authorization", "x-request-id", "x-accord-timeout-ms", "traceparent"] {
        assert!(allow_headers.contains(header), "{allow_headers}");
    }
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert_eq!(headers["access-control-max-age"], "600");
    assert!(!headers.contains_key("access-control-allow-credentials"));

    let refused = preflight(&server, "https://evil.example").send().await.unwrap();
    assert!(!refused.headers().contains_key("access-control-allow-origin"));
    assert_eq!(seen.load(Ordering::SeqCst), 0, "preflights never reach the layers");

    let response =
        post_with(&server, &[("origin", "https://app.example.com")], &call("svc.echo", json!({"text": "x"}))).await;
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(response.headers()["access-control-expose-headers"], "x-request-id");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_cors_a_preflight_gets_no_cors_headers() {
    let server = serve(builder(Impl::default())).await;
    let response = preflight(&server, "http://localhost:5173").send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert!(!response.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn browser_websockets_come_from_allowed_origins_only() {
    let cors = Cors::allow_origins(["http://localhost:5173"]).unwrap();
    let server = builder(Impl::default()).cors(cors).serve("127.0.0.1:0").await.unwrap();
    let connect = |origin: Option<&'static str>| {
        let mut request = server.ws_url().into_client_request().unwrap();
        if let Some(origin) = origin {
            request.headers_mut().insert("origin", HeaderValue::from_static(origin));
        }
        tokio_tungstenite::connect_async(request)
    };
    assert!(connect(None).await.is_ok(), "not a browser");
    assert!(connect(Some("http://localhost:5173")).await.is_ok());
    let own = format!("http://{}", server.local_addr());
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert("origin", HeaderValue::from_str(&own).unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok(), "the server's own origin");
    match connect(Some("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
}
