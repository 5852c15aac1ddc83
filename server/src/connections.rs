//! Open TCP connections: the connection limit, what each one is doing, and the timers hyper's
//! HTTP/1 server does not have.
//!
//! Each connection knows whether a request is in service, since when it has been idle, and
//! since when it has been sending a request head. Once a second a sweeper closes
//! connections idle past `keep_alive_timeout` and those whose head has taken longer than
//! `header_read_timeout` (a slowloris dribbling header bytes). When the limit is reached, a
//! newcomer is not refused: the oldest idle connection (keep-alive, or never finished a
//! request) is closed to make room, since an idle connection is the cheapest to give up.
//! Upgraded connections (WebSockets) have their own idle rule (pings) and are never reclaimed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Every open connection of a server.
pub(crate) struct Connections {
    slots: Arc<Semaphore>,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    next_id: AtomicU64,
    epoch: Instant,
    header_read_timeout: Duration,
    keep_alive_timeout: Duration,
    /// `accord_connections_open`.
    gauge: metrics::Gauge,
}

/// One connection's state, shared by its serving task, its I/O and the sweeper.
pub(crate) struct Connection {
    id: u64,
    pub peer: SocketAddr,
    /// Requests in service.
    busy: AtomicU32,
    upgraded: AtomicBool,
    /// Milliseconds since the epoch; 0 while busy.
    idle_since: AtomicU64,
    /// When the first byte of the next request head arrived; 0 when not reading a head.
    head_since: AtomicU64,
    /// Cancelled to close the connection (reclaimed or timed out).
    pub close: CancellationToken,
    epoch: Instant,
    gauge: metrics::Gauge,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.gauge.decrement(1.0);
    }
}

impl Connections {
    pub(crate) fn new(
        limit: usize,
        header_read_timeout: Duration,
        keep_alive_timeout: Duration,
        gauge: metrics::Gauge,
    ) -> Arc<Self> {
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(limit)),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            epoch: Instant::now(),
            header_read_timeout,
            keep_alive_timeout,
            gauge,
        })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a new connection: at once if one is free, else after reclaiming the oldest
    /// idle connection, waiting at most `wait` for it (or another) to close.
    pub(crate) async fn admit(&self, wait: Duration) -> Option<OwnedSemaphorePermit> {
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            return Some(slot);
        }
        self.reclaim_oldest_idle();
        tokio::time::timeout(wait, self.slots.clone().acquire_owned()).await.ok()?.ok()
    }

    /// Registers an accepted connection holding `slot`.
    pub(crate) fn register(&self, peer: SocketAddr, slot: OwnedSemaphorePermit) -> Arc<Connection> {
        let connection = Arc::new(Connection {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            peer,
            busy: AtomicU32::new(0),
            upgraded: AtomicBool::new(false),
            idle_since: AtomicU64::new(self.now()),
            head_since: AtomicU64::new(0),
            close: CancellationToken::new(),
            epoch: self.epoch,
            gauge: self.gauge.clone(),
            _slot: slot,
        });
        self.gauge.increment(1.0);
        self.open().insert(connection.id, connection.clone());
        connection
    }

    /// Forgets a connection whose serving ended (its slot frees when the last holder drops it:
    /// an upgraded connection's WebSocket task keeps it).
    pub(crate) fn remove(&self, connection: &Connection) {
        self.open().remove(&connection.id);
    }

    fn now(&self) -> u64 {
        millis_since(self.epoch)
    }

    /// Closes the connection idle the longest, if any is idle. Returns whether one was.
    pub(crate) fn reclaim_oldest_idle(&self) -> bool {
        let open = self.open();
        let oldest = open
            .values()
            .filter(|c| c.is_idle() && !c.close.is_cancelled())
            .min_by_key(|c| c.idle_since.load(Ordering::Relaxed));
        match oldest {
            Some(connection) => {
                tracing::debug!(peer = %connection.peer, "connection limit reached: closing the oldest idle connection");
                connection.close.cancel();
                true
            }
            None => false,
        }
    }

    /// Closes connections idle or reading a head for too long; runs until `stop`.
    pub(crate) async fn sweep(self: Arc<Self>, stop: CancellationToken) {
        let period = (self.header_read_timeout.min(self.keep_alive_timeout) / 4)
            .clamp(Duration::from_millis(10), Duration::from_millis(500));
        let mut every = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = stop.cancelled() => return,
            }
            let now = self.now();
            let header = self.header_read_timeout.as_millis() as u64;
            let keep_alive = self.keep_alive_timeout.as_millis() as u64;
            for connection in self.open().values().filter(|c| c.is_idle()) {
                let head = connection.head_since.load(Ordering::Relaxed);
                let idle = connection.idle_since.load(Ordering::Relaxed);
                let expired =
                    if head != 0 { now.saturating_sub(head) > header } else { now.saturating_sub(idle) > keep_alive };
                if expired {
                    connection.close.cancel();
                }
            }
        }
    }
}

