//! `rpc.discover`: the OpenRPC document of the mounted APIs, built by `accord::openrpc` (as the
//! bindings' `openrpc.json` is), with `servers` from configuration. That it equals the committed
//! `openrpc.json` of a real API is tested in `examples/todos/server/tests/discover.rs`.

mod common;

use accord::Api;
use accord::openrpc::Info;
use accord_server::{DISCOVER, Policy, RateLimit, ServeError};
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn discover_answers_the_openrpc_document_with_its_servers() {
    let info = Info::default().version("2.1.0").server("local", "http://127.0.0.1:3000/rpc");
    let server = builder(Impl::default()).openrpc(info.clone()).serve("127.0.0.1:0").await.unwrap();
    let answer = post_json(&server, &json!({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"})).await;
    let document = &answer["result"];
    assert_eq!(document["openrpc"], "1.3.2");
    assert_eq!(document["info"]["version"], "2.1.0");
    assert_eq!(document["servers"], json!([{"name": "local", "url": "http://127.0.0.1:3000/rpc"}]));
    let expected = accord::openrpc::document(&[SvcApi::description()], &info).unwrap();
    assert_eq!(document, &expected);
    let names: Vec<&str> = document["methods"].as_array().unwrap().iter().filter_map(|m| m["name"].as_str()).collect();
    assert!(names.contains(&"svc.echo") && !names.contains(&DISCOVER.as_str()), "{names:?}");

    // The same over WebSocket, in a batch, and with empty params; other params are refused.
    let mut socket = socket(&server, None).await;
    send(&mut socket, &json!([{"jsonrpc": "2.0", "id": 1, "method": "rpc.discover", "params": []}])).await;
    assert_eq!(&receive(&mut socket).await.unwrap()[0]["result"], document);
    let refused = post_json(&server, &call("rpc.discover", json!({"x": 1}))).await;
    assert_eq!(code(&refused), "INVALID_PARAMS");
}

#[tokio::test]
async fn discovery_can_be_turned_off_and_limited_like_any_procedure() {
    let server = serve(builder(Impl::default()).without_discovery()).await;
    let answer = post_json(&server, &json!({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"})).await;
    assert_eq!(code(&answer), "METHOD_NOT_FOUND");

    let limited = builder(Impl::default()).procedure(DISCOVER, Policy::new().rate_limit(RateLimit::per_minute(1)));
    let server = serve(limited).await;
    let discover = json!({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"});
    assert!(post_json(&server, &discover).await["result"].is_object());
    assert_eq!(code(&post_json(&server, &discover).await), "RATE_LIMITED");
    let metrics = reqwest::get(format!("http://{}/metrics", server.local_addr())).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"accord_calls_total{method="rpc.discover""#), "{metrics}");
}

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum RpcNsError {
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(accord::RpcError),
}

/// An API that claims the `rpc` namespace.
#[accord::procedures(namespace = "rpc")]
pub trait Squatter {
    #[query]
    async fn discover(&self, cx: &accord::Cx) -> Result<String, RpcNsError>;
}

struct Squat;

impl Squatter for Squat {
    async fn discover(&self, _: &accord::Cx) -> Result<String, RpcNsError> {
        Ok("mine".into())
    }
}

#[tokio::test]
async fn an_api_cannot_take_the_discovery_method_unless_discovery_is_off() {
    let builder = || accord_server::Server::builder().mount(SquatterApi::handlers(Squat)).unwrap();
    let error = builder().serve("127.0.0.1:0").await.unwrap_err();
    assert!(matches!(error, ServeError::Register { name: "rpc.discover" }), "{error}");
    let server = builder().without_discovery().serve("127.0.0.1:0").await.unwrap();
    let answer: Value = post_json(&server, &json!({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"})).await;
    assert_eq!(answer["result"], "mine");
}
