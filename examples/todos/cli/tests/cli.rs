//! The CLI against a live server on 127.0.0.1 (a multi-threaded runtime: the test blocks on the
//! CLI process while the server answers it): readable output, and the documented exit code
//! and message for each kind of failure.

use std::process::{Command, Output};

use todos_api::TodosApi;
use todos_server::TodoList;

fn cli(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_todos-cli")).arg("--url").arg(url).args(args).output().expect("run todos-cli")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_print_results_and_typed_errors_exit_non_zero() {
    let server = accord_server::Server::builder()
        .mount(TodosApi::handlers(TodoList::new()))
        .unwrap()
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.http_url();

    let created = cli(&url, &["create", "buy milk", "--tag", "home", "--priority", "high"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(text(&created.stdout).contains("#1    buy milk (High) #home"), "{}", text(&created.stdout));

    let listed = cli(&url, &["list", "--open"]);
    assert!(text(&listed.stdout).contains("buy milk"));

    let duplicate = cli(&url, &["create", "buy milk"]);
    assert_eq!(duplicate.status.code(), Some(1));
    assert_eq!(text(&duplicate.stderr).trim(), "error: an open todo is already titled \"buy milk\" (TITLE_TAKEN)");

    let missing = cli(&url, &["get", "42"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(text(&missing.stderr).trim(), "error: todo 42 does not exist (NOT_FOUND)");

    let done = cli(&url, &["done", "1"]);
    assert!(text(&done.stdout).starts_with("[x] #1"), "{}", text(&done.stdout));

    let stats = cli(&url, &["stats"]);
    assert!(text(&stats.stdout).contains("1 todos, 1 done"), "{}", text(&stats.stdout));

    let bad_priority = cli(&url, &["create", "x", "--priority", "urgent"]);
    assert_eq!(bad_priority.status.code(), Some(2));
    assert!(text(&bad_priority.stderr).contains("use low, normal or high"));
    server.stop();
}

#[test]
fn an_unreachable_server_is_a_transport_error() {
    let down = cli("http://127.0.0.1:9/rpc", &["list"]);
    assert_eq!(down.status.code(), Some(3));
    assert!(text(&down.stderr).contains("(TRANSPORT)"), "{}", text(&down.stderr));
}
