//! Rust client transports: HTTP (jsonrpsee's client) and WebSocket (our own, see [`ws`]).
//!
//! Use them with the generated `<Trait>Client`:
//!
//! ```no_run
//! # async fn run() -> Result<(), accord::client::ConnectError> {
//! use accord::client::{HttpTransport, WsTransport};
//! let http = HttpTransport::new("http://127.0.0.1:3000/rpc")?;   // queries and mutations
//! let ws = WsTransport::connect("ws://127.0.0.1:3000/rpc").await?; // everything, subscriptions too
//! # let _ = (http, ws);
//! # Ok(()) }
//! ```
//!
//! A call honours the [`Cx`] deadline (`Cx::with_timeout`). Headers are set per transport
//! ([`TransportOptions::header`]): sent with every HTTP request, and with the WebSocket's
//! upgrade request. Per-call `Cx` headers are not sent by these transports.

mod ws;

pub use ws::WsTransport;

use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::value::RawValue;

use crate::{Cx, FrameworkCode, RpcError, Transport, TransportStream};

/// Why a transport could not be created.
#[derive(Debug, thiserror::Error)]
#[error("could not create the client for {url}: {message}")]
pub struct ConnectError {
    url: String,
    message: String,
}

/// Options shared by both transports.
#[derive(Clone, Debug)]
pub struct TransportOptions {
    headers: http::HeaderMap,
    request_timeout: Duration,
}

impl Default for TransportOptions {
    fn default() -> Self {
        Self { headers: http::HeaderMap::new(), request_timeout: Duration::from_secs(60) }
    }
}

impl TransportOptions {
    /// Adds a header sent with every request (HTTP) or with the WebSocket handshake.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, ConnectError> {
        let error = |message: String| ConnectError { url: String::new(), message };
        let name = http::HeaderName::try_from(name).map_err(|e| error(e.to_string()))?;
        let value = http::HeaderValue::try_from(value).map_err(|e| error(e.to_string()))?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// The longest a call may take when its `Cx` sets no deadline (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// Queries and mutations over HTTP POST. Subscriptions are refused: use [`WsTransport`].
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: HttpClient,
}

impl HttpTransport {
    /// A transport for `url` (`http://host:port/rpc`) with default options.
    pub fn new(url: &str) -> Result<Self, ConnectError> {
        Self::with_options(url, TransportOptions::default())
    }

    /// A transport for `url` with `options`.
    pub fn with_options(url: &str, options: TransportOptions) -> Result<Self, ConnectError> {
        let client = HttpClientBuilder::default()
            .set_headers(options.headers)
            .request_timeout(options.request_timeout)
            .build(url)
            .map_err(|e| ConnectError { url: url.to_owned(), message: e.to_string() })?;
        Ok(Self { client })
    }
}

impl Transport for HttpTransport {
    async fn call(
        &self,
        method: &'static str,
        params: Option<Box<RawValue>>,
        cx: &Cx,
    ) -> Result<Box<RawValue>, RpcError> {
        within_deadline(cx, async {
            self.client.request::<Box<RawValue>, _>(method, Params(params)).await.map_err(from_client_error)
        })
        .await
    }

    async fn subscribe(
        &self,
        method: &'static str,
        _: &'static str,
        _: Option<Box<RawValue>>,
        _: &Cx,
    ) -> Result<TransportStream, RpcError> {
        Err(RpcError::transport(format!("`{method}` is a subscription: subscriptions need a WebSocket (WsTransport)")))
    }
}

/// Raw by-name params, passed through as they are.
struct Params(Option<Box<RawValue>>);

impl ToRpcParams for Params {
    fn to_rpc_params(self) -> Result<Option<Box<RawValue>>, serde_json::Error> {
        match self.0 {
            Some(raw) => Ok(Some(raw)),
            None => ArrayParams::new().to_rpc_params(),
        }
    }
}

async fn within_deadline<T>(cx: &Cx, call: impl Future<Output = Result<T, RpcError>>) -> Result<T, RpcError> {
    match cx.remaining() {
        // Already past: do not send a call nobody will wait for.
        Some(std::time::Duration::ZERO) => Err(deadline_passed()),
        Some(left) => tokio::time::timeout(left, call).await.map_err(|_| deadline_passed())?,
        None => call.await,
    }
}

fn deadline_passed() -> RpcError {
    RpcError::framework(FrameworkCode::Timeout, "the call's deadline passed")
}

fn from_client_error(error: jsonrpsee::core::ClientError) -> RpcError {
    use jsonrpsee::core::ClientError;
    match error {
        ClientError::Call(object) => RpcError {
            code: object.code(),
            message: object.message().to_owned(),
            data: object.data().and_then(|raw| serde_json::from_str(raw.get()).ok()),
        },
        ClientError::RequestTimeout => RpcError::framework(FrameworkCode::Timeout, "the request timed out"),
        other => RpcError::transport(other.to_string()),
    }
}
