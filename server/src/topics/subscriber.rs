//! One subscriber's stream of a topic: from its starting position (live, or after the event it
//! asks to resume from), every event once, in order, across the replay → live handover.
//!
//! The stream keeps a cursor (the offset of the last event it yielded) and reads the local log
//! after it; positions the log no longer holds come from Redis (the Redis backend) or are
//! reported missed (in process). Because every read is "after the cursor", an event that is
//! both in a replay and in the live log is yielded once.

use std::collections::VecDeque;
use std::sync::Arc;

use accord::{EventId, MissedReason, RpcError, Tracked};
use tokio::sync::watch;

use super::log::{Entry, Offset, Read, Status, event_id};
use super::{Shared, TopicError};

/// Events read from the log at once.
const BATCH: usize = 64;

/// What the stream yields: an event, or the `EVENTS_MISSED` marker (not the last item), or a
/// final error.
pub(super) type Yield<T> = Result<Tracked<T>, RpcError>;

pub(super) struct Subscriber<T> {
    shared: Arc<Shared<T>>,
    epoch: Arc<str>,
    cursor: Offset,
    /// The history this subscriber reads (a new one ends it).
    history: u64,
    status: watch::Receiver<Status>,
    ready: VecDeque<Yield<T>>,
    done: bool,
}

impl<T: Clone + Send + Sync + serde::de::DeserializeOwned + 'static> Subscriber<T> {
    /// A subscriber starting after `after` (live when `None`), with the marker first when it
    /// cannot.
    pub(super) async fn start(shared: Arc<Shared<T>>, after: Option<&EventId>) -> Result<Self, TopicError> {
        let mut status = shared.log.watch();
        let now = *status.borrow_and_update();
        if !now.up {
            return Err(TopicError::Unavailable("the topic's backend cannot be reached".into()));
        }
        let (epoch, covered_from, head) = {
            let state = shared.log.state();
            (state.epoch.clone(), state.covered_from, state.head)
        };
        let mut subscriber = Subscriber {
            shared,
            epoch,
            cursor: head,
            history: now.history,
            status,
            ready: VecDeque::new(),
            done: false,
        };
        let Some(after) = after else { return Ok(subscriber) };
        let asked = Some(after.as_str());
        match super::log::parse_event_id(after) {
            Some((epoch, offset)) if *epoch == *subscriber.epoch => {
                subscriber.cursor = offset;
                if offset < covered_from || offset > head {
                    subscriber.check_start(asked, offset, head).await?;
                }
            }
            _ => subscriber.missed(asked, MissedReason::Unknown),
        }
        Ok(subscriber)
    }

    /// A resume position outside the local log: what does the backend say about it?
    async fn check_start(&mut self, asked: Option<&str>, offset: Offset, head: Offset) -> Result<(), TopicError> {
        let Some(store) = &self.shared.redis else {
            // In process the log is the whole history: behind it is gone, beyond it is not ours.
            if offset > head {
                self.cursor = head;
                self.missed(asked, MissedReason::Unknown);
            } else {
                self.cursor = self.shared.log.state().covered_from;
                self.missed(asked, MissedReason::Expired);
            }
            return Ok(());
        };
        let replay = store.replay(offset, 0).await?;
        if *replay.generation != *self.epoch || offset > replay.last {
            self.cursor = head;
            self.missed(asked, MissedReason::Unknown);
        } else if replay.trimmed > offset {
            self.cursor = replay.trimmed;
            self.missed(asked, MissedReason::Expired);
        }
        Ok(())
    }

    fn missed(&mut self, asked: Option<&str>, reason: MissedReason) {
        self.ready.push_back(Err(RpcError::events_missed(asked, reason)));
    }

    /// The next item; `None` when the stream ends.
    pub(super) async fn next(&mut self) -> Option<Yield<T>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            let status = *self.status.borrow_and_update();
            if !status.up || status.history != self.history {
                return self.end(TopicError::Unavailable("the topic's backend cannot be reached".into()));
            }
            match self.shared.log.read(self.cursor, BATCH) {
                Read::Events(events) if !events.is_empty() => self.take(events),
                Read::Events(_) => {
                    if self.status.changed().await.is_err() {
                        self.done = true; // the topic is gone
                    }
                }
                Read::Dropped { covered_from } => {
                    if let Err(error) = self.catch_up(covered_from).await {
                        return self.end(error);
                    }
                }
            }
        }
    }

    fn end(&mut self, error: TopicError) -> Option<Yield<T>> {
        self.done = true;
        Some(Err(error.into()))
    }

    fn take(&mut self, events: Vec<Entry<T>>) {
        for entry in events {
            let before = self.cursor;
            self.cursor = entry.offset;
            match entry.value {
                Some(value) => self.ready.push_back(Ok(Tracked::new(event_id(&self.epoch, entry.offset), value))),
                None => {
                    let last = event_id(&self.epoch, before);
                    self.ready.push_back(Err(RpcError::events_missed(Some(last.as_str()), MissedReason::Unknown)));
                }
            }
        }
    }

    /// The cursor is behind what the local log holds: replay from Redis, or (in process) say
    /// what was dropped and go on from the oldest event kept.
    async fn catch_up(&mut self, covered_from: Offset) -> Result<(), TopicError> {
        let last = event_id(&self.epoch, self.cursor);
        let Some(store) = &self.shared.redis else {
            self.missed(Some(last.as_str()), MissedReason::Expired);
            self.cursor = covered_from;
            return Ok(());
        };
        let replay = store.replay(self.cursor, super::redis::BATCH).await?;
        if *replay.generation != *self.epoch {
            return Err(TopicError::Unavailable("the topic's Redis stream was replaced".into()));
        }
        if replay.trimmed > self.cursor {
            self.missed(Some(last.as_str()), MissedReason::Expired);
            self.cursor = replay.trimmed;
            return Ok(());
        }
        if replay.entries.is_empty() {
            // Nothing in Redis after the cursor, yet the log starts later: go on from there.
            self.cursor = covered_from;
            return Ok(());
        }
        let name = &self.shared.name;
        let events = replay.entries.into_iter().map(|(offset, payload)| Entry {
            offset,
            at: std::time::Instant::now(),
            value: super::decode(name, &payload),
        });
        self.take(events.collect());
        Ok(())
    }
}
