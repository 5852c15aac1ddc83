//! The per-HTTP-request half of the middleware (a tower layer): request id, authentication,
//! the caller's rate-limit key and a client-requested timeout, computed once per HTTP request
//! or WebSocket upgrade and stored in the request's extensions.
//!
//! jsonrpsee copies those extensions into every call of the request (each batch entry, each
//! call on the WebSocket), where the call pipeline reads them. That is why this part is a tower
//! layer and the per-call part is not: WebSocket calls share one HTTP request.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use jsonrpsee::server::{HttpRequest, HttpResponse};
use tower::{Layer, Service};

use crate::auth::{Authentication, DynAuthenticator};
use crate::request_id::{self, REQUEST_ID_HEADER};

/// The header a client uses to ask for a shorter deadline, in milliseconds.
pub const TIMEOUT_HEADER: &str = "x-accord-timeout-ms";
/// The header carrying an API key, used as the rate-limit key for anonymous callers.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The peer's address, inserted by the accept loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PeerAddr(pub SocketAddr);

/// Marks a WebSocket connection: its calls get their own request ids.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WebSocket;

/// Who the rate limiter counts this call against.
#[derive(Clone, Debug)]
pub(crate) struct Caller(pub Arc<str>);

/// A deadline the client asked for (HTTP only).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestedTimeout(pub Duration);

#[derive(Clone)]
pub(crate) struct HttpContextLayer {
    pub authenticator: Option<Arc<dyn DynAuthenticator>>,
    /// Whether anything rate-limits: the caller key is only worked out when it is used.
    pub rate_limited: bool,
}

impl<S> Layer<S> for HttpContextLayer {
    type Service = HttpContext<S>;
    fn layer(&self, inner: S) -> Self::Service {
        HttpContext { inner, authenticator: self.authenticator.clone(), rate_limited: self.rate_limited }
    }
}

#[derive(Clone)]
pub(crate) struct HttpContext<S> {
    inner: S,
    authenticator: Option<Arc<dyn DynAuthenticator>>,
    rate_limited: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl<S, B> Service<HttpRequest<B>> for HttpContext<S>
where
    S: Service<HttpRequest<B>, Response = HttpResponse> + Clone + Send + 'static,
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
        // The clone that was polled ready serves this request (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let authenticator = self.authenticator.clone();
        let rate_limited = self.rate_limited;
        Box::pin(async move {
            let websocket = jsonrpsee::server::ws::is_upgrade_request(&request);
            let (mut parts, body) = request.into_parts();
            let id = parts
                .headers
                .get(REQUEST_ID_HEADER)
                .and_then(|value| request_id::accept(value.as_bytes()))
                .unwrap_or_else(request_id::generate);
            if websocket {
                parts.extensions.insert(WebSocket);
            }
            if let Some(ms) = parts.headers.get(TIMEOUT_HEADER).and_then(|v| v.to_str().ok()?.parse::<u64>().ok()) {
                parts.extensions.insert(RequestedTimeout(Duration::from_millis(ms)));
            }
            let authentication = match &authenticator {
                None => Authentication::Anonymous,
                Some(authenticator) => match authenticator.authenticate_boxed(&parts).await {
                    Ok(Some(identity)) => Authentication::Authenticated(identity),
                    Ok(None) => Authentication::Anonymous,
                    Err(error) => Authentication::Refused(error),
                },
            };
            if rate_limited {
                let caller = caller_key(&parts, &authentication);
                parts.extensions.insert(caller);
            }
            if let Authentication::Authenticated(identity) = &authentication {
                parts.extensions.insert(identity.clone());
            }
            parts.extensions.insert(authentication);
            parts.extensions.insert(id.clone());

            let mut response = inner.call(HttpRequest::from_parts(parts, body)).await.map_err(Into::into)?;
            if let Ok(value) = http::HeaderValue::from_str(id.as_str()) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(response)
        })
    }
}

/// Identity, else API key, else client IP: the most specific thing we know about the caller.
fn caller_key(parts: &http::request::Parts, authentication: &Authentication) -> Caller {
    if let Authentication::Authenticated(identity) = authentication {
        return Caller(format!("id:{}", identity.subject()).into());
    }
    if let Some(key) = parts.headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()).filter(|k| !k.is_empty()) {
        return Caller(format!("key:{key}").into());
    }
    match parts.extensions.get::<PeerAddr>() {
        Some(PeerAddr(addr)) => Caller(format!("ip:{}", addr.ip()).into()),
        None => Caller("ip:unknown".into()),
    }
}
