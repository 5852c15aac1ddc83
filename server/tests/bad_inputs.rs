//! The bad-input corpus: every message a hostile or broken client might send, each with the
//! answer JSON-RPC 2.0 requires, sent over HTTP and over a WebSocket. The corpus itself lives
//! in `corpus/mod.rs`; this file runs it.
//!
//! Over both transports: no case may crash or hang the server, none may answer `INTERNAL`
//! (a client's mistake is never the server's bug), ids come back exactly as sent, and a
//! message of notifications only gets no answer at all (HTTP 204, nothing on the socket).

mod common;
mod corpus;

use common::*;
use corpus::{Case, Expect};
use futures_util::SinkExt;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_tungstenite::tungstenite::Message;

/// An answer object, with its id as raw JSON text.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    result: Option<serde_json::Value>,
    error: Option<serde_json::Value>,
}

fn check_one(expected: &Expect, answer: &Answer<'_>) -> Result<(), String> {
    match expected {
        Expect::Ok { id } if answer.id.get() != id => Err(format!("id {} instead of {id}", answer.id.get())),
        Expect::Ok { .. } if answer.result.is_none() => Err(format!("expected a result, got {:?}", answer.error)),
        Expect::Ok { .. } => Ok(()),
        Expect::Error { id, .. } if answer.id.get() != id => Err(format!("id {} instead of {id}", answer.id.get())),
        Expect::Error { code, .. } => {
            let error = answer.error.as_ref().ok_or_else(|| format!("expected {code}, got a result"))?;
            if error["data"]["code"] != *code || !error["code"].is_i64() || !error["message"].is_string() {
                return Err(format!("expected {code}, got {error}"));
            }
            Ok(())
        }
        Expect::Nothing | Expect::Batch(_) => Err("a nested expectation".into()),
    }
}

/// Checks a whole answer body against a case.
fn check(case: &Case, body: Option<&str>) -> Result<(), String> {
    let shown = |body: &str| body.chars().take(400).collect::<String>();
    if let Some(body) = body
        && body.contains("\"INTERNAL\"")
    {
        return Err(format!("a client mistake answered INTERNAL: {}", shown(body)));
    }
    match (&case.expect, body) {
        (Expect::Nothing, None) => Ok(()),
        (Expect::Nothing, Some(body)) => Err(format!("expected no answer, got {}", shown(body))),
        (_, None) => Err("expected an answer, got none".into()),
        (Expect::Batch(entries), Some(body)) => {
            let answers: Vec<Answer<'_>> =
                serde_json::from_str(body).map_err(|e| format!("not a batch answer ({e}): {}", shown(body)))?;
            if answers.len() != entries.len() {
                return Err(format!("{} answers for {} entries: {}", answers.len(), entries.len(), shown(body)));
            }
            entries.iter().zip(&answers).try_for_each(|(expected, answer)| check_one(expected, answer))
        }
        (expected, Some(body)) => {
            let answer: Answer<'_> =
                serde_json::from_str(body).map_err(|e| format!("not an answer ({e}): {}", shown(body)))?;
            check_one(expected, &answer)
        }
    }
}

/// Fails listing every case that went wrong.
fn report(transport: &str, failures: Vec<String>) {
    assert!(failures.is_empty(), "{} {transport} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn the_corpus_is_large_and_never_expects_internal() {
    let cases = corpus::cases();
    assert!(cases.len() >= 150, "{} cases", cases.len());
    let mut names = std::collections::HashSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
    }
}

#[tokio::test]
async fn every_bad_input_over_http_gets_its_answer() {
    let server = serve(builder(Impl::default())).await;
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    for case in corpus::cases().iter().filter(|case| case.http) {
        let response = client
            .post(server.http_url())
            .header("content-type", "application/json")
            .body(case.body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("HTTP {}: {e}", case.name));
        let status = response.status();
        let body = response.bytes().await.expect("a body");
        let outcome = match (&case.expect, status.as_u16()) {
            (Expect::Nothing, 204) if body.is_empty() => Ok(()),
            (Expect::Nothing, status) => Err(format!("status {status}, body {}", String::from_utf8_lossy(&body))),
            (_, 200) => check(case, Some(&String::from_utf8_lossy(&body))),
            (_, status) => Err(format!("status {status}")),
        };
        if let Err(why) = outcome {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    report("HTTP", failures);
}

#[tokio::test]
async fn every_bad_input_over_a_websocket_gets_its_answer() {
    let server = serve(builder(Impl::default())).await;
    let mut ws = socket(&server, None).await;
    let mut failures = Vec::new();
    for case in corpus::cases().iter().filter(|case| case.websocket) {
        // Non-UTF-8 bytes cannot be a text frame; they go as a binary frame (the server reads
        // binary frames as messages too), where they are a parse error.
        let message = match String::from_utf8(case.body.clone()) {
            Ok(text) => Message::text(text),
            Err(bytes) => Message::binary(bytes.into_bytes()),
        };
        ws.send(message).await.unwrap_or_else(|e| panic!("WS {}: {e}", case.name));
        if matches!(case.expect, Expect::Nothing) {
            // Nothing may come back: a sentinel call's answer must be the next message.
            let sentinel =
                serde_json::json!({"jsonrpc": "2.0", "id": "sentinel", "method": "svc.echo", "params": {"text": "s"}});
            send(&mut ws, &sentinel).await;
            let next = receive_text(&mut ws).await.unwrap_or_else(|| panic!("WS {}: the socket closed", case.name));
            if !next.starts_with(r#"{"jsonrpc":"2.0","id":"sentinel""#) {
                failures.push(format!("{}: expected no answer, got {next}", case.name));
                receive_text(&mut ws).await;
            }
        } else {
            let answer = receive_text(&mut ws).await.unwrap_or_else(|| panic!("WS {}: the socket closed", case.name));
            if let Err(why) = check(case, Some(&answer)) {
                failures.push(format!("{}: {why}", case.name));
            }
        }
    }
    report("WS", failures);
}

async fn receive_text(ws: &mut Socket) -> Option<String> {
    use futures_util::StreamExt;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await.expect("in time")?;
        match message {
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}
