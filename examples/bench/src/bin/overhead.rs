//! In-process cost of the HTTP stack's parts, per request, without sockets: Accord's service
//! called directly with `POST /rpc` `bench.echo` requests, bare and then with a pass-through tower
//! layer (the cost of the layer hook), four of them, CORS, and with a `tracing` subscriber
//! recording the call spans (their OpenTelemetry fields included, no exporter: what "OTel off"
//! costs). Single-threaded, so the numbers are CPU time per request.
//!
//! ```sh
//! cargo run --release -p accord-bench --bin overhead -- [requests per round, default 100000]
//! ```

use std::time::Instant;

use accord_bench::api::{BenchApi, Echoer};
use accord_server::{AccordService, Cors, Server};
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use tower::{Layer, Service, ServiceExt};

const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"bench.echo","params":{"message":"hello","n":7}}"#;

fn request(origin: bool) -> Request<Full<Bytes>> {
    let mut builder = Request::post("/rpc").header("content-type", "application/json");
    if origin {
        builder = builder.header("origin", "http://localhost:5173");
    }
    builder.body(Full::new(Bytes::from_static(BODY.as_bytes()))).expect("a valid request")
}

/// Nanoseconds per request over one round of `n` requests.
async fn round<S>(service: &S, n: usize, origin: bool) -> f64
where
    S: Service<Request<Full<Bytes>>, Response = http::Response<accord_server::Body>> + Clone,
    S::Error: std::fmt::Debug,
{
    let started = Instant::now();
    for _ in 0..n {
        let response = service.clone().oneshot(request(origin)).await.expect("an answer");
        let body = response.into_body().collect().await.expect("a body").to_bytes();
        assert!(body.starts_with(b"{\"jsonrpc\""), "{body:?}");
    }
    started.elapsed().as_nanos() as f64 / n as f64
}

/// The benchmark's requests.
type Req = Request<Full<Bytes>>;

/// A layer that hands the request on unchanged: the cost of one hop in the stack.
fn pass_through() -> tower::util::MapRequestLayer<fn(Req) -> Req> {
    tower::util::MapRequestLayer::new(std::convert::identity)
}

async fn build(cors: bool) -> Server {
    let builder = Server::builder().mount(BenchApi::handlers(Echoer)).expect("mount");
    let builder = if cors { builder.cors("http://localhost:5173".parse::<Cors>().expect("origin")) } else { builder };
    builder.build().await.expect("build")
}

/// Rounds per configuration; the configurations take turns, so that a change in the machine's
/// load (it is shared) hits them alike.
const ROUNDS: usize = 11;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let plain: AccordService = build(false).await.service();
    let one = pass_through().layer(plain.clone());
    let four = pass_through().layer(pass_through().layer(pass_through().layer(pass_through().layer(plain.clone()))));
    let cors = build(true).await.service();
    // The first request warns once that the peer address is unknown (no listener here).
    let _ = round(&plain, 10, false).await;
    let subscriber = tracing_subscriber::fmt().with_writer(std::io::sink).with_max_level(tracing::Level::INFO).finish();
    let subscriber = std::sync::Arc::new(subscriber);

    let mut results: [Vec<f64>; 6] = Default::default();
    for _ in 0..ROUNDS {
        results[0].push(round(&plain, n, false).await);
        results[1].push(round(&plain, n, false).await);
        results[2].push(round(&one, n, false).await);
        results[3].push(round(&four, n, false).await);
        results[4].push(round(&cors, n, true).await);
        let _default = tracing::subscriber::set_default(subscriber.clone());
        results[5].push(round(&plain, n, false).await);
    }
    let [bare, again, one, four, cors, traced] = results.map(accord_bench::median);

    println!("ns per request (median of {ROUNDS} interleaved rounds of {n}), in process, one thread:");
    println!("  Accord's service, no layer           {bare:>8.0}");
    println!("  the same again (noise)               {again:>8.0}  ({:+.0})", again - bare);
    println!("  + 1 pass-through tower layer         {one:>8.0}  ({:+.0})", one - bare);
    println!("  + 4 pass-through tower layers        {four:>8.0}  ({:+.0})", four - bare);
    println!("  with CORS (request with an Origin)   {cors:>8.0}  ({:+.0})", cors - bare);
    println!("  call spans recorded, no exporter     {traced:>8.0}  ({:+.0})", traced - bare);
}
