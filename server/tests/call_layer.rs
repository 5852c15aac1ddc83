//! An app's own per-call layer (`ServerBuilder::call_layer`), over real sockets: it sees every
//! call alone over HTTP, inside a batch and on a WebSocket; it runs after authentication (a
//! refused call never reaches it) and inside the panic guard; it can refuse a call with a typed
//! error and hand the procedure a value through the `Cx`.

mod common;

use std::sync::{Arc, Mutex};

use accord::{Cx, FrameworkCode, RpcError};
use accord_server::call::{Call, CallService, Reply};
use common::{Impl, Tokens, call, code, post_json, post_with, receive, send, socket};
use serde_json::{Value, json};

/// What the layer saw of one call.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    method: &'static str,
    batch_size: Option<usize>,
    websocket: bool,
    subject: Option<String>,
}

/// The value the layer hands to the procedure.
#[derive(Clone, Debug)]
struct Tenant(String);

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[accord::procedures(namespace = "tenant")]
pub trait TenantInfo {
    /// The tenant the call layer put in the context.
    #[query]
    async fn current(&self, cx: &Cx) -> Result<String, TenantError>;
    /// Refused by the layer, always.
    #[query]
    async fn closed(&self, cx: &Cx) -> Result<String, TenantError>;
    /// The layer panics on this one.
    #[query]
    async fn trap(&self, cx: &Cx) -> Result<String, TenantError>;
}

struct Tenants;

impl TenantInfo for Tenants {
    async fn current(&self, cx: &Cx) -> Result<String, TenantError> {
        Ok(cx.get::<Tenant>().map(|tenant| tenant.0.clone()).unwrap_or_else(|| "none".into()))
    }
    async fn closed(&self, _: &Cx) -> Result<String, TenantError> {
        Ok("the layer let it through".into())
    }
    async fn trap(&self, _: &Cx) -> Result<String, TenantError> {
        Ok("the layer did not panic".into())
    }
}

/// Records every call, refuses `tenant.closed`, panics on `tenant.trap`, and sets the tenant
/// from the caller's identity.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl<S> tower::Layer<S> for Recorder {
    type Service = Recording<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Recording { seen: self.0.clone(), inner }
    }
}

struct Recording<S> {
    seen: Arc<Mutex<Vec<Seen>>>,
    inner: S,
}

impl<S: CallService> CallService for Recording<S> {
    async fn call(&self, mut call: Call<'_>) -> Result<Reply, RpcError> {
        let subject = call.cx().identity().map(|identity| identity.subject().to_owned());
        self.seen.lock().unwrap().push(Seen {
            method: call.method(),
            batch_size: call.batch_size(),
            websocket: call.is_websocket(),
            subject: subject.clone(),
        });
        match call.method() {
            "tenant.closed" => return Err(RpcError::framework(FrameworkCode::Forbidden, "closed by the call layer")),
            "tenant.trap" => panic!("the call layer blew up"),
            _ => {}
        }
        let tenant = format!("tenant-of-{}", subject.as_deref().unwrap_or("anonymous"));
        call.cx_mut().extensions_mut().insert(Tenant(tenant));
        self.inner.call(call).await
    }
}

async fn serve(recorder: &Recorder) -> accord_server::RunningServer {
    common::builder(Impl::default())
        .mount(TenantInfoApi::handlers(Tenants))
        .unwrap()
        .authenticator(Tokens)
        .call_layer(recorder.clone())
        .serve("127.0.0.1:0")
        .await
        .unwrap()
}

fn seen(recorder: &Recorder) -> Vec<Seen> {
    std::mem::take(&mut *recorder.0.lock().unwrap())
}

#[tokio::test]
async fn a_call_layer_sees_single_batched_and_websocket_calls() {
    let recorder = Recorder::default();
    let server = serve(&recorder).await;

    let single = post_json(&server, &call("tenant.current", json!(null))).await;
    assert_eq!(single["result"], "tenant-of-anonymous", "{single}");
    let one = Seen { method: "tenant.current", batch_size: None, websocket: false, subject: None };
    assert_eq!(seen(&recorder), vec![one]);

    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "tenant.current"},
        {"jsonrpc": "2.0", "id": 2, "method": "tenant.closed"},
        {"jsonrpc": "2.0", "id": 3, "method": "svc.echo", "params": {"text": "hi"}},
    ]);
    let answers: Value = post_with(&server, &[("authorization", "Bearer user")], &batch).await.json().await.unwrap();
    let by_id = |id: u64| answers.as_array().unwrap().iter().find(|a| a["id"] == id).unwrap().clone();
    assert_eq!(by_id(1)["result"], "tenant-of-bob");
    assert_eq!(code(&by_id(2)), "FORBIDDEN", "a batch entry cannot skip the layer");
    assert!(by_id(2)["error"]["data"]["requestId"].is_string(), "the server adds the request id");
    assert_eq!(by_id(3)["result"]["text"], "hi");
    let mut batched = seen(&recorder);
    batched.sort_by_key(|seen| seen.method);
    assert_eq!(batched.len(), 3, "{batched:?}");
    assert!(batched.iter().all(|s| s.batch_size == Some(3) && !s.websocket && s.subject.as_deref() == Some("bob")));

    let mut ws = socket(&server, Some("Bearer admin")).await;
    send(&mut ws, &call("tenant.current", json!(null))).await;
    let answer = receive(&mut ws).await.unwrap();
    assert_eq!(answer["result"], "tenant-of-ada", "{answer}");
    send(&mut ws, &call("tenant.closed", json!(null))).await;
    assert_eq!(code(&receive(&mut ws).await.unwrap()), "FORBIDDEN");
    let on_ws = seen(&recorder);
    assert_eq!(on_ws.len(), 2);
    assert!(on_ws.iter().all(|s| s.websocket && s.batch_size.is_none() && s.subject.as_deref() == Some("ada")));
}

#[tokio::test]
async fn a_refused_call_never_reaches_the_call_layer() {
    let recorder = Recorder::default();
    let server = serve(&recorder).await;
    // `svc.secret` needs a signed-in caller: authentication refuses it before the layer.
    let answer = post_json(&server, &call("svc.secret", json!(null))).await;
    assert_eq!(code(&answer), "UNAUTHENTICATED", "{answer}");
    // A token the authenticator refuses fails every call, before the layer too.
    let answer: Value = post_with(&server, &[("authorization", "Bearer nope")], &call("tenant.current", json!(null)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(code(&answer), "UNAUTHENTICATED", "{answer}");
    assert_eq!(seen(&recorder), Vec::new());
}

#[tokio::test]
async fn a_panicking_call_layer_answers_internal_and_the_server_goes_on() {
    let recorder = Recorder::default();
    let server = serve(&recorder).await;
    let answer = post_json(&server, &call("tenant.trap", json!(null))).await;
    assert_eq!(code(&answer), "INTERNAL", "{answer}");
    assert!(!answer.to_string().contains("blew up"), "a panic's message is never sent: {answer}");
    let mut ws = socket(&server, None).await;
    send(&mut ws, &call("tenant.trap", json!(null))).await;
    assert_eq!(code(&receive(&mut ws).await.unwrap()), "INTERNAL");
    send(&mut ws, &call("tenant.current", json!(null))).await;
    assert_eq!(receive(&mut ws).await.unwrap()["result"], "tenant-of-anonymous");
}
