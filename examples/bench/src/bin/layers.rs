//! What each per-call layer costs, in process: Accord's tower service called directly (no
//! sockets, one thread) with `POST /rpc` `bench.echo` requests, for the default stack, the full
//! stack (the `load` benchmark's `full`: bearer token, two rate limits, access log sampling 1 in
//! 100, a `fmt` subscriber at `info`), the full stack with one part off at a time, a user-defined
//! pass-through call layer, and batches of 100. The configurations take turns (interleaved
//! rounds, median reported), so a change in the shared machine's load hits them alike. Single
//! threaded, so the figures are server CPU time per call, sockets and HTTP parsing aside from
//! hyper's request type.
//!
//! ```sh
//! cargo run --release -p accord-bench --bin layers -- [calls per round, default 20000] [rounds, default 11]
//! ```

use std::sync::Arc;
use std::time::Instant;

use accord::RpcError;
use accord_bench::stack::{self, Stack, TOKEN, Without};
use accord_server::AccordService;
use accord_server::call::{Call, CallService, Reply};
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use tracing_subscriber::EnvFilter;

const SINGLE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"bench.echo","params":{"message":"hello","n":7}}"#;
const BATCH_LEN: usize = 100;

/// One configuration: its label, its service, whether it authenticates, its subscriber's filter
/// (`None`: no subscriber), and whether it sends batches.
struct Config {
    label: &'static str,
    service: AccordService,
    token: bool,
    subscriber: Option<&'static str>,
    batch: bool,
}

fn request(body: &Bytes, token: bool) -> Request<Full<Bytes>> {
    let mut builder = Request::post("/rpc").header("content-type", "application/json");
    if token {
        builder = builder.header("authorization", format!("Bearer {TOKEN}"));
    }
    builder.body(Full::new(body.clone())).expect("a valid request")
}

/// Nanoseconds per call over one round of `calls` calls.
async fn round(config: &Config, body: &Bytes, calls: usize) -> f64 {
    let per_request = if config.batch { BATCH_LEN } else { 1 };
    let started = Instant::now();
    for _ in 0..calls / per_request {
        let response = config.service.clone().oneshot(request(body, config.token)).await.expect("an answer");
        let answer = response.into_body().collect().await.expect("a body").to_bytes();
        let results = answer.windows(9).filter(|w| w == b"\"result\":").count();
        assert_eq!(results, per_request, "{answer:?}");
    }
    started.elapsed().as_nanos() as f64 / calls as f64
}

/// A per-call layer that hands every call on unchanged: the cost of the hook itself.
#[derive(Clone, Copy)]
struct PassThrough;

impl<S> tower::Layer<S> for PassThrough {
    type Service = Forward<S>;
    fn layer(&self, inner: S) -> Forward<S> {
        Forward(inner)
    }
}

/// [`PassThrough`]'s service.
struct Forward<S>(S);

impl<S: CallService> CallService for Forward<S> {
    async fn call(&self, call: Call<'_>) -> Result<Reply, RpcError> {
        self.0.call(call).await
    }
}

async fn service(stack: Stack, without: Without) -> AccordService {
    stack::builder(stack, without).expect("a builder").build().await.expect("a server").service()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a whole number"));
    let calls = args.next().unwrap_or(20_000);
    let rounds = args.next().unwrap_or(11);
    let off = |parts: &str| parts.parse::<Without>().expect("parts");
    let full = Stack::Full;
    let with_user_layer = stack::builder(Stack::Default, Without::default())
        .expect("a builder")
        .call_layer(PassThrough)
        .build()
        .await
        .expect("a server")
        .service();
    let configs = vec![
        Config {
            label: "default",
            service: service(Stack::Default, off("")).await,
            token: false,
            subscriber: None,
            batch: false,
        },
        Config {
            label: "default + a user call layer (pass-through)",
            service: with_user_layer,
            token: false,
            subscriber: None,
            batch: false,
        },
        Config {
            label: "full",
            service: service(full, off("")).await,
            token: true,
            subscriber: Some("info"),
            batch: false,
        },
        Config {
            label: "full without auth",
            service: service(full, off("auth")).await,
            token: false,
            subscriber: Some("info"),
            batch: false,
        },
        Config {
            label: "full without rate limits",
            service: service(full, off("ratelimit")).await,
            token: true,
            subscriber: Some("info"),
            batch: false,
        },
        Config {
            label: "full without access log",
            service: service(full, off("log")).await,
            token: true,
            subscriber: Some("info"),
            batch: false,
        },
        Config {
            label: "full without the call span",
            service: service(full, off("")).await,
            token: true,
            subscriber: Some("info,accord_server::call=warn"),
            batch: false,
        },
        Config {
            label: "full without a subscriber",
            service: service(full, off("")).await,
            token: true,
            subscriber: None,
            batch: false,
        },
        Config {
            label: "default, batches of 100 (per call)",
            service: service(Stack::Default, off("")).await,
            token: false,
            subscriber: None,
            batch: true,
        },
        Config {
            label: "full, batches of 100 (per call)",
            service: service(full, off("")).await,
            token: true,
            subscriber: Some("info"),
            batch: true,
        },
    ];
    let single = Bytes::from_static(SINGLE.as_bytes());
    let batch = Bytes::from(format!("[{}]", vec![SINGLE; BATCH_LEN].join(",")));
    let subscriber = |filter: &str| {
        let subscriber = tracing_subscriber::fmt().with_writer(std::io::sink).with_env_filter(EnvFilter::new(filter));
        Arc::new(subscriber.finish())
    };
    // The first request warns once that the peer address is unknown (no listener here).
    let _ = configs[0].service.clone().oneshot(request(&single, false)).await;

    let mut results = vec![Vec::new(); configs.len()];
    for _ in 0..rounds {
        for (config, results) in configs.iter().zip(&mut results) {
            let body = if config.batch { &batch } else { &single };
            let _default = config.subscriber.map(|filter| tracing::subscriber::set_default(subscriber(filter)));
            results.push(round(config, body, calls).await);
        }
    }
    println!("| configuration | ns per call | vs. default |");
    println!("|---|---:|---:|");
    let medians: Vec<f64> = results.into_iter().map(accord_bench::median).collect();
    for (config, ns) in configs.iter().zip(&medians) {
        println!("| {} | {:.0} | {:+.0} |", config.label, ns, ns - medians[0]);
    }
    println!("\nmedian of {rounds} interleaved rounds of {calls} calls, one thread, in process");
}
