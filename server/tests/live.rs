//! Live data over real sockets, as a plain WebSocket client sees it (docs/wire.md): event ids
//! on tracked items, resuming with `meta.lastEventId`, the `EVENTS_MISSED` marker, `rpc.ping`
//! and in-band `rpc.authenticate`.

mod common;

use accord_server::topics::Topics;
use common::*;
use serde_json::{Value, json};

fn subscribe(id: u32, method: &str, last_event_id: Option<&str>) -> Value {
    let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method});
    if let Some(last) = last_event_id {
        request["meta"] = json!({"lastEventId": last});
    }
    request
}

/// Subscribes and returns the subscription id.
async fn open(ws: &mut Socket, method: &str, last_event_id: Option<&str>) -> String {
    send(ws, &subscribe(1, method, last_event_id)).await;
    let answer = receive(ws).await.expect("an answer");
    answer["result"].as_str().unwrap_or_else(|| panic!("subscribed: {answer}")).to_owned()
}

/// The next `n` notifications' params.
async fn notifications(ws: &mut Socket, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        let message = receive(ws).await.expect("a notification");
        out.push(message["params"].clone());
    }
    out
}

#[tokio::test]
async fn tracked_items_carry_their_id_and_a_resume_gets_exactly_what_followed() {
    let service = Impl::default();
    let server = serve(builder(service.clone())).await;
    let mut ws = socket(&server, None).await;
    let subscription = open(&mut ws, "svc.feed", None).await;
    for n in 0..5 {
        service.feed.publish(n).await.unwrap();
    }
    let items = notifications(&mut ws, 5).await;
    for (n, item) in items.iter().enumerate() {
        assert_eq!(item["subscription"], json!(subscription));
        assert_eq!(item["result"], json!(n));
        assert!(item["eventId"].as_str().is_some_and(|id| !id.is_empty()), "{item}");
    }
    let second = items[1]["eventId"].as_str().unwrap().to_owned();
    drop(ws);

    // A new connection resumes after the second: 2, 3, 4, then live 5.
    let mut ws = socket(&server, None).await;
    open(&mut ws, "svc.feed", Some(&second)).await;
    service.feed.publish(5).await.unwrap();
    let resumed = notifications(&mut ws, 4).await;
    let values: Vec<&Value> = resumed.iter().map(|item| &item["result"]).collect();
    assert_eq!(values, [&json!(2), &json!(3), &json!(4), &json!(5)]);
    assert_eq!(resumed[0]["eventId"], items[2]["eventId"], "ids are the same on replay");
}

#[tokio::test]
async fn an_untracked_subscription_sends_no_event_id() {
    let server = serve(builder(Impl::default())).await;
    let mut ws = socket(&server, None).await;
    open(&mut ws, "svc.ticks", None).await;
    let item = &notifications(&mut ws, 1).await[0];
    assert_eq!(item["result"], json!(0));
    assert!(item.get("eventId").is_none(), "{item}");
}

#[tokio::test]
async fn resuming_an_untracked_subscription_is_marked_missed_then_live() {
    let server = serve(builder(Impl::default())).await;
    let mut ws = socket(&server, None).await;
    let subscription = open(&mut ws, "svc.ticks", Some("anything")).await;
    let params = &notifications(&mut ws, 1).await[0];
    assert_eq!(params["subscription"], json!(subscription));
    assert!(params.get("result").is_none() && params.get("error").is_none(), "a marker, not an item: {params}");
    let missed = &params["missed"];
    assert_eq!(missed["code"], json!(-32052));
    assert_eq!(missed["data"]["code"], json!("EVENTS_MISSED"));
    assert_eq!(missed["data"]["lastEventId"], json!("anything"));
    assert_eq!(missed["data"]["reason"], json!("unknown"));
    assert!(missed["data"]["requestId"].is_string());
    assert_eq!(notifications(&mut ws, 1).await[0]["result"], json!(0), "and the stream goes on");
}

#[tokio::test]
async fn a_restarted_in_process_instance_answers_events_missed_then_goes_live() {
    let first = Impl::default();
    let server = serve(builder(first.clone())).await;
    let address = server.local_addr();
    let mut ws = socket(&server, None).await;
    open(&mut ws, "svc.feed", None).await;
    first.feed.publish(1).await.unwrap();
    let last = notifications(&mut ws, 1).await[0]["eventId"].as_str().unwrap().to_owned();
    drop(ws);
    assert!(server.shutdown().await);

    // The same address, a new process's worth of state.
    let second = Impl::with_feed(Topics::in_process().topic("feed").unwrap());
    let server = builder(second.clone()).serve(address).await.expect("the port again");
    let mut ws = socket(&server, None).await;
    open(&mut ws, "svc.feed", Some(&last)).await;
    let marker = &notifications(&mut ws, 1).await[0]["missed"];
    assert_eq!(marker["data"]["reason"], json!("unknown"));
    assert_eq!(marker["data"]["lastEventId"], json!(last));
    second.feed.publish(2).await.unwrap();
    assert_eq!(notifications(&mut ws, 1).await[0]["result"], json!(2));
}

