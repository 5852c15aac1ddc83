//! The Redis Streams backend: one stream per topic (`{prefix}{<topic>}`), shared by every
//! instance, plus a generation key (`{prefix}{<topic>}:generation`) naming the stream's
//! history, so that ids from a stream that was lost (a flushed or restarted Redis without
//! persistence) are recognised instead of misread.
//!
//! - **Publish**: one script appends (`XADD`), trims to the retention (count, and age by Redis's clock),
//!   records the last id it dropped and answers the generation and id.
//! - **Follow**: one reader task per topic per instance (`XREAD BLOCK` on its own connection)
//!   fills the topic's local [`Log`]; every local subscriber reads from that log, so a thousand
//!   subscribers cost one Redis reader, not a thousand.
//! - **Replay**: a subscriber whose position is older than the local log asks Redis
//!   (`XRANGE (<after> + COUNT n`, one script that also answers the generation, the last id and
//!   the last id trimmed, so "dropped since" is told apart from "nothing since"). Needs
//!   Redis ≥ 6.2 (exclusive ranges).
//!
//! When Redis cannot be reached, publishing fails with `UNAVAILABLE`, open subscriptions end
//! with `UNAVAILABLE` and new ones are refused the same way; the reader retries with backoff
//! and everything works again once Redis answers, with nothing to restart. An event whose
//! publication failed is recorded as a gap in the stream once Redis is back, so subscribers are
//! told `EVENTS_MISSED` rather than never learning of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use ::redis::{AsyncConnectionConfig, Client, RedisError, Script};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::log::{Log, Offset};
use super::{Retention, TopicError, decode};

/// KEYS: stream, generation, trimmed. ARGV: payload ('' for a gap), max events, max age (ms),
/// a new generation in case there is none. Returns {generation, id}.
///
/// Trims by hand rather than with `XADD MAXLEN`/`XTRIM MINID` alone, to record the last id
/// dropped (`trimmed`): Redis's own `max-deleted-entry-id` counts `XDEL`s, not trimming, and
/// "was anything after X dropped?" is what a resume must answer.
const PUBLISH: &str = r"
local generation = redis.call('GET', KEYS[2])
if not generation then
  generation = ARGV[4]
  redis.call('SET', KEYS[2], generation)
end
local id = redis.call('XADD', KEYS[1], '*', 'v', ARGV[1])
local function parts(entry)
  local ms, seq = string.match(entry, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq), ms
end
local cut = nil
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[2])
if excess > 0 then
  local old = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
  cut = old[#old][1]
end
local t = redis.call('TIME')
local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[3])
if oldest > 0 then
  local aged = redis.call('XREVRANGE', KEYS[1], '(' .. string.format('%d', oldest) .. '-0', '-', 'COUNT', 1)
  if #aged > 0 then
    if cut == nil then
      cut = aged[1][1]
    else
      local ams, aseq = parts(aged[1][1])
      local cms, cseq = parts(cut)
      if ams > cms or (ams == cms and aseq > cseq) then cut = aged[1][1] end
    end
  end
end
if cut then
  redis.call('SET', KEYS[3], cut)
  local _, seq, ms = parts(cut)
  redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. string.format('%d', seq + 1))
end
return {generation, id}
";

/// KEYS: stream, generation, trimmed. ARGV: after (an id), count (0: none), a new generation in
/// case there is none. Returns {generation, last id, last trimmed id, entries after `after`}.
const REPLAY: &str = r"
local generation = redis.call('GET', KEYS[2])
if not generation then
  generation = ARGV[3]
  redis.call('SET', KEYS[2], generation)
end
local last = '0-0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then last = info[i + 1] end
  end
end
local trimmed = redis.call('GET', KEYS[3]) or '0-0'
local entries = {}
if tonumber(ARGV[2]) > 0 then
  entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
end
return {generation, last, trimmed, entries}
";

/// How long the reader blocks in one `XREAD`.
const BLOCK: Duration = Duration::from_secs(5);
/// Events one `XREAD` or replay fetches at most.
pub(super) const BATCH: usize = 256;
/// The reader's longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

