//! The `shop` binary on a fresh SQLite file: it creates, migrates and seeds the database, serves
//! the API and the page on one port, and drains and exits 0 on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_fresh_start_serves_seeded_data_and_the_page_then_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>shop</title>").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shop"))
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("shop.db").display()))
        .env("SHOP_WEB_DIR", &web)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start shop");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready = lines.next().expect("a first line").expect("readable");
    let url = ready.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/rpc"), "{ready}");
    let base = url.trim_end_matches("/rpc").to_owned();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "products.list", "params": {"limit": 1}});
        let answer: serde_json::Value =
            reqwest::Client::new().post(&url).json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(answer["result"]["total"], 5000, "seeded: {answer}");
        let page = reqwest::get(format!("{base}/")).await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("<title>shop</title>"));
        assert_eq!(reqwest::get(format!("{base}/readyz")).await.unwrap().status(), 200);
    });

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "shop did not exit within 15 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shop stopped")), "{rest:?}");
}
