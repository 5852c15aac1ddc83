//! A topic's recent events in this process, in order: the whole history the in-process backend
//! keeps, and the Redis backend's local copy of its stream's tail, which the one reader task
//! per topic fills and every local subscriber reads from.
//!
//! Positions are [`Offset`]s, ordered like Redis Stream ids (`ms-seq`; the in-process backend
//! counts `n-0`). An event id is `<epoch>:<major>-<minor>`, the epoch naming one history of the
//! topic (one process start in process, one Redis stream generation), so an id from another
//! history is recognised as such instead of being misread as a position in this one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use accord::EventId;
use tokio::sync::watch;

use super::Retention;

/// A position in a topic's history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Offset {
    pub major: u64,
    pub minor: u64,
}

impl Offset {
    pub(super) const ZERO: Offset = Offset { major: 0, minor: 0 };

    /// Reads `major-minor` (a Redis Stream id).
    pub(super) fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('-')?;
        Some(Self { major: major.parse().ok()?, minor: minor.parse().ok()? })
    }

    /// The next in-process position.
    pub(super) fn next(self) -> Self {
        Self { major: self.major.saturating_add(1), minor: 0 }
    }
}

impl std::fmt::Display for Offset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.major, self.minor)
    }
}

/// `<epoch>:<offset>`.
pub(crate) fn event_id(epoch: &str, offset: Offset) -> EventId {
    EventId::new(format!("{epoch}:{offset}"))
}

/// The epoch and offset of an id, if it has that shape.
pub(crate) fn parse_event_id(id: &EventId) -> Option<(&str, Offset)> {
    let (epoch, offset) = id.as_str().split_once(':')?;
    Some((epoch, Offset::parse(offset)?))
}

/// One event: its value, or a gap (an event that is known to be lost, or could not be read).
#[derive(Clone, Debug)]
pub(crate) struct Entry<T> {
    pub offset: Offset,
    pub at: Instant,
    pub value: Option<T>,
}

/// What subscribers watch: each change wakes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Status {
    /// The last offset in the log.
    pub head: Offset,
    /// Whether the backend can be read (always, in process; while its reader runs, for Redis).
    pub up: bool,
    /// Bumped when the log starts a new history (a Redis stream generation changed): readers
    /// of the old one end.
    pub history: u64,
}

/// See the module docs.
pub(crate) struct Log<T> {
    state: Mutex<State<T>>,
    status: watch::Sender<Status>,
}

pub(crate) struct State<T> {
    pub epoch: Arc<str>,
    pub entries: VecDeque<Entry<T>>,
    /// Every event after this offset (up to the head) is in `entries`; the ones at or before it
    /// were dropped (in process: lost; for Redis: still in the stream, perhaps).
    pub covered_from: Offset,
    pub head: Offset,
}

/// What a reader finds after its cursor.
pub(crate) enum Read<T> {
    /// Events after the cursor (at most the batch asked for); empty when there are none yet.
    Events(Vec<Entry<T>>),
    /// Events right after the cursor were dropped from the log: the earliest it still has come
    /// after `covered_from`.
    Dropped { covered_from: Offset },
}

impl<T: Clone> Log<T> {
    pub(super) fn new(epoch: Arc<str>, head: Offset, up: bool) -> Self {
        let state = State { epoch, entries: VecDeque::new(), covered_from: head, head };
        Self { state: Mutex::new(state), status: watch::Sender::new(Status { head, up, history: 0 }) }
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State<T>> {
        // Every update below leaves the state consistent before it could panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn watch(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // used by the Redis reader
    pub(super) fn status(&self) -> Status {
        *self.status.borrow()
    }

    /// Appends events (in order, after the head), drops what the retention no longer keeps,
    /// and wakes the readers.
    pub(super) fn append(&self, events: impl IntoIterator<Item = (Offset, Option<T>)>, retention: &Retention) {
        let head = {
            let mut state = self.state();
            let now = Instant::now();
            for (offset, value) in events {
                if offset <= state.head {
                    continue; // already here (a replay overlapping the live tail)
                }
                state.entries.push_back(Entry { offset, at: now, value });
                state.head = offset;
            }
            state.trim(retention, now);
            state.head
        };
        self.status.send_if_modified(|status| {
            let changed = status.head != head;
            status.head = head;
            changed
        });
    }

    /// Starts a new history at `head` (the backend's position now), dropping the old one.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // used by the Redis reader
    pub(super) fn reset(&self, epoch: Arc<str>, head: Offset) {
        {
            let mut state = self.state();
            *state = State { epoch, entries: VecDeque::new(), covered_from: head, head };
        }
        self.status.send_modify(|status| {
            status.head = head;
            status.history += 1;
        });
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // used by the Redis reader
    pub(super) fn set_up(&self, up: bool) {
        self.status.send_if_modified(|status| std::mem::replace(&mut status.up, up) != up);
    }

    /// Up to `max` events after `cursor`.
    pub(super) fn read(&self, cursor: Offset, max: usize) -> Read<T> {
        let state = self.state();
        if cursor < state.covered_from {
            return Read::Dropped { covered_from: state.covered_from };
        }
        // Offsets increase along the deque: find the first one past the cursor.
        let start = state.entries.partition_point(|entry| entry.offset <= cursor);
        Read::Events(state.entries.iter().skip(start).take(max).cloned().collect())
    }
}

impl<T> State<T> {
    /// Drops events beyond the retention's count, and older than its age.
    fn trim(&mut self, retention: &Retention, now: Instant) {
        while self.entries.len() > retention.max_events
            || self.entries.front().is_some_and(|entry| now.duration_since(entry.at) > retention.max_age)
        {
            match self.entries.pop_front() {
                Some(dropped) => self.covered_from = dropped.offset,
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(n: u64) -> Offset {
        Offset { major: n, minor: 0 }
    }

    #[test]
    fn ids_round_trip_and_refuse_other_shapes() {
        let id = event_id("e1", Offset { major: 17, minor: 3 });
        assert_eq!(id.as_str(), "e1:17-3");
        assert_eq!(parse_event_id(&id), Some(("e1", Offset { major: 17, minor: 3 })));
        for bad in ["", "e1", "e1:", "e1:17", "e1:x-1", "e1:1-2-3", ":-"] {
            assert_eq!(parse_event_id(&EventId::new(bad)), None, "{bad}");
        }
        assert!(Offset { major: 2, minor: 0 } > Offset { major: 1, minor: 9 });
    }

    #[test]
    fn reads_follow_the_cursor_and_report_what_retention_dropped() {
        let log = Log::new("e".into(), Offset::ZERO, true);
        let retention = Retention { max_events: 3, max_age: Duration::from_secs(60) };
        log.append((1..=5).map(|n| (at(n), Some(n))), &retention);
        let Read::Events(events) = log.read(at(3), 10) else { panic!("dropped") };
        assert_eq!(events.iter().map(|e| e.value).collect::<Vec<_>>(), [Some(4), Some(5)]);
        let Read::Events(events) = log.read(at(2), 1) else { panic!("dropped") };
        assert_eq!(events.len(), 1, "batches are bounded");
        assert!(matches!(log.read(at(1), 10), Read::Dropped { covered_from } if covered_from == at(2)));
        let Read::Events(none) = log.read(at(5), 10) else { panic!("dropped") };
        assert!(none.is_empty());
        assert_eq!(log.status().head, at(5));
        log.append([(at(4), Some(40))], &retention);
        assert_eq!(log.state().entries.len(), 3, "an offset already in the log is not added twice");
    }
}
