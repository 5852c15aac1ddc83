//! The HTTP side of a server: routing (`/rpc` for JSON-RPC over `POST` and WebSocket upgrades,
//! `/healthz`, `/readyz`, `/metrics`, static files, else 404), reading bodies within their
//! limits, and working out the [`Caller`] once per request or WebSocket.
//!
//! Every `/rpc` response carries `x-request-id`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use accord::{FrameworkCode, LimitData, RequestId, RpcError, TimeoutData};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{self, DynAuthenticator};
use crate::body::{self, Body, BodyError, BoxError};
use crate::caller::{Caller, Transport};
use crate::client_address::TrustedProxies;
use crate::config::Limits;
use crate::connections::Connection;
use crate::dispatch::{self, MessageLimits};
use crate::health::Health;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::protocol::{self, Id};
use crate::request_id::{self, REQUEST_ID_HEADER};
use crate::static_files::StaticFiles;
use crate::websocket;

/// The one path JSON-RPC is served on.
pub const RPC_PATH: &str = "/rpc";

/// The header a client uses to ask for a shorter deadline, in milliseconds.
pub const TIMEOUT_HEADER: &str = "x-accord-timeout-ms";

/// Everything a server's requests share.
pub(crate) struct Shared {
    pub pipeline: Pipeline,
    pub limits: Limits,
    pub message_limits: MessageLimits,
    pub authenticator: Option<Arc<dyn DynAuthenticator>>,
    pub trusted_proxies: TrustedProxies,
    pub health: Health,
    pub metrics: Metrics,
    pub static_files: Option<StaticFiles>,
    /// Turns true when the server starts draining.
    pub draining: watch::Receiver<bool>,
    /// Cancelled when the grace period is over: whatever still runs is dropped.
    pub abandon: CancellationToken,
    /// Connection and WebSocket tasks, to wait for on shutdown.
    pub tasks: TaskTracker,
}

/// Answers one HTTP request from `peer`. `connection` is the TCP connection it came on (for a
/// WebSocket upgrade to take over its slot).
pub(crate) async fn handle<B>(
    shared: Arc<Shared>,
    peer: SocketAddr,
    connection: Option<Arc<Connection>>,
    request: Request<B>,
) -> Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    match request.uri().path() {
        RPC_PATH => {}
        "/healthz" => return body::text(StatusCode::OK, "ok\n"),
        "/readyz" => {
            return match shared.health.ready().await {
                Ok(()) => body::text(StatusCode::OK, "ready\n"),
                Err(why) => body::text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")),
            };
        }
        "/metrics" => {
            let mut response = body::text(StatusCode::OK, shared.metrics.render());
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
            return response;
        }
        _ => {
            return match &shared.static_files {
                Some(files) if StaticFiles::accepts(&request) => files.serve(request).await,
                _ => body::text(StatusCode::NOT_FOUND, "not found: JSON-RPC is served at /rpc\n"),
            };
        }
    }
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| request_id::accept(value.as_bytes()))
        .unwrap_or_else(request_id::generate);
    let mut response = if websocket::is_upgrade(&request) {
        upgrade(shared, peer, connection, request)
    } else if request.method() == Method::POST {
        over_http(&shared, peer, request_id.clone(), request).await
    } else {
        let mut refused = body::text(StatusCode::METHOD_NOT_ALLOWED, "JSON-RPC takes POST, or a WebSocket upgrade\n");
        refused.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, GET"));
        refused
    };
    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// `POST /rpc`.
