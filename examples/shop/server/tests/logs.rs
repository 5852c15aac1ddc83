//! The shop binary at `RUST_LOG=trace` writes no secret: not the password of a sign-in, not a
//! bearer token from a header, not an `?access_token=` from a WebSocket URL.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "correct-horse-battery-staple-42";

#[test]
fn no_password_or_token_is_logged_even_at_trace() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shop"))
        .env("PORT", "0")
        .env("RUST_LOG", "trace")
        .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("shop.db").display()))
        .env("SHOP_WEB_DIR", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shop");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut stderr = child.stderr.take().expect("stderr");
    // Logs go to stdout: keep every line, the ones before "listening on" too.
    let mut before = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).expect("readable") > 0, "the shop ended before listening:\n{before}");
        if line.contains("listening on") {
            break line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_owned();
        }
        before.push_str(&line);
    };
    // Drain both pipes while the shop runs, so it never blocks on a full pipe.
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let token = runtime.block_on(async {
        let client = reqwest::Client::new();
        // A password of its own: the demo password is printed on purpose in the start-up banner.
        let account = json!({"jsonrpc": "2.0", "id": 1, "method": "auth.register",
                             "params": {"email": "secret@example.com", "name": "S", "password": PASSWORD}});
        client.post(&url).json(&account).send().await.unwrap();
        let login = json!({"jsonrpc": "2.0", "id": 1, "method": "auth.login",
                           "params": {"email": "secret@example.com", "password": PASSWORD}});
        let session: serde_json::Value = client.post(&url).json(&login).send().await.unwrap().json().await.unwrap();
        let token = session["result"]["token"].as_str().expect("a token").to_owned();
        let me = json!({"jsonrpc": "2.0", "id": 2, "method": "auth.me"});
        client.post(&url).bearer_auth(&token).json(&me).send().await.unwrap();
        let ws_url = format!("{}?access_token={token}", url.replace("http://", "ws://"));
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("websocket");
        use futures_util::{SinkExt, StreamExt};
        ws.send(Message::text(me.to_string())).await.unwrap();
        ws.next().await;
        // A sign-in over the socket too: WebSocket libraries trace whole frames.
        ws.send(Message::text(login.to_string())).await.unwrap();
        ws.next().await;
        token
    });

    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    let log = format!("{before}{}{}", out.join().unwrap(), err.join().unwrap());
    assert!(log.contains("DEBUG"), "verbose logging was on: {} bytes", log.len());
    for secret in [PASSWORD, token.as_str()] {
        let hits: Vec<&str> = log.lines().filter(|l| l.contains(secret)).collect();
        assert!(hits.is_empty(), "`{secret}` appears in the trace log:\n{}", hits.join("\n"));
    }
}
