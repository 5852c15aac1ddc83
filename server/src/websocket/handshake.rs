//! The opening handshake (RFC 6455 §4.2): which requests are WebSocket upgrades, and the 101
//! answer, or a 4xx saying what was wrong.

use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};

use crate::body::{Body, text};

/// Whether `request` asks to become a WebSocket (`Upgrade: websocket`), valid or not.
pub(crate) fn is_upgrade<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The `Sec-WebSocket-Accept` value for a valid upgrade, or the 4xx answer to an invalid one.
// The error is the answer to send, built only for a refused handshake: no need to box it.
#[allow(clippy::result_large_err)]
pub(crate) fn accept<B>(request: &Request<B>) -> Result<HeaderValue, Response<Body>> {
    let headers = request.headers();
    if request.method() != Method::GET {
        return Err(refuse(StatusCode::METHOD_NOT_ALLOWED, "a WebSocket upgrade is a GET request\n"));
    }
    if !has_token(headers, header::CONNECTION, "upgrade") {
        return Err(refuse(StatusCode::BAD_REQUEST, "a WebSocket upgrade needs `Connection: Upgrade`\n"));
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        let mut response = refuse(StatusCode::UPGRADE_REQUIRED, "this server speaks WebSocket version 13\n");
        response.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return Err(response);
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY).map(HeaderValue::as_bytes).filter(|key| is_key(key));
    let Some(key) = key else {
        return Err(refuse(StatusCode::BAD_REQUEST, "`Sec-WebSocket-Key` must be 16 bytes in base64\n"));
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key);
    HeaderValue::from_str(&accept).map_err(|_| refuse(StatusCode::BAD_REQUEST, "invalid key\n"))
}

/// `101 Switching Protocols` with the accept key.
pub(crate) fn switching_protocols(accept: HeaderValue) -> Response<Body> {
    let mut response = Response::new(crate::body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    response
}

fn refuse(status: StatusCode, why: &'static str) -> Response<Body> {
    text(status, why)
}

/// Whether a comma-separated header holds `token` (case-insensitively).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// 16 bytes in base64: 22 characters, the last carrying 2 bits only, then `==`.
fn is_key(key: &[u8]) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22].iter().all(|b| ALPHABET.contains(b))
        && ALPHABET.iter().position(|b| *b == key[21]).is_some_and(|i| i % 16 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade(headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::get("/rpc");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    const VALID: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn the_rfc_example_key_is_accepted() {
        let accept = accept(&upgrade(&VALID)).unwrap();
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn bad_handshakes_get_4xx() {
        let without = |name: &str| VALID.iter().copied().filter(|(n, _)| *n != name).collect::<Vec<_>>();
        for (headers, status) in
            [(without("connection"), 400), (without("sec-websocket-key"), 400), (without("sec-websocket-version"), 426)]
        {
            let refused = accept(&upgrade(&headers)).unwrap_err();
            assert_eq!(refused.status().as_u16(), status, "{headers:?}");
        }
        let mut bad_key = VALID;
        bad_key[3] = ("sec-websocket-key", "short");
        assert_eq!(accept(&upgrade(&bad_key)).unwrap_err().status(), 400);
        let mut post = upgrade(&VALID);
        *post.method_mut() = Method::POST;
        assert_eq!(accept(&post).unwrap_err().status(), 405);
        assert!(is_upgrade(&upgrade(&VALID)) && !is_upgrade(&upgrade(&[])));
    }
}
