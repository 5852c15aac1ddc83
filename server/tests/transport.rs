//! HTTP and WebSocket at the byte level, as a hostile client sends them: content types, bodies
//! that are malformed, too big or never end, handshakes that are wrong, frames that break RFC
//! 6455, connections that dribble or idle, and a connection limit that must not lock newcomers
//! out.

mod common;

use std::time::Duration;

use accord_server::Limits;
use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends raw bytes on a new connection and reads until the server closes it (or `wait`).
async fn raw(server: &accord_server::RunningServer, bytes: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn status(response: &str) -> u16 {
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn json_body(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn content_type_and_method_are_checked() {
    let server = serve(builder(Impl::default())).await;
    let client = reqwest::Client::new();
    let form = client.post(server.http_url()).body(call("svc.whoami", json!(null)).to_string()).send().await.unwrap();
    assert_eq!(form.status(), 415);
    assert_eq!(code(&form.json::<Value>().await.unwrap()), "INVALID_REQUEST");
    let json = client
        .post(server.http_url())
        .header("content-type", "Application/JSON; charset=utf-8")
        .body(call("svc.whoami", json!(null)).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200, "media type parameters and case are fine");
    let get = client.get(server.http_url()).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST, GET");
}

#[tokio::test]
async fn a_notification_gets_204_and_no_body() {
    let server = serve(builder(Impl::default())).await;
    let response = post(&server, &json!({"jsonrpc": "2.0", "method": "svc.echo", "params": {"text": "x"}})).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn bodies_that_are_malformed_or_too_big_get_4xx_with_a_typed_error() {
    let limits = Limits::default().max_request_body_bytes(1024);
    let server = serve(builder(Impl::default()).limits(limits)).await;
    let head = "POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n";

    let chunked =
        raw(&server, format!("{head}transfer-encoding: chunked\r\n\r\nZZZ\r\n").as_bytes(), Duration::from_secs(5))
            .await;
    assert_eq!(status(&chunked), 400, "{chunked}");
    assert_eq!(json_body(&chunked)["error"]["data"]["code"], "PARSE_ERROR", "{chunked}");

    let declared = raw(&server, format!("{head}content-length: 5000\r\n\r\n").as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(status(&declared), 413, "{declared}");
    let error = &json_body(&declared)["error"];
    assert_eq!((error["code"].as_i64(), &error["data"]["code"]), (Some(-32007), &json!("REQUEST_TOO_BIG")));
    assert_eq!(error["data"]["limit"], 1024);

    let body = format!("2000\r\n{}\r\n0\r\n\r\n", " ".repeat(0x2000));
    let streamed =
        raw(&server, format!("{head}transfer-encoding: chunked\r\n\r\n{body}").as_bytes(), Duration::from_secs(5))
            .await;
    assert_eq!(status(&streamed), 413, "a chunked body over the limit");
}

#[tokio::test]
async fn a_body_that_never_ends_is_cut_at_its_timeout() {
    let limits = Limits::default().body_read_timeout(Duration::from_millis(300));
    let server = serve(builder(Impl::default()).limits(limits)).await;
    let head = "POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n[1,2,\r\n";
    let started = std::time::Instant::now();
    let answer = raw(&server, head.as_bytes(), Duration::from_secs(10)).await;
    assert_eq!(status(&answer), 408, "{answer}");
    assert_eq!(json_body(&answer)["error"]["data"]["code"], "TIMEOUT");
    assert!(started.elapsed() < Duration::from_secs(5), "closed after {:?}", started.elapsed());
}

#[tokio::test]
async fn dribbled_headers_and_idle_keep_alives_are_closed() {
    let limits = Limits::default()
        .header_read_timeout(Duration::from_millis(300))
        .keep_alive_timeout(Duration::from_millis(900));
    let server = serve(builder(Impl::default()).limits(limits)).await;

    let mut dribbler = TcpStream::connect(server.local_addr()).await.unwrap();
    dribbler.write_all(b"POST /rpc HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        // Keep dribbling a header byte now and then; the head must still be cut off.
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if dribbler.write_all(b"x").await.is_err() {
                return;
            }
            if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(1), dribbler.read_buf(&mut sink)).await {
                return;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a dribbled head was not cut off");
    assert!(started.elapsed() < Duration::from_secs(3), "cut after {:?}", started.elapsed());

    let mut idle = TcpStream::connect(server.local_addr()).await.unwrap();
    let request = call("svc.whoami", json!(null)).to_string();
    let message = format!(
        "POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{request}",
        request.len()
    );
    idle.write_all(message.as_bytes()).await.unwrap();
    let mut answer = [0u8; 4096];
    let read = idle.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"));
    // Longer than the header timeout, shorter than keep-alive: still open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    idle.write_all(message.as_bytes()).await.unwrap();
    let read = idle.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"), "an idle keep-alive was cut early");
    let closed = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut answer)).await.expect("closed when idle");
    assert_eq!(closed.unwrap_or(0), 0);
}

#[tokio::test]
async fn at_the_connection_limit_idle_connections_make_room_for_newcomers() {
    let limits = Limits::default().max_connections(20);
    let server = serve(builder(Impl::default()).limits(limits)).await;
    // 25 keep-alive connections that each made one call and went quiet, and 5 that never
    // finished a request head.
    let mut held = Vec::new();
    for _ in 0..25 {
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
        let answer = client.post(server.http_url()).json(&call("svc.whoami", json!(null))).send().await;
        if answer.is_ok() {
            held.push(client);
        }
    }
    let mut heads = Vec::new();
    for _ in 0..5 {
        let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
        stream.write_all(b"POST /rpc HTTP/1.1\r\n").await.unwrap();
        heads.push(stream);
    }
    for attempt in 0..10 {
        let fresh = reqwest::Client::new();
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            fresh.post(server.http_url()).json(&call("svc.echo", json!({"text": "new"}))).send(),
        )
        .await;
        let answer = answer.unwrap_or_else(|_| panic!("newcomer {attempt} waited more than 5 s"));
        assert_eq!(answer.unwrap().json::<Value>().await.unwrap()["result"]["text"], "new");
    }
}

#[tokio::test]
async fn too_many_subscriptions_are_refused_with_a_typed_error() {
    let limits = Limits::default().max_subscriptions_per_connection(2);
    let server = serve(builder(Impl::default()).limits(limits)).await;
    let mut ws = socket(&server, None).await;
    for id in 1..=3 {
        send(&mut ws, &json!({"jsonrpc": "2.0", "id": id, "method": "svc.ticks"})).await;
    }
    let refused = loop {
        let message = receive(&mut ws).await.expect("answers");
        if message["id"] == 3 {
            break message;
        }
    };
    assert_eq!(code(&refused), "OVERLOADED", "{refused}");
    assert_eq!(refused["error"]["data"]["limit"], 2);
    assert!(refused["error"]["data"]["requestId"].is_string());
}

/// A minimal WebSocket client writing frames by hand (masked or not).
mod frames {
    use super::*;

    pub async fn open(server: &accord_server::RunningServer) -> TcpStream {
        let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
        let handshake = "GET /rpc HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\
                         sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        stream.write_all(handshake.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        stream
    }

    pub fn frame(opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
        let mut out = vec![0x80 | opcode];
        let mask_bit = if masked { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => out.push(mask_bit | n as u8),
            n if n <= u16::MAX as usize => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        if masked {
            let key = [0x12, 0x34, 0x56, 0x78];
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            out.extend_from_slice(payload);
        }
        out
    }

    /// Reads server frames until a close frame; returns its code (or `None` if the connection
    /// ended without one), and the text frames seen before it.
    pub async fn close_code(stream: &mut TcpStream) -> (Option<u16>, Vec<String>) {
        let mut texts = Vec::new();
        loop {
            let mut head = [0u8; 2];
            if stream.read_exact(&mut head).await.is_err() {
                return (None, texts);
            }
            let opcode = head[0] & 0x0f;
            let len = match head[1] & 0x7f {
                126 => {
                    let mut n = [0u8; 2];
                    stream.read_exact(&mut n).await.unwrap();
                    u16::from_be_bytes(n) as usize
                }
                127 => {
                    let mut n = [0u8; 8];
                    stream.read_exact(&mut n).await.unwrap();
                    u64::from_be_bytes(n) as usize
                }
                n => n as usize,
            };
            let mut payload = vec![0u8; len];
            stream.read_exact(&mut payload).await.unwrap();
            match opcode {
                0x8 => return (payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]])), texts),
                0x1 => texts.push(String::from_utf8_lossy(&payload).into_owned()),
                _ => {}
            }
        }
    }
}

