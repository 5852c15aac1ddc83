//! The Rust client (`accord::client`) against a live probe over real sockets: per-call headers,
//! deadlines that reach the server and cancel its work, retries seen from the server's side,
//! and the WebSocket transport's bookkeeping when callers give up.

use std::time::{Duration, Instant};

use accord::client::{HttpTransport, RetryPolicy, TransportOptions, WsTransport};
use accord::{Cx, FrameworkCode};
use accord_probe::{Failure, Flaky, Key, LateTicks, Probe, ProbeClient, ProbeError, Sleep, SleepState};

async fn probe() -> accord_server::RunningServer {
    accord_probe::serve("127.0.0.1:0").await.expect("serve the probe")
}

fn code(error: &ProbeError) -> Option<FrameworkCode> {
    match error {
        ProbeError::Rpc(rpc) => rpc.framework_code(),
        ProbeError::Refused => None,
    }
}

fn flaky(key: &str, failures: u32, failure: Failure, retry_after_ms: Option<u32>) -> Flaky {
    Flaky { key: key.into(), failures, failure, retry_after_ms }
}

/// Polls the probe until `key`'s sleep is no longer running.
async fn sleep_outcome(client: &impl Probe, key: &str) -> SleepState {
    for _ in 0..100 {
        let report = client.sleep_report(&Cx::new(), Key { key: key.into() }).await.expect("report");
        if report.state != SleepState::Running {
            return report.state;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    SleepState::Running
}

#[tokio::test]
async fn per_call_headers_and_the_request_id_go_over_http() {
    let server = probe().await;
    let client = ProbeClient::new(HttpTransport::new(&server.http_url()).unwrap());
    let cx = Cx::new()
        .with_header("authorization", "Bearer ada")
        .with_request_id(accord::RequestId::new("req-from-the-client"));
    let caller = client.whoami(&cx).await.unwrap();
    assert_eq!(caller.subject.as_deref(), Some("ada"));
    assert_eq!(caller.request_id.as_deref(), Some("req-from-the-client"));
    assert_eq!(client.whoami(&Cx::new()).await.unwrap().subject, None, "headers are per call");
    server.stop();
}

#[tokio::test]
async fn the_http_deadline_reaches_the_server_and_cancels_its_work() {
    let server = probe().await;
    let options = TransportOptions::default().request_timeout(Duration::from_millis(1500));
    let client = ProbeClient::new(HttpTransport::with_options(&server.http_url(), options).unwrap());

    // The transport's default deadline, then a sooner one from the call's context.
    let told = client.whoami(&Cx::new()).await.unwrap().deadline_ms.expect("a deadline");
    assert!((1000..=1500).contains(&told), "server got {told} ms");
    let told = client.whoami(&Cx::new().with_timeout(Duration::from_millis(400))).await.unwrap().deadline_ms.unwrap();
    assert!((200..=400).contains(&told), "server got {told} ms");

    // A call the client stops waiting for is stopped on the server too.
    let started = Instant::now();
    let cx = Cx::new().with_timeout(Duration::from_millis(300));
    let error = client.sleep(&cx, Sleep { key: "http-cancel".into(), ms: 5_000 }).await.unwrap_err();
    assert_eq!(code(&error), Some(FrameworkCode::Timeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(sleep_outcome(&client, "http-cancel").await, SleepState::Cancelled);
    server.stop();
}

#[tokio::test]
async fn websocket_calls_honour_the_request_timeout() {
    let server = probe().await;
    let options = TransportOptions::default().request_timeout(Duration::from_millis(300)).retry(RetryPolicy::never());
    let client = ProbeClient::new(WsTransport::connect_with_options(&server.ws_url(), options).await.unwrap());
    let started = Instant::now();
    let error = client.sleep(&Cx::new(), Sleep { key: "ws-timeout".into(), ms: 3_000 }).await.unwrap_err();
    assert_eq!(code(&error), Some(FrameworkCode::Timeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_millis(1500), "waited {:?}", started.elapsed());
    // The connection stays usable.
    assert_eq!(client.echo(&Cx::new(), accord_probe::Text { text: "hi".into() }).await.unwrap().text, "hi");
    server.stop();
}

/// WebSocket calls carry their deadline in `meta.timeoutMs` (docs/wire.md).
#[tokio::test]
async fn the_websocket_deadline_reaches_the_server_and_cancels_its_work() {
    let server = probe().await;
    let client = ProbeClient::new(WsTransport::connect(&server.ws_url()).await.unwrap());
    let told = client.whoami(&Cx::new().with_timeout(Duration::from_millis(400))).await.unwrap().deadline_ms.unwrap();
    assert!((200..=400).contains(&told), "server got {told} ms");
    let cx = Cx::new().with_timeout(Duration::from_millis(300));
    let error = client.sleep(&cx, Sleep { key: "ws-cancel".into(), ms: 5_000 }).await.unwrap_err();
    assert_eq!(code(&error), Some(FrameworkCode::Timeout));
    assert_eq!(sleep_outcome(&client, "ws-cancel").await, SleepState::Cancelled);
    server.stop();
}

#[tokio::test]
async fn a_subscribe_that_timed_out_is_unsubscribed_when_its_answer_arrives() {
    let server = probe().await;
    let client = ProbeClient::new(WsTransport::connect(&server.ws_url()).await.unwrap());
    let cx = Cx::new().with_timeout(Duration::from_millis(100));
    let late = LateTicks { key: "late".into(), delay_ms: 400 };
    let Err(error) = client.late_ticks(&cx, late).await else { panic!("the subscribe must time out") };
    assert_eq!(code(&error), Some(FrameworkCode::Timeout));

    // The server accepts at 400 ms; the client must end that stream at once.
    let key = Key { key: "late".into() };
    let mut streams = client.streams(&Cx::new(), key.clone()).await.unwrap();
    for _ in 0..100 {
        if streams.opened == 1 && streams.open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        streams = client.streams(&Cx::new(), key.clone()).await.unwrap();
    }
    assert_eq!((streams.opened, streams.open), (1, 0), "the stream the server opened was closed");
    server.stop();
}

/// Retries as the server sees them, over both transports.
async fn retries_follow_the_policy(client: &impl Probe, prefix: &str) {
    let cx = Cx::new();
    // A query is retried on UNAVAILABLE until it succeeds (3 attempts by default).
    let seen = client.flaky(&cx, flaky(&format!("{prefix}-q"), 2, Failure::Unavailable, None)).await.unwrap();
    assert_eq!(seen.at_ms.len(), 3);

    // RATE_LIMITED: the client waits the server's retryAfterMs between attempts.
    let seen = client.flaky(&cx, flaky(&format!("{prefix}-rl"), 1, Failure::RateLimited, Some(250))).await.unwrap();
    let gap = seen.at_ms[1] - seen.at_ms[0];
    assert!(gap >= 245, "retried after {gap} ms, the server asked for 250");

    // A mutation is never sent twice...
    let key = format!("{prefix}-w");
    let error = client.flaky_write(&cx, flaky(&key, 1, Failure::Unavailable, None)).await.unwrap_err();
    assert_eq!(code(&error), Some(FrameworkCode::Unavailable));
    assert_eq!(client.attempts(&cx, Key { key }).await.unwrap().at_ms.len(), 1);
    // ...unless it is declared idempotent.
    let seen = client.flaky_put(&cx, flaky(&format!("{prefix}-p"), 1, Failure::Overloaded, None)).await.unwrap();
    assert_eq!(seen.at_ms.len(), 2);

    // Errors that retrying cannot fix are not retried.
    let key = format!("{prefix}-i");
    let error = client.flaky(&cx, flaky(&key, 1, Failure::Internal, None)).await.unwrap_err();
    assert_eq!(code(&error), Some(FrameworkCode::Internal));
    assert_eq!(client.attempts(&cx, Key { key }).await.unwrap().at_ms.len(), 1);

    // No wait that would end past the deadline: the server's error comes back at once.
    let key = format!("{prefix}-late");
    let started = Instant::now();
    let cx = Cx::new().with_timeout(Duration::from_secs(1));
    let error = client.flaky(&cx, flaky(&key, 1, Failure::RateLimited, Some(5_000))).await.unwrap_err();
    assert_eq!(code(&error), Some(FrameworkCode::RateLimited));
    assert!(started.elapsed() < Duration::from_millis(800));

    // Per call, retries can be turned off.
    let key = format!("{prefix}-off");
    let cx = Cx::new().with_extension(RetryPolicy::never());
    let error = client.flaky(&cx, flaky(&key, 1, Failure::Unavailable, None)).await.unwrap_err();
    assert_eq!(code(&error), Some(FrameworkCode::Unavailable));
    assert_eq!(client.attempts(&Cx::new(), Key { key }).await.unwrap().at_ms.len(), 1);
}

#[tokio::test]
async fn http_retries_follow_the_policy() {
    let server = probe().await;
    retries_follow_the_policy(&ProbeClient::new(HttpTransport::new(&server.http_url()).unwrap()), "http").await;
    server.stop();
}

#[tokio::test]
async fn websocket_retries_follow_the_policy() {
    let server = probe().await;
    retries_follow_the_policy(&ProbeClient::new(WsTransport::connect(&server.ws_url()).await.unwrap()), "ws").await;
    server.stop();
}
