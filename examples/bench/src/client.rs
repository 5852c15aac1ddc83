//! Lean clients for the load generator: the same code talks to every stack, so client overhead
//! is the same in every comparison.
//!
//! - [`HttpConn`]: one HTTP/1.1 keep-alive connection driven by hyper's connection API
//!   (`hyper::client::conn::http1`). No pool, no URL parsing, no redirects: one request at a
//!   time on one socket, which is exactly what a closed-loop load worker needs.
//! - [`WsConn`]: one WebSocket (tokio-tungstenite), request then response.
//!
//! Responses are checked by counting `"result":` members, not parsed: enough to tell an
//! answer from an error without spending the client's share of the two cores on JSON.

use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};

/// Why a request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Connecting or a socket operation failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// HTTP protocol or connection error.
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    /// A header value could not be built.
    #[error("bad header: {0}")]
    Header(#[from] http::header::InvalidHeaderValue),
    /// The server answered with a status other than 200.
    #[error("status {0}")]
    Status(StatusCode),
    /// WebSocket protocol or connection error.
    #[error("websocket: {0}")]
    Ws(#[from] tungstenite::Error),
    /// The WebSocket closed before answering.
    #[error("the websocket closed")]
    Closed,
}

/// One HTTP/1.1 keep-alive connection to `POST /rpc`.
pub struct HttpConn {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
    authorization: Option<HeaderValue>,
}

impl HttpConn {
    /// Connects (TCP_NODELAY on). `token` is sent as `Authorization: Bearer <token>`.
    pub async fn connect(addr: SocketAddr, token: Option<&str>) -> Result<Self, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        // Ends when the sender is dropped or the server closes the socket.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let host = HeaderValue::from_str(&addr.to_string())?;
        let authorization = token.map(|t| HeaderValue::from_str(&format!("Bearer {t}"))).transpose()?;
        Ok(Self { sender, host, authorization })
    }

    /// Posts `body` (a JSON-RPC call or batch) and returns the response body.
    pub async fn post(&mut self, body: Bytes) -> Result<Bytes, ClientError> {
        self.sender.ready().await?;
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = Uri::from_static(accord_server::RPC_PATH);
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(value) = &self.authorization {
            headers.insert(AUTHORIZATION, value.clone());
        }
        let response = self.sender.send_request(request).await?;
        if response.status() != StatusCode::OK {
            return Err(ClientError::Status(response.status()));
        }
        Ok(response.into_body().collect().await?.to_bytes())
    }
}

/// One WebSocket connection to `ws://<addr>/rpc`.
pub struct WsConn {
    socket: WebSocketStream<TcpStream>,
}

impl WsConn {
    /// Connects (TCP_NODELAY on). `token` is sent on the upgrade request.
    pub async fn connect(addr: SocketAddr, token: Option<&str>) -> Result<Self, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut request = format!("ws://{addr}{}", accord_server::RPC_PATH).into_client_request()?;
        if let Some(token) = token {
            request.headers_mut().insert(AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}"))?);
        }
        let (socket, _) = tokio_tungstenite::client_async(request, stream).await?;
        Ok(Self { socket })
    }

    /// Sends one text message and waits for the next text message.
    pub async fn call(&mut self, text: Utf8Bytes) -> Result<Utf8Bytes, ClientError> {
        self.socket.send(Message::Text(text)).await?;
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Text(answer))) => return Ok(answer),
                Some(Ok(Message::Close(_))) | None => return Err(ClientError::Closed),
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Err(error.into()),
            }
        }
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// A `bench.echo` call.
pub fn echo_call(id: u64, message: &str, n: i32) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": crate::stack::METHOD,
        "params": { "message": message, "n": n },
    })
    .to_string()
}

/// A batch of `len` `bench.echo` calls (ids 0..len).
pub fn echo_batch(len: usize, message: &str) -> String {
    let calls: Vec<serde_json::Value> = (0..len)
        .map(|i| {
            serde_json::json!({
                "jsonrpc": "2.0",
                "id": i,
                "method": crate::stack::METHOD,
                "params": { "message": message, "n": i },
            })
        })
        .collect();
    serde_json::Value::Array(calls).to_string()
}

/// How many successful answers `body` holds (counts `"result":` members).
pub fn results(body: &[u8]) -> usize {
    const NEEDLE: &[u8] = b"\"result\":";
    body.windows(NEEDLE.len()).filter(|w| *w == NEEDLE).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_results_not_errors() {
        assert_eq!(results(br#"{"jsonrpc":"2.0","id":1,"result":{"message":"x","n":1}}"#), 1);
        assert_eq!(results(br#"[{"id":1,"result":1},{"id":2,"error":{"code":-32602}},{"id":3,"result":2}]"#), 2);
        assert_eq!(results(b""), 0);
    }
}
