//! The Rust client's WebSocket transport against real servers that stop, restart and go
//! silent: subscriptions resume by themselves (exactly once and in order with Redis), a drain
//! is a reconnect rather than an error, a dead socket is noticed within two keep-alive
//! intervals, credentials go in band and survive reconnections.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accord::client::{ConnectionState, TransportOptions, WsTransport};
use accord::{Cx, MissedReason, Tracked};
use accord_server::RunningServer;
use accord_server::topics::{Topic, Topics};
use common::*;
use futures_util::StreamExt;
use tokio::net::{TcpListener, TcpStream};

fn options() -> TransportOptions {
    TransportOptions::default()
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .request_timeout(Duration::from_secs(10))
}

async fn restart(server: RunningServer, service: Impl) -> RunningServer {
    let address = server.local_addr();
    assert!(server.shutdown().await, "drained");
    builder(service).serve(address).await.expect("the same port again")
}

type Feed = accord::Stream<Tracked<u32>, SvcError>;

async fn next(feed: &mut Feed) -> Result<Tracked<u32>, SvcError> {
    tokio::time::timeout(Duration::from_secs(10), feed.next()).await.expect("an item in time").expect("not ended")
}

#[tokio::test]
async fn a_restart_with_redis_loses_nothing_and_repeats_nothing() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("skipped: REDIS_URL not set");
        return;
    };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let prefix = format!("accord:test:reconnect:{}:{nanos}:", std::process::id());
    let topic = |url: &str| -> Topic<u32> { Topics::redis_with_prefix(url, &prefix).unwrap().topic("feed").unwrap() };
    let publisher = topic(&url);
    let server = serve(builder(Impl::with_feed(topic(&url)))).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // the readers follow the stream

    let transport = WsTransport::connect_with_options(&server.ws_url(), options()).await.unwrap();
    let mut states = transport.watch_state();
    let client = SvcClient::new(transport);
    let mut feed = client.feed(&Cx::new()).await.unwrap();

    // Events keep coming while the server restarts.
    let publishing = tokio::spawn(async move {
        for n in 0..200u32 {
            publisher.publish(n).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    assert_eq!(next(&mut feed).await.unwrap().value, 0);
    let server = restart(server, Impl::with_feed(topic(&url))).await;
    let mut seen = vec![0];
    while seen.len() < 200 {
        seen.push(next(&mut feed).await.expect("no error, no marker").value);
    }
    assert_eq!(seen, (0..200).collect::<Vec<_>>(), "every event once, in order");
    publishing.await.unwrap();
    assert!(states.has_changed().unwrap(), "the client noticed");
    states.wait_for(|state| *state == ConnectionState::Open).await.unwrap();
    drop(server);
}

#[tokio::test]
async fn an_in_process_restart_is_told_then_the_stream_goes_on() {
    let first = Impl::default();
    let server = serve(builder(first.clone())).await;
    let client = SvcClient::new(WsTransport::connect_with_options(&server.ws_url(), options()).await.unwrap());
    let mut feed = client.feed(&Cx::new()).await.unwrap();
    first.feed.publish(1).await.unwrap();
    assert_eq!(next(&mut feed).await.unwrap().value, 1);

    let second = Impl::with_feed(Topics::in_process().topic("feed").unwrap());
    let _server = restart(server, second.clone()).await;
    let marker = match next(&mut feed).await {
        Err(SvcError::Rpc(error)) => error,
        other => panic!("expected the marker, got {other:?}"),
    };
    assert_eq!(marker.data_as::<accord::EventsMissedData>().map(|data| data.reason), Some(MissedReason::Unknown));
    // The resubscription is live by now (the marker follows its acceptance).
    second.feed.publish(2).await.unwrap();
    assert_eq!(next(&mut feed).await.unwrap().value, 2, "the marker was not the end");
}

#[tokio::test]
async fn an_untracked_subscription_resubscribes_after_a_drain_and_says_it_may_have_missed() {
    let server = serve(builder(Impl::default())).await;
    let client = SvcClient::new(WsTransport::connect_with_options(&server.ws_url(), options()).await.unwrap());
    let mut ticks = client.ticks(&Cx::new()).await.unwrap();
    assert!(matches!(ticks.next().await, Some(Ok(0))));
    let _server = restart(server, Impl::default()).await;
    let mut marker = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ticks.next()).await.expect("in time") {
            Some(Err(SvcError::Rpc(error))) if error.is_events_missed() => marker = true,
            Some(Ok(0)) if marker => break, // a new subscription counts from 0 again
            Some(Ok(_)) => {}
            other => panic!("the stream must go on, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn calls_made_while_the_server_is_away_are_answered_when_it_is_back() {
    let server = serve(builder(Impl::default())).await;
    let address = server.local_addr();
    let transport = WsTransport::new(&server.ws_url()).unwrap();
    assert_eq!(transport.state(), ConnectionState::Connecting, "lazy: nothing yet");
    let client = Arc::new(SvcClient::new(transport));
    assert_eq!(client.echo(&Cx::new(), Text { text: "a".into() }).await.unwrap().text, "a");
    assert!(server.shutdown().await);
    let pending = {
        let client = client.clone();
        tokio::spawn(async move { client.echo(&Cx::new(), Text { text: "b".into() }).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(client.transport().state(), ConnectionState::Reconnecting);
    let _server = builder(Impl::default()).serve(address).await.unwrap();
    assert_eq!(pending.await.unwrap().unwrap().text, "b");
    assert_eq!(client.transport().state(), ConnectionState::Open);
    client.transport().close();
    let closed = client.echo(&Cx::new(), Text { text: "c".into() }).await;
    assert!(matches!(closed, Err(SvcError::Rpc(e)) if e.data_code() == Some("TRANSPORT")));
}

#[tokio::test]
async fn credentials_go_in_band_and_survive_reconnections() {
    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let options = options().authorization("Bearer admin");
    let transport = WsTransport::connect_with_options(&server.ws_url(), options).await.unwrap();
    let client = SvcClient::new(transport);
    let who = client.whoami(&Cx::new()).await.unwrap();
    assert_eq!(who.subject.as_deref(), Some("ada"));
    let address = server.local_addr();
    assert!(server.shutdown().await);
    let _server = builder(Impl::default()).authenticator(Tokens).serve(address).await.unwrap();
    let who = client.whoami(&Cx::new()).await.unwrap();
    assert_eq!(who.subject.as_deref(), Some("ada"), "sent again on the new connection");
    let subject = client.transport().authenticate("Bearer user").await.unwrap();
    assert_eq!(subject.get(), r#"{"subject":"bob"}"#);
    assert_eq!(client.whoami(&Cx::new()).await.unwrap().subject.as_deref(), Some("bob"));
    assert!(client.transport().authenticate("Bearer nope").await.is_err(), "a refusal is the answer");
}

/// A TCP relay that can go silent without closing anything: a dead network path.
struct Relay {
    addr: SocketAddr,
    silent: Arc<AtomicBool>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = Arc::new(AtomicBool::new(false));
        let flag = silent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(target).await else { continue };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(client_read, server_write, flag.clone()));
                tokio::spawn(pipe(server_read, client_write, flag.clone()));
            }
        });
        Self { addr, silent }
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    silent: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let Ok(n) = from.read(&mut buffer).await else { return };
        if n == 0 {
            return;
        }
        if silent.load(Ordering::SeqCst) {
            std::future::pending::<()>().await; // swallow, keep the sockets open
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_silent_connection_is_found_dead_within_two_keep_alive_intervals() {
    let server = serve(builder(Impl::default())).await;
    let relay = Relay::start(server.local_addr()).await;
    let keep_alive = Duration::from_millis(200);
    let options = options().keep_alive(keep_alive);
    let transport = WsTransport::connect_with_options(&format!("ws://{}/rpc", relay.addr), options).await.unwrap();
    let mut states = transport.watch_state();
    let client = SvcClient::new(transport);
    client.whoami(&Cx::new()).await.unwrap();
    tokio::time::sleep(keep_alive * 2).await; // idle but alive: pings are answered
    assert_eq!(*states.borrow_and_update(), ConnectionState::Open);

    let went_silent = Instant::now();
    relay.silent.store(true, Ordering::SeqCst);
    states.wait_for(|state| *state != ConnectionState::Open).await.unwrap();
    let noticed = went_silent.elapsed();
    // Two intervals of silence at most, plus the check granularity (a quarter interval).
    assert!(noticed <= keep_alive * 2 + keep_alive / 2, "noticed after {noticed:?}");
    assert!(noticed >= keep_alive, "not before an interval of silence: {noticed:?}");
}
