//! The server as a tower [`Service`]: what Accord's own listener drives, what HTTP layers
//! wrap, and what an existing app mounts (`Router::nest_service("/rpc", server.rpc_service())`).
//!
//! A layer's error cannot reach the client as an error (HTTP has no such thing), so
//! [`layer_error`] turns it into an answer: `OVERLOADED` for tower's load shedding, `TIMEOUT`
//! for tower's timeout, `INTERNAL` (logged) for anything else, each as a JSON-RPC error body.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use accord::{FrameworkCode, RpcError};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response, StatusCode};
use tower::{BoxError, Service};

use crate::body::{self, Body};
use crate::protocol::{self, Id};
use crate::service::{self, Routes, Shared};

/// A server's HTTP surface as a tower `Service`, cheap to clone; get one from
/// [`Server::service`](crate::Server::service) (every route of the standalone server) or
/// [`Server::rpc_service`](crate::Server::rpc_service) (JSON-RPC on every path, for mounting
/// under a prefix).
///
/// It accepts any request body with `Bytes` chunks (hyper's, axum's, one a layer made) and
/// never fails: every problem is an HTTP answer. CORS, when configured on the builder, is
/// answered here too.
#[derive(Clone)]
pub struct AccordService {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    /// `service::handle`.
    Plain { shared: Arc<Shared>, routes: Routes },
    /// The plain service inside tower-http's CORS.
    Cors(Box<tower_http::cors::Cors<AccordService>>),
}

impl std::fmt::Debug for AccordService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Plain { routes, .. } => f.debug_struct("AccordService").field("routes", routes).finish(),
            Inner::Cors(cors) => f.debug_tuple("Cors").field(cors.get_ref()).finish(),
        }
    }
}

impl AccordService {
    pub(crate) fn new(shared: Arc<Shared>, routes: Routes, with_cors: bool) -> Self {
        let cors = if with_cors { shared.cors.as_ref().map(crate::Cors::layer) } else { None };
        let plain = Self { inner: Inner::Plain { shared, routes } };
        match cors {
            Some(cors) => Self { inner: Inner::Cors(Box::new(tower::Layer::layer(&cors, plain))) },
            None => plain,
        }
    }
}

impl<B> Service<Request<B>> for AccordService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match &mut self.inner {
            Inner::Plain { shared, routes } => {
                let (shared, routes) = (shared.clone(), *routes);
                Box::pin(async move { Ok(service::handle(shared, routes, request).await) })
            }
            Inner::Cors(cors) => Box::pin(cors.call(request)),
        }
    }
}

/// The answer to a request whose layers failed with `error`.
pub(crate) fn layer_error(error: BoxError) -> Response<Body> {
    let (status, error) = if error.is::<tower::load_shed::error::Overloaded>() {
        let error = RpcError::framework(FrameworkCode::Overloaded, "the server is at capacity; retry shortly")
            .with_data_field("retryAfterMs", 100);
        (StatusCode::SERVICE_UNAVAILABLE, error)
    } else if error.is::<tower::timeout::error::Elapsed>() {
        (StatusCode::GATEWAY_TIMEOUT, RpcError::framework(FrameworkCode::Timeout, "the request took too long"))
    } else {
        tracing::error!(%error, "an HTTP layer failed; answered INTERNAL");
        (StatusCode::INTERNAL_SERVER_ERROR, RpcError::internal())
    };
    body::json(status, protocol::error_body(Id::NULL, &error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_errors_become_json_rpc_answers() {
        let overloaded = layer_error(Box::new(tower::load_shed::error::Overloaded::new()));
        assert_eq!(overloaded.status(), StatusCode::SERVICE_UNAVAILABLE);
        let elapsed = layer_error(Box::new(tower::timeout::error::Elapsed::new()));
        assert_eq!(elapsed.status(), StatusCode::GATEWAY_TIMEOUT);
        let other = layer_error("broken".into());
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