async fn over_http<B>(shared: &Shared, peer: SocketAddr, request_id: RequestId, request: Request<B>) -> Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    if !is_json(request.headers()) {
        let error = RpcError::framework(FrameworkCode::InvalidRequest, "the content type must be application/json");
        return json_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, &error);
    }
    let (mut parts, body) = request.into_parts();
    let limits = &shared.limits;
    let declared = body::content_length(&parts.headers);
    let limit = limits.max_request_body_bytes as usize;
    let bytes = match body::read(body, declared, limit, limits.body_read_timeout, limits.min_body_rate).await {
        Ok(bytes) => bytes,
        Err(error @ BodyError::TooBig(limit)) => {
            let limit = LimitData { limit: u32::try_from(limit).unwrap_or(u32::MAX) };
            let error = RpcError::from_data(FrameworkCode::RequestTooBig, error.to_string(), limit);
            return json_error(StatusCode::PAYLOAD_TOO_LARGE, &error);
        }
        Err(error @ BodyError::TooSlow(timeout)) => {
            let data = TimeoutData { timeout_ms: Some(crate::pipeline::millis(timeout)) };
            let error = RpcError::from_data(FrameworkCode::Timeout, error.to_string(), data);
            let mut response = json_error(StatusCode::REQUEST_TIMEOUT, &error);
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
        Err(error @ BodyError::Broken(_)) => {
            let error = RpcError::framework(FrameworkCode::ParseError, error.to_string());
            let mut response = json_error(StatusCode::BAD_REQUEST, &error);
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    let caller = caller(shared, Transport::Http, Some(request_id), peer, &mut parts).await;
    let answer = dispatch::answer(&shared.pipeline, shared.message_limits, &caller, &bytes, None, false).await;
    match answer.body {
        Some(body) => body::json(StatusCode::OK, body),
        None => {
            let mut response = Response::new(body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
    }
}

/// A WebSocket upgrade: answered `101` at once; the connection is served on its own task.
fn upgrade<B>(
    shared: Arc<Shared>,
    peer: SocketAddr,
    connection: Option<Arc<Connection>>,
    mut request: Request<B>,
) -> Response<Body> {
    let accept = match websocket::accept(&request) {
        Ok(accept) => accept,
        Err(refused) => return *refused,
    };
    if *shared.draining.borrow() {
        return body::text(StatusCode::SERVICE_UNAVAILABLE, "the server is shutting down\n");
    }
    let on_upgrade = hyper::upgrade::on(&mut request);
    let (mut parts, _) = request.into_parts();
    if let Some(connection) = &connection {
        connection.mark_upgraded();
    }
    let tasks = shared.tasks.clone();
    tasks.spawn(async move {
        // Holds the TCP connection's slot for as long as the WebSocket lives.
        let _connection = connection;
        let upgraded = tokio::select! {
            upgraded = on_upgrade => upgraded,
            () = shared.abandon.cancelled() => return,
        };
        let upgraded = match upgraded {
            Ok(upgraded) => upgraded,
            Err(error) => {
                tracing::debug!(%error, %peer, "the WebSocket upgrade did not complete");
                return;
            }
        };
        let config = websocket::config(shared.limits.max_request_body_bytes as usize);
        let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
        let caller = caller(&shared, Transport::WebSocket, None, peer, &mut parts).await;
        websocket::serve(socket, shared.clone(), Arc::new(caller), parts).await;
    });
    websocket::switching_protocols(accept)
}

/// Works out who is calling (once per HTTP request or WebSocket). The request's extensions
/// move into the caller (for every call's `Cx`) once the authenticator has seen them.
async fn caller(
    shared: &Shared,
    transport: Transport,
    request_id: Option<RequestId>,
    peer: SocketAddr,
    parts: &mut http::request::Parts,
) -> Caller {
    let address = shared.trusted_proxies.client(peer.ip(), &parts.headers);
    let requested_timeout = parts
        .headers
        .get(TIMEOUT_HEADER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_millis);
    let authentication = auth::authenticate(shared.authenticator.as_deref(), parts).await;
    let extensions = std::mem::take(&mut parts.extensions);
    Caller::new(transport, request_id, address, requested_timeout, extensions, authentication)
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

fn json_error(status: StatusCode, error: &RpcError) -> Response<Body> {
    body::json(status, protocol::error_body(Id::NULL, error))
}
