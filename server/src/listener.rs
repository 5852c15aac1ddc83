//! Accepting connections and serving each with hyper's HTTP/1 server.
//!
//! Accept errors are told apart as axum's `serve` does: a connection the peer gave up on
//! before it was accepted (reset, aborted, refused) is skipped at once; anything else, above
//! all running out of file descriptors (`EMFILE`, `ENFILE`), pauses accepting for a second,
//! so the loop cannot spin a core while the process has no descriptor to spare.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;

use crate::connections::{Connections, Watched};
use crate::service::{self, Shared};

/// How long accepting pauses after an error that is not the peer's.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts connections until the server drains.
pub(crate) async fn accept(
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Connections>,
    rejected: metrics::Counter,
) {
    let mut draining = shared.draining.clone();
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    back_off(&error).await;
                    continue;
                }
            },
            () = crate::shutdown::draining(&mut draining) => return,
        };
        let slot = tokio::select! {
            slot = connections.admit(shared.limits.header_read_timeout) => slot,
            () = crate::shutdown::draining(&mut draining) => return,
        };
        let Some(slot) = slot else {
            // Nothing idle to reclaim and nothing closed in time: every connection is busy.
            rejected.increment(1);
            continue;
        };
        // Small JSON answers must not wait for Nagle's algorithm.
        let _ = socket.set_nodelay(true);
        shared.tasks.spawn(serve(socket, peer, slot, shared.clone(), connections.clone()));
    }
}

/// Waits after an accept error, unless it was only the peer giving up.
async fn back_off(error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(error.kind(), ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset)
    {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; pausing accepts for {ACCEPT_BACKOFF:?}");
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

/// Serves one connection until it closes, is reclaimed or timed out, the server drains
/// (in-flight requests finish first) or the grace period is over.
async fn serve(
    socket: TcpStream,
    peer: SocketAddr,
    slot: OwnedSemaphorePermit,
    shared: Arc<Shared>,
    connections: Arc<Connections>,
) {
    let connection = connections.register(peer, slot);
    let io = TokioIo::new(Watched::new(socket, connection.clone()));
    let service = {
        let (shared, connection) = (shared.clone(), connection.clone());
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let (shared, connection) = (shared.clone(), connection.clone());
            async move {
                let _request = connection.request_started();
                Ok::<_, Infallible>(service::handle(shared, peer, Some(connection.clone()), request).await)
            }
        })
    };
    let http =
        hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(io, service).with_upgrades();
    tokio::pin!(http);
    let mut draining = shared.draining.clone();
    let mut closing = false;
    loop {
        tokio::select! {
            served = http.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, %peer, "connection ended with an error");
                }
                break;
            }
            () = connection.close.cancelled(), if !closing => {
                if !connection.is_busy() {
                    break;
                }
                http.as_mut().graceful_shutdown();
                closing = true;
            }
            () = crate::shutdown::draining(&mut draining), if !closing => {
                http.as_mut().graceful_shutdown();
                closing = true;
            }
            () = shared.abandon.cancelled() => break,
        }
    }
    connections.remove(&connection);
}