impl Connection {
    fn is_idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0 && !self.upgraded.load(Ordering::Acquire)
    }

    /// Whether a request is in service now.
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire) > 0
    }

    /// A request's head has been read and its service begins.
    pub(crate) fn request_started(&self) -> RequestGuard<'_> {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Relaxed);
        RequestGuard(self)
    }

    /// The connection became a WebSocket: HTTP timers no longer apply.
    pub(crate) fn mark_upgraded(&self) {
        self.upgraded.store(true, Ordering::Release);
    }

    fn bytes_arrived(&self) {
        if !self.is_busy() && self.head_since.load(Ordering::Relaxed) == 0 {
            self.head_since.store(millis_since(self.epoch).max(1), Ordering::Relaxed);
        }
    }
}

/// Marks the request finished when dropped (answered, or cancelled with its connection).
pub(crate) struct RequestGuard<'a>(&'a Connection);

impl Drop for RequestGuard<'_> {
    fn drop(&mut self) {
        let connection = self.0;
        connection.idle_since.store(millis_since(connection.epoch), Ordering::Relaxed);
        connection.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX).max(1)
}

/// A socket that tells its connection when request bytes arrive (to time request heads).
pub(crate) struct Watched<S> {
    inner: S,
    connection: Arc<Connection>,
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, connection: Arc<Connection>) -> Self {
        Self { inner, connection }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.connection.bytes_arrived();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:1".parse().unwrap()
    }

    #[tokio::test]
    async fn at_the_limit_the_oldest_idle_connection_makes_room() {
        let connections = Connections::new(2, Duration::from_secs(10), Duration::from_secs(60), metrics::Gauge::noop());
        let first = connections.register(peer(), connections.admit(Duration::ZERO).await.unwrap());
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = connections.register(peer(), connections.admit(Duration::ZERO).await.unwrap());
        let _busy = second.request_started();
        // Full: the idle first one is asked to close; the busy second one is not.
        let waiting = tokio::spawn({
            let connections = connections.clone();
            async move { connections.admit(Duration::from_secs(5)).await.is_some() }
        });
        first.close.cancelled().await;
        assert!(!second.close.is_cancelled());
        connections.remove(&first);
        drop(first);
        assert!(waiting.await.unwrap(), "the newcomer got the freed slot");
    }

    #[tokio::test]
    async fn busy_and_upgraded_connections_are_never_reclaimed() {
        let connections = Connections::new(2, Duration::from_secs(10), Duration::from_secs(60), metrics::Gauge::noop());
        let busy = connections.register(peer(), connections.admit(Duration::ZERO).await.unwrap());
        let _guard = busy.request_started();
        let upgraded = connections.register(peer(), connections.admit(Duration::ZERO).await.unwrap());
        upgraded.mark_upgraded();
        assert!(!connections.reclaim_oldest_idle());
        assert!(connections.admit(Duration::from_millis(20)).await.is_none());
    }

    #[tokio::test]
    async fn the_sweeper_closes_slow_heads_and_long_idle_connections() {
        let connections =
            Connections::new(8, Duration::from_millis(100), Duration::from_millis(600), metrics::Gauge::noop());
        let stop = CancellationToken::new();
        tokio::spawn(connections.clone().sweep(stop.clone()));
        let slow_head = connections.register(peer(), connections.admit(Duration::ZERO).await.unwrap());
        slow_head.bytes_arrived();
        let idle = connections.register(peer(), connections.admit(Duration::ZERO).await.unwrap());
        let busy = connections.register(peer(), connections.admit(Duration::ZERO).await.unwrap());
        let _guard = busy.request_started();
        tokio::time::timeout(Duration::from_secs(2), slow_head.close.cancelled()).await.unwrap();
        assert!(!idle.close.is_cancelled(), "an idle connection gets the longer keep-alive timeout");
        tokio::time::timeout(Duration::from_secs(2), idle.close.cancelled()).await.unwrap();
        assert!(!busy.close.is_cancelled(), "a request in service is never timed out here");
        stop.cancel();
    }
}
