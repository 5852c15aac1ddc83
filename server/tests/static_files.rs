//! A built frontend served beside the API (`ServerBuilder::static_dir`), and `cx.kind()`.

mod common;

use common::*;
use serde_json::json;

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("index.html"), "<!doctype html><h1>shop</h1>").unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log('hi');").unwrap();
    dir
}

async fn get(server: &accord_server::RunningServer, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{}{path}", server.local_addr())).await.expect("get")
}

#[tokio::test]
async fn files_pages_and_the_api_share_one_port() {
    let dir = site();
    let server = serve(builder(Impl::default()).static_dir(dir.path())).await;

    let index = get(&server, "/").await;
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "text/html");
    assert!(index.text().await.unwrap().contains("<h1>shop</h1>"));
    let script = get(&server, "/app.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"].to_str().unwrap().contains("javascript"));
    // A client-side route gets the page; a missing asset is a 404; nothing escapes the dir.
    assert!(get(&server, "/orders/12").await.text().await.unwrap().contains("<h1>shop</h1>"));
    assert_eq!(get(&server, "/missing.js").await.status(), 404);
    assert_eq!(get(&server, "/../Cargo.toml").await.status(), 404);
    // The reserved paths keep their meaning.
    assert_eq!(get(&server, "/healthz").await.text().await.unwrap(), "ok\n");
    assert_eq!(post_json(&server, &call("svc.echo", json!({"text": "hi"}))).await["result"]["text"], "hi");
    // Only GET and HEAD reach the files.
    let put = reqwest::Client::new().put(format!("http://{}/app.js", server.local_addr())).send().await.unwrap();
    assert_eq!(put.status(), 404);
}

#[tokio::test]
async fn without_a_static_dir_other_paths_are_not_found() {
    let server = serve(builder(Impl::default())).await;
    assert_eq!(get(&server, "/").await.status(), 404);
}

#[tokio::test]
async fn procedures_know_their_kind() {
    let server = serve(builder(Impl::default())).await;
    let answer = post_json(&server, &call("svc.whoami", json!(null))).await;
    assert_eq!(answer["result"]["kind"], "query");
    let batch = json!([call("svc.whoami", json!(null))]);
    assert_eq!(post_json(&server, &batch).await[0]["result"]["kind"], "query");
}
