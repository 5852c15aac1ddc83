//! HTTP bodies: the one response body type, and reading a request body within a size limit
//! and a time limit.
//!
//! A body that never ends (or trickles) must not hold a connection and its buffer forever:
//! reading stops at `max_request_body_bytes` (answered 413), at `body_read_timeout`, and when,
//! after a grace period, the body arrives slower than a minimum rate (both answered 408 and the
//! connection closed; the rate rule is Kestrel's `MinRequestBodyDataRate`: by default 240 bytes/s
//! after 5 s). Received bytes are copied into one buffer as they come: hyper hands out each chunk
//! as a slice of its read buffer, and keeping many one-byte slices would keep many whole read
//! buffers alive (a trickled body held megabytes that way).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};

/// Errors a body may end with.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

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

/// How fast a body must arrive once its grace period is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MinRate {
    pub bytes_per_second: u32,
    pub grace: Duration,
}

/// How often a slow body's rate is checked while no data arrives.
const RATE_CHECK: Duration = Duration::from_millis(500);

/// Reads a whole request body, bounded in size, total time and rate.
pub(crate) async fn read<B>(
    body: B,
    declared: Option<u64>,
    limit: usize,
    timeout: Duration,
    min_rate: MinRate,
) -> Result<Bytes, BodyError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooBig(limit));
    }
    let started = tokio::time::Instant::now();
    let mut buffer = BytesMut::with_capacity(declared.map_or(0, |length| length as usize).min(limit));
    let mut body = std::pin::pin!(body);
    loop {
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            return Err(BodyError::TooSlow(timeout));
        }
        if elapsed > min_rate.grace
            && (buffer.len() as f64) < f64::from(min_rate.bytes_per_second) * elapsed.as_secs_f64()
        {
            return Err(BodyError::TooSlow(elapsed));
        }
        let wait = RATE_CHECK.min(timeout - elapsed);
        let frame = match tokio::time::timeout(wait, body.as_mut().frame()).await {
            Err(_) => continue,
            Ok(None) => return Ok(buffer.freeze()),
            Ok(Some(Err(error))) => return Err(BodyError::Broken(error.into())),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > limit {
                return Err(BodyError::TooBig(limit));
            }
            buffer.extend_from_slice(&data);
        }
    }
}

/// The declared `Content-Length`, if any.
pub(crate) fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
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

    const ANY_RATE: MinRate = MinRate { bytes_per_second: 0, grace: Duration::ZERO };

    #[tokio::test]
    async fn bodies_are_bounded_in_size_and_time() {
        let second = Duration::from_secs(1);
        let small = Full::new(Bytes::from_static(b"{}"));
        assert_eq!(read(small, Some(2), 10, second, ANY_RATE).await.unwrap(), "{}");
        let big = Full::new(Bytes::from(vec![b' '; 11]));
        assert!(matches!(read(big, None, 10, second, ANY_RATE).await, Err(BodyError::TooBig(10))));
        let declared = Full::new(Bytes::new());
        assert!(matches!(read(declared, Some(11), 10, second, ANY_RATE).await, Err(BodyError::TooBig(10))));

        let never_ends = http_body_util::StreamBody::new(futures_util::stream::pending::<
            Result<http_body::Frame<Bytes>, BoxError>,
        >());
        let slow = read(never_ends, None, 10, Duration::from_millis(20), ANY_RATE).await;
        assert!(matches!(slow, Err(BodyError::TooSlow(_))), "{slow:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_below_the_minimum_rate_is_cut_after_the_grace_period() {
        // One byte every 100 ms: 10 bytes/s against a minimum of 240 after 5 s.
        let trickle = futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Some((Ok::<_, BoxError>(http_body::Frame::data(Bytes::from_static(b" "))), ()))
        });
        let rate = MinRate { bytes_per_second: 240, grace: Duration::from_secs(5) };
        let started = tokio::time::Instant::now();
        let slow = read(http_body_util::StreamBody::new(trickle), None, 1 << 20, Duration::from_secs(30), rate).await;
        assert!(matches!(slow, Err(BodyError::TooSlow(_))), "{slow:?}");
        let took = started.elapsed();
        assert!(took >= Duration::from_secs(5) && took < Duration::from_secs(7), "cut after {took:?}");
    }
}
