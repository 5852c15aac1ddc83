//! The HTTP scenarios: closed-loop clients calling one procedure each through the generated
//! Rust clients, for a bounded time.

use std::time::{Duration, Instant};

use accord::Cx;
use accord::client::{HttpTransport, TransportOptions};
use hdrhistogram::Histogram;
use shop_api::{
    Auth, AuthClient, CartLine, Checkout, Credentials, OrderQuery, Orders, OrdersClient, ProductId, ProductQuery,
    Products, ProductsClient,
};

use crate::Args;

/// One line of the report.
pub struct Row {
    pub name: &'static str,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

#[derive(Clone, Copy)]
enum Scenario {
    /// `products.list` searching "lamp", 20 per page.
    Search,
    /// `products.get` of random ids among the first 5 000 (most are cache hits after warm-up).
    Get,
    /// `orders.listMine`, 20 orders with their items, signed in.
    ListMine,
    /// `orders.checkout` of one random product, a fresh idempotency key each time.
    Checkout,
}

const SCENARIOS: [(Scenario, &str); 4] = [
    (Scenario::Search, "products.list (search, 20/page)"),
    (Scenario::Get, "products.get (cached)"),
    (Scenario::ListMine, "orders.listMine (20 with items)"),
    (Scenario::Checkout, "orders.checkout (1 line)"),
];

const WARMUP: Duration = Duration::from_secs(1);

pub async fn run(args: &Args, url: &str) -> Vec<Row> {
    let auth = AuthClient::new(HttpTransport::new(url).expect("transport"));
    let credentials = Credentials { email: "bob@example.com".into(), password: shop::seed::DEMO_PASSWORD.into() };
    let token = auth.login(&Cx::new(), credentials).await.expect("login").token;
    let duration = Duration::from_secs_f64(args.duration_secs.max(0.1));
    let mut rows = Vec::new();
    for (scenario, name) in SCENARIOS {
        eprintln!("{name}...");
        let workers = (0..args.connections).map(|worker| {
            let options =
                TransportOptions::default().header("authorization", &format!("Bearer {token}")).expect("header");
            let transport = HttpTransport::with_options(url, options).expect("transport");
            tokio::spawn(work(scenario, transport, worker, duration))
        });
        let mut histogram = Histogram::<u64>::new(3).expect("histogram");
        let mut errors = 0;
        for worker in futures_util::future::join_all(workers).await {
            let (h, e) = worker.expect("worker");
            histogram.add(h).expect("same bounds");
            errors += e;
        }
        rows.push(Row {
            name,
            per_second: histogram.len() as f64 / duration.as_secs_f64(),
            p50_ms: histogram.value_at_quantile(0.5) as f64 / 1000.0,
            p99_ms: histogram.value_at_quantile(0.99) as f64 / 1000.0,
            errors,
        });
    }
    rows
}

/// One closed-loop client: calls until the deadline; latencies in µs after the warm-up.
async fn work(
    scenario: Scenario,
    transport: HttpTransport,
    worker: usize,
    duration: Duration,
) -> (Histogram<u64>, u64) {
    let products = ProductsClient::new(transport.clone());
    let orders = OrdersClient::new(transport);
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    let mut errors = 0;
    let mut random = (worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < WARMUP + duration {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        let id = u32::try_from(random % 5000).unwrap_or(0) + 1;
        n += 1;
        let cx = Cx::new();
        let call = Instant::now();
        let ok = match scenario {
            Scenario::Search => {
                let query = ProductQuery { search: Some("lamp".into()), limit: Some(20), ..Default::default() };
                products.list(&cx, query).await.is_ok()
            }
            Scenario::Get => products.get(&cx, ProductId { id }).await.is_ok(),
            Scenario::ListMine => orders.list_mine(&cx, OrderQuery { offset: 0, limit: Some(20) }).await.is_ok(),
            Scenario::Checkout => {
                let key = format!("bench-{worker}-{n}-{random:x}");
                let checkout = Checkout { idempotency_key: key, lines: vec![CartLine { product_id: id, quantity: 1 }] };
                orders.checkout(&cx, checkout).await.is_ok()
            }
        };
        if started.elapsed() < WARMUP {
            continue;
        }
        if ok {
            histogram.record(u64::try_from(call.elapsed().as_micros()).unwrap_or(u64::MAX)).ok();
        } else {
            errors += 1;
        }
    }
    (histogram, errors)
}
