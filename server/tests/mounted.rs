//! Accord mounted inside an existing axum app (`ServerBuilder::build`, `Server::rpc_service`,
//! `Server::service`): one port serves the app's routes and the API, over real sockets.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use accord::{Cx, RpcError};
use accord_server::{ClientAddress, Cors, Server};
use common::{Impl, SvcApi, call, code, receive, send};
use serde_json::{Value, json};

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum PeekError {
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[accord::procedures(namespace = "peek")]
pub trait Peek {
    /// The caller's address as the server sees it.
    #[query]
    async fn address(&self, cx: &Cx) -> Result<String, PeekError>;
}

struct Peeker;

impl Peek for Peeker {
    async fn address(&self, cx: &Cx) -> Result<String, PeekError> {
        Ok(cx.get::<ClientAddress>().map(|address| address.0.to_string()).unwrap_or_default())
    }
}

/// An axum app with its own routes and Accord under `/rpc`, served on a free port.
async fn app(accord: &Server, connect_info: bool) -> SocketAddr {
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "the app's home page" }))
        .nest_service("/rpc", accord.rpc_service())
        .route_service("/healthz", accord.service())
        .route_service("/metrics", accord.service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    if connect_info {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
    } else {
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    address
}

async fn build() -> Server {
    Server::builder()
        .mount(SvcApi::handlers(Impl::default()))
        .unwrap()
        .mount(PeekApi::handlers(Peeker))
        .unwrap()
        .build()
        .await
        .unwrap()
}

async fn post(address: SocketAddr, body: &Value) -> reqwest::Response {
    reqwest::Client::new().post(format!("http://{address}/rpc")).json(body).send().await.unwrap()
}

#[tokio::test]
async fn one_port_serves_the_app_and_the_api() {
    let accord = build().await;
    let address = app(&accord, true).await;
    let client = reqwest::Client::new();

    let home = client.get(format!("http://{address}/")).send().await.unwrap();
    assert_eq!(home.text().await.unwrap(), "the app's home page");

    let echoed = post(address, &call("svc.echo", json!({"text": "mounted"}))).await;
    assert!(echoed.headers().contains_key("x-request-id"));
    assert_eq!(echoed.json::<Value>().await.unwrap()["result"]["text"], "mounted");
    let peer: Value = post(address, &call("peek.address", Value::Null)).await.json().await.unwrap();
    assert_eq!(peer["result"], "127.0.0.1", "the caller's address, from axum's ConnectInfo");
    let batch = json!([call("svc.echo", json!({"text": "a"})), call("svc.nope", json!({}))]);
    let answers: Value = post(address, &batch).await.json().await.unwrap();
    assert_eq!(answers[0]["result"]["text"], "a");
    assert_eq!(code(&answers[1]), "METHOD_NOT_FOUND");

    let health = client.get(format!("http://{address}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = client.get(format!("http://{address}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"accord_calls_total{method="svc.echo""#), "{metrics}");
    let missing = client.get(format!("http://{address}/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404, "the app's router owns the other paths");

    // WebSocket under the prefix, with a subscription.
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{address}/rpc")).await.unwrap();
    send(&mut socket, &call("svc.echo", json!({"text": "over ws"}))).await;
    assert_eq!(receive(&mut socket).await.unwrap()["result"]["text"], "over ws");
    send(&mut socket, &json!({"jsonrpc": "2.0", "id": 2, "method": "svc.ticks"})).await;
    let subscribed = receive(&mut socket).await.unwrap();
    assert!(subscribed["result"].is_string(), "{subscribed}");
    let tick = receive(&mut socket).await.unwrap();
    assert_eq!(tick["method"], "svc.ticks");

    // Shutting Accord down ends the subscription with UNAVAILABLE and closes the socket.
    assert!(tokio::time::timeout(Duration::from_secs(5), accord.shutdown()).await.unwrap());
    let mut last = None;
    while let Some(message) = receive(&mut socket).await {
        last = Some(message);
    }
    let last = last.expect("a closing notification");
    assert_eq!(last["params"]["error"]["data"]["code"], "UNAVAILABLE", "{last}");
}

#[tokio::test]
async fn without_connect_info_the_address_is_unknown_not_wrong() {
    let accord = build().await;
    let address = app(&accord, false).await;
    let peer: Value = post(address, &call("peek.address", Value::Null)).await.json().await.unwrap();
    assert_eq!(peer["result"], "::", "{peer}");
}

#[tokio::test]
async fn a_mounted_service_answers_cors_itself() {
    let accord = Server::builder()
        .mount(SvcApi::handlers(Impl::default()))
        .unwrap()
        .cors(Cors::allow_origins(["http://localhost:5173"]).unwrap())
        .build()
        .await
        .unwrap();
    let address = app(&accord, true).await;
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("http://{address}/rpc"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "http://localhost:5173");
}