type RawEntry = (String, Vec<String>);

/// A Redis connection setup shared by every topic of a [`super::Topics`].
#[derive(Clone)]
pub(super) struct Connection {
    client: Client,
    manager: ConnectionManager,
    prefix: Arc<str>,
    timeout: Duration,
}

impl Connection {
    /// Validates `url` and prepares a lazily connecting manager: Redis may be down at start.
    pub(super) fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, TopicError> {
        let client = Client::open(url).map_err(|e| TopicError::RedisUrl(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| TopicError::RedisUrl(e.to_string()))?;
        Ok(Self { client, manager, prefix: prefix.into(), timeout })
    }

    pub(super) fn store(&self, topic: &str) -> Store {
        Store {
            stream: format!("{}{{{topic}}}", self.prefix),
            generation: format!("{}{{{topic}}}:generation", self.prefix),
            trimmed: format!("{}{{{topic}}}:trimmed", self.prefix),
            connection: self.clone(),
            lost: AtomicBool::new(false),
            publish: Script::new(PUBLISH),
            replay: Script::new(REPLAY),
        }
    }
}

/// One topic's keys and scripts.
pub(super) struct Store {
    stream: String,
    generation: String,
    /// The last id dropped by retention.
    trimmed: String,
    connection: Connection,
    /// A publication failed: the next one that can reach Redis first records a gap.
    lost: AtomicBool,
    publish: Script,
    replay: Script,
}

/// What Redis holds after a position.
pub(super) struct Replay {
    pub generation: String,
    pub last: Offset,
    /// The last event retention dropped: every event up to it is gone.
    pub trimmed: Offset,
    pub entries: Vec<(Offset, String)>,
}

impl Store {
    /// Appends `payload` ("" for a gap); the generation and the event's offset.
    pub(super) async fn publish(&self, payload: &str, retention: &Retention) -> Result<(String, Offset), TopicError> {
        self.record_gap(retention).await?;
        self.append(payload, retention).await.inspect_err(|_| self.lost.store(true, Ordering::Release))
    }

    /// Appends the gap a failed publication left, if any.
    async fn record_gap(&self, retention: &Retention) -> Result<(), TopicError> {
        if self.lost.swap(false, Ordering::AcqRel)
            && let Err(error) = self.append("", retention).await
        {
            self.lost.store(true, Ordering::Release);
            return Err(error);
        }
        Ok(())
    }

    async fn append(&self, payload: &str, retention: &Retention) -> Result<(String, Offset), TopicError> {
        let mut invocation = self.publish.key(&self.stream);
        invocation.key(&self.generation).key(&self.trimmed);
        let max_age_ms = u64::try_from(retention.max_age.as_millis()).unwrap_or(u64::MAX);
        invocation.arg(payload).arg(retention.max_events.max(1)).arg(max_age_ms).arg(new_generation());
        let mut conn = self.connection.manager.clone();
        let (generation, id): (String, String) = self.bounded(invocation.invoke_async(&mut conn)).await?;
        let offset = Offset::parse(&id).ok_or_else(|| TopicError::Unavailable(format!("an odd stream id {id:?}")))?;
        Ok((generation, offset))
    }

    /// What the stream holds after `after` (at most `count` entries; 0 for its state only).
    pub(super) async fn replay(&self, after: Offset, count: usize) -> Result<Replay, TopicError> {
        let mut conn = self.connection.manager.clone();
        self.replay_on(&mut conn, after, count).await
    }

    async fn replay_on<C: ::redis::aio::ConnectionLike + Send>(
        &self,
        conn: &mut C,
        after: Offset,
        count: usize,
    ) -> Result<Replay, TopicError> {
        let mut invocation = self.replay.key(&self.stream);
        invocation.key(&self.generation).key(&self.trimmed).arg(after.to_string()).arg(count).arg(new_generation());
        let (generation, last, trimmed, entries): (String, String, String, Vec<RawEntry>) =
            self.bounded(invocation.invoke_async(conn)).await?;
        let offset = |id: &str| Offset::parse(id).unwrap_or_default();
        Ok(Replay {
            generation,
            last: offset(&last),
            trimmed: offset(&trimmed),
            entries: entries.into_iter().filter_map(payload).collect(),
        })
    }

