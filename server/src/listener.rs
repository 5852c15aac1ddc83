//! Accepting connections and serving each with hyper's HTTP/1 server.
//!
//! Accept errors are told apart as axum's `serve` does: a connection the peer gave up on
//! before it was accepted (reset, aborted, refused) is skipped at once; anything else, above
//! all running out of file descriptors (`EMFILE`, `ENFILE`), pauses accepting for a second,
//! so the loop cannot spin a core while the process has no descriptor to spare.
//!
//! Each connection serves the server's HTTP stack (Accord's service inside the user's layers),
//! with the TCP peer put in every request's extensions by tower-http's extension layer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Either;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tower::{BoxError, Service, ServiceExt};
use tower_http::add_extension::AddExtension;

use crate::body::Body;
use crate::connections::{Connections, Watched};
use crate::service::{Peer, Shared};
use crate::tower_service::layer_error;

/// How long accepting pauses after an error that is not the peer's.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts connections until the server drains, serving each with `service`.
pub(crate) async fn accept<S, B>(
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Connections>,
    rejected: metrics::Counter,
    service: S,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
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
        shared.tasks.spawn(serve(socket, peer, slot, shared.clone(), connections.clone(), service.clone()));
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
async fn serve<S, B>(
    socket: TcpStream,
    peer: SocketAddr,
    slot: OwnedSemaphorePermit,
    shared: Arc<Shared>,
    connections: Arc<Connections>,
    service: S,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let connection = connections.register(peer, slot);
    let io = TokioIo::new(Watched::new(socket, connection.clone()));
    let service = AddExtension::new(service, Peer { address: peer, connection: connection.clone() });
    let service = {
        let connection = connection.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let (service, connection) = (service.clone(), connection.clone());
            async move {
                let _request = connection.request_started();
                Ok::<_, Infallible>(answer(service.oneshot(request).await))
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

/// The response, or the answer to the layers' error (never an error: hyper would drop the
/// connection without a word).
fn answer<B, E: Into<BoxError>>(result: Result<Response<B>, E>) -> Response<Answer<B>> {
    match result {
        Ok(response) => response.map(|body| Answer { inner: Either::Left(body) }),
        Err(error) => layer_error(error.into()).map(|body| Answer { inner: Either::Right(body) }),
    }
}

pin_project_lite::pin_project! {
    /// The stack's response body or Accord's answer to a layer error, with one concrete error
    /// type: hyper's bounds on a generic body's error trip rustc's `Send` check of the
    /// connection future (a known higher-ranked lifetime limitation).
    pub(crate) struct Answer<B> {
        #[pin]
        inner: Either<B, Body>,
    }
}

impl<B> http_body::Body for Answer<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
