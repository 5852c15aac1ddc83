//! Secrets never reach the logs, even at `trace`: passwords in params, bearer tokens in
//! headers, `?access_token=` in WebSocket URLs, on the server and in the Rust client.
//! (Own binary: the subscriber is process-wide.)

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;

const SECRETS: [&str; 3] = ["hunter2-password", "SECRET-HEADER-TOKEN", "SECRET-URL-TOKEN"];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn nothing_secret_is_logged_at_trace() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(accord_server::log_filter(Some("trace")))
        .with_writer(move || writer.clone())
        .init();

    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let secret_call = call("svc.echo", json!({"text": SECRETS[0]}));
    post_with(&server, &[("authorization", &format!("Bearer {}", SECRETS[1]))], &secret_call).await;
    post_with(&server, &[("authorization", "Bearer user")], &secret_call).await;

    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}?access_token={}", server.ws_url(), SECRETS[2]).into_client_request().unwrap();
    request.headers_mut().insert("authorization", "Bearer user".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    send(&mut ws, &secret_call).await;
    receive(&mut ws).await.expect("an answer");

    let transport = accord::client::HttpTransport::new(&server.http_url()).unwrap();
    let client = SvcClient::new(transport);
    let _ = client.echo(&accord::Cx::new(), Text { text: SECRETS[0].into() }).await;

    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(log.contains("accord"), "trace logging was on: {} bytes", log.len());
    for secret in SECRETS {
        assert!(!log.contains(secret), "`{secret}` was logged:\n{log}");
    }
}