    async fn bounded<T>(&self, call: impl Future<Output = Result<T, RedisError>>) -> Result<T, TopicError> {
        match tokio::time::timeout(self.connection.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(TopicError::Unavailable(error.to_string())),
            Err(_) => {
                Err(TopicError::Unavailable(format!("no answer from Redis within {:?}", self.connection.timeout)))
            }
        }
    }

    /// The dedicated connection a reader blocks on.
    async fn reader_connection(&self) -> Result<MultiplexedConnection, TopicError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connection.timeout))
            .set_response_timeout(Some(BLOCK + self.connection.timeout));
        self.connection
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| TopicError::Unavailable(e.to_string()))
    }
}

/// An entry's id and payload (`v`), if it has that shape.
fn payload((id, fields): RawEntry) -> Option<(Offset, String)> {
    let offset = Offset::parse(&id)?;
    let value = fields.chunks(2).find(|pair| pair[0] == "v").and_then(|pair| pair.get(1)).cloned();
    Some((offset, value.unwrap_or_default()))
}

/// A random generation name, used only if the stream has none yet.
fn new_generation() -> String {
    use std::hash::BuildHasher;
    let seed = (std::process::id(), std::time::SystemTime::now(), std::thread::current().id());
    format!("{:016x}", std::hash::RandomState::new().hash_one(seed))
}

/// The reader task: follows the stream into `log` until `stop`, reconnecting by itself.
pub(super) async fn follow<T: DeserializeOwned + Clone + Send + 'static>(
    topic: Arc<str>,
    store: Arc<Store>,
    log: Arc<Log<T>>,
    retention: Retention,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        let outcome = tokio::select! {
            outcome = read(&topic, &store, &log, &retention) => outcome,
            () = stop.cancelled() => return,
        };
        let was_up = log.status().up;
        log.set_up(false);
        // One line per outage, not per retry.
        if let Err(error) = outcome
            && (was_up || first)
        {
            tracing::warn!(topic = &*topic, %error, "cannot read the topic from Redis: its subscriptions end with UNAVAILABLE until it is back");
        }
        if was_up {
            backoff = Duration::from_millis(100);
        }
        first = false;
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's worth of following: returns when it fails.
async fn read<T: DeserializeOwned + Clone>(
    topic: &str,
    store: &Store,
    log: &Log<T>,
    retention: &Retention,
) -> Result<(), TopicError> {
    let mut conn = store.reader_connection().await?;
    let now = store.replay_on(&mut conn, Offset::ZERO, 0).await?;
    let (epoch, head) = {
        let state = log.state();
        (state.epoch.clone(), state.head)
    };
    // Another history, or events after our copy were trimmed while we were away: start over
    // from Redis's position (subscribers further back replay from Redis and learn what is gone).
    if *epoch != now.generation || now.trimmed > head || now.last < head {
        log.reset(now.generation.as_str().into(), now.last);
    }
    log.set_up(true);
    tracing::info!(topic, "following the topic's Redis stream");
    store.record_gap(retention).await.ok();
    loop {
        let after = log.state().head;
        let reply: Option<Vec<(String, Vec<RawEntry>)>> = ::redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(u64::try_from(BLOCK.as_millis()).unwrap_or(5000))
            .arg("COUNT")
            .arg(BATCH)
            .arg("STREAMS")
            .arg(&store.stream)
            .arg(after.to_string())
            .query_async(&mut conn)
            .await
            .map_err(|e| TopicError::Unavailable(e.to_string()))?;
        let entries = reply.into_iter().flatten().flat_map(|(_, entries)| entries).filter_map(payload);
        log.append(entries.map(|(offset, payload)| (offset, decode(topic, &payload))).collect::<Vec<_>>(), retention);
    }
}
