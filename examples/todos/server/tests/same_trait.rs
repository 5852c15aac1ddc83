//! One function, written against `impl Todos`, runs against the in-process implementation and
//! against a real server on 127.0.0.1 through the generated client, with identical results:
//! outputs, and typed errors coming back as the same Rust enum values.

use accord::client::{HttpTransport, WsTransport};
use accord::{Cx, FrameworkCode, I53, ProcedureError};
use futures_util::StreamExt;
use todos_api::{
    NewTodo, Priority, Todo, TodoError, TodoEvent, TodoFilter, TodoId, TodoPatch, Todos, TodosApi, TodosClient,
};
use todos_server::TodoList;

/// Everything the scenario observed, with timestamps blanked (they differ between runs).
#[derive(Debug, PartialEq)]
struct Observed {
    created: Todo,
    duplicate: TodoError,
    missing: TodoError,
    invalid: TodoError,
    updated: Todo,
    open: Vec<Todo>,
    tagged: Vec<Todo>,
    stats: todos_api::TodoStats,
    deleted: Todo,
    deleted_again: TodoError,
}

fn blank(mut todo: Todo) -> Todo {
    todo.created_at_ms = I53::default();
    todo
}

/// A user's own code: it knows nothing about where `api` runs.
async fn onboard(api: &impl Todos) -> Observed {
    let cx = Cx::new();
    let new =
        |title: &str| NewTodo { title: title.into(), priority: Priority::High, tags: vec!["work".into()], note: None };
    let created = api.create(&cx, new("write the report")).await.expect("create");
    api.create(
        &cx,
        NewTodo { title: "water plants".into(), priority: Priority::Low, tags: vec![], note: Some("ferns".into()) },
    )
    .await
    .expect("create second");
    let duplicate = api.create(&cx, new("write the report")).await.expect_err("duplicate title");
    let missing = api.get(&cx, TodoId { id: 999 }).await.expect_err("missing");
    let invalid = api.create(&cx, new("")).await.expect_err("empty title");
    let updated =
        api.update(&cx, TodoPatch { id: created.id, done: Some(true), ..Default::default() }).await.expect("update");
    let open = api.list(&cx, TodoFilter { done: Some(false), tag: None }).await.expect("list open");
    let tagged = api.list(&cx, TodoFilter { done: None, tag: Some("work".into()) }).await.expect("list tagged");
    let stats = api.stats(&cx).await.expect("stats");
    let deleted = api.delete(&cx, TodoId { id: created.id }).await.expect("delete");
    let deleted_again = api.delete(&cx, TodoId { id: created.id }).await.expect_err("delete twice");
    Observed {
        created: blank(created),
        duplicate,
        missing,
        invalid,
        updated: blank(updated),
        open: open.into_iter().map(blank).collect(),
        tagged: tagged.into_iter().map(blank).collect(),
        stats,
        deleted: blank(deleted),
        deleted_again,
    }
}

async fn serve() -> accord_server::RunningServer {
    accord_server::Server::builder()
        .mount(TodosApi::handlers(TodoList::new()))
        .expect("mount")
        .serve("127.0.0.1:0")
        .await
        .expect("serve")
}

#[tokio::test]
async fn local_and_remote_calls_agree_including_typed_errors() {
    let local = onboard(&TodoList::new()).await;

    let server = serve().await;
    let remote = TodosClient::new(HttpTransport::new(&server.http_url()).expect("client"));
    let over_http = onboard(&remote).await;

    let server_ws = serve().await;
    let remote_ws = TodosClient::new(WsTransport::connect(&server_ws.ws_url()).await.expect("connect"));
    let over_ws = onboard(&remote_ws).await;

    assert_eq!(local.missing, TodoError::NotFound { id: 999 });
    assert_eq!(local.duplicate, TodoError::TitleTaken { title: "write the report".into() });
    assert_eq!(local.invalid, TodoError::InvalidTitle { length: 0 });
    assert_eq!(local.stats.total, 2);
    assert_eq!(over_http, local);
    assert_eq!(over_ws, local);
    server.stop();
    server_ws.stop();
}

#[tokio::test]
async fn a_subscription_streams_typed_items_to_the_rust_client() {
    let server = serve().await;
    let client = TodosClient::new(WsTransport::connect(&server.ws_url()).await.expect("connect"));
    let writer = TodosClient::new(HttpTransport::new(&server.http_url()).expect("client"));
    let cx = Cx::new();

    let mut changes = client.changes(&cx).await.expect("subscribe");
    let created = writer
        .create(&cx, NewTodo { title: "watch me".into(), priority: Priority::Normal, tags: vec![], note: None })
        .await
        .expect("create");
    writer.delete(&cx, TodoId { id: created.id }).await.expect("delete");

    let first = changes.next().await.expect("an event").expect("not an error");
    assert_eq!(first.value, TodoEvent::Created { todo: created.clone() });
    let second = changes.next().await.expect("an event").expect("not an error");
    assert_eq!(second.value, TodoEvent::Deleted { id: created.id });
    assert_ne!(first.id, second.id, "each change has its own id to resume after");
    server.stop();
}

#[tokio::test]
async fn transport_failures_arrive_as_the_framework_variant() {
    // Nothing listens on port 9 (discard) on loopback here; the call must fail cleanly.
    let client = TodosClient::new(HttpTransport::new("http://127.0.0.1:9/rpc").expect("client"));
    let error = client.get(&Cx::new(), TodoId { id: 1 }).await.expect_err("no server");
    let TodoError::Rpc(rpc) = error else { panic!("expected the framework variant, got {error:?}") };
    assert_eq!(rpc.framework_code(), Some(FrameworkCode::Transport));

    let http_only = TodosClient::new(HttpTransport::new("http://127.0.0.1:9/rpc").expect("client"));
    let Err(TodoError::Rpc(rpc)) = http_only.changes(&Cx::new()).await else {
        panic!("subscriptions need a WebSocket")
    };
    assert!(rpc.message.contains("WebSocket"), "{}", rpc.message);
}

#[tokio::test]
async fn a_deadline_in_the_context_bounds_the_call() {
    let server = serve().await;
    let client = TodosClient::new(WsTransport::connect(&server.ws_url()).await.expect("connect"));
    let mut changes = client.changes(&Cx::new()).await.expect("subscribe");
    // An already-expired deadline: the call cannot be answered in time.
    let cx = Cx::new().with_timeout(std::time::Duration::ZERO);
    let error = client.get(&cx, TodoId { id: 1 }).await.expect_err("deadline passed");
    assert_eq!(error.as_rpc_error().and_then(|e| e.framework_code()), Some(FrameworkCode::Timeout), "{error:?}");
    // The connection is still usable afterwards.
    assert_eq!(client.get(&Cx::new(), TodoId { id: 1 }).await, Err(TodoError::NotFound { id: 1 }));
    drop(changes.next());
    server.stop();
}
