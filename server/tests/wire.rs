//! The wire format, checked over real sockets with plain HTTP and WebSocket clients (no Accord
//! client involved), against `docs/wire.md`.

use accord::{Cx, RpcError, Stream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[accord::wire]
pub struct Count {
    /// Count from 1 up to this.
    pub to: u32,
    /// Fail with `TOO_FAR` after this many items, if set.
    #[serde(default)]
    pub fail_after: Option<u32>,
}

#[accord::wire]
pub struct Echo {
    pub text: String,
    pub nested: Vec<Item>,
}

#[accord::wire]
pub struct Item {
    pub name: String,
}

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("counted too far: {reached}")]
    #[accord(code = 4000)]
    TooFar { reached: u32 },
    #[error("refused")]
    Refused,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[accord::procedures(namespace = "test")]
pub trait TestApi {
    #[query]
    async fn echo(&self, cx: &Cx, input: Echo) -> Result<Echo, TestError>;
    #[query]
    async fn nothing(&self, cx: &Cx) -> Result<String, TestError>;
    #[mutation]
    async fn fail(&self, cx: &Cx, input: Count) -> Result<u32, TestError>;
    #[subscription]
    async fn count(&self, cx: &Cx, input: Count) -> Result<Stream<u32, TestError>, TestError>;
}

struct Impl;

impl TestApi for Impl {
    async fn echo(&self, _: &Cx, input: Echo) -> Result<Echo, TestError> {
        Ok(input)
    }
    async fn nothing(&self, _: &Cx) -> Result<String, TestError> {
        Ok("nothing".into())
    }
    async fn fail(&self, _: &Cx, input: Count) -> Result<u32, TestError> {
        Err(TestError::TooFar { reached: input.to })
    }
    async fn count(&self, _: &Cx, input: Count) -> Result<Stream<u32, TestError>, TestError> {
        if input.to == 0 {
            return Err(TestError::Refused);
        }
        let fail_after = input.fail_after;
        Ok(Box::pin(futures_util::stream::iter(1..=input.to).map(move |n| match fail_after {
            Some(limit) if n > limit => Err(TestError::TooFar { reached: n }),
            _ => Ok(n),
        })))
    }
}

async fn serve() -> accord_server::RunningServer {
    accord_server::Server::builder().mount(TestApiApi::handlers(Impl)).unwrap().serve("127.0.0.1:0").await.unwrap()
}

async fn post(server: &accord_server::RunningServer, body: Value) -> Value {
    reqwest::Client::new().post(server.http_url()).json(&body).send().await.unwrap().json().await.unwrap()
}

fn call(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

#[tokio::test]
async fn results_and_by_name_params() {
    let server = serve().await;
    let echo = json!({"text": "hi", "nested": [{"name": "a"}]});
    assert_eq!(post(&server, call("test.echo", echo.clone())).await["result"], echo);
    // A single positional element is accepted too.
    assert_eq!(post(&server, call("test.echo", json!([echo.clone()]))).await["result"], echo);
    // No-input procedures take no params, null, {} or [].
    let bare = json!({"jsonrpc": "2.0", "id": 1, "method": "test.nothing"});
    assert_eq!(post(&server, bare).await["result"], "nothing");
    assert_eq!(post(&server, call("test.nothing", json!({}))).await["result"], "nothing");
    assert_eq!(post(&server, call("test.nothing", json!({"x": 1}))).await["error"]["code"], -32602);
}

#[tokio::test]
async fn errors_follow_the_documented_shape() {
    let server = serve().await;
    let unknown = post(&server, call("test.nope", json!({}))).await;
    assert_eq!(unknown["error"]["code"], -32601);

    let bad = post(&server, call("test.echo", json!({"text": "hi", "nested": [{"name": 5}]}))).await;
    assert_eq!(bad["error"]["code"], -32602);
    assert_eq!(bad["error"]["data"]["code"], "INVALID_PARAMS");
    assert_eq!(bad["error"]["data"]["path"], "nested[0].name");
    assert!(bad["error"]["data"]["reason"].as_str().unwrap().contains("expected a string"), "{bad}");

    let missing = post(&server, call("test.echo", json!({"nested": []}))).await;
    assert_eq!(missing["error"]["data"]["reason"], "missing field `text`");

    let mut typed = post(&server, call("test.fail", json!({"to": 7}))).await;
    let request_id = typed["error"]["data"].as_object_mut().and_then(|data| data.remove("requestId"));
    assert!(request_id.is_some_and(|id| id.is_string()), "every error carries the request id");
    assert_eq!(
        typed["error"],
        json!({"code": 4000, "message": "counted too far: 7", "data": {"code": "TOO_FAR", "reached": 7}})
    );
}

#[tokio::test]
async fn batches_answer_every_entry() {
    let server = serve().await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "test.nothing"},
        {"jsonrpc": "2.0", "id": 2, "method": "test.fail", "params": {"to": 1}},
    ]);
    let answers = post(&server, batch).await;
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), 2);
    assert!(answers.iter().any(|a| a["id"] == 1 && a["result"] == "nothing"));
    assert!(answers.iter().any(|a| a["id"] == 2 && a["error"]["data"]["code"] == "TOO_FAR"));
}

