//! The in-process backend; the Redis one is tested over real sockets in `tests/topics_redis.rs`.

use std::time::Duration;

use accord::{EventId, EventsMissedData, MissedReason, RpcError};
use futures_util::StreamExt;

use super::*;

type Items = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Tracked<u32>, RpcError>> + Send>>;

async fn subscribe(topic: &Topic<u32>, after: Option<&EventId>) -> Items {
    Box::pin(topic.subscribe_after(after).await.expect("subscribed"))
}

async fn next(items: &mut Items) -> Result<Tracked<u32>, RpcError> {
    tokio::time::timeout(Duration::from_secs(2), items.next()).await.expect("an item in time").expect("not ended")
}

async fn values(items: &mut Items, n: usize) -> Vec<u32> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(next(items).await.expect("an event").value);
    }
    out
}

fn missed(item: Result<Tracked<u32>, RpcError>) -> EventsMissedData {
    let error = item.expect_err("the marker");
    assert!(error.is_events_missed(), "{error:?}");
    error.data_as().expect("its data")
}

#[tokio::test]
async fn live_subscribers_see_every_event_in_order() {
    let topic = Topics::in_process().topic::<u32>("numbers").unwrap();
    let mut early = subscribe(&topic, None).await;
    for n in 0..100 {
        topic.publish(n).await.unwrap();
    }
    assert_eq!(values(&mut early, 100).await, (0..100).collect::<Vec<_>>());
    let mut late = subscribe(&topic, None).await;
    topic.publish(100).await.unwrap();
    assert_eq!(values(&mut late, 1).await, [100], "a live subscriber starts at the head");
}

#[tokio::test]
async fn resuming_delivers_what_came_after_exactly_once() {
    let topic = Topics::in_process().topic::<u32>("numbers").unwrap();
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(topic.publish(n).await.unwrap());
    }
    let mut resumed = subscribe(&topic, Some(&ids[3])).await;
    topic.publish(10).await.unwrap();
    assert_eq!(values(&mut resumed, 7).await, (4..=10).collect::<Vec<_>>());
    let mut at_head = subscribe(&topic, Some(&ids[9])).await;
    let item = next(&mut at_head).await.unwrap();
    assert_eq!(item.value, 10);
    assert!(topic.subscribe_after(Some(&item.id)).await.is_ok());
}

#[tokio::test]
async fn ids_from_another_history_or_beyond_the_head_are_unknown() {
    let topics = Topics::in_process();
    let topic = topics.topic::<u32>("numbers").unwrap();
    let other = Topics::in_process().topic::<u32>("numbers").unwrap();
    let foreign = other.publish(1).await.unwrap();
    topic.publish(0).await.unwrap();
    let epoch = foreign.as_str().split(':').next().unwrap().to_owned();
    for id in [foreign.clone(), EventId::new("garbage"), EventId::new(format!("{epoch}:99-0"))] {
        let mut items = subscribe(&topic, Some(&id)).await;
        let data = missed(next(&mut items).await);
        assert_eq!(data, EventsMissedData { last_event_id: Some(id.as_str().into()), reason: MissedReason::Unknown });
        topic.publish(7).await.unwrap();
        assert_eq!(values(&mut items, 1).await, [7], "then live");
    }
    let own = topic.publish(8).await.unwrap();
    let beyond = EventId::new(own.as_str().replace(":5-0", ":50-0"));
    let mut items = subscribe(&topic, Some(&beyond)).await;
    assert_eq!(missed(next(&mut items).await).reason, MissedReason::Unknown);
}

#[tokio::test]
async fn retention_drops_old_events_and_says_so() {
    let retention = Retention { max_events: 3, max_age: Duration::from_secs(60) };
    let topic = Topics::in_process().with_retention(retention).topic::<u32>("numbers").unwrap();
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(topic.publish(n).await.unwrap());
    }
    let mut items = subscribe(&topic, Some(&ids[0])).await;
    assert_eq!(missed(next(&mut items).await).reason, MissedReason::Expired);
    assert_eq!(values(&mut items, 3).await, [3, 4, 5], "then the oldest kept, in order");
    let mut fine = subscribe(&topic, Some(&ids[2])).await;
    assert_eq!(values(&mut fine, 3).await, [3, 4, 5], "an id just before the oldest kept loses nothing");
}

#[tokio::test]
async fn a_subscriber_left_behind_is_told_and_goes_on() {
    let retention = Retention { max_events: 4, max_age: Duration::from_secs(60) };
    let topic = Topics::in_process().with_retention(retention).topic::<u32>("numbers").unwrap();
    let mut slow = subscribe(&topic, None).await;
    topic.publish(0).await.unwrap();
    assert_eq!(values(&mut slow, 1).await, [0]);
    for n in 1..20 {
        topic.publish(n).await.unwrap();
    }
    let data = missed(next(&mut slow).await);
    assert_eq!(data.reason, MissedReason::Expired);
    assert!(data.last_event_id.is_some_and(|id| id.ends_with(":1-0")), "the last id it got");
    assert_eq!(values(&mut slow, 4).await, [16, 17, 18, 19]);
}

#[tokio::test]
async fn names_and_types_are_checked() {
    let topics = Topics::in_process();
    assert!(matches!(topics.topic::<u32>(""), Err(TopicError::InvalidName(_))));
    assert!(matches!(topics.topic::<u32>("a b"), Err(TopicError::InvalidName(_))));
    assert!(matches!(topics.topic::<u32>(&"x".repeat(101)), Err(TopicError::InvalidName(_))));
    let numbers = topics.topic::<u32>("n").unwrap();
    assert!(matches!(topics.topic::<String>("n"), Err(TopicError::OtherType(_))));
    let again = topics.topic::<u32>("n").unwrap();
    let mut items = subscribe(&again, None).await;
    numbers.publish(5).await.unwrap();
    assert_eq!(values(&mut items, 1).await, [5], "one topic per name");
    let unavailable: RpcError = TopicError::Unavailable("down".into()).into();
    assert_eq!(unavailable.retry_after(), Some(Duration::from_secs(1)));
}
