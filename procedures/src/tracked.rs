//! Tracked subscriptions: items that carry an [`EventId`], so that a subscriber who reconnects
//! can resume after the last one it saw.
//!
//! A subscription opts in by yielding [`Tracked<T>`] items
//! (`Result<Stream<Tracked<TodoEvent>, TodoError>, TodoError>`). The wire sees each item's
//! value as `result` and its id beside it as `eventId`; bindings describe the item as `T`.
//! A subscriber that resubscribes sends the last id it saw (`meta.lastEventId`); the procedure
//! reads it with [`Cx::last_event_id`](crate::Cx::last_event_id) and replays what came after,
//! or says it cannot with an `EVENTS_MISSED` marker ([`RpcError::events_missed`]), which never
//! ends the stream. `accord-server`'s topics do all of that for a procedure.

use std::sync::Arc;

use crate::{EventsMissedData, FrameworkCode, MissedReason, RpcError};

/// The position of one event in its stream, as the server that produced it wrote it.
///
/// Opaque to clients: they keep the last one they saw and send it back to resume. Cheap to
/// clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Arc<str>);

impl EventId {
    /// Wraps an id.
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        Self(id.into())
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for EventId {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for EventId {
    fn from(id: String) -> Self {
        Self::new(id)
    }
}

/// One item of a tracked subscription: its value and the id to resume after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracked<T> {
    /// Where this item sits in its stream.
    pub id: EventId,
    /// The item itself (what bindings describe, and what `result` carries on the wire).
    pub value: T,
}

impl<T> Tracked<T> {
    /// An item with its id.
    pub fn new(id: impl Into<EventId>, value: T) -> Self {
        Self { id: id.into(), value }
    }

    /// The same id with the value changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Tracked<U> {
        Tracked { id: self.id, value: f(self.value) }
    }
}

/// What the server stores in a call's extensions for `meta.lastEventId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResumeAfter(pub EventId);

impl RpcError {
    /// The `EVENTS_MISSED` marker: the events after `last_event_id` cannot all be delivered
    /// (`reason`), the subscription goes on live from here. `last_event_id` is `None` when a
    /// client resubscribed with no id to resume from.
    ///
    /// Unlike every other error in a subscription's stream, this one is not the last item: a
    /// consumer refetches what it shows and keeps reading.
    ///
    /// ```
    /// use accord::{FrameworkCode, MissedReason, RpcError};
    ///
    /// let marker = RpcError::events_missed(Some("m1.7"), MissedReason::Expired);
    /// assert_eq!(marker.framework_code(), Some(FrameworkCode::EventsMissed));
    /// assert!(marker.is_events_missed());
    /// ```
    pub fn events_missed(last_event_id: Option<&str>, reason: MissedReason) -> Self {
        let message = match reason {
            MissedReason::Expired => "events after the last one seen are no longer kept; refetch",
            MissedReason::Unknown => "the stream cannot resume from the last event seen; refetch",
        };
        let data = EventsMissedData { last_event_id: last_event_id.map(str::to_owned), reason };
        RpcError::from_data(FrameworkCode::EventsMissed, message, data)
    }

    /// Whether this is the `EVENTS_MISSED` marker (which does not end a subscription).
    pub fn is_events_missed(&self) -> bool {
        self.framework_code() == Some(FrameworkCode::EventsMissed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_carries_the_id_and_reason() {
        let marker = RpcError::events_missed(Some("r1.5-0"), MissedReason::Unknown);
        assert_eq!(marker.code, -32052);
        assert_eq!(
            marker.data,
            Some(serde_json::json!({"code": "EVENTS_MISSED", "lastEventId": "r1.5-0", "reason": "unknown"}))
        );
        assert_eq!(
            marker.data_as::<EventsMissedData>(),
            Some(EventsMissedData { last_event_id: Some("r1.5-0".into()), reason: MissedReason::Unknown })
        );
        let anonymous = RpcError::events_missed(None, MissedReason::Expired);
        assert_eq!(anonymous.data, Some(serde_json::json!({"code": "EVENTS_MISSED", "reason": "expired"})));
    }

    #[test]
    fn tracked_maps_its_value() {
        let item = Tracked::new("a", 2).map(|n| n * 10);
        assert_eq!((item.id.as_str(), item.value), ("a", 20));
    }
}