#[tokio::test]
async fn websocket_frames_follow_rfc_6455() {
    let limits = Limits::default().max_request_body_bytes(4096);
    let server = serve(builder(Impl::default()).limits(limits)).await;
    let echo = call("svc.echo", json!({"text": "x"})).to_string();

    let mut invalid_utf8 = frames::open(&server).await;
    invalid_utf8.write_all(&frames::frame(0x1, b"\xff\xfe", true)).await.unwrap();
    assert_eq!(frames::close_code(&mut invalid_utf8).await.0, Some(1007), "non-UTF-8 text frame");

    let mut unmasked = frames::open(&server).await;
    unmasked.write_all(&frames::frame(0x1, echo.as_bytes(), false)).await.unwrap();
    let (code, answered) = frames::close_code(&mut unmasked).await;
    assert_eq!(code, Some(1002), "an unmasked client frame");
    assert!(answered.is_empty(), "an unmasked frame was answered: {answered:?}");

    let mut too_big = frames::open(&server).await;
    too_big.write_all(&frames::frame(0x1, &vec![b' '; 8192], true)).await.unwrap();
    assert_eq!(frames::close_code(&mut too_big).await.0, Some(1009), "a message over the limit");

    let mut stray_continuation = frames::open(&server).await;
    stray_continuation.write_all(&frames::frame(0x0, b"{}", true)).await.unwrap();
    assert_eq!(
        frames::close_code(&mut stray_continuation).await.0,
        Some(1002),
        "a continuation with nothing to continue"
    );

    let mut binary = frames::open(&server).await;
    binary.write_all(&frames::frame(0x2, echo.as_bytes(), true)).await.unwrap();
    let mut head = [0u8; 2];
    binary.read_exact(&mut head).await.unwrap();
    assert_eq!(head[0] & 0x0f, 0x1, "a binary frame holding JSON is answered with a text frame");
    let mut answer = vec![0u8; (head[1] & 0x7f) as usize];
    binary.read_exact(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer).contains(r#""result":{"text":"x"}"#));
    binary.write_all(&frames::frame(0x8, &1000u16.to_be_bytes(), true)).await.unwrap();
    assert_eq!(frames::close_code(&mut binary).await.0, Some(1000), "our close is echoed");
}

#[tokio::test]
async fn bad_handshakes_get_4xx_not_200() {
    let server = serve(builder(Impl::default())).await;
    let base = "GET /rpc HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n";
    let cases = [
        (format!("{base}sec-websocket-version: 13\r\n\r\n"), 400),
        (format!("{base}sec-websocket-version: 8\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"), 426),
        (format!("{base}sec-websocket-version: 13\r\nsec-websocket-key: c2hvcnQ=\r\n\r\n"), 400),
        (
            "GET /rpc HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                .to_owned(),
            400,
        ),
    ];
    for (request, expected) in cases {
        let answer = raw(&server, request.as_bytes(), Duration::from_millis(500)).await;
        assert_eq!(status(&answer), expected, "{request:?} → {answer}");
    }
}

#[tokio::test]
async fn a_silent_websocket_is_closed_after_its_idle_timeout() {
    let limits =
        Limits::default().ws_ping_interval(Duration::from_millis(100)).ws_idle_timeout(Duration::from_millis(400));
    let server = serve(builder(Impl::default()).limits(limits)).await;
    let mut silent = frames::open(&server).await;
    let started = std::time::Instant::now();
    let (code, _) =
        tokio::time::timeout(Duration::from_secs(5), frames::close_code(&mut silent)).await.expect("closed");
    assert_eq!(code, Some(1001));
    assert!(started.elapsed() >= Duration::from_millis(350), "closed after only {:?}", started.elapsed());
}
