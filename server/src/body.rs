//! HTTP bodies: the one response body type, and reading a request body within a size limit
//! and a time limit.
//!
//! A body that never ends (or trickles) must not hold a connection and its buffer forever:
//! reading stops at `max_request_body_bytes` (answered 413) and at `body_read_timeout` (answered
//! 408 and the connection closed), so a stalled body costs at most the size limit, for at most
//! the timeout.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, LengthLimitError, Limited};

/// Errors a body may end with.
pub(crate) use tower::BoxError;

/// The body of every response the server sends.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("the request body is larger than {0} bytes")]
    TooBig(usize),
    #[error("the request body did not arrive within {0:?}")]
    TooSlow(Duration),
    #[error("the request body could not be read: {0}")]
    Broken(BoxError),
}

/// Reads a whole request body, bounded in size and time.
pub(crate) async fn read<B>(body: B, declared: Option<u64>, limit: usize, timeout: Duration) -> Result<Bytes, BodyError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooBig(limit));
    }
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(BodyError::TooSlow(timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<LengthLimitError>() => Err(BodyError::TooBig(limit)),
        Ok(Err(error)) => Err(BodyError::Broken(error)),
    }
}

/// The declared `Content-Length`, if any.
pub(crate) fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// Any body with `Bytes` chunks as a [`Body`].
pub(crate) fn boxed<B>(body: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

pub(crate) fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_are_bounded_in_size_and_time() {
        let small = Full::new(Bytes::from_static(b"{}"));
        assert_eq!(read(small, Some(2), 10, Duration::from_secs(1)).await.unwrap(), "{}");
        let big = Full::new(Bytes::from(vec![b' '; 11]));
        assert!(matches!(read(big, None, 10, Duration::from_secs(1)).await, Err(BodyError::TooBig(10))));
        let declared = Full::new(Bytes::new());
        assert!(matches!(read(declared, Some(11), 10, Duration::from_secs(1)).await, Err(BodyError::TooBig(10))));

        let never_ends = http_body_util::StreamBody::new(futures_util::stream::pending::<
            Result<http_body::Frame<Bytes>, BoxError>,
        >());
        let slow = read(never_ends, None, 10, Duration::from_millis(20)).await;
        assert!(matches!(slow, Err(BodyError::TooSlow(_))), "{slow:?}");
    }
}
