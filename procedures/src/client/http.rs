//! Queries and mutations over HTTP POST, one JSON-RPC request per call.
//!
//! Written on hyper's pooled client (the stack jsonrpsee's HTTP client is built on) rather than
//! taken from jsonrpsee because each call carries its own headers: the `Cx` headers and the
//! deadline (`x-accord-timeout-ms`), which jsonrpsee's client can only set once per client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::value::RawValue;

use super::wire::{self, Incoming, transport};
use super::{ConnectError, TransportOptions, remaining_ms, within};
use crate::{Cx, Method, RpcError, Transport, TransportStream};

/// The header telling the server how long the client still waits (docs/wire.md).
pub(super) const TIMEOUT_HEADER: &str = "x-accord-timeout-ms";

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Queries and mutations over HTTP POST (http or https). Subscriptions are refused: use
/// [`super::WsTransport`]. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct HttpTransport {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    url: ::http::Uri,
    client: Client<Connector, Full<Bytes>>,
    options: TransportOptions,
    next_id: AtomicU64,
}

impl HttpTransport {
    /// A transport for `url` (`http://host:port/rpc`) with default options.
    pub fn new(url: &str) -> Result<Self, ConnectError> {
        Self::with_options(url, TransportOptions::default())
    }

    /// A transport for `url` with `options`.
    pub fn with_options(url: &str, options: TransportOptions) -> Result<Self, ConnectError> {
        let uri: ::http::Uri = url.parse().map_err(|e| ConnectError::new(url, e))?;
        match uri.scheme_str() {
            Some("http" | "https") if uri.host().is_some() => {}
            _ => return Err(ConnectError::new(url, "expected an http:// or https:// URL with a host")),
        }
        // rustls needs one process-wide crypto provider; an error means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(options.request_timeout));
        let tls = {
            use rustls_platform_verifier::ConfigVerifierExt;
            rustls::ClientConfig::with_platform_verifier()
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { shared: Arc::new(Shared { url: uri, client, options, next_id: AtomicU64::new(1) }) })
    }

    /// One attempt: a POST, its answer read up to the size limit.
    async fn send(
        &self,
        method: Method,
        params: Option<&RawValue>,
        cx: &Cx,
        timeout_ms: u64,
    ) -> Result<Box<RawValue>, RpcError> {
        let shared = &*self.shared;
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let body = wire::request(id, method.name, params, None);
        let mut request = ::http::Request::post(shared.url.clone())
            .header(::http::header::CONTENT_TYPE, "application/json")
            .header(::http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| transport(format!("could not build the request: {e}"), None))?;
        let headers = request.headers_mut();
        headers.extend(shared.options.headers.clone());
        for (name, value) in cx.headers() {
            let name = ::http::HeaderName::try_from(name.as_str())
                .map_err(|e| transport(format!("the call's header {name:?} is invalid: {e}"), None))?;
            let value = ::http::HeaderValue::try_from(value.as_str())
                .map_err(|e| transport(format!("the value of the call's header {name} is invalid: {e}"), None))?;
            headers.insert(name, value);
        }
        if let Some(id) = cx.request_id()
            && let Ok(value) = ::http::HeaderValue::try_from(id.as_str())
        {
            headers.insert("x-request-id", value);
        }
        headers.insert(TIMEOUT_HEADER, ::http::HeaderValue::from(timeout_ms));

        let response = shared.client.request(request).await.map_err(|e| transport(network_reason(&e), None))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), shared.options.max_response_bytes)
            .collect()
            .await
            .map_err(|e| transport(format!("could not read the answer: {e}"), Some(status)))?
            .to_bytes();
        read_answer(&body, id, status)
    }
}

/// The outcome an HTTP answer carries for the call with `id`.
fn read_answer(body: &[u8], id: u64, status: u16) -> Result<Box<RawValue>, RpcError> {
    let Ok(answer) = serde_json::from_slice::<Incoming<'_>>(body) else {
        return Err(transport("the answer is not a JSON-RPC response", Some(status)));
    };
    let ours = match &answer.id {
        Some(serde_json::Value::Number(n)) => n.as_u64() == Some(id),
        // Errors about a request the server could not read carry `id: null`.
        Some(serde_json::Value::Null) | None => answer.error.is_some() && answer.result.is_none(),
        Some(_) => false,
    };
    if !ours {
        return Err(transport("the answer is for another call", Some(status)));
    }
    match answer.outcome() {
        Ok(_) if !(200..300).contains(&status) => Err(transport("a result with a non-2xx status", Some(status))),
        outcome => outcome,
    }
}

/// hyper's error chain, innermost cause last ("connection refused" is deep inside).
fn network_reason(error: &hyper_util::client::legacy::Error) -> String {
    let mut reason = format!("network error: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    reason
}

impl Transport for HttpTransport {
    async fn call(&self, method: Method, params: Option<Box<RawValue>>, cx: &Cx) -> Result<Box<RawValue>, RpcError> {
        let options = &self.shared.options;
        let deadline = options.deadline(cx);
        within(
            deadline,
            options
                .retry_for(cx)
                .run(method, deadline, |_| self.send(method, params.as_deref(), cx, remaining_ms(deadline))),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FrameworkCode;

    #[test]
    fn answers_are_matched_to_the_call() {
        assert_eq!(read_answer(br#"{"jsonrpc":"2.0","id":7,"result":[1]}"#, 7, 200).unwrap().get(), "[1]");
        let other = read_answer(br#"{"jsonrpc":"2.0","id":8,"result":[1]}"#, 7, 200).unwrap_err();
        assert_eq!(other.framework_code(), Some(FrameworkCode::Transport));
        let refused =
            read_answer(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#, 7, 400)
                .unwrap_err();
        assert_eq!(refused.framework_code(), Some(FrameworkCode::ParseError));
        let html = read_answer(b"<html>bad gateway</html>", 7, 502).unwrap_err();
        assert_eq!(html.data_as::<crate::TransportData>().and_then(|d| d.status), Some(502));
        let odd = read_answer(br#"{"jsonrpc":"2.0","id":7,"result":1}"#, 7, 500).unwrap_err();
        assert_eq!(odd.framework_code(), Some(FrameworkCode::Transport));
    }
}
