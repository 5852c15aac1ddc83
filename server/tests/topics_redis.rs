//! Topics on Redis Streams over real sockets: two server instances sharing one Redis, a
//! subscriber on one resuming on the other, retention, and a Redis outage (through a TCP proxy
//! the test cuts) answered with `UNAVAILABLE` and recovered from without a restart. Skipped
//! without `REDIS_URL`.

mod common;
mod proxy;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accord_server::topics::{Retention, Topic, Topics};
use common::*;
use proxy::Proxy;
use serde_json::{Value, json};

fn redis_url() -> Option<String> {
    let url = std::env::var("REDIS_URL").ok().filter(|url| !url.is_empty());
    if url.is_none() {
        eprintln!("skipped: REDIS_URL not set");
    }
    url
}

/// A key prefix no other test run shares.
fn prefix() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("accord:test:topics:{}:{nanos}:", std::process::id())
}

/// `url` pointed at the proxy (host and port replaced).
fn through(url: &str, proxy: &Proxy) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let path = rest.find('/').map_or("", |at| &rest[at..]);
    format!("{scheme}://{}{path}", proxy.addr())
}

fn target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = &rest[..rest.find('/').unwrap_or(rest.len())];
    if host.contains(':') { host.to_owned() } else { format!("{host}:6379") }
}