#[tokio::test]
async fn only_rpc_and_health_paths_are_served() {
    let server = serve().await;
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();
    let wrong = client.post(format!("{base}/other")).json(&call("test.nothing", json!({}))).send().await.unwrap();
    assert_eq!(wrong.status(), 404);
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn mounting_a_namespace_twice_is_refused() {
    let error = accord_server::Server::builder()
        .mount(TestApiApi::handlers(Impl))
        .unwrap()
        .mount(TestApiApi::handlers(Impl))
        .unwrap_err();
    assert!(error.to_string().contains("test.echo"), "{error}");
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(server: &accord_server::RunningServer) -> Socket {
    tokio_tungstenite::connect_async(server.ws_url()).await.unwrap().0
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

async fn receive(socket: &mut Socket) -> Value {
    loop {
        let message =
            tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn a_subscription_streams_items_then_completes_with_a_null_error() {
    let server = serve().await;
    let mut ws = socket(&server).await;
    send(&mut ws, call("test.count", json!({"to": 3}))).await;
    let subscribed = receive(&mut ws).await;
    let id = subscribed["result"].as_str().expect("a string subscription id").to_owned();
    for n in 1..=3 {
        let item = receive(&mut ws).await;
        assert_eq!(item["method"], "test.count");
        assert_eq!(item["params"], json!({"subscription": id, "result": n}));
    }
    let end = receive(&mut ws).await;
    assert_eq!(end["params"], json!({"subscription": id, "error": null}));
}

#[tokio::test]
async fn a_failing_subscription_ends_with_its_typed_error() {
    let server = serve().await;
    let mut ws = socket(&server).await;
    send(&mut ws, call("test.count", json!({"to": 5, "failAfter": 1}))).await;
    let id = receive(&mut ws).await["result"].clone();
    assert_eq!(receive(&mut ws).await["params"]["result"], 1);
    let end = receive(&mut ws).await;
    assert_eq!(end["params"]["subscription"], id);
    let data = &end["params"]["error"]["data"];
    assert_eq!((&data["code"], &data["reached"]), (&json!("TOO_FAR"), &json!(2)), "{end}");
    assert!(data["requestId"].is_string(), "a subscription's closing error carries the request id: {end}");
    assert_eq!(end["params"]["error"]["code"], 4000);
}

#[tokio::test]
async fn a_refused_subscription_answers_with_an_error() {
    let server = serve().await;
    let mut ws = socket(&server).await;
    send(&mut ws, call("test.count", json!({"to": 0}))).await;
    let refused = receive(&mut ws).await;
    assert_eq!(refused["error"]["data"]["code"], "REFUSED");
}

#[tokio::test]
async fn unsubscribing_stops_the_stream() {
    let server = serve().await;
    let mut ws = socket(&server).await;
    // A long count that the client stops early.
    send(&mut ws, call("test.count", json!({"to": 1000000}))).await;
    let id = receive(&mut ws).await["result"].clone();
    send(&mut ws, json!({"jsonrpc": "2.0", "id": 2, "method": "test.count.unsubscribe", "params": [id]})).await;
    loop {
        let message = receive(&mut ws).await;
        if message["id"] == 2 {
            assert_eq!(message["result"], true);
            break;
        }
        assert_eq!(message["method"], "test.count", "only items before the answer: {message}");
    }
}

#[tokio::test]
async fn the_rust_client_receives_a_subscription_typed_final_error() {
    use accord::client::WsTransport;
    let server = serve().await;
    let client = TestApiClient::new(WsTransport::connect(&server.ws_url()).await.unwrap());

    let stream = client.count(&Cx::new(), Count { to: 3, fail_after: None }).await.unwrap();
    // Bounded: a missed completion must fail the test, not hang it.
    let completed: Vec<u32> =
        tokio::time::timeout(std::time::Duration::from_secs(10), stream.map(|i| i.unwrap()).collect())
            .await
            .expect("the stream completes");
    assert_eq!(completed, [1, 2, 3]);

    let mut failing = client.count(&Cx::new(), Count { to: 5, fail_after: Some(2) }).await.unwrap();
    assert_eq!(failing.next().await.map(Result::ok), Some(Some(1)));
    assert_eq!(failing.next().await.map(Result::ok), Some(Some(2)));
    match failing.next().await {
        Some(Err(TestError::TooFar { reached })) => assert_eq!(reached, 3),
        other => panic!("expected the typed final error, got {other:?}"),
    }
    assert!(failing.next().await.is_none());

    let refused = client.count(&Cx::new(), Count { to: 0, fail_after: None }).await;
    assert!(matches!(refused, Err(TestError::Refused)), "{:?}", refused.err());
}
