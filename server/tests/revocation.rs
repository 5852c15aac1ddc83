//! Revocation reaches open sockets: a WebSocket opened with credentials that are later revoked,
//! or whose identity expires, stops working within the documented bound (calls refused with
//! `UNAUTHENTICATED`, the subscriptions opened with that identity ended with it), while an
//! outage of the session store signs nobody out.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use accord::{FrameworkCode, Identity, RpcError};
use accord_server::{Authenticator, Limits};
use common::*;
use serde_json::{Value, json};

/// Tokens a test can revoke, expire, or make unreachable.
#[derive(Clone, Default)]
struct Sessions {
    valid: Arc<Mutex<HashMap<String, Option<SystemTime>>>>,
    down: Arc<Mutex<bool>>,
}

impl Sessions {
    fn issue(&self, token: &str, expires_at: Option<SystemTime>) {
        self.valid.lock().unwrap().insert(token.into(), expires_at);
    }
    fn revoke(&self, token: &str) {
        self.valid.lock().unwrap().remove(token);
    }
}

impl Authenticator for Sessions {
    async fn authenticate(&self, request: &http::request::Parts) -> Result<Option<Identity>, RpcError> {
        let Some(value) = request.headers.get("authorization") else { return Ok(None) };
        if *self.down.lock().unwrap() {
            return Err(RpcError::framework(FrameworkCode::Unavailable, "the session store is down"));
        }
        let token = value.to_str().unwrap_or_default().strip_prefix("Bearer ").unwrap_or_default();
        match self.valid.lock().unwrap().get(token) {
            Some(expiry) => {
                let identity = Identity::new(token);
                Ok(Some(match expiry {
                    Some(at) => identity.with_expiry(*at),
                    None => identity,
                }))
            }
            None => Err(RpcError::framework(FrameworkCode::Unauthenticated, "unknown token")),
        }
    }
}

async fn server(sessions: &Sessions) -> accord_server::RunningServer {
    let limits = Limits::default().reauthenticate_every(Duration::from_millis(100));
    serve(builder(Impl::default()).authenticator(sessions.clone()).limits(limits)).await
}

/// Sends a call and returns its answer, skipping subscription items (a closing notification
/// seen on the way is kept in `closed`).
async fn ask_noting(ws: &mut Socket, id: u64, method: &str, closed: &mut Option<Value>) -> Value {
    send(ws, &json!({"jsonrpc": "2.0", "id": id, "method": method})).await;
    loop {
        let message = receive(ws).await.expect("an answer");
        if message["id"] == id {
            return message;
        }
        if message["params"].get("error").is_some() {
            *closed = Some(message);
        }
    }
}

async fn ask(ws: &mut Socket, id: u64, method: &str) -> Value {
    ask_noting(ws, id, method, &mut None).await
}

/// Waits for a subscription's closing notification.
async fn closing(ws: &mut Socket) -> Value {
    loop {
        let message = receive(ws).await.expect("a closing notification");
        if message["params"].get("error").is_some() {
            return message;
        }
    }
}

#[tokio::test]
async fn a_revoked_session_stops_working_on_an_open_websocket() {
    let sessions = Sessions::default();
    sessions.issue("t1", None);
    let server = server(&sessions).await;
    let mut ws = socket(&server, Some("Bearer t1")).await;
    assert_eq!(ask(&mut ws, 1, "svc.secret").await["result"], "for t1");
    send(&mut ws, &json!({"jsonrpc": "2.0", "id": 2, "method": "svc.ticks"})).await;
    assert!(receive(&mut ws).await.unwrap()["result"].is_string());

    sessions.revoke("t1");
    let ended = tokio::time::timeout(Duration::from_secs(3), closing(&mut ws)).await.expect("ended within the bound");
    assert_eq!(ended["params"]["error"]["data"]["code"], "UNAUTHENTICATED", "{ended}");
    assert!(ended["params"]["error"]["data"]["requestId"].is_string());
    for (id, method) in [(3, "svc.secret"), (4, "svc.whoami"), (5, "svc.admin")] {
        let answer = ask(&mut ws, id, method).await;
        assert_eq!(code(&answer), "UNAUTHENTICATED", "{method} after revocation: {answer}");
    }
}

#[tokio::test]
async fn an_expired_identity_is_refused_at_once_and_its_subscriptions_end() {
    let sessions = Sessions::default();
    sessions.issue("t2", Some(SystemTime::now() + Duration::from_millis(400)));
    let server = server(&sessions).await;
    let mut ws = socket(&server, Some("Bearer t2")).await;
    send(&mut ws, &json!({"jsonrpc": "2.0", "id": 1, "method": "svc.ticks"})).await;
    assert!(receive(&mut ws).await.unwrap()["result"].is_string());
    tokio::time::sleep(Duration::from_millis(450)).await;
    let mut closed = None;
    assert_eq!(code(&ask_noting(&mut ws, 2, "svc.secret", &mut closed).await), "UNAUTHENTICATED");
    let ended = match closed {
        Some(closed) => closed,
        None => tokio::time::timeout(Duration::from_secs(3), closing(&mut ws)).await.expect("ended within the bound"),
    };
    assert_eq!(ended["params"]["error"]["data"]["code"], "UNAUTHENTICATED");
    // Over HTTP an expired identity is refused too.
    let http = post_with(&server, &[("authorization", "Bearer t2")], &call("svc.whoami", json!(null))).await;
    assert_eq!(code(&http.json::<Value>().await.unwrap()), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_outage_of_the_session_store_signs_nobody_out() {
    let sessions = Sessions::default();
    sessions.issue("t3", None);
    let server = server(&sessions).await;
    let mut ws = socket(&server, Some("Bearer t3")).await;
    *sessions.down.lock().unwrap() = true;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(ask(&mut ws, 1, "svc.secret").await["result"], "for t3", "kept through the outage");
    *sessions.down.lock().unwrap() = false;
    assert_eq!(ask(&mut ws, 2, "svc.secret").await["result"], "for t3");
}
