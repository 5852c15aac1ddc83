//! The CLI against a live shop on 127.0.0.1 (SQLite in a temporary directory): readable
//! output, and the documented exit code and message for each kind of failure.

use std::process::{Command, Output};
use std::time::Duration;

use shop::seed::SeedSize;
use shop::{Config, Shop};

fn cli(url: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shop-cli"));
    command.arg("--url").arg(url).args(args).env_remove("SHOP_TOKEN");
    if let Some(token) = token {
        command.env("SHOP_TOKEN", token);
    }
    command.output().expect("run shop-cli")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_print_results_and_typed_errors_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        port: 0,
        database_url: format!("sqlite://{}", dir.path().join("shop.db").display()),
        fulfilment_step: Duration::from_secs(3600),
        ..Config::default()
    };
    let shop = Shop::start(&config, Some(SeedSize { users: 3, products: 200, orders: 50 })).await.unwrap();
    let url = shop.server.http_url();

    let listed = cli(&url, None, &["products", "list", "--search", "lamp", "--limit", "3"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let out = text(&listed.stdout);
    assert_eq!(out.lines().filter(|l| l.to_lowercase().contains("lamp")).count(), 3, "{out}");
    assert!(out.lines().last().is_some_and(|l| l.starts_with("(1-3 of ")), "{out}");

    let wrong = cli(&url, None, &["login", "bob@example.com", "nope"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(text(&wrong.stderr).trim(), "error: wrong email or password (INVALID_CREDENTIALS)");

    let login = cli(&url, None, &["login", "bob@example.com", "password123"]);
    assert!(login.status.success(), "{}", text(&login.stderr));
    let out = text(&login.stdout);
    let token = out.lines().find_map(|l| l.strip_prefix("export SHOP_TOKEN=")).expect("a token line").to_owned();

    let anonymous = cli(&url, None, &["orders", "checkout", "5:1"]);
    assert_eq!(anonymous.status.code(), Some(3));
    assert!(text(&anonymous.stderr).contains("(UNAUTHENTICATED)\nhint: sign in"), "{}", text(&anonymous.stderr));

    let placed = cli(&url, Some(&token), &["orders", "checkout", "5:2", "6", "--key", "cli-key-0001"]);
    assert!(placed.status.success(), "{}", text(&placed.stderr));
    let out = text(&placed.stdout);
    assert!(out.starts_with("order #") && out.contains(" placed $") && out.contains("  2 x "), "{out}");
    let again = cli(&url, Some(&token), &["orders", "checkout", "5:2", "6", "--key", "cli-key-0001"]);
    assert_eq!(text(&again.stdout).lines().next(), out.lines().next(), "the retry answers with the same order");

    let out_of_stock = cli(&url, Some(&token), &["orders", "checkout", "5:100", "5:100"]);
    assert_eq!(out_of_stock.status.code(), Some(1));
    assert!(text(&out_of_stock.stderr).contains("200 requested (OUT_OF_STOCK)"), "{}", text(&out_of_stock.stderr));
    let missing = cli(&url, Some(&token), &["orders", "checkout", "999999:1"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(text(&missing.stderr).trim(), "error: product 999999 does not exist (PRODUCT_NOT_FOUND)");

    let mine = cli(&url, Some(&token), &["orders", "list", "--limit", "1"]);
    assert_eq!(text(&mine.stdout).lines().next(), out.lines().next(), "newest first");
    let forbidden = cli(&url, Some(&token), &["products", "update", "5", "--stock", "1"]);
    assert_eq!(forbidden.status.code(), Some(3));
    assert!(text(&forbidden.stderr).contains("(FORBIDDEN)"));

    let bad_line = cli(&url, Some(&token), &["orders", "checkout", "five:1"]);
    assert_eq!(bad_line.status.code(), Some(2), "a usage error");

    shop.shutdown().await;
    let down = cli(&url, None, &["products", "get", "1"]);
    assert_eq!(down.status.code(), Some(3));
    assert!(text(&down.stderr).contains("hint: is the shop running at"), "{}", text(&down.stderr));
}
