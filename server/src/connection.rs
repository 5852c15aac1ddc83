//! One accepted TCP connection: jsonrpsee's tower service with the peer's address added to
//! every request, served by hyper until it closes or the server stops.

use std::future::Future;
use std::net::SocketAddr;

use jsonrpsee::server::{StopHandle, serve_with_graceful_shutdown};
use tokio::sync::OwnedSemaphorePermit;

use crate::http_context::PeerAddr;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Serves one TCP connection until it closes or the server stops (gracefully: in-flight
/// requests finish first).
pub(crate) async fn serve_connection<S>(
    socket: tokio::net::TcpStream,
    service: PeerService<S>,
    stop: StopHandle,
    open: metrics::Gauge,
    permit: OwnedSemaphorePermit,
) where
    PeerService<S>: tower::Service<
            http::Request<hyper::body::Incoming>,
            Response = jsonrpsee::server::HttpResponse,
            Error = BoxError,
        > + Clone
        + Send
        + 'static,
    <PeerService<S> as tower::Service<http::Request<hyper::body::Incoming>>>::Future: Send,
{
    let peer = service.peer;
    open.increment(1.0);
    if let Err(error) = serve_with_graceful_shutdown(socket, service, stop.shutdown()).await {
        tracing::debug!(%error, %peer, "connection ended with an error");
    }
    open.decrement(1.0);
    drop(permit);
}

/// jsonrpsee's service for one connection, with the peer's address added to every request.
#[derive(Clone)]
pub(crate) struct PeerService<S> {
    pub inner: S,
    pub peer: SocketAddr,
}

impl<S, B> tower::Service<http::Request<B>> for PeerService<S>
where
    S: tower::Service<http::Request<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        request.extensions_mut().insert(PeerAddr(self.peer));
        let call = self.inner.call(request);
        Box::pin(async move { call.await.map_err(Into::into) })
    }
}