/// The `feed` topic of a fresh `Topics` on `url`, once its reader follows the stream.
async fn feed(url: &str, prefix: &str, retention: Retention) -> Topic<u32> {
    let topics = Topics::redis_with_prefix(url, prefix).expect("a URL").with_retention(retention);
    let topic = topics.topic::<u32>("feed").expect("a topic");
    let deadline = Instant::now() + Duration::from_secs(5);
    while topic.subscribe_after(None).await.is_err() {
        assert!(Instant::now() < deadline, "the reader never followed the stream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    topic
}

async fn open(ws: &mut Socket, last_event_id: Option<&str>) -> Value {
    let mut request = json!({"jsonrpc": "2.0", "id": 1, "method": "svc.feed"});
    if let Some(last) = last_event_id {
        request["meta"] = json!({"lastEventId": last});
    }
    send(ws, &request).await;
    receive(ws).await.expect("an answer")
}

/// The next `n` notifications' params.
async fn notifications(ws: &mut Socket, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        out.push(receive(ws).await.expect("a notification")["params"].clone());
    }
    out
}

fn results(items: &[Value]) -> Vec<Value> {
    items.iter().map(|item| item["result"].clone()).collect()
}

#[tokio::test]
async fn a_subscriber_on_one_instance_sees_what_the_other_publishes_and_resumes_there() {
    let Some(url) = redis_url() else { return };
    let prefix = prefix();
    let a = Impl::with_feed(feed(&url, &prefix, Retention::default()).await);
    let b = Impl::with_feed(feed(&url, &prefix, Retention::default()).await);
    let (server_a, server_b) = (serve(builder(a.clone())).await, serve(builder(b.clone())).await);

    let mut on_a = socket(&server_a, None).await;
    assert!(open(&mut on_a, None).await["result"].is_string());
    for n in 0..20 {
        b.feed.publish(n).await.unwrap();
    }
    let seen = notifications(&mut on_a, 20).await;
    assert_eq!(results(&seen), (0..20).map(|n| json!(n)).collect::<Vec<_>>(), "every event, in order");
    let tenth = seen[9]["eventId"].as_str().unwrap().to_owned();
    drop(on_a);

    // While nobody listens, A publishes more; the subscriber comes back on B.
    for n in 20..25 {
        a.feed.publish(n).await.unwrap();
    }
    let mut on_b = socket(&server_b, None).await;
    assert!(open(&mut on_b, Some(&tenth)).await["result"].is_string());
    b.feed.publish(25).await.unwrap();
    let resumed = notifications(&mut on_b, 16).await;
    assert_eq!(results(&resumed), (10..26).map(|n| json!(n)).collect::<Vec<_>>(), "once each, in order");
    assert_eq!(resumed[0]["eventId"], seen[10]["eventId"], "one id per event across instances");
}

#[tokio::test]
async fn a_resume_older_than_the_retention_is_marked_missed_then_goes_on() {
    let Some(url) = redis_url() else { return };
    let prefix = prefix();
    let retention = Retention { max_events: 5, max_age: Duration::from_secs(300) };
    let service = Impl::with_feed(feed(&url, &prefix, retention).await);
    let server = serve(builder(service.clone())).await;
    let first = service.feed.publish(0).await.unwrap();
    for n in 1..12 {
        service.feed.publish(n).await.unwrap();
    }
    let mut ws = socket(&server, None).await;
    open(&mut ws, Some(first.as_str())).await;
    let items = notifications(&mut ws, 1).await;
    eprintln!("{items:?}");
    let items = [items, notifications(&mut ws, 5).await].concat();
    assert_eq!(items[0]["missed"]["data"]["reason"], json!("expired"), "{}", items[0]);
    assert_eq!(items[0]["missed"]["data"]["lastEventId"], json!(first.as_str()));
    assert_eq!(results(&items[1..]), (7..12).map(|n| json!(n)).collect::<Vec<_>>(), "the 5 kept");

    // An id of another stream generation is unknown.
    let mut ws = socket(&server, None).await;
    open(&mut ws, Some("0123456789abcdef:1-0")).await;
    let marker = &notifications(&mut ws, 1).await[0];
    assert_eq!(marker["missed"]["data"]["reason"], json!("unknown"));
    service.feed.publish(12).await.unwrap();
    assert_eq!(notifications(&mut ws, 1).await[0]["result"], json!(12), "then live");
}

#[tokio::test]
async fn a_redis_outage_ends_subscriptions_with_unavailable_and_they_resume_after_it() {
    let Some(url) = redis_url() else { return };
    let proxy = Proxy::start(&target(&url)).await;
    let prefix = prefix();
    let cut = Impl::with_feed(feed(&through(&url, &proxy), &prefix, Retention::default()).await);
    let direct = feed(&url, &prefix, Retention::default()).await;
    let server = serve(builder(cut.clone())).await;

    let mut ws = socket(&server, None).await;
    open(&mut ws, None).await;
    cut.feed.publish(1).await.unwrap();
    let last = notifications(&mut ws, 1).await[0]["eventId"].as_str().unwrap().to_owned();

    proxy.cut();
    let closing = &notifications(&mut ws, 1).await[0];
    assert_eq!(closing["error"]["data"]["code"], json!("UNAVAILABLE"), "{closing}");
    assert_eq!(closing["error"]["data"]["retryAfterMs"], json!(1000));
    let refused = cut.feed.publish(2).await.expect_err("publishing needs Redis");
    assert_eq!(accord::RpcError::from(refused).data_code(), Some("UNAVAILABLE"));
    assert_eq!(code(&open(&mut ws, Some(&last)).await), "UNAVAILABLE", "no subscription while Redis is down");
    // Meanwhile another instance (with its own way to Redis) goes on publishing.
    direct.publish(3).await.unwrap();

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = open(&mut ws, Some(&last)).await;
        if answer["result"].is_string() {
            break;
        }
        assert!(Instant::now() < deadline, "never recovered: {answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The other instance's event, then the failed publication, recorded as a gap once Redis
    // was back: the subscriber learns it missed something instead of never hearing of it.
    let items = notifications(&mut ws, 2).await;
    assert_eq!(items[0]["result"], json!(3), "{}", items[0]);
    assert_eq!(items[1]["missed"]["data"]["reason"], json!("unknown"), "{}", items[1]);
    cut.feed.publish(4).await.unwrap();
    let live = &notifications(&mut ws, 1).await[0];
    assert_eq!(live["result"], json!(4), "and live again: {live}");
}
