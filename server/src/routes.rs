//! HTTP routing in front of jsonrpsee: `/rpc` goes to JSON-RPC (POST and WebSocket upgrade),
//! `/healthz` answers liveness, anything else is a 404.
//!
//! jsonrpsee answers on every path, so without this layer a typo in a client's URL would
//! silently work and a later path change would break it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use tower::{Layer, Service};

/// The one path JSON-RPC is served on.
pub const RPC_PATH: &str = "/rpc";

/// Adds [`Routes`] around jsonrpsee's HTTP service.
#[derive(Clone, Copy, Debug, Default)]
pub struct RoutesLayer;

impl<S> Layer<S> for RoutesLayer {
    type Service = Routes<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Routes { inner }
    }
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct Routes<S> {
    inner: S,
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl<S, B> Service<HttpRequest<B>> for Routes<S>
where
    S: Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        match request.uri().path() {
            RPC_PATH => {
                let call = self.inner.call(request);
                Box::pin(async move { call.await.map_err(Into::into) })
            }
            "/healthz" => Box::pin(std::future::ready(Ok(plain(http::StatusCode::OK, "ok\n")))),
            _ => Box::pin(std::future::ready(Ok(plain(
                http::StatusCode::NOT_FOUND,
                "not found: JSON-RPC is served at /rpc\n",
            )))),
        }
    }
}

fn plain(status: http::StatusCode, body: &'static str) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}
