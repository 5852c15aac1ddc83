//! Two todos-server instances sharing live changes through Redis (`REDIS_URL`; skipped
//! without): a subscriber on one sees a change made through the other, and a subscriber that
//! reconnects to the other instance resumes after the last change it saw.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accord::Cx;
use accord::client::{HttpTransport, TransportOptions, WsTransport};
use accord_server::topics::Topics;
use futures_util::StreamExt;
use todos_api::{NewTodo, TodoEvent, Todos, TodosApi, TodosClient};
use todos_server::TodoList;

async fn instance(url: &str, prefix: &str) -> accord_server::RunningServer {
    let topics = Topics::redis_with_prefix(url, prefix).expect("a Redis URL");
    accord_server::Server::builder()
        .mount(TodosApi::handlers(TodoList::with_topics(&topics).expect("the topic")))
        .expect("mount")
        .serve("127.0.0.1:0")
        .await
        .expect("serve")
}

fn new(title: &str) -> NewTodo {
    NewTodo { title: title.into(), ..Default::default() }
}

#[tokio::test]
async fn a_change_through_one_instance_reaches_subscribers_of_the_other() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("skipped: REDIS_URL not set");
        return;
    };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let prefix = format!("accord:test:todos:{}:{nanos}:", std::process::id());
    let (a, b) = (instance(&url, &prefix).await, instance(&url, &prefix).await);
    tokio::time::sleep(Duration::from_millis(300)).await; // both follow the stream

    let options = TransportOptions::default().reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100));
    let watcher = TodosClient::new(WsTransport::connect_with_options(&a.ws_url(), options).await.unwrap());
    let mut changes = watcher.changes(&Cx::new()).await.unwrap();
    let through_b = TodosClient::new(HttpTransport::new(&b.http_url()).unwrap());
    let created = through_b.create(&Cx::new(), new("shared")).await.unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(5), changes.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(seen.value, TodoEvent::Created { todo: created });

    // A resumes after that change on B, and gets exactly what followed.
    through_b.create(&Cx::new(), new("later")).await.unwrap();
    let on_b = TodosClient::new(WsTransport::connect(&b.ws_url()).await.unwrap());
    let mut resumed = on_b.changes(&Cx::new().with_last_event_id(seen.id)).await.unwrap();
    let next = tokio::time::timeout(Duration::from_secs(5), resumed.next()).await.unwrap().unwrap().unwrap();
    assert!(matches!(next.value, TodoEvent::Created { todo } if todo.title == "later"));
}
