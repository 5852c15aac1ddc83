//! HTTP routing in front of jsonrpsee: `/rpc` goes to JSON-RPC (POST and WebSocket upgrade),
//! `/healthz`, `/readyz` and `/metrics` are answered here, other `GET`s go to the static files
//! when the server has some, anything else is a 404.
//!
//! jsonrpsee answers on every path, so without this layer a typo in a client's URL would
//! silently work and a later path change would break it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use tower::{Layer, Service};

use crate::health::Health;
use crate::metrics::Metrics;
use crate::static_files::StaticFiles;

/// The one path JSON-RPC is served on.
pub const RPC_PATH: &str = "/rpc";

/// Adds [`Routes`] around jsonrpsee's HTTP service.
#[derive(Clone)]
pub(crate) struct RoutesLayer {
    pub health: Health,
    pub metrics: Metrics,
    pub static_files: Option<StaticFiles>,
}

impl<S> Layer<S> for RoutesLayer {
    type Service = Routes<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Routes {
            inner,
            health: self.health.clone(),
            metrics: self.metrics.clone(),
            static_files: self.static_files.clone(),
        }
    }
}

/// See the module docs.
#[derive(Clone)]
pub(crate) struct Routes<S> {
    inner: S,
    health: Health,
    metrics: Metrics,
    static_files: Option<StaticFiles>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl<S, B> Service<HttpRequest<B>> for Routes<S>
where
    S: Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
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
            "/healthz" => Box::pin(std::future::ready(Ok(plain(http::StatusCode::OK, "ok\n".into())))),
            "/readyz" => {
                let health = self.health.clone();
                Box::pin(async move {
                    Ok(match health.ready().await {
                        Ok(()) => plain(http::StatusCode::OK, "ready\n".into()),
                        Err(why) => plain(http::StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")),
                    })
                })
            }
            "/metrics" => {
                let mut response = plain(http::StatusCode::OK, self.metrics.render());
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                Box::pin(std::future::ready(Ok(response)))
            }
            _ if self.static_files.is_some() && StaticFiles::accepts(&request) => {
                let files = self.static_files.clone();
                Box::pin(async move {
                    match files {
                        Some(files) => Ok(files.serve(request).await),
                        None => Ok(plain(http::StatusCode::NOT_FOUND, "not found\n".into())),
                    }
                })
            }
            _ => Box::pin(std::future::ready(Ok(plain(
                http::StatusCode::NOT_FOUND,
                "not found: JSON-RPC is served at /rpc\n".into(),
            )))),
        }
    }
}

fn plain(status: http::StatusCode, body: String) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}