#[tokio::test]
async fn rpc_ping_answers_true_on_both_transports_without_credentials() {
    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let ping = call("rpc.ping", json!(null));
    let answer = post_with(&server, &[("authorization", "Bearer wrong")], &ping).await.json::<Value>().await.unwrap();
    assert_eq!(answer, json!({"jsonrpc": "2.0", "id": 1, "result": true}));
    let mut ws = socket(&server, Some("Bearer wrong")).await;
    send(&mut ws, &ping).await;
    assert_eq!(receive(&mut ws).await.unwrap()["result"], json!(true));
}

fn authenticate(id: u32, authorization: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "rpc.authenticate", "params": {"authorization": authorization}})
}

fn whoami(id: u32) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "svc.whoami"})
}

#[tokio::test]
async fn rpc_authenticate_applies_to_every_message_after_it() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let mut ws = socket(&server, None).await;
    // Sent back to back, in one write: the call after the credentials runs as their identity.
    ws.feed(Message::text(authenticate(1, "Bearer admin").to_string())).await.unwrap();
    ws.feed(Message::text(whoami(2).to_string())).await.unwrap();
    ws.flush().await.unwrap();
    assert_eq!(receive(&mut ws).await.unwrap(), json!({"jsonrpc": "2.0", "id": 1, "result": {"subject": "ada"}}));
    assert_eq!(receive(&mut ws).await.unwrap()["result"]["subject"], json!("ada"));

    // Refreshed as someone else.
    send(&mut ws, &authenticate(3, "Bearer user")).await;
    assert_eq!(receive(&mut ws).await.unwrap()["result"]["subject"], json!("bob"));
    send(&mut ws, &whoami(4)).await;
    assert_eq!(receive(&mut ws).await.unwrap()["result"]["subject"], json!("bob"));

    // Refused: the connection stays refused until credentials are accepted again.
    send(&mut ws, &authenticate(5, "Bearer nope")).await;
    assert_eq!(code(&receive(&mut ws).await.unwrap()), "UNAUTHENTICATED");
    send(&mut ws, &whoami(6)).await;
    assert_eq!(code(&receive(&mut ws).await.unwrap()), "UNAUTHENTICATED");
    send(&mut ws, &authenticate(7, "Bearer admin")).await;
    assert_eq!(receive(&mut ws).await.unwrap()["result"]["subject"], json!("ada"));
    send(&mut ws, &json!({"jsonrpc": "2.0", "id": 8, "method": "svc.secret"})).await;
    assert_eq!(receive(&mut ws).await.unwrap()["result"], json!("for ada"));

    for bad in [json!({}), json!({"authorization": 5}), json!(null), json!({"authorization": "a\u{1}b"})] {
        send(&mut ws, &json!({"jsonrpc": "2.0", "id": 9, "method": "rpc.authenticate", "params": bad})).await;
        assert_eq!(code(&receive(&mut ws).await.unwrap()), "INVALID_PARAMS", "{bad}");
    }
    send(&mut ws, &whoami(10)).await;
    assert_eq!(receive(&mut ws).await.unwrap()["result"]["subject"], json!("ada"), "bad params change nothing");
}

#[tokio::test]
async fn in_band_credentials_are_what_reauthentication_checks() {
    let limits = accord_server::Limits::default().reauthenticate_every(std::time::Duration::from_millis(50));
    let server = serve(builder(Impl::default()).authenticator(Tokens).limits(limits)).await;
    // The upgrade carried no credentials: re-authentication must not sign the caller out.
    let mut ws = socket(&server, None).await;
    send(&mut ws, &authenticate(1, "Bearer user")).await;
    assert_eq!(receive(&mut ws).await.unwrap()["result"]["subject"], json!("bob"));
    open(&mut ws, "svc.ticks", None).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    send(&mut ws, &whoami(2)).await;
    loop {
        let message = receive(&mut ws).await.expect("a message");
        if message["id"] == json!(2) {
            assert_eq!(message["result"]["subject"], json!("bob"));
            break;
        }
        assert!(message["params"].get("error").is_none(), "the subscription goes on: {message}");
    }
}

#[tokio::test]
async fn too_many_refused_credentials_close_the_connection() {
    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let mut ws = socket(&server, None).await;
    for id in 0..10 {
        send(&mut ws, &authenticate(id, "Bearer guess")).await;
        assert_eq!(code(&receive(&mut ws).await.unwrap()), "UNAUTHENTICATED");
    }
    assert!(receive(&mut ws).await.is_none(), "closed (1008) after the tenth refusal");
}
