//! The benchmark's servers answer what the load generator sends: `bench.echo` echoes over HTTP
//! (single and batch) and WebSocket, and a message over 1000 characters is `INVALID_PARAMS`.
//! In-process and short: this runs in CI, the load benchmark itself does not.

use std::net::{Ipv4Addr, SocketAddr};

use accord_bench::client::{self, HttpConn, WsConn};
use accord_bench::stack::{self, BenchServer, Stack, TOKEN, Without};
use bytes::Bytes;
use serde_json::{Value, json};

async fn start(stack: Stack) -> BenchServer {
    stack::serve(stack, Without::default(), SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await.expect("serve")
}

async fn post(server: &BenchServer, body: String) -> Value {
    let mut connection = HttpConn::connect(server.local_addr(), Some(TOKEN)).await.expect("connect");
    let answer = connection.post(Bytes::from(body)).await.expect("an answer");
    serde_json::from_slice(&answer).expect("JSON")
}

#[tokio::test]
async fn the_default_stack_echoes_and_enforces_the_message_limit() {
    let server = start(Stack::Default).await;

    let echoed = post(&server, client::echo_call(7, "héllo", 42)).await;
    assert_eq!(echoed, json!({"jsonrpc": "2.0", "id": 7, "result": {"message": "héllo", "n": 42}}));

    // The limit counts characters, not bytes: 1000 two-byte characters pass.
    let at_limit = "é".repeat(1000);
    let answer = post(&server, client::echo_call(1, &at_limit, 1)).await;
    assert_eq!(answer["result"]["message"], json!(at_limit), "{answer}");

    let answer = post(&server, client::echo_call(2, &"a".repeat(1001), 1)).await;
    assert_eq!(answer["error"]["code"], json!(-32602), "{answer}");
    assert_eq!(answer["error"]["data"]["code"], json!("INVALID_PARAMS"), "{answer}");
    assert_eq!(answer["error"]["data"]["path"], json!("message"), "{answer}");

    let batch = post(&server, client::echo_batch(100, "x")).await;
    let answers = batch.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 100);
    assert_eq!(client::results(batch.to_string().as_bytes()), 100);

    let mut socket = WsConn::connect(server.local_addr(), Some(TOKEN)).await.expect("ws connect");
    let answer = socket.call(client::echo_call(3, "over ws", 3).into()).await.expect("ws answer");
    let answer: Value = serde_json::from_str(answer.as_str()).expect("JSON");
    assert_eq!(answer["result"], json!({"message": "over ws", "n": 3}));
    socket.close().await;

    assert!(server.shutdown().await, "graceful shutdown");
}

#[tokio::test]
async fn the_raw_and_full_stacks_echo_with_the_load_generators_token() {
    for stack in [Stack::Raw, Stack::Full] {
        let server = start(stack).await;
        let echoed = post(&server, client::echo_call(1, "hi", 5)).await;
        assert_eq!(echoed["result"], json!({"message": "hi", "n": 5}), "{stack}: {echoed}");
        assert!(server.shutdown().await, "{stack}: graceful shutdown");
    }
}

#[tokio::test]
async fn the_full_stack_refuses_a_wrong_token() {
    let server = start(Stack::Full).await;
    let mut connection = HttpConn::connect(server.local_addr(), Some("wrong")).await.expect("connect");
    let answer = connection.post(Bytes::from(client::echo_call(1, "hi", 5))).await.expect("an answer");
    let answer: Value = serde_json::from_slice(&answer).expect("JSON");
    assert_eq!(answer["error"]["data"]["code"], json!("UNAUTHENTICATED"), "{answer}");
    assert!(server.shutdown().await);
}

#[test]
fn stack_settings_parse() {
    assert_eq!("raw".parse::<Stack>(), Ok(Stack::Raw));
    assert!("fast".parse::<Stack>().is_err());
    let without: Without = "auth, log".parse().expect("valid list");
    assert_eq!(without, Without { auth: true, access_log: true, ..Without::default() });
    assert!("auth,cache".parse::<Without>().is_err());
}
