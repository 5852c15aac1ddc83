//! `rpc.discover` on the todos server answers the document the bindings wrote: the committed
//! `examples/todos/web/src/api/openrpc.json` (kept current by the drift check), plus `servers`.

use accord::openrpc::Info;
use serde_json::{Value, json};
use todos_api::TodosApi;
use todos_server::TodoList;

#[tokio::test]
async fn discover_answers_the_document_the_bindings_wrote() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src/api/openrpc.json");
    let mut written: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let generated = written.as_object_mut().unwrap().remove("x-generated");
    assert!(generated.is_some(), "the file carries its generated header");

    let server = accord_server::Server::builder()
        .mount(TodosApi::handlers(TodoList::new()))
        .unwrap()
        .openrpc(Info::default().server("local", "http://127.0.0.1:3000/rpc"))
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let discover = json!({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"});
    let answer: Value =
        reqwest::Client::new().post(server.http_url()).json(&discover).send().await.unwrap().json().await.unwrap();
    let mut discovered = answer["result"].clone();
    let servers = discovered.as_object_mut().unwrap().remove("servers");
    assert_eq!(servers, Some(json!([{"name": "local", "url": "http://127.0.0.1:3000/rpc"}])));
    assert_eq!(discovered, written);
}
