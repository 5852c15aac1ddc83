//! The `todos-axum` binary over real sockets: the app's page and the API on one port, a typed
//! call from the Rust client over HTTP and WebSocket, health, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use accord::Cx;
use accord::client::{HttpTransport, WsTransport};
use todos_api::{NewTodo, Todos, TodosClient};

#[tokio::test]
async fn the_api_and_the_app_share_one_port() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_todos-axum"))
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("todos-axum listening on ").expect(&first).to_owned();
    let base = url.trim_end_matches("/rpc");

    let page = reqwest::get(format!("{base}/")).await.unwrap().text().await.unwrap();
    assert!(page.contains("The app's own page"), "{page}");
    assert_eq!(reqwest::get(format!("{base}/healthz")).await.unwrap().status(), 200);

    let over_http = TodosClient::new(HttpTransport::new(&url).unwrap());
    let todo = over_http.create(&Cx::new(), NewTodo { title: "mounted".into(), ..Default::default() }).await.unwrap();
    let over_ws = TodosClient::new(WsTransport::connect(&url.replace("http:", "ws:")).await.unwrap());
    let listed = over_ws.list(&Cx::new(), Default::default()).await.unwrap();
    assert_eq!(listed, vec![todo]);

    // SIGTERM: axum stops, Accord drains, the process exits 0.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let stopped = lines.next().unwrap().unwrap();
    assert_eq!(stopped, "todos-axum stopped");
    assert!(child.wait().unwrap().success());
}
