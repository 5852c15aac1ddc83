//! A small API and helpers shared by the middleware tests: every concern is exercised over real
//! sockets against this API.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use accord::{Cx, FrameworkCode, Identity, RpcError, Stream, Tracked};
use accord_server::topics::{Topic, Topics};
use accord_server::{Authenticator, RunningServer, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[accord::wire]
pub struct Text {
    pub text: String,
}

#[accord::wire]
pub struct Sleep {
    pub ms: u32,
}

#[accord::wire]
pub struct Caller {
    pub subject: Option<String>,
    pub request_id: Option<String>,
    /// `cx.kind()`, as the server recorded it.
    pub kind: Option<String>,
}

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum SvcError {
    #[error("never")]
    Never,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[accord::procedures(namespace = "svc")]
pub trait Svc {
    #[query]
    async fn echo(&self, cx: &Cx, input: Text) -> Result<Text, SvcError>;
    #[query]
    async fn slow(&self, cx: &Cx, input: Sleep) -> Result<u32, SvcError>;
    #[mutation]
    async fn boom(&self, cx: &Cx) -> Result<u32, SvcError>;
    #[query]
    async fn whoami(&self, cx: &Cx) -> Result<Caller, SvcError>;
    #[query(authenticated)]
    async fn secret(&self, cx: &Cx) -> Result<String, SvcError>;
    #[mutation(authenticated)]
    async fn admin(&self, cx: &Cx) -> Result<String, SvcError>;
    #[subscription]
    async fn ticks(&self, cx: &Cx) -> Result<Stream<u32, SvcError>, SvcError>;
    /// What `Impl::feed` publishes; resumable.
    #[subscription]
    async fn feed(&self, cx: &Cx) -> Result<Stream<Tracked<u32>, SvcError>, SvcError>;
}

/// Counts running `slow` calls and remembers the most at once; `feed` is a topic the test
/// publishes into.
#[derive(Clone)]
pub struct Impl {
    pub running: Arc<AtomicUsize>,
    pub most: Arc<AtomicUsize>,
    pub finished: Arc<AtomicUsize>,
    pub feed: Topic<u32>,
}

impl Default for Impl {
    fn default() -> Self {
        Self::with_feed(Topics::in_process().topic("feed").expect("a topic"))
    }
}

impl Impl {
    pub fn with_feed(feed: Topic<u32>) -> Self {
        Self { running: Arc::default(), most: Arc::default(), finished: Arc::default(), feed }
    }
}

impl Svc for Impl {
    async fn echo(&self, _: &Cx, input: Text) -> Result<Text, SvcError> {
        Ok(input)
    }
    async fn slow(&self, _: &Cx, input: Sleep) -> Result<u32, SvcError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        // Decrements on return and on cancellation alike.
        let _running = Running(self.running.clone());
        tokio::time::sleep(Duration::from_millis(input.ms.into())).await;
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(input.ms)
    }
    async fn boom(&self, _: &Cx) -> Result<u32, SvcError> {
        panic!("the handler blew up")
    }
    async fn whoami(&self, cx: &Cx) -> Result<Caller, SvcError> {
        Ok(Caller {
            subject: cx.identity().map(|i| i.subject().to_owned()),
            request_id: cx.request_id().map(|id| id.as_str().to_owned()),
            kind: cx.kind().map(|kind| kind.as_str().to_owned()),
        })
    }
    async fn secret(&self, cx: &Cx) -> Result<String, SvcError> {
        Ok(format!("for {}", cx.require_identity()?.subject()))
    }
    async fn admin(&self, cx: &Cx) -> Result<String, SvcError> {
        let identity = cx.require_identity()?;
        if !identity.has_role("admin") {
            return Err(RpcError::framework(FrameworkCode::Forbidden, "admins only").into());
        }
        Ok("welcome".into())
    }
    async fn ticks(&self, _: &Cx) -> Result<Stream<u32, SvcError>, SvcError> {
        let ticks = futures_util::stream::unfold(0u32, |n| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((Ok(n), n + 1))
        });
        Ok(Box::pin(ticks))
    }
    async fn feed(&self, cx: &Cx) -> Result<Stream<Tracked<u32>, SvcError>, SvcError> {
        self.feed.subscribe(cx).await
    }
}

struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `Authorization: Bearer admin` → an admin, `Bearer user` → a user, anything else refused.
pub struct Tokens;

impl Authenticator for Tokens {
    async fn authenticate(&self, request: &http::request::Parts) -> Result<Option<Identity>, RpcError> {
        let Some(value) = request.headers.get(http::header::AUTHORIZATION) else { return Ok(None) };
        match value.to_str().unwrap_or_default() {
            "Bearer admin" => Ok(Some(Identity::new("ada").with_roles(["admin"]))),
            "Bearer user" => Ok(Some(Identity::new("bob"))),
            _ => Err(RpcError::framework(FrameworkCode::Unauthenticated, "unknown token")),
        }
    }
}

pub fn builder(implementation: Impl) -> ServerBuilder {
    accord_server::Server::builder().mount(SvcApi::handlers(implementation)).expect("mount")
}

pub async fn serve(builder: ServerBuilder) -> RunningServer {
    builder.serve("127.0.0.1:0").await.expect("serve")
}

pub fn call(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

pub async fn post(server: &RunningServer, body: &Value) -> reqwest::Response {
    reqwest::Client::new().post(server.http_url()).json(body).send().await.expect("post")
}

pub async fn post_json(server: &RunningServer, body: &Value) -> Value {
    post(server, body).await.json().await.expect("json")
}

pub async fn post_with(server: &RunningServer, headers: &[(&str, &str)], body: &Value) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(server.http_url()).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("post")
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn socket(server: &RunningServer, authorization: Option<&str>) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = server.ws_url().into_client_request().expect("request");
    if let Some(value) = authorization {
        request.headers_mut().insert("authorization", value.parse().expect("header"));
    }
    tokio_tungstenite::connect_async(request).await.expect("connect").0
}

pub async fn send(socket: &mut Socket, message: &Value) {
    socket.send(Message::text(message.to_string())).await.expect("send");
}

/// The next text message, or `None` when the socket closed.
pub async fn receive(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a message in time")?;
        match message {
            Ok(Message::Text(text)) => return serde_json::from_str(&text).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// The `data.code` of a JSON-RPC error answer.
pub fn code(answer: &Value) -> &str {
    answer["error"]["data"]["code"].as_str().unwrap_or("<none>")
}
